//! Rule → SQL generation: a policy becomes one query DataFusion runs over `calls` — the per-call
//! rule columns (`rules_select`), then the outcome of every (call, scenario) (`tag_sql`).
use crate::eligibility::outcome::Outcome;
use crate::eligibility::policy::{LimitationKind, Policy, RuleColumn, Scenario};
use crate::eligibility::rules;

/// `COALESCE((expr), false)`: a rule that cannot be evaluated (null input) does not fire.
pub(crate) fn guard(sql: &str) -> String {
    format!("COALESCE(({sql}), false)")
}

/// The per-call rule results: one boolean column per rule (`x_self`, `x_info`, `d_<n>`, `s_scope`,
/// `l_<n>`, `u_<n>`) and one probability per estimated limitation (`p_<n>`).
pub fn rules_select(policy: &Policy, source: &str) -> String {
    let cols: Vec<String> = std::iter::once("call_id".to_string())
        .chain(policy.rule_columns().iter().map(RuleColumn::select_item))
        .collect();
    format!("SELECT {} FROM {source}", cols.join(",\n       "))
}

/// The estimated limitations (those with `unknown` + `likelihood`).
fn estimated(policy: &Policy) -> Vec<usize> {
    (0..policy.limitations.len())
        .filter(|&i| matches!(policy.limitations[i].kind, LimitationKind::Rule { unknown: Some(_), .. }))
        .collect()
}

/// The outcome CASE over the columns of [`rules_select`] and the scenario flags `h_<i>` (true when
/// the scenario includes limitation i), in the documented outcome order.
fn outcome_case(policy: &Policy) -> String {
    let when = |cond: String, outcome: String| format!("WHEN {cond} THEN '{}'", outcome.replace('\'', "''"));
    let mut arms = vec![when(rules::SELF_INITIATED.into(), Outcome::ExcludedSelfInitiated.reason(None))];
    // Hours and area come before everything else judged about the call.
    for kind in [Outcome::OutOfHours, Outcome::OutOfArea] {
        for (i, l) in policy.limitations.iter().enumerate() {
            if !l.is_rule() && l.outcome() == kind.as_str() {
                arms.push(when(format!("{} AND {}", rules::in_scenario(i), rules::limitation(i)), l.outcome()));
            }
        }
    }
    arms.push(when(rules::UNMAPPED.into(), Outcome::Unmapped.reason(None)));
    arms.push(when(rules::INSUFFICIENT_INFO.into(), Outcome::InsufficientInfo.reason(None)));
    for (i, d) in policy.disqualifiers.iter().enumerate() {
        arms.push(when(rules::disqualifier(i), Outcome::Disqualified.reason(Some(&d.name))));
    }
    arms.push(when(format!("NOT {}", rules::SCOPE), Outcome::OutOfScope.reason(None)));
    for (i, l) in policy.limitations.iter().enumerate() {
        if l.is_rule() {
            arms.push(when(format!("{} AND {}", rules::in_scenario(i), rules::limitation(i)), l.outcome()));
        }
    }
    format!("CASE {} ELSE '{}' END", arms.join(" "), Outcome::Eligible.as_str())
}

/// The full tagging query: one row per (call, scenario) with the eligibility schema's columns.
/// Rules are evaluated once per call (one scan of `source`), then crossed with a small table of
/// scenarios whose boolean columns say which limitations each includes.
pub fn tag_sql(policy: &Policy, scenarios: &[Scenario], source: &str) -> String {
    let n = policy.limitations.len();
    let rows: Vec<String> = scenarios
        .iter()
        .map(|s| {
            let flags: Vec<String> = (0..n).map(|i| s.limitations.contains(&i).to_string()).collect();
            format!("('{}'{}{})", s.name.replace('\'', "''"), if n > 0 { ", " } else { "" }, flags.join(", "))
        })
        .collect();
    let cols: Vec<String> = std::iter::once("scenario".to_string()).chain((0..n).map(rules::in_scenario)).collect();
    let est = estimated(policy);
    let unknown = if est.is_empty() {
        "false".to_string()
    } else {
        est.iter()
            .map(|&i| format!("({} AND {})", rules::in_scenario(i), rules::unrecorded(i)))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    let p = if est.is_empty() {
        "1.0".to_string()
    } else {
        est.iter()
            .map(|&i| {
                let (h, u, p) = (rules::in_scenario(i), rules::unrecorded(i), rules::likelihood(i));
                format!("(CASE WHEN {h} AND {u} THEN 1.0 - {p} ELSE 1.0 END)")
            })
            .collect::<Vec<_>>()
            .join(" * ")
    };
    format!(
        "WITH r AS ({rules}),
         sc AS (SELECT * FROM (VALUES {rows}) AS t({cols})),
         s AS (SELECT r.call_id, sc.scenario, {case} AS reason, ({unknown}) AS unknown, {p} AS p FROM r CROSS JOIN sc)
         SELECT call_id, scenario, reason = 'eligible' AS eligible, reason, split_part(reason, ':', 1) AS outcome,
                NULLIF(split_part(reason, ':', 2), '') AS rule,
                (reason = 'eligible' AND unknown) AS estimated,
                CAST(CASE WHEN reason = 'eligible' THEN p ELSE 0.0 END AS DOUBLE) AS p_eligible
         FROM s",
        rules = rules_select(policy, source),
        rows = rows.join(", "),
        cols = cols.join(", "),
        case = outcome_case(policy),
    )
}
