//! Public statistics: tables of counts published outside the agencies (victims by commune and sex, by
//! destination country and form of exploitation, ...) without revealing small groups of people.
//!
//! A [`Release`] publishes every cell of a [`Table`], each row total, each column total and the grand total,
//! each either shown or suppressed. Three rules make it safe:
//!
//! 1. **Primary suppression.** Every count from 1 to `min_count - 1` (1 to 10 with [`MIN_PUBLIC_COUNT`]) is
//!    suppressed, and this includes totals: a row total of 7 says as much about seven people as a cell of 7.
//!    **Zeros are shown**: a count of 0 is about nobody, and structural zeros keep the table readable.
//! 2. **Complementary suppression.** The published values obey linear equations: the cells of a row add up
//!    to its total, the cells of a column to its total, and both the row totals and the column totals add up
//!    to the grand total. More values are suppressed until no suppressed value is determined by these
//!    equations (see below), preferring, in this order: no total, no value the previous release showed, no
//!    zero, then the smallest counts. Totals are therefore suppressed only when cells cannot do it: in a
//!    table of one row or one column (whose totals repeat its cells), or when a total is itself small.
//!    A zero is suppressed only when no count can serve: beside a small count, it leaves their sum, hence
//!    a tight bound on the count (but suppressed it must be then, or the small count falls out).
//! 3. **Releases of the same period.** When a table is published again (after late records), every value
//!    the previous release suppressed stays suppressed, matched by row and column name, and every row and
//!    column it had is kept (as zeros if its records are gone: a vanished row would tell). A value the
//!    previous release showed and that has not changed is public already: suppressing it hides nothing, so
//!    it never serves as a complement (see below).
//!
//! # When is a suppressed value determined?
//!
//! See the equations as a graph: one node per equation (one per row, one per column, one for the row
//! totals, one for the column totals) and one edge per published value, joining the two equations it is in.
//! A cell joins its row and its column, a row total its row and the row-totals equation, a column total its
//! column and the column-totals equation, the grand total these last two. This gives an exact criterion
//! (checked against Gaussian elimination over the rationals: [`disclosed`]): a suppressed value is determined by
//! the shown ones if and only if it is a *bridge* of the graph of suppressed values (lies on no cycle of
//! suppressed values). Around a cycle, an amount can be moved from value to value without breaking any
//! equation, so no value on a cycle is determined; a bridge cuts its part of the graph in two, and adding
//! up the equations on one side leaves it alone with shown values. [`release`] suppresses until there is no
//! bridge: this defeats every exact linear attack, not only the solving of a line with one unknown (two
//! blocks of suppressed cells joined by one suppressed cell pass the "two per line" rule, yet leak it).
//!
//! # Across releases of the same period
//!
//! Someone holding both releases knows every value the first one showed; where the second suppresses it and
//! it has not changed, they know it still. Complementary suppression therefore counts those values as shown
//! and builds its cycles from the others. It always can: the changes between two releases obey the same
//! equations (a circulation around the graph, orient the values total of a column → cell → total of a row →
//! grand total), and the values carrying a circulation have no bridge; neither have the values the previous
//! release suppressed, nor their union. So even someone told which shown values did not change determines
//! nothing new (checked in the tests).
//!
//! Limits: intervals are not protected (a suppressed cell lies between 0 and the smallest shown total it is
//! part of), and a change in a shown value is published: if a shown row total grows from 40 to 43 while its
//! shown cells stay the same, three late records fell in its suppressed cells, though not in which.

use serde::{Deserialize, Serialize};

/// The smallest count published (the threshold of CTDC's k-anonymity): counts from 1 to 10 are suppressed.
pub const MIN_PUBLIC_COUNT: u64 = 11;

/// A table of counts with named rows and columns: `counts[r][c]` for `rows[r]` and `cols[c]`. The names
/// identify rows and columns across releases of the same period, so they should be unique.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    pub counts: Vec<Vec<u64>>,
}

/// A published value. In JSON, a number or `null`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    Shown(u64),
    Suppressed,
}

impl Cell {
    /// The value, when shown.
    pub fn shown(self) -> Option<u64> {
        match self {
            Cell::Shown(n) => Some(n),
            Cell::Suppressed => None,
        }
    }
}

/// What is published of a [`Table`]: its cells (`cells[r][c]`), its totals and their names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    pub cells: Vec<Vec<Cell>>,
    pub row_totals: Vec<Cell>,
    pub col_totals: Vec<Cell>,
    pub total: Cell,
}

