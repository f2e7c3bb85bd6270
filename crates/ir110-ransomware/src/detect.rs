//! The per-file decision: content format, validator result, block statistics and name
//! evidence combined into a verdict, a mode and a damage map.
//!
//! Decision rules (see the crate docs for why):
//! - A recognised format that validates is intact; legitimately encrypted formats are
//!   protected. A validator break counts as encryption only where the bytes at the break are
//!   random.
//! - Block statistics decide only for formats that should be low-entropy (text, bitmaps, PCM
//!   audio) and for content no validator recognises.
//! - Random content whose name announces a known format is an encrypted file; random content of
//!   unknown format is `unknown` unless something was appended to its name.

use ir110_model::Confidence;

use crate::content::Content;
use crate::format::{Format, find, rfind};
use crate::names::NameInfo;
use crate::notes;
use crate::record::{Mode, Reason, Verdict};
use crate::stats;
use crate::validate::{self, Check, image, text, zip};
use crate::xor;

/// The decision for one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// Verdict.
    pub verdict: Verdict,
    /// Mode, for encrypted files.
    pub mode: Option<Mode>,
    /// Confidence.
    pub confidence: Confidence,
    /// Reasons.
    pub reasons: Vec<Reason>,
    /// Damaged ranges.
    pub damaged: Vec<(u64, u64)>,
    /// Damaged share of the file.
    pub fraction: Option<f64>,
    /// Format recognised (or expected from the name when the content is gone).
    pub format: Option<Format>,
    /// Whether the content is a ransom note.
    pub note_keywords: Option<usize>,
}

impl Judgement {
    fn new(
        verdict: Verdict,
        confidence: Confidence,
        reasons: Vec<Reason>,
        format: Option<Format>,
    ) -> Self {
        Judgement {
            verdict,
            mode: None,
            confidence,
            reasons,
            damaged: Vec::new(),
            fraction: None,
            format,
            note_keywords: None,
        }
    }
}

/// Whether statistics are meaningful everywhere in a file of this format and content.
fn low_entropy(format: Format, head: &[u8]) -> bool {
    match format {
        Format::Riff => head.get(8..12) == Some(b"WAVE") && head.get(20..22) == Some(&[1, 0]),
        Format::Text | Format::Bmp | Format::Netpbm => true,
        _ => false,
    }
}

/// Random 512-byte windows at and after `offset` (within 4 KiB).
fn random_near(c: &Content, offset: u64) -> bool {
    let start = offset.saturating_sub(offset % 512);
    (0..8).any(|i| c.get(start + i * 512, 512).is_some_and(stats::is_random))
        || c.get_upto(offset, 512)
            .is_some_and(|b| b.len() >= 128 && stats::is_random(b))
}

/// Whether the file starts with random bytes: the first block, or at least its first 64–256
/// bytes (a short first stripe of intermittent encryption).
fn head_random(c: &Content) -> bool {
    let head = c.head();
    let bs = stats::block_size(c.size).min(head.len());
    bs >= 64 && stats::is_random(&head[..bs])
        || [64usize, 128, 256]
            .iter()
            .any(|&w| head.len() >= w && stats::is_random(&head[..w]))
}

/// Whether the bytes of `[s, e)` (as read) look random.
fn range_random(c: &Content, s: u64, e: u64) -> bool {
    c.get(s, (e - s) as usize)
        .is_some_and(|b| b.len() >= 64 && stats::is_random(b))
}

/// A short window of bytes that are mostly distinct (random-like), not zeros or a repeated
/// pattern: what a short encrypted stripe inside text looks like.
fn window_random(b: &[u8]) -> bool {
    if b.len() < 32 || b.len() > 256 {
        return false;
    }
    let mut seen = [false; 256];
    for &x in b {
        seen[usize::from(x)] = true;
    }
    let distinct = seen.iter().filter(|&&s| s).count();
    distinct * 10 >= b.len() * 6
}

