//! Criminal cases: opened from reports settled by a decision to initiate, and their stages. The stage rules
//! are `haven_domain::cases`; this module stores each stage's date in its own column, so the indicators can
//! count them with plain SQL.

mod indicators;

pub use indicators::*;

use haven_domain::cases::{Custody, PersonRole, Progress, Stage};
use haven_domain::time::Millis;
use serde::Serialize;
use time::Date;

use crate::crypto::Keyring;
use crate::db::RowExt;
use crate::reports::{day, parse_day};
use crate::{new_id, Command, Entry, Store};

pub const KIND: &str = "criminal_case";
const TABLE: &str = "criminal_cases";

fn column(stage: Stage) -> &'static str {
    match stage {
        Stage::OffendersIdentified => "offenders_identified_on",
        Stage::ToProcuracy => "to_procuracy_on",
        Stage::Indicted => "indicted_on",
        Stage::ToCourt => "to_court_on",
        Stage::Tried => "tried_on",
        Stage::Appealed => "appealed_on",
        Stage::InvestigationSuspended => "investigation_suspended_on",
        Stage::Closed => "closed_on",
    }
}

pub struct NewCase<'a> {
    pub case_number: &'a str,
    pub offence_code: &'a str,
    pub opened_on: Date,
    pub report_ids: &'a [String],
}

