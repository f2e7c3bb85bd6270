//! The store's behaviour, asserted exactly, on every backend: SQLite (a temporary file) always,
//! PostgreSQL when `IR110_TEST_POSTGRES_URL` is set (each test in a fresh schema, so tests are
//! independent and run in parallel). `bash .ci/postgres.sh` starts a local server and prints
//! the variable.

// Test code: an unwrap that fails is a failing test with its reason printed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestDb;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use ir110_model::{
    Category, Event, Finding, IncidentType, Message, Phase, Policy, PolicyDecision, Severity,
    SourceRef,
};
use ir110_store::{
    ClientRef, Entity, EventQuery, NewCase, NewEvidence, Store, StoreError, TriageRun,
    UpsertSummary,
};

on_every_backend!(
    clients_round_trip,
    cases_get_references_types_policy_and_nda,
    phase_and_policy_changes_are_logged,
    findings_upsert_by_id_and_widen_their_window,
    events_come_back_in_time_order_and_filter_exactly,
    evidence_is_append_only_and_round_trips,
    triage_runs_round_trip,
    unknown_ids_give_not_found_with_a_hint,
    bulk_event_insert,
    concurrent_case_openers_get_distinct_references,
    log_and_evidence_refuse_changes_behind_the_api,
    damaged_rows_are_reported_as_corrupt,
    a_newer_schema_is_refused,
);

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn clients_round_trip(db: &TestDb) {
    let store = &db.store;
    let a = store
        .create_client(
            " 株式会社サンプル ",
            Some(date(2026, 3, 2)),
            "contact: 総務部",
        )
        .await
        .unwrap();
    assert_eq!(a.name, "株式会社サンプル");
    assert_eq!(a.nda_signed_on, Some(date(2026, 3, 2)));
    assert_eq!(a.notes, "contact: 総務部");
    assert!((Utc::now() - a.created_at).num_seconds().abs() < 60);
    assert_eq!(store.get_client(a.id).await.unwrap(), a);
    assert_eq!(store.client_by_name("株式会社サンプル").await.unwrap(), a);

    let b = store.create_client("Acme Ltd", None, "").await.unwrap();
    assert_eq!(b.nda_signed_on, None);
    assert_ne!(a.id, b.id);
    // By name: "Acme Ltd" sorts before the Japanese name.
    assert_eq!(
        store.list_clients().await.unwrap(),
        vec![b.clone(), a.clone()]
    );

    let dup = store
        .create_client("株式会社サンプル", None, "")
        .await
        .unwrap_err();
    assert!(
        matches!(&dup, StoreError::Conflict { what: Entity::Client, value } if value == "株式会社サンプル"),
        "{dup:?}"
    );
    assert_eq!(
        dup.to_string(),
        "client `株式会社サンプル` already exists; use the existing client or choose another name"
    );
    assert!(matches!(
        store.create_client("  ", None, "").await.unwrap_err(),
        StoreError::Invalid {
            what: "client name",
            ..
        }
    ));

    let b2 = store
        .set_client_nda(b.id, Some(date(2026, 4, 1)))
        .await
        .unwrap();
    assert_eq!(b2.nda_signed_on, Some(date(2026, 4, 1)));
    assert_eq!(store.get_client(b.id).await.unwrap(), b2);
    let b3 = store.set_client_nda(b.id, None).await.unwrap();
    assert_eq!(b3, b);

    let missing = store.client_by_name("Nobody KK").await.unwrap_err();
    assert_eq!(
        missing.to_string(),
        "client Nobody KK not found; `ir110 client list` shows the clients"
    );
}

