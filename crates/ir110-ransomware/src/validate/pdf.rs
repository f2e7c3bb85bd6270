//! PDF (ISO 32000): header, `startxref` and the cross-reference table it points to (every
//! in-use entry must point at `N G obj`), and every Flate stream must inflate. An `/Encrypt`
//! entry marks a legitimately password-protected document.

use super::Check;
use crate::content::Content;
use crate::format::{find, rfind};
use crate::inflate::{Inflater, Outcome};

const INFLATE_BUDGET: usize = 64 << 20;

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\r' | b'\n' | b'\t' | b'\x0c' | 0) {
        i += 1;
    }
    i
}

fn number(b: &[u8], i: usize) -> Option<(u64, usize)> {
    let mut j = i;
    let mut v: u64 = 0;
    while j < b.len() && b[j].is_ascii_digit() && j - i < 19 {
        v = v * 10 + u64::from(b[j] - b'0');
        j += 1;
    }
    (j > i).then_some((v, j))
}

/// Whether `N G obj` starts at (or just after whitespace at) `off`.
fn object_at(c: &Content, off: u64) -> bool {
    let Some(b) = c.get_upto(off, 64) else {
        return true; // not read: cannot say it is wrong
    };
    let i = skip_ws(b, 0);
    let Some((_, j)) = number(b, i) else {
        return false;
    };
    let j = skip_ws(b, j);
    let Some((_, k)) = number(b, j) else {
        return false;
    };
    let k = skip_ws(b, k);
    b.get(k..k + 3) == Some(b"obj")
}

/// Validates a PDF.
pub fn check(c: &Content) -> Check {
    let head = c.head();
    let Some(start) = find(&head[..head.len().min(1024)], b"%PDF-") else {
        return Check::broken(0, "pdf-header-missing");
    };
    let (tail_off, tail) = c.tail();
    let window = tail.len().saturating_sub(4096);
    let Some(sx) = rfind(&tail[window..], b"startxref") else {
        return Check::broken(c.size.saturating_sub(1024), "pdf-startxref-missing");
    };
    if rfind(&tail[window..], b"%%EOF").is_none() {
        return Check::broken(c.size.saturating_sub(1024), "pdf-eof-missing");
    }
    let after = &tail[window + sx + 9..];
    let i = skip_ws(after, 0);
    let Some((xref_off, _)) = number(after, i) else {
        return Check::broken(tail_off + (window + sx) as u64, "pdf-startxref-bad");
    };
    // Some writers count offsets from the header when junk precedes it.
    let xref_abs = xref_off + start as u64;
    if xref_abs >= c.size {
        return Check::broken(
            tail_off + (window + sx) as u64,
            "pdf-startxref-out-of-range",
        );
    }
    let mut encrypted = find(&tail[window..], b"/Encrypt").is_some();
    match c.get_upto(xref_abs, 64) {
        Some(x) if x.starts_with(b"xref") => {
            if let Err(e) = check_xref_table(c, xref_abs, start as u64) {
                return e;
            }
        }
        Some(_) => {
            if !object_at(c, xref_abs) {
                return Check::broken(xref_abs, "pdf-xref-missing");
            }
            // Cross-reference stream: its dictionary holds /Encrypt.
            if let Some(d) = c.get_upto(xref_abs, 2048) {
                encrypted |= find(d, b"/Encrypt").is_some();
            }
        }
        None => {}
    }
    if encrypted {
        return Check::Protected {
            what: "pdf-password",
        };
    }
    match check_streams(c) {
        Err(e) => e,
        Ok(complete) => Check::Intact {
            complete: complete && c.is_whole(),
        },
    }
}

