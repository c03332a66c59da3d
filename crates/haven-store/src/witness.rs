//! Anchoring the audit log outside the database. The signed head inside the database proves only that some
//! state of the log was once genuine: a backup holds a valid signed head too, so deleting the newest entries
//! and writing back an older head, or restoring an older backup, would otherwise go unnoticed.
//!
//! A **witness** is an append-only file kept in another folder (or on another disk or machine) to which the
//! server adds a signed mark of the head, `(sequence, hash, time)`, every minute it changed and at shutdown;
//! `haven audit witness` adds one (from cron, or before a backup). A **short code** of a mark
//! (`123456:9F3A-77C2-01BD`) can be kept on paper by a head. `haven audit verify --witness FILE` and
//! `--code CODE` then check that every entry the witness saw is still in the log with the same hash. A
//! `haven restore` records itself in the log (`audit.restore`, naming the head it replaced), so a rollback
//! by restore is reported as such, never as "intact".

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use haven_domain::time::Millis;

use crate::{Db, Store};

/// The action of the audit entry a restore writes; its record id is `<seq>:<hash>` of the head it replaced.
pub const RESTORE_ACTION: &str = "audit.restore";
const TAG: &str = "haven-witness-v1";

/// What the witness saw: the head of the log at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub at: Millis,
}

fn message(seq: i64, hash: &[u8], at: Millis) -> Vec<u8> {
    let mut m = b"haven-audit-witness|".to_vec();
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m.extend_from_slice(&at.to_be_bytes());
    m
}

impl Mark {
    /// Its line in a witness file, signed with the audit key so that a line cannot be forged or edited.
    pub fn line(&self, signer: &SigningKey) -> String {
        let sig = signer.sign(&message(self.seq, &self.hash, self.at));
        format!(
            "{TAG} {} {} {} {}\n",
            self.seq,
            URL_SAFE_NO_PAD.encode(&self.hash),
            self.at,
            URL_SAFE_NO_PAD.encode(sig.to_bytes())
        )
    }

    /// The short code a person can keep on paper: the sequence and the first 48 bits of the hash.
    pub fn code(&self) -> String {
        short_code(self.seq, &self.hash)
    }
}

/// `<seq>:XXXX-XXXX-XXXX`, the first six bytes of the hash in hexadecimal.
pub fn short_code(seq: i64, hash: &[u8]) -> String {
    let hex: String = hash.iter().take(6).map(|b| format!("{b:02X}")).collect();
    format!("{seq}:{}", format_groups(&hex))
}

/// Read a witness file: every line must carry a valid signature by the audit key; a forged, edited or
/// garbled line is an error naming its line number.
pub fn parse(text: &str, key: &VerifyingKey) -> Result<Vec<Mark>, String> {
    let mut marks = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = || format!("line {} of the witness is not a valid signed mark", i + 1);
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [tag, seq, hash, at, sig] = parts[..] else { return Err(bad()) };
        if tag != TAG {
            return Err(bad());
        }
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        let at: Millis = at.parse().map_err(|_| bad())?;
        let hash = URL_SAFE_NO_PAD.decode(hash).map_err(|_| bad())?;
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| bad())?;
        let sig = Signature::from_slice(&sig).map_err(|_| bad())?;
        key.verify(&message(seq, &hash, at), &sig).map_err(|_| bad())?;
        marks.push(Mark { seq, hash, at });
    }
    Ok(marks)
}

/// A short code as typed back from paper: `(seq, the hash's first bytes)`.
pub fn parse_code(code: &str) -> Option<(i64, String)> {
    let (seq, hex) = code.trim().split_once(':')?;
    let hex: String = hex.chars().filter(|c| *c != '-' && !c.is_whitespace()).collect::<String>().to_uppercase();
    (hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some((seq.trim().parse().ok()?, hex))
}

/// What checking the log against a witness found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WitnessReport {
    pub marks: usize,
    /// Marks no longer in the log because a recorded restore rolled it back after they were written.
    pub explained_by_restore: usize,
    /// The first mark the log contradicts and why: the log was rolled back, truncated or rewritten.
    pub broken: Option<(i64, String)>,
}

