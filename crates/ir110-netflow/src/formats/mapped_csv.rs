//! Any CSV flow export with a header line, read through a column mapping.
//!
//! The mapping names which header column holds each field. It is either given by the user
//! (`ts=Start,src=Source IP,dst=Dest IP,dport=Port,out=Sent,in=Received,duration=Secs`) or
//! guessed from common header names (NetFlow/IPFIX exports, PAN-OS UI exports, cloud flow logs).

use std::net::IpAddr;
use std::str::FromStr;

use crate::NetError;
use crate::flow::{Destination, FlowRecord};
use crate::formats::{Parsed, split_csv};
use crate::timestamps::{parse_datetime, parse_epoch};

/// Header names for each flow field. `ts`, `src` and `dst` are required.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvMapping {
    /// Start time column (epoch seconds/ms/ns or `YYYY-MM-DD hh:mm:ss[zone]`).
    pub ts: String,
    /// Source address column.
    pub src: String,
    /// Destination address (or host name) column.
    pub dst: String,
    /// Destination port column.
    pub dst_port: Option<String>,
    /// Bytes sent by the source.
    pub bytes_out: Option<String>,
    /// Bytes received by the source.
    pub bytes_in: Option<String>,
    /// Duration in seconds.
    pub duration: Option<String>,
}

impl FromStr for CsvMapping {
    type Err = NetError;

    /// `ts=COL,src=COL,dst=COL[,dport=COL][,out=COL][,in=COL][,duration=COL]`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut m = CsvMapping::default();
        for part in s.split(',') {
            let Some((k, v)) = part.split_once('=') else {
                return Err(NetError::Mapping(format!("`{part}` is not FIELD=COLUMN")));
            };
            let v = v.trim().to_owned();
            match k.trim() {
                "ts" | "time" => m.ts = v,
                "src" => m.src = v,
                "dst" => m.dst = v,
                "dport" | "dst_port" | "port" => m.dst_port = Some(v),
                "out" | "bytes_out" => m.bytes_out = Some(v),
                "in" | "bytes_in" => m.bytes_in = Some(v),
                "duration" => m.duration = Some(v),
                other => return Err(NetError::Mapping(format!("unknown field `{other}`"))),
            }
        }
        if m.ts.is_empty() || m.src.is_empty() || m.dst.is_empty() {
            return Err(NetError::Mapping("ts, src and dst are required".to_owned()));
        }
        Ok(m)
    }
}

const TS_NAMES: &[&str] = &[
    "ts",
    "time",
    "timestamp",
    "start",
    "start_time",
    "starttime",
    "first",
    "first_seen",
    "date",
    "datetime",
    "generate time",
    "receive time",
    "start time",
    "flow_start",
];
const SRC_NAMES: &[&str] = &[
    "src",
    "src_ip",
    "srcip",
    "srcaddr",
    "source",
    "source_ip",
    "source address",
    "sa",
    "id.orig_h",
    "client_ip",
];
const DST_NAMES: &[&str] = &[
    "dst",
    "dst_ip",
    "dstip",
    "dstaddr",
    "destination",
    "destination_ip",
    "destination address",
    "da",
    "id.resp_h",
    "server_ip",
    "dest_ip",
];
const PORT_NAMES: &[&str] = &[
    "dport",
    "dst_port",
    "dstport",
    "destination port",
    "dp",
    "id.resp_p",
    "dest_port",
];
const OUT_NAMES: &[&str] = &[
    "bytes_out",
    "out_bytes",
    "sentbyte",
    "bytes_sent",
    "bytes sent",
    "orig_bytes",
    "ibyt",
    "sent",
];
const IN_NAMES: &[&str] = &[
    "bytes_in",
    "in_bytes",
    "rcvdbyte",
    "bytes_received",
    "bytes received",
    "resp_bytes",
    "obyt",
    "received",
];
const DURATION_NAMES: &[&str] = &["duration", "elapsed", "elapsed time (sec)", "td", "dur"];

