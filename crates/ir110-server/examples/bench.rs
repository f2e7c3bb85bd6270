//! Bounded load test of the case-management server on loopback.
//!
//! ```text
//! cargo run -p ir110-server --example bench -- /tmp/ir110-bench.db [cases] [events]
//! ```
//!
//! Seeds the SQLite store at the path on first use (default 10,000 cases over 100 clients, and
//! 1,000,000 timeline events spread evenly over the cases), then starts the server on
//! 127.0.0.1 (ephemeral port) and sends a fixed number of requests over 8 keep-alive
//! connections to the case list, a case page and a timeline page, printing requests per second
//! and latency percentiles. Bounded: 2,000 requests per URL, 30 s at most per URL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark script: fail loudly

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ir110_model::{Event, IncidentType, SourceRef};
use ir110_server::{AppState, Config};
use ir110_store::{ClientRef, NewCase, Role, Store, TokenScope};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const CONNECTIONS: usize = 8;
const REQUESTS_PER_URL: usize = 2_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().expect("usage: bench DB [cases] [events]"));
    let cases: usize = args.next().map_or(10_000, |a| a.parse().unwrap());
    let events: usize = args.next().map_or(1_000_000, |a| a.parse().unwrap());
    let fresh = !path.exists();
    let store = Store::open_sqlite(&path).await.unwrap();
    if fresh {
        seed(&store, cases, events).await;
    }
    // A token for an administrator, made fresh each run (only its digest is stored).
    let token = format!(
        "ir110_bench{}",
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    let admin = match store.user_credentials("bench").await.unwrap() {
        Some((u, _)) => u,
        None => store
            .create_user("bench", Role::Admin, None, "$argon2id$unused")
            .await
            .unwrap(),
    };
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()));
    store
        .create_token(admin.id, "bench", &digest, TokenScope::Read, None)
        .await
        .unwrap();
    let page = store
        .cases_page(&ir110_store::Scope::all(), None, 1)
        .await
        .unwrap();
    let case_id = page.cases[0].case.id;
    println!("store: {} cases", page.total);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(Config::new(addr).unwrap(), store);
    tokio::spawn(ir110_server::serve_on(
        listener,
        state,
        std::future::pending(),
    ));
    let mut urls = vec![
        "/cases".to_owned(),
        "/api/cases".to_owned(),
        format!("/cases/{case_id}"),
        format!("/cases/{case_id}/timeline"),
        format!("/api/cases/{case_id}/timeline?limit=100"),
    ];
    if cases == 1 {
        // One case holding every event: the last page, by key (events were stored in time
        // order, ids from 1), costs what the first costs.
        let last = events as i64 - 100;
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let ts = (t0 + chrono::Duration::seconds(last - 1)).timestamp_micros();
        urls.push(format!(
            "/api/cases/{case_id}/timeline?limit=100&after={ts}:{last}"
        ));
        urls.push(format!("/cases/{case_id}/timeline?after={ts}:{last}"));
    }
    for url in urls {
        let mut tasks = Vec::new();
        let started = Instant::now();
        let deadline = started + Duration::from_secs(30);
        for _ in 0..CONNECTIONS {
            let url = url.clone();
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let stream = TcpStream::connect(addr).await.unwrap();
                let mut stream = BufReader::new(stream);
                for _ in 0..REQUESTS_PER_URL / CONNECTIONS {
                    if Instant::now() > deadline {
                        break;
                    }
                    let t = Instant::now();
                    let req = format!(
                        "GET {url} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
                    );
                    stream.get_mut().write_all(req.as_bytes()).await.unwrap();
                    let mut status = String::new();
                    stream.read_line(&mut status).await.unwrap();
                    assert!(status.contains(" 200 "), "{url}: {status}");
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        stream.read_line(&mut line).await.unwrap();
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    stream.read_exact(&mut body).await.unwrap();
                    latencies.push(t.elapsed());
                }
                latencies
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let secs = started.elapsed().as_secs_f64();
        if all.is_empty() {
            println!("{url}: no request finished");
            continue;
        }
        all.sort();
        let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
        println!(
            "{url:<42} {:>6} req  {:>8.0} req/s  p50 {:>7.2?}  p95 {:>7.2?}  p99 {:>7.2?}",
            all.len(),
            all.len() as f64 / secs,
            pct(0.50),
            pct(0.95),
            pct(0.99)
        );
    }
}

async fn seed(store: &Store, cases: usize, events: usize) {
    let started = Instant::now();
    let per_case = events / cases.max(1);
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let nda = chrono::NaiveDate::from_ymd_opt(2026, 1, 1);
    let mut clients = Vec::new();
    for c in 0..100 {
        clients.push(
            store
                .create_client(&format!("株式会社ベンチ{c:03}"), nda, "")
                .await
                .unwrap()
                .id,
        );
    }
    for i in 0..cases {
        let case = store
            .create_case(
                NewCase::new(
                    ClientRef::Id(clients[i % clients.len()]),
                    format!("案件 {i}"),
                )
                .types([IncidentType::Ransomware]),
            )
            .await
            .unwrap();
        // In chunks, so that a one-case million-event timeline is not built in memory at once.
        for start in (0..per_case).step_by(50_000) {
            let batch: Vec<Event> = (start..(start + 50_000).min(per_case))
                .map(|j| {
                    Event::new(
                        t0 + chrono::Duration::seconds((i * per_case + j) as i64),
                        "eventlog",
                        "logon-failed",
                        SourceRef::at("Security.evtx", format!("record {j}")),
                        format!("4625 administrator from 203.0.113.{}", j % 250),
                    )
                    .host(format!("PC-{:03}", j % 50))
                })
                .collect();
            store
                .import_report(
                    &ir110_store::Scope::all(),
                    case.id,
                    "bench",
                    "seed",
                    "bench",
                    &[],
                    &batch,
                )
                .await
                .unwrap()
                .unwrap();
        }
        if i % 1000 == 999 {
            println!("seeded {} cases in {:.0?}", i + 1, started.elapsed());
        }
    }
    println!(
        "seeded {cases} cases and {} events in {:.0?}",
        per_case * cases,
        started.elapsed()
    );
}
