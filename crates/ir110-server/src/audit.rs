//! Writing to the audit log, and the administrator's view of it.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::Html;
use ir110_store::{AuditEntry, AuditVerdict, NewAudit};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::html::{Ui, esc, jst};

/// The entry "`actor` did `action` on `object`", to append with [`ir110_store::Tx::audit`] in
/// the transaction of the change it records, so that the two commit or vanish together.
pub(crate) fn entry(
    actor: &str,
    action: &str,
    object: String,
    (client_id, case_id): (Option<i64>, Option<i64>),
    detail: serde_json::Value,
) -> NewAudit {
    NewAudit {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object,
        client_id,
        case_id,
        detail,
    }
}

/// Appends one entry in a transaction of its own: for what changes nothing else (a refused
/// access, a failed login). A change is audited with [`entry`] inside its own transaction.
pub(crate) async fn record(
    state: &AppState,
    actor: &str,
    action: &str,
    object: String,
    (client_id, case_id): (Option<i64>, Option<i64>),
    detail: serde_json::Value,
) -> ApiResult<()> {
    state
        .store
        .append_audit(&NewAudit {
            actor: actor.to_owned(),
            action: action.to_owned(),
            object,
            client_id,
            case_id,
            detail,
        })
        .await?;
    Ok(())
}

#[derive(Deserialize)]
pub(crate) struct AuditQuery {
    before: Option<i64>,
}

/// `GET /api/audit`: newest entries first, 100 per page (`?before=<seq>`).
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    caller.check_admin()?;
    Ok(Json(state.store.list_audit(q.before, 100).await?))
}

/// `GET /api/audit/verify`: recomputes the hash chain.
pub(crate) async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<AuditVerdict>> {
    caller.check_admin()?;
    Ok(Json(state.store.verify_audit().await?))
}

/// `GET /audit`: the log with the chain verdict.
pub(crate) async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Html<String>> {
    caller.check_admin()?;
    let ui = Ui {
        state: &state,
        lang: caller.lang,
        user: Some(&caller.user),
        csrf: caller.csrf(),
    };
    let verdict = state.store.verify_audit().await?;
    let entries = state.store.list_audit(q.before, 100).await?;
    let mut body = format!("<h1>{}</h1>", ui.t("ui.audit.title"));
    let _ = match verdict.first_broken {
        None => write!(
            body,
            "<div class=\"notice ok\">{} ({})</div>",
            ui.t("ui.audit.intact"),
            verdict.entries
        ),
        Some(seq) => write!(
            body,
            "<div class=\"notice bad\">{} #{seq}</div>",
            ui.t("ui.audit.broken")
        ),
    };
    let _ = write!(
        body,
        "<table><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>SHA-256</th></tr>",
        ui.t("ui.audit.at"),
        ui.t("ui.audit.actor"),
        ui.t("ui.audit.action"),
        ui.t("ui.audit.object"),
        ui.t("ui.audit.detail"),
    );
    for e in &entries {
        let _ = write!(
            body,
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"muted\">{}</td><td class=\"muted\" title=\"{}\">{}…</td></tr>",
            e.seq,
            jst(e.at),
            esc(&e.actor),
            esc(&e.action),
            esc(&e.object),
            esc(&e.detail),
            esc(&e.hash),
            esc(e.hash.get(..12).unwrap_or(&e.hash)),
        );
    }
    body.push_str("</table>");
    if let Some(last) = entries.last().filter(|_| entries.len() == 100) {
        let _ = write!(
            body,
            "<div class=\"pager\"><a href=\"/audit?before={}\">{}</a></div>",
            last.seq,
            ui.t("ui.pager.older")
        );
    }
    Ok(ui.page(&ui.t("ui.audit.title"), &body))
}
