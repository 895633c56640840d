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

/// Every `reason` a policy can give, in decision order: the index is the outcome code stored per
/// call and scenario in the `eligibility` Delta table ([`by_call_sql`]), mapped back by the
/// warehouse's view (`warehouse::view::view_sql`).
pub fn reasons(policy: &Policy) -> Vec<String> {
    let mut out = vec![Outcome::ExcludedSelfInitiated.reason(None)];
    for kind in [Outcome::OutOfHours, Outcome::OutOfArea] {
        out.extend(
            policy.limitations.iter().filter(|l| !l.is_rule() && l.outcome() == kind.as_str()).map(|l| l.outcome()),
        );
    }
    out.push(Outcome::Unmapped.reason(None));
    out.push(Outcome::InsufficientInfo.reason(None));
    out.extend(policy.disqualifiers.iter().map(|d| Outcome::Disqualified.reason(Some(&d.name))));
    out.push(Outcome::OutOfScope.reason(None));
    out.extend(policy.limitations.iter().filter(|l| l.is_rule()).map(|l| l.outcome()));
    out.push(Outcome::Eligible.as_str().to_string());
    let mut seen = std::collections::HashSet::new();
    out.retain(|r| seen.insert(r.clone()));
    out
}

/// The outcome code of `scenario` as a CASE over the columns of [`rules_select`]: the first rule
/// that fires, in the documented outcome order (limitations only where the scenario includes them).
fn outcome_case(policy: &Policy, scenario: &Scenario, reasons: &[String]) -> String {
    let code = |reason: &str| reasons.iter().position(|r| r == reason).unwrap_or(reasons.len() - 1);
    let when = |cond: String, reason: String| format!("WHEN {cond} THEN {}", code(&reason));
    let mut arms = vec![when(rules::SELF_INITIATED.into(), Outcome::ExcludedSelfInitiated.reason(None))];
    let limits = |rule: bool| {
        policy
            .limitations
            .iter()
            .enumerate()
            .filter(move |(i, l)| l.is_rule() == rule && scenario.limitations.contains(i))
    };
    // Hours and area come before everything else judged about the call.
    for kind in [Outcome::OutOfHours, Outcome::OutOfArea] {
        for (i, l) in limits(false).filter(|(_, l)| l.outcome() == kind.as_str()) {
            arms.push(when(rules::limitation(i), l.outcome()));
        }
    }
    arms.push(when(rules::UNMAPPED.into(), Outcome::Unmapped.reason(None)));
    arms.push(when(rules::INSUFFICIENT_INFO.into(), Outcome::InsufficientInfo.reason(None)));
    for (i, d) in policy.disqualifiers.iter().enumerate() {
        arms.push(when(rules::disqualifier(i), Outcome::Disqualified.reason(Some(&d.name))));
    }
    arms.push(when(format!("NOT {}", rules::SCOPE), Outcome::OutOfScope.reason(None)));
    for (i, l) in limits(true) {
        arms.push(when(rules::limitation(i), l.outcome()));
    }
    format!("CAST(CASE {} ELSE {} END AS SMALLINT)", arms.join(" "), code(Outcome::Eligible.as_str()))
}

/// What the `eligibility` Delta table stores: one row per call, and per scenario k (in the order
/// given) its outcome code `outcome_k` (an index into [`reasons`]), `estimated_k` (eligible only if
/// an unrecorded fact falls its way) and `p_eligible_k`. Rules are evaluated once per call; a
/// (call, scenario) row is five times the calls in strings to write, this is a few small numbers.
pub fn by_call_sql(policy: &Policy, scenarios: &[Scenario], source: &str) -> String {
    let reasons = reasons(policy);
    let eligible = reasons.len() - 1;
    let codes: Vec<String> = std::iter::once("r.*".to_string())
        .chain(
            scenarios.iter().enumerate().map(|(k, s)| format!("{} AS outcome_{k}", outcome_case(policy, s, &reasons))),
        )
        .collect();
    let mut cols = vec!["call_id".to_string()];
    for (k, s) in scenarios.iter().enumerate() {
        let est: Vec<usize> = estimated(policy).into_iter().filter(|i| s.limitations.contains(i)).collect();
        let (unknown, p) = if est.is_empty() {
            ("false".to_string(), "1.0".to_string())
        } else {
            let u = est.iter().map(|&i| rules::unrecorded(i)).collect::<Vec<_>>().join(" OR ");
            let p = est
                .iter()
                .map(|&i| {
                    format!("(CASE WHEN {} THEN 1.0 - {} ELSE 1.0 END)", rules::unrecorded(i), rules::likelihood(i))
                })
                .collect::<Vec<_>>()
                .join(" * ");
            (u, p)
        };
        cols.push(format!("outcome_{k}"));
        cols.push(format!("(outcome_{k} = {eligible} AND ({unknown})) AS estimated_{k}"));
        cols.push(format!(
            "CAST(CASE WHEN outcome_{k} = {eligible} THEN {p} ELSE 0.0 END AS DOUBLE) AS p_eligible_{k}"
        ));
    }
    format!(
        "SELECT {} FROM (SELECT {} FROM ({}) AS r) AS o",
        cols.join(",\n       "),
        codes.join(",\n       "),
        rules_select(policy, source)
    )
}

/// One row per (call, scenario) with the eligibility schema's columns, computed from `source`:
/// the warehouse's view (`warehouse::view`) over [`by_call_sql`], the same SQL `tag` stores and the warehouse's view reads.
pub fn tag_sql(policy: &Policy, scenarios: &[Scenario], source: &str) -> String {
    let names: Vec<String> = scenarios.iter().map(|s| s.name.clone()).collect();
    format!(
        "WITH by_call AS ({}) {}",
        by_call_sql(policy, scenarios, source),
        crate::warehouse::view::view_sql(&names, &reasons(policy), "by_call")
    )
}
