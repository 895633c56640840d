use std::collections::BTreeMap;

use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};

use super::ri::{indicator, MAX_EXACT};
use super::*;
use crate::output::report::Format;
use crate::rng::Rng;

fn week_date(t: usize) -> String {
    let d = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::weeks(t as i64);
    d.format("%Y-%m-%d").to_string()
}

/// A panel of `g` districts (`D0`…) × `t` weeks from 2024-01-01, every measure = `f(district, week)`
/// (`None`: missing cell), its calls = 1; `starts[d]` = the start week of district d.
fn panel(g: usize, t: usize, starts: &[Option<usize>], f: impl Fn(usize, usize) -> Option<f64>) -> Panel {
    let (mut week, mut district, mut start, mut vals) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for w in 0..t {
        for (d, s) in starts.iter().enumerate().take(g) {
            week.push(week_date(w));
            district.push(format!("D{d}"));
            start.push(s.map(week_date));
            vals.push(f(d, w));
        }
    }
    let mut cols = BTreeMap::new();
    for m in MEASURES {
        cols.insert(m.calls_column.to_string(), vec![Some(1.0); vals.len()]);
    }
    for m in MEASURES {
        cols.insert(m.name.to_string(), vals.clone());
    }
    Panel::from_rows(&week, &district, &start, cols)
}

fn first(p: &Panel) -> Estimate {
    estimate_measure(p, &MEASURES[0], 20, 1)
}

#[test]
fn twfe_recovers_a_known_effect_exactly() {
    // District and week effects (non-linear in time) plus -4 per treated week, staggered starts.
    let starts = [Some(4), None, Some(7), None, None];
    let y = |d: usize, w: usize| {
        3.0 * d as f64 + 0.5 * (w * w) as f64 + if starts[d].is_some_and(|s| w >= s) { -4.0 } else { 0.0 }
    };
    let e = first(&panel(5, 10, &starts, |d, w| Some(y(d, w))));
    assert!((e.estimate.unwrap() + 4.0).abs() < 1e-9, "{e:?}");
    assert_eq!((e.clusters_treated, e.clusters_total, e.weeks_pre, e.weeks_post), (2, 5, 7, 6));
    // No pre-trend in the data: the placebo is exactly 0.
    assert!(e.pretrend_estimate.unwrap().abs() < 1e-9, "{e:?}");
    // Unbalanced (cells missing) and still exact.
    let e = first(&panel(5, 10, &starts, |d, w| ((d + w) % 7 != 3).then(|| y(d, w))));
    assert!((e.estimate.unwrap() + 4.0).abs() < 1e-9, "{e:?}");
    // A treated-only linear trend before the start shows in the placebo.
    let e = first(&panel(5, 10, &[Some(8), None, Some(8), None, None], |d, w| {
        Some(if d % 2 == 0 { w as f64 } else { 0.0 })
    }));
    assert!(e.pretrend_estimate.unwrap() > 2.0, "{e:?}");
}

#[test]
fn within_transformation_matches_demeaning_on_a_balanced_panel() {
    let cells: Vec<(usize, usize)> = (0..4).flat_map(|t| (0..3).map(move |g| (g, t))).collect();
    let v: Vec<f64> = cells.iter().map(|&(g, t)| ((g * 7 + t * 3) % 5) as f64 + 0.1 * (g * t) as f64).collect();
    let r = twfe::Fe::new(&cells).unwrap().residualise(&v);
    let mean = |f: &dyn Fn(usize) -> bool| {
        let xs: Vec<f64> = (0..v.len()).filter(|&i| f(i)).map(|i| v[i]).collect();
        xs.iter().sum::<f64>() / xs.len() as f64
    };
    let all = mean(&|_| true);
    for (i, &(g, t)) in cells.iter().enumerate() {
        let want = v[i] - mean(&|j| cells[j].0 == g) - mean(&|j| cells[j].1 == t) + all;
        assert!((r[i] - want).abs() < 1e-9);
    }
    assert!(twfe::Fe::new(&[(0, 0), (0, 1)]).is_none(), "one district: no comparison");
}

#[test]
fn randomisation_p_value_by_hand() {
    // 3 districts x 2 weeks, D0 treated from week 1. Week-1 changes: D0 +6, D1 0, D2 +1.
    // With two weeks TWFE = own change minus the mean change of the others:
    //   D0 treated: 6 - 0.5 = 5.5;  D1: 0 - 3.5 = -3.5;  D2: 1 - 3 = -2.
    // |5.5| is the largest of 3 → p = 1/3.
    let change = [6.0, 0.0, 1.0];
    let p = panel(3, 2, &[Some(1), None, None], |d, w| Some(10.0 * d as f64 + if w == 1 { change[d] } else { 0.0 }));
    let e = first(&p);
    assert!((e.estimate.unwrap() - 5.5).abs() < 1e-12);
    assert_eq!(e.assignments, 3);
    assert!((e.p_value.unwrap() - 1.0 / 3.0).abs() < 1e-12);
    // With 3 assignments no test of size 0.10 can reject: the interval is the whole line, level 1.
    assert_eq!((e.ci_low, e.ci_high, e.ci_level), (Some(f64::NEG_INFINITY), Some(f64::INFINITY), Some(1.0)));
    // D2 treated instead: -2 vs 5.5 and -3.5 → p = 3/3.
    let p = panel(3, 2, &[None, None, Some(1)], |d, w| Some(10.0 * d as f64 + if w == 1 { change[d] } else { 0.0 }));
    assert_eq!(first(&p).p_value, Some(1.0));
}

