//! Source discovery and the analyzer runner behind `ir110 triage`.
//!
//! [`discover`] walks the given paths without following symbolic links, classifies every
//! regular file by its content ([`SourceKind::sniff`]) and records every path it could not use
//! (unreadable, symlink, special file) as a [`Problem`]. [`run`] then hands each registered
//! [`Analyzer`] the files it accepts, runs the analyzers in parallel, and returns findings,
//! timeline and a [`Coverage`] account in which every file appears either as analysed or with
//! the reason it was not.
//!
//! ```
//! use ir110_triage::{discover, run, DiscoverOptions, RunOptions};
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("empty.txt"), b"").unwrap();
//! let found = discover(&[dir.path().to_path_buf()], &DiscoverOptions::default());
//! let outcome = run(found, &[], &RunOptions::default());
//! assert_eq!(outcome.coverage.files_total, 1);
//! assert_eq!(outcome.coverage.not_analysed.len(), 1);
//! ```
//!
//! [`SourceKind::sniff`]: ir110_model::SourceKind::sniff
//! [`Problem`]: ir110_model::Problem
//! [`Analyzer`]: ir110_model::Analyzer

mod coverage;
mod discover;
mod runner;

pub use coverage::{AnalyzerCoverage, Coverage, KindCount};
pub use discover::{DiscoverOptions, Discovery, discover};
pub use runner::{Outcome, Progress, RunOptions, run};
