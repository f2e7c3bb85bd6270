//! `collect`: walk the source once, list everything, copy and hash what the profile names, then
//! seal the package (manifest, signature, first custody entry).
//!
//! Crash safety: the collection keeps its state in `.ir110-collect/` inside the package:
//! `state.json` (settings, written first), `plan.json` (the walk's result, written atomically
//! when the walk is complete) and `journal.jsonl` (one line per finished file, synced). After a
//! `kill -9`, a resume re-reads the journal up to its last complete line, re-hashes every copy
//! the journal names (a copy that does not match is done again), and copies the rest; files
//! that were being copied when the process died are not in the journal and are copied again
//! from the start. The package is sealed only when every planned file has a journal line, so
//! the manifest names every file exactly once. Copies are not synced one by one (resume re-hashes
//! them instead); the journal is synced by group commit, and the whole package with `syncfs`
//! before the manifest is signed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use crate::copy::{
    BUF_SIZE, CopyError, HashingWriter, ReadOnlyOpener, SourceReader, copy_and_hash, hash_file,
};
use crate::custody::{CustodyAction, CustodyEvent, sha256_hex, signed_line};
use crate::error::{EvidenceError, IoContext};
use crate::keys::{fingerprint, public_key_pem};
use crate::manifest::{
    CaseMeta, Counts, FORMAT, FORMAT_VERSION, FileEntry, HostFacts, Manifest, PackageFile,
    SignerInfo, SourceInfo, ToolInfo, WalkError, names,
};
use crate::profile::{CompiledProfile, ProfileChoice, TargetAction};
use crate::walk::{EntryType, FsEntry, LISTING_HEADER, dir_id, listing_row, mode_string, walk};

/// The version written into manifests.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The stage a collection is in, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectPhase {
    /// Walking the whole source and writing the listing.
    Listing,
    /// Copying and hashing the planned files.
    Copying,
    /// Writing and signing the manifest.
    Sealing,
}

/// Receives progress. Called from worker threads; implementations must be cheap.
pub trait CollectObserver: Sync {
    /// A new phase starts.
    fn phase(&self, _phase: CollectPhase) {}
    /// Files and bytes left to copy (after a resume: only what remains).
    fn planned(&self, _files: u64, _bytes: u64) {}
    /// One file is finished (copied, or recorded as failed).
    fn file_done(&self, _path: &str, _bytes: u64) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;
impl CollectObserver for NoProgress {}

/// What to collect, from where, into where, by whom.
pub struct CollectOptions<'a> {
    /// The source root: a mounted image, a copied volume, or `/`.
    pub source: PathBuf,
    /// The package directory (created; must be empty unless resuming).
    pub out: PathBuf,
    /// The profile.
    pub profile: ProfileChoice,
    /// Case, examiner, witness, note.
    pub meta: CaseMeta,
    /// Finish an interrupted collection in `out` instead of starting a new one. The settings
    /// recorded when it started are used; `source` must be the same.
    pub resume: bool,
    /// The examiner's signing key.
    pub key: &'a SigningKey,
    /// Facts about this machine ([`HostFacts::current`]).
    pub host: HostFacts,
    /// How source files are opened.
    pub reader: &'a dyn SourceReader,
    /// Progress receiver.
    pub observer: &'a dyn CollectObserver,
    /// Copy threads (0: one per core, at most 4).
    pub threads: usize,
}

impl<'a> CollectOptions<'a> {
    /// Options with the automatic profile, the read-only opener and no progress.
    pub fn new(
        source: impl Into<PathBuf>,
        out: impl Into<PathBuf>,
        meta: CaseMeta,
        key: &'a SigningKey,
    ) -> Self {
        CollectOptions {
            source: source.into(),
            out: out.into(),
            profile: ProfileChoice::Auto,
            meta,
            resume: false,
            key,
            host: HostFacts::current(),
            reader: &ReadOnlyOpener,
            observer: &NoProgress,
            threads: 0,
        }
    }
}

