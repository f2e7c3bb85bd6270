//! `ir110 case`: open, list, show and update cases.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Subcommand;
use ir110_model::{IncidentType, Phase, Policy, PolicyDecision, Severity};
use ir110_store::{ClientRef, NewAudit, NewCase, Scope, Store};

use crate::context::Context;

/// The actor of the audit entries the local CLI writes: `cli:<OS user>`, so that the audit log
/// tells the local door from the server's users (named by their login names).
pub(crate) fn operator() -> String {
    format!("cli:{}", super::actor(None))
}

/// The audit entry "the local operator did `action` on case `case`".
pub(crate) fn audit_entry(
    action: &str,
    case: &ir110_model::Case,
    detail: serde_json::Value,
) -> NewAudit {
    NewAudit {
        actor: operator(),
        action: action.to_owned(),
        object: format!("case:{}", case.id),
        client_id: Some(case.client_id),
        case_id: Some(case.id),
        detail,
    }
}

/// Opens the case in one transaction with its audit entry (`case.create` by [`operator`]).
pub(crate) async fn create_audited(store: &Store, new: NewCase) -> Result<ir110_model::Case> {
    let client = new.client.clone();
    let mut tx = store.begin().await?;
    let Some(case) = tx.create_case(&Scope::all(), new).await? else {
        anyhow::bail!("client {client:?} not found");
    };
    let detail =
        serde_json::json!({"reference": case.reference, "title": case.title, "types": case.types});
    tx.audit(&audit_entry("case.create", &case, detail)).await?;
    tx.commit().await?;
    Ok(case)
}

/// Appends `action` by `actor` to the case's response log in one transaction with its audit
/// entry (`case.log` by [`operator`]), so every door into the store leaves the same trail.
pub(crate) async fn log_audited(
    store: &Store,
    case: &ir110_model::Case,
    actor: &str,
    action: &str,
) -> Result<ir110_model::LogEntry> {
    let mut tx = store.begin().await?;
    let Some(entry) = tx
        .add_log(&Scope::all(), case.id, Utc::now(), actor, action)
        .await?
    else {
        anyhow::bail!("case {} not found", case.id);
    };
    let detail = serde_json::json!({"at": entry.at, "actor": entry.actor, "action": entry.action});
    tx.audit(&audit_entry("case.log", case, detail)).await?;
    tx.commit().await?;
    Ok(entry)
}

/// Manage cases in the case store.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: CaseCommand,
}

