//! The lineage check on tricky SQL over small in-memory `calls` / `eligibility` tables.
use datafusion::prelude::SessionContext;

use super::*;

async fn ctx() -> SessionContext {
    let ctx = crate::warehouse::engine::new_context();
    for sql in [
        "CREATE TABLE calls AS SELECT * FROM (VALUES
            ('1', '1XX MAIN ST', CAST('2025-03-01T10:00:07' AS TIMESTAMP), 'D1', 'Behavioral', true, 2025, 3),
            ('2', '2XX OAK ST', CAST('2025-03-02T11:00:09' AS TIMESTAMP), 'D2', 'Welfare', false, 2025, 3),
            ('3', '1XX MAIN ST', CAST('2025-03-03T12:00:00' AS TIMESTAMP), 'D1', 'Welfare', true, 2025, 3)
         ) AS t(call_id, address, received_at, district, category, community_responder, year, month)",
        "CREATE TABLE eligibility AS SELECT * FROM (VALUES ('1', 'broad', true), ('2', 'broad', false), ('3', 'broad', true))
         AS t(call_id, scenario, eligible)",
    ] {
        ctx.sql(sql).await.unwrap().collect().await.unwrap();
    }
    ctx
}

async fn verdict(ctx: &SessionContext, sql: &str) -> std::result::Result<(), String> {
    public_query(ctx, sql).await.map(|_| ()).map_err(|e| e.to_string())
}

#[tokio::test]
async fn private_values_reaching_outputs_are_refused() {
    let ctx = ctx().await;
    for sql in [
        "SELECT upper(address) AS a, count(*) AS n FROM calls GROUP BY 1",
        "SELECT address AS place, count(*) AS n FROM calls GROUP BY address",
        "SELECT concat('x', address) AS a FROM calls",
        "SELECT address, count(*) AS n FROM calls GROUP BY address",
        "SELECT date_trunc('second', received_at) AS t, count(*) AS n FROM calls GROUP BY 1",
        "SELECT date_trunc('minute', received_at) AS t, count(*) AS n FROM calls GROUP BY 1",
        "SELECT call_id, received_at FROM calls",
        "WITH a AS (SELECT address AS x FROM calls) SELECT x AS y, count(*) AS n FROM a GROUP BY x",
        "SELECT t.k, count(*) AS n FROM (SELECT address AS k FROM calls) t GROUP BY t.k",
        "SELECT (SELECT max(address) FROM calls) AS a",
        "SELECT max(address) AS a, count(*) AS n FROM calls",
        "SELECT array_agg(address) AS a FROM calls",
        "SELECT string_agg(address, ',') AS a FROM calls",
        "SELECT district, min(received_at) AS first FROM calls GROUP BY district",
        "SELECT district AS k, count(*) AS n FROM calls GROUP BY district UNION ALL SELECT address, count(*) FROM calls GROUP BY address",
        "SELECT CASE WHEN address LIKE '1%' THEN 'a' ELSE 'b' END AS k, count(*) AS n FROM calls GROUP BY 1",
        "SELECT district, lag(address) OVER (ORDER BY received_at) AS prev FROM calls",
        "SELECT c.district, e.id FROM calls c JOIN (SELECT call_id AS id FROM eligibility) e ON c.call_id = e.id",
        "SELECT e.scenario, count(*) AS n, (SELECT max(c.address) FROM calls c WHERE c.call_id = max(e.call_id)) AS a FROM eligibility e GROUP BY e.scenario",
        "SELECT address FROM calls; SELECT 1 AS a",
        "SELECT district FROM calls",
        "SELECT district, count(*) OVER (PARTITION BY district) AS n FROM calls",
        "SELECT DISTINCT address FROM calls",
        "SELECT CAST(received_at AS VARCHAR) AS t, count(*) AS n FROM calls GROUP BY 1",
        "SELECT date_part('epoch', received_at) AS t, count(*) AS n FROM calls GROUP BY 1",
    ] {
        let v = verdict(&ctx, sql).await;
        assert!(v.is_err(), "accepted: {sql}");
    }
    let e = verdict(&ctx, "SELECT upper(address) AS a, count(*) AS n FROM calls GROUP BY 1").await.unwrap_err();
    assert!(e.contains("`a`") && e.contains("calls.address"), "{e}");
    let e = verdict(&ctx, "SELECT district FROM calls").await.unwrap_err();
    assert!(e.contains("individual rows"), "{e}");
    let e = verdict(&ctx, "SELECT 1 AS a; SELECT address AS x FROM calls GROUP BY address").await.unwrap_err();
    assert!(e.contains("statement 2"), "{e}");
}

