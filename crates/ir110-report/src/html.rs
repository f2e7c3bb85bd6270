//! The self-contained HTML report: inline CSS and SVG, no scripts, no external requests.
//!
//! The page must open from a USB stick on an offline PC at a client's site and print cleanly,
//! so everything is inline and nothing is fetched. Times are shown in the reader's zone.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ir110_model::{Catalog, Lang, Message, Severity};

use crate::Report;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = include_str!("report.css");

/// Renders the report as one HTML document.
pub fn render(report: &Report, catalog: &Catalog, tz: Tz) -> String {
    let page = Page {
        report,
        catalog,
        lang: report.lang,
        tz,
    };
    page.render()
}

struct Page<'a> {
    report: &'a Report,
    catalog: &'a Catalog,
    lang: Lang,
    tz: Tz,
}

impl Page<'_> {
    fn t(&self, key: &str) -> String {
        escape(&self.catalog.get(key, self.lang))
    }

    fn time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz)
            .format("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    }

    fn opt_time(&self, t: Option<DateTime<Utc>>) -> String {
        t.map_or_else(|| "—".to_owned(), |t| self.time(t))
    }

    fn severity(&self, s: Severity) -> String {
        format!(
            "<span class=\"sev sev-{s}\">{}</span>",
            self.t(&format!("severity.{s}"))
        )
    }

    fn render(&self) -> String {
        let r = self.report;
        let mut h = String::with_capacity(64 * 1024);
        let title = match &r.case {
            Some(c) => format!(
                "{} — {} {}",
                self.t("report.title"),
                escape(&c.reference),
                escape(&c.client)
            ),
            None => self.t("report.title"),
        };
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
             <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
            lang = self.lang,
        );
        self.header(&mut h, &title);
        self.summary(&mut h);
        self.actions(&mut h);
        self.findings(&mut h);
        self.timeline(&mut h);
        self.hosts(&mut h);
        self.files(&mut h);
        self.coverage(&mut h);
        let _ = write!(
            h,
            "<footer>{} ir110 {} · schema {} · {}</footer>\n</body>\n</html>\n",
            self.t("report.generated_by"),
            escape(&r.tool_version),
            escape(&r.schema_version),
            self.time(r.generated_at)
        );
        h
    }

    fn header(&self, h: &mut String, title: &str) {
        let r = self.report;
        let _ = write!(h, "<header><h1>{title}</h1><dl class=\"meta\">");
        if let Some(c) = &r.case {
            let types: Vec<String> = c
                .types
                .iter()
                .map(|t| self.t(&format!("incident.{t}")))
                .collect();
            let _ = write!(
                h,
                "<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>",
                self.t("report.case"),
                escape(&format!("{} {}", c.reference, c.title)),
                self.t("report.client"),
                escape(&c.client),
                self.t("report.incident_types"),
                types.join("、"),
                self.t("report.phase"),
                self.t(&format!("phase.{}", c.phase)),
            );
            if let Some(p) = &c.policy {
                let _ = write!(
                    h,
                    "<dt>{}</dt><dd>{}</dd>",
                    self.t("report.policy"),
                    self.t(&format!("policy.{p}"))
                );
            }
        }
        let inputs: Vec<String> = r
            .run
            .inputs
            .iter()
            .map(|i| format!("<code>{}</code>", escape(i)))
            .collect();
        let _ = writeln!(
            h,
            "<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{} – {}</dd></dl></header>",
            self.t("report.inputs"),
            inputs.join(" "),
            self.t("report.run"),
            self.time(r.run.started_at),
            self.time(r.run.finished_at),
        );
    }

    fn summary(&self, h: &mut String) {
        let s = &self.report.summary;
        let _ = write!(
            h,
            "<section id=\"summary\"><h2>{}</h2><p class=\"headline\">{}</p><div class=\"cards\">",
            self.t("report.summary"),
            escape(&s.headline)
        );
        for sev in Severity::ALL_DESC {
            let n = s.findings_by_severity.get(&sev).copied().unwrap_or(0);
            let _ = write!(
                h,
                "<div class=\"card sev-{sev}\"><div class=\"n\">{n}</div><div>{}</div></div>",
                self.t(&format!("severity.{sev}"))
            );
        }
        let _ = writeln!(
            h,
            "</div><dl class=\"meta\"><dt>{}</dt><dd>{} – {}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl></section>",
            self.t("report.activity_window"),
            self.opt_time(s.first_activity),
            self.opt_time(s.last_activity),
            self.t("report.events_total"),
            s.events_total,
            self.t("report.files_examined"),
            self.report.coverage.files_total,
        );
    }

    fn actions(&self, h: &mut String) {
        let actions = &self.report.immediate_actions;
        if actions.is_empty() {
            return;
        }
        let _ = write!(
            h,
            "<section id=\"actions\"><h2>{}</h2><ol class=\"actions\">",
            self.t("report.immediate_actions")
        );
        for a in actions {
            let _ = write!(h, "<li><strong>{}</strong>", escape(&a.text));
            if !a.why.is_empty() {
                let _ = write!(h, "<div class=\"why\">{}</div>", escape(&a.why));
            }
            h.push_str("</li>");
        }
        h.push_str("</ol></section>\n");
    }

    fn findings(&self, h: &mut String) {
        let r = self.report;
        let _ = write!(
            h,
            "<section id=\"findings\"><h2>{} ({})</h2>",
            self.t("report.findings"),
            r.findings.len()
        );
        if r.findings.is_empty() {
            let _ = write!(h, "<p>{}</p>", self.t("report.no_findings"));
        }
        for f in &r.findings {
            let fd = &f.finding;
            let _ = write!(
                h,
                "<article class=\"finding sev-{sev}\" id=\"{id}\"><h3>{badge} {title}</h3>",
                sev = fd.severity,
                id = escape(&fd.id),
                badge = self.severity(fd.severity),
                title = escape(&f.title_text)
            );
            if !f.summary_text.is_empty() {
                let _ = write!(h, "<p>{}</p>", escape(&f.summary_text));
            }
            let _ = write!(
                h,
                "<dl class=\"meta\"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{} – {}</dd><dt>{}</dt><dd>{}</dd>",
                self.t("report.category"),
                self.t(&format!("category.{}", fd.category)),
                self.t("report.seen"),
                self.opt_time(fd.first_seen),
                self.opt_time(fd.last_seen),
                self.t("report.confidence"),
                self.t(&format!(
                    "report.confidence.{}",
                    confidence_name(fd.confidence)
                )),
            );
            if !fd.hosts.is_empty() {
                let _ = write!(
                    h,
                    "<dt>{}</dt><dd>{}</dd>",
                    self.t("report.hosts"),
                    escape(&fd.hosts.join(", "))
                );
            }
            if !fd.attack.is_empty() {
                let _ = write!(
                    h,
                    "<dt>ATT&amp;CK</dt><dd>{}</dd>",
                    escape(&fd.attack.join(", "))
                );
            }
            let _ = write!(
                h,
                "<dt>ID</dt><dd><code>{}</code></dd></dl>",
                escape(&fd.id)
            );
            if !f.actions_text.is_empty() {
                let _ = write!(h, "<h4>{}</h4><ul>", self.t("report.recommended"));
                for a in &f.actions_text {
                    let _ = write!(h, "<li>{}</li>", escape(a));
                }
                h.push_str("</ul>");
            }
            if !fd.evidence.is_empty() {
                let _ = write!(
                    h,
                    "<details><summary>{} ({})</summary><ul class=\"evidence\">",
                    self.t("report.evidence"),
                    fd.evidence.len()
                );
                for ev in fd.evidence.iter().take(200) {
                    let _ = write!(h, "<li><code>{}</code>", escape(&ev.path));
                    if let Some(loc) = &ev.locator {
                        let _ = write!(h, " <span class=\"loc\">{}</span>", escape(loc));
                    }
                    if let Some(sha) = &ev.sha256 {
                        let _ = write!(h, " <span class=\"hash\">sha256:{}</span>", escape(sha));
                    }
                    h.push_str("</li>");
                }
                if fd.evidence.len() > 200 {
                    let _ = write!(
                        h,
                        "<li>… {} {}</li>",
                        fd.evidence.len() - 200,
                        self.t("report.more")
                    );
                }
                h.push_str("</ul></details>");
            }
            h.push_str("</article>\n");
        }
        h.push_str("</section>\n");
    }

    fn timeline(&self, h: &mut String) {
        let r = self.report;
        let _ = write!(
            h,
            "<section id=\"timeline\"><h2>{}</h2>",
            self.t("report.timeline")
        );
        h.push_str(&timeline_svg(r, self.tz));
        if r.timeline.is_empty() {
            let _ = writeln!(h, "<p>{}</p></section>", self.t("report.no_events"));
            return;
        }
        let _ = write!(
            h,
            "<details open><summary>{} ({})</summary><table class=\"events\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            self.t("report.events"),
            r.summary.events_total,
            self.t("report.time"),
            self.t("report.host"),
            self.t("report.kind"),
            self.t("report.description"),
            self.t("report.source"),
        );
        for e in r.timeline.iter().take(1_000) {
            let src = match &e.source.locator {
                Some(l) => format!("{} ({l})", e.source.path),
                None => e.source.path.clone(),
            };
            let _ = write!(
                h,
                "<tr><td class=\"t\">{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"src\">{}</td></tr>",
                self.time(e.timestamp),
                escape(e.host.as_deref().unwrap_or("")),
                escape(&e.kind),
                escape(&e.message),
                escape(&src),
            );
        }
        h.push_str("</tbody></table>");
        let shown = r.timeline.len().min(1_000) as u64;
        if r.summary.events_total > shown {
            let m = Message::new("report.events_omitted").arg("n", r.summary.events_total - shown);
            let _ = write!(
                h,
                "<p class=\"note\">{}</p>",
                escape(&self.catalog.render(&m, self.lang))
            );
        }
        h.push_str("</details></section>\n");
    }

    fn hosts(&self, h: &mut String) {
        let r = self.report;
        if r.hosts.is_empty() {
            return;
        }
        let _ = write!(
            h,
            "<section id=\"hosts\"><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            self.t("report.affected_hosts"),
            self.t("report.host"),
            self.t("report.max_severity"),
            self.t("report.findings"),
            self.t("report.events"),
            self.t("report.seen"),
        );
        for host in &r.hosts {
            let sev = host
                .max_severity
                .map(|s| self.severity(s))
                .unwrap_or_default();
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{sev}</td><td>{}</td><td>{}</td><td>{} – {}</td></tr>",
                escape(&host.name),
                host.findings,
                host.events,
                self.opt_time(host.first_seen),
                self.opt_time(host.last_seen)
            );
        }
        h.push_str("</tbody></table></section>\n");
    }

    fn files(&self, h: &mut String) {
        let r = self.report;
        if r.files.is_empty() {
            return;
        }
        let _ = write!(
            h,
            "<section id=\"files\"><h2>{} ({})</h2><details><summary>{}</summary><table><thead><tr><th>{}</th><th>SHA-256</th><th>{}</th></tr></thead><tbody>",
            self.t("report.affected_files"),
            r.files.len(),
            self.t("report.show"),
            self.t("report.file"),
            self.t("report.findings"),
        );
        for f in r.files.iter().take(2_000) {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td class=\"hash\">{}</td><td>{}</td></tr>",
                escape(&f.path),
                escape(f.sha256.as_deref().unwrap_or("")),
                f.findings
                    .iter()
                    .map(|id| format!("<a href=\"#{0}\">{0}</a>", escape(id)))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        h.push_str("</tbody></table></details></section>\n");
    }

    fn coverage(&self, h: &mut String) {
        let c = &self.report.coverage;
        let _ = write!(
            h,
            "<section id=\"coverage\"><h2>{}</h2><p>{}</p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            self.t("report.coverage"),
            escape(
                &self.catalog.render(
                    &Message::new("report.coverage_line")
                        .arg("files", c.files_total)
                        .arg("analysed", c.files_analysed)
                        .arg("not_analysed", c.not_analysed.len()),
                    self.lang
                )
            ),
            self.t("report.content_kind"),
            self.t("report.files"),
            self.t("report.bytes"),
        );
        for (kind, n) in &c.by_kind {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(kind),
                n.files,
                n.bytes
            );
        }
        h.push_str("</tbody></table>");
        if !c.by_analyzer.is_empty() {
            let _ = write!(
                h,
                "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
                self.t("report.analyzer"),
                self.t("report.files"),
                self.t("report.bytes"),
                self.t("report.problems"),
            );
            for (name, a) in &c.by_analyzer {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(name),
                    a.files,
                    a.bytes,
                    a.problems
                );
            }
            h.push_str("</tbody></table>");
        }
        if !c.not_analysed.is_empty() {
            let counts: Vec<String> = c
                .problem_counts()
                .iter()
                .map(|(kind, n)| format!("{} {n}", self.t(&format!("problem.{}", kind.as_str()))))
                .collect();
            // A long list is folded so that the report stays readable; the counts stay visible.
            let open = if c.not_analysed.len() <= 20 {
                " open"
            } else {
                ""
            };
            let _ = write!(
                h,
                "<h3>{} ({})</h3><p>{}</p><details{open}><summary>{}</summary><table class=\"problems\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
                self.t("report.not_analysed"),
                c.not_analysed.len(),
                escape(&counts.join(" / ")),
                self.t("report.show"),
                self.t("report.file"),
                self.t("report.reason"),
                self.t("report.analyzer"),
                self.t("report.detail"),
            );
            for p in c.not_analysed.iter().take(5_000) {
                let _ = write!(
                    h,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&p.path),
                    self.t(&format!("problem.{}", p.kind.as_str())),
                    escape(p.analyzer.as_deref().unwrap_or("triage")),
                    escape(&p.detail)
                );
            }
            h.push_str("</tbody></table></details>");
        }
        h.push_str("</section>\n");
    }
}

