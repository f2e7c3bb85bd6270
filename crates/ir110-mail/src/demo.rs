//! Deterministic synthetic Postfix logs: the `ir110 demo` mail log and the test corpus.
//!
//! A small company (`example.co.jp`) on a hosted Postfix server: staff submit mail with SASL
//! from the office line (203.0.113.10) on weekdays, to a stable set of partner domains, and
//! receive mail from outside MX hosts. An [`AbuseSpec`] adds an Emotet-style night: the
//! account logs in from foreign networks and mails hundreds of new domains, with bounces. A
//! backscatter address receives bounces for mail it never sent.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// An abused account's burst.
#[derive(Debug, Clone, PartialEq)]
pub struct AbuseSpec {
    /// The account (`keiri@example.co.jp`).
    pub account: String,
    /// Day (from the start) of the burst; it begins at 02:00 JST.
    pub day: u32,
    /// Messages sent.
    pub messages: u32,
    /// Every n-th recipient bounces (0: none).
    pub bounce_every: u32,
}

/// A synthetic mail log to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct MailSpec {
    /// Seed.
    pub seed: u64,
    /// First day, 00:00 JST, as UTC.
    pub start: DateTime<Utc>,
    /// Days.
    pub days: u32,
    /// Staff accounts `user01@example.co.jp` ….
    pub users: u32,
    /// An abused account, if any.
    pub abuse: Option<AbuseSpec>,
    /// A local address receiving this many bounces for mail it never sent.
    pub backscatter: Option<(String, u32)>,
}

struct Writer {
    out: String,
    qid: u64,
    pid: u64,
}

impl Writer {
    fn line(&mut self, ts: DateTime<Utc>, prog: &str, msg: &str) {
        let local = ts + Duration::hours(9);
        let _ = writeln!(
            self.out,
            "{} mail01 postfix/{prog}[{}]: {msg}",
            local.format("%b %e %H:%M:%S"),
            1000 + self.pid % 9000
        );
        self.pid += 7;
    }

    fn next_qid(&mut self) -> String {
        self.qid += 1;
        format!("{:X}", 0x4A0000000u64 + self.qid * 0x1F3)
    }

    /// One outbound message from `account` via submission.
    #[allow(clippy::too_many_arguments)] // A private helper of the generator.
    fn outbound(
        &mut self,
        ts: DateTime<Utc>,
        account: &str,
        client: &str,
        rcpts: &[String],
        bounce: &dyn Fn(usize) -> bool,
        msgid_host: &str,
        header_from: Option<&str>,
    ) {
        let q = self.next_qid();
        self.line(
            ts,
            "submission/smtpd",
            &format!("{q}: client=unknown[{client}], sasl_method=LOGIN, sasl_username={account}"),
        );
        self.line(
            ts,
            "cleanup",
            &format!(
                "{q}: message-id=<{}.{}@{msgid_host}>",
                ts.timestamp(),
                self.qid
            ),
        );
        if let Some(h) = header_from {
            self.line(ts, "cleanup", &format!("{q}: info: header From: <{h}> from unknown[{client}]; from=<{account}> to=<{}> proto=ESMTP helo=<pc>", rcpts[0]));
        }
        self.line(
            ts,
            "qmgr",
            &format!(
                "{q}: from=<{account}>, size={}, nrcpt={} (queue active)",
                2000 + self.qid % 5000,
                rcpts.len()
            ),
        );
        let t = ts + Duration::seconds(2);
        let mut bounced = false;
        for (i, r) in rcpts.iter().enumerate() {
            let dom = r.rsplit('@').next().unwrap_or("");
            if bounce(i) {
                bounced = true;
                self.line(t, "smtp", &format!("{q}: to=<{r}>, relay=mx.{dom}[198.18.0.{}]:25, delay=1.4, delays=0.1/0/0.6/0.7, dsn=5.1.1, status=bounced (host mx.{dom}[198.18.0.1] said: 550 5.1.1 <{r}>: Recipient address rejected: User unknown)", 1 + i % 250));
            } else {
                self.line(t, "smtp", &format!("{q}: to=<{r}>, relay=mx.{dom}[198.18.0.{}]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)", 1 + i % 250));
            }
        }
        if bounced {
            let nq = self.next_qid();
            self.line(
                t,
                "bounce",
                &format!("{q}: sender non-delivery notification: {nq}"),
            );
            self.line(
                t,
                "cleanup",
                &format!(
                    "{nq}: message-id=<{}.{}@mail01.example.co.jp>",
                    t.timestamp(),
                    self.qid
                ),
            );
            self.line(
                t,
                "qmgr",
                &format!("{nq}: from=<>, size=4200, nrcpt=1 (queue active)"),
            );
            self.line(t, "virtual", &format!("{nq}: to=<{account}>, relay=virtual, delay=0.01, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)"));
            self.line(t, "qmgr", &format!("{nq}: removed"));
        }
        self.line(t, "qmgr", &format!("{q}: removed"));
    }

    /// One inbound message from an outside MX to a local mailbox.
    fn inbound(&mut self, ts: DateTime<Utc>, from: &str, to: &str, mx_ip: &str) {
        let q = self.next_qid();
        self.line(
            ts,
            "smtpd",
            &format!("{q}: client=mx.sender.example[{mx_ip}]"),
        );
        self.line(
            ts,
            "cleanup",
            &format!(
                "{q}: message-id=<in.{}.{}@sender.example>",
                ts.timestamp(),
                self.qid
            ),
        );
        self.line(
            ts,
            "qmgr",
            &format!("{q}: from=<{from}>, size=8123, nrcpt=1 (queue active)"),
        );
        self.line(ts, "virtual", &format!("{q}: to=<{to}>, relay=virtual, delay=0.02, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)"));
        self.line(ts, "qmgr", &format!("{q}: removed"));
    }
}

