//! Starts the web server: configuration, logging, organisation, store,
//! first-start seed, then the app. Nothing else happens here.

use std::sync::Arc;

use anyhow::Context;
use hitcore::Organisation;
use hitcore::seed::{self, SeedOptions};
use hitcore::store::Store;
use hitcore::store::sqlite::SqliteStore;
use hitweb::{AppState, Config};
use poem::Server;
use poem::listener::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let config = Config::from_env().context("while reading the configuration")?;
    config.log();

    let org = Organisation::from_file(&config.org_file)
        .context("while loading the organisation definition")?;
    let org = Arc::new(org);
    if let Some(dir) = config.sqlite_path().and_then(|p| p.parent()) {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("while creating the folder {}", dir.display()))?;
        }
    }
    let store = SqliteStore::open(&config.database_url, Arc::clone(&org))
        .context("while opening the database")?;
    let store: Arc<dyn Store> = Arc::new(store);
    seed_first_start(&config, &org, &*store)?;
    let expired = store
        .delete_expired_sessions(chrono::Utc::now())
        .context("while removing expired sessions")?;
    tracing::info!(sessions = expired, "Removed {expired} expired sessions");

    let bind = config.bind_addr;
    let state = AppState::new(config, org, store).context("while loading the templates")?;
    tracing::info!(bind_addr = %bind, "Listening on http://{bind}");
    Server::new(TcpListener::bind(bind))
        .run_with_graceful_shutdown(
            hitweb::app(state),
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
            None,
        )
        .await
        .context("while serving")?;
    Ok(())
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