#[test]
fn interval_is_the_set_of_effects_not_rejected() {
    let mut rng = Rng::new(3);
    let starts = [Some(6), None, Some(6), None, None, None];
    let noise: Vec<f64> = (0..6 * 12).map(|_| rng.normal()).collect();
    let on = |d: usize, w: usize| starts[d].is_some_and(|s| w >= s);
    let y = |d: usize, w: usize| Some(d as f64 + noise[w * 6 + d] + if on(d, w) { 3.0 } else { 0.0 });
    let e = first(&panel(6, 12, &starts, y));
    assert_eq!((e.assignments, e.clusters_treated), (15, 2));
    assert!((e.ci_level.unwrap() - 14.0 / 15.0).abs() < 1e-12);
    let (lo, hi) = (e.ci_low.unwrap(), e.ci_high.unwrap());
    assert!(lo.is_finite() && hi.is_finite() && lo < e.estimate.unwrap() && e.estimate.unwrap() < hi, "{e:?}");
    // p(τ) is the p-value of y − τ·d: above alpha inside the interval, at most alpha just outside.
    let p_at = |tau: f64| {
        let shifted = panel(6, 12, &starts, |d, w| y(d, w).map(|v| v - if on(d, w) { tau } else { 0.0 }));
        first(&shifted).p_value.unwrap()
    };
    let eps = 1e-6 * (hi - lo);
    let ps = [p_at(lo - eps), p_at(lo + eps), p_at(e.estimate.unwrap()), p_at(hi - eps), p_at(hi + eps)];
    assert!(ps[0] <= CI_ALPHA && ps[1] > CI_ALPHA && ps[2] == 1.0 && ps[3] > CI_ALPHA && ps[4] <= CI_ALPHA, "{ps:?}");
}

#[test]
fn staggered_starts() {
    assert_eq!(
        parse_starts("D1:2024-06-01, D3:2024-08-01").unwrap(),
        [("D1".to_string(), "2024-06-01".to_string()), ("D3".to_string(), "2024-08-01".to_string())]
    );
    assert!(parse_starts("D1:2024-13-01").is_err());
    assert!(parse_starts("D1").is_err());
    assert!(parse_starts("D1:2024-06-01,D1:2024-07-01").is_err());
    assert!(parse_starts("").unwrap().is_empty());
    // A start on a Wednesday counts from the next Monday; a start after the data never turns on.
    let mut p = panel(3, 5, &[None, None, None], |_, _| Some(1.0));
    p.starts = vec![Some("2024-01-10".into()), None, Some("2025-01-01".into())];
    assert_eq!(p.start_weeks(), [Some(2), None, Some(5)]);
    assert_eq!(p.starts_label(), "D0:2024-01-10,D2:2025-01-01");
    // Start dates, not just districts, are permuted: 6!/(1!·1!·4!) = 30 distinct assignments.
    let observed = [Some(3), None, Some(5), None, None, None];
    let a = ri::assignments(&observed, MAX_EXACT, 10, 1);
    assert!(a.exact);
    assert_eq!(a.list.len(), 30);
    assert_eq!(a.list[0], observed);
    let mut distinct = a.list.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 30);
    let cells = [(0, 2), (0, 3), (2, 4), (2, 5)];
    assert_eq!(indicator(&cells, &observed), [0.0, 1.0, 0.0, 1.0]);
    // Staggered effect of +2 recovered with its own p-value over the 30 assignments.
    let e = first(&panel(6, 9, &observed, |d, w| {
        Some(d as f64 + (w % 3) as f64 + if observed[d].is_some_and(|s| w >= s) { 2.0 } else { 0.0 })
    }));
    assert!((e.estimate.unwrap() - 2.0).abs() < 1e-9);
    assert_eq!((e.assignments, e.p_value.unwrap()), (30, 1.0 / 30.0));
}

#[test]
fn deterministic_for_a_seed() {
    // 16 districts, 6 treated: C(16,6) = 8008 > MAX_EXACT, so assignments are drawn.
    let starts: Vec<Option<usize>> = (0..16).map(|d| (d % 3 == 0 && d < 18).then_some(5)).collect();
    assert_eq!(starts.iter().flatten().count(), 6);
    let mut rng = Rng::new(9);
    let noise: Vec<f64> = (0..16 * 10).map(|_| rng.normal()).collect();
    let p = panel(16, 10, &starts, |d, w| Some(noise[w * 16 + d]));
    let a = estimate_panel(&p, 30, 7);
    assert_eq!(a, estimate_panel(&p, 30, 7));
    assert_ne!(a, estimate_panel(&p, 30, 8));
    assert_eq!(a[0].assignments, 31);
    assert!(
        a[0].method.contains("30 random assignments (seed 7)") || a[0].method.contains("31 random"),
        "{}",
        a[0].method
    );
}

