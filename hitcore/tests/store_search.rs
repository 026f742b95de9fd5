//! The search contract ([`SearchRepo`]) on every store, over the seeded
//! demo federation of section 15: what a viewer finds follows section 4.4
//! (and never goes beyond what the ability engine lets them open), words
//! match by prefix whatever their case and accents, and hits come best
//! first.
//!
//! Runs on SQLite always and on PostgreSQL when `HIT_TEST_POSTGRES_URL` is
//! set, each with a fresh database.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use hitcore::ability::{
    self, Actor, CreateGroup, CreatePerson, DestroyGroup, DestroyRole, PersonAction, PersonSubject,
    UpdatePerson, search_scope, system,
};
use hitcore::group::{Group, GroupPatch, GroupTree, plan_create};
use hitcore::person::{Person, PersonPatch};
use hitcore::role::{NewRole, Role};
use hitcore::seed::{SeedOptions, load_demo};
use hitcore::store::{SearchQuery, Store};
use hitcore::{Organisation, PersonId};

use common::{TestStore, stores_for};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0)
        .single()
        .expect("valid instant")
}

fn today() -> NaiveDate {
    now().date_naive()
}

fn demo_org() -> Arc<Organisation> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo-federation.toml");
    Arc::new(Organisation::from_file(&path).expect("the demo definition loads"))
}

/// One store holding the demo federation.
struct Demo<'a> {
    s: &'a dyn Store,
    org: &'a Organisation,
}

impl Demo<'_> {
    fn tree(&self) -> GroupTree {
        GroupTree::new(self.s.all_groups().expect("groups"))
    }

    fn group(&self, name: &str) -> Group {
        self.tree()
            .iter()
            .find(|g| g.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("no group named {name}"))
    }

    fn child(&self, parent: &str, group_type: &str) -> Group {
        let parent = self.group(parent);
        self.tree()
            .children(parent.id)
            .find(|g| g.group_type == group_type)
            .cloned()
            .unwrap_or_else(|| panic!("{} has no {group_type}", parent.name))
    }

    fn by_email(&self, email: &str) -> Person {
        self.s
            .person_by_email(email)
            .expect("lookup")
            .unwrap_or_else(|| panic!("no person {email}"))
    }

    fn everyone(&self) -> Vec<Person> {
        let n = self.s.person_count().expect("count");
        let ids: Vec<PersonId> = (1..=i64::try_from(n).expect("few") + 50)
            .map(PersonId)
            .collect();
        self.s.people(&ids).expect("people")
    }

    fn actor(&self, p: &Person, is_root: bool) -> Actor {
        let roles = self.s.roles_of_person(p.id).expect("roles");
        Actor::new(p.id, is_root, &roles, &self.tree(), self.org, today())
    }

    fn query(&self, actor: &Actor, text: &str, limit: u32) -> SearchQuery {
        SearchQuery {
            text: text.to_owned(),
            scope: search_scope(actor, self.org),
            today: today(),
            limit,
        }
    }

    /// The display names of the people `actor` finds with `text`.
    fn people(&self, actor: &Actor, text: &str) -> Vec<String> {
        let q = self.query(actor, text, 50);
        let hits = self.s.search_people(&q).expect("search people");
        hits.iter().map(Person::display_name).collect()
    }

    fn groups(&self, actor: &Actor, text: &str) -> Vec<String> {
        let q = self.query(actor, text, 50);
        let hits = self.s.search_groups(&q).expect("search groups");
        hits.into_iter().map(|g| g.name).collect()
    }

    /// A person with a first role of `role_type` in `group`.
    fn add(&self, group: &Group, role_type: &str, patch: PersonPatch) -> Person {
        let role = NewRole {
            // Ignored on create: the new person's id is not known yet.
            person_id: PersonId(0),
            group_id: group.id,
            role_type: role_type.to_owned(),
            label: None,
            start_on: Some(today()),
            end_on: None,
        };
        let permit = system(CreatePerson {
            group_id: group.id,
            role_type: role_type.to_owned(),
        });
        self.s
            .create_person(&permit, &patch, &role, now())
            .expect("person created")
            .0
    }

    fn add_named(&self, first: &str, last: &str, town: Option<&str>) -> Person {
        let mut patch = PersonPatch {
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            ..PersonPatch::default()
        };
        patch.address.town = town.map(str::to_owned);
        let members = self.child("Club Beta", "ClubMembers");
        self.add(&members, "ClubMembers.Active", patch)
    }

    fn root(&self) -> Actor {
        let ada = self.by_email("admin@demo.example");
        let mut root = self.actor(&ada, true);
        root.grants.clear();
        root
    }
}

