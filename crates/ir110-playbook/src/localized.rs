//! Text kept in both languages side by side.

use ir110_model::Lang;
use serde::{Deserialize, Serialize};

/// One text in Japanese and English.
///
/// The data files write every text as a `{ja, en}` pair, so a missing translation is a parse
/// error caught by the tests rather than a blank line in front of a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalizedText {
    /// Japanese.
    pub ja: String,
    /// English.
    pub en: String,
}

impl LocalizedText {
    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
}
