-- One page of a people list: the people holding at least one counted role
-- in the scope, sorted by name. `{scope}` is one of the constant scope
-- conditions on `g` in people.rs; `{columns}` the person columns.
--
-- Parameters: :scope group id, :today (YYYY-MM-DD), :types (JSON array of
-- role types, or NULL for all), :contact_only, :terms (JSON array of LIKE
-- patterns, lower case by the rules of `hit_fold`, each to match the start
-- of a word of some field), :limit, :offset.
--
-- The scope resolves to a few group ids through the groups indexes, the
-- roles of those groups through roles(group_id, person_id), the people by
-- primary key; only that set is filtered and sorted. The sort carries the
-- id and the sort keys alone (`page`), and only the people of the page are
-- read whole: a club of 10,000 members asked for page 100 keeps 5,000
-- entries in the sorter, which costs twice as much with every column.
WITH scope_groups AS (
    SELECT g.id FROM groups g
    WHERE {scope} AND g.deleted_at IS NULL
),
page AS (
    SELECT p.id AS id,
           lower(coalesce(p.last_name, '')) AS last_key,
           lower(coalesce(p.first_name, '')) AS first_key,
           lower(coalesce(p.nickname, '')) AS nick_key
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
      AND (:terms = '[]' OR NOT EXISTS (
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
        ))
    ORDER BY last_key, first_key, nick_key, p.id
    LIMIT :limit OFFSET :offset
)
SELECT {columns}
FROM page JOIN people p ON p.id = page.id
ORDER BY page.last_key, page.first_key, page.nick_key, page.id
