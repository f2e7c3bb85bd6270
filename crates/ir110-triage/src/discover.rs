//! Walking evidence paths and classifying what is found.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ir110_evidence::{Package, open_package};
use ir110_model::{Problem, ProblemKind, SourceFile, SourceKind};
use rayon::prelude::*;

/// How many bytes of each file are read to classify it.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Options for [`discover`].
#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// Paths to leave out, e.g. triage's own output folder.
    pub exclude: Vec<PathBuf>,
}

/// What [`discover`] found: files to analyse and paths that could not be used.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Regular files, classified, in path order.
    pub sources: Vec<SourceFile>,
    /// Paths that will not be analysed, with the reason.
    pub problems: Vec<Problem>,
    /// Evidence packages read: kept open (archives stay extracted) while their files are
    /// analysed.
    pub packages: Vec<Package>,
}

/// Walks `paths` (files or directories) and classifies every regular file by content.
///
/// Symbolic links are never followed: a link is recorded as skipped (with "loop" when it
/// points at one of its own ancestors), so evidence outside the given tree is never read and
/// link loops cannot hang the walk. Unreadable files and directories, devices, sockets and
/// FIFOs are recorded as problems. Files are opened read-only and only their first
/// [`SNIFF_BYTES`] are read.
///
/// Evidence packages written by `ir110 collect` are read as such: a package directory (found
/// anywhere in the walk) or a package archive given as a path (`.zip`, `.tar.zst`) contributes
/// its collected files under their *original* paths with their manifest SHA-256, and the files
/// the collection could not read appear as problems. The package's own bookkeeping (manifest,
/// signature, custody log, listing) is not analysed as evidence.
pub fn discover(paths: &[PathBuf], options: &DiscoverOptions) -> Discovery {
    let mut walked = Walked::default();
    for root in paths {
        match open_package(root) {
            Ok(Some(package)) => walked.add_package(package),
            Ok(None) => walk(root, options, &mut walked),
            Err(err) => {
                walked
                    .problems
                    .push(problem(root, ProblemKind::Unreadable, err.to_string()))
            }
        }
    }
    let Walked {
        candidates,
        mut problems,
        packages,
    } = walked;
    let classified: Vec<Result<SourceFile, Problem>> =
        candidates.into_par_iter().map(classify).collect();
    let mut sources = Vec::with_capacity(classified.len());
    for item in classified {
        match item {
            Ok(source) => sources.push(source),
            Err(problem) => problems.push(problem),
        }
    }
    sources.sort_by(|a, b| a.display_path.cmp(&b.display_path));
    problems.sort();
    Discovery {
        sources,
        problems,
        packages,
    }
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn problem(path: &Path, kind: ProblemKind, detail: impl Into<String>) -> Problem {
    Problem {
        path: display(path),
        analyzer: None,
        kind,
        detail: detail.into(),
    }
}

/// A file found by the walk, before classification.
struct Candidate {
    path: PathBuf,
    display: String,
    size: u64,
    modified: Option<DateTime<Utc>>,
    sha256: Option<String>,
}

#[derive(Default)]
struct Walked {
    candidates: Vec<Candidate>,
    problems: Vec<Problem>,
    packages: Vec<Package>,
}

impl Walked {
    fn add_file(&mut self, path: &Path, meta: &fs::Metadata) {
        self.candidates.push(Candidate {
            path: path.to_path_buf(),
            display: display(path),
            size: meta.len(),
            modified: meta.modified().ok().map(DateTime::<Utc>::from),
            sha256: None,
        });
    }

    fn add_package(&mut self, package: Package) {
        for entry in package.entries() {
            self.candidates.push(Candidate {
                path: entry.local_path,
                display: entry.original_path,
                size: entry.size,
                modified: entry.modified,
                sha256: Some(entry.sha256),
            });
        }
        match package.manifest() {
            Some(manifest) => {
                for f in manifest.files.iter().filter(|f| f.stored.is_none()) {
                    let detail = match &f.error {
                        Some(e) => format!("not in the evidence package: {e}"),
                        None => "not in the evidence package (not a regular file)".to_owned(),
                    };
                    self.problems.push(Problem {
                        path: f.path.clone(),
                        analyzer: None,
                        kind: ProblemKind::Unreadable,
                        detail,
                    });
                }
                for e in &manifest.walk_errors {
                    self.problems.push(Problem {
                        path: e.path.clone(),
                        analyzer: None,
                        kind: ProblemKind::Unreadable,
                        detail: format!("not collected: {}", e.error),
                    });
                }
            }
            None => self.problems.push(problem(
                package.path(),
                ProblemKind::Corrupt,
                "evidence package whose manifest does not parse: run `ir110 verify` on it",
            )),
        }
        self.packages.push(package);
    }
}

fn walk(root: &Path, options: &DiscoverOptions, out: &mut Walked) {
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name();
    let mut it = walker.into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err
                    .path()
                    .map_or_else(|| root.to_path_buf(), Path::to_path_buf);
                let detail = err
                    .io_error()
                    .map_or_else(|| err.to_string(), |io| format!("cannot read: {io}"));
                out.problems
                    .push(problem(&path, ProblemKind::Unreadable, detail));
                continue;
            }
        };
        let path = entry.path();
        if options.exclude.iter().any(|ex| path.starts_with(ex)) {
            if entry.file_type().is_dir() {
                it.skip_current_dir();
            }
            continue;
        }
        let ft = entry.file_type();
        if ft.is_dir() {
            // A collected package inside the tree: read it as a package, not as loose files.
            if path.join("manifest.json").is_file() && path.join("manifest.sig").is_file() {
                match open_package(path) {
                    Ok(Some(package)) => {
                        out.add_package(package);
                        it.skip_current_dir();
                    }
                    Ok(None) => {}
                    Err(err) => {
                        out.problems
                            .push(problem(path, ProblemKind::Corrupt, err.to_string()))
                    }
                }
            }
            continue;
        }
        if ft.is_symlink() {
            out.problems.push(symlink_problem(path));
            continue;
        }
        match entry.metadata() {
            Ok(meta) if meta.is_file() => out.add_file(path, &meta),
            Ok(_) => out.problems.push(problem(
                path,
                ProblemKind::Skipped,
                "special file (device, socket or FIFO): not read",
            )),
            Err(err) => out
                .problems
                .push(problem(path, ProblemKind::Unreadable, err.to_string())),
        }
    }
}