async fn cases_get_references_types_policy_and_nda(db: &TestDb) {
    let store = &db.store;
    let year = Utc::now().year();
    let decided = PolicyDecision {
        policy: Policy::EvidenceFirst,
        decided_by: Some("社長 佐藤".to_owned()),
        decided_at: t(2026, 5, 1, 1, 30, 0),
    };
    let first = store
        .create_case(
            NewCase::new(ClientRef::name("株式会社サンプル"), "ファイルサーバ暗号化")
                .types([
                    IncidentType::Ransomware,
                    IncidentType::Leak,
                    IncidentType::Ransomware,
                ])
                .policy(decided.clone())
                .nda_date(date(2026, 5, 1)),
        )
        .await
        .unwrap();
    assert_eq!(first.reference, format!("IR-{year}-0001"));
    assert_eq!(first.client_name, "株式会社サンプル");
    assert_eq!(first.title, "ファイルサーバ暗号化");
    assert_eq!(
        first.types,
        vec![IncidentType::Ransomware, IncidentType::Leak]
    );
    assert_eq!(first.policy, Some(decided));
    assert_eq!(first.nda_date, Some(date(2026, 5, 1)));
    assert_eq!(first.phase, Phase::Intake);
    assert_eq!(first.opened_at, first.updated_at);
    assert_eq!(store.get_case(first.id).await.unwrap(), first);
    assert_eq!(
        store
            .case_by_reference(&format!(" IR-{year}-0001 "))
            .await
            .unwrap(),
        first
    );

    // The same client by name is found, not created again.
    let second = store
        .create_case(NewCase::new(
            ClientRef::name("株式会社サンプル"),
            "Web改ざん",
        ))
        .await
        .unwrap();
    assert_eq!(second.reference, format!("IR-{year}-0002"));
    assert_eq!(second.client_id, first.client_id);
    assert_eq!(second.types, vec![]);
    assert_eq!(second.policy, None);
    assert_eq!(second.nda_date, None);
    assert_eq!(store.list_clients().await.unwrap().len(), 1);

    // A hand-chosen reference that the sequence would hand out next is skipped by it.
    let fixed = store
        .create_case(
            NewCase::new(ClientRef::Id(first.client_id), "Emotet")
                .types([IncidentType::Emotet])
                .reference(format!("IR-{year}-0003")),
        )
        .await
        .unwrap();
    assert_eq!(fixed.reference, format!("IR-{year}-0003"));
    let fourth = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "VPN"))
        .await
        .unwrap();
    assert_eq!(fourth.reference, format!("IR-{year}-0004"));
    assert_ne!(fourth.client_id, first.client_id);

    let dup = store
        .create_case(
            NewCase::new(ClientRef::name("Acme Ltd"), "again").reference(format!("IR-{year}-0001")),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &dup,
            StoreError::Conflict {
                what: Entity::Case,
                ..
            }
        ),
        "{dup:?}"
    );
    assert_eq!(
        dup.to_string(),
        format!(
            "case `IR-{year}-0001` already exists; choose another reference, or leave it out to \
             get the next free one"
        )
    );
    // The failed attempt left nothing behind, and the sequence goes on where it was.
    let fifth = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "fifth"))
        .await
        .unwrap();
    assert_eq!(fifth.reference, format!("IR-{year}-0005"));

    let unknown_client = store
        .create_case(NewCase::new(ClientRef::Id(999_999), "x"))
        .await
        .unwrap_err();
    assert!(matches!(
        unknown_client,
        StoreError::NotFound {
            what: Entity::Client,
            ..
        }
    ));
    assert!(matches!(
        store
            .create_case(NewCase::new(ClientRef::name("Acme Ltd"), " "))
            .await
            .unwrap_err(),
        StoreError::Invalid {
            what: "case title",
            ..
        }
    ));

    let list = store.list_cases().await.unwrap();
    let refs: Vec<&str> = list.iter().map(|s| s.case.reference.as_str()).collect();
    let want: Vec<String> = [5, 4, 3, 2, 1]
        .iter()
        .map(|n| format!("IR-{year}-{n:04}"))
        .collect();
    assert_eq!(refs, want, "newest first");
    assert_eq!(list[4].case, first);
    assert!(list.iter().all(|s| s.findings == 0 && s.events == 0));
}

