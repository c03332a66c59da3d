//! The pages, one module per capability.

pub mod account;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod cooperation;
pub mod exports;
pub mod home;
pub mod imports;
pub mod matches;
pub mod persons;
pub mod plan;
pub mod plan_report;
pub mod prevention;
pub mod referrals;
pub mod registers;
pub mod reports;
pub mod sharing;
pub mod statistics;
pub mod supervision;
pub mod victims;

use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(home::routes())
        .merge(account::routes())
        .merge(admin::routes())
        .merge(persons::routes())
        .merge(reports::routes())
        .merge(cases::routes())
        .merge(victims::routes())
        .merge(referrals::routes())
        .merge(registers::routes())
        .merge(matches::routes())
        .merge(plan::routes())
        .merge(exports::routes())
        .merge(statistics::routes())
        .merge(cooperation::routes())
        .merge(plan_report::routes())
        .merge(prevention::routes())
        .merge(imports::routes())
        .merge(supervision::routes())
        .merge(audit::routes())
}

/// Whether the viewer may see a record of `kind` owned by `owner_agency_id`: the owner, an agency the
/// procedure sent it to (`sent_to`), a live grant, or an open break-the-glass window
/// (`haven_domain::access::decide`).
pub async fn record_access(
    state: &AppState,
    viewer: &crate::ctx::Viewer,
    kind: &str,
    id: &str,
    owner_agency_id: &str,
    sent_to: &[&str],
) -> anyhow::Result<haven_domain::AccessDecision> {
    if owner_agency_id == viewer.agency.id {
        return Ok(haven_domain::AccessDecision::Owner);
    }
    if sent_to.contains(&viewer.agency.id.as_str()) {
        return Ok(haven_domain::AccessDecision::SentTo);
    }
    let (grants, bg) = state.store.access_inputs(kind, id).await?;
    Ok(haven_domain::access::decide(&haven_domain::AccessRequest {
        user_id: &viewer.user.id,
        agency_id: &viewer.agency.id,
        owner_agency_id,
        sent_to,
        grants: &grants,
        break_glass: &bg,
        now: state.store.now(),
    }))
}

/// Whether the viewer's agency may open a record's sealed fields (a reporter's identity, a judgment): the
/// owner and the agencies the procedure sent it to. A grant lets an agency read the record, not unseal it.
pub fn may_unseal(viewer: &crate::ctx::Viewer, owner_agency_id: &str, sent_to: &[&str]) -> bool {
    viewer.can(haven_domain::Action::ViewIdentity)
        && (owner_agency_id == viewer.agency.id || sent_to.contains(&viewer.agency.id.as_str()))
}

/// A local path to go back to after a form: only paths on this site. Browsers drop tabs and newlines from
/// URLs, so "/\t/host" would become "//host": anything but printable ASCII is refused outright.
pub fn safe_back(back: &str) -> &str {
    let printable = back.bytes().all(|b| (0x21..0x7f).contains(&b));
    let second = back.as_bytes().get(1).copied();
    if printable && back.starts_with('/') && second != Some(b'/') && second != Some(b'\\') && !back.contains('\\') {
        back
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::safe_back;

    #[test]
    fn only_local_paths_come_back() {
        assert_eq!(safe_back("/persons?view=shared"), "/persons?view=shared");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/%09/x\n",
            "https://evil.example",
            "",
            "/a b",
            "/\u{0}",
        ] {
            assert_eq!(safe_back(bad), "/", "{bad:?}");
        }
    }
}
