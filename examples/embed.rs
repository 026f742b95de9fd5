//! Embedding hitcore on its own: no database, no web server.
//!
//! Loads the demo federation's definition, builds a small tree of groups
//! and a handful of people with roles from plain data, and asks the ability
//! engine who may see and edit whom. Everything hitcore decides is a pure
//! function of such values, so another program (an importer, a report, a
//! test of a new organisation definition) can use the rules the same way.
//!
//! Run it with `cargo run -p hitcore --example embed`, or pass the path of
//! another definition file that uses the same group and role types.

use std::collections::HashMap;
use std::error::Error;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use hitcore::ability::{self, Actor, Because, Decision, PersonAction, PersonSubject};
use hitcore::group::{self, Group, GroupPatch, GroupTree, NewGroup, PlanParent};
use hitcore::person::{Person, contact_data_visible};
use hitcore::role::Role;
use hitcore::{GroupId, Organisation, PersonId, RoleId};

/// A role of a demo person: (group, role type). Groups are named
/// "<group>" or "<group>/<child type>" for a default child created with it.
type Membership = (&'static str, &'static str);

/// The people, keyed by first name.
type People = HashMap<&'static str, Person>;

/// Who is in the demo: (first name, last name, roles).
const PEOPLE: &[(&str, &str, &[Membership])] = &[
    (
        "Otto",
        "Office",
        &[("DF/FederationOffice", "FederationOffice.Manager")],
    ),
    ("Nora", "North", &[("RN", "Region.Coordinator")]),
    ("Alex", "Alpha", &[("CA", "Club.ClubLeader")]),
    (
        "Tina",
        "Trainer",
        &[("CA/ClubMembers", "ClubMembers.Trainer")],
    ),
    (
        "Paul",
        "President",
        &[("CA/ClubBoard", "ClubBoard.President")],
    ),
    ("Jan", "Junior", &[("CA/ClubMembers", "ClubMembers.Junior")]),
    (
        "Anna",
        "Active",
        &[("CA/ClubMembers", "ClubMembers.Active")],
    ),
    (
        "Ida",
        "Inspector",
        &[("RN", "Region.Coordinator"), ("RN", "Region.Auditor")],
    ),
];

/// The questions: (actor, action, subject).
const QUESTIONS: &[(&str, PersonAction, &str)] = &[
    ("Nora", PersonAction::Show, "Anna"),
    ("Nora", PersonAction::Update, "Anna"),
    ("Nora", PersonAction::Show, "Jan"),
    ("Nora", PersonAction::Update, "Jan"),
    ("Ida", PersonAction::Update, "Jan"),
    ("Alex", PersonAction::Update, "Jan"),
    ("Tina", PersonAction::Update, "Jan"),
    ("Tina", PersonAction::Update, "Paul"),
    ("Otto", PersonAction::Update, "Alex"),
    ("Anna", PersonAction::Show, "Jan"),
    ("Jan", PersonAction::Update, "Jan"),
];

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/demo-federation.toml"),
        PathBuf::from,
    );
    let org = Organisation::from_file(&path)?;
    // A fixed day keeps the output the same on every run.
    let now = Utc
        .with_ymd_and_hms(2025, 6, 1, 12, 0, 0)
        .single()
        .ok_or("invalid date")?;
    let today = now.date_naive();

    let groups = build_groups(&org, now)?;
    let (people, roles) = build_people(&org, &groups, now)?;
    let tree = GroupTree::new(groups.values().cloned().collect());
    println!(
        "{}: {} group types, {} groups, {} people\n",
        org.name,
        org.group_types().len(),
        tree.len(),
        people.len()
    );

    for &(actor_name, action, subject_name) in QUESTIONS {
        let actor_person = people.get(actor_name).ok_or("unknown actor")?;
        let subject_person = people.get(subject_name).ok_or("unknown subject")?;
        let actor = Actor::new(actor_person.id, false, &roles, &tree, &org, today);
        let subject = PersonSubject::new(subject_person, false, &roles, &tree, &org, today);
        let decision = ability::person(&actor, action, &subject);
        println!(
            "May {actor_name} ({}) {} {subject_name} ({})? {decision}{}",
            role_list(&roles, actor_person.id),
            verb(action),
            role_list(&roles, subject_person.id),
            place(&decision, &tree),
        );
    }
    Ok(())
}

