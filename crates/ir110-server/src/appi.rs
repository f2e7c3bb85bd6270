//! APPI (個人情報保護法) report deadlines derived from the discovery date (発覚日).
//!
//! Rules (PPC guidelines on Art. 26 and rules Art. 7–8): a preliminary report (速報) "promptly",
//! in practice about 3–5 days after the business became aware; a final report (確報) within 30
//! days, or 60 days when the leak was caused by an act with a wrongful purpose (不正の目的:
//! unauthorized access, ransomware, theft). Days are counted from the day after discovery (the
//! first day is not counted), so the final deadline is discovery + 30 (or 60) days. These are
//! planning aids for the responder, not legal advice: a lawyer confirms each case.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use chrono::{Days, NaiveDate};
use ir110_store::{AppiMark, CaseAccess};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::audit::entry;
use crate::auth::Caller;
use crate::cases::{case_with_nda, refusal};
use crate::error::ApiResult;
use crate::html::{Ui, esc, today_jst};
use crate::input::{Done, Input};

/// The deadlines of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppiDeadlines {
    /// 発覚日.
    pub discovered_on: NaiveDate,
    /// Earliest day of the usual preliminary-report window (discovery + 3 days).
    pub preliminary_from: NaiveDate,
    /// Latest day of the usual preliminary-report window (discovery + 5 days).
    pub preliminary_by: NaiveDate,
    /// Final report due (discovery + 30 days, or + 60 days for unauthorized acts).
    pub final_by: NaiveDate,
    /// Days in the final-report period (30 or 60).
    pub final_days: u64,
}

/// The deadlines for a discovery date.
pub fn appi_deadlines(discovered_on: NaiveDate, unauthorized: bool) -> AppiDeadlines {
    let final_days = if unauthorized { 60 } else { 30 };
    let add = |d: u64| {
        discovered_on
            .checked_add_days(Days::new(d))
            .unwrap_or(NaiveDate::MAX)
    };
    AppiDeadlines {
        discovered_on,
        preliminary_from: add(3),
        preliminary_by: add(5),
        final_by: add(final_days),
        final_days,
    }
}

/// Days from `today` to `due` (negative when overdue).
pub(crate) fn days_left(today: NaiveDate, due: NaiveDate) -> i64 {
    (due - today).num_days()
}

/// A marked case with its deadlines.
#[derive(Debug, Serialize)]
pub(crate) struct AppiStatus {
    mark: AppiMark,
    deadlines: AppiDeadlines,
}

fn status(mark: AppiMark) -> AppiStatus {
    AppiStatus {
        deadlines: appi_deadlines(mark.discovered_on, mark.unauthorized),
        mark,
    }
}

/// `GET /api/cases/{id}/appi`: the mark and deadlines, or `null` when not marked.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Option<AppiStatus>>> {
    case_with_nda(&state, &caller, id, "appi").await?;
    Ok(Json(
        state
            .store
            .appi_in_scope(&caller.scope, id)
            .await?
            .map(status),
    ))
}

/// The APPI form.
#[derive(Deserialize)]
pub(crate) struct AppiIn {
    discovered_on: NaiveDate,
    /// Checkbox: present (any value) means true in a form; a boolean in JSON.
    #[serde(default, deserialize_with = "checkbox")]
    unauthorized: bool,
}

fn checkbox<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => false,
        Some(Raw::Bool(b)) => b,
        Some(Raw::Text(t)) => !matches!(t.as_str(), "" | "false" | "0" | "off"),
    })
}

/// `POST /api/cases/{id}/appi`: marks the case as a possible personal-data leak.
pub(crate) async fn set(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    input: Input<AppiIn>,
) -> ApiResult<Done<AppiStatus>> {
    caller.check_write(input.csrf.as_deref(), false)?;
    // Scope only: the NDA gate is in the write's statement.
    let access = crate::cases::case_for(&state, &caller, id).await?;
    let v = &input.value;
    let mut tx = state.store.begin().await?;
    let done = tx
        .set_appi(
            &caller.scope,
            id,
            v.discovered_on,
            v.unauthorized,
            &caller.user.name,
        )
        .await?;
    let Some(mark) = done else {
        return Err(refusal(&state, &caller, tx, id, "appi").await);
    };
    tx.audit(&entry(
        &caller.user.name,
        "appi.mark",
        format!("case:{id}"),
        (Some(access.case.client_id), Some(id)),
        serde_json::json!({"discovered_on": v.discovered_on, "unauthorized": v.unauthorized}),
    ))
    .await?;
    tx.commit().await?;
    Ok(Done::new(
        &input,
        StatusCode::OK,
        status(mark),
        format!("/cases/{id}#appi"),
    ))
}

/// One row of the cross-client deadline list.
#[derive(Debug, Serialize)]
pub(crate) struct DeadlineRow {
    case: CaseAccess,
    #[serde(flatten)]
    status: AppiStatus,
}

