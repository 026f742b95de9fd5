//! The demo data of section 15: the groups of the demo federation, about
//! two hundred people in them, and its course catalogue and events
//! ([`events`]), written on the first start of an empty database.
//!
//! [`demo_data`] is a pure, deterministic generator: the same organisation
//! and day always give the same groups, people and roles. [`load_demo`]
//! writes that plan through the [`Store`] traits with system permits, and
//! only into a database without groups, so a restart never seeds twice.
//! Nothing else belongs here: no fixtures for tests of other modules.

mod events;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tracing::{info, instrument};

use crate::ability::{CreateGroup, CreatePerson, CreateRole, SetPassword, UpdatePerson, system};
use crate::auth;
use crate::group::{self, Address, Group, GroupPatch, PlanParent};
use crate::id::{GroupId, PersonId};
use crate::org::Organisation;
use crate::permission::Permission;
use crate::person::{ContactInput, PersonPatch};
use crate::role::NewRole;
use crate::store::{Store, StoreError};
use crate::validate::Violations;

/// The email of the first administrator unless [`SeedOptions`] names another.
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@demo.example";

/// The seed of the random generator; changing it changes every demo person.
const RNG_SEED: u64 = 15;

/// Everything the demo creates, before it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoData {
    /// Groups in creation order; a parent always comes before its children.
    pub groups: Vec<SeedGroup>,
    /// People in creation order, the named people of section 15 first.
    pub people: Vec<SeedPerson>,
}

/// A group the demo creates (its default children come with it).
#[derive(Clone, Debug, PartialEq)]
pub struct SeedGroup {
    /// The key roles and children refer to, such as `DF` or `CA`.
    pub key: String,
    /// The key of the parent group; `None` for the root.
    pub parent: Option<String>,
    /// The group type key.
    pub group_type: String,
    /// Name, email and address.
    pub fields: GroupPatch,
}

/// A person the demo creates, with their roles and contact accounts.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedPerson {
    /// The person's fields.
    pub fields: PersonPatch,
    /// The roles; the first one is created together with the person.
    pub roles: Vec<SeedRole>,
    /// Phone numbers, in display order.
    pub phone_numbers: Vec<ContactInput>,
    /// Additional email addresses, in display order.
    pub additional_emails: Vec<ContactInput>,
}

/// One role of a demo person.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedRole {
    /// A [`SeedGroup::key`], or `<key>/<GroupType>` for the default child
    /// of that type created with the group (`CA/ClubMembers`).
    pub group: String,
    /// The role type key, e.g. `ClubMembers.Junior`.
    pub role_type: String,
    /// The free-text label.
    pub label: Option<String>,
    /// The first day; the generator always sets it.
    pub start_on: Option<NaiveDate>,
    /// The last day, for ended roles.
    pub end_on: Option<NaiveDate>,
}

/// What [`load_demo`] should do beyond the fixed demo data.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SeedOptions {
    /// The first administrator's email (default [`DEFAULT_ADMIN_EMAIL`]).
    /// A demo person with this email becomes the administrator; otherwise a
    /// person with only this email is added.
    pub admin_email: Option<String>,
    /// The first administrator's password; without one a password is
    /// generated and returned in the report.
    pub admin_password: Option<String>,
    /// When set, every other demo person with an email gets this password;
    /// otherwise they have none.
    pub demo_password: Option<String>,
}

impl std::fmt::Debug for SeedOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |p: &Option<String>| p.as_ref().map(|_| "<redacted>");
        f.debug_struct("SeedOptions")
            .field("admin_email", &self.admin_email)
            .field("admin_password", &hidden(&self.admin_password))
            .field("demo_password", &hidden(&self.demo_password))
            .finish()
    }
}

/// What [`load_demo`] did.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// True when the database had groups already and nothing was written.
    pub is_skipped: bool,
    /// Groups created, default children included.
    pub groups: usize,
    /// People created.
    pub people: usize,
    /// Roles created (active, ended and future).
    pub roles: usize,
    /// Phone numbers and additional emails created.
    pub contacts: usize,
    /// Events and courses created (the demo federation only).
    pub events: usize,
    /// The first administrator's email.
    pub admin_email: Option<String>,
    /// The generated administrator password, to be shown once; `None` when
    /// the caller supplied one or nothing was seeded.
    pub generated_admin_password: Option<String>,
}

impl std::fmt::Debug for SeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedReport")
            .field("is_skipped", &self.is_skipped)
            .field("groups", &self.groups)
            .field("people", &self.people)
            .field("roles", &self.roles)
            .field("contacts", &self.contacts)
            .field("events", &self.events)
            .field("admin_email", &self.admin_email)
            .field(
                "generated_admin_password",
                &self.generated_admin_password.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl std::fmt::Display for SeedReport {
    /// A one-line summary without the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_skipped {
            return write!(f, "the database has groups already; no demo data seeded");
        }
        write!(
            f,
            "seeded {} groups, {} people, {} roles and {} contact entries",
            self.groups, self.people, self.roles, self.contacts
        )
    }
}

/// Seeds the demo data into an empty database.
///
/// Does nothing (and reports `is_skipped`) when any group exists already,
/// so a start against an existing database never seeds again. Otherwise it
/// creates the groups and people of [`demo_data`] with system permits, makes
/// the person with [`SeedOptions::admin_email`] the first administrator
/// (the root type's admin role in the root group) and sets passwords.
/// For the demo federation itself it then adds the course catalogue and
/// the events of section 15.
///
/// Limitations: each store call is its own transaction, so a failure half
/// way leaves part of the demo behind, and the next start will not seed
/// again; start from an empty database then. All demo people share one
/// password hash (one salt), which is harmless for a password everybody
/// knows and saves some two hundred argon2 runs.
///
/// # Errors
/// [`StoreError::Rule`], before anything is written, when the organisation
/// lacks a group or role type where the demo uses it (another definition
/// than the demo federation), the root type has no role with the `admin`
/// permission, the admin email is invalid, or a password is
/// shorter than 12 or longer than 128 characters; any error of the store.
#[instrument(skip_all)]
pub fn load_demo(
    store: &dyn Store,
    org: &Organisation,
    options: &SeedOptions,
    now: DateTime<Utc>,
) -> Result<SeedReport, StoreError> {
    if !store.all_groups()?.is_empty() {
        info!("The database has groups already; not seeding demo data");
        return Ok(SeedReport {
            is_skipped: true,
            ..SeedReport::default()
        });
    }
    check_passwords(options)?;
    let admin_email = admin_email(options)?;

    let mut data = demo_data(org, now.date_naive());
    let is_demo = check_fits(org, &data).is_ok();
    if let Err(misfit) = check_fits(org, &data) {
        // Another organisation than the demo federation: start it with its
        // root group and the administrator, so it can be used at once.
        info!("Seeding only the root group and the administrator: {misfit}");
        data = root_only(org);
    }
    let admin = make_admin(&mut data, org, &admin_email)?;
    check_fits(org, &data)?;
    let passwords = Passwords::new(options)?;

    let mut report = SeedReport {
        admin_email: Some(admin_email),
        ..SeedReport::default()
    };
    let groups = match write_groups(store, org, &data.groups, now) {
        Err(StoreError::Conflict { field }) if field == ROOT_TAKEN => {
            info!("Another process seeded the database at the same time; not seeding");
            return Ok(SeedReport {
                is_skipped: true,
                ..SeedReport::default()
            });
        }
        other => other?,
    };
    report.groups = groups.len();
    for (i, p) in data.people.iter().enumerate() {
        let password = if i == admin {
            Some(passwords.admin_hash.as_str())
        } else {
            passwords.demo_hash.as_deref()
        };
        write_person(store, org, &groups, p, password, now, &mut report)?;
    }
    if is_demo {
        report.events = events::write_events(store, org, &groups, now)?;
    }
    report.generated_admin_password = passwords.generated;
    info!(
        seed.groups = report.groups,
        seed.people = report.people,
        seed.roles = report.roles,
        seed.events = report.events,
        "Seeded the demo data: {} groups, {} people",
        report.groups,
        report.people
    );
    Ok(report)
}

fn check_passwords(options: &SeedOptions) -> Result<(), StoreError> {
    for (what, p) in [
        ("admin", &options.admin_password),
        ("demo", &options.demo_password),
    ] {
        if p.as_ref()
            .is_some_and(|p| !auth::PASSWORD_LENGTH.contains(&p.chars().count()))
        {
            return Err(StoreError::Rule(format!(
                "the {what} password must have 12 to 128 characters"
            )));
        }
    }
    Ok(())
}

