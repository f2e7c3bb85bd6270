//! Zeek `conn.log`, TSV (with `#fields` header) and JSON (one object per line).
//!
//! Fields: `ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes
//! resp_bytes conn_state …` (docs.zeek.org, `base/protocols/conn/main.zeek`). `-` is unset.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Deserialize;

use crate::flow::{Destination, FlowRecord};
use crate::formats::Parsed;
use crate::timestamps::{parse_datetime, parse_epoch, scale_epoch};

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

/// The fast path for one TSV data line, straight from bytes: only the columns used are split
/// out (memchr on tabs, stopping after the last needed column) and numbers and IPv4
/// addresses are parsed by hand. Gives exactly what [`parse_tsv`] gives for the lines it
/// accepts; `None` sends the line to the general path (headers, comments, unset mandatory
/// fields, IPv6, anything unusual), so the result never depends on which path ran.
pub(crate) fn parse_tsv_fast(line: &[u8], cols: &ZeekColumns) -> Option<FlowRecord<'static>> {
    if line.first().is_none_or(|&c| c == b'#') {
        return None;
    }
    let last = cols
        .ts
        .max(cols.orig_h)
        .max(cols.resp_h)
        .max(cols.resp_p)
        .max(cols.duration.unwrap_or(0))
        .max(cols.orig_bytes.unwrap_or(0))
        .max(cols.resp_bytes.unwrap_or(0));
    let mut bounds = [(0usize, 0usize); 40];
    if last >= bounds.len() {
        return None;
    }
    // Tabs found a word (8 bytes) at a time with a branch-free byte compare, then taken
    // one at a time up to the last needed column: fields are short (a dozen bytes), so
    // this beats both a memchr call per field and a branch per byte.
    let mut start = 0;
    let mut n = 0;
    let mut base = 0;
    'words: while base < line.len() {
        let end = line.len().min(base + 8);
        let mut word = [0u8; 8];
        word[..end - base].copy_from_slice(&line[base..end]);
        let mut tabs = tab_bytes(u64::from_le_bytes(word));
        while tabs != 0 {
            let i = base + (tabs.trailing_zeros() / 8) as usize;
            bounds[n] = (start, i);
            n += 1;
            if n > last {
                break 'words;
            }
            start = i + 1;
            tabs &= tabs - 1;
        }
        base = end;
    }
    if n <= last {
        bounds[n] = (start, line.len());
        n += 1;
    }
    let field = |i: usize| -> Option<&[u8]> {
        let (a, b) = *bounds.get(i).filter(|_| i < n)?;
        let v = line.get(a..b)?;
        // Trailing `\r` is part of the last field in the general path too (it trims it).
        let v = v.strip_suffix(b"\r").unwrap_or(v);
        (!v.is_empty() && v != b"-" && v != b"(empty)").then_some(v)
    };
    let opt = |c: Option<usize>| c.map(field);
    let ts = scale_epoch(parse_decimal(field(cols.ts)?)?)?;
    let src = parse_ipv4(field(cols.orig_h)?)?;
    let dst = parse_ipv4(field(cols.resp_h)?)?;
    let port = u16::try_from(parse_u64(field(cols.resp_p)?)?).ok()?;
    // An optional column that is present but unreadable is `None` in the general path
    // too; defer such rare lines to it rather than re-implement `f64::from_str` corner cases.
    let num = |v: Option<Option<&[u8]>>| -> Option<Option<f64>> {
        match v {
            None | Some(None) => Some(None),
            Some(Some(b)) => parse_decimal(b).map(Some),
        }
    };
    let int = |v: Option<Option<&[u8]>>| -> Option<Option<u64>> {
        match v {
            None | Some(None) => Some(None),
            Some(Some(b)) => parse_u64(b).map(Some),
        }
    };
    Some(FlowRecord {
        ts,
        src,
        dst: Destination::Ip(dst),
        dst_port: port,
        duration: num(opt(cols.duration))?,
        bytes_out: int(opt(cols.orig_bytes))?,
        bytes_in: int(opt(cols.resp_bytes))?,
        country: None,
    })
}

/// The high bit of every byte of `word` that is a tab, and no other bit: exact, as no
/// carry crosses a byte (`(b & 0x7f) + 0x7f` is at most `0xfe`).
fn tab_bytes(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ 0x0909_0909_0909_0909; // tabs become zero bytes
    !(((x & LOW7) + LOW7) | x) & !LOW7
}

