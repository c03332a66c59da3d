//! One person across agencies. A pair of two agencies' records is linked only when someone of each agency
//! has said it is the same person (or a provincial head has, for both: [`super::decide`]); until then neither
//! learns the other's record. Linked records stay apart, each agency keeping its own, and are counted as one
//! person: every record of a linked group carries the group's id (`persons.one_person_id`, the oldest
//! record's id).

use std::collections::{BTreeSet, VecDeque};

use haven_domain::time::Millis;

use super::{CandidateRow, CANDIDATE};
use crate::{new_id, Command, Entry, Store};

/// How many signals the acting user was given since `since`.
pub(super) async fn signals_since(cmd: &mut Command, since: Millis) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM match_signals WHERE user_id = $1 AND at > $2")
        .bind(&cmd.actor.user_id)
        .bind(since)
        .fetch_one(&mut *cmd.tx)
        .await?)
}

/// Tell the acting user that their entry may be a person another agency holds (the pair `candidate_id`),
/// audited: the signal names neither the record nor the agency.
pub(super) async fn signal(cmd: &mut Command, candidate_id: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO match_signals (user_id, candidate_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(&cmd.actor.user_id)
        .bind(candidate_id)
        .bind(cmd.at)
        .execute(&mut *cmd.tx)
        .await?;
    cmd.audit(Entry::new("match.signal", CANDIDATE, candidate_id)).await
}

/// What one agency's "the same person" did to a pair of two agencies' records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirmed {
    /// Recorded; the other agency has yet to say so.
    Waiting,
    /// Both have: the records are linked.
    Linked,
    /// The pair was decided meanwhile, or this side had already said so.
    Stale,
}

/// Record that the acting user's agency, holder of side A (`side_a`) or B of the pair, says it is the same
/// person; link the records when the other side has said so too.
pub async fn confirm(cmd: &mut Command, c: &CandidateRow, side_a: bool) -> anyhow::Result<Confirmed> {
    let column = if side_a { "confirmed_a_by" } else { "confirmed_b_by" };
    let n = sqlx::query(&format!(
        "UPDATE match_candidates SET {column} = $1 WHERE id = $2 AND status = 'open' AND {column} IS NULL"
    ))
    .bind(&cmd.actor.user_id)
    .bind(&c.id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(Confirmed::Stale);
    }
    cmd.audit(Entry::new("match.confirm", CANDIDATE, &c.id).fields(&["decision"])).await?;
    let both: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT confirmed_a_by, confirmed_b_by FROM match_candidates WHERE id = $1")
            .bind(&c.id)
            .fetch_optional(&mut *cmd.tx)
            .await?;
    if !matches!(both, Some((Some(_), Some(_)))) {
        return Ok(Confirmed::Waiting);
    }
    sqlx::query("UPDATE match_candidates SET status = 'same', decided_by = $1, decided_at = $2 WHERE id = $3")
        .bind(&cmd.actor.user_id)
        .bind(cmd.at)
        .bind(&c.id)
        .execute(&mut *cmd.tx)
        .await?;
    link(cmd, c).await?;
    cmd.audit(Entry::new("match.same", CANDIDATE, &c.id).fields(&["decision"])).await?;
    Ok(Confirmed::Linked)
}

/// Link the pair's two records as one person (a pair decided "the same"), and give the group its id.
pub(super) async fn link(cmd: &mut Command, c: &CandidateRow) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO person_links (id, person_a, person_b, candidate_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(&c.person_a)
    .bind(&c.person_b)
    .bind(&c.id)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    rejoin(cmd, &c.person_a).await
}

/// The records linked with `person_id`, itself included, walking the links (a group is a handful of records).
async fn group(conn: &mut sqlx::AnyConnection, person_id: &str) -> anyhow::Result<BTreeSet<String>> {
    let mut seen = BTreeSet::from([person_id.to_owned()]);
    let mut next = VecDeque::from([person_id.to_owned()]);
    while let Some(id) = next.pop_front() {
        let others: Vec<String> = sqlx::query_scalar(
            "SELECT CASE WHEN person_a = $1 THEN person_b ELSE person_a END FROM person_links \
             WHERE person_a = $1 OR person_b = $1",
        )
        .bind(&id)
        .fetch_all(&mut *conn)
        .await?;
        for o in others {
            if seen.insert(o.clone()) {
                next.push_back(o);
            }
        }
    }
    Ok(seen)
}

/// Give every record linked with `person_id` the group's id (its oldest record's: ids are time-ordered); a
/// record linked to none has none.
pub(crate) async fn rejoin(cmd: &mut Command, person_id: &str) -> anyhow::Result<()> {
    let members = group(&mut cmd.tx, person_id).await?;
    let root = (members.len() > 1).then(|| members.first().cloned()).flatten();
    for id in &members {
        sqlx::query("UPDATE persons SET one_person_id = $1 WHERE id = $2")
            .bind(&root)
            .bind(id)
            .execute(&mut *cmd.tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// The id of the group of records linked as one person with this one; `None` when linked to none.
    pub async fn one_person_of(&self, person_id: &str) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query_scalar::<_, Option<String>>("SELECT one_person_id FROM persons WHERE id = $1")
            .bind(person_id)
            .fetch_optional(self.db.pool())
            .await?
            .flatten())
    }

    /// How many signals a user was given since an instant (for the rate limit's message).
    pub async fn signals_of_user_since(&self, user_id: &str, since: Millis) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM match_signals WHERE user_id = $1 AND at > $2")
            .bind(user_id)
            .bind(since)
            .fetch_one(self.db.pool())
            .await?)
    }
}
