//! The migration runner on every backend: a SQLite file always, and a fresh
//! schema of the PostgreSQL database `HIT_TEST_POSTGRES_URL` names when
//! that is set. Old databases are migrated to the latest version with
//! their rows kept, `open` refuses a database that is behind or ahead, and
//! runs racing on one database apply each migration exactly once.
//!
//! The databases are reached by URL (not through `common::stores()`),
//! because these tests create them at chosen versions and look at
//! `schema_migrations` with the drivers directly.

mod common;

use std::sync::{Arc, Barrier};

use hitcore::store::migration::{INITIAL_VERSION, LATEST_VERSION, MIGRATIONS, Report};
use hitcore::store::{self, StoreError};

use common::org;

/// One database under test, and what keeps it alive.
struct Db {
    name: &'static str,
    url: String,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<hitcore::store::postgres::TestSchema>,
}

impl Db {
    fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// Runs statements with the driver, outside the store.
    fn execute(&self, sql: &str) {
        if self.is_postgres() {
            pg_client(&self.url).batch_execute(sql).expect(sql);
        } else {
            sqlite_conn(&self.url).execute_batch(sql).expect(sql);
        }
    }

    /// The rows of `schema_migrations`, in order.
    fn versions(&self) -> Vec<i64> {
        let sql = "SELECT version FROM schema_migrations ORDER BY version";
        if self.is_postgres() {
            let rows = pg_client(&self.url).query(sql, &[]).expect(sql);
            rows.iter().map(|r| i64::from(r.get::<_, i32>(0))).collect()
        } else {
            let conn = sqlite_conn(&self.url);
            let mut stmt = conn.prepare(sql).expect(sql);
            stmt.query_map([], |r| r.get(0))
                .expect(sql)
                .collect::<Result<_, _>>()
                .expect("versions")
        }
    }

    /// Whether an index of this name exists.
    fn has_index(&self, name: &str) -> bool {
        if self.is_postgres() {
            let sql = "SELECT COUNT(*) FROM pg_indexes \
                       WHERE schemaname = current_schema() AND indexname = $1";
            let n: i64 = pg_client(&self.url)
                .query_one(sql, &[&name])
                .expect(sql)
                .get(0);
            n == 1
        } else {
            let sql = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?1";
            let n: i64 = sqlite_conn(&self.url)
                .query_row(sql, [name], |r| r.get(0))
                .expect(sql);
            n == 1
        }
    }
}

fn pg_client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connected")
}

fn sqlite_conn(url: &str) -> rusqlite::Connection {
    let path = url.strip_prefix("sqlite://").expect("a sqlite:// URL");
    rusqlite::Connection::open(path).expect("opened")
}

/// A fresh, empty database on every backend.
fn databases() -> Vec<Db> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("migrations.db").display());
    let mut all = vec![Db {
        name: "sqlite file",
        url,
        _dir: Some(dir),
        _schema: None,
    }];
    if let Some(base) = std::env::var("HIT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        let schema = hitcore::store::postgres::TestSchema::create(&base).expect("a test schema");
        all.push(Db {
            name: "postgres",
            url: schema.url().to_owned(),
            _dir: None,
            _schema: Some(schema),
        });
    } else {
        eprintln!("note: HIT_TEST_POSTGRES_URL is not set: PostgreSQL is skipped");
    }
    all
}

fn each_database(case: impl Fn(&Db)) {
    for db in databases() {
        eprintln!("--- database: {}", db.name);
        case(&db);
    }
}

fn every_version() -> Vec<i64> {
    (INITIAL_VERSION..=LATEST_VERSION).collect()
}

/// The index migration 0002 creates.
const INDEX_OF_0002: &str = "people_primary_group_id_idx";

fn refusal(e: StoreError) -> String {
    match e {
        StoreError::Rule(message) => message,
        other => panic!("expected a refusal: {other:?}"),
    }
}

