//! The route table: every route of the server in one list, from which the router, the
//! OpenAPI document and the isolation tests are all built, so a route cannot be added without
//! appearing in the three.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post};

use crate::{
    AppState, appi, audit, cases, clients, evidence, openapi, pages, quotes, timeline, users,
};

/// The kind of object a route's `{id}` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Object {
    /// A client company.
    Client,
    /// A case.
    Case,
    /// A case task.
    Task,
    /// An evidence item.
    Evidence,
    /// A quote.
    Quote,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (login page, OpenAPI document).
    Public,
    /// Any logged-in user or API token (reads are scoped to the caller's clients).
    Read,
    /// Users who write (not client-viewers), with the CSRF token or a write/upload token.
    Write,
    /// Administrators only.
    Admin,
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path with `{id}` for an object id.
    pub path: &'static str,
    /// What it does (the OpenAPI summary).
    pub summary: &'static str,
    /// The object `{id}` names, if any.
    pub object: Option<Object>,
    /// Who may call it.
    pub access: Access,
    /// Request fields as `(name, JSON type)` for writes (form fields or JSON members).
    pub fields: &'static [(&'static str, &'static str)],
    /// Whether the answer is an HTML page (else JSON, or a redirect for forms).
    pub html: bool,
    handler: fn() -> MethodRouter<AppState>,
}

macro_rules! route {
    ($method:literal $path:literal, $access:ident, $object:expr, $html:literal, $summary:literal,
     [$(($f:literal, $t:literal)),*], $handler:expr) => {
        Route {
            method: $method,
            path: $path,
            summary: $summary,
            object: $object,
            access: Access::$access,
            fields: &[$(($f, $t)),*],
            html: $html,
            handler: || $handler,
        }
    };
}

use Object::{Case, Client, Evidence, Quote, Task};

