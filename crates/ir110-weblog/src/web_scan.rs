//! `web scan`: webroot files, access logs, and the join between them — the first compromise.
//!
//! First-compromise reconstruction (after lorg's session idea, never replaying anything):
//! 1. anchor on each malicious file: its URL path and its times (birth/modification);
//! 2. find requests to that path: the earliest one and the addresses that reached it;
//! 3. in those addresses' traffic, the request that created it: a POST within
//!    [`WebOptions::compromise_window_secs`] before the file's time (any address if none of
//!    theirs fits);
//! 4. the attacker's first request overall (often a scanner), to date the start.
//!
//! Logs are streamed once. What is kept is bounded: per client address a fixed-size record,
//! per anchor its 20 earliest hits, and POST requests only inside the anchors' time windows.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use ir110_model::{
    Category, Confidence, Event, Finding, Message, Problem, ProblemKind, Severity, SourceRef,
};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::access_log::{
    AccessLayout, ClfDates, HttpRequest, RequestView, parse_combined_request, parse_w3c,
};
use crate::attack_patterns::{AttackKind, KindSet, classify_target_in, is_scanner, percent_decode};
use crate::baseline::{Baseline, BaselineDiff, relative, sha256_file};
use crate::file_scan::{ContentVerdict, FileTimes, FileVerdict, Matchers, Reason, scan_content};
use crate::rules::{FileClass, RuleSet};
use crate::yara_rules::YaraRules;
use crate::{ANALYZER_ID, WebError};

/// Options of a web scan.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// Extra rule folders: YARA files (`*.yar`, `*.yara`) and rules in the TOML format
    /// (`*.toml`). A file that does not compile is a problem in the report, not an error.
    pub rule_dirs: Vec<PathBuf>,
    /// The site's own domains (scripts may talk to them freely).
    pub site_domains: Vec<String>,
    /// Files larger than this are hashed but not scanned.
    pub max_scan_bytes: u64,
    /// Inactivity that ends an attacker session.
    pub session_gap_secs: i64,
    /// How long before a file's time the creating request may be.
    pub compromise_window_secs: i64,
    /// A code file modified this many days after the tree's third quartile is "recent".
    pub recent_days: i64,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions {
            rule_dirs: Vec::new(),
            site_domains: Vec::new(),
            max_scan_bytes: 8 << 20,
            session_gap_secs: 1800,
            compromise_window_secs: 900,
            recent_days: 30,
        }
    }
}

/// A file to scan: where to read it, its path relative to the webroot, how to cite it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebFile {
    /// Where to read it now.
    pub path: PathBuf,
    /// `/`-separated path relative to the webroot (its URL path without the leading `/`).
    pub rel: String,
    /// The path as the responder knows it.
    pub display: String,
    /// SHA-256 from an evidence manifest, when known.
    pub sha256: Option<String>,
}

/// A request, cited.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRef {
    /// When.
    pub ts: DateTime<Utc>,
    /// Client.
    pub client: String,
    /// `METHOD target status`.
    pub request: String,
    /// The log line.
    pub source: SourceRef,
}

/// One attacking address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attacker {
    /// Client address.
    pub client: String,
    /// First request of any kind.
    pub first_seen: DateTime<Utc>,
    /// Last request.
    pub last_seen: DateTime<Utc>,
    /// Requests.
    pub requests: u64,
    /// Requests classified as attacks.
    pub attack_requests: u64,
    /// Attack requests answered 2xx.
    pub successful_attacks: u64,
    /// Counts by kind.
    pub kinds: BTreeMap<String, u64>,
    /// Sessions (separated by [`WebOptions::session_gap_secs`] of silence).
    pub sessions: u32,
    /// First user agents seen (at most 3).
    pub user_agents: Vec<String>,
    /// First request.
    pub first_request: RequestRef,
    /// First attack request.
    pub first_attack: Option<RequestRef>,
}

/// How a malicious file got there and was first used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstCompromise {
    /// The file (relative path).
    pub file: String,
    /// Its times.
    pub times: FileTimes,
    /// The request that most likely created it.
    pub creating_request: Option<RequestRef>,
    /// The first request that reached it.
    pub first_access: Option<RequestRef>,
    /// Addresses that reached it.
    pub clients: Vec<String>,
    /// The first request of the creating (or first accessing) address: where the attack began.
    pub attack_start: Option<RequestRef>,
}

/// What one access log gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogSummary {
    /// The log.
    pub source: SourceRef,
    /// `combined` or `w3c` (`None`: not an access log).
    pub format: Option<&'static str>,
    /// Lines.
    pub lines: u64,
    /// Requests parsed.
    pub requests: u64,
    /// Lines that could not be read.
    pub bad_lines: u64,
}

/// The result of a web scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebReport {
    /// Files scanned.
    pub files_scanned: u64,
    /// Flagged files.
    pub files: Vec<FileVerdict>,
    /// Differences from a baseline, when one was given.
    pub baseline: Option<BaselineDiff>,
    /// Access logs read.
    pub logs: Vec<LogSummary>,
    /// Attacking addresses, most active first.
    pub attackers: Vec<Attacker>,
    /// First compromise per malicious file reached from the web.
    pub first_compromises: Vec<FirstCompromise>,
    /// Findings (`web-compromise`).
    pub findings: Vec<Finding>,
    /// Timeline events.
    pub events: Vec<Event>,
    /// Problems.
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loc {
    file: u32,
    line: u64,
}

#[derive(Debug, Clone)]
struct Hit {
    ts: DateTime<Utc>,
    client: String,
    request: String,
    loc: Loc,
}

/// The first request of a client (its address is the table's key).
#[derive(Debug, Clone)]
struct FirstHit {
    ts: DateTime<Utc>,
    request: String,
    loc: Loc,
}

/// What every client has: small, since there is one per address (160,000 in the benchmark
/// log); the attack part only for the few that attack.
#[derive(Debug, Clone)]
struct ClientState {
    first: FirstHit,
    last: DateTime<Utc>,
    requests: u64,
    sessions: u32,
    attack: Option<Box<AttackState>>,
}

#[derive(Debug, Clone, Default)]
struct AttackState {
    attacks: u64,
    successful: u64,
    /// Requests per kind, in [`AttackKind`] order (0: never seen).
    kinds: [u64; 9],
    user_agents: Vec<String>,
    first_attack: Option<Hit>,
}

/// A client name of at most 15 bytes (every IPv4 address) as one integer that determines
/// its bytes and its length, so two names pack alike exactly when they are equal. Hashing and comparing it
/// are a couple of word operations instead of a pass over the text.
fn pack_name(name: &str) -> Option<u128> {
    let b = name.as_bytes();
    let n = b.len();
    if n > 15 {
        return None;
    }
    let word = |s: &[u8]| <[u8; 8]>::try_from(s).map_or(0, u64::from_le_bytes);
    // Whole words, not a copy of `n` bytes (a `memcpy` call of variable length, then a wide
    // read of what it wrote, was a tenth of the profile). From 8 bytes on: the first and
    // the last 8 (overlapping; the last word's first byte is already in the first word).
    let (lo, hi) = if n >= 8 {
        (word(&b[..8]), word(&b[n - 8..]) >> 8)
    } else {
        let mut lo = 0u64;
        for (i, &c) in b.iter().enumerate() {
            lo |= u64::from(c) << (8 * i);
        }
        (lo, 0)
    };
    Some(u128::from(lo) | u128::from(hi) << 64 | (n as u128) << 120)
}

/// The name [`pack_name`] packed into `key` (`None` for [`LONG_NAME`]).
fn unpack_name(key: u128, buf: &mut [u8; 16]) -> Option<&str> {
    if key == LONG_NAME {
        return None;
    }
    let n = (key >> 120) as usize;
    let lo = (key as u64).to_le_bytes();
    let hi = ((key >> 64) as u64).to_le_bytes();
    if n >= 8 {
        buf[..8].copy_from_slice(&lo);
        buf[n - 7..n].copy_from_slice(&hi[..7]);
    } else {
        buf[..n].copy_from_slice(&lo[..n]);
    }
    std::str::from_utf8(buf.get(..n)?).ok()
}

/// Per-client state. Names map to indices into a dense vector: growing the map then moves
/// small entries rather than whole states. Short names (addresses) are looked up packed,
/// longer ones (IPv6, host names) by text; the names themselves are kept once, in one
/// string (no allocation per client).
#[derive(Debug, Default)]
struct ClientTable {
    short: FxHashMap<u128, u32>,
    long: FxHashMap<Box<str>, u32>,
    names: String,
    states: Vec<((usize, usize), ClientState)>,
    /// The packed key and index of the last client applied.
    last: Option<(u128, usize)>,
}

/// The key of a name longer than [`pack_name`] packs (never a packed name: those carry a
/// length of at most 15 in their top byte).
const LONG_NAME: u128 = u128::MAX;

impl ClientTable {
    /// The index of a client by its key, or by its name when the key is [`LONG_NAME`].
    fn find(&self, key: u128, long: Option<&str>) -> Option<usize> {
        let i = if key == LONG_NAME {
            self.long.get(long?)
        } else {
            self.short.get(&key)
        };
        i.map(|&i| i as usize)
    }

    /// Adds a client not in the table; its index.
    fn insert(&mut self, key: u128, client: &str, state: ClientState) -> usize {
        let i = self.states.len();
        let start = self.names.len();
        self.names.push_str(client);
        self.states.push(((start, self.names.len()), state));
        if key == LONG_NAME {
            self.long.insert(client.into(), i as u32);
        } else {
            self.short.insert(key, i as u32);
        }
        i
    }

    fn get(&self, client: &str) -> Option<&ClientState> {
        let key = pack_name(client).unwrap_or(LONG_NAME);
        self.states
            .get(self.find(key, Some(client))?)
            .map(|(_, s)| s)
    }

    /// The state of `client`, made by `new` on its first request.
    #[cfg(test)]
    fn get_or_insert_with(
        &mut self,
        client: &str,
        new: impl FnOnce() -> ClientState,
    ) -> &mut ClientState {
        let key = pack_name(client).unwrap_or(LONG_NAME);
        let i = match self.find(key, Some(client)) {
            Some(i) => i,
            None => self.insert(key, client, new()),
        };
        &mut self.states[i].1
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &ClientState)> {
        self.states
            .iter()
            .map(|((a, b), s)| (self.names.get(*a..*b).unwrap_or(""), s))
    }
}

/// A request as the client shards see it, taken while its line is parsed (and in cache):
/// applying it then streams through these instead of going back to each line, which only
/// a new client, an earlier first request, an attack or a long name still do.
#[derive(Debug, Clone, Copy)]
struct ClientReq {
    key: u128,
    ts: DateTime<Utc>,
    /// Index of the line in its block.
    line: u32,
    status: u16,
    kinds: KindSet,
    /// Where in the block's descriptions this request's description is: kept for the first
    /// request of each client in a block (which is where every new client starts), so that
    /// a new client does not go back to its line.
    desc: Option<(u32, u32)>,
}