#[test]
fn latest_version_is_that_of_the_last_migration() {
    const { assert!(LATEST_VERSION >= 2, "migration 0002 exists") };
    assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(LATEST_VERSION));
}

#[test]
fn empty_database_is_created_from_the_schema_and_migrated_on_open() {
    each_database(|db| {
        drop(store::open(&db.url, org()).expect("opened"));
        assert_eq!(db.versions(), every_version());
        assert!(db.has_index(INDEX_OF_0002));
    });
}

#[test]
fn old_database_is_migrated_to_the_latest_version_keeping_its_rows() {
    each_database(|db| {
        let created = store::migrate_to(&db.url, INITIAL_VERSION).expect("version 1");
        assert!(created.is_created);
        assert_eq!(db.versions(), [INITIAL_VERSION]);
        assert!(!db.has_index(INDEX_OF_0002));
        db.execute(
            "INSERT INTO people (first_name, language, created_at, updated_at) \
             VALUES ('Old', 'de', '2020-01-01T00:00:00.000000Z', '2020-01-01T00:00:00.000000Z')",
        );

        let report = store::migrate(&db.url).expect("migrated");
        assert_eq!(
            report,
            Report {
                is_created: false,
                from: INITIAL_VERSION,
                to: LATEST_VERSION,
                applied: MIGRATIONS.to_vec(),
            }
        );
        assert_eq!(db.versions(), every_version());
        assert!(db.has_index(INDEX_OF_0002));
        let s = store::open(&db.url, org()).expect("opens once migrated");
        assert_eq!(s.person_count().expect("count"), 1);
    });
}

#[test]
fn migrating_an_up_to_date_database_changes_nothing() {
    each_database(|db| {
        drop(store::open(&db.url, org()).expect("opened"));
        let report = store::migrate(&db.url).expect("migrated");
        assert!(report.applied.is_empty(), "{report}");
        assert_eq!((report.from, report.to), (LATEST_VERSION, LATEST_VERSION));
        assert_eq!(db.versions(), every_version());
    });
}

#[test]
fn list_deliveries_of_version_8_move_into_batches() {
    const TS: &str = "2026-01-01T00:00:00.000000Z";
    each_database(|db| {
        store::migrate_to(&db.url, 11).expect("version 11");
        db.execute(&format!(
            "INSERT INTO inbound_mails (id, raw_hash, message_key, subject, size_bytes, outcome, \
                 received_at) VALUES (1, 'h', 'k', 'Hi', 10, 'accepted', '{TS}'); \
             INSERT INTO list_messages (id, inbound_mail_id, mailing_list_id, message_key, token, \
                 state, subject, sender, is_reply_due, recipients, sent, failed, received_at, \
                 planned_at) \
             VALUES (1, 1, 1, 'k', 't', 'delivering', 'Hi', 's@example.test', FALSE, 7, 1, 1, \
                 '{TS}', '{TS}'); \
             INSERT INTO list_deliveries (list_message_id, email, batch, state, error) VALUES \
                 (1, 'a@x.test', 0, 'sent', NULL), (1, 'b@x.test', 0, 'failed', '550 unknown'), \
                 (1, 'c@x.test', 0, 'pending', NULL), (1, 'd@x.test', 1, 'handed', NULL), \
                 (1, 'e@x.test', 1, 'handed', NULL), (1, 'f@x.test', 2, 'pending', NULL), \
                 (1, 'g@x.test', 2, 'pending', NULL);"
        ));
        store::migrate(&db.url).expect("migrated");
        let s = store::open(&db.url, org()).expect("opened");
        let id = hitcore::ListMessageId(1);
        let pending = |s: &dyn store::Store| -> Vec<Vec<String>> {
            s.pending_batches(id, None, 10)
                .expect("batches")
                .into_iter()
                .map(|b| b.recipients)
                .collect()
        };
        assert_eq!(
            pending(&*s),
            [vec!["c@x.test"], vec!["f@x.test", "g@x.test"]]
        );
        // The handed-over pair is uncertain, never sent again.
        assert_eq!(s.resume_deliveries(id).expect("resumed"), 2);
        assert_eq!(pending(&*s).len(), 2);
        // A batch moved off a converted one gets a number of its own.
        let last = s.pending_batches(id, None, 10).expect("batches")[1].clone();
        s.record_batch(
            id,
            last.number,
            &hitcore::list_mail::BatchOutcome {
                sent: vec!["f@x.test".to_owned()],
                retry: vec!["g@x.test".to_owned()],
                ..Default::default()
            },
        )
        .expect("recorded");
        s.resume_deliveries(id).expect("resumed");
        let numbers: Vec<u64> = s
            .pending_batches(id, None, 10)
            .expect("batches")
            .iter()
            .map(|b| b.number)
            .collect();
        assert_eq!(numbers.len(), 2);
        assert!(numbers[1] > last.number, "{numbers:?}");
        let summary = &s.list_messages(hitcore::MailingListId(1), 1).expect("list")[0];
        assert_eq!(
            (
                summary.recipients,
                summary.sent,
                summary.failed,
                summary.uncertain
            ),
            (7, 2, 1, 2)
        );
    });
}

