//! Windows event logs for ir110.
//!
//! - [`read_files`] reads `.evtx` files and JSON exports of Windows events (evtx_dump,
//!   Velociraptor, Winlogbeat/ECS) into one record type, [`WinEvent`], in parallel and in bounded
//!   memory; damaged logs yield every readable record plus counted errors ([`FileStats`]).
//! - [`EventLogAnalyzer`] is the `eventlog` analyzer that `ir110 triage` runs: timeline events for
//!   IR-relevant records, and findings (brute force then success, password spraying, external
//!   logons, lateral movement, new services and tasks, cleared logs, Defender, PowerShell).
//! - [`lateral_movement_svg`] draws the lateral-movement [`Graph`] for reports.
//!
//! ```
//! use ir110_eventlog::WinEvent;
//! let line = r##"{"Event":{"System":{"EventID":4625,"Computer":"FS01","Channel":"Security",
//!   "TimeCreated":{"#attributes":{"SystemTime":"2026-01-10T01:02:03Z"}}},
//!   "EventData":{"TargetUserName":"administrator","IpAddress":"203.0.113.50"}}}"##;
//! let event = WinEvent::from_json(&serde_json::from_str(line).unwrap(), None).unwrap();
//! assert_eq!(event.event_id, 4625);
//! assert_eq!(event.get("IpAddress"), Some("203.0.113.50"));
//! ```

mod activity_analytics;
mod analyzer;
mod error;
mod evtx_json;
mod hunt;
pub mod ip_class;
mod lateral_movement;
mod logon_analytics;
mod reader;
mod sigma_record;
mod timeline;
mod timeline_events;
mod win_event;

pub use activity_analytics::{
    ActivityAnalytics, powershell_indicators, suspicious_command_reasons,
};
pub use analyzer::{Analytics, EventLogAnalyzer};
pub use error::EventlogError;
pub use hunt::{CorrelationHit, Detection, HuntOptions, HuntReport, RuleCount, hunt, load_rules};
pub use lateral_movement::{Edge, Graph, Node, NodeKind, lateral_movement_svg};
pub use logon_analytics::{LogonAnalytics, LogonThresholds};
pub use reader::{Batch, FileStats, ReadOptions, discover, read_files, source_file};
pub use timeline::ExternalSorter;
pub use timeline_events::timeline_event;
pub use win_event::WinEvent;

/// The analyzer id, used in events, findings and problems.
pub const ANALYZER_ID: &str = "eventlog";

/// Message catalogue entries of this crate (`eventlog.*`).
pub const MESSAGES: &str = include_str!("../messages.toml");
