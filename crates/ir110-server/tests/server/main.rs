//! The server through its router, without a socket (`tower::ServiceExt::oneshot`), on SQLite
//! always and on PostgreSQL when `IR110_TEST_POSTGRES_URL` is set; plus one real-browser run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod harness;

use axum::http::StatusCode;
use ir110_server::routes::{Access, Object, ROUTES, Route};
use ir110_store::{Role, Scope};
use serde_json::{Value, json};

use harness::{Harness, PASSWORD, Session, demo_report};

macro_rules! on_every_backend {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = super::Harness::sqlite().await;
                    super::$name(&h).await;
                    h.finish().await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(h) = super::Harness::postgres(stringify!($name)).await else { return };
                    super::$name(&h).await;
                    h.finish().await;
                }
            )+
        }
    };
}

on_every_backend!(
    every_route_answers,
    isolation_sweep,
    csrf_is_required_on_every_session_write,
    login_rotates_the_session,
    login_is_throttled_per_account_and_per_address,
    passwords_are_never_returned_or_logged,
    nda_gate_refuses_and_audits,
    tokens_are_scoped,
    appi_deadlines_and_quotes,
    forms_redirect_and_errors_render_for_browsers,
    every_write_rolls_back_when_its_audit_fails,
);

/// Markers that only client B's objects contain: no answer to A's users may contain them.
const B_MARKERS: [&str; 4] = [
    "Bravo-Secret",
    "B-SECRET-CASE",
    "B-SECRET-HDD",
    "B-SECRET-NOTE",
];

/// Objects of one client, ids by kind.
struct Objects {
    client: i64,
    case: i64,
    task: i64,
    evidence: i64,
    quote: i64,
}

impl Objects {
    fn id(&self, kind: Object) -> i64 {
        match kind {
            Object::Client => self.client,
            Object::Case => self.case,
            Object::Task => self.task,
            Object::Evidence => self.evidence,
            Object::Quote => self.quote,
        }
    }
}

struct World {
    a: Objects,
    b: Objects,
    admin: Session,
    resp_a: Session,
    viewer_a: Session,
    resp_a_id: i64,
}

