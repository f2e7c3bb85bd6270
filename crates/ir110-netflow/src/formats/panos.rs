//! Palo Alto PAN-OS traffic logs in the syslog CSV layout (no header; `TRAFFIC` in column 4).
//!
//! Column positions (0-based) follow the PAN-OS traffic-log field list, stable since 8.x at
//! the front; later versions only append columns, so the ones read here do not move.

use std::net::IpAddr;

use crate::flow::{Destination, FlowRecord};
use crate::formats::{Parsed, split_csv};
use crate::timestamps::parse_datetime;

const TYPE: usize = 3;
const GENERATED: usize = 6;
const SRC: usize = 7;
const DST: usize = 8;
const DPORT: usize = 25;
const BYTES_SENT: usize = 32;
const BYTES_RECEIVED: usize = 33;
const START: usize = 35;
const ELAPSED: usize = 36;
const DST_LOCATION: usize = 42;

/// The CSV part of a line: a syslog header before the first field is dropped.
fn body(line: &str) -> &str {
    // `<14>Jan  1 00:00:00 fw01 1,2026/01/01 …`: the body starts at the token before the first
    // comma.
    match line.find(',') {
        Some(c) => {
            let start = line[..c].rfind(' ').map_or(0, |p| p + 1);
            &line[start..]
        }
        None => line,
    }
}

/// Whether a line looks like a PAN-OS traffic record.
pub(crate) fn is_traffic(line: &str) -> bool {
    body(line).split(',').nth(TYPE) == Some("TRAFFIC")
}

/// Parses one line; THREAT/SYSTEM records are skipped.
pub(crate) fn parse(line: &str, local_offset_secs: i32) -> Parsed<'_> {
    let mut f: [&str; 64] = [""; 64];
    let n = split_csv(body(line), &mut f);
    if n <= TYPE {
        return Parsed::Bad;
    }
    if f[TYPE] != "TRAFFIC" {
        return Parsed::Skip;
    }
    if n <= DPORT {
        return Parsed::Bad;
    }
    let ts = parse_datetime(f[START], local_offset_secs)
        .or_else(|| parse_datetime(f[GENERATED], local_offset_secs));
    let (Some(ts), Ok(src), Ok(dst)) = (ts, f[SRC].parse::<IpAddr>(), f[DST].parse::<IpAddr>())
    else {
        return Parsed::Bad;
    };
    let num = |i: usize| (i < n).then(|| f[i]).and_then(|v| v.parse::<u64>().ok());
    Parsed::Record(FlowRecord {
        ts,
        src,
        dst: Destination::Ip(dst),
        dst_port: f[DPORT].parse().unwrap_or(0),
        duration: num(ELAPSED).map(|v| v as f64),
        bytes_out: num(BYTES_SENT),
        bytes_in: num(BYTES_RECEIVED),
        country: (DST_LOCATION < n)
            .then(|| f[DST_LOCATION])
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())),
    })
}
