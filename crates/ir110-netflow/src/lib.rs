//! Network-log analysis for ir110: long-lived C2 beacons and data leaving the network.
//!
//! Reads firewall, proxy and sensor logs — Zeek `conn.log` (TSV and JSON), FortiGate traffic
//! (`key=value`), PAN-OS traffic (syslog CSV), Squid native access logs, and any CSV export
//! through a [`CsvMapping`] — as streams, and keeps only compact per-pair state (see
//! [`NetAnalysis`] for the memory bound), so months of logs fit on a laptop.
//!
//! Two questions are answered:
//! - **Is a machine beaconing out?** Every (internal source, external destination, port) pair is
//!   scored over the whole period ([`BeaconScores`]): interval regularity with jitter
//!   tolerance, size regularity, spread over the hours of the day, connection-duration
//!   consistency, and *persistence*, which raises — never lowers — the score of a channel that
//!   has run for months. Pairs above a threshold become `c2` findings.
//! - **Did data leave?** Large uploads per pair and unusual outbound days per host become
//!   `exfiltration` findings.
//!
//! Findings cite the log lines of the first and last connection. Destination countries come
//! from the device (FortiGate, PAN-OS) or from a MaxMind-format database the user supplies
//! ([`GeoIp`]); nothing is downloaded.
//!
//! ```no_run
//! use ir110_netflow::{NetOptions, analyze_paths};
//! let report = analyze_paths(&["conn.log".into()], NetOptions::default(), None, &|_| {})?;
//! for pair in report.beacons.iter().take(10) {
//!     println!("{} {} → {}:{} {:.3}", pair.rank, pair.src, pair.dst, pair.dst_port, pair.scores.score);
//! }
//! # Ok::<(), ir110_netflow::NetError>(())
//! ```

mod analysis;
mod analyzer;
mod beacon_score;
mod demo;
mod flow;
mod formats;
mod geoip;
mod ingest_blocks;
mod pair_state;
mod timestamps;

use std::path::PathBuf;

pub use analysis::{
    FileSummary, NetAnalysis, NetOptions, NetReport, RankedPair, Transfer, analyze_paths,
};
pub use analyzer::NetAnalyzer;
pub use beacon_score::{BeaconScores, ScoreConfig};
pub use demo::{BeaconSpec, TrafficSpec, demo_files, synthesize_conn_log};
pub use flow::is_internal;
pub use formats::LogFormat;
pub use formats::mapped_csv::CsvMapping;
pub use geoip::GeoIp;

/// The analyzer id used in findings, events and problems.
pub const ANALYZER_ID: &str = "netflow";

/// Message catalogue entries for this crate's keys (`netflow.*`).
pub const MESSAGES: &str = include_str!("../messages.toml");

/// Errors of the network analysis. Per-file trouble is a [`ir110_model::Problem`] in the
/// report; these are what stops a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The GeoIP database could not be opened.
    #[error("cannot open GeoIP database {path}: {detail}")]
    GeoIp {
        /// The database file.
        path: PathBuf,
        /// The reader's error.
        detail: String,
    },
    /// A CSV column mapping is malformed.
    #[error("bad CSV column mapping: {0}")]
    Mapping(String),
}