const PARTNERS: [&str; 12] = [
    "tokyo-shoji.co.jp",
    "osaka-seiki.co.jp",
    "nagoya-buhin.jp",
    "sapporo-food.co.jp",
    "fukuoka-logi.jp",
    "kobe-trade.co.jp",
    "sendai-kikai.jp",
    "bank.example.jp",
    "zeirishi.example.jp",
    "gmail.com",
    "yahoo.co.jp",
    "outlook.jp",
];

/// A Postfix maillog (BSD syslog, JST) for `spec`, in time order.
pub fn synthesize_maillog(spec: &MailSpec) -> String {
    let mut rng = Rng(spec.seed);
    let mut w = Writer {
        out: String::new(),
        qid: spec.seed % 1000,
        pid: spec.seed,
    };
    let mut items: Vec<(DateTime<Utc>, u8, u32, u32)> = Vec::new();
    // Normal days: each user sends 2–8 messages between 09:00 and 18:00 JST on weekdays and
    // receives a few.
    for day in 0..spec.days {
        let day_start = spec.start + Duration::days(i64::from(day));
        let weekday = (day_start + Duration::hours(9)).format("%u").to_string();
        if weekday == "6" || weekday == "7" {
            continue;
        }
        for u in 0..spec.users {
            for _ in 0..2 + rng.below(7) {
                let t = day_start + Duration::seconds(9 * 3600 + rng.below(9 * 3600) as i64);
                items.push((t, 0, u, rng.below(1000) as u32));
            }
            for _ in 0..1 + rng.below(4) {
                let t = day_start + Duration::seconds(8 * 3600 + rng.below(11 * 3600) as i64);
                items.push((t, 1, u, rng.below(1000) as u32));
            }
        }
    }
    if let Some(a) = &spec.abuse {
        let begin = spec.start + Duration::days(i64::from(a.day)) + Duration::hours(2);
        for i in 0..a.messages {
            let t = begin + Duration::seconds(i64::from(i) * 9 + rng.below(5) as i64);
            items.push((t, 2, i, rng.below(1000) as u32));
        }
    }
    if let Some((_, n)) = &spec.backscatter {
        for i in 0..*n {
            let t = spec.start + Duration::seconds(rng.below(u64::from(spec.days) * 86_400) as i64);
            items.push((t, 3, i, rng.below(1000) as u32));
        }
    }
    items.sort_by_key(|i| (i.0, i.1, i.2));
    for (t, kind, idx, r) in items {
        match kind {
            0 => {
                let account = format!("user{:02}@example.co.jp", idx + 1);
                // Each user writes to four partners of their own.
                let n = 1 + (r % 3) as usize;
                let rcpts: Vec<String> = (0..n)
                    .map(|k| {
                        let d =
                            PARTNERS[(idx as usize * 3 + (r as usize + k) % 4) % PARTNERS.len()];
                        format!("tantou{}@{d}", (r as usize + k) % 5)
                    })
                    .collect();
                w.outbound(
                    t,
                    &account,
                    "203.0.113.10",
                    &rcpts,
                    &|_| false,
                    "PC-EXAMPLE",
                    None,
                );
            }
            1 => {
                let to = format!("user{:02}@example.co.jp", idx + 1);
                let from = format!("info@{}", PARTNERS[r as usize % PARTNERS.len()]);
                w.inbound(t, &from, &to, "192.0.2.25");
            }
            2 => {
                let Some(a) = &spec.abuse else { continue };
                let n = 1 + (r % 3) as usize;
                let rcpts: Vec<String> = (0..n)
                    .map(|k| {
                        format!(
                            "contact{k}@victim{:04}.example.net",
                            (idx * 3 + k as u32) % 997
                        )
                    })
                    .collect();
                let client = format!("185.220.{}.{}", 100 + idx % 3, 10 + r % 200);
                let every = a.bounce_every as usize;
                let base = idx as usize * 3;
                w.outbound(
                    t,
                    &a.account,
                    &client,
                    &rcpts,
                    &|i| every > 0 && (base + i) % every == 0,
                    "WIN-7QK2N3LPA1",
                    None,
                );
            }
            _ => {
                let Some((addr, _)) = &spec.backscatter else {
                    continue;
                };
                let mx = format!("198.51.100.{}", 1 + r % 250);
                w.inbound(t, "", addr, &mx);
            }
        }
    }
    w.out
}

/// The demo's mail evidence: `mail/maillog`, two weeks of a 12-person office in which
/// `user03@example.co.jp` is abused on the night of day 10 (240 messages from foreign
/// networks, one recipient in five bouncing).
pub fn demo_files(seed: u64) -> Vec<(String, Vec<u8>)> {
    let spec = MailSpec {
        seed,
        start: DateTime::from_timestamp(1_767_193_200, 0).unwrap_or_default(),
        days: 14,
        users: 12,
        abuse: Some(AbuseSpec {
            account: "user03@example.co.jp".to_owned(),
            day: 10,
            messages: 240,
            bounce_every: 5,
        }),
        backscatter: None,
    };
    vec![(
        "mail/maillog".to_owned(),
        synthesize_maillog(&spec).into_bytes(),
    )]
}