/// The normalised admin email of the options, or the default one.
fn admin_email(options: &SeedOptions) -> Result<String, StoreError> {
    let Some(given) = &options.admin_email else {
        return Ok(DEFAULT_ADMIN_EMAIL.to_owned());
    };
    let mut v = Violations::default();
    match crate::validate::email(&mut v, "admin_email", Some(given.clone())) {
        Some(email) if v.is_empty() => Ok(email),
        _ => Err(StoreError::Rule(
            "the admin email is not a valid address".to_owned(),
        )),
    }
}

/// The password hashes to store: the administrator's and the shared one of
/// the other demo people.
struct Passwords {
    admin_hash: String,
    demo_hash: Option<String>,
    generated: Option<String>,
}

impl Passwords {
    fn new(options: &SeedOptions) -> Result<Passwords, StoreError> {
        let (admin, generated) = match &options.admin_password {
            Some(p) => (p.clone(), None),
            None => {
                let p = auth::generate_password();
                (p.clone(), Some(p))
            }
        };
        let demo_hash = options.demo_password.as_deref().map(hash).transpose()?;
        Ok(Passwords {
            admin_hash: hash(&admin)?,
            demo_hash,
            generated,
        })
    }
}

fn hash(password: &str) -> Result<String, StoreError> {
    auth::hash_password(password).map_err(|e| StoreError::Rule(format!("cannot hash: {e}")))
}

/// Gives the person with `email` the root type's admin role in the root
/// group, adding such a person if the demo has none; returns their index.
fn make_admin(data: &mut DemoData, org: &Organisation, email: &str) -> Result<usize, StoreError> {
    let root = org.root_type();
    let role_type = org
        .role_types_of(&root.key)
        .find(|r| r.has(Permission::Admin))
        .ok_or_else(|| StoreError::Rule(format!("root group type {} has no admin role", root.key)))?
        .key
        .clone();
    let root_key = data
        .groups
        .iter()
        .find(|g| g.parent.is_none())
        .map(|g| g.key.clone())
        .ok_or_else(|| StoreError::Rule("the demo data has no root group".to_owned()))?;
    let found = data
        .people
        .iter()
        .position(|p| p.fields.email.as_deref() == Some(email));
    let index = found.unwrap_or_else(|| {
        data.people.push(SeedPerson {
            fields: PersonPatch {
                nickname: email.split('@').next().map(str::to_owned),
                email: Some(email.to_owned()),
                ..PersonPatch::default()
            },
            roles: Vec::new(),
            phone_numbers: Vec::new(),
            additional_emails: Vec::new(),
        });
        data.people.len() - 1
    });
    let person = &mut data.people[index];
    let has_it = person
        .roles
        .iter()
        .any(|r| r.group == root_key && r.role_type == role_type && r.end_on.is_none());
    if !has_it {
        person.roles.insert(
            0,
            SeedRole {
                group: root_key,
                role_type,
                label: None,
                start_on: None,
                end_on: None,
            },
        );
    }
    Ok(index)
}

/// Checks, before anything is written, that the organisation has every
/// group type where the demo puts it and every role type the demo gives,
/// so that another definition fails cleanly instead of half seeded.
fn check_fits(org: &Organisation, data: &DemoData) -> Result<(), StoreError> {
    let misfit = |what: String| {
        StoreError::Rule(format!(
            "the demo data does not fit the organisation {}: {what}",
            org.name
        ))
    };
    let mut types: HashMap<String, String> = HashMap::new();
    for g in &data.groups {
        let fits = match &g.parent {
            None => org.root_type().key == g.group_type,
            Some(p) => types
                .get(p)
                .is_some_and(|pt| org.is_child_allowed(pt, &g.group_type)),
        };
        if !fits {
            return Err(misfit(format!(
                "no group type {} at {}",
                g.group_type, g.key
            )));
        }
        add_with_defaults(org, &g.key, &g.group_type, &mut types);
    }
    for r in data.people.iter().flat_map(|p| &p.roles) {
        if !types
            .get(&r.group)
            .is_some_and(|t| org.is_role_allowed(t, &r.role_type))
        {
            return Err(misfit(format!(
                "no role type {} in {}",
                r.role_type, r.group
            )));
        }
    }
    Ok(())
}

/// Records the type of the group `key` and, as `<key>/<Type>`, of the
/// default children that come with it. The loader refuses cycles among
/// default children, so this ends.
fn add_with_defaults(
    org: &Organisation,
    key: &str,
    group_type: &str,
    types: &mut HashMap<String, String>,
) {
    types.insert(key.to_owned(), group_type.to_owned());
    for child in org
        .group_type(group_type)
        .map(|g| g.default_children.as_slice())
        .unwrap_or_default()
    {
        add_with_defaults(org, &format!("{key}/{child}"), child, types);
    }
}

/// Creates the seed groups with their default children and returns every
/// created group under its key.
/// The conflict [`write_groups`] reports when another process created the
/// root group first.
const ROOT_TAKEN: &str = "root group";

fn write_groups(
    store: &dyn Store,
    org: &Organisation,
    seeds: &[SeedGroup],
    now: DateTime<Utc>,
) -> Result<HashMap<String, Group>, StoreError> {
    let mut by_key: HashMap<String, Group> = HashMap::new();
    let mut child_types: HashMap<GroupId, Vec<String>> = HashMap::new();
    for seed in seeds {
        let fields = seed
            .fields
            .clone()
            .validated(is_static(org, &seed.group_type))
            .map_err(|v| rule(&seed.key, &v))?;
        let (plan, permit) = match &seed.parent {
            None => (group::plan_root(org, fields), system(CreateGroup(None))),
            Some(parent_key) => {
                let parent = by_key
                    .get(parent_key)
                    .ok_or_else(|| rule(&seed.key, &"parent not created yet"))?;
                let siblings = child_types.get(&parent.id).cloned().unwrap_or_default();
                let plan = group::plan_create(org, parent, &siblings, &seed.group_type, fields)
                    .map_err(|e| rule(&seed.key, &e))?;
                (plan, system(CreateGroup(Some(parent.id))))
            }
        };
        let created = match store.create_groups(&permit, &plan, now) {
            Ok(created) => created,
            // Another process seeding the same empty database at once (two
            // web processes started together) made the root first; nothing
            // of ours is written yet.
            Err(StoreError::Rule(_))
                if seed.parent.is_none() && !store.all_groups()?.is_empty() =>
            {
                return Err(StoreError::Conflict {
                    field: ROOT_TAKEN.to_owned(),
                });
            }
            Err(e) => return Err(e),
        };
        let mut keys: Vec<String> = Vec::with_capacity(plan.len());
        for (i, (new, g)) in plan.iter().zip(&created).enumerate() {
            let key = match new.parent {
                PlanParent::Planned(j) if i > 0 => keys
                    .get(j)
                    .map(|k| format!("{k}/{}", new.group_type))
                    .unwrap_or_else(|| new.group_type.clone()),
                _ => seed.key.clone(),
            };
            if let Some(p) = g.parent_id {
                child_types.entry(p).or_default().push(g.group_type.clone());
            }
            keys.push(key.clone());
            by_key.insert(key, g.clone());
        }
    }
    Ok(by_key)
}

fn is_static(org: &Organisation, group_type: &str) -> bool {
    org.group_type(group_type).is_some_and(|g| g.is_static_name)
}

fn rule(what: &str, why: &dyn std::fmt::Display) -> StoreError {
    StoreError::Rule(format!("demo data {what}: {why}"))
}

/// Creates one person with roles, contact accounts and password.
fn write_person(
    store: &dyn Store,
    org: &Organisation,
    groups: &HashMap<String, Group>,
    seed: &SeedPerson,
    password_hash: Option<&str>,
    now: DateTime<Utc>,
    report: &mut SeedReport,
) -> Result<(), StoreError> {
    let what = format!("person {}", report.people + 1);
    let fields = seed
        .fields
        .clone()
        .validated(org)
        .map_err(|v| rule(&what, &v))?;
    let mut roles = seed.roles.iter();
    let first = roles
        .next()
        .ok_or_else(|| rule(&what, &"a person needs a role"))?;
    let (group, new_role) = resolve_role(org, groups, first, PersonId(0), now, &what)?;
    let permit = system(CreatePerson {
        group_id: group.id,
        role_type: new_role.role_type.clone(),
    });
    let created = created_at(&new_role, now);
    let (person, _) = store.create_person(&permit, &fields, &new_role, created)?;
    report.people += 1;
    report.roles += 1;

    for r in roles {
        let (group, new_role) = resolve_role(org, groups, r, person.id, now, &what)?;
        let permit = system(CreateRole {
            group_id: group.id,
            person_id: person.id,
            role_type: new_role.role_type.clone(),
        });
        store.create_role(&permit, &new_role, created_at(&new_role, now))?;
        report.roles += 1;
    }
    write_contacts(store, person.id, seed, &what, report)?;
    if let (Some(hash), Some(_)) = (password_hash, &person.email) {
        store.set_password_hash(&system(SetPassword(person.id)), hash, now)?;
    }
    Ok(())
}

