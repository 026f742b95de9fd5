//! Rows of the event tables to domain values, for both SQL stores: the
//! column lists the stores select with, and readers over [`Columns`].
//!
//! The lists cast what [`Columns`] cannot read directly: nullable
//! INTEGER columns to BIGINT, the nullable `globally_visible` to a
//! letter. `training_days` is read by each store itself (a float).

use chrono::{DateTime, NaiveDateTime, Utc};

use super::row::Columns;
use super::sql::{parse_date, parse_timestamp};
use crate::event::participation::EventRoleType;
use crate::event::question::Question;
use crate::event::{Attachment, AttachmentVisibility, Event, EventDate};
use crate::id::{AttachmentId, EventDateId, EventId, EventKindId, PersonId, QuestionId};

/// The columns of `events` (alias `e`) that [`event`] reads.
pub(crate) const EVENT_COLUMNS: &str = "e.id, e.event_type, e.name, e.description, \
     e.application_conditions, e.number, e.motto, e.cost, e.location, e.kind_id, e.state, \
     CAST(e.maximum_participants AS BIGINT) AS maximum_participants, \
     CAST(e.minimum_participants AS BIGINT) AS minimum_participants, \
     CAST(e.participant_count AS BIGINT) AS participant_count, \
     CAST(e.teamer_count AS BIGINT) AS teamer_count, \
     CAST(e.applicant_count AS BIGINT) AS applicant_count, \
     e.application_opening_at, e.application_closing_at, e.applications_cancelable, \
     e.external_applications, \
     CASE WHEN e.globally_visible IS NULL THEN NULL WHEN e.globally_visible THEN 'y' \
     ELSE 'n' END AS globally_visible, \
     e.participations_visible, e.priorization, e.requires_approval, e.automatic_assignment, \
     e.waiting_list, e.notify_contact_on_participations, e.contact_id, e.shared_access_token, \
     e.training_days, e.creator_id, e.updater_id, e.created_at, e.updated_at";

/// The columns of `event_dates` (alias `d`) that [`date`] reads.
pub(crate) const DATE_COLUMNS: &str =
    "d.id, d.event_id, d.label, d.start_at, d.finish_at, d.location";

/// The columns of `event_questions` (alias `q`) that [`question`] reads.
pub(crate) const QUESTION_COLUMNS: &str = "q.id, q.event_id, q.question, q.choices, \
     q.multiple_choices, q.required, q.admin, q.visible_role_types, CAST(q.ord AS BIGINT) AS ord";

/// The columns of `event_attachments` (alias `a`) that [`attachment`] reads.
pub(crate) const ATTACHMENT_COLUMNS: &str = "a.id, a.event_id, a.storage_key, a.filename, \
     a.content_type, a.byte_size, a.visibility, a.created_at";

/// The stored form of an event date and time.
pub(crate) const DATE_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// An event date and time as stored.
pub(crate) fn date_time_text(t: NaiveDateTime) -> String {
    t.format(DATE_TIME_FORMAT).to_string()
}

fn timestamp<R: Columns>(r: &R, name: &str) -> Result<DateTime<Utc>, R::Error> {
    parse_timestamp(&r.text(name)?).map_err(|e| r.invalid(name, Box::new(e)))
}

fn opt_date<R: Columns>(r: &R, name: &str) -> Result<Option<chrono::NaiveDate>, R::Error> {
    r.opt_text(name)?
        .map(|t| parse_date(&t).map_err(|e| r.invalid(name, Box::new(e))))
        .transpose()
}

fn date_time<R: Columns>(r: &R, name: &str) -> Result<Option<NaiveDateTime>, R::Error> {
    r.opt_text(name)?
        .map(|t| {
            NaiveDateTime::parse_from_str(&t, DATE_TIME_FORMAT)
                .map_err(|e| r.invalid(name, Box::new(e)))
        })
        .transpose()
}

fn opt_count<R: Columns>(r: &R, name: &str) -> Result<Option<u32>, R::Error> {
    r.opt_int(name)?
        .map(|n| u32::try_from(n).map_err(|e| r.invalid(name, Box::new(e))))
        .transpose()
}

fn count<R: Columns>(r: &R, name: &str) -> Result<u32, R::Error> {
    u32::try_from(r.int(name)?).map_err(|e| r.invalid(name, Box::new(e)))
}