async fn phase_and_policy_changes_are_logged(db: &TestDb) {
    let store = &db.store;
    let case = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "RDP brute force"))
        .await
        .unwrap();
    let before = Utc::now() - Duration::seconds(5);
    let moved = store
        .set_phase(case.id, Phase::FirstAid, "yamada")
        .await
        .unwrap();
    assert_eq!(moved.phase, Phase::FirstAid);
    assert!(moved.updated_at >= case.updated_at);
    // Same phase again: nothing changes, nothing is logged.
    let same = store
        .set_phase(case.id, Phase::FirstAid, "yamada")
        .await
        .unwrap();
    assert_eq!(same, moved);
    store
        .set_phase(case.id, Phase::Preservation, "suzuki")
        .await
        .unwrap();

    let decision = PolicyDecision {
        policy: Policy::RecoveryFirst,
        decided_by: Some("情報システム部 田中".to_owned()),
        decided_at: t(2020, 1, 2, 3, 4, 5),
    };
    let with_policy = store
        .set_policy(case.id, &decision, "yamada")
        .await
        .unwrap();
    assert_eq!(with_policy.policy, Some(decision.clone()));
    assert_eq!(with_policy.phase, Phase::Preservation);
    let anonymous = PolicyDecision {
        policy: Policy::EvidenceFirst,
        decided_by: None,
        decided_at: t(2020, 1, 2, 4, 0, 0),
    };
    let changed = store
        .set_policy(case.id, &anonymous, "suzuki")
        .await
        .unwrap();
    assert_eq!(changed.policy, Some(anonymous));

    let call = store
        .add_log(
            case.id,
            t(2020, 1, 1, 9, 0, 0),
            "yamada",
            "first call from the client",
        )
        .await
        .unwrap();
    assert_eq!(call.case_id, case.id);
    assert_eq!(call.at, t(2020, 1, 1, 9, 0, 0));

    let log = store.list_log(case.id).await.unwrap();
    let lines: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("yamada", "first call from the client"),
            (
                "yamada",
                "policy: recovery-first (decided by 情報システム部 田中)"
            ),
            ("suzuki", "policy: evidence-first"),
            ("yamada", "phase: intake → first-aid"),
            ("suzuki", "phase: first-aid → preservation"),
        ]
    );
    assert_eq!(log[0], call);
    assert_eq!(log[1].at, decision.decided_at);
    assert!(log[3].at >= before && log[3].at <= log[4].at);
    assert!(log.iter().all(|e| e.case_id == case.id));
}

fn finding(key: &str, severity: Severity, seen: &[DateTime<Utc>]) -> Finding {
    let mut f = Finding::new(
        "eventlog",
        "eventlog.brute-force",
        severity,
        Category::CredentialAccess,
        Message::new("eventlog.brute-force.title").arg("account", key),
    )
    .key(key)
    .host("PC-01")
    .evidence(SourceRef::at(
        "C:/Windows/System32/winevt/Logs/Security.evtx",
        "record 12",
    ))
    .attack("T1110")
    .data("attempts", 120);
    for at in seen {
        f.observe(*at);
    }
    f
}

async fn findings_upsert_by_id_and_widen_their_window(db: &TestDb) {
    let store = &db.store;
    let case = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "findings"))
        .await
        .unwrap();
    let nanos = t(2026, 2, 1, 10, 0, 0) + Duration::nanoseconds(123_456_789);
    let admin = finding(
        "administrator",
        Severity::High,
        &[nanos, t(2026, 2, 1, 12, 0, 0)],
    );
    let guest = finding("guest", Severity::Medium, &[t(2026, 1, 1, 0, 0, 0)]);
    let svc = finding("svc", Severity::High, &[t(2026, 1, 15, 0, 0, 0)]);
    let undated = finding("undated", Severity::High, &[]);
    let crit = finding("root", Severity::Critical, &[t(2026, 3, 1, 0, 0, 0)]);
    let first = store
        .upsert_findings(
            case.id,
            &[admin.clone(), guest.clone(), undated.clone(), svc.clone()],
        )
        .await
        .unwrap();
    assert_eq!((first.inserted, first.updated), (4, 0));

    // Re-run: admin seen later, with new content; guest again unchanged; one new finding.
    let mut admin2 = finding(
        "administrator",
        Severity::Critical,
        &[t(2026, 2, 1, 11, 0, 0), t(2026, 2, 2, 0, 0, 0)],
    );
    admin2.data.insert("attempts".into(), 500.into());
    let second = store
        .upsert_findings(case.id, &[admin2.clone(), guest.clone(), crit.clone()])
        .await
        .unwrap();
    assert_eq!((second.inserted, second.updated), (1, 2));

    let mut merged = admin2.clone();
    merged.first_seen = Some(nanos);
    merged.last_seen = Some(t(2026, 2, 2, 0, 0, 0));
    let stored = store.list_findings(case.id).await.unwrap();
    // Critical first (by first_seen: admin 2026-02-01, root 2026-03-01), then High by
    // first_seen with the undated one last, then Medium.
    assert_eq!(stored, vec![merged, crit, svc, undated, guest]);
    assert_eq!(store.count_findings(case.id).await.unwrap(), 5);
    assert_eq!(stored[0].data["attempts"], 500);
    let summary = &store.list_cases().await.unwrap()[0];
    assert_eq!((summary.findings, summary.events), (5, 0));

    // Nothing to do is fine.
    assert_eq!(
        store.upsert_findings(case.id, &[]).await.unwrap(),
        UpsertSummary::default()
    );
}

