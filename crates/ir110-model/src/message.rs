//! The message catalogue: every text a person reads, in Japanese and English.
//!
//! Code never builds user-facing sentences. It names a key and its arguments ([`Message`]); the
//! report, the CLI and the server render it with a [`Catalog`] in the reader's language. Each
//! crate ships its entries as a TOML file (exported as `MESSAGES`) and the binary merges them:
//!
//! ```toml
//! ["ransomware.encrypted.title"]
//! en = "{count} files were encrypted"
//! ja = "{count} 件のファイルが暗号化されています"
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

/// A language every text is available in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Japanese (the default for the service's clients).
    #[default]
    Ja,
    /// English.
    En,
}

impl Lang {
    /// `ja` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The language a POSIX locale value (`LANG`, `LC_ALL`) asks for: Japanese for `ja*`,
    /// English otherwise. `None` when the value is empty.
    pub fn from_locale(value: &str) -> Option<Lang> {
        let v = value.trim();
        if v.is_empty() {
            return None;
        }
        Some(if v.to_ascii_lowercase().starts_with("ja") {
            Lang::Ja
        } else {
            Lang::En
        })
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Lang {
    type Err = crate::ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ja" | "jp" | "japanese" => Ok(Lang::Ja),
            "en" | "english" => Ok(Lang::En),
            _ => Err(crate::ParseEnumError::new("language", s, "ja, en")),
        }
    }
}

/// A message key with named arguments, rendered later in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Message {
    /// The catalogue key, `crate.topic.item`.
    pub key: String,
    /// Named arguments substituted for `{name}` in the text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
}

impl Message {
    /// A message with no arguments.
    pub fn new(key: impl Into<String>) -> Self {
        Message {
            key: key.into(),
            args: BTreeMap::new(),
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, name: &str, value: impl ToString) -> Self {
        self.args.insert(name.to_owned(), value.to_string());
        self
    }
}

/// A problem in a catalogue file. Catalogue files are compiled into the binary, so these are
/// programming errors caught by each crate's tests.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The TOML did not parse.
    #[error("message catalogue is not valid TOML: {0}")]
    Syntax(#[from] toml::de::Error),
    /// An entry lacks one of the languages.
    #[error("message `{key}` has no `{lang}` text")]
    MissingLanguage {
        /// The key.
        key: String,
        /// The missing language.
        lang: Lang,
    },
    /// Two catalogue files define the same key.
    #[error("message `{0}` is defined twice")]
    Duplicate(String),
}

#[derive(Deserialize)]
struct Entry {
    ja: Option<String>,
    en: Option<String>,
}

/// Texts by key, in both languages.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    entries: HashMap<String, [String; 2]>,
}

impl Catalog {
    /// Builds a catalogue from several TOML sources (each crate's `MESSAGES`).
    pub fn from_sources(sources: &[&str]) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::default();
        for source in sources {
            catalog.add(source)?;
        }
        Ok(catalog)
    }

    /// Adds the entries of one TOML source. Every entry must have both `ja` and `en`.
    pub fn add(&mut self, source: &str) -> Result<(), CatalogError> {
        let table: BTreeMap<String, Entry> = toml::from_str(source)?;
        for (key, entry) in table {
            let ja = entry.ja.ok_or_else(|| CatalogError::MissingLanguage {
                key: key.clone(),
                lang: Lang::Ja,
            })?;
            let en = entry.en.ok_or_else(|| CatalogError::MissingLanguage {
                key: key.clone(),
                lang: Lang::En,
            })?;
            if self.entries.insert(key.clone(), [ja, en]).is_some() {
                return Err(CatalogError::Duplicate(key));
            }
        }
        Ok(())
    }

    /// Whether the catalogue has `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// The raw text of `key` in `lang`, if present.
    pub fn text(&self, key: &str, lang: Lang) -> Option<&str> {
        self.entries.get(key).map(|texts| match lang {
            Lang::Ja => texts[0].as_str(),
            Lang::En => texts[1].as_str(),
        })
    }

    /// Renders a key without arguments; an unknown key renders as itself so that a missing
    /// entry is visible rather than silent.
    pub fn get(&self, key: &str, lang: Lang) -> String {
        self.text(key, lang).unwrap_or(key).to_owned()
    }

    /// Renders a message: substitutes `{name}` by its argument. An argument that is a list of
    /// catalogue keys (`mail.signal.burst, mail.signal.new-client`) is rendered as their texts,
    /// so terms inside a message are translated too while the finding keeps the keys. Unknown
    /// keys render as the key followed by the arguments, so nothing is lost.
    pub fn render(&self, message: &Message, lang: Lang) -> String {
        match self.text(&message.key, lang) {
            Some(text) => {
                let terms = |v: &String| -> Option<String> {
                    let items: Vec<&str> = v.split(", ").collect();
                    let texts: Option<Vec<&str>> =
                        items.iter().map(|k| self.text(k, lang)).collect();
                    let sep = match lang {
                        Lang::Ja => "、",
                        Lang::En => ", ",
                    };
                    texts.map(|t| t.join(sep))
                };
                let args: BTreeMap<String, String> = message
                    .args
                    .iter()
                    .map(|(k, v)| (k.clone(), terms(v).unwrap_or_else(|| v.clone())))
                    .collect();
                substitute(text, &args)
            }
            None if message.args.is_empty() => message.key.clone(),
            None => {
                let args: Vec<String> = message
                    .args
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                format!("{} ({})", message.key, args.join(", "))
            }
        }
    }

    /// All keys (sorted), for completeness tests.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.entries.keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }
}