/// Column positions resolved against a header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvColumns {
    ts: usize,
    src: usize,
    dst: usize,
    dst_port: Option<usize>,
    bytes_out: Option<usize>,
    bytes_in: Option<usize>,
    duration: Option<usize>,
}

impl CsvColumns {
    /// Resolves `mapping` (or guesses when `None`) against `header`.
    pub(crate) fn resolve(header: &str, mapping: Option<&CsvMapping>) -> Option<CsvColumns> {
        let mut f: [&str; 128] = [""; 128];
        let n = split_csv(header, &mut f);
        let names: Vec<String> = f[..n]
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let by_name = |name: &str| names.iter().position(|h| *h == name.to_ascii_lowercase());
        let guess = |cands: &[&str]| cands.iter().find_map(|c| by_name(c));
        match mapping {
            Some(m) => Some(CsvColumns {
                ts: by_name(&m.ts)?,
                src: by_name(&m.src)?,
                dst: by_name(&m.dst)?,
                dst_port: m.dst_port.as_deref().and_then(by_name),
                bytes_out: m.bytes_out.as_deref().and_then(by_name),
                bytes_in: m.bytes_in.as_deref().and_then(by_name),
                duration: m.duration.as_deref().and_then(by_name),
            }),
            None => Some(CsvColumns {
                ts: guess(TS_NAMES)?,
                src: guess(SRC_NAMES)?,
                dst: guess(DST_NAMES)?,
                dst_port: guess(PORT_NAMES),
                bytes_out: guess(OUT_NAMES),
                bytes_in: guess(IN_NAMES),
                duration: guess(DURATION_NAMES),
            }),
        }
    }
}

/// Parses one data line.
pub(crate) fn parse<'a>(line: &'a str, cols: &CsvColumns, local_offset_secs: i32) -> Parsed<'a> {
    let mut f: [&'a str; 128] = [""; 128];
    let n = split_csv(line, &mut f);
    let get = |i: usize| {
        (i < n)
            .then(|| f[i].trim())
            .filter(|v| !v.is_empty() && *v != "-")
    };
    let ts =
        get(cols.ts).and_then(|v| parse_datetime(v, local_offset_secs).or_else(|| parse_epoch(v)));
    let src = get(cols.src).and_then(|v| v.parse::<IpAddr>().ok());
    let dst = get(cols.dst).map(|v| match v.parse::<IpAddr>() {
        Ok(ip) => Destination::Ip(ip),
        Err(_) => Destination::Host(v),
    });
    let (Some(ts), Some(src), Some(dst)) = (ts, src, dst) else {
        return Parsed::Bad;
    };
    let num = |c: Option<usize>| c.and_then(get).and_then(|v| v.parse::<f64>().ok());
    Parsed::Record(FlowRecord {
        ts,
        src,
        dst,
        dst_port: num(cols.dst_port).map_or(0, |p| p as u16),
        duration: num(cols.duration),
        bytes_out: num(cols.bytes_out).map(|b| b as u64),
        bytes_in: num(cols.bytes_in).map(|b| b as u64),
        country: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_from_str_and_guess() {
        let m: CsvMapping = "ts=When,src=From,dst=To,out=Up".parse().unwrap();
        assert_eq!(m.bytes_out.as_deref(), Some("Up"));
        assert!("src=a".parse::<CsvMapping>().is_err());
        let cols = CsvColumns::resolve("When,From,To,Up", Some(&m)).unwrap();
        let Parsed::Record(r) = parse(
            "2026-01-01 09:00:00,10.0.0.1,203.0.113.9,512",
            &cols,
            9 * 3600,
        ) else {
            panic!()
        };
        assert_eq!(r.ts, 1_767_225_600.0);
        assert_eq!(r.bytes_out, Some(512));
        let guessed = CsvColumns::resolve(
            "Start Time,Source Address,Destination Address,Bytes Sent",
            None,
        );
        assert!(guessed.is_some());
        assert!(CsvColumns::resolve("a,b,c", None).is_none());
    }
}
