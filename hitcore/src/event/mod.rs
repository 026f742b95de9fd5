//! Events and courses (section 5 of the domain description): events on
//! groups with their dates and questions, registrations with event roles
//! and answers, course applications, and the kinds and qualifications
//! courses are about.
//!
//! Pure types and rules only, like the rest of the domain: the stores
//! persist these, `crate::ability` decides who may do what with them.
//! Submodules: [`question`] (questions and answers), [`participation`]
//! (participations, event roles and their permissions, counts),
//! [`application`] (the application rules of 5.4), [`kind`] (event and
//! qualification kinds) and [`qualification`] (the date rules of 5.5).

pub mod application;
pub mod ical;
pub mod kind;
pub mod participation;
pub mod qualification;
pub mod question;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::group::Group;
use crate::id::{AttachmentId, EventDateId, EventId, EventKindId, GroupId, PersonId};
use crate::org::Organisation;
use crate::validate::{Violations, clean, single_line};

/// The built-in simple event type.
pub const SIMPLE_EVENT: &str = "Event";
/// The built-in course type: it supports applications and needs a kind.
pub const COURSE: &str = "Event::Course";

/// An event or course as stored, with its groups and dates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    pub id: EventId,
    /// A type name of the organisation definition (`Event`,
    /// `Event::Course`, or one the definition adds).
    pub event_type: String,
    /// One or more groups, all of the same group type; ascending ids.
    pub group_ids: Vec<GroupId>,
    pub name: String,
    pub description: Option<String>,
    pub application_conditions: Option<String>,
    /// Courses only.
    pub number: Option<String>,
    pub motto: Option<String>,
    pub cost: Option<String>,
    pub location: Option<String>,
    /// Required for courses, unused by simple events.
    pub kind_id: Option<EventKindId>,
    pub state: Option<String>,
    /// `None` or 0: unlimited.
    pub maximum_participants: Option<u32>,
    pub minimum_participants: Option<u32>,
    /// Kept by the stores after every participation change (5.3).
    pub participant_count: u32,
    pub teamer_count: u32,
    pub applicant_count: u32,
    pub application_opening_at: Option<NaiveDate>,
    pub application_closing_at: Option<NaiveDate>,
    pub applications_cancelable: bool,
    pub external_applications: bool,
    /// `None`: the instance default (visible).
    pub globally_visible: Option<bool>,
    pub participations_visible: bool,
    pub priorization: bool,
    pub requires_approval: bool,
    pub automatic_assignment: bool,
    pub waiting_list: bool,
    pub notify_contact_on_participations: bool,
    pub contact_id: Option<PersonId>,
    /// Generated on create; whoever has it may see the event.
    #[serde(skip)]
    pub shared_access_token: String,
    pub training_days: Option<f64>,
    pub creator_id: Option<PersonId>,
    pub updater_id: Option<PersonId>,
    /// Ordered by `start_at`; never empty for a valid event.
    pub dates: Vec<EventDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Why an event cannot be deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum DeleteRefusal {
    /// Course applications take part in it or name it as their first
    /// choice. Deleting it would delete applications whose participation
    /// lives in another course, or people's places without a trace; they
    /// are removed in the application market first.
    #[error("the event still has applications")]
    HasApplications,
}

/// One date of an event, in the organisation's local time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventDate {
    pub id: EventDateId,
    pub label: Option<String>,
    pub start_at: NaiveDateTime,
    /// `None`, or not before `start_at`.
    pub finish_at: Option<NaiveDateTime>,
    pub location: Option<String>,
}

/// Who may download an event attachment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentVisibility {
    /// The event's team (leaders and helpers) and its managers.
    #[default]
    Team,
    /// The team and the active participants.
    Participants,
    /// Everybody who may see the event.
    Global,
}

/// A file attached to an event, kept in storage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub event_id: EventId,
    #[serde(skip)]
    pub storage_key: String,
    pub filename: String,
    pub content_type: String,
    pub byte_size: u64,
    pub visibility: AttachmentVisibility,
    pub created_at: DateTime<Utc>,
}

impl Event {
    /// Whether this is a course (or a type that behaves like one: a kind
    /// is required and applications are supported).
    pub fn is_course(&self) -> bool {
        is_course_type(&self.event_type)
    }

    /// The earliest start of all dates (5.1: the event's `start_at`).
    pub fn start_at(&self) -> Option<NaiveDateTime> {
        self.dates.iter().map(|d| d.start_at).min()
    }

