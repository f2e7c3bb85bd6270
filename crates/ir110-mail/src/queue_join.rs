//! Joins per-line MTA events into one record per message, by queue id.
//!
//! Memory is bounded by the messages in flight (only what the analysis reads of each): a message leaves the table when the MTA logs
//! `removed`, or when it has been idle for two days of log time (sendmail and Exchange log no
//! `removed`; truncated logs end mid-message).

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::mta_event::{PostfixEvent, RecipientStatus};

/// What the join reads of one event (addresses as written; lower-cased when kept).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum JoinEvent<'a> {
    Client {
        ip: Option<IpAddr>,
        sasl: Option<&'a str>,
    },
    Pickup {
        sender: Option<&'a str>,
    },
    MessageId(&'a str),
    HeaderFrom(&'a str),
    From {
        from: &'a str,
    },
    To {
        to: &'a str,
        status: RecipientStatus,
        local: bool,
    },
    BounceCreated,
    Removed,
}

impl<'a> From<PostfixEvent<'a>> for JoinEvent<'a> {
    fn from(e: PostfixEvent<'a>) -> Self {
        match e {
            PostfixEvent::Client { ip, sasl, .. } => JoinEvent::Client { ip, sasl },
            PostfixEvent::Pickup { sender } => JoinEvent::Pickup { sender },
            PostfixEvent::MessageId(id) => JoinEvent::MessageId(id),
            PostfixEvent::HeaderFrom(f) => JoinEvent::HeaderFrom(f),
            PostfixEvent::From { from, .. } => JoinEvent::From { from },
            PostfixEvent::To {
                to, status, local, ..
            } => JoinEvent::To { to, status, local },
            PostfixEvent::BounceCreated { .. } => JoinEvent::BounceCreated,
            PostfixEvent::Removed => JoinEvent::Removed,
        }
    }
}

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

/// A piece of a message's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextRange(u32, u32);

/// One recipient as the join keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JoinedRecipient {
    /// Lower case, in the message's texts.
    pub(crate) address: TextRange,
    pub(crate) status: RecipientStatus,
    pub(crate) local: bool,
}

/// What the per-account analysis needs of one message (the parts of a [`MailMessage`] it
/// reads), with addresses lower case. Its texts share one buffer, and the first recipient
/// is kept inline: most messages cost one allocation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JoinedMessage {
    pub(crate) first_seen: DateTime<Utc>,
    pub(crate) last_seen: DateTime<Utc>,
    pub(crate) client_ip: Option<IpAddr>,
    texts: String,
    sasl_username: Option<TextRange>,
    pub(crate) local_submission: bool,
    envelope_from: Option<TextRange>,
    header_from: Option<TextRange>,
    /// Kept only when reported Message-IDs are looked up.
    message_id: Option<TextRange>,
    first_recipient: Option<JoinedRecipient>,
    more_recipients: Vec<JoinedRecipient>,
    pub(crate) first_loc: Loc,
    pub(crate) client_loc: Option<Loc>,
    pub(crate) first_bounce_loc: Option<Loc>,
}

impl JoinedMessage {
    fn new(ts: DateTime<Utc>, loc: Loc) -> Self {
        JoinedMessage {
            first_seen: ts,
            last_seen: ts,
            client_ip: None,
            texts: String::new(),
            sasl_username: None,
            local_submission: false,
            envelope_from: None,
            header_from: None,
            message_id: None,
            first_recipient: None,
            more_recipients: Vec::new(),
            first_loc: loc,
            client_loc: None,
            first_bounce_loc: None,
        }
    }

    /// Keeps `s` (lower-cased when `lower`) in the message's texts.
    fn keep(&mut self, s: &str, lower: bool) -> TextRange {
        if self.texts.capacity() == 0 {
            self.texts.reserve(96);
        }
        let start = self.texts.len();
        self.texts.push_str(s);
        if lower {
            self.texts[start..].make_ascii_lowercase();
        }
        TextRange(start as u32, self.texts.len() as u32)
    }

    /// The text of a range.
    pub(crate) fn text(&self, r: TextRange) -> &str {
        self.texts
            .get(r.0 as usize..r.1 as usize)
            .unwrap_or_default()
    }

    fn opt(&self, r: Option<TextRange>) -> Option<&str> {
        r.map(|r| self.text(r))
    }

    pub(crate) fn sasl_username(&self) -> Option<&str> {
        self.opt(self.sasl_username)
    }

