//! `verify`: re-hash every file, check the manifest signature and the custody chain, and say
//! exactly what failed.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::Signature;
use ir110_model::{Lang, Message};
use serde::{Deserialize, Serialize};

use crate::copy::hash_file;
use crate::custody::{ChainProblem, check_chain, locate, sha256_hex};
use crate::error::EvidenceError;
use crate::keys::{fingerprint, parse_public_key_pem};
use crate::manifest::{Manifest, names};
use crate::package::{open_package, safe_stored_path};

/// One thing that is wrong with a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "failure", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum VerifyFailure {
    /// A collected file (or listing) does not have the recorded hash.
    FileChanged {
        /// Original path (or package path for listings).
        path: String,
        /// Path inside the package.
        stored: String,
        /// SHA-256 in the manifest.
        expected: String,
        /// SHA-256 now.
        actual: String,
        /// Size in the manifest.
        expected_size: u64,
        /// Size now.
        actual_size: u64,
    },
    /// A file the manifest lists is not in the package.
    FileMissing {
        /// Original path.
        path: String,
        /// Path inside the package.
        stored: String,
    },
    /// A file in the package that the manifest does not list.
    UnexpectedFile {
        /// Path inside the package.
        stored: String,
    },
    /// `manifest.json` does not parse.
    ManifestUnreadable {
        /// Parse error.
        detail: String,
    },
    /// `manifest.sig` is missing or not 64 bytes.
    SignatureMissing,
    /// The signature does not verify: the manifest (or the signature) was changed.
    SignatureInvalid,
    /// `signer.pub` is missing or not an Ed25519 public key.
    PublicKeyInvalid,
    /// `signer.pub` is not the key the manifest names.
    PublicKeyMismatch {
        /// Fingerprint in the manifest.
        manifest: String,
        /// Fingerprint of `signer.pub`.
        file: String,
    },
    /// The package has no custody log.
    CustodyMissing,
    /// A custody entry is unreadable, out of sequence, unsigned or not chained.
    Custody(ChainProblem),
    /// The collection was interrupted and not resumed.
    Unfinished,
    /// The archive's SHA-256 differs from the one recorded in `<archive>.sha256` when it was
    /// written.
    ArchiveChanged {
        /// SHA-256 in `<archive>.sha256`.
        expected: String,
        /// SHA-256 now.
        actual: String,
    },
    /// The archive cannot be read (damaged in transport or storage).
    ArchiveDamaged {
        /// What the archive reader said, naming the entry when it can.
        detail: String,
    },
}

impl VerifyFailure {
    /// The failure as a message for the catalogue.
    pub fn message(&self) -> Message {
        let m = |k: &str| Message::new(format!("evidence.verify.{k}"));
        match self {
            VerifyFailure::FileChanged {
                path,
                expected,
                actual,
                expected_size,
                actual_size,
                ..
            } => m("file-changed")
                .arg("path", path)
                .arg("expected", expected)
                .arg("actual", actual)
                .arg("expected_size", expected_size)
                .arg("actual_size", actual_size),
            VerifyFailure::FileMissing { path, stored } => {
                m("file-missing").arg("path", path).arg("stored", stored)
            }
            VerifyFailure::UnexpectedFile { stored } => m("unexpected-file").arg("stored", stored),
            VerifyFailure::ManifestUnreadable { detail } => {
                m("manifest-unreadable").arg("detail", detail)
            }
            VerifyFailure::SignatureMissing => m("signature-missing"),
            VerifyFailure::SignatureInvalid => m("signature-invalid"),
            VerifyFailure::PublicKeyInvalid => m("public-key-invalid"),
            VerifyFailure::PublicKeyMismatch { manifest, file } => m("public-key-mismatch")
                .arg("manifest", manifest)
                .arg("file", file),
            VerifyFailure::CustodyMissing => m("custody-missing"),
            VerifyFailure::Custody(p) => match p {
                ChainProblem::Unreadable { entry, detail } => m("custody-unreadable")
                    .arg("entry", entry)
                    .arg("detail", detail),
                ChainProblem::Broken {
                    entry,
                    expected,
                    found,
                } => m("custody-broken")
                    .arg("entry", entry)
                    .arg("previous", entry.saturating_sub(1))
                    .arg("expected", expected)
                    .arg("found", found),
                ChainProblem::Sequence { entry, found } => m("custody-sequence")
                    .arg("entry", entry)
                    .arg("found", found),
                ChainProblem::Signature { entry } => m("custody-signature").arg("entry", entry),
            },
            VerifyFailure::Unfinished => m("unfinished"),
            VerifyFailure::ArchiveChanged { expected, actual } => m("archive-changed")
                .arg("expected", expected)
                .arg("actual", actual),
            VerifyFailure::ArchiveDamaged { detail } => m("archive-damaged").arg("detail", detail),
        }
    }
}

impl fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::CATALOG.render(&self.message(), Lang::En))
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// The package as given.
    pub package: PathBuf,
    /// Files re-hashed (collected files and listings).
    pub files_checked: u64,
    /// Files the manifest records as not collected (read errors at collection time). Not a
    /// failure of the package: what was missing then is still missing.
    pub recorded_errors: u64,
    /// SHA-256 of `manifest.json`.
    pub manifest_sha256: String,
    /// Fingerprint of the key that signed the manifest (compare it with the examiner's).
    pub signer_fingerprint: Option<String>,
    /// Custody entries read.
    pub custody_entries: u64,
    /// Everything that is wrong; empty when the package is intact.
    pub failures: Vec<VerifyFailure>,
}

