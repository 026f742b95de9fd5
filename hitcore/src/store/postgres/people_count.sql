-- The number of people on all pages of a people list: the conditions of
-- people_page.sql, without sorting and paging; parameters $1 to $5 as
-- there.
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
          AND (r.start_on IS NULL OR r.start_on <= $2::text)
          AND (r.end_on IS NULL OR r.end_on >= $2::text)
          AND ($3::text[] IS NULL OR r.type = ANY($3::text[]))
    )
  AND ($4::boolean = FALSE OR p.contact_data_visible = TRUE)
  AND NOT EXISTS (
        SELECT 1 FROM unnest($5::text[]) AS t(value)
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
