// graphile-worker's side of examples/jobs_bench.rs: the same no-op jobs on
// the same PostgreSQL server, measured the same way, so the two queues can
// be read side by side. jobs_bench.rs runs this with `--graphile`; it can
// also run alone:
//
//   npm ci && node bench.mjs --postgres postgres://postgres@127.0.0.1:5432/postgres
//
// It works in a schema of its own (graphile_worker_bench_<pid>), dropped at
// the end, and prints one JSON object on stdout; progress goes to stderr.
//
// Throughput is counted as in our bench: the workers are already waiting,
// all jobs are enqueued in one bulk call (`addJobs`, one `add_jobs`
// statement), and the clock runs from that call's return (its commit) to
// the moment no job is left in the table (graphile-worker deletes a job
// once it has completed). The latency is that of single jobs added one at
// a time while one worker waits on LISTEN/NOTIFY, from the `addJob` call
// and from its return to the start of the task.

import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { Logger, makeWorkerUtils, run, runMigrations } from "graphile-worker";

const TASK = "noop";

const { values: args } = parseArgs({
  options: {
    postgres: { type: "string" },
    jobs: { type: "string", default: "20000" },
    samples: { type: "string", default: "200" },
    concurrency: { type: "string", default: "4" },
    "local-queue": { type: "string", default: "500" },
    // Internal: run as a batched worker process on this schema.
    child: { type: "string" },
  },
});

/** Warnings and errors only: the job lines would cost more than the jobs. */
const logger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning") {
    process.stderr.write(`graphile-worker ${level}: ${message}\n`);
  }
});

