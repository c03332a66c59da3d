//! Person records: identity sealed per field, blind indexes for exact look-up, a pseudonymous case code for
//! everyone else. Identity is only ever opened inside a command that writes the view to the audit log.

mod details;
mod merge;

pub use details::*;
pub use merge::*;

use haven_domain::person::{case_code, Identity};
use haven_domain::time::Millis;
use serde::Serialize;

use crate::crypto::{BlindKind, Keyring};
use crate::db::RowExt;
use crate::{new_id, Command, Entry, Store};

pub const KIND: &str = "person";
/// The scope of a grant that lets an agency read a person record but not name the person on records of its
/// own (open a victim case, add them to a report): what an accepted referral gives.
pub const READ_ONLY: &str = "read";
const TABLE: &str = "persons";

/// What anyone allowed to list records sees: no identity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PersonRow {
    pub id: String,
    pub owner_agency_id: String,
    pub case_code: String,
    pub commune_code: Option<String>,
    pub created_at: Millis,
    /// Set when this record was merged into another record of the same person; it stays as the trail.
    pub merged_into: Option<String>,
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
    pub other_names: Vec<String>,
    pub ethnicity: Option<String>,
    pub nationality: Option<String>,
    pub passport: Option<String>,
    pub language: Option<String>,
    pub interpreter: bool,
    pub commune_code: Option<String>,
}

/// The sealed identity columns, in the order [`sealed_values`] gives them.
pub const IDENTITY_FIELDS: &[&str] = &[
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
];

/// Other names are stored one per line.
fn join_names(names: &[String]) -> Option<String> {
    Some(names.join("\n")).filter(|n| !n.is_empty())
}

/// The plaintext of every sealed identity column, in [`IDENTITY_FIELDS`] order.
fn sealed_values(who: &Identity) -> [Option<String>; 11] {
    [
        Some(who.full_name.clone()),
        who.birth_date.map(|b| b.encode()),
        Some(who.sex.code().to_owned()),
        who.id_number.as_ref().map(|n| n.as_str().to_owned()),
        who.phone.clone(),
        Some(who.address.clone()).filter(|a| !a.is_empty()),
        join_names(&who.other_names),
        who.ethnicity.clone(),
        who.nationality.clone(),
        who.passport.clone(),
        who.language.clone(),
    ]
}

/// Blind indexes of an identity: (ID number, phone, name, passport).
fn blind_indexes(keys: &Keyring, who: &Identity) -> (Option<String>, Option<String>, String, Option<String>) {
    (
        who.id_number.as_ref().map(|n| keys.blind(BlindKind::IdNumber, n.as_str())),
        who.phone.as_deref().map(|p| keys.blind(BlindKind::Phone, p)),
        keys.blind(BlindKind::Name, &haven_linkage::normalise::canonical(&who.full_name)),
        who.passport.as_deref().map(|p| keys.blind(BlindKind::Passport, p)),
    )
}

