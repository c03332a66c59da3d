//! Spreadsheet imports: the uploaded file kept sealed until it is committed or dropped, the column mapping
//! remembered per template (a header row's fingerprint), and each committed file remembered by its blind hash so
//! importing it again creates nothing. The rows themselves are written by the registers' own commands, in the
//! import's one transaction.

use haven_domain::time::Millis;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::crypto::{BlindKind, Keyring};
use crate::db::RowExt;
use crate::{new_id, Command, Entry, Store};

pub const KIND: &str = "import";

/// The blind hash of a file's content.
pub fn file_hash(keys: &Keyring, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    keys.blind(BlindKind::ImportFile, &hex)
}

pub struct NewUpload<'a> {
    pub kind: &'a str,
    pub target: &'a str,
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    pub file_hash: &'a str,
}

/// How long an upload waits for its commit: a file left at the preview is dropped after this, with its sealed
/// content, when anyone next uploads.
pub const UPLOAD_KEPT_MS: i64 = 7 * 24 * 3600 * 1000;

pub async fn save_upload(
    cmd: &mut Command,
    keys: &Keyring,
    agency_id: &str,
    u: &NewUpload<'_>,
) -> anyhow::Result<String> {
    let purged = sqlx::query("DELETE FROM import_uploads WHERE created_at < $1")
        .bind(cmd.at - UPLOAD_KEPT_MS)
        .execute(&mut *cmd.tx)
        .await?
        .rows_affected();
    if purged > 0 {
        cmd.audit(Entry::new("import.purge", KIND, "uploads").purpose(&format!("abandoned:{purged}"))).await?;
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO import_uploads (id, owner_agency_id, user_id, kind, target, file_name, content, file_hash, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(agency_id)
    .bind(&cmd.actor.user_id)
    .bind(u.kind)
    .bind(u.target)
    .bind(keys.seal("import_uploads", "file_name", &id, u.file_name))
    .bind(keys.seal_bytes("import_uploads", "content", &id, u.bytes))
    .bind(u.file_hash)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("import.upload", KIND, &id).fields(&["file_name", "content"])).await?;
    Ok(id)
}

/// An upload, opened.
#[derive(Clone, Debug)]
pub struct Upload {
    pub id: String,
    pub owner_agency_id: String,
    pub user_id: String,
    pub kind: String,
    pub target: String,
    pub file_name: String,
    pub content: Vec<u8>,
    pub file_hash: String,
    pub encoding: Option<String>,
    pub mapping: Option<String>,
    pub created_at: Millis,
}

/// Open an upload and record why (preview, check, commit).
pub async fn open_upload(cmd: &mut Command, keys: &Keyring, id: &str, purpose: &str) -> anyhow::Result<Option<Upload>> {
    let row = sqlx::query(
        "SELECT id, owner_agency_id, user_id, kind, target, file_name, content, file_hash, encoding, mapping, \
         created_at FROM import_uploads WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *cmd.tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let name: Vec<u8> = r.try_get(5)?;
    let content: Vec<u8> = r.try_get(6)?;
    let u = Upload {
        id: r.try_get(0)?,
        owner_agency_id: r.try_get(1)?,
        user_id: r.try_get(2)?,
        kind: r.try_get(3)?,
        target: r.try_get(4)?,
        file_name: keys.open("import_uploads", "file_name", id, &name)?,
        content: keys.open_bytes("import_uploads", "content", id, &content)?,
        file_hash: r.try_get(7)?,
        encoding: r.try_get(8)?,
        mapping: r.try_get(9)?,
        created_at: r.try_get(10)?,
    };
    cmd.audit(Entry::new("import.open", KIND, id).purpose(purpose).fields(&["content"])).await?;
    Ok(Some(u))
}

/// Remember the encoding and mapping chosen for an upload.
pub async fn set_mapping(cmd: &mut Command, id: &str, encoding: Option<&str>, mapping: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE import_uploads SET encoding = $1, mapping = $2 WHERE id = $3")
        .bind(encoding)
        .bind(mapping)
        .bind(id)
        .execute(&mut *cmd.tx)
        .await?;
    cmd.audit(Entry::new("import.mapping", KIND, id).fields(&["mapping"])).await
}

/// Remember a template's mapping for the agency's next file with the same header row. The header row is kept
/// only as a blind index: in a file without one, the first row is a person's details.
pub async fn save_template(
    cmd: &mut Command,
    keys: &Keyring,
    agency_id: &str,
    kind: &str,
    signature: &str,
    mapping: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO import_templates (owner_agency_id, kind, signature, mapping, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner_agency_id, kind, signature) \
         DO UPDATE SET mapping = excluded.mapping, updated_at = excluded.updated_at",
    )
    .bind(agency_id)
    .bind(kind)
    .bind(keys.blind(BlindKind::ImportTemplate, signature))
    .bind(mapping)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    Ok(())
}

/// Record a committed import under the upload's id, and drop the upload. `false` when the same file was
/// imported for the same target meanwhile: the caller then rolls back.
pub async fn record_import(cmd: &mut Command, keys: &Keyring, u: &Upload, rows_created: i64) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "INSERT INTO imports (id, owner_agency_id, kind, target, file_hash, file_name, rows_created, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(&u.id)
    .bind(&u.owner_agency_id)
    .bind(&u.kind)
    .bind(&u.target)
    .bind(&u.file_hash)
    .bind(keys.seal("imports", "file_name", &u.id, &u.file_name))
    .bind(rows_created)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM import_uploads WHERE id = $1").bind(&u.id).execute(&mut *cmd.tx).await?;
    cmd.audit(Entry::new("import.commit", KIND, &u.id).fields(&["rows"])).await?;
    Ok(true)
}

