//! Parsing one block of whole log lines into compact items, independently of every other
//! block, so that the blocks of a batch are parsed on several threads. What depends on the
//! lines before — the year of BSD stamps, joining by queue id, the per-account state — is
//! left to the sequential pass over the items in file order (see `analysis`).
//!
//! Per line this does what the line-by-line reader did: lossy UTF-8 (only lines that are
//! not valid UTF-8 are copied), `\r`/BOM trimming, `#Fields:` headers switching to Exchange
//! rows, and the syslog envelope with the Postfix/sendmail parsers.

use std::net::IpAddr;

use crate::exchange::{ExchangeColumns, parse_row};
use crate::mta_event::{
    MtaEvent, PostfixEvent, RecipientStatus, parse_postfix_ref, parse_sendmail,
};
use crate::queue_join::JoinEvent;
use crate::syslog_line::{Stamp, split_envelope};

/// The line was from `postfix/*`.
pub(crate) const FORMAT_POSTFIX: u8 = 1;
/// The line was from sendmail.
pub(crate) const FORMAT_SENDMAIL: u8 = 2;

/// A piece of the block's text: byte offsets (start, end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span(u32, u32);

/// A [`JoinEvent`] whose texts are spans of the block (so that the parsed block can be
/// handed to another thread together with its text).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SpanEvent {
    Client {
        ip: Option<IpAddr>,
        sasl: Option<Span>,
    },
    Pickup {
        sender: Option<Span>,
    },
    MessageId(Span),
    HeaderFrom(Span),
    From {
        from: Span,
    },
    To {
        to: Span,
        status: RecipientStatus,
        local: bool,
    },
    BounceCreated,
    Removed,
}

/// What one line (or one of its events) contributes, in file order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    /// 0-based line within the block.
    pub(crate) line: u32,
    /// The line's stamp (a BSD one moves the year clock even without an event).
    pub(crate) stamp: Stamp,
    /// [`FORMAT_POSTFIX`], [`FORMAT_SENDMAIL`] or 0: names the file's format once the
    /// stamp resolves to a real date.
    pub(crate) format: u8,
    pub(crate) event: ItemEvent,
}

/// The event of an item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ItemEvent {
    /// None (the line only moves the clock or names the format).
    None,
    /// A Postfix event in the block's text: queue id and event.
    Postfix(Span, SpanEvent),
    /// A sendmail or Exchange event, or one from a line that was not valid UTF-8.
    Owned(Box<(String, MtaEvent)>),
}

/// A block's bytes: as text when valid UTF-8 (spans point into it), else as read.
#[derive(Debug)]
pub(crate) enum BlockText {
    Text(String),
    Bytes(Vec<u8>),
}

impl BlockText {
    /// The buffer back, for the next read.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        match self {
            BlockText::Text(s) => s.into_bytes(),
            BlockText::Bytes(b) => b,
        }
    }

    fn text(&self) -> &str {
        match self {
            BlockText::Text(s) => s,
            BlockText::Bytes(_) => "",
        }
    }
}

/// A parsed block: its bytes and items.
#[derive(Debug)]
pub(crate) struct BlockOut {
    pub(crate) text: BlockText,
    pub(crate) items: Vec<Item>,
    /// Lines in the block (as a line reader counts them: a last line needs no newline).
    pub(crate) lines: u64,
    /// A `#Fields:` header was in the block.
    pub(crate) saw_header: bool,
}

impl BlockOut {
    /// The join's view of a Postfix item's event, borrowing the block's text.
    pub(crate) fn event(&self, qid: Span, e: &SpanEvent) -> Option<(&str, JoinEvent<'_>)> {
        let t = self.text.text();
        let s = |sp: Span| t.get(sp.0 as usize..sp.1 as usize);
        let o = |sp: Option<Span>| match sp {
            Some(sp) => s(sp).map(Some),
            None => Some(None),
        };
        let event = match *e {
            SpanEvent::Client { ip, sasl } => JoinEvent::Client { ip, sasl: o(sasl)? },
            SpanEvent::Pickup { sender } => JoinEvent::Pickup { sender: o(sender)? },
            SpanEvent::MessageId(id) => JoinEvent::MessageId(s(id)?),
            SpanEvent::HeaderFrom(f) => JoinEvent::HeaderFrom(s(f)?),
            SpanEvent::From { from } => JoinEvent::From { from: s(from)? },
            SpanEvent::To { to, status, local } => JoinEvent::To {
                to: s(to)?,
                status,
                local,
            },
            SpanEvent::BounceCreated => JoinEvent::BounceCreated,
            SpanEvent::Removed => JoinEvent::Removed,
        };
        Some((s(qid)?, event))
    }
}