    /// The latest of all starts and finishes (5.1: the event's
    /// `finish_at`).
    pub fn finish_at(&self) -> Option<NaiveDateTime> {
        self.dates
            .iter()
            .flat_map(|d| [Some(d.start_at), d.finish_at])
            .flatten()
            .max()
    }

    /// Whether the event is upcoming on `today` (5.1's scope): some date
    /// finishes, or starts when it has no finish, on or after `today`.
    pub fn is_upcoming(&self, today: NaiveDate) -> bool {
        self.dates.iter().any(|d| d.is_upcoming(today))
    }

    /// Whether the event takes place in `year`: some date starts or
    /// finishes in it (hitobito's `in_year`).
    pub fn is_in_year(&self, year: i32) -> bool {
        self.dates.iter().any(|d| d.years().contains(&year))
    }

    /// Whether the event is visible to everyone; `None` counts as the
    /// instance default, visible (5.1).
    pub fn is_globally_visible(&self) -> bool {
        self.globally_visible.unwrap_or(true)
    }

    /// Whether places remain (5.1 `places_available`): no maximum (or 0),
    /// or fewer participants than the maximum.
    pub fn has_places_available(&self) -> bool {
        match self.maximum_participants {
            None | Some(0) => true,
            Some(max) => self.participant_count < max,
        }
    }

    /// Whether the application period is open on `today`: opening and
    /// closing (each optional) include `today`.
    pub fn is_application_period_open(&self, today: NaiveDate) -> bool {
        self.application_opening_at.is_none_or(|o| o <= today)
            && self.application_closing_at.is_none_or(|c| today <= c)
    }

    /// The fields as a patch, e.g. to fill the edit form.
    pub fn to_patch(&self) -> EventPatch {
        EventPatch {
            name: Some(self.name.clone()),
            description: self.description.clone(),
            application_conditions: self.application_conditions.clone(),
            number: self.number.clone(),
            motto: self.motto.clone(),
            cost: self.cost.clone(),
            location: self.location.clone(),
            kind_id: self.kind_id,
            state: self.state.clone(),
            maximum_participants: self.maximum_participants,
            minimum_participants: self.minimum_participants,
            application_opening_at: self.application_opening_at,
            application_closing_at: self.application_closing_at,
            applications_cancelable: self.applications_cancelable,
            external_applications: self.external_applications,
            globally_visible: self.globally_visible,
            participations_visible: self.participations_visible,
            priorization: self.priorization,
            requires_approval: self.requires_approval,
            automatic_assignment: self.automatic_assignment,
            waiting_list: self.waiting_list,
            notify_contact_on_participations: self.notify_contact_on_participations,
            contact_id: self.contact_id,
            training_days: self.training_days,
            dates: self.dates.iter().map(EventDate::to_new).collect(),
        }
    }
}

impl EventDate {
    /// Whether the date finishes (or, without a finish, starts) on or
    /// after `today`.
    pub fn is_upcoming(&self, today: NaiveDate) -> bool {
        self.finish_at.unwrap_or(self.start_at).date() >= today
    }

    /// The years the date starts and finishes in.
    fn years(&self) -> Vec<i32> {
        use chrono::Datelike;
        [Some(self.start_at), self.finish_at]
            .into_iter()
            .flatten()
            .map(|t| t.year())
            .collect()
    }

    fn to_new(&self) -> NewEventDate {
        NewEventDate {
            label: self.label.clone(),
            start_at: self.start_at,
            finish_at: self.finish_at,
            location: self.location.clone(),
        }
    }
}

/// Whether events of `event_type` are courses: they need a kind and take
/// applications.
pub fn is_course_type(event_type: &str) -> bool {
    event_type == COURSE
}

/// A date of a new or changed event, validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewEventDate {
    pub label: Option<String>,
    pub start_at: NaiveDateTime,
    /// `None`, or not before `start_at`.
    pub finish_at: Option<NaiveDateTime>,
    pub location: Option<String>,
}

/// One row of the dates of the event form, as typed. A row whose fields
/// are all blank is ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateInput {
    pub label: Option<String>,
    pub start_at: Option<String>,
    pub finish_at: Option<String>,
    pub location: Option<String>,
}

impl DateInput {
    fn is_blank(&self) -> bool {
        [&self.label, &self.start_at, &self.finish_at, &self.location]
            .iter()
            .all(|f| f.as_deref().is_none_or(|s| s.trim().is_empty()))
    }
}

