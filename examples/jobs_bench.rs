//! The job queue's benchmark: no-op jobs per second with 1, 2 and 4
//! runner threads (claiming in small and in large batches) and with two
//! worker processes, and the time from enqueueing a single job to its
//! start while a worker waits; on PostgreSQL and on SQLite. Prints a
//! markdown table.
//!
//! ```text
//! cargo run --release -p hitjobs --example jobs_bench -- --jobs 20000
//! ```
//!
//! With `--graphile` it also runs graphile-worker (`examples/graphile`,
//! Node) on the same PostgreSQL server, after our PostgreSQL runs and with
//! the same number of jobs, and prints a second table with both side by
//! side. It runs `npm ci` there first when `node_modules` is missing.
//!
//! PostgreSQL comes from `--postgres` or `HIT_TEST_POSTGRES_URL`; the bench
//! works in a schema of its own, with the server's own settings
//! (`synchronous_commit` as configured), and drops it at the end. SQLite
//! runs on a file in a temporary folder. Throughput is counted from the
//! commit of one `enqueue_many` of all jobs, with the workers already
//! waiting, to the moment no job is open any more.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use hitcore::Organisation;
use hitcore::jobs::NewJob;
use hitcore::store::Store;
use hitjobs::jobs::Noop;
use hitjobs::{JobContext, Registry, Worker, WorkerOptions};
use serde::Deserialize;

#[derive(Debug, Parser)]
struct Args {
    /// No-op jobs per throughput run.
    #[arg(long, default_value_t = 20_000)]
    jobs: usize,
    /// Single jobs enqueued one at a time for the latency.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// The large batch: jobs one process holds at once.
    #[arg(long, default_value_t = 500)]
    batch: u32,
    /// The PostgreSQL server (default: HIT_TEST_POSTGRES_URL).
    #[arg(long)]
    postgres: Option<String>,
    /// Leave SQLite out.
    #[arg(long)]
    no_sqlite: bool,
    /// Measure the latency only.
    #[arg(long)]
    latency_only: bool,
    /// Let PostgreSQL connections commit without waiting for the disk
    /// (`synchronous_commit=off` for the bench's sessions only): shows what
    /// the flushes of the enqueue and claim commits cost.
    #[arg(long)]
    no_commit_wait: bool,
    /// Also run graphile-worker (Node, `examples/graphile`) on the same
    /// PostgreSQL server and print both side by side.
    #[arg(long)]
    graphile: bool,
    /// Internal: run as a worker process on this database URL.
    #[arg(long, hide = true)]
    child: Option<String>,
    /// Internal: the child's runner threads.
    #[arg(long, hide = true, default_value_t = 4)]
    child_concurrency: u32,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(url) = &args.child {
        return child(url, args.child_concurrency, args.batch);
    }
    anyhow::ensure!(
        !(args.graphile && args.latency_only),
        "--graphile measures throughput too; leave out --latency-only"
    );
    let mut rows = Vec::new();
    let mut graphile = None;
    let postgres = args
        .postgres
        .clone()
        .or_else(|| std::env::var("HIT_TEST_POSTGRES_URL").ok())
        .filter(|u| !u.trim().is_empty());
    match &postgres {
        Some(base) => {
            let schema = BenchSchema::create(base, args.no_commit_wait)?;
            rows.extend(bench("PostgreSQL", &schema.url, &args)?);
            drop(schema);
            if args.graphile {
                graphile = Some(graphile_bench(base, &args)?);
            }
        }
        None if args.graphile => anyhow::bail!("--graphile needs a PostgreSQL URL (--postgres)"),
        None => eprintln!("note: no PostgreSQL URL (--postgres or HIT_TEST_POSTGRES_URL)"),
    }
    if !args.no_sqlite {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        rows.extend(bench("SQLite", &url, &args)?);
    }
    print_table(&args, &rows);
    if let Some(figures) = &graphile {
        print_comparison(&args, &rows, figures);
    }
    Ok(())
}

