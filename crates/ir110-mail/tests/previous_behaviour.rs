//! The whole report, field by field, is what the line-by-line reader of commit fbba975 gave:
//! the block-parallel reader must not change a single value. Each case pins a digest of the
//! report serialised as JSON (every public field: accounts with daily volumes, findings with
//! evidence lines, events, problems, file summaries), plus a few readable totals so that a
//! failure says where to look.

use std::path::{Path, PathBuf};

use chrono::DateTime;
use ir110_mail::{
    AbuseSpec, MailAnalysis, MailOptions, MailReport, MailSpec, analyze_paths, synthesize_maillog,
};
use ir110_model::SourceRef;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn options() -> MailOptions {
    MailOptions {
        year: Some(2026),
        ..MailOptions::default()
    }
}

/// FNV-1a over the report's JSON in a canonical form — object keys sorted (the workspace may
/// build serde_json with `preserve_order`, which keeps insertion order instead) and this
/// crate's directory written as `<crate>` (the test files' paths are in the report) — so the
/// digest depends on the report alone, not on where the repository is checked out or which
/// other crates are built with it.
fn digest(report: &MailReport) -> (u64, usize) {
    let value = serde_json::to_value(report).unwrap_or_default();
    let json = ir110_model::canonical_json(&value).replace(env!("CARGO_MANIFEST_DIR"), "<crate>");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in json.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h, json.len())
}

fn totals(r: &MailReport) -> (u64, u64, u64, usize, usize, usize) {
    (
        r.files.iter().map(|f| f.lines).sum(),
        r.files.iter().map(|f| f.events).sum(),
        r.messages,
        r.accounts.len(),
        r.findings.len(),
        r.problems.len(),
    )
}