/// The client tables, one per shard of client names: each client's requests are applied in
/// file order by one worker, the shards in parallel (per-client state depends only on that
/// client's own requests).
#[derive(Debug)]
struct ClientShards(Vec<ClientTable>);

impl ClientShards {
    fn new() -> ClientShards {
        ClientShards(
            (0..rayon::current_num_threads().clamp(1, 16))
                .map(|_| ClientTable::default())
                .collect(),
        )
    }

    /// The shard of a client name. Any fixed function works: results do not depend on it.
    fn shard_of(client: &str, shards: usize) -> usize {
        Self::shard_of_key(pack_name(client).unwrap_or(LONG_NAME), client, shards)
    }

    /// [`shard_of`](Self::shard_of) given the name's key (a packed name is mixed in one
    /// multiplication rather than hashed byte by byte).
    fn shard_of_key(key: u128, client: &str, shards: usize) -> usize {
        let h = if key == LONG_NAME {
            use std::hash::{Hash, Hasher};
            let mut h = rustc_hash::FxHasher::default();
            client.hash(&mut h);
            h.finish()
        } else {
            ((key as u64) ^ ((key >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        };
        ((h >> 32) as usize) % shards.max(1)
    }

    fn get(&self, client: &str) -> Option<&ClientState> {
        self.0
            .get(Self::shard_of(client, self.0.len()))?
            .get(client)
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &ClientState)> {
        self.0.iter().flat_map(ClientTable::iter)
    }
}

struct Anchor {
    rel: String,
    url: String,
    times: FileTimes,
    /// Earliest requests from the file's time on (minus the window).
    hits: Vec<Hit>,
    /// Earliest requests that were attacks themselves: used when the file's times are
    /// useless (later than every request, as after a copy that did not keep them).
    attack_hits: Vec<Hit>,
}

/// Keeps the 20 earliest hits.
fn keep_earliest(list: &mut Vec<Hit>, hit: Hit) {
    list.push(hit);
    if list.len() > 40 {
        list.sort_by_key(|x| x.ts);
        list.truncate(20);
    }
}

fn describe_view(r: &RequestView<'_>) -> String {
    let mut s = String::with_capacity(r.method.len() + r.path.len() + r.query.len() + 6);
    describe_into(&mut s, r);
    s
}

/// [`describe_view`] appended to `s`.
fn describe_into(s: &mut String, r: &RequestView<'_>) {
    // `METHOD path[?query] status`, pieced together (a `format!` per new client showed in
    // the profile).
    let start = s.len();
    s.push_str(r.method);
    s.push(' ');
    s.push_str(r.path);
    if !r.query.is_empty() {
        s.push('?');
        s.push_str(r.query);
    }
    s.push(' ');
    push_decimal(s, r.status);
    // At most 240 bytes, cut on a character boundary.
    let mut end = start + (s.len() - start).min(240);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}

/// `n` in decimal, as `{}` writes it.
fn push_decimal(s: &mut String, n: u16) {
    let mut digits = [0u8; 5];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        s.push(char::from(d));
    }
}

/// One parsed log line.
enum LineOut<'a> {
    /// Empty, comment, or a W3C header already applied.
    Skip,
    /// A W3C `#Fields:` line.
    Header,
    /// Not a request.
    Bad,
    /// A combined-format request, borrowed from the block.
    Combined(RequestView<'a>, KindSet),
    /// A W3C request (its own strings).
    Owned(HttpRequest, KindSet),
    /// A combined-format line that was not UTF-8, repaired.
    Repaired(HttpRequest, KindSet),
}

/// One log line as a block keeps it: [`LineOut`] with the owned requests moved to the
/// block's [`BlockLines::owned`] (by index), so that a line is plain data: the per-block
/// line vectors (the largest allocation of the log path) empty without a look at each line.
#[derive(Clone, Copy)]
enum StoredLine<'a> {
    Skip,
    Header,
    Bad,
    Combined(RequestView<'a>, KindSet),
    Owned(u32, KindSet),
    Repaired(u32, KindSet),
}

struct BlockLines<'a> {
    lines: Vec<StoredLine<'a>>,
    /// The requests of the `Owned` and `Repaired` lines.
    owned: Vec<HttpRequest>,
    /// Per client shard, its requests.
    by_shard: Vec<Vec<ClientReq>>,
    /// The indices of the requests [`WebScan::observe`] must see, in order: all of them
    /// when there are anchors, else those to shell-like paths (nothing else reaches it).
    observe: Vec<u32>,
    /// Whether every request goes to `observe`.
    observe_all: bool,
    requests: u64,
    bad_lines: u64,
    /// Index of the first bad line.
    first_bad: Option<u32>,
    /// A W3C `#Fields:` line was seen.
    header: bool,
    /// A combined-format request (parsed or repaired) was seen.
    combined: bool,
    /// Packed clients seen in the block, and the last one.
    seen: FxHashSet<u128>,
    last_seen: Option<u128>,
    /// Descriptions of the first request of each client in the block.
    descs: String,
    /// The layout in force at the block's end (as the next block must start).
    end_layout: Option<AccessLayout>,
}

impl<'a> BlockLines<'a> {
    fn new(spare: Spare, shards: usize, observe_all: bool) -> BlockLines<'a> {
        let mut by_shard = spare.by_shard;
        by_shard.iter_mut().for_each(Vec::clear);
        by_shard.resize_with(shards, Vec::new);
        let mut observe = spare.observe;
        observe.clear();
        let mut seen = spare.seen;
        seen.clear();
        let mut descs = spare.descs;
        descs.clear();
        let mut owned = spare.owned;
        owned.clear();
        BlockLines {
            lines: reuse(spare.lines),
            owned,
            by_shard,
            observe,
            observe_all,
            requests: 0,
            bad_lines: 0,
            first_bad: None,
            header: false,
            combined: false,
            seen,
            last_seen: None,
            descs,
            end_layout: None,
        }
    }

    /// Appends the next line and files it: what the sequential pass over every line did.
    fn push(&mut self, line: LineOut<'a>) {
        let i = self.lines.len() as u32;
        let at = self.owned.len() as u32;
        let stored = match line {
            LineOut::Skip => StoredLine::Skip,
            LineOut::Header => {
                self.header = true;
                StoredLine::Header
            }
            LineOut::Bad => {
                self.bad_lines += 1;
                self.first_bad.get_or_insert(i);
                StoredLine::Bad
            }
            LineOut::Combined(v, k) => {
                self.combined = true;
                StoredLine::Combined(v, k)
            }
            LineOut::Repaired(r, k) => {
                self.combined = true;
                self.owned.push(r);
                StoredLine::Repaired(at, k)
            }
            LineOut::Owned(r, k) => {
                self.owned.push(r);
                StoredLine::Owned(at, k)
            }
        };
        self.lines.push(stored);
        if let Some((v, kinds)) = stored_request(&self.owned, stored) {
            self.requests += 1;
            let shards = self.by_shard.len();
            let key = pack_name(v.client).unwrap_or(LONG_NAME);
            let shard = ClientShards::shard_of_key(key, v.client, shards);
            let first_here =
                key != LONG_NAME && self.last_seen != Some(key) && self.seen.insert(key);
            self.last_seen = Some(key);
            let desc = if first_here {
                let start = self.descs.len();
                describe_into(&mut self.descs, &v);
                u32::try_from(start)
                    .ok()
                    .zip(u32::try_from(self.descs.len()).ok())
            } else {
                None
            };
            if let Some(list) = self.by_shard.get_mut(shard) {
                list.push(ClientReq {
                    key,
                    ts: v.ts,
                    line: i,
                    status: v.status,
                    kinds,
                    desc,
                });
            }
            if self.observe_all || kinds.contains(AttackKind::WebshellAccess) {
                self.observe.push(i);
            }
        }
    }

    /// The request of line `i`, when it is one.
    fn request(&self, i: usize) -> Option<(RequestView<'_>, KindSet)> {
        stored_request(&self.owned, *self.lines.get(i)?)
    }
}

/// The request of a stored line, its owned strings in `owned`.
fn stored_request<'s>(
    owned: &'s [HttpRequest],
    line: StoredLine<'s>,
) -> Option<(RequestView<'s>, KindSet)> {
    match line {
        StoredLine::Combined(v, k) => Some((v, k)),
        StoredLine::Owned(at, k) | StoredLine::Repaired(at, k) => {
            owned.get(at as usize).map(|r| (r.view(), k))
        }
        StoredLine::Skip | StoredLine::Header | StoredLine::Bad => None,
    }
}

/// The emptied vectors of an earlier block, to fill again: fresh ones for every block cost
/// page faults and allocator work (the lines of a batch are tens of MB).
#[derive(Default)]
struct Spare {
    lines: Vec<StoredLine<'static>>,
    owned: Vec<HttpRequest>,
    by_shard: Vec<Vec<ClientReq>>,
    observe: Vec<u32>,
    seen: FxHashSet<u128>,
    descs: String,
}

/// An empty vector of lines of any lifetime, keeping the allocation of `v` (an in-place
/// `collect` of an empty iterator reuses the buffer; if it did not, this would only
/// allocate afresh). The lines are plain data: nothing to drop.
fn reuse<'a, 'b>(mut v: Vec<StoredLine<'a>>) -> Vec<StoredLine<'b>> {
    v.clear();
    v.into_iter().map(|_| StoredLine::Skip).collect()
}

impl BlockLines<'_> {
    /// Empties the vectors for another block.
    fn into_spare(self) -> Spare {
        Spare {
            lines: reuse(self.lines),
            owned: self.owned,
            by_shard: self.by_shard,
            observe: self.observe,
            seen: self.seen,
            descs: self.descs,
        }
    }
}

#[cfg(test)]
impl LineOut<'_> {
    /// The request of a request line (the tests' per-line reference).
    fn request(&self) -> Option<(RequestView<'_>, KindSet)> {
        match self {
            LineOut::Combined(v, k) => Some((*v, *k)),
            LineOut::Owned(r, k) | LineOut::Repaired(r, k) => Some((r.view(), *k)),
            LineOut::Skip | LineOut::Header | LineOut::Bad => None,
        }
    }
}

/// What one block's lines repeat: the scanner verdict per user agent and the attack kinds
/// per target, keyed by text borrowed from the block (both are pure functions of that text,
/// so a cached answer is the computed one; test `cached_classification_matches_direct`).
#[derive(Default)]
struct LineCache<'a> {
    agents: FxHashMap<&'a str, bool>,
    targets: FxHashMap<(&'a str, &'a str), KindSet>,
    /// The previous line's: a client's requests come in runs with one agent.
    last_agent: Option<(&'a str, bool)>,
    dates: ClfDates,
}

/// Entries per block and map: bounds the memory a block of all-distinct lines can take.
const CACHE_ENTRIES: usize = 4096;

