//! The people registers of the demo province: each commune's list of long-term absentees with a review round
//! half done, and handover batches received by the border guard at three gates, some of whose people are in
//! an absentee list under another spelling (given name first, no diacritics, the middle name dropped, day and
//! month swapped or only the year), as foreign lists write them. Matching proposes those pairs at once.
//! Deterministic, like the rest of the demo.

use haven_domain::person::{BirthDate, Identity};
use haven_domain::registers::absentees::Outcome;
use haven_domain::time::local_date;
use haven_store::registers::{self, NewAbsentee, NewBatch, NewReview};
use haven_store::{matches, persons, Actor, Store};
use time::{Date, Duration, Month};

use crate::demo::{Names, Rng};

const COMMUNES: [&str; 3] = ["pc-haichau", "pc-tramy", "pc-namgiang"];

/// Destinations families give for the absent, as they say them.
const DESTINATIONS: &[&str] = &[
    "Sang Campuchia làm việc theo lời rủ trên mạng",
    "Sang Trung Quốc, nói là đi lấy chồng",
    "Đi Lào làm thuê ở công trường",
    "Vào Thành phố Hồ Chí Minh làm công nhân, mất liên lạc",
    "Không rõ, đi cùng người quen trong xã",
];

/// A name as a foreign authority's list writes it: no diacritics, capitals, given name first, the middle name
/// sometimes dropped.
fn foreign_spelling(rng: &mut Rng, name: &str) -> String {
    let folded = haven_linkage::normalise::fold(name).to_uppercase();
    let parts: Vec<&str> = folded.split(' ').collect();
    match parts.as_slice() {
        [family, middle @ .., given] if !middle.is_empty() && rng.chance(400) => format!("{given} {family}"),
        [family, middle @ .., given] => format!("{given} {family} {}", middle.join(" ")).trim().to_owned(),
        _ => folded,
    }
}

/// A birth date as a foreign list writes it: day and month swapped where that reads as a date, or the year.
fn foreign_date(rng: &mut Rng, b: Option<BirthDate>) -> Option<BirthDate> {
    match b? {
        BirthDate::Full(d) if d.day() <= 12 && rng.chance(600) => {
            let month = Month::try_from(d.day()).ok()?;
            Date::from_calendar_date(d.year(), month, u8::from(d.month())).ok().map(BirthDate::Full)
        }
        BirthDate::Full(d) if rng.chance(300) => Some(BirthDate::Year(d.year())),
        b => Some(b),
    }
}

