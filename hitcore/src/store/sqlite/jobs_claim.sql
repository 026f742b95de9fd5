-- Locks up to ?5 due jobs of the queues {queues} names for worker ?1 at
-- ?2 (?3 in microseconds), counting an attempt on each; see
-- JobQueue::claim.
--
-- The store runs it in a BEGIN IMMEDIATE transaction: no other writer, of
-- this process or another on the same file, comes between the choice of
-- the jobs and their update. The update checks `locked_by IS NULL` all
-- the same, so that it can never take a job from another worker.
-- RETURNING gives the rows in no particular order; the store sorts them.
UPDATE jobs
SET locked_by = ?1,
    locked_at = ?2,
    locked_until_us = ?3 + max_run_secs * 1000000,
    attempts = attempts + 1
WHERE id IN (
        SELECT id FROM jobs
        WHERE {queues}
          AND locked_by IS NULL AND finished_at IS NULL AND failed_at IS NULL
          AND run_at <= ?2
        ORDER BY priority, run_at, id
        LIMIT ?5
    )
  AND locked_by IS NULL
RETURNING {columns}
