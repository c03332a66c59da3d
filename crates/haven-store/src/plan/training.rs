//! Training courses for officials and their participants (user accounts, or names kept sealed) with
//! certificates.

use haven_domain::reports::indicators::Period;
use serde::Serialize;
use time::Date;

use crate::crypto::Keyring;
use crate::reports::day;
use crate::{new_id, Command, Entry, Store};

use super::*;

/// A training course as entered.
pub struct NewTraining<'a> {
    pub title: &'a str,
    pub topic: &'a str,
    pub starts_on: Date,
    pub ends_on: Date,
    pub trainers: &'a str,
}

pub async fn add_training(cmd: &mut Command, agency_id: &str, t: &NewTraining<'_>) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO trainings (id, owner_agency_id, title, topic, starts_on, ends_on, trainers, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(agency_id)
    .bind(t.title)
    .bind(t.topic)
    .bind(day(t.starts_on))
    .bind(day(t.ends_on))
    .bind(t.trainers)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("training.create", TRAINING, &id).fields(&["title", "topic", "days", "trainers"])).await?;
    Ok(id)
}

/// Who took part: a user account, or a name (sealed) with an agency.
pub enum Participant<'a> {
    User { user_id: &'a str, agency_id: &'a str },
    Named { full_name: &'a str, agency_id: &'a str },
}

/// Add a participant; `false` when that user is already on the course.
pub async fn add_participant(
    cmd: &mut Command,
    keys: &Keyring,
    training_id: &str,
    p: &Participant<'_>,
    certificate: Option<&str>,
) -> anyhow::Result<bool> {
    let id = new_id();
    let (user, name, agency) = match p {
        Participant::User { user_id, agency_id } => {
            let on: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM training_participants WHERE training_id = $1 AND user_id = $2",
            )
            .bind(training_id)
            .bind(*user_id)
            .fetch_one(&mut *cmd.tx)
            .await?;
            if on > 0 {
                return Ok(false);
            }
            (Some(*user_id), None, *agency_id)
        }
        Participant::Named { full_name, agency_id } => {
            (None, Some(keys.seal("training_participants", "full_name", &id, full_name)), *agency_id)
        }
    };
    sqlx::query(
        "INSERT INTO training_participants (id, training_id, user_id, full_name, agency_id, certificate, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(training_id)
    .bind(user)
    .bind(name)
    .bind(agency)
    .bind(certificate)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("training.add_participant", TRAINING, training_id).fields(&["participant", "certificate"]))
        .await?;
    Ok(true)
}

#[derive(Clone, Debug, Serialize)]
pub struct TrainingRow {
    pub id: String,
    pub owner_agency_id: String,
    pub title: String,
    pub topic: String,
    pub starts_on: String,
    pub ends_on: String,
    pub trainers: String,
    pub participants: i64,
}

/// A participant, opened for the course's agency: the user's display name, or the sealed name.
#[derive(Clone, Debug, Serialize)]
pub struct ParticipantRow {
    pub id: String,
    pub name: String,
    pub user_id: Option<String>,
    pub agency_id: String,
    pub certificate: Option<String>,
}

impl Store {
    /// Training courses that ended in a period (newest first), with their number of participants; for an
    /// agency, the courses it organised or sent officials to, with its own participants only.
    pub async fn trainings(
        &self,
        period: Period,
        agency_id: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<TrainingRow>> {
        type Row = (String, String, String, String, String, String, String, i64);
        let (counted, kept) = match agency_id {
            Some(_) => (
                " AND p.agency_id = $4",
                " AND (t.owner_agency_id = $4 OR EXISTS (SELECT 1 FROM training_participants q \
                 WHERE q.training_id = t.id AND q.agency_id = $4))",
            ),
            None => ("", ""),
        };
        let sql = format!(
            "SELECT t.id, t.owner_agency_id, t.title, t.topic, t.starts_on, t.ends_on, t.trainers, \
             (SELECT COUNT(*) FROM training_participants p WHERE p.training_id = t.id{counted}) \
             FROM trainings t WHERE t.ends_on BETWEEN $1 AND $2{kept} ORDER BY t.ends_on DESC, t.id DESC LIMIT $3"
        );
        let mut query = sqlx::query_as(&sql).bind(day(period.from)).bind(day(period.to)).bind(limit);
        if let Some(agency) = agency_id {
            query = query.bind(agency);
        }
        let rows: Vec<Row> = query.fetch_all(self.db.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|(id, owner_agency_id, title, topic, starts_on, ends_on, trainers, participants)| TrainingRow {
                id,
                owner_agency_id,
                title,
                topic,
                starts_on,
                ends_on,
                trainers,
                participants,
            })
            .collect())
    }

    pub async fn training(&self, id: &str) -> anyhow::Result<Option<TrainingRow>> {
        type Row = (String, String, String, String, String, String, String, i64);
        let r: Option<Row> = sqlx::query_as(
            "SELECT t.id, t.owner_agency_id, t.title, t.topic, t.starts_on, t.ends_on, t.trainers, \
             (SELECT COUNT(*) FROM training_participants p WHERE p.training_id = t.id) FROM trainings t WHERE t.id = $1",
        )
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(r.map(|(id, owner_agency_id, title, topic, starts_on, ends_on, trainers, participants)| TrainingRow {
            id,
            owner_agency_id,
            title,
            topic,
            starts_on,
            ends_on,
            trainers,
            participants,
        }))
    }

    /// A course's participants, names opened for the course's agency (the caller checks it may see them).
    pub async fn participants(&self, training_id: &str) -> anyhow::Result<Vec<ParticipantRow>> {
        type Row = (String, Option<String>, Option<Vec<u8>>, String, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT p.id, p.user_id, p.full_name, p.agency_id, p.certificate, u.display_name \
             FROM training_participants p LEFT JOIN users u ON u.id = p.user_id WHERE p.training_id = $1 \
             ORDER BY p.id",
        )
        .bind(training_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter()
            .map(|(id, user_id, sealed, agency_id, certificate, display)| {
                let name = match sealed {
                    Some(s) => self.keys.open("training_participants", "full_name", &id, &s)?,
                    None => display.unwrap_or_default(),
                };
                Ok(ParticipantRow { id, name, user_id, agency_id, certificate })
            })
            .collect()
    }
}
