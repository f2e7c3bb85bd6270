//! Test harness: an app over a fresh store (SQLite file, or a fresh PostgreSQL schema), users
//! of every role, a world of two clients, and requests through `oneshot` (no socket).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::Utc;
use ir110_server::{AppState, Config, app};
use ir110_store::{Role, Store};
use serde_json::Value;
use sqlx::Connection;
use tower::ServiceExt;

pub const PG_ENV: &str = "IR110_TEST_POSTGRES_URL";
pub const PASSWORD: &str = "correct horse battery staple";

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
    /// The value of the cookie `name` this response sets.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.strip_prefix(&format!("{name}="))
                    .map(|r| r.split(';').next().unwrap_or("").to_owned())
            })
    }
}

/// A logged-in browser: its session cookie and CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub struct Harness {
    pub app: Router,
    pub store: Store,
    dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
    pub peer: SocketAddr,
}

impl Harness {
    pub async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("s.db").display()))
            .await
            .unwrap();
        Harness::over(store, Some(dir), None)
    }

    pub async fn postgres(test: &str) -> Option<Harness> {
        let Ok(admin_url) = std::env::var(PG_ENV) else {
            eprintln!("skipped {test} on PostgreSQL: {PG_ENV} is not set");
            return None;
        };
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let schema = format!(
            "srv_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            Utc::now().timestamp_subsec_nanos()
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let store = Store::open(&format!(
            "{admin_url}{sep}options=-c%20search_path%3D{schema}"
        ))
        .await
        .unwrap();
        Some(Harness::over(store, None, Some((admin_url, schema))))
    }

    fn over(store: Store, dir: Option<tempfile::TempDir>, pg: Option<(String, String)>) -> Harness {
        let config = Config::new("127.0.0.1:0".parse().unwrap()).unwrap();
        let state = AppState::new(config, store.clone());
        Harness {
            app: app(state),
            store,
            dir,
            pg,
            peer: "192.0.2.10:40000".parse().unwrap(),
        }
    }

    /// Runs SQL behind the store's back (tests that break the database on purpose).
    pub async fn raw(&self, sql: &str) {
        match (&self.pg, &self.dir) {
            (Some((admin_url, schema)), _) => {
                let mut c = sqlx::PgConnection::connect(admin_url).await.unwrap();
                sqlx::raw_sql(&format!("SET search_path TO {schema}; {sql}"))
                    .execute(&mut c)
                    .await
                    .unwrap();
                c.close().await.unwrap();
            }
            (None, Some(dir)) => {
                let url = format!("sqlite://{}", dir.path().join("s.db").display());
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
                c.close().await.unwrap();
            }
            (None, None) => panic!("no database to reach behind the store"),
        }
    }

    /// Makes every insert into the audit log fail (as a full disk would), or repairs it.
    pub async fn break_audit_log(&self, broken: bool) {
        let sql = match (self.pg.is_some(), broken) {
            (false, true) => {
                "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log \
                 BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END"
            }
            (false, false) => "DROP TRIGGER audit_fails",
            (true, true) => {
                "CREATE FUNCTION audit_fails() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$; \
                 CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log \
                 FOR EACH ROW EXECUTE FUNCTION audit_fails()"
            }
            (true, false) => "DROP TRIGGER audit_fails ON audit_log; DROP FUNCTION audit_fails()",
        };
        self.raw(sql).await;
    }

    /// Rows in every table a write route may touch (sessions aside), for "nothing changed"
    /// checks together with the objects' JSON.
    pub async fn row_counts(&self) -> Vec<(&'static str, i64)> {
        const TABLES: [&str; 15] = [
            "clients",
            "cases",
            "case_tasks",
            "response_log",
            "evidence",
            "custody_events",
            "findings",
            "events",
            "report_imports",
            "appi_clocks",
            "quotes",
            "users",
            "user_clients",
            "api_tokens",
            "login_failures",
        ];
        let mut out = Vec::new();
        for t in TABLES {
            let sql = format!("SELECT COUNT(*) FROM {t}");
            let n: i64 = match (&self.pg, &self.dir) {
                (Some((admin_url, schema)), _) => {
                    let mut c = sqlx::PgConnection::connect(admin_url).await.unwrap();
                    sqlx::raw_sql(&format!("SET search_path TO {schema}"))
                        .execute(&mut c)
                        .await
                        .unwrap();
                    let n = sqlx::query_scalar(&sql).fetch_one(&mut c).await.unwrap();
                    c.close().await.unwrap();
                    n
                }
                (None, Some(dir)) => {
                    let url = format!("sqlite://{}", dir.path().join("s.db").display());
                    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                    let n = sqlx::query_scalar(&sql).fetch_one(&mut c).await.unwrap();
                    c.close().await.unwrap();
                    n
                }
                (None, None) => panic!("no database to reach behind the store"),
            };
            out.push((t, n));
        }
        out
    }

    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, schema)) = self.pg {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut admin)
                .await
                .unwrap();
            admin.close().await.unwrap();
        }
    }

    /// Sends a request. `body` is JSON unless `form` is set (then urlencoded text).
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let mut req = req;
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A request as a session (cookie + CSRF header) or anonymous.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        session: Option<&Session>,
        json: Option<Value>,
    ) -> Reply {
        let mut b = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path);
        if let Some(s) = session {
            b = b
                .header(header::COOKIE, format!("ir110_session={}", s.cookie))
                .header("x-csrf-token", &s.csrf);
        }
        let body = match json {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).unwrap()).await
    }

    /// A request with a bearer token.
    pub async fn call_token(
        &self,
        method: &str,
        path: &str,
        token: &str,
        json: Option<Value>,
    ) -> Reply {
        let mut b = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        let body = match json {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).unwrap()).await
    }

    /// A form post as a browser (`Accept: text/html`).
    pub async fn form(&self, path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Reply {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut b = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, format!("ir110_session={c}"));
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    /// `GET /login`: the pre-login session cookie and the form's CSRF token.
    pub async fn login_form(&self, cookie: Option<&str>) -> (String, String) {
        let mut b = Request::builder().uri("/login");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, format!("ir110_session={c}"));
        }
        let r = self.send(b.body(Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let csrf = r
            .body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned();
        let cookie = r
            .set_cookie("ir110_session")
            .or(cookie.map(str::to_owned))
            .unwrap();
        (cookie, csrf)
    }

    /// Logs in through the form; panics unless it succeeds.
    pub async fn login(&self, name: &str) -> Session {
        let (cookie, csrf) = self.login_form(None).await;
        let r = self
            .form(
                "/login",
                Some(&cookie),
                &[("csrf", &csrf), ("name", name), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let cookie = r.set_cookie("ir110_session").unwrap();
        let me = self
            .call(
                "GET",
                "/cases",
                Some(&Session {
                    cookie: cookie.clone(),
                    csrf: String::new(),
                }),
                None,
            )
            .await;
        let csrf = me
            .body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned();
        Session { cookie, csrf }
    }

    /// The `Set-Cookie` header of the session cookie in a login answer.
    pub fn headers_of_login(&self, r: &Reply) -> String {
        r.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("ir110_session="))
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn user(&self, name: &str, role: Role, client: Option<i64>) -> i64 {
        ir110_server::add_user(&self.store, name, role, client, PASSWORD, "test")
            .await
            .unwrap()
            .id
    }
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A `report.json` as `ir110 triage` writes it (schema 1.0): real model findings and events,
/// a ransomware incident on two hosts.
pub fn demo_report() -> Value {
    use chrono::TimeZone;
    use ir110_model::{Category, Event, Finding, Message, Severity, SourceRef};
    let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 1, 30, 0).unwrap();
    let findings = [
        Finding::new(
            "ransomware",
            "ransomware.encrypted",
            Severity::Critical,
            Category::Ransomware,
            Message::new("ransomware.encrypted.title").arg("count", 412),
        )
        .key("FS01")
        .host("FS01")
        .seen(t0)
        .confidence(ir110_model::Confidence::High)
        .evidence(SourceRef::file("//FS01/share/経理/請求書.xlsx.locked"))
        .attack("T1486"),
        Finding::new(
            "eventlog",
            "eventlog.brute-force-then-success",
            Severity::High,
            Category::CredentialAccess,
            Message::new("eventlog.brute-force.title").arg("account", "administrator"),
        )
        .key("administrator")
        .host("FS01")
        .seen(t0 - chrono::Duration::hours(3))
        .attack("T1110"),
        Finding::new(
            "eventlog",
            "eventlog.log-cleared",
            Severity::Medium,
            Category::DefenseEvasion,
            Message::new("eventlog.log-cleared.title"),
        )
        .key("PC-03")
        .host("PC-03")
        .seen(t0),
    ];
    let titles = [
        "FS01 で 412 件のファイルが暗号化されています",
        "administrator へのパスワード総当たりの後にログオン成功",
        "PC-03 でイベントログが消去されました",
    ];
    let report_findings: Vec<Value> = findings
        .iter()
        .zip(titles)
        .map(|(f, t)| {
            let mut v = serde_json::to_value(f).unwrap();
            v["title_text"] = t.into();
            v
        })
        .collect();
    let timeline: Vec<Value> = (0..30)
        .map(|i| {
            serde_json::to_value(
                Event::new(
                    t0 - chrono::Duration::minutes(30 - i),
                    "eventlog",
                    "logon-failed",
                    SourceRef::at(
                        "C:/Windows/System32/winevt/Logs/Security.evtx",
                        format!("record {}", 1000 + i),
                    ),
                    format!("4625 administrator from 203.0.113.{i}"),
                )
                .host("FS01"),
            )
            .unwrap()
        })
        .collect();
    serde_json::json!({
        "schema_version": "1.0",
        "tool": "ir110",
        "tool_version": "0.1.0",
        "generated_at": t0.to_rfc3339(),
        "lang": "ja",
        "case": null,
        "run": {"inputs": ["evidence"], "started_at": t0.to_rfc3339(), "finished_at": t0.to_rfc3339()},
        "summary": {"findings_by_severity": {}, "findings_total": 3, "events_total": 30, "headline": "demo"},
        "immediate_actions": [],
        "findings": report_findings,
        "timeline": timeline,
        "timeline_omitted": 0,
        "hosts": [],
        "files": [],
        "coverage": {}
    })
}
