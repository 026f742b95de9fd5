//! Starts the web server: logging, configuration, telemetry (Sentry, the
//! metrics listener), organisation, the listening socket, store,
//! first-start seed, then the app. Nothing else
//! happens here. The other commands of [`hitweb::cli`] (`migrate`) are
//! wired up here too.
//!
//! The socket is bound before the database is opened and seeded, so a
//! busy port stops the start before anything is written or a login is
//! printed for a server that never runs.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use hitcore::Organisation;
use hitcore::seed::{self, SeedOptions};
use hitcore::store::{self, Store, StoreError};
use hitweb::cli::{Cli, Command, SeedArgs};
use hitweb::{AppState, Config, config};
use poem::Server;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.chosen() {
        Command::Serve => run().await,
        Command::Migrate => migrate().await,
        Command::Seed(args) => generate(args).await,
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    init_tracing();
    let mut config = Config::from_env().context("while reading the configuration")?;
    config.log();
    // Kept until the end of `run`: dropping it sends what is queued.
    let _sentry = hitjobs::telemetry::init_sentry(&config.telemetry, "hitweb");
    if let Some(addr) = config.telemetry.metrics_addr {
        hitjobs::telemetry::install_metrics(addr)?;
    }

    let org = Arc::new(load_org(&config)?);
    let acceptor = bind(config.bind_addr).await?;
    if let Some(local) = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr())
    {
        config.bind_addr = *local;
    }
    // The store blocks (the PostgreSQL driver even panics on an executor
    // thread), so opening, seeding and cleaning up run on the blocking pool.
    let (config, store) = {
        let org = Arc::clone(&org);
        tokio::task::spawn_blocking(move || open_store(config, &org))
            .await
            .context("while opening the database")??
    };

    let bind = config.bind_addr;
    // Opening the cache asks memcached (`MEMCACHE_SERVERS`) once, which
    // blocks for up to its connect timeout when it does not answer.
    let state = tokio::task::spawn_blocking(move || AppState::new(config, org, store))
        .await
        .context("while preparing the web server")?
        .context("while preparing the web server")?;
    let worker = start_embedded_worker(&state).await?;
    let stop = stop_signal()?;
    tracing::info!(bind_addr = %bind, "Listening on http://{bind}");
    let served = Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(hitweb::app(state), stop, None)
        .await
        .context("while serving");
    if let Some(worker) = worker {
        tokio::task::spawn_blocking(move || worker.shutdown())
            .await
            .context("while stopping the embedded worker")??;
    }
    served
}

/// A future that resolves on SIGINT (Ctrl-C) or SIGTERM (what systemd
/// and container runtimes send), so that both stop the server gracefully
/// and the embedded worker puts its jobs back. The handlers are installed
/// here, at once: a signal that arrives before the server first polls the
/// future must not fall through to the default action, which kills the
/// process.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("while handling SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("while handling SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("Received SIGINT: stopping"),
            _ = terminate.recv() => tracing::info!("Received SIGTERM: stopping"),
        }
    })
}

/// The worker inside this process (`HIT_EMBEDDED_WORKER`, on by default
/// with SQLite), with every production job.
async fn start_embedded_worker(
    state: &AppState,
) -> anyhow::Result<Option<hitjobs::EmbeddedWorker>> {
    if !state.config.embedded_worker {
        tracing::info!("No embedded worker: `hitjobs` processes run the jobs");
        return Ok(None);
    }
    let services = hitjobs::jobs::Services::new(Arc::clone(&state.org), state.storage.clone())
        .with_root_email(state.config.root_email.clone())
        .with_mailer(state.config.mail.mailer())
        .with_mail_settings(state.config.mail.settings.clone());
    let store = Arc::clone(&state.store);
    let options = hitjobs::WorkerOptions {
        concurrency: 2,
        ..hitjobs::WorkerOptions::default()
    };
    let worker =
        tokio::task::spawn_blocking(move || hitjobs::spawn_embedded(store, services, options))
            .await
            .context("while starting the embedded worker")??;
    tracing::info!(worker.id = %worker.id(), "Started the embedded worker");
    Ok(Some(worker))
}

/// `hitweb migrate`: brings the schema of `DATABASE_URL` up to date (an
/// empty database is created) and says what it did.
async fn migrate() -> anyhow::Result<()> {
    init_tracing();
    let config = Config::from_env().context("while reading the configuration")?;
    config.log();
    let report = tokio::task::spawn_blocking(move || run_migrations(&config))
        .await
        .context("while migrating the database")??;
    println!("Migrated: {report}");
    Ok(())
}

/// Runs the migrations of `DATABASE_URL`, naming the variable on failure.
fn run_migrations(config: &Config) -> anyhow::Result<store::migration::Report> {
    let url = store::redacted_url(&config.database_url);
    store::migrate(&config.database_url)
        .map_err(|e| anyhow::anyhow!("DATABASE_URL={url}: {}", open_failure(&e)))
}

