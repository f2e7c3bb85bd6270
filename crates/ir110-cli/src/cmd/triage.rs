//! `ir110 triage`: evidence in → findings, timeline, report out.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use chrono::Utc;
use ir110_model::{AnalysisContext, Analyzer, Case, Message, Severity};
use ir110_report::{ActionItem, Report, ReportInput};
use ir110_triage::{DiscoverOptions, Outcome, RunOptions};

use crate::context::Context;

/// Analyse evidence and write report.html and report.json.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files or directories to analyse (mounted images, copied folders, logs).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Store findings and timeline in this case of the local case store (id or reference);
    /// with --upload, the server's case number instead (the local store is then not used).
    #[arg(long, value_name = "ID")]
    pub case: Option<String>,
    /// Upload report.json to this case-management server (`ir110 serve`) when done, e.g.
    /// https://ir110.example.jp; needs --case (the server's case number) and an API token.
    #[arg(long, value_name = "URL")]
    pub upload: Option<String>,
    /// API token for --upload (upload scope). Prefer the IR110_TOKEN environment variable,
    /// which keeps the token out of the shell history.
    #[arg(
        long,
        env = "IR110_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Where to write report.html and report.json (default: ./ir110-triage-<time>).
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Host name for evidence that does not name one.
    #[arg(long)]
    pub host: Option<String>,
    /// Print report.json to stdout instead of the text summary.
    #[arg(long)]
    pub json: bool,
    /// Exit with code 1 when a finding of this severity or higher is found
    /// (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse::<Severity>().map_err(|e| e.to_string())
}

/// Runs the command.
pub fn run(args: Args, ctx: &Context) -> Result<ExitCode> {
    // A wrong upload target is reported before the analysis, not after it.
    let upload = match &args.upload {
        Some(url) => Some(UploadTarget::new(
            ctx,
            url,
            args.case.as_deref(),
            args.token.as_deref(),
        )?),
        None => None,
    };
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "ir110-triage-{}",
            Utc::now().format("%Y%m%d-%H%M%S")
        ))
    });
    // With --upload, --case names the server's case: the local store is left alone.
    let local_case = match upload {
        Some(_) => None,
        None => args.case.as_deref(),
    };
    let outcome = triage(
        ctx,
        &args.paths,
        &out,
        local_case,
        args.host.clone(),
        args.json,
    )?;
    if let Some(target) = &upload {
        target.send(ctx, &out.join("report.json"))?;
    }
    Ok(match args.fail_on {
        Some(level) if outcome.findings.iter().any(|f| f.severity >= level) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

/// Discovers, analyses, stores (with a case) and reports; shared with `ir110 demo`.
pub fn triage(
    ctx: &Context,
    paths: &[PathBuf],
    out: &Path,
    case: Option<&str>,
    host: Option<String>,
    json: bool,
) -> Result<Outcome> {
    for p in paths {
        if std::fs::symlink_metadata(p).is_err() {
            anyhow::bail!("{}: {}", p.display(), ctx.t("cli.triage.no_such_path"));
        }
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))?;
    let out_abs = std::fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
    let (store, case) = match case {
        Some(id) => {
            let store = ctx.store()?;
            let case = super::resolve_case(ctx, &store, id)?;
            (Some(store), Some(case))
        }
        None => (None, None),
    };

    let spinner = ctx.spinner(&ctx.t("cli.triage.discovering"));
    let abs_paths: Vec<PathBuf> = paths
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        .collect();
    // Our own output is not evidence: leave it out when it lies inside an input (but not when an
    // input lies inside it, as with `ir110 demo DIR`, whose evidence is DIR/evidence).
    let exclude = if abs_paths.iter().any(|p| p.starts_with(&out_abs)) {
        Vec::new()
    } else {
        vec![out_abs]
    };
    let discovery = ir110_triage::discover(&abs_paths, &DiscoverOptions { exclude });
    spinner.finish_and_clear();

    let analyzers = crate::analyzers::all();
    let refs: Vec<&dyn Analyzer> = analyzers.iter().map(|a| a.as_ref()).collect();
    let total: u64 = discovery.sources.iter().map(|s| s.size).sum();
    let bar = ctx.progress_bar(total, &ctx.t("cli.triage.analysing"));
    let on_progress = |p: ir110_triage::Progress| {
        bar.set_length(p.bytes_total.max(1));
        bar.set_position(p.bytes_done.min(p.bytes_total));
    };
    let options = RunOptions {
        context: AnalysisContext {
            case_reference: case.as_ref().map(|c| c.reference.clone()),
            host,
        },
        on_progress: Some(&on_progress),
    };
    let outcome = ir110_triage::run(discovery, &refs, &options);
    bar.finish_and_clear();

    let inputs: Vec<String> = abs_paths.iter().map(|p| p.display().to_string()).collect();
    let report = Report::build(
        &outcome,
        ReportInput {
            tool_version: env!("CARGO_PKG_VERSION"),
            case: case.as_ref(),
            inputs: inputs.clone(),
            lang: ctx.lang,
            catalog: &ctx.catalog,
            immediate_actions: immediate_actions(ctx, &outcome),
            generated_at: Utc::now(),
        },
    );
    let json_text = report.to_json()?;
    std::fs::write(out.join("report.json"), &json_text)
        .with_context(|| format!("cannot write {}", out.join("report.json").display()))?;
    let html = ir110_report::html::render(&report, &ctx.catalog, ctx.tz);
    std::fs::write(out.join("report.html"), html)
        .with_context(|| format!("cannot write {}", out.join("report.html").display()))?;

    if let (Some(store), Some(case)) = (&store, &case) {
        save(ctx, store, case, &outcome, &inputs, &report)?;
    }
    if json {
        println!("{json_text}");
    } else {
        print!("{}", summary_text(ctx, &report, out));
    }
    Ok(outcome)
}

/// First-aid actions for the most severe kinds of harm found (from the playbook), deduplicated.
pub fn immediate_actions(ctx: &Context, outcome: &Outcome) -> Vec<ActionItem> {
    let mut symptoms = Vec::new();
    for f in outcome
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::High)
    {
        for s in ir110_playbook::symptoms_for_category(f.category) {
            if !symptoms.contains(s) {
                symptoms.push(*s);
            }
        }
    }
    // The most urgent harm leads, whatever order the findings came in: encryption spreads in
    // minutes, an intruder acts in hours, a leak or mail abuse in days.
    symptoms.sort_by_key(|s| urgency(*s));
    let mut actions: Vec<ActionItem> = Vec::new();
    for s in symptoms.iter().take(2) {
        let Ok(guidance) = ir110_playbook::firstaid(*s, ctx.lang) else {
            continue;
        };
        for a in guidance.actions.into_iter().take(5) {
            if !actions.iter().any(|x| x.text == a.action) {
                actions.push(ActionItem {
                    text: a.action,
                    why: a.why,
                });
            }
        }
    }
    actions.truncate(8);
    actions
}