/// Breaks of a checksum or of compressed data: real files essentially never have them, so
/// they count as damage unless the region was zeroed (a wiper, a sync fault).
fn checksum_break(what: &str) -> bool {
    matches!(
        what,
        "zip-member-crc-mismatch"
            | "zip-member-inflate-failed"
            | "zip-member-size-mismatch"
            | "png-chunk-crc-mismatch"
            | "ogg-page-crc-mismatch"
            | "gzip-crc-mismatch"
            | "gzip-inflate-failed"
            | "pdf-stream-inflate-failed"
            | "font-table-checksum-mismatch"
            | "7z-next-header-crc-mismatch"
            | "xz-footer-crc-mismatch"
            | "tar-header-checksum-mismatch"
            | "mp4-sample-not-nal"
    )
}

/// A run of at least 512 zero bytes within 64 KiB after `offset`.
fn zeroed_near(c: &Content, offset: u64) -> bool {
    c.get_upto(offset, 64 << 10).is_some_and(|b| {
        b.windows(512)
            .step_by(64)
            .any(|w| w.iter().all(|&x| x == 0))
    })
}

/// Mode implied by damaged ranges.
fn mode_of(ranges: &[(u64, u64)], size: u64) -> Mode {
    let damaged: u64 = ranges.iter().map(|(s, e)| e - s).sum();
    if damaged * 10 >= size * 9 {
        Mode::Full
    } else if ranges.len() == 1 && ranges[0].0 == 0 {
        Mode::Header
    } else {
        Mode::Intermittent
    }
}

/// Ranges of random blocks in what was read.
fn random_blocks(c: &Content, extra: impl Fn(&[u8]) -> bool) -> Vec<(u64, u64)> {
    let bs = stats::block_size(c.size);
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (off, bytes) in &c.parts {
        for (i, block) in bytes.chunks(bs).enumerate() {
            if block.len() < 64 {
                continue;
            }
            if stats::is_random(block) || extra(block) {
                let s = off + (i * bs) as u64;
                let e = s + block.len() as u64;
                push_range(&mut out, s, e);
            }
        }
    }
    out
}

fn push_range(out: &mut Vec<(u64, u64)>, s: u64, e: u64) {
    match out.last_mut() {
        Some((_, le)) if *le >= s => *le = (*le).max(e),
        _ => out.push((s, e)),
    }
}

/// Adds `[s, e)` to sorted, disjoint `ranges`, merging what overlaps or touches.
fn insert_range(ranges: &mut Vec<(u64, u64)>, s: u64, e: u64) {
    ranges.push((s, e));
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for &(s, e) in ranges.iter() {
        push_range(&mut out, s, e);
    }
    *ranges = out;
}

/// 64-byte windows of a PDF, outside stream data, that are not text and look random, and
/// the number of bytes judged (outside streams).
fn pdf_text_damage(c: &Content) -> (Vec<(u64, u64)>, u64) {
    const W: usize = 64;
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut judged = 0u64;
    for (off, bytes) in &c.parts {
        // Stream data: from the line after `stream` to the next `endstream`.
        let mut streams: Vec<(usize, usize)> = Vec::new();
        let mut pos = 0usize;
        while let Some(rel) = find(&bytes[pos..], b"stream") {
            let kw = pos + rel;
            pos = kw + 6;
            if kw >= 3 && &bytes[kw - 3..kw] == b"end" {
                continue;
            }
            let start = kw + 6;
            let Some(end) = find(&bytes[start..], b"endstream") else {
                streams.push((start, bytes.len()));
                break;
            };
            streams.push((start, start + end));
            pos = start + end + 9;
        }
        let mut si = 0usize;
        for (w, win) in bytes.chunks(W).enumerate() {
            let (ws, we) = (w * W, w * W + win.len());
            while si < streams.len() && streams[si].1 <= ws {
                si += 1;
            }
            if win.len() < 32 || streams.get(si).is_some_and(|&(s, _)| s < we) {
                continue;
            }
            judged += win.len() as u64;
            let binary = win
                .iter()
                .filter(|&&x| !(0x20..0x7f).contains(&x) && !matches!(x, b'\n' | b'\r' | b'\t'))
                .count();
            if binary * 4 >= win.len() && window_random(win) {
                push_range(&mut out, off + ws as u64, off + we as u64);
            }
        }
    }
    (out, judged)
}

