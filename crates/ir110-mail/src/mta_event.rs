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
///
/// Which `key` counts is the first one found by scanning `text` left to right for `key`,
/// skipping past each occurrence that is not a match, where a match stands at the start, after
/// ` `, `,` or `;`, or right where the scan resumed (after the previous occurrence the scan
/// met), and is followed by `=`. The match is found from the `=` signs instead (far fewer
/// candidates than the key's first letter), asking of each candidate whether the scan would
/// meet it (see [`met_by_scan`]).
pub(crate) fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let pos = match overlap_shift(key.as_bytes()) {
        Shift::Several => field_scan(text, key)?,
        shift => field_by_equals(
            text.as_bytes(),
            key.as_bytes(),
            shift,
            memchr::memchr_iter(b'=', text.as_bytes()),
        )?,
    };
    Some(field_value(&text[pos + key.len() + 1..]))
}

/// The value after `key=`: `<…>` up to the first `>`, else up to `,`, ` ` or `;`.
fn field_value(v: &str) -> &str {
    let end = if v.starts_with('<') {
        memchr::memchr(b'>', v.as_bytes()).map_or(v.len(), |e| e + 1)
    } else {
        memchr::memchr3(b',', b' ', b';', v.as_bytes()).unwrap_or(v.len())
    };
    v[..end].trim_start_matches('<').trim_end_matches('>')
}

/// How two occurrences of a key can overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shift {
    /// Never (`to`, `relay`): every occurrence is met by the scan.
    None,
    /// Only at this distance (`status`: 5, its `s`).
    One(usize),
    /// At several distances (`aa`, `abab`): the scan as written decides.
    Several,
}

const fn overlap_shift(key: &[u8]) -> Shift {
    let n = key.len();
    if n == 0 {
        return Shift::Several;
    }
    let mut found = Shift::None;
    let mut d = 1;
    while d < n {
        // Does the prefix of length n - d equal the suffix of that length?
        let mut i = 0;
        while i < n - d && key[i] == key[d + i] {
            i += 1;
        }
        if i == n - d {
            found = match found {
                Shift::None => Shift::One(d),
                _ => return Shift::Several,
            };
        }
        d += 1;
    }
    found
}

/// A key with its overlap worked out once (at compile time for the keys here).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    name: &'static str,
    shift: Shift,
}

impl Key {
    pub(crate) const fn new(name: &'static str) -> Self {
        Key {
            name,
            shift: overlap_shift(name.as_bytes()),
        }
    }
}

/// The `=` signs of a `k=v` list, found once for several [`field`] look-ups.
pub(crate) struct Fields<'a> {
    text: &'a str,
    eqs: [u16; 32],
    n: usize,
    /// All `=` signs are in `eqs` (else look-ups fall back to [`field`]).
    complete: bool,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut f = Fields {
            text,
            eqs: [0; 32],
            n: 0,
            complete: text.len() <= usize::from(u16::MAX),
        };
        if f.complete {
            let b = text.as_bytes();
            // Eight bytes at a time: the zero-byte trick marks every `=` (in order), and
            // can also mark the byte after one, so each mark is checked.
            let mut chunks = b.chunks_exact(8);
            let mut at = 0;
            for chunk in &mut chunks {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                let x = u64::from_le_bytes(word) ^ 0x3d3d_3d3d_3d3d_3d3d;
                let mut marks = !x & x.wrapping_sub(0x0101_0101_0101_0101) & 0x8080_8080_8080_8080;
                while marks != 0 {
                    let i = at + (marks.trailing_zeros() / 8) as usize;
                    if b[i] == b'=' && !f.push(i) {
                        return f;
                    }
                    marks &= marks - 1;
                }
                at += 8;
            }
            for (i, &c) in chunks.remainder().iter().enumerate() {
                if c == b'=' && !f.push(at + i) {
                    return f;
                }
            }
        }
        f
    }

    /// Records an `=` at `i`; `false` (and the list marked incomplete) when full.
    fn push(&mut self, i: usize) -> bool {
        if self.n == self.eqs.len() {
            self.complete = false;
            return false;
        }
        self.eqs[self.n] = i as u16;
        self.n += 1;
        true
    }

    /// [`field`]`(text, key)`.
    pub(crate) fn get(&self, key: Key) -> Option<&'a str> {
        if !self.complete || key.shift == Shift::Several {
            return field(self.text, key.name);
        }
        let eqs = self.eqs[..self.n].iter().map(|&e| usize::from(e));
        let pos = field_by_equals(self.text.as_bytes(), key.name.as_bytes(), key.shift, eqs)?;
        Some(field_value(&self.text[pos + key.name.len() + 1..]))
    }
}

