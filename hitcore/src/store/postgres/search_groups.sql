-- The groups a search finds on PostgreSQL: the statement of the SQLite
-- store's search_groups.sql in this dialect, over the generated
-- `search_vector` column and its GIN index (migrations/0003_search.sql).
-- `{columns}` is the group columns.
--
-- Parameters: $1, $2 and $3, three tsquery texts (every column by prefix;
-- the name columns by prefix; the name columns exactly), folded here by
-- hit_search_fold as the column was; $4 the limit.
SELECT {columns}
FROM groups g
WHERE g.search_vector @@ to_tsquery('simple', hit_search_fold($1::text))
  AND g.deleted_at IS NULL
ORDER BY
    CASE
        WHEN g.search_vector @@ to_tsquery('simple', hit_search_fold($3::text)) THEN 0
        WHEN g.search_vector @@ to_tsquery('simple', hit_search_fold($2::text)) THEN 1
        ELSE 2
    END,
    lower(g.name COLLATE "C"),
    g.id
LIMIT $4::bigint
