//! The store contract: what every implementation of [`hitcore::store::Store`]
//! guarantees, written once against the trait and run against every store
//! that `common::stores()` yields (in-memory SQLite, file SQLite, and
//! PostgreSQL once it exists and `HIT_TEST_POSTGRES_URL` is set).
//!
//! Each test runs its case on a fresh database per store; a failure prints
//! the store's name above the panic.

mod common;

use chrono::Duration;
use hitcore::ability::{
    ArchiveGroup, CreateGroup, CreatePerson, DestroyGroup, DestroyRole, MoveGroup, SetPassword,
    UpdateEmail, UpdateGroup, UpdatePerson, UpdateRole, system,
};
use hitcore::group::{Address, Group, NewGroup, PlanParent};
use hitcore::id::{ContactId, GroupId, PersonId, RoleId};
use hitcore::person::{ContactInput, Person};
use hitcore::role::{RemoveOutcome, RolePatch};
use hitcore::store::{GroupScope, ListFilter, PeopleQuery, Session, StoreError};

use common::*;

fn assert_rule<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::Rule(_))),
        "expected a rule error: {r:?}"
    );
}

fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(
        matches!(r, Err(StoreError::NotFound)),
        "expected not found: {r:?}"
    );
}

fn assert_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>, field: &str) {
    match r {
        Err(StoreError::Conflict { field: f }) => assert_eq!(f, field),
        other => panic!("expected a conflict on {field}: {other:?}"),
    }
}

fn group_count(w: &World<'_>) -> usize {
    w.s.all_groups().expect("groups").len()
}

// ------------------------------------------------------------------ groups

#[test]
fn root_plan_creates_default_children_with_paths_and_layers() {
    each_store(|w| {
        let root = &w.root;
        assert_eq!(root.parent_id, None);
        assert_eq!(root.path, [root.id]);
        assert!(root.is_layer());
        assert_eq!(root.name, "Contract Federation");
        for child in [&w.root_board, &w.root_members] {
            assert_eq!(child.parent_id, Some(root.id));
            assert_eq!(child.path, [root.id, child.id]);
            assert_eq!(child.layer_group_id, root.id);
            assert_eq!(child.created_at, t0());
        }
        // Default children are named after the type label in the default
        // language (German here).
        assert_eq!(w.root_board.name, "Vorstand");
        assert_eq!(w.root_members.name, "Mitglieder");
    });
}

#[test]
fn new_layer_below_a_parent_is_its_own_layer_and_carries_it_down() {
    each_store(|w| {
        let (region, board, members) = w.region(&w.root, "North");
        assert_eq!(region.path, [w.root.id, region.id]);
        assert_eq!(region.layer_group_id, region.id);
        assert_eq!(board.path, [w.root.id, region.id, board.id]);
        assert_eq!(board.layer_group_id, region.id);
        assert_eq!(members.layer_group_id, region.id);
        let sub = w.members(&members, "Juniors");
        assert_eq!(sub.path, [w.root.id, region.id, members.id, sub.id]);
        assert_eq!(sub.layer_group_id, region.id);
    });
}

#[test]
fn second_root_group_is_refused() {
    each_store(|w| {
        let plan = hitcore::group::plan_root(w.org, named("Again"));
        assert_rule(w.s.create_groups(&system(CreateGroup(None)), &plan, t0()));
        assert_eq!(group_count(w), 3);
    });
}

#[test]
fn failing_plan_leaves_no_group_behind() {
    each_store(|w| {
        let ok = NewGroup {
            parent: PlanParent::Existing(w.root.id),
            group_type: "Members".into(),
            is_layer: false,
            fields: named("Fine"),
        };
        let forward = NewGroup {
            parent: PlanParent::Planned(7),
            ..ok.clone()
        };
        let permit = system(CreateGroup(Some(w.root.id)));
        assert_rule(w.s.create_groups(&permit, &[ok.clone(), forward], t0()));
        // A parent the permit does not cover is refused as well.
        let elsewhere = NewGroup {
            parent: PlanParent::Existing(w.root_members.id),
            ..ok
        };
        assert_rule(w.s.create_groups(&permit, &[elsewhere], t0()));
        assert_eq!(group_count(w), 3);
    });
}

#[test]
fn groups_are_found_by_id_and_listed_whole() {
    each_store(|w| {
        assert_eq!(w.s.group(w.root.id).expect("query").as_ref(), Some(&w.root));
        assert_eq!(w.s.group(GroupId(9999)).expect("query"), None);
        let (region, _, members) = w.region(&w.root, "North");
        w.s.delete_group(&system(DestroyGroup(region.id)), t0())
            .expect_err("region has children");
        let sub = w.members(&members, "Sub");
        w.s.delete_group(&system(DestroyGroup(sub.id)), t0())
            .expect("deleted");
        let all = w.s.all_groups().expect("groups");
        assert_eq!(all.len(), 7, "deleted groups are listed too");
        assert!(all.iter().any(|g| g.id == sub.id && g.is_deleted()));
    });
}

#[test]
fn update_group_saves_fields_and_static_names_stay() {
    each_store(|w| {
        let patch = hitcore::group::GroupPatch {
            name: Some("Renamed".into()),
            short_name: Some("RN".into()),
            email: Some("info@example.org".into()),
            description: Some("About us".into()),
            address: Address {
                street: Some("Main street".into()),
                housenumber: Some("3".into()),
                town: Some("Bern".into()),
                country: Some("CH".into()),
                ..Address::default()
            },
        };
        let g =
            w.s.update_group(&system(UpdateGroup(w.root_members.id)), &patch, at(1))
                .expect("updated");
        assert_eq!(g.name, "Renamed");
        assert_eq!(g.short_name.as_deref(), Some("RN"));
        assert_eq!(g.email.as_deref(), Some("info@example.org"));
        assert_eq!(g.address.town.as_deref(), Some("Bern"));
        assert_eq!(g.updated_at, at(1));
        assert_eq!(g.created_at, t0());
        assert_eq!(w.reload(&g), g);

        let board =
            w.s.update_group(&system(UpdateGroup(w.root_board.id)), &patch, at(1))
                .expect("updated");
        assert_eq!((board.name.as_str(), board.short_name), ("Vorstand", None));
        assert_eq!(board.email.as_deref(), Some("info@example.org"));
    });
}

#[test]
fn update_of_an_archived_or_missing_group_is_refused() {
    each_store(|w| {
        let sub = w.members(&w.root_members, "Old");
        w.s.archive_group(&system(ArchiveGroup(sub.id)), at(1))
            .expect("archived");
        let patch = named("New");
        assert_rule(w.s.update_group(&system(UpdateGroup(sub.id)), &patch, at(2)));
        assert_not_found(w.s.update_group(&system(UpdateGroup(GroupId(9999))), &patch, at(2)));
    });
}