/// Runs `case` on every store, each seeded with the demo federation.
fn each_demo(case: impl Fn(&Demo<'_>)) {
    for t in stores_for(demo_org()) {
        eprintln!("--- store: {}", t.name);
        seed(&t);
        case(&Demo {
            s: t.store.as_ref(),
            org: &t.org,
        });
    }
}

fn seed(t: &TestStore) {
    let report = load_demo(t.store.as_ref(), &t.org, &SeedOptions::default(), now())
        .expect("the demo seeds");
    assert!(!report.is_skipped);
}

#[test]
fn nora_does_not_find_jan_junior_but_alex_does() {
    each_demo(|d| {
        let nora = d.actor(&d.by_email("north@demo.example"), false);
        let alex = d.actor(&d.by_email("alpha@demo.example"), false);
        assert!(
            !d.people(&nora, "Jan Junior")
                .contains(&"Jan Junior".to_owned())
        );
        assert!(!d.people(&nora, "junior").contains(&"Jan Junior".to_owned()));
        assert_eq!(d.people(&alex, "Jan Junior"), ["Jan Junior"]);
        // Nora does find the club's visible people, Alex among them.
        assert!(
            d.people(&nora, "Alex Alpha")
                .contains(&"Alex Alpha".to_owned())
        );
    });
}

#[test]
fn person_without_roles_finds_only_themselves_and_no_groups() {
    each_demo(|d| {
        let loner = d.add_named("Lone", "Alphasson", None);
        let roles = d.s.roles_of_person(loner.id).expect("roles");
        let permit = system(DestroyRole(roles[0].id));
        d.s.remove_role(&permit, now()).expect("removed");
        let actor = d.actor(&loner, false);
        assert!(!actor.has_role);

        assert_eq!(d.people(&actor, "Alpha"), ["Lone Alphasson"]);
        assert_eq!(d.people(&actor, "Alex"), Vec::<String>::new());
        assert_eq!(d.groups(&actor, "Club"), Vec::<String>::new());
    });
}

#[test]
fn anyone_with_a_role_finds_every_group_but_deleted_ones() {
    each_demo(|d| {
        let pia = d.actor(&d.by_email_or_name("Pia", "Passive"), false);
        assert!(pia.has_role);
        let alpha = d.group("Club Alpha");
        let plan = plan_create(
            d.org,
            &alpha,
            &[],
            "Committee",
            named("Club Zulu Committee"),
        )
        .expect("a committee plan");
        let created =
            d.s.create_groups(&system(CreateGroup(Some(alpha.id))), &plan, now())
                .expect("created");
        assert_eq!(
            d.groups(&pia, "zulu"),
            ["Club Zulu Committee"],
            "a group below another layer is found too"
        );
        d.s.delete_group(&system(DestroyGroup(created[0].id)), now())
            .expect("deleted");

        assert_eq!(
            d.groups(&pia, "club"),
            ["Club Alpha", "Club Beta", "Club Gamma"]
        );
        assert_eq!(d.groups(&pia, "zulu"), Vec::<String>::new());
        assert_eq!(d.groups(&pia, "Region No"), ["Region North"]);
    });
}

#[test]
fn umlauts_and_accents_are_found_either_way() {
    each_demo(|d| {
        d.add_named("Jürg", "Müller", Some("Zürich"));
        d.add_named("Jose", "Muller", Some("Zurich"));
        d.add_named("José", "Mueller", Some("Genève"));
        let root = d.root();
        let both = ["Jose Muller", "Jürg Müller"];
        assert_eq!(d.people(&root, "Muller"), both);
        // "ü" also reads "ue": all three are exact matches, by last name.
        let all = ["José Mueller", "Jose Muller", "Jürg Müller"];
        assert_eq!(d.people(&root, "MÜLLER"), all);
        assert_eq!(d.people(&root, "mül"), all);
        assert_eq!(d.people(&root, "mul"), both);
        assert_eq!(d.people(&root, "Mueller"), all);
        assert_eq!(d.people(&root, "jose"), ["José Mueller", "Jose Muller"]);
        assert_eq!(d.people(&root, "José mu"), ["José Mueller", "Jose Muller"]);
        assert_eq!(d.people(&root, "Geneve"), ["José Mueller"]);
        let zurich = d.people(&root, "Zurich");
        assert!(zurich.contains(&"Jose Muller".to_owned()), "{zurich:?}");
        assert!(zurich.contains(&"Jürg Müller".to_owned()), "{zurich:?}");
        assert_eq!(d.people(&root, "Zürich"), zurich);
    });
}

#[test]
fn every_word_must_start_a_word_of_some_field() {
    each_demo(|d| {
        let root = d.root();
        assert_eq!(d.people(&root, "Ja Jun"), ["Jan Junior"]);
        assert_eq!(d.people(&root, "Jun Ja"), ["Jan Junior"]);
        assert!(d.people(&root, "unior").is_empty(), "no infix match");
        assert!(d.people(&root, "Jan Juniorx").is_empty());
        assert_eq!(d.people(&root, "alpha@demo"), ["Alex Alpha"]);
        assert_eq!(d.people(&root, "alpha@demo.example"), ["Alex Alpha"]);
    });
}

#[test]
fn names_written_like_markup_or_addresses_are_found_by_their_words() {
    each_demo(|d| {
        d.add_named(
            "<script>alert(1)</script>",
            "Xylo&amp;Fon'",
            Some("c:\\Users~x"),
        );
        let root = d.root();
        let name = "<script>alert(1)</script> Xylo&amp;Fon'";
        for text in [
            "xylo",
            "alert",
            "script",
            "fon",
            "amp",
            "users",
            "Xylo&amp;Fon",
        ] {
            assert_eq!(d.people(&root, text), [name], "{text}");
        }
    });
}

#[test]
fn text_shorter_than_two_characters_finds_nothing() {
    each_demo(|d| {
        let root = d.root();
        for short in ["", " ", "J", "ü", "a b", "**", "-"] {
            assert!(d.people(&root, short).is_empty(), "{short:?}");
            assert!(d.groups(&root, short).is_empty(), "{short:?}");
        }
        assert!(!d.people(&root, "Ja").is_empty());
    });
}

#[test]
fn query_syntax_in_the_text_is_only_text() {
    each_demo(|d| {
        let root = d.root();
        for hostile in [
            r#"" OR "a"#,
            "Jan* NEAR(a b)",
            "last_name:Junior",
            "{first_name} : Jan",
            "Jan & !Junior | x",
            "Jan:* <-> Ju:A",
            "'; DROP TABLE people; --",
            "(((",
            "\\\\ \0 ~ ^",
            "Jan ×ː‖ ¡",
        ] {
            d.people(&root, hostile);
            d.groups(&root, hostile);
        }
        assert_eq!(d.people(&root, "\"Junior\""), ["Jan Junior"]);
    });
}

#[test]
fn exact_name_matches_come_first_then_prefixes_then_other_fields() {
    each_demo(|d| {
        d.add_named("Ann", "Zwahlen", None);
        d.add_named("Annika", "Abderhalden", None);
        d.add_named("Beat", "Annen", None);
        d.add_named("Carla", "Bühler", Some("Annecy"));
        let root = d.root();
        let hits = d.people(&root, "ann");
        let pos = |name: &str| {
            hits.iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("{name} not in {hits:?}"))
        };
        assert_eq!(pos("Ann Zwahlen"), 0, "{hits:?}");
        assert!(
            pos("Annika Abderhalden") < pos("Beat Annen"),
            "by last name: {hits:?}"
        );
        assert!(pos("Beat Annen") < pos("Carla Bühler"), "{hits:?}");
        assert_eq!(hits.last().map(String::as_str), Some("Carla Bühler"));
    });
}

