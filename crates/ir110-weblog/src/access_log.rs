//! Web-server access logs: Apache/nginx common and combined (optionally with a leading
//! virtual host), and IIS W3C extended logs (`#Fields:` header, UTC).
//!
//! Apache and nginx write the time with its zone (`[10/Oct/2026:13:55:36 +0900]`); IIS writes
//! `date time` in UTC. Everything becomes UTC here.

use std::net::IpAddr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::Serialize;

/// One request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpRequest {
    /// When (UTC).
    pub ts: DateTime<Utc>,
    /// Client address (as logged; may be a proxy).
    pub client: String,
    /// Method (`GET`, `POST`).
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Query string without `?` (may be empty).
    pub query: String,
    /// Status code (0 when not logged).
    pub status: u16,
    /// Response bytes (0 when `-`).
    pub bytes: u64,
    /// `Referer`.
    pub referer: String,
    /// `User-Agent`.
    pub user_agent: String,
}

impl HttpRequest {
    /// The client as an address, when it is one.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client.parse().ok()
    }
}

/// Recognised layouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AccessLayout {
    /// Common/combined, possibly vhost-prefixed.
    Combined,
    /// W3C with the column names of the last `#Fields:` line.
    W3c(Vec<String>),
}

/// A request borrowed from its log line: what the scan keeps per line without allocating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RequestView<'a> {
    pub(crate) ts: DateTime<Utc>,
    pub(crate) client: &'a str,
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) status: u16,
    pub(crate) user_agent: &'a str,
}

impl HttpRequest {
    /// This request as a view.
    pub(crate) fn view(&self) -> RequestView<'_> {
        RequestView {
            ts: self.ts,
            client: &self.client,
            method: &self.method,
            path: &self.path,
            query: &self.query,
            status: self.status,
            user_agent: &self.user_agent,
        }
    }
}

/// Parses a combined/common line: `host ident user [time] "request" status bytes "ref" "ua"`.
#[cfg(test)]
pub(crate) fn parse_combined(line: &str) -> Option<HttpRequest> {
    let (v, bytes, referer) = parse_combined_view(line)?;
    Some(HttpRequest {
        ts: v.ts,
        client: v.client.to_owned(),
        method: v.method.to_owned(),
        path: v.path.to_owned(),
        query: v.query.to_owned(),
        status: v.status,
        bytes,
        referer: referer.to_owned(),
        user_agent: v.user_agent.to_owned(),
    })
}

/// [`parse_combined`] without allocating: the view, the response bytes and the referer.
#[cfg(test)]
pub(crate) fn parse_combined_view(line: &str) -> Option<(RequestView<'_>, u64, &str)> {
    let (v, bytes, referer) =
        parse_combined_parts(line, &mut ClfDates::default(), None, &mut false)?;
    Some((v, bytes.parse().unwrap_or(0), referer))
}

/// The view of a combined/common line, what the scan keeps of it (the response bytes and the
/// referer are not needed there). `agent`: the user agent of an earlier line (consecutive
/// lines mostly share it), tried before searching for the closing quote; with the view,
/// whether the line's agent is that one.
pub(crate) fn parse_combined_request<'a>(
    line: &'a str,
    dates: &mut ClfDates,
    agent: Option<&str>,
) -> Option<(RequestView<'a>, bool)> {
    let mut same_agent = false;
    parse_combined_parts(line, dates, agent, &mut same_agent).map(|(v, _, _)| (v, same_agent))
}

