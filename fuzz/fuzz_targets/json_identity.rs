//! A person's identity as the API's JSON may carry it (any object of strings, or anything else): validation
//! never panics, and what it accepts keeps the domain's promises: a name with a letter and no hidden
//! characters, at most 200 characters; no birth after today; a nationality on the ISO list.
#![no_main]

use haven_domain::person::{check_name, IdentityInput};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Object(o)) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let text = |k: &str| o.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let input = IdentityInput {
        full_name: text("full_name"),
        birth_date: text("birth_date"),
        sex: text("sex"),
        id_number: text("id_number"),
        phone: text("phone"),
        address: text("address"),
        commune_code: text("commune_code"),
        other_names: text("other_names"),
        ethnicity: text("ethnicity"),
        nationality: text("nationality"),
        passport: text("passport"),
        language: text("language"),
        interpreter: text("interpreter"),
    };
    let today = time::macros::date!(2026 - 06 - 01);
    if let Ok(identity) = input.validate(today) {
        assert_eq!(check_name(&identity.full_name).as_deref(), Ok(identity.full_name.as_str()));
        assert!(identity.full_name.chars().count() <= 200);
        assert!(identity.birth_date.is_none_or(|b| !b.after(today)));
        assert!(identity.nationality.as_deref().is_none_or(haven_domain::victims::htcds::is_country));
    }
});
