//! The what-if cube: calls counted by rule pattern × category × hour of week × district, computed
//! with one DataFusion query over the policy's per-call rule columns, then made public-safe by
//! rolling small cells (1 to [`SUPPRESS_BELOW`] − 1 calls) up into coarser cells.
//!
//! **Pattern**: bit `i` is the `i`-th boolean column of [`Policy::rule_columns`] (self-initiated,
//! unmapped, insufficient information, each disqualifier, scope, each limitation's `excludes` —
//! hours and area included — and each estimated limitation's `unknown`). Patterns are first made
//! canonical: bits that cannot change any outcome under any page setting are cleared (everything
//! after `self_initiated`; everything after `unmapped` / `insufficient_info` except hours and area;
//! the limitation bits of out-of-scope calls; `unknown` where `excludes` holds).
//!
//! **Weights**: for each non-empty set S of estimated limitations (bit mask 1..2^k), the sum over the
//! cell's calls of Π_{i∈S, unknown_i}(1 − likelihood_i): the expected number of eligible calls when
//! the limitations in S are on. This is `sum(p_eligible)` of `tag`, so the page's point estimate is
//! `report sizing`'s.
//!
//! **Roll-up** (each level only for cells still below the threshold; merged cells are summed):
//! 1. category merged; 2. district merged; 3. hour of week → hour of day; 4. hour merged;
//! 5. pattern: a disqualified call keeps only its first disqualifier ([`M_DISQ`]); other calls lose
//!    their hours/area bits ([`M_HOURS_AREA`]); 6. disqualified calls lose hours/area bits too;
//! 7. a cell still small is added to the largest published cell that every policy scenario treats
//!    alike ([`M_ABSORBED`]): same first disqualifier, or same pattern apart from hours/area bits;
//! 8. what is left (a pattern with fewer calls in total than the threshold) is one residual cell
//!    ([`M_RESIDUAL`]: never eligible on the page); if that is still small it is left out
//!    ([`Cube::dropped_calls`]).
//!
//! Every published cell has at least [`SUPPRESS_BELOW`] calls.
use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::prelude::SessionContext;

use crate::eligibility::policy::{LimitationKind, Policy};
use crate::eligibility::rules;
use crate::error::{Error, Result};
use crate::output::privacy;

/// Cells with 1 to `SUPPRESS_BELOW - 1` calls never appear individually.
pub const SUPPRESS_BELOW: u64 = privacy::MIN_THRESHOLD as u64;
/// At most this many estimated limitations (2^k − 1 weights per cell).
pub const MAX_ESTIMATED: usize = 4;
/// Merge flag: disqualifiers after the first that fired were dropped (small cell).
pub const M_DISQ: u32 = 1;
/// Merge flag: the hours/area bits were dropped (small cell): hours/area filters allocate it.
pub const M_HOURS_AREA: u32 = 2;
/// Merge flag: the residual of small cells of mixed outcomes (never eligible on the page).
pub const M_RESIDUAL: u32 = 4;
/// Merge flag: the cell also holds a few calls of a small cell whose hours/area bits (or, for a
/// disqualified call, later disqualifiers) differ from the cell's.
pub const M_ABSORBED: u32 = 8;
/// `how` of a cell whose hour was merged.
pub const HOW_MERGED: i32 = -1;
/// `how` values `HOD_BASE + h` carry only the hour of day `h` (day merged).
pub const HOD_BASE: i32 = 1000;

/// Where each rule sits in the pattern.
#[derive(Debug, Clone, Default)]
pub struct Bits {
    pub self_initiated: u32,
    pub unmapped: u32,
    pub info: u32,
    /// Per disqualifier, in policy order.
    pub disqualifiers: Vec<u32>,
    pub scope: u32,
    /// Per limitation, in policy order: its `excludes` bit.
    pub limitations: Vec<u32>,
    /// Per limitation: its `unknown` bit (estimated limitations only).
    pub unknown: Vec<Option<u32>>,
    /// Limitation indexes of the estimated limitations (weight set bit j = estimated[j]).
    pub estimated: Vec<usize>,
    /// Bits of the hours and area limitations.
    pub hours_area: u32,
}

