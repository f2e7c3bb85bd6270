//! Weak "encryption" with a short repeating XOR key, as some families and wipers use. The
//! content is then not random, so statistics miss it; instead we recover the key (from bytes
//! the expected format must have at its start, and from per-lane byte frequencies at the start
//! and end of the file) and check that removing it gives a file that validates.

use crate::content::Content;
use crate::format::Format;
use crate::validate::{self, Check, text};

/// A recovered key and what the file is under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XorKey {
    /// The repeating key.
    pub key: Vec<u8>,
    /// The format recognised after removing it.
    pub format: Format,
}

/// Longest key tried.
const MAX_PERIOD: usize = 32;

fn apply_at(data: &[u8], offset: u64, key: &[u8]) -> Vec<u8> {
    let p = key.len() as u64;
    data.iter()
        .enumerate()
        .map(|(i, b)| b ^ key[((offset + i as u64) % p) as usize])
        .collect()
}

/// Bytes a file of the format has at its start (`None` = any byte).
fn known_prefix(expected: Option<Format>, size: u64) -> Vec<Vec<Option<u8>>> {
    let lit = |b: &[u8]| b.iter().map(|&x| Some(x)).collect::<Vec<_>>();
    let le32 = |v: u64| (v as u32).to_le_bytes();
    match expected {
        Some(Format::Png) => vec![lit(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")],
        Some(Format::Zip) => vec![
            [lit(b"PK\x03\x04\x14\0"), vec![None, None], lit(b"\x08\0")].concat(),
            [lit(b"PK\x03\x04\x0a\0"), vec![None, None], lit(b"\0\0")].concat(),
            [lit(b"PK\x03\x04\x14\0\0\0\x08\0")].concat(),
        ],
        Some(Format::Pdf) => vec![lit(b"%PDF-1.")],
        Some(Format::Jpeg) => vec![
            [lit(&[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), lit(b"JFIF\0")].concat(),
            [
                lit(&[0xff, 0xd8, 0xff, 0xe1]),
                vec![None, None],
                lit(b"Exif\0\0"),
            ]
            .concat(),
            lit(&[0xff, 0xd8, 0xff]),
        ],
        Some(Format::Gif) => vec![lit(b"GIF89a"), lit(b"GIF87a")],
        Some(Format::Ole2) => vec![
            [
                lit(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
                vec![Some(0); 16],
            ]
            .concat(),
        ],
        Some(Format::Riff) => vec![
            [
                lit(b"RIFF"),
                lit(&le32(size.saturating_sub(8))),
                lit(b"WAVEfmt "),
            ]
            .concat(),
            [
                lit(b"RIFF"),
                lit(&le32(size.saturating_sub(8))),
                lit(b"AVI LIST"),
            ]
            .concat(),
            lit(b"RIFF"),
        ],
        Some(Format::Bmp) => vec![[lit(b"BM"), lit(&le32(size)), lit(&[0, 0, 0, 0])].concat()],
        Some(Format::Tiff) => vec![lit(b"II*\0\x08\0\0\0"), lit(b"II*\0"), lit(b"MM\0*")],
        Some(Format::Mp3) => vec![lit(b"ID3\x04\0"), lit(b"ID3\x03\0"), lit(&[0xff, 0xfb])],
        Some(Format::Gzip) => vec![lit(&[0x1f, 0x8b, 0x08])],
        Some(Format::Ogg) => vec![lit(b"OggS\0\x02\0\0\0\0\0\0\0\0")],
        Some(Format::Mp4) => vec![[vec![None; 4], lit(b"ftyp")].concat()],
        Some(Format::Sqlite) => vec![lit(b"SQLite format 3\0")],
        _ => Vec::new(),
    }
}

fn plausible(decoded: &[u8], whole: bool, expected: Option<Format>) -> Option<Format> {
    match Format::sniff(decoded) {
        Some(f) if Some(f) == expected || expected.is_none() => {
            if !whole {
                // Only the start was decoded: the recognised magic is the evidence.
                return Some(f);
            }
            match validate::validate(f, &Content::whole(decoded.to_vec())) {
                Check::Broken { .. } => None,
                _ => Some(f),
            }
        }
        _ if expected == Some(Format::Text) || expected.is_none() => {
            let c = Content::whole(decoded[..decoded.len().min(16 << 10)].to_vec());
            let t = text::analyse(&c)?;
            let sample = &decoded[..decoded.len().min(4096)];
            // Real text, not merely "printable": mostly letters, digits, spaces, newlines.
            let wordy = sample
                .iter()
                .filter(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(**b, b' ' | b'\n' | b'\r' | b',')
                        || **b >= 0x80
                        || **b == 0
                })
                .count()
                * 10
                >= sample.len() * 8;
            (t.anomalies.is_empty() && wordy).then_some(Format::Text)
        }
        _ => None,
    }
}

/// Byte counts per lane (position mod `period`) over what was read of the start and the end.
fn lane_tops(c: &Content, period: usize, common: u8) -> Vec<u8> {
    let mut counts = vec![[0u32; 256]; period];
    for (off, bytes) in [c.parts.first(), c.parts.last()].into_iter().flatten() {
        for (i, &b) in bytes.iter().take(64 << 10).enumerate() {
            counts[((off + i as u64) % period as u64) as usize][usize::from(b)] += 1;
        }
        if c.parts.len() == 1 {
            break;
        }
    }
    counts
        .iter()
        .map(|cnt| {
            cnt.iter()
                .enumerate()
                .max_by_key(|(_, n)| **n)
                .map_or(0, |(i, _)| i as u8)
                ^ common
        })
        .collect()
}

/// Tries to recover a repeating XOR key of up to 32 bytes.
pub fn recover(c: &Content, expected: Option<Format>) -> Option<XorKey> {
    let head = c.head();
    if head.len() < 64 {
        return None;
    }
    let whole = c.is_whole() && c.size <= 8 << 20;
    let prefixes = known_prefix(expected, c.size);
    let try_key = |key: &[u8]| -> Option<XorKey> {
        if key.iter().all(|&k| k == 0) {
            return None;
        }
        let start = apply_at(&head[..head.len().min(8192)], 0, key);
        plausible(&start, false, expected)?;
        let decoded = if whole { apply_at(head, 0, key) } else { start };
        plausible(&decoded, whole, expected).map(|format| XorKey {
            key: key.to_vec(),
            format,
        })
    };
    for period in 1..=MAX_PERIOD {
        // Known plaintext at the start fixes the key bytes it covers; it must agree with itself.
        for prefix in &prefixes {
            let mut key: Vec<Option<u8>> = vec![None; period];
            let mut consistent = true;
            for (i, p) in prefix.iter().enumerate() {
                let (Some(p), Some(&b)) = (p, head.get(i)) else {
                    continue;
                };
                let k = b ^ p;
                match key[i % period] {
                    Some(old) if old != k => {
                        consistent = false;
                        break;
                    }
                    _ => key[i % period] = Some(k),
                }
            }
            if !consistent {
                continue;
            }
            for common in [0x00u8, 0x20, 0xff] {
                let tops = lane_tops(c, period, common);
                let full: Vec<u8> = key
                    .iter()
                    .zip(&tops)
                    .map(|(k, t)| k.unwrap_or(*t))
                    .collect();
                if let Some(found) = try_key(&full) {
                    return Some(found);
                }
                if key.iter().all(Option::is_some) {
                    break;
                }
            }
        }
        // No known prefix: the most frequent byte of each lane is the format's most common byte.
        if prefixes.is_empty() {
            for common in [0x00u8, 0x20, 0xe3, 0x82, 0x81, 0x83, 0x30, 0xff, 0x65] {
                if let Some(found) = try_key(&lane_tops(c, period, common)) {
                    return Some(found);
                }
            }
        }
    }
    None
}
