//! Streaming, parallel reading of event log files: EVTX, JSON lines and JSON documents.
//!
//! One producer (the calling thread) reads the files in order and cuts them into work items: a
//! 64 KiB EVTX chunk, a few thousand JSON lines, or a few thousand JSON values of a document.
//! `threads` workers parse the items and hand each parsed [`Batch`] to the caller's callback,
//! on the worker thread. A bounded channel between them keeps memory flat whatever the input
//! size: at most `2 × threads` items are waiting at any time. Because items are whole chunks,
//! one large file keeps every core busy just as many small files do.
//!
//! Damage is counted, never fatal: a chunk that does not parse, a record whose BinXML is broken,
//! a JSON line that does not parse each add to [`FileStats`] and reading goes on with the next
//! item. Batches of one file may arrive out of order and concurrently; callers that need order
//! sort by time (see [`crate::timeline`]).
//!
//! EVTX format: [MS-EVEN6](https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-even6/),
//! parsed by the `evtx` crate.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use evtx::{EvtxChunkData, EvtxParser, ParserSettings};
use ir110_model::{ProblemKind, SourceFile, SourceKind};
use serde::Serialize;
use serde_json::Value;

use crate::WinEvent;

/// How to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Also carve stale records from unallocated EVTX space (cleared or overwritten chunks).
    /// Off by default, as in Chainsaw and Hayabusa, so that results can be compared.
    pub recover_records: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            threads: std::thread::available_parallelism().map_or(2, usize::from),
            recover_records: false,
        }
    }
}

/// Parsed events of one work item of one file.
#[derive(Debug)]
pub struct Batch {
    /// Index of the file in the slice given to [`read_files`].
    pub file: usize,
    /// The events, in file order within the item.
    pub events: Vec<WinEvent>,
    /// Bytes of input this batch covers (for progress).
    pub bytes: u64,
}

/// How reading one file went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileStats {
    /// Records read as Windows events.
    pub records: u64,
    /// Records (or JSON lines) that could not be parsed.
    pub record_errors: u64,
    /// EVTX chunks that could not be read or parsed at all (their records are lost).
    pub chunk_errors: u64,
    /// Valid JSON values that are not Windows events (another tool's export).
    pub other_json: u64,
    /// Records carved from unallocated EVTX space (counted in `records` too; only with
    /// [`ReadOptions::recover_records`]).
    pub recovered: u64,
    /// The file ends inside a chunk or a JSON value.
    pub truncated: bool,
    /// The file could not be opened or its header is unusable: nothing was read.
    pub unreadable: Option<String>,
    /// The first few error messages, for the responder.
    pub first_errors: Vec<String>,
}

/// How many error messages [`FileStats::first_errors`] keeps.
const KEPT_ERRORS: usize = 5;

impl FileStats {
    fn error(&mut self, message: String) {
        if self.first_errors.len() < KEPT_ERRORS {
            self.first_errors.push(message);
        }
    }

    /// The kind of problem to report for this file, if any: `Unreadable`, `Truncated`,
    /// `Corrupt`, or `None` when it was read cleanly.
    pub fn problem_kind(&self) -> Option<ProblemKind> {
        if self.unreadable.is_some() {
            Some(ProblemKind::Unreadable)
        } else if self.truncated {
            Some(ProblemKind::Truncated)
        } else if self.record_errors > 0 || self.chunk_errors > 0 {
            Some(ProblemKind::Corrupt)
        } else {
            None
        }
    }

    /// A one-line detail for a [`Problem`](ir110_model::Problem): counts and the first error.
    pub fn problem_detail(&self) -> String {
        if let Some(why) = &self.unreadable {
            return why.clone();
        }
        let mut s = format!(
            "{} records read, {} records unreadable, {} chunks unreadable",
            self.records, self.record_errors, self.chunk_errors
        );
        if let Some(first) = self.first_errors.first() {
            s.push_str("; first error: ");
            s.push_str(first);
        }
        s
    }

    /// Whether the file held no Windows event at all but valid JSON of another kind.
    pub fn is_other_json(&self) -> bool {
        self.records == 0 && self.other_json > 0 && self.record_errors == 0
    }

    fn add(&mut self, other: &FileStats) {
        self.records += other.records;
        self.record_errors += other.record_errors;
        self.chunk_errors += other.chunk_errors;
        self.other_json += other.other_json;
        self.recovered += other.recovered;
        self.truncated |= other.truncated;
        for e in &other.first_errors {
            self.error(e.clone());
        }
    }
}