#[test]
fn moved_group_takes_the_new_layer_with_its_subtree() {
    each_store(|w| {
        let (region, _, _) = w.region(&w.root, "North");
        let team = w.members(&w.root_members, "Team");
        let sub = w.members(&team, "Sub");
        let permit = system(MoveGroup {
            group: team.id,
            new_parent: region.id,
        });
        let moved = w.s.move_group(&permit, at(1)).expect("moved");
        assert_eq!(moved.parent_id, Some(region.id));
        assert_eq!(moved.path, [w.root.id, region.id, team.id]);
        assert_eq!(moved.layer_group_id, region.id);
        assert_eq!(moved.updated_at, at(1));
        let sub = w.reload(&sub);
        assert_eq!(sub.path, [w.root.id, region.id, team.id, sub.id]);
        assert_eq!(sub.layer_group_id, region.id);
        assert_eq!(
            w.reload(&w.root_members),
            w.root_members,
            "old parent untouched"
        );
    });
}

#[test]
fn moved_layer_keeps_its_layer_and_only_its_subtree_changes() {
    each_store(|w| {
        let (north, north_board, north_members) = w.region(&w.root, "North");
        let (south, _, _) = w.region(&w.root, "South");
        let inner = w.members(&north_members, "Inner");
        // Enough groups that some ids share leading digits with others, so a
        // sloppy prefix match would catch groups outside the subtree.
        for i in 0..8 {
            w.members(&w.root_members, &format!("Filler {i}"));
        }
        let before: Vec<Group> = w.s.all_groups().expect("groups");
        let permit = system(MoveGroup {
            group: north.id,
            new_parent: south.id,
        });
        let moved = w.s.move_group(&permit, at(1)).expect("moved");
        assert_eq!(moved.path, [w.root.id, south.id, north.id]);
        assert_eq!(moved.layer_group_id, north.id);
        let board = w.reload(&north_board);
        assert_eq!(board.path, [w.root.id, south.id, north.id, north_board.id]);
        assert_eq!(board.layer_group_id, north.id);
        let inner = w.reload(&inner);
        assert_eq!(
            inner.path,
            [w.root.id, south.id, north.id, north_members.id, inner.id]
        );
        assert_eq!(inner.layer_group_id, north.id);
        let subtree = [north.id, north_board.id, north_members.id, inner.id];
        for g in before.iter().filter(|g| !subtree.contains(&g.id)) {
            assert_eq!(&w.reload(g), g, "group {} outside the subtree", g.id);
        }
    });
}

#[test]
fn move_into_own_subtree_or_to_a_wrong_type_is_refused() {
    each_store(|w| {
        let team = w.members(&w.root_members, "Team");
        let sub = w.members(&team, "Sub");
        let into_own = system(MoveGroup {
            group: team.id,
            new_parent: sub.id,
        });
        assert_rule(w.s.move_group(&into_own, at(1)));
        let below_board = system(MoveGroup {
            group: team.id,
            new_parent: w.root_board.id,
        });
        assert_rule(w.s.move_group(&below_board, at(1)));
        assert_eq!(
            w.reload(&sub).path,
            [w.root.id, w.root_members.id, team.id, sub.id]
        );
    });
}

#[test]
fn child_count_counts_live_subgroups() {
    each_store(|w| {
        assert_eq!(w.s.child_count(w.root.id).expect("count"), 2);
        let a = w.members(&w.root_members, "A");
        w.members(&w.root_members, "B");
        assert_eq!(w.s.child_count(w.root_members.id).expect("count"), 2);
        w.s.delete_group(&system(DestroyGroup(a.id)), t0())
            .expect("deleted");
        assert_eq!(w.s.child_count(w.root_members.id).expect("count"), 1);
        assert_eq!(w.s.child_count(GroupId(9999)).expect("count"), 0);
    });
}

#[test]
fn delete_is_refused_for_the_root_and_for_groups_with_children() {
    each_store(|w| {
        assert_rule(w.s.delete_group(&system(DestroyGroup(w.root.id)), at(1)));
        w.members(&w.root_members, "Child");
        assert_rule(w.s.delete_group(&system(DestroyGroup(w.root_members.id)), at(1)));
        assert!(!w.reload(&w.root_members).is_deleted());
        assert_not_found(w.s.delete_group(&system(DestroyGroup(GroupId(9999))), at(1)));
    });
}

#[test]
fn delete_group_removes_young_roles_and_ends_old_ones() {
    each_store(|w| {
        let team = w.members(&w.root_members, "Team");
        let (old, old_role) = w.person_with(patch("Olga", "Old", None), &team, MEMBER, at(-30));
        let (young, young_role) = w.person_with(patch("Yann", "Young", None), &team, MEMBER, t0());
        // The old member also has a role elsewhere, which becomes primary.
        let other = w.add_role(
            &old,
            &w.root_members,
            PASSIVE,
            Some(day(-20)),
            None,
            at(-20),
        );
        assert_eq!(w.person_now(&old).primary_group_id, Some(team.id));

        w.s.delete_group(&system(DestroyGroup(team.id)), at(1))
            .expect("deleted");
        let team = w.reload(&team);
        assert_eq!(team.deleted_at, Some(at(1)));
        assert_eq!(w.s.role(young_role.id).expect("query"), None);
        let ended = w.s.role(old_role.id).expect("query").expect("kept");
        assert_eq!(ended.end_on, Some(day(0)));
        assert_eq!(w.person_now(&old).primary_group_id, Some(other.group_id));
        assert_eq!(w.person_now(&young).primary_group_id, None);
    });
}

#[test]
fn archive_deletes_future_roles_and_stamps_the_others() {
    each_store(|w| {
        let board = w.region(&w.root, "North").1;
        let pres = w.person("Pia", "President", &board, PRESIDENT);
        assert!(w.person_now(&pres).contact_data_visible);
        let future = w.add_role(&pres, &board, BOARD_MEMBER, Some(day(10)), None, t0());
        let ended = w.add_role(
            &pres,
            &board,
            BOARD_MEMBER,
            Some(day(-9)),
            Some(day(-2)),
            t0(),
        );

        w.s.archive_group(&system(ArchiveGroup(board.id)), at(1))
            .expect("archived");
        assert_eq!(w.reload(&board).archived_at, Some(at(1)));
        assert_eq!(w.s.role(future.id).expect("query"), None);
        let stamped = w.s.role(ended.id).expect("query").expect("kept");
        assert_eq!(stamped.archived_at, Some(at(1)));
        let roles = w.s.roles_of_person(pres.id).expect("roles");
        assert!(roles.is_empty(), "archived roles are not listed: {roles:?}");
        let pres = w.person_now(&pres);
        assert!(!pres.contact_data_visible);
        assert_eq!(pres.primary_group_id, None);
    });
}

#[test]
fn archive_is_refused_twice_for_the_root_and_with_children() {
    each_store(|w| {
        assert_rule(w.s.archive_group(&system(ArchiveGroup(w.root.id)), t0()));
        let team = w.members(&w.root_members, "Team");
        assert_rule(w.s.archive_group(&system(ArchiveGroup(w.root_members.id)), t0()));
        w.s.archive_group(&system(ArchiveGroup(team.id)), t0())
            .expect("archived");
        assert_rule(w.s.archive_group(&system(ArchiveGroup(team.id)), t0()));
        // Archived groups may still be deleted.
        w.s.delete_group(&system(DestroyGroup(team.id)), t0())
            .expect("deleted");
    });
}

// ------------------------------------------------------------------ people

