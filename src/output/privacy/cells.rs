//! The small-cell engine: which cells of a table to hide so that no count from 1 to
//! `threshold - 1` is shown or can be worked out from what is shown.
//!
//! 1. **Primary**: a count cell with `0 < v < threshold`.
//! 2. **Linear relations** the table implies are written down as equations over its cells:
//!    - additive tables: every count column sums to a total that may be public elsewhere;
//!    - nested counts in a row: `count(*) FILTER (WHERE a)` and `count(*) FILTER (WHERE a AND b)`
//!      over the same rows differ by an unpublished count (e.g. eligible − served = eligible calls
//!      not served) which is itself protected when small;
//!    - relations the caller adds (e.g. year to date across publications, see `publish`).
//!
//!    A hidden small count is *exposed* when the equations determine it (its unit vector is in the
//!    row space of the equations restricted to hidden cells). While one is, the smallest non-zero
//!    visible cell of an equation it appears in is hidden too (complementary suppression).
//! 3. **Dependent values**: a percentage, rate or running total computed (by lineage) from the
//!    same rows as a hidden count is hidden with it; a median or average only when its count is
//!    small (a summary of 11+ values hides no count). Running totals stay hidden from the first
//!    hidden row on.
use std::collections::BTreeSet;

use super::lineage::{AggKind, Lineage};

/// Why a cell is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hide {
    No,
    /// A count from 1 to threshold − 1, or a value computed from one.
    Small,
    /// Hidden so that a small count cannot be worked out (complementary suppression).
    Complement,
}

/// One column as the engine sees it.
#[derive(Debug, Clone, Default)]
pub struct ColumnSpec {
    pub name: String,
    /// Counts of calls, people or places (by lineage, name convention or configuration).
    pub count: bool,
    pub lineage: Lineage,
    /// Columns (by index) this one is computed from by name convention: `X_pct` from `X` (linear),
    /// `prefix_*` from `prefix_n` (summary).
    pub named_linear: Vec<usize>,
    pub named_summary: Vec<usize>,
}

/// One equation `Σ coef · cell = constant`; cells are `(row, column)` or derived (`usize::MAX`, k).
#[derive(Debug, Clone)]
pub struct Equation {
    pub terms: Vec<(Var, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Var {
    Cell(usize, usize),
    /// An unpublished count implied by the table (index into the derived list).
    Derived(usize),
}

/// Decide what to hide. `values[row][col]` are the numeric values (None: null or not a number);
/// `forced` cells are hidden whatever their value; `extra` equations join the table's own.
pub fn suppress(
    columns: &[ColumnSpec],
    values: &[Vec<Option<f64>>],
    threshold: i64,
    additive: bool,
    forced: &[(usize, usize)],
    extra: &[Equation],
) -> Vec<Vec<Hide>> {
    let t = threshold as f64;
    let small = |v: Option<f64>| v.is_some_and(|v| v > 0.0 && v < t);
    let mut hide: Vec<Vec<Hide>> = values
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(j, v)| if columns[j].count && small(*v) { Hide::Small } else { Hide::No })
                .collect()
        })
        .collect();
    for &(i, j) in forced {
        if hide[i][j] == Hide::No {
            hide[i][j] = Hide::Complement;
        }
    }
    let (mut equations, derived) = table_equations(columns, values, additive);
    equations.extend(extra.iter().cloned());
    complement(&mut hide, values, &equations, &derived, t);
    dependents(columns, &mut hide);
    hide
}

/// The equations a table implies, and the values of the unpublished counts they mention.
fn table_equations(columns: &[ColumnSpec], values: &[Vec<Option<f64>>], additive: bool) -> (Vec<Equation>, Vec<f64>) {
    let mut eqs = Vec::new();
    let mut derived = Vec::new();
    if additive && values.len() > 1 {
        for (j, _) in columns.iter().enumerate().filter(|(_, c)| c.count) {
            // Σ cells − total = 0, total public: the constant is left out (only hidden cells matter).
            let terms = (0..values.len()).filter(|&i| values[i][j].is_some()).map(|i| (Var::Cell(i, j), 1.0)).collect();
            eqs.push(Equation { terms });
        }
    }
    for (a, ca) in columns.iter().enumerate() {
        let Some(big) = &ca.lineage.count else { continue };
        for (b, cb) in columns.iter().enumerate() {
            let Some(part) = &cb.lineage.count else { continue };
            let nested = a != b
                && big.node == part.node
                && big.args == part.args
                && big.filter.is_subset(&part.filter)
                && big.filter != part.filter;
            if !nested {
                continue;
            }
            for (i, row) in values.iter().enumerate() {
                if let (Some(va), Some(vb)) = (row[a], row[b]) {
                    derived.push(va - vb);
                    let k = derived.len() - 1;
                    eqs.push(Equation {
                        terms: vec![(Var::Cell(i, a), 1.0), (Var::Cell(i, b), -1.0), (Var::Derived(k), -1.0)],
                    });
                }
            }
        }
    }
    (eqs, derived)
}

fn is_hidden(hide: &[Vec<Hide>], v: Var) -> bool {
    match v {
        Var::Cell(i, j) => hide[i][j] != Hide::No,
        Var::Derived(_) => true,
    }
}

