//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong in this crate as a whole-operation error.
///
/// Damage inside a log is not an error of this kind: readers count it per file
/// ([`FileStats`](crate::FileStats)) and go on; only problems that stop an operation (a rule
/// directory that cannot be loaded, an output that cannot be written) are returned as errors.
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
    /// The Sigma rules could not be loaded at all.
    #[error("sigma rules: {0}")]
    Rules(String),
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
