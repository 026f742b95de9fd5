-- The ids above :after of the people of one tier of a search (see
-- hitcore/src/store/search.rs), lowest first: FTS5 hands out the matches
-- of a query in rowid order, so this reads no further than :limit
-- matches, however many there are. `{restriction}` is empty, or limits
-- the people to the `candidates` of search_candidates.sql, which then
-- precedes this. The `+` keeps that restriction away from FTS5, which
-- would otherwise run the query once per candidate.
--
-- Parameters: :tier, the FTS5 query of the tier; :after, :limit; those of
-- search_candidates.sql with the restriction.
SELECT rowid
FROM people_search
WHERE people_search MATCH :tier
  AND rowid > :after
  {restriction}
ORDER BY rowid
LIMIT :limit
