//! Victim protection cases for the demo province, after the patterns of recent years: people returned from
//! scam compounds in Cambodia (more and more of them men), women taken to China as brides, domestic cases
//! found by communes, children, and one person trafficked again. Each goes through reception, verification,
//! identification approved by a head, supports within the rules, consents and a referral to the support
//! authority, or a handover of the case to it. Deterministic, like the rest of the demo.

use haven_app::referrals::{self, Answer as ReferralAnswer, ReferralForm};
use haven_app::sharing::{self, GrantForm};
use haven_app::victims::handover::{Answer as HandoverAnswer, HandoverForm};
use haven_app::victims::identification::{self, IdentificationForm};
use haven_app::{victims, App, Caller};
use haven_domain::person::{BirthDate, Sex};
use haven_domain::time::local_date;
use haven_domain::victims::support::{check_support, CaseDates, Given, Situation};
use haven_domain::victims::{self as rules, Status};
use haven_store::victims::{self as store, NewConsentRow, NewStep, NewSupport, NewVictimCase};
use haven_store::{persons, Actor, Store};
use time::{Date, Duration, Month};

use crate::demo::{Names, Rng};

const SUPPORT: &str = include_str!("../../../profiles/vn/support-regimes.txt");

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pattern {
    ScamCompound,
    Bride,
    Domestic,
    Child,
}

/// HTCDS codes of forms of exploitation, means of control and recruitment, with the relationship to the
/// recruiter and the destination, for a case of the pattern.
type Context = (Vec<String>, Vec<String>, Vec<String>, &'static str, &'static str);

fn context(pattern: Pattern, rng: &mut Rng) -> Context {
    let codes = |v: &[&str]| v.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
    match pattern {
        Pattern::ScamCompound => {
            let destination = match rng.below(10) {
                0..=6 => "KH",
                7..=8 => "MM",
                _ => "LA",
            };
            let control: &[&str] = if rng.chance(500) {
                &["DebtBondage", "WithholdsDocuments"]
            } else {
                &["PhysicalThreats", "ExcessiveWorkingHours"]
            };
            let recruitment =
                if rng.chance(600) { "ThroughOnlineSocialNetworks" } else { "ThroughAnOnlineAdvertisement" };
            (codes(&["ForcedLabour"]), codes(control), codes(&[recruitment]), "Unaquainted", destination)
        }
        Pattern::Bride => {
            let forms: &[&str] =
                if rng.chance(300) { &["ForcedMarriage", "SexualExploitation"] } else { &["ForcedMarriage"] };
            (codes(forms), codes(&["WithholdsDocuments"]), codes(&["ThroughFriendsOrSocialEvents"]), "Acquainted", "CN")
        }
        Pattern::Domestic => {
            let form = if rng.chance(700) { "ForcedLabour" } else { "Servitude" };
            (codes(&[form]), codes(&["TakesEarnings"]), codes(&["ThroughFamilyOrFamilyEvents"]), "Acquainted", "VN")
        }
        Pattern::Child => {
            if rng.chance(500) {
                (
                    codes(&["SexualExploitation"]),
                    codes(&["FalsePromises"]),
                    codes(&["ThroughOnlineSocialNetworks"]),
                    "Unaquainted",
                    "CN",
                )
            } else {
                (
                    codes(&["ChildLabour"]),
                    codes(&["TakesEarnings"]),
                    codes(&["ThroughFamilyOrFamilyEvents"]),
                    "Familial",
                    "VN",
                )
            }
        }
    }
}

fn actor(store_user: &haven_store::accounts::User) -> Actor {
    Actor { user_id: store_user.id.clone(), agency_id: store_user.agency_id.clone(), request_id: "demo".into() }
}

/// Load `count` victim cases received over the year before today.
/// A demo user as the use cases see them.
async fn caller(app: &App, name: &str) -> anyhow::Result<Caller> {
    Caller::by_user_name(app, name, "demo").await?.ok_or_else(|| anyhow::anyhow!("no demo user {name}"))
}

