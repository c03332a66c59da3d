//! Keyset paging of lists ordered newest day first: a page ends with a cursor naming its last line (its
//! stored day and id, `2026-03-05.01J...`), and the next page starts after it, so a page costs one index
//! range whatever its place in the list.

/// A page of a list: its lines, and the cursor of the page after when the list goes on.
pub struct Paged<T> {
    pub lines: Vec<T>,
    pub next: Option<String>,
}

impl<T> Paged<T> {
    /// From `rows` read with one more than `limit` (the extra row says whether a next page exists), and the
    /// stored day and id of a line.
    pub fn of(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> (&str, &str)) -> Paged<T> {
        let next = if rows.len() as i64 > limit {
            rows.truncate(limit.max(0) as usize);
            rows.last().map(|l| {
                let (day, id) = key(l);
                format!("{day}.{id}")
            })
        } else {
            None
        };
        Paged { lines: rows, next }
    }
}

/// The stored day and id a cursor names; `None` for anything that is not one (the list then starts from its
/// first page).
pub fn cursor(s: Option<&str>) -> Option<(&str, &str)> {
    let (day, id) = s?.split_once('.')?;
    let stored = day.len() == 10 && day.as_bytes()[4] == b'-' && haven_domain::format::parse_date(day).is_some();
    (stored && !id.is_empty()).then_some((day, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_names_a_stored_day_and_an_id() {
        assert_eq!(cursor(Some("2026-03-05.abc")), Some(("2026-03-05", "abc")));
        for bad in ["", "abc", "05/03/2026.abc", "2026-13-05.abc", "2026-03-05.", "2026-3-5.abc"] {
            assert_eq!(cursor(Some(bad)), None, "{bad}");
        }
    }

    #[test]
    fn a_page_knows_whether_the_list_goes_on() {
        let rows = vec![("2026-03-05", "c"), ("2026-03-04", "b"), ("2026-03-04", "a")];
        let p = Paged::of(rows.clone(), 2, |r| (r.0, r.1));
        assert_eq!(p.lines.len(), 2);
        assert_eq!(p.next.as_deref(), Some("2026-03-04.b"));
        let p = Paged::of(rows, 3, |r| (r.0, r.1));
        assert_eq!((p.lines.len(), p.next), (3, None));
    }
}
