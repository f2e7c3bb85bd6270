//! Ransomware impact scanner.
//!
//! Answers, offline, the first questions after ransomware: which files are damaged and how
//! (fully, header only, intermittently), which are legitimately password-protected, where the
//! ransom notes are, which family it probably was, whether a public decryptor exists, and when
//! and where encryption started. Later, it checks that restored data is clean.
//!
//! Detection does not rely on entropy: compressed formats look random. Each file's format is
//! recognised from its content and checked by a validator that uses the format's own structure
//! and checksums (ZIP and PNG CRC-32, JPEG byte stuffing, PDF cross-references, Ogg page CRCs,
//! …). Block statistics are used only where they mean something: on formats that should be
//! low-entropy, and on content no validator recognises.

pub mod content;
pub mod detect;
pub mod family;
pub mod family_build;
pub mod format;
pub mod inflate;
pub mod names;
pub mod notes;
pub mod record;
pub mod scan;
pub mod stats;
pub mod validate;
pub mod xor;

/// Judges an in-memory file (tests, fuzzing, the accuracy corpus): the same decision as a scan,
/// without I/O.
pub fn judge_bytes(name: &str, bytes: Vec<u8>) -> detect::Judgement {
    let info = names::analyse(name);
    let index = family::FamilyIndex::builtin();
    detect::judge(
        name,
        &info,
        &content::Content::whole(bytes),
        index.is_note_name(name),
    )
}
pub mod decryptors;
pub mod error;
pub mod identify;
pub mod restore;
pub mod timeline;

pub use error::Error;
pub use identify::{Identification, identify};
pub use record::{FileRecord, Mode, Reason, Verdict};
pub use restore::{RestoreReport, verify_restore};
pub use scan::{ScanOptions, ScanSummary, scan};
pub mod analyzer;

pub use analyzer::RansomwareAnalyzer;

/// Message catalogue entries of this crate (`ransomware.*`).
pub const MESSAGES: &str = include_str!("../messages.toml");

#[cfg(test)]
mod tests {
    /// Every `Message::new("…")` key in the analyzer exists in both languages.
    #[test]
    fn catalogue_has_every_key_used() {
        let catalog = ir110_model::Catalog::from_sources(&[ir110_model::MESSAGES, crate::MESSAGES])
            .unwrap_or_default();
        assert!(catalog.contains("ransomware.encrypted.title"));
        let source = include_str!("analyzer.rs");
        let mut n = 0;
        for part in source.split("Message::new(\"").skip(1) {
            let key = part.split('"').next().unwrap_or_default();
            assert!(catalog.contains(key), "missing message {key}");
            n += 1;
        }
        assert!(n >= 15, "{n}");
        for v in crate::Verdict::ALL {
            assert!(catalog.contains(&format!("ransomware.verdict.{}", v.as_str())));
        }
    }
}
