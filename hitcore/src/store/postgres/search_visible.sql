-- Which of the people $1 the viewer may see, on PostgreSQL: the statement
-- of the SQLite store's search_visible.sql in this dialect.
--
-- Parameters: $1 the ids; the viewer's PeopleScope
-- (hitcore::ability::people_scope) as $2 everyone, $3 self, $4 contact
-- data, $5 without roles, $6, $7 and $8 the areas (reach, group id,
-- visible from above only; one array each) and $9 the role types visible
-- from above; $10 today (YYYY-MM-DD).
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
              AND (r.start_on IS NULL OR r.start_on <= $10::text)
              AND (r.end_on IS NULL OR r.end_on >= $10::text)
        ))
     OR EXISTS (
            SELECT 1
            FROM roles r
            JOIN groups g ON g.id = r.group_id
            JOIN unnest($6::text[], $7::bigint[], $8::boolean[])
                 AS a (reach, group_id, visible_only) ON TRUE
            JOIN groups s ON s.id = a.group_id
            WHERE r.person_id = p.id
              AND g.deleted_at IS NULL
              AND r.archived_at IS NULL
              AND (r.start_on IS NULL OR r.start_on <= $10::text)
              AND (r.end_on IS NULL OR r.end_on >= $10::text)
              AND (NOT a.visible_only OR r.type = ANY($9::text[]))
              AND CASE a.reach
                    WHEN 'group' THEN g.id = s.id
                    WHEN 'group_and_below' THEN g.layer_group_id = s.layer_group_id
                         AND g.path >= s.path
                         AND g.path < substr(s.path, 1, length(s.path) - 1) || '0'
                    WHEN 'layer' THEN g.layer_group_id = s.id
                    WHEN 'layer_and_below' THEN g.path >= s.path
                         AND g.path < substr(s.path, 1, length(s.path) - 1) || '0'
                    ELSE FALSE
                  END
        )
  )
