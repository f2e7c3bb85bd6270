//! The ir110 case-management server (`ir110 serve`): clients with the NDA gate, cases through
//! the response flow with the policy decision and playbook tasks, findings and timeline imported
//! from `ir110 triage`'s `report.json`, the evidence register with custody events, APPI clocks,
//! quotes from a price list, users and roles, and a hash-chained audit log of every write.
//!
//! Shape (house style, realworld-axum-sqlx): [`app`] builds the whole [`axum::Router`] from one
//! route table ([`routes::ROUTES`]) over one [`AppState`]; handlers call the store (the only
//! crate that knows SQL) with the caller's [`ir110_store::Scope`], so every object access is
//! checked inside its query; one [`ApiError`] answers every failure without leaking internals.
//! The browser UI is server-rendered HTML (inline CSS, no script framework) in Japanese or
//! English; every write the UI makes is a `POST /api/…` route that also takes JSON, and
//! `/api/openapi.json` documents them all.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let store = ir110_store::Store::open("sqlite::memory:").await?;
//! let config = ir110_server::Config::new("127.0.0.1:8110".parse()?)?;
//! let state = ir110_server::AppState::new(config, store);
//! let router = ir110_server::app(state);
//! # drop(router); Ok(()) }
//! ```

mod appi;
mod audit;
mod auth;
mod cases;
mod clients;
mod error;
mod evidence;
mod html;
mod input;
mod openapi;
mod pages;
mod prices;
mod quotes;
pub mod routes;
mod timeline;
mod users;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::Duration;
use ir110_model::{Catalog, Lang};
use ir110_store::{Role, Scope, Store, TokenRecord, TokenScope, User};

pub use appi::{AppiDeadlines, appi_deadlines};
pub use auth::hash_password;
pub use error::{ApiError, ErrorInfo};
pub use prices::{Issuer, PriceItem, PriceList, QuoteTotals, quote_totals};

/// Message catalogue entries of the server's UI (`ui.*`).
pub const MESSAGES: &str = include_str!("../messages.toml");

/// The price list shipped with ir110 (placeholder prices: the provider edits a copy).
pub const DEFAULT_PRICE_LIST: &str = include_str!("../data/price-list.toml");

/// Errors of starting the server or of the library calls the CLI makes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A message catalogue failed to load (a build defect).
    #[error("message catalogue: {0}")]
    Catalog(#[from] ir110_model::CatalogError),
    /// The price list file is unreadable or invalid.
    #[error("price list {path}: {detail}")]
    PriceList {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// Listening or serving failed.
    #[error("cannot serve on {addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// A value given to a library call is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] ir110_store::StoreError),
}

/// Login throttling: failures counted per account and per client address over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failed logins of one account within `window` after which its logins are refused.
    pub per_account: i64,
    /// Failed logins from one address within `window` after which its logins are refused.
    pub per_address: i64,
    /// The window.
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_account: 5,
            per_address: 20,
            window: Duration::minutes(15),
        }
    }
}

/// Server configuration, resolved once at start-up (the CLI maps its flags onto it).
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen. Loopback by default: put a TLS reverse proxy in front for a team.
    pub listen: SocketAddr,
    /// Every crate's messages plus the server's.
    pub catalog: Catalog,
    /// Language for visitors who have not chosen one.
    pub default_lang: Lang,
    /// The price list quotes are made from.
    pub price_list: PriceList,
    /// Mark cookies `Secure` (set when served behind HTTPS).
    pub secure_cookies: bool,
    /// How long a login lasts.
    pub session_ttl: Duration,
    /// Login throttling.
    pub login_limits: LoginLimits,
    /// Largest accepted `report.json` upload, in bytes.
    pub max_upload: usize,
}

impl Config {
    /// The defaults: Japanese UI, the shipped price list, 12-hour sessions, 64 MiB uploads.
    pub fn new(listen: SocketAddr) -> Result<Config, ServerError> {
        let catalog = Catalog::from_sources(&[
            ir110_model::MESSAGES,
            ir110_store::MESSAGES,
            ir110_playbook::MESSAGES,
            MESSAGES,
        ])?;
        Ok(Config {
            listen,
            catalog,
            default_lang: Lang::Ja,
            price_list: PriceList::parse(DEFAULT_PRICE_LIST).map_err(|detail| {
                ServerError::PriceList {
                    path: "(built-in)".to_owned(),
                    detail,
                }
            })?,
            secure_cookies: false,
            session_ttl: Duration::hours(12),
            login_limits: LoginLimits::default(),
            max_upload: 64 * 1024 * 1024,
        })
    }

    /// Uses `catalog` (the CLI's, with every analyzer's messages) for rendering, adding the
    /// server's own messages when it lacks them.
    pub fn with_catalog(mut self, mut catalog: Catalog) -> Result<Config, ServerError> {
        if !catalog.contains("ui.brand") {
            catalog.add(MESSAGES)?;
        }
        self.catalog = catalog;
        Ok(self)
    }