#[test]
fn created_person_has_the_first_role_and_derived_state() {
    each_store(|w| {
        let mut p = patch("Anna", "Meier", Some("anna@example.org"));
        p.address.town = Some("Bern".into());
        p.birthday = chrono::NaiveDate::from_ymd_opt(2001, 2, 3);
        let (anna, role) = w.person_with(p, &w.root_members, MEMBER, t0());
        assert_eq!(anna.first_name.as_deref(), Some("Anna"));
        assert_eq!(anna.email.as_deref(), Some("anna@example.org"));
        assert_eq!(anna.address.town.as_deref(), Some("Bern"));
        assert_eq!(anna.birthday, chrono::NaiveDate::from_ymd_opt(2001, 2, 3));
        assert_eq!(anna.language, "de", "the organisation's default");
        assert_eq!(anna.primary_group_id, Some(w.root_members.id));
        assert!(!anna.contact_data_visible);
        assert_eq!((anna.created_at, anna.updated_at), (t0(), t0()));
        assert_eq!(role.person_id, anna.id);
        assert_eq!(role.group_id, w.root_members.id);
        assert_eq!(role.role_type, MEMBER);
        assert_eq!(role.start_on, Some(day(0)));
        assert_eq!(w.person_now(&anna), anna);

        let (pres, _) = w.person_with(patch("Paul", "Pres", None), &w.root_board, PRESIDENT, t0());
        assert!(pres.contact_data_visible);
    });
}

#[test]
fn second_person_with_the_same_email_in_any_case_conflicts_on_email() {
    each_store(|w| {
        w.person_with(
            patch("Anna", "A", Some("anna@example.org")),
            &w.root_members,
            MEMBER,
            t0(),
        );
        let role = new_role(PersonId(0), w.root_members.id, MEMBER, Some(day(0)), None);
        let again = patch("Other", "A", Some("ANNA@Example.org"));
        let r =
            w.s.create_person(&create_person_permit(&role), &again, &role, t0());
        assert_conflict(r, "email");
        assert_eq!(w.s.person_count().expect("count"), 1);
        assert_eq!(w.s.roles_of_people(&[PersonId(2)]).expect("roles"), []);
    });
}

#[test]
fn failed_create_person_leaves_nothing_behind() {
    each_store(|w| {
        let role = new_role(PersonId(0), GroupId(9999), MEMBER, Some(day(0)), None);
        let p = patch("Nobody", "Here", Some("nobody@example.org"));
        let r =
            w.s.create_person(&create_person_permit(&role), &p, &role, t0());
        assert!(r.is_err(), "{r:?}");
        assert_eq!(w.s.person_count().expect("count"), 0);
        assert_eq!(
            w.s.person_by_email("nobody@example.org").expect("query"),
            None
        );

        // A deleted group takes no new people either.
        let team = w.members(&w.root_members, "Team");
        w.s.delete_group(&system(DestroyGroup(team.id)), t0())
            .expect("deleted");
        let role = new_role(PersonId(0), team.id, MEMBER, Some(day(0)), None);
        assert_rule(w.s.create_person(&create_person_permit(&role), &p, &role, t0()));
        assert_eq!(w.s.person_count().expect("count"), 0);
    });
}

#[test]
fn create_person_needs_a_permit_for_that_role() {
    each_store(|w| {
        let role = new_role(PersonId(0), w.root_members.id, MEMBER, None, None);
        let permit = system(CreatePerson {
            group_id: w.root_members.id,
            role_type: PASSIVE.into(),
        });
        assert_rule(w.s.create_person(&permit, &patch("A", "B", None), &role, t0()));
        assert_eq!(w.s.person_count().expect("count"), 0);
    });
}

#[test]
fn people_are_found_by_id_ids_and_email_in_any_case() {
    each_store(|w| {
        let (a, _) = w.person_with(
            patch("Anna", "A", Some("anna@example.org")),
            &w.root_members,
            MEMBER,
            t0(),
        );
        let b = w.person("Ben", "B", &w.root_members, MEMBER);
        assert_eq!(w.s.person(a.id).expect("query").as_ref(), Some(&a));
        assert_eq!(w.s.person(PersonId(9999)).expect("query"), None);
        let mut found = w.s.people(&[b.id, a.id, PersonId(9999)]).expect("query");
        found.sort_by_key(|p| p.id);
        assert_eq!(found, [a.clone(), b]);
        assert_eq!(w.s.people(&[]).expect("query"), []);
        assert_eq!(
            w.s.person_by_email("Anna@EXAMPLE.org").expect("query"),
            Some(a)
        );
        assert_eq!(w.s.person_by_email("ben@example.org").expect("query"), None);
        assert_eq!(w.s.person_count().expect("count"), 2);
    });
}

#[test]
fn update_person_changes_the_email_only_with_its_permit() {
    each_store(|w| {
        let (a, _) = w.person_with(
            patch("Anna", "A", Some("anna@example.org")),
            &w.root_members,
            MEMBER,
            t0(),
        );
        let mut p = patch("Anne", "Aebi", Some("new@example.org"));
        p.nickname = Some("Annie".into());
        p.language = Some("en".into());
        let permit = system(UpdatePerson(a.id));
        let saved = w.s.update_person(&permit, None, &p, at(1)).expect("saved");
        assert_eq!(saved.first_name.as_deref(), Some("Anne"));
        assert_eq!(saved.nickname.as_deref(), Some("Annie"));
        assert_eq!(saved.language, "en");
        assert_eq!(saved.email.as_deref(), Some("anna@example.org"));
        assert_eq!((saved.created_at, saved.updated_at), (t0(), at(1)));

        let email = system(UpdateEmail(a.id));
        let saved =
            w.s.update_person(&permit, Some(&email), &p, at(2))
                .expect("saved");
        assert_eq!(saved.email.as_deref(), Some("new@example.org"));
        assert_eq!(saved.language, "en", "a missing language keeps the old one");
        assert_eq!(w.person_now(&a), saved);
    });
}

#[test]
fn update_person_to_a_taken_email_conflicts_and_keeps_the_old_one() {
    each_store(|w| {
        w.person_with(
            patch("Anna", "A", Some("anna@example.org")),
            &w.root_members,
            MEMBER,
            t0(),
        );
        let (b, _) = w.person_with(
            patch("Ben", "B", Some("ben@example.org")),
            &w.root_members,
            MEMBER,
            t0(),
        );
        let p = patch("Ben", "B", Some("Anna@example.org"));
        let r = w.s.update_person(
            &system(UpdatePerson(b.id)),
            Some(&system(UpdateEmail(b.id))),
            &p,
            at(1),
        );
        assert_conflict(r, "email");
        assert_eq!(w.person_now(&b), b);
        let other = system(UpdateEmail(PersonId(9999)));
        assert_rule(w.s.update_person(&system(UpdatePerson(b.id)), Some(&other), &p, at(1)));
        let missing = system(UpdatePerson(PersonId(9999)));
        assert_not_found(w.s.update_person(&missing, None, &p, at(1)));
    });
}

