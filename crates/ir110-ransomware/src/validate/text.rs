//! Text: UTF-8, UTF-16 (with or without BOM), Shift_JIS, EUC-JP. A text file is intact when
//! every block read is text; a block of random bytes inside text is damage.

use super::Check;
use crate::content::Content;
use crate::stats;

/// Which encoding the text is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (or ASCII).
    Utf8,
    /// UTF-16, little- or big-endian.
    Utf16,
    /// Shift_JIS.
    ShiftJis,
    /// EUC-JP.
    EucJp,
    /// Bytes that are mostly printable but in no encoding above (Latin-1, Windows-1252, …).
    Legacy,
}

fn controls_ok(b: &[u8]) -> bool {
    let bad = b
        .iter()
        .filter(|&&x| x < 0x20 && !matches!(x, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b | 0x1a | 0x08))
        .count();
    bad * 200 <= b.len().max(1) && !b.contains(&0)
}

/// Recognises text in `b` (a file head or a block cut anywhere: partial characters at both
/// ends are tolerated).
pub fn detect(b: &[u8]) -> Option<Encoding> {
    if b.is_empty() {
        return None;
    }
    if b.starts_with(&[0xff, 0xfe]) || b.starts_with(&[0xfe, 0xff]) || utf16_without_bom(b) {
        return Some(Encoding::Utf16);
    }
    if !controls_ok(b) {
        return None;
    }
    // Tolerate a cut character at either end of a block.
    let mut start = 0;
    while start < 3 && start < b.len() && b[start] & 0xc0 == 0x80 {
        start += 1;
    }
    let inner = &b[start..];
    match std::str::from_utf8(inner) {
        Ok(_) => return Some(Encoding::Utf8),
        Err(e) if e.error_len().is_none() => return Some(Encoding::Utf8),
        Err(_) => {}
    }
    let trimmed = if b.len() >= 2 { &b[1..b.len() - 1] } else { b };
    for (enc, label) in [
        (encoding_rs::SHIFT_JIS, Encoding::ShiftJis),
        (encoding_rs::EUC_JP, Encoding::EucJp),
    ] {
        for cut in [b, trimmed] {
            let (_, had_errors) = enc.decode_without_bom_handling(cut);
            if !had_errors {
                return Some(label);
            }
        }
    }
    // Legacy single-byte text: no random-looking statistics, mostly printable ASCII.
    let ascii = b
        .iter()
        .filter(|&&x| (0x20..0x7f).contains(&x) || x == b'\n' || x == b'\r' || x == b'\t')
        .count();
    (ascii * 10 >= b.len() * 7 && !stats::is_random(b)).then_some(Encoding::Legacy)
}

fn utf16_without_bom(b: &[u8]) -> bool {
    if b.len() < 16 {
        return false;
    }
    // Line ends of UTF-16 text: CR LF as `0d 00 0a 00` (LE) or `00 0d 00 0a` (BE), on one parity.
    let le_lines = b
        .windows(4)
        .enumerate()
        .filter(|(i, w)| i % 2 == 0 && (w == b"\r\0\n\0" || w[..2] == *b"\n\0"))
        .count();
    let be_lines = b
        .windows(4)
        .enumerate()
        .filter(|(i, w)| i % 2 == 0 && (w == b"\0\r\0\n" || w[..2] == *b"\0\n"))
        .count();
    if le_lines.max(be_lines) >= 3 {
        let zero_odd = b.iter().skip(1).step_by(2).filter(|&&x| x == 0).count();
        let zero_even = b.iter().step_by(2).filter(|&&x| x == 0).count();
        let (text_zeros, other) = if le_lines >= be_lines {
            (zero_odd, zero_even)
        } else {
            (zero_even, zero_odd)
        };
        if text_zeros * 20 >= b.len() / 2 && other * 50 < b.len() / 2 {
            return true;
        }
    }
    let n = b.len() / 2;
    let zeros_odd = b.iter().skip(1).step_by(2).filter(|&&x| x == 0).count();
    let zeros_even = b.iter().step_by(2).filter(|&&x| x == 0).count();
    zeros_odd * 10 >= n * 9 && zeros_even * 10 < n || zeros_even * 10 >= n * 9 && zeros_odd * 10 < n
}

