//! Randomisation inference over districts for a TWFE difference-in-differences.
//!
//! An *assignment* gives every district its start week (`None`: never treated). The reference
//! distribution re-estimates the TWFE coefficient under every distinct way of handing the observed
//! start dates to districts (with 6 districts and 2 treated: C(6,2) = 15; with staggered starts the
//! multinomial count), or — when there are more than [`MAX_EXACT`] — under seeded random
//! permutations plus the observed one.
//!
//! - p-value (two-sided): the share of assignments whose |coefficient| is at least the observed one.
//!   Exact under the sharp null of no effect in any district-week, if treatment was as good as
//!   randomly assigned to districts (or district errors are exchangeable).
//! - interval: the set of constant effects τ not rejected at level `alpha`, found exactly. Under
//!   "effect τ everywhere treated", `y − τ·d` has no effect, and every assignment's coefficient is
//!   linear in τ (`a − τ·b`), so the p-value is a step function of τ whose steps are the roots of
//!   `(a − τ·b)² = (β − τ)²`; the interval is the hull of the accepted steps. With N assignments the
//!   smallest p-value is 1/N, so the interval's exact level is `1 − ⌊alpha·N⌋/N` (e.g. 14/15 =
//!   93.3 % for alpha = 0.10 and N = 15), and it is unbounded when `⌊alpha·N⌋ = 0`.
use super::twfe::{coefficient, Fe};
use crate::rng::SplitMix64;

/// Enumerate every distinct assignment up to this many; above it, draw random ones.
pub const MAX_EXACT: usize = 5000;

/// A start week per district.
pub type Assignment = Vec<Option<usize>>;

/// The assignments to compare with; the observed one first.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignments {
    pub list: Vec<Assignment>,
    /// Every distinct assignment (true) or random draws (false).
    pub exact: bool,
}

/// Number of distinct permutations of a multiset (saturating).
fn multinomial(observed: &[Option<usize>]) -> usize {
    let mut sorted = observed.to_vec();
    sorted.sort_unstable();
    let (mut total, mut run, mut n) = (1u128, 0u128, 0u128);
    for i in 0..sorted.len() {
        run = if i > 0 && sorted[i] == sorted[i - 1] { run + 1 } else { 1 };
        n += 1;
        total = total * n / run;
        if total > usize::MAX as u128 {
            return usize::MAX;
        }
    }
    total as usize
}

/// Lexicographic next permutation in place; false after the last one.
fn next_permutation<T: Ord>(v: &mut [T]) -> bool {
    let Some(i) = (1..v.len()).rev().find(|&i| v[i - 1] < v[i]) else {
        return false;
    };
    let j = (i..v.len()).rev().find(|&j| v[j] > v[i - 1]).expect("a larger element exists");
    v.swap(i - 1, j);
    v[i..].reverse();
    true
}

/// Every distinct permutation of `observed` when there are at most `max_exact`, else the observed
/// one and `draws` seeded Fisher–Yates shuffles of it.
pub fn assignments(observed: &[Option<usize>], max_exact: usize, draws: usize, seed: u64) -> Assignments {
    let mut list = vec![observed.to_vec()];
    if multinomial(observed) <= max_exact {
        let mut p = observed.to_vec();
        p.sort_unstable();
        loop {
            if p != observed {
                list.push(p.clone());
            }
            if !next_permutation(&mut p) {
                break;
            }
        }
        return Assignments { list, exact: true };
    }
    let mut rng = SplitMix64::new(seed);
    for _ in 0..draws {
        let mut p = observed.to_vec();
        for i in (1..p.len()).rev() {
            p.swap(i, rng.below(i + 1));
        }
        list.push(p);
    }
    Assignments { list, exact: false }
}

/// Treatment indicator of every observation under an assignment.
pub fn indicator(cells: &[(usize, usize)], a: &[Option<usize>]) -> Vec<f64> {
    cells.iter().map(|&(g, t)| if a[g].is_some_and(|s| t >= s) { 1.0 } else { 0.0 }).collect()
}

/// The estimate and its randomisation inference.
#[derive(Debug, Clone, PartialEq)]
pub struct Inference {
    pub estimate: f64,
    pub p_value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Exact coverage of the interval under the design: `1 − ⌊alpha·N⌋/N`.
    pub ci_level: f64,
    /// Assignments used (N), the observed one included.
    pub assignments: usize,
}

/// Count of assignments at least as extreme as the observed one at effect `tau`.
fn extreme(ab: &[(f64, f64)], beta: f64, tau: f64) -> usize {
    let obs = (beta - tau).abs();
    let tol = 1e-9 * (1.0 + obs);
    ab.iter().filter(|(a, b)| (a - tau * b).abs() >= obs - tol).count()
}

/// TWFE estimate of the effect of the observed assignment (`assigns.list[0]`) on `y`, its
/// randomisation p-value and the interval of constant effects not rejected at `alpha`.
/// `None` when the observed treatment is collinear with the fixed effects.
pub fn infer(fe: &Fe, cells: &[(usize, usize)], y: &[f64], assigns: &Assignments, alpha: f64) -> Option<Inference> {
    let d_obs = indicator(cells, &assigns.list[0]);
    let d_tilde = fe.residualise(&d_obs);
    let beta = coefficient(&d_tilde, y)?;
    // (a, b) per usable assignment: its coefficient on y and on the observed indicator.
    let ab: Vec<(f64, f64)> = assigns
        .list
        .iter()
        .filter_map(|a| {
            let dt = fe.residualise(&indicator(cells, a));
            Some((coefficient(&dt, y)?, coefficient(&dt, &d_obs)?))
        })
        .collect();
    let n = ab.len();
    let p = |tau: f64| extreme(&ab, beta, tau) as f64 / n as f64;
    let mut roots = vec![beta];
    for &(a, b) in &ab {
        if (1.0 - b).abs() > 1e-12 {
            roots.push((beta - a) / (1.0 - b));
        }
        if (1.0 + b).abs() > 1e-12 {
            roots.push((beta + a) / (1.0 + b));
        }
    }
    roots.retain(|r| r.is_finite());
    roots.sort_by(f64::total_cmp);
    let accepted = |tau: f64| p(tau) > alpha;
    let (first, last) = (roots[0], roots[roots.len() - 1]);
    let span = (last - first).abs().max(1.0);
    let mut lo = if accepted(first - span) { f64::NEG_INFINITY } else { f64::INFINITY };
    let mut hi = if accepted(last + span) { f64::INFINITY } else { f64::NEG_INFINITY };
    for &r in &roots {
        if accepted(r) {
            lo = lo.min(r);
            hi = hi.max(r);
        }
    }
    Some(Inference {
        estimate: beta,
        p_value: p(0.0),
        ci_low: lo,
        ci_high: hi,
        ci_level: 1.0 - (alpha * n as f64 + 1e-9).floor() / n as f64,
        assignments: n,
    })
}
