//! Victim-level exports for analysis outside Haven, in the shape of IOM's Human Trafficking Case Data
//! Standard (HTCDS) v2: only the victim cases whose person gave consent for statistics (valid on the day of
//! the export), pseudonymised. No name, birth date, ID number, contact, address, free text or exact date
//! leaves: the person is a keyed pseudonym, the age is in years at reception, events carry their type and
//! country only. Sealed fields are opened in memory to derive those values.

use haven_domain::victims::htcds;
use serde::Serialize;
use time::Date;

use crate::crypto::BlindKind;
use crate::plan::age_years;
use crate::reports::{day, parse_day};
use crate::Store;

/// A trafficking event of a case, as exported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HtcdsEvent {
    #[serde(rename = "hte_Type")]
    pub kind: String,
    #[serde(rename = "hte_Country")]
    pub country: String,
}

/// One victim case, serialised under the standard's field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HtcdsRecord {
    /// A keyed pseudonym of the case: stable across exports, meaningless without Haven's key.
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "prs_Gender")]
    pub gender: String,
    #[serde(rename = "prs_Citizenship")]
    pub citizenship: Vec<String>,
    #[serde(rename = "vic_AgeWhenTrafficked")]
    pub age: Option<i32>,
    #[serde(rename = "vic_TraffickingStatus")]
    pub status: String,
    #[serde(rename = "vic_TraffickingStatusDecisionMakingOrg")]
    pub decided_by: Option<String>,
    #[serde(rename = "vic_RelationshipToTrafficker")]
    pub relationship: Option<String>,
    #[serde(rename = "vic_MethodOfRecruitment")]
    pub recruitment: Vec<String>,
    #[serde(rename = "vic_MethodsOfControl")]
    pub control: Vec<String>,
    #[serde(rename = "vic_TypeOfExploitation")]
    pub exploitation: Vec<String>,
    #[serde(rename = "cas_Status")]
    pub case_status: String,
    pub hte: Vec<HtcdsEvent>,
}

/// The CSV columns, in order: the record's fields, multi-valued ones joined with `;` (as the standard's
/// Salesforce model writes multiselect picklists), and the events as `Type:Country` pairs joined with `;`.
pub const CSV_COLUMNS: [&str; 12] = [
    "Id",
    "prs_Gender",
    "prs_Citizenship",
    "vic_AgeWhenTrafficked",
    "vic_TraffickingStatus",
    "vic_TraffickingStatusDecisionMakingOrg",
    "vic_RelationshipToTrafficker",
    "vic_MethodOfRecruitment",
    "vic_MethodsOfControl",
    "vic_TypeOfExploitation",
    "cas_Status",
    "hte_TypeCountry",
];

impl HtcdsRecord {
    pub fn csv_row(&self) -> [String; 12] {
        [
            self.id.clone(),
            self.gender.clone(),
            self.citizenship.join(";"),
            self.age.map(|a| a.to_string()).unwrap_or_default(),
            self.status.clone(),
            self.decided_by.clone().unwrap_or_default(),
            self.relationship.clone().unwrap_or_default(),
            self.recruitment.join(";"),
            self.control.join(";"),
            self.exploitation.join(";"),
            self.case_status.clone(),
            self.hte.iter().map(|e| format!("{}:{}", e.kind, e.country)).collect::<Vec<_>>().join(";"),
        ]
    }
}

fn codes(s: Option<&str>) -> Vec<String> {
    s.unwrap_or_default().split_whitespace().map(str::to_owned).collect()
}

/// Whether a consent row allows statistics on a day: given by then, not expired, not withdrawn.
pub const CONSENT_FOR_STATISTICS: &str = "EXISTS (SELECT 1 FROM consents k WHERE k.person_id = v.person_id \
     AND k.purpose = 'statistics' AND k.given_on <= :today AND (k.expires_on IS NULL OR k.expires_on >= :today) \
     AND (k.withdrawn_on IS NULL OR k.withdrawn_on > :today))";

