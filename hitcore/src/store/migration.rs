//! The numbered migrations that follow the initial schema (`schema.sql`,
//! version 1), and the one runner both stores apply them with.
//!
//! The runner decides what to do: create an empty database, refuse one
//! that is foreign, behind (when serving) or ahead, apply what is pending
//! in order. Each store supplies only the driver work through the private
//! [`Target`] and [`Step`] traits: a lock for the whole run, a transaction
//! per step, and the statements in its dialect. The rules for writing a
//! migration are in `migrations/README.md`.

use std::fmt;

use crate::store::StoreError;

/// One schema change after version 1, a file of `migrations/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migration {
    /// The version the database is at once this migration is applied.
    pub version: i64,
    /// The file name without its number and extension.
    pub name: &'static str,
    /// The statements, in the portable dialect of `schema.sql`.
    pub sql: &'static str,
}

impl Migration {
    /// The file name, `0002_people_primary_group_id_idx.sql`.
    pub fn file_name(&self) -> String {
        format!("{:04}_{}.sql", self.version, self.name)
    }
}

/// Every migration, in order; versions run 2, 3, ... without gaps.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 2,
        name: "people_primary_group_id_idx",
        sql: include_str!("../../../migrations/0002_people_primary_group_id_idx.sql"),
    },
    Migration {
        version: 3,
        name: "search",
        sql: include_str!("../../../migrations/0003_search.sql"),
    },
    Migration {
        version: 4,
        name: "jobs",
        sql: include_str!("../../../migrations/0004_jobs.sql"),
    },
    Migration {
        version: 5,
        name: "people_list_keys_idx",
        sql: include_str!("../../../migrations/0005_people_list_keys_idx.sql"),
    },
    Migration {
        version: 6,
        name: "person_picture",
        sql: include_str!("../../../migrations/0006_person_picture.sql"),
    },
    Migration {
        version: 7,
        name: "mailing_lists",
        sql: include_str!("../../../migrations/0007_mailing_lists.sql"),
    },
    Migration {
        version: 8,
        name: "list_mail",
        sql: include_str!("../../../migrations/0008_list_mail.sql"),
    },
    Migration {
        version: 9,
        name: "login_tokens",
        sql: include_str!("../../../migrations/0009_login_tokens.sql"),
    },
    Migration {
        version: 10,
        name: "cache_stamps",
        sql: include_str!("../../../migrations/0010_cache_stamps.sql"),
    },
    Migration {
        version: 11,
        name: "events",
        sql: include_str!("../../../migrations/0011_events.sql"),
    },
    Migration {
        version: 12,
        name: "list_batches",
        sql: include_str!("../../../migrations/0012_list_batches.sql"),
    },
    Migration {
        version: 13,
        name: "arrival_key",
        sql: include_str!("../../../migrations/0013_arrival_key.sql"),
    },
    Migration {
        version: 14,
        name: "mailing_list_ids",
        sql: include_str!("../../../migrations/0014_mailing_list_ids.sql"),
    },
];

/// The version of `schema.sql`.
pub const INITIAL_VERSION: i64 = 1;

/// The schema version this build works with: that of the last migration.
pub const LATEST_VERSION: i64 = match MIGRATIONS.last() {
    Some(m) => m.version,
    None => INITIAL_VERSION,
};

/// What a migration run found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Whether the database was empty and got `schema.sql`.
    pub is_created: bool,
    /// The version before the run; 0 for an empty database.
    pub from: i64,
    /// The version after the run.
    pub to: i64,
    /// The migrations this run applied (not those another process did).
    pub applied: Vec<Migration>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_created {
            write!(f, "created the schema (version {INITIAL_VERSION})")?;
        } else {
            write!(f, "the database was at version {}", self.from)?;
        }
        if self.applied.is_empty() {
            if self.is_created || self.from == self.to {
                return write!(f, "; nothing to migrate");
            }
            return write!(f, "; another process migrated it to version {}", self.to);
        }
        let names: Vec<String> = self.applied.iter().map(Migration::file_name).collect();
        write!(
            f,
            "; applied {}; now at version {}",
            names.join(", "),
            self.to
        )
    }
}

