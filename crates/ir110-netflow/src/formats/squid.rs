//! Squid native `access.log`: `time elapsed client code/status bytes method URL user
//! hierarchy/peer type` (`%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt`).
//!
//! A proxy sees host names, not addresses: the destination is the URL's host, which is what
//! FQDN beaconing needs. `%<st` is the reply size (bytes to the client); Squid's native format
//! has no request size, so `bytes_out` is unknown.

use std::net::IpAddr;

use crate::flow::{Destination, FlowRecord};
use crate::formats::Parsed;
use crate::timestamps::parse_epoch;

/// The host and port of a proxied URL: `http://h:p/…`, `https://h/…`, or `h:443` (CONNECT).
fn host_port(url: &str) -> Option<(&str, u16)> {
    let (rest, default) = if let Some(r) = url.strip_prefix("http://") {
        (r, 80)
    } else if let Some(r) = url.strip_prefix("https://") {
        (r, 443)
    } else if let Some(r) = url.strip_prefix("ftp://") {
        (r, 21)
    } else {
        (url, 443)
    };
    let authority = rest.split(['/', '?']).next()?;
    let authority = authority.rsplit('@').next()?;
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let port = authority[end + 1..]
            .strip_prefix(':')
            .and_then(|p| p.parse().ok());
        return Some((&authority[1..end], port.unwrap_or(default)));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((h, p.parse().unwrap_or(default))),
        None => Some((authority, default)),
    }
    .filter(|(h, _)| !h.is_empty())
}

/// Whether a line looks like Squid native format (epoch with milliseconds first).
pub(crate) fn looks_like(line: &str) -> bool {
    let mut it = line.split_ascii_whitespace();
    let ts = it.next().unwrap_or("");
    let code = it.nth(2).unwrap_or("");
    ts.len() > 10 && ts.contains('.') && parse_epoch(ts).is_some() && code.contains('/')
}

/// Parses one line.
pub(crate) fn parse(line: &str) -> Parsed<'_> {
    let mut it = line.split_ascii_whitespace();
    let (Some(ts), Some(elapsed), Some(client), Some(_code), Some(bytes), Some(_method), Some(url)) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return Parsed::Bad;
    };
    let (Some(ts), Ok(src), Some((host, port))) =
        (parse_epoch(ts), client.parse::<IpAddr>(), host_port(url))
    else {
        return Parsed::Bad;
    };
    let dst = match host.parse::<IpAddr>() {
        Ok(ip) => Destination::Ip(ip),
        Err(_) => Destination::Host(host),
    };
    Parsed::Record(FlowRecord {
        ts,
        src,
        dst,
        dst_port: port,
        duration: elapsed.parse::<f64>().ok().map(|ms| ms / 1000.0),
        bytes_out: None,
        bytes_in: bytes.parse().ok(),
        country: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_lines() {
        let l = "979992041.366    502 192.168.1.160 TCP_IMS_HIT/304 216 GET http://example.com/home2.html - NONE/- text/html";
        assert!(looks_like(l));
        let Parsed::Record(r) = parse(l) else {
            panic!()
        };
        assert_eq!(r.dst, Destination::Host("example.com"));
        assert_eq!(r.dst_port, 80);
        assert_eq!(r.bytes_in, Some(216));
        let c = "1767225600.000 120 10.0.0.5 TCP_TUNNEL/200 5120 CONNECT c2.example.net:8443 - HIER_DIRECT/203.0.113.5 -";
        let Parsed::Record(r) = parse(c) else {
            panic!()
        };
        assert_eq!(
            (r.dst, r.dst_port),
            (Destination::Host("c2.example.net"), 8443)
        );
    }
}