impl Bits {
    pub fn of(policy: &Policy) -> Bits {
        let cols: Vec<String> = policy.rule_columns().into_iter().filter(|c| c.boolean).map(|c| c.column).collect();
        let bit = |name: &str| 1u32 << cols.iter().position(|c| c == name).expect("rule column");
        let mut b = Bits {
            self_initiated: bit(rules::SELF_INITIATED),
            unmapped: bit(rules::UNMAPPED),
            info: bit(rules::INSUFFICIENT_INFO),
            disqualifiers: (0..policy.disqualifiers.len()).map(|i| bit(&rules::disqualifier(i))).collect(),
            scope: bit(rules::SCOPE),
            ..Bits::default()
        };
        for (i, l) in policy.limitations.iter().enumerate() {
            b.limitations.push(bit(&rules::limitation(i)));
            let est = matches!(l.kind, LimitationKind::Rule { unknown: Some(_), .. });
            b.unknown.push(est.then(|| bit(&rules::unrecorded(i))));
            if est {
                b.estimated.push(i);
            }
            if !l.is_rule() {
                b.hours_area |= bit(&rules::limitation(i));
            }
        }
        b
    }

    fn disq_mask(&self) -> u32 {
        self.disqualifiers.iter().fold(0, |a, b| a | b)
    }

    /// Clear the bits no page setting can make matter.
    pub fn canonical(&self, p: u32) -> u32 {
        if p & self.self_initiated != 0 {
            return self.self_initiated;
        }
        let keep = p & self.hours_area;
        for b in [self.unmapped, self.info] {
            if p & b != 0 {
                return keep | b;
            }
        }
        let disq = p & self.disq_mask();
        if p & self.scope == 0 {
            return keep | disq;
        }
        let mut lims = 0;
        for (i, l) in self.limitations.iter().enumerate() {
            if self.hours_area & l != 0 {
                continue;
            }
            if p & l != 0 {
                lims |= l;
            } else if let Some(u) = self.unknown[i] {
                lims |= p & u;
            }
        }
        keep | disq | self.scope | lims
    }

    /// Pattern roll-up step `step` (1 or 2) for a small cell: (pattern, merge flags), or None when
    /// the pattern cannot be coarsened without changing a scenario's eligible count.
    fn coarsen(&self, p: u32, m: u32, step: u8) -> Option<(u32, u32)> {
        let disq = p & self.disq_mask();
        if disq != 0 {
            let first = 1u32 << disq.trailing_zeros();
            return Some(match step {
                1 => ((p & self.hours_area) | first, m | M_DISQ),
                _ => (first, m | M_DISQ | M_HOURS_AREA),
            });
        }
        (step == 1 && p & self.self_initiated == 0).then_some((p & !self.hours_area, m | M_HOURS_AREA))
    }
}

/// One published cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub pattern: u32,
    /// Index into [`Cube::categories`]; -1 merged.
    pub category: i32,
    /// 0..167 hour of week (0 = Monday 00:00 local); `HOD_BASE + h` hour of day only; -1 merged.
    pub how: i32,
    /// Index into [`Cube::districts`]; -1 merged.
    pub district: i32,
    pub calls: u64,
    /// Per non-empty set of estimated limitations (mask − 1): expected eligible calls; empty when
    /// every weight equals `calls`.
    pub weights: Vec<f64>,
    /// Merge flags (`M_*`).
    pub merged: u32,
}

/// The public cube and what the roll-up did.
#[derive(Debug, Clone)]
pub struct Cube {
    pub bits: Bits,
    pub categories: Vec<Option<String>>,
    pub districts: Vec<Option<String>>,
    pub cells: Vec<Cell>,
    /// Calls in the warehouse.
    pub calls: u64,
    /// Cells below the threshold before the roll-up, and calls in them.
    pub small_cells: usize,
    pub small_cell_calls: u64,
    /// Calls left out because even the residual cell was small.
    pub dropped_calls: u64,
    /// Calls whose hours/area flags the page cannot see exactly (cells without hours/area bits, and
    /// calls absorbed into a cell with other bits): the most a policy hours/area filter can be off.
    pub hours_area_approx_calls: u64,
    /// Days in the data per weekday (Monday first): "weeks" for hourly rates.
    pub weeks: [u64; 7],
}

