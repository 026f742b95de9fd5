//! Browser tests: the real `hitweb` binary on a fresh SQLite file, driven
//! through chromedriver and headless Chromium from Debian's packages with
//! fantoccini (WebDriver).
//!
//! They need `HIT_TEST_CHROMEDRIVER` and `HIT_TEST_CHROMIUM` (set by
//! `.ci/run`); without them each test prints "skipped: ..." and passes,
//! except under `CI=true`, where a missing variable fails it. Screenshots
//! go to `HIT_SCREENSHOT_DIR` (else `$CARGO_TARGET_DIR/screenshots`, else
//! a folder in the temp dir); the tests print where.
//!
//! Every wait is an explicit one: poll for an element or a text until a
//! deadline. The tests run one at a time (a lock in [`harness`]), so that
//! two Chromiums do not compete for the machine's cores.

mod events;
mod flows;
mod harness;
mod keyboard;
mod language;
mod screenshots;
