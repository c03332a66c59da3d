//! Administrative units and agencies: loaded from the profile, read by everyone, edited by administrators.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use haven_domain::profile::{AgencyDef, Unit};
use serde::Serialize;

use crate::db::RowExt;
use crate::{new_id, Command, Entry, Store};

#[derive(Clone, Debug, Serialize)]
pub struct Agency {
    pub id: String,
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub kind: String,
    pub level: String,
    pub functions: String,
    pub unit_code: String,
    pub active: bool,
}

/// Directory data read on every page, kept in memory. Unit names change only when a profile is loaded; the
/// agency list is re-read after AGENCY_TTL so that other servers' changes show up (this server's own changes
/// clear it at once).
/// (code, name) of each commune of a province, in name order.
type Communes = Vec<(String, String)>;

#[derive(Default)]
pub struct Cache {
    units: RwLock<Option<Arc<HashMap<String, String>>>>,
    /// The communes of a province, in name order, as every form with a place lists them.
    communes: RwLock<HashMap<String, Arc<Communes>>>,
    agencies: RwLock<Option<(Instant, Arc<Vec<Agency>>)>>,
    /// Person counts per agency for the home page: counting a large agency's records takes tens of
    /// milliseconds, and the card does not need to be exact to the second.
    pub(crate) person_counts: RwLock<HashMap<String, (Instant, i64)>>,
}

/// How long a cached count or agency list may be served.
pub(crate) const COUNT_TTL: Duration = Duration::from_secs(30);

const AGENCY_TTL: Duration = Duration::from_secs(30);

impl Cache {
    /// Forget everything, after this process changed the directory.
    pub(crate) fn clear(&self) {
        self.clear_agencies();
        self.clear_units();
    }
    pub(crate) fn clear_counts(&self) {
        if let Ok(mut c) = self.person_counts.write() {
            c.clear();
        }
    }
    fn clear_agencies(&self) {
        if let Ok(mut a) = self.agencies.write() {
            *a = None;
        }
    }
    fn clear_units(&self) {
        if let Ok(mut u) = self.units.write() {
            *u = None;
        }
        if let Ok(mut c) = self.communes.write() {
            c.clear();
        }
    }
}

const AGENCY_COLS: &str = "id, code, name_vi, name_en, kind, level, functions, unit_code, active";

fn agency(r: crate::db::Row) -> anyhow::Result<Agency> {
    Ok(Agency {
        id: r.try_get(0)?,
        code: r.try_get(1)?,
        name_vi: r.try_get(2)?,
        name_en: r.try_get(3)?,
        kind: r.try_get(4)?,
        level: r.try_get(5)?,
        functions: r.try_get(6)?,
        unit_code: r.try_get(7)?,
        active: r.try_get::<i64, _>(8)? != 0,
    })
}

/// Load units that are not there yet (a profile update adds, never deletes: old records keep their codes).
pub async fn load_units(cmd: &mut Command, units: &[Unit]) -> anyhow::Result<usize> {
    let mut added = 0;
    for u in units {
        let exists: Option<String> = sqlx::query_scalar("SELECT code FROM admin_units WHERE code = $1")
            .bind(&u.code)
            .fetch_optional(&mut *cmd.tx)
            .await?;
        if exists.is_none() {
            sqlx::query(
                "INSERT INTO admin_units (code, name, level, unit_type, parent_code) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&u.code)
            .bind(&u.name)
            .bind(u.level)
            .bind(&u.unit_type)
            .bind(&u.parent_code)
            .execute(&mut *cmd.tx)
            .await?;
            added += 1;
        }
    }
    if added > 0 {
        cmd.directory_changed = true;
        cmd.audit(Entry::new("units.load", "admin_units", &added.to_string())).await?;
    }
    Ok(added)
}

/// Create an agency; returns its id.
pub async fn create_agency(cmd: &mut Command, a: &AgencyDef) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO agencies (id, code, name_vi, name_en, kind, level, functions, unit_code, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
    )
    .bind(&id)
    .bind(&a.code)
    .bind(&a.name_vi)
    .bind(&a.name_en)
    .bind(&a.kind)
    .bind(&a.level)
    .bind(a.functions.join(";"))
    .bind(&a.unit_code)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.directory_changed = true;
    cmd.audit(Entry::new("agency.create", "agency", &id).fields(&[
        "code",
        "name_vi",
        "name_en",
        "kind",
        "level",
        "functions",
        "unit_code",
    ]))
    .await?;
    Ok(id)
}

