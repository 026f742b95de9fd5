// Loader tests: the two example definitions load with everything they
// declare, and each kind of mistake names the file, the line and the cause.

use std::path::{Path, PathBuf};

use super::*;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

fn demo() -> Organisation {
    Organisation::from_file(&example("demo-federation.toml")).expect("demo federation loads")
}

fn scouts() -> Organisation {
    Organisation::from_file(&example("scout-association.toml")).expect("scout association loads")
}

fn load(src: &str) -> Result<Organisation, OrgError> {
    Organisation::from_toml(src, "bad.toml")
}

/// Loads `src`, expects an error and checks file, line and message.
fn assert_error(src: &str, line: usize, message: &str) {
    match load(src) {
        Ok(_) => panic!("expected an error at line {line}: {message}"),
        Err(e) => {
            assert_eq!(e.file, "bad.toml");
            assert_eq!((e.line, e.message.as_str()), (line, message), "{e}");
        }
    }
}

fn error(src: &str) -> OrgError {
    match load(src) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

fn keys(types: &[GroupType]) -> Vec<&str> {
    types.iter().map(|g| g.key.as_str()).collect()
}

// ------------------------------------------------------------ the examples

#[test]
fn demo_federation_loads_with_its_layers() {
    let org = demo();
    assert_eq!(org.name, "Demo Federation");
    assert_eq!(org.languages, ["en", "de"]);
    assert_eq!(org.default_language(), "en");
    assert_eq!(org.root_type().key, "Federation");
    let layers: Vec<&str> = org
        .group_types()
        .iter()
        .filter(|g| g.is_layer)
        .map(|g| g.key.as_str())
        .collect();
    assert_eq!(layers, ["Federation", "Region", "Club"]);
    assert_eq!(org.group_types().len(), 12);
    assert_eq!(org.role_types().len(), 26);
}

#[test]
fn scout_association_loads_with_german_as_default() {
    let org = scouts();
    assert_eq!(org.root_type().key, "Association");
    assert_eq!(org.default_language(), "de");
    assert_eq!(org.root_type().labels.get("de"), "Bund");
    assert!(org.event_types.iter().any(|e| e == "Event::Camp"));
    let abteilung = org.group_type("Abteilung").expect("Abteilung");
    assert!(abteilung.is_layer);
    assert_eq!(abteilung.event_types, ["Event", "Event::Camp"]);
}

#[test]
fn every_example_type_has_english_and_german_labels() {
    for org in [demo(), scouts()] {
        for g in org.group_types() {
            for lang in ["en", "de"] {
                assert!(g.labels.0.contains_key(lang), "{} lacks {lang}", g.key);
            }
        }
        for r in org.role_types() {
            for lang in ["en", "de"] {
                assert!(r.labels.0.contains_key(lang), "{} lacks {lang}", r.key);
            }
        }
    }
}

#[test]
fn labels_follow_the_language_with_english_fallback() {
    let org = demo();
    let office = org.group_type("FederationOffice").expect("office");
    assert_eq!(office.labels.get("en"), "Office");
    assert_eq!(office.labels.get("de"), "Geschäftsstelle");
    assert_eq!(office.labels.get("fr"), "Office");
    let president = org
        .role_type("ClubBoard.President")
        .expect("club president");
    assert_eq!(president.labels.get("de"), "Präsident:in");
}

#[test]
fn children_and_default_children_are_as_declared_with_global_types_added() {
    let org = demo();
    let fed = org.root_type();
    assert_eq!(
        fed.children,
        [
            "FederationBoard",
            "FederationOffice",
            "FederationMembers",
            "Region",
            "Committee"
        ]
    );
    assert_eq!(
        fed.default_children,
        ["FederationBoard", "FederationOffice", "FederationMembers"]
    );
    for layer in ["Federation", "Region", "Club"] {
        assert!(org.is_child_allowed(layer, "Committee"), "{layer}");
    }
    // Global types are added to layers only.
    assert!(!org.is_child_allowed("ClubMembers", "Committee"));
    assert!(org.is_child_allowed("Committee", "Committee"));
    assert!(org.is_child_allowed("Region", "Club"));
    assert!(!org.is_child_allowed("Federation", "Club"));
    assert!(!org.is_child_allowed("Nope", "Club"));
}

#[test]
fn explicitly_listed_shared_type_stays_out_of_other_layers() {
    let org = scouts();
    assert!(org.is_child_allowed("Association", "WorkingGroup"));
    assert!(org.is_child_allowed("Canton", "WorkingGroup"));
    assert!(!org.is_child_allowed("Abteilung", "WorkingGroup"));
}

#[test]
fn group_types_are_ordered_breadth_first_from_the_root() {
    let org = demo();
    assert_eq!(
        keys(org.group_types()),
        [
            "Federation",
            "FederationBoard",
            "FederationOffice",
            "FederationMembers",
            "Region",
            "Committee",
            "RegionBoard",
            "RegionMembers",
            "Club",
            "ClubBoard",
            "ClubMembers",
            "ClubContacts",
        ]
    );
    for (i, g) in org.group_types().iter().enumerate() {
        assert_eq!(g.order_weight, i, "{}", g.key);
    }
}

#[test]
fn role_keys_carry_their_group_type() {
    let org = demo();
    let leader = org.role_type("Club.ClubLeader").expect("club leader");
    assert_eq!(leader.key, "Club.ClubLeader");
    assert!(org.role_type("ClubLeader").is_none());
    assert_eq!(
        org.group_type("ClubMembers").expect("members").role_types,
        [
            "ClubMembers.Trainer",
            "ClubMembers.Active",
            "ClubMembers.Junior",
            "ClubMembers.Passive"
        ]
    );
    assert!(org.is_role_allowed("ClubMembers", "ClubMembers.Junior"));
    assert!(!org.is_role_allowed("ClubBoard", "ClubMembers.Junior"));
}

#[test]
fn role_types_are_listed_in_group_type_order() {
    let org = demo();
    let first: Vec<&str> = org
        .role_types()
        .iter()
        .take(4)
        .map(|r| r.key.as_str())
        .collect();
    assert_eq!(
        first,
        [
            "Federation.Administrator",
            "FederationBoard.President",
            "FederationBoard.Treasurer",
            "FederationBoard.BoardMember"
        ]
    );
    let last = org.role_types().last().expect("roles");
    assert_eq!(last.key, "ClubContacts.Contact");
    let scouts = scouts();
    assert_eq!(scouts.role_types()[0].key, "Association.ItSupport");
    let last = scouts.role_types().last().expect("roles");
    assert_eq!(last.key, "Alumnus", "global role types come last");
}

#[test]
fn standard_role_is_resolved_to_its_full_key() {
    let org = demo();
    let members = org.group_type("ClubMembers").expect("members");
    assert_eq!(members.standard_role.as_deref(), Some("ClubMembers.Active"));
    assert_eq!(org.root_type().standard_role, None);
}

#[test]
fn implications_are_applied_and_declared_permissions_kept() {
    let org = demo();
    let admin = org
        .role_type("Federation.Administrator")
        .expect("administrator");
    assert_eq!(
        admin.declared_permissions,
        [
            Permission::Admin,
            Permission::LayerAndBelowFull,
            Permission::Impersonation
        ]
    );
    assert!(admin.has(Permission::LayerAndBelowRead));
    assert!(!admin.has(Permission::LayerRead));
    let trainer = org.role_type("ClubMembers.Trainer").expect("trainer");
    assert!(trainer.has(Permission::GroupAndBelowRead));
    assert!(!trainer.has(Permission::GroupFull));
    let keys = org.role_keys_with(Permission::LayerRead);
    assert!(keys.contains(&"ClubBoard.President".to_owned()));
    assert!(keys.contains(&"ClubBoard.Treasurer".to_owned()));
}

#[test]
fn kinds_visibility_and_termination_follow_the_file() {
    let org = demo();
    let junior = org.role_type("ClubMembers.Junior").expect("junior");
    assert_eq!(junior.kind, RoleKind::Member);
    assert!(!junior.is_visible_from_above);
    assert!(!junior.is_terminatable);
    let passive = org.role_type("ClubMembers.Passive").expect("passive");
    assert_eq!(passive.kind, RoleKind::Passive);
    assert!(passive.is_visible_from_above);
    assert!(passive.is_terminatable);
    let contact = org.role_type("ClubContacts.Contact").expect("contact");
    assert_eq!(contact.kind, RoleKind::External);
    assert_eq!(
        org.role_keys_of_kinds(&[RoleKind::External]),
        ["ClubContacts.Contact"]
    );
    let invisible: Vec<String> = org
        .role_types()
        .iter()
        .filter(|r| !r.is_visible_from_above)
        .map(|r| r.key.clone())
        .collect();
    assert_eq!(invisible, ["ClubMembers.Junior", "ClubContacts.Contact"]);
    assert_eq!(org.visible_from_above_keys().len(), 24);
}

#[test]
fn static_names_and_event_types_follow_the_file() {
    let org = demo();
    assert!(org.group_type("ClubBoard").expect("board").is_static_name);
    assert!(
        !org.group_type("ClubMembers")
            .expect("members")
            .is_static_name
    );
    assert_eq!(org.root_type().event_types, ["Event", "Event::Course"]);
    // Clubs hold courses too, for the events issue's flow (see the file).
    assert_eq!(
        org.group_type("Club").expect("club").event_types,
        ["Event", "Event::Course"]
    );
    // Without a list, a type may hold plain events.
    assert_eq!(
        org.group_type("Committee").expect("committee").event_types,
        ["Event"]
    );
}

#[test]
fn global_role_types_keep_their_bare_key_and_fit_every_group() {
    let org = scouts();
    let alumnus = org.role_type("Alumnus").expect("alumnus");
    assert_eq!(alumnus.kind, RoleKind::Passive);
    assert!(alumnus.is_terminatable);
    for g in org.group_types() {
        assert!(org.is_role_allowed(&g.key, "Alumnus"), "{}", g.key);
    }
}

#[test]
fn restricted_roles_are_not_capable() {
    let org = scouts();
    let contact = org.role_type("Abteilung.Contact").expect("contact");
    assert_eq!(contact.kind, RoleKind::Restricted);
    assert!(!contact.is_capable());
    let leader = org.role_type("AbteilungLeadership.Leader").expect("leader");
    assert!(leader.is_capable());
    assert!(leader.is_self_protected());
    let coach = org.role_type("CantonLeadership.Coach").expect("coach");
    assert!(coach.is_capable());
    assert!(!coach.is_self_protected());
}

#[test]
fn missing_labels_fall_back_to_the_key() {
    let org = load(
        r#"[organisation]
name = "Tiny"
root = "Top"

[group_types.Top]
layer = true

[[group_types.Top.roles]]
key = "Boss"
"#,
    )
    .expect("loads");
    assert_eq!(org.root_type().labels.get("de"), "Top");
    assert_eq!(
        org.role_type("Top.Boss").expect("boss").labels.get("en"),
        "Boss"
    );
    assert_eq!(org.languages, ["en"]);
}

// ------------------------------------------------------------------ errors

/// A small valid definition the error cases below start from. Line numbers
/// in the tests refer to this text after their change.
const BASE: &str = r#"[organisation]
name = "Tiny"
root = "Top"

[group_types.Top]
layer = true
children = ["Sub", "Side"]
default_children = ["Sub"]
standard_role = "Boss"

[[group_types.Top.roles]]
key = "Boss"
permissions = ["layer_full"]

[group_types.Sub]
children = ["Sub"]

[[group_types.Sub.roles]]
key = "Member"

[group_types.Side]
"#;

#[test]
fn base_of_the_error_cases_is_valid() {
    let org = load(BASE).expect("base loads");
    assert_eq!(keys(org.group_types()), ["Top", "Sub", "Side"]);
}

/// The children line of `Sub`, with its header so it is unique in `BASE`.
const SUB_CHILDREN: &str = "[group_types.Sub]\nchildren = [\"Sub\"]";

fn with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE has no `{from}`");
    BASE.replacen(from, to, 1)
}

