-- The ids of the people whose searched columns match every term, best
-- first, on PostgreSQL: the statement of the SQLite store's
-- search_people.sql in this dialect, over the generated `search_vector`
-- column and its GIN index (migrations/0003_search.sql). `{restriction}`
-- is empty, or limits the people to the `candidates` of
-- search_candidates.sql, which then precedes this with its parameters
-- numbered from $6.
--
-- Parameters: $1, $2 and $3, three tsquery texts (every column by
-- prefix; the name columns by prefix; the name columns exactly), folded
-- here by hit_search_fold as the column was; $4 limit, $5 offset.
SELECT p.id
FROM people p
WHERE p.search_vector @@ to_tsquery('simple', hit_search_fold($1::text))
  {restriction}
ORDER BY
    CASE
        WHEN p.search_vector @@ to_tsquery('simple', hit_search_fold($3::text)) THEN 0
        WHEN p.search_vector @@ to_tsquery('simple', hit_search_fold($2::text)) THEN 1
        ELSE 2
    END,
    lower(coalesce(p.last_name, '') COLLATE "C"),
    lower(coalesce(p.first_name, '') COLLATE "C"),
    lower(coalesce(p.nickname, '') COLLATE "C"),
    p.id
LIMIT $4::bigint OFFSET $5::bigint