/// One line of the table.
struct Row {
    backend: &'static str,
    setup: String,
    jobs_per_sec: Option<f64>,
    latency: Option<(f64, f64)>,
    /// Which line of the comparison with graphile-worker this is, if any.
    compared: Option<Compared>,
}

/// The measurements that the comparison with graphile-worker shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compared {
    CallLatency,
    CommitLatency,
    Defaults,
    Batched,
    TwoProcesses,
}

fn bench(backend: &'static str, url: &str, args: &Args) -> anyhow::Result<Vec<Row>> {
    let store =
        hitcore::store::open(url, org()?).with_context(|| format!("while opening {backend}"))?;
    let mut rows = Vec::new();
    // The latency first, on a table that the throughput runs have not yet
    // filled with dead rows.
    let [call, commit] = latency(&store, args.samples)?;
    for (setup, (p50, p95), compared) in [
        ("enqueue call → start", call, Compared::CallLatency),
        ("enqueue commit → start", commit, Compared::CommitLatency),
    ] {
        eprintln!("{backend}: {setup}: p50 {p50:.2} ms, p95 {p95:.2} ms");
        rows.push(Row {
            backend,
            setup: format!("{setup}, 1 waiting worker"),
            jobs_per_sec: None,
            latency: Some((p50, p95)),
            compared: Some(compared),
        });
    }
    if !args.latency_only {
        rows.extend(throughput(backend, url, &store, args)?);
    }
    Ok(rows)
}

/// The throughput rows. The three that the comparison with graphile-worker
/// shows come first and one after the other, as in its bench: the small
/// batches leave the table with many dead rows, which slow the runs after
/// them.
fn throughput(
    backend: &'static str,
    url: &str,
    store: &Arc<dyn Store>,
    args: &Args,
) -> anyhow::Result<Vec<Row>> {
    let defaults = WorkerOptions::default();
    let setup = format!(
        "1 process, defaults ({} threads, batch ≤ {})",
        defaults.concurrency, defaults.batch
    );
    let rate = options_rate(store, defaults, args.jobs)?;
    let mut rows = vec![rate_row(backend, setup, rate, Some(Compared::Defaults))];
    rows.push(threads_row(
        backend,
        store,
        PROCESS_THREADS,
        args.batch,
        args,
    )?);
    let rate = processes_rate(store, url, 2, PROCESS_THREADS, args)?;
    let setup = format!(
        "2 processes × {PROCESS_THREADS} threads, batch ≤ {}",
        args.batch
    );
    rows.push(rate_row(backend, setup, rate, Some(Compared::TwoProcesses)));
    for (concurrency, batch) in [(1, 2), (2, 4), (4, 8), (1, args.batch), (2, args.batch)] {
        rows.push(threads_row(backend, store, concurrency, batch, args)?);
    }
    Ok(rows)
}

/// One process with `concurrency` runner threads holding up to `batch`.
fn threads_row(
    backend: &'static str,
    store: &Arc<dyn Store>,
    concurrency: u32,
    batch: u32,
    args: &Args,
) -> anyhow::Result<Row> {
    let rate = options_rate(store, options(concurrency, batch), args.jobs)?;
    let setup = format!("1 process × {concurrency} threads, batch ≤ {batch}");
    let is_compared = concurrency == PROCESS_THREADS && batch == args.batch;
    Ok(rate_row(
        backend,
        setup,
        rate,
        is_compared.then_some(Compared::Batched),
    ))
}

fn rate_row(backend: &'static str, setup: String, rate: f64, compared: Option<Compared>) -> Row {
    eprintln!("{backend}: {setup}: {rate:.0} jobs/s");
    Row {
        backend,
        setup,
        jobs_per_sec: Some(rate),
        latency: None,
        compared,
    }
}

/// Runner threads per process in the batched and the two-process runs: the
/// binary's default, and graphile-worker's concurrency in the comparison.
const PROCESS_THREADS: u32 = 4;

fn noop_jobs(n: usize) -> anyhow::Result<Vec<NewJob>> {
    let now = chrono::Utc::now();
    (0..n).map(|_| Ok(NewJob::of(&Noop {}, now)?)).collect()
}

