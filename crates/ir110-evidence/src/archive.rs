//! Archives of finished packages (`zip`, `tar.zst`), reading them back, and `age` encryption
//! for transport.
//!
//! An archive holds the package directory under one top-level folder named after it, with the
//! package's own files (manifest, signature, key, custody log, listings) first so that a reader
//! can find the manifest without reading the collected files. Names are UTF-8; zip entries with
//! non-ASCII names carry the UTF-8 flag (bit 11).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::copy::hash_file;
use crate::error::{EvidenceError, IoContext};
use crate::manifest::names;
use crate::names::zip_entry_name;

/// Archive formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// ZIP64 with deflate.
    Zip,
    /// tar compressed with zstd.
    TarZst,
}

impl ArchiveFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ArchiveFormat::Zip => "zip",
            ArchiveFormat::TarZst => "tar.zst",
        }
    }
}

impl FromStr for ArchiveFormat {
    type Err = EvidenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "zip" => Ok(ArchiveFormat::Zip),
            "tar.zst" | "tzst" => Ok(ArchiveFormat::TarZst),
            other => Err(EvidenceError::Archive {
                path: PathBuf::from(other),
                detail: "unknown archive format (zip, tar.zst)".to_owned(),
            }),
        }
    }
}

/// A finished archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSummary {
    /// The archive file.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Its SHA-256 (also written to `<archive>.sha256` in `sha256sum` format).
    pub sha256: String,
}

/// The package's files in archive order: own files first, then collected files, each group
/// sorted.
fn package_members(dir: &Path) -> Result<Vec<(String, PathBuf)>, EvidenceError> {
    let mut own = Vec::new();
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| EvidenceError::Archive {
            path: dir.to_path_buf(),
            detail: e.to_string(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .map_err(|e| EvidenceError::Archive {
                path: entry.path().to_path_buf(),
                detail: e.to_string(),
            })?;
        let rel_str = rel.to_string_lossy().replace('\\', "/");
        if rel_str.starts_with(names::STATE_DIR) {
            return Err(EvidenceError::Archive {
                path: dir.to_path_buf(),
                detail: "the collection is not finished (resume it first)".to_owned(),
            });
        }
        if rel_str.starts_with(&format!("{}/", names::FILES_DIR)) {
            files.push((rel_str, entry.path().to_path_buf()));
        } else {
            own.push((rel_str, entry.path().to_path_buf()));
        }
    }
    // Manifest first: a streaming reader finds it at once.
    own.sort_by_key(|(n, _)| (n != names::MANIFEST, n.clone()));
    own.extend(files);
    Ok(own)
}

/// Archives a finished package directory to `dest` and writes `<dest>.sha256`.
pub fn archive_package(
    dir: &Path,
    format: ArchiveFormat,
    dest: &Path,
) -> Result<ArchiveSummary, EvidenceError> {
    if !dir.join(names::MANIFEST).is_file() {
        return Err(EvidenceError::NotAPackage {
            path: dir.to_path_buf(),
        });
    }
    let top = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "package".to_owned());
    let members = package_members(dir)?;
    let arch_err = |detail: String| EvidenceError::Archive {
        path: dest.to_path_buf(),
        detail,
    };
    let out = BufWriter::new(File::create(dest).at(dest)?);
    let out = match format {
        ArchiveFormat::Zip => {
            let mut zip = zip::ZipWriter::new(out);
            for (name, path) in &members {
                let meta = std::fs::metadata(path).at(path)?;
                let options = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated)
                    .large_file(meta.len() >= u64::from(u32::MAX))
                    .unix_permissions(0o644);
                zip.start_file(format!("{top}/{name}"), options)
                    .map_err(|e| arch_err(e.to_string()))?;
                let mut f = File::open(path).at(path)?;
                std::io::copy(&mut f, &mut zip).at(dest)?;
            }
            zip.finish().map_err(|e| arch_err(e.to_string()))?
        }
        ArchiveFormat::TarZst => {
            let mut enc = zstd::Encoder::new(out, 3).at(dest)?;
            // A frame checksum lets a reader tell transport damage from a bad package.
            enc.include_checksum(true).at(dest)?;
            let mut tar = tar::Builder::new(enc);
            tar.mode(tar::HeaderMode::Deterministic);
            for (name, path) in &members {
                tar.append_path_with_name(path, format!("{top}/{name}"))
                    .at(dest)?;
            }
            let enc = tar.into_inner().at(dest)?;
            enc.finish().at(dest)?
        }
    };
    let file = out
        .into_inner()
        .map_err(|e| EvidenceError::io(dest, e.into_error()))?;
    file.sync_all().at(dest)?;
    drop(file);
    // Hashed from the disk after writing: what the recipient will hash.
    let (size, sha256) = hash_file(dest).at(dest)?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut sum_path = dest.as_os_str().to_owned();
    sum_path.push(".sha256");
    let sum_path = PathBuf::from(sum_path);
    std::fs::write(&sum_path, format!("{sha256}  {name}\n")).at(&sum_path)?;
    Ok(ArchiveSummary {
        path: dest.to_path_buf(),
        size,
        sha256,
    })
}

