//! `ir110 user`: accounts of the case-management server.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use ir110_store::Role;

use crate::context::Context;

/// Manage accounts of `ir110 serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create an account. The password is read from standard input when it is not a terminal
    /// (one line), else asked for twice without echo. At least 12 characters.
    Add {
        /// Login name.
        #[arg(long)]
        name: String,
        /// admin, responder or client-viewer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The client company of a client-viewer (client id, see `ir110 serve` → Clients).
        #[arg(long, value_name = "ID")]
        client: Option<i64>,
    },
    /// List the accounts.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse::<Role>().map_err(|e| e.to_string())
}

fn read_password(ctx: &Context) -> Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(ctx.t("ui.cli.password"))?;
        let second = rpassword::prompt_password(ctx.t("ui.cli.password-again"))?;
        if first != second {
            bail!("{}", ctx.t("ui.cli.password-mismatch"));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// Runs the command.
pub fn run(args: Args, ctx: &Context) -> Result<ExitCode> {
    let store = ctx.store()?;
    match args.command {
        UserCommand::Add { name, role, client } => {
            let password = read_password(ctx)?;
            let actor = super::actor(None);
            let user = ctx.block_on(ir110_server::add_user(
                &store, &name, role, client, &password, &actor,
            ))?;
            println!(
                "{} {} ({}, id {})",
                ctx.t("ui.cli.user-created"),
                user.name,
                role,
                user.id
            );
        }
        UserCommand::List { json } => {
            let users = ctx.block_on(store.list_users())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                for u in users {
                    let client = u
                        .client_id
                        .map(|c| format!(" client {c}"))
                        .unwrap_or_default();
                    println!("{:>4}  {:<24} {}{client}", u.id, u.name, u.role);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
