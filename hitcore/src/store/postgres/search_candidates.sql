-- The people a viewer may see through their roles on PostgreSQL, as the
-- CTE `candidates`: the statement of the SQLite store's
-- search_candidates.sql in this dialect.
--
-- Parameters: $1 self, $2 contact data, the groups of the viewer's areas
-- (search_area_groups.sql) as $3 (every role type counts) and $4 (only the
-- types $5 count), $6 today (YYYY-MM-DD). search.rs renumbers them when
-- a statement's own parameters come first.
WITH candidates AS (
    SELECT r.person_id AS id
    FROM roles r
    WHERE r.group_id = ANY($3::bigint[])
      AND r.archived_at IS NULL
      AND (r.start_on IS NULL OR r.start_on <= $6::text)
      AND (r.end_on IS NULL OR r.end_on >= $6::text)
    UNION ALL
    SELECT r.person_id
    FROM roles r
    WHERE r.group_id = ANY($4::bigint[])
      AND r.type = ANY($5::text[])
      AND r.archived_at IS NULL
      AND (r.start_on IS NULL OR r.start_on <= $6::text)
      AND (r.end_on IS NULL OR r.end_on >= $6::text)
    UNION ALL
    SELECT $1::bigint
    UNION ALL
    SELECT p.id FROM people p WHERE $2::boolean AND p.contact_data_visible = TRUE
)
