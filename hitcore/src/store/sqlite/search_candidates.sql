-- The people a viewer may see through their roles, as the CTE
-- `candidates` (one row per counting role, so a person may come more than
-- once), plus the viewer and, with the contact_data permission, the people
-- whose contact data is visible. search.rs starts from these when they are
-- few, instead of from the words.
--
-- Parameters: :self, :contact_data, the groups of the viewer's areas
-- (search_area_groups.sql) as :all_groups (every role type counts) and
-- :visible_groups (only :visible_types count), each a JSON array, and
-- :today (YYYY-MM-DD). A role counts when it is active on :today and not
-- archived.
WITH candidates AS (
    SELECT r.person_id AS id
    FROM roles r
    WHERE r.group_id IN (SELECT value FROM json_each(:all_groups))
      AND r.archived_at IS NULL
      AND (r.start_on IS NULL OR r.start_on <= :today)
      AND (r.end_on IS NULL OR r.end_on >= :today)
    UNION ALL
    SELECT r.person_id
    FROM roles r
    WHERE r.group_id IN (SELECT value FROM json_each(:visible_groups))
      AND r.type IN (SELECT value FROM json_each(:visible_types))
      AND r.archived_at IS NULL
      AND (r.start_on IS NULL OR r.start_on <= :today)
      AND (r.end_on IS NULL OR r.end_on >= :today)
    UNION ALL
    SELECT :self
    UNION ALL
    SELECT p.id FROM people p WHERE :contact_data AND p.contact_data_visible = TRUE
)
