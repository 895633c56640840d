//! The `eligibility` table as SQL sees it. The Delta table stores one row per call with an outcome
//! code per scenario (`eligibility::sql::by_call_sql`); this view turns it back into one row per
//! (call, scenario) with the reason strings, so `callsift sql`, reports and dashboards read the
//! same table whatever the storage. It is plain SQL over the stored table: another DataFusion
//! engine (Ballista) defines the same view from the tag's commit metadata (scenarios, reasons).

/// The `eligibility` table as SQL sees it — one row per (call, scenario): `call_id, scenario,
/// eligible, reason, outcome, rule, estimated, p_eligible` — over `table` in the by-call layout
/// (`outcome_k`, `estimated_k`, `p_eligible_k` for scenario k; outcome codes index `reasons`;
/// `eligible` is the reason `eligible`). A UNION ALL per scenario joined to the reason codes, so a
/// filter on `scenario` prunes the other branches.
pub fn view_sql(scenarios: &[String], reasons: &[String], table: &str) -> String {
    let q = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let branches: Vec<String> = scenarios
        .iter()
        .enumerate()
        .map(|(k, s)| {
            format!(
                "SELECT call_id, {} AS scenario, outcome_{k} AS code, estimated_{k} AS estimated, p_eligible_{k} AS p_eligible FROM {table}",
                q(s)
            )
        })
        .collect();
    let codes: Vec<String> = reasons
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (outcome, rule) = r.split_once(':').map_or((r.as_str(), None), |(o, r)| (o, Some(r)));
            let rule = rule.map_or("CAST(NULL AS VARCHAR)".to_string(), q);
            format!("(CAST({i} AS SMALLINT), {}, {}, {rule}, {})", q(r), q(outcome), r == "eligible")
        })
        .collect();
    format!(
        "SELECT e.call_id, e.scenario, c.eligible, c.reason, c.outcome, c.rule, e.estimated, e.p_eligible
         FROM ({}) AS e
         JOIN (VALUES {}) AS c(code, reason, outcome, rule, eligible) ON c.code = e.code",
        branches.join(" UNION ALL "),
        codes.join(", ")
    )
}
