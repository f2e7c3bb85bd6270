//! One file per subcommand.
//!
//! Pattern: each file defines `Args` (a `clap::Args` struct, documented flags — the doc comments
//! are the `--help` text) and `pub fn run(args: Args, ctx: &Context) -> anyhow::Result<ExitCode>`.
//! Commands call library functions, render with `ctx.t`/`ctx.render` in `ctx.lang`, show
//! progress with `ctx.progress_bar` (hidden off a terminal), offer `--json` where a machine reads
//! the output, and return exit code 0 when the run completed (whatever it found), 1 for a
//! verdict the user asked to fail on, errors (2) only when the user must act.

pub mod case;
pub mod demo;
pub mod evidence;
pub mod firstaid;
pub mod hunt;
pub mod mail;
pub mod net;
pub mod ransomware;
pub mod report;
pub mod serve;
pub mod triage;
pub mod user;
pub mod web;

use anyhow::Context as _;
use ir110_model::Case;
use ir110_store::Store;

use crate::context::Context;

/// Finds a case by store id (`7`) or reference (`IR-2026-0007`).
pub fn resolve_case(ctx: &Context, store: &Store, id_or_ref: &str) -> anyhow::Result<Case> {
    let result = match id_or_ref.parse::<i64>() {
        Ok(id) => ctx.block_on(store.get_case(id)),
        Err(_) => ctx.block_on(store.case_by_reference(id_or_ref)),
    };
    result.with_context(|| format!("{} ({id_or_ref})", ctx.t("cli.case.not_found")))
}

/// Who is acting: `--by`, else the login name.
pub fn actor(by: Option<String>) -> String {
    by.or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .unwrap_or_else(|| "ir110".to_owned())
}
