//! `ir110 ransomware scan|identify|verify-restore`: the damaged-file map, the family and its
//! decryptors, and the restore check. Analysis lives in `ir110-ransomware`; this file parses
//! flags, writes JSONL/CSV, prints, and stores results in a case.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context as _, Result};
use ir110_model::{AnalysisContext, Message, SourceRef};
use ir110_ransomware::decryptors::Status;
use ir110_ransomware::{FileRecord, ScanOptions, ScanSummary, Verdict};

use crate::context::Context;

/// Ransomware impact: which files are damaged, which family, decryptors, restore check.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// The `ransomware` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// One verdict per file (encrypted, intact, protected, note, unknown, error), then a summary.
    Scan(ScanArgs),
    /// Family candidates with evidence, decryptor facts and links for confirmation (offline).
    Identify(IdentifyArgs),
    /// Check a restored copy or backup; exit 1 when damaged files or notes remain.
    VerifyRestore(RestoreArgs),
}

/// Flags of `scan`.
#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Files or folders to scan (folders recursively; symlinks are not followed).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Write one JSON record per file to FILE.
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// Write one CSV row per file to FILE (UTF-8 with BOM, for Excel).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Store findings and timeline events in this case (id or reference).
    #[arg(long, value_name = "ID")]
    pub case: Option<String>,
    /// Host name the files belong to (for events and findings).
    #[arg(long)]
    pub host: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// Flags of `identify`.