/// The run of random blocks from offset 0.
fn head_run(c: &Content) -> Vec<(u64, u64)> {
    let all = random_blocks(c, |_| false);
    all.into_iter().take(1).filter(|(s, _)| *s == 0).collect()
}

/// Whether the end of the file still has the format's closing structure.
fn tail_ok(format: Format, c: &Content) -> bool {
    let (toff, tail) = c.tail();
    let last = &tail[tail.len().saturating_sub(4096)..];
    match format {
        Format::Zip => zip::central_directory(c).is_ok(),
        Format::Pdf => rfind(last, b"%%EOF").is_some() && rfind(last, b"startxref").is_some(),
        Format::Jpeg => {
            // The last KiB only: in a small file the last 4 KiB reach back into a damaged head.
            let end = &tail[tail.len().saturating_sub(64)..];
            let last = &tail[tail.len().saturating_sub(1024)..];
            rfind(end, &[0xff, 0xd9]).is_some()
                && image::jpeg_stuffing_violations(&last[..last.len().saturating_sub(64)]) == 0
        }
        Format::Png => {
            tail.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82])
        }
        Format::Gif => tail.last() == Some(&0x3b) && !stats::is_random(last),
        Format::Ogg => rfind(last, b"OggS").is_some_and(|p| {
            let at = toff + (tail.len() - last.len() + p) as u64;
            matches!(
                validate::media::ogg(&Content {
                    size: c.size,
                    parts: vec![(at, c.get_upto(at, 1 << 16).unwrap_or_default().to_vec())]
                }),
                Check::Intact { .. } | Check::Truncated { .. }
            )
        }),
        Format::Mp3 => {
            last.len() >= 128 && last[last.len() - 128..].starts_with(b"TAG")
                || (0..last.len().saturating_sub(4)).any(|i| {
                    crate::format::mp3_frame_len(last, i).is_some_and(|l| {
                        crate::format::mp3_frame_len(last, i + l)
                            .is_some_and(|l2| crate::format::is_mp3_frame(last, i + l + l2))
                    })
                })
        }
        Format::Mp4 => {
            find(tail, b"mvhd").is_some()
                || find(tail, b"stco").is_some()
                || find(tail, b"co64").is_some()
        }
        _ => last.len() >= 64 && !stats::is_random(last),
    }
}