/// A plain decimal `digits[.digits]` whose digits form an integer below 2^53, exactly as
/// `f64::from_str` rounds it: that integer is exact in an `f64` and one IEEE division by
/// an exact power of ten is correctly rounded. Anything else is `None`.
fn parse_decimal(b: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let mut mantissa = 0u64;
    let mut digits = 0usize;
    let mut frac: Option<usize> = None;
    for &c in b {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                digits += 1;
                if let Some(f) = frac.as_mut() {
                    *f += 1;
                }
                if digits > 19 {
                    return None;
                }
            }
            b'.' if frac.is_none() => frac = Some(0),
            _ => return None,
        }
    }
    let scale = frac.unwrap_or(0);
    if digits == 0 || mantissa >= 1 << 53 || scale >= POW10.len() {
        return None;
    }
    Some(mantissa as f64 / POW10[scale])
}

/// Unsigned decimal integer (no sign, no spaces), as `u64::from_str` accepts it.
fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut v = 0u64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    Some(v)
}

/// Dotted-quad IPv4 as `Ipv4Addr::from_str` accepts it (no leading zeros, four octets).
fn parse_ipv4(b: &[u8]) -> Option<IpAddr> {
    let mut octets = [0u8; 4];
    let mut k = 0;
    let mut v: u16 = 0;
    let mut len = 0;
    let mut lead_zero = false;
    for &c in b {
        if c == b'.' {
            if len == 0 || k == 3 {
                return None;
            }
            octets[k] = u8::try_from(v).ok()?;
            k += 1;
            v = 0;
            len = 0;
            continue;
        }
        if !c.is_ascii_digit() || len == 3 || (len == 1 && lead_zero) {
            return None;
        }
        lead_zero = len == 0 && c == b'0';
        v = v * 10 + u16::from(c - b'0');
        len += 1;
    }
    if k != 3 || len == 0 {
        return None;
    }
    octets[3] = u8::try_from(v).ok()?;
    Some(IpAddr::from(octets))
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

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    /// Every data line of a synthetic conn.log (tabs at every alignment of the word-wise
    /// search) gives the same record on both paths.
    #[test]
    fn fast_path_matches_general_path_on_a_whole_log() {
        let spec = crate::TrafficSpec {
            seed: 3,
            start: 1_735_657_200,
            days: 20,
            hosts: 10,
            normal_pairs: 100,
            pollers: 1,
            beacons: Vec::new(),
        };
        let log = crate::synthesize_conn_log(&spec);
        let header = log.lines().find(|l| l.starts_with("#fields")).unwrap();
        let cols = ZeekColumns::from_header(header).unwrap();
        let mut checked = 0;
        for line in log.lines().filter(|l| !l.starts_with('#')) {
            let Parsed::Record(general) = parse_tsv(line, &cols) else {
                panic!("{line}")
            };
            assert_eq!(
                parse_tsv_fast(line.as_bytes(), &cols),
                Some(general),
                "{line}"
            );
            checked += 1;
        }
        assert!(checked > 1000, "{checked}");
    }

    /// The fast path agrees with the general one field for field, and defers what it
    /// does not handle.
    #[test]
    fn fast_path_matches_general_path() {
        let header = "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state";
        let cols = ZeekColumns::from_header(header).unwrap();
        for line in [
            "1735657383.682668\tCx\t10.1.0.9\t49152\t203.0.113.9\t443\ttcp\tssl\t0.318593\t947\t425\tSF",
            "1735657383\tCx\t10.1.0.9\t49152\t203.0.113.9\t443\ttcp\t-\t-\t-\t-\tS0",
            "1767225600000\tCx\t10.1.0.9\t1\t8.8.8.8\t53\tudp\tdns\t12.5\t0\t0\tSF\r",
            "0.1\tCx\t192.168.0.1\t1\t1.2.3.4\t65535\ttcp\t-\t3\t9999999999999999999\t1\tSF",
        ] {
            let fast = parse_tsv_fast(line.as_bytes(), &cols).unwrap();
            let Parsed::Record(general) = parse_tsv(line.trim_end_matches('\r'), &cols) else {
                panic!("{line}")
            };
            assert_eq!(fast, general, "{line}");
        }
        for line in [
            "#close\t2026",
            "1735657383.6\tCx\t2001:db8::1\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.09\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.256\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1..9\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.9.\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.1234\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.9\t1\t203.0.113.9\t70000",
            "1e9\tCx\t10.1.0.9\t1\t203.0.113.9\t443",
            "1735657383.6\tCx\t10.1.0.9",
        ] {
            assert_eq!(parse_tsv_fast(line.as_bytes(), &cols), None, "{line}");
        }
        for word in [0u64, u64::MAX, 0x0909_0909_0909_0909, 0x8909_0989_0009_0a08] {
            let expected = word
                .to_le_bytes()
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\t')
                .fold(0u64, |m, (i, _)| m | 0x80 << (8 * i));
            assert_eq!(tab_bytes(word), expected, "{word:#x}");
        }
        assert_eq!(parse_decimal(b"1735657383.682668"), Some(1735657383.682668));
        assert_eq!(parse_decimal(b"0.30000000000000"), Some(0.3));
    }
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