/// Create a person owned by `owner_agency_id`.
pub async fn create(
    cmd: &mut Command,
    keys: &Keyring,
    owner_agency_id: &str,
    who: &Identity,
) -> anyhow::Result<String> {
    let row = SealedPerson::new(keys, who);
    let sql = format!(
        "INSERT INTO persons (id, owner_agency_id, created_by, created_at, updated_at, {}) VALUES ($1, $2, $3, \
         $4, $4, {})",
        SealedPerson::columns().collect::<Vec<_>>().join(", "),
        (5..5 + SealedPerson::columns().count()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
    );
    let q = sqlx::query(&sql).bind(&row.id).bind(owner_agency_id).bind(&cmd.actor.user_id).bind(cmd.at);
    row.bind(q).execute(&mut *cmd.tx).await?;
    cmd.persons_changed = true;
    cmd.audit(created(&row.id)).await?;
    crate::matches::insert_keys(cmd, &row.id, owner_agency_id, &row.match_keys).await?;
    Ok(row.id)
}

/// The audit entry of a new person record.
pub(crate) fn created(id: &str) -> Entry {
    Entry::new("person.create", KIND, id).fields(IDENTITY_FIELDS)
}

/// A new person record made ready to write, outside any transaction: its id, its code, its identity sealed
/// for the `persons` table and that id, its blind indexes and the blind keys that find it by name. Written
/// by [`create`], or staged by an import and copied unchanged when the import is published.
pub(crate) struct SealedPerson {
    pub id: String,
    case_code: String,
    commune_code: Option<String>,
    id_number_bidx: Option<String>,
    phone_bidx: Option<String>,
    name_bidx: String,
    passport_bidx: Option<String>,
    interpreter: i64,
    sealed: Vec<Option<Vec<u8>>>,
    /// The name-search and matching keys (`match_keys`).
    pub match_keys: Vec<String>,
}

impl SealedPerson {
    /// The plain columns [`SealedPerson::bind`] binds first; the sealed [`IDENTITY_FIELDS`] follow. The
    /// record's id, owner and times are not among them.
    const PLAIN: [&'static str; 8] = [
        "case_code",
        "commune_code",
        "id_number_bidx",
        "phone_bidx",
        "name_bidx",
        "passport_bidx",
        "interpreter",
        "keys_version",
    ];

    /// Every column [`SealedPerson::bind`] binds, in its order.
    pub fn columns() -> impl Iterator<Item = &'static str> {
        Self::PLAIN.into_iter().chain(IDENTITY_FIELDS.iter().copied())
    }

    pub fn new(keys: &Keyring, who: &Identity) -> SealedPerson {
        let id = new_id();
        let (id_number_bidx, phone_bidx, name_bidx, passport_bidx) = blind_indexes(keys, who);
        let sealed = IDENTITY_FIELDS
            .iter()
            .zip(sealed_values(who))
            .map(|(col, v)| v.map(|v| keys.seal(TABLE, col, &id, &v)))
            .collect();
        let others: Vec<&str> = who.other_names.iter().map(String::as_str).collect();
        let birth = who.birth_date.map(|b| b.encode());
        let idn = who.id_number.as_ref().map(|n| n.as_str());
        let match_keys = crate::matches::person_keys(keys, &who.full_name, &others, birth.as_deref(), idn);
        SealedPerson {
            case_code: case_code("HS", &id),
            id,
            commune_code: who.commune_code.clone(),
            id_number_bidx,
            phone_bidx,
            name_bidx,
            passport_bidx,
            interpreter: i64::from(who.interpreter),
            sealed,
            match_keys,
        }
    }

    /// Bind the values of [`SealedPerson::columns`] to a query, in order.
    pub fn bind<'q>(&'q self, q: crate::db::Query<'q>) -> crate::db::Query<'q> {
        let mut q = q
            .bind(&self.case_code)
            .bind(&self.commune_code)
            .bind(&self.id_number_bidx)
            .bind(&self.phone_bidx)
            .bind(&self.name_bidx)
            .bind(&self.passport_bidx)
            .bind(self.interpreter)
            .bind(crate::matches::KEYS_VERSION);
        for v in &self.sealed {
            q = q.bind(v);
        }
        q
    }
}

/// Open every sealed identity column of a person, with the plain columns beside them; no audit entry (the
/// callers write theirs).
async fn open_identity(cmd: &mut Command, keys: &Keyring, id: &str) -> anyhow::Result<Option<OpenedIdentity>> {
    let row = sqlx::query(&format!(
        "SELECT {}, interpreter, commune_code FROM persons WHERE id = $1",
        IDENTITY_FIELDS.join(", ")
    ))
    .bind(id)
    .fetch_optional(&mut *cmd.tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let mut v = Vec::with_capacity(IDENTITY_FIELDS.len());
    for (i, col) in IDENTITY_FIELDS.iter().enumerate() {
        v.push(keys.open_opt(TABLE, col, id, r.try_get::<Option<Vec<u8>>, _>(i)?.as_deref())?);
    }
    let n = IDENTITY_FIELDS.len();
    let interpreter: i64 = r.try_get(n)?;
    let commune_code: Option<String> = r.try_get(n + 1)?;
    let mut v = v.into_iter();
    let mut next = || v.next().flatten();
    Ok(Some(OpenedIdentity {
        full_name: next().unwrap_or_default(),
        birth_date: next(),
        sex: next().unwrap_or_default(),
        id_number: next(),
        phone: next(),
        address: next(),
        other_names: next().map(|n| n.lines().map(str::to_owned).collect()).unwrap_or_default(),
        ethnicity: next(),
        nationality: next(),
        passport: next(),
        language: next(),
        interpreter: interpreter != 0,
        commune_code,
    }))
}

/// A sealed column as read: ciphertext, or nothing.
type Sealed = Option<Vec<u8>>;

/// A list's names: each person's full name and birth date (as stored) opened for a purpose, one audit entry
/// per person, so that "who viewed this person?" finds a list view too. Other identity fields stay sealed.
pub async fn view_names(
    cmd: &mut Command,
    keys: &Keyring,
    ids: &[&str],
    purpose: &str,
) -> anyhow::Result<Vec<Option<(String, Option<String>)>>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let row: Option<(Sealed, Sealed)> = sqlx::query_as("SELECT full_name, birth_date FROM persons WHERE id = $1")
            .bind(*id)
            .fetch_optional(&mut *cmd.tx)
            .await?;
        let Some((name, birth)) = row else {
            out.push(None);
            continue;
        };
        let name = keys.open_opt(TABLE, "full_name", id, name.as_deref())?.unwrap_or_default();
        let birth = keys.open_opt(TABLE, "birth_date", id, birth.as_deref())?;
        cmd.audit(Entry::new("person.view_name", KIND, id).purpose(purpose).fields(&["full_name", "birth_date"]))
            .await?;
        out.push(Some((name, birth)));
    }
    Ok(out)
}