/// A restore recorded in the log: the head it replaced, and when.
struct Restore {
    replaced_seq: i64,
    at: Millis,
}

/// The head of a database's log (`None` before its first opening).
pub async fn head_of(db: &Db) -> anyhow::Result<Option<(i64, Vec<u8>)>> {
    Ok(sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(db.pool()).await?)
}

impl Store {
    /// The head of the log now.
    pub async fn audit_head(&self) -> anyhow::Result<(i64, Vec<u8>)> {
        head_of(&self.db).await?.ok_or_else(|| anyhow::anyhow!("the audit log has no head"))
    }

    /// Append the head to the witness file unless its last mark already holds it; returns the mark. The file
    /// is created for its owner only, opened to append, and synced before this returns.
    pub async fn witness(&self, path: &Path) -> anyhow::Result<Mark> {
        let (seq, hash) = self.audit_head().await?;
        let last = last_mark(path, &self.verifying_key())?;
        if let Some(m) = last.filter(|m| m.seq == seq && m.hash == hash) {
            return Ok(m);
        }
        let mark = Mark { seq, hash, at: self.now() };
        let mut opts = std::fs::OpenOptions::new();
        opts.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path)?;
        f.write_all(mark.line(&self.signer).as_bytes())?;
        f.sync_all()?;
        Ok(mark)
    }

    async fn restores(&self) -> anyhow::Result<Vec<Restore>> {
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT record_id, at FROM audit_log WHERE action = $1")
            .bind(RESTORE_ACTION)
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, at)| Some(Restore { replaced_seq: id.split(':').next()?.parse().ok()?, at }))
            .collect())
    }

    /// Check that every entry a witness saw is still in the log with the hash it saw; a mark the log no longer
    /// holds is explained only by a restore recorded in the log after it, which replaced a log at least that
    /// long.
    pub async fn check_witness(&self, marks: &[Mark]) -> anyhow::Result<WitnessReport> {
        let restores = self.restores().await?;
        let mut report = WitnessReport { marks: marks.len(), ..Default::default() };
        for m in marks {
            let found: Option<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
                .bind(m.seq)
                .fetch_optional(self.db.pool())
                .await?;
            if m.seq == 0 || found.as_deref() == Some(m.hash.as_slice()) {
                continue;
            }
            if restores.iter().any(|r| r.at >= m.at && r.replaced_seq >= m.seq) {
                report.explained_by_restore += 1;
                continue;
            }
            let when = haven_domain::format::date_time(m.at);
            let why = match found {
                None => format!(
                    "the witness saw entry {} on {when}, which the log no longer holds: it was rolled back or truncated",
                    m.seq
                ),
                Some(_) => format!("entry {} differs from what the witness saw on {when}: the log was rewritten", m.seq),
            };
            report.broken = Some((m.seq, why));
            break;
        }
        Ok(report)
    }

    /// Check a short code kept on paper; `Ok(None)` when the log agrees with it (or a recorded restore
    /// explains why it no longer does), otherwise why not.
    pub async fn check_code(&self, seq: i64, hex: &str) -> anyhow::Result<Option<String>> {
        let found: Option<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(seq)
            .fetch_optional(self.db.pool())
            .await?;
        if found.as_deref().is_some_and(|h| short_code(seq, h).ends_with(&format_groups(hex))) {
            return Ok(None);
        }
        if self.restores().await?.iter().any(|r| r.replaced_seq >= seq) {
            return Ok(None);
        }
        Ok(Some(match found {
            None => format!("the log no longer holds entry {seq}: it was rolled back or truncated"),
            Some(_) => format!("entry {seq} does not match the code: the log was rewritten"),
        }))
    }
}