fn options(concurrency: u32, batch: u32) -> WorkerOptions {
    WorkerOptions {
        batch,
        ..WorkerOptions::with_concurrency(concurrency)
    }
}

/// A registry with `system.noop` only, calling `on_run` on each start.
fn registry(on_run: impl Fn() + Send + Sync + 'static) -> Registry<dyn Store> {
    let mut registry = Registry::new();
    registry.register(move |_: Noop, _ctx: &JobContext<'_, dyn Store>| {
        on_run();
        Ok(())
    });
    registry
}

/// Enqueues `n` jobs in one transaction and waits until none is open;
/// returns jobs per second from the enqueue's commit.
fn run_all(store: &Arc<dyn Store>, n: usize) -> anyhow::Result<f64> {
    clear(store)?;
    let jobs = noop_jobs(n)?;
    store.enqueue_many(&jobs, chrono::Utc::now())?;
    let started = Instant::now();
    while store.open_job_count()? > 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Removes the jobs of earlier runs, so each run starts on the same table.
fn clear(store: &Arc<dyn Store>) -> anyhow::Result<()> {
    let later = chrono::Utc::now() + chrono::TimeDelta::days(1);
    store.delete_settled_before(later)?;
    Ok(())
}

fn options_rate(store: &Arc<dyn Store>, options: WorkerOptions, n: usize) -> anyhow::Result<f64> {
    let handle = Worker::new(Arc::clone(store), registry(|| {}), options).start()?;
    let rate = run_all(store, n);
    handle.shutdown();
    rate
}

fn processes_rate(
    store: &Arc<dyn Store>,
    url: &str,
    processes: usize,
    concurrency: u32,
    args: &Args,
) -> anyhow::Result<f64> {
    let mut children = Vec::new();
    for _ in 0..processes {
        children.push(ChildProcess::start(url, concurrency, args.batch)?);
    }
    let rate = run_all(store, args.jobs);
    for child in &mut children {
        child.stop();
    }
    rate
}

/// Single jobs enqueued one at a time, with one worker waiting: the time
/// to the handler's start from the `enqueue` call, and from its return
/// (the commit); (p50, p95) of each, in milliseconds.
fn latency(store: &Arc<dyn Store>, samples: usize) -> anyhow::Result<[(f64, f64); 2]> {
    clear(store)?;
    let (tx, rx) = mpsc::channel::<Instant>();
    let tx = Mutex::new(tx);
    let handle = Worker::new(
        Arc::clone(store),
        registry(move || {
            let _ = tx.lock().map(|tx| tx.send(Instant::now()));
        }),
        options(1, 2),
    )
    .start()?;
    let mut from_call = Vec::with_capacity(samples);
    let mut from_commit = Vec::with_capacity(samples);
    for _ in 0..samples {
        // Let the worker go back to waiting, as it would between jobs
        // that come one at a time.
        std::thread::sleep(Duration::from_millis(10));
        let job = NewJob::of(&Noop {}, chrono::Utc::now())?;
        let called = Instant::now();
        store.enqueue(&job, chrono::Utc::now())?;
        let committed = Instant::now();
        let started = rx
            .recv_timeout(Duration::from_secs(10))
            .context("a single job did not start within 10 s")?;
        from_call.push(millis(started.saturating_duration_since(called)));
        from_commit.push(millis(started.saturating_duration_since(committed)));
    }
    handle.shutdown();
    Ok([p50_p95(from_call), p50_p95(from_commit)])
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn p50_p95(mut values: Vec<f64>) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    (percentile(&values, 0.50), percentile(&values, 0.95))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn print_table(args: &Args, rows: &[Row]) {
    println!();
    println!(
        "No-op jobs, {} per throughput run; {} single jobs for the latency.",
        args.jobs, args.samples
    );
    println!();
    println!("| backend | workers | jobs/s | enqueue → start p50 | p95 |");
    println!("| --- | --- | ---: | ---: | ---: |");
    for row in rows {
        let rate = row
            .jobs_per_sec
            .map_or(String::new(), |r| format!("{r:.0}"));
        let (p50, p95) = row
            .latency
            .map_or((String::new(), String::new()), |(a, b)| {
                (format!("{a:.2} ms"), format!("{b:.2} ms"))
            });
        println!(
            "| {} | {} | {rate} | {p50} | {p95} |",
            row.backend, row.setup
        );
    }
}

fn org() -> anyhow::Result<Arc<Organisation>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/demo-federation.toml"
    );
    let src = std::fs::read_to_string(path)?;
    Ok(Arc::new(Organisation::from_toml(&src, path)?))
}