/// Reads a date and time as browsers send it: `YYYY-MM-DDTHH:MM` (the
/// `datetime-local` input), with optional seconds, a space instead of
/// the `T`, or a bare date (midnight). Years outside 1900-2999 are typing
/// errors, not events, and read as no date.
pub fn parse_date_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    const FORMATS: [&str; 4] = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .filter(|t| (1900..3000).contains(&t.year()))
}

/// The longest description or application conditions an event takes, in
/// characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Validates the date rows of the form: blank rows are dropped; a row
/// needs a start, and a finish, if any, not before it. Violations name
/// the row, e.g. `dates[1][finish_at]`.
pub fn validated_dates(inputs: &[DateInput], v: &mut Violations) -> Vec<NewEventDate> {
    let mut dates = Vec::new();
    for (i, input) in inputs.iter().enumerate().filter(|(_, d)| !d.is_blank()) {
        if let Some(date) = validated_date(i, input, v) {
            dates.push(date);
        }
    }
    dates.sort_by_key(|d| d.start_at);
    dates
}

fn validated_date(i: usize, input: &DateInput, v: &mut Violations) -> Option<NewEventDate> {
    let field = |name: &str| format!("dates[{i}][{name}]");
    let start = clean(input.start_at.clone());
    let finish = clean(input.finish_at.clone());
    let start_at = match start.as_deref().map(parse_date_time) {
        None => {
            v.add(&field("start_at"), "errors.required");
            None
        }
        Some(None) => {
            v.add(&field("start_at"), "errors.invalid_date");
            None
        }
        Some(parsed) => parsed,
    };
    let finish_at = match finish.as_deref().map(parse_date_time) {
        Some(None) => {
            v.add(&field("finish_at"), "errors.invalid_date");
            return None;
        }
        other => other.flatten(),
    };
    let start_at = start_at?;
    if finish_at.is_some_and(|f| f < start_at) {
        v.add(&field("finish_at"), "errors.finish_before_start");
        return None;
    }
    let label = clean(input.label.clone());
    let location = clean(input.location.clone());
    single_line(v, &field("label"), &label, 255);
    single_line(v, &field("location"), &location, 255);
    Some(NewEventDate {
        label,
        start_at,
        finish_at,
        location,
    })
}

/// The fields of an event that its form edits (5.1), for creating and
/// updating. `validated` trims them and applies the rules of the type.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EventPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub application_conditions: Option<String>,
    pub number: Option<String>,
    pub motto: Option<String>,
    pub cost: Option<String>,
    pub location: Option<String>,
    pub kind_id: Option<EventKindId>,
    pub state: Option<String>,
    pub maximum_participants: Option<u32>,
    pub minimum_participants: Option<u32>,
    pub application_opening_at: Option<NaiveDate>,
    pub application_closing_at: Option<NaiveDate>,
    pub applications_cancelable: bool,
    pub external_applications: bool,
    pub globally_visible: Option<bool>,
    pub participations_visible: bool,
    pub priorization: bool,
    pub requires_approval: bool,
    pub automatic_assignment: bool,
    pub waiting_list: bool,
    pub notify_contact_on_participations: bool,
    pub contact_id: Option<PersonId>,
    pub training_days: Option<f64>,
    /// At least one; ordered by start.
    pub dates: Vec<NewEventDate>,
}

impl EventPatch {
    /// The defaults of a new event of `event_type`: courses show their
    /// participants to each other and have a waiting list (5.1).
    pub fn defaults_for(event_type: &str) -> EventPatch {
        let is_course = is_course_type(event_type);
        EventPatch {
            participations_visible: is_course,
            waiting_list: true,
            ..EventPatch::default()
        }
    }

