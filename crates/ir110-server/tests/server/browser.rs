//! A real browser (Debian's chromium, headless, driven by playwright-core from Node) through
//! the UI of a server listening on 127.0.0.1 (ephemeral port; loopback only). Screenshots are
//! kept in `target/ir110-server-browser/` as test artefacts.

use std::path::{Path, PathBuf};
use std::process::Command;

use ir110_server::{AppState, Config};
use ir110_store::{Role, Store};

use crate::harness::{PASSWORD, demo_report};

fn tool(name: &str) -> bool {
    Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_walks_through_a_case() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !tool("node") || !Path::new("/usr/bin/chromium").exists() {
        // CI installs them (.ci/packages.sh): there a missing browser is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "node or /usr/bin/chromium missing in CI"
        );
        eprintln!(
            "skipped: node or /usr/bin/chromium missing (bash .ci/packages.sh installs them)"
        );
        return;
    }
    if !here.join("node_modules/playwright-core").exists() {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&here)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "npm ci: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("b.db")).await.unwrap();
    ir110_server::add_user(&store, "yamada", Role::Responder, None, PASSWORD, "test")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(Config::new(addr).unwrap(), store);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ir110_server::serve_on(listener, state, async {
        let _ = stopped.await;
    }));
    let report = dir.path().join("report.json");
    std::fs::write(&report, serde_json::to_vec_pretty(&demo_report()).unwrap()).unwrap();
    let shots: PathBuf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ir110-server-browser");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = dir.path().join("chromium-profile");
    let url = format!("http://{addr}");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("browser.mjs")
            .args([url.as_str(), "yamada", PASSWORD])
            .arg(&report)
            .arg(&shots)
            .arg(&profile)
            .current_dir(&here)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    assert!(
        out.status.success(),
        "browser run failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
}
