//! The labelled accuracy corpus: real benign files (our own sample writers, Debian's
//! `forensics-samples-files`, the python-docx source distribution), damaged at run time by a
//! simulated ransomware (never committed), plus legitimately password-protected controls.
//! Deterministic from a seed. Shared by the `accuracy` test (fast subset, exact verdicts) and
//! the `accuracy` example (full corpus, confusion matrices for BENCHMARKS.md).

#![allow(
    dead_code,
    reason = "shared between a test and an example that use different parts"
)]

use std::path::{Path, PathBuf};

use ir110_samples::damage::{self, Cipher, Footer, Mode, Rename};
use ir110_samples::{DocKind, Rng, protected};

/// What a corpus file really is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Truth {
    /// Untouched.
    Benign,
    /// Legitimately password-protected.
    Protected,
    /// Damaged with this mode label.
    Encrypted(String),
}

/// One corpus file.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Format label (`xlsx`, `jpg`, `txt-sjis`, …).
    pub format: String,
    /// File name as scanned.
    pub name: String,
    /// Content.
    pub bytes: Vec<u8>,
    /// Ground truth.
    pub truth: Truth,
}

/// A benign source file.
#[derive(Debug, Clone)]
pub struct Benign {
    /// Format label.
    pub format: String,
    /// Name.
    pub name: String,
    /// Content.
    pub bytes: Vec<u8>,
}

/// Where python-docx's sdist is extracted (`scripts/fetch-corpus.sh`).
pub fn external_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-corpus")
}

