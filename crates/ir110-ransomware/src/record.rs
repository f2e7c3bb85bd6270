//! What the scanner says about one file.

use chrono::{DateTime, Utc};
use ir110_model::Confidence;
use serde::{Deserialize, Serialize};

/// The scanner's conclusion about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Content destroyed by encryption.
    Encrypted,
    /// The format validates (or the content is ordinary, non-random data).
    Intact,
    /// Legitimately password-protected (Office, PDF, ZIP, 7z, OpenPGP, KeePass …).
    Protected,
    /// A ransom note.
    Note,
    /// Cannot judge (random content of unknown format, a corrupt but non-random file …).
    Unknown,
    /// Could not be read.
    Error,
}

impl Verdict {
    /// Every verdict, in report order.
    pub const ALL: [Verdict; 6] = [
        Verdict::Encrypted,
        Verdict::Note,
        Verdict::Protected,
        Verdict::Unknown,
        Verdict::Error,
        Verdict::Intact,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Encrypted => "encrypted",
            Verdict::Intact => "intact",
            Verdict::Protected => "protected",
            Verdict::Note => "note",
            Verdict::Unknown => "unknown",
            Verdict::Error => "error",
        }
    }
}

/// How an encrypted file was encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The whole file.
    Full,
    /// Only the start.
    Header,
    /// Stripes through the file.
    Intermittent,
}

impl Mode {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Header => "header",
            Mode::Intermittent => "intermittent",
        }
    }
}

/// One reason behind a verdict: a stable code (rendered through the message catalogue as
/// `ransomware.reason.<code>`) and, when it has one, the byte offset it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reason {
    /// Stable code (`magic-missing`, `head-random`, `zip-member-crc-mismatch`, …).
    pub code: String,
    /// Offset in the file, when the reason concerns one place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Extra detail (a recovered XOR key in hex, a format name, a note keyword count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Reason {
    /// A reason without offset.
    pub fn new(code: &str) -> Self {
        Reason {
            code: code.to_owned(),
            offset: None,
            detail: None,
        }
    }

    /// A reason at an offset.
    pub fn at(code: &str, offset: u64) -> Self {
        Reason {
            code: code.to_owned(),
            offset: Some(offset),
            detail: None,
        }
    }

    /// Adds detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// One file's scan result: the record of `ir110 ransomware scan --jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Path as given or found by the walk.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// The verdict.
    pub verdict: Verdict,
    /// For `encrypted`: how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// How sure the scanner is.
    pub confidence: Confidence,
    /// Why.
    pub reasons: Vec<Reason>,
    /// Family names suggested by this file's name or content (strongest first).
    #[serde(default)]
    pub family_candidates: Vec<String>,
    /// Last modification time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime: Option<DateTime<Utc>>,
    /// The format recognised from content (or expected from the name when content is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// What was appended to the original name, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appended_extension: Option<String>,
    /// Damaged byte ranges `[start, end)` found (for partial encryption they are a lower bound
    /// where only samples were read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub damaged: Vec<[u64; 2]>,
    /// Share of the file's bytes found damaged (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damaged_fraction: Option<f64>,
    /// Bytes read to reach the verdict.
    pub bytes_read: u64,
}
