//! Handing a victim case over from one agency to another, as the coordination regulation has it: the border
//! guards or the police who received a victim hand her to the social-support authority, which hands her to
//! the commune for reintegration, or to a shelter for a stay. The holder proposes a handover (on the person's
//! consent or a recorded legal basis), the receiver accepts or declines; on acceptance the receiver owns and
//! works the case and the sender keeps reading what it recorded while it held it. Which agency kinds may hand
//! to which is profile data (`handover-routes.txt`).

use time::Date;

/// Which agency kinds may receive a handover from which.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandoverRoutes {
    /// (the sender's kind, the kinds it may hand to).
    pub routes: Vec<(String, Vec<String>)>,
}

impl HandoverRoutes {
    /// One line per sending kind: `from_kind | to_kind to_kind ...`; `#` starts a comment.
    pub fn parse(text: &str) -> Result<HandoverRoutes, String> {
        let mut routes: Vec<(String, Vec<String>)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((from, to)) = line.split_once('|') else {
                return Err(format!("line {}: expected `from kind | to kinds`", n + 1));
            };
            let from = from.trim();
            let to: Vec<String> = to.split_whitespace().map(str::to_owned).collect();
            if from.is_empty() || to.is_empty() || routes.iter().any(|(f, _)| f == from) {
                return Err(format!("line {}: missing or repeated sending kind, or no receiving kind", n + 1));
            }
            if to.iter().any(|t| t == from) {
                return Err(format!("line {}: a kind does not hand over to itself", n + 1));
            }
            routes.push((from.to_owned(), to));
        }
        Ok(HandoverRoutes { routes })
    }

    /// The kinds an agency of `from_kind` may hand a case to.
    pub fn receivers(&self, from_kind: &str) -> &[String] {
        self.routes.iter().find(|(f, _)| f == from_kind).map(|(_, to)| to.as_slice()).unwrap_or_default()
    }

    pub fn allows(&self, from_kind: &str, to_kind: &str) -> bool {
        self.receivers(from_kind).iter().any(|t| t == to_kind)
    }
}

/// Where a handover stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Proposed,
    Accepted,
    Declined,
    /// Taken back by the sender before an answer.
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Proposed, Status::Accepted, Status::Declined, Status::Withdrawn];

    pub fn code(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::Accepted => "accepted",
            Status::Declined => "declined",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandoverError {
    /// The receiving agency is not of a kind the sender may hand to, or is the sender.
    WrongReceiver,
    /// Another handover of the case awaits an answer.
    Pending,
    Closed,
    ReasonMissing,
    /// The answer does not follow from where the handover stands.
    WrongStatus,
}

impl HandoverError {
    pub fn key(self) -> &'static str {
        match self {
            HandoverError::WrongReceiver => "error.handover_receiver",
            HandoverError::Pending => "error.handover_pending",
            HandoverError::Closed => "error.victim_closed",
            HandoverError::ReasonMissing => "error.handover_reason",
            HandoverError::WrongStatus => "error.handover_status",
        }
    }
}

/// What a proposal needs besides consent: an open case with no other handover pending, a receiver of a kind
/// the route allows (never the sender), and the reason written down.
pub fn check_propose(
    routes: &HandoverRoutes,
    from_kind: &str,
    to_kind: &str,
    to_is_sender: bool,
    pending: bool,
    closed: bool,
    reason: &str,
) -> Result<(), HandoverError> {
    if closed {
        return Err(HandoverError::Closed);
    }
    if pending {
        return Err(HandoverError::Pending);
    }
    if to_is_sender || !routes.allows(from_kind, to_kind) {
        return Err(HandoverError::WrongReceiver);
    }
    if reason.trim().chars().count() < 5 {
        return Err(HandoverError::ReasonMissing);
    }
    Ok(())
}

/// What the receiver (accept, decline) or the sender (withdraw) may do with a handover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Decline,
    Withdraw,
}

/// Only a proposed handover is answered; a decline says why.
pub fn check_answer(status: Status, answer: Answer, reason: &str) -> Result<Status, HandoverError> {
    if status != Status::Proposed {
        return Err(HandoverError::WrongStatus);
    }
    match answer {
        Answer::Accept => Ok(Status::Accepted),
        Answer::Decline if reason.trim().chars().count() < 5 => Err(HandoverError::ReasonMissing),
        Answer::Decline => Ok(Status::Declined),
        Answer::Withdraw => Ok(Status::Withdrawn),
    }
}

/// One agency's time holding the case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holding {
    pub agency_id: String,
    pub from: Date,
    /// None while it holds the case.
    pub until: Option<Date>,
    /// Why it received the case: None for the agency that received the victim.
    pub handover_id: Option<String>,
}

