//! Cases: the list, opening a case (with its playbook tasks), the case page, phase changes, the
//! policy decision with its merits and risks, and tasks. Also the two guards every case route
//! uses: [`case_for`] (scope, in the query) and [`case_with_nda`] (plus the NDA gate, which a
//! write's own statement applies again; [`refusal`] names why a gated write wrote nothing).

use std::fmt::Write as _;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use chrono::{DateTime, Utc};
use ir110_model::{Case, IncidentType, Lang, Phase, Policy, PolicyDecision, Severity};
use ir110_store::{CaseAccess, CasePage, CaseTask, ClientRef, NewCase, NewTask, Role, Tx};
use serde::Deserialize;

use crate::AppState;
use crate::audit::{entry, record};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::html::{Ui, esc, jst};
use crate::input::{Done, Input};

/// The case `id` if it is in the caller's scope (checked in the query), else 404.
pub(crate) async fn case_for(state: &AppState, caller: &Caller, id: i64) -> ApiResult<CaseAccess> {
    state
        .store
        .case_in_scope(&caller.scope, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// [`case_for`] plus the NDA gate: without a recorded NDA only intake data may be used; the
/// refusal is audited (`nda.refused`, with what was asked for).
pub(crate) async fn case_with_nda(
    state: &AppState,
    caller: &Caller,
    id: i64,
    what: &str,
) -> ApiResult<CaseAccess> {
    let access = case_for(state, caller, id).await?;
    if !access.nda {
        record(
            state,
            &caller.user.name,
            "nda.refused",
            format!("case:{id}"),
            (Some(access.case.client_id), Some(id)),
            serde_json::json!({"requested": what}),
        )
        .await?;
        return Err(ApiError::NdaRequired);
    }
    Ok(access)
}

/// What a gated write that wrote nothing means: the case is out of scope (404), or no NDA
/// covers it (403, the refusal audited). The write's own statement refused (the caller's scope
/// carries the NDA gate into it); this read, inside the same transaction, only names the
/// reason. The transaction is rolled back before the refusal is recorded in one of its own,
/// so nothing the write may have begun is kept.
pub(crate) async fn refusal(
    state: &AppState,
    caller: &Caller,
    mut tx: Tx,
    case_id: i64,
    what: &str,
) -> ApiError {
    let access = match tx.case_in_scope(&caller.scope, case_id).await {
        Ok(access) => access,
        Err(e) => return e.into(),
    };
    if let Err(e) = tx.rollback().await {
        return e.into();
    }
    match access {
        Some(a) if !a.nda => {
            match record(
                state,
                &caller.user.name,
                "nda.refused",
                format!("case:{case_id}"),
                (Some(a.case.client_id), Some(case_id)),
                serde_json::json!({"requested": what}),
            )
            .await
            {
                Ok(()) => ApiError::NdaRequired,
                Err(e) => e,
            }
        }
        _ => ApiError::NotFound,
    }
}

/// `<option>`s of every incident type.
pub(crate) fn type_options(ui: &Ui<'_>) -> String {
    IncidentType::ALL
        .iter()
        .map(|t| {
            format!(
                "<option value=\"{}\">{}</option>",
                t.as_str(),
                ui.t(&format!("incident.{}", t.as_str()))
            )
        })
        .collect()
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    /// Paging key of the previous page: `<opened micros>:<id>`.
    before: Option<String>,
    /// Only this client's cases.
    client: Option<i64>,
}

pub(crate) fn parse_page_key(key: Option<&str>) -> ApiResult<Option<(i64, i64)>> {
    match key {
        None | Some("") => Ok(None),
        Some(k) => {
            let (a, b) = k
                .split_once(':')
                .ok_or_else(|| ApiError::Invalid("paging key".to_owned()))?;
            Ok(Some((
                a.parse()
                    .map_err(|_| ApiError::Invalid("paging key".to_owned()))?,
                b.parse()
                    .map_err(|_| ApiError::Invalid("paging key".to_owned()))?,
            )))
        }
    }
}

/// Cases per page.
const PAGE: u32 = 50;

async fn page_of(state: &AppState, caller: &Caller, q: &ListQuery) -> ApiResult<CasePage> {
    let scope = caller.scope.narrowed(q.client);
    Ok(state
        .store
        .cases_page(&scope, parse_page_key(q.before.as_deref())?, PAGE)
        .await?)
}

/// `GET /api/cases`: a page of cases, newest first (`?before=` the `next` key, `?client=`).
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<CasePage>> {
    Ok(Json(page_of(&state, &caller, &q).await?))
}

/// `GET /api/cases/{id}`: intake data (always) and the NDA flag.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CaseAccess>> {
    Ok(Json(case_for(&state, &caller, id).await?))
}

/// The new-case form.
#[derive(Deserialize)]
pub(crate) struct CaseIn {
    client_id: i64,
    title: String,
    #[serde(default)]
    types: Vec<IncidentType>,
}

/// The playbook tasks of `types`, for the store.
fn playbook_tasks(types: &[IncidentType]) -> ApiResult<Vec<NewTask>> {
    let mut out = Vec::new();
    for t in types {
        for task in
            ir110_playbook::tasks(*t).map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?
        {
            out.push(NewTask {
                key: task.id.clone(),
                phase: task.phase,
                title: [task.title.ja.clone(), task.title.en.clone()],
                description: [task.description.ja.clone(), task.description.en.clone()],
            });
        }
    }
    Ok(out)
}

/// `POST /api/cases`: opens a case for a client in scope, with the playbook tasks of its types.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    input: Input<CaseIn>,
) -> ApiResult<Done<Case>> {
    caller.check_write(input.csrf.as_deref(), false)?;
    let v = &input.value;
    let types = if v.types.is_empty() {
        vec![IncidentType::Other]
    } else {
        v.types.clone()
    };
    // The case, its tasks and the audit entry commit together; the client is found through
    // the caller's scope by the INSERT itself.
    let mut tx = state.store.begin().await?;
    let case = tx
        .create_case(
            &caller.scope,
            NewCase::new(ClientRef::Id(v.client_id), &v.title).types(types),
        )
        .await?
        .ok_or(ApiError::NotFound)?;
    let tasks = playbook_tasks(&case.types)?;
    tx.add_tasks(&caller.scope, case.id, &tasks)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.audit(&entry(
        &caller.user.name,
        "case.create",
        format!("case:{}", case.id),
        (Some(case.client_id), Some(case.id)),
        serde_json::json!({"reference": case.reference, "types": case.types, "tasks": tasks.len()}),
    ))
    .await?;
    tx.commit().await?;
    let to = format!("/cases/{}", case.id);
    Ok(Done::new(&input, StatusCode::CREATED, case, to))
}

