//! `hitweb seed`: fills an empty database with a generated federation of
//! the size asked for ([`hitcore::scale`]), with a progress bar on stderr,
//! then prints the counts, the time it took and the administrator's login.
//!
//! Only the wiring lives here (settings, database, password, progress);
//! what the federation looks like is decided in hitcore.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use hitcore::Organisation;
use hitcore::scale::{self, Progress, ScaleOptions, ScaleReport};
use hitcore::seed::DEFAULT_ADMIN_EMAIL;
use hitcore::store::{self, StoreError};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::SeedArgs;
use crate::config::Config;

/// Runs `hitweb seed` with the settings of `config`; `args` may name
/// another database. Blocks: call it off the async executor.
///
/// # Errors
/// The organisation cannot be read, the database cannot be reached or
/// migrated, is not empty, or fails while it is written; each message
/// names the setting involved.
pub fn run(args: &SeedArgs, mut config: Config) -> anyhow::Result<()> {
    if let Some(url) = &args.database_url {
        config.database_url = url.clone();
    }
    let url = store::redacted_url(&config.database_url);
    let org = Arc::new(load_org(&config.org_file)?);
    if let Some(dir) = config.sqlite_path().and_then(Path::parent)
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "DATABASE_URL={url}: cannot create the folder {}",
                dir.display()
            )
        })?;
    }
    store::migrate(&config.database_url)
        .map_err(|e| anyhow!("DATABASE_URL={url}: {}", reason(&e)))?;
    let target = store::open_bulk(&config.database_url, Arc::clone(&org))
        .map_err(|e| anyhow!("DATABASE_URL={url}: {}", reason(&e)))?;

    let admin_email = config
        .admin_email
        .clone()
        .unwrap_or_else(|| DEFAULT_ADMIN_EMAIL.to_owned());
    let (password, is_generated) = match &config.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => (hitcore::auth::generate_password(), true),
    };
    let hash = hitcore::auth::hash_password(&password)
        .map_err(|e| anyhow!("cannot hash the administrator's password: {e}"))?;
    let options = ScaleOptions {
        people: args.people,
        groups: args.groups,
        seed: args.seed,
        admin_email: admin_email.clone(),
    };

    let bar = progress_bar(args.people);
    let started = Instant::now();
    let loaded = scale::load(
        &*target,
        &org,
        &options,
        Some(&hash),
        chrono::Utc::now(),
        &mut |p| show(&bar, p),
    );
    bar.finish_and_clear();
    let report = loaded.with_context(|| format!("DATABASE_URL={url}"))?;
    print_summary(&report, started.elapsed(), &url);
    println!("Administrator login: {admin_email}");
    if is_generated {
        println!("Generated password (shown only this once): {password}");
    }
    Ok(())
}

/// Reads and checks the organisation definition `HIT_ORG` names.
fn load_org(path: &Path) -> anyhow::Result<Organisation> {
    let src = std::fs::read_to_string(path).with_context(|| {
        format!(
            "HIT_ORG={}: cannot read the organisation definition",
            path.display()
        )
    })?;
    Organisation::from_toml(&src, &path.display().to_string())
        .context("while loading the organisation definition (HIT_ORG)")
}

/// The driver's or the rule's own message, without the generic "database
/// error" in front.
fn reason(e: &StoreError) -> String {
    match e {
        StoreError::Backend(source) => source.to_string(),
        StoreError::Rule(message) => message.clone(),
        other => other.to_string(),
    }
}

fn progress_bar(people: usize) -> ProgressBar {
    let bar = ProgressBar::new(u64::try_from(people).unwrap_or(u64::MAX));
    let style = ProgressStyle::with_template(
        "{spinner} {elapsed_precise} [{bar:40}] {human_pos}/{human_len} people, \
         {per_sec}, {eta} left {msg}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message("(groups)");
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

fn show(bar: &ProgressBar, progress: Progress) {
    match progress {
        Progress::Groups(n) => bar.set_message(format!("({n} groups written)")),
        Progress::People { written, .. } => {
            bar.set_position(u64::try_from(written).unwrap_or(u64::MAX));
            bar.set_message("");
        }
        Progress::Finishing => bar.set_message("(refreshing statistics)"),
    }
}

fn print_summary(report: &ScaleReport, elapsed: Duration, url: &str) {
    println!(
        "Generated {} groups, {} people and {} roles into {url} in {:.1} s",
        report.groups,
        report.people,
        report.roles,
        elapsed.as_secs_f64()
    );
}
