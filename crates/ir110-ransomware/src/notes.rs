//! Ransom-note recognition, by name and by content. A name alone is weak evidence (every
//! `readme.txt` would match), so content decides; names raise confidence.

/// Words and phrases of ransom notes (lower-case; English and Japanese).
const KEYWORDS: &[&str] = &[
    "encrypted",
    "decrypt",
    "decryption",
    "bitcoin",
    "btc",
    "monero",
    "xmr",
    "tor browser",
    ".onion",
    "ransom",
    "private key",
    "your files",
    "personal id",
    "your id",
    "do not rename",
    "don't rename",
    "leak",
    "published",
    "contact us",
    "wallet",
    "tox",
    "recover your",
    "restore your",
    "all your",
    "unique key",
    "price",
    "discount",
    "third party software",
    "permanent data loss",
    "暗号化",
    "復号",
    "身代金",
    "ビットコイン",
    "リークサイト",
    "公開",
    "連絡",
    "データ",
    "復元",
];

/// File-name patterns of notes (lower-case substrings).
const NAME_HINTS: &[&str] = &[
    "readme",
    "read_me",
    "read-me",
    "decrypt",
    "restore",
    "recover",
    "how_to",
    "how-to",
    "howto",
    "instruction",
    "help_",
    "_help",
    "!!!",
    "ransom",
    "files_encrypted",
    "unlock",
    "info.hta",
    "info.txt",
    "復元",
    "復号",
    "重要",
    "attention",
    "warning",
];

const NOTE_EXTENSIONS: &[&str] = &[
    "txt", "html", "htm", "hta", "rtf", "url", "inf", "nfo", "md", "",
];

/// How note-like a file name is: 0 (no), 1 (pattern), 2 (known note name from the family data).
pub fn name_score(file_name: &str, known_note_name: bool) -> u8 {
    let lower = file_name.to_lowercase();
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    if !NOTE_EXTENSIONS.contains(&ext) {
        return 0;
    }
    if known_note_name {
        return 2;
    }
    u8::from(NAME_HINTS.iter().any(|h| lower.contains(h)))
}

/// Distinct note keywords in `text`.
pub fn keyword_hits(text: &str) -> usize {
    let lower = text.to_lowercase();
    KEYWORDS.iter().filter(|k| lower.contains(*k)).count()
}

/// Decodes note text (UTF-8, UTF-16 with BOM, Shift_JIS), strips HTML tags.
pub fn note_text(bytes: &[u8]) -> Option<String> {
    let text = if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        let le = bytes[0] == 0xff;
        let units = bytes[2..].chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .map(|r| r.unwrap_or('\u{fffd}'))
            .collect::<String>()
    } else {
        match std::str::from_utf8(bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes)) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                let (s, _, errors) = encoding_rs::SHIFT_JIS.decode(bytes);
                if errors {
                    String::from_utf8_lossy(bytes).into_owned()
                } else {
                    s.into_owned()
                }
            }
        }
    };
    if text.contains('\0') {
        return None;
    }
    Some(strip_tags(&text))
}

fn strip_tags(s: &str) -> String {
    if !s.contains('<') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Words every note has one of (the gate below).
const GATE: [&str; 6] = ["crypt", "暗号", "復号", "ransom", "bitcoin", "身代金"];

/// The gate words as bytes in the encodings notes come in (ASCII words lower-case).
static GATE_BYTES: std::sync::LazyLock<Vec<Vec<u8>>> = std::sync::LazyLock::new(|| {
    let mut out = Vec::new();
    for w in GATE {
        out.push(w.as_bytes().to_vec());
        if !w.is_ascii() {
            for enc in [encoding_rs::SHIFT_JIS, encoding_rs::EUC_JP] {
                out.push(enc.encode(w).0.into_owned());
            }
        }
    }
    out
});

/// Whether the raw bytes (not UTF-16) contain a gate word in UTF-8, Shift_JIS or EUC-JP:
/// decoding and lower-casing every text file of a share cost more than reading it, and only a
/// file that passes this can pass the gate on its decoded text.
fn gate_raw(bytes: &[u8]) -> bool {
    let lower = bytes.to_ascii_lowercase();
    GATE_BYTES.iter().any(|w| {
        let hay: &[u8] = if w.is_ascii() { &lower } else { bytes };
        memchr::memmem::find(hay, w).is_some()
    })
}

/// Whether a file is a ransom note: enough note vocabulary, more readily when the name
/// matches. Returns the keyword count when it is.
pub fn is_note(file_name: &str, bytes: &[u8], known_note_name: bool) -> Option<usize> {
    if bytes.len() > 256 << 10 || bytes.is_empty() {
        return None;
    }
    let name = name_score(file_name, known_note_name);
    let lower = file_name.to_lowercase();
    let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
    if name == 0 && !NOTE_EXTENSIONS.contains(&ext) {
        return None;
    }
    if !bytes.starts_with(&[0xff, 0xfe]) && !bytes.starts_with(&[0xfe, 0xff]) && !gate_raw(bytes) {
        return None;
    }
    let text = note_text(bytes)?;
    // Every note speaks of encryption or payment; checking that first keeps ordinary text
    // files cheap (one pass instead of one per keyword). The keywords are ASCII or have no
    // case, so ASCII lower-casing finds the same matches as full Unicode lower-casing.
    let lower = text.to_ascii_lowercase();
    if !GATE.iter().any(|k| lower.contains(k)) {
        return None;
    }
    let hits = keyword_hits(&text);
    let needed = match name {
        2 => 2,
        1 => 3,
        _ => 5,
    };
    (hits >= needed).then_some(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_need_content() {
        let note = b"All your files are encrypted. To decrypt them contact us. Your personal ID: 123. Do not rename files. Pay in bitcoin.";
        assert!(is_note("README.txt", note, false).is_some());
        assert!(is_note("info.txt", note, true).is_some());
        assert!(
            is_note(
                "README.txt",
                b"This project builds with cargo. See LICENSE.",
                false
            )
            .is_none()
        );
        assert!(is_note("photo.jpg", note, false).is_none());
        let ja = "あなたのファイルは暗号化されました。復号するには連絡してください。データは公開されます。".as_bytes();
        assert!(is_note("【重要】復元方法.txt", ja, false).is_some());
    }
}
