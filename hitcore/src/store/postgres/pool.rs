//! The pool's connections: a client with the statements prepared on it.
//!
//! `r2d2_postgres` hands out bare clients, on which every statement is
//! parsed and planned anew on each call. The list relay makes two
//! single-row updates per SMTP transaction, so that cost adds up there
//! (issue 5's benchmark); this manager keeps the statements that ask for
//! it prepared for the connection's life ([`Conn::execute_prepared`]).
//!
//! Each checkout is still checked with an empty query: skipping the check
//! for a connection used a moment ago gained a few percent on the relay
//! benchmark, and cost a failed call each time a server or a proxy ended
//! its sessions, which every caller would have had to retry.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};

/// Opens and checks the pool's connections.
#[derive(Debug)]
pub(super) struct Manager {
    config: postgres::Config,
}

impl Manager {
    pub(super) fn new(config: postgres::Config) -> Manager {
        Manager { config }
    }
}

/// A pooled connection: the client (through `Deref`) and the statements
/// prepared on it.
pub(crate) struct Conn {
    client: Client,
    /// Keyed by the statement's text, which is a constant.
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// Runs `sql`, with parameters of `types`, as a statement prepared on
    /// this connection the first time it runs here: later calls skip the
    /// parse, and after a few PostgreSQL keeps the plan as well. Returns
    /// the number of rows changed.
    ///
    /// Only for constant statements (the text is the key) on calls that
    /// run often; the server holds each for the connection's life.
    ///
    /// A statement the server no longer has (someone ran `DEALLOCATE` or
    /// `DISCARD ALL` on the session) or whose saved plan no longer fits
    /// (a column's type changed) is prepared once more; the failed try ran
    /// nothing.
    ///
    /// Limitations: the connection must be a session of its own, directly
    /// or through a pooler in session mode. A pooler in transaction mode
    /// (PgBouncer's default) may run the next statement on another
    /// client's session, where the name means another statement or none.
    pub(super) fn execute_prepared(
        &mut self,
        sql: &'static str,
        types: &[Type],
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let statement = self.prepared(sql, types)?;
        match self.client.execute(&statement, params) {
            Err(e) if is_stale(&e) => {
                self.statements.remove(sql);
                let statement = self.prepared(sql, types)?;
                self.client.execute(&statement, params)
            }
            outcome => outcome,
        }
    }

    fn prepared(
        &mut self,
        sql: &'static str,
        types: &[Type],
    ) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare_typed(sql, types)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }
}

/// Whether `e` says the prepared statement itself is out of date: gone
/// from the session (26000) or planned for other result types (0A000,
/// "cached plan must not change result type").
fn is_stale(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        *c == SqlState::INVALID_SQL_STATEMENT_NAME || *c == SqlState::FEATURE_NOT_SUPPORTED
    })
}

impl Deref for Conn {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        Ok(Conn {
            client: self.config.connect(NoTls)?,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(drop)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use r2d2::ManageConnection as _;

    use super::*;

    /// A connection to the server `HIT_TEST_POSTGRES_URL` names, if set.
    fn conn() -> Option<Conn> {
        let url = std::env::var("HIT_TEST_POSTGRES_URL").ok()?;
        let manager = Manager::new(url.parse().expect("a valid URL"));
        Some(manager.connect().expect("connected"))
    }

    const BUMP: &str = "UPDATE counters SET n = n + $1 WHERE id = 1";

    #[test]
    fn a_prepared_statement_the_session_lost_is_prepared_again() {
        let Some(mut c) = conn() else {
            eprintln!("note: HIT_TEST_POSTGRES_URL is not set; skipped");
            return;
        };
        c.batch_execute(
            "CREATE TEMP TABLE counters (id INT, n BIGINT); INSERT INTO counters VALUES (1, 0)",
        )
        .expect("table");
        assert_eq!(
            c.execute_prepared(BUMP, &[Type::INT8], &[&1_i64])
                .expect("runs"),
            1
        );
        assert_eq!(c.statements.len(), 1, "kept prepared");
        // What a pooler's reset (`DISCARD ALL`) does to prepared statements.
        c.batch_execute("DEALLOCATE ALL").expect("deallocated");
        assert_eq!(
            c.execute_prepared(BUMP, &[Type::INT8], &[&2_i64])
                .expect("runs again"),
            1
        );
        let n: i64 = c
            .query_one("SELECT n FROM counters", &[])
            .expect("read")
            .get(0);
        assert_eq!(n, 3, "each call ran once");
    }
}
