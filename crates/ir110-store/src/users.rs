//! Users, their client access, browser sessions, login failures and API tokens.
//!
//! The store keeps only what it is given: password hashes (Argon2id PHC strings made by the
//! server), and SHA-256 digests of session ids and API tokens. It never sees a password or a
//! usable token.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{Scope, bind_scope, scope_clause};
use crate::error::{Result, StoreError, is_unique_violation};
use crate::store::{RowExt, Store, micros, now, time, with_pool};
use crate::tx::{Tx, with_tx};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything, every client: users, clients, cases, audit log.
    Admin,
    /// Works cases of the clients granted to them (reads and writes).
    Responder,
    /// A client company's own staff: reads its company's cases, writes nothing.
    ClientViewer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Responder, Role::ClientViewer];

    /// `admin`, `responder` or `client-viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Responder => "responder",
            Role::ClientViewer => "client-viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "admin" => Ok(Role::Admin),
            "responder" => Ok(Role::Responder),
            "client-viewer" => Ok(Role::ClientViewer),
            _ => Err(StoreError::Invalid {
                what: "role",
                detail: format!("`{s}`; expected admin, responder or client-viewer"),
            }),
        }
    }
}

/// A user account (never with its password hash: see [`Store::user_credentials`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Store id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The client of a client-viewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<i64>,
    /// When created.
    pub created_at: DateTime<Utc>,
}

/// A browser session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The logged-in user; `None` for a login-page session.
    pub user: Option<User>,
    /// The session's CSRF (synchroniser) token.
    pub csrf: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Read only.
    Read,
    /// Read, and upload triage reports (what `ir110 triage --upload` needs).
    Upload,
    /// Everything the user may do.
    Write,
}

impl TokenScope {
    /// `read`, `upload` or `write`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Upload => "upload",
            TokenScope::Write => "write",
        }
    }

    fn parse(id: i64, s: &str) -> Result<Self> {
        match s {
            "read" => Ok(TokenScope::Read),
            "upload" => Ok(TokenScope::Upload),
            "write" => Ok(TokenScope::Write),
            _ => Err(StoreError::corrupt("API token scope", id, s)),
        }
    }
}

/// A stored API token (its digest stays in the store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Store id.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Label given at creation (`triage laptop`).
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// Narrows the owner's access to this client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<i64>,
    /// When created.
    pub created_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "u.id, u.name, u.role, u.client_id, u.created_at";

fn user_from_row(row: &impl RowExt) -> Result<User> {
    let id = row.int("id")?;
    Ok(User {
        id,
        name: row.text("name")?,
        role: row
            .text("role")?
            .parse()
            .map_err(|e| StoreError::corrupt("user role", id, e))?,
        client_id: row.opt_int("client_id")?,
        created_at: time("user", id, row.int("created_at")?)?,
    })
}

impl Store {
    /// Creates a user in a transaction of its own (see [`Tx::create_user`]).
    pub async fn create_user(
        &self,
        name: &str,
        role: Role,
        client_id: Option<i64>,
        password_hash: &str,
    ) -> Result<User> {
        let mut tx = self.begin().await?;
        let user = tx.create_user(name, role, client_id, password_hash).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The user with this id.
    pub async fn get_user(&self, id: i64) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        with_pool!(self, |pool, Db| {
            match sqlx::query(&sql).bind(id).fetch_optional(pool).await? {
                Some(row) => user_from_row(&row),
                None => Err(StoreError::Invalid {
                    what: "user",
                    detail: format!("no user {id}"),
                }),
            }
        })
    }

    /// The user with this login name and its password hash, for login.
    pub async fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>> {
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.name = $1");
        with_pool!(self, |pool, Db| {
            match sqlx::query(&sql)
                .bind(name.trim())
                .fetch_optional(pool)
                .await?
            {
                Some(row) => Ok(Some((user_from_row(&row)?, row.text("password_hash")?))),
                None => Ok(None),
            }
        })
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name");
        with_pool!(self, |pool, Db| {
            sqlx::query(&sql)
                .fetch_all(pool)
                .await?
                .iter()
                .map(user_from_row)
                .collect()
        })
    }

    /// Gives a responder access to a client, in a transaction of its own (see
    /// [`Tx::grant_client`]).
    pub async fn grant_client(&self, user_id: i64, client_id: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.grant_client(user_id, client_id).await?;
        tx.commit().await
    }