/// The intake form: title and incident types.
#[derive(Deserialize)]
pub(crate) struct IntakeIn {
    title: String,
    #[serde(default)]
    types: Vec<IncidentType>,
}

/// `POST /api/cases/{id}/intake`: edits the intake data (allowed before the NDA); types added
/// bring their playbook tasks (tasks already on the case are kept once).
pub(crate) async fn set_intake(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    input: Input<IntakeIn>,
) -> ApiResult<Done<Case>> {
    caller.check_write(input.csrf.as_deref(), false)?;
    let before = case_for(&state, &caller, id).await?;
    let types = if input.value.types.is_empty() {
        before.case.types.clone()
    } else {
        input.value.types.clone()
    };
    let mut tx = state.store.begin().await?;
    let after = tx
        .set_case_intake(&caller.scope, id, &input.value.title, &types)
        .await?
        .ok_or(ApiError::NotFound)?;
    let added: Vec<IncidentType> = after
        .case
        .types
        .iter()
        .copied()
        .filter(|t| !before.case.types.contains(t))
        .collect();
    let tasks = tx
        .add_tasks(&caller.scope, id, &playbook_tasks(&added)?)
        .await?
        .ok_or(ApiError::NotFound)?;
    tx.audit(&entry(
        &caller.user.name,
        "case.intake",
        format!("case:{id}"),
        (Some(after.case.client_id), Some(id)),
        serde_json::json!({"title": after.case.title, "types": after.case.types, "tasks_added": tasks}),
    ))
    .await?;
    tx.commit().await?;
    Ok(Done::new(
        &input,
        StatusCode::OK,
        after.case,
        format!("/cases/{id}"),
    ))
}

/// The phase form.
#[derive(Deserialize)]
pub(crate) struct PhaseIn {
    phase: Phase,
}

