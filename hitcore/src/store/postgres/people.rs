//! [`PersonRepo`] on PostgreSQL: people, their contact accounts and the
//! people list of a group, as in the SQLite store.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use postgres::GenericClient;

use super::{PostgresStore, query_all, query_count, query_opt, roles, rule};
use crate::ability::{CreatePerson, Permit, UpdateEmail, UpdatePerson};
use crate::id::{ContactId, PersonId};
use crate::person::{AdditionalEmail, ContactInput, Person, PersonPatch, PhoneNumber};
use crate::picture::PictureRef;
use crate::role::{NewRole, Role};
use crate::store::sql::{counted_types, date_text, page_offset, text_patterns, timestamp_text};
use crate::store::{
    GroupScope, ListFilter, ListedPerson, Page, PeopleQuery, PersonRepo, StoreError, row,
};

const PAGE_SQL: &str = include_str!("people_page.sql");
const COUNT_SQL: &str = include_str!("people_count.sql");
const ROLES_SQL: &str = include_str!("people_roles.sql");

/// The groups of each scope, as conditions on `g`; `$1` is the group.
/// A subtree is a range of `path`, see `schema.sql`.
const SCOPE_GROUP: &str = "g.id = $1";
const SCOPE_LAYER: &str =
    "g.layer_group_id = (SELECT s.layer_group_id FROM groups s WHERE s.id = $1)";
const SCOPE_DEEP: &str = "g.path >= (SELECT s.path FROM groups s WHERE s.id = $1) \
     AND g.path < (SELECT substr(s.path, 1, length(s.path) - 1) || '0' \
     FROM groups s WHERE s.id = $1)";

/// The email comparison of both lookups by email. The argument is lower
/// case already (Rust's Unicode rules, as `validate::email` stores it);
/// `lower(... COLLATE "C")` is the expression of `people_email_key`.
const BY_EMAIL: &str = "lower(p.email COLLATE \"C\") = lower($1::text COLLATE \"C\")";

fn find_person(c: &mut impl GenericClient, id: PersonId) -> Result<Option<Person>, StoreError> {
    let sql = concat!(
        "SELECT ",
        person_columns!(),
        " FROM people p WHERE p.id = $1"
    );
    query_opt(c, sql, &[&id.0], row::person)
}

fn require_person(c: &mut impl GenericClient, id: PersonId) -> Result<Person, StoreError> {
    find_person(c, id)?.ok_or(StoreError::NotFound)
}

/// The person columns and the email condition, for both lookups by email.
pub(super) fn by_email_sql(columns: &str) -> String {
    format!("SELECT {columns} FROM people p WHERE {BY_EMAIL}")
}

/// The form of an email both lookups compare: trimmed and lower case, as
/// `validate::email` stores it; none for text that cannot be stored (a
/// NUL, which PostgreSQL refuses as a parameter), so that it finds no one.
pub(super) fn email_key(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    (!email.contains('\0')).then_some(email)
}

fn insert_person(
    c: &mut impl GenericClient,
    patch: &PersonPatch,
    language: &str,
    now: DateTime<Utc>,
) -> Result<PersonId, StoreError> {
    let a = &patch.address;
    let inserted = c.query_one(
        "INSERT INTO people (first_name, last_name, nickname, company_name, company, email, \
         address_care_of, street, housenumber, postbox, zip_code, town, country, gender, \
         birthday, language, additional_information, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $18) RETURNING id",
        &[
            &patch.first_name,
            &patch.last_name,
            &patch.nickname,
            &patch.company_name,
            &patch.is_company,
            &patch.email,
            &a.address_care_of,
            &a.street,
            &a.housenumber,
            &a.postbox,
            &a.zip_code,
            &a.town,
            &a.country,
            &patch.gender,
            &patch.birthday.map(date_text),
            &language,
            &patch.additional_information,
            &timestamp_text(now),
        ],
    )?;
    Ok(PersonId(inserted.try_get(0)?))
}

