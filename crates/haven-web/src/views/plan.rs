//! What the plan's pages and its printed report share: the breakdowns of victims as charts with their
//! tables, a period's label, and the translation keys of the catalogue's indicators.

use haven_domain::plan::{Frequency, Measure, ReportPeriod};
use haven_domain::reports::indicators::Period;

use crate::error::AppResult;
use crate::page::Ctx;
use crate::AppState;

/// A chart with its numbers: the title, the SVG, and the rows of the table beside it.
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub svg: String,
    /// (label, value as shown).
    pub rows: Vec<(String, String)>,
}

pub fn chart(id: &'static str, title: String, rows: Vec<(String, u64)>) -> Chart {
    Chart {
        id,
        svg: crate::charts::bars(&title, &rows),
        title,
        rows: rows.into_iter().map(|(k, n)| (k, n.to_string())).collect(),
    }
}

/// The breakdowns of the victims received in a period (of one agency, or all), as charts with their tables.
pub async fn victim_charts(
    state: &AppState,
    c: &Ctx,
    period: Period,
    agency: Option<&str>,
) -> AppResult<(u64, Vec<Chart>)> {
    let b = state.store.victim_breakdowns(period, agency).await?;
    let communes = state.store.communes(&state.config.province).await?;
    let agencies = state.store.agencies().await?;
    let not_recorded = c.t("plan.not_recorded").to_owned();
    let named = |rows: Vec<(String, u64)>, name: &dyn Fn(&str) -> String| -> Vec<(String, u64)> {
        rows.into_iter().map(|(k, n)| (if k.is_empty() { not_recorded.clone() } else { name(&k) }, n)).collect()
    };
    let commune =
        |k: &str| communes.iter().find(|(code, _)| code == k).map_or_else(|| k.to_owned(), |(_, n)| n.clone());
    let agency = |k: &str| {
        agencies
            .iter()
            .find(|a| a.id == k)
            .map_or_else(String::new, |a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
    };
    let charts = vec![
        chart("by-commune", c.t("plan.by_commune").to_owned(), named(b.by_commune, &commune)),
        chart("by-agency", c.t("plan.by_agency").to_owned(), named(b.by_agency, &agency)),
        chart("by-country", c.t("plan.by_country").to_owned(), named(b.by_country, &|k| c.tk("country", k))),
        chart(
            "by-exploitation",
            c.t("plan.by_exploitation").to_owned(),
            named(b.by_exploitation, &|k| c.tk("htcds", k)),
        ),
        chart("by-sex", c.t("plan.by_sex").to_owned(), named(b.by_sex, &|k| c.tk("sex", k))),
        chart("by-age", c.t("plan.by_age").to_owned(), named(b.by_age, &|k| c.tk("age_band", k))),
    ];
    Ok((b.total, charts))
}

/// The translation key of a computed indicator's name or definition: the five law-enforcement indicators keep
/// the words of the indicators page (`indicator.<code>.*`), the others `measure.<code>.*`.
pub fn measure_key(m: Measure, part: &str) -> String {
    match m {
        Measure::LawEnforcement(_) => format!("indicator.{}.{part}", m.code()),
        _ => format!("measure.{}.{part}", m.code()),
    }
}

pub fn label(c: &Ctx, p: ReportPeriod) -> String {
    match p.frequency {
        Frequency::Year => format!("{} {}", c.t("period.year"), p.year),
        Frequency::Half => format!("{} {}/{}", c.t("period.half"), p.index, p.year),
        Frequency::Quarter => format!("{} {}/{}", c.t("period.quarter"), p.index, p.year),
        Frequency::Month => format!("{} {}/{}", c.t("period.month"), p.index, p.year),
    }
}