/// `POST /api/cases/{id}/phase`: moves the case in the flow (needs the NDA past intake).
pub(crate) async fn set_phase(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    input: Input<PhaseIn>,
) -> ApiResult<Done<Case>> {
    caller.check_write(input.csrf.as_deref(), false)?;
    // Scope only: the NDA gate is in the write's statement ([`refusal`] names a refusal).
    case_for(&state, &caller, id).await?;
    let mut tx = state.store.begin().await?;
    let done = tx
        .set_phase(&caller.scope, id, input.value.phase, &caller.user.name)
        .await?;
    let Some((from, case)) = done else {
        return Err(refusal(&state, &caller, tx, id, "phase").await);
    };
    tx.audit(&entry(
        &caller.user.name,
        "case.phase",
        format!("case:{id}"),
        (Some(case.client_id), Some(id)),
        serde_json::json!({"from": from, "to": case.phase}),
    ))
    .await?;
    tx.commit().await?;
    Ok(Done::new(
        &input,
        StatusCode::OK,
        case,
        format!("/cases/{id}"),
    ))
}

/// The policy form: which policy, who at the client decided it, when (default now).
#[derive(Deserialize)]
pub(crate) struct PolicyIn {
    policy: Policy,
    decided_by: String,
    #[serde(default, deserialize_with = "crate::clients::empty_as_none")]
    decided_at: Option<DateTime<Utc>>,
}

/// `POST /api/cases/{id}/policy`: records the policy decision (who, when).
pub(crate) async fn set_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    input: Input<PolicyIn>,
) -> ApiResult<Done<Case>> {
    caller.check_write(input.csrf.as_deref(), false)?;
    case_for(&state, &caller, id).await?;
    let v = &input.value;
    if v.decided_by.trim().is_empty() {
        return Err(ApiError::Invalid("decided_by is empty".to_owned()));
    }
    let decision = PolicyDecision {
        policy: v.policy,
        decided_by: Some(v.decided_by.trim().to_owned()),
        decided_at: v.decided_at.unwrap_or_else(Utc::now),
    };
    let mut tx = state.store.begin().await?;
    let done = tx
        .set_policy(&caller.scope, id, &decision, &caller.user.name)
        .await?;
    let Some(case) = done else {
        return Err(refusal(&state, &caller, tx, id, "policy").await);
    };
    tx.audit(&entry(
        &caller.user.name,
        "case.policy",
        format!("case:{id}"),
        (Some(case.client_id), Some(id)),
        serde_json::json!({"policy": v.policy, "decided_by": decision.decided_by, "decided_at": decision.decided_at}),
    ))
    .await?;
    tx.commit().await?;
    Ok(Done::new(
        &input,
        StatusCode::OK,
        case,
        format!("/cases/{id}"),
    ))
}