    pub(crate) fn envelope_from(&self) -> Option<&str> {
        self.opt(self.envelope_from)
    }

    pub(crate) fn header_from(&self) -> Option<&str> {
        self.opt(self.header_from)
    }

    pub(crate) fn message_id(&self) -> Option<&str> {
        self.opt(self.message_id)
    }

    /// Recipients in the order first logged.
    pub(crate) fn recipients(&self) -> impl Iterator<Item = &JoinedRecipient> + Clone {
        self.first_recipient
            .iter()
            .chain(self.more_recipients.iter())
    }

    fn recipient_mut(&mut self, to: &str) -> Option<&mut JoinedRecipient> {
        let texts = &self.texts;
        let same = |r: &JoinedRecipient| {
            texts
                .get(r.address.0 as usize..r.address.1 as usize)
                .is_some_and(|a| a.eq_ignore_ascii_case(to))
        };
        match &mut self.first_recipient {
            Some(r) if same(r) => Some(r),
            _ => self.more_recipients.iter_mut().find(|r| same(r)),
        }
    }

    fn push_recipient(&mut self, r: JoinedRecipient) {
        if self.first_recipient.is_none() {
            self.first_recipient = Some(r);
        } else {
            self.more_recipients.push(r);
        }
    }
}

/// A queue id as the key of the table: inline when short (every Postfix and sendmail id),
/// hashed and compared as the string, so the table behaves as one keyed by `String`.
#[derive(Debug, Clone)]
enum QueueId {
    Inline(u8, [u8; 23]),
    Heap(Box<str>),
}

impl QueueId {
    fn new(s: &str) -> Self {
        let b = s.as_bytes();
        if b.len() <= 23 {
            let mut buf = [0; 23];
            buf[..b.len()].copy_from_slice(b);
            QueueId::Inline(b.len() as u8, buf)
        } else {
            QueueId::Heap(s.into())
        }
    }

    /// The key of a short id, to look it up without re-checking the stored bytes as UTF-8
    /// on every hash and compare (`None`: a long id, looked up as `&str`).
    fn inline(s: &str) -> Option<Self> {
        (s.len() <= 23).then(|| QueueId::new(s))
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            QueueId::Inline(n, buf) => buf.get(..usize::from(*n)).unwrap_or_default(),
            QueueId::Heap(s) => s.as_bytes(),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // The bytes were a `str`.
            QueueId::Inline(n, buf) => {
                std::str::from_utf8(&buf[..usize::from(*n)]).unwrap_or_default()
            }
            QueueId::Heap(s) => s,
        }
    }
}

impl std::borrow::Borrow<str> for QueueId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::hash::Hash for QueueId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // What `str`'s `Hash` does (`Hasher::write_str`'s default, which `FxHasher` keeps on
        // stable): the bytes, then 0xff — without checking the bytes as UTF-8 again.
        state.write(self.as_bytes());
        state.write_u8(0xff);
    }
}

impl PartialEq for QueueId {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for QueueId {}

/// The table of messages in flight, keyed by queue id. The table is operated exactly as a
/// `FxHashMap<String, _>` with `entry(qid)` per event and `remove` on `removed` would be, so
/// that the idle sweep hands out messages in the same order whatever the input layout.
#[derive(Debug, Default)]
pub(crate) struct QueueJoiner {
    open: FxHashMap<QueueId, JoinedMessage>,
    latest: Option<DateTime<Utc>>,
    since_sweep: u64,
    /// Keep Message-IDs (only needed to look up reported ones).
    keep_message_ids: bool,
}

impl QueueJoiner {
    pub(crate) fn new(keep_message_ids: bool) -> Self {
        QueueJoiner {
            keep_message_ids,
            ..QueueJoiner::default()
        }
    }

