//! Beacon scoring of one pair over the whole period.
//!
//! Modelled on RITA v5's published sub-scores (interval and size regularity by Bowley skew and
//! MAD, hourly histogram, duration) with two deliberate differences for retrospective cases:
//! - regularity tolerates jitter: the share of intervals within ±`jitter` of the median is a
//!   sub-score of its own, so a 30 %-jittered beacon still scores close to 1;
//! - **persistence replaces RITA's "first seen long ago" penalty**: coverage of the data set,
//!   share of days active within the pair's life, and months active all *raise* the score, so
//!   a channel that has run for a year ranks above one that ran for a week.
//!
//! Every sub-score is in `[0, 1]`. Sub-scores a format cannot give (no byte counts in proxy
//! logs, no durations) are left out and the weights renormalised.

use serde::Serialize;

use crate::pair_state::{LogHistogram, PairState, quantile};
use crate::timestamps::year_month;

/// Scoring parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreConfig {
    /// Relative jitter around the median interval still counted as "on schedule" (0.3 = 30 %).
    pub jitter: f64,
    /// Pairs with fewer connections are not scored.
    pub min_connections: u64,
    /// Weights of the sub-scores: interval, size, hourly spread, duration, persistence.
    pub weights: [f64; 5],
}

impl Default for ScoreConfig {
    fn default() -> Self {
        ScoreConfig {
            jitter: 0.3,
            min_connections: 8,
            weights: [0.25, 0.15, 0.20, 0.10, 0.30],
        }
    }
}

/// The scores of one pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BeaconScores {
    /// Overall score in `[0, 1]`, rounded to 3 decimals.
    pub score: f64,
    /// Interval regularity.
    pub interval: f64,
    /// Payload-size regularity (`None` without byte counts).
    pub size: Option<f64>,
    /// Spread over the hours of the day (machines do not keep office hours).
    pub hourly: f64,
    /// Connection-duration consistency (`None` without durations).
    pub duration: Option<f64>,
    /// Persistence across days and months.
    pub persistence: f64,
    /// Median interval between connections, seconds.
    pub median_interval_secs: f64,
    /// Share of intervals within the jitter tolerance of the median.
    pub on_schedule: f64,
    /// Days with at least one connection.
    pub active_days: u32,
    /// Distinct calendar months with at least one connection.
    pub active_months: u32,
    /// Share of internal hosts that contact the same destination (set after ranking input is
    /// complete; `None` when too few hosts to judge).
    pub prevalence: Option<f64>,
}

/// Regularity of a log histogram: mean of on-schedule share (weighted double), Bowley-skew
/// score and MAD score. Returns `(score, median, on_schedule)`.
fn regularity(h: &LogHistogram, skip_zero: bool, jitter: f64) -> Option<(f64, f64, f64)> {
    let values: Vec<(f64, u32)> = h.values(skip_zero).collect();
    let n: u64 = values.iter().map(|&(_, c)| u64::from(c)).sum();
    if n < 3 {
        return None;
    }
    let (q1, q2, q3) = (
        quantile(&values, 0.25),
        quantile(&values, 0.5),
        quantile(&values, 0.75),
    );
    let iqr = q3 - q1;
    // As RITA: a tiny IQR or a median on a quartile means "no skew".
    let skew = if iqr <= f64::EPSILON || q2 == q1 || q2 == q3 {
        0.0
    } else {
        ((q1 - 2.0 * q2 + q3) / iqr).clamp(-1.0, 1.0)
    };
    let mut deviations: Vec<(f64, u32)> =
        values.iter().map(|&(v, c)| ((v - q2).abs(), c)).collect();
    deviations.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mad = quantile(&deviations, 0.5);
    let mad_score = if q2 > 0.0 {
        ((q2 - mad) / q2).max(0.0)
    } else {
        1.0
    };
    // One bin of slack either side: bins are ~9 % wide.
    let (lo, hi) = (q2 * (1.0 - jitter) / 1.1, q2 * (1.0 + jitter) * 1.1);
    let within: u64 = values
        .iter()
        .filter(|&&(v, _)| v >= lo && v <= hi)
        .map(|&(_, c)| u64::from(c))
        .sum();
    let on_schedule = within as f64 / n as f64;
    let score = (2.0 * on_schedule + (1.0 - skew.abs()) + mad_score) / 4.0;
    Some((score, q2, on_schedule))
}