/// The groups of the demo, as a store would create them: each plan from
/// `plan_root` / `plan_create` gets ids, paths and layers.
fn build_groups(
    org: &Organisation,
    now: DateTime<Utc>,
) -> Result<HashMap<String, Group>, Box<dyn Error>> {
    let mut groups = HashMap::new();
    let mut next_id = 1;
    let root_plan = group::plan_root(org, named("Demo Federation"));
    insert(&mut groups, "DF", None, &root_plan, &mut next_id, now);
    for (key, parent_key, group_type, name) in [
        ("RN", "DF", "Region", "Region North"),
        ("RS", "DF", "Region", "Region South"),
        ("CA", "RN", "Club", "Club Alpha"),
        ("CG", "RS", "Club", "Club Gamma"),
    ] {
        let parent = groups.get(parent_key).cloned().ok_or("unknown parent")?;
        let plan = group::plan_create(org, &parent, &[], group_type, named(name))?;
        insert(&mut groups, key, Some(&parent), &plan, &mut next_id, now);
    }
    Ok(groups)
}

fn named(name: &str) -> GroupPatch {
    GroupPatch {
        name: Some(name.to_owned()),
        ..GroupPatch::default()
    }
}

/// Turns a plan into groups: the first entry is keyed `key`, each default
/// child `<key>/<type>`.
fn insert(
    groups: &mut HashMap<String, Group>,
    key: &str,
    parent: Option<&Group>,
    plan: &[NewGroup],
    next_id: &mut i64,
    now: DateTime<Utc>,
) {
    let mut made: Vec<Group> = Vec::new();
    for new in plan {
        let parent = match new.parent {
            PlanParent::Existing(_) => parent.cloned(),
            PlanParent::Planned(i) => made.get(i).cloned(),
        };
        let id = GroupId(*next_id);
        *next_id += 1;
        let mut path = parent.as_ref().map_or_else(Vec::new, |p| p.path.clone());
        path.push(id);
        let layer_group_id = match &parent {
            Some(p) if !new.is_layer => p.layer_group_id,
            _ => id,
        };
        made.push(Group {
            id,
            parent_id: parent.map(|p| p.id),
            path,
            layer_group_id,
            group_type: new.group_type.clone(),
            name: new.fields.name.clone().unwrap_or_default(),
            short_name: new.fields.short_name.clone(),
            email: new.fields.email.clone(),
            description: new.fields.description.clone(),
            address: new.fields.address.clone(),
            created_at: now,
            updated_at: now,
            deleted_at: None,
            archived_at: None,
        });
    }
    for (i, g) in made.into_iter().enumerate() {
        let k = if i == 0 {
            key.to_owned()
        } else {
            format!("{key}/{}", g.group_type)
        };
        groups.insert(k, g);
    }
}

/// The people of [`PEOPLE`] and all their roles, started a year ago.
fn build_people(
    org: &Organisation,
    groups: &HashMap<String, Group>,
    now: DateTime<Utc>,
) -> Result<(People, Vec<Role>), Box<dyn Error>> {
    let mut people = HashMap::new();
    let mut roles = Vec::new();
    for (n, &(first, last, memberships)) in PEOPLE.iter().enumerate() {
        let id = PersonId(i64::try_from(n)? + 1);
        let mut own = Vec::new();
        for &(group_key, role_type) in memberships {
            let group = groups.get(group_key).ok_or("unknown group")?;
            own.push(Role {
                id: RoleId(i64::try_from(roles.len() + own.len())? + 1),
                person_id: id,
                group_id: group.id,
                role_type: role_type.to_owned(),
                label: None,
                start_on: NaiveDate::from_ymd_opt(2024, 6, 1),
                end_on: None,
                archived_at: None,
                is_terminated: false,
                created_at: now,
                updated_at: now,
            });
        }
        let mut p = person(id, first, last, now);
        // Derived state a store would keep: visible to contact_data holders.
        p.contact_data_visible = contact_data_visible(org, &own, now.date_naive());
        people.insert(first, p);
        roles.extend(own);
    }
    Ok((people, roles))
}

fn person(id: PersonId, first: &str, last: &str, now: DateTime<Utc>) -> Person {
    Person {
        id,
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        nickname: None,
        company_name: None,
        is_company: false,
        email: None,
        address: Default::default(),
        gender: None,
        birthday: None,
        language: "en".to_owned(),
        additional_information: None,
        primary_group_id: None,
        contact_data_visible: false,
        created_at: now,
        updated_at: now,
    }
}

fn role_list(roles: &[Role], id: PersonId) -> String {
    let types: Vec<&str> = roles
        .iter()
        .filter(|r| r.person_id == id)
        .map(|r| r.role_type.as_str())
        .collect();
    types.join(", ")
}

/// The name of the group whose role allowed it, if a permission did.
fn place(decision: &Decision, tree: &GroupTree) -> String {
    match decision {
        Decision::Allowed(Because::Permission { group_id, .. }) => tree
            .get(*group_id)
            .map(|g| format!(" ({})", g.name))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn verb(action: PersonAction) -> &'static str {
    match action {
        PersonAction::Show => "see",
        PersonAction::ShowDetails => "see the details of",
        PersonAction::ShowFull => "see everything about",
        PersonAction::Update => "edit",
        PersonAction::UpdateEmail => "change the email of",
        PersonAction::Destroy => "delete",
    }
}
