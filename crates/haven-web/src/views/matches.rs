//! A candidate match in words: each side by register, code and agency name (another agency's record by
//! nothing until the records are linked), and the explanation field by field. The review queue, the person page and the register pages show them.

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
    pub percent: String,
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
    let parts = v
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
            }
        })
        .collect();
    Ok(CandidateLine {
        percent: format!("{:.1}", v.probability * 100.0),
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
