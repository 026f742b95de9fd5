-- The groups a search finds: those not deleted whose searched columns
-- match every term (the FTS5 table groups_search, see
-- migrations/0003_search.sql), best first. `{columns}` is the group
-- columns. Whether the viewer may see groups at all is decided before.
--
-- Parameters: :all, :names and :exact, three FTS5 queries (every column by
-- prefix; the name columns by prefix; the name columns exactly), :limit.
SELECT {columns}
FROM groups g
WHERE g.id IN (SELECT rowid FROM groups_search WHERE groups_search MATCH :all)
  AND g.deleted_at IS NULL
ORDER BY
    CASE
        WHEN g.id IN (SELECT rowid FROM groups_search WHERE groups_search MATCH :exact) THEN 0
        WHEN g.id IN (SELECT rowid FROM groups_search WHERE groups_search MATCH :names) THEN 1
        ELSE 2
    END,
    lower(g.name),
    g.id
LIMIT :limit