impl<'a> LineCache<'a> {
    fn is_scanner(&mut self, ua: &'a str) -> bool {
        if let Some((last, yes)) = self.last_agent {
            if last == ua {
                return yes;
            }
        }
        let yes = match self.agents.get(ua) {
            Some(&yes) => yes,
            None => {
                let yes = is_scanner(ua);
                if self.agents.len() < CACHE_ENTRIES {
                    self.agents.insert(ua, yes);
                }
                yes
            }
        };
        self.last_agent = Some((ua, yes));
        yes
    }

    fn classify(&mut self, path: &'a str, query: &'a str, scratch: &mut String) -> KindSet {
        if let Some(&k) = self.targets.get(&(path, query)) {
            return k;
        }
        let k = classify_target_in(path, query, scratch);
        if self.targets.len() < CACHE_ENTRIES {
            self.targets.insert((path, query), k);
        }
        k
    }
}

/// Parses and classifies the lines of one block, starting from the layout in force at its
/// start (W3C `#Fields:` lines inside it switch it, as they do sequentially).
///
/// UTF-8 is checked once for the whole block, not line by line: a line is valid on its own
/// exactly when it lies inside a valid stretch (a newline never belongs to a multi-byte
/// character), so only the line holding an invalid byte is looked at alone.
fn parse_lines(
    block: &[u8],
    mut layout: Option<AccessLayout>,
    shards: usize,
    observe_all: bool,
    spare: Spare,
) -> BlockLines<'_> {
    let mut out = BlockLines::new(spare, shards, observe_all);
    out.lines.reserve(block.len() / 160);
    let mut cache = LineCache::default();
    // The normalised target of each line, one buffer for the block.
    let mut target = String::new();
    let mut start = 0;
    while start < block.len() {
        // The valid stretch from `start`: up to the line with the first invalid byte.
        let (valid, bad_at) = match simdutf8::compat::from_utf8(&block[start..]) {
            Ok(text) => (text, None),
            Err(e) => {
                let upto = start + e.valid_up_to();
                let line_start = block[start..upto]
                    .iter()
                    .rposition(|&c| c == b'\n')
                    .map_or(start, |p| start + p + 1);
                // A prefix ending at a character boundary: always valid.
                let text = std::str::from_utf8(&block[start..line_start]).unwrap_or("");
                (text, Some(start + text.len()))
            }
        };
        let mut from = 0;
        while from < valid.len() {
            let end =
                memchr::memchr(b'\n', &valid.as_bytes()[from..]).map_or(valid.len(), |i| from + i);
            out.push(parse_line(
                &valid[from..end],
                &mut layout,
                &mut cache,
                &mut target,
            ));
            from = end + 1;
        }
        let Some(bad) = bad_at else { break };
        let end = memchr::memchr(b'\n', &block[bad..]).map_or(block.len(), |i| bad + i);
        out.push(parse_raw_line(&block[bad..end], &mut layout, &mut target));
        start = end + 1;
    }
    out.end_layout = layout;
    out
}

/// Whether lines parse alike under both layouts: "combined" and "not yet known" do (only a
/// W3C column list changes how a line is read).
fn parses_alike(a: Option<&AccessLayout>, b: Option<&AccessLayout>) -> bool {
    match (a, b) {
        (Some(AccessLayout::W3c(x)), Some(AccessLayout::W3c(y))) => x == y,
        (Some(AccessLayout::W3c(_)), _) | (_, Some(AccessLayout::W3c(_))) => false,
        _ => true,
    }
}

/// One line that may not be UTF-8 (then repaired), as the sequential reader did it.
fn parse_raw_line<'a>(
    raw: &'a [u8],
    layout: &mut Option<AccessLayout>,
    target: &mut String,
) -> LineOut<'a> {
    match std::str::from_utf8(raw) {
        Ok(text) => parse_line(text, layout, &mut LineCache::default(), target),
        Err(_) => {
            let text = String::from_utf8_lossy(raw);
            match parse_line(&text, layout, &mut LineCache::default(), target) {
                LineOut::Combined(v, k) => LineOut::Repaired(owned(&v), k),
                LineOut::Owned(r, k) => LineOut::Owned(r, k),
                LineOut::Repaired(r, k) => LineOut::Repaired(r, k),
                LineOut::Skip => LineOut::Skip,
                LineOut::Header => LineOut::Header,
                LineOut::Bad => LineOut::Bad,
            }
        }
    }
}

fn owned(v: &RequestView<'_>) -> HttpRequest {
    HttpRequest {
        ts: v.ts,
        client: v.client.to_owned(),
        method: v.method.to_owned(),
        path: v.path.to_owned(),
        query: v.query.to_owned(),
        status: v.status,
        bytes: 0,
        referer: String::new(),
        user_agent: v.user_agent.to_owned(),
    }
}

/// One line, as the sequential reader did it.
fn parse_line<'a>(
    text: &'a str,
    layout: &mut Option<AccessLayout>,
    cache: &mut LineCache<'a>,
    target: &mut String,
) -> LineOut<'a> {
    // `trim_end_matches(['\n', '\r'])` then `trim_start_matches('\u{feff}')`, on bytes.
    let b = text.as_bytes();
    let mut end = b.len();
    while end > 0 && matches!(b[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    let mut line = &text[..end];
    while let Some(rest) = line.strip_prefix('\u{feff}') {
        line = rest;
    }
    if line.is_empty() {
        return LineOut::Skip;
    }
    if let Some(fields) = line.strip_prefix("#Fields:") {
        *layout = Some(AccessLayout::W3c(
            fields.split_whitespace().map(str::to_owned).collect(),
        ));
        return LineOut::Header;
    }
    if line.starts_with('#') {
        return LineOut::Skip;
    }
    match layout {
        Some(AccessLayout::W3c(f)) => match parse_w3c(line, f) {
            Some(req) => {
                // Its own strings: not cached (the cache borrows from the block).
                let kinds = classify_target_in(&req.path, &req.query, target)
                    .with_scanner(is_scanner(&req.user_agent));
                LineOut::Owned(req, kinds)
            }
            None => LineOut::Bad,
        },
        _ => match parse_combined_request(line, &mut cache.dates, cache.last_agent.map(|(a, _)| a))
        {
            Some((v, same_agent)) => {
                if layout.is_none() {
                    *layout = Some(AccessLayout::Combined);
                }
                // The previous line's agent (its verdict is at hand, no second comparison).
                let scanner = match cache.last_agent {
                    Some((_, yes)) if same_agent => yes,
                    _ => cache.is_scanner(v.user_agent),
                };
                let kinds = cache
                    .classify(v.path, v.query, target)
                    .with_scanner(scanner);
                LineOut::Combined(v, kinds)
            }
            None => LineOut::Bad,
        },
    }
}

/// `(a - b).num_seconds()`, without the calendar when both are on one day at whole seconds
/// (a client's consecutive requests, nearly always).
fn seconds_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    use chrono::Timelike;
    let (a_utc, b_utc) = (a.naive_utc(), b.naive_utc());
    let (ta, tb) = (a_utc.time(), b_utc.time());
    if a_utc.date() == b_utc.date() && ta.nanosecond() == 0 && tb.nanosecond() == 0 {
        i64::from(ta.num_seconds_from_midnight()) - i64::from(tb.num_seconds_from_midnight())
    } else {
        (a - b).num_seconds()
    }
}

/// The per-client part of one request (the rest is [`WebScan::observe`]); `view` gives the
/// whole request (from its line) when more than the record is needed.
fn observe_client<'v>(
    clients: &mut ClientTable,
    r: &ClientReq,
    desc: Option<&str>,
    view: impl Fn() -> Option<RequestView<'v>>,
    loc: Loc,
    gap: i64,
) {
    let first = |v: &RequestView<'_>| FirstHit {
        ts: r.ts,
        request: describe_view(v),
        loc,
    };
    let long = if r.key == LONG_NAME { view() } else { None };
    // A client's requests come in runs: the previous request's client skips the lookup.
    let known = match clients.last {
        Some((key, i)) if key == r.key => Some(i),
        _ => clients.find(r.key, long.map(|v| v.client)),
    };
    let i = match known {
        Some(i) => i,
        None => {
            // The name from its key and the description from the block: no need to go
            // back to the line (out of cache by now) unless the name is long.
            let request = match desc {
                Some(d) => d.to_owned(),
                None => match view() {
                    Some(v) => describe_view(&v),
                    None => return,
                },
            };
            let state = ClientState {
                first: FirstHit {
                    ts: r.ts,
                    request,
                    loc,
                },
                last: r.ts,
                requests: 0,
                sessions: 1,
                attack: None,
            };
            let mut buf = [0u8; 16];
            match unpack_name(r.key, &mut buf) {
                Some(name) => clients.insert(r.key, name, state),
                None => match view() {
                    Some(v) => clients.insert(r.key, v.client, state),
                    None => return,
                },
            }
        }
    };
    if r.key != LONG_NAME {
        clients.last = Some((r.key, i));
    }
    let Some((_, state)) = clients.states.get_mut(i) else {
        return;
    };
    if seconds_between(r.ts, state.last) > gap {
        state.sessions += 1;
    }
    if r.ts < state.first.ts {
        if let Some(v) = view() {
            state.first = first(&v);
        }
    }
    state.last = state.last.max(r.ts);
    state.requests += 1;
    if !r.kinds.is_empty() {
        let a = state.attack.get_or_insert_with(Box::default);
        a.attacks += 1;
        if (200..300).contains(&r.status) {
            a.successful += 1;
        }
        for k in r.kinds.iter() {
            a.kinds[k as usize] += 1;
        }
        let earlier = a.first_attack.as_ref().is_none_or(|h| r.ts < h.ts);
        if earlier || a.user_agents.len() < 3 {
            if let Some(v) = view() {
                if earlier {
                    a.first_attack = Some(Hit {
                        ts: r.ts,
                        client: v.client.to_owned(),
                        request: describe_view(&v),
                        loc,
                    });
                }
                if a.user_agents.len() < 3 && !a.user_agents.iter().any(|u| u == v.user_agent) {
                    a.user_agents.push(v.user_agent.to_owned());
                }
            }
        }
    }
}

/// The reading side of [`WebScan::ingest_log`]: batches of blocks of whole lines, each with
/// the layout in force at its start.
struct BatchReader<'r, R> {
    reader: &'r mut R,
    carry: Vec<u8>,
    io_error: Option<std::io::Error>,
    block_bytes: usize,
    batch_blocks: usize,
}

impl<R: Read> BatchReader<'_, R> {
    /// The next blocks (empty at the end or after a read error), in buffers from `spares`.
    fn next_batch(&mut self, spares: &mut Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        let mut batch = Vec::new();
        while batch.len() < self.batch_blocks && self.io_error.is_none() {
            let (block, err) = crate::line_blocks::next_block(
                &mut *self.reader,
                &mut self.carry,
                self.block_bytes,
                spares.pop(),
            );
            self.io_error = err;
            let Some(block) = block else { break };
            batch.push(block);
        }
        batch
    }
}