/// One unit of parsing work.
enum Work {
    Chunk {
        file: usize,
        number: u64,
        chunk: Box<EvtxChunkData>,
    },
    Lines {
        file: usize,
        first_line: u64,
        lines: Vec<String>,
        bytes: u64,
    },
    Values {
        file: usize,
        values: Vec<Value>,
        bytes: u64,
    },
}

/// Size of the EVTX file header and of a chunk ([MS-EVEN6] 2.2).
const EVTX_HEADER_BYTES: u64 = 4096;
const EVTX_CHUNK_BYTES: u64 = 65_536;

/// JSON lines per work item.
const LINES_PER_ITEM: usize = 2_000;

/// Reads every file, calling `on_batch` (from worker threads, concurrently) for each parsed
/// batch. Returns one [`FileStats`] per file, in the order of `files`.
///
/// Files of kinds other than EVTX, JSON lines and JSON are skipped (their stats say
/// `unreadable`). Never panics on bad input.
pub fn read_files(
    files: &[SourceFile],
    options: &ReadOptions,
    on_batch: &(dyn Fn(Batch) + Sync),
) -> Vec<FileStats> {
    let stats: Mutex<Vec<FileStats>> = Mutex::new(vec![FileStats::default(); files.len()]);
    let threads = options.threads.max(1);
    let settings = Arc::new(
        ParserSettings::new()
            .indent(false)
            .separate_json_attributes(false)
            .recover_records(options.recover_records),
    );
    let (tx, rx) = crossbeam_channel::bounded::<Work>(threads * 2);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let rx = rx.clone();
            let settings = Arc::clone(&settings);
            let stats = &stats;
            scope.spawn(move || {
                for work in rx {
                    let (batch, local) = parse_work(work, &settings);
                    if let Ok(mut all) = stats.lock()
                        && let Some(s) = all.get_mut(batch.file)
                    {
                        s.add(&local);
                    }
                    if !batch.events.is_empty() || batch.bytes > 0 {
                        on_batch(batch);
                    }
                }
            });
        }
        drop(rx);
        for (index, file) in files.iter().enumerate() {
            let local = produce(index, file, &tx);
            if let Ok(mut all) = stats.lock()
                && let Some(s) = all.get_mut(index)
            {
                s.add(&local);
                s.unreadable = local.unreadable;
            }
        }
        drop(tx);
    });
    stats.into_inner().unwrap_or_default()
}

/// Reads one file into work items (on the calling thread); returns what it counted itself.
fn produce(index: usize, file: &SourceFile, tx: &crossbeam_channel::Sender<Work>) -> FileStats {
    let mut stats = FileStats::default();
    let result = match file.kind {
        SourceKind::Evtx => produce_evtx(index, &file.path, tx, &mut stats),
        SourceKind::JsonLines => produce_lines(index, &file.path, tx, &mut stats),
        SourceKind::Json => produce_json(index, &file.path, tx, &mut stats),
        SourceKind::Empty => Ok(()),
        other => Err(format!("not an event log ({})", other.name())),
    };
    if let Err(why) = result {
        stats.unreadable = Some(why);
    }
    stats
}

fn produce_evtx(
    index: usize,
    path: &Path,
    tx: &crossbeam_channel::Sender<Work>,
    stats: &mut FileStats,
) -> Result<(), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let mut parser = EvtxParser::from_read_seek(BufReader::new(file)).map_err(|e| e.to_string())?;
    // The parser stops quietly at a cut chunk at the end of the file; say so.
    let whole_chunks = size.saturating_sub(EVTX_HEADER_BYTES) / EVTX_CHUNK_BYTES;
    let tail = size.saturating_sub(EVTX_HEADER_BYTES) % EVTX_CHUNK_BYTES;
    let named = u64::from(parser.header().chunk_count);
    if tail != 0 {
        stats.truncated = true;
        stats.error(format!(
            "file ends {tail} bytes into chunk {whole_chunks} (a chunk is {EVTX_CHUNK_BYTES} bytes)"
        ));
    } else if named > whole_chunks {
        stats.truncated = true;
        stats.error(format!(
            "the header names {named} chunks, the file holds {whole_chunks}"
        ));
    }
    for (number, chunk) in (0u64..).zip(parser.chunks()) {
        match chunk {
            Ok(chunk) => {
                let work = Work::Chunk {
                    file: index,
                    number: chunk.number.unwrap_or(number),
                    chunk: Box::new(chunk),
                };
                if tx.send(work).is_err() {
                    break;
                }
            }
            Err(e) => {
                stats.chunk_errors += 1;
                let text = e.to_string();
                if let evtx::err::EvtxError::FailedToParseChunk { source, .. } = &e
                    && matches!(**source, evtx::err::ChunkError::IncompleteChunk)
                {
                    stats.truncated = true;
                }
                stats.error(text);
            }
        }
    }
    Ok(())
}

