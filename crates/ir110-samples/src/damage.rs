//! Simulated ransomware damage: the encryption patterns real families use (full, header-only,
//! intermittent stripes, percentage in a few stripes, weak XOR), appended family footers,
//! renamed files and ransom notes. Used to build labelled corpora; nothing here is malware:
//! it transforms bytes in memory and never touches a file.

use std::ops::Range;

use aes::Aes256;
use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};

use crate::Rng;

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

/// The stream cipher used for the encrypted bytes. Both are indistinguishable from random.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cipher {
    /// ChaCha20 (LockBit 3, Babuk and many others use ChaCha/Salsa).
    ChaCha20,
    /// AES-256 in CTR mode.
    Aes256Ctr,
}

/// Which bytes of a file are encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The whole file.
    Full(Cipher),
    /// The first `n` bytes ("fast" mode); the rest stays intact.
    Header(usize),
    /// Bytes `skip..skip+len` (STOP/Djvu leaves the first 5 bytes and encrypts ~150 KB).
    Window {
        /// Bytes left intact at the start.
        skip: usize,
        /// Bytes encrypted after them.
        len: usize,
    },
    /// `stripe` bytes encrypted at the start of every `every` bytes (skip-step).
    Intermittent {
        /// Encrypted bytes per period.
        stripe: usize,
        /// Period.
        every: usize,
    },
    /// `percent` of the file in `stripes` evenly spaced stripes (LockBit/BlackCat "percent").
    Fraction {
        /// Share of the file encrypted, 1–100.
        percent: u8,
        /// Number of stripes.
        stripes: usize,
    },
    /// Whole file XORed with a short repeating key (weak families; a negative control for
    /// statistics-only detectors).
    Xor(Vec<u8>),
}

impl Mode {
    /// A short stable label for reports and corpora: `full-chacha20`, `header-4096`, …
    pub fn label(&self) -> String {
        match self {
            Mode::Full(Cipher::ChaCha20) => "full-chacha20".to_owned(),
            Mode::Full(Cipher::Aes256Ctr) => "full-aes".to_owned(),
            Mode::Header(n) => format!("header-{n}"),
            Mode::Window { skip, len } => format!("window-{skip}-{len}"),
            Mode::Intermittent { stripe, every } => format!("intermittent-{stripe}-{every}"),
            Mode::Fraction { percent, stripes } => format!("fraction-{percent}pct-{stripes}"),
            Mode::Xor(k) => format!("xor-{}", k.len()),
        }
    }

    /// The byte ranges this mode encrypts in a file of `len` bytes.
    #[allow(
        clippy::single_range_in_vec_init,
        reason = "a list of one range is meant"
    )]
    pub fn ranges(&self, len: usize) -> Vec<Range<usize>> {
        match self {
            Mode::Full(_) | Mode::Xor(_) => vec![0..len],
            Mode::Header(n) => vec![0..(*n).min(len)],
            Mode::Window { skip, len: l } => {
                let s = (*skip).min(len);
                vec![s..(skip + l).min(len)]
            }
            Mode::Intermittent { stripe, every } => {
                let every = (*every).max(1);
                (0..len)
                    .step_by(every)
                    .map(|s| s..(s + stripe).min(len))
                    .collect()
            }
            Mode::Fraction { percent, stripes } => {
                let stripes = (*stripes).max(1);
                let total = len * usize::from((*percent).min(100)) / 100;
                let each = (total / stripes).max(1);
                (0..stripes)
                    .map(|i| {
                        let s = i * len / stripes;
                        s..(s + each).min(len)
                    })
                    .filter(|r| !r.is_empty())
                    .collect()
            }
        }
    }
}

fn keystream(cipher: Cipher, key_seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::derive(key_seed, "key");
    let key: [u8; 32] = std::array::from_fn(|_| rng.next_u64() as u8);
    let mut out = vec![0u8; len];
    match cipher {
        Cipher::ChaCha20 => {
            let nonce: [u8; 12] = std::array::from_fn(|_| rng.next_u64() as u8);
            ChaCha20::new(&key.into(), &nonce.into()).apply_keystream(&mut out);
        }
        Cipher::Aes256Ctr => {
            let iv: [u8; 16] = std::array::from_fn(|_| rng.next_u64() as u8);
            Aes256Ctr::new(&key.into(), &iv.into()).apply_keystream(&mut out);
        }
    }
    out
}