#[test]
fn contact_accounts_are_added_listed_and_removed() {
    each_store(|w| {
        let a = w.person("Anna", "A", &w.root_members, MEMBER);
        let b = w.person("Ben", "B", &w.root_members, MEMBER);
        let permit = system(UpdatePerson(a.id));
        let mail = ContactInput {
            value: "anna@work.example".into(),
            label: "Arbeit".into(),
            is_public: false,
            is_mailing: true,
        };
        let phone = ContactInput {
            value: "+41 31 123 45 67".into(),
            label: "Mobil".into(),
            is_public: true,
            is_mailing: false,
        };
        let e = w.s.add_additional_email(&permit, &mail).expect("email");
        let n = w.s.add_phone_number(&permit, &phone).expect("phone");
        assert_ne!(e.id, n.id, "contact ids name one account");
        assert_eq!(
            w.s.additional_emails(a.id).expect("emails"),
            vec![e.clone()]
        );
        assert_eq!(w.s.phone_numbers(a.id).expect("phones"), vec![n.clone()]);
        assert_eq!(
            (e.email.as_str(), e.is_public, e.is_mailing),
            ("anna@work.example", false, true)
        );
        assert_eq!(
            (n.number.as_str(), n.label.as_str()),
            ("+41 31 123 45 67", "Mobil")
        );
        assert_eq!(w.s.phone_numbers(b.id).expect("phones"), []);

        let not_hers = system(UpdatePerson(b.id));
        assert_not_found(w.s.remove_contact(&not_hers, n.id));
        w.s.remove_contact(&permit, n.id).expect("removed");
        assert_eq!(w.s.phone_numbers(a.id).expect("phones"), []);
        assert_eq!(
            w.s.additional_emails(a.id).expect("emails"),
            vec![e.clone()]
        );
        w.s.remove_contact(&permit, e.id).expect("removed");
        assert_eq!(w.s.additional_emails(a.id).expect("emails"), []);
        assert_not_found(w.s.remove_contact(&permit, ContactId(9999)));
        let missing = system(UpdatePerson(PersonId(9999)));
        assert_not_found(w.s.add_phone_number(&missing, &phone));
    });
}

// ------------------------------------------------------------------- roles

#[test]
fn roles_are_listed_per_person_without_archived_ones() {
    each_store(|w| {
        let team = w.members(&w.root_members, "Team");
        let (a, first) = w.person_with(patch("Anna", "A", None), &w.root_members, MEMBER, t0());
        let ended = w.add_role(&a, &team, PASSIVE, Some(day(-10)), Some(day(-1)), t0());
        let future = w.add_role(&a, &team, MEMBER, Some(day(5)), None, t0());
        let b = w.person("Ben", "B", &team, MEMBER);
        assert_eq!(w.s.role(first.id).expect("query").as_ref(), Some(&first));
        assert_eq!(w.s.role(RoleId(9999)).expect("query"), None);
        let roles = w.s.roles_of_person(a.id).expect("roles");
        assert_eq!(roles, [first, ended, future]);
        let both = w.s.roles_of_people(&[a.id, b.id]).expect("roles");
        assert_eq!(both.len(), 4);
        w.s.archive_group(&system(ArchiveGroup(team.id)), t0())
            .expect("archived");
        assert_eq!(w.s.roles_of_person(a.id).expect("roles").len(), 1);
        assert_eq!(w.s.roles_of_people(&[b.id]).expect("roles"), []);
    });
}

#[test]
fn primary_group_stays_while_active_and_follows_the_latest_role() {
    each_store(|w| {
        let team = w.members(&w.root_members, "Team");
        let a = w.person("Anna", "A", &w.root_members, MEMBER);
        let second = w.add_role(&a, &team, MEMBER, Some(day(0)), None, at(1));
        assert_eq!(w.person_now(&a).primary_group_id, Some(w.root_members.id));
        let first = w.s.roles_of_person(a.id).expect("roles")[0].clone();
        let outcome =
            w.s.remove_role(&system(DestroyRole(first.id)), at(2))
                .expect("removed");
        assert_eq!(outcome, RemoveOutcome::Delete);
        assert_eq!(w.person_now(&a).primary_group_id, Some(team.id));
        w.s.remove_role(&system(DestroyRole(second.id)), at(2))
            .expect("removed");
        assert_eq!(w.person_now(&a).primary_group_id, None);
        // A future role does not make a primary group either.
        w.add_role(&a, &team, MEMBER, Some(day(9)), None, at(3));
        assert_eq!(w.person_now(&a).primary_group_id, None);
    });
}

#[test]
fn contact_data_visibility_follows_active_roles() {
    each_store(|w| {
        let a = w.person("Anna", "A", &w.root_members, MEMBER);
        assert!(!w.person_now(&a).contact_data_visible);
        let pres = w.add_role(&a, &w.root_board, PRESIDENT, Some(day(0)), None, t0());
        assert!(w.person_now(&a).contact_data_visible);
        let ended = RolePatch {
            label: Some("former".into()),
            start_on: Some(day(-5)),
            end_on: Some(day(-1)),
        };
        let updated =
            w.s.update_role(&system(UpdateRole(pres.id)), &ended, at(1))
                .expect("updated");
        assert_eq!(updated.label.as_deref(), Some("former"));
        assert_eq!(
            (updated.start_on, updated.end_on),
            (Some(day(-5)), Some(day(-1)))
        );
        assert_eq!(updated.updated_at, at(1));
        assert!(!w.person_now(&a).contact_data_visible);
    });
}

#[test]
fn create_role_checks_permit_person_and_group() {
    each_store(|w| {
        let a = w.person("Anna", "A", &w.root_members, MEMBER);
        let role = new_role(a.id, w.root_board.id, PRESIDENT, None, None);
        let wrong = new_role(a.id, w.root_board.id, BOARD_MEMBER, None, None);
        assert_rule(w.s.create_role(&create_role_permit(&wrong), &role, t0()));
        let nobody = new_role(PersonId(9999), w.root_board.id, PRESIDENT, None, None);
        assert_not_found(w.s.create_role(&create_role_permit(&nobody), &nobody, t0()));
        let team = w.members(&w.root_members, "Team");
        w.s.archive_group(&system(ArchiveGroup(team.id)), t0())
            .expect("archived");
        let archived = new_role(a.id, team.id, MEMBER, None, None);
        assert_rule(w.s.create_role(&create_role_permit(&archived), &archived, t0()));
        assert_eq!(w.s.roles_of_person(a.id).expect("roles").len(), 1);
    });
}

#[test]
fn update_role_refuses_archived_and_missing_roles() {
    each_store(|w| {
        let team = w.members(&w.root_members, "Team");
        let a = w.person("Anna", "A", &team, MEMBER);
        let role = w.s.roles_of_person(a.id).expect("roles")[0].clone();
        w.s.archive_group(&system(ArchiveGroup(team.id)), at(1))
            .expect("archived");
        let p = RolePatch::default();
        assert_rule(w.s.update_role(&system(UpdateRole(role.id)), &p, at(2)));
        assert_not_found(w.s.update_role(&system(UpdateRole(RoleId(9999))), &p, at(2)));
    });
}

