//! Consent per purpose. A victim's information goes to another agency, into statistics, to the family, the
//! media or research only with the consent of the person (or their legal representative; always the
//! representative for a child), recorded with its date, optional expiry and withdrawal. Without it, only a user
//! with the override right may proceed, recording the legal basis.

use time::Date;

use crate::time::{day_start, Millis};

/// What a consent is for.
pub const PURPOSES: &[&str] =
    &["share_agency", "share_agency_kind", "statistics", "contact_family", "media", "research"];

/// Who gave it.
pub const GIVERS: &[&str] = &["person", "representative"];

/// One recorded consent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    pub purpose: String,
    /// For sharing: the agency id (`share_agency`) or agency kind (`share_agency_kind`); empty otherwise.
    pub target: String,
    pub given_on: Date,
    pub expires_on: Option<Date>,
    pub withdrawn_on: Option<Date>,
}

impl Consent {
    /// In force on `day`: given, not expired, not withdrawn (a withdrawal takes effect the day it is recorded).
    pub fn in_force(&self, day: Date) -> bool {
        self.given_on <= day && self.expires_on.is_none_or(|e| day <= e) && self.withdrawn_on.is_none_or(|w| day < w)
    }

    /// The instant the consent stops being in force, if it ever does: the start of the day after it expires,
    /// or of the day it was withdrawn, whichever comes first. Access resting on it ends then.
    pub fn ends_at(&self) -> Option<Millis> {
        ends_at(self.expires_on, self.withdrawn_on)
    }
}

/// [`Consent::ends_at`] from the two dates alone.
pub fn ends_at(expires_on: Option<Date>, withdrawn_on: Option<Date>) -> Option<Millis> {
    let expiry = expires_on.and_then(|e| e.next_day()).map(day_start);
    let withdrawal = withdrawn_on.map(day_start);
    expiry.into_iter().chain(withdrawal).min()
}

/// Whether the consents allow sharing with an agency (by its id or its kind) on `day`.
pub fn allows_sharing(consents: &[Consent], agency_id: &str, agency_kind: &str, day: Date) -> bool {
    consents.iter().filter(|c| c.in_force(day)).any(|c| {
        (c.purpose == "share_agency" && c.target == agency_id)
            || (c.purpose == "share_agency_kind" && c.target == agency_kind)
    })
}

/// A legal basis for sharing without consent is at least this long: a citation, not a word.
pub const MIN_LEGAL_BASIS_CHARS: usize = 10;

/// Whether the consents allow a purpose that names no agency (statistics, contact with the family, ...).
pub fn allows(consents: &[Consent], purpose: &str, day: Date) -> bool {
    consents.iter().any(|c| c.purpose == purpose && c.in_force(day))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentError {
    UnknownPurpose,
    TargetMissing,
    /// A child's consent is given by their legal representative.
    RepresentativeRequired,
    RepresentativeName,
    InFuture,
    ExpiryBeforeGiven,
}

impl ConsentError {
    pub fn key(self) -> &'static str {
        match self {
            ConsentError::UnknownPurpose => "error.choice",
            ConsentError::TargetMissing => "error.consent_target",
            ConsentError::RepresentativeRequired => "error.consent_representative",
            ConsentError::RepresentativeName => "error.consent_representative_name",
            ConsentError::InFuture => "error.date_in_future",
            ConsentError::ExpiryBeforeGiven => "error.consent_expiry",
        }
    }
}

/// A consent about to be recorded.
pub struct NewConsent<'a> {
    pub purpose: &'a str,
    pub target: &'a str,
    pub given_by: &'a str,
    pub representative: &'a str,
    pub given_on: Date,
    pub expires_on: Option<Date>,
}

