//! One write route serves both the browser and the API: [`Input`] reads an HTML form
//! (`application/x-www-form-urlencoded`) or JSON, and [`Done`] answers a form with a redirect
//! (POST/redirect/GET) and JSON with the created or changed object.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The body of a write request.
#[derive(Debug)]
pub(crate) struct Input<T> {
    /// The fields.
    pub value: T,
    /// Whether it came from an HTML form (answer with a redirect).
    pub form: bool,
    /// The CSRF token: the `csrf` form field, else the `X-CSRF-Token` header.
    pub csrf: Option<String>,
}

#[derive(serde::Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Input<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let header_csrf = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::Invalid(e.body_text()))?;
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let csrf = serde_html_form::from_bytes::<CsrfField>(&bytes)
                .ok()
                .and_then(|f| f.csrf)
                .or(header_csrf);
            let value = serde_html_form::from_bytes::<T>(&bytes)
                .map_err(|e| ApiError::Invalid(e.to_string()))?;
            Ok(Input {
                value,
                form: true,
                csrf,
            })
        } else {
            let body: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
            let value =
                serde_json::from_slice::<T>(body).map_err(|e| ApiError::Invalid(e.to_string()))?;
            Ok(Input {
                value,
                form: false,
                csrf: header_csrf,
            })
        }
    }
}

/// The answer to a write: a `303 See Other` to `redirect` for a form, else `status` and the
/// value as JSON.
pub(crate) struct Done<T> {
    pub form: bool,
    pub status: StatusCode,
    pub value: T,
    pub redirect: String,
}

impl<T> Done<T> {
    /// Answer for an input.
    pub fn new<I>(input: &Input<I>, status: StatusCode, value: T, redirect: String) -> Self {
        Done {
            form: input.form,
            status,
            value,
            redirect,
        }
    }
}

impl<T: Serialize> IntoResponse for Done<T> {
    fn into_response(self) -> Response {
        if self.form {
            Redirect::to(&self.redirect).into_response()
        } else {
            (self.status, Json(self.value)).into_response()
        }
    }
}
