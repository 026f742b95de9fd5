-- How the queues stand at $1, and how many workers are alive (not
-- stopped, heartbeat at $2 or later); see JobQueue::queue_stats.
--
-- Pending jobs are read from the claim index and running ones from the
-- running index (their partial predicates, word for word), so settled
-- jobs, most of the table, are never read. The left join on the worker
-- count keeps one row when no job is open; its queue is then NULL.
SELECT open_jobs.queue, open_jobs.waiting, open_jobs.scheduled, open_jobs.running,
       open_jobs.oldest_waiting, live.workers
FROM (
    SELECT COUNT(*) AS workers FROM workers WHERE stopped_at IS NULL AND heartbeat_at >= $2
) AS live
LEFT JOIN (
    SELECT queue,
           SUM(CASE WHEN is_running = 0 AND run_at <= $1 THEN 1 ELSE 0 END) AS waiting,
           SUM(CASE WHEN is_running = 0 AND run_at > $1 THEN 1 ELSE 0 END) AS scheduled,
           SUM(is_running) AS running,
           MIN(CASE WHEN is_running = 0 AND run_at <= $1 THEN run_at END) AS oldest_waiting
    FROM (
        SELECT queue, run_at, 0 AS is_running FROM jobs
        WHERE locked_by IS NULL AND finished_at IS NULL AND failed_at IS NULL
        UNION ALL
        SELECT queue, run_at, 1 AS is_running FROM jobs WHERE locked_by IS NOT NULL
    ) AS open_rows
    GROUP BY queue
) AS open_jobs ON 1 = 1
ORDER BY open_jobs.queue
