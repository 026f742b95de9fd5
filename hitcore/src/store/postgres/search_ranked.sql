-- The ids of the people whose searched columns match every term, best
-- first, on PostgreSQL: the statement of the SQLite store's
-- search_people.sql in this dialect, over the generated `search_vector`
-- column and its GIN index (migrations/0003_search.sql). It follows
-- search_candidates.sql, whose parameters are $1 to $7.
--
-- Parameters: $8, $9 and $10, three tsquery texts (every column by
-- prefix; the name columns by prefix; the name columns exactly), folded
-- here by hit_search_fold as the column was; $11 limit, $12 offset; $13
-- whether only the `candidates` count. Each call plans the statement with
-- its values, so without $13 the candidates drop out of the plan.
SELECT p.id
FROM people p
WHERE p.search_vector @@ to_tsquery('simple', hit_search_fold($8::text))
  AND (NOT $13::boolean OR p.id IN (SELECT id FROM candidates))
ORDER BY
    CASE
        WHEN p.search_vector @@ to_tsquery('simple', hit_search_fold($10::text)) THEN 0
        WHEN p.search_vector @@ to_tsquery('simple', hit_search_fold($9::text)) THEN 1
        ELSE 2
    END,
    lower(coalesce(p.last_name, '') COLLATE "C"),
    lower(coalesce(p.first_name, '') COLLATE "C"),
    lower(coalesce(p.nickname, '') COLLATE "C"),
    p.id
LIMIT $11::bigint OFFSET $12::bigint
