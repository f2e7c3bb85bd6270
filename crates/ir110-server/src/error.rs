//! The one error type of every handler: what the caller is told, and what only the log sees.
//!
//! Modelled on realworld-axum-sqlx `src/http/error.rs`: handlers use `?` everywhere; each
//! variant maps to one status code and one stable `error` code; internal errors (database,
//! bugs) are logged with their detail and answered with a bare 500, never with the detail.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ir110_store::StoreError;
use serde::Serialize;

/// An error answered to an HTTP caller.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Not logged in, or the session or token is unknown or expired (401).
    #[error("authentication required")]
    Unauthorized,
    /// Logged in, but the role or token scope does not allow this (403).
    #[error("not allowed for this account")]
    Forbidden,
    /// The form's CSRF token is missing or wrong (403).
    #[error("the form has expired; reload the page and try again")]
    Csrf,
    /// The client's NDA is not recorded: only intake data may be used (403, audited).
    #[error("the client's NDA is not recorded yet; only intake data is available")]
    NdaRequired,
    /// No such object, or not one the caller may see (404: the two are not told apart).
    #[error("not found")]
    NotFound,
    /// Too many failed logins for the account or the address (429).
    #[error("too many failed logins; wait and try again")]
    TooManyAttempts,
    /// Wrong user name or password (401; the two are not told apart).
    #[error("wrong user name or password")]
    BadCredentials,
    /// The request is malformed or a value is invalid (422); the text is safe to show.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A name or reference already taken (409); the text is safe to show.
    #[error("already exists: {0}")]
    Conflict(String),
    /// The store failed.
    #[error("store error: {0}")]
    Store(#[from] StoreError),
    /// Anything else that is our fault.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

/// Put in the extensions of every error response so that the browser layer can render the
/// error as a page in the user's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInfo {
    /// The stable code (`not-found`), also the message key suffix (`ui.error.not-found`).
    pub code: &'static str,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: String,
}

impl ApiError {
    /// Status code and stable error code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad-credentials"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Csrf => (StatusCode::FORBIDDEN, "csrf"),
            ApiError::NdaRequired => (StatusCode::FORBIDDEN, "nda-required"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not-found"),
            ApiError::TooManyAttempts => (StatusCode::TOO_MANY_REQUESTS, "too-many-attempts"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Store(e) if e.is_not_found() => (StatusCode::NOT_FOUND, "not-found"),
            ApiError::Store(StoreError::Conflict { .. }) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Store(StoreError::Invalid { .. }) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
            }
            ApiError::Store(_) | ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }

    /// What the caller may read: for internal errors nothing but "internal error".
    fn public_message(&self) -> String {
        match self {
            ApiError::Store(e @ (StoreError::Conflict { .. } | StoreError::Invalid { .. })) => {
                e.to_string()
            }
            ApiError::Store(e) if e.is_not_found() => "not found".to_owned(),
            ApiError::Store(_) | ApiError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The detail (SQL error, path, bug) goes to the operator's log only.
            tracing::error!(error = %self, "request failed");
        }
        let mut response = (
            status,
            Json(Body {
                error: code,
                message: self.public_message(),
            }),
        )
            .into_response();
        response.extensions_mut().insert(ErrorInfo { code });
        response
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_are_not_returned() {
        let e = ApiError::Store(StoreError::Database(sqlx::Error::PoolTimedOut));
        assert_eq!(e.public_message(), "internal error");
        let e = ApiError::Internal(anyhow::anyhow!("secret path /etc/shadow"));
        assert_eq!(e.public_message(), "internal error");
        assert_eq!(e.status_and_code().0, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
