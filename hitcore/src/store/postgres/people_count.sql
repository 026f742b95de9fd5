-- The number of people on all pages of a people list: the conditions of
-- people_page.sql, without sorting and paging; parameters $1 to $5 as
-- there.
--
-- Without a filter on the people themselves (contact data, text) the
-- count is that of the distinct role holders, read from the roles index
-- alone; only a filter makes it look at each person's row.
WITH scope_groups AS (
    SELECT g.id FROM groups g
    WHERE {scope} AND g.deleted_at IS NULL
),
holders AS (
    SELECT DISTINCT r.person_id AS id FROM roles r
    WHERE r.group_id IN (SELECT id FROM scope_groups)
      AND r.archived_at IS NULL
      AND (r.start_on IS NULL OR r.start_on <= $2::text)
      AND (r.end_on IS NULL OR r.end_on >= $2::text)
      AND ($3::text[] IS NULL OR r.type = ANY($3::text[]))
)
SELECT COUNT(*)
FROM holders h
WHERE ($4::boolean = FALSE AND cardinality($5::text[]) = 0)
   OR EXISTS (
        SELECT 1 FROM people p
        WHERE p.id = h.id
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
    )