/// Coverage of the reported interval over simulated zero-effect panels: 6 districts (2 treated from
/// week 12) × 24 weeks, district and week effects, AR(1) district noise (rho 0.5) with a
/// district-specific scale. Returns the share of intervals that contain 0.
fn coverage(sims: u64, treated_scale: f64) -> f64 {
    let starts = [Some(12), None, Some(12), None, None, None];
    let covered = (0..sims)
        .filter(|&seed| {
            let mut rng = Rng::new(1000 + seed);
            let weeks: Vec<f64> = (0..24).map(|_| 5.0 * rng.normal()).collect();
            let mut cells = vec![0.0; 6 * 24];
            for d in 0..6 {
                let scale = (0.5 + rng.f64()) * if starts[d].is_some() { treated_scale } else { 1.0 };
                let (level, mut e) = (10.0 * rng.normal(), 0.0);
                for w in 0..24 {
                    e = 0.5 * e + scale * rng.normal();
                    cells[w * 6 + d] = level + weeks[w] + e;
                }
            }
            let e = first(&panel(6, 24, &starts, |d, w| Some(cells[w * 6 + d])));
            e.ci_low.unwrap() <= 0.0 && 0.0 <= e.ci_high.unwrap()
        })
        .count();
    covered as f64 / sims as f64
}

#[test]
fn interval_coverage_matches_its_label() {
    // The label is the design level 1 − ⌊0.10·15⌋/15 = 93.3 %. Measured over 600 zero-effect panels
    // with exchangeable districts: 92.2 % (553/600; binomial s.e. 1.0 point). The old weekly block-bootstrap interval was
    // labelled 95 % but covered ~90 %; this one's label is its measured coverage.
    let c = coverage(600, 1.0);
    eprintln!("coverage exchangeable {c}");
    assert!((0.905..=0.96).contains(&c), "coverage {c}");
    // Not exchangeable: treated districts 3x noisier than the comparison. Randomisation inference
    // assumes exchangeable districts; measured 73.3 % (220/300) here — documented in the README.
    let c = coverage(300, 3.0);
    eprintln!("coverage treated 3x noisier {c}");
    assert!((0.65..=0.82).contains(&c), "coverage {c}");
}

#[test]
fn panel_batches_become_estimates() {
    // 3 districts x 4 weeks; D0 treated from the third week and loses 3 police-handled calls a week.
    let weeks: Vec<String> = (0..4).flat_map(|w| vec![week_date(w); 3]).collect();
    let districts: Vec<&str> = (0..4).flat_map(|_| ["D0", "D1", "D2"]).collect();
    let starts: Vec<Option<String>> = (0..4).flat_map(|_| [Some(week_date(2)), None, None]).collect();
    let police: Vec<i64> = (0..4).flat_map(|w| [10 + w - if w >= 2 { 3 } else { 0 }, 20 + w, 30 + w]).collect();
    let mut cols: Vec<(String, ArrayRef)> = vec![
        ("week".into(), Arc::new(StringArray::from(weeks)) as ArrayRef),
        ("district".into(), Arc::new(StringArray::from(districts)) as ArrayRef),
        ("start_date".into(), Arc::new(StringArray::from(starts)) as ArrayRef),
    ];
    let mut names: Vec<&str> = MEASURES.iter().flat_map(|m| [m.name, m.calls_column]).collect();
    names.sort();
    names.dedup();
    for n in names {
        let a: ArrayRef = if n == "police_eligible_calls" {
            Arc::new(Int64Array::from(police.clone()))
        } else {
            Arc::new(Int64Array::from(vec![1i64; 12]))
        };
        cols.push((n.to_string(), a));
    }
    let schema = Schema::new(cols.iter().map(|(n, a)| Field::new(n, a.data_type().clone(), true)).collect::<Vec<_>>());
    let b = RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|(_, a)| a).collect()).unwrap();
    let est = estimate_from_weekly(&[b], 100, 1).unwrap();
    let p = est.iter().find(|e| e.measure == "police_eligible_calls").unwrap();
    // Every district gains 1 a week; D0 drops 3 from its start: TWFE = -3 exactly.
    assert!((p.estimate.unwrap() + 3.0).abs() < 1e-9, "{p:?}");
    assert_eq!((p.weeks_pre, p.weeks_post, p.calls_treated, p.calls_comparison), (2, 2, 40, 212));
    assert_eq!(p.starts, "D0:2024-01-15");
    let batch = to_batch(&est);
    assert_eq!(batch.num_rows(), MEASURES.len());
    let csv = report::format(&[batch], Format::Csv).unwrap();
    assert!(
        csv.starts_with("measure,estimate,ci_low,ci_high,ci_level,p_value,pretrend_estimate,pretrend_p,clusters_treated,clusters_total,weeks_pre,weeks_post,"),
        "{csv}"
    );
    assert!(csv.contains("police_eligible_calls,-3.0,"), "{csv}");
}