/// `n` events over three hosts and kinds, times out of order, some sharing a time, with
/// sub-microsecond precision that only the JSON body keeps.
fn events(n: usize) -> Vec<Event> {
    let base = t(2026, 4, 1, 0, 0, 0);
    (0..n)
        .map(|i| {
            let secs = ((i * 7919) % n) as i64 / 2; // pairs share a second
            let host = ["DC01", "FS01", "PC-07"][i % 3];
            let kind = ["logon", "logon-failed", "service-installed"][(i / 3) % 3];
            Event::new(
                base + Duration::seconds(secs) + Duration::nanoseconds(17),
                "eventlog",
                kind,
                SourceRef::at("Security.evtx", format!("record {i}")),
                format!("event {i}"),
            )
            .host(host)
            .field("event.code", 4624 + (i % 3) as i64)
            .field("source.ip", format!("10.0.0.{}", i % 250))
        })
        .collect()
}

async fn events_come_back_in_time_order_and_filter_exactly(db: &TestDb) {
    let store = &db.store;
    let case = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "timeline"))
        .await
        .unwrap();
    let other = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "other"))
        .await
        .unwrap();
    let all = events(2_500); // more than one multi-row statement
    assert_eq!(store.insert_events(case.id, &all).await.unwrap(), 2_500);
    assert_eq!(store.insert_events(other.id, &all[..10]).await.unwrap(), 10);
    assert_eq!(store.insert_events(case.id, &[]).await.unwrap(), 0);
    // Storing the same timeline again (a second triage run over the same evidence) adds
    // nothing; a run that overlaps adds only what is new.
    assert_eq!(
        store.insert_events(case.id, &all[..1_200]).await.unwrap(),
        0
    );
    let mut changed = all[0].clone();
    changed.message.push_str(" (another record)");
    assert_eq!(
        store
            .insert_events(case.id, &[all[1].clone(), changed.clone()])
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.count_events(case.id).await.unwrap(), 2_501);
    let changed_back = store
        .list_events(case.id, &EventQuery::new())
        .await
        .unwrap();
    assert!(changed_back.contains(&changed), "the new event is stored");
    assert_eq!(store.count_events(other.id).await.unwrap(), 10);
    // Put the case back as the rest of this test expects it.
    let other2 = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "timeline 2"))
        .await
        .unwrap();
    let case = other2;
    assert_eq!(store.insert_events(case.id, &all).await.unwrap(), 2_500);
    assert_eq!(store.count_events(case.id).await.unwrap(), 2_500);
    assert_eq!(store.count_events(other.id).await.unwrap(), 10);

    // Expected: stable sort by time keeps insertion order among equal times.
    let mut sorted = all.clone();
    sorted.sort_by_key(|e| e.timestamp);
    let got = store
        .list_events(case.id, &EventQuery::new())
        .await
        .unwrap();
    assert_eq!(got.len(), 2_500);
    assert!(got == sorted, "full timeline differs");

    let from = t(2026, 4, 1, 0, 2, 0);
    let to = t(2026, 4, 1, 0, 5, 0);
    let q = EventQuery::new()
        .from(from)
        .to(to)
        .host("FS01")
        .kind("logon");
    let want: Vec<Event> = sorted
        .iter()
        .filter(|e| {
            e.timestamp >= from
                && e.timestamp < to
                && e.host.as_deref() == Some("FS01")
                && e.kind == "logon"
        })
        .cloned()
        .collect();
    assert_eq!(want.len(), 40); // 180 s × 2 events/s, one host in 3, one kind in 3
    assert_eq!(store.list_events(case.id, &q).await.unwrap(), want);
    assert_eq!(store.count_matching_events(case.id, &q).await.unwrap(), 40);

    let page = store
        .list_events(case.id, &q.clone().offset(5).limit(10))
        .await
        .unwrap();
    assert_eq!(page, want[5..15].to_vec());
    let tail = store
        .list_events(case.id, &EventQuery::new().offset(2_495))
        .await
        .unwrap();
    assert_eq!(tail, sorted[2_495..].to_vec());
    let head = store
        .list_events(case.id, &EventQuery::new().limit(3))
        .await
        .unwrap();
    assert_eq!(head, sorted[..3].to_vec());
    assert_eq!(
        store
            .list_events(case.id, &EventQuery::new().host("nowhere"))
            .await
            .unwrap(),
        vec![]
    );
    // `to` is exclusive: the window [t, t) is empty, [t, t+1s) holds the events at t.
    let at = sorted[100].timestamp;
    let second_start =
        t(2026, 4, 1, 0, 0, 0) + Duration::seconds((at - t(2026, 4, 1, 0, 0, 0)).num_seconds());
    assert_eq!(
        store
            .count_matching_events(
                case.id,
                &EventQuery::new().from(second_start).to(second_start)
            )
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .count_matching_events(
                case.id,
                &EventQuery::new()
                    .from(second_start)
                    .to(second_start + Duration::seconds(1))
            )
            .await
            .unwrap(),
        2
    );
    let summary = store
        .list_cases()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.case.id == case.id)
        .unwrap();
    assert_eq!(summary.events, 2_500);
}

