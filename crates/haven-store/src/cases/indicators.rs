//! The plan's five law-enforcement indicators counted in SQL over reports and cases for a period and scope,
//! the records behind each, and the facts the domain's reference computation reads.

use haven_domain::cases::Stage;
use haven_domain::reports::indicators::{CaseFacts, IndicatorId, Period, ReportFacts};
use serde::Serialize;

use crate::reports::{day, parse_day};
use crate::Store;

use super::*;

/// Which records an indicator counts: all, or one agency's, or one commune's (or both).
#[derive(Clone, Copy, Debug, Default)]
pub struct Scope<'a> {
    pub agency_id: Option<&'a str>,
    pub commune_code: Option<&'a str>,
}

/// A record behind an indicator, in pseudonymous form.
#[derive(Clone, Debug, Serialize)]
pub struct IndicatorRecord {
    /// `report` or `criminal_case`.
    pub kind: &'static str,
    pub id: String,
    /// The report's case code or the case number.
    pub code: String,
    pub owner_agency_id: String,
    /// Received (reports) or opened (cases).
    pub on: String,
    /// In the numerator.
    pub counted: bool,
}

/// One count of an indicator in SQL. In `num` and `den`, `$1` and `$2` are the period's first and last day and
/// `$3` (only where `uses_end`) the end of its last day as an instant.
struct Part {
    id: IndicatorId,
    num: &'static str,
    den: &'static str,
    table: &'static str,
    uses_end: bool,
}

/// The indicators as SQL. Indicator 2's denominator ("settled in the period, or fell due in it and not settled
/// before") is three disjoint ranges that each follow an index: settled in the period (a decision never
/// precedes receipt); fell due in it and still open; fell due in it and settled after its end. Only the first
/// can be in the numerator.
/// The settlement rate's denominator ("received by the period's end, not settled before it began") is three
/// disjoint ranges too: settled in the period (all in the numerator); still open; settled after its end.
const PARTS: [Part; 10] = [
    Part {
        id: IndicatorId::ReceivedAndClassified,
        num: "classified_on IS NOT NULL AND classified_on <= $2",
        den: "received_on >= $1 AND received_on <= $2",
        table: "reports",
        uses_end: false,
    },
    Part {
        id: IndicatorId::SettlementRate,
        num: "1 = 1",
        den: "decision_on >= $1 AND decision_on <= $2 AND received_on <= $2",
        table: "reports",
        uses_end: false,
    },
    Part {
        id: IndicatorId::SettlementRate,
        num: "1 = 0",
        den: "decision_on IS NULL AND received_on <= $2",
        table: "reports",
        uses_end: false,
    },
    Part {
        id: IndicatorId::SettlementRate,
        num: "1 = 0",
        den: "decision_on > $2 AND received_on <= $2",
        table: "reports",
        uses_end: false,
    },
    Part {
        id: IndicatorId::SettledOnTime,
        num: "decision_on_time = 1",
        den: "decision_on >= $1 AND decision_on <= $2",
        table: "reports",
        uses_end: false,
    },
    Part {
        id: IndicatorId::SettledOnTime,
        num: "1 = 0",
        den: "decision_on IS NULL AND last_day >= $1 AND last_day <= $2 AND received_on <= $2",
        table: "reports",
        uses_end: false,
    },
    Part {
        id: IndicatorId::SettledOnTime,
        num: "1 = 0",
        den: "decision_on > $2 AND last_day >= $1 AND last_day <= $2 AND received_on <= $2",
        table: "reports",
        uses_end: false,
    },
    Part {
        id: IndicatorId::OffendersDiscovered,
        num: "offenders_identified_on <= $2",
        den: "opened_on >= $1 AND opened_on <= $2",
        table: "criminal_cases",
        uses_end: false,
    },
    Part {
        id: IndicatorId::Prosecuted,
        num: "indicted_on >= $1 AND indicted_on <= $2",
        den: "to_procuracy_on <= $2 AND (indicted_on IS NULL OR indicted_on >= $1)",
        table: "criminal_cases",
        uses_end: false,
    },
    Part {
        id: IndicatorId::Tried,
        num: "tried_on >= $1 AND tried_on <= $2",
        den: "to_court_on <= $2 AND (tried_on IS NULL OR tried_on >= $1)",
        table: "criminal_cases",
        uses_end: false,
    },
];

