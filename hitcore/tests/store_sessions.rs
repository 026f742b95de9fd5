//! The store when its database server ends the sessions (an
//! administrator's `pg_terminate_backend`, a proxy's restart): every
//! pooled connection is checked as it is taken, so the next call already
//! runs on a new one, and the store goes on without being reopened.
//!
//! Matters on PostgreSQL, when `HIT_TEST_POSTGRES_URL` is set; on SQLite
//! there is no server, and the same calls simply succeed.

mod common;

use common::each_store;

#[test]
fn sessions_the_server_ended_are_replaced_before_the_next_call() {
    each_store(|w| {
        let groups = w.s.all_groups().expect("reads").len();
        for round in 0..2 {
            // Right after a call, with its connection back in the pool.
            w.end_sessions();
            for _ in 0..3 {
                let all = w.s.all_groups().unwrap_or_else(|e| {
                    panic!("round {round}: a call after the sessions ended failed: {e:?}")
                });
                assert_eq!(all.len(), groups);
            }
        }
    });
}