#[test]
fn remove_role_deletes_young_ends_old_and_leaves_ended_ones() {
    each_store(|w| {
        let a = w.person("Anna", "A", &w.root_members, MEMBER);
        let young = w.add_role(&a, &w.root_board, BOARD_MEMBER, Some(day(-1)), None, t0());
        let old = w.add_role(&a, &w.root_board, PRESIDENT, Some(day(-30)), None, at(-30));
        let ended = w.add_role(
            &a,
            &w.root_board,
            BOARD_MEMBER,
            Some(day(-30)),
            Some(day(-3)),
            at(-30),
        );
        assert!(w.person_now(&a).contact_data_visible);
        let remove = |id| {
            w.s.remove_role(&system(DestroyRole(id)), at(1))
                .expect("removed")
        };

        assert_eq!(remove(young.id), RemoveOutcome::Delete);
        assert_eq!(w.s.role(young.id).expect("query"), None);
        assert_eq!(remove(old.id), RemoveOutcome::End(day(0)));
        let old = w.s.role(old.id).expect("query").expect("kept");
        assert_eq!((old.end_on, old.updated_at), (Some(day(0)), at(1)));
        assert!(!w.person_now(&a).contact_data_visible);
        assert_eq!(remove(ended.id), RemoveOutcome::AlreadyEnded);
        assert_eq!(w.s.role(ended.id).expect("query"), Some(ended));
        assert_not_found(w.s.remove_role(&system(DestroyRole(RoleId(9999))), at(1)));
    });
}

// ------------------------------------------------------------- people list

fn query(scope: GroupScope) -> PeopleQuery {
    PeopleQuery {
        scope,
        filter: ListFilter::All,
        role_types: None,
        text: None,
        today: day(0),
        page: 1,
        per_page: 50,
    }
}

fn names(w: &World<'_>, q: &PeopleQuery) -> Vec<String> {
    let page = w.s.people_list(q).expect("list");
    assert!(page.total >= page.items.len() as u64);
    page.items
        .iter()
        .map(|l| l.person.first_name.clone().unwrap_or_default())
        .collect()
}

/// Root members Rita; region North with board Nora (president), members
/// Mia, nested members Max; region Sub below North with members Sam.
fn list_world(w: &World<'_>) -> (Group, Group, Group) {
    let (north, north_board, north_members) = w.region(&w.root, "North");
    let nested = w.members(&north_members, "Nested");
    let sub_members = w.region(&north, "Sub").2;
    w.person("Rita", "Root", &w.root_members, MEMBER);
    w.person("Nora", "North", &north_board, PRESIDENT);
    w.person("Mia", "Member", &north_members, MEMBER);
    w.person("Max", "Nested", &nested, MEMBER);
    w.person("Sam", "Sub", &sub_members, MEMBER);
    (north, north_members, nested)
}

#[test]
fn people_list_covers_group_layer_or_subtree() {
    each_store(|w| {
        let (north, north_members, nested) = list_world(w);
        assert_eq!(
            names(w, &query(GroupScope::Group(north_members.id))),
            ["Mia"]
        );
        assert_eq!(names(w, &query(GroupScope::Group(nested.id))), ["Max"]);
        // The layer of any of its groups; sublayers are not part of it.
        assert_eq!(
            names(w, &query(GroupScope::Layer(nested.id))),
            ["Mia", "Max", "Nora"]
        );
        assert_eq!(
            names(w, &query(GroupScope::Deep(north.id))),
            ["Mia", "Max", "Nora", "Sam"]
        );
        assert_eq!(
            names(w, &query(GroupScope::Deep(w.root.id))),
            ["Mia", "Max", "Nora", "Rita", "Sam"]
        );
        assert_eq!(
            names(w, &query(GroupScope::Deep(GroupId(9999)))),
            Vec::<String>::new()
        );
    });
}

#[test]
fn people_list_counts_only_active_roles_in_live_groups() {
    each_store(|w| {
        let team = w.members(&w.root_members, "Team");
        let gone = w.members(&w.root_members, "Gone");
        let old = w.members(&w.root_members, "Old");
        let a = w.person("Active", "A", &team, MEMBER);
        let (ended, _) =
            w.person_with(patch("Ended", "E", None), &w.root_board, PRESIDENT, at(-30));
        w.add_role(
            &ended,
            &team,
            MEMBER,
            Some(day(-30)),
            Some(day(-1)),
            at(-30),
        );
        let (future, _) = w.person_with(patch("Future", "F", None), &w.root_board, PRESIDENT, t0());
        w.add_role(&future, &team, MEMBER, Some(day(1)), None, t0());
        w.person("Deleted", "D", &gone, MEMBER);
        w.person("Archived", "R", &old, MEMBER);
        w.s.delete_group(&system(DestroyGroup(gone.id)), t0())
            .expect("deleted");
        w.s.archive_group(&system(ArchiveGroup(old.id)), t0())
            .expect("archived");

        assert_eq!(names(w, &query(GroupScope::Group(team.id))), ["Active"]);
        assert_eq!(
            names(w, &query(GroupScope::Deep(w.root_members.id))),
            ["Active"]
        );
        // Ending today still counts today; the role's day ends with the day.
        w.add_role(&ended, &team, PASSIVE, Some(day(-3)), Some(day(0)), t0());
        let page =
            w.s.people_list(&query(GroupScope::Group(team.id)))
                .expect("list");
        assert_eq!(page.total, 2);
        let listed = page
            .items
            .iter()
            .find(|l| l.person.id == ended.id)
            .expect("listed");
        assert_eq!(listed.roles.len(), 1, "only the counted role is attached");
        assert_eq!(listed.roles[0].role_type, PASSIVE);
        let _ = a;
    });
}

#[test]
fn people_list_filters_by_role_types_and_visibility() {
    each_store(|w| {
        w.person("Mara", "M", &w.root_members, MEMBER);
        w.person("Pete", "P", &w.root_members, PASSIVE);
        let pres = w.person("Nils", "N", &w.root_board, PRESIDENT);
        w.add_role(&pres, &w.root_members, PASSIVE, Some(day(0)), None, t0());
        let layer = GroupScope::Layer(w.root.id);

        let mut q = query(layer);
        q.role_types = Some(vec![MEMBER.into()]);
        assert_eq!(names(w, &q), ["Mara"]);
        q.role_types = Some(vec![PASSIVE.into(), PRESIDENT.into()]);
        assert_eq!(names(w, &q), ["Nils", "Pete"]);
        q.filter = ListFilter::RoleTypes(vec![PASSIVE.into(), MEMBER.into()]);
        assert_eq!(names(w, &q), ["Nils", "Pete"]);
        let page = w.s.people_list(&q).expect("list");
        let nils = page
            .items
            .iter()
            .find(|l| l.person.id == pres.id)
            .expect("nils");
        assert_eq!(
            nils.roles.len(),
            1,
            "the president role does not count here"
        );
        q.role_types = None;
        assert_eq!(names(w, &q), ["Mara", "Nils", "Pete"]);
        q.filter = ListFilter::RoleTypes(vec![]);
        assert_eq!(names(w, &q), Vec::<String>::new());

        let mut q = query(layer);
        q.filter = ListFilter::ContactDataOnly;
        assert_eq!(names(w, &q), ["Nils"]);
    });
}

