//! `ir110 hunt`: Sigma rules and the built-in IR analytics over Windows event logs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use ir110_eventlog::{HuntOptions, HuntReport, ReadOptions, hunt};
use ir110_model::{Message, Severity};
use ir110_sigma::{DiagnosticSeverity, LoadOptions};

use crate::context::Context;

/// Hunt through Windows event logs (.evtx, evtx_dump/Velociraptor/Winlogbeat JSON) with Sigma
/// rules: detections, a time-sorted timeline, summaries, and the built-in analytics (brute
/// force, external logons, lateral movement, services, tasks, cleared logs, Defender,
/// PowerShell).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Event-log files or directories.
    #[arg(value_name = "PATH", required_unless_present = "check_rules")]
    pub paths: Vec<PathBuf>,
    /// Sigma rule file or directory (repeatable). Default: ir110's built-in rules.
    #[arg(long, value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Ignore rules below this level: informational, low, medium, high, critical.
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub min_level: Option<Severity>,
    /// Write the time-sorted timeline of detections: CSV if the name ends in .csv, else JSON lines.
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
    /// Write the whole result (summaries, correlations, findings, problems) as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write one JSON object per detection, sorted by time.
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// Only load the rules in DIR and list every problem (exit 1 if a rule does not load).
    #[arg(long, value_name = "DIR")]
    pub check_rules: Option<PathBuf>,
    /// Store the findings in this case (id or reference).
    #[arg(long, value_name = "ID")]
    pub case: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Also carve stale records from unallocated EVTX space (cleared or overwritten logs).
    #[arg(long)]
    pub recover_records: bool,
    /// Skip the built-in analytics; rules only.
    #[arg(long)]
    pub no_analytics: bool,
    /// How many rules and hosts to list.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
}

fn parse_level(s: &str) -> Result<Severity, String> {
    s.parse::<Severity>().map_err(|e| e.to_string())
}

