//! Timestamp parsing for log fields: epoch numbers and the fixed date layouts firewalls write.
//!
//! Hand-written rather than `chrono::format` because it runs once per log line and the layouts
//! are fixed; see `BENCHMARKS.md` for why per-line cost matters.

/// Seconds from the Unix epoch for a civil date (proleptic Gregorian; H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An epoch timestamp: seconds, or milli-/micro-/nanoseconds recognised by magnitude
/// (FortiGate `eventtime` became nanoseconds in FortiOS 6.2+).
pub(crate) fn parse_epoch(s: &str) -> Option<f64> {
    scale_epoch(s.trim().parse().ok()?)
}

/// `parse_epoch`'s magnitude rule on an already parsed number.
pub(crate) fn scale_epoch(v: f64) -> Option<f64> {
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    Some(if v > 1e17 {
        v / 1e9
    } else if v > 1e14 {
        v / 1e6
    } else if v > 1e11 {
        v / 1e3
    } else {
        v
    })
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in part {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±HH:MM|±HHMM]` or with `/` as date separator.
///
/// A time without a zone is local to the device: `local_offset_secs` (east of UTC) is
/// subtracted to get UTC.
pub(crate) fn parse_datetime(s: &str, local_offset_secs: i32) -> Option<f64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 || !matches!(b[4], b'-' | b'/') || b[7] != b[4] {
        return None;
    }
    if !matches!(b[10], b'T' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
    let (h, mi, se) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        frac = format!("0.{}", &r[..end]).parse().unwrap_or(0.0);
        rest = &r[end..];
    }
    let offset = match rest.trim() {
        "" => i64::from(local_offset_secs),
        "Z" | "z" | "UTC" | "+00:00" => 0,
        zone => {
            let zb = zone.as_bytes();
            let sign = match zb.first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let hh = digits(zb, 1, 2)?;
            let mm = if zb.get(3) == Some(&b':') {
                digits(zb, 4, 2)?
            } else {
                digits(zb, 3, 2).unwrap_or(0)
            };
            sign * i64::from(hh * 3600 + mm * 60)
        }
    };
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + se) - offset;
    Some(secs as f64 + frac)
}

/// The UTC day number (days since 1970-01-01) of an epoch time.
pub(crate) fn day_of(ts: f64) -> i32 {
    floor(ts / 86_400.0) as i32
}

/// `x.floor()`, inline: without SSE4.1 `f64::floor` is a library call, and this runs
/// twice per connection. Exact: below 2^52 in magnitude the truncation `x as i64` is exact
/// and one below it for negative non-integers; anything larger (or NaN, ±∞) is already
/// integral. Only −0.0 becomes 0.0, which no integer cast can tell apart.
pub(crate) fn floor(x: f64) -> f64 {
    if x.is_nan() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let t = x as i64 as f64;
    if t > x { t - 1.0 } else { t }
}

/// `(year, month)` of a day number, for counting active months.
pub(crate) fn year_month(day: i32) -> (i32, u32) {
    // Inverse of `days_from_civil` (H. Hinnant).
    let z = i64::from(day) + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (y as i32, m as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let utc = 1_767_225_600.0; // 2026-01-01T00:00:00Z
        assert_eq!(parse_datetime("2026-01-01T00:00:00Z", 0), Some(utc));
        assert_eq!(parse_datetime("2026/01/01 09:00:00", 9 * 3600), Some(utc));
        assert_eq!(parse_datetime("2026-01-01 09:00:00+09:00", 0), Some(utc));
        assert_eq!(
            parse_datetime("2026-01-01T00:00:00.500Z", 0),
            Some(utc + 0.5)
        );
        assert_eq!(parse_datetime("2026-13-01 00:00:00", 0), None);
        assert_eq!(parse_datetime("garbage", 0), None);
        assert_eq!(parse_epoch("1767225600000000000"), Some(utc));
        assert_eq!(parse_epoch("1767225600.25"), Some(utc + 0.25));
        assert_eq!(year_month(day_of(utc)), (2026, 1));
        assert_eq!(year_month(day_of(utc - 1.0)), (2025, 12));
    }

    /// The inline floor agrees with `f64::floor` under the integer casts it feeds.
    #[test]
    fn floor_matches_std() {
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            2.5e-300,
            -2.5e-300,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9.3e18,
            -9.3e18,
            1e300,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::EPSILON,
        ];
        let mut v = 1.0e-3f64;
        while v < 1e20 {
            xs.extend([v, -v, v + 0.5, -v - 0.5, v.next_up(), (-v).next_down()]);
            v *= 1.37;
        }
        for x in xs {
            assert_eq!(floor(x) as i64, x.floor() as i64, "{x}");
            assert_eq!(floor(x) as i32, x.floor() as i32, "{x}");
            assert!(
                floor(x) == x.floor() || (x.is_nan() && floor(x).is_nan()),
                "{x}"
            );
        }
    }
}
