-- Which of the people $1 the viewer may see, on PostgreSQL: the statement
-- of the SQLite store's search_visible.sql in this dialect.
--
-- Parameters: $1 the ids; the viewer's PeopleScope
-- (hitcore::ability::people_scope) as $2 everyone, $3 self, $4 contact
-- data, $5 without roles, and the groups of its areas
-- (search_area_groups.sql) as $6 (every role type counts) and $7 (only the
-- types $8 count); $9 today (YYYY-MM-DD).
SELECT p.id
FROM people p
WHERE p.id = ANY($1::bigint[])
  AND (
        $2::boolean
     OR p.id = $3::bigint
     OR ($4::boolean AND p.contact_data_visible = TRUE)
     OR ($5::boolean AND NOT EXISTS (
            SELECT 1
            FROM roles r
            JOIN groups g ON g.id = r.group_id
            WHERE r.person_id = p.id
              AND g.deleted_at IS NULL
              AND r.archived_at IS NULL
              AND (r.start_on IS NULL OR r.start_on <= $9::text)
              AND (r.end_on IS NULL OR r.end_on >= $9::text)
        ))
     OR EXISTS (
            SELECT 1
            FROM roles r
            WHERE r.person_id = p.id
              AND r.archived_at IS NULL
              AND (r.start_on IS NULL OR r.start_on <= $9::text)
              AND (r.end_on IS NULL OR r.end_on >= $9::text)
              AND (r.group_id = ANY($6::bigint[])
                   OR (r.group_id = ANY($7::bigint[]) AND r.type = ANY($8::text[])))
        )
  )
