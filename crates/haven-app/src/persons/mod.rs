//! Person records: the first record kind behind need-to-know access. A record shows its pseudonymous case
//! code; the identity opens only for a role that may see it, with a stated purpose, and every opening is
//! audited. Corrections, relatives, sealed files, merging two records of one person, and breaking the glass
//! on another agency's record in an emergency.

use haven_domain::access::{self as rules_access, AccessDecision};
use haven_domain::cases::PersonRole;
use haven_domain::person::{self as rules, normalise_phone, BirthDate, IdentityInput};
use haven_domain::time::MINUTE;
use haven_domain::Action;
use haven_store::access::NewBreakGlass;
use haven_store::matches;
use haven_store::persons::{self as store, OpenedIdentity, OpenedRelative, PersonRow, KIND};
use serde::Deserialize;

use crate::{access, App, Caller, Error, Fields, Outcome, Result};

mod search;
pub use search::{look_up, search, Searched};

/// Purposes a caller can give for opening an identity (translation keys `purpose.<code>`).
pub const PURPOSES: &[&str] = &["case_work", "verification", "support", "referral", "legal_proceedings"];

/// Nationalities offered on the forms (ISO 3166-1 alpha-2): Viet Nam, then the neighbours and the countries
/// victims are most often taken to.
pub const NATIONALITIES: &[&str] =
    &["VN", "KH", "CN", "LA", "MM", "TH", "MY", "KR", "JP", "TW", "SG", "AE", "SA", "RU", "DE", "GB", "US"];

/// The shortest reason accepted for merging two records.
pub const MERGE_MIN_REASON_CHARS: usize = 10;

/// A purpose the caller gave for opening identity data, checked against [`PURPOSES`].
pub(crate) fn check_purpose(purpose: &str) -> Outcome<()> {
    if PURPOSES.contains(&purpose) {
        Ok(())
    } else {
        Fields::one("purpose", "error.choice")
    }
}

/// How the caller reaches a person record (owner, grant, break-the-glass, or not at all).
/// The agencies that took over a victim case of the person by handover read the record as if it had been sent
/// to them: they hold the person's case now.
pub async fn decision(app: &App, caller: &Caller, p: &PersonRow) -> Result<AccessDecision> {
    if p.owner_agency_id == caller.agency.id {
        // The owner needs no look-up: most decisions on a page are the viewer's own records.
        return Ok(AccessDecision::Owner);
    }
    let holders = app.store.handover_holders(&p.id).await?;
    let sent_to: Vec<&str> = holders.iter().map(String::as_str).collect();
    Ok(access::record_access(app, caller, KIND, &p.id, &p.owner_agency_id, &sent_to).await?)
}

/// The record, whoever may see it (pages show a refusal with break-the-glass to those who may not).
pub async fn get(app: &App, id: &str) -> Result<PersonRow> {
    app.store.person(id).await?.ok_or(Error::NotFound)
}

/// The record, if the caller may see it.
pub async fn visible(app: &App, caller: &Caller, id: &str) -> Result<PersonRow> {
    caller.require(Action::ViewRecords)?;
    let p = get(app, id).await?;
    if decision(app, caller, &p).await?.allowed() {
        Ok(p)
    } else {
        Err(Error::Forbidden)
    }
}

