//! Data keys: created on first start, unwrapped at open, and rotated by `haven keys rotate`, which makes a new
//! master key and a new field key, re-wraps every data key under the new master, and re-encrypts every sealed
//! column with the new field key, all in one transaction. Old field keys stay (re-wrapped) so that nothing
//! sealed with them can become unreadable. The new key file is staged beside the old one before the commit and
//! moved into place after it; the old file is kept as `haven.key.retired-<time>` for older backups. Opening
//! tries the staged file when the current one no longer fits, so a crash at any point leaves a key file that
//! opens the data.

use std::path::Path;

use anyhow::Context;

use crate::audit::{Actor, Entry};
use crate::crypto::{self, random_bytes, KeyFile, KeyId, Keyring, WrappedKey};
use crate::db::{Db, RowExt};
use crate::Store;

/// Every sealed column: table, id column, columns. Rotation walks this list, so a new sealed column must be
/// added here (a test checks that no blob column is missing).
pub const SEALED_COLUMNS: &[(&str, &str, &[&str])] = &[
    (
        "persons",
        "id",
        &[
            "full_name",
            "birth_date",
            "sex",
            "id_number",
            "phone",
            "address",
            "other_names",
            "ethnicity",
            "nationality",
            "passport",
            "language",
        ],
    ),
    ("person_relatives", "id", &["full_name", "phone", "address"]),
    ("person_attachments", "id", &["file_name", "content"]),
    ("person_merges", "id", &["reason"]),
    ("users", "id", &["totp_secret"]),
    ("break_glass", "id", &["reason"]),
    ("reports", "id", &["reporter_name", "reporter_contact", "summary", "classification_reason", "decision_reason"]),
    ("report_events", "id", &["reason"]),
    ("criminal_cases", "id", &["verdict", "appeal_note"]),
    ("case_persons", "id", &["sentence"]),
    ("victim_cases", "id", &["reasons", "wishes", "returned_comment"]),
    ("victim_handovers", "id", &["reason"]),
    ("trafficking_events", "id", &["description"]),
    ("protection_measures", "id", &["relative"]),
    ("reintegration_goals", "id", &["goal"]),
    ("followups", "id", &["note"]),
    ("victim_steps", "id", &["note"]),
    ("supports", "id", &["note"]),
    ("consents", "id", &["representative"]),
    ("referrals", "id", &["purpose", "outcome"]),
    ("absentees", "id", &["destination", "contact", "reported_by", "household", "note"]),
    ("absentee_reviews", "id", &["note"]),
    ("handover_batches", "id", &["note"]),
    ("returnees", "id", &["answers", "reason"]),
    ("imports", "id", &["file_name"]),
    ("import_uploads", "id", &["file_name", "content"]),
    ("training_participants", "id", &["full_name"]),
    ("cooperation_requests", "id", &["summary", "answer"]),
];

fn new_key_id() -> KeyId {
    *uuid::Uuid::now_v7().as_bytes()
}