/// Open a case from its reports. A report leads to one case only: if one of them already did (a second
/// submission of the same form), that case is returned as `Err` and nothing is written.
pub async fn open(cmd: &mut Command, owner_agency_id: &str, c: &NewCase<'_>) -> anyhow::Result<Result<String, String>> {
    for r in c.report_ids {
        let existing: Option<String> = sqlx::query_scalar("SELECT case_id FROM case_reports WHERE report_id = $1")
            .bind(r)
            .fetch_optional(&mut *cmd.tx)
            .await?;
        if let Some(existing) = existing {
            return Ok(Err(existing));
        }
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO criminal_cases (id, owner_agency_id, case_number, offence_code, opened_on, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(owner_agency_id)
    .bind(c.case_number)
    .bind(c.offence_code)
    .bind(day(c.opened_on))
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    for r in c.report_ids {
        sqlx::query("INSERT INTO case_reports (case_id, report_id) VALUES ($1, $2)")
            .bind(&id)
            .bind(r)
            .execute(&mut *cmd.tx)
            .await?;
    }
    // The case takes the place of its first report, and every person its reports name.
    if let Some(first) = c.report_ids.first() {
        sqlx::query(
            "UPDATE criminal_cases SET commune_code = (SELECT commune_code FROM reports WHERE id = $1) WHERE id = $2",
        )
        .bind(first)
        .bind(&id)
        .execute(&mut *cmd.tx)
        .await?;
    }
    let mut named: Vec<(String, String)> = Vec::new();
    for r in c.report_ids {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT person_id, role FROM report_persons WHERE report_id = $1 ORDER BY added_at")
                .bind(r)
                .fetch_all(&mut *cmd.tx)
                .await?;
        for p in rows {
            if !named.contains(&p) {
                named.push(p);
            }
        }
    }
    for (person_id, role) in &named {
        insert_person(cmd, &id, person_id, role).await?;
    }
    cmd.audit(Entry::new("case.open", KIND, &id).fields(&[
        "case_number",
        "offence_code",
        "opened_on",
        "reports",
        "commune_code",
        "persons",
    ]))
    .await?;
    Ok(Ok(id))
}

async fn insert_person(cmd: &mut Command, case_id: &str, person_id: &str, role: &str) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO case_persons (id, case_id, person_id, role, added_by, added_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(new_id())
    .bind(case_id)
    .bind(person_id)
    .bind(role)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    Ok(())
}

/// What a stage records besides its date.
#[derive(Clone, Copy, Debug, Default)]
pub struct StageDetail<'a> {
    /// The procuracy or court the file goes to (`Stage::sends_to`).
    pub sent_to: Option<&'a str>,
    /// The reason for closing (kept plain: it is one of the legal grounds in a few words), the verdict or
    /// what was appealed (both sealed: they name people).
    pub text: Option<&'a str>,
}

/// Record a stage the domain allowed; false (and nothing written) if it was reached meanwhile.
pub async fn record_stage(
    cmd: &mut Command,
    keys: &Keyring,
    id: &str,
    stage: Stage,
    on: Date,
    detail: StageDetail<'_>,
) -> anyhow::Result<bool> {
    // Only if not reached meanwhile: two submissions of the same stage record it once.
    let sql =
        format!("UPDATE criminal_cases SET {0} = $1, updated_at = $2 WHERE id = $3 AND {0} IS NULL", column(stage));
    let n = sqlx::query(&sql).bind(day(on)).bind(cmd.at).bind(id).execute(&mut *cmd.tx).await?.rows_affected();
    if n == 0 {
        return Ok(false);
    }
    let mut fields = vec![column(stage)];
    let plain = |col| move |v: &str| (col, Some(v.to_owned()), None);
    let sealed = |col| move |v: &str| (col, None, Some(keys.seal(TABLE, col, id, v)));
    let extra = match stage {
        Stage::ToProcuracy => detail.sent_to.map(plain("procuracy_agency_id")),
        Stage::ToCourt => detail.sent_to.map(plain("court_agency_id")),
        Stage::Closed => detail.text.map(plain("closed_reason")),
        Stage::Tried => detail.text.map(sealed("verdict")),
        Stage::Appealed => detail.text.map(sealed("appeal_note")),
        _ => None,
    };
    if let Some((col, text, bytes)) = extra {
        let sql = format!("UPDATE criminal_cases SET {col} = $1 WHERE id = $2");
        let q = match bytes {
            Some(b) => sqlx::query(&sql).bind(b),
            None => sqlx::query(&sql).bind(text),
        };
        q.bind(id).execute(&mut *cmd.tx).await?;
        fields.push(col);
    }
    cmd.audit(Entry::new(&format!("case.{}", stage.code()), KIND, id).fields(&fields)).await?;
    Ok(true)
}

/// Name a person record as a victim or suspect of the case; false if already named in that role.
pub async fn add_person(cmd: &mut Command, case_id: &str, person_id: &str, role: PersonRole) -> anyhow::Result<bool> {
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM case_persons WHERE case_id = $1 AND person_id = $2 AND role = $3")
            .bind(case_id)
            .bind(person_id)
            .bind(role.code())
            .fetch_optional(&mut *cmd.tx)
            .await?;
    if exists.is_some() {
        return Ok(false);
    }
    insert_person(cmd, case_id, person_id, role.code()).await?;
    cmd.audit(Entry::new("case.add_person", KIND, case_id).fields(&["person_id", "role"])).await?;
    Ok(true)
}

/// Record a suspect's custody dates and, after the trial, the sentence (sealed); `None` leaves it as it was.
pub async fn set_custody(
    cmd: &mut Command,
    keys: &Keyring,
    case_person_id: &str,
    case_id: &str,
    custody: &Custody,
    sentence: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE case_persons SET arrested_on = $1, detained_on = $2, released_on = $3, updated_at = $4 \
         WHERE id = $5 AND case_id = $6",
    )
    .bind(custody.arrested.map(day))
    .bind(custody.detained.map(day))
    .bind(custody.released.map(day))
    .bind(cmd.at)
    .bind(case_person_id)
    .bind(case_id)
    .execute(&mut *cmd.tx)
    .await?;
    let mut fields = vec!["arrested_on", "detained_on", "released_on"];
    if let Some(s) = sentence {
        sqlx::query("UPDATE case_persons SET sentence = $1 WHERE id = $2")
            .bind(keys.seal("case_persons", "sentence", case_person_id, s))
            .bind(case_person_id)
            .execute(&mut *cmd.tx)
            .await?;
        fields.push("sentence");
    }
    cmd.audit(Entry::new("case.custody", KIND, case_id).fields(&fields)).await
}

/// The case persons (their `case_persons` ids) named in a role, inside a command.
pub async fn persons_in_role(cmd: &mut Command, case_id: &str, role: PersonRole) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM case_persons WHERE case_id = $1 AND role = $2 ORDER BY added_at, id")
        .bind(case_id)
        .bind(role.code())
        .fetch_all(&mut *cmd.tx)
        .await?)
}

/// A victim or suspect of a case, without the sealed sentence.
#[derive(Clone, Debug, Serialize)]
pub struct CasePerson {
    pub id: String,
    pub person_id: String,
    pub person_code: String,
    pub role: String,
    pub arrested_on: Option<String>,
    pub detained_on: Option<String>,
    pub released_on: Option<String>,
    pub has_sentence: bool,
}

impl CasePerson {
    pub fn custody(&self) -> Custody {
        let d = |s: &Option<String>| s.as_deref().and_then(parse_day);
        Custody { arrested: d(&self.arrested_on), detained: d(&self.detained_on), released: d(&self.released_on) }
    }
}

