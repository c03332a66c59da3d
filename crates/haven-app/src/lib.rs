//! Haven's use cases, one module per capability. Each use case is one function that takes the [`App`], the
//! acting [`Caller`] and typed input; it checks access, asks `haven-domain` to decide, writes through a
//! `haven-store` command (which appends the audit entry in the same transaction) and returns a typed result,
//! or the field errors that say what to correct ([`Outcome`]).
//!
//! The pages, the JSON API and the command line call this crate for every action a user takes; none of them
//! calls another's handlers. (The demo loader writes last year's history below it, and the benchmarks fill
//! their fixtures below it: `ARCHITECTURE.md`, "Where the layers are crossed on purpose".) This crate knows nothing of HTTP, HTML or terminals, and writes no SQL.

pub mod access;
pub mod accounts;
pub mod admin;
pub mod audit;
pub mod cases;
pub mod cooperation;
pub mod exports;
pub mod i18n;
pub mod imports;
pub mod indicators;
pub mod input;
pub mod matches;
pub mod paging;
pub mod persons;
pub mod plan;
pub mod prevention;
pub mod profile;
pub mod referrals;
pub mod registers;
pub mod reports;
pub mod sharing;
pub mod statistics;
pub mod supervision;
pub mod tasks;
pub mod training;
pub mod victims;

use std::sync::Arc;

use haven_domain::format::Lang;
use haven_domain::roles::permits;
use haven_domain::{Action, Role};
use haven_store::accounts::User;
use haven_store::directory::Agency;
use haven_store::{Actor, Store};
use time::Date;

pub use i18n::I18n;
pub use profile::Profile;

/// What every use case works with: the store, the profile's rules and the translations.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub profile: Arc<Profile>,
    pub i18n: Arc<I18n>,
    /// The province this deployment serves (statistics-office code): its communes are the ones forms offer
    /// and imports read.
    pub province: Arc<str>,
}

impl App {
    /// An application over a store for a province, with the profile and translations built into the binary.
    pub fn new(store: Store, province: &str) -> App {
        App {
            store,
            profile: Arc::new(Profile::embedded()),
            i18n: Arc::new(I18n::embedded()),
            province: Arc::from(province),
        }
    }

    /// Today in Viet Nam, by the store's clock (legal days are counted in Asia/Ho_Chi_Minh).
    pub fn today(&self) -> Date {
        haven_domain::time::local_date(self.store.now()).unwrap_or(Date::MIN)
    }
}

/// The user on whose behalf a use case runs: their account, their agency and the request it came with (for
/// the audit log). The web layer builds one from a session or an API token, the command line from a user
/// name.
#[derive(Clone)]
pub struct Caller {
    pub user: User,
    pub agency: Agency,
    pub request_id: String,
}

impl Caller {
    /// The caller for an active user found by name (the command line acts as a named user); `None` when
    /// there is no such user, or it is disabled.
    pub async fn by_user_name(app: &App, name: &str, request_id: &str) -> Result<Option<Caller>> {
        let Some(user) = app.store.user_by_name(name).await?.filter(|u| !u.disabled) else { return Ok(None) };
        let Some(agency) = app.store.agency(&user.agency_id).await? else { return Ok(None) };
        Ok(Some(Caller { user, agency, request_id: request_id.to_owned() }))
    }

    pub fn can(&self, action: Action) -> bool {
        permits(&self.user.roles, action)
    }
    pub fn has_role(&self, role: Role) -> bool {
        self.user.roles.contains(&role)
    }
    pub fn actor(&self) -> Actor {
        Actor { user_id: self.user.id.clone(), agency_id: self.agency.id.clone(), request_id: self.request_id.clone() }
    }
    pub fn lang(&self) -> Lang {
        Lang::from_code(&self.user.lang).unwrap_or(Lang::Vi)
    }
    /// Refuse unless the caller's roles permit `action`.
    pub fn require(&self, action: Action) -> Result<()> {
        if self.can(action) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }
}

/// Why a use case could not run at all. Input that can be corrected is not an error of this kind: it comes
/// back as the [`Outcome`]'s field errors.
#[derive(Debug)]
pub enum Error {
    /// No such record (or none the caller may learn of).
    NotFound,
    /// The caller may not do this.
    Forbidden,
    /// A request that no form could have sent (an unknown list name, a malformed id); the text names the part.
    BadRequest(String),
    /// A failure of the system, never of the input: logged with the request id, shown as an apology.
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::Internal(e)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NotFound => f.write_str("not found"),
            Error::Forbidden => f.write_str("forbidden"),
            Error::BadRequest(what) => write!(f, "bad request: {what}"),
            Error::Internal(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Field errors: (field, translation key), in the order the form shows the fields.
pub type FieldErrors = Vec<(String, String)>;

/// What a use case answers when it ran: its result, or what the caller must correct.
pub type Outcome<T> = std::result::Result<T, FieldErrors>;

/// Field errors gathered while checking an input.
#[derive(Default, Debug)]
pub struct Fields {
    pub errors: FieldErrors,
}

impl Fields {
    pub fn add(&mut self, field: &str, key: &str) {
        self.errors.push((field.to_owned(), key.to_owned()));
    }
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
    /// One field error as an outcome.
    pub fn one<T>(field: &str, key: &str) -> Outcome<T> {
        Err(vec![(field.to_owned(), key.to_owned())])
    }
}
