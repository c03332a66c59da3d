use super::*;

fn table(counts: Vec<Vec<u64>>) -> Table {
    let cols = counts.first().map_or(0, Vec::len);
    Table { rows: (0..counts.len()).map(|r| format!("r{r}")).collect(), cols: names("c", cols), counts }
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// A release with exactly the cells of `hidden` suppressed and every total shown: what a careless
/// publisher would put out.
fn careless(t: &Table, hidden: &[(usize, usize)]) -> Release {
    let cell = |r, c| if hidden.contains(&(r, c)) { Cell::Suppressed } else { Cell::Shown(t.counts[r][c]) };
    Release {
        rows: t.rows.clone(),
        cols: t.cols.clone(),
        cells: (0..t.rows.len()).map(|r| (0..t.cols.len()).map(|c| cell(r, c)).collect()).collect(),
        row_totals: t.counts.iter().map(|row| Cell::Shown(row.iter().sum())).collect(),
        col_totals: (0..t.cols.len()).map(|c| Cell::Shown(t.counts.iter().map(|row| row[c]).sum())).collect(),
        total: Cell::Shown(t.counts.iter().flatten().sum()),
    }
}

/// The usual attacker: solve any equation with one unknown left, until none is. Returns (value, number).
fn peel(r: &Release) -> Vec<(usize, u64)> {
    let (mut values, eqs) = equations(r);
    let mut found = Vec::new();
    while let Some((v, n)) = eqs.iter().find_map(|(parts, whole)| {
        let unknown: Vec<usize> = parts.iter().chain([whole]).copied().filter(|&v| values[v].is_none()).collect();
        let [v] = unknown[..] else { return None };
        let parts: u64 = parts.iter().filter_map(|&p| values[p]).sum();
        Some((v, if v == *whole { parts } else { values[*whole].expect("the whole is known") - parts }))
    }) {
        values[v] = Some(n);
        found.push((v, n));
    }
    found
}

/// The exact attacker on one release.
fn determined(r: &Release) -> Vec<usize> {
    solve(equations(r))
}

/// Everything a release of `t` must hold.
fn check(t: &Table, r: &Release, min_count: u64) {
    let truth = careless(t, &[]);
    let (shown, _) = equations(r);
    for (v, (published, true_value)) in shown.iter().zip(equations(&truth).0).enumerate() {
        if let Some(n) = published {
            assert_eq!(Some(*n), true_value, "value {v} of {r:?}");
            assert!(!(1..min_count).contains(n), "{n} shown as value {v} of {r:?}");
        }
    }
    assert_eq!(peel(r), vec![], "solved line by line from {r:?}");
    assert_eq!(determined(r), Vec::<usize>::new(), "determined in {r:?}");
}

/// The suppressed cells, by (row, column) name.
fn suppressed(r: &Release) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for (row, cells) in r.rows.iter().zip(&r.cells) {
        let hidden = r.cols.iter().zip(cells).filter(|(_, cell)| **cell == Cell::Suppressed);
        out.extend(hidden.map(|(col, _)| (row.as_str(), col.as_str())));
    }
    out
}

#[test]
fn both_attackers_break_a_careless_release() {
    let t = table(vec![vec![3, 20, 40], vec![15, 25, 30]]);
    let naive = careless(&t, &[(0, 0)]);
    assert_eq!(peel(&naive), vec![(0, 3)]);
    assert_eq!(determined(&naive), vec![0]);
    // Two blocks of small cells joined by the small cell (1, 2): every line has two suppressed cells, so
    // solving line by line gets nowhere, but rows 0 and 1 minus columns 0 and 1 leave (1, 2) alone.
    let t = table(vec![vec![3, 4, 30, 30], vec![5, 6, 2, 30], vec![30, 30, 7, 8], vec![30, 30, 9, 5]]);
    let blocks = careless(&t, &[(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 2), (2, 3), (3, 2), (3, 3)]);
    assert_eq!(peel(&blocks), vec![]);
    assert_eq!(determined(&blocks), vec![6]);
    // The release closes the bridge.
    let r = release(&t, MIN_PUBLIC_COUNT, None);
    assert!(suppressed(&r).len() > 9, "{r:?}");
    check(&t, &r, MIN_PUBLIC_COUNT);
}

#[test]
fn small_counts_are_suppressed_and_zeros_shown() {
    let t = table(vec![vec![0, 11, 40], vec![1, 50, 60], vec![10, 70, 80]]);
    let r = release(&t, MIN_PUBLIC_COUNT, None);
    assert_eq!((r.cells[1][0], r.cells[2][0]), (Cell::Suppressed, Cell::Suppressed));
    assert_eq!((r.cells[0][0], r.cells[0][1]), (Cell::Shown(0), Cell::Shown(11)));
    assert_eq!(r.total, Cell::Shown(322));
    check(&t, &r, MIN_PUBLIC_COUNT);
    // The threshold is a parameter.
    let t = table(vec![vec![5, 30], vec![30, 30]]);
    assert_eq!(release(&t, 5, None), careless(&t, &[]));
    let t = table(vec![vec![4, 30], vec![30, 30]]);
    let r = release(&t, 5, None);
    assert_eq!(r.cells[0][0], Cell::Suppressed);
    check(&t, &r, 5);
}