/// Whether `serve` migrates before it opens the store: on SQLite, the
/// development database, yes; a PostgreSQL database is migrated only by
/// `hitweb migrate`, run on purpose (the serve refuses one that is behind).
fn migrates_on_serve(config: &Config) -> bool {
    let url = &config.database_url;
    !url.starts_with("postgres") && !url.contains(":memory:")
}

/// `hitweb seed`: fills an empty database with a generated federation.
async fn generate(args: SeedArgs) -> anyhow::Result<()> {
    init_tracing();
    let config = Config::from_env().context("while reading the configuration")?;
    tokio::task::spawn_blocking(move || hitweb::scale::run(&args, config))
        .await
        .context("while generating the federation")?
}

/// Logs to stdout, in colour only on a terminal, at the level `RUST_LOG`
/// asks for; a `RUST_LOG` that does not parse is named in a warning.
fn init_tracing() {
    let (filter, warning) = config::log_filter(config::rust_log().as_deref());
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
    let org = Organisation::from_toml(&src, &path.display().to_string())
        .context("while loading the organisation definition (HIT_ORG)")?;
    tracing::info!(
        org_file = %path.display(),
        "Loaded the organisation definition {}",
        path.display()
    );
    Ok(org)
}

/// Binds the listening socket of `BIND_ADDR`.
async fn bind(addr: SocketAddr) -> anyhow::Result<TcpAcceptor> {
    TcpListener::bind(addr).into_acceptor().await.map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::AddrInUse => "address already in use".to_owned(),
            std::io::ErrorKind::AddrNotAvailable => {
                "address not available on this machine".to_owned()
            }
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => e.to_string(),
        };
        anyhow::anyhow!("BIND_ADDR={addr}: {reason}")
    })
}

/// Opens the store `DATABASE_URL` names, seeds an empty one and removes
/// expired sessions.
fn open_store(config: Config, org: &Arc<Organisation>) -> anyhow::Result<(Config, Arc<dyn Store>)> {
    let url = store::redacted_url(&config.database_url);
    if let Some(dir) = config.sqlite_path().and_then(|p| p.parent())
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "DATABASE_URL={url}: cannot create the folder {}",
                dir.display()
            )
        })?;
    }
    if migrates_on_serve(&config) {
        let report = run_migrations(&config)?;
        // Creating the schema is logged as it happens, with its version.
        if !report.is_created {
            tracing::info!(schema.version = report.to, "Database schema: {report}");
        }
    }
    let store = store::open(&config.database_url, Arc::clone(org))
        .map_err(|e| anyhow::anyhow!("DATABASE_URL={url}: {}", open_failure(&e)))?;
    seed_first_start(&config, org, &*store)?;
    let expired = store
        .delete_expired_sessions(chrono::Utc::now())
        .context("while removing expired sessions")?;
    tracing::info!(sessions = expired, "Removed {expired} expired sessions");
    Ok((config, store))
}

/// Seeds the demo organisation into an empty database and prints the
/// administrator's login once.
fn seed_first_start(config: &Config, org: &Organisation, store: &dyn Store) -> anyhow::Result<()> {
    let options = SeedOptions {
        admin_email: config.admin_email.clone(),
        admin_password: config
            .admin_password
            .as_ref()
            .map(|s| s.expose().to_owned()),
        demo_password: config.demo_password.as_ref().map(|s| s.expose().to_owned()),
    };
    let report = seed::load_demo(store, org, &options, chrono::Utc::now())
        .context("while seeding the demo data")?;
    tracing::info!("{report}");
    if report.is_skipped {
        warn_first_start_only(config);
        return Ok(());
    }
    if let Some(email) = &report.admin_email {
        println!("Administrator login: {email}");
        if let Some(password) = &report.generated_admin_password {
            println!("Generated password (shown only this once): {password}");
        }
        println!(
            "Log in at http://{}/users/sign_in as {email}",
            config.bind_addr
        );
    }
    Ok(())
}

/// Why the database could not be opened, without the generic "database
/// error" in front: the driver's own message says it ("file is not a
/// database", "connection refused").
fn open_failure(e: &StoreError) -> String {
    match e {
        StoreError::Backend(source) | StoreError::Unavailable(source) => source.to_string(),
        StoreError::Rule(message) => message.clone(),
        other => other.to_string(),
    }
}

/// Warns that the first-start settings are set but have no effect on a
/// database that was seeded before.
fn warn_first_start_only(config: &Config) {
    let ignored: Vec<&str> = [
        ("HIT_ADMIN_EMAIL", config.admin_email.is_some()),
        ("HIT_ADMIN_PASSWORD", config.admin_password.is_some()),
        ("HIT_DEMO_PASSWORD", config.demo_password.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, is_set)| is_set.then_some(name))
    .collect();
    if !ignored.is_empty() {
        tracing::warn!(
            "{} ignored: the database was seeded before, and they only apply on the first start",
            ignored.join(", ")
        );
    }
}