/// The scan as written (position of the key in `text`).
fn field_scan(text: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    loop {
        let pos = from + find_str(&text[from..], key)?;
        let before_ok = pos == from || matches!(text.as_bytes()[pos - 1], b' ' | b',' | b';');
        let after = pos + key.len();
        if before_ok && text.as_bytes().get(after) == Some(&b'=') {
            return Some(pos);
        }
        from = after;
    }
}

/// Whether the left-to-right scan for `key` (which resumes after each occurrence it meets)
/// meets the occurrence at `pos`. It skips one only when it met an occurrence overlapping
/// it; with a single overlap distance `d`, that is the one at `pos - d` — met unless the one
/// at `pos - 2d` was, and so on back: the run of overlapping occurrences alternates.
fn met_by_scan(text: &[u8], key: &[u8], pos: usize, shift: Shift) -> bool {
    let Shift::One(d) = shift else {
        return true;
    };
    let mut met = true;
    let mut at = pos;
    while at >= d && same_at(text, at - d, key) {
        met = !met;
        at -= d;
    }
    met
}

fn same_at(text: &[u8], at: usize, key: &[u8]) -> bool {
    text.get(at..at + key.len()).is_some_and(|w| same(w, key))
}

/// [`field_scan`] from the `=` signs, for a key with at most one overlap distance.
fn field_by_equals(
    text: &[u8],
    key: &[u8],
    shift: Shift,
    equals: impl Iterator<Item = usize>,
) -> Option<usize> {
    let n = key.len();
    for eq in equals {
        let Some(pos) = eq.checked_sub(n) else {
            continue;
        };
        if !same(&text[pos..eq], key) || !met_by_scan(text, key, pos, shift) {
            continue;
        }
        // Where the scan resumed: the start, or the end of the occurrence it met before.
        let resumed_here = pos == 0
            || (pos >= n && same_at(text, pos - n, key) && met_by_scan(text, key, pos - n, shift));
        if resumed_here || matches!(text[pos - 1], b' ' | b',' | b';') {
            return Some(pos);
        }
    }
    None
}

/// Byte-wise equality of short slices, inline (no library call for a few bytes).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `name[1.2.3.4]` or `name [1.2.3.4]` → (name, ip).
fn host_ip(s: &str) -> (String, Option<IpAddr>) {
    let (name, ip) = host_ip_ref(s);
    (name.to_owned(), ip)
}

/// [`host_ip`] borrowing the name.
fn host_ip_ref(s: &str) -> (&str, Option<IpAddr>) {
    match s.find('[') {
        Some(open) => {
            let name = s[..open].trim();
            let ip = s[open + 1..].split(']').next().and_then(|mut v| {
                // `trim_start_matches("IPv6:")` without a substring searcher.
                while let Some(r) = v.strip_prefix("IPv6:") {
                    v = r;
                }
                v.parse().ok()
            });
            (name, ip)
        }
        None => (s.trim(), None),
    }
}

fn local_relay(relay: &str) -> bool {
    // As `to_ascii_lowercase` then `starts_with`/`contains`, without the copy.
    let r = relay.as_bytes();
    let dovecot = memchr::memchr2_iter(b'd', b'D', r).any(|i| {
        r.get(i..i + 7)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"dovecot"))
    });
    dovecot
        || [
            "local", "virtual", "lmtp", "private/", "mailbox", "procmail", "maildrop",
        ]
        .iter()
        .any(|m| r.len() >= m.len() && r[..m.len()].eq_ignore_ascii_case(m.as_bytes()))
}

