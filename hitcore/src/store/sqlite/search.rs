//! [`SearchRepo`] on SQLite: FTS5 tables kept in step with `people` and
//! `groups` by triggers (see `migrations/0003_search.sql`), filtered by
//! the viewer's [`crate::ability::PeopleScope`].

use rusqlite::{Connection, named_params};

use super::{Day, SqliteStore, id_list, rows};
use crate::ability::PeopleScope;
use crate::group::Group;
use crate::person::Person;
use crate::store::search::{
    Fields, Match, NARROW_CAP, PeopleSearch, Term, Tier, area_rows, fts5_query, fts5_tiers,
    hit_limit, in_ranking, ranked_visible_ids, split_area_groups, terms,
};
use crate::store::{SearchQuery, SearchRepo, StoreError};

const PEOPLE_SQL: &str = include_str!("search_people.sql");
const AREA_GROUPS_SQL: &str = include_str!("search_area_groups.sql");
const CANDIDATES_SQL: &str = include_str!("search_candidates.sql");
const VISIBLE_SQL: &str = include_str!("search_visible.sql");
const GROUPS_SQL: &str = include_str!("search_groups.sql");

/// The name columns of `people_search`, ranked first.
const PEOPLE_NAMES: [&str; 4] = ["first_name", "last_name", "nickname", "company_name"];
/// The name columns of `groups_search`, ranked first.
const GROUP_NAMES: [&str; 2] = ["name", "short_name"];

/// The three FTS5 queries of a search: every column by prefix, the names by
/// prefix, the names exactly.
fn queries(terms: &[Term], names: &[&str]) -> [String; 3] {
    [
        fts5_query(terms, Fields::All, names, Match::Prefix),
        fts5_query(terms, Fields::Names, names, Match::Prefix),
        fts5_query(terms, Fields::Names, names, Match::Exact),
    ]
}

/// The matches of one tier among all people, or among the candidates.
fn ranked_sql(among_candidates: bool) -> String {
    if among_candidates {
        let restricted =
            PEOPLE_SQL.replace("{restriction}", "AND +rowid IN (SELECT id FROM candidates)");
        format!("{CANDIDATES_SQL}\n{restricted}")
    } else {
        PEOPLE_SQL.replace("{restriction}", "")
    }
}

/// One people search on one connection, see [`PeopleSearch`].
struct Search<'c> {
    conn: &'c Connection,
    /// The FTS5 query of each tier.
    tiers: [String; 3],
    scope: &'c PeopleScope,
    /// JSON arrays of the area groups where every role type counts, and
    /// where only the types of `visible_types` do.
    all_groups: String,
    visible_groups: String,
    visible_types: String,
    today: Day,
}

impl<'c> Search<'c> {
    fn new(
        conn: &'c Connection,
        terms: &[Term],
        q: &'c SearchQuery,
    ) -> Result<Search<'c>, StoreError> {
        let scope = &q.scope.people;
        let areas: Vec<serde_json::Value> = area_rows(scope)
            .into_iter()
            .map(|(reach, group, visible_only)| {
                serde_json::json!({"reach": reach, "group": group, "visible_only": visible_only})
            })
            .collect();
        let groups: Vec<(i64, bool)> = conn
            .prepare_cached(AREA_GROUPS_SQL)?
            .query_map(
                named_params! { ":areas": serde_json::Value::from(areas).to_string() },
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .collect::<Result<_, _>>()?;
        let (all_groups, visible_groups) = split_area_groups(groups);
        Ok(Search {
            conn,
            tiers: fts5_tiers(terms, &PEOPLE_NAMES),
            scope,
            all_groups: id_list(all_groups),
            visible_groups: id_list(visible_groups),
            visible_types: serde_json::Value::from(scope.visible_from_above.clone()).to_string(),
            today: Day(q.today),
        })
    }
}

