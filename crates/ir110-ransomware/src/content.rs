//! What the scanner reads of a file: all of it when small, otherwise a head, a tail and evenly
//! spaced probes, so a multi-gigabyte (or sparse) file costs a bounded number of bytes.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// How much to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadPlan {
    /// Files up to this size are read whole.
    pub whole_limit: u64,
    /// Bytes read from the start of larger files.
    pub head: u64,
    /// Bytes read from the end of larger files.
    pub tail: u64,
    /// Number of probes between head and tail.
    pub probes: u32,
    /// Bytes per probe.
    pub probe_len: u64,
}

impl Default for ReadPlan {
    fn default() -> Self {
        ReadPlan {
            whole_limit: 16 << 20,
            head: (1 << 20) + (256 << 10),
            tail: 256 << 10,
            probes: 16,
            probe_len: 64 << 10,
        }
    }
}

/// Parts of a file, by offset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Content {
    /// Size of the whole file.
    pub size: u64,
    /// Parts read, sorted by offset, not overlapping. One part at 0 covering `size` when whole.
    pub parts: Vec<(u64, Vec<u8>)>,
}

impl Content {
    /// Content of an in-memory file (tests, fuzzing).
    pub fn whole(bytes: Vec<u8>) -> Self {
        Content {
            size: bytes.len() as u64,
            parts: vec![(0, bytes)],
        }
    }

    /// Whether every byte was read.
    pub fn is_whole(&self) -> bool {
        self.parts.len() == 1 && self.parts[0].0 == 0 && self.parts[0].1.len() as u64 == self.size
    }

    /// The bytes read from offset 0 (all of them for a whole file).
    pub fn head(&self) -> &[u8] {
        match self.parts.first() {
            Some((0, b)) => b,
            _ => &[],
        }
    }

    /// `len` bytes at `off`, when that range was read.
    pub fn get(&self, off: u64, len: usize) -> Option<&[u8]> {
        let end = off.checked_add(len as u64)?;
        for (start, bytes) in &self.parts {
            let part_end = start + bytes.len() as u64;
            if off >= *start && end <= part_end {
                let s = (off - start) as usize;
                return bytes.get(s..s + len);
            }
        }
        None
    }

    /// The bytes read at and after `off` in the same part (up to `max`).
    pub fn get_upto(&self, off: u64, max: usize) -> Option<&[u8]> {
        for (start, bytes) in &self.parts {
            let part_end = start + bytes.len() as u64;
            if off >= *start && off < part_end {
                let s = (off - start) as usize;
                let e = (s + max).min(bytes.len());
                return bytes.get(s..e);
            }
        }
        None
    }

    /// The last part (the tail of a sampled file, or the whole file).
    pub fn tail(&self) -> (u64, &[u8]) {
        match self.parts.last() {
            Some((off, b)) => (*off, b),
            None => (0, &[]),
        }
    }

    /// Number of bytes read.
    pub fn bytes_read(&self) -> u64 {
        self.parts.iter().map(|(_, b)| b.len() as u64).sum()
    }

    /// Reads `path` (opened read-only) according to `plan`. `size` is the size from metadata.
    pub fn read(path: &Path, size: u64, plan: &ReadPlan) -> io::Result<Content> {
        let mut f = open_read_only(path)?;
        if size <= plan.whole_limit {
            let mut buf = Vec::with_capacity(size as usize);
            // A file may shrink or grow while we read; the content read is what counts.
            f.by_ref()
                .take(plan.whole_limit + 1)
                .read_to_end(&mut buf)?;
            let size = buf.len() as u64;
            return Ok(Content {
                size,
                parts: vec![(0, buf)],
            });
        }
        let mut ranges: Vec<(u64, u64)> = vec![(0, plan.head)];
        let tail_start = size.saturating_sub(plan.tail);
        let span = tail_start.saturating_sub(plan.head);
        for i in 1..=u64::from(plan.probes) {
            let off = plan.head + span * i / (u64::from(plan.probes) + 1);
            // Probes start on 4 KiB boundaries so block statistics align with stripes.
            let off = off & !4095;
            ranges.push((off, plan.probe_len));
        }
        ranges.push((tail_start, plan.tail));
        ranges.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (off, len) in ranges {
            let end = (off + len).min(size);
            match merged.last_mut() {
                Some((s, l)) if off <= *s + *l => *l = (*l).max(end - *s),
                _ => merged.push((off, end.saturating_sub(off))),
            }
        }
        let mut parts = Vec::new();
        for (off, len) in merged {
            f.seek(SeekFrom::Start(off))?;
            let mut buf = Vec::with_capacity(len as usize);
            f.by_ref().take(len).read_to_end(&mut buf)?;
            if !buf.is_empty() {
                parts.push((off, buf));
            }
        }
        Ok(Content { size, parts })
    }
}

/// Opens `path` read-only. On Linux, `O_NOATIME` keeps the access time of evidence unchanged
/// where the OS allows it (owner or root); otherwise a plain read-only open.
pub fn open_read_only(path: &Path) -> io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NOATIME: i32 = 0o1_000_000;
        if let Ok(f) = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(O_NOATIME)
            .open(path)
        {
            return Ok(f);
        }
    }
    File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_within_parts_only() {
        let c = Content {
            size: 100,
            parts: vec![(0, vec![1; 10]), (90, vec![2; 10])],
        };
        assert_eq!(c.get(5, 5), Some(&[1u8; 5][..]));
        assert_eq!(c.get(5, 6), None);
        assert_eq!(c.get(95, 5), Some(&[2u8; 5][..]));
        assert!(!c.is_whole());
        assert!(Content::whole(vec![0; 3]).is_whole());
    }
}
