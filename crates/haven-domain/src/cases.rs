//! A criminal case's path: opened by a decision to initiate, then the offenders identified, the file sent to
//! the procuracy, the indictment, the court receiving it, the first-instance trial and an appeal; or the
//! investigation closed or suspended before indictment. Each stage has a date, in order, never in the future.

use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    OffendersIdentified,
    ToProcuracy,
    Indicted,
    ToCourt,
    Tried,
    Appealed,
    InvestigationSuspended,
    Closed,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::OffendersIdentified,
        Stage::ToProcuracy,
        Stage::Indicted,
        Stage::ToCourt,
        Stage::Tried,
        Stage::Appealed,
        Stage::InvestigationSuspended,
        Stage::Closed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Stage::OffendersIdentified => "offenders_identified",
            Stage::ToProcuracy => "to_procuracy",
            Stage::Indicted => "indicted",
            Stage::ToCourt => "to_court",
            Stage::Tried => "tried",
            Stage::Appealed => "appealed",
            Stage::InvestigationSuspended => "investigation_suspended",
            Stage::Closed => "closed",
        }
    }

    pub fn from_code(code: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The agency that takes this step. The investigating body that owns the case may record any stage (it
    /// transcribes the documents it receives); the procuracy and the court record their own steps once the
    /// file has been sent to them.
    pub fn taken_by(self) -> Holder {
        match self {
            Stage::Indicted | Stage::ToCourt => Holder::Procuracy,
            Stage::Tried | Stage::Appealed => Holder::Court,
            _ => Holder::Investigator,
        }
    }

    /// The kind of agency the file goes to at this stage, which must be named.
    pub fn sends_to(self) -> Option<&'static str> {
        match self {
            Stage::ToProcuracy => Some("procuracy"),
            Stage::ToCourt => Some("court"),
            _ => None,
        }
    }

    /// Whether the stage needs a written detail: the reason for closing, the verdict, what was appealed.
    pub fn needs_detail(self) -> bool {
        matches!(self, Stage::Closed | Stage::Tried | Stage::Appealed)
    }

    /// The stage that must come first, if any.
    fn requires(self) -> Option<Stage> {
        match self {
            Stage::Indicted => Some(Stage::ToProcuracy),
            Stage::ToCourt => Some(Stage::Indicted),
            Stage::Tried => Some(Stage::ToCourt),
            Stage::Appealed => Some(Stage::Tried),
            _ => None,
        }
    }
}

/// Who takes a step of the procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    Investigator,
    Procuracy,
    Court,
}

/// How a person is involved in a report or a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    Victim,
    Suspect,
}

impl PersonRole {
    pub const ALL: [PersonRole; 2] = [PersonRole::Victim, PersonRole::Suspect];

    pub fn code(self) -> &'static str {
        match self {
            PersonRole::Victim => "victim",
            PersonRole::Suspect => "suspect",
        }
    }

    pub fn from_code(code: &str) -> Option<PersonRole> {
        PersonRole::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// A suspect's arrest, detention and release, each optional.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Custody {
    pub arrested: Option<Date>,
    pub detained: Option<Date>,
    pub released: Option<Date>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustodyError {
    /// Only suspects are arrested, detained or sentenced.
    NotSuspect,
    InFuture,
    /// Detention before the arrest, or release before either.
    OutOfOrder,
    /// A sentence before the case was tried.
    NotTried,
}

impl CustodyError {
    pub fn key(self) -> &'static str {
        match self {
            CustodyError::NotSuspect => "error.custody_not_suspect",
            CustodyError::InFuture => "error.date_in_future",
            CustodyError::OutOfOrder => "error.custody_order",
            CustodyError::NotTried => "error.sentence_before_trial",
        }
    }
}

impl Custody {
    pub fn is_empty(&self) -> bool {
        *self == Custody::default()
    }

