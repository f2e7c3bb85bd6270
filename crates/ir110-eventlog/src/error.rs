//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong in this crate as a whole-operation error.
///
/// Damage inside a log is not an error of this kind: readers count it per file
/// ([`FileStats`](crate::FileStats)) and go on, and rule problems are `ir110-sigma` diagnostics;
/// only what stops an operation (a rule path that does not exist, an output that cannot be
/// written) is returned as an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventlogError {
    /// An input or output file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A temporary spill file of the timeline sort failed.
    #[error("timeline sort spill file: {0}")]
    Spill(#[source] std::io::Error),
    /// A value could not be serialized for output.
    #[error("cannot serialize output: {0}")]
    Serialize(#[from] serde_json::Error),
}

impl EventlogError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EventlogError::Io {
            path: path.into(),
            source,
        }
    }
}
