//! Joins per-line MTA events into one record per message, by queue id.
//!
//! Memory is bounded by the messages in flight: a message leaves the table when the MTA logs
//! `removed`, or when it has been idle for two days of log time (sendmail and Exchange log no
//! `removed`; truncated logs end mid-message).

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::mta_event::{MtaEvent, QueuedEvent, RecipientStatus};

/// A place in the input: file index and 1-based line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Loc {
    pub(crate) file: u32,
    pub(crate) line: u64,
}

/// One recipient of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    /// Address (lower case).
    pub address: String,
    /// Outcome.
    pub status: RecipientStatus,
    /// Delivery status code (`5.1.1`).
    pub dsn: Option<String>,
    /// Delivered on this server rather than relayed out.
    pub local: bool,
}

/// One message as the MTA handled it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MailMessage {
    /// Queue id (Postfix/sendmail) or internal message id (Exchange).
    pub queue_id: String,
    /// First line's time.
    pub first_seen: DateTime<Utc>,
    /// Submitting client address.
    pub client_ip: Option<IpAddr>,
    /// Submitting client name as logged.
    pub client_name: Option<String>,
    /// The authenticated account (SASL login; Exchange: sender of an Originating receive).
    pub sasl_username: Option<String>,
    /// Submitted by a program on the server (`pickup`).
    pub local_submission: bool,
    /// Envelope sender; `Some("")` for a bounce (`<>`).
    pub envelope_from: Option<String>,
    /// `From:` header, when logged.
    pub header_from: Option<String>,
    /// `Message-ID:` header.
    pub message_id: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Recipients and their outcomes.
    pub recipients: Vec<Recipient>,
    /// The server generated a non-delivery report for it.
    pub bounce_created: bool,
    #[serde(skip)]
    pub(crate) first_loc: Loc,
    #[serde(skip)]
    pub(crate) client_loc: Option<Loc>,
    #[serde(skip)]
    pub(crate) first_bounce_loc: Option<Loc>,
    #[serde(skip)]
    last_seen: DateTime<Utc>,
}

impl MailMessage {
    fn new(qid: &str, ts: DateTime<Utc>, loc: Loc) -> Self {
        MailMessage {
            queue_id: qid.to_owned(),
            first_seen: ts,
            client_ip: None,
            client_name: None,
            sasl_username: None,
            local_submission: false,
            envelope_from: None,
            header_from: None,
            message_id: None,
            size: None,
            recipients: Vec::new(),
            bounce_created: false,
            first_loc: loc,
            client_loc: None,
            first_bounce_loc: None,
            last_seen: ts,
        }
    }
}

/// The table of messages in flight.
#[derive(Debug, Default)]
pub(crate) struct QueueJoiner {
    open: FxHashMap<String, MailMessage>,
    latest: Option<DateTime<Utc>>,
    since_sweep: u64,
}

impl QueueJoiner {
    /// Applies one event; completed messages are pushed to `done`.
    pub(crate) fn apply(&mut self, ev: QueuedEvent, loc: Loc, done: &mut Vec<MailMessage>) {
        self.latest = Some(self.latest.map_or(ev.ts, |t| t.max(ev.ts)));
        if matches!(ev.event, MtaEvent::Removed) {
            if let Some(m) = self.open.remove(&ev.qid) {
                done.push(m);
            }
            return;
        }
        let m = self
            .open
            .entry(ev.qid.clone())
            .or_insert_with(|| MailMessage::new(&ev.qid, ev.ts, loc));
        m.last_seen = m.last_seen.max(ev.ts);
        match ev.event {
            MtaEvent::Client { ip, name, sasl } => {
                m.client_ip = ip;
                m.client_name = Some(name);
                if sasl.is_some() {
                    m.sasl_username = sasl.map(|s| s.to_ascii_lowercase());
                }
                m.client_loc = Some(loc);
            }
            MtaEvent::Pickup { sender } => {
                m.local_submission = true;
                if m.envelope_from.is_none() {
                    m.envelope_from = sender;
                }
            }
            MtaEvent::MessageId(id) => m.message_id = Some(id),
            MtaEvent::HeaderFrom(f) => m.header_from = Some(f),
            MtaEvent::From {
                from,
                size,
                nrcpt: _,
            } => {
                m.envelope_from = Some(from);
                m.size = size.or(m.size);
            }
            MtaEvent::To {
                to,
                status,
                dsn,
                local,
            } => {
                if status == RecipientStatus::Bounced && m.first_bounce_loc.is_none() {
                    m.first_bounce_loc = Some(loc);
                }
                // A deferred recipient is logged again when finally sent or bounced.
                match m.recipients.iter_mut().find(|r| r.address == to) {
                    Some(r) => {
                        r.status = status;
                        r.dsn = dsn;
                    }
                    None => m.recipients.push(Recipient {
                        address: to,
                        status,
                        dsn,
                        local,
                    }),
                }
            }
            MtaEvent::BounceCreated { .. } => m.bounce_created = true,
            MtaEvent::Removed => {}
        }
        self.since_sweep += 1;
        if self.since_sweep >= 50_000 {
            self.since_sweep = 0;
            self.sweep(done, Duration::days(2));
        }
    }

    fn sweep(&mut self, done: &mut Vec<MailMessage>, idle: Duration) {
        let Some(latest) = self.latest else { return };
        let stale: Vec<String> = self
            .open
            .iter()
            .filter(|(_, m)| latest - m.last_seen > idle)
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            if let Some(m) = self.open.remove(&k) {
                done.push(m);
            }
        }
    }

    /// Completes every message still open (end of input), oldest first.
    pub(crate) fn drain(&mut self, done: &mut Vec<MailMessage>) {
        let mut rest: Vec<MailMessage> = self.open.drain().map(|(_, m)| m).collect();
        rest.sort_by(|a, b| {
            a.first_seen
                .cmp(&b.first_seen)
                .then(a.queue_id.cmp(&b.queue_id))
        });
        done.extend(rest);
    }
}
