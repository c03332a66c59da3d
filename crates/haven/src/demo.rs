//! The demo province: Da Nang city's administrative units, its agencies, one account per role, and
//! deterministic, realistic person records (Vietnamese names with diacritics in family-middle-given order and
//! realistic surname shares, ID numbers, phones, communes). The same `--scale` always gives the same people.

use haven_domain::person::{BirthDate, IdNumber, Identity, Sex};
use haven_domain::profile::{parse_agencies, parse_units, AgencyDef};
use haven_domain::Role;
use haven_store::accounts::{self, NewUser};
use haven_store::{directory, persons, Actor, Store};
use time::{Date, Month};

pub const PROVINCE: &str = "48";
const UNITS: &str = include_str!("../../../profiles/vn/admin-units.csv");
const AGENCIES: &str = include_str!("../../../profiles/vn/demo/agencies.csv");
const NAMES: &str = include_str!("../../../profiles/vn/demo/names.txt");

/// SplitMix64: a tiny generator written here so the demo stays identical across dependency upgrades
/// (general-purpose RNG crates do not promise stable streams across versions).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// Name lists parsed from the profile.
pub struct Names {
    surnames: Vec<(String, u64)>,
    total_weight: u64,
    ethnic: Vec<String>,
    middle_f: Vec<String>,
    middle_m: Vec<String>,
    given_f: Vec<String>,
    given_m: Vec<String>,
}

impl Names {
    pub fn load() -> Names {
        let mut n = Names {
            surnames: Vec::new(),
            total_weight: 0,
            ethnic: Vec::new(),
            middle_f: Vec::new(),
            middle_m: Vec::new(),
            given_f: Vec::new(),
            given_m: Vec::new(),
        };
        let mut section = "";
        for line in NAMES.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            if line.starts_with('[') {
                section = line.trim_matches(['[', ']']);
                continue;
            }
            match section {
                "surnames" => {
                    let (name, w) = line.rsplit_once(' ').unwrap_or((line, "1"));
                    let w: u64 = w.parse().unwrap_or(1);
                    n.total_weight += w;
                    n.surnames.push((name.to_owned(), w));
                }
                "ethnic" => n.ethnic.push(line.to_owned()),
                "middle_f" => n.middle_f.push(line.to_owned()),
                "middle_m" => n.middle_m.push(line.to_owned()),
                "given_f" => n.given_f.push(line.to_owned()),
                "given_m" => n.given_m.push(line.to_owned()),
                _ => {}
            }
        }
        n
    }

    fn surname(&self, rng: &mut Rng) -> &str {
        let mut x = rng.below(self.total_weight);
        for (name, w) in &self.surnames {
            if x < *w {
                return name;
            }
            x -= w;
        }
        &self.surnames[0].0
    }

    /// A full name in family-middle-given order.
    pub fn full_name(&self, rng: &mut Rng, sex: Sex, ethnic_minority: bool) -> String {
        let (middle, given) = match sex {
            Sex::Female => (&self.middle_f, &self.given_f),
            _ => (&self.middle_m, &self.given_m),
        };
        if ethnic_minority {
            format!("{} {}", rng.pick(&self.ethnic), rng.pick(given))
        } else {
            format!("{} {} {}", self.surname(rng), rng.pick(middle), rng.pick(given))
        }
    }
}

/// One generated person, before encryption.
pub fn person(rng: &mut Rng, names: &Names, communes: &[String], mountain: &[String]) -> Identity {
    // Recent years: men are a growing share of victims (scam compounds); keep it near 40%.
    let sex = if rng.chance(400) { Sex::Male } else { Sex::Female };
    let commune = if rng.chance(250) && !mountain.is_empty() { rng.pick(mountain) } else { rng.pick(communes) }.clone();
    let ethnic = mountain.contains(&commune) && rng.chance(600);
    let year = 1965 + rng.below(45) as i32;
    let birth = if rng.chance(200) {
        BirthDate::Year(year)
    } else {
        let month = Month::try_from(1 + rng.below(12) as u8).unwrap_or(Month::January);
        let day = 1 + rng.below(28) as u8;
        BirthDate::Full(Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN))
    };
    let id_number = if rng.chance(850) {
        // Citizen ID: province of birth (048 Da Nang, 049 former Quang Nam), century-and-sex digit, year, serial.
        let century_sex = match (year >= 2000, sex) {
            (false, Sex::Male) => 0,
            (false, _) => 1,
            (true, Sex::Male) => 2,
            (true, _) => 3,
        };
        let province = if rng.chance(500) { "048" } else { "049" };
        IdNumber::parse(&format!("{province}{century_sex}{:02}{:06}", year % 100, rng.below(1_000_000)))
    } else if rng.chance(500) {
        IdNumber::parse(&format!("20{:07}", rng.below(10_000_000)))
    } else {
        None
    };
    let phone = rng.chance(700).then(|| {
        let prefix = *rng.pick(&["090", "091", "093", "097", "098", "032", "035", "077", "083", "086"]);
        format!("{prefix}{:07}", rng.below(10_000_000))
    });
    let address = format!("Thôn {}", 1 + rng.below(12));
    // The mountain communes of the former Quang Nam are home to the Cơ Tu, Xơ Đăng and Giẻ Triêng; some older
    // people there need an interpreter.
    let ethnicity = if ethnic { *rng.pick(&["Cơ Tu", "Xơ Đăng", "Giẻ Triêng"]) } else { "Kinh" };
    let interpreter = ethnic && year < 1975 && rng.chance(400);
    Identity {
        full_name: names.full_name(rng, sex, ethnic),
        birth_date: Some(birth),
        sex,
        id_number,
        phone,
        address,
        commune_code: Some(commune),
        other_names: Vec::new(),
        ethnicity: Some(ethnicity.to_owned()),
        nationality: Some("VN".to_owned()),
        passport: None,
        language: ethnic.then(|| format!("Tiếng {ethnicity}")),
        interpreter,
    }
}

