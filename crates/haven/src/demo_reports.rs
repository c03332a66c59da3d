//! A year of reports and criminal cases for the demo province: mostly police and border-guard intakes,
//! classified within days, a fifth extended as complex, a few suspended, most settled on time and some
//! overdue; decisions to initiate open cases that move on through prosecution and trial. Deterministic, like
//! the rest of the demo.

use haven_domain::cases::{Custody, PersonRole, Stage};
use haven_domain::person::Sex;
use haven_domain::reports::clock::{Clock, ClockEvent, ClockRules};
use haven_domain::reports::intake::{Channel, Classification, Decision, DecisionKind, Kind};
use haven_domain::time::{local_date, to_millis, VN_OFFSET};
use haven_store::cases::{self, NewCase, StageDetail};
use haven_store::reports::{self, NewReport};
use haven_store::{persons, Actor, Store};
use time::{Date, Duration, Time};

use crate::demo::{Names, Rng};

const RULES: &str = include_str!("../../../profiles/vn/criminal-procedure.txt");

const DESTINATIONS: &[&str] = &["Campuchia", "Trung Quốc", "Lào", "Myanmar", "Malaysia"];
const LURES: &[&str] = &[
    "được hứa việc làm lương cao tại sòng bạc trực tuyến",
    "được giới thiệu lấy chồng nước ngoài",
    "được rủ đi làm phụ bếp, bị giữ giấy tờ",
    "quen qua mạng xã hội, hẹn đi du lịch",
    "được môi giới xuất khẩu lao động không qua công ty",
];

fn pick_kind(rng: &mut Rng) -> Kind {
    match rng.below(10) {
        0..=5 => Kind::Denunciation,
        6..=8 => Kind::CrimeReport,
        _ => Kind::Recommendation,
    }
}

fn pick_channel(rng: &mut Rng) -> Channel {
    *rng.pick(&[
        Channel::InPerson,
        Channel::Hotline,
        Channel::Hotline,
        Channel::Letter,
        Channel::Online,
        Channel::Media,
        Channel::Transfer,
    ])
}