/// A text file is intact when it starts as text; damage inside is found by block statistics.
pub fn check(c: &Content) -> Check {
    match detect(&c.head()[..c.head().len().min(64 << 10)]) {
        Some(_) => Check::Intact { complete: false },
        None => Check::broken(0, "text-not-text"),
    }
}

/// A text file's encoding and the windows where it stops being text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextAnalysis {
    /// The encoding that explains the content best.
    pub encoding: Encoding,
    /// Byte ranges (absolute) of 64-byte windows that are not text in that encoding.
    pub anomalies: Vec<(u64, u64)>,
    /// Bytes examined.
    pub examined: u64,
}

const WINDOW: usize = 64;

/// Anomalous bytes in `b` read as `enc`: invalid sequences and control characters.
fn anomaly_positions(b: &[u8], enc: Encoding) -> Vec<usize> {
    let ctrl = |x: u8| x < 0x20 && !matches!(x, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b | 0x1a);
    let mut out = Vec::new();
    match enc {
        Encoding::Utf8 => {
            let mut i = 0;
            while i < b.len() {
                match std::str::from_utf8(&b[i..]) {
                    Ok(s) => {
                        out.extend(
                            s.bytes()
                                .enumerate()
                                .filter(|(_, x)| ctrl(*x))
                                .map(|(k, _)| i + k),
                        );
                        break;
                    }
                    Err(e) => {
                        let valid = e.valid_up_to();
                        out.extend(
                            b[i..i + valid]
                                .iter()
                                .enumerate()
                                .filter(|(_, x)| ctrl(**x))
                                .map(|(k, _)| i + k),
                        );
                        let bad = e.error_len().unwrap_or(b.len() - i - valid).max(1);
                        out.extend((i + valid)..(i + valid + bad).min(b.len()));
                        i += valid + bad;
                    }
                }
            }
        }
        Encoding::ShiftJis => {
            let mut i = 0;
            while i < b.len() {
                let x = b[i];
                match x {
                    0x81..=0x9f | 0xe0..=0xfc => {
                        if b.get(i + 1)
                            .is_some_and(|&t| matches!(t, 0x40..=0x7e | 0x80..=0xfc))
                        {
                            i += 2;
                            continue;
                        }
                        if i + 1 < b.len() {
                            out.push(i);
                        }
                    }
                    0x80 | 0xa0 | 0xfd..=0xff => out.push(i),
                    _ if ctrl(x) => out.push(i),
                    _ => {}
                }
                i += 1;
            }
        }
        Encoding::EucJp => {
            let mut i = 0;
            while i < b.len() {
                let x = b[i];
                match x {
                    0xa1..=0xfe | 0x8e => {
                        if b.get(i + 1).is_some_and(|&t| (0xa1..=0xfe).contains(&t)) {
                            i += 2;
                            continue;
                        }
                        if i + 1 < b.len() {
                            out.push(i);
                        }
                    }
                    0x8f => {
                        i += 3;
                        continue;
                    }
                    0x80..=0xa0 | 0xff => out.push(i),
                    _ if ctrl(x) => out.push(i),
                    _ => {}
                }
                i += 1;
            }
        }
        Encoding::Legacy => out.extend(
            b.iter()
                .enumerate()
                .filter(|(_, x)| ctrl(**x) || **x == 0x7f)
                .map(|(k, _)| k),
        ),
        Encoding::Utf16 => {
            let le = !b.starts_with(&[0xfe, 0xff])
                && (b.starts_with(&[0xff, 0xfe])
                    || b.iter().skip(1).step_by(2).filter(|&&x| x == 0).count()
                        >= b.iter().step_by(2).filter(|&&x| x == 0).count());
            let mut prev_high = false;
            // Characters from blocks the text otherwise (almost) never uses are what random
            // code units look like: count the high bytes first.
            let mut blocks = [0u32; 256];
            for u in b.chunks_exact(2) {
                blocks[usize::from(if le { u[1] } else { u[0] })] += 1;
            }
            let units = (b.len() / 2) as u32;
            for (k, u) in b.chunks_exact(2).enumerate() {
                let v = if le {
                    u16::from_le_bytes([u[0], u[1]])
                } else {
                    u16::from_be_bytes([u[0], u[1]])
                };
                if units >= 512 && blocks[usize::from(v >> 8)] * 500 < units {
                    out.push(2 * k);
                    prev_high = false;
                    continue;
                }
                let high = (0xd800..0xdc00).contains(&v);
                let low = (0xdc00..0xe000).contains(&v);
                let bad = v < 0x20 && !matches!(v, 0x09 | 0x0a | 0x0d | 0x0c)
                    || (0x7f..0xa0).contains(&v)
                    || (0xe000..0xf900).contains(&v)
                    || v >= 0xfff0
                    || low && !prev_high
                    || prev_high && !low;
                if bad {
                    out.push(2 * k);
                }
                prev_high = high;
            }
        }
    }
    out
}

