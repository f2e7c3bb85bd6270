//! `ir110`: incident rescue from the first phone call to the final report.
//!
//! The binary is a thin shell: it parses arguments, resolves configuration once into a
//! [`Context`], and calls the libraries. Every subcommand lives in its own file under `cmd/`.

mod analyzers;
mod cmd;
mod context;
mod demo;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::context::{Context, GlobalArgs};

/// Incident rescue toolkit: first aid, evidence, triage, hunting, ransomware, reports.
#[derive(Parser)]
#[command(
    name = "ir110",
    version,
    about = "Incident rescue toolkit: first aid, case store, evidence preservation, triage, hunting, reports (ja/en). Everything runs offline.",
    propagate_version = true
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// What to do in the next 10 minutes, for a symptom (ja/en).
    Firstaid(cmd::firstaid::Args),
    /// Open, list, show and update cases in the case store.
    Case(cmd::case::Args),
    /// Preserve evidence (証拠保全): copy and hash, signed manifest, custody log.
    Collect(cmd::evidence::CollectArgs),
    /// Check an evidence package: every hash, the manifest signature, the custody chain.
    Verify(cmd::evidence::VerifyArgs),
    /// Chain of custody of an evidence package: add, show, preservation record (保全記録書).
    Custody(cmd::evidence::CustodyArgs),
    /// The examiner's Ed25519 signing key.
    Key(cmd::evidence::KeyArgs),
    /// Analyse evidence: findings, timeline, report.html and report.json.
    Triage(cmd::triage::Args),
    /// Hunt Windows event logs with Sigma rules and built-in analytics.
    Hunt(cmd::hunt::Args),
    /// Ransomware damage: which files are encrypted and how, family, decryptors, restore check.
    Ransomware(cmd::ransomware::Args),
    /// Website compromise: webshells, skimmers, tampered files, attack requests, first compromise.
    Web(cmd::web::Args),
    /// Mail server logs: is an account being used to send, or are we only spoofed?
    Mail(cmd::mail::Args),
    /// Network logs: beacons (C2) and large transfers (exfiltration).
    Net(cmd::net::Args),
    /// Generate a realistic sample incident, then triage it.
    Demo(cmd::demo::Args),
    /// Rebuild a case's report from the case store (html, json, md; ja or en).
    Report(cmd::report::Args),
    /// Run the case-management server (browser UI and JSON API) on 127.0.0.1:8110.
    Serve(cmd::serve::Args),
    /// Manage accounts of the case-management server.
    User(cmd::user::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = match Context::new(&cli.global) {
        Ok(ctx) => ctx,
        Err(err) => return report_error(&err),
    };
    let result = match cli.command {
        Command::Firstaid(args) => cmd::firstaid::run(args, &ctx),
        Command::Case(args) => cmd::case::run(args, &ctx),
        Command::Collect(args) => cmd::evidence::run_collect(args, &ctx),
        Command::Verify(args) => cmd::evidence::run_verify(args, &ctx),
        Command::Custody(args) => cmd::evidence::run_custody(args, &ctx),
        Command::Key(args) => cmd::evidence::run_key(args, &ctx),
        Command::Hunt(args) => cmd::hunt::run(args, &ctx),
        Command::Ransomware(args) => cmd::ransomware::run(args, &ctx),
        Command::Web(args) => cmd::web::run(args, &ctx),
        Command::Mail(args) => cmd::mail::run(args, &ctx),
        Command::Net(args) => cmd::net::run(args, &ctx),
        Command::Triage(args) => cmd::triage::run(args, &ctx),
        Command::Demo(args) => cmd::demo::run(args, &ctx),
        Command::Report(args) => cmd::report::run(args, &ctx),
        Command::Serve(args) => cmd::serve::run(args, &ctx),
        Command::User(args) => cmd::user::run(args, &ctx),
    };
    match result {
        Ok(code) => code,
        Err(err) => report_error(&err),
    }
}

/// Prints an error with its causes; exit code 2 (1 is reserved for `--fail-on` style verdicts).
fn report_error(err: &anyhow::Error) -> ExitCode {
    eprintln!("ir110: error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    ExitCode::from(2)
}
