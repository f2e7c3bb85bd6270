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
    match simdutf8::compat::from_utf8(inner) {
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
    // UTF-16 text has zero bytes (ASCII range) on one parity; most files have none at all.
    if b.len() < 16 || !b.contains(&0) {
        return false;
    }
    // Line ends of UTF-16 text: CR LF as `0d 00 0a 00` (LE) or `00 0d 00 0a` (BE), on one parity.
    let (mut le_lines, mut be_lines, mut zero_odd, mut zero_even) =
        (0usize, 0usize, 0usize, 0usize);
    let mut i = 0;
    while i + 1 < b.len() {
        let (x, y) = (b[i], b[i + 1]);
        zero_even += usize::from(x == 0);
        zero_odd += usize::from(y == 0);
        if i + 4 <= b.len() {
            le_lines += usize::from(x == b'\n' && y == 0 || &b[i..i + 4] == b"\r\0\n\0");
            be_lines += usize::from(x == 0 && y == b'\n' || &b[i..i + 4] == b"\0\r\0\n");
        }
        i += 2;
    }
    if b.len() % 2 == 1 {
        zero_even += usize::from(b[b.len() - 1] == 0);
    }
    if le_lines.max(be_lines) >= 3 {
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
    zero_odd * 10 >= n * 9 && zero_even * 10 < n || zero_even * 10 >= n * 9 && zero_odd * 10 < n
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

/// Whether the 8 bytes at `b[i..]` are all printable ASCII (0x20..0x7f, plus 0x7f unless
/// `no_del`): no encoding here finds an anomaly in them. Most of a text file passes this test,
/// so the byte-by-byte decoders below run only around non-ASCII characters. They try it only
/// at an ASCII byte: inside a run of double-byte characters it would fail every time.
#[inline]
fn ascii_run(b: &[u8], i: usize, no_del: bool) -> bool {
    let Some(chunk) = b.get(i..i + 8) else {
        return false;
    };
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    let w = u64::from_le_bytes(w);
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A byte below 0x20 (or with the high bit set) sets its high bit in (w - 0x20…) & !w.
    let low = w.wrapping_sub(0x20 * ONES) & !w & HIGH;
    let del = if no_del {
        let x = w ^ (0x7f * ONES);
        x.wrapping_sub(ONES) & !x & HIGH
    } else {
        0
    };
    w & HIGH == 0 && low == 0 && del == 0
}

/// Calls `f` with the position of every anomalous byte in `b` read as `enc`: invalid
/// sequences and control characters. Stops when `f` returns false.
fn for_each_anomaly(b: &[u8], enc: Encoding, mut f: impl FnMut(usize) -> bool) {
    let ctrl = |x: u8| x < 0x20 && !matches!(x, b'\n' | b'\r' | b'\t' | 0x0c | 0x1b | 0x1a);
    match enc {
        Encoding::Utf8 => {
            // The same positions as repeated `str::from_utf8`: a maximal invalid prefix
            // (`error_len`) is anomalous, an incomplete sequence at the end is anomalous to
            // the end.
            let mut i = 0;
            while i < b.len() {
                if b[i] < 0x80 && ascii_run(b, i, false) {
                    i += 8;
                    continue;
                }
                let x = b[i];
                if x < 0x80 {
                    if ctrl(x) && !f(i) {
                        return;
                    }
                    i += 1;
                    continue;
                }
                let (len, lo, hi) = match x {
                    0xc2..=0xdf => (2, 0x80, 0xbf),
                    0xe0 => (3, 0xa0, 0xbf),
                    0xe1..=0xec | 0xee..=0xef => (3, 0x80, 0xbf),
                    0xed => (3, 0x80, 0x9f),
                    0xf0 => (4, 0x90, 0xbf),
                    0xf1..=0xf3 => (4, 0x80, 0xbf),
                    0xf4 => (4, 0x80, 0x8f),
                    _ => (0, 0, 0),
                };
                if len == 0 {
                    if !f(i) {
                        return;
                    }
                    i += 1;
                    continue;
                }
                let mut k = 1;
                let mut incomplete = false;
                while k < len {
                    let Some(&t) = b.get(i + k) else {
                        incomplete = true;
                        break;
                    };
                    let ok = if k == 1 {
                        (lo..=hi).contains(&t)
                    } else {
                        (0x80..=0xbf).contains(&t)
                    };
                    if !ok {
                        break;
                    }
                    k += 1;
                }
                if k == len {
                    i += len;
                } else {
                    let end = if incomplete { b.len() } else { i + k };
                    for p in i..end {
                        if !f(p) {
                            return;
                        }
                    }
                    i = end;
                }
            }
        }
        Encoding::ShiftJis => {
            let mut i = 0;
            while i < b.len() {
                if b[i] < 0x80 && ascii_run(b, i, false) {
                    i += 8;
                    continue;
                }
                let x = b[i];
                match x {
                    0x81..=0x9f | 0xe0..=0xfc => {
                        if b.get(i + 1)
                            .is_some_and(|&t| matches!(t, 0x40..=0x7e | 0x80..=0xfc))
                        {
                            i += 2;
                            continue;
                        }
                        if i + 1 < b.len() && !f(i) {
                            return;
                        }
                    }
                    0x80 | 0xa0 | 0xfd..=0xff if !f(i) => return,
                    _ if ctrl(x) && !f(i) => return,
                    _ => {}
                }
                i += 1;
            }
        }
        Encoding::EucJp => {
            let mut i = 0;
            while i < b.len() {
                if b[i] < 0x80 && ascii_run(b, i, false) {
                    i += 8;
                    continue;
                }
                let x = b[i];
                match x {
                    0xa1..=0xfe | 0x8e => {
                        if b.get(i + 1).is_some_and(|&t| (0xa1..=0xfe).contains(&t)) {
                            i += 2;
                            continue;
                        }
                        if i + 1 < b.len() && !f(i) {
                            return;
                        }
                    }
                    0x8f => {
                        i += 3;
                        continue;
                    }
                    0x80..=0xa0 | 0xff if !f(i) => return,
                    _ if ctrl(x) && !f(i) => return,
                    _ => {}
                }
                i += 1;
            }
        }
        Encoding::Legacy => {
            let mut i = 0;
            while i < b.len() {
                if b[i] < 0x80 && ascii_run(b, i, true) {
                    i += 8;
                    continue;
                }
                if (ctrl(b[i]) || b[i] == 0x7f) && !f(i) {
                    return;
                }
                i += 1;
            }
        }
        Encoding::Utf16 => {
            let le = !b.starts_with(&[0xfe, 0xff])
                && (b.starts_with(&[0xff, 0xfe])
                    || b.iter().skip(1).step_by(2).filter(|&&x| x == 0).count()
                        >= b.iter().step_by(2).filter(|&&x| x == 0).count());
            let mut prev_high = false;
            // Characters from blocks the text otherwise (almost) never uses are what random
            // code units look like: count the high bytes first.
            // The CJK unified ideographs (U+4E00–U+9FFF) count as one block: Japanese text
            // uses hundreds of kanji, each of their 82 high bytes rarely.
            let block = |hi: u8| {
                usize::from(if (0x4e..=0x9f).contains(&hi) {
                    0x4e
                } else {
                    hi
                })
            };
            let mut blocks = [0u32; 256];
            for u in b.chunks_exact(2) {
                blocks[block(if le { u[1] } else { u[0] })] += 1;
            }
            let units = (b.len() / 2) as u32;
            for (k, u) in b.chunks_exact(2).enumerate() {
                let v = if le {
                    u16::from_le_bytes([u[0], u[1]])
                } else {
                    u16::from_be_bytes([u[0], u[1]])
                };
                if units >= 512 && blocks[block((v >> 8) as u8)] * 500 < units {
                    if !f(2 * k) {
                        return;
                    }
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
                if bad && !f(2 * k) {
                    return;
                }
                prev_high = high;
            }
        }
    }
}

/// Whether `x` is a control character that text does not contain (branch-free, so the
/// per-window sums below vectorise).
#[inline]
fn is_ctrl(x: u8) -> bool {
    (x < 0x20)
        & (x != b'\n')
        & (x != b'\r')
        & (x != b'\t')
        & (x != 0x0c)
        & (x != 0x1b)
        & (x != 0x1a)
}

/// Control characters in a window of at most 64 bytes. Most windows of text have a line end
/// but no other byte below 0x20, so the exact count runs only where some byte below 0x20 is
/// neither CR nor LF; the test is a fixed-width pass the compiler vectorises.
#[inline]
fn ctrl_count(chunk: &[u8]) -> u16 {
    let suspicious = chunk.iter().fold(0u8, |a, &x| {
        a | u8::from((x < 0x20) & (x != b'\n') & (x != b'\r'))
    });
    if suspicious == 0 {
        return 0;
    }
    chunk.iter().map(|&x| u16::from(is_ctrl(x))).sum::<u16>()
}

/// How much of `b` is valid UTF-8 when the only fault is a character cut at the end (a block
/// cut anywhere); `None` when an invalid sequence comes earlier.
fn utf8_valid_prefix(b: &[u8]) -> Option<usize> {
    // simdutf8's `compat` check reports `valid_up_to` and `error_len` exactly as
    // `std::str::from_utf8` does, with SIMD (runtime-detected AVX2/SSE4.2) also on
    // non-ASCII text, where the standard library's check goes byte by byte.
    match simdutf8::compat::from_utf8(b) {
        Ok(_) => Some(b.len()),
        Err(e) if e.error_len().is_none() => Some(e.valid_up_to()),
        Err(_) => None,
    }
}

/// Anomalies per 64-byte window of `b` read as `enc`, and their total. `utf8` is
/// [`utf8_valid_prefix`] of `b` (computed once by the caller).
fn window_counts(b: &[u8], enc: Encoding, utf8: Option<usize>) -> (Vec<u16>, usize) {
    let mut counts = vec![0u16; b.len().div_ceil(WINDOW)];
    let mut total = 0usize;
    if enc == Encoding::Utf8 {
        // Valid UTF-8 (the common case) has only control characters to count.
        if let Some(valid) = utf8 {
            for (w, chunk) in b[..valid].chunks(WINDOW).enumerate() {
                let n = ctrl_count(chunk);
                counts[w] = n;
                total += usize::from(n);
            }
            for p in valid..b.len() {
                counts[p / WINDOW] = counts[p / WINDOW].saturating_add(1);
                total += 1;
            }
            return (counts, total);
        }
    }
    for_each_anomaly(b, enc, |p| {
        counts[p / WINDOW] = counts[p / WINDOW].saturating_add(1);
        total += 1;
        true
    });
    (counts, total)
}

/// Anomalies of `b` read as `enc`, counting no further than `limit + 1`.
fn count_upto(b: &[u8], enc: Encoding, limit: usize, utf8: Option<usize>) -> usize {
    if enc == Encoding::Utf8 {
        if let Some(valid) = utf8 {
            return b[..valid]
                .chunks(WINDOW)
                .map(|c| usize::from(ctrl_count(c)))
                .sum::<usize>()
                + (b.len() - valid);
        }
    }
    let mut n = 0usize;
    for_each_anomaly(b, enc, |_| {
        n += 1;
        n <= limit
    });
    n
}

/// The encoding that explains `sample` with the fewest anomalies; ties go to the earlier of
/// `candidates` (their order of preference). Text that is not UTF-8 is counted in its likely
/// encodings first, so the UTF-8 count can stop as soon as UTF-8 has lost.
fn best_encoding(
    sample: &[u8],
    candidates: &[Encoding],
    utf8: Option<usize>,
) -> Option<(Encoding, Vec<u16>)> {
    let utf8_ok = utf8.is_some();
    let mut order: Vec<(usize, Encoding)> = candidates.iter().copied().enumerate().collect();
    if !utf8_ok {
        order.sort_by_key(|&(_, e)| e == Encoding::Utf8 || e == Encoding::Legacy);
    }
    // The first candidate is counted per window at once: it usually wins (valid UTF-8, or
    // the encoding non-UTF-8 text is in), and its windows are what the caller needs.
    let (first_pref, first) = *order.first()?;
    let (first_counts, first_n) = window_counts(sample, first, utf8);
    let mut best: (usize, usize, Encoding) = (first_n, first_pref, first);
    for &(pref, enc) in &order[1..] {
        let (b, bp, _) = best;
        let n = if pref < bp {
            // An earlier candidate wins ties, so it may have as many anomalies as the best.
            count_upto(sample, enc, b, utf8)
        } else if b == 0 {
            continue;
        } else {
            count_upto(sample, enc, b - 1, utf8)
        };
        if n < b || n == b && pref < bp {
            best = (n, pref, enc);
        }
    }
    let enc = best.2;
    Some(if enc == first {
        (enc, first_counts)
    } else {
        (enc, window_counts(sample, enc, utf8).0)
    })
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
    let utf8 = if utf16 {
        None
    } else {
        utf8_valid_prefix(sample)
    };
    let (encoding, sample_counts) = best_encoding(sample, candidates, utf8)?;
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
        // A whole file up to 64 KiB is the sample: its windows are already counted.
        let owned;
        let counts = if *off == 0 && bytes.len() == sample.len() {
            &sample_counts
        } else {
            let utf8 = if encoding == Encoding::Utf8 {
                utf8_valid_prefix(bytes)
            } else {
                None
            };
            owned = window_counts(bytes, encoding, utf8).0;
            &owned
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast paths count exactly what the plain definitions count.
    #[test]
    fn fast_paths_match_plain_definitions() {
        let mut samples: Vec<Vec<u8>> = vec![
            "請求書 2026-04\r\n合計,1200\t円\n".repeat(40).into_bytes(),
            b"a\x01b\x0c\x1b\x00c\x7f\r\n".repeat(30),
            Vec::new(),
        ];
        let mut x = 0x1234_5678u32;
        samples.push(
            (0..5000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x >> 24) as u8
                })
                .collect(),
        );
        let text = "日本語のテキスト".as_bytes();
        samples.push(text[..text.len() - 1].to_vec());
        let mut bad = text.to_vec();
        bad[4] = 0xff;
        samples.push(bad);
        for b in &samples {
            let plain = match std::str::from_utf8(b) {
                Ok(_) => Some(b.len()),
                Err(e) if e.error_len().is_none() => Some(e.valid_up_to()),
                Err(_) => None,
            };
            assert_eq!(utf8_valid_prefix(b), plain);
            for w in b.chunks(WINDOW) {
                let n = w.iter().filter(|&&x| is_ctrl(x)).count();
                assert_eq!(usize::from(ctrl_count(w)), n);
            }
            for enc in [
                Encoding::Utf8,
                Encoding::ShiftJis,
                Encoding::EucJp,
                Encoding::Legacy,
            ] {
                let (counts, total) = window_counts(b, enc, None);
                let mut n = 0usize;
                for_each_anomaly(b, enc, |_| {
                    n += 1;
                    true
                });
                assert_eq!(total, n, "{enc:?}");
                assert_eq!(counts.iter().map(|&c| usize::from(c)).sum::<usize>(), n);
            }
        }
    }
}
