//! A read-only walk of the source tree with full `statx` metadata.
//!
//! `std::fs::read_dir` opens directories without `O_NOATIME`, so walking a mounted image with
//! it updates the atime of every directory it lists (under `relatime`, whenever atime ≤ mtime).
//! This walker opens every directory with `O_NOATIME` where the kernel allows it (the caller owns
//! the file or is root) and falls back silently when it answers `EPERM`. Entries are visited in
//! byte order of their names, so two walks of the same tree give the same sequence.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rustix::fs::{AtFlags, Dir, Mode, OFlags, StatxFlags, StatxTimestamp};

use crate::names::PathName;

/// What kind of file system object an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryType {
    File,
    Dir,
    Symlink,
    Other,
}

/// One entry of the source tree, with its metadata as found.
#[derive(Debug, Clone)]
pub(crate) struct FsEntry {
    pub name: PathName,
    pub kind: EntryType,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub inode: u64,
    pub mtime: Option<DateTime<Utc>>,
    pub atime: Option<DateTime<Utc>>,
    pub ctime: Option<DateTime<Utc>>,
    pub btime: Option<DateTime<Utc>>,
    pub link_target: Option<String>,
}

/// Identity of a directory, to keep the package out of its own walk when `--out` is inside
/// `--source`.
pub(crate) type DirId = (u32, u32, u64);

/// The identity of a directory, if it can be stat'ed.
pub(crate) fn dir_id(path: &Path) -> Option<DirId> {
    let st = rustix::fs::statx(
        rustix::fs::CWD,
        path,
        AtFlags::empty(),
        StatxFlags::BASIC_STATS,
    )
    .ok()?;
    Some((st.stx_dev_major, st.stx_dev_minor, st.stx_ino))
}

/// Opens a path read-only with `O_NOATIME`, falling back without it on `EPERM`.
pub(crate) fn open_noatime(path: &Path, extra: OFlags) -> io::Result<std::os::fd::OwnedFd> {
    let base = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW | extra;
    match rustix::fs::open(path, base | OFlags::NOATIME, Mode::empty()) {
        Err(rustix::io::Errno::PERM) => {
            rustix::fs::open(path, base, Mode::empty()).map_err(io::Error::from)
        }
        other => other.map_err(io::Error::from),
    }
}

fn time(ts: StatxTimestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts.tv_sec, ts.tv_nsec)
}

/// Walks `root`. `descend(rel)` says whether a directory is entered; `visit` sees every entry
/// (the root itself excluded). Returns the directories that could not be listed, with their
/// errors: the walk goes on past them.
pub(crate) fn walk(
    root: &Path,
    skip: Option<DirId>,
    descend: &dyn Fn(&[u8]) -> bool,
    visit: &mut dyn FnMut(FsEntry),
) -> Vec<(String, io::Error)> {
    let mut errors = Vec::new();
    let mut stack: Vec<Vec<u8>> = vec![Vec::new()];
    while let Some(rel) = stack.pop() {
        let dir_path: PathBuf = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(OsStr::from_bytes(&rel))
        };
        let listed = open_noatime(&dir_path, OFlags::DIRECTORY).and_then(|fd| {
            let dir = Dir::read_from(&fd).map_err(io::Error::from)?;
            let mut names = Vec::new();
            for entry in dir {
                let entry = entry.map_err(io::Error::from)?;
                let name = entry.file_name().to_bytes();
                if name != b"." && name != b".." {
                    names.push(name.to_vec());
                }
            }
            names.sort();
            Ok((fd, names))
        });
        let (fd, names) = match listed {
            Ok(v) => v,
            Err(e) => {
                errors.push((PathName::from_bytes(&rel).display, e));
                continue;
            }
        };
        let mut subdirs = Vec::new();
        for name in names {
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                [rel.as_slice(), b"/", name.as_slice()].concat()
            };
            let st = match rustix::fs::statx(
                &fd,
                OsStr::from_bytes(&name),
                AtFlags::SYMLINK_NOFOLLOW,
                StatxFlags::BASIC_STATS | StatxFlags::BTIME,
            ) {
                Ok(st) => st,
                Err(e) => {
                    errors.push((PathName::from_bytes(&child_rel).display, e.into()));
                    continue;
                }
            };
            let mode = u32::from(st.stx_mode);
            let kind = match mode & 0o170000 {
                0o100000 => EntryType::File,
                0o040000 => EntryType::Dir,
                0o120000 => EntryType::Symlink,
                _ => EntryType::Other,
            };
            let link_target = (kind == EntryType::Symlink)
                .then(|| rustix::fs::readlinkat(&fd, OsStr::from_bytes(&name), Vec::new()).ok())
                .flatten()
                .map(|t| PathName::from_bytes(t.as_bytes()).display);
            let has_btime = st.stx_mask & StatxFlags::BTIME.bits() != 0;
            let entry = FsEntry {
                name: PathName::from_bytes(&child_rel),
                kind,
                mode,
                uid: st.stx_uid,
                gid: st.stx_gid,
                size: st.stx_size,
                inode: st.stx_ino,
                mtime: time(st.stx_mtime),
                atime: time(st.stx_atime),
                ctime: time(st.stx_ctime),
                btime: if has_btime { time(st.stx_btime) } else { None },
                link_target,
            };
            let id = (st.stx_dev_major, st.stx_dev_minor, st.stx_ino);
            if kind == EntryType::Dir && Some(id) != skip && descend(&child_rel) {
                subdirs.push(child_rel);
            }
            visit(entry);
        }
        stack.extend(subdirs.into_iter().rev());
    }
    errors
}

