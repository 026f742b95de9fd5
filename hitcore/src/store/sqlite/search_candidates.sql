-- The people a viewer may see through their roles, as the CTE
-- `candidates` (one row per counting role, so a person may come more than
-- once), plus the viewer and, with the contact_data permission, the people
-- whose contact data is visible. search.rs starts from these when they are
-- few, instead of from the words.
--
-- Parameters: the viewer's PeopleScope (hitcore::ability::people_scope) as
-- :self, :contact_data, :areas (a JSON array of {"reach", "group",
-- "visible_only"}) and :visible_types (a JSON array of role types), and
-- :today (YYYY-MM-DD).
--
-- `area_groups` resolves each area to its groups (a few hundred rows at
-- most); a group that an unrestricted area covers counts every role type.
WITH area_groups AS (
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
),
candidates AS (
    SELECT r.person_id AS id
    FROM area_groups ag
    JOIN roles r ON r.group_id = ag.id
    WHERE r.archived_at IS NULL
      AND (r.start_on IS NULL OR r.start_on <= :today)
      AND (r.end_on IS NULL OR r.end_on >= :today)
      AND (ag.visible_only = 0 OR r.type IN (SELECT value FROM json_each(:visible_types)))
    UNION ALL
    SELECT :self
    UNION ALL
    SELECT p.id FROM people p WHERE :contact_data AND p.contact_data_visible = TRUE
)
