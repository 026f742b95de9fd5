//! The demo scenario of section 15 ("What this exercises"), asserted on the
//! seeded demo federation itself rather than on hand-built fixtures.
//!
//! Nora (Region.Coordinator in Region North) edits everyone in Club Alpha
//! except Jan, whose Junior role is invisible from above. An extra
//! Region.Auditor role (see_invisible_from_above) lets her see him, and
//! together with the coordinator role edit him. Alex (Club.ClubLeader)
//! sees and edits Jan. Tina (ClubMembers.Trainer, group_and_below_full)
//! edits the club's members but not its board. The list side follows: Nora's
//! view of Club Alpha's members leaves Jan out, Alex's shows him.
//!
//! Actors and subjects are resolved from the store (`roles_of_person`,
//! `all_groups`), exactly as the web tier does it.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use hitcore::ability::{
    self, Actor, CreateRole, ListVisibility, PersonAction, PersonSubject, system,
};
use hitcore::group::{Group, GroupTree};
use hitcore::person::Person;
use hitcore::role::{NewRole, Role};
use hitcore::seed::{SeedOptions, load_demo};
use hitcore::store::sqlite::SqliteStore;
use hitcore::store::{GroupRepo, GroupScope, ListFilter, PeopleQuery, PersonRepo, RoleRepo};
use hitcore::{GroupId, Organisation};

/// The seeded demo with everything the questions need.
struct Demo {
    org: Arc<Organisation>,
    store: SqliteStore,
    tree: GroupTree,
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0)
        .single()
        .expect("valid instant")
}

fn today() -> NaiveDate {
    now().date_naive()
}

fn demo() -> Demo {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo-federation.toml");
    let org = Arc::new(Organisation::from_file(&path).expect("the demo definition loads"));
    let store = SqliteStore::in_memory(org.clone()).expect("in-memory store");
    let options = SeedOptions {
        admin_password: Some("demo demo demo demo".to_owned()),
        ..SeedOptions::default()
    };
    let report = load_demo(&store, &org, &options, now()).expect("the demo seeds");
    assert!(!report.is_skipped);
    let tree = GroupTree::new(store.all_groups().expect("groups"));
    Demo { org, store, tree }
}

impl Demo {
    fn group_named(&self, name: &str) -> &Group {
        self.tree
            .iter()
            .find(|g| g.name == name)
            .unwrap_or_else(|| panic!("no group named {name}"))
    }

    /// The default child of `parent` of type `group_type`.
    fn child(&self, parent: &Group, group_type: &str) -> &Group {
        self.tree
            .children(parent.id)
            .find(|g| g.group_type == group_type)
            .unwrap_or_else(|| panic!("{} has no {group_type}", parent.name))
    }

    fn club_alpha(&self) -> &Group {
        self.group_named("Club Alpha")
    }

    fn by_email(&self, email: &str) -> Person {
        self.store
            .person_by_email(email)
            .expect("lookup")
            .unwrap_or_else(|| panic!("no person {email}"))
    }

    fn jan(&self) -> Person {
        let members = self.child(self.club_alpha(), "ClubMembers");
        self.list(members.id, ListFilter::All, Some("Junior Jan"))
            .into_iter()
            .find(|p| {
                p.first_name.as_deref() == Some("Jan") && p.last_name.as_deref() == Some("Junior")
            })
            .expect("Jan Junior is in Club Alpha's members")
    }

    fn roles(&self, p: &Person) -> Vec<Role> {
        self.store.roles_of_person(p.id).expect("roles")
    }

    fn actor(&self, p: &Person, roles: &[Role]) -> Actor {
        Actor::new(p.id, false, roles, &self.tree, &self.org, today())
    }

    fn actor_of(&self, p: &Person) -> Actor {
        self.actor(p, &self.roles(p))
    }

    /// Whether `actor` may do `action` to `p`, with `p`'s stored roles.
    fn may(&self, actor: &Actor, action: PersonAction, p: &Person) -> bool {
        let roles = self.roles(p);
        let subject = PersonSubject::new(p, false, &roles, &self.tree, &self.org, today());
        ability::person(actor, action, &subject).is_allowed()
    }

