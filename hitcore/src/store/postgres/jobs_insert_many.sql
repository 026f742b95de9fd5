-- Many jobs in one statement (JobQueue::enqueue_many): one array per
-- column, $9 the time of the insert. WITH ORDINALITY and the ORDER BY
-- insert the rows in the order given, so that their ids, which the
-- identity hands out in insert order, sorted, are in that order too.
INSERT INTO jobs (kind, payload, queue, priority, run_at, max_attempts, max_run_secs,
                  enqueued_by, created_at)
SELECT j.kind, j.payload, j.queue, j.priority, j.run_at, j.max_attempts, j.max_run_secs,
       j.enqueued_by, $9::text
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[],
            $7::bigint[], $8::bigint[])
     WITH ORDINALITY AS j (kind, payload, queue, priority, run_at, max_attempts, max_run_secs,
                           enqueued_by, n)
ORDER BY j.n
RETURNING id