/// The columns that count an indicator part: (numerator, denominator).
const COUNTS: &str = "CAST(COALESCE(SUM(CASE WHEN {num} THEN 1 ELSE 0 END), 0) AS BIGINT), CAST(COUNT(*) AS BIGINT)";

/// A value bound to an indicator query.
enum Bind {
    Text(String),
    Int(i64),
}

impl Bind {
    fn bind_as<'q, O>(
        self,
        q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        match self {
            Bind::Text(s) => q.bind(s),
            Bind::Int(i) => q.bind(i),
        }
    }
}

impl Part {
    /// `SELECT <cols> FROM <table> WHERE <den> <scope><tail>` with `{num}` in `cols` replaced, and its binds.
    fn query(&self, period: Period, scope: Scope<'_>, cols: &str, tail: &str) -> (String, Vec<Bind>) {
        let mut binds = vec![Bind::Text(day(period.from)), Bind::Text(day(period.to))];
        if self.uses_end {
            // The end of the period's last day in Viet Nam, as an instant.
            binds.push(Bind::Int(haven_domain::time::day_start(period.to + time::Duration::days(1))));
        }
        let mut filter = String::new();
        for (col, v) in [("owner_agency_id", scope.agency_id), ("commune_code", scope.commune_code)] {
            if let Some(v) = v {
                binds.push(Bind::Text(v.to_owned()));
                filter.push_str(&format!(" AND {col} = ${}", binds.len()));
            }
        }
        let cols = cols.replace("{num}", self.num);
        (format!("SELECT {cols} FROM {} WHERE ({}){filter}{tail}", self.table, self.den), binds)
    }
}

/// id, received on, classified on, decided on, decided on time, last day.
type ReportFactRow = (String, String, Option<String>, Option<String>, Option<i64>, Option<String>);