/// Every sealed identity column, and the relatives and file names that open with them on the person page.
const VIEW_WITH_RELATED: &[&str] = &[
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
    "relatives",
    "file_names",
];

/// Open a person's identity and record the view, with its purpose, in the same transaction. `related`: the
/// caller also opens the relatives and file names in this command, and the entry says so.
pub async fn view_identity(
    cmd: &mut Command,
    keys: &Keyring,
    id: &str,
    purpose: &str,
    related: bool,
) -> anyhow::Result<Option<OpenedIdentity>> {
    let Some(opened) = open_identity(cmd, keys, id).await? else { return Ok(None) };
    let fields = if related { VIEW_WITH_RELATED } else { IDENTITY_FIELDS };
    cmd.audit(Entry::new("person.view_identity", KIND, id).purpose(purpose).fields(fields)).await?;
    Ok(Some(opened))
}

/// Correct a person's identity. Returns the names of the fields that changed (none: nothing written, and the
/// caller has nothing to commit). Opening the old values to compare happens inside the server only.
pub async fn update(cmd: &mut Command, keys: &Keyring, id: &str, who: &Identity) -> anyhow::Result<Vec<&'static str>> {
    let Some(old) = open_identity(cmd, keys, id).await? else { return Ok(Vec::new()) };
    let old_values: [Option<String>; 11] = [
        Some(old.full_name.clone()),
        old.birth_date.clone(),
        Some(old.sex.clone()),
        old.id_number.clone(),
        old.phone.clone(),
        old.address.clone(),
        join_names(&old.other_names),
        old.ethnicity.clone(),
        old.nationality.clone(),
        old.passport.clone(),
        old.language.clone(),
    ];
    let new_values = sealed_values(who);
    let mut changed: Vec<&'static str> = IDENTITY_FIELDS
        .iter()
        .zip(old_values.iter().zip(new_values.iter()))
        .filter(|(_, (o, n))| o != n)
        .map(|(col, _)| *col)
        .collect();
    if old.interpreter != who.interpreter {
        changed.push("interpreter");
    }
    if old.commune_code != who.commune_code {
        changed.push("commune_code");
    }
    if changed.is_empty() {
        return Ok(changed);
    }
    let (id_bidx, phone_bidx, name_bidx, passport_bidx) = blind_indexes(keys, who);
    let sql = format!(
        "UPDATE persons SET commune_code = $1, id_number_bidx = $2, phone_bidx = $3, name_bidx = $4, \
         passport_bidx = $5, interpreter = $6, updated_at = $7, {} WHERE id = $8",
        IDENTITY_FIELDS.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 9)).collect::<Vec<_>>().join(", ")
    );
    let mut q = sqlx::query(&sql)
        .bind(&who.commune_code)
        .bind(id_bidx)
        .bind(phone_bidx)
        .bind(name_bidx)
        .bind(passport_bidx)
        .bind(i64::from(who.interpreter))
        .bind(cmd.at)
        .bind(id);
    for (col, v) in IDENTITY_FIELDS.iter().zip(new_values) {
        q = q.bind(v.map(|v| keys.seal(TABLE, col, id, &v)));
    }
    q.execute(&mut *cmd.tx).await?;
    cmd.persons_changed = true;
    cmd.audit(Entry::new("person.update", KIND, id).fields(&changed)).await?;
    // The person is found and matched under what the record now says: the corrected name or date may be
    // someone's in another agency.
    crate::matches::search::index_new(cmd, keys, id).await?;
    let compared = ["full_name", "birth_date", "sex", "id_number", "commune_code"];
    if changed.iter().any(|c| compared.contains(c)) {
        crate::matches::propose_for(cmd, keys, id, crate::matches::Signals::PerUser).await?;
    }
    Ok(changed)
}

/// An entry of who opened a person's identity or files, or changed them: (at, user id, action, purpose).
pub type ViewRow = (Millis, String, String, String);

fn person_row(r: crate::db::Row) -> anyhow::Result<PersonRow> {
    Ok(PersonRow {
        id: r.try_get(0)?,
        owner_agency_id: r.try_get(1)?,
        case_code: r.try_get(2)?,
        commune_code: r.try_get(3)?,
        created_at: r.try_get(4)?,
        merged_into: r.try_get(5)?,
    })
}

