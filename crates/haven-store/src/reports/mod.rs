//! Reports: denunciations, crime reports and recommendations for prosecution. The reporter's identity, the
//! summary and every free-text reason are sealed; the clock's events are kept, and the clock they add up to
//! (last day, suspension, extensions) is stored beside the report so work lists are plain index scans.
//! The clock itself is computed by `haven_domain::reports::clock`; this module stores what it decided.

use haven_domain::cases::PersonRole;
use haven_domain::person::case_code;
use haven_domain::reports::clock::{Clock, ClockEvent, Phase};
use haven_domain::reports::intake::{Channel, Classification, Decision, DecisionKind, Kind};
use haven_domain::time::Millis;
use serde::Serialize;
use time::Date;

use crate::crypto::Keyring;
use crate::db::RowExt;
use crate::{new_id, Command, Entry, Store};

pub const KIND: &str = "report";
const TABLE: &str = "reports";

/// A date as stored: YYYY-MM-DD.
mod links;
pub use links::*;

pub fn day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn parse_day(s: &str) -> Option<Date> {
    haven_domain::format::parse_date(s)
}

fn code<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

pub struct NewReport<'a> {
    pub kind: Kind,
    pub channel: Channel,
    pub received_at: Millis,
    pub received_on: Date,
    pub assigned_to: Option<&'a str>,
    /// `None` for an anonymous report.
    pub reporter: Option<(&'a str, &'a str)>,
    pub summary: &'a str,
    pub commune_code: Option<&'a str>,
}

/// Record a report received by the actor's agency, with the clock it starts.
pub async fn create(
    cmd: &mut Command,
    keys: &Keyring,
    owner_agency_id: &str,
    r: &NewReport<'_>,
    clock: &Clock,
) -> anyhow::Result<String> {
    let id = new_id();
    let seal = |col: &str, v: &str| keys.seal(TABLE, col, &id, v);
    sqlx::query(
        "INSERT INTO reports (id, owner_agency_id, case_code, kind, channel, received_at, received_on, received_by, \
         assigned_to, reporter_anonymous, reporter_name, reporter_contact, summary, commune_code, last_day, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
    )
    .bind(&id)
    .bind(owner_agency_id)
    .bind(case_code("TG", &id))
    .bind(code(&r.kind))
    .bind(code(&r.channel))
    .bind(r.received_at)
    .bind(day(r.received_on))
    .bind(&cmd.actor.user_id)
    .bind(r.assigned_to)
    .bind(i64::from(r.reporter.is_none()))
    .bind(r.reporter.map(|(name, _)| seal("reporter_name", name)))
    .bind(r.reporter.map(|(_, contact)| seal("reporter_contact", contact)).filter(|_| r.reporter.is_some_and(|(_, c)| !c.is_empty())))
    .bind(seal("summary", r.summary))
    .bind(r.commune_code)
    .bind(clock.last_day().map(day))
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("report.create", KIND, &id).fields(&[
        "kind",
        "channel",
        "received_at",
        "reporter",
        "summary",
        "commune_code",
    ]))
    .await?;
    Ok(id)
}

/// Record a classification the domain accepted, made on `on` (the day the officer gives; indicator 1 counts
/// it from that day).
pub async fn classify(
    cmd: &mut Command,
    keys: &Keyring,
    id: &str,
    c: &Classification,
    reason: &str,
    on: Date,
) -> anyhow::Result<()> {
    let (kind, offence, forwarded) = match c {
        Classification::Offence { code } => ("offence", Some(code.as_str()), None),
        Classification::NotRelated { forwarded_to } => ("not_related", None, Some(forwarded_to.as_str())),
    };
    sqlx::query(
        "UPDATE reports SET classification = $1, offence_code = $2, forwarded_to = $3, classification_reason = $4, \
         classified_at = $5, classified_by = $6, updated_at = $5, classified_on = $8 WHERE id = $7",
    )
    .bind(kind)
    .bind(offence)
    .bind(forwarded)
    .bind(keys.seal(TABLE, "classification_reason", id, reason))
    .bind(cmd.at)
    .bind(&cmd.actor.user_id)
    .bind(id)
    .bind(day(on))
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("report.classify", KIND, id).fields(&[
        "classification",
        "classified_on",
        "offence_code",
        "forwarded_to",
        "reason",
    ]))
    .await
}

