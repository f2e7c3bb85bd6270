//! YARA rules for webroot files, through the `yara-x` engine: our own rules (embedded from
//! `rules/*.yar`) plus user folders of `.yar`/`.yara` files, compiled once into one
//! [`yara_x::Rules`] that every scanning thread shares (one `Scanner` per thread).
//!
//! A user file that does not compile is left out with a [`RuleFileError`] (file, and the
//! compiler's message with line and column) — it never stops the scan. Each user file gets its
//! own namespace, so two files may use the same rule names.

use std::path::Path;

use ir110_model::Severity;
use serde::Serialize;

use crate::rules::FileClass;

/// The YARA rules shipped with ir110: `(file name, source)`.
pub const BUILTIN_YARA_RULES: &[(&str, &str)] = &[
    (
        "php_webshells.yar",
        include_str!("../rules/php_webshells.yar"),
    ),
    (
        "jsp_aspx_webshells.yar",
        include_str!("../rules/jsp_aspx_webshells.yar"),
    ),
    ("js_skimmers.yar", include_str!("../rules/js_skimmers.yar")),
    (
        "code_in_images.yar",
        include_str!("../rules/code_in_images.yar"),
    ),
];

/// At most this many matches are kept per string (a blob of 10,000 `\x41` needs one).
const MAX_MATCHES_PER_STRING: usize = 4;
/// Matched data is quoted up to this many bytes.
const MAX_QUOTED_BYTES: usize = 80;

/// A user rule file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleFileError {
    /// The file.
    pub path: String,
    /// The compiler's diagnostic (with line and column).
    pub detail: String,
}

/// What ir110 knows of one compiled rule, from its meta fields.
#[derive(Debug, Clone)]
struct RuleInfo {
    id: String,
    kind: String,
    severity: Severity,
    files: Vec<FileClass>,
    foreign_url: bool,
}

/// One match of one string of a rule, for findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StringMatch {
    /// The string's identifier (`$eval`).
    pub string: String,
    /// Byte offset in the file.
    pub offset: u64,
    /// Length of the match in bytes.
    pub length: u64,
    /// The matched bytes (lossy UTF-8, at most 80 bytes).
    pub data: String,
}

/// One matching rule in a file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RuleHit {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) severity: Severity,
    pub(crate) foreign_url: bool,
    /// Offset of the first match of the first string that matched (the line cited).
    pub(crate) cite: Option<usize>,
    pub(crate) strings: Vec<StringMatch>,
}

/// Compiled YARA rules with ir110's view of their meta fields.
pub struct YaraRules {
    rules: yara_x::Rules,
    /// By `(namespace, identifier)`, in compilation order (which orders reasons).
    info: rustc_hash::FxHashMap<(String, String), (usize, RuleInfo)>,
    /// User files left out.
    pub errors: Vec<RuleFileError>,
    /// User rule files compiled.
    pub user_files: usize,
}

impl std::fmt::Debug for YaraRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YaraRules")
            .field("rules", &self.info.len())
            .field("errors", &self.errors)
            .finish()
    }
}

