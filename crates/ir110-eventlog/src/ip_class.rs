//! Is a source address outside the organisation? Decided by the IANA special-purpose registries
//! (RFC 1918, RFC 6598, RFC 3927, RFC 4193, RFC 4291, …).
//!
//! The documentation ranges (RFC 5737 TEST-NET-1/2/3, RFC 3849 `2001:db8::/32`) count as
//! **external**: they stand for public addresses in examples, training data and our own demo
//! incident, and no real network routes them internally.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses an address as Windows logs write it (`::ffff:1.2.3.4`, `[::1]`, with a `%zone`).
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let t = text.trim().trim_start_matches('[').trim_end_matches(']');
    let t = t.split('%').next().unwrap_or(t);
    let ip: IpAddr = t.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// Whether `ip` is a public (internet-routable) address.
pub fn is_external(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_external_v4(v4),
        IpAddr::V6(v6) => is_external_v6(v6),
    }
}

fn is_external_v4(ip: Ipv4Addr) -> bool {
    let [a, b, _, _] = ip.octets();
    let internal = ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // RFC 6598 shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // RFC 6890 IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // RFC 2544 benchmarking
        || a >= 240; // reserved
    !internal
}

fn is_external_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let internal = ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0; // deprecated site-local
    !internal
}

/// Whether `text` names an address that is external (see [`is_external`]).
pub fn is_external_text(text: &str) -> bool {
    parse_ip(text).is_some_and(is_external)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        for internal in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1%12",
            "fd00::5",
            "::ffff:192.168.0.10",
            "-",
            "",
        ] {
            assert!(!is_external_text(internal), "{internal}");
        }
        for external in [
            "203.0.113.50",
            "198.51.100.7",
            "8.8.8.8",
            "172.32.0.1",
            "2001:db8::1",
            "::ffff:203.0.113.9",
            "[2606:4700::1111]",
        ] {
            assert!(is_external_text(external), "{external}");
        }
    }
}