impl Store {
    /// The victim cases with consent for statistics on `today`, as HTCDS records.
    pub async fn htcds_records(&self, today: Date) -> anyhow::Result<Vec<HtcdsRecord>> {
        /// Case id, person id, status, received on, exploitation, control, recruitment, relationship, closing
        /// reason, deciding agency's kind, destination, the person's sealed sex, birth date, nationality, and
        /// the id of the person's group of linked records (the record's own when linked to none).
        type Row = (
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            Option<String>,
            Vec<u8>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
            String,
        );
        let sql = format!(
            "SELECT v.id, v.person_id, v.status, v.received_on, v.exploitation, v.control, v.recruitment, \
             v.relationship, v.closed_reason, g.kind, v.destination_country, p.sex, p.birth_date, p.nationality, \
             COALESCE(p.one_person_id, p.id) FROM victim_cases v JOIN persons p ON p.id = v.person_id JOIN agencies g ON g.id = v.owner_agency_id \
             WHERE {} ORDER BY v.id",
            CONSENT_FOR_STATISTICS.replace(":today", "$1")
        );
        let rows: Vec<Row> = sqlx::query_as(&sql).bind(day(today)).fetch_all(self.db.pool()).await?;
        let mut out: Vec<HtcdsRecord> = Vec::with_capacity(rows.len());
        // One record per person, whichever agencies hold their cases: the newest case (rows come oldest first).
        let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for row in rows {
            let (id, person, status, received, exploitation, control, recruitment, relationship, closed, kind) =
                (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9);
            let (country, sex, birth, nationality, one) = (row.10, row.11, row.12, row.13, row.14);
            let sex = self.keys.open("persons", "sex", &person, &sex)?;
            let birth = self.keys.open_opt("persons", "birth_date", &person, birth.as_deref())?;
            let nationality = self.keys.open_opt("persons", "nationality", &person, nationality.as_deref())?;
            let received = parse_day(&received);
            let age = received
                .and_then(|on| age_years(birth.as_deref().and_then(haven_domain::person::BirthDate::parse), on));
            let decided = matches!(status.as_str(), "identified" | "not_victim");
            let events: Vec<(String, String)> =
                sqlx::query_as("SELECT kind, country FROM trafficking_events WHERE case_id = $1 ORDER BY on_date, id")
                    .bind(&id)
                    .fetch_all(self.db.pool())
                    .await?;
            let mut hte: Vec<HtcdsEvent> =
                events.into_iter().map(|(kind, country)| HtcdsEvent { kind, country }).collect();
            // Without recorded events, the destination is where the person was exploited.
            if hte.is_empty() {
                if let Some(country) = country {
                    hte.push(HtcdsEvent { kind: "Exploitation".into(), country });
                }
            }
            let record = HtcdsRecord {
                id: self.keys.blind(BlindKind::Pseudonym, &one),
                gender: htcds::gender(&sex).to_owned(),
                citizenship: nationality.into_iter().filter(|n| htcds::is_country(n)).collect(),
                age,
                status: htcds::trafficking_status(&status).to_owned(),
                decided_by: decided.then(|| htcds::decision_org(&kind).to_owned()),
                relationship,
                recruitment: codes(recruitment.as_deref()),
                control: codes(control.as_deref()),
                exploitation: codes(exploitation.as_deref()),
                case_status: htcds::case_status(closed.as_deref()).to_owned(),
                hte,
            };
            match at.get(&one) {
                Some(i) => out[*i] = record,
                None => {
                    at.insert(one, out.len());
                    out.push(record);
                }
            }
        }
        Ok(out)
    }
}

/// The tables of the public statistics, by code.
pub const PUBLIC_TABLES: [&str; 3] = ["victims_age_sex", "victims_country_exploitation", "reach_group_channel"];

/// The column of the victims suffering several forms of exploitation.
pub const MULTIPLE_FORMS: &str = "multiple";

/// The public tables counting the same people (identified victims with consent): their grand totals are one
/// number, hidden in all when any must hide it.
const LINKED_TABLES: [&str; 2] = ["victims_age_sex", "victims_country_exploitation"];

/// A release as published, with when.
#[derive(Clone, Debug, Serialize)]
pub struct PublishedRelease {
    pub table_code: String,
    pub release: haven_domain::stats::Release,
    pub published_at: haven_domain::time::Millis,
}