impl PeopleSearch for Search<'_> {
    type Error = StoreError;

    fn candidate_count(&mut self, cap: i64) -> Result<i64, StoreError> {
        let sql =
            format!("{CANDIDATES_SQL}\nSELECT count(*) FROM (SELECT 1 FROM candidates LIMIT :cap)");
        let n = self.conn.prepare_cached(&sql)?.query_row(
            named_params! {
                ":self": self.scope.person_id.0,
                ":contact_data": self.scope.includes_contact_data_visible,
                ":all_groups": self.all_groups, ":visible_groups": self.visible_groups,
                ":visible_types": self.visible_types, ":today": self.today, ":cap": cap,
            },
            |r| r.get(0),
        )?;
        Ok(n)
    }

    fn ranked(
        &mut self,
        among_candidates: bool,
        tier: Tier,
        limit: i64,
        after: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let query = &self.tiers[tier as usize];
        let mut stmt = self.conn.prepare_cached(&ranked_sql(among_candidates))?;
        let ids = if among_candidates {
            stmt.query_map(
                named_params! {
                    ":tier": query, ":limit": limit, ":after": after,
                    ":self": self.scope.person_id.0,
                    ":contact_data": self.scope.includes_contact_data_visible,
                    ":all_groups": self.all_groups, ":visible_groups": self.visible_groups,
                    ":visible_types": self.visible_types, ":today": self.today,
                },
                |r| r.get(0),
            )?
            .collect::<Result<_, _>>()?
        } else {
            stmt.query_map(
                named_params! { ":tier": query, ":limit": limit, ":after": after },
                |r| r.get(0),
            )?
            .collect::<Result<_, _>>()?
        };
        Ok(ids)
    }

    fn visible(&mut self, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        let scope = self.scope;
        let visible = self
            .conn
            .prepare_cached(VISIBLE_SQL)?
            .query_map(
                named_params! {
                    ":ids": id_list(ids.iter().copied()),
                    ":everyone": scope.is_everyone, ":self": scope.person_id.0,
                    ":contact_data": scope.includes_contact_data_visible,
                    ":without_roles": scope.includes_people_without_roles,
                    ":all_groups": self.all_groups, ":visible_groups": self.visible_groups,
                    ":visible_types": self.visible_types, ":today": self.today,
                },
                |r| r.get(0),
            )?
            .collect::<Result<_, _>>()?;
        Ok(visible)
    }
}

fn search_people(conn: &Connection, q: &SearchQuery) -> Result<Vec<Person>, StoreError> {
    let terms = terms(&q.text);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let mut search = Search::new(conn, &terms, q)?;
    let hits = ranked_visible_ids(&mut search, &q.scope.people, hit_limit(q.limit), NARROW_CAP)?;
    let ids = hits.iter().map(|h| h.id);
    let sql = concat!(
        "SELECT ",
        person_columns!(),
        " FROM people p WHERE p.id IN (SELECT value FROM json_each(?1))"
    );
    let people = conn
        .prepare_cached(sql)?
        .query_map([id_list(ids)], rows::person)?
        .collect::<Result<Vec<Person>, _>>()?;
    Ok(in_ranking(&hits, people))
}

fn search_groups(conn: &Connection, q: &SearchQuery) -> Result<Vec<Group>, StoreError> {
    let terms = terms(&q.text);
    if terms.is_empty() || !q.scope.sees_groups {
        return Ok(Vec::new());
    }
    let [all, names, exact] = queries(&terms, &GROUP_NAMES);
    let sql = GROUPS_SQL.replace("{columns}", group_columns!());
    let groups = conn
        .prepare_cached(&sql)?
        .query_map(
            named_params! {
                ":all": all, ":names": names, ":exact": exact, ":limit": hit_limit(q.limit),
            },
            rows::group,
        )?
        .collect::<Result<_, _>>()?;
    Ok(groups)
}

impl SearchRepo for SqliteStore {
    #[tracing::instrument(skip_all, fields(limit = query.limit))]
    fn search_people(&self, query: &SearchQuery) -> Result<Vec<Person>, StoreError> {
        self.snapshot(|tx| search_people(tx, query))
    }

