//! The demo province's plan for this year, in the shape of the provincial plan the product was built for: the
//! five law-enforcement indicators with their targets, victims received and supported, returnees screened,
//! absentees reviewed, campaign reach (700 women and students) and officials trained, plus one indicator
//! reported by hand; prevention activities held by the women's union and the communes since January, and two
//! training courses. `scale` multiplies the activities (for benchmarks). Deterministic, like the rest of the
//! demo.

use haven_domain::plan::{Frequency, Measure, Reach, Unit, CHANNELS, TRAINING_TOPICS};
use haven_domain::reports::indicators::IndicatorId;
use haven_domain::time::local_date;
use haven_store::plan::{self as store, NewActivity, NewIndicator, NewPrevention, NewTraining, Participant};
use haven_store::{Actor, Store};
use time::{Date, Duration, Month};

use crate::demo::{Names, Rng};
use haven_domain::person::Sex;

/// Organisers of prevention activities: the agency's user, its name as written on the record, and the
/// commune the activity is held in.
const ORGANISERS: [(&str, &str, &str); 4] = [
    ("women.officer", "Hội LHPN thành phố", "20242"),
    ("pc-tramy.officer", "UBND xã Trà My", "20900"),
    ("pc-namgiang.officer", "UBND xã Nam Giang", "20707"),
    ("pc-haichau.officer", "UBND phường Hải Châu", "20242"),
];

const TITLES: [&str; 5] = [
    "Nói chuyện về di cư an toàn cho học sinh",
    "Tuyên truyền phòng chống mua bán người qua loa truyền thanh",
    "Họp dân về thủ đoạn tuyển dụng việc làm ở nước ngoài",
    "Phát tờ rơi tại chợ phiên",
    "Thăm hỏi gia đình có người đi làm ăn xa",
];

/// An indicator of the demo plan: name, objective, measure, target (the catalogue's if none), frequency and
/// responsible agency.
type DemoIndicator<'a> = (&'a str, Option<&'a str>, Measure, Option<u64>, Frequency, &'a str);

