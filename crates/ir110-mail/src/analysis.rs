//! Per-account sending behaviour and the verdict: *an account of ours is sending* versus *our
//! addresses are only spoofed elsewhere*.
//!
//! The split follows JPCERT/CC's Emotet FAQ: either the account's own credentials or PC are
//! abused, and the mail passes through our server (SASL logins from new addresses, bursts,
//! bounce storms, new recipient domains, mismatched senders), or a correspondent's PC is
//! infected and mail forged in our name is sent from elsewhere — it never appears in our MTA
//! log, and what we do see is backscatter: bounces for mail we never sent.
//!
//! Memory: per account, one small record per active hour, per recipient domain and per client
//! network; per local address, a backscatter counter. None of it grows with message count.

use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use ir110_model::{
    Category, Confidence, Event, Finding, Message, Problem, ProblemKind, Severity, SourceRef,
};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::block_parse::{
    BlockOut, FORMAT_POSTFIX, FORMAT_SENDMAIL, Item, ItemEvent, last_header, parse_block,
};
use crate::exchange::ExchangeColumns;
use crate::mta_event::{PostfixEvent, RecipientStatus, domain_of};
use crate::queue_join::{JoinedMessage, Loc, QueueJoiner};
use crate::syslog_line::{BsdStamp, Stamp, YearClock};
use crate::{ANALYZER_ID, MailError};
use ir110_model::line_blocks::next_block;

/// Options of a mail analysis.
#[derive(Debug, Clone)]
pub struct MailOptions {
    /// Year of the first BSD-syslog line (it carries none); default: the file's modification
    /// year, else the current year.
    pub year: Option<i32>,
    /// Offset east of UTC, seconds, of BSD-syslog times (default JST, +09:00).
    pub local_utc_offset_secs: i32,
    /// Message-IDs of mail the customer was told about ("we received mail from you"): each is
    /// looked up in our logs; absent ones point to spoofing elsewhere.
    pub reported_message_ids: Vec<String>,
    /// Recipients in one hour that count as a burst (at least)…
    pub burst_recipients: u64,
    /// …and at least this many times the account's median active hour.
    pub burst_factor: f64,
    /// New recipient domains in one hour that count as a spread.
    pub new_domains_per_hour: u64,
    /// Bounced or deferred recipients in one hour (and ≥ 30 % of them) for a bounce storm.
    pub bounce_storm: u64,
    /// Bounces received for a local address, beyond what it sent, that indicate spoofing.
    pub backscatter_min: u64,
}

impl Default for MailOptions {
    fn default() -> Self {
        MailOptions {
            year: None,
            local_utc_offset_secs: 9 * 3600,
            reported_message_ids: Vec::new(),
            burst_recipients: 40,
            burst_factor: 10.0,
            new_domains_per_hour: 20,
            bounce_storm: 20,
            backscatter_min: 10,
        }
    }
}

/// The verdict the responder needs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MailVerdict {
    /// At least one account sent abusive mail through our server.
    AccountAbused,
    /// Our addresses are forged on mail sent elsewhere (backscatter, reported mail absent).
    SpoofedElsewhere,
    /// Both.
    Both,
    /// Neither seen in these logs.
    NoAbuseSeen,
}

/// Per-account summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountSummary {
    /// The account (SASL login, or envelope sender for local/trusted-network submissions).
    pub account: String,
    /// Messages sent out.
    pub messages: u64,
    /// Recipients.
    pub recipients: u64,
    /// Distinct recipient domains.
    pub recipient_domains: u64,
    /// Distinct client networks (/24, /48).
    pub client_networks: u64,
    /// Busiest hour: recipients.
    pub peak_hour_recipients: u64,
    /// Median recipients per active hour.
    pub median_hour_recipients: u64,
    /// Signals seen (`burst`, `new-client`, `new-domains`, `bounce-storm`, `sender-mismatch`).
    pub signals: Vec<String>,
    /// Sending volume per UTC day with activity, oldest first.
    pub daily: Vec<DailyVolume>,
    /// Whether the account is judged abused.
    pub abused: bool,
}

/// One day of an account's sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyVolume {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Messages sent out.
    pub messages: u64,
    /// Recipients.
    pub recipients: u64,
    /// Recipients bounced or deferred.
    pub failed: u64,
}

/// A reported Message-ID and whether our logs have it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportedMessage {
    /// The Message-ID asked about.
    pub message_id: String,
    /// Found in our logs.
    pub found: bool,
    /// The sending account, when found.
    pub account: Option<String>,
    /// The client address, when found.
    pub client_ip: Option<IpAddr>,
    /// Where.
    pub evidence: Option<SourceRef>,
}

/// What one input file gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileSummary {
    /// The file.
    pub source: SourceRef,
    /// `postfix`, `sendmail`, `exchange`, or `None` when not recognised.
    pub format: Option<&'static str>,
    /// Lines read.
    pub lines: u64,
    /// Lines that were MTA events.
    pub events: u64,
}

/// The result of a mail analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MailReport {
    /// The verdict.
    pub verdict: MailVerdict,
    /// Accounts judged abused.
    pub abused_accounts: Vec<String>,
    /// Local addresses receiving bounces for mail they did not send.
    pub spoofed_addresses: Vec<String>,
    /// Every sending account.
    pub accounts: Vec<AccountSummary>,
    /// Reported Message-IDs looked up.
    pub reported: Vec<ReportedMessage>,
    /// Messages seen.
    pub messages: u64,
    /// Per file.
    pub files: Vec<FileSummary>,
    /// Findings (`mail-abuse`).
    pub findings: Vec<Finding>,
    /// Timeline events (burst start, first login from a new address).
    pub events: Vec<Event>,
    /// Files or parts not read.
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Copy, Default)]
struct HourStat {
    messages: u64,
    recipients: u64,
    failed: u64,
    new_domains: u64,
    first_loc: Option<Loc>,
    first_bounce_loc: Option<Loc>,
}

/// An account's hours, sorted by hour. An account's messages come in time order, so a
/// message's hour is nearly always the last one or a new last one (a hash table of thousands
/// of hours per account missed the cache on most messages); an earlier hour is found by
/// binary search.
#[derive(Debug, Clone, Default)]
struct HourTable {
    list: Vec<(i64, HourStat)>,
}

impl HourTable {
    /// The hour's record, added empty when new.
    fn entry(&mut self, hour: i64) -> &mut HourStat {
        let i = match self.list.last() {
            Some((h, _)) if *h == hour => self.list.len() - 1,
            Some((h, _)) if *h > hour => match self.list.binary_search_by_key(&hour, |e| e.0) {
                Ok(i) => i,
                Err(i) => {
                    self.list.insert(i, (hour, HourStat::default()));
                    i
                }
            },
            _ => {
                self.list.push((hour, HourStat::default()));
                self.list.len() - 1
            }
        };
        &mut self.list[i].1
    }
}

#[derive(Debug, Clone)]
struct ClientStat {
    ip: IpAddr,
    count: u64,
    first: DateTime<Utc>,
    first_loc: Option<Loc>,
}