#[test]
fn one_small_cell_gets_the_cheapest_partners_in_its_row_and_column() {
    let t = table(vec![vec![3, 20, 40], vec![15, 25, 30], vec![50, 60, 70]]);
    let r = release(&t, MIN_PUBLIC_COUNT, None);
    assert_eq!(suppressed(&r), vec![("r0", "c0"), ("r0", "c1"), ("r1", "c0"), ("r1", "c1")]);
    assert!(r.row_totals.iter().chain(&r.col_totals).chain([&r.total]).all(|c| c.shown().is_some()));
    check(&t, &r, MIN_PUBLIC_COUNT);
}

#[test]
fn thin_tables_suppress_their_totals_when_they_must() {
    let r = release(&table(vec![vec![4, 30, 30]]), MIN_PUBLIC_COUNT, None);
    assert_eq!((r.cells[0][0], r.col_totals[0]), (Cell::Suppressed, Cell::Suppressed), "{r:?}");
    check(&table(vec![vec![4, 30, 30]]), &r, MIN_PUBLIC_COUNT);
    let t = table(vec![vec![4], vec![30], vec![30]]);
    let r = release(&t, MIN_PUBLIC_COUNT, None);
    assert_eq!((r.cells[0][0], r.row_totals[0]), (Cell::Suppressed, Cell::Suppressed), "{r:?}");
    check(&t, &r, MIN_PUBLIC_COUNT);
    let lone = release(&table(vec![vec![7]]), MIN_PUBLIC_COUNT, None);
    assert_eq!(
        (lone.cells, lone.row_totals, lone.col_totals),
        (vec![vec![Cell::Suppressed]], vec![Cell::Suppressed], vec![Cell::Suppressed])
    );
    assert_eq!(lone.total, Cell::Suppressed);
    assert_eq!(release(&table(vec![vec![30]]), MIN_PUBLIC_COUNT, None), careless(&table(vec![vec![30]]), &[]));
    let zeros = table(vec![vec![0; 3]; 2]);
    assert_eq!(release(&zeros, MIN_PUBLIC_COUNT, None), careless(&zeros, &[]), "everything shown as 0");
    let empty = Table { rows: vec![], cols: names("c", 2), counts: vec![] };
    assert_eq!(release(&empty, MIN_PUBLIC_COUNT, None), careless(&empty, &[]));
}

#[test]
fn a_list_of_counts_follows_the_same_rules() {
    // A list with its total (victims by sex) is a table of one row: its column totals repeat its cells.
    let m = release(&table(vec![vec![3, 40, 0]]), MIN_PUBLIC_COUNT, None);
    assert_eq!(m.cells[0], vec![Cell::Suppressed, Cell::Suppressed, Cell::Shown(0)]);
    assert_eq!(m.total, Cell::Shown(43));
    let m = release(&table(vec![vec![30, 25, 0]]), MIN_PUBLIC_COUNT, None);
    assert_eq!((&m.cells[0], m.total), (&vec![Cell::Shown(30), Cell::Shown(25), Cell::Shown(0)], Cell::Shown(55)));
    let m = release(&table(vec![vec![4, 0, 0]]), MIN_PUBLIC_COUNT, None);
    assert_eq!((m.cells[0][0], m.total), (Cell::Suppressed, Cell::Suppressed));
    // Published again, 30 becomes 31: the earlier suppression holds.
    let first = release(&table(vec![vec![3, 30, 40]]), MIN_PUBLIC_COUNT, None);
    let again = release(&table(vec![vec![12, 31, 40]]), MIN_PUBLIC_COUNT, Some(&first));
    assert_eq!(again.cells, first.cells);
    assert_eq!(again.cells[0][0], Cell::Suppressed);
}

#[test]
fn what_a_release_suppressed_stays_suppressed_in_the_next() {
    let first = table(vec![vec![5, 30, 30], vec![6, 30, 30], vec![30, 30, 30]]);
    let r1 = release(&first, MIN_PUBLIC_COUNT, None);
    assert_eq!(suppressed(&r1), vec![("r0", "c0"), ("r0", "c1"), ("r1", "c0"), ("r1", "c1")]);
    // Late records: (r0, c0) reaches 12, the rows come in another order, and a new row appears.
    let mut second = table(vec![vec![30, 30, 30], vec![6, 30, 30], vec![12, 30, 30], vec![40, 40, 40]]);
    second.rows = vec!["r2".into(), "r1".into(), "r0".into(), "r3".into()];
    let r2 = release(&second, MIN_PUBLIC_COUNT, Some(&r1));
    let mut again = suppressed(&r2);
    again.sort_unstable();
    assert_eq!(again, suppressed(&r1));
    check(&second, &r2, MIN_PUBLIC_COUNT);
    // A previous release's suppressed total stays suppressed too.
    let mut r1 = r1;
    r1.total = Cell::Suppressed;
    assert_eq!(release(&second, MIN_PUBLIC_COUNT, Some(&r1)).total, Cell::Suppressed);
}

