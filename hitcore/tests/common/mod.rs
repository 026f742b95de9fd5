//! Helpers of the store contract suite: the stores it runs against, a small
//! organisation of its own and builders for groups, people and roles.
//!
//! The organisation is defined inline so the suite does not change when the
//! example definitions do.
//!
//! Several test binaries include this module and each uses a part of it.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use hitcore::Organisation;
use hitcore::ability::{CreateGroup, CreatePerson, CreateRole, system};
use hitcore::group::{Group, GroupPatch, plan_create, plan_root};
use hitcore::id::{GroupId, PersonId};
use hitcore::person::{Person, PersonPatch};
use hitcore::role::{NewRole, Role};
use hitcore::store::Store;
use hitcore::store::sqlite::SqliteStore;

/// Federation (layer) -> Board, Members, Region (layer) -> Board, Members,
/// Region. Members nest. German is the default language.
pub const ORG_TOML: &str = r#"
[organisation]
name = "Contract Federation"
root = "Federation"
languages = ["de", "en"]

[group_types.Federation]
label = { en = "Federation", de = "Verband" }
layer = true
children = ["Board", "Members", "Region"]
default_children = ["Board", "Members"]

[[group_types.Federation.roles]]
key = "Administrator"
permissions = ["admin", "layer_and_below_full"]

[group_types.Board]
label = { en = "Board", de = "Vorstand" }
static_name = true

[[group_types.Board.roles]]
key = "President"
permissions = ["layer_full", "contact_data"]

[[group_types.Board.roles]]
key = "BoardMember"
permissions = ["layer_read"]

[group_types.Members]
label = { en = "Members", de = "Mitglieder" }
children = ["Members"]

[[group_types.Members.roles]]
key = "Member"

[[group_types.Members.roles]]
key = "Passive"
kind = "passive"

[group_types.Region]
label = { en = "Region", de = "Region" }
layer = true
children = ["Board", "Members", "Region"]
default_children = ["Board", "Members"]

[[group_types.Region.roles]]
key = "Coordinator"
permissions = ["layer_and_below_full", "contact_data"]
"#;

/// Role type keys of [`ORG_TOML`].
pub const MEMBER: &str = "Members.Member";
pub const PASSIVE: &str = "Members.Passive";
pub const PRESIDENT: &str = "Board.President";
pub const BOARD_MEMBER: &str = "Board.BoardMember";

/// The organisation of [`ORG_TOML`].
pub fn org() -> Arc<Organisation> {
    Arc::new(Organisation::from_toml(ORG_TOML, "store_contract.toml").expect("test org loads"))
}

/// The instant most tests happen at: 2025-03-10 12:00 UTC.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0)
        .single()
        .expect("valid instant")
}

/// `days` after [`t0`] (before it when negative).
pub fn at(days: i64) -> DateTime<Utc> {
    t0() + Duration::days(days)
}

/// The date `days` after [`t0`]'s date.
pub fn day(days: i64) -> NaiveDate {
    at(days).date_naive()
}

/// One store under test, with whatever keeps its database alive.
pub struct TestStore {
    pub name: &'static str,
    pub store: Box<dyn Store>,
    pub org: Arc<Organisation>,
    _dir: Option<tempfile::TempDir>,
    /// Dropped after `store`, so the pool goes before its schema.
    #[cfg(feature = "postgres")]
    _schema: Option<hitcore::store::postgres::TestSchema>,
    /// The application name of the store's connections, on PostgreSQL.
    sessions: Option<String>,
}

/// Every store the contract runs against: in-memory SQLite, SQLite in a
/// temporary file, and PostgreSQL when `HIT_TEST_POSTGRES_URL` is set.
pub fn stores() -> Vec<TestStore> {
    stores_for(org())
}

/// [`stores`] for another organisation definition (e.g. the demo's).
pub fn stores_for(org: Arc<Organisation>) -> Vec<TestStore> {
    let memory = SqliteStore::in_memory(org.clone()).expect("in-memory store");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("contract.db").display());
    let file = SqliteStore::open(&url, org.clone()).expect("file store");
    let mut all = vec![
        TestStore {
            name: "sqlite memory",
            store: Box::new(memory),
            org: org.clone(),
            _dir: None,
            #[cfg(feature = "postgres")]
            _schema: None,
            sessions: None,
        },
        TestStore {
            name: "sqlite file",
            store: Box::new(file),
            org: org.clone(),
            _dir: Some(dir),
            #[cfg(feature = "postgres")]
            _schema: None,
            sessions: None,
        },
    ];
    all.extend(postgres(&org));
    all
}