#[derive(Debug, Clone, Default)]
struct AccountStats {
    hours: HourTable,
    domains: FxHashMap<String, i64>,
    clients: FxHashMap<Network, ClientStat>,
    first: Option<DateTime<Utc>>,
    messages: u64,
    recipients: u64,
    mismatches: u64,
    mismatch_example: Option<(String, String, Loc)>,
}

#[derive(Debug, Clone, Default)]
struct Backscatter {
    count: u64,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    first_loc: Option<Loc>,
}

/// Where the year of BSD-syslog lines comes from.
#[derive(Debug, Clone, Copy)]
enum YearHint {
    /// The user said.
    Given(i32),
    /// The log was last written then: its first line is no later than that month.
    LastWritten(DateTime<Utc>),
}

fn hour_of(ts: DateTime<Utc>) -> i64 {
    ts.timestamp().div_euclid(3600)
}

fn hour_time(hour: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(hour * 3600, 0).unwrap_or_default()
}

/// `hour_time(hour).format("%Y-%m-%d")`, written directly for years 0–9999 (chrono's
/// format machinery, once per account and day, was a quarter of the serial end of a run).
fn day_name(hour: i64) -> String {
    let t = hour_time(hour);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return t.format("%Y-%m-%d").to_string();
    }
    // Two digits of `n` (below 100).
    fn two(s: &mut String, n: u32) {
        s.push(char::from(b'0' + (n / 10 % 10) as u8));
        s.push(char::from(b'0' + (n % 10) as u8));
    }
    let year = year as u32;
    let mut s = String::with_capacity(10);
    two(&mut s, year / 100);
    two(&mut s, year % 100);
    s.push('-');
    two(&mut s, t.month());
    s.push('-');
    two(&mut s, t.day());
    s
}

/// The client's network: /24 for IPv4, /48 for IPv6 (one home or office line), as a value
/// (named only for the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Network {
    V4([u8; 3]),
    V6([u16; 3]),
}

impl Network {
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v) => {
                let o = v.octets();
                Network::V4([o[0], o[1], o[2]])
            }
            IpAddr::V6(v) => {
                let s = v.segments();
                Network::V6([s[0], s[1], s[2]])
            }
        }
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Network::V4(o) => write!(f, "{}.{}.{}.0/24", o[0], o[1], o[2]),
            Network::V6(s) => write!(f, "{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]),
        }
    }
}

/// Size of the blocks handed to the parsing threads. Smaller than the model's 4 MiB: the
/// applying thread waits for the first block to be read and parsed before it starts, and the
/// last block parsed is applied alone at the end — with 4 MiB blocks these two serial phases
/// took 45–80 ms of a 0.5–0.9 s run, with 256 KiB about 5 ms. A block and its items also stay
/// in the parsing core's cache between the kernel's copy and the parse, and peak memory is
/// lower (16–20 MB instead of 40 MB).
const BLOCK_BYTES: usize = 256 << 10;

/// Bytes of blocks each parsing thread may be ahead of the applying thread (so that a short
/// stall of the applying thread does not stop the parsers).
const AHEAD_BYTES_PER_WORKER: usize = 2 << 20;

/// Blocks handed out but not yet applied, for `workers` threads: bounds memory whatever the
/// thread speeds (at most 16 blocks a thread, however small the blocks).
fn window(workers: usize, block_bytes: usize) -> usize {
    workers * (AHEAD_BYTES_PER_WORKER / block_bytes.max(1)).clamp(2, 16)
}

/// What the reader keeps per file while applying blocks.
struct FileState {
    file_idx: u32,
    summary: FileSummary,
    clock: YearClock,
    saw_header: bool,
    /// The last BSD date resolved: (year, month, day) → the UTC dates of the day before,
    /// the day and the day after (`None`: an impossible date).
    midnight: Option<CachedDay>,
}

/// (year, month, day) of a BSD date → the UTC dates of the day before, the day and the day
/// after (`None`: an impossible date).
type CachedDay = ((i32, u32, u32), Option<[NaiveDate; 3]>);

impl FileState {
    /// [`YearClock::resolve`] of a BSD stamp, with the date cached (lines come in runs of
    /// one day): the local time of day minus the offset falls on the day, the day before or
    /// the day after.
    fn bsd_time(&mut self, b: &BsdStamp) -> Option<DateTime<Utc>> {
        let offset = i64::from(self.clock.offset_secs());
        if offset.abs() >= 86_400 {
            return self.clock.resolve(&Stamp::Bsd(*b));
        }
        let key = (self.clock.year(), b.month, b.day);
        let days = match self.midnight {
            Some((k, d)) if k == key => d,
            _ => {
                let d = NaiveDate::from_ymd_opt(key.0, b.month, b.day)
                    .and_then(|d| Some([d.pred_opt()?, d, d.succ_opt()?]));
                self.midnight = Some((key, d));
                d
            }
        };
        let Some(days) = days else {
            // An impossible date, or one at the end of chrono's range: as written.
            return self.clock.resolve(&Stamp::Bsd(*b));
        };
        if b.hour >= 24 || b.minute >= 60 || b.second >= 60 {
            return None;
        }
        let t = i64::from(b.hour * 3600 + b.minute * 60 + b.second) - offset;
        let (day, t) = if t < 0 {
            (days[0], t + 86_400)
        } else if t >= 86_400 {
            (days[2], t - 86_400)
        } else {
            (days[1], t)
        };
        let time = NaiveTime::from_num_seconds_from_midnight_opt(u32::try_from(t).ok()?, 0)?;
        Some(day.and_time(time).and_utc())
    }
}

/// The input of one file, handed out block by block in file order.
struct Feed<R> {
    reader: R,
    carry: Vec<u8>,
    block_bytes: usize,
    /// The Exchange layout after the blocks handed out so far.
    cols: Option<ExchangeColumns>,
    next_seq: u64,
    /// Blocks applied (when threads share the feed).
    applied: u64,
    end: bool,
    io_error: Option<std::io::Error>,
    spares: Vec<Vec<u8>>,
    spare_items: Vec<Vec<Item>>,
}

/// A block to parse.
struct Job {
    seq: u64,
    block: Vec<u8>,
    /// The Exchange layout at the block's start.
    cols: Option<ExchangeColumns>,
    items: Vec<Item>,
}

impl<R: Read> Feed<R> {
    fn take_block(&mut self) -> Option<Job> {
        if self.end {
            return None;
        }
        let (block, e) = next_block(
            &mut self.reader,
            &mut self.carry,
            self.block_bytes,
            self.spares.pop(),
        );
        if e.is_some() {
            self.io_error = e;
            self.end = true;
        }
        let Some(block) = block else {
            self.end = true;
            return None;
        };
        let cols = self.cols.clone();
        if let Some(c) = last_header(&block) {
            self.cols = Some(c);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        Some(Job {
            seq,
            block,
            cols,
            items: self.spare_items.pop().unwrap_or_default(),
        })
    }

    fn give_back(&mut self, out: BlockOut) {
        self.spares.push(out.text.into_bytes());
        self.spare_items.push(out.items);
    }
}

fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => v.is_private() || v.is_loopback() || v.is_link_local(),
        IpAddr::V6(v) => v.is_loopback() || (v.segments()[0] & 0xfe00) == 0xfc00,
    }
}