const ROW_COLS: &str = "id, owner_agency_id, case_code, commune_code, created_at, merged_into";
/// List pages read what the covering index holds (migration 0011).
const LIST_COLS: &str = ROW_COLS;

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
                    "SELECT {LIST_COLS} FROM persons WHERE owner_agency_id = $1 AND merged_into IS NULL AND id < $2 \
                     ORDER BY id DESC LIMIT $3"
                ))
                .bind(agency_id)
                .bind(after)
                .bind(limit + 1)
                .fetch_all(self.db.pool())
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {LIST_COLS} FROM persons WHERE owner_agency_id = $1 AND merged_into IS NULL \
                     ORDER BY id DESC LIMIT $2"
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
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM persons WHERE owner_agency_id = $1 AND merged_into IS NULL")
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
        // The grants first (found by grantee; the newest thousand records, of which at most a few were merged
        // away since), then their persons by id: planned as a filter over the persons, a database can walk
        // them all newest first looking for the few that are shared.
        let rows = sqlx::query(&format!(
            "WITH shared AS MATERIALIZED (SELECT g.record_id FROM grants g WHERE g.record_kind = $1 \
             AND g.revoked_at IS NULL AND g.expires_at > $2 AND (g.grantee_agency_id = $3 OR g.grantee_user_id = $4) \
             GROUP BY g.record_id ORDER BY g.record_id DESC LIMIT 1000) \
             SELECT {} FROM shared s JOIN persons p ON p.id = s.record_id \
             WHERE p.merged_into IS NULL ORDER BY p.id DESC LIMIT 200",
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
        self.follow_merges(rows.into_iter().map(person_row).collect::<anyhow::Result<_>>()?).await
    }

    pub async fn find_persons_by_phone(&self, normalised: &str) -> anyhow::Result<Vec<PersonRow>> {
        let rows =
            sqlx::query(&format!("SELECT {ROW_COLS} FROM persons WHERE phone_bidx = $1 ORDER BY id DESC LIMIT 50"))
                .bind(self.keys.blind(BlindKind::Phone, normalised))
                .fetch_all(self.db.pool())
                .await?;
        self.follow_merges(rows.into_iter().map(person_row).collect::<anyhow::Result<_>>()?).await
    }

    pub async fn find_persons_by_passport(&self, normalised: &str) -> anyhow::Result<Vec<PersonRow>> {
        let rows =
            sqlx::query(&format!("SELECT {ROW_COLS} FROM persons WHERE passport_bidx = $1 ORDER BY id DESC LIMIT 50"))
                .bind(self.keys.blind(BlindKind::Passport, normalised))
                .fetch_all(self.db.pool())
                .await?;
        self.follow_merges(rows.into_iter().map(person_row).collect::<anyhow::Result<_>>()?).await
    }

    /// Look-ups lead to the living record: a record merged into another is replaced by that one (the merged
    /// record's numbers and code stay findable), each record once.
    async fn follow_merges(&self, rows: Vec<PersonRow>) -> anyhow::Result<Vec<PersonRow>> {
        let mut out: Vec<PersonRow> = Vec::with_capacity(rows.len());
        for mut p in rows {
            // Merges form chains at most as long as the records merged; stop at a generous bound.
            for _ in 0..16 {
                match p.merged_into.clone() {
                    Some(next) => match self.person(&next).await? {
                        Some(n) => p = n,
                        None => break,
                    },
                    None => break,
                }
            }
            if p.merged_into.is_none() && !out.iter().any(|o| o.id == p.id) {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// Who opened a person's identity or files, or changed them, newest first (for the agency head).
    pub async fn identity_views_of_person(&self, person_id: &str, limit: i64) -> anyhow::Result<Vec<ViewRow>> {
        Ok(sqlx::query_as(
            "SELECT at, actor_user_id, action, purpose FROM audit_log WHERE record_kind = $1 AND record_id = $2 \
             AND action IN ('person.view_identity', 'person.view_attachment', 'person.update', 'person.merge', \
             'person.add_relative', 'person.attach') \
             ORDER BY seq DESC LIMIT $3",
        )
        .bind(KIND)
        .bind(person_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?)
    }

    /// The records with these ids, in the order given (missing ones left out): one query.
    pub async fn persons_by_ids(&self, ids: &[String]) -> anyhow::Result<Vec<PersonRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = (1..=ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT {ROW_COLS} FROM persons WHERE id IN ({marks})");
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let mut rows =
            query.fetch_all(self.db.pool()).await?.into_iter().map(person_row).collect::<anyhow::Result<Vec<_>>>()?;
        rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
        Ok(rows)
    }

    pub async fn find_persons_by_case_code(&self, code: &str) -> anyhow::Result<Vec<PersonRow>> {
        let rows = sqlx::query(&format!("SELECT {ROW_COLS} FROM persons WHERE case_code = $1 LIMIT 50"))
            .bind(code.trim().to_uppercase())
            .fetch_all(self.db.pool())
            .await?;
        self.follow_merges(rows.into_iter().map(person_row).collect::<anyhow::Result<_>>()?).await
    }
}
