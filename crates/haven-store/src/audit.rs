//! The tamper-evident audit log. Each entry's hash is SHA-256 over the previous entry's hash and a canonical,
//! length-prefixed encoding of every column, so editing, deleting or reordering rows breaks the chain. The head
//! (last sequence number and hash) is signed with Ed25519 on every append, and every CHECKPOINT_EVERY entries a
//! signed checkpoint is kept, so rewriting the chain from some point on, or cutting its tail, is caught too:
//! the signing key lives in the key file, not in the database.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::db::{Db, RowExt, Tx};

pub const CHECKPOINT_EVERY: i64 = 1000;
const GENESIS: [u8; 32] = [0u8; 32];

/// Who is acting, for the audit trail.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: String,
    pub agency_id: String,
    pub request_id: String,
}

impl Actor {
    /// The command line acting on the operator's behalf.
    pub fn system(what: &str) -> Actor {
        Actor { user_id: "system".into(), agency_id: "system".into(), request_id: format!("cli:{what}") }
    }

    /// Someone not logged in (a log-in under a name no account has).
    pub fn anonymous(request_id: &str) -> Actor {
        Actor { user_id: "anonymous".into(), agency_id: "none".into(), request_id: request_id.to_owned() }
    }
}

/// One audit entry as appended: which record, what was done, why, and which fields (names only, never values).
#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub action: String,
    pub record_kind: String,
    pub record_id: String,
    pub purpose: String,
    pub fields: Vec<&'static str>,
}