/// Record a clock event the domain accepted, and the clock it led to.
pub async fn record_event(
    cmd: &mut Command,
    keys: &Keyring,
    report_id: &str,
    event: &ClockEvent,
    ground: Option<&str>,
    reason: Option<&str>,
    after: &Clock,
) -> anyhow::Result<()> {
    let id = new_id();
    let months = match event {
        ClockEvent::ProcuracyGranted { months, .. } => Some(i64::from(*months)),
        _ => None,
    };
    sqlx::query(
        "INSERT INTO report_events (id, report_id, kind, on_date, months, ground, reason, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(report_id)
    .bind(event.code())
    .bind(day(event.date()))
    .bind(months)
    .bind(ground)
    .bind(reason.filter(|r| !r.is_empty()).map(|r| keys.seal("report_events", "reason", &id, r)))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    let suspended_since = match after.phase {
        Phase::Suspended { since } => Some(day(since)),
        Phase::Running { .. } => None,
    };
    sqlx::query(
        "UPDATE reports SET last_day = $1, suspended_since = $2, complex = $3, procuracy_asked = $4, \
         procuracy_pending = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(after.last_day().map(day))
    .bind(suspended_since)
    .bind(i64::from(after.complex))
    .bind(i64::from(after.procuracy_asked))
    .bind(i64::from(after.procuracy_pending))
    .bind(cmd.at)
    .bind(report_id)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new(&format!("report.{}", event.code()), KIND, report_id).fields(&["clock", "reason"])).await
}

/// Record the settling decision.
pub async fn decide(cmd: &mut Command, keys: &Keyring, id: &str, d: &Decision, on_time: bool) -> anyhow::Result<()> {
    let (kind, reason, transfer) = match &d.kind {
        DecisionKind::Initiate => ("initiate", None, None),
        DecisionKind::NotInitiate { reason } => ("not_initiate", Some(reason.as_str()), None),
        DecisionKind::Transfer { to } => ("transfer", None, Some(to.as_str())),
    };
    sqlx::query(
        "UPDATE reports SET decision_kind = $1, decision_number = $2, decision_on = $3, decision_by = $4, \
         decision_reason = $5, transfer_to = $6, reporter_notified_on = $7, decision_on_time = $8, updated_at = $9 \
         WHERE id = $10",
    )
    .bind(kind)
    .bind(d.number.trim())
    .bind(day(d.decided_on))
    .bind(&cmd.actor.user_id)
    .bind(reason.map(|r| keys.seal(TABLE, "decision_reason", id, r)))
    .bind(transfer)
    .bind(d.reporter_notified_on.map(day))
    .bind(i64::from(on_time))
    .bind(cmd.at)
    .bind(id)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("report.decide", KIND, id).fields(&[
        "decision_kind",
        "decision_number",
        "decision_on",
        "reason",
    ]))
    .await
}

/// A report without its sealed fields.
#[derive(Clone, Debug, Serialize)]
pub struct ReportRow {
    pub id: String,
    pub owner_agency_id: String,
    pub case_code: String,
    pub kind: String,
    pub channel: String,
    pub received_at: Millis,
    pub received_on: String,
    pub received_by: String,
    pub assigned_to: Option<String>,
    pub anonymous: bool,
    pub commune_code: Option<String>,
    pub classification: Option<String>,
    pub offence_code: Option<String>,
    pub forwarded_to: Option<String>,
    pub last_day: Option<String>,
    pub suspended_since: Option<String>,
    pub complex: bool,
    pub procuracy_asked: bool,
    pub procuracy_pending: bool,
    pub decision_kind: Option<String>,
    pub decision_number: Option<String>,
    pub decision_on: Option<String>,
    pub transfer_to: Option<String>,
    pub reporter_notified_on: Option<String>,
    pub decision_on_time: Option<bool>,
    /// The procuracy the report was notified to, and when.
    pub procuracy_agency_id: Option<String>,
    pub sent_to_procuracy_on: Option<String>,
    /// The day it was classified, as the officer gave it.
    pub classified_on: Option<String>,
}