/// What a collection did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectSummary {
    /// The package directory.
    pub package: PathBuf,
    /// The profile used.
    pub profile: String,
    /// Counts (same as in the manifest).
    pub counts: Counts,
    /// Files that could not be collected, with the error (original path, error).
    pub failed: Vec<(String, String)>,
    /// Files collected whose size changed while they were read (live logs): the copy and hash
    /// are of what was read (original path, detail).
    pub changed_while_read: Vec<(String, String)>,
    /// Copy targets that matched nothing.
    pub empty_targets: Vec<String>,
    /// Files whose copy from before an interruption was verified and kept.
    pub reused: u64,
    /// SHA-256 of `manifest.json`.
    pub manifest_sha256: String,
    /// Fingerprint of the signing key.
    pub signer_fingerprint: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    source_root: String,
    profile_name: String,
    profile_yaml: String,
    meta: CaseMeta,
    host: HostFacts,
    started_at: DateTime<Utc>,
    resumed: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Plan {
    listed: u64,
    listed_by_targets: u64,
    package_files: Vec<PackageFile>,
    walk_errors: Vec<WalkError>,
    files: Vec<FileEntry>,
}

fn state_dir(out: &Path) -> PathBuf {
    out.join(names::STATE_DIR)
}

/// Writes a file atomically: temp file, sync, rename, sync the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EvidenceError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = File::create(&tmp).at(&tmp)?;
        f.write_all(bytes).at(&tmp)?;
        f.sync_all().at(&tmp)?;
    }
    std::fs::rename(&tmp, path).at(path)?;
    if let Some(dir) = path.parent() {
        File::open(dir).and_then(|d| d.sync_all()).at(dir)?;
    }
    Ok(())
}

