//! Walking evidence paths and classifying what is found.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ir110_model::{Problem, ProblemKind, SourceFile, SourceKind};
use rayon::prelude::*;

/// How many bytes of each file are read to classify it.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Options for [`discover`].
#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// Names (relative paths under a root) to leave out, e.g. triage's own output folder.
    pub exclude: Vec<PathBuf>,
}

/// What [`discover`] found: files to analyse and paths that could not be used.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Regular files, classified, in path order.
    pub sources: Vec<SourceFile>,
    /// Paths that will not be analysed, with the reason.
    pub problems: Vec<Problem>,
}

/// Walks `paths` (files or directories) and classifies every regular file by content.
///
/// Symbolic links are never followed: a link is recorded as skipped (with "loop" when it
/// points at one of its own ancestors), so evidence outside the given tree is never read and
/// link loops cannot hang the walk. Unreadable files and directories, devices, sockets and
/// FIFOs are recorded as problems. Files are opened read-only and only their first
/// [`SNIFF_BYTES`] are read.
pub fn discover(paths: &[PathBuf], options: &DiscoverOptions) -> Discovery {
    let mut candidates = Vec::new();
    let mut problems = Vec::new();
    for root in paths {
        walk(root, options, &mut candidates, &mut problems);
    }
    let classified: Vec<Result<SourceFile, Problem>> = candidates
        .into_par_iter()
        .map(|(path, meta)| classify(path, &meta))
        .collect();
    let mut sources = Vec::with_capacity(classified.len());
    for item in classified {
        match item {
            Ok(source) => sources.push(source),
            Err(problem) => problems.push(problem),
        }
    }
    sources.sort_by(|a, b| a.display_path.cmp(&b.display_path));
    problems.sort();
    Discovery { sources, problems }
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

fn walk(
    root: &Path,
    options: &DiscoverOptions,
    out: &mut Vec<(PathBuf, fs::Metadata)>,
    problems: &mut Vec<Problem>,
) {
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
                problems.push(problem(&path, ProblemKind::Unreadable, detail));
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
            continue;
        }
        if ft.is_symlink() {
            problems.push(symlink_problem(path));
            continue;
        }
        match entry.metadata() {
            Ok(meta) if meta.is_file() => out.push((path.to_path_buf(), meta)),
            Ok(_) => problems.push(problem(
                path,
                ProblemKind::Skipped,
                "special file (device, socket or FIFO): not read",
            )),
            Err(err) => problems.push(problem(path, ProblemKind::Unreadable, err.to_string())),
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

fn classify(path: PathBuf, meta: &fs::Metadata) -> Result<SourceFile, Problem> {
    let size = meta.len();
    let modified = meta.modified().ok().map(DateTime::<Utc>::from);
    let mut head = Vec::with_capacity(SNIFF_BYTES.min(size as usize));
    let read = File::open(&path).and_then(|f| f.take(SNIFF_BYTES as u64).read_to_end(&mut head));
    if let Err(err) = read {
        return Err(problem(
            &path,
            ProblemKind::Unreadable,
            format!("cannot open: {err}"),
        ));
    }
    Ok(SourceFile {
        display_path: display(&path),
        path,
        size,
        kind: SourceKind::sniff(&head),
        modified,
        sha256: None,
    })
}