    /// Trims the fields and checks the rules of section 5.1 that need
    /// only the fields: the name is required, at least one date, the
    /// closing date not before the opening date, courses need a kind.
    /// The fields a simple event does not use (number, kind, state,
    /// priorization, approval, automatic assignment, waiting list) are
    /// cleared for it. `dates` must come from [`validated_dates`];
    /// violations found there go in `v` first.
    ///
    /// # Errors
    /// All violations, by field: `name` (`errors.required`,
    /// `errors.too_long`, `errors.single_line`), `dates`
    /// (`errors.date_required`), `application_closing_at`
    /// (`errors.closing_before_opening`), `kind_id` (`errors.required`),
    /// `minimum_participants` (`errors.minimum_above_maximum`),
    /// `training_days` (`errors.not_negative`).
    pub fn validated(self, event_type: &str, mut v: Violations) -> Result<EventPatch, Violations> {
        let name = clean(self.name);
        if name.is_none() {
            v.add("name", "errors.required");
        }
        single_line(&mut v, "name", &name, 255);
        let (number, motto, cost, location, state) = (
            clean(self.number),
            clean(self.motto),
            clean(self.cost),
            clean(self.location),
            clean(self.state),
        );
        for (field, value) in [
            ("number", &number),
            ("motto", &motto),
            ("cost", &cost),
            ("location", &location),
        ] {
            single_line(&mut v, field, value, 255);
        }
        single_line(&mut v, "state", &state, 60);
        let (description, application_conditions) =
            (clean(self.description), clean(self.application_conditions));
        for (field, value) in [
            ("description", &description),
            ("application_conditions", &application_conditions),
        ] {
            if value
                .as_ref()
                .is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS)
            {
                v.add(field, "errors.too_long");
            }
        }
        if self.dates.is_empty() && v.0.iter().all(|x| !x.field.starts_with("dates[")) {
            v.add("dates", "errors.date_required");
        }
        if let (Some(o), Some(c)) = (self.application_opening_at, self.application_closing_at)
            && c < o
        {
            v.add("application_closing_at", "errors.closing_before_opening");
        }
        if let (Some(min), Some(max)) = (self.minimum_participants, self.maximum_participants)
            && max > 0
            && min > max
        {
            v.add("minimum_participants", "errors.minimum_above_maximum");
        }
        // NaN counts as negative: it is no number of days.
        if self.training_days.is_some_and(|d| d.is_nan() || d < 0.0) {
            v.add("training_days", "errors.not_negative");
        }
        let is_course = is_course_type(event_type);
        if is_course && self.kind_id.is_none() {
            v.add("kind_id", "errors.required");
        }
        let patch = EventPatch {
            name,
            description,
            application_conditions,
            location,
            motto,
            cost,
            number,
            state,
            ..self
        };
        v.into_result(if is_course {
            patch
        } else {
            patch.without_course_fields()
        })
    }

    /// Clears what a simple event does not use (5.1).
    fn without_course_fields(self) -> EventPatch {
        EventPatch {
            number: None,
            kind_id: None,
            state: None,
            priorization: false,
            requires_approval: false,
            automatic_assignment: false,
            waiting_list: false,
            ..self
        }
    }
}

/// A new event: its type, groups, fields and first questions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewEvent {
    pub event_type: String,
    /// One or more, checked with [`check_groups`].
    pub group_ids: Vec<GroupId>,
    pub fields: EventPatch,
    pub questions: Vec<question::NewQuestion>,
    pub creator_id: Option<PersonId>,
}

/// Checks the event's groups (5.1): at least one, none deleted, all of the
/// same group type, and `event_type` among the event types that group
/// type allows.
///
/// # Errors
/// The violations on `group_ids`: `errors.group_required`,
/// `errors.groups_differ`, `errors.event_type_not_allowed`.
pub fn check_groups(
    org: &Organisation,
    event_type: &str,
    groups: &[&Group],
) -> Result<(), Violations> {
    let mut v = Violations::default();
    let Some(first) = groups.first() else {
        v.add("group_ids", "errors.group_required");
        return Err(v);
    };
    if groups.iter().any(|g| g.group_type != first.group_type) {
        v.add("group_ids", "errors.groups_differ");
    } else if groups.iter().any(|g| g.is_deleted()) {
        v.add("group_ids", "errors.group_required");
    } else if !org
        .group_type(&first.group_type)
        .is_some_and(|t| t.event_types.iter().any(|e| e == event_type))
    {
        v.add("group_ids", "errors.event_type_not_allowed");
    }
    v.into_result(())
}

/// Whether `group` offers courses: its type may hold them (hitobito's
/// course offerers).
pub fn offers_courses(org: &Organisation, group: &Group) -> bool {
    allowed_types(org, group).iter().any(|t| t == COURSE)
}

/// The event types `group` may hold, as its group type lists them.
pub fn allowed_types<'a>(org: &'a Organisation, group: &Group) -> &'a [String] {
    org.group_type(&group.group_type)
        .map_or(&[], |t| t.event_types.as_slice())
}

impl AttachmentVisibility {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentVisibility::Team => "team",
            AttachmentVisibility::Participants => "participants",
            AttachmentVisibility::Global => "global",
        }
    }

    /// The visibility stored under `name`.
    pub fn parse(name: &str) -> Option<AttachmentVisibility> {
        [
            AttachmentVisibility::Team,
            AttachmentVisibility::Participants,
            AttachmentVisibility::Global,
        ]
        .into_iter()
        .find(|v| v.as_str() == name)
    }
}

