//! Hash baselines of a webroot: `ir110 web baseline WEBROOT -o MANIFEST`, then
//! `ir110 web scan --baseline MANIFEST` lists files added, changed and removed since.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::WebError;

/// The manifest format tag.
pub const BASELINE_FORMAT: &str = "ir110-web-baseline/1";

/// One file in a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// SHA-256, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time when recorded.
    pub modified: Option<DateTime<Utc>>,
}

/// A webroot's recorded state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// [`BASELINE_FORMAT`].
    pub format: String,
    /// The webroot as given.
    pub root: String,
    /// When recorded.
    pub created: DateTime<Utc>,
    /// Files by `/`-separated relative path.
    pub files: BTreeMap<String, BaselineEntry>,
}

/// A file that differs from the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// Relative path.
    pub path: String,
    /// Modification time now (added/changed) or when recorded (removed).
    pub modified: Option<DateTime<Utc>>,
    /// Hash in the baseline.
    pub sha256_before: Option<String>,
    /// Hash now.
    pub sha256_after: Option<String>,
}

/// Differences between a baseline and the webroot now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct BaselineDiff {
    /// New files.
    pub added: Vec<FileChange>,
    /// Changed content.
    pub changed: Vec<FileChange>,
    /// Gone.
    pub removed: Vec<FileChange>,
}

/// SHA-256 of a file, streamed, read-only.
pub(crate) fn sha256_file(path: &Path) -> Result<(String, u64), WebError> {
    let io = |e| WebError::Io {
        path: path.to_owned(),
        source: e,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex::encode(h.finalize()), size))
}

/// Relative `/`-separated path of `path` under `root`.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Records every regular file under `root` (symlinks are not followed).
pub fn build_baseline(root: &Path) -> Result<Baseline, WebError> {
    let mut files = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| WebError::Walk {
            path: root.to_owned(),
            detail: e.to_string(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let (sha256, size) = sha256_file(entry.path())?;
        let modified = entry
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .map(DateTime::<Utc>::from);
        files.insert(
            relative(root, entry.path()),
            BaselineEntry {
                sha256,
                size,
                modified,
            },
        );
    }
    Ok(Baseline {
        format: BASELINE_FORMAT.to_owned(),
        root: root.display().to_string(),
        created: Utc::now(),
        files,
    })
}

impl Baseline {
    /// Writes the manifest as JSON.
    pub fn write(&self, path: &Path) -> Result<(), WebError> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| WebError::Baseline {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        std::fs::write(path, json).map_err(|e| WebError::Io {
            path: path.to_owned(),
            source: e,
        })
    }

    /// Reads a manifest.
    pub fn read(path: &Path) -> Result<Baseline, WebError> {
        let bytes = std::fs::read(path).map_err(|e| WebError::Io {
            path: path.to_owned(),
            source: e,
        })?;
        let b: Baseline = serde_json::from_slice(&bytes).map_err(|e| WebError::Baseline {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        if b.format != BASELINE_FORMAT {
            return Err(WebError::Baseline {
                path: path.to_owned(),
                detail: format!("unknown format `{}`", b.format),
            });
        }
        Ok(b)
    }

    /// Compares with the current state: `(relative path, sha256, modified)`.
    pub fn compare(&self, now: &BTreeMap<String, (String, Option<DateTime<Utc>>)>) -> BaselineDiff {
        let mut diff = BaselineDiff::default();
        for (path, (sha, modified)) in now {
            match self.files.get(path) {
                None => diff.added.push(FileChange {
                    path: path.clone(),
                    modified: *modified,
                    sha256_before: None,
                    sha256_after: Some(sha.clone()),
                }),
                Some(old) if &old.sha256 != sha => diff.changed.push(FileChange {
                    path: path.clone(),
                    modified: *modified,
                    sha256_before: Some(old.sha256.clone()),
                    sha256_after: Some(sha.clone()),
                }),
                Some(_) => {}
            }
        }
        for (path, old) in &self.files {
            if !now.contains_key(path) {
                diff.removed.push(FileChange {
                    path: path.clone(),
                    modified: old.modified,
                    sha256_before: Some(old.sha256.clone()),
                    sha256_after: None,
                });
            }
        }
        diff
    }
}