async fn evidence_is_append_only_and_round_trips(db: &TestDb) {
    let store = &db.store;
    let case = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "evidence"))
        .await
        .unwrap();
    let hdd = store
        .add_evidence(
            &NewEvidence::new(case.id, "HDD S/N WX12", "medium", "locker 3", "yamada")
                .size(2_000_398_934_016)
                .recorded_at(t(2026, 5, 2, 8, 0, 0)),
        )
        .await
        .unwrap();
    assert_eq!(hdd.case_id, case.id);
    assert_eq!(hdd.label, "HDD S/N WX12");
    assert_eq!(hdd.kind, "medium");
    assert_eq!(hdd.location, "locker 3");
    assert_eq!(hdd.sha256, None);
    assert_eq!(hdd.size, Some(2_000_398_934_016));
    assert_eq!(hdd.recorded_at, t(2026, 5, 2, 8, 0, 0));
    assert_eq!(hdd.recorded_by, "yamada");
    let sha = "ab".repeat(32);
    let pkg = store
        .add_evidence(
            &NewEvidence::new(
                case.id,
                "package PC-01",
                "package",
                "/cases/pc01.zip",
                "suzuki",
            )
            .sha256(sha.clone()),
        )
        .await
        .unwrap();
    assert_eq!(pkg.sha256, Some(sha));
    assert_eq!(pkg.size, None);
    assert!((Utc::now() - pkg.recorded_at).num_seconds().abs() < 60);
    assert_eq!(store.list_evidence(case.id).await.unwrap(), vec![hdd, pkg]);

    let huge = store
        .add_evidence(&NewEvidence::new(case.id, "x", "file", "x", "x").size(u64::MAX))
        .await
        .unwrap_err();
    assert!(matches!(
        huge,
        StoreError::Invalid {
            what: "evidence size",
            ..
        }
    ));
    assert_eq!(store.list_evidence(case.id).await.unwrap().len(), 2);
}

async fn triage_runs_round_trip(db: &TestDb) {
    let store = &db.store;
    let case = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "runs"))
        .await
        .unwrap();
    let run = TriageRun {
        started_at: t(2026, 5, 2, 9, 0, 0),
        finished_at: t(2026, 5, 2, 9, 3, 30),
        tool_version: "0.1.0".to_owned(),
        inputs: vec![
            "/evidence/pc01".to_owned(),
            "/evidence/fs01/logs".to_owned(),
        ],
        summary: serde_json::json!({"findings": 12, "events": 34567, "problems": []}),
    };
    let later = TriageRun {
        started_at: t(2026, 5, 3, 9, 0, 0),
        finished_at: t(2026, 5, 3, 9, 1, 0),
        inputs: vec![],
        summary: serde_json::json!(null),
        ..run.clone()
    };
    let second = store.record_run(case.id, &later).await.unwrap();
    let first = store.record_run(case.id, &run).await.unwrap();
    assert_eq!(first.case_id, case.id);
    assert_eq!(first.run, run);
    assert_eq!(second.run, later);
    assert_eq!(store.list_runs(case.id).await.unwrap(), vec![first, second]);
}

