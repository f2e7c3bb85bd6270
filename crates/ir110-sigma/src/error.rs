//! The crate's error type.
//!
//! Rule problems are not errors but [`Diagnostic`](crate::Diagnostic)s: loading always
//! succeeds with whatever rules are fine. `SigmaError` is for the few operations that can fail
//! as a whole, such as reading a user-supplied log-source mapping.

use std::path::PathBuf;

/// An operation of this crate failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigmaError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}
