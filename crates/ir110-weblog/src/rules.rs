//! File classes, and the TOML rule format still accepted in user rule folders.
//!
//! The built-in rules are YARA (`rules/*.yar`, see [`crate::YaraRules`]). User folders may
//! also hold rules in the earlier TOML format, one `[[rule]]` table each:
//!
//! ```toml
//! [[rule]]
//! id = "local.marker"          # stable rule id
//! kind = "webshell"            # webshell | obfuscation | skimmer | code-in-image | dropper
//! severity = "high"            # critical | high | medium | low
//! files = ["html"]             # php, jsp, aspx, js, html, image, any
//! all = ['(?i)hacked\s+by']   # Rust `regex` patterns that must all match
//! any = []                     # at least one must match (when given)
//! none = []                    # exclusions
//! foreign_url = false          # also needs a domain outside the site and the allowlist
//! description = "defacement banner"
//! ```

use std::path::Path;

use regex::Regex;
use serde::Deserialize;

use crate::WebError;

/// A class of file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileClass {
    /// PHP (`.php`, `.phtml`, `.php5`, `.inc`, …).
    Php,
    /// Java Server Pages.
    Jsp,
    /// ASP.NET / classic ASP.
    Aspx,
    /// JavaScript.
    Js,
    /// HTML and templates.
    Html,
    /// Images.
    Image,
    /// Anything else (not scanned).
    Other,
}

impl FileClass {
    /// From a file name.
    pub fn of(path: &Path) -> FileClass {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "php" | "php3" | "php4" | "php5" | "php7" | "phtml" | "pht" | "phar" | "inc" => {
                FileClass::Php
            }
            "jsp" | "jspx" | "jspf" => FileClass::Jsp,
            "aspx" | "asp" | "ashx" | "asmx" | "ascx" | "cshtml" => FileClass::Aspx,
            "js" | "mjs" => FileClass::Js,
            "html" | "htm" | "tpl" | "twig" | "tmpl" | "shtml" => FileClass::Html,
            "jpg" | "jpeg" | "png" | "gif" | "ico" | "bmp" | "webp" | "svg" => FileClass::Image,
            _ => FileClass::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            FileClass::Php => "php",
            FileClass::Jsp => "jsp",
            FileClass::Aspx => "aspx",
            FileClass::Js => "js",
            FileClass::Html => "html",
            FileClass::Image => "image",
            FileClass::Other => "other",
        }
    }
}

#[derive(Debug, Deserialize)]
struct RuleFile {
    rule: Vec<RuleDef>,
}

#[derive(Debug, Deserialize)]
struct RuleDef {
    id: String,
    kind: String,
    severity: String,
    files: Vec<String>,
    #[serde(default)]
    all: Vec<String>,
    #[serde(default)]
    any: Vec<String>,
    #[serde(default)]
    none: Vec<String>,
    #[serde(default)]
    foreign_url: bool,
    #[serde(default)]
    description: String,
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable id.
    pub id: String,
    /// `webshell`, `obfuscation`, `skimmer`, `code-in-image`, `dropper`.
    pub kind: String,
    /// Severity name.
    pub severity: ir110_model::Severity,
    files: Vec<String>,
    all: Vec<Regex>,
    any: Vec<Regex>,
    none: Vec<Regex>,
    /// The file must also name a foreign domain.
    pub foreign_url: bool,
    /// One line for people.
    pub description: String,
}

impl Rule {
    /// Whether the rule applies to a file class.
    pub fn applies_to(&self, class: FileClass) -> bool {
        self.files.iter().any(|f| f == "any" || f == class.name())
    }

    /// Byte offset of the cited match when the rule matches `text`.
    pub fn matches(&self, text: &str) -> Option<usize> {
        if self.none.iter().any(|r| r.is_match(text)) {
            return None;
        }
        let mut at = None;
        for r in &self.all {
            let m = r.find(text)?;
            at.get_or_insert(m.start());
        }
        if !self.any.is_empty() {
            let m = self.any.iter().find_map(|r| r.find(text))?;
            at.get_or_insert(m.start());
        }
        at
    }
}

/// A compiled rule set.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// The rules.
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// Adds the rules of one TOML source; `origin` names it in errors.
    pub fn add_source(&mut self, source: &str, origin: &str) -> Result<(), WebError> {
        let err = |detail: String| WebError::Rule {
            origin: origin.to_owned(),
            detail,
        };
        let file: RuleFile = toml::from_str(source).map_err(|e| err(e.to_string()))?;
        for def in file.rule {
            let compile = |p: &Vec<String>| -> Result<Vec<Regex>, WebError> {
                p.iter()
                    .map(|s| Regex::new(s).map_err(|e| err(format!("{}: {e}", def.id))))
                    .collect()
            };
            if def.all.is_empty() && def.any.is_empty() {
                return Err(err(format!("{}: needs `all` or `any`", def.id)));
            }
            let severity = def
                .severity
                .parse()
                .map_err(|e: ir110_model::ParseEnumError| err(format!("{}: {e}", def.id)))?;
            self.rules.push(Rule {
                all: compile(&def.all)?,
                any: compile(&def.any)?,
                none: compile(&def.none)?,
                id: def.id,
                kind: def.kind,
                severity,
                files: def.files,
                foreign_url: def.foreign_url,
                description: def.description,
            });
        }
        Ok(())
    }

    /// Adds every `*.toml` in a folder (not recursive), in name order.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), WebError> {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| WebError::Io {
                path: dir.to_owned(),
                source: e,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|e| WebError::Io {
                path: p.clone(),
                source: e,
            })?;
            self.add_source(&text, &p.display().to_string())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_rules_compile_or_say_why() {
        let mut set = RuleSet::default();
        set.add_source(
            "[[rule]]\nid='x'\nkind='w'\nseverity='high'\nfiles=['php']\nany=['a']\n",
            "t",
        )
        .unwrap();
        assert_eq!(set.rules.len(), 1);
        assert!(
            RuleSet::default()
                .add_source(
                    "[[rule]]\nid='x'\nkind='w'\nseverity='bad'\nfiles=['php']\nany=['a']\n",
                    "t"
                )
                .is_err()
        );
    }
}
