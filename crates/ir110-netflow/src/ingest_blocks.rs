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

use std::net::IpAddr;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::flow::{Destination, FlowRecord, is_internal, is_multicast};
use crate::formats::{LineParser, Parsed};
use crate::pair_state::{Loc, PairState};
use crate::timestamps::day_of;

pub(crate) use ir110_model::line_blocks::{BLOCK_BYTES, next_block};

/// Where a connection went, as kept in a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecDst {
    Ip(IpAddr),
    Host(Box<str>),
}

/// One connection that passed the inside→outside filter, owned, ready for its shard.
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
    pub(crate) recs: Vec<Vec<Rec>>,
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
    // Fibonacci hashing: spreads consecutive addresses.
    ((x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize) % shards.max(1)
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
pub(crate) fn parse_block(
    block: &[u8],
    mut parser: LineParser,
    local_offset_secs: i32,
    shards: usize,
) -> BlockOut {
    let mut out = BlockOut {
        // About one record per 130 bytes of Zeek conn.log: avoids regrowing the vectors.
        recs: (0..shards)
            .map(|_| Vec::with_capacity(block.len() / 130 / shards.max(1)))
            .collect(),
        bytes: block.len() as u64,
        ..BlockOut::default()
    };
    let push = |out: &mut BlockOut, rec: &FlowRecord<'_>| {
        out.records += 1;
        if let Some(r) = to_rec(rec, out.lines as u32) {
            let s = shard_of(r.src, shards);
            out.recs[s].push(r);
        }
    };
    let mut start = 0;
    while start < block.len() {
        let end = memchr::memchr(b'\n', &block[start..]).map_or(block.len(), |i| start + i);
        let raw = &block[start..end];
        start = end + 1;
        out.lines += 1;
        if let Some(rec) = parser.parse_fast(raw) {
            push(&mut out, &rec);
            continue;
        }
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
    out
}

/// Outbound bytes of one internal host on one UTC day.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DayOut {
    pub(crate) total: u64,
    pub(crate) largest: u64,
    pub(crate) largest_loc: Loc,
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

/// The pair and host-day tables of the sources that hash to one shard.
#[derive(Debug, Default)]
pub(crate) struct Shard {
    pub(crate) pairs: FxHashMap<PairKey, PairState>,
    pub(crate) host_days: FxHashMap<(IpAddr, i32), DayOut>,
    /// Host names, shard-local ids (renumbered when the shards are merged).
    pub(crate) host_names: FxHashMap<Box<str>, u32>,
    pub(crate) host_list: Vec<Box<str>>,
    pub(crate) span: Option<(f64, f64)>,
    pub(crate) pruned: u64,
    prune_floor: u64,
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

    /// Applies one record; `max_pairs` is this shard's share of the pair-table bound.
    pub(crate) fn add(&mut self, rec: &Rec, loc: Loc, max_pairs: usize) {
        let dst = match &rec.dst {
            RecDst::Ip(ip) => DestKey::Ip(*ip),
            RecDst::Host(h) => DestKey::Host(self.host_id(h)),
        };
        self.span = Some(match self.span {
            None => (rec.ts, rec.ts),
            Some((a, b)) => (a.min(rec.ts), b.max(rec.ts)),
        });
        let key = PairKey {
            src: rec.src,
            dst,
            port: rec.port,
        };
        self.pairs.entry(key).or_default().add(
            rec.ts,
            rec.duration,
            rec.bytes_out,
            rec.bytes_in,
            loc,
            rec.country.as_deref(),
        );
        if let Some(b) = rec.bytes_out.filter(|&b| b > 0) {
            let day = self.host_days.entry((rec.src, day_of(rec.ts))).or_default();
            day.total = day.total.saturating_add(b);
            if b > day.largest {
                day.largest = b;
                day.largest_loc = loc;
            }
        }
        if self.pairs.len() > max_pairs {
            self.prune(max_pairs);
        }
    }

    /// Drops the least-connected pairs until the table is at three quarters of its bound.
    fn prune(&mut self, max_pairs: usize) {
        let target = max_pairs / 4 * 3;
        self.prune_floor = self.prune_floor.max(1);
        while self.pairs.len() > target {
            let floor = self.prune_floor;
            let before = self.pairs.len();
            self.pairs.retain(|_, p| p.conns > floor);
            self.pruned += (before - self.pairs.len()) as u64;
            if self.pairs.len() > target {
                self.prune_floor *= 2;
            }
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
        for (block, &base) in blocks.iter().zip(bases) {
            for rec in &block.recs[s] {
                let loc = Loc {
                    file,
                    line: base + u64::from(rec.line),
                };
                shard.add(rec, loc, per_shard);
            }
        }
    });
}
