//! The evidence register (append-only items: packages, media with serial numbers, files) and
//! each item's chain of custody (append-only events).

use std::fmt::Write as _;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use chrono::{DateTime, Utc};
use ir110_model::EvidenceItem;
use ir110_store::{CUSTODY_ACTIONS, CustodyEvent, NewCustody, NewEvidence};
use serde::Deserialize;

use crate::AppState;
use crate::audit::entry;
use crate::auth::Caller;
use crate::cases::{case_with_nda, refusal};
use crate::error::{ApiError, ApiResult};
use crate::html::{Ui, esc, jst};
use crate::input::{Done, Input};

/// `GET /api/cases/{id}/evidence`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<EvidenceItem>>> {
    case_with_nda(&state, &caller, id, "evidence").await?;
    Ok(Json(
        state
            .store
            .evidence_of_case_in_scope(&caller.scope, id)
            .await?,
    ))
}

/// The evidence form.
#[derive(Deserialize)]
pub(crate) struct EvidenceIn {
    label: String,
    kind: String,
    #[serde(default)]
    location: String,
    #[serde(default, deserialize_with = "crate::clients::empty_as_none")]
    sha256: Option<String>,
    #[serde(default, deserialize_with = "crate::clients::empty_as_none")]
    size: Option<u64>,
}

fn check_sha256(value: Option<&str>) -> ApiResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(h.to_ascii_lowercase()))
        }
        Some(_) => Err(ApiError::Invalid("sha256 must be 64 hex digits".to_owned())),
    }
}

/// `POST /api/cases/{id}/evidence`: registers an item (never changed or removed afterwards).
pub(crate) async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    input: Input<EvidenceIn>,
) -> ApiResult<Done<EvidenceItem>> {
    caller.check_write(input.csrf.as_deref(), false)?;
    // Scope only: the NDA gate is in the write's statement.
    let access = crate::cases::case_for(&state, &caller, id).await?;
    let v = &input.value;
    if v.label.trim().is_empty() || v.kind.trim().is_empty() {
        return Err(ApiError::Invalid("label and kind are required".to_owned()));
    }
    let mut new = NewEvidence::new(
        id,
        v.label.trim(),
        v.kind.trim(),
        v.location.trim(),
        &caller.user.name,
    );
    if let Some(h) = check_sha256(v.sha256.as_deref())? {
        new = new.sha256(h);
    }
    if let Some(size) = v.size {
        new = new.size(size);
    }
    let mut tx = state.store.begin().await?;
    let done = tx.add_evidence(&caller.scope, &new).await?;
    let Some(item) = done else {
        return Err(refusal(&state, &caller, tx, id, "evidence").await);
    };
    tx.audit(&entry(
        &caller.user.name,
        "evidence.add",
        format!("evidence:{}", item.id),
        (Some(access.case.client_id), Some(id)),
        serde_json::json!({"label": item.label, "kind": item.kind, "sha256": item.sha256}),
    ))
    .await?;
    tx.commit().await?;
    let to = format!("/evidence/{}", item.id);
    Ok(Done::new(&input, StatusCode::CREATED, item, to))
}

