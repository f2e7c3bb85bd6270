//! Scanning one webroot file: rules, blobs, foreign domains, location and timestamps.

use std::path::Path;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

use crate::rules::{FileClass, RuleSet};

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

/// Scans a file's content. `rel` is its path relative to the webroot.
pub(crate) fn scan_content(
    rel: &str,
    bytes: &[u8],
    rules: &RuleSet,
    site_domains: &[String],
) -> (Vec<Reason>, ir110_model::Severity, Vec<String>) {
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
    for rule in rules.rules.iter().filter(|r| r.applies_to(class)) {
        if rule.foreign_url && foreign.is_empty() {
            continue;
        }
        if let Some(at) = rule.matches(&text) {
            reasons.push(Reason {
                rule: rule.id.clone(),
                kind: rule.kind.clone(),
                line: Some(line_of(&text, at)),
            });
            severity = severity.max(rule.severity);
            if rule.foreign_url {
                domains = foreign.clone();
            }
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
            kind: "placement".into(),
            line: None,
        });
        severity = severity.max(severity_of("placement"));
    }
    (reasons, severity, domains)
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
}