/// The layout at the start of a log's next batch.
struct LayoutAt {
    start: Option<AccessLayout>,
    first_batch: bool,
}

/// A log's counts so far.
#[derive(Default)]
struct Tally {
    lines: u64,
    requests: u64,
    bad_lines: u64,
    first_bad: Option<u64>,
    format: Option<&'static str>,
}

/// The scan state: files first, then logs, then [`finish`](Self::finish).
pub struct WebScan {
    options: WebOptions,
    /// Compiled on first use when the scan was made without them (an access-log-only scan
    /// never needs them; compiling the built-in rules costs about 0.16 s of CPU).
    yara: Option<YaraRules>,
    rules: RuleSet,
    verdicts: Vec<(FileVerdict, String, Option<String>)>,
    files_scanned: u64,
    all_times: Vec<(String, FileClass, FileTimes, String, Option<String>)>,
    baseline: Option<BaselineDiff>,
    anchors: Vec<Anchor>,
    log_sources: Vec<SourceRef>,
    logs: Vec<LogSummary>,
    clients: ClientShards,
    window_posts: Vec<Hit>,
    log_shells: BTreeMap<String, Hit>,
    problems: Vec<Problem>,
    /// Block size of the log reader (a test varies it to prove results do not depend on it).
    block_bytes: usize,
}

impl std::fmt::Debug for WebScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebScan")
            .field("files_scanned", &self.files_scanned)
            .finish()
    }
}

/// Lists the regular files of a webroot (symlinks not followed).
pub fn webroot_files(root: &Path) -> Result<Vec<WebFile>, WebError> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| WebError::Walk {
            path: root.to_owned(),
            detail: e.to_string(),
        })?;
        if entry.file_type().is_file() {
            out.push(WebFile {
                path: entry.path().to_owned(),
                rel: relative(root, entry.path()),
                display: entry.path().display().to_string(),
                sha256: None,
            });
        }
    }
    Ok(out)
}

/// What reading and scanning one webroot file gave.
struct FileOutcome {
    problems: Vec<Problem>,
    /// `(sha256, size, times, class)` once hashed.
    hashed: Option<(String, u64, FileTimes, FileClass)>,
    /// Content checks, for the classes scanned.
    content: Option<ContentVerdict>,
}

fn scan_one(f: &WebFile, m: &mut Matchers<'_, '_>, options: &WebOptions) -> FileOutcome {
    let mut out = FileOutcome {
        problems: Vec::new(),
        hashed: None,
        content: None,
    };
    let problem = |kind: ProblemKind, detail: String| {
        Problem::new(f.display.clone(), ANALYZER_ID, kind, detail)
    };
    let meta = match std::fs::symlink_metadata(&f.path) {
        Ok(m) => m,
        Err(e) => {
            out.problems
                .push(problem(ProblemKind::Unreadable, e.to_string()));
            return out;
        }
    };
    let times = FileTimes::of(&meta);
    let class = FileClass::of(Path::new(&f.rel));
    let (sha, size) = match sha256_file(&f.path) {
        Ok(v) => v,
        Err(e) => {
            out.problems
                .push(problem(ProblemKind::Unreadable, e.to_string()));
            return out;
        }
    };
    out.hashed = Some((sha, size, times, class));
    if class == FileClass::Other {
        return out;
    }
    if size > options.max_scan_bytes {
        out.problems.push(problem(
            ProblemKind::Partial,
            format!(
                "{size} bytes: hashed, not scanned (limit {})",
                options.max_scan_bytes
            ),
        ));
        return out;
    }
    let bytes = match std::fs::read(&f.path) {
        Ok(b) => b,
        Err(e) => {
            out.problems
                .push(problem(ProblemKind::Unreadable, e.to_string()));
            return out;
        }
    };
    let c = scan_content(&f.rel, &bytes, m, &options.site_domains);
    if let Some(e) = &c.yara_error {
        out.problems.push(problem(
            ProblemKind::Partial,
            format!("YARA scan incomplete: {e}"),
        ));
    }
    out.content = Some(c);
    out
}

impl WebScan {
    /// A scan with the built-in YARA rules plus `options.rule_dirs` (compiled once, here).
    /// User rule files that do not compile are reported as problems and left out.
    pub fn new(options: WebOptions) -> Result<WebScan, WebError> {
        WebScan::with_rules(options, true)
    }

    /// As [`new`](Self::new); with `compile_rules` false and no user rule folders the
    /// built-in YARA rules are compiled only if [`scan_files`](Self::scan_files) is called.
    /// User folders are always compiled here, so their problems come first in the report.
    fn with_rules(options: WebOptions, compile_rules: bool) -> Result<WebScan, WebError> {
        let dirs: Vec<&Path> = options.rule_dirs.iter().map(PathBuf::as_path).collect();
        let yara = (compile_rules || !dirs.is_empty()).then(|| YaraRules::load(&dirs));
        let mut problems: Vec<Problem> = yara
            .iter()
            .flat_map(|y| y.errors.iter())
            .map(|e| {
                Problem::new(
                    e.path.clone(),
                    ANALYZER_ID,
                    ProblemKind::Corrupt,
                    format!("YARA rule file left out: {}", e.detail),
                )
            })
            .collect();
        let mut rules = RuleSet::default();
        for dir in &options.rule_dirs {
            let Ok(rd) = std::fs::read_dir(dir) else {
                continue; // Already reported by the YARA loader.
            };
            let mut paths: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            paths.sort();
            for p in paths {
                let display = p.display().to_string();
                let added = std::fs::read_to_string(&p)
                    .map_err(|e| e.to_string())
                    .and_then(|text| {
                        // All or nothing per file.
                        let mut one = RuleSet::default();
                        one.add_source(&text, &display).map_err(|e| e.to_string())?;
                        Ok(one)
                    });
                match added {
                    Ok(one) => rules.rules.extend(one.rules),
                    Err(detail) => problems.push(Problem::new(
                        display,
                        ANALYZER_ID,
                        ProblemKind::Corrupt,
                        format!("rule file left out: {detail}"),
                    )),
                }
            }
        }
        Ok(WebScan {
            options,
            yara,
            rules,
            verdicts: Vec::new(),
            files_scanned: 0,
            all_times: Vec::new(),
            baseline: None,
            anchors: Vec::new(),
            log_sources: Vec::new(),
            logs: Vec::new(),
            clients: ClientShards::new(),
            window_posts: Vec::new(),
            log_shells: BTreeMap::new(),
            problems,
            block_bytes: crate::line_blocks::BLOCK_BYTES,
        })
    }

    /// Scans webroot files (read-only). Call before [`ingest_log`](Self::ingest_log) so that
    /// requests can be joined with malicious files.
    ///
    /// Files are read and scanned in parallel (one YARA scanner per worker thread, the
    /// compiled rules shared); results are collected in the order of `files`.
    pub fn scan_files(&mut self, files: &[WebFile], baseline: Option<&Baseline>) {
        // Only the built-in rules can be missing here (user folders compile in `new`).
        let yara: &YaraRules = self.yara.get_or_insert_with(|| YaraRules::load(&[]));
        let outcomes: Vec<FileOutcome> = files
            .par_iter()
            .map_init(
                || yara.scanner(),
                |scanner, f| {
                    let mut m = Matchers {
                        yara,
                        scanner,
                        toml: &self.rules,
                    };
                    scan_one(f, &mut m, &self.options)
                },
            )
            .collect();
        let mut now: BTreeMap<String, (String, Option<DateTime<Utc>>)> = BTreeMap::new();
        for (f, o) in files.iter().zip(outcomes) {
            self.problems.extend(o.problems);
            let Some((sha, size, times, class)) = o.hashed else {
                continue;
            };
            now.insert(f.rel.clone(), (sha.clone(), times.modified));
            self.all_times.push((
                f.rel.clone(),
                class,
                times,
                f.display.clone(),
                f.sha256.clone(),
            ));
            let Some(c) = o.content else { continue };
            self.files_scanned += 1;
            if !c.reasons.is_empty() {
                self.verdicts.push((
                    FileVerdict {
                        path: f.rel.clone(),
                        severity: c.severity,
                        reasons: c.reasons,
                        foreign_domains: c.domains,
                        sha256: f.sha256.clone().unwrap_or(sha),
                        size,
                        times,
                    },
                    f.display.clone(),
                    f.sha256.clone(),
                ));
            }
        }
        self.timestamp_heuristics();
        if let Some(b) = baseline {
            self.baseline = Some(b.compare(&now));
        }
        // Anchors: files bad enough to have been planted.
        for (v, _, _) in &self.verdicts {
            if v.severity >= Severity::High {
                self.anchors.push(Anchor {
                    rel: v.path.clone(),
                    url: format!("/{}", v.path.to_lowercase()),
                    times: v.times,
                    hits: Vec::new(),
                    attack_hits: Vec::new(),
                });
            }
        }
    }

    /// Recently changed code among old files, and ctime far after mtime (`touch -r`) in a
    /// tree where the two normally agree (an evidence copy resets every ctime: then skip).
    fn timestamp_heuristics(&mut self) {
        let code = |c: FileClass| {
            matches!(
                c,
                FileClass::Php | FileClass::Jsp | FileClass::Aspx | FileClass::Js | FileClass::Html
            )
        };
        let mut mtimes: Vec<DateTime<Utc>> = self
            .all_times
            .iter()
            .filter(|t| code(t.1))
            .filter_map(|t| t.2.modified)
            .collect();
        if mtimes.len() < 20 {
            return;
        }
        mtimes.sort();
        // The bulk of the tree: its third quartile, so that a handful of planted files (or
        // a quarter of the tree updated at once) does not move the reference.
        let p75 = mtimes[mtimes.len() * 3 / 4];
        let recent = p75 + Duration::days(self.options.recent_days);
        let agree = self
            .all_times
            .iter()
            .filter(|t| match (t.2.modified, t.2.changed) {
                (Some(m), Some(c)) => (c - m).num_seconds().abs() < 86_400,
                _ => false,
            })
            .count();
        let ctime_meaningful = agree * 10 >= self.all_times.len() * 8;
        let entries = self.all_times.clone();
        for (rel, class, times, display, sha) in entries {
            if !code(class) {
                continue;
            }
            let mut extra = Vec::new();
            if times.modified.is_some_and(|m| m > recent) {
                extra.push(Reason {
                    rule: "heuristic.recently-changed".into(),
                    kind: "timestamp".into(),
                    line: None,
                    strings: Vec::new(),
                });
            }
            if ctime_meaningful
                && matches!((times.modified, times.changed), (Some(m), Some(c)) if c - m > Duration::days(1))
            {
                extra.push(Reason {
                    rule: "heuristic.mtime-older-than-ctime".into(),
                    kind: "timestamp".into(),
                    strings: Vec::new(),
                    line: None,
                });
            }
            if extra.is_empty() {
                continue;
            }
            let sev = if extra
                .iter()
                .any(|r| r.rule == "heuristic.mtime-older-than-ctime")
            {
                Severity::Medium
            } else {
                Severity::Low
            };
            match self.verdicts.iter_mut().find(|v| v.0.path == rel) {
                Some(v) => {
                    v.0.reasons.extend(extra);
                    v.0.severity = v.0.severity.max(sev);
                }
                None => self.verdicts.push((
                    FileVerdict {
                        path: rel.clone(),
                        severity: sev,
                        reasons: extra,
                        foreign_domains: Vec::new(),
                        sha256: sha.clone().unwrap_or_default(),
                        size: 0,
                        times,
                    },
                    display,
                    sha,
                )),
            }
        }
    }

