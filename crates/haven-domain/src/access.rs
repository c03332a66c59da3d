//! Record-level access: a record belongs to an agency; anyone else sees it only because the procedure sent it
//! to them (a report notified to the procuracy, a case file sent to the procuracy or the court), through an
//! unexpired, unrevoked grant (to their agency or to them personally) or an open break-the-glass window.

use serde::{Deserialize, Serialize};

use crate::time::Millis;

/// Who a grant is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grantee {
    Agency(String),
    User(String),
}

#[derive(Clone, Debug)]
pub struct Grant {
    pub id: String,
    pub grantee: Grantee,
    pub expires_at: Millis,
    pub revoked: bool,
    /// The parts of the record the grant opens, as space-separated codes the record kind defines (a referral
    /// opens only what it needs); `None` opens the whole record.
    pub scope: Option<String>,
}

#[derive(Clone, Debug)]
pub struct BreakGlass {
    pub id: String,
    pub user_id: String,
    pub expires_at: Millis,
}

/// The viewer and the record, with every grant and break-the-glass window that names the record.
pub struct AccessRequest<'a> {
    pub user_id: &'a str,
    pub agency_id: &'a str,
    pub owner_agency_id: &'a str,
    /// Agencies the record was sent to by the procedure itself.
    pub sent_to: &'a [&'a str],
    pub grants: &'a [Grant],
    pub break_glass: &'a [BreakGlass],
    pub now: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessDecision {
    Owner,
    SentTo,
    /// Through a grant; `scope` as in [`Grant::scope`], joined over every live grant when none opens the
    /// whole record.
    Granted {
        grant_id: String,
        scope: Option<String>,
    },
    BrokenGlass {
        id: String,
    },
    Denied,
}

impl AccessDecision {
    pub fn allowed(&self) -> bool {
        !matches!(self, AccessDecision::Denied)
    }

    /// Whether the whole record opens for ordinary work (linking it, building on it): its owner, an agency it
    /// was sent to, or a grant not limited to some of its parts. Break-the-glass is for reading in an
    /// emergency only.
    pub fn opens_whole_record(&self) -> bool {
        matches!(self, AccessDecision::Owner | AccessDecision::SentTo | AccessDecision::Granted { scope: None, .. })
    }
}

/// Decide record access. The owner agency wins, then an agency the record was sent to, then a personal or
/// agency grant, then break-the-glass.
pub fn decide(req: &AccessRequest<'_>) -> AccessDecision {
    if req.agency_id == req.owner_agency_id {
        return AccessDecision::Owner;
    }
    if req.sent_to.contains(&req.agency_id) {
        return AccessDecision::SentTo;
    }
    let mine = |g: &&Grant| {
        !g.revoked
            && g.expires_at > req.now
            && (g.grantee == Grantee::User(req.user_id.to_owned())
                || g.grantee == Grantee::Agency(req.agency_id.to_owned()))
    };
    let live: Vec<&Grant> = req.grants.iter().filter(mine).collect();
    // A grant of the whole record wins over scoped ones; scoped grants add up.
    if let Some(g) = live.iter().find(|g| g.scope.is_none()) {
        return AccessDecision::Granted { grant_id: g.id.clone(), scope: None };
    }
    if let Some(first) = live.first() {
        let mut parts: Vec<&str> =
            live.iter().flat_map(|g| g.scope.as_deref().unwrap_or("").split_whitespace()).collect();
        parts.sort_unstable();
        parts.dedup();
        return AccessDecision::Granted { grant_id: first.id.clone(), scope: Some(parts.join(" ")) };
    }
    if let Some(b) = req.break_glass.iter().find(|b| b.user_id == req.user_id && b.expires_at > req.now) {
        return AccessDecision::BrokenGlass { id: b.id.clone() };
    }
    AccessDecision::Denied
}

/// The longest a break-the-glass window may stay open.
pub const BREAK_GLASS_MAX_MINUTES: i64 = 240;
/// A reason shorter than this is not a reason.
pub const BREAK_GLASS_MIN_REASON_CHARS: usize = 15;
/// The longest a grant may run before it must be renewed.
pub const GRANT_MAX_DAYS: i64 = 366;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakGlassError {
    ReasonTooShort,
    DurationOutOfRange,
}

impl BreakGlassError {
    pub fn key(self) -> &'static str {
        match self {
            BreakGlassError::ReasonTooShort => "error.break_glass_reason",
            BreakGlassError::DurationOutOfRange => "error.break_glass_minutes",
        }
    }
}