/// Applies `mode` to `data` with a key derived from `key_seed`; returns the damaged bytes.
pub fn encrypt(data: &[u8], mode: &Mode, key_seed: u64) -> Vec<u8> {
    let mut out = data.to_vec();
    if let Mode::Xor(key) = mode {
        if !key.is_empty() {
            for (i, b) in out.iter_mut().enumerate() {
                *b ^= key[i % key.len()];
            }
        }
        return out;
    }
    let cipher = match mode {
        Mode::Full(c) => *c,
        _ => Cipher::ChaCha20,
    };
    let ranges = mode.ranges(out.len());
    let need: usize = ranges.iter().map(|r| r.len()).sum();
    let ks = keystream(cipher, key_seed, need);
    let mut k = 0;
    for r in ranges {
        for b in &mut out[r] {
            *b ^= ks[k];
            k += 1;
        }
    }
    out
}

/// What a family appends after the encrypted content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Footer {
    /// Nothing.
    None,
    /// A random 256–512 byte blob (a wrapped key) ending in a fixed 8-byte marker, as many
    /// families do. The marker is invented (`IR110SIM`).
    KeyBlob,
    /// STOP/Djvu style: a 40-character personal id followed by the public Djvu GUID.
    Djvu,
}

/// The marker ending [`Footer::KeyBlob`].
pub const SIM_MARKER: &[u8; 8] = b"IR110SIM";
/// The GUID STOP/Djvu appends (published in many analyses and decryptor notes).
pub const DJVU_GUID: &str = "{36A698B9-D67C-4E07-BE82-0EC5B14B4DF5}";

/// Appends `footer` to damaged bytes.
pub fn append_footer(mut data: Vec<u8>, footer: Footer, seed: u64) -> Vec<u8> {
    let mut rng = Rng::derive(seed, "footer");
    match footer {
        Footer::None => {}
        Footer::KeyBlob => {
            let n = rng.range(256, 512) as usize;
            data.extend(rng.bytes(n));
            data.extend_from_slice(SIM_MARKER);
        }
        Footer::Djvu => {
            let id: String = (0..40)
                .map(|_| {
                    char::from(
                        b"0123456789abcdefghijklmnopqrstuvwxyzABCDEF"[rng.below(42) as usize],
                    )
                })
                .collect();
            data.extend_from_slice(id.as_bytes());
            data.extend_from_slice(DJVU_GUID.as_bytes());
        }
    }
    data
}

/// How a family renames what it encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rename {
    /// Name unchanged.
    Keep,
    /// A fixed extension appended: `report.xlsx.locked`.
    Append(String),
    /// Phobos/Dharma style: `file.docx.id[1A2B3C4D-3423].[decrypt@example.invalid].wiz`.
    IdMail {
        /// Victim id (8 hex digits).
        id: String,
        /// Contact address.
        mail: String,
        /// Final extension.
        ext: String,
    },
    /// One random suffix per campaign, shared by every file (LockBit 3 style, 9 characters).
    CampaignSuffix(String),
}

impl Rename {
    /// The new file name for `name`.
    pub fn apply(&self, name: &str) -> String {
        match self {
            Rename::Keep => name.to_owned(),
            Rename::Append(ext) => format!("{name}.{}", ext.trim_start_matches('.')),
            Rename::IdMail { id, mail, ext } => format!("{name}.id[{id}-3423].[{mail}].{ext}"),
            Rename::CampaignSuffix(s) => format!("{name}.{s}"),
        }
    }
}

/// A per-campaign random suffix of `len` letters and digits, deterministic from `seed`.
pub fn campaign_suffix(seed: u64, len: usize) -> String {
    let mut rng = Rng::derive(seed, "suffix");
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..len)
        .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len() as u64) as usize]))
        .collect()
}

/// A victim id in hex, deterministic from `seed`.
pub fn victim_id(seed: u64) -> String {
    format!("{:08X}", Rng::derive(seed, "victim").next_u64() as u32)
}

/// Ransom-note styles. The texts are our own, written in the manner of real notes (threat,
/// instructions, contact, deadline), with invented contacts under `example.invalid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoteStyle {
    /// LockBit-like English note (`Restore-My-Files.txt`).
    LockBitLike,
    /// Phobos-like short English note (`info.txt`).
    PhobosLike,
    /// STOP/Djvu-like English note (`_readme.txt`).
    DjvuLike,
    /// A Japanese note, as groups targeting Japan now ship.
    Japanese,
}