/// The judgment, opened for a viewer entitled to it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Judgment {
    pub verdict: Option<String>,
    pub appeal_note: Option<String>,
    /// (person case code, sentence)
    pub sentences: Vec<(String, String)>,
}

/// Open a case's verdict, appeal and sentences, recording the view and its purpose.
pub async fn view_judgment(cmd: &mut Command, keys: &Keyring, id: &str, purpose: &str) -> anyhow::Result<Judgment> {
    let (verdict, appeal): (Option<Vec<u8>>, Option<Vec<u8>>) =
        sqlx::query_as("SELECT verdict, appeal_note FROM criminal_cases WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *cmd.tx)
            .await?;
    let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT cp.id, p.case_code, cp.sentence FROM case_persons cp JOIN persons p ON p.id = cp.person_id \
         WHERE cp.case_id = $1 AND cp.sentence IS NOT NULL ORDER BY p.case_code",
    )
    .bind(id)
    .fetch_all(&mut *cmd.tx)
    .await?;
    let mut sentences = Vec::with_capacity(rows.len());
    for (cp, code, sealed) in rows {
        sentences.push((code, keys.open("case_persons", "sentence", &cp, &sealed)?));
    }
    let judgment = Judgment {
        verdict: keys.open_opt(TABLE, "verdict", id, verdict.as_deref())?,
        appeal_note: keys.open_opt(TABLE, "appeal_note", id, appeal.as_deref())?,
        sentences,
    };
    cmd.audit(Entry::new("case.view_judgment", KIND, id).purpose(purpose).fields(&[
        "verdict",
        "appeal_note",
        "sentences",
    ]))
    .await?;
    Ok(judgment)
}

#[derive(Clone, Debug, Serialize)]
pub struct CaseRow {
    pub id: String,
    pub owner_agency_id: String,
    pub case_number: String,
    pub offence_code: String,
    pub opened_on: String,
    /// Each stage reached, in the order of `Stage::ALL`.
    pub stages: Vec<(String, String)>,
    pub closed_reason: Option<String>,
    pub created_at: Millis,
    pub commune_code: Option<String>,
    pub procuracy_agency_id: Option<String>,
    pub court_agency_id: Option<String>,
    pub has_verdict: bool,
}

impl CaseRow {
    /// The agencies the procedure sent this case's file to.
    pub fn sent_to(&self) -> Vec<&str> {
        self.procuracy_agency_id.as_deref().into_iter().chain(self.court_agency_id.as_deref()).collect()
    }

    pub fn progress(&self) -> Progress {
        Progress {
            opened: parse_day(&self.opened_on),
            reached: self.stages.iter().filter_map(|(s, d)| Some((Stage::from_code(s)?, parse_day(d)?))).collect(),
        }
    }
}

const CASE_COLS: &str =
    "id, owner_agency_id, case_number, offence_code, opened_on, offenders_identified_on, to_procuracy_on, \
     indicted_on, to_court_on, tried_on, appealed_on, investigation_suspended_on, closed_on, closed_reason, created_at, commune_code, \
     procuracy_agency_id, court_agency_id, \
     CAST(CASE WHEN verdict IS NULL AND appeal_note IS NULL THEN 0 ELSE 1 END AS BIGINT)";

fn case_row(r: crate::db::Row) -> anyhow::Result<CaseRow> {
    let mut stages = Vec::new();
    for (i, stage) in Stage::ALL.iter().enumerate() {
        if let Some(d) = r.try_get::<Option<String>, _>(5 + i)? {
            stages.push((stage.code().to_owned(), d));
        }
    }
    Ok(CaseRow {
        id: r.try_get(0)?,
        owner_agency_id: r.try_get(1)?,
        case_number: r.try_get(2)?,
        offence_code: r.try_get(3)?,
        opened_on: r.try_get(4)?,
        stages,
        closed_reason: r.try_get(13)?,
        created_at: r.try_get(14)?,
        commune_code: r.try_get(15)?,
        procuracy_agency_id: r.try_get(16)?,
        court_agency_id: r.try_get(17)?,
        has_verdict: r.try_get::<i64, _>(18)? != 0,
    })
}

