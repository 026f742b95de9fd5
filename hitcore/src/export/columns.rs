//! The columns of a tabular export and what each cell of a person's row
//! holds.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::ExportPerson;
use super::labels::{lookup, text};
use crate::ability::{self, Actor, ListRange};
use crate::group::{Group, GroupTree};
use crate::org::Organisation;
use crate::person::{EMAIL_LABELS, PHONE_LABELS};
use crate::role::Role;

/// Which of the two column sets of section 9.1 an export has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnSet {
    /// Names, address, main email, layer, roles and the public contact
    /// accounts.
    Address,
    /// The address columns plus gender, birthday, additional information
    /// and language, with every contact account, public or not.
    Full,
}

impl ColumnSet {
    /// The set the viewer gets for a list of `group` over `range`: full
    /// when [`ability::full_people_export`] allows it, else address.
    pub fn for_viewer(
        actor: &Actor,
        group: &Group,
        range: ListRange,
        tree: &GroupTree,
    ) -> ColumnSet {
        if ability::full_people_export(actor, group, range, tree).is_allowed() {
            ColumnSet::Full
        } else {
            ColumnSet::Address
        }
    }

    /// Whether non-public contact accounts are written.
    pub fn includes_private_contacts(self) -> bool {
        self == ColumnSet::Full
    }
}

/// One column of a tabular export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    FirstName,
    LastName,
    Nickname,
    CompanyName,
    /// Whether the person is a company.
    Company,
    Email,
    AddressCareOf,
    Street,
    Housenumber,
    Postbox,
    ZipCode,
    Town,
    Country,
    /// The layer of the person's primary group.
    LayerGroup,
    /// The roles the list shows, as "<type> <group> / <layer>".
    Roles,
    /// The additional emails with this predefined label.
    AdditionalEmail(&'static str),
    /// The phone numbers with this predefined label.
    PhoneNumber(&'static str),
    /// Contact accounts whose label is not predefined, as `label:value`
    /// joined by `;`.
    OtherLabels,
    Gender,
    Birthday,
    AdditionalInformation,
    Language,
    /// A column the caller adds after the person's ([`Columns::with_extra`]):
    /// a participant export's event roles and answers. Its header is the
    /// caller's, its cell the `n`-th of [`ExportPerson::extras`].
    Extra(u16),
}

const ADDRESS_FIELDS: [Column; 15] = [
    Column::FirstName,
    Column::LastName,
    Column::Nickname,
    Column::CompanyName,
    Column::Company,
    Column::Email,
    Column::AddressCareOf,
    Column::Street,
    Column::Housenumber,
    Column::Postbox,
    Column::ZipCode,
    Column::Town,
    Column::Country,
    Column::LayerGroup,
    Column::Roles,
];

const FULL_FIELDS: [Column; 4] = [
    Column::Gender,
    Column::Birthday,
    Column::AdditionalInformation,
    Column::Language,
];

impl Column {
    /// The columns of a set, in file order.
    pub fn all_of(set: ColumnSet) -> Vec<Column> {
        let mut columns = ADDRESS_FIELDS.to_vec();
        columns.extend(EMAIL_LABELS.iter().map(|&l| Column::AdditionalEmail(l)));
        columns.extend(PHONE_LABELS.iter().map(|&l| Column::PhoneNumber(l)));
        columns.push(Column::OtherLabels);
        if set == ColumnSet::Full {
            columns.extend(FULL_FIELDS);
        }
        columns
    }

    /// The column's header in `lang`.
    pub fn header(self, lang: &str) -> String {
        match self {
            Column::AdditionalEmail(label) => format!("{} {label}", text(lang, "additional_email")),
            Column::PhoneNumber(label) => format!("{} {label}", text(lang, "phone_number")),
            other => text(lang, other.key()).to_owned(),
        }
    }

    /// A width in characters that fits typical values (Excel's widths).
    pub fn width(self) -> u16 {
        match self {
            Column::Company | Column::Housenumber | Column::ZipCode => 8,
            Column::Gender | Column::Language | Column::Country | Column::Postbox => 10,
            Column::Birthday => 12,
            Column::Email | Column::AdditionalEmail(_) => 28,
            Column::PhoneNumber(_) => 18,
            Column::Roles | Column::OtherLabels | Column::AdditionalInformation => 40,
            Column::Extra(_) => 24,
            _ => 16,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Column::FirstName => "first_name",
            Column::LastName => "last_name",
            Column::Nickname => "nickname",
            Column::CompanyName => "company_name",
            Column::Company => "company",
            Column::Email => "email",
            Column::AddressCareOf => "address_care_of",
            Column::Street => "street",
            Column::Housenumber => "housenumber",
            Column::Postbox => "postbox",
            Column::ZipCode => "zip_code",
            Column::Town => "town",
            Column::Country => "country",
            Column::LayerGroup => "layer_group",
            Column::Roles => "roles",
            Column::AdditionalEmail(_) => "additional_email",
            Column::PhoneNumber(_) => "phone_number",
            Column::OtherLabels => "other_labels",
            Column::Gender => "gender",
            Column::Birthday => "birthday",
            Column::AdditionalInformation => "additional_information",
            Column::Language => "language",
            // Never looked up: [`Columns::headers`] holds its header.
            Column::Extra(_) => "extra",
        }
    }
}

/// One cell of a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Text; empty when the person has no value.
    Text(String),
    /// A date, which Excel keeps as a date (shown in the requester's
    /// format) and CSV writes as `YYYY-MM-DD` whatever the language, so
    /// that any spreadsheet reads it as a date.
    Date(NaiveDate),
}