#[derive(clap::Args, Debug)]
pub struct IdentifyArgs {
    /// Folders with encrypted files and ransom notes.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `verify-restore`.
#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// The restored copy or mounted backup.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// A scan of the damaged data (`scan --jsonl`): list which damaged files were recovered.
    #[arg(long, value_name = "SCAN.jsonl")]
    pub against: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: Args, ctx: &Context) -> Result<ExitCode> {
    match args.command {
        Command::Scan(a) => scan(a, ctx),
        Command::Identify(a) => identify(a, ctx),
        Command::VerifyRestore(a) => verify_restore(a, ctx),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv_row(r: &FileRecord) -> String {
    let reasons: Vec<String> = r
        .reasons
        .iter()
        .map(|x| match (&x.offset, &x.detail) {
            (Some(o), _) => format!("{}@{o}", x.code),
            (None, Some(d)) => format!("{}={d}", x.code),
            _ => x.code.clone(),
        })
        .collect();
    [
        csv_field(&r.path),
        r.size.to_string(),
        r.verdict.as_str().to_owned(),
        r.mode.map_or(String::new(), |m| m.as_str().to_owned()),
        format!("{:?}", r.confidence).to_lowercase(),
        csv_field(&r.family_candidates.join(" | ")),
        r.mtime.map_or(String::new(), |t| t.to_rfc3339()),
        r.format.clone().unwrap_or_default(),
        csv_field(r.appended_extension.as_deref().unwrap_or("")),
        r.damaged_fraction
            .map_or(String::new(), |f| format!("{f:.4}")),
        csv_field(&reasons.join(" ")),
    ]
    .join(",")
}

const CSV_HEADER: &str = "path,size,verdict,mode,confidence,family_candidates,mtime,format,appended_extension,damaged_fraction,reasons";

fn scan(args: ScanArgs, ctx: &Context) -> Result<ExitCode> {
    for p in &args.paths {
        if std::fs::symlink_metadata(p).is_err() {
            anyhow::bail!("{}: no such file or folder", p.display());
        }
    }
    let open = |p: &PathBuf| -> Result<std::io::BufWriter<std::fs::File>> {
        Ok(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ))
    };
    let jsonl = args.jsonl.as_ref().map(open).transpose()?.map(Mutex::new);
    let csv = match args.csv.as_ref().map(open).transpose()? {
        Some(mut w) => {
            write!(w, "\u{feff}{CSV_HEADER}\r\n")?;
            Some(Mutex::new(w))
        }
        None => None,
    };
    let keep = args.case.is_some();
    let kept: Mutex<Vec<FileRecord>> = Mutex::new(Vec::new());
    let write_error: Mutex<Option<std::io::Error>> = Mutex::new(None);
    let spinner = ctx.spinner(&ctx.t("ransomware.cli.scanning"));
    let seen = std::sync::atomic::AtomicU64::new(0);
    let options = ScanOptions {
        threads: args.threads,
        ..ScanOptions::default()
    };
    let summary = ir110_ransomware::scan(&args.paths, &options, &|r: FileRecord| {
        let n = seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if n % 64 == 0 {
            spinner.set_message(format!("{} {n}", ctx.t("ransomware.cli.scanning")));
        }
        let mut result = Ok(());
        if let Some(w) = &jsonl {
            if let (Ok(line), Ok(mut w)) = (serde_json::to_string(&r), w.lock()) {
                result = writeln!(w, "{line}");
            }
        }
        if let (Some(w), Ok(())) = (&csv, &result) {
            if let Ok(mut w) = w.lock() {
                result = write!(w, "{}\r\n", csv_row(&r));
            }
        }
        if let Err(e) = result {
            if let Ok(mut slot) = write_error.lock() {
                slot.get_or_insert(e);
            }
        }
        if keep
            && matches!(
                r.verdict,
                Verdict::Encrypted | Verdict::Note | Verdict::Error
            )
        {
            if let Ok(mut v) = kept.lock() {
                v.push(r);
            }
        }
    });
    spinner.finish_and_clear();
    if let Some(e) = write_error.into_inner().ok().flatten() {
        return Err(e).context("cannot write the scan output");
    }
    if let Some(w) = jsonl {
        w.into_inner()
            .map_err(|_| anyhow::anyhow!("output lock poisoned"))?
            .flush()?;
    }
    if let Some(w) = csv {
        w.into_inner()
            .map_err(|_| anyhow::anyhow!("output lock poisoned"))?
            .flush()?;
    }
    if let Some(case) = &args.case {
        let mut records = kept.into_inner().unwrap_or_default();
        records.sort_by(|a, b| a.path.cmp(&b.path));
        let actx = AnalysisContext {
            case_reference: Some(case.clone()),
            host: args.host.clone(),
        };
        let source_ref = |p: &str| SourceRef::file(p);
        let findings = ir110_ransomware::analyzer::findings(&records, &summary, &actx, &source_ref);
        let events =
            ir110_ransomware::analyzer::events(&records, args.host.as_deref(), &source_ref);
        let store = ctx.store()?;
        let case = super::resolve_case(ctx, &store, case)?;
        ctx.block_on(store.upsert_findings(case.id, &findings))?;
        ctx.block_on(store.insert_events(case.id, &events))?;
        let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        let action = format!(
            "ransomware scan of {}: {} files, {} encrypted, {} notes ({} findings, {} events stored)",
            paths.join(", "),
            summary.total.files,
            summary.total.encrypted,
            summary.total.notes,
            findings.len(),
            events.len()
        );
        ctx.block_on(super::case::log_audited(
            &store,
            &case,
            &super::actor(None),
            &action,
        ))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", summary_text(ctx, &summary));
        for p in args.jsonl.iter().chain(args.csv.iter()) {
            println!(
                "{}",
                ctx.render(&Message::new("ransomware.cli.written").arg("path", p.display()))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn summary_text(ctx: &Context, s: &ScanSummary) -> String {
    let mut out = String::new();
    let t = &s.total;
    let _ = writeln!(
        out,
        "{}",
        ctx.render(
            &Message::new("ransomware.cli.summary")
                .arg("files", t.files)
                .arg("encrypted", t.encrypted)
                .arg("notes", t.notes)
                .arg("protected", t.protected)
                .arg("unknown", t.unknown)
                .arg("errors", t.errors)
                .arg("intact", t.intact)
        )
    );
    let mut folders: Vec<(&String, u64)> = s
        .by_folder
        .iter()
        .filter(|(_, c)| c.encrypted > 0)
        .map(|(f, c)| (f, c.encrypted))
        .collect();
    if !folders.is_empty() {
        folders.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let _ = writeln!(out, "\n{}:", ctx.t("ransomware.cli.by-folder"));
        for (f, n) in folders.iter().take(20) {
            let _ = writeln!(out, "  {n:>7}  {f}");
        }
        if folders.len() > 20 {
            let _ = writeln!(out, "  … ({})", folders.len() - 20);
        }
    }
    let mut exts: Vec<(&String, u64, u64)> = s
        .by_extension
        .iter()
        .map(|(e, c)| (e, c.encrypted, c.files))
        .collect();
    exts.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then_with(|| a.0.cmp(b.0)));
    let _ = writeln!(out, "\n{}:", ctx.t("ransomware.cli.by-extension"));
    for (e, enc, all) in exts.iter().take(15) {
        let _ = writeln!(out, "  {:<16} {enc:>7} / {all}", format!(".{e}"));
    }
    if !s.appended_extensions.is_empty() {
        let _ = writeln!(out, "\n{}:", ctx.t("ransomware.cli.campaign"));
        for (e, n) in &s.appended_extensions {
            let _ = writeln!(out, "  .{e:<15} {n:>7}");
        }
    }
    let tl = ir110_ransomware::timeline::build(&s.timeline, &|_| None);
    if let Some(first) = tl.first {
        let local = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&ctx.tz)
                .format("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        };
        let _ = writeln!(
            out,
            "\n{}",
            ctx.render(
                &Message::new("ransomware.cli.onset")
                    .arg("first", local(first.first))
                    .arg("folder", &first.place)
                    .arg("last", local(first.last))
            )
        );
    }
    out
}

fn identify(args: IdentifyArgs, ctx: &Context) -> Result<ExitCode> {
    for p in &args.paths {
        if std::fs::symlink_metadata(p).is_err() {
            anyhow::bail!("{}: no such file or folder", p.display());
        }
    }
    let spinner = ctx.spinner(&ctx.t("ransomware.cli.scanning"));
    let id = ir110_ransomware::identify(&args.paths, &ScanOptions::default());
    spinner.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&id)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    let _ = writeln!(out, "{}:", ctx.t("ransomware.cli.candidates"));
    if id.candidates.is_empty() {
        let _ = writeln!(out, "  {}", ctx.t("ransomware.cli.no-candidate"));
    }
    for (i, c) in id.candidates.iter().enumerate() {
        let weak = if !c.is_confident() {
            format!(" — {}", ctx.t("ransomware.cli.weak"))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {}. {}  ({} {:.2}; {}){weak}",
            i + 1,
            c.family,
            ctx.t("ransomware.cli.score"),
            c.score,
            c.evidence.join(", ")
        );
        match &c.decryptor {
            Some(d) => {
                let tool = [d.vendor.as_deref(), d.tool.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": ");
                let status = match d.status {
                    Status::Yes => "ransomware.cli.status.yes",
                    Status::Partial => "ransomware.cli.status.partial",
                    Status::No => "ransomware.cli.status.no",
                    Status::Unknown => "ransomware.cli.status.unknown",
                };
                let _ = writeln!(
                    out,
                    "     {}: {} — {tool}",
                    ctx.t("ransomware.cli.decryptor"),
                    ctx.t(status)
                );
                let _ = writeln!(out, "       {}", d.conditions_in(ctx.lang));
                if let Some(u) = &d.url {
                    let _ = writeln!(out, "       {u}");
                }
                if !d.verified {
                    let _ = writeln!(
                        out,
                        "       ({}, {})",
                        ctx.t("ransomware.cli.unverified"),
                        d.checked
                    );
                }
            }
            None => {
                let _ = writeln!(
                    out,
                    "     {}: {}",
                    ctx.t("ransomware.cli.decryptor"),
                    ctx.t("ransomware.cli.no-decryptor-known")
                );
            }
        }
    }
    let _ = writeln!(out, "\n{}", ctx.t("ransomware.cli.confirm"));
    for l in &id.links {
        let _ = writeln!(out, "  {}: {}", l.name, l.url);
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn verify_restore(args: RestoreArgs, ctx: &Context) -> Result<ExitCode> {
    let spinner = ctx.spinner(&ctx.t("ransomware.cli.scanning"));
    let report = ir110_ransomware::verify_restore(
        &args.path,
        args.against.as_deref(),
        &ScanOptions::default(),
    )?;
    spinner.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let mut out = summary_text(ctx, &report.summary);
        let remaining = report.remaining.len();
        let _ = writeln!(out);
        if remaining == 0 {
            let _ = writeln!(out, "{}", ctx.t("ransomware.cli.restore-clean"));
        } else {
            let _ = writeln!(
                out,
                "{}",
                ctx.render(&Message::new("ransomware.cli.restore-dirty").arg("count", remaining))
            );
            for r in report.remaining.iter().take(50) {
                let _ = writeln!(out, "  {:<10} {}", r.verdict.as_str(), r.path);
            }
        }
        if args.against.is_some() {
            let _ = writeln!(
                out,
                "{}",
                ctx.render(
                    &Message::new("ransomware.cli.restore-recovered")
                        .arg("recovered", report.recovered.len())
                        .arg("missing", report.missing.len())
                        .arg("damaged", report.still_damaged.len())
                )
            );
            for p in report.missing.iter().take(50) {
                let _ = writeln!(out, "  missing  {p}");
            }
            for p in report.still_damaged.iter().take(50) {
                let _ = writeln!(out, "  damaged  {p}");
            }
        }
        print!("{out}");
    }
    Ok(if report.clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
