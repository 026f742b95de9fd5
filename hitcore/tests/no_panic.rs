//! Input that must never panic, tried with many seeded random cases: the
//! organisation loader on garbled and randomly assembled files, the field
//! validation of people, groups, roles and contact accounts, and the text
//! filter of the people list.
//!
//! The generator is seeded, so a failure repeats; the case number in the
//! message names the input.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use hitcore::Organisation;
use hitcore::group::{self, GroupPatch, PlanParent};
use hitcore::id::{GroupId, PersonId, RoleId};
use hitcore::person::{ContactInput, PersonPatch};
use hitcore::role::{NewRole, Role, RolePatch, remove_outcome};
use hitcore::store::{GroupScope, ListFilter, PeopleQuery};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use common::*;

const DEMO: &str = include_str!("../../examples/demo-federation.toml");
const SCOUTS: &str = include_str!("../../examples/scout-association.toml");

/// Characters that tend to break text handling: quotes, LIKE wildcards,
/// escapes, control characters, letters whose case changes their length,
/// combining marks, right-to-left text and emoji.
const ODD: &[&str] = &[
    "a", "Z", "0", " ", "\t", "\n", "\r", "\0", "'", "\"", "%", "_", "\\", "@", ".", "-", "/", "ä",
    "Ä", "ß", "ẞ", "İ", "ı", "Σ", "ς", "ǅ", "\u{301}", "\u{200b}", "\u{202e}", "א", "中", "🙂",
    "\u{feff}", "\u{7f}", ";", "--", "[", "]", "{", "}", "=", "#",
];

fn odd_text(rng: &mut StdRng, max: usize) -> String {
    let n = rng.gen_range(0..=max);
    (0..n).map(|_| ODD[rng.gen_range(0..ODD.len())]).collect()
}

fn maybe(rng: &mut StdRng, max: usize) -> Option<String> {
    rng.gen_bool(0.8).then(|| odd_text(rng, max))
}

/// Runs `f`, turning a panic into a test failure that names the case.
fn no_panic<T>(case: impl std::fmt::Debug, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => panic!("panicked on case {case:?}"),
    }
}

fn date(rng: &mut StdRng) -> NaiveDate {
    let (lo, hi) = (
        NaiveDate::MIN.num_days_from_ce(),
        NaiveDate::MAX.num_days_from_ce(),
    );
    let days = if rng.gen_bool(0.5) {
        rng.gen_range(lo..=hi)
    } else {
        // Mostly near today, where the rules are interesting.
        rng.gen_range(738_000..=740_000)
    };
    NaiveDate::from_num_days_from_ce_opt(days).unwrap_or(NaiveDate::MIN)
}

fn instant(rng: &mut StdRng) -> DateTime<Utc> {
    let (lo, hi) = (
        DateTime::<Utc>::MIN_UTC.timestamp(),
        DateTime::<Utc>::MAX_UTC.timestamp(),
    );
    let secs = if rng.gen_bool(0.5) {
        rng.gen_range(lo..=hi)
    } else {
        rng.gen_range(1_700_000_000..=1_800_000_000)
    };
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

// ----------------------------------------------------------- the loader

/// Snippets a garbled definition is patched with.
const TOML_BITS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "\"",
    "'",
    "=",
    ",",
    "\n",
    "{",
    "}",
    "#",
    "true",
    "1e400",
    "\u{0}",
    "[group_types.X]\n",
    "[[group_types.X.roles]]\nkey = \"R\"\n",
    "[[group_types.Club.roles]]\nkey = \"Dup\"\n[[group_types.Club.roles]]\nkey = \"Dup\"\n",
    "default_children = [\"Club\"]\n",
    "default_children = [\"ClubBoard\", \"ClubBoard\"]\n",
    "children = [\"Federation\"]\n",
    "static_name = true\n",
    "layer = \"yes\"\n",
    "permissions = [\"nope\"]\n",
    "kind = \"restricted\"\n",
    "root = \"Nope\"\n",
    "global = true\n",
    "key = \"a.b\"\n",
    "ä",
];

