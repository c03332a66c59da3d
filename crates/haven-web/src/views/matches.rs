//! A candidate match in words: each side by register, code and agency name (another agency's record by
//! nothing until the records are linked), the chance in whole percents, and the explanation in words: what
//! agrees and how, what differs, what is not known on both sides (the weights behind a disclosure). The review queue, the person page and the register pages show them.

use haven_app::matches::{self as app, PairView, SideView};

use crate::ctx::Viewer;
use crate::error::AppResult;
use crate::page::Ctx;
use crate::AppState;

/// One field's part in an explanation, in words.
pub struct PartLine {
    pub field: String,
    pub level: String,
    pub weight: String,
    pub agrees: bool,
    /// Known on both sides (compared at all).
    pub known: bool,
}

/// A probability as people read it: whole percents, and never "100%" or "0%" — a model that agrees on a
/// name and a birth date is not certain, and a reviewer must not read it so.
fn chance(p: f64, over: &str, under: &str) -> String {
    if p >= 0.99 {
        format!("{over} 99%")
    } else if p < 0.01 {
        format!("{under} 1%")
    } else {
        format!("{:.0}%", (p * 100.0).round())
    }
}

/// The other side of a pair, in words.
pub struct Side {
    pub register: &'static str,
    pub code: String,
    pub agency: String,
    pub link: Option<String>,
}

pub struct CandidateLine {
    pub id: String,
    /// The chance that the two are one person, as people read it ("87%", "over 99%").
    pub chance: String,
    /// The explanation in words: what agrees (field and how), what differs, what is not known on both sides.
    pub agree: String,
    pub differ: String,
    pub unknown: String,
    pub status: String,
    pub source: String,
    pub this: Side,
    pub other: Side,
    pub parts: Vec<PartLine>,
    pub can_decide: bool,
    pub can_merge: bool,
    /// For two agencies' records: `ours` (waiting for the other agency) or `theirs` (waiting for ours).
    pub asked: Option<&'static str>,
}

/// A record linked as the same person, in words: the agency by name in the viewer's language.
pub async fn side(state: &AppState, viewer: &Viewer, c: &Ctx, person_id: &str) -> AppResult<Side> {
    let view = app::side_view(state, viewer, person_id, true).await?;
    words(state, c, view).await
}

async fn words(state: &AppState, c: &Ctx, view: SideView) -> AppResult<Side> {
    let agency = state
        .store
        .agencies()
        .await?
        .iter()
        .find(|a| Some(&a.id) == view.agency_id.as_ref())
        .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
        .unwrap_or_default();
    Ok(Side { register: view.register, code: view.code.unwrap_or_default(), agency, link: view.link })
}

/// A pair in words, for a page.
pub async fn line(state: &AppState, c: &Ctx, v: PairView) -> AppResult<CandidateLine> {
    let parts: Vec<PartLine> = v
        .explanation
        .iter()
        .map(|p| {
            // The fields are fixed (`haven_store::matches::FIELDS`): each label names its levels' translations.
            PartLine {
                field: c.t(&format!("match.field.{}", p.label)).to_owned(),
                level: match p.level {
                    Some(l) => c.t(&format!("match.level.{}.{l}", p.label)).to_owned(),
                    None => c.t("match.level.none").to_owned(),
                },
                weight: if p.level.is_some() { format!("{:+.1}", p.weight) } else { String::new() },
                agrees: p.level.is_some_and(|l| l > 0),
                known: p.level.is_some(),
            }
        })
        .collect();
    let agree = parts.iter().filter(|p| p.agrees).map(|p| format!("{}: {}", p.field, p.level.to_lowercase()));
    let agree = agree.collect::<Vec<_>>().join("; ");
    let named = |f: &dyn Fn(&PartLine) -> bool| {
        parts.iter().filter(|p| f(p)).map(|p| p.field.clone()).collect::<Vec<_>>().join(", ")
    };
    let differ = named(&|p| p.known && !p.agrees);
    let unknown = named(&|p| !p.known);
    Ok(CandidateLine {
        chance: chance(v.probability, c.t("match.over"), c.t("match.under")),
        agree,
        differ,
        unknown,
        this: words(state, c, v.this).await?,
        other: words(state, c, v.other).await?,
        id: v.id,
        status: v.status,
        source: v.source,
        parts,
        can_decide: v.can_decide,
        can_merge: v.can_merge,
        asked: v.asked,
    })
}

/// The pairs a person is in, for the register pages, seen from that person's side.
pub async fn candidate_lines(
    state: &AppState,
    viewer: &Viewer,
    c: &Ctx,
    person_id: &str,
) -> AppResult<Vec<CandidateLine>> {
    let mut out = Vec::new();
    for v in app::pairs_of_person(state, viewer, person_id).await? {
        out.push(line(state, c, v).await?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::chance;

    #[test]
    fn a_chance_is_never_certain_and_never_falsely_precise() {
        assert_eq!(chance(0.999_999, "over", "under"), "over 99%");
        assert_eq!(chance(0.99, "over", "under"), "over 99%");
        assert_eq!(chance(0.9849, "over", "under"), "98%");
        assert_eq!(chance(0.5, "over", "under"), "50%");
        assert_eq!(chance(0.011, "over", "under"), "1%");
        assert_eq!(chance(0.0001, "over", "under"), "under 1%");
    }
}