/// Every layout and oddity the reader handles, in one stream: a BOM, CRLF, blank lines,
/// syslog priorities, RFC 3339 stamps, a December → January wrap, impossible dates (which
/// still move the year clock), invalid UTF-8 inside kept fields, foreign daemons, sendmail,
/// mixed-case addresses, a deferred-then-sent recipient, local pickup, header senders,
/// bounces, IPv6 clients, an Exchange header in the middle and a last line without newline.
fn oddities() -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    out.extend_from_slice("\u{feff}".as_bytes());
    let mut push = |s: &str| {
        out.extend_from_slice(s.as_bytes());
        out.push(b'\n');
    };
    for round in 0..40u32 {
        let q = format!("5B{:07X}", 0x1000 + round * 17);
        let day = 20 + round % 9;
        let user = format!("User{:02}@Example.co.jp", round % 7);
        let ip = if round % 5 == 0 {
            "2001:db8:77::5".to_owned()
        } else {
            format!("198.51.{}.{}", round % 3, 10 + round)
        };
        let t = |s: u32| format!("Dec {day} 0{}:{:02}:{:02}", round % 10, s % 60, round % 60);
        push(&format!(
            "{} mx1 sshd[44]: Accepted password for root",
            t(0)
        ));
        push(&format!(
            "{} mx1 postfix/submission/smtpd[9]: {q}: client=host{round}.example[{ip}], sasl_method=PLAIN, sasl_username={user}",
            t(1)
        ));
        push(&format!(
            "<22>{} mx1 postfix/cleanup[9]: {q}: message-id=<m{round}@PC>\r",
            t(2)
        ));
        push(&format!(
            "{} mx1 postfix/cleanup[9]: {q}: info: header From: \"Boss\" <CEO{}@Other.example> from x[1.2.3.4]; from=<{user}>",
            t(3),
            round % 3
        ));
        push(&format!(
            "{} mx1 postfix/qmgr[9]: {q}: from=<{user}>, size={}, nrcpt=3 (queue active)",
            t(4),
            1000 + round
        ));
        for r in 0..3 {
            let status = match (round + r) % 4 {
                0 => "deferred",
                1 => "bounced",
                2 => "SENT",
                _ => "sent",
            };
            push(&format!(
                "{} mx1 postfix/smtp[9]: {q}: to=<Rcpt{r}@D{}.example>, relay=mx.d.example[203.0.113.{r}]:25, delay=1, dsn=4.{r}.0, status={status} (x)",
                t(5 + r),
                (round * 7 + r) % 31
            ));
        }
        push(&format!(
            "{} mx1 postfix/smtp[9]: {q}: to=<rcpt0@d{}.example>, relay=mx.d.example[203.0.113.9]:25, dsn=2.0.0, status=sent (ok)",
            t(9),
            (round * 7) % 31
        ));
        push("");
        push(&format!(
            "{} mx1 postfix/bounce[9]: {q}: sender non-delivery notification: 6C{round:05X}",
            t(10)
        ));
        push(&format!("{} mx1 postfix/qmgr[9]: {q}: removed", t(11)));
        push(&format!(
            "{} mx1 postfix/pickup[9]: 7D{round:06X}: uid=0 from=<Root@MX1.example.co.jp>",
            t(12)
        ));
        push(&format!(
            "{} mx1 postfix/qmgr[9]: 7D{round:06X}: from=<root@mx1.example.co.jp>, size=10, nrcpt=1",
            t(13)
        ));
        push(&format!(
            "{} mx1 postfix/local[9]: 7D{round:06X}: to=<admin@example.co.jp>, relay=local, dsn=2.0.0, status=sent (delivered)",
            t(14)
        ));
        push(&format!(
            "{} mx1 postfix/virtual[9]: 8E{round:06X}: to=<info@example.co.jp>, relay=Dovecot, status=bounced",
            t(15)
        ));
        push(&format!(
            "{} mx1 postfix/smtpd[9]: 8E{round:06X}: client=mx.remote.example[192.0.2.{round}]",
            t(16)
        ));
        push(&format!(
            "{} mx1 postfix/qmgr[9]: 8E{round:06X}: from=<>, size=5, nrcpt=1",
            t(17)
        ));
        push(&format!(
            "{} mx1 postfix/virtual[9]: 8E{round:06X}: to=<Info@example.co.jp>, relay=virtual, status=sent",
            t(18)
        ));
        push(&format!(
            "{} mx1 sm-mta[77]: s{round:05}abc: AUTH=server, relay=pc{round}.lan [192.168.1.{round}], authid=Tanaka, mech=LOGIN",
            t(19)
        ));
        push(&format!(
            "{} mx1 sm-mta[77]: s{round:05}abc: from=<tanaka@example.co.jp>, size=99, class=0, nrcpts=2, msgid=<s{round}@pc>, proto=ESMTPA, daemon=MSA, relay=pc{round}.lan [192.168.1.{round}]",
            t(20)
        ));
        push(&format!(
            "{} mx1 sm-mta[77]: s{round:05}abc: to=<a{round}@x.example>,<b@y{round}.example>, delay=00:00:01, mailer=esmtp, pri=1, relay=mx.x. [203.0.113.7], dsn=5.1.1, stat=User unknown",
            t(21)
        ));
        push(&format!(
            "{} mx1 sm-mta[77]: s{round:05}abc: s{round:05}abd: DSN: User unknown",
            t(22)
        ));
        push(&format!(
            "2026-12-{day}T0{}:00:{:02}.{round}+09:00 mx1 postfix/qmgr[3]: 9F{round:06X}: from=<x@example.co.jp>, size=1, nrcpt=1",
            round % 10,
            round % 60
        ));
        push(&format!(
            "2026-12-{day}T0{}:00:{:02}Z mx1 postfix/smtp[3]: 9F{round:06X}: to=<y@z.example>, relay=z[203.0.113.5]:25, status=sent",
            round % 10,
            round % 60
        ));
        push("Feb 29 10:00:00 mx1 postfix/qmgr[3]: AB1234567: removed");
        push("Jan 12 25:00:00 mx1 postfix/qmgr[3]: AB1234567: removed");
        push("Jan 1");
        push("not syslog at all");
    }
    // Invalid UTF-8 inside kept fields and the program name.
    out.extend_from_slice(
        b"Dec 30 10:00:00 mx1 postfix/qmgr[9]: 5C0000001: from=<bad\xffname@example.co.jp>, size=1, nrcpt=1\n",
    );
    out.extend_from_slice(
        b"Dec 30 10:00:00 mx1 postfix/submission/smtpd[9]: 5C0000001: client=x[198.51.100.9], sasl_username=bad\xfe@example.co.jp\n",
    );
    out.extend_from_slice(
        b"Dec 30 10:00:01 mx1 postfix/smtp[9]: 5C0000001: to=<\xc3\xa9t\xc3@w.example>, relay=w[203.0.113.1]:25, status=sent\n",
    );
    out.extend_from_slice(b"Dec 30 10:00:01 mx1 post\xfffix/qmgr[9]: 5C0000001: removed\n");
    // The year turns.
    for (i, month) in ["Dec", "Jan", "Jan", "Feb", "Mar"].iter().enumerate() {
        out.extend_from_slice(
            format!(
                "{month}  {} 1{i}:00:00 mx1 postfix/submission/smtpd[9]: 5D000000{i}: client=u[203.0.113.{i}], sasl_username=user0{i}@example.co.jp\n\
                 {month}  {} 1{i}:00:01 mx1 postfix/qmgr[9]: 5D000000{i}: from=<user0{i}@example.co.jp>, size=1, nrcpt=1\n\
                 {month}  {} 1{i}:00:02 mx1 postfix/smtp[9]: 5D000000{i}: to=<r@year{i}.example>, relay=r[203.0.113.8]:25, status=sent\n",
                i + 1,
                i + 1,
                i + 1
            )
            .as_bytes(),
        );
    }
    // An Exchange header mid-stream: from here on rows are message tracking.
    let exchange = std::fs::read(data("MSGTRK2026011601-1.LOG")).unwrap_or_default();
    out.extend_from_slice(&exchange);
    out.extend_from_slice(b"\n\n2026-01-20T00:00:00.000Z,,,,,,,SMTP,RECEIVE,99,<z@z>,,a@b.example,,1,1,,,,Late@Example.co.jp,,,Originating,,203.0.113.99,,");
    out
}