/// One random edit of `src`, on character boundaries.
fn garble(rng: &mut StdRng, src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut at = || rng.gen_range(0..=chars.len());
    let (a, b) = {
        let (x, y) = (at(), at());
        (x.min(y), x.max(y))
    };
    let mut out: String;
    match rng.gen_range(0..5) {
        0 => {
            out = chars[..a].iter().chain(&chars[b..]).collect();
        }
        1 => {
            out = chars[..b].iter().collect();
        }
        2 => {
            out = chars[..b].iter().collect();
            out.extend(&chars[a..]);
        }
        _ => {
            out = chars[..a].iter().collect();
            out.push_str(TOML_BITS[rng.gen_range(0..TOML_BITS.len())]);
            out.extend(&chars[a..]);
        }
    }
    out
}

/// Uses a loaded organisation the way a start does; must not panic or
/// loop, and the root plan keeps static-name types unique per parent.
fn exercise(org: &Organisation) {
    let _ = org.root_type();
    let _ = org.visible_from_above_keys();
    for g in org.group_types() {
        let _ = org.role_types_of(&g.key).count();
    }
    let plan = group::plan_root(org, GroupPatch::default());
    assert!(!plan.is_empty());
    for (i, entry) in plan.iter().enumerate() {
        let is_static = org
            .group_type(&entry.group_type)
            .is_some_and(|t| t.is_static_name);
        let twins = plan[..i]
            .iter()
            .filter(|e| e.parent == entry.parent && e.group_type == entry.group_type)
            .count();
        assert!(
            !is_static || twins == 0,
            "two {} below {:?}",
            entry.group_type,
            entry.parent
        );
        if let PlanParent::Planned(p) = entry.parent {
            assert!(i == 0 || p < i, "a planned parent comes first");
        }
    }
}

#[test]
fn garbled_organisation_files_are_errors_never_panics() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut loaded = 0;
    for case in 0..1500 {
        let base = if case % 2 == 0 { DEMO } else { SCOUTS };
        let mut src = garble(&mut rng, base);
        for _ in 0..rng.gen_range(0..3) {
            src = garble(&mut rng, &src);
        }
        let result = no_panic(case, || Organisation::from_toml(&src, "garbled.toml"));
        match result {
            Ok(org) => {
                loaded += 1;
                no_panic(case, || exercise(&org));
            }
            Err(e) => assert!(e.line <= src.lines().count() + 1, "case {case}: {e}"),
        }
    }
    // Comment edits and harmless changes load; most edits do not.
    assert!(loaded > 0 && loaded < 1500, "{loaded}");
}

#[test]
fn random_bytes_are_an_organisation_error() {
    let mut rng = StdRng::seed_from_u64(2);
    for case in 0..500 {
        let src = odd_text(&mut rng, 200);
        let r = no_panic(case, || Organisation::from_toml(&src, "random.toml"));
        assert!(r.is_err(), "case {case} loaded");
    }
}

/// A definition with random types, children, default children, roles and
/// permissions; some names are unknown, some form cycles.
fn random_definition(rng: &mut StdRng) -> String {
    const PERMS: &[&str] = &[
        "admin",
        "layer_and_below_full",
        "layer_read",
        "group_full",
        "contact_data",
        "see_invisible_from_above",
        "unknown_permission",
    ];
    let n = rng.gen_range(1..7);
    let name = |i: usize| format!("T{i}");
    let mut src = String::from("[organisation]\nname = \"Random\"\nroot = \"T0\"\n");
    for i in 0..n {
        let pick = |rng: &mut StdRng| -> Vec<String> {
            (0..rng.gen_range(0..4))
                .map(|_| name(rng.gen_range(0..n + 1)))
                .collect()
        };
        let children = pick(rng);
        let mut defaults = pick(rng);
        if rng.gen_bool(0.6) {
            defaults.retain(|d| children.contains(d));
        }
        src.push_str(&format!(
            "\n[group_types.{}]\nlayer = {}\nstatic_name = {}\nglobal = {}\n\
             children = {:?}\ndefault_children = {:?}\n",
            name(i),
            rng.gen_bool(0.5),
            rng.gen_bool(0.3),
            i > 0 && rng.gen_bool(0.1),
            children,
            defaults,
        ));
        for r in 0..rng.gen_range(0..3) {
            let perms: Vec<&str> = (0..rng.gen_range(0..3))
                .map(|_| PERMS[rng.gen_range(0..PERMS.len())])
                .collect();
            src.push_str(&format!(
                "[[group_types.{}.roles]]\nkey = \"R{r}\"\npermissions = {perms:?}\n\
                 visible_from_above = {}\n",
                name(i),
                rng.gen_bool(0.7)
            ));
        }
    }
    src
}

