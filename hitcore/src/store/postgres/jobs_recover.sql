-- Takes back, at $1 ($3 in microseconds), the running jobs of workers
-- whose last heartbeat is older than $2 and the running jobs held past
-- their deadline (see JobQueue::recover); as jobs_recover.sql of the
-- SQLite store. Each returns to the queue, or is kept as failed when it
-- has used up its attempts (they were counted when it was claimed);
-- last_error says why it was taken back. Its run_at stays as it was, in
-- the past, so it comes first again among its equals.
--
-- A worker that settles one of these jobs at the same moment holds its
-- row lock first; READ COMMITTED then checks this statement's conditions
-- again on the settled row, which no longer matches.
WITH dead AS (
    SELECT id FROM workers WHERE stopped_at IS NULL AND heartbeat_at < $2::text
)
UPDATE jobs
SET last_error = 'taken back: worker ' || locked_by
        || CASE WHEN locked_by IN (SELECT id FROM dead) THEN ' stopped beating'
                ELSE ' did not finish within ' || max_run_secs || ' s' END,
    failed_at = CASE WHEN attempts >= max_attempts THEN $1::text END,
    locked_at = CASE WHEN attempts >= max_attempts THEN locked_at END,
    locked_by = NULL,
    locked_until_us = NULL
WHERE locked_by IS NOT NULL
  AND (locked_until_us < $3::bigint OR locked_by IN (SELECT id FROM dead))