impl Cell {
    /// The cell as text (dates as `YYYY-MM-DD`).
    pub fn into_text(self) -> String {
        match self {
            Cell::Text(t) => t,
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

/// The columns of an export and what rows are rendered with: the
/// organisation (role labels), the group tree (group and layer names) and
/// the requester's language.
#[derive(Clone, Debug)]
pub struct Columns<'a> {
    set: ColumnSet,
    columns: Vec<Column>,
    /// The headers of the [`Column::Extra`] columns, in their order.
    extra: Vec<String>,
    lang: &'a str,
    org: &'a Organisation,
    tree: &'a GroupTree,
}

impl<'a> Columns<'a> {
    /// The columns of `set`, with headers and values in `lang`.
    pub fn new(
        set: ColumnSet,
        lang: &'a str,
        org: &'a Organisation,
        tree: &'a GroupTree,
    ) -> Columns<'a> {
        Columns {
            set,
            columns: Column::all_of(set),
            extra: Vec::new(),
            lang,
            org,
            tree,
        }
    }

    /// The same columns without `column` (a participant export has no
    /// group roles column: its roles are the event's).
    pub fn without(mut self, column: Column) -> Columns<'a> {
        self.columns.retain(|c| *c != column);
        self
    }

    /// The same columns followed by one [`Column::Extra`] per header;
    /// each row's cells for them come from [`ExportPerson::extras`].
    pub fn with_extra(mut self, headers: Vec<String>) -> Columns<'a> {
        for header in headers {
            let n = u16::try_from(self.extra.len()).unwrap_or(u16::MAX);
            self.columns.push(Column::Extra(n));
            self.extra.push(header);
        }
        self
    }

    /// The column set (vCards use it for the birthday).
    pub fn set(&self) -> ColumnSet {
        self.set
    }

    /// The requester's language code.
    pub fn lang(&self) -> &str {
        self.lang
    }

    /// The columns in file order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The header row in the requester's language.
    pub fn headers(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|&c| match c {
                Column::Extra(n) => self.extra.get(usize::from(n)).cloned().unwrap_or_default(),
                other => other.header(self.lang),
            })
            .collect()
    }

    /// The cells of one person's row, one per column.
    pub fn row(&self, p: &ExportPerson<'_>) -> Vec<Cell> {
        self.columns.iter().map(|&c| self.cell(c, p)).collect()
    }

    fn cell(&self, column: Column, p: &ExportPerson<'_>) -> Cell {
        let person = p.person;
        let a = &person.address;
        let opt = |v: &Option<String>| Cell::Text(v.clone().unwrap_or_default());
        match column {
            Column::FirstName => opt(&person.first_name),
            Column::LastName => opt(&person.last_name),
            Column::Nickname => opt(&person.nickname),
            Column::CompanyName => opt(&person.company_name),
            Column::Company => self.word(if person.is_company { "yes" } else { "no" }),
            Column::Email => opt(&person.email),
            Column::AddressCareOf => opt(&a.address_care_of),
            Column::Street => opt(&a.street),
            Column::Housenumber => opt(&a.housenumber),
            Column::Postbox => opt(&a.postbox),
            Column::ZipCode => opt(&a.zip_code),
            Column::Town => opt(&a.town),
            Column::Country => opt(&a.country),
            Column::LayerGroup => Cell::Text(self.layer_name(p)),
            Column::Roles => Cell::Text(self.roles(p.roles)),
            Column::AdditionalEmail(label) => Cell::Text(self.labelled_emails(p, label)),
            Column::PhoneNumber(label) => Cell::Text(self.labelled_phones(p, label)),
            Column::OtherLabels => Cell::Text(self.other_labels(p)),
            Column::Gender => match person.gender.as_deref() {
                Some(g) => Cell::Text(
                    lookup(self.lang, &format!("gender_{g}"))
                        .unwrap_or(g)
                        .to_owned(),
                ),
                None => Cell::Text(String::new()),
            },
            Column::Birthday => person
                .birthday
                .map_or_else(|| Cell::Text(String::new()), Cell::Date),
            Column::AdditionalInformation => opt(&person.additional_information),
            Column::Language => {
                let code = person.language.as_str();
                let name = lookup(self.lang, &format!("language_{code}")).unwrap_or(code);
                Cell::Text(name.to_owned())
            }
            Column::Extra(n) => p
                .extras
                .get(usize::from(n))
                .cloned()
                .unwrap_or_else(|| Cell::Text(String::new())),
        }
    }

    fn word(&self, key: &str) -> Cell {
        Cell::Text(text(self.lang, key).to_owned())
    }

    /// The name of the layer of the person's primary group.
    fn layer_name(&self, p: &ExportPerson<'_>) -> String {
        p.person
            .primary_group_id
            .and_then(|id| self.tree.layer_of(id))
            .map(|l| l.display_name().to_owned())
            .unwrap_or_default()
    }

    /// "<type> (<label>) <group> / <layer>" per role, joined by ", "; the
    /// layer is left out for a role in a layer group. Roles of unknown
    /// groups are left out.
    fn roles(&self, roles: &[Role]) -> String {
        roles
            .iter()
            .filter_map(|r| {
                let group = self.tree.get(r.group_id)?;
                let type_label = self
                    .org
                    .role_type(&r.role_type)
                    .map_or(r.role_type.as_str(), |t| t.labels.get(self.lang));
                let mut s = type_label.to_owned();
                if let Some(label) = r.label.as_deref().filter(|l| !l.is_empty()) {
                    s.push_str(&format!(" ({label})"));
                }
                s.push(' ');
                s.push_str(group.display_name());
                if let Some(layer) = self.tree.layer_of(group.id).filter(|l| l.id != group.id) {
                    s.push_str(" / ");
                    s.push_str(layer.display_name());
                }
                Some(s)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn shows(&self, is_public: bool) -> bool {
        is_public || self.set.includes_private_contacts()
    }

    fn labelled_emails(&self, p: &ExportPerson<'_>, label: &str) -> String {
        p.additional_emails
            .iter()
            .filter(|e| self.shows(e.is_public) && same_label(&e.label, label))
            .map(|e| e.email.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn labelled_phones(&self, p: &ExportPerson<'_>, label: &str) -> String {
        p.phone_numbers
            .iter()
            .filter(|n| self.shows(n.is_public) && same_label(&n.label, label))
            .map(|n| n.number.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn other_labels(&self, p: &ExportPerson<'_>) -> String {
        let emails = p
            .additional_emails
            .iter()
            .filter(|e| self.shows(e.is_public) && !is_predefined(&EMAIL_LABELS, &e.label))
            .map(|e| format!("{}:{}", e.label, e.email));
        let phones = p
            .phone_numbers
            .iter()
            .filter(|n| self.shows(n.is_public) && !is_predefined(&PHONE_LABELS, &n.label))
            .map(|n| format!("{}:{}", n.label, n.number));
        emails.chain(phones).collect::<Vec<_>>().join(";")
    }
}

/// Labels are typed by hand, so "mobil " counts as the predefined "Mobil".
fn same_label(typed: &str, predefined: &str) -> bool {
    typed.trim().to_lowercase() == predefined.to_lowercase()
}

fn is_predefined(labels: &[&str], typed: &str) -> bool {
    labels.iter().any(|l| same_label(typed, l))
}
