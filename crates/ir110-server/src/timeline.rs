//! Findings and the timeline: importing `ir110 triage`'s `report.json` (upload form or API),
//! the findings table, and the paged timeline with occurred and recorded times in JST.

use std::fmt::Write as _;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Html;
use chrono::{DateTime, Utc};
use ir110_model::{Event, Finding};
use ir110_store::{EventPage, ImportRecord, UpsertSummary};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::audit::entry;
use crate::auth::Caller;
use crate::cases::{case_with_nda, parse_page_key, refusal};
use crate::error::{ApiError, ApiResult};
use crate::html::{Ui, esc, jst};
use crate::input::Done;

/// The parts of `report.json` (ir110-report's `Report`, schema 1.x) that the server imports;
/// everything else in the file is ignored, so later minor versions still import.
#[derive(Deserialize)]
struct ReportFile {
    schema_version: String,
    #[serde(default)]
    tool_version: String,
    #[serde(default)]
    findings: Vec<ReportFinding>,
    #[serde(default)]
    timeline: Vec<Event>,
}

/// A report finding: the model finding plus its rendered title.
#[derive(Deserialize)]
struct ReportFinding {
    #[serde(flatten)]
    finding: Finding,
    #[serde(default)]
    title_text: String,
}

/// What an import did.
#[derive(Debug, Serialize)]
pub(crate) struct Imported {
    import: ImportRecord,
    findings: UpsertSummary,
}

/// Parses `report.json` bytes. The rendered title travels in the finding's data
/// (`report_title`) so that findings of analyzers whose messages this server does not ship
/// still read well.
fn parse_report(bytes: &[u8]) -> ApiResult<(String, Vec<Finding>, Vec<Event>)> {
    let report: ReportFile = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::Invalid(format!("not an ir110 report.json: {e}")))?;
    if !report.schema_version.starts_with("1.") {
        return Err(ApiError::Invalid(format!(
            "report.json schema {} is not supported (1.x is)",
            report.schema_version
        )));
    }
    let findings = report
        .findings
        .into_iter()
        .map(|rf| {
            let mut f = rf.finding;
            if !rf.title_text.is_empty() {
                f.data
                    .insert("report_title".to_owned(), rf.title_text.into());
            }
            f
        })
        .collect();
    Ok((report.tool_version, findings, report.timeline))
}

/// `POST /api/cases/{id}/reports`: imports a `report.json`, sent as the JSON body (API,
/// `Authorization: Bearer` with an `upload` token) or as the `report` file of a
/// `multipart/form-data` form (browser, with the `csrf` field).
pub(crate) async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    request: Request,
) -> ApiResult<Done<Imported>> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let header_csrf = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (bytes, csrf, form) = if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::Invalid(e.body_text()))?;
        let mut csrf = header_csrf;
        let mut bytes = None;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::Invalid(e.body_text()))?
        {
            match field.name() {
                Some("csrf") => {
                    csrf = Some(
                        field
                            .text()
                            .await
                            .map_err(|e| ApiError::Invalid(e.body_text()))?,
                    );
                }
                Some("report") => {
                    bytes = Some(
                        field
                            .bytes()
                            .await
                            .map_err(|e| ApiError::Invalid(e.body_text()))?,
                    );
                }
                _ => {}
            }
        }
        let bytes = bytes.ok_or_else(|| ApiError::Invalid("no `report` file".to_owned()))?;
        (bytes, csrf, true)
    } else {
        let bytes = Bytes::from_request(request, &state)
            .await
            .map_err(|e| ApiError::Invalid(e.body_text()))?;
        (bytes, header_csrf, false)
    };
    caller.check_write(csrf.as_deref(), true)?;
    // Scope only: the NDA gate is in the write's statement.
    let access = crate::cases::case_for(&state, &caller, id).await?;
    let (tool_version, findings, events) = parse_report(&bytes)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    // The import record, the events, the findings and the audit entry commit together.
    let mut tx = state.store.begin().await?;
    let done = tx
        .import_report(
            &caller.scope,
            id,
            &caller.user.name,
            &sha256,
            &tool_version,
            &findings,
            &events,
        )
        .await?;
    let Some((import, summary)) = done else {
        return Err(refusal(&state, &caller, tx, id, "report-import").await);
    };
    tx.audit(&entry(
        &caller.user.name,
        "report.import",
        format!("case:{id}"),
        (Some(access.case.client_id), Some(id)),
        serde_json::json!({"sha256": sha256, "findings": findings.len(), "events": events.len(),
            "tool_version": tool_version}),
    ))
    .await?;
    tx.commit().await?;
    Ok(Done {
        form,
        status: StatusCode::CREATED,
        value: Imported {
            import,
            findings: summary,
        },
        redirect: format!("/cases/{id}"),
    })
}

