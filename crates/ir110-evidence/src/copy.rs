//! Reading source files: read-only, no atime updates, hashed while copied.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use rustix::fs::OFlags;
use sha2::{Digest, Sha256};

use crate::walk::open_noatime;

/// Opens source files for reading. The default, [`ReadOnlyOpener`], is what a collection should
/// use; tests substitute a failing or slow reader to exercise error and interruption paths that
/// cannot be produced for real (a root user can read a `chmod 000` file).
pub trait SourceReader: Send + Sync {
    /// Opens the file at `path` for reading.
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>>;
}

/// Opens with `O_RDONLY | O_NOATIME | O_NOFOLLOW`, dropping `O_NOATIME` when the kernel refuses
/// it (`EPERM`: not the owner and not root).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOnlyOpener;

impl SourceReader for ReadOnlyOpener {
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        let fd = open_noatime(path, OFlags::empty())?;
        Ok(Box::new(File::from(fd)))
    }
}

/// Why a copy did not complete.
#[derive(Debug)]
pub(crate) enum CopyError {
    /// Reading the source failed: recorded for the file, the run goes on.
    Read(io::Error),
    /// Writing the package failed: the collection cannot go on.
    Write(io::Error),
}

/// Size of the copy buffer: large enough that syscall overhead is negligible.
pub(crate) const BUF_SIZE: usize = 1 << 20;

/// Copies everything `reader` yields into `dest`, hashing the same bytes. Returns the byte
/// count and the SHA-256 (hex).
pub(crate) fn copy_and_hash(
    reader: &mut dyn Read,
    dest: &mut File,
    buf: &mut [u8],
) -> Result<(u64, String), CopyError> {
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    loop {
        let n = match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        hasher.update(&buf[..n]);
        dest.write_all(&buf[..n]).map_err(CopyError::Write)?;
        total += n as u64;
    }
    Ok((total, hex::encode(hasher.finalize())))
}

/// SHA-256 and size of a file in the package.
pub(crate) fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUF_SIZE];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex::encode(hasher.finalize())))
}

/// A writer that hashes what passes through it.
pub(crate) struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// The inner writer, byte count and SHA-256 (hex).
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.count, hex::encode(self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
