//! The `eligibility` table as SQL sees it. The Delta table stores one row per call with an outcome
//! code per scenario (`eligibility::sql::by_call_sql`); this view turns it back into one row per
//! (call, scenario) with the reason strings, so `callsift sql`, reports and dashboards read the
//! same table whatever the storage. It is plain SQL over the stored table: another DataFusion
//! engine (Ballista) defines the same view from the tag's commit metadata (scenarios, reasons).

/// The `eligibility` table as SQL sees it — one row per (call, scenario): `call_id, scenario,
/// eligible, reason, outcome, rule, estimated, p_eligible` — over `table` in the by-call layout
/// (`outcome_k`, `estimated_k`, `p_eligible_k` for scenario k; outcome codes index `reasons`;
/// `eligible` is the reason `eligible`). The stored rows are crossed with a `VALUES` list of the
/// scenarios (a filter on `scenario` applies to that list first) and joined to one of the codes.
/// Not a `UNION ALL` of one `SELECT` per scenario: DataFusion 55 then claims an order the union
/// does not have, and `ORDER BY call_id, scenario` fails its plan sanity check.
pub fn view_sql(scenarios: &[String], reasons: &[String], table: &str) -> String {
    let q = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let pick = |col: &str| {
        let arms: Vec<String> = (0..scenarios.len()).map(|k| format!("WHEN {k} THEN b.{col}_{k}")).collect();
        format!("CASE s.k {} END", arms.join(" "))
    };
    let names: Vec<String> = scenarios.iter().enumerate().map(|(k, s)| format!("({k}, {})", q(s))).collect();
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
         FROM (SELECT b.call_id, s.scenario, {} AS code, {} AS estimated, CAST({} AS DOUBLE) AS p_eligible
               FROM {table} AS b CROSS JOIN (VALUES {}) AS s(k, scenario)) AS e
         JOIN (VALUES {}) AS c(code, reason, outcome, rule, eligible) ON c.code = e.code",
        pick("outcome"),
        pick("estimated"),
        pick("p_eligible"),
        names.join(", "),
        codes.join(", ")
    )
}