    /// Reads one access log (plain or gzip), read-only.
    pub fn ingest_log_path(
        &mut self,
        path: &Path,
        source: SourceRef,
    ) -> Result<LogSummary, WebError> {
        let io = |e| WebError::Io {
            path: path.to_owned(),
            source: e,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut reader = BufReader::with_capacity(1 << 18, file);
        let gz = reader.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
        Ok(if gz {
            // Decompressed on another thread, ahead of the parser (see `ReadAhead`).
            let decoder = flate2::bufread::MultiGzDecoder::new(reader);
            std::thread::scope(|scope| {
                match ir110_model::line_blocks::ReadAhead::spawn(scope, decoder) {
                    Ok(ahead) => self.ingest_log(ahead, source),
                    Err(decoder) => self.ingest_log(decoder, source),
                }
            })
        } else {
            self.ingest_log(reader, source)
        })
    }

    /// Reads one access-log stream.
    ///
    /// Read in blocks of whole lines; the lines of a batch of blocks are parsed and
    /// classified in parallel (the costly part), then applied to the per-client state in
    /// file order on one thread, so the result is the same as a line-by-line read.
    pub fn ingest_log<R: Read>(&mut self, mut reader: R, source: SourceRef) -> LogSummary {
        let file = self.log_sources.len() as u32;
        self.log_sources.push(source.clone());
        let mut summary = LogSummary {
            source: source.clone(),
            format: None,
            lines: 0,
            requests: 0,
            bad_lines: 0,
        };
        let windows: Vec<(DateTime<Utc>, DateTime<Utc>)> = self
            .anchors
            .iter()
            .filter_map(|a| a.times.anchor())
            .map(|t| {
                (
                    t - Duration::seconds(self.options.compromise_window_secs),
                    t + Duration::seconds(60),
                )
            })
            .collect();
        let mut reading = BatchReader {
            reader: &mut reader,
            carry: Vec::new(),
            io_error: None,
            block_bytes: self.block_bytes,
            batch_blocks: 2 * rayon::current_num_threads().max(1),
        };
        let mut tally = Tally::default();
        let mut spares: Vec<Vec<u8>> = Vec::new();
        let mut spare_lines: Vec<Spare> = Vec::new();
        // The first batch in quarter-size blocks: nothing is parsed until it is read (from
        // disk, when the log is not cached), so a smaller one starts the work sooner.
        reading.block_bytes = (self.block_bytes / 4).max(1);
        let mut batch = reading.next_batch(&mut spares);
        reading.block_bytes = self.block_bytes;
        // Called from a pool thread (a caller running analyzers in parallel), a thread of
        // ours would wait on the pool while this one blocks outside it: with every pool
        // thread doing so, nothing would run. There, read and apply in turn.
        let on_pool = rayon::current_thread_index().is_some();
        // The layout in force at the start of the next batch (known once the previous one is
        // parsed: the reader no longer scans blocks for `#Fields:` lines).
        let mut layout = LayoutAt {
            start: None,
            first_batch: true,
        };
        while !batch.is_empty() {
            if on_pool {
                self.apply_batch(
                    &batch,
                    file,
                    &windows,
                    &mut tally,
                    &mut spare_lines,
                    &mut layout,
                );
                spares.append(&mut batch);
                batch = reading.next_batch(&mut spares);
                continue;
            }
            // This batch is parsed and applied on another thread (which hands the work to
            // the pool) while this one reads the next: reading and parsing overlap instead of
            // alternating. The reader stays on this thread.
            let (next, done) = std::thread::scope(|scope| {
                let work = scope.spawn(|| {
                    self.apply_batch(
                        &batch,
                        file,
                        &windows,
                        &mut tally,
                        &mut spare_lines,
                        &mut layout,
                    );
                    batch
                });
                let next = reading.next_batch(&mut spares);
                match work.join() {
                    Ok(done) => (next, done),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            });
            spares.extend(done);
            batch = next;
        }
        summary.lines = tally.lines;
        summary.requests = tally.requests;
        summary.bad_lines = tally.bad_lines;
        summary.format = tally.format;
        let first_bad = tally.first_bad;
        let io_error = reading.io_error;
        if let Some(e) = io_error {
            self.problems.push(Problem::new(
                source.path.clone(),
                ANALYZER_ID,
                ProblemKind::Truncated,
                format!("read stopped after line {}: {e}", summary.lines),
            ));
        }
        if summary.format.is_none() {
            self.problems.push(Problem::new(
                source.path.clone(),
                ANALYZER_ID,
                ProblemKind::Unsupported,
                "not an Apache/nginx or IIS access log",
            ));
        } else if let Some(first) = first_bad {
            self.problems.push(Problem::new(
                source.path.clone(),
                ANALYZER_ID,
                ProblemKind::Corrupt,
                format!(
                    "{} of {} lines unreadable (first: line {first})",
                    summary.bad_lines, summary.lines
                ),
            ));
        }
        self.logs.push(summary.clone());
        summary
    }

    /// Parses one batch of blocks in parallel, applies its requests to the client shards in
    /// parallel (each client's in file order), then, in file order, counts its lines and
    /// gives [`observe`](Self::observe) the requests it must see.
    fn apply_batch(
        &mut self,
        batch: &[Vec<u8>],
        file: u32,
        windows: &[(DateTime<Utc>, DateTime<Utc>)],
        tally: &mut Tally,
        spare_lines: &mut Vec<Spare>,
        layout: &mut LayoutAt,
    ) {
        let shards = self.clients.0.len();
        let observe_all = !self.anchors.is_empty();
        let spare: Vec<Spare> = batch
            .iter()
            .map(|_| spare_lines.pop().unwrap_or_default())
            .collect();
        // Blocks after the first are parsed from a guess of the layout at their start: the
        // batch's (a header inside a batch is rare), or, in a log's first batch, the one
        // after the first block's header (a W3C log starts with one). A block whose guess
        // turns out wrong is parsed again, in order, from its predecessor's end.
        let guess = match batch.first() {
            Some(first) if layout.first_batch => {
                crate::line_blocks::layout_after(first, layout.start.clone())
            }
            _ => layout.start.clone(),
        };
        let mut outs: Vec<BlockLines<'_>> = batch
            .par_iter()
            .zip(spare)
            .enumerate()
            .map(|(i, (block, spare))| {
                let start = if i == 0 { &layout.start } else { &guess };
                parse_lines(block, start.clone(), shards, observe_all, spare)
            })
            .collect();
        for i in 1..outs.len() {
            let (done, rest) = outs.split_at_mut(i);
            let Some(prev) = done.last() else { continue };
            let Some(out) = rest.first_mut() else {
                continue;
            };
            if !parses_alike(prev.end_layout.as_ref(), guess.as_ref()) {
                let start = prev.end_layout.clone();
                let block = batch.get(i).map_or(&[][..], Vec::as_slice);
                let spare =
                    std::mem::replace(out, BlockLines::new(Spare::default(), shards, observe_all))
                        .into_spare();
                *out = parse_lines(block, start, shards, observe_all, spare);
            }
        }
        if let Some(last) = outs.last() {
            layout.start = last.end_layout.clone();
        }
        layout.first_batch = false;
        let mut bases = Vec::with_capacity(outs.len());
        let mut base = tally.lines;
        for out in &outs {
            bases.push(base);
            base += out.lines.len() as u64;
        }
        // Per-client state: shards in parallel, each in file order.
        let gap = self.options.session_gap_secs;
        self.clients
            .0
            .par_iter_mut()
            .enumerate()
            .for_each(|(s, table)| {
                for (out, &base) in outs.iter().zip(&bases) {
                    for r in out.by_shard.get(s).map_or(&[][..], Vec::as_slice) {
                        let loc = Loc {
                            file,
                            line: base + u64::from(r.line) + 1,
                        };
                        let view = || out.request(r.line as usize).map(|(v, _)| v);
                        let desc = r
                            .desc
                            .and_then(|(a, b)| out.descs.get(a as usize..b as usize));
                        observe_client(table, r, desc, view, loc, gap);
                    }
                }
            });
        for (out, &base) in outs.iter().zip(&bases) {
            if let Some(i) = out.first_bad {
                tally.first_bad.get_or_insert(base + u64::from(i) + 1);
            }
            // A header anywhere makes the log W3C; else a combined request makes it combined.
            if out.combined {
                tally.format.get_or_insert("combined");
            }
            if out.header {
                tally.format = Some("w3c");
            }
            tally.lines += out.lines.len() as u64;
            tally.requests += out.requests;
            tally.bad_lines += out.bad_lines;
            for &i in &out.observe {
                if let Some((v, kinds)) = out.request(i as usize) {
                    let loc = Loc {
                        file,
                        line: base + u64::from(i) + 1,
                    };
                    self.observe(&v, kinds, loc, windows);
                }
            }
        }
        spare_lines.extend(outs.into_iter().map(BlockLines::into_spare));
    }

    fn observe(
        &mut self,
        req: &RequestView<'_>,
        kinds: KindSet,
        loc: Loc,
        windows: &[(DateTime<Utc>, DateTime<Utc>)],
    ) {
        let hit = || Hit {
            ts: req.ts,
            client: req.client.to_owned(),
            request: describe_view(req),
            loc,
        };
        // Shells seen from the log alone (no webroot): successful requests to shell-like paths.
        if kinds.contains(AttackKind::WebshellAccess)
            && (200..300).contains(&req.status)
            && self.log_shells.len() < 1000
        {
            let key = req.path.to_lowercase();
            let replace = self.log_shells.get(&key).is_none_or(|h| req.ts < h.ts);
            if replace {
                self.log_shells.insert(key, hit());
            }
        }
        if !self.anchors.is_empty() {
            let path = percent_decode(req.path).to_lowercase();
            let window = Duration::seconds(self.options.compromise_window_secs);
            for a in &mut self.anchors {
                // A modified (not created) file was reached before: count from its change.
                if path == a.url || (path.ends_with(&a.url) && path.len() > a.url.len()) {
                    if a.times.anchor().is_none_or(|t| req.ts >= t - window) {
                        keep_earliest(&mut a.hits, hit());
                    }
                    if !kinds.is_empty() {
                        keep_earliest(&mut a.attack_hits, hit());
                    }
                }
            }
            if req.method.eq_ignore_ascii_case("POST")
                && self.window_posts.len() < 10_000
                && windows.iter().any(|(a, b)| req.ts >= *a && req.ts <= *b)
            {
                self.window_posts.push(hit());
            }
        }
    }

    fn cite(&self, loc: Loc) -> Option<SourceRef> {
        let s = self.log_sources.get(loc.file as usize)?;
        Some(
            SourceRef::at(s.path.clone(), format!("line {}", loc.line))
                .with_sha256(s.sha256.clone()),
        )
    }

    /// The first request of `client`.
    fn first_ref(&self, client: &str, h: &FirstHit) -> Option<RequestRef> {
        Some(RequestRef {
            ts: h.ts,
            client: client.to_owned(),
            request: h.request.clone(),
            source: self.cite(h.loc)?,
        })
    }

    fn request_ref(&self, h: &Hit) -> Option<RequestRef> {
        Some(RequestRef {
            ts: h.ts,
            client: h.client.clone(),
            request: h.request.clone(),
            source: self.cite(h.loc)?,
        })
    }

    /// Joins, ranks and draws the findings.
    pub fn finish(mut self) -> WebReport {
        let mut findings = Vec::new();
        let mut events = Vec::new();

        // First compromise per anchor.
        let mut compromises = Vec::new();
        let last_request = self.clients.iter().map(|(_, c)| c.last).max();
        for a in &mut self.anchors {
            a.hits
                .sort_by(|x, y| x.ts.cmp(&y.ts).then(x.loc.line.cmp(&y.loc.line)));
            a.attack_hits
                .sort_by(|x, y| x.ts.cmp(&y.ts).then(x.loc.line.cmp(&y.loc.line)));
        }
        for a in &self.anchors {
            let times_usable = match (a.times.anchor(), last_request) {
                (Some(t), Some(last)) => t <= last,
                _ => false,
            };
            let hits = if times_usable {
                &a.hits
            } else {
                &a.attack_hits
            };
            let Some(first) = hits.first() else {
                continue;
            };
            let mut clients: Vec<String> = Vec::new();
            for h in hits {
                if !clients.contains(&h.client) {
                    clients.push(h.client.clone());
                }
            }
            let t = a
                .times
                .anchor()
                .filter(|_| times_usable)
                .unwrap_or(first.ts);
            let lo = t - Duration::seconds(self.options.compromise_window_secs);
            let hi = t + Duration::seconds(60);
            // The creating request comes before the file is reached and is not a request to
            // the file itself.
            let in_window = |h: &&Hit| {
                times_usable
                    && h.ts >= lo
                    && h.ts <= hi
                    && h.ts <= first.ts
                    && !h.request.to_lowercase().contains(&a.url)
            };
            let creating = self
                .window_posts
                .iter()
                .filter(in_window)
                .filter(|h| clients.contains(&h.client))
                .max_by_key(|h| (h.ts, h.loc.line))
                .or_else(|| {
                    self.window_posts
                        .iter()
                        .filter(in_window)
                        .max_by_key(|h| (h.ts, h.loc.line))
                });
            let attacker = creating.map_or(&first.client, |c| &c.client);
            let start = self
                .clients
                .get(attacker)
                .and_then(|s| self.first_ref(attacker, &s.first));
            compromises.push(FirstCompromise {
                file: a.rel.clone(),
                times: a.times,
                creating_request: creating.and_then(|h| self.request_ref(h)),
                first_access: self.request_ref(first),
                clients,
                attack_start: start,
            });
        }
        compromises.sort_by(|a, b| {
            let key = |c: &FirstCompromise| {
                c.creating_request
                    .as_ref()
                    .or(c.first_access.as_ref())
                    .map(|r| r.ts)
            };
            key(a).cmp(&key(b)).then(a.file.cmp(&b.file))
        });
        // Shells known only from the log.
        for (path, h) in &self.log_shells {
            if compromises
                .iter()
                .any(|c| format!("/{}", c.file.to_lowercase()) == *path)
            {
                continue;
            }
            let start = self
                .clients
                .get(&h.client)
                .and_then(|s| self.first_ref(&h.client, &s.first));
            compromises.push(FirstCompromise {
                file: path.trim_start_matches('/').to_owned(),
                times: FileTimes::default(),
                creating_request: None,
                first_access: self.request_ref(h),
                clients: vec![h.client.clone()],
                attack_start: start,
            });
        }

        // Attackers.
        let mut attackers: Vec<Attacker> = self
            .clients
            .iter()
            .filter_map(|(c, s)| {
                let a = s.attack.as_deref()?;
                Some(Attacker {
                    client: c.to_owned(),
                    first_seen: s.first.ts,
                    last_seen: s.last,
                    requests: s.requests,
                    attack_requests: a.attacks,
                    successful_attacks: a.successful,
                    kinds: crate::attack_patterns::ALL_KINDS
                        .iter()
                        .zip(a.kinds)
                        .filter(|(_, n)| *n > 0)
                        .map(|(k, n)| (k.as_str().to_owned(), n))
                        .collect(),
                    sessions: s.sessions,
                    user_agents: a.user_agents.clone(),
                    first_request: self.first_ref(c, &s.first)?,
                    first_attack: a.first_attack.as_ref().and_then(|h| self.request_ref(h)),
                })
            })
            .collect();
        attackers.sort_by(|a, b| {
            b.attack_requests
                .cmp(&a.attack_requests)
                .then(a.client.cmp(&b.client))
        });

        // Findings: files.
        self.verdicts.sort_by(|a, b| {
            b.0.severity
                .cmp(&a.0.severity)
                .then(a.0.path.cmp(&b.0.path))
        });
        for (v, display, sha) in &self.verdicts {
            let kinds: Vec<&str> = v.reasons.iter().map(|r| r.kind.as_str()).collect();
            let (rule, title) = if kinds.contains(&"skimmer") {
                ("web.skimmer", "web.skimmer.title")
            } else if kinds
                .iter()
                .any(|k| matches!(*k, "webshell" | "dropper" | "code-in-image" | "placement"))
            {
                ("web.webshell", "web.webshell.title")
            } else if kinds.contains(&"obfuscation") {
                ("web.obfuscated", "web.obfuscated.title")
            } else {
                (
                    "web.suspicious-timestamps",
                    "web.suspicious-timestamps.title",
                )
            };
            let rules: Vec<&str> = v.reasons.iter().map(|r| r.rule.as_str()).collect();
            let mut f = Finding::new(
                ANALYZER_ID,
                rule,
                v.severity,
                Category::WebCompromise,
                Message::new(title).arg("path", &v.path),
            )
            .key(&v.path)
            .summary(
                Message::new("web.file.summary")
                    .arg("rules", rules.join(", "))
                    .arg("sha256", &v.sha256),
            )
            .confidence(if v.severity >= Severity::Critical {
                Confidence::High
            } else if v.severity >= Severity::High {
                Confidence::Medium
            } else {
                Confidence::Low
            })
            .data("path", v.path.clone())
            .data("rules", rules.clone())
            .data("sha256", v.sha256.clone());
            // What the YARA rules matched, where: the evidence a responder re-checks.
            let matches: Vec<serde_json::Value> = v
                .reasons
                .iter()
                .flat_map(|r| {
                    r.strings.iter().map(move |m| {
                        serde_json::json!({
                            "rule": r.rule,
                            "string": m.string,
                            "offset": m.offset,
                            "length": m.length,
                            "data": m.data,
                        })
                    })
                })
                .collect();
            if !matches.is_empty() {
                f = f.data("yara_matches", matches);
            }
            if rule == "web.skimmer" {
                f = f
                    .attack("T1056.003")
                    .action(Message::new("web.action.stop-payments"))
                    .action(Message::new("web.action.appi-report"))
                    .data("foreign_domains", v.foreign_domains.clone());
            } else if rule == "web.webshell" {
                f = f
                    .attack("T1505.003")
                    .action(Message::new("web.action.isolate-site"));
            }
            f = f.action(Message::new("web.action.preserve"));
            if let Some(m) = v.times.modified {
                f = f.seen(m).data("modified", m.to_rfc3339());
            }
            for r in v.reasons.iter().take(4) {
                let src = match r.line {
                    Some(l) => SourceRef::at(display.clone(), format!("line {l}")),
                    None => SourceRef::file(display.clone()),
                }
                .with_sha256(sha.clone());
                if !f.evidence.contains(&src) {
                    f = f.evidence(src);
                }
            }
            findings.push(f);
        }

        // Findings: first compromise.
        for c in &compromises {
            let first_req = c.creating_request.as_ref().or(c.first_access.as_ref());
            let Some(first_req) = first_req else { continue };
            let mut f = Finding::new(
                ANALYZER_ID,
                "web.first-compromise",
                Severity::Critical,
                Category::WebCompromise,
                Message::new("web.first-compromise.title")
                    .arg("path", &c.file)
                    .arg("client", &first_req.client),
            )
            .key(&c.file)
            .summary(
                Message::new("web.first-compromise.summary")
                    .arg(
                        "created_by",
                        c.creating_request
                            .as_ref()
                            .map_or("?".to_owned(), |r| format!("{} {}", r.client, r.request)),
                    )
                    .arg(
                        "first_access",
                        c.first_access
                            .as_ref()
                            .map_or("?".to_owned(), |r| format!("{} {}", r.client, r.request)),
                    )
                    .arg("clients", c.clients.join(", ")),
            )
            .confidence(if c.creating_request.is_some() {
                Confidence::High
            } else {
                Confidence::Medium
            })
            .attack("T1190")
            .attack("T1505.003")
            .action(Message::new("web.action.block-clients").arg("clients", c.clients.join(", ")))
            .action(Message::new("web.action.fix-entry").arg("request", first_req.request.clone()))
            .data("file", c.file.clone())
            .data("clients", c.clients.clone());
            for r in [
                c.attack_start.as_ref(),
                c.creating_request.as_ref(),
                c.first_access.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                f = f.seen(r.ts);
                if !f.evidence.contains(&r.source) {
                    f = f.evidence(r.source.clone());
                }
            }
            if let Some(r) = &c.creating_request {
                f = f
                    .data("creating_request", r.request.clone())
                    .host(r.client.clone());
                events.push(
                    Event::new(
                        r.ts,
                        ANALYZER_ID,
                        "webshell-created",
                        r.source.clone(),
                        format!("{} {} -> {}", r.client, r.request, c.file),
                    )
                    .field("source.ip", r.client.clone())
                    .field("url.path", c.file.clone()),
                );
            }
            if let Some(r) = &c.first_access {
                events.push(
                    Event::new(
                        r.ts,
                        ANALYZER_ID,
                        "webshell-first-access",
                        r.source.clone(),
                        format!("{} {}", r.client, r.request),
                    )
                    .field("source.ip", r.client.clone())
                    .field("url.path", c.file.clone()),
                );
            }
            findings.push(f);
        }

        // Findings: attackers (busy or successful ones).
        let shell_users: Vec<&String> = compromises.iter().flat_map(|c| c.clients.iter()).collect();
        let used_shell = |a: &Attacker| {
            a.kinds.contains_key("webshell-access") || shell_users.contains(&&a.client)
        };
        for a in attackers
            .iter()
            .filter(|a| a.attack_requests >= 10 || used_shell(a))
            .take(20)
        {
            let kinds: Vec<String> = a.kinds.iter().map(|(k, n)| format!("{k}×{n}")).collect();
            let mut f = Finding::new(
                ANALYZER_ID,
                "web.attacker",
                if used_shell(a) {
                    Severity::High
                } else {
                    Severity::Medium
                },
                Category::WebCompromise,
                Message::new("web.attacker.title")
                    .arg("client", &a.client)
                    .arg("count", a.attack_requests),
            )
            .key(&a.client)
            .summary(
                Message::new("web.attacker.summary")
                    .arg("kinds", kinds.join(", "))
                    .arg("sessions", a.sessions)
                    .arg("successful", a.successful_attacks),
            )
            .confidence(Confidence::Medium)
            .attack("T1595")
            .seen(a.first_seen)
            .seen(a.last_seen)
            .data("client", a.client.clone())
            .data("kinds", serde_json::to_value(&a.kinds).unwrap_or_default())
            .evidence(a.first_request.source.clone());
            if let Some(fa) = &a.first_attack {
                if fa.source != a.first_request.source {
                    f = f.evidence(fa.source.clone());
                }
            }
            findings.push(f);
        }

        // Findings: baseline differences.
        if let Some(diff) = &self.baseline {
            let n = diff.added.len() + diff.changed.len() + diff.removed.len();
            if n > 0 {
                let mut f = Finding::new(
                    ANALYZER_ID,
                    "web.baseline-changed",
                    if diff
                        .added
                        .iter()
                        .chain(&diff.changed)
                        .any(|c| FileClass::of(Path::new(&c.path)) != FileClass::Other)
                    {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    Category::WebCompromise,
                    Message::new("web.baseline-changed.title")
                        .arg("added", diff.added.len())
                        .arg("changed", diff.changed.len())
                        .arg("removed", diff.removed.len()),
                )
                .confidence(Confidence::High)
                .data(
                    "added",
                    diff.added
                        .iter()
                        .map(|c| c.path.clone())
                        .collect::<Vec<_>>(),
                )
                .data(
                    "changed",
                    diff.changed
                        .iter()
                        .map(|c| c.path.clone())
                        .collect::<Vec<_>>(),
                )
                .data(
                    "removed",
                    diff.removed
                        .iter()
                        .map(|c| c.path.clone())
                        .collect::<Vec<_>>(),
                );
                for c in diff.added.iter().chain(&diff.changed) {
                    if let Some(m) = c.modified {
                        f = f.seen(m);
                    }
                }
                findings.push(f);
            }
        }

        WebReport {
            files_scanned: self.files_scanned,
            files: self.verdicts.into_iter().map(|v| v.0).collect(),
            baseline: self.baseline,
            logs: self.logs,
            attackers,
            first_compromises: compromises,
            findings,
            events,
            problems: self.problems,
        }
    }
}

/// `ir110 web scan`: scans `webroot` (if given), compares with `baseline` (if given), reads
/// the access logs, and joins them.
pub fn scan(
    webroot: Option<&Path>,
    baseline: Option<&Path>,
    access_logs: &[PathBuf],
    options: WebOptions,
) -> Result<WebReport, WebError> {
    // Compiling the rules and walking the tree overlap: both take a noticeable part of a
    // large webroot's scan.
    // Without a webroot the rules are never used: do not compile them.
    let compile_rules = webroot.is_some();
    let (scan, files) = rayon::join(
        || WebScan::with_rules(options, compile_rules),
        || webroot.map(webroot_files).transpose(),
    );
    let mut s = scan?;
    let baseline = baseline.map(Baseline::read).transpose()?;
    if let Some(files) = files? {
        s.scan_files(&files, baseline.as_ref());
    }
    for log in access_logs {
        let display = log.display().to_string();
        if let Err(e) = s.ingest_log_path(log, SourceRef::file(display.clone())) {
            s.problems.push(Problem::new(
                display,
                ANALYZER_ID,
                ProblemKind::Unreadable,
                e.to_string(),
            ));
        }
    }
    Ok(s.finish())
}

#[cfg(test)]
mod block_tests {
    use super::*;

    /// What a line became, comparable.
    fn shape(l: &LineOut<'_>) -> String {
        let tag = match l {
            LineOut::Skip => "skip",
            LineOut::Header => "header",
            LineOut::Bad => "bad",
            LineOut::Combined(..) => "combined",
            LineOut::Owned(..) => "owned",
            LineOut::Repaired(..) => "repaired",
        };
        format!("{tag} {:?}", l.request())
    }

    /// What line `i` of a block became, in the terms of [`shape`].
    fn stored_shape(out: &BlockLines<'_>, i: usize) -> String {
        let tag = match out.lines[i] {
            StoredLine::Skip => "skip",
            StoredLine::Header => "header",
            StoredLine::Bad => "bad",
            StoredLine::Combined(..) => "combined",
            StoredLine::Owned(..) => "owned",
            StoredLine::Repaired(..) => "repaired",
        };
        format!("{tag} {:?}", out.request(i))
    }

    /// A block with invalid UTF-8 in its first, middle and last lines (the last one without
    /// its newline), CRLF, byte-order marks and W3C headers: one UTF-8 check per valid
    /// stretch gives line for line what a check per line gives.
    #[test]
    fn block_utf8_check_matches_per_line_check() {
        let demo = crate::demo::attack_access_log(3, &crate::demo::AttackTimeline::demo());
        let mut block: Vec<u8> = b"\xff1.2.3.4 - - [10/Oct/2026:13:55:36 +0900] \"GET /\xe9 HTTP/1.1\" 200 1 \"-\" \"-\"\n".to_vec();
        for (i, l) in demo.lines().take(300).enumerate() {
            match i % 50 {
                7 => block.extend_from_slice(&l.as_bytes()[..l.len() / 2]),
                8 => block.extend_from_slice(b"\xef\xbb\xbf"),
                9 => block.extend_from_slice(b"\xc3"),
                10 => block.extend_from_slice(b"\r"),
                _ => {}
            }
            block.extend_from_slice(l.as_bytes());
            if i % 100 == 20 {
                block.extend_from_slice(b"\n203.0.113.66 - - [20/Jan/2026:01:00:00 +0900] \"GET /wp-content/uploads/2026/01/cache.php?c=id HTTP/1.1\" 200 12 \"-\" \"-\"");
            }
            if i % 50 == 9 {
                block.extend_from_slice(b"\xe6\x97");
            }
            block.push(b'\n');
            if i == 290 {
                block.extend_from_slice(
                    b"#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status cs(User-Agent)\n\
                      2026-01-21 02:00:00 45.155.205.9 GET /p\xff.aspx id=1%27+OR+1=1-- 200 sqlmap/1.7\n\
                      2026-01-21 02:00:05 198.51.100.7 GET /index.aspx - 200 Mozilla/5.0\n",
                );
            }
        }
        block.extend_from_slice(
            b"9.9.9.9 - - [10/Oct/2026:13:55:36 +0900] \"GET /\xff HTTP/1.1\" 200",
        );
        let fast = parse_lines(&block, None, 3, false, Spare::default());
        let fast_all = parse_lines(&block, None, 3, true, Spare::default());
        let mut layout = None;
        let mut target = String::new();
        let slow: Vec<LineOut<'_>> = block
            .split(|&c| c == b'\n')
            .map(|raw| parse_raw_line(raw, &mut layout, &mut target))
            .collect();
        let fast_shapes: Vec<String> = (0..fast.lines.len())
            .map(|i| stored_shape(&fast, i))
            .collect();
        let slow_shapes: Vec<String> = slow.iter().map(shape).collect();
        assert_eq!(fast_shapes, slow_shapes);
        // The block's bookkeeping, against the lines themselves.
        let requests: Vec<u32> = (0..slow.len() as u32)
            .filter(|&i| slow[i as usize].request().is_some())
            .collect();
        let shells: Vec<u32> = requests
            .iter()
            .copied()
            .filter(|&i| {
                slow[i as usize]
                    .request()
                    .is_some_and(|(_, k)| k.contains(AttackKind::WebshellAccess))
            })
            .collect();
        assert!(!shells.is_empty());
        assert_eq!(fast.observe, shells);
        assert_eq!(fast_all.observe, requests);
        assert_eq!(fast.requests, requests.len() as u64);
        let bad: Vec<usize> = (0..slow.len())
            .filter(|&i| matches!(slow[i], LineOut::Bad))
            .collect();
        assert_eq!(fast.bad_lines, bad.len() as u64);
        assert_eq!(fast.first_bad, bad.first().map(|&i| i as u32));
        assert!(fast.header && fast.combined);
        let records = fast.by_shard.concat();
        let mut sharded: Vec<u32> = records.iter().map(|r| r.line).collect();
        sharded.sort_unstable();
        assert_eq!(sharded, requests);
        // The first request of each packed client in the block carries its description.
        let mut seen = std::collections::HashSet::new();
        let mut in_order = records.clone();
        in_order.sort_by_key(|r| r.line);
        for r in &in_order {
            let first = r.key != LONG_NAME && seen.insert(r.key);
            assert_eq!(r.desc.is_some(), first, "line {}", r.line);
        }
        // Each record is its line's request, and its client's shard is the one it is in.
        for (s, list) in fast.by_shard.iter().enumerate() {
            for r in list {
                let (v, k) = slow[r.line as usize].request().unwrap();
                assert_eq!(
                    (r.key, r.ts, r.status, r.kinds),
                    (pack_name(v.client).unwrap_or(LONG_NAME), v.ts, v.status, k)
                );
                assert_eq!(ClientShards::shard_of(v.client, 3), s);
                if let Some((a, b)) = r.desc {
                    assert_eq!(&fast.descs[a as usize..b as usize], describe_view(&v));
                }
            }
        }
        let count = |p: &str| fast_shapes.iter().filter(|s| s.starts_with(p)).count();
        assert!(count("repaired") >= 6, "{}", count("repaired"));
        assert_eq!(count("owned"), 2);
        assert!(count("combined") > 250, "{}", count("combined"));
    }

    /// From a pool thread the batches are read and applied in turn (no thread of ours waits
    /// on the pool there): the report is the same as from outside the pool.
    #[test]
    fn ingest_from_a_pool_thread_gives_the_same_report() {
        let demo = crate::demo::attack_access_log(2, &crate::demo::AttackTimeline::demo());
        let run = || {
            let mut scan = WebScan::new(WebOptions::default()).unwrap();
            scan.block_bytes = 3_001;
            scan.ingest_log(demo.as_bytes(), SourceRef::file("access.log"));
            scan.finish()
        };
        let outside = run();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let inside = pool.install(run);
        assert_eq!(inside, outside);
        assert!(!outside.attackers.is_empty());
    }

    /// Unreadable lines are counted and the first one is cited by its line number, whatever
    /// the blocks (the counts are kept per block and added up in file order).
    #[test]
    fn bad_lines_are_counted_across_blocks() {
        let good =
            "198.51.100.7 - - [20/Jan/2026:01:00:00 +0900] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"\n";
        let mut text = String::new();
        let mut bad = Vec::new();
        for i in 1..=2_000u64 {
            if i % 377 == 0 || i == 1_001 {
                text.push_str("garbage line\n");
                bad.push(i);
            } else {
                text.push_str(good);
            }
        }
        let want = format!(
            "{} of 2000 lines unreadable (first: line {})",
            bad.len(),
            bad[0]
        );
        for block in [1 << 10, 7_001, 64 << 20] {
            let mut scan = WebScan::new(WebOptions::default()).unwrap();
            scan.block_bytes = block;
            let summary = scan.ingest_log(text.as_bytes(), SourceRef::file("access.log"));
            assert_eq!(summary.lines, 2_000);
            assert_eq!(summary.bad_lines, bad.len() as u64);
            assert_eq!(summary.requests, 2_000 - bad.len() as u64);
            assert_eq!(summary.format, Some("combined"));
            let report = scan.finish();
            let details: Vec<&str> = report.problems.iter().map(|p| p.detail.as_str()).collect();
            assert_eq!(details, [want.as_str()], "{block}");
        }
    }

    /// The session gap arithmetic gives chrono's answer: same day and across days, whole
    /// and fractional seconds, leap seconds, either order.
    #[test]
    fn seconds_between_matches_chrono() {
        use chrono::{NaiveDate, TimeZone};
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
        let mut times: Vec<DateTime<Utc>> = Vec::new();
        for d in [1, 2, 31] {
            for (h, m, s, nano) in [
                (0, 0, 0, 0),
                (0, 0, 0, 500_000_000),
                (12, 30, 15, 0),
                (23, 59, 59, 0),
                (23, 59, 59, 999_999_999),
                (23, 59, 59, 1_000_000_000),
                (23, 59, 59, 1_500_000_000),
            ] {
                let t = day(d).and_hms_nano_opt(h, m, s, nano).unwrap();
                times.push(Utc.from_utc_datetime(&t));
            }
        }
        for &a in &times {
            for &b in &times {
                assert_eq!(seconds_between(a, b), (a - b).num_seconds(), "{a:?} {b:?}");
            }
        }
    }

    /// Packed and text keys together behave as one map from names: names that differ only
    /// in a trailing NUL, at the 15/16-byte border, or in non-ASCII bytes stay apart.
    #[test]
    fn client_table_keys_names_exactly() {
        let names = [
            "",
            "a",
            "a\0",
            "\0",
            "1.2.3.4",
            "255.255.255.255",
            "255.255.255.2555",
            "123456789012345",
            "1234567890123456",
            "2001:db8::1",
            "2001:db8::1%eth0",
            "ホスト",
            "ホスト\0",
            "host.example.jp",
        ];
        let mut table = ClientTable::default();
        let mut reference: BTreeMap<&str, u64> = BTreeMap::new();
        for round in 0..3 {
            for (i, name) in names.iter().enumerate() {
                if (i + round) % 2 == 0 {
                    continue;
                }
                let state = table.get_or_insert_with(name, || ClientState {
                    first: FirstHit {
                        ts: DateTime::default(),
                        request: String::new(),
                        loc: Loc { file: 0, line: 0 },
                    },
                    last: DateTime::default(),
                    requests: 0,
                    sessions: 1,
                    attack: None,
                });
                state.requests += 1;
                *reference.entry(name).or_default() += 1;
            }
        }
        let got: BTreeMap<&str, u64> = table.iter().map(|(n, s)| (n, s.requests)).collect();
        assert_eq!(got, reference);
        assert_eq!(got.len(), names.len());
        for name in names {
            assert_eq!(
                table.get(name).map(|s| s.requests),
                reference.get(name).copied()
            );
        }
        assert!(table.get("a\0\0").is_none() && table.get("1.2.3.5").is_none());
        for name in names {
            let mut buf = [0u8; 16];
            let key = pack_name(name).unwrap_or(LONG_NAME);
            let want = (name.len() <= 15).then_some(name);
            assert_eq!(unpack_name(key, &mut buf), want);
        }
    }

    /// The per-block caches answer what the classifier and the scanner check answer, on the
    /// demo log's lines and on targets and agents that repeat with small differences.
    #[test]
    fn cached_classification_matches_direct() {
        let demo = crate::demo::attack_access_log(5, &crate::demo::AttackTimeline::demo());
        let extra = [
            ("/item.php", "id=1%27%20UNION%20SELECT%201", "sqlmap/1.7"),
            ("/item.php", "id=1", "Mozilla/5.0 Nikto"),
            ("/item.php", "", "Mozilla/5.0"),
            ("/item.php?", "", "NUCLEI"),
            ("/.env", "", "Mozilla/5.0 (日本)"),
            ("/P%C3%A9", "x=%FF", ""),
        ];
        let mut targets: Vec<(&str, &str, &str)> = demo
            .lines()
            .filter_map(|l| {
                crate::access_log::parse_combined_request(l, &mut ClfDates::default(), None)
                    .map(|(v, _)| v)
            })
            .map(|v| (v.path, v.query, v.user_agent))
            .collect();
        for _ in 0..3 {
            targets.extend(extra);
        }
        let mut cache = LineCache::default();
        let mut scratch = String::new();
        for (path, query, ua) in &targets {
            assert_eq!(
                cache.classify(path, query, &mut scratch),
                classify_target_in(path, query, &mut String::new()),
                "{path}?{query}"
            );
            assert_eq!(cache.is_scanner(ua), is_scanner(ua), "{ua}");
        }
        assert!(cache.targets.len() < targets.len() / 2);
    }

    /// One stream switching layouts mid-way (combined lines, then W3C under one header, then
    /// another column order behind two byte-order marks, then combined lines read as W3C):
    /// whatever the blocks, the blocks parsed from a guessed layout and corrected give the
    /// report of one block. (The reader's former `#Fields:` scan allowed one mark only, so
    /// the doubly marked header would have been missed at a block boundary.)
    #[test]
    fn guessed_block_layouts_are_corrected() {
        let combined = |n: usize| -> String {
            (0..n)
                .map(|i| {
                    format!(
                        "198.51.100.{} - - [20/Jan/2026:0{}:{:02}:00 +0900] \"GET /item.php?id={i}{} HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"\n",
                        i % 7,
                        i % 10,
                        i % 60,
                        if i % 13 == 0 { "%27%20union%20select%201" } else { "" }
                    )
                })
                .collect()
        };
        let mut text = combined(300);
        text.push_str(
            "#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status cs(User-Agent)\n",
        );
        for i in 0..300 {
            text.push_str(&format!(
                "2026-01-21 02:{:02}:00 45.155.205.{} GET /products.aspx id=1%27+OR+1=1-- 200 sqlmap/1.7\n",
                i % 60,
                i % 5
            ));
        }
        text.push_str("\u{feff}\u{feff}#Fields: date time cs-method cs-uri-stem c-ip sc-status cs-uri-query\n");
        for i in 0..300 {
            text.push_str(&format!(
                "2026-01-22 03:{:02}:00 GET /shell.php 203.0.113.{} 200 cmd=id\n",
                i % 60,
                i % 3
            ));
        }
        text.push_str(&combined(200));
        let run = |block: usize| {
            let mut scan = WebScan::new(WebOptions::default()).unwrap();
            scan.block_bytes = block;
            let summary = scan.ingest_log(text.as_bytes(), SourceRef::file("mixed.log"));
            (summary, scan.finish())
        };
        let (summary, whole) = run(64 << 20);
        assert_eq!(summary.lines, 1_102);
        assert_eq!(summary.bad_lines, 200);
        assert_eq!(summary.format, Some("w3c"));
        assert!(whole.attackers.iter().any(|a| a.client == "203.0.113.1"));
        for block in [600, 1 << 10, 4_001, 7_001, 16 << 10, 40_000] {
            assert_eq!(run(block), (summary.clone(), whole.clone()), "{block}");
        }
    }

    /// Logs read in 1 KiB blocks (dozens of boundaries, W3C `#Fields:` headers repeated
    /// mid-file and switching columns) give exactly the report of one block per file.
    #[test]
    fn results_do_not_depend_on_block_boundaries() {
        let iis = include_str!("../tests/data/u_ex260120.log");
        // A second header with another column order, as after an IIS logging change.
        let mut reordered = String::from(
            "#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status cs(User-Agent)\n",
        );
        for day in 21..=27 {
            reordered.push_str(&format!(
                "2026-01-{day} 02:00:00 45.155.205.9 GET /products.aspx id=1%27+OR+1=1-- 200 sqlmap/1.7\n\
                 2026-01-{day} 02:00:05 198.51.100.7 GET /index.aspx - 200 Mozilla/5.0\n"
            ));
        }
        let text = format!("{}{}{}", iis.repeat(40), reordered, iis.repeat(40));
        let combined: String = (0..400)
            .map(|i| {
                format!(
                    "198.51.100.{} - - [20/Jan/2026:0{}:{:02}:00 +0900] \"GET /item.php?id={i}{} HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"\n",
                    i % 7,
                    i % 10,
                    i % 60,
                    if i % 13 == 0 { "%27%20union%20select%201" } else { "" }
                )
            })
            .collect();
        let run = |block: usize| {
            let mut scan = WebScan::new(WebOptions::default()).unwrap();
            scan.block_bytes = block;
            scan.ingest_log(text.as_bytes(), SourceRef::file("u_ex.log"));
            scan.ingest_log(combined.as_bytes(), SourceRef::file("access.log"));
            scan.finish()
        };
        let whole = run(64 << 20);
        // Per-client state applied in 1 or 5 client shards (in parallel) gives the same.
        let run_shards = |shards: usize| {
            let mut scan = WebScan::new(WebOptions::default()).unwrap();
            scan.block_bytes = 7_001;
            scan.clients = ClientShards((0..shards).map(|_| ClientTable::default()).collect());
            scan.ingest_log(text.as_bytes(), SourceRef::file("u_ex.log"));
            scan.ingest_log(combined.as_bytes(), SourceRef::file("access.log"));
            scan.finish()
        };
        assert_eq!(run_shards(1), whole);
        assert_eq!(run_shards(5), whole);
        assert_eq!(whole.logs[0].format, Some("w3c"));
        assert_eq!(whole.logs[1].format, Some("combined"));
        assert!(whole.attackers.iter().any(|a| a.client == "45.155.205.9"));
        assert_eq!(run(1 << 10), whole);
        assert_eq!(run(7_001), whole);
    }
}