/// A ransom note: its file name and text, with `id` as the victim id.
pub fn ransom_note(style: NoteStyle, id: &str) -> (String, String) {
    match style {
        NoteStyle::LockBitLike => (
            "Restore-My-Files.txt".to_owned(),
            format!(
                "~~~ Your data are stolen and encrypted ~~~\r\n\r\nAll your important files have been encrypted and downloaded to our servers.\r\nThe data will be published on our leak site if you do not pay the ransom.\r\n\r\nYou can decrypt one file for free as a proof.\r\nDo not try to rename or modify encrypted files: they will be lost forever.\r\nDo not contact the police or data recovery companies: they cannot help you.\r\n\r\nTo contact us, download the Tor Browser and open:\r\nhttp://exampleexampleexample.onion.invalid/chat\r\n\r\nYour personal decryption ID: {id}\r\n"
            ),
        ),
        NoteStyle::PhobosLike => (
            "info.txt".to_owned(),
            format!(
                "!!! All of your files are encrypted !!!\r\nTo decrypt them send e-mail to this address: decrypt@example.invalid.\r\nIf we don't answer in 24h., send e-mail to this address: backup@example.invalid\r\nYour ID: {id}\r\nDo not rename encrypted files. Do not try to decrypt your data using third party software, it may cause permanent data loss.\r\n"
            ),
        ),
        NoteStyle::DjvuLike => (
            "_readme.txt".to_owned(),
            format!(
                "ATTENTION!\r\n\r\nDon't worry, you can return all your files!\r\nAll your files like pictures, databases, documents and other important are encrypted with strongest encryption and unique key.\r\nThe only method of recovering files is to purchase decrypt tool and unique key for you.\r\nPrice of private key and decrypt software is $980.\r\nDiscount 50% available if you contact us first 72 hours.\r\nTo get this software you need write on our e-mail:\r\nsupport@example.invalid\r\n\r\nYour personal ID:\r\n{id}\r\n"
            ),
        ),
        NoteStyle::Japanese => (
            "【重要】ファイル復元の手順.txt".to_owned(),
            format!(
                "あなたの会社のネットワークは侵害されました。\r\n\r\nすべての重要なファイルは暗号化され、機密データは当方のサーバーにダウンロードされています。\r\n期限内に連絡がない場合、データはリークサイトで公開されます。\r\n\r\nファイルの名前を変更したり、復元ソフトを使用したりしないでください。データが完全に失われます。\r\n警察やデータ復旧業者に相談しても復号はできません。\r\n\r\n連絡先: support@example.invalid\r\nあなたの ID: {id}\r\n"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_touch_exactly_their_ranges() {
        let data = vec![0u8; 10_000];
        let h = encrypt(&data, &Mode::Header(4096), 1);
        assert!(h[4096..].iter().all(|&b| b == 0));
        assert!(h[..4096].iter().filter(|&&b| b == 0).count() < 64);
        let f = Mode::Fraction {
            percent: 10,
            stripes: 5,
        };
        let r = f.ranges(10_000);
        assert_eq!(r.len(), 5);
        assert_eq!(r.iter().map(|r| r.len()).sum::<usize>(), 1000);
        let i = Mode::Intermittent {
            stripe: 64,
            every: 128,
        }
        .ranges(1000);
        assert_eq!(i.len(), 8);
        assert_eq!(
            encrypt(&data, &Mode::Full(Cipher::Aes256Ctr), 7),
            encrypt(&data, &Mode::Full(Cipher::Aes256Ctr), 7)
        );
        assert_ne!(
            encrypt(&data, &Mode::Full(Cipher::Aes256Ctr), 7),
            encrypt(&data, &Mode::Full(Cipher::ChaCha20), 7)
        );
    }

    #[test]
    fn names() {
        assert_eq!(
            Rename::Append("locked".into()).apply("report.xlsx"),
            "report.xlsx.locked"
        );
        let r = Rename::IdMail {
            id: "1A2B3C4D".into(),
            mail: "decrypt@example.invalid".into(),
            ext: "wiz".into(),
        };
        assert_eq!(
            r.apply("file.docx"),
            "file.docx.id[1A2B3C4D-3423].[decrypt@example.invalid].wiz"
        );
        assert_eq!(campaign_suffix(3, 9).len(), 9);
        assert_eq!(campaign_suffix(3, 9), campaign_suffix(3, 9));
    }
}
