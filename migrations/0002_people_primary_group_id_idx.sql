-- Version 2: an index on people.primary_group_id.
--
-- The column references groups (id) but had no index, so every check of
-- that foreign key (SQLite runs them with foreign_keys = ON, PostgreSQL on
-- any change of a referenced group row) and every question "whose primary
-- group is this?" read the whole people table: half a million rows at the
-- scale of a large federation.
CREATE INDEX people_primary_group_id_idx ON people (primary_group_id);