fn status_of(s: &str) -> RecipientStatus {
    if s.eq_ignore_ascii_case("sent") {
        RecipientStatus::Sent
    } else if s.eq_ignore_ascii_case("deferred") {
        RecipientStatus::Deferred
    } else if s.eq_ignore_ascii_case("bounced") {
        RecipientStatus::Bounced
    } else {
        RecipientStatus::Other
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
    while let Some(i) = memchr::memchr(first, &b[from..]) {
        let at = from + i;
        if b.get(at..at + k.len()).is_some_and(|w| same(w, k)) {
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

/// One fact of a Postfix line, borrowed from the line: addresses as written (lower-cased
/// when kept), so that parsing allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PostfixEvent<'a> {
    /// See [`MtaEvent::Client`]; `name` trimmed, `sasl` as written.
    Client {
        ip: Option<IpAddr>,
        name: &'a str,
        sasl: Option<&'a str>,
    },
    /// See [`MtaEvent::Pickup`].
    Pickup { sender: Option<&'a str> },
    /// See [`MtaEvent::MessageId`].
    MessageId(&'a str),
    /// See [`MtaEvent::HeaderFrom`].
    HeaderFrom(&'a str),
    /// See [`MtaEvent::From`].
    From {
        from: &'a str,
        size: Option<u64>,
        nrcpt: Option<u32>,
    },
    /// See [`MtaEvent::To`].
    To {
        to: &'a str,
        status: RecipientStatus,
        dsn: Option<&'a str>,
        local: bool,
    },
    /// See [`MtaEvent::BounceCreated`].
    BounceCreated { new_qid: &'a str },
    /// See [`MtaEvent::Removed`].
    Removed,
}

impl PostfixEvent<'_> {
    /// The owned event, lower-cased where [`MtaEvent`] keeps addresses lower case.
    pub(crate) fn to_event(self) -> MtaEvent {
        match self {
            PostfixEvent::Client { ip, name, sasl } => MtaEvent::Client {
                ip,
                name: name.to_owned(),
                sasl: sasl.map(str::to_owned),
            },
            PostfixEvent::Pickup { sender } => MtaEvent::Pickup {
                sender: sender.map(str::to_ascii_lowercase),
            },
            PostfixEvent::MessageId(id) => MtaEvent::MessageId(id.to_owned()),
            PostfixEvent::HeaderFrom(f) => MtaEvent::HeaderFrom(f.to_ascii_lowercase()),
            PostfixEvent::From { from, size, nrcpt } => MtaEvent::From {
                from: from.to_ascii_lowercase(),
                size,
                nrcpt,
            },
            PostfixEvent::To {
                to,
                status,
                dsn,
                local,
            } => MtaEvent::To {
                to: to.to_ascii_lowercase(),
                status,
                dsn: dsn.map(str::to_owned),
                local,
            },
            PostfixEvent::BounceCreated { new_qid } => MtaEvent::BounceCreated {
                new_qid: new_qid.to_owned(),
            },
            PostfixEvent::Removed => MtaEvent::Removed,
        }
    }
}

impl<'a> PostfixEvent<'a> {
    /// The borrowed view of an owned event (its addresses are lower case already, and
    /// lower-casing them again changes nothing).
    pub(crate) fn of(event: &'a MtaEvent) -> Self {
        match event {
            MtaEvent::Client { ip, name, sasl } => PostfixEvent::Client {
                ip: *ip,
                name,
                sasl: sasl.as_deref(),
            },
            MtaEvent::Pickup { sender } => PostfixEvent::Pickup {
                sender: sender.as_deref(),
            },
            MtaEvent::MessageId(id) => PostfixEvent::MessageId(id),
            MtaEvent::HeaderFrom(f) => PostfixEvent::HeaderFrom(f),
            MtaEvent::From { from, size, nrcpt } => PostfixEvent::From {
                from,
                size: *size,
                nrcpt: *nrcpt,
            },
            MtaEvent::To {
                to,
                status,
                dsn,
                local,
            } => PostfixEvent::To {
                to,
                status: *status,
                dsn: dsn.as_deref(),
                local: *local,
            },
            MtaEvent::BounceCreated { new_qid } => PostfixEvent::BounceCreated { new_qid },
            MtaEvent::Removed => PostfixEvent::Removed,
        }
    }
}

/// What follows `header From: ` (else `header from: `) in `rest`, as
/// `split_once(…).map(|h| h.1)`; lines without `header ` (nearly all) are ruled out with one
/// byte search.
fn header_from_value(rest: &str) -> Option<&str> {
    // `h` is rare in Postfix messages: candidates are found from it.
    let first = find_str(rest, "header ")?;
    // Both patterns start with `header `: none can occur before its first occurrence.
    let tail = &rest[first..];
    let at = find_str(tail, "header From: ").or_else(|| find_str(tail, "header from: "))?;
    Some(&tail[at + "header From: ".len()..])
}

/// Parses a Postfix message (the part after `prog[pid]: `).
#[cfg(test)]
pub(crate) fn parse_postfix(program: &str, message: &str) -> Option<(String, MtaEvent)> {
    parse_postfix_ref(program, message).map(|(qid, e)| (qid.to_owned(), e.to_event()))
}

/// [`parse_postfix`] without allocating: the queue id and the event borrow the message.
pub(crate) fn parse_postfix_ref<'a>(
    program: &str,
    message: &'a str,
) -> Option<(&'a str, PostfixEvent<'a>)> {
    let (qid, rest) = split_colon_space(message)?;
    if !is_qid(qid) {
        return None;
    }
    // `rsplit('/').next()`, without a reverse character search.
    let daemon = match program.bytes().rposition(|b| b == b'/') {
        Some(slash) => &program[slash + 1..],
        None => program,
    };
    const SASL_USERNAME: Key = Key::new("sasl_username");
    const FROM: Key = Key::new("from");
    const SIZE: Key = Key::new("size");
    const NRCPT: Key = Key::new("nrcpt");
    const RELAY: Key = Key::new("relay");
    const STATUS: Key = Key::new("status");
    const DSN: Key = Key::new("dsn");
    // `field(rest, k)` where `rest` starts with `k=` is the value right there.
    let event = if let Some(client) = rest.strip_prefix("client=") {
        let (name, ip) = host_ip_ref(field_value(client));
        PostfixEvent::Client {
            ip,
            name,
            sasl: Fields::new(rest).get(SASL_USERNAME),
        }
    } else if daemon == "pickup" {
        PostfixEvent::Pickup {
            sender: Fields::new(rest).get(FROM),
        }
    } else if let Some(id) = rest.strip_prefix("message-id=") {
        PostfixEvent::MessageId(id.trim().trim_start_matches('<').trim_end_matches('>'))
    } else if let Some(h) = header_from_value(rest) {
        let value = h.split(" from ").next().unwrap_or(h);
        PostfixEvent::HeaderFrom(address_in_ref(value)?)
    } else if let Some(from) = rest.strip_prefix("from=") {
        let f = Fields::new(rest);
        PostfixEvent::From {
            from: field_value(from),
            size: f.get(SIZE).and_then(|v| v.parse().ok()),
            nrcpt: f.get(NRCPT).and_then(|v| v.parse().ok()),
        }
    } else if let Some(to) = rest.strip_prefix("to=") {
        let f = Fields::new(rest);
        let relay = f.get(RELAY).unwrap_or("");
        let status = status_of(f.get(STATUS)?);
        let local =
            local_relay(relay) || daemon == "local" || daemon == "virtual" || daemon == "lmtp";
        PostfixEvent::To {
            to: field_value(to),
            status: if local && status == RecipientStatus::Sent {
                RecipientStatus::Delivered
            } else {
                status
            },
            dsn: f.get(DSN),
            local,
        }
    } else if let Some(new) = rest.strip_prefix("sender non-delivery notification: ") {
        PostfixEvent::BounceCreated {
            new_qid: new.trim(),
        }
    } else if rest.trim() == "removed" {
        PostfixEvent::Removed
    } else {
        return None;
    };
    Some((qid, event))
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
/// As written (not lower-cased).
fn address_in_ref(value: &str) -> Option<&str> {
    let v = match (value.rfind('<'), value.rfind('>')) {
        (Some(a), Some(b)) if b > a => &value[a + 1..b],
        _ => value.split_whitespace().find(|w| w.contains('@'))?,
    };
    let v = v.trim().trim_matches(['"', ';', ',']);
    v.contains('@').then_some(v)
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

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    /// `field` as it was written before the `=`-sign search (the reference).
    fn field_reference<'a>(text: &'a str, key: &str) -> Option<&'a str> {
        let mut search = text;
        loop {
            let pos = search.find(key)?;
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

    fn local_relay_reference(relay: &str) -> bool {
        let r = relay.to_ascii_lowercase();
        [
            "local", "virtual", "lmtp", "dovecot", "private/", "mailbox", "procmail", "maildrop",
        ]
        .iter()
        .any(|m| r.starts_with(m) || r.contains("dovecot"))
    }

    fn status_reference(s: &str) -> RecipientStatus {
        match s.to_ascii_lowercase().as_str() {
            "sent" => RecipientStatus::Sent,
            "deferred" => RecipientStatus::Deferred,
            "bounced" => RecipientStatus::Bounced,
            _ => RecipientStatus::Other,
        }
    }

    /// Random short strings over an alphabet rich in the characters the parsers look at.
    fn strings(alphabet: &[&str], count: usize, max_len: u64) -> Vec<String> {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        (0..count)
            .map(|_| {
                let len = next() % max_len;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn field_matches_the_scan_as_written() {
        let keys = [
            "to",
            "status",
            "stat",
            "from",
            "size",
            "relay",
            "dsn",
            "sasl_username",
            "client",
            "nrcpt",
            "nrcpts",
            "aa",
            "aba",
            "s",
        ];
        let alphabet = [
            "t", "o", "s", "a", "u", "=", " ", ",", ";", "<", ">", "to", "status", "stat", "from",
            "=<", "aa", "b", "é", "relay", "dsn", "nrcpt", "x",
        ];
        let mut found = 0;
        for text in strings(&alphabet, 60_000, 24) {
            for key in keys {
                let want = field_reference(&text, key);
                assert_eq!(field(&text, key), want, "{text:?} {key:?}");
                assert_eq!(
                    Fields::new(&text).get(Key::new(key)),
                    want,
                    "{text:?} {key:?}"
                );
                found += usize::from(want.is_some());
            }
        }
        assert!(found > 2_000, "{found}");
        for line in [
            "to=<a@b.jp>, relay=mx[1.2.3.4]:25, delay=0.9, dsn=2.0.0, status=sent (250 ok)",
            "toto=x, to=<y>",
            "statustatus=1 status=2",
            "sstatus=1",
            " ,;status=<a>>,",
            &"a=1, ".repeat(40),
            &format!("{}status=9", "x=, ".repeat(33)),
        ] {
            for key in keys {
                assert_eq!(field(line, key), field_reference(line, key), "{line} {key}");
                let fields = Fields::new(line);
                assert_eq!(
                    fields.get(Key::new(key)),
                    field_reference(line, key),
                    "{line}"
                );
            }
        }
    }

    #[test]
    fn relay_and_status_match_the_lower_cased_copies() {
        let alphabet = [
            "local", "LoCaL", "virtual", "lmtp", "DoveCot", "dovecot", "private/", "mailbox",
            "procmail", "maildrop", "x", "[", "é", "L", "d", "ovecot", "sent", "SENT", "Deferred",
            "bounced", "s",
        ];
        for s in strings(&alphabet, 20_000, 5) {
            assert_eq!(local_relay(&s), local_relay_reference(&s), "{s:?}");
            assert_eq!(status_of(&s), status_reference(&s), "{s:?}");
        }
    }

    /// `parse_postfix` as it was before the borrowed parser (the reference).
    fn parse_postfix_reference(program: &str, message: &str) -> Option<(String, MtaEvent)> {
        let field = field_reference;
        let host_ip = |s: &str| -> (String, Option<IpAddr>) {
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
        };
        let address_in = |value: &str| -> Option<String> {
            let v = match (value.rfind('<'), value.rfind('>')) {
                (Some(a), Some(b)) if b > a => &value[a + 1..b],
                _ => value.split_whitespace().find(|w| w.contains('@'))?,
            };
            let v = v.trim().trim_matches(['"', ';', ',']);
            v.contains('@').then(|| v.to_ascii_lowercase())
        };
        let (qid, rest) = message.split_once(": ")?;
        if !is_qid(qid) {
            return None;
        }
        let daemon = program.rsplit('/').next().unwrap_or(program);
        let event =
            if let Some(client) = field(rest, "client").filter(|_| rest.starts_with("client=")) {
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
                let status = status_reference(field(rest, "status")?);
                let local = local_relay_reference(relay)
                    || daemon == "local"
                    || daemon == "virtual"
                    || daemon == "lmtp";
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

    #[test]
    fn the_borrowed_postfix_parser_reads_as_the_previous_one() {
        let messages = [
            "4F2A21234: client=unknown[198.51.100.7], sasl_method=LOGIN, sasl_username=Tanaka@Example.co.jp",
            "4F2A21234: client=h [IPv6:2001:db8::1], sasl_username=x",
            "4F2A21234: to=<A@Gmail.com>, relay=gmail-smtp-in.l.google.com[142.250.1.1]:25, delay=1.2, dsn=5.1.1, status=bounced (550)",
            "4F2A21234: to=<a@b>, relay=Dovecot, status=SENT",
            "4F2A21234: to=<a@b>, relay=local, dsn=2.0.0, status=sent (delivered)",
            "4F2A21234: from=<Sato@Example.co.jp>, size=3010, nrcpt=1 (queue active)",
            "4F2A21234: from=<>, size=x, nrcpt=",
            "4F2A21234: info: header From: \"T\" <CEO@example.co.jp> from unknown[1.2.3.4]; from=<t@e> to=<a@b>",
            "4F2A21234: info: header from: ceo@x.jp from y",
            "4F2A21234: message-id=< <id@x> >",
            "4F2A21234: sender non-delivery notification: 4F2A25678 ",
            "4F2A21234:  removed ",
            "4F2A21234: uid=0 from=<Root@Host>",
            "4F2A: removed",
            "connect from unknown[1.2.3.4]",
        ];
        let alphabet = [
            "=", ",", " ", "<", ">", "[", "]", ":", "é", "s", "to", "from", "status", "x",
        ];
        let mut lines: Vec<String> = messages.iter().map(|m| (*m).to_owned()).collect();
        for (i, noise) in strings(&alphabet, 6_000, 4).into_iter().enumerate() {
            let m = messages[i % messages.len()];
            let at = (i * 7) % m.len();
            if m.is_char_boundary(at) {
                lines.push(format!("{}{noise}{}", &m[..at], &m[at..]));
            }
        }
        let mut parsed = 0;
        for program in [
            "postfix/smtpd",
            "postfix/pickup",
            "postfix/virtual",
            "postfix/smtp",
        ] {
            for m in &lines {
                let want = parse_postfix_reference(program, m);
                assert_eq!(parse_postfix(program, m), want, "{program} {m:?}");
                parsed += usize::from(want.is_some());
            }
        }
        assert!(parsed > 10_000, "{parsed}");
    }

    #[test]
    fn header_from_matches_split_once() {
        let alphabet = [
            "header ",
            "header From: ",
            "header from: ",
            "From: ",
            "from: ",
            "x",
            " ",
            "h",
            "é",
            "header",
        ];
        for s in strings(&alphabet, 20_000, 8) {
            let want = s
                .split_once("header From: ")
                .or_else(|| s.split_once("header from: "))
                .map(|h| h.1);
            assert_eq!(header_from_value(&s), want, "{s:?}");
        }
    }
}
