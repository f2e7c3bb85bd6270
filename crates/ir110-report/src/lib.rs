//! ir110 reports: the versioned `report.json` and a self-contained `report.html`.
//!
//! [`Report::build`] turns a triage [`Outcome`](ir110_triage::Outcome) (plus the case, when
//! there is one) into a [`Report`]: the data behind both outputs, with every finding's text
//! already rendered in the report's language so that readers of the JSON need no catalogue.
//! [`Report::to_json`] writes the documented JSON form (schema in `docs/report.schema.json`,
//! version [`ir110_model::SCHEMA_VERSION`]); [`html::render`] writes one HTML file with inline CSS
//! and SVG and no external requests; [`markdown::render`] the editable skeleton of the written report.

pub mod html;
pub mod markdown;
mod report;

pub use report::{
    ActionItem, AffectedFile, AffectedHost, CaseInfo, Report, ReportFinding, ReportInput, RunInfo,
    Summary, TIMELINE_LIMIT,
};

/// Message catalogue entries for report labels.
pub const MESSAGES: &str = include_str!("../messages.toml");
