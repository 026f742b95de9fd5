-- Version 4: the job queue and the worker processes that run it (issue 4,
-- item 1).
--
-- The web tier persists work in `jobs`, in the same transaction as the
-- change that needs it, and worker processes on any hosts claim it when it
-- is due. A job's state is in its columns (see `Job::state` in
-- hitcore/src/jobs.rs):
-- * pending: locked_by, finished_at and failed_at are NULL;
-- * running: locked_by names the worker, locked_at says since when;
-- * succeeded or failed: finished_at or failed_at is set, locked_by is
--   NULL again and locked_at keeps the start of the last attempt.
-- The stores clear locked_by whenever a job leaves a worker, so "locked_by
-- IS NOT NULL" alone means running.
--
-- Numbers are BIGINT throughout, so that both drivers read them as 64-bit
-- integers; the stores check the ranges of the domain types on the way
-- in and out.

CREATE TABLE workers (
    id INTEGER PRIMARY KEY,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    -- Set by a graceful stop; a worker killed with -9 never sets it and is
    -- found by its old heartbeat instead.
    stopped_at TEXT
);

-- Live workers by heartbeat: "who stopped beating?" for recover.
CREATE INDEX workers_heartbeat_idx ON workers (heartbeat_at) WHERE stopped_at IS NULL;

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    -- The persisted name of the job kind (`JobKind::KIND`).
    kind TEXT NOT NULL,
    -- JSON text.
    payload TEXT NOT NULL,
    queue TEXT NOT NULL,
    priority BIGINT NOT NULL,
    run_at TEXT NOT NULL,
    -- Counted when a worker claims the job, taken back when the attempt
    -- did not happen (a release).
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    max_run_secs BIGINT NOT NULL,
    last_error TEXT,
    -- No foreign key to workers: a check per claimed row would slow every
    -- claim, and only the stores write this column, with ids they handed
    -- out.
    locked_by BIGINT,
    locked_at TEXT,
    -- locked_at + max_run_secs as microseconds since the Unix epoch, set
    -- by the claim: timestamps are text, so "held for longer than its
    -- own maximum run time" is one comparison with an integer only this
    -- way, in both dialects.
    locked_until_us BIGINT,
    finished_at TEXT,
    failed_at TEXT,
    enqueued_by BIGINT REFERENCES people (id),
    progress_done BIGINT,
    progress_total BIGINT,
    -- The storage key of the file the job made.
    result_file TEXT,
    singleton_key TEXT,
    created_at TEXT NOT NULL
);

-- The claim: due jobs that nobody holds and that have not settled, best
-- first within a queue. Claimed and settled jobs leave this index, so it
-- stays as small as the backlog.
CREATE INDEX jobs_claim_idx ON jobs (queue, priority, run_at, id)
    WHERE locked_by IS NULL AND finished_at IS NULL AND failed_at IS NULL;

-- Running jobs by worker, with their deadline: recover looks for the jobs
-- of dead workers and for overdue ones here; stop_worker and the count of
-- open jobs too.
CREATE INDEX jobs_running_idx ON jobs (locked_by, locked_until_us) WHERE locked_by IS NOT NULL;

-- At most one pending or running job per singleton key, across all
-- processes: the second insert of a key conflicts (and is skipped by the
-- stores) until the first has succeeded or failed. A unique index is the
-- one check that two concurrent transactions cannot both pass.
CREATE UNIQUE INDEX jobs_singleton_key ON jobs (singleton_key)
    WHERE singleton_key IS NOT NULL AND finished_at IS NULL AND failed_at IS NULL;

-- A person's jobs, newest first (the job page).
CREATE INDEX jobs_enqueued_by_idx ON jobs (enqueued_by, created_at, id)
    WHERE enqueued_by IS NOT NULL;

-- Failed jobs, newest first (the administrators' part of the job page),
-- and the failed half of the clean-up.
CREATE INDEX jobs_failed_idx ON jobs (failed_at, id) WHERE failed_at IS NOT NULL;

-- The succeeded half of the clean-up of settled jobs.
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- postgres-only begin
-- The one dialect difference: storage parameters, which SQLite has no
-- notion of. Every job row is rewritten two or three times within seconds
-- of its insert, so dead row versions pile up quickly, and the claim reads
-- past those still in its index. Autovacuum's defaults wait for a fifth of
-- the table to be dead, which a table that keeps thirty days of settled
-- jobs reaches late; one per cent keeps the claim index lean. The spare
-- room per page lets progress updates (no indexed column changes) stay on
-- their page.
--pg ALTER TABLE jobs SET (
--pg     fillfactor = 80,
--pg     autovacuum_vacuum_scale_factor = 0.01,
--pg     autovacuum_vacuum_insert_scale_factor = 0.01,
--pg     autovacuum_analyze_scale_factor = 0.02
--pg );
-- postgres-only end
