//! The preservation record (保全記録書): a printable, self-contained HTML page built from the
//! manifest and the custody log, in Japanese by default.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, FixedOffset, Utc};
use ir110_model::Lang;

use crate::CATALOG;
use crate::custody::{check_chain, locate, sha256_hex};
use crate::error::EvidenceError;
use crate::manifest::Manifest;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Japanese readers see Japan time with UTC beside it; English readers see UTC.
fn when(t: DateTime<Utc>, lang: Lang) -> String {
    let utc = t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    match lang {
        Lang::Ja => {
            // Japan has no daylight saving time: a fixed +09:00 is exact.
            let jst = FixedOffset::east_opt(9 * 3600)
                .map(|z| {
                    t.with_timezone(&z)
                        .format("%Y年%m月%d日 %H:%M:%S JST")
                        .to_string()
                })
                .unwrap_or_default();
            format!("{jst}（{utc}）")
        }
        _ => utc,
    }
}

/// `1962356752` → `1,962,356,752`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Groups a hex string in blocks of 8 for reading aloud and comparing on paper.
fn grouped(hex: &str) -> String {
    hex.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Renders the preservation record of a directory or archive package.
pub fn preservation_record(package: &Path, lang: Lang) -> Result<String, EvidenceError> {
    let loc = locate(package)?;
    let manifest: Manifest =
        serde_json::from_slice(&loc.manifest).map_err(|source| EvidenceError::Json {
            path: package.join(crate::manifest::names::MANIFEST),
            source,
        })?;
    let (entries, problems) = check_chain(&loc.manifest, &loc.lines());
    let t = |key: &str| esc(&CATALOG.get(&format!("evidence.record.{key}"), lang));
    let dash = "—".to_owned();
    let opt = |v: &Option<String>| v.as_deref().map(esc).unwrap_or_else(|| dash.clone());
    let c = &manifest.counts;
    let mut rows: Vec<(String, String)> = vec![
        (t("case"), esc(&manifest.meta.case)),
        (t("examiner"), esc(&manifest.meta.examiner)),
        (t("witness"), opt(&manifest.meta.witness)),
        (t("place"), opt(&manifest.meta.place)),
        (
            t("source-description"),
            opt(&manifest.meta.source_description),
        ),
        (t("source-root"), esc(&manifest.source.root)),
        (t("source-hostname"), opt(&manifest.source.hostname)),
        (
            t("profile"),
            format!(
                "{} <small>(SHA-256 {})</small>",
                esc(&manifest.source.profile),
                esc(&manifest.source.profile_sha256)
            ),
        ),
        (t("started"), esc(&when(manifest.started_at, lang))),
        (t("finished"), esc(&when(manifest.finished_at, lang))),
        (
            t("tool"),
            format!(
                "{} {}",
                esc(&manifest.tool.name),
                esc(&manifest.tool.version)
            ),
        ),
        (
            t("host"),
            esc(&format!(
                "{} ({} {}{})",
                manifest.host.hostname.as_deref().unwrap_or("?"),
                manifest.host.os,
                manifest.host.arch,
                manifest
                    .host
                    .kernel
                    .as_deref()
                    .map(|k| format!(", {k}"))
                    .unwrap_or_default()
            )),
        ),
        (t("note"), opt(&manifest.meta.note)),
    ];
    if manifest.resumed > 0 {
        rows.push((t("resumed"), manifest.resumed.to_string()));
    }
    let counts = [
        (t("count-listed"), c.listed),
        (t("count-matched"), c.matched),
        (t("count-copied"), c.copied),
        (t("count-failed"), c.failed),
        (t("count-bytes"), c.bytes),
        (t("count-listed-by-targets"), c.listed_by_targets),
    ];
    let mut html = String::new();
    let lang_attr = lang.as_str();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"{lang_attr}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title} — {case}</title>\n<style>\n\
body{{font-family:'Noto Sans JP','Hiragino Sans','Yu Gothic',sans-serif;margin:2em;color:#111;font-size:10.5pt}}\n\
h1{{font-size:18pt;text-align:center;letter-spacing:.3em}}h2{{font-size:12pt;border-bottom:2px solid #333;margin-top:1.6em}}\n\
table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #555;padding:4px 6px;vertical-align:top;text-align:left}}\n\
th{{background:#eee;white-space:nowrap;width:12em}}td.num{{text-align:right}}code{{font-family:monospace;font-size:9.5pt;word-break:break-all}}\n\
.bad{{color:#b00;font-weight:bold}}.sign td{{height:3.5em}}@media print{{body{{margin:0}}h2{{page-break-after:avoid}}}}\n\
</style>\n</head>\n<body>\n<h1>{title}</h1>\n",
        title = t("title"),
        case = esc(&manifest.meta.case),
    );
    let _ = writeln!(html, "<h2>{}</h2>\n<table>", t("section-overview"));
    for (k, v) in &rows {
        let _ = writeln!(html, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    let _ = writeln!(html, "</table>\n<h2>{}</h2>\n<table>", t("section-counts"));
    for (k, v) in &counts {
        let _ = writeln!(
            html,
            "<tr><th>{k}</th><td class=\"num\">{}</td></tr>",
            thousands(*v)
        );
    }
    let _ = writeln!(
        html,
        "</table>\n<h2>{}</h2>\n<table>",
        t("section-integrity")
    );
    let _ = writeln!(
        html,
        "<tr><th>{}</th><td><code>{}</code></td></tr>\n<tr><th>{}</th><td><code>{}</code></td></tr>\n<tr><th>{}</th><td>Ed25519</td></tr>",
        t("manifest-sha256"),
        grouped(&sha256_hex(&loc.manifest)),
        t("key-fingerprint"),
        grouped(&manifest.signer.fingerprint),
        t("signature-algorithm"),
    );
    let _ = writeln!(html, "</table>");
    let failed: Vec<_> = manifest
        .files
        .iter()
        .filter(|f| f.error.is_some() && f.stored.is_none())
        .collect();
    let changed: Vec<_> = manifest
        .files
        .iter()
        .filter(|f| f.error.is_some() && f.stored.is_some())
        .collect();
    if !failed.is_empty() || !manifest.empty_targets.is_empty() {
        let _ = writeln!(html, "<h2>{}</h2>\n<table>", t("section-missing"));
        for f in failed {
            let _ = writeln!(
                html,
                "<tr><th><code>{}</code></th><td>{}</td></tr>",
                esc(&f.path),
                esc(f.error.as_deref().unwrap_or(""))
            );
        }
        if !manifest.empty_targets.is_empty() {
            let _ = writeln!(
                html,
                "<tr><th>{}</th><td>{}</td></tr>",
                t("empty-targets"),
                esc(&manifest.empty_targets.join(", "))
            );
        }
        let _ = writeln!(html, "</table>");
    }
    if !changed.is_empty() {
        let _ = writeln!(html, "<h2>{}</h2>\n<table>", t("section-changed"));
        for f in changed {
            let _ = writeln!(
                html,
                "<tr><th><code>{}</code></th><td>{}</td></tr>",
                esc(&f.path),
                esc(f.error.as_deref().unwrap_or(""))
            );
        }
        let _ = writeln!(html, "</table>");
    }
    let _ = writeln!(
        html,
        "<h2>{}</h2>\n<table>\n<tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("section-custody"),
        t("custody-at"),
        t("custody-action"),
        t("custody-by"),
        t("custody-to"),
        t("custody-place"),
        t("custody-witness"),
        t("custody-note"),
        t("custody-key"),
    );
    for e in &entries {
        let action = CATALOG.get(&format!("evidence.custody.{}", e.action.as_str()), lang);
        let key_fp = hex::decode(&e.key)
            .ok()
            .map(|k| sha256_hex(&k)[..16].to_owned())
            .unwrap_or_default();
        let _ = writeln!(
            html,
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            e.seq,
            esc(&when(e.at, lang)),
            esc(&action),
            esc(&e.by),
            opt(&e.to),
            opt(&e.place),
            opt(&e.witness),
            opt(&e.note),
            key_fp,
        );
    }
    let _ = writeln!(html, "</table>");
    if !problems.is_empty() {
        let _ = writeln!(html, "<p class=\"bad\">{}</p>\n<ul>", t("custody-problems"));
        for p in problems {
            let msg = CATALOG.render(&crate::verify::VerifyFailure::Custody(p).message(), lang);
            let _ = writeln!(html, "<li class=\"bad\">{}</li>", esc(&msg));
        }
        let _ = writeln!(html, "</ul>");
    }
    let _ = writeln!(
        html,
        "<h2>{}</h2>\n<table class=\"sign\">\n<tr><th>{}</th><td></td></tr>\n<tr><th>{}</th><td></td></tr>\n</table>\n<p><small>{}</small></p>\n</body>\n</html>",
        t("section-signatures"),
        t("sign-examiner"),
        t("sign-witness"),
        t("footer"),
    );
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_962_356_752), "1,962,356,752");
        assert_eq!(grouped("0123456789abcdef01"), "01234567 89abcdef 01");
        assert_eq!(
            esc("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
