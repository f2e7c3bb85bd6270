//! Compiled value matchers: what a rule's `field|modifiers: values` becomes.
//!
//! Matching never allocates. Case-insensitive matching (Sigma's default) compares ASCII case-
//! folded bytes against a pattern lowered once at compile time; a pattern with non-ASCII letters
//! or `?` wildcards becomes a Unicode case-insensitive regex instead. Lists of many
//! case-insensitive `contains` values share one Aho-Corasick automaton. Numbers in records are
//! rendered into a stack buffer when a string test needs them.

use std::io::Write as _;
use std::net::IpAddr;

use aho_corasick::AhoCorasick;
use regex::Regex;

use crate::modifier::Tok;
use crate::record::{FieldValue, Record};

/// The shape of a wildcard-free or `*`-only pattern.
#[derive(Debug, Clone)]
pub(crate) enum StrKind {
    Exact(Box<[u8]>),
    Prefix(Box<[u8]>),
    Suffix(Box<[u8]>),
    Contains(Box<[u8]>),
    /// `first*mid1*mid2*last`, each part possibly empty; `first` anchored at the start and
    /// `last` at the end.
    Glob {
        first: Box<[u8]>,
        middle: Vec<Box<[u8]>>,
        last: Box<[u8]>,
    },
    Regex(Regex),
}

/// One string test.
#[derive(Debug, Clone)]
pub(crate) struct StrTest {
    pub kind: StrKind,
    /// Compare bytes exactly (`cased`, or a case-insensitive regex that folds by itself).
    pub cased: bool,
}

fn eq(a: &[u8], b: &[u8], cased: bool) -> bool {
    if cased {
        a == b
    } else {
        a.eq_ignore_ascii_case(b)
    }
}

/// Finds `needle` (already lower-case unless `cased`) in `hay` from `from`; returns the end.
fn find(hay: &[u8], needle: &[u8], cased: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    if cased {
        return memchr::memmem::find(hay, needle).map(|i| i + needle.len());
    }
    let first = needle[0];
    let upper = first.to_ascii_uppercase();
    let last_start = hay.len().checked_sub(needle.len())?;
    let mut i = 0;
    while i <= last_start {
        let rel = memchr::memchr2(first, upper, &hay[i..=last_start])?;
        let at = i + rel;
        if hay[at..at + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(at + needle.len());
        }
        i = at + 1;
    }
    None
}

impl StrTest {
    /// Compiles a token string. `cased` keeps case; otherwise ASCII folding or an `(?i)` regex.
    pub fn compile(toks: &[Tok], cased: bool) -> Result<StrTest, regex::Error> {
        let needs_regex = toks.iter().any(|t| match t {
            Tok::One => true,
            Tok::Lit(c) => !cased && !c.is_ascii() && c.to_lowercase().ne(c.to_uppercase()),
            Tok::Any => false,
        });
        if needs_regex {
            let mut re = String::from(if cased { "(?s)^" } else { "(?is)^" });
            for t in toks {
                match t {
                    Tok::Lit(c) => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
                    Tok::Any => re.push_str(".*"),
                    Tok::One => re.push('.'),
                }
            }
            re.push('$');
            return Ok(StrTest {
                kind: StrKind::Regex(build_regex(&re)?),
                cased: true,
            });
        }
        let mut parts: Vec<Vec<u8>> = vec![Vec::new()];
        for t in toks {
            match t {
                Tok::Lit(c) => {
                    let mut buf = [0; 4];
                    let s = c.encode_utf8(&mut buf);
                    if let Some(p) = parts.last_mut() {
                        if cased {
                            p.extend_from_slice(s.as_bytes());
                        } else {
                            p.extend(s.bytes().map(|b| b.to_ascii_lowercase()));
                        }
                    }
                }
                Tok::Any => parts.push(Vec::new()),
                Tok::One => {}
            }
        }
        let n = parts.len();
        let kind = match n {
            1 => StrKind::Exact(parts.remove(0).into()),
            2 if parts[1].is_empty() => StrKind::Prefix(parts.remove(0).into()),
            2 if parts[0].is_empty() => StrKind::Suffix(parts.remove(1).into()),
            3 if parts[0].is_empty() && parts[2].is_empty() => {
                StrKind::Contains(parts.remove(1).into())
            }
            _ => {
                let last = parts.pop().unwrap_or_default().into();
                let first = parts.remove(0).into();
                StrKind::Glob {
                    first,
                    middle: parts
                        .into_iter()
                        .filter(|p| !p.is_empty())
                        .map(Into::into)
                        .collect(),
                    last,
                }
            }
        };
        Ok(StrTest { kind, cased })
    }

