//! The scale generator written through the bulk loaders: what the ordinary
//! store methods read back afterwards must be what the generator planned,
//! on in-memory SQLite always and on PostgreSQL when
//! `HIT_TEST_POSTGRES_URL` is set (a fresh schema per test).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use hitcore::Organisation;
use hitcore::ability::{
    self, Actor, CreatePerson, GroupAction, ListVisibility, PersonAction, PersonSubject, system,
};
use hitcore::group::GroupTree;
use hitcore::id::{GroupId, PersonId};
use hitcore::person::{Person, PersonPatch};
use hitcore::role::{NewRole, Role};
use hitcore::scale::{self, ADMIN_ID, Plan, Progress, ScaleError, ScaleOptions};
use hitcore::store::postgres::TestSchema;
use hitcore::store::sqlite::SqliteStore;
use hitcore::store::{
    BulkLoad, GroupScope, ListFilter, LoadBulk, PeopleQuery, StoreError, open_bulk,
};

fn org() -> Arc<Organisation> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo-federation.toml");
    Arc::new(Organisation::from_file(&path).expect("the demo federation loads"))
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 2, 8, 0, 0)
        .single()
        .expect("valid time")
}

fn options() -> ScaleOptions {
    ScaleOptions {
        people: 2_000,
        groups: 60,
        seed: 3,
        admin_email: "admin@demo.example".to_owned(),
    }
}

/// Runs `case` on an empty in-memory SQLite store and, when configured, on
/// an empty PostgreSQL schema.
fn each_store(case: impl Fn(&dyn BulkLoad)) {
    let sqlite = SqliteStore::in_memory(org()).expect("sqlite store");
    eprintln!("store: sqlite");
    case(&sqlite);
    if let Ok(base) = std::env::var("HIT_TEST_POSTGRES_URL") {
        let schema = TestSchema::create(&base).expect("a test schema");
        let store = open_bulk(schema.url(), org()).expect("postgres store");
        eprintln!("store: postgres");
        case(&*store);
    }
}

/// Loads the federation of [`options`], checking that progress ends with
/// every person written.
fn load(store: &dyn BulkLoad) -> scale::ScaleReport {
    let mut last = None;
    let report = scale::load(store, &org(), &options(), None, now(), &mut |p| {
        last = Some(p)
    })
    .expect("loaded");
    assert_eq!(last, Some(Progress::Finishing));
    report
}

fn planned() -> (Plan, Vec<Person>, Vec<Role>) {
    let org = org();
    let plan = Plan::new(&org, &options(), now()).expect("planned");
    let mut people = Vec::new();
    let mut roles = Vec::new();
    for chunk in plan.chunks(&org, 1_000) {
        people.extend(chunk.people);
        roles.extend(chunk.roles);
    }
    (plan, people, roles)
}

#[test]
fn loaded_federation_reads_back_as_planned() {
    each_store(|store| {
        let report = load(store);
        let (plan, people, roles) = planned();
        assert_eq!(report.groups, 60);
        assert_eq!(report.people, 2_000);
        assert_eq!(report.roles, roles.len());

        let mut groups = store.all_groups().expect("groups");
        groups.sort_by_key(|g| g.id);
        assert_eq!(groups, plan.groups, "paths, layers and fields");
        assert_eq!(store.person_count().expect("count"), 2_000);
        for p in people.iter().step_by(97) {
            assert_eq!(store.person(p.id).expect("read").as_ref(), Some(p));
            let mut stored = store.roles_of_person(p.id).expect("roles");
            stored.sort_by_key(|r| r.id);
            let own: Vec<&Role> = roles.iter().filter(|r| r.person_id == p.id).collect();
            assert_eq!(stored.iter().collect::<Vec<_>>(), own);
        }
    });
}