// ---------------------------------------------------------------- processes

/// This example started again as a worker process.
struct ChildProcess {
    child: Child,
}

impl ChildProcess {
    /// Starts the process and waits until its worker is registered.
    fn start(url: &str, concurrency: u32, batch: u32) -> anyhow::Result<ChildProcess> {
        use std::io::BufRead;

        let mut child = Command::new(std::env::current_exe()?)
            .args([
                "--child",
                url,
                "--child-concurrency",
                &concurrency.to_string(),
            ])
            .args(["--batch", &batch.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().context("the child's stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        anyhow::ensure!(
            line.trim() == "ready",
            "the worker process did not start: {line}"
        );
        Ok(ChildProcess { child })
    }

    /// Closes its input, which stops it, and waits.
    fn stop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The worker process: runs until its input closes.
fn child(url: &str, concurrency: u32, batch: u32) -> anyhow::Result<()> {
    let store = hitcore::store::open(url, org()?)?;
    let handle = Worker::new(store, registry(|| {}), options(concurrency, batch)).start()?;
    println!("ready");
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin(), &mut rest)?;
    handle.shutdown();
    Ok(())
}

// ---------------------------------------------------------------- PostgreSQL

/// A schema of the bench's own, dropped at the end.
struct BenchSchema {
    base: String,
    name: String,
    url: String,
}

impl BenchSchema {
    fn create(base: &str, is_commit_async: bool) -> anyhow::Result<BenchSchema> {
        let name = format!("hit_bench_{}", std::process::id());
        let mut client = postgres::Client::connect(base, postgres::NoTls)
            .context("while connecting to PostgreSQL")?;
        client.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ))?;
        let separator = if base.contains('?') { '&' } else { '?' };
        let commit = if is_commit_async {
            "%20-csynchronous_commit%3Doff"
        } else {
            ""
        };
        let url = format!("{base}{separator}options=-csearch_path%3D{name}{commit}");
        Ok(BenchSchema {
            base: base.to_owned(),
            name,
            url,
        })
    }
}

impl Drop for BenchSchema {
    fn drop(&mut self) {
        let dropped = postgres::Client::connect(&self.base, postgres::NoTls).and_then(|mut c| {
            c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
        });
        if let Err(e) = dropped {
            eprintln!("could not drop the schema {}: {e}", self.name);
        }
    }
}

// ---------------------------------------------------------------- graphile-worker

/// What `examples/graphile/bench.mjs` prints: one JSON object.
#[derive(Debug, Deserialize)]
struct GraphileFigures {
    graphile_worker: String,
    concurrency: u32,
    local_queue: u32,
    jobs_per_sec: GraphileRates,
    latency: GraphileLatency,
}

#[derive(Debug, Deserialize)]
struct GraphileRates {
    defaults_1_process: f64,
    batched_1_process: f64,
    batched_2_processes: f64,
}

#[derive(Debug, Deserialize)]
struct GraphileLatency {
    from_call: Percentiles,
    from_commit: Percentiles,
}

#[derive(Debug, Deserialize)]
struct Percentiles {
    p50_ms: f64,
    p95_ms: f64,
}

fn graphile_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/graphile")
}