/// The cube query: one scan of `calls`, the policy's rule columns, grouped by pattern and keys.
pub fn cube_sql(policy: &Policy, bits: &Bits) -> String {
    let cols = policy.rule_columns();
    let items: Vec<String> = cols.iter().map(|c| c.select_item()).collect();
    let pattern: Vec<String> = cols
        .iter()
        .filter(|c| c.boolean)
        .enumerate()
        .map(|(i, c)| format!("CASE WHEN {} THEN {} ELSE 0 END", c.column, 1u64 << i))
        .collect();
    let weights: Vec<String> = (1..1u32 << bits.estimated.len())
        .map(|set| {
            let f: Vec<String> = (0..bits.estimated.len())
                .filter(|j| set & (1 << j) != 0)
                .map(|j| {
                    let i = bits.estimated[j];
                    format!("(CASE WHEN {} THEN 1.0 - {} ELSE 1.0 END)", rules::unrecorded(i), rules::likelihood(i))
                })
                .collect();
            format!("sum({}) AS w{set}", f.join(" * "))
        })
        .collect();
    format!(
        "WITH r AS (SELECT category, district,
                (CAST(date_part('isodow', received_local) AS BIGINT) - 1) * 24
                  + CAST(date_part('hour', received_local) AS BIGINT) AS how,
                {items}
         FROM calls)
         SELECT CAST({pattern} AS BIGINT) AS pattern, category, how, district, count(*) AS n{comma}{weights}
         FROM r GROUP BY 1, 2, 3, 4",
        items = items.join(",\n                "),
        pattern = pattern.join(" + "),
        comma = if weights.is_empty() { "" } else { ", " },
        weights = weights.join(", "),
    )
}

/// Days in the data per weekday (as `staffing.sql` counts weeks).
const WEEKS_SQL: &str = "SELECT CAST(date_part('isodow', d) AS BIGINT) - 1 AS dow, count(*) AS days
     FROM (SELECT DISTINCT CAST(received_local AS DATE) AS d FROM calls WHERE received_local IS NOT NULL) dd
     GROUP BY 1";

fn strings(b: &RecordBatch, i: usize) -> Result<Vec<Option<String>>> {
    let a = cast(b.column(i), &DataType::Utf8)?;
    let a = a.as_string::<i32>();
    Ok((0..a.len()).map(|r| a.is_valid(r).then(|| a.value(r).to_string())).collect())
}

fn ints(b: &RecordBatch, i: usize) -> Result<Vec<Option<i64>>> {
    let a = cast(b.column(i), &DataType::Int64)?;
    let a = a.as_primitive::<Int64Type>();
    Ok((0..a.len()).map(|r| a.is_valid(r).then(|| a.value(r))).collect())
}

fn floats(b: &RecordBatch, i: usize) -> Result<Vec<f64>> {
    let a = cast(b.column(i), &DataType::Float64)?;
    let a = a.as_primitive::<Float64Type>();
    Ok((0..a.len()).map(|r| if a.is_valid(r) { a.value(r) } else { 0.0 }).collect())
}

fn index_of(list: &mut Vec<Option<String>>, v: Option<String>) -> i32 {
    match list.iter().position(|x| *x == v) {
        Some(i) => i as i32,
        None => {
            list.push(v);
            (list.len() - 1) as i32
        }
    }
}

/// Read the query result into canonical full-detail cells (summed where canonical patterns meet).
fn detail_cells(batches: &[RecordBatch], bits: &Bits, cube: &mut Cube) -> Result<Vec<Cell>> {
    let nw = (1usize << bits.estimated.len()) - 1;
    let mut cells: Vec<Cell> = Vec::new();
    for b in batches {
        let (pattern, cat, how, dist, n) = (ints(b, 0)?, strings(b, 1)?, ints(b, 2)?, strings(b, 3)?, ints(b, 4)?);
        let w: Vec<Vec<f64>> = (0..nw).map(|j| floats(b, 5 + j)).collect::<Result<_>>()?;
        for r in 0..b.num_rows() {
            let p = bits.canonical(pattern[r].unwrap_or(0) as u32);
            let calls = n[r].unwrap_or(0) as u64;
            let eligible_possible = p & bits.scope != 0 && bits.unknown.iter().flatten().any(|u| p & u != 0);
            cells.push(Cell {
                pattern: p,
                category: index_of(&mut cube.categories, cat[r].clone()),
                how: how[r].map(|h| h as i32).unwrap_or(HOW_MERGED),
                district: index_of(&mut cube.districts, dist[r].clone()),
                calls,
                weights: if eligible_possible { w.iter().map(|c| c[r]).collect() } else { Vec::new() },
                merged: 0,
            });
        }
    }
    Ok(cells)
}

