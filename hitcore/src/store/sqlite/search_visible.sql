-- Which of the people :ids (a JSON array) the viewer may see: section
-- 4.4's readables as the viewer's PeopleScope
-- (hitcore::ability::people_scope) describes them, checked person by
-- person, with the same rule as search_candidates.sql. search.rs uses it
-- on the best matches when the viewer sees too many people to start from
-- them.
--
-- Parameters: :ids; the scope as :everyone, :self, :contact_data,
-- :without_roles, and the groups of its areas (search_area_groups.sql) as
-- :all_groups and :visible_groups with :visible_types, each a JSON array;
-- :today (YYYY-MM-DD). A role counts when it is active on :today and not
-- archived (and, for "without roles", its group is not deleted).
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
            WHERE r.person_id = p.id
              AND r.archived_at IS NULL
              AND (r.start_on IS NULL OR r.start_on <= :today)
              AND (r.end_on IS NULL OR r.end_on >= :today)
              AND (r.group_id IN (SELECT value FROM json_each(:all_groups))
                   OR (r.group_id IN (SELECT value FROM json_each(:visible_groups))
                       AND r.type IN (SELECT value FROM json_each(:visible_types))))
        )
  )
