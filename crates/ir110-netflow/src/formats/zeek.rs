//! Zeek `conn.log`, TSV (with `#fields` header) and JSON (one object per line).
//!
//! Fields: `ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes
//! resp_bytes conn_state …` (docs.zeek.org, `base/protocols/conn/main.zeek`). `-` is unset.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use serde::Deserialize;

use crate::flow::{Destination, FlowRecord};
use crate::formats::Parsed;
use crate::timestamps::{parse_datetime, parse_epoch, scale_epoch};

/// Column positions from the `#fields` header of a TSV conn.log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ZeekColumns {
    ts: usize,
    orig_h: usize,
    resp_h: usize,
    resp_p: usize,
    duration: Option<usize>,
    orig_bytes: Option<usize>,
    resp_bytes: Option<usize>,
    /// Column roles for the fast path (see [`parse_tsv_in`]).
    roles: Vec<u8>,
    /// Whether the roles are Zeek's own column order ([`STANDARD`]).
    standard: bool,
}

impl ZeekColumns {
    /// From a `#fields\tts\tuid…` line; `None` when the mandatory columns are missing.
    pub(crate) fn from_header(line: &str) -> Option<ZeekColumns> {
        let names: Vec<&str> = line.split('\t').skip(1).collect();
        let find = |n: &str| names.iter().position(|c| *c == n);
        let mut cols = ZeekColumns {
            ts: find("ts")?,
            orig_h: find("id.orig_h")?,
            resp_h: find("id.resp_h")?,
            resp_p: find("id.resp_p")?,
            duration: find("duration"),
            orig_bytes: find("orig_bytes"),
            resp_bytes: find("resp_bytes"),
            roles: Vec::new(),
            standard: false,
        };
        cols.roles = cols.roles();
        cols.standard = cols.roles == STANDARD;
        Some(cols)
    }
}

fn unset(v: &str) -> bool {
    v.is_empty() || v == "-" || v == "(empty)"
}

/// Roles of the columns the fast path reads (index = column), up to the last one it needs.
const SKIP: u8 = 0;
const TS: u8 = 1;
const ORIG_H: u8 = 2;
const RESP_H: u8 = 3;
const RESP_P: u8 = 4;
const DURATION: u8 = 5;
const ORIG_BYTES: u8 = 6;
const RESP_BYTES: u8 = 7;

/// Zeek's own `conn.log` column order (`ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto
/// service duration orig_bytes resp_bytes …`), read by [`parse_standard`].
const STANDARD: [u8; 11] = [
    TS, SKIP, ORIG_H, SKIP, RESP_H, RESP_P, SKIP, SKIP, DURATION, ORIG_BYTES, RESP_BYTES,
];

/// The general path keeps at most this many fields of a line; the fast path declines headers
/// whose columns reach beyond it.
const MAX_FIELDS: usize = 40;

impl ZeekColumns {
    /// The role of every column up to the last one read; empty when that column is beyond
    /// [`MAX_FIELDS`] (the fast path is then off).
    fn roles(&self) -> Vec<u8> {
        let used = [
            (Some(self.ts), TS),
            (Some(self.orig_h), ORIG_H),
            (Some(self.resp_h), RESP_H),
            (Some(self.resp_p), RESP_P),
            (self.duration, DURATION),
            (self.orig_bytes, ORIG_BYTES),
            (self.resp_bytes, RESP_BYTES),
        ];
        let last = used.iter().filter_map(|(c, _)| *c).max().unwrap_or(0);
        if last >= MAX_FIELDS {
            return Vec::new();
        }
        let mut roles = vec![SKIP; last + 1];
        for (col, role) in used {
            if let Some(c) = col {
                roles[c] = role;
            }
        }
        roles
    }
}

/// What the fast path reads from one conn.log line: an IPv4 connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FastFlow {
    pub(crate) ts: f64,
    pub(crate) src: Ipv4Addr,
    pub(crate) dst: Ipv4Addr,
    pub(crate) port: u16,
    pub(crate) duration: Option<f64>,
    pub(crate) bytes_out: Option<u64>,
    pub(crate) bytes_in: Option<u64>,
}

impl FastFlow {
    /// As the general path's record.
    #[cfg(test)]
    pub(crate) fn to_record(self) -> FlowRecord<'static> {
        FlowRecord {
            ts: self.ts,
            src: IpAddr::V4(self.src),
            dst: Destination::Ip(IpAddr::V4(self.dst)),
            dst_port: self.port,
            duration: self.duration,
            bytes_out: self.bytes_out,
            bytes_in: self.bytes_in,
            country: None,
        }
    }
}

/// [`parse_tsv_in`] on a line of its own (tests compare it with [`parse_tsv`]).
#[cfg(test)]
pub(crate) fn parse_tsv_fast(line: &[u8], cols: &ZeekColumns) -> Option<FlowRecord<'static>> {
    parse_tsv_in(line, 0, line.len(), cols, &mut AddrMemo::default()).map(FastFlow::to_record)
}

