//! Which areas of work an agency takes part in, read from the functions its profile gives it (the
//! `functions` column of the agency list: `intake;investigate;verify`...). The menus and the home page show
//! an agency the areas it works in, so a commune officer is not offered the police's report registers and a
//! border guard sees the returned citizens. Access to records is decided elsewhere: an area only shapes
//! what is offered.

/// An area of work, one entry of the menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Area {
    /// Denunciations, crime reports and recommendations for prosecution, on the legal clock.
    Reports,
    /// Criminal cases opened on reports, through prosecution and trial.
    Cases,
    /// Victim cases: reception, verification, identification, support, protection, reintegration.
    Victims,
    /// Referrals and handovers of victim cases between agencies.
    Referrals,
    /// Lists of people long absent from their communes, reviewed in rounds.
    Absentees,
    /// Citizens handed back by foreign countries, screened at the border.
    Returnees,
    /// Candidate pairs of records that may be one person.
    Matches,
    /// Requests to and from foreign authorities and overseas missions.
    Cooperation,
    /// Prevention campaigns and training.
    Prevention,
    /// The province's plan, its targets and progress reports.
    Plan,
}

impl Area {
    /// The functions any of which puts an agency in the area.
    fn functions(self) -> &'static [&'static str] {
        match self {
            Area::Reports => &["intake", "investigate", "supervise_intake"],
            Area::Cases => &["investigate", "supervise_intake", "prosecute", "try"],
            Area::Victims => {
                &["receive", "verify", "rescue", "support", "reintegrate", "shelter", "citizen_protection"]
            }
            Area::Referrals => &["receive", "verify", "support", "reintegrate", "shelter", "citizen_protection"],
            Area::Absentees => &["absentees"],
            Area::Returnees => &["handover"],
            Area::Matches => &["absentees", "handover", "receive", "verify_identity"],
            Area::Cooperation => &["citizen_protection", "repatriation", "handover", "verify_identity"],
            Area::Prevention => &["prevention", "coordinate"],
            Area::Plan => &["plan", "coordinate", "report"],
        }
    }

    pub const ALL: [Area; 10] = [
        Area::Reports,
        Area::Cases,
        Area::Victims,
        Area::Referrals,
        Area::Absentees,
        Area::Returnees,
        Area::Matches,
        Area::Cooperation,
        Area::Prevention,
        Area::Plan,
    ];
}

/// Whether an agency with these functions (`;`-separated) has the function `f`.
pub fn has_function(functions: &str, f: &str) -> bool {
    functions.split(';').any(|g| g.trim() == f)
}

/// The areas of an agency with these functions (`;`-separated). An agency whose functions name none of
/// the known ones (one set up by hand with other words) is offered every area rather than none.
pub fn areas(functions: &str) -> Vec<Area> {
    let has = |f: &str| has_function(functions, f);
    let found: Vec<Area> = Area::ALL.into_iter().filter(|a| a.functions().iter().any(|f| has(f))).collect();
    if found.is_empty() {
        Area::ALL.to_vec()
    } else {
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_agency_sees_its_own_work() {
        let police = areas("intake;investigate;verify;rescue;receive");
        assert!(police.contains(&Area::Reports) && police.contains(&Area::Victims));
        assert!(!police.contains(&Area::Absentees) && !police.contains(&Area::Returnees));

        let commune = areas("receive;absentees;reintegrate;prevention");
        assert!(commune.contains(&Area::Absentees) && commune.contains(&Area::Matches));
        assert!(!commune.contains(&Area::Reports) && !commune.contains(&Area::Cases));

        let border = areas("rescue;receive;investigate;handover");
        assert!(border.contains(&Area::Returnees) && border.contains(&Area::Cooperation));

        let shelter = areas("shelter;support;reintegrate");
        assert!(shelter.contains(&Area::Victims) && shelter.contains(&Area::Referrals));
        assert!(!shelter.contains(&Area::Reports) && !shelter.contains(&Area::Matches));

        let procuracy = areas("supervise_intake;prosecute");
        assert_eq!(procuracy, vec![Area::Reports, Area::Cases]);
        assert_eq!(areas("try"), vec![Area::Cases]);
    }

    #[test]
    fn unknown_functions_offer_everything_and_spaces_are_ignored() {
        assert_eq!(areas("something_else"), Area::ALL.to_vec());
        assert_eq!(areas(""), Area::ALL.to_vec());
        assert_eq!(areas(" plan ; report"), vec![Area::Plan]);
    }
}
