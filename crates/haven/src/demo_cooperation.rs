//! The demo's international cooperation: the border guards ask the authorities of the country a victim came
//! back from to verify their identity or nationality, or to arrange repatriation; most requests are
//! answered, some still await an answer and a few are overdue. Foreign affairs receives requests for
//! information from Viet Nam's missions abroad. Deterministic, like the rest of the demo.

use haven_domain::cooperation::default_days;
use haven_domain::time::local_date;
use haven_store::cooperation::{self as store, NewRequest};
use haven_store::reports::parse_day;
use haven_store::{Actor, Store};
use time::Duration;

use crate::demo::Rng;

/// Countries victims come back from, with the authority a border post writes to and Viet Nam's mission there.
const COUNTERPARTS: [(&str, &str, &str); 4] = [
    ("KH", "Cơ quan xuất nhập cảnh tỉnh giáp biên (Campuchia)", "Đại sứ quán Việt Nam tại Campuchia"),
    ("LA", "Công an tỉnh giáp biên (Lào)", "Tổng Lãnh sự quán Việt Nam tại Lào"),
    ("CN", "Cục Quản lý xuất nhập cảnh tỉnh giáp biên (Trung Quốc)", "Tổng Lãnh sự quán Việt Nam tại Trung Quốc"),
    ("MM", "Cảnh sát quốc gia Myanmar", "Đại sứ quán Việt Nam tại Myanmar"),
];

const KINDS: [&str; 3] = ["nationality_verification", "identity_verification", "repatriation"];

/// Up to `count` requests by the border guards for their victim cases, and a few received by foreign affairs.
pub async fn load(store: &Store, count: usize) -> anyhow::Result<()> {
    let today = local_date(store.now()).ok_or_else(|| anyhow::anyhow!("clock out of range"))?;
    let mut rng = Rng::new(0x00C0_0BE2_A710);
    for (agency_code, user_name) in [("border", "border.officer"), ("foreign", "foreign.officer")] {
        let agency = store.agency_by_code(agency_code).await?.ok_or_else(|| anyhow::anyhow!("no {agency_code}"))?;
        let user = store.user_by_name(user_name).await?.ok_or_else(|| anyhow::anyhow!("no demo user {user_name}"))?;
        let actor = Actor { user_id: user.id.clone(), agency_id: agency.id.clone(), request_id: "demo".into() };
        if agency_code == "border" {
            for (n, case) in store.victim_cases_of_agency(&agency.id, count as i64).await?.into_iter().enumerate() {
                let Some(received) = parse_day(&case.received_on) else { continue };
                let sent_on = received + Duration::days(1 + rng.below(5) as i64);
                if sent_on > today {
                    continue;
                }
                let (country, authority, mission) = *rng.pick(&COUNTERPARTS);
                let kind = *rng.pick(&KINDS);
                let to_mission = kind == "repatriation";
                let reference = format!("{}/BĐBP-PCMT", 100 + n);
                let request = NewRequest {
                    direction: "outgoing",
                    kind,
                    counterpart_kind: if to_mission { "overseas_mission" } else { "foreign_authority" },
                    country,
                    counterpart: if to_mission { mission } else { authority },
                    reference: Some(&reference),
                    sent_on,
                    due_on: sent_on + Duration::days(default_days(kind)),
                    person_id: Some(&case.person_id),
                    victim_case_id: Some(&case.id),
                    criminal_case_id: None,
                    summary: Some("Đề nghị xác minh nhân thân, quốc tịch của công dân được tiếp nhận qua cửa khẩu."),
                };
                let mut cmd = store.command(&actor).await?;
                let id = store::create(&mut cmd, &store.keys, &agency.id, &request).await?;
                // Most answered, within two to seven weeks; a few never are.
                let answered_on = sent_on + Duration::days(14 + rng.below(35) as i64);
                if rng.chance(850) && answered_on <= today {
                    let outcome = if rng.chance(850) { "confirmed" } else { "not_confirmed" };
                    store::answer(&mut cmd, &store.keys, &id, answered_on, outcome, None).await?;
                }
                cmd.commit().await?;
            }
        } else {
            for n in 0..count.min(6) {
                let (country, _, mission) = *rng.pick(&COUNTERPARTS);
                let sent_on = today - Duration::days(5 + rng.below(80) as i64);
                let reference = format!("{}/ĐSQ-LS", 20 + n);
                let request = NewRequest {
                    direction: "incoming",
                    kind: "information_exchange",
                    counterpart_kind: "overseas_mission",
                    country,
                    counterpart: mission,
                    reference: Some(&reference),
                    sent_on,
                    due_on: sent_on + Duration::days(default_days("information_exchange")),
                    person_id: None,
                    victim_case_id: None,
                    criminal_case_id: None,
                    summary: Some("Đề nghị cung cấp thông tin về công dân được giải cứu để hỗ trợ hồi hương."),
                };
                let mut cmd = store.command(&actor).await?;
                let id = store::create(&mut cmd, &store.keys, &agency.id, &request).await?;
                let answered_on = sent_on + Duration::days(7 + rng.below(20) as i64);
                if rng.chance(500) && answered_on <= today {
                    store::answer(&mut cmd, &store.keys, &id, answered_on, "confirmed", None).await?;
                }
                cmd.commit().await?;
            }
        }
    }
    Ok(())
}
