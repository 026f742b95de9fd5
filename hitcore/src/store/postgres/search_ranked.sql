-- The ids above $3 of the people of one tier of a search (see
-- hitcore/src/store/search.rs), lowest first, on PostgreSQL: the
-- statement of the SQLite store's search_people.sql in this dialect, over
-- the generated `search_vector` column and its GIN index
-- (migrations/0003_search.sql). With a prefix that many people match,
-- the planner walks the primary key and stops after $2 matches; with a
-- rare word it takes the few matches from the GIN index. `{restriction}`
-- is empty, or limits the people to the `candidates` of
-- search_candidates.sql, which then precedes this with its parameters
-- numbered from $4.
--
-- Parameters: $1, the tsquery text of the tier, folded here by
-- hit_search_fold as the column was; $2 limit, $3 after.
SELECT p.id
FROM people p
WHERE p.search_vector @@ to_tsquery('simple', hit_search_fold($1::text))
  AND p.id > $3::bigint
  {restriction}
ORDER BY p.id
LIMIT $2::bigint