fn to_json<T: Serialize>(value: &T, path: &Path) -> Result<Vec<u8>, EvidenceError> {
    serde_json::to_vec_pretty(value).map_err(|source| EvidenceError::Json {
        path: path.to_path_buf(),
        source,
    })
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, EvidenceError> {
    let bytes = std::fs::read(path).at(path)?;
    serde_json::from_slice(&bytes).map_err(|source| EvidenceError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// The source-relative path bytes of a planned entry.
fn source_rel(entry: &FileEntry) -> Vec<u8> {
    entry
        .path_bytes
        .as_deref()
        .and_then(|h| hex::decode(h).ok())
        .unwrap_or_else(|| entry.path.trim_start_matches('/').as_bytes().to_vec())
}

fn planned_entry(e: &FsEntry, target: &str) -> FileEntry {
    FileEntry {
        path: format!("/{}", e.name.display),
        stored: (e.kind == EntryType::File)
            .then(|| format!("{}/{}", names::FILES_DIR, e.name.stored)),
        target: target.to_owned(),
        size: e.size,
        copied: None,
        sha256: None,
        mtime: e.mtime,
        atime: e.atime,
        ctime: e.ctime,
        crtime: e.btime,
        mode: mode_string(e.mode),
        uid: e.uid,
        gid: e.gid,
        link_target: e.link_target.clone(),
        path_bytes: e.name.raw_hex.clone(),
        path_decoded_as: e.name.decoded_as.map(str::to_owned),
        error: match e.kind {
            EntryType::File | EntryType::Symlink => None,
            EntryType::Dir => Some("directory".to_owned()),
            EntryType::Other => {
                Some("not a regular file (device, FIFO or socket); not read".to_owned())
            }
        },
    }
}

/// Walks the source, writes `listing.csv` and the per-target listings, and returns the plan.
fn make_plan(source: &Path, out: &Path, profile: &CompiledProfile) -> Result<Plan, EvidenceError> {
    let listing_path = out.join(names::LISTING);
    let mut listing = HashingWriter::new(BufWriter::new(
        File::create(&listing_path).at(&listing_path)?,
    ));
    listing
        .write_all(LISTING_HEADER.as_bytes())
        .at(&listing_path)?;
    let mut target_listings: BTreeMap<String, HashingWriter<BufWriter<File>>> = BTreeMap::new();
    let mut files = Vec::new();
    let mut listed = 0u64;
    let mut listed_by_targets = 0u64;
    let mut write_error: Option<EvidenceError> = None;
    let skip = dir_id(out);
    let descend = |rel: &[u8]| profile.descend(&String::from_utf8_lossy(rel));
    let walk_errors = walk(source, skip, &descend, &mut |e: FsEntry| {
        if write_error.is_some() {
            return;
        }
        let row = listing_row(&e);
        if let Err(err) = listing.write_all(row.as_bytes()) {
            write_error = Some(EvidenceError::io(&listing_path, err));
            return;
        }
        listed += 1;
        if e.kind == EntryType::Dir {
            return;
        }
        let Some(target) = profile.target_for(&e.name.display) else {
            return;
        };
        match target.action {
            TargetAction::Copy => files.push(planned_entry(&e, &target.name)),
            TargetAction::List => {
                let path = out
                    .join(names::LISTINGS_DIR)
                    .join(format!("{}.csv", target.name));
                let w = match target_listings.entry(target.name.clone()) {
                    std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::btree_map::Entry::Vacant(v) => {
                        let created = std::fs::create_dir_all(out.join(names::LISTINGS_DIR))
                            .and_then(|()| File::create(&path))
                            .and_then(|f| {
                                let mut w = HashingWriter::new(BufWriter::new(f));
                                w.write_all(LISTING_HEADER.as_bytes())?;
                                Ok(w)
                            });
                        match created {
                            Ok(w) => v.insert(w),
                            Err(err) => {
                                write_error = Some(EvidenceError::io(&path, err));
                                return;
                            }
                        }
                    }
                };
                if let Err(err) = w.write_all(row.as_bytes()) {
                    write_error = Some(EvidenceError::io(&path, err));
                    return;
                }
                listed_by_targets += 1;
            }
        }
    });
    if let Some(e) = write_error {
        return Err(e);
    }
    let mut package_files = Vec::new();
    let mut finish =
        |w: HashingWriter<BufWriter<File>>, rel: String| -> Result<(), EvidenceError> {
            let (buf, size, sha256) = w.finish();
            let path = out.join(&rel);
            let file = buf
                .into_inner()
                .map_err(|e| EvidenceError::io(&path, e.into_error()))?;
            file.sync_all().at(&path)?;
            package_files.push(PackageFile {
                path: rel,
                size,
                sha256,
            });
            Ok(())
        };
    finish(listing, names::LISTING.to_owned())?;
    for (name, w) in target_listings {
        finish(w, format!("{}/{name}.csv", names::LISTINGS_DIR))?;
    }
    Ok(Plan {
        listed,
        listed_by_targets,
        package_files,
        walk_errors: walk_errors
            .into_iter()
            .map(|(p, e)| WalkError {
                path: format!("/{p}"),
                error: e.to_string(),
            })
            .collect(),
        files,
    })
}

/// Reads the journal up to its last complete, valid line and truncates anything after it (the
/// torn line of a killed process), so that later appends start on a clean line.
fn load_journal(path: &Path) -> Result<Vec<FileEntry>, EvidenceError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(EvidenceError::io(path, e)),
    };
    let mut entries = Vec::new();
    let mut good = 0usize;
    let mut start = 0usize;
    while let Some(nl) = bytes[start..].iter().position(|&b| b == b'\n') {
        let line = &bytes[start..start + nl];
        match serde_json::from_slice::<FileEntry>(line) {
            Ok(e) => entries.push(e),
            Err(_) => break,
        }
        start += nl + 1;
        good = start;
    }
    if good < bytes.len() {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .at(path)?;
        f.set_len(good as u64).at(path)?;
        f.sync_all().at(path)?;
    }
    Ok(entries)
}

/// Copies one planned file into the package.
fn copy_one(
    source: &Path,
    out: &Path,
    plan: &FileEntry,
    reader: &dyn SourceReader,
    buf: &mut [u8],
) -> Result<FileEntry, EvidenceError> {
    let mut entry = plan.clone();
    let Some(stored) = plan.stored.clone() else {
        return Ok(entry);
    };
    let src = source.join(OsStr::from_bytes(&source_rel(plan)));
    let dest = out.join(&stored);
    let mut input = match reader.open(&src) {
        Ok(r) => r,
        Err(e) => {
            // A partial copy from before an interruption must not stay behind unlisted.
            match std::fs::remove_file(&dest) {
                Err(r) if r.kind() != std::io::ErrorKind::NotFound => {
                    return Err(EvidenceError::io(&dest, r));
                }
                _ => {}
            }
            entry.stored = None;
            entry.error = Some(format!("open failed: {e}"));
            return Ok(entry);
        }
    };
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).at(parent)?;
    }
    let mut file = File::create(&dest).at(&dest)?;
    match copy_and_hash(&mut *input as &mut dyn Read, &mut file, buf) {
        Ok((n, sha)) => {
            // Not synced here: a resume re-hashes every copy the journal names, so a copy lost
            // in a power cut is found and made again; the whole package is synced (syncfs)
            // before the manifest is signed. Syncing each file would make the collection wait
            // on the disk once per file.
            let times = std::fs::FileTimes::new();
            let times = match plan.mtime {
                Some(m) => times.set_modified(m.into()),
                None => times,
            };
            let times = match plan.atime {
                Some(a) => times.set_accessed(a.into()),
                None => times,
            };
            // Copies carry the original times so that tools reading the package see them;
            // failure to set them is harmless (the manifest has the originals).
            let _ = file.set_times(times);
            entry.copied = Some(n);
            entry.sha256 = Some(sha);
            if n != plan.size {
                entry.error = Some(format!(
                    "size changed while reading: {} bytes at listing time, {n} bytes read",
                    plan.size
                ));
            }
        }
        Err(CopyError::Read(e)) => {
            drop(file);
            std::fs::remove_file(&dest).at(&dest)?;
            entry.stored = None;
            entry.error = Some(format!("read failed: {e}"));
        }
        Err(CopyError::Write(e)) => return Err(EvidenceError::io(&dest, e)),
    }
    Ok(entry)
}

