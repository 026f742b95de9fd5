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
    Fields, Match, NARROW_CAP, PeopleSearch, Term, Tier, area_rows, hit_limit, in_ranking,
    ranked_visible_ids, split_area_groups, terms, tsquery, tsquery_tiers,
};
use crate::store::sql::date_text;
use crate::store::{SearchQuery, SearchRepo, StoreError, row};

const AREA_GROUPS_SQL: &str = include_str!("search_area_groups.sql");
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

/// The matches of one tier among all people (parameters $1 to $3), or
/// among the candidates (theirs follow, from $4).
fn ranked_sql(among_candidates: bool) -> String {
    if among_candidates {
        let ranked = RANKED_SQL.replace("{restriction}", "AND p.id IN (SELECT id FROM candidates)");
        format!("{}\n{ranked}", shift_params(CANDIDATES_SQL, 3))
    } else {
        RANKED_SQL.replace("{restriction}", "")
    }
}

/// `sql` with every parameter `$n` renumbered to `$(n + by)`. The search
/// statements hold no other `$`.
fn shift_params(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

fn count_sql() -> String {
    format!("{CANDIDATES_SQL}\nSELECT count(*) FROM (SELECT 1 FROM candidates LIMIT $7::bigint) c")
}

/// The owned parameters of one people search.
struct Params<'q> {
    /// The tsquery text of each tier.
    tiers: [String; 3],
    scope: &'q PeopleScope,
    /// The area groups where every role type counts, and where only the
    /// types visible from above do.
    all_groups: Vec<i64>,
    visible_groups: Vec<i64>,
    today: String,
}

impl<'q> Params<'q> {
    fn new(
        c: &mut impl GenericClient,
        terms: &[Term],
        q: &'q SearchQuery,
    ) -> Result<Params<'q>, StoreError> {
        let scope = &q.scope.people;
        let areas = area_rows(scope);
        let reaches: Vec<&str> = areas.iter().map(|a| a.0).collect();
        let groups: Vec<i64> = areas.iter().map(|a| a.1).collect();
        let visible_only: Vec<bool> = areas.iter().map(|a| a.2).collect();
        let rows = query_all(
            c,
            AREA_GROUPS_SQL,
            &[&reaches, &groups, &visible_only],
            |r| Ok((r.try_get(0)?, r.try_get(1)?)),
        )?;
        let (all_groups, visible_groups) = split_area_groups(rows);
        Ok(Params {
            tiers: tsquery_tiers(terms),
            scope,
            all_groups,
            visible_groups,
            today: date_text(q.today),
        })
    }

    /// The parameters $1 to $6 of search_candidates.sql.
    fn candidates(&self) -> Vec<&(dyn ToSql + Sync)> {
        vec![
            &self.scope.person_id.0,
            &self.scope.includes_contact_data_visible,
            &self.all_groups,
            &self.visible_groups,
            &self.scope.visible_from_above,
            &self.today,
        ]
    }

    /// The parameters of search_ranked.sql, then those of the candidates
    /// when they restrict it.
    fn ranked<'a>(
        &'a self,
        tier: Tier,
        limit: &'a i64,
        after: &'a i64,
        among_candidates: bool,
    ) -> Vec<&'a (dyn ToSql + Sync)> {
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&self.tiers[tier as usize], limit, after];
        if among_candidates {
            params.extend(self.candidates());
        }
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
        tier: Tier,
        limit: i64,
        after: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let params = self.params.ranked(tier, &limit, &after, among_candidates);
        let sql = ranked_sql(among_candidates);
        query_all(&mut *self.client, &sql, &params, |r| Ok(r.try_get(0)?))
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
                &p.all_groups,
                &p.visible_groups,
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
            let params = Params::new(tx, &terms, query)?;
            let mut search = Search {
                client: &mut *tx,
                params,
            };
            let hits = ranked_visible_ids(
                &mut search,
                &query.scope.people,
                hit_limit(query.limit),
                NARROW_CAP,
            )?;
            let sql = concat!(
                "SELECT ",
                person_columns!(),
                " FROM people p WHERE p.id = ANY($1::bigint[])"
            );
            let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
            let people = query_all(tx, sql, &[&ids], row::person)?;
            Ok(in_ranking(&hits, people))
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
    fn parameters_are_renumbered() {
        assert_eq!(
            shift_params("a = $1 AND b = ANY($12::x) $", 5),
            "a = $6 AND b = ANY($17::x) $"
        );
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
        let mut client = schema
            .url()
            .parse::<postgres::Config>()
            .expect("url")
            .connect(NoTls)
            .expect("connected");
        // Many people, one of whom matches: a rare word is taken from the
        // GIN index rather than by walking the primary key.
        client
            .batch_execute(
                "INSERT INTO people (first_name, last_name, language, created_at, updated_at) \
                 SELECT 'Person', 'Nummer ' || n, 'de', 'x', 'x' FROM generate_series(1, 5000) n; \
                 INSERT INTO people (first_name, last_name, language, created_at, updated_at) \
                 VALUES ('Zürcher', 'Müller', 'de', 'x', 'x'); ANALYZE people",
            )
            .expect("people");
        let params = Params::new(&mut client, &terms(&q.text), &q).expect("params");
        let people_params = params.ranked(Tier::NamePrefix, &10, &0, false);
        let people = plan(schema.url(), &ranked_sql(false), &people_params);
        assert!(
            people
                .iter()
                .any(|l| l.contains("Bitmap Index Scan on people_search_idx")),
            "{people:#?}"
        );

        let sql = GROUPS_SQL.replace("{columns}", group_columns!());
        let [all, names, exact] = &queries(&terms(&q.text));
        let groups = plan(schema.url(), &sql, &[all, names, exact, &10_i64]);
        assert!(
            groups
                .iter()
                .any(|l| l.contains("Bitmap Index Scan on groups_search_idx")),
            "{groups:#?}"
        );
    }

    /// Every demo persona finds the same people whichever way the search
    /// goes: among their candidates, or by checking the best matches.
    #[test]
    fn both_ways_of_searching_find_the_same_people() {
        use crate::group::GroupTree;
        use crate::store::{GroupRepo, PersonRepo, RoleRepo};

        let Ok(base) = std::env::var("HIT_TEST_POSTGRES_URL") else {
            return;
        };
        let schema = TestSchema::create(&base).expect("a test schema");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/demo-federation.toml");
        let org = Arc::new(Organisation::from_file(&path).expect("the demo definition"));
        let store = PostgresStore::open(schema.url(), Arc::clone(&org)).expect("store");
        let now = chrono::Utc::now();
        let options = crate::seed::SeedOptions::default();
        crate::seed::load_demo(&store, &org, &options, now).expect("seeded");
        let tree = GroupTree::new(store.all_groups().expect("groups"));
        let mut client = schema
            .url()
            .parse::<postgres::Config>()
            .expect("url")
            .connect(NoTls)
            .expect("connected");
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
                        let params = Params::new(&mut client, &terms, &q).expect("params");
                        let mut search = Search {
                            client: &mut client,
                            params,
                        };
                        ranked_visible_ids(&mut search, &q.scope.people, i64::from(limit), cap)
                            .expect("ids")
                    });
                    assert_eq!(narrow, broad, "{email} {text} {limit}");
                    found += narrow.len();
                }
            }
            assert!(found > 10, "{email} finds {found}");
        }
        drop(store);
    }
}