/// The columns of the last `#Fields:` header line of `block`, if it has one (the layout the
/// next block starts in).
pub(crate) fn last_header(block: &[u8]) -> Option<ExchangeColumns> {
    const BOM: &[u8] = "\u{feff}".as_bytes();
    // `#` is rare in syslog: one fast byte search rather than a substring search.
    for at in memchr::memrchr_iter(b'#', block) {
        if !block[at..].starts_with(b"#Fields:") {
            continue;
        }
        let start = memchr::memrchr(b'\n', &block[..at]).map_or(0, |n| n + 1);
        // Only whole BOMs may stand before the `#` (they are trimmed off the line).
        let mut lead = &block[start..at];
        while let Some(rest) = lead.strip_prefix(BOM) {
            lead = rest;
        }
        if !lead.is_empty() {
            continue;
        }
        let end = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |n| at + n);
        let text = String::from_utf8_lossy(&block[at..end]);
        if let Some(cols) = ExchangeColumns::from_header(text.trim_end_matches(['\n', '\r'])) {
            return Some(cols);
        }
    }
    None
}

/// Parses a block: `cols` is the Exchange layout in force at its start; `items` is a
/// recycled vector.
pub(crate) fn parse_block(
    block: Vec<u8>,
    cols: Option<&ExchangeColumns>,
    mut items: Vec<Item>,
) -> BlockOut {
    items.clear();
    // One check for the whole block; lines are only checked one by one when it fails.
    let text = match String::from_utf8(block) {
        Ok(t) => BlockText::Text(t),
        Err(e) => BlockText::Bytes(e.into_bytes()),
    };
    let mut saw_header = false;
    let lines = match &text {
        BlockText::Text(t) => parse_lines(t.as_bytes(), Some(t), cols, &mut items, &mut saw_header),
        BlockText::Bytes(b) => parse_lines(b, None, cols, &mut items, &mut saw_header),
    };
    BlockOut {
        text,
        items,
        lines,
        saw_header,
    }
}

fn parse_lines(
    block: &[u8],
    text: Option<&str>,
    cols: Option<&ExchangeColumns>,
    items: &mut Vec<Item>,
    saw_header: &mut bool,
) -> u64 {
    let base = block.as_ptr() as usize;
    let mut own_cols: Option<ExchangeColumns> = None;
    let mut pos = 0;
    let mut idx: u32 = 0;
    while pos < block.len() {
        let end = memchr::memchr(b'\n', &block[pos..]).map_or(block.len(), |i| pos + i);
        let line_idx = idx;
        idx += 1;
        let cols_now = own_cols.as_ref().or(cols);
        let header = match text {
            Some(t) => line_items(&t[pos..end], line_idx, cols_now, &mut |i| {
                items.push(spanned(i, base));
            }),
            None => {
                let line = String::from_utf8_lossy(&block[pos..end]);
                line_items(&line, line_idx, cols_now, &mut |i| items.push(owned(i)))
            }
        };
        pos = end + 1;
        if let Some(c) = header {
            own_cols = Some(c);
            *saw_header = true;
        }
    }
    u64::from(idx)
}

