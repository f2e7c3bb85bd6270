//! The home redirect, the language switch, and the layer that shows errors to browsers as pages.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use ir110_model::Lang;

use crate::AppState;
use crate::auth::{Caller, LANG_COOKIE, lang_of};
use crate::error::{ApiError, ErrorInfo};
use crate::html::Ui;

/// `GET /`: the case list, or the login page.
pub(crate) async fn home(caller: Result<Caller, ApiError>) -> Redirect {
    match caller {
        Ok(_) => Redirect::to("/cases"),
        Err(_) => Redirect::to("/login"),
    }
}

/// `GET /lang/{lang}`: remembers the language in a cookie and goes back.
pub(crate) async fn set_lang(Path(lang): Path<String>, headers: HeaderMap) -> Response {
    let Ok(lang) = lang.parse::<Lang>() else {
        return ApiError::NotFound.into_response();
    };
    // Back to the page the switch was clicked on, when it is one of ours.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_owned()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".to_owned());
    let mut response = Redirect::to(&back).into_response();
    let cookie = format!("{LANG_COOKIE}={lang}; Path=/; SameSite=Strict; Max-Age=31536000");
    if let Ok(v) = cookie.parse() {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// Headers on every answer: no framing, no sniffing, no caching of case data, and a content
/// security policy that allows only the page's own inline style (the UI has no scripts, no
/// external assets) and forms posting back to this server.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, header::HeaderValue::from_static(value));
    }
    response
}

/// Turns error responses into pages for browsers (requests that accept `text/html`): a
/// missing login becomes a redirect to `/login`, other errors a page in the user's language.
/// API callers keep the JSON error.
pub(crate) async fn browser_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let lang = lang_of(&state, request.headers());
    let response = next.run(request).await;
    let Some(info) = response.extensions().get::<ErrorInfo>().copied() else {
        return response;
    };
    if !html {
        return response;
    }
    if info.code == "unauthorized" {
        return Redirect::to("/login").into_response();
    }
    let status = response.status();
    let ui = Ui {
        state: &state,
        lang,
        user: None,
        csrf: "",
    };
    let back = if info.code == "bad-credentials"
        || info.code == "too-many-attempts"
        || info.code == "csrf"
    {
        "/login"
    } else {
        "/"
    };
    let body = format!(
        "<div class=\"card\" style=\"max-width:640px;margin:3rem auto\"><h1>{}</h1>\
         <p id=\"error\" data-code=\"{}\">{}</p><p><a href=\"{back}\">{}</a></p></div>",
        status.as_u16(),
        info.code,
        ui.t(&format!("ui.error.{}", info.code)),
        ui.t("ui.error.back"),
    );
    let page = ui.page(&state.config.catalog.get("ui.error.title", lang), &body);
    let mut out = (status, page).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        out.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("900"));
    }
    out
}