/// When a demo role was "created": the morning of its first day, as if
/// it had been entered then. With `now` instead, every seeded role would be
/// younger than a week and removing one would delete it rather than end it
/// (section 3.5).
fn created_at(role: &NewRole, now: DateTime<Utc>) -> DateTime<Utc> {
    role.start_on
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .map(|t| t.and_utc())
        .filter(|t| *t < now)
        .unwrap_or(now)
}

fn resolve_role<'g>(
    org: &Organisation,
    groups: &'g HashMap<String, Group>,
    seed: &SeedRole,
    person_id: PersonId,
    now: DateTime<Utc>,
    what: &str,
) -> Result<(&'g Group, NewRole), StoreError> {
    let group = groups
        .get(&seed.group)
        .ok_or_else(|| rule(what, &format!("unknown group {}", seed.group)))?;
    let role = NewRole {
        person_id,
        group_id: group.id,
        role_type: seed.role_type.clone(),
        label: seed.label.clone(),
        start_on: seed.start_on,
        end_on: seed.end_on,
    }
    .validated(org, group, now.date_naive())
    .map_err(|v| rule(what, &v))?;
    Ok((group, role))
}

fn write_contacts(
    store: &dyn Store,
    person_id: PersonId,
    seed: &SeedPerson,
    what: &str,
    report: &mut SeedReport,
) -> Result<(), StoreError> {
    let permit = system(UpdatePerson(person_id));
    for phone in &seed.phone_numbers {
        let input = phone
            .clone()
            .validated_phone()
            .map_err(|v| rule(what, &v))?;
        store.add_phone_number(&permit, &input)?;
        report.contacts += 1;
    }
    for email in &seed.additional_emails {
        let input = email
            .clone()
            .validated_email()
            .map_err(|v| rule(what, &v))?;
        store.add_additional_email(&permit, &input)?;
        report.contacts += 1;
    }
    Ok(())
}

// ---------------------------------------------------------------- the data

/// The demo groups and people for `org` (the demo federation) on `today`.
///
/// Deterministic: a fixed random seed picks names, towns, birthdays and role
/// dates, so every start on the same day produces the same data. The groups
/// are those of section 15 plus a contacts group in each club and a seniors
/// subgroup in Club Alpha's members, so external and nested roles exist too.
/// Role keys are taken as the demo federation spells them; `org` supplies
/// the languages people may have.
pub fn demo_data(org: &Organisation, today: NaiveDate) -> DemoData {
    let mut generator = Generator::new(org, today);
    let mut people = named_people(today);
    for p in &people {
        if let Some(e) = &p.fields.email {
            generator.emails.insert(e.clone());
        }
    }
    for &(group, role_type, count, age) in CROWD {
        for _ in 0..count {
            people.push(generator.person(group, role_type, age));
        }
    }
    generator.add_history(&mut people);
    DemoData {
        groups: seed_groups(),
        people,
    }
}

/// The seed for an organisation other than the demo federation: its root
/// group, named after the organisation, and no people (the administrator
/// is added by [`make_admin`]).
fn root_only(org: &Organisation) -> DemoData {
    let root = SeedGroup {
        key: "ROOT".to_owned(),
        parent: None,
        group_type: org.root_type().key.clone(),
        fields: GroupPatch {
            name: Some(org.name.clone()),
            ..GroupPatch::default()
        },
    };
    DemoData {
        groups: vec![root],
        people: Vec::new(),
    }
}

fn seed_groups() -> Vec<SeedGroup> {
    let g = |key: &str, parent: Option<&str>, group_type: &str, name: &str, town: Option<Town>| {
        SeedGroup {
            key: key.to_owned(),
            parent: parent.map(str::to_owned),
            group_type: group_type.to_owned(),
            fields: GroupPatch {
                name: Some(name.to_owned()),
                address: town
                    .map(|t| t.address("Bahnhofstrasse", "1"))
                    .unwrap_or_default(),
                ..GroupPatch::default()
            },
        }
    };
    let mut root = g("DF", None, "Federation", "Demo Federation", Some(BERN));
    root.fields.email = Some("info@demo.example".to_owned());
    root.fields.short_name = Some("DF".to_owned());
    vec![
        root,
        g("RN", Some("DF"), "Region", "Region North", Some(WINTERTHUR)),
        g("RS", Some("DF"), "Region", "Region South", Some(LUZERN)),
        g("CA", Some("RN"), "Club", "Club Alpha", Some(WINTERTHUR)),
        g("CB", Some("RN"), "Club", "Club Beta", Some(SCHAFFHAUSEN)),
        g("CG", Some("RS"), "Club", "Club Gamma", Some(LUZERN)),
        g("TC", Some("DF"), "Committee", "Training committee", None),
        g(
            "CAS",
            Some("CA/ClubMembers"),
            "ClubMembers",
            "Seniors",
            None,
        ),
        g("CAC", Some("CA"), "ClubContacts", "Sponsors", None),
        g("CBC", Some("CB"), "ClubContacts", "Contacts", None),
        g("CGC", Some("CG"), "ClubContacts", "Partners", None),
    ]
}

/// The people section 15 names, who the scenarios and tests rely on.
fn named_people(today: NaiveDate) -> Vec<SeedPerson> {
    let since = |years: u64| today.checked_sub_days(Days::new(years * 365));
    let person = |first: &str, last: &str, email: Option<&str>, gender: &str| PersonPatch {
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        email: email.map(str::to_owned),
        gender: Some(gender.to_owned()),
        language: Some("en".to_owned()),
        ..PersonPatch::default()
    };
    let role = |group: &str, role_type: &str, years: u64| SeedRole {
        group: group.to_owned(),
        role_type: role_type.to_owned(),
        label: None,
        start_on: since(years),
        end_on: None,
    };
    let seed = |fields: PersonPatch, role: SeedRole, town: Town, street: &str| SeedPerson {
        fields: PersonPatch {
            address: town.address(street, "12"),
            ..fields
        },
        roles: vec![role],
        phone_numbers: Vec::new(),
        additional_emails: Vec::new(),
    };
    let mut jan = person("Jan", "Junior", None, "m");
    jan.birthday = NaiveDate::from_ymd_opt(2012, 5, 1);
    jan.language = Some("de".to_owned());
    let mut pia = person("Pia", "Passive", None, "w");
    pia.language = Some("de".to_owned());
    vec![
        seed(
            person("Ada", "Admin", Some(DEFAULT_ADMIN_EMAIL), "w"),
            role("DF", "Federation.Administrator", 6),
            BERN,
            "Bundesgasse",
        ),
        seed(
            person("Otto", "Office", Some("office@demo.example"), "m"),
            role("DF/FederationOffice", "FederationOffice.Manager", 5),
            BERN,
            "Länggassstrasse",
        ),
        seed(
            person("Nora", "North", Some("north@demo.example"), "w"),
            role("RN", "Region.Coordinator", 4),
            WINTERTHUR,
            "Technikumstrasse",
        ),
        seed(
            person("Alex", "Alpha", Some("alpha@demo.example"), "m"),
            role("CA", "Club.ClubLeader", 3),
            WINTERTHUR,
            "Marktgasse",
        ),
        seed(
            person("Tina", "Trainer", Some("trainer@demo.example"), "w"),
            role("CA/ClubMembers", "ClubMembers.Trainer", 2),
            WINTERTHUR,
            "Rosenweg",
        ),
        seed(
            jan,
            role("CA/ClubMembers", "ClubMembers.Junior", 3),
            WINTERTHUR,
            "Schulhausstrasse",
        ),
        seed(
            pia,
            role("CB/ClubMembers", "ClubMembers.Passive", 2),
            SCHAFFHAUSEN,
            "Vordergasse",
        ),
    ]
}

/// How old a generated person is, which decides birthday and email.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Age {
    Junior,
    Adult,
    Senior,
}