/// What a use case answered, or the fields it refused (the demo writes only what the rules allow, so a
/// refusal is a fault in the demo).
fn done<T>(outcome: haven_app::Outcome<T>) -> anyhow::Result<T> {
    outcome.map_err(|fields| anyhow::anyhow!("the demo was refused: {fields:?}"))
}

/// An answer to a referral or a handover, or the rule that refused it.
fn answered<T>(outcome: Result<T, &'static str>) -> anyhow::Result<T> {
    outcome.map_err(|key| anyhow::anyhow!("the demo's answer was refused: {key}"))
}

/// Load `count` victim cases. Reception, context, consents, verification and supports are written a year back
/// through store commands (the history the use cases, which act today, would refuse); identification,
/// referrals and handovers go through the use cases, as a user does them.
pub async fn load(store: &Store, count: u64) -> anyhow::Result<()> {
    if count == 0 {
        return Ok(());
    }
    let rules_support = haven_domain::victims::support::SupportRules::parse(SUPPORT).map_err(|e| anyhow::anyhow!(e))?;
    let app = App::new(store.clone(), crate::demo::PROVINCE);
    let today = local_date(store.now()).ok_or_else(|| anyhow::anyhow!("clock out of range"))?;
    let names = Names::load();
    let (communes, mountain) = crate::demo::communes(store).await?;
    let agency = |code: &'static str| async move {
        store.agency_by_code(code).await?.ok_or_else(|| anyhow::anyhow!("no {code} agency in the demo"))
    };
    let user = |name: String| async move {
        store.user_by_name(&name).await?.ok_or_else(|| anyhow::anyhow!("no demo user {name}"))
    };
    let (border, health, police) = (agency("border").await?, agency("health").await?, agency("police").await?);
    let mut rng = Rng::new(0x5649_4354_494d_0001);
    let mut first: Option<(String, String, String)> = None;
    for i in 0..count {
        let pattern = match rng.below(20) {
            0..=8 => Pattern::ScamCompound,
            9..=13 => Pattern::Bride,
            14..=17 => Pattern::Domestic,
            _ => Pattern::Child,
        };
        let owner = if matches!(pattern, Pattern::ScamCompound | Pattern::Bride) { &border } else { &health };
        let officer = user(format!("{}.officer", owner.code)).await?;
        let head = user(format!("{}.head", owner.code)).await?;
        let received = today - Duration::days(rng.below(330) as i64);
        // The last case: the first person, trafficked again.
        let again = (i == count - 1 && count > 1).then(|| first.clone()).flatten();
        let mut cmd = store.command(&actor(&officer)).await?;
        let (person_id, child) = match &again {
            Some((person_id, _, _)) => (person_id.clone(), false),
            None => {
                let mut who = crate::demo::person(&mut rng, &names, &communes, &mountain);
                match pattern {
                    Pattern::Bride => who.sex = Sex::Female,
                    Pattern::ScamCompound if rng.chance(550) => who.sex = Sex::Male,
                    Pattern::Child => {
                        let year = today.year() - 13 - rng.below(4) as i32;
                        let month = Month::try_from(1 + rng.below(12) as u8).unwrap_or(Month::June);
                        who.birth_date =
                            Date::from_calendar_date(year, month, 1 + rng.below(28) as u8).ok().map(BirthDate::Full);
                    }
                    _ => {}
                }
                let child = who.birth_date.is_some_and(|b| rules::is_child(b, received));
                let id = persons::create(&mut cmd, &store.keys, &owner.id, &who).await?;
                (id, child)
            }
        };
        let (reception_kind, in_vietnam) = match pattern {
            Pattern::ScamCompound => ("border", true),
            Pattern::Bride if rng.chance(500) => ("overseas_mission", false),
            Pattern::Bride => ("border", true),
            _ => ("commune", true),
        };
        let commune = rng.pick(&communes).clone();
        let officer_name = officer.display_name.clone();
        let new = NewVictimCase {
            person_id: &person_id,
            reception_kind,
            received_on: received,
            commune_code: Some(&commune),
            vietnamese: true,
            in_vietnam,
            accompanying_child: false,
            officer: &officer_name,
            note: Some(match pattern {
                Pattern::ScamCompound => "Trở về từ cơ sở lừa đảo trực tuyến tại Campuchia",
                Pattern::Bride => "Bị đưa sang Trung Quốc để kết hôn trái phép",
                Pattern::Domestic => "Bị ép làm việc không lương tại cơ sở trong nước",
                Pattern::Child => "Trẻ em được phát hiện qua rà soát tại xã",
            }),
            previous_case_id: again.as_ref().map(|(_, case, _)| case.as_str()),
        };
        let case = store::create(&mut cmd, &store.keys, &owner.id, &new, child).await?;
        // Where the person was taken, for what, and how: drawn from a generator of its own so that the rest of
        // the demo stays as it was.
        let (exploitation, control, recruitment, relationship, destination) =
            context(pattern, &mut Rng::new(0x4354_5854_0000_0000 ^ i));
        let context = store::Context {
            exploitation: &exploitation,
            control: &control,
            recruitment: &recruitment,
            relationship: Some(relationship),
            destination_country: Some(destination),
            wishes: None,
        };
        store::set_context(&mut cmd, &store.keys, &case, &context).await?;
        if first.is_none() {
            first = Some((person_id.clone(), case.clone(), owner.id.clone()));
        }
        // Consents: sharing with the support authority, statistics; a child's through the representative.
        let (given_by, representative) = if child { ("representative", Some("Mẹ đẻ")) } else { ("person", None) };
        for (purpose, target, chance) in [("share_agency_kind", "social_support", 900), ("statistics", "", 700)] {
            if rng.chance(chance) {
                let c = NewConsentRow {
                    person_id: &person_id,
                    purpose,
                    target,
                    given_by,
                    representative,
                    given_on: received,
                    expires_on: None,
                };
                store::record_consent(&mut cmd, &store.keys, &c).await?;
            }
        }
        // Verification with the police within a few days, unless the case is only days old.
        let verified = received + Duration::days(1 + rng.below(4) as i64);
        let mut status = Status::Signs;
        if verified <= today && rng.chance(920) {
            let step = NewStep {
                kind: "verification",
                on: verified,
                commune_code: None,
                agency_id: &police.id,
                officer: "Cán bộ Công an",
                note: None,
            };
            store::record_step(&mut cmd, &store.keys, &case, &step).await?;
            status = Status::BeingIdentified;
        }
        cmd.commit().await?;
        // Identification: proposed by the officer, approved by the head, for cases a few weeks old.
        let decided = received + Duration::days(10 + rng.below(20) as i64);
        let mut identified_on = None;
        if status == Status::BeingIdentified && decided <= today && rng.chance(850) {
            let outcome = if rng.chance(900) { Status::Identified } else { Status::NotVictim };
            let form = IdentificationForm {
                outcome: outcome.code().into(),
                decided_on: decided.to_string(),
                legal_basis: "Điều 23 Luật Phòng, chống mua bán người 2024".into(),
                evidence: vec!["rescuer".into(), "own_statement".into()],
                certificate_number: format!("{}/GXN", 10 + i),
                reasons: if outcome == Status::NotVictim {
                    "Tự nguyện đi làm, không bị lừa dối hay cưỡng ép".into()
                } else {
                    String::new()
                },
            };
            let proposer = caller(&app, &officer.username).await?;
            done(identification::propose(&app, &proposer, &case, &form).await?)?;
            let approver = caller(&app, &head.username).await?;
            done(identification::approve(&app, &approver, &case).await?)?;
            status = outcome;
            identified_on = (outcome == Status::Identified).then_some(decided);
            // One identified case in twelve is shared by the head with the procuracy for the criminal
            // proceedings, on a legal basis rather than the person's consent: the overrides a head reviews.
            // (Chosen by the case's number, so the demo's other random draws stay as they were.)
            if outcome == Status::Identified && i % 12 == 5 {
                let form = GrantForm {
                    agency: "procuracy".into(),
                    username: String::new(),
                    purpose: "legal_proceedings".into(),
                    days: "30".into(),
                    legal_basis: "Điều 88 Bộ luật Tố tụng hình sự: cung cấp chứng cứ cho Viện kiểm sát".into(),
                };
                done(sharing::share(&app, &approver, store::KIND, &case, &form).await?)?;
            }
        }
        // Supports within the rules: meals for some days, medical care, the allowance once identified.
        let situation = Situation { status, vietnamese: true, in_vietnam, accompanying_child: false };
        let dates = CaseDates { situation, received, identified_on, today };
        let mut given: Vec<(&str, Given)> = Vec::new();
        // A command commits only with an entry in the audit log: nothing given and nothing referred, nothing to commit.
        let mut cmd = store.command(&actor(&officer)).await?;
        for (regime, on, quantity, amount) in [
            ("a", received, 5 + rng.below(30), 50_000 * (5 + rng.below(30))),
            ("b", received + Duration::days(1), 1, 300_000 + 100_000 * rng.below(10)),
            ("k", identified_on.unwrap_or(received) + Duration::days(15), 1, 1_500_000),
        ] {
            let new = Given { on, quantity, amount_vnd: amount };
            let already: Vec<Given> = given.iter().filter(|(r, _)| *r == regime).map(|(_, g)| *g).collect();
            if check_support(&rules_support, regime, dates, &already, new).is_ok() && rng.chance(850) {
                let s =
                    NewSupport { regime, given: new, provider_agency_id: &owner.id, acknowledged: true, note: None };
                store::give_support(&mut cmd, &store.keys, &case, &s).await?;
                given.push((regime, new));
            }
        }
        // The border guards refer their cases to the support authority on the person's consent, through the
        // same use cases as the pages.
        if owner.id == border.id {
            let consents = store.consents(&person_id).await?;
            let consent = consents.iter().find(|c| c.purpose == "share_agency_kind" && c.target == "social_support");
            if consent.is_some() {
                // The supports' command ends before the use cases begin theirs: one writer at a time.
                if given.is_empty() {
                    drop(cmd);
                } else {
                    cmd.commit().await?;
                }
                let sender = caller(&app, &officer.username).await?;
                let receiver = caller(&app, "health.officer").await?;
                if rng.chance(250) {
                    // A quarter are handed over to the support authority instead: it holds them from then on,
                    // or has yet to answer.
                    let form = HandoverForm {
                        to_agency: health.id.clone(),
                        reason: "Chuyển tiếp nhận, hỗ trợ và tái hòa nhập theo quy chế phối hợp".into(),
                        legal_basis: String::new(),
                    };
                    let handover = done(victims::handover::propose(&app, &sender, &case, &form).await?)?;
                    if rng.chance(700) {
                        answered(
                            victims::handover::answer(&app, &receiver, &handover, HandoverAnswer::Accept, "").await?,
                        )?;
                    }
                } else {
                    let form = ReferralForm {
                        kind: "support".into(),
                        to_agency: health.id.clone(),
                        due_on: (received + Duration::days(30)).max(today).to_string(),
                        purpose: "Tiếp nhận, hỗ trợ ban đầu và tái hòa nhập".into(),
                        legal_basis: String::new(),
                    };
                    let referral = done(referrals::send(&app, &sender, &case, &form).await?)?;
                    // Most are taken up by the support authority at once.
                    if rng.chance(700) {
                        answered(referrals::answer(&app, &receiver, &referral, ReferralAnswer::Accept, "").await?)?;
                    }
                }
                continue;
            }
        }
        if !given.is_empty() {
            cmd.commit().await?;
        }
    }
    Ok(())
}