/// The fields of a combined/common line, split byte by byte: every step gives what the
/// `str` splitting of `parse_combined_reference` in the tests gives (test
/// `byte_split_matches_str_split`), without a `char` searcher per field (that was a tenth
/// of the log path). The response bytes stay text (`""` when missing): only the report of a
/// single line parses them.
fn parse_combined_parts<'a>(
    line: &'a str,
    dates: &mut ClfDates,
    agent: Option<&str>,
    same_agent: &mut bool,
) -> Option<(RequestView<'a>, &'a str, &'a str)> {
    let open = find_space_bracket(line.as_bytes())?;
    // `vhost:port host ident user` or `host ident user`: two or three spaces.
    let mut spaces = [0usize; 2];
    let mut n = 0;
    for (i, &c) in line.as_bytes()[..open].iter().enumerate() {
        if c == b' ' {
            if n < 2 {
                spaces[n] = i;
            }
            n += 1;
            if n > 3 {
                return None;
            }
        }
    }
    let client = match n {
        2 => &line[..spaces[0]],
        3 => &line[spaces[0] + 1..spaces[1]],
        _ => return None,
    };
    let rest = &line[open + 2..];
    // The usual time, its `]` where it ends: no search for it.
    let usual = if clf_time_then_bracket(rest.as_bytes()) {
        dates.parse(&rest[..26]).map(|ts| (26, ts))
    } else {
        None
    };
    let (close, ts) = match usual {
        Some(found) => found,
        None => search_bracket(rest, dates)?,
    };
    let rest = trim_start(&rest[close + 1..]).strip_prefix('"')?;
    let (request, rest) = quoted(rest)?;
    let (method, target) = match memchr::memchr(b' ', request.as_bytes()) {
        Some(i) => {
            let after = &request[i + 1..];
            let t = memchr::memchr(b' ', after.as_bytes()).map_or(after, |j| &after[..j]);
            (&request[..i], t)
        }
        // A bare garbage request line (`"\x16\x03\x01"` from TLS probes).
        None => ("", request),
    };
    // `status bytes tail`, split on the first two spaces.
    let rest = trim_start(rest);
    let (status, after) = split_space(rest);
    let status = parse_status(status);
    let (bytes, tail) = match after {
        Some(a) => {
            let (b, t) = split_space(a);
            (b, t.unwrap_or(""))
        }
        None => ("", ""),
    };
    let tail = trim_start(tail);
    let (referer, tail) = tail
        .strip_prefix('"')
        .and_then(quoted)
        .unwrap_or(("", tail));
    let user_agent = trim_start(tail)
        .strip_prefix('"')
        .and_then(|s| quoted_as(s, agent, same_agent))
        .map_or("", |(ua, _)| ua);
    let (path, query) = match memchr::memchr(b'?', target.as_bytes()) {
        Some(q) => (&target[..q], &target[q + 1..]),
        None => (target, ""),
    };
    Some((
        RequestView {
            ts,
            client,
            method,
            path,
            query,
            status,
            user_agent,
        },
        bytes,
        referer,
    ))
}

/// Whether `b` starts with a time of the shape [`ClfDates::parse`] reads by position
/// (`dd/Mon/yyyy:hh:mm:ss +zzzz`), then `]`. When that parse succeeds, every byte it read
/// is a digit, a month letter, a sign or a separator it checked, and the two `:` it does not
/// check are checked here: no `]` before the 27th byte, so that is the first one.
fn clf_time_then_bracket(b: &[u8]) -> bool {
    b.len() > 26
        && b[26] == b']'
        && b[2] == b'/'
        && b[6] == b'/'
        && b[11] == b':'
        && b[20] == b' '
        && b[14] != b']'
        && b[17] != b']'
}

/// The first `]` of `rest` and the time before it.
fn search_bracket(rest: &str, dates: &mut ClfDates) -> Option<(usize, DateTime<Utc>)> {
    let close = memchr::memchr(b']', rest.as_bytes())?;
    Some((close, dates.parse(&rest[..close])?))
}

