//! Reading a log stream in large blocks of whole lines, so that the lines of several blocks
//! can be parsed in parallel while memory stays bounded by one batch of blocks. Shared by the
//! line-oriented analyzers (access logs, conn logs) so that they cut blocks the same way.

use std::io::{ErrorKind, Read};

/// Target size of one block (whole lines, so a little more or less).
pub const BLOCK_BYTES: usize = 4 << 20;
/// Longest line kept whole; a longer one is cut (and will not parse).
pub const MAX_LINE: usize = 64 << 20;

/// Reads the next block of whole lines: `carry` (the unfinished line of the previous read)
/// plus at least `BLOCK_BYTES`, cut after the last newline. At end of input the rest is
/// returned even without a final newline. On a read error the whole lines read so far are
/// returned with the error; the unfinished line is dropped, as a line reader would.
pub fn next_block<R: Read>(
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

/// Size of the pieces [`ReadAhead`] hands over.
const AHEAD_CHUNK: usize = 1 << 20;
/// Pieces [`ReadAhead`] may hold ready (so at most this many MiB besides the block batch).
const AHEAD_CHUNKS: usize = 4;

/// A reader whose input is read on another thread, a few MiB ahead of the consumer: for
/// gzip-rotated logs the decompression (one core's work, as long as parsing a block batch)
/// then overlaps the parsing instead of alternating with it. Bytes and read errors arrive in
/// the order the inner reader gave them; the error ends the stream as it would a direct read.
#[derive(Debug)]
pub struct ReadAhead {
    rx: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ReadAhead {
    /// Starts reading `inner` on a thread of `scope`; `None` when no thread could be
    /// started (then read `inner` directly). The thread ends at the end of input, after a
    /// read error, or once the `ReadAhead` is dropped.
    pub fn spawn<'scope, R: Read + Send + 'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        inner: R,
    ) -> Result<ReadAhead, R> {
        let (tx, rx) = std::sync::mpsc::sync_channel(AHEAD_CHUNKS);
        // The reader has to move into the thread; keep it reachable if the spawn fails.
        let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(inner)));
        let theirs = std::sync::Arc::clone(&slot);
        let spawned = std::thread::Builder::new()
            .name("ir110-read-ahead".into())
            .spawn_scoped(scope, move || {
                let taken = theirs.lock().ok().and_then(|mut s| s.take());
                drop(theirs);
                let Some(mut inner) = taken else { return };
                loop {
                    let mut buf = Vec::with_capacity(AHEAD_CHUNK);
                    let got = inner
                        .by_ref()
                        .take(AHEAD_CHUNK as u64)
                        .read_to_end(&mut buf);
                    let end = !matches!(got, Ok(n) if n > 0);
                    // Bytes read before an error come first, as from a direct read.
                    if !buf.is_empty() && tx.send(Ok(buf)).is_err() {
                        return;
                    }
                    if let Err(e) = got {
                        let _ = tx.send(Err(e));
                        return;
                    }
                    if end {
                        return;
                    }
                }
            });
        match spawned {
            Ok(_) => Ok(ReadAhead {
                rx,
                current: Vec::new(),
                pos: 0,
                done: false,
            }),
            Err(_) => {
                let inner = slot.lock().ok().and_then(|mut s| s.take());
                // The thread never ran, so the reader is still in the slot.
                match inner {
                    Some(r) => Err(r),
                    None => Ok(ReadAhead {
                        rx,
                        current: Vec::new(),
                        pos: 0,
                        done: true,
                    }),
                }
            }
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(buf)) => {
                    self.current = buf;
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Reads everything with `block_bytes`-sized blocks, recycling the buffers.
    fn blocks(input: &[u8], block_bytes: usize) -> Vec<Vec<u8>> {
        let mut reader = input;
        let mut carry = Vec::new();
        let mut out = Vec::new();
        loop {
            let (block, err) = next_block(&mut reader, &mut carry, block_bytes, None);
            assert!(err.is_none());
            match block {
                Some(b) => out.push(b),
                None => break,
            }
            if reader.is_empty() && carry.is_empty() {
                break;
            }
        }
        out
    }

    #[test]
    fn blocks_end_on_newlines_and_lose_nothing() {
        let input: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("line {i} {}\n", "x".repeat(i % 37)).into_bytes())
            .collect();
        for size in [1, 7, 100, 4096, 1 << 20] {
            let got = blocks(&input, size);
            assert!(got.iter().all(|b| b.ends_with(b"\n")), "size {size}");
            assert_eq!(got.concat(), input, "size {size}");
            if size < 100_000 {
                assert!(got.len() > 1, "size {size}: several blocks");
            }
        }
    }

    #[test]
    fn the_last_line_needs_no_newline() {
        let got = blocks(b"a\nb\nlast", 2);
        assert_eq!(got.concat(), b"a\nb\nlast");
        assert!(got.last().unwrap().ends_with(b"\nlast"));
    }

    /// A reader that fails after `ok` bytes.
    struct Failing<'a> {
        data: &'a [u8],
        ok: usize,
    }

    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.ok == 0 {
                return Err(std::io::Error::other("disk gone"));
            }
            let n = buf.len().min(self.ok).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.ok -= n;
            Ok(n)
        }
    }

    #[test]
    fn read_ahead_gives_the_same_bytes_and_errors() {
        let input: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::thread::scope(|s| {
            let Ok(mut ahead) = ReadAhead::spawn(s, &input[..]) else {
                panic!("no thread")
            };
            let mut got = Vec::new();
            ahead.read_to_end(&mut got).unwrap();
            assert_eq!(got, input);
        });
        std::thread::scope(|s| {
            let reader = Failing {
                data: b"one\ntwo\nthr",
                ok: 11,
            };
            let Ok(mut ahead) = ReadAhead::spawn(s, reader) else {
                panic!("no thread")
            };
            let mut carry = Vec::new();
            let (block, err) = next_block(&mut ahead, &mut carry, 1 << 20, None);
            assert_eq!(block.unwrap(), b"one\ntwo\n");
            assert_eq!(err.unwrap().to_string(), "disk gone");
        });
        // Dropped early: the thread stops at its next hand-over and the scope ends.
        std::thread::scope(|s| {
            let Ok(mut ahead) = ReadAhead::spawn(s, &input[..]) else {
                panic!("no thread")
            };
            let mut first = [0u8; 10];
            ahead.read_exact(&mut first).unwrap();
            assert_eq!(&first[..], &input[..10]);
        });
    }

    #[test]
    fn a_read_error_keeps_the_whole_lines_and_reports() {
        let mut reader = Failing {
            data: b"one\ntwo\nthr",
            ok: 11,
        };
        let mut carry = Vec::new();
        let (block, err) = next_block(&mut reader, &mut carry, 1 << 20, None);
        assert_eq!(block.unwrap(), b"one\ntwo\n");
        assert_eq!(err.unwrap().to_string(), "disk gone");
        assert!(carry.is_empty(), "the unfinished line is dropped");
    }
}
