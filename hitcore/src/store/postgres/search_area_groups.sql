-- The groups of a viewer's areas on PostgreSQL: the statement of the
-- SQLite store's search_area_groups.sql in this dialect.
--
-- Parameters: $1, $2 and $3, the areas (reach, group id, visible from
-- above only; one array each).
SELECT g.id, bool_and(a.visible_only) AS visible_only
FROM unnest($1::text[], $2::bigint[], $3::boolean[]) AS a (reach, group_id, visible_only)
JOIN groups s ON s.id = a.group_id
JOIN groups g ON g.deleted_at IS NULL
 AND CASE a.reach
       WHEN 'group' THEN g.id = s.id
       WHEN 'group_and_below' THEN g.layer_group_id = s.layer_group_id
            AND g.path >= s.path
            AND g.path < substr(s.path, 1, length(s.path) - 1) || '0'
       WHEN 'layer' THEN g.layer_group_id = s.id
       WHEN 'layer_and_below' THEN g.path >= s.path
            AND g.path < substr(s.path, 1, length(s.path) - 1) || '0'
       ELSE FALSE
     END
GROUP BY g.id
ORDER BY g.id