#[tokio::test]
async fn aggregates_and_coarse_time_are_allowed() {
    let ctx = ctx().await;
    for sql in [
        "SELECT count(address) AS n FROM calls",
        "SELECT count(DISTINCT address) AS places FROM calls",
        "SELECT district, count(*) AS n FROM calls GROUP BY district",
        "SELECT count(*) FROM calls",
        "SELECT date_trunc('month', received_at) AS m, count(*) AS n FROM calls GROUP BY 1",
        "SELECT CAST(date_trunc('week', received_at) AS DATE) AS w, count(*) AS n FROM calls GROUP BY 1",
        "SELECT date_part('hour', received_at) AS h, extract(dow FROM received_at) AS d, count(*) AS n FROM calls GROUP BY 1, 2",
        "SELECT district, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct FROM calls GROUP BY district",
        "WITH per AS (SELECT address, count(*) AS n FROM calls GROUP BY address)
         SELECT CASE WHEN n > 1 THEN 'repeat' ELSE 'once' END AS k, count(*) AS locations FROM per GROUP BY 1",
        "SELECT median(date_part('epoch', received_at)) AS m, count(*) FILTER (WHERE address IS NOT NULL) AS n FROM calls",
        "SELECT 'x' AS a, 1 AS b",
        "SELECT CAST(min(received_at) AS DATE) AS first_day FROM calls",
        "SELECT e.scenario, count(*) AS n FROM calls c JOIN eligibility e ON e.call_id = c.call_id WHERE c.address <> '' GROUP BY e.scenario",
        "SELECT district, count(*) AS n FROM calls WHERE call_id IN (SELECT call_id FROM eligibility WHERE eligible) GROUP BY district",
        "SELECT make_date(year, month, 1) AS m, count(*) FILTER (WHERE community_responder) AS cr_calls FROM calls GROUP BY 1",
        "SELECT k, sum(n) AS n FROM (SELECT district AS k, count(*) AS n FROM calls GROUP BY 1 UNION ALL SELECT category, count(*) FROM calls GROUP BY 1) u GROUP BY k",
    ] {
        if let Err(e) = verdict(&ctx, sql).await {
            panic!("refused: {sql}: {e}");
        }
    }
}

#[tokio::test]
async fn counts_and_their_rows_come_from_lineage() {
    let ctx = ctx().await;
    let r = public_query(
        &ctx,
        "WITH w AS (SELECT date_trunc('week', received_at) AS wk, count(*) AS c FROM calls GROUP BY 1)
         SELECT count(*) AS weeks, sum(c) AS total, count(*) AS \"count(*)\" FROM w",
    )
    .await
    .unwrap();
    let specs = column_specs(&r.schema, &r.lineage, &[]);
    // Weeks are groups of calls, not people; `total` sums calls.
    assert!(!specs[0].count && specs[1].count, "{specs:?}");
    let r = public_query(&ctx, "SELECT district, count(*), round(100.0 * count(*) FILTER (WHERE community_responder) / count(*), 1) AS p FROM calls GROUP BY district").await.unwrap();
    let specs = column_specs(&r.schema, &r.lineage, &[]);
    assert_eq!(specs[1].name, "count(*)");
    assert!(specs[1].count && !specs[2].count && !specs[0].count, "{specs:?}");
    // `p` shares count(*)'s rows: hidden with it.
    let values = vec![vec![None, Some(3.0), Some(50.0)], vec![None, Some(40.0), Some(10.0)]];
    let hide = cells::suppress(&specs, &values, 11, false, &[], &[]);
    assert_eq!(hide[0], [Hide::No, Hide::Small, Hide::Small]);
    assert_eq!(hide[1], [Hide::No, Hide::No, Hide::No]);
}

/// Differencing attacks on hand-built cells: after suppression, no small count is determined.
#[test]
fn no_hidden_small_count_can_be_recovered() {
    let spec = |name: &str| ColumnSpec { name: name.into(), count: true, ..Default::default() };
    // Additive: the column total minus the visible cells.
    let hide =
        cells::suppress(&[spec("calls")], &[vec![Some(250.0)], vec![Some(4.0)], vec![Some(30.0)]], 11, true, &[], &[]);
    assert_eq!(hide.iter().filter(|h| h[0] != Hide::No).count(), 2);
    // Nested counts in one row: eligible 45, eligible served 40 → 5 not served (derived, small).
    let eligible = ColumnSpec {
        lineage: Lineage {
            count: Some(lineage::Agg {
                node: 1,
                filter: ["eligible".to_string()].into(),
                args: "call_id".into(),
                kind: lineage::AggKind::Count,
                entities: true,
                running: false,
            }),
            ..Default::default()
        },
        ..spec("eligible_calls")
    };
    let mut served = eligible.clone();
    served.name = "eligible_served_calls".into();
    served.lineage.count.as_mut().unwrap().filter.insert("served".into());
    let hide =
        cells::suppress(&[eligible.clone(), served.clone()], &[vec![Some(45.0), Some(40.0)]], 11, false, &[], &[]);
    assert!(hide[0].iter().any(|h| *h != Hide::No), "45 and 40 both shown: 5 not served is recoverable");
    // Two publications: eligible served this month hidden; an extra equation (YTD − previous YTD
    // = this month) makes the YTD cell the one to hide.
    let values = vec![vec![Some(5.0)], vec![Some(65.0)]];
    let ytd = Equation { terms: vec![(Var::Cell(1, 0), 1.0), (Var::Cell(0, 0), -1.0)] };
    let hide = cells::suppress(&[spec("served_calls")], &values, 11, false, &[], &[ytd]);
    assert_eq!(hide[0][0], Hide::Small);
    assert_eq!(hide[1][0], Hide::Complement);
}