/// The PostgreSQL store on a fresh schema of the database that
/// `HIT_TEST_POSTGRES_URL` names (dropped with the store), or none, with a
/// note once per test binary, when the variable is unset.
#[cfg(feature = "postgres")]
fn postgres(org: &Arc<Organisation>) -> Option<TestStore> {
    use hitcore::store::postgres::{PostgresStore, TestSchema};

    let Some(base) = postgres_url() else {
        note_once("HIT_TEST_POSTGRES_URL is not set: the PostgreSQL store is skipped");
        return None;
    };
    let schema = TestSchema::create(&base).expect("a fresh schema in HIT_TEST_POSTGRES_URL");
    // The schema's name marks the store's connections, so that a test can
    // end them (`World::end_sessions`) without touching anyone else's.
    let url = format!("{}&application_name={}", schema.url(), schema.name());
    let store = PostgresStore::open(&url, org.clone()).expect("PostgreSQL store");
    Some(TestStore {
        name: "postgres",
        store: Box::new(store),
        org: org.clone(),
        _dir: None,
        sessions: Some(schema.name().to_owned()),
        _schema: Some(schema),
    })
}

#[cfg(not(feature = "postgres"))]
fn postgres(_org: &Arc<Organisation>) -> Option<TestStore> {
    if postgres_url().is_some() {
        note_once("HIT_TEST_POSTGRES_URL is set, but hitcore is built without `postgres`");
    }
    None
}