impl Store {
    /// A public table's counts for a year, as of `today`. Victims are counted only when identified in the year
    /// and when the person's consent for statistics is valid today.
    pub async fn public_table(&self, code: &str, year: i32, today: Date) -> anyhow::Result<haven_domain::stats::Table> {
        use std::collections::BTreeMap;
        let (from, to) = (format!("{year:04}-01-01"), format!("{year:04}-12-31"));
        let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
        let (mut rows, mut cols): (Vec<String>, Vec<String>) = match code {
            "victims_age_sex" => (
                crate::plan::AGE_BANDS.iter().map(|b| (*b).to_owned()).collect(),
                vec!["f".into(), "m".into(), "u".into()],
            ),
            _ => (Vec::new(), Vec::new()),
        };
        match code {
            "victims_age_sex" | "victims_country_exploitation" => {
                type Row = (String, String, String, Option<String>, Option<String>, Vec<u8>, Option<Vec<u8>>, String);
                let sql = format!(
                    "SELECT v.id, v.person_id, v.received_on, v.destination_country, v.exploitation, p.sex, \
                     p.birth_date, COALESCE(p.one_person_id, p.id) FROM victim_cases v JOIN persons p ON p.id = v.person_id \
                     WHERE v.status = 'identified' AND v.identified_on BETWEEN $2 AND $3 AND {}",
                    CONSENT_FOR_STATISTICS.replace(":today", "$1")
                );
                let found: Vec<Row> =
                    sqlx::query_as(&sql).bind(day(today)).bind(&from).bind(&to).fetch_all(self.db.pool()).await?;
                // Each person once, even with two cases identified in the year, by two agencies.
                let mut seen = std::collections::HashSet::new();
                for (_, person, received, country, exploitation, sex, birth, one) in found {
                    if !seen.insert(one) {
                        continue;
                    }
                    if code == "victims_age_sex" {
                        let sex = self.keys.open("persons", "sex", &person, &sex)?;
                        let birth = self.keys.open_opt("persons", "birth_date", &person, birth.as_deref())?;
                        let on = parse_day(&received).unwrap_or(today);
                        let band = crate::plan::age_band(
                            birth.as_deref().and_then(haven_domain::person::BirthDate::parse),
                            on,
                        );
                        *counts.entry((band.to_owned(), sex)).or_default() += 1;
                    } else {
                        // One column per victim, so that totals count people: the form, or `multiple`.
                        let forms = codes(exploitation.as_deref());
                        let form = match &forms[..] {
                            [] => String::new(),
                            [one] => one.clone(),
                            _ => MULTIPLE_FORMS.to_owned(),
                        };
                        *counts.entry((country.unwrap_or_default(), form)).or_default() += 1;
                    }
                }
            }
            "reach_group_channel" => {
                let found: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT r.target_group, a.channel, CAST(SUM(r.participants) AS BIGINT) FROM prevention_reach r \
                     JOIN prevention_activities a ON a.id = r.activity_id WHERE a.held_on BETWEEN $1 AND $2 \
                     GROUP BY r.target_group, a.channel",
                )
                .bind(&from)
                .bind(&to)
                .fetch_all(self.db.pool())
                .await?;
                for (group, channel, n) in found {
                    *counts.entry((group, channel)).or_default() += n.max(0) as u64;
                }
            }
            other => anyhow::bail!("no public table {other}"),
        }
        for (r, c) in counts.keys() {
            if !rows.contains(r) {
                rows.push(r.clone());
            }
            if !cols.contains(c) {
                cols.push(c.clone());
            }
        }
        let counts = rows
            .iter()
            .map(|r| cols.iter().map(|c| counts.get(&(r.clone(), c.clone())).copied().unwrap_or(0)).collect())
            .collect();
        Ok(haven_domain::stats::Table { rows, cols, counts })
    }

    /// The latest release of each public table of a period, in the order of [`PUBLIC_TABLES`].
    pub async fn published(&self, period: &str) -> anyhow::Result<Vec<PublishedRelease>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT table_code, release, published_at FROM public_releases WHERE period = $1 \
             ORDER BY published_at DESC, id DESC",
        )
        .bind(period)
        .fetch_all(self.db.pool())
        .await?;
        let mut out = Vec::new();
        for code in PUBLIC_TABLES {
            if let Some((_, json, at)) = rows.iter().find(|(c, _, _)| c == code) {
                out.push(PublishedRelease {
                    table_code: code.to_owned(),
                    release: serde_json::from_str(json)?,
                    published_at: *at,
                });
            }
        }
        Ok(out)
    }

    /// The periods with a published release, newest first.
    pub async fn published_periods(&self) -> anyhow::Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT DISTINCT period FROM public_releases ORDER BY period DESC")
            .fetch_all(self.db.pool())
            .await?)
    }
}

/// Publish the public tables of a year: each released with small counts suppressed, keeping hidden what the
/// last release of the same year hid; the releases are kept, and the publication audited. Returns the
/// releases.
pub async fn publish(
    cmd: &mut crate::Command,
    store: &Store,
    year: i32,
    today: Date,
) -> anyhow::Result<Vec<haven_domain::stats::Release>> {
    use haven_domain::stats::{disclosed, release_linked, Cell, MIN_PUBLIC_COUNT};
    let period = year.to_string();
    let earlier = store.published(&period).await?;
    let previous = |code: &str| earlier.iter().find(|p| p.table_code == code).map(|p| &p.release);
    let mut tables = Vec::new();
    for code in PUBLIC_TABLES {
        tables.push(store.public_table(code, year, today).await?);
    }
    let mut out: Vec<_> = PUBLIC_TABLES
        .iter()
        .zip(&tables)
        .map(|(code, t)| release_linked(t, MIN_PUBLIC_COUNT, previous(code), false))
        .collect();
    let linked = |code: &str| LINKED_TABLES.contains(&code);
    let hide = PUBLIC_TABLES.iter().zip(&out).any(|(code, r)| linked(code) && r.total == Cell::Suppressed);
    if hide {
        for (i, code) in PUBLIC_TABLES.iter().enumerate() {
            if linked(code) && out[i].total != Cell::Suppressed {
                out[i] = release_linked(&tables[i], MIN_PUBLIC_COUNT, previous(code), true);
            }
        }
    }
    for ((code, table), release) in PUBLIC_TABLES.iter().zip(&tables).zip(&out) {
        // Checked again by another route before anything leaves: a release that discloses is never stored.
        let leaks = disclosed(table, release, previous(code));
        anyhow::ensure!(leaks.is_empty(), "the release of {code} would disclose {} values", leaks.len());
        sqlx::query(
            "INSERT INTO public_releases (id, period, table_code, release, published_by, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(crate::new_id())
        .bind(&period)
        .bind(code)
        .bind(serde_json::to_string(release)?)
        .bind(&cmd.actor.user_id)
        .bind(cmd.at)
        .execute(&mut *cmd.tx)
        .await?;
    }
    cmd.audit(crate::Entry::new("stats.publish", "public_statistics", &period).fields(&PUBLIC_TABLES)).await?;
    Ok(out)
}
