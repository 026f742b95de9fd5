-- The people a viewer may see through their roles on PostgreSQL, as the
-- CTE `candidates`: the statement of the SQLite store's
-- search_candidates.sql in this dialect. One row per counting role, so a
-- person may come more than once, plus the viewer and, with the
-- contact_data permission, the people whose contact data is visible.
--
-- Parameters: the viewer's PeopleScope (hitcore::ability::people_scope) as
-- $1 self, $2 contact data, $3, $4 and $5 the areas (reach, group id,
-- visible from above only; one array each) and $6 the role types visible
-- from above; $7 today (YYYY-MM-DD). The statements that follow number
-- their parameters from $8.
WITH area_groups AS (
    SELECT g.id, bool_and(a.visible_only) AS visible_only
    FROM unnest($3::text[], $4::bigint[], $5::boolean[]) AS a (reach, group_id, visible_only)
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
),
candidates AS (
    SELECT r.person_id AS id
    FROM area_groups ag
    JOIN roles r ON r.group_id = ag.id
    WHERE r.archived_at IS NULL
      AND (r.start_on IS NULL OR r.start_on <= $7::text)
      AND (r.end_on IS NULL OR r.end_on >= $7::text)
      AND (NOT ag.visible_only OR r.type = ANY($6::text[]))
    UNION ALL
    SELECT $1::bigint
    UNION ALL
    SELECT p.id FROM people p WHERE $2::boolean AND p.contact_data_visible = TRUE
)
