//! What one MTA log line says about one message, and the Postfix/sendmail line parsers.
//!
//! Postfix spreads a message over several lines joined by the queue id:
//! ```text
//! postfix/submission/smtpd[PID]: QID: client=unknown[IP], sasl_method=PLAIN, sasl_username=USER
//! postfix/cleanup[PID]: QID: message-id=<…>
//! postfix/cleanup[PID]: QID: info: header From: … from unknown[IP]; from=<…> to=<…> …
//! postfix/qmgr[PID]: QID: from=<addr>, size=N, nrcpt=K (queue active)
//! postfix/smtp[PID]: QID: to=<rcpt>, relay=host[ip]:25, …, dsn=x.y.z, status=sent|deferred|bounced (…)
//! postfix/bounce[PID]: QID: sender non-delivery notification: NEWQID
//! postfix/qmgr[PID]: QID: removed
//! ```
//! sendmail writes `from=… msgid=… relay=…` and `to=… stat=…` lines, and `AUTH=server … authid=`.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

/// Outcome for one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientStatus {
    /// Handed to the next hop outside.
    Sent,
    /// Delivered to a local mailbox.
    Delivered,
    /// Temporarily failed.
    Deferred,
    /// Permanently failed (non-delivery report follows).
    Bounced,
    /// Anything else (expired, discarded, …).
    Other,
}

/// One fact about one queued message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MtaEvent {
    /// The SMTP client that submitted it, with the SASL login if any.
    Client {
        ip: Option<IpAddr>,
        name: String,
        sasl: Option<String>,
    },
    /// Local submission (`pickup`, sendmail `daemon` absent): a program on the server.
    Pickup { sender: Option<String> },
    /// `Message-ID:` header.
    MessageId(String),
    /// `From:` header (logged by `header_checks … INFO`/`WARN`).
    HeaderFrom(String),
    /// Envelope sender (empty for bounces), size, recipient count.
    From {
        from: String,
        size: Option<u64>,
        nrcpt: Option<u32>,
    },
    /// One recipient's outcome.
    To {
        to: String,
        status: RecipientStatus,
        dsn: Option<String>,
        local: bool,
    },
    /// The server generated a bounce for this message, queued as `new_qid`.
    BounceCreated { new_qid: String },
    /// The message left the queue.
    Removed,
}

/// An event with its queue id and time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueuedEvent {
    pub(crate) qid: String,
    pub(crate) ts: DateTime<Utc>,
    pub(crate) event: MtaEvent,
}

fn is_qid(s: &str) -> bool {
    // Short ids are hex (`4F2A21234`), long ids base-52 (`4Fx9Sv2pLqz1B7`); sendmail ids are
    // alphanumeric too (`9BAKExq1012345`).
    s.len() >= 6 && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The value of `key=` in a `k=v, k=v` list; `<…>` brackets removed.
pub(crate) fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut search = text;
    loop {
        let pos = find_str(search, key)?;
        let before_ok = pos == 0 || matches!(search.as_bytes()[pos - 1], b' ' | b',' | b';');
        let after = &search[pos + key.len()..];
        if before_ok && after.starts_with('=') {
            let v = &after[1..];
            let end = if v.starts_with('<') {
                v.find('>').map_or(v.len(), |e| e + 1)
            } else {
                v.find([',', ' ', ';']).unwrap_or(v.len())
            };
            return Some(v[..end].trim_start_matches('<').trim_end_matches('>'));
        }
        search = after;
    }
}

/// `name[1.2.3.4]` or `name [1.2.3.4]` → (name, ip).
fn host_ip(s: &str) -> (String, Option<IpAddr>) {
    match s.find('[') {
        Some(open) => {
            let name = s[..open].trim().to_owned();
            let ip = s[open + 1..]
                .split(']')
                .next()
                .and_then(|v| v.trim_start_matches("IPv6:").parse().ok());
            (name, ip)
        }
        None => (s.trim().to_owned(), None),
    }
}

fn local_relay(relay: &str) -> bool {
    let r = relay.to_ascii_lowercase();
    [
        "local", "virtual", "lmtp", "dovecot", "private/", "mailbox", "procmail", "maildrop",
    ]
    .iter()
    .any(|m| r.starts_with(m) || r.contains("dovecot"))
}

fn status_of(s: &str) -> RecipientStatus {
    match s.to_ascii_lowercase().as_str() {
        "sent" => RecipientStatus::Sent,
        "deferred" => RecipientStatus::Deferred,
        "bounced" => RecipientStatus::Bounced,
        _ => RecipientStatus::Other,
    }
}

