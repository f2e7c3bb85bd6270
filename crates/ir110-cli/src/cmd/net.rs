//! `ir110 net analyze`: long-lived C2 beacons and outbound transfers in flow logs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use ir110_netflow::{CsvMapping, NetOptions, analyze_paths};

use crate::context::Context;

/// Network logs: beacons (C2) and data leaving the network.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// `net` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Rank (source, destination, port) pairs by beacon score and find unusual uploads in Zeek
    /// conn.log (TSV/JSON), FortiGate, PAN-OS, Squid or CSV flow logs (plain or gzip).
    Analyze(AnalyzeArgs),
}

/// `net analyze` options.
#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// Log files, in any order (rotated .gz files too).
    #[arg(required = true)]
    pub logs: Vec<PathBuf>,
    /// MaxMind-format country database (GeoLite2, DB-IP Lite, …) for destination countries.
    /// Never downloaded: supply your own.
    #[arg(long, value_name = "DB.mmdb")]
    pub geoip: Option<PathBuf>,
    /// Column mapping for CSV exports: ts=COL,src=COL,dst=COL[,dport=COL][,out=COL][,in=COL][,duration=COL].
    #[arg(long, value_name = "MAPPING")]
    pub map: Option<String>,
    /// UTC offset in hours of device times logged without a zone (FortiGate, PAN-OS).
    #[arg(long, default_value_t = 9.0, allow_negative_numbers = true)]
    pub utc_offset: f64,
    /// The organisation's country (ISO code); other destinations are flagged foreign.
    #[arg(long, default_value = "JP")]
    pub home_country: String,
    /// How many ranked pairs to show.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Print the full result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args, ctx: &Context) -> Result<ExitCode> {
    match args.command {
        Command::Analyze(a) => analyze(a, ctx),
    }
}

fn analyze(args: AnalyzeArgs, ctx: &Context) -> Result<ExitCode> {
    let mapping = args
        .map
        .as_deref()
        .map(str::parse::<CsvMapping>)
        .transpose()?;
    let options = NetOptions {
        mapping,
        local_utc_offset_secs: (args.utc_offset * 3600.0).round() as i32,
        home_country: args.home_country.to_ascii_uppercase(),
        top: args.top.max(100),
        ..NetOptions::default()
    };
    let total: u64 = args
        .logs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = ctx.progress_bar(total, &ctx.t("netflow.cli.reading"));
    let report = analyze_paths(&args.logs, options, args.geoip.as_deref(), &|n| bar.inc(n))
        .context("network analysis failed")?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    for f in &report.files {
        println!(
            "{}  {}  {} {}",
            f.source.path,
            f.format.map_or("?", |x| x.as_str()),
            f.records,
            ctx.t("netflow.cli.records")
        );
    }
    if let Some(db) = &report.geoip {
        println!("GeoIP: {db}");
    }
    println!();
    println!("{}", ctx.t("netflow.cli.ranking"));
    for p in report.beacons.iter().take(args.top) {
        println!(
            "{:>3}  {:.3}  {} -> {}:{}  n={}  {}={}  {}={}/{}  {}",
            p.rank,
            p.scores.score,
            p.src,
            p.dst,
            p.dst_port,
            p.connections,
            ctx.t("netflow.cli.period"),
            human(p.scores.median_interval_secs),
            ctx.t("netflow.cli.days-months"),
            p.scores.active_days,
            p.scores.active_months,
            p.country.as_deref().unwrap_or("-"),
        );
    }
    println!();
    if report.findings.is_empty() {
        println!("{}", ctx.t("netflow.cli.no-findings"));
    }
    for f in &report.findings {
        println!(
            "[{}] {}",
            ctx.t(&format!("severity.{}", f.severity)),
            ctx.render(&f.title)
        );
        if let Some(s) = &f.summary {
            println!("    {}", ctx.render(s));
        }
        for e in &f.evidence {
            println!("    {} {}", e.path, e.locator.as_deref().unwrap_or(""));
        }
        for a in &f.actions {
            println!("    -> {}", ctx.render(a));
        }
    }
    for p in &report.problems {
        eprintln!("{}: {} ({})", p.path, p.detail, p.kind.as_str());
    }
    Ok(ExitCode::SUCCESS)
}

fn human(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        86_400.. => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
        3600.. => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        60.. => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{s}s"),
    }
}
