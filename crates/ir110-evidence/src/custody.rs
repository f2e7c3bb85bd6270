//! The chain-of-custody log: `custody.jsonl`, append-only and hash-chained.
//!
//! Each line is one JSON object. Its `prev` is the SHA-256 (hex) of the exact bytes of the line
//! before it (without the newline); the first line's `prev` is the SHA-256 of `manifest.json`,
//! which ties the log to the package. Every line is signed: `key` is the signer's raw Ed25519
//! public key (hex) and `sig` (always the last member) signs the line's bytes with
//! `,"sig":"…"` removed. Changing, removing or inserting any line breaks the next line's `prev`;
//! changing the last line breaks its signature.
//!
//! A sealed archive cannot be appended to, so entries added to an archive package go to a
//! sidecar `<archive>.custody.jsonl` that continues the chain of the log inside the archive.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{EvidenceError, IoContext};
use crate::manifest::names;

/// What happened to the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustodyAction {
    /// Collected (the first entry, written by `collect`).
    Collected,
    /// Handed over to someone.
    Transferred,
    /// Received from someone.
    Received,
    /// Opened (seal broken, package accessed).
    Opened,
    /// Sealed (封印).
    Sealed,
    /// Returned to the owner.
    Returned,
    /// Destroyed (消去・廃棄).
    Destroyed,
}

impl CustodyAction {
    /// Every action.
    pub const ALL: [CustodyAction; 7] = [
        CustodyAction::Collected,
        CustodyAction::Transferred,
        CustodyAction::Received,
        CustodyAction::Opened,
        CustodyAction::Sealed,
        CustodyAction::Returned,
        CustodyAction::Destroyed,
    ];

    /// The stable name (`transferred`), also the message key suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            CustodyAction::Collected => "collected",
            CustodyAction::Transferred => "transferred",
            CustodyAction::Received => "received",
            CustodyAction::Opened => "opened",
            CustodyAction::Sealed => "sealed",
            CustodyAction::Returned => "returned",
            CustodyAction::Destroyed => "destroyed",
        }
    }
}

