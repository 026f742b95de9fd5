-- Version 11: events and courses (issue 7; section 5 of the domain notes):
-- event kinds and qualification kinds (administrators' catalogues), events
-- on groups with dates, questions and attachments, registrations
-- (participations with their event roles, answers and applications), the
-- qualifications courses issue, and mailing-list subscriptions of events.
--
-- Dates of the year (`*_at` of applications, qualifications) are stored
-- as `YYYY-MM-DD`; event dates as the organisation's local wall-clock time
-- `YYYY-MM-DDTHH:MM:SS` (events happen where they happen; iCalendar gets
-- them as floating times). Counters on `events` are kept by the stores in
-- the same transaction as every participation or event-role change.

CREATE TABLE event_kind_categories (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    ord INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE qualification_kinds (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    description TEXT,
    -- Years; NULL = unlimited.
    validity INTEGER,
    -- Years after finish_at during which a prolongation still counts.
    reactivateable INTEGER,
    required_training_days REAL,
    deleted_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX qualification_kinds_label_key ON qualification_kinds (label)
    WHERE deleted_at IS NULL;

CREATE TABLE event_kinds (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    short_name TEXT,
    general_information TEXT,
    application_conditions TEXT,
    minimum_age INTEGER,
    kind_category_id BIGINT REFERENCES event_kind_categories (id),
    deleted_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- `category` is `qualification`, `precondition` or `prolongation`;
-- `role` is `participant` or `leader`; `validity` (preconditions only)
-- is `valid`, `valid_or_reactivatable` or `valid_or_expired`.
CREATE TABLE event_kind_qualification_kinds (
    id INTEGER PRIMARY KEY,
    event_kind_id BIGINT NOT NULL REFERENCES event_kinds (id) ON DELETE CASCADE,
    qualification_kind_id BIGINT NOT NULL REFERENCES qualification_kinds (id),
    category TEXT NOT NULL,
    role TEXT NOT NULL,
    grouping_number INTEGER,
    validity TEXT NOT NULL DEFAULT 'valid_or_expired'
);
CREATE UNIQUE INDEX event_kind_qualification_kinds_key
    ON event_kind_qualification_kinds (event_kind_id, qualification_kind_id, category, role);

-- `event_type` is a type name of the organisation definition
-- (`Event`, `Event::Course`, or one the definition adds).
-- `globally_visible` NULL means the instance default.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    event_type TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    application_conditions TEXT,
    number TEXT,
    motto TEXT,
    cost TEXT,
    location TEXT,
    kind_id BIGINT REFERENCES event_kinds (id),
    state TEXT,
    maximum_participants INTEGER,
    minimum_participants INTEGER,
    participant_count INTEGER NOT NULL DEFAULT 0,
    teamer_count INTEGER NOT NULL DEFAULT 0,
    applicant_count INTEGER NOT NULL DEFAULT 0,
    application_opening_at TEXT,
    application_closing_at TEXT,
    applications_cancelable BOOLEAN NOT NULL DEFAULT FALSE,
    external_applications BOOLEAN NOT NULL DEFAULT FALSE,
    globally_visible BOOLEAN,
    participations_visible BOOLEAN NOT NULL DEFAULT FALSE,
    priorization BOOLEAN NOT NULL DEFAULT FALSE,
    requires_approval BOOLEAN NOT NULL DEFAULT FALSE,
    automatic_assignment BOOLEAN NOT NULL DEFAULT FALSE,
    waiting_list BOOLEAN NOT NULL DEFAULT TRUE,
    notify_contact_on_participations BOOLEAN NOT NULL DEFAULT FALSE,
    contact_id BIGINT REFERENCES people (id) ON DELETE SET NULL,
    shared_access_token TEXT NOT NULL,
    -- DOUBLE PRECISION, so that both stores read it as an f64.
    training_days DOUBLE PRECISION,
    creator_id BIGINT REFERENCES people (id) ON DELETE SET NULL,
    updater_id BIGINT REFERENCES people (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX events_kind_id_idx ON events (kind_id);
CREATE UNIQUE INDEX events_shared_access_token_key ON events (shared_access_token);

CREATE TABLE events_groups (
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES groups (id),
    PRIMARY KEY (event_id, group_id)
);
CREATE INDEX events_groups_group_id_idx ON events_groups (group_id);

CREATE TABLE event_dates (
    id INTEGER PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    label TEXT,
    start_at TEXT NOT NULL,
    finish_at TEXT,
    location TEXT
);
CREATE INDEX event_dates_event_id_idx ON event_dates (event_id, start_at);
CREATE INDEX event_dates_start_at_idx ON event_dates (start_at);

-- `choices` is a JSON array of strings (written by the stores only).
-- `admin` questions are for the organisers, not asked at registration.
-- `visible_role_types` (JSON array of event role type names) are the
-- event roles that see the answers besides the participant and those
-- with `participations_full` or `show_full`.
CREATE TABLE event_questions (
    id INTEGER PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    choices TEXT NOT NULL DEFAULT '[]',
    multiple_choices BOOLEAN NOT NULL DEFAULT FALSE,
    required BOOLEAN NOT NULL DEFAULT FALSE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    visible_role_types TEXT NOT NULL DEFAULT '[]',
    ord INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX event_questions_event_id_idx ON event_questions (event_id, ord);

-- `visibility` is `team`, `participants` or `global`; the file lives in
-- storage under `storage_key`.
CREATE TABLE event_attachments (
    id INTEGER PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    storage_key TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    byte_size BIGINT NOT NULL,
    visibility TEXT NOT NULL DEFAULT 'team',
    created_at TEXT NOT NULL
);
CREATE INDEX event_attachments_event_id_idx ON event_attachments (event_id);

-- A course application: the courses applied for in order of preference,
-- its approval, and whether it waits for a place.
CREATE TABLE event_applications (
    id INTEGER PRIMARY KEY,
    priority_1_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    priority_2_id BIGINT REFERENCES events (id) ON DELETE SET NULL,
    priority_3_id BIGINT REFERENCES events (id) ON DELETE SET NULL,
    approved BOOLEAN NOT NULL DEFAULT FALSE,
    rejected BOOLEAN NOT NULL DEFAULT FALSE,
    waiting_list BOOLEAN NOT NULL DEFAULT FALSE,
    waiting_list_comment TEXT,
    CHECK (NOT (approved AND rejected))
);
CREATE INDEX event_applications_priority_2_idx ON event_applications (priority_2_id);
CREATE INDEX event_applications_priority_3_idx ON event_applications (priority_3_id);

-- `active = FALSE` is a pending application not yet given a place.
CREATE TABLE event_participations (
    id INTEGER PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    person_id BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    additional_information TEXT,
    active BOOLEAN NOT NULL DEFAULT FALSE,
    application_id BIGINT REFERENCES event_applications (id) ON DELETE SET NULL,
    qualified BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX event_participations_key ON event_participations (event_id, person_id);
CREATE INDEX event_participations_person_id_idx ON event_participations (person_id);
CREATE INDEX event_participations_application_id_idx ON event_participations (application_id);

CREATE TABLE event_roles (
    id INTEGER PRIMARY KEY,
    participation_id BIGINT NOT NULL REFERENCES event_participations (id) ON DELETE CASCADE,
    role_type TEXT NOT NULL,
    label TEXT
);
CREATE UNIQUE INDEX event_roles_key ON event_roles (participation_id, role_type);

CREATE TABLE event_answers (
    id INTEGER PRIMARY KEY,
    participation_id BIGINT NOT NULL REFERENCES event_participations (id) ON DELETE CASCADE,
    question_id BIGINT NOT NULL REFERENCES event_questions (id) ON DELETE CASCADE,
    answer TEXT
);
CREATE UNIQUE INDEX event_answers_key ON event_answers (participation_id, question_id);
CREATE INDEX event_answers_question_id_idx ON event_answers (question_id);

-- `event_id` is the course that issued it (NULL: entered by hand), so
-- that revoking a participant's qualification removes exactly those.
CREATE TABLE qualifications (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    qualification_kind_id BIGINT NOT NULL REFERENCES qualification_kinds (id),
    start_at TEXT NOT NULL,
    finish_at TEXT,
    qualified_at TEXT,
    origin TEXT,
    event_id BIGINT REFERENCES events (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX qualifications_key
    ON qualifications (person_id, qualification_kind_id, start_at, COALESCE(finish_at, ''));
CREATE INDEX qualifications_event_id_idx ON qualifications (event_id);

-- A mailing list reaches the active participants of a subscribed event
-- (section 6.2). Its own table, so that `subscriptions` keeps its checks.
CREATE TABLE event_subscriptions (
    id INTEGER PRIMARY KEY,
    mailing_list_id BIGINT NOT NULL REFERENCES mailing_lists (id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX event_subscriptions_key ON event_subscriptions (mailing_list_id, event_id);
CREATE INDEX event_subscriptions_event_id_idx ON event_subscriptions (event_id);

-- Subscribed events make their active participants recipients of a list,
-- so writes to participations, their roles and event subscriptions give
-- the `memberships` cache stamp a new value, like the triggers of
-- migration 10 do for roles and subscriptions.
-- sqlite-only begin
CREATE TRIGGER event_participations_stamp_insert AFTER INSERT ON event_participations BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER event_participations_stamp_update AFTER UPDATE ON event_participations BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER event_participations_stamp_delete AFTER DELETE ON event_participations BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER event_roles_stamp_insert AFTER INSERT ON event_roles BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER event_roles_stamp_update AFTER UPDATE ON event_roles BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER event_roles_stamp_delete AFTER DELETE ON event_roles BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER event_subscriptions_stamp_insert AFTER INSERT ON event_subscriptions BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER event_subscriptions_stamp_update AFTER UPDATE ON event_subscriptions BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;

CREATE TRIGGER event_subscriptions_stamp_delete AFTER DELETE ON event_subscriptions BEGIN
    UPDATE cache_stamps SET stamp = random() WHERE name = 'memberships';
END;
-- sqlite-only end
-- postgres-only begin
--pg CREATE TRIGGER event_participations_stamp
--pg     BEFORE INSERT OR UPDATE OR DELETE ON event_participations
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_cache_stamp('memberships');
--pg CREATE TRIGGER event_roles_stamp BEFORE INSERT OR UPDATE OR DELETE ON event_roles
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_cache_stamp('memberships');
--pg CREATE TRIGGER event_subscriptions_stamp
--pg     BEFORE INSERT OR UPDATE OR DELETE ON event_subscriptions
--pg     FOR EACH STATEMENT EXECUTE FUNCTION hit_bump_cache_stamp('memberships');
-- postgres-only end