fn produce_lines(
    index: usize,
    path: &Path,
    tx: &crossbeam_channel::Sender<Work>,
    stats: &mut FileStats,
) -> Result<(), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut lines = Vec::with_capacity(LINES_PER_ITEM);
    let mut first_line = 1u64;
    let mut line_no = 0u64;
    let mut bytes = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = match reader.read_until(b'\n', &mut buf) {
            Ok(n) => n,
            Err(e) => {
                stats.record_errors += 1;
                stats.error(format!("line {}: {e}", line_no + 1));
                break;
            }
        };
        if n == 0 {
            break;
        }
        line_no += 1;
        bytes += n as u64;
        if buf.last() != Some(&b'\n') {
            // A last line without newline may be cut; the JSON parse decides.
            stats.truncated |= serde_json::from_slice::<serde::de::IgnoredAny>(&buf).is_err()
                && !buf.iter().all(u8::is_ascii_whitespace);
        }
        lines.push(String::from_utf8_lossy(&buf).into_owned());
        if lines.len() == LINES_PER_ITEM {
            let work = Work::Lines {
                file: index,
                first_line,
                lines: std::mem::replace(&mut lines, Vec::with_capacity(LINES_PER_ITEM)),
                bytes: std::mem::take(&mut bytes),
            };
            first_line = line_no + 1;
            if tx.send(work).is_err() {
                return Ok(());
            }
        }
    }
    if !lines.is_empty() {
        let _ = tx.send(Work::Lines {
            file: index,
            first_line,
            lines,
            bytes,
        });
    }
    Ok(())
}

/// A JSON document: an array of events, or one or more (pretty-printed) objects one after the
/// other. Parsed in a stream, value by value, on the producer thread.
fn produce_json(
    index: usize,
    path: &Path,
    tx: &crossbeam_channel::Sender<Work>,
    stats: &mut FileStats,
) -> Result<(), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    // Skip a byte-order mark and whitespace to see whether this is an array.
    let first = loop {
        let buf = reader.fill_buf().map_err(|e| e.to_string())?;
        let Some(pos) = buf
            .iter()
            .position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xef | 0xbb | 0xbf))
        else {
            if buf.is_empty() {
                return Ok(());
            }
            let n = buf.len();
            reader.consume(n);
            continue;
        };
        let b = buf[pos];
        reader.consume(pos);
        break b;
    };
    let mut sender = ValueBatcher {
        file: index,
        values: Vec::new(),
        tx,
        bytes: 0,
        stopped: false,
    };
    if first == b'[' {
        use serde::de::Deserializer as _;
        let mut de = serde_json::Deserializer::from_reader(reader);
        if let Err(e) = (&mut de).deserialize_seq(ArrayVisitor(&mut sender)) {
            stats.truncated |= e.is_eof();
            stats.record_errors += 1;
            stats.error(e.to_string());
        }
    } else {
        let stream = serde_json::Deserializer::from_reader(reader).into_iter::<Value>();
        for value in stream {
            match value {
                Ok(v) => sender.push(v),
                Err(e) => {
                    stats.truncated |= e.is_eof();
                    stats.record_errors += 1;
                    stats.error(e.to_string());
                    // The stream cannot resynchronise after a syntax error.
                    break;
                }
            }
            if sender.stopped {
                break;
            }
        }
    }
    sender.flush();
    Ok(())
}

/// Collects values of a JSON document into work items.
struct ValueBatcher<'a> {
    file: usize,
    values: Vec<Value>,
    tx: &'a crossbeam_channel::Sender<Work>,
    bytes: u64,
    stopped: bool,
}

impl ValueBatcher<'_> {
    fn push(&mut self, v: Value) {
        self.values.push(v);
        if self.values.len() == LINES_PER_ITEM {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.values.is_empty() || self.stopped {
            return;
        }
        let work = Work::Values {
            file: self.file,
            values: std::mem::take(&mut self.values),
            bytes: std::mem::take(&mut self.bytes),
        };
        self.stopped = self.tx.send(work).is_err();
    }
}

/// Streams the elements of a top-level JSON array into a [`ValueBatcher`].
struct ArrayVisitor<'a, 'b>(&'a mut ValueBatcher<'b>);

impl<'de> serde::de::Visitor<'de> for ArrayVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of events")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            self.0.push(v);
        }
        Ok(())
    }
}

