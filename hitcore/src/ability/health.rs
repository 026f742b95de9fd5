//! Who may ask the health endpoints (`GET /healthz`, `GET /readyz`):
//! anyone, signed in or not. They tell whether the process, its database
//! and its storage work, and nothing about the data, so that a load
//! balancer, an orchestrator or a monitor can ask without an account.

use super::{Because, Decision};

/// Whether the health endpoints answer this caller: always, for anyone.
///
/// A function of its own rather than no check at all, so that every route
/// asks this module and the rule stands where the others do.
pub fn health_check() -> Decision {
    Decision::Allowed(Because::Anyone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anyone_may_ask_the_health_endpoints() {
        assert_eq!(health_check(), Decision::Allowed(Because::Anyone));
        assert_eq!(health_check().to_string(), "allowed: open to everyone");
    }
}
