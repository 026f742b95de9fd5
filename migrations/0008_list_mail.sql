-- Version 8: the list mail pipeline (issue 5, items 5 and 6).
--
-- A message fetched from the list mailbox is written to `inbound_mails`
-- before it leaves the mailbox; a crash after that and before the
-- deletion fetches it again, and `raw_hash` says it is known. Each list
-- it is for gets a `list_messages` row (one per list and message, so the
-- copies Postfix delivers for two list addresses reach each list once),
-- and each address that list's mail goes to a `list_deliveries` row with
-- the SMTP transaction (`batch`) it goes out in. The delivery states:
-- * pending: not yet handed to the mail server;
-- * handed: marked just before the message bytes went to the server; a
--   row still in this state after its job's attempt ended is
--   `uncertain`, and never sent again;
-- * sent: the server accepted it; failed: refused for good (`error`).
-- See ARCHITECTURE.md, "List mail".

CREATE TABLE inbound_mails (
    id INTEGER PRIMARY KEY,
    -- sha256 of the raw bytes, hex.
    raw_hash TEXT NOT NULL,
    -- The duplicate key of hitcore::relay: Message-ID, else a hash.
    message_key TEXT NOT NULL,
    sender TEXT,
    subject TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    -- accepted | unreadable | unknown_list | dropped | duplicate
    outcome TEXT NOT NULL,
    -- Why, for the outcomes that are not `accepted` (list names, reasons).
    note TEXT,
    received_at TEXT NOT NULL
);

CREATE UNIQUE INDEX inbound_mails_raw_hash_idx ON inbound_mails (raw_hash);

-- The raw message is kept until every list's copy is finished, then
-- cleared. BLOB and BYTEA are the two dialects' names for bytes.
-- sqlite-only begin
ALTER TABLE inbound_mails ADD COLUMN raw BLOB;
-- sqlite-only end
-- postgres-only begin
--pg ALTER TABLE inbound_mails ADD COLUMN raw BYTEA;
-- postgres-only end

CREATE TABLE list_messages (
    id INTEGER PRIMARY KEY,
    inbound_mail_id BIGINT NOT NULL REFERENCES inbound_mails (id),
    -- No foreign key: deleting a list keeps its messages.
    mailing_list_id BIGINT NOT NULL,
    message_key TEXT NOT NULL,
    -- Written into the forwarded message as X-Hit-List-Message, so that a
    -- bounce can be traced back to this row.
    token TEXT NOT NULL,
    -- hitcore::list_mail::ListMessageState, snake_case
    state TEXT NOT NULL,
    subject TEXT NOT NULL,
    sender TEXT NOT NULL,
    -- Whether the sender is told of a rejection (never an automated one).
    is_reply_due BOOLEAN NOT NULL,
    recipients BIGINT NOT NULL DEFAULT 0,
    sent BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    uncertain BIGINT NOT NULL DEFAULT 0,
    received_at TEXT NOT NULL,
    -- Set once the recipients are written to list_deliveries.
    planned_at TEXT,
    finished_at TEXT
);

CREATE UNIQUE INDEX list_messages_copy_idx ON list_messages (mailing_list_id, message_key);
CREATE UNIQUE INDEX list_messages_token_idx ON list_messages (token);
CREATE INDEX list_messages_inbound_idx ON list_messages (inbound_mail_id);

CREATE TABLE list_deliveries (
    list_message_id BIGINT NOT NULL REFERENCES list_messages (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    person_id BIGINT,
    batch BIGINT NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (list_message_id, email)
);

CREATE INDEX list_deliveries_batch_idx ON list_deliveries (list_message_id, state, batch);