fn confidence_name(c: ir110_model::Confidence) -> &'static str {
    match c {
        ir110_model::Confidence::Low => "low",
        ir110_model::Confidence::Medium => "medium",
        ir110_model::Confidence::High => "high",
    }
}

/// Colours for severities, shared by CSS classes and the SVG.
fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#b0002a",
        Severity::High => "#e0561b",
        Severity::Medium => "#d9a400",
        Severity::Low => "#3f7fbf",
        Severity::Info => "#7a8793",
    }
}

/// An SVG chart: events per time bucket as bars, findings as severity-coloured markers at
/// their first-seen time. Width is fixed; the browser scales it.
fn timeline_svg(report: &Report, tz: Tz) -> String {
    const W: f64 = 960.0;
    const H: f64 = 200.0;
    const LEFT: f64 = 40.0;
    const BOTTOM: f64 = 30.0;
    const BINS: usize = 96;
    let (Some(lo), Some(hi)) = (report.summary.first_activity, report.summary.last_activity) else {
        return String::new();
    };
    let span = (hi - lo).num_milliseconds().max(1) as f64;
    let x_of =
        |t: DateTime<Utc>| LEFT + (W - LEFT - 10.0) * ((t - lo).num_milliseconds() as f64 / span);
    let mut bins = [0u64; BINS];
    for e in &report.timeline {
        let pos =
            ((e.timestamp - lo).num_milliseconds() as f64 / span * (BINS as f64 - 1.0)).round();
        bins[(pos.max(0.0) as usize).min(BINS - 1)] += 1;
    }
    let max = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let plot_h = H - BOTTOM - 30.0;
    let bin_w = (W - LEFT - 10.0) / BINS as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\
         <line x1=\"{LEFT}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#888\"/>",
        y0 = H - BOTTOM,
        x1 = W - 10.0
    );
    for (i, n) in bins.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let bh = (*n as f64 / max) * plot_h;
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#5b7fa6\"><title>{n}</title></rect>",
            LEFT + i as f64 * bin_w,
            H - BOTTOM - bh,
            (bin_w - 1.0).max(1.0),
            bh
        );
    }
    for f in &report.findings {
        if let Some(t) = f.finding.first_seen {
            let x = x_of(t);
            let _ = write!(
                s,
                "<path d=\"M{x:.1} 8 l6 10 h-12 z\" fill=\"{}\"><title>{}</title></path>",
                severity_colour(f.finding.severity),
                escape(&f.title_text)
            );
        }
    }
    let _ = write!(
        s,
        "<text x=\"{LEFT}\" y=\"{}\" font-size=\"11\">{}</text>",
        H - 10.0,
        lo.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z")
    );
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
        W - 10.0,
        H - 10.0,
        hi.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z")
    );
    let _ = write!(
        s,
        "<text x=\"4\" y=\"{}\" font-size=\"11\">{}</text></svg>",
        H - BOTTOM - plot_h + 4.0,
        max as u64
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
