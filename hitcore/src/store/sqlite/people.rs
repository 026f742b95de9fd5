//! [`PersonRepo`] on SQLite: people, their contact accounts and the
//! people list of a group.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, named_params, params};

use super::{Day, SqliteStore, Ts, day, id_list, roles, rows, rule};
use crate::ability::{CreatePerson, Permit, UpdateEmail, UpdatePerson};
use crate::id::{ContactId, PersonId};
use crate::person::{AdditionalEmail, ContactInput, Person, PersonPatch, PhoneNumber};
use crate::picture::PictureRef;
use crate::role::{NewRole, Role};
use crate::store::sql::{counted_types, page_offset, text_patterns};
use crate::store::{
    GroupScope, ListFilter, ListedPerson, Page, PeopleQuery, PersonRepo, StoreError,
};

const PAGE_SQL: &str = include_str!("people_page.sql");
const COUNT_SQL: &str = include_str!("people_count.sql");
const ROLES_SQL: &str = include_str!("people_roles.sql");

/// The groups of each scope, as conditions on `g`; `:scope` is the group.
/// A subtree is a range of `path`, see `schema.sql`.
const SCOPE_GROUP: &str = "g.id = :scope";
const SCOPE_LAYER: &str =
    "g.layer_group_id = (SELECT s.layer_group_id FROM groups s WHERE s.id = :scope)";
const SCOPE_DEEP: &str = "g.path >= (SELECT s.path FROM groups s WHERE s.id = :scope) \
     AND g.path < (SELECT substr(s.path, 1, length(s.path) - 1) || '0' \
     FROM groups s WHERE s.id = :scope)";

fn find_person(conn: &Connection, id: PersonId) -> Result<Option<Person>, StoreError> {
    let sql = concat!(
        "SELECT ",
        person_columns!(),
        " FROM people p WHERE p.id = ?1"
    );
    Ok(conn
        .prepare_cached(sql)?
        .query_row([id.0], rows::person)
        .optional()?)
}

fn require_person(conn: &Connection, id: PersonId) -> Result<Person, StoreError> {
    find_person(conn, id)?.ok_or(StoreError::NotFound)
}

fn insert_person(
    conn: &Connection,
    patch: &PersonPatch,
    language: &str,
    now: DateTime<Utc>,
) -> Result<PersonId, StoreError> {
    let a = &patch.address;
    conn.prepare_cached(
        "INSERT INTO people (first_name, last_name, nickname, company_name, company, email, \
         address_care_of, street, housenumber, postbox, zip_code, town, country, gender, \
         birthday, language, additional_information, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?18)",
    )?
    .execute(params![
        patch.first_name,
        patch.last_name,
        patch.nickname,
        patch.company_name,
        patch.is_company,
        patch.email,
        a.address_care_of,
        a.street,
        a.housenumber,
        a.postbox,
        a.zip_code,
        a.town,
        a.country,
        patch.gender,
        day(patch.birthday),
        language,
        patch.additional_information,
        Ts(now),
    ])?;
    Ok(PersonId(conn.last_insert_rowid()))
}

