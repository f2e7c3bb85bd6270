//! The ingest pipeline: a log stream is read in large blocks of whole lines, blocks are parsed
//! in parallel into compact connection records, and the records are applied to the pair
//! tables in parallel *by shard* — every (source, …) key lives in the shard of its source
//! address, and each shard applies its records in file order.
//!
//! Why shards rather than per-block tables merged afterwards: a pair's interval histogram is
//! built from consecutive connections in file order (and the duration statistics are
//! order-dependent floating point), so two partial states of one pair cannot be merged
//! exactly. With shards each pair still sees its connections in order, on one thread, and the
//! result is bit-for-bit the sequential one whatever the number of threads or blocks.
//!
//! Memory: one batch of blocks (`BATCH_BLOCKS` × `BLOCK_BYTES`) plus its records, whatever
//! the file size.

use std::net::{IpAddr, Ipv4Addr};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::flow::{Destination, FlowRecord, is_internal, is_multicast};
use crate::formats::{FastFlow, LineParser, Parsed};
use crate::pair_state::{Loc, PairState};
use crate::timestamps::day_of;

pub(crate) use ir110_model::line_blocks::{BLOCK_BYTES, next_block};

/// Where a connection went, as kept in a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecDst {
    Ip(IpAddr),
    Host(Box<str>),
}

/// One connection that passed the inside→outside filter, owned: the general form, kept
/// whole for what [`Compact`] cannot hold (IPv6, host names, countries) and used to apply
/// records one by one.
#[derive(Debug, Clone)]
pub(crate) struct Rec {
    pub(crate) ts: f64,
    pub(crate) src: IpAddr,
    pub(crate) dst: RecDst,
    pub(crate) port: u16,
    pub(crate) duration: Option<f64>,
    pub(crate) bytes_out: Option<u64>,
    pub(crate) bytes_in: Option<u64>,
    pub(crate) country: Option<Box<str>>,
    /// 1-based line number within the block.
    pub(crate) line: u32,
}

/// One connection in 48 bytes, as a shard's batch holds it (≈ 7,000 per MiB of conn.log,
/// so the records of a batch are a few MB rather than the tens of MB of [`Rec`]s). An
/// IPv4→IPv4 connection without a country — every Zeek line, most firewall lines — is held
/// whole; any other has its addresses and country in its bucket's `wide` list.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Compact {
    ts: f64,
    duration: f64,
    bytes_out: u64,
    bytes_in: u64,
    /// The IPv4 source; with [`Compact::WIDE`], the record's index in its bucket's `wide`.
    src: u32,
    /// The IPv4 destination (unused with [`Compact::WIDE`]).
    dst: u32,
    /// 1-based line number within the block.
    line: u32,
    port: u16,
    flags: u8,
}

impl Compact {
    const DURATION: u8 = 1;
    const BYTES_OUT: u8 = 2;
    const BYTES_IN: u8 = 4;
    const WIDE: u8 = 8;

    fn new(
        ts: f64,
        duration: Option<f64>,
        bytes_out: Option<u64>,
        bytes_in: Option<u64>,
        port: u16,
        line: u32,
    ) -> Compact {
        let flag = |present: bool, f: u8| if present { f } else { 0 };
        Compact {
            ts,
            duration: duration.unwrap_or(0.0),
            bytes_out: bytes_out.unwrap_or(0),
            bytes_in: bytes_in.unwrap_or(0),
            src: 0,
            dst: 0,
            line,
            port,
            flags: flag(duration.is_some(), Self::DURATION)
                | flag(bytes_out.is_some(), Self::BYTES_OUT)
                | flag(bytes_in.is_some(), Self::BYTES_IN),
        }
    }

    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    fn duration(&self) -> Option<f64> {
        self.has(Self::DURATION).then_some(self.duration)
    }

    fn bytes_out(&self) -> Option<u64> {
        self.has(Self::BYTES_OUT).then_some(self.bytes_out)
    }

    fn bytes_in(&self) -> Option<u64> {
        self.has(Self::BYTES_IN).then_some(self.bytes_in)
    }
}

/// The records of one block for one shard, in line order.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    pub(crate) recs: Vec<Compact>,
    /// Records [`Compact`] cannot hold, in line order.
    pub(crate) wide: Vec<Rec>,
}

