//! Packages as triage input: open a directory or archive package and list the collected files
//! with their original paths and manifest hashes.

use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use ir110_model::{SourceFile, SourceKind};

use crate::archive::{FileKind, extract, read_member, sniff};
use crate::custody::sha256_hex;
use crate::error::{EvidenceError, IoContext};
use crate::manifest::{Manifest, names};

/// An opened evidence package. For archives the content is extracted into a temporary
/// directory owned by the `Package` and removed when it is dropped.
#[derive(Debug)]
pub struct Package {
    path: PathBuf,
    root: PathBuf,
    manifest_bytes: Vec<u8>,
    manifest: Option<Manifest>,
    _temp: Option<tempfile::TempDir>,
}

/// A collected file, ready to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageEntry {
    /// Where to read it now.
    pub local_path: PathBuf,
    /// The original path on the source (`/var/log/auth.log`).
    pub original_path: String,
    /// SHA-256 from the manifest.
    pub sha256: String,
    /// Size from the manifest (bytes copied).
    pub size: u64,
    /// Modification time as found at collection.
    pub modified: Option<DateTime<Utc>>,
    /// The profile target that collected it.
    pub target: String,
}

impl PackageEntry {
    /// The entry as an analyzer input: findings then cite the original path and the manifest
    /// hash. `kind` comes from sniffing the content ([`SourceKind::sniff`]).
    pub fn source_file(&self, kind: SourceKind) -> SourceFile {
        SourceFile {
            path: self.local_path.clone(),
            display_path: self.original_path.clone(),
            size: self.size,
            kind,
            modified: self.modified,
            sha256: Some(self.sha256.clone()),
        }
    }
}

/// `root/stored` when `stored` is a plain relative path (no `..`, not absolute).
pub(crate) fn safe_stored_path(root: &Path, stored: &str) -> Option<PathBuf> {
    let p = Path::new(stored);
    p.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| root.join(p))
}

/// Opens a package. `Ok(None)` when the path is not a package (a plain log directory, a
/// random zip); an error when it is one but cannot be read, or is age-encrypted.
pub fn open_package(path: &Path) -> Result<Option<Package>, EvidenceError> {
    open_package_in(path, None)
}

/// Like [`open_package`], extracting archives under `temp_parent` (default: the system
/// temporary directory). Archives can be large: point this at a roomy disk.
pub fn open_package_in(
    path: &Path,
    temp_parent: Option<&Path>,
) -> Result<Option<Package>, EvidenceError> {
    if path.is_dir() {
        let manifest_path = path.join(names::MANIFEST);
        if !manifest_path.is_file() {
            return Ok(None);
        }
        let manifest_bytes = std::fs::read(&manifest_path).at(&manifest_path)?;
        return Ok(Some(Package {
            path: path.to_path_buf(),
            root: path.to_path_buf(),
            manifest: serde_json::from_slice(&manifest_bytes).ok(),
            manifest_bytes,
            _temp: None,
        }));
    }
    if !path.is_file() {
        return Ok(None);
    }
    match sniff(path)? {
        FileKind::Zip | FileKind::TarZst => {}
        FileKind::Age => {
            return Err(EvidenceError::Encrypted {
                path: path.to_path_buf(),
            });
        }
        FileKind::Other => return Ok(None),
    }
    if read_member(path, names::MANIFEST)?.is_none() {
        return Ok(None);
    }
    let temp = match temp_parent {
        Some(parent) => tempfile::Builder::new()
            .prefix("ir110-package-")
            .tempdir_in(parent),
        None => tempfile::Builder::new().prefix("ir110-package-").tempdir(),
    }
    .at(temp_parent.unwrap_or(Path::new("/tmp")))?;
    let root = extract(path, temp.path())?;
    let manifest_path = root.join(names::MANIFEST);
    let manifest_bytes = std::fs::read(&manifest_path).at(&manifest_path)?;
    Ok(Some(Package {
        path: path.to_path_buf(),
        root,
        manifest: serde_json::from_slice(&manifest_bytes).ok(),
        manifest_bytes,
        _temp: Some(temp),
    }))
}

impl Package {
    /// The path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The package directory to read (the extraction directory for archives).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The manifest, when it parses (`verify` says why it does not).
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// The exact bytes of `manifest.json`.
    pub fn manifest_bytes(&self) -> &[u8] {
        &self.manifest_bytes
    }

    /// SHA-256 of `manifest.json`.
    pub fn manifest_sha256(&self) -> String {
        sha256_hex(&self.manifest_bytes)
    }

    /// The listing of the whole source (`listing.csv`).
    pub fn listing_path(&self) -> PathBuf {
        self.root.join(names::LISTING)
    }

    /// Every collected file, in manifest order. Files that were not collected (read errors,
    /// links) are left out; entries whose stored path is unsafe are left out too.
    pub fn entries(&self) -> impl Iterator<Item = PackageEntry> + '_ {
        self.manifest
            .iter()
            .flat_map(|m| m.files.iter())
            .filter_map(|f| {
                let stored = f.stored.as_deref()?;
                Some(PackageEntry {
                    local_path: safe_stored_path(&self.root, stored)?,
                    original_path: f.path.clone(),
                    sha256: f.sha256.clone()?,
                    size: f.copied.unwrap_or(f.size),
                    modified: f.mtime,
                    target: f.target.clone(),
                })
            })
    }
}