async fn unknown_ids_give_not_found_with_a_hint(db: &TestDb) {
    let store = &db.store;
    const NO: i64 = 4242;
    let e = store.get_case(NO).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "case 4242 not found; `ir110 case list` shows the cases"
    );
    assert!(e.is_not_found());
    let is_case = |e: StoreError| matches!(e, StoreError::NotFound { what: Entity::Case, ref id } if id == "4242");
    assert!(is_case(
        store.set_phase(NO, Phase::Closed, "x").await.unwrap_err()
    ));
    let p = PolicyDecision {
        policy: Policy::RecoveryFirst,
        decided_by: None,
        decided_at: Utc::now(),
    };
    assert!(is_case(store.set_policy(NO, &p, "x").await.unwrap_err()));
    assert!(is_case(
        store.add_log(NO, Utc::now(), "x", "y").await.unwrap_err()
    ));
    assert!(is_case(store.list_log(NO).await.unwrap_err()));
    assert!(is_case(store.upsert_findings(NO, &[]).await.unwrap_err()));
    assert!(is_case(store.list_findings(NO).await.unwrap_err()));
    assert!(is_case(store.insert_events(NO, &[]).await.unwrap_err()));
    assert!(is_case(store.count_events(NO).await.unwrap_err()));
    assert!(is_case(
        store.list_events(NO, &EventQuery::new()).await.unwrap_err()
    ));
    assert!(is_case(
        store
            .add_evidence(&NewEvidence::new(NO, "l", "file", "p", "x"))
            .await
            .unwrap_err()
    ));
    assert!(is_case(store.list_evidence(NO).await.unwrap_err()));
    let run = TriageRun {
        started_at: Utc::now(),
        finished_at: Utc::now(),
        tool_version: "0".into(),
        inputs: vec![],
        summary: serde_json::Value::Null,
    };
    assert!(is_case(store.record_run(NO, &run).await.unwrap_err()));
    assert!(is_case(store.list_runs(NO).await.unwrap_err()));
    let by_ref = store.case_by_reference("IR-1999-0001").await.unwrap_err();
    assert_eq!(
        by_ref.to_string(),
        "case IR-1999-0001 not found; `ir110 case list` shows the cases"
    );
    let client = store.get_client(NO).await.unwrap_err();
    assert!(matches!(
        client,
        StoreError::NotFound {
            what: Entity::Client,
            ..
        }
    ));
    assert!(
        store
            .set_client_nda(NO, None)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(store.list_cases().await.unwrap().is_empty());
}

/// 20,000 events in one call; prints the rate (the release figure is in the crate docs).
async fn bulk_event_insert(db: &TestDb) {
    let store = &db.store;
    let case = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "bulk"))
        .await
        .unwrap();
    let all = events(20_000);
    let started = std::time::Instant::now();
    assert_eq!(store.insert_events(case.id, &all).await.unwrap(), 20_000);
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{}: inserted 20000 events in {secs:.3} s ({:.0} events/s)",
        store.backend(),
        20_000.0 / secs
    );
    assert_eq!(store.count_events(case.id).await.unwrap(), 20_000);
}

async fn concurrent_case_openers_get_distinct_references(db: &TestDb) {
    let year = Utc::now().year();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .create_case(NewCase::new(
                    ClientRef::name(format!("client {}", i % 3)),
                    "c",
                ))
                .await
        }));
    }
    let mut refs = Vec::new();
    for task in tasks {
        refs.push(task.await.unwrap().unwrap().reference);
    }
    refs.sort();
    let want: Vec<String> = (1..=8).map(|n| format!("IR-{year}-{n:04}")).collect();
    assert_eq!(refs, want);
    assert_eq!(db.store.list_clients().await.unwrap().len(), 3);
}

