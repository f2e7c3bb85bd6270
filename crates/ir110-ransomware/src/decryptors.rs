//! Decryptor facts: the curated `data/decryptors.toml` (family → tool, vendor, conditions, URL,
//! date checked). Facts only; every answer carries links for a person to confirm.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// Whether a decryptor exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A public tool works for the variants named.
    Yes,
    /// Works for some variants, victims or keys.
    Partial,
    /// None known.
    No,
    /// Not known.
    Unknown,
}

/// One fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecryptorFact {
    /// Family (as in the family index).
    pub family: String,
    /// Other names the entry applies to.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Status.
    pub status: Status,
    /// Who publishes the tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Tool name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// When it works (English).
    pub conditions: String,
    /// When it works (Japanese).
    pub conditions_ja: String,
    /// Where to get it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Date the fact was compared with a public source.
    pub checked: String,
    /// Whether that comparison was made online against the vendor page.
    pub verified: bool,
}

impl DecryptorFact {
    /// When it works, in `lang`.
    pub fn conditions_in(&self, lang: ir110_model::Lang) -> &str {
        match lang {
            ir110_model::Lang::Ja => &self.conditions_ja,
            ir110_model::Lang::En => &self.conditions,
        }
    }
}

#[derive(Deserialize)]
struct File {
    decryptor: Vec<DecryptorFact>,
}

/// The curated file.
pub const DECRYPTORS_DATA: &str = include_str!("../data/decryptors.toml");

static FACTS: LazyLock<Vec<DecryptorFact>> = LazyLock::new(|| {
    toml::from_str::<File>(DECRYPTORS_DATA)
        .map(|f| f.decryptor)
        .unwrap_or_default()
});

/// All facts.
pub fn all() -> &'static [DecryptorFact] {
    &FACTS
}

fn key(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The fact for a family name (matching names and aliases loosely: case, spaces, punctuation;
/// `LockBit 3.0` finds `LockBit`).
pub fn lookup(family: &str) -> Option<&'static DecryptorFact> {
    let k = key(family);
    if k.is_empty() {
        return None;
    }
    FACTS
        .iter()
        .find(|f| {
            std::iter::once(&f.family)
                .chain(&f.aliases)
                .any(|n| key(n) == k)
        })
        .or_else(|| {
            FACTS.iter().find(|f| {
                std::iter::once(&f.family).chain(&f.aliases).any(|n| {
                    let nk = key(n);
                    nk.len() >= 4 && k.starts_with(&nk)
                })
            })
        })
}

/// Where a person confirms the family and looks for tools (nothing is uploaded by ir110).
pub const CONFIRM_LINKS: &[(&str, &str)] = &[
    (
        "ID Ransomware",
        "https://id-ransomware.malwarehunterteam.com/",
    ),
    (
        "No More Ransom (Crypto Sheriff)",
        "https://www.nomoreransom.org/crypto-sheriff.php",
    ),
    (
        "No More Ransom (decryption tools)",
        "https://www.nomoreransom.org/en/decryption-tools.html",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_parses_and_finds_aliases() {
        assert!(all().len() >= 20, "{}", all().len());
        assert_eq!(lookup("Djvu").map(|f| f.family.as_str()), Some("STOP"));
        assert_eq!(
            lookup("STOP Ransomware").map(|f| f.family.as_str()),
            Some("STOP")
        );
        assert_eq!(
            lookup("LockBit 3.0").map(|f| f.family.as_str()),
            Some("LockBit")
        );
        assert_eq!(lookup("8base").map(|f| f.family.as_str()), Some("Phobos"));
        assert!(lookup("NoSuchFamily").is_none());
        assert!(all().iter().all(|f| !f.checked.is_empty()));
    }

    #[test]
    fn every_fact_says_when_it_works_in_both_languages() {
        // A parse error would leave the list empty: count first.
        assert_eq!(all().len(), 20);
        for f in all() {
            assert!(!f.conditions.is_empty(), "{}", f.family);
            // Japanese text, not a copy of the English one.
            assert!(
                f.conditions_ja
                    .chars()
                    .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)),
                "{}: {}",
                f.family,
                f.conditions_ja
            );
        }
        let stop = lookup("STOP").map(|f| f.conditions_in(ir110_model::Lang::Ja));
        assert_eq!(
            stop,
            Some(
                "オフラインキーで暗号化されたファイル（個人 ID の末尾が「t1」）のみ。オンラインキーを使う新しい亜種は復号できません。"
            )
        );
    }
}
