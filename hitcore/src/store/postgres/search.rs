//! [`SearchRepo`] on PostgreSQL: generated `tsvector` columns with GIN
//! indexes (see `migrations/0003_search.sql`), filtered by the viewer's
//! [`crate::ability::PeopleScope`], as in the SQLite store.

use postgres::GenericClient;
use postgres::types::ToSql;

use super::{PostgresStore, query_all};
use crate::ability::PeopleScope;
use crate::group::Group;
use crate::person::Person;
use crate::store::search::{
    Fields, Match, PeopleSearch, Term, area_rows, hit_limit, in_order, ranked_visible_ids, terms,
    tsquery,
};
use crate::store::sql::date_text;
use crate::store::{SearchQuery, SearchRepo, StoreError, row};

const CANDIDATES_SQL: &str = include_str!("search_candidates.sql");
const RANKED_SQL: &str = include_str!("search_ranked.sql");
const VISIBLE_SQL: &str = include_str!("search_visible.sql");
const GROUPS_SQL: &str = include_str!("search_groups.sql");

/// The three tsquery texts of a search: every column by prefix, the names
/// by prefix, the names exactly.
fn queries(terms: &[Term]) -> [String; 3] {
    [
        tsquery(terms, Fields::All, Match::Prefix),
        tsquery(terms, Fields::Names, Match::Prefix),
        tsquery(terms, Fields::Names, Match::Exact),
    ]
}

fn ranked_sql() -> String {
    format!("{CANDIDATES_SQL}\n{RANKED_SQL}")
}

fn count_sql() -> String {
    format!("{CANDIDATES_SQL}\nSELECT count(*) FROM (SELECT 1 FROM candidates LIMIT $8::bigint) c")
}

/// The owned parameters of one people search.
struct Params<'q> {
    queries: [String; 3],
    scope: &'q PeopleScope,
    reaches: Vec<&'static str>,
    groups: Vec<i64>,
    visible_only: Vec<bool>,
    today: String,
}

impl<'q> Params<'q> {
    fn new(terms: &[Term], q: &'q SearchQuery) -> Params<'q> {
        let scope = &q.scope.people;
        let areas = area_rows(scope);
        Params {
            queries: queries(terms),
            scope,
            reaches: areas.iter().map(|a| a.0).collect(),
            groups: areas.iter().map(|a| a.1).collect(),
            visible_only: areas.iter().map(|a| a.2).collect(),
            today: date_text(q.today),
        }
    }

    /// The parameters $1 to $7 of search_candidates.sql.
    fn candidates(&self) -> Vec<&(dyn ToSql + Sync)> {
        vec![
            &self.scope.person_id.0,
            &self.scope.includes_contact_data_visible,
            &self.reaches,
            &self.groups,
            &self.visible_only,
            &self.scope.visible_from_above,
            &self.today,
        ]
    }

    /// The parameters of search_ranked.sql after those of the candidates.
    fn ranked<'a>(
        &'a self,
        limit: &'a i64,
        offset: &'a i64,
        among_candidates: &'a bool,
    ) -> Vec<&'a (dyn ToSql + Sync)> {
        let [all, names, exact] = &self.queries;
        let mut params = self.candidates();
        params.extend([
            all as &(dyn ToSql + Sync),
            names,
            exact,
            limit,
            offset,
            among_candidates,
        ]);
        params
    }
}

/// One people search on one connection, see [`PeopleSearch`].
struct Search<'c, 'q, C> {
    client: &'c mut C,
    params: Params<'q>,
}

impl<C: GenericClient> PeopleSearch for Search<'_, '_, C> {
    type Error = StoreError;

    fn candidate_count(&mut self, cap: i64) -> Result<i64, StoreError> {
        let mut params = self.params.candidates();
        params.push(&cap);
        Ok(self.client.query_one(&count_sql(), &params)?.try_get(0)?)
    }

    fn ranked(
        &mut self,
        among_candidates: bool,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let params = self.params.ranked(&limit, &offset, &among_candidates);
        query_all(&mut *self.client, &ranked_sql(), &params, |r| Ok(r.try_get(0)?))
    }

