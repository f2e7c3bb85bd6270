//! Exchange message-tracking logs (`MSGTRK*.LOG`): W3C-style CSV with a `#Fields:` header.
//!
//! One row per event of a message, joined by `internal-message-id`:
//! `RECEIVE` (submitted: `directionality` Originating for our users — Outlook, OWA or
//! authenticated SMTP — Incoming from the internet), `SEND` (to another server), `DELIVER`
//! (to a local mailbox), `FAIL` (bounced), `DSN` (a report generated). The sending account is
//! `sender-address` of an Originating `RECEIVE`; the client is `original-client-ip` when set.

use std::borrow::Cow;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::mta_event::{MtaEvent, QueuedEvent, RecipientStatus};

/// Column positions from `#Fields:`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExchangeColumns {
    names: Vec<String>,
}

impl ExchangeColumns {
    pub(crate) fn from_header(line: &str) -> Option<Self> {
        let fields = line.strip_prefix("#Fields:")?;
        Some(ExchangeColumns {
            names: split_csv(fields.trim())
                .into_iter()
                .map(|f| f.trim().to_ascii_lowercase())
                .collect(),
        })
    }

    fn get<'r>(&self, row: &'r [Cow<'r, str>], name: &str) -> Option<&'r str> {
        let i = self.names.iter().position(|n| n == name)?;
        row.get(i).map(|v| v.as_ref()).filter(|v| !v.is_empty())
    }
}

/// Splits a CSV line; quoted fields may hold commas and doubled quotes.
pub(crate) fn split_csv(line: &str) -> Vec<Cow<'_, str>> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        if i < b.len() && b[i] == b'"' {
            let mut s = String::new();
            let mut j = i + 1;
            let mut start = j;
            while j < b.len() {
                if b[j] == b'"' {
                    s.push_str(&line[start..j]);
                    if b.get(j + 1) == Some(&b'"') {
                        s.push('"');
                        j += 2;
                        start = j;
                        continue;
                    }
                    j += 1;
                    break;
                }
                j += 1;
            }
            out.push(Cow::Owned(s));
            i = line[j..].find(',').map_or(b.len() + 1, |p| j + p + 1);
        } else {
            let end = line[i.min(line.len())..]
                .find(',')
                .map_or(line.len(), |p| i + p);
            out.push(Cow::Borrowed(&line[i.min(line.len())..end]));
            i = end + 1;
        }
        if i > b.len() {
            break;
        }
    }
    out
}

/// Parses one data row into events.
pub(crate) fn parse_row(line: &str, cols: &ExchangeColumns) -> Option<Vec<QueuedEvent>> {
    let row = split_csv(line.trim_end());
    let ts: DateTime<Utc> = DateTime::parse_from_rfc3339(cols.get(&row, "date-time")?)
        .ok()?
        .with_timezone(&Utc);
    let qid = cols
        .get(&row, "internal-message-id")
        .or_else(|| cols.get(&row, "message-id"))?
        .to_owned();
    let event_id = cols.get(&row, "event-id")?.to_ascii_uppercase();
    let recipients: Vec<String> = cols
        .get(&row, "recipient-address")
        .unwrap_or("")
        .split(';')
        .filter(|r| !r.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let sender = cols
        .get(&row, "sender-address")
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut events = Vec::new();
    let ev = |event| QueuedEvent {
        qid: qid.clone(),
        ts,
        event,
    };
    match event_id.as_str() {
        "RECEIVE" => {
            let originating = cols
                .get(&row, "directionality")
                .is_some_and(|d| d.eq_ignore_ascii_case("originating"));
            let ip = cols
                .get(&row, "original-client-ip")
                .or_else(|| cols.get(&row, "client-ip"))
                .and_then(|v| v.parse::<IpAddr>().ok());
            events.push(ev(MtaEvent::Client {
                ip,
                name: cols.get(&row, "client-hostname").unwrap_or("").to_owned(),
                sasl: originating
                    .then(|| sender.clone())
                    .filter(|s| !s.is_empty()),
            }));
            let sender = if sender == "<>" || sender.starts_with("microsoftexchange") {
                String::new()
            } else {
                sender
            };
            events.push(ev(MtaEvent::From {
                from: sender,
                size: cols.get(&row, "total-bytes").and_then(|v| v.parse().ok()),
                nrcpt: cols
                    .get(&row, "recipient-count")
                    .and_then(|v| v.parse().ok()),
            }));
            if let Some(id) = cols.get(&row, "message-id") {
                events.push(ev(MtaEvent::MessageId(
                    id.trim_start_matches('<').trim_end_matches('>').to_owned(),
                )));
            }
        }
        "SEND" | "DELIVER" | "FAIL" | "DEFER" => {
            let (status, local) = match event_id.as_str() {
                "SEND" => (RecipientStatus::Sent, false),
                "DELIVER" => (RecipientStatus::Delivered, true),
                "FAIL" => (RecipientStatus::Bounced, false),
                _ => (RecipientStatus::Deferred, false),
            };
            let dsn = cols.get(&row, "recipient-status").map(str::to_owned);
            for to in recipients {
                events.push(ev(MtaEvent::To {
                    to,
                    status,
                    dsn: dsn.clone(),
                    local,
                }));
            }
        }
        "DSN" => events.push(ev(MtaEvent::BounceCreated {
            new_qid: String::new(),
        })),
        _ => {}
    }
    Some(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields() {
        let v = split_csv(r#"a,"b,c","d ""e""",,f"#);
        assert_eq!(v, ["a", "b,c", "d \"e\"", "", "f"]);
    }
}