pub fn check(c: &NewConsent<'_>, child: bool, today: Date) -> Result<(), ConsentError> {
    if !PURPOSES.contains(&c.purpose) || !GIVERS.contains(&c.given_by) {
        return Err(ConsentError::UnknownPurpose);
    }
    if c.purpose.starts_with("share_") && c.target.trim().is_empty() {
        return Err(ConsentError::TargetMissing);
    }
    if child && c.given_by != "representative" {
        return Err(ConsentError::RepresentativeRequired);
    }
    if c.given_by == "representative" && c.representative.trim().chars().count() < 2 {
        return Err(ConsentError::RepresentativeName);
    }
    if c.given_on > today {
        return Err(ConsentError::InFuture);
    }
    if c.expires_on.is_some_and(|e| e < c.given_on) {
        return Err(ConsentError::ExpiryBeforeGiven);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn consent(purpose: &str, target: &str) -> Consent {
        Consent {
            purpose: purpose.into(),
            target: target.into(),
            given_on: date!(2026 - 03 - 01),
            expires_on: None,
            withdrawn_on: None,
        }
    }

    #[test]
    fn sharing_needs_a_consent_in_force_for_that_agency_or_its_kind() {
        let day = date!(2026 - 03 - 10);
        let named = [consent("share_agency", "police-id")];
        assert!(allows_sharing(&named, "police-id", "police", day));
        assert!(!allows_sharing(&named, "border-id", "border_guard", day));
        let kind = [consent("share_agency_kind", "police")];
        assert!(allows_sharing(&kind, "police-id", "police", day));
        assert!(!allows_sharing(&[consent("statistics", "")], "police-id", "police", day));
        let mut withdrawn = consent("share_agency", "police-id");
        withdrawn.withdrawn_on = Some(day);
        assert!(!allows_sharing(&[withdrawn.clone()], "police-id", "police", day), "withdrawal takes effect at once");
        assert!(allows_sharing(&[withdrawn], "police-id", "police", date!(2026 - 03 - 09)));
        let mut expired = consent("share_agency", "police-id");
        expired.expires_on = Some(date!(2026 - 03 - 09));
        assert!(!allows_sharing(&[expired], "police-id", "police", day));
        assert!(!allows_sharing(&named, "police-id", "police", date!(2026 - 02 - 28)), "not before it was given");
    }

    #[test]
    fn a_consent_ends_when_it_stops_being_in_force() {
        let mut c = consent("share_agency", "police-id");
        assert_eq!(c.ends_at(), None, "open-ended");
        c.expires_on = Some(date!(2026 - 03 - 20));
        let end = c.ends_at().expect("expires");
        // In force for the whole of its last day, not one millisecond after it, in Viet Nam's days.
        assert_eq!(crate::time::local_date(end - 1), Some(date!(2026 - 03 - 20)));
        assert_eq!(crate::time::local_date(end), Some(date!(2026 - 03 - 21)));
        assert!(c.in_force(date!(2026 - 03 - 20)) && !c.in_force(date!(2026 - 03 - 21)));
        // A withdrawal before the expiry ends it at the start of the day it is recorded.
        c.withdrawn_on = Some(date!(2026 - 03 - 10));
        assert_eq!(c.ends_at(), Some(day_start(date!(2026 - 03 - 10))));
        assert!(!c.in_force(date!(2026 - 03 - 10)));
        c.withdrawn_on = Some(date!(2026 - 03 - 25));
        assert_eq!(c.ends_at(), Some(end), "whichever comes first");
    }

    #[test]
    fn a_child_consents_through_a_representative() {
        let today = date!(2026 - 03 - 10);
        let mut c = NewConsent {
            purpose: "statistics",
            target: "",
            given_by: "person",
            representative: "",
            given_on: today,
            expires_on: None,
        };
        assert_eq!(check(&c, false, today), Ok(()));
        assert_eq!(check(&c, true, today), Err(ConsentError::RepresentativeRequired));
        c.given_by = "representative";
        assert_eq!(check(&c, true, today), Err(ConsentError::RepresentativeName));
        c.representative = "Mẹ: Lò Thị Dung";
        assert_eq!(check(&c, true, today), Ok(()));
        c.purpose = "share_agency";
        assert_eq!(check(&c, true, today), Err(ConsentError::TargetMissing));
        c.purpose = "gossip";
        assert_eq!(check(&c, true, today), Err(ConsentError::UnknownPurpose));
        let late = NewConsent {
            purpose: "statistics",
            target: "",
            given_by: "person",
            representative: "",
            given_on: today,
            expires_on: Some(date!(2026 - 03 - 09)),
        };
        assert_eq!(check(&late, false, today), Err(ConsentError::ExpiryBeforeGiven));
    }
}
