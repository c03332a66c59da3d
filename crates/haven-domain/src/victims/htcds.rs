//! The victim-centred code lists of IOM's Human Trafficking Case Data Standard (HTCDS) v2, read from the
//! standard's own field list (`profiles/standards/htcds-2.0-fields.csv`), so Haven records forms of
//! exploitation, means of control, recruitment and trafficking events in the standard's codes and exports them
//! without a mapping.

/// The standard's fields whose picklists Haven records.
pub const EXPLOITATION: &str = "vic_TypeOfExploitation";
pub const CONTROL: &str = "vic_MethodsOfControl";
pub const RECRUITMENT: &str = "vic_MethodOfRecruitment";
pub const RELATIONSHIP: &str = "vic_RelationshipToTrafficker";
pub const EVENT_TYPE: &str = "hte_Type";

/// The standard's fields Haven's export fills from its own codes (see [`gender`], [`trafficking_status`],
/// [`decision_org`] and [`case_status`]; the mapping is documented in `docs/htcds.md`).
pub const GENDER: &str = "prs_Gender";
pub const TRAFFICKING_STATUS: &str = "vic_TraffickingStatus";
pub const DECISION_ORG: &str = "vic_TraffickingStatusDecisionMakingOrg";
pub const CASE_STATUS: &str = "cas_Status";

const FIELDS: [&str; 9] = [
    EXPLOITATION,
    CONTROL,
    RECRUITMENT,
    RELATIONSHIP,
    EVENT_TYPE,
    GENDER,
    TRAFFICKING_STATUS,
    DECISION_ORG,
    CASE_STATUS,
];

/// Haven's sex code (`f`, `m`, `u`) as the standard's gender.
pub fn gender(sex: &str) -> &'static str {
    match sex {
        "f" => "Feminine",
        "m" => "Masculine",
        _ => "NonSpecifiedUnknown",
    }
}

/// A victim case's status (`signs`, `being_identified`, `identified`, `not_victim`) as the standard's.
pub fn trafficking_status(status: &str) -> &'static str {
    match status {
        "identified" => "ActualVictimOfTrafficking",
        "not_victim" => "NotAVictimOfTrafficking",
        _ => "PossibleVictimOfTrafficking",
    }
}

/// The kind of agency that decided a case's status, as the standard names decision makers. In Viet Nam the
/// social-support authority decides identification, with the police; shelters and unions are not police.
pub fn decision_org(agency_kind: &str) -> &'static str {
    match agency_kind {
        "police" | "border_guard" => "Police",
        "procuracy" | "court" => "CourtOrProsecution",
        "social_support" | "foreign_affairs" | "commune_committee" | "steering_committee" => {
            "NonPoliceGovernmentalOrganization"
        }
        "shelter" | "womens_union" => "NGO",
        _ => "Other",
    }
}

/// A case as the standard's case status: open, closed, or closed by referral to another agency.
pub fn case_status(closed_reason: Option<&str>) -> &'static str {
    match closed_reason {
        None => "Active",
        Some("transferred") => "ClosedReferred",
        Some(_) => "Closed",
    }
}

/// A picklist: the field and its codes with their English labels, in the standard's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picklist {
    pub field: String,
    pub values: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picklists {
    pub lists: Vec<Picklist>,
}

impl Picklists {
    /// Read the picklists Haven needs from the standard's CSV (values are separated by new lines or `;`).
    pub fn parse(csv_text: &str) -> Result<Picklists, String> {
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let headers = reader.headers().map_err(|e| e.to_string())?.clone();
        let col = |name: &str| headers.iter().position(|h| h == name).ok_or(format!("no column {name}"));
        let (field_col, names_col, labels_col) = (
            col("Field Name including Prefix")?,
            col("Value Names (if picklist)")?,
            col("Value Labels (if picklist)")?,
        );
        let split = |s: &str| -> Vec<String> {
            s.split(['\n', ';']).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect()
        };
        let mut lists = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| e.to_string())?;
            let field = record.get(field_col).unwrap_or_default();
            if !FIELDS.contains(&field) {
                continue;
            }
            let names = split(record.get(names_col).unwrap_or_default());
            let labels = split(record.get(labels_col).unwrap_or_default());
            let values = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), labels.get(i).cloned().unwrap_or_else(|| n.clone())))
                .collect();
            lists.push(Picklist { field: field.to_owned(), values });
        }
        for f in FIELDS {
            if !lists.iter().any(|l| l.field == f) {
                return Err(format!("the standard has no picklist {f}"));
            }
        }
        Ok(Picklists { lists })
    }

    /// The codes of a field, in the standard's order.
    pub fn codes(&self, field: &str) -> Vec<&str> {
        self.lists.iter().filter(|l| l.field == field).flat_map(|l| l.values.iter().map(|(c, _)| c.as_str())).collect()
    }

    pub fn contains(&self, field: &str, code: &str) -> bool {
        self.codes(field).contains(&code)
    }
}

/// The ISO 3166-1 list (code, tab, English short name per line), from `profiles/standards/iso3166-1.txt`.
const COUNTRIES: &str = include_str!("../../../../profiles/standards/iso3166-1.txt");

/// A country as ISO 3166-1 alpha-2 (the standard's choice): a code on the ISO list, in capitals. Two capital
/// letters are not enough: "XX" or "EU" is no country a person comes from or goes to.
pub fn is_country(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.lines().filter(|l| !l.starts_with('#')).any(|l| l.split('\t').next() == Some(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> Picklists {
        Picklists::parse(include_str!("../../../../profiles/standards/htcds-2.0-fields.csv")).expect("standard")
    }

    #[test]
    fn every_mapped_code_is_in_the_standard() {
        let l = lists();
        for sex in ["f", "m", "u", "x"] {
            assert!(l.contains(GENDER, gender(sex)), "{sex}");
        }
        for status in crate::victims::Status::ALL {
            assert!(l.contains(TRAFFICKING_STATUS, trafficking_status(status.code())), "{status:?}");
        }
        for kind in ["police", "border_guard", "procuracy", "court", "social_support", "shelter", "womens_union", "x"] {
            assert!(l.contains(DECISION_ORG, decision_org(kind)), "{kind}");
        }
        for reason in [None, Some("transferred"), Some("reintegrated"), Some("deceased")] {
            assert!(l.contains(CASE_STATUS, case_status(reason)), "{reason:?}");
        }
    }

    #[test]
    fn the_standard_gives_the_code_lists() {
        let p = lists();
        assert!(p.contains(EXPLOITATION, "ForcedLabour") && p.contains(EXPLOITATION, "ForcedMarriage"));
        assert!(p.contains(CONTROL, "DebtBondage") && p.contains(CONTROL, "WithholdsDocuments"));
        assert!(p.contains(RECRUITMENT, "ThroughOnlineSocialNetworks"));
        assert_eq!(p.codes(RELATIONSHIP), ["Familial", "Acquainted", "Unaquainted"], "the standard's spelling");
        assert_eq!(p.codes(EVENT_TYPE), ["Recruitment", "Transit", "Exploitation"]);
        assert!(!p.contains(EXPLOITATION, "Gambling"));
    }

    #[test]
    fn countries_are_two_capital_letters() {
        assert!(is_country("KH") && is_country("CN"));
        assert!(!is_country("kh") && !is_country("KHM") && !is_country(""));
        assert!(!is_country("XX") && !is_country("EU") && !is_country("ZZ"), "two capitals are not a country");
        assert_eq!(COUNTRIES.lines().filter(|l| !l.starts_with('#')).count(), 249);
    }
}
