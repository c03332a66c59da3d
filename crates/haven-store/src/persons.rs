//! Person records: identity sealed per field, blind indexes for exact look-up, a pseudonymous case code for
//! everyone else. Identity is only ever opened inside a command that writes the view to the audit log.

use haven_domain::person::{case_code, Identity};
use haven_domain::time::Millis;
use serde::Serialize;

use crate::crypto::{BlindKind, Keyring};
use crate::db::RowExt;
use crate::{new_id, Command, Entry, Store};

pub const KIND: &str = "person";
const TABLE: &str = "persons";

/// What anyone allowed to list records sees: no identity.
#[derive(Clone, Debug, Serialize)]
pub struct PersonRow {
    pub id: String,
    pub owner_agency_id: String,
    pub case_code: String,
    pub commune_code: Option<String>,
    pub created_at: Millis,
}

/// An opened identity.
#[derive(Clone, Debug, Serialize)]
pub struct OpenedIdentity {
    pub full_name: String,
    pub birth_date: Option<String>,
    pub sex: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

pub const IDENTITY_FIELDS: &[&str] = &["full_name", "birth_date", "sex", "id_number", "phone", "address"];

/// Create a person owned by `owner_agency_id`.
pub async fn create(
    cmd: &mut Command,
    keys: &Keyring,
    owner_agency_id: &str,
    who: &Identity,
) -> anyhow::Result<String> {
    let id = new_id();
    let seal = |col: &str, v: &str| keys.seal(TABLE, col, &id, v);
    let birth = who.birth_date.map(|b| b.encode());
    let id_number = who.id_number.as_ref().map(|n| n.as_str().to_owned());
    sqlx::query(
        "INSERT INTO persons (id, owner_agency_id, case_code, full_name, birth_date, sex, id_number, phone, address, \
         commune_code, id_number_bidx, phone_bidx, name_bidx, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)",
    )
    .bind(&id)
    .bind(owner_agency_id)
    .bind(case_code("HS", &id))
    .bind(seal("full_name", &who.full_name))
    .bind(birth.as_deref().map(|b| seal("birth_date", b)))
    .bind(seal("sex", who.sex.code()))
    .bind(id_number.as_deref().map(|n| seal("id_number", n)))
    .bind(who.phone.as_deref().map(|p| seal("phone", p)))
    .bind(Some(who.address.as_str()).filter(|a| !a.is_empty()).map(|a| seal("address", a)))
    .bind(&who.commune_code)
    .bind(id_number.as_deref().map(|n| keys.blind(BlindKind::IdNumber, n)))
    .bind(who.phone.as_deref().map(|p| keys.blind(BlindKind::Phone, p)))
    .bind(keys.blind(BlindKind::Name, &haven_linkage::normalise::canonical(&who.full_name)))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.persons_changed = true;
    cmd.audit(Entry::new("person.create", KIND, &id).fields(IDENTITY_FIELDS)).await?;
    Ok(id)
}

/// Open a person's identity and record the view, with its purpose, in the same transaction.
pub async fn view_identity(
    cmd: &mut Command,
    keys: &Keyring,
    id: &str,
    purpose: &str,
) -> anyhow::Result<Option<OpenedIdentity>> {
    let row = sqlx::query("SELECT full_name, birth_date, sex, id_number, phone, address FROM persons WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *cmd.tx)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let open = |i: usize, col: &str| -> anyhow::Result<Option<String>> {
        keys.open_opt(TABLE, col, id, r.try_get::<Option<Vec<u8>>, _>(i)?.as_deref())
    };
    let opened = OpenedIdentity {
        full_name: open(0, "full_name")?.unwrap_or_default(),
        birth_date: open(1, "birth_date")?,
        sex: open(2, "sex")?.unwrap_or_default(),
        id_number: open(3, "id_number")?,
        phone: open(4, "phone")?,
        address: open(5, "address")?,
    };
    cmd.audit(Entry::new("person.view_identity", KIND, id).purpose(purpose).fields(IDENTITY_FIELDS)).await?;
    Ok(Some(opened))
}

fn person_row(r: crate::db::Row) -> anyhow::Result<PersonRow> {
    Ok(PersonRow {
        id: r.try_get(0)?,
        owner_agency_id: r.try_get(1)?,
        case_code: r.try_get(2)?,
        commune_code: r.try_get(3)?,
        created_at: r.try_get(4)?,
    })
}

const ROW_COLS: &str = "id, owner_agency_id, case_code, commune_code, created_at";

/// A page of a list, newest first, continued with a cursor.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl Store {
    pub async fn person(&self, id: &str) -> anyhow::Result<Option<PersonRow>> {
        let row = sqlx::query(&format!("SELECT {ROW_COLS} FROM persons WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.map(person_row).transpose()
    }

    /// Persons owned by an agency, newest first; `after` is the cursor from the previous page (the id of its
    /// last row: ids are UUIDv7, so id order is creation order).
    pub async fn persons_of_agency(
        &self,
        agency_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Page<PersonRow>> {
        // No sentinel id for the first page: how '~' sorts against digits depends on the collation.
        let rows = match after {
            Some(after) => {
                sqlx::query(&format!(
                    "SELECT {ROW_COLS} FROM persons WHERE owner_agency_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
                ))
                .bind(agency_id)
                .bind(after)
                .bind(limit + 1)
                .fetch_all(self.db.pool())
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {ROW_COLS} FROM persons WHERE owner_agency_id = $1 ORDER BY id DESC LIMIT $2"
                ))
                .bind(agency_id)
                .bind(limit + 1)
                .fetch_all(self.db.pool())
                .await?
            }
        };
        let mut items = rows.into_iter().map(person_row).collect::<anyhow::Result<Vec<_>>>()?;
        let next = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|p| p.id.clone())
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// Identity views of an agency's person records, newest first: (at, viewer user id, person id, case code,
    /// purpose).
    pub async fn identity_views_of_agency(
        &self,
        agency_id: &str,
        limit: i64,
    ) -> anyhow::Result<Vec<(i64, String, String, String, String)>> {
        Ok(sqlx::query_as(
            "SELECT a.at, a.actor_user_id, p.id, p.case_code, a.purpose FROM audit_log a JOIN persons p ON p.id = a.record_id \
             WHERE a.record_kind = $1 AND a.action = $2 AND p.owner_agency_id = $3 ORDER BY a.seq DESC LIMIT $4",
        )
        .bind(KIND)
        .bind("person.view_identity")
        .bind(agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?)
    }

    /// How many person records an agency owns: exact after this process's own changes, otherwise at most
    /// half a minute old.
    pub async fn count_persons(&self, agency_id: &str) -> anyhow::Result<i64> {
        if let Ok(counts) = self.cache.person_counts.read() {
            if let Some((at, n)) = counts.get(agency_id) {
                if at.elapsed() < crate::directory::COUNT_TTL {
                    return Ok(*n);
                }
            }
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM persons WHERE owner_agency_id = $1")
            .bind(agency_id)
            .fetch_one(self.db.pool())
            .await?;
        if let Ok(mut counts) = self.cache.person_counts.write() {
            counts.insert(agency_id.to_owned(), (std::time::Instant::now(), n));
        }
        Ok(n)
    }

    /// Persons shared with an agency or a user through a live grant.
    pub async fn persons_shared_with(
        &self,
        agency_id: &str,
        user_id: &str,
        now: Millis,
    ) -> anyhow::Result<Vec<PersonRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM persons p WHERE p.id IN (SELECT g.record_id FROM grants g WHERE g.record_kind = $1 \
             AND g.revoked_at IS NULL AND g.expires_at > $2 AND (g.grantee_agency_id = $3 OR g.grantee_user_id = $4)) \
             ORDER BY p.id DESC LIMIT 200",
            ROW_COLS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ")
        ))
        .bind(KIND)
        .bind(now)
        .bind(agency_id)
        .bind(user_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(person_row).collect()
    }

    /// Exact look-up by a normalised ID number or phone through the blind indexes.
    pub async fn find_persons_by_id_number(&self, normalised: &str) -> anyhow::Result<Vec<PersonRow>> {
        let rows =
            sqlx::query(&format!("SELECT {ROW_COLS} FROM persons WHERE id_number_bidx = $1 ORDER BY id DESC LIMIT 50"))
                .bind(self.keys.blind(BlindKind::IdNumber, normalised))
                .fetch_all(self.db.pool())
                .await?;
        rows.into_iter().map(person_row).collect()
    }

    pub async fn find_persons_by_phone(&self, normalised: &str) -> anyhow::Result<Vec<PersonRow>> {
        let rows =
            sqlx::query(&format!("SELECT {ROW_COLS} FROM persons WHERE phone_bidx = $1 ORDER BY id DESC LIMIT 50"))
                .bind(self.keys.blind(BlindKind::Phone, normalised))
                .fetch_all(self.db.pool())
                .await?;
        rows.into_iter().map(person_row).collect()
    }

    pub async fn find_persons_by_case_code(&self, code: &str) -> anyhow::Result<Vec<PersonRow>> {
        let rows = sqlx::query(&format!("SELECT {ROW_COLS} FROM persons WHERE case_code = $1 LIMIT 50"))
            .bind(code.trim().to_uppercase())
            .fetch_all(self.db.pool())
            .await?;
        rows.into_iter().map(person_row).collect()
    }
}
