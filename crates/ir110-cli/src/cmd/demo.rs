//! `ir110 demo`: a realistic sample incident, then its triage.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use ir110_model::{IncidentType, Message, Policy, PolicyDecision};
use ir110_store::{ClientRef, NewCase};

use crate::context::Context;

const MARKER: &str = ".ir110-demo";

/// Generate a sample incident (file share hit by ransomware after an RDP brute force), open a
/// demo case for it, and triage it: DIR/report.html and DIR/report.json.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write the incident and the report (an empty or earlier demo folder).
    #[arg(default_value = "ir110-demo")]
    pub dir: PathBuf,
    /// Seed: the same seed gives the same files.
    #[arg(long, default_value_t = 110)]
    pub seed: u64,
    /// Do not open a case in the case store (report files only).
    #[arg(long)]
    pub no_case: bool,
    /// Only write the evidence; do not triage it.
    #[arg(long)]
    pub no_triage: bool,
    /// Print report.json to stdout instead of the text summary.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args, ctx: &Context) -> Result<ExitCode> {
    let dir = &args.dir;
    if dir.exists() {
        let is_demo = dir.join(MARKER).exists();
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !is_demo && !empty {
            bail!(
                "{} is not empty and was not made by `ir110 demo`; choose a new folder",
                dir.display()
            );
        }
        let evidence = dir.join("evidence");
        if evidence.exists() {
            std::fs::remove_dir_all(&evidence)
                .with_context(|| format!("cannot clear {}", evidence.display()))?;
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join(MARKER), b"written by ir110 demo\n")?;
    let evidence = dir.join("evidence");
    if !args.json {
        eprintln!("{} {}", ctx.t("cli.demo.writing"), evidence.display());
    }
    let files = crate::demo::generate(args.seed);
    let n = crate::demo::write(&evidence, &files)?;
    if args.no_triage {
        return Ok(ExitCode::SUCCESS);
    }
    if !args.json {
        eprintln!(
            "{}",
            ctx.render(&Message::new("cli.demo.written").arg("files", n))
        );
    }
    let case = if args.no_case {
        None
    } else {
        let store = ctx.store()?;
        let new = NewCase::new(
            ClientRef::name(ctx.t("cli.demo.client")),
            "Ransomware on FS01 (demo)",
        )
        .types([IncidentType::Ransomware, IncidentType::UnauthorizedAccess])
        .policy(PolicyDecision {
            policy: Policy::RecoveryFirst,
            decided_by: Some("総務部 山田".to_owned()),
            decided_at: Utc::now(),
        });
        let case = ctx.block_on(super::case::create_audited(&store, new))?;
        Some(case.id.to_string())
    };
    crate::cmd::triage::triage(
        ctx,
        &[evidence],
        dir,
        case.as_deref(),
        Some(crate::demo::HOST.to_owned()),
        args.json,
    )?;
    Ok(ExitCode::SUCCESS)
}