/// The base URL of the PostgreSQL tests, if they are to run.
fn postgres_url() -> Option<String> {
    std::env::var("HIT_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// Prints `note` once per test binary, past the test harness's capture
/// (which would hide it unless a test fails).
fn note_once(note: &str) {
    use std::io::Write;
    static NOTED: std::sync::Once = std::sync::Once::new();
    NOTED.call_once(|| {
        let _ = writeln!(std::io::stderr(), "note: {note}");
    });
}

/// Runs a contract case against every store, each with a fresh database
/// holding the root group and its default children.
pub fn each_store(case: impl Fn(&World<'_>)) {
    for t in stores() {
        eprintln!("--- store: {}", t.name);
        let world = World::new(&t);
        case(&world);
    }
}

/// A store with the root of the tree, and builders for the rest.
pub struct World<'a> {
    pub s: &'a dyn Store,
    pub org: &'a Organisation,
    sessions: Option<&'a str>,
    pub root: Group,
    pub root_board: Group,
    pub root_members: Group,
}

impl<'a> World<'a> {
    fn new(t: &'a TestStore) -> World<'a> {
        let s: &dyn Store = t.store.as_ref();
        let plan = plan_root(&t.org, named("Contract Federation"));
        let created = s
            .create_groups(&system(CreateGroup(None)), &plan, t0())
            .expect("root plan");
        let [root, root_board, root_members]: [Group; 3] =
            created.try_into().expect("root with two default children");
        World {
            s,
            org: &t.org,
            sessions: t.sessions.as_deref(),
            root,
            root_board,
            root_members,
        }
    }

    /// Has the database server end every connection of the store, as an
    /// administrator's `pg_terminate_backend` or a proxy's restart would,
    /// and waits until they are gone; nothing on SQLite, which has no
    /// server.
    #[allow(dead_code, reason = "not every test binary ends sessions")]
    pub fn end_sessions(&self) {
        #[cfg(feature = "postgres")]
        self.end_postgres_sessions();
    }

    #[cfg(feature = "postgres")]
    fn end_postgres_sessions(&self) {
        let (Some(name), Some(base)) = (self.sessions, postgres_url()) else {
            return;
        };
        let mut admin =
            postgres::Client::connect(&base, postgres::NoTls).expect("admin connection");
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&name],
            )
            .expect("sessions ended");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let left: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                    &[&name],
                )
                .expect("sessions counted")
                .get(0);
            if left == 0 {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{left} sessions left");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// The group as stored now.
    pub fn reload(&self, g: &Group) -> Group {
        self.s.group(g.id).expect("group").expect("group exists")
    }

    /// Creates a group of `group_type` below `parent` with its default
    /// children; returns the whole plan as stored.
    pub fn create(&self, parent: &Group, group_type: &str, name: &str) -> Vec<Group> {
        let siblings: Vec<String> = self
            .s
            .all_groups()
            .expect("groups")
            .into_iter()
            .filter(|g| g.parent_id == Some(parent.id) && !g.is_deleted())
            .map(|g| g.group_type)
            .collect();
        let plan = plan_create(self.org, parent, &siblings, group_type, named(name))
            .expect("allowed plan");
        self.s
            .create_groups(&system(CreateGroup(Some(parent.id))), &plan, t0())
            .expect("created")
    }

    /// A region below `parent`: the region, its board and its members.
    pub fn region(&self, parent: &Group, name: &str) -> (Group, Group, Group) {
        let [region, board, members]: [Group; 3] = self
            .create(parent, "Region", name)
            .try_into()
            .expect("region with two default children");
        (region, board, members)
    }

    /// A single Members group below `parent`.
    pub fn members(&self, parent: &Group, name: &str) -> Group {
        self.create(parent, "Members", name)
            .pop()
            .expect("one group")
    }

    /// A person with a first role of `role_type` in `group`, created at
    /// [`t0`] with a role that started on its date.
    pub fn person(&self, first: &str, last: &str, group: &Group, role_type: &str) -> Person {
        self.person_with(patch(first, last, None), group, role_type, t0())
            .0
    }

    /// A person created at `now` from `patch`, with their first role.
    pub fn person_with(
        &self,
        patch: PersonPatch,
        group: &Group,
        role_type: &str,
        now: DateTime<Utc>,
    ) -> (Person, Role) {
        let role = new_role(
            PersonId(0),
            group.id,
            role_type,
            Some(now.date_naive()),
            None,
        );
        self.s
            .create_person(&create_person_permit(&role), &patch, &role, now)
            .expect("person created")
    }

    /// Gives `person` a role, created at `now`.
    pub fn add_role(
        &self,
        person: &Person,
        group: &Group,
        role_type: &str,
        start_on: Option<NaiveDate>,
        end_on: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Role {
        let role = new_role(person.id, group.id, role_type, start_on, end_on);
        self.s
            .create_role(&create_role_permit(&role), &role, now)
            .expect("role created")
    }

    /// The person as stored now.
    pub fn person_now(&self, p: &Person) -> Person {
        self.s.person(p.id).expect("person").expect("person exists")
    }
}

/// Group fields with only a name.
pub fn named(name: &str) -> GroupPatch {
    GroupPatch {
        name: Some(name.to_owned()),
        ..GroupPatch::default()
    }
}

/// Person fields with a name and an optional email.
pub fn patch(first: &str, last: &str, email: Option<&str>) -> PersonPatch {
    PersonPatch {
        first_name: Some(first.to_owned()).filter(|s| !s.is_empty()),
        last_name: Some(last.to_owned()).filter(|s| !s.is_empty()),
        email: email.map(str::to_owned),
        ..PersonPatch::default()
    }
}

pub fn new_role(
    person_id: PersonId,
    group_id: GroupId,
    role_type: &str,
    start_on: Option<NaiveDate>,
    end_on: Option<NaiveDate>,
) -> NewRole {
    NewRole {
        person_id,
        group_id,
        role_type: role_type.to_owned(),
        label: None,
        start_on,
        end_on,
    }
}

pub fn create_person_permit(role: &NewRole) -> hitcore::ability::Permit<CreatePerson> {
    system(CreatePerson {
        group_id: role.group_id,
        role_type: role.role_type.clone(),
    })
}

pub fn create_role_permit(role: &NewRole) -> hitcore::ability::Permit<CreateRole> {
    system(CreateRole {
        group_id: role.group_id,
        person_id: role.person_id,
        role_type: role.role_type.clone(),
    })
}
