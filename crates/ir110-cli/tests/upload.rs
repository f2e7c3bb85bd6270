//! The CLI against a running case-management server, on loopback only (127.0.0.1, ephemeral
//! ports): `ir110 triage --upload` end to end (findings and timeline arrive in the case with
//! exact counts; every failure says what to do next) and `ir110 serve`'s graceful shutdown.
//! Nothing here sends traffic anywhere but 127.0.0.1; proxy variables are removed from every
//! child so that loopback requests go straight to the server.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use ir110_model::{Catalog, Lang};
use ir110_store::{ClientRef, NewCase, Role, Scope, Store, TokenScope, User};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";

/// An in-process server over a fresh SQLite store, with two clients with an NDA (A, B), one
/// without (C), a case each, and a responder granted A and C.
struct Server {
    rt: tokio::runtime::Runtime,
    store: Store,
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    dir: tempfile::TempDir,
    responder: User,
    case_a: i64,
    case_b: i64,
    case_c: i64,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let db = format!("sqlite://{}", dir.path().join("server/ir110.db").display());
        let store = rt.block_on(Store::open(&db)).unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback());
        let config = ir110_server::Config::new(addr).unwrap();
        let state = ir110_server::AppState::new(config, store.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        rt.spawn(ir110_server::serve_on(listener, state, async {
            let _ = stopped.await;
        }));
        let (responder, case_a, case_b, case_c) = rt.block_on(async {
            let nda = NaiveDate::from_ymd_opt(2026, 11, 1);
            let a = store.create_client("Alpha", nda, "").await.unwrap().id;
            let b = store.create_client("Bravo", nda, "").await.unwrap().id;
            let c = store.create_client("Charlie", None, "").await.unwrap().id;
            let mut cases = Vec::new();
            for (client, title) in [(a, "A"), (b, "B"), (c, "C")] {
                let case = NewCase::new(ClientRef::Id(client), title);
                cases.push(store.create_case(case).await.unwrap().id);
            }
            let responder =
                ir110_server::add_user(&store, "resp", Role::Responder, None, PASSWORD, "test")
                    .await
                    .unwrap();
            store.grant_client(responder.id, a).await.unwrap();
            store.grant_client(responder.id, c).await.unwrap();
            (responder, cases[0], cases[1], cases[2])
        });
        Server {
            rt,
            store,
            url: format!("http://{addr}"),
            stop: Some(stop),
            dir,
            responder,
            case_a,
            case_b,
            case_c,
        }
    }

    /// A new API token of the responder.
    fn token(&self, scope: TokenScope) -> String {
        let (token, _) = self
            .rt
            .block_on(ir110_server::create_token(
                &self.store,
                &self.responder,
                "triage laptop",
                scope,
                None,
            ))
            .unwrap();
        token
    }

    /// `(findings, events)` of a case, read from the store.
    fn counts(&self, case: i64) -> (i64, i64) {
        self.rt
            .block_on(self.store.counts_in_scope(&Scope::all(), case))
            .unwrap()
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The `ir110` binary with its own store and no proxy, English messages.
fn ir110(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ir110"));
    cmd.args(["--lang", "en", "--no-progress"])
        .args(args)
        .env(
            "IR110_DB",
            format!("sqlite://{}", dir.join("cli/ir110.db").display()),
        )
        .env_remove("IR110_TOKEN")
        .stdin(Stdio::null());
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(v);
    }
    cmd
}

