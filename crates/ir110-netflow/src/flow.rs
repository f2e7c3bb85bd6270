//! One connection as every log format reduces it, and address classification.

use std::net::IpAddr;

/// Where a connection went: an address, or a host name when only a proxy log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination<'a> {
    /// An IP address (firewall and Zeek logs).
    Ip(IpAddr),
    /// A host name (proxy logs: `CONNECT host:443`, `http://host/…`).
    Host(&'a str),
}

/// One connection (or proxied request), borrowed from the line it was parsed from.
///
/// Fields a format does not log are `None`; scoring renormalises its weights around them.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRecord<'a> {
    /// Start time, seconds since the Unix epoch (UTC).
    pub ts: f64,
    /// The originating address (inside the network, normally).
    pub src: IpAddr,
    /// Where it went.
    pub dst: Destination<'a>,
    /// Destination port (0 when the log does not say).
    pub dst_port: u16,
    /// Connection duration in seconds.
    pub duration: Option<f64>,
    /// Bytes sent by the originator.
    pub bytes_out: Option<u64>,
    /// Bytes sent back by the responder.
    pub bytes_in: Option<u64>,
    /// Destination country as the device logged it (FortiGate `dstcountry`, PAN-OS location).
    pub country: Option<&'a str>,
}

/// Whether `ip` belongs to a private, loopback, link-local, shared (CGNAT) or unique-local
/// range: the "inside" of a customer network. Documentation ranges count as outside, so test
/// data can use them for foreign servers.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

/// Whether `ip` is a multicast address (never a C2 destination; mDNS, SSDP noise).
pub fn is_multicast(ip: IpAddr) -> bool {
    ip.is_multicast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_and_outside() {
        for a in [
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "100.64.0.1",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["203.0.113.7", "8.8.8.8", "2001:db8::1", "172.32.0.1"] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
    }
}
