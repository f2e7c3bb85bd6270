//! The tables the case-management server adds (users, sessions, tokens, audit log, tasks, APPI
//! clocks, custody, quotes, report imports) and the scope that every one of their queries
//! carries, on SQLite always and on PostgreSQL when `IR110_TEST_POSTGRES_URL` is set (each test
//! in a fresh schema).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestDb;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use ir110_model::{
    Category, Event, Finding, IncidentType, Message, Phase, Policy, PolicyDecision, Severity,
    SourceRef,
};
use ir110_store::{
    Backend, ClientRef, NewAudit, NewCase, NewCustody, NewEvidence, NewQuote, NewTask, QuoteLine,
    Role, Scope, Store, TokenScope, TriageRun,
};

on_every_backend!(
    users_roles_and_grants,
    scope_is_part_of_every_query,
    audit_chain_verifies_and_detects_tampering,
    sessions_tokens_and_login_failures,
    tasks_appi_custody_and_quotes_respect_scope,
    imports_page_the_timeline_with_recorded_times,
    every_write_carries_the_scope_in_its_statement,
    a_change_and_its_audit_entry_commit_or_roll_back_together,
    writes_beyond_intake_carry_the_nda_gate_in_their_statement,
);

/// Two clients with one case each; a responder granted A and a viewer of A.
struct World {
    a: i64,
    b: i64,
    case_a: i64,
    case_b: i64,
    responder: i64,
    viewer: i64,
    outsider: i64,
}

async fn world(store: &Store) -> World {
    let a = store.create_client("Alpha", None, "").await.unwrap().id;
    let b = store
        .create_client(
            "Bravo",
            Some(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()),
            "",
        )
        .await
        .unwrap()
        .id;
    let case_a = store
        .create_case(NewCase::new(ClientRef::Id(a), "A case").types([IncidentType::Leak]))
        .await
        .unwrap()
        .id;
    let case_b = store
        .create_case(NewCase::new(ClientRef::Id(b), "B case").types([IncidentType::Ransomware]))
        .await
        .unwrap()
        .id;
    let responder = store
        .create_user("resp", Role::Responder, None, "$argon2id$x")
        .await
        .unwrap()
        .id;
    store.grant_client(responder, a).await.unwrap();
    let viewer = store
        .create_user("view", Role::ClientViewer, Some(a), "$argon2id$y")
        .await
        .unwrap()
        .id;
    let outsider = store
        .create_user("out", Role::Responder, None, "$argon2id$z")
        .await
        .unwrap()
        .id;
    World {
        a,
        b,
        case_a,
        case_b,
        responder,
        viewer,
        outsider,
    }
}

async fn users_roles_and_grants(db: &TestDb) {
    let s = &db.store;
    let w = world(s).await;
    assert!(
        s.create_user("v2", Role::ClientViewer, None, "h")
            .await
            .is_err()
    );
    assert!(
        s.create_user("a2", Role::Admin, Some(w.a), "h")
            .await
            .is_err()
    );
    assert!(s.create_user("resp", Role::Admin, None, "h").await.is_err());
    assert!(s.grant_client(w.viewer, w.b).await.is_err());
    s.grant_client(w.responder, w.a).await.unwrap(); // twice: no effect
    assert_eq!(s.user_client_ids(w.responder).await.unwrap(), [w.a]);
    assert_eq!(s.user_client_ids(w.viewer).await.unwrap(), [w.a]);
    assert_eq!(
        s.user_client_ids(w.outsider).await.unwrap(),
        Vec::<i64>::new()
    );
    let (user, hash) = s.user_credentials(" resp ").await.unwrap().unwrap();
    assert_eq!((user.role, hash.as_str()), (Role::Responder, "$argon2id$x"));
    assert!(s.user_credentials("nobody").await.unwrap().is_none());
    let names: Vec<String> = s
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["out", "resp", "view"]);
}