/// `GET /api/cases/{id}/findings`: most severe first.
pub(crate) async fn findings(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Finding>>> {
    case_with_nda(&state, &caller, id, "findings").await?;
    Ok(Json(
        state.store.findings_in_scope(&caller.scope, id).await?,
    ))
}

#[derive(Deserialize)]
pub(crate) struct TimelineQuery {
    /// The `next` key of the previous page: `<occurred micros>:<id>`.
    after: Option<String>,
    /// Events per page (1–1000, default 100).
    limit: Option<u32>,
}

/// `GET /api/cases/{id}/timeline`: a page of events in occurred-time order.
pub(crate) async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<TimelineQuery>,
) -> ApiResult<Json<EventPage>> {
    case_with_nda(&state, &caller, id, "timeline").await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state
            .store
            .events_page(
                &caller.scope,
                id,
                parse_page_key(q.after.as_deref())?,
                limit,
            )
            .await?,
    ))
}

/// The findings table of the case page (first `max` findings).
pub(crate) fn findings_table(ui: &Ui<'_>, findings: &[Finding], max: usize) -> String {
    let mut out = format!(
        "<table id=\"findings\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        ui.t("ui.finding.severity"),
        ui.t("ui.finding.title"),
        ui.t("ui.finding.hosts"),
        ui.t("ui.finding.first-seen"),
    );
    for f in findings.iter().take(max) {
        let title = if ui.state.config.catalog.contains(&f.title.key) {
            ui.msg(&f.title)
        } else if let Some(t) = f.data.get("report_title").and_then(|v| v.as_str()) {
            esc(t)
        } else {
            ui.msg(&f.title)
        };
        let _ = write!(
            out,
            "<tr><td><span class=\"badge sev-{s}\">{sev}</span></td><td>{title}<br>\
             <span class=\"muted\">{rule}</span></td><td>{hosts}</td><td>{first}</td></tr>",
            s = f.severity.as_str(),
            sev = ui.t(&format!("severity.{}", f.severity.as_str())),
            rule = esc(&f.rule),
            hosts = esc(&f.hosts.join(", ")),
            first = f.first_seen.map(jst).unwrap_or_default(),
        );
    }
    out.push_str("</table>");
    if findings.len() > max {
        let _ = write!(
            out,
            "<p class=\"muted\">{} {}</p>",
            findings.len() - max,
            ui.t("ui.finding.more")
        );
    }
    out
}

fn recorded(t: Option<DateTime<Utc>>) -> String {
    t.map(jst).unwrap_or_else(|| "—".to_owned())
}

/// `GET /cases/{id}/timeline`: 100 events a page.
pub(crate) async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<TimelineQuery>,
) -> ApiResult<Html<String>> {
    let access = case_with_nda(&state, &caller, id, "timeline").await?;
    let ui = Ui {
        state: &state,
        lang: caller.lang,
        user: Some(&caller.user),
        csrf: caller.csrf(),
    };
    let page = state
        .store
        .events_page(&caller.scope, id, parse_page_key(q.after.as_deref())?, 100)
        .await?;
    let mut body = format!(
        "<h1><a href=\"/cases/{id}\">{}</a> — {}</h1><p class=\"muted\">{}</p>\
         <table id=\"timeline\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(&access.case.reference),
        ui.t("ui.timeline.title"),
        ui.t("ui.timeline.help"),
        ui.t("ui.timeline.occurred"),
        ui.t("ui.timeline.recorded"),
        ui.t("ui.timeline.host"),
        ui.t("ui.timeline.kind"),
        ui.t("ui.timeline.message"),
        ui.t("ui.timeline.source"),
    );
    for e in &page.events {
        let ev = &e.event;
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"muted\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"muted\">{}{}</td></tr>",
            jst(ev.timestamp),
            recorded(e.recorded_at),
            esc(ev.host.as_deref().unwrap_or("")),
            esc(&ev.kind),
            esc(&ev.message),
            esc(&ev.source.path),
            ev.source
                .locator
                .as_deref()
                .map(|l| format!(" ({})", esc(l)))
                .unwrap_or_default(),
        );
    }
    body.push_str("</table>");
    if let Some((ts, eid)) = page.next {
        let _ = write!(
            body,
            "<div class=\"pager\"><a href=\"/cases/{id}/timeline?after={ts}:{eid}\">{}</a></div>",
            ui.t("ui.pager.next")
        );
    }
    Ok(ui.page(&access.case.reference, &body))
}
