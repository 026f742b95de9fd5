//! The export file formats as their readers see them: CSV bytes, an Excel
//! workbook opened with `calamine`, vCards read back with `ical`.

use std::io::{BufReader, Cursor};

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{NaiveDate, TimeZone, Utc};
use hitcore::export::{ColumnSet, Columns, ExportFormat, ExportWriter, people_with_contacts};
use hitcore::group::{Address, Group, GroupTree};
use hitcore::id::{ContactId, GroupId, PersonId, RoleId};
use hitcore::org::Organisation;
use hitcore::person::{AdditionalEmail, Person, PhoneNumber};
use hitcore::role::Role;
use hitcore::store::ListedPerson;

const ORG_TOML: &str = r#"
[organisation]
name = "Export format federation"
root = "Federation"
languages = ["de", "en"]

[group_types.Federation]
label = { en = "Federation", de = "Verband" }
layer = true

[[group_types.Federation.roles]]
key = "Member"
label = { en = "Member", de = "Mitglied" }
"#;

fn org() -> Organisation {
    Organisation::from_toml(ORG_TOML, "export-format.toml").expect("the test organisation loads")
}

fn tree() -> GroupTree {
    let t = Utc
        .with_ymd_and_hms(2025, 3, 10, 9, 0, 0)
        .single()
        .expect("valid time");
    GroupTree::new(vec![Group {
        id: GroupId(1),
        parent_id: None,
        path: vec![GroupId(1)],
        layer_group_id: GroupId(1),
        group_type: "Federation".to_owned(),
        name: "Bund Süd".to_owned(),
        short_name: None,
        email: None,
        description: None,
        address: Address::default(),
        created_at: t,
        updated_at: t,
        deleted_at: None,
        archived_at: None,
    }])
}

fn person(id: i64, first: &str, last: &str) -> Person {
    let t = Utc
        .with_ymd_and_hms(2025, 3, 10, 9, 0, 0)
        .single()
        .expect("valid time");
    Person {
        id: PersonId(id),
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        nickname: None,
        company_name: None,
        is_company: false,
        email: Some(format!("p{id}@example.com")),
        address: Address {
            street: Some("Bahnhofstrasse".to_owned()),
            housenumber: Some("1".to_owned()),
            zip_code: Some("8001".to_owned()),
            town: Some("Zürich".to_owned()),
            ..Address::default()
        },
        gender: None,
        birthday: NaiveDate::from_ymd_opt(1984, 2, 29),
        language: "de".to_owned(),
        additional_information: None,
        primary_group_id: Some(GroupId(1)),
        contact_data_visible: false,
        created_at: t,
        updated_at: t,
    }
}

fn listed(p: Person) -> ListedPerson {
    let role = Role {
        id: RoleId(p.id.0),
        person_id: p.id,
        group_id: GroupId(1),
        role_type: "Federation.Member".to_owned(),
        label: None,
        start_on: None,
        end_on: None,
        archived_at: None,
        is_terminated: false,
        created_at: p.created_at,
        updated_at: p.created_at,
    };
    ListedPerson {
        person: p,
        roles: vec![role],
    }
}

/// Jürg, whose fields hold everything a CSV must quote, and plain Anna.
fn people() -> Vec<ListedPerson> {
    let mut tricky = person(1, "Jürg", "Bär; \"der Grosse\"");
    tricky.nickname = Some("Line one\nline two".to_owned());
    tricky.additional_information = Some("Notiz, mit Komma".to_owned());
    vec![listed(tricky), listed(person(2, "Anna", "Muster"))]
}

fn phones() -> Vec<PhoneNumber> {
    vec![
        PhoneNumber {
            id: ContactId(10),
            person_id: PersonId(1),
            number: "+41 79 000 00 00".to_owned(),
            label: "Mobil".to_owned(),
            is_public: true,
        },
        PhoneNumber {
            id: ContactId(11),
            person_id: PersonId(1),
            number: "+41 31 999 99 99".to_owned(),
            label: "Privat".to_owned(),
            is_public: false,
        },
    ]
}

fn emails() -> Vec<AdditionalEmail> {
    vec![AdditionalEmail {
        id: ContactId(12),
        person_id: PersonId(1),
        email: "juerg@verein.example".to_owned(),
        label: "Verein, Vorstand".to_owned(),
        is_public: true,
        is_mailing: false,
    }]
}

/// The bytes of an export of [`people`].
fn export(format: ExportFormat, set: ColumnSet, lang: &str) -> Vec<u8> {
    let (org, tree) = (org(), tree());
    let (listed, emails, phones) = (people(), emails(), phones());
    let columns = Columns::new(set, lang, &org, &tree);
    let mut writer = ExportWriter::new(format, Vec::new(), columns).expect("export starts");
    for p in people_with_contacts(&listed, &emails, &phones) {
        writer.write_person(&p).expect("person written");
    }
    assert_eq!(writer.rows_written(), 2);
    writer.finish().expect("export finished")
}