    /// The clients granted to a user, ascending.
    pub async fn user_client_ids(&self, user_id: i64) -> Result<Vec<i64>> {
        with_pool!(self, |pool, Db| {
            sqlx::query("SELECT client_id FROM user_clients WHERE user_id = $1 ORDER BY client_id")
                .bind(user_id)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| r.int("client_id"))
                .collect()
        })
    }

    /// Stores a session under the digest of its id (see [`Tx::create_session`]).
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: Option<i64>,
        csrf: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.create_session(id_hash, user_id, csrf, expires_at)
            .await?;
        tx.commit().await
    }

    /// The unexpired session with this id digest.
    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        let row = with_pool!(self, |pool, Db| {
            match sqlx::query(
                "SELECT user_id, csrf, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
            )
            .bind(id_hash)
            .bind(micros(now()))
            .fetch_optional(pool)
            .await?
            {
                Some(r) => Some((
                    r.opt_int("user_id")?,
                    r.text("csrf")?,
                    r.int("expires_at")?,
                )),
                None => None,
            }
        });
        let Some((user_id, csrf, expires)) = row else {
            return Ok(None);
        };
        let user = match user_id {
            Some(id) => Some(self.get_user(id).await?),
            None => None,
        };
        Ok(Some(SessionRecord {
            user,
            csrf,
            expires_at: time("session", 0, expires)?,
        }))
    }

    /// Removes a session (see [`Tx::delete_session`]).
    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.delete_session(id_hash).await?;
        tx.commit().await
    }

    /// Records a failed login for `key` (see [`Tx::record_login_failure`]).
    pub async fn record_login_failure(&self, key: &str, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.record_login_failure(key, at).await?;
        tx.commit().await
    }

    /// Failed logins for `key` at or after `since`.
    pub async fn count_login_failures(&self, key: &str, since: DateTime<Utc>) -> Result<i64> {
        with_pool!(self, |pool, Db| {
            sqlx::query("SELECT COUNT(*) AS n FROM login_failures WHERE key = $1 AND at >= $2")
                .bind(key)
                .bind(micros(since))
                .fetch_one(pool)
                .await?
                .int("n")
        })
    }

    /// Forgets the failed logins of `key` (see [`Tx::clear_login_failures`]).
    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.clear_login_failures(key).await?;
        tx.commit().await
    }

    /// Stores an API token by its digest, for any client (see [`Tx::create_token`]).
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        scope: TokenScope,
        client_id: Option<i64>,
    ) -> Result<TokenRecord> {
        let mut tx = self.begin().await?;
        let Some(token) = tx
            .create_token(&Scope::all(), user_id, name, token_hash, scope, client_id)
            .await?
        else {
            return Err(StoreError::not_found(
                crate::error::Entity::Client,
                client_id.unwrap_or_default(),
            ));
        };
        tx.commit().await?;
        Ok(token)
    }

    /// The token with this digest and its owner.
    pub async fn token(&self, token_hash: &str) -> Result<Option<(TokenRecord, User)>> {
        let found = with_pool!(self, |pool, Db| {
            match sqlx::query(
                "SELECT id, user_id, name, scope, client_id, created_at FROM api_tokens \
                 WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
            {
                Some(r) => {
                    let id = r.int("id")?;
                    Some(TokenRecord {
                        id,
                        user_id: r.int("user_id")?,
                        name: r.text("name")?,
                        scope: TokenScope::parse(id, &r.text("scope")?)?,
                        client_id: r.opt_int("client_id")?,
                        created_at: time("API token", id, r.int("created_at")?)?,
                    })
                }
                None => None,
            }
        });
        match found {
            Some(t) => {
                let user = self.get_user(t.user_id).await?;
                Ok(Some((t, user)))
            }
            None => Ok(None),
        }
    }
}

