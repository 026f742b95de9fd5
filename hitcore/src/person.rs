//! People: their fields, contact accounts and the rules for names, emails
//! and the derived state (primary group, contact data visibility).
//!
//! Login data (password hash, failed attempts) lives in [`crate::auth`];
//! this module never sees it.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use crate::group::Address;
use crate::id::{ContactId, GroupId, PersonId};
use crate::org::Organisation;
use crate::permission::Permission;
use crate::role::Role;
use crate::validate::{Violations, clean, email, single_line};

/// A person, as stored (public and business fields of section 2.1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Person {
    pub id: PersonId,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub nickname: Option<String>,
    pub company_name: Option<String>,
    pub is_company: bool,
    pub email: Option<String>,
    pub address: Address,
    pub gender: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub language: String,
    pub additional_information: Option<String>,
    pub primary_group_id: Option<GroupId>,
    /// True iff an active role grants `contact_data` (section 2.4).
    pub contact_data_visible: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Person {
    /// The company name for companies, else "first last", plus " / nick".
    pub fn display_name(&self) -> String {
        let base = if self.is_company {
            self.company_name.clone().unwrap_or_default()
        } else {
            join_names(&[&self.first_name, &self.last_name])
        };
        match &self.nickname {
            Some(n) if base.is_empty() => n.clone(),
            Some(n) => format!("{base} / {n}"),
            None => base,
        }
    }

    /// "last first", used in lists sorted by name.
    pub fn list_name(&self) -> String {
        if self.is_company {
            return self.company_name.clone().unwrap_or_default();
        }
        let base = join_names(&[&self.last_name, &self.first_name]);
        if base.is_empty() {
            self.nickname.clone().unwrap_or_default()
        } else {
            base
        }
    }

    /// The first non-blank of first name, nickname, last name, company name.
    pub fn greeting_name(&self) -> &str {
        [
            &self.first_name,
            &self.nickname,
            &self.last_name,
            &self.company_name,
        ]
        .into_iter()
        .find_map(|n| n.as_deref())
        .unwrap_or("")
    }
}

fn join_names(parts: &[&Option<String>]) -> String {
    parts
        .iter()
        .filter_map(|p| p.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The editable fields of a person, as a form or import submits them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PersonPatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub nickname: Option<String>,
    pub company_name: Option<String>,
    pub is_company: bool,
    pub email: Option<String>,
    pub address: Address,
    pub gender: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub language: Option<String>,
    pub additional_information: Option<String>,
}

impl PersonPatch {
    /// Trims, normalises and checks the fields (section 2.1).
    ///
    /// # Errors
    /// The violations: no name at all (or no company name for a company),
    /// an invalid email, a gender other than `m`/`w`, a birthday outside
    /// 1900..=9999, a language the organisation does not offer, or a line
    /// break in a single-line field.
    pub fn validated(self, org: &Organisation) -> Result<PersonPatch, Violations> {
        let mut v = Violations::default();
        let p = PersonPatch {
            first_name: clean(self.first_name),
            last_name: clean(self.last_name),
            nickname: clean(self.nickname),
            company_name: clean(self.company_name),
            is_company: self.is_company,
            email: email(&mut v, "email", self.email),
            address: self.address.cleaned(&mut v),
            gender: clean(self.gender),
            birthday: self.birthday,
            language: clean(self.language),
            additional_information: clean(self.additional_information),
        };
        for (field, value) in [
            ("first_name", &p.first_name),
            ("last_name", &p.last_name),
            ("nickname", &p.nickname),
            ("company_name", &p.company_name),
        ] {
            single_line(&mut v, field, value, 255);
        }
        if p.is_company && p.company_name.is_none() {
            v.add("company_name", "errors.required");
        }
        if !p.is_company && p.first_name.is_none() && p.last_name.is_none() && p.nickname.is_none()
        {
            v.add("first_name", "errors.name_required");
        }
        if p.gender.as_deref().is_some_and(|g| g != "m" && g != "w") {
            v.add("gender", "errors.invalid");
        }
        if p.birthday
            .is_some_and(|b| !(1900..=9999).contains(&b.year()))
        {
            v.add("birthday", "errors.year_range");
        }
        if p.language
            .as_ref()
            .is_some_and(|l| !org.languages.contains(l))
        {
            v.add("language", "errors.invalid");
        }
        if p.additional_information
            .as_ref()
            .is_some_and(|t| t.len() > 65_535)
        {
            v.add("additional_information", "errors.too_long");
        }
        v.into_result(p)
    }
}

/// An additional email address of a person (section 2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdditionalEmail {
    pub id: ContactId,
    pub person_id: PersonId,
    pub email: String,
    pub label: String,
    pub is_public: bool,
    /// Whether list mail also goes to this address.
    pub is_mailing: bool,
}