/// A committed import.
#[derive(Clone, Debug, Serialize)]
pub struct ImportRow {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub rows_created: i64,
    pub created_at: Millis,
}

type ImportTuple = (String, String, String, i64, i64);

impl Store {
    /// The earlier import of the same file for the same target, if any.
    pub async fn import_of_file(
        &self,
        agency_id: &str,
        kind: &str,
        target: &str,
        file_hash: &str,
    ) -> anyhow::Result<Option<ImportRow>> {
        let r: Option<ImportTuple> = sqlx::query_as(
            "SELECT id, kind, target, rows_created, created_at FROM imports WHERE owner_agency_id = $1 \
             AND kind = $2 AND target = $3 AND file_hash = $4",
        )
        .bind(agency_id)
        .bind(kind)
        .bind(target)
        .bind(file_hash)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(r.map(|(id, kind, target, rows_created, created_at)| ImportRow {
            id,
            kind,
            target,
            rows_created,
            created_at,
        }))
    }

    pub async fn import(&self, id: &str) -> anyhow::Result<Option<ImportRow>> {
        let r: Option<ImportTuple> =
            sqlx::query_as("SELECT id, kind, target, rows_created, created_at FROM imports WHERE id = $1")
                .bind(id)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(r.map(|(id, kind, target, rows_created, created_at)| ImportRow {
            id,
            kind,
            target,
            rows_created,
            created_at,
        }))
    }

    /// The agency a committed import belongs to.
    pub async fn import_owner(&self, id: &str) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT owner_agency_id FROM imports WHERE id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?)
    }

    /// Who uploaded a pending upload, and for which agency (without opening it).
    pub async fn upload_owner(&self, id: &str) -> anyhow::Result<Option<(String, String)>> {
        Ok(sqlx::query_as("SELECT owner_agency_id, user_id FROM import_uploads WHERE id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?)
    }

    pub async fn import_template(
        &self,
        agency_id: &str,
        kind: &str,
        signature: &str,
    ) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT mapping FROM import_templates WHERE owner_agency_id = $1 AND kind = $2 AND signature = $3",
        )
        .bind(agency_id)
        .bind(kind)
        .bind(self.keys.blind(BlindKind::ImportTemplate, signature))
        .fetch_optional(self.db.pool())
        .await?)
    }
}