/// The fast path for one TSV data line, `block[start..end]` (without its newline), straight
/// from bytes: the fields are walked in order up to the last column used, each found with a
/// word-wise tab search and parsed in place (numbers eight digits at a time, IPv4 by hand);
/// nothing is copied. Gives exactly what [`parse_tsv`] gives for the lines it accepts; `None`
/// sends the line to the general path (headers, comments, unset mandatory fields, IPv6,
/// short lines, a `\r` inside a field read, anything unusual), so the result never depends
/// on which path ran. Bytes of `block` past `end` may be read (a word at a time) but never
/// change the result.
pub(crate) fn parse_tsv_in(
    block: &[u8],
    start: usize,
    end: usize,
    cols: &ZeekColumns,
    memo: &mut AddrMemo,
) -> Option<FastFlow> {
    if cols.roles.is_empty() || start >= end || block.get(start).is_none_or(|&c| c == b'#') {
        return None;
    }
    if cols.standard {
        return parse_standard(block, start, end, memo);
    }
    let (mut ts, mut src, mut dst, mut port) = (None, None, None, None);
    let (mut duration, mut bytes_out, mut bytes_in) = (None, None, None);
    let mut pos = start;
    let mut tabs = Tabs::new(block, start, end);
    for &role in &cols.roles {
        if pos > end {
            // The line ended before this column.
            return None;
        }
        let stop = tabs.next();
        match role {
            SKIP => {}
            TS => ts = Some(scale_epoch(decimal_at(block, pos, stop)?)?),
            ORIG_H => src = Some(memo.parse(block, pos, stop)?),
            RESP_H => dst = Some(parse_ipv4_at(block, pos, stop)?),
            RESP_P => port = Some(u16::try_from(parse_u64(block, pos, stop)?).ok()?),
            // An optional column that is present but unreadable is `None` in the general
            // path too; such rare lines go there rather than re-implement
            // `f64::from_str` corner cases.
            DURATION if !is_unset(block, pos, stop) => {
                duration = Some(decimal_at(block, pos, stop)?);
            }
            ORIG_BYTES if !is_unset(block, pos, stop) => {
                bytes_out = Some(parse_u64(block, pos, stop)?);
            }
            RESP_BYTES if !is_unset(block, pos, stop) => {
                bytes_in = Some(parse_u64(block, pos, stop)?);
            }
            _ => {}
        }
        pos = stop + 1;
    }
    Some(FastFlow {
        ts: ts?,
        src: src?,
        dst: dst?,
        port: port?,
        duration,
        bytes_out,
        bytes_in,
    })
}

/// Speed probe: the tab search alone over the first 11 fields.
#[cfg(all(test, feature = "parse-speed"))]
pub(crate) fn tabs_probe(block: &[u8], start: usize, end: usize) -> usize {
    let mut pos = start;
    let mut acc = 0;
    let mut tabs = Tabs::new(block, start, end);
    for _ in 0..11 {
        let stop = tabs.next();
        acc += stop - pos;
        pos = stop + 1;
    }
    acc
}

/// [`parse_tsv_in`] for Zeek's own column order, unrolled: the eleven fields' ends first,
/// then each field read as the loop would read it (same parsers, same refusals).
#[inline(always)]
fn parse_standard(block: &[u8], start: usize, end: usize, memo: &mut AddrMemo) -> Option<FastFlow> {
    let mut tabs = Tabs::new(block, start, end);
    let ts = tabs.next();
    let uid = tabs.next();
    let orig_h = tabs.next();
    let orig_p = tabs.next();
    let resp_h = tabs.next();
    let resp_p = tabs.next();
    let _proto = tabs.next();
    let service = tabs.next();
    let duration = tabs.next();
    let orig_bytes = tabs.next();
    let resp_bytes = tabs.next();
    // The loop's "line ended before this column", for the last column (the ends only grow).
    if orig_bytes >= end {
        return None;
    }
    Some(FastFlow {
        ts: scale_epoch(epoch_at(block, start, ts)?)?,
        src: memo.parse(block, uid + 1, orig_h)?,
        dst: parse_ipv4_at(block, orig_p + 1, resp_h)?,
        port: u16::try_from(parse_u64(block, resp_h + 1, resp_p)?).ok()?,
        duration: if is_unset(block, service + 1, duration) {
            None
        } else {
            Some(decimal_at(block, service + 1, duration)?)
        },
        bytes_out: opt_u64(block, duration + 1, orig_bytes)?,
        bytes_in: opt_u64(block, orig_bytes + 1, resp_bytes)?,
    })
}

/// An optional count: `Some(None)` when unset, `None` when present but not a plain count.
#[inline(always)]
fn opt_u64(block: &[u8], from: usize, to: usize) -> Option<Option<u64>> {
    if is_unset(block, from, to) {
        Some(None)
    } else {
        parse_u64(block, from, to).map(Some)
    }
}

