//! The plan's computed figures: the one implementation of each catalogue measure for a period and scope,
//! month by month, and the breakdowns of victims received (by commune, agency, country, form of
//! exploitation, sex and age band).

use haven_domain::plan::{Figure, Measure, ReportPeriod};
use haven_domain::reports::indicators::{IndicatorId, Period};
use haven_domain::time::{day_start, Millis};
use serde::Serialize;
use time::Date;

use crate::cases::Scope;
use crate::reports::day;
use crate::Store;

/// The first and last instant (UTC milliseconds) of a period's local days.
fn instants(period: Period) -> (Millis, Millis) {
    let next = period.to.next_day().map_or(i64::MAX, day_start);
    (day_start(period.from), next - 1)
}

/// A scope's conditions on a table, naming the columns that hold the agency and the commune.
fn scope_sql(scope: Scope<'_>, agency: &str, commune: &str) -> String {
    let mut out = String::new();
    if scope.agency_id.is_some() {
        out.push_str(&format!(" AND {agency} = :agency"));
    }
    if scope.commune_code.is_some() {
        out.push_str(&format!(" AND {commune} = :commune"));
    }
    out
}

/// A value bound to a named parameter.
#[derive(Clone, Debug)]
enum Val {
    Text(String),
    Int(i64),
}

