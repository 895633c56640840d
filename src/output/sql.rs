//! Read-only SQL: the one way `sql`, reports, dashboards and publishing run a query.
//!
//! Every statement is planned with DataFusion's [`SQLOptions`] set to refuse DDL (`CREATE`,
//! `DROP`), DML (`INSERT`, `UPDATE`, `DELETE`, `COPY … TO`) and other statements (`SET`, `BEGIN`,
//! …), and the whole plan (subqueries included) is verified before anything runs. Queries —
//! `SELECT`, `WITH`, `VALUES`, `EXPLAIN`, `SHOW`, `DESCRIBE` — are all that can run; a refused
//! statement is a usage error (exit 2) that says why.
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::ViewTable;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::DFParser;
use datafusion::sql::sqlparser::dialect::GenericDialect;

use crate::error::{Error, Result};

/// Queries only: no DDL, no DML (COPY included), no SET or transaction statements.
pub fn read_only() -> SQLOptions {
    SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false)
}

/// Plan every `;`-separated statement of `sql`, refusing anything that is not a query.
pub async fn plan_queries(ctx: &SessionContext, sql: &str) -> Result<Vec<LogicalPlan>> {
    let statements = DFParser::parse_sql_with_dialect(sql, &GenericDialect {})?;
    if statements.is_empty() {
        return Err(Error::Usage("no SQL statement given".into()));
    }
    let options = read_only();
    let mut plans = Vec::with_capacity(statements.len());
    for stmt in statements {
        let text = stmt.to_string();
        let plan = ctx.state().statement_to_plan(stmt).await.map_err(|e| refusal(&text, &e.to_string(), Some(e)))?;
        options.verify_plan(&plan).map_err(|e| refusal(&text, &e.to_string(), None))?;
        plans.push(plan);
    }
    Ok(plans)
}

/// A planning error about a statement kind the read-only options refuse becomes a usage error.
fn refusal(statement: &str, message: &str, original: Option<datafusion::error::DataFusionError>) -> Error {
    let refused = ["DDL not supported", "DML not supported", "Statement not supported"];
    if refused.iter().any(|r| message.contains(r)) {
        let head: String = statement.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
        return Error::Usage(format!(
            "refused `{head} …`: the warehouse is read-only here; only queries (SELECT, WITH, VALUES, EXPLAIN, SHOW, DESCRIBE) run, nothing that writes, copies, creates, drops or sets ({})",
            message.lines().next().unwrap_or(message).trim_start_matches("Error during planning: ")
        ));
    }
    match original {
        Some(e) => Error::DataFusion(e),
        None => Error::Usage(message.to_string()),
    }
}

/// Run planned queries; return the last one's schema (known even with no rows) and rows.
pub async fn run_plans(ctx: &SessionContext, plans: Vec<LogicalPlan>) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let mut last = None;
    for plan in plans {
        let df = ctx.execute_logical_plan(plan).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        last = Some((schema, df.collect().await?));
    }
    last.ok_or_else(|| Error::Usage("no SQL statement given".into()))
}

/// Plan and run read-only `sql`; the last statement's schema and rows.
pub async fn query(ctx: &SessionContext, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let plans = plan_queries(ctx, sql).await?;
    run_plans(ctx, plans).await
}

/// Make the result of one read-only `SELECT` available to later queries as table `name` (a view:
/// planned now, run as part of whatever reads it). Programmatic, so no `CREATE VIEW` is needed.
pub async fn register_view(ctx: &SessionContext, name: &str, select: &str) -> Result<()> {
    let mut plans = plan_queries(ctx, select).await?;
    if plans.len() != 1 {
        return Err(Error::Usage(format!("view `{name}`: expected one SELECT statement, found {}", plans.len())));
    }
    let plan = plans.remove(0);
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::new(ViewTable::new(plan, Some(select.to_string()))))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_are_refused_before_they_run() {
        let ctx = crate::warehouse::engine::new_context();
        ctx.sql("CREATE TABLE t AS VALUES (1)").await.unwrap().collect().await.unwrap();
        for stmt in [
            "INSERT INTO t VALUES (2)",
            "COPY (SELECT 1) TO '/tmp/callsift-never-written.parquet' STORED AS PARQUET",
            "DROP TABLE t",
            "CREATE VIEW v AS SELECT 1",
            "CREATE TABLE u AS SELECT 1",
            "SET datafusion.execution.batch_size = 1",
            "DELETE FROM t",
            "SELECT 1; DROP TABLE t",
            "EXPLAIN INSERT INTO t VALUES (3)",
        ] {
            let e = query(&ctx, stmt).await.unwrap_err();
            assert_eq!(e.exit_code(), 2, "{stmt}: {e}");
            assert!(e.to_string().contains("read-only"), "{stmt}: {e}");
        }
        let (_, b) = query(&ctx, "SELECT count(*) AS n FROM t").await.unwrap();
        assert_eq!(crate::output::format::rows_as_text(&b).unwrap(), vec![vec![Some("1".to_string())]]);
        assert!(!std::path::Path::new("/tmp/callsift-never-written.parquet").exists());
        for ok in ["WITH a AS (SELECT 1 AS x) SELECT x FROM a", "VALUES (1, 2)", "EXPLAIN SELECT 1"] {
            query(&ctx, ok).await.unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[tokio::test]
    async fn views_are_registered_without_sql_ddl() {
        let ctx = crate::warehouse::engine::new_context();
        register_view(&ctx, "v", "SELECT 1 AS a UNION ALL SELECT 2").await.unwrap();
        register_view(&ctx, "v", "SELECT 1 AS a UNION ALL SELECT 2 UNION ALL SELECT 3").await.unwrap();
        let (_, b) = query(&ctx, "SELECT sum(a) AS s FROM v").await.unwrap();
        assert_eq!(crate::output::format::rows_as_text(&b).unwrap(), vec![vec![Some("6".to_string())]]);
        assert_eq!(register_view(&ctx, "w", "DROP TABLE v").await.unwrap_err().exit_code(), 2);
    }
}
