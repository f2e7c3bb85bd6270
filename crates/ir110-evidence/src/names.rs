//! File names as bytes: the original path of a collected file, and the name it gets in the
//! package.
//!
//! Linux file names are bytes. A FAT or NTFS volume mounted without the right `iocharset`, or a
//! tree copied from an old Japanese system, can hold Shift_JIS names that are not UTF-8. Such a
//! name is kept three ways: the raw bytes (hex) in the manifest, a readable form (decoded as
//! Shift_JIS when that decodes cleanly), and a portable package name in which every non-ASCII
//! byte is written `%XX`, so that zip and tar entries stay UTF-8.

/// How a source-relative path is named in the manifest and in the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathName {
    /// `/`-separated path relative to the source root, without a leading slash, as UTF-8. For
    /// non-UTF-8 names this is the Shift_JIS reading when there is one, else the escaped form.
    pub display: String,
    /// Portable form used for the package copy (always valid UTF-8).
    pub stored: String,
    /// Hex of the raw bytes, only when the name is not UTF-8.
    pub raw_hex: Option<String>,
    /// `shift_jis` when `display` was decoded from Shift_JIS.
    pub decoded_as: Option<&'static str>,
}

impl PathName {
    /// Names a relative path given as raw bytes.
    pub fn from_bytes(rel: &[u8]) -> PathName {
        match std::str::from_utf8(rel) {
            Ok(s) => PathName {
                display: s.to_owned(),
                stored: s.to_owned(),
                raw_hex: None,
                decoded_as: None,
            },
            Err(_) => {
                let stored = escape_non_utf8(rel);
                let sjis = decode_shift_jis(rel);
                PathName {
                    display: sjis.clone().unwrap_or_else(|| stored.clone()),
                    stored,
                    raw_hex: Some(hex::encode(rel)),
                    decoded_as: sjis.map(|_| "shift_jis"),
                }
            }
        }
    }
}

/// Decodes bytes as Shift_JIS (Windows-31J), only when every byte decodes without replacement.
pub(crate) fn decode_shift_jis(bytes: &[u8]) -> Option<String> {
    encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|cow| cow.into_owned())
}

/// Writes every non-ASCII byte as `%XX`. All of them, not only the invalid sequences: a
/// Shift_JIS name can contain byte pairs that happen to be valid UTF-8, and a half-decoded name
/// would be misleading.
fn escape_non_utf8(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The name of a zip entry. Zip has no mandatory name encoding: entries without the UTF-8 flag
/// written by Japanese Windows (Explorer's "compressed folder", old archivers) are Shift_JIS.
/// Valid UTF-8 is taken as UTF-8 (Shift_JIS names are almost never valid UTF-8), anything else
/// is decoded as Shift_JIS when it decodes cleanly, else as CP437 by the zip crate.
pub(crate) fn zip_entry_name(raw: &[u8], decoded_by_zip: &str) -> String {
    if raw.is_ascii() {
        return decoded_by_zip.to_owned();
    }
    if let Ok(s) = std::str::from_utf8(raw) {
        return s.to_owned();
    }
    decode_shift_jis(raw).unwrap_or_else(|| decoded_by_zip.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_names_are_kept() {
        let n = PathName::from_bytes("Users/山田/デスクトップ/見積書.xlsx".as_bytes());
        assert_eq!(n.display, "Users/山田/デスクトップ/見積書.xlsx");
        assert_eq!(n.stored, n.display);
        assert_eq!(n.raw_hex, None);
    }

    #[test]
    fn shift_jis_names_are_decoded_and_escaped() {
        // 証拠.txt in Shift_JIS.
        let raw = b"dir/\x8f\xd8\x8b\x92.txt";
        let n = PathName::from_bytes(raw);
        assert_eq!(n.display, "dir/証拠.txt");
        assert_eq!(n.stored, "dir/%8F%D8%8B%92.txt");
        assert_eq!(n.raw_hex.as_deref(), Some("6469722f8fd88b922e747874"));
        assert_eq!(n.decoded_as, Some("shift_jis"));
    }

    #[test]
    fn undecodable_names_stay_escaped() {
        let n = PathName::from_bytes(b"a\xff\xfe");
        assert_eq!(n.display, "a%FF%FE");
        assert_eq!(n.decoded_as, None);
    }

    #[test]
    fn zip_names() {
        assert_eq!(zip_entry_name(b"a.txt", "a.txt"), "a.txt");
        assert_eq!(zip_entry_name("証拠.txt".as_bytes(), "x"), "証拠.txt");
        assert_eq!(zip_entry_name(b"\x8f\xd8\x8b\x92.txt", "cp437"), "証拠.txt");
    }
}
