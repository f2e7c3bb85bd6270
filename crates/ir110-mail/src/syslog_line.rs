//! The syslog envelope of MTA lines: time, host, program, message.
//!
//! BSD syslog (`Oct 11 22:14:15 host prog[pid]: msg`) has neither year nor zone: the year
//! comes from the caller (the file's modification year) and advances when the month wraps
//! from December to January; the time is local to the server (`local_utc_offset_secs`).
//! RFC 3339 timestamps (`2026-10-11T22:14:15.123+09:00 host prog[pid]: msg`) carry both.

use chrono::{DateTime, NaiveDate, Utc};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One parsed syslog line.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyslogLine<'a> {
    pub(crate) ts: DateTime<Utc>,
    pub(crate) program: &'a str,
    pub(crate) message: &'a str,
}

/// Year tracking for BSD timestamps.
#[derive(Debug, Clone)]
pub(crate) struct YearClock {
    year: i32,
    last_month: u32,
    offset_secs: i32,
    /// When the year comes from the file's last write: a first line in a later month than
    /// that belongs to the year before (a January log starting in December).
    not_after: Option<u32>,
}

impl YearClock {
    pub(crate) fn new(year: i32, offset_secs: i32) -> Self {
        YearClock {
            year,
            last_month: 0,
            offset_secs,
            not_after: None,
        }
    }

    /// The year was taken from a write in `month`: lines of a later month on first sight are
    /// from the year before.
    pub(crate) fn not_after_month(mut self, month: u32) -> Self {
        self.not_after = Some(month);
        self
    }

    /// Parses the envelope; `None` for lines that are not syslog. (The reader applies the
    /// same steps to a block's items: [`split_envelope`], [`observe`](Self::observe) and the
    /// time of day.)
    #[cfg(test)]
    pub(crate) fn parse<'a>(&mut self, line: &'a str) -> Option<SyslogLine<'a>> {
        let env = split_envelope(line)?;
        if let Stamp::Bsd(b) = env.stamp {
            self.observe(b.month);
        }
        let ts = self.resolve(&env.stamp)?;
        let (program, message) = env.rest?;
        Some(SyslogLine {
            ts,
            program,
            message,
        })
    }

    /// Moves the year on for a BSD line of `month` (every such line does, even one whose
    /// date turns out impossible or whose rest does not parse).
    pub(crate) fn observe(&mut self, month: u32) {
        if self.last_month == 0 && self.not_after.is_some_and(|m| month > m) {
            self.year -= 1;
        }
        if self.last_month == 12 && month == 1 {
            self.year += 1;
        }
        self.last_month = month;
    }

    /// The time of a stamp in the current year; `None` for an impossible date.
    pub(crate) fn resolve(&self, stamp: &Stamp) -> Option<DateTime<Utc>> {
        match stamp {
            Stamp::At(ts) => Some(*ts),
            Stamp::Bsd(b) => {
                let naive = NaiveDate::from_ymd_opt(self.year, b.month, b.day)?
                    .and_hms_opt(b.hour, b.minute, b.second)?;
                Some(naive.and_utc() - chrono::Duration::seconds(i64::from(self.offset_secs)))
            }
        }
    }

    /// The year BSD stamps are read in now.
    pub(crate) fn year(&self) -> i32 {
        self.year
    }

    /// Offset east of UTC of BSD stamps.
    pub(crate) fn offset_secs(&self) -> i32 {
        self.offset_secs
    }
}

/// A BSD stamp as written: no year, local time (values as parsed, not yet checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BsdStamp {
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
}

/// The stamp of a line: BSD (the year comes from the clock) or a complete time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    Bsd(BsdStamp),
    At(DateTime<Utc>),
}

/// What a line's envelope gives without the year clock: the stamp, and the program and
/// message when the rest of the envelope is there too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Envelope<'a> {
    pub(crate) stamp: Stamp,
    pub(crate) rest: Option<(&'a str, &'a str)>,
}