/// The generated crowd: group key, role type, how many, age group. With
/// the seven named people this makes two hundred.
const CROWD: &[(&str, &str, usize, Age)] = &[
    (
        "DF/FederationBoard",
        "FederationBoard.President",
        1,
        Age::Adult,
    ),
    (
        "DF/FederationBoard",
        "FederationBoard.Treasurer",
        1,
        Age::Adult,
    ),
    (
        "DF/FederationBoard",
        "FederationBoard.BoardMember",
        3,
        Age::Adult,
    ),
    (
        "DF/FederationOffice",
        "FederationOffice.Staff",
        3,
        Age::Adult,
    ),
    (
        "DF/FederationMembers",
        "FederationMembers.AddressManager",
        1,
        Age::Adult,
    ),
    (
        "DF/FederationMembers",
        "FederationMembers.Member",
        8,
        Age::Adult,
    ),
    (
        "DF/FederationMembers",
        "FederationMembers.Passive",
        3,
        Age::Senior,
    ),
    ("TC", "Committee.CommitteeLead", 1, Age::Adult),
    ("TC", "Committee.CommitteeMember", 3, Age::Adult),
    ("RN", "Region.Auditor", 1, Age::Adult),
    ("RN/RegionBoard", "RegionBoard.President", 1, Age::Adult),
    ("RN/RegionBoard", "RegionBoard.BoardMember", 2, Age::Adult),
    ("RN/RegionMembers", "RegionMembers.Member", 4, Age::Adult),
    ("RN/RegionMembers", "RegionMembers.Passive", 1, Age::Senior),
    ("RS", "Region.Coordinator", 1, Age::Adult),
    ("RS/RegionBoard", "RegionBoard.President", 1, Age::Adult),
    ("RS/RegionBoard", "RegionBoard.BoardMember", 2, Age::Adult),
    ("RS/RegionMembers", "RegionMembers.Member", 3, Age::Adult),
    ("CA/ClubBoard", "ClubBoard.President", 1, Age::Adult),
    ("CA/ClubBoard", "ClubBoard.Treasurer", 1, Age::Adult),
    ("CA/ClubBoard", "ClubBoard.BoardMember", 2, Age::Adult),
    ("CA/ClubMembers", "ClubMembers.Trainer", 2, Age::Adult),
    ("CA/ClubMembers", "ClubMembers.Active", 26, Age::Adult),
    ("CA/ClubMembers", "ClubMembers.Junior", 18, Age::Junior),
    ("CA/ClubMembers", "ClubMembers.Passive", 4, Age::Senior),
    ("CAS", "ClubMembers.Active", 6, Age::Senior),
    ("CAC", "ClubContacts.Contact", 3, Age::Adult),
    ("CB", "Club.ClubLeader", 1, Age::Adult),
    ("CB/ClubBoard", "ClubBoard.President", 1, Age::Adult),
    ("CB/ClubBoard", "ClubBoard.Treasurer", 1, Age::Adult),
    ("CB/ClubBoard", "ClubBoard.BoardMember", 1, Age::Adult),
    ("CB/ClubMembers", "ClubMembers.Trainer", 2, Age::Adult),
    ("CB/ClubMembers", "ClubMembers.Active", 24, Age::Adult),
    ("CB/ClubMembers", "ClubMembers.Junior", 12, Age::Junior),
    ("CB/ClubMembers", "ClubMembers.Passive", 3, Age::Senior),
    ("CBC", "ClubContacts.Contact", 2, Age::Adult),
    ("CG", "Club.ClubLeader", 1, Age::Adult),
    ("CG/ClubBoard", "ClubBoard.President", 1, Age::Adult),
    ("CG/ClubBoard", "ClubBoard.Treasurer", 1, Age::Adult),
    ("CG/ClubBoard", "ClubBoard.BoardMember", 1, Age::Adult),
    ("CG/ClubMembers", "ClubMembers.Trainer", 2, Age::Adult),
    ("CG/ClubMembers", "ClubMembers.Active", 19, Age::Adult),
    ("CG/ClubMembers", "ClubMembers.Junior", 12, Age::Junior),
    ("CG/ClubMembers", "ClubMembers.Passive", 3, Age::Senior),
    ("CGC", "ClubContacts.Contact", 3, Age::Adult),
];

/// A Swiss town: zip code, name and the landline area code.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Town(
    pub(crate) &'static str,
    pub(crate) &'static str,
    pub(crate) &'static str,
);

impl Town {
    pub(crate) fn address(self, street: &str, number: &str) -> Address {
        Address {
            street: Some(street.to_owned()),
            housenumber: Some(number.to_owned()),
            zip_code: Some(self.0.to_owned()),
            town: Some(self.1.to_owned()),
            country: Some("CH".to_owned()),
            ..Address::default()
        }
    }
}

pub(crate) const BERN: Town = Town("3011", "Bern", "31");
pub(crate) const WINTERTHUR: Town = Town("8400", "Winterthur", "52");
pub(crate) const SCHAFFHAUSEN: Town = Town("8200", "Schaffhausen", "52");
pub(crate) const LUZERN: Town = Town("6003", "Luzern", "41");

pub(crate) const TOWNS_FEDERATION: &[Town] = &[
    BERN,
    Town("3012", "Bern", "31"),
    Town("3014", "Bern", "31"),
    Town("3063", "Ittigen", "31"),
    Town("3084", "Wabern", "31"),
    Town("3400", "Burgdorf", "34"),
    Town("3600", "Thun", "33"),
    Town("8005", "Zürich", "44"),
    Town("8048", "Zürich", "44"),
    Town("4051", "Basel", "61"),
    Town("9000", "St. Gallen", "71"),
    Town("5000", "Aarau", "62"),
    Town("7000", "Chur", "81"),
    Town("1700", "Fribourg", "26"),
    Town("2502", "Biel/Bienne", "32"),
];
pub(crate) const TOWNS_WINTERTHUR: &[Town] = &[
    WINTERTHUR,
    Town("8404", "Winterthur", "52"),
    Town("8408", "Winterthur", "52"),
    Town("8472", "Seuzach", "52"),
    Town("8442", "Hettlingen", "52"),
    Town("8353", "Elgg", "52"),
    Town("8302", "Kloten", "44"),
    Town("8307", "Effretikon", "52"),
];
pub(crate) const TOWNS_SCHAFFHAUSEN: &[Town] = &[
    SCHAFFHAUSEN,
    Town("8203", "Schaffhausen", "52"),
    Town("8212", "Neuhausen am Rheinfall", "52"),
    Town("8222", "Beringen", "52"),
    Town("8240", "Thayngen", "52"),
    Town("8260", "Stein am Rhein", "52"),
];
pub(crate) const TOWNS_LUZERN: &[Town] = &[
    LUZERN,
    Town("6004", "Luzern", "41"),
    Town("6010", "Kriens", "41"),
    Town("6020", "Emmenbrücke", "41"),
    Town("6030", "Ebikon", "41"),
    Town("6045", "Meggen", "41"),
    Town("6210", "Sursee", "41"),
    Town("6300", "Zug", "41"),
];

pub(crate) const STREETS: &[&str] = &[
    "Bahnhofstrasse",
    "Dorfstrasse",
    "Hauptstrasse",
    "Kirchgasse",
    "Seestrasse",
    "Gartenstrasse",
    "Schulhausstrasse",
    "Rosenweg",
    "Lindenstrasse",
    "Mühlegasse",
    "Bergstrasse",
    "Sonnenbergstrasse",
    "Im Grüt",
    "Zürcherstrasse",
    "Alpenblickweg",
    "Föhrenweg",
    "Bündtenweg",
    "Rütistrasse",
    "Obere Gasse",
    "Weiherstrasse",
    "Käsereiweg",
    "Brückenstrasse",
    "Tödistrasse",
    "Säntisstrasse",
];

pub(crate) const MEN: &[&str] = &[
    "Jürg",
    "Ueli",
    "Beat",
    "Reto",
    "Lukas",
    "Matthias",
    "Andreas",
    "Stefan",
    "Thomas",
    "Daniel",
    "Martin",
    "Urs",
    "Peter",
    "Marco",
    "Simon",
    "Fabian",
    "Michael",
    "Christoph",
    "Adrian",
    "Patrick",
    "Roger",
    "Samuel",
    "Hansruedi",
    "Köbi",
    "René",
    "Jérôme",
    "Sämi",
    "Ruedi",
];
pub(crate) const WOMEN: &[&str] = &[
    "Anna",
    "Barbara",
    "Claudia",
    "Daniela",
    "Esther",
    "Franziska",
    "Gabriela",
    "Heidi",
    "Irène",
    "Julia",
    "Katharina",
    "Lea",
    "Nadine",
    "Petra",
    "Regula",
    "Sandra",
    "Tanja",
    "Ursula",
    "Verena",
    "Yvonne",
    "Mägi",
    "Vreni",
    "Rösli",
    "Chantal",
    "Sophie",
    "Séverine",
    "Brigitte",
];
pub(crate) const BOYS: &[&str] = &[
    "Noah", "Liam", "Luca", "Elias", "Leon", "Levin", "Nico", "Jonas", "Julian", "Gian", "Lenny",
    "Matteo", "Ben", "Finn", "Timo", "Aurel", "Jaël", "Loïc", "Dario", "Silvan",
];
pub(crate) const GIRLS: &[&str] = &[
    "Mia", "Emma", "Lina", "Lia", "Elena", "Sofia", "Lara", "Alina", "Zoé", "Leonie", "Malea",
    "Ronja", "Jana", "Anouk", "Chiara", "Anaïs", "Joëlle", "Mila", "Nina", "Sina",
];
pub(crate) const LAST_NAMES: &[&str] = &[
    "Müller",
    "Meier",
    "Schmid",
    "Keller",
    "Weber",
    "Huber",
    "Schneider",
    "Steiner",
    "Fischer",
    "Gerber",
    "Brunner",
    "Baumann",
    "Frei",
    "Zimmermann",
    "Moser",
    "Widmer",
    "Wyss",
    "Graf",
    "Roth",
    "Bachmann",
    "Kälin",
    "Lüthi",
    "Bühler",
    "Hofer",
    "Schärer",
    "Zürcher",
    "Häfliger",
    "Nüesch",
    "Brönnimann",
    "Künzli",
    "Rüegg",
    "Schläpfer",
    "Würgler",
    "Jäggi",
    "Bösch",
    "Tschümperlin",
    "Stöckli",
    "Gisler",
    "Aebischer",
    "Ammann",
    "Egli",
    "Furrer",
    "Gasser",
    "Imhof",
    "Kündig",
    "Lehmann",
    "Marti",
    "Niederberger",
    "Odermatt",
    "Pfister",
    "Suter",
    "Vogel",
    "Wälti",
    "Zbinden",
    "Aeschlimann",
    "Blättler",
    "Dällenbach",
    "Gächter",
];
pub(crate) const MAIL_DOMAINS: &[&str] = &[
    "mail.example",
    "post.example",
    "demo.example",
    "web.example",
];

