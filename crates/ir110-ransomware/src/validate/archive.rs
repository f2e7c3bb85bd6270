//! Compressed streams and archives: gzip (inflate, CRC-32 and size of every member), xz
//! (header and footer CRC-32), bzip2/zstd/RAR (headers), 7-Zip (start-header and next-header
//! CRC-32), tar (header checksums).

use std::io::Read;

use super::Check;
use crate::content::Content;
use crate::format::{read_le16, read_le32};
use crate::inflate::{Inflater, Outcome};

const GZIP_BUDGET: u64 = 256 << 20;
/// Largest output inflated in one call into one buffer (larger members are streamed).
const GZIP_WHOLE_LIMIT: u32 = 32 << 20;

/// The common case in one libdeflate call: one member, ending exactly at the end of the file,
/// intact. Proven without knowing where libdeflate stopped: it checks the member's trailer
/// right after the deflate stream against the bytes it produced; when those bytes also match
/// the file's last 8 bytes and that 8-byte pattern occurs nowhere earlier in the file, the
/// member's trailer is the file's last 8 bytes. Anything else (several members, trailing
/// zeros, damage) is left to the member-by-member check below, which names the fault.
fn gzip_single_member_intact(data: &[u8], inflater: &mut Inflater) -> bool {
    let n = data.len();
    if n < 18 {
        return false;
    }
    let trailer = &data[n - 8..];
    let (Some(crc), Some(isize)) = (read_le32(trailer, 0), read_le32(trailer, 4)) else {
        return false;
    };
    if isize > GZIP_WHOLE_LIMIT || memchr::memmem::find(&data[..n - 1], trailer).is_some() {
        return false;
    }
    let mut out_crc = 0u32;
    inflater.verify_gzip_member(data, isize as usize, &mut out_crc) && out_crc == crc
}

/// gzip: each member's header, deflate stream, CRC-32 and ISIZE.
pub fn gzip(c: &Content) -> Check {
    if !c.is_whole() {
        // Check that the start inflates.
        let mut d = flate2::read::MultiGzDecoder::new(c.head());
        let mut buf = vec![0u8; 64 << 10];
        return match d.read(&mut buf) {
            Ok(_) => Check::Intact { complete: false },
            Err(_) => Check::broken(0, "gzip-inflate-failed"),
        };
    }
    let data = c.head();
    let mut pos = 0usize;
    let mut budget = GZIP_BUDGET;
    let mut inflater = Inflater::new();
    if gzip_single_member_intact(data, &mut inflater) {
        return Check::Intact { complete: true };
    }
    while pos < data.len() {
        let rest = &data[pos..];
        if !rest.starts_with(&[0x1f, 0x8b, 8]) {
            // Trailing zeros after the last member are common (tape blocking).
            if pos > 0 && rest.iter().all(|&b| b == 0) {
                break;
            }
            return Check::broken(pos as u64, "gzip-member-header-bad");
        }
        let flags = rest.get(3).copied().unwrap_or(0);
        let mut i = 10usize;
        if flags & 4 != 0 {
            i += 2 + usize::from(read_le16(rest, 10).unwrap_or(0));
        }
        for bit in [8u8, 16] {
            if flags & bit != 0 {
                match rest.get(i..).and_then(|r| r.iter().position(|&b| b == 0)) {
                    Some(z) => i += z + 1,
                    None => return Check::Truncated { offset: pos as u64 },
                }
            }
        }
        if flags & 2 != 0 {
            i += 2;
        }
        let Some(body) = rest.get(i..) else {
            return Check::Truncated { offset: pos as u64 };
        };
        let mut hasher = crc32fast::Hasher::new();
        let mut total: u64 = 0;
        let consumed = match inflater.run(body, false, budget + 1, |b| {
            hasher.update(b);
            total += b.len() as u64;
        }) {
            Outcome::Limit => return Check::Intact { complete: false },
            Outcome::Error { consumed } => {
                return Check::broken((pos + i) as u64 + consumed, "gzip-inflate-failed");
            }
            Outcome::End { consumed } | Outcome::NeedInput { consumed } => consumed as usize,
        };
        budget -= total;
        let trailer = pos + i + consumed;
        let (Some(crc), Some(isize)) = (read_le32(data, trailer), read_le32(data, trailer + 4))
        else {
            return Check::Truncated { offset: pos as u64 };
        };
        if crc != hasher.finalize() || isize != total as u32 {
            return Check::broken(trailer as u64, "gzip-crc-mismatch");
        }
        pos = trailer + 8;
    }
    Check::Intact { complete: true }
}

/// bzip2: stream header and the first block's magic.
pub fn bzip2(c: &Content) -> Check {
    match c.get(4, 6) {
        Some(m)
            if m == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
                || m == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90] =>
        {
            Check::Intact { complete: false }
        }
        Some(_) => Check::broken(4, "bzip2-block-magic-bad"),
        None => Check::Truncated { offset: 0 },
    }
}

/// xz: stream header CRC-32 and, when read, the stream footer CRC-32 and magic.
pub fn xz(c: &Content) -> Check {
    let Some(h) = c.get(0, 12) else {
        return Check::Truncated { offset: 0 };
    };
    if crc32fast::hash(&h[6..8]) != read_le32(h, 8).unwrap_or(0) {
        return Check::broken(6, "xz-header-crc-mismatch");
    }
    let mut end = c.size;
    // Stream padding (multiples of four zero bytes) may follow.
    while end >= 16 && c.get(end - 4, 4) == Some(&[0, 0, 0, 0]) {
        end -= 4;
    }
    let Some(f) = c.get(end.saturating_sub(12), 12) else {
        return Check::Intact { complete: false };
    };
    if &f[10..12] != b"YZ" {
        return Check::broken(end.saturating_sub(12), "xz-footer-magic-missing");
    }
    if crc32fast::hash(&f[4..10]) != read_le32(f, 0).unwrap_or(0) || f[8..10] != h[6..8] {
        return Check::broken(end.saturating_sub(12), "xz-footer-crc-mismatch");
    }
    Check::Intact { complete: false }
}