/// Reads the content as text, choosing the encoding with the fewest anomalies, and maps
/// windows that are not text. `None` when the content is not text (most windows anomalous, or
/// no encoding fits the start).
pub fn analyse(c: &Content) -> Option<TextAnalysis> {
    let head = c.head();
    let sample = &head[..head.len().min(64 << 10)];
    if sample.len() < 16 {
        return None;
    }
    let utf16 = sample.starts_with(&[0xff, 0xfe])
        || sample.starts_with(&[0xfe, 0xff])
        || utf16_without_bom(&sample[sample.len() / 2..]);
    let candidates: &[Encoding] = if utf16 {
        &[Encoding::Utf16]
    } else {
        &[
            Encoding::Utf8,
            Encoding::ShiftJis,
            Encoding::EucJp,
            Encoding::Legacy,
        ]
    };
    // Judge the encoding on the second half of the sample too, so a damaged start does not hide it.
    let mut best: Option<(Encoding, usize)> = None;
    for &enc in candidates {
        let bad = anomaly_positions(sample, enc).len();
        if best.is_none_or(|(_, b)| bad < b) {
            best = Some((enc, bad));
        }
        // A perfect fit cannot be beaten (candidates are in order of preference).
        if bad == 0 {
            break;
        }
    }
    let (encoding, _) = best?;
    if encoding == Encoding::Legacy {
        let ascii = sample
            .iter()
            .filter(|&&x| (0x20..0x7f).contains(&x) || matches!(x, b'\n' | b'\r' | b'\t'))
            .count();
        if ascii * 10 < sample.len() * 7 {
            return None;
        }
    }
    let mut anomalies: Vec<(u64, u64)> = Vec::new();
    let mut windows = 0u64;
    let mut bad_windows = 0u64;
    let mut examined = 0u64;
    for (off, bytes) in &c.parts {
        examined += bytes.len() as u64;
        let pos = anomaly_positions(bytes, encoding);
        let mut counts = vec![0u16; bytes.len().div_ceil(WINDOW)];
        for p in pos {
            counts[p / WINDOW] = counts[p / WINDOW].saturating_add(1);
        }
        for (w, &n) in counts.iter().enumerate() {
            windows += 1;
            if n >= 3 {
                bad_windows += 1;
                let s = off + (w * WINDOW) as u64;
                let e = (s + WINDOW as u64).min(off + bytes.len() as u64);
                match anomalies.last_mut() {
                    Some((_, le)) if *le >= s => *le = e,
                    _ => anomalies.push((s, e)),
                }
            }
        }
    }
    // Mostly anomalous: not text (random data, binary, XORed text).
    if bad_windows * 2 > windows {
        return None;
    }
    Some(TextAnalysis {
        encoding,
        anomalies,
        examined,
    })
}
