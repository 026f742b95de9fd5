-- Locks up to $5 due jobs of the queues {queues} names for worker $1 at
-- $2 ($3 in microseconds), counting an attempt on each; see
-- JobQueue::claim.
--
-- FOR UPDATE SKIP LOCKED lets any number of claims run at once: each locks
-- the best candidates that no other claim has locked, passing over those,
-- and a candidate that another claim took meanwhile no longer matches
-- `locked_by IS NULL` when its lock is granted, so it is skipped too. The
-- statement runs on its own (autocommit, READ COMMITTED), so the locks
-- last only as long as the update. RETURNING gives the rows in no
-- particular order; the store sorts them.
UPDATE jobs
SET locked_by = $1,
    locked_at = $2,
    locked_until_us = $3 + max_run_secs * 1000000,
    attempts = attempts + 1
WHERE id IN (
        SELECT id FROM jobs
        WHERE {queues}
          AND locked_by IS NULL AND finished_at IS NULL AND failed_at IS NULL
          AND run_at <= $2
        ORDER BY priority, run_at, id
        LIMIT $5
        FOR UPDATE SKIP LOCKED
    )
RETURNING {columns}
