//! Roles: a person's membership in a group, with a type from the
//! organisation definition, an optional label and a validity period.
//!
//! Holds the role type and date rules, and what removing a role means
//! (section 3.5 of the domain description). Permission questions are in
//! [`crate::ability`].

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::group::Group;
use crate::id::{GroupId, PersonId, RoleId};
use crate::org::{Organisation, RoleKind};
use crate::validate::{Violations, clean, single_line};

/// Roles younger than this many days are deleted instead of ended
/// (hitobito's `Settings.role.minimum_days_to_archive`).
pub const MINIMUM_DAYS_TO_ARCHIVE: i64 = 7;

/// A role, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub id: RoleId,
    pub person_id: PersonId,
    pub group_id: GroupId,
    /// The role type key, e.g. `Club.ClubLeader`.
    pub role_type: String,
    pub label: Option<String>,
    pub start_on: Option<NaiveDate>,
    pub end_on: Option<NaiveDate>,
    pub archived_at: Option<DateTime<Utc>>,
    pub is_terminated: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a role stands in time on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleState {
    Future,
    Active,
    Ended,
}

impl Role {
    /// The role's state on `today`.
    pub fn state(&self, today: NaiveDate) -> RoleState {
        if self.start_on.is_some_and(|s| s > today) {
            RoleState::Future
        } else if self.end_on.is_some_and(|e| e < today) {
            RoleState::Ended
        } else {
            RoleState::Active
        }
    }

    /// Whether the role grants its permissions on `today`: started (or no
    /// start), not ended (or no end) and not archived.
    pub fn is_active(&self, today: NaiveDate) -> bool {
        self.state(today) == RoleState::Active && self.archived_at.is_none()
    }
}

/// A new role, as a form submits it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRole {
    pub person_id: PersonId,
    pub group_id: GroupId,
    pub role_type: String,
    pub label: Option<String>,
    pub start_on: Option<NaiveDate>,
    pub end_on: Option<NaiveDate>,
}

impl NewRole {
    /// Checks the role against its group (section 3.2): the type must be one
    /// of the group type's role types, not restricted, the group active,
    /// and `end_on >= start_on` with years in 1900..=9999. A missing start
    /// becomes `today`.
    ///
    /// # Errors
    /// The violations, keyed by field.
    pub fn validated(
        mut self,
        org: &Organisation,
        group: &Group,
        today: NaiveDate,
    ) -> Result<NewRole, Violations> {
        let mut v = Violations::default();
        if !org.is_role_allowed(&group.group_type, &self.role_type) {
            v.add("role_type", "errors.role_type_not_allowed");
        } else if org
            .role_type(&self.role_type)
            .is_some_and(|t| t.kind == RoleKind::Restricted)
        {
            v.add("role_type", "errors.role_type_restricted");
        }
        if !group.is_active() {
            v.add("group_id", "errors.group_inactive");
        }
        self.label = clean(self.label);
        single_line(&mut v, "label", &self.label, 255);
        self.start_on = Some(self.start_on.unwrap_or(today));
        check_dates(&mut v, self.start_on, self.end_on);
        v.into_result(self)
    }
}

/// The editable fields of an existing role.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RolePatch {
    pub label: Option<String>,
    pub start_on: Option<NaiveDate>,
    pub end_on: Option<NaiveDate>,
}

impl RolePatch {
    /// Checks label and dates as for a new role.
    ///
    /// # Errors
    /// The violations, keyed by field.
    pub fn validated(mut self) -> Result<RolePatch, Violations> {
        let mut v = Violations::default();
        self.label = clean(self.label);
        single_line(&mut v, "label", &self.label, 255);
        check_dates(&mut v, self.start_on, self.end_on);
        v.into_result(self)
    }
}

fn check_dates(v: &mut Violations, start: Option<NaiveDate>, end: Option<NaiveDate>) {
    for (field, d) in [("start_on", start), ("end_on", end)] {
        if d.is_some_and(|d| !(1900..=9999).contains(&d.year())) {
            v.add(field, "errors.year_range");
        }
    }
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        v.add("end_on", "errors.end_before_start");
    }
}