    /// Whether `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        let h = s.as_bytes();
        let c = self.cased;
        match &self.kind {
            StrKind::Exact(p) => eq(h, p, c),
            StrKind::Prefix(p) => h.len() >= p.len() && eq(&h[..p.len()], p, c),
            StrKind::Suffix(p) => h.len() >= p.len() && eq(&h[h.len() - p.len()..], p, c),
            StrKind::Contains(p) => find(h, p, c).is_some(),
            StrKind::Glob {
                first,
                middle,
                last,
            } => {
                if h.len() < first.len() + last.len()
                    || !eq(&h[..first.len()], first, c)
                    || !eq(&h[h.len() - last.len()..], last, c)
                {
                    return false;
                }
                let mut rest = &h[first.len()..h.len() - last.len()];
                for m in middle {
                    match find(rest, m, c) {
                        Some(end) => rest = &rest[end..],
                        None => return false,
                    }
                }
                true
            }
            StrKind::Regex(r) => r.is_match(s),
        }
    }

    /// The case-insensitive `contains` needle, if this test is one (for automaton merging).
    fn ci_contains(&self) -> Option<&[u8]> {
        match &self.kind {
            StrKind::Contains(p) if !self.cased => Some(p),
            _ => None,
        }
    }
}

impl ValueTest {
    /// Substrings (lower-case) of which a matching value must contain at least one, or `None`
    /// when the test has no such necessary substring (regex, numbers, null, …).
    pub fn needles(&self) -> Option<Vec<&[u8]>> {
        match self {
            ValueTest::Str(t) => t.needle().map(|n| vec![n]),
            ValueTest::AnyStr(ts) => ts.iter().map(StrTest::needle).collect(),
            ValueTest::ContainsAny(_, ns) => Some(ns.iter().map(|n| &**n).collect()),
            _ => None,
        }
    }
}

impl StrTest {
    /// The longest literal part of the pattern, which every match contains.
    fn needle(&self) -> Option<&[u8]> {
        let n: &[u8] = match &self.kind {
            StrKind::Exact(p) | StrKind::Prefix(p) | StrKind::Suffix(p) | StrKind::Contains(p) => p,
            StrKind::Glob {
                first,
                middle,
                last,
            } => std::iter::once(first)
                .chain(middle.iter())
                .chain(std::iter::once(last))
                .max_by_key(|p| p.len())
                .map(|p| &**p)?,
            StrKind::Regex(_) => return None,
        };
        (!n.is_empty()).then_some(n)
    }
}

/// Builds a regex with bounded size (rules are untrusted input).
pub(crate) fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(4 << 20)
        .dfa_size_limit(2 << 20)
        .build()
}

/// A numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// An IP network for `cidr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    /// Parses `a.b.c.d/n`, `x::/n` or a bare address.
    pub fn parse(s: &str) -> Option<Net> {
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|&p| p <= max)?,
            None => max,
        };
        Some(Net { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        // IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) as logged by Windows count as IPv4.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The part of a timestamp a time modifier compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl TimePart {
    fn of(self, t: &chrono::NaiveDateTime) -> i64 {
        use chrono::{Datelike, Timelike};
        match self {
            TimePart::Minute => i64::from(t.minute()),
            TimePart::Hour => i64::from(t.hour()),
            TimePart::Day => i64::from(t.day()),
            TimePart::Week => i64::from(t.iso_week().week()),
            TimePart::Month => i64::from(t.month()),
            TimePart::Year => i64::from(t.year()),
        }
    }
}

/// Reads a timestamp as logs write it: RFC 3339 (`2024-01-02T03:04:05.678Z`, taken in UTC) or
/// Sysmon's `2024-01-02 03:04:05.678`.
fn parse_time(s: &str) -> Option<chrono::NaiveDateTime> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
}

