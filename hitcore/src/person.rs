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
    /// 1900..=9999, a language the organisation does not offer, additional
    /// information over 65,535 characters, or a line break in (or more than
    /// 255 characters of) a single-line field.
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
            .is_some_and(|t| t.chars().count() > 65_535)
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

    // TODO: key label violations to their own field with distinct messages
    // (required / one line / too long / trailing full stop) and enforce the
    // 100-character limit here; hitweb's `checked_contact` pre-checks these
    // today and could then go. A case-insensitive unique index per person
    // would also let the store refuse duplicate addresses as a Conflict.
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
    if let Some(c) = current
        && active.iter().any(|r| r.group_id == c)
    {
        return Some(c);
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::id::RoleId;

    fn org() -> Organisation {
        let src = include_str!("../../examples/demo-federation.toml");
        Organisation::from_toml(src, "demo-federation.toml").expect("the demo loads")
    }

    fn named(first: &str) -> PersonPatch {
        PersonPatch {
            first_name: Some(first.to_owned()),
            ..PersonPatch::default()
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, 10).expect("valid date")
    }

    fn role(id: i64, group: i64, role_type: &str, updated_days_ago: i64) -> Role {
        let t = Utc
            .with_ymd_and_hms(2025, 3, 10, 12, 0, 0)
            .single()
            .expect("valid instant");
        Role {
            id: RoleId(id),
            person_id: PersonId(1),
            group_id: GroupId(group),
            role_type: role_type.to_owned(),
            label: None,
            start_on: None,
            end_on: None,
            archived_at: None,
            is_terminated: false,
            created_at: t,
            updated_at: t - chrono::Duration::days(updated_days_ago),
        }
    }

    #[test]
    fn one_of_first_last_or_nickname_is_required_unless_a_company() {
        let v = PersonPatch::default()
            .validated(&org())
            .expect_err("no name");
        assert_eq!(v.for_field("first_name"), Some("errors.name_required"));
        for p in [
            named("Ann"),
            PersonPatch {
                last_name: Some("Berg".into()),
                ..PersonPatch::default()
            },
            PersonPatch {
                nickname: Some("Bee".into()),
                ..PersonPatch::default()
            },
        ] {
            assert!(p.validated(&org()).is_ok());
        }
        let blank = PersonPatch {
            first_name: Some("   ".into()),
            ..PersonPatch::default()
        };
        assert!(blank.validated(&org()).is_err(), "blank is no name");
    }

    #[test]
    fn company_needs_a_company_name_but_no_person_name() {
        let company = PersonPatch {
            is_company: true,
            ..PersonPatch::default()
        };
        let v = company
            .clone()
            .validated(&org())
            .expect_err("no company name");
        assert_eq!(v.for_field("company_name"), Some("errors.required"));
        let named = PersonPatch {
            company_name: Some(" Holz AG ".into()),
            ..company
        };
        let p = named.validated(&org()).expect("valid company");
        assert_eq!(p.company_name.as_deref(), Some("Holz AG"));
    }

    #[test]
    fn fields_are_trimmed_except_the_zip_code_and_blank_email_is_none() {
        let mut p = named("  Ann ");
        p.email = Some("  ".into());
        p.address.zip_code = Some(" 8400 ".into());
        p.address.town = Some(" Winterthur ".into());
        let p = p.validated(&org()).expect("valid");
        assert_eq!(p.first_name.as_deref(), Some("Ann"));
        assert_eq!(p.email, None);
        assert_eq!(p.address.zip_code.as_deref(), Some(" 8400 "));
        assert_eq!(p.address.town.as_deref(), Some("Winterthur"));
    }

    #[test]
    fn gender_birthday_language_and_long_text_are_checked() {
        let org = org();
        let mut p = named("Ann");
        p.gender = Some("x".into());
        p.birthday = NaiveDate::from_ymd_opt(1899, 12, 31);
        p.language = Some("fr".into());
        p.additional_information = Some("ü".repeat(65_536));
        let v = p.validated(&org).expect_err("invalid");
        assert_eq!(v.for_field("gender"), Some("errors.invalid"));
        assert_eq!(v.for_field("birthday"), Some("errors.year_range"));
        assert_eq!(v.for_field("language"), Some("errors.invalid"));
        assert_eq!(
            v.for_field("additional_information"),
            Some("errors.too_long")
        );
        let mut ok = named("Ann");
        ok.gender = Some("w".into());
        ok.birthday = NaiveDate::from_ymd_opt(1900, 1, 1);
        ok.language = Some("de".into());
        ok.additional_information = Some("ü".repeat(65_535));
        assert!(ok.validated(&org).is_ok(), "65,535 characters fit");
    }

    #[test]
    fn line_breaks_in_names_are_refused() {
        let v = named("Ann\r\nBcc: x@y")
            .validated(&org())
            .expect_err("header injection");
        assert_eq!(v.for_field("first_name"), Some("errors.single_line"));
    }

    #[test]
    fn primary_group_stays_while_active_there_else_follows_the_latest_update() {
        let roles = [
            role(1, 10, "ClubMembers.Active", 5),
            role(2, 20, "ClubMembers.Trainer", 1),
        ];
        let t = today();
        assert_eq!(
            primary_group_after(Some(GroupId(10)), &roles, t),
            Some(GroupId(10))
        );
        assert_eq!(
            primary_group_after(Some(GroupId(99)), &roles, t),
            Some(GroupId(20)),
            "most recently updated active role"
        );
        assert_eq!(primary_group_after(None, &roles, t), Some(GroupId(20)));
        let mut ended = role(3, 30, "ClubMembers.Active", 0);
        ended.end_on = t.pred_opt();
        let mut archived = role(4, 40, "ClubMembers.Active", 0);
        archived.archived_at = Some(Utc::now());
        assert_eq!(
            primary_group_after(Some(GroupId(30)), &[ended, archived], t),
            None,
            "no active role, no primary group"
        );
    }

    #[test]
    fn contact_data_visibility_needs_an_active_contact_data_role() {
        let org = org();
        let t = today();
        let trainer = role(1, 10, "ClubMembers.Trainer", 0);
        assert!(contact_data_visible(
            &org,
            std::slice::from_ref(&trainer),
            t
        ));
        let mut ended = trainer;
        ended.end_on = t.pred_opt();
        assert!(!contact_data_visible(&org, &[ended], t));
        assert!(!contact_data_visible(
            &org,
            &[role(2, 10, "ClubMembers.Active", 0)],
            t
        ));
    }

    #[test]
    fn display_list_and_greeting_names_follow_hitobito() {
        let now = Utc::now();
        let mut p = Person {
            id: PersonId(1),
            first_name: Some("Ann".into()),
            last_name: Some("Berg".into()),
            nickname: Some("Bee".into()),
            company_name: Some("Holz AG".into()),
            is_company: false,
            email: None,
            address: Address::default(),
            gender: None,
            birthday: None,
            language: "en".into(),
            additional_information: None,
            primary_group_id: None,
            contact_data_visible: false,
            created_at: now,
            updated_at: now,
        };
        assert_eq!(p.display_name(), "Ann Berg / Bee");
        assert_eq!(p.list_name(), "Berg Ann");
        assert_eq!(p.greeting_name(), "Ann");
        p.is_company = true;
        assert_eq!(p.display_name(), "Holz AG / Bee");
        assert_eq!(p.list_name(), "Holz AG");
        p.first_name = None;
        assert_eq!(p.greeting_name(), "Bee");
    }
}