/// A phone number of a person (section 2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhoneNumber {
    pub id: ContactId,
    pub person_id: PersonId,
    pub number: String,
    pub label: String,
    pub is_public: bool,
}

/// A contact account as a form submits it: an email or a number, a label
/// and whether it is public.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactInput {
    pub value: String,
    pub label: String,
    pub is_public: bool,
    pub is_mailing: bool,
}

/// Labels offered for phone numbers (hitobito's defaults).
pub const PHONE_LABELS: [&str; 7] = [
    "Privat", "Mobil", "Arbeit", "Vater", "Mutter", "Fax", "Andere",
];
/// Labels offered for additional emails (hitobito's defaults).
pub const EMAIL_LABELS: [&str; 5] = ["Privat", "Arbeit", "Vater", "Mutter", "Andere"];

impl ContactInput {
    /// Checks an additional email: valid address, a label not ending in ".".
    ///
    /// # Errors
    /// The violations, keyed `additional_email`.
    pub fn validated_email(mut self) -> Result<ContactInput, Violations> {
        let mut v = Violations::default();
        self.value = email(&mut v, "additional_email", Some(self.value)).unwrap_or_default();
        if self.value.is_empty() {
            v.add("additional_email", "errors.required");
        }
        self.check_label(&mut v, "additional_email");
        v.into_result(self)
    }

    /// Checks a phone number: digits, spaces and `+()-/.` only, and a label.
    ///
    /// # Errors
    /// The violations, keyed `phone_number`.
    pub fn validated_phone(mut self) -> Result<ContactInput, Violations> {
        // FIXME: hitobito normalises numbers to the international format with
        // a phone library; we keep them as typed. A crate such as `phonenumber`
        // would do it.
        let mut v = Violations::default();
        self.value = self.value.trim().to_owned();
        let allowed = |c: char| c.is_ascii_digit() || " +()-/.".contains(c);
        if self.value.is_empty() {
            v.add("phone_number", "errors.required");
        } else if !self.value.chars().all(allowed) || self.value.len() > 40 {
            v.add("phone_number", "errors.invalid_phone");
        }
        self.check_label(&mut v, "phone_number");
        v.into_result(self)
    }

    fn check_label(&mut self, v: &mut Violations, field: &str) {
        self.label = self.label.trim().to_owned();
        if self.label.is_empty() || self.label.ends_with('.') || self.label.contains(['\r', '\n']) {
            v.add(field, "errors.invalid_label");
        }
    }
}

/// The primary group after a role change (section 2.4): kept while the
/// person has an active role there, else the group of the most recently
/// updated active role, else none.
pub fn primary_group_after(
    current: Option<GroupId>,
    roles: &[Role],
    today: NaiveDate,
) -> Option<GroupId> {
    let active: Vec<&Role> = roles.iter().filter(|r| r.is_active(today)).collect();
    if let Some(c) = current {
        if active.iter().any(|r| r.group_id == c) {
            return Some(c);
        }
    }
    active
        .iter()
        .max_by_key(|r| (r.updated_at, r.id))
        .map(|r| r.group_id)
}

/// Whether any active role grants `contact_data` (section 2.4).
pub fn contact_data_visible(org: &Organisation, roles: &[Role], today: NaiveDate) -> bool {
    roles.iter().filter(|r| r.is_active(today)).any(|r| {
        org.role_type(&r.role_type)
            .is_some_and(|t| t.has(Permission::ContactData))
    })
}