fn csv_records(bytes: &[u8], delimiter: u8) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn excel_csv_has_a_bom_semicolons_and_crlf() {
    let bytes = export(ExportFormat::Csv, ColumnSet::Address, "de");
    assert!(bytes.starts_with(b"\xEF\xBB\xBFVorname;Nachname;"));
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    assert!(text.split('\n').next().is_some_and(|l| l.ends_with('\r')));
    // The umlauts are UTF-8, not Latin-1 or escaped.
    assert!(text.contains("Jürg;"));
    assert!(text.contains("Zürich"));
}

#[test]
fn csv_fields_with_separators_quotes_and_line_breaks_are_quoted() {
    let bytes = export(ExportFormat::Csv, ColumnSet::Address, "en");
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    assert!(text.contains(r#";"Bär; ""der Grosse""";"#), "{text}");
    assert!(text.contains("\"Line one\nline two\""), "{text}");
    // Read back, every field is what was written.
    let records = csv_records(&bytes[3..], b';');
    assert_eq!(records.len(), 3);
    let header = &records[0];
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let jurg = &records[1];
    assert_eq!(jurg[col("Last name")], "Bär; \"der Grosse\"");
    assert_eq!(jurg[col("Nickname")], "Line one\nline two");
    assert_eq!(jurg[col("Phone Mobil")], "+41 79 000 00 00");
    assert_eq!(jurg[col("Phone Privat")], "", "not public");
    assert_eq!(
        jurg[col("Other contact details")],
        "Verein, Vorstand:juerg@verein.example"
    );
    assert_eq!(jurg[col("Roles")], "Member Bund Süd");
    assert!(header.iter().all(|h| h != "Birthday"));
}

#[test]
fn plain_csv_has_commas_and_no_bom() {
    let bytes = export(ExportFormat::CsvPlain, ColumnSet::Full, "en");
    assert!(bytes.starts_with(b"First name,Last name,"));
    let records = csv_records(&bytes, b',');
    let header = &records[0];
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    assert_eq!(
        records[1][col("Additional information")],
        "Notiz, mit Komma"
    );
    assert_eq!(records[1][col("Birthday")], "1984-02-29");
    assert_eq!(records[1][col("Phone Privat")], "+41 31 999 99 99");
}

fn open_xlsx(bytes: Vec<u8>, sheet: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("an xlsx workbook");
    book.worksheet_range(sheet).expect("the sheet")
}

#[test]
fn xlsx_has_the_header_and_the_umlauts() {
    let range = open_xlsx(
        export(ExportFormat::Xlsx, ColumnSet::Full, "de"),
        "Personen",
    );
    assert_eq!(range.height(), 3);
    let header: Vec<String> = range
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header[..3], ["Vorname", "Nachname", "Übername"]);
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let cell = |row: usize, name: &str| range.get((row, col(name))).cloned().unwrap_or(Data::Empty);
    assert_eq!(cell(1, "Vorname"), Data::String("Jürg".to_owned()));
    assert_eq!(cell(1, "Ort"), Data::String("Zürich".to_owned()));
    assert_eq!(
        cell(1, "Übername"),
        Data::String("Line one\nline two".to_owned())
    );
    assert_eq!(cell(2, "Nachname"), Data::String("Muster".to_owned()));
    // A birthday is a date cell, not text.
    match cell(1, "Geburtstag") {
        Data::DateTime(d) => assert!(d.is_datetime(), "{d:?}"),
        other => panic!("birthday is {other:?}"),
    }
    // Empty values stay empty cells.
    assert_eq!(cell(2, "Telefon Mobil"), Data::Empty);
}

#[test]
fn xlsx_sheet_name_follows_the_language() {
    let range = open_xlsx(
        export(ExportFormat::Xlsx, ColumnSet::Address, "en"),
        "People",
    );
    assert_eq!(
        range.get((0, 0)),
        Some(&Data::String("First name".to_owned()))
    );
}

/// A parameter's name and values.
type Param = (String, Vec<String>);
/// A card's properties: name, parameters, value.
type Card = Vec<(String, Vec<Param>, String)>;

/// The cards of an export, read back: each a list of (name, params,
/// value) with folded lines already joined.
fn parsed_cards(bytes: &[u8]) -> Vec<Card> {
    ical::VcardParser::new(BufReader::new(bytes))
        .map(|card| {
            card.expect("a vCard")
                .properties
                .into_iter()
                .map(|p| {
                    (
                        p.name,
                        p.params.unwrap_or_default(),
                        p.value.unwrap_or_default(),
                    )
                })
                .collect()
        })
        .collect()
}

#[test]
fn vcards_read_back_with_escaped_values() {
    let bytes = export(ExportFormat::Vcard, ColumnSet::Address, "de");
    let text = std::str::from_utf8(&bytes).expect("UTF-8");
    assert!(text.starts_with("BEGIN:VCARD\r\nVERSION:3.0\r\n"));
    let cards = parsed_cards(&bytes);
    assert_eq!(cards.len(), 2);
    let jurg = &cards[0];
    let value = |name: &str| {
        jurg.iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, v)| v.as_str())
            .unwrap_or_else(|| panic!("{name} in {jurg:?}"))
    };
    assert_eq!(value("N"), r#"Bär\; "der Grosse";Jürg;;;"#);
    assert_eq!(value("NICKNAME"), r"Line one\nline two");
    assert_eq!(value("ADR"), ";;Bahnhofstrasse 1;Zürich;;8001;");
    assert!(
        !jurg.iter().any(|(n, _, _)| n == "BDAY"),
        "no birthday in the address set"
    );
    let emails: Vec<_> = jurg.iter().filter(|(n, _, _)| n == "EMAIL").collect();
    assert_eq!(emails.len(), 2);
    assert_eq!(emails[0].2, "p1@example.com");
    assert_eq!(
        emails[0].1,
        [(
            "TYPE".to_owned(),
            vec!["internet".to_owned(), "pref".to_owned()]
        )]
    );
    assert_eq!(emails[1].2, "juerg@verein.example");
    // The quoted label is one value, comma and all.
    assert_eq!(
        emails[1].1,
        [("TYPE".to_owned(), vec!["Verein, Vorstand".to_owned()])]
    );
    let tels: Vec<_> = jurg.iter().filter(|(n, _, _)| n == "TEL").collect();
    assert_eq!(tels.len(), 1, "only the public number");
    assert_eq!(tels[0].2, "+41 79 000 00 00");
}