#[test]
fn unknown_permission_names_its_line() {
    let src = with(r#"["layer_full"]"#, r#"["layer_full", "layer_fulll"]"#);
    let e = error(&src);
    assert_eq!((e.file.as_str(), e.line), ("bad.toml", 13));
    assert!(
        e.message
            .starts_with("unknown permission `layer_fulll`; known: admin, layer_and_below_full,"),
        "{e}"
    );
}

#[test]
fn unknown_permission_in_a_multi_line_list_names_its_own_line() {
    let src = with(
        r#"["layer_full"]"#,
        "[\n  \"layer_full\",\n  \"contact_data\",\n  \"group_ful\",\n]",
    );
    let e = error(&src);
    assert_eq!(e.line, 16, "{e}");
    assert!(
        e.message.starts_with("unknown permission `group_ful`"),
        "{e}"
    );
}

#[test]
fn unknown_child_type_names_its_line() {
    assert_error(
        &with(
            SUB_CHILDREN,
            "[group_types.Sub]\nchildren = [\"Sub\", \"Nope\"]",
        ),
        16,
        "group type `Sub` names unknown child type `Nope`",
    );
}

#[test]
fn unknown_default_child_names_its_line() {
    assert_error(
        &with(r#"["Sub"]"#, r#"["Sub", "Ghost"]"#),
        8,
        "group type `Top` names unknown default child type `Ghost`",
    );
}

#[test]
fn default_child_must_be_an_allowed_child() {
    let src = with(
        SUB_CHILDREN,
        "[group_types.Sub]\nchildren = []\ndefault_children = [\"Side\"]",
    );
    assert_error(
        &src,
        17,
        "default child `Side` of `Sub` is not among its allowed children",
    );
}

#[test]
fn duplicate_group_type_is_a_toml_error_at_the_second_table() {
    let src = format!("{BASE}\n[group_types.Sub]\nchildren = []\n");
    let e = error(&src);
    assert_eq!((e.file.as_str(), e.line), ("bad.toml", 23), "{e}");
    assert!(e.message.contains("duplicate"), "{e}");
    assert!(e.message.contains("Sub"), "{e}");
}

#[test]
fn duplicate_role_key_names_the_second_role() {
    let src = with(
        "key = \"Member\"\n",
        "key = \"Member\"\n\n[[group_types.Sub.roles]]\nkey = \"Member\"\n",
    );
    assert_error(&src, 22, "duplicate role type `Sub.Member`");
}

#[test]
fn duplicate_global_role_key_names_the_second_role() {
    let src = format!(
        "{BASE}\n[[global_role_types]]\nkey = \"Guest\"\n\n[[global_role_types]]\nkey = \"Guest\"\n"
    );
    assert_error(&src, 27, "duplicate role type `Guest`");
}

#[test]
fn role_key_with_a_dot_is_refused() {
    assert_error(
        &with(r#"key = "Boss""#, r#"key = "Top.Boss""#),
        12,
        "role key `Top.Boss` must be a plain name",
    );
}

#[test]
fn unknown_role_kind_names_its_line() {
    assert_error(
        &with(
            "key = \"Member\"\n",
            "key = \"Member\"\nkind = \"honorary\"\n",
        ),
        20,
        "unknown role kind `honorary`; known: member, passive, external, restricted",
    );
}

#[test]
fn unknown_event_type_names_its_line() {
    assert_error(
        &with(
            "layer = true\n",
            "layer = true\nevent_types = [\"Event\", \"Event::Camp\"]\n",
        ),
        7,
        "group type `Top` names unknown event type `Event::Camp`",
    );
}

#[test]
fn declared_event_type_is_accepted() {
    let src = with(
        "root = \"Top\"\n",
        "root = \"Top\"\nevent_types = [\"Event::Camp\"]\n",
    )
    .replacen(
        "layer = true\n",
        "layer = true\nevent_types = [\"Event::Camp\"]\n",
        1,
    );
    let org = load(&src).expect("loads");
    assert_eq!(org.root_type().event_types, ["Event::Camp"]);
}

#[test]
fn standard_role_must_be_a_role_of_the_type() {
    assert_error(
        &with(r#"standard_role = "Boss""#, r#"standard_role = "Member""#),
        9,
        "standard role `Member` is not a role of `Top`",
    );
}

#[test]
fn unreachable_type_names_its_table() {
    let src = format!("{BASE}\n[group_types.Orphan]\nlayer = true\n");
    assert_error(
        &src,
        23,
        "group type `Orphan` cannot be reached from the root `Top`",
    );
}

#[test]
fn unknown_root_names_its_line() {
    assert_error(
        &with(r#"root = "Top""#, r#"root = "Bottom""#),
        3,
        "unknown root group type `Bottom`",
    );
}

#[test]
fn bad_toml_syntax_names_its_line() {
    let e = error(&with("layer = true", "layer = yes"));
    assert_eq!((e.file.as_str(), e.line), ("bad.toml", 6), "{e}");
    assert!(!e.message.is_empty());
}

#[test]
fn unclosed_list_names_its_line() {
    // The parser notices the missing `]` at the next token it cannot take:
    // the table header two lines further down.
    let e = error(&with(
        SUB_CHILDREN,
        "[group_types.Sub]\nchildren = [\"Sub\"",
    ));
    assert_eq!(e.line, 18, "{e}");
    assert!(e.message.contains("expected `]`"), "{e}");
}

#[test]
fn unknown_field_names_its_line() {
    let e = error(&with(
        "layer = true",
        "layer = true\nlabels = { en = \"Top\" }",
    ));
    assert_eq!(e.line, 7, "{e}");
    assert!(e.message.contains("unknown field `labels`"), "{e}");
}

#[test]
fn cycle_in_default_children_names_where_it_closes() {
    let src = with(
        SUB_CHILDREN,
        "[group_types.Sub]\nchildren = [\"Sub\", \"Top\"]\ndefault_children = [\"Top\"]",
    );
    assert_error(&src, 17, "default children form a cycle: Top -> Sub -> Top");
}

#[test]
fn type_that_is_its_own_default_child_is_a_cycle() {
    let src = with(
        SUB_CHILDREN,
        "[group_types.Sub]\nchildren = [\"Sub\"]\ndefault_children = [\"Sub\"]",
    );
    assert_error(&src, 17, "default children form a cycle: Sub -> Sub");
}

#[test]
fn unreadable_file_names_the_file_without_a_line() {
    let path = example("does-not-exist.toml");
    let e = Organisation::from_file(&path).expect_err("missing file");
    assert_eq!(e.file, path.display().to_string());
    assert_eq!(e.line, 0);
    assert!(
        e.message
            .starts_with("cannot read the organisation definition")
    );
}

#[test]
fn error_displays_file_line_and_message() {
    let e = error(&with(r#"root = "Top""#, r#"root = "Bottom""#));
    assert_eq!(
        e.to_string(),
        "bad.toml:3: unknown root group type `Bottom`"
    );
}

#[test]
fn static_name_default_child_listed_twice_names_its_line() {
    let src = with(
        r#"default_children = ["Sub"]"#,
        r#"default_children = ["Side", "Side"]"#,
    );
    let src = src.replacen(
        "[group_types.Side]",
        "[group_types.Side]\nstatic_name = true",
        1,
    );
    assert_error(
        &src,
        8,
        "default child `Side` of `Top` is listed twice, but its name is fixed and a parent \
         holds only one of it",
    );
}

#[test]
fn plain_default_child_may_be_listed_twice() {
    let org = load(&with(r#"["Sub"]"#, r#"["Sub", "Sub"]"#)).expect("loads");
    let top = org.root_type();
    assert_eq!(top.default_children, ["Sub", "Sub"]);
}

#[test]
fn root_that_is_not_a_layer_names_its_line() {
    let src = r#"[organisation]
name = "Flat"
root = "Top"

[group_types.Top]
"#;
    let e = Organisation::from_toml(src, "flat.toml").expect_err("must be refused");
    assert_eq!((e.file.as_str(), e.line), ("flat.toml", 3), "{e}");
    assert!(e.message.contains("must be a layer"), "{e}");
}
