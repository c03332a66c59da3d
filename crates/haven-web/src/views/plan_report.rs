//! A plan's periodic report (month, quarter, six months, year), for one agency or the province, in the
//! viewer's language: built once as a [`Report`] from the catalogue the dashboard uses, then shown as the
//! printable page, written as an XLSX workbook (one sheet per section) or answered as JSON by the API, so all
//! three give the same numbers. Every cell written to a workbook is neutralised against formula injection.

use haven_app::imports::neutralise;
use haven_app::plan::indicator_value;
use haven_domain::format::Lang;
use haven_domain::plan::{self as rules, ReportPeriod, Unit};
use haven_domain::reports::indicators::Period;
use haven_store::plan::{PlanRow, ReachBy};
use serde::Deserialize;

use crate::error::AppResult;
use crate::page::Ctx;
use crate::views::plan::{label, measure_key, victim_charts, Chart};
use crate::AppState;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    pub period: String,
    /// An agency's code, or empty for the province.
    #[serde(default)]
    pub agency: String,
    /// The report's number, as the issuing office numbers it (e.g. 15/BC-BCĐ).
    #[serde(default)]
    pub number: String,
}

/// One row of the indicators section.
pub struct IndicatorRowOut {
    pub name: String,
    pub definition: String,
    pub target: String,
    pub result: String,
    pub status: String,
    /// The figures behind `target` and `result`, for the workbook to store as numbers: the unit, the target
    /// and the value (a share in tenths of a percent), and a share's numerator and denominator.
    pub unit: Unit,
    pub figures: Figures,
}

/// An indicator's figures as numbers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Figures {
    pub target: Option<u64>,
    pub value: Option<u64>,
    pub numerator: Option<u64>,
    pub denominator: Option<u64>,
}

/// A report, in the viewer's language, ready for the page or the workbook.
pub struct Report {
    pub issuer: String,
    pub number: String,
    pub place_date: String,
    pub title: String,
    pub period_label: String,
    pub indicators: Vec<IndicatorRowOut>,
    pub victims: u64,
    pub victim_charts: Vec<Chart>,
    pub activities_held: u64,
    pub reached: u64,
    /// Reach by target group, commune, channel: (title, rows).
    pub reach: Vec<(String, Vec<(String, u64)>)>,
    /// (course, topic, days, participants)
    pub trainings: Vec<(String, String, String, i64)>,
    pub trained: i64,
    /// (activity, responsible, due, done)
    pub plan_activities: Vec<(String, String, String, String)>,
    /// No record falls in the period (for the agency): every figure is zero or without data. The report is
    /// still made (a month with nothing to report is reported too), with a notice saying so.
    pub empty: bool,
}

/// The period and agency asked for: the period within the plan's year and begun; the agency by code.
pub async fn selection(
    state: &AppState,
    plan: &PlanRow,
    q: &ReportQuery,
) -> AppResult<Result<(ReportPeriod, Option<haven_store::directory::Agency>), (&'static str, &'static str)>> {
    let period = match haven_app::plan::chosen_period(plan, &q.period) {
        Ok(p) if p.range().from <= state.today() => p,
        _ => return Ok(Err(("period", "error.report_period"))),
    };
    let agency = match q.agency.trim() {
        "" => None,
        // Codes are short words; a control character (a NUL, which PostgreSQL refuses) names no agency.
        code if code.chars().any(char::is_control) => return Ok(Err(("agency", "error.choice"))),
        code => match state.store.agency_by_code(code).await? {
            Some(a) => Some(a),
            None => return Ok(Err(("agency", "error.choice"))),
        },
    };
    Ok(Ok((period, agency)))
}

/// "Đà Nẵng, ngày 5 tháng 3 năm 2026" / "Da Nang, 5 March 2026": the place and date line of an administrative
/// document.
pub fn place_date(lang: Lang, place: &str, d: time::Date) -> String {
    match lang {
        Lang::Vi => format!("{place}, ngày {} tháng {} năm {}", d.day(), u8::from(d.month()), d.year()),
        Lang::En => format!("{place}, {} {} {}", d.day(), d.month(), d.year()),
    }
}

/// The province as an administrative document names its place ("Đà Nẵng", without "Thành phố").
pub async fn place(state: &AppState) -> AppResult<String> {
    let name = state.store.unit_name(&state.config.province).await?.unwrap_or_default();
    Ok(name.trim_start_matches("Thành phố ").trim_start_matches("Tỉnh ").to_owned())
}

