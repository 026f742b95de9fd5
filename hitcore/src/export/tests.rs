//! Which columns and cells a viewer gets. The file formats are tested in
//! `tests/export.rs`, through the public writer.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::ability::{Actor, ListRange};
use crate::group::{Address, Group, GroupTree};
use crate::id::{ContactId, GroupId, RoleId};
use crate::org::Organisation;

//  1 Federation ── 2 Club ── 3 Members
const ORG_TOML: &str = r#"
[organisation]
name = "Export test federation"
root = "Federation"
languages = ["de", "en"]

[group_types.Federation]
label = { en = "Federation", de = "Verband" }
layer = true
children = ["Club"]

[group_types.Club]
label = { en = "Club", de = "Verein" }
layer = true
children = ["Members"]

[[group_types.Club.roles]]
key = "Leader"
label = { en = "Leader", de = "Leitung" }
permissions = ["group_full"]

[[group_types.Club.roles]]
key = "Reader"
label = { en = "Reader", de = "Leser:in" }
permissions = ["layer_read"]

[group_types.Members]
label = { en = "Members", de = "Mitglieder" }

[[group_types.Members.roles]]
key = "Member"
label = { en = "Member", de = "Mitglied" }
"#;

static ORG: LazyLock<Organisation> = LazyLock::new(|| {
    Organisation::from_toml(ORG_TOML, "export-test.toml").expect("the test organisation loads")
});

static TREE: LazyLock<GroupTree> = LazyLock::new(|| {
    GroupTree::new(vec![
        group(1, &[1], 1, "Federation", "Bund"),
        group(2, &[1, 2], 2, "Club", "FC Beispiel"),
        group(3, &[1, 2, 3], 2, "Members", "Aktive"),
    ])
});

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 10, 9, 0, 0)
        .single()
        .expect("valid time")
}

fn group(id: i64, path: &[i64], layer: i64, group_type: &str, name: &str) -> Group {
    Group {
        id: GroupId(id),
        parent_id: path.len().checked_sub(2).map(|i| GroupId(path[i])),
        path: path.iter().copied().map(GroupId).collect(),
        layer_group_id: GroupId(layer),
        group_type: group_type.to_owned(),
        name: name.to_owned(),
        short_name: None,
        email: None,
        description: None,
        address: Address::default(),
        created_at: now(),
        updated_at: now(),
        deleted_at: None,
        archived_at: None,
    }
}

fn role(id: i64, person: i64, group: i64, role_type: &str, label: Option<&str>) -> Role {
    Role {
        id: RoleId(id),
        person_id: PersonId(person),
        group_id: GroupId(group),
        role_type: role_type.to_owned(),
        label: label.map(str::to_owned),
        start_on: None,
        end_on: None,
        archived_at: None,
        is_terminated: false,
        created_at: now(),
        updated_at: now(),
    }
}

fn anna() -> Person {
    Person {
        id: PersonId(7),
        first_name: Some("Anna".to_owned()),
        last_name: Some("Müller".to_owned()),
        nickname: Some("Änni".to_owned()),
        company_name: None,
        is_company: false,
        email: Some("anna@example.com".to_owned()),
        address: Address {
            address_care_of: None,
            street: Some("Hauptstrasse".to_owned()),
            housenumber: Some("3a".to_owned()),
            postbox: None,
            zip_code: Some("3000".to_owned()),
            town: Some("Bern".to_owned()),
            country: Some("CH".to_owned()),
        },
        gender: Some("w".to_owned()),
        birthday: NaiveDate::from_ymd_opt(1990, 1, 31),
        language: "de".to_owned(),
        additional_information: Some("Allergie: Nüsse".to_owned()),
        primary_group_id: Some(GroupId(3)),
        contact_data_visible: false,
        created_at: now(),
        updated_at: now(),
    }
}

fn email(id: i64, address: &str, label: &str, is_public: bool) -> AdditionalEmail {
    AdditionalEmail {
        id: ContactId(id),
        person_id: PersonId(7),
        email: address.to_owned(),
        label: label.to_owned(),
        is_public,
        is_mailing: false,
    }
}

fn phone(id: i64, number: &str, label: &str, is_public: bool) -> PhoneNumber {
    PhoneNumber {
        id: ContactId(id),
        person_id: PersonId(7),
        number: number.to_owned(),
        label: label.to_owned(),
        is_public,
    }
}