    /// Everybody with an active role in `scope`.
    fn people_in(&self, scope: GroupScope) -> Vec<Person> {
        let q = PeopleQuery {
            scope,
            filter: ListFilter::All,
            role_types: None,
            text: None,
            today: today(),
            page: 1,
            per_page: 10_000,
        };
        let page = self.store.people_list(&q).expect("list");
        assert!(page.total > 0, "{scope:?} has people");
        page.items.into_iter().map(|l| l.person).collect()
    }

    fn list(&self, group: GroupId, filter: ListFilter, text: Option<&str>) -> Vec<Person> {
        let q = PeopleQuery {
            scope: GroupScope::Group(group),
            filter,
            role_types: None,
            text: text.map(str::to_owned),
            today: today(),
            page: 1,
            per_page: 10_000,
        };
        let page = self.store.people_list(&q).expect("list");
        page.items.into_iter().map(|l| l.person).collect()
    }

    /// The people of `group`'s list as `actor` may see it.
    fn list_as(&self, actor: &Actor, group: &Group) -> Vec<Person> {
        let filter = match ability::people_list(actor, group, &self.tree) {
            Some(ListVisibility::All) => ListFilter::All,
            Some(ListVisibility::VisibleFromAbove) => {
                ListFilter::RoleTypes(self.org.visible_from_above_keys())
            }
            Some(ListVisibility::ContactDataOnly) => ListFilter::ContactDataOnly,
            None => return Vec::new(),
        };
        self.list(group.id, filter, None)
    }

    /// Whether `p` holds an active role of a type visible from above.
    fn is_visible_from_above(&self, p: &Person) -> bool {
        self.roles(p).iter().any(|r| {
            r.is_active(today())
                && self
                    .org
                    .role_type(&r.role_type)
                    .is_some_and(|t| t.is_visible_from_above)
        })
    }

    /// Nora with an extra Region.Auditor role in Region North.
    fn nora_with_auditor_role(&self) -> Person {
        let nora = self.by_email("north@demo.example");
        let region = self.group_named("Region North");
        let role = NewRole {
            person_id: nora.id,
            group_id: region.id,
            role_type: "Region.Auditor".to_owned(),
            label: None,
            start_on: Some(today()),
            end_on: None,
        }
        .validated(&self.org, region, today())
        .expect("an auditor role is allowed in a region");
        let permit = system(CreateRole {
            group_id: region.id,
            person_id: nora.id,
            role_type: role.role_type.clone(),
        });
        self.store
            .create_role(&permit, &role, now())
            .expect("role added");
        nora
    }
}

fn names(people: &[Person]) -> Vec<String> {
    people.iter().map(Person::display_name).collect()
}

#[test]
fn nora_edits_everyone_in_club_alpha_except_the_invisible_jan() {
    let d = demo();
    let nora = d.actor_of(&d.by_email("north@demo.example"));
    let jan = d.jan();
    let alex = d.by_email("alpha@demo.example");
    let tina = d.by_email("trainer@demo.example");
    let club = d.people_in(GroupScope::Deep(d.club_alpha().id));

    assert!(d.may(&nora, PersonAction::Update, &alex));
    assert!(d.may(&nora, PersonAction::Update, &tina));
    assert!(!d.may(&nora, PersonAction::Show, &jan));
    assert!(!d.may(&nora, PersonAction::Update, &jan));
    let mut edited = 0;
    for p in &club {
        // Every visible-from-above holder is hers to edit; the others are
        // Jan's kind (juniors) and the club's external contacts.
        let expected = d.is_visible_from_above(p);
        assert_eq!(
            d.may(&nora, PersonAction::Update, p),
            expected,
            "Nora editing {}",
            p.display_name()
        );
        edited += usize::from(expected);
    }
    assert!(edited > 40, "Nora edits most of the club: {edited}");
}