fn check_xref_table(c: &Content, xref: u64, base: u64) -> Result<(), Check> {
    let Some(b) = c.get_upto(xref, 4 << 20) else {
        return Ok(());
    };
    let mut i = skip_ws(b, 4);
    let mut checked = 0;
    loop {
        if b.get(i..i + 7) == Some(b"trailer") || i >= b.len() {
            return Ok(());
        }
        let Some((_first, j)) = number(b, i) else {
            return Err(Check::broken(xref + i as u64, "pdf-xref-bad"));
        };
        let j = skip_ws(b, j);
        let Some((count, k)) = number(b, j) else {
            return Err(Check::broken(xref + j as u64, "pdf-xref-bad"));
        };
        i = skip_ws(b, k);
        for _ in 0..count {
            let Some(entry) = b.get(i..i + 18) else {
                return Ok(());
            };
            let Some((off, _)) = number(entry, 0) else {
                return Err(Check::broken(xref + i as u64, "pdf-xref-entry-bad"));
            };
            match entry[17] {
                b'n' => {
                    // Checking every object is cheap (the ranges are read); cap for huge files.
                    if off > 0 && checked < 100_000 {
                        checked += 1;
                        if base + off >= c.size || !object_at(c, base + off) {
                            return Err(Check::broken(
                                base + off.min(c.size),
                                "pdf-object-missing",
                            ));
                        }
                    }
                }
                b'f' => {}
                _ => return Err(Check::broken(xref + i as u64, "pdf-xref-entry-bad")),
            }
            i = skip_ws(b, i + 18);
        }
    }
}

/// Inflates every `/FlateDecode` stream whose bytes were read. `Ok(true)` when all were.
fn check_streams(c: &Content) -> Result<bool, Check> {
    let mut complete = true;
    let mut budget = INFLATE_BUDGET;
    let mut inflater = Inflater::new();
    for (part_off, bytes) in &c.parts {
        let mut pos = 0usize;
        while let Some(rel) = find(&bytes[pos..], b"stream") {
            let kw = pos + rel;
            pos = kw + 6;
            if kw >= 3 && &bytes[kw - 3..kw] == b"end" {
                continue;
            }
            let mut data_start = kw + 6;
            if bytes.get(data_start) == Some(&b'\r') {
                data_start += 1;
            }
            if bytes.get(data_start) == Some(&b'\n') {
                data_start += 1;
            } else if bytes.get(data_start - 1) != Some(&b'\r') {
                continue; // "stream" inside other text
            }
            let dict_start = kw.saturating_sub(1024);
            let dict = &bytes[dict_start..kw];
            let Some(d) = rfind(dict, b"<<") else {
                continue;
            };
            let dict = &dict[d..];
            if find(dict, b"/FlateDecode").is_none()
                || find(dict, b"/Filter [").is_some()
                || find(dict, b"/Filter[").is_some()
            {
                continue;
            }
            let Some(end) = find(&bytes[data_start..], b"endstream") else {
                complete = false;
                break;
            };
            let data = &bytes[data_start..data_start + end];
            if budget == 0 {
                complete = false;
                break;
            }
            // Fast path: the whole stream in one libdeflate call into a buffer of a likely
            // size (within the budget). A stream it cannot inflate there goes through the
            // streaming path, which says where it fails.
            let likely = (data.len().saturating_mul(16))
                .clamp(4 << 10, 8 << 20)
                .min(budget);
            if let Some(n) = inflater.zlib_whole(data, likely) {
                budget = budget.saturating_sub(n);
                pos = data_start + end + 9;
                continue;
            }
            let mut produced = 0usize;
            let outcome = inflater.run(data, true, budget as u64, |b| produced += b.len());
            // Some writers leave a few junk bytes after the zlib stream; only an error well
            // before the end of the data is damage.
            if let Outcome::Error { consumed } = outcome {
                if consumed + 16 < data.len() as u64 {
                    return Err(Check::broken(
                        part_off + data_start as u64,
                        "pdf-stream-inflate-failed",
                    ));
                }
            }
            budget = budget.saturating_sub(produced);
            pos = data_start + end + 9;
        }
    }
    Ok(complete)
}