#[derive(Subcommand, Debug)]
enum CaseCommand {
    /// Open a case (the client is recorded on first use).
    New {
        /// Client company, as the client writes it (株式会社サンプル).
        #[arg(long)]
        client: String,
        /// Incident type(s): ransomware, unauthorized-access, defacement, emotet, leak,
        /// av-alert, drive-by, other. Repeat or separate with commas.
        #[arg(long = "type", value_delimiter = ',', required = true, value_parser = parse::<IncidentType>)]
        types: Vec<IncidentType>,
        /// Short title (default: the incident types).
        #[arg(long)]
        title: Option<String>,
        /// The policy agreed with the client: recovery-first or evidence-first.
        #[arg(long, value_parser = parse::<Policy>)]
        policy: Option<Policy>,
        /// Who decided the policy (the client's person in charge).
        #[arg(long, requires = "policy")]
        decided_by: Option<String>,
        /// Date the NDA was signed (YYYY-MM-DD).
        #[arg(long)]
        nda_date: Option<NaiveDate>,
        /// Case reference (default: the next IR-<year>-<nnnn>).
        #[arg(long)]
        reference: Option<String>,
        /// Print the case as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List cases, newest first.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a case: details, findings by severity, response log, evidence, triage runs.
    Show {
        /// Case id or reference.
        case: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Move a case to a phase: intake, first-aid, preservation, investigation, recovery,
    /// prevention, monitoring, closed.
    Phase {
        /// Case id or reference.
        case: String,
        /// The new phase.
        #[arg(value_parser = parse::<Phase>)]
        phase: Phase,
        /// Who (default: your login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Record the agreed policy and who decided it.
    Policy {
        /// Case id or reference.
        case: String,
        /// recovery-first or evidence-first.
        #[arg(value_parser = parse::<Policy>)]
        policy: Policy,
        /// Who decided (the client's person in charge).
        #[arg(long)]
        decided_by: String,
        /// When it was decided (RFC 3339; default: now).
        #[arg(long)]
        at: Option<DateTime<Utc>>,
    },
    /// Add a line to the response log, or show the log when no text is given.
    Log {
        /// Case id or reference.
        case: String,
        /// What was done ("LAN cable of PC-03 pulled", "NDA signed").
        text: Option<String>,
        /// Who did it (default: your login name).
        #[arg(long)]
        by: Option<String>,
        /// When it happened (RFC 3339; default: now).
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn parse<T: std::str::FromStr>(s: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(|e| e.to_string())
}

/// Runs the command.
pub fn run(args: Args, ctx: &Context) -> Result<ExitCode> {
    let store = ctx.store()?;
    match args.command {
        CaseCommand::New {
            client,
            types,
            title,
            policy,
            decided_by,
            nda_date,
            reference,
            json,
        } => {
            let title = title.unwrap_or_else(|| {
                let names: Vec<String> = types
                    .iter()
                    .map(|t| ctx.t(&format!("incident.{t}")))
                    .collect();
                names.join(" / ")
            });
            let mut new = NewCase::new(ClientRef::name(client), title).types(types);
            if let Some(policy) = policy {
                new = new.policy(PolicyDecision {
                    policy,
                    decided_by,
                    decided_at: Utc::now(),
                });
            }
            if let Some(date) = nda_date {
                new = new.nda_date(date);
            }
            if let Some(reference) = reference {
                new = new.reference(reference);
            }
            let case = ctx.block_on(create_audited(&store, new))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&case)?);
            } else {
                println!(
                    "{} {} (id {}): {}",
                    ctx.t("cli.case.opened"),
                    case.reference,
                    case.id,
                    case.title
                );
            }
        }
        CaseCommand::List { json } => {
            let cases = ctx.block_on(store.list_cases())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&cases)?);
            } else if cases.is_empty() {
                println!("{}", ctx.t("cli.case.none"));
            } else {
                println!(
                    "{:>4}  {:<14} {:<16} {:<24} {:>8} {:>8}  {}",
                    "id",
                    ctx.t("cli.case.reference"),
                    ctx.t("cli.case.phase"),
                    ctx.t("cli.case.client"),
                    ctx.t("cli.case.findings"),
                    ctx.t("cli.case.events"),
                    ctx.t("cli.case.title")
                );
                for c in cases {
                    println!(
                        "{:>4}  {:<14} {:<16} {:<24} {:>8} {:>8}  {}",
                        c.case.id,
                        c.case.reference,
                        ctx.t(&format!("phase.{}", c.case.phase)),
                        c.case.client_name,
                        c.findings,
                        c.events,
                        c.case.title
                    );
                }
            }
        }
        CaseCommand::Show { case, json } => {
            let case = super::resolve_case(ctx, &store, &case)?;
            let findings = ctx.block_on(store.list_findings(case.id))?;
            let log = ctx.block_on(store.list_log(case.id))?;
            let evidence = ctx.block_on(store.list_evidence(case.id))?;
            let runs = ctx.block_on(store.list_runs(case.id))?;
            let events = ctx.block_on(store.count_events(case.id))?;
            if json {
                let value = serde_json::json!({
                    "case": case, "findings": findings, "events": events,
                    "log": log, "evidence": evidence, "runs": runs,
                });
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                print!(
                    "{}",
                    show_text(ctx, &case, &findings, events, &log, &evidence, runs.len())
                );
            }
        }
        CaseCommand::Phase { case, phase, by } => {
            let case = super::resolve_case(ctx, &store, &case)?;
            let case = ctx.block_on(async {
                let mut tx = store.begin().await?;
                let Some((from, moved)) = tx
                    .set_phase(&Scope::all(), case.id, phase, &super::actor(by))
                    .await?
                else {
                    anyhow::bail!("case {} not found", case.id);
                };
                let detail = serde_json::json!({"from": from, "to": moved.phase});
                tx.audit(&audit_entry("case.phase", &moved, detail)).await?;
                tx.commit().await?;
                Ok(moved)
            })?;
            println!(
                "{} {}: {}",
                case.reference,
                ctx.t("cli.case.phase"),
                ctx.t(&format!("phase.{}", case.phase))
            );
        }
        CaseCommand::Policy {
            case,
            policy,
            decided_by,
            at,
        } => {
            let case = super::resolve_case(ctx, &store, &case)?;
            let decision = PolicyDecision {
                policy,
                decided_by: Some(decided_by),
                decided_at: at.unwrap_or_else(Utc::now),
            };
            let case = ctx.block_on(async {
                let mut tx = store.begin().await?;
                let Some(decided) = tx
                    .set_policy(&Scope::all(), case.id, &decision, &super::actor(None))
                    .await?
                else {
                    anyhow::bail!("case {} not found", case.id);
                };
                let detail = serde_json::json!({"policy": decision.policy, "decided_by": decision.decided_by, "decided_at": decision.decided_at});
                tx.audit(&audit_entry("case.policy", &decided, detail)).await?;
                tx.commit().await?;
                Ok(decided)
            })?;
            println!(
                "{} {}: {}",
                case.reference,
                ctx.t("cli.case.policy"),
                ctx.t(&format!("policy.{policy}"))
            );
        }
        CaseCommand::Log {
            case,
            text,
            by,
            at,
            json,
        } => {
            let case = super::resolve_case(ctx, &store, &case)?;
            if let Some(text) = text {
                let entry = ctx
                    .block_on(async {
                        let mut tx = store.begin().await?;
                        let at = at.unwrap_or_else(Utc::now);
                        let Some(entry) = tx
                            .add_log(&Scope::all(), case.id, at, &super::actor(by), &text)
                            .await?
                        else {
                            anyhow::bail!("case {} not found", case.id);
                        };
                        let detail = serde_json::json!({"at": entry.at, "actor": entry.actor, "action": entry.action});
                        tx.audit(&audit_entry("case.log", &case, detail)).await?;
                        tx.commit().await?;
                        Ok(entry)
                    })
                    .context("cannot add to the response log")?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&entry)?);
                }
            } else {
                let log = ctx.block_on(store.list_log(case.id))?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&log)?);
                } else {
                    for e in log {
                        println!(
                            "{}  {:<12} {}",
                            e.at.with_timezone(&ctx.tz).format("%Y-%m-%d %H:%M %Z"),
                            e.actor,
                            e.action
                        );
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show_text(
    ctx: &Context,
    case: &ir110_model::Case,
    findings: &[ir110_model::Finding],
    events: i64,
    log: &[ir110_model::LogEntry],
    evidence: &[ir110_model::EvidenceItem],
    runs: usize,
) -> String {
    let time = |t: DateTime<Utc>| {
        t.with_timezone(&ctx.tz)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    };
    let mut s = String::new();
    let _ = writeln!(s, "{} — {}", case.reference, case.title);
    let types: Vec<String> = case
        .types
        .iter()
        .map(|t| ctx.t(&format!("incident.{t}")))
        .collect();
    let _ = writeln!(s, "  {:<14} {}", ctx.t("cli.case.client"), case.client_name);
    let _ = writeln!(s, "  {:<14} {}", ctx.t("cli.case.types"), types.join(", "));
    let _ = writeln!(
        s,
        "  {:<14} {}",
        ctx.t("cli.case.phase"),
        ctx.t(&format!("phase.{}", case.phase))
    );
    let policy = match &case.policy {
        Some(p) => format!(
            "{} ({} {}, {})",
            ctx.t(&format!("policy.{}", p.policy)),
            ctx.t("cli.case.decided_by"),
            p.decided_by.as_deref().unwrap_or("?"),
            time(p.decided_at)
        ),
        None => ctx.t("cli.case.undecided"),
    };
    let _ = writeln!(s, "  {:<14} {policy}", ctx.t("cli.case.policy"));
    if let Some(nda) = case.nda_date {
        let _ = writeln!(s, "  {:<14} {nda}", "NDA");
    }
    let _ = writeln!(
        s,
        "  {:<14} {}",
        ctx.t("cli.case.opened_at"),
        time(case.opened_at)
    );
    let counts: Vec<String> = Severity::ALL_DESC
        .iter()
        .map(|sev| {
            format!(
                "{} {}",
                ctx.t(&format!("severity.{sev}")),
                findings.iter().filter(|f| f.severity == *sev).count()
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "  {:<14} {} ({})",
        ctx.t("cli.case.findings"),
        findings.len(),
        counts.join(", ")
    );
    let _ = writeln!(s, "  {:<14} {events}", ctx.t("cli.case.events"));
    let _ = writeln!(s, "  {:<14} {runs}", ctx.t("cli.case.runs"));
    for f in findings.iter().take(10) {
        let _ = writeln!(
            s,
            "    [{}] {}",
            ctx.t(&format!("severity.{}", f.severity)),
            ctx.render(&f.title)
        );
    }
    if !evidence.is_empty() {
        let _ = writeln!(s, "{}", ctx.t("cli.case.evidence"));
        for e in evidence {
            let _ = writeln!(s, "  #{} {} [{}] {}", e.id, e.label, e.kind, e.location);
        }
    }
    let _ = writeln!(s, "{}", ctx.t("cli.case.log"));
    for e in log {
        let _ = writeln!(s, "  {}  {:<12} {}", time(e.at), e.actor, e.action);
    }
    s
}