impl Bucket {
    /// Adds a record of the general path (compact when it can be).
    pub(crate) fn push_rec(&mut self, rec: Rec) {
        let mut c = Compact::new(
            rec.ts,
            rec.duration,
            rec.bytes_out,
            rec.bytes_in,
            rec.port,
            rec.line,
        );
        match (rec.src, &rec.dst, &rec.country) {
            (IpAddr::V4(src), RecDst::Ip(IpAddr::V4(dst)), None) => {
                c.src = src.to_bits();
                c.dst = dst.to_bits();
            }
            _ => {
                c.src = self.wide.len() as u32;
                c.flags |= Compact::WIDE;
                self.wide.push(rec);
            }
        }
        self.recs.push(c);
    }

    fn push_fast(&mut self, f: &FastFlow, line: u32) {
        let mut c = Compact::new(f.ts, f.duration, f.bytes_out, f.bytes_in, f.port, line);
        c.src = f.src.to_bits();
        c.dst = f.dst.to_bits();
        self.recs.push(c);
    }

    /// The general form of one of this bucket's records.
    pub(crate) fn rec(&self, c: &Compact) -> Option<Rec> {
        if c.has(Compact::WIDE) {
            return self.wide.get(c.src as usize).cloned();
        }
        Some(Rec {
            ts: c.ts,
            src: IpAddr::V4(Ipv4Addr::from_bits(c.src)),
            dst: RecDst::Ip(IpAddr::V4(Ipv4Addr::from_bits(c.dst))),
            port: c.port,
            duration: c.duration(),
            bytes_out: c.bytes_out(),
            bytes_in: c.bytes_in(),
            country: None,
            line: c.line,
        })
    }
}

/// What parsing one block gave.
#[derive(Debug, Default)]
pub(crate) struct BlockOut {
    pub(crate) lines: u64,
    pub(crate) records: u64,
    pub(crate) bad_lines: u64,
    /// Block-relative line of the first bad line.
    pub(crate) first_bad: Option<u64>,
    pub(crate) bytes: u64,
    /// Records per shard, in line order.
    pub(crate) recs: Vec<Bucket>,
    /// The parser state the block was parsed from, and the one at its end (they differ
    /// only after a Zeek `#fields` line).
    pub(crate) states: Option<(LineParser, LineParser)>,
}

/// Shard of a source address. Any fixed function works: results do not depend on it.
pub(crate) fn shard_of(src: IpAddr, shards: usize) -> usize {
    let x = match src {
        IpAddr::V4(v4) => u64::from(u32::from(v4)),
        IpAddr::V6(v6) => {
            let v = u128::from(v6);
            (v as u64) ^ ((v >> 64) as u64)
        }
    };
    // Fibonacci hashing: spreads consecutive addresses. The remainder by a power of two
    // (one shard per worker: 2, 4, 8, 16 usually) as a mask: the same value without a
    // division per record.
    let h = (x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize;
    let shards = shards.max(1);
    if shards.is_power_of_two() {
        h & (shards - 1)
    } else {
        h % shards
    }
}

fn to_rec(rec: &FlowRecord<'_>, line: u32) -> Option<Rec> {
    if !is_internal(rec.src) {
        return None;
    }
    let dst = match rec.dst {
        Destination::Ip(ip) if is_internal(ip) || is_multicast(ip) => return None,
        Destination::Ip(ip) => RecDst::Ip(ip),
        Destination::Host(h) => RecDst::Host(h.to_ascii_lowercase().into()),
    };
    Some(Rec {
        ts: rec.ts,
        src: rec.src,
        dst,
        port: rec.dst_port,
        duration: rec.duration,
        bytes_out: rec.bytes_out,
        bytes_in: rec.bytes_in,
        country: rec.country.map(Into::into),
        line,
    })
}

/// Parses one block of whole lines, starting from `parser` (the state in force at its start).
/// `spare` holds emptied buckets of an earlier batch to fill again (fresh ones for every
/// block cost page faults).
pub(crate) fn parse_block(
    block: &[u8],
    mut parser: LineParser,
    local_offset_secs: i32,
    shards: usize,
    mut spare: Vec<Bucket>,
) -> BlockOut {
    spare.resize_with(shards, Bucket::default);
    for b in &mut spare {
        b.recs.clear();
        b.wide.clear();
        // About one record per 130 bytes of Zeek conn.log: avoids regrowing the vectors.
        b.recs.reserve(block.len() / 130 / shards.max(1));
    }
    let mut out = BlockOut {
        recs: spare,
        bytes: block.len() as u64,
        ..BlockOut::default()
    };
    let push = |out: &mut BlockOut, rec: &FlowRecord<'_>| {
        out.records += 1;
        if let Some(r) = to_rec(rec, out.lines as u32) {
            let s = shard_of(r.src, shards);
            out.recs[s].push_rec(r);
        }
    };
    let from = parser.clone();
    let mut memo = crate::formats::AddrMemo::default();
    let mut start = 0;
    while start < block.len() {
        let end = memchr::memchr(b'\n', &block[start..]).map_or(block.len(), |i| start + i);
        out.lines += 1;
        if let Some(f) = parser.parse_fast(block, start, end, &mut memo) {
            start = end + 1;
            out.records += 1;
            let (src, dst) = (IpAddr::V4(f.src), IpAddr::V4(f.dst));
            // The inside→outside filter of `to_rec`.
            if is_internal(src) && !is_internal(dst) && !is_multicast(dst) {
                out.recs[shard_of(src, shards)].push_fast(&f, out.lines as u32);
            }
            continue;
        }
        let raw = &block[start..end];
        start = end + 1;
        let lossy = String::from_utf8_lossy(raw);
        let line = lossy.trim_end_matches(['\n', '\r']);
        match parser.parse(line, local_offset_secs) {
            Parsed::Record(rec) => push(&mut out, &rec),
            Parsed::Skip => {}
            Parsed::Bad => {
                out.bad_lines += 1;
                if out.first_bad.is_none() {
                    out.first_bad = Some(out.lines);
                }
            }
        }
    }
    out.states = Some((from, parser));
    out
}