    /// Applies one event; completed messages are pushed to `done`.
    pub(crate) fn apply(
        &mut self,
        qid: &str,
        ts: DateTime<Utc>,
        event: JoinEvent<'_>,
        loc: Loc,
        done: &mut Vec<JoinedMessage>,
    ) {
        self.latest = Some(self.latest.map_or(ts, |t| t.max(ts)));
        // Every Postfix and sendmail id is short: looked up by its inline key (hashed and
        // compared as bytes, equal to the string's hash and comparison).
        let key = QueueId::inline(qid);
        if matches!(event, JoinEvent::Removed) {
            let m = match &key {
                Some(k) => self.open.remove(k),
                None => self.open.remove(qid),
            };
            if let Some(m) = m {
                done.push(m);
            }
            return;
        }
        // A hit leaves the table as `entry` would; only a miss inserts (and may grow it).
        let hit = match &key {
            Some(k) => self.open.get_mut(k),
            None => self.open.get_mut(qid),
        };
        let m = match hit {
            Some(m) => m,
            None => self
                .open
                .entry(key.unwrap_or_else(|| QueueId::new(qid)))
                .or_insert_with(|| JoinedMessage::new(ts, loc)),
        };
        m.last_seen = m.last_seen.max(ts);
        match event {
            JoinEvent::Client { ip, sasl } => {
                m.client_ip = ip;
                if let Some(s) = sasl {
                    m.sasl_username = Some(m.keep(s, true));
                }
                m.client_loc = Some(loc);
            }
            JoinEvent::Pickup { sender } => {
                m.local_submission = true;
                if m.envelope_from.is_none() {
                    m.envelope_from = sender.map(|s| m.keep(s, true));
                }
            }
            JoinEvent::MessageId(id) => {
                if self.keep_message_ids {
                    m.message_id = Some(m.keep(id, false));
                }
            }
            JoinEvent::HeaderFrom(f) => m.header_from = Some(m.keep(f, true)),
            JoinEvent::From { from } => {
                // The same text as before is kept as it is.
                if m.envelope_from()
                    .is_none_or(|e| !e.eq_ignore_ascii_case(from))
                {
                    m.envelope_from = Some(m.keep(from, true));
                }
            }
            JoinEvent::To { to, status, local } => {
                if status == RecipientStatus::Bounced && m.first_bounce_loc.is_none() {
                    m.first_bounce_loc = Some(loc);
                }
                // A deferred recipient is logged again when finally sent or bounced.
                match m.recipient_mut(to) {
                    Some(r) => r.status = status,
                    None => {
                        let address = m.keep(to, true);
                        m.push_recipient(JoinedRecipient {
                            address,
                            status,
                            local,
                        });
                    }
                }
            }
            JoinEvent::BounceCreated | JoinEvent::Removed => {}
        }
        self.since_sweep += 1;
        if self.since_sweep >= 50_000 {
            self.since_sweep = 0;
            self.sweep(done, Duration::days(2));
        }
    }

    fn sweep(&mut self, done: &mut Vec<JoinedMessage>, idle: Duration) {
        let Some(latest) = self.latest else { return };
        let stale: Vec<QueueId> = self
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
    pub(crate) fn drain(&mut self, done: &mut Vec<JoinedMessage>) {
        let mut rest: Vec<(QueueId, JoinedMessage)> = self.open.drain().collect();
        rest.sort_by(|a, b| {
            a.1.first_seen
                .cmp(&b.1.first_seen)
                .then(a.0.as_str().cmp(b.0.as_str()))
        });
        done.extend(rest.into_iter().map(|(_, m)| m));
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    /// The key's hash and comparison by bytes are the string's, so the table holds and
    /// iterates its entries as a `FxHashMap<String, _>` would.
    #[test]
    fn queue_ids_hash_and_compare_as_their_strings() {
        let fx = rustc_hash::FxBuildHasher;
        let std_hasher = std::collections::hash_map::RandomState::new();
        let mut ids: Vec<String> = vec![String::new(), "A".into(), "é".into()];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for n in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = n % 40;
            let id: String = (0..len)
                .map(|i| {
                    let c = (x >> (i % 60)) as u8;
                    if c % 17 == 0 {
                        'ü'
                    } else {
                        char::from(b'0' + c % 43)
                    }
                })
                .collect();
            ids.push(id);
        }
        for (i, a) in ids.iter().enumerate() {
            let qa = QueueId::new(a);
            assert_eq!(fx.hash_one(&qa), fx.hash_one(a.as_str()), "{a:?}");
            assert_eq!(std_hasher.hash_one(&qa), std_hasher.hash_one(a.as_str()));
            assert_eq!(qa.as_str(), a);
            assert_eq!(QueueId::inline(a).is_some(), a.len() <= 23);
            let b = &ids[(i * 7 + 1) % ids.len()];
            assert_eq!(qa == QueueId::new(b), a == b, "{a:?} {b:?}");
            assert!(qa == QueueId::new(a));
        }
    }
}