impl Entry {
    pub fn new(action: &str, record_kind: &str, record_id: &str) -> Entry {
        Entry {
            action: action.into(),
            record_kind: record_kind.into(),
            record_id: record_id.into(),
            ..Default::default()
        }
    }
    pub fn purpose(mut self, purpose: &str) -> Entry {
        self.purpose = purpose.into();
        self
    }
    pub fn fields(mut self, fields: &[&'static str]) -> Entry {
        self.fields = fields.to_vec();
        self
    }
}

/// A stored audit row.
#[derive(Clone, Debug)]
pub struct Stored {
    pub seq: i64,
    pub at: i64,
    pub actor_user_id: String,
    pub actor_agency_id: String,
    pub action: String,
    pub record_kind: String,
    pub record_id: String,
    pub purpose: String,
    pub fields: String,
    pub request_id: String,
    pub hash: Vec<u8>,
}

fn put(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// The chained hash of one entry.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev: &[u8],
    seq: i64,
    at: i64,
    actor_user_id: &str,
    actor_agency_id: &str,
    action: &str,
    record_kind: &str,
    record_id: &str,
    purpose: &str,
    fields: &str,
    request_id: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    for s in [actor_user_id, actor_agency_id, action, record_kind, record_id, purpose, fields, request_id] {
        put(&mut h, s.as_bytes());
    }
    h.finalize().into()
}

fn head_message(seq: i64, hash: &[u8]) -> Vec<u8> {
    let mut m = b"haven-audit-head|".to_vec();
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

fn checkpoint_message(seq: i64, hash: &[u8]) -> Vec<u8> {
    let mut m = b"haven-audit-checkpoint|".to_vec();
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

/// The chain head as read at the start of a command, locked until it commits.
pub(crate) struct Head {
    pub seq: i64,
    pub hash: Vec<u8>,
}

pub(crate) async fn ensure_genesis(db: &Db, signer: &SigningKey) -> anyhow::Result<()> {
    let mut tx = db.begin_write().await?;
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1").fetch_optional(&mut *tx).await?;
    if exists.is_none() {
        let sig = signer.sign(&head_message(0, &GENESIS));
        sqlx::query("INSERT INTO audit_head (id, seq, hash, signature) VALUES (1, 0, $1, $2)")
            .bind(GENESIS.to_vec())
            .bind(sig.to_bytes().to_vec())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn lock_head(db: &Db, tx: &mut Tx) -> anyhow::Result<Head> {
    let row = sqlx::query(&format!("SELECT seq, hash FROM audit_head WHERE id = 1{}", db.for_update()))
        .fetch_one(&mut **tx)
        .await?;
    Ok(Head { seq: row.try_get(0)?, hash: row.try_get(1)? })
}

/// An entry chained after the head: its sequence number, its field names as stored, and its hash.
fn chain(head: &mut Head, actor: &Actor, at: i64, entry: &Entry) -> (i64, String, [u8; 32]) {
    let seq = head.seq + 1;
    let fields = entry.fields.join(",");
    let hash = entry_hash(
        &head.hash,
        seq,
        at,
        &actor.user_id,
        &actor.agency_id,
        &entry.action,
        &entry.record_kind,
        &entry.record_id,
        &entry.purpose,
        &fields,
        &actor.request_id,
    );
    head.seq = seq;
    head.hash = hash.to_vec();
    (seq, fields, hash)
}

const INSERT_ENTRY: &str = "INSERT INTO audit_log (seq, at, actor_user_id, actor_agency_id, action, record_kind, \
                            record_id, purpose, fields, request_id, hash) VALUES ";

pub(crate) async fn append(
    tx: &mut Tx,
    head: &mut Head,
    signer: &SigningKey,
    actor: &Actor,
    at: i64,
    entry: &Entry,
) -> anyhow::Result<()> {
    append_many(tx, head, signer, actor, at, std::slice::from_ref(entry)).await
}

/// Entries written by one statement: 11 values each. Measured on SQLite for an import's 24,000 entries:
/// 200 to a statement took 900 ms, 50 took 370, 20 took 350 and 5 took 530 (long statements cost more to
/// prepare than they save in round trips), so a few dozen it is.
const ENTRIES_PER_STATEMENT: usize = 32;

/// Append entries of one actor at one instant, in order, many to a statement (an import writes two for
/// each of its thousands of rows); every [`CHECKPOINT_EVERY`]th is signed as a checkpoint.
pub(crate) async fn append_many(
    tx: &mut Tx,
    head: &mut Head,
    signer: &SigningKey,
    actor: &Actor,
    at: i64,
    entries: &[Entry],
) -> anyhow::Result<()> {
    for chunk in entries.chunks(ENTRIES_PER_STATEMENT) {
        let chained: Vec<_> = chunk.iter().map(|e| chain(head, actor, at, e)).collect();
        let values = (0..chunk.len())
            .map(|i| format!("({})", (1..=11).map(|k| format!("${}", i * 11 + k)).collect::<Vec<_>>().join(", ")))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("{INSERT_ENTRY}{values}");
        let mut q = sqlx::query(&sql);
        for (entry, (seq, fields, hash)) in chunk.iter().zip(&chained) {
            q = q
                .bind(*seq)
                .bind(at)
                .bind(&actor.user_id)
                .bind(&actor.agency_id)
                .bind(&entry.action)
                .bind(&entry.record_kind)
                .bind(&entry.record_id)
                .bind(&entry.purpose)
                .bind(fields)
                .bind(&actor.request_id)
                .bind(hash.to_vec());
        }
        q.execute(&mut **tx).await?;
        for (seq, _, hash) in chained.iter().filter(|(seq, _, _)| seq % CHECKPOINT_EVERY == 0) {
            let sig = signer.sign(&checkpoint_message(*seq, hash));
            sqlx::query("INSERT INTO audit_checkpoints (seq, hash, signature, at) VALUES ($1, $2, $3, $4)")
                .bind(*seq)
                .bind(hash.to_vec())
                .bind(sig.to_bytes().to_vec())
                .bind(at)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

pub(crate) async fn store_head(tx: &mut Tx, head: &Head, signer: &SigningKey) -> anyhow::Result<()> {
    let sig = signer.sign(&head_message(head.seq, &head.hash));
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2, signature = $3 WHERE id = 1")
        .bind(head.seq)
        .bind(head.hash.clone())
        .bind(sig.to_bytes().to_vec())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: i64,
    pub checkpoints: i64,
    /// The first entry that does not verify, and why.
    pub broken: Option<(i64, String)>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.broken.is_none()
    }
}

fn verify_sig(key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> bool {
    Signature::from_slice(sig).map(|s| key.verify(msg, &s).is_ok()).unwrap_or(false)
}

/// One audit row borrowed from whichever driver reads it.
pub struct RowRef<'a> {
    pub seq: i64,
    pub at: i64,
    pub actor_user_id: &'a str,
    pub actor_agency_id: &'a str,
    pub action: &'a str,
    pub record_kind: &'a str,
    pub record_id: &'a str,
    pub purpose: &'a str,
    pub fields: &'a str,
    pub request_id: &'a str,
    pub hash: &'a [u8],
}

/// The chain check, fed row by row in sequence order from one consistent snapshot of the database.
pub struct ChainCheck<'k> {
    key: &'k VerifyingKey,
    checkpoints: std::collections::VecDeque<(i64, Vec<u8>, Vec<u8>)>,
    prev: [u8; 32],
    report: VerifyReport,
}

impl<'k> ChainCheck<'k> {
    pub fn new(key: &'k VerifyingKey, checkpoints: Vec<(i64, Vec<u8>, Vec<u8>)>) -> Self {
        let n = checkpoints.len() as i64;
        ChainCheck {
            key,
            checkpoints: checkpoints.into(),
            prev: GENESIS,
            report: VerifyReport { entries: 0, checkpoints: n, broken: None },
        }
    }

    fn fail(&mut self, seq: i64, why: String) -> bool {
        self.report.broken = Some((seq, why));
        false
    }

    /// Check the next row; false once the chain is broken (stop reading).
    pub fn row(&mut self, r: &RowRef<'_>) -> bool {
        let expected = self.report.entries + 1;
        if r.seq != expected {
            return self.fail(expected, format!("entry {expected} is missing (next is {})", r.seq));
        }
        let computed = entry_hash(
            &self.prev,
            r.seq,
            r.at,
            r.actor_user_id,
            r.actor_agency_id,
            r.action,
            r.record_kind,
            r.record_id,
            r.purpose,
            r.fields,
            r.request_id,
        );
        if r.hash != computed {
            return self.fail(r.seq, format!("entry {} does not match its hash", r.seq));
        }
        // Every CHECKPOINT_EVERY-th entry has a signed checkpoint: a deleted one is tampering too.
        if r.seq % CHECKPOINT_EVERY == 0 && self.checkpoints.front().is_none_or(|(cseq, _, _)| *cseq != r.seq) {
            return self.fail(r.seq, format!("the signed checkpoint at entry {} is missing", r.seq));
        }
        while let Some((cseq, chash, csig)) = self.checkpoints.front() {
            if *cseq > r.seq {
                break;
            }
            let (cseq, ok) = (
                *cseq,
                *cseq == r.seq
                    && chash[..] == computed
                    && verify_sig(self.key, &checkpoint_message(*cseq, chash), csig),
            );
            if !ok {
                return self.fail(cseq, format!("checkpoint at entry {cseq} does not verify"));
            }
            self.checkpoints.pop_front();
        }
        self.prev = computed;
        self.report.entries += 1;
        true
    }

    /// Finish with the signed head read in the same snapshot.
    pub fn finish(mut self, head_seq: i64, head_hash: &[u8], head_sig: &[u8]) -> VerifyReport {
        if self.report.broken.is_some() {
            return self.report;
        }
        if let Some((cseq, _, _)) = self.checkpoints.front() {
            let cseq = *cseq;
            self.fail(cseq, format!("checkpoint at entry {cseq} has no entry"));
        } else if !verify_sig(self.key, &head_message(head_seq, head_hash), head_sig) {
            self.fail(head_seq, "the signed head does not verify".into());
        } else if head_seq != self.report.entries || head_hash != self.prev {
            let first = self.report.entries.min(head_seq) + 1;
            let n = self.report.entries;
            self.fail(first, format!("the log ends at entry {n} but the signed head is at {head_seq}"));
        }
        self.report
    }
}

/// Recompute the whole chain, check every checkpoint and the head signature, all in one snapshot so that
/// commands committing meanwhile do not disturb the check.
pub async fn verify(db: &Db, key: &VerifyingKey) -> anyhow::Result<VerifyReport> {
    if let Some(path) = db.sqlite_path() {
        let key = *key;
        return tokio::task::spawn_blocking(move || verify_sqlite(&path, &key)).await?;
    }
    const PAGE: i64 = 20_000;
    let mut tx = db.begin_snapshot().await?;
    let checkpoints: Vec<(i64, Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash, signature FROM audit_checkpoints ORDER BY seq").fetch_all(&mut *tx).await?;
    let (hseq, hhash, hsig): (i64, Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT seq, hash, signature FROM audit_head WHERE id = 1").fetch_one(&mut *tx).await?;
    let mut check = ChainCheck::new(key, checkpoints);
    let mut from = 1_i64;
    'pages: loop {
        let rows = sqlx::query(
            "SELECT seq, at, actor_user_id, actor_agency_id, action, record_kind, record_id, purpose, \
             fields, request_id, hash FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(from)
        .bind(PAGE)
        .fetch_all(&mut *tx)
        .await?;
        let n = rows.len() as i64;
        for row in &rows {
            let s = |i: usize| row.try_get::<String, _>(i);
            let (a, b, c, d, e, f, g, h) = (s(2)?, s(3)?, s(4)?, s(5)?, s(6)?, s(7)?, s(8)?, s(9)?);
            let hash: Vec<u8> = row.try_get(10)?;
            let r = RowRef {
                seq: row.try_get(0)?,
                at: row.try_get(1)?,
                actor_user_id: &a,
                actor_agency_id: &b,
                action: &c,
                record_kind: &d,
                record_id: &e,
                purpose: &f,
                fields: &g,
                request_id: &h,
                hash: &hash,
            };
            from = r.seq + 1;
            if !check.row(&r) {
                break 'pages;
            }
        }
        if n < PAGE {
            break;
        }
    }
    tx.rollback().await?;
    Ok(check.finish(hseq, &hhash, &hsig))
}

/// Rows read from SQLite, packed flat so a batch costs a few allocations rather than eleven per row.
#[derive(Default)]
struct Batch {
    ints: Vec<(i64, i64)>,
    bytes: Vec<u8>,
    /// Per row, nine (start, end) ranges into `bytes`: eight text columns and the hash.
    ranges: Vec<(u32, u32)>,
}

const BATCH_ROWS: usize = 4096;

/// SQLite: read the log straight through the C library in one read transaction, on its own thread, while
/// this thread hashes. Going through the async driver costs microseconds per row in copies and channel hops,
/// and verification reads every row.
fn verify_sqlite(path: &std::path::Path, key: &VerifyingKey) -> anyhow::Result<VerifyReport> {
    use rusqlite::{OpenFlags, OptionalExtension};
    type Head = (i64, Vec<u8>, Vec<u8>);
    type Checkpoints = Vec<(i64, Vec<u8>, Vec<u8>)>;
    let (head_tx, head_rx) = std::sync::mpsc::sync_channel::<(Checkpoints, Head)>(1);
    let (batch_tx, batch_rx) = std::sync::mpsc::sync_channel::<Batch>(4);
    let path = path.to_owned();
    let reader = std::thread::spawn(move || -> anyhow::Result<()> {
        let conn = rusqlite::Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch("BEGIN")?;
        let checkpoints = conn
            .prepare("SELECT seq, hash, signature FROM audit_checkpoints ORDER BY seq")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Checkpoints, _>>()?;
        let head: Option<Head> = conn
            .query_row("SELECT seq, hash, signature FROM audit_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let head = head.ok_or_else(|| anyhow::anyhow!("the audit head is missing"))?;
        if head_tx.send((checkpoints, head)).is_err() {
            return Ok(());
        }
        let mut stmt = conn.prepare(
            "SELECT seq, at, actor_user_id, actor_agency_id, action, record_kind, record_id, purpose, fields, \
             request_id, hash FROM audit_log ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut batch = Batch::default();
        while let Some(row) = rows.next()? {
            batch.ints.push((row.get(0)?, row.get(1)?));
            for i in 2..=10 {
                let v = row.get_ref(i)?;
                let b = match v {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => b,
                    _ => &[],
                };
                let start = batch.bytes.len() as u32;
                batch.bytes.extend_from_slice(b);
                batch.ranges.push((start, batch.bytes.len() as u32));
            }
            // A failed send means the checker stopped at a broken entry.
            if batch.ints.len() == BATCH_ROWS && batch_tx.send(std::mem::take(&mut batch)).is_err() {
                return Ok(());
            }
        }
        let _ = batch_tx.send(batch);
        Ok(())
    });
    let Ok((checkpoints, (hseq, hhash, hsig))) = head_rx.recv() else {
        reader.join().map_err(|_| anyhow::anyhow!("audit reader panicked"))??;
        anyhow::bail!("the audit log could not be read");
    };
    let mut check = ChainCheck::new(key, checkpoints);
    'batches: for batch in batch_rx {
        for (i, (seq, at)) in batch.ints.iter().enumerate() {
            let r = &batch.ranges[i * 9..i * 9 + 9];
            let text =
                |j: usize| std::str::from_utf8(&batch.bytes[r[j].0 as usize..r[j].1 as usize]).unwrap_or("\u{fffd}");
            let row = RowRef {
                seq: *seq,
                at: *at,
                actor_user_id: text(0),
                actor_agency_id: text(1),
                action: text(2),
                record_kind: text(3),
                record_id: text(4),
                purpose: text(5),
                fields: text(6),
                request_id: text(7),
                hash: &batch.bytes[r[8].0 as usize..r[8].1 as usize],
            };
            if !check.row(&row) {
                break 'batches;
            }
        }
    }
    // A read error midway must not pass for a short log; the batches channel is closed by now, so the
    // reader has finished or stops at its next send.
    reader.join().map_err(|_| anyhow::anyhow!("audit reader panicked"))??;
    Ok(check.finish(hseq, &hhash, &hsig))
}

/// Filters for the audit browser.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub actor_user_id: Option<String>,
    pub action: Option<String>,
    pub record_kind: Option<String>,
    pub record_id: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Entries with seq below this, for paging backwards from the newest.
    pub before_seq: Option<i64>,
}

pub async fn browse(db: &Db, f: &Filter, limit: i64) -> anyhow::Result<Vec<Stored>> {
    let mut sql = String::from(
        "SELECT seq, at, actor_user_id, actor_agency_id, action, record_kind, record_id, purpose, fields, \
         request_id, hash FROM audit_log WHERE 1 = 1",
    );
    let mut n = 0;
    let mut next = |col: &str, op: &str| {
        n += 1;
        format!(" AND {col} {op} ${n}")
    };
    let mut texts: Vec<String> = Vec::new();
    let mut ints: Vec<i64> = Vec::new();
    // Text binds first, then integers, so placeholders stay in order.
    for (col, v) in [
        ("actor_user_id", &f.actor_user_id),
        ("action", &f.action),
        ("record_kind", &f.record_kind),
        ("record_id", &f.record_id),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            sql.push_str(&next(col, "="));
            texts.push(v.clone());
        }
    }
    for (col, op, v) in [("at", ">=", f.from), ("at", "<", f.to), ("seq", "<", f.before_seq)] {
        if let Some(v) = v {
            sql.push_str(&next(col, op));
            ints.push(v);
        }
    }
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${}", n + 1));
    let mut q = sqlx::query(&sql);
    for t in texts {
        q = q.bind(t);
    }
    for i in ints {
        q = q.bind(i);
    }
    let rows = q.bind(limit).fetch_all(db.pool()).await?;
    rows.into_iter()
        .map(|r| {
            Ok(Stored {
                seq: r.try_get(0)?,
                at: r.try_get(1)?,
                actor_user_id: r.try_get(2)?,
                actor_agency_id: r.try_get(3)?,
                action: r.try_get(4)?,
                record_kind: r.try_get(5)?,
                record_id: r.try_get(6)?,
                purpose: r.try_get(7)?,
                fields: r.try_get(8)?,
                request_id: r.try_get(9)?,
                hash: r.try_get(10)?,
            })
        })
        .collect()
}