/// The canonical BSD stamp `Mmm dd hh:mm:ss ` (day space-padded), read byte by byte; `None`
/// when the line is written any other way (then the general reader decides).
fn canonical_bsd(b: &[u8]) -> Option<BsdStamp> {
    if b.len() <= 16 || b[3] != b' ' || b[6] != b' ' || b[15] != b' ' {
        return None;
    }
    if b[9] != b':' || b[12] != b':' {
        return None;
    }
    let month = match &b[..3] {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let digit = |c: u8| c.is_ascii_digit().then(|| u32::from(c - b'0'));
    let day = match b[4] {
        b' ' => digit(b[5])?,
        c => digit(c)? * 10 + digit(b[5])?,
    };
    let two = |i: usize| Some(digit(b[i])? * 10 + digit(b[i + 1])?);
    Some(BsdStamp {
        month,
        day,
        hour: two(7)?,
        minute: two(10)?,
        second: two(13)?,
    })
}

/// Splits the envelope of a line (no state: the year is the clock's business).
pub(crate) fn split_envelope(line: &str) -> Option<Envelope<'_>> {
    let line = match line.strip_prefix('<') {
        Some(rest) => &rest[rest.find('>')? + 1..],
        None => line,
    };
    let (stamp, rest) = if let Some(b) = canonical_bsd(line.as_bytes()) {
        // Byte 16 follows an ASCII space, so it is a character boundary.
        (Stamp::Bsd(b), line.get(16..))
    } else if line.len() > 15 && MONTHS.contains(&line.get(..3)?) {
        let month = MONTHS.iter().position(|m| *m == &line[..3])? as u32 + 1;
        let day: u32 = line.get(4..6)?.trim().parse().ok()?;
        let hms = line.get(7..15)?;
        let mut parts = hms.split(':').map(|p| p.parse::<u32>().ok());
        let (hour, minute, second) = (parts.next()??, parts.next()??, parts.next()??);
        let b = BsdStamp {
            month,
            day,
            hour,
            minute,
            second,
        };
        (Stamp::Bsd(b), line.get(16..))
    } else {
        let (stamp, rest) = line.split_once(' ')?;
        let ts = DateTime::parse_from_rfc3339(stamp)
            .ok()?
            .with_timezone(&Utc);
        (Stamp::At(ts), Some(rest))
    };
    let rest = rest.and_then(|rest| {
        // `split_once(' ')`: the host name is short, a byte loop beats a vector search.
        let space = rest.bytes().position(|b| b == b' ')?;
        let rest = &rest[space + 1..];
        let (tag, message) = crate::mta_event::split_colon_space(rest)?;
        // `split('[').next()`, by bytes.
        let program = match tag.bytes().position(|b| b == b'[') {
            Some(open) => &tag[..open],
            None => tag,
        };
        Some((program, message))
    });
    Some(Envelope { stamp, rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsd_and_iso() {
        let mut c = YearClock::new(2026, 9 * 3600);
        let l = c
            .parse("Dec 31 23:59:59 mail postfix/smtpd[12]: connect from x")
            .unwrap();
        assert_eq!(l.program, "postfix/smtpd");
        assert_eq!(l.ts.to_rfc3339(), "2026-12-31T14:59:59+00:00");
        let l = c
            .parse("Jan  1 00:00:01 mail postfix/qmgr[3]: ABC: removed")
            .unwrap();
        assert_eq!(l.ts.to_rfc3339(), "2026-12-31T15:00:01+00:00");
        let l = c
            .parse("2026-10-11T22:14:15.5+09:00 mail postfix/smtp[9]: ABC: to=<a@b>")
            .unwrap();
        assert_eq!(l.message, "ABC: to=<a@b>");
        assert!(c.parse("not syslog").is_none());
        // Written in January 2027, starting in December: December 2026.
        let mut w = YearClock::new(2027, 0).not_after_month(1);
        let l = w
            .parse("Dec 30 10:00:00 mail postfix/qmgr[3]: ABC: removed")
            .unwrap();
        assert_eq!(l.ts.to_rfc3339(), "2026-12-30T10:00:00+00:00");
        let l = w
            .parse("Jan  2 10:00:00 mail postfix/qmgr[3]: ABC: removed")
            .unwrap();
        assert_eq!(l.ts.to_rfc3339(), "2027-01-02T10:00:00+00:00");
        // A multi-byte character where the host should start is not a panic.
        assert!(c.parse("Jan 13 10:00:00éhost prog: x").is_none());
    }
}

#[cfg(test)]
mod split_tests {
    use super::*;

    /// The clock as written before the envelope was split from the year (the reference).
    struct ReferenceClock(YearClock);

    impl ReferenceClock {
        fn parse<'a>(&mut self, line: &'a str) -> Option<SyslogLine<'a>> {
            let c = &mut self.0;
            let line = match line.strip_prefix('<') {
                Some(rest) => &rest[rest.find('>')? + 1..],
                None => line,
            };
            let (ts, rest) = if line.len() > 15 && MONTHS.contains(&line.get(..3)?) {
                let month = MONTHS.iter().position(|m| *m == &line[..3])? as u32 + 1;
                let day: u32 = line.get(4..6)?.trim().parse().ok()?;
                let hms = line.get(7..15)?;
                let mut parts = hms.split(':').map(|p| p.parse::<u32>().ok());
                let (h, mi, s) = (parts.next()??, parts.next()??, parts.next()??);
                if c.last_month == 0 && c.not_after.is_some_and(|m| month > m) {
                    c.year -= 1;
                }
                if c.last_month == 12 && month == 1 {
                    c.year += 1;
                }
                c.last_month = month;
                let naive = NaiveDate::from_ymd_opt(c.year, month, day)?.and_hms_opt(h, mi, s)?;
                let ts = naive.and_utc() - chrono::Duration::seconds(i64::from(c.offset_secs));
                (ts, line.get(16..)?)
            } else {
                let (stamp, rest) = line.split_once(' ')?;
                let ts = DateTime::parse_from_rfc3339(stamp)
                    .ok()?
                    .with_timezone(&Utc);
                (ts, rest)
            };
            let (_host, rest) = rest.split_once(' ')?;
            let (tag, message) = crate::mta_event::split_colon_space(rest)?;
            let program = tag.split('[').next()?;
            Some(SyslogLine {
                ts,
                program,
                message,
            })
        }
    }

    /// Canonical lines with random characters written over their envelope.
    pub(crate) fn mangled_lines(count: usize) -> Vec<String> {
        let templates = [
            "Dec 31 23:59:59 mail postfix/smtpd[12]: connect from x",
            "Jan  1 00:00:01 mail postfix/qmgr[3]: ABC: removed",
            "Feb 28 10:00:00 mx sm-mta[1]: q: from=<a@b>",
            "Feb 29 10:00:00 mx postfix/qmgr[1]: q: removed",
            "<13>Mar  3 01:02:03 h p[1]: m",
            "2026-10-11T22:14:15.5+09:00 mail postfix/smtp[9]: ABC: to=<a@b>",
            "2026-12-31T23:59:59Z h p: m",
            "Nov 30 24:00:00 h p: m",
        ];
        let alphabet = [
            "0", "1", "2", "9", " ", ":", "+", "-", "J", "a", "n", "D", "e", "c", "é", "<", ">",
            "T", "Z", ".", "[", "\u{feff}",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut out = Vec::new();
        for i in 0..count {
            let mut line = templates[i % templates.len()].to_owned();
            for _ in 0..(next() % 3) {
                let at = (next() % 20) as usize;
                if at < line.len() && line.is_char_boundary(at) && line.is_char_boundary(at + 1) {
                    let ch = alphabet[(next() % alphabet.len() as u64) as usize];
                    line.replace_range(at..at + 1, ch);
                }
            }
            out.push(line);
        }
        out
    }

    #[test]
    fn the_split_clock_reads_as_the_one_written_before() {
        for not_after in [None, Some(1), Some(6), Some(12)] {
            let clock = || {
                let c = YearClock::new(2026, 9 * 3600);
                match not_after {
                    Some(m) => c.not_after_month(m),
                    None => c,
                }
            };
            let (mut new, mut old) = (clock(), ReferenceClock(clock()));
            let mut parsed = 0;
            for line in mangled_lines(30_000) {
                let got = new.parse(&line);
                assert_eq!(got, old.parse(&line), "{line:?}");
                assert_eq!(new.year, old.0.year, "{line:?}");
                parsed += usize::from(got.is_some());
            }
            assert!(parsed > 10_000, "{parsed}");
        }
    }
}
