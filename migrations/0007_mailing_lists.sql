-- Version 7: mailing lists ("Abos") of groups and their subscriptions
-- (issue 5, items 3 and 4; sections 6.1 and 6.2 of the domain notes).
--
-- A list with a `mail_name` is also an e-mail list. The stores compute who
-- its mail reaches from `subscriptions` in one query each
-- (`RECIPIENTS_SQL` in hitcore/src/store/*/mailing_lists.rs).
--
-- `additional_senders` and `preferred_labels` are JSON arrays of strings,
-- written by the stores only, so that both databases read them the same
-- way (`json_each` here, `json_array_elements_text` on PostgreSQL).
-- `subscribable_for` is `nobody`, `configured` or `anyone`;
-- `subscribable_mode` is `opt_out` or `opt_in` for `configured` lists
-- and NULL otherwise.

CREATE TABLE mailing_lists (
    id INTEGER PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES groups (id),
    name TEXT NOT NULL,
    description TEXT,
    publisher TEXT,
    mail_name TEXT,
    additional_senders TEXT NOT NULL DEFAULT '[]',
    subscribers_may_post BOOLEAN NOT NULL DEFAULT FALSE,
    anyone_may_post BOOLEAN NOT NULL DEFAULT FALSE,
    preferred_labels TEXT NOT NULL DEFAULT '[]',
    main_email BOOLEAN NOT NULL DEFAULT FALSE,
    delivery_report BOOLEAN NOT NULL DEFAULT FALSE,
    subscribable_for TEXT NOT NULL DEFAULT 'nobody',
    subscribable_mode TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The list address names the list, so it is unique whatever its case.
-- The stores map a violation of this index to a conflict on `mail_name`.
CREATE UNIQUE INDEX mailing_lists_mail_name_key ON mailing_lists (lower(mail_name));
CREATE INDEX mailing_lists_group_id_idx ON mailing_lists (group_id);

-- One row per subscriber: a person (included, or excluded: an exclusion
-- always wins) or a group with the role types in `subscription_role_types`.
-- A list's subscriptions go with it.
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY,
    mailing_list_id BIGINT NOT NULL REFERENCES mailing_lists (id) ON DELETE CASCADE,
    subscriber_type TEXT NOT NULL,
    person_id BIGINT REFERENCES people (id) ON DELETE CASCADE,
    group_id BIGINT REFERENCES groups (id),
    is_excluded BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK (
        (subscriber_type = 'person' AND person_id IS NOT NULL AND group_id IS NULL)
        OR (subscriber_type = 'group' AND group_id IS NOT NULL AND person_id IS NULL
            AND is_excluded = FALSE)
    )
);

-- Uniqueness per (list, person, excluded) and per (list, group); they also
-- serve the recipient query's look-ups by list.
CREATE UNIQUE INDEX subscriptions_person_key
    ON subscriptions (mailing_list_id, person_id, is_excluded) WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX subscriptions_group_key
    ON subscriptions (mailing_list_id, group_id) WHERE group_id IS NOT NULL;
-- For the cascade when a person is deleted.
CREATE INDEX subscriptions_person_id_idx ON subscriptions (person_id);

CREATE TABLE subscription_role_types (
    subscription_id BIGINT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    role_type TEXT NOT NULL,
    PRIMARY KEY (subscription_id, role_type)
);
