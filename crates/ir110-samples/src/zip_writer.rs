//! A small ZIP writer (PKWARE APPNOTE 6.3): stored or deflated members, optional traditional
//! PKWARE ("ZipCrypto") encryption. Written here rather than with the `zip` crate so output is
//! byte-for-byte deterministic (fixed DOS times, fixed member order) and so the encryption
//! control files are real.

use std::io::Write;

use flate2::{Compression, write::DeflateEncoder};

/// How a member is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// No compression (method 0).
    Stored,
    /// Deflate (method 8).
    Deflated,
}

struct Central {
    name: Vec<u8>,
    crc: u32,
    csize: u32,
    usize: u32,
    method: u16,
    flags: u16,
    offset: u32,
}

/// Builds a ZIP archive in memory.
pub struct ZipWriter {
    out: Vec<u8>,
    central: Vec<Central>,
    password: Option<Vec<u8>>,
    dos_time: u16,
    dos_date: u16,
}

impl Default for ZipWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl ZipWriter {
    /// An empty archive; members are dated 2026-04-01 09:00 (DOS time, local).
    pub fn new() -> Self {
        ZipWriter {
            out: Vec::new(),
            central: Vec::new(),
            password: None,
            dos_time: 9 << 11,
            dos_date: ((2026 - 1980) << 9) | (4 << 5) | 1,
        }
    }

    /// Encrypts members added after this call with traditional PKWARE encryption.
    pub fn with_password(mut self, password: &str) -> Self {
        self.password = Some(password.as_bytes().to_vec());
        self
    }

    /// Adds a member.
    pub fn add(&mut self, name: &str, data: &[u8], method: Method) {
        let crc = crc32fast::hash(data);
        let (method_id, mut body) = match method {
            Method::Stored => (0u16, data.to_vec()),
            Method::Deflated => {
                let mut enc = DeflateEncoder::new(Vec::new(), Compression::new(6));
                // Writing into a Vec cannot fail.
                let _ = enc.write_all(data);
                (8u16, enc.finish().unwrap_or_default())
            }
        };
        let mut flags = 0x0800u16; // UTF-8 names
        if let Some(pw) = &self.password {
            flags |= 1;
            let mut keys = ZipCryptoKeys::new(pw);
            // 12-byte encryption header; the last byte is the CRC's high byte for checking.
            let mut header = [0u8; 12];
            let mut seed = crc ^ 0x5a5a_5a5a;
            for b in header.iter_mut().take(11) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *b = (seed >> 16) as u8;
            }
            header[11] = (crc >> 24) as u8;
            let mut enc = Vec::with_capacity(12 + body.len());
            for b in header.iter().chain(body.iter()) {
                enc.push(keys.encrypt_byte(*b));
            }
            body = enc;
        }
        let offset = self.out.len() as u32;
        let name_bytes = name.as_bytes().to_vec();
        self.out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        self.out.extend_from_slice(&20u16.to_le_bytes());
        self.out.extend_from_slice(&flags.to_le_bytes());
        self.out.extend_from_slice(&method_id.to_le_bytes());
        self.out.extend_from_slice(&self.dos_time.to_le_bytes());
        self.out.extend_from_slice(&self.dos_date.to_le_bytes());
        self.out.extend_from_slice(&crc.to_le_bytes());
        self.out
            .extend_from_slice(&(body.len() as u32).to_le_bytes());
        self.out
            .extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.out
            .extend_from_slice(&(name_bytes.len() as u16).to_le_bytes());
        self.out.extend_from_slice(&0u16.to_le_bytes());
        self.out.extend_from_slice(&name_bytes);
        self.out.extend_from_slice(&body);
        self.central.push(Central {
            name: name_bytes,
            crc,
            csize: body.len() as u32,
            usize: data.len() as u32,
            method: method_id,
            flags,
            offset,
        });
    }

    /// Writes the central directory and end record and returns the archive.
    pub fn finish(mut self) -> Vec<u8> {
        let cd_start = self.out.len() as u32;
        for c in &self.central {
            let o = &mut self.out;
            o.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            o.extend_from_slice(&20u16.to_le_bytes());
            o.extend_from_slice(&20u16.to_le_bytes());
            o.extend_from_slice(&c.flags.to_le_bytes());
            o.extend_from_slice(&c.method.to_le_bytes());
            o.extend_from_slice(&self.dos_time.to_le_bytes());
            o.extend_from_slice(&self.dos_date.to_le_bytes());
            o.extend_from_slice(&c.crc.to_le_bytes());
            o.extend_from_slice(&c.csize.to_le_bytes());
            o.extend_from_slice(&c.usize.to_le_bytes());
            o.extend_from_slice(&(c.name.len() as u16).to_le_bytes());
            o.extend_from_slice(&[0; 12]); // extra, comment, disk, internal attrs, external attrs
            o.extend_from_slice(&c.offset.to_le_bytes());
            o.extend_from_slice(&c.name);
        }
        let cd_size = self.out.len() as u32 - cd_start;
        let n = self.central.len() as u16;
        let o = &mut self.out;
        o.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        o.extend_from_slice(&[0; 4]);
        o.extend_from_slice(&n.to_le_bytes());
        o.extend_from_slice(&n.to_le_bytes());
        o.extend_from_slice(&cd_size.to_le_bytes());
        o.extend_from_slice(&cd_start.to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        self.out
    }
}

/// The three keys of traditional PKWARE encryption (APPNOTE 6.1).
struct ZipCryptoKeys([u32; 3]);

impl ZipCryptoKeys {
    fn new(password: &[u8]) -> Self {
        let mut k = ZipCryptoKeys([0x1234_5678, 0x2345_6789, 0x3456_7890]);
        for &b in password {
            k.update(b);
        }
        k
    }

    fn crc_byte(crc: u32, b: u8) -> u32 {
        let mut c = (crc ^ u32::from(b)) & 0xff;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        c ^ (crc >> 8)
    }

    fn update(&mut self, b: u8) {
        self.0[0] = Self::crc_byte(self.0[0], b);
        self.0[1] = self.0[1]
            .wrapping_add(self.0[0] & 0xff)
            .wrapping_mul(134_775_813)
            .wrapping_add(1);
        self.0[2] = Self::crc_byte(self.0[2], (self.0[1] >> 24) as u8);
    }

    fn encrypt_byte(&mut self, plain: u8) -> u8 {
        let t = (self.0[2] | 2) as u16;
        let k = (t.wrapping_mul(t ^ 1) >> 8) as u8;
        self.update(plain);
        plain ^ k
    }
}