#[test]
fn limit_caps_the_hits() {
    each_demo(|d| {
        let root = d.root();
        let q = d.query(&root, "demo", 3);
        assert_eq!(d.s.search_people(&q).expect("search").len(), 3);
        let q = d.query(&root, "club", 2);
        assert_eq!(d.s.search_groups(&q).expect("search").len(), 2);
    });
}

#[test]
fn changed_names_are_found_by_the_new_name_only() {
    each_demo(|d| {
        let jan = d
            .everyone()
            .into_iter()
            .find(|p| p.display_name() == "Jan Junior")
            .expect("Jan");
        let patch = PersonPatch {
            first_name: Some("Jan".to_owned()),
            last_name: Some("Quattrocchi".to_owned()),
            ..PersonPatch::default()
        };
        d.s.update_person(&system(UpdatePerson(jan.id)), None, &patch, now())
            .expect("updated");
        let root = d.root();
        assert!(d.people(&root, "Junior").is_empty());
        assert_eq!(d.people(&root, "Quattro"), ["Jan Quattrocchi"]);

        let beta = d.group("Club Beta");
        let patch = GroupPatch {
            name: Some("Club Omega".to_owned()),
            ..GroupPatch::default()
        };
        d.s.update_group(&system(ability::UpdateGroup(beta.id)), &patch, now())
            .expect("renamed");
        assert_eq!(d.groups(&root, "omeg"), ["Club Omega"]);
        assert!(d.groups(&root, "beta").is_empty());
    });
}