type Key = (u32, i32, i32, i32, u32);

/// Sum cells with the same key.
fn aggregate(cells: Vec<Cell>) -> Vec<Cell> {
    let mut by: BTreeMap<Key, Cell> = BTreeMap::new();
    for c in cells {
        let key = (c.pattern, c.category, c.how, c.district, c.merged);
        match by.get_mut(&key) {
            None => {
                by.insert(key, c);
            }
            Some(t) => {
                if t.weights.is_empty() && !c.weights.is_empty() {
                    t.weights = vec![t.calls as f64; c.weights.len()];
                }
                for (j, w) in t.weights.iter_mut().enumerate() {
                    *w += c.weights.get(j).copied().unwrap_or(c.calls as f64);
                }
                t.calls += c.calls;
            }
        }
    }
    by.into_values().collect()
}

/// Roll level `level` (1..=6) applied to a small cell.
fn roll(bits: &Bits, mut c: Cell, level: u8) -> Cell {
    match level {
        1 => c.category = -1,
        2 => c.district = -1,
        3 => c.how = if (0..168).contains(&c.how) { HOD_BASE + c.how % 24 } else { c.how },
        4 => c.how = HOW_MERGED,
        // A pattern that cannot be coarsened is left for `absorb`.
        _ => {
            if let Some((p, m)) = bits.coarsen(c.pattern, c.merged, level - 4) {
                c.pattern = p;
                c.merged = m;
                if p & bits.scope == 0 {
                    c.weights.clear();
                }
            }
        }
    }
    c
}

/// Add a small cell that no roll-up made big enough to a published cell that every policy scenario
/// treats alike: for a disqualified call, a cell with the same first disqualifier; otherwise a cell
/// with the same pattern apart from the hours/area bits (the largest; flag [`M_ABSORBED`]). Returns
/// the cell when there is none.
fn absorb(bits: &Bits, cells: &mut [Cell], c: Cell, approx: &mut u64) -> Option<Cell> {
    let dm = bits.disq_mask();
    let first = |p: u32| p & dm & (p & dm).wrapping_neg();
    let core = |p: u32| p & !bits.hours_area;
    let host = cells
        .iter_mut()
        .filter(|h| h.merged & M_RESIDUAL == 0)
        .filter(|h| {
            if c.pattern & dm != 0 {
                first(h.pattern) == first(c.pattern)
            } else {
                h.pattern & dm == 0 && h.merged & M_DISQ == 0 && core(h.pattern) == core(c.pattern)
            }
        })
        .max_by_key(|h| h.calls);
    let Some(h) = host else { return Some(c) };
    if h.weights.is_empty() && !c.weights.is_empty() {
        h.weights = vec![h.calls as f64; c.weights.len()];
    }
    for (j, w) in h.weights.iter_mut().enumerate() {
        *w += c.weights.get(j).copied().unwrap_or(c.calls as f64);
    }
    h.calls += c.calls;
    h.merged |= M_ABSORBED;
    *approx += c.calls;
    None
}

fn residual(mut c: Cell) -> Cell {
    c.pattern = 0;
    c.merged = M_RESIDUAL;
    c.weights.clear();
    c
}