    fn visible(&mut self, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        let p = &self.params;
        let scope = p.scope;
        let ids = ids.to_vec();
        query_all(
            &mut *self.client,
            VISIBLE_SQL,
            &[
                &ids,
                &scope.is_everyone,
                &scope.person_id.0,
                &scope.includes_contact_data_visible,
                &scope.includes_people_without_roles,
                &p.reaches,
                &p.groups,
                &p.visible_only,
                &scope.visible_from_above,
                &p.today,
            ],
            |r| Ok(r.try_get(0)?),
        )
    }
}

impl SearchRepo for PostgresStore {
    #[tracing::instrument(skip_all, fields(limit = query.limit))]
    fn search_people(&self, query: &SearchQuery) -> Result<Vec<Person>, StoreError> {
        let terms = terms(&query.text);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        self.snapshot(|tx| {
            let mut search = Search {
                client: &mut *tx,
                params: Params::new(&terms, query),
            };
            let ids = ranked_visible_ids(&mut search, &query.scope.people, hit_limit(query.limit))?;
            let sql = concat!(
                "SELECT ",
                person_columns!(),
                " FROM people p WHERE p.id = ANY($1::bigint[])"
            );
            let people = query_all(tx, sql, &[&ids], row::person)?;
            Ok(in_order(&ids, people, |p| p.id.0))
        })
    }

    #[tracing::instrument(skip_all, fields(limit = query.limit))]
    fn search_groups(&self, query: &SearchQuery) -> Result<Vec<Group>, StoreError> {
        let terms = terms(&query.text);
        if terms.is_empty() || !query.scope.sees_groups {
            return Ok(Vec::new());
        }
        let [all, names, exact] = queries(&terms);
        let sql = GROUPS_SQL.replace("{columns}", group_columns!());
        self.read(|c| {
            query_all(
                c,
                &sql,
                &[&all, &names, &exact, &hit_limit(query.limit)],
                row::group,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use postgres::NoTls;

    use super::*;
    use crate::Organisation;
    use crate::ability::{Actor, search_scope};
    use crate::id::PersonId;
    use crate::store::postgres::TestSchema;

    /// The plan of a statement with the given parameters, one line per
    /// step, with sequential scans ruled out: the question is whether the
    /// statement can use the index at all (on a handful of rows the planner
    /// would rightly read the table).
    fn plan(url: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Vec<String> {
        let mut client = url
            .parse::<postgres::Config>()
            .expect("url")
            .connect(NoTls)
            .expect("connected");
        client
            .batch_execute("SET enable_seqscan = off")
            .expect("set");
        client
            .query(&format!("EXPLAIN {sql}"), params)
            .expect("explained")
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect()
    }

    #[test]
    fn searches_read_the_gin_indexes() {
        let Ok(base) = std::env::var("HIT_TEST_POSTGRES_URL") else {
            return;
        };
        let schema = TestSchema::create(&base).expect("a test schema");
        let src = "[organisation]\nname = \"T\"\nroot = \"Top\"\n[group_types.Top]\nlayer = true\n";
        let org = Arc::new(Organisation::from_toml(src, "t.toml").expect("org"));
        drop(PostgresStore::open(schema.url(), Arc::clone(&org)).expect("store"));
        let actor = Actor {
            person_id: PersonId(1),
            is_root: false,
            grants: Vec::new(),
            has_role: true,
        };
        let q = SearchQuery {
            text: "Mül Zür".to_owned(),
            scope: search_scope(&actor, &org),
            today: chrono::NaiveDate::default(),
            limit: 10,
        };
        let params = Params::new(&terms(&q.text), &q);
        let people_params = params.ranked(&10, &0, &false);
        let people = plan(schema.url(), &ranked_sql(), &people_params);
        assert!(
            people.iter().any(|l| l.contains("Bitmap Index Scan on people_search_idx")),
            "{people:#?}"
        );

        let sql = GROUPS_SQL.replace("{columns}", group_columns!());
        let [all, names, exact] = &params.queries;
        let groups = plan(schema.url(), &sql, &[all, names, exact, &10_i64]);
        assert!(
            groups.iter().any(|l| l.contains("Bitmap Index Scan on groups_search_idx")),
            "{groups:#?}"
        );
    }
}
