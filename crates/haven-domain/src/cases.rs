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
    }
}