struct Fixture {
    listed: Vec<ListedPerson>,
    emails: Vec<AdditionalEmail>,
    phones: Vec<PhoneNumber>,
}

fn fixture() -> Fixture {
    Fixture {
        listed: vec![ListedPerson {
            person: anna(),
            roles: vec![
                role(1, 7, 3, "Members.Member", None),
                role(2, 7, 2, "Club.Leader", Some("Kasse")),
            ],
        }],
        emails: vec![
            email(1, "anna@work.example", "Arbeit", true),
            email(2, "anna@home.example", "Privat", false),
            email(3, "anna@club.example", "Verein", true),
        ],
        phones: vec![
            phone(4, "+41 79 000 00 00", "Mobil", true),
            phone(5, "+41 31 000 00 00", "privat ", true),
            phone(6, "+41 31 111 11 11", "Geheim", false),
        ],
    }
}

/// The one row of the fixture, as (header, text) pairs.
fn row_of(set: ColumnSet, lang: &str) -> Vec<(String, String)> {
    let f = fixture();
    let people = people_with_contacts(&f.listed, &f.emails, &f.phones);
    let columns = Columns::new(set, lang, &ORG, &TREE);
    columns
        .headers()
        .into_iter()
        .zip(columns.row(&people[0]).into_iter().map(Cell::into_text))
        .collect()
}

fn value<'a>(row: &'a [(String, String)], header: &str) -> Option<&'a str> {
    row.iter()
        .find(|(h, _)| h == header)
        .map(|(_, v)| v.as_str())
}

fn actor(role_type: &str, at: i64) -> Actor {
    let roles = [role(99, 100, at, role_type, None)];
    Actor::new(
        PersonId(100),
        false,
        &roles,
        &TREE,
        &ORG,
        now().date_naive(),
    )
}

#[test]
fn the_address_set_has_the_address_columns_of_section_9_1() {
    let headers: Vec<String> = Columns::new(ColumnSet::Address, "en", &ORG, &TREE).headers();
    let expected_start = [
        "First name",
        "Last name",
        "Nickname",
        "Company name",
        "Company",
        "Main email",
        "c/o",
        "Street",
        "House number",
        "Post box",
        "Postcode",
        "Town",
        "Country",
        "Main layer",
        "Roles",
        "Email Privat",
    ];
    assert_eq!(headers[..expected_start.len()], expected_start);
    assert!(headers.contains(&"Phone Mobil".to_owned()));
    assert_eq!(
        headers.last().map(String::as_str),
        Some("Other contact details")
    );
    for full_only in ["Gender", "Birthday", "Additional information", "Language"] {
        assert!(!headers.iter().any(|h| h == full_only), "{full_only}");
    }
}

#[test]
fn the_full_set_adds_the_personal_columns() {
    let address = Columns::new(ColumnSet::Address, "en", &ORG, &TREE).headers();
    let full = Columns::new(ColumnSet::Full, "en", &ORG, &TREE).headers();
    assert_eq!(full[..address.len()], address[..]);
    assert_eq!(
        full[address.len()..],
        ["Gender", "Birthday", "Additional information", "Language"]
    );
}

#[test]
fn headers_follow_the_requesters_language() {
    let de = Columns::new(ColumnSet::Full, "de", &ORG, &TREE).headers();
    for header in [
        "Vorname",
        "Übername",
        "PLZ",
        "Telefon Mobil",
        "E-Mail Arbeit",
        "Geburtstag",
    ] {
        assert!(de.iter().any(|h| h == header), "{header} in {de:?}");
    }
    let fr = Columns::new(ColumnSet::Full, "fr", &ORG, &TREE).headers();
    assert_eq!(
        fr,
        Columns::new(ColumnSet::Full, "en", &ORG, &TREE).headers()
    );
}

