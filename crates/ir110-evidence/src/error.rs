//! The crate's one error type. Per-file read problems are not errors: they are recorded in the
//! manifest and the run goes on. These are the failures that stop an operation.

use std::io;
use std::path::PathBuf;

/// Why an evidence operation could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// Reading or writing a path failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A profile could not be loaded or compiled.
    #[error("profile {name}: {detail}")]
    Profile {
        /// Profile name or file.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// The source layout could not be recognised for `--profile auto`.
    #[error("{path}: cannot tell whether this is a Windows or Linux file system; choose a profile")]
    UnknownLayout {
        /// The source root.
        path: PathBuf,
    },
    /// A JSON file of the package is not valid.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A signing key file is missing, malformed or too widely readable.
    #[error("key {path}: {detail}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The path is not an evidence package.
    #[error("{path}: not an evidence package (no manifest.json)")]
    NotAPackage {
        /// The path given.
        path: PathBuf,
    },
    /// The package is age-encrypted; decrypt it first.
    #[error("{path}: the package is age-encrypted; decrypt it first (age -d -i KEY)")]
    Encrypted {
        /// The encrypted file.
        path: PathBuf,
    },
    /// The output directory holds something else.
    #[error(
        "{path}: output directory is not empty; use resume to finish an interrupted collection"
    )]
    OutputNotEmpty {
        /// The output directory.
        path: PathBuf,
    },
    /// `resume` was asked for but there is no interrupted collection.
    #[error("{path}: no interrupted collection to resume")]
    NothingToResume {
        /// The output directory.
        path: PathBuf,
    },
    /// The resumed collection was started with different settings.
    #[error("cannot resume: {detail}")]
    ResumeMismatch {
        /// What differs.
        detail: String,
    },
    /// The source is not a readable directory.
    #[error("{path}: source must be a directory")]
    Source {
        /// The source given.
        path: PathBuf,
    },
    /// An archive could not be written or read.
    #[error("archive {path}: {detail}")]
    Archive {
        /// The archive.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// Encryption to the recipients failed, or a recipient is malformed.
    #[error("encryption: {detail}")]
    Encrypt {
        /// What failed.
        detail: String,
    },
    /// The custody log cannot be appended to (unreadable or broken log).
    #[error("custody log {path}: {detail}")]
    Custody {
        /// The log file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

impl EvidenceError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        EvidenceError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Adds the path to an `io::Result`.
pub(crate) trait IoContext<T> {
    /// Maps the error into [`EvidenceError::Io`] for `path`.
    fn at(self, path: impl Into<PathBuf>) -> Result<T, EvidenceError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T, EvidenceError> {
        self.map_err(|e| EvidenceError::io(path, e))
    }
}