/// [`decimal_at`] with a shortcut for Zeek's `ts` shape, ten digits, a dot and six
/// (`1735657383.682668`): the same integer, checked the same way, divided the same way.
#[inline(always)]
fn epoch_at(block: &[u8], start: usize, stop: usize) -> Option<f64> {
    if stop.wrapping_sub(start) == 17 && block.get(start + 10) == Some(&b'.') {
        let int = digits8(block, start, 2)? * 100_000_000 + digits8(block, start + 2, 8)?;
        let mantissa = int * 1_000_000 + digits8(block, start + 11, 6)?;
        if mantissa >= 1 << 53 {
            return None;
        }
        return Some(mantissa as f64 / 1e6);
    }
    decimal_at(block, start, stop)
}

/// `-`, `(empty)` or nothing: Zeek's unset and empty markers.
#[inline(always)]
fn is_unset(block: &[u8], start: usize, stop: usize) -> bool {
    block
        .get(start..stop)
        .is_none_or(|v| v.is_empty() || v == b"-" || v == b"(empty)")
}

/// The tabs of one line in order, found 64 bytes at a time: a bit per byte (the word-wise
/// compare of [`tab_bytes`], its high bits gathered by one multiply), then taken bit by bit,
/// so finding a field's end costs no branch on its length.
struct Tabs<'a> {
    block: &'a [u8],
    /// Where the bits of `mask` start.
    base: usize,
    mask: u64,
    end: usize,
}

impl<'a> Tabs<'a> {
    #[inline(always)]
    fn new(block: &'a [u8], start: usize, end: usize) -> Tabs<'a> {
        Tabs {
            block,
            base: start,
            mask: tab_mask64(block, start),
            end,
        }
    }

    /// The next tab of the line, or `end` when there is none (again at every later call).
    #[inline(always)]
    fn next(&mut self) -> usize {
        while self.mask == 0 {
            self.base += 64;
            if self.base >= self.end {
                return self.end;
            }
            self.mask = tab_mask64(self.block, self.base);
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        at.min(self.end)
    }
}

/// One bit per tab among the 64 bytes of `block` from `at` (bytes past its end count as
/// not tabs).
#[inline(always)]
fn tab_mask64(block: &[u8], at: usize) -> u64 {
    let mut tail = [0u8; 64];
    let chunk = match block.get(at..).and_then(|s| s.first_chunk::<64>()) {
        Some(c) => c,
        None => {
            if let Some(rest) = block.get(at..) {
                let n = rest.len().min(64);
                tail[..n].copy_from_slice(&rest[..n]);
            }
            &tail
        }
    };
    let mut mask = 0u64;
    for (k, word) in chunk.chunks_exact(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        mask |= u64::from(gather(tab_bytes(u64::from_le_bytes(w)))) << (8 * k);
    }
    mask
}

/// The high bit of every byte of `word` that is a tab, and no other bit: exact, as no
/// carry crosses a byte (`(b & 0x7f) + 0x7f` is at most `0xfe`).
#[inline(always)]
fn tab_bytes(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ 0x0909_0909_0909_0909; // tabs become zero bytes
    !(((x & LOW7) + LOW7) | x) & !LOW7
}

/// Eight bytes of `block` from `at`, little-endian; bytes past its end read as zero.
#[inline(always)]
fn load8(block: &[u8], at: usize) -> u64 {
    if let Some(word) = block.get(at..).and_then(|s| s.first_chunk::<8>()) {
        return u64::from_le_bytes(*word);
    }
    let mut word = [0u8; 8];
    if let Some(rest) = block.get(at..) {
        let n = rest.len().min(8);
        word[..n].copy_from_slice(&rest[..n]);
    }
    u64::from_le_bytes(word)
}

/// The value of the `n` (1 to 8) ASCII digits at `block[at..]`, `None` if one is not a
/// digit. The digits are moved to the top of a word, the bytes below filled with `'0'`, and
/// the eight digits combined in three multiply steps.
#[inline(always)]
fn digits8(block: &[u8], at: usize, n: usize) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    let pad = 8 * (8 - n.clamp(1, 8)) as u32;
    let word = (load8(block, at) << pad) | ZEROS.checked_shr(64 - pad).unwrap_or(0);
    // Every byte 0x30..=0x39: high nibble 3, and still 3 after adding 6 (no carry can
    // cross a byte once every high nibble is 3).
    if word & HIGH != ZEROS || word.wrapping_add(0x0606_0606_0606_0606) & HIGH != ZEROS {
        return None;
    }
    // The first digit is the lowest byte.
    let v = word - ZEROS;
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let v = (v & 0x0000_00ff_0000_00ff)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(1 + (10_000 << 32)))
        >> 32;
    Some(v)
}

/// The value of the decimal digits `block[start..stop]` (at most 19, so no overflow);
/// `None` if there are none or one is not a digit.
#[inline(always)]
fn digits(block: &[u8], start: usize, stop: usize) -> Option<u64> {
    const POW10: [u64; 9] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
    ];
    let len = stop.checked_sub(start)?;
    if (1..=8).contains(&len) {
        // Most fields: one group (bytes past the end of `block` read as zero, no digit).
        return digits8(block, start, len);
    }
    if len == 0 || len > 19 || stop > block.len() {
        return None;
    }
    // A partial group first, then whole groups of eight.
    let mut at = start;
    let head = match len % 8 {
        0 => 8,
        h => h,
    };
    let mut v = digits8(block, at, head)?;
    at += head;
    while at < stop {
        v = v * POW10[8] + digits8(block, at, 8)?;
        at += 8;
    }
    Some(v)
}

