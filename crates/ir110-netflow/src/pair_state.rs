//! Compact per-pair state: what beacon scoring needs from every connection of one
//! (source, destination, port) pair, without keeping the connections.
//!
//! Memory per pair is fixed-size (~300 bytes) plus 6 bytes per *distinct* interval or size
//! bin (log-scale, 8 bins per doubling, so at most ~250 each and typically a handful for a
//! beacon, whose intervals and sizes cluster) plus one bit per day of the pair's life. A pair
//! seen for 13 months with a 30 %-jittered beacon costs under 1 KiB whatever its connection
//! count.

/// Bins per doubling of a log-scale histogram: 6–12 % wide, fine enough to see 30 % jitter as
/// a cluster of a few bins.
const BINS_PER_OCTAVE: f64 = 8.0;

/// A sparse histogram over log-scale bins: `(bin, count)` sorted by bin.
///
/// Bin 0 holds values below 1 (sub-second intervals, empty payloads).
///
/// New values wait in a small inline buffer and are merged into the sorted bins eight at a
/// time: the bins live on the heap, and touching them for every connection of ~20,000
/// interleaved pairs was the single largest cost of the conn.log path (cache misses). Counts
/// are sums, so the order of merging changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LogHistogram {
    bins: Vec<(u16, u32)>,
    total: u64,
    pending: [u16; PENDING],
    pending_len: u8,
}

const PENDING: usize = 8;

/// [`LogHistogram::value_of`] of bins 0..512 (values up to 1e15 fall in bins below 402).
static BIN_VALUES: std::sync::LazyLock<Vec<f64>> =
    std::sync::LazyLock::new(|| (0..512).map(LogHistogram::compute_value_of).collect());

impl LogHistogram {
    /// The bin of a value: octave from the float's exponent, then 8 linear steps inside the
    /// octave from the top mantissa bits (no `log2` call: this runs twice per log line).
    pub(crate) fn bin_of(value: f64) -> u16 {
        if value < 1.0 || value.is_nan() {
            return 0;
        }
        let bits = value.min(1e15).to_bits();
        let octave = ((bits >> 52) & 0x7ff) as i64 - 1023;
        let step = ((bits >> 49) & 0x7) as i64;
        (1 + octave * BINS_PER_OCTAVE as i64 + step) as u16
    }

    /// The representative (centre) value of a bin (from a table for the bins values up
    /// to 1e15 fall in: scoring reads it for every bin of every pair).
    pub(crate) fn value_of(bin: u16) -> f64 {
        match BIN_VALUES.get(usize::from(bin)) {
            Some(&v) => v,
            None => Self::compute_value_of(bin),
        }
    }

    /// [`value_of`](Self::value_of), computed.
    fn compute_value_of(bin: u16) -> f64 {
        if bin == 0 {
            return 0.0;
        }
        let b = i32::from(bin) - 1;
        let (octave, step) = (b / BINS_PER_OCTAVE as i32, b % BINS_PER_OCTAVE as i32);
        f64::from(octave).exp2() * (1.0 + (f64::from(step) + 0.5) / BINS_PER_OCTAVE)
    }

    /// Counts one value.
    pub(crate) fn add(&mut self, value: f64) {
        let bin = Self::bin_of(value);
        self.total += 1;
        if usize::from(self.pending_len) == PENDING {
            self.flush();
        }
        self.pending[usize::from(self.pending_len)] = bin;
        self.pending_len += 1;
    }

    /// Merges the pending values into the bins.
    pub(crate) fn flush(&mut self) {
        let n = usize::from(self.pending_len);
        self.pending_len = 0;
        for k in 0..n {
            let bin = self.pending[k];
            match self.bins.binary_search_by_key(&bin, |&(b, _)| b) {
                Ok(i) => self.bins[i].1 = self.bins[i].1.saturating_add(1),
                Err(i) => self.bins.insert(i, (bin, 1)),
            }
        }
    }

    /// `(representative value, count)` per bin, optionally leaving out bin 0.
    pub(crate) fn values(&self, skip_zero: bool) -> impl Iterator<Item = (f64, u32)> + '_ {
        let merged = if self.pending_len == 0 {
            std::borrow::Cow::Borrowed(&self.bins)
        } else {
            let mut h = self.clone();
            h.flush();
            std::borrow::Cow::Owned(h.bins)
        };
        (0..merged.len())
            .map(move |i| merged[i])
            .filter(move |(b, _)| !(skip_zero && *b == 0))
            .map(|(b, c)| (Self::value_of(b), c))
    }

    /// Number of values counted.
    #[cfg(test)]
    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}

