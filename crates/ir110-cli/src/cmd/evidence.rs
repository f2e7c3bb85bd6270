//! `ir110 collect`, `ir110 verify`, `ir110 custody`, `ir110 key`: evidence preservation (証拠保全).
//!
//! Thin shells over `ir110-evidence`. The signing key lives in the user's config directory
//! (`~/.config/ir110/signing.key`, mode 0600) unless `--key` or `IR110_KEY` names another file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Subcommand;
use indicatif::ProgressBar;
use ir110_evidence::{
    ArchiveFormat, CaseMeta, CollectObserver, CollectOptions, CollectPhase, CustodyAction,
    CustodyEvent, HostFacts, ProfileChoice, SigningKey,
};
use ir110_model::Message;

use crate::context::Context;

/// The signing key file: `--key`, `IR110_KEY`, else `<config dir>/ir110/signing.key`.
#[derive(clap::Args, Debug, Clone)]
pub struct KeyPath {
    /// Examiner's Ed25519 signing key (default: ~/.config/ir110/signing.key).
    #[arg(long, env = "IR110_KEY", value_name = "FILE", global = true)]
    pub key: Option<PathBuf>,
}

impl KeyPath {
    fn path(&self) -> Result<PathBuf> {
        if let Some(p) = &self.key {
            return Ok(p.clone());
        }
        dirs::config_dir()
            .map(|d| d.join("ir110").join("signing.key"))
            .context("no config directory for the signing key; pass --key FILE")
    }

    fn load(&self, ctx: &Context) -> Result<SigningKey> {
        let path = self.path()?;
        if !path.exists() {
            anyhow::bail!(
                "{}",
                ctx.render(&Message::new("evidence.cli.no-key").arg("path", path.display()))
            );
        }
        Ok(ir110_evidence::load_key(&path)?)
    }
}

/// Preserve evidence: list the whole source, copy and hash what the profile names, sign.
#[derive(clap::Args, Debug)]
pub struct CollectArgs {
    /// What to collect from: a mounted disk image, a copied volume, or / on a live Linux host.
    #[arg(long, value_name = "PATH")]
    pub source: PathBuf,
    /// The package directory to create (must be empty unless --resume).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// auto (detect Windows/Linux), windows, linux, or a YAML profile file.
    #[arg(long, default_value = "auto", value_name = "auto|windows|linux|FILE")]
    pub profile: String,
    /// Case reference (IR-2026-0001).
    #[arg(long)]
    pub case: String,
    /// The examiner running the collection.
    #[arg(long)]
    pub examiner: String,
    /// The witness present (立会人), usually the client's person in charge.
    #[arg(long)]
    pub witness: Option<String>,
    /// Where the preservation takes place.
    #[arg(long)]
    pub place: Option<String>,
    /// What the source is (PC-01 internal SSD, mounted read-only).
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Free note for the manifest and the first custody entry.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Also write an archive of the finished package: zip or tar.zst.
    #[arg(long, value_name = "zip|tar.zst", value_parser = parse_archive)]
    pub archive: Option<ArchiveFormat>,
    /// Finish a collection that was interrupted (crash, power loss, kill).
    #[arg(long)]
    pub resume: bool,
    /// Encrypt the archive for transport to this age recipient (age1…); repeatable.
    /// Implies --archive tar.zst when no format is given.
    #[arg(long, value_name = "RECIPIENT")]
    pub encrypt_to: Vec<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub key: KeyPath,
}

fn parse_archive(s: &str) -> Result<ArchiveFormat, String> {
    s.parse::<ArchiveFormat>().map_err(|e| e.to_string())
}

/// Progress for the collection, drawn only on a terminal (the context hides it otherwise).
struct Progress<'a> {
    ctx: &'a Context,
    bar: ProgressBar,
}

impl CollectObserver for Progress<'_> {
    fn phase(&self, phase: CollectPhase) {
        let key = match phase {
            CollectPhase::Listing => "evidence.cli.listing",
            CollectPhase::Copying => "evidence.cli.copying",
            CollectPhase::Sealing => "evidence.cli.sealing",
        };
        self.bar.set_message(self.ctx.t(key));
    }
    fn planned(&self, _files: u64, bytes: u64) {
        self.bar.set_length(bytes.max(1));
        self.bar.set_position(0);
    }
    fn file_done(&self, _path: &str, bytes: u64) {
        self.bar.inc(bytes);
    }
}

