//! `ir110 web scan` and `ir110 web baseline`: defaced or backdoored websites.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use ir110_weblog::{WebOptions, build_baseline, scan};

use crate::context::Context;

/// Websites: webshells, skimmers, attack requests and the first compromise.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// `web` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Scan a webroot and/or access logs (Apache/nginx combined, IIS W3C, gzip too).
    Scan(ScanArgs),
    /// Record the hashes of every file under a webroot, for later `scan --baseline`.
    Baseline(BaselineArgs),
}

/// `web scan` options.
#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// The webroot (document root) to scan; optional when only logs are given.
    pub webroot: Option<PathBuf>,
    /// A manifest from `ir110 web baseline`: list files added, changed and removed since.
    #[arg(long, value_name = "MANIFEST")]
    pub baseline: Option<PathBuf>,
    /// Access log (repeatable; rotated .gz files too).
    #[arg(long = "access-log", value_name = "FILE")]
    pub access_logs: Vec<PathBuf>,
    /// Folder of extra rules (repeatable): YARA files (*.yar, *.yara; run by yara-x with the
    /// built-in rules) and rules in the older TOML format (*.toml). A file that does not
    /// compile is reported as a problem and left out.
    #[arg(long = "rules", value_name = "DIR")]
    pub rule_dirs: Vec<PathBuf>,
    /// The site's own domain (repeatable): scripts may send data there.
    #[arg(long = "site-domain", value_name = "DOMAIN")]
    pub site_domains: Vec<String>,
    /// Print the full result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `web baseline` options.
#[derive(clap::Args, Debug)]
pub struct BaselineArgs {
    /// The webroot.
    pub webroot: PathBuf,
    /// Where to write the manifest (JSON).
    #[arg(short, long, value_name = "MANIFEST")]
    pub output: PathBuf,
}

/// Runs the command.
pub fn run(args: Args, ctx: &Context) -> Result<ExitCode> {
    match args.command {
        Command::Scan(a) => scan_cmd(a, ctx),
        Command::Baseline(a) => {
            let b = build_baseline(&a.webroot)
                .with_context(|| format!("cannot record {}", a.webroot.display()))?;
            b.write(&a.output)?;
            println!(
                "{}: {} ({} files)",
                ctx.t("web.cli.baseline-written"),
                a.output.display(),
                b.files.len()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn scan_cmd(args: ScanArgs, ctx: &Context) -> Result<ExitCode> {
    if args.webroot.is_none() && args.access_logs.is_empty() {
        bail!("give a webroot, --access-log FILE, or both");
    }
    let options = WebOptions {
        rule_dirs: args.rule_dirs,
        site_domains: args.site_domains,
        ..WebOptions::default()
    };
    let spinner = ctx.spinner(&ctx.t("web.cli.files"));
    let report = scan(
        args.webroot.as_deref(),
        args.baseline.as_deref(),
        &args.access_logs,
        options,
    )?;
    spinner.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    if report.findings.is_empty() {
        println!("{}", ctx.t("web.cli.nothing"));
    }
    if !report.first_compromises.is_empty() {
        println!("{}:", ctx.t("web.cli.first-compromise"));
        for c in &report.first_compromises {
            println!("  {}", c.file);
            for (label, r) in [
                ("start  ", &c.attack_start),
                ("created", &c.creating_request),
                ("first  ", &c.first_access),
            ] {
                if let Some(r) = r {
                    println!(
                        "    {label} {} {} {}  ({} {})",
                        r.ts.with_timezone(&ctx.tz).format("%Y-%m-%d %H:%M:%S"),
                        r.client,
                        r.request,
                        r.source.path,
                        r.source.locator.as_deref().unwrap_or("")
                    );
                }
            }
        }
        println!();
    }
    if !report.files.is_empty() {
        println!("{}:", ctx.t("web.cli.files"));
        for f in &report.files {
            let rules: Vec<&str> = f.reasons.iter().map(|r| r.rule.as_str()).collect();
            println!(
                "  [{}] {}  {}",
                ctx.t(&format!("severity.{}", f.severity)),
                f.path,
                rules.join(", ")
            );
        }
        println!();
    }
    if !report.attackers.is_empty() {
        println!("{}:", ctx.t("web.cli.attackers"));
        for a in report.attackers.iter().take(20) {
            let kinds: Vec<String> = a.kinds.iter().map(|(k, n)| format!("{k}×{n}")).collect();
            println!("  {}  {}  {}", a.client, a.attack_requests, kinds.join(" "));
        }
        println!();
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
        for a in &f.actions {
            println!("    -> {}", ctx.render(a));
        }
    }
    for p in &report.problems {
        eprintln!("{}: {} ({})", p.path, p.detail, p.kind.as_str());
    }
    Ok(ExitCode::SUCCESS)
}