#[test]
fn the_address_set_writes_public_contact_accounts_only() {
    let row = row_of(ColumnSet::Address, "en");
    assert_eq!(value(&row, "Email Arbeit"), Some("anna@work.example"));
    assert_eq!(value(&row, "Email Privat"), Some(""));
    assert_eq!(value(&row, "Phone Mobil"), Some("+41 79 000 00 00"));
    // A predefined label matches whatever its case and spacing.
    assert_eq!(value(&row, "Phone Privat"), Some("+41 31 000 00 00"));
    assert_eq!(
        value(&row, "Other contact details"),
        Some("Verein:anna@club.example")
    );
    assert!(!row.iter().any(|(_, v)| v.contains("111 11 11")));
    assert!(!row.iter().any(|(_, v)| v.contains("anna@home.example")));
}

#[test]
fn the_full_set_writes_every_contact_account_and_the_personal_fields() {
    let row = row_of(ColumnSet::Full, "de");
    assert_eq!(value(&row, "E-Mail Privat"), Some("anna@home.example"));
    assert_eq!(
        value(&row, "Weitere Kontaktangaben"),
        Some("Verein:anna@club.example;Geheim:+41 31 111 11 11")
    );
    assert_eq!(value(&row, "Geburtstag"), Some("1990-01-31"));
    assert_eq!(value(&row, "Geschlecht"), Some("weiblich"));
    assert_eq!(value(&row, "Sprache"), Some("Deutsch"));
    assert_eq!(value(&row, "Zusätzliche Angaben"), Some("Allergie: Nüsse"));
    assert_eq!(value(&row, "Firma"), Some("nein"));
}

#[test]
fn roles_name_their_group_and_layer() {
    let row = row_of(ColumnSet::Address, "de");
    assert_eq!(
        value(&row, "Rollen"),
        Some("Mitglied Aktive / FC Beispiel, Leitung (Kasse) FC Beispiel")
    );
    assert_eq!(value(&row, "Hauptebene"), Some("FC Beispiel"));
}

#[test]
fn a_leader_who_may_not_see_full_gets_no_birthday() {
    // group_full on the club: the club's own list in full, but not the
    // layer-wide one, and not the members group below.
    let leader = actor("Club.Leader", 2);
    let club = TREE.get(GroupId(2)).expect("club");
    let members = TREE.get(GroupId(3)).expect("members");
    assert_eq!(
        ColumnSet::for_viewer(&leader, club, ListRange::Group, &TREE),
        ColumnSet::Full
    );
    for (g, range) in [(club, ListRange::Layer), (members, ListRange::Group)] {
        let set = ColumnSet::for_viewer(&leader, g, range, &TREE);
        assert_eq!(set, ColumnSet::Address, "{} {range:?}", g.name);
        let row = row_of(set, "en");
        assert_eq!(value(&row, "Birthday"), None);
        assert!(!row.iter().any(|(_, v)| v.contains("1990")));
    }
    // layer_read reads the whole layer in full.
    let reader = actor("Club.Reader", 2);
    assert_eq!(
        ColumnSet::for_viewer(&reader, club, ListRange::Layer, &TREE),
        ColumnSet::Full
    );
}

#[test]
fn contacts_are_paired_with_their_people_in_page_order() {
    let mut f = fixture();
    let mut bert = f.listed[0].clone();
    bert.person.id = PersonId(8);
    f.listed.insert(0, bert);
    let mut bert_phone = phone(9, "+41 44 000 00 00", "Mobil", true);
    bert_phone.person_id = PersonId(8);
    // Contacts of someone not on the page are ignored.
    let mut stranger = phone(10, "+41 55 000 00 00", "Mobil", true);
    stranger.person_id = PersonId(99);
    f.phones.extend([bert_phone, stranger]);
    let people = people_with_contacts(&f.listed, &f.emails, &f.phones);
    assert_eq!(people.len(), 2);
    assert_eq!(people[0].person.id, PersonId(8));
    assert_eq!(people[0].phone_numbers.len(), 1);
    assert!(people[0].additional_emails.is_empty());
    assert_eq!(people[1].phone_numbers.len(), 3);
    assert_eq!(people[1].additional_emails.len(), 3);
}

#[test]
fn formats_round_trip_through_their_names() {
    for f in [
        ExportFormat::Csv,
        ExportFormat::CsvPlain,
        ExportFormat::Xlsx,
        ExportFormat::Vcard,
    ] {
        assert_eq!(ExportFormat::parse(f.as_str()), Some(f));
    }
    assert_eq!(ExportFormat::parse("pdf"), None);
    assert_eq!(ExportFormat::Vcard.extension(), "vcf");
}
