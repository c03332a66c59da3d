//! Finding a person: by ID number, phone, passport or case code (exact, through the blind indexes), or by
//! name with a birth year or date where known (through the blind name keys, ranked by the linkage
//! comparison). A search answers only records the caller may open: it says nothing of the others, not even
//! that they exist. Recognition at entry (`haven_store::matches::propose_for`) is the one way to learn that
//! another agency may know a person, and it is audited and rate-limited. Every search is audited with its
//! purpose and a keyed hash of what was looked for, never the value.

use haven_domain::person::{normalise_passport, normalise_phone, IdNumber};
use haven_domain::Action;
use haven_linkage::normalise::name_tokens;
use haven_linkage::probe::NameQuery;
use haven_store::crypto::BlindKind;
use haven_store::persons::{PersonRow, KIND};

use super::{check_purpose, decision};
use crate::{App, Caller, Fields, Outcome, Result};

/// Most records a search shows.
pub const MAX_RESULTS: usize = 20;

/// What a search found: the records the caller may open, best first, and how it read what was typed.
#[derive(Clone, Debug)]
pub struct Searched {
    /// `case_code`, `id_number`, `phone`, `passport` or `name`.
    pub kind: &'static str,
    pub rows: Vec<PersonRow>,
}

/// What was typed, read from its shape.
enum Query {
    Code(String),
    IdNumber(IdNumber),
    Phone(String),
    Passport(String),
    Name(NameQuery),
}

fn read(typed: &str) -> Option<Query> {
    if typed.to_uppercase().starts_with("HS-") {
        return Some(Query::Code(typed.to_owned()));
    }
    if let Some(id) = IdNumber::parse(typed) {
        return Some(Query::IdNumber(id));
    }
    if let Some(phone) = normalise_phone(typed).filter(|_| !typed.contains('-')) {
        return Some(Query::Phone(phone));
    }
    // A passport number has digits; a name has none (a birth year or date after it is read apart).
    let has_letters = typed.chars().any(char::is_alphabetic);
    let all_one_word = !typed.contains(char::is_whitespace);
    if all_one_word && typed.chars().any(|c| c.is_ascii_digit()) {
        if let Some(p) = normalise_passport(typed) {
            return Some(Query::Passport(p));
        }
    }
    if has_letters {
        return NameQuery::parse(typed).map(Query::Name);
    }
    None
}

impl Query {
    fn kind(&self) -> &'static str {
        match self {
            Query::Code(_) => "case_code",
            Query::IdNumber(_) => "id_number",
            Query::Phone(_) => "phone",
            Query::Passport(_) => "passport",
            Query::Name(_) => "name",
        }
    }

    /// What was looked for, normalised, for its keyed hash in the audit log.
    fn probe(&self) -> String {
        match self {
            Query::Code(c) => format!("code|{}", c.to_uppercase()),
            Query::IdNumber(i) => format!("id|{}", i.as_str()),
            Query::Phone(p) => format!("phone|{p}"),
            Query::Passport(p) => format!("passport|{p}"),
            Query::Name(q) => {
                let mut tokens = name_tokens(&q.name);
                tokens.sort();
                format!("name|{}|{}", tokens.join(" "), q.birth.map(|d| d.year).unwrap_or_default())
            }
        }
    }
}

/// Search for a person by what was typed, for a purpose (one of [`super::PURPOSES`]; required for a name
/// search, recorded when given for an exact look-up). Answers only records the caller may open.
pub async fn search(app: &App, caller: &Caller, typed: &str, purpose: &str) -> Result<Outcome<Searched>> {
    caller.require(Action::ViewRecords)?;
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(Fields::one("q", "error.required"));
    }
    let Some(query) = read(typed) else { return Ok(Fields::one("q", "error.search_unreadable")) };
    let purpose = purpose.trim();
    if matches!(query, Query::Name(_)) || !purpose.is_empty() {
        if let Err(e) = check_purpose(purpose) {
            return Ok(Err(e));
        }
    }
    let s = &app.store;
    let found = match &query {
        Query::Code(c) => s.find_persons_by_case_code(c).await?,
        Query::IdNumber(id) => {
            // Some passports are all digits: look there too.
            let mut rows = s.find_persons_by_id_number(id.as_str()).await?;
            with_passport(app, typed, &mut rows).await?;
            rows
        }
        Query::Phone(phone) => {
            let mut rows = s.find_persons_by_phone(phone).await?;
            with_passport(app, typed, &mut rows).await?;
            rows
        }
        Query::Passport(p) => s.find_persons_by_passport(p).await?,
        Query::Name(q) => {
            let also = s.persons_reachable(&caller.agency.id, &caller.user.id, s.now()).await?;
            s.find_by_name(q, &caller.agency.id, &also).await?.into_iter().map(|f| f.row).collect()
        }
    };
    let rows = allowed(app, caller, found).await?;
    let hash = s.keys.blind(BlindKind::Search, &query.probe());
    s.record(
        &caller.actor(),
        haven_store::Entry::new("person.search", KIND, &hash).purpose(purpose).fields(&[query.kind()]),
    )
    .await?;
    Ok(Ok(Searched { kind: query.kind(), rows }))
}

/// What of `found` the caller may open, up to [`MAX_RESULTS`], in order: whatever the index found, only that
/// is answered.
async fn allowed(app: &App, caller: &Caller, found: Vec<PersonRow>) -> Result<Vec<PersonRow>> {
    let mut rows = Vec::new();
    for p in found {
        if rows.len() == MAX_RESULTS {
            break;
        }
        if p.merged_into.is_none() && decision(app, caller, &p).await?.allowed() {
            rows.push(p);
        }
    }
    Ok(rows)
}

/// Exact look-up by ID number, phone, passport or case code, as [`search`] answers it (the API's older
/// operation, which takes no purpose).
pub async fn look_up(app: &App, caller: &Caller, typed: &str) -> Result<Vec<PersonRow>> {
    Ok(search(app, caller, typed, "").await?.map(|s| s.rows).unwrap_or_default())
}

/// Add the records whose passport number is `typed` (when it can be one) to a look-up's results.
async fn with_passport(app: &App, typed: &str, rows: &mut Vec<PersonRow>) -> Result<()> {
    if let Some(passport) = normalise_passport(typed) {
        for p in app.store.find_persons_by_passport(&passport).await? {
            if !rows.iter().any(|r| r.id == p.id) {
                rows.push(p);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_typed_is_read_from_its_shape() {
        let kind = |t: &str| read(t).map(|q| q.kind());
        assert_eq!(kind("HS-7F3A"), Some("case_code"));
        assert_eq!(kind("049 095 012 345"), Some("id_number"));
        assert_eq!(kind("0912 345 678"), Some("phone"));
        assert_eq!(kind("C7654321"), Some("passport"));
        assert_eq!(kind("Hồ Thị Mai 1998"), Some("name"));
        assert_eq!(kind("MAI HO THI"), Some("name"));
        // One name part is too common to search by.
        assert_eq!(kind("Mai"), None);
    }

    #[test]
    fn the_audit_hash_input_is_the_same_for_the_same_person_however_typed() {
        let probe = |t: &str| read(t).map(|q| q.probe()).unwrap_or_default();
        assert_eq!(probe("Hồ Thị Mai 1998"), probe("MAI HO THI 12/03/1998"));
        assert_ne!(probe("Hồ Thị Mai 1998"), probe("Hồ Thị Mai 1999"));
        assert_eq!(probe("049 095 012 345"), probe("049095012345"));
    }
}