/// `GET /api/cases/{id}/tasks`.
pub(crate) async fn tasks(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<CaseTask>>> {
    case_with_nda(&state, &caller, id, "tasks").await?;
    Ok(Json(state.store.tasks_in_scope(&caller.scope, id).await?))
}

/// The task form.
#[derive(Deserialize)]
pub(crate) struct DoneIn {
    #[serde(default = "yes")]
    done: bool,
}

fn yes() -> bool {
    true
}

/// `POST /api/tasks/{id}/done`: ticks a task (or un-ticks it with `done=false`).
pub(crate) async fn task_done(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    input: Input<DoneIn>,
) -> ApiResult<Done<CaseTask>> {
    caller.check_write(input.csrf.as_deref(), false)?;
    let task = state
        .store
        .task_in_scope(&caller.scope, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let access = case_for(&state, &caller, task.case_id).await?;
    let mut tx = state.store.begin().await?;
    let done = tx
        .set_task_done(&caller.scope, id, input.value.done, &caller.user.name)
        .await?;
    let Some(task) = done else {
        return Err(refusal(&state, &caller, tx, access.case.id, "tasks").await);
    };
    tx.audit(&entry(
        &caller.user.name,
        "task.done",
        format!("task:{id}"),
        (Some(access.case.client_id), Some(task.case_id)),
        serde_json::json!({"key": task.key, "done": input.value.done}),
    ))
    .await?;
    tx.commit().await?;
    let to = format!("/cases/{}#tasks", task.case_id);
    Ok(Done::new(&input, StatusCode::OK, task, to))
}

/// `GET /cases`: the case list.
pub(crate) async fn list_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Html<String>> {
    let ui = Ui {
        state: &state,
        lang: caller.lang,
        user: Some(&caller.user),
        csrf: caller.csrf(),
    };
    let page = page_of(&state, &caller, &q).await?;
    let mut body = format!(
        "<h1>{} <span class=\"muted\">({})</span></h1><table><tr><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th></tr>",
        ui.t("ui.cases.title"),
        page.total,
        ui.t("ui.case.reference"),
        ui.t("ui.case.title"),
        ui.t("ui.case.client"),
        ui.t("ui.case.types"),
        ui.t("ui.case.phase"),
        ui.t("ui.case.opened"),
    );
    for a in &page.cases {
        let c = &a.case;
        let _ = write!(
            body,
            "<tr><td><a href=\"/cases/{id}\">{reference}</a></td><td>{title}</td><td>{client}{nda}</td>\
             <td>{types}</td><td>{phase}</td><td>{opened}</td></tr>",
            id = c.id,
            reference = esc(&c.reference),
            title = esc(&c.title),
            client = esc(&c.client_name),
            nda = if a.nda {
                String::new()
            } else {
                format!(
                    " <span class=\"badge warn\">{}</span>",
                    ui.t("ui.client.nda-missing")
                )
            },
            types = type_names(&ui, &c.types),
            phase = ui.t(&format!("phase.{}", c.phase.as_str())),
            opened = jst(c.opened_at),
        );
    }
    body.push_str("</table>");
    if let Some((at, id)) = page.next {
        let client = q.client.map(|c| format!("&client={c}")).unwrap_or_default();
        let _ = write!(
            body,
            "<div class=\"pager\"><a href=\"/cases?before={at}:{id}{client}\">{}</a></div>",
            ui.t("ui.pager.older")
        );
    }
    if caller.user.role != Role::ClientViewer {
        let _ = write!(
            body,
            "<p class=\"muted\">{}</p>",
            ui.t("ui.cases.open-from-client")
        );
    }
    Ok(ui.page(
        &state.config.catalog.get("ui.cases.title", caller.lang),
        &body,
    ))
}

fn type_names(ui: &Ui<'_>, types: &[IncidentType]) -> String {
    types
        .iter()
        .map(|t| ui.t(&format!("incident.{}", t.as_str())))
        .collect::<Vec<_>>()
        .join("、")
}

fn severity_badge(ui: &Ui<'_>, s: Severity) -> String {
    format!(
        "<span class=\"badge sev-{}\">{}</span>",
        s.as_str(),
        ui.t(&format!("severity.{}", s.as_str()))
    )
}

/// `GET /cases/{id}`: the case summary a client's executive can read.
pub(crate) async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Html<String>> {
    let access = case_for(&state, &caller, id).await?;
    let case = &access.case;
    let ui = Ui {
        state: &state,
        lang: caller.lang,
        user: Some(&caller.user),
        csrf: caller.csrf(),
    };
    let writer = caller.user.role != Role::ClientViewer;
    let mut body = format!(
        "<h1>{reference} {title}</h1><div class=\"card\"><dl><dt>{client_l}</dt>\
         <dd><a href=\"/clients/{client_id}\">{client}</a></dd><dt>{types_l}</dt><dd>{types}</dd>\
         <dt>{phase_l}</dt><dd><span class=\"badge\">{phase}</span></dd><dt>{opened_l}</dt><dd>{opened}</dd></dl></div>",
        reference = esc(&case.reference),
        title = esc(&case.title),
        client_l = ui.t("ui.case.client"),
        client_id = case.client_id,
        client = esc(&case.client_name),
        types_l = ui.t("ui.case.types"),
        types = type_names(&ui, &case.types),
        phase_l = ui.t("ui.case.phase"),
        phase = ui.t(&format!("phase.{}", case.phase.as_str())),
        opened_l = ui.t("ui.case.opened"),
        opened = jst(case.opened_at),
    );
    if writer {
        let selected: String = IncidentType::ALL
            .iter()
            .map(|t| {
                format!(
                    "<option value=\"{}\"{}>{}</option>",
                    t.as_str(),
                    if case.types.contains(t) {
                        " selected"
                    } else {
                        ""
                    },
                    ui.t(&format!("incident.{}", t.as_str()))
                )
            })
            .collect();
        let _ = write!(
            body,
            "<details class=\"noprint\"><summary>{}</summary><form class=\"inline\" method=\"post\" \
             action=\"/api/cases/{id}/intake\">{}<label style=\"flex:1\">{}<br><input name=\"title\" \
             required style=\"width:100%\" value=\"{}\"></label><label>{}<br><select name=\"types\" \
             multiple size=\"4\">{selected}</select></label><button>{}</button></form></details>",
            ui.t("ui.case.intake-edit"),
            ui.csrf_field(),
            ui.t("ui.case.title"),
            esc(&case.title),
            ui.t("ui.case.types"),
            ui.t("ui.save"),
        );
    }
    if !access.nda {
        // Viewing the gated part of a case is itself a refused access: audit it.
        record(
            &state,
            &caller.user.name,
            "nda.refused",
            format!("case:{id}"),
            (Some(case.client_id), Some(id)),
            serde_json::json!({"requested": "case-page"}),
        )
        .await?;
        let _ = write!(
            body,
            "<div class=\"notice warn\" id=\"nda-gate\">{}</div>",
            ui.t("ui.case.nda-gate")
        );
        return Ok(ui.page(&case.reference, &body));
    }
    // Headline numbers and the most severe findings.
    let findings = state.store.findings_in_scope(&caller.scope, id).await?;
    let (_, events) = state.store.counts_in_scope(&caller.scope, id).await?;
    let _ = write!(
        body,
        "<h2>{}</h2><div class=\"card\"><p>",
        ui.t("ui.case.summary")
    );
    for s in Severity::ALL_DESC {
        let n = findings.iter().filter(|f| f.severity == s).count();
        let _ = write!(body, "{} <b>{n}</b>　", severity_badge(&ui, s));
    }
    let _ = write!(
        body,
        "</p><p><a href=\"/cases/{id}/timeline\">{} ({})</a></p>",
        ui.t("ui.case.timeline-link"),
        if events > ir110_store::EVENT_COUNT_CAP {
            format!("{}+", crate::prices::yen(ir110_store::EVENT_COUNT_CAP))
        } else {
            events.to_string()
        }
    );
    body.push_str(&crate::timeline::findings_table(&ui, &findings, 20));
    if writer {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/api/cases/{id}/reports\" enctype=\"multipart/form-data\" \
             class=\"inline noprint\">{csrf}<label>{upload}<br><input type=\"file\" name=\"report\" \
             accept=\".json,application/json\" required></label><button>{import}</button></form>",
            csrf = ui.csrf_field(),
            upload = ui.t("ui.import.file"),
            import = ui.t("ui.import.submit"),
        );
    }
    body.push_str("</div>");
    body.push_str(&crate::appi::case_section(&state, &ui, &caller, id, writer).await?);
    body.push_str(&policy_section(&ui, case, writer));
    // Phase.
    if writer {
        let options: String = Phase::ALL
            .iter()
            .map(|p| {
                format!(
                    "<option value=\"{}\"{}>{}</option>",
                    p.as_str(),
                    if *p == case.phase { " selected" } else { "" },
                    ui.t(&format!("phase.{}", p.as_str()))
                )
            })
            .collect();
        let _ = write!(
            body,
            "<form class=\"inline noprint\" method=\"post\" action=\"/api/cases/{id}/phase\">{}\
             <label>{}<br><select name=\"phase\">{options}</select></label><button>{}</button></form>",
            ui.csrf_field(),
            ui.t("ui.case.phase"),
            ui.t("ui.case.phase-set"),
        );
    }
    body.push_str(&tasks_section(
        &ui,
        &state.store.tasks_in_scope(&caller.scope, id).await?,
        writer,
    ));
    body.push_str(&crate::evidence::case_section(&state, &ui, &caller, id, writer).await?);
    body.push_str(&crate::quotes::case_section(&state, &ui, &caller, id, writer).await?);
    body.push_str(&trail_section(
        &ui,
        &state.store.case_audit_in_scope(&caller.scope, id).await?,
    ));
    Ok(ui.page(&case.reference, &body))
}

/// The case's own audit trail: who did what, when (newest last).
fn trail_section(ui: &Ui<'_>, entries: &[ir110_store::AuditEntry]) -> String {
    let mut out = format!(
        "<h2>{}</h2><table id=\"trail\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        ui.t("ui.case.trail"),
        ui.t("ui.audit.at"),
        ui.t("ui.audit.actor"),
        ui.t("ui.audit.action"),
        ui.t("ui.audit.detail"),
    );
    for e in entries {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"muted\">{}</td></tr>",
            jst(e.at),
            esc(&e.actor),
            esc(&e.action),
            esc(&e.detail),
        );
    }
    out.push_str("</table>");
    out
}