/// Every route.
pub const ROUTES: &[Route] = &[
    // Pages.
    route!("GET" "/", Public, None, false, "Home: redirects to the case list or the login page", [], get(pages::home)),
    route!("GET" "/login", Public, None, true, "Login page (starts a pre-login session holding the form's CSRF token)", [], get(users::login_page)),
    route!("POST" "/login", Public, None, false, "Log in (rotates the session id)", [("name", "string"), ("password", "string"), ("csrf", "string")], post(users::login)),
    route!("POST" "/logout", Read, None, false, "Log out", [("csrf", "string")], post(users::logout)),
    route!("GET" "/lang/{lang}", Public, None, false, "Switch the UI language (ja or en)", [], get(pages::set_lang)),
    route!("GET" "/cases", Read, None, true, "Case list page", [], get(cases::list_page)),
    route!("GET" "/cases/{id}", Read, Some(Case), true, "Case page", [], get(cases::page)),
    route!("GET" "/cases/{id}/timeline", Read, Some(Case), true, "Timeline page", [], get(timeline::page)),
    route!("GET" "/clients", Read, None, true, "Client list page", [], get(clients::list_page)),
    route!("GET" "/clients/{id}", Read, Some(Client), true, "Client page", [], get(clients::page)),
    route!("GET" "/evidence/{id}", Read, Some(Evidence), true, "Evidence item and custody page", [], get(evidence::page)),
    route!("GET" "/quotes/{id}", Read, Some(Quote), true, "Printable quote (?lang=ja|en)", [], get(quotes::page)),
    route!("GET" "/deadlines", Read, None, true, "Cross-client APPI deadline list page", [], get(appi::deadlines_page)),
    route!("GET" "/account", Read, None, true, "Account page with the API-token form", [], get(users::account_page)),
    route!("GET" "/users", Admin, None, true, "User administration page", [], get(users::users_page)),
    route!("GET" "/audit", Admin, None, true, "Audit log page with the chain verdict", [], get(audit::page)),
    // API.
    route!("GET" "/api/openapi.json", Public, None, false, "This OpenAPI document", [], get(openapi::document)),
    route!("GET" "/api/me", Read, None, false, "The caller", [], get(users::me)),
    route!("GET" "/api/clients", Read, None, false, "Clients in scope", [], get(clients::list)),
    route!("POST" "/api/clients", Write, None, false, "Register a client", [("name", "string"), ("notes", "string"), ("nda_signed_on", "string")], post(clients::create)),
    route!("GET" "/api/clients/{id}", Read, Some(Client), false, "A client", [], get(clients::get)),
    route!("POST" "/api/clients/{id}/nda", Write, Some(Client), false, "Record (or clear) the NDA date", [("signed_on", "string")], post(clients::set_nda)),
    route!("POST" "/api/clients/{id}/notes", Write, Some(Client), false, "Set the client's notes", [("notes", "string")], post(clients::set_notes)),
    route!("POST" "/api/access", Admin, None, false, "Grant a responder access to a client", [("client_id", "integer"), ("user_id", "integer")], post(clients::grant)),
    route!("GET" "/api/cases", Read, None, false, "A page of cases, newest first (?before=, ?client=)", [], get(cases::list)),
    route!("POST" "/api/cases", Write, None, false, "Open a case (creates the playbook tasks of its types)", [("client_id", "integer"), ("title", "string"), ("types", "array")], post(cases::create)),
    route!("GET" "/api/cases/{id}", Read, Some(Case), false, "A case's intake data and NDA flag", [], get(cases::get)),
    route!("POST" "/api/cases/{id}/intake", Write, Some(Case), false, "Edit the intake data (title, incident types); allowed before the NDA", [("title", "string"), ("types", "array")], post(cases::set_intake)),
    route!("POST" "/api/cases/{id}/phase", Write, Some(Case), false, "Move the case to a phase", [("phase", "string")], post(cases::set_phase)),
    route!("POST" "/api/cases/{id}/policy", Write, Some(Case), false, "Record the policy decision", [("policy", "string"), ("decided_by", "string"), ("decided_at", "string")], post(cases::set_policy)),
    route!("GET" "/api/cases/{id}/tasks", Read, Some(Case), false, "The case's tasks", [], get(cases::tasks)),
    route!("POST" "/api/tasks/{id}/done", Write, Some(Task), false, "Tick (or un-tick) a task", [("done", "boolean")], post(cases::task_done)),
    route!("GET" "/api/cases/{id}/appi", Read, Some(Case), false, "APPI mark and deadlines", [], get(appi::get)),
    route!("POST" "/api/cases/{id}/appi", Write, Some(Case), false, "Mark a possible personal-data leak", [("discovered_on", "string"), ("unauthorized", "boolean")], post(appi::set)),
    route!("GET" "/api/deadlines", Read, None, false, "Cross-client APPI deadlines", [], get(appi::deadlines)),
    route!("GET" "/api/cases/{id}/findings", Read, Some(Case), false, "Findings, most severe first", [], get(timeline::findings)),
    route!("GET" "/api/cases/{id}/timeline", Read, Some(Case), false, "A page of timeline events (?after=, ?limit=)", [], get(timeline::events)),
    route!("POST" "/api/cases/{id}/reports", Write, Some(Case), false, "Import an ir110 triage report.json (JSON body, or multipart field `report`)", [("report", "object")], post(timeline::import)),
    route!("GET" "/api/cases/{id}/evidence", Read, Some(Case), false, "The evidence register of a case", [], get(evidence::list)),
    route!("POST" "/api/cases/{id}/evidence", Write, Some(Case), false, "Register an evidence item", [("label", "string"), ("kind", "string"), ("location", "string"), ("sha256", "string"), ("size", "integer")], post(evidence::add)),
    route!("GET" "/api/evidence/{id}/custody", Read, Some(Evidence), false, "Custody events of an item", [], get(evidence::custody)),
    route!("POST" "/api/evidence/{id}/custody", Write, Some(Evidence), false, "Append a custody event", [("action", "string"), ("place", "string"), ("seal", "string"), ("sha256", "string"), ("note", "string"), ("at", "string")], post(evidence::add_custody)),
    route!("GET" "/api/cases/{id}/quotes", Read, Some(Case), false, "Quotes of a case", [], get(quotes::list)),
    route!("POST" "/api/cases/{id}/quotes", Write, Some(Case), false, "Make a quote from the price list", [("lines", "array")], post(quotes::create)),
    route!("GET" "/api/quotes/{id}", Read, Some(Quote), false, "A quote", [], get(quotes::get)),
    route!("GET" "/api/price-list", Read, None, false, "The price list", [], get(quotes::price_list)),
    route!("GET" "/api/audit", Admin, None, false, "Audit log, newest first (?before=)", [], get(audit::list)),
    route!("GET" "/api/audit/verify", Admin, None, false, "Verify the audit hash chain", [], get(audit::verify)),
    route!("GET" "/api/users", Admin, None, false, "Users", [], get(users::list)),
    route!("POST" "/api/users", Admin, None, false, "Create a user", [("name", "string"), ("role", "string"), ("client_id", "integer"), ("password", "string")], post(users::create)),
    route!("POST" "/api/tokens", Read, None, false, "Create an API token for the caller (shown once)", [("name", "string"), ("scope", "string"), ("client_id", "integer")], post(users::create_token)),
];

/// The router of every route in [`ROUTES`], with the upload limit and the browser-error layer.
pub(crate) fn router(state: AppState) -> Router {
    let limit = state.config.max_upload;
    let router = ROUTES.iter().fold(Router::new(), |r, route| {
        r.route(route.path, (route.handler)())
    });
    router
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pages::browser_errors,
        ))
        .layer(axum::middleware::from_fn(pages::security_headers))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}