async fn scope_is_part_of_every_query(db: &TestDb) {
    let s = &db.store;
    let w = world(s).await;
    let resp = Scope::user(w.responder);
    let out = Scope::user(w.outsider);
    let all = Scope::all();
    assert!(s.case_in_scope(&resp, w.case_a).await.unwrap().is_some());
    assert!(s.case_in_scope(&resp, w.case_b).await.unwrap().is_none());
    assert!(s.case_in_scope(&out, w.case_a).await.unwrap().is_none());
    assert!(
        s.case_in_scope(&Scope::user(w.viewer), w.case_b)
            .await
            .unwrap()
            .is_none()
    );
    let b = s.case_in_scope(&all, w.case_b).await.unwrap().unwrap();
    assert!(b.nda, "client B has an NDA date");
    assert!(!s.case_in_scope(&all, w.case_a).await.unwrap().unwrap().nda);
    // Narrowing an admin to one client.
    assert!(
        s.case_in_scope(&all.narrowed(Some(w.a)), w.case_b)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.set_case_intake(&resp, w.case_b, "x", &[IncidentType::Other])
            .await
            .unwrap()
            .is_none()
    );
    let edited = s
        .set_case_intake(
            &resp,
            w.case_a,
            " A case (edited) ",
            &[IncidentType::Leak, IncidentType::Emotet, IncidentType::Leak],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(edited.case.title, "A case (edited)");
    assert_eq!(
        edited.case.types,
        [IncidentType::Leak, IncidentType::Emotet]
    );
    assert_eq!(
        s.case_in_scope(&all, w.case_b)
            .await
            .unwrap()
            .unwrap()
            .case
            .title,
        "B case"
    );
    assert_eq!(s.cases_page(&resp, None, 50).await.unwrap().total, 1);
    assert_eq!(s.cases_page(&all, None, 50).await.unwrap().total, 2);
    assert_eq!(s.cases_page(&out, None, 50).await.unwrap().cases.len(), 0);
    assert_eq!(s.clients_in_scope(&resp).await.unwrap().len(), 1);
    assert!(s.client_in_scope(&resp, w.b).await.unwrap().is_none());
    assert!(s.set_client_notes(&resp, w.b, "x").await.unwrap().is_none());
    assert!(
        s.set_client_nda_in_scope(&resp, w.b, None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.get_client(w.b).await.unwrap().nda_signed_on.is_some());
    let a = s
        .set_client_nda_in_scope(&resp, w.a, NaiveDate::from_ymd_opt(2026, 2, 1))
        .await;
    assert!(a.unwrap().unwrap().nda_signed_on.is_some());
    // Keyset paging: 5 more cases for A, pages of 2, newest first, no repeats.
    for i in 0..5 {
        s.create_case(NewCase::new(ClientRef::Id(w.a), format!("more {i}")))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = s.cases_page(&resp, before, 2).await.unwrap();
        assert_eq!(page.total, 6);
        seen.extend(page.cases.iter().map(|c| c.case.id));
        match page.next {
            Some(k) => before = Some(k),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|x, y| y.cmp(x));
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 6);
}

async fn audit_chain_verifies_and_detects_tampering(db: &TestDb) {
    let s = &db.store;
    assert_eq!(s.verify_audit().await.unwrap().entries, 0);
    for i in 0..3 {
        let e = s
            .append_audit(&NewAudit {
                actor: "yamada".into(),
                action: "case.create".into(),
                object: format!("case:{i}"),
                client_id: Some(1),
                case_id: Some(i),
                detail: serde_json::json!({"i": i}),
            })
            .await
            .unwrap();
        assert_eq!(e.seq, i + 1);
        assert_eq!(e.hash, e.expected_hash());
    }
    let list = s.list_audit(None, 10).await.unwrap();
    assert_eq!(list.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 2, 1]);
    assert_eq!(list[0].prev_hash, list[1].hash);
    assert_eq!(list[2].prev_hash, ir110_store::AUDIT_GENESIS);
    assert_eq!(s.case_audit(1).await.unwrap().len(), 1);
    // Case 2 (client B's) already has the entry of i = 2 above.
    let w = world(s).await;
    s.append_audit(&NewAudit {
        actor: "a".into(),
        action: "case.phase".into(),
        object: format!("case:{}", w.case_b),
        client_id: Some(w.b),
        case_id: Some(w.case_b),
        detail: serde_json::json!({}),
    })
    .await
    .unwrap();
    assert_eq!(
        s.case_audit_in_scope(&Scope::all(), w.case_b)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        s.case_audit_in_scope(&Scope::user(w.responder), w.case_b)
            .await
            .unwrap()
            .is_empty()
    );
    let v = s.verify_audit().await.unwrap();
    assert_eq!((v.entries, v.first_broken), (4, None));
    // The database refuses changes; someone who gets around that breaks the chain.
    assert!(
        s.append_audit(&NewAudit {
            actor: String::new(),
            action: String::new(),
            object: String::new(),
            client_id: None,
            case_id: None,
            detail: serde_json::Value::Null,
        })
        .await
        .is_ok()
    );
    match s.backend() {
        Backend::Sqlite => db
            .raw(
                "DROP TRIGGER audit_log_no_update; \
                 UPDATE audit_log SET detail = '{\"i\":9}' WHERE seq = 2",
            )
            .await
            .unwrap(),
        _ => db
            .raw(
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; \
                 UPDATE audit_log SET detail = '{\"i\":9}' WHERE seq = 2",
            )
            .await
            .unwrap(),
    }
    assert_eq!(s.verify_audit().await.unwrap().first_broken, Some(2));
}

async fn sessions_tokens_and_login_failures(db: &TestDb) {
    let s = &db.store;
    let w = world(s).await;
    let later = Utc::now() + Duration::hours(1);
    s.create_session("anon", None, "c1", later).await.unwrap();
    s.create_session("logged", Some(w.viewer), "c2", later)
        .await
        .unwrap();
    s.create_session(
        "old",
        Some(w.viewer),
        "c3",
        Utc::now() - Duration::seconds(1),
    )
    .await
    .unwrap();
    assert!(s.session("anon").await.unwrap().unwrap().user.is_none());
    let logged = s.session("logged").await.unwrap().unwrap();
    assert_eq!(
        (logged.user.unwrap().id, logged.csrf.as_str()),
        (w.viewer, "c2")
    );
    assert!(s.session("old").await.unwrap().is_none(), "expired");
    s.delete_session("anon").await.unwrap();
    assert!(s.session("anon").await.unwrap().is_none());
    let t = s
        .create_token(
            w.responder,
            "laptop",
            "digest1",
            TokenScope::Upload,
            Some(w.a),
        )
        .await
        .unwrap();
    let (found, owner) = s.token("digest1").await.unwrap().unwrap();
    assert_eq!((found, owner.id), (t, w.responder));
    assert!(s.token("digest2").await.unwrap().is_none());
    let t0 = Utc::now() - Duration::minutes(20);
    s.record_login_failure("user:x", t0).await.unwrap();
    for _ in 0..3 {
        s.record_login_failure("user:x", Utc::now()).await.unwrap();
    }
    let since = Utc::now() - Duration::minutes(15);
    assert_eq!(s.count_login_failures("user:x", since).await.unwrap(), 3);
    assert_eq!(s.count_login_failures("user:y", since).await.unwrap(), 0);
    s.clear_login_failures("user:x").await.unwrap();
    assert_eq!(s.count_login_failures("user:x", t0).await.unwrap(), 0);
}

async fn tasks_appi_custody_and_quotes_respect_scope(db: &TestDb) {
    let s = &db.store;
    let w = world(s).await;
    let resp = Scope::user(w.responder);
    let task = |k: &str| NewTask {
        key: k.into(),
        phase: Phase::FirstAid,
        title: ["題".into(), "Title".into()],
        description: ["説明".into(), "Desc".into()],
    };
    assert_eq!(
        s.add_tasks(w.case_b, &[task("x.a"), task("x.b")])
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.add_tasks(w.case_b, &[task("x.b"), task("x.c")])
            .await
            .unwrap(),
        1
    );
    let all = s.tasks_in_scope(&Scope::all(), w.case_b).await.unwrap();
    assert_eq!(
        all.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(),
        ["x.a", "x.b", "x.c"]
    );
    assert!(s.tasks_in_scope(&resp, w.case_b).await.unwrap().is_empty());
    assert!(s.task_in_scope(&resp, all[0].id).await.unwrap().is_none());
    assert!(
        s.set_task_done(&resp, all[0].id, true, "r")
            .await
            .unwrap()
            .is_none()
    );
    let done = s
        .set_task_done(&Scope::all(), all[0].id, true, "yamada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.done_by.as_deref(), Some("yamada"));
    let d = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    assert!(
        s.set_appi(&resp, w.case_b, d, true, "r")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.appi_in_scope(&Scope::all(), w.case_b)
            .await
            .unwrap()
            .is_none()
    );
    let m = s
        .set_appi(&resp, w.case_a, d, true, "r")
        .await
        .unwrap()
        .unwrap();
    assert!(m.unauthorized);
    let m = s
        .set_appi(&resp, w.case_a, d, false, "r")
        .await
        .unwrap()
        .unwrap();
    assert!(!m.unauthorized, "re-marking replaces");
    s.set_appi(&Scope::all(), w.case_b, d, true, "a")
        .await
        .unwrap();
    // A's NDA is not recorded: its clock stays off the cross-client list.
    assert_eq!(s.appi_marks_in_scope(&Scope::all()).await.unwrap().len(), 1);
    assert_eq!(s.appi_marks_in_scope(&resp).await.unwrap().len(), 0);
    let item = s
        .add_evidence(&NewEvidence::new(
            w.case_b,
            "HDD S/N 1",
            "medium",
            "safe",
            "a",
        ))
        .await
        .unwrap();
    let ev = NewCustody {
        at: Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).unwrap(),
        action: "sealed".into(),
        actor: "a".into(),
        place: "office".into(),
        seal: "S-1".into(),
        sha256: None,
        note: String::new(),
    };
    assert!(s.add_custody(&resp, item.id, &ev).await.unwrap().is_none());
    assert!(s.evidence_in_scope(&resp, item.id).await.unwrap().is_none());
    assert!(
        s.evidence_of_case_in_scope(&resp, w.case_b)
            .await
            .unwrap()
            .is_empty()
    );
    s.add_custody(&Scope::all(), item.id, &ev)
        .await
        .unwrap()
        .unwrap();
    let bad = NewCustody {
        action: "lost".into(),
        ..ev.clone()
    };
    assert!(s.add_custody(&Scope::all(), item.id, &bad).await.is_err());
    assert_eq!(
        s.custody_in_scope(&Scope::all(), item.id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(s.custody_in_scope(&resp, item.id).await.unwrap().is_empty());
    let q = NewQuote {
        lines: vec![QuoteLine {
            code: "hearing".into(),
            name: ["状況ヒアリング".into(), "Hearing".into()],
            unit: ["式".into(), "lot".into()],
            unit_price: 1000,
            quantity: 2,
            amount: 2000,
        }],
        subtotal: 2000,
        tax: 200,
        total: 2200,
        created_by: "a".into(),
    };
    assert!(s.create_quote(&resp, w.case_b, &q).await.unwrap().is_none());
    let stored = s
        .create_quote(&Scope::all(), w.case_b, &q)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.quote, q);
    assert!(s.quote_in_scope(&resp, stored.id).await.unwrap().is_none());
    assert_eq!(
        s.quotes_in_scope(&Scope::all(), w.case_b)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn imports_page_the_timeline_with_recorded_times(db: &TestDb) {
    let s = &db.store;
    let w = world(s).await;
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let events: Vec<Event> = (0..25)
        .map(|i| {
            Event::new(
                t0 + Duration::minutes(i / 2), // pairs share a time: the id breaks the tie
                "eventlog",
                "logon",
                SourceRef::file("Security.evtx"),
                format!("event {i}"),
            )
        })
        .collect();
    let finding = Finding::new(
        "eventlog",
        "eventlog.x",
        Severity::High,
        Category::InitialAccess,
        Message::new("k"),
    );
    assert!(
        s.import_report(
            &Scope::user(w.responder),
            w.case_b,
            "r",
            "x",
            "0",
            &[],
            &events
        )
        .await
        .unwrap()
        .is_none()
    );
    let (import, summary) = s
        .import_report(
            &Scope::all(),
            w.case_b,
            "a",
            "ab12",
            "0.1.0",
            std::slice::from_ref(&finding),
            &events,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (import.findings, import.events, summary.inserted),
        (1, 25, 1)
    );
    let resp = Scope::user(w.responder);
    assert!(
        s.events_page(&resp, w.case_b, None, 10)
            .await
            .unwrap()
            .events
            .is_empty()
    );
    assert!(
        s.findings_in_scope(&resp, w.case_b)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.imports_in_scope(&resp, w.case_b)
            .await
            .unwrap()
            .is_empty()
    );
    let all = Scope::all();
    assert_eq!(
        s.findings_in_scope(&all, w.case_b).await.unwrap(),
        [finding]
    );
    assert_eq!(s.counts_in_scope(&all, w.case_b).await.unwrap(), (1, 25));
    assert_eq!(
        s.imports_in_scope(&all, w.case_b).await.unwrap(),
        std::slice::from_ref(&import)
    );
    let mut messages = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = s.events_page(&all, w.case_b, after, 10).await.unwrap();
        pages += 1;
        for e in &page.events {
            assert_eq!(e.recorded_at, Some(import.imported_at));
            messages.push(e.event.message.clone());
        }
        match page.next {
            Some(k) => after = Some(k),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).map(|i| format!("event {i}")).collect();
    assert_eq!(messages, expected);
}

/// Every write of a [`Tx`] carries the caller's scope in its own statement: for an object
/// outside it each answers `None` and writes nothing (not even a client recorded by name, nor
/// a sequence-numbered reference used), while the same writes inside the scope succeed. Also
/// covers an import of more events than one statement holds.
async fn every_write_carries_the_scope_in_its_statement(db: &TestDb) {
    let s = &db.store;
    let w = world(s).await;
    let all = Scope::all();
    let task = NewTask {
        key: "x.a".into(),
        phase: Phase::FirstAid,
        title: ["題".into(), "Title".into()],
        description: ["説明".into(), "Desc".into()],
    };
    // Client B's objects, made by the (unscoped) CLI path.
    s.add_tasks(w.case_b, std::slice::from_ref(&task))
        .await
        .unwrap();
    let task_b = s.tasks_in_scope(&all, w.case_b).await.unwrap()[0].id;
    let ev_b = s
        .add_evidence(&NewEvidence::new(w.case_b, "HDD", "medium", "safe", "a"))
        .await
        .unwrap()
        .id;
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let events: Vec<Event> = (0..1500)
        .map(|i| {
            Event::new(
                t0 + Duration::seconds(i),
                "eventlog",
                "logon",
                SourceRef::file("Security.evtx"),
                format!("event {i}"),
            )
        })
        .collect();
    let finding = Finding::new(
        "eventlog",
        "eventlog.x",
        Severity::High,
        Category::InitialAccess,
        Message::new("k"),
    );
    let decision = PolicyDecision {
        policy: Policy::EvidenceFirst,
        decided_by: Some("社長".into()),
        decided_at: t0,
    };
    let custody = NewCustody {
        at: t0,
        action: "sealed".into(),
        actor: "r".into(),
        place: "office".into(),
        seal: "S-1".into(),
        sha256: None,
        note: String::new(),
    };
    let quote = NewQuote {
        lines: Vec::new(),
        subtotal: 0,
        tax: 0,
        total: 0,
        created_by: "r".into(),
    };
    let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let run = TriageRun {
        started_at: t0,
        finished_at: t0,
        tool_version: "0".into(),
        inputs: vec!["evidence".into()],
        summary: serde_json::json!({}),
    };
    // A responder granted A only, and an administrator's token narrowed to A.
    let scopes = [Scope::user(w.responder), Scope::all().narrowed(Some(w.a))];
    let mut tx = s.begin().await.unwrap();
    for scope in &scopes {
        for client in [
            ClientRef::Id(w.b),
            ClientRef::name("Bravo"),
            ClientRef::name("New Co"),
        ] {
            let new = NewCase::new(client, "x");
            assert!(tx.create_case(scope, new).await.unwrap().is_none());
        }
        let case_b = w.case_b;
        assert!(tx.case_in_scope(scope, case_b).await.unwrap().is_none());
        assert!(tx.client_in_scope(scope, w.b).await.unwrap().is_none());
        let phase = tx.set_phase(scope, case_b, Phase::FirstAid, "r").await;
        assert!(phase.unwrap().is_none());
        let policy = tx.set_policy(scope, case_b, &decision, "r").await;
        assert!(policy.unwrap().is_none());
        let intake = tx.set_case_intake(scope, case_b, "t", &[]).await;
        assert!(intake.unwrap().is_none());
        let evidence = NewEvidence::new(case_b, "USB", "medium", "", "r");
        assert!(tx.add_evidence(scope, &evidence).await.unwrap().is_none());
        let findings = std::slice::from_ref(&finding);
        let upserted = tx.upsert_findings(scope, case_b, findings).await;
        assert!(upserted.unwrap().is_none());
        let tasks = std::slice::from_ref(&task);
        assert!(tx.add_tasks(scope, case_b, tasks).await.unwrap().is_none());
        let imported = tx
            .import_report(scope, case_b, "r", "ab", "0", findings, &events)
            .await;
        assert!(imported.unwrap().is_none());
        assert!(
            tx.set_client_notes(scope, w.b, "n")
                .await
                .unwrap()
                .is_none()
        );
        assert!(tx.set_client_nda(scope, w.b, None).await.unwrap().is_none());
        let appi = tx.set_appi(scope, case_b, day, true, "r").await;
        assert!(appi.unwrap().is_none());
        assert!(
            tx.create_quote(scope, case_b, &quote)
                .await
                .unwrap()
                .is_none()
        );
        let held = tx.add_custody(scope, ev_b, &custody).await;
        assert!(held.unwrap().is_none());
        let done = tx.set_task_done(scope, task_b, true, "r").await;
        assert!(done.unwrap().is_none());
        let logged = tx.add_log(scope, case_b, t0, "r", "x").await;
        assert!(logged.unwrap().is_none());
        let stored = tx.insert_events(scope, case_b, &events).await;
        assert!(stored.unwrap().is_none());
        assert!(tx.record_run(scope, case_b, &run).await.unwrap().is_none());
        let token = tx
            .create_token(scope, w.responder, "t", "d", TokenScope::Upload, Some(w.b))
            .await;
        assert!(token.unwrap().is_none());
    }
    // Nothing was written, so committing changes nothing.
    tx.commit().await.unwrap();
    let b = s.case_in_scope(&all, w.case_b).await.unwrap().unwrap().case;
    assert_eq!(
        (b.phase, b.policy, b.title.as_str()),
        (Phase::Intake, None, "B case")
    );
    assert_eq!(
        s.list_clients().await.unwrap().len(),
        2,
        "no client recorded"
    );
    let client_b = s.get_client(w.b).await.unwrap();
    assert_eq!(
        (client_b.notes.as_str(), client_b.nda_signed_on),
        ("", NaiveDate::from_ymd_opt(2026, 1, 5))
    );
    assert_eq!(s.counts_in_scope(&all, w.case_b).await.unwrap(), (0, 0));
    assert!(s.imports_in_scope(&all, w.case_b).await.unwrap().is_empty());
    assert_eq!(
        s.evidence_of_case_in_scope(&all, w.case_b)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(s.custody_in_scope(&all, ev_b).await.unwrap().is_empty());
    assert!(s.appi_in_scope(&all, w.case_b).await.unwrap().is_none());
    assert!(s.quotes_in_scope(&all, w.case_b).await.unwrap().is_empty());
    let tasks_b = s.tasks_in_scope(&all, w.case_b).await.unwrap();
    assert_eq!((tasks_b.len(), tasks_b[0].done_at), (1, None));
    assert!(s.list_log(w.case_b).await.unwrap().is_empty());
    assert!(s.list_runs(w.case_b).await.unwrap().is_empty());
    assert!(s.token("d").await.unwrap().is_none());
    // Inside the scope the same writes go through.
    for scope in &scopes {
        let mut tx = s.begin().await.unwrap();
        let case = tx
            .create_case(scope, NewCase::new(ClientRef::name("Alpha"), "A2"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.client_id, w.a);
        let (from, moved) = tx
            .set_phase(scope, case.id, Phase::FirstAid, "r")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((from, moved.phase), (Phase::Intake, Phase::FirstAid));
        let (import, summary) = tx
            .import_report(
                scope,
                case.id,
                "r",
                "ab",
                "0",
                std::slice::from_ref(&finding),
                &events,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!((import.events, summary.inserted), (1500, 1));
        tx.commit().await.unwrap();
        assert_eq!(s.counts_in_scope(scope, case.id).await.unwrap(), (1, 1500));
        // The same report again: findings updated, no duplicate events.
        let (_, summary) = s
            .import_report(
                scope,
                case.id,
                "r",
                "ab",
                "0",
                std::slice::from_ref(&finding),
                &events,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!((summary.inserted, summary.updated), (0, 1));
        assert_eq!(s.counts_in_scope(scope, case.id).await.unwrap(), (1, 1500));
    }
}

/// A gated scope (the server's callers) carries the NDA gate into the statement of every
/// write beyond intake data: on a case no NDA covers each answers `None` and writes nothing,
/// even when the NDA is cleared after a read saw it (no pre-check decides); intake writes go
/// through; the case's own NDA date opens the gate as the client's does; the ungated CLI scope
/// is not held back.
async fn writes_beyond_intake_carry_the_nda_gate_in_their_statement(db: &TestDb) {
    let s = &db.store;
    let w = world(s).await;
    let all = Scope::all();
    let gated = Scope::all().nda_gated();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let task = NewTask {
        key: "x.a".into(),
        phase: Phase::FirstAid,
        title: ["題".into(), "Title".into()],
        description: ["説明".into(), "Desc".into()],
    };
    let finding = Finding::new(
        "eventlog",
        "eventlog.x",
        Severity::High,
        Category::InitialAccess,
        Message::new("k"),
    );
    let event = Event::new(
        t0,
        "eventlog",
        "logon",
        SourceRef::file("Security.evtx"),
        "event",
    );
    let decision = PolicyDecision {
        policy: Policy::EvidenceFirst,
        decided_by: Some("社長".into()),
        decided_at: t0,
    };
    let custody = NewCustody {
        at: t0,
        action: "sealed".into(),
        actor: "r".into(),
        place: "office".into(),
        seal: "S-1".into(),
        sha256: None,
        note: String::new(),
    };
    let quote = NewQuote {
        lines: Vec::new(),
        subtotal: 0,
        tax: 0,
        total: 0,
        created_by: "r".into(),
    };
    let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    // Client B's NDA is recorded: a read through the gated scope sees it ...
    assert!(
        s.case_in_scope(&gated, w.case_b)
            .await
            .unwrap()
            .unwrap()
            .nda
    );
    // ... and is cleared behind the server's back before the writes.
    db.raw(&format!(
        "UPDATE clients SET nda_signed_on = NULL WHERE id = {}",
        w.b
    ))
    .await
    .unwrap();
    for case in [w.case_a, w.case_b] {
        s.add_tasks(case, std::slice::from_ref(&task))
            .await
            .unwrap();
        let task_id = s.tasks_in_scope(&all, case).await.unwrap()[0].id;
        let ev = s
            .add_evidence(&NewEvidence::new(case, "HDD", "medium", "safe", "a"))
            .await
            .unwrap()
            .id;
        let mut tx = s.begin().await.unwrap();
        let phase = tx.set_phase(&gated, case, Phase::FirstAid, "r").await;
        assert!(phase.unwrap().is_none());
        let policy = tx.set_policy(&gated, case, &decision, "r").await;
        assert!(policy.unwrap().is_none());
        let done = tx.set_task_done(&gated, task_id, true, "r").await;
        assert!(done.unwrap().is_none());
        let appi = tx.set_appi(&gated, case, day, true, "r").await;
        assert!(appi.unwrap().is_none());
        let evidence = NewEvidence::new(case, "USB", "medium", "", "r");
        assert!(tx.add_evidence(&gated, &evidence).await.unwrap().is_none());
        assert!(
            tx.add_custody(&gated, ev, &custody)
                .await
                .unwrap()
                .is_none()
        );
        let quoted = tx.create_quote(&gated, case, &quote).await;
        assert!(quoted.unwrap().is_none());
        let findings = std::slice::from_ref(&finding);
        let upserted = tx.upsert_findings(&gated, case, findings).await;
        assert!(upserted.unwrap().is_none());
        let events = std::slice::from_ref(&event);
        let imported = tx
            .import_report(&gated, case, "r", "ab", "0", findings, events)
            .await;
        assert!(imported.unwrap().is_none());
        // Intake data stays editable behind the gate.
        let intake = tx.set_case_intake(&gated, case, "Edited", &[]).await;
        assert_eq!(intake.unwrap().unwrap().case.title, "Edited");
        let tasks = std::slice::from_ref(&task);
        assert_eq!(tx.add_tasks(&gated, case, tasks).await.unwrap(), Some(0));
        tx.commit().await.unwrap();
        let k = s.case_in_scope(&all, case).await.unwrap().unwrap();
        assert!(!k.nda);
        assert_eq!((k.case.phase, k.case.policy), (Phase::Intake, None));
        assert_eq!(s.counts_in_scope(&all, case).await.unwrap(), (0, 0));
        assert!(s.imports_in_scope(&all, case).await.unwrap().is_empty());
        let items = s.evidence_of_case_in_scope(&all, case).await.unwrap();
        assert_eq!(items.len(), 1);
        assert!(s.custody_in_scope(&all, ev).await.unwrap().is_empty());
        assert!(s.appi_in_scope(&all, case).await.unwrap().is_none());
        assert!(s.quotes_in_scope(&all, case).await.unwrap().is_empty());
        let tasks = s.tasks_in_scope(&all, case).await.unwrap();
        assert_eq!((tasks.len(), tasks[0].done_at), (1, None));
        assert!(s.list_log(case).await.unwrap().is_empty());
    }
    // The case's own NDA date opens the gate like the client's.
    db.raw(&format!(
        "UPDATE cases SET nda_date = '2026-11-02' WHERE id = {}",
        w.case_a
    ))
    .await
    .unwrap();
    let mut tx = s.begin().await.unwrap();
    let (from, moved) = tx
        .set_phase(&gated, w.case_a, Phase::FirstAid, "r")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((from, moved.phase), (Phase::Intake, Phase::FirstAid));
    let quoted = tx.create_quote(&gated, w.case_a, &quote).await.unwrap();
    assert!(quoted.is_some());
    tx.commit().await.unwrap();
    // The local CLI (ungated) is not held back by the missing NDA of client B.
    let mut tx = s.begin().await.unwrap();
    let moved = tx.set_phase(&all, w.case_b, Phase::FirstAid, "r").await;
    assert!(moved.unwrap().is_some());
    let findings = std::slice::from_ref(&finding);
    let upserted = tx.upsert_findings(&all, w.case_b, findings).await.unwrap();
    assert_eq!(upserted.unwrap().inserted, 1);
    tx.commit().await.unwrap();
}

/// Makes every insert into the audit log fail (as a full disk or a broken chain head would).
async fn break_audit_log(db: &TestDb) {
    match db.store.backend() {
        Backend::Sqlite => db
            .raw(
                "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log \
                 BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END",
            )
            .await
            .unwrap(),
        _ => db
            .raw(
                "CREATE FUNCTION audit_fails() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$; \
                 CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log \
                 FOR EACH ROW EXECUTE FUNCTION audit_fails()",
            )
            .await
            .unwrap(),
    }
}

async fn repair_audit_log(db: &TestDb) {
    match db.store.backend() {
        Backend::Sqlite => db.raw("DROP TRIGGER audit_fails").await.unwrap(),
        _ => db
            .raw("DROP TRIGGER audit_fails ON audit_log")
            .await
            .unwrap(),
    }
}

/// A change and its audit entry are one transaction: when the audit append fails the change
/// is gone, and when the change fails after its entry was appended the entry is gone, leaving
/// the chain whole.
async fn a_change_and_its_audit_entry_commit_or_roll_back_together(db: &TestDb) {
    let s = &db.store;
    let w = world(s).await;
    let all = Scope::all();
    let entry = |action: &str| NewAudit {
        actor: "yamada".into(),
        action: action.into(),
        object: format!("case:{}", w.case_a),
        client_id: Some(w.a),
        case_id: Some(w.case_a),
        detail: serde_json::json!({}),
    };
    let mut tx = s.begin().await.unwrap();
    tx.set_phase(&all, w.case_a, Phase::FirstAid, "yamada")
        .await
        .unwrap()
        .unwrap();
    tx.audit(&entry("case.phase")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.verify_audit().await.unwrap().entries, 1);
    // The audit append fails: the phase change, its log line and the policy go with it.
    break_audit_log(db).await;
    let mut tx = s.begin().await.unwrap();
    let (_, moved) = tx
        .set_phase(&all, w.case_a, Phase::Preservation, "yamada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        moved.phase,
        Phase::Preservation,
        "seen inside the transaction"
    );
    let decision = PolicyDecision {
        policy: Policy::RecoveryFirst,
        decided_by: None,
        decided_at: Utc::now(),
    };
    tx.set_policy(&all, w.case_a, &decision, "yamada")
        .await
        .unwrap()
        .unwrap();
    assert!(tx.audit(&entry("case.phase")).await.is_err());
    drop(tx);
    // Standalone appends fail too while the log is broken, and change nothing.
    assert!(s.append_audit(&entry("nda.refused")).await.is_err());
    repair_audit_log(db).await;
    let a = s.case_in_scope(&all, w.case_a).await.unwrap().unwrap().case;
    assert_eq!((a.phase, a.policy), (Phase::FirstAid, None));
    assert_eq!(s.list_log(w.case_a).await.unwrap().len(), 1);
    // The change fails after its entry was appended: the entry is gone.
    let taken = s.case_in_scope(&all, w.case_b).await.unwrap().unwrap();
    let mut tx = s.begin().await.unwrap();
    assert_eq!(tx.audit(&entry("case.create")).await.unwrap().seq, 2);
    let dup = NewCase::new(ClientRef::Id(w.a), "dup").reference(taken.case.reference);
    assert!(matches!(
        tx.create_case(&all, dup).await,
        Err(ir110_store::StoreError::Conflict { .. })
    ));
    tx.rollback().await.unwrap();
    let v = s.verify_audit().await.unwrap();
    assert_eq!((v.entries, v.first_broken), (1, None));
    // The chain goes on from the last committed entry.
    assert_eq!(s.append_audit(&entry("x")).await.unwrap().seq, 2);
    let v = s.verify_audit().await.unwrap();
    assert_eq!((v.entries, v.first_broken), (2, None));
}