fn ext_label(name: &str) -> String {
    name.rsplit_once('.').map_or("none".to_owned(), |(_, e)| {
        e.to_ascii_lowercase().replace("jpeg", "jpg")
    })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// Benign files: `per_kind` sample documents per kind, and (when installed) the real files.
pub fn benign(per_kind: u64, real: bool, seed: u64) -> Vec<Benign> {
    let mut out = Vec::new();
    for kind in DocKind::ALL {
        for i in 0..per_kind {
            // Documents under 1 KiB are redrawn: 10 % of them in five stripes is a few bytes
            // per stripe, below what any content test can see.
            let mut s = seed.wrapping_mul(1000).wrapping_add(i);
            let mut bytes = ir110_samples::document(kind, s, &format!("請求書_{i}"));
            while bytes.len() < 1024 {
                s = s.wrapping_add(7919);
                bytes = ir110_samples::document(kind, s, &format!("請求書_{i}"));
            }
            out.push(Benign {
                format: kind.label().to_owned(),
                name: format!("sample_{i}.{}", kind.extension()),
                bytes,
            });
        }
    }
    if !real {
        return out;
    }
    let forensics = Path::new("/usr/share/forensics-samples/original-files");
    let pydocx = external_dir();
    if !forensics.is_dir() {
        eprintln!(
            "corpus: {} missing (apt-get install forensics-samples-files); skipped",
            forensics.display()
        );
    }
    if !pydocx.is_dir() {
        eprintln!(
            "corpus: {} missing (crates/ir110-ransomware/scripts/fetch-corpus.sh); skipped",
            pydocx.display()
        );
    }
    let mut files = Vec::new();
    walk(forensics, &mut files);
    walk(&pydocx, &mut files);
    for p in files {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Only files of the formats the corpus is about (documents, images, media).
        let label = ext_label(&name);
        if ![
            "docx", "xlsx", "pptx", "odt", "pdf", "jpg", "png", "gif", "bmp", "tif", "tiff", "mp3",
            "ogg", "wav", "mp4", "avi", "mpeg", "ppm", "xcf", "txt",
        ]
        .contains(&label.as_str())
        {
            continue;
        }
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        if bytes.len() < 512 {
            continue;
        }
        if name.contains("-pass-") {
            continue; // password-protected PDFs are controls
        }
        out.push(Benign {
            format: label,
            name,
            bytes,
        });
    }
    out
}

/// The damage modes of the corpus, by label.
pub fn modes(rng: &mut Rng) -> Vec<(String, Mode)> {
    let key_len = rng.range(1, 16) as usize;
    let key = rng.bytes(key_len);
    vec![
        ("full-chacha20".to_owned(), Mode::Full(Cipher::ChaCha20)),
        ("full-aes".to_owned(), Mode::Full(Cipher::Aes256Ctr)),
        ("header-4k".to_owned(), Mode::Header(4096)),
        ("header-1m".to_owned(), Mode::Header(1 << 20)),
        (
            "intermittent-every-other".to_owned(),
            Mode::Intermittent {
                stripe: 4096,
                every: 8192,
            },
        ),
        (
            "intermittent-10pct-5".to_owned(),
            Mode::Fraction {
                percent: 10,
                stripes: 5,
            },
        ),
        ("xor-short-key".to_owned(), Mode::Xor(key)),
    ]
}

/// Damaged variants of every benign file (each mode; half renamed with an appended extension,
/// some with a family-style footer), the benign files themselves, and protected controls.
pub fn build(benign: &[Benign], seed: u64) -> Vec<Sample> {
    let mut rng = Rng::derive(seed, "corpus");
    let mut out = Vec::new();
    for (i, b) in benign.iter().enumerate() {
        out.push(Sample {
            format: b.format.clone(),
            name: b.name.clone(),
            bytes: b.bytes.clone(),
            truth: Truth::Benign,
        });
        for (label, mode) in modes(&mut rng) {
            let mut bytes = damage::encrypt(&b.bytes, &mode, rng.next_u64());
            let footer = match rng.below(4) {
                0 => Footer::KeyBlob,
                _ => Footer::None,
            };
            if !matches!(mode, Mode::Xor(_)) {
                bytes = damage::append_footer(bytes, footer, rng.next_u64());
            }
            let rename = if (i + label.len()) % 2 == 0 {
                Rename::Append(damage::campaign_suffix(seed, 9))
            } else {
                Rename::Keep
            };
            out.push(Sample {
                format: b.format.clone(),
                name: rename.apply(&b.name),
                bytes,
                truth: Truth::Encrypted(label),
            });
        }
    }
    out.extend(controls(seed));
    out
}

/// Legitimately encrypted files that must come out `protected`.
pub fn controls(seed: u64) -> Vec<Sample> {
    let mut out = Vec::new();
    for i in 0..4u64 {
        let s = seed.wrapping_add(i);
        let text = ir110_samples::document(DocKind::CsvUtf8, s, "給与");
        out.push(Sample {
            format: "zip-password".into(),
            name: format!("給与_{i}.zip"),
            bytes: protected::zip_with_password(&[("給与.csv", &text)]),
            truth: Truth::Protected,
        });
        out.push(Sample {
            format: "pdf-password".into(),
            name: format!("源泉徴収票_{i}.pdf"),
            bytes: protected::encrypted_pdf("源泉徴収票", &[format!("slip {i}")]),
            truth: Truth::Protected,
        });
        for kind in [DocKind::Xlsx, DocKind::Docx] {
            let doc = ir110_samples::document(kind, s, "人事評価");
            if let Ok(bytes) = protected::encrypted_ooxml(&doc, s) {
                out.push(Sample {
                    format: format!("{}-password", kind.extension()),
                    name: format!("評価_{i}.{}", kind.extension()),
                    bytes,
                    truth: Truth::Protected,
                });
            }
        }
    }
    for name in ["a-text-pass-A5d.pdf", "a-text-pass-peanuts.pdf"] {
        if let Ok(bytes) =
            std::fs::read(Path::new("/usr/share/forensics-samples/original-files/text1").join(name))
        {
            out.push(Sample {
                format: "pdf-password".into(),
                name: name.into(),
                bytes,
                truth: Truth::Protected,
            });
        }
    }
    out
}