async fn log_and_evidence_refuse_changes_behind_the_api(db: &TestDb) {
    let store = &db.store;
    let case = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "append-only"))
        .await
        .unwrap();
    store
        .add_log(case.id, Utc::now(), "yamada", "isolated PC-03")
        .await
        .unwrap();
    store
        .add_evidence(&NewEvidence::new(
            case.id, "HDD", "medium", "locker", "yamada",
        ))
        .await
        .unwrap();
    for sql in [
        "UPDATE response_log SET action = 'nothing happened'",
        "DELETE FROM response_log",
        "UPDATE evidence SET location = 'lost'",
        "DELETE FROM evidence",
    ] {
        let e = db.raw(sql).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(
        store.list_log(case.id).await.unwrap()[0].action,
        "isolated PC-03"
    );
    assert_eq!(
        store.list_evidence(case.id).await.unwrap()[0].location,
        "locker"
    );
}

async fn damaged_rows_are_reported_as_corrupt(db: &TestDb) {
    let store = &db.store;
    let case = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "damaged"))
        .await
        .unwrap();
    store.insert_events(case.id, &events(3)).await.unwrap();
    store
        .upsert_findings(case.id, &[finding("a", Severity::Low, &[])])
        .await
        .unwrap();
    db.raw("UPDATE events SET body = '{not json' WHERE id = (SELECT MAX(id) FROM events)")
        .await
        .unwrap();
    db.raw("UPDATE findings SET body = '[]'").await.unwrap();
    db.raw("UPDATE cases SET phase = 'sideways'").await.unwrap();
    let e = store
        .list_events(case.id, &EventQuery::new())
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Corrupt { what: "event", .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("cannot be read"), "{e}");
    let e = store.list_findings(case.id).await.unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Corrupt {
                what: "finding",
                ..
            }
        ),
        "{e:?}"
    );
    let e = store.get_case(case.id).await.unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Corrupt {
                what: "case phase",
                ..
            }
        ),
        "{e:?}"
    );
    // Reading a page that avoids the damaged event still works.
    assert_eq!(
        store
            .list_events(case.id, &EventQuery::new().limit(1))
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn a_newer_schema_is_refused(db: &TestDb) {
    db.raw(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 99, 'from the future', TRUE, checksum, 0 FROM _sqlx_migrations WHERE version = 1",
    )
    .await
    .unwrap();
    let e = Store::open(&db.url).await.unwrap_err();
    assert!(
        matches!(e, StoreError::NewerSchema { version: 99 }),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "the case store has schema migration 99, which this ir110 does not know; upgrade ir110 \
         to use this database"
    );
}

// ---- SQLite only: files, URLs, reopening ----

#[tokio::test]
async fn sqlite_file_and_folders_are_created_and_reopen_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("deep").join("er");
    let url = ir110_store::default_sqlite_url(&data);
    assert_eq!(url, format!("sqlite://{}/ir110.db", data.display()));
    let store = Store::open(&url).await.unwrap();
    let case = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "persist"))
        .await
        .unwrap();
    store.close().await;
    assert!(data.join("ir110.db").is_file());

    // Reopening runs the migrations again (a no-op) and finds the case.
    let again = Store::open(&url).await.unwrap();
    assert_eq!(again.get_case(case.id).await.unwrap(), case);
    let migrations = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"),
    )
    .unwrap()
    .filter(|e| {
        e.as_ref()
            .unwrap()
            .path()
            .extension()
            .is_some_and(|x| x == "sql")
    })
    .count();
    assert_eq!(again.schema_version(), migrations as i64);
    again.close().await;
    let by_path = Store::open_sqlite(&data.join("ir110.db")).await.unwrap();
    assert_eq!(by_path.list_cases().await.unwrap().len(), 1);
    by_path.close().await;
}

#[tokio::test]
async fn sqlite_memory_store_works_and_bad_urls_are_refused() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let case = store
        .create_case(NewCase::new(ClientRef::name("Acme Ltd"), "memory"))
        .await
        .unwrap();
    assert_eq!(store.list_cases().await.unwrap()[0].case, case);

    let e = Store::open("mysql://root:pw@localhost/db")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::InvalidUrl { .. }));
    assert!(!e.to_string().contains(":pw@"), "{e}");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.db");
    std::fs::write(
        &path,
        b"this is not an SQLite database, it is a text file\n".repeat(100),
    )
    .unwrap();
    let e = Store::open_sqlite(&path).await.unwrap_err();
    assert!(
        matches!(e, StoreError::Database(_) | StoreError::Migrate(_)),
        "{e:?}"
    );
}