/// Up to the first space, and what follows it (as the first two items of `splitn(_, ' ')`).
fn split_space(s: &str) -> (&str, Option<&str>) {
    match memchr::memchr(b' ', s.as_bytes()) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

/// `str::trim_start`, with the usual case (spaces, then a printable ASCII byte) done on
/// bytes; anything else goes to `trim_start` itself.
fn trim_start(s: &str) -> &str {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    match b.get(i) {
        Some(&c) if c >= 0x80 || (c as char).is_whitespace() => s[i..].trim_start(),
        _ => &s[i..],
    }
}

/// The status field as `str::parse::<u16>` reads it (0 when it does not), three digits
/// without the general parser.
fn parse_status(s: &str) -> u16 {
    match s.as_bytes() {
        &[a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => s.parse().unwrap_or(0),
    }
}

/// Position of the first `" ["`, as `str::find(" [")` gives it, without building a
/// substring searcher for every line (that was a visible share of the parse).
fn find_space_bracket(b: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'[', &b[from..]) {
        let at = from + i;
        if at > 0 && b[at - 1] == b' ' {
            return Some(at - 1);
        }
        from = at + 1;
    }
    None
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// `10/Oct/2026:13:55:36 +0900`, by position: this runs once per line, and a format-string
/// parser costs more than the rest of the line (see BENCHMARKS.md).
#[cfg(test)]
fn parse_clf_time(s: &str) -> Option<DateTime<Utc>> {
    ClfDates::default().parse(s)
}

/// The day of the previous CLF time: consecutive lines share it, so the calendar work
/// (month name, day and year digits, date validity) is done once per day and block.
#[derive(Debug, Default)]
pub(crate) struct ClfDates {
    /// `dd/Mon/yyyy` of the last time parsed, and its date (`None`: not a date).
    last: Option<([u8; 11], Option<NaiveDate>)>,
}

impl ClfDates {
    /// As `parse_clf_time_reference` in the tests (test `clf_dates_match_the_reference`).
    fn parse(&mut self, s: &str) -> Option<DateTime<Utc>> {
        let b = s.as_bytes();
        if b.len() != 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[20] != b' ' {
            return DateTime::<FixedOffset>::parse_from_str(s, "%d/%b/%Y:%H:%M:%S %z")
                .ok()
                .map(|t| t.with_timezone(&Utc));
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let mut v = 0u32;
            for &c in b.get(r)? {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u32::from(c - b'0');
            }
            Some(v)
        };
        let day: [u8; 11] = b[..11].try_into().ok()?;
        let date = match self.last {
            Some((d, date)) if d == day => date,
            _ => {
                let date = (|| {
                    let month = MONTHS.iter().position(|m| &b[3..6] == m.as_slice())? as u32 + 1;
                    NaiveDate::from_ymd_opt(num(7..11)? as i32, month, num(0..2)?)
                })();
                self.last = Some((day, date));
                date
            }
        }?;
        let (h, m, sec) = (num(12..14)?, num(15..17)?, num(18..20)?);
        let time = date.and_hms_opt(h, m, sec)?;
        let sign = match b[21] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let offset = sign * i64::from(num(22..24)? * 3600 + num(24..26)? * 60);
        // Within the same UTC day or the one either side (every zone of today's world): the
        // date moves by a day at most, no general date arithmetic.
        let utc = i64::from(h * 3600 + m * 60 + sec) - offset;
        let shifted = match utc {
            0..86_400 => Some((date, utc)),
            -86_400..0 => date.pred_opt().map(|d| (d, utc + 86_400)),
            86_400..172_800 => date.succ_opt().map(|d| (d, utc - 86_400)),
            _ => None,
        };
        if let Some((day, secs)) = shifted {
            let t = u32::try_from(secs)
                .ok()
                .and_then(|s| NaiveTime::from_num_seconds_from_midnight_opt(s, 0));
            if let Some(t) = t {
                return Some(NaiveDateTime::new(day, t).and_utc());
            }
        }
        Some(time.and_utc() - chrono::Duration::seconds(offset))
    }
}

/// Text up to the closing quote (backslash escapes honoured), and what follows.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // Jump to the next quote or backslash (user agents are long).
        i += memchr::memchr2(b'"', b'\\', &b[i..])?;
        match b[i] {
            b'\\' => i += 2,
            _ => return Some((&s[..i], s.get(i + 1..)?)),
        }
    }
    None
}

