//! Rows of the kind and qualification tables to domain values, for both
//! SQL stores: the column lists they select with and readers over
//! [`Columns`], plus the event-history and participant rows.
//!
//! The lists cast what [`Columns`] cannot read directly: INTEGER columns
//! to BIGINT, and the REAL `required_training_days` to text (PostgreSQL's
//! REAL is a 4-byte float the row trait has no reader for).

use chrono::NaiveDateTime;

use super::event_rows::DATE_TIME_FORMAT;
use super::row::Columns;
use super::sql::{parse_date, parse_timestamp};
use crate::event::kind::{
    EventKind, EventKindCategory, KindQualification, LinkCategory, LinkRole, LinkValidity,
    QualificationKind,
};
use crate::event::participation::EventRoleType;
use crate::event::qualification::Qualification;
use crate::id::{
    EventId, EventKindCategoryId, EventKindId, PersonId, QualificationId, QualificationKindId,
};

/// The columns of `event_kind_categories` (alias `c`).
pub(crate) const CATEGORY_COLUMNS: &str = "c.id, c.label, CAST(c.ord AS BIGINT) AS ord";

/// The columns of `qualification_kinds` (alias `k`).
pub(crate) const QUALIFICATION_KIND_COLUMNS: &str = "k.id, k.label, k.description, \
     CAST(k.validity AS BIGINT) AS validity, \
     CAST(k.reactivateable AS BIGINT) AS reactivateable, \
     CAST(k.required_training_days AS TEXT) AS required_training_days, k.deleted_at";

/// The columns of `event_kinds` (alias `e`), without the links.
pub(crate) const EVENT_KIND_COLUMNS: &str = "e.id, e.label, e.short_name, \
     e.general_information, e.application_conditions, \
     CAST(e.minimum_age AS BIGINT) AS minimum_age, e.kind_category_id, e.deleted_at";

/// The columns of `event_kind_qualification_kinds` (alias `l`).
pub(crate) const LINK_COLUMNS: &str = "l.event_kind_id, l.qualification_kind_id, l.category, \
     l.role, CAST(l.grouping_number AS BIGINT) AS grouping_number, l.validity";

/// The columns of `qualifications` (alias `q`).
pub(crate) const QUALIFICATION_COLUMNS: &str = "q.id, q.person_id, q.qualification_kind_id, \
     q.start_at, q.finish_at, q.qualified_at, q.origin, q.event_id";

fn opt_u32<R: Columns>(r: &R, name: &str) -> Result<Option<u32>, R::Error> {
    r.opt_int(name)?
        .map(|n| u32::try_from(n).map_err(|e| r.invalid(name, Box::new(e))))
        .transpose()
}

fn opt_date<R: Columns>(r: &R, name: &str) -> Result<Option<chrono::NaiveDate>, R::Error> {
    r.opt_text(name)?
        .map(|t| parse_date(&t).map_err(|e| r.invalid(name, Box::new(e))))
        .transpose()
}