impl Store {
    pub async fn case(&self, id: &str) -> anyhow::Result<Option<CaseRow>> {
        let row = sqlx::query(&format!("SELECT {CASE_COLS} FROM criminal_cases WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.map(case_row).transpose()
    }

    pub async fn cases_of_agency(&self, agency_id: &str, limit: i64) -> anyhow::Result<Vec<CaseRow>> {
        let rows = sqlx::query(&format!("SELECT {CASE_COLS} FROM criminal_cases WHERE owner_agency_id = $1 ORDER BY opened_on DESC, id DESC LIMIT $2"))
            .bind(agency_id)
            .bind(limit)
            .fetch_all(self.db.pool())
            .await?;
        rows.into_iter().map(case_row).collect()
    }

    /// A page of the cases an agency opened (`sent` false) or whose file was sent to it as procuracy or court
    /// (`sent` true), newest first, after the case `after` names (its opened day and id).
    pub async fn case_page(
        &self,
        agency_id: &str,
        sent: bool,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> anyhow::Result<Vec<CaseRow>> {
        let whose = if sent { "(procuracy_agency_id = $1 OR court_agency_id = $1)" } else { "owner_agency_id = $1" };
        let rows = match after {
            Some((day, id)) => {
                sqlx::query(&format!(
                    "SELECT {CASE_COLS} FROM criminal_cases WHERE {whose} \
                     AND (opened_on < $2 OR (opened_on = $2 AND id < $3)) ORDER BY opened_on DESC, id DESC LIMIT $4"
                ))
                .bind(agency_id)
                .bind(day)
                .bind(id)
                .bind(limit)
                .fetch_all(self.db.pool())
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {CASE_COLS} FROM criminal_cases WHERE {whose} ORDER BY opened_on DESC, id DESC LIMIT $2"
                ))
                .bind(agency_id)
                .bind(limit)
                .fetch_all(self.db.pool())
                .await?
            }
        };
        rows.into_iter().map(case_row).collect()
    }

    /// How many cases an agency opened, and how many were sent to it: `(own, sent)`.
    pub async fn case_counts(&self, agency_id: &str) -> anyhow::Result<(i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM criminal_cases WHERE owner_agency_id = $1), \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM criminal_cases WHERE procuracy_agency_id = $1 OR court_agency_id = $1)",
        )
        .bind(agency_id)
        .fetch_one(self.db.pool())
        .await?)
    }

    /// The cases carrying this number, of any agency (the caller checks who may open them).
    pub async fn cases_numbered(&self, number: &str) -> anyhow::Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT id FROM criminal_cases WHERE case_number = $1 ORDER BY id LIMIT 20")
            .bind(number)
            .fetch_all(self.db.pool())
            .await?)
    }

    /// Cases whose file was sent to this procuracy or court, newest first.
    pub async fn cases_sent_to(&self, agency_id: &str, limit: i64) -> anyhow::Result<Vec<CaseRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLS} FROM criminal_cases WHERE procuracy_agency_id = $1 \
             UNION SELECT {CASE_COLS} FROM criminal_cases WHERE court_agency_id = $1 ORDER BY 5 DESC, 1 DESC LIMIT $2"
        ))
        .bind(agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(case_row).collect()
    }

    /// The victims and suspects of a case, victims first.
    pub async fn case_persons(&self, case_id: &str) -> anyhow::Result<Vec<CasePerson>> {
        let rows = sqlx::query(
            "SELECT cp.id, cp.person_id, p.case_code, cp.role, cp.arrested_on, cp.detained_on, cp.released_on, \
             CAST(CASE WHEN cp.sentence IS NULL THEN 0 ELSE 1 END AS BIGINT) FROM case_persons cp JOIN persons p ON p.id = cp.person_id \
             WHERE cp.case_id = $1 ORDER BY CASE cp.role WHEN 'victim' THEN 0 ELSE 1 END, cp.added_at, p.case_code",
        )
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(CasePerson {
                    id: r.try_get(0)?,
                    person_id: r.try_get(1)?,
                    person_code: r.try_get(2)?,
                    role: r.try_get(3)?,
                    arrested_on: r.try_get(4)?,
                    detained_on: r.try_get(5)?,
                    released_on: r.try_get(6)?,
                    has_sentence: r.try_get::<i64, _>(7)? != 0,
                })
            })
            .collect()
    }

    /// The case a report led to, if any.
    pub async fn case_of_report(&self, report_id: &str) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT case_id FROM case_reports WHERE report_id = $1")
            .bind(report_id)
            .fetch_optional(self.db.pool())
            .await?)
    }

    /// The reports a case was opened from.
    pub async fn reports_of_case(&self, case_id: &str) -> anyhow::Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT report_id FROM case_reports WHERE case_id = $1 ORDER BY report_id")
            .bind(case_id)
            .fetch_all(self.db.pool())
            .await?)
    }
}