pub async fn set_agency_active(cmd: &mut Command, id: &str, active: bool) -> anyhow::Result<()> {
    sqlx::query("UPDATE agencies SET active = $1 WHERE id = $2")
        .bind(i64::from(active))
        .bind(id)
        .execute(&mut *cmd.tx)
        .await?;
    cmd.directory_changed = true;
    cmd.audit(Entry::new(if active { "agency.enable" } else { "agency.disable" }, "agency", id).fields(&["active"]))
        .await
}

impl Store {
    pub async fn agencies(&self) -> anyhow::Result<Arc<Vec<Agency>>> {
        if let Ok(guard) = self.cache.agencies.read() {
            if let Some((at, list)) = guard.as_ref() {
                if at.elapsed() < AGENCY_TTL {
                    return Ok(list.clone());
                }
            }
        }
        let rows = sqlx::query(&format!("SELECT {AGENCY_COLS} FROM agencies ORDER BY level DESC, code"))
            .fetch_all(self.db.pool())
            .await?;
        let list = Arc::new(rows.into_iter().map(agency).collect::<anyhow::Result<Vec<_>>>()?);
        if let Ok(mut guard) = self.cache.agencies.write() {
            *guard = Some((Instant::now(), list.clone()));
        }
        Ok(list)
    }

    pub async fn agency(&self, id: &str) -> anyhow::Result<Option<Agency>> {
        Ok(self.agencies().await?.iter().find(|a| a.id == id).cloned())
    }

    pub async fn agency_by_code(&self, code: &str) -> anyhow::Result<Option<Agency>> {
        let row = sqlx::query(&format!("SELECT {AGENCY_COLS} FROM agencies WHERE code = $1"))
            .bind(code)
            .fetch_optional(self.db.pool())
            .await?;
        row.map(agency).transpose()
    }

    /// Communes (code, name) under a province, by name.
    pub async fn communes(&self, province: &str) -> anyhow::Result<Vec<(String, String)>> {
        if let Some(c) = self.cache.communes.read().ok().and_then(|g| g.get(province).cloned()) {
            return Ok(c.as_ref().clone());
        }
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT code, name FROM admin_units WHERE parent_code = $1 ORDER BY name")
                .bind(province)
                .fetch_all(self.db.pool())
                .await?;
        if let Ok(mut g) = self.cache.communes.write() {
            g.insert(province.to_owned(), Arc::new(rows.clone()));
        }
        Ok(rows)
    }

    pub async fn unit_name(&self, code: &str) -> anyhow::Result<Option<String>> {
        Ok(self.all_unit_names().await?.get(code).cloned())
    }

    /// Names of the given units, for rendering a list without one query per row.
    pub async fn unit_names(&self, codes: &[&str]) -> anyhow::Result<HashMap<String, String>> {
        let all = self.all_unit_names().await?;
        Ok(codes.iter().filter_map(|c| all.get(*c).map(|n| ((*c).to_owned(), n.clone()))).collect())
    }

    async fn all_unit_names(&self) -> anyhow::Result<Arc<HashMap<String, String>>> {
        if let Ok(guard) = self.cache.units.read() {
            if let Some(all) = guard.as_ref() {
                return Ok(all.clone());
            }
        }
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT code, name FROM admin_units").fetch_all(self.db.pool()).await?;
        let all = Arc::new(rows.into_iter().collect::<HashMap<_, _>>());
        if let Ok(mut guard) = self.cache.units.write() {
            *guard = Some(all.clone());
        }
        Ok(all)
    }

    pub async fn unit_exists(&self, code: &str) -> anyhow::Result<bool> {
        Ok(self.unit_name(code).await?.is_some())
    }
}
