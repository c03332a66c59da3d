//! The people registers: each commune's long-term absentees with review rounds ([`absentees`]), and handover
//! batches of citizens returned by foreign countries with the screening interview whose questions come from
//! the profile ([`handovers`]). Every new entry is matched at once against the other registers and known
//! victims.

pub mod absentees;
pub mod handovers;

use haven_domain::person::IdentityInput;
use haven_store::victims::{self as victim_store, NewVictimCase};
use haven_store::Command;
use serde::Deserialize;

use crate::{App, Caller, Fields, Outcome, Result};

/// The person fields a register entry takes, as a form or the API sends them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PersonFields {
    pub full_name: String,
    #[serde(default)]
    pub other_names: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub passport: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub commune_code: String,
    #[serde(default)]
    pub nationality: String,
}

impl PersonFields {
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
            nationality: if self.nationality.trim().is_empty() { "VN".into() } else { self.nationality.clone() },
            passport: self.passport.clone(),
            ..IdentityInput::default()
        }
    }
}

/// Validate a register entry's person: field errors, or the identity ready to seal.
pub(crate) async fn validate_person(app: &App, p: &PersonFields) -> Result<Outcome<haven_domain::person::Identity>> {
    match p.input().validate(app.today()) {
        Ok(mut identity) => {
            if let Some(code) = &identity.commune_code {
                if !app.store.unit_exists(code).await? {
                    return Ok(Fields::one("commune_code", "error.choice"));
                }
            }
            identity.commune_code = identity.commune_code.filter(|c| !c.is_empty());
            Ok(Ok(identity))
        }
        Err(errs) => Ok(Err(errs.into_iter().map(|e| (e.field.to_owned(), e.key.to_owned())).collect())),
    }
}

/// Open a victim case for a register person inside the caller's command (the child flag from the sealed birth
/// date, as reception does).
pub(crate) async fn open_victim_case(
    cmd: &mut Command,
    app: &App,
    caller: &Caller,
    person_id: &str,
    reception_kind: &str,
    on: time::Date,
    commune: Option<&str>,
) -> anyhow::Result<String> {
    let child = victim_store::birth_date_for_rules(cmd, &app.store.keys, person_id)
        .await?
        .is_some_and(|b| haven_domain::victims::is_child(b, on));
    let new = NewVictimCase {
        person_id,
        reception_kind,
        received_on: on,
        commune_code: commune,
        vietnamese: true,
        in_vietnam: true,
        accompanying_child: false,
        officer: &caller.user.display_name,
        note: None,
        previous_case_id: None,
    };
    victim_store::create(cmd, &app.store.keys, &caller.agency.id, &new, child).await
}