/// A demo account: user name, display name, agency code, roles.
pub struct DemoAccount {
    pub username: String,
    pub display: String,
    pub agency: String,
    pub roles: Vec<Role>,
}

/// Every demo account: `admin`, then `<agency>.<role>`, each with a generated Vietnamese name.
pub fn accounts(agencies: &[AgencyDef]) -> Vec<DemoAccount> {
    let names = Names::load();
    let mut rng = Rng::new(0x5553_4552_5300_0001);
    let person = |rng: &mut Rng| {
        let sex = if rng.chance(500) { Sex::Female } else { Sex::Male };
        names.full_name(rng, sex, false)
    };
    let mut out = vec![DemoAccount {
        username: "admin".into(),
        display: person(&mut rng),
        agency: "province".into(),
        roles: vec![Role::SystemAdmin],
    }];
    for a in agencies {
        let roles: &[Role] = if a.code == "province" {
            &[Role::AgencyHead, Role::Analyst, Role::Auditor]
        } else {
            &[Role::AgencyHead, Role::CaseOfficer, Role::DataClerk]
        };
        for r in roles {
            out.push(DemoAccount {
                username: format!("{}.{}", a.code, r.code()),
                display: person(&mut rng),
                agency: a.code.clone(),
                roles: vec![*r],
            });
        }
    }
    out
}

pub fn agency_defs() -> anyhow::Result<Vec<AgencyDef>> {
    parse_agencies(AGENCIES).map_err(|e| anyhow::anyhow!("demo agencies: {e}"))
}

/// How many reports a demo of `scale` persons gets: a province's year is a few hundred; benchmarks scale up.
pub fn reports_for(scale: u64) -> u64 {
    (scale / 10).clamp(if scale == 0 { 0 } else { 20 }, 1_000_000)
}

/// Load the demo province into an empty database. Returns false when data was already there.
pub async fn load(store: &Store, password: &str, scale: u64) -> anyhow::Result<bool> {
    load_with(store, password, scale, reports_for(scale)).await
}

/// Load the demo with a chosen number of persons and of reports (tests choose none of the latter).
pub async fn load_with(store: &Store, password: &str, scale: u64, report_count: u64) -> anyhow::Result<bool> {
    if !store.agencies().await?.is_empty() {
        return Ok(false);
    }
    let actor = Actor::system("demo");
    let units = parse_units(UNITS, &[]).map_err(|e| anyhow::anyhow!("admin units: {e}"))?;
    let defs = agency_defs()?;
    let hash = accounts::hash_password(password.to_owned()).await?;
    let mut cmd = store.command(&actor).await?;
    directory::load_units(&mut cmd, &units).await?;
    for a in &defs {
        directory::create_agency(&mut cmd, a).await?;
    }
    cmd.commit().await?;
    let agencies = store.agencies().await?;
    let id_of = |code: &str| agencies.iter().find(|a| a.code == code).map(|a| a.id.clone()).unwrap_or_default();
    let mut cmd = store.command(&actor).await?;
    for acc in accounts(&defs) {
        accounts::create_user(
            &mut cmd,
            &NewUser {
                username: &acc.username,
                display_name: &acc.display,
                agency_id: &id_of(&acc.agency),
                roles: &acc.roles,
                password_hash: &hash,
            },
        )
        .await?;
    }
    cmd.set_setting("demo", "1").await?;
    cmd.commit().await?;
    load_persons(store, scale).await?;
    crate::demo_reports::load(store, report_count).await?;
    // A province sees far fewer victims than reports: one case for every eight reports, at most 5,000.
    crate::demo_victims::load(store, (report_count / 8).min(5_000)).await?;
    // Each commune keeps its absentee list; the border guard has received a few handover batches.
    crate::demo_registers::load(store, (report_count / 10).min(2_000)).await?;
    // This year's plan, its prevention activities and training courses; more of them at benchmark scale.
    crate::demo_plan::load(store, (report_count / 200).max(1)).await?;
    // The border guards' verification and repatriation requests abroad, and foreign affairs' incoming ones.
    crate::demo_cooperation::load(store, (report_count / 20).min(60) as usize).await?;
    Ok(true)
}