#[test]
fn the_sqlite_list_id_counter_starts_past_every_list_with_messages() {
    const TS: &str = "2026-01-01T00:00:00.000000Z";
    for db in databases().into_iter().filter(|db| !db.is_postgres()) {
        store::migrate_to(&db.url, 13).expect("version 13");
        // List 7 was deleted; its message stays, without a foreign key.
        db.execute(&format!(
            "INSERT INTO inbound_mails (id, arrival_key, message_key, subject, size_bytes, \
                 outcome, received_at) VALUES (1, 'a', 'k', 'Hi', 10, 'accepted', '{TS}'); \
             INSERT INTO list_messages (id, inbound_mail_id, mailing_list_id, message_key, token, \
                 state, subject, sender, is_reply_due, received_at) \
             VALUES (1, 1, 7, 'k', 't', 'finished', 'Hi', 's@example.test', FALSE, '{TS}');"
        ));
        store::migrate(&db.url).expect("migrated");
        let last: i64 = sqlite_conn(&db.url)
            .query_row(
                "SELECT last_id FROM id_sequences WHERE name = 'mailing_lists'",
                [],
                |r| r.get(0),
            )
            .expect("the counter");
        assert_eq!(last, 7);
    }
}

#[test]
fn database_behind_is_refused_for_serving_naming_the_migrate_command() {
    each_database(|db| {
        store::migrate_to(&db.url, INITIAL_VERSION).expect("version 1");
        let e = store::open(&db.url, org()).map(drop).expect_err("behind");
        assert_eq!(
            refusal(e),
            format!(
                "database schema is at version {INITIAL_VERSION}, this build needs \
                 {LATEST_VERSION}: run `hitweb migrate`"
            )
        );
        assert_eq!(db.versions(), [INITIAL_VERSION], "open migrated nothing");
    });
}

#[test]
fn database_ahead_is_refused_by_open_and_by_migrate() {
    each_database(|db| {
        drop(store::open(&db.url, org()).expect("opened"));
        let ahead = LATEST_VERSION + 1;
        db.execute(&format!(
            "INSERT INTO schema_migrations (version) VALUES ({ahead})"
        ));
        for e in [
            store::open(&db.url, org()).map(drop).expect_err("ahead"),
            store::migrate(&db.url).map(drop).expect_err("ahead"),
        ] {
            let message = refusal(e);
            assert!(
                message.starts_with(&format!("database schema is at version {ahead}, newer")),
                "{message}"
            );
        }
    });
}