impl VerifyReport {
    /// Whether the package is intact.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Verifies a directory or archive package. Errors only when the path is not a package or
/// cannot be read at all; everything wrong inside a package is a [`VerifyFailure`].
pub fn verify(package: &Path) -> Result<VerifyReport, EvidenceError> {
    // The archive's own hash, recorded beside it when it was written, covers every byte,
    // including zip header fields that readers ignore.
    let archive_failure = archive_sum_failure(package);
    let opened = match open_package(package) {
        Ok(Some(p)) => p,
        Ok(None) => {
            return Err(EvidenceError::NotAPackage {
                path: package.to_path_buf(),
            });
        }
        // A damaged archive is a verdict about the package, not a failure to run.
        Err(EvidenceError::Archive { detail, .. }) => {
            return Ok(VerifyReport {
                package: package.to_path_buf(),
                files_checked: 0,
                recorded_errors: 0,
                manifest_sha256: String::new(),
                signer_fingerprint: None,
                custody_entries: 0,
                failures: archive_failure
                    .into_iter()
                    .chain([VerifyFailure::ArchiveDamaged { detail }])
                    .collect(),
            });
        }
        Err(e) => return Err(e),
    };
    let root = opened.root().to_path_buf();
    let manifest_bytes = opened.manifest_bytes().to_vec();
    let mut failures: Vec<VerifyFailure> = archive_failure.into_iter().collect();
    let manifest: Option<Manifest> = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => Some(m),
        Err(e) => {
            failures.push(VerifyFailure::ManifestUnreadable {
                detail: e.to_string(),
            });
            None
        }
    };

    // Signature over the exact bytes.
    let key = std::fs::read_to_string(root.join(names::PUBLIC_KEY))
        .ok()
        .and_then(|pem| parse_public_key_pem(&pem));
    let sig = std::fs::read(root.join(names::SIGNATURE))
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok());
    match (&key, sig) {
        (None, _) => failures.push(VerifyFailure::PublicKeyInvalid),
        (Some(_), None) => failures.push(VerifyFailure::SignatureMissing),
        (Some(k), Some(s)) => {
            if k.verify_strict(&manifest_bytes, &s).is_err() {
                failures.push(VerifyFailure::SignatureInvalid);
            }
        }
    }
    let signer_fingerprint = key.as_ref().map(fingerprint);
    if let (Some(m), Some(fp)) = (&manifest, &signer_fingerprint)
        && &m.signer.fingerprint != fp
    {
        failures.push(VerifyFailure::PublicKeyMismatch {
            manifest: m.signer.fingerprint.clone(),
            file: fp.clone(),
        });
    }

    // Files.
    let mut files_checked = 0u64;
    let mut recorded_errors = 0u64;
    let mut expected: HashSet<String> = [
        names::MANIFEST,
        names::SIGNATURE,
        names::PUBLIC_KEY,
        names::CUSTODY,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if let Some(m) = &manifest {
        let listed = m
            .package_files
            .iter()
            .map(|p| (p.path.clone(), p.path.clone(), p.sha256.clone(), p.size));
        let collected = m.files.iter().filter_map(|f| {
            if f.stored.is_none() && f.link_target.is_none() {
                recorded_errors += 1;
            }
            Some((
                f.path.clone(),
                f.stored.clone()?,
                f.sha256.clone()?,
                f.copied.unwrap_or(f.size),
            ))
        });
        let all: Vec<_> = listed.chain(collected).collect();
        for (path, stored, sha, size) in all {
            expected.insert(stored.clone());
            let Some(local) = safe_stored_path(&root, &stored) else {
                failures.push(VerifyFailure::FileMissing { path, stored });
                continue;
            };
            match hash_file(&local) {
                Ok((actual_size, actual)) => {
                    files_checked += 1;
                    if actual != sha || actual_size != size {
                        failures.push(VerifyFailure::FileChanged {
                            path,
                            stored,
                            expected: sha,
                            actual,
                            expected_size: size,
                            actual_size,
                        });
                    }
                }
                Err(_) => failures.push(VerifyFailure::FileMissing { path, stored }),
            }
        }
    }
    if root.join(names::STATE_DIR).exists() {
        failures.push(VerifyFailure::Unfinished);
    } else if manifest.is_some() {
        for entry in walkdir::WalkDir::new(&root)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(&root) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if !expected.contains(&rel) {
                failures.push(VerifyFailure::UnexpectedFile { stored: rel });
            }
        }
    }

    // Custody chain (archive log plus sidecar for archives).
    let loc = locate(package)?;
    let lines = loc.lines();
    if lines.is_empty() {
        failures.push(VerifyFailure::CustodyMissing);
    }
    let (entries, problems) = check_chain(&manifest_bytes, &lines);
    failures.extend(problems.into_iter().map(VerifyFailure::Custody));

    Ok(VerifyReport {
        package: package.to_path_buf(),
        files_checked,
        recorded_errors,
        manifest_sha256: sha256_hex(&manifest_bytes),
        signer_fingerprint,
        custody_entries: entries.len() as u64,
        failures,
    })
}

/// Compares an archive with `<archive>.sha256` (written by `archive_package`), when present.
fn archive_sum_failure(package: &Path) -> Option<VerifyFailure> {
    if !package.is_file() {
        return None;
    }
    let mut sum_path = package.as_os_str().to_owned();
    sum_path.push(".sha256");
    let text = std::fs::read_to_string(PathBuf::from(sum_path)).ok()?;
    let expected = text.split_whitespace().next()?.to_ascii_lowercase();
    let (_, actual) = hash_file(package).ok()?;
    (actual != expected).then_some(VerifyFailure::ArchiveChanged { expected, actual })
}