pub(crate) async fn ensure_data_keys(db: &Db, master: &[u8; 32]) -> anyhow::Result<()> {
    let mut tx = db.begin_write().await?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM data_keys").fetch_one(&mut *tx).await?;
    if n == 0 {
        for purpose in ["field", "blind"] {
            let id = new_key_id();
            let key: [u8; 32] = random_bytes();
            insert_key(&mut tx, &id, purpose, &crypto::wrap_key(master, &id, purpose, &key), crate::db::now_millis())
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn insert_key(tx: &mut crate::db::Tx, id: &KeyId, purpose: &str, wrapped: &[u8], at: i64) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO data_keys (id, purpose, wrapped, created_at) VALUES ($1, $2, $3, $4)")
        .bind(uuid::Uuid::from_bytes(*id).to_string())
        .bind(purpose)
        .bind(wrapped.to_vec())
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn wrapped_keys<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(ex: E) -> anyhow::Result<Vec<WrappedKey>> {
    let rows = sqlx::query("SELECT id, purpose, wrapped FROM data_keys").fetch_all(ex).await?;
    rows.into_iter()
        .map(|r| {
            let id: String = r.try_get(0)?;
            Ok(WrappedKey {
                id: *uuid::Uuid::parse_str(&id)?.as_bytes(),
                purpose: r.try_get(1)?,
                wrapped: r.try_get(2)?,
            })
        })
        .collect()
}

/// Whether a master key opens the data keys of a database.
pub async fn keyring_opens(db: &Db, master: &[u8; 32]) -> bool {
    load_keyring(db, master).await.is_ok()
}

pub(crate) async fn load_keyring(db: &Db, master: &[u8; 32]) -> anyhow::Result<Keyring> {
    Keyring::unwrap(master, &wrapped_keys(db.pool()).await?)
}

/// Load the key file of a data folder, finishing an interrupted rotation if there was one: when a staged
/// next key file exists, the one that opens the data keys wins and becomes `haven.key`.
pub async fn load_key_file(data_dir: &Path, url: &str) -> anyhow::Result<KeyFile> {
    let current = crypto::key_path(data_dir);
    let next = crypto::next_key_path(data_dir);
    if !next.exists() {
        return KeyFile::load(&current);
    }
    let db = Db::connect(url).await?;
    let keys = wrapped_keys(db.pool()).await?;
    db.close().await;
    // The staged file is read as a file: keys in the environment must not decide which file is kept.
    let staged = KeyFile::read_file(&next)?;
    if Keyring::unwrap(&staged.master, &keys).is_ok() {
        retire(&current)?;
        std::fs::rename(&next, &current)?;
        crypto::sync_dir(&current)?;
        return Ok(staged);
    }
    // The rotation never committed: keep the unused file aside rather than destroy a key.
    let aside = data_dir.join(format!("haven.key.next-unused-{}", crate::db::now_millis()));
    std::fs::rename(&next, &aside)?;
    KeyFile::load(&current)
}

/// Keep the current key file as `haven.key.retired-<time>`: backups made before a rotation need it.
fn retire(current: &Path) -> anyhow::Result<Option<std::path::PathBuf>> {
    if !current.exists() {
        return Ok(None);
    }
    let retired = current.with_file_name(format!("haven.key.retired-{}", crate::db::now_millis()));
    std::fs::copy(current, &retired)?;
    Ok(Some(retired))
}

/// What a rotation did.
pub struct Rotation {
    pub values_reencrypted: u64,
    /// Where the previous key file was kept.
    pub retired: Option<std::path::PathBuf>,
}

/// Rotate the master key and the field key. The server must not be running on this database (the command
/// line checks the data folder's lock).
pub async fn rotate(store: &Store, old: &KeyFile, data_dir: &Path) -> anyhow::Result<Rotation> {
    anyhow::ensure!(
        !KeyFile::from_environment(),
        "the keys come from HAVEN_MASTER_KEY and HAVEN_AUDIT_KEY: rotate them where they are kept, not here"
    );
    let new_file = KeyFile { master: random_bytes(), audit_signing: old.audit_signing };
    let new_field_id = new_key_id();
    let new_field_key: [u8; 32] = random_bytes();
    let next_ring = store.keys.with_new_field_key(new_field_id, &new_field_key);

    let mut cmd = store.command(&Actor::system("keys rotate")).await?;
    let old_keys = wrapped_keys(&mut *cmd.tx).await?;
    // Re-wrap every data key: the blind-index key keeps the indexes valid, old field keys keep readable
    // anything sealed with them that this transaction cannot see.
    for w in &old_keys {
        {
            let raw = crypto::unwrap_key(&old.master, w)?;
            sqlx::query("UPDATE data_keys SET wrapped = $1 WHERE id = $2")
                .bind(crypto::wrap_key(&new_file.master, &w.id, &w.purpose, &raw))
                .bind(uuid::Uuid::from_bytes(w.id).to_string())
                .execute(&mut *cmd.tx)
                .await?;
        }
    }
    insert_key(
        &mut cmd.tx,
        &new_field_id,
        "field",
        &crypto::wrap_key(&new_file.master, &new_field_id, "field", &new_field_key),
        cmd.at,
    )
    .await?;
    crate::staging::discard_all(&mut cmd.tx).await?;
    let mut count = 0u64;
    for (table, id_col, cols) in SEALED_COLUMNS {
        // Row by row: attachments are megabytes each, and a table of them must not be held in memory at once.
        let ids: Vec<String> =
            sqlx::query_scalar(&format!("SELECT {id_col} FROM {table}")).fetch_all(&mut *cmd.tx).await?;
        let sql = format!("SELECT {} FROM {table} WHERE {id_col} = $1", cols.join(", "));
        for id in ids {
            let row = sqlx::query(&sql).bind(&id).fetch_one(&mut *cmd.tx).await?;
            for (i, col) in cols.iter().enumerate() {
                let sealed: Option<Vec<u8>> = row.try_get(i)?;
                let Some(sealed) = sealed else { continue };
                let plain = store.keys.open_bytes(table, col, &id, &sealed)?;
                let resealed = next_ring.seal_bytes(table, col, &id, &plain);
                sqlx::query(&format!("UPDATE {table} SET {col} = $1 WHERE {id_col} = $2"))
                    .bind(resealed)
                    .bind(&id)
                    .execute(&mut *cmd.tx)
                    .await?;
                count += 1;
            }
        }
    }
    cmd.audit(Entry::new("keys.rotate", "data_keys", "all")).await?;
    new_file.write(&crypto::next_key_path(data_dir)).context("staging the new key file")?;
    cmd.commit().await?;
    let retired = retire(&crypto::key_path(data_dir))?;
    std::fs::rename(crypto::next_key_path(data_dir), crypto::key_path(data_dir))?;
    crypto::sync_dir(&crypto::key_path(data_dir))?;
    Ok(Rotation { values_reencrypted: count, retired })
}
