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

/// How the database would run `sql`, one line per step, for a guard against full scans. SQLite: the
/// details of `EXPLAIN QUERY PLAN` (unbound parameters are NULL, which does not change the plan).
/// PostgreSQL: the generic plan (the one a prepared statement settles on, for any parameter values) with
/// sequential scans priced out, so a `Seq Scan` it still shows is one that no index could replace. `Ok(None)`
/// when PostgreSQL cannot prepare the statement without its parameters' types (a `$1 IS NULL` alone).
pub async fn plan(db: &Db, sql: &str) -> anyhow::Result<Option<Vec<String>>> {
    use sqlx::Row;
    match db.backend() {
        crate::db::Backend::Sqlite => {
            let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}")).fetch_all(db.pool()).await?;
            Ok(Some(rows.iter().map(|r| r.try_get::<String, _>("detail")).collect::<Result<_, _>>()?))
        }
        crate::db::Backend::Postgres => {
            let mut conn = db.pool().acquire().await?;
            sqlx::raw_sql("SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan")
                .execute(&mut *conn)
                .await?;
            if sqlx::raw_sql(&format!("PREPARE haven_plan AS {sql}")).execute(&mut *conn).await.is_err() {
                return Ok(None);
            }
            let params = parameter_count(sql);
            let nulls = vec!["NULL"; params].join(", ");
            let explain = if params == 0 {
                "EXPLAIN EXECUTE haven_plan".to_owned()
            } else {
                format!("EXPLAIN EXECUTE haven_plan({nulls})")
            };
            let rows = sqlx::query(&explain).fetch_all(&mut *conn).await?;
            let lines = rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<Result<_, _>>()?;
            sqlx::raw_sql("DEALLOCATE haven_plan; RESET enable_seqscan; RESET plan_cache_mode")
                .execute(&mut *conn)
                .await?;
            Ok(Some(lines))
        }
    }
}

/// The highest `$n` a statement names.
fn parameter_count(sql: &str) -> usize {
    let mut most = 0;
    let mut rest = sql;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        most = most.max(digits.parse().unwrap_or(0));
    }
    most
}
