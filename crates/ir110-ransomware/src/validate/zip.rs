//! ZIP, OOXML, ODF: end record, central directory, local headers, and the CRC-32 of every
//! member small enough to inflate (APPNOTE 6.3.x).

use super::Check;
use crate::content::Content;
use crate::format::{read_le16, read_le32, rfind};
use crate::inflate::{Inflater, Outcome};

/// Members larger than this (uncompressed) are only partially inflated.
const MEMBER_LIMIT: u64 = 8 << 20;
/// Total bytes inflated per archive.
const TOTAL_LIMIT: u64 = 64 << 20;

/// One member as the central directory describes it.
#[derive(Debug, Clone)]
pub struct Member {
    /// Local header offset.
    pub offset: u64,
    /// Compressed size.
    pub csize: u64,
    /// Uncompressed size.
    pub usize: u64,
    /// CRC-32.
    pub crc: u32,
    /// Method (0 stored, 8 deflate).
    pub method: u16,
    /// General purpose flags.
    pub flags: u16,
    /// Name length (for locating the data).
    pub name_len: u16,
    /// Whether the WinZip AES extra field is present.
    pub aes: bool,
}

/// The central directory, when the end record and directory are readable.
pub fn central_directory(c: &Content) -> Result<(u64, Vec<Member>), Check> {
    let (tail_off, tail) = c.tail();
    let window_start = tail.len().saturating_sub(65_557);
    let Some(eocd_rel) = rfind(&tail[window_start..], b"PK\x05\x06") else {
        return Err(Check::broken(
            c.size.saturating_sub(22),
            "zip-end-record-missing",
        ));
    };
    let eocd = &tail[window_start + eocd_rel..];
    let n = u64::from(read_le16(eocd, 10).unwrap_or(0));
    let cd_size = u64::from(read_le32(eocd, 12).unwrap_or(0));
    let mut cd_off = u64::from(read_le32(eocd, 16).unwrap_or(0));
    let eocd_abs = tail_off + (window_start + eocd_rel) as u64;
    if cd_off == 0xffff_ffff || n == 0xffff {
        // ZIP64: the locator precedes the end record.
        let loc = eocd_abs.checked_sub(20).and_then(|o| c.get(o, 20));
        let Some(loc) = loc.filter(|l| l.starts_with(b"PK\x06\x07")) else {
            return Err(Check::broken(eocd_abs, "zip64-locator-missing"));
        };
        let rec_off = u64::from(read_le32(loc, 8).unwrap_or(0))
            | (u64::from(read_le32(loc, 12).unwrap_or(0)) << 32);
        let Some(rec) = c.get(rec_off, 56).filter(|r| r.starts_with(b"PK\x06\x06")) else {
            return Err(Check::broken(rec_off, "zip64-end-record-missing"));
        };
        cd_off = u64::from(read_le32(rec, 48).unwrap_or(0))
            | (u64::from(read_le32(rec, 52).unwrap_or(0)) << 32);
    }
    if cd_off + cd_size > eocd_abs + 1 && cd_size != 0xffff_ffff {
        return Err(Check::broken(eocd_abs, "zip-directory-out-of-range"));
    }
    let mut members = Vec::new();
    let mut pos = cd_off;
    loop {
        let Some(h) = c.get(pos, 46) else {
            if pos >= eocd_abs {
                break;
            }
            // Directory not in what was read (huge sampled archive).
            return Ok((cd_off, members));
        };
        if !h.starts_with(b"PK\x01\x02") {
            if pos >= eocd_abs
                || h.starts_with(b"PK\x06\x06")
                || h.starts_with(b"PK\x05\x06")
                || h.starts_with(b"PK\x05\x05")
            {
                break;
            }
            return Err(Check::broken(pos, "zip-directory-entry-bad"));
        }
        let flags = read_le16(h, 8).unwrap_or(0);
        let method = read_le16(h, 10).unwrap_or(0);
        let crc = read_le32(h, 16).unwrap_or(0);
        let mut csize = u64::from(read_le32(h, 20).unwrap_or(0));
        let mut usize = u64::from(read_le32(h, 24).unwrap_or(0));
        let name_len = read_le16(h, 28).unwrap_or(0);
        let extra_len = read_le16(h, 30).unwrap_or(0);
        let comment_len = read_le16(h, 32).unwrap_or(0);
        let mut offset = u64::from(read_le32(h, 42).unwrap_or(0));
        let mut aes = false;
        if let Some(extra) = c.get(pos + 46 + u64::from(name_len), usize::from(extra_len)) {
            let mut e = 0usize;
            while e + 4 <= extra.len() {
                let id = read_le16(extra, e).unwrap_or(0);
                let len = usize::from(read_le16(extra, e + 2).unwrap_or(0));
                if id == 0x9901 {
                    aes = true;
                }
                if id == 0x0001 {
                    // ZIP64 extended information: present fields in order.
                    let mut f = e + 4;
                    let mut take = |v: &mut u64, wide: bool| {
                        if wide {
                            if let (Some(lo), Some(hi)) =
                                (read_le32(extra, f), read_le32(extra, f + 4))
                            {
                                *v = u64::from(lo) | (u64::from(hi) << 32);
                                f += 8;
                            }
                        }
                    };
                    let (wu, wc, wo) = (
                        usize == 0xffff_ffff,
                        csize == 0xffff_ffff,
                        offset == 0xffff_ffff,
                    );
                    take(&mut usize, wu);
                    take(&mut csize, wc);
                    take(&mut offset, wo);
                }
                e += 4 + len;
            }
        }
        members.push(Member {
            offset,
            csize,
            usize,
            crc,
            method,
            flags,
            name_len,
            aes,
        });
        pos += 46 + u64::from(name_len) + u64::from(extra_len) + u64::from(comment_len);
        if members.len() > 1_000_000 {
            break;
        }
    }
    Ok((cd_off, members))
}

