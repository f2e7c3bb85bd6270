//! The streaming analysis: feed logs in, get ranked pairs, transfers and findings out.
//!
//! Memory bound: one [`PairState`] per distinct (internal source, external destination, port)
//! — about 300 bytes plus 6 bytes per distinct interval/size bin and one bit per day of the
//! pair's life — plus 40 bytes per (internal host, day) with outbound bytes. Neither grows
//! with the number of connections. When the pair table exceeds
//! [`NetOptions::max_pairs`] the pairs with the fewest connections (which cannot be beacons)
//! are dropped and the report says how many; with the default of 2,000,000 pairs the table
//! stays under about 1 GiB. Reading adds two batches of blocks (one read while the one
//! before it is parsed: 2 × 2 × threads × 4 MiB of text) and the 48-byte records of two
//! batches, ≈ 40 MB on two threads, whatever the file size.

use std::io::{BufRead, BufReader, Read};

use rayon::prelude::*;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ir110_model::{
    Category, Confidence, Finding, Message, Problem, ProblemKind, Severity, SourceRef,
};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::beacon_score::{BeaconScores, ScoreConfig, apply_prevalence, score};
use crate::formats::mapped_csv::CsvMapping;
use crate::formats::{LineParser, LogFormat};
use crate::geoip::GeoIp;
use crate::ingest_blocks::{
    BLOCK_BYTES, BatchReader, BlockOut, Bucket, DayOut, DestKey, HostDay, PairKey, Shard,
    apply_batch, fix_states, guess_states, next_block, parse_block,
};
use crate::pair_state::{Loc, PairState};
use crate::{ANALYZER_ID, NetError};

/// Options of a network analysis.
#[derive(Debug, Clone)]
pub struct NetOptions {
    /// Column mapping for generic CSV exports (guessed from the header when `None`).
    pub mapping: Option<CsvMapping>,
    /// Offset east of UTC, in seconds, of timestamps logged without a zone (FortiGate
    /// `date`/`time`, PAN-OS). Defaults to JST (+09:00), the clients' usual device setting.
    pub local_utc_offset_secs: i32,
    /// Beacon scoring parameters.
    pub score: ScoreConfig,
    /// Pairs scoring at least this become `c2` findings.
    pub finding_threshold: f64,
    /// At most this many beacon findings (the ranked list in the report is longer).
    pub max_findings: usize,
    /// Length of the ranked pair list in the report.
    pub top: usize,
    /// The customer's own country (ISO code): destinations elsewhere are flagged as foreign.
    pub home_country: String,
    /// Pair-table size that triggers dropping the least-connected pairs.
    pub max_pairs: usize,
    /// A pair that uploaded at least this much (and more than it downloaded) is an
    /// exfiltration finding.
    pub exfil_pair_bytes: u64,
    /// A host-day with at least this much outbound…
    pub exfil_day_bytes: u64,
    /// …and at least this many times the host's median day is an exfiltration finding.
    pub exfil_day_factor: f64,
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            mapping: None,
            local_utc_offset_secs: 9 * 3600,
            score: ScoreConfig::default(),
            finding_threshold: 0.75,
            max_findings: 20,
            top: 100,
            home_country: "JP".to_owned(),
            max_pairs: 2_000_000,
            exfil_pair_bytes: 1 << 30,
            exfil_day_bytes: 200 << 20,
            exfil_day_factor: 10.0,
        }
    }
}

/// What one input file gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileSummary {
    /// The file, as cited.
    pub source: SourceRef,
    /// Recognised layout (`None`: not a flow log this analyzer reads).
    pub format: Option<LogFormat>,
    /// Lines read.
    pub lines: u64,
    /// Connection records used.
    pub records: u64,
    /// Lines that should have been records but could not be read.
    pub bad_lines: u64,
    /// Bytes read (decompressed).
    pub bytes: u64,
}

/// One scored pair in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedPair {
    /// 1-based rank.
    pub rank: usize,
    /// Internal source address.
    pub src: IpAddr,
    /// Destination address or host name.
    pub dst: String,
    /// Destination port.
    pub dst_port: u16,
    /// The scores.
    pub scores: BeaconScores,
    /// Connections seen.
    pub connections: u64,
    /// Bytes sent by the source in total.
    pub bytes_out: u64,
    /// Bytes received in total.
    pub bytes_in: u64,
    /// First connection.
    pub first_seen: DateTime<Utc>,
    /// Last connection.
    pub last_seen: DateTime<Utc>,
    /// Destination country (device-logged, or from the GeoIP database).
    pub country: Option<String>,
    /// Lines of the first and last connection.
    pub evidence: Vec<SourceRef>,
}