/// How a `fieldref` compares the two fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefKind {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
}

/// The compiled test for one rule value.
#[derive(Debug, Clone)]
pub(crate) enum ValueTest {
    /// One string pattern.
    Str(StrTest),
    /// Any of several patterns (one value expanded by windash, base64offset, expand, …).
    AnyStr(Vec<StrTest>),
    /// Any of many case-insensitive substrings (merged from a value list).
    ContainsAny(AhoCorasick, Vec<Box<[u8]>>),
    /// `field: null`: absent, null or empty.
    Null,
    /// `field|exists: true/false`.
    Exists(bool),
    /// `gt`/`gte`/`lt`/`lte`.
    Num(Cmp, f64),
    /// `cidr`.
    Cidr(Net),
    /// `fieldref` and Hayabusa's `equalsfield`/`endswithfield`.
    FieldRef {
        other: Box<str>,
        kind: RefKind,
        cased: bool,
    },
    /// A part of a timestamp value equals a number (`minute`, `hour`, `day`, `week`, `month`,
    /// `year` modifiers).
    TimePart(TimePart, i64),
    /// A value that can never match (an unresolved placeholder).
    Never,
}

/// Writes a number as text into a stack buffer so string tests can see it.
struct NumBuf {
    buf: [u8; 40],
    len: usize,
}

impl NumBuf {
    fn of(v: &FieldValue<'_>) -> Option<NumBuf> {
        let mut nb = NumBuf {
            buf: [0; 40],
            len: 0,
        };
        let mut cur = std::io::Cursor::new(&mut nb.buf[..]);
        let ok = match v {
            FieldValue::Int(i) => write!(cur, "{i}").is_ok(),
            FieldValue::UInt(u) => write!(cur, "{u}").is_ok(),
            FieldValue::Float(f) => write!(cur, "{f}").is_ok(),
            FieldValue::Bool(b) => write!(cur, "{b}").is_ok(),
            _ => false,
        };
        nb.len = usize::try_from(cur.position()).unwrap_or(0);
        ok.then_some(nb)
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

fn as_number(v: &FieldValue<'_>) -> Option<f64> {
    match v {
        FieldValue::Int(i) => Some(*i as f64),
        FieldValue::UInt(u) => Some(*u as f64),
        FieldValue::Float(f) => Some(*f),
        FieldValue::Str(s) => {
            let s = s.trim();
            if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                u64::from_str_radix(hex, 16).ok().map(|u| u as f64)
            } else {
                s.parse().ok()
            }
        }
        _ => None,
    }
}

impl ValueTest {
    /// Whether a string matches (for string-like tests).
    fn str_match(&self, s: &str) -> bool {
        match self {
            ValueTest::Str(t) => t.is_match(s),
            ValueTest::AnyStr(ts) => ts.iter().any(|t| t.is_match(s)),
            ValueTest::ContainsAny(ac, _) => ac.is_match(s),
            ValueTest::Cidr(n) => s.trim().parse().is_ok_and(|ip| n.contains(ip)),
            ValueTest::Num(cmp, x) => {
                as_number(&FieldValue::Str(s)).is_some_and(|v| compare(*cmp, v, *x))
            }
            ValueTest::Null => s.is_empty(),
            ValueTest::TimePart(part, want) => parse_time(s).is_some_and(|t| part.of(&t) == *want),
            ValueTest::Exists(_) | ValueTest::FieldRef { .. } | ValueTest::Never => false,
        }
    }

