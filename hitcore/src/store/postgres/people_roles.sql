-- The counted roles of the people on one page of a people list: the role
-- conditions of people_page.sql ($1 to $3 as there), for the people in $4.
WITH scope_groups AS (
    SELECT g.id FROM groups g
    WHERE {scope} AND g.deleted_at IS NULL
)
SELECT {columns}
FROM roles r
WHERE r.person_id = ANY($4::bigint[])
  AND r.group_id IN (SELECT id FROM scope_groups)
  AND r.archived_at IS NULL
  AND (r.start_on IS NULL OR r.start_on <= $2::text)
  AND (r.end_on IS NULL OR r.end_on >= $2::text)
  AND ($3::text[] IS NULL OR r.type = ANY($3::text[]))
ORDER BY r.person_id, r.id