/// The people found for `text`, checked against the ability engine: every
/// hit is someone the viewer may open, and every person with an active
/// role the viewer may open, whose fields have a word starting with
/// `text`, is a hit.
fn check_against_the_engine(d: &Demo<'_>, viewer: &Actor, everyone: &[Person], text: &str) {
    let tree = d.tree();
    let may_show = |p: &Person| {
        let roles = d.s.roles_of_person(p.id).expect("roles");
        let subject = PersonSubject::new(p, false, &roles, &tree, d.org, today());
        ability::person(viewer, PersonAction::Show, &subject).is_allowed()
    };
    let has_active_role = |p: &Person| {
        let roles: Vec<Role> = d.s.roles_of_person(p.id).expect("roles");
        roles
            .iter()
            .any(|r| r.is_active(today()) && tree.get(r.group_id).is_some_and(|g| !g.is_deleted()))
    };
    let q = d.query(viewer, text, 100);
    let hits = d.s.search_people(&q).expect("search");
    let found: BTreeSet<PersonId> = hits.iter().map(|p| p.id).collect();
    for p in &hits {
        assert!(
            may_show(p),
            "{text}: {} was found but may not be shown",
            p.id
        );
    }
    let expected: BTreeSet<PersonId> = everyone
        .iter()
        .filter(|p| matches_prefix(p, text) && has_active_role(p) && may_show(p))
        .map(|p| p.id)
        .collect();
    let found_with_roles: BTreeSet<PersonId> = hits
        .iter()
        .filter(|p| has_active_role(p))
        .map(|p| p.id)
        .collect();
    if found.len() < 100 {
        assert_eq!(found_with_roles, expected, "{text}");
    }
}

/// Whether a word of a searched field of `p` starts with `prefix`, case
/// and the common accents ignored.
fn matches_prefix(p: &Person, prefix: &str) -> bool {
    let prefix = fold(prefix);
    [
        &p.first_name,
        &p.last_name,
        &p.nickname,
        &p.company_name,
        &p.email,
        &p.address.town,
    ]
    .into_iter()
    .flatten()
    .any(|field| {
        fold(field)
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w.starts_with(&prefix))
    })
}

fn fold(text: &str) -> String {
    const FROM: &str = "àáâãäåāăąçćĉċčèéêëēĕėęěìíîïĩīĭįñńņňòóôõöōŏőùúûüũūŭůűųýÿŷśŝşšźżžĝğġģ";
    const TO: &str = "aaaaaaaaaccccceeeeeeeeeiiiiiiiinnnnoooooooouuuuuuuuuuyyyssssszzzgggg";
    text.to_lowercase()
        .chars()
        .map(|c| {
            FROM.chars()
                .position(|f| f == c)
                .map_or(c, |i| TO.as_bytes()[i] as char)
        })
        .collect()
}

#[test]
fn what_each_persona_finds_is_what_the_engine_lets_them_see() {
    each_demo(|d| {
        let everyone = d.everyone();
        let mut viewers = vec![d.root()];
        for email in [
            "admin@demo.example",
            "office@demo.example",
            "north@demo.example",
            "alpha@demo.example",
            "trainer@demo.example",
        ] {
            viewers.push(d.actor(&d.by_email(email), false));
        }
        for name in [("Jan", "Junior"), ("Pia", "Passive")] {
            viewers.push(d.actor(&d.by_email_or_name(name.0, name.1), false));
        }
        for viewer in &viewers {
            for text in ["an", "ma", "er", "zu", "st", "demo"] {
                check_against_the_engine(d, viewer, &everyone, text);
            }
        }
    });
}

impl Demo<'_> {
    fn by_email_or_name(&self, first: &str, last: &str) -> Person {
        self.everyone()
            .into_iter()
            .find(|p| {
                p.first_name.as_deref() == Some(first) && p.last_name.as_deref() == Some(last)
            })
            .unwrap_or_else(|| panic!("no person {first} {last}"))
    }
}

fn named(name: &str) -> GroupPatch {
    GroupPatch {
        name: Some(name.to_owned()),
        ..GroupPatch::default()
    }
}