/// The random choices behind the generated people.
struct Generator<'o> {
    rng: StdRng,
    today: NaiveDate,
    org: &'o Organisation,
    emails: HashSet<String>,
}

impl<'o> Generator<'o> {
    fn new(org: &'o Organisation, today: NaiveDate) -> Generator<'o> {
        Generator {
            rng: StdRng::seed_from_u64(RNG_SEED),
            today,
            org,
            emails: HashSet::new(),
        }
    }

    fn pick<T: Copy>(&mut self, list: &[T]) -> T {
        list[self.rng.gen_range(0..list.len())]
    }

    fn person(&mut self, group: &str, role_type: &str, age: Age) -> SeedPerson {
        let is_female = self.rng.gen_bool(0.5);
        let first = match (age, is_female) {
            (Age::Junior, true) => self.pick(GIRLS),
            (Age::Junior, false) => self.pick(BOYS),
            (_, true) => self.pick(WOMEN),
            (_, false) => self.pick(MEN),
        };
        let last = self.pick(LAST_NAMES);
        let birthday = self.birthday(age);
        let has_email = match age {
            Age::Adult => self.rng.gen_bool(0.92),
            Age::Senior => self.rng.gen_bool(0.7),
            Age::Junior => birthday.year() <= 2009 && self.rng.gen_bool(0.7),
        };
        let town = self.town(group);
        let fields = PersonPatch {
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            email: has_email.then(|| self.email(first, last)),
            address: self.address(town),
            gender: (!self.rng.gen_bool(0.03)).then(|| if is_female { "w" } else { "m" }.into()),
            birthday: Some(birthday),
            language: Some(self.language()),
            ..PersonPatch::default()
        };
        let role = SeedRole {
            group: group.to_owned(),
            role_type: role_type.to_owned(),
            label: None,
            start_on: Some(self.start_on(age)),
            end_on: None,
        };
        let (phone_numbers, additional_emails) = self.contacts(age, has_email, first, last, town);
        SeedPerson {
            fields,
            roles: vec![role],
            phone_numbers,
            additional_emails,
        }
    }

    fn birthday(&mut self, age: Age) -> NaiveDate {
        let years = match age {
            Age::Junior => 2008..=2016,
            Age::Adult => 1962..=2003,
            Age::Senior => 1938..=1961,
        };
        let year = self.rng.gen_range(years);
        let day = self.rng.gen_range(1..=365);
        NaiveDate::from_yo_opt(year, day).unwrap_or(self.today)
    }

    fn town(&mut self, group: &str) -> Town {
        let towns = match group.split('/').next().unwrap_or(group) {
            "CA" | "CAS" | "CAC" => TOWNS_WINTERTHUR,
            "CB" | "CBC" => TOWNS_SCHAFFHAUSEN,
            "RN" if self.rng.gen_bool(0.5) => TOWNS_SCHAFFHAUSEN,
            "RN" => TOWNS_WINTERTHUR,
            "CG" | "CGC" | "RS" => TOWNS_LUZERN,
            _ => TOWNS_FEDERATION,
        };
        self.pick(towns)
    }

    fn address(&mut self, town: Town) -> Address {
        let street = self.pick(STREETS);
        let mut number = self.rng.gen_range(1..=120).to_string();
        if self.rng.gen_bool(0.1) {
            number.push('a');
        }
        town.address(street, &number)
    }

    fn language(&mut self) -> String {
        let wanted = if self.rng.gen_bool(0.85) { "de" } else { "en" };
        if self.org.languages.iter().any(|l| l == wanted) {
            wanted.to_owned()
        } else {
            self.org.default_language().to_owned()
        }
    }

    /// A unique address made of the names, folded to ASCII.
    fn email(&mut self, first: &str, last: &str) -> String {
        let domain = self.pick(MAIL_DOMAINS);
        let base = format!("{}.{}", ascii_fold(first), ascii_fold(last));
        let mut candidate = format!("{base}@{domain}");
        let mut n = 2;
        while !self.emails.insert(candidate.clone()) {
            candidate = format!("{base}{n}@{domain}");
            n += 1;
        }
        candidate
    }

    /// The first day of the role: adults joined up to 15 years ago,
    /// juniors up to 4.
    fn start_on(&mut self, age: Age) -> NaiveDate {
        let days = match age {
            Age::Junior => self.rng.gen_range(30..=4 * 365),
            _ => self.rng.gen_range(60..=15 * 365),
        };
        self.days_ago(days)
    }

    fn days_ago(&self, days: u64) -> NaiveDate {
        self.today
            .checked_sub_days(Days::new(days))
            .unwrap_or(self.today)
    }

    fn contacts(
        &mut self,
        age: Age,
        has_email: bool,
        first: &str,
        last: &str,
        town: Town,
    ) -> (Vec<ContactInput>, Vec<ContactInput>) {
        let mut phones = Vec::new();
        let mut emails = Vec::new();
        if age != Age::Junior && self.rng.gen_bool(0.45) {
            phones.push(self.phone("Mobil", None));
        }
        if self.rng.gen_bool(0.15) {
            phones.push(self.phone("Privat", Some(town.2)));
        }
        if age == Age::Adult && has_email && self.rng.gen_bool(0.08) {
            emails.push(self.contact_email("Arbeit", first, last, "work.example", false));
        }
        if age == Age::Junior && !has_email && self.rng.gen_bool(0.4) {
            let (label, parent) = if self.rng.gen_bool(0.6) {
                ("Mutter", self.pick(WOMEN))
            } else {
                ("Vater", self.pick(MEN))
            };
            emails.push(self.contact_email(label, parent, last, "mail.example", true));
            if self.rng.gen_bool(0.5) {
                phones.push(self.phone(label, None));
            }
        }
        (phones, emails)
    }

    fn phone(&mut self, label: &str, area: Option<&str>) -> ContactInput {
        let prefix = area.map_or_else(|| format!("7{}", self.rng.gen_range(6..=9)), str::to_owned);
        let number = format!(
            "+41 {prefix} {:03} {:02} {:02}",
            self.rng.gen_range(100..1000),
            self.rng.gen_range(0..100),
            self.rng.gen_range(0..100)
        );
        ContactInput {
            value: number,
            label: label.to_owned(),
            is_public: self.rng.gen_bool(0.7),
            is_mailing: false,
        }
    }

    fn contact_email(
        &mut self,
        label: &str,
        first: &str,
        last: &str,
        domain: &str,
        is_mailing: bool,
    ) -> ContactInput {
        ContactInput {
            value: format!("{}.{}@{domain}", ascii_fold(first), ascii_fold(last)),
            label: label.to_owned(),
            is_public: false,
            is_mailing,
        }
    }

    /// Adds the history a real club has: passive members who used to be
    /// active, a few club members in the training committee, and one board
    /// member whose federation role starts next month.
    fn add_history(&mut self, people: &mut [SeedPerson]) {
        for p in people.iter_mut() {
            let Some(first) = p.roles.first().cloned() else {
                continue;
            };
            if first.role_type == "ClubMembers.Passive" {
                let ended = self.ended_active(&first);
                p.roles.push(ended);
            } else if first.role_type == "ClubMembers.Active"
                && first.group.ends_with("/ClubMembers")
                && self.rng.gen_bool(0.05)
            {
                p.roles.push(SeedRole {
                    group: "TC".to_owned(),
                    role_type: "Committee.CommitteeMember".to_owned(),
                    label: Some("Youth".to_owned()),
                    start_on: Some(self.start_on(Age::Adult)),
                    end_on: None,
                });
            }
        }
        let future = people.iter_mut().find(|p| {
            p.roles
                .first()
                .is_some_and(|r| r.role_type == "RegionBoard.President")
        });
        if let Some(p) = future {
            p.roles.push(SeedRole {
                group: "DF/FederationBoard".to_owned(),
                role_type: "FederationBoard.BoardMember".to_owned(),
                label: None,
                start_on: self.today.checked_add_days(Days::new(30)),
                end_on: None,
            });
        }
    }

    /// The active membership a passive member held before: it lasted two
    /// to ten years and ended the day before the passive one began.
    fn ended_active(&mut self, passive: &SeedRole) -> SeedRole {
        let passive_start = passive.start_on.unwrap_or(self.today);
        let end = passive_start.pred_opt().unwrap_or(passive_start);
        let years = self.rng.gen_range(2 * 365..=10 * 365);
        SeedRole {
            group: passive.group.clone(),
            role_type: "ClubMembers.Active".to_owned(),
            label: None,
            start_on: Some(end.checked_sub_days(Days::new(years)).unwrap_or(end)),
            end_on: Some(end),
        }
    }
}

/// Lower-case ASCII for an email's local part: umlauts become `ae`, `oe`,
/// `ue`, accents are dropped, anything else that is not a letter goes.
pub(crate) fn ascii_fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.to_lowercase().chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'à' | 'á' | 'â' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'ï' | 'î' => out.push('i'),
            'ô' => out.push('o'),
            'ç' => out.push('c'),
            c if c.is_ascii_alphanumeric() => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::TimeZone;

