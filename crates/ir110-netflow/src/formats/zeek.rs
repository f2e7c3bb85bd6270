//! Zeek `conn.log`, TSV (with `#fields` header) and JSON (one object per line).
//!
//! Fields: `ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes
//! resp_bytes conn_state …` (docs.zeek.org, `base/protocols/conn/main.zeek`). `-` is unset.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Deserialize;

use crate::flow::{Destination, FlowRecord};
use crate::formats::Parsed;
use crate::timestamps::{parse_datetime, parse_epoch};

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
}

impl ZeekColumns {
    /// From a `#fields\tts\tuid…` line; `None` when the mandatory columns are missing.
    pub(crate) fn from_header(line: &str) -> Option<ZeekColumns> {
        let names: Vec<&str> = line.split('\t').skip(1).collect();
        let find = |n: &str| names.iter().position(|c| *c == n);
        Some(ZeekColumns {
            ts: find("ts")?,
            orig_h: find("id.orig_h")?,
            resp_h: find("id.resp_h")?,
            resp_p: find("id.resp_p")?,
            duration: find("duration"),
            orig_bytes: find("orig_bytes"),
            resp_bytes: find("resp_bytes"),
        })
    }
}

fn unset(v: &str) -> bool {
    v.is_empty() || v == "-" || v == "(empty)"
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