impl Tx {
    /// Creates a user. A client-viewer must name its client (and gets access to it alone);
    /// other roles must not. The name (trimmed) must be unique.
    pub async fn create_user(
        &mut self,
        name: &str,
        role: Role,
        client_id: Option<i64>,
        password_hash: &str,
    ) -> Result<User> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(StoreError::Invalid {
                what: "user name",
                detail: "it must have 1 to 100 characters".to_owned(),
            });
        }
        match (role, client_id) {
            (Role::ClientViewer, None) => {
                return Err(StoreError::Invalid {
                    what: "client-viewer",
                    detail: "a client-viewer needs its client (--client ID)".to_owned(),
                });
            }
            (Role::Admin | Role::Responder, Some(_)) => {
                return Err(StoreError::Invalid {
                    what: "user client",
                    detail: "only a client-viewer is bound to one client".to_owned(),
                });
            }
            _ => {}
        }
        if let Some(c) = client_id {
            self.get_client(c).await?;
        }
        let at = now();
        let id = with_tx!(self, |tx, Db| {
            let inserted = sqlx::query(
                "INSERT INTO users (name, role, client_id, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(name)
            .bind(role.as_str())
            .bind(client_id)
            .bind(password_hash)
            .bind(micros(at))
            .fetch_one(&mut *tx)
            .await;
            let id = match inserted {
                Ok(row) => row.int("id")?,
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Invalid {
                        what: "user name",
                        detail: format!("`{name}` is taken"),
                    });
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(c) = client_id {
                sqlx::query("INSERT INTO user_clients (user_id, client_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(c)
                    .execute(&mut *tx)
                    .await?;
            }
            id
        });
        self.get_user(id).await
    }

    /// The user with this id.
    pub async fn get_user(&mut self, id: i64) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        with_tx!(self, |tx, Db| {
            match sqlx::query(&sql).bind(id).fetch_optional(&mut *tx).await? {
                Some(row) => user_from_row(&row),
                None => Err(StoreError::Invalid {
                    what: "user",
                    detail: format!("no user {id}"),
                }),
            }
        })
    }

    /// Gives a responder access to a client (no effect when it already has it). Client-viewers
    /// stay bound to their one client.
    pub async fn grant_client(&mut self, user_id: i64, client_id: i64) -> Result<()> {
        let user = self.get_user(user_id).await?;
        if user.role == Role::ClientViewer {
            return Err(StoreError::Invalid {
                what: "access grant",
                detail: "a client-viewer sees its own client only".to_owned(),
            });
        }
        self.get_client(client_id).await?;
        with_tx!(self, |tx, Db| {
            sqlx::query(
                "INSERT INTO user_clients (user_id, client_id) VALUES ($1, $2) \
                 ON CONFLICT (user_id, client_id) DO NOTHING",
            )
            .bind(user_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Stores a session under the digest of its id.
    pub async fn create_session(
        &mut self,
        id_hash: &str,
        user_id: Option<i64>,
        csrf: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        with_tx!(self, |tx, Db| {
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id_hash)
            .bind(user_id)
            .bind(csrf)
            .bind(micros(now()))
            .bind(micros(expires_at))
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Removes a session (logout, or the old session at login).
    pub async fn delete_session(&mut self, id_hash: &str) -> Result<()> {
        with_tx!(self, |tx, Db| {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1 OR expires_at <= $2")
                .bind(id_hash)
                .bind(micros(now()))
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Records a failed login for `key` (`user:<name>`, `addr:<ip>`) at `at`.
    pub async fn record_login_failure(&mut self, key: &str, at: DateTime<Utc>) -> Result<()> {
        with_tx!(self, |tx, Db| {
            sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                .bind(key)
                .bind(micros(at))
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Forgets the failed logins of `key` (after a successful login).
    pub async fn clear_login_failures(&mut self, key: &str) -> Result<()> {
        with_tx!(self, |tx, Db| {
            sqlx::query("DELETE FROM login_failures WHERE key = $1")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Stores an API token by its digest; a token narrowed to `client_id` only when that client
    /// is inside `scope` (checked by the `INSERT` itself), else `None`.
    pub async fn create_token(
        &mut self,
        scope: &Scope,
        user_id: i64,
        name: &str,
        token_hash: &str,
        token_scope: TokenScope,
        client_id: Option<i64>,
    ) -> Result<Option<TokenRecord>> {
        let at = now();
        // A token narrowed to a client is stored only when that client is inside the scope.
        let sql = format!(
            "INSERT INTO api_tokens (user_id, name, token_hash, scope, client_id, created_at) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE $5 IS NULL OR EXISTS \
             (SELECT 1 FROM clients cl WHERE cl.id = $5 AND {}) RETURNING id",
            scope_clause("cl.id", 7)
        );
        let id = with_tx!(self, |tx, Db| {
            match bind_scope!(
                sqlx::query(&sql)
                    .bind(user_id)
                    .bind(name)
                    .bind(token_hash)
                    .bind(token_scope.as_str())
                    .bind(client_id)
                    .bind(micros(at)),
                scope
            )
            .fetch_optional(&mut *tx)
            .await?
            {
                Some(row) => row.int("id")?,
                None => return Ok(None),
            }
        });
        Ok(Some(TokenRecord {
            id,
            user_id,
            name: name.to_owned(),
            scope: token_scope,
            client_id,
            created_at: at,
        }))
    }
}
