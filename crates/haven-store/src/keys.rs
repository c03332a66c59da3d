//! Data keys: created on first start, unwrapped at open, and rotated by `haven keys rotate`, which makes a new
//! master key and a new field key, re-wraps the blind-index key, re-encrypts every sealed column, and removes
//! the old field keys, all in one transaction. The new key file is staged beside the old one before the
//! commit and moved into place after it, and opening tries the staged file when the old one no longer fits,
//! so a crash at any point leaves a key file that opens the data.

use std::path::Path;

use anyhow::Context;

use crate::audit::{Actor, Entry};
use crate::crypto::{self, random_bytes, KeyFile, KeyId, Keyring, WrappedKey};
use crate::db::{Db, RowExt};
use crate::Store;

/// Every sealed column: table, id column, columns. Rotation walks this list, so a new sealed column must be
/// added here (a test checks that no blob column is missing).
pub const SEALED_COLUMNS: &[(&str, &str, &[&str])] = &[
    ("persons", "id", &["full_name", "birth_date", "sex", "id_number", "phone", "address"]),
    ("users", "id", &["totp_secret"]),
    ("break_glass", "id", &["reason"]),
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
    let staged = KeyFile::load(&next)?;
    let winner = if Keyring::unwrap(&staged.master, &keys).is_ok() {
        std::fs::rename(&next, &current)?;
        staged
    } else {
        std::fs::remove_file(&next)?;
        KeyFile::load(&current)?
    };
    db.close().await;
    Ok(winner)
}

/// What a rotation did.
pub struct Rotation {
    pub values_reencrypted: u64,
}

/// Rotate the master key and the field key. The server must not be running on this database.
pub async fn rotate(store: &Store, old: &KeyFile, data_dir: &Path) -> anyhow::Result<Rotation> {
    let new_file = KeyFile { master: random_bytes(), audit_signing: old.audit_signing };
    let new_field_id = new_key_id();
    let new_field_key: [u8; 32] = random_bytes();
    let next_ring = store.keys.with_new_field_key(new_field_id, &new_field_key);

    let mut cmd = store.command(&Actor::system("keys rotate")).await?;
    let old_keys = wrapped_keys(&mut *cmd.tx).await?;
    // Re-wrap the blind-index key (indexes stay valid); old field keys go once their values are re-sealed.
    for w in &old_keys {
        if w.purpose == "blind" {
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
    let mut count = 0u64;
    for (table, id_col, cols) in SEALED_COLUMNS {
        let sql = format!("SELECT {id_col}, {} FROM {table}", cols.join(", "));
        let rows = sqlx::query(&sql).fetch_all(&mut *cmd.tx).await?;
        for row in rows {
            let id: String = row.try_get(0)?;
            for (i, col) in cols.iter().enumerate() {
                let sealed: Option<Vec<u8>> = row.try_get(i + 1)?;
                let Some(sealed) = sealed else { continue };
                let plain = store.keys.open(table, col, &id, &sealed)?;
                let resealed = next_ring.seal(table, col, &id, &plain);
                sqlx::query(&format!("UPDATE {table} SET {col} = $1 WHERE {id_col} = $2"))
                    .bind(resealed)
                    .bind(&id)
                    .execute(&mut *cmd.tx)
                    .await?;
                count += 1;
            }
        }
    }
    for w in old_keys.iter().filter(|w| w.purpose == "field") {
        sqlx::query("DELETE FROM data_keys WHERE id = $1")
            .bind(uuid::Uuid::from_bytes(w.id).to_string())
            .execute(&mut *cmd.tx)
            .await?;
    }
    cmd.audit(Entry::new("keys.rotate", "data_keys", "all")).await?;
    new_file.write(&crypto::next_key_path(data_dir)).context("staging the new key file")?;
    cmd.commit().await?;
    std::fs::rename(crypto::next_key_path(data_dir), crypto::key_path(data_dir))?;
    Ok(Rotation { values_reencrypted: count })
}