/// What a run is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Opening for serving: an empty database is created and migrated, one
    /// that is behind or ahead is refused.
    Serve,
    /// The migrate command: everything up to this version is applied.
    Migrate { up_to: i64 },
}

/// What a database holds, as far as the runner cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// No tables at all.
    Empty,
    /// Tables, but no `schema_migrations`: not ours.
    Foreign,
    /// Our schema at this version (the highest row of
    /// `schema_migrations`).
    At(i64),
}

/// A database connection the runner drives; one per store.
pub(crate) trait Target {
    /// Takes the lock that makes concurrent runs wait for each other, for
    /// the whole run (PostgreSQL's advisory lock; nothing on SQLite, whose
    /// write transactions already exclude each other).
    fn lock(&mut self) -> Result<(), StoreError>;
    /// Releases what [`Target::lock`] took.
    fn unlock(&mut self) -> Result<(), StoreError>;
    /// Runs `f` in one write transaction, committed when `f` succeeds.
    fn step(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Step) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

/// The work inside one transaction of a run.
pub(crate) trait Step {
    /// What the database holds now.
    fn found(&mut self) -> Result<Found, StoreError>;
    /// Creates the tables of `schema.sql` (which records version 1).
    fn create(&mut self) -> Result<(), StoreError>;
    /// Runs the migration's statements and records its version.
    fn apply(&mut self, migration: &Migration) -> Result<(), StoreError>;
}

/// Brings the database of `target` to where `mode` wants it.
///
/// # Errors
/// [`StoreError::Rule`] for a foreign database, one ahead of this build,
/// one behind it when serving, or a target version this build does not
/// know; the driver's errors otherwise, with the failed migration rolled
/// back (those before it stay applied).
pub(crate) fn run(target: &mut dyn Target, mode: Mode) -> Result<Report, StoreError> {
    let up_to = match mode {
        Mode::Serve => LATEST_VERSION,
        Mode::Migrate { up_to } => up_to,
    };
    if !(INITIAL_VERSION..=LATEST_VERSION).contains(&up_to) {
        return Err(StoreError::Rule(format!(
            "there is no schema version {up_to}; this build knows versions \
             {INITIAL_VERSION} to {LATEST_VERSION}"
        )));
    }
    target.lock()?;
    let outcome = run_locked(target, mode, up_to);
    let unlocked = target.unlock();
    let report = outcome?;
    unlocked?;
    Ok(report)
}

fn run_locked(target: &mut dyn Target, mode: Mode, up_to: i64) -> Result<Report, StoreError> {
    let mut report = first_step(target, up_to)?;
    if report.is_created {
        return Ok(report);
    }
    check_version(report.from, mode)?;
    for migration in pending(report.from, up_to) {
        let mut is_applied = false;
        target.step(&mut |step| {
            is_applied = apply_if_pending(step, migration)?;
            Ok(())
        })?;
        if is_applied {
            tracing::info!(
                schema.version = migration.version,
                "Applied migration {}",
                migration.file_name()
            );
            report.applied.push(*migration);
        }
        report.to = migration.version;
    }
    report.to = report.to.max(report.from);
    Ok(report)
}

/// Looks at the database, and creates and migrates it in one transaction
/// when it is empty, so that no other process ever sees it half made.
fn first_step(target: &mut dyn Target, up_to: i64) -> Result<Report, StoreError> {
    let mut report = None;
    target.step(&mut |step| {
        report = Some(match step.found()? {
            Found::Foreign => return Err(foreign()),
            Found::At(version) => Report {
                is_created: false,
                from: version,
                to: version,
                applied: Vec::new(),
            },
            Found::Empty => {
                step.create()?;
                let applied: Vec<Migration> = pending(INITIAL_VERSION, up_to).copied().collect();
                for migration in &applied {
                    step.apply(migration)?;
                }
                Report {
                    is_created: true,
                    from: 0,
                    to: up_to,
                    applied,
                }
            }
        });
        Ok(())
    })?;
    let report = report.ok_or_else(|| StoreError::Rule("the first step did not run".to_owned()))?;
    if report.is_created {
        tracing::info!(
            schema.version = report.to,
            "Created the database schema at version {}",
            report.to
        );
    }
    Ok(report)
}

/// Applies `migration` unless another process did so since this run
/// looked; says whether it applied it.
fn apply_if_pending(step: &mut dyn Step, migration: &Migration) -> Result<bool, StoreError> {
    match step.found()? {
        Found::At(v) if v >= migration.version => Ok(false),
        Found::At(v) if v == migration.version - 1 => {
            step.apply(migration)?;
            Ok(true)
        }
        Found::At(v) => Err(StoreError::Rule(format!(
            "database schema is at version {v}, which cannot be migrated to version {} directly",
            migration.version
        ))),
        Found::Empty | Found::Foreign => Err(StoreError::Rule(
            "the schema disappeared while it was being migrated".to_owned(),
        )),
    }
}

/// The migrations after version `from`, up to and including `up_to`.
fn pending(from: i64, up_to: i64) -> impl Iterator<Item = &'static Migration> {
    MIGRATIONS
        .iter()
        .filter(move |m| m.version > from && m.version <= up_to)
}