/// Quantile `q` of weighted values sorted by value.
pub(crate) fn quantile(values: &[(f64, u32)], q: f64) -> f64 {
    let total: u64 = values.iter().map(|&(_, c)| u64::from(c)).sum();
    if total == 0 {
        return 0.0;
    }
    let target = (q * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0u64;
    for &(v, c) in values {
        seen += u64::from(c);
        if seen >= target {
            return v;
        }
    }
    values.last().map_or(0.0, |&(v, _)| v)
}

/// One bit per day, relative to the first day seen (extended both ways as needed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DayBitmap {
    base: i32,
    words: Vec<u64>,
}

impl DayBitmap {
    /// Marks `day` (days since the epoch).
    pub(crate) fn set(&mut self, day: i32) {
        if self.words.is_empty() {
            self.base = day - day.rem_euclid(64);
        }
        if day < self.base {
            let extra = ((self.base - day) as u32).div_ceil(64) as usize;
            self.words.splice(0..0, std::iter::repeat_n(0, extra));
            self.base -= extra as i32 * 64;
        }
        let off = (day - self.base) as usize;
        if off / 64 >= self.words.len() {
            self.words.resize(off / 64 + 1, 0);
        }
        self.words[off / 64] |= 1 << (off % 64);
    }

    /// The days set, ascending.
    pub(crate) fn days(&self) -> impl Iterator<Item = i32> + '_ {
        // Set bits taken lowest first (not 64 tests per word: scoring walks this 3 times).
        self.words.iter().enumerate().flat_map(move |(w, &bits)| {
            let base = self.base + (w * 64) as i32;
            std::iter::successors((bits != 0).then_some(bits), |&b| {
                let rest = b & (b - 1);
                (rest != 0).then_some(rest)
            })
            .map(move |b| base + b.trailing_zeros() as i32)
        })
    }

    /// Number of days set.
    pub(crate) fn count(&self) -> u32 {
        self.words.iter().map(|w| w.count_ones()).sum()
    }
}

/// A place in the input: file index into the run's file table, and 1-based line number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Loc {
    pub(crate) file: u32,
    pub(crate) line: u64,
}

/// Everything kept about one (source, destination, port) pair.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PairState {
    pub(crate) conns: u64,
    pub(crate) first_ts: f64,
    pub(crate) last_ts: f64,
    /// Latest start time seen in the current file (intervals are taken from it).
    prev_ts: f64,
    prev_file: u32,
    pub(crate) out_of_order: u64,
    pub(crate) intervals: LogHistogram,
    pub(crate) sizes: LogHistogram,
    pub(crate) hours: [u32; 24],
    pub(crate) days: DayBitmap,
    /// The day last marked in `days` (most connections fall on the same day as the previous
    /// one: skip the bitmap, which is on the heap).
    last_day: Option<i32>,
    /// Welford mean/M2 of ln(1 + duration).
    dur_n: u64,
    dur_mean: f64,
    dur_m2: f64,
    pub(crate) long_conn_secs: f64,
    pub(crate) bytes_out: u64,
    pub(crate) bytes_in: u64,
    pub(crate) has_bytes_out: bool,
    pub(crate) first_loc: Loc,
    pub(crate) last_loc: Loc,
    pub(crate) country: Option<Box<str>>,
}

impl PairState {
    /// Adds one connection.
    #[allow(clippy::too_many_arguments)] // One call site; a struct would only rename these.
    pub(crate) fn add(
        &mut self,
        ts: f64,
        duration: Option<f64>,
        bytes_out: Option<u64>,
        bytes_in: Option<u64>,
        loc: Loc,
        country: Option<&str>,
    ) {
        if self.conns == 0 {
            self.first_ts = ts;
            self.last_ts = ts;
            self.prev_ts = ts;
            self.prev_file = loc.file;
            self.first_loc = loc;
            self.last_loc = loc;
        } else {
            if ts >= self.prev_ts {
                self.intervals.add(ts - self.prev_ts);
                self.prev_ts = ts;
            } else if loc.file != self.prev_file {
                // Files read out of order: start afresh rather than count a negative gap.
                self.prev_ts = ts;
            } else {
                // Logs written at connection end are not sorted by start time.
                self.out_of_order += 1;
            }
            if ts < self.first_ts {
                self.first_ts = ts;
                self.first_loc = loc;
            }
            if ts >= self.last_ts {
                self.last_ts = ts;
                self.last_loc = loc;
            }
        }
        self.prev_file = loc.file;
        self.conns += 1;
        let hour = (crate::timestamps::floor(ts / 3600.0) as i64).rem_euclid(24) as usize;
        self.hours[hour] = self.hours[hour].saturating_add(1);
        let day = crate::timestamps::day_of(ts);
        if self.last_day != Some(day) {
            self.days.set(day);
            self.last_day = Some(day);
        }
        if let Some(d) = duration.filter(|d| d.is_finite() && *d >= 0.0) {
            let x = d.ln_1p();
            self.dur_n += 1;
            let delta = x - self.dur_mean;
            self.dur_mean += delta / self.dur_n as f64;
            self.dur_m2 += delta * (x - self.dur_mean);
            if d >= 3600.0 {
                self.long_conn_secs += d;
            }
        }
        if let Some(b) = bytes_out {
            self.bytes_out = self.bytes_out.saturating_add(b);
            self.has_bytes_out = true;
            self.sizes.add(b as f64);
        }
        if let Some(b) = bytes_in {
            self.bytes_in = self.bytes_in.saturating_add(b);
        }
        if self.country.is_none() {
            self.country = country.map(Into::into);
        }
    }