/// Runs the command.
pub fn run(args: Args, ctx: &Context) -> Result<ExitCode> {
    if let Some(dir) = &args.check_rules {
        return check_rules(dir, args.min_level, ctx);
    }
    let case = match &args.case {
        Some(id) => {
            let store = ctx.store()?;
            let case = super::resolve_case(ctx, &store, id)?;
            Some((store, case))
        }
        None => None,
    };
    let mut read = ReadOptions {
        recover_records: args.recover_records,
        ..ReadOptions::default()
    };
    if let Some(n) = args.threads {
        read.threads = n.max(1);
    }
    let options = HuntOptions {
        rules: args.rules.clone(),
        min_level: args.min_level,
        read,
        jsonl: args.jsonl.clone(),
        timeline: args.timeline.clone(),
        analytics: !args.no_analytics,
        ..HuntOptions::default()
    };
    let total: u64 = ir110_eventlog::discover(&args.paths)
        .0
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = ctx.progress_bar(total, &ctx.t("hunt.cli.reading"));
    let report = hunt(&args.paths, &options, &|n| bar.inc(n)).context("hunt failed")?;
    bar.finish_and_clear();

    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text).with_context(|| path.display().to_string())?;
    }
    print_report(ctx, &report, args.top);
    if let Some((store, case)) = &case {
        let findings = report.all_findings();
        ctx.block_on(store.upsert_findings(case.id, &findings))?;
        let action = ctx.render(
            &Message::new("hunt.cli.logged")
                .arg("findings", findings.len())
                .arg("detections", report.detections)
                .arg(
                    "inputs",
                    args.paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
        );
        ctx.block_on(super::case::log_audited(
            store,
            case,
            &super::actor(None),
            &action,
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(ctx: &Context, r: &HuntReport, top: usize) {
    println!(
        "{}",
        ctx.render(
            &Message::new("hunt.cli.summary")
                .arg("files", r.files)
                .arg("mib", format!("{:.1}", r.bytes as f64 / 1_048_576.0))
                .arg("records", r.records)
                .arg("detections", r.detections)
                .arg("secs", format!("{:.1}", r.elapsed_secs))
        )
    );
    println!(
        "{}",
        ctx.render(
            &Message::new(if r.builtin_rules {
                "hunt.cli.rules-builtin"
            } else {
                "hunt.cli.rules"
            })
            .arg("rules", r.rule_counts.rules)
            .arg("correlations", r.rule_counts.correlations)
            .arg("rejected", r.rule_counts.rejected)
        )
    );
    if !r.by_level.is_empty() {
        let levels: Vec<String> = ["critical", "high", "medium", "low", "informational"]
            .iter()
            .filter_map(|l| r.by_level.get(*l).map(|n| format!("{l} {n}")))
            .collect();
        println!("{}", levels.join("  "));
    }
    if !r.by_rule.is_empty() {
        println!();
        println!("{}", ctx.t("hunt.cli.by-rule"));
        for rc in r.by_rule.iter().take(top) {
            println!("{:>7}  {:<13} {}", rc.count, rc.level, rc.title);
        }
        if r.by_rule.len() > top {
            println!("    … +{}", r.by_rule.len() - top);
        }
        println!();
        println!("{}", ctx.t("hunt.cli.by-host"));
        for (host, n) in r.by_host.iter().take(top) {
            println!("{n:>7}  {host}");
        }
    }
    if !r.correlations.is_empty() {
        println!();
        println!("{}", ctx.t("hunt.cli.correlations"));
        for c in &r.correlations {
            let group: Vec<String> = c.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!(
                "{:>7}  {:<13} {}  [{}]  {} – {}",
                c.count,
                c.level,
                c.title,
                group.join(" "),
                c.first,
                c.last
            );
        }
    }
    if !r.findings.is_empty() {
        println!();
        println!("{}", ctx.t("hunt.cli.findings"));
        for f in &r.findings {
            println!(
                "[{}] {}",
                ctx.t(&format!("severity.{}", f.severity)),
                ctx.render(&f.title)
            );
            if let Some(s) = &f.summary {
                println!("    {}", ctx.render(s));
            }
            for a in f.actions.iter().take(3) {
                println!("    -> {}", ctx.render(a));
            }
        }
    }
    // Pointing hunt at a whole evidence folder is normal: other files are counted, not listed.
    let mut not_logs = 0;
    for p in &r.problems {
        if p.kind == ir110_model::ProblemKind::Unsupported {
            not_logs += 1;
            continue;
        }
        eprintln!(
            "{}: {} ({})",
            p.path,
            p.detail,
            ctx.t(&format!("problem.{}", p.kind.as_str()))
        );
    }
    if not_logs > 0 {
        eprintln!(
            "{}",
            ctx.render(&Message::new("hunt.cli.not-event-logs").arg("count", not_logs))
        );
    }
    let errors = r
        .rule_diagnostics
        .iter()
        .filter(|d| d.severity == DiagnosticSeverity::Error)
        .count();
    if errors > 0 {
        eprintln!(
            "{}",
            ctx.render(&Message::new("hunt.cli.rule-errors").arg("count", errors))
        );
    }
}

fn check_rules(dir: &PathBuf, min_level: Option<Severity>, ctx: &Context) -> Result<ExitCode> {
    let opts = LoadOptions {
        min_level,
        ..LoadOptions::default()
    };
    let (diagnostics, counts) = ir110_sigma::check_rules(std::slice::from_ref(dir), &opts);
    for d in &diagnostics {
        let at = d
            .location
            .as_ref()
            .map(|l| format!(":{}", l.line))
            .unwrap_or_default();
        println!(
            "{}{at}: {} {}: {}",
            d.path.display(),
            if d.severity == DiagnosticSeverity::Error {
                "error"
            } else {
                "warning"
            },
            d.code.as_str(),
            ctx.render(&d.message)
        );
    }
    println!(
        "{}",
        ctx.render(
            &Message::new("hunt.cli.check-summary")
                .arg("files", counts.files)
                .arg("rules", counts.rules)
                .arg("correlations", counts.correlations)
                .arg("rejected", counts.rejected)
        )
    );
    Ok(if counts.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