/// A log stream cut into batches of blocks of whole lines.
pub(crate) struct BatchReader<R> {
    pub(crate) reader: R,
    /// The unfinished line of the last read.
    pub(crate) carry: Vec<u8>,
    /// A block read before the first batch (the one the layout was recognised from).
    pub(crate) pending: Option<Vec<u8>>,
    /// The read error that ended the stream, if one did.
    pub(crate) io_error: Option<std::io::Error>,
    pub(crate) block_bytes: usize,
    /// Emptied blocks of earlier batches, to fill again.
    pub(crate) spares: Vec<Vec<u8>>,
}

impl<R: std::io::Read> BatchReader<R> {
    /// Up to `blocks` blocks; empty at the end of the stream.
    pub(crate) fn next_batch(&mut self, blocks: usize) -> Vec<Vec<u8>> {
        let mut batch = Vec::with_capacity(blocks);
        while batch.len() < blocks {
            let block = match self.pending.take() {
                Some(b) => b,
                None if self.io_error.is_some() => break,
                None => {
                    let (b, e) = next_block(
                        &mut self.reader,
                        &mut self.carry,
                        self.block_bytes,
                        self.spares.pop(),
                    );
                    self.io_error = e;
                    match b {
                        Some(b) => b,
                        None => break,
                    }
                }
            };
            batch.push(block);
        }
        batch
    }
}

/// The parser states a batch's blocks are parsed from, in parallel: the state the batch
/// starts in for its first block, and a guess for the others — the state at the end of the
/// first block when it holds the header (the file's first batch), else the same. A guess
/// that turns out wrong (a Zeek `#fields` line inside the batch) is corrected by
/// [`fix_states`], so no block has to be scanned for headers before it is parsed.
pub(crate) fn guess_states(batch: &[Vec<u8>], start: &LineParser, first: bool) -> Vec<LineParser> {
    let mut rest = start.clone();
    if first {
        if let Some(block) = batch.first() {
            rest.advance_over(block);
        }
    }
    (0..batch.len())
        .map(|i| if i == 0 { start.clone() } else { rest.clone() })
        .collect()
}

/// Re-parses, in order, every block of a parsed batch that was parsed from another state
/// than the one the block before it ends in (rare: a `#fields` line in an earlier block of
/// the batch), so each block's records are those of reading the file line by line. Returns
/// the state at the end of the batch.
pub(crate) fn fix_states(
    batch: &[Vec<u8>],
    outs: &mut [BlockOut],
    start: LineParser,
    local_offset_secs: i32,
    shards: usize,
) -> LineParser {
    let mut state = start;
    for (block, out) in batch.iter().zip(outs.iter_mut()) {
        if out.states.as_ref().is_none_or(|(from, _)| *from != state) {
            *out = parse_block(block, state.clone(), local_offset_secs, shards, Vec::new());
        }
        if let Some((_, end)) = &out.states {
            state = end.clone();
        }
    }
    state
}

/// Outbound bytes of one internal host on one UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct DayOut {
    pub(crate) total: u64,
    pub(crate) largest: u64,
    pub(crate) largest_loc: Loc,
}

/// An internal host and a UTC day, the key of the outbound totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostDay {
    pub(crate) src: IpAddr,
    pub(crate) day: i32,
}

/// One word instead of the derived enum tag, octets and day: this runs for most
/// connections.
impl std::hash::Hash for HostDay {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(fold(self.src) ^ (u64::from(self.day as u32) << 32));
    }
}

