//! `ir110 mail analyze`: is an account of ours sending, or are our addresses spoofed elsewhere?

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use ir110_mail::{MailOptions, MailVerdict, analyze_paths};

use crate::context::Context;

/// Mail logs: account abuse (Emotet and the like) versus spoofing elsewhere.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// `mail` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Analyse Postfix/sendmail syslog or Exchange message-tracking logs (plain or gzip).
    Analyze(AnalyzeArgs),
}

/// `mail analyze` options.
#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// Log files (maillog, mail.log*, MSGTRK*.LOG), in time order when possible.
    #[arg(required = true)]
    pub logs: Vec<PathBuf>,
    /// Message-ID of a mail correspondents received "from us" (repeatable): is it in our logs?
    #[arg(long = "message-id", value_name = "ID")]
    pub message_ids: Vec<String>,
    /// Year of the first syslog line (BSD syslog has none); default: the file's year.
    #[arg(long)]
    pub year: Option<i32>,
    /// UTC offset in hours of syslog times.
    #[arg(long, default_value_t = 9.0, allow_negative_numbers = true)]
    pub utc_offset: f64,
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
    let options = MailOptions {
        year: args.year,
        local_utc_offset_secs: (args.utc_offset * 3600.0).round() as i32,
        reported_message_ids: args.message_ids,
        ..MailOptions::default()
    };
    let spinner = ctx.spinner(&ctx.t("mail.cli.verdict"));
    let report = analyze_paths(&args.logs, options);
    spinner.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let verdict_key = match report.verdict {
        MailVerdict::AccountAbused => "mail.verdict.account-abused",
        MailVerdict::SpoofedElsewhere => "mail.verdict.spoofed-elsewhere",
        MailVerdict::Both => "mail.verdict.both",
        MailVerdict::NoAbuseSeen => "mail.verdict.no-abuse-seen",
    };
    println!("{}: {}", ctx.t("mail.cli.verdict"), ctx.t(verdict_key));
    for a in &report.abused_accounts {
        println!("  ! {a}");
    }
    for a in &report.spoofed_addresses {
        println!("  ~ {a}");
    }
    if !report.reported.is_empty() {
        println!("{}", ctx.t("mail.cli.reported"));
        for m in &report.reported {
            let state = if m.found {
                ctx.t("mail.cli.found")
            } else {
                ctx.t("mail.cli.not-found")
            };
            println!(
                "  <{}>  {state}  {}",
                m.message_id,
                m.account.as_deref().unwrap_or("")
            );
        }
    }
    println!();
    println!("{}", ctx.t("mail.cli.accounts"));
    for a in &report.accounts {
        println!(
            "  {}  {}  {}  {}  {}",
            a.account,
            a.messages,
            a.recipients,
            a.peak_hour_recipients,
            a.signals
                .iter()
                .map(|s| ctx.t(&format!("mail.signal.{s}")))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!();
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