/// [`quoted`], trying first whether `s` is `earlier` then a quote, where `earlier` is the
/// text of an earlier [`quoted`] (or holds neither quote nor backslash): then the search
/// would stop there too (it passes the same bytes in the same escape state, and a quote
/// right after them was not escaped before, so it is not now). Saves the search over a long
/// user agent repeated from the line before; test `quoted_as_matches_quoted`.
/// `same` is set when it is.
fn quoted_as<'s>(s: &'s str, earlier: Option<&str>, same: &mut bool) -> Option<(&'s str, &'s str)> {
    if let Some(e) = earlier {
        let n = e.len();
        if s.as_bytes().get(n) == Some(&b'"') && s.as_bytes().starts_with(e.as_bytes()) {
            *same = true;
            return Some((s.get(..n)?, s.get(n + 1..)?));
        }
    }
    quoted(s)
}

/// Parses a W3C line given the `#Fields:` names.
pub(crate) fn parse_w3c(line: &str, fields: &[String]) -> Option<HttpRequest> {
    let values: Vec<&str> = line.split(' ').collect();
    let get = |name: &str| {
        fields
            .iter()
            .position(|f| f == name)
            .and_then(|i| values.get(i).copied())
            .filter(|v| *v != "-")
    };
    let ts = NaiveDateTime::parse_from_str(
        &format!("{} {}", get("date")?, get("time")?),
        "%Y-%m-%d %H:%M:%S",
    )
    .ok()?
    .and_utc();
    let plus = |v: &str| v.replace('+', " ");
    Some(HttpRequest {
        ts,
        client: get("c-ip")?.to_owned(),
        method: get("cs-method").unwrap_or("").to_owned(),
        path: get("cs-uri-stem").unwrap_or("/").to_owned(),
        query: get("cs-uri-query").unwrap_or("").to_owned(),
        status: get("sc-status").and_then(|v| v.parse().ok()).unwrap_or(0),
        bytes: get("sc-bytes").and_then(|v| v.parse().ok()).unwrap_or(0),
        referer: get("cs(Referer)").map(plus).unwrap_or_default(),
        user_agent: get("cs(User-Agent)").map(plus).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLF time parser before the per-day memo, kept as its specification.
    pub(super) fn parse_clf_time_reference(s: &str) -> Option<DateTime<Utc>> {
        let b = s.as_bytes();
        if b.len() != 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[20] != b' ' {
            return DateTime::<FixedOffset>::parse_from_str(s, "%d/%b/%Y:%H:%M:%S %z")
                .ok()
                .map(|t| t.with_timezone(&Utc));
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let mut v = 0u32;
            for &c in b.get(r)? {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u32::from(c - b'0');
            }
            Some(v)
        };
        let month = MONTHS.iter().position(|m| &b[3..6] == m.as_slice())? as u32 + 1;
        let date = chrono::NaiveDate::from_ymd_opt(num(7..11)? as i32, month, num(0..2)?)?;
        let time = date.and_hms_opt(num(12..14)?, num(15..17)?, num(18..20)?)?;
        let sign = match b[21] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let offset = sign * i64::from(num(22..24)? * 3600 + num(24..26)? * 60);
        Some(time.and_utc() - chrono::Duration::seconds(offset))
    }

    /// Times across day, month, year and leap-day borders, with zones either side of UTC,
    /// invalid dates and times, and mangled fields, parsed in one running memo: each gives
    /// what the memo-less parser gives.
    #[test]
    fn clf_dates_match_the_reference() {
        let mut times = Vec::new();
        for day in [
            "28/Feb/2024",
            "29/Feb/2024",
            "29/Feb/2026",
            "31/Dec/2025",
            "01/Jan/2026",
            "31/Apr/2026",
            "10/Oct/2026",
            "10/oct/2026",
            "00/Jan/2026",
            "01/Jan/0000",
            "31/Dec/9999",
            "1x/Jan/2026",
        ] {
            for time in [
                "00:00:00", "00:29:59", "01:30:00", "12:00:00", "22:59:59", "23:59:59", "24:00:00",
                "23:60:00", "23:59:60", "2x:00:00",
            ] {
                for zone in [
                    "+0000", "+0900", "-0130", "+1400", "-1200", "+0059", "+2359", "-2359",
                    "+2400", "+9999", "-9999", "*0900", "+09x0",
                ] {
                    times.push(format!("{day}:{time} {zone}"));
                }
            }
        }
        times.extend(
            [
                "10/Oct/2026:13:55:36 +09:00",
                "10/Oct/2026:13:55:36",
                "",
                "10/Oct/2026 13:55:36 +0900",
            ]
            .map(String::from),
        );
        let mut memo = ClfDates::default();
        for t in times.iter().chain(times.iter().rev()) {
            assert_eq!(memo.parse(t), parse_clf_time_reference(t), "{t}");
        }
    }

    /// The `str`-splitting parser the byte-wise one replaced, kept as its specification.
    pub(super) fn parse_combined_reference(line: &str) -> Option<(RequestView<'_>, u64, &str)> {
        let open = line.find(" [")?;
        let mut head = line[..open].split(' ');
        let (a, b) = (head.next()?, head.next()?);
        let client = match (head.next(), head.next(), head.next()) {
            (Some(_), None, _) => a,
            (Some(_), Some(_), None) => b,
            _ => return None,
        };
        let rest = &line[open + 2..];
        let close = rest.find(']')?;
        let ts = parse_clf_time(&rest[..close])?;
        let rest = rest[close + 1..].trim_start().strip_prefix('"')?;
        let (request, rest) = quoted(rest)?;
        let mut rp = request.splitn(3, ' ');
        let (method, target) = match (rp.next(), rp.next()) {
            (Some(m), Some(t)) => (m, t),
            (Some(m), None) => ("", m),
            _ => return None,
        };
        let mut fields = rest.trim_start().splitn(3, ' ');
        let status = fields.next()?.parse().unwrap_or(0);
        let bytes = fields.next().and_then(|b| b.parse().ok()).unwrap_or(0);
        let tail = fields.next().unwrap_or("").trim_start();
        let (referer, tail) = tail
            .strip_prefix('"')
            .and_then(quoted)
            .unwrap_or(("", tail));
        let user_agent = tail
            .trim_start()
            .strip_prefix('"')
            .and_then(quoted)
            .map_or("", |(ua, _)| ua);
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Some((
            RequestView {
                ts,
                client,
                method,
                path,
                query,
                status,
                user_agent,
            },
            bytes,
            referer,
        ))
    }

    /// Lines of every shape the parser meets (and mangled ones): the byte-wise split gives
    /// exactly what the `str` split gives, field by field.
    #[test]
    fn byte_split_matches_str_split() {
        let base = [
            r#"203.0.113.9 - - [10/Oct/2026:13:55:36 +0900] "GET /index.php?id=1%27 HTTP/1.1" 200 2326 "-" "sqlmap/1.7""#,
            r#"www.example.jp:443 198.51.100.4 - - [10/Oct/2026:13:55:36 +0000] "POST /x.php HTTP/1.1" 200 - "-" "-""#,
            r#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0900] "\x16\x03\x01" 400 0 "-" "-""#,
            r#"1.2.3.4 - bob [10/Oct/2026:13:55:36 -0130]   "GET  /a?b?c HTTP/1.0"  +200  12  "http://r/\"q" 	"Mozilla/5.0 (日本)""#,
            r#"2001:db8::1 - - [10/Oct/2026:13:55:36 +0900] "GET /é?x=ü HTTP/1.1" 404 0"#,
            r#"a b c d e [10/Oct/2026:13:55:36 +0900] "GET / HTTP/1.1" 200 1 "-" "-""#,
            r#"a [10/Oct/2026:13:55:36 +0900] "GET / HTTP/1.1" 200 1 "-" "-""#,
            r#"a  b [10/Oct/2026:13:55:36 +0900] "GET / HTTP/1.1" 200 1 "-" "-""#,
            r#"x - - [1/Oct/2026:13:55:36 +0900] "GET / HTTP/1.1" 200 1 "-" "-""#,
            r#"x - - [10/Oct/2026:13:55:36 +0900]"GET / HTTP/1.1"200 1"#,
            r#"x - - [10/Oct/2026:13:55:36 +0900] "GET / HTTP/1.1"  99999 1 "-""#,
            "x - - [10/Oct/2026:13:55:36 +0900]\u{a0}\"GET / HTTP/1.1\" 2000 \u{3000}\"r\" \u{85}\"ua\"",
            "x - - [10/Oct/2026:13:55:36 +0900] \"GET / HTTP/1.1\" 200\t1 \"r\"\t\"ua\"",
            "",
            "[",
            " [",
            "a b [c]",
        ];
        let mut lines: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        // Every prefix of each line, and each line with one byte position replaced by each
        // separator the parser looks at.
        for s in base {
            for (i, _) in s.char_indices() {
                lines.push(s[..i].to_owned());
                for c in [' ', '"', '[', ']', '?', '\\', '\t', 'é'] {
                    let mut t = s.to_owned();
                    let n = s[i..].chars().next().map_or(0, char::len_utf8);
                    t.replace_range(i..i + n, c.encode_utf8(&mut [0; 4]));
                    lines.push(t);
                }
            }
        }
        for l in &lines {
            assert_eq!(parse_combined_view(l), parse_combined_reference(l), "{l:?}");
        }
        // The same with one day memo across all the lines (as a block parses them).
        let mut dates = ClfDates::default();
        for l in &lines {
            let got = parse_combined_parts(l, &mut dates, None, &mut false)
                .map(|(v, b, r)| (v, b.parse().unwrap_or(0), r));
            assert_eq!(got, parse_combined_reference(l), "{l:?}");
        }
        assert!(lines.len() > 5_000, "{}", lines.len());
    }

    /// With the text of any earlier quoted field as the guess, `quoted_as` gives what `quoted`
    /// gives: on quoted fields with escapes, quotes and backslashes everywhere, each taken
    /// from every position and guessed from every quoted text met (sharing prefixes, ending
    /// in a backslash); and whole lines guessed from the previous line's agent.
    #[test]
    fn quoted_as_matches_quoted() {
        let mut texts: Vec<String> = vec![
            String::new(),
            "Mozilla/5.0".into(),
            r"Mozilla/5.0\\".into(),
            r#"a\"b"#.into(),
            "Mozilla/5.0 (日本)".into(),
        ];
        // Each guess is what `quoted` can give (a text ending in an unpaired backslash is
        // not: its backslash would escape the quote).
        for e in &texts {
            assert_eq!(
                quoted(&format!("{e}\" x")),
                Some((e.as_str(), " x")),
                "{e:?}"
            );
        }
        let mut inputs: Vec<String> = Vec::new();
        let lines = [
            r#""Mozilla/5.0" x"#,
            r#""Mozilla/5.0\" x"#,
            r#""Mozilla/5.0\"" x"#,
            r#""Mozilla/5.0\\" x"#,
            r#""a\"b" x"#,
            r#""Mozilla/5.0 (日本)""#,
            r#""Mozilla/5.0"#,
            r#""""#,
            r#""\"#,
            r#""a\"b\"c" "d""#,
        ];
        for l in lines {
            for (i, _) in l.char_indices() {
                let s = &l[i..];
                inputs.push(s.to_owned());
                if let Some((q, _)) = quoted(s) {
                    texts.push(q.to_owned());
                }
                for c in ['"', '\\', ' '] {
                    let mut t = l.to_owned();
                    let n = l[i..].chars().next().map_or(0, char::len_utf8);
                    t.replace_range(i..i + n, c.encode_utf8(&mut [0; 4]));
                    if let Some((q, _)) = quoted(&t[1..]) {
                        texts.push(q.to_owned());
                    }
                    inputs.push(t[1..].to_owned());
                }
            }
        }
        let mut tried = 0;
        let mut hits = 0;
        for s in &inputs {
            let mut same = false;
            assert_eq!(quoted_as(s, None, &mut same), quoted(s), "{s:?}");
            assert!(!same);
            for e in &texts {
                let mut same = false;
                let got = quoted_as(s, Some(e), &mut same);
                assert_eq!(got, quoted(s), "{s:?} {e:?}");
                // Set exactly when the text is the guess (it may be without the shortcut).
                assert!(!same || got.is_some_and(|(q, _)| q == e), "{s:?} {e:?}");
                tried += 1;
                hits += usize::from(s.starts_with(e.as_str()) && s[e.len()..].starts_with('"'));
            }
        }
        assert!(tried > 10_000 && hits > 500, "{tried} {hits}");
        // Whole lines parsed with the previous line's agent as the guess.
        let demo = crate::demo::attack_access_log(3, &crate::demo::AttackTimeline::demo());
        let mut prev: Option<String> = None;
        let mut same = 0;
        for l in demo.lines().take(2_000) {
            let mut hit = false;
            let guessed =
                parse_combined_parts(l, &mut ClfDates::default(), prev.as_deref(), &mut hit);
            assert_eq!(
                guessed,
                parse_combined_parts(l, &mut ClfDates::default(), None, &mut false),
                "{l}"
            );
            let ua = guessed.map(|(v, _, _)| v.user_agent.to_owned());
            assert_eq!(hit, ua.is_some() && ua == prev, "{l}");
            same += usize::from(hit);
            prev = ua;
        }
        assert!(same > 1_000, "{same}");
    }

    #[test]
    fn space_bracket_search_matches_str_find() {
        for s in [
            "",
            "[",
            " [",
            "a [b",
            "[a [b",
            "a[b c [d",
            "a[b",
            "[[ [",
            "日本 [x",
        ] {
            assert_eq!(find_space_bracket(s.as_bytes()), s.find(" ["), "{s:?}");
        }
    }

    #[test]
    fn combined_and_w3c() {
        let r = parse_combined(r#"203.0.113.9 - - [10/Oct/2026:13:55:36 +0900] "GET /index.php?id=1%27 HTTP/1.1" 200 2326 "-" "sqlmap/1.7""#).unwrap();
        assert_eq!(r.ts.to_rfc3339(), "2026-10-10T04:55:36+00:00");
        assert_eq!(
            (r.path.as_str(), r.query.as_str()),
            ("/index.php", "id=1%27")
        );
        assert_eq!(r.user_agent, "sqlmap/1.7");
        let v = parse_combined(r#"www.example.jp:443 198.51.100.4 - - [10/Oct/2026:13:55:36 +0000] "POST /x.php HTTP/1.1" 200 - "-" "-""#).unwrap();
        assert_eq!(v.client, "198.51.100.4");
        let fields: Vec<String> = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken".split(' ').map(String::from).collect();
        let w = parse_w3c("2026-10-10 04:55:36 10.0.0.5 GET /default.aspx q=1 443 - 198.51.100.4 Mozilla/5.0+(Windows) - 200 0 0 15", &fields).unwrap();
        assert_eq!(w.user_agent, "Mozilla/5.0 (Windows)");
        assert_eq!(w.status, 200);
    }
}