/// A person record the caller's agency owns or holds a whole grant on, found by its case code (a merged
/// record's code leads to the record it was merged into): what may be named on a report or case or opened as a
/// victim case. Break-the-glass opens a record for an emergency, and a referral's read-only grant serves the
/// referral, not this.
pub async fn visible_person(app: &App, caller: &Caller, code: &str) -> Result<Option<PersonRow>> {
    for p in app.store.find_persons_by_case_code(code).await? {
        if decision(app, caller, &p).await?.opens_whole_record() {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// Whether the caller may change this person record: an officer of the owning agency who may see identity.
pub fn may_edit(caller: &Caller, p: &PersonRow) -> bool {
    p.owner_agency_id == caller.agency.id
        && p.merged_into.is_none()
        && caller.can(Action::EditRecords)
        && caller.can(Action::ViewIdentity)
}

/// The record, if the caller may change it (a record merged away is changed through the one it was merged
/// into).
pub async fn editable(app: &App, caller: &Caller, id: &str) -> Result<PersonRow> {
    let p = get(app, id).await?;
    if !may_edit(caller, &p) {
        return Err(Error::Forbidden);
    }
    Ok(p)
}

/// A new person as a form or the API sends it.
#[derive(Deserialize)]
pub struct NewPerson {
    pub full_name: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub commune_code: String,
    /// One per line or separated by semicolons.
    #[serde(default)]
    pub other_names: String,
    #[serde(default)]
    pub ethnicity: String,
    #[serde(default)]
    pub nationality: String,
    #[serde(default)]
    pub passport: String,
    #[serde(default)]
    pub language: String,
    /// "1" when an interpreter is needed.
    #[serde(default, deserialize_with = "flag")]
    pub interpreter: String,
    /// Pages only: the report or case (`report:<id>`, `case:<id>`) to name the new person on, and the role.
    #[serde(default)]
    pub link: String,
    #[serde(default)]
    pub link_role: String,
}

/// A yes/no field as a form sends it ("1", "on") or as JSON does (`true`), kept as the form's string.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Flag::deserialize(d)? {
        Flag::Bool(b) => if b { "1" } else { "" }.to_owned(),
        Flag::Text(t) => t,
    })
}

impl NewPerson {
    pub fn input(&self) -> IdentityInput {
        IdentityInput {
            full_name: self.full_name.clone(),
            birth_date: self.birth_date.clone(),
            sex: self.sex.clone(),
            id_number: self.id_number.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
            commune_code: self.commune_code.clone(),
            other_names: self.other_names.clone(),
            ethnicity: self.ethnicity.clone(),
            nationality: self.nationality.clone(),
            passport: self.passport.clone(),
            language: self.language.clone(),
            interpreter: self.interpreter.clone(),
        }
    }
}

/// A record a new person is named on as soon as it is created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkTarget {
    Report(String),
    Case(String),
}

/// The record a new person is to be named on (`report:<id>` or `case:<id>`), if it exists and the caller's
/// agency owns it (only the owner changes a report or a case).
pub async fn link_target(
    app: &App,
    caller: &Caller,
    link: &str,
    role: &str,
) -> Result<Option<(LinkTarget, PersonRole)>> {
    let Some(role) = PersonRole::from_code(role) else { return Ok(None) };
    let target = match link.split_once(':') {
        Some(("report", id)) => app
            .store
            .report(id)
            .await?
            .filter(|r| r.owner_agency_id == caller.agency.id)
            .map(|r| LinkTarget::Report(r.id)),
        Some(("case", id)) => {
            app.store.case(id).await?.filter(|c| c.owner_agency_id == caller.agency.id).map(|c| LinkTarget::Case(c.id))
        }
        _ => None,
    };
    Ok(target.filter(|_| caller.can(Action::EditRecords)).map(|t| (t, role)))
}

pub(crate) fn identity_errors(errs: Vec<rules::FieldError>) -> crate::FieldErrors {
    errs.into_iter().map(|e| (e.field.to_owned(), e.key.to_owned())).collect()
}

/// Validate and create a person for the caller's agency.
pub async fn create(app: &App, caller: &Caller, input: IdentityInput) -> Result<Outcome<String>> {
    create_and_link(app, caller, input, None).await
}

