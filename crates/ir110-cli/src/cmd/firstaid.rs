//! `ir110 firstaid`: what to do in the next 10 minutes.

use std::process::ExitCode;

use anyhow::Result;
use ir110_playbook::Symptom;

use crate::context::Context;

/// Show first-aid guidance for a symptom.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The symptom: ransomware, defacement, emotet, leak, av-alert, drive-by,
    /// files-wont-open, unknown-extension, intrusion.
    #[arg(long, short, value_parser = parse_symptom, required_unless_present_any = ["all", "list"])]
    pub symptom: Option<Symptom>,
    /// Print the guidance for every symptom.
    #[arg(long, conflicts_with = "symptom")]
    pub all: bool,
    /// List the symptoms.
    #[arg(long, conflicts_with_all = ["symptom", "all"])]
    pub list: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Record in this case's response log that the guidance was given (id or reference).
    #[arg(long, value_name = "ID")]
    pub case: Option<String>,
}

fn parse_symptom(s: &str) -> Result<Symptom, String> {
    s.parse::<Symptom>().map_err(|e| e.to_string())
}

/// Runs the command.
pub fn run(args: Args, ctx: &Context) -> Result<ExitCode> {
    if args.list {
        for s in Symptom::ALL {
            let g = ir110_playbook::firstaid(*s, ctx.lang)?;
            println!("{:<18} {}", s.as_str(), g.title);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let symptoms: Vec<Symptom> = match args.symptom {
        Some(s) => vec![s],
        None => Symptom::ALL.to_vec(),
    };
    let mut guidance = Vec::new();
    for s in &symptoms {
        guidance.push(ir110_playbook::firstaid(*s, ctx.lang)?);
    }
    if args.json {
        let value = if guidance.len() == 1 {
            serde_json::to_string_pretty(&guidance[0])?
        } else {
            serde_json::to_string_pretty(&guidance)?
        };
        println!("{value}");
    } else {
        let texts: Vec<String> = guidance.iter().map(ir110_playbook::render_text).collect();
        print!("{}", texts.join("\n"));
    }
    if let Some(case) = args.case {
        let store = ctx.store()?;
        let case = super::resolve_case(ctx, &store, &case)?;
        let names: Vec<&str> = symptoms.iter().map(|s| s.as_str()).collect();
        let action = format!("firstaid guidance given: {}", names.join(", "));
        ctx.block_on(super::case::log_audited(
            &store,
            &case,
            &super::actor(None),
            &action,
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