/// Load `count` reports received over the year before `today`, with their cases.
pub async fn load(store: &Store, count: u64) -> anyhow::Result<()> {
    let rules = ClockRules::parse(RULES).map_err(|e| anyhow::anyhow!("clock rules: {e}"))?;
    let today = local_date(store.now()).ok_or_else(|| anyhow::anyhow!("clock out of range"))?;
    let names = Names::load();
    let (communes, mountain) = crate::demo::communes(store).await?;
    let agency = |code: &'static str| async move {
        store.agency_by_code(code).await?.ok_or_else(|| anyhow::anyhow!("no {code} agency in the demo"))
    };
    let (police, border) = (agency("police").await?, agency("border").await?);
    let receivers = Receivers { procuracy: agency("procuracy").await?.id, court: agency("court").await?.id };
    let officer_of = |code: &str| format!("{code}.officer");
    let mut officers = Vec::new();
    for code in ["police", "border"] {
        officers.push(store.user_by_name(&officer_of(code)).await?.ok_or_else(|| anyhow::anyhow!("no demo officer"))?);
    }
    let mut rng = Rng::new(0x5245_504f_5254_0001);
    let mut case_no = 0u32;
    let mut done = 0;
    while done < count {
        let n = 200.min(count - done);
        for _ in 0..n {
            let owner = if rng.chance(700) { &police } else { &border };
            let officer = if owner.id == police.id { &officers[0] } else { &officers[1] };
            let actor = Actor { user_id: officer.id.clone(), agency_id: owner.id.clone(), request_id: "demo".into() };
            let received = today - Duration::days(rng.below(365) as i64);
            let at = received
                .with_time(Time::from_hms(7 + rng.below(10) as u8, rng.below(60) as u8, 0).unwrap_or(Time::MIDNIGHT))
                .assume_offset(VN_OFFSET);
            let sex = if rng.chance(500) { Sex::Female } else { Sex::Male };
            let reporter = names.full_name(&mut rng, sex, false);
            let contact = format!("09{:08}", rng.below(100_000_000));
            let summary = format!(
                "Người thân {} sang {}, mất liên lạc; nghi bị mua bán.",
                rng.pick(LURES),
                rng.pick(DESTINATIONS)
            );
            let anonymous = rng.chance(100);
            let mut clock = Clock::new(&rules, received);
            let mut cmd = store.command(&actor).await?;
            let new = NewReport {
                kind: pick_kind(&mut rng),
                channel: pick_channel(&mut rng),
                received_at: to_millis(at),
                received_on: received,
                assigned_to: Some(&officer.id),
                reporter: (!anonymous).then_some((reporter.as_str(), contact.as_str())),
                summary: &summary,
                commune_code: Some(rng.pick(&communes).as_str()),
            };
            let id = reports::create(&mut cmd, &store.keys, &owner.id, &new, &clock).await?;
            // Classified within three days, unless it came in the last day or two.
            let classified_on = received + Duration::days(rng.below(3) as i64);
            let mut offence = None;
            if classified_on <= today && rng.chance(950) {
                let c = if rng.chance(800) {
                    let code = *rng.pick(&["150", "150", "150", "151", "348", "349"]);
                    offence = Some(code);
                    Classification::Offence { code: code.into() }
                } else {
                    Classification::NotRelated { forwarded_to: "Công an cấp xã nơi xảy ra vụ việc".into() }
                };
                let reason = "Căn cứ nội dung tố giác và xác minh ban đầu";
                reports::classify(&mut cmd, &store.keys, &id, &c, reason, classified_on).await?;
                // Reports of a suspected offence are notified to the procuracy within days.
                let notified = classified_on + Duration::days(1 + rng.below(3) as i64);
                if offence.is_some() && notified <= today {
                    reports::send_to_procuracy(&mut cmd, &id, &receivers.procuracy, notified).await?;
                }
            }
            // A fifth are complex; a few of those go to the procuracy; a few are suspended.
            let mut events = Vec::new();
            if rng.chance(200) {
                events.push(ClockEvent::ComplexExtension { on: received + Duration::days(10 + rng.below(8) as i64) });
                if rng.chance(300) {
                    events.push(ClockEvent::ProcuracyRequested { on: received + Duration::days(45) });
                    if rng.chance(800) {
                        events.push(ClockEvent::ProcuracyGranted {
                            on: received + Duration::days(48),
                            months: 1 + rng.below(2) as u32,
                        });
                    }
                }
            } else if rng.chance(60) {
                events.push(ClockEvent::Suspended { on: received + Duration::days(5 + rng.below(10) as i64) });
                if rng.chance(500) {
                    events.push(ClockEvent::Resumed { on: received + Duration::days(60 + rng.below(60) as i64) });
                }
            }
            for e in events {
                if e.date() > today {
                    break;
                }
                let Ok(next) = clock.apply(&rules, e) else { break };
                let ground = matches!(e, ClockEvent::Suspended { .. }).then_some("foreign_assistance");
                reports::record_event(
                    &mut cmd,
                    &store.keys,
                    &id,
                    &e,
                    ground,
                    Some("Cần thêm thời gian xác minh"),
                    &next,
                )
                .await?;
                clock = next;
            }
            // Settled: most on time, some late, some not yet (overdue or still running).
            if let (Some(last), Some(code)) = (clock.last_day(), offence.or(Some("-"))) {
                let span = (last - received).whole_days().max(1);
                let decided_on = if rng.chance(900) {
                    received + Duration::days(rng.below(span as u64 + 1) as i64)
                } else {
                    last + Duration::days(1 + rng.below(20) as i64)
                };
                if decided_on <= today && rng.chance(880) {
                    let initiate = code != "-" && rng.chance(450);
                    let kind = if initiate {
                        DecisionKind::Initiate
                    } else if code == "-" {
                        DecisionKind::Transfer { to: "Công an cấp xã nơi xảy ra vụ việc".into() }
                    } else {
                        DecisionKind::NotInitiate {
                            reason: "Không đủ căn cứ xác định có dấu hiệu tội phạm".into()
                        }
                    };
                    let d = Decision {
                        kind,
                        number: format!("{}/QĐ", 100 + rng.below(900)),
                        decided_on,
                        reporter_notified_on: Some(decided_on),
                    };
                    reports::decide(&mut cmd, &store.keys, &id, &d, clock.on_time(decided_on)).await?;
                    if initiate {
                        // The victim and one or two suspects, registered by the investigating body.
                        let mut named = vec![PersonRole::Victim, PersonRole::Suspect];
                        if rng.chance(400) {
                            named.push(PersonRole::Suspect);
                        }
                        for role in named {
                            let who = crate::demo::person(&mut rng, &names, &communes, &mountain);
                            let person = persons::create(&mut cmd, &store.keys, &owner.id, &who).await?;
                            reports::add_person(&mut cmd, &id, &person, role).await?;
                        }
                        case_no += 1;
                        let number = format!("{case_no:02}/{}/HS", decided_on.year());
                        let ids = [id.clone()];
                        let case = cases::open(
                            &mut cmd,
                            &owner.id,
                            &NewCase {
                                case_number: &number,
                                offence_code: code,
                                opened_on: decided_on,
                                report_ids: &ids,
                            },
                        )
                        .await?
                        .map_err(|_| anyhow::anyhow!("a demo report led to two cases"))?;
                        advance_case(&mut cmd, &store.keys, &mut rng, &receivers, &case, decided_on, today).await?;
                    }
                }
            }
            cmd.commit().await?;
        }
        done += n;
    }
    Ok(())
}