#[test]
fn layer_list_holds_the_generated_people_of_the_layer() {
    each_store(|store| {
        load(store);
        let (plan, _, roles) = planned();
        let club = plan
            .groups
            .iter()
            .find(|g| g.group_type == "Club")
            .expect("a club");
        let today = now().date_naive();
        let layer_of: HashMap<GroupId, GroupId> = plan
            .groups
            .iter()
            .map(|g| (g.id, g.layer_group_id))
            .collect();
        let expected: HashSet<PersonId> = roles
            .iter()
            .filter(|r| layer_of[&r.group_id] == club.id && r.is_active(today))
            .map(|r| r.person_id)
            .collect();
        assert!(expected.len() > 100, "the first club is large");

        let mut seen = HashSet::new();
        for page in 1.. {
            let q = PeopleQuery {
                scope: GroupScope::Layer(club.id),
                filter: ListFilter::All,
                role_types: None,
                text: None,
                today,
                page,
                per_page: 200,
            };
            let listed = store.people_list(&q).expect("listed");
            assert_eq!(listed.total, expected.len() as u64);
            if listed.items.is_empty() {
                break;
            }
            seen.extend(listed.items.iter().map(|lp| lp.person.id));
        }
        assert_eq!(seen, expected);
    });
}

#[test]
fn ability_engine_works_on_the_generated_people() {
    each_store(|store| {
        load(store);
        let org = org();
        let today = now().date_naive();
        let tree = GroupTree::new(store.all_groups().expect("groups"));
        let club = tree
            .iter()
            .find(|g| g.group_type == "Club")
            .expect("a club")
            .clone();

        let leaders = store
            .people_list(&PeopleQuery {
                scope: GroupScope::Group(club.id),
                filter: ListFilter::All,
                role_types: Some(vec!["Club.ClubLeader".to_owned()]),
                text: None,
                today,
                page: 1,
                per_page: 5,
            })
            .expect("leaders");
        let leader = &leaders.items.first().expect("the club has a leader").person;
        let leader_roles = store.roles_of_person(leader.id).expect("roles");
        let actor = Actor::new(leader.id, false, &leader_roles, &tree, &org, today);
        assert_eq!(
            ability::people_list(&actor, &club, &tree),
            Some(ListVisibility::All)
        );
        assert!(ability::group(&actor, GroupAction::Update, &club, &tree).is_allowed());

        let admin_roles = store.roles_of_person(ADMIN_ID).expect("roles");
        let admin = Actor::new(ADMIN_ID, false, &admin_roles, &tree, &org, today);
        let members = store
            .people_list(&PeopleQuery {
                scope: GroupScope::Layer(club.id),
                filter: ListFilter::All,
                role_types: None,
                text: None,
                today,
                page: 1,
                per_page: 100,
            })
            .expect("members");
        let mut hidden = 0;
        for lp in &members.items {
            let roles = store.roles_of_person(lp.person.id).expect("roles");
            let subject = PersonSubject::new(&lp.person, false, &roles, &tree, &org, today);
            let by_leader = ability::person(&actor, PersonAction::Update, &subject);
            assert!(
                by_leader.is_allowed(),
                "the leader edits {:?}",
                lp.person.id
            );
            let is_hidden = roles.iter().filter(|r| r.is_active(today)).all(|r| {
                org.role_type(&r.role_type)
                    .is_some_and(|t| !t.is_visible_from_above)
            });
            let by_admin = ability::person(&admin, PersonAction::Show, &subject);
            assert_eq!(by_admin.is_allowed(), !is_hidden, "{roles:?}");
            hidden += usize::from(is_hidden);
        }
        assert!(hidden > 0, "juniors are hidden from above");
    });
}

#[test]
fn ordinary_writes_continue_after_the_generated_ids() {
    each_store(|store| {
        load(store);
        let group = store
            .all_groups()
            .expect("groups")
            .into_iter()
            .find(|g| g.group_type == "ClubMembers")
            .expect("a members group");
        let role = NewRole {
            person_id: PersonId(0),
            group_id: group.id,
            role_type: "ClubMembers.Active".to_owned(),
            label: None,
            start_on: Some(now().date_naive()),
            end_on: None,
        };
        let patch = PersonPatch {
            first_name: Some("Neu".to_owned()),
            language: Some("de".to_owned()),
            ..PersonPatch::default()
        };
        let permit = system(CreatePerson {
            group_id: group.id,
            role_type: role.role_type.clone(),
        });
        let (person, created) = store
            .create_person(&permit, &patch, &role, now())
            .expect("created");
        assert_eq!(person.id, PersonId(2_001));
        assert!(created.id.0 > 2_000);
        assert_eq!(person.primary_group_id, Some(group.id));
    });
}