/// Runs and checks the exit code, showing everything when it differs.
fn run(cmd: &mut Command, code: i32) -> Output {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{cmd:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The demo incident's evidence triaged and uploaded: the case on the server holds exactly
/// the report's findings and timeline, the import records the exact bytes sent, and uploading
/// the same report again updates the findings without doubling the timeline.
#[test]
fn triage_uploads_its_report_into_the_case() {
    let s = Server::start();
    let demo = s.path("demo");
    run(
        &mut ir110(s.dir.path(), &["demo", demo.to_str().unwrap(), "--no-case"]),
        0,
    );
    let evidence = demo.join("evidence");
    let token = s.token(TokenScope::Upload);
    let out_dir = s.path("out");
    let case = s.case_a.to_string();
    // The token from the environment, as the help recommends.
    let out = run(
        ir110(
            s.dir.path(),
            &[
                "triage",
                evidence.to_str().unwrap(),
                "--host",
                "FS01",
                "--out",
                out_dir.to_str().unwrap(),
                "--upload",
                &s.url,
                "--case",
                &case,
            ],
        )
        .env("IR110_TOKEN", &token),
        0,
    );
    let bytes = std::fs::read(out_dir.join("report.json")).unwrap();
    let report: Value = serde_json::from_slice(&bytes).unwrap();
    let findings = report["summary"]["findings_total"].as_i64().unwrap();
    let events = report["summary"]["events_total"].as_i64().unwrap();
    assert!(
        findings > 0 && events > 0,
        "the demo has findings: {report}"
    );
    assert!(events <= ir110_store::EVENT_COUNT_CAP, "countable exactly");
    assert_eq!(s.counts(s.case_a), (findings, events));
    assert!(
        stderr(&out).contains(&format!(
            "Uploaded report.json to case {case} on {}: {findings} findings ({findings} new, 0 \
             updated), {events} timeline events.",
            s.url
        )),
        "{}",
        stderr(&out)
    );
    let (stored, imports, trail) = s.rt.block_on(async {
        (
            s.store
                .findings_in_scope(&Scope::all(), s.case_a)
                .await
                .unwrap(),
            s.store
                .imports_in_scope(&Scope::all(), s.case_a)
                .await
                .unwrap(),
            s.store.case_audit(s.case_a).await.unwrap(),
        )
    });
    let mut sent: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    let mut arrived: Vec<&str> = stored.iter().map(|f| f.id.as_str()).collect();
    sent.sort_unstable();
    arrived.sort_unstable();
    assert_eq!(arrived, sent);
    assert_eq!(imports.len(), 1);
    assert_eq!(
        (
            imports[0].findings,
            imports[0].events,
            imports[0].imported_by.as_str()
        ),
        (findings, events, "resp")
    );
    assert_eq!(imports[0].sha256, sha256_hex(&bytes));
    let uploads: Vec<_> = trail
        .iter()
        .filter(|e| e.action == "report.import")
        .collect();
    assert_eq!((uploads.len(), uploads[0].actor.as_str()), (1, "resp"));
    // Again, with the token as a flag: the same findings updated, the timeline not doubled.
    let again = run(
        &mut ir110(
            s.dir.path(),
            &[
                "triage",
                evidence.to_str().unwrap(),
                "--host",
                "FS01",
                "--out",
                s.path("again").to_str().unwrap(),
                "--upload",
                &format!("{}/", s.url),
                "--case",
                &case,
                "--token",
                &token,
                "--json",
            ],
        ),
        0,
    );
    assert!(
        stderr(&again).contains(&format!("(0 new, {findings} updated)")),
        "{}",
        stderr(&again)
    );
    // --json keeps stdout for the report alone.
    let printed: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(printed["summary"]["findings_total"], findings);
    assert_eq!(s.counts(s.case_a), (findings, events));
    assert_eq!(s.counts(s.case_b), (0, 0));
}

/// Every way an upload can fail ends with exit code 2 and a message that says what to do; the
/// report stays on disk, and nothing reaches a case the token may not touch.
#[test]
fn upload_failures_say_what_to_do_next() {
    let s = Server::start();
    let evidence = s.path("evidence");
    std::fs::create_dir_all(&evidence).unwrap();
    std::fs::write(evidence.join("notes.txt"), "nothing to see\n").unwrap();
    let upload = s.token(TokenScope::Upload);
    let read = s.token(TokenScope::Read);
    // A port nobody listens on: bound, then released.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let closed_url = format!("http://{closed}");
    let bad_token = format!("{upload}x");
    let (a, b, c) = (
        s.case_a.to_string(),
        s.case_b.to_string(),
        s.case_c.to_string(),
    );
    let cases: [(&str, &str, &str, &[&str]); 7] = [
        (
            &s.url,
            b.as_str(),
            upload.as_str(),
            &["is not visible to this token (HTTP 404)"],
        ),
        (
            &s.url,
            a.as_str(),
            bad_token.as_str(),
            &["refused the API token (HTTP 401)"],
        ),
        (
            &s.url,
            a.as_str(),
            read.as_str(),
            &["(HTTP 403)", "upload or write scope"],
        ),
        (
            &s.url,
            c.as_str(),
            upload.as_str(),
            &["no NDA for this case's client yet (HTTP 403)"],
        ),
        (
            &closed_url,
            a.as_str(),
            upload.as_str(),
            &["Cannot reach", "Is the server running (`ir110 serve`)"],
        ),
        (
            &s.url,
            "IR-2026-0001",
            upload.as_str(),
            &["needs --case with the server's case number"],
        ),
        (
            "ftp://127.0.0.1/",
            a.as_str(),
            upload.as_str(),
            &["is not a server address"],
        ),
    ];
    for (n, (url, case, token, expected)) in cases.iter().enumerate() {
        let out_dir = s.path(&format!("out{n}"));
        let out = run(
            &mut ir110(
                s.dir.path(),
                &[
                    "triage",
                    evidence.to_str().unwrap(),
                    "--out",
                    out_dir.to_str().unwrap(),
                    "--upload",
                    url,
                    "--case",
                    case,
                    "--token",
                    token,
                ],
            ),
            2,
        );
        let err = stderr(&out);
        for e in *expected {
            assert!(err.contains(e), "case {n}: `{e}` not in:\n{err}");
        }
        assert!(
            !err.contains(token),
            "case {n}: the token is never printed:\n{err}"
        );
        // Failures after the analysis keep the report and say where it is.
        if n < 5 {
            assert!(out_dir.join("report.json").is_file(), "case {n}");
            assert!(err.contains("report.json is kept at"), "case {n}:\n{err}");
        } else {
            assert!(!out_dir.exists(), "case {n}: refused before the analysis");
        }
    }
    // No token at all: refused before the analysis.
    let out = run(
        &mut ir110(
            s.dir.path(),
            &[
                "triage",
                evidence.to_str().unwrap(),
                "--out",
                s.path("none").to_str().unwrap(),
                "--upload",
                &s.url,
                "--case",
                &a,
            ],
        ),
        2,
    );
    assert!(
        stderr(&out).contains("--upload needs an API token: pass --token or set IR110_TOKEN"),
        "{}",
        stderr(&out)
    );
    for case in [s.case_a, s.case_b, s.case_c] {
        assert_eq!(s.counts(case), (0, 0), "case {case}");
    }
}

/// Every `ui.cli.upload.*` / `ui.cli.stop*` key the CLI sources use is in the catalogue, in
/// both languages.
#[test]
fn upload_and_serve_messages_are_in_the_catalogue() {
    let catalog = Catalog::from_sources(&[ir110_model::MESSAGES, ir110_server::MESSAGES]).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cmd");
    let mut used = 0;
    for file in ["triage.rs", "serve.rs"] {
        let text = std::fs::read_to_string(src.join(file)).unwrap();
        for (i, _) in text.match_indices("\"ui.cli.") {
            let key = text[i + 1..].split('"').next().unwrap();
            used += 1;
            for lang in [Lang::Ja, Lang::En] {
                assert!(catalog.contains(key), "{key} missing");
                assert_ne!(catalog.get(key, lang), key, "{key} in {lang}");
            }
        }
    }
    assert_eq!(used, 16);
}

/// `ir110 serve` on SIGTERM: stops accepting connections at once, finishes the request in
/// flight (whose body is still arriving), closes the store and exits 0.
#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = ir110(dir.path(), &["serve", "--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut conn = loop {
        match TcpStream::connect(&listen) {
            Ok(c) => break c,
            Err(_) if started.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("the server did not start: {e}"),
        }
    };
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // A request whose headers are in and whose body is half sent.
    let body = "name=x&password=y&csrf=z";
    let (first, rest) = body.split_at(10);
    write!(
        conn,
        "POST /login HTTP/1.1\r\nHost: {listen}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    conn.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // Stops accepting: new connections are refused.
    let started = Instant::now();
    while TcpStream::connect(&listen).is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still accepting after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The request in flight still gets its answer (403: no login-page session).
    conn.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("Stopping: no new connections"), "{err}");
    assert!(err.contains("server stopped"), "{err}");
}