/// Release a table under the rules of the module: counts from 1 to `min_count - 1` suppressed, what
/// `previous` (an earlier release of the same period) suppressed kept suppressed, then complementary
/// suppression until no suppressed value can be worked out from the published ones.
///
/// # Panics
/// If `counts` is not `rows.len()` rows of `cols.len()` counts.
pub fn release(table: &Table, min_count: u64, previous: Option<&Release>) -> Release {
    release_linked(table, min_count, previous, false)
}

/// [`release`], with the grand total suppressed whatever its count when `hide_total`: for tables of one
/// period that count the same people (victims by age and sex, victims by country), whose grand totals are
/// the same number. Where one release must hide it, the others must too, or it could be read there.
pub fn release_linked(table: &Table, min_count: u64, previous: Option<&Release>, hide_total: bool) -> Release {
    let (rows, cols) = (table.rows.len(), table.cols.len());
    assert!(
        table.counts.len() == rows && table.counts.iter().all(|r| r.len() == cols),
        "a table's counts must be {rows} rows of {cols}"
    );
    let table = &with_names_of(table, previous);
    let (rows, cols) = (table.rows.len(), table.cols.len());
    // Nodes: the rows, then the columns, then the row-totals and the column-totals equations. Values (edges)
    // in the order of the release: cells row by row, row totals, column totals, grand total.
    let (row_sums, col_sums) = (rows + cols, rows + cols + 1);
    let mut edges = Vec::with_capacity(rows * cols + rows + cols + 1);
    for r in 0..rows {
        edges.extend((0..cols).map(|c| ([r, rows + c], table.counts[r][c], false)));
    }
    edges.extend((0..rows).map(|r| ([r, row_sums], table.counts[r].iter().sum(), true)));
    edges.extend((0..cols).map(|c| ([rows + c, col_sums], table.counts.iter().map(|row| row[c]).sum(), true)));
    edges.push(([row_sums, col_sums], table.counts.iter().flatten().sum(), true));
    let mut values: Vec<Value> = edges
        .into_iter()
        .zip(published_before(table, previous))
        .enumerate()
        .map(|(i, ((ends, count, total), before))| Value {
            ends,
            count,
            total,
            shown_before: matches!(before, Some(Cell::Shown(_))),
            known: before == Some(Cell::Shown(count)),
            hidden: (1..min_count).contains(&count)
                || before == Some(Cell::Suppressed)
                || (hide_total && i == rows * cols + rows + cols),
        })
        .collect();
    protect(&mut values, rows + cols + 2);

    let mut published = values.iter().map(|v| if v.hidden { Cell::Suppressed } else { Cell::Shown(v.count) });
    let cells = (0..rows).map(|_| published.by_ref().take(cols).collect()).collect();
    let row_totals = published.by_ref().take(rows).collect();
    let col_totals = published.by_ref().take(cols).collect();
    Release {
        rows: table.rows.clone(),
        cols: table.cols.clone(),
        cells,
        row_totals,
        col_totals,
        total: published.next().unwrap_or(Cell::Suppressed),
    }
}

/// The suppressed values of `r`, a release of `table`, that someone could work out exactly, as indices in
/// release order (cells row by row, row totals, column totals, grand total): by solving the equations
/// between its shown values (Gaussian elimination over the rationals), together with, when `previous` is
/// the earlier release of the period, every value it showed that has not changed since. [`release`] never
/// makes a release with one; publishing checks it anyway, by this independent route.
///
/// # Panics
/// If `r` has other rows or columns than `table` (with those of `previous` it lacks).
pub fn disclosed(table: &Table, r: &Release, previous: Option<&Release>) -> Vec<usize> {
    let table = with_names_of(table, previous);
    assert!(r.rows == table.rows && r.cols == table.cols, "a release of another table");
    let (mut values, eqs) = equations(r);
    if previous.is_some() {
        let truth = true_values(&table);
        for (v, before) in published_before(&table, previous).into_iter().enumerate() {
            if values[v].is_none() && before.and_then(Cell::shown) == Some(truth[v]) {
                values[v] = Some(truth[v]);
            }
        }
    }
    solve((values, eqs))
}

/// Every value of a table in release order.
fn true_values(t: &Table) -> Vec<u64> {
    let cols = t.cols.len();
    let mut out: Vec<u64> = t.counts.iter().flatten().copied().collect();
    out.extend(t.counts.iter().map(|row| row.iter().sum::<u64>()));
    out.extend((0..cols).map(|c| t.counts.iter().map(|row| row[c]).sum::<u64>()));
    out.push(t.counts.iter().flatten().sum());
    out
}

/// The equations between the values of a release (in release order: cells row by row, row totals, column
/// totals, grand total), each as (parts, whole).
type Equations = Vec<(Vec<usize>, usize)>;