impl Store {
    /// The indicators' (numerator, denominator) counted in SQL, in the order of `IndicatorId::ALL`. The
    /// conditions mirror `haven_domain::reports::indicators::compute`, the reference that defines them; a
    /// test checks both agree on the same data.
    pub async fn indicator_counts(
        &self,
        period: Period,
        scope: Scope<'_>,
    ) -> anyhow::Result<[(i64, i64); IndicatorId::ALL.len()]> {
        let run = |part: &'static Part| {
            let (sql, binds) = part.query(period, scope, COUNTS, "");
            async move {
                let mut q = sqlx::query_as::<_, (i64, i64)>(&sql);
                for b in binds {
                    q = b.bind_as(q);
                }
                q.fetch_one(self.db.pool()).await
            }
        };
        // Each count scans its own index; running them side by side uses every core.
        let counted = tokio::try_join!(
            run(&PARTS[0]),
            run(&PARTS[1]),
            run(&PARTS[2]),
            run(&PARTS[3]),
            run(&PARTS[4]),
            run(&PARTS[5]),
            run(&PARTS[6]),
            run(&PARTS[7]),
            run(&PARTS[8]),
            run(&PARTS[9])
        )?;
        let (a, b, c, d, e, f, g, h, i, j) = counted;
        let mut out = [(0, 0); IndicatorId::ALL.len()];
        for (part, (n, d)) in PARTS.iter().zip([a, b, c, d, e, f, g, h, i, j]) {
            let slot = &mut out[IndicatorId::ALL.iter().position(|i| *i == part.id).unwrap_or(0)];
            *slot = (slot.0 + n, slot.1 + d);
        }
        Ok(out)
    }

    /// The records behind an indicator (its denominator, each marked with whether it is in the numerator),
    /// at most `limit` of them, and the indicator's (numerator, denominator).
    pub async fn indicator_records(
        &self,
        id: IndicatorId,
        period: Period,
        scope: Scope<'_>,
        limit: i64,
    ) -> anyhow::Result<(Vec<IndicatorRecord>, (i64, i64))> {
        let mut records = Vec::new();
        let mut total = (0, 0);
        for part in PARTS.iter().filter(|p| p.id == id) {
            let (code, date) =
                if part.table == "reports" { ("case_code", "received_on") } else { ("case_number", "opened_on") };
            let cols =
                format!("id, {code}, owner_agency_id, {date}, CAST(CASE WHEN {{num}} THEN 1 ELSE 0 END AS BIGINT)");
            let room = (limit - records.len() as i64).max(0);
            let (sql, binds) = part.query(period, scope, &cols, &format!(" ORDER BY {date}, id LIMIT {room}"));
            let mut q = sqlx::query_as::<_, (String, String, String, String, i64)>(&sql);
            for b in binds {
                q = b.bind_as(q);
            }
            for (rid, code, owner, on, counted) in q.fetch_all(self.db.pool()).await? {
                records.push(IndicatorRecord {
                    kind: if part.table == "reports" { crate::reports::KIND } else { KIND },
                    id: rid,
                    code,
                    owner_agency_id: owner,
                    on,
                    counted: counted != 0,
                });
            }
            let (sql, binds) = part.query(period, scope, COUNTS, "");
            let mut q = sqlx::query_as::<_, (i64, i64)>(&sql);
            for b in binds {
                q = b.bind_as(q);
            }
            let (n, d) = q.fetch_one(self.db.pool()).await?;
            total = (total.0 + n, total.1 + d);
        }
        Ok((records, total))
    }

    /// Facts about every report and case that can bear on a period's indicators (received or opened before its
    /// end), optionally for one agency: the input of `haven_domain::reports::indicators::compute`.
    pub async fn indicator_facts(
        &self,
        period: Period,
        scope: Scope<'_>,
    ) -> anyhow::Result<(Vec<ReportFacts>, Vec<CaseFacts>)> {
        let end = day(period.to);
        let mut filter = String::new();
        let mut values = Vec::new();
        for (col, v) in [("owner_agency_id", scope.agency_id), ("commune_code", scope.commune_code)] {
            if let Some(v) = v {
                values.push(v);
                filter.push_str(&format!(" AND {col} = ${}", values.len() + 1));
            }
        }
        let sql = format!(
            "SELECT id, received_on, classified_on, decision_on, decision_on_time, last_day FROM reports WHERE received_on <= $1{filter}"
        );
        let mut q = sqlx::query_as::<_, ReportFactRow>(&sql).bind(&end);
        for v in &values {
            q = q.bind(*v);
        }
        let rows = q.fetch_all(self.db.pool()).await?;
        let reports = rows
            .into_iter()
            .filter_map(|(id, received, classified_on, decision_on, on_time, last_day)| {
                Some(ReportFacts {
                    id,
                    received: parse_day(&received)?,
                    classified: classified_on.as_deref().and_then(parse_day),
                    settled: decision_on.as_deref().and_then(parse_day).map(|d| (d, on_time == Some(1))),
                    last_day: last_day.as_deref().and_then(parse_day),
                })
            })
            .collect();
        let sql = format!("SELECT {CASE_COLS} FROM criminal_cases WHERE opened_on <= $1{filter}");
        let mut q = sqlx::query(&sql).bind(&end);
        for v in &values {
            q = q.bind(*v);
        }
        let rows = q.fetch_all(self.db.pool()).await?;
        let mut cases = Vec::with_capacity(rows.len());
        for r in rows {
            let c = case_row(r)?;
            let p = c.progress();
            cases.push(CaseFacts {
                id: c.id.clone(),
                opened: p.opened.unwrap_or(period.from),
                offenders_identified: p.date_of(Stage::OffendersIdentified),
                to_procuracy: p.date_of(Stage::ToProcuracy),
                indicted: p.date_of(Stage::Indicted),
                to_court: p.date_of(Stage::ToCourt),
                tried: p.date_of(Stage::Tried),
                closed: p.date_of(Stage::Closed),
            });
        }
        Ok((reports, cases))
    }
}
