//! OLE2 compound files (MS-CFB): header, FAT and directory; encrypted OOXML (streams
//! `EncryptionInfo` and `EncryptedPackage`) is a legitimately protected document.

use super::Check;
use crate::content::Content;
use crate::format::{read_le16, read_le32};

const FREESECT: u32 = 0xffff_ffff;
const ENDOFCHAIN: u32 = 0xffff_fffe;

/// Validates an OLE2 file and recognises encrypted Office documents.
pub fn ole2(c: &Content) -> Check {
    let Some(h) = c.get(0, 512) else {
        return Check::Truncated { offset: 0 };
    };
    let major = read_le16(h, 26).unwrap_or(0);
    let shift = read_le16(h, 30).unwrap_or(0);
    if read_le16(h, 28) != Some(0xfffe)
        || !(major == 3 && shift == 9 || major == 4 && shift == 12)
        || read_le16(h, 32) != Some(6)
    {
        return Check::broken(24, "ole2-header-bad");
    }
    let ss = 1u64 << shift;
    let sector = |sid: u32| ss + u64::from(sid) * ss;
    let n_fat = read_le32(h, 44).unwrap_or(0) as usize;
    let dir_start = read_le32(h, 48).unwrap_or(ENDOFCHAIN);
    // FAT sectors listed in the header (the first 109); enough for files up to ~7 MB with 512-byte
    // sectors and ~448 MB with 4 KiB sectors. Larger files are checked partially.
    let mut fat: Vec<u32> = Vec::new();
    let mut complete = c.is_whole();
    for i in 0..n_fat.min(109) {
        let sid = read_le32(h, 76 + 4 * i).unwrap_or(FREESECT);
        if sid >= 0xffff_fffa || sector(sid) + ss > c.size {
            return Check::broken(76 + 4 * i as u64, "ole2-fat-sector-out-of-range");
        }
        match c.get(sector(sid), ss as usize) {
            Some(s) => fat.extend(
                s.chunks_exact(4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            ),
            None => {
                complete = false;
                fat.extend(std::iter::repeat_n(FREESECT, (ss / 4) as usize));
            }
        }
    }
    let sectors = c.size.saturating_sub(ss) / ss;
    for (i, &next) in fat.iter().enumerate() {
        if (i as u64) < sectors && next < 0xffff_fffa && u64::from(next) > sectors.max(1) {
            return Check::broken(sector(i as u32), "ole2-fat-entry-out-of-range");
        }
    }
    // Directory chain.
    let mut names = Vec::new();
    let mut sid = dir_start;
    let mut hops = 0;
    while sid != ENDOFCHAIN && hops < 100_000 {
        hops += 1;
        if sid >= 0xffff_fffa || sector(sid) + ss > c.size {
            return Check::broken(48, "ole2-directory-out-of-range");
        }
        let Some(d) = c.get(sector(sid), ss as usize) else {
            complete = false;
            break;
        };
        for e in d.chunks_exact(128) {
            let len = usize::from(read_le16(e, 64).unwrap_or(0));
            let ty = e[66];
            if ty > 5 || len > 64 || len % 2 != 0 {
                return Check::broken(sector(sid), "ole2-directory-entry-bad");
            }
            if ty == 0 {
                continue;
            }
            let name: String = char::decode_utf16(
                e[..len.saturating_sub(2)]
                    .chunks_exact(2)
                    .map(|b| u16::from_le_bytes([b[0], b[1]])),
            )
            .map(|r| r.unwrap_or('\u{fffd}'))
            .collect();
            names.push(name);
        }
        sid = fat.get(sid as usize).copied().unwrap_or(ENDOFCHAIN);
    }
    if names.first().is_some_and(|n| n != "Root Entry" && n != "R") {
        return Check::broken(u64::from(dir_start), "ole2-root-entry-missing");
    }
    if names.iter().any(|n| n == "EncryptionInfo") && names.iter().any(|n| n == "EncryptedPackage")
    {
        return Check::Protected {
            what: "office-password",
        };
    }
    // Stream contents are not checked, so an OLE2 check is never complete.
    let _ = complete;
    Check::Intact { complete: false }
}