/// Validate a break-the-glass request; returns the trimmed reason.
pub fn validate_break_glass(reason: &str, minutes: i64) -> Result<String, BreakGlassError> {
    let reason = reason.trim();
    if reason.chars().count() < BREAK_GLASS_MIN_REASON_CHARS {
        return Err(BreakGlassError::ReasonTooShort);
    }
    if !(1..=BREAK_GLASS_MAX_MINUTES).contains(&minutes) {
        return Err(BreakGlassError::DurationOutOfRange);
    }
    Ok(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(id: &str, grantee: Grantee, expires_at: Millis, revoked: bool) -> Grant {
        Grant { id: id.into(), grantee, expires_at, revoked, scope: None }
    }

    fn req<'a>(grants: &'a [Grant], bg: &'a [BreakGlass], now: Millis) -> AccessRequest<'a> {
        AccessRequest {
            user_id: "u1",
            agency_id: "health",
            owner_agency_id: "police",
            sent_to: &[],
            grants,
            break_glass: bg,
            now,
        }
    }

    #[test]
    fn an_agency_sees_what_the_procedure_sent_it() {
        let mut r = req(&[], &[], 0);
        r.sent_to = &["procuracy", "court"];
        assert_eq!(decide(&r), AccessDecision::Denied, "health was sent nothing");
        r.agency_id = "court";
        assert_eq!(decide(&r), AccessDecision::SentTo);
    }

    #[test]
    fn owner_agency_sees_its_records() {
        let mut r = req(&[], &[], 0);
        r.agency_id = "police";
        assert_eq!(decide(&r), AccessDecision::Owner);
    }

    #[test]
    fn other_agency_is_denied_without_grant() {
        assert_eq!(decide(&req(&[], &[], 0)), AccessDecision::Denied);
    }

    #[test]
    fn agency_and_personal_grants_until_expiry() {
        let g = [grant("g1", Grantee::Agency("health".into()), 100, false)];
        assert!(decide(&req(&g, &[], 99)).allowed());
        assert_eq!(decide(&req(&g, &[], 100)), AccessDecision::Denied, "expiry is exclusive");
        let g = [grant("g2", Grantee::User("u1".into()), 100, false)];
        assert_eq!(decide(&req(&g, &[], 5)), AccessDecision::Granted { grant_id: "g2".into(), scope: None });
        let g = [grant("g3", Grantee::User("u2".into()), 100, false)];
        assert_eq!(decide(&req(&g, &[], 5)), AccessDecision::Denied, "someone else's grant");
    }

    #[test]
    fn scoped_grants_add_up_and_a_whole_grant_wins() {
        let scoped = |id: &str, scope: &str| Grant {
            scope: Some(scope.into()),
            ..grant(id, Grantee::Agency("health".into()), 100, false)
        };
        let g = [scoped("g1", "support steps"), scoped("g2", "person support")];
        assert_eq!(
            decide(&req(&g, &[], 5)),
            AccessDecision::Granted { grant_id: "g1".into(), scope: Some("person steps support".into()) }
        );
        let g = [scoped("g1", "support"), grant("g2", Grantee::User("u1".into()), 100, false)];
        assert_eq!(decide(&req(&g, &[], 5)), AccessDecision::Granted { grant_id: "g2".into(), scope: None });
        let g = [scoped("g1", "support"), grant("g2", Grantee::User("u1".into()), 100, true)];
        assert_eq!(
            decide(&req(&g, &[], 5)),
            AccessDecision::Granted { grant_id: "g1".into(), scope: Some("support".into()) },
            "a revoked whole grant does not widen a scoped one"
        );
    }

    #[test]
    fn revoked_grant_gives_nothing() {
        let g = [grant("g1", Grantee::Agency("health".into()), 100, true)];
        assert_eq!(decide(&req(&g, &[], 5)), AccessDecision::Denied);
    }

    #[test]
    fn break_glass_is_personal_and_time_limited() {
        let bg = [BreakGlass { id: "b1".into(), user_id: "u1".into(), expires_at: 50 }];
        assert_eq!(decide(&req(&[], &bg, 49)), AccessDecision::BrokenGlass { id: "b1".into() });
        assert_eq!(decide(&req(&[], &bg, 50)), AccessDecision::Denied);
        let other = [BreakGlass { id: "b2".into(), user_id: "u9".into(), expires_at: 50 }];
        assert_eq!(decide(&req(&[], &other, 1)), AccessDecision::Denied);
    }

    #[test]
    fn break_glass_needs_reason_and_bounded_time() {
        assert_eq!(validate_break_glass("  short ", 30), Err(BreakGlassError::ReasonTooShort));
        assert_eq!(
            validate_break_glass("Nạn nhân đang cấp cứu, cần liên hệ gia đình", 0),
            Err(BreakGlassError::DurationOutOfRange)
        );
        assert_eq!(
            validate_break_glass("Nạn nhân đang cấp cứu, cần liên hệ gia đình", 241),
            Err(BreakGlassError::DurationOutOfRange)
        );
        assert!(validate_break_glass("Nạn nhân đang cấp cứu, cần liên hệ gia đình", 240).is_ok());
    }
}