/// The damage map of an encrypted file and the mode it implies.
fn damage_map(format: Option<Format>, c: &Content) -> (Vec<(u64, u64)>, Mode) {
    let head = c.head();
    let mut ranges = match format {
        Some(f) if low_entropy(f, head) => random_blocks(c, |_| false),
        None => random_blocks(c, |_| false),
        Some(Format::Zip) => match zip::damaged_members(c) {
            Some((mut r, _)) => {
                let hr = head_run(c);
                if let Some(&(_, e)) = hr.first() {
                    if r.first().is_none_or(|&(s, _)| s > 0) {
                        r.insert(0, (0, e));
                    }
                }
                r
            }
            None => random_blocks(c, |_| false),
        },
        Some(Format::Jpeg) => {
            // Entropy-coded JPEG data looks random to block statistics; byte stuffing is what
            // ciphertext breaks (an 0xFF followed by anything but 0x00 or a restart marker,
            // about 15 times per 4 KiB of random bytes, never in intact scan data).
            let mut out: Vec<(u64, u64)> = Vec::new();
            for (off, bytes) in &c.parts {
                for (i, block) in bytes.chunks(4096).enumerate() {
                    if block.len() >= 512 && image::jpeg_stuffing_violations(block) >= 2 {
                        let s = off + (i * 4096) as u64;
                        push_range(&mut out, s, s + block.len() as u64);
                    }
                }
            }
            out
        }
        Some(Format::Png) if c.is_whole() => {
            let verified = image::png_verified_ranges(head);
            let mut out = Vec::new();
            let mut pos = 0u64;
            for (s, e) in verified {
                if s > pos {
                    push_range(&mut out, pos, s);
                }
                pos = pos.max(e);
            }
            if pos < c.size {
                push_range(&mut out, pos, c.size);
            }
            out
        }
        Some(Format::Pdf) => {
            // Outside stream data a PDF is text: random windows there are stripes of damage
            // (inside streams compressed bytes look random anyway, so they are not judged).
            let mut r = head_run(c);
            let (text_damage, judged) = pdf_text_damage(c);
            let damaged: u64 = text_damage.iter().map(|(s, e)| e - s).sum();
            if judged > 0 && damaged * 10 >= judged * 9 {
                // All the text is gone (the streams cannot be judged): the whole file.
                r = vec![(0, c.size)];
            } else {
                for (s, e) in text_damage {
                    insert_range(&mut r, s, e);
                }
            }
            r
        }
        Some(_) => head_run(c),
    };
    if ranges.is_empty() {
        ranges.push((0, (stats::block_size(c.size) as u64).min(c.size)));
    }
    let damaged: u64 = ranges.iter().map(|(s, e)| e - s).sum();
    let read = c.bytes_read().max(1);
    let tail_intact = format.is_some_and(|f| tail_ok(f, c))
        || format.is_none() && ranges.last().is_some_and(|&(_, e)| e < c.size);
    let mode = if damaged * 10 >= read * 9 || !tail_intact && ranges.len() == 1 {
        Mode::Full
    } else if ranges.len() == 1 && ranges[0].0 == 0 {
        Mode::Header
    } else {
        Mode::Intermittent
    };
    if mode == Mode::Full {
        ranges = vec![(0, c.size)];
    }
    (ranges, mode)
}

fn encrypted(
    format: Option<Format>,
    c: &Content,
    confidence: Confidence,
    reasons: Vec<Reason>,
) -> Judgement {
    let (damaged, mode) = damage_map(format, c);
    let bytes: u64 = damaged.iter().map(|(s, e)| e - s).sum();
    let mut j = Judgement::new(Verdict::Encrypted, confidence, reasons, format);
    j.fraction = Some(if c.size == 0 {
        0.0
    } else {
        (bytes as f64 / c.size as f64).min(1.0)
    });
    j.damaged = damaged;
    j.mode = Some(mode);
    j
}