fn median(mut v: Vec<u64>) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

/// A streaming mail analysis: [`ingest`](Self::ingest) files, then [`finish`](Self::finish).
#[derive(Debug)]
pub struct MailAnalysis {
    options: MailOptions,
    files: Vec<FileSummary>,
    joiner: QueueJoiner,
    done: Vec<JoinedMessage>,
    /// Threads that parse blocks.
    threads: usize,
    /// Block size of the reader (smaller in tests, to cut inputs into many blocks).
    block_bytes: usize,
    accounts: FxHashMap<String, AccountStats>,
    sent_as: FxHashMap<String, u64>,
    backscatter: FxHashMap<String, Backscatter>,
    reported: FxHashMap<String, Option<ReportedMessage>>,
    messages: u64,
    problems: Vec<Problem>,
}

impl MailAnalysis {
    /// A new analysis.
    pub fn new(options: MailOptions) -> Self {
        let reported = options
            .reported_message_ids
            .iter()
            .map(|id| {
                (
                    id.trim_start_matches('<').trim_end_matches('>').to_owned(),
                    None,
                )
            })
            .collect();
        let keep_ids = !options.reported_message_ids.is_empty();
        MailAnalysis {
            options,
            files: Vec::new(),
            joiner: QueueJoiner::new(keep_ids),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
            block_bytes: BLOCK_BYTES,
            done: Vec::new(),
            accounts: FxHashMap::default(),
            sent_as: FxHashMap::default(),
            backscatter: FxHashMap::default(),
            reported,
            messages: 0,
            problems: Vec::new(),
        }
    }