    /// Replaces the price list with the one in `path` (same TOML form as the built-in one).
    pub fn with_price_list_file(mut self, path: &Path) -> Result<Config, ServerError> {
        let text = std::fs::read_to_string(path).map_err(|e| ServerError::PriceList {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        self.price_list = PriceList::parse(&text).map_err(|detail| ServerError::PriceList {
            path: path.display().to_string(),
            detail,
        })?;
        Ok(self)
    }
}

/// What every handler gets: the configuration and the store.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Configuration.
    pub config: Arc<Config>,
    /// The case store.
    pub store: Store,
}

impl AppState {
    /// State over `store` with `config`.
    pub fn new(config: Config, store: Store) -> Self {
        AppState {
            config: Arc::new(config),
            store,
        }
    }
}

/// The whole application: every route of [`routes::ROUTES`] plus the browser-error layer.
pub fn app(state: AppState) -> axum::Router {
    routes::router(state)
}

/// Serves `state` on `config.listen` until `shutdown` resolves.
pub async fn serve(
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = state.config.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Io { addr, source })?;
    serve_on(listener, state, shutdown).await
}

/// Serves `state` on an already bound listener (tests bind `127.0.0.1:0`).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener.local_addr().map_err(|source| ServerError::Io {
        addr: state.config.listen,
        source,
    })?;
    let router = app(state);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|source| ServerError::Io { addr, source })
}

/// Creates a user account (what `ir110 user add` calls): hashes the password with Argon2id and
/// stores the user; the creation is audited. Passwords shorter than 12 characters are refused.
pub async fn add_user(
    store: &Store,
    name: &str,
    role: Role,
    client_id: Option<i64>,
    password: &str,
    actor: &str,
) -> Result<User, ServerError> {
    if password.chars().count() < 12 {
        return Err(ServerError::Invalid(
            "the password needs at least 12 characters".to_owned(),
        ));
    }
    let hash = hash_password(password).map_err(|e| ServerError::Invalid(e.to_string()))?;
    let mut tx = store.begin().await?;
    let user = tx.create_user(name, role, client_id, &hash).await?;
    tx.audit(&audit::entry(
        actor,
        "user.create",
        format!("user:{}", user.id),
        (client_id, None),
        serde_json::json!({"name": user.name, "role": role.as_str()}),
    ))
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Creates an API token for `user` (what the account page does, for the CLI and tests):
/// returns the token, shown once and stored only as its digest, and its record. A token bound
/// to `client_id` needs that client inside the user's scope ([`ServerError::Invalid`]
/// otherwise). The creation is audited in the same transaction.
pub async fn create_token(
    store: &Store,
    user: &User,
    name: &str,
    scope: TokenScope,
    client_id: Option<i64>,
) -> Result<(String, TokenRecord), ServerError> {
    if user.role == Role::ClientViewer && scope != TokenScope::Read {
        return Err(ServerError::Invalid(
            "a client-viewer may hold read tokens only".to_owned(),
        ));
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(ServerError::Invalid("the token name is empty".to_owned()));
    }
    let token = format!(
        "ir110_{}",
        auth::random_token().map_err(|e| ServerError::Invalid(e.to_string()))?
    );
    let user_scope = match user.role {
        Role::Admin => Scope::all(),
        _ => Scope::user(user.id),
    };
    let mut tx = store.begin().await?;
    let record = tx
        .create_token(
            &user_scope,
            user.id,
            name,
            &auth::digest(&token),
            scope,
            client_id,
        )
        .await?
        .ok_or_else(|| ServerError::Invalid("no such client for this user".to_owned()))?;
    tx.audit(&audit::entry(
        &user.name,
        "token.create",
        format!("token:{}", record.id),
        (client_id, None),
        serde_json::json!({"name": name, "scope": scope.as_str()}),
    ))
    .await?;
    tx.commit().await?;
    Ok((token, record))
}

/// Resolves at the first SIGINT (Ctrl-C) or SIGTERM: pass it (or a future awaiting it) as the
/// `shutdown` of [`serve`], which then stops accepting connections and finishes the requests
/// in flight.
pub async fn shutdown_signal() {
    let interrupt = async {
        // If the handler cannot be installed, only SIGTERM (or a kill) stops the server.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `ui.*` key the sources use is in the catalogue, in both languages (the catalogue
    /// loader already refuses a key without one of them), and the price list parses.
    #[test]
    fn catalogue_has_every_key_the_code_uses() {
        let config = Config::new("127.0.0.1:0".parse().unwrap()).unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing = Vec::new();
        let mut used = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for (i, _) in text.match_indices("\"ui.") {
                let rest = &text[i + 1..];
                let Some(end) = rest.find('"') else { continue };
                let key = &rest[..end];
                if key.ends_with('.') || key.contains('{') {
                    continue; // a prefix completed at run time; checked below
                }
                used += 1;
                if !config.catalog.contains(key) {
                    missing.push(key.to_owned());
                }
            }
        }
        assert!(missing.is_empty(), "missing keys: {missing:?}");
        assert!(used > 50, "{used}");
        for code in [
            "unauthorized",
            "bad-credentials",
            "forbidden",
            "csrf",
            "nda-required",
            "not-found",
            "too-many-attempts",
            "invalid",
            "conflict",
            "internal",
        ] {
            assert!(
                config.catalog.contains(&format!("ui.error.{code}")),
                "{code}"
            );
        }
        for role in Role::ALL {
            assert!(
                config.catalog.contains(&format!("ui.role.{role}")),
                "{role}"
            );
        }
        for action in ir110_store::CUSTODY_ACTIONS {
            assert!(
                config.catalog.contains(&format!("ui.custody.{action}")),
                "{action}"
            );
        }
        assert_eq!(config.price_list.items.len(), 15);
    }
}
