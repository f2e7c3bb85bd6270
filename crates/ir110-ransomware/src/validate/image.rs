//! Images: PNG (chunk CRC-32 chain), JPEG (marker chain and byte stuffing in scan data), GIF
//! (block chain), BMP, TIFF (IFD chain), Netpbm (header and pixel count).

use super::Check;
use crate::content::Content;
use crate::format::{read_be16, read_be32, read_le16, read_le32};

/// PNG: signature, then chunks `len type data crc` to `IEND`; every CRC must match.
pub fn png(c: &Content) -> Check {
    let mut pos = 8u64;
    let mut first = true;
    loop {
        let Some(h) = c.get(pos, 8) else {
            return if pos >= c.size {
                Check::Truncated { offset: pos }
            } else {
                Check::Intact { complete: false }
            };
        };
        let len = u64::from(read_be32(h, 0).unwrap_or(0));
        let ty = &h[4..8];
        if len > 0x7fff_ffff || !ty.iter().all(u8::is_ascii_alphabetic) || first && ty != b"IHDR" {
            return Check::broken(pos, "png-chunk-header-bad");
        }
        first = false;
        if pos + 12 + len > c.size {
            return Check::Truncated { offset: pos };
        }
        let Some(body) = c.get(pos + 4, 4 + len as usize) else {
            // Chunk spans a part not read: skip it unverified.
            pos += 12 + len;
            if ty == b"IEND" {
                return Check::Intact { complete: false };
            }
            continue;
        };
        let Some(crc) = c.get(pos + 8 + len, 4) else {
            pos += 12 + len;
            continue;
        };
        if crc32fast::hash(body) != read_be32(crc, 0).unwrap_or(0) {
            return Check::broken(pos, "png-chunk-crc-mismatch");
        }
        pos += 12 + len;
        if ty == b"IEND" {
            return Check::Intact {
                complete: c.is_whole(),
            };
        }
    }
}

/// Verified PNG chunks found anywhere (a damage map for partially encrypted images).
pub fn png_verified_ranges(data: &[u8]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for ty in [
        &b"IDAT"[..],
        b"IEND",
        b"IHDR",
        b"PLTE",
        b"tEXt",
        b"zTXt",
        b"iTXt",
        b"pHYs",
        b"iCCP",
        b"tIME",
        b"gAMA",
        b"cHRM",
        b"sRGB",
        b"bKGD",
        b"eXIf",
    ] {
        let mut i = 4usize;
        while let Some(rel) = crate::format::find(&data[i..], ty) {
            let at = i + rel;
            i = at + 1;
            let Some(len) = read_be32(data, at - 4) else {
                continue;
            };
            let len = len as usize;
            let Some(body) = data.get(at..at + 4 + len) else {
                continue;
            };
            let Some(crc) = read_be32(data, at + 4 + len) else {
                continue;
            };
            if crc32fast::hash(body) == crc {
                out.push(((at - 4) as u64, (at + 8 + len) as u64));
            }
            if i + 4 > data.len() {
                break;
            }
        }
    }
    out.sort_unstable();
    out
}

/// Whether `m` may follow 0xFF inside JPEG entropy-coded data (stuffing, restart, or the
/// marker that ends the scan).
fn scan_marker_ok(m: u8) -> bool {
    matches!(m, 0x00 | 0xd0..=0xd7 | 0xff | 0xd9 | 0xc4 | 0xda | 0xdb | 0xdd | 0xcc | 0xfe | 0xe0..=0xef | 0xc0..=0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf)
}

/// JPEG byte-stuffing violations in a block of scan data (random data has about one per
/// 260 bytes; real scan data has none).
pub fn jpeg_stuffing_violations(block: &[u8]) -> usize {
    let Some(body) = block.len().checked_sub(1).map(|n| &block[..n]) else {
        return 0;
    };
    memchr::memchr_iter(0xff, body)
        .filter(|&i| !scan_marker_ok(block[i + 1]))
        .count()
}

