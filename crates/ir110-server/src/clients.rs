//! Client companies: registration, NDA status and date, contract notes, responder access.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use chrono::NaiveDate;
use ir110_model::Client;
use ir110_store::Role;
use serde::{Deserialize, Deserializer};

use crate::AppState;
use crate::audit::entry;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::html::{Ui, esc, jst};
use crate::input::{Done, Input};

/// Deserializes an optional value where an empty form field means "none".
pub(crate) fn empty_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(Raw::Text(s)) => s.trim().parse().map(Some).map_err(serde::de::Error::custom),
        Some(Raw::Int(i)) => i
            .to_string()
            .parse()
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// `GET /api/clients`: clients in the caller's scope.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Client>>> {
    Ok(Json(state.store.clients_in_scope(&caller.scope).await?))
}

/// `GET /api/clients/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Client>> {
    Ok(Json(
        state
            .store
            .client_in_scope(&caller.scope, id)
            .await?
            .ok_or(ApiError::NotFound)?,
    ))
}

/// The new-client form.
#[derive(Deserialize)]
pub(crate) struct ClientIn {
    name: String,
    #[serde(default)]
    notes: String,
    #[serde(default, deserialize_with = "empty_as_none")]
    nda_signed_on: Option<NaiveDate>,
}

/// `POST /api/clients`: admins and responders register clients; a responder gets access to
/// the client it registers.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    input: Input<ClientIn>,
) -> ApiResult<Done<Client>> {
    caller.check_write(input.csrf.as_deref(), false)?;
    if caller.scope.only_client.is_some() {
        return Err(ApiError::Forbidden);
    }
    let v = &input.value;
    let mut tx = state.store.begin().await?;
    let client = tx.create_client(&v.name, v.nda_signed_on, &v.notes).await?;
    if caller.user.role == Role::Responder {
        tx.grant_client(caller.user.id, client.id).await?;
    }
    tx.audit(&entry(
        &caller.user.name,
        "client.create",
        format!("client:{}", client.id),
        (Some(client.id), None),
        serde_json::json!({"name": client.name, "nda_signed_on": client.nda_signed_on}),
    ))
    .await?;
    tx.commit().await?;
    let to = format!("/clients/{}", client.id);
    Ok(Done::new(&input, StatusCode::CREATED, client, to))
}

/// The NDA form: the date the NDA was signed (empty clears it).
#[derive(Deserialize)]
pub(crate) struct NdaIn {
    #[serde(default, deserialize_with = "empty_as_none")]
    signed_on: Option<NaiveDate>,
}

/// `POST /api/clients/{id}/nda`.
pub(crate) async fn set_nda(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    input: Input<NdaIn>,
) -> ApiResult<Done<Client>> {
    caller.check_write(input.csrf.as_deref(), false)?;
    let mut tx = state.store.begin().await?;
    let client = tx
        .set_client_nda(&caller.scope, id, input.value.signed_on)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.audit(&entry(
        &caller.user.name,
        "client.nda",
        format!("client:{id}"),
        (Some(id), None),
        serde_json::json!({"signed_on": input.value.signed_on}),
    ))
    .await?;
    tx.commit().await?;
    Ok(Done::new(
        &input,
        StatusCode::OK,
        client,
        format!("/clients/{id}"),
    ))
}

/// The notes form.
#[derive(Deserialize)]
pub(crate) struct NotesIn {
    notes: String,
}

/// `POST /api/clients/{id}/notes`: contacts, contract notes.
pub(crate) async fn set_notes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    input: Input<NotesIn>,
) -> ApiResult<Done<Client>> {
    caller.check_write(input.csrf.as_deref(), false)?;
    let mut tx = state.store.begin().await?;
    let client = tx
        .set_client_notes(&caller.scope, id, &input.value.notes)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.audit(&entry(
        &caller.user.name,
        "client.notes",
        format!("client:{id}"),
        (Some(id), None),
        serde_json::json!({"length": input.value.notes.chars().count()}),
    ))
    .await?;
    tx.commit().await?;
    Ok(Done::new(
        &input,
        StatusCode::OK,
        client,
        format!("/clients/{id}"),
    ))
}

/// The access-grant form.
#[derive(Deserialize)]
pub(crate) struct GrantIn {
    client_id: i64,
    user_id: i64,
}

/// `POST /api/access` (admin): gives a responder access to a client.
pub(crate) async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    input: Input<GrantIn>,
) -> ApiResult<Done<serde_json::Value>> {
    caller.check_admin()?;
    caller.check_write(input.csrf.as_deref(), false)?;
    let v = &input.value;
    let mut tx = state.store.begin().await?;
    tx.grant_client(v.user_id, v.client_id).await?;
    tx.audit(&entry(
        &caller.user.name,
        "access.grant",
        format!("user:{}", v.user_id),
        (Some(v.client_id), None),
        serde_json::json!({}),
    ))
    .await?;
    tx.commit().await?;
    Ok(Done::new(
        &input,
        StatusCode::OK,
        serde_json::json!({"user_id": v.user_id, "client_id": v.client_id}),
        "/users".to_owned(),
    ))
}

