//! Measures timeline insert speed: `cargo run --release -p ir110-store --example insert_bench
//! -- [URL] [EVENTS]` (default: a temporary SQLite file, 200,000 events in batches of 10,000,
//! the way triage hands them over).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: fail loudly

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use ir110_model::{Event, SourceRef};
use ir110_store::{ClientRef, EventQuery, NewCase, Store};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir().unwrap();
    let url = args
        .next()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| ir110_store::default_sqlite_url(dir.path()));
    let total: usize = args.next().map_or(200_000, |n| n.parse().unwrap());
    let store = Store::open(&url).await.unwrap();
    let case = store
        .create_case(NewCase::new(ClientRef::name("bench"), "insert bench"))
        .await
        .unwrap();
    let base = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
    let events: Vec<Event> = (0..total)
        .map(|i| {
            Event::new(
                base + Duration::milliseconds((i * 7919 % total) as i64),
                "eventlog",
                ["logon", "logon-failed", "service-installed"][i % 3],
                SourceRef::at(
                    "C:/Windows/System32/winevt/Logs/Security.evtx",
                    format!("record {i}"),
                ),
                format!("An account was successfully logged on. (record {i})"),
            )
            .host(["DC01", "FS01", "PC-07"][i % 3])
            .field("event.code", 4624)
            .field("user.name", format!("user{}", i % 40))
            .field("source.ip", format!("10.0.{}.{}", i % 7, i % 250))
        })
        .collect();
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    for batch in events.chunks(10_000) {
        store.insert_events(case.id, batch).await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}: inserted {total} events in {secs:.2} s: {:.0} events/s",
        store.backend(),
        total as f64 / secs
    );
    // On a shared machine wall time depends on the neighbours; CPU time of this process (all
    // its threads, so an underestimate of the rate when they overlap) does not.
    if let (Some(a), Some(b)) = (cpu_before, cpu_seconds()) {
        println!(
            "{}: {:.2} CPU s in this process: {:.0} events per CPU second",
            store.backend(),
            b - a,
            total as f64 / (b - a)
        );
    }
    let started = Instant::now();
    let page = store
        .list_events(
            case.id,
            &EventQuery::new()
                .from(base + Duration::seconds(60))
                .host("FS01")
                .limit(1000),
        )
        .await
        .unwrap();
    println!(
        "{}: read a page of {} events from {} in {:.1} ms",
        store.backend(),
        page.len(),
        store.count_events(case.id).await.unwrap(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    store.close().await;
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`, 100 Hz ticks).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