/// What kind of file a path is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Zip,
    TarZst,
    Age,
    Other,
}

pub(crate) fn sniff(path: &Path) -> Result<FileKind, EvidenceError> {
    let mut head = [0u8; 21];
    let mut f = File::open(path).at(path)?;
    let n = f.read(&mut head).at(path)?;
    let head = &head[..n];
    Ok(if head.starts_with(b"PK\x03\x04") {
        FileKind::Zip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        FileKind::TarZst
    } else if head.starts_with(b"age-encryption.org/v1") {
        FileKind::Age
    } else {
        FileKind::Other
    })
}

/// Splits `top/rest` and returns `rest` (archive names carry one top-level folder).
fn strip_top(name: &str) -> Option<&str> {
    name.split_once('/')
        .map(|(_, rest)| rest)
        .filter(|r| !r.is_empty())
}

/// Reads one package member (`manifest.json`, `custody.jsonl`) from an archive package.
pub(crate) fn read_member(archive: &Path, member: &str) -> Result<Option<Vec<u8>>, EvidenceError> {
    let err = |detail: String| EvidenceError::Archive {
        path: archive.to_path_buf(),
        detail,
    };
    match sniff(archive)? {
        FileKind::Zip => {
            let mut zip = zip::ZipArchive::new(BufReader::new(File::open(archive).at(archive)?))
                .map_err(|e| err(e.to_string()))?;
            for i in 0..zip.len() {
                let mut f = zip.by_index(i).map_err(|e| err(e.to_string()))?;
                let name = zip_entry_name(f.name_raw(), f.name());
                if strip_top(&name) == Some(member) {
                    let mut buf = Vec::new();
                    f.read_to_end(&mut buf).map_err(|e| err(e.to_string()))?;
                    return Ok(Some(buf));
                }
            }
            Ok(None)
        }
        FileKind::TarZst => {
            let dec = zstd::Decoder::new(File::open(archive).at(archive)?).at(archive)?;
            let mut tar = tar::Archive::new(dec);
            for entry in tar.entries().map_err(|e| err(e.to_string()))? {
                let mut entry = entry.map_err(|e| err(e.to_string()))?;
                let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                if strip_top(&name) == Some(member) {
                    let mut buf = Vec::new();
                    entry
                        .read_to_end(&mut buf)
                        .map_err(|e| err(e.to_string()))?;
                    return Ok(Some(buf));
                }
            }
            Ok(None)
        }
        FileKind::Age => Err(EvidenceError::Encrypted {
            path: archive.to_path_buf(),
        }),
        FileKind::Other => Ok(None),
    }
}