/// Scores a pair; `None` when it has too few connections. `span` is the data set's
/// `(first, last)` start time.
pub(crate) fn score(pair: &PairState, span: (f64, f64), cfg: &ScoreConfig) -> Option<BeaconScores> {
    if pair.conns < cfg.min_connections.max(4) {
        return None;
    }
    let (interval, median, on_schedule) = regularity(&pair.intervals, true, cfg.jitter)?;
    let size = if pair.has_bytes_out {
        regularity(&pair.sizes, false, cfg.jitter.min(0.2)).map(|(s, _, _)| s)
    } else {
        None
    };

    // Hourly spread: 1 − coefficient of variation of the 24 hour-of-day counts. A daily
    // beacon fires at one hour; it is scored on its concentration instead.
    let total: f64 = pair.hours.iter().map(|&c| f64::from(c)).sum();
    let mean = total / 24.0;
    let var = pair
        .hours
        .iter()
        .map(|&c| (f64::from(c) - mean).powi(2))
        .sum::<f64>()
        / 24.0;
    let evenness = (1.0 - var.sqrt() / mean.max(f64::EPSILON)).clamp(0.0, 1.0);
    let hourly = if median >= 20.0 * 3600.0 {
        let best = (0..24)
            .map(|h| pair.hours[h] + pair.hours[(h + 1) % 24])
            .max()
            .unwrap_or(0);
        evenness.max(f64::from(best) / total.max(1.0))
    } else {
        evenness
    };

    let duration = pair.duration_log_sd().map(|sd| 1.0 / (1.0 + sd));

    // Persistence.
    let data_span = (span.1 - span.0).max(1.0);
    let coverage = ((pair.last_ts - pair.first_ts) / data_span).clamp(0.0, 1.0);
    let active_days = pair.days.count();
    let life_days = pair
        .days
        .days()
        .next()
        .zip(pair.days.days().last())
        .map_or(1, |(a, b)| b - a + 1);
    let consistency = f64::from(active_days) / f64::from(life_days.max(1));
    // Distinct months of the ascending days (as collecting and deduplicating them).
    let mut active_months = 0u32;
    let mut month = None;
    for ym in pair.days.days().map(year_month) {
        if month != Some(ym) {
            active_months += 1;
            month = Some(ym);
        }
    }
    let longevity = (f64::from(active_months) / 12.0).min(1.0);
    let persistence = (coverage + consistency + longevity) / 3.0;

    let w = cfg.weights;
    let parts = [
        (Some(interval), w[0]),
        (size, w[1]),
        (Some(hourly), w[2]),
        (duration, w[3]),
        (Some(persistence), w[4]),
    ];
    let (sum, weight) = parts
        .iter()
        .filter_map(|&(s, w)| s.map(|s| (s * w, w)))
        .fold((0.0, 0.0), |(a, b), (s, w)| (a + s, b + w));
    // Few connections are weak evidence however regular: damp below ~100 connections.
    let volume = ((pair.conns as f64).ln() / 100f64.ln()).min(1.0);
    let raw = if weight > 0.0 { sum / weight } else { 0.0 } * volume;
    Some(BeaconScores {
        score: (raw * 1000.0).round() / 1000.0,
        interval,
        size,
        hourly,
        duration,
        persistence,
        median_interval_secs: median,
        on_schedule,
        active_days,
        active_months,
        prevalence: None,
    })
}

/// RITA's prevalence modifier, one-sided: a destination most internal hosts talk to is an
/// update or SaaS service, not a C2 (−15 % at ≥ 50 % of hosts, −5 % at ≥ 10 %). Rare
/// destinations are not boosted, so scores stay in `[0, 1]`.
pub(crate) fn apply_prevalence(s: &mut BeaconScores, sources: usize, hosts: usize) {
    if hosts < 10 {
        return;
    }
    let p = sources as f64 / hosts as f64;
    s.prevalence = Some((p * 1000.0).round() / 1000.0);
    let factor = if p >= 0.5 {
        0.85
    } else if p >= 0.1 {
        0.95
    } else {
        1.0
    };
    s.score = (s.score * factor * 1000.0).round() / 1000.0;
}
