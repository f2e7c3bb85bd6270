//! Legitimately password-protected files: the controls a ransomware scanner must call
//! `protected`, never `encrypted`.
//!
//! - ZIP with traditional PKWARE encryption: real, opens with the password.
//! - PDF with the Standard security handler (RC4 40-bit): real, opens with the password.
//! - Encrypted OOXML: a real CFB (OLE2) container with `EncryptionInfo` (agile, version 4.4,
//!   with the XML descriptor Office writes) and `EncryptedPackage` (size prefix + AES-CTR
//!   ciphertext of a real workbook). Structurally what Office writes; the key material is not
//!   derived from a password, so Office would reject every password, and the `\u{6}DataSpaces`
//!   storage is left out (the `cfb` crate stamps storages with the current time, which would
//!   break determinism). A scanner sees the same two streams either way.

use std::io::{Cursor, Write};

use crate::damage::{self, Cipher, Mode};
use crate::zip_writer::{Method, ZipWriter};
use crate::{Rng, pdf};

/// The password every protected sample uses.
pub const PASSWORD: &str = "P@ssw0rd-2026";

/// A ZIP whose members are encrypted with traditional PKWARE encryption.
pub fn zip_with_password(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = ZipWriter::new().with_password(PASSWORD);
    for (name, data) in members {
        z.add(name, data, Method::Deflated);
    }
    z.finish()
}

/// A password-protected PDF.
pub fn encrypted_pdf(title: &str, lines: &[String]) -> Vec<u8> {
    pdf::pdf(title, lines, Some(PASSWORD))
}

/// An encrypted Office document (CFB with `EncryptionInfo` and `EncryptedPackage`) wrapping
/// `package` (the plain OOXML zip). Errors only if the in-memory container cannot be built.
pub fn encrypted_ooxml(package: &[u8], seed: u64) -> std::io::Result<Vec<u8>> {
    let mut rng = Rng::derive(seed, "ooxml-encryption");
    let b64 = |bytes: &[u8]| base64(bytes);
    let salt = rng.bytes(16);
    let key_salt = rng.bytes(16);
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n<encryption xmlns=\"http://schemas.microsoft.com/office/2006/encryption\" xmlns:p=\"http://schemas.microsoft.com/office/2006/keyEncryptor/password\"><keyData saltSize=\"16\" blockSize=\"16\" keyBits=\"256\" hashSize=\"64\" cipherAlgorithm=\"AES\" cipherChaining=\"ChainingModeCBC\" hashAlgorithm=\"SHA512\" saltValue=\"{}\"/><dataIntegrity encryptedHmacKey=\"{}\" encryptedHmacValue=\"{}\"/><keyEncryptors><keyEncryptor uri=\"http://schemas.microsoft.com/office/2006/keyEncryptor/password\"><p:encryptedKey spinCount=\"100000\" saltSize=\"16\" blockSize=\"16\" keyBits=\"256\" hashSize=\"64\" cipherAlgorithm=\"AES\" cipherChaining=\"ChainingModeCBC\" hashAlgorithm=\"SHA512\" saltValue=\"{}\" encryptedVerifierHashInput=\"{}\" encryptedVerifierHashValue=\"{}\" encryptedKeyValue=\"{}\"/></keyEncryptor></keyEncryptors></encryption>",
        b64(&salt),
        b64(&rng.bytes(64)),
        b64(&rng.bytes(64)),
        b64(&key_salt),
        b64(&rng.bytes(16)),
        b64(&rng.bytes(64)),
        b64(&rng.bytes(32)),
    );
    let mut info = vec![4, 0, 4, 0, 0x40, 0, 0, 0];
    info.extend_from_slice(xml.as_bytes());
    // Agile encryption pads the package to whole 4096-byte segments of 16-byte blocks.
    let padded = package.len().div_ceil(16) * 16;
    let mut enc = (package.len() as u64).to_le_bytes().to_vec();
    let mut body = package.to_vec();
    body.resize(padded, 0);
    enc.extend(damage::encrypt(&body, &Mode::Full(Cipher::Aes256Ctr), seed));
    let mut comp = cfb::CompoundFile::create(Cursor::new(Vec::new()))?;
    comp.create_stream("/EncryptionInfo")?.write_all(&info)?;
    comp.create_stream("/EncryptedPackage")?.write_all(&enc)?;
    comp.flush()?;
    Ok(comp.into_inner().into_inner())
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}