fn nda_badge(ui: &Ui<'_>, client: &Client) -> String {
    match client.nda_signed_on {
        Some(d) => format!(
            "<span class=\"badge ok\">{} {}</span>",
            ui.t("ui.client.nda-signed"),
            d
        ),
        None => format!(
            "<span class=\"badge warn\">{}</span>",
            ui.t("ui.client.nda-missing")
        ),
    }
}

/// `GET /clients`.
pub(crate) async fn list_page(
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
    let mut body = format!(
        "<h1>{}</h1><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        ui.t("ui.clients.title"),
        ui.t("ui.client.name"),
        ui.t("ui.client.nda"),
        ui.t("ui.client.created"),
    );
    for c in &clients {
        let _ = write!(
            body,
            "<tr><td><a href=\"/clients/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
            c.id,
            esc(&c.name),
            nda_badge(&ui, c),
            jst(c.created_at)
        );
    }
    body.push_str("</table>");
    if caller.user.role != Role::ClientViewer {
        let _ = write!(
            body,
            "<h2>{new}</h2><div class=\"card\"><form class=\"inline\" method=\"post\" \
             action=\"/api/clients\">{csrf}<label>{name}<br><input name=\"name\" required></label>\
             <label>{nda}<br><input name=\"nda_signed_on\" type=\"date\"></label>\
             <label style=\"flex:1\">{notes}<br><input name=\"notes\" style=\"width:100%\"></label>\
             <button>{create}</button></form></div>",
            new = ui.t("ui.clients.new"),
            csrf = ui.csrf_field(),
            name = ui.t("ui.client.name"),
            nda = ui.t("ui.client.nda-date"),
            notes = ui.t("ui.client.notes"),
            create = ui.t("ui.clients.create"),
        );
    }
    Ok(ui.page(
        &state.config.catalog.get("ui.clients.title", caller.lang),
        &body,
    ))
}

/// `GET /clients/{id}`: NDA, notes and the client's cases.
pub(crate) async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Html<String>> {
    let client = state
        .store
        .client_in_scope(&caller.scope, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let ui = Ui {
        state: &state,
        lang: caller.lang,
        user: Some(&caller.user),
        csrf: caller.csrf(),
    };
    let writer = caller.user.role != Role::ClientViewer;
    let mut body = format!(
        "<h1>{}</h1><div class=\"card\"><dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl></div>",
        esc(&client.name),
        ui.t("ui.client.nda"),
        nda_badge(&ui, &client),
        ui.t("ui.client.notes"),
        esc(&client.notes).replace('\n', "<br>"),
    );
    if writer {
        let _ = write!(
            body,
            "<div class=\"grid\"><div class=\"card\"><h2>{nda_t}</h2><form class=\"inline\" method=\"post\" \
             action=\"/api/clients/{id}/nda\">{csrf}<label>{nda}<br><input name=\"signed_on\" type=\"date\" \
             value=\"{value}\"></label><button>{record}</button></form></div>\
             <div class=\"card\"><h2>{notes_t}</h2><form method=\"post\" action=\"/api/clients/{id}/notes\">{csrf}\
             <textarea name=\"notes\">{notes}</textarea><p><button>{save}</button></p></form></div></div>\
             <h2>{new_case}</h2><div class=\"card\"><form class=\"inline\" method=\"post\" action=\"/api/cases\">{csrf}\
             <input type=\"hidden\" name=\"client_id\" value=\"{id}\">\
             <label style=\"flex:1\">{title}<br><input name=\"title\" required style=\"width:100%\"></label>\
             <label>{types}<br><select name=\"types\" multiple size=\"4\">{type_options}</select></label>\
             <button>{open}</button></form></div>",
            nda_t = ui.t("ui.client.nda"),
            csrf = ui.csrf_field(),
            nda = ui.t("ui.client.nda-date"),
            value = client
                .nda_signed_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
            record = ui.t("ui.client.nda-record"),
            notes_t = ui.t("ui.client.notes"),
            notes = esc(&client.notes),
            save = ui.t("ui.save"),
            new_case = ui.t("ui.cases.new"),
            title = ui.t("ui.case.title"),
            types = ui.t("ui.case.types"),
            type_options = crate::cases::type_options(&ui),
            open = ui.t("ui.cases.open"),
        );
    }
    let _ = write!(
        body,
        "<h2>{}</h2><p><a href=\"/cases?client={id}\">{}</a></p>",
        ui.t("ui.nav.cases"),
        ui.t("ui.client.cases-link")
    );
    Ok(ui.page(&client.name, &body))
}