    /// Whether a field value matches, `v` being `None` when the field is absent.
    pub fn matches(&self, v: Option<FieldValue<'_>>, record: &dyn Record) -> bool {
        match self {
            ValueTest::Exists(want) => return v.is_some() == *want,
            ValueTest::Null => {
                return match v {
                    None | Some(FieldValue::Null) => true,
                    Some(FieldValue::Str(s)) => s.is_empty(),
                    Some(FieldValue::List(l)) => l.is_empty(),
                    _ => false,
                };
            }
            ValueTest::Never => return false,
            ValueTest::FieldRef { other, kind, cased } => {
                let (Some(a), Some(b)) = (v, record.field(other)) else {
                    return false;
                };
                return with_text(&a, |a| {
                    with_text(&b, |b| fieldref_match(a, b, *kind, *cased))
                });
            }
            _ => {}
        }
        let Some(v) = v else { return false };
        match v {
            FieldValue::Str(s) => self.str_match_untrimmed(s),
            FieldValue::List(items) => items
                .iter()
                .any(|i| self.matches(Some(FieldValue::from_json(i)), record)),
            FieldValue::Null => self.str_match(""),
            ref num => {
                if let ValueTest::Num(cmp, x) = self {
                    return as_number(num).is_some_and(|n| compare(*cmp, n, *x));
                }
                NumBuf::of(num).is_some_and(|b| self.str_match(b.as_str()))
            }
        }
    }

    /// Whether this test is satisfied by some string the record yields (keyword search).
    pub fn matches_keyword(&self, s: &str) -> bool {
        self.str_match_untrimmed(s)
    }

    /// [`Self::str_match`] on the value as logged, or else on it without trailing whitespace.
    ///
    /// Windows writes some values with trailing blanks (`LogonProcessName` is `"NtLmSsp "` in
    /// every NTLM logon), and SigmaHQ rules are written against them trimmed
    /// (`LogonProcessName: 'NtLmSsp'`), and `evtx` 0.8.5 (which a Chainsaw build picks up) trims
    /// the end of every string it reads. Trying both keeps those rules firing and still lets a rule
    /// that spells the blank out match the value as logged.
    fn str_match_untrimmed(&self, s: &str) -> bool {
        if self.str_match(s) {
            return true;
        }
        let trimmed = s.trim_end();
        trimmed.len() != s.len() && self.str_match(trimmed)
    }
}

fn compare(cmp: Cmp, v: f64, x: f64) -> bool {
    match cmp {
        Cmp::Gt => v > x,
        Cmp::Gte => v >= x,
        Cmp::Lt => v < x,
        Cmp::Lte => v <= x,
    }
}

fn with_text<R>(v: &FieldValue<'_>, f: impl FnOnce(&str) -> R) -> R {
    match v {
        FieldValue::Str(s) => f(s),
        FieldValue::List(l) => f(l.first().and_then(|x| x.as_str()).unwrap_or("")),
        FieldValue::Null => f(""),
        num => match NumBuf::of(num) {
            Some(b) => f(b.as_str()),
            None => f(""),
        },
    }
}

fn fieldref_match(a: &str, b: &str, kind: RefKind, cased: bool) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match kind {
        RefKind::Equals => eq(a, b, cased),
        RefKind::StartsWith => a.len() >= b.len() && eq(&a[..b.len()], b, cased),
        RefKind::EndsWith => a.len() >= b.len() && eq(&a[a.len() - b.len()..], b, cased),
        RefKind::Contains => {
            if cased {
                memchr::memmem::find(a, b).is_some()
            } else {
                let lower: Vec<u8> = b.to_ascii_lowercase();
                find(a, &lower, false).is_some()
            }
        }
    }
}