    /// Reads a file (plain or gzip), read-only.
    ///
    /// The file is read in blocks of whole lines by parsing threads (one per core, at most
    /// eight; gzip is decompressed on one more thread ahead of them) while this thread
    /// joins and counts in file order: the result is the one a line-by-line reader gives.
    pub fn ingest_path(
        &mut self,
        path: &Path,
        source: SourceRef,
    ) -> Result<FileSummary, MailError> {
        let io = |e| MailError::Io {
            path: path.to_owned(),
            source: e,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        // Without `--year`, the file's last write dates it: a log written in January may
        // start in December of the year before (handled by the clock).
        let written: Option<DateTime<Utc>> = file
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .map(Into::into);
        let year = match self.options.year {
            Some(y) => YearHint::Given(y),
            None => YearHint::LastWritten(written.unwrap_or_else(Utc::now)),
        };
        let mut reader = BufReader::new(file);
        let gz = reader.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
        Ok(if gz {
            // Decompressed on another thread, ahead of the parser (see `ReadAhead`).
            let decoder = flate2::bufread::MultiGzDecoder::new(reader);
            std::thread::scope(|scope| {
                match ir110_model::line_blocks::ReadAhead::spawn(scope, decoder) {
                    Ok(ahead) => self.ingest_with_year(ahead, source, year),
                    Err(decoder) => self.ingest_with_year(decoder, source, year),
                }
            })
        } else {
            self.ingest_with_year_shared(reader, source, year)
        })
    }

    /// Reads one log stream (this thread reads, parsing threads parse; see
    /// [`ingest_path`](Self::ingest_path)).
    pub fn ingest<R: Read>(&mut self, reader: R, source: SourceRef) -> FileSummary {
        let year = match self.options.year {
            Some(y) => YearHint::Given(y),
            None => YearHint::LastWritten(Utc::now()),
        };
        self.ingest_with_year(reader, source, year)
    }

    fn ingest_with_year<R: Read>(
        &mut self,
        reader: R,
        source: SourceRef,
        year: YearHint,
    ) -> FileSummary {
        let (mut feed, mut state) = self.start_file(reader, source, year);
        let workers = self.threads;
        if workers <= 1 || !self.ingest_parallel(&mut feed, workers, &mut state) {
            self.ingest_sequential(&mut feed, &mut state);
        }
        self.end_file(state, feed.io_error)
    }

    /// As [`ingest_with_year`](Self::ingest_with_year), with the reading done by the
    /// parsing threads too (the reader can move between threads): this thread only applies.
    fn ingest_with_year_shared<R: Read + Send>(
        &mut self,
        reader: R,
        source: SourceRef,
        year: YearHint,
    ) -> FileSummary {
        let (feed, mut state) = self.start_file(reader, source, year);
        let workers = self.threads;
        let feed = std::sync::Mutex::new(feed);
        let parallel = workers > 1 && self.ingest_parallel_shared(&feed, workers, &mut state);
        // A worker never panics while holding the feed; should one, the feed is still whole.
        let mut feed = feed.into_inner().unwrap_or_else(|e| e.into_inner());
        if !parallel {
            self.ingest_sequential(&mut feed, &mut state);
        }
        self.end_file(state, feed.io_error)
    }

    fn start_file<R: Read>(
        &self,
        reader: R,
        source: SourceRef,
        year: YearHint,
    ) -> (Feed<R>, FileState) {
        let clock = match year {
            YearHint::Given(y) => YearClock::new(y, self.options.local_utc_offset_secs),
            YearHint::LastWritten(t) => {
                YearClock::new(t.year(), self.options.local_utc_offset_secs)
                    .not_after_month(t.month())
            }
        };
        let state = FileState {
            file_idx: self.files.len() as u32,
            summary: FileSummary {
                source,
                format: None,
                lines: 0,
                events: 0,
            },
            clock,
            saw_header: false,
            midnight: None,
        };
        let feed = Feed {
            reader,
            carry: Vec::new(),
            block_bytes: self.block_bytes,
            cols: None,
            next_seq: 0,
            applied: 0,
            end: false,
            io_error: None,
            spares: Vec::new(),
            spare_items: Vec::new(),
        };
        (feed, state)
    }

    /// One thread: read, parse and apply block after block.
    fn ingest_sequential<R: Read>(&mut self, feed: &mut Feed<R>, state: &mut FileState) {
        while let Some(job) = feed.take_block() {
            let out = parse_block(job.block, job.cols.as_ref(), job.items);
            self.apply_block(&out, state);
            feed.give_back(out);
        }
    }

    fn end_file(&mut self, state: FileState, io_error: Option<std::io::Error>) -> FileSummary {
        let mut summary = state.summary;
        if state.saw_header {
            summary.format = Some("exchange");
        }
        if let Some(e) = io_error {
            self.problems.push(Problem::new(
                summary.source.path.clone(),
                ANALYZER_ID,
                ProblemKind::Truncated,
                format!("read stopped after line {}: {e}", summary.lines),
            ));
        }
        if summary.format.is_none() {
            self.problems.push(Problem::new(
                summary.source.path.clone(),
                ANALYZER_ID,
                ProblemKind::Unsupported,
                "no Postfix, sendmail or Exchange message-tracking records",
            ));
        }
        self.files.push(summary.clone());
        summary
    }

    /// `workers` threads take blocks from the shared feed (reading them in turn) and parse
    /// them; this thread applies them in file order. `false` when no thread could be
    /// started (nothing was read then).
    fn ingest_parallel_shared<R: Read + Send>(
        &mut self,
        feed: &std::sync::Mutex<Feed<R>>,
        workers: usize,
        state: &mut FileState,
    ) -> bool {
        let window = window(workers, self.block_bytes) as u64;
        let ready = std::sync::Condvar::new();
        let (out_tx, out_rx) = std::sync::mpsc::channel::<(u64, BlockOut)>();
        std::thread::scope(|scope| {
            let mut started = 0;
            for _ in 0..workers {
                let out_tx = out_tx.clone();
                let ready = &ready;
                let worker = move || {
                    loop {
                        let job = {
                            let Ok(mut f) = feed.lock() else { return };
                            while !f.end && f.next_seq >= f.applied + window {
                                f = match ready.wait(f) {
                                    Ok(f) => f,
                                    Err(_) => return,
                                };
                            }
                            f.take_block()
                        };
                        let Some(job) = job else {
                            // The input ended: wake the others waiting for room.
                            ready.notify_all();
                            return;
                        };
                        let out = parse_block(job.block, job.cols.as_ref(), job.items);
                        if out_tx.send((job.seq, out)).is_err() {
                            return;
                        }
                    }
                };
                if std::thread::Builder::new()
                    .name("ir110-mail-parse".into())
                    .spawn_scoped(scope, worker)
                    .is_ok()
                {
                    started += 1;
                }
            }
            drop(out_tx);
            if started == 0 {
                return false;
            }
            // Blocks come back in any order; they are applied in file order.
            let mut pending: std::collections::BTreeMap<u64, BlockOut> = Default::default();
            let mut next = 0;
            for (seq, out) in out_rx {
                pending.insert(seq, out);
                while let Some(out) = pending.remove(&next) {
                    self.apply_block(&out, state);
                    next += 1;
                    if let Ok(mut f) = feed.lock() {
                        f.applied = next;
                        f.give_back(out);
                    }
                    ready.notify_all();
                }
            }
            true
        })
    }

    /// Reads blocks on this thread and hands them to `workers` parsing threads, applying the
    /// parsed blocks here in file order while the next ones are parsed. `false` when no
    /// thread could be started (nothing was read then).
    fn ingest_parallel<R: Read>(
        &mut self,
        feed: &mut Feed<R>,
        workers: usize,
        state: &mut FileState,
    ) -> bool {
        let window = window(workers, self.block_bytes);
        let (job_tx, job_rx) = std::sync::mpsc::channel::<Job>();
        let job_rx = std::sync::Mutex::new(job_rx);
        let (out_tx, out_rx) = std::sync::mpsc::channel::<(u64, BlockOut)>();
        std::thread::scope(|scope| {
            let mut started = 0;
            for _ in 0..workers {
                let out_tx = out_tx.clone();
                let job_rx = &job_rx;
                let worker = move || {
                    loop {
                        let job = match job_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        let out = parse_block(job.block, job.cols.as_ref(), job.items);
                        if out_tx.send((job.seq, out)).is_err() {
                            return;
                        }
                    }
                };
                if std::thread::Builder::new()
                    .name("ir110-mail-parse".into())
                    .spawn_scoped(scope, worker)
                    .is_ok()
                {
                    started += 1;
                }
            }
            drop(out_tx);
            if started == 0 {
                return false;
            }
            // Blocks come back in any order; they are applied in file order.
            let mut pending: std::collections::BTreeMap<u64, BlockOut> = Default::default();
            let mut next = 0;
            let mut in_flight = 0;
            loop {
                while in_flight < window {
                    let Some(job) = feed.take_block() else { break };
                    if job_tx.send(job).is_err() {
                        break;
                    }
                    in_flight += 1;
                }
                if in_flight == 0 {
                    break;
                }
                let Ok((seq, out)) = out_rx.recv() else { break };
                pending.insert(seq, out);
                while let Some(out) = pending.remove(&next) {
                    self.apply_block(&out, state);
                    feed.give_back(out);
                    next += 1;
                    in_flight -= 1;
                }
            }
            drop(job_tx);
            true
        })
    }

    /// Applies a block's items in file order: the year clock, the file's format, the join by
    /// queue id and, for completed messages, the per-account state.
    fn apply_block(&mut self, out: &BlockOut, state: &mut FileState) {
        state.saw_header |= out.saw_header;
        for item in &out.items {
            let ts = match &item.stamp {
                Stamp::At(ts) => *ts,
                Stamp::Bsd(b) => {
                    state.clock.observe(b.month);
                    match state.bsd_time(b) {
                        Some(ts) => ts,
                        None => continue,
                    }
                }
            };
            match item.format {
                FORMAT_POSTFIX => {
                    state.summary.format.get_or_insert("postfix");
                }
                FORMAT_SENDMAIL => {
                    state.summary.format.get_or_insert("sendmail");
                }
                _ => {}
            }
            let loc = Loc {
                file: state.file_idx,
                line: state.summary.lines + u64::from(item.line) + 1,
            };
            match &item.event {
                ItemEvent::None => continue,
                ItemEvent::Postfix(qid, e) => {
                    // Spans always fall on the text they were cut from.
                    if let Some((qid, e)) = out.event(*qid, e) {
                        self.joiner.apply(qid, ts, e, loc, &mut self.done);
                    }
                }
                ItemEvent::Owned(b) => {
                    let e = PostfixEvent::of(&b.1).into();
                    self.joiner.apply(&b.0, ts, e, loc, &mut self.done);
                }
            }
            state.summary.events += 1;
            if self.done.len() >= 1024 {
                self.absorb_done();
            }
        }
        state.summary.lines += out.lines;
    }

    fn absorb_done(&mut self) {
        let done = std::mem::take(&mut self.done);
        for m in &done {
            self.absorb(m);
        }
        self.done = done;
        self.done.clear();
    }

    /// The sending account of an outbound message, if it is ours to judge.
    fn account_of(m: &JoinedMessage) -> Option<&str> {
        if let Some(s) = m.sasl_username() {
            return Some(s);
        }
        let from = m.envelope_from().filter(|f| !f.is_empty())?;
        let trusted = m.local_submission || m.client_ip.is_some_and(is_internal);
        trusted.then_some(from)
    }

    fn absorb(&mut self, m: &JoinedMessage) {
        self.messages += 1;
        if let Some(id) = m.message_id() {
            if let Some(slot) = self.reported.get_mut(id) {
                if slot.is_none() {
                    // Evidence is resolved at finish (file table complete).
                    *slot = Some(ReportedMessage {
                        message_id: id.to_string(),
                        found: true,
                        account: Self::account_of(m).map(str::to_owned),
                        client_ip: m.client_ip,
                        evidence: Some(SourceRef::at(
                            format!("#{}", m.first_loc.file),
                            format!("line {}", m.first_loc.line),
                        )),
                    });
                }
            }
        }
        let outbound = || m.recipients().filter(|r| !r.local);
        let bounce = m.envelope_from() == Some("");
        // Backscatter: a bounce from another server to one of our mailboxes.
        if bounce && m.client_ip.is_some_and(|ip| !is_internal(ip)) && m.sasl_username().is_none() {
            for r in m.recipients().filter(|r| r.local) {
                let address = m.text(r.address);
                let b = match self.backscatter.get_mut(address) {
                    Some(b) => b,
                    None => self.backscatter.entry(address.to_owned()).or_default(),
                };
                b.count += 1;
                b.first = Some(b.first.map_or(m.first_seen, |t| t.min(m.first_seen)));
                b.last = Some(b.last.map_or(m.first_seen, |t| t.max(m.first_seen)));
                if b.first_loc.is_none() {
                    b.first_loc = Some(m.first_loc);
                }
            }
            return;
        }
        let outbound_count = outbound().count() as u64;
        if outbound_count == 0 || bounce {
            return;
        }
        if let Some(from) = m.envelope_from().filter(|f| !f.is_empty()) {
            match self.sent_as.get_mut(from) {
                Some(n) => *n += 1,
                None => {
                    self.sent_as.insert(from.to_owned(), 1);
                }
            }
        }
        let Some(account) = Self::account_of(m) else {
            return;
        };
        let stats = match self.accounts.get_mut(account) {
            Some(s) => s,
            None => self.accounts.entry(account.to_owned()).or_default(),
        };
        stats.first = Some(stats.first.map_or(m.first_seen, |t| t.min(m.first_seen)));
        stats.messages += 1;
        stats.recipients += outbound_count;
        let hour = hour_of(m.first_seen);
        let first_hour = stats.first.map_or(hour, hour_of);
        let mut new_domains = 0;
        for r in outbound() {
            if let Some(d) = domain_of(m.text(r.address)) {
                if !stats.domains.contains_key(d) {
                    stats.domains.insert(d.to_owned(), hour);
                    // Domains in the account's first day are its habits, not news.
                    if hour - first_hour >= 24 {
                        new_domains += 1;
                    }
                }
            }
        }
        let failed = outbound()
            .filter(|r| {
                matches!(
                    r.status,
                    RecipientStatus::Bounced | RecipientStatus::Deferred
                )
            })
            .count() as u64;
        let h = stats.hours.entry(hour);
        h.messages += 1;
        h.recipients += outbound_count;
        h.failed += failed;
        h.new_domains += new_domains;
        if h.first_loc.is_none() {
            h.first_loc = Some(m.first_loc);
        }
        if h.first_bounce_loc.is_none() {
            h.first_bounce_loc = m.first_bounce_loc;
        }
        if let Some(ip) = m.client_ip {
            let c = stats.clients.entry(Network::of(ip)).or_insert(ClientStat {
                ip,
                count: 0,
                first: m.first_seen,
                first_loc: m.client_loc.or(Some(m.first_loc)),
            });
            c.count += 1;
        }
        // Mismatched senders: login vs envelope, envelope vs header.
        let env = m.envelope_from().unwrap_or_default();
        let login_mismatch = m
            .sasl_username()
            .is_some_and(|s| s.contains('@') && s != env);
        let header_mismatch = m
            .header_from()
            .is_some_and(|h| domain_of(h) != domain_of(env));
        if login_mismatch || header_mismatch {
            stats.mismatches += 1;
            if stats.mismatch_example.is_none() {
                let shown = if header_mismatch {
                    m.header_from().unwrap_or_default()
                } else {
                    env
                };
                stats.mismatch_example = Some((
                    if header_mismatch { env } else { account }.to_owned(),
                    shown.to_owned(),
                    m.first_loc,
                ));
            }
        }
    }

    fn cite(&self, loc: Option<Loc>) -> Option<SourceRef> {
        let loc = loc?;
        let file = self.files.get(loc.file as usize)?;
        Some(
            SourceRef::at(file.source.path.clone(), format!("line {}", loc.line))
                .with_sha256(file.source.sha256.clone()),
        )
    }

    /// Draws the conclusions.
    pub fn finish(mut self) -> MailReport {
        let mut rest = Vec::new();
        self.joiner.drain(&mut rest);
        self.done.extend(rest);
        self.absorb_done();

        let mut findings = Vec::new();
        let mut events = Vec::new();
        let mut summaries = Vec::new();
        let mut abused = Vec::new();
        let mut names: Vec<String> = self.accounts.keys().cloned().collect();
        names.sort();
        for name in &names {
            let Some(stats) = self.accounts.get(name) else {
                continue;
            };
            let (summary, mut f, mut e) = self.judge(name, stats);
            if summary.abused {
                abused.push(name.clone());
            }
            findings.append(&mut f);
            events.append(&mut e);
            summaries.push(summary);
        }

        // Spoofing elsewhere: bounces for mail the address did not send through us.
        let mut spoofed = Vec::new();
        let mut addrs: Vec<&String> = self.backscatter.keys().collect();
        addrs.sort();
        for addr in addrs {
            let Some(b) = self.backscatter.get(addr) else {
                continue;
            };
            let sent = self.sent_as.get(addr).copied().unwrap_or(0);
            if b.count < self.options.backscatter_min
                || sent * 2 >= b.count
                || abused.contains(addr)
            {
                continue;
            }
            spoofed.push(addr.clone());
            let mut f = Finding::new(
                ANALYZER_ID,
                "mail.spoofed-elsewhere",
                Severity::High,
                Category::MailAbuse,
                Message::new("mail.spoofed-elsewhere.title").arg("address", addr),
            )
            .key(addr)
            .summary(
                Message::new("mail.spoofed-elsewhere.summary")
                    .arg("bounces", b.count)
                    .arg("sent", sent),
            )
            .confidence(Confidence::Medium)
            .attack("T1656")
            .action(Message::new("mail.action.dmarc"))
            .action(Message::new("mail.action.warn-correspondents"))
            .data("address", addr.clone())
            .data("bounces_received", b.count)
            .data("sent_through_us", sent);
            if let (Some(a), Some(z)) = (b.first, b.last) {
                f = f.seen(a).seen(z);
            }
            if let Some(src) = self.cite(b.first_loc) {
                f = f.evidence(src);
            }
            findings.push(f);
        }

        // Reported Message-IDs.
        let mut reported: Vec<ReportedMessage> = self
            .reported
            .iter()
            .map(|(id, found)| match found {
                Some(r) => {
                    let mut r = r.clone();
                    r.evidence = r.evidence.and_then(|e| {
                        let file: u32 = e.path.trim_start_matches('#').parse().ok()?;
                        let line: u64 = e.locator?.trim_start_matches("line ").parse().ok()?;
                        self.cite(Some(Loc { file, line }))
                    });
                    r
                }
                None => ReportedMessage {
                    message_id: id.clone(),
                    found: false,
                    account: None,
                    client_ip: None,
                    evidence: None,
                },
            })
            .collect();
        reported.sort_by(|a, b| a.message_id.cmp(&b.message_id));
        let missing: Vec<&str> = reported
            .iter()
            .filter(|r| !r.found)
            .map(|r| r.message_id.as_str())
            .collect();
        if !missing.is_empty() {
            findings.push(
                Finding::new(
                    ANALYZER_ID,
                    "mail.reported-not-sent-by-us",
                    Severity::Medium,
                    Category::MailAbuse,
                    Message::new("mail.reported-not-sent-by-us.title").arg("count", missing.len()),
                )
                .key(&missing.join(","))
                .summary(
                    Message::new("mail.reported-not-sent-by-us.summary")
                        .arg("ids", missing.join(", ")),
                )
                .confidence(Confidence::Medium)
                .action(Message::new("mail.action.dmarc"))
                .data("message_ids", missing.clone()),
            );
        }
        let spoof_signal = !spoofed.is_empty() || !missing.is_empty();
        let verdict = match (!abused.is_empty(), spoof_signal) {
            (true, true) => MailVerdict::Both,
            (true, false) => MailVerdict::AccountAbused,
            (false, true) => MailVerdict::SpoofedElsewhere,
            (false, false) => MailVerdict::NoAbuseSeen,
        };
        MailReport {
            verdict,
            abused_accounts: abused,
            spoofed_addresses: spoofed,
            accounts: summaries,
            reported,
            messages: self.messages,
            files: self.files,
            findings,
            events,
            problems: self.problems,
        }
    }

    /// Signals and verdict for one account.
    fn judge(&self, name: &str, s: &AccountStats) -> (AccountSummary, Vec<Finding>, Vec<Event>) {
        let o = &self.options;
        // Already sorted by hour, each hour once (see `HourTable::entry`): no copy to sort.
        let hours: &[(i64, HourStat)] = &s.hours.list;
        let med = median(hours.iter().map(|h| h.1.recipients).collect());
        let peak = hours.iter().map(|h| h.1.recipients).max().unwrap_or(0);
        // A burst is large in absolute terms *and* against the account's own habits.
        let burst_limit = o.burst_recipients.max((med as f64 * o.burst_factor) as u64);
        let burst_hours: Vec<&(i64, HourStat)> = hours
            .iter()
            .filter(|h| h.1.recipients >= burst_limit.max(1))
            .collect();
        let storm_hours: Vec<&(i64, HourStat)> = hours
            .iter()
            .filter(|h| h.1.failed >= o.bounce_storm && h.1.failed * 10 >= h.1.recipients * 3)
            .collect();
        let spread_hours: Vec<&(i64, HourStat)> = hours
            .iter()
            .filter(|h| h.1.new_domains >= o.new_domains_per_hour)
            .collect();
        let first = s.first.unwrap_or_default();
        let burst_start = burst_hours.first().map(|h| hour_time(h.0));
        let mut new_clients: Vec<(String, &ClientStat)> = s
            .clients
            .iter()
            .map(|(n, c)| (n.to_string(), c))
            .filter(|(_, c)| !is_internal(c.ip))
            .filter(|(_, c)| {
                let late = c.first - first >= chrono::Duration::hours(72);
                let with_burst = burst_start
                    .is_some_and(|b| c.first >= b - chrono::Duration::hours(1) && c.first > first);
                (late && c.count >= 5) || with_burst
            })
            .collect();
        new_clients.sort_by(|a, b| a.1.first.cmp(&b.1.first).then(a.0.cmp(&b.0)));

        let mut signals = Vec::new();
        let mut findings = Vec::new();
        let mut events = Vec::new();
        let key = name;
        let base = |rule: &str, sev: Severity, title: Message| {
            Finding::new(ANALYZER_ID, rule, sev, Category::MailAbuse, title)
                .key(key)
                .data("account", name.to_owned())
        };
        if let (Some(b0), Some(b1)) = (burst_hours.first(), burst_hours.last()) {
            signals.push("burst".to_owned());
            let total: u64 = burst_hours.iter().map(|h| h.1.recipients).sum();
            let mut f = base(
                "mail.burst",
                Severity::High,
                Message::new("mail.burst.title")
                    .arg("account", name)
                    .arg("peak", peak),
            )
            .summary(
                Message::new("mail.burst.summary")
                    .arg("hours", burst_hours.len())
                    .arg("recipients", total)
                    .arg("median", med),
            )
            .confidence(Confidence::High)
            .seen(hour_time(b0.0))
            .seen(hour_time(b1.0) + chrono::Duration::minutes(59))
            .data("peak_hour_recipients", peak)
            .data("median_hour_recipients", med)
            .data("burst_hours", burst_hours.len());
            if let Some(src) = self.cite(b0.1.first_loc) {
                events.push(
                    Event::new(
                        hour_time(b0.0),
                        ANALYZER_ID,
                        "mail-burst-start",
                        src.clone(),
                        format!(
                            "{name}: sending burst starts ({} recipients in the hour)",
                            b0.1.recipients
                        ),
                    )
                    .field("user.name", name.to_owned()),
                );
                f = f.evidence(src);
            }
            findings.push(f);
        }
        if !new_clients.is_empty() {
            signals.push("new-client".to_owned());
            let nets: Vec<String> = new_clients.iter().map(|(n, _)| n.clone()).collect();
            let mut f = base(
                "mail.unusual-client",
                Severity::Medium,
                Message::new("mail.unusual-client.title")
                    .arg("account", name)
                    .arg("networks", nets.join(", ")),
            )
            .summary(
                Message::new("mail.unusual-client.summary")
                    .arg("count", new_clients.len())
                    .arg("first", first.format("%Y-%m-%d %H:%M UTC")),
            )
            .confidence(Confidence::Medium)
            .attack("T1078")
            .data("networks", nets.clone());
            for (_, c) in &new_clients {
                f = f.seen(c.first);
                if let Some(src) = self.cite(c.first_loc) {
                    events.push(
                        Event::new(
                            c.first,
                            ANALYZER_ID,
                            "mail-login-new-address",
                            src.clone(),
                            format!("{name}: first submission from {}", c.ip),
                        )
                        .field("user.name", name.to_owned())
                        .field("source.ip", c.ip.to_string()),
                    );
                    f = f.evidence(src);
                }
            }
            findings.push(f);
        }
        if let Some(h) = spread_hours.first() {
            signals.push("new-domains".to_owned());
            let total: u64 = spread_hours.iter().map(|h| h.1.new_domains).sum();
            let mut f = base(
                "mail.new-recipient-domains",
                Severity::Medium,
                Message::new("mail.new-recipient-domains.title")
                    .arg("account", name)
                    .arg("count", total),
            )
            .confidence(Confidence::Medium)
            .seen(hour_time(h.0))
            .data("new_domains", total);
            if let Some(src) = self.cite(h.1.first_loc) {
                f = f.evidence(src);
            }
            findings.push(f);
        }
        if let Some(h) = storm_hours.first() {
            signals.push("bounce-storm".to_owned());
            let failed: u64 = storm_hours.iter().map(|h| h.1.failed).sum();
            let mut f = base(
                "mail.bounce-storm",
                Severity::Medium,
                Message::new("mail.bounce-storm.title")
                    .arg("account", name)
                    .arg("count", failed),
            )
            .confidence(Confidence::Medium)
            .seen(hour_time(h.0))
            .data("failed_recipients", failed);
            if let Some(src) = self.cite(h.1.first_bounce_loc.or(h.1.first_loc)) {
                f = f.evidence(src);
            }
            findings.push(f);
        }
        if let Some((env, shown, loc)) = &s.mismatch_example {
            signals.push("sender-mismatch".to_owned());
            let mut f = base(
                "mail.sender-mismatch",
                Severity::Low,
                Message::new("mail.sender-mismatch.title")
                    .arg("account", name)
                    .arg("count", s.mismatches),
            )
            .summary(
                Message::new("mail.sender-mismatch.summary")
                    .arg("identity", env)
                    .arg("shown", shown),
            )
            .confidence(Confidence::Low)
            .data("mismatches", s.mismatches);
            if let Some(src) = self.cite(Some(*loc)) {
                f = f.evidence(src);
            }
            findings.push(f);
        }
        let has = |s: &str| signals.iter().any(|x| x == s);
        let abused = has("burst")
            || has("bounce-storm")
            || (has("new-client") && (has("new-domains") || has("sender-mismatch")));
        if abused {
            let mut f = Finding::new(
                ANALYZER_ID,
                "mail.account-abused",
                Severity::Critical,
                Category::MailAbuse,
                Message::new("mail.account-abused.title").arg("account", name),
            )
            .key(name)
            .summary(
                Message::new("mail.account-abused.summary")
                    .arg("signals", signal_terms(&signals))
                    .arg("messages", s.messages)
                    .arg("recipients", s.recipients),
            )
            .confidence(if has("burst") && has("new-client") {
                Confidence::High
            } else {
                Confidence::Medium
            })
            .attack("T1078")
            .attack("T1566")
            .action(Message::new("mail.action.reset-account").arg("account", name))
            .action(Message::new("mail.action.emocheck"))
            .action(Message::new("mail.action.hold-queue"))
            .action(Message::new("mail.action.preserve-logs"))
            .data("account", name.to_owned())
            .data("signals", signals.clone());
            for sig in &findings {
                if let (Some(a), Some(z)) = (sig.first_seen, sig.last_seen) {
                    f = f.seen(a).seen(z);
                }
                for e in sig.evidence.iter().take(2) {
                    if !f.evidence.contains(e) {
                        f = f.evidence(e.clone());
                    }
                }
            }
            findings.insert(0, f);
        }
        let mut daily: Vec<DailyVolume> = Vec::new();
        // Hours come sorted: a new UTC day starts a new entry (named once per day).
        let mut last_day = None;
        for (h, st) in hours {
            let day_no = h.div_euclid(24);
            match daily.last_mut() {
                Some(d) if last_day == Some(day_no) => {
                    d.messages += st.messages;
                    d.recipients += st.recipients;
                    d.failed += st.failed;
                }
                _ => {
                    last_day = Some(day_no);
                    daily.push(DailyVolume {
                        day: day_name(*h),
                        messages: st.messages,
                        recipients: st.recipients,
                        failed: st.failed,
                    });
                }
            }
        }
        let summary = AccountSummary {
            daily,
            account: name.to_owned(),
            messages: s.messages,
            recipients: s.recipients,
            recipient_domains: s.domains.len() as u64,
            client_networks: s.clients.len() as u64,
            peak_hour_recipients: peak,
            median_hour_recipients: med,
            signals,
            abused,
        };
        (summary, findings, events)
    }
}

/// Analyses mail logs in the order given — the CLI's `mail analyze`. Unreadable files are
/// problems in the report.
pub fn analyze_paths(paths: &[PathBuf], options: MailOptions) -> MailReport {
    let mut a = MailAnalysis::new(options);
    for path in paths {
        let display = path.display().to_string();
        if let Err(e) = a.ingest_path(path, SourceRef::file(display.clone())) {
            a.problems.push(Problem::new(
                display,
                ANALYZER_ID,
                ProblemKind::Unreadable,
                e.to_string(),
            ));
        }
    }
    a.finish()
}

impl MailAnalysis {
    /// Records a problem found outside `ingest` (a file that could not be opened).
    pub fn problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }
}