/// A destination in a pair key: an address, or a host name's id in the name table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum DestKey {
    Ip(IpAddr),
    Host(u32),
}

/// (internal source, destination, port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PairKey {
    pub(crate) src: IpAddr,
    pub(crate) dst: DestKey,
    pub(crate) port: u16,
}

/// An address folded to 64 bits for hashing (equality stays exact: this is only the hash).
fn fold(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => u64::from(u32::from(v4)),
        IpAddr::V6(v6) => {
            let v = u128::from(v6);
            (v as u64) ^ ((v >> 64) as u64).rotate_left(17) ^ (1 << 63)
        }
    }
}

/// Three words instead of the derived field-by-field hash (enum tags, byte arrays): this
/// runs for every connection.
impl std::hash::Hash for PairKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (dst, tag) = match self.dst {
            DestKey::Ip(ip) => (fold(ip), 0u64),
            DestKey::Host(id) => (u64::from(id), 1u64),
        };
        state.write_u64(fold(self.src));
        state.write_u64(dst);
        state.write_u64(u64::from(self.port) | (tag << 16));
    }
}

/// An IPv4→IPv4 pair's key in 12 bytes: source, destination, port. Such pairs (all of a
/// Zeek log's) are found through an index of these, 16 bytes an entry instead of the 48 of
/// a [`PairKey`] entry, so that the index of tens of thousands of pairs stays in L2: the
/// lookup's cache miss was half the cost of placing a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct V4Key([u32; 3]);

impl std::hash::Hash for V4Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let [src, dst, port] = self.0;
        state.write_u64((u64::from(src) << 32) | u64::from(dst));
        state.write_u32(port);
    }
}

impl V4Key {
    fn of(key: &PairKey) -> Option<V4Key> {
        match (key.src, key.dst) {
            (IpAddr::V4(src), DestKey::Ip(IpAddr::V4(dst))) => {
                Some(V4Key([src.to_bits(), dst.to_bits(), u32::from(key.port)]))
            }
            _ => None,
        }
    }

    fn pair_key(self) -> PairKey {
        let [src, dst, port] = self.0;
        PairKey {
            src: IpAddr::V4(Ipv4Addr::from_bits(src)),
            dst: DestKey::Ip(IpAddr::V4(Ipv4Addr::from_bits(dst))),
            port: port as u16,
        }
    }
}

/// The pair and host-day tables of the sources that hash to one shard.
///
/// Pairs live in a dense vector reached through a small key → index map (two: IPv4→IPv4
/// pairs in a compact one, see [`V4Key`], every other pair in the other). A batch is applied
/// in two passes (see [`Shard::apply`]): the first, in file order, finds each record's pair
/// (the map: ~30 bytes per pair, mostly cache-resident) and does everything that depends on
/// the order *across* pairs; the second applies the records grouped by pair, each pair's in
/// file order, so a pair's state (~430 bytes plus its heap bins) is fetched once per batch
/// rather than once per connection. Cache misses on that state were the largest cost.
#[derive(Debug, Default)]
pub(crate) struct Shard {
    /// Pairs that are not IPv4→IPv4.
    index: FxHashMap<PairKey, u32>,
    /// IPv4→IPv4 pairs (never in `index`).
    v4_index: FxHashMap<V4Key, u32>,
    pub(crate) pairs: Vec<(PairKey, PairState)>,
    pub(crate) host_days: FxHashMap<HostDay, DayOut>,
    /// Host names, shard-local ids (renumbered when the shards are merged).
    pub(crate) host_names: FxHashMap<Box<str>, u32>,
    pub(crate) host_list: Vec<Box<str>>,
    pub(crate) span: Option<(f64, f64)>,
    pub(crate) pruned: u64,
    prune_floor: u64,
    /// Scratch of [`apply`](Self::apply), kept between batches: records per pair in the
    /// batch (zero between batches), and the pair inputs in file and in pair order.
    counts: Vec<u32>,
    inputs: Vec<PairInput>,
    grouped: Vec<PairInput>,
}

/// What one record gives its pair, for the grouped pass of [`Shard::apply_buckets`].
#[derive(Debug, Clone, Copy, Default)]
struct PairInput {
    ts: f64,
    duration: f64,
    bytes_out: u64,
    bytes_in: u64,
    line: u64,
    file: u32,
    /// The pair's index.
    id: u32,
    /// The record's country, as an index into the batch's country list.
    at: u32,
    /// Which optional fields are present ([`Compact`]'s flags, plus `COUNTRY`).
    flags: u8,
}

