//! Measurements behind `haven bench`: the raw insert-and-commit peer for the write benchmark. It runs
//! through the same seam, driver and durability settings as Haven's commands, so the ratio between the two
//! is the cost of encryption, blind indexes and the audit chain.

use crate::db::Db;

/// Insert `n` rows of about the size of a person record, one transaction each; returns rows per second.
pub async fn raw_insert_commit(db: &Db, n: u64) -> anyhow::Result<f64> {
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS bench_raw (id TEXT PRIMARY KEY, owner TEXT NOT NULL, payload BLOB NOT NULL, at BIGINT NOT NULL)")
        .execute(db.pool())
        .await?;
    let payload = vec![7u8; 400];
    let started = std::time::Instant::now();
    for i in 0..n {
        let mut tx = db.begin_write().await?;
        sqlx::query("INSERT INTO bench_raw (id, owner, payload, at) VALUES ($1, $2, $3, $4)")
            .bind(crate::new_id())
            .bind("bench")
            .bind(payload.clone())
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}