/// A line's item with its texts as spans of the block starting at address `base`.
fn spanned(item: LineItem<'_>, base: usize) -> Item {
    let sp = |s: &str| {
        let start = (s.as_ptr() as usize).wrapping_sub(base);
        Span(start as u32, (start + s.len()) as u32)
    };
    let event = match item.event {
        LineEvent::None => ItemEvent::None,
        LineEvent::Owned(b) => ItemEvent::Owned(b),
        LineEvent::Postfix(qid, e) => ItemEvent::Postfix(
            sp(qid),
            match JoinEvent::from(e) {
                JoinEvent::Client { ip, sasl } => SpanEvent::Client {
                    ip,
                    sasl: sasl.map(sp),
                },
                JoinEvent::Pickup { sender } => SpanEvent::Pickup {
                    sender: sender.map(sp),
                },
                JoinEvent::MessageId(id) => SpanEvent::MessageId(sp(id)),
                JoinEvent::HeaderFrom(f) => SpanEvent::HeaderFrom(sp(f)),
                JoinEvent::From { from } => SpanEvent::From { from: sp(from) },
                JoinEvent::To { to, status, local } => SpanEvent::To {
                    to: sp(to),
                    status,
                    local,
                },
                JoinEvent::BounceCreated => SpanEvent::BounceCreated,
                JoinEvent::Removed => SpanEvent::Removed,
            },
        ),
    };
    Item {
        line: item.line,
        stamp: item.stamp,
        format: item.format,
        event,
    }
}

/// The item without borrowing the line (a line that was not valid UTF-8).
fn owned(item: LineItem<'_>) -> Item {
    Item {
        line: item.line,
        stamp: item.stamp,
        format: item.format,
        event: match item.event {
            LineEvent::None => ItemEvent::None,
            LineEvent::Postfix(qid, e) => {
                ItemEvent::Owned(Box::new((qid.to_owned(), e.to_event())))
            }
            LineEvent::Owned(b) => ItemEvent::Owned(b),
        },
    }
}

/// An item borrowing its line.
struct LineItem<'a> {
    line: u32,
    stamp: Stamp,
    format: u8,
    event: LineEvent<'a>,
}

enum LineEvent<'a> {
    None,
    Postfix(&'a str, PostfixEvent<'a>),
    Owned(Box<(String, MtaEvent)>),
}

/// The items of one line (`\n` removed); returns the columns of a `#Fields:` header.
fn line_items<'a>(
    line: &'a str,
    line_idx: u32,
    cols: Option<&ExchangeColumns>,
    push: &mut impl FnMut(LineItem<'a>),
) -> Option<ExchangeColumns> {
    // `trim_end_matches(['\n', '\r']).trim_start_matches('\u{feff}')`, by bytes.
    let mut line = line;
    while let Some(l) = line.strip_suffix(['\n', '\r']) {
        line = l;
    }
    while let Some(l) = line.strip_prefix('\u{feff}') {
        line = l;
    }
    if line.is_empty() {
        return None;
    }
    if line.starts_with('#') {
        return ExchangeColumns::from_header(line);
    }
    if let Some(cols) = cols {
        for ev in parse_row(line, cols).unwrap_or_default() {
            push(LineItem {
                line: line_idx,
                stamp: Stamp::At(ev.ts),
                format: 0,
                event: LineEvent::Owned(Box::new((ev.qid, ev.event))),
            });
        }
        return None;
    }
    let env = split_envelope(line)?;
    let item = |format, event| LineItem {
        line: line_idx,
        stamp: env.stamp,
        format,
        event,
    };
    let bsd = matches!(env.stamp, Stamp::Bsd(_));
    let Some((prog, message)) = env.rest else {
        if bsd {
            push(item(0, LineEvent::None));
        }
        return None;
    };
    if prog.starts_with("postfix") {
        push(item(
            FORMAT_POSTFIX,
            match parse_postfix_ref(prog, message) {
                Some((qid, e)) => LineEvent::Postfix(qid, e),
                None => LineEvent::None,
            },
        ));
    } else if prog == "sm-mta" || prog == "sendmail" || prog == "sm-msp-queue" {
        let events = parse_sendmail(message);
        if events.is_empty() {
            push(item(FORMAT_SENDMAIL, LineEvent::None));
        }
        for e in events {
            push(item(FORMAT_SENDMAIL, LineEvent::Owned(Box::new(e))));
        }
    } else if bsd {
        push(item(0, LineEvent::None));
    }
    None
}