/// Saves the fields of `patch`; the email only when `change_email`, the
/// language only when given.
fn update_fields(
    conn: &Connection,
    id: PersonId,
    patch: &PersonPatch,
    change_email: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let a = &patch.address;
    let changed = conn
        .prepare_cached(
            "UPDATE people SET first_name = :first_name, last_name = :last_name, \
             nickname = :nickname, company_name = :company_name, company = :company, \
             email = CASE WHEN :change_email THEN :email ELSE email END, \
             address_care_of = :care_of, street = :street, housenumber = :housenumber, \
             postbox = :postbox, zip_code = :zip_code, town = :town, country = :country, \
             gender = :gender, birthday = :birthday, \
             language = coalesce(:language, language), \
             additional_information = :info, updated_at = :now WHERE id = :id",
        )?
        .execute(named_params! {
            ":first_name": patch.first_name,
            ":last_name": patch.last_name,
            ":nickname": patch.nickname,
            ":company_name": patch.company_name,
            ":company": patch.is_company,
            ":change_email": change_email,
            ":email": patch.email,
            ":care_of": a.address_care_of,
            ":street": a.street,
            ":housenumber": a.housenumber,
            ":postbox": a.postbox,
            ":zip_code": a.zip_code,
            ":town": a.town,
            ":country": a.country,
            ":gender": patch.gender,
            ":birthday": day(patch.birthday),
            ":language": patch.language,
            ":info": patch.additional_information,
            ":now": Ts(now),
            ":id": id.0,
        })?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A new contact id, owned by `person`.
fn new_contact(conn: &Connection, person: PersonId) -> Result<ContactId, StoreError> {
    if find_person(conn, person)?.is_none() {
        return Err(StoreError::NotFound);
    }
    conn.prepare_cached("INSERT INTO contact_accounts (person_id) VALUES (?1)")?
        .execute([person.0])?;
    Ok(ContactId(conn.last_insert_rowid()))
}

// ------------------------------------------------------------ people list

/// The resolved parameters of a people-list query.
struct ListParams {
    scope: i64,
    today: Day,
    /// JSON array of the role types that count, or none for all.
    types: Option<String>,
    contact_only: bool,
    /// JSON array of LIKE patterns, one per word of the text filter.
    terms: String,
}

impl ListParams {
    fn new(q: &PeopleQuery) -> ListParams {
        let scope = match q.scope {
            GroupScope::Group(id) | GroupScope::Layer(id) | GroupScope::Deep(id) => id.0,
        };
        ListParams {
            scope,
            today: Day(q.today),
            types: counted_types(q).map(|t| serde_json::Value::from(t).to_string()),
            contact_only: q.filter == ListFilter::ContactDataOnly,
            terms: serde_json::Value::from(text_patterns(q.text.as_deref())).to_string(),
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
fn people_list(conn: &Connection, q: &PeopleQuery) -> Result<Page<ListedPerson>, StoreError> {
    let p = ListParams::new(q);
    let per_page = q.per_page.max(1);
    let page = q.page.max(1);
    let offset = page_offset(page, per_page);

    let people: Vec<Person> = conn
        .prepare_cached(&with_scope(PAGE_SQL, q.scope, person_columns!()))?
        .query_map(
            named_params! {
                ":scope": p.scope, ":today": p.today, ":types": p.types,
                ":contact_only": p.contact_only, ":terms": p.terms,
                ":limit": i64::from(per_page), ":offset": offset,
            },
            rows::person,
        )?
        .collect::<Result<_, _>>()?;
    let total: i64 = conn
        .prepare_cached(&with_scope(COUNT_SQL, q.scope, ""))?
        .query_row(
            named_params! {
                ":scope": p.scope, ":today": p.today, ":types": p.types,
                ":contact_only": p.contact_only, ":terms": p.terms,
            },
            |r| r.get(0),
        )?;
    let mut roles: HashMap<PersonId, Vec<Role>> = HashMap::new();
    for r in roles_on_page(conn, q.scope, &p, &people)? {
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
        total: u64::try_from(total).unwrap_or(0),
        page,
        per_page,
    })
}

fn roles_on_page(
    conn: &Connection,
    scope: GroupScope,
    p: &ListParams,
    people: &[Person],
) -> Result<Vec<Role>, StoreError> {
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let ids = id_list(people.iter().map(|x| x.id.0));
    let roles = conn
        .prepare_cached(&with_scope(ROLES_SQL, scope, role_columns!()))?
        .query_map(
            named_params! {
                ":scope": p.scope, ":today": p.today, ":types": p.types, ":ids": ids,
            },
            rows::role,
        )?
        .collect::<Result<_, _>>()?;
    Ok(roles)
}

impl PersonRepo for SqliteStore {
    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn person(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
        self.read(|c| find_person(c, id))
    }

    #[tracing::instrument(skip_all, fields(people.count = ids.len()))]
    fn people(&self, ids: &[PersonId]) -> Result<Vec<Person>, StoreError> {
        let sql = concat!(
            "SELECT ",
            person_columns!(),
            " FROM people p WHERE p.id IN (SELECT value FROM json_each(?1))"
        );
        let ids = id_list(ids.iter().map(|i| i.0));
        self.read(|c| {
            let people = c
                .prepare_cached(sql)?
                .query_map([ids], rows::person)?
                .collect::<Result<_, _>>()?;
            Ok(people)
        })
    }

    #[tracing::instrument(skip_all)]
    fn person_by_email(&self, email: &str) -> Result<Option<Person>, StoreError> {
        let sql = concat!(
            "SELECT ",
            person_columns!(),
            " FROM people p WHERE lower(p.email) = lower(?1)"
        );
        // Stored emails are lower case by Rust's Unicode rules (see
        // `validate::email`); SQLite's `lower` folds ASCII only.
        let email = email.trim().to_lowercase();
        self.read(|c| {
            Ok(c.prepare_cached(sql)?
                .query_row([email], rows::person)
                .optional()?)
        })
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
            let emails = c
                .prepare_cached(
                    "SELECT id, person_id, email, label, public, mailings \
                     FROM additional_emails WHERE person_id = ?1 ORDER BY id",
                )?
                .query_map([id.0], rows::additional_email)?
                .collect::<Result<_, _>>()?;
            Ok(emails)
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn phone_numbers(&self, id: PersonId) -> Result<Vec<PhoneNumber>, StoreError> {
        self.read(|c| {
            let numbers = c
                .prepare_cached(
                    "SELECT id, person_id, number, label, public \
                     FROM phone_numbers WHERE person_id = ?1 ORDER BY id",
                )?
                .query_map([id.0], rows::phone_number)?
                .collect::<Result<_, _>>()?;
            Ok(numbers)
        })
    }

    #[tracing::instrument(skip_all, fields(people.count = ids.len()))]
    fn contacts_of_people(
        &self,
        ids: &[PersonId],
    ) -> Result<(Vec<AdditionalEmail>, Vec<PhoneNumber>), StoreError> {
        let ids = id_list(ids.iter().map(|i| i.0));
        self.read(|c| {
            let emails = c
                .prepare_cached(
                    "SELECT id, person_id, email, label, public, mailings FROM additional_emails \
                     WHERE person_id IN (SELECT value FROM json_each(?1)) ORDER BY person_id, id",
                )?
                .query_map([&ids], rows::additional_email)?
                .collect::<Result<_, _>>()?;
            let numbers = c
                .prepare_cached(
                    "SELECT id, person_id, number, label, public FROM phone_numbers \
                     WHERE person_id IN (SELECT value FROM json_each(?1)) ORDER BY person_id, id",
                )?
                .query_map([&ids], rows::phone_number)?
                .collect::<Result<_, _>>()?;
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
            tx.prepare_cached(
                "INSERT INTO additional_emails (id, person_id, email, label, public, mailings) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                id.0,
                person.0,
                input.value,
                input.label,
                input.is_public,
                input.is_mailing
            ])?;
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
            tx.prepare_cached(
                "INSERT INTO phone_numbers (id, person_id, number, label, public) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                id.0,
                person.0,
                input.value,
                input.label,
                input.is_public
            ])?;
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
            let removed = tx
                .prepare_cached("DELETE FROM contact_accounts WHERE id = ?1 AND person_id = ?2")?
                .execute(params![id.0, person.0])?;
            if removed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    #[tracing::instrument(skip_all)]
    fn person_count(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let n: i64 = c.query_row("SELECT COUNT(*) FROM people", [], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    #[tracing::instrument(skip_all, fields(person.id = %id))]
    fn person_picture(&self, id: PersonId) -> Result<Option<PictureRef>, StoreError> {
        self.read(|c| Ok(find_picture(c, id)?.flatten()))
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
            let old = find_picture(tx, id)?.ok_or(StoreError::NotFound)?;
            tx.prepare_cached(
                "UPDATE people SET picture_key = ?1, picture_format = ?2, updated_at = ?3 \
                 WHERE id = ?4",
            )?
            .execute(params![
                picture.map(PictureRef::folder),
                picture.map(|p| p.format().as_str()),
                Ts(now),
                id.0
            ])?;
            Ok(old)
        })
    }
}

/// The picture columns of a person: `None` when there is no such person,
/// `Some(None)` when they have no picture.
fn find_picture(conn: &Connection, id: PersonId) -> Result<Option<Option<PictureRef>>, StoreError> {
    let columns = conn
        .prepare_cached("SELECT picture_key, picture_format FROM people WHERE id = ?1")?
        .query_row([id.0], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
            ))
        })
        .optional()?;
    columns
        .map(|(key, format)| {
            PictureRef::from_columns(key.as_deref(), format.as_deref())
                .map_err(|e| StoreError::Backend(Box::new(e)))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query plan of each people-list statement for `scope`, one line
    /// per step.
    fn plans(scope: GroupScope) -> Vec<String> {
        let org = crate::Organisation::from_toml(
            "[organisation]\nname = \"T\"\nroot = \"Top\"\n[group_types.Top]\nlayer = true\n",
            "t.toml",
        )
        .expect("org");
        let store = SqliteStore::in_memory(std::sync::Arc::new(org)).expect("store");
        let conn = store.pool.get().expect("connection");
        let mut lines = Vec::new();
        for (sql, columns) in [
            (PAGE_SQL, person_columns!()),
            (COUNT_SQL, ""),
            (ROLES_SQL, role_columns!()),
        ] {
            let sql = format!("EXPLAIN QUERY PLAN {}", with_scope(sql, scope, columns));
            let mut stmt = conn.prepare(&sql).expect("prepared");
            let mut rows = stmt.raw_query();
            while let Some(row) = rows.next().expect("row") {
                lines.push(row.get::<_, String>(3).expect("detail"));
            }
        }
        lines
    }

    #[test]
    fn people_list_reads_groups_roles_and_people_through_indexes() {
        let id = crate::id::GroupId(1);
        for scope in [
            GroupScope::Group(id),
            GroupScope::Layer(id),
            GroupScope::Deep(id),
        ] {
            let plans = plans(scope);
            assert!(
                plans
                    .iter()
                    .any(|l| l.starts_with("SEARCH p USING INTEGER PRIMARY KEY")),
                "{plans:#?}"
            );
            for table in ["g", "r", "p", "s"] {
                let full_scan = format!("SCAN {table}");
                assert!(
                    !plans
                        .iter()
                        .any(|l| l == &full_scan || l.starts_with(&format!("{full_scan} "))),
                    "{scope:?} scans {table}: {plans:#?}"
                );
            }
        }
    }
}