/// Runs `ir110 collect`.
pub fn run_collect(args: CollectArgs, ctx: &Context) -> Result<ExitCode> {
    let key = args.key.load(ctx)?;
    let meta = CaseMeta {
        case: args.case.clone(),
        examiner: args.examiner.clone(),
        witness: args.witness.clone(),
        place: args.place.clone(),
        note: args.note.clone(),
        source_description: args.description.clone(),
    };
    let mut options = CollectOptions::new(&args.source, &args.out, meta, &key);
    options.profile = args
        .profile
        .parse::<ProfileChoice>()
        .unwrap_or(ProfileChoice::Auto);
    options.resume = args.resume;
    options.host = HostFacts::current();
    let progress = Progress {
        ctx,
        bar: ctx.progress_bar(1, &ctx.t("evidence.cli.listing")),
    };
    options.observer = &progress;
    let summary = ir110_evidence::collect(&options)
        .with_context(|| format!("collect {}", args.source.display()))?;
    progress.bar.finish_and_clear();

    let registered = register_in_store(ctx, &args, &summary);

    let mut archive = None;
    let format = args
        .archive
        .or((!args.encrypt_to.is_empty()).then_some(ArchiveFormat::TarZst));
    if let Some(format) = format {
        let dest = archive_path(&args.out, format);
        let a = ir110_evidence::archive_package(&args.out, format, &dest)?;
        archive = Some(a);
    }
    let mut encrypted = None;
    if let (false, Some(a)) = (args.encrypt_to.is_empty(), &archive) {
        let mut dest = a.path.as_os_str().to_owned();
        dest.push(".age");
        let dest = PathBuf::from(dest);
        ir110_evidence::encrypt_file(&a.path, &args.encrypt_to, &dest)?;
        encrypted = Some(dest);
    }

    if args.json {
        let json = serde_json::json!({
            "package": summary.package,
            "profile": summary.profile,
            "counts": summary.counts,
            "failed": summary.failed,
            "changed_while_read": summary.changed_while_read,
            "empty_targets": summary.empty_targets,
            "reused": summary.reused,
            "manifest_sha256": summary.manifest_sha256,
            "signer_fingerprint": summary.signer_fingerprint,
            "archive": archive.as_ref().map(|a| serde_json::json!({
                "path": a.path, "size": a.size, "sha256": a.sha256,
            })),
            "encrypted": encrypted,
            "registered_evidence_id": registered,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(ExitCode::SUCCESS);
    }
    let c = &summary.counts;
    println!(
        "{}",
        ctx.render(
            &Message::new("evidence.collect.summary")
                .arg("copied", c.copied)
                .arg("matched", c.matched)
                .arg("bytes", c.bytes)
                .arg("listed", c.listed)
                .arg("failed", c.failed)
        )
    );
    for (path, error) in &summary.failed {
        println!(
            "  {}",
            ctx.render(
                &Message::new("evidence.collect.failed-file")
                    .arg("path", path)
                    .arg("error", error)
            )
        );
    }
    for (path, error) in &summary.changed_while_read {
        println!(
            "  {}",
            ctx.render(
                &Message::new("evidence.collect.changed-file")
                    .arg("path", path)
                    .arg("error", error)
            )
        );
    }
    if !summary.empty_targets.is_empty() {
        println!(
            "{}",
            ctx.render(
                &Message::new("evidence.collect.empty-targets")
                    .arg("targets", summary.empty_targets.join(", "))
            )
        );
    }
    if summary.reused > 0 {
        println!(
            "{}",
            ctx.render(&Message::new("evidence.cli.resumed").arg("count", summary.reused))
        );
    }
    println!(
        "{}",
        ctx.render(
            &Message::new("evidence.collect.package")
                .arg("path", summary.package.display())
                .arg("sha256", &summary.manifest_sha256)
                .arg("fingerprint", &summary.signer_fingerprint)
        )
    );
    if let Some(a) = &archive {
        println!(
            "{}",
            ctx.render(
                &Message::new("evidence.cli.archive-written")
                    .arg("path", a.path.display())
                    .arg("size", a.size)
                    .arg("sha256", &a.sha256)
            )
        );
    }
    if let Some(id) = registered {
        println!(
            "{}",
            ctx.render(
                &Message::new("evidence.cli.registered")
                    .arg("id", id)
                    .arg("case", &args.case)
            )
        );
    }
    if let Some(e) = &encrypted {
        println!(
            "{}",
            ctx.render(
                &Message::new("evidence.cli.encrypted")
                    .arg("path", e.display())
                    .arg("count", args.encrypt_to.len())
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Registers the package as evidence of the case when the case store knows `--case`, and notes
/// the collection in the case's response log. The package is complete either way: a store that
/// cannot be opened or a case it does not know only means nothing is registered.
fn register_in_store(
    ctx: &Context,
    args: &CollectArgs,
    summary: &ir110_evidence::CollectSummary,
) -> Option<i64> {
    let store = ctx.store().ok()?;
    let case = ctx.block_on(store.case_by_reference(&args.case)).ok()?;
    let location =
        std::path::absolute(&summary.package).unwrap_or_else(|_| summary.package.clone());
    let label = format!(
        "package {}",
        args.description
            .clone()
            .unwrap_or_else(|| args.source.display().to_string())
    );
    let new = ir110_store::NewEvidence::new(
        case.id,
        label,
        "package",
        location.display().to_string(),
        args.examiner.clone(),
    )
    .sha256(summary.manifest_sha256.clone())
    .size(summary.counts.bytes);
    let action = format!(
        "collect: {} → {} ({} files, manifest SHA-256 {})",
        args.source.display(),
        location.display(),
        summary.counts.copied,
        summary.manifest_sha256
    );
    // The item, its response-log line and its audit entry commit together or not at all.
    let item = ctx
        .block_on(async {
            let scope = ir110_store::Scope::all();
            let mut tx = store.begin().await?;
            let Some(item) = tx.add_evidence(&scope, &new).await? else {
                anyhow::bail!("case {} not found", case.id);
            };
            tx.add_log(&scope, case.id, chrono::Utc::now(), &args.examiner, &action)
                .await?;
            let detail = serde_json::json!({
                "evidence": item.id,
                "label": item.label,
                "sha256": item.sha256,
                "location": item.location,
            });
            tx.audit(&super::case::audit_entry("evidence.add", &case, detail))
                .await?;
            tx.commit().await?;
            Ok(item)
        })
        .ok()?;
    Some(item.id)
}

/// `DIR` → `DIR.zip` / `DIR.tar.zst` beside it.
fn archive_path(dir: &Path, format: ArchiveFormat) -> PathBuf {
    let mut name = dir.as_os_str().to_owned();
    name.push(format!(".{}", format.extension()));
    PathBuf::from(name)
}

/// Check a package: re-hash every file, check the signature and the custody chain.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Package directory, .zip or .tar.zst.
    #[arg(value_name = "PACKAGE")]
    pub package: PathBuf,
    /// Fail unless the manifest was signed by the key with this fingerprint.
    #[arg(long, value_name = "FINGERPRINT")]
    pub expect_key: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `ir110 verify`: exit 0 when intact, 1 when anything failed.
pub fn run_verify(args: VerifyArgs, ctx: &Context) -> Result<ExitCode> {
    let report = ir110_evidence::verify(&args.package)
        .with_context(|| format!("verify {}", args.package.display()))?;
    let mut problems: Vec<String> = report
        .failures
        .iter()
        .map(|f| ctx.render(&f.message()))
        .collect();
    if let Some(expected) = &args.expect_key {
        let actual = report.signer_fingerprint.clone().unwrap_or_default();
        if !actual.eq_ignore_ascii_case(expected.trim()) {
            problems.push(
                ctx.render(
                    &Message::new("evidence.cli.key-differs")
                        .arg("expected", expected)
                        .arg("actual", &actual),
                ),
            );
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if problems.is_empty() {
        println!(
            "{}",
            ctx.render(
                &Message::new("evidence.verify.ok")
                    .arg("files", report.files_checked)
                    .arg(
                        "fingerprint",
                        report.signer_fingerprint.as_deref().unwrap_or("?")
                    )
                    .arg("entries", report.custody_entries)
            )
        );
    } else {
        println!(
            "{}",
            ctx.render(&Message::new("evidence.verify.failed").arg("count", problems.len()))
        );
        for p in &problems {
            println!("  - {p}");
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Record and show the chain of custody; write the preservation record (保全記録書).
#[derive(clap::Args, Debug)]
pub struct CustodyArgs {
    #[command(subcommand)]
    command: CustodyCommand,
}

#[derive(Subcommand, Debug)]
enum CustodyCommand {
    /// Append a signed entry to the package's custody log.
    Add {
        /// Package directory or archive (archives get a PACKAGE.custody.jsonl sidecar).
        package: PathBuf,
        /// transferred, received, opened, sealed, returned or destroyed.
        #[arg(long, value_parser = parse_action)]
        action: CustodyAction,
        /// Who did it.
        #[arg(long)]
        by: String,
        /// To whom (transfers, returns).
        #[arg(long)]
        to: Option<String>,
        /// Where.
        #[arg(long)]
        place: Option<String>,
        /// Who witnessed it.
        #[arg(long)]
        witness: Option<String>,
        /// Note (seal number, tracking number).
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        key: KeyPath,
    },
    /// Print the custody log.
    Show {
        /// Package directory or archive.
        package: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the printable preservation record (HTML) in --lang (Japanese by default).
    Record {
        /// Package directory or archive.
        package: PathBuf,
        /// Output file (default: PACKAGE-preservation-record.html beside the package).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

fn parse_action(s: &str) -> Result<CustodyAction, String> {
    s.parse::<CustodyAction>().map_err(|e| e.to_string())
}

/// Runs `ir110 custody …`.
pub fn run_custody(args: CustodyArgs, ctx: &Context) -> Result<ExitCode> {
    match args.command {
        CustodyCommand::Add {
            package,
            action,
            by,
            to,
            place,
            witness,
            note,
            key,
        } => {
            let key = key.load(ctx)?;
            let mut event = CustodyEvent::new(action, by);
            event.to = to;
            event.place = place;
            event.witness = witness;
            event.note = note;
            let entry = ir110_evidence::custody_add(&package, &event, &key)?;
            println!(
                "{}",
                ctx.render(
                    &Message::new("evidence.cli.custody-added")
                        .arg("seq", entry.seq)
                        .arg(
                            "action",
                            ctx.t(&format!("evidence.custody.{}", entry.action))
                        )
                        .arg("by", &entry.by)
                )
            );
        }
        CustodyCommand::Show { package, json } => {
            let entries = ir110_evidence::custody_show(&package)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else {
                for e in &entries {
                    let at = e.at.with_timezone(&ctx.tz).format("%Y-%m-%d %H:%M:%S %Z");
                    let mut line = format!(
                        "{:>3}  {at}  {}  {}",
                        e.seq,
                        ctx.t(&format!("evidence.custody.{}", e.action)),
                        e.by
                    );
                    for (label, v) in [("→", &e.to), ("@", &e.place), ("witness:", &e.witness)] {
                        if let Some(v) = v {
                            line.push_str(&format!("  {label} {v}"));
                        }
                    }
                    if let Some(n) = &e.note {
                        line.push_str(&format!("  ({n})"));
                    }
                    println!("{line}");
                }
            }
        }
        CustodyCommand::Record { package, out } => {
            let html = ir110_evidence::preservation_record(&package, ctx.lang)?;
            let out = out.unwrap_or_else(|| {
                let mut name = package.as_os_str().to_owned();
                name.push("-preservation-record.html");
                PathBuf::from(name)
            });
            std::fs::write(&out, html).with_context(|| format!("write {}", out.display()))?;
            println!(
                "{}",
                ctx.render(&Message::new("evidence.cli.record-written").arg("path", out.display()))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Create or show the examiner's signing key.
#[derive(clap::Args, Debug)]
pub struct KeyArgs {
    #[command(subcommand)]
    command: KeyCommand,
    #[command(flatten)]
    key: KeyPath,
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
    /// Create a new Ed25519 signing key (never overwrites one).
    Gen,
    /// Show the key file and its fingerprint.
    Show,
}

/// Runs `ir110 key gen|show`.
pub fn run_key(args: KeyArgs, ctx: &Context) -> Result<ExitCode> {
    let path = args.key.path()?;
    let (key, msg) = match args.command {
        KeyCommand::Gen => (
            ir110_evidence::generate_key(&path)?,
            "evidence.cli.key-created",
        ),
        KeyCommand::Show => (args.key.load(ctx)?, "evidence.cli.key-show"),
    };
    println!(
        "{}",
        ctx.render(&Message::new(msg).arg("path", path.display()).arg(
            "fingerprint",
            ir110_evidence::fingerprint(&key.verifying_key())
        ))
    );
    Ok(ExitCode::SUCCESS)
}
