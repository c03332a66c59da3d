//! What is kept beside a person's identity: relatives and their contacts, and sealed photos and documents,
//! each opened only inside a command that records the view.

use haven_domain::time::Millis;
use serde::Serialize;

use crate::crypto::Keyring;
use crate::db::RowExt;
use crate::{new_id, Command, Entry, Store};

use super::*;

/// A relative or other contact of a person, as entered.
pub struct NewRelative<'a> {
    pub relation: &'a str,
    pub full_name: &'a str,
    pub phone: Option<&'a str>,
    pub address: Option<&'a str>,
}

pub async fn add_relative(
    cmd: &mut Command,
    keys: &Keyring,
    person_id: &str,
    r: &NewRelative<'_>,
) -> anyhow::Result<String> {
    let id = new_id();
    const T: &str = "person_relatives";
    sqlx::query(
        "INSERT INTO person_relatives (id, person_id, relation, full_name, phone, address, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(person_id)
    .bind(r.relation)
    .bind(keys.seal(T, "full_name", &id, r.full_name))
    .bind(keys.seal_opt(T, "phone", &id, r.phone))
    .bind(keys.seal_opt(T, "address", &id, r.address))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("person.add_relative", KIND, person_id).fields(&[
        "relation",
        "full_name",
        "phone",
        "address",
    ]))
    .await?;
    Ok(id)
}

/// An opened relative.
#[derive(Clone, Debug, Serialize)]
pub struct OpenedRelative {
    pub relation: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// Open a person's relatives; call inside the command that records the identity view.
pub async fn open_relatives(cmd: &mut Command, keys: &Keyring, person_id: &str) -> anyhow::Result<Vec<OpenedRelative>> {
    const T: &str = "person_relatives";
    let rows = sqlx::query(
        "SELECT id, relation, full_name, phone, address FROM person_relatives WHERE person_id = $1 ORDER BY created_at, id",
    )
    .bind(person_id)
    .fetch_all(&mut *cmd.tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.try_get(0)?;
        out.push(OpenedRelative {
            relation: r.try_get(1)?,
            full_name: keys.open(T, "full_name", &id, &r.try_get::<Vec<u8>, _>(2)?)?,
            phone: keys.open_opt(T, "phone", &id, r.try_get::<Option<Vec<u8>>, _>(3)?.as_deref())?,
            address: keys.open_opt(T, "address", &id, r.try_get::<Option<Vec<u8>>, _>(4)?.as_deref())?,
        });
    }
    Ok(out)
}

/// A photo or document to attach, already checked (type from its bytes, size within bounds).
pub struct NewAttachment<'a> {
    pub kind: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

pub async fn add_attachment(
    cmd: &mut Command,
    keys: &Keyring,
    person_id: &str,
    a: &NewAttachment<'_>,
) -> anyhow::Result<String> {
    let id = new_id();
    const T: &str = "person_attachments";
    sqlx::query(
        "INSERT INTO person_attachments (id, person_id, kind, file_name, content_type, size, content, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(person_id)
    .bind(a.kind)
    .bind(keys.seal(T, "file_name", &id, a.file_name))
    .bind(a.content_type)
    .bind(a.bytes.len() as i64)
    .bind(keys.seal_bytes(T, "content", &id, a.bytes))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("person.attach", KIND, person_id).fields(&["kind", "file"])).await?;
    Ok(id)
}

/// An attachment as listed: no name (it may name the person) and no content.
#[derive(Clone, Debug, Serialize)]
pub struct AttachmentRow {
    pub id: String,
    pub kind: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: Millis,
}

/// An opened attachment.
pub struct OpenedAttachment {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Open one attachment of a person and record the view with its purpose; `None` if it is not this person's.
pub async fn open_attachment(
    cmd: &mut Command,
    keys: &Keyring,
    person_id: &str,
    attachment_id: &str,
    purpose: &str,
) -> anyhow::Result<Option<OpenedAttachment>> {
    const T: &str = "person_attachments";
    let row =
        sqlx::query("SELECT file_name, content_type, content FROM person_attachments WHERE id = $1 AND person_id = $2")
            .bind(attachment_id)
            .bind(person_id)
            .fetch_optional(&mut *cmd.tx)
            .await?;
    let Some(r) = row else { return Ok(None) };
    let opened = OpenedAttachment {
        file_name: keys.open(T, "file_name", attachment_id, &r.try_get::<Vec<u8>, _>(0)?)?,
        content_type: r.try_get(1)?,
        bytes: keys.open_bytes(T, "content", attachment_id, &r.try_get::<Vec<u8>, _>(2)?)?,
    };
    cmd.audit(Entry::new("person.view_attachment", KIND, person_id).purpose(purpose).fields(&["file"])).await?;
    Ok(Some(opened))
}

/// Attachment names, opened inside the command that records the identity view: (attachment id, name).
pub async fn open_attachment_names(
    cmd: &mut Command,
    keys: &Keyring,
    person_id: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT id, file_name FROM person_attachments WHERE person_id = $1 ORDER BY created_at, id")
            .bind(person_id)
            .fetch_all(&mut *cmd.tx)
            .await?;
    rows.into_iter()
        .map(|(id, sealed)| Ok((id.clone(), keys.open("person_attachments", "file_name", &id, &sealed)?)))
        .collect()
}

impl Store {
    /// Attachments of a person, oldest first, without names or contents.
    pub async fn attachments(&self, person_id: &str) -> anyhow::Result<Vec<AttachmentRow>> {
        let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, kind, content_type, size, created_at FROM person_attachments WHERE person_id = $1 \
             ORDER BY created_at, id",
        )
        .bind(person_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, kind, content_type, size, created_at)| AttachmentRow {
                id,
                kind,
                content_type,
                size,
                created_at,
            })
            .collect())
    }

    /// How many relatives a person record names (the names open with the identity).
    pub async fn count_relatives(&self, person_id: &str) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM person_relatives WHERE person_id = $1")
            .bind(person_id)
            .fetch_one(self.db.pool())
            .await?)
    }
}