/// Replaces `{name}` by its value; `{{` and `}}` are literal braces; unknown names stay as-is.
fn substitute(text: &str, args: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(['{', '}']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
        } else if let (true, Some(end)) = (tail.starts_with('{'), tail.find('}')) {
            let name = &tail[1..end];
            match args.get(name) {
                Some(value) => out.push_str(value),
                None => out.push_str(&tail[..=end]),
            }
            rest = &tail[end + 1..];
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
["a.count"]
en = "{count} files in {dir}"
ja = "{dir} に {count} 件"
"#;

    #[test]
    fn arguments_that_are_keys_are_translated() {
        let c = Catalog::from_sources(&[
            SAMPLE,
            r#"
["t.signal.burst"]
en = "burst"
ja = "大量送信"
["t.signal.new"]
en = "new client"
ja = "新しい接続元"
"#,
        ])
        .unwrap();
        let m = Message::new("a.count")
            .arg("count", "t.signal.burst, t.signal.new")
            .arg("dir", "t.signal.burst, not.a.key");
        assert_eq!(
            c.render(&m, Lang::Ja),
            "t.signal.burst, not.a.key に 大量送信、新しい接続元 件"
        );
        assert_eq!(
            c.render(&m, Lang::En),
            "burst, new client files in t.signal.burst, not.a.key"
        );
    }

    #[test]
    fn renders_both_languages() {
        let c = Catalog::from_sources(&[SAMPLE]).unwrap();
        let m = Message::new("a.count").arg("count", 3).arg("dir", "/srv");
        assert_eq!(c.render(&m, Lang::En), "3 files in /srv");
        assert_eq!(c.render(&m, Lang::Ja), "/srv に 3 件");
    }

    #[test]
    fn unknown_keys_stay_visible() {
        let c = Catalog::default();
        assert_eq!(
            c.render(&Message::new("x.y").arg("n", 1), Lang::En),
            "x.y (n=1)"
        );
    }

    #[test]
    fn braces_and_missing_args() {
        let args = BTreeMap::from([("a".to_owned(), "1".to_owned())]);
        assert_eq!(substitute("{{x}} {a} {b} }", &args), "{x} 1 {b} }");
    }

    #[test]
    fn both_languages_required_and_no_duplicates() {
        assert!(matches!(
            Catalog::from_sources(&["[k]\nen = \"x\"\n"]),
            Err(CatalogError::MissingLanguage { lang: Lang::Ja, .. })
        ));
        assert!(matches!(
            Catalog::from_sources(&[SAMPLE, SAMPLE]),
            Err(CatalogError::Duplicate(_))
        ));
    }

    #[test]
    fn model_catalogue_is_complete() {
        let c = Catalog::from_sources(&[crate::MESSAGES]).unwrap();
        for s in crate::Severity::ALL_DESC {
            assert!(c.contains(&format!("severity.{s}")), "severity.{s}");
        }
        for p in crate::Phase::ALL {
            assert!(
                c.contains(&format!("phase.{}", p.as_str())),
                "phase.{}",
                p.as_str()
            );
        }
        for t in crate::IncidentType::ALL {
            assert!(
                c.contains(&format!("incident.{}", t.as_str())),
                "incident.{}",
                t.as_str()
            );
        }
    }

    #[test]
    fn locale_detection() {
        assert_eq!(Lang::from_locale("ja_JP.UTF-8"), Some(Lang::Ja));
        assert_eq!(Lang::from_locale("C.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::from_locale(""), None);
    }
}
