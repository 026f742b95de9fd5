-- Version 10: version stamps for the caches (issue 6).
--
-- The web tier caches what every request needs and rarely changes: the
-- group tree, each signed-in person's roles, the recipient counts of
-- mailing lists. A cached value is stored under a key that embeds the
-- stamp of what it was computed from, and the query that checks the
-- session reads the stamps along with the person. Every change gives the
-- stamp a new value, so the next request asks for a new key and never
-- sees the old value, whichever process made the change and whether or
-- not any cache could be told: nothing has to be deleted for the cache to
-- stay right.
--
-- The triggers below set the stamps, so that no code path (the stores,
-- bulk loads, a hand-written fix in psql) can forget to. A new stamp is a
-- random number rather than the next of a counter: a database restored
-- from a backup, or a SQLite person id handed out again, could otherwise
-- repeat a stamp that a cache still holds a different value for; and two
-- databases sharing one memcached (tests, staging) do not meet.
--
-- * `cache_stamps`: the stamp `groups` changes with every write to
--   `groups`; `memberships` with every write that can change who a mailing
--   list reaches (roles, people and their emails, additional emails,
--   lists, subscriptions and their role types). SQLite keeps one row per
--   stamp (`stripe` 0); PostgreSQL keeps 16 and the stamp is the XOR of
--   them (see below).
-- * `access_stamps`, one row per person: changes with every write to the
--   person's roles, and is new when the person is.
--
-- PostgreSQL runs the stores' writes SERIALIZABLE and retries those it
-- refuses. Had every role write updated one shared row, any two at once
-- would collide there and one would be retried; so each transaction bumps
-- one of 16 stripes (chosen by its transaction id, the same for all its
-- statements), and two writes collide only one time in 16. The trigger
-- functions read by index (`enable_seqscan` off): a sequential scan would
-- lock the whole table against concurrent writers. The person stamps are
-- set once per statement from its transition table, so the `COPY` of a
-- bulk load costs one statement, not one per row.

CREATE TABLE cache_stamps (
    name TEXT NOT NULL,
    stripe BIGINT NOT NULL,
    stamp BIGINT NOT NULL,
    PRIMARY KEY (name, stripe)
);

-- No reference to `people`: the rows of a person's roles are deleted with
-- the person, and their trigger must not fail on a person already gone.
CREATE TABLE access_stamps (
    person_id BIGINT NOT NULL PRIMARY KEY,
    stamp BIGINT NOT NULL
);

-- sqlite-only begin
-- `random()` is a random 64-bit integer here. Every person has a row of
-- `access_stamps` (the back-fill, then the insert trigger, which replaces
-- any row a deleted person with the same id left), so the role triggers
-- update it.
INSERT INTO cache_stamps (name, stripe, stamp) VALUES ('groups', 0, random()),
    ('memberships', 0, random());
INSERT INTO access_stamps (person_id, stamp) SELECT id, random() FROM people;

CREATE TRIGGER groups_stamp_insert AFTER INSERT ON groups BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'groups';
END;

CREATE TRIGGER groups_stamp_update AFTER UPDATE ON groups BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'groups';
END;

CREATE TRIGGER groups_stamp_delete AFTER DELETE ON groups BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'groups';
END;

CREATE TRIGGER roles_stamp_insert AFTER INSERT ON roles BEGIN
    UPDATE access_stamps SET stamp = random() WHERE person_id = new.person_id;
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER roles_stamp_update AFTER UPDATE ON roles BEGIN
    UPDATE access_stamps SET stamp = random() WHERE person_id IN (old.person_id, new.person_id);
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER roles_stamp_delete AFTER DELETE ON roles BEGIN
    UPDATE access_stamps SET stamp = random() WHERE person_id = old.person_id;
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER people_stamp_insert AFTER INSERT ON people BEGIN
    INSERT OR REPLACE INTO access_stamps (person_id, stamp) VALUES (new.id, random());
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER people_stamp_update AFTER UPDATE OF email ON people BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER people_stamp_delete AFTER DELETE ON people BEGIN
    DELETE FROM access_stamps WHERE person_id = old.id;
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER additional_emails_stamp_insert AFTER INSERT ON additional_emails BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER additional_emails_stamp_update AFTER UPDATE ON additional_emails BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER additional_emails_stamp_delete AFTER DELETE ON additional_emails BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER mailing_lists_stamp_insert AFTER INSERT ON mailing_lists BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER mailing_lists_stamp_update AFTER UPDATE ON mailing_lists BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER mailing_lists_stamp_delete AFTER DELETE ON mailing_lists BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER subscriptions_stamp_insert AFTER INSERT ON subscriptions BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER subscriptions_stamp_update AFTER UPDATE ON subscriptions BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER subscriptions_stamp_delete AFTER DELETE ON subscriptions BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER subscription_role_types_stamp_insert AFTER INSERT ON subscription_role_types
BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER subscription_role_types_stamp_update AFTER UPDATE ON subscription_role_types
BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER subscription_role_types_stamp_delete AFTER DELETE ON subscription_role_types
BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;
-- sqlite-only end

