//! The profile's rules, read from the files under `profiles/` built into the binary: the criminal-procedure
//! clock, offence codes, support regimes, referral kinds, the HTCDS code lists, the screening form and the
//! border gates. The law is configuration; the mechanism that applies it is in `haven-domain`.

/// The rules of the profile in force.
pub struct Profile {
    pub clock: haven_domain::reports::clock::ClockRules,
    pub offences: Vec<haven_domain::reports::intake::Offence>,
    pub support: haven_domain::victims::support::SupportRules,
    pub referrals: haven_domain::victims::referral::ReferralKinds,
    /// Which agency kinds may take over a victim case from which.
    pub handovers: haven_domain::victims::handover::HandoverRoutes,
    /// The HTCDS v2 code lists victim cases are recorded in.
    pub htcds: haven_domain::victims::htcds::Picklists,
    /// The interview form for returned citizens.
    pub screening: haven_domain::registers::screening::Form,
    /// Border gates and airports where people are handed back.
    pub gates: Vec<haven_domain::registers::screening::Gate>,
}

impl Profile {
    /// The profile built into the binary. A malformed profile is a build defect, caught by the unit tests.
    pub fn embedded() -> Profile {
        let clock = haven_domain::reports::clock::ClockRules::parse(include_str!(
            "../../../profiles/vn/criminal-procedure.txt"
        ));
        let offences = haven_domain::reports::intake::parse_offences(include_str!("../../../profiles/vn/offences.txt"));
        let support = haven_domain::victims::support::SupportRules::parse(include_str!(
            "../../../profiles/vn/support-regimes.txt"
        ));
        let referrals = haven_domain::victims::referral::ReferralKinds::parse(include_str!(
            "../../../profiles/vn/referral-kinds.txt"
        ));
        let handovers = haven_domain::victims::handover::HandoverRoutes::parse(include_str!(
            "../../../profiles/vn/handover-routes.txt"
        ));
        let htcds = haven_domain::victims::htcds::Picklists::parse(include_str!(
            "../../../profiles/standards/htcds-2.0-fields.csv"
        ));
        let screening =
            haven_domain::registers::screening::Form::parse(include_str!("../../../profiles/vn/screening.txt"));
        let gates =
            haven_domain::registers::screening::parse_gates(include_str!("../../../profiles/vn/border-gates.txt"));
        match (clock, offences, support, referrals, handovers, htcds, screening, gates) {
            (
                Ok(clock),
                Ok(offences),
                Ok(support),
                Ok(referrals),
                Ok(handovers),
                Ok(htcds),
                Ok(screening),
                Ok(gates),
            ) => Profile { clock, offences, support, referrals, handovers, htcds, screening, gates },
            (clock, offences, support, referrals, handovers, htcds, screening, gates) => panic!(
                "the embedded profile is malformed: {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                clock.err(),
                offences.err(),
                support.err(),
                referrals.err(),
                handovers.err(),
                htcds.err(),
                screening.err(),
                gates.err()
            ),
        }
    }
}
