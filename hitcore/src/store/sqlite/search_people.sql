-- The ids of the people whose searched columns match every term (the
-- FTS5 table people_search, see migrations/0003_search.sql), best first:
-- exact name matches, then name prefixes, then the other fields; by name
-- within each tier. Who may see them is checked by the caller, see
-- search.rs; `{restriction}` is empty, or limits the people to the
-- `candidates` of search_candidates.sql, which then precedes this.
--
-- Parameters: :all, :names and :exact, three FTS5 queries (every column by
-- prefix; the name columns by prefix; the name columns exactly), :limit
-- and :offset; those of search_candidates.sql with the restriction.
SELECT p.id
FROM people p
WHERE p.id IN (SELECT rowid FROM people_search WHERE people_search MATCH :all)
  {restriction}
ORDER BY
    CASE
        WHEN p.id IN (SELECT rowid FROM people_search WHERE people_search MATCH :exact) THEN 0
        WHEN p.id IN (SELECT rowid FROM people_search WHERE people_search MATCH :names) THEN 1
        ELSE 2
    END,
    lower(coalesce(p.last_name, '')),
    lower(coalesce(p.first_name, '')),
    lower(coalesce(p.nickname, '')),
    p.id
LIMIT :limit OFFSET :offset