/// Runs (or resumes) a collection and seals the package.
pub fn collect(opts: &CollectOptions<'_>) -> Result<CollectSummary, EvidenceError> {
    if !opts.source.is_dir() {
        return Err(EvidenceError::Source {
            path: opts.source.clone(),
        });
    }
    let source = opts.source.canonicalize().at(&opts.source)?;
    let out = &opts.out;
    let sdir = state_dir(out);
    let state_path = sdir.join("state.json");
    let state = if opts.resume {
        if !state_path.is_file() {
            return Err(EvidenceError::NothingToResume { path: out.clone() });
        }
        let mut state: State = read_json(&state_path)?;
        if state.source_root != source.to_string_lossy() {
            return Err(EvidenceError::ResumeMismatch {
                detail: format!(
                    "the collection was started from {}, not {}",
                    state.source_root,
                    source.display()
                ),
            });
        }
        state.resumed += 1;
        write_atomic(&state_path, &to_json(&state, &state_path)?)?;
        state
    } else {
        if out.exists() {
            let empty = std::fs::read_dir(out).at(out)?.next().is_none();
            if !empty {
                return Err(EvidenceError::OutputNotEmpty { path: out.clone() });
            }
        }
        let profile = CompiledProfile::resolve(&opts.profile, &source)?;
        std::fs::create_dir_all(&sdir).at(&sdir)?;
        let state = State {
            source_root: source.to_string_lossy().into_owned(),
            profile_name: profile.profile.name.clone(),
            profile_yaml: profile.yaml.clone(),
            meta: opts.meta.clone(),
            host: opts.host.clone(),
            started_at: Utc::now(),
            resumed: 0,
        };
        write_atomic(&state_path, &to_json(&state, &state_path)?)?;
        state
    };
    let profile = CompiledProfile::from_yaml(&state.profile_name, &state.profile_yaml)?;

    // Phase 1: the walk.
    let plan_path = sdir.join("plan.json");
    let plan: Plan = if plan_path.is_file() {
        read_json(&plan_path)?
    } else {
        opts.observer.phase(CollectPhase::Listing);
        let plan = make_plan(&source, out, &profile)?;
        write_atomic(&plan_path, &to_json(&plan, &plan_path)?)?;
        plan
    };

    // Phase 2: copies, journaled.
    opts.observer.phase(CollectPhase::Copying);
    let journal_path = sdir.join("journal.jsonl");
    let planned: HashSet<&str> = plan.files.iter().map(|f| f.path.as_str()).collect();
    let mut done: HashMap<String, FileEntry> = HashMap::new();
    let mut reused = 0u64;
    for entry in load_journal(&journal_path)? {
        if !planned.contains(entry.path.as_str()) {
            continue;
        }
        let intact = match (&entry.stored, &entry.sha256) {
            (Some(stored), Some(sha)) => hash_file(&out.join(stored)).is_ok_and(|(_, h)| &h == sha),
            _ => true,
        };
        if intact {
            if entry.stored.is_some() {
                reused += 1;
            }
            done.insert(entry.path.clone(), entry);
        }
    }
    let todo: Vec<&FileEntry> = plan
        .files
        .iter()
        .filter(|f| !done.contains_key(&f.path))
        .collect();
    opts.observer
        .planned(todo.len() as u64, todo.iter().map(|f| f.size).sum());
    let mut journal = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&journal_path)
        .at(&journal_path)?;
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get().min(4)),
        n => n,
    };
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let first_error: Mutex<Option<EvidenceError>> = Mutex::new(None);
    std::thread::scope(|scope| -> Result<(), EvidenceError> {
        let (tx, rx) = mpsc::channel::<FileEntry>();
        for _ in 0..threads {
            let tx = tx.clone();
            let (todo, next, abort, first_error) = (&todo, &next, &abort, &first_error);
            let source = &source;
            scope.spawn(move || {
                let mut buf = vec![0u8; BUF_SIZE];
                while !abort.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(plan) = todo.get(i) else { break };
                    match copy_one(source, out, plan, opts.reader, &mut buf) {
                        Ok(entry) => {
                            if tx.send(entry).is_err() {
                                break;
                            }
                        }
                        Err(e) => {
                            abort.store(true, Ordering::Relaxed);
                            if let Ok(mut slot) = first_error.lock() {
                                slot.get_or_insert(e);
                            }
                            break;
                        }
                    }
                }
            });
        }
        drop(tx);
        // Group commit: each finished file gets its own journal line at once (one write, so a
        // killed process leaves at most one torn line), and the journal is synced whenever the
        // queue of finished files is empty: once per file when the disk keeps up, once per
        // batch when it does not.
        let mut unsynced = 0usize;
        let mut pending = rx.recv().ok();
        while let Some(entry) = pending {
            let mut line = serde_json::to_vec(&entry).map_err(|source| EvidenceError::Json {
                path: journal_path.clone(),
                source,
            })?;
            line.push(b'\n');
            if let Err(e) = journal.write_all(&line) {
                abort.store(true, Ordering::Relaxed);
                return Err(EvidenceError::io(&journal_path, e));
            }
            unsynced += 1;
            opts.observer
                .file_done(&entry.path, entry.copied.unwrap_or(0));
            done.insert(entry.path.clone(), entry);
            pending = match rx.try_recv() {
                Ok(next) => Some(next),
                Err(_) => {
                    if let Err(e) = journal.sync_data() {
                        abort.store(true, Ordering::Relaxed);
                        return Err(EvidenceError::io(&journal_path, e));
                    }
                    unsynced = 0;
                    rx.recv().ok()
                }
            };
        }
        if unsynced > 0 {
            journal.sync_data().at(&journal_path)?;
        }
        Ok(())
    })?;
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e);
    }

    // Phase 3: seal. Every copy reaches the disk before the manifest vouches for it.
    opts.observer.phase(CollectPhase::Sealing);
    let out_dir = File::open(out).at(out)?;
    rustix::fs::syncfs(&out_dir).map_err(|e| EvidenceError::io(out, e.into()))?;
    seal(out, &state, &plan, done, reused, opts.key)
}