async fn item_for(state: &AppState, caller: &Caller, id: i64) -> ApiResult<EvidenceItem> {
    let item = state
        .store
        .evidence_in_scope(&caller.scope, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    case_with_nda(state, caller, item.case_id, "evidence").await?;
    Ok(item)
}

/// `GET /api/evidence/{id}/custody`.
pub(crate) async fn custody(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<CustodyEvent>>> {
    item_for(&state, &caller, id).await?;
    Ok(Json(state.store.custody_in_scope(&caller.scope, id).await?))
}

/// The custody form.
#[derive(Deserialize)]
pub(crate) struct CustodyIn {
    action: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    seal: String,
    #[serde(default, deserialize_with = "crate::clients::empty_as_none")]
    sha256: Option<String>,
    #[serde(default)]
    note: String,
    #[serde(default, deserialize_with = "crate::clients::empty_as_none")]
    at: Option<DateTime<Utc>>,
}

/// `POST /api/evidence/{id}/custody`: appends a custody event.
pub(crate) async fn add_custody(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    input: Input<CustodyIn>,
) -> ApiResult<Done<CustodyEvent>> {
    caller.check_write(input.csrf.as_deref(), false)?;
    // Scope only: the NDA gate is in the write's statement.
    let item = state
        .store
        .evidence_in_scope(&caller.scope, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let v = &input.value;
    let event = NewCustody {
        at: v.at.unwrap_or_else(Utc::now),
        action: v.action.clone(),
        actor: caller.user.name.clone(),
        place: v.place.trim().to_owned(),
        seal: v.seal.trim().to_owned(),
        sha256: check_sha256(v.sha256.as_deref())?,
        note: v.note.trim().to_owned(),
    };
    let mut tx = state.store.begin().await?;
    let done = tx.add_custody(&caller.scope, id, &event).await?;
    let Some(stored) = done else {
        return Err(refusal(&state, &caller, tx, item.case_id, "evidence").await);
    };
    let rehash_matches = match (&event.sha256, &item.sha256) {
        (Some(a), Some(b)) => Some(a == b),
        _ => None,
    };
    tx.audit(&entry(
        &caller.user.name,
        "custody.add",
        format!("evidence:{id}"),
        (None, Some(item.case_id)),
        serde_json::json!({"action": event.action, "seal": event.seal, "rehash_matches": rehash_matches}),
    ))
    .await?;
    tx.commit().await?;
    Ok(Done::new(
        &input,
        StatusCode::CREATED,
        stored,
        format!("/evidence/{id}"),
    ))
}

/// The evidence section of the case page.
pub(crate) async fn case_section(
    state: &AppState,
    ui: &Ui<'_>,
    caller: &Caller,
    case_id: i64,
    writer: bool,
) -> ApiResult<String> {
    let items = state
        .store
        .evidence_of_case_in_scope(&caller.scope, case_id)
        .await?;
    let mut out = format!(
        "<h2>{}</h2><table id=\"evidence\"><tr><th>{}</th><th>{}</th><th>SHA-256</th><th>{}</th></tr>",
        ui.t("ui.evidence.title"),
        ui.t("ui.evidence.label"),
        ui.t("ui.evidence.kind"),
        ui.t("ui.evidence.recorded"),
    );
    for e in &items {
        let _ = write!(
            out,
            "<tr><td><a href=\"/evidence/{}\">{}</a></td><td>{}</td><td class=\"muted\">{}</td><td>{} {}</td></tr>",
            e.id,
            esc(&e.label),
            esc(&e.kind),
            esc(e.sha256.as_deref().unwrap_or("")),
            jst(e.recorded_at),
            esc(&e.recorded_by),
        );
    }
    out.push_str("</table>");
    if writer {
        let _ = write!(
            out,
            "<form class=\"inline noprint\" method=\"post\" action=\"/api/cases/{case_id}/evidence\">{}\
             <label>{}<br><input name=\"label\" required></label>\
             <label>{}<br><select name=\"kind\"><option>medium</option><option>package</option>\
             <option>file</option><option>log</option></select></label>\
             <label>{}<br><input name=\"location\"></label>\
             <label>SHA-256<br><input name=\"sha256\" size=\"32\"></label><button>{}</button></form>",
            ui.csrf_field(),
            ui.t("ui.evidence.label"),
            ui.t("ui.evidence.kind"),
            ui.t("ui.evidence.location"),
            ui.t("ui.evidence.add"),
        );
    }
    Ok(out)
}

/// `GET /evidence/{id}`: the item and its custody record.
pub(crate) async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Html<String>> {
    let item = item_for(&state, &caller, id).await?;
    let events = state.store.custody_in_scope(&caller.scope, id).await?;
    let ui = Ui {
        state: &state,
        lang: caller.lang,
        user: Some(&caller.user),
        csrf: caller.csrf(),
    };
    let mut body = format!(
        "<h1>{}</h1><div class=\"card\"><dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>SHA-256</dt>\
         <dd>{}</dd><dt>{}</dt><dd>{} {}</dd></dl><p><a href=\"/cases/{}\">←</a></p></div>\
         <h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>SHA-256</th><th>{}</th></tr>",
        esc(&item.label),
        ui.t("ui.evidence.kind"),
        esc(&item.kind),
        ui.t("ui.evidence.location"),
        esc(&item.location),
        esc(item.sha256.as_deref().unwrap_or("—")),
        ui.t("ui.evidence.recorded"),
        jst(item.recorded_at),
        esc(&item.recorded_by),
        item.case_id,
        ui.t("ui.custody.title"),
        ui.t("ui.custody.at"),
        ui.t("ui.custody.action"),
        ui.t("ui.custody.actor"),
        ui.t("ui.custody.place"),
        ui.t("ui.custody.seal"),
        ui.t("ui.custody.note"),
    );
    for k in &events {
        let e = &k.event;
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"muted\">{}</td><td>{}</td></tr>",
            jst(e.at),
            ui.t(&format!("ui.custody.{}", e.action)),
            esc(&e.actor),
            esc(&e.place),
            esc(&e.seal),
            esc(e.sha256.as_deref().unwrap_or("")),
            esc(&e.note),
        );
    }
    body.push_str("</table>");
    if caller.user.role != ir110_store::Role::ClientViewer {
        let options: String = CUSTODY_ACTIONS
            .iter()
            .map(|a| {
                format!(
                    "<option value=\"{a}\">{}</option>",
                    ui.t(&format!("ui.custody.{a}"))
                )
            })
            .collect();
        let _ = write!(
            body,
            "<form class=\"inline noprint\" method=\"post\" action=\"/api/evidence/{id}/custody\">{}\
             <label>{}<br><select name=\"action\">{options}</select></label>\
             <label>{}<br><input name=\"place\"></label><label>{}<br><input name=\"seal\"></label>\
             <label>SHA-256<br><input name=\"sha256\" size=\"32\"></label>\
             <label>{}<br><input name=\"note\"></label><button>{}</button></form>",
            ui.csrf_field(),
            ui.t("ui.custody.action"),
            ui.t("ui.custody.place"),
            ui.t("ui.custody.seal"),
            ui.t("ui.custody.note"),
            ui.t("ui.custody.add"),
        );
    }
    Ok(ui.page(&item.label, &body))
}