#[test]
fn randomly_assembled_organisations_load_or_fail_cleanly() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut loaded = 0;
    for case in 0..1500 {
        let src = random_definition(&mut rng);
        match no_panic(case, || Organisation::from_toml(&src, "random.toml")) {
            Ok(org) => {
                loaded += 1;
                no_panic(&src, || exercise(&org));
            }
            Err(e) => assert!(
                e.line > 0,
                "case {case}: an error names its line: {e}\n{src}"
            ),
        }
    }
    assert!(loaded > 30, "{loaded}");
}

// ------------------------------------------------------------ validation

fn org() -> Organisation {
    Organisation::from_toml(DEMO, "demo-federation.toml").expect("the demo loads")
}

fn random_person(rng: &mut StdRng) -> PersonPatch {
    let mut p = PersonPatch {
        first_name: maybe(rng, 12),
        last_name: maybe(rng, 12),
        nickname: maybe(rng, 6),
        company_name: maybe(rng, 6),
        is_company: rng.gen_bool(0.2),
        email: maybe(rng, 10),
        gender: maybe(rng, 2),
        birthday: rng.gen_bool(0.5).then(|| date(rng)),
        language: maybe(rng, 3),
        additional_information: maybe(rng, 30),
        ..PersonPatch::default()
    };
    p.address.street = maybe(rng, 10);
    p.address.zip_code = maybe(rng, 6);
    p.address.country = maybe(rng, 3);
    p
}

#[test]
fn person_validation_never_panics_and_is_idempotent() {
    let org = org();
    let mut rng = StdRng::seed_from_u64(4);
    for case in 0..3000 {
        let p = random_person(&mut rng);
        let r = no_panic(case, || p.clone().validated(&org));
        if let Ok(valid) = r {
            let again = no_panic(case, || valid.clone().validated(&org));
            assert_eq!(again.as_ref(), Ok(&valid), "case {case}: {p:?}");
            if let Some(e) = &valid.email {
                assert_eq!(e, &e.to_lowercase());
                assert!(!e.chars().any(char::is_whitespace));
            }
            for name in [&valid.first_name, &valid.last_name, &valid.nickname] {
                assert!(name.as_ref().is_none_or(|n| n.trim() == n && !n.is_empty()));
            }
        }
    }
}

#[test]
fn group_and_contact_validation_never_panics() {
    let mut rng = StdRng::seed_from_u64(5);
    for case in 0..3000 {
        let mut g = GroupPatch {
            name: maybe(&mut rng, 12),
            short_name: maybe(&mut rng, 40),
            email: maybe(&mut rng, 10),
            description: maybe(&mut rng, 30),
            ..GroupPatch::default()
        };
        g.address.housenumber = maybe(&mut rng, 25);
        let is_static = rng.gen_bool(0.3);
        if let Ok(valid) = no_panic(case, || g.clone().validated(is_static)) {
            assert_eq!(
                no_panic(case, || valid.clone().validated(is_static)),
                Ok(valid)
            );
        }
        let input = ContactInput {
            value: odd_text(&mut rng, 20),
            label: odd_text(&mut rng, 6),
            is_public: rng.gen_bool(0.5),
            is_mailing: rng.gen_bool(0.5),
        };
        let _ = no_panic(case, || input.clone().validated_email());
        let _ = no_panic(case, || input.clone().validated_phone());
    }
}

