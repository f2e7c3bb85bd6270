//! The report as Markdown: the skeleton of the written report a responder delivers, easy to
//! paste into a word processor or a ticket and to edit.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ir110_model::{Catalog, Lang, Message, Severity};

use crate::Report;

/// Escapes the characters that would change Markdown structure inside a table cell or line.
fn md(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

/// Renders the report as GitHub-flavoured Markdown.
pub fn render(report: &Report, catalog: &Catalog, tz: Tz) -> String {
    let lang: Lang = report.lang;
    let t = |key: &str| catalog.get(key, lang);
    let time = |at: Option<DateTime<Utc>>| {
        at.map_or_else(
            || "—".to_owned(),
            |at| {
                at.with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S %Z")
                    .to_string()
            },
        )
    };
    let mut s = String::new();
    let _ = writeln!(s, "# {}", t("report.title"));
    let _ = writeln!(s);
    if let Some(c) = &report.case {
        let _ = writeln!(
            s,
            "- {}: {} {}",
            t("report.case"),
            md(&c.reference),
            md(&c.title)
        );
        let _ = writeln!(s, "- {}: {}", t("report.client"), md(&c.client));
        let types: Vec<String> = c
            .types
            .iter()
            .map(|x| t(&format!("incident.{x}")))
            .collect();
        let _ = writeln!(s, "- {}: {}", t("report.incident_types"), types.join(", "));
        let _ = writeln!(
            s,
            "- {}: {}",
            t("report.phase"),
            t(&format!("phase.{}", c.phase))
        );
        if let Some(p) = &c.policy {
            let _ = writeln!(s, "- {}: {}", t("report.policy"), t(&format!("policy.{p}")));
        }
    }
    let inputs: Vec<String> = report
        .run
        .inputs
        .iter()
        .map(|i| format!("`{}`", md(i)))
        .collect();
    let _ = writeln!(s, "- {}: {}", t("report.inputs"), inputs.join(", "));
    let _ = writeln!(
        s,
        "- {}: {}",
        t("report.run"),
        time(Some(report.run.finished_at))
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "## {}", t("report.summary"));
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", md(&report.summary.headline));
    let _ = writeln!(s);
    let counts: Vec<String> = Severity::ALL_DESC
        .iter()
        .map(|sev| {
            let n = report
                .summary
                .findings_by_severity
                .get(sev)
                .copied()
                .unwrap_or(0);
            format!("{} {n}", t(&format!("severity.{sev}")))
        })
        .collect();
    let _ = writeln!(s, "- {}: {}", t("report.findings"), counts.join(" / "));
    let _ = writeln!(
        s,
        "- {}: {} – {}",
        t("report.activity_window"),
        time(report.summary.first_activity),
        time(report.summary.last_activity)
    );
    let _ = writeln!(
        s,
        "- {}: {}",
        t("report.events_total"),
        report.summary.events_total
    );
    let _ = writeln!(s);
    if !report.immediate_actions.is_empty() {
        let _ = writeln!(s, "## {}", t("report.immediate_actions"));
        let _ = writeln!(s);
        for (i, a) in report.immediate_actions.iter().enumerate() {
            let _ = writeln!(s, "{}. **{}**", i + 1, md(&a.text));
            if !a.why.is_empty() {
                let _ = writeln!(s, "   {}", md(&a.why));
            }
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## {} ({})", t("report.findings"), report.findings.len());
    let _ = writeln!(s);
    for f in &report.findings {
        let fd = &f.finding;
        let _ = writeln!(
            s,
            "### [{}] {}",
            t(&format!("severity.{}", fd.severity)),
            md(&f.title_text)
        );
        let _ = writeln!(s);
        if !f.summary_text.is_empty() {
            let _ = writeln!(s, "{}", md(&f.summary_text));
            let _ = writeln!(s);
        }
        let _ = writeln!(
            s,
            "- {}: {}",
            t("report.category"),
            t(&format!("category.{}", fd.category))
        );
        let _ = writeln!(
            s,
            "- {}: {} – {}",
            t("report.seen"),
            time(fd.first_seen),
            time(fd.last_seen)
        );
        if !fd.hosts.is_empty() {
            let _ = writeln!(s, "- {}: {}", t("report.hosts"), md(&fd.hosts.join(", ")));
        }
        if !fd.attack.is_empty() {
            let _ = writeln!(s, "- ATT&CK: {}", fd.attack.join(", "));
        }
        let _ = writeln!(s, "- ID: `{}`", fd.id);
        for a in &f.actions_text {
            let _ = writeln!(s, "- {}: {}", t("report.recommended"), md(a));
        }
        if !fd.evidence.is_empty() {
            let _ = writeln!(s, "- {} ({}):", t("report.evidence"), fd.evidence.len());
        }
        for ev in fd.evidence.iter().take(20) {
            let loc = ev
                .locator
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            let _ = writeln!(s, "  - `{}`{}", md(&ev.path), md(&loc));
        }
        if fd.evidence.len() > 20 {
            let _ = writeln!(s, "  - … {} {}", fd.evidence.len() - 20, t("report.more"));
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## {}", t("report.coverage"));
    let _ = writeln!(s);
    let c = &report.coverage;
    let line = Message::new("report.coverage_line")
        .arg("files", c.files_total)
        .arg("analysed", c.files_analysed)
        .arg("not_analysed", c.not_analysed.len());
    let _ = writeln!(s, "{}", md(&catalog.render(&line, lang)));
    let _ = writeln!(s);
    if !c.not_analysed.is_empty() {
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            t("report.file"),
            t("report.reason"),
            t("report.detail")
        );
        let _ = writeln!(s, "|---|---|---|");
        for p in c.not_analysed.iter().take(200) {
            let _ = writeln!(
                s,
                "| `{}` | {} | {} |",
                md(&p.path),
                t(&format!("problem.{}", p.kind.as_str())),
                md(&p.detail)
            );
        }
        if c.not_analysed.len() > 200 {
            let _ = writeln!(s, "\n… {} {}", c.not_analysed.len() - 200, t("report.more"));
        }
    }
    s
}
