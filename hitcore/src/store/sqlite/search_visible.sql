-- Which of the people :ids (a JSON array) the viewer may see: section
-- 4.4's readables as the viewer's PeopleScope
-- (hitcore::ability::people_scope) describes them, checked person by
-- person. search.rs uses it on the best matches when the viewer sees too
-- many people to start from them.
--
-- Parameters: :ids, the scope as :everyone, :self, :contact_data,
-- :without_roles, :areas (a JSON array of {"reach", "group",
-- "visible_only"}) and :visible_types (a JSON array of role types), and
-- :today (YYYY-MM-DD).
--
-- A role counts when it is active on :today, not archived, and its group
-- is not deleted. An area's group `s` gives the place in the tree: the
-- group itself, its subtree inside its layer, its layer, or its whole
-- subtree (a range of `path`, see schema.sql).
SELECT p.id
FROM people p
WHERE p.id IN (SELECT value FROM json_each(:ids))
  AND (
        :everyone
     OR p.id = :self
     OR (:contact_data AND p.contact_data_visible = TRUE)
     OR (:without_roles AND NOT EXISTS (
            SELECT 1
            FROM roles r
            JOIN groups g ON g.id = r.group_id
            WHERE r.person_id = p.id
              AND g.deleted_at IS NULL
              AND r.archived_at IS NULL
              AND (r.start_on IS NULL OR r.start_on <= :today)
              AND (r.end_on IS NULL OR r.end_on >= :today)
        ))
     OR EXISTS (
            SELECT 1
            FROM roles r
            JOIN groups g ON g.id = r.group_id
            JOIN json_each(:areas) a
            JOIN groups s ON s.id = a.value ->> '$.group'
            WHERE r.person_id = p.id
              AND g.deleted_at IS NULL
              AND r.archived_at IS NULL
              AND (r.start_on IS NULL OR r.start_on <= :today)
              AND (r.end_on IS NULL OR r.end_on >= :today)
              AND (a.value ->> '$.visible_only' = 0
                   OR r.type IN (SELECT value FROM json_each(:visible_types)))
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
        )
  )