/// Largest attachment accepted (5.1: 10 MB).
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// The content types an attachment may have (5.1: images, PDF, office
/// formats, zip), by the file name's extension, lower case.
const ATTACHMENT_TYPES: [(&str, &str); 16] = [
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("txt", "text/plain"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("ppt", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("zip", "application/zip"),
];

/// A checked attachment upload: a file name without path and the
/// content type its extension stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub byte_size: u64,
    pub visibility: AttachmentVisibility,
}

/// Checks an upload (5.1): a name with an allowed extension, not empty,
/// at most [`MAX_ATTACHMENT_BYTES`]. The name loses any folder part a
/// browser sent, and control characters.
///
/// The content type comes from the extension, never from the browser,
/// and the file is always served as a download, so a renamed file cannot
/// run as a page of this site.
///
/// # Errors
/// The violations on `file`: `errors.required`, `errors.file_too_large`,
/// `errors.file_type`.
pub fn check_attachment(
    filename: &str,
    byte_size: usize,
    visibility: AttachmentVisibility,
) -> Result<NewAttachment, Violations> {
    let mut v = Violations::default();
    let name: String = filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let name = name.trim().to_owned();
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    let content_type = extension
        .and_then(|e| ATTACHMENT_TYPES.iter().find(|(x, _)| *x == e))
        .map(|(_, t)| (*t).to_owned());
    if name.is_empty() || byte_size == 0 {
        v.add("file", "errors.required");
    } else if byte_size > MAX_ATTACHMENT_BYTES {
        v.add("file", "errors.file_too_large");
    } else if content_type.is_none() || name.chars().count() > 255 {
        v.add("file", "errors.file_type");
    }
    v.into_result(NewAttachment {
        filename: name,
        content_type: content_type.unwrap_or_default(),
        byte_size: byte_size as u64,
        visibility,
    })
}

/// Which events of a group a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum EventWhen {
    /// Upcoming on this day ([`Event::is_upcoming`]).
    Upcoming(NaiveDate),
    /// With a date starting or finishing in this year.
    Year(i32),
}

/// Which events a viewer may find in the global lists (section 4.4's
/// "events readable"), decided by [`crate::ability::event_scope`]. An
/// event is in the scope when any branch holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EventScope {
    /// Every event (root).
    pub all: bool,
    /// Events with `globally_visible = TRUE` (NULL counts as false here)
    /// or open for external applications.
    pub public: bool,
    /// Events this person takes part in.
    pub participant: Option<PersonId>,
    /// Events with a group in one of these layers.
    pub layer_ids: Vec<GroupId>,
    /// Events with a group in the subtree of one of these layers.
    pub below_layer_ids: Vec<GroupId>,
}

/// A query of the global event lists (`/list_events`, `/list_courses`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventQuery {
    pub scope: EventScope,
    /// Only events of this type.
    pub event_type: Option<String>,
    pub kind_id: Option<EventKindId>,
    /// Only events with a date that finishes (or starts) on or after it.
    pub from: Option<NaiveDate>,
    /// Only events with a date that starts on or before it.
    pub to: Option<NaiveDate>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_browsers_send_them_within_sensible_years() {
        let at = |s| parse_date_time(s).map(|t| t.to_string());
        assert_eq!(
            at("2027-05-02T09:30").as_deref(),
            Some("2027-05-02 09:30:00")
        );
        assert_eq!(at("2027-05-02").as_deref(), Some("2027-05-02 00:00:00"));
        assert_eq!(at("0000-01-02T10:00"), None);
        assert_eq!(at("1899-12-31T10:00"), None);
        assert_eq!(at("3000-01-01T10:00"), None);
        assert_eq!(at("tomorrow"), None);
    }

    #[test]
    fn descriptions_have_a_length_limit() {
        let patch = |description: String| {
            let mut v = Violations::default();
            let dates = validated_dates(
                &[DateInput {
                    start_at: Some("2027-05-02T09:00".to_owned()),
                    ..DateInput::default()
                }],
                &mut v,
            );
            EventPatch {
                name: Some("Camp".to_owned()),
                description: Some(description),
                dates,
                ..EventPatch::defaults_for(SIMPLE_EVENT)
            }
            .validated(SIMPLE_EVENT, v)
        };
        assert!(patch("x".repeat(MAX_TEXT_CHARS)).is_ok());
        let refused = patch("x".repeat(MAX_TEXT_CHARS + 1)).expect_err("too long");
        assert_eq!(refused.for_field("description"), Some("errors.too_long"));
    }
}