/// Decides what a file is. `known_note_name` says whether the family data lists the name as a
/// ransom-note name.
pub fn judge(file_name: &str, info: &NameInfo, c: &Content, known_note_name: bool) -> Judgement {
    if c.size == 0 {
        return Judgement::new(
            Verdict::Intact,
            Confidence::High,
            vec![Reason::new("empty")],
            None,
        );
    }
    let head = c.head();
    if c.size <= 256 << 10 && c.is_whole() {
        if let Some(hits) = notes::is_note(file_name, head, known_note_name) {
            let mut j = Judgement::new(
                Verdict::Note,
                if hits >= 5 || known_note_name {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
                vec![Reason::new("note-content").detail(hits.to_string())],
                Some(Format::Text),
            );
            if known_note_name {
                j.reasons.push(Reason::new("note-name-known"));
            }
            j.note_keywords = Some(hits);
            return j;
        }
    }
    let expected = info.expected_format();
    match Format::sniff(head) {
        Some(Format::CryptoContainer) => Judgement::new(
            Verdict::Protected,
            Confidence::High,
            vec![Reason::new("crypto-container")],
            Some(Format::CryptoContainer),
        ),
        Some(format) => judge_recognised(format, c),
        None => judge_unrecognised(info, expected, c),
    }
}

fn judge_recognised(format: Format, c: &Content) -> Judgement {
    let check = validate::validate(format, c);
    match check {
        Check::Protected { what } => Judgement::new(
            Verdict::Protected,
            Confidence::High,
            vec![Reason::new("password-protected").detail(what)],
            Some(format),
        ),
        Check::Intact { complete } => {
            if low_entropy(format, c.head()) {
                let random = random_blocks(c, |_| false);
                if let Some(&(s, _)) = random.first() {
                    return encrypted(
                        Some(format),
                        c,
                        Confidence::High,
                        vec![
                            Reason::at("random-blocks-in-low-entropy-format", s)
                                .detail(format.name()),
                        ],
                    );
                }
            }
            let confidence = if complete {
                Confidence::High
            } else {
                Confidence::Medium
            };
            Judgement::new(
                Verdict::Intact,
                confidence,
                vec![
                    Reason::new(if complete {
                        "format-valid"
                    } else {
                        "format-valid-partially"
                    })
                    .detail(format.name()),
                ],
                Some(format),
            )
        }
        Check::Broken { offset, what } => {
            if random_near(c, offset)
                || head_random_after_magic(c)
                || checksum_break(what) && !zeroed_near(c, offset)
            {
                encrypted(
                    Some(format),
                    c,
                    Confidence::High,
                    vec![
                        Reason::at(what, offset),
                        Reason::at("random-at-break", offset),
                    ],
                )
            } else {
                Judgement::new(
                    Verdict::Unknown,
                    Confidence::Medium,
                    vec![Reason::at(what, offset), Reason::new("corrupt-not-random")],
                    Some(format),
                )
            }
        }
        Check::Truncated { offset } => {
            if head_random_after_magic(c) {
                encrypted(
                    Some(format),
                    c,
                    Confidence::High,
                    vec![
                        Reason::at("structure-runs-past-end", offset),
                        Reason::new("head-random"),
                    ],
                )
            } else {
                Judgement::new(
                    Verdict::Unknown,
                    Confidence::Medium,
                    vec![Reason::at("truncated", offset)],
                    Some(format),
                )
            }
        }
    }
}

/// The share of zero bytes in what was read.
fn zero_share(c: &Content) -> f64 {
    let read = c.bytes_read();
    if read == 0 {
        return 0.0;
    }
    let zeros: u64 = c
        .parts
        .iter()
        .map(|(_, b)| b.iter().filter(|&&x| x == 0).count() as u64)
        .sum();
    zeros as f64 / read as f64
}

/// Random bytes right after a surviving magic number (STOP/Djvu leaves the first 5 bytes).
fn head_random_after_magic(c: &Content) -> bool {
    let head = c.head();
    let bs = stats::block_size(c.size);
    head.len() > 16 + 64 && stats::is_random(&head[16..(16 + bs).min(head.len())])
}

fn judge_unrecognised(info: &NameInfo, expected: Option<Format>, c: &Content) -> Judgement {
    let appended = info.appended.is_some();
    if let Some(t) = text::analyse(c) {
        // Windows that are not text count as damage only when their bytes look random.
        let mut damaged: Vec<(u64, u64)> = Vec::new();
        for &(s, e) in &t.anomalies {
            if range_random(c, s, e) || c.get(s, (e - s) as usize).is_some_and(window_random) {
                push_range(&mut damaged, s, e);
            }
        }
        if let Some(&(s, _)) = damaged.first() {
            let mode = mode_of(&damaged, c.size);
            let bytes: u64 = damaged.iter().map(|(s, e)| e - s).sum();
            let mut j = Judgement::new(
                Verdict::Encrypted,
                Confidence::High,
                vec![Reason::at("random-blocks-in-text", s)],
                Some(Format::Text),
            );
            j.fraction = Some((bytes as f64 / c.size.max(1) as f64).min(1.0));
            j.damaged = if mode == Mode::Full {
                vec![(0, c.size)]
            } else {
                damaged
            };
            j.mode = Some(mode);
            return j;
        }
        let reason = if t.anomalies.is_empty() {
            "text"
        } else {
            "text-with-binary-bytes"
        };
        return Judgement::new(
            Verdict::Intact,
            Confidence::High,
            vec![Reason::new(reason)],
            Some(Format::Text),
        );
    }
    if c.size < 64 {
        return Judgement::new(
            Verdict::Unknown,
            Confidence::Low,
            vec![Reason::new("too-small-to-judge")],
            expected,
        );
    }
    // Zeros are not ciphertext: content that is (almost) all zero bytes was truncated,
    // preallocated, left sparse or wiped. It may be damaged, but nothing here says encrypted
    // (and a short XOR "key" would otherwise turn zeros into plausible text of one repeated
    // character).
    let zeros = zero_share(c);
    if zeros >= 0.9 {
        return Judgement::new(
            Verdict::Unknown,
            Confidence::Medium,
            vec![Reason::new("mostly-zero-bytes").detail(format!("{:.0} %", zeros * 100.0))],
            expected,
        );
    }
    if head_random(c) {
        let mut reasons = vec![Reason::new("magic-missing"), Reason::new("head-random")];
        return match expected {
            Some(Format::CryptoContainer) => Judgement::new(
                Verdict::Protected,
                Confidence::Low,
                vec![Reason::new("random-container-by-name")],
                expected,
            ),
            Some(f) => {
                reasons.push(Reason::new("name-announces-format").detail(f.name()));
                if appended {
                    reasons.push(Reason::new("extension-appended"));
                }
                encrypted(Some(f), c, Confidence::High, reasons)
            }
            None if appended => {
                reasons.push(Reason::new("extension-appended"));
                encrypted(None, c, Confidence::Medium, reasons)
            }
            None => Judgement::new(
                Verdict::Unknown,
                Confidence::Low,
                vec![Reason::new("random-content-unknown-format")],
                None,
            ),
        };
    }
    if let Some(k) = xor::recover(c, expected) {
        let key: String = k.key.iter().map(|b| format!("{b:02x}")).collect();
        let mut j = Judgement::new(
            Verdict::Encrypted,
            Confidence::High,
            vec![
                Reason::new("magic-missing"),
                Reason::new("xor-key-recovered").detail(key),
            ],
            Some(k.format),
        );
        j.mode = Some(Mode::Full);
        j.damaged = vec![(0, c.size)];
        j.fraction = Some(1.0);
        return j;
    }
    match expected {
        Some(f)
            if f != Format::Text
                && f != Format::Tar
                && tail_ok(f, c)
                && !c.head().iter().take(64).all(|&b| b == 0) =>
        {
            // The format's closing structure is intact but its start is gone: the start was
            // overwritten (a short first stripe of intermittent encryption).
            encrypted(
                Some(f),
                c,
                Confidence::Medium,
                vec![
                    Reason::new("magic-missing"),
                    Reason::new("structure-intact-after-start").detail(f.name()),
                ],
            )
        }
        Some(f) if f != Format::Text && f != Format::Tar => {
            if appended {
                encrypted(
                    Some(f),
                    c,
                    Confidence::Medium,
                    vec![
                        Reason::new("magic-missing"),
                        Reason::new("extension-appended"),
                    ],
                )
            } else {
                Judgement::new(
                    Verdict::Unknown,
                    Confidence::Low,
                    vec![Reason::new("content-does-not-match-extension").detail(f.name())],
                    Some(f),
                )
            }
        }
        _ => Judgement::new(
            Verdict::Intact,
            Confidence::Low,
            vec![Reason::new("unrecognised-not-random")],
            None,
        ),
    }
}