fn seal(
    out: &Path,
    state: &State,
    plan: &Plan,
    mut done: HashMap<String, FileEntry>,
    reused: u64,
    key: &SigningKey,
) -> Result<CollectSummary, EvidenceError> {
    let mut files: Vec<FileEntry> = plan
        .files
        .iter()
        .map(|p| {
            done.remove(&p.path).unwrap_or_else(|| {
                // Every planned file went through the copy loop; this only happens if the plan
                // names a file twice, which the walk never does.
                let mut e = p.clone();
                e.stored = None;
                e.error = Some("not collected".to_owned());
                e
            })
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut counts = Counts {
        listed: plan.listed,
        matched: files.len() as u64,
        listed_by_targets: plan.listed_by_targets,
        walk_errors: plan.walk_errors.len() as u64,
        ..Counts::default()
    };
    let mut failed = Vec::new();
    let mut changed = Vec::new();
    for f in &files {
        if f.stored.is_some() && f.sha256.is_some() {
            counts.copied += 1;
            counts.bytes += f.copied.unwrap_or(0);
        } else if f.link_target.is_none() {
            counts.failed += 1;
        }
        if let Some(err) = &f.error {
            if f.stored.is_some() {
                changed.push((f.path.clone(), err.clone()));
            } else {
                failed.push((f.path.clone(), err.clone()));
            }
        }
    }
    let profile = CompiledProfile::from_yaml(&state.profile_name, &state.profile_yaml)?;
    let matched: HashSet<&str> = files.iter().map(|f| f.target.as_str()).collect();
    let empty_targets: Vec<String> = profile
        .profile
        .targets
        .iter()
        .filter(|t| t.action == TargetAction::Copy && !matched.contains(t.name.as_str()))
        .map(|t| t.name.clone())
        .collect();
    let source_hostname = std::fs::read_to_string(out.join(names::FILES_DIR).join("etc/hostname"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let vk = key.verifying_key();
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        meta: state.meta.clone(),
        source: SourceInfo {
            root: state.source_root.clone(),
            profile: state.profile_name.clone(),
            profile_sha256: profile.sha256.clone(),
            hostname: source_hostname,
        },
        started_at: state.started_at,
        finished_at: Utc::now(),
        resumed: state.resumed,
        tool: ToolInfo {
            name: "ir110".to_owned(),
            version: TOOL_VERSION.to_owned(),
        },
        host: state.host.clone(),
        signer: SignerInfo {
            algorithm: "ed25519".to_owned(),
            public_key: hex::encode(vk.as_bytes()),
            fingerprint: fingerprint(&vk),
        },
        counts: counts.clone(),
        empty_targets: empty_targets.clone(),
        package_files: plan.package_files.clone(),
        walk_errors: plan.walk_errors.clone(),
        files,
    };
    let manifest_path = out.join(names::MANIFEST);
    let mut bytes = to_json(&manifest, &manifest_path)?;
    bytes.push(b'\n');
    write_atomic(&manifest_path, &bytes)?;
    write_atomic(&out.join(names::SIGNATURE), &key.sign(&bytes).to_bytes())?;
    write_atomic(&out.join(names::PUBLIC_KEY), public_key_pem(&vk).as_bytes())?;
    let manifest_sha256 = sha256_hex(&bytes);
    let mut event = CustodyEvent::new(CustodyAction::Collected, state.meta.examiner.clone());
    event.witness = state.meta.witness.clone();
    event.place = state.meta.place.clone();
    event.note = state.meta.note.clone();
    event.at = Some(manifest.finished_at);
    let (_, line) = signed_line(1, manifest_sha256.clone(), &event, key)?;
    write_atomic(&out.join(names::CUSTODY), format!("{line}\n").as_bytes())?;
    let sdir = state_dir(out);
    std::fs::remove_dir_all(&sdir).at(&sdir)?;
    Ok(CollectSummary {
        package: out.to_path_buf(),
        profile: state.profile_name.clone(),
        counts,
        failed,
        changed_while_read: changed,
        empty_targets,
        reused,
        manifest_sha256,
        signer_fingerprint: fingerprint(&vk),
    })
}