/// Zstandard: frame header descriptor reserved bit clear.
pub fn zstd(c: &Content) -> Check {
    match c.get(4, 1) {
        Some(d) if d[0] & 0x08 == 0 => Check::Intact { complete: false },
        Some(_) => Check::broken(4, "zstd-frame-header-bad"),
        None => Check::Truncated { offset: 0 },
    }
}

/// 7-Zip: start header CRC, and the next header's CRC when it was read. An AES coder in an
/// encoded header means a password-protected archive.
pub fn seven_zip(c: &Content) -> Check {
    let Some(h) = c.get(0, 32) else {
        return Check::Truncated { offset: 0 };
    };
    if crc32fast::hash(&h[12..32]) != read_le32(h, 8).unwrap_or(0) {
        return Check::broken(8, "7z-start-header-crc-mismatch");
    }
    let next_off = u64::from_le_bytes(h[12..20].try_into().unwrap_or_default());
    let next_len = u64::from_le_bytes(h[20..28].try_into().unwrap_or_default());
    let next_crc = read_le32(h, 28).unwrap_or(0);
    let Some(abs) = next_off.checked_add(32) else {
        return Check::broken(12, "7z-next-header-out-of-range");
    };
    if abs.saturating_add(next_len) > c.size {
        return Check::broken(12, "7z-next-header-out-of-range");
    }
    let Some(next) = c.get(abs, next_len as usize) else {
        return Check::Intact { complete: false };
    };
    if crc32fast::hash(next) != next_crc {
        return Check::broken(abs, "7z-next-header-crc-mismatch");
    }
    // kEncodedHeader whose coder is 7zAES (06 F1 07 01).
    if next.first() == Some(&0x17) && crate::format::find(next, &[0x06, 0xf1, 0x07, 0x01]).is_some()
    {
        return Check::Protected {
            what: "7z-password",
        };
    }
    if crate::format::find(next, &[0x06, 0xf1, 0x07, 0x01]).is_some() {
        return Check::Protected {
            what: "7z-password",
        };
    }
    Check::Intact { complete: false }
}

/// RAR: signature only (RAR 5 headers are checked by CRC in a later version).
pub fn rar(_c: &Content) -> Check {
    Check::Intact { complete: false }
}

/// tar: every 512-byte header's checksum, following the sizes.
pub fn tar(c: &Content) -> Check {
    let mut pos = 0u64;
    while pos + 512 <= c.size {
        let Some(h) = c.get(pos, 512) else {
            return Check::Intact { complete: false };
        };
        if h.iter().all(|&b| b == 0) {
            return Check::Intact {
                complete: c.is_whole(),
            };
        }
        let field = std::str::from_utf8(&h[148..156])
            .unwrap_or("")
            .trim_matches(|ch: char| ch == '\0' || ch == ' ');
        let stored = u64::from_str_radix(field, 8).unwrap_or(u64::MAX);
        let sum: u64 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(b)
                }
            })
            .sum();
        if stored != sum {
            return Check::broken(pos, "tar-header-checksum-mismatch");
        }
        let size_field = std::str::from_utf8(&h[124..136])
            .unwrap_or("")
            .trim_matches(|ch: char| ch == '\0' || ch == ' ');
        let size = u64::from_str_radix(size_field, 8).unwrap_or(0);
        pos += 512 + size.div_ceil(512) * 512;
    }
    Check::Intact {
        complete: c.is_whole(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = e.write_all(data);
        e.finish().unwrap_or_default()
    }

    /// The one-call fast path accepts only what the member-by-member check accepts; a second
    /// member whose trailer repeats the first one's must still be checked (and here is damaged).
    #[test]
    fn gzip_fast_path_never_hides_a_later_member() {
        let text = "2026-04-01 09:00 smbd[1234]: 請求書.xlsx opened\n".repeat(400);
        let one = gz(text.as_bytes());
        let mut inflater = Inflater::new();
        assert!(gzip_single_member_intact(&one, &mut inflater));
        assert_eq!(
            gzip(&Content::whole(one.clone())),
            Check::Intact { complete: true }
        );
        let two = [one.clone(), one.clone()].concat();
        assert!(!gzip_single_member_intact(&two, &mut inflater));
        assert_eq!(gzip(&Content::whole(two)), Check::Intact { complete: true });
        let mut damaged = [one.clone(), one.clone()].concat();
        let mid = one.len() + one.len() / 2;
        for b in &mut damaged[mid..mid + 64] {
            *b ^= 0xa5;
        }
        assert!(!gzip_single_member_intact(&damaged, &mut inflater));
        assert!(matches!(
            gzip(&Content::whole(damaged)),
            Check::Broken { .. }
        ));
        let zeros = [one.clone(), vec![0; 512]].concat();
        assert!(!gzip_single_member_intact(&zeros, &mut inflater));
        assert_eq!(
            gzip(&Content::whole(zeros)),
            Check::Intact { complete: true }
        );
        let mut bad_crc = one;
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 1;
        assert!(!gzip_single_member_intact(&bad_crc, &mut inflater));
        assert!(matches!(
            gzip(&Content::whole(bad_crc)),
            Check::Broken { .. }
        ));
    }
}