/// Where case files go.
struct Receivers {
    procuracy: String,
    court: String,
}

/// Move a case on through the procedure at a realistic pace, stopping at today: suspects arrested and
/// detained once identified, the file sent on, and a judgment with sentences.
async fn advance_case(
    cmd: &mut haven_store::Command,
    keys: &haven_store::crypto::Keyring,
    rng: &mut Rng,
    to: &Receivers,
    id: &str,
    opened: Date,
    today: Date,
) -> anyhow::Result<()> {
    let suspects = cases::persons_in_role(cmd, id, PersonRole::Suspect).await?;
    let mut custody = Custody::default();
    let mut on = opened;
    let path = [
        (Stage::OffendersIdentified, 5, 40, 920),
        (Stage::ToProcuracy, 30, 120, 900),
        (Stage::Indicted, 10, 40, 950),
        (Stage::ToCourt, 2, 10, 1000),
        (Stage::Tried, 20, 90, 900),
    ];
    for (stage, min, max, chance) in path {
        on += Duration::days(min + rng.below((max - min) as u64) as i64);
        if on > today || !rng.chance(chance) {
            break;
        }
        let detail = match stage {
            Stage::ToProcuracy => StageDetail { sent_to: Some(&to.procuracy), text: None },
            Stage::ToCourt => StageDetail { sent_to: Some(&to.court), text: None },
            Stage::Tried => {
                StageDetail { sent_to: None, text: Some("Tuyên bố các bị cáo phạm tội Mua bán người") }
            }
            _ => StageDetail::default(),
        };
        cases::record_stage(cmd, keys, id, stage, on, detail).await?;
        let arrested = on + Duration::days(1);
        if stage == Stage::OffendersIdentified && arrested <= today {
            custody = Custody { arrested: Some(arrested), detained: Some(arrested), released: None };
            for s in &suspects {
                cases::set_custody(cmd, keys, s, id, &custody, None).await?;
            }
        }
        if stage == Stage::Tried {
            for s in &suspects {
                let years = 5 + rng.below(10);
                cases::set_custody(cmd, keys, s, id, &custody, Some(&format!("{years} năm tù"))).await?;
            }
        }
    }
    Ok(())
}
