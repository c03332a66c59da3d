//! Administrative units and agencies: loaded from the profile, read by everyone, edited by administrators.

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
    cmd.audit(Entry::new(if active { "agency.enable" } else { "agency.disable" }, "agency", id).fields(&["active"]))
        .await
}

impl Store {
    pub async fn agencies(&self) -> anyhow::Result<Vec<Agency>> {
        let rows = sqlx::query(&format!("SELECT {AGENCY_COLS} FROM agencies ORDER BY level DESC, code"))
            .fetch_all(self.db.pool())
            .await?;
        rows.into_iter().map(agency).collect()
    }

    pub async fn agency(&self, id: &str) -> anyhow::Result<Option<Agency>> {
        let row = sqlx::query(&format!("SELECT {AGENCY_COLS} FROM agencies WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.map(agency).transpose()
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
        Ok(sqlx::query_as("SELECT code, name FROM admin_units WHERE parent_code = $1 ORDER BY name")
            .bind(province)
            .fetch_all(self.db.pool())
            .await?)
    }

    pub async fn unit_name(&self, code: &str) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT name FROM admin_units WHERE code = $1")
            .bind(code)
            .fetch_optional(self.db.pool())
            .await?)
    }

    /// Names of the given units, for rendering a list without one query per row.
    pub async fn unit_names(&self, codes: &[&str]) -> anyhow::Result<std::collections::HashMap<String, String>> {
        let mut codes: Vec<&str> = codes.to_vec();
        codes.sort_unstable();
        codes.dedup();
        let mut out = std::collections::HashMap::new();
        for chunk in codes.chunks(100) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("SELECT code, name FROM admin_units WHERE code IN ({})", marks.join(", "));
            let mut q = sqlx::query_as::<_, (String, String)>(&sql);
            for c in chunk {
                q = q.bind(*c);
            }
            out.extend(q.fetch_all(self.db.pool()).await?);
        }
        Ok(out)
    }

    pub async fn unit_exists(&self, code: &str) -> anyhow::Result<bool> {
        Ok(self.unit_name(code).await?.is_some())
    }
}