/// JPEG: SOI, marker segments with lengths, scan data obeying byte stuffing, EOI.
pub fn jpeg(c: &Content) -> Check {
    let mut pos = 2u64;
    let mut saw_sos = false;
    loop {
        let Some(m) = c.get(pos, 2) else {
            return if pos >= c.size {
                if saw_sos {
                    Check::Intact {
                        complete: c.is_whole(),
                    }
                } else {
                    Check::Truncated { offset: pos }
                }
            } else {
                Check::Intact { complete: false }
            };
        };
        if m[0] != 0xff {
            return Check::broken(pos, "jpeg-marker-expected");
        }
        let marker = m[1];
        match marker {
            0xff => {
                pos += 1; // fill byte
                continue;
            }
            0xd9 => {
                return Check::Intact {
                    complete: c.is_whole(),
                };
            }
            0xd0..=0xd7 | 0x01 => {
                pos += 2;
                continue;
            }
            0x02..=0xbf => return Check::broken(pos, "jpeg-marker-reserved"),
            _ => {}
        }
        let Some(l) = c.get(pos + 2, 2) else {
            return Check::Intact { complete: false };
        };
        let len = u64::from(read_be16(l, 0).unwrap_or(0));
        if len < 2 {
            return Check::broken(pos, "jpeg-segment-length-bad");
        }
        pos += 2 + len;
        if marker != 0xda {
            continue;
        }
        saw_sos = true;
        // Entropy-coded data until a marker other than RSTn or stuffing.
        loop {
            let Some(chunk) = c.get_upto(pos, 1 << 20) else {
                return if pos >= c.size {
                    Check::Truncated { offset: pos }
                } else {
                    Check::Intact { complete: false }
                };
            };
            if chunk.len() < 2 {
                return Check::Truncated { offset: pos };
            }
            let mut i = 0usize;
            let mut ended = None;
            while i + 1 < chunk.len() {
                // Jump to the next 0xFF: most entropy-coded bytes are not.
                match memchr::memchr(0xff, &chunk[i..chunk.len() - 1]) {
                    Some(k) => i += k,
                    None => break,
                }
                let n = chunk[i + 1];
                match n {
                    0x00 | 0xd0..=0xd7 => i += 2,
                    0xff => i += 1,
                    _ if scan_marker_ok(n) => {
                        ended = Some(i);
                        break;
                    }
                    _ => return Check::broken(pos + i as u64, "jpeg-byte-stuffing-violated"),
                }
            }
            match ended {
                Some(i) => {
                    pos += i as u64;
                    break;
                }
                None => {
                    // Continue in the next part of the content, overlapping by one byte.
                    if (chunk.len() as u64) < 2 {
                        return Check::Truncated { offset: pos };
                    }
                    let next = pos + (chunk.len() as u64 - 1);
                    if next >= c.size - 1 {
                        // Scan data runs to the end without EOI: a cut file.
                        return Check::Truncated { offset: pos };
                    }
                    if c.get(next, 2).is_none() {
                        return Check::Intact { complete: false };
                    }
                    pos = next;
                }
            }
        }
    }
}

/// GIF: header, screen descriptor, colour table, then image and extension blocks with
/// sub-block chains, to the trailer.
pub fn gif(c: &Content) -> Check {
    let Some(h) = c.get(0, 13) else {
        return Check::Truncated { offset: 0 };
    };
    let mut pos = 13u64;
    if h[10] & 0x80 != 0 {
        pos += 3 * (1u64 << ((h[10] & 7) + 1));
    }
    loop {
        let Some(b) = c.get(pos, 1) else {
            return if pos >= c.size {
                Check::Truncated { offset: pos }
            } else {
                Check::Intact { complete: false }
            };
        };
        match b[0] {
            0x3b => {
                return Check::Intact {
                    complete: c.is_whole(),
                };
            }
            0x21 => pos += 2,
            0x2c => {
                let Some(d) = c.get(pos, 10) else {
                    return Check::Intact { complete: false };
                };
                pos += 10;
                if d[9] & 0x80 != 0 {
                    pos += 3 * (1u64 << ((d[9] & 7) + 1));
                }
                pos += 1; // LZW minimum code size
            }
            _ => return Check::broken(pos, "gif-block-bad"),
        }
        // Sub-block chain.
        loop {
            let Some(l) = c.get(pos, 1) else {
                return if pos >= c.size {
                    Check::Truncated { offset: pos }
                } else {
                    Check::Intact { complete: false }
                };
            };
            pos += 1 + u64::from(l[0]);
            if l[0] == 0 {
                break;
            }
        }
    }
}