/// A large or unusual outbound transfer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transfer {
    /// Internal source.
    pub src: IpAddr,
    /// The destination, for a per-pair total; `None` for a host-day total.
    pub dst: Option<String>,
    /// The UTC day (`YYYY-MM-DD`) for a host-day total.
    pub day: Option<String>,
    /// Bytes sent.
    pub bytes_out: u64,
    /// The host's median outbound bytes per active day (host-day totals).
    pub median_day_bytes: Option<u64>,
    /// Where to look.
    pub evidence: Vec<SourceRef>,
}

/// The result of a network analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetReport {
    /// Per input file.
    pub files: Vec<FileSummary>,
    /// Pairs ranked by beacon score, best first (at most [`NetOptions::top`]).
    pub beacons: Vec<RankedPair>,
    /// Large or unusual outbound transfers.
    pub transfers: Vec<Transfer>,
    /// Findings (`c2`, `exfiltration`).
    pub findings: Vec<Finding>,
    /// Files or parts that could not be read.
    pub problems: Vec<Problem>,
    /// Distinct internal→external pairs seen.
    pub pairs_seen: u64,
    /// Pairs dropped to bound memory (all with few connections).
    pub pairs_pruned: u64,
    /// The GeoIP database used, `type (build date)`.
    pub geoip: Option<String>,
    /// First and last connection in the data.
    pub first_seen: Option<DateTime<Utc>>,
    /// Last connection in the data.
    pub last_seen: Option<DateTime<Utc>>,
}

/// A streaming network analysis. Feed files with [`ingest`](Self::ingest), then
/// [`finish`](Self::finish).
#[derive(Debug)]
pub struct NetAnalysis {
    options: NetOptions,
    geoip: Option<GeoIp>,
    files: Vec<FileSummary>,
    /// Pair and host-day tables while reading, one per source-address shard.
    shards: Vec<Shard>,
    /// The shards merged, for scoring (filled by `finish`): where each pair's state is in
    /// `states` (shard, position). The states stay where the shards built them (moving
    /// tens of thousands of ≈ 430-byte states into a map, and again at every growth, was
    /// a serial tail); the map is built with the same keys in the same order as a map of
    /// the states would be, so it iterates in the same order.
    pairs: FxHashMap<PairKey, (u32, u32)>,
    states: Vec<Vec<(PairKey, PairState)>>,
    host_list: Vec<Box<str>>,
    host_days: FxHashMap<HostDay, DayOut>,
    span: Option<(f64, f64)>,
    problems: Vec<Problem>,
    pruned: u64,
    /// Block size of the reader (a test varies it to prove results do not depend on it).
    block_bytes: usize,
}

fn fmt_ts(ts: f64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts.floor() as i64, ((ts.fract()) * 1e9) as u32).unwrap_or_default()
}