/// Hide visible cells until no small hidden count (published or derived) is determined.
fn complement(hide: &mut [Vec<Hide>], values: &[Vec<Option<f64>>], eqs: &[Equation], derived: &[f64], t: f64) {
    let value = |v: Var| match v {
        Var::Cell(i, j) => values[i][j].unwrap_or(0.0),
        Var::Derived(k) => derived[k],
    };
    loop {
        let sensitive: Vec<Var> = eqs
            .iter()
            .flat_map(|e| e.terms.iter().map(|(v, _)| *v))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|&v| match v {
                Var::Cell(i, j) => hide[i][j] == Hide::Small,
                Var::Derived(k) => derived[k] > 0.0 && derived[k] < t,
            })
            .collect();
        let Some(exposed) = sensitive.into_iter().find(|&v| determined(hide, eqs, v)) else { return };
        // The smallest non-zero visible cell of an equation the exposed cell is in.
        let pick = eqs
            .iter()
            .filter(|e| e.terms.iter().any(|(v, _)| *v == exposed))
            .flat_map(|e| e.terms.iter().map(|(v, _)| *v))
            .filter(|&v| !is_hidden(hide, v))
            .map(|v| (value(v).abs(), v))
            .filter(|(x, _)| *x > 0.0)
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            .or_else(|| {
                // Only zero cells left visible there: hide one of those.
                eqs.iter()
                    .filter(|e| e.terms.iter().any(|(v, _)| *v == exposed))
                    .flat_map(|e| e.terms.iter().map(|(v, _)| *v))
                    .find(|&v| !is_hidden(hide, v))
                    .map(|v| (0.0, v))
            });
        match pick {
            Some((_, Var::Cell(i, j))) => hide[i][j] = Hide::Complement,
            _ => return, // cannot happen: a determined cell is in an equation with a visible cell
        }
    }
}

/// Is hidden variable `target` determined by the equations, given every visible cell?
fn determined(hide: &[Vec<Hide>], eqs: &[Equation], target: Var) -> bool {
    let unknowns: Vec<Var> = eqs
        .iter()
        .flat_map(|e| e.terms.iter().map(|(v, _)| *v))
        .filter(|&v| is_hidden(hide, v))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let Some(ti) = unknowns.iter().position(|&v| v == target) else { return false };
    let rows: Vec<Vec<f64>> = eqs
        .iter()
        .map(|e| {
            let mut r = vec![0.0; unknowns.len()];
            for (v, c) in &e.terms {
                if let Some(k) = unknowns.iter().position(|u| u == v) {
                    r[k] += c;
                }
            }
            r
        })
        .filter(|r| r.iter().any(|x| x.abs() > 1e-12))
        .collect();
    let mut unit = vec![0.0; unknowns.len()];
    unit[ti] = 1.0;
    let mut with = rows.clone();
    with.push(unit);
    rank(rows) == rank(with)
}

fn rank(mut m: Vec<Vec<f64>>) -> usize {
    let cols = m.first().map(Vec::len).unwrap_or(0);
    let mut r = 0;
    for c in 0..cols {
        let Some(p) = (r..m.len()).find(|&i| m[i][c].abs() > 1e-9) else { continue };
        m.swap(r, p);
        let pivot = m[r][c];
        let prow = m[r].clone();
        for (i, row) in m.iter_mut().enumerate() {
            if i != r && row[c].abs() > 1e-12 {
                let f = row[c] / pivot;
                for (x, y) in row.iter_mut().zip(&prow) {
                    *x -= f * y;
                }
            }
        }
        r += 1;
    }
    r
}

/// Hide values computed from hidden counts (to a fixpoint: a hidden running total hides more).
fn dependents(columns: &[ColumnSpec], hide: &mut [Vec<Hide>]) {
    loop {
        let mut changed = false;
        for (s, spec) in columns.iter().enumerate() {
            if spec.lineage.count.is_some() {
                continue; // an exact count is protected as a count
            }
            let running = spec.lineage.aggs.iter().any(|a| a.running);
            let mut from_row: Option<usize> = None;
            for (i, row) in hide.iter_mut().enumerate() {
                if row[s] != Hide::No {
                    continue;
                }
                if let Some(h) = governing(columns, s, row) {
                    row[s] = h;
                    changed = true;
                    from_row = Some(from_row.map_or(i, |f| f.min(i)));
                }
            }
            if let (true, Some(f)) = (running, from_row) {
                for row in hide.iter_mut().skip(f) {
                    if row[s] == Hide::No {
                        row[s] = Hide::Complement;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            return;
        }
    }
}

/// Whether (and how) column `s` must be hidden in a row, given which cells of the row are hidden.
fn governing(columns: &[ColumnSpec], s: usize, row: &[Hide]) -> Option<Hide> {
    let spec = &columns[s];
    let mut out = None;
    let mut worst = |h: Hide| {
        out = match (out, h) {
            (Some(Hide::Small), _) | (_, Hide::Small) => Some(Hide::Small),
            _ => Some(Hide::Complement),
        }
    };
    for &c in &spec.named_linear {
        if row[c] != Hide::No {
            worst(row[c]);
        }
    }
    for &c in &spec.named_summary {
        if row[c] == Hide::Small {
            worst(Hide::Small);
        }
    }
    for (c, cs) in columns.iter().enumerate() {
        if c == s || !cs.count || row[c] == Hide::No {
            continue;
        }
        for a in &spec.lineage.aggs {
            let shared = cs.lineage.aggs.iter().any(|b| b.rows() == a.rows());
            if !shared {
                continue;
            }
            let linear = matches!(a.kind, AggKind::Count | AggKind::Sum);
            if linear || row[c] == Hide::Small {
                worst(if linear { row[c] } else { Hide::Small });
            }
        }
    }
    out
}