/// Checks one member's local header and data. `Ok(true)` when its data was fully verified.
pub fn check_member(
    c: &Content,
    m: &Member,
    budget: &mut u64,
    inflater: &mut Inflater,
) -> Result<bool, Check> {
    let Some(lh) = c.get(m.offset, 30) else {
        return Ok(false);
    };
    if !lh.starts_with(b"PK\x03\x04") {
        return Err(Check::broken(m.offset, "zip-local-header-bad"));
    }
    let name_len = read_le16(lh, 26).unwrap_or(0);
    let extra_len = read_le16(lh, 28).unwrap_or(0);
    if name_len != m.name_len {
        return Err(Check::broken(m.offset, "zip-local-header-mismatch"));
    }
    if m.flags & 1 != 0 || m.aes {
        return Ok(true);
    }
    let data_off = m.offset + 30 + u64::from(name_len) + u64::from(extra_len);
    if m.method != 0 && m.method != 8 {
        return Ok(false);
    }
    if m.usize > MEMBER_LIMIT || *budget < m.usize {
        // Too big to inflate whole: inflate the start of what was read.
        let Some(data) = c.get_upto(data_off, 64 << 10) else {
            return Ok(false);
        };
        if m.method == 8 {
            if let Outcome::Error { .. } = inflater.run(data, false, 32 << 10, |_| {}) {
                return Err(Check::broken(data_off, "zip-member-inflate-failed"));
            }
        }
        return Ok(false);
    }
    let Some(data) = c.get(data_off, m.csize as usize) else {
        return Ok(false);
    };
    *budget -= m.usize;
    // Fast path for the common case (an intact member); the streaming path below decides
    // every other case, so failures are named as before.
    if m.method == 8 && inflater.verify_whole(data, m.usize as usize, m.crc) {
        return Ok(true);
    }
    let mut hasher = crc32fast::Hasher::new();
    if m.method == 0 {
        hasher.update(data);
    } else {
        let mut total = 0u64;
        // One byte past the declared size is enough to prove the size wrong.
        match inflater.run(data, false, m.usize + 1, |b| {
            hasher.update(b);
            total += b.len() as u64;
        }) {
            Outcome::Error { .. } => {
                return Err(Check::broken(data_off, "zip-member-inflate-failed"));
            }
            _ if total > m.usize => {
                return Err(Check::broken(data_off, "zip-member-size-mismatch"));
            }
            _ => {}
        }
    }
    if hasher.finalize() != m.crc {
        return Err(Check::broken(data_off, "zip-member-crc-mismatch"));
    }
    Ok(true)
}

/// Validates a ZIP-based file.
pub fn check(c: &Content) -> Check {
    let (cd_off, members) = match central_directory(c) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut budget = TOTAL_LIMIT;
    let mut inflater = Inflater::new();
    let mut complete = c.is_whole();
    let mut encrypted = 0usize;
    let mut members_sorted = members.clone();
    members_sorted.sort_by_key(|m| m.offset);
    for m in &members_sorted {
        if m.offset >= cd_off {
            return Check::broken(cd_off, "zip-member-after-directory");
        }
        if m.flags & 1 != 0 || m.aes {
            encrypted += 1;
        }
        match check_member(c, m, &mut budget, &mut inflater) {
            Ok(true) => {}
            Ok(false) => complete = false,
            Err(e) => return e,
        }
    }
    if encrypted > 0 && encrypted * 2 >= members.len() {
        return Check::Protected {
            what: "zip-password",
        };
    }
    Check::Intact { complete }
}

/// Byte ranges of members whose local header or data fail their check, when the central
/// directory is intact: a precise damage map for partially encrypted archives.
pub fn damaged_members(c: &Content) -> Option<(Vec<(u64, u64)>, u64)> {
    let (cd_off, mut members) = central_directory(c).ok()?;
    members.sort_by_key(|m| m.offset);
    let mut budget = TOTAL_LIMIT;
    let mut inflater = Inflater::new();
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let end = members.get(i + 1).map_or(cd_off, |n| n.offset);
        if check_member(c, m, &mut budget, &mut inflater).is_err() {
            match ranges.last_mut() {
                Some((_, e)) if *e == m.offset => *e = end,
                _ => ranges.push((m.offset, end)),
            }
        }
    }
    Some((ranges, cd_off))
}
