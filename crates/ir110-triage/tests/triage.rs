//! Discovery and runner behaviour on hostile trees.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::fs;
use std::path::Path;

use ir110_model::{
    AnalysisContext, Analyzer, Category, Event, Finding, Message, Problem, ProblemKind, Severity,
    Sink, SourceFile, SourceKind, SourceRef,
};
use ir110_triage::{DiscoverOptions, RunOptions, discover, run};

/// Accepts JSON lines and text; reports one finding per file and a problem for files named
/// `bad*`; panics on files named `panic*`.
struct Probe;

impl Analyzer for Probe {
    fn id(&self) -> &'static str {
        "probe"
    }
    fn accepts(&self, source: &SourceFile) -> bool {
        matches!(source.kind, SourceKind::JsonLines | SourceKind::Text(_))
    }
    fn analyze(&self, sources: &[SourceFile], _: &AnalysisContext, sink: &dyn Sink) {
        for s in sources {
            let name = Path::new(&s.display_path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if name.starts_with("panic") {
                panic!("probe panics on purpose");
            }
            if name.starts_with("bad") {
                sink.problem(Problem::new(
                    &s.display_path,
                    "probe",
                    ProblemKind::Corrupt,
                    "line 2: not JSON",
                ));
            }
            sink.event(Event::new(
                s.modified.unwrap(),
                "probe",
                "seen",
                s.source_ref(),
                "seen",
            ));
            sink.finding(
                Finding::new(
                    "probe",
                    "probe.seen",
                    Severity::Low,
                    Category::Other,
                    Message::new("probe.seen"),
                )
                .key(&s.display_path)
                .evidence(SourceRef::file(&s.display_path)),
            );
            sink.progress(s.size);
        }
    }
}

#[test]
fn hostile_tree_is_fully_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(
        root.join("events.jsonl"),
        b"{\"EventID\":4625}\n{\"EventID\":4624}\n",
    )
    .unwrap();
    fs::write(root.join("bad.jsonl"), b"{\"EventID\":1}\nnot json\n").unwrap();
    fs::write(root.join("empty.log"), b"").unwrap();
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    fs::write(root.join("junk.bin"), junk).unwrap();
    fs::create_dir(root.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", root.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("outside")).unwrap();

    let found = discover(&[root.to_path_buf()], &DiscoverOptions::default());
    assert_eq!(found.sources.len(), 4);
    assert_eq!(found.problems.len(), 2, "{:#?}", found.problems);
    assert!(
        found
            .problems
            .iter()
            .any(|p| p.path.ends_with("sub/loop") && p.detail.contains("loop"))
    );
    assert!(
        found
            .problems
            .iter()
            .any(|p| p.path.ends_with("outside") && p.detail.contains("not followed"))
    );

    let outcome = run(found, &[&Probe], &RunOptions::default());
    let cov = &outcome.coverage;
    assert_eq!(cov.files_total, 4);
    assert_eq!(cov.files_analysed, 2);
    assert_eq!(cov.by_kind["jsonl"].files, 2);
    assert_eq!(cov.by_kind["binary"].files, 1);
    assert_eq!(cov.by_kind["empty"].files, 1);
    assert_eq!(cov.by_analyzer["probe"].files, 2);
    assert_eq!(cov.by_analyzer["probe"].problems, 1);
    let reasons: Vec<(String, ProblemKind)> = cov
        .not_analysed
        .iter()
        .map(|p| {
            (
                Path::new(&p.path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                p.kind,
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("bad.jsonl".to_owned(), ProblemKind::Corrupt),
            ("empty.log".to_owned(), ProblemKind::Skipped),
            ("junk.bin".to_owned(), ProblemKind::Unsupported),
            ("outside".to_owned(), ProblemKind::Skipped),
            ("loop".to_owned(), ProblemKind::Skipped),
        ]
    );
    assert_eq!(outcome.findings.len(), 2);
    assert_eq!(outcome.events.len(), 2);
}

#[test]
fn a_panicking_analyzer_loses_only_its_own_results() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("panic.txt"), b"hello\n").unwrap();
    let found = discover(&[dir.path().to_path_buf()], &DiscoverOptions::default());
    let outcome = run(
        found,
        &[&Probe],
        &RunOptions {
            context: AnalysisContext::default(),
            on_progress: None,
        },
    );
    assert_eq!(outcome.coverage.not_analysed.len(), 1);
    assert_eq!(outcome.coverage.not_analysed[0].kind, ProblemKind::Partial);
}