    /// Whether these dates (and a sentence, if any) may be recorded for a person in `role` of a case whose
    /// progress is `progress`.
    pub fn check(
        &self,
        role: PersonRole,
        has_sentence: bool,
        progress: &Progress,
        today: Date,
    ) -> Result<(), CustodyError> {
        if role != PersonRole::Suspect && (!self.is_empty() || has_sentence) {
            return Err(CustodyError::NotSuspect);
        }
        if [self.arrested, self.detained, self.released].into_iter().flatten().any(|d| d > today) {
            return Err(CustodyError::InFuture);
        }
        if let (Some(a), Some(d)) = (self.arrested, self.detained) {
            if d < a {
                return Err(CustodyError::OutOfOrder);
            }
        }
        if let Some(r) = self.released {
            if self.arrested.or(self.detained).is_none()
                || [self.arrested, self.detained].into_iter().flatten().any(|d| r < d)
            {
                return Err(CustodyError::OutOfOrder);
            }
        }
        if has_sentence && progress.date_of(Stage::Tried).is_none() {
            return Err(CustodyError::NotTried);
        }
        Ok(())
    }
}

/// The dates a case has reached so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub opened: Option<Date>,
    pub reached: Vec<(Stage, Date)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageError {
    AlreadyReached,
    Missing(Stage),
    BeforePrevious,
    InFuture,
    Ended,
}

impl StageError {
    pub fn key(self) -> &'static str {
        match self {
            StageError::AlreadyReached => "error.stage_reached",
            StageError::Missing(_) => "error.stage_missing",
            StageError::BeforePrevious => "error.stage_order",
            StageError::InFuture => "error.date_in_future",
            StageError::Ended => "error.stage_ended",
        }
    }
}

impl Progress {
    pub fn date_of(&self, stage: Stage) -> Option<Date> {
        self.reached.iter().find(|(s, _)| *s == stage).map(|(_, d)| *d)
    }

    /// The stages the procedure allows next, as of `today`, in its order: what a stage form offers, and the
    /// first of them is what the case waits for.
    pub fn possible(&self, today: Date) -> Vec<Stage> {
        Stage::ALL.into_iter().filter(|s| self.check(*s, today, today).is_ok()).collect()
    }