/// BMP: the declared file size and pixel offset agree with the file.
pub fn bmp(c: &Content) -> Check {
    let Some(h) = c.get(0, 30) else {
        return Check::Truncated { offset: 0 };
    };
    let declared = u64::from(read_le32(h, 2).unwrap_or(0));
    let pixels = u64::from(read_le32(h, 10).unwrap_or(0));
    let dib = read_le32(h, 14).unwrap_or(0);
    if ![12, 40, 52, 56, 64, 108, 124].contains(&dib)
        || pixels >= c.size.max(1)
        || declared != 0 && declared > c.size + 4096
    {
        return Check::broken(0, "bmp-header-bad");
    }
    Check::Intact { complete: false }
}

/// TIFF: the chain of image file directories stays inside the file and is well formed.
pub fn tiff(c: &Content) -> Check {
    let Some(h) = c.get(0, 8) else {
        return Check::Truncated { offset: 0 };
    };
    let le = h[0] == b'I';
    let r32 = |b: &[u8], o: usize| if le { read_le32(b, o) } else { read_be32(b, o) };
    let r16 = |b: &[u8], o: usize| if le { read_le16(b, o) } else { read_be16(b, o) };
    let mut ifd = u64::from(r32(h, 4).unwrap_or(0));
    let mut hops = 0;
    while ifd != 0 && hops < 1000 {
        hops += 1;
        if ifd >= c.size {
            return Check::broken(4, "tiff-ifd-out-of-range");
        }
        let Some(n) = c.get(ifd, 2) else {
            return Check::Intact { complete: false };
        };
        let n = u64::from(r16(n, 0).unwrap_or(0));
        if n == 0 || n > 4096 {
            return Check::broken(ifd, "tiff-ifd-bad");
        }
        let Some(entries) = c.get(ifd + 2, (n * 12 + 4) as usize) else {
            return Check::Intact { complete: false };
        };
        let mut last_tag = 0u16;
        for e in 0..n as usize {
            let tag = r16(entries, e * 12).unwrap_or(0);
            let ty = r16(entries, e * 12 + 2).unwrap_or(0);
            if tag < last_tag || ty == 0 || ty > 18 {
                return Check::broken(ifd, "tiff-ifd-entry-bad");
            }
            last_tag = tag;
        }
        ifd = u64::from(r32(entries, (n * 12) as usize).unwrap_or(0));
    }
    Check::Intact { complete: false }
}

/// Netpbm: `P5`/`P6` header; the pixel data must have exactly the declared size.
pub fn netpbm(c: &Content) -> Check {
    let head = c.head();
    let mut fields = Vec::new();
    let mut i = 2usize;
    while fields.len() < 3 && i < head.len().min(4096) {
        while i < head.len() && (head[i].is_ascii_whitespace() || head[i] == b'#') {
            if head[i] == b'#' {
                while i < head.len() && head[i] != b'\n' {
                    i += 1;
                }
            }
            i += 1;
        }
        let s = i;
        while i < head.len() && head[i].is_ascii_digit() {
            i += 1;
        }
        if s == i {
            return Check::broken(s as u64, "netpbm-header-bad");
        }
        fields.push(
            std::str::from_utf8(&head[s..i])
                .ok()
                .and_then(|t| t.parse::<u64>().ok())
                .unwrap_or(0),
        );
    }
    let kind = head.get(1).copied().unwrap_or(0);
    if matches!(kind, b'5' | b'6') && fields.len() == 3 {
        let per = if kind == b'6' { 3 } else { 1 } * if fields[2] > 255 { 2 } else { 1 };
        let expected = fields[0] * fields[1] * per + i as u64 + 1;
        if expected > c.size {
            return Check::Truncated { offset: i as u64 };
        }
    }
    Check::Intact { complete: false }
}