/// Load `per_commune` absentees in each commune's list and a few handover batches.
pub async fn load(store: &Store, per_commune: u64) -> anyhow::Result<()> {
    if per_commune == 0 {
        return Ok(());
    }
    let today = local_date(store.now()).ok_or_else(|| anyhow::anyhow!("clock out of range"))?;
    let names = Names::load();
    let mut rng = Rng::new(0x5245_4749_5354_0001);
    let user = |name: String| async move {
        store.user_by_name(&name).await?.ok_or_else(|| anyhow::anyhow!("no demo user {name}"))
    };
    let actor_of = |u: &haven_store::accounts::User| Actor {
        user_id: u.id.clone(),
        agency_id: u.agency_id.clone(),
        request_id: "demo".into(),
    };
    // The people a foreign authority may hand back: some of the absentees.
    let mut absent: Vec<Identity> = Vec::new();
    for code in COMMUNES {
        let agency = store.agency_by_code(code).await?.ok_or_else(|| anyhow::anyhow!("no {code} agency"))?;
        let commune = agency.unit_code.clone();
        let officer = user(format!("{code}.officer")).await?;
        let mut cmd = store.command(&actor_of(&officer)).await?;
        let round_start = Date::from_calendar_date(today.year(), Month::January, 1)?;
        let round_end = Date::from_calendar_date(today.year(), Month::June, 30)?;
        let round = registers::create_round(
            &mut cmd,
            &agency.id,
            &format!("Rà soát 6 tháng đầu năm {}", today.year()),
            round_start,
            round_end,
        )
        .await?;
        for _ in 0..per_commune {
            let mut who = crate::demo::person(&mut rng, &names, std::slice::from_ref(&commune), &[]);
            who.commune_code = Some(commune.clone());
            let person_id = persons::create(&mut cmd, &store.keys, &agency.id, &who).await?;
            let since = today - Duration::days(200 + rng.below(1500) as i64);
            let id = registers::add_absentee(
                &mut cmd,
                &store.keys,
                &agency.id,
                &person_id,
                &NewAbsentee {
                    commune_code: &commune,
                    absent_since: Some(if rng.chance(400) {
                        format!("{}", since.year())
                    } else {
                        BirthDate::Full(since).encode()
                    }),
                    destination: Some(*rng.pick(DESTINATIONS)),
                    contact: rng.chance(500).then_some("Gọi điện cho mẹ lần cuối qua Zalo"),
                    reported_by: Some(*rng.pick(&["Mẹ đẻ", "Trưởng thôn", "Vợ", "Anh trai", "Công an xã"])),
                    household: Some("Hộ gia đình tại thôn"),
                    note: None,
                },
                None,
            )
            .await?;
            matches::propose_for(&mut cmd, &store.keys, &person_id, matches::Signals::Unlimited).await?;
            // Half the list is reviewed in this year's first round.
            if round_end <= today && rng.chance(500) {
                let outcome = *rng.pick(&[
                    Outcome::AtHome,
                    Outcome::WorkingElsewhere,
                    Outcome::WorkingAbroad,
                    Outcome::Missing,
                    Outcome::Unknown,
                    Outcome::Returned,
                ]);
                let on = round_start + Duration::days(rng.below(170) as i64);
                if on >= since {
                    registers::record_review(
                        &mut cmd,
                        &store.keys,
                        &NewReview {
                            absentee_id: &id,
                            round_id: &round,
                            outcome: outcome.code(),
                            on,
                            note: None,
                            victim_case_id: None,
                        },
                    )
                    .await?;
                }
            }
            if rng.chance(250) {
                absent.push(who);
            }
        }
        cmd.commit().await?;
    }

    // Handover batches at three gates; a third of each batch is on an absentee list under another spelling.
    let (communes, _) = crate::demo::communes(store).await?;
    let border = store.agency_by_code("border").await?.ok_or_else(|| anyhow::anyhow!("no border agency"))?;
    let officer = user("border.officer".into()).await?;
    let batches = [
        ("moc_bai", "KH", "Cảnh sát tỉnh Svay Rieng, Vương quốc Campuchia"),
        ("nam_giang", "LA", "Công an tỉnh Sê Kông, CHDCND Lào"),
        ("huu_nghi", "CN", "Cục Quản lý xuất nhập cảnh Quảng Tây, Trung Quốc"),
    ];
    let per_batch = (per_commune / 2).clamp(3, 40);
    for (n, (gate, country, authority)) in batches.iter().enumerate() {
        let mut cmd = store.command(&actor_of(&officer)).await?;
        let batch = registers::create_batch(
            &mut cmd,
            &store.keys,
            &border.id,
            &NewBatch { handed_on: today - Duration::days(20 + 45 * n as i64), gate, country, authority, note: None },
        )
        .await?;
        for _ in 0..per_batch {
            let who = match absent.pop() {
                Some(known) if rng.chance(400) => Identity {
                    full_name: foreign_spelling(&mut rng, &known.full_name),
                    birth_date: foreign_date(&mut rng, known.birth_date),
                    id_number: None,
                    phone: None,
                    address: String::new(),
                    commune_code: None,
                    ..known
                },
                _ => {
                    let mut who = crate::demo::person(&mut rng, &names, &communes, &[]);
                    who.commune_code = None;
                    who
                }
            };
            let person_id = persons::create(&mut cmd, &store.keys, &border.id, &who).await?;
            registers::add_returnee(&mut cmd, &batch, &border.id, &person_id, None).await?;
            matches::propose_for(&mut cmd, &store.keys, &person_id, matches::Signals::Unlimited).await?;
        }
        cmd.commit().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_lists_spell_names_and_dates_otherwise() {
        let mut rng = Rng::new(7);
        for _ in 0..20 {
            let s = foreign_spelling(&mut rng, "Nguyễn Thị Hoà");
            assert!(s == "HOA NGUYEN THI" || s == "HOA NGUYEN", "{s}");
        }
        let d = BirthDate::Full(time::macros::date!(1998 - 03 - 05));
        let seen: Vec<_> = (0..50).filter_map(|_| foreign_date(&mut rng, Some(d))).collect();
        assert!(seen.contains(&BirthDate::Full(time::macros::date!(1998 - 05 - 03))));
        assert!(seen.contains(&BirthDate::Year(1998)) && seen.contains(&d));
    }
}
