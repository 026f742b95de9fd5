//! Exports against the stores: the contact accounts of many people in one
//! call (a contract case, run on every store), and a whole export read
//! page by page with what the viewer may see.

mod common;

use chrono::NaiveDate;
use hitcore::ability::{self, Actor, ListRange, ListRequest, UpdatePerson, system};
use hitcore::export::{ColumnSet, Columns, ExportFormat, ExportWriter, people_with_contacts};
use hitcore::group::{Group, GroupTree};
use hitcore::id::PersonId;
use hitcore::org::RoleKind;
use hitcore::person::{ContactInput, Person, PersonPatch};
use hitcore::store::Store;

use common::*;

fn contact(value: &str, label: &str, is_public: bool) -> ContactInput {
    ContactInput {
        value: value.to_owned(),
        label: label.to_owned(),
        is_public,
        is_mailing: false,
    }
}

#[test]
fn contacts_of_many_people_come_in_one_call() {
    each_store(|w| {
        let a = w.person("Anna", "A", &w.root_members, MEMBER);
        let b = w.person("Ben", "B", &w.root_members, MEMBER);
        let c = w.person("Cleo", "C", &w.root_members, MEMBER);
        let d = w.person("Dan", "D", &w.root_members, MEMBER);
        let (pa, pb, pd) = (
            system(UpdatePerson(a.id)),
            system(UpdatePerson(b.id)),
            system(UpdatePerson(d.id)),
        );
        let b_phone =
            w.s.add_phone_number(&pb, &contact("+41 1", "Mobil", true))
                .expect("phone");
        let a_mail =
            w.s.add_additional_email(&pa, &contact("a@x.example", "Arbeit", false))
                .expect("email");
        let a_mail2 =
            w.s.add_additional_email(&pa, &contact("a@y.example", "Verein", true))
                .expect("email");
        let a_phone =
            w.s.add_phone_number(&pa, &contact("+41 2", "Privat", false))
                .expect("phone");
        // Dan's accounts are not asked for.
        w.s.add_phone_number(&pd, &contact("+41 3", "Mobil", true))
            .expect("phone");

        let (emails, phones) =
            w.s.contacts_of_people(&[b.id, a.id, c.id])
                .expect("contacts");
        assert_eq!(
            emails,
            [a_mail, a_mail2],
            "by person, then id; non-public ones too"
        );
        let mut expected = vec![a_phone, b_phone];
        expected.sort_by_key(|p| (p.person_id, p.id));
        assert_eq!(phones, expected);

        assert_eq!(
            w.s.contacts_of_people(&[c.id]).expect("none"),
            (vec![], vec![])
        );
        assert_eq!(w.s.contacts_of_people(&[]).expect("none"), (vec![], vec![]));
        assert_eq!(
            w.s.contacts_of_people(&[PersonId(9999)]).expect("unknown"),
            (vec![], vec![])
        );
    });
}

fn actor_of(s: &dyn Store, org: &hitcore::Organisation, p: &Person, tree: &GroupTree) -> Actor {
    let roles = s.roles_of_person(p.id).expect("roles");
    Actor::new(p.id, false, &roles, tree, org, day(0))
}

/// The group's list as `viewer` exports it to plain CSV, read one person
/// per page; the records with the header first.
fn export_csv(w: &World<'_>, viewer: &Person, g: &Group) -> Vec<Vec<String>> {
    let tree = GroupTree::new(w.s.all_groups().expect("groups"));
    let actor = actor_of(w.s, w.org, viewer, &tree);
    let g = tree.get(g.id).expect("group in the tree");
    let set = ColumnSet::for_viewer(&actor, g, ListRange::Group, &tree);
    let columns = Columns::new(set, "en", w.org, &tree);
    let mut writer = ExportWriter::new(ExportFormat::CsvPlain, Vec::new(), columns).expect("start");
    let mut page = 1;
    loop {
        let request = ListRequest {
            group: g,
            range: ListRange::Group,
            kind: RoleKind::Member,
            role_type: None,
            text: None,
            today: day(0),
            page,
            per_page: 1,
        };
        let query = ability::people_list_query(&actor, &tree, w.org, &request).expect("allowed");
        let listed = w.s.people_list(&query).expect("a page");
        let ids: Vec<PersonId> = listed.items.iter().map(|lp| lp.person.id).collect();
        let (emails, phones) = w.s.contacts_of_people(&ids).expect("contacts");
        for p in people_with_contacts(&listed.items, &emails, &phones) {
            writer.write_person(&p).expect("written");
        }
        if page >= listed.pages() {
            break;
        }
        page += 1;
    }
    let bytes = writer.finish().expect("finished");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice())
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect()
}

fn column(records: &[Vec<String>], header: &str) -> Vec<String> {
    let Some(i) = records[0].iter().position(|h| h == header) else {
        return Vec::new();
    };
    records[1..].iter().map(|r| r[i].clone()).collect()
}

#[test]
fn an_export_leaves_out_the_people_and_columns_the_viewer_may_not_see() {
    each_store(|w| {
        let birthday = NaiveDate::from_ymd_opt(1990, 5, 17);
        let (anna, _) = w.person_with(
            PersonPatch {
                birthday,
                ..patch("Anna", "Member", None)
            },
            &w.root_members,
            MEMBER,
            t0(),
        );
        let secret = contact("+41 31 000 00 00", "Privat", false);
        w.s.add_phone_number(&system(UpdatePerson(anna.id)), &secret)
            .expect("phone");
        // Pia presides (contact_data: her contact data is visible to every
        // contact_data holder) and is a member too.
        let pia = w.person("Pia", "President", &w.root_board, PRESIDENT);
        w.add_role(&pia, &w.root_members, MEMBER, Some(day(0)), None, t0());
        let bob = w.person("Bob", "Board", &w.root_board, BOARD_MEMBER);
        let (_, region_board, _) = w.region(&w.root, "Nord");
        let rita = w.person("Rita", "Regional", &region_board, PRESIDENT);

        // Rita presides over another layer: the contact-data people only,
        // in the address columns.
        let rita_sees = export_csv(w, &rita, &w.root_members);
        assert_eq!(column(&rita_sees, "First name"), ["Pia"]);
        assert!(
            column(&rita_sees, "Birthday").is_empty(),
            "no birthday column"
        );
        assert!(!rita_sees.iter().flatten().any(|v| v.contains("31 000")));

        // Bob reads his layer in full, one page at a time.
        let bob_sees = export_csv(w, &bob, &w.root_members);
        let mut names = column(&bob_sees, "First name");
        names.sort();
        assert_eq!(names, ["Anna", "Pia"]);
        let anna_row = bob_sees
            .iter()
            .position(|r| r[0] == "Anna")
            .expect("Anna's row");
        assert_eq!(column(&bob_sees, "Birthday")[anna_row - 1], "1990-05-17");
        assert_eq!(
            column(&bob_sees, "Phone Privat")[anna_row - 1],
            "+41 31 000 00 00"
        );
    });
}