fn opt_timestamp<R: Columns>(
    r: &R,
    name: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, R::Error> {
    r.opt_text(name)?
        .map(|t| parse_timestamp(&t).map_err(|e| r.invalid(name, Box::new(e))))
        .transpose()
}

/// A nullable event date-time column.
pub(crate) fn opt_date_time<R: Columns>(
    r: &R,
    name: &str,
) -> Result<Option<NaiveDateTime>, R::Error> {
    r.opt_text(name)?
        .map(|t| {
            NaiveDateTime::parse_from_str(&t, DATE_TIME_FORMAT)
                .map_err(|e| r.invalid(name, Box::new(e)))
        })
        .transpose()
}

/// A row of [`CATEGORY_COLUMNS`].
pub(crate) fn category<R: Columns>(r: &R) -> Result<EventKindCategory, R::Error> {
    Ok(EventKindCategory {
        id: EventKindCategoryId(r.int("id")?),
        label: r.text("label")?,
        order: i32::try_from(r.int("ord")?).map_err(|e| r.invalid("ord", Box::new(e)))?,
    })
}

/// A row of [`QUALIFICATION_KIND_COLUMNS`].
pub(crate) fn qualification_kind<R: Columns>(r: &R) -> Result<QualificationKind, R::Error> {
    let days = r
        .opt_text("required_training_days")?
        .map(|t| {
            t.trim()
                .parse::<f64>()
                .map_err(|e| r.invalid("required_training_days", Box::new(e)))
        })
        .transpose()?;
    Ok(QualificationKind {
        id: QualificationKindId(r.int("id")?),
        label: r.text("label")?,
        description: r.opt_text("description")?,
        validity: opt_u32(r, "validity")?,
        reactivateable: opt_u32(r, "reactivateable")?,
        required_training_days: days,
        deleted_at: opt_timestamp(r, "deleted_at")?,
    })
}

/// A row of [`EVENT_KIND_COLUMNS`], without links yet.
pub(crate) fn event_kind<R: Columns>(r: &R) -> Result<EventKind, R::Error> {
    Ok(EventKind {
        id: EventKindId(r.int("id")?),
        label: r.text("label")?,
        short_name: r.opt_text("short_name")?,
        general_information: r.opt_text("general_information")?,
        application_conditions: r.opt_text("application_conditions")?,
        minimum_age: opt_u32(r, "minimum_age")?,
        kind_category_id: r.opt_int("kind_category_id")?.map(EventKindCategoryId),
        qualifications: Vec::new(),
        deleted_at: opt_timestamp(r, "deleted_at")?,
    })
}

/// A row of [`LINK_COLUMNS`]: the event kind it belongs to, and the link.
pub(crate) fn link<R: Columns>(r: &R) -> Result<(EventKindId, KindQualification), R::Error> {
    let category = r.text("category")?;
    let role = r.text("role")?;
    let validity = r.text("validity")?;
    Ok((
        EventKindId(r.int("event_kind_id")?),
        KindQualification {
            qualification_kind_id: QualificationKindId(r.int("qualification_kind_id")?),
            category: LinkCategory::parse(&category)
                .ok_or_else(|| r.invalid("category", category.into()))?,
            role: LinkRole::parse(&role).ok_or_else(|| r.invalid("role", role.into()))?,
            grouping: opt_u32(r, "grouping_number")?,
            validity: LinkValidity::parse(&validity)
                .ok_or_else(|| r.invalid("validity", validity.into()))?,
        },
    ))
}

/// Puts each link into its kind's list (links ordered as selected).
pub(crate) fn attach_links(kinds: &mut [EventKind], links: Vec<(EventKindId, KindQualification)>) {
    for (id, l) in links {
        if let Some(k) = kinds.iter_mut().find(|k| k.id == id) {
            k.qualifications.push(l);
        }
    }
}

/// A row of [`QUALIFICATION_COLUMNS`].
pub(crate) fn qualification<R: Columns>(r: &R) -> Result<Qualification, R::Error> {
    let start = r.text("start_at")?;
    Ok(Qualification {
        id: QualificationId(r.int("id")?),
        person_id: PersonId(r.int("person_id")?),
        qualification_kind_id: QualificationKindId(r.int("qualification_kind_id")?),
        start_at: parse_date(&start).map_err(|e| r.invalid("start_at", Box::new(e)))?,
        finish_at: opt_date(r, "finish_at")?,
        qualified_at: opt_date(r, "qualified_at")?,
        origin: r.opt_text("origin")?,
        event_id: r.opt_int("event_id")?.map(EventId),
    })
}

/// Event role types from their stored keys, unknown keys skipped (a
/// type an organisation definition dropped).
pub(crate) fn role_types(keys: &[String]) -> Vec<EventRoleType> {
    let mut types: Vec<EventRoleType> = keys
        .iter()
        .filter_map(|k| EventRoleType::from_key(k))
        .collect();
    types.sort();
    types.dedup();
    types
}
