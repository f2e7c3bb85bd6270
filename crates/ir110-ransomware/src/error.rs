//! Errors of the library API. Per-file problems are not errors: they are `error` verdicts.

/// What can go wrong for a whole operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file given to the operation could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line of a scan JSONL file is not a record.
    #[error("{path} line {line}: not a scan record: {source}")]
    Record {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A path given does not exist.
    #[error("{0}: no such file or folder")]
    NotFound(String),
}
