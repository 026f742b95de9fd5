//! The course catalogue and the events of section 15's demo: two
//! qualification kinds, a category, the kinds BLC and REF with their
//! qualification links, the federation's BLC course and Club Alpha's
//! summer party.
//!
//! [`demo_events`] is the plan, pure and relative to the day of the
//! start; [`write_events`] writes it after the groups and people, through
//! the stores with system permits.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

use crate::ability::{CreateEvent, ManageKinds, system};
use crate::event::kind::{
    CategoryPatch, EventKindPatch, KindQualification, LinkCategory, LinkRole, LinkValidity,
    QualificationKindPatch,
};
use crate::event::{COURSE, EventPatch, NewEvent, NewEventDate, SIMPLE_EVENT, check_groups};
use crate::group::Group;
use crate::id::{EventKindCategoryId, QualificationKindId};
use crate::org::Organisation;
use crate::store::{Store, StoreError};
use crate::validate::Violations;

/// A qualification kind of the demo, by its key.
struct SeedQualificationKind {
    key: &'static str,
    fields: QualificationKindPatch,
}

/// One qualification link of a demo event kind.
struct SeedLink {
    kind: &'static str,
    category: LinkCategory,
    role: LinkRole,
    grouping: Option<u32>,
    validity: LinkValidity,
}

/// An event kind of the demo, in the category named by its label.
struct SeedEventKind {
    short_name: &'static str,
    fields: EventKindPatch,
    links: Vec<SeedLink>,
}

/// An event of the demo on one seed group.
pub(super) struct SeedEvent {
    /// A [`super::SeedGroup::key`].
    pub group: &'static str,
    pub event_type: &'static str,
    /// The short name of its kind (courses).
    pub kind: Option<&'static str>,
    /// Fields, without the kind (set when it is written).
    pub fields: EventPatch,
}

/// The label of the demo's only category of event kinds.
const CATEGORY: &str = "Leader training";

fn qualification_kinds() -> Vec<SeedQualificationKind> {
    let kind = |key, label: &str, validity, reactivateable, days| SeedQualificationKind {
        key,
        fields: QualificationKindPatch {
            label: Some(label.to_owned()),
            validity: Some(validity),
            reactivateable: Some(reactivateable),
            required_training_days: days,
            ..QualificationKindPatch::default()
        },
    };
    vec![
        kind("first_aid", "First aid", 2, 2, None),
        kind("youth_leader", "Youth leader", 3, 4, Some(2.0)),
    ]
}

fn link(kind: &'static str, category: LinkCategory, role: LinkRole) -> SeedLink {
    SeedLink {
        kind,
        category,
        role,
        grouping: None,
        validity: LinkValidity::default(),
    }
}

fn event_kinds() -> Vec<SeedEventKind> {
    let kind = |short_name, label: &str, minimum_age| EventKindPatch {
        label: Some(label.to_owned()),
        short_name: Some(String::from(short_name)),
        minimum_age,
        ..EventKindPatch::default()
    };
    vec![
        SeedEventKind {
            short_name: "BLC",
            fields: kind("BLC", "Basic leader course", Some(17)),
            links: vec![
                link(
                    "youth_leader",
                    LinkCategory::Qualification,
                    LinkRole::Participant,
                ),
                SeedLink {
                    grouping: Some(1),
                    validity: LinkValidity::Valid,
                    ..link(
                        "first_aid",
                        LinkCategory::Precondition,
                        LinkRole::Participant,
                    )
                },
            ],
        },
        SeedEventKind {
            short_name: "REF",
            fields: kind("REF", "Refresher", None),
            links: vec![
                link(
                    "youth_leader",
                    LinkCategory::Prolongation,
                    LinkRole::Participant,
                ),
                link("youth_leader", LinkCategory::Prolongation, LinkRole::Leader),
            ],
        },
    ]
}

/// `days` after `today` at `hour`:`minute`, local time.
fn at(today: NaiveDate, days: u64, hour: u32, minute: u32) -> chrono::NaiveDateTime {
    let day = today.checked_add_days(Days::new(days)).unwrap_or(today);
    day.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN))
}

/// The events of section 15, with dates relative to `today`: the BLC
/// course of the federation (applications open today for 45 days, the
/// course in 60 days) and Club Alpha's summer party in 30 days.
pub(super) fn demo_events(today: NaiveDate) -> Vec<SeedEvent> {
    let course = SeedEvent {
        group: "DF",
        event_type: COURSE,
        kind: Some("BLC"),
        fields: EventPatch {
            name: Some("Basic leader course".to_owned()),
            number: Some("BLC-01".to_owned()),
            maximum_participants: Some(20),
            waiting_list: true,
            requires_approval: true,
            // Section 15 leaves it unset, which the course lists read as
            // hidden (4.4); a federation's course is meant to be found.
            globally_visible: Some(true),
            application_opening_at: Some(today),
            application_closing_at: today.checked_add_days(Days::new(45)),
            dates: vec![NewEventDate {
                label: None,
                start_at: at(today, 60, 9, 0),
                finish_at: Some(at(today, 65, 16, 0)),
                location: Some("Camp".to_owned()),
            }],
            ..EventPatch::defaults_for(COURSE)
        },
    };
    let party = SeedEvent {
        group: "CA",
        event_type: SIMPLE_EVENT,
        kind: None,
        fields: EventPatch {
            name: Some("Summer party".to_owned()),
            globally_visible: Some(false),
            participations_visible: true,
            dates: vec![NewEventDate {
                label: None,
                start_at: at(today, 30, 18, 0),
                finish_at: None,
                location: None,
            }],
            ..EventPatch::defaults_for(SIMPLE_EVENT)
        },
    };
    vec![course, party]
}