/// What removing a role does (section 3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoveOutcome {
    /// The role is young or not yet started: it is deleted.
    Delete,
    /// The role is ended as of this day (yesterday).
    End(NaiveDate),
    /// The role has ended already; nothing changes.
    AlreadyEnded,
}

/// Decides what removing `role` means on `today`: a role created less
/// than [`MINIMUM_DAYS_TO_ARCHIVE`] days ago, or starting today or later, is
/// deleted; an older one ends yesterday; an ended one stays as it is.
pub fn remove_outcome(role: &Role, now: DateTime<Utc>) -> RemoveOutcome {
    let today = now.date_naive();
    let young = (now - role.created_at).num_days() < MINIMUM_DAYS_TO_ARCHIVE;
    let starts_today_or_later = role.start_on.is_some_and(|s| s >= today);
    if young || starts_today_or_later {
        return RemoveOutcome::Delete;
    }
    if role.end_on.is_some_and(|e| e < today) {
        return RemoveOutcome::AlreadyEnded;
    }
    RemoveOutcome::End(today.checked_sub_days(Days::new(1)).unwrap_or(today))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn role(created_days_ago: i64, start_on: Option<NaiveDate>, end_on: Option<NaiveDate>) -> Role {
        let now = now();
        Role {
            id: RoleId(1),
            person_id: PersonId(1),
            group_id: GroupId(1),
            role_type: "Club.ClubLeader".into(),
            label: None,
            start_on,
            end_on,
            archived_at: None,
            is_terminated: false,
            created_at: now - chrono::Duration::days(created_days_ago),
            updated_at: now,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0)
            .single()
            .expect("valid date")
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, d).expect("valid date")
    }

    #[test]
    fn young_role_is_deleted() {
        assert_eq!(
            remove_outcome(&role(6, Some(day(4)), None), now()),
            RemoveOutcome::Delete
        );
    }

    #[test]
    fn old_role_ends_yesterday() {
        assert_eq!(
            remove_outcome(&role(7, Some(day(1)), None), now()),
            RemoveOutcome::End(day(9))
        );
    }

    #[test]
    fn role_starting_today_is_deleted_even_if_old() {
        assert_eq!(
            remove_outcome(&role(30, Some(day(10)), None), now()),
            RemoveOutcome::Delete
        );
    }

    #[test]
    fn ended_role_stays_ended() {
        assert_eq!(
            remove_outcome(&role(30, Some(day(1)), Some(day(5))), now()),
            RemoveOutcome::AlreadyEnded
        );
    }

    fn org() -> Organisation {
        let src = include_str!("../../examples/demo-federation.toml");
        Organisation::from_toml(src, "demo-federation.toml").expect("the demo loads")
    }

    fn club_members() -> Group {
        Group {
            id: GroupId(4),
            parent_id: Some(GroupId(3)),
            path: vec![GroupId(1), GroupId(2), GroupId(3), GroupId(4)],
            layer_group_id: GroupId(3),
            group_type: "ClubMembers".into(),
            name: "Members".into(),
            short_name: None,
            email: None,
            description: None,
            address: crate::group::Address::default(),
            created_at: now(),
            updated_at: now(),
            deleted_at: None,
            archived_at: None,
        }
    }

    fn new_role(
        role_type: &str,
        start_on: Option<NaiveDate>,
        end_on: Option<NaiveDate>,
    ) -> NewRole {
        NewRole {
            person_id: PersonId(1),
            group_id: GroupId(4),
            role_type: role_type.into(),
            label: Some("  Youth ".into()),
            start_on,
            end_on,
        }
    }

    #[test]
    fn new_role_without_start_starts_today_and_keeps_a_trimmed_label() {
        let r = new_role("ClubMembers.Active", None, None)
            .validated(&org(), &club_members(), day(10))
            .expect("valid");
        assert_eq!(r.start_on, Some(day(10)));
        assert_eq!(r.label.as_deref(), Some("Youth"));
    }

    #[test]
    fn new_role_may_end_on_its_first_day_but_not_before() {
        let (org, g) = (org(), club_members());
        assert!(
            new_role("ClubMembers.Active", Some(day(5)), Some(day(5)))
                .validated(&org, &g, day(10))
                .is_ok()
        );
        let v = new_role("ClubMembers.Active", Some(day(5)), Some(day(4)))
            .validated(&org, &g, day(10))
            .expect_err("ends before it starts");
        assert_eq!(v.for_field("end_on"), Some("errors.end_before_start"));
        // The start defaults to today, so an end in the past is refused too.
        let v = new_role("ClubMembers.Active", None, Some(day(9)))
            .validated(&org, &g, day(10))
            .expect_err("ends before today");
        assert_eq!(v.for_field("end_on"), Some("errors.end_before_start"));
    }

    #[test]
    fn new_role_type_must_belong_to_the_group_type() {
        let v = new_role("Club.ClubLeader", None, None)
            .validated(&org(), &club_members(), day(10))
            .expect_err("a club role in a members group");
        assert_eq!(
            v.for_field("role_type"),
            Some("errors.role_type_not_allowed")
        );
        let v = new_role("Nope", None, None)
            .validated(&org(), &club_members(), day(10))
            .expect_err("unknown type");
        assert_eq!(
            v.for_field("role_type"),
            Some("errors.role_type_not_allowed")
        );
    }

    #[test]
    fn restricted_role_type_is_refused() {
        let src = "[organisation]\nname = \"T\"\nroot = \"Top\"\n[group_types.Top]\n\
                   layer = true\n[[group_types.Top.roles]]\nkey = \"Managed\"\n\
                   kind = \"restricted\"\n";
        let org = Organisation::from_toml(src, "t.toml").expect("org");
        let mut top = club_members();
        top.group_type = "Top".into();
        let v = new_role("Top.Managed", None, None)
            .validated(&org, &top, day(10))
            .expect_err("restricted");
        assert_eq!(
            v.for_field("role_type"),
            Some("errors.role_type_restricted")
        );
    }

    #[test]
    fn new_role_in_an_inactive_group_and_dates_out_of_range_are_refused() {
        let mut archived = club_members();
        archived.archived_at = Some(now());
        let v = new_role("ClubMembers.Active", None, None)
            .validated(&org(), &archived, day(10))
            .expect_err("archived group");
        assert_eq!(v.for_field("group_id"), Some("errors.group_inactive"));
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1);
        let v = new_role(
            "ClubMembers.Active",
            NaiveDate::from_ymd_opt(1899, 1, 1),
            far,
        )
        .validated(&org(), &club_members(), day(10))
        .expect_err("years");
        assert_eq!(v.for_field("start_on"), Some("errors.year_range"));
        assert_eq!(v.for_field("end_on"), Some("errors.year_range"));
    }

    #[test]
    fn role_patch_checks_the_order_of_its_dates() {
        let patch = RolePatch {
            label: None,
            start_on: Some(day(5)),
            end_on: Some(day(1)),
        };
        let v = patch.validated().expect_err("end before start");
        assert_eq!(v.for_field("end_on"), Some("errors.end_before_start"));
    }

    #[test]
    fn young_ended_role_is_deleted_and_old_role_ending_today_ends_yesterday() {
        assert_eq!(
            remove_outcome(&role(3, Some(day(1)), Some(day(5))), now()),
            RemoveOutcome::Delete,
            "young wins over ended"
        );
        assert_eq!(
            remove_outcome(&role(30, Some(day(1)), Some(day(10))), now()),
            RemoveOutcome::End(day(9))
        );
        assert_eq!(
            remove_outcome(&role(30, None, Some(day(9))), now()),
            RemoveOutcome::AlreadyEnded,
            "ended yesterday"
        );
        assert_eq!(
            remove_outcome(&role(30, Some(day(20)), None), now()),
            RemoveOutcome::Delete,
            "future role"
        );
    }

    #[test]
    fn state_follows_dates() {
        let today = day(10);
        assert_eq!(role(1, Some(day(11)), None).state(today), RoleState::Future);
        assert_eq!(
            role(1, Some(day(1)), Some(day(9))).state(today),
            RoleState::Ended
        );
        assert_eq!(role(1, None, Some(day(10))).state(today), RoleState::Active);
    }
}
