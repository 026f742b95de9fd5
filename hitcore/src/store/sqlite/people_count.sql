-- The number of people on all pages of a people list: the conditions of
-- people_page.sql, without sorting and paging.
WITH scope_groups AS (
    SELECT g.id FROM groups g
    WHERE {scope} AND g.deleted_at IS NULL
)
SELECT COUNT(*)
FROM people p
WHERE p.id IN (
        SELECT r.person_id FROM roles r
        WHERE r.group_id IN (SELECT id FROM scope_groups)
          AND r.archived_at IS NULL
          AND (r.start_on IS NULL OR r.start_on <= :today)
          AND (r.end_on IS NULL OR r.end_on >= :today)
          AND (:types IS NULL OR r.type IN (SELECT value FROM json_each(:types)))
    )
  AND (:contact_only = FALSE OR p.contact_data_visible = TRUE)
  AND NOT EXISTS (
        SELECT 1 FROM json_each(:terms) t
        -- A NULL field matches nothing, so a term no field matches is FALSE.
        WHERE NOT coalesce(
               hit_fold(p.first_name) LIKE t.value ESCAPE '\'
            OR hit_fold(p.first_name) LIKE '% ' || t.value ESCAPE '\'
            OR hit_fold(p.last_name) LIKE t.value ESCAPE '\'
            OR hit_fold(p.last_name) LIKE '% ' || t.value ESCAPE '\'
            OR hit_fold(p.nickname) LIKE t.value ESCAPE '\'
            OR hit_fold(p.nickname) LIKE '% ' || t.value ESCAPE '\'
            OR hit_fold(p.company_name) LIKE t.value ESCAPE '\'
            OR hit_fold(p.company_name) LIKE '% ' || t.value ESCAPE '\'
            OR hit_fold(p.email) LIKE t.value ESCAPE '\'
            OR hit_fold(p.town) LIKE t.value ESCAPE '\'
            OR hit_fold(p.town) LIKE '% ' || t.value ESCAPE '\',
            FALSE
        )
    )
