//! Raw SQL for tests that must reach past the commands: tampering with the audit log, reading columns as
//! an attacker with the database file would. Not used by Haven itself.

use crate::db::Db;

pub async fn execute(db: &Db, sql: &str) -> anyhow::Result<u64> {
    Ok(sqlx::raw_sql(sql).execute(db.pool()).await?.rows_affected())
}

pub async fn scalar_i64(db: &Db, sql: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(db.pool()).await?)
}

/// Every text and blob value of a table's rows, as bytes, for searching for leaked plaintext.
pub async fn column_bytes(db: &Db, table: &str, column: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    let rows: Vec<Option<Vec<u8>>> =
        sqlx::query_scalar(&format!("SELECT {column} FROM {table}")).fetch_all(db.pool()).await?;
    Ok(rows.into_iter().flatten().collect())
}

/// Every value of a text column.
pub async fn column_text(db: &Db, table: &str, column: &str) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(&format!("SELECT {column} FROM {table} ORDER BY {column}")).fetch_all(db.pool()).await?)
}

/// Every (table, column) declared as a blob, from SQLite's catalogue.
pub async fn sqlite_blob_columns(db: &Db) -> anyhow::Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND p.type = 'BLOB' ORDER BY m.name, p.name",
    )
    .fetch_all(db.pool())
    .await?)
}
