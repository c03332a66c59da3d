//! A referral as the pages list it: its kind, the two agencies by name and its due day, marked late when
//! open past it. The referrals page and the victim case page show them.

use haven_domain::format::{parse_date, Lang};
use haven_store::victims::ReferralRow;

use crate::error::AppResult;
use crate::page::Ctx;
use crate::AppState;

/// A referral as the pages list it.
pub struct ReferralLine {
    pub r: ReferralRow,
    pub kind: String,
    pub from: String,
    pub to: String,
    pub due: String,
    /// Open and past its due day.
    pub late: bool,
    /// What the receiver reported on completing it, for the two agencies it concerns.
    pub outcome: Option<String>,
    /// What it asks, for the two agencies it concerns: the receiver reads it before accepting.
    pub asks: Option<String>,
}

/// The referrals as lines; `agency_id` is the viewer's agency, to which a completed referral's outcome opens
/// when it sent or received it.
pub async fn lines(state: &AppState, c: &Ctx, agency_id: &str, rows: Vec<ReferralRow>) -> AppResult<Vec<ReferralLine>> {
    let agencies = state.store.agencies().await?;
    let name = |id: &str| {
        agencies
            .iter()
            .find(|a| a.id == id)
            .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
            .unwrap_or_default()
    };
    let t = state.today();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let kind = state
            .profile
            .referrals
            .kind(&r.kind)
            .map(|k| if c.lang == Lang::En { k.name_en.clone() } else { k.name_vi.clone() })
            .unwrap_or_else(|| r.kind.clone());
        let due_day = parse_date(&r.due_on);
        let late = matches!(r.status.as_str(), "sent" | "accepted") && due_day.is_some_and(|d| d < t);
        let concerned = r.from_agency_id == agency_id || r.to_agency_id == agency_id;
        let outcome =
            if concerned && r.status == "completed" { state.store.referral_outcome(&r.id).await? } else { None };
        let asks =
            if concerned { state.store.referral_purpose(&r.id).await?.filter(|p| !p.trim().is_empty()) } else { None };
        out.push(ReferralLine {
            kind,
            from: name(&r.from_agency_id),
            to: name(&r.to_agency_id),
            due: due_day.map(haven_domain::format::date).unwrap_or_default(),
            late,
            outcome,
            asks,
            r,
        });
    }
    Ok(out)
}