/// The communes of the demo province, and those in the mountains (the former Quang Nam's western districts).
pub async fn communes(store: &Store) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let all = store.communes(PROVINCE).await?;
    let mountain_names = [
        "Trà",
        "Nam Giang",
        "Tây Giang",
        "Đông Giang",
        "Phước",
        "La Dêê",
        "La Êê",
        "Sông Kôn",
        "Avương",
        "Bến Giằng",
        "Đắc Pring",
        "Khâm Đức",
    ];
    let mountain =
        all.iter().filter(|(_, n)| mountain_names.iter().any(|m| n.contains(m))).map(|(c, _)| c.clone()).collect();
    Ok((all.into_iter().map(|(c, _)| c).collect(), mountain))
}

/// Generate `scale` persons spread over the agencies that hold person records, in batches of one
/// transaction each (every record still gets its own audit entry).
pub async fn load_persons(store: &Store, scale: u64) -> anyhow::Result<()> {
    const BATCH: u64 = 500;
    let names = Names::load();
    let (communes, mountain) = communes(store).await?;
    let owners: Vec<(String, u64)> = {
        let agencies = store.agencies().await?;
        let weight = |kind: &str| match kind {
            "police" => 30,
            "social_support" => 20,
            "border_guard" => 15,
            "commune_committee" => 8,
            "shelter" => 6,
            "womens_union" => 3,
            _ => 0,
        };
        agencies.iter().map(|a| (a.id.clone(), weight(&a.kind))).filter(|(_, w)| *w > 0).collect()
    };
    let total: u64 = owners.iter().map(|(_, w)| w).sum();
    let mut rng = Rng::new(0x4841_5645_4E00_0001);
    let mut done = 0;
    while done < scale {
        let n = BATCH.min(scale - done);
        let mut cmd = store.command(&Actor::system("demo")).await?;
        for _ in 0..n {
            let mut x = rng.below(total);
            let owner = owners
                .iter()
                .find(|(_, w)| {
                    if x < *w {
                        true
                    } else {
                        x -= w;
                        false
                    }
                })
                .map(|(id, _)| id.as_str())
                .unwrap_or_default();
            let who = person(&mut rng, &names, &communes, &mountain);
            persons::create(&mut cmd, &store.keys, owner, &who).await?;
        }
        cmd.commit().await?;
        done += n;
        if scale >= 10_000 && done % 50_000 < BATCH {
            tracing::info!(done, scale, "demo persons");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_plausible() {
        let names = Names::load();
        let communes = vec!["20242".to_owned(), "20900".to_owned()];
        let gen = |seed, mountain: &[String]| {
            let mut rng = Rng::new(seed);
            (0..2000).map(|_| person(&mut rng, &names, &communes, mountain)).collect::<Vec<_>>()
        };
        let lowland = gen(7, &[]);
        assert_eq!(lowland, gen(7, &[]), "same seed, same people");
        assert_ne!(lowland, gen(8, &[]));
        let nguyen = lowland.iter().filter(|p| p.full_name.starts_with("Nguyễn ")).count();
        assert!((720..=900).contains(&nguyen), "Nguyễn is about 40% of Kinh names, got {nguyen}");
        assert!(lowland.iter().all(|p| p.full_name.split(' ').count() == 3), "family, middle, given");
        assert!(lowland.iter().filter_map(|p| p.id_number.as_ref()).all(|n| [9, 12].contains(&n.as_str().len())));
        let women = lowland.iter().filter(|p| p.sex == Sex::Female).count();
        assert!((1100..1300).contains(&women), "{women}");
        assert!(lowland.iter().any(|p| p.full_name.contains('ễ')), "diacritics kept");
        // Mountain communes bring ethnic-minority names, and only there.
        let mixed = gen(7, &["20900".to_owned()]);
        // Family names that are never Kinh (the list also holds Kinh-looking ones such as "Hồ Văn").
        let distinct = ["Alăng ", "Bhling ", "Bh'riu ", "Clâu ", "Riah ", "Hốih ", "Coor ", "Zơ Râm ", "Pơ Loong "];
        let ethnic: Vec<_> = mixed.iter().filter(|p| distinct.iter().any(|e| p.full_name.starts_with(e))).collect();
        assert!(ethnic.len() > 100, "{}", ethnic.len());
        assert!(ethnic.iter().all(|p| p.commune_code.as_deref() == Some("20900")));
    }

    #[test]
    fn demo_accounts_follow_the_naming_rule() {
        let accs = accounts(&agency_defs().expect("agencies"));
        let names: Vec<_> = accs.iter().map(|a| a.username.as_str()).collect();
        for n in ["admin", "police.officer", "health.head", "border.officer", "province.analyst", "province.auditor"] {
            assert!(names.contains(&n), "{n}");
        }
        assert!(accs.iter().all(|a| haven_domain::account::valid_username(&a.username)));
    }
}