fn meta_str(rule: &yara_x::Rule<'_, '_>, key: &str) -> Option<String> {
    rule.metadata().find_map(|(k, v)| match (k == key, v) {
        (true, yara_x::MetaValue::String(s)) => Some(s.to_owned()),
        (true, yara_x::MetaValue::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        (true, yara_x::MetaValue::Integer(i)) => Some(i.to_string()),
        _ => None,
    })
}

fn severity_of_meta(rule: &yara_x::Rule<'_, '_>) -> Severity {
    if let Some(s) = meta_str(rule, "severity").and_then(|s| s.parse().ok()) {
        return s;
    }
    // LOKI/THOR convention: score 80 alert, 60 warning, 40 notice.
    match meta_str(rule, "score").and_then(|s| s.parse::<i64>().ok()) {
        Some(s) if s >= 80 => Severity::Critical,
        Some(s) if s >= 60 => Severity::High,
        Some(s) if s >= 40 => Severity::Medium,
        Some(_) => Severity::Low,
        None => Severity::High,
    }
}

fn class_of_name(name: &str) -> Option<FileClass> {
    Some(match name.trim() {
        "php" => FileClass::Php,
        "jsp" => FileClass::Jsp,
        "aspx" => FileClass::Aspx,
        "js" => FileClass::Js,
        "html" => FileClass::Html,
        "image" => FileClass::Image,
        _ => return None,
    })
}

impl YaraRules {
    /// The built-in rules plus every `.yar`/`.yara` file directly in `user_dirs` (name order).
    /// Built-in rules always compile (a test checks it); a user file that does not is
    /// reported in [`errors`](Self::errors) and left out. An unreadable folder is an error
    /// entry too.
    pub fn load(user_dirs: &[&Path]) -> YaraRules {
        let mut compiler = yara_x::Compiler::new();
        // User rules written for classic YARA may use regex escapes YARA-X rejects by
        // default; this must be set before any source is added. (Our own rules also compile
        // strictly: a test checks it.)
        compiler.relaxed_re_syntax(true);
        let mut errors = Vec::new();
        for (name, src) in BUILTIN_YARA_RULES {
            compiler.new_namespace("ir110");
            if let Err(e) = compiler.add_source(yara_x::SourceCode::from(*src).with_origin(name)) {
                errors.push(RuleFileError {
                    path: format!("builtin:{name}"),
                    detail: e.to_string(),
                });
            }
        }
        let mut user_files = 0;
        let mut namespaces: rustc_hash::FxHashSet<String> =
            std::iter::once("ir110".to_owned()).collect();
        for dir in user_dirs {
            let mut paths: Vec<_> = match std::fs::read_dir(dir) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.extension().is_some_and(|e| {
                            e.eq_ignore_ascii_case("yar") || e.eq_ignore_ascii_case("yara")
                        })
                    })
                    .collect(),
                Err(e) => {
                    errors.push(RuleFileError {
                        path: dir.display().to_string(),
                        detail: e.to_string(),
                    });
                    continue;
                }
            };
            paths.sort();
            for path in paths {
                let display = path.display().to_string();
                let text = match std::fs::read(&path) {
                    Ok(t) => t,
                    Err(e) => {
                        errors.push(RuleFileError {
                            path: display,
                            detail: e.to_string(),
                        });
                        continue;
                    }
                };
                // Validate alone first: a file that fails adds nothing to the real compiler,
                // and its error names it.
                let mut probe = yara_x::Compiler::new();
                probe.relaxed_re_syntax(true);
                let src = || yara_x::SourceCode::from(text.as_slice()).with_origin(&display);
                if let Err(e) = probe.add_source(src()) {
                    errors.push(RuleFileError {
                        path: display,
                        detail: e.to_string(),
                    });
                    continue;
                }
                // The file's stem names its namespace (and the default rule id), made unique.
                let stem = path
                    .file_stem()
                    .map_or_else(|| "user".to_owned(), |s| s.to_string_lossy().into_owned());
                let mut ns = stem.clone();
                let mut k = 1;
                while !namespaces.insert(ns.clone()) {
                    k += 1;
                    ns = format!("{stem}-{k}");
                }
                compiler.new_namespace(&ns);
                match compiler.add_source(src()) {
                    Ok(_) => user_files += 1,
                    Err(e) => errors.push(RuleFileError {
                        path: display,
                        detail: e.to_string(),
                    }),
                }
            }
        }
        let rules = compiler.build();
        let mut info = rustc_hash::FxHashMap::default();
        for (order, rule) in rules.iter().enumerate() {
            let ns = rule.namespace().to_owned();
            let ident = rule.identifier().to_owned();
            let files = meta_str(&rule, "files")
                .map(|f| f.split(',').filter_map(class_of_name).collect::<Vec<_>>())
                .unwrap_or_default();
            let ri = RuleInfo {
                id: meta_str(&rule, "id").unwrap_or_else(|| format!("{ns}.{ident}")),
                kind: meta_str(&rule, "kind").unwrap_or_else(|| "webshell".to_owned()),
                severity: severity_of_meta(&rule),
                files,
                foreign_url: rule
                    .metadata()
                    .any(|(k, v)| k == "foreign_url" && matches!(v, yara_x::MetaValue::Bool(true))),
            };
            info.insert((ns, ident), (order, ri));
        }
        YaraRules {
            rules,
            info,
            errors,
            user_files,
        }
    }

    /// Number of compiled rules.
    pub fn len(&self) -> usize {
        self.info.len()
    }

    /// Whether no rule compiled.
    pub fn is_empty(&self) -> bool {
        self.info.is_empty()
    }

    /// A scanner for one thread.
    pub(crate) fn scanner(&self) -> yara_x::Scanner<'_> {
        let mut s = yara_x::Scanner::new(&self.rules);
        s.set_timeout(std::time::Duration::from_secs(10));
        s
    }

    /// A bare yara-x scanner over these rules (benchmarks compare it with `yara -r`).
    #[doc(hidden)]
    pub fn scanner_for_bench(&self) -> yara_x::Scanner<'_> {
        self.scanner()
    }

    /// The rules matching `bytes` that apply to `class`, in rule order.
    pub(crate) fn scan(
        &self,
        scanner: &mut yara_x::Scanner<'_>,
        bytes: &[u8],
        class: FileClass,
    ) -> Result<Vec<RuleHit>, String> {
        let results = scanner.scan(bytes).map_err(|e| e.to_string())?;
        let mut hits: Vec<(usize, RuleHit)> = Vec::new();
        for rule in results.matching_rules() {
            let key = (rule.namespace().to_owned(), rule.identifier().to_owned());
            let Some((order, info)) = self.info.get(&key) else {
                continue;
            };
            if !info.files.is_empty() && !info.files.contains(&class) {
                continue;
            }
            let mut cite = None;
            let mut strings = Vec::new();
            for pattern in rule.patterns() {
                for m in pattern.matches().take(MAX_MATCHES_PER_STRING) {
                    let r = m.range();
                    cite.get_or_insert(r.start);
                    let data = m.data();
                    strings.push(StringMatch {
                        string: pattern.identifier().to_owned(),
                        offset: r.start as u64,
                        length: r.len() as u64,
                        data: String::from_utf8_lossy(&data[..data.len().min(MAX_QUOTED_BYTES)])
                            .into_owned(),
                    });
                }
            }
            hits.push((
                *order,
                RuleHit {
                    id: info.id.clone(),
                    kind: info.kind.clone(),
                    severity: info.severity,
                    foreign_url: info.foreign_url,
                    cite,
                    strings,
                },
            ));
        }
        hits.sort_by_key(|h| h.0);
        Ok(hits.into_iter().map(|h| h.1).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_compile_with_ids() {
        let rules = YaraRules::load(&[]);
        assert_eq!(rules.errors, []);
        assert_eq!(rules.len(), 19);
        let mut ids: Vec<&str> = rules.info.values().map(|(_, i)| i.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 19, "ids are unique");
        for (name, src) in BUILTIN_YARA_RULES {
            assert!(yara_x::compile(*src).is_ok(), "{name} compiles strictly");
        }
    }

    #[test]
    fn broken_user_file_is_a_diagnostic_and_the_rest_loads() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a_good.yar"),
            "rule marker { strings: $a = \"hacked by\" nocase condition: $a }",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("b_broken.yara"),
            "rule broken { strings: $a = \"x\" condition: $b }",
        )
        .unwrap();
        std::fs::write(dir.path().join("c_notes.txt"), "not a rule").unwrap();
        let rules = YaraRules::load(&[dir.path()]);
        assert_eq!(rules.user_files, 1);
        assert_eq!(rules.len(), 20);
        assert_eq!(rules.errors.len(), 1);
        assert!(rules.errors[0].path.ends_with("b_broken.yara"));
        assert!(
            rules.errors[0].detail.contains("$b"),
            "{}",
            rules.errors[0].detail
        );
        let mut scanner = rules.scanner();
        let hits = rules
            .scan(&mut scanner, b"<h1>Hacked by X</h1>", FileClass::Html)
            .unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].id, "a_good.marker");
        assert_eq!(hits[0].severity, Severity::High);
        assert_eq!(
            hits[0].strings,
            [StringMatch {
                string: "$a".into(),
                offset: 4,
                length: 9,
                data: "Hacked by".into()
            }]
        );
    }
}