impl fmt::Display for CustodyAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A custody action name that is not one of [`CustodyAction::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a custody action; expected one of: collected transferred received opened sealed returned destroyed"
)]
pub struct ParseActionError(pub String);

impl std::str::FromStr for CustodyAction {
    type Err = ParseActionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CustodyAction::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseActionError(s.to_owned()))
    }
}

/// An event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustodyEvent {
    /// What happened.
    pub action: CustodyAction,
    /// Who did it (the actor).
    pub by: String,
    /// To whom (for transfers and returns).
    pub to: Option<String>,
    /// Where.
    pub place: Option<String>,
    /// Who witnessed it.
    pub witness: Option<String>,
    /// Free note (seal number, courier tracking number).
    pub note: Option<String>,
    /// When it happened; `None` for now.
    pub at: Option<DateTime<Utc>>,
}

impl CustodyEvent {
    /// An event with only the required fields.
    pub fn new(action: CustodyAction, by: impl Into<String>) -> CustodyEvent {
        CustodyEvent {
            action,
            by: by.into(),
            to: None,
            place: None,
            witness: None,
            note: None,
            at: None,
        }
    }
}

/// One line of the custody log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyEntry {
    /// 1 for the first line, then +1.
    pub seq: u64,
    /// SHA-256 of the previous line (of `manifest.json` for the first).
    pub prev: String,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// What.
    pub action: CustodyAction,
    /// Who.
    pub by: String,
    /// To whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Witness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<String>,
    /// Note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Signer's raw Ed25519 public key, hex.
    pub key: String,
    /// Signature over the line without this member, hex. Always last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
}

/// SHA-256 of bytes, hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Builds and signs the line for an event after `prev`.
pub(crate) fn signed_line(
    seq: u64,
    prev: String,
    event: &CustodyEvent,
    key: &SigningKey,
) -> Result<(CustodyEntry, String), EvidenceError> {
    let mut entry = CustodyEntry {
        seq,
        prev,
        at: event.at.unwrap_or_else(Utc::now),
        action: event.action,
        by: event.by.clone(),
        to: event.to.clone(),
        place: event.place.clone(),
        witness: event.witness.clone(),
        note: event.note.clone(),
        key: hex::encode(key.verifying_key().as_bytes()),
        sig: None,
    };
    let body = serde_json::to_string(&entry).map_err(|e| EvidenceError::Custody {
        path: PathBuf::from(names::CUSTODY),
        detail: e.to_string(),
    })?;
    let sig = hex::encode(key.sign(body.as_bytes()).to_bytes());
    let line = format!("{},\"sig\":\"{sig}\"}}", &body[..body.len() - 1]);
    entry.sig = Some(sig);
    Ok((entry, line))
}

/// A problem found in a custody log. Entry numbers are 1-based line numbers of the whole chain
/// (archive log followed by its sidecar).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ChainProblem {
    /// The line is not a valid entry.
    Unreadable {
        /// Entry number.
        entry: usize,
        /// Parse error.
        detail: String,
    },
    /// `prev` does not match the hash of the line before (or of the manifest).
    Broken {
        /// Entry number whose `prev` is wrong.
        entry: usize,
        /// SHA-256 of the previous line as it is now.
        expected: String,
        /// `prev` as written.
        found: String,
    },
    /// `seq` is not the line number.
    Sequence {
        /// Entry number.
        entry: usize,
        /// `seq` as written.
        found: u64,
    },
    /// The signature does not verify with the entry's key.
    Signature {
        /// Entry number.
        entry: usize,
    },
}

impl ChainProblem {
    /// The entry concerned.
    pub fn entry(&self) -> usize {
        match self {
            ChainProblem::Unreadable { entry, .. }
            | ChainProblem::Broken { entry, .. }
            | ChainProblem::Sequence { entry, .. }
            | ChainProblem::Signature { entry } => *entry,
        }
    }
}

/// Checks one line's signature.
fn line_signature_ok(line: &str, entry: &CustodyEntry) -> bool {
    let Some(idx) = line.rfind(",\"sig\":\"") else {
        return false;
    };
    let body = format!("{}}}", &line[..idx]);
    let sig_ok = entry.sig.as_deref().and_then(|s| hex::decode(s).ok());
    let key = hex::decode(&entry.key)
        .ok()
        .and_then(|k| <[u8; 32]>::try_from(k).ok())
        .and_then(|k| VerifyingKey::from_bytes(&k).ok());
    let (Some(sig), Some(key)) = (sig_ok, key) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(&sig) else {
        return false;
    };
    // The stored line must be exactly what was signed plus the signature.
    line.ends_with(&format!(
        ",\"sig\":\"{}\"}}",
        entry.sig.as_deref().unwrap_or_default()
    )) && key.verify_strict(body.as_bytes(), &sig).is_ok()
}

/// Parses and checks a chain of lines against the manifest bytes. Returns the entries that
/// parsed and every problem.
pub(crate) fn check_chain(
    manifest: &[u8],
    lines: &[String],
) -> (Vec<CustodyEntry>, Vec<ChainProblem>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut prev_hash = sha256_hex(manifest);
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        match serde_json::from_str::<CustodyEntry>(line) {
            Ok(entry) => {
                if entry.seq != n as u64 {
                    problems.push(ChainProblem::Sequence {
                        entry: n,
                        found: entry.seq,
                    });
                }
                if entry.prev != prev_hash {
                    problems.push(ChainProblem::Broken {
                        entry: n,
                        expected: prev_hash.clone(),
                        found: entry.prev.clone(),
                    });
                }
                if !line_signature_ok(line, &entry) {
                    problems.push(ChainProblem::Signature { entry: n });
                }
                entries.push(entry);
            }
            Err(e) => problems.push(ChainProblem::Unreadable {
                entry: n,
                detail: e.to_string(),
            }),
        }
        prev_hash = sha256_hex(line.as_bytes());
    }
    (entries, problems)
}

/// Splits a log into lines; a final line without newline is kept (it may be a torn write, which
/// the chain check then reports).
pub(crate) fn split_lines(text: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(text)
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Where a package's custody log lives.
pub(crate) struct CustodyLocation {
    /// The manifest bytes.
    pub manifest: Vec<u8>,
    /// Lines already in the package (directory log, or the log inside an archive).
    pub base: Vec<String>,
    /// The file new lines are appended to.
    pub append_to: PathBuf,
    /// Lines of the sidecar, for archives.
    pub sidecar: Vec<String>,
}

impl CustodyLocation {
    /// All lines, in chain order.
    pub fn lines(&self) -> Vec<String> {
        self.base.iter().chain(&self.sidecar).cloned().collect()
    }
}

/// The sidecar log of an archive package.
pub fn sidecar_path(archive: &Path) -> PathBuf {
    let mut name = archive.as_os_str().to_owned();
    name.push(".custody.jsonl");
    PathBuf::from(name)
}

pub(crate) fn locate(package: &Path) -> Result<CustodyLocation, EvidenceError> {
    if package.is_dir() {
        let manifest_path = package.join(names::MANIFEST);
        if !manifest_path.is_file() {
            return Err(EvidenceError::NotAPackage {
                path: package.to_path_buf(),
            });
        }
        let manifest = std::fs::read(&manifest_path).at(&manifest_path)?;
        let log = package.join(names::CUSTODY);
        let base = match std::fs::read(&log) {
            Ok(b) => split_lines(&b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(EvidenceError::io(&log, e)),
        };
        return Ok(CustodyLocation {
            manifest,
            base,
            append_to: log,
            sidecar: Vec::new(),
        });
    }
    let manifest = crate::archive::read_member(package, names::MANIFEST)?.ok_or_else(|| {
        EvidenceError::NotAPackage {
            path: package.to_path_buf(),
        }
    })?;
    let base = crate::archive::read_member(package, names::CUSTODY)?
        .map(|b| split_lines(&b))
        .unwrap_or_default();
    let sidecar_file = sidecar_path(package);
    let sidecar = match std::fs::read(&sidecar_file) {
        Ok(b) => split_lines(&b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(EvidenceError::io(&sidecar_file, e)),
    };
    Ok(CustodyLocation {
        manifest,
        base,
        append_to: sidecar_file,
        sidecar,
    })
}

/// Appends one line (with its newline, in one write) and syncs it to disk.
pub(crate) fn append_line(path: &Path, line: &str) -> Result<(), EvidenceError> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .at(path)?;
    f.write_all(format!("{line}\n").as_bytes()).at(path)?;
    f.sync_all().at(path)
}

/// Records an event in a package's custody log (directory or archive package), signed with
/// `key`. Refuses when the existing chain is broken, so a bad log is never extended silently.
pub fn custody_add(
    package: &Path,
    event: &CustodyEvent,
    key: &SigningKey,
) -> Result<CustodyEntry, EvidenceError> {
    let loc = locate(package)?;
    let lines = loc.lines();
    let (_, problems) = check_chain(&loc.manifest, &lines);
    if let Some(p) = problems.first() {
        return Err(EvidenceError::Custody {
            path: loc.append_to.clone(),
            detail: format!(
                "the chain is broken at entry {}; run verify before adding entries",
                p.entry()
            ),
        });
    }
    let prev = lines
        .last()
        .map(|l| sha256_hex(l.as_bytes()))
        .unwrap_or_else(|| sha256_hex(&loc.manifest));
    let (entry, line) = signed_line(lines.len() as u64 + 1, prev, event, key)?;
    append_line(&loc.append_to, &line)?;
    Ok(entry)
}

/// Reads the custody log of a package (directory or archive plus sidecar), without judging it;
/// use [`crate::verify`] for that.
pub fn custody_show(package: &Path) -> Result<Vec<CustodyEntry>, EvidenceError> {
    let loc = locate(package)?;
    let (entries, _) = check_chain(&loc.manifest, &loc.lines());
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_detects_edits_and_signatures() {
        let key = SigningKey::from_bytes(&[1u8; 32]);
        let manifest = b"{}";
        let mut lines = Vec::new();
        let mut prev = sha256_hex(manifest);
        for (i, action) in [
            CustodyAction::Collected,
            CustodyAction::Sealed,
            CustodyAction::Transferred,
        ]
        .into_iter()
        .enumerate()
        {
            let (_, line) = signed_line(
                i as u64 + 1,
                prev.clone(),
                &CustodyEvent::new(action, "鈴木"),
                &key,
            )
            .unwrap();
            prev = sha256_hex(line.as_bytes());
            lines.push(line);
        }
        let (entries, problems) = check_chain(manifest, &lines);
        assert_eq!(entries.len(), 3);
        assert_eq!(problems, vec![]);

        let mut edited = lines.clone();
        edited[2] = edited[2].replace("鈴木", "佐藤");
        let (_, problems) = check_chain(manifest, &edited);
        assert_eq!(problems, vec![ChainProblem::Signature { entry: 3 }]);

        let mut edited = lines.clone();
        edited[0] = edited[0].replace("鈴木", "佐藤");
        let (_, problems) = check_chain(manifest, &edited);
        assert_eq!(
            problems.iter().map(ChainProblem::entry).collect::<Vec<_>>(),
            vec![1, 2]
        );

        let (_, problems) = check_chain(b"{ }", &lines);
        assert!(matches!(problems[0], ChainProblem::Broken { entry: 1, .. }));
    }

    #[test]
    fn actions_parse() {
        assert_eq!(
            "Sealed".parse::<CustodyAction>().unwrap(),
            CustodyAction::Sealed
        );
        assert!("lost".parse::<CustodyAction>().is_err());
    }
}