/// `6h02m`, `5m00s`, `1d00h`: an interval for titles.
pub(crate) fn human_interval(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 86_400 {
        format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    } else if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

impl NetAnalysis {
    /// A new, empty analysis.
    pub fn new(options: NetOptions) -> Self {
        NetAnalysis {
            options,
            geoip: None,
            files: Vec::new(),
            // One shard per worker thread: each applies its sources' records in file order.
            shards: (0..rayon::current_num_threads().clamp(1, 16))
                .map(|_| Shard::default())
                .collect(),
            pairs: FxHashMap::default(),
            states: Vec::new(),
            host_list: Vec::new(),
            host_days: FxHashMap::default(),
            span: None,
            problems: Vec::new(),
            pruned: 0,
            block_bytes: BLOCK_BYTES,
        }
    }

    /// Uses `geoip` for destination countries.
    pub fn with_geoip(mut self, geoip: GeoIp) -> Self {
        self.geoip = Some(geoip);
        self
    }

    /// Reads one file (plain or gzip, recognised by its magic bytes), read-only.
    pub fn ingest_path(
        &mut self,
        path: &Path,
        source: SourceRef,
        progress: &dyn Fn(u64),
    ) -> Result<FileSummary, NetError> {
        let file = std::fs::File::open(path).map_err(|e| NetError::Io {
            path: path.to_owned(),
            source: e,
        })?;
        let mut reader = BufReader::with_capacity(1 << 18, file);
        let gz = reader
            .fill_buf()
            .map_err(|e| NetError::Io {
                path: path.to_owned(),
                source: e,
            })?
            .starts_with(&[0x1f, 0x8b]);
        if gz {
            // Decompressed on another thread, ahead of the parser (see `ReadAhead`).
            let decoder = flate2::bufread::MultiGzDecoder::new(reader);
            Ok(std::thread::scope(
                |scope| match ir110_model::line_blocks::ReadAhead::spawn(scope, decoder) {
                    Ok(ahead) => self.ingest(ahead, source, progress),
                    Err(decoder) => self.ingest(decoder, source, progress),
                },
            ))
        } else {
            Ok(self.ingest(reader, source, progress))
        }
    }

    /// Reads one log stream. Unreadable lines and read errors become [`Problem`]s in the
    /// report; the summary says what was read.
    ///
    /// The stream is read in blocks of whole lines, parsed in parallel and applied per
    /// source-address shard (see `ingest_blocks`); the result is the same as reading it line
    /// by line on one thread.
    pub fn ingest<R: Read>(
        &mut self,
        mut reader: R,
        source: SourceRef,
        progress: &dyn Fn(u64),
    ) -> FileSummary {
        let file_idx = self.files.len() as u32;
        let mut summary = FileSummary {
            source: source.clone(),
            format: None,
            lines: 0,
            records: 0,
            bad_lines: 0,
            bytes: 0,
        };
        let mut carry = Vec::new();
        let (first, io_error) = next_block(&mut reader, &mut carry, self.block_bytes, None);
        let first = first.unwrap_or_default();

        // Head: enough lines to recognise the layout.
        let mut head_text: Vec<String> = Vec::new();
        for raw in first.split_inclusive(|&c| c == b'\n') {
            let blank = raw.iter().all(u8::is_ascii_whitespace);
            head_text.push(String::from_utf8_lossy(raw).trim_end().to_owned());
            if !blank && head_text.len() >= 12 {
                break;
            }
        }
        let head_refs: Vec<&str> = head_text.iter().map(String::as_str).collect();
        let Some(parser) = LineParser::detect(&head_refs, self.options.mapping.as_ref()) else {
            self.problems.push(Problem::new(
                source.path.clone(),
                ANALYZER_ID,
                ProblemKind::Unsupported,
                "not a flow log layout this analyzer reads (Zeek conn, FortiGate, PAN-OS, Squid, CSV with a known header)",
            ));
            self.files.push(summary.clone());
            return summary;
        };
        summary.format = Some(parser.format());

        let shards = self.shards.len();
        let batch_blocks = 2 * shards;
        let offset = self.options.local_utc_offset_secs;
        let max_pairs = self.options.max_pairs;
        let mut first_bad = None;
        let mut input = BatchReader {
            reader,
            carry,
            pending: (!first.is_empty()).then_some(first),
            io_error,
            block_bytes: self.block_bytes,
            spares: Vec::new(),
        };
        let format = parser.format();
        let mut spare_recs: Vec<Vec<Bucket>> = Vec::new();
        // A pipeline of three batches: while the workers parse batch N and apply batch
        // N − 1 (each shard still takes its records in file order), this thread reads
        // batch N + 1, so reading (and waiting for the disk) overlaps the work. The parser
        // state at each block's start is guessed and corrected after parsing (see
        // `guess_states`), so reading does not scan the blocks for headers.
        let mut batch = input.next_batch(batch_blocks);
        let mut state = parser;
        let mut first_batch = true;
        let mut parsed: Option<(Vec<BlockOut>, Vec<u64>)> = None;
        while !batch.is_empty() || parsed.is_some() {
            let spare: Vec<Vec<Bucket>> = batch
                .iter()
                .map(|_| spare_recs.pop().unwrap_or_default())
                .collect();
            let starts = guess_states(&batch, &state, first_batch);
            first_batch = false;
            let mut outs: Vec<BlockOut> = Vec::new();
            let mut next = Vec::new();
            let shard_tables = &mut self.shards;
            let (batch_ref, parsed_ref, outs_ref) = (&batch, &parsed, &mut outs);
            rayon::in_place_scope(|scope| {
                scope.spawn(move |_| {
                    rayon::join(
                        || {
                            *outs_ref = batch_ref
                                .par_iter()
                                .zip(starts)
                                .zip(spare)
                                .map(|((block, p), spare)| {
                                    parse_block(block, p, offset, shards, spare)
                                })
                                .collect();
                        },
                        || {
                            if let Some((outs, bases)) = parsed_ref {
                                apply_batch(shard_tables, outs, bases, file_idx, max_pairs);
                            }
                        },
                    );
                });
                if !batch.is_empty() {
                    next = input.next_batch(batch_blocks);
                }
            });
            state = fix_states(&batch, &mut outs, state, offset, shards);
            if let Some((applied, _)) = parsed.take() {
                progress(applied.iter().map(|o| o.bytes).sum());
                spare_recs.extend(applied.into_iter().map(|o| o.recs));
            }
            let mut bases = Vec::with_capacity(outs.len());
            for out in &outs {
                bases.push(summary.lines);
                if first_bad.is_none() {
                    first_bad = out.first_bad.map(|l| summary.lines + l);
                }
                summary.lines += out.lines;
                summary.records += out.records;
                summary.bad_lines += out.bad_lines;
                summary.bytes += out.bytes;
            }
            input.spares.extend(batch);
            parsed = (!outs.is_empty()).then_some((outs, bases));
            batch = next;
        }
        let io_error = input.io_error;
        if let Some(e) = io_error {
            self.problems.push(Problem::new(
                source.path.clone(),
                ANALYZER_ID,
                ProblemKind::Truncated,
                format!("read stopped after line {}: {e}", summary.lines),
            ));
        }
        if let Some(first) = first_bad {
            self.problems.push(Problem::new(
                source.path.clone(),
                ANALYZER_ID,
                ProblemKind::Corrupt,
                format!(
                    "{} of {} lines could not be read as {} records (first: line {first})",
                    summary.bad_lines,
                    summary.lines,
                    format.as_str()
                ),
            ));
        }
        self.files.push(summary.clone());
        summary
    }

    /// Merges the shards into one table with global host-name ids.
    fn merge_shards(&mut self) {
        self.shards
            .par_iter_mut()
            .for_each(|s| s.pairs.iter_mut().for_each(|(_, p)| p.flush()));
        let mut names: FxHashMap<Box<str>, u32> = FxHashMap::default();
        // Host-day totals are read in sorted order (`transfers`), so the merged map may be
        // sized once instead of grown (and rehashed) while filled.
        self.host_days
            .reserve(self.shards.iter().map(|s| s.host_days.len()).sum());
        for (at, mut shard) in std::mem::take(&mut self.shards).into_iter().enumerate() {
            let remap: Vec<u32> = shard
                .host_list
                .into_iter()
                .map(|name| {
                    let next = self.host_list.len() as u32;
                    *names.entry(name.clone()).or_insert_with(|| {
                        self.host_list.push(name);
                        next
                    })
                })
                .collect();
            for (i, (key, _)) in shard.pairs.iter_mut().enumerate() {
                if let DestKey::Host(id) = key.dst {
                    key.dst = DestKey::Host(remap.get(id as usize).copied().unwrap_or(id));
                }
                self.pairs.insert(*key, (at as u32, i as u32));
            }
            self.states.push(std::mem::take(&mut shard.pairs));
            self.host_days.extend(shard.host_days);
            if let Some((a, b)) = shard.span {
                self.span = Some(match self.span {
                    None => (a, b),
                    Some((x, y)) => (x.min(a), y.max(b)),
                });
            }
            self.pruned += shard.pruned;
        }
    }

    /// A merged pair's state.
    fn state(&self, (shard, i): (u32, u32)) -> Option<&PairState> {
        let (_, state) = self.states.get(shard as usize)?.get(i as usize)?;
        Some(state)
    }

    /// The merged pairs with their states, in the map's order.
    fn pair_states(&self) -> impl Iterator<Item = (&PairKey, &PairState)> {
        self.pairs
            .iter()
            .filter_map(|(k, &at)| Some((k, self.state(at)?)))
    }

    /// `src|dst|port`, the pair's finding key (and the ranking's tie-break), in one
    /// allocation.
    fn pair_name(&self, k: &PairKey) -> String {
        use std::fmt::Write;
        let mut name = String::with_capacity(48);
        let _ = write!(name, "{}|", k.src);
        match k.dst {
            DestKey::Ip(ip) => {
                let _ = write!(name, "{ip}");
            }
            DestKey::Host(id) => {
                if let Some(h) = self.host_list.get(id as usize) {
                    name.push_str(h);
                }
            }
        }
        let _ = write!(name, "|{}", k.port);
        name
    }

    fn dst_name(&self, dst: DestKey) -> String {
        match dst {
            DestKey::Ip(ip) => ip.to_string(),
            DestKey::Host(id) => self
                .host_list
                .get(id as usize)
                .map_or_else(String::new, |h| h.to_string()),
        }
    }

    fn cite(&self, loc: Loc) -> Option<SourceRef> {
        let file = self.files.get(loc.file as usize)?;
        Some(
            SourceRef::at(file.source.path.clone(), format!("line {}", loc.line))
                .with_sha256(file.source.sha256.clone()),
        )
    }

    /// Scores every pair and draws the findings.
    pub fn finish(mut self) -> NetReport {
        self.merge_shards();
        let span = self.span.unwrap_or((0.0, 0.0));
        let mut sources_per_dst: FxHashMap<DestKey, usize> = FxHashMap::default();
        let mut hosts: Vec<IpAddr> = Vec::new();
        let mut seen: rustc_hash::FxHashSet<(DestKey, IpAddr)> = Default::default();
        for k in self.pairs.keys() {
            if seen.insert((k.dst, k.src)) {
                *sources_per_dst.entry(k.dst).or_default() += 1;
            }
            hosts.push(k.src);
        }
        hosts.sort_unstable();
        hosts.dedup();
        // Scored on all workers, in the table's order (the stable sort below keeps it
        // among pairs of equal score and name), each with its name for that sort.
        let table: Vec<(&PairKey, &PairState)> = self.pair_states().collect();
        let scored: Vec<(PairKey, BeaconScores, String)> = table
            .par_iter()
            .filter_map(|&(k, p)| {
                let mut s = score(p, span, &self.options.score)?;
                let sources = sources_per_dst.get(&k.dst).copied().unwrap_or(1);
                apply_prevalence(&mut s, sources, hosts.len());
                let name = self.pair_name(k);
                Some((*k, s, name))
            })
            .collect();
        // Positions sorted rather than the entries (≈ 150 bytes each, moved at every merge).
        // Stable, so equal entries keep the table's order, as sorting the entries would.
        let mut order: Vec<u32> = (0..scored.len() as u32).collect();
        order.par_sort_by(|&a, &b| {
            let (a, b) = (&scored[a as usize], &scored[b as usize]);
            b.1.score.total_cmp(&a.1.score).then_with(|| a.2.cmp(&b.2))
        });
        let mut beacons = Vec::new();
        let mut findings = Vec::new();
        let ranked_order = order.iter().filter_map(|&i| scored.get(i as usize));
        for (i, (key, scores, name)) in ranked_order.take(self.options.top).enumerate() {
            let Some(pair) = self.pairs.get(key).and_then(|&at| self.state(at)) else {
                continue;
            };
            let country = pair.country.as_deref().map(str::to_owned).or_else(|| {
                match (key.dst, &self.geoip) {
                    (DestKey::Ip(ip), Some(g)) => g.country(ip),
                    _ => None,
                }
            });
            let ranked = RankedPair {
                rank: i + 1,
                src: key.src,
                dst: self.dst_name(key.dst),
                dst_port: key.port,
                scores: scores.clone(),
                connections: pair.conns,
                bytes_out: pair.bytes_out,
                bytes_in: pair.bytes_in,
                first_seen: fmt_ts(pair.first_ts),
                last_seen: fmt_ts(pair.last_ts),
                country,
                evidence: [pair.first_loc, pair.last_loc]
                    .into_iter()
                    .filter_map(|l| self.cite(l))
                    .collect(),
            };
            if scores.score >= self.options.finding_threshold
                && findings.len() < self.options.max_findings
            {
                findings.push(self.beacon_finding(&ranked, name));
            }
            beacons.push(ranked);
        }
        let (transfers, mut exfil) = self.transfers();
        findings.append(&mut exfil);
        let states = std::mem::take(&mut self.states);
        let report = NetReport {
            pairs_seen: self.pairs.len() as u64 + self.pruned,
            pairs_pruned: self.pruned,
            geoip: self.geoip.as_ref().map(|g| g.description().to_owned()),
            first_seen: self.span.map(|s| fmt_ts(s.0)),
            last_seen: self.span.map(|s| fmt_ts(s.1)),
            files: self.files,
            beacons,
            transfers,
            findings,
            problems: self.problems,
        };
        // Freeing tens of thousands of states (their bins and day bitmaps), a shard per
        // worker rather than all on this thread.
        states.into_par_iter().for_each(drop);
        report
    }

    fn is_foreign(&self, country: Option<&str>) -> Option<bool> {
        let c = country?;
        let home = self.options.home_country.as_str();
        // FortiGate logs country names, others ISO codes.
        let is_home = c.eq_ignore_ascii_case(home) || (home == "JP" && c == "Japan");
        Some(!is_home)
    }

    fn beacon_finding(&self, p: &RankedPair, key: &str) -> Finding {
        let s = &p.scores;
        let foreign = self.is_foreign(p.country.as_deref());
        let long_lived = s.active_months >= 3 && s.persistence >= 0.6;
        let severity = match (s.score >= 0.85, long_lived, foreign == Some(true)) {
            (true, true, true) if s.active_months >= 6 => Severity::Critical,
            (true, _, _) | (_, true, _) => Severity::High,
            _ => Severity::Medium,
        };
        let period = human_interval(s.median_interval_secs);
        let mut f = Finding::new(
            ANALYZER_ID,
            "netflow.beacon",
            severity,
            Category::C2,
            Message::new("netflow.beacon.title")
                .arg("src", p.src)
                .arg("dst", &p.dst)
                .arg("port", p.dst_port)
                .arg("period", &period),
        )
        .key(key)
        .summary(
            Message::new("netflow.beacon.summary")
                .arg("connections", p.connections)
                .arg("first", p.first_seen.format("%Y-%m-%d %H:%M UTC"))
                .arg("last", p.last_seen.format("%Y-%m-%d %H:%M UTC"))
                .arg("days", s.active_days)
                .arg("months", s.active_months)
                .arg("on_schedule", format!("{:.0}", s.on_schedule * 100.0))
                .arg("score", format!("{:.3}", s.score))
                .arg("bytes_out", human_bytes(p.bytes_out))
                .arg("country", p.country.as_deref().unwrap_or("?")),
        )
        .confidence(if s.score >= 0.85 {
            Confidence::High
        } else {
            Confidence::Medium
        })
        .host(p.src.to_string())
        .seen(p.first_seen)
        .seen(p.last_seen)
        .attack("T1071")
        .attack("T1029")
        .action(Message::new("netflow.action.isolate-host").arg("src", p.src))
        .action(Message::new("netflow.action.block-destination").arg("dst", &p.dst))
        .action(Message::new("netflow.action.preserve-logs"))
        .data("src", p.src.to_string())
        .data("dst", p.dst.clone())
        .data("dst_port", p.dst_port)
        .data("rank", p.rank)
        .data("score", s.score)
        .data("median_interval_secs", s.median_interval_secs.round())
        .data("connections", p.connections)
        .data("bytes_out", p.bytes_out)
        .data("active_days", s.active_days)
        .data("active_months", s.active_months);
        if let Some(c) = &p.country {
            f = f.data("country", c.clone());
        }
        if let Some(foreign) = foreign {
            f = f.data("foreign", foreign);
        }
        for e in &p.evidence {
            f = f.evidence(e.clone());
        }
        f
    }

    fn transfers(&self) -> (Vec<Transfer>, Vec<Finding>) {
        let mut transfers = Vec::new();
        let mut findings = Vec::new();
        // Per pair: a large upload.
        let mut big: Vec<(&PairKey, &PairState)> = self
            .pair_states()
            .filter(|(_, p)| {
                p.bytes_out >= self.options.exfil_pair_bytes && p.bytes_out > p.bytes_in
            })
            .collect();
        big.sort_by(|a, b| {
            b.1.bytes_out
                .cmp(&a.1.bytes_out)
                .then(a.0.src.cmp(&b.0.src))
        });
        for (key, pair) in big {
            let dst = self.dst_name(key.dst);
            let evidence: Vec<SourceRef> = [pair.first_loc, pair.last_loc]
                .into_iter()
                .filter_map(|l| self.cite(l))
                .collect();
            let country = pair.country.as_deref().map(str::to_owned).or_else(|| {
                match (key.dst, &self.geoip) {
                    (DestKey::Ip(ip), Some(g)) => g.country(ip),
                    _ => None,
                }
            });
            let foreign = self.is_foreign(country.as_deref());
            let mut f = Finding::new(
                ANALYZER_ID,
                "netflow.large-upload",
                if foreign == Some(true) {
                    Severity::Critical
                } else {
                    Severity::High
                },
                Category::Exfiltration,
                Message::new("netflow.large-upload.title")
                    .arg("src", key.src)
                    .arg("dst", &dst)
                    .arg("bytes", human_bytes(pair.bytes_out)),
            )
            .key(&format!("{}|{}|{}", key.src, dst, key.port))
            .summary(
                Message::new("netflow.large-upload.summary")
                    .arg("connections", pair.conns)
                    .arg("bytes_in", human_bytes(pair.bytes_in))
                    .arg("country", country.as_deref().unwrap_or("?")),
            )
            .confidence(Confidence::Medium)
            .host(key.src.to_string())
            .seen(fmt_ts(pair.first_ts))
            .seen(fmt_ts(pair.last_ts))
            .attack("T1041")
            .action(Message::new("netflow.action.assess-leak"))
            .action(Message::new("netflow.action.preserve-logs"))
            .data("src", key.src.to_string())
            .data("dst", dst.clone())
            .data("dst_port", key.port)
            .data("bytes_out", pair.bytes_out)
            .data("bytes_in", pair.bytes_in);
            if let Some(c) = &country {
                f = f.data("country", c.clone());
            }
            for e in &evidence {
                f = f.evidence(e.clone());
            }
            findings.push(f);
            transfers.push(Transfer {
                src: key.src,
                dst: Some(dst),
                day: None,
                bytes_out: pair.bytes_out,
                median_day_bytes: None,
                evidence,
            });
        }

        // Per host and day: an unusual day.
        let mut by_host: FxHashMap<IpAddr, Vec<(i32, DayOut)>> = FxHashMap::default();
        for (&HostDay { src: host, day }, out) in &self.host_days {
            by_host.entry(host).or_default().push((day, *out));
        }
        let mut hosts: Vec<IpAddr> = by_host.keys().copied().collect();
        hosts.sort();
        for host in hosts {
            let Some(days) = by_host.get_mut(&host) else {
                continue;
            };
            days.sort_by_key(|d| d.0);
            let mut totals: Vec<u64> = days.iter().map(|d| d.1.total).collect();
            totals.sort_unstable();
            let median = totals[totals.len() / 2];
            let min = if days.len() < 3 {
                self.options.exfil_day_bytes.saturating_mul(5)
            } else {
                self.options.exfil_day_bytes
            };
            let unusual: Vec<&(i32, DayOut)> = days
                .iter()
                .filter(|(_, o)| {
                    o.total >= min
                        && (days.len() < 3
                            || o.total as f64 >= self.options.exfil_day_factor * median as f64)
                })
                .collect();
            if unusual.is_empty() {
                continue;
            }
            let mut f: Option<Finding> = None;
            let mut max_total = 0;
            let mut day_names = Vec::new();
            for (day, out) in &unusual {
                let date = fmt_ts(f64::from(*day) * 86_400.0);
                let day_name = date.format("%Y-%m-%d").to_string();
                let evidence: Vec<SourceRef> = self.cite(out.largest_loc).into_iter().collect();
                transfers.push(Transfer {
                    src: host,
                    dst: None,
                    day: Some(day_name.clone()),
                    bytes_out: out.total,
                    median_day_bytes: Some(median),
                    evidence: evidence.clone(),
                });
                max_total = max_total.max(out.total);
                day_names.push(day_name);
                let finding = f.take().unwrap_or_else(|| {
                    Finding::new(
                        ANALYZER_ID,
                        "netflow.unusual-outbound-day",
                        Severity::Medium,
                        Category::Exfiltration,
                        Message::new("netflow.unusual-outbound-day.title").arg("src", host),
                    )
                    .key(&host.to_string())
                    .confidence(Confidence::Low)
                    .host(host.to_string())
                    .attack("T1048")
                    .action(Message::new("netflow.action.assess-leak"))
                });
                let mut finding = finding.seen(date);
                for e in evidence {
                    finding = finding.evidence(e);
                }
                f = Some(finding);
            }
            if let Some(finding) = f {
                findings.push(
                    finding
                        .summary(
                            Message::new("netflow.unusual-outbound-day.summary")
                                .arg("days", day_names.join(", "))
                                .arg("max", human_bytes(max_total))
                                .arg("median", human_bytes(median)),
                        )
                        .data("days", day_names.clone())
                        .data("max_day_bytes", max_total)
                        .data("median_day_bytes", median),
                );
            }
        }
        (transfers, findings)
    }
}

/// Analyses log files in the order given (plain or gzip) — the CLI's `net analyze`.
///
/// An unreadable file is a [`Problem`] in the report, not an error; only a GeoIP database that
/// cannot be opened fails the whole call.
pub fn analyze_paths(
    paths: &[PathBuf],
    options: NetOptions,
    geoip: Option<&Path>,
    progress: &dyn Fn(u64),
) -> Result<NetReport, NetError> {
    let mut analysis = NetAnalysis::new(options);
    if let Some(db) = geoip {
        analysis = analysis.with_geoip(GeoIp::open(db)?);
    }
    for path in paths {
        let display = path.display().to_string();
        if let Err(e) = analysis.ingest_path(path, SourceRef::file(display.clone()), progress) {
            analysis.problems.push(Problem::new(
                display,
                ANALYZER_ID,
                ProblemKind::Unreadable,
                e.to_string(),
            ));
        }
    }
    Ok(analysis.finish())
}

impl NetAnalysis {
    /// Records a problem found outside [`ingest`](Self::ingest) (e.g. a file that could not
    /// be opened), so it appears in the report.
    pub fn problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BeaconSpec, TrafficSpec, synthesize_conn_log};

    /// Blocks of 4 KiB (hundreds of block boundaries, pairs spread over many blocks and
    /// shards) give exactly the report of one block holding the whole file.
    #[test]
    fn results_do_not_depend_on_block_boundaries() {
        let spec = TrafficSpec {
            seed: 7,
            start: 1_735_657_200,
            days: 20,
            hosts: 12,
            normal_pairs: 60,
            pollers: 1,
            beacons: vec![BeaconSpec {
                src: "10.1.0.9".parse().unwrap(),
                dst: "203.0.113.9".parse().unwrap(),
                port: 443,
                period_secs: 900.0,
                jitter: 0.3,
                start_day: 0,
                days: 20,
                bytes_out: 900,
            }],
        };
        let log = synthesize_conn_log(&spec);
        assert!(log.len() > 200 << 10, "{}", log.len());
        let run = |block: usize| {
            let mut a = NetAnalysis::new(NetOptions::default());
            a.block_bytes = block;
            a.ingest(log.as_bytes(), SourceRef::file("conn.log"), &|_| {});
            a.finish()
        };
        let whole = run(64 << 20);
        assert_eq!(whole.beacons[0].dst, "203.0.113.9");
        assert_eq!(run(4 << 10), whole);
        assert_eq!(run(100_003), whole);
        // With a pair bound small enough to prune, batches mix grouped and one-by-one
        // application (see `Shard::apply`); the report still does not depend on blocks.
        let run_bounded = |block: usize| {
            let mut a = NetAnalysis::new(NetOptions {
                max_pairs: 40,
                ..NetOptions::default()
            });
            a.block_bytes = block;
            a.ingest(log.as_bytes(), SourceRef::file("conn.log"), &|_| {});
            a.finish()
        };
        // Logs concatenated with different column orders: the `#fields` lines fall inside
        // batches and blocks, so guessed block states are corrected and blocks re-parsed.
        let moved = |l: &str| -> String {
            let mut f: Vec<&str> = l.split('\t').collect();
            if f.len() > 10 {
                let uid = f.remove(1);
                f.insert(10, uid);
            }
            f.join("\t")
        };
        let reordered: String = log
            .lines()
            .map(|l| {
                if l.starts_with("#fields") {
                    format!("#fields\t{}\n", moved(&l[8..]))
                } else if l.starts_with('#') {
                    format!("{l}\n")
                } else {
                    moved(l) + "\n"
                }
            })
            .collect();
        let head: String = log.lines().take(4000).map(|l| format!("{l}\n")).collect();
        let concatenated = format!("{head}{reordered}{log}");
        let run_text = |text: &str, block: usize| {
            let mut a = NetAnalysis::new(NetOptions::default());
            a.block_bytes = block;
            a.ingest(text.as_bytes(), SourceRef::file("conn.log"), &|_| {});
            a.finish()
        };
        let whole_cat = run_text(&concatenated, 64 << 20);
        assert_eq!(whole_cat.files[0].bad_lines, 0);
        assert_eq!(whole_cat.beacons[0].dst, "203.0.113.9");
        for block in [4 << 10, 9_999, 100_003, 1 << 20] {
            assert_eq!(run_text(&concatenated, block), whole_cat, "{block}");
        }
        let bounded = run_bounded(64 << 20);
        assert!(bounded.pairs_pruned > 0);
        assert_eq!(run_bounded(4 << 10), bounded);
        assert_eq!(run_bounded(100_003), bounded);
    }
}
