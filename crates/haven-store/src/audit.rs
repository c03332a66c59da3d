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

pub(crate) async fn append(
    tx: &mut Tx,
    head: &mut Head,
    signer: &SigningKey,
    actor: &Actor,
    at: i64,
    entry: &Entry,
) -> anyhow::Result<()> {
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
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_user_id, actor_agency_id, action, record_kind, record_id, \
         purpose, fields, request_id, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(seq)
    .bind(at)
    .bind(&actor.user_id)
    .bind(&actor.agency_id)
    .bind(&entry.action)
    .bind(&entry.record_kind)
    .bind(&entry.record_id)
    .bind(&entry.purpose)
    .bind(&fields)
    .bind(&actor.request_id)
    .bind(hash.to_vec())
    .execute(&mut **tx)
    .await?;
    if seq % CHECKPOINT_EVERY == 0 {
        let sig = signer.sign(&checkpoint_message(seq, &hash));
        sqlx::query("INSERT INTO audit_checkpoints (seq, hash, signature, at) VALUES ($1, $2, $3, $4)")
            .bind(seq)
            .bind(hash.to_vec())
            .bind(sig.to_bytes().to_vec())
            .bind(at)
            .execute(&mut **tx)
            .await?;
    }
    head.seq = seq;
    head.hash = hash.to_vec();
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

/// Recompute the whole chain, check every checkpoint and the head signature.
pub async fn verify(db: &Db, key: &VerifyingKey) -> anyhow::Result<VerifyReport> {
    const PAGE: i64 = 20_000;
    let checkpoints: Vec<(i64, Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash, signature FROM audit_checkpoints ORDER BY seq").fetch_all(db.pool()).await?;
    let mut report = VerifyReport { entries: 0, checkpoints: checkpoints.len() as i64, broken: None };
    let mut cps = checkpoints.iter().peekable();
    let mut prev = GENESIS.to_vec();
    let mut expected = 1_i64;
    'pages: loop {
        let rows = sqlx::query(
            "SELECT seq, at, actor_user_id, actor_agency_id, action, record_kind, record_id, purpose, \
             fields, request_id, hash FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(expected)
        .bind(PAGE)
        .fetch_all(db.pool())
        .await?;
        let n = rows.len() as i64;
        for row in rows {
            let seq: i64 = row.try_get(0)?;
            if seq != expected {
                report.broken = Some((expected, format!("entry {expected} is missing (next is {seq})")));
                break 'pages;
            }
            let get = |i: usize| row.try_get::<String, _>(i);
            let computed = entry_hash(
                &prev,
                seq,
                row.try_get(1)?,
                &get(2)?,
                &get(3)?,
                &get(4)?,
                &get(5)?,
                &get(6)?,
                &get(7)?,
                &get(8)?,
                &get(9)?,
            );
            let stored: Vec<u8> = row.try_get(10)?;
            if stored != computed {
                report.broken = Some((seq, format!("entry {seq} does not match its hash")));
                break 'pages;
            }
            while let Some((cseq, chash, csig)) = cps.peek() {
                if *cseq > seq {
                    break;
                }
                if *cseq < seq || chash[..] != computed || !verify_sig(key, &checkpoint_message(*cseq, chash), csig) {
                    report.broken = Some((*cseq, format!("checkpoint at entry {cseq} does not verify")));
                    break 'pages;
                }
                cps.next();
            }
            prev = computed.to_vec();
            expected += 1;
            report.entries += 1;
        }
        if n < PAGE {
            break;
        }
    }
    if report.broken.is_none() {
        if let Some((cseq, _, _)) = cps.next() {
            report.broken = Some((*cseq, format!("checkpoint at entry {cseq} has no entry")));
        }
    }
    if report.broken.is_none() {
        let row = sqlx::query("SELECT seq, hash, signature FROM audit_head WHERE id = 1").fetch_one(db.pool()).await?;
        let (hseq, hhash, hsig): (i64, Vec<u8>, Vec<u8>) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if !verify_sig(key, &head_message(hseq, &hhash), &hsig) {
            report.broken = Some((hseq, "the signed head does not verify".into()));
        } else if hseq != report.entries || hhash != prev {
            let first = report.entries.min(hseq) + 1;
            report.broken =
                Some((first, format!("the log ends at entry {} but the signed head is at {hseq}", report.entries)));
        }
    }
    Ok(report)
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