/// Number the named parameters of a statement (`:from`, `:agency`, ...) as `$1, $2, ...` in order of
/// appearance, with the values to bind in that order: each statement names only what it uses. Names not in
/// `values` are left as written.
fn numbered(sql: &str, values: &[(&str, Val)]) -> (String, Vec<Val>) {
    let mut out = String::with_capacity(sql.len());
    let mut binds = Vec::new();
    let mut rest = sql;
    while let Some(at) = rest.find(':') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        match values.iter().find(|(name, _)| *name == &after[..len]) {
            Some((_, v)) if len > 0 => {
                binds.push(v.clone());
                out.push_str(&format!("${}", binds.len()));
            }
            _ => out.push_str(&rest[at..at + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    (out, binds)
}

/// Victim cases received in a period, counted by commune, receiving agency, destination country, form of
/// exploitation (a case may have several), sex and age band at reception. Keys are codes (`""` when not
/// recorded); each list is largest first.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VictimBreakdowns {
    pub total: u64,
    pub by_commune: Vec<(String, u64)>,
    pub by_agency: Vec<(String, u64)>,
    pub by_country: Vec<(String, u64)>,
    pub by_exploitation: Vec<(String, u64)>,
    pub by_sex: Vec<(String, u64)>,
    pub by_age: Vec<(String, u64)>,
}

/// Age bands at reception: children (under 16), adolescents (16-17), then adults.
pub const AGE_BANDS: [&str; 6] = ["0_15", "16_17", "18_29", "30_44", "45_plus", "unknown"];

/// The age in whole years on `on` of a person born on `birth` (a date, or only a year: then the difference of
/// years, the birthday assumed passed); `None` when not known or born after `on`.
pub fn age_years(birth: Option<haven_domain::person::BirthDate>, on: Date) -> Option<i32> {
    use haven_domain::person::BirthDate;
    let age = match birth? {
        BirthDate::Full(b) => {
            let mut a = on.year() - b.year();
            if (on.month(), on.day()) < (b.month(), b.day()) {
                a -= 1;
            }
            a
        }
        BirthDate::Month(y, m) => on.year() - y - i32::from(u8::from(on.month()) < m),
        BirthDate::Year(y) => on.year() - y,
    };
    (age >= 0).then_some(age)
}

/// The age band of a person born on `birth` (a date, or only a year) on `on`.
pub fn age_band(birth: Option<haven_domain::person::BirthDate>, on: Date) -> &'static str {
    let Some(age) = age_years(birth, on) else { return "unknown" };
    match age {
        0..=15 => "0_15",
        16..=17 => "16_17",
        18..=29 => "18_29",
        30..=44 => "30_44",
        _ => "45_plus",
    }
}

fn sorted(counts: std::collections::HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

impl Store {
    /// A computed indicator's figure for a period and scope: the catalogue's one implementation.
    pub async fn figure(&self, measure: Measure, period: Period, scope: Scope<'_>) -> anyhow::Result<Figure> {
        if let Measure::LawEnforcement(id) = measure {
            let counts = self.indicator_counts(period, scope).await?;
            let at = IndicatorId::ALL.iter().position(|i| *i == id).unwrap_or(0);
            let (n, d) = counts[at];
            return Ok(Figure::Share { numerator: n.max(0) as u64, denominator: d.max(0) as u64 });
        }
        let days = "BETWEEN :from AND :to";
        let sql = match measure {
            Measure::LawEnforcement(_) => unreachable!("answered above"),
            Measure::VictimsReceived => format!(
                "SELECT COUNT(DISTINCT COALESCE(p.one_person_id, p.id)) FROM victim_cases v JOIN persons p ON p.id = v.person_id \
                 WHERE v.received_on {days}{}",
                scope_sql(scope, "v.owner_agency_id", "v.commune_code")
            ),
            Measure::VictimsVerified => format!(
                "SELECT COUNT(DISTINCT COALESCE(p.one_person_id, p.id)) FROM victim_cases v JOIN persons p ON p.id = v.person_id \
                 WHERE v.verified_on {days}{}",
                scope_sql(scope, "v.owner_agency_id", "v.commune_code")
            ),
            Measure::VictimsIdentified => format!(
                "SELECT COUNT(DISTINCT COALESCE(p.one_person_id, p.id)) FROM victim_cases v JOIN persons p ON p.id = v.person_id \
                 WHERE v.identified_on {days} AND v.status = 'identified'{}",
                scope_sql(scope, "v.owner_agency_id", "v.commune_code")
            ),
            Measure::VictimsSupported => format!(
                "SELECT COUNT(DISTINCT COALESCE(p.one_person_id, p.id)) FROM supports s JOIN victim_cases v ON v.id = s.case_id \
                 JOIN persons p ON p.id = v.person_id WHERE s.given_on {days}{}",
                scope_sql(scope, "s.provider_agency_id", "v.commune_code")
            ),
            Measure::VictimsReintegrated => format!(
                "SELECT COUNT(DISTINCT COALESCE(p.one_person_id, p.id)) FROM victim_cases v JOIN persons p ON p.id = v.person_id \
                 WHERE v.closed_on {days} AND v.closed_reason = 'reintegrated'{}",
                scope_sql(scope, "v.owner_agency_id", "v.commune_code")
            ),
            Measure::ReturneesScreened => format!(
                "SELECT COUNT(DISTINCT COALESCE(p.one_person_id, p.id)) FROM returnees r JOIN persons p ON p.id = r.person_id \
                 WHERE r.screened_at BETWEEN :from_ms AND :to_ms{}",
                scope_sql(scope, "r.owner_agency_id", "p.commune_code")
            ),
            Measure::AbsenteesReviewed => format!(
                "SELECT COUNT(DISTINCT COALESCE(p.one_person_id, p.id)) FROM absentee_reviews r JOIN absentees a ON a.id = r.absentee_id \
                 JOIN persons p ON p.id = a.person_id WHERE r.outcome_on {days}{}",
                scope_sql(scope, "a.owner_agency_id", "a.commune_code")
            ),
            Measure::CampaignReach => format!(
                "SELECT CAST(COALESCE(SUM(a.women + a.men), 0) AS BIGINT) FROM prevention_activities a \
                 WHERE a.held_on {days}{}",
                scope_sql(scope, "a.owner_agency_id", "a.commune_code")
            ),
            Measure::CampaignActivities => format!(
                "SELECT COUNT(*) FROM prevention_activities a WHERE a.held_on {days}{}",
                scope_sql(scope, "a.owner_agency_id", "a.commune_code")
            ),
            // The officials of an agency (or of the agencies of a commune) trained.
            Measure::OfficialsTrained => format!(
                "SELECT COUNT(*) FROM training_participants tp JOIN trainings t ON t.id = tp.training_id \
                 JOIN agencies g ON g.id = tp.agency_id WHERE t.ends_on {days}{}",
                scope_sql(scope, "tp.agency_id", "g.unit_code")
            ),
        };
        let (from_ms, to_ms) = instants(period);
        let (sql, binds) = numbered(
            &sql,
            &[
                ("from", Val::Text(day(period.from))),
                ("to", Val::Text(day(period.to))),
                ("from_ms", Val::Int(from_ms)),
                ("to_ms", Val::Int(to_ms)),
                ("agency", Val::Text(scope.agency_id.unwrap_or_default().to_owned())),
                ("commune", Val::Text(scope.commune_code.unwrap_or_default().to_owned())),
            ],
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for v in binds {
            q = match v {
                Val::Text(t) => q.bind(t),
                Val::Int(i) => q.bind(i),
            };
        }
        let n = q.fetch_one(self.db.pool()).await?;
        Ok(Figure::Total(n.max(0) as u64))
    }

    /// The breakdowns of the victims received in a period, optionally by one agency, each person counted once
    /// (the records of one person linked across agencies are one person) in the total and once under each
    /// value of a breakdown. Sex and birth date are sealed on the person record: they are opened here in
    /// memory, one record at a time, and only the counts leave this function.
    pub async fn victim_breakdowns(&self, period: Period, agency_id: Option<&str>) -> anyhow::Result<VictimBreakdowns> {
        type Row = (String, String, Option<String>, Option<String>, String, String, String, Vec<u8>, Option<Vec<u8>>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT COALESCE(v.commune_code, ''), v.owner_agency_id, v.destination_country, v.exploitation, \
             v.received_on, p.id, COALESCE(p.one_person_id, p.id), p.sex, p.birth_date FROM victim_cases v \
             JOIN persons p ON p.id = v.person_id \
             WHERE v.received_on BETWEEN $1 AND $2 AND ($3 = '' OR v.owner_agency_id = $3)",
        )
        .bind(day(period.from))
        .bind(day(period.to))
        .bind(agency_id.unwrap_or(""))
        .fetch_all(self.db.pool())
        .await?;
        // (breakdown, value, person) once each.
        let mut seen: std::collections::HashSet<(usize, String, String)> = std::collections::HashSet::new();
        let mut maps: [std::collections::HashMap<String, u64>; 6] = Default::default();
        let mut count = |maps: &mut [std::collections::HashMap<String, u64>; 6], at: usize, key: String, one: &str| {
            if seen.insert((at, key.clone(), one.to_owned())) {
                *maps[at].entry(key).or_default() += 1;
            }
        };
        let mut persons = std::collections::HashSet::new();
        for (commune, agency, country, exploitation, received, person, one, sex, birth) in &rows {
            persons.insert(one.as_str());
            count(&mut maps, 0, commune.clone(), one);
            count(&mut maps, 1, agency.clone(), one);
            count(&mut maps, 2, country.clone().unwrap_or_default(), one);
            let forms: Vec<&str> = exploitation.as_deref().unwrap_or_default().split_whitespace().collect();
            if forms.is_empty() {
                count(&mut maps, 3, String::new(), one);
            }
            for f in forms {
                count(&mut maps, 3, f.to_owned(), one);
            }
            count(&mut maps, 4, self.keys.open("persons", "sex", person, sex)?, one);
            let birth = self.keys.open_opt("persons", "birth_date", person, birth.as_deref())?;
            let on = crate::reports::parse_day(received).unwrap_or(period.to);
            let band = age_band(birth.as_deref().and_then(haven_domain::person::BirthDate::parse), on);
            count(&mut maps, 5, band.to_owned(), one);
        }
        let [by_commune, by_agency, by_country, by_exploitation, by_sex, by_age] = maps;
        let mut by_age = sorted(by_age);
        by_age.sort_by_key(|(band, _)| AGE_BANDS.iter().position(|b| b == band));
        Ok(VictimBreakdowns {
            total: persons.len() as u64,
            by_commune: sorted(by_commune),
            by_agency: sorted(by_agency),
            by_country: sorted(by_country),
            by_exploitation: sorted(by_exploitation),
            by_sex: sorted(by_sex),
            by_age,
        })
    }

    /// A computed indicator month by month through a year, up to `today`: `None` for months not begun. A
    /// share per month is its own month's share (per mille).
    pub async fn monthly(&self, measure: Measure, year: i32, today: Date) -> anyhow::Result<Vec<Option<u64>>> {
        let mut out = Vec::with_capacity(12);
        for month in ReportPeriod::all_in(year, haven_domain::plan::Frequency::Month) {
            let r = month.range();
            if r.from > today {
                out.push(None);
                continue;
            }
            let f = self.figure(measure, Period { from: r.from, to: r.to.min(today) }, Scope::default()).await?;
            out.push(f.value());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn named_parameters_are_numbered_in_order() {
        let (sql, binds) = numbered(
            "SELECT 1 WHERE a BETWEEN :from AND :to AND b = :agency AND c = :from AND d = ':x'",
            &[("from", Val::Int(1)), ("to", Val::Int(2)), ("agency", Val::Text("p".into()))],
        );
        assert_eq!(sql, "SELECT 1 WHERE a BETWEEN $1 AND $2 AND b = $3 AND c = $4 AND d = ':x'");
        let ints: Vec<String> = binds.iter().map(|v| format!("{v:?}")).collect();
        assert_eq!(ints, ["Int(1)", "Int(2)", "Text(\"p\")", "Int(1)"]);
    }

    #[test]
    fn age_bands_at_reception() {
        use haven_domain::person::BirthDate;
        let on = date!(2026 - 03 - 01);
        assert_eq!(age_band(Some(BirthDate::Full(date!(2010 - 03 - 02))), on), "0_15", "15 until the day after");
        assert_eq!(age_band(Some(BirthDate::Full(date!(2010 - 03 - 01))), on), "16_17");
        assert_eq!(age_band(Some(BirthDate::Full(date!(2008 - 01 - 01))), on), "18_29");
        assert_eq!(age_band(Some(BirthDate::Year(1990)), on), "30_44");
        assert_eq!(
            age_years(Some(BirthDate::Month(2008, 12)), date!(2026 - 06 - 01)),
            Some(17),
            "not yet in that month"
        );
        assert_eq!(age_years(Some(BirthDate::Month(2008, 6)), date!(2026 - 06 - 01)), Some(18), "in that month");
        assert_eq!(age_band(Some(BirthDate::Year(1970)), on), "45_plus");
        assert_eq!(age_band(None, on), "unknown");
        assert_eq!(age_band(Some(BirthDate::Year(2030)), on), "unknown", "born after reception");
    }

    #[test]
    fn a_period_spans_its_local_days() {
        let (from, to) = instants(Period { from: date!(2026 - 01 - 01), to: date!(2026 - 01 - 01) });
        // Midnight in Viet Nam is 17:00 UTC the day before.
        assert_eq!(haven_domain::time::local_date(from), Some(date!(2026 - 01 - 01)));
        assert_eq!(haven_domain::time::local_date(from - 1), Some(date!(2025 - 12 - 31)));
        assert_eq!(haven_domain::time::local_date(to), Some(date!(2026 - 01 - 01)));
        assert_eq!(haven_domain::time::local_date(to + 1), Some(date!(2026 - 01 - 02)));
    }
}