/// `ls -l` style mode string, as bodyfiles write it: `-rw-r--r--`, `drwxr-xr-x`, `lrwxrwxrwx`.
pub(crate) fn mode_string(mode: u32) -> String {
    let t = match mode & 0o170000 {
        0o100000 => '-',
        0o040000 => 'd',
        0o120000 => 'l',
        0o020000 => 'c',
        0o060000 => 'b',
        0o010000 => 'p',
        0o140000 => 's',
        _ => '?',
    };
    let mut s = String::with_capacity(10);
    s.push(t);
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (i, (bit, c)) in bits.iter().enumerate() {
        let set = mode & bit != 0;
        let special = match i {
            2 => mode & 0o4000 != 0,
            5 => mode & 0o2000 != 0,
            8 => mode & 0o1000 != 0,
            _ => false,
        };
        s.push(match (set, special) {
            (true, false) => *c,
            (false, false) => '-',
            (true, true) if i == 8 => 't',
            (false, true) if i == 8 => 'T',
            (true, true) => 's',
            (false, true) => 'S',
        });
    }
    s
}

/// RFC 3339 UTC with nanoseconds, or empty.
pub(crate) fn ts(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
        .unwrap_or_default()
}

/// The header of `listing.csv` and of the per-target listings.
pub(crate) const LISTING_HEADER: &str =
    "path,type,mode,uid,gid,size,inode,mtime,atime,ctime,crtime,link_target\n";

/// One CSV row for the file-system listing (RFC 4180 quoting).
pub(crate) fn listing_row(e: &FsEntry) -> String {
    let kind = match e.kind {
        EntryType::File => "file",
        EntryType::Dir => "dir",
        EntryType::Symlink => "symlink",
        EntryType::Other => "other",
    };
    let fields = [
        csv_field(&format!("/{}", e.name.display)),
        kind.to_owned(),
        mode_string(e.mode),
        e.uid.to_string(),
        e.gid.to_string(),
        e.size.to_string(),
        e.inode.to_string(),
        ts(e.mtime),
        ts(e.atime),
        ts(e.ctime),
        ts(e.btime),
        csv_field(e.link_target.as_deref().unwrap_or("")),
    ];
    let mut row = fields.join(",");
    row.push('\n');
    row
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_strings() {
        assert_eq!(mode_string(0o100644), "-rw-r--r--");
        assert_eq!(mode_string(0o040755), "drwxr-xr-x");
        assert_eq!(mode_string(0o041777), "drwxrwxrwt");
        assert_eq!(mode_string(0o104755), "-rwsr-xr-x");
        assert_eq!(mode_string(0o120777), "lrwxrwxrwx");
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("見積書.xlsx"), "見積書.xlsx");
    }
}
