//! The examiner's Ed25519 signing key.
//!
//! Key file: the line `ir110-ed25519-secret-key` followed by a line with the 32-byte secret seed
//! in hex, created with mode 0600 and refused when group or others can read it. The CLI puts it
//! in the user's config directory; the library only takes paths. Public keys travel inside
//! packages as `signer.pub`, a standard SubjectPublicKeyInfo PEM (RFC 8410) that OpenSSL and
//! Python's `cryptography` read directly.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{EvidenceError, IoContext};

const KEY_HEADER: &str = "ir110-ed25519-secret-key";

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 key bytes follow.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Creates a new signing key at `path` (mode 0600). Refuses to overwrite an existing file.
pub fn generate_key(path: &Path) -> Result<SigningKey, EvidenceError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| EvidenceError::Key {
        path: path.to_path_buf(),
        detail: format!("no randomness from the OS: {e}"),
    })?;
    let key = SigningKey::from_bytes(&seed);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).at(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .at(path)?;
    writeln!(file, "{KEY_HEADER}\n{}", hex::encode(seed)).at(path)?;
    file.sync_all().at(path)?;
    Ok(key)
}

/// Loads a signing key; fails when the file is readable by group or others.
pub fn load_key(path: &Path) -> Result<SigningKey, EvidenceError> {
    let bad = |detail: String| EvidenceError::Key {
        path: path.to_path_buf(),
        detail,
    };
    let meta = std::fs::metadata(path).at(path)?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(bad(format!(
            "permissions {mode:04o} let others read the key; run chmod 600"
        )));
    }
    let text = std::fs::read_to_string(path).at(path)?;
    let mut lines = text.lines();
    if lines.next() != Some(KEY_HEADER) {
        return Err(bad(format!(
            "not an ir110 key (first line is not `{KEY_HEADER}`)"
        )));
    }
    let seed = lines
        .next()
        .and_then(|l| hex::decode(l.trim()).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| bad("the second line is not 32 bytes of hex".to_owned()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The fingerprint people compare: SHA-256 of the 32 raw public-key bytes, in hex.
pub fn fingerprint(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The public key as SubjectPublicKeyInfo PEM.
pub fn public_key_pem(key: &VerifyingKey) -> String {
    let mut der = SPKI_PREFIX.to_vec();
    der.extend_from_slice(key.as_bytes());
    let b64 = base64_encode(&der);
    format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n")
}

/// Parses a SubjectPublicKeyInfo PEM holding an Ed25519 key.
pub fn parse_public_key_pem(pem: &str) -> Option<VerifyingKey> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    let der = base64_decode(&body)?;
    let raw = der.strip_prefix(&SPKI_PREFIX[..])?;
    let raw: [u8; 32] = raw.try_into().ok()?;
    VerifyingKey::from_bytes(&raw).ok()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_with_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/signing.key");
        let key = generate_key(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load_key(&path).unwrap().to_bytes(), key.to_bytes());
        assert!(generate_key(&path).is_err(), "never overwrites a key");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_key(&path).unwrap_err().to_string();
        assert!(err.contains("0644"), "{err}");
    }

    #[test]
    fn pem_round_trip() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let pem = public_key_pem(&key.verifying_key());
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"));
        assert_eq!(parse_public_key_pem(&pem), Some(key.verifying_key()));
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
    }
}
