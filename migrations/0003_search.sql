-- Version 3: full-text search over people and groups (issue 3, item 5).
--
-- The search box finds people by first name, last name, nickname, company
-- name, email and town, and groups by name, short name, email and town:
-- every word of the query as the start of a word of some field, with case
-- and accents ignored either way ("Muller" finds "Müller", "Zürich" finds
-- "Zurich"). A LIKE over every column would read the whole table on each
-- key stroke; these indexes answer from the words instead.
--
-- The two databases index differently, so this file has one block per
-- dialect (the rewrite `postgres_dialect` in
-- hitcore/src/store/postgres/mod.rs drops the SQLite block and takes the
-- PostgreSQL one, whose lines SQLite reads as comments). Both fold the
-- same way: lower case, then accents removed by decomposing each letter
-- and dropping the combining marks (FTS5's `remove_diacritics 2`; on
-- PostgreSQL `normalize(..., NFD)` and the marks U+0300 to U+036F).

-- The people a contact_data holder may find, without reading the table.
CREATE INDEX people_contact_data_visible_idx ON people (id) WHERE contact_data_visible = TRUE;

-- sqlite-only begin
-- External-content FTS5 tables: the text stays in `people` and `groups`,
-- the index holds the words. The triggers keep it in step with every
-- write, whichever code path makes it; prefix indexes of 2 and 3
-- characters make the short prefixes of type-ahead cheap.
CREATE VIRTUAL TABLE people_search USING fts5 (
    first_name, last_name, nickname, company_name, email, town,
    content = 'people', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);

CREATE TRIGGER people_search_insert AFTER INSERT ON people BEGIN
    INSERT INTO people_search (rowid, first_name, last_name, nickname, company_name, email, town)
    VALUES (new.id, new.first_name, new.last_name, new.nickname, new.company_name, new.email,
            new.town);
END;

CREATE TRIGGER people_search_delete AFTER DELETE ON people BEGIN
    INSERT INTO people_search (people_search, rowid, first_name, last_name, nickname,
                               company_name, email, town)
    VALUES ('delete', old.id, old.first_name, old.last_name, old.nickname, old.company_name,
            old.email, old.town);
END;

CREATE TRIGGER people_search_update
AFTER UPDATE OF first_name, last_name, nickname, company_name, email, town ON people BEGIN
    INSERT INTO people_search (people_search, rowid, first_name, last_name, nickname,
                               company_name, email, town)
    VALUES ('delete', old.id, old.first_name, old.last_name, old.nickname, old.company_name,
            old.email, old.town);
    INSERT INTO people_search (rowid, first_name, last_name, nickname, company_name, email, town)
    VALUES (new.id, new.first_name, new.last_name, new.nickname, new.company_name, new.email,
            new.town);
END;

INSERT INTO people_search (people_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE groups_search USING fts5 (
    name, short_name, email, town,
    content = 'groups', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);

CREATE TRIGGER groups_search_insert AFTER INSERT ON groups BEGIN
    INSERT INTO groups_search (rowid, name, short_name, email, town)
    VALUES (new.id, new.name, new.short_name, new.email, new.town);
END;

CREATE TRIGGER groups_search_delete AFTER DELETE ON groups BEGIN
    INSERT INTO groups_search (groups_search, rowid, name, short_name, email, town)
    VALUES ('delete', old.id, old.name, old.short_name, old.email, old.town);
END;

CREATE TRIGGER groups_search_update AFTER UPDATE OF name, short_name, email, town ON groups BEGIN
    INSERT INTO groups_search (groups_search, rowid, name, short_name, email, town)
    VALUES ('delete', old.id, old.name, old.short_name, old.email, old.town);
    INSERT INTO groups_search (rowid, name, short_name, email, town)
    VALUES (new.id, new.name, new.short_name, new.email, new.town);
END;

INSERT INTO groups_search (groups_search) VALUES ('rebuild');
-- sqlite-only end

-- postgres-only begin
-- A generated tsvector per row with a GIN index. The name fields get
-- weight A, the others weight B, so that the ranking can ask for name
-- matches alone. The `simple` configuration keeps every word as it is
-- (no stemming, no stop words). The characters that PostgreSQL's parser
-- reads as parts of emails, hosts, paths, tags and entities become spaces
-- first, so that text splits into words as FTS5 splits it: an email is
-- three words rather than one token, and a name written like an HTML tag
-- hides nothing behind it.
--
-- `hit_search_fold` uses built-in functions only, so it resolves whatever
-- the search path (pg_dump restores with an empty one). It is written in
-- PostgreSQL's dialect and taken as it is.
--pg CREATE FUNCTION hit_search_fold(value text) RETURNS text
--pg     LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
--pg     AS $$ SELECT regexp_replace(normalize(lower(value COLLATE "und-x-icu"), NFD),
--pg                                 '[\u0300-\u036f]', '', 'g') COLLATE "C" $$;
--pg
--pg ALTER TABLE people ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
--pg     setweight(to_tsvector('simple', translate(hit_search_fold(
--pg         coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' '
--pg         || coalesce(nickname, '') || ' ' || coalesce(company_name, '')),
--pg         '@./:_+<>&;\~', '            ')), 'A')
--pg     || setweight(to_tsvector('simple', translate(hit_search_fold(
--pg         coalesce(email, '') || ' ' || coalesce(town, '')),
--pg         '@./:_+<>&;\~', '            ')), 'B')
--pg ) STORED;
--pg
--pg CREATE INDEX people_search_idx ON people USING GIN (search_vector);
--pg
--pg ALTER TABLE groups ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
--pg     setweight(to_tsvector('simple', translate(hit_search_fold(
--pg         coalesce(name, '') || ' ' || coalesce(short_name, '')),
--pg         '@./:_+<>&;\~', '            ')), 'A')
--pg     || setweight(to_tsvector('simple', translate(hit_search_fold(
--pg         coalesce(email, '') || ' ' || coalesce(town, '')),
--pg         '@./:_+<>&;\~', '            ')), 'B')
--pg ) STORED;
--pg
--pg CREATE INDEX groups_search_idx ON groups USING GIN (search_vector);
-- postgres-only end
