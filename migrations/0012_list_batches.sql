-- Version 12: list delivery state kept per SMTP transaction (issue 5).
--
-- Version 8 wrote one `list_deliveries` row per recipient and updated it
-- twice as its batch went out. For a list of 10,000 that was 10,000 rows
-- written at planning and 20,000 updates, most of the relay's time on
-- PostgreSQL. Now a batch is one `list_batches` row holding its envelope
-- recipients, and their state is the batch's:
-- * pending: not yet handed to the mail server;
-- * handed: marked just before the message bytes went to the server; a
--   batch still in this state when its job starts again is `uncertain`,
--   never sent again;
-- * sent: the server answered for every recipient of the batch;
-- * deferred: refused for now (4xx), pending again on the job's next
--   attempt.
-- The addresses the server refused for good also get a `list_refusals`
-- row with its reply. When a server refuses some recipients of a batch
-- for now, those move to a new deferred batch, numbered from
-- `list_messages.batches`, so that each address is in one batch.
-- A message's counts are read from its batches and refusals; the
-- counters on `list_messages` go, as every batch of a message had to
-- update that one row.
-- See ARCHITECTURE.md, "List mail".

ALTER TABLE list_messages ADD COLUMN batches BIGINT NOT NULL DEFAULT 0;

CREATE TABLE list_batches (
    list_message_id BIGINT NOT NULL REFERENCES list_messages (id) ON DELETE CASCADE,
    batch BIGINT NOT NULL,
    state TEXT NOT NULL,
    -- One address per line (an SMTP address cannot hold a line break),
    -- `size` of them.
    recipients TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (list_message_id, batch)
);

CREATE TABLE list_refusals (
    list_message_id BIGINT NOT NULL REFERENCES list_messages (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    error TEXT NOT NULL,
    PRIMARY KEY (list_message_id, email)
);

-- The rows of version 8 move over: the rows of one old batch with one
-- state become a batch (a refused row counts with the sent ones of its
-- batch, and gets its refusal), numbered anew per message.
-- sqlite-only begin
INSERT INTO list_batches (list_message_id, batch, state, recipients, size)
SELECT list_message_id, number, state, group_concat(email, char(10) ORDER BY email),
       count(*)
FROM (SELECT list_message_id, email,
             CASE state WHEN 'failed' THEN 'sent' ELSE state END AS state,
             dense_rank() OVER (PARTITION BY list_message_id
                                ORDER BY batch, CASE state WHEN 'failed' THEN 'sent' ELSE state END)
                 - 1 AS number
      FROM list_deliveries)
GROUP BY list_message_id, number, state;
-- sqlite-only end
-- postgres-only begin
--pg INSERT INTO list_batches (list_message_id, batch, state, recipients, size)
--pg SELECT list_message_id, number, state, string_agg(email, chr(10) ORDER BY email COLLATE "C"),
--pg        count(*)
--pg FROM (SELECT list_message_id, email,
--pg              CASE state WHEN 'failed' THEN 'sent' ELSE state END AS state,
--pg              dense_rank() OVER (PARTITION BY list_message_id
--pg                                 ORDER BY batch, CASE state WHEN 'failed' THEN 'sent' ELSE state END)
--pg                  - 1 AS number
--pg       FROM list_deliveries) AS d
--pg GROUP BY list_message_id, number, state;
-- postgres-only end

INSERT INTO list_refusals (list_message_id, email, error)
SELECT list_message_id, email, coalesce(error, '')
FROM list_deliveries WHERE state = 'failed';

UPDATE list_messages SET batches = coalesce(
    (SELECT max(b.batch) + 1 FROM list_batches b WHERE b.list_message_id = list_messages.id), 0);

DROP TABLE list_deliveries;
ALTER TABLE list_messages DROP COLUMN sent;
ALTER TABLE list_messages DROP COLUMN failed;
ALTER TABLE list_messages DROP COLUMN uncertain;