/// Merges case-insensitive `contains` tests of an OR list into one automaton when there are
/// enough of them to pay for it.
pub(crate) fn merge_contains(tests: Vec<ValueTest>) -> Vec<ValueTest> {
    const MIN: usize = 4;
    let count = tests
        .iter()
        .filter(|t| matches!(t, ValueTest::Str(s) if s.ci_contains().is_some()))
        .count();
    if count < MIN {
        return tests;
    }
    let mut needles: Vec<Vec<u8>> = Vec::new();
    let mut rest = Vec::new();
    for t in tests {
        match &t {
            ValueTest::Str(s) if s.ci_contains().is_some() => {
                needles.push(s.ci_contains().map(<[u8]>::to_vec).unwrap_or_default());
            }
            _ => rest.push(t),
        }
    }
    match aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&needles)
    {
        // The needles are kept for the rule set's prefilter (see `prefilter.rs`).
        Ok(ac) => rest.insert(
            0,
            ValueTest::ContainsAny(ac, needles.into_iter().map(Into::into).collect()),
        ),
        Err(_) => {
            // Too large for the automaton: keep the individual tests.
            for n in needles {
                rest.push(ValueTest::Str(StrTest {
                    kind: StrKind::Contains(n.into()),
                    cased: false,
                }));
            }
        }
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modifier::parse_sigma_string;

    fn t(p: &str) -> StrTest {
        StrTest::compile(&parse_sigma_string(p), false).unwrap()
    }

    #[test]
    fn shapes_and_case() {
        assert!(t("cmd.exe").is_match("CMD.EXE"));
        assert!(!t("cmd.exe").is_match("xcmd.exe"));
        assert!(t("cmd*").is_match("Cmd /c"));
        assert!(t(r"*\cmd.exe").is_match(r"C:\Windows\CMD.exe"));
        assert!(t("*whoami*").is_match("cmd /c WHOAMI /all"));
        assert!(!t("*whoami*").is_match("who am i"));
        assert!(t(r"C:\\*\foo*bar.exe").is_match(r"c:\x\y\FOO1bar.exe"));
        assert!(
            t(r"C:\*\foo").is_match(r"c:*\foo"),
            "an escaped star is literal"
        );
        assert!(!t(r"C:\\*\foo*bar.exe").is_match(r"c:\foobar.exe"));
        assert!(t("a*a").is_match("aa"));
        assert!(!t("a*a").is_match("a"));
        assert!(t("a?c").is_match("ABC"));
        assert!(!t("a?c").is_match("abbc"));
        assert!(t("ÄRGER*").is_match("ärger xyz"));
        assert!(t("").is_match(""));
        assert!(!t("").is_match("x"));
        let cased = StrTest::compile(&parse_sigma_string("*Foo*"), true).unwrap();
        assert!(cased.is_match("xFooy"));
        assert!(!cased.is_match("xfooy"));
    }

    #[test]
    fn cidr_nets() {
        let n = Net::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(n.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.1.2.3".parse().unwrap()));
        let n6 = Net::parse("fe80::/10").unwrap();
        assert!(n6.contains("fe80::1".parse().unwrap()));
        assert!(!n6.contains("2001::1".parse().unwrap()));
        assert!(
            Net::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(Net::parse("10.0.0.0/33").is_none());
        assert!(Net::parse("x/8").is_none());
    }

    #[test]
    fn numbers_render_for_string_tests() {
        let r = crate::record::JsonRecord::new("windows");
        let v = ValueTest::Str(t("4688"));
        assert!(v.matches(Some(FieldValue::Int(4688)), &r));
        assert!(!v.matches(Some(FieldValue::Int(46880)), &r));
        let g = ValueTest::Num(Cmp::Gt, 10.0);
        assert!(g.matches(Some(FieldValue::Str("0x20")), &r));
        assert!(!g.matches(Some(FieldValue::Int(10)), &r));
        assert!(ValueTest::Num(Cmp::Gte, 10.0).matches(Some(FieldValue::Int(10)), &r));
        let hour = ValueTest::TimePart(TimePart::Hour, 3);
        assert!(hour.matches(Some(FieldValue::Str("2024-05-06 03:04:05.123")), &r));
        assert!(hour.matches(Some(FieldValue::Str("2024-05-06T03:59:00Z")), &r));
        assert!(!hour.matches(Some(FieldValue::Str("2024-05-06T04:00:00Z")), &r));
        assert!(!hour.matches(Some(FieldValue::Str("not a time")), &r));
        assert!(
            ValueTest::TimePart(TimePart::Week, 19)
                .matches(Some(FieldValue::Str("2024-05-06T00:00:00Z")), &r)
        );
        assert!(
            ValueTest::TimePart(TimePart::Year, 2024)
                .matches(Some(FieldValue::Str("2024-05-06T00:00:00+09:00")), &r)
        );
    }

    #[test]
    fn merged_contains() {
        let tests: Vec<ValueTest> = ["a1", "b2", "c3", "d4", "e5"]
            .iter()
            .map(|s| ValueTest::Str(t(&format!("*{s}*"))))
            .collect();
        let m = merge_contains(tests);
        assert_eq!(m.len(), 1);
        assert!(m[0].matches_keyword("xxD4yy"));
        assert!(!m[0].matches_keyword("xxD5yy"));
    }
}
