//! The plan's five law-enforcement indicators for any period, agency and commune: counted from reports and
//! cases, each with its numerator, denominator, target and the records behind it (codes, agencies and dates,
//! never identity).

use haven_domain::format::parse_date;
use haven_domain::reports::indicators::{self, IndicatorId, Period};
use haven_domain::Action;
use haven_store::cases::{IndicatorRecord, Scope};
use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::{access, App, Caller, Result};

/// The period and scope of the indicators, as the dashboard's query string gives them.
#[derive(Deserialize, Default)]
pub struct IndicatorQuery {
    pub year: Option<i32>,
    /// A period other than a calendar year: first and last day, dd/mm/yyyy.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// Agency code.
    #[serde(default)]
    pub agency: String,
    /// Commune code.
    #[serde(default)]
    pub commune: String,
}

/// The resolved period and scope, with what the page needs to show them.
pub struct Selection {
    pub year: i32,
    pub period: Period,
    /// First and last day as people write them.
    pub from: String,
    pub to: String,
    pub agency: Option<haven_store::directory::Agency>,
    /// (code, name).
    pub commune: Option<(String, String)>,
    /// The period as the query gave it (empty for a calendar year).
    from_given: String,
    to_given: String,
}

/// Resolve the query's period and scope; the translation key of what is wrong with it otherwise.
pub async fn select(app: &App, q: &IndicatorQuery) -> Result<std::result::Result<Selection, &'static str>> {
    let today = app.today();
    let this_year = today.year();
    let year = match q.year {
        Some(y) if !(2000..=this_year).contains(&y) => return Ok(Err("error.period")),
        Some(y) => y,
        None => this_year,
    };
    let (Ok(jan), Ok(dec)) =
        (Date::from_calendar_date(year, Month::January, 1), Date::from_calendar_date(year, Month::December, 31))
    else {
        return Ok(Err("error.date"));
    };
    let (mut from, mut to) = (jan, dec.min(today));
    if !q.from.trim().is_empty() || !q.to.trim().is_empty() {
        match (parse_date(&q.from), parse_date(&q.to)) {
            (Some(f), Some(t)) if f <= t => (from, to) = (f, t.min(today)),
            _ => return Ok(Err("error.period")),
        }
        if from > today {
            return Ok(Err("error.date_in_future"));
        }
    }
    let agency = match q.agency.trim() {
        "" => None,
        code => Some(app.store.agency_by_code(code).await?.ok_or("error.choice")),
    };
    let agency = match agency.transpose() {
        Ok(a) => a,
        Err(e) => return Ok(Err(e)),
    };
    let commune = match q.commune.trim() {
        "" => None,
        code => match app.store.unit_name(code).await? {
            Some(name) => Some((code.to_owned(), name)),
            None => return Ok(Err("error.choice")),
        },
    };
    Ok(Ok(Selection {
        year,
        period: Period { from, to },
        from: haven_domain::format::date(from),
        to: haven_domain::format::date(to),
        agency,
        commune,
        from_given: q.from.trim().to_owned(),
        to_given: q.to.trim().to_owned(),
    }))
}

impl Selection {
    /// The selection as query parameters, for links that keep it.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("year", self.year.to_string())];
        if !self.from_given.is_empty() {
            pairs.push(("from", self.from_given.clone()));
            pairs.push(("to", self.to_given.clone()));
        }
        if let Some(a) = &self.agency {
            pairs.push(("agency", a.code.clone()));
        }
        if let Some((code, _)) = &self.commune {
            pairs.push(("commune", code.clone()));
        }
        pairs
    }
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            agency_id: self.agency.as_ref().map(|a| a.id.as_str()),
            commune_code: self.commune.as_ref().map(|(c, _)| c.as_str()),
        }
    }
}

/// An indicator's value for a selection.
#[derive(Clone, Debug, Serialize)]
pub struct Value {
    pub code: &'static str,
    pub numerator: u64,
    pub denominator: u64,
    /// The share in per mille; none when nothing was counted.
    pub per_mille: Option<u32>,
    pub target_per_mille: u32,
    /// The target is "more than", not "at least".
    pub target_strictly_above: bool,
    /// Whether the target is met; none when nothing was counted.
    pub met: Option<bool>,
}

/// The five indicators for a selection, in the plan's order.
pub async fn values(app: &App, caller: &Caller, sel: &Selection) -> Result<Vec<Value>> {
    caller.require(Action::ViewAggregates)?;
    let counts = app.store.indicator_counts(sel.period, sel.scope()).await?;
    Ok(IndicatorId::ALL
        .into_iter()
        .zip(counts)
        .map(|(id, (n, d))| {
            let v = indicators::Count { id, numerator: n.max(0) as u64, denominator: d.max(0) as u64 };
            let (target, strictly) = id.target();
            Value {
                code: id.code(),
                numerator: v.numerator,
                denominator: v.denominator,
                per_mille: v.per_mille(),
                target_per_mille: target,
                target_strictly_above: strictly,
                met: v.meets_target(),
            }
        })
        .collect())
}

/// A record behind an indicator, and whether the caller may open it.
pub struct Record {
    pub r: IndicatorRecord,
    pub may_open: bool,
}

/// At most this many records are listed under an indicator.
pub const DRILL_DOWN_LIMIT: i64 = 500;

/// The records behind an indicator, in pseudonymous form, each marked with whether the caller may open it;
/// and the indicator's (numerator, denominator).
pub async fn records(
    app: &App,
    caller: &Caller,
    id: IndicatorId,
    sel: &Selection,
) -> Result<(Vec<Record>, (i64, i64))> {
    caller.require(Action::ViewAggregates)?;
    let (records, counts) = app.store.indicator_records(id, sel.period, sel.scope(), DRILL_DOWN_LIMIT).await?;
    let may_view = caller.can(Action::ViewRecords);
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        // Opening needs the right to see records and, for another agency's, the procedure or a grant; the
        // check that costs a query runs only for other agencies' records.
        let may_open = if may_view && r.owner_agency_id == caller.agency.id {
            true
        } else if may_view {
            let sent: Vec<String> = if r.kind == haven_store::cases::KIND {
                app.store.case(&r.id).await?.map(|k| k.sent_to().iter().map(|s| s.to_string()).collect())
            } else {
                app.store.report(&r.id).await?.map(|k| k.sent_to().iter().map(|s| s.to_string()).collect())
            }
            .unwrap_or_default();
            let sent: Vec<&str> = sent.iter().map(String::as_str).collect();
            access::record_access(app, caller, r.kind, &r.id, &r.owner_agency_id, &sent).await?.allowed()
        } else {
            false
        };
        out.push(Record { r, may_open });
    }
    Ok((out, counts))
}