/// A row of [`EVENT_COLUMNS`], without groups and dates (the caller adds
/// them) and with the training days the store read.
pub(crate) fn event<R: Columns>(r: &R, training_days: Option<f64>) -> Result<Event, R::Error> {
    let globally_visible = r.opt_text("globally_visible")?.map(|v| v == "y");
    Ok(Event {
        id: EventId(r.int("id")?),
        event_type: r.text("event_type")?,
        group_ids: Vec::new(),
        name: r.text("name")?,
        description: r.opt_text("description")?,
        application_conditions: r.opt_text("application_conditions")?,
        number: r.opt_text("number")?,
        motto: r.opt_text("motto")?,
        cost: r.opt_text("cost")?,
        location: r.opt_text("location")?,
        kind_id: r.opt_int("kind_id")?.map(EventKindId),
        state: r.opt_text("state")?,
        maximum_participants: opt_count(r, "maximum_participants")?,
        minimum_participants: opt_count(r, "minimum_participants")?,
        participant_count: count(r, "participant_count")?,
        teamer_count: count(r, "teamer_count")?,
        applicant_count: count(r, "applicant_count")?,
        application_opening_at: opt_date(r, "application_opening_at")?,
        application_closing_at: opt_date(r, "application_closing_at")?,
        applications_cancelable: r.flag("applications_cancelable")?,
        external_applications: r.flag("external_applications")?,
        globally_visible,
        participations_visible: r.flag("participations_visible")?,
        priorization: r.flag("priorization")?,
        requires_approval: r.flag("requires_approval")?,
        automatic_assignment: r.flag("automatic_assignment")?,
        waiting_list: r.flag("waiting_list")?,
        notify_contact_on_participations: r.flag("notify_contact_on_participations")?,
        contact_id: r.opt_int("contact_id")?.map(PersonId),
        shared_access_token: r.text("shared_access_token")?,
        training_days,
        creator_id: r.opt_int("creator_id")?.map(PersonId),
        updater_id: r.opt_int("updater_id")?.map(PersonId),
        dates: Vec::new(),
        created_at: timestamp(r, "created_at")?,
        updated_at: timestamp(r, "updated_at")?,
    })
}

/// A row of [`DATE_COLUMNS`] with its event id.
pub(crate) fn date<R: Columns>(r: &R) -> Result<(EventId, EventDate), R::Error> {
    let start_at =
        date_time(r, "start_at")?.ok_or_else(|| r.invalid("start_at", "missing start".into()))?;
    Ok((
        EventId(r.int("event_id")?),
        EventDate {
            id: EventDateId(r.int("id")?),
            label: r.opt_text("label")?,
            start_at,
            finish_at: date_time(r, "finish_at")?,
            location: r.opt_text("location")?,
        },
    ))
}

/// A row of [`QUESTION_COLUMNS`].
pub(crate) fn question<R: Columns>(r: &R) -> Result<Question, R::Error> {
    let choices: Vec<String> =
        serde_json::from_str(&r.text("choices")?).map_err(|e| r.invalid("choices", Box::new(e)))?;
    let types: Vec<String> = serde_json::from_str(&r.text("visible_role_types")?)
        .map_err(|e| r.invalid("visible_role_types", Box::new(e)))?;
    Ok(Question {
        id: QuestionId(r.int("id")?),
        event_id: EventId(r.int("event_id")?),
        question: r.text("question")?,
        choices,
        multiple_choices: r.flag("multiple_choices")?,
        required: r.flag("required")?,
        admin: r.flag("admin")?,
        // Types this build does not know are left out.
        visible_role_types: types
            .iter()
            .filter_map(|t| EventRoleType::from_key(t))
            .collect(),
        ord: i32::try_from(r.int("ord")?).unwrap_or(i32::MAX),
    })
}

/// A row of [`ATTACHMENT_COLUMNS`].
pub(crate) fn attachment<R: Columns>(r: &R) -> Result<Attachment, R::Error> {
    let visibility = r.text("visibility")?;
    Ok(Attachment {
        id: AttachmentId(r.int("id")?),
        event_id: EventId(r.int("event_id")?),
        storage_key: r.text("storage_key")?,
        filename: r.text("filename")?,
        content_type: r.text("content_type")?,
        byte_size: u64::try_from(r.int("byte_size")?).unwrap_or(0),
        visibility: AttachmentVisibility::parse(&visibility)
            .ok_or_else(|| r.invalid("visibility", visibility.into()))?,
        created_at: timestamp(r, "created_at")?,
    })
}

/// A JSON array of strings as stored in `choices` and
/// `visible_role_types`.
pub(crate) fn json_list<S: AsRef<str>>(values: &[S]) -> String {
    serde_json::Value::from(
        values
            .iter()
            .map(|v| v.as_ref().to_owned())
            .collect::<Vec<_>>(),
    )
    .to_string()
}

/// The groups of a permit to change `event`'s groups.
pub(crate) fn check_group_permit(
    permit: &crate::ability::Permit<crate::ability::SetEventGroups>,
    event: EventId,
) -> Result<&[crate::id::GroupId], super::StoreError> {
    let target = permit.target();
    if target.event != event {
        Err(super::StoreError::Rule(
            "the group permit is for another event".to_owned(),
        ))
    } else if target.groups.is_empty() {
        Err(super::StoreError::Rule(
            "an event needs at least one group".to_owned(),
        ))
    } else {
        Ok(&target.groups)
    }
}

/// A new random shared access token: 32 hex digits.
pub(crate) fn new_token() -> String {
    use rand::Rng;

    let bytes: [u8; 16] = rand::thread_rng().r#gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of the upper end of a date range: the end of that day.
pub(crate) fn day_end_text(d: chrono::NaiveDate) -> String {
    format!("{}T23:59:59", d.format("%Y-%m-%d"))
}