/// Runs the graphile-worker bench on `base` (it makes and drops a schema
/// of its own) with our job and sample counts, and reads its figures.
fn graphile_bench(base: &str, args: &Args) -> anyhow::Result<GraphileFigures> {
    let dir = graphile_dir();
    if !dir.join("node_modules").is_dir() {
        eprintln!("graphile-worker: npm ci in {}", dir.display());
        let status = Command::new("npm")
            .arg("ci")
            .current_dir(&dir)
            .stdout(Stdio::null())
            .status()
            .context("while running npm ci (is Node installed?)")?;
        anyhow::ensure!(status.success(), "npm ci failed in {}", dir.display());
    }
    let mut node = Command::new("node");
    node.arg("bench.mjs")
        .args(["--postgres", base])
        .args(["--jobs", &args.jobs.to_string()])
        .args(["--samples", &args.samples.to_string()])
        .args(["--concurrency", &PROCESS_THREADS.to_string()])
        .args(["--local-queue", &args.batch.to_string()])
        .current_dir(&dir)
        .stderr(Stdio::inherit());
    if args.no_commit_wait {
        // node-postgres reads the session options from here.
        node.env("PGOPTIONS", "-c synchronous_commit=off");
    }
    let output = node.output().context("while running node bench.mjs")?;
    anyhow::ensure!(
        output.status.success(),
        "the graphile-worker bench failed ({})",
        output.status
    );
    serde_json::from_slice(&output.stdout).context("while reading the graphile-worker figures")
}

/// Ours and graphile-worker's figures side by side, one line per
/// measurement.
fn print_comparison(args: &Args, rows: &[Row], graphile: &GraphileFigures) {
    let ours = |compared: Compared| {
        rows.iter()
            .find(|r| r.backend == "PostgreSQL" && r.compared == Some(compared))
    };
    let rate = |compared| {
        ours(compared)
            .and_then(|r| r.jobs_per_sec)
            .map_or(String::new(), |r| format!("{r:.0} jobs/s"))
    };
    let latency = |compared, pick: fn((f64, f64)) -> f64| {
        ours(compared)
            .and_then(|r| r.latency)
            .map_or(String::new(), |l| format!("{:.2} ms", pick(l)))
    };
    let (call, commit) = (&graphile.latency.from_call, &graphile.latency.from_commit);
    let g = &graphile.jobs_per_sec;
    let lines = [
        (
            "no-op jobs/s, 1 process, defaults".to_owned(),
            rate(Compared::Defaults),
            format!("{:.0} jobs/s", g.defaults_1_process),
        ),
        (
            "no-op jobs/s, 1 process, batched".to_owned(),
            rate(Compared::Batched),
            format!("{:.0} jobs/s", g.batched_1_process),
        ),
        (
            "no-op jobs/s, 2 processes, batched".to_owned(),
            rate(Compared::TwoProcesses),
            format!("{:.0} jobs/s", g.batched_2_processes),
        ),
        (
            "enqueue call → start, p50".to_owned(),
            latency(Compared::CallLatency, |l| l.0),
            format!("{:.2} ms", call.p50_ms),
        ),
        (
            "enqueue call → start, p95".to_owned(),
            latency(Compared::CallLatency, |l| l.1),
            format!("{:.2} ms", call.p95_ms),
        ),
        (
            "enqueue commit → start, p50".to_owned(),
            latency(Compared::CommitLatency, |l| l.0),
            format!("{:.2} ms", commit.p50_ms),
        ),
        (
            "enqueue commit → start, p95".to_owned(),
            latency(Compared::CommitLatency, |l| l.1),
            format!("{:.2} ms", commit.p95_ms),
        ),
    ];
    println!();
    println!(
        "Side by side on the same PostgreSQL server, {} jobs per throughput run, {} single jobs \
         for the latency. hitjobs: defaults = `WorkerOptions::default()`; batched = \
         {PROCESS_THREADS} threads, batch ≤ {}. graphile-worker {}: concurrentJobs {} \
         otherwise its defaults; batched adds localQueue.size {}, completeJobBatchDelay 0, \
         failJobBatchDelay 0; latency with its defaults (concurrentJobs 1), ours with 1 thread.",
        args.jobs,
        args.samples,
        args.batch,
        graphile.graphile_worker,
        graphile.concurrency,
        graphile.local_queue,
    );
    println!();
    println!("| | hitjobs (PostgreSQL) | graphile-worker |");
    println!("| --- | ---: | ---: |");
    for (name, ours, theirs) in lines {
        println!("| {name} | {ours} | {theirs} |");
    }
}