pub async fn load(store: &Store, scale: u64) -> anyhow::Result<()> {
    let today = local_date(store.now()).ok_or_else(|| anyhow::anyhow!("clock out of range"))?;
    let year = today.year();
    let user = |name: &'static str| async move {
        store.user_by_name(name).await?.ok_or_else(|| anyhow::anyhow!("no demo user {name}"))
    };
    let actor_of = |u: &haven_store::accounts::User| Actor {
        user_id: u.id.clone(),
        agency_id: u.agency_id.clone(),
        request_id: "demo".into(),
    };
    let agency = |code: &'static str| async move {
        store.agency_by_code(code).await?.map(|a| a.id).ok_or_else(|| anyhow::anyhow!("no {code} agency"))
    };
    let (province, police, health, border, women) = (
        agency("province").await?,
        agency("police").await?,
        agency("health").await?,
        agency("border").await?,
        agency("women").await?,
    );

    // The plan, owned by the steering committee.
    let head = user("province.head").await?;
    let mut cmd = store.command(&actor_of(&head)).await?;
    let plan = store::create_plan(
        &mut cmd,
        &province,
        &format!("Kế hoạch hỗ trợ nạn nhân và phòng, chống mua bán người năm {year}"),
        year,
    )
    .await?;
    let prevent = store::add_objective(&mut cmd, &plan, "Phòng ngừa từ cộng đồng").await?;
    let enforce = store::add_objective(&mut cmd, &plan, "Đấu tranh, xử lý tội phạm").await?;
    let protect = store::add_objective(&mut cmd, &plan, "Tiếp nhận, bảo vệ và hỗ trợ nạn nhân").await?;
    let indicators: Vec<DemoIndicator> = vec![
        (
            "Tỷ lệ tin báo được tiếp nhận, phân loại",
            Some(&enforce),
            Measure::LawEnforcement(IndicatorId::ReceivedAndClassified),
            None,
            Frequency::Quarter,
            &police,
        ),
        (
            "Tỷ lệ giải quyết tố giác, tin báo, kiến nghị khởi tố",
            Some(&enforce),
            Measure::LawEnforcement(IndicatorId::SettlementRate),
            None,
            Frequency::Quarter,
            &police,
        ),
        (
            "Tỷ lệ điều tra, khám phá",
            Some(&enforce),
            Measure::LawEnforcement(IndicatorId::OffendersDiscovered),
            None,
            Frequency::Quarter,
            &police,
        ),
        (
            "Tỷ lệ truy tố",
            Some(&enforce),
            Measure::LawEnforcement(IndicatorId::Prosecuted),
            None,
            Frequency::Half,
            &police,
        ),
        ("Tỷ lệ xét xử", Some(&enforce), Measure::LawEnforcement(IndicatorId::Tried), None, Frequency::Half, &police),
        ("Nạn nhân được tiếp nhận", Some(&protect), Measure::VictimsReceived, None, Frequency::Quarter, &health),
        (
            "Nạn nhân được hưởng chế độ hỗ trợ",
            Some(&protect),
            Measure::VictimsSupported,
            None,
            Frequency::Quarter,
            &health,
        ),
        (
            "Công dân bị trao trả được sàng lọc",
            Some(&protect),
            Measure::ReturneesScreened,
            None,
            Frequency::Quarter,
            &border,
        ),
        (
            "Người vắng mặt dài ngày được rà soát",
            Some(&prevent),
            Measure::AbsenteesReviewed,
            Some(60),
            Frequency::Half,
            &province,
        ),
        (
            "Phụ nữ, học sinh được tuyên truyền",
            Some(&prevent),
            Measure::CampaignReach,
            Some(700),
            Frequency::Quarter,
            &women,
        ),
        ("Cán bộ được tập huấn", Some(&prevent), Measure::OfficialsTrained, Some(40), Frequency::Year, &health),
    ];
    for (name, objective, measure, target, frequency, responsible) in indicators {
        store::add_indicator(
            &mut cmd,
            &NewIndicator {
                plan_id: &plan,
                objective_id: objective,
                name,
                measure: Some(measure),
                unit: measure.unit(),
                definition: None,
                target: target.or(measure.default_target()),
                frequency,
                responsible_agency_id: responsible,
            },
        )
        .await?;
    }
    let press = store::add_indicator(
        &mut cmd,
        &NewIndicator {
            plan_id: &plan,
            objective_id: Some(&prevent),
            name: "Tin, bài trên báo và đài địa phương",
            measure: None,
            unit: Unit::Count,
            definition: Some("Tin, bài về phòng, chống mua bán người đăng trên báo và đài địa phương trong kỳ."),
            target: Some(24),
            frequency: Frequency::Quarter,
            responsible_agency_id: &women,
        },
    )
    .await?;
    for (title, objective, responsible, month) in [
        ("Tổ chức rà soát người vắng mặt dài ngày ở các xã", &prevent, &province, Month::June),
        ("Tập huấn kỹ năng nhận diện nạn nhân cho cán bộ xã", &prevent, &health, Month::September),
        ("Phối hợp tiếp nhận công dân bị trao trả tại cửa khẩu", &protect, &border, Month::December),
    ] {
        store::add_activity(
            &mut cmd,
            &NewActivity {
                plan_id: &plan,
                objective_id: Some(objective),
                title,
                responsible_agency_id: responsible,
                due_on: Date::from_calendar_date(year, month, 28).ok(),
            },
        )
        .await?;
    }
    cmd.commit().await?;

    // The women's union reports its press count for each quarter begun and ended.
    let women_officer = user("women.officer").await?;
    let ended: Vec<_> = haven_domain::plan::ReportPeriod::all_in(year, Frequency::Quarter)
        .into_iter()
        .filter(|q| q.range().to < today)
        .collect();
    if !ended.is_empty() {
        let mut cmd = store.command(&actor_of(&women_officer)).await?;
        for q in ended {
            store::record_entry(&mut cmd, &press, q, 5 + u64::from(q.index), None).await?;
        }
        cmd.commit().await?;
    }

    // Prevention activities since January, a few a month per organiser.
    let mut rng = Rng::new(0x504c_414e_0000_0001);
    let jan = Date::from_calendar_date(year, Month::January, 1)?;
    let days = (today - jan).whole_days().max(1) as u64;
    let per_organiser = (days / 20 + 1) * scale.max(1);
    for (username, organiser, commune) in ORGANISERS {
        let u = store.user_by_name(username).await?.ok_or_else(|| anyhow::anyhow!("no demo user {username}"))?;
        let mut cmd = store.command(&actor_of(&u)).await?;
        for _ in 0..per_organiser {
            let held_on = jan + Duration::days(rng.below(days) as i64);
            let title = *rng.pick(&TITLES);
            let channel = *rng.pick(CHANNELS);
            let women_n = 10 + rng.below(60);
            let men = rng.below(40);
            let mut groups = vec![("women".to_owned(), women_n)];
            if rng.chance(500) {
                groups.push(("students".to_owned(), (women_n + men) / 2));
            }
            if commune != "20242" {
                groups.push(("ethnic_minorities".to_owned(), (women_n + men) * 2 / 3));
            }
            store::add_prevention(
                &mut cmd,
                &u.agency_id,
                &NewPrevention {
                    title,
                    held_on,
                    commune_code: Some(commune),
                    organiser,
                    channel,
                    reach: &Reach { women: women_n, men, groups },
                    materials: rng.below(200),
                },
            )
            .await?;
        }
        cmd.commit().await?;
    }

    // Two training courses of the health department, with commune officials among the participants.
    let health_officer = user("health.officer").await?;
    let names = Names::load();
    let mut cmd = store.command(&actor_of(&health_officer)).await?;
    let communes = [agency("pc-tramy").await?, agency("pc-namgiang").await?, agency("pc-haichau").await?];
    for (i, topic) in TRAINING_TOPICS.iter().take(2).enumerate() {
        let starts = jan + Duration::days((days / 3) as i64 * i as i64);
        let ends = (starts + Duration::days(2)).min(today);
        let course = store::add_training(
            &mut cmd,
            &health,
            &NewTraining {
                title: if i == 0 {
                    "Pháp luật về phòng, chống mua bán người 2024"
                } else {
                    "Kỹ năng nhận diện nạn nhân"
                },
                topic,
                starts_on: starts.min(ends),
                ends_on: ends,
                trainers: "Giảng viên Sở Y tế và Công an thành phố",
            },
        )
        .await?;
        for n in 0..(8 * scale.max(1)) {
            let sex = if rng.chance(500) { Sex::Female } else { Sex::Male };
            let full_name = names.full_name(&mut rng, sex, false);
            let agency_id = &communes[(n % 3) as usize];
            store::add_participant(
                &mut cmd,
                &store.keys,
                &course,
                &Participant::Named { full_name: &full_name, agency_id },
                Some(&format!("TH-{year}-{:03}", i as u64 * 100 + n)),
            )
            .await?;
        }
    }
    cmd.commit().await?;
    Ok(())
}