/// An accepted handover as the chain of custody needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub id: String,
    pub from_agency_id: String,
    pub to_agency_id: String,
    pub on: Date,
}

/// The chain of custody: the receiving agency from the reception day, then each accepted handover in order.
pub fn custody(received_by: &str, received_on: Date, accepted: &[Accepted]) -> Vec<Holding> {
    let mut chain =
        vec![Holding { agency_id: received_by.to_owned(), from: received_on, until: None, handover_id: None }];
    for h in accepted {
        if let Some(last) = chain.last_mut() {
            last.until = Some(h.on);
        }
        chain.push(Holding {
            agency_id: h.to_agency_id.clone(),
            from: h.on,
            until: None,
            handover_id: Some(h.id.clone()),
        });
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn routes() -> HandoverRoutes {
        HandoverRoutes::parse(include_str!("../../../../profiles/vn/handover-routes.txt")).expect("profile")
    }

    #[test]
    fn the_profile_routes_follow_the_coordination_chain() {
        let r = routes();
        assert!(r.allows("border_guard", "social_support"));
        assert!(r.allows("police", "social_support"));
        assert!(r.allows("social_support", "commune_committee"));
        assert!(r.allows("social_support", "shelter"));
        assert!(!r.allows("social_support", "court"));
        assert!(!r.allows("procuracy", "social_support"), "a kind with no route hands nothing over");
    }

    #[test]
    fn malformed_routes_are_refused() {
        assert!(HandoverRoutes::parse("police social_support").is_err());
        assert!(HandoverRoutes::parse("police |").is_err());
        assert!(HandoverRoutes::parse("police | police").is_err());
        assert!(HandoverRoutes::parse("police | a\npolice | b").is_err());
        assert_eq!(HandoverRoutes::parse("# nothing\n\n").map(|r| r.routes.len()), Ok(0));
    }

    #[test]
    fn a_proposal_needs_a_route_a_reason_and_no_other_pending() {
        let r = routes();
        let ok = "Chuyển hỗ trợ y tế và tâm lý";
        assert_eq!(check_propose(&r, "border_guard", "social_support", false, false, false, ok), Ok(()));
        assert_eq!(
            check_propose(&r, "border_guard", "court", false, false, false, ok),
            Err(HandoverError::WrongReceiver)
        );
        assert_eq!(
            check_propose(&r, "border_guard", "social_support", true, false, false, ok),
            Err(HandoverError::WrongReceiver)
        );
        assert_eq!(
            check_propose(&r, "border_guard", "social_support", false, true, false, ok),
            Err(HandoverError::Pending)
        );
        assert_eq!(
            check_propose(&r, "border_guard", "social_support", false, false, true, ok),
            Err(HandoverError::Closed)
        );
        assert_eq!(
            check_propose(&r, "border_guard", "social_support", false, false, false, " a "),
            Err(HandoverError::ReasonMissing)
        );
    }

    #[test]
    fn only_a_proposed_handover_is_answered() {
        assert_eq!(check_answer(Status::Proposed, Answer::Accept, ""), Ok(Status::Accepted));
        assert_eq!(check_answer(Status::Proposed, Answer::Withdraw, ""), Ok(Status::Withdrawn));
        assert_eq!(check_answer(Status::Proposed, Answer::Decline, "no"), Err(HandoverError::ReasonMissing));
        assert_eq!(check_answer(Status::Proposed, Answer::Decline, "Không còn chỗ"), Ok(Status::Declined));
        for s in [Status::Accepted, Status::Declined, Status::Withdrawn] {
            assert_eq!(check_answer(s, Answer::Accept, ""), Err(HandoverError::WrongStatus));
        }
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
    }

    #[test]
    fn custody_runs_from_reception_through_each_accepted_handover() {
        let chain = custody(
            "border",
            date!(2026 - 11 - 01),
            &[
                Accepted {
                    id: "h1".into(),
                    from_agency_id: "border".into(),
                    to_agency_id: "health".into(),
                    on: date!(2026 - 11 - 03),
                },
                Accepted {
                    id: "h2".into(),
                    from_agency_id: "health".into(),
                    to_agency_id: "pc".into(),
                    on: date!(2026 - 11 - 20),
                },
            ],
        );
        assert_eq!(chain.len(), 3);
        assert_eq!((chain[0].agency_id.as_str(), chain[0].until), ("border", Some(date!(2026 - 11 - 03))));
        assert_eq!((chain[1].from, chain[1].until), (date!(2026 - 11 - 03), Some(date!(2026 - 11 - 20))));
        assert_eq!(
            (chain[2].agency_id.as_str(), chain[2].until, chain[2].handover_id.as_deref()),
            ("pc", None, Some("h2"))
        );
        assert_eq!(custody("police", date!(2026 - 01 - 01), &[]).len(), 1);
    }
}
