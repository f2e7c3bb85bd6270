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

    /// Parses the envelope; `None` for lines that are not syslog.
    pub(crate) fn parse<'a>(&mut self, line: &'a str) -> Option<SyslogLine<'a>> {
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
            if self.last_month == 0 && self.not_after.is_some_and(|m| month > m) {
                self.year -= 1;
            }
            if self.last_month == 12 && month == 1 {
                self.year += 1;
            }
            self.last_month = month;
            let naive = NaiveDate::from_ymd_opt(self.year, month, day)?.and_hms_opt(h, mi, s)?;
            let ts = naive.and_utc() - chrono::Duration::seconds(i64::from(self.offset_secs));
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
