//! Reading a log stream in large blocks of whole lines, so that the lines of several blocks
//! can be parsed in parallel while memory stays bounded by one batch of blocks.

use std::io::{ErrorKind, Read};

use crate::access_log::AccessLayout;

/// Target size of one block (whole lines, so a little more or less).
pub(crate) const BLOCK_BYTES: usize = 4 << 20;
/// Longest line kept whole; a longer one is cut (and will not parse).
const MAX_LINE: usize = 64 << 20;

/// Reads the next block of whole lines: `carry` (the unfinished line of the previous read)
/// plus at least `BLOCK_BYTES`, cut after the last newline. At end of input the rest is
/// returned even without a final newline. On a read error the whole lines read so far are
/// returned with the error; the unfinished line is dropped, as a line reader would.
pub(crate) fn next_block<R: Read>(
    reader: &mut R,
    carry: &mut Vec<u8>,
    block_bytes: usize,
    spare: Option<Vec<u8>>,
) -> (Option<Vec<u8>>, Option<std::io::Error>) {
    let block_bytes = block_bytes.clamp(1, MAX_LINE);
    // A recycled buffer: no fresh pages to fault in and zero for every block.
    let mut buf = spare.unwrap_or_default();
    buf.clear();
    buf.reserve(block_bytes.max(carry.len()) + (64 << 10));
    buf.extend_from_slice(carry);
    carry.clear();
    let mut eof = false;
    let mut error = None;
    let mut scanned = 0;
    loop {
        let filled = buf.len();
        if filled >= block_bytes {
            // Enough: stop at a newline, or keep going for a very long line.
            if memchr::memchr(b'\n', &buf[scanned..]).is_some() || filled >= MAX_LINE {
                break;
            }
            scanned = filled;
        }
        let want = block_bytes.saturating_sub(filled).max(64 << 10) as u64;
        // `read_to_end` on a `take` appends without zero-filling first, and keeps what it
        // read before an error.
        match reader.by_ref().take(want).read_to_end(&mut buf) {
            Ok(n) if (n as u64) < want => {
                eof = true;
                break;
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    if eof && error.is_none() {
        return ((!buf.is_empty()).then_some(buf), None);
    }
    match memchr::memrchr(b'\n', &buf) {
        Some(nl) => {
            if error.is_none() {
                carry.extend_from_slice(&buf[nl + 1..]);
            }
            buf.truncate(nl + 1);
            (Some(buf), error)
        }
        None if error.is_none() => (Some(buf), None), // MAX_LINE reached: cut here.
        None => (None, error),
    }
}

/// The layout in force after `block`, given the one at its start: the last W3C `#Fields:`
/// line in it wins (what matters for parsing; "combined" and "not yet known" parse alike).
pub(crate) fn layout_after(block: &[u8], layout: Option<AccessLayout>) -> Option<AccessLayout> {
    let mut last = None;
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&block[from..], b"#Fields:") {
        let at = from + i;
        let line_start = block[..at]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        // As the line reader sees it: an optional byte-order mark before the `#`.
        let prefix = &block[line_start..at];
        if prefix.is_empty() || prefix == "\u{feff}".as_bytes() {
            last = Some(at);
        }
        from = at + 1;
    }
    let Some(at) = last else {
        return layout;
    };
    let end = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |e| at + e);
    let line = String::from_utf8_lossy(&block[at + "#Fields:".len()..end]);
    Some(AccessLayout::W3c(
        line.split_whitespace().map(str::to_owned).collect(),
    ))
}