/// `GET /api/deadlines`: every marked case in scope (NDA recorded), soonest first.
pub(crate) async fn deadlines(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<DeadlineRow>>> {
    Ok(Json(rows(&state, &caller).await?))
}

async fn rows(state: &AppState, caller: &Caller) -> ApiResult<Vec<DeadlineRow>> {
    let mut rows: Vec<DeadlineRow> = state
        .store
        .appi_marks_in_scope(&caller.scope)
        .await?
        .into_iter()
        .map(|(case, mark)| DeadlineRow {
            case,
            status: status(mark),
        })
        .collect();
    let today = today_jst();
    // Soonest open deadline first: the preliminary one until it has passed, then the final.
    rows.sort_by_key(|r| {
        let d = &r.status.deadlines;
        if d.preliminary_by >= today {
            d.preliminary_by
        } else {
            d.final_by
        }
    });
    Ok(rows)
}

fn due_cell(ui: &Ui<'_>, today: NaiveDate, due: NaiveDate) -> String {
    let left = days_left(today, due);
    let class = if left < 0 {
        "bad"
    } else if left <= 3 {
        "warn"
    } else {
        "ok"
    };
    format!(
        "{due} <span class=\"badge {class}\">{}</span>",
        ui.msg(&ir110_model::Message::new("ui.appi.days-left").arg("days", left))
    )
}

fn deadline_cells(ui: &Ui<'_>, d: &AppiDeadlines) -> String {
    let today = today_jst();
    format!(
        "<td>{}</td><td>{}〜{}</td><td>{}</td><td>{} ({})</td>",
        d.discovered_on,
        d.preliminary_from,
        due_cell(ui, today, d.preliminary_by),
        ui.msg(&ir110_model::Message::new("ui.appi.final-days").arg("days", d.final_days)),
        due_cell(ui, today, d.final_by),
        d.final_days,
    )
}

/// The APPI section of the case page.
pub(crate) async fn case_section(
    state: &AppState,
    ui: &Ui<'_>,
    caller: &Caller,
    case_id: i64,
    writer: bool,
) -> ApiResult<String> {
    let mark = state.store.appi_in_scope(&caller.scope, case_id).await?;
    let mut out = format!(
        "<h2 id=\"appi\">{}</h2><div class=\"card\">",
        ui.t("ui.appi.title")
    );
    match &mark {
        Some(m) => {
            let d = appi_deadlines(m.discovered_on, m.unauthorized);
            let _ = write!(
                out,
                "<table id=\"appi-deadlines\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr><tr>{}</tr></table>\
                 <p class=\"muted\">{}</p>",
                ui.t("ui.appi.discovered"),
                ui.t("ui.appi.preliminary"),
                ui.t("ui.appi.final-rule"),
                ui.t("ui.appi.final"),
                deadline_cells(ui, &d),
                ui.t("ui.appi.note"),
            );
        }
        None => {
            let _ = write!(out, "<p class=\"muted\">{}</p>", ui.t("ui.appi.none"));
        }
    }
    if writer {
        let _ = write!(
            out,
            "<form class=\"inline noprint\" method=\"post\" action=\"/api/cases/{case_id}/appi\">{}\
             <label>{}<br><input type=\"date\" name=\"discovered_on\" required value=\"{}\"></label>\
             <label><input type=\"checkbox\" name=\"unauthorized\" value=\"true\"{}> {}</label>\
             <button>{}</button></form>",
            ui.csrf_field(),
            ui.t("ui.appi.discovered"),
            mark.as_ref()
                .map(|m| m.discovered_on)
                .unwrap_or_else(today_jst),
            if mark.as_ref().is_some_and(|m| m.unauthorized) {
                " checked"
            } else {
                ""
            },
            ui.t("ui.appi.unauthorized"),
            ui.t("ui.appi.mark"),
        );
    }
    out.push_str("</div>");
    Ok(out)
}

/// `GET /deadlines`: the cross-client deadline list.
pub(crate) async fn deadlines_page(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Html<String>> {
    let ui = Ui {
        state: &state,
        lang: caller.lang,
        user: Some(&caller.user),
        csrf: caller.csrf(),
    };
    let rows = rows(&state, &caller).await?;
    let mut body = format!(
        "<h1>{}</h1><p class=\"muted\">{}</p><table id=\"deadlines\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th></tr>",
        ui.t("ui.deadlines.title"),
        ui.t("ui.appi.note"),
        ui.t("ui.case.reference"),
        ui.t("ui.case.client"),
        ui.t("ui.appi.discovered"),
        ui.t("ui.appi.preliminary"),
        ui.t("ui.appi.final-rule"),
        ui.t("ui.appi.final"),
    );
    for r in &rows {
        let _ = write!(
            body,
            "<tr><td><a href=\"/cases/{}\">{}</a> {}</td><td>{}</td>{}</tr>",
            r.case.case.id,
            esc(&r.case.case.reference),
            esc(&r.case.case.title),
            esc(&r.case.case.client_name),
            deadline_cells(&ui, &r.status.deadlines),
        );
    }
    body.push_str("</table>");
    Ok(ui.page(
        &state.config.catalog.get("ui.deadlines.title", caller.lang),
        &body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn thirty_or_sixty_days() {
        let a = appi_deadlines(d(2026, 11, 20), false);
        assert_eq!(a.preliminary_from, d(2026, 11, 23));
        assert_eq!(a.preliminary_by, d(2026, 11, 25));
        assert_eq!(a.final_by, d(2026, 12, 20));
        assert_eq!(a.final_days, 30);
        let b = appi_deadlines(d(2026, 11, 20), true);
        assert_eq!(b.final_by, d(2027, 1, 19));
        assert_eq!(b.final_days, 60);
        assert_eq!(days_left(d(2026, 11, 26), a.preliminary_by), -1);
        assert_eq!(days_left(d(2026, 11, 26), a.final_by), 24);
    }
}