#[test]
fn taken_email_in_a_bulk_load_is_a_conflict() {
    each_store(|store| {
        load(store);
        let (_, people, _) = planned();
        let taken = people
            .iter()
            .find(|p| p.email.is_some())
            .expect("someone has an email");
        let mut twin = taken.clone();
        twin.id = PersonId(9_999);
        twin.email = twin.email.map(|e| e.to_uppercase());
        let r = store.bulk_insert(&system(LoadBulk), &[], &[twin], &[]);
        assert!(
            matches!(&r, Err(StoreError::Conflict { field }) if field == "email"),
            "{r:?}"
        );
        assert_eq!(store.person_count().expect("count"), 2_000);
    });
}

#[test]
fn database_with_data_is_refused() {
    each_store(|store| {
        load(store);
        let e =
            scale::load(store, &org(), &options(), None, now(), &mut |_| {}).expect_err("refused");
        assert!(
            matches!(
                e,
                ScaleError::NotEmpty {
                    groups: 60,
                    people: 2_000
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string().contains("only fills an empty database"),
            "{e}"
        );
    });
}

#[test]
fn administrator_gets_the_given_password_hash() {
    let store = SqliteStore::in_memory(org()).expect("store");
    let hash = hitcore::auth::hash_password("correct horse battery").expect("hash");
    scale::load(&store, &org(), &options(), Some(&hash), now(), &mut |_| {}).expect("loaded");
    let login = hitcore::store::AuthRepo::login_by_email(&store, "ADMIN@demo.example")
        .expect("read")
        .expect("the administrator can log in");
    assert_eq!(login.person_id, ADMIN_ID);
    assert_eq!(login.password_hash.as_deref(), Some(hash.as_str()));
}

/// The forms refuse an email with a line break, but a bulk load (or an
/// old import) writes rows as given. Such an address never reaches a
/// list's recipients: the relay stores a batch's envelope a line each, so
/// it would turn into two SMTP recipients.
#[test]
fn an_email_with_a_line_break_is_never_a_list_recipient() {
    use hitcore::ability::{CreateMailingList, ManageSubscriptions};
    use hitcore::id::RoleId;
    use hitcore::mailing_list::{MailingListPatch, NewMailingList, Subscriber};

    each_store(|store| {
        load(store);
        let (_, people, roles) = planned();
        let today = now().date_naive();
        let role = roles
            .iter()
            .find(|r| {
                r.end_on.is_none_or(|end| end >= today)
                    && people
                        .iter()
                        .any(|p| p.id == r.person_id && p.email.is_some())
            })
            .expect("an active role of someone with an email");
        let holder = people
            .iter()
            .find(|p| p.id == role.person_id)
            .expect("the holder");
        let mut twins = Vec::new();
        let mut twin_roles = Vec::new();
        for (n, email) in ["line\nbreak@example.test", "carriage\rreturn@example.test"]
            .into_iter()
            .enumerate()
        {
            let mut twin = holder.clone();
            twin.id = PersonId(9_001 + n as i64);
            twin.email = Some(email.to_owned());
            let mut twin_role = role.clone();
            twin_role.id = RoleId(90_001 + n as i64);
            twin_role.person_id = twin.id;
            twins.push(twin);
            twin_roles.push(twin_role);
        }
        store
            .bulk_insert(&system(LoadBulk), &[], &twins, &twin_roles)
            .expect("loaded as given");
        store.bulk_finish(&system(LoadBulk)).expect("finished");

        let fields = MailingListPatch {
            name: Some("Everyone".to_owned()),
            mail_name: Some("everyone".to_owned()),
            ..MailingListPatch::default()
        }
        .validated()
        .expect("valid list");
        let list = store
            .create_mailing_list(
                &system(CreateMailingList(role.group_id)),
                &NewMailingList {
                    group_id: role.group_id,
                    fields,
                },
                now(),
            )
            .expect("list");
        store
            .add_subscription(
                &system(ManageSubscriptions(list.id)),
                &Subscriber::Group {
                    group_id: role.group_id,
                    role_types: vec![role.role_type.clone()],
                },
            )
            .expect("subscription");
        let recipients = store.recipients(list.id, today).expect("recipients");
        let holder_email = holder.email.as_deref().expect("an email").to_lowercase();
        assert!(
            recipients.iter().any(|r| r.email == holder_email),
            "the holder's own address is used"
        );
        for r in &recipients {
            assert!(
                !r.email.contains(['\r', '\n']),
                "{:?} has a line break",
                r.email
            );
            assert!(!twins.iter().any(|t| t.id == r.person_id));
        }
    });
}