pub async fn build(
    state: &AppState,
    c: &Ctx,
    plan: &PlanRow,
    period: ReportPeriod,
    agency: Option<&haven_store::directory::Agency>,
    number: &str,
) -> AppResult<Report> {
    let today = state.today();
    let range = period.range();
    let until = Period { from: range.from, to: range.to.min(today) };
    let agencies = state.store.agencies().await?;
    let owner = agency.map(|a| a.id.clone()).unwrap_or_else(|| plan.owner_agency_id.clone());
    let issuer = agencies
        .iter()
        .find(|a| a.id == owner)
        .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
        .unwrap_or_default();
    let agency_name = |id: &str| {
        agencies
            .iter()
            .find(|a| a.id == id)
            .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
            .unwrap_or_default()
    };
    let place = place(state).await?;
    let mut indicators = Vec::new();
    let mut any_figure = false;
    for i in state.store.plan_indicators(&plan.id).await? {
        let v = indicator_value(state, &i, period, agency.map(|a| a.id.as_str())).await?;
        any_figure |= v.value.is_some_and(|x| x > 0) || v.denominator.is_some_and(|d| d > 0);
        let unit = Unit::from_code(v.unit).unwrap_or(Unit::Count);
        let definition = match haven_app::plan::source(&i) {
            rules::Source::Computed(m) => c.t(&measure_key(m, "definition")).to_owned(),
            rules::Source::Manual(_) => i.definition.clone().unwrap_or_default(),
        };
        let mut result =
            v.value.map(|x| rules::show(unit, x, c.lang)).unwrap_or_else(|| c.t("plan.no_data").to_owned());
        if let (Some(n), Some(d)) = (v.numerator, v.denominator) {
            result = format!("{result} ({n}/{d})");
        }
        indicators.push(IndicatorRowOut {
            name: i.name.clone(),
            definition,
            target: v.target.map(|t| rules::show(unit, t, c.lang)).unwrap_or_default(),
            result,
            status: c.tk("plan_status", v.status),
            unit,
            figures: Figures { target: v.target, value: v.value, numerator: v.numerator, denominator: v.denominator },
        });
    }
    // One agency's report counts what that agency did; the province's, everything.
    let agency_id = agency.map(|a| a.id.as_str());
    let (victims, charts) = victim_charts(state, c, until, agency_id).await?;
    let communes = state.store.communes(&state.config.province).await?;
    let commune =
        |k: &str| communes.iter().find(|(code, _)| code == k).map_or_else(|| k.to_owned(), |(_, n)| n.clone());
    let by_group: Vec<(String, u64)> = state
        .store
        .reach_by(until, ReachBy::TargetGroup, agency_id)
        .await?
        .into_iter()
        .map(|(k, n)| (c.tk("target_group", &k), n.max(0) as u64))
        .collect();
    let by_commune: Vec<(String, u64)> = state
        .store
        .reach_by(until, ReachBy::Commune, agency_id)
        .await?
        .into_iter()
        .map(|(k, n)| {
            (if k.is_empty() { c.t("prevention.no_commune").to_owned() } else { commune(&k) }, n.max(0) as u64)
        })
        .collect();
    let by_channel: Vec<(String, u64)> = state
        .store
        .reach_by(until, ReachBy::Channel, agency_id)
        .await?
        .into_iter()
        .map(|(k, n)| (c.tk("channel", &k), n.max(0) as u64))
        .collect();
    let scope = haven_store::cases::Scope { agency_id, commune_code: None };
    let reached = state.store.figure(rules::Measure::CampaignReach, until, scope).await?.value().unwrap_or(0);
    let activities_held =
        state.store.figure(rules::Measure::CampaignActivities, until, scope).await?.value().unwrap_or(0);
    let trainings: Vec<(String, String, String, i64)> = state
        .store
        .trainings(until, agency_id, 500)
        .await?
        .into_iter()
        .map(|t| {
            (
                t.title,
                c.tk("training_topic", &t.topic),
                format!("{} – {}", crate::page::display(&t.starts_on), crate::page::display(&t.ends_on)),
                t.participants,
            )
        })
        .collect();
    let trained = trainings.iter().map(|t| t.3).sum();
    let plan_activities = state
        .store
        .plan_activities(&plan.id)
        .await?
        .into_iter()
        .map(|a| {
            (
                a.title,
                agency_name(&a.responsible_agency_id),
                a.due_on.as_deref().map(crate::page::display).unwrap_or_default(),
                a.done_on.as_deref().map(crate::page::display).unwrap_or_default(),
            )
        })
        .collect();
    Ok(Report {
        issuer,
        number: number.trim().to_owned(),
        place_date: place_date(c.lang, &place, today),
        title: format!("{} {}", c.t("report.title_of"), plan.name),
        period_label: label(c, period),
        indicators,
        victims,
        victim_charts: charts,
        activities_held,
        reached,
        reach: vec![
            (c.t("prevention.by_group").to_owned(), by_group),
            (c.t("prevention.by_commune").to_owned(), by_commune),
            (c.t("prevention.by_channel").to_owned(), by_channel),
        ],
        empty: !any_figure && victims == 0 && activities_held == 0 && trained == 0,
        trainings,
        trained,
        plan_activities,
    })
}

/// A sheet name as spreadsheets accept it: at most 31 characters, without `[]:*?/\`.
fn sheet_name(s: &str) -> String {
    s.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect()
}