impl PairInput {
    const COUNTRY: u8 = 128;
}

impl Shard {
    fn host_id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.host_names.get(name) {
            return id;
        }
        let id = self.host_list.len() as u32;
        let name: Box<str> = name.into();
        self.host_list.push(name.clone());
        self.host_names.insert(name, id);
        id
    }

    /// Everything of one record but its pair's own state, in file order: host-name id, time
    /// span, the pair's index (a new pair gets an empty state) and the host-day totals (whose
    /// "largest" keeps the first of equal transfers, so it needs file order across pairs).
    fn locate(&mut self, rec: &Rec, loc: Loc) -> usize {
        let dst = match &rec.dst {
            RecDst::Ip(ip) => DestKey::Ip(*ip),
            RecDst::Host(h) => DestKey::Host(self.host_id(h)),
        };
        let key = PairKey {
            src: rec.src,
            dst,
            port: rec.port,
        };
        self.locate_key(key, rec.ts, rec.bytes_out, loc)
    }

    /// [`locate`](Self::locate) once the destination has its key.
    fn locate_key(&mut self, key: PairKey, ts: f64, bytes_out: Option<u64>, loc: Loc) -> usize {
        let id = match V4Key::of(&key) {
            Some(k) => self.pair_id_v4(k),
            None => match self.index.get(&key) {
                Some(&id) => id as usize,
                None => {
                    let id = self.pairs.len();
                    self.pairs.push((key, PairState::default()));
                    self.index.insert(key, id as u32);
                    id
                }
            },
        };
        self.note(key.src, ts, bytes_out, loc);
        id
    }

    /// The index of an IPv4→IPv4 pair (a new pair gets an empty state).
    fn pair_id_v4(&mut self, key: V4Key) -> usize {
        match self.v4_index.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => *e.get() as usize,
            std::collections::hash_map::Entry::Vacant(e) => {
                let id = self.pairs.len();
                self.pairs.push((key.pair_key(), PairState::default()));
                e.insert(id as u32);
                id
            }
        }
    }

    /// The time span and the host-day totals of [`locate`](Self::locate).
    fn note(&mut self, src: IpAddr, ts: f64, bytes_out: Option<u64>, loc: Loc) {
        self.span = Some(match self.span {
            None => (ts, ts),
            Some((a, b)) => (a.min(ts), b.max(ts)),
        });
        if let Some(b) = bytes_out.filter(|&b| b > 0) {
            let day = self
                .host_days
                .entry(HostDay {
                    src,
                    day: day_of(ts),
                })
                .or_default();
            day.total = day.total.saturating_add(b);
            if b > day.largest {
                day.largest = b;
                day.largest_loc = loc;
            }
        }
    }

    fn add_to_pair(&mut self, id: usize, rec: &Rec, loc: Loc) {
        if let Some((_, pair)) = self.pairs.get_mut(id) {
            pair.add(
                rec.ts,
                rec.duration,
                rec.bytes_out,
                rec.bytes_in,
                loc,
                rec.country.as_deref(),
            );
        }
    }

    /// Applies one record; `max_pairs` is this shard's share of the pair-table bound.
    pub(crate) fn add(&mut self, rec: &Rec, loc: Loc, max_pairs: usize) {
        let id = self.locate(rec, loc);
        self.add_to_pair(id, rec, loc);
        if self.pairs.len() > max_pairs {
            self.prune(max_pairs);
        }
    }

    /// [`apply_buckets`](Self::apply_buckets) on records given one by one with their
    /// places (tests compare it with [`add`](Self::add)).
    #[cfg(test)]
    pub(crate) fn apply(&mut self, recs: &[(&Rec, Loc)], max_pairs: usize) {
        let buckets: Vec<(Bucket, Loc)> = recs
            .iter()
            .map(|&(rec, loc)| {
                let mut bucket = Bucket::default();
                bucket.push_rec(Rec {
                    line: 0,
                    ..rec.clone()
                });
                (bucket, loc)
            })
            .collect();
        let parts: Vec<(&Bucket, Loc)> = buckets.iter().map(|(b, loc)| (b, *loc)).collect();
        self.apply_buckets(&parts, max_pairs);
    }

    /// Applies a shard's records of one batch — buckets in file order, each with the place
    /// of its block (file, line before its first line) — with the result of calling
    /// [`add`](Self::add) on each record in turn. Grouped by pair when the table cannot
    /// reach its bound during the batch (pruning depends on the order in which pairs appear
    /// and grow); otherwise one by one.
    pub(crate) fn apply_buckets(&mut self, parts: &[(&Bucket, Loc)], max_pairs: usize) {
        let total: usize = parts.iter().map(|(b, _)| b.recs.len()).sum();
        let place = |base: Loc, c: &Compact| Loc {
            file: base.file,
            line: base.line + u64::from(c.line),
        };
        if self.pairs.len() + total > max_pairs || total > u32::MAX as usize {
            for &(bucket, base) in parts {
                for c in &bucket.recs {
                    if let Some(rec) = bucket.rec(c) {
                        self.add(&rec, place(base, c), max_pairs);
                    }
                }
            }
            return;
        }
        // Pass 1, file order: each record's pair, and its pair-local fields copied out
        // (reading the records again in pair order would miss the cache on every one).
        let mut inputs = std::mem::take(&mut self.inputs);
        inputs.clear();
        inputs.reserve(total);
        let mut counts = std::mem::take(&mut self.counts);
        let mut touched: Vec<u32> = Vec::new();
        let mut countries: Vec<&str> = Vec::new();
        for &(bucket, base) in parts {
            for c in &bucket.recs {
                let loc = place(base, c);
                let (id, country) = if c.has(Compact::WIDE) {
                    let Some(rec) = bucket.wide.get(c.src as usize) else {
                        continue;
                    };
                    (self.locate(rec, loc), rec.country.as_deref())
                } else {
                    let id = self.pair_id_v4(V4Key([c.src, c.dst, u32::from(c.port)]));
                    let src = IpAddr::V4(Ipv4Addr::from_bits(c.src));
                    self.note(src, c.ts, c.bytes_out(), loc);
                    (id, None)
                };
                if counts.len() <= id {
                    counts.resize(self.pairs.len().max(id + 1), 0);
                }
                if counts[id] == 0 {
                    touched.push(id as u32);
                }
                counts[id] += 1;
                let mut flags =
                    c.flags & (Compact::DURATION | Compact::BYTES_OUT | Compact::BYTES_IN);
                let mut at = 0;
                if let Some(country) = country {
                    flags |= PairInput::COUNTRY;
                    at = countries.len() as u32;
                    countries.push(country);
                }
                inputs.push(PairInput {
                    ts: c.ts,
                    duration: c.duration,
                    bytes_out: c.bytes_out,
                    bytes_in: c.bytes_in,
                    line: loc.line,
                    file: loc.file,
                    id: id as u32,
                    at,
                    flags,
                });
            }
        }
        // Counting sort by pair (stable: each pair keeps its records in file order).
        let mut next = 0u32;
        for &id in &touched {
            let n = counts[id as usize];
            counts[id as usize] = next;
            next += n;
        }
        let mut grouped = std::mem::take(&mut self.grouped);
        grouped.clear();
        grouped.resize(inputs.len(), PairInput::default());
        for input in &inputs {
            let slot = &mut counts[input.id as usize];
            grouped[*slot as usize] = *input;
            *slot += 1;
        }
        self.inputs = inputs;
        for &id in &touched {
            counts[id as usize] = 0;
        }
        self.counts = counts;
        // Pass 2: pair by pair.
        for input in &grouped {
            let has = |flag: u8| input.flags & flag != 0;
            let country = if has(PairInput::COUNTRY) {
                countries.get(input.at as usize).copied()
            } else {
                None
            };
            if let Some((_, pair)) = self.pairs.get_mut(input.id as usize) {
                pair.add(
                    input.ts,
                    has(Compact::DURATION).then_some(input.duration),
                    has(Compact::BYTES_OUT).then_some(input.bytes_out),
                    has(Compact::BYTES_IN).then_some(input.bytes_in),
                    Loc {
                        file: input.file,
                        line: input.line,
                    },
                    country,
                );
            }
        }
        self.grouped = grouped;
    }

    /// Drops the least-connected pairs until the table is at three quarters of its bound.
    fn prune(&mut self, max_pairs: usize) {
        let target = max_pairs / 4 * 3;
        self.prune_floor = self.prune_floor.max(1);
        while self.pairs.len() > target {
            let floor = self.prune_floor;
            let before = self.pairs.len();
            self.pairs.retain(|(_, p)| p.conns > floor);
            self.pruned += (before - self.pairs.len()) as u64;
            if self.pairs.len() > target {
                self.prune_floor *= 2;
            }
        }
        self.index.clear();
        self.v4_index.clear();
        for (i, (k, _)) in self.pairs.iter().enumerate() {
            match V4Key::of(k) {
                Some(v4) => self.v4_index.insert(v4, i as u32),
                None => self.index.insert(*k, i as u32),
            };
        }
    }
}