/// A release as someone outside sees it: its values in release order, `None` where suppressed, and the
/// equations between them.
fn equations(r: &Release) -> (Vec<Option<u64>>, Equations) {
    let (rows, cols) = (r.rows.len(), r.cols.len());
    let values = r.cells.iter().flatten().chain(&r.row_totals).chain(&r.col_totals).chain([&r.total]);
    let (row_total, col_total, grand) = (|i| rows * cols + i, |j| rows * cols + rows + j, rows * cols + rows + cols);
    let mut eqs: Equations = (0..rows).map(|i| ((0..cols).map(|j| i * cols + j).collect(), row_total(i))).collect();
    eqs.extend((0..cols).map(|j| ((0..rows).map(|i| i * cols + j).collect(), col_total(j))));
    eqs.push(((0..rows).map(row_total).collect(), grand));
    eqs.push(((0..cols).map(col_total).collect(), grand));
    (values.map(|c| c.shown()).collect(), eqs)
}

/// The unknowns of `values` that `eqs` determine.
fn solve((values, eqs): (Vec<Option<u64>>, Equations)) -> Vec<usize> {
    let unknown: Vec<usize> = (0..values.len()).filter(|&v| values[v].is_none()).collect();
    let coefficient =
        |(parts, whole): &(Vec<usize>, usize), u: usize| i128::from(parts.contains(&u)) - i128::from(u == *whole);
    let mut m: Vec<Vec<i128>> = eqs.iter().map(|e| unknown.iter().map(|&u| coefficient(e, u)).collect()).collect();
    let gcd = |mut a: i128, mut b: i128| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a.abs()
    };
    let mut rank = 0;
    for col in 0..unknown.len() {
        let Some(p) = (rank..m.len()).find(|&i| m[i][col] != 0) else { continue };
        m.swap(rank, p);
        let pivot = m[rank].clone();
        for (i, row) in m.iter_mut().enumerate() {
            let b = row[col];
            if i == rank || b == 0 {
                continue;
            }
            row.iter_mut().zip(&pivot).for_each(|(x, y)| *x = *x * pivot[col] - y * b);
            let g = row.iter().fold(0, |g, x| gcd(g, *x)).max(1);
            row.iter_mut().for_each(|x| *x /= g);
        }
        rank += 1;
    }
    let single = |row: &Vec<i128>| match (0..row.len()).filter(|&j| row[j] != 0).collect::<Vec<_>>()[..] {
        [j] => Some(unknown[j]),
        _ => None,
    };
    m.iter().filter_map(single).collect()
}

/// A published value as an edge of the graph of equations.
struct Value {
    ends: [usize; 2],
    count: u64,
    total: bool,
    shown_before: bool,
    /// Shown by the previous release with the same count: public already.
    known: bool,
    hidden: bool,
}

/// The cost of suppressing one more value, compared in order: totals, values the previous release showed,
/// zeros, then the sum of the counts.
type Cost = (u64, u64, u64, u64);
const FREE: Cost = (0, 0, 0, 0);

impl Value {
    fn cost(&self) -> Cost {
        if self.hidden {
            FREE
        } else {
            (self.total.into(), self.shown_before.into(), (self.count == 0).into(), self.count)
        }
    }
    fn other_end(&self, node: usize) -> usize {
        if self.ends[0] == node {
            self.ends[1]
        } else {
            self.ends[0]
        }
    }
}

/// `table` with the rows and columns of `previous` it lacks, as zeros, after its own.
fn with_names_of(table: &Table, previous: Option<&Release>) -> Table {
    let mut out = table.clone();
    let Some(p) = previous else { return out };
    for name in p.cols.iter().filter(|n| !table.cols.contains(n)) {
        out.cols.push(name.clone());
        out.counts.iter_mut().for_each(|row| row.push(0));
    }
    for name in p.rows.iter().filter(|n| !table.rows.contains(n)) {
        out.rows.push(name.clone());
        out.counts.push(vec![0; out.cols.len()]);
    }
    out
}

/// What `previous` published for each value of `table`, in the order of the values, matched by name.
fn published_before(table: &Table, previous: Option<&Release>) -> Vec<Option<Cell>> {
    let (rows, cols) = (table.rows.len(), table.cols.len());
    let Some(p) = previous else { return vec![None; rows * cols + rows + cols + 1] };
    let find = |names: &[String], name: &String| names.iter().position(|n| n == name);
    let at_row: Vec<Option<usize>> = table.rows.iter().map(|n| find(&p.rows, n)).collect();
    let at_col: Vec<Option<usize>> = table.cols.iter().map(|n| find(&p.cols, n)).collect();
    let mut out = Vec::with_capacity(rows * cols + rows + cols + 1);
    for r in &at_row {
        out.extend(at_col.iter().map(|c| r.zip(*c).and_then(|(r, c)| p.cells.get(r)?.get(c).copied())));
    }
    out.extend(at_row.iter().map(|r| r.and_then(|r| p.row_totals.get(r).copied())));
    out.extend(at_col.iter().map(|c| c.and_then(|c| p.col_totals.get(c).copied())));
    out.push(Some(p.total));
    out
}

