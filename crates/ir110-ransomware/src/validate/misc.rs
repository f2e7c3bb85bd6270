//! SQLite (page headers), TrueType/OpenType (table checksums), WOFF (header), PE and ELF
//! (headers and section tables inside the file).

use super::Check;
use crate::content::Content;
use crate::format::{read_be16, read_be32, read_le16, read_le32};

/// SQLite 3: page size, and every page read starts like a b-tree, overflow or freelist page.
pub fn sqlite(c: &Content) -> Check {
    let Some(h) = c.get(0, 100) else {
        return Check::Truncated { offset: 0 };
    };
    let raw = u32::from(read_be16(h, 16).unwrap_or(0));
    let page = if raw == 1 { 65_536 } else { raw };
    if !(512..=65_536).contains(&page) || !page.is_power_of_two() {
        return Check::broken(16, "sqlite-page-size-bad");
    }
    let page = u64::from(page);
    let pages = c.size / page;
    for p in 0..pages {
        let off = p * page;
        let hdr = if p == 0 { 100 } else { 0 };
        let Some(b) = c.get(off + hdr, 12) else {
            continue;
        };
        let ok = match b[0] {
            2 | 5 | 10 | 13 => {
                let cells = u64::from(read_be16(b, 3).unwrap_or(0));
                let content = u64::from(read_be16(b, 5).unwrap_or(0));
                cells * 2 + 8 <= page && (content == 0 || content <= page)
            }
            // Overflow, freelist or pointer-map pages start with a page number (or zero).
            _ => {
                u64::from(read_be32(b, 0).unwrap_or(u32::MAX)) <= pages + 1
                    || b.iter().all(|&x| x == 0)
            }
        };
        if !ok {
            return Check::broken(off, "sqlite-page-bad");
        }
    }
    Check::Intact { complete: false }
}

/// TrueType/OpenType: table directory inside the file and every table checksum right (the
/// `head` table is skipped: its checksum adjustment field is excluded by definition).
pub fn font(c: &Content) -> Check {
    let Some(h) = c.get(0, 12) else {
        return Check::Truncated { offset: 0 };
    };
    if &h[..4] == b"ttcf" {
        return Check::Intact { complete: false };
    }
    let n = usize::from(read_be16(h, 4).unwrap_or(0));
    let Some(dir) = c.get(12, n * 16) else {
        return Check::Truncated { offset: 12 };
    };
    for i in 0..n {
        let rec = &dir[i * 16..i * 16 + 16];
        let tag = &rec[..4];
        let sum = read_be32(rec, 4).unwrap_or(0);
        let off = u64::from(read_be32(rec, 8).unwrap_or(0));
        let len = u64::from(read_be32(rec, 12).unwrap_or(0));
        if off + len > c.size {
            return Check::broken(12 + 16 * i as u64, "font-table-out-of-range");
        }
        if tag == b"head" {
            continue;
        }
        let Some(t) = c.get(off, len as usize) else {
            continue;
        };
        let mut s = 0u32;
        for chunk in t.chunks(4) {
            let mut w = [0u8; 4];
            w[..chunk.len()].copy_from_slice(chunk);
            s = s.wrapping_add(u32::from_be_bytes(w));
        }
        if s != sum {
            return Check::broken(off, "font-table-checksum-mismatch");
        }
    }
    Check::Intact {
        complete: c.is_whole(),
    }
}

/// WOFF/WOFF2: the declared length is the file length.
pub fn woff(c: &Content) -> Check {
    let Some(h) = c.get(0, 12) else {
        return Check::Truncated { offset: 0 };
    };
    if u64::from(read_be32(h, 8).unwrap_or(0)) != c.size {
        return Check::broken(8, "woff-length-mismatch");
    }
    Check::Intact { complete: false }
}

/// PE: `MZ` header pointing at `PE\0\0`; every section's raw data inside the file.
pub fn pe(c: &Content) -> Check {
    let Some(h) = c.get(0, 64) else {
        return Check::Truncated { offset: 0 };
    };
    let lfanew = u64::from(read_le32(h, 60).unwrap_or(0));
    let Some(nt) = c.get(lfanew, 24) else {
        // DOS executables have no PE header.
        return Check::Intact { complete: false };
    };
    if &nt[..4] != b"PE\0\0" {
        return Check::Intact { complete: false };
    }
    let sections = u64::from(read_le16(nt, 6).unwrap_or(0));
    let opt = u64::from(read_le16(nt, 20).unwrap_or(0));
    let table = lfanew + 24 + opt;
    for i in 0..sections.min(96) {
        let Some(s) = c.get(table + 40 * i, 40) else {
            return Check::Truncated { offset: table };
        };
        let size = u64::from(read_le32(s, 16).unwrap_or(0));
        let ptr = u64::from(read_le32(s, 20).unwrap_or(0));
        if ptr + size > c.size + 4096 {
            return Check::broken(table + 40 * i, "pe-section-out-of-range");
        }
    }
    Check::Intact { complete: false }
}

/// ELF: section header table inside the file.
pub fn elf(c: &Content) -> Check {
    let Some(h) = c.get(0, 64) else {
        return Check::Truncated { offset: 0 };
    };
    let is64 = h[4] == 2;
    let le = h[5] == 1;
    let r16 = |o: usize| {
        if le { read_le16(h, o) } else { read_be16(h, o) }
            .map(u64::from)
            .unwrap_or(0)
    };
    let r32 = |o: usize| {
        if le { read_le32(h, o) } else { read_be32(h, o) }
            .map(u64::from)
            .unwrap_or(0)
    };
    let (shoff, shentsize, shnum) = if is64 {
        (r32(40) | (r32(44) << 32), r16(58), r16(60))
    } else {
        (r32(32), r16(46), r16(48))
    };
    if shoff != 0 && shoff + shentsize * shnum > c.size {
        return Check::broken(if is64 { 40 } else { 32 }, "elf-section-table-out-of-range");
    }
    Check::Intact { complete: false }
}