fn urgency(symptom: ir110_playbook::Symptom) -> u8 {
    use ir110_playbook::Symptom as S;
    match symptom {
        S::Ransomware | S::FilesWontOpen | S::UnknownExtension => 0,
        S::Intrusion => 1,
        S::Leak => 2,
        S::Defacement => 3,
        S::Emotet => 4,
        S::AvAlert | S::DriveBy => 5,
    }
}

fn save(
    ctx: &Context,
    store: &ir110_store::Store,
    case: &Case,
    outcome: &Outcome,
    inputs: &[String],
    report: &Report,
) -> Result<()> {
    // The full coverage is kept so that `ir110 report` can rebuild the report from the store.
    let summary = serde_json::json!({
        "findings_by_severity": report.summary.findings_by_severity,
        "findings": report.summary.findings_total,
        "events": report.summary.events_total,
        "coverage": outcome.coverage,
    });
    let run = ir110_store::TriageRun {
        started_at: outcome.started_at,
        finished_at: outcome.finished_at,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        inputs: inputs.to_vec(),
        summary,
    };
    let action = ctx.render(
        &Message::new("cli.triage.logged")
            .arg("findings", outcome.findings.len())
            .arg("events", outcome.events.len())
            .arg("inputs", inputs.join(", ")),
    );
    // Findings, events, the run, its log line and the audit entry commit together.
    let scope = ir110_store::Scope::all();
    ctx.block_on(async {
        let missing = || anyhow::anyhow!("case {} not found", case.id);
        let mut tx = store.begin().await?;
        let summary = tx
            .upsert_findings(&scope, case.id, &outcome.findings)
            .await?
            .ok_or_else(missing)?;
        let stored = tx
            .insert_events(&scope, case.id, &outcome.events)
            .await?
            .ok_or_else(missing)?;
        let record = tx
            .record_run(&scope, case.id, &run)
            .await?
            .ok_or_else(missing)?;
        tx.add_log(
            &scope,
            case.id,
            outcome.finished_at,
            &super::actor(None),
            &action,
        )
        .await?
        .ok_or_else(missing)?;
        let detail = serde_json::json!({
            "run": record.id,
            "inputs": inputs,
            "findings_inserted": summary.inserted,
            "findings_updated": summary.updated,
            "events_stored": stored,
        });
        tx.audit(&super::case::audit_entry("triage.run", case, detail))
            .await?;
        tx.commit().await?;
        anyhow::Ok(())
    })?;
    Ok(())
}

/// Where `--upload` sends report.json: the server's import endpoint of one case, with a token.
struct UploadTarget {
    /// The server as given (for messages).
    server: String,
    /// `<server>/api/cases/<case>/reports`.
    endpoint: String,
    case: i64,
    token: String,
}