impl ReportRow {
    /// The agencies the procedure sent this report to.
    pub fn sent_to(&self) -> Vec<&str> {
        self.procuracy_agency_id.as_deref().into_iter().collect()
    }
}

const ROW_COLS: &str = "id, owner_agency_id, case_code, kind, channel, received_at, received_on, received_by, assigned_to, \
     reporter_anonymous, commune_code, classification, offence_code, forwarded_to, last_day, suspended_since, complex, \
     procuracy_asked, procuracy_pending, decision_kind, decision_number, decision_on, transfer_to, reporter_notified_on, \
     decision_on_time, procuracy_agency_id, sent_to_procuracy_on, classified_on";

fn report_row(r: crate::db::Row) -> anyhow::Result<ReportRow> {
    Ok(ReportRow {
        id: r.try_get(0)?,
        owner_agency_id: r.try_get(1)?,
        case_code: r.try_get(2)?,
        kind: r.try_get(3)?,
        channel: r.try_get(4)?,
        received_at: r.try_get(5)?,
        received_on: r.try_get(6)?,
        received_by: r.try_get(7)?,
        assigned_to: r.try_get(8)?,
        anonymous: r.try_get::<i64, _>(9)? != 0,
        commune_code: r.try_get(10)?,
        classification: r.try_get(11)?,
        offence_code: r.try_get(12)?,
        forwarded_to: r.try_get(13)?,
        last_day: r.try_get(14)?,
        suspended_since: r.try_get(15)?,
        complex: r.try_get::<i64, _>(16)? != 0,
        procuracy_asked: r.try_get::<i64, _>(17)? != 0,
        procuracy_pending: r.try_get::<i64, _>(18)? != 0,
        decision_kind: r.try_get(19)?,
        decision_number: r.try_get(20)?,
        decision_on: r.try_get(21)?,
        transfer_to: r.try_get(22)?,
        reporter_notified_on: r.try_get(23)?,
        decision_on_time: r.try_get::<Option<i64>, _>(24)?.map(|v| v != 0),
        procuracy_agency_id: r.try_get(25)?,
        sent_to_procuracy_on: r.try_get(26)?,
        classified_on: r.try_get(27)?,
    })
}

/// A report_events row: kind, date, months, ground, recorded at.
type StoredEvent = (String, String, Option<i64>, Option<String>, i64);

/// A stored clock event, in the domain's terms.
#[derive(Clone, Debug)]
pub struct EventRow {
    pub event: ClockEvent,
    pub ground: Option<String>,
    pub recorded_at: Millis,
}

/// Which open reports a work list holds.
#[derive(Clone, Copy, Debug)]
pub enum WorkList {
    /// Last day between today and `until`, both included.
    DueBy {
        today: Date,
        until: Date,
    },
    Overdue {
        today: Date,
    },
    AwaitingProcuracy,
}

async fn fetch_report<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    e: E,
    id: &str,
) -> anyhow::Result<Option<ReportRow>> {
    let row = sqlx::query(&format!("SELECT {ROW_COLS} FROM reports WHERE id = $1")).bind(id).fetch_optional(e).await?;
    row.map(report_row).transpose()
}

async fn fetch_events<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    e: E,
    report_id: &str,
) -> anyhow::Result<Vec<EventRow>> {
    let rows: Vec<StoredEvent> = sqlx::query_as(
        "SELECT kind, on_date, months, ground, recorded_at FROM report_events WHERE report_id = $1 ORDER BY on_date, recorded_at",
    )
    .bind(report_id)
    .fetch_all(e)
    .await?;
    rows.into_iter()
        .map(|(kind, on, months, ground, recorded_at)| {
            let on = parse_day(&on).ok_or_else(|| anyhow::anyhow!("report event with a bad date"))?;
            let event = match kind.as_str() {
                "complex_extension" => ClockEvent::ComplexExtension { on },
                "procuracy_requested" => ClockEvent::ProcuracyRequested { on },
                "procuracy_granted" => ClockEvent::ProcuracyGranted { on, months: months.unwrap_or(0) as u32 },
                "procuracy_refused" => ClockEvent::ProcuracyRefused { on },
                "suspended" => ClockEvent::Suspended { on },
                "resumed" => ClockEvent::Resumed { on },
                other => anyhow::bail!("unknown report event {other}"),
            };
            Ok(EventRow { event, ground, recorded_at })
        })
        .collect()
}