    use super::*;
    use crate::org::RoleKind;

    fn org() -> Organisation {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo-federation.toml");
        Organisation::from_file(&path).expect("demo federation loads")
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 2, 8, 0, 0)
            .single()
            .expect("valid time")
    }

    fn today() -> NaiveDate {
        now().date_naive()
    }

    fn data() -> DemoData {
        demo_data(&org(), today())
    }

    fn named<'d>(data: &'d DemoData, first: &str, last: &str) -> &'d SeedPerson {
        data.people
            .iter()
            .find(|p| {
                p.fields.first_name.as_deref() == Some(first)
                    && p.fields.last_name.as_deref() == Some(last)
            })
            .unwrap_or_else(|| panic!("{first} {last} is seeded"))
    }

    /// The group type of a role's group key: a seed group's type, or the
    /// type named after the slash of a default child key.
    fn type_of(data: &DemoData, key: &str) -> String {
        match data.groups.iter().find(|g| g.key == key) {
            Some(g) => g.group_type.clone(),
            None => key.rsplit('/').next().expect("key").to_owned(),
        }
    }

    fn all_roles(data: &DemoData) -> impl Iterator<Item = &SeedRole> {
        data.people.iter().flat_map(|p| &p.roles)
    }

    #[test]
    fn same_day_gives_the_same_data() {
        assert_eq!(data(), data());
    }

    #[test]
    fn demo_has_two_hundred_people() {
        assert_eq!(data().people.len(), 200);
    }

    #[test]
    fn groups_are_those_of_section_15_plus_contacts_and_seniors() {
        let data = data();
        let names: Vec<&str> = data
            .groups
            .iter()
            .filter_map(|g| g.fields.name.as_deref())
            .collect();
        for name in [
            "Demo Federation",
            "Region North",
            "Region South",
            "Club Alpha",
            "Club Beta",
            "Club Gamma",
            "Training committee",
        ] {
            assert!(names.contains(&name), "{name}");
        }
        assert_eq!(data.groups[0].parent, None);
        assert_eq!(
            data.groups[0].fields.email.as_deref(),
            Some("info@demo.example")
        );
    }

    #[test]
    fn parents_come_before_their_children_and_types_are_allowed() {
        let org = org();
        let data = data();
        for (i, g) in data.groups.iter().enumerate().skip(1) {
            let parent = g.parent.as_deref().expect("only the root lacks a parent");
            let root_key = parent.split('/').next().expect("key");
            let pos = data.groups.iter().position(|p| p.key == root_key);
            assert!(pos.is_some_and(|p| p < i), "{} before {}", parent, g.key);
            let parent_type = type_of(&data, parent);
            assert!(
                org.is_child_allowed(&parent_type, &g.group_type),
                "{} below {parent_type}",
                g.group_type
            );
        }
    }

    #[test]
    fn named_people_have_their_roles() {
        let data = data();
        let cases = [
            (
                "Ada",
                "Admin",
                Some("admin@demo.example"),
                "DF",
                "Federation.Administrator",
            ),
            (
                "Otto",
                "Office",
                Some("office@demo.example"),
                "DF/FederationOffice",
                "FederationOffice.Manager",
            ),
            (
                "Nora",
                "North",
                Some("north@demo.example"),
                "RN",
                "Region.Coordinator",
            ),
            (
                "Alex",
                "Alpha",
                Some("alpha@demo.example"),
                "CA",
                "Club.ClubLeader",
            ),
            (
                "Tina",
                "Trainer",
                Some("trainer@demo.example"),
                "CA/ClubMembers",
                "ClubMembers.Trainer",
            ),
            (
                "Jan",
                "Junior",
                None,
                "CA/ClubMembers",
                "ClubMembers.Junior",
            ),
            (
                "Pia",
                "Passive",
                None,
                "CB/ClubMembers",
                "ClubMembers.Passive",
            ),
        ];
        for (first, last, email, group, role_type) in cases {
            let p = named(&data, first, last);
            assert_eq!(p.fields.email.as_deref(), email, "{first}");
            let role = &p.roles[0];
            assert_eq!(
                (role.group.as_str(), role.role_type.as_str()),
                (group, role_type)
            );
            assert!(role.start_on.is_some_and(|s| s < today()), "{first}");
        }
        let jan = named(&data, "Jan", "Junior");
        assert_eq!(jan.fields.birthday, NaiveDate::from_ymd_opt(2012, 5, 1));
    }

    #[test]
    fn every_role_fits_its_group_type() {
        let org = org();
        let data = data();
        for r in all_roles(&data) {
            let group_type = type_of(&data, &r.group);
            assert!(
                org.is_role_allowed(&group_type, &r.role_type),
                "{} in {}",
                r.role_type,
                r.group
            );
        }
    }

    #[test]
    fn every_person_and_contact_passes_validation() {
        let org = org();
        for p in data().people {
            p.fields.clone().validated(&org).expect("valid person");
            for phone in p.phone_numbers {
                phone.validated_phone().expect("valid phone");
            }
            for email in p.additional_emails {
                email.validated_email().expect("valid email");
            }
            for r in &p.roles {
                if let (Some(s), Some(e)) = (r.start_on, r.end_on) {
                    assert!(s <= e);
                }
            }
        }
    }

    #[test]
    fn emails_are_unique() {
        let data = data();
        let emails: Vec<&str> = data
            .people
            .iter()
            .filter_map(|p| p.fields.email.as_deref())
            .collect();
        let unique: HashSet<&str> = emails.iter().copied().collect();
        assert_eq!(emails.len(), unique.len());
        assert!(
            emails.len() > 130,
            "most people have an email: {}",
            emails.len()
        );
        assert!(emails.iter().all(|e| e.is_ascii()));
    }

    #[test]
    fn juniors_are_born_2008_to_2016_and_mostly_lack_email() {
        let data = data();
        let juniors: Vec<&SeedPerson> = data
            .people
            .iter()
            .filter(|p| p.roles[0].role_type == "ClubMembers.Junior")
            .collect();
        assert_eq!(juniors.len(), 43);
        for j in &juniors {
            let year = j.fields.birthday.expect("birthday").year();
            assert!((2008..=2016).contains(&year), "{year}");
        }
        let without = juniors.iter().filter(|j| j.fields.email.is_none()).count();
        assert!(without > juniors.len() / 2);
    }

    #[test]
    fn people_are_spread_mostly_over_club_members() {
        let org = org();
        let data = data();
        let in_members = data
            .people
            .iter()
            .filter(|p| type_of(&data, &p.roles[0].group) == "ClubMembers")
            .count();
        assert!(in_members > 120, "{in_members}");
        let kind_count = |kind: RoleKind| {
            data.people
                .iter()
                .filter(|p| org.role_type(&p.roles[0].role_type).map(|t| t.kind) == Some(kind))
                .count()
        };
        assert_eq!(kind_count(RoleKind::External), 8);
        assert_eq!(kind_count(RoleKind::Passive), 15);
    }

    #[test]
    fn names_and_towns_are_swiss() {
        let data = data();
        let has_umlaut =
            |s: &Option<String>| s.as_deref().is_some_and(|s| s.contains(['ä', 'ö', 'ü']));
        let count = data
            .people
            .iter()
            .filter(|p| has_umlaut(&p.fields.first_name) || has_umlaut(&p.fields.last_name))
            .count();
        assert!(count > 20, "{count}");
        for p in &data.people {
            let a = &p.fields.address;
            assert_eq!(a.country.as_deref(), Some("CH"));
            assert!(a.zip_code.as_deref().is_some_and(|z| z.len() == 4));
            assert!(a.town.is_some() && a.street.is_some());
        }
    }

    #[test]
    fn some_people_have_phones_and_additional_emails() {
        let data = data();
        let phones: usize = data.people.iter().map(|p| p.phone_numbers.len()).sum();
        let emails: usize = data.people.iter().map(|p| p.additional_emails.len()).sum();
        assert!((40..120).contains(&phones), "{phones}");
        assert!((5..40).contains(&emails), "{emails}");
    }

    #[test]
    fn history_has_ended_roles_and_one_future_role() {
        let data = data();
        let ended = all_roles(&data)
            .filter(|r| r.end_on.is_some_and(|e| e < today()))
            .count();
        assert!((5..=20).contains(&ended), "{ended}");
        let future: Vec<&SeedRole> = all_roles(&data)
            .filter(|r| r.start_on.is_some_and(|s| s > today()))
            .collect();
        assert_eq!(future.len(), 1);
        assert_eq!(future[0].role_type, "FederationBoard.BoardMember");
        let passive = named(&data, "Pia", "Passive");
        assert_eq!(passive.roles[1].role_type, "ClubMembers.Active");
        assert!(passive.roles[1].end_on.is_some());
    }

    #[test]
    fn demo_data_fits_the_demo_federation() {
        let org = org();
        let mut data = data();
        make_admin(&mut data, &org, "boss@club.example").expect("admin");
        assert!(check_fits(&org, &data).is_ok());
    }

    #[test]
    fn unknown_role_type_does_not_fit() {
        let org = org();
        let mut data = data();
        data.people[3].roles[0].role_type = "Club.Captain".to_owned();
        let Err(StoreError::Rule(message)) = check_fits(&org, &data) else {
            panic!("expected a misfit");
        };
        assert!(
            message.ends_with("no role type Club.Captain in CA"),
            "{message}"
        );
    }

    #[test]
    fn default_admin_is_ada() {
        let org = org();
        let mut data = data();
        let index = make_admin(&mut data, &org, DEFAULT_ADMIN_EMAIL).expect("admin");
        assert_eq!(index, 0);
        assert_eq!(data.people[0].roles.len(), 1);
        assert_eq!(data.people.len(), 200);
    }

    #[test]
    fn other_admin_email_adds_a_person_with_the_admin_role() {
        let org = org();
        let mut data = data();
        let index = make_admin(&mut data, &org, "boss@club.example").expect("admin");
        assert_eq!(index, 200);
        let admin = &data.people[index];
        assert_eq!(admin.fields.nickname.as_deref(), Some("boss"));
        assert_eq!(admin.roles[0].group, "DF");
        assert_eq!(admin.roles[0].role_type, "Federation.Administrator");
        admin.fields.clone().validated(&org).expect("valid");
    }

    #[test]
    fn demo_person_named_as_admin_gets_the_admin_role_first() {
        let org = org();
        let mut data = data();
        let index = make_admin(&mut data, &org, "north@demo.example").expect("admin");
        let nora = &data.people[index];
        assert_eq!(nora.fields.first_name.as_deref(), Some("Nora"));
        assert_eq!(nora.roles[0].role_type, "Federation.Administrator");
        assert_eq!(nora.roles[1].role_type, "Region.Coordinator");
    }

    #[test]
    fn short_password_is_refused() {
        let options = SeedOptions {
            demo_password: Some("short".into()),
            ..SeedOptions::default()
        };
        assert!(matches!(
            check_passwords(&options),
            Err(StoreError::Rule(_))
        ));
        assert!(check_passwords(&SeedOptions::default()).is_ok());
    }

    #[test]
    fn admin_email_is_normalised_or_refused() {
        let with = |email: &str| SeedOptions {
            admin_email: Some(email.to_owned()),
            ..SeedOptions::default()
        };
        assert_eq!(
            admin_email(&with(" Chef@Club.Example ")).ok().as_deref(),
            Some("chef@club.example")
        );
        assert!(matches!(
            admin_email(&with("chef")),
            Err(StoreError::Rule(_))
        ));
        assert!(matches!(admin_email(&with("  ")), Err(StoreError::Rule(_))));
        assert_eq!(
            admin_email(&SeedOptions::default()).ok().as_deref(),
            Some(DEFAULT_ADMIN_EMAIL)
        );
    }

    #[test]
    fn debug_output_hides_passwords() {
        let options = SeedOptions {
            admin_password: Some("secret admin password".into()),
            ..SeedOptions::default()
        };
        assert!(!format!("{options:?}").contains("secret"));
        let report = SeedReport {
            generated_admin_password: Some("generated secret".into()),
            ..SeedReport::default()
        };
        assert!(!format!("{report:?}").contains("secret"));
        assert!(!report.to_string().contains("secret"));
    }

    #[test]
    fn names_fold_to_ascii_for_emails() {
        assert_eq!(ascii_fold("Jürg"), "juerg");
        assert_eq!(ascii_fold("Häfliger"), "haefliger");
        assert_eq!(ascii_fold("Jérôme"), "jerome");
        assert_eq!(ascii_fold("Anaïs"), "anais");
        assert_eq!(ascii_fold("Biel/Bienne"), "bielbienne");
    }

    #[cfg(feature = "sqlite")]
    mod sqlite {
        use std::sync::Arc;

        use super::*;
        use crate::store::sqlite::SqliteStore;
        use crate::store::{AuthRepo, GroupRepo, PersonRepo, RoleRepo};

        const DEMO_PASSWORD: &str = "demo password 1";
        const ADMIN_PASSWORD: &str = "admin password 1";

        fn store() -> (SqliteStore, Organisation) {
            let org = org();
            let store = SqliteStore::in_memory(Arc::new(org.clone())).expect("in-memory store");
            (store, org)
        }

        fn seeded(options: &SeedOptions) -> (SqliteStore, Organisation, SeedReport) {
            let (store, org) = store();
            let report = load_demo(&store, &org, options, now()).expect("seeds");
            (store, org, report)
        }

        fn everybody(store: &SqliteStore) -> Vec<crate::person::Person> {
            let ids: Vec<PersonId> = (1..=400).map(PersonId).collect();
            store.people(&ids).expect("people")
        }

        fn group_named(store: &SqliteStore, name: &str) -> Group {
            store
                .all_groups()
                .expect("groups")
                .into_iter()
                .find(|g| g.name == name)
                .unwrap_or_else(|| panic!("group {name}"))
        }

        fn hash_of(store: &SqliteStore, email: &str) -> Option<String> {
            store
                .login_by_email(email)
                .expect("login")
                .and_then(|l| l.password_hash)
        }

        #[test]
        fn empty_database_gets_the_groups_and_two_hundred_people() {
            let (store, _, report) = seeded(&SeedOptions::default());
            assert!(!report.is_skipped);
            assert_eq!(report.people, 200);
            assert_eq!(store.person_count().expect("count"), 200);
            let groups = store.all_groups().expect("groups");
            assert_eq!(groups.len(), report.groups);
            assert_eq!(groups.len(), 24);
            let ids: Vec<PersonId> = everybody(&store).iter().map(|p| p.id).collect();
            let roles = store.roles_of_people(&ids).expect("roles");
            assert_eq!(roles.len(), report.roles);
            assert!(report.contacts > 40);
            let root = groups.iter().find(|g| g.parent_id.is_none()).expect("root");
            assert_eq!(root.name, "Demo Federation");
            assert_eq!(root.email.as_deref(), Some("info@demo.example"));
            let members = group_named(&store, "Seniors");
            assert_eq!(members.group_type, "ClubMembers");
        }

        /// Section 15's catalogue and events: BLC in the federation with
        /// its qualification links, the summer party in Club Alpha.
        #[test]
        fn demo_has_the_course_catalogue_and_two_events() {
            use crate::event::EventWhen;
            use crate::event::kind::LinkCategory;
            use crate::store::{EventRepo, QualificationRepo};

            let (store, _, report) = seeded(&SeedOptions::default());
            assert_eq!(report.events, 2);
            let labels: Vec<String> = store
                .qualification_kinds(false)
                .expect("kinds")
                .into_iter()
                .map(|k| k.label)
                .collect();
            assert_eq!(labels.len(), 2);
            assert!(labels.contains(&"Youth leader".to_owned()), "{labels:?}");
            let kinds = store.event_kinds(false).expect("event kinds");
            let blc = kinds
                .iter()
                .find(|k| k.short_name.as_deref() == Some("BLC"))
                .expect("BLC");
            assert_eq!(blc.minimum_age, Some(17));
            assert!(blc.is_qualifying());
            assert_eq!(
                blc.qualifications
                    .iter()
                    .filter(|q| q.category == LinkCategory::Precondition)
                    .count(),
                1
            );
            assert_eq!(store.event_kind_categories().expect("categories").len(), 1);

            let today = now().date_naive();
            let root = group_named(&store, "Demo Federation");
            let courses = store
                .events_of_group(root.id, EventWhen::Upcoming(today))
                .expect("events");
            assert_eq!(courses.len(), 1);
            assert_eq!(courses[0].number.as_deref(), Some("BLC-01"));
            assert_eq!(courses[0].kind_id, Some(blc.id));
            let club = group_named(&store, "Club Alpha");
            let parties = store
                .events_of_group(club.id, EventWhen::Upcoming(today))
                .expect("events");
            assert_eq!(parties.len(), 1);
            assert_eq!(parties[0].name, "Summer party");
        }

        #[test]
        fn named_people_hold_their_roles() {
            let (store, _, _) = seeded(&SeedOptions::default());
            let people = everybody(&store);
            let cases = [
                ("Ada", "Federation.Administrator", "Demo Federation"),
                ("Otto", "FederationOffice.Manager", "Office"),
                ("Nora", "Region.Coordinator", "Region North"),
                ("Alex", "Club.ClubLeader", "Club Alpha"),
                ("Tina", "ClubMembers.Trainer", "Members"),
                ("Jan", "ClubMembers.Junior", "Members"),
                ("Pia", "ClubMembers.Passive", "Members"),
            ];
            let groups = store.all_groups().expect("groups");
            for (first, role_type, group_name) in cases {
                let p = people
                    .iter()
                    .find(|p| p.first_name.as_deref() == Some(first) && p.nickname.is_none())
                    .filter(|p| {
                        p.last_name
                            .as_deref()
                            .is_some_and(|l| l.starts_with(&first[..1]))
                    })
                    .unwrap_or_else(|| panic!("{first} exists"));
                let roles = store.roles_of_person(p.id).expect("roles");
                let role = roles
                    .iter()
                    .find(|r| r.role_type == role_type)
                    .unwrap_or_else(|| panic!("{first} is {role_type}"));
                let group = groups
                    .iter()
                    .find(|g| g.id == role.group_id)
                    .expect("group");
                assert_eq!(group.name, group_name, "{first}");
                assert_eq!(p.primary_group_id, Some(group.id), "{first}");
            }
            let jan = people
                .iter()
                .find(|p| {
                    p.first_name.as_deref() == Some("Jan")
                        && p.last_name.as_deref() == Some("Junior")
                })
                .expect("Jan");
            assert_eq!(jan.email, None);
            let alpha = group_named(&store, "Club Alpha");
            let jan_group = store.roles_of_person(jan.id).expect("roles")[0].group_id;
            let jan_group = store.group(jan_group).expect("group").expect("exists");
            assert_eq!(jan_group.parent_id, Some(alpha.id));
            let otto = store
                .person_by_email("office@demo.example")
                .expect("lookup")
                .expect("Otto");
            assert!(otto.contact_data_visible);
        }

        #[test]
        fn other_organisation_starts_with_its_root_group_and_the_administrator() {
            let path =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/scout-association.toml");
            let scouts = Organisation::from_file(&path).expect("scouts load");
            let store = SqliteStore::in_memory(Arc::new(scouts.clone())).expect("store");
            let options = SeedOptions {
                admin_password: Some(ADMIN_PASSWORD.to_owned()),
                ..SeedOptions::default()
            };
            let report = load_demo(&store, &scouts, &options, now()).expect("seeds");
            let groups = store.all_groups().expect("groups");
            let root = groups.iter().find(|g| g.parent_id.is_none()).expect("root");
            assert_eq!(root.group_type, scouts.root_type().key);
            assert_eq!(root.name, scouts.name);
            assert_eq!(store.person_count().expect("count"), 1);
            assert_eq!(report.admin_email.as_deref(), Some(DEFAULT_ADMIN_EMAIL));
            let admin = store
                .person_by_email(DEFAULT_ADMIN_EMAIL)
                .expect("read")
                .expect("admin");
            let roles = store.roles_of_person(admin.id).expect("roles");
            assert_eq!(roles.len(), 1);
            assert_eq!(roles[0].group_id, root.id);
            let hash = hash_of(&store, DEFAULT_ADMIN_EMAIL).expect("a password is set");
            assert!(crate::auth::verify_password(ADMIN_PASSWORD, &hash));
        }

        // Regression: seeded roles were all "created" at seed time, so for a
        // week removing any of them deleted it instead of ending it.
        #[test]
        fn seeded_roles_are_created_when_they_started() {
            let (store, _org, _) = seeded(&SeedOptions::default());
            let old = everybody(&store)
                .iter()
                .flat_map(|p| store.roles_of_person(p.id).expect("roles"))
                .filter(|r| {
                    r.start_on
                        .is_some_and(|s| s < now().date_naive() - chrono::Days::new(30))
                })
                .collect::<Vec<_>>();
            assert!(!old.is_empty());
            for r in &old {
                assert!(
                    now() - r.created_at > chrono::Duration::days(7),
                    "role {}",
                    r.id
                );
                assert_eq!(
                    crate::role::remove_outcome(r, now()),
                    if r.end_on.is_some_and(|e| e < now().date_naive()) {
                        crate::role::RemoveOutcome::AlreadyEnded
                    } else {
                        crate::role::RemoveOutcome::End(now().date_naive() - chrono::Days::new(1))
                    }
                );
            }
        }

        #[test]
        fn second_start_does_not_seed_again() {
            let (store, org, first) = seeded(&SeedOptions::default());
            let again = load_demo(&store, &org, &SeedOptions::default(), now()).expect("runs");
            assert!(again.is_skipped);
            assert_eq!(again.people, 0);
            assert_eq!(again.generated_admin_password, None);
            assert_eq!(store.person_count().expect("count"), 200);
            assert_eq!(store.all_groups().expect("groups").len(), first.groups);
        }

        #[test]
        fn generated_admin_password_is_reported_and_works() {
            let (store, _, report) = seeded(&SeedOptions::default());
            let password = report.generated_admin_password.expect("generated");
            assert_eq!(report.admin_email.as_deref(), Some(DEFAULT_ADMIN_EMAIL));
            let hash = hash_of(&store, DEFAULT_ADMIN_EMAIL).expect("admin has a password");
            assert!(auth::verify_password(&password, &hash));
            assert_eq!(hash_of(&store, "north@demo.example"), None);
        }

        #[test]
        fn demo_password_is_given_to_everybody_with_an_email() {
            let options = SeedOptions {
                admin_password: Some(ADMIN_PASSWORD.to_owned()),
                demo_password: Some(DEMO_PASSWORD.to_owned()),
                ..SeedOptions::default()
            };
            let (store, _, report) = seeded(&options);
            assert_eq!(report.generated_admin_password, None);
            let admin = hash_of(&store, DEFAULT_ADMIN_EMAIL).expect("admin password");
            assert!(auth::verify_password(ADMIN_PASSWORD, &admin));
            assert!(!auth::verify_password(DEMO_PASSWORD, &admin));
            for email in ["north@demo.example", "trainer@demo.example"] {
                let hash = hash_of(&store, email).expect("demo password");
                assert!(auth::verify_password(DEMO_PASSWORD, &hash), "{email}");
            }
            let emails: Vec<String> = everybody(&store)
                .into_iter()
                .filter_map(|p| p.email)
                .collect();
            assert!(emails.len() > 130);
            for email in emails {
                assert!(hash_of(&store, &email).is_some(), "{email}");
            }
        }

        #[test]
        fn other_admin_email_gets_the_admin_role_of_the_root() {
            let options = SeedOptions {
                admin_email: Some("Chef@Club.Example".to_owned()),
                admin_password: Some(ADMIN_PASSWORD.to_owned()),
                ..SeedOptions::default()
            };
            let (store, _, report) = seeded(&options);
            assert_eq!(report.people, 201);
            let chef = store
                .person_by_email("chef@club.example")
                .expect("lookup")
                .expect("admin person");
            let roles = store.roles_of_person(chef.id).expect("roles");
            assert_eq!(roles.len(), 1);
            assert_eq!(roles[0].role_type, "Federation.Administrator");
            let root = group_named(&store, "Demo Federation");
            assert_eq!(roles[0].group_id, root.id);
            let hash = hash_of(&store, "chef@club.example").expect("password");
            assert!(auth::verify_password(ADMIN_PASSWORD, &hash));
        }
    }
}