/// A plain decimal `digits[.digits]` in `block[start..stop]` whose digits form an integer
/// below 2^53, exactly as `f64::from_str` rounds it: that integer is exact in an `f64` and
/// one IEEE division by an exact power of ten is correctly rounded. Anything else is `None`.
#[inline(always)]
fn decimal_at(block: &[u8], start: usize, stop: usize) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    const POW10_INT: [u64; 16] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
        1_000_000_000,
        10_000_000_000,
        100_000_000_000,
        1_000_000_000_000,
        10_000_000_000_000,
        100_000_000_000_000,
        1_000_000_000_000_000,
    ];
    let field = block.get(start..stop)?;
    let (int_end, frac_start) = match field.iter().position(|&c| c == b'.') {
        Some(d) => (start + d, start + d + 1),
        None => (stop, stop),
    };
    let (int_len, frac_len) = (int_end - start, stop - frac_start);
    if int_len + frac_len == 0 || int_len + frac_len > 19 || frac_len >= POW10.len() {
        return None;
    }
    let int = if int_len == 0 {
        0
    } else {
        digits(block, start, int_end)?
    };
    let mantissa = if frac_len == 0 {
        int
    } else {
        int * POW10_INT[frac_len] + digits(block, frac_start, stop)?
    };
    if mantissa >= 1 << 53 {
        return None;
    }
    Some(mantissa as f64 / POW10[frac_len])
}

/// [`decimal_at`] on a field of its own.
#[cfg(test)]
fn parse_decimal(b: &[u8]) -> Option<f64> {
    decimal_at(b, 0, b.len())
}

/// Unsigned decimal integer in `block[start..stop]` (no sign, no spaces, at most 19
/// digits), as `u64::from_str` reads it.
#[inline(always)]
fn parse_u64(block: &[u8], start: usize, stop: usize) -> Option<u64> {
    digits(block, start, stop)
}

/// The high bit of every byte of `word` equal to `c`, and no other bit (exact, as
/// [`tab_bytes`]).
#[inline(always)]
fn byte_eq(word: u64, c: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ (u64::from(c) * 0x0101_0101_0101_0101);
    !(((x & LOW7) + LOW7) | x) & !LOW7
}

/// The high bit of every byte of `word` that is an ASCII digit, and no other bit: after
/// `^ '0'` a digit is a byte below 10, and `(b & 0x7f) + 0x76` reaches the high bit exactly
/// when `b & 0x7f` is 10 or more (no carry crosses a byte).
#[inline(always)]
fn digit_bytes(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ 0x3030_3030_3030_3030;
    !(((x & LOW7) + 0x7676_7676_7676_7676) | x) & !LOW7
}

