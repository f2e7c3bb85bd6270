//! `ir110 report`: rebuild a case's report from the case store, in any language and format.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use chrono::Utc;
use ir110_report::{Report, ReportInput, TIMELINE_LIMIT};
use ir110_store::EventQuery;
use ir110_triage::{Coverage, Outcome};

use crate::context::Context;

/// Write the report of a case from what the store holds (all triage runs merged).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Case id or reference.
    #[arg(long, value_name = "ID")]
    pub case: String,
    /// Output folder (default: ./ir110-report-<reference>).
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Formats to write: html, json, md (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "html,json,md")]
    pub format: Vec<Format>,
}

/// Output formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Self-contained HTML.
    Html,
    /// report.json (docs/report.schema.json).
    Json,
    /// Markdown skeleton of the written report.
    Md,
}

/// Runs the command.
pub fn run(args: Args, ctx: &Context) -> Result<ExitCode> {
    let store = ctx.store()?;
    let case = super::resolve_case(ctx, &store, &args.case)?;
    let findings = ctx.block_on(store.list_findings(case.id))?;
    let events =
        ctx.block_on(store.list_events(case.id, &EventQuery::new().limit(TIMELINE_LIMIT as u64)))?;
    let events_total = ctx.block_on(store.count_events(case.id))?;
    let runs = ctx.block_on(store.list_runs(case.id))?;
    let last = runs.last();
    let coverage: Coverage = last
        .and_then(|r| r.run.summary.get("coverage").cloned())
        .and_then(|c| serde_json::from_value(c).ok())
        .unwrap_or_default();
    let inputs: Vec<String> = runs
        .iter()
        .flat_map(|r| r.run.inputs.iter().cloned())
        .collect();
    let outcome = Outcome {
        findings,
        events,
        coverage,
        started_at: runs.first().map_or_else(Utc::now, |r| r.run.started_at),
        finished_at: last.map_or_else(Utc::now, |r| r.run.finished_at),
    };
    let mut report = Report::build(
        &outcome,
        ReportInput {
            tool_version: env!("CARGO_PKG_VERSION"),
            case: Some(&case),
            inputs,
            lang: ctx.lang,
            catalog: &ctx.catalog,
            immediate_actions: super::triage::immediate_actions(ctx, &outcome),
            generated_at: Utc::now(),
        },
    );
    let total = u64::try_from(events_total).unwrap_or(0);
    report.summary.events_total = total;
    report.timeline_omitted = total.saturating_sub(report.timeline.len() as u64);

    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("ir110-report-{}", case.reference)));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    for format in &args.format {
        let (name, body) = match format {
            Format::Html => (
                "report.html",
                ir110_report::html::render(&report, &ctx.catalog, ctx.tz),
            ),
            Format::Json => ("report.json", report.to_json()?),
            Format::Md => (
                "report.md",
                ir110_report::markdown::render(&report, &ctx.catalog, ctx.tz),
            ),
        };
        let path = out.join(name);
        std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