    /// Merges buffered histogram values (before scoring; reading works without it, slower).
    pub(crate) fn flush(&mut self) {
        self.intervals.flush();
        self.sizes.flush();
    }

    /// Standard deviation of ln(1 + duration), when at least two durations were logged.
    pub(crate) fn duration_log_sd(&self) -> Option<f64> {
        (self.dur_n >= 2).then(|| (self.dur_m2 / (self.dur_n - 1) as f64).max(0.0).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The merged bins are exactly the counts per bin, whatever order and spread the values
    /// come in (against a map).
    #[test]
    fn flushed_bins_are_exact_counts() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for spread in [1u64, 3, 40, 400, 4_000_000] {
            let mut h = LogHistogram::default();
            let mut reference = std::collections::BTreeMap::new();
            for i in 0..3_000u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let v = if i % 5 == 0 {
                    0.5
                } else {
                    1.0 + (x % spread) as f64 * 1.7
                };
                h.add(v);
                *reference.entry(LogHistogram::bin_of(v)).or_insert(0u32) += 1;
                if i % 97 == 0 {
                    let mut flushed = h.clone();
                    flushed.flush();
                    assert!(flushed.bins.windows(2).all(|w| w[0].0 < w[1].0));
                }
            }
            h.flush();
            let expected: Vec<(u16, u32)> = reference.into_iter().collect();
            assert_eq!(h.bins, expected, "{spread}");
        }
    }

    #[test]
    fn histogram_bins_and_quantiles() {
        let mut h = LogHistogram::default();
        for v in [0.2, 100.0, 100.0, 110.0, 21_600.0] {
            h.add(v);
        }
        assert_eq!(h.total(), 5);
        let unflushed: Vec<(f64, u32)> = h.values(false).collect();
        let mut flushed = h.clone();
        flushed.flush();
        assert_eq!(flushed.values(false).collect::<Vec<_>>(), unflushed);
        let v: Vec<(f64, u32)> = h.values(true).collect();
        assert_eq!(v.len(), 3);
        let med = quantile(&v, 0.5);
        assert!((med - 100.0).abs() / 100.0 < 0.05, "{med}");
    }

    /// The table of bin values is the formula's, bit for bit.
    #[test]
    fn bin_value_table_matches_formula() {
        for bin in 0..=2000u16 {
            assert_eq!(
                LogHistogram::value_of(bin).to_bits(),
                LogHistogram::compute_value_of(bin).to_bits(),
                "{bin}"
            );
        }
        assert_eq!(LogHistogram::bin_of(1e300), LogHistogram::bin_of(1e15));
        assert!(usize::from(LogHistogram::bin_of(1e15)) < 512);
    }

    /// The set days come out ascending, each once, as a test of every bit would give them.
    #[test]
    fn day_bitmap_days_are_the_set_bits() {
        let mut d = DayBitmap::default();
        let mut expected = std::collections::BTreeSet::new();
        let mut x = 0x9e37_79b9u64;
        for _ in 0..400 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let day = 19_000 + (x >> 40) as i32 % 700;
            d.set(day);
            expected.insert(day);
        }
        for day in [18_944, 19_007, 19_008, 19_071, 19_072, 19_775] {
            d.set(day);
            expected.insert(day);
        }
        let all: Vec<i32> = d.days().collect();
        assert_eq!(all, expected.into_iter().collect::<Vec<_>>());
        assert_eq!(d.count() as usize, all.len());
    }

    #[test]
    fn day_bitmap_grows_both_ways() {
        let mut d = DayBitmap::default();
        for day in [20_000, 19_000, 20_400, 20_000] {
            d.set(day);
        }
        assert_eq!(d.count(), 3);
        assert_eq!(d.days().collect::<Vec<_>>(), vec![19_000, 20_000, 20_400]);
    }
}