/// `s.find(key)` for the short keys and lines here, without building a two-way searcher
/// on every call (this runs several times per log line): candidates are the positions of
/// the key's first byte. Same first match.
fn find_str(s: &str, key: &str) -> Option<usize> {
    let (b, k) = (s.as_bytes(), key.as_bytes());
    let Some(&first) = k.first() else {
        return Some(0);
    };
    let mut from = 0;
    while let Some(i) = b[from..].iter().position(|&c| c == first) {
        let at = from + i;
        if b[at..].starts_with(k) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// `s.split_once(": ")` without building a substring searcher per call (once or twice per
/// log line).
pub(crate) fn split_colon_space(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = b[from..].iter().position(|&c| c == b':') {
        let at = from + i;
        if b.get(at + 1) == Some(&b' ') {
            return Some((&s[..at], &s[at + 2..]));
        }
        from = at + 1;
    }
    None
}

/// Parses a Postfix message (the part after `prog[pid]: `).
pub(crate) fn parse_postfix(program: &str, message: &str) -> Option<(String, MtaEvent)> {
    let (qid, rest) = split_colon_space(message)?;
    if !is_qid(qid) {
        return None;
    }
    let daemon = program.rsplit('/').next().unwrap_or(program);
    let event = if let Some(client) = field(rest, "client").filter(|_| rest.starts_with("client="))
    {
        let (name, ip) = host_ip(client);
        MtaEvent::Client {
            ip,
            name,
            sasl: field(rest, "sasl_username").map(str::to_owned),
        }
    } else if daemon == "pickup" {
        MtaEvent::Pickup {
            sender: field(rest, "from").map(str::to_ascii_lowercase),
        }
    } else if let Some(id) = rest.strip_prefix("message-id=") {
        MtaEvent::MessageId(
            id.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned(),
        )
    } else if let Some(h) = rest
        .split_once("header From: ")
        .or_else(|| rest.split_once("header from: "))
    {
        let value = h.1.split(" from ").next().unwrap_or(h.1);
        MtaEvent::HeaderFrom(address_in(value)?)
    } else if rest.starts_with("from=") {
        MtaEvent::From {
            from: field(rest, "from").unwrap_or("").to_ascii_lowercase(),
            size: field(rest, "size").and_then(|v| v.parse().ok()),
            nrcpt: field(rest, "nrcpt").and_then(|v| v.parse().ok()),
        }
    } else if rest.starts_with("to=") {
        let relay = field(rest, "relay").unwrap_or("");
        let status = status_of(field(rest, "status")?);
        let local =
            local_relay(relay) || daemon == "local" || daemon == "virtual" || daemon == "lmtp";
        MtaEvent::To {
            to: field(rest, "to")?.to_ascii_lowercase(),
            status: if local && status == RecipientStatus::Sent {
                RecipientStatus::Delivered
            } else {
                status
            },
            dsn: field(rest, "dsn").map(str::to_owned),
            local,
        }
    } else if let Some(new) = rest.strip_prefix("sender non-delivery notification: ") {
        MtaEvent::BounceCreated {
            new_qid: new.trim().to_owned(),
        }
    } else if rest.trim() == "removed" {
        MtaEvent::Removed
    } else {
        return None;
    };
    Some((qid.to_owned(), event))
}

/// Parses a sendmail message; one line can give several events.
pub(crate) fn parse_sendmail(message: &str) -> Vec<(String, MtaEvent)> {
    let Some((qid, rest)) = split_colon_space(message) else {
        return Vec::new();
    };
    if !is_qid(qid) {
        return Vec::new();
    }
    let q = || qid.to_owned();
    let mut out = Vec::new();
    if rest.starts_with("AUTH=server") {
        let (name, ip) = host_ip(field(rest, "relay").unwrap_or(""));
        out.push((
            q(),
            MtaEvent::Client {
                ip,
                name,
                sasl: field(rest, "authid").map(str::to_owned),
            },
        ));
    } else if rest.starts_with("from=") {
        out.push((
            q(),
            MtaEvent::From {
                from: field(rest, "from").unwrap_or("").to_ascii_lowercase(),
                size: field(rest, "size").and_then(|v| v.parse().ok()),
                nrcpt: field(rest, "nrcpts").and_then(|v| v.parse().ok()),
            },
        ));
        if let Some(id) = field(rest, "msgid") {
            out.push((q(), MtaEvent::MessageId(id.to_owned())));
        }
        match field(rest, "relay") {
            Some(relay) if rest.contains("daemon=") => {
                // `relay=name [ip]`: the value runs to the next comma.
                let full = rest
                    .split("relay=")
                    .nth(1)
                    .and_then(|r| r.split(',').next())
                    .unwrap_or(relay);
                let (name, ip) = host_ip(full);
                out.push((
                    q(),
                    MtaEvent::Client {
                        ip,
                        name,
                        sasl: None,
                    },
                ));
            }
            _ => out.push((q(), MtaEvent::Pickup { sender: None })),
        }
    } else if rest.starts_with("to=") {
        let mailer = field(rest, "mailer").unwrap_or("");
        let local = matches!(mailer, "local" | "prog" | "cyrus" | "lmtp");
        let stat = field(rest, "stat").unwrap_or("");
        let status = match stat {
            "Sent" if local => RecipientStatus::Delivered,
            "Sent" => RecipientStatus::Sent,
            "Deferred" => RecipientStatus::Deferred,
            s if s.starts_with("User") || s.starts_with("Service") || s.starts_with("Host") => {
                RecipientStatus::Bounced
            }
            _ => RecipientStatus::Other,
        };
        // `to=<a@x>,<b@y>, delay=…`: the list runs to the first ", ".
        let list = rest
            .strip_prefix("to=")
            .and_then(|r| r.split(", ").next())
            .unwrap_or("");
        for to in list.split(',') {
            let to = to.trim().trim_start_matches('<').trim_end_matches('>');
            if !to.is_empty() {
                out.push((
                    q(),
                    MtaEvent::To {
                        to: to.to_ascii_lowercase(),
                        status,
                        dsn: field(rest, "dsn").map(str::to_owned),
                        local,
                    },
                ));
            }
        }
    } else if rest.starts_with("DSN:") || rest.contains("postmaster notify") {
        if let Some(new) = rest.split_whitespace().last() {
            out.push((
                q(),
                MtaEvent::BounceCreated {
                    new_qid: new.to_owned(),
                },
            ));
        }
    }
    out
}

/// The mail address in a header value: `"Name" <a@b>` or `a@b`.
pub(crate) fn address_in(value: &str) -> Option<String> {
    let v = match (value.rfind('<'), value.rfind('>')) {
        (Some(a), Some(b)) if b > a => &value[a + 1..b],
        _ => value.split_whitespace().find(|w| w.contains('@'))?,
    };
    let v = v.trim().trim_matches(['"', ';', ',']);
    v.contains('@').then(|| v.to_ascii_lowercase())
}

/// The domain of an address (lower case), `None` for `<>` or a bare user name.
pub fn domain_of(address: &str) -> Option<&str> {
    address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postfix_lines() {
        let (q, e) = parse_postfix(
            "postfix/submission/smtpd",
            "4F2A21234: client=unknown[198.51.100.7], sasl_method=LOGIN, sasl_username=tanaka@example.co.jp",
        )
        .unwrap();
        assert_eq!(q, "4F2A21234");
        assert_eq!(
            e,
            MtaEvent::Client {
                ip: "198.51.100.7".parse().ok(),
                name: "unknown".into(),
                sasl: Some("tanaka@example.co.jp".into())
            }
        );
        let (_, e) = parse_postfix(
            "postfix/smtp",
            "4F2A21234: to=<a@gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.1.1]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (host said: 550 5.1.1 no such user)",
        )
        .unwrap();
        assert!(matches!(
            e,
            MtaEvent::To {
                status: RecipientStatus::Bounced,
                local: false,
                ..
            }
        ));
        let (_, e) = parse_postfix(
            "postfix/cleanup",
            "4F2A21234: info: header From: \"Tanaka\" <ceo@example.co.jp> from unknown[198.51.100.7]; from=<tanaka@example.co.jp> to=<a@b.jp> proto=ESMTP helo=<x>",
        )
        .unwrap();
        assert_eq!(e, MtaEvent::HeaderFrom("ceo@example.co.jp".into()));
        assert!(parse_postfix("postfix/smtpd", "connect from unknown[1.2.3.4]").is_none());
    }

    #[test]
    fn sendmail_lines() {
        let ev = parse_sendmail(
            "u9BAKExq012345: from=<sato@example.co.jp>, size=2048, class=0, nrcpts=2, msgid=<abc@pc01>, proto=ESMTP, daemon=MTA, relay=pc01.example.co.jp [192.168.1.20]",
        );
        assert_eq!(ev.len(), 3);
        let ev = parse_sendmail(
            "u9BAKExq012345: to=<a@x.com>,<b@y.com>, delay=00:00:01, mailer=esmtp, pri=1, relay=mx.x.com. [203.0.113.9], dsn=2.0.0, stat=Sent (ok)",
        );
        assert_eq!(ev.len(), 2);
    }
}

#[cfg(test)]
mod split_tests {
    use super::*;

    #[test]
    fn split_colon_space_matches_split_once() {
        for s in [
            "",
            ":",
            ": ",
            "a: b",
            "a:b: c",
            "a:b",
            "4A00053D1: client=x[1.2.3.4]",
            "::: :",
            "日本: 語",
        ] {
            assert_eq!(split_colon_space(s), s.split_once(": "), "{s:?}");
            for key in ["", "a", "client", ": ", "語", "b: c"] {
                assert_eq!(find_str(s, key), s.find(key), "{s:?} {key:?}");
            }
        }
    }
}