/// Creates one client with an NDA, a case, and one object of every kind, through the API.
async fn objects(
    h: &Harness,
    admin: &Session,
    name: &str,
    case_title: &str,
    label: &str,
    note: &str,
) -> Objects {
    let c = h
        .call(
            "POST",
            "/api/clients",
            Some(admin),
            Some(json!({"name": name, "notes": note, "nda_signed_on": "2026-11-01"})),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let client = c.json()["id"].as_i64().unwrap();
    let k = h
        .call(
            "POST",
            "/api/cases",
            Some(admin),
            Some(
                json!({"client_id": client, "title": case_title, "types": ["ransomware", "leak"]}),
            ),
        )
        .await;
    assert_eq!(k.status, StatusCode::CREATED, "{}", k.body);
    let case = k.json()["id"].as_i64().unwrap();
    let tasks = h
        .call(
            "GET",
            &format!("/api/cases/{case}/tasks"),
            Some(admin),
            None,
        )
        .await
        .json();
    let task = tasks[0]["id"].as_i64().unwrap();
    let e = h
        .call(
            "POST",
            &format!("/api/cases/{case}/evidence"),
            Some(admin),
            Some(json!({"label": label, "kind": "medium"})),
        )
        .await;
    assert_eq!(e.status, StatusCode::CREATED, "{}", e.body);
    let q = h
        .call(
            "POST",
            &format!("/api/cases/{case}/quotes"),
            Some(admin),
            Some(json!({"lines": [{"code": "hearing", "quantity": 1}]})),
        )
        .await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.body);
    let r = h
        .call(
            "POST",
            &format!("/api/cases/{case}/reports"),
            Some(admin),
            Some(demo_report()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let m = h
        .call(
            "POST",
            &format!("/api/cases/{case}/appi"),
            Some(admin),
            Some(json!({"discovered_on": "2026-11-20", "unauthorized": true})),
        )
        .await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.body);
    Objects {
        client,
        case,
        task,
        evidence: e.json()["id"].as_i64().unwrap(),
        quote: q.json()["id"].as_i64().unwrap(),
    }
}

async fn world(h: &Harness) -> World {
    h.user("admin", Role::Admin, None).await;
    let admin = h.login("admin").await;
    let a = objects(h, &admin, "Alpha 株式会社", "A case", "A HDD", "A note").await;
    let b = objects(
        h,
        &admin,
        "Bravo-Secret 株式会社",
        "B-SECRET-CASE",
        "B-SECRET-HDD",
        "B-SECRET-NOTE",
    )
    .await;
    let resp_a_id = h.user("resp-a", Role::Responder, None).await;
    h.store.grant_client(resp_a_id, a.client).await.unwrap();
    h.user("viewer-a", Role::ClientViewer, Some(a.client)).await;
    World {
        resp_a: h.login("resp-a").await,
        viewer_a: h.login("viewer-a").await,
        a,
        b,
        admin,
        resp_a_id,
    }
}

fn path_for(route: &Route, objects: &Objects) -> String {
    let mut p = route.path.replace("{lang}", "en");
    if let Some(kind) = route.object {
        p = p.replace("{id}", &objects.id(kind).to_string());
    }
    p
}

/// A valid body for each write route (for A's objects).
fn body_for(route: &Route, w: &World, n: usize) -> Option<Value> {
    if route.method != "POST" {
        return None;
    }
    Some(match route.path {
        "/api/clients" => json!({"name": format!("New Co {n}")}),
        "/api/clients/{id}/nda" => json!({"signed_on": "2026-11-02"}),
        "/api/clients/{id}/notes" => json!({"notes": "更新"}),
        "/api/access" => json!({"client_id": w.a.client, "user_id": w.resp_a_id}),
        "/api/cases" => json!({"client_id": w.a.client, "title": "t", "types": ["emotet"]}),
        "/api/cases/{id}/intake" => {
            json!({"title": "A case", "types": ["ransomware", "leak", "emotet"]})
        }
        "/api/cases/{id}/phase" => json!({"phase": "first-aid"}),
        "/api/cases/{id}/policy" => json!({"policy": "evidence-first", "decided_by": "代表取締役"}),
        "/api/tasks/{id}/done" => json!({"done": true}),
        "/api/cases/{id}/appi" => json!({"discovered_on": "2026-11-21"}),
        "/api/cases/{id}/reports" => demo_report(),
        "/api/cases/{id}/evidence" => json!({"label": "USB", "kind": "medium"}),
        "/api/evidence/{id}/custody" => json!({"action": "sealed", "seal": "S-1"}),
        "/api/cases/{id}/quotes" => {
            json!({"lines": [{"code": "device-examination", "quantity": 2}]})
        }
        "/api/users" => json!({"name": format!("u{n}"), "role": "responder", "password": PASSWORD}),
        "/api/tokens" => json!({"name": "t", "scope": "read"}),
        "/logout" | "/login" => json!({}),
        other => panic!("no test body for POST {other}: add one"),
    })
}

/// Every route answers its documented success to an administrator.
async fn every_route_answers(h: &Harness) {
    let w = world(h).await;
    for (n, route) in ROUTES.iter().enumerate() {
        if route.path == "/login" && route.method == "POST" {
            continue; // login_rotates_the_session
        }
        let session = if route.path == "/logout" {
            h.login("admin").await
        } else {
            w.admin.clone()
        };
        let r = h
            .call(
                route.method,
                &path_for(route, &w.a),
                Some(&session),
                body_for(route, &w, n),
            )
            .await;
        let expected: &[u16] = match (route.method, route.path) {
            ("GET", "/" | "/lang/{lang}") => &[303],
            ("GET", _) => &[200],
            (_, "/logout") => &[204],
            _ => &[200, 201],
        };
        assert!(
            expected.contains(&r.status.as_u16()),
            "{} {}: {} {}",
            route.method,
            route.path,
            r.status,
            r.body
        );
    }
    // The OpenAPI document covers every non-page route.
    let doc = h.call("GET", "/api/openapi.json", None, None).await.json();
    for route in ROUTES.iter().filter(|r| !r.html) {
        assert!(
            doc["paths"][route.path][route.method.to_ascii_lowercase()].is_object(),
            "{} {} missing from openapi.json",
            route.method,
            route.path
        );
    }
}

/// Client A's viewer and responder get 403/404 for every route naming one of B's objects, and
/// no answer to them (lists included) carries B's data.
async fn isolation_sweep(h: &Harness) {
    let w = world(h).await;
    let mut checked = 0;
    for (who, session) in [("viewer-a", &w.viewer_a), ("resp-a", &w.resp_a)] {
        for (n, route) in ROUTES.iter().enumerate() {
            if route.path == "/logout" || route.path == "/login" && route.method == "POST" {
                continue;
            }
            let r = h
                .call(
                    route.method,
                    &path_for(route, &w.b),
                    Some(session),
                    body_for(route, &w, 1000 + n),
                )
                .await;
            for marker in B_MARKERS {
                assert!(
                    !r.body.contains(marker),
                    "{who} {} {} leaks {marker}: {}",
                    route.method,
                    route.path,
                    r.body
                );
            }
            if route.object.is_some() || route.access == Access::Admin {
                assert!(
                    matches!(r.status.as_u16(), 403 | 404),
                    "{who} {} {}: {} {}",
                    route.method,
                    route.path,
                    r.status,
                    r.body
                );
                checked += 1;
            }
        }
    }
    let with_object = ROUTES.iter().filter(|r| r.object.is_some()).count();
    assert!(with_object >= 20, "{with_object}");
    assert!(checked >= 2 * with_object);
    // Nothing of B was changed by those attempts.
    let b = h
        .store
        .case_in_scope(&Scope::all(), w.b.case)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.case.phase, ir110_model::Phase::Intake);
    assert!(b.case.policy.is_none());
    // And A's own users do see A.
    let r = h
        .call(
            "GET",
            &format!("/api/cases/{}/findings", w.a.case),
            Some(&w.viewer_a),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json().as_array().unwrap().len(), 3);
}