/// Complementary suppression: while a suppressed value is a bridge of the suppressed graph, suppress the
/// cheapest path of values that closes a cycle through it, without values the previous release showed
/// unchanged (there always is one, see the module). Suppressing more never makes a bridge of a value on a
/// cycle, so each step settles one value for good. Should a table break that rule (a previous release with
/// another threshold), any value may serve. A value on no cycle of the whole table is zero by the table's
/// shape alone (this happens only without rows or without columns) and is shown.
fn protect(values: &mut [Value], nodes: usize) {
    while let Some(&bridge) = bridges(values, nodes).first() {
        let [from, to] = values[bridge].ends;
        let path = cheapest_path(values, nodes, from, to, bridge, true)
            .or_else(|| cheapest_path(values, nodes, from, to, bridge, false));
        match path {
            Some(path) => path.into_iter().for_each(|i| values[i].hidden = true),
            None => values[bridge].hidden = false,
        }
    }
}

/// For each node, its (neighbour, value) pairs over the values kept.
fn adjacency(values: &[Value], nodes: usize, keep: impl Fn(usize, &Value) -> bool) -> Vec<Vec<(usize, usize)>> {
    let mut adj = vec![Vec::new(); nodes];
    for (i, v) in values.iter().enumerate().filter(|(i, v)| keep(*i, v)) {
        adj[v.ends[0]].push((v.ends[1], i));
        adj[v.ends[1]].push((v.ends[0], i));
    }
    adj
}

/// The suppressed values that are bridges of the suppressed graph (Tarjan's low-link search).
fn bridges(values: &[Value], nodes: usize) -> Vec<usize> {
    struct Search {
        adj: Vec<Vec<(usize, usize)>>,
        order: Vec<Option<usize>>,
        low: Vec<usize>,
        bridges: Vec<usize>,
    }
    impl Search {
        fn visit(&mut self, node: usize, via: Option<usize>, next: &mut usize) {
            let me = *next;
            *next += 1;
            self.order[node] = Some(me);
            self.low[node] = me;
            for k in 0..self.adj[node].len() {
                let (other, edge) = self.adj[node][k];
                if Some(edge) == via {
                    continue;
                }
                match self.order[other] {
                    Some(seen) => self.low[node] = self.low[node].min(seen),
                    None => {
                        self.visit(other, Some(edge), next);
                        self.low[node] = self.low[node].min(self.low[other]);
                        if self.low[other] > me {
                            self.bridges.push(edge);
                        }
                    }
                }
            }
        }
    }
    let adj = adjacency(values, nodes, |_, v| v.hidden);
    let mut search = Search { adj, order: vec![None; nodes], low: vec![0; nodes], bridges: Vec::new() };
    let mut next = 0;
    for node in 0..nodes {
        if search.order[node].is_none() {
            search.visit(node, None, &mut next);
        }
    }
    search.bridges.sort_unstable();
    search.bridges
}

/// The cheapest path from `from` to `to` not using value `skip` (Dijkstra), as the values it uses; when
/// `fresh_only`, not using values known from the previous release either.
fn cheapest_path(
    values: &[Value],
    nodes: usize,
    from: usize,
    to: usize,
    skip: usize,
    fresh_only: bool,
) -> Option<Vec<usize>> {
    let adj = adjacency(values, nodes, |i, v| i != skip && !(fresh_only && v.known && !v.hidden));
    let add = |a: Cost, b: Cost| (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3.saturating_add(b.3));
    let mut cost: Vec<Option<Cost>> = vec![None; nodes];
    let mut via: Vec<Option<usize>> = vec![None; nodes];
    let mut done = vec![false; nodes];
    cost[from] = Some(FREE);
    while let Some(node) = (0..nodes).filter(|&n| !done[n] && cost[n].is_some()).min_by_key(|&n| cost[n]) {
        if node == to {
            break;
        }
        done[node] = true;
        let here = cost[node].unwrap_or(FREE);
        for &(other, i) in &adj[node] {
            let there = add(here, values[i].cost());
            if !done[other] && cost[other].is_none_or(|old| there < old) {
                cost[other] = Some(there);
                via[other] = Some(i);
            }
        }
    }
    let mut path = Vec::new();
    let mut node = to;
    while node != from {
        let i = via[node]?;
        path.push(i);
        node = values[i].other_end(node);
    }
    Some(path)
}

#[cfg(test)]
mod tests;
