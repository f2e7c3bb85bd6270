//! Inflating deflate and zlib streams with one decoder per file, reused for every ZIP member,
//! PDF stream and gzip member of that file.
//!
//! Office files and PDFs hold many tiny streams. Creating a decoder per stream (state and
//! window allocated and zeroed) and building Huffman tables cost more than inflating the bytes;
//! zlib-rs builds its tables like zlib (cheap for short blocks) and its state can be reset
//! without reallocating.
//!
//! When the uncompressed size and CRC-32 are known beforehand (a ZIP member's central
//! directory entry), [`Inflater::verify_whole`] inflates the member in one call with libdeflate
//! into a buffer of exactly that size: it builds its Huffman tables faster and needs no
//! streaming state, which halves the cost of Office files' many tiny members. It only answers
//! "verified"; anything else (a bad stream, a wrong size, a wrong CRC) goes through the
//! streaming path, which names the fault exactly as before.

use zlib_rs::{Inflate, InflateFlush, Status};

/// How inflating a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The stream ended properly after `consumed` input bytes.
    End {
        /// Input bytes consumed.
        consumed: u64,
    },
    /// The input ran out before the stream ended (a truncated stream).
    NeedInput {
        /// Input bytes consumed.
        consumed: u64,
    },
    /// `limit` output bytes were produced; the rest was not inflated.
    Limit,
    /// The data is not a valid stream (or its zlib check value is wrong).
    Error {
        /// Input bytes consumed before the error.
        consumed: u64,
    },
}

/// A reusable decoder and output buffer.
pub struct Inflater {
    state: Option<(Inflate, bool)>,
    buf: Vec<u8>,
    whole: Option<libdeflater::Decompressor>,
    out: Vec<u8>,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater").finish_non_exhaustive()
    }
}

impl Default for Inflater {
    fn default() -> Self {
        Self::new()
    }
}

/// Output chunk size: the window size, so large streams need no bigger buffer.
const CHUNK: usize = 32 << 10;

impl Inflater {
    /// A decoder; nothing is allocated until the first stream.
    pub fn new() -> Self {
        Inflater {
            state: None,
            buf: Vec::new(),
            whole: None,
            out: Vec::new(),
        }
    }

    /// Whether the gzip file `data` starts with a member that inflates to exactly `len` bytes
    /// and whose own trailer (CRC-32 and size, right after its deflate stream) matches
    /// (libdeflate checks both); `out_crc` receives the CRC-32 of those bytes. `false` says
    /// only that this fast path could not verify it.
    pub fn verify_gzip_member(&mut self, data: &[u8], len: usize, out_crc: &mut u32) -> bool {
        let (d, out) = self.whole_with_out(len);
        if !matches!(d.gzip_decompress(data, out), Ok(n) if n == len) {
            return false;
        }
        *out_crc = crc32fast::hash(out);
        true
    }

    /// The size of the zlib stream `data` inflated, when it inflates with libdeflate into at
    /// most `max` bytes, its Adler-32 matching (bytes after the stream are ignored, as
    /// [`Inflater::run`] ignores them). `None` says only that this fast path could not tell.
    pub fn zlib_whole(&mut self, data: &[u8], max: usize) -> Option<usize> {
        let (d, out) = self.whole_with_out(max);
        d.zlib_decompress(data, out).ok()
    }

    /// Whether raw deflate `data` inflates to exactly `len` bytes whose CRC-32 is `crc` (bytes
    /// after the end of the deflate stream are ignored, as [`Inflater::run`] ignores them).
    /// `false` says only that this fast path could not verify it.
    pub fn verify_whole(&mut self, data: &[u8], len: usize, crc: u32) -> bool {
        let (d, out) = self.whole_with_out(len);
        matches!(d.deflate_decompress(data, out), Ok(n) if n == len) && crc32fast::hash(out) == crc
    }

    /// The one-call decoder and an output buffer of `len` bytes. The buffer only grows, so it
    /// is zeroed once per size reached, not once per member.
    fn whole_with_out(&mut self, len: usize) -> (&mut libdeflater::Decompressor, &mut [u8]) {
        if self.out.len() < len {
            self.out.resize(len, 0);
        }
        let d = self
            .whole
            .get_or_insert_with(libdeflater::Decompressor::new);
        (d, &mut self.out[..len])
    }