impl UploadTarget {
    /// Checks the server address, the case number and the token.
    fn new(ctx: &Context, url: &str, case: Option<&str>, token: Option<&str>) -> Result<Self> {
        let server = url.trim().trim_end_matches('/');
        let host = server
            .strip_prefix("https://")
            .or_else(|| server.strip_prefix("http://"))
            .unwrap_or("");
        if host.is_empty() || host.starts_with('/') || server.contains(['?', '#', ' ']) {
            anyhow::bail!(ctx.render(&Message::new("ui.cli.upload.bad-url").arg("url", url)));
        }
        let case_text = case.unwrap_or("").trim();
        let case: i64 = match case_text.parse() {
            Ok(n) if n > 0 => n,
            _ => anyhow::bail!(
                ctx.render(&Message::new("ui.cli.upload.no-case").arg("case", case_text))
            ),
        };
        let token = token.map(str::trim).unwrap_or("");
        if token.is_empty() {
            anyhow::bail!(ctx.t("ui.cli.upload.no-token"));
        }
        Ok(UploadTarget {
            server: server.to_owned(),
            endpoint: format!("{server}/api/cases/{case}/reports"),
            case,
            token: token.to_owned(),
        })
    }

    /// `POST`s report.json (the server's `/api/cases/{id}/reports`, JSON body, bearer token)
    /// and reports what the server stored; failures say what to do next.
    fn send(&self, ctx: &Context, report: &Path) -> Result<()> {
        let body =
            std::fs::read(report).with_context(|| format!("cannot read {}", report.display()))?;
        let kept = ctx.render(&Message::new("ui.cli.upload.kept").arg("path", report.display()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            // Every status is answered here, with what to do about it.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(15)))
            // A million-event timeline takes the server a while to store.
            .timeout_global(Some(Duration::from_secs(30 * 60)))
            .user_agent(concat!("ir110/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let sent = agent
            .post(&self.endpoint)
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "application/json")
            .send(&body[..]);
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                let msg = Message::new("ui.cli.upload.unreachable")
                    .arg("server", &self.server)
                    .arg("detail", e);
                anyhow::bail!("{}\n{kept}", ctx.render(&msg));
            }
        };
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let failure = match status {
            200..=299 => None,
            401 => Some(Message::new("ui.cli.upload.unauthorized")),
            403 if json["error"] == "nda-required" => {
                Some(Message::new("ui.cli.upload.nda-required"))
            }
            403 => Some(Message::new("ui.cli.upload.forbidden")),
            404 => Some(Message::new("ui.cli.upload.not-found").arg("case", self.case)),
            413 => Some(
                Message::new("ui.cli.upload.rejected")
                    .arg("status", status)
                    .arg(
                        "detail",
                        format!("{} bytes is more than the server accepts", body.len()),
                    ),
            ),
            400..=499 => Some(
                Message::new("ui.cli.upload.rejected")
                    .arg("status", status)
                    .arg("detail", json["message"].as_str().unwrap_or(text.trim())),
            ),
            _ => Some(Message::new("ui.cli.upload.failed").arg("status", status)),
        };
        if let Some(msg) = failure {
            anyhow::bail!("{}\n{kept}", ctx.render(&msg));
        }
        let count = |v: &serde_json::Value| v.as_i64().unwrap_or(0);
        eprintln!(
            "{}",
            ctx.render(
                &Message::new("ui.cli.upload.sent")
                    .arg("case", self.case)
                    .arg("server", &self.server)
                    .arg("findings", count(&json["import"]["findings"]))
                    .arg("inserted", count(&json["findings"]["inserted"]))
                    .arg("updated", count(&json["findings"]["updated"]))
                    .arg("events", count(&json["import"]["events"]))
            )
        );
        Ok(())
    }
}

fn summary_text(ctx: &Context, report: &Report, out: &Path) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "{}", report.summary.headline);
    let counts: Vec<String> = Severity::ALL_DESC
        .iter()
        .map(|sev| {
            format!(
                "{} {}",
                ctx.t(&format!("severity.{sev}")),
                report
                    .summary
                    .findings_by_severity
                    .get(sev)
                    .copied()
                    .unwrap_or(0)
            )
        })
        .collect();
    let _ = writeln!(s, "{}: {}", ctx.t("report.findings"), counts.join(" / "));
    for f in report.findings.iter().take(15) {
        let _ = writeln!(
            s,
            "  [{}] {}",
            ctx.t(&format!("severity.{}", f.finding.severity)),
            f.title_text
        );
    }
    if report.findings.len() > 15 {
        let _ = writeln!(s, "  … {}", report.findings.len() - 15);
    }
    let c = &report.coverage;
    let _ = writeln!(
        s,
        "{}",
        ctx.render(
            &Message::new("report.coverage_line")
                .arg("files", c.files_total)
                .arg("analysed", c.files_analysed)
                .arg("not_analysed", c.not_analysed.len())
        )
    );
    let counts = c.problem_counts();
    if !counts.is_empty() {
        let parts: Vec<String> = counts
            .iter()
            .map(|(k, n)| format!("{} {n}", ctx.t(&format!("problem.{}", k.as_str()))))
            .collect();
        let _ = writeln!(
            s,
            "  {}: {}",
            ctx.t("report.not_analysed"),
            parts.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "{}: {}",
        ctx.t("cli.triage.report"),
        out.join("report.html").display()
    );
    let _ = writeln!(
        s,
        "{}: {}",
        ctx.t("cli.triage.report_json"),
        out.join("report.json").display()
    );
    s
}
