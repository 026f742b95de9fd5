-- Version 13: a fetched message is known again by its arrival in the
-- mailbox (the mailbox's id for it together with its bytes,
-- hitcore::relay::arrival_key), no longer by its bytes alone: the same
-- bytes arriving twice are two messages (shared/cases 16). Rows written
-- before keep the hash of their bytes, which no arrival key repeats.

ALTER TABLE inbound_mails RENAME COLUMN raw_hash TO arrival_key;
DROP INDEX inbound_mails_raw_hash_idx;
CREATE UNIQUE INDEX inbound_mails_arrival_key_idx ON inbound_mails (arrival_key);
