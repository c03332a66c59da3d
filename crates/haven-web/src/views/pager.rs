//! Keyset paging for list pages: where this page sits in its list ("21–40 of 230"), the link to the next
//! page and the way back to the first. The position travels in the address (`from`) for display only; what
//! the page shows is decided by the cursor (`after`), so a tampered `from` misleads no one but its author.
//! And the find box above a list ([`find_typed`]).

use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::error::AppResult;

/// What a list's find box led to.
pub enum Typed {
    /// The page of the record found.
    Open(Response),
    /// The text that found nothing, said above the list (`None` when nothing was typed).
    NotFound(Option<String>),
}

/// A list's find box: the text typed (trimmed; blank is nothing) looked up with `find`, which answers the id of
/// a record the viewer may open (another agency's record is "not found" alike); found, its page at `{base}/{id}`.
pub async fn find_typed(
    typed: Option<&str>,
    base: &str,
    find: impl AsyncFnOnce(&str) -> haven_app::Result<Option<String>>,
) -> AppResult<Typed> {
    let Some(text) = typed.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(Typed::NotFound(None)) };
    Ok(match find(text).await? {
        Some(id) => Typed::Open(Redirect::to(&format!("{base}/{id}")).into_response()),
        None => Typed::NotFound(Some(text.to_owned())),
    })
}

/// A list page's place in its list, as `pager.html` shows it.
pub struct Pager {
    /// The first line's position, counted from 1 (0 when the page is empty).
    pub first_shown: i64,
    pub last_shown: i64,
    pub total: i64,
    /// The address of the next page, when the list goes on.
    pub next: Option<String>,
    /// The address of the first page, on a later page.
    pub first: Option<String>,
}

/// The paging part of a list page's address.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    /// Where this page starts: the cursor the page before handed on.
    #[serde(default)]
    pub after: Option<String>,
    /// How many lines came before this page. Text, not a number: list queries flatten this struct into
    /// theirs, and serde hands a flattened field over as text.
    #[serde(default)]
    pub from: Option<String>,
}

impl PageQuery {
    /// The cursor, when one was given.
    pub fn cursor(&self) -> Option<&str> {
        self.after.as_deref().filter(|a| !a.is_empty())
    }
}

impl Pager {
    /// The pager of a page at `base` (with the list's own `fields`) showing `shown` lines of `total`, with
    /// `next` the cursor of the page after when there is one.
    pub fn new(
        base: &str,
        fields: &[(&str, &str)],
        q: &PageQuery,
        shown: usize,
        total: i64,
        next: Option<String>,
    ) -> Pager {
        let later = q.cursor().is_some();
        let before = if later {
            q.from.as_deref().and_then(|f| f.parse::<i64>().ok()).unwrap_or(0).clamp(0, total.max(0))
        } else {
            0
        };
        let shown = shown as i64;
        let link = |extra: &[(&str, &str)]| {
            let pairs: Vec<(&str, &str)> =
                fields.iter().copied().filter(|(_, v)| !v.is_empty()).chain(extra.iter().copied()).collect();
            let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            if query.is_empty() {
                base.to_owned()
            } else {
                format!("{base}?{query}")
            }
        };
        let from = (before + shown).to_string();
        Pager {
            first_shown: if shown == 0 { 0 } else { before + 1 },
            last_shown: before + shown,
            total,
            next: next.map(|cursor| link(&[("after", cursor.as_str()), ("from", from.as_str())])),
            first: later.then(|| link(&[])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(after: Option<&str>, from: Option<i64>) -> PageQuery {
        PageQuery { after: after.map(str::to_owned), from: from.map(|f| f.to_string()) }
    }

    #[test]
    fn the_first_page_counts_from_one_and_links_the_next() {
        let p = Pager::new("/victims", &[("show", "open")], &q(None, None), 50, 230, Some("2026-01-02.x".into()));
        assert_eq!((p.first_shown, p.last_shown, p.total), (1, 50, 230));
        assert_eq!(p.next.as_deref(), Some("/victims?show=open&after=2026-01-02.x&from=50"));
        assert!(p.first.is_none());
    }

    #[test]
    fn a_later_page_says_where_it_is_and_links_back() {
        let p = Pager::new("/victims", &[("show", "")], &q(Some("c"), Some(50)), 30, 80, None);
        assert_eq!((p.first_shown, p.last_shown), (51, 80));
        assert!(p.next.is_none());
        assert_eq!(p.first.as_deref(), Some("/victims"));
    }

    #[test]
    fn a_list_query_takes_the_paging_fields_flattened() {
        #[derive(Deserialize)]
        struct ListQuery {
            show: Option<String>,
            #[serde(flatten)]
            page: PageQuery,
        }
        let q: ListQuery = serde_urlencoded::from_str("show=open&after=2026-01-02.x&from=50").expect("query");
        assert_eq!(q.show.as_deref(), Some("open"));
        assert_eq!((q.page.cursor(), q.page.from.as_deref()), (Some("2026-01-02.x"), Some("50")));
        let q: ListQuery = serde_urlencoded::from_str("from=abc").expect("a bad position is no error");
        assert_eq!(Pager::new("/x", &[], &q.page, 5, 5, None).first_shown, 1);
    }

    #[test]
    fn a_tampered_position_stays_inside_the_list() {
        let p = Pager::new("/cases", &[], &q(Some("c"), Some(-5)), 10, 40, None);
        assert_eq!(p.first_shown, 1);
        let p = Pager::new("/cases", &[], &q(Some("c"), Some(9_999)), 0, 40, None);
        assert_eq!((p.first_shown, p.last_shown), (0, 40));
    }
}