fn club_members() -> hitcore::group::Group {
    let now = Utc::now();
    hitcore::group::Group {
        id: GroupId(4),
        parent_id: Some(GroupId(3)),
        path: vec![GroupId(1), GroupId(2), GroupId(3), GroupId(4)],
        layer_group_id: GroupId(3),
        group_type: "ClubMembers".into(),
        name: "Members".into(),
        short_name: None,
        email: None,
        description: None,
        address: hitcore::group::Address::default(),
        created_at: now,
        updated_at: now,
        deleted_at: None,
        archived_at: None,
    }
}

#[test]
fn role_rules_never_panic_on_any_date() {
    let org = org();
    let group = club_members();
    let types = [
        "ClubMembers.Active",
        "Club.ClubLeader",
        "",
        "ClubMembers.Junior",
    ];
    let mut rng = StdRng::seed_from_u64(6);
    for case in 0..3000 {
        let start_on = rng.gen_bool(0.7).then(|| date(&mut rng));
        let end_on = rng.gen_bool(0.5).then(|| date(&mut rng));
        let today = date(&mut rng);
        let role = NewRole {
            person_id: PersonId(1),
            group_id: group.id,
            role_type: types[case % types.len()].to_owned(),
            label: maybe(&mut rng, 8),
            start_on,
            end_on,
        };
        if let Ok(valid) = no_panic(case, || role.clone().validated(&org, &group, today))
            && let (Some(s), Some(e)) = (valid.start_on, valid.end_on)
        {
            assert!(e >= s, "case {case}");
        }
        let patch = RolePatch {
            label: maybe(&mut rng, 8),
            start_on,
            end_on,
        };
        let _ = no_panic(case, || patch.validated());
        let stored = Role {
            id: RoleId(1),
            person_id: PersonId(1),
            group_id: group.id,
            role_type: "ClubMembers.Active".into(),
            label: None,
            start_on,
            end_on,
            archived_at: None,
            is_terminated: false,
            created_at: instant(&mut rng),
            updated_at: instant(&mut rng),
        };
        let now = instant(&mut rng);
        let _ = no_panic(case, || remove_outcome(&stored, now));
        let _ = no_panic(case, || stored.state(today));
    }
}

// ----------------------------------------------------------- text filter

#[test]
fn text_filter_never_fails_and_finds_every_name_by_itself() {
    each_store(|w| {
        let mut rng = StdRng::seed_from_u64(7);
        let mut people = Vec::new();
        for i in 0..40 {
            // One word without white space or NUL, as a validated name is.
            let word: String = odd_text(&mut rng, 8)
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '\0')
                .collect();
            let first = format!("{word}{}", ["x", "Ä", "%", "_"][i % 4]);
            let p = w.person(&first, "Person", &w.root_members, MEMBER);
            people.push(p);
        }
        let search = |text: String| PeopleQuery {
            scope: GroupScope::Deep(w.root.id),
            filter: ListFilter::All,
            role_types: None,
            text: Some(text),
            today: day(0),
            page: 1,
            per_page: 100,
        };
        for p in &people {
            let name = p.first_name.clone().expect("a first name");
            let found = w.s.people_list(&search(name.clone())).expect("search");
            assert!(
                found.items.iter().any(|l| l.person.id == p.id),
                "{name:?} not found by itself"
            );
            let upper =
                w.s.people_list(&search(name.to_uppercase()))
                    .expect("search");
            if name.to_uppercase().to_lowercase() == name.to_lowercase() {
                assert!(
                    upper.items.iter().any(|l| l.person.id == p.id),
                    "{name:?} not found in upper case"
                );
            }
        }
        for case in 0..300 {
            let q = search(odd_text(&mut rng, 12));
            let r = no_panic(case, || w.s.people_list(&q));
            let page = r.unwrap_or_else(|e| panic!("case {case}: {e}"));
            assert!(page.items.len() as u64 <= page.total);
        }
        assert_eq!(w.s.person_count().expect("count"), 40);
    });
}