/// Create a person and, in the same transaction, name them on a report or case: both or neither.
pub async fn create_and_link(
    app: &App,
    caller: &Caller,
    input: IdentityInput,
    link: Option<&(LinkTarget, PersonRole)>,
) -> Result<Outcome<String>> {
    caller.require(Action::CreateRecords)?;
    let mut identity = match input.validate(app.today()) {
        Ok(i) => i,
        Err(errs) => return Ok(Err(identity_errors(errs))),
    };
    if let Some(code) = &identity.commune_code {
        if !app.store.unit_exists(code).await? {
            return Ok(Fields::one("commune_code", "error.choice"));
        }
    }
    identity.commune_code = identity.commune_code.filter(|c| !c.is_empty());
    let mut cmd = app.store.command(&caller.actor()).await?;
    let id = store::create(&mut cmd, &app.store.keys, &caller.agency.id, &identity).await?;
    // Recognised at entry: the same person held by this agency is offered for linking, one held by another
    // agency is signalled (rate-limited) without saying which.
    matches::propose_for(&mut cmd, &app.store.keys, &id, matches::Signals::PerUser).await?;
    match link {
        Some((LinkTarget::Report(r), role)) => {
            haven_store::reports::add_person(&mut cmd, r, &id, *role).await?;
        }
        Some((LinkTarget::Case(k), role)) => {
            haven_store::cases::add_person(&mut cmd, k, &id, *role).await?;
        }
        None => {}
    }
    cmd.commit().await?;
    Ok(Ok(id))
}

/// Validate a correction and write what changed; the audit entry names the fields, never their values.
/// Answers the fields that changed (none: nothing was written).
pub async fn update(app: &App, caller: &Caller, id: &str, input: IdentityInput) -> Result<Outcome<Vec<&'static str>>> {
    caller.require(Action::EditRecords)?;
    editable(app, caller, id).await?;
    let identity = match input.validate(app.today()) {
        Ok(i) => i,
        Err(errs) => return Ok(Err(identity_errors(errs))),
    };
    if let Some(code) = &identity.commune_code {
        if !app.store.unit_exists(code).await? {
            return Ok(Fields::one("commune_code", "error.choice"));
        }
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let changed = store::update(&mut cmd, &app.store.keys, id, &identity).await?;
    if !changed.is_empty() {
        cmd.commit().await?;
    }
    Ok(Ok(changed))
}

/// An identity opened with what opens with it.
pub struct Opened {
    pub identity: OpenedIdentity,
    /// The commune's name, when a commune is recorded.
    pub commune: String,
    pub relatives: Vec<OpenedRelative>,
    /// (attachment id, file name).
    pub file_names: Vec<(String, String)>,
}

impl Opened {
    pub fn file_name(&self, id: &str) -> &str {
        self.file_names.iter().find(|(a, _)| a == id).map(|(_, n)| n.as_str()).unwrap_or("")
    }
}

/// Open the identity, the relatives and the file names for a purpose, in one audited command. The birth
/// date comes back as people write it.
pub async fn open(app: &App, caller: &Caller, id: &str, purpose: &str) -> Result<Outcome<Opened>> {
    caller.require(Action::ViewIdentity)?;
    visible(app, caller, id).await?;
    if let Err(e) = check_purpose(purpose) {
        return Ok(Err(e));
    }
    let keys = &app.store.keys;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let Some(mut identity) = store::view_identity(&mut cmd, keys, id, purpose, true).await? else {
        return Err(Error::NotFound);
    };
    let relatives = store::open_relatives(&mut cmd, keys, id).await?;
    let file_names = store::open_attachment_names(&mut cmd, keys, id).await?;
    cmd.commit().await?;
    identity.birth_date = identity.birth_date.as_deref().and_then(BirthDate::parse).map(BirthDate::display);
    let commune = match &identity.commune_code {
        Some(code) => app.store.unit_name(code).await?.unwrap_or_default(),
        None => String::new(),
    };
    Ok(Ok(Opened { identity, commune, relatives, file_names }))
}