/// The witness's last mark, read from the end of the file only: the server asks every minute, and a year of
/// marks is half a million lines. `None` for a missing or empty file; a last line that is not a valid mark
/// is an error.
fn last_mark(path: &Path, key: &VerifyingKey) -> anyhow::Result<Option<Mark>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    // A mark's line is under 200 bytes: the last 1 KiB holds the whole last line.
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(1024)))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail)?;
    let tail = String::from_utf8_lossy(&tail);
    let Some(line) = tail.lines().rev().find(|l| !l.trim().is_empty()) else { return Ok(None) };
    Ok(parse(line, key).map_err(|_| anyhow::anyhow!("the last line of the witness is not a valid signed mark"))?.pop())
}

fn format_groups(hex: &str) -> String {
    let groups: Vec<&str> = (0..hex.len()).step_by(4).map(|i| &hex[i..(i + 4).min(hex.len())]).collect();
    groups.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_signed_and_a_changed_line_is_refused() {
        let signer = SigningKey::from_bytes(&[7u8; 32]);
        let key = signer.verifying_key();
        let mark = Mark { seq: 41, hash: vec![0xAB; 32], at: 1_772_330_400_000 };
        let text = mark.line(&signer) + &Mark { seq: 42, ..mark.clone() }.line(&signer);
        assert_eq!(parse(&text, &key).expect("valid").len(), 2);
        let forged = text.replacen(" 41 ", " 40 ", 1);
        assert_eq!(parse(&forged, &key), Err("line 1 of the witness is not a valid signed mark".into()));
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert!(parse(&text, &other).is_err(), "another installation's key");
        assert!(parse("garbage\n", &key).is_err());
    }

    #[test]
    fn short_codes_round_trip_as_people_type_them() {
        let code = short_code(123_456, &[0x9F, 0x3A, 0x77, 0xC2, 0x01, 0xBD, 0xFF]);
        assert_eq!(code, "123456:9F3A-77C2-01BD");
        assert_eq!(parse_code(&code), Some((123_456, "9F3A77C201BD".into())));
        assert_eq!(parse_code(" 123456 : 9f3a 77c2 01bd "), Some((123_456, "9F3A77C201BD".into())));
        assert_eq!(parse_code("123456:9F3A"), None, "too short to mean anything");
        assert_eq!(parse_code("abc:9F3A-77C2-01BD"), None);
    }
}

/// What an operator watches of the store, read for each scrape of `/metrics`: each figure one look-up or a
/// bounded count.
#[derive(Clone, Debug, Default)]
pub struct Operations {
    /// When the newest audit entry was written (`None` before the first).
    pub audit_head_at: Option<Millis>,
    /// People waiting to be compared with the province's records (counted up to [`QUEUE_COUNT_CAP`]).
    pub match_queue: i64,
    /// Imports whose rows are staged and not yet published.
    pub import_stages: i64,
    /// Imports running on a live server.
    pub imports_running: i64,
}

/// The most a queue count reads: past it, the queue is simply long.
pub const QUEUE_COUNT_CAP: i64 = 100_000;

impl Store {
    pub async fn operations(&self) -> anyhow::Result<Operations> {
        let audit_head_at: Option<i64> =
            sqlx::query_scalar("SELECT l.at FROM audit_head h JOIN audit_log l ON l.seq = h.seq WHERE h.id = 1")
                .fetch_optional(self.db.pool())
                .await?;
        let match_queue: i64 = sqlx::query_scalar(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT 1 FROM match_queue LIMIT {QUEUE_COUNT_CAP}) q"
        ))
        .fetch_one(self.db.pool())
        .await?;
        let import_stages: i64 =
            sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM import_stages").fetch_one(self.db.pool()).await?;
        let imports_running = self.running_imports().await?;
        Ok(Operations { audit_head_at, match_queue, import_stages, imports_running })
    }
}
