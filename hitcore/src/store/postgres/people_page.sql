-- One page of a people list on PostgreSQL: the statement of the SQLite
-- store's people_page.sql in this dialect. `{scope}` is one of the
-- constant scope conditions on `g` in people.rs; `{columns}` the person
-- columns.
--
-- Parameters: $1 scope group id, $2 today (YYYY-MM-DD), $3 the role types
-- that count (NULL for all), $4 contact data only, $5 one LIKE pattern per
-- word (lower case by the rules of `hit_fold`, each to match the start of
-- a word of some field), $6 limit, $7 offset.
--
-- The scope resolves to a few group ids through the groups indexes, the
-- roles of those groups through roles(group_id, person_id), the people by
-- primary key; only that set is filtered and sorted. The sort keys are the
-- expressions of people_name_idx. The sort carries the id and the keys
-- alone (`page`); only the people of the page are read whole. The window
-- count gives the number on all pages from the same rows, so that the
-- count statement (people_count.sql) runs only for a page past the end.
WITH scope_groups AS (
    SELECT g.id FROM groups g
    WHERE {scope} AND g.deleted_at IS NULL
),
page AS (
    SELECT p.id AS id,
           lower(coalesce(p.last_name, '') COLLATE "C") AS last_key,
           lower(coalesce(p.first_name, '') COLLATE "C") AS first_key,
           lower(coalesce(p.nickname, '') COLLATE "C") AS nick_key,
           count(*) OVER () AS total
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
      AND (cardinality($5::text[]) = 0 OR NOT EXISTS (
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
        ))
    ORDER BY last_key, first_key, nick_key, p.id
    LIMIT $6::bigint OFFSET $7::bigint
)
SELECT {columns}, page.total
FROM page JOIN people p ON p.id = page.id
ORDER BY page.last_key, page.first_key, page.nick_key, page.id