fn policy_section(ui: &Ui<'_>, case: &Case, writer: bool) -> String {
    let mut out = format!("<h2>{}</h2><div class=\"card\">", ui.t("ui.policy.title"));
    match &case.policy {
        Some(p) => {
            let _ = write!(
                out,
                "<p><span class=\"badge ok\">{}</span> {} {} — {}</p>",
                ui.t(&format!("ui.policy.{}", p.policy.as_str())),
                ui.t("ui.policy.decided-by"),
                esc(p.decided_by.as_deref().unwrap_or("—")),
                jst(p.decided_at)
            );
        }
        None => {
            let _ = write!(out, "<p class=\"muted\">{}</p>", ui.t("ui.policy.none"));
        }
    }
    let incident = case.types.first().copied().unwrap_or(IncidentType::Other);
    let symptom = ir110_playbook::symptom_for_incident(incident);
    if let Ok(guidance) = ir110_playbook::firstaid(symptom, ui.lang) {
        let g = &guidance.policy;
        let _ = write!(out, "<p>{}</p><div class=\"grid\">", esc(&g.intro));
        for option in &g.options {
            let recommended = if option.policy == g.recommended {
                format!(
                    " <span class=\"badge ok\">{}</span>",
                    ui.t("ui.policy.recommended")
                )
            } else {
                String::new()
            };
            let list = |items: &[String]| -> String {
                items
                    .iter()
                    .map(|i| format!("<li>{}</li>", esc(i)))
                    .collect()
            };
            let _ = write!(
                out,
                "<div class=\"card\"><h3>{}{recommended}</h3><b>{}</b><ul>{}</ul><b>{}</b><ul>{}</ul></div>",
                esc(&option.name),
                ui.t("ui.policy.merits"),
                list(&option.merits),
                ui.t("ui.policy.risks"),
                list(&option.risks),
            );
        }
        let _ = write!(out, "</div><p class=\"muted\">{}</p>", esc(&g.note));
    }
    if writer {
        let _ = write!(
            out,
            "<form class=\"inline noprint\" method=\"post\" action=\"/api/cases/{}/policy\">{}\
             <label>{}<br><select name=\"policy\"><option value=\"recovery-first\">{}</option>\
             <option value=\"evidence-first\">{}</option></select></label>\
             <label>{}<br><input name=\"decided_by\" required></label><button>{}</button></form>",
            case.id,
            ui.csrf_field(),
            ui.t("ui.policy.title"),
            ui.t("ui.policy.recovery-first"),
            ui.t("ui.policy.evidence-first"),
            ui.t("ui.policy.decided-by"),
            ui.t("ui.policy.record"),
        );
    }
    out.push_str("</div>");
    out
}