#[test]
fn auditor_role_lets_nora_see_jan_and_with_coordinator_edit_him() {
    let d = demo();
    let jan = d.jan();
    let nora = d.nora_with_auditor_role();
    let roles = d.roles(&nora);
    assert_eq!(roles.len(), 2, "coordinator and auditor");
    let both = d.actor(&nora, &roles);
    assert!(d.may(&both, PersonAction::Show, &jan));
    assert!(d.may(&both, PersonAction::ShowFull, &jan));
    assert!(d.may(&both, PersonAction::Update, &jan));

    // The auditor role alone reads but does not write.
    let auditor_only: Vec<Role> = roles
        .into_iter()
        .filter(|r| r.role_type == "Region.Auditor")
        .collect();
    let auditor = d.actor(&nora, &auditor_only);
    assert!(d.may(&auditor, PersonAction::Show, &jan));
    assert!(!d.may(&auditor, PersonAction::Update, &jan));
}

#[test]
fn alex_sees_and_edits_jan() {
    let d = demo();
    let alex = d.actor_of(&d.by_email("alpha@demo.example"));
    let jan = d.jan();
    assert!(d.may(&alex, PersonAction::Show, &jan));
    assert!(d.may(&alex, PersonAction::ShowFull, &jan));
    assert!(d.may(&alex, PersonAction::Update, &jan));
}

#[test]
fn tina_edits_the_club_members_but_not_the_board() {
    let d = demo();
    let tina_person = d.by_email("trainer@demo.example");
    let tina = d.actor_of(&tina_person);
    let club = d.club_alpha();
    let members = d.people_in(GroupScope::Deep(d.child(club, "ClubMembers").id));
    let board = d.people_in(GroupScope::Group(d.child(club, "ClubBoard").id));

    assert!(members.len() > 40, "{}", members.len());
    for p in members.iter().filter(|p| p.id != tina_person.id) {
        assert!(
            d.may(&tina, PersonAction::Update, p),
            "Tina editing member {}",
            p.display_name()
        );
    }
    assert!(d.may(&tina, PersonAction::Update, &d.jan()));
    assert!(!board.is_empty());
    for p in &board {
        assert!(
            !d.may(&tina, PersonAction::Update, p),
            "Tina editing board member {}",
            p.display_name()
        );
    }
    let alex = d.by_email("alpha@demo.example");
    assert!(!d.may(&tina, PersonAction::Update, &alex), "nor the leader");
}

#[test]
fn noras_list_of_club_alpha_members_leaves_jan_out_and_alexs_shows_him() {
    let d = demo();
    let members = d.child(d.club_alpha(), "ClubMembers");
    let jan = d.jan();
    let nora = d.actor_of(&d.by_email("north@demo.example"));
    let alex = d.actor_of(&d.by_email("alpha@demo.example"));
    assert_eq!(
        ability::people_list(&nora, members, &d.tree),
        Some(ListVisibility::VisibleFromAbove)
    );
    assert_eq!(
        ability::people_list(&alex, members, &d.tree),
        Some(ListVisibility::All)
    );

    let noras = d.list_as(&nora, members);
    let alexs = d.list_as(&alex, members);
    assert!(!noras.iter().any(|p| p.id == jan.id), "{:?}", names(&noras));
    assert!(alexs.iter().any(|p| p.id == jan.id), "{:?}", names(&alexs));
    // Nora's list is exactly Alex's without the holders of invisible roles,
    // and everyone on it is someone she may see.
    let expected: Vec<_> = alexs
        .iter()
        .filter(|p| d.is_visible_from_above(p))
        .map(|p| p.id)
        .collect();
    assert_eq!(noras.iter().map(|p| p.id).collect::<Vec<_>>(), expected);
    assert!(noras.iter().all(|p| d.may(&nora, PersonAction::Show, p)));
}

#[test]
fn auditor_role_puts_jan_on_noras_list() {
    let d = demo();
    let members = d.child(d.club_alpha(), "ClubMembers");
    let jan = d.jan();
    let nora = d.nora_with_auditor_role();
    let actor = d.actor_of(&nora);
    assert_eq!(
        ability::people_list(&actor, members, &d.tree),
        Some(ListVisibility::All)
    );
    assert!(d.list_as(&actor, members).iter().any(|p| p.id == jan.id));
}
