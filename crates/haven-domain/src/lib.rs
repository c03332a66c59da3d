//! Haven's pure rules: who may do what, who may see which record, the legal clock's time base, identity
//! validation and normalisation, and the account-security rules. No I/O, no SQL, no HTTP, no keys.

pub mod access;
pub mod account;
pub mod cases;
pub mod cooperation;
pub mod format;
pub mod person;
pub mod plan;
pub mod profile;
pub mod registers;
pub mod reports;
pub mod roles;
pub mod stats;
pub mod time;
pub mod victims;
pub mod work;

pub use access::{AccessDecision, AccessRequest, BreakGlass, Grant, Grantee};

/// Why an entry was refused: the form field and the translation key of the message.
pub type FieldError = (&'static str, &'static str);
pub use roles::{Action, Role};
