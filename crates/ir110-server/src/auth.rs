//! Who is calling: passwords (Argon2id), browser sessions with CSRF tokens, API tokens, login
//! throttling, and the [`Caller`] extractor every protected handler takes.
//!
//! - Session cookies are `HttpOnly; SameSite=Strict` (plus `Secure` behind HTTPS). The cookie
//!   value is 32 random bytes; the store keeps only its SHA-256. Logging in always creates a
//!   new session (and deletes the one the browser came with), so a session id planted before
//!   login is worthless after it (no fixation).
//! - Every session, including the anonymous one of the login page, has its own CSRF token
//!   (synchroniser token). Every write through a session must carry it, as the `csrf` form
//!   field or the `X-CSRF-Token` header.
//! - API tokens (`Authorization: Bearer ir110_…`) are stored as SHA-256 digests; they carry no
//!   cookie, so CSRF does not apply, and their scope (read, upload, write; optionally one
//!   client) narrows what their owner may do.

use std::net::SocketAddr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use chrono::Utc;
use ir110_model::Lang;
use ir110_store::{Role, Scope, TokenScope, User};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// Name of the session cookie.
pub(crate) const SESSION_COOKIE: &str = "ir110_session";
/// Name of the language cookie.
pub(crate) const LANG_COOKIE: &str = "ir110_lang";

/// 32 random bytes as hex, from the operating system's generator.
pub(crate) fn random_token() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("random generator: {e}")))?;
    Ok(hex::encode(bytes))
}

/// SHA-256 hex of a secret (session id, API token): what the store keeps.
pub(crate) fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn argon2() -> Argon2<'static> {
    // OWASP's second Argon2id configuration (19 MiB, 2 passes, 1 lane): about 20 ms a hash.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with Argon2id and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| argon2::password_hash::Error::Crypto)?;
    let salt = SaltString::encode_b64(&salt)?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC string `hash`.
pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the user does not exist, so that a wrong name takes as long
/// as a wrong password.
pub(crate) fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2cGx2Xj0mWmq0y1vJ3SgZ3CJbO1P3bqkJb0tqDRmXUs"
}

/// Constant-time string comparison (CSRF tokens).
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A cookie's value from the `Cookie` headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` value of a session cookie (`max_age` seconds; 0 deletes it).
pub(crate) fn session_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    )
}

/// The language: `ir110_lang` cookie, else the configured default.
pub(crate) fn lang_of(state: &AppState, headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(|v| v.parse().ok())
        .unwrap_or(state.config.default_lang)
}

/// The client address (for login throttling): the socket peer when served, else unknown.
pub(crate) fn client_addr(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The peer address of the request (for login throttling).
pub(crate) struct PeerAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(client_addr(parts)))
    }
}

/// How a caller authenticated.
#[derive(Debug, Clone)]
pub(crate) enum Via {
    /// A browser session; writes need its CSRF token.
    Session {
        /// The session's CSRF token.
        csrf: String,
    },
    /// An API token with its scope.
    Token(TokenScope),
}

/// The authenticated caller of a protected route.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub user: User,
    pub scope: Scope,
    pub via: Via,
    pub lang: Lang,
}

impl Caller {
    /// The CSRF token to put in forms (empty for token callers, who post no forms).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf } => csrf,
            Via::Token(_) => "",
        }
    }

    /// Refuses unless the caller may write: not a client-viewer; a session caller must present
    /// the session's CSRF token; a token caller needs the `write` scope (or `upload` when
    /// `upload` is true, for report imports).
    pub fn check_write(&self, csrf: Option<&str>, upload: bool) -> ApiResult<()> {
        if self.user.role == Role::ClientViewer {
            return Err(ApiError::Forbidden);
        }
        match &self.via {
            Via::Session { csrf: expected } => match csrf {
                Some(given) if same(given, expected) => Ok(()),
                _ => Err(ApiError::Csrf),
            },
            Via::Token(TokenScope::Write) => Ok(()),
            Via::Token(TokenScope::Upload) if upload => Ok(()),
            Via::Token(_) => Err(ApiError::Forbidden),
        }
    }

    /// Refuses unless the caller is an administrator.
    pub fn check_admin(&self) -> ApiResult<()> {
        if self.user.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// Every caller of the server is behind the NDA gate, administrators too: the gate travels in
/// the scope into each write's statement.
fn scope_for(user: &User, only_client: Option<i64>) -> Scope {
    let scope = if user.role == Role::Admin {
        Scope::all()
    } else {
        Scope::user(user.id)
    };
    scope.narrowed(only_client).nda_gated()
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let lang = lang_of(state, &parts.headers);
        if let Some(auth) = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            let token = auth.strip_prefix("Bearer ").ok_or(ApiError::Unauthorized)?;
            let (record, user) = state
                .store
                .token(&digest(token.trim()))
                .await?
                .ok_or(ApiError::Unauthorized)?;
            return Ok(Caller {
                scope: scope_for(&user, record.client_id),
                user,
                via: Via::Token(record.scope),
                lang,
            });
        }
        let id = cookie(&parts.headers, SESSION_COOKIE).ok_or(ApiError::Unauthorized)?;
        let session = state
            .store
            .session(&digest(id))
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let user = session.user.ok_or(ApiError::Unauthorized)?;
        Ok(Caller {
            scope: scope_for(&user, None),
            user,
            via: Via::Session { csrf: session.csrf },
            lang,
        })
    }
}

/// Refuses a login attempt when the account or the address has too many recent failures.
pub(crate) async fn check_throttle(state: &AppState, name: &str, addr: &str) -> ApiResult<()> {
    let limits = state.config.login_limits;
    let since = Utc::now() - limits.window;
    let store = &state.store;
    if store
        .count_login_failures(&format!("user:{}", name.trim()), since)
        .await?
        >= limits.per_account
        || store
            .count_login_failures(&format!("addr:{addr}"), since)
            .await?
            >= limits.per_address
    {
        return Err(ApiError::TooManyAttempts);
    }
    Ok(())
}

/// Records a failed login for the account and the address, with its audit entry, in one
/// transaction.
pub(crate) async fn record_failure(state: &AppState, name: &str, addr: &str) -> ApiResult<()> {
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    tx.record_login_failure(&format!("user:{}", name.trim()), now)
        .await?;
    tx.record_login_failure(&format!("addr:{addr}"), now)
        .await?;
    tx.audit(&crate::audit::entry(
        name,
        "login.failed",
        format!("address:{addr}"),
        (None, None),
        serde_json::json!({}),
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(!verify_password("x", dummy_hash()));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn constant_time_compare() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