/// The signals as catalogue keys (`mail.signal.burst, …`): the finding's summary renders them
/// as words in the reader's language, its data keeps the short names.
pub fn signal_terms(signals: &[String]) -> String {
    signals
        .iter()
        .map(|s| format!("mail.signal.{s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod reader_tests {
    use super::*;
    use crate::{AbuseSpec, MailSpec, synthesize_maillog};

    #[test]
    fn the_hour_list_holds_what_a_hash_table_would() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut list = HourTable::default();
        let mut table: FxHashMap<i64, HourStat> = FxHashMap::default();
        let mut hour = 1000;
        for i in 0..20_000u64 {
            // Mostly forward in time, sometimes back a little or far.
            hour = match next() % 10 {
                0 => hour - (next() % 50) as i64,
                1 => (next() % 3000) as i64,
                2..=5 => hour,
                _ => hour + (next() % 3) as i64,
            };
            list.entry(hour).messages += i;
            table.entry(hour).or_default().messages += i;
        }
        let mut want: Vec<(i64, u64)> = table.iter().map(|(h, s)| (*h, s.messages)).collect();
        want.sort_unstable();
        let got: Vec<(i64, u64)> = list.list.iter().map(|(h, s)| (*h, s.messages)).collect();
        assert_eq!(got, want);
        // `judge` reads the list as it is: sorted, each hour once.
        assert!(list.list.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn the_cached_day_gives_the_clocks_time() {
        let mut checked = 0;
        for offset in [
            -12 * 3600,
            -1,
            0,
            9 * 3600,
            14 * 3600,
            86_399,
            86_400,
            -90_000,
        ] {
            for year in [1, 2024, 2026, 2027] {
                let mut state = FileState {
                    file_idx: 0,
                    summary: FileSummary {
                        source: SourceRef::file("x"),
                        format: None,
                        lines: 0,
                        events: 0,
                    },
                    clock: YearClock::new(year, offset),
                    saw_header: false,
                    midnight: None,
                };
                for month in 0..=13 {
                    for day in [0, 1, 2, 28, 29, 30, 31, 32] {
                        for (hour, minute, second) in [
                            (0, 0, 0),
                            (8, 59, 59),
                            (9, 0, 0),
                            (23, 59, 59),
                            (24, 0, 0),
                            (1, 60, 0),
                            (1, 0, 60),
                        ] {
                            let b = BsdStamp {
                                month,
                                day,
                                hour,
                                minute,
                                second,
                            };
                            let want = state.clock.resolve(&Stamp::Bsd(b));
                            assert_eq!(state.bsd_time(&b), want, "{year} {offset} {b:?}");
                            checked += usize::from(want.is_some());
                        }
                    }
                }
            }
        }
        assert!(checked > 5_000, "{checked}");
    }

    /// A stream of every layout: a synthetic month, the test files (sendmail, Postfix, an
    /// Exchange log whose header switches the layout mid-stream), invalid UTF-8, CRLF, a BOM
    /// before a header, and a last line without newline.
    fn mixed_input() -> Vec<u8> {
        let spec = MailSpec {
            seed: 3,
            start: DateTime::from_timestamp(1_767_193_200, 0).unwrap_or_default(),
            days: 12,
            users: 8,
            abuse: Some(AbuseSpec {
                account: "user03@example.co.jp".into(),
                day: 9,
                messages: 120,
                bounce_every: 4,
            }),
            backscatter: Some(("info@example.co.jp".into(), 30)),
        };
        let mut out = synthesize_maillog(&spec).into_bytes();
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        for name in [
            "sendmail-abuse.maillog",
            "postfix-backscatter.maillog",
            "postfix-account-abuse.maillog",
        ] {
            out.extend(std::fs::read(data.join(name)).unwrap_or_default());
        }
        out.extend_from_slice(
            b"Jan 14 10:00:00 mx1 postfix/qmgr[9]: 5C0000001: from=<bad\xffname@example.co.jp>, size=1, nrcpt=1\r\n\
              Jan 14 10:00:00 mx1 postfix/submission/smtpd[9]: 5C0000001: client=x[198.51.100.9], sasl_username=B\xfe@example.co.jp\n\
              Jan 14 10:00:01 mx1 postfix/smtp[9]: 5C0000001: to=<\xc3\xa9t\xc3@w.example>, relay=w[203.0.113.1]:25, status=sent\n\
              Jan 14 10:00:01 mx1 post\xfffix/qmgr[9]: 5C0000001: removed\n\n\xef\xbb\xbf",
        );
        out.extend(std::fs::read(data.join("MSGTRK2026011601-1.LOG")).unwrap_or_default());
        out.extend_from_slice(b"2026-01-20T00:00:00.000Z,,,,,,,SMTP,RECEIVE");
        out
    }

    fn report(input: &[u8], block_bytes: usize, threads: usize) -> String {
        let mut a = MailAnalysis::new(MailOptions {
            year: Some(2026),
            reported_message_ids: vec!["<0DG001aB00007@pc0>".into(), "no@such".into()],
            ..MailOptions::default()
        });
        a.block_bytes = block_bytes;
        a.threads = threads;
        a.ingest(input, SourceRef::file("mixed"));
        serde_json::to_string(&a.finish()).unwrap_or_default()
    }

    /// The same through a file, where the parsing threads read it themselves.
    fn report_of_file(path: &std::path::Path, block_bytes: usize, threads: usize) -> String {
        let mut a = MailAnalysis::new(MailOptions {
            year: Some(2026),
            reported_message_ids: vec!["<0DG001aB00007@pc0>".into(), "no@such".into()],
            ..MailOptions::default()
        });
        a.block_bytes = block_bytes;
        a.threads = threads;
        let summary = a.ingest_path(path, SourceRef::file("mixed"));
        assert!(summary.is_ok());
        serde_json::to_string(&a.finish()).unwrap_or_default()
    }

    #[test]
    fn day_names_are_chronos() {
        let mut hours: Vec<i64> = (-30_000..30_000)
            .map(|d: i64| d * 24 + d.rem_euclid(24))
            .collect();
        // Around year 0, 9999/10000 and the ends of chrono's range (and past them).
        for y in [-1_i32, 0, 1, 9999, 10_000, 262_142] {
            if let Some(d) = NaiveDate::from_ymd_opt(y, 1, 1) {
                let h = d
                    .and_time(NaiveTime::MIN)
                    .and_utc()
                    .timestamp()
                    .div_euclid(3600);
                hours.extend((-48..48).map(|k| h + k));
            }
        }
        hours.extend([i64::MIN / 3600, i64::MAX / 3600, 0, -1]);
        for h in hours {
            assert_eq!(
                day_name(h),
                hour_time(h).format("%Y-%m-%d").to_string(),
                "{h}"
            );
        }
    }

    #[test]
    fn the_window_is_two_mib_a_thread_within_two_to_sixteen_blocks() {
        assert_eq!(window(2, BLOCK_BYTES), 16);
        assert_eq!(window(2, 1 << 20), 4);
        assert_eq!(window(3, 4 << 20), 6);
        assert_eq!(window(2, 1), 32);
        assert_eq!(window(1, 0), 16);
    }

    #[test]
    fn blocks_and_threads_do_not_change_the_report() {
        let input = mixed_input();
        let whole = report(&input, 64 << 20, 1);
        let dir = tempfile::tempdir().ok();
        let path = dir.as_ref().map(|d| d.path().join("mixed.log"));
        if let Some(p) = &path {
            assert!(std::fs::write(p, &input).is_ok());
            for (block, threads) in [(64 << 20, 1), (1, 2), (333, 3), (1 << 16, 2)] {
                assert_eq!(
                    report_of_file(p, block, threads),
                    whole,
                    "file {block} {threads}"
                );
            }
            // Compressed: decompressed ahead on another thread.
            use std::io::Write as _;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            assert!(gz.write_all(&input).is_ok());
            let gz_path = p.with_extension("log.gz");
            assert!(std::fs::write(&gz_path, gz.finish().unwrap_or_default()).is_ok());
            assert_eq!(report_of_file(&gz_path, 4096, 2), whole, "gzip");
        }
        assert!(
            whole.contains("\"format\":\"exchange\""),
            "{}",
            &whole[..300]
        );
        assert!(whole.contains("user03@example.co.jp"));
        for (block, threads) in [(1, 2), (100, 3), (4096, 2), (777, 1), (1 << 16, 4)] {
            assert_eq!(report(&input, block, threads), whole, "{block} {threads}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_render_in_the_readers_language() {
        use ir110_model::{Catalog, Lang};
        let c = Catalog::from_sources(&[ir110_model::MESSAGES, crate::MESSAGES]).unwrap();
        let m = Message::new("mail.account-abused.summary")
            .arg(
                "signals",
                signal_terms(&["burst".to_owned(), "new-client".to_owned()]),
            )
            .arg("messages", 3)
            .arg("recipients", 5);
        assert!(
            c.render(&m, Lang::Ja)
                .starts_with("兆候: 大量送信、新しい接続元 IP。このアカウントで 3 通"),
            "{}",
            c.render(&m, Lang::Ja)
        );
        assert!(
            c.render(&m, Lang::En)
                .starts_with("Signals: burst of sending, new client address (IP). 3 messages"),
            "{}",
            c.render(&m, Lang::En)
        );
    }

    #[test]
    fn networks() {
        assert_eq!(
            Network::of("198.51.100.7".parse().unwrap()).to_string(),
            "198.51.100.0/24"
        );
        assert_eq!(
            Network::of("2001:db8:1:2::1".parse().unwrap()).to_string(),
            "2001:db8:1::/48"
        );
        assert_eq!(median(vec![5, 1, 3]), 3);
    }
}
