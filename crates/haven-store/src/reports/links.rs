//! What ties a report to others: the same event reported twice, the procuracy it is sent to, the people it
//! names, and its sealed details opened for a purpose.

use super::*;

/// Record that two reports tell of the same event; both stay, with the link and its audit entry.
pub async fn link_same_event(cmd: &mut Command, report_id: &str, same_as: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO report_links (report_id, same_as, linked_by, linked_at) VALUES ($1, $2, $3, $4)")
        .bind(report_id)
        .bind(same_as)
        .bind(&cmd.actor.user_id)
        .bind(cmd.at)
        .execute(&mut *cmd.tx)
        .await?;
    cmd.audit(Entry::new("report.link_same_event", KIND, report_id).fields(&["same_as"])).await
}

/// Notify the report to a procuracy, which from then on sees it and answers its extension request. False (and
/// nothing written) if it was notified meanwhile: a report goes to one procuracy.
pub async fn send_to_procuracy(
    cmd: &mut Command,
    id: &str,
    procuracy_agency_id: &str,
    on: Date,
) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE reports SET procuracy_agency_id = $1, sent_to_procuracy_on = $2, updated_at = $3 WHERE id = $4 \
         AND procuracy_agency_id IS NULL",
    )
    .bind(procuracy_agency_id)
    .bind(day(on))
    .bind(cmd.at)
    .bind(id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    cmd.audit(
        Entry::new("report.send_to_procuracy", KIND, id).fields(&["procuracy_agency_id", "sent_to_procuracy_on"]),
    )
    .await?;
    Ok(true)
}

/// Name a person record as a possible victim or suspect of the report. Adding the same person in the same
/// role twice changes nothing and returns false.
pub async fn add_person(cmd: &mut Command, report_id: &str, person_id: &str, role: PersonRole) -> anyhow::Result<bool> {
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM report_persons WHERE report_id = $1 AND person_id = $2 AND role = $3")
            .bind(report_id)
            .bind(person_id)
            .bind(role.code())
            .fetch_optional(&mut *cmd.tx)
            .await?;
    if exists.is_some() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO report_persons (report_id, person_id, role, added_by, added_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(report_id)
    .bind(person_id)
    .bind(role.code())
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("report.add_person", KIND, report_id).fields(&["person_id", "role"])).await?;
    Ok(true)
}

/// Open a report's sealed fields for a viewer entitled to them, recording the view.
pub async fn view_details(
    cmd: &mut Command,
    keys: &Keyring,
    id: &str,
    purpose: &str,
) -> anyhow::Result<Option<ReportDetails>> {
    let row = sqlx::query("SELECT reporter_name, reporter_contact, summary, classification_reason, decision_reason FROM reports WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *cmd.tx)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let open = |i: usize, col: &str| -> anyhow::Result<Option<String>> {
        keys.open_opt(TABLE, col, id, r.try_get::<Option<Vec<u8>>, _>(i)?.as_deref())
    };
    let details = ReportDetails {
        reporter_name: open(0, "reporter_name")?,
        reporter_contact: open(1, "reporter_contact")?,
        summary: open(2, "summary")?.unwrap_or_default(),
        classification_reason: open(3, "classification_reason")?,
        decision_reason: open(4, "decision_reason")?,
    };
    cmd.audit(Entry::new("report.view_details", KIND, id).purpose(purpose).fields(&["reporter", "summary", "reasons"]))
        .await?;
    Ok(Some(details))
}

#[derive(Clone, Debug, Serialize)]
pub struct ReportDetails {
    pub reporter_name: Option<String>,
    pub reporter_contact: Option<String>,
    pub summary: String,
    pub classification_reason: Option<String>,
    pub decision_reason: Option<String>,
}