async fn csrf_is_required_on_every_session_write(h: &Harness) {
    let w = world(h).await;
    let mut checked = 0;
    for (n, route) in ROUTES
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "POST" && r.path != "/login")
    {
        for csrf in ["", "0000", &w.resp_a.csrf] {
            let s = Session {
                cookie: w.admin.cookie.clone(),
                csrf: csrf.to_owned(),
            };
            let r = h
                .call(
                    "POST",
                    &path_for(route, &w.a),
                    Some(&s),
                    body_for(route, &w, n),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{} csrf={csrf:?}: {}",
                route.path,
                r.body
            );
            assert_eq!(r.json()["error"], "csrf");
            checked += 1;
        }
    }
    assert!(checked >= 3 * 15);
    // The login form needs the pre-login session's token too.
    let (cookie, _) = h.login_form(None).await;
    let r = h
        .form(
            "/login",
            Some(&cookie),
            &[("csrf", "x"), ("name", "admin"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = h
        .form("/login", None, &[("name", "admin"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn login_rotates_the_session(h: &Harness) {
    h.user("admin", Role::Admin, None).await;
    let (before, csrf) = h.login_form(None).await;
    // Coming back to the login page keeps the same pre-login session.
    assert_eq!(
        h.login_form(Some(&before)).await,
        (before.clone(), csrf.clone())
    );
    let r = h
        .form(
            "/login",
            Some(&before),
            &[("csrf", &csrf), ("name", "admin"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after = r.set_cookie("ir110_session").unwrap();
    assert_ne!(after, before, "the session id changes at login");
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert!(
        r.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let cookie = h.headers_of_login(&r);
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let fixed = Session {
        cookie: before,
        csrf: csrf.clone(),
    };
    assert_eq!(
        h.call("GET", "/api/me", Some(&fixed), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let new = Session {
        cookie: after,
        csrf: String::new(),
    };
    assert_eq!(
        h.call("GET", "/api/me", Some(&new), None).await.json()["name"],
        "admin"
    );
    // A session id the attacker made up is not a session: the login form refuses it.
    let r = h
        .form(
            "/login",
            Some("feedface"),
            &[("csrf", &csrf), ("name", "admin"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn login_is_throttled_per_account_and_per_address(h: &Harness) {
    h.user("admin", Role::Admin, None).await;
    h.user("other", Role::Responder, None).await;
    let attempt = |name: &'static str, password: &'static str| async move {
        let (cookie, csrf) = h.login_form(None).await;
        h.form(
            "/login",
            Some(&cookie),
            &[("csrf", &csrf), ("name", name), ("password", password)],
        )
        .await
        .status
        .as_u16()
    };
    for _ in 0..5 {
        assert_eq!(attempt("admin", "wrong password!").await, 401);
    }
    // The sixth attempt is refused even with the right password.
    assert_eq!(attempt("admin", PASSWORD).await, 429);
    assert_eq!(
        attempt("other", PASSWORD).await,
        303,
        "other accounts still log in"
    );
    // Per address: 20 failures from one address block every account from it.
    for i in 0..15 {
        let name: &'static str = Box::leak(format!("nobody{i}").into_boxed_str());
        assert_eq!(attempt(name, "x").await, 401);
    }
    assert_eq!(attempt("other", PASSWORD).await, 429);
    let failures = h.store.list_audit(None, 100).await.unwrap();
    assert_eq!(
        failures
            .iter()
            .filter(|e| e.action == "login.failed")
            .count(),
        20
    );
}

async fn passwords_are_never_returned_or_logged(h: &Harness) {
    h.user("admin", Role::Admin, None).await;
    let admin = h.login("admin").await;
    let secret = "Sup3r-Secret-Passw0rd!";
    let r = h
        .call(
            "POST",
            "/api/users",
            Some(&admin),
            Some(json!({"name": "n", "role": "responder", "password": secret})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let short = h
        .call(
            "POST",
            "/api/users",
            Some(&admin),
            Some(json!({"name": "m", "role": "responder", "password": "short"})),
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (cookie, csrf) = h.login_form(None).await;
    let failed = h
        .form(
            "/login",
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("name", "n"),
                ("password", "wrong-Passw0rd"),
            ],
        )
        .await;
    let mut everything = vec![r.body, short.body, failed.body];
    everything.push(h.call("GET", "/api/users", Some(&admin), None).await.body);
    everything.push(h.call("GET", "/users", Some(&admin), None).await.body);
    everything.push(h.call("GET", "/api/audit", Some(&admin), None).await.body);
    everything.push(h.call("GET", "/audit", Some(&admin), None).await.body);
    for text in &everything {
        for needle in [
            secret,
            "wrong-Passw0rd",
            PASSWORD,
            "$argon2id$",
            "password_hash",
        ] {
            assert!(!text.contains(needle), "{needle} in {text}");
        }
    }
}

async fn nda_gate_refuses_and_audits(h: &Harness) {
    h.user("admin", Role::Admin, None).await;
    let admin = h.login("admin").await;
    let c = h
        .call(
            "POST",
            "/api/clients",
            Some(&admin),
            Some(json!({"name": "No NDA Co"})),
        )
        .await
        .json();
    let client = c["id"].as_i64().unwrap();
    let k = h
        .call(
            "POST",
            "/api/cases",
            Some(&admin),
            Some(json!({"client_id": client, "title": "Intake only", "types": ["ransomware"]})),
        )
        .await
        .json();
    let case = k["id"].as_i64().unwrap();
    // Intake data is there.
    let r = h
        .call("GET", &format!("/api/cases/{case}"), Some(&admin), None)
        .await
        .json();
    assert_eq!(
        (r["case"]["title"].as_str(), r["nda"].as_bool()),
        (Some("Intake only"), Some(false))
    );
    let page = h
        .call("GET", &format!("/cases/{case}"), Some(&admin), None)
        .await;
    assert!(page.body.contains("id=\"nda-gate\""));
    assert!(!page.body.contains("id=\"tasks\""));
    // Objects made behind the server's back (the CLI path), for the writes that need one.
    let task = h.store.tasks_in_scope(&Scope::all(), case).await.unwrap()[0].id;
    let item = h
        .store
        .add_evidence(&ir110_store::NewEvidence::new(
            case, "HDD", "medium", "safe", "a",
        ))
        .await
        .unwrap()
        .id;
    // The writes have no NDA pre-check of their own: their statements refuse.
    let gated = [
        ("GET", format!("/api/cases/{case}/findings"), None),
        ("GET", format!("/api/cases/{case}/timeline"), None),
        ("GET", format!("/api/cases/{case}/tasks"), None),
        ("GET", format!("/api/cases/{case}/evidence"), None),
        ("GET", format!("/api/cases/{case}/quotes"), None),
        ("GET", format!("/api/cases/{case}/appi"), None),
        ("GET", format!("/cases/{case}/timeline"), None),
        (
            "POST",
            format!("/api/cases/{case}/reports"),
            Some(demo_report()),
        ),
        (
            "POST",
            format!("/api/cases/{case}/policy"),
            Some(json!({"policy": "recovery-first", "decided_by": "x"})),
        ),
        (
            "POST",
            format!("/api/cases/{case}/phase"),
            Some(json!({"phase": "first-aid"})),
        ),
        (
            "POST",
            format!("/api/cases/{case}/evidence"),
            Some(json!({"label": "USB", "kind": "medium"})),
        ),
        (
            "POST",
            format!("/api/evidence/{item}/custody"),
            Some(json!({"action": "sealed", "seal": "S-1"})),
        ),
        (
            "POST",
            format!("/api/cases/{case}/appi"),
            Some(json!({"discovered_on": "2026-11-21"})),
        ),
        (
            "POST",
            format!("/api/cases/{case}/quotes"),
            Some(json!({"lines": [{"code": "device-examination", "quantity": 2}]})),
        ),
        (
            "POST",
            format!("/api/tasks/{task}/done"),
            Some(json!({"done": true})),
        ),
    ];
    for (method, path, body) in &gated {
        let r = h.call(method, path, Some(&admin), body.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(r.json()["error"], "nda-required");
    }
    // Intake data stays editable before the NDA; a new type brings its playbook tasks.
    let r = h
        .call(
            "POST",
            &format!("/api/cases/{case}/intake"),
            Some(&admin),
            Some(json!({"title": "Intake edited", "types": ["ransomware", "leak"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["types"], json!(["ransomware", "leak"]));
    let all_tasks = h.store.tasks_in_scope(&Scope::all(), case).await.unwrap();
    let leak_tasks = ir110_playbook::tasks(ir110_model::IncidentType::Leak)
        .unwrap()
        .len();
    let ransomware_tasks = ir110_playbook::tasks(ir110_model::IncidentType::Ransomware)
        .unwrap()
        .len();
    assert_eq!(all_tasks.len(), ransomware_tasks + leak_tasks);
    let refused = h.store.case_audit(case).await.unwrap();
    assert_eq!(
        refused.iter().filter(|e| e.action == "nda.refused").count(),
        gated.len() + 1,
        "every refusal (and the gated case page) is audited"
    );
    assert_eq!(
        h.store.count_findings(case).await.unwrap(),
        0,
        "nothing was imported"
    );
    let all = Scope::all();
    let k = h
        .store
        .case_in_scope(&all, case)
        .await
        .unwrap()
        .unwrap()
        .case;
    assert_eq!((k.phase, k.policy), (ir110_model::Phase::Intake, None));
    let items = h.store.evidence_of_case_in_scope(&all, case).await.unwrap();
    assert_eq!(items.len(), 1, "no evidence registered");
    assert!(
        h.store
            .custody_in_scope(&all, item)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(h.store.appi_in_scope(&all, case).await.unwrap().is_none());
    assert!(
        h.store
            .quotes_in_scope(&all, case)
            .await
            .unwrap()
            .is_empty()
    );
    let tasks = h.store.tasks_in_scope(&all, case).await.unwrap();
    assert!(tasks.iter().all(|t| t.done_at.is_none()), "no task ticked");
    h.call(
        "POST",
        &format!("/api/clients/{client}/nda"),
        Some(&admin),
        Some(json!({"signed_on": "2026-11-25"})),
    )
    .await;
    let r = h
        .call(
            "POST",
            &format!("/api/cases/{case}/reports"),
            Some(&admin),
            Some(demo_report()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["import"]["findings"], 3);
    let v = h
        .call("GET", "/api/audit/verify", Some(&admin), None)
        .await
        .json();
    assert_eq!(v["first_broken"], Value::Null);
}

async fn tokens_are_scoped(h: &Harness) {
    let w = world(h).await;
    let resp_a = &w.resp_a;
    let token = |scope: &str, client: Option<i64>| {
        let body = json!({"name": scope, "scope": scope, "client_id": client});
        async move {
            let r = h
                .call("POST", "/api/tokens", Some(resp_a), Some(body))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            let v = r.json();
            assert!(v["token"].as_str().unwrap().starts_with("ir110_"));
            v["token"].as_str().unwrap().to_owned()
        }
    };
    let upload = token("upload", None).await;
    let read = token("read", None).await;
    // The store keeps only digests.
    assert!(h.store.token(&upload).await.unwrap().is_none());
    let case = w.a.case;
    let r = h
        .call_token(
            "POST",
            &format!("/api/cases/{case}/reports"),
            &upload,
            Some(demo_report()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.json()["findings"]["updated"],
        3,
        "same findings: updated, not duplicated"
    );
    let r = h
        .call_token(
            "POST",
            &format!("/api/cases/{}/reports", w.b.case),
            &upload,
            Some(demo_report()),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h
        .call_token("POST", "/api/clients", &upload, Some(json!({"name": "x"})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = h
        .call_token(
            "POST",
            &format!("/api/cases/{case}/reports"),
            &read,
            Some(demo_report()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = h
        .call_token(
            "GET",
            &format!("/api/cases/{case}/timeline?limit=7"),
            &read,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let page = r.json();
    assert_eq!(page["events"].as_array().unwrap().len(), 7);
    assert!(page["events"][0]["recorded_at"].is_string());
    assert_eq!(
        h.call_token("GET", "/api/me", "ir110_nope", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // A token for another client of the user: narrowed.
    let other = h
        .call(
            "POST",
            "/api/tokens",
            Some(&w.resp_a),
            Some(json!({"name": "x", "scope": "read", "client_id": w.b.client})),
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    // A viewer may hold a read token only.
    let r = h
        .call(
            "POST",
            "/api/tokens",
            Some(&w.viewer_a),
            Some(json!({"name": "v", "scope": "upload"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn appi_deadlines_and_quotes(h: &Harness) {
    let w = world(h).await;
    let r = h
        .call(
            "GET",
            &format!("/api/cases/{}/appi", w.a.case),
            Some(&w.viewer_a),
            None,
        )
        .await
        .json();
    assert_eq!(r["deadlines"]["preliminary_by"], "2026-11-25");
    assert_eq!(r["deadlines"]["final_by"], "2027-01-19");
    let list = h
        .call("GET", "/api/deadlines", Some(&w.resp_a), None)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1, "only A's case");
    let all = h
        .call("GET", "/api/deadlines", Some(&w.admin), None)
        .await
        .json();
    assert_eq!(
        all.as_array().unwrap().len(),
        2,
        "cross-client for the administrator"
    );
    let page = h.call("GET", "/deadlines", Some(&w.admin), None).await;
    assert!(page.body.contains("2027-01-19"));
    let q = h
        .call("POST", &format!("/api/cases/{}/quotes", w.a.case), Some(&w.resp_a),
            Some(json!({"lines": [{"code": "device-examination", "quantity": 3}, {"code": "emergency-advice", "quantity": 1}]})))
        .await
        .json();
    assert_eq!(
        (
            q["subtotal"].as_i64(),
            q["tax"].as_i64(),
            q["total"].as_i64()
        ),
        (Some(950_000), Some(95_000), Some(1_045_000))
    );
    let id = q["id"].as_i64().unwrap();
    let ja = h
        .call(
            "GET",
            &format!("/quotes/{id}?lang=ja"),
            Some(&w.viewer_a),
            None,
        )
        .await
        .body;
    assert!(ja.contains("御見積書") && ja.contains("¥1,045,000") && ja.contains("端末調査"));
    assert!(
        ja.contains("登録番号 T0000000000000"),
        "issuer on the quote"
    );
    let en = h
        .call(
            "GET",
            &format!("/quotes/{id}?lang=en"),
            Some(&w.viewer_a),
            None,
        )
        .await
        .body;
    assert!(en.contains("Quotation") && en.contains("Device examination"));
    let bad = h
        .call(
            "POST",
            &format!("/api/cases/{}/quotes", w.a.case),
            Some(&w.resp_a),
            Some(json!({"lines": [{"code": "nope", "quantity": 1}]})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Viewers read but never write.
    let r = h
        .call(
            "POST",
            &format!("/api/cases/{}/phase", w.a.case),
            Some(&w.viewer_a),
            Some(json!({"phase": "closed"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn forms_redirect_and_errors_render_for_browsers(h: &Harness) {
    let w = world(h).await;
    let r = h
        .form(
            &format!("/api/cases/{}/phase", w.a.case),
            Some(&w.resp_a.cookie),
            &[("csrf", &w.resp_a.csrf), ("phase", "preservation")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers["location"], format!("/cases/{}", w.a.case));
    let r = h
        .form(
            &format!("/api/cases/{}/phase", w.b.case),
            Some(&w.resp_a.cookie),
            &[("csrf", &w.resp_a.csrf), ("phase", "preservation")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.body.contains("<!doctype html>") && r.body.contains("見つかりません"),
        "{}",
        r.body
    );
    let r = h.form("/api/clients", None, &[("name", "x")]).await;
    assert_eq!(
        (r.status, r.headers["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/login")
    );
    // Times are shown in JST: the demo's first event is 2026-11-20 01:00 UTC.
    let t = h
        .call(
            "GET",
            &format!("/cases/{}/timeline", w.a.case),
            Some(&w.viewer_a),
            None,
        )
        .await
        .body;
    assert!(t.contains("2026-11-20 10:00:00 JST"), "{t}");
    let p = h
        .call(
            "GET",
            &format!("/cases/{}", w.a.case),
            Some(&w.viewer_a),
            None,
        )
        .await
        .body;
    assert!(p.contains("FS01 で 412 件のファイルが暗号化されています"));
    assert!(
        p.contains("2026-11-25"),
        "APPI preliminary deadline on the case page"
    );
    assert!(!p.contains("name=\"phase\""), "no write forms for a viewer");
}

/// What an administrator can read about the world, plus the row counts of every table: equal
/// before and after means nothing changed.
async fn snapshot(h: &Harness, w: &World) -> (Vec<String>, Vec<(&'static str, i64)>) {
    let (case, client) = (w.a.case, w.a.client);
    let paths = [
        "/api/clients".to_owned(),
        format!("/api/clients/{client}"),
        "/api/cases".to_owned(),
        format!("/api/cases/{case}"),
        format!("/api/cases/{case}/tasks"),
        format!("/api/cases/{case}/appi"),
        format!("/api/cases/{case}/findings"),
        format!("/api/cases/{case}/timeline"),
        format!("/api/cases/{case}/evidence"),
        format!("/api/evidence/{}/custody", w.a.evidence),
        format!("/api/cases/{case}/quotes"),
        "/api/users".to_owned(),
        "/api/audit".to_owned(),
    ];
    let mut bodies = Vec::new();
    for p in paths {
        let r = h.call("GET", &p, Some(&w.admin), None).await;
        assert_eq!(r.status, StatusCode::OK, "{p}: {}", r.body);
        bodies.push(format!("{p} {}", r.body));
    }
    (bodies, h.row_counts().await)
}

/// Asserts that [`snapshot`] is as `before`, naming what changed (not dumping it all).
async fn assert_unchanged(
    h: &Harness,
    w: &World,
    before: &(Vec<String>, Vec<(&'static str, i64)>),
    what: &str,
) {
    let now = snapshot(h, w).await;
    assert_eq!(now.1, before.1, "{what}: row counts changed");
    for (now, was) in now.0.iter().zip(&before.0) {
        let path = was.split(' ').next().unwrap_or("");
        assert!(now == was, "{what}: {path} changed");
    }
}

/// Every write route makes its change and its audit entry in one transaction: with the audit
/// log refusing inserts, each answers 500 and leaves everything as it was (objects, rows,
/// sessions); a write refused for scope leaves no audit entry; once repaired, a write adds
/// exactly one entry and the chain verifies.
async fn every_write_rolls_back_when_its_audit_fails(h: &Harness) {
    let w = world(h).await;
    let before = snapshot(h, &w).await;
    let audit = |r: &harness::Reply| r.json()["entries"].as_i64().unwrap();
    let entries = audit(
        &h.call("GET", "/api/audit/verify", Some(&w.admin), None)
            .await,
    );
    // Refused for scope: 404, and nothing audited.
    let refused = h
        .call(
            "POST",
            &format!("/api/cases/{}/phase", w.b.case),
            Some(&w.resp_a),
            Some(json!({"phase": "first-aid"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    assert_unchanged(h, &w, &before, "refused for scope").await;
    let (login_cookie, login_csrf) = h.login_form(None).await;
    h.break_audit_log(true).await;
    let mut checked = 0;
    for (n, route) in ROUTES.iter().enumerate() {
        if route.method != "POST" {
            continue;
        }
        let r = if route.path == "/login" {
            h.form(
                "/login",
                Some(&login_cookie),
                &[
                    ("csrf", &login_csrf),
                    ("name", "admin"),
                    ("password", PASSWORD),
                ],
            )
            .await
        } else {
            let path = path_for(route, &w.a);
            h.call("POST", &path, Some(&w.admin), body_for(route, &w, n))
                .await
        };
        assert_eq!(
            r.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{} {}: {}",
            route.method,
            route.path,
            r.body
        );
        assert!(
            r.set_cookie("ir110_session").is_none(),
            "{}: no new session",
            route.path
        );
        assert_unchanged(h, &w, &before, route.path).await;
        checked += 1;
    }
    assert_eq!(checked, 18, "every POST route");
    // A wrong password is audited too: with the log broken it is not counted either.
    let (cookie, csrf) = h.login_form(None).await;
    let wrong = h
        .form(
            "/login",
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("name", "admin"),
                ("password", "wrong password!"),
            ],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        wrong.body
    );
    assert_unchanged(h, &w, &before, "wrong password").await;
    // The admin's session survived the failed logout.
    assert_eq!(
        h.call("GET", "/api/me", Some(&w.admin), None).await.status,
        StatusCode::OK
    );
    h.break_audit_log(false).await;
    let moved = h
        .call(
            "POST",
            &format!("/api/cases/{}/phase", w.a.case),
            Some(&w.admin),
            Some(json!({"phase": "first-aid"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let verdict = h
        .call("GET", "/api/audit/verify", Some(&w.admin), None)
        .await;
    assert_eq!(audit(&verdict), entries + 1);
    assert_eq!(verdict.json()["first_broken"], Value::Null);
}