    #[tracing::instrument(skip_all, fields(limit = query.limit))]
    fn search_groups(&self, query: &SearchQuery) -> Result<Vec<Group>, StoreError> {
        self.read(|c| search_groups(c, query))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::Organisation;

    /// The query plan of a statement, one line per step.
    fn plan(sql: &str) -> Vec<String> {
        let src = "[organisation]\nname = \"T\"\nroot = \"Top\"\n[group_types.Top]\nlayer = true\n";
        let org = Organisation::from_toml(src, "t.toml").expect("org");
        let store = SqliteStore::in_memory(Arc::new(org)).expect("store");
        let conn = store.pool.get().expect("connection");
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("prepared");
        let mut rows = stmt.raw_query();
        let mut lines = Vec::new();
        while let Some(row) = rows.next().expect("row") {
            lines.push(row.get::<_, String>(3).expect("detail"));
        }
        lines
    }

    /// Fails when a step reads all of a table: the contact-data people
    /// come from a partial index of just them.
    fn assert_no_scan(lines: &[String], aliases: &[&str]) {
        let is_partial = |l: &String| l.ends_with("people_contact_data_visible_idx");
        for alias in aliases {
            let full_scan = format!("SCAN {alias}");
            assert!(
                !lines.iter().any(|l| !is_partial(l)
                    && (l == &full_scan || l.starts_with(&format!("{full_scan} ")))),
                "scans {alias}: {lines:#?}"
            );
        }
    }

    #[test]
    fn searches_start_from_the_fts_index_and_read_rows_by_key() {
        // The people of a tier come from the index alone, in its order.
        for sql in [ranked_sql(false), ranked_sql(true)] {
            let lines = plan(&sql);
            assert!(
                lines.iter().any(|l| l.contains("VIRTUAL TABLE INDEX")),
                "{lines:#?}"
            );
            assert!(
                !lines.iter().any(|l| l.contains("TEMP B-TREE")),
                "sorts: {lines:#?}"
            );
            assert_no_scan(&lines, &["p", "r"]);
        }
        let lines = plan(&GROUPS_SQL.replace("{columns}", group_columns!()));
        assert!(
            lines.iter().any(|l| l.contains("VIRTUAL TABLE INDEX")),
            "{lines:#?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("SEARCH g USING INTEGER PRIMARY KEY")),
            "{lines:#?}"
        );
    }

    #[test]
    fn candidates_and_visibility_read_roles_and_people_through_indexes() {
        let count =
            format!("{CANDIDATES_SQL}\nSELECT count(*) FROM (SELECT 1 FROM candidates LIMIT :cap)");
        for sql in [count.as_str(), VISIBLE_SQL, AREA_GROUPS_SQL] {
            let lines = plan(sql);
            assert_no_scan(&lines, &["p", "r"]);
        }
    }

    /// Every demo persona finds the same people whichever way the search
    /// goes: among their candidates, or by checking the best matches.
    #[test]
    fn both_ways_of_searching_find_the_same_people() {
        use crate::ability::{Actor, search_scope};
        use crate::group::GroupTree;
        use crate::store::{GroupRepo, PersonRepo, RoleRepo};

        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/demo-federation.toml");
        let org = Arc::new(Organisation::from_file(&path).expect("the demo definition"));
        let store = SqliteStore::in_memory(Arc::clone(&org)).expect("store");
        let now = chrono::Utc::now();
        let options = crate::seed::SeedOptions::default();
        crate::seed::load_demo(&store, &org, &options, now).expect("seeded");
        let tree = GroupTree::new(store.all_groups().expect("groups"));
        let conn = store.pool.get().expect("connection");
        for email in [
            "admin@demo.example",
            "office@demo.example",
            "north@demo.example",
            "alpha@demo.example",
            "trainer@demo.example",
        ] {
            let person = store
                .person_by_email(email)
                .expect("read")
                .expect("persona");
            let roles = store.roles_of_person(person.id).expect("roles");
            let actor = Actor::new(person.id, false, &roles, &tree, &org, now.date_naive());
            let mut found = 0;
            for text in ["an", "ma", "er", "st", "demo", "ch"] {
                for limit in [3, 100] {
                    let q = SearchQuery {
                        text: text.to_owned(),
                        scope: search_scope(&actor, &org),
                        today: now.date_naive(),
                        limit,
                    };
                    let terms = terms(text);
                    let [narrow, broad] = [i64::MAX, 0].map(|cap| {
                        let mut search = Search::new(&conn, &terms, &q).expect("search");
                        ranked_visible_ids(&mut search, &q.scope.people, i64::from(limit), cap)
                            .expect("ids")
                    });
                    assert_eq!(narrow, broad, "{email} {text} {limit}");
                    found += narrow.len();
                }
            }
            assert!(found > 10, "{email} finds {found}");
        }
    }
}