/// Roll small cells up until every cell has at least [`SUPPRESS_BELOW`] calls.
pub fn roll_up(bits: &Bits, cells: Vec<Cell>, cube: &mut Cube) {
    let mut current = aggregate(cells);
    cube.calls = current.iter().map(|c| c.calls).sum();
    let small: Vec<&Cell> = current.iter().filter(|c| c.calls < SUPPRESS_BELOW).collect();
    cube.small_cells = small.len();
    cube.small_cell_calls = small.iter().map(|c| c.calls).sum();
    for level in 1..=6u8 {
        let (big, small): (Vec<Cell>, Vec<Cell>) = current.into_iter().partition(|c| c.calls >= SUPPRESS_BELOW);
        cube.cells.extend(big);
        current = aggregate(small.into_iter().map(|c| roll(bits, c, level)).collect());
    }
    let (big, small): (Vec<Cell>, Vec<Cell>) = current.into_iter().partition(|c| c.calls >= SUPPRESS_BELOW);
    cube.cells.extend(big);
    let mut approx = 0;
    let left: Vec<Cell> = small.into_iter().filter_map(|c| absorb(bits, &mut cube.cells, c, &mut approx)).collect();
    let unflagged: u64 = cube.cells.iter().filter(|c| c.merged & M_HOURS_AREA != 0).map(|c| c.calls).sum();
    cube.hours_area_approx_calls = approx + unflagged;
    current = aggregate(left.into_iter().map(residual).collect());
    let (big, small): (Vec<Cell>, Vec<Cell>) = current.into_iter().partition(|c| c.calls >= SUPPRESS_BELOW);
    cube.cells.extend(big);
    cube.dropped_calls = small.iter().map(|c| c.calls).sum();
    // Cells of the same key published at different levels (residuals): one row each.
    cube.cells = aggregate(std::mem::take(&mut cube.cells));
    cube.cells.sort_by_key(|c| (c.pattern, c.merged, c.category, c.how, c.district));
    compact_labels(cube);
}

/// Keep only the categories and districts some published cell names (a value seen only in small
/// cells is not revealed), re-indexed in sorted order.
fn compact_labels(cube: &mut Cube) {
    fn remap(list: &mut Vec<Option<String>>, used: impl Iterator<Item = i32>) -> Vec<i32> {
        let mut keep: Vec<(Option<String>, usize)> = Vec::new();
        for i in used.filter(|&i| i >= 0).map(|i| i as usize) {
            if !keep.iter().any(|(_, j)| *j == i) {
                keep.push((list[i].clone(), i));
            }
        }
        keep.sort();
        let mut map = vec![-1; list.len()];
        for (new, (_, old)) in keep.iter().enumerate() {
            map[*old] = new as i32;
        }
        *list = keep.into_iter().map(|(v, _)| v).collect();
        map
    }
    let cats = remap(&mut cube.categories, cube.cells.iter().map(|c| c.category));
    let dists = remap(&mut cube.districts, cube.cells.iter().map(|c| c.district));
    for c in &mut cube.cells {
        if c.category >= 0 {
            c.category = cats[c.category as usize];
        }
        if c.district >= 0 {
            c.district = dists[c.district as usize];
        }
    }
}

/// Build the public cube of `policy` over the warehouse tables in `ctx`.
pub async fn build_cube(ctx: &SessionContext, policy: &Policy) -> Result<Cube> {
    let bits = Bits::of(policy);
    if bits.estimated.len() > MAX_ESTIMATED {
        return Err(Error::Usage(format!(
            "policy {} has {} estimated limitations; the what-if page handles at most {MAX_ESTIMATED}",
            policy.name,
            bits.estimated.len()
        )));
    }
    let mut cube = Cube {
        bits: bits.clone(),
        categories: Vec::new(),
        districts: Vec::new(),
        cells: Vec::new(),
        calls: 0,
        small_cells: 0,
        small_cell_calls: 0,
        dropped_calls: 0,
        hours_area_approx_calls: 0,
        weeks: [0; 7],
    };
    // Not `privacy::public_query`: the pattern's bits are the policy's rule results, which may read
    // any column (the hours rule reads the minute of receipt), exactly as the `eligibility` table's
    // public `reason` does. The other keys are public columns (category, district) and the hour of
    // week; privacy here is the roll-up: no published cell has fewer than SUPPRESS_BELOW calls.
    let (_, batches) = crate::output::sql::query(ctx, &cube_sql(policy, &bits)).await?;
    let cells = detail_cells(&batches, &bits, &mut cube)?;
    roll_up(&bits, cells, &mut cube);
    let (_, batches) = crate::output::sql::query(ctx, WEEKS_SQL).await?;
    for b in &batches {
        for (d, n) in ints(b, 0)?.into_iter().zip(ints(b, 1)?) {
            if let (Some(d @ 0..=6), Some(n)) = (d, n) {
                cube.weeks[d as usize] = n as u64;
            }
        }
    }
    Ok(cube)
}
