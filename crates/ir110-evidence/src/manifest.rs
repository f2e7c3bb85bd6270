//! `manifest.json`: what was collected, from where, by whom, with every file's hash.
//!
//! The manifest is written once, at the end of a collection, as pretty-printed JSON; the
//! signature in `manifest.sig` covers its exact bytes. Readers must not re-serialise it before
//! checking the signature. The format is documented in `docs/package-format.md`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The value of [`Manifest::format`].
pub const FORMAT: &str = "ir110-evidence-package";
/// The version of the package format this crate writes.
pub const FORMAT_VERSION: u32 = 1;

/// Names of the package's own files.
pub mod names {
    /// The manifest.
    pub const MANIFEST: &str = "manifest.json";
    /// Raw 64-byte Ed25519 signature over the manifest bytes.
    pub const SIGNATURE: &str = "manifest.sig";
    /// The signer's public key (SubjectPublicKeyInfo PEM).
    pub const PUBLIC_KEY: &str = "signer.pub";
    /// The custody log.
    pub const CUSTODY: &str = "custody.jsonl";
    /// The listing of the whole source.
    pub const LISTING: &str = "listing.csv";
    /// Directory of per-target listings.
    pub const LISTINGS_DIR: &str = "listings";
    /// Directory holding the collected files under their original paths.
    pub const FILES_DIR: &str = "files";
    /// Directory of an unfinished collection's state (removed when the collection completes).
    pub const STATE_DIR: &str = ".ir110-collect";
}

/// Who collected, for which case, and anything said at the time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseMeta {
    /// Case reference as the provider writes it (`IR-2026-0001`).
    pub case: String,
    /// The examiner who ran the collection.
    pub examiner: String,
    /// The witness (立会人), usually the client's person in charge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<String>,
    /// Where the preservation took place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Free note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What the source is (`PC-01 の内蔵 SSD（読み取り専用でマウント）`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_description: Option<String>,
}

/// Facts about the machine that ran the collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFacts {
    /// Host name of the collecting machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Operating system (`linux`).
    pub os: String,
    /// CPU architecture (`x86_64`).
    pub arch: String,
    /// Kernel release, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// Whether the collection ran as root (matters for O_NOATIME and unreadable files).
    pub root: bool,
}

impl HostFacts {
    /// Facts about this machine, read from `/proc` (no environment variables).
    pub fn current() -> HostFacts {
        let read = |p: &str| {
            std::fs::read_to_string(p)
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        HostFacts {
            hostname: read("/proc/sys/kernel/hostname"),
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            kernel: read("/proc/sys/kernel/osrelease"),
            root: rustix::process::geteuid().is_root(),
        }
    }
}

/// The source as collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The source root on the collecting machine.
    pub root: String,
    /// The profile used.
    pub profile: String,
    /// SHA-256 of the profile's YAML text.
    pub profile_sha256: String,
    /// Host name found in the source (`etc/hostname`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
}

/// The tool that wrote the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// `ir110`.
    pub name: String,
    /// Version.
    pub version: String,
}

/// A file of the package itself (listings), hashed like collected files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageFile {
    /// Path inside the package, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// One file matched by the profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Original path, absolute from the source root: `/var/log/auth.log`.
    pub path: String,
    /// Where the copy is inside the package (`files/var/log/auth.log`); `None` when the file
    /// could not be read or is not a regular file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<String>,
    /// The profile target that matched.
    pub target: String,
    /// Size found by `stat` before reading.
    pub size: u64,
    /// Bytes actually copied (differs from `size` when the file changed while read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copied: Option<u64>,
    /// SHA-256 of the copied bytes, computed while copying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Modification time as found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime: Option<DateTime<Utc>>,
    /// Access time as found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atime: Option<DateTime<Utc>>,
    /// Inode change time as found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctime: Option<DateTime<Utc>>,
    /// Birth time as found, when the file system keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crtime: Option<DateTime<Utc>>,
    /// Mode as `ls -l` writes it.
    pub mode: String,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Symbolic link target, for links (not followed, not copied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
    /// Raw bytes of the relative path in hex, only when the name is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_bytes: Option<String>,
    /// `shift_jis` when `path` was decoded from a non-UTF-8 name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_decoded_as: Option<String>,
    /// Why the file is not (fully) in the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Counts for the summary and the preservation record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Entries in the listing of the whole source.
    pub listed: u64,
    /// Files matched by copy targets.
    pub matched: u64,
    /// Files copied and hashed.
    pub copied: u64,
    /// Files that could not be read (see their `error`).
    pub failed: u64,
    /// Bytes copied.
    pub bytes: u64,
    /// Entries recorded by list targets.
    pub listed_by_targets: u64,
    /// Directories or entries the walk could not read.
    pub walk_errors: u64,
}

/// A directory or entry the walk could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkError {
    /// Original path.
    pub path: String,
    /// The error.
    pub error: String,
}

/// The signer, as recorded in the manifest (the signature itself is in `manifest.sig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerInfo {
    /// `ed25519`.
    pub algorithm: String,
    /// Raw public key, hex.
    pub public_key: String,
    /// SHA-256 of the raw public key, hex.
    pub fingerprint: String,
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// Case, examiner, witness, note.
    #[serde(flatten)]
    pub meta: CaseMeta,
    /// The source.
    pub source: SourceInfo,
    /// When the collection started (UTC).
    pub started_at: DateTime<Utc>,
    /// When it finished (UTC).
    pub finished_at: DateTime<Utc>,
    /// How many times the collection was resumed after an interruption.
    #[serde(default)]
    pub resumed: u32,
    /// The tool.
    pub tool: ToolInfo,
    /// The collecting machine.
    pub host: HostFacts,
    /// The signer.
    pub signer: SignerInfo,
    /// Counts.
    pub counts: Counts,
    /// Names of copy targets that matched no file (what is missing).
    #[serde(default)]
    pub empty_targets: Vec<String>,
    /// Listings and other package files, hashed.
    pub package_files: Vec<PackageFile>,
    /// Entries the walk could not read.
    #[serde(default)]
    pub walk_errors: Vec<WalkError>,
    /// Every matched file, sorted by path.
    pub files: Vec<FileEntry>,
}