fn invalid(what: &str, v: &Violations) -> StoreError {
    StoreError::Rule(format!("demo data {what}: {v:?}"))
}

/// Writes the category and the qualification and event kinds; returns
/// the event kinds' ids by short name.
fn write_catalogue(
    store: &dyn Store,
    now: DateTime<Utc>,
) -> Result<HashMap<&'static str, crate::id::EventKindId>, StoreError> {
    let permit = system(ManageKinds);
    let category: EventKindCategoryId = store
        .create_event_kind_category(
            &permit,
            &CategoryPatch {
                label: Some(CATEGORY.to_owned()),
                order: 1,
            }
            .validated()
            .map_err(|v| invalid(CATEGORY, &v))?,
        )?
        .id;
    let mut qualification_ids: HashMap<&str, QualificationKindId> = HashMap::new();
    for q in qualification_kinds() {
        let fields = q.fields.validated().map_err(|v| invalid(q.key, &v))?;
        let created = store.create_qualification_kind(&permit, &fields, now)?;
        qualification_ids.insert(q.key, created.id);
    }
    let mut kind_ids = HashMap::new();
    for k in event_kinds() {
        let qualifications = k
            .links
            .iter()
            .map(|l| {
                Ok(KindQualification {
                    qualification_kind_id: *qualification_ids
                        .get(l.kind)
                        .ok_or_else(|| invalid(l.kind, &Violations::default()))?,
                    category: l.category,
                    role: l.role,
                    grouping: l.grouping,
                    validity: l.validity,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let fields = EventKindPatch {
            kind_category_id: Some(category),
            qualifications,
            ..k.fields
        }
        .validated()
        .map_err(|v| invalid(k.short_name, &v))?;
        let created = store.create_event_kind(&permit, &fields, now)?;
        kind_ids.insert(k.short_name, created.id);
    }
    Ok(kind_ids)
}

/// Writes the demo's catalogue and events on the seeded `groups` (by
/// key); returns how many events were created.
///
/// # Errors
/// [`StoreError::Rule`] when a demo event does not pass the rules of
/// section 5.1 (a group type that does not allow its type, say); any
/// error of the store.
pub(super) fn write_events(
    store: &dyn Store,
    org: &Organisation,
    groups: &HashMap<String, Group>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let kinds = write_catalogue(store, now)?;
    let events = demo_events(now.date_naive());
    for seed in &events {
        let group = groups
            .get(seed.group)
            .ok_or_else(|| invalid(seed.group, &Violations::default()))?;
        check_groups(org, seed.event_type, &[group]).map_err(|v| invalid(seed.group, &v))?;
        let fields = EventPatch {
            kind_id: seed.kind.and_then(|k| kinds.get(k).copied()),
            ..seed.fields.clone()
        }
        .validated(seed.event_type, Violations::default())
        .map_err(|v| invalid(seed.group, &v))?;
        store.create_event(
            &system(CreateEvent(vec![group.id])),
            &NewEvent {
                event_type: seed.event_type.to_owned(),
                group_ids: vec![group.id],
                fields,
                questions: Vec::new(),
                creator_id: None,
            },
            now,
        )?;
    }
    Ok(events.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, 10).expect("valid")
    }

    #[test]
    fn the_course_opens_today_and_takes_place_in_two_months() {
        let events = demo_events(today());
        let course = &events[0];
        assert_eq!((course.group, course.kind), ("DF", Some("BLC")));
        let f = &course.fields;
        assert_eq!(f.application_opening_at, Some(today()));
        assert_eq!(
            f.application_closing_at,
            NaiveDate::from_ymd_opt(2025, 4, 24)
        );
        assert_eq!(
            f.dates[0].start_at.to_string(),
            "2025-05-09 09:00:00",
            "60 days on, at nine"
        );
        assert_eq!(
            f.dates[0].finish_at.map(|t| t.to_string()).as_deref(),
            Some("2025-05-14 16:00:00")
        );
        assert!(f.requires_approval && f.waiting_list);
        assert_eq!(f.maximum_participants, Some(20));
    }

    #[test]
    fn the_party_is_club_alphas_and_not_globally_visible() {
        let events = demo_events(today());
        let party = &events[1];
        assert_eq!((party.group, party.event_type), ("CA", SIMPLE_EVENT));
        assert_eq!(party.fields.globally_visible, Some(false));
        assert!(party.fields.participations_visible);
        assert_eq!(
            party.fields.dates[0].start_at.to_string(),
            "2025-04-09 18:00:00"
        );
    }

    #[test]
    fn catalogue_is_valid_and_links_known_kinds() {
        let keys: Vec<&str> = qualification_kinds().iter().map(|q| q.key).collect();
        for q in qualification_kinds() {
            q.fields.validated().expect("a valid qualification kind");
        }
        for k in event_kinds() {
            assert!(
                k.links.iter().all(|l| keys.contains(&l.kind)),
                "{}",
                k.short_name
            );
            k.fields.validated().expect("a valid event kind");
        }
    }
}