#[test]
fn unreadable_files_are_problems_when_not_root() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("secret.log");
    fs::write(&f, b"x\n").unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&f).is_ok() {
        eprintln!(
            "running as root: chmod 000 cannot make a file unreadable here; the CLI test covers this with setpriv"
        );
        return;
    }
    let found = discover(&[dir.path().to_path_buf()], &DiscoverOptions::default());
    assert_eq!(found.sources.len(), 0);
    assert_eq!(found.problems[0].kind, ProblemKind::Unreadable);
}

#[test]
fn excluded_output_folder_is_not_walked() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("out")).unwrap();
    fs::write(dir.path().join("out/report.json"), b"{}").unwrap();
    fs::write(dir.path().join("a.txt"), b"a\n").unwrap();
    let opts = DiscoverOptions {
        exclude: vec![dir.path().join("out")],
    };
    let found = discover(&[dir.path().to_path_buf()], &opts);
    assert_eq!(found.sources.len(), 1);
}

/// Collects `var/log/auth.log` (and an `etc/passwd`) from a Linux-shaped tree into a package.
fn collected_package(root: &Path) -> std::path::PathBuf {
    use ir110_evidence::{CaseMeta, CollectOptions, ProfileChoice, collect};
    let src = root.join("src");
    fs::create_dir_all(src.join("var/log")).unwrap();
    fs::create_dir_all(src.join("etc")).unwrap();
    fs::write(
        src.join("var/log/auth.log"),
        b"Nov 21 01:00:00 web01 sshd[1]: Failed password for root from 203.0.113.50 port 22 ssh2\n",
    )
    .unwrap();
    fs::write(src.join("etc/passwd"), b"root:x:0:0:root:/root:/bin/bash\n").unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let meta = CaseMeta {
        case: "IR-TEST".into(),
        examiner: "tester".into(),
        ..CaseMeta::default()
    };
    let out = root.join("pkg");
    let mut options = CollectOptions::new(&src, &out, meta, &key);
    options.profile = ProfileChoice::Builtin("linux".to_owned());
    collect(&options).unwrap();
    out
}

#[test]
fn evidence_packages_are_read_with_original_paths_and_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = collected_package(dir.path());
    let archive = dir.path().join("pkg.zip");
    ir110_evidence::archive_package(&pkg, ir110_evidence::ArchiveFormat::Zip, &archive).unwrap();
    // The directory found inside a walked tree, and the archive given directly.
    for input in [dir.path().to_path_buf(), archive] {
        let found = discover(
            std::slice::from_ref(&input),
            &DiscoverOptions {
                exclude: vec![dir.path().join("src"), dir.path().join("pkg.zip")],
            },
        );
        let auth = found
            .sources
            .iter()
            .find(|s| s.display_path == "/var/log/auth.log");
        let auth = auth.unwrap_or_else(|| panic!("{input:?}: {:#?}", found.sources));
        assert_eq!(auth.kind, SourceKind::Text(ir110_model::TextFormat::Syslog));
        assert_eq!(auth.sha256.as_deref().map(str::len), Some(64));
        assert!(
            !found
                .sources
                .iter()
                .any(|s| s.display_path.ends_with("manifest.json")),
            "bookkeeping is not evidence"
        );
        assert_eq!(found.packages.len(), 1);
        assert!(
            auth.path.exists(),
            "archive stays extracted while the Discovery lives"
        );
    }
}
