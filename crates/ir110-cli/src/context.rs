//! Configuration resolved once per run, passed explicitly to every command.

use std::future::Future;
use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::{Context as _, Result};
use chrono_tz::Tz;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ir110_model::{Catalog, Lang, Message};
use ir110_store::Store;

/// Options every subcommand accepts.
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Case store: `sqlite:///path/ir110.db` or `postgres://user:pass@host/db`.
    /// Default: SQLite in the user's data directory.
    #[arg(long, global = true, env = "IR110_DB", value_name = "URL")]
    pub db: Option<String>,
    /// Language of everything printed and written: ja or en (default: from LANG).
    #[arg(long, global = true, value_name = "ja|en")]
    pub lang: Option<Lang>,
    /// Never show progress bars (they are shown only on a terminal anyway).
    #[arg(long, global = true)]
    pub no_progress: bool,
}

/// Everything a command needs besides its own arguments.
pub struct Context {
    /// Language of texts.
    pub lang: Lang,
    /// Every crate's messages.
    pub catalog: Catalog,
    /// Zone in which times are shown.
    pub tz: Tz,
    db: Option<String>,
    progress: bool,
    runtime: OnceLock<tokio::runtime::Runtime>,
}

impl Context {
    /// Resolves the global options: flag > environment > default.
    pub fn new(args: &GlobalArgs) -> Result<Context> {
        let lang = args.lang.unwrap_or_else(|| {
            ["LC_ALL", "LC_MESSAGES", "LANG"]
                .iter()
                .filter_map(|v| std::env::var(v).ok())
                .find_map(|v| Lang::from_locale(&v))
                .unwrap_or(Lang::En)
        });
        let catalog = crate::analyzers::catalog().context("internal error: message catalogue")?;
        Ok(Context {
            lang,
            catalog,
            tz: chrono_tz::Asia::Tokyo,
            db: args.db.clone(),
            progress: !args.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            runtime: OnceLock::new(),
        })
    }

    /// Runs a future to completion on the command's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let runtime = self.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("cannot start the async runtime: {e}"))
        });
        runtime.block_on(future)
    }

    /// The store URL: `--db`/`IR110_DB`, else SQLite in the user's data directory.
    pub fn db_url(&self) -> Result<String> {
        if let Some(url) = &self.db {
            return Ok(url.clone());
        }
        let dir = dirs::data_dir()
            .map(|d| d.join("ir110"))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ir110")))
            .context("no data directory for the case store; pass --db sqlite:///path/ir110.db")?;
        Ok(ir110_store::default_sqlite_url(&dir))
    }

    /// Opens (creating on first use) the case store.
    pub fn store(&self) -> Result<Store> {
        let url = self.db_url()?;
        self.block_on(Store::open(&url)).with_context(|| {
            format!(
                "cannot open the case store {}; check --db / IR110_DB",
                ir110_store::redact_url(&url)
            )
        })
    }

    /// A text in the user's language.
    pub fn t(&self, key: &str) -> String {
        self.catalog.get(key, self.lang)
    }

    /// A message in the user's language.
    pub fn render(&self, message: &Message) -> String {
        self.catalog.render(message, self.lang)
    }

    /// A byte-count progress bar on stderr, hidden when stderr is not a terminal.
    pub fn progress_bar(&self, total: u64, what: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(what.to_owned());
        bar
    }

    /// A spinner on stderr for work of unknown size, hidden when stderr is not a terminal.
    pub fn spinner(&self, what: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new_spinner();
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }
}