#[test]
fn vcards_of_the_full_set_carry_the_birthday() {
    let cards = parsed_cards(&export(ExportFormat::Vcard, ColumnSet::Full, "en"));
    let bday = cards[1]
        .iter()
        .find(|(n, _, _)| n == "BDAY")
        .map(|(_, _, v)| v.clone());
    assert_eq!(bday.as_deref(), Some("1984-02-29"));
    // Non-public numbers stay out of cards even then.
    assert_eq!(cards[0].iter().filter(|(n, _, _)| n == "TEL").count(), 1);
}

#[test]
fn long_vcard_lines_are_folded_and_read_back_whole() {
    let (org, tree) = (org(), tree());
    let mut p = person(3, "Maximiliane", "Oberholzer-Niederhäuser");
    p.nickname = Some("Öhrli".repeat(30));
    let listed = vec![listed(p)];
    let columns = Columns::new(ColumnSet::Address, "de", &org, &tree);
    let mut writer = ExportWriter::new(ExportFormat::Vcard, Vec::new(), columns).expect("start");
    for p in people_with_contacts(&listed, &[], &[]) {
        writer.write_person(&p).expect("written");
    }
    let bytes = writer.finish().expect("finished");
    let text = std::str::from_utf8(&bytes).expect("UTF-8");
    assert!(text.split("\r\n").all(|l| l.len() <= 75), "{text}");
    assert!(text.contains("\r\n "), "the nickname is folded");
    let cards = parsed_cards(&bytes);
    let nick = cards[0]
        .iter()
        .find(|(n, _, _)| n == "NICKNAME")
        .map(|(_, _, v)| v.clone());
    assert_eq!(nick, Some("Öhrli".repeat(30)));
}

#[test]
fn many_pages_stream_through_one_writer() {
    let (org, tree) = (org(), tree());
    for format in [ExportFormat::Csv, ExportFormat::Xlsx, ExportFormat::Vcard] {
        let columns = Columns::new(ColumnSet::Address, "en", &org, &tree);
        let mut writer = ExportWriter::new(format, Vec::new(), columns).expect("start");
        for page in 0..3 {
            let listed: Vec<ListedPerson> = (0..1000)
                .map(|i| listed(person(page * 1000 + i + 1, "Paula", "Page")))
                .collect();
            for p in people_with_contacts(&listed, &[], &[]) {
                writer.write_person(&p).expect("written");
            }
        }
        assert_eq!(writer.rows_written(), 3000);
        let bytes = writer.finish().expect("finished");
        let count = match format {
            ExportFormat::Xlsx => open_xlsx(bytes, "People").height() - 1,
            ExportFormat::Vcard => parsed_cards(&bytes).len(),
            _ => csv_records(&bytes[3..], b';').len() - 1,
        };
        assert_eq!(count, 3000, "{format:?}");
    }
}