/// The report as a workbook: one sheet per section, the header block on the first. Every text cell is
/// neutralised against formula injection; numbers are written as numbers.
pub fn workbook(c: &Ctx, r: &Report) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let text = |s: &str| neutralise(s);
    {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(c.t("report.sheet_indicators")))?;
        sheet.write_string_with_format(0, 0, text(&r.issuer), &bold)?;
        sheet.write_string(1, 0, text(&format!("{} {}", c.t("report.number"), r.number)))?;
        sheet.write_string(2, 0, text(&r.place_date))?;
        sheet.write_string_with_format(3, 0, text(&r.title), &bold)?;
        sheet.write_string(4, 0, text(&r.period_label))?;
        if r.empty {
            sheet.write_string(5, 0, text(c.t("report.empty")))?;
        }
        let headers = [
            c.t("plan.indicator"),
            c.t("plan.target"),
            c.t("plan.value"),
            c.t("plan.status"),
            c.t("plan.definition"),
            c.t("report.numerator"),
            c.t("report.denominator"),
        ];
        for (col, h) in headers.iter().enumerate() {
            sheet.write_string_with_format(6, col as u16, text(h), &bold)?;
        }
        // Targets and values are numbers a spreadsheet can sum and compare: a share as a fraction shown as a
        // percentage, a count as itself; a figure not yet known is said in words.
        let share = Format::new().set_num_format("0.0%");
        let figure = |sheet: &mut rust_xlsxwriter::Worksheet,
                      row: u32,
                      col: u16,
                      unit: Unit,
                      n: Option<u64>,
                      none: &str| {
            match (unit, n) {
                (Unit::Percent, Some(n)) => {
                    sheet.write_number_with_format(row, col, n as f64 / 1000.0, &share).map(|_| ())
                }
                (_, Some(n)) => sheet.write_number(row, col, n as f64).map(|_| ()),
                (_, None) => sheet.write_string(row, col, text(none)).map(|_| ()),
            }
        };
        for (row, i) in r.indicators.iter().enumerate() {
            let row = 7 + row as u32;
            let f = i.figures;
            sheet.write_string(row, 0, text(&i.name))?;
            figure(sheet, row, 1, i.unit, f.target, "")?;
            figure(sheet, row, 2, i.unit, f.value, c.t("plan.no_data"))?;
            sheet.write_string(row, 3, text(&i.status))?;
            sheet.write_string(row, 4, text(&i.definition))?;
            figure(sheet, row, 5, Unit::Count, f.numerator, "")?;
            figure(sheet, row, 6, Unit::Count, f.denominator, "")?;
        }
        sheet.set_column_width(0, 48)?;
        sheet.set_column_width(4, 60)?;
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(c.t("report.sheet_victims")))?;
        sheet.write_string_with_format(0, 0, text(c.t("plan.victims_received")), &bold)?;
        sheet.write_number(0, 1, r.victims as f64)?;
        let mut row = 2;
        for ch in &r.victim_charts {
            sheet.write_string_with_format(row, 0, text(&ch.title), &bold)?;
            row += 1;
            for (k, n) in &ch.rows {
                sheet.write_string(row, 0, text(k))?;
                sheet.write_number(row, 1, n.parse::<f64>().unwrap_or(0.0))?;
                row += 1;
            }
            row += 1;
        }
        sheet.set_column_width(0, 40)?;
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(c.t("report.sheet_prevention")))?;
        sheet.write_string_with_format(0, 0, text(c.t("report.activities_held")), &bold)?;
        sheet.write_number(0, 1, r.activities_held as f64)?;
        sheet.write_string_with_format(1, 0, text(c.t("report.people_reached")), &bold)?;
        sheet.write_number(1, 1, r.reached as f64)?;
        let mut row = 3;
        for (title, rows) in &r.reach {
            sheet.write_string_with_format(row, 0, text(title), &bold)?;
            row += 1;
            for (k, n) in rows {
                sheet.write_string(row, 0, text(k))?;
                sheet.write_number(row, 1, *n as f64)?;
                row += 1;
            }
            row += 1;
        }
        sheet.set_column_width(0, 40)?;
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(c.t("report.sheet_training")))?;
        let headers =
            [c.t("training.course"), c.t("training.topic"), c.t("training.days"), c.t("training.participants")];
        for (col, h) in headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, text(h), &bold)?;
        }
        for (i, (course, topic, days, n)) in r.trainings.iter().enumerate() {
            let row = 1 + i as u32;
            sheet.write_string(row, 0, text(course))?;
            sheet.write_string(row, 1, text(topic))?;
            sheet.write_string(row, 2, text(days))?;
            sheet.write_number(row, 3, *n as f64)?;
        }
        sheet.set_column_width(0, 40)?;
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(c.t("report.sheet_activities")))?;
        let headers = [c.t("plan.activity_title"), c.t("plan.responsible"), c.t("plan.due"), c.t("plan.done")];
        for (col, h) in headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, text(h), &bold)?;
        }
        for (i, (a, who, due, done)) in r.plan_activities.iter().enumerate() {
            let row = 1 + i as u32;
            for (col, v) in [a, who, due, done].iter().enumerate() {
                sheet.write_string(row, col as u16, text(v))?;
            }
        }
        sheet.set_column_width(0, 48)?;
    }
    book.save_to_buffer()
}