/// Open the identity to correct it: an audited view with the purpose the officer chose, by someone who may
/// change the record. The birth date comes back as people write it.
pub async fn open_for_correction(
    app: &App,
    caller: &Caller,
    id: &str,
    purpose: &str,
) -> Result<Outcome<OpenedIdentity>> {
    caller.require(Action::EditRecords)?;
    let p = editable(app, caller, id).await?;
    if let Err(e) = check_purpose(purpose) {
        return Ok(Err(e));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let Some(mut i) = store::view_identity(&mut cmd, &app.store.keys, &p.id, purpose, false).await? else {
        return Err(Error::NotFound);
    };
    cmd.commit().await?;
    i.birth_date = i.birth_date.as_deref().and_then(BirthDate::parse).map(BirthDate::display);
    Ok(Ok(i))
}

#[derive(Deserialize)]
pub struct RelativeForm {
    pub relation: String,
    pub relative_name: String,
    #[serde(default)]
    pub relative_phone: String,
    #[serde(default)]
    pub relative_address: String,
}

/// Add a relative (with a contact) to a person record; sealed like the identity.
pub async fn add_relative(app: &App, caller: &Caller, id: &str, form: &RelativeForm) -> Result<Outcome<()>> {
    editable(app, caller, id).await?;
    let mut f = Fields::default();
    if !rules::RELATIONS.contains(&form.relation.as_str()) {
        f.add("relation", "error.choice");
    }
    let name = rules::tidy_name(&form.relative_name);
    if name.is_empty() {
        f.add("relative_name", "error.required");
    } else if name.chars().count() > 200 {
        f.add("relative_name", "error.too_long");
    }
    let phone = if form.relative_phone.trim().is_empty() {
        None
    } else {
        let n = normalise_phone(&form.relative_phone);
        if n.is_none() {
            f.add("relative_phone", "error.phone");
        }
        n
    };
    let address = rules::tidy_name(&form.relative_address);
    if address.chars().count() > 500 {
        f.add("relative_address", "error.too_long");
    }
    if f.has_errors() {
        return Ok(Err(f.errors));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let relative = store::NewRelative {
        relation: &form.relation,
        full_name: &name,
        phone: phone.as_deref(),
        address: Some(address.as_str()).filter(|a| !a.is_empty()),
    };
    store::add_relative(&mut cmd, &app.store.keys, id, &relative).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

/// A file to attach: the name it came with, and its bytes.
pub struct NewFile<'a> {
    pub file_name: &'a str,
    pub bytes: &'a [u8],
}

/// Attach a photo or a document. Its type is read from its bytes; anything but JPEG, PNG or PDF is refused,
/// and it is sealed before it reaches the database.
pub async fn attach(
    app: &App,
    caller: &Caller,
    id: &str,
    kind: &str,
    file: Option<NewFile<'_>>,
) -> Result<Outcome<()>> {
    editable(app, caller, id).await?;
    let mut f = Fields::default();
    if !rules::ATTACHMENT_KINDS.contains(&kind) {
        f.add("attachment_kind", "error.choice");
    }
    let checked = match &file {
        None => {
            f.add("file", "error.file_missing");
            None
        }
        Some(file) if file.bytes.len() > rules::MAX_ATTACHMENT_BYTES => {
            f.add("file", "error.file_too_large");
            None
        }
        Some(file) => match rules::sniff_attachment(file.bytes) {
            Some(content_type) => Some((file, content_type)),
            None => {
                f.add("file", "error.file_type");
                None
            }
        },
    };
    let Some((file, content_type)) = checked.filter(|_| !f.has_errors()) else {
        return Ok(Err(f.errors));
    };
    let name = rules::safe_file_name(file.file_name, content_type, kind);
    let mut cmd = app.store.command(&caller.actor()).await?;
    let attachment = store::NewAttachment { kind, file_name: &name, content_type, bytes: file.bytes };
    store::add_attachment(&mut cmd, &app.store.keys, id, &attachment).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

/// Open an attachment for a purpose: every opening is audited like an identity view.
pub async fn open_attachment(
    app: &App,
    caller: &Caller,
    id: &str,
    attachment: &str,
    purpose: &str,
) -> Result<Outcome<store::OpenedAttachment>> {
    caller.require(Action::ViewIdentity)?;
    visible(app, caller, id).await?;
    if let Err(e) = check_purpose(purpose) {
        return Ok(Err(e));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let Some(file) = store::open_attachment(&mut cmd, &app.store.keys, id, attachment, purpose).await? else {
        return Err(Error::NotFound);
    };
    cmd.commit().await?;
    Ok(Ok(file))
}

#[derive(Deserialize)]
pub struct MergeForm {
    /// The case code of the record to fold into this one.
    pub other: String,
    pub reason: String,
}

/// Fold another record of the same person (named by its case code) into this one. Both belong to the
/// caller's agency; a record shared from elsewhere is linked by its owner, not merged away from it.
pub async fn merge(app: &App, caller: &Caller, id: &str, form: &MergeForm) -> Result<Outcome<()>> {
    let p = editable(app, caller, id).await?;
    let mut f = Fields::default();
    let other = app
        .store
        .find_persons_by_case_code(&form.other)
        .await?
        .into_iter()
        .find(|o| o.owner_agency_id == caller.agency.id && o.id != p.id && o.merged_into.is_none());
    if other.is_none() {
        f.add("other", "error.merge_other");
    }
    let reason = form.reason.trim();
    if reason.chars().count() < MERGE_MIN_REASON_CHARS {
        f.add("merge_reason", "error.merge_reason");
    }
    let Some(other) = other.filter(|_| !f.has_errors()) else {
        return Ok(Err(f.errors));
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let refused = match store::merge(&mut cmd, &app.store.keys, &caller.agency.id, id, &other.id, reason).await? {
        store::Merge::Done => None,
        // Merged meanwhile by a colleague.
        store::Merge::Gone => Some("error.merge_other"),
        store::Merge::CustodyOnBoth => Some("error.merge_custody"),
        store::Merge::OtherAgencies => Some("error.merge_other_agencies"),
    };
    if let Some(key) = refused {
        return Ok(Fields::one("other", key));
    }
    cmd.commit().await?;
    Ok(Ok(()))
}

#[derive(Deserialize)]
pub struct BreakGlassForm {
    pub reason: String,
    pub minutes: String,
}

/// Open another agency's person record for an emergency: a written reason, for a limited time, reported to
/// the owner's supervisors and audited. The owner has no glass to break (answers `false`).
pub async fn break_glass(app: &App, caller: &Caller, id: &str, form: &BreakGlassForm) -> Result<Outcome<bool>> {
    caller.require(Action::BreakGlass)?;
    let p = get(app, id).await?;
    if p.owner_agency_id == caller.agency.id {
        return Ok(Ok(false));
    }
    let minutes = form.minutes.trim().parse::<i64>().unwrap_or(0);
    let reason = match rules_access::validate_break_glass(&form.reason, minutes) {
        Ok(r) => r,
        Err(e) => {
            let field = if e == rules_access::BreakGlassError::ReasonTooShort { "reason" } else { "minutes" };
            return Ok(Fields::one(field, e.key()));
        }
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let expires_at = cmd.at + minutes * MINUTE;
    let window = NewBreakGlass {
        owner_agency_id: &p.owner_agency_id,
        record_kind: KIND,
        record_id: id,
        reason: &reason,
        expires_at,
    };
    haven_store::access::open_break_glass(&mut cmd, &app.store.keys, &window).await?;
    cmd.commit().await?;
    Ok(Ok(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::I18n;
    use haven_domain::format::Lang;

    #[test]
    fn every_code_on_the_person_page_is_translated() {
        let i = I18n::embedded();
        let mut keys: Vec<String> = Vec::new();
        keys.extend(rules::RELATIONS.iter().map(|r| format!("relation.{r}")));
        keys.extend(rules::ATTACHMENT_KINDS.iter().map(|k| format!("attachment.{k}")));
        keys.extend(NATIONALITIES.iter().map(|k| format!("country.{k}")));
        keys.extend(PURPOSES.iter().map(|p| format!("purpose.{p}")));
        keys.extend(
            ["person.view_identity", "person.view_attachment", "person.update", "person.merge"]
                .map(|a| format!("person_action.{a}")),
        );
        for lang in [Lang::Vi, Lang::En] {
            for k in &keys {
                assert_ne!(i.get(lang, k), k.as_str(), "{k} in {lang:?}");
            }
        }
    }

    #[test]
    fn a_purpose_must_be_one_offered() {
        assert!(check_purpose("case_work").is_ok());
        assert_eq!(check_purpose("curiosity"), Err(vec![("purpose".to_owned(), "error.choice".to_owned())]));
    }
}