/// Explains a symbolic link that is not followed, detecting loops (a link to an ancestor).
fn symlink_problem(path: &Path) -> Problem {
    let target = fs::read_link(path)
        .map(|t| display(&t))
        .unwrap_or_else(|_| "?".into());
    let resolved = fs::canonicalize(path);
    let parent = path.parent().and_then(|p| fs::canonicalize(p).ok());
    let detail = match (resolved, parent) {
        (Ok(r), Some(p)) if p.starts_with(&r) => {
            format!("symbolic link loop (points to its own ancestor {target}): not followed")
        }
        (Err(_), _) => format!(
            "symbolic link to {target}, which does not resolve (dangling or loop): not followed"
        ),
        _ => format!(
            "symbolic link to {target}: not followed (the walk never leaves the given tree)"
        ),
    };
    problem(path, ProblemKind::Skipped, detail)
}

fn classify(c: Candidate) -> Result<SourceFile, Problem> {
    let mut head = Vec::with_capacity(SNIFF_BYTES.min(c.size as usize));
    let read = File::open(&c.path).and_then(|f| f.take(SNIFF_BYTES as u64).read_to_end(&mut head));
    if let Err(err) = read {
        return Err(Problem {
            path: c.display,
            analyzer: None,
            kind: ProblemKind::Unreadable,
            detail: format!("cannot open: {err}"),
        });
    }
    Ok(SourceFile {
        display_path: c.display,
        path: c.path,
        size: c.size,
        kind: SourceKind::sniff(&head),
        modified: c.modified,
        sha256: c.sha256,
    })
}