-- postgres-only begin
-- `hit_new_stamp` draws a random BIGINT (`random()` is a double in
-- [0, 1) here; 9e18 stays below the largest BIGINT). The functions are
-- written in PostgreSQL's dialect and taken as they are. The fill factors
-- leave room for the updates to stay on their page (HOT), so that they
-- write no index entry another transaction could have read.
--pg ALTER TABLE cache_stamps SET (fillfactor = 10);
--pg ALTER TABLE access_stamps SET (fillfactor = 70);
--pg
--pg CREATE FUNCTION hit_new_stamp() RETURNS bigint
--pg     LANGUAGE sql VOLATILE PARALLEL SAFE
--pg     AS $$ SELECT (random() * 9.0e18)::bigint $$;
--pg
--pg INSERT INTO cache_stamps (name, stripe, stamp)
--pg     SELECT name, stripe, hit_new_stamp()
--pg     FROM (VALUES ('groups'), ('memberships')) AS n (name), generate_series(0, 15) AS stripe;
--pg INSERT INTO access_stamps (person_id, stamp) SELECT id, hit_new_stamp() FROM people;
--pg
--pg -- TG_ARGV[0] names the stamp: `groups` or `memberships`.
--pg CREATE FUNCTION hit_bump_cache_stamp() RETURNS trigger LANGUAGE plpgsql
--pg     SET enable_seqscan = off AS $$
--pg BEGIN
--pg     UPDATE cache_stamps SET stamp = hit_new_stamp()
--pg     WHERE name = TG_ARGV[0] AND stripe = txid_current() % 16;
--pg     RETURN NULL;
--pg END $$;
--pg
--pg CREATE TRIGGER groups_stamp BEFORE INSERT OR UPDATE OR DELETE ON groups
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_cache_stamp('groups');
--pg CREATE TRIGGER roles_stamp BEFORE INSERT OR UPDATE OR DELETE ON roles
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_cache_stamp('memberships');
--pg CREATE TRIGGER people_stamp BEFORE INSERT OR DELETE OR UPDATE OF email ON people
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_cache_stamp('memberships');
--pg CREATE TRIGGER additional_emails_stamp BEFORE INSERT OR UPDATE OR DELETE ON additional_emails
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_cache_stamp('memberships');
--pg CREATE TRIGGER mailing_lists_stamp BEFORE INSERT OR UPDATE OR DELETE ON mailing_lists
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_cache_stamp('memberships');
--pg CREATE TRIGGER subscriptions_stamp BEFORE INSERT OR UPDATE OR DELETE ON subscriptions
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_cache_stamp('memberships');
--pg CREATE TRIGGER subscription_role_types_stamp
--pg     BEFORE INSERT OR UPDATE OR DELETE ON subscription_role_types
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_cache_stamp('memberships');
--pg
--pg -- The people whose roles a statement wrote get new stamps: `changed`
--pg -- holds the rows before (update, delete) or after (insert) it, `added`
--pg -- those after an update. Every person has a row (from the insert
--pg -- trigger below, or the back-fill above), so an UPDATE does: unlike an
--pg -- upsert, it reads no index page that a concurrent insert writes.
--pg CREATE FUNCTION hit_bump_access_stamps() RETURNS trigger LANGUAGE plpgsql
--pg     SET enable_seqscan = off AS $$
--pg BEGIN
--pg     IF TG_OP = 'UPDATE' THEN
--pg         UPDATE access_stamps SET stamp = hit_new_stamp()
--pg         WHERE person_id IN (SELECT person_id FROM changed UNION SELECT person_id FROM added);
--pg     ELSE
--pg         UPDATE access_stamps SET stamp = hit_new_stamp()
--pg         WHERE person_id IN (SELECT person_id FROM changed);
--pg     END IF;
--pg     RETURN NULL;
--pg END $$;
--pg
--pg CREATE TRIGGER roles_access_stamp_insert AFTER INSERT ON roles
--pg     REFERENCING NEW TABLE AS changed
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_access_stamps();
--pg CREATE TRIGGER roles_access_stamp_update AFTER UPDATE ON roles
--pg     REFERENCING OLD TABLE AS changed NEW TABLE AS added
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_access_stamps();
--pg CREATE TRIGGER roles_access_stamp_delete AFTER DELETE ON roles
--pg     REFERENCING OLD TABLE AS changed
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_access_stamps();
--pg
--pg -- A new person starts with a stamp of their own; a deleted one's goes.
--pg -- PostgreSQL never hands an id out twice, so the insert finds no row.
--pg CREATE FUNCTION hit_person_access_stamps() RETURNS trigger LANGUAGE plpgsql AS $$
--pg BEGIN
--pg     IF TG_OP = 'INSERT' THEN
--pg         INSERT INTO access_stamps (person_id, stamp) SELECT id, hit_new_stamp() FROM changed;
--pg     ELSE
--pg         DELETE FROM access_stamps WHERE person_id IN (SELECT id FROM changed);
--pg     END IF;
--pg     RETURN NULL;
--pg END $$;
--pg
--pg CREATE TRIGGER people_access_stamp_insert AFTER INSERT ON people
--pg     REFERENCING NEW TABLE AS changed
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_person_access_stamps();
--pg CREATE TRIGGER people_access_stamp_delete AFTER DELETE ON people
--pg     REFERENCING OLD TABLE AS changed
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_person_access_stamps();
-- postgres-only end
