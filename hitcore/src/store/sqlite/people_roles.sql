-- The counted roles of the people on one page of a people list: the role
-- conditions of people_page.sql, for the people in :ids (a JSON array).
WITH scope_groups AS (
    SELECT g.id FROM groups g
    WHERE {scope} AND g.deleted_at IS NULL
)
SELECT {columns}
FROM roles r
WHERE r.person_id IN (SELECT value FROM json_each(:ids))
  AND r.group_id IN (SELECT id FROM scope_groups)
  AND r.archived_at IS NULL
  AND (r.start_on IS NULL OR r.start_on <= :today)
  AND (r.end_on IS NULL OR r.end_on >= :today)
  AND (:types IS NULL OR r.type IN (SELECT value FROM json_each(:types)))
ORDER BY r.person_id, r.id
