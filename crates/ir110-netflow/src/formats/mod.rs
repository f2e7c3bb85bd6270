//! The log layouts the network analyzer reads, recognised from a file's first lines.

mod fortigate;
pub(crate) mod mapped_csv;
mod panos;
mod squid;
mod zeek;

use serde::Serialize;

use crate::flow::FlowRecord;
use mapped_csv::{CsvColumns, CsvMapping};
pub(crate) use zeek::AddrMemo;
pub(crate) use zeek::FastFlow;
use zeek::ZeekColumns;
#[cfg(all(test, feature = "parse-speed"))]
pub(crate) use zeek::tabs_probe;

/// A recognised flow-log layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LogFormat {
    /// Zeek `conn.log`, tab-separated with `#fields` header.
    ZeekTsv,
    /// Zeek `conn.log`, one JSON object per line.
    ZeekJson,
    /// FortiGate traffic log, `key=value`.
    FortiGate,
    /// PAN-OS traffic log, syslog CSV layout.
    PanOs,
    /// Squid native access log.
    Squid,
    /// CSV with a header, read through a column mapping.
    MappedCsv,
}

impl LogFormat {
    /// Stable short name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::ZeekTsv => "zeek-tsv",
            LogFormat::ZeekJson => "zeek-json",
            LogFormat::FortiGate => "fortigate",
            LogFormat::PanOs => "pan-os",
            LogFormat::Squid => "squid",
            LogFormat::MappedCsv => "csv",
        }
    }
}

/// What one line gave.
#[derive(Debug, PartialEq)]
pub(crate) enum Parsed<'a> {
    /// A connection.
    Record(FlowRecord<'a>),
    /// A header, comment or non-flow record: not an error.
    Skip,
    /// A line that should have been a record and could not be read.
    Bad,
}

/// Splits one CSV line into `out`, honouring double quotes (which are stripped; doubled
/// quotes inside a field are left as they are, which no field read here contains). Returns the
/// number of fields stored; extra fields are dropped.
pub(crate) fn split_csv<'a>(line: &'a str, out: &mut [&'a str]) -> usize {
    let b = line.as_bytes();
    let (mut n, mut start, mut quoted) = (0, 0, false);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                if n < out.len() {
                    out[n] = unquote(&line[start..i]);
                    n += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if n < out.len() {
        out[n] = unquote(line[start..].trim_end_matches(['\r', '\n']));
        n += 1;
    }
    n
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// A parser for one file, with the state its header gave.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LineParser {
    ZeekTsv(Option<ZeekColumns>),
    ZeekJson,
    FortiGate,
    PanOs,
    Squid,
    Csv(CsvColumns, String),
}

impl LineParser {
    /// Recognises the layout from the first non-empty lines of a file.
    pub(crate) fn detect(lines: &[&str], mapping: Option<&CsvMapping>) -> Option<LineParser> {
        let first = lines
            .iter()
            .map(|l| l.trim_start_matches('\u{feff}'))
            .find(|l| !l.trim().is_empty())?;
        if first.starts_with("#separator") || first.starts_with("#fields") {
            return Some(LineParser::ZeekTsv(None));
        }
        if first.starts_with('{') && first.contains("\"id.orig_h\"") {
            return Some(LineParser::ZeekJson);
        }
        if lines.iter().any(|l| {
            (l.contains("type=traffic") || l.contains("type=\"traffic\"")) && l.contains("srcip=")
        }) {
            return Some(LineParser::FortiGate);
        }
        if lines.iter().take(5).any(|l| panos::is_traffic(l)) {
            return Some(LineParser::PanOs);
        }
        if squid::looks_like(first) {
            return Some(LineParser::Squid);
        }
        if first.contains(',') {
            let cols = CsvColumns::resolve(first, mapping)?;
            return Some(LineParser::Csv(cols, first.trim_end().to_owned()));
        }
        None
    }

    /// The layout.
    pub(crate) fn format(&self) -> LogFormat {
        match self {
            LineParser::ZeekTsv(_) => LogFormat::ZeekTsv,
            LineParser::ZeekJson => LogFormat::ZeekJson,
            LineParser::FortiGate => LogFormat::FortiGate,
            LineParser::PanOs => LogFormat::PanOs,
            LineParser::Squid => LogFormat::Squid,
            LineParser::Csv(..) => LogFormat::MappedCsv,
        }
    }

    /// Whether lines of this layout can change the parser's state (Zeek `#fields` headers,
    /// which concatenated logs repeat mid-file).
    pub(crate) fn has_line_state(&self) -> bool {
        matches!(self, LineParser::ZeekTsv(_))
    }

    /// Brings the state up to the end of `block` (whole lines) without parsing its data:
    /// applies the last Zeek `#fields` header in it. Lets blocks be parsed in parallel, each
    /// from the state in force at its start.
    pub(crate) fn advance_over(&mut self, block: &[u8]) {
        if !self.has_line_state() {
            return;
        }
        let mut last = None;
        let mut from = 0;
        while let Some(i) = memchr::memmem::find(&block[from..], b"#fields") {
            let at = from + i;
            if at == 0 || block[at - 1] == b'\n' {
                last = Some(at);
            }
            from = at + 1;
        }
        if let Some(at) = last {
            let end = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |e| at + e);
            let line = String::from_utf8_lossy(&block[at..end]);
            // Same effect as parsing the line.
            let _ = self.parse(line.trim_end_matches(['\n', '\r']), 0);
        }
    }

    /// The fast path for one raw line, `block[start..end]` (without its newline), when the
    /// layout has one and the line is an ordinary data line; `None` means "use
    /// [`parse`](Self::parse)". Bytes of `block` past `end` may be read, never used.
    /// `memo` keeps the source addresses parsed last (one per block, see [`AddrMemo`]).
    pub(crate) fn parse_fast(
        &self,
        block: &[u8],
        start: usize,
        end: usize,
        memo: &mut AddrMemo,
    ) -> Option<FastFlow> {
        match self {
            LineParser::ZeekTsv(Some(cols)) => zeek::parse_tsv_in(block, start, end, cols, memo),
            _ => None,
        }
    }

    /// Parses one line (without its newline). Header lines update the parser's state.
    pub(crate) fn parse<'a>(&mut self, line: &'a str, local_offset_secs: i32) -> Parsed<'a> {
        if line.trim().is_empty() {
            return Parsed::Skip;
        }
        match self {
            LineParser::ZeekTsv(cols) => {
                if line.starts_with("#fields") {
                    *cols = ZeekColumns::from_header(line);
                    return Parsed::Skip;
                }
                if line.starts_with('#') {
                    return Parsed::Skip;
                }
                match cols {
                    Some(c) => zeek::parse_tsv(line, c),
                    None => Parsed::Bad,
                }
            }
            LineParser::ZeekJson => zeek::parse_json(line),
            LineParser::FortiGate => fortigate::parse(line, local_offset_secs),
            LineParser::PanOs => panos::parse(line, local_offset_secs),
            LineParser::Squid => squid::parse(line),
            LineParser::Csv(cols, header) => {
                // The header, first or repeated (concatenated exports), is not data.
                if line.trim_end() == header.as_str() {
                    return Parsed::Skip;
                }
                mapped_csv::parse(line, cols, local_offset_secs)
            }
        }
    }
}
