//! Haven's one integration-test binary. Story tests drive Haven through HTTP against SQLite and against
//! PostgreSQL (each story is generated for both); process tests run the real binary (crash safety, key
//! rotation, backup); browser tests drive headless Chromium through chromedriver.
//!
//! PostgreSQL comes from HAVEN_TEST_POSTGRES (an admin URL; each test makes its own database), the browser
//! from chromedriver on the PATH (or HAVEN_TEST_CHROMEDRIVER), and axe-core's script for the accessibility
//! sweep from HAVEN_TEST_AXE. When CI is set, a missing one fails the suite; otherwise its tests say loudly
//! that they did not run.

mod harness;
mod schema;

mod api;
mod audit_chain;
mod browser;
mod cooperation;
mod encryption;
mod errors;
mod home;
mod imports;
mod journey;
mod lists;
mod need_to_know;
mod one_person;
mod persons;
mod plan;
mod platform;
mod process;
mod query_plans;
mod registers;
mod reports;
mod security;
mod sessions;
mod victims;