/// The high bits of a word's bytes (as [`tab_bytes`] leaves them) gathered into 8 bits,
/// byte `k` to bit `k`: one multiply moves each to a distinct bit of the top byte.
#[inline(always)]
fn gather(high_bits: u64) -> u32 {
    ((high_bits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

/// One octet of a dotted quad: bytes `from..to` of `all` (known to be digits), one to
/// three of them, no leading zero, at most 255.
#[inline(always)]
fn octet(all: u128, from: u32, to: u32) -> Option<u32> {
    let n = to.checked_sub(from).filter(|n| (1..=3).contains(n))?;
    let mask = (1u32 << (8 * n)) - 1;
    let x = (all >> (8 * from)) as u32 & mask;
    if n > 1 && x & 0xff == u32::from(b'0') {
        return None;
    }
    // Digits to values (no borrow: all are digits), right-aligned in three bytes with
    // zeros in front, first digit in the lowest byte.
    let d = (x - (0x0030_3030 & mask)) << (8 * (3 - n));
    let v = (d & 0xff) * 100 + ((d >> 8) & 0xff) * 10 + ((d >> 16) & 0xff);
    (v <= 255).then_some(v)
}

/// Dotted-quad IPv4 in `block[start..stop]` as `Ipv4Addr::from_str` accepts it (four
/// octets of one to three digits, no leading zeros, at most 255). Branch-free but for the
/// checks: the dots and digits of the (at most 15) bytes are found word-wise, and each
/// octet is read from the two words by shifts.
#[inline(always)]
fn parse_ipv4_at(block: &[u8], start: usize, stop: usize) -> Option<Ipv4Addr> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let len = stop.checked_sub(start)?;
    if !(7..=15).contains(&len) {
        return None;
    }
    let (w0, w1) = (load8(block, start), load8(block, start + 8));
    // The bytes of the field in each word (7 to 15 bytes: all of `w0` but with 7).
    let keep0 = if len >= 8 { u64::MAX } else { (1 << 56) - 1 };
    let keep1 = if len > 8 {
        (1u64 << (8 * (len - 8))) - 1
    } else {
        0
    };
    let (dots0, dots1) = (byte_eq(w0, b'.') & keep0, byte_eq(w1, b'.') & keep1);
    // Every byte of the field is a dot or a digit.
    if (dots0 | digit_bytes(w0)) & keep0 != HIGH & keep0
        || (dots1 | digit_bytes(w1)) & keep1 != HIGH & keep1
    {
        return None;
    }
    let dots = gather(dots0) | (gather(dots1) << 8);
    if dots.count_ones() != 3 {
        return None;
    }
    let d1 = dots.trailing_zeros();
    let rest = dots & (dots - 1);
    let d2 = rest.trailing_zeros();
    let d3 = (rest & (rest - 1)).trailing_zeros();
    let all = u128::from(w0) | (u128::from(w1) << 64);
    let a = octet(all, 0, d1)?;
    let b = octet(all, d1 + 1, d2)?;
    let c = octet(all, d2 + 1, d3)?;
    let d = octet(all, d3 + 1, len as u32)?;
    Some(Ipv4Addr::new(a as u8, b as u8, c as u8, d as u8))
}

/// The source addresses a block's lines parsed last, by their bytes: a log's connections come
/// from a few hundred inside hosts, so most source fields were parsed a few lines before and
/// are found here with two loads and a compare instead of four octets read again. A slot
/// holds the field's bytes (all of them: the key is the whole field, its length included)
/// and what [`parse_ipv4_at`] gave for them, so a hit gives exactly that.
pub(crate) struct AddrMemo {
    /// (first eight bytes, the rest, length, address); length 0 marks an empty slot (a
    /// dotted quad has seven bytes at least).
    slots: [(u64, u64, u32, u32); AddrMemo::SLOTS],
}

impl Default for AddrMemo {
    fn default() -> AddrMemo {
        AddrMemo {
            slots: [(0, 0, 0, 0); AddrMemo::SLOTS],
        }
    }
}

impl AddrMemo {
    /// Direct-mapped slots (6 KiB: stays in the first-level cache).
    const SLOTS: usize = 256;

    /// [`parse_ipv4_at`], through the memo.
    #[inline(always)]
    pub(crate) fn parse(&mut self, block: &[u8], start: usize, stop: usize) -> Option<Ipv4Addr> {
        let len = stop.checked_sub(start)?;
        if !(7..=15).contains(&len) {
            return None;
        }
        // The field's bytes exactly (those past it masked off), as `parse_ipv4_at` reads them.
        let w0 = load8(block, start) & if len >= 8 { u64::MAX } else { (1 << 56) - 1 };
        let w1 = if len > 8 {
            load8(block, start + 8) & ((1u64 << (8 * (len - 8))) - 1)
        } else {
            0
        };
        let slot = ((w0 ^ w1.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize;
        let entry = self.slots.get_mut(slot)?;
        if entry.2 == len as u32 && entry.0 == w0 && entry.1 == w1 {
            return Some(Ipv4Addr::from_bits(entry.3));
        }
        let addr = parse_ipv4_at(block, start, stop)?;
        *entry = (w0, w1, len as u32, addr.to_bits());
        Some(addr)
    }
}

/// Parses one TSV line given the header's columns.
pub(crate) fn parse_tsv<'a>(line: &'a str, cols: &ZeekColumns) -> Parsed<'a> {
    if line.starts_with('#') {
        return Parsed::Skip;
    }
    let mut f: [&str; 40] = [""; 40];
    let mut n = 0;
    for part in line.split('\t') {
        if n == f.len() {
            break;
        }
        f[n] = part;
        n += 1;
    }
    let get = |i: usize| (i < n).then(|| f[i]).filter(|v| !unset(v));
    let (Some(ts), Some(src), Some(dst), Some(port)) = (
        get(cols.ts).and_then(parse_epoch),
        get(cols.orig_h).and_then(|v| v.parse::<IpAddr>().ok()),
        get(cols.resp_h).and_then(|v| v.parse::<IpAddr>().ok()),
        get(cols.resp_p).and_then(|v| v.parse::<u16>().ok()),
    ) else {
        return Parsed::Bad;
    };
    Parsed::Record(FlowRecord {
        ts,
        src,
        dst: Destination::Ip(dst),
        dst_port: port,
        duration: cols.duration.and_then(get).and_then(|v| v.parse().ok()),
        bytes_out: cols.orig_bytes.and_then(get).and_then(|v| v.parse().ok()),
        bytes_in: cols.resp_bytes.and_then(get).and_then(|v| v.parse().ok()),
        country: None,
    })
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    /// Every data line of a synthetic conn.log (tabs at every alignment of the word-wise
    /// search) gives the same record on both paths.
    #[test]
    fn fast_path_matches_general_path_on_a_whole_log() {
        let spec = crate::TrafficSpec {
            seed: 3,
            start: 1_735_657_200,
            days: 20,
            hosts: 10,
            normal_pairs: 100,
            pollers: 1,
            beacons: Vec::new(),
        };
        let log = crate::synthesize_conn_log(&spec);
        let header = log.lines().find(|l| l.starts_with("#fields")).unwrap();
        let cols = ZeekColumns::from_header(header).unwrap();
        let mut checked = 0;
        for line in log.lines().filter(|l| !l.starts_with('#')) {
            let Parsed::Record(general) = parse_tsv(line, &cols) else {
                panic!("{line}")
            };
            assert_eq!(
                parse_tsv_fast(line.as_bytes(), &cols),
                Some(general),
                "{line}"
            );
            checked += 1;
        }
        assert!(checked > 1000, "{checked}");
    }

    /// The fast path agrees with the general one field for field, and defers what it
    /// does not handle.
    #[test]
    fn fast_path_matches_general_path() {
        let header = "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state";
        let cols = ZeekColumns::from_header(header).unwrap();
        for line in [
            "1735657383.682668\tCx\t10.1.0.9\t49152\t203.0.113.9\t443\ttcp\tssl\t0.318593\t947\t425\tSF",
            "1735657383\tCx\t10.1.0.9\t49152\t203.0.113.9\t443\ttcp\t-\t-\t-\t-\tS0",
            "1767225600000\tCx\t10.1.0.9\t1\t8.8.8.8\t53\tudp\tdns\t12.5\t0\t0\tSF\r",
            "0.1\tCx\t192.168.0.1\t1\t1.2.3.4\t65535\ttcp\t-\t3\t9999999999999999999\t1\tSF",
        ] {
            let fast = parse_tsv_fast(line.as_bytes(), &cols).unwrap();
            let Parsed::Record(general) = parse_tsv(line.trim_end_matches('\r'), &cols) else {
                panic!("{line}")
            };
            assert_eq!(fast, general, "{line}");
        }
        for line in [
            "#close\t2026",
            "1735657383.6\tCx\t2001:db8::1\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.09\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.256\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1..9\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.9.\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.1234\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t70000",
            "1e9\tCx\t10.1.0.9\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.9",
        ] {
            assert_eq!(parse_tsv_fast(line.as_bytes(), &cols), None, "{line}");
        }
        for word in [0u64, u64::MAX, 0x0909_0909_0909_0909, 0x8909_0989_0009_0a08] {
            let expected = word
                .to_le_bytes()
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\t')
                .fold(0u64, |m, (i, _)| m | 0x80 << (8 * i));
            assert_eq!(tab_bytes(word), expected, "{word:#x}");
        }
        assert_eq!(parse_decimal(b"1735657383.682668"), Some(1735657383.682668));
        assert_eq!(parse_decimal(b"0.30000000000000"), Some(0.3));
    }
}

/// The in-block fast path against the general path, line by line inside whole blocks (the
/// word-wise reads cross line ends), on ordinary and on awkward lines.
#[cfg(test)]
mod in_block_tests {
    use super::*;

    const HEADER: &str = "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state";

    /// Each line of `text` through both paths: where the fast path gives a record it is the
    /// general path's; returns how many lines it took.
    fn compare_block(text: &str, cols: &ZeekColumns) -> usize {
        // One memo for the whole block, as `parse_block` keeps it.
        let memo = &mut AddrMemo::default();
        let block = text.as_bytes();
        let mut taken = 0;
        let mut start = 0;
        while start < block.len() {
            let end = memchr::memchr(b'\n', &block[start..]).map_or(block.len(), |i| start + i);
            let line = String::from_utf8_lossy(&block[start..end]);
            let line = line.trim_end_matches(['\n', '\r']);
            if let Some(fast) = parse_tsv_in(block, start, end, cols, memo) {
                let Parsed::Record(general) = parse_tsv(line, cols) else {
                    panic!("fast path took a line the general path rejects: {line:?}")
                };
                assert_eq!(fast.to_record(), general, "{line:?}");
                taken += 1;
            }
            start = end + 1;
        }
        taken
    }

    #[test]
    fn whole_log_as_one_block() {
        let spec = crate::TrafficSpec {
            seed: 5,
            start: 1_735_657_200,
            days: 15,
            hosts: 10,
            normal_pairs: 80,
            pollers: 1,
            beacons: Vec::new(),
        };
        let log = crate::synthesize_conn_log(&spec);
        let header = log.lines().find(|l| l.starts_with("#fields")).unwrap();
        let cols = ZeekColumns::from_header(header).unwrap();
        assert!(cols.standard);
        let data = log.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(compare_block(&log, &cols), data);
        // Columns in another order: `uid` moved to the end of the needed ones.
        let moved = |l: &str| {
            let mut f: Vec<&str> = l.split('\t').collect();
            let uid = f.remove(1);
            f.insert(10, uid);
            f.join("\t")
        };
        let other = ZeekColumns::from_header(&format!("#fields\t{}", moved(&header[8..]))).unwrap();
        assert!(!other.standard);
        let reordered: String = log
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| moved(l) + "\n")
            .collect();
        assert_eq!(compare_block(&reordered, &other), data);
        // Every block cut: the last line of a block has no word after it.
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| !l.starts_with('#'))
            .take(40)
            .collect();
        for n in 1..lines.len() {
            let text = lines[..n].join("\n");
            assert_eq!(compare_block(&text, &cols), n);
        }
    }

    #[test]
    fn awkward_lines_agree_or_go_to_the_general_path() {
        let cols = ZeekColumns::from_header(HEADER).unwrap();
        let lines = [
            "1735657383.682668\tCx\t10.1.0.9\t49152\t203.0.113.9\t443\ttcp\tssl\t0.318593\t947\t425\tSF",
            "1735657383\tCx\t10.1.0.9\t49152\t203.0.113.9\t443\ttcp\t-\t-\t-\t-\tS0",
            "1735657383\tCx\t10.1.0.9\t49152\t203.0.113.9\t443\ttcp\t-\t(empty)\t\t(empty)\tS0",
            "1767225600000\tCx\t10.1.0.9\t1\t8.8.8.8\t53\tudp\tdns\t12.5\t0\t0\tSF\r",
            "0.1\tCx\t192.168.0.1\t1\t1.2.3.4\t65535\ttcp\t-\t3\t9999999999999999999\t1\tSF",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\ttcp\t-\t3\t1\t2",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\ttcp\t-\t3\t1\t2\r",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\ttcp\t-\t3\t1",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\ttcp\t-\t3",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\r",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t0443\ttcp\t-\t00.50\t007\t0\tSF",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t+443\ttcp\t-\t+1\t+7\t-0\tSF",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\ttcp\t-\t1e3\t1 \t 2\tSF",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\ttcp\t-\t.5\t18446744073709551615\t18446744073709551616\tSF",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\ttcp\t-\t5.\t1\t1\tSF",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\ttcp\t-\t.\t1\t1\tSF",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\ttcp\t-\t1.2.3\t1\t1\tSF",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\ttcp\t-\t0.1234567890123456\t1\t1\tSF",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\ttcp\t-\t9007199254740993\t1\t1\tSF",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443\ttcp\t-\tNaN\tinf\t1\tSF",
            " 1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443",
            "1735657383.6 \tCx\t10.1.0.9\t1\t203.0.113.9\t443",
            "-1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t2001:db8::1\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.9\t1\t::ffff:203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.09\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t0.0.0.0\t1\t255.255.255.255\t443",
            "1735657383.6\tCx\t10.1.0.256\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1..9\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t.10.1.9\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.9.\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.1234\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t100.100.100.100\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t70000",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t-",
            "1e9\tCx\t10.1.0.9\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.9",
            "1735657383.6",
            "",
            "\r",
            "   ",
            "#close\t2026",
            "1735657383.682668\tCx\u{e9}\t10.1.0.9\t49152\t203.0.113.9\t443\ttcp\tss\u{fffd}l\t0.3\t947\t425\tSF",
        ];
        let text = lines.join("\n");
        let taken = compare_block(&text, &cols);
        // The ordinary ones are taken (not everything deferred): complete lines with plain
        // numbers and dotted quads, unset and empty optionals, leading zeros, a bare `.5`
        // or `5.`, a `\r` after the last column read, non-ASCII in columns not read.
        let taken_alone: Vec<usize> = (0..lines.len())
            .filter(|&i| compare_block(lines[i], &cols) == 1)
            .collect();
        assert_eq!(taken_alone, vec![0, 1, 2, 3, 4, 5, 11, 15, 44]);
        assert_eq!(taken, 9);
        assert!(cols.standard);
        // The same lines under a header in another order (an extra first column): the
        // column-role loop instead of the unrolled standard reader, same verdicts.
        let other =
            ZeekColumns::from_header(&HEADER.replace("#fields\t", "#fields\textra\t")).unwrap();
        assert!(!other.standard);
        let shifted: Vec<String> = lines.iter().map(|l| format!("x\t{l}")).collect();
        let taken_other: Vec<usize> = (0..shifted.len())
            .filter(|&i| compare_block(&shifted[i], &other) == 1)
            .collect();
        assert_eq!(taken_other, taken_alone);
        assert_eq!(compare_block(&shifted.join("\n"), &other), 9);
        // Every line alone too, with and without a trailing newline.
        for line in lines {
            compare_block(line, &cols);
            compare_block(&format!("{line}\n"), &cols);
        }
    }

    /// The word-wise dotted quad agrees with `Ipv4Addr::from_str` on every combination of
    /// awkward octets and on strings of digits, dots and other bytes, whatever follows the
    /// field in the block.
    #[test]
    fn ipv4_agrees_with_from_str() {
        let memo = std::cell::RefCell::new(AddrMemo::default());
        let check = |text: &str| {
            let general = text.parse::<Ipv4Addr>().ok();
            for tail in ["", "\t", "\t1.2.3.4\tx", ".5", "7", "\n9.9.9.9"] {
                let block = format!("{text}{tail}");
                assert_eq!(
                    parse_ipv4_at(block.as_bytes(), 0, text.len()),
                    general,
                    "{text:?} + {tail:?}"
                );
                // Through the memo shared by every string of the test (hits, misses and
                // slots taken over by other strings), twice.
                for _ in 0..2 {
                    assert_eq!(
                        memo.borrow_mut().parse(block.as_bytes(), 0, text.len()),
                        general,
                        "memo: {text:?} + {tail:?}"
                    );
                }
                // At an offset inside a longer block too.
                let shifted = format!("ab\t{block}");
                assert_eq!(
                    parse_ipv4_at(shifted.as_bytes(), 3, 3 + text.len()),
                    general,
                    "{text:?}"
                );
            }
        };
        let octets = [
            "0", "1", "9", "10", "25", "99", "100", "199", "200", "249", "250", "255", "256",
            "300", "999", "01", "001", "00", "000", "1000", "", "a", "1a",
        ];
        let mut valid = 0;
        for a in octets {
            for b in ["0", "255", "01", "", "256", "7"] {
                for c in octets {
                    for d in octets {
                        let text = format!("{a}.{b}.{c}.{d}");
                        valid += usize::from(text.parse::<Ipv4Addr>().is_ok());
                        check(&text);
                    }
                }
            }
        }
        assert!(valid > 1000, "{valid}");
        // Pseudo-random strings over digits, dots and a few others.
        let alphabet = b"0123456789....:-a \t";
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 5 + (x % 13) as usize;
            let text: String = (0..len)
                .map(|i| {
                    char::from(alphabet[((x >> (4 * (i % 15))) as usize + i) % alphabet.len()])
                })
                .collect();
            check(&text);
        }
    }

    /// Numbers eight digits at a time give what `str::parse` gives, for every length and
    /// dot position up to the limits.
    #[test]
    fn numbers_agree_with_from_str() {
        let digits_of = |n: usize, seed: u64| -> String {
            (0..n)
                .map(|i| {
                    char::from(
                        b'0' + ((seed.wrapping_mul(31).wrapping_add(i as u64 * 7)) % 10) as u8,
                    )
                })
                .collect()
        };
        let mut checked = 0;
        for n in 1..=21 {
            for seed in 0..12u64 {
                let d = digits_of(n, seed);
                let b = d.as_bytes();
                // Integers: as `u64::from_str` for up to 19 digits, else declined.
                match parse_u64(b, 0, b.len()) {
                    Some(v) => assert_eq!(Some(v), d.parse::<u64>().ok(), "{d}"),
                    None => assert!(n > 19, "{d}"),
                }
                let nines = "9".repeat(n);
                if let Some(v) = parse_u64(nines.as_bytes(), 0, n) {
                    assert_eq!(nines.parse::<u64>().ok(), Some(v));
                }
                // Decimals with the dot anywhere.
                for dot in 0..=n {
                    let text = format!("{}.{}", &d[..dot], &d[dot..]);
                    if let Some(v) = parse_decimal(text.as_bytes()) {
                        assert_eq!(
                            v.to_bits(),
                            text.parse::<f64>().unwrap().to_bits(),
                            "{text}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 1000, "{checked}");
        for bad in [
            "", ".", "1.2.3", "1a", "a1", "1/", "1:", " 1", "1 ", "+1", "-1", "1e5",
        ] {
            assert_eq!(parse_decimal(bad.as_bytes()), None, "{bad}");
            assert_eq!(parse_u64(bad.as_bytes(), 0, bad.len()), None, "{bad}");
        }
        // Every byte value next to a digit.
        for c in 0..=255u8 {
            let text = [b'1', c, b'2'];
            let general = std::str::from_utf8(&text)
                .ok()
                .and_then(|t| t.parse::<u64>().ok());
            if let Some(v) = parse_u64(&text, 0, 3) {
                assert_eq!(Some(v), general, "{c}");
            }
            assert_eq!(parse_u64(&text, 0, 3).is_some(), c.is_ascii_digit(), "{c}");
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonTs<'a> {
    Num(f64),
    #[serde(borrow)]
    Text(Cow<'a, str>),
}

#[derive(Deserialize)]
struct ZeekJson<'a> {
    #[serde(borrow)]
    ts: JsonTs<'a>,
    #[serde(rename = "id.orig_h", borrow)]
    orig_h: Cow<'a, str>,
    #[serde(rename = "id.resp_h", borrow)]
    resp_h: Cow<'a, str>,
    #[serde(rename = "id.resp_p")]
    resp_p: u16,
    duration: Option<f64>,
    orig_bytes: Option<u64>,
    resp_bytes: Option<u64>,
}

/// Parses one JSON line (`json-logs` policy; `ts` as epoch or ISO 8601).
pub(crate) fn parse_json(line: &str) -> Parsed<'_> {
    let Ok(rec) = serde_json::from_str::<ZeekJson<'_>>(line) else {
        return Parsed::Bad;
    };
    let ts = match &rec.ts {
        JsonTs::Num(v) => parse_epoch(&v.to_string()),
        JsonTs::Text(s) => parse_datetime(s, 0).or_else(|| parse_epoch(s)),
    };
    let (Some(ts), Ok(src), Ok(dst)) = (
        ts,
        rec.orig_h.parse::<IpAddr>(),
        rec.resp_h.parse::<IpAddr>(),
    ) else {
        return Parsed::Bad;
    };
    Parsed::Record(FlowRecord {
        ts,
        src,
        dst: Destination::Ip(dst),
        dst_port: rec.resp_p,
        duration: rec.duration,
        bytes_out: rec.orig_bytes,
        bytes_in: rec.resp_bytes,
        country: None,
    })
}