/// A report as the running command sees it. Commands are serialised (each locks the audit head), so a check
/// made on this row holds until the command commits.
pub async fn current(cmd: &mut Command, id: &str) -> anyhow::Result<Option<ReportRow>> {
    fetch_report(&mut *cmd.tx, id).await
}

/// A report's clock events as the running command sees them.
pub async fn current_events(cmd: &mut Command, id: &str) -> anyhow::Result<Vec<EventRow>> {
    fetch_events(&mut *cmd.tx, id).await
}

impl Store {
    pub async fn report(&self, id: &str) -> anyhow::Result<Option<ReportRow>> {
        fetch_report(self.db.pool(), id).await
    }

    /// The clock events of a report, oldest first.
    pub async fn report_events(&self, report_id: &str) -> anyhow::Result<Vec<EventRow>> {
        fetch_events(self.db.pool(), report_id).await
    }

    /// Open (undecided) reports of an agency on a work list, soonest last day first; optionally only those
    /// assigned to one officer.
    pub async fn report_work_list(
        &self,
        agency_id: &str,
        list: WorkList,
        assigned_to: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<ReportRow>> {
        let mut binds = vec![agency_id.to_owned()];
        let mut sql = format!("SELECT {ROW_COLS} FROM reports WHERE owner_agency_id = $1 AND decision_kind IS NULL");
        let mut cond = |sql: &mut String, clause: &str, value: String| {
            binds.push(value);
            sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
        };
        match list {
            WorkList::DueBy { today, until } => {
                cond(&mut sql, " AND last_day >= ?", day(today));
                cond(&mut sql, " AND last_day <= ?", day(until));
            }
            WorkList::Overdue { today } => cond(&mut sql, " AND last_day < ?", day(today)),
            WorkList::AwaitingProcuracy => sql.push_str(" AND procuracy_pending = 1"),
        }
        if let Some(user) = assigned_to {
            cond(&mut sql, " AND assigned_to = ?", user.to_owned());
        }
        // The due and overdue lists hold only reports with a last day, and their order is the index's
        // (owner, decision, last day); a report waiting for the procuracy may have none (suspended).
        let day_key = if matches!(list, WorkList::AwaitingProcuracy) { "COALESCE(last_day, '')" } else { "last_day" };
        if let Some(after) = after {
            cond(&mut sql, &after_by(day_key, "?"), after.to_owned());
        }
        sql.push_str(&format!(" ORDER BY {day_key}, id LIMIT {}", limit.clamp(1, 1001)));
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(self.db.pool()).await?;
        rows.into_iter().map(report_row).collect()
    }

    /// Reports of the same agency that may tell of the same event, not yet linked to it: from the same commune
    /// and received within `days` of this one, or naming one of the same persons. Two index look-ups, merged.
    pub async fn possible_duplicates(&self, r: &ReportRow, days: i64) -> anyhow::Result<Vec<ReportRow>> {
        const NOT_LINKED: &str = "AND id <> $1 AND id NOT IN (SELECT same_as FROM report_links WHERE report_id = $1) \
             AND id NOT IN (SELECT report_id FROM report_links WHERE same_as = $1)";
        let mut found = Vec::new();
        if let (Some(commune), Some(received)) = (r.commune_code.as_deref(), parse_day(&r.received_on)) {
            let rows = sqlx::query(&format!(
                "SELECT {ROW_COLS} FROM reports WHERE commune_code = $2 AND received_on >= $3 AND received_on <= $4 \
                 AND owner_agency_id = $5 {NOT_LINKED} ORDER BY received_on LIMIT 20"
            ))
            .bind(&r.id)
            .bind(commune)
            .bind(day(received - time::Duration::days(days)))
            .bind(day(received + time::Duration::days(days)))
            .bind(&r.owner_agency_id)
            .fetch_all(self.db.pool())
            .await?;
            for row in rows {
                found.push(report_row(row)?);
            }
        }
        let rows = sqlx::query(&format!(
            "SELECT {ROW_COLS} FROM reports WHERE id IN (SELECT b.report_id FROM report_persons a \
             JOIN report_persons b ON b.person_id = a.person_id WHERE a.report_id = $1) AND owner_agency_id = $2 \
             {NOT_LINKED} ORDER BY received_on LIMIT 20"
        ))
        .bind(&r.id)
        .bind(&r.owner_agency_id)
        .fetch_all(self.db.pool())
        .await?;
        for row in rows {
            let row = report_row(row)?;
            if !found.iter().any(|f| f.id == row.id) {
                found.push(row);
            }
        }
        found.sort_by(|a, b| a.received_on.cmp(&b.received_on));
        found.truncate(20);
        Ok(found)
    }

    /// Reports linked to this one as the same event, either way round: (id, case code).
    pub async fn same_event_reports(&self, report_id: &str) -> anyhow::Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT r.id, r.case_code FROM reports r WHERE r.id IN (SELECT same_as FROM report_links WHERE report_id = $1 \
             UNION SELECT report_id FROM report_links WHERE same_as = $1) ORDER BY r.received_on",
        )
        .bind(report_id)
        .fetch_all(self.db.pool())
        .await?)
    }

    /// A user's open, running reports whose last day is at most `until`: (overdue before `today`, in all).
    pub async fn assigned_deadlines(&self, user_id: &str, today: Date, until: Date) -> anyhow::Result<(i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN last_day < $2 THEN 1 ELSE 0 END), 0) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
             FROM reports WHERE assigned_to = $1 AND decision_kind IS NULL AND last_day <= $3 AND suspended_since IS NULL",
        )
        .bind(user_id)
        .bind(day(today))
        .bind(day(until))
        .fetch_one(self.db.pool())
        .await?)
    }

    /// Reports notified to a procuracy, soonest last day first; with `pending`, only those whose extension
    /// request awaits its answer.
    pub async fn reports_sent_to(
        &self,
        agency_id: &str,
        pending: bool,
        after: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<ReportRow>> {
        let pending = if pending { " AND procuracy_pending = 1 AND decision_kind IS NULL" } else { "" };
        let after_clause = if after.is_some() { after_by("COALESCE(last_day, '')", "$3") } else { String::new() };
        let sql = format!(
            "SELECT {ROW_COLS} FROM reports WHERE procuracy_agency_id = $1{pending}{after_clause} \
             ORDER BY COALESCE(last_day, ''), id LIMIT $2"
        );
        let mut q = sqlx::query(&sql).bind(agency_id).bind(limit);
        if let Some(after) = after {
            q = q.bind(after);
        }
        let rows = q.fetch_all(self.db.pool()).await?;
        rows.into_iter().map(report_row).collect()
    }

    /// The persons a report names: (person id, person case code, role), in the order they were added.
    pub async fn report_persons(&self, report_id: &str) -> anyhow::Result<Vec<(String, String, String)>> {
        Ok(sqlx::query_as(
            "SELECT p.id, p.case_code, rp.role FROM report_persons rp JOIN persons p ON p.id = rp.person_id \
             WHERE rp.report_id = $1 ORDER BY rp.added_at, p.case_code",
        )
        .bind(report_id)
        .fetch_all(self.db.pool())
        .await?)
    }

    /// Reports of an agency, newest first.
    pub async fn reports_of_agency(
        &self,
        agency_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<ReportRow>> {
        // Ids are UUIDv7: newest first is id order, and the id is the cursor.
        let after_clause = if after.is_some() { " AND id < $3" } else { "" };
        let sql = format!(
            "SELECT {ROW_COLS} FROM reports WHERE owner_agency_id = $1{after_clause} ORDER BY id DESC LIMIT $2"
        );
        let mut q = sqlx::query(&sql).bind(agency_id).bind(limit);
        if let Some(after) = after {
            q = q.bind(after);
        }
        let rows = q.fetch_all(self.db.pool()).await?;
        rows.into_iter().map(report_row).collect()
    }
}

/// The keyset condition of a list ordered by (`key`, id) that continues after the report `marker` names (a
/// placeholder such as `$3`).
fn after_by(key: &str, marker: &str) -> String {
    format!(
        " AND ({key} > (SELECT {key} FROM reports WHERE id = {marker}) \
         OR ({key} = (SELECT {key} FROM reports WHERE id = {marker}) AND id > {marker}))"
    )
}