/// Extracts an archive package into `dest` (which must exist) and returns the package
/// directory inside it. Entry names that would escape `dest` are refused.
pub(crate) fn extract(archive: &Path, dest: &Path) -> Result<PathBuf, EvidenceError> {
    let err = |detail: String| EvidenceError::Archive {
        path: archive.to_path_buf(),
        detail,
    };
    let mut tops = std::collections::BTreeSet::new();
    match sniff(archive)? {
        FileKind::Zip => {
            let mut zip = zip::ZipArchive::new(BufReader::new(File::open(archive).at(archive)?))
                .map_err(|e| err(e.to_string()))?;
            for i in 0..zip.len() {
                let mut f = zip.by_index(i).map_err(|e| err(e.to_string()))?;
                if f.is_dir() {
                    continue;
                }
                let name = zip_entry_name(f.name_raw(), f.name());
                let rel = safe_relative(&name)
                    .ok_or_else(|| err(format!("unsafe entry name `{name}`")))?;
                if let Some(first) = rel.components().next() {
                    tops.insert(first.as_os_str().to_owned());
                }
                let path = dest.join(&rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).at(parent)?;
                }
                let mut out = File::create(&path).at(&path)?;
                std::io::copy(&mut f, &mut out).map_err(|e| err(format!("{name}: {e}")))?;
            }
        }
        FileKind::TarZst => {
            let dec = zstd::Decoder::new(File::open(archive).at(archive)?).at(archive)?;
            let mut tar = tar::Archive::new(dec);
            for entry in tar.entries().map_err(|e| err(e.to_string()))? {
                let mut entry = entry.map_err(|e| err(e.to_string()))?;
                let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                let rel = safe_relative(&name)
                    .ok_or_else(|| err(format!("unsafe entry name `{name}`")))?;
                if let Some(first) = rel.components().next() {
                    tops.insert(first.as_os_str().to_owned());
                }
                if !entry
                    .unpack_in(dest)
                    .map_err(|e| err(format!("{name}: {e}")))?
                {
                    return Err(err(format!("unsafe entry name `{name}`")));
                }
            }
        }
        FileKind::Age => {
            return Err(EvidenceError::Encrypted {
                path: archive.to_path_buf(),
            });
        }
        FileKind::Other => {
            return Err(EvidenceError::NotAPackage {
                path: archive.to_path_buf(),
            });
        }
    }
    if dest.join(names::MANIFEST).is_file() {
        return Ok(dest.to_path_buf());
    }
    match tops.into_iter().collect::<Vec<_>>().as_slice() {
        [one] if dest.join(one).join(names::MANIFEST).is_file() => Ok(dest.join(one)),
        _ => Err(EvidenceError::NotAPackage {
            path: archive.to_path_buf(),
        }),
    }
}

/// A relative path with only normal components, or `None`.
fn safe_relative(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    let ok = p
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    (ok && !name.is_empty()).then(|| p.to_path_buf())
}

/// Encrypts `input` to age X25519 recipients (`age1…`), writing `output`.
pub fn encrypt_file(
    input: &Path,
    recipients: &[String],
    output: &Path,
) -> Result<(), EvidenceError> {
    let enc_err = |detail: String| EvidenceError::Encrypt { detail };
    let parsed = recipients
        .iter()
        .map(|r| {
            age::x25519::Recipient::from_str(r.trim())
                .map_err(|e| enc_err(format!("recipient `{r}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if parsed.is_empty() {
        return Err(enc_err("no recipients".to_owned()));
    }
    let encryptor =
        age::Encryptor::with_recipients(parsed.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| enc_err(e.to_string()))?;
    let mut src = BufReader::new(File::open(input).at(input)?);
    let out = BufWriter::new(File::create(output).at(output)?);
    let mut writer = encryptor.wrap_output(out).at(output)?;
    std::io::copy(&mut src, &mut writer).at(output)?;
    let out = writer.finish().at(output)?;
    let file = out
        .into_inner()
        .map_err(|e| EvidenceError::io(output, e.into_error()))?;
    file.sync_all().at(output)
}
