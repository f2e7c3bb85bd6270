//! FortiGate traffic logs: `key=value` pairs (values optionally quoted), as sent by syslog or
//! exported from FortiAnalyzer. Only `type="traffic"` records are flows.
//!
//! `dstcountry` comes from the FortiGate's own geo database and is kept as the country.

use std::net::IpAddr;

use crate::flow::{Destination, FlowRecord};
use crate::formats::Parsed;
use crate::timestamps::{parse_datetime, parse_epoch};

/// Iterates `key=value` pairs; quoted values may contain spaces.
fn pairs(line: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = line;
    std::iter::from_fn(move || {
        loop {
            let eq = rest.find('=')?;
            let key_start = rest[..eq].rfind(' ').map_or(0, |p| p + 1);
            let key = &rest[key_start..eq];
            let after = &rest[eq + 1..];
            let (value, next) = if let Some(q) = after.strip_prefix('"') {
                match q.find('"') {
                    Some(end) => (&q[..end], &q[end + 1..]),
                    None => (q, ""),
                }
            } else {
                let end = after.find(' ').unwrap_or(after.len());
                (&after[..end], &after[end..])
            };
            rest = next;
            if !key.is_empty() {
                return Some((key, value));
            }
        }
    })
}

/// Parses one line. Non-traffic records (event, utm) are skipped, not errors.
pub(crate) fn parse(line: &str, local_offset_secs: i32) -> Parsed<'_> {
    let mut kind = None;
    let (mut date, mut time, mut eventtime) = (None, None, None);
    let (mut src, mut dst, mut port) = (None, None, None);
    let (mut duration, mut sent, mut rcvd, mut country) = (None, None, None, None);
    for (k, v) in pairs(line) {
        match k {
            "type" => kind = Some(v),
            "date" => date = Some(v),
            "time" => time = Some(v),
            "eventtime" => eventtime = parse_epoch(v),
            "srcip" => src = v.parse::<IpAddr>().ok(),
            "dstip" => dst = v.parse::<IpAddr>().ok(),
            "dstport" => port = v.parse::<u16>().ok(),
            "duration" => duration = v.parse::<f64>().ok(),
            "sentbyte" => sent = v.parse::<u64>().ok(),
            "rcvdbyte" => rcvd = v.parse::<u64>().ok(),
            "dstcountry" => country = Some(v).filter(|c| !c.is_empty() && *c != "Reserved"),
            _ => {}
        }
    }
    match kind {
        Some("traffic") => {}
        Some(_) => return Parsed::Skip,
        None => return Parsed::Bad,
    }
    let ts = eventtime.or_else(|| {
        let (d, t) = (date?, time?);
        parse_datetime(&format!("{d} {t}"), local_offset_secs)
    });
    let (Some(ts), Some(src), Some(dst)) = (ts, src, dst) else {
        return Parsed::Bad;
    };
    Parsed::Record(FlowRecord {
        ts,
        src,
        dst: Destination::Ip(dst),
        dst_port: port.unwrap_or(0),
        duration,
        bytes_out: sent,
        bytes_in: rcvd,
        country,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_example() {
        let line = r#"date=2018-12-27 time=11:07:55 logid="0000000013" type="traffic" subtype="forward" level="notice" vd="vdom1" eventtime=1545937675 srcip=10.1.100.11 srcport=54190 srcintf="port12" dstip=52.53.140.235 dstport=443 dstintf="port11" sessionid=402 proto=6 action="close" policyid=1 service="HTTPS" dstcountry="United States" srccountry="Reserved" trandisp="snat" duration=2 sentbyte=3652 rcvdbyte=146668"#;
        let Parsed::Record(r) = parse(line, 0) else {
            panic!("not parsed")
        };
        assert_eq!(r.ts, 1_545_937_675.0);
        assert_eq!(r.dst_port, 443);
        assert_eq!(r.bytes_out, Some(3652));
        assert_eq!(r.country, Some("United States"));
        assert_eq!(
            parse(r#"date=2018-12-27 type="event" subtype="system""#, 0),
            Parsed::Skip
        );
    }
}