/// Accepts a database of `found` for `mode`: never one ahead of this
/// build, and for serving only one at [`LATEST_VERSION`].
///
/// # Errors
/// [`StoreError::Rule`] saying what the database is at, what this build
/// needs, and what to run.
pub(crate) fn check_version(found: i64, mode: Mode) -> Result<(), StoreError> {
    if found > LATEST_VERSION {
        return Err(StoreError::Rule(format!(
            "database schema is at version {found}, newer than this build, which knows \
             versions up to {LATEST_VERSION}: a newer build migrated it; run that build"
        )));
    }
    if found < LATEST_VERSION && mode == Mode::Serve {
        return Err(StoreError::Rule(format!(
            "database schema is at version {found}, this build needs {LATEST_VERSION}: run \
             `hitweb migrate`"
        )));
    }
    Ok(())
}

fn foreign() -> StoreError {
    StoreError::Rule(
        "the database holds tables but no schema_migrations; it was not created by this \
         program"
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database in memory: a version and a log of what ran.
    struct Fake {
        found: Found,
        log: Vec<String>,
        fail_at: Option<i64>,
    }

    impl Fake {
        fn at(found: Found) -> Fake {
            Fake {
                found,
                log: Vec::new(),
                fail_at: None,
            }
        }
    }

    impl Target for Fake {
        fn lock(&mut self) -> Result<(), StoreError> {
            self.log.push("lock".into());
            Ok(())
        }
        fn unlock(&mut self) -> Result<(), StoreError> {
            self.log.push("unlock".into());
            Ok(())
        }
        fn step(
            &mut self,
            f: &mut dyn FnMut(&mut dyn Step) -> Result<(), StoreError>,
        ) -> Result<(), StoreError> {
            let before = self.found;
            let result = f(self);
            if result.is_err() {
                self.found = before;
                self.log.push("rollback".into());
            }
            result
        }
    }

    impl Step for Fake {
        fn found(&mut self) -> Result<Found, StoreError> {
            Ok(self.found)
        }
        fn create(&mut self) -> Result<(), StoreError> {
            self.log.push("create".into());
            self.found = Found::At(INITIAL_VERSION);
            Ok(())
        }
        fn apply(&mut self, m: &Migration) -> Result<(), StoreError> {
            if self.fail_at == Some(m.version) {
                return Err(StoreError::Rule("boom".into()));
            }
            self.log.push(format!("apply {}", m.version));
            self.found = Found::At(m.version);
            Ok(())
        }
    }

    fn latest() -> Mode {
        Mode::Migrate {
            up_to: LATEST_VERSION,
        }
    }

    #[test]
    fn versions_follow_each_other_from_two() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            let expected = INITIAL_VERSION + 1 + i64::try_from(i).expect("few");
            assert_eq!(m.version, expected, "{}", m.name);
            assert!(!m.sql.trim().is_empty(), "{}", m.name);
            assert!(
                m.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                m.name
            );
        }
        assert_eq!(LATEST_VERSION, INITIAL_VERSION + MIGRATIONS.len() as i64);
    }

    #[test]
    fn every_file_in_the_folder_is_registered_and_the_other_way_round() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("the migrations folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        let registered: Vec<String> = MIGRATIONS.iter().map(Migration::file_name).collect();
        assert_eq!(files, registered);
    }

    #[test]
    fn no_migration_records_its_own_version() {
        for m in MIGRATIONS {
            assert!(
                !m.sql.to_lowercase().contains("schema_migrations"),
                "{}: the runner records the version",
                m.file_name()
            );
        }
    }

    #[test]
    fn empty_database_is_created_and_migrated_in_one_step() {
        let mut db = Fake::at(Found::Empty);
        let report = run(&mut db, Mode::Serve).expect("created");
        assert!(report.is_created);
        assert_eq!((report.from, report.to), (0, LATEST_VERSION));
        assert_eq!(report.applied, MIGRATIONS);
        let mut expected = vec!["lock".to_owned(), "create".to_owned()];
        expected.extend(MIGRATIONS.iter().map(|m| format!("apply {}", m.version)));
        expected.push("unlock".to_owned());
        assert_eq!(db.log, expected);
    }

    #[test]
    fn old_database_gets_the_pending_migrations_in_order() {
        let mut db = Fake::at(Found::At(INITIAL_VERSION));
        let report = run(&mut db, latest()).expect("migrated");
        assert!(!report.is_created);
        assert_eq!((report.from, report.to), (INITIAL_VERSION, LATEST_VERSION));
        assert_eq!(report.applied.len(), MIGRATIONS.len());
        assert_eq!(db.found, Found::At(LATEST_VERSION));
        assert_eq!(run(&mut db, latest()).expect("again").applied, []);
    }

    #[test]
    fn migrating_up_to_a_version_stops_there() {
        let mut db = Fake::at(Found::Empty);
        let report = run(
            &mut db,
            Mode::Migrate {
                up_to: INITIAL_VERSION,
            },
        )
        .expect("created");
        assert_eq!(report.to, INITIAL_VERSION);
        assert_eq!(db.found, Found::At(INITIAL_VERSION));
        let e = run(&mut db, Mode::Migrate { up_to: 0 }).expect_err("no such version");
        assert!(e.to_string().contains("no schema version 0"), "{e}");
    }

    #[test]
    fn serving_refuses_a_database_behind_and_says_what_to_run() {
        let mut db = Fake::at(Found::At(INITIAL_VERSION));
        let e = run(&mut db, Mode::Serve).expect_err("behind");
        if LATEST_VERSION > INITIAL_VERSION {
            assert_eq!(
                e.to_string(),
                format!(
                    "refused: database schema is at version 1, this build needs \
                     {LATEST_VERSION}: run `hitweb migrate`"
                )
            );
        }
        assert_eq!(db.log.last().map(String::as_str), Some("unlock"));
    }

    #[test]
    fn database_ahead_or_foreign_is_refused_by_every_mode() {
        for mode in [Mode::Serve, latest()] {
            let mut db = Fake::at(Found::At(LATEST_VERSION + 1));
            let e = run(&mut db, mode).expect_err("ahead");
            assert!(e.to_string().contains("newer than this build"), "{e}");
            let mut db = Fake::at(Found::Foreign);
            let e = run(&mut db, mode).expect_err("foreign");
            assert!(e.to_string().contains("schema_migrations"), "{e}");
        }
    }

    #[test]
    fn failed_migration_is_rolled_back_and_the_lock_released() {
        let Some(last) = MIGRATIONS.last() else {
            return;
        };
        let mut db = Fake::at(Found::At(last.version - 1));
        db.fail_at = Some(last.version);
        assert!(run(&mut db, latest()).is_err());
        assert_eq!(db.found, Found::At(last.version - 1));
        assert_eq!(db.log, ["lock", "rollback", "unlock"]);
    }

    #[test]
    fn reports_say_what_happened() {
        let m = MIGRATIONS[0];
        let report = Report {
            is_created: false,
            from: 1,
            to: 2,
            applied: vec![m],
        };
        assert_eq!(
            report.to_string(),
            format!(
                "the database was at version 1; applied {}; now at version 2",
                m.file_name()
            )
        );
        let up_to_date = Report {
            applied: vec![],
            from: 2,
            ..report
        };
        assert_eq!(
            up_to_date.to_string(),
            "the database was at version 2; nothing to migrate"
        );
    }
}
