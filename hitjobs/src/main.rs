//! Starts a worker process: flags, logging, configuration, telemetry
//! (Sentry, the metrics listener), organisation, store, then the worker,
//! which runs until SIGTERM or SIGINT. Nothing else happens here.
//!
//! The database must be at this build's schema: like the web server, the
//! worker refuses a database that is behind or ahead (run `hitweb
//! migrate`); an empty one gets the schema.

use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use hitcore::Organisation;
use hitcore::store::{self, Store, StoreError};
use hitjobs::Worker;
use hitjobs::cli::Cli;
use hitjobs::config::{self, Config};
use hitjobs::jobs::{self, Services};
use hitjobs::shutdown::Signals;
use hitjobs::telemetry;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = if cli.check {
        check().await
    } else {
        run(cli).await
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    init_tracing();
    // Caught from here on: a stop during the start is a graceful one too.
    let mut signals = Signals::install().context("while installing the signal handlers")?;
    let config = Config::from_env()?;
    config.log();
    // Kept until the end of `run`: dropping it sends what is queued.
    let _sentry = telemetry::init_sentry(&config.telemetry, "hitjobs");
    if let Some(addr) = config.telemetry.metrics_addr {
        telemetry::install_metrics(addr)?;
    }
    let org = Arc::new(load_org(&config)?);

    let storage = hitcore::storage::Storage::open(&config.storage)
        .with_context(|| format!("while opening the storage {}", config.storage))?;
    let services = Services::new(Arc::clone(&org), storage)
        .with_root_email(config.root_email.clone())
        .with_mailer(config.mail.mailer())
        .with_mail_settings(config.mail.settings.clone());

    // Store calls block (the PostgreSQL driver panics on an executor
    // thread), so opening and starting run on the blocking pool.
    let store = {
        let org = Arc::clone(&org);
        tokio::task::spawn_blocking(move || open_store(&config, org))
            .await
            .context("while opening the database")??
    };
    let registry = jobs::registry::<dyn Store>(&services);
    let worker = Worker::new(store, registry, cli.options());
    let handle = tokio::task::spawn_blocking(move || worker.start())
        .await
        .context("while starting the worker")??;

    let token = handle.token();
    let stopped = tokio::task::spawn_blocking(move || handle.wait());
    let signal = signals.recv().await;
    tracing::info!(
        grace_secs = cli.grace_secs,
        "Received {signal}: no new jobs; running ones get {} s to finish",
        cli.grace_secs
    );
    token.trigger();
    stopped.await.context("while stopping the worker")?;
    Ok(())
}

/// `hitjobs --check`: the readiness probe of a worker host. Opens the
/// store as a start would (a database behind or ahead is refused, an empty
/// one gets the schema), reads the schema version and writes and deletes
/// a probe file in the storage; prints `ready` when all of it worked.
async fn check() -> anyhow::Result<()> {
    init_tracing();
    let config = Config::from_env()?;
    let org = Arc::new(load_org(&config)?);
    tokio::task::spawn_blocking(move || {
        let store = open_store(&config, org)?;
        let schema = store
            .schema_check()
            .context("while reading the schema version")?;
        anyhow::ensure!(
            schema.is_current(),
            "the database schema is at version {}, this build needs {}",
            schema.found,
            schema.expected
        );
        hitcore::storage::Storage::open(&config.storage)
            .and_then(|storage| storage.probe())
            .with_context(|| format!("while writing a probe file to {}", config.storage))?;
        println!(
            "ready: the database answers at schema version {}, the storage takes files",
            schema.found
        );
        Ok(())
    })
    .await
    .context("while checking")?
}

/// Logs to stdout, in colour only on a terminal, at the level `RUST_LOG`
/// asks for.
fn init_tracing() {
    let (filter, warning) = config::log_filter();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
}

/// Reads and checks the organisation definition `HIT_ORG` names.
fn load_org(config: &Config) -> anyhow::Result<Organisation> {
    let path = &config.org_file;
    let src = std::fs::read_to_string(path).with_context(|| {
        format!(
            "HIT_ORG={}: cannot read the organisation definition",
            path.display()
        )
    })?;
    Organisation::from_toml(&src, &path.display().to_string())
        .context("while loading the organisation definition (HIT_ORG)")
}

/// Opens the store `DATABASE_URL` names; one that is behind or ahead of
/// this build is refused with what to run.
fn open_store(config: &Config, org: Arc<Organisation>) -> anyhow::Result<Arc<dyn Store>> {
    let url = store::redacted_url(&config.database_url);
    store::open(&config.database_url, org)
        .map_err(|e| anyhow::anyhow!("DATABASE_URL={url}: {}", open_failure(&e)))
}

/// The driver's or the migration check's own message, without the generic
/// "database error" in front.
fn open_failure(e: &StoreError) -> String {
    match e {
        StoreError::Backend(source) | StoreError::Unavailable(source) => source.to_string(),
        StoreError::Rule(message) => message.clone(),
        other => other.to_string(),
    }
}