fn ingest_bytes(bytes: &[u8], options: MailOptions) -> MailReport {
    let mut a = MailAnalysis::new(options);
    a.ingest(bytes, SourceRef::file("oddities.log"));
    a.finish()
}

#[test]
fn the_oddities_give_the_previous_report() {
    let r = ingest_bytes(&oddities(), options());
    if std::env::var_os("MAIL_DUMP").is_some() {
        println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
    }
    assert_eq!(totals(&r), (1303, 1293, 265, 10, 13, 0));
    if std::env::var_os("MAIL_DIGEST").is_some() {
        println!("oddities {:?}", digest(&r));
    }
    assert_eq!(digest(&r), (3167870277592214279, 13311));
}

#[test]
fn every_test_file_together_gives_the_previous_report() {
    let files: Vec<PathBuf> = [
        "postfix-account-abuse.maillog",
        "postfix-backscatter.maillog",
        "postfix-clean.maillog",
        "sendmail-abuse.maillog",
        "MSGTRK2026011601-1.LOG",
    ]
    .iter()
    .map(|n| data(n))
    .collect();
    let r = analyze_paths(
        &files,
        MailOptions {
            reported_message_ids: vec![
                "<1768262400.3F1A53EA@PC-SATO>".into(),
                "1768230000@remote.example".into(),
                "never@seen".into(),
            ],
            ..options()
        },
    );
    assert_eq!(totals(&r), (1483, 1646, 307, 5, 15, 0));
    if std::env::var_os("MAIL_DIGEST").is_some() {
        println!("test files {:?}", digest(&r));
    }
    assert_eq!(digest(&r), (10063190756815176412, 15325));
}

#[test]
fn a_synthetic_month_with_abuse_and_backscatter_gives_the_previous_report() {
    let spec = MailSpec {
        seed: 11,
        start: DateTime::from_timestamp(1_767_193_200, 0).unwrap_or_default(),
        days: 40,
        users: 25,
        abuse: Some(AbuseSpec {
            account: "user03@example.co.jp".into(),
            day: 20,
            messages: 400,
            bounce_every: 5,
        }),
        backscatter: Some(("info@example.co.jp".into(), 60)),
    };
    let text = synthesize_maillog(&spec);
    let r = ingest_bytes(
        text.as_bytes(),
        MailOptions {
            reported_message_ids: vec!["nobody@nowhere".into()],
            ..options()
        },
    );
    assert_eq!(totals(&r), (33390, 33390, 5892, 25, 6, 0));
    if std::env::var_os("MAIL_DIGEST").is_some() {
        println!("synthetic month {:?}", digest(&r));
    }
    assert_eq!(digest(&r), (12107538770339123611, 52648));
}
