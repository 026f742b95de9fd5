//! `system.noop`: a job that does nothing, for the benchmark and for
//! checking that a deployment's workers run jobs at all.

use std::time::Duration;

use hitcore::jobs::JobKind;
use serde::{Deserialize, Serialize};

use crate::registry::JobContext;

/// Does nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Noop {}

impl JobKind for Noop {
    const KIND: &'static str = "system.noop";
    const MAX_RUN: Duration = Duration::from_secs(60);
}

/// Succeeds at once.
pub(super) fn run<S: ?Sized>(_job: Noop, _ctx: &JobContext<'_, S>) -> anyhow::Result<()> {
    Ok(())
}