#[test]
fn unknown_target_version_is_refused() {
    each_database(|db| {
        let e = store::migrate_to(&db.url, LATEST_VERSION + 1).expect_err("unknown");
        assert!(refusal(e).contains("no schema version"));
        let e = store::migrate_to(&db.url, 0).expect_err("unknown");
        assert!(refusal(e).contains("no schema version"));
    });
}

/// Runs `f` on `n` threads released at the same instant; their results in
/// thread order.
fn race<T: Send>(n: usize, f: impl Fn() -> T + Sync) -> Vec<T> {
    let start = Arc::new(Barrier::new(n));
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..n)
            .map(|_| {
                let start = Arc::clone(&start);
                let f = &f;
                s.spawn(move || {
                    start.wait();
                    f()
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("no panic"))
            .collect()
    })
}

const RACERS: usize = 6;

#[test]
fn racing_migrations_of_an_old_database_apply_each_migration_once() {
    each_database(|db| {
        store::migrate_to(&db.url, INITIAL_VERSION).expect("version 1");
        let reports: Vec<Report> = race(RACERS, || store::migrate(&db.url))
            .into_iter()
            .map(|r| r.expect("every run succeeds"))
            .collect();
        let mut applied: Vec<i64> = reports
            .iter()
            .flat_map(|r| r.applied.iter().map(|m| m.version))
            .collect();
        applied.sort();
        let expected: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(applied, expected, "each migration applied by one run");
        assert!(reports.iter().all(|r| r.to == LATEST_VERSION));
        assert_eq!(db.versions(), every_version());
    });
}

#[test]
fn racing_first_starts_create_the_schema_once() {
    each_database(|db| {
        let created: Vec<bool> = race(RACERS, || store::migrate(&db.url))
            .into_iter()
            .map(|r| r.expect("every run succeeds").is_created)
            .collect();
        assert_eq!(created.iter().filter(|c| **c).count(), 1, "{created:?}");
        assert_eq!(db.versions(), every_version());

        let opened = race(RACERS, || store::open(&db.url, org()).map(drop));
        assert!(opened.iter().all(Result::is_ok), "{opened:?}");
    });
}

/// Two web processes started together on a new database: one seeds the
/// demo, the others find it seeded; none fails its start.
#[test]
fn racing_first_seeds_seed_the_demo_once() {
    use hitcore::seed::{SeedOptions, load_demo};
    each_database(|db| {
        store::migrate(&db.url).expect("migrated");
        let stores: Vec<_> = (0..RACERS)
            .map(|_| store::open(&db.url, org()).expect("opened"))
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let reports = race(RACERS, || {
            let store = &stores[next.fetch_add(1, std::sync::atomic::Ordering::SeqCst)];
            load_demo(
                &**store,
                &org(),
                &SeedOptions::default(),
                chrono::Utc::now(),
            )
        });
        let seeded = reports
            .iter()
            .map(|r| match r {
                Ok(report) => !report.is_skipped,
                Err(e) => panic!("a start failed: {e}"),
            })
            .filter(|s| *s)
            .count();
        assert_eq!(seeded, 1, "{reports:?}");
        let roots = stores[0]
            .all_groups()
            .expect("the groups")
            .into_iter()
            .filter(|g| g.parent_id.is_none())
            .count();
        assert_eq!(roots, 1);
    });
}

#[test]
fn racing_opens_of_an_empty_database_all_succeed() {
    each_database(|db| {
        let opened = race(RACERS, || store::open(&db.url, org()).map(drop));
        assert!(opened.iter().all(Result::is_ok), "{opened:?}");
        assert_eq!(db.versions(), every_version());
    });
}

#[test]
fn migration_reports_read_as_sentences() {
    let report = Report {
        is_created: true,
        from: 0,
        to: LATEST_VERSION,
        applied: MIGRATIONS.to_vec(),
    };
    let text = report.to_string();
    assert!(
        text.starts_with("created the schema (version 1); applied "),
        "{text}"
    );
    assert!(text.contains(&MIGRATIONS[0].file_name()), "{text}");
}