#[test]
fn people_list_text_matches_word_prefixes_in_any_case() {
    each_store(|w| {
        let g = &w.root_members;
        let mut p = patch("Anna", "von Berg", Some("anna.berg@mail.example"));
        p.address.town = Some("Bern".into());
        w.person_with(p, g, MEMBER, t0());
        let mut p = patch("Bruno", "Keller", None);
        p.nickname = Some("Bru".into());
        p.address.town = Some("Basel".into());
        w.person_with(p, g, MEMBER, t0());
        let mut p = patch("", "", None);
        p.company_name = Some("100% Holz AG".into());
        p.is_company = true;
        p.nickname = Some("Holzer".into());
        w.person_with(p, g, MEMBER, t0());

        let find = |text: &str| {
            let mut q = query(GroupScope::Group(g.id));
            q.text = Some(text.into());
            let page = w.s.people_list(&q).expect("list");
            page.items
                .iter()
                .map(|l| {
                    l.person
                        .nickname
                        .clone()
                        .or(l.person.first_name.clone())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(find("anna"), ["Anna"]);
        assert_eq!(find("BERG"), ["Anna"], "second word of the last name");
        assert_eq!(find("erg"), Vec::<String>::new(), "not inside a word");
        assert_eq!(find("anna.b"), ["Anna"], "email prefix");
        assert_eq!(find("bas"), ["Bru"], "town");
        assert_eq!(find("bru"), ["Bru"], "first name and nickname");
        assert_eq!(find("b"), ["Bru", "Anna"], "Keller before von Berg");
        assert_eq!(find("b kel"), ["Bru"], "every word must match");
        assert_eq!(find("holz"), ["Holzer"], "company name");
        assert_eq!(find("100%"), ["Holzer"]);
        assert_eq!(find("%"), Vec::<String>::new(), "% is no wildcard");
        assert_eq!(find("_"), Vec::<String>::new(), "_ is no wildcard");
        assert_eq!(find("  "), ["Holzer", "Bru", "Anna"], "no last name first");
    });
}

#[test]
fn people_list_sorts_by_name_ignoring_case_and_pages() {
    each_store(|w| {
        let g = &w.root_members;
        for (first, last) in [
            ("bob", "zeller"),
            ("Al", "Meier"),
            ("anna", "meier"),
            ("Zoe", "Abt"),
            ("Al", "Meier"),
        ] {
            w.person(first, last, g, MEMBER);
        }
        let mut nick = patch("Al", "Meier", None);
        nick.nickname = Some("Ace".into());
        let (ace, _) = w.person_with(nick, g, MEMBER, t0());

        let mut q = query(GroupScope::Group(g.id));
        q.per_page = 2;
        let mut seen: Vec<Person> = Vec::new();
        for page in 1..=3 {
            q.page = page;
            let p = w.s.people_list(&q).expect("list");
            assert_eq!((p.total, p.page, p.per_page, p.pages()), (6, page, 2, 3));
            assert_eq!(p.items.len(), 2);
            for l in &p.items {
                assert_eq!(l.roles.len(), 1);
                assert_eq!(l.roles[0].person_id, l.person.id);
            }
            seen.extend(p.items.into_iter().map(|l| l.person));
        }
        let order: Vec<(String, String)> = seen
            .iter()
            .map(|p| {
                (
                    p.last_name.clone().unwrap_or_default(),
                    p.first_name.clone().unwrap_or_default(),
                )
            })
            .collect();
        let expected = [
            ("Abt", "Zoe"),
            ("Meier", "Al"),
            ("Meier", "Al"),
            ("Meier", "Al"),
            ("meier", "anna"),
            ("zeller", "bob"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(l, f)| (l.to_string(), f.to_string()))
            .collect();
        assert_eq!(order, expected);
        // Among the three Al Meiers: no nickname first, then by id.
        assert_eq!(seen[3].id, ace.id);
        assert!(seen[1].id < seen[2].id);

        q.page = 4;
        let empty = w.s.people_list(&q).expect("list");
        assert_eq!((empty.items.len(), empty.total), (0, 6));
    });
}

#[test]
fn concurrent_writers_all_succeed() {
    each_store(|w| {
        std::thread::scope(|scope| {
            for t in 0..4 {
                scope.spawn(move || {
                    for i in 0..10 {
                        let email = format!("p{t}-{i}@example.org");
                        let p = patch("Par", &format!("Allel {t} {i}"), Some(&email));
                        w.person_with(p, &w.root_members, MEMBER, t0());
                    }
                });
            }
        });
        assert_eq!(w.s.person_count().expect("count"), 40);
        let page =
            w.s.people_list(&query(GroupScope::Group(w.root_members.id)))
                .expect("list");
        assert_eq!(page.total, 40);
    });
}

// -------------------------------------------------------------------- auth

#[test]
fn other_sessions_end_and_the_kept_one_stays() {
    each_store(|w| {
        let a = w.person("Anna", "A", &w.root_members, MEMBER);
        let b = w.person("Beat", "B", &w.root_members, MEMBER);
        let of = |person_id| Session {
            person_id,
            created_at: t0(),
            expires_at: t0() + Duration::hours(2),
        };
        for (hash, p) in [("a-1", a.id), ("a-2", a.id), ("a-3", a.id), ("b-1", b.id)] {
            w.s.create_session(hash, &of(p)).expect("stored");
        }
        assert_eq!(w.s.end_other_sessions(a.id, Some("a-2")).expect("ended"), 2);
        assert!(w.s.session("a-2", t0()).expect("query").is_some());
        assert!(w.s.session("a-1", t0()).expect("query").is_none());
        assert!(w.s.session("b-1", t0()).expect("query").is_some());
        assert_eq!(w.s.end_other_sessions(a.id, None).expect("ended"), 1);
        assert!(w.s.session("a-2", t0()).expect("query").is_none());
    });
}

#[test]
fn sessions_are_found_until_they_expire_or_end() {
    each_store(|w| {
        let a = w.person("Anna", "A", &w.root_members, MEMBER);
        let session = Session {
            person_id: a.id,
            created_at: t0(),
            expires_at: t0() + Duration::hours(2),
        };
        w.s.create_session("hash-1", &session).expect("stored");
        assert_conflict(w.s.create_session("hash-1", &session), "token_hash");
        let short = Session {
            expires_at: t0() + Duration::minutes(5),
            ..session.clone()
        };
        w.s.create_session("hash-2", &short).expect("stored");

        assert_eq!(
            w.s.session("hash-1", t0()).expect("query"),
            Some(session.clone())
        );
        assert_eq!(w.s.session("unknown", t0()).expect("query"), None);
        let later = t0() + Duration::minutes(10);
        assert_eq!(w.s.session("hash-2", later).expect("query"), None);
        assert_eq!(w.s.delete_expired_sessions(later).expect("cleaned"), 1);
        assert_eq!(w.s.delete_expired_sessions(later).expect("cleaned"), 0);
        w.s.delete_session("hash-1").expect("ended");
        assert_eq!(w.s.session("hash-1", t0()).expect("query"), None);
        w.s.delete_session("hash-1").expect("ending twice is fine");
    });
}

#[test]
fn fifth_failed_login_locks_and_a_good_one_resets() {
    each_store(|w| {
        let (a, _) = w.person_with(
            patch("Anna", "A", Some("anna@example.org")),
            &w.root_members,
            MEMBER,
            t0(),
        );
        let login =
            w.s.login_by_email("ANNA@example.org")
                .expect("query")
                .expect("login");
        assert_eq!(
            (login.person_id, login.failed_attempts, login.locked_at),
            (a.id, 0, None)
        );
        assert_eq!(login.password_hash, None);
        for n in 1..=4 {
            let l = w.s.record_failed_login(a.id, t0()).expect("counted");
            assert_eq!((l.failed_attempts, l.locked_at), (n, None));
        }
        let locked = w.s.record_failed_login(a.id, at(1)).expect("counted");
        assert_eq!((locked.failed_attempts, locked.locked_at), (5, Some(at(1))));
        let stored =
            w.s.login_by_email("anna@example.org")
                .expect("query")
                .expect("login");
        assert_eq!(stored, locked);

        w.s.record_good_login(a.id, at(2)).expect("reset");
        let reset =
            w.s.login_by_email("anna@example.org")
                .expect("query")
                .expect("login");
        assert_eq!((reset.failed_attempts, reset.locked_at), (0, None));
        assert_not_found(w.s.record_failed_login(PersonId(9999), t0()));
        assert_not_found(w.s.record_good_login(PersonId(9999), t0()));
        assert_eq!(
            w.s.login_by_email("nobody@example.org").expect("query"),
            None
        );
    });
}

#[test]
fn password_hash_is_stored_and_read_with_the_login() {
    each_store(|w| {
        let (a, _) = w.person_with(
            patch("Anna", "A", Some("anna@example.org")),
            &w.root_members,
            MEMBER,
            t0(),
        );
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
        w.s.set_password_hash(&system(SetPassword(a.id)), hash, t0())
            .expect("stored");
        let login =
            w.s.login_by_email("anna@example.org")
                .expect("query")
                .expect("login");
        assert_eq!(login.password_hash.as_deref(), Some(hash));
        assert!(
            !format!("{login:?}").contains("argon2id"),
            "Debug redacts the hash"
        );
        assert_not_found(w.s.set_password_hash(&system(SetPassword(PersonId(9999))), hash, t0()));
    });
}

// ------------------------------------------------------------------ health

#[test]
fn an_open_store_reports_the_schema_version_this_build_needs() {
    each_store(|w| {
        let check = w.s.schema_check().expect("the database answers");
        assert_eq!(check.found, hitcore::store::migration::LATEST_VERSION);
        assert_eq!(check.expected, hitcore::store::migration::LATEST_VERSION);
        assert!(check.is_current());
        // A probe changes nothing: asking again gives the same answer.
        assert_eq!(w.s.schema_check().expect("again"), check);
    });
}

// ------------------------------------------------------------ cache stamps

/// The stamps the session query reads for `p`, through a session made
/// for the purpose (valid around [`t0`]).
fn stamps_of(w: &World<'_>, p: &Person) -> hitcore::store::Stamps {
    let hash = format!("stamps-of-{}", p.id);
    if w.s.session(&hash, t0()).expect("query").is_none() {
        let session = Session {
            person_id: p.id,
            created_at: t0(),
            expires_at: t0() + Duration::days(30),
        };
        w.s.create_session(&hash, &session).expect("stored");
    }
    w.s.signed_in(&hash, t0())
        .expect("query")
        .expect("signed in")
        .stamps
}

/// What a write must do to a stamp.
#[derive(Clone, Copy, PartialEq)]
enum Stamp {
    Changes,
    Stays,
    /// Either: the write may touch no row of what the stamp covers, and
    /// PostgreSQL's statement triggers bump it even then.
    Either,
}

use Stamp::{Changes, Either, Stays};

/// Checks after each write which stamps of `p` changed.
struct StampWatch<'w, 'a> {
    w: &'w World<'a>,
    p: Person,
    last: hitcore::store::Stamps,
}

impl<'w, 'a> StampWatch<'w, 'a> {
    fn new(w: &'w World<'a>, p: &Person) -> Self {
        StampWatch {
            w,
            p: p.clone(),
            last: stamps_of(w, p),
        }
    }

    /// Asserts what changed since the last call; `what` names the write.
    fn changed(&mut self, what: &str, access: Stamp, groups: Stamp, memberships: Stamp) {
        let now = stamps_of(self.w, &self.p);
        for (name, before, after, expected) in [
            ("access", self.last.access, now.access, access),
            ("groups", self.last.groups, now.groups, groups),
            (
                "memberships",
                self.last.memberships,
                now.memberships,
                memberships,
            ),
        ] {
            if expected != Either {
                assert_eq!(
                    before != after,
                    expected == Changes,
                    "{what}: the {name} stamp {}",
                    if expected == Changes {
                        "stayed"
                    } else {
                        "changed"
                    }
                );
            }
        }
        self.last = now;
    }
}

#[test]
fn signed_in_reads_the_session_its_person_and_the_stamps_at_once() {
    each_store(|w| {
        let a = w.person("Anna", "A", &w.root_members, MEMBER);
        let b = w.person("Beat", "B", &w.root_members, MEMBER);
        let session = Session {
            person_id: a.id,
            created_at: t0(),
            expires_at: t0() + Duration::hours(2),
        };
        w.s.create_session("hash-s", &session).expect("stored");

        let found =
            w.s.signed_in("hash-s", t0())
                .expect("query")
                .expect("found");
        assert_eq!(found.session, session);
        assert_eq!(found.person, w.person_now(&a));
        assert_eq!(w.s.signed_in("unknown", t0()).expect("query"), None);
        let later = t0() + Duration::hours(3);
        assert_eq!(w.s.signed_in("hash-s", later).expect("query"), None);

        let (sa, sb) = (stamps_of(w, &a), stamps_of(w, &b));
        assert_eq!(found.stamps, sa, "reading changes no stamp");
        assert_ne!(sa.access, sb.access, "each person has a stamp of their own");
        assert_eq!((sa.groups, sa.memberships), (sb.groups, sb.memberships));
    });
}

#[test]
fn every_write_to_a_persons_roles_gives_them_a_new_access_stamp() {
    each_store(|w| {
        let a = w.person("Anna", "A", &w.root_members, MEMBER);
        let b = w.person("Beat", "B", &w.root_members, MEMBER);
        let others = stamps_of(w, &b).access;
        let mut watch = StampWatch::new(w, &a);

        let role = w.add_role(&a, &w.root_board, PRESIDENT, Some(day(-30)), None, at(-30));
        watch.changed("adding a role", Changes, Stays, Changes);
        let ended = RolePatch {
            label: None,
            start_on: Some(day(-30)),
            end_on: Some(day(-1)),
        };
        w.s.update_role(&system(UpdateRole(role.id)), &ended, t0())
            .expect("ended");
        watch.changed("ending a role", Changes, Stays, Changes);
        let young = w.add_role(&a, &w.root_board, BOARD_MEMBER, Some(day(0)), None, t0());
        watch.changed("adding another", Changes, Stays, Changes);
        let removed =
            w.s.remove_role(&system(DestroyRole(young.id)), t0())
                .expect("removed");
        assert_eq!(removed, RemoveOutcome::Delete);
        watch.changed("deleting a role", Changes, Stays, Changes);
        let old = w.add_role(
            &a,
            &w.root_board,
            BOARD_MEMBER,
            Some(day(-30)),
            None,
            at(-30),
        );
        watch.changed("adding an old role", Changes, Stays, Changes);
        w.s.remove_role(&system(DestroyRole(old.id)), t0())
            .expect("removed");
        watch.changed("removing by ending it", Changes, Stays, Changes);

        assert_eq!(stamps_of(w, &b).access, others, "the others keep theirs");
    });
}

#[test]
fn every_write_to_the_groups_gives_a_new_groups_stamp() {
    each_store(|w| {
        let a = w.person("Anna", "A", &w.root_members, MEMBER);
        let mut watch = StampWatch::new(w, &a);

        let (region, _, _) = w.region(&w.root, "North");
        watch.changed("creating groups", Stays, Changes, Either);
        w.s.update_group(&system(UpdateGroup(region.id)), &named("Nord"), at(1))
            .expect("updated");
        watch.changed("updating a group", Stays, Changes, Either);
        let team = w.members(&w.root_members, "Team");
        watch.changed("creating a group", Stays, Changes, Either);
        let permit = system(MoveGroup {
            group: team.id,
            new_parent: region.id,
        });
        w.s.move_group(&permit, at(1)).expect("moved");
        watch.changed("moving a group", Stays, Changes, Either);
        w.s.delete_group(&system(DestroyGroup(team.id)), at(1))
            .expect("deleted");
        watch.changed("deleting a group", Stays, Changes, Either);
        let old = w.members(&w.root_members, "Old");
        watch.changed("creating a group", Stays, Changes, Either);
        w.s.archive_group(&system(ArchiveGroup(old.id)), at(1))
            .expect("archived");
        watch.changed("archiving a group", Stays, Changes, Either);

        // Anna's own group goes: her roles in it change, and so her stamp.
        let club = w.members(&w.root_members, "Club");
        w.add_role(&a, &club, MEMBER, Some(day(-30)), None, at(-30));
        watch.changed("a role in a new group", Changes, Changes, Changes);
        w.s.archive_group(&system(ArchiveGroup(club.id)), at(1))
            .expect("archived");
        watch.changed("archiving her group", Changes, Changes, Changes);
    });
}

#[test]
fn writes_that_change_who_a_list_reaches_give_a_new_memberships_stamp() {
    use hitcore::ability::{CreateMailingList, ManageSubscriptions};
    use hitcore::mailing_list::{MailingListPatch, NewMailingList, Subscriber};

    each_store(|w| {
        let (a, _) = w.person_with(
            patch("Anna", "A", Some("anna@example.org")),
            &w.root_members,
            MEMBER,
            t0(),
        );
        let mut watch = StampWatch::new(w, &a);

        w.person("Beat", "B", &w.root_members, MEMBER);
        watch.changed("a new person", Stays, Stays, Changes);
        let p = patch("Anna", "A", Some("anna@new.example"));
        w.s.update_person(
            &system(UpdatePerson(a.id)),
            Some(&system(UpdateEmail(a.id))),
            &p,
            at(1),
        )
        .expect("saved");
        watch.changed("a new email", Stays, Stays, Changes);
        let mail = ContactInput {
            value: "anna@work.example".into(),
            label: "Arbeit".into(),
            is_public: false,
            is_mailing: true,
        };
        let e =
            w.s.add_additional_email(&system(UpdatePerson(a.id)), &mail)
                .expect("email");
        watch.changed("an additional email", Stays, Stays, Changes);
        w.s.remove_contact(&system(UpdatePerson(a.id)), e.id)
            .expect("removed");
        watch.changed("removing it", Stays, Stays, Changes);

        let fields = MailingListPatch {
            name: Some("News".to_owned()),
            ..MailingListPatch::default()
        }
        .validated()
        .expect("valid list fields");
        let list =
            w.s.create_mailing_list(
                &system(CreateMailingList(w.root.id)),
                &NewMailingList {
                    group_id: w.root.id,
                    fields,
                },
                t0(),
            )
            .expect("list");
        watch.changed("a new list", Stays, Stays, Changes);
        let group = Subscriber::Group {
            group_id: w.root_members.id,
            role_types: vec![MEMBER.to_owned()],
        };
        let s =
            w.s.add_subscription(&system(ManageSubscriptions(list.id)), &group)
                .expect("subscribed");
        watch.changed("a group subscription", Stays, Stays, Changes);
        w.s.remove_subscription(&system(ManageSubscriptions(list.id)), s.id)
            .expect("removed");
        watch.changed("removing it", Stays, Stays, Changes);
    });
}

#[test]
fn bulk_loaded_people_get_stamps_that_later_writes_change() {
    use hitcore::store::BulkLoad;
    use hitcore::store::sqlite::SqliteStore;

    let org = demo_org();
    let options = hitcore::scale::ScaleOptions {
        people: 300,
        groups: 30,
        seed: 5,
        admin_email: "admin@demo.example".to_owned(),
    };
    let check = |store: &dyn BulkLoad| {
        hitcore::scale::load(store, &org, &options, None, t0(), &mut |_| {}).expect("loaded");
        let stamps = |id: i64| {
            let hash = format!("bulk-{id}");
            let session = Session {
                person_id: PersonId(id),
                created_at: t0(),
                expires_at: t0() + Duration::days(1),
            };
            if store.session(&hash, t0()).expect("query").is_none() {
                store.create_session(&hash, &session).expect("stored");
            }
            store
                .signed_in(&hash, t0())
                .expect("query")
                .expect("every loaded person has stamps")
                .stamps
        };
        let all: std::collections::HashSet<i64> = (1..=300).map(|id| stamps(id).access).collect();
        assert_eq!(all.len(), 300, "a stamp of their own for everyone");
        let before = stamps(7);
        let role = store
            .roles_of_person(PersonId(7))
            .expect("roles")
            .pop()
            .expect("a loaded role");
        store
            .remove_role(&system(DestroyRole(role.id)), t0())
            .expect("removed");
        let after = stamps(7);
        assert_ne!(after.access, before.access);
        assert_ne!(after.memberships, before.memberships);
        assert_eq!(stamps(8).access, stamps(8).access);
    };
    eprintln!("--- store: sqlite memory (bulk)");
    check(&SqliteStore::in_memory(org.clone()).expect("sqlite"));
    if let Some(base) = std::env::var("HIT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        eprintln!("--- store: postgres (bulk)");
        let schema = hitcore::store::postgres::TestSchema::create(&base).expect("schema");
        let store = hitcore::store::open_bulk(schema.url(), org.clone()).expect("postgres");
        check(&*store);
    }
}

/// The demo federation, which the scale generator plans for.
fn demo_org() -> std::sync::Arc<hitcore::Organisation> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo-federation.toml");
    std::sync::Arc::new(hitcore::Organisation::from_file(&path).expect("demo federation"))
}