/// Saves the fields of `patch`; the email only when `change_email`, the
/// language only when given.
fn update_fields(
    c: &mut impl GenericClient,
    id: PersonId,
    patch: &PersonPatch,
    change_email: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let a = &patch.address;
    let changed = c.execute(
        "UPDATE people SET first_name = $1, last_name = $2, nickname = $3, \
         company_name = $4, company = $5, \
         email = CASE WHEN $6::boolean THEN $7::text ELSE email END, \
         address_care_of = $8, street = $9, housenumber = $10, postbox = $11, \
         zip_code = $12, town = $13, country = $14, gender = $15, birthday = $16, \
         language = coalesce($17::text, language), \
         additional_information = $18, updated_at = $19 WHERE id = $20",
        &[
            &patch.first_name,
            &patch.last_name,
            &patch.nickname,
            &patch.company_name,
            &patch.is_company,
            &change_email,
            &patch.email,
            &a.address_care_of,
            &a.street,
            &a.housenumber,
            &a.postbox,
            &a.zip_code,
            &a.town,
            &a.country,
            &patch.gender,
            &patch.birthday.map(date_text),
            &patch.language,
            &patch.additional_information,
            &timestamp_text(now),
            &id.0,
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A new contact id, owned by `person`.
fn new_contact(c: &mut impl GenericClient, person: PersonId) -> Result<ContactId, StoreError> {
    if find_person(c, person)?.is_none() {
        return Err(StoreError::NotFound);
    }
    let inserted = c.query_one(
        "INSERT INTO contact_accounts (person_id) VALUES ($1) RETURNING id",
        &[&person.0],
    )?;
    Ok(ContactId(inserted.try_get(0)?))
}

// ------------------------------------------------------------ people list

/// The resolved parameters of a people-list query.
struct ListParams {
    scope: i64,
    today: String,
    /// The role types that count, or none for all.
    types: Option<Vec<String>>,
    contact_only: bool,
    /// One LIKE pattern per word of the text filter.
    terms: Vec<String>,
}

impl ListParams {
    fn new(q: &PeopleQuery) -> ListParams {
        let scope = match q.scope {
            GroupScope::Group(id) | GroupScope::Layer(id) | GroupScope::Deep(id) => id.0,
        };
        ListParams {
            scope,
            today: date_text(q.today),
            types: counted_types(q),
            contact_only: q.filter == ListFilter::ContactDataOnly,
            terms: text_patterns(q.text.as_deref()),
        }
    }
}

fn with_scope(sql: &str, scope: GroupScope, columns: &str) -> String {
    let condition = match scope {
        GroupScope::Group(_) => SCOPE_GROUP,
        GroupScope::Layer(_) => SCOPE_LAYER,
        GroupScope::Deep(_) => SCOPE_DEEP,
    };
    sql.replace("{scope}", condition)
        .replace("{columns}", columns)
}

/// The three statements of a people list: the page, the total and the
/// roles of the people on the page.
fn people_list(
    c: &mut impl GenericClient,
    q: &PeopleQuery,
) -> Result<Page<ListedPerson>, StoreError> {
    let p = ListParams::new(q);
    let per_page = q.per_page.max(1);
    let page = q.page.max(1);
    let limit = i64::from(per_page);
    let offset = page_offset(page, per_page);

    let rows = query_all(
        c,
        &with_scope(PAGE_SQL, q.scope, person_columns!()),
        &[
            &p.scope,
            &p.today,
            &p.types,
            &p.contact_only,
            &p.terms,
            &limit,
            &offset,
        ],
        |r| Ok((row::person(r)?, r.try_get::<_, i64>("total")?)),
    )?;
    let total = match rows.first() {
        Some((_, total)) => u64::try_from(*total).unwrap_or(0),
        None => query_count(
            c,
            &with_scope(COUNT_SQL, q.scope, ""),
            &[&p.scope, &p.today, &p.types, &p.contact_only, &p.terms],
        )?,
    };
    let people: Vec<Person> = rows.into_iter().map(|(person, _)| person).collect();
    let mut roles: HashMap<PersonId, Vec<Role>> = HashMap::new();
    for r in roles_on_page(c, q.scope, &p, &people)? {
        roles.entry(r.person_id).or_default().push(r);
    }

    let items = people
        .into_iter()
        .map(|person| ListedPerson {
            roles: roles.remove(&person.id).unwrap_or_default(),
            person,
        })
        .collect();
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}

fn roles_on_page(
    c: &mut impl GenericClient,
    scope: GroupScope,
    p: &ListParams,
    people: &[Person],
) -> Result<Vec<Role>, StoreError> {
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = people.iter().map(|x| x.id.0).collect();
    query_all(
        c,
        &with_scope(ROLES_SQL, scope, role_columns!()),
        &[&p.scope, &p.today, &p.types, &ids],
        row::role,
    )
}

impl PersonRepo for PostgresStore {
    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn person(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
        self.read(|c| find_person(c, id))
    }

    #[tracing::instrument(skip_all, fields(people.count = ids.len()))]
    fn people(&self, ids: &[PersonId]) -> Result<Vec<Person>, StoreError> {
        let sql = concat!(
            "SELECT ",
            person_columns!(),
            " FROM people p WHERE p.id = ANY($1::bigint[])"
        );
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.read(|c| query_all(c, sql, &[&ids], row::person))
    }

    #[tracing::instrument(skip_all)]
    fn person_by_email(&self, email: &str) -> Result<Option<Person>, StoreError> {
        let sql = by_email_sql(person_columns!());
        let Some(email) = email_key(email) else {
            return Ok(None);
        };
        self.read(|c| query_opt(c, &sql, &[&email], row::person))
    }

    #[tracing::instrument(skip_all, fields(scope = ?query.scope, page = query.page))]
    fn people_list(&self, query: &PeopleQuery) -> Result<Page<ListedPerson>, StoreError> {
        self.snapshot(|tx| people_list(tx, query))
    }

    #[tracing::instrument(skip_all, fields(group.id = %role.group_id))]
    fn create_person(
        &self,
        permit: &Permit<CreatePerson>,
        patch: &PersonPatch,
        role: &NewRole,
        now: DateTime<Utc>,
    ) -> Result<(Person, Role), StoreError> {
        let t = permit.target();
        if (t.group_id, t.role_type.as_str()) != (role.group_id, role.role_type.as_str()) {
            return Err(rule("the permit does not cover this role"));
        }
        let language = patch
            .language
            .clone()
            .unwrap_or_else(|| self.org.default_language().to_owned());
        self.write(|tx| {
            let id = insert_person(tx, patch, &language, now)?;
            let role_id = roles::insert_role(tx, id, role, now)?;
            roles::refresh_person(tx, &self.org, id, now)?;
            let role = roles::find_role(tx, role_id)?.ok_or(StoreError::NotFound)?;
            Ok((require_person(tx, id)?, role))
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %permit.target().0))]
    fn update_person(
        &self,
        permit: &Permit<UpdatePerson>,
        email: Option<&Permit<UpdateEmail>>,
        patch: &PersonPatch,
        now: DateTime<Utc>,
    ) -> Result<Person, StoreError> {
        let id = permit.target().0;
        if email.is_some_and(|e| e.target().0 != id) {
            return Err(rule("the email permit is for another person"));
        }
        self.write(|tx| {
            update_fields(tx, id, patch, email.is_some(), now)?;
            require_person(tx, id)
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn additional_emails(&self, id: PersonId) -> Result<Vec<AdditionalEmail>, StoreError> {
        self.read(|c| {
            query_all(
                c,
                "SELECT id, person_id, email, label, public, mailings \
                 FROM additional_emails WHERE person_id = $1 ORDER BY id",
                &[&id.0],
                row::additional_email,
            )
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn phone_numbers(&self, id: PersonId) -> Result<Vec<PhoneNumber>, StoreError> {
        self.read(|c| {
            query_all(
                c,
                "SELECT id, person_id, number, label, public \
                 FROM phone_numbers WHERE person_id = $1 ORDER BY id",
                &[&id.0],
                row::phone_number,
            )
        })
    }

    #[tracing::instrument(skip_all, fields(people.count = ids.len()))]
    fn contacts_of_people(
        &self,
        ids: &[PersonId],
    ) -> Result<(Vec<AdditionalEmail>, Vec<PhoneNumber>), StoreError> {
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.read(|c| {
            let emails = query_all(
                c,
                "SELECT id, person_id, email, label, public, mailings FROM additional_emails \
                 WHERE person_id = ANY($1::bigint[]) ORDER BY person_id, id",
                &[&ids],
                row::additional_email,
            )?;
            let numbers = query_all(
                c,
                "SELECT id, person_id, number, label, public FROM phone_numbers \
                 WHERE person_id = ANY($1::bigint[]) ORDER BY person_id, id",
                &[&ids],
                row::phone_number,
            )?;
            Ok((emails, numbers))
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %permit.target().0))]
    fn add_additional_email(
        &self,
        permit: &Permit<UpdatePerson>,
        input: &ContactInput,
    ) -> Result<AdditionalEmail, StoreError> {
        let person = permit.target().0;
        self.write(|tx| {
            let id = new_contact(tx, person)?;
            tx.execute(
                "INSERT INTO additional_emails (id, person_id, email, label, public, mailings) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &id.0,
                    &person.0,
                    &input.value,
                    &input.label,
                    &input.is_public,
                    &input.is_mailing,
                ],
            )?;
            Ok(AdditionalEmail {
                id,
                person_id: person,
                email: input.value.clone(),
                label: input.label.clone(),
                is_public: input.is_public,
                is_mailing: input.is_mailing,
            })
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %permit.target().0))]
    fn add_phone_number(
        &self,
        permit: &Permit<UpdatePerson>,
        input: &ContactInput,
    ) -> Result<PhoneNumber, StoreError> {
        let person = permit.target().0;
        self.write(|tx| {
            let id = new_contact(tx, person)?;
            tx.execute(
                "INSERT INTO phone_numbers (id, person_id, number, label, public) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &id.0,
                    &person.0,
                    &input.value,
                    &input.label,
                    &input.is_public,
                ],
            )?;
            Ok(PhoneNumber {
                id,
                person_id: person,
                number: input.value.clone(),
                label: input.label.clone(),
                is_public: input.is_public,
            })
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %permit.target().0, contact.id = %id))]
    fn remove_contact(
        &self,
        permit: &Permit<UpdatePerson>,
        id: ContactId,
    ) -> Result<(), StoreError> {
        let person = permit.target().0;
        self.write(|tx| {
            let removed = tx.execute(
                "DELETE FROM contact_accounts WHERE id = $1 AND person_id = $2",
                &[&id.0, &person.0],
            )?;
            if removed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all)]
    fn person_count(&self) -> Result<u64, StoreError> {
        self.read(|c| query_count(c, "SELECT COUNT(*) FROM people", &[]))
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn person_picture(&self, id: PersonId) -> Result<Option<PictureRef>, StoreError> {
        self.read(|c| Ok(find_picture(c, id, "")?.flatten()))
    }

    #[tracing::instrument(skip_all, fields(person.id = %permit.target().0))]
    fn set_person_picture(
        &self,
        permit: &Permit<UpdatePerson>,
        picture: Option<&PictureRef>,
        now: DateTime<Utc>,
    ) -> Result<Option<PictureRef>, StoreError> {
        let id = permit.target().0;
        self.write(|tx| {
            // Locked, so that a second upload waits and then reads this one.
            let old = find_picture(tx, id, " FOR UPDATE")?.ok_or(StoreError::NotFound)?;
            tx.execute(
                "UPDATE people SET picture_key = $1, picture_format = $2, updated_at = $3 \
                 WHERE id = $4",
                &[
                    &picture.map(PictureRef::folder),
                    &picture.map(|p| p.format().as_str()),
                    &timestamp_text(now),
                    &id.0,
                ],
            )?;
            Ok(old)
        })
    }
}

/// The picture columns of a person (`lock` is appended to the query):
/// `None` when there is no such person, `Some(None)` when they have no
/// picture.
fn find_picture(
    c: &mut impl GenericClient,
    id: PersonId,
    lock: &str,
) -> Result<Option<Option<PictureRef>>, StoreError> {
    let sql = format!("SELECT picture_key, picture_format FROM people WHERE id = $1{lock}");
    query_opt(c, &sql, &[&id.0], |row| {
        let key: Option<String> = row.try_get(0)?;
        let format: Option<String> = row.try_get(1)?;
        PictureRef::from_columns(key.as_deref(), format.as_deref())
            .map_err(|e| StoreError::Backend(Box::new(e)))
    })
}