    /// Whether `stage` may be recorded on `on` (given `today`).
    pub fn check(&self, stage: Stage, on: Date, today: Date) -> Result<(), StageError> {
        if on > today {
            return Err(StageError::InFuture);
        }
        if self.date_of(stage).is_some() {
            return Err(StageError::AlreadyReached);
        }
        if self.date_of(Stage::Closed).is_some() {
            return Err(StageError::Ended);
        }
        if matches!(stage, Stage::Closed | Stage::InvestigationSuspended) && self.date_of(Stage::Indicted).is_some() {
            // After indictment the case belongs to the procuracy and the court; it ends in judgment.
            return Err(StageError::Ended);
        }
        if let Some(req) = stage.requires() {
            if self.date_of(req).is_none() {
                return Err(StageError::Missing(req));
            }
        }
        let latest = self.reached.iter().map(|(_, d)| *d).chain(self.opened).max();
        if latest.is_some_and(|l| on < l) {
            return Err(StageError::BeforePrevious);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn stages_follow_the_procedure_in_order() {
        let today = date!(2026 - 06 - 01);
        let mut p = Progress { opened: Some(date!(2026 - 01 - 10)), reached: vec![] };
        assert_eq!(
            p.check(Stage::Indicted, date!(2026 - 02 - 01), today),
            Err(StageError::Missing(Stage::ToProcuracy))
        );
        assert_eq!(p.check(Stage::OffendersIdentified, date!(2026 - 01 - 09), today), Err(StageError::BeforePrevious));
        assert_eq!(p.check(Stage::OffendersIdentified, date!(2026 - 07 - 01), today), Err(StageError::InFuture));
        assert!(p.check(Stage::OffendersIdentified, date!(2026 - 01 - 20), today).is_ok());
        p.reached.push((Stage::OffendersIdentified, date!(2026 - 01 - 20)));
        assert_eq!(p.check(Stage::OffendersIdentified, date!(2026 - 01 - 21), today), Err(StageError::AlreadyReached));
        p.reached.push((Stage::ToProcuracy, date!(2026 - 03 - 01)));
        p.reached.push((Stage::Indicted, date!(2026 - 04 - 01)));
        assert_eq!(
            p.check(Stage::Closed, date!(2026 - 04 - 02), today),
            Err(StageError::Ended),
            "no closing after indictment"
        );
        assert!(p.check(Stage::ToCourt, date!(2026 - 04 - 05), today).is_ok());
    }

    #[test]
    fn the_form_offers_only_what_the_procedure_allows_next() {
        let today = date!(2026 - 06 - 01);
        let mut p = Progress { opened: Some(date!(2026 - 01 - 10)), reached: vec![] };
        assert_eq!(
            p.possible(today),
            vec![Stage::OffendersIdentified, Stage::ToProcuracy, Stage::InvestigationSuspended, Stage::Closed]
        );
        p.reached.push((Stage::ToProcuracy, date!(2026 - 03 - 01)));
        p.reached.push((Stage::Indicted, date!(2026 - 04 - 01)));
        assert_eq!(p.possible(today), vec![Stage::OffendersIdentified, Stage::ToCourt], "no closing after indictment");
        p.reached.push((Stage::Closed, date!(2026 - 05 - 01)));
        assert!(p.possible(today).is_empty(), "an ended case takes nothing more");
    }

    #[test]
    fn a_closed_investigation_takes_no_more_stages() {
        let today = date!(2026 - 06 - 01);
        let p = Progress { opened: Some(date!(2026 - 01 - 10)), reached: vec![(Stage::Closed, date!(2026 - 02 - 01))] };
        assert_eq!(p.check(Stage::ToProcuracy, date!(2026 - 03 - 01), today), Err(StageError::Ended));
    }

    #[test]
    fn codes_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::from_code(s.code()), Some(s));
        }
        for r in PersonRole::ALL {
            assert_eq!(PersonRole::from_code(r.code()), Some(r));
        }
    }

    #[test]
    fn each_step_belongs_to_the_body_that_takes_it() {
        assert_eq!(Stage::ToProcuracy.taken_by(), Holder::Investigator);
        assert_eq!(Stage::Indicted.taken_by(), Holder::Procuracy);
        assert_eq!(Stage::ToCourt.taken_by(), Holder::Procuracy);
        assert_eq!(Stage::Tried.taken_by(), Holder::Court);
        assert_eq!(Stage::ToProcuracy.sends_to(), Some("procuracy"));
        assert_eq!(Stage::ToCourt.sends_to(), Some("court"));
        assert!(Stage::Tried.needs_detail() && Stage::Closed.needs_detail() && !Stage::Indicted.needs_detail());
    }

    #[test]
    fn custody_dates_follow_each_other_and_belong_to_suspects() {
        let today = date!(2026 - 06 - 01);
        let open = Progress { opened: Some(date!(2026 - 01 - 10)), reached: vec![] };
        let c = |a, d, r| Custody { arrested: a, detained: d, released: r };
        let ok = c(Some(date!(2026 - 01 - 05)), Some(date!(2026 - 01 - 08)), Some(date!(2026 - 05 - 08)));
        assert_eq!(ok.check(PersonRole::Suspect, false, &open, today), Ok(()), "arrest may precede the case");
        assert_eq!(ok.check(PersonRole::Victim, false, &open, today), Err(CustodyError::NotSuspect));
        assert_eq!(Custody::default().check(PersonRole::Victim, false, &open, today), Ok(()));
        assert_eq!(
            c(Some(date!(2026 - 01 - 08)), Some(date!(2026 - 01 - 05)), None).check(
                PersonRole::Suspect,
                false,
                &open,
                today
            ),
            Err(CustodyError::OutOfOrder),
            "detained before arrested"
        );
        assert_eq!(
            c(None, Some(date!(2026 - 01 - 08)), Some(date!(2026 - 01 - 07))).check(
                PersonRole::Suspect,
                false,
                &open,
                today
            ),
            Err(CustodyError::OutOfOrder),
            "released before detained"
        );
        assert_eq!(
            c(None, None, Some(date!(2026 - 01 - 07))).check(PersonRole::Suspect, false, &open, today),
            Err(CustodyError::OutOfOrder),
            "released without custody"
        );
        assert_eq!(
            c(Some(date!(2026 - 06 - 02)), None, None).check(PersonRole::Suspect, false, &open, today),
            Err(CustodyError::InFuture)
        );
        assert_eq!(Custody::default().check(PersonRole::Suspect, true, &open, today), Err(CustodyError::NotTried));
        let tried = Progress { opened: open.opened, reached: vec![(Stage::Tried, date!(2026 - 05 - 01))] };
        assert_eq!(Custody::default().check(PersonRole::Suspect, true, &tried, today), Ok(()));
    }
}
