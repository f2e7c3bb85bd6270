//! Login and logout, the account page with API tokens, and user administration.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use ir110_store::{Role, TokenRecord, TokenScope, User};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::audit::entry;
use crate::auth::{
    Caller, PeerAddr, SESSION_COOKIE, Via, check_throttle, cookie, digest, dummy_hash, lang_of,
    random_token, record_failure, same, session_cookie, verify_password,
};
use crate::error::{ApiError, ApiResult};
use crate::html::{Ui, esc, jst};
use crate::input::{Done, Input};

/// `GET /login`: the login form, in a fresh anonymous session (or the one the browser has)
/// that carries the form's CSRF token.
pub(crate) async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let lang = lang_of(&state, &headers);
    let existing = match cookie(&headers, SESSION_COOKIE) {
        Some(id) => state.store.session(&digest(id)).await?,
        None => None,
    };
    let (csrf, set_cookie) = match existing {
        Some(s) if s.user.is_none() => (s.csrf, None),
        _ => {
            let id = random_token()?;
            let csrf = random_token()?;
            let expires = Utc::now() + chrono::Duration::hours(1);
            state
                .store
                .create_session(&digest(&id), None, &csrf, expires)
                .await?;
            (csrf, Some(session_cookie(&state, &id, 3600)))
        }
    };
    let ui = Ui {
        state: &state,
        lang,
        user: None,
        csrf: &csrf,
    };
    let body = format!(
        "<div class=\"card\" style=\"max-width:420px;margin:3rem auto\"><h1>{title}</h1>\
         <form method=\"post\" action=\"/login\">{csrf}\
         <p><label>{name}<br><input name=\"name\" autocomplete=\"username\" required></label></p>\
         <p><label>{password}<br><input name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required></label></p>\
         <p><button type=\"submit\">{submit}</button></p></form></div>",
        title = ui.t("ui.login.title"),
        csrf = ui.csrf_field(),
        name = ui.t("ui.login.name"),
        password = ui.t("ui.login.password"),
        submit = ui.t("ui.login.submit"),
    );
    let page = ui.page(&state.config.catalog.get("ui.login.title", lang), &body);
    let mut response = page.into_response();
    if let Some(c) = set_cookie
        && let Ok(v) = c.parse()
    {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// The login form's fields. The password is never logged, stored or echoed.
#[derive(Deserialize)]
pub(crate) struct LoginIn {
    name: String,
    password: String,
}

impl std::fmt::Debug for LoginIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginIn")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Serialize)]
struct LoggedIn {
    user: User,
    csrf: String,
}

/// `POST /login`: checks the login form's CSRF token against the anonymous session, throttles
/// per account and per address, verifies the password, then replaces the session by a new one
/// (new id, new CSRF token).
pub(crate) async fn login(
    State(state): State<AppState>,
    PeerAddr(addr): PeerAddr,
    headers: HeaderMap,
    input: Input<LoginIn>,
) -> ApiResult<Response> {
    let old_id = cookie(&headers, SESSION_COOKIE).map(str::to_owned);
    let old = match &old_id {
        Some(id) => state.store.session(&digest(id)).await?,
        None => None,
    };
    match (&old, &input.csrf) {
        (Some(s), Some(given)) if same(given, &s.csrf) => {}
        _ => return Err(ApiError::Csrf),
    }
    let name = input.value.name.trim().to_owned();
    check_throttle(&state, &name, &addr).await?;
    let found = state.store.user_credentials(&name).await?;
    let ok = match &found {
        Some((_, hash)) => verify_password(&input.value.password, hash),
        None => {
            // Same work for an unknown name as for a wrong password.
            verify_password(&input.value.password, dummy_hash());
            false
        }
    };
    let user = match found {
        Some((user, _)) if ok => user,
        _ => {
            record_failure(&state, &name, &addr).await?;
            return Err(ApiError::BadCredentials);
        }
    };
    let id = random_token()?;
    let csrf = random_token()?;
    let ttl = state.config.session_ttl;
    // The old session goes, the new one comes, and the login is audited, all or nothing.
    let mut tx = state.store.begin().await?;
    if let Some(old) = &old_id {
        tx.delete_session(&digest(old)).await?;
    }
    tx.clear_login_failures(&format!("user:{name}")).await?;
    tx.create_session(&digest(&id), Some(user.id), &csrf, Utc::now() + ttl)
        .await?;
    tx.audit(&entry(
        &user.name,
        "login",
        format!("user:{}", user.id),
        (None, None),
        serde_json::json!({"address": addr}),
    ))
    .await?;
    tx.commit().await?;
    let cookie = session_cookie(&state, &id, ttl.num_seconds());
    let mut response = if input.form {
        Redirect::to("/cases").into_response()
    } else {
        Json(LoggedIn { user, csrf }).into_response()
    };
    if let Ok(v) = cookie.parse() {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct Empty {}

/// `POST /logout`: ends the session.
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    input: Input<Empty>,
) -> ApiResult<Response> {
    let Via::Session { csrf } = &caller.via else {
        return Err(ApiError::Forbidden);
    };
    match &input.csrf {
        Some(given) if same(given, csrf) => {}
        _ => return Err(ApiError::Csrf),
    }
    let mut tx = state.store.begin().await?;
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        tx.delete_session(&digest(id)).await?;
    }
    tx.audit(&entry(
        &caller.user.name,
        "logout",
        format!("user:{}", caller.user.id),
        (None, None),
        serde_json::json!({}),
    ))
    .await?;
    tx.commit().await?;
    let mut response = if input.form {
        Redirect::to("/login").into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    if let Ok(v) = session_cookie(&state, "", 0).parse() {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// `GET /api/me`: the caller.
pub(crate) async fn me(caller: Caller) -> Json<User> {
    Json(caller.user)
}

/// `GET /account`: who am I, and the API token form.
pub(crate) async fn account_page(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Html<String>> {
    let ui = Ui {
        state: &state,
        lang: caller.lang,
        user: Some(&caller.user),
        csrf: caller.csrf(),
    };
    let clients = state.store.clients_in_scope(&caller.scope).await?;
    let mut options = format!(
        "<option value=\"\">{}</option>",
        ui.t("ui.token.any-client")
    );
    for c in &clients {
        let _ = write!(
            options,
            "<option value=\"{}\">{}</option>",
            c.id,
            esc(&c.name)
        );
    }
    let body = format!(
        "<h1>{title}</h1><div class=\"card\"><dl><dt>{name}</dt><dd>{user}</dd><dt>{role}</dt>\
         <dd>{role_v}</dd></dl></div><h2>{tokens}</h2><div class=\"card\"><p class=\"muted\">{help}</p>\
         <form class=\"inline\" method=\"post\" action=\"/api/tokens\">{csrf}\
         <label>{label}<br><input name=\"name\" required></label>\
         <label>{scope}<br><select name=\"scope\"><option value=\"upload\">upload</option>\
         <option value=\"read\">read</option><option value=\"write\">write</option></select></label>\
         <label>{client}<br><select name=\"client_id\">{options}</select></label>\
         <button>{create}</button></form></div>",
        title = ui.t("ui.account.title"),
        name = ui.t("ui.login.name"),
        user = esc(&caller.user.name),
        role = ui.t("ui.user.role"),
        role_v = ui.t(&format!("ui.role.{}", caller.user.role)),
        tokens = ui.t("ui.token.title"),
        help = ui.t("ui.token.help"),
        csrf = ui.csrf_field(),
        label = ui.t("ui.token.name"),
        scope = ui.t("ui.token.scope"),
        client = ui.t("ui.token.client"),
        create = ui.t("ui.token.create"),
    );
    Ok(ui.page(
        &state.config.catalog.get("ui.account.title", caller.lang),
        &body,
    ))
}

/// The token form.
#[derive(Deserialize)]
pub(crate) struct TokenIn {
    name: String,
    scope: TokenScope,
    #[serde(default, deserialize_with = "crate::clients::empty_as_none")]
    client_id: Option<i64>,
}

#[derive(Serialize)]
struct NewToken {
    /// Shown once; only its SHA-256 is stored.
    token: String,
    #[serde(flatten)]
    record: TokenRecord,
}

/// `POST /api/tokens`: a new API token for the caller (shown once).
pub(crate) async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    input: Input<TokenIn>,
) -> ApiResult<Response> {
    if caller.user.role == Role::ClientViewer {
        // Viewers may hold read tokens; they still need a valid session form.
        if input.value.scope != TokenScope::Read {
            return Err(ApiError::Forbidden);
        }
        match (&caller.via, &input.csrf) {
            (Via::Session { csrf }, Some(given)) if same(given, csrf) => {}
            _ => return Err(ApiError::Csrf),
        }
    } else {
        caller.check_write(input.csrf.as_deref(), false)?;
    }
    let name = input.value.name.trim();
    if name.is_empty() {
        return Err(ApiError::Invalid("token name is empty".to_owned()));
    }
    let token = format!("ir110_{}", random_token()?);
    // A token narrowed to a client is stored only if that client is in the caller's scope
    // (checked by the INSERT), together with its audit entry.
    let mut tx = state.store.begin().await?;
    let record_ = tx
        .create_token(
            &caller.scope,
            caller.user.id,
            name,
            &digest(&token),
            input.value.scope,
            input.value.client_id,
        )
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.audit(&entry(
        &caller.user.name,
        "token.create",
        format!("token:{}", record_.id),
        (input.value.client_id, None),
        serde_json::json!({"name": name, "scope": input.value.scope.as_str()}),
    ))
    .await?;
    tx.commit().await?;
    if input.form {
        let ui = Ui {
            state: &state,
            lang: caller.lang,
            user: Some(&caller.user),
            csrf: caller.csrf(),
        };
        let body = format!(
            "<h1>{}</h1><div class=\"card\"><p>{}</p><p><code id=\"token\">{}</code></p></div>",
            ui.t("ui.token.title"),
            ui.t("ui.token.once"),
            esc(&token)
        );
        return Ok(ui
            .page(
                &state.config.catalog.get("ui.token.title", caller.lang),
                &body,
            )
            .into_response());
    }
    Ok((
        StatusCode::CREATED,
        Json(NewToken {
            token,
            record: record_,
        }),
    )
        .into_response())
}

/// `GET /api/users` (admin).
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<User>>> {
    caller.check_admin()?;
    Ok(Json(state.store.list_users().await?))
}

/// The new-user form. The password is never logged or echoed.
#[derive(Deserialize)]
pub(crate) struct UserIn {
    name: String,
    role: Role,
    #[serde(default, deserialize_with = "crate::clients::empty_as_none")]
    client_id: Option<i64>,
    password: String,
}

/// `POST /api/users` (admin): creates an account.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    input: Input<UserIn>,
) -> ApiResult<Done<User>> {
    caller.check_admin()?;
    caller.check_write(input.csrf.as_deref(), false)?;
    let v = &input.value;
    let user = crate::add_user(
        &state.store,
        &v.name,
        v.role,
        v.client_id,
        &v.password,
        &caller.user.name,
    )
    .await
    .map_err(|e| match e {
        crate::ServerError::Store(s) => ApiError::Store(s),
        other => ApiError::Invalid(other.to_string()),
    })?;
    Ok(Done::new(
        &input,
        StatusCode::CREATED,
        user,
        "/users".to_owned(),
    ))
}

/// `GET /users` (admin): accounts, the new-user form and the access-grant form.
pub(crate) async fn users_page(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Html<String>> {
    caller.check_admin()?;
    let ui = Ui {
        state: &state,
        lang: caller.lang,
        user: Some(&caller.user),
        csrf: caller.csrf(),
    };
    let users = state.store.list_users().await?;
    let clients = state.store.clients_in_scope(&caller.scope).await?;
    let mut body = format!(
        "<h1>{}</h1><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        ui.t("ui.users.title"),
        ui.t("ui.login.name"),
        ui.t("ui.user.role"),
        ui.t("ui.user.clients"),
        ui.t("ui.user.created"),
    );
    for u in &users {
        let ids = state.store.user_client_ids(u.id).await?;
        let names: Vec<String> = clients
            .iter()
            .filter(|c| ids.contains(&c.id))
            .map(|c| esc(&c.name))
            .collect();
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&u.name),
            ui.t(&format!("ui.role.{}", u.role)),
            if u.role == Role::Admin {
                ui.t("ui.user.all-clients")
            } else {
                names.join(", ")
            },
            jst(u.created_at)
        );
    }
    body.push_str("</table>");
    let mut client_options = String::from("<option value=\"\">—</option>");
    for c in &clients {
        let _ = write!(
            client_options,
            "<option value=\"{}\">{}</option>",
            c.id,
            esc(&c.name)
        );
    }
    let mut user_options = String::new();
    for u in users.iter().filter(|u| u.role == Role::Responder) {
        let _ = write!(
            user_options,
            "<option value=\"{}\">{}</option>",
            u.id,
            esc(&u.name)
        );
    }
    let _ = write!(
        body,
        "<h2>{new}</h2><div class=\"card\"><form class=\"inline\" method=\"post\" action=\"/api/users\">{csrf}\
         <label>{name}<br><input name=\"name\" required></label>\
         <label>{role}<br><select name=\"role\"><option value=\"responder\">{responder}</option>\
         <option value=\"client-viewer\">{viewer}</option><option value=\"admin\">{admin}</option></select></label>\
         <label>{client}<br><select name=\"client_id\">{client_options}</select></label>\
         <label>{password}<br><input name=\"password\" type=\"password\" minlength=\"12\" required \
         autocomplete=\"new-password\"></label><button>{create}</button></form></div>\
         <h2>{grant}</h2><div class=\"card\"><p class=\"muted\">{grant_help}</p>\
         <form class=\"inline\" method=\"post\" action=\"/api/access\">{csrf}\
         <label>{client}<br><select name=\"client_id\" required>{client_options}</select></label>\
         <label>{responder_label}<br><select name=\"user_id\" required>{user_options}</select></label>\
         <button>{grant}</button></form></div>",
        new = ui.t("ui.users.new"),
        csrf = ui.csrf_field(),
        name = ui.t("ui.login.name"),
        role = ui.t("ui.user.role"),
        responder = ui.t("ui.role.responder"),
        viewer = ui.t("ui.role.client-viewer"),
        admin = ui.t("ui.role.admin"),
        client = ui.t("ui.user.client"),
        password = ui.t("ui.login.password"),
        create = ui.t("ui.users.create"),
        grant = ui.t("ui.users.grant"),
        grant_help = ui.t("ui.users.grant-help"),
        responder_label = ui.t("ui.users.responder"),
    );
    Ok(ui.page(
        &state.config.catalog.get("ui.users.title", caller.lang),
        &body,
    ))
}