#[test]
fn a_value_shown_before_does_not_hide_a_new_small_count() {
    let first = table(vec![vec![20, 30], vec![40, 50]]);
    let r1 = release(&first, MIN_PUBLIC_COUNT, None);
    assert_eq!(r1, careless(&first, &[]));
    // A consent withdrawn: 20 becomes 3. Hiding the whole block stops someone with this release alone,
    // but 30, 40 and 50 were published and have not changed: the row total minus 30 gives 3.
    let second = table(vec![vec![3, 30], vec![40, 50]]);
    let block = careless(&second, &[(0, 0), (0, 1), (1, 0), (1, 1)]);
    assert_eq!(determined(&block), Vec::<usize>::new());
    assert_eq!(disclosed(&second, &block, Some(&r1)), vec![0]);
    // The release hides totals that changed instead.
    let r2 = release(&second, MIN_PUBLIC_COUNT, Some(&r1));
    assert_eq!(r2.cells[0][0], Cell::Suppressed);
    assert_eq!(disclosed(&second, &r2, Some(&r1)), Vec::<usize>::new(), "{r2:?}");
    check(&second, &r2, MIN_PUBLIC_COUNT);
}

#[test]
fn a_linked_table_hides_its_total_when_asked() {
    let t = table(vec![vec![20, 30], vec![40, 50]]);
    let r = release_linked(&t, MIN_PUBLIC_COUNT, None, true);
    assert_eq!(r.total, Cell::Suppressed);
    // A cycle through the grand total takes a row total, a column total and the cell where they cross:
    // the smallest.
    assert_eq!(suppressed(&r), vec![("r0", "c0")], "{r:?}");
    assert_eq!((r.row_totals[0], r.col_totals[0]), (Cell::Suppressed, Cell::Suppressed));
    check(&t, &r, MIN_PUBLIC_COUNT);
    assert_eq!(release_linked(&t, MIN_PUBLIC_COUNT, None, false), careless(&t, &[]));
}

#[test]
fn random_tables_resist_both_attackers_across_releases() {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    };
    for round in 0..400 {
        let min_count = if round % 4 == 0 { 5 } else { MIN_PUBLIC_COUNT };
        let (rows, cols) = (1 + next(6) as usize, 1 + next(8) as usize);
        let mut count = |_| match next(4) {
            0 => 0,
            1 => next(11),
            _ => next(30),
        };
        let t = table((0..rows).map(|_| (0..cols).map(&mut count).collect()).collect());
        let r1 = release(&t, min_count, None);
        check(&t, &r1, min_count);
        // Published again after late records and withdrawn consents, sometimes with a new row or
        // without the last one.
        let mut later = t.clone();
        for _ in 0..next(5) {
            let cell = &mut later.counts[next(rows as u64) as usize][next(cols as u64) as usize];
            *cell = if next(4) == 0 { cell.saturating_sub(1 + next(3)) } else { *cell + 1 + next(3) };
        }
        if next(3) == 0 {
            later.rows.push("late".into());
            later.counts.push((0..cols).map(|_| next(15)).collect());
        }
        if rows > 1 && next(5) == 0 {
            later.rows.remove(0);
            later.counts.remove(0);
        }
        let r2 = release(&later, min_count, Some(&r1));
        let changed = later;
        let later = with_names_of(&changed, Some(&r1));
        assert_eq!((&r2.rows, &r2.cols), (&later.rows, &later.cols), "no row or column vanishes");
        check(&later, &r2, min_count);
        let kept = suppressed(&r2);
        assert!(suppressed(&r1).iter().all(|c| kept.contains(c)), "{r1:?} then {r2:?}");
        // Someone holding both, even told which values the first showed did not change.
        assert_eq!(disclosed(&changed, &r2, Some(&r1)), Vec::<usize>::new(), "{r1:?} then {r2:?} of {later:?}");
    }
}

#[test]
fn cells_are_numbers_or_null_in_json() {
    let r = careless(&table(vec![vec![3, 20], vec![15, 25]]), &[(0, 0)]);
    let json = serde_json::to_string(&r).expect("serialise");
    assert!(json.contains(r#""cells":[[null,20],[15,25]]"#), "{json}");
    assert_eq!(serde_json::from_str::<Release>(&json).expect("parse"), r);
}
