-- The groups of a viewer's areas (hitcore::ability::RoleArea): every
-- group that is not deleted and lies in an area, once, with whether only
-- the role types visible from above count there (a group that an
-- unrestricted area covers counts every type). A few hundred rows at most,
-- read from `groups` alone; the search statements take the result as two
-- lists of ids.
--
-- Parameters: :areas, a JSON array of {"reach", "group", "visible_only"}.
--
-- An area's group `s` gives the place in the tree: the group itself, its
-- subtree inside its layer, its layer, or its whole subtree (a range of
-- `path`, see schema.sql).
SELECT g.id, min(a.value ->> '$.visible_only') AS visible_only
FROM json_each(:areas) a
JOIN groups s ON s.id = a.value ->> '$.group'
JOIN groups g ON g.deleted_at IS NULL
 AND CASE a.value ->> '$.reach'
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