/// Applies a batch of parsed blocks to the shards: shards in parallel, each taking its
/// records block by block in order. `bases[i]` is the line number before block `i`.
pub(crate) fn apply_batch(
    shards: &mut [Shard],
    blocks: &[BlockOut],
    bases: &[u64],
    file: u32,
    max_pairs: usize,
) {
    let per_shard = (max_pairs / shards.len().max(1)).max(1);
    shards.par_iter_mut().enumerate().for_each(|(s, shard)| {
        let parts: Vec<(&Bucket, Loc)> = blocks
            .iter()
            .zip(bases)
            .filter_map(|(block, &line)| Some((block.recs.get(s)?, Loc { file, line })))
            .collect();
        shard.apply_buckets(&parts, per_shard);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BeaconSpec, TrafficSpec, synthesize_conn_log};

    /// The pairs of a shard, in key order, for comparison.
    fn sorted_pairs(shard: &Shard) -> Vec<(String, PairState)> {
        let mut v: Vec<(String, PairState)> = shard
            .pairs
            .iter()
            .map(|(k, p)| (format!("{k:?}"), p.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// A block parsed with the fast path gives, shard by shard, the records the general
    /// path gives line by line (inside→outside filter, shards, line numbers, compact and
    /// wide records alike).
    #[test]
    fn parsed_block_equals_general_path() {
        let spec = TrafficSpec {
            seed: 4,
            start: 1_735_657_200,
            days: 3,
            hosts: 6,
            normal_pairs: 30,
            pollers: 1,
            beacons: Vec::new(),
        };
        let mut log = synthesize_conn_log(&spec);
        for extra in [
            "1735700000.5\tCa\tfd00::7\t5\t2001:db8::9\t443\ttcp\t-\t1.5\t10\t20\tSF",
            "1735700001.5\tCb\t10.1.0.3\t5\t10.1.0.4\t445\ttcp\t-\t1.5\t10\t20\tSF",
            "1735700002.5\tCc\t10.1.0.3\t5\t239.255.255.250\t1900\tudp\t-\t-\t-\t-\tS0",
            "1735700003.5\tCd\t203.0.113.5\t5\t10.1.0.4\t22\ttcp\t-\t1.5\t10\t20\tSF",
            "1735700004.5\tCe\t10.1.0.3\t5\t198.51.100.7\t8443\ttcp\t-\t+1.5\t10\t20\tSF",
            "garbage",
            "1735700005.5\tCf\t::ffff:10.1.0.3\t5\t198.51.100.7\t443\ttcp\t-\t2\t-\t20\tSF",
        ] {
            log.push_str(extra);
            log.push('\n');
        }
        let head: Vec<&str> = log.lines().take(12).collect();
        let parser = LineParser::detect(&head, None).unwrap();
        let shards = 3;
        let out = parse_block(log.as_bytes(), parser.clone(), 0, shards, Vec::new());
        let mut general = parser;
        let mut expected: Vec<Vec<String>> = vec![Vec::new(); shards];
        let mut records = 0;
        for (i, line) in log.lines().enumerate() {
            if let Parsed::Record(r) = general.parse(line, 0) {
                records += 1;
                if let Some(rec) = to_rec(&r, i as u32 + 1) {
                    expected[shard_of(rec.src, shards)].push(format!("{rec:?}"));
                }
            }
        }
        let got: Vec<Vec<String>> = out
            .recs
            .iter()
            .map(|b| {
                b.recs
                    .iter()
                    .map(|c| format!("{:?}", b.rec(c).unwrap()))
                    .collect()
            })
            .collect();
        assert_eq!(got, expected);
        assert_eq!(out.records, records);
        assert_eq!(out.bad_lines, 1);
        let wide: usize = out.recs.iter().map(|b| b.wide.len()).sum();
        assert_eq!(wide, 2);
        let n: usize = expected.iter().map(Vec::len).sum();
        assert!(n > 100, "{n}");
    }

    /// Grouped application of a batch gives exactly what applying its records one by one
    /// in file order gives: every pair state, the host-day totals (with the first of equal
    /// transfers as the largest), the span and the host names.
    #[test]
    fn grouped_apply_equals_one_by_one() {
        let spec = TrafficSpec {
            seed: 11,
            start: 1_735_657_200,
            days: 6,
            hosts: 9,
            normal_pairs: 50,
            pollers: 1,
            beacons: vec![BeaconSpec {
                src: "10.1.0.9".parse().unwrap(),
                dst: "203.0.113.9".parse().unwrap(),
                port: 443,
                period_secs: 300.0,
                jitter: 0.3,
                start_day: 0,
                days: 6,
                bytes_out: 900,
            }],
        };
        let log = synthesize_conn_log(&spec);
        let head: Vec<&str> = log.lines().take(12).collect();
        let mut parser = LineParser::detect(&head, None).unwrap();
        // The header lines set the columns.
        for line in log.lines().take_while(|l| l.starts_with('#')) {
            let _ = parser.parse(line, 0);
        }
        let out = parse_block(log.as_bytes(), parser, 0, 1, Vec::new());
        let mut recs: Vec<Rec> = out
            .recs
            .iter()
            .flat_map(|b| b.recs.iter().filter_map(|c| b.rec(c)))
            .collect();
        // Proxy-style destinations and equal transfers on one host-day.
        let mut extra = recs[0].clone();
        extra.dst = RecDst::Host("c2.example.net".into());
        extra.bytes_out = Some(777);
        recs.insert(5, extra.clone());
        recs.insert(9, extra);
        assert!(recs.len() > 1000, "{}", recs.len());
        let batch: Vec<(&Rec, Loc)> = recs
            .iter()
            .map(|r| {
                (
                    r,
                    Loc {
                        file: 0,
                        line: u64::from(r.line),
                    },
                )
            })
            .collect();
        let mut one_by_one = Shard::default();
        for &(rec, loc) in &batch {
            one_by_one.add(rec, loc, usize::MAX);
        }
        let mut grouped = Shard::default();
        for chunk in batch.chunks(333) {
            grouped.apply(chunk, 1_000_000);
        }
        assert_eq!(sorted_pairs(&grouped), sorted_pairs(&one_by_one));
        assert_eq!(grouped.host_days, one_by_one.host_days);
        assert_eq!(grouped.span, one_by_one.span);
        assert_eq!(grouped.host_list, one_by_one.host_list);
        // Near the bound the batch falls back to one by one, pruning included.
        let mut pruned = Shard::default();
        let mut reference = Shard::default();
        for chunk in batch.chunks(100) {
            pruned.apply(chunk, 30);
        }
        for &(rec, loc) in &batch {
            reference.add(rec, loc, 30);
        }
        assert!(reference.pruned > 0);
        assert_eq!(pruned.pruned, reference.pruned);
        assert_eq!(sorted_pairs(&pruned), sorted_pairs(&reference));
    }
}

/// Parse speed on the benchmark file (`cargo test --release -p ir110-netflow --features
/// parse-speed --lib parse_speed -- --nocapture`; `NF_BENCH_FILE` names the file). A
/// measurement, not a test: behind a feature that is off by default, so the test suite
/// neither runs nor lists it.
#[cfg(all(test, feature = "parse-speed"))]
mod parse_speed {
    use super::*;

    /// CPU time of this thread, seconds (wall time is noisy on a shared machine).
    fn cpu() -> f64 {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
        s.split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1e9
    }

    #[test]
    fn parse_speed() {
        let path = std::env::var("NF_BENCH_FILE").unwrap_or("/tmp/ir110-bench-conn.log".into());
        let Ok(text) = std::fs::read(&path) else {
            eprintln!("no {path}");
            return;
        };
        let head: Vec<String> = text
            .split(|&c| c == b'\n')
            .take(12)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let refs: Vec<&str> = head.iter().map(String::as_str).collect();
        let mut parser = LineParser::detect(&refs, None).unwrap();
        for l in &head {
            let _ = parser.parse(l, 0);
        }
        let blocks: Vec<&[u8]> = text.chunks(4 << 20).collect();
        let mut spare = Vec::new();
        let mut best = f64::MAX;
        for round in 0..9 {
            let t = cpu();
            let mut recs = 0;
            for b in &blocks {
                let out = parse_block(b, parser.clone(), 0, 2, std::mem::take(&mut spare));
                recs += out.records;
                spare = out.recs;
            }
            best = best.min(cpu() - t);
            if round == 8 {
                eprintln!("best of 9: {best:.3} s, {recs} records");
            }
        }
        let t = cpu();
        let mut n = 0usize;
        for b in &blocks {
            let mut start = 0;
            while start < b.len() {
                let end = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |i| start + i);
                n += end - start;
                start = end + 1;
            }
        }
        eprintln!("lines only: {:.3} s {n}", cpu() - t);
        let t = cpu();
        let mut n = 0usize;
        for b in &blocks {
            let mut start = 0;
            while start < b.len() {
                let end = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |i| start + i);
                n += crate::formats::tabs_probe(b, start, end);
                start = end + 1;
            }
        }
        eprintln!("lines+tabs: {:.3} s {n}", cpu() - t);
    }
}
