//! The case file: a victim case with everything recorded on it, cut to what the caller sees (see
//! [`super::sight`]). The page and the API both read it here, so a part a referral does not open, or what an
//! agency recorded after another handed the case over, cannot leak through one of them.

use haven_domain::time::Millis;
use haven_domain::victims::handover::{self, Holding};
use haven_domain::victims::Parts;
use haven_domain::Action;
use haven_store::registers::ReturneeRow;
use haven_store::victims::{
    ConsentRow, EventRow, GoalRow, HandoverRow, MeasureRow, ReferralRow, StepRow, SupportRow, VictimCase, VisitRow,
};

use super::{redact, sight};
use crate::{App, Caller, Error, Result};

pub struct CaseFile {
    pub case: VictimCase,
    pub parts: Parts,
    /// For an agency that handed the case over: the instant it did; what was recorded later is left out.
    pub until: Option<Millis>,
    pub steps: Vec<StepRow>,
    pub supports: Vec<SupportRow>,
    pub consents: Vec<ConsentRow>,
    pub referrals: Vec<ReferralRow>,
    pub events: Vec<EventRow>,
    pub measures: Vec<MeasureRow>,
    pub goals: Vec<GoalRow>,
    pub visits: Vec<VisitRow>,
    /// Every handover of the case, oldest first (the summary's chain of custody is built from them).
    pub handovers: Vec<HandoverRow>,
    /// The border screening that opened the case, with the context part: the indicators ticked carry over.
    pub screening: Option<ReturneeRow>,
}

impl CaseFile {
    /// Who held the case, from when to when, and by which handover.
    pub fn custody(&self) -> Vec<Holding> {
        let accepted: Vec<handover::Accepted> = self
            .handovers
            .iter()
            .filter(|h| h.status == "accepted")
            .filter_map(|h| {
                Some(handover::Accepted {
                    id: h.id.clone(),
                    from_agency_id: h.from_agency_id.clone(),
                    to_agency_id: h.to_agency_id.clone(),
                    on: h.answered_on.as_deref().and_then(haven_domain::format::parse_date)?,
                })
            })
            .collect();
        let received = self.case.received().unwrap_or(time::Date::MIN);
        handover::custody(&self.case.received_by_agency_id, received, &accepted)
    }

    /// The handover awaiting an answer, if any.
    pub fn pending_handover(&self) -> Option<&HandoverRow> {
        self.handovers.iter().find(|h| h.status == "proposed")
    }
}

/// Read the case file as the caller may see it.
pub async fn read(app: &App, caller: &Caller, id: &str) -> Result<CaseFile> {
    caller.require(Action::ViewRecords)?;
    let mut case = app.store.victim_case(id).await?.ok_or(Error::NotFound)?;
    let sight = sight(app, caller, &case).await?.ok_or(Error::Forbidden)?;
    let (parts, until) = (sight.parts, sight.until);
    // The parts are independent reads: fetch them side by side.
    let st = &app.store;
    let (
        mut steps,
        mut supports,
        mut consents,
        mut referrals,
        mut events,
        mut measures,
        mut goals,
        mut visits,
        mut handovers,
        mut screening,
    ) = tokio::try_join!(
        st.victim_steps(id),
        st.supports(id),
        st.consents(&case.person_id),
        st.referrals_of_case(id),
        st.trafficking_events(id),
        st.protection_measures(id),
        st.reintegration_goals(id),
        st.followups(id),
        st.handovers_of_case(id),
        st.screening_of_victim_case(id),
    )?;
    if !parts.steps {
        steps.clear();
    }
    if !parts.support {
        supports.clear();
    }
    if !parts.consents {
        consents.clear();
    }
    if !parts.referrals {
        // A receiver sees the referrals made to its own agency even without the referrals part.
        referrals.retain(|r| r.to_agency_id == caller.agency.id);
    }
    if !parts.context {
        events.clear();
        screening = None;
    }
    if !parts.protection {
        measures.clear();
    }
    if !parts.reintegration {
        goals.clear();
        visits.clear();
    }
    if let Some(until) = until {
        let before = |at: Millis| at <= until;
        steps.retain(|r| before(r.recorded_at));
        supports.retain(|r| before(r.recorded_at));
        consents.retain(|r| before(r.recorded_at));
        referrals.retain(|r| before(r.sent_at) && r.from_agency_id == caller.agency.id);
        events.retain(|r| before(r.recorded_at));
        measures.retain(|r| before(r.recorded_at));
        goals.retain(|r| before(r.recorded_at));
        visits.retain(|r| before(r.recorded_at));
        // Where the case went after it left them is not theirs to follow.
        handovers.retain(|h| before(h.proposed_at));
    }
    let mut shown = parts;
    // A former holder reads the grounds of a decision only if it was approved while it held the case; the
    // summary (status, verification) stays, as for every agency that may see the case. The context codes on
    // the case are kept as they stand now, so they are not its to read; nor is where the case went after the
    // agency it handed it to.
    if until.is_some() {
        shown.identification = case.approved_at.zip(until).is_some_and(|(at, until)| at <= until);
        case.exploitation = None;
        case.control = None;
        case.recruitment = None;
        case.relationship = None;
        case.destination_country = None;
        if let Some(to) = handovers.iter().rev().find(|h| h.status == "accepted") {
            case.owner_agency_id = to.to_agency_id.clone();
        }
    }
    redact(&mut case, shown);
    Ok(CaseFile {
        case,
        parts: shown,
        until,
        steps,
        supports,
        consents,
        referrals,
        events,
        measures,
        goals,
        visits,
        handovers,
        screening,
    })
}