fn tasks_section(ui: &Ui<'_>, tasks: &[CaseTask], writer: bool) -> String {
    let i = usize::from(ui.lang == Lang::En);
    let done = tasks.iter().filter(|t| t.done_at.is_some()).count();
    let mut out = format!(
        "<h2 id=\"tasks\">{} <span class=\"muted\">{done}/{}</span></h2><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        ui.t("ui.tasks.title"),
        tasks.len(),
        ui.t("ui.case.phase"),
        ui.t("ui.tasks.task"),
        ui.t("ui.tasks.done"),
    );
    for t in tasks {
        let state = match (&t.done_at, &t.done_by) {
            (Some(at), by) => format!(
                "<span class=\"badge ok\">✓</span> {} {}",
                esc(by.as_deref().unwrap_or("")),
                jst(*at)
            ),
            _ => String::new(),
        };
        let button = if writer {
            format!(
                "<form method=\"post\" action=\"/api/tasks/{}/done\" class=\"noprint\">{}\
                 <input type=\"hidden\" name=\"done\" value=\"{}\"><button>{}</button></form>",
                t.id,
                ui.csrf_field(),
                t.done_at.is_none(),
                if t.done_at.is_none() {
                    ui.t("ui.tasks.mark-done")
                } else {
                    ui.t("ui.tasks.reopen")
                }
            )
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td><b>{}</b><br><span class=\"muted\">{}</span></td><td>{state}{button}</td></tr>",
            ui.t(&format!("phase.{}", t.phase.as_str())),
            esc(&t.title[i]),
            esc(&t.description[i]),
        );
    }
    out.push_str("</table>");
    out
}
