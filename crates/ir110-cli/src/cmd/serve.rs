//! `ir110 serve`: the case-management server (browser UI and JSON API) over the case store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::context::Context;

/// Run the case-management server: clients, NDA gate, cases, findings and timeline, evidence
/// custody, APPI deadlines, quotes; a ja/en browser UI and a JSON API (`/api/openapi.json`).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on. Loopback by default; for a team, put an HTTPS reverse proxy in
    /// front and pass --secure-cookies.
    #[arg(long, default_value = "127.0.0.1:8110", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Price list for quotes (TOML, same form as the built-in one, whose prices are
    /// placeholders).
    #[arg(long, value_name = "FILE")]
    pub price_list: Option<PathBuf>,
    /// Mark session cookies `Secure` (when served behind HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
}

/// Runs the command until SIGINT or SIGTERM, then shuts down gracefully.
pub fn run(args: Args, ctx: &Context) -> Result<ExitCode> {
    // Errors the server hides from callers are written here, for the operator.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .try_init();
    let mut config = ir110_server::Config::new(args.listen)?.with_catalog(ctx.catalog.clone())?;
    if let Some(path) = &args.price_list {
        config = config.with_price_list_file(path)?;
    }
    config.default_lang = ctx.lang;
    config.secure_cookies = args.secure_cookies;
    let url = ctx.db_url()?;
    // The server gets its own multi-threaded runtime (the command context's is single-threaded).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = ir110_store::Store::open(&url).await.with_context(|| {
            format!(
                "cannot open the case store {}; check --db / IR110_DB",
                ir110_store::redact_url(&url)
            )
        })?;
        eprintln!(
            "{} http://{} ({})",
            ctx.t("ui.cli.listening"),
            args.listen,
            ir110_store::redact_url(&url)
        );
        let state = ir110_server::AppState::new(config, store.clone());
        // SIGINT/SIGTERM: stop accepting, let the requests in flight finish (their writes
        // commit or roll back whole), then close the store's connections. A second signal
        // while draining stops at once; the store's transactions keep it consistent even so.
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut server = tokio::spawn(ir110_server::serve(state, async {
            let _ = stopped.await;
        }));
        let drained = tokio::select! {
            // Ended on its own: it could not listen.
            done = &mut server => {
                done.context("the server task failed")??;
                true
            }
            () = ir110_server::shutdown_signal() => {
                eprintln!("{}", ctx.t("ui.cli.stopping"));
                let _ = stop.send(());
                tokio::select! {
                    done = &mut server => {
                        done.context("the server task failed")??;
                        true
                    }
                    () = ir110_server::shutdown_signal() => false,
                }
            }
        };
        if drained {
            // Waits for the connections to come back, so nothing is cut mid-statement.
            store.close().await;
        }
        eprintln!("{}", ctx.t("ui.cli.stopped"));
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