/** A count option, refused unless it is a positive integer. */
function count(name) {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name} must be a positive integer, not ${args[name]}`);
  }
  return value;
}

/**
 * The worker options of a run. `defaults` is graphile-worker as it comes,
 * except the concurrency, which is set to ours so that both sides run the
 * same number of jobs at once; `batched` adds the batching options of its
 * performance guide: a local queue, and job completions and failures
 * written in batches as soon as the event loop is free (delay 0).
 */
function preset(url, schema, setup) {
  const worker = {
    connectionString: url,
    schema,
    concurrentJobs: setup.concurrency,
    logger,
    events: setup.events,
  };
  if (setup.isBatched) {
    worker.localQueue = { size: setup.localQueue };
    worker.completeJobBatchDelay = 0;
    worker.failJobBatchDelay = 0;
  }
  return { worker };
}

/**
 * Starts a worker that calls `onRun` at the start of each no-op job, and
 * resolves once it listens for new jobs.
 */
async function startWorker(url, schema, setup, onRun = () => {}) {
  const events = new EventEmitter();
  const listening = new Promise((resolve) => events.once("pool:listen:success", resolve));
  const runner = await run({
    preset: preset(url, schema, { ...setup, events }),
    noHandleSignals: true,
    crontab: "",
    taskList: {
      [TASK]: async () => {
        onRun();
      },
    },
  });
  await listening;
  return runner;
}

function noopJobs(n) {
  return Array.from({ length: n }, () => ({ identifier: TASK, payload: {} }));
}

async function openJobs(utils, schema) {
  return utils.withPgClient(async (client) => {
    const result = await client.query(`select count(*)::int as n from "${schema}"._private_jobs`);
    return result.rows[0].n;
  });
}

/** Waits, polling every millisecond as our bench does, until no job is left. */
async function drained(utils, schema) {
  while ((await openJobs(utils, schema)) > 0) {
    await sleep(1);
  }
}

/**
 * Jobs per second of one worker in this process. The table is polled only
 * once every job has started, so that the polling does not take the event
 * loop from the worker it measures.
 */
async function inProcessRate(url, schema, utils, setup, n) {
  let started = 0;
  let allStarted;
  const everyStart = new Promise((resolve) => (allStarted = resolve));
  const runner = await startWorker(url, schema, setup, () => {
    started += 1;
    if (started === n) allStarted();
  });
  try {
    await utils.addJobs(noopJobs(n));
    const from = performance.now();
    await everyStart;
    await drained(utils, schema);
    return (n * 1000) / (performance.now() - from);
  } finally {
    await runner.stop();
  }
}

/** Jobs per second of `processes` batched worker processes. */
async function processesRate(url, schema, utils, processes, n) {
  const children = [];
  try {
    for (let i = 0; i < processes; i += 1) {
      children.push(await startChild(url, schema));
    }
    await utils.addJobs(noopJobs(n));
    const from = performance.now();
    await drained(utils, schema);
    return (n * 1000) / (performance.now() - from);
  } finally {
    await Promise.all(children.map(stopChild));
  }
}

/** Starts this script again as a batched worker and waits for its `ready`. */
async function startChild(url, schema) {
  const child = spawn(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      "--postgres",
      url,
      "--child",
      schema,
      "--concurrency",
      args.concurrency,
      "--local-queue",
      args["local-queue"],
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve) => {
    lines.once("line", resolve);
    lines.once("close", () => resolve(""));
  });
  if (first.trim() !== "ready") {
    child.kill();
    throw new Error(`the graphile-worker process did not start: ${first}`);
  }
  return { child, exited };
}

/** Closes the child's input, which stops it, and waits for its exit. */
async function stopChild({ child, exited }) {
  child.stdin.end();
  await exited;
}

/** The child: a batched worker until its input closes. */
async function child(url, schema) {
  const runner = await startWorker(url, schema, {
    concurrency: count("concurrency"),
    isBatched: true,
    localQueue: count("local-queue"),
  });
  process.stdout.write("ready\n");
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once("end", resolve));
  await runner.stop();
}

/**
 * Single jobs added one at a time while a worker with graphile-worker's
 * own defaults (one job at a time, no batching) waits; milliseconds from
 * the `addJob` call and from its return to the task's start.
 */
async function latency(url, schema, utils, samples) {
  let onStart = () => {};
  const runner = await startWorker(url, schema, { concurrency: 1, isBatched: false }, () =>
    onStart(performance.now()),
  );
  const fromCall = [];
  const fromCommit = [];
  try {
    for (let i = 0; i < samples; i += 1) {
      // Let the worker go back to waiting, as between jobs that come one
      // at a time.
      await sleep(10);
      const started = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("a single job did not start within 10 s")), 10_000);
        onStart = (at) => {
          clearTimeout(timer);
          resolve(at);
        };
      });
      const called = performance.now();
      await utils.addJob(TASK, {});
      const committed = performance.now();
      const at = await started;
      fromCall.push(Math.max(0, at - called));
      fromCommit.push(Math.max(0, at - committed));
    }
  } finally {
    await runner.stop();
  }
  return { from_call: p50p95(fromCall), from_commit: p50p95(fromCommit) };
}

function p50p95(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))];
  return { p50_ms: at(0.5), p95_ms: at(0.95) };
}

async function main() {
  const url = args.postgres ?? process.env.HIT_TEST_POSTGRES_URL;
  if (!url) {
    throw new Error("no PostgreSQL URL (--postgres or HIT_TEST_POSTGRES_URL)");
  }
  if (args.child) {
    await child(url, args.child);
    return;
  }
  const n = count("jobs");
  const concurrency = count("concurrency");
  const localQueue = count("local-queue");
  const schema = `graphile_worker_bench_${process.pid}`;
  await runMigrations({ connectionString: url, schema, logger });
  const utils = await makeWorkerUtils({ connectionString: url, schema, logger });
  try {
    const version = (await import("graphile-worker/package.json", { with: { type: "json" } })).default
      .version;
    const lat = await latency(url, schema, utils, count("samples"));
    note(`latency: p50 ${lat.from_call.p50_ms.toFixed(2)} ms, p95 ${lat.from_call.p95_ms.toFixed(2)} ms`);
    const defaults = await inProcessRate(url, schema, utils, { concurrency, isBatched: false }, n);
    note(`1 process, defaults: ${defaults.toFixed(0)} jobs/s`);
    const batched = await inProcessRate(
      url,
      schema,
      utils,
      { concurrency, isBatched: true, localQueue },
      n,
    );
    note(`1 process, batched: ${batched.toFixed(0)} jobs/s`);
    const two = await processesRate(url, schema, utils, 2, n);
    note(`2 processes, batched: ${two.toFixed(0)} jobs/s`);
    const result = {
      graphile_worker: version,
      node: process.version,
      jobs: n,
      concurrency,
      local_queue: localQueue,
      jobs_per_sec: { defaults_1_process: defaults, batched_1_process: batched, batched_2_processes: two },
      latency: lat,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await utils.withPgClient((client) => client.query(`drop schema if exists "${schema}" cascade`));
    await utils.release();
  }
}

function note(line) {
  process.stderr.write(`graphile-worker: ${line}\n`);
}

main().catch((error) => {
  process.stderr.write(`graphile bench: ${error?.stack ?? error}\n`);
  process.exit(1);
});
