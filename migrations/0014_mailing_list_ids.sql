-- Version 14: on SQLite, a mailing list's id is never handed out twice.
-- SQLite gives a new row the highest id plus one, so the newest list's id
-- came back once that list was deleted; the messages a deleted list keeps
-- (list_messages has no foreign key, on purpose), and one a fetch was
-- recording while the list was deleted, then belonged to the new list and
-- counted as seen by it. The store takes each new list's id from this
-- counter instead. PostgreSQL's sequences never repeat an id, so it has
-- none.

-- sqlite-only begin
CREATE TABLE id_sequences (
    name TEXT PRIMARY KEY,
    last_id BIGINT NOT NULL
);
INSERT INTO id_sequences (name, last_id) VALUES ('mailing_lists', max(
    coalesce((SELECT max(id) FROM mailing_lists), 0),
    coalesce((SELECT max(mailing_list_id) FROM list_messages), 0)
));
-- sqlite-only end