    /// Inflates `data` (a zlib stream when `zlib`, raw deflate otherwise), passing every
    /// chunk of output to `sink`, and stops after at least `limit` output bytes.
    pub fn run(
        &mut self,
        data: &[u8],
        zlib: bool,
        limit: u64,
        mut sink: impl FnMut(&[u8]),
    ) -> Outcome {
        let inf = match &mut self.state {
            Some((inf, mode)) => {
                inf.reset(zlib);
                *mode = zlib;
                inf
            }
            None => &mut self.state.insert((Inflate::new(zlib, 15), zlib)).0,
        };
        if self.buf.len() < CHUNK {
            self.buf.resize(CHUNK, 0);
        }
        let mut produced = 0u64;
        loop {
            let in_at = inf.total_in();
            let out_at = inf.total_out();
            let rest = data.get(in_at as usize..).unwrap_or_default();
            let r = inf.decompress(rest, &mut self.buf, InflateFlush::NoFlush);
            let n = (inf.total_out() - out_at) as usize;
            if n > 0 {
                sink(&self.buf[..n]);
                produced += n as u64;
            }
            let progressed = n > 0 || inf.total_in() > in_at;
            match r {
                Ok(Status::StreamEnd) => {
                    return Outcome::End {
                        consumed: inf.total_in(),
                    };
                }
                Ok(_) if produced >= limit => return Outcome::Limit,
                Ok(_) if progressed => {}
                Ok(_) => {
                    return Outcome::NeedInput {
                        consumed: inf.total_in(),
                    };
                }
                Err(_) => {
                    return Outcome::Error {
                        consumed: inf.total_in(),
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn deflate(data: &[u8], zlib: bool) -> Vec<u8> {
        if zlib {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            let _ = e.write_all(data);
            e.finish().unwrap_or_default()
        } else {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            let _ = e.write_all(data);
            e.finish().unwrap_or_default()
        }
    }

    /// The one-call paths verify only what the streaming path verifies.
    #[test]
    fn whole_buffer_paths_verify_or_decline() {
        let text = "請求書 2026-04 row,value\n".repeat(3000);
        let mut inf = Inflater::new();
        let z = deflate(text.as_bytes(), true);
        assert_eq!(inf.zlib_whole(&z, 1 << 20), Some(text.len()));
        assert_eq!(inf.zlib_whole(&z, text.len() - 1), None);
        let mut bad = z.clone();
        let n = bad.len();
        bad[n - 1] ^= 1; // Adler-32
        assert_eq!(inf.zlib_whole(&bad, 1 << 20), None);
        let raw = deflate(text.as_bytes(), false);
        let crc = crc32fast::hash(text.as_bytes());
        assert!(inf.verify_whole(&raw, text.len(), crc));
        assert!(!inf.verify_whole(&raw, text.len(), crc ^ 1));
        assert!(!inf.verify_whole(&raw, text.len() + 1, crc));
        assert!(!inf.verify_whole(&raw, text.len() - 1, crc));
    }

    #[test]
    fn reused_decoder_inflates_raw_and_zlib_and_sees_damage() {
        let text = "請求書 2026-04 row,value\n".repeat(5000);
        let mut inf = Inflater::new();
        for zlib in [false, true, false] {
            let packed = deflate(text.as_bytes(), zlib);
            let mut out = Vec::new();
            let r = inf.run(&packed, zlib, u64::MAX, |b| out.extend_from_slice(b));
            assert_eq!(
                r,
                Outcome::End {
                    consumed: packed.len() as u64
                }
            );
            assert_eq!(out, text.as_bytes());
            let mut n = 0u64;
            assert_eq!(
                inf.run(&packed, zlib, 1000, |b| n += b.len() as u64),
                Outcome::Limit
            );
            assert!(n >= 1000);
            let cut = &packed[..packed.len() / 2];
            assert!(matches!(
                inf.run(cut, zlib, u64::MAX, |_| {}),
                Outcome::NeedInput { .. }
            ));
            let mut bad = packed.clone();
            for b in &mut bad[..64] {
                *b ^= 0x5a;
            }
            let mut crc = crc32fast::Hasher::new();
            let r = inf.run(&bad, zlib, u64::MAX, |b| crc.update(b));
            assert!(
                matches!(r, Outcome::Error { .. })
                    || crc.finalize() != crc32fast::hash(text.as_bytes()),
                "{r:?}"
            );
        }
    }
}