/// Parses one work item on a worker thread.
fn parse_work(work: Work, settings: &Arc<ParserSettings>) -> (Batch, FileStats) {
    let mut stats = FileStats::default();
    match work {
        Work::Chunk {
            file,
            number,
            mut chunk,
        } => {
            let mut events = Vec::new();
            match chunk.parse(Arc::clone(settings)) {
                Ok(mut parsed) => {
                    for record in parsed.iter() {
                        let record = match record {
                            Ok(r) => r,
                            Err(e) => {
                                stats.record_errors += 1;
                                stats.error(e.to_string());
                                continue;
                            }
                        };
                        let time = jiff_to_chrono(record.timestamp);
                        let recovered = record.recovered;
                        let id = record.event_record_id;
                        let parsed = record
                            .into_json_bytes()
                            .map_err(|e| e.to_string())
                            .and_then(|r| {
                                crate::evtx_json::from_evtx_json(&r.data, time)
                                    .map_err(|e| format!("record {id}: {e}"))
                            });
                        match parsed {
                            Ok(Some(mut e)) => {
                                e.recovered = recovered;
                                stats.records += 1;
                                stats.recovered += u64::from(recovered);
                                events.push(e);
                            }
                            // Carved hits that do not render are stale bytes, not damage (the
                            // `evtx` crate's own iterators drop them too).
                            Ok(None) | Err(_) if recovered => {}
                            Ok(None) => {
                                stats.record_errors += 1;
                                stats.error(format!("record {id}: no System/EventID"));
                            }
                            Err(e) => {
                                stats.record_errors += 1;
                                stats.error(e);
                            }
                        }
                    }
                }
                Err(e) => {
                    stats.chunk_errors += 1;
                    stats.error(format!("chunk {number}: {e}"));
                }
            }
            (
                Batch {
                    file,
                    events,
                    bytes: 65_536,
                },
                stats,
            )
        }
        Work::Lines {
            file,
            first_line,
            lines,
            bytes,
        } => {
            let mut events = Vec::with_capacity(lines.len());
            for (line_no, line) in (first_line..).zip(&lines) {
                let text = line.trim();
                if text.is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(text) {
                    Ok(v) => match WinEvent::from_json(&v, None) {
                        Some(mut e) => {
                            e.line = Some(line_no);
                            stats.records += 1;
                            events.push(e);
                        }
                        None => stats.other_json += 1,
                    },
                    Err(e) => {
                        stats.record_errors += 1;
                        stats.error(format!("line {line_no}: {e}"));
                    }
                }
            }
            (
                Batch {
                    file,
                    events,
                    bytes,
                },
                stats,
            )
        }
        Work::Values {
            file,
            values,
            bytes,
        } => {
            let mut events = Vec::with_capacity(values.len());
            for v in &values {
                match WinEvent::from_json(v, None) {
                    Some(e) => {
                        stats.records += 1;
                        events.push(e);
                    }
                    None => stats.other_json += 1,
                }
            }
            (
                Batch {
                    file,
                    events,
                    bytes,
                },
                stats,
            )
        }
    }
}

/// The record header's time, as chrono.
fn jiff_to_chrono(t: evtx::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp(t.as_second(), u32::try_from(t.subsec_nanosecond()).ok()?)
}

/// Builds a [`SourceFile`] for a path by reading its first 64 KiB (as triage does), for callers
/// that start from paths rather than from triage's discovery (`hunt`).
pub fn source_file(path: &Path) -> std::io::Result<SourceFile> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let mut head = Vec::with_capacity(65_536);
    file.by_ref().take(65_536).read_to_end(&mut head)?;
    Ok(SourceFile {
        path: path.to_path_buf(),
        display_path: path.display().to_string(),
        size: meta.len(),
        kind: SourceKind::sniff(&head),
        modified: meta.modified().ok().map(DateTime::<Utc>::from),
        sha256: None,
    })
}

/// Every regular file under `paths` (files as given, directories walked in name order), not
/// following symbolic links to directories (no loops). Unreadable directories are returned as
/// errors beside the files.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, std::io::Error)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut stack: Vec<PathBuf> = paths.iter().rev().cloned().collect();
    while let Some(p) = stack.pop() {
        let meta = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) => {
                errors.push((p, e));
                continue;
            }
        };
        if meta.is_dir() {
            match std::fs::read_dir(&p) {
                Ok(entries) => {
                    let mut children: Vec<PathBuf> =
                        entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                    children.sort();
                    stack.extend(children.into_iter().rev());
                }
                Err(e) => errors.push((p, e)),
            }
        } else if meta.is_file() || (meta.file_type().is_symlink() && p.is_file()) {
            files.push(p);
        }
    }
    (files, errors)
}
