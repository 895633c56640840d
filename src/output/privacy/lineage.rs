//! Column lineage of a query plan: for every output column, which warehouse columns reach it and
//! how (as call-level values, as a group key or a picked value, or only summarised inside an
//! aggregate), and which aggregates it is computed from.
//!
//! Walks DataFusion's (unoptimised) `LogicalPlan` from the output down to every `TableScan`,
//! through projections, aliases, subqueries (scalar, `IN`, `EXISTS`, correlated), CTEs, views,
//! joins, unions, windows, `DISTINCT`, `UNNEST`. A node it does not know is treated as mixing every
//! input column into every output column (never less private than the truth).
use std::collections::BTreeSet;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::DFSchema;
use datafusion::logical_expr::expr::{AggregateFunction, WindowFunction, WindowFunctionDefinition};
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Distinct, Expr, LogicalPlan};
use datafusion::scalar::ScalarValue;

/// How a source column's value reaches an output column. Ordered from most to least revealing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Via {
    /// One value per call: a call-level row.
    Row,
    /// A value shown as it is, but per group: a `GROUP BY` key, or a value an aggregate picks
    /// (`min`, `max`, `first_value`, `array_agg`, `string_agg`…).
    Picked,
    /// Only inside a summarising aggregate (`count`, `sum`, `avg`, `median`, percentiles…).
    Summarised,
}

/// One source column reaching an output column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reach {
    pub table: String,
    pub column: String,
    pub via: Via,
    /// Passed through a coarsening function first: `date_trunc`/`date_part` to hour or coarser,
    /// or a cast to `DATE`.
    pub coarse: bool,
}

/// What an aggregate computes, for small-cell rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AggKind {
    Count,
    Sum,
    Other,
}

/// One aggregate (or aggregate window function) a value is computed from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Agg {
    /// The plan node that aggregates (numbered in walk order).
    pub node: usize,
    /// `FILTER (WHERE …)` split into conjuncts, as SQL text.
    pub filter: BTreeSet<String>,
    /// The arguments as SQL text (with `DISTINCT`).
    pub args: String,
    pub kind: AggKind,
    /// The rows aggregated are calls (or groups keyed by a private column, e.g. locations), not
    /// groups of calls: a count of them counts people or places.
    pub entities: bool,
    /// A window aggregate with `ORDER BY`: a running total.
    pub running: bool,
}

impl Agg {
    /// The set of rows an aggregate runs over: same node, same filter.
    pub fn rows(&self) -> (usize, &BTreeSet<String>) {
        (self.node, &self.filter)
    }
}

/// Lineage of one output column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lineage {
    pub reaches: BTreeSet<Reach>,
    pub aggs: BTreeSet<Agg>,
    /// The column is exactly one `count(…)` (through aliases, casts and projections).
    pub count: Option<Agg>,
}

impl Lineage {
    fn merge(&mut self, other: Lineage) {
        self.reaches.extend(other.reaches);
        self.aggs.extend(other.aggs);
        self.count = None;
    }

    fn map_via(mut self, f: impl Fn(Via) -> Via) -> Lineage {
        self.reaches = self.reaches.into_iter().map(|r| Reach { via: f(r.via), ..r }).collect();
        self
    }

    fn coarsened(mut self) -> Lineage {
        self.reaches = self.reaches.into_iter().map(|r| Reach { coarse: true, ..r }).collect();
        self
    }

    fn union(all: impl IntoIterator<Item = Lineage>) -> Lineage {
        let mut l = Lineage::default();
        for x in all {
            l.merge(x);
        }
        l
    }
}

/// How the rows of a plan node relate to calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    /// Constants (`VALUES`, no table).
    Constant,
    /// Groups of calls keyed by public columns.
    Groups,
    /// Groups keyed by a private column (one row per location…): people or places.
    Entities,
    /// One row per call (or per table row).
    Rows,
}

/// Lineage of every output column of `plan`.
pub fn of_plan(plan: &LogicalPlan, private: &dyn Fn(&str, &str) -> bool) -> Vec<Lineage> {
    let mut w = Walker { next_node: 0, private, outer: Vec::new() };
    w.plan(plan).0
}

struct Walker<'a> {
    next_node: usize,
    private: &'a dyn Fn(&str, &str) -> bool,
    /// Enclosing queries' rows, for correlated subqueries (innermost last).
    outer: Vec<(DFSchema, Vec<Lineage>)>,
}

type Node = (Vec<Lineage>, Level);

const SELECTORS: [&str; 9] =
    ["min", "max", "first_value", "last_value", "nth_value", "array_agg", "string_agg", "any_value", "mode"];

fn coarse_part(e: &Expr) -> bool {
    const PARTS: [&str; 10] = ["year", "quarter", "month", "week", "day", "dow", "isodow", "doy", "hour", "epoch_hour"];
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)),
            _,
        ) => PARTS.contains(&s.to_ascii_lowercase().as_str()) && s != "epoch_hour",
        _ => false,
    }
}

/// A cast to `DATE` coarsens a timestamp to the day.
fn cast(l: Lineage, to: &DataType) -> Lineage {
    if matches!(to, DataType::Date32 | DataType::Date64) {
        Lineage { count: None, ..l.coarsened() }
    } else {
        l
    }
}

impl Walker<'_> {
    fn plan(&mut self, plan: &LogicalPlan) -> Node {
        match plan {
            LogicalPlan::TableScan(scan) => self.scan(scan),
            LogicalPlan::Projection(p) => {
                let (input, level) = self.plan(&p.input);
                let cols = p.expr.iter().map(|e| self.expr(e, p.input.schema(), &input, level)).collect();
                (cols, level)
            }
            LogicalPlan::Aggregate(a) => self.aggregate(a),
            LogicalPlan::Window(w) => {
                let (mut cols, level) = self.plan(&w.input);
                let node = self.node();
                for e in &w.window_expr {
                    let l = self.window_expr(e, w.input.schema(), &cols, level, node);
                    cols.push(l);
                }
                (cols, level)
            }
            LogicalPlan::Join(j) => self.join(j, plan),
            LogicalPlan::Union(u) => self.union(u, plan),
            LogicalPlan::Values(v) => {
                let schema = plan.schema().clone();
                let mut cols = vec![Lineage::default(); schema.fields().len()];
                for row in &v.values {
                    for (i, e) in row.iter().enumerate() {
                        let l = self.expr(e, &schema, &[], Level::Constant);
                        if let Some(c) = cols.get_mut(i) {
                            c.merge(l);
                        }
                    }
                }
                (cols, Level::Constant)
            }
            LogicalPlan::EmptyRelation(_) => (vec![Lineage::default(); plan.schema().fields().len()], Level::Constant),
            LogicalPlan::Distinct(Distinct::On(d)) => {
                let (input, level) = self.plan(&d.input);
                let cols = d.select_expr.iter().map(|e| self.expr(e, d.input.schema(), &input, level)).collect();
                (cols, level)
            }
            LogicalPlan::Unnest(u) => {
                let (input, level) = self.plan(&u.input);
                let cols = u.dependency_indices.iter().map(|&i| input.get(i).cloned().unwrap_or_default()).collect();
                (cols, level)
            }
            LogicalPlan::Filter(_)
            | LogicalPlan::Sort(_)
            | LogicalPlan::Limit(_)
            | LogicalPlan::Repartition(_)
            | LogicalPlan::SubqueryAlias(_)
            | LogicalPlan::Subquery(_)
            | LogicalPlan::Distinct(Distinct::All(_)) => {
                let input = plan.inputs()[0];
                let (cols, level) = self.plan(input);
                let n = plan.schema().fields().len();
                if cols.len() == n {
                    (cols, level)
                } else {
                    (vec![Lineage::union(cols); n], level)
                }
            }
            other => {
                // Explain, Extension, RecursiveQuery, …: every input column may reach every output.
                let mut level = Level::Constant;
                let mut all = Lineage::default();
                for input in other.inputs() {
                    let (c, l) = self.plan(input);
                    level = level.max(l);
                    all.merge(Lineage::union(c));
                }
                let n = other.schema().fields().len();
                (vec![all; n], level.max(Level::Rows))
            }
        }
    }

    fn scan(&mut self, scan: &datafusion::logical_expr::TableScan) -> Node {
        if let Some(inner) = scan.source.get_logical_plan() {
            let (cols, level) = self.plan(&inner);
            let cols = match &scan.projection {
                Some(p) => p.iter().map(|&i| cols.get(i).cloned().unwrap_or_default()).collect(),
                None => cols,
            };
            return (cols, level);
        }
        let table = scan.table_name.table().to_string();
        let cols = scan
            .projected_schema
            .fields()
            .iter()
            .map(|f| Lineage {
                reaches: BTreeSet::from([Reach {
                    table: table.clone(),
                    column: f.name().clone(),
                    via: Via::Row,
                    coarse: false,
                }]),
                ..Default::default()
            })
            .collect();
        (cols, Level::Rows)
    }

    fn join(&mut self, j: &datafusion::logical_expr::Join, plan: &LogicalPlan) -> Node {
        let (l, ll) = self.plan(&j.left);
        let (r, rl) = self.plan(&j.right);
        let n = plan.schema().fields().len();
        let level = ll.max(rl);
        let cols = if n == l.len() + r.len() {
            l.into_iter().chain(r).collect()
        } else if n == l.len() && format!("{:?}", j.join_type).starts_with("Left") {
            l
        } else if n == r.len() && format!("{:?}", j.join_type).starts_with("Right") {
            r
        } else {
            let all = Lineage::union(l.into_iter().chain(r));
            vec![all; n]
        };
        (cols, level)
    }

    fn union(&mut self, u: &datafusion::logical_expr::Union, plan: &LogicalPlan) -> Node {
        let n = plan.schema().fields().len();
        let mut cols = vec![Lineage::default(); n];
        let mut level = Level::Constant;
        for input in &u.inputs {
            let (c, l) = self.plan(input);
            level = level.max(l);
            if c.len() == n {
                for (acc, x) in cols.iter_mut().zip(c) {
                    acc.merge(x);
                }
            } else {
                let all = Lineage::union(c);
                cols.iter_mut().for_each(|acc| acc.merge(all.clone()));
            }
        }
        (cols, level)
    }

    fn node(&mut self) -> usize {
        self.next_node += 1;
        self.next_node
    }

    fn aggregate(&mut self, a: &datafusion::logical_expr::Aggregate) -> Node {
        let (input, level) = self.plan(&a.input);
        let node = self.node();
        let schema = a.input.schema();
        let mut cols = Vec::new();
        let mut keyed_by_private = false;
        for g in &a.group_expr {
            let groups: Vec<&Expr> = match g {
                Expr::GroupingSet(set) => set.distinct_expr(),
                e => vec![e],
            };
            for e in groups {
                let l = self.expr(e, schema, &input, level).map_via(|v| if v == Via::Row { Via::Picked } else { v });
                keyed_by_private |= l
                    .reaches
                    .iter()
                    .any(|r| r.via != Via::Summarised && !r.coarse && (self.private)(&r.table, &r.column));
                cols.push(Lineage { count: None, ..l });
            }
        }
        for e in &a.aggr_expr {
            cols.push(self.expr_in(e, schema, &input, level, Some(node)));
        }
        let n = a.schema.fields().len();
        if cols.len() != n {
            // Grouping sets add an internal grouping id.
            cols.resize(n, Lineage::default());
        }
        let out = if level == Level::Constant {
            Level::Constant
        } else if keyed_by_private {
            Level::Entities
        } else {
            Level::Groups
        };
        (cols, out)
    }

    fn expr(&mut self, e: &Expr, schema: &DFSchema, input: &[Lineage], level: Level) -> Lineage {
        self.expr_in(e, schema, input, level, None)
    }

    /// Lineage of expression `e` over rows with `schema` / `input` lineage. `node` is the
    /// aggregate node when `e` sits in an `Aggregate`'s aggregate list.
    fn expr_in(
        &mut self,
        e: &Expr,
        schema: &DFSchema,
        input: &[Lineage],
        level: Level,
        node: Option<usize>,
    ) -> Lineage {
        match e {
            Expr::Column(c) => {
                schema.maybe_index_of_column(c).and_then(|i| input.get(i).cloned()).unwrap_or_else(|| {
                    // Not in this schema: an outer column seen through a subquery alias; be safe.
                    Lineage::union(input.iter().cloned())
                })
            }
            Expr::OuterReferenceColumn(_, c) => {
                let found = self
                    .outer
                    .iter()
                    .rev()
                    .find_map(|(s, l)| s.maybe_index_of_column(c).and_then(|i| l.get(i).cloned()));
                found.unwrap_or_else(|| Lineage::union(self.outer.iter().flat_map(|(_, l)| l.clone())))
            }
            Expr::Alias(a) => self.expr_in(&a.expr, schema, input, level, node),
            Expr::Cast(c) => cast(self.expr_in(&c.expr, schema, input, level, node), c.field.data_type()),
            Expr::TryCast(c) => cast(self.expr_in(&c.expr, schema, input, level, node), c.field.data_type()),
            Expr::AggregateFunction(f) => self.aggregate_fn(f, schema, input, level, node.unwrap_or(0)),
            Expr::WindowFunction(_) => {
                let node = self.node();
                self.window_expr(e, schema, input, level, node)
            }
            Expr::ScalarFunction(f) => {
                let name = f.func.name().to_ascii_lowercase();
                let coarsening = matches!(name.as_str(), "date_trunc" | "date_part" | "datepart" | "datetrunc")
                    && f.args.first().is_some_and(coarse_part);
                let args = Lineage::union(
                    f.args.iter().map(|a| self.expr_in(a, schema, input, level, node)).collect::<Vec<_>>(),
                );
                let args = Lineage { count: None, ..args };
                if coarsening {
                    args.coarsened()
                } else {
                    args
                }
            }
            Expr::ScalarSubquery(s) => self.subquery(&s.subquery, schema, input),
            Expr::InSubquery(s) => {
                let mut l = self.expr_in(&s.expr, schema, input, level, node);
                l.merge(self.subquery(&s.subquery.subquery, schema, input));
                l
            }
            Expr::Exists(s) => self.subquery(&s.subquery.subquery, schema, input),
            other => {
                let mut parts = Vec::new();
                let _ = other.apply_children(|c| {
                    parts.push(c.clone());
                    Ok(TreeNodeRecursion::Continue)
                });
                let l = Lineage::union(
                    parts.iter().map(|c| self.expr_in(c, schema, input, level, node)).collect::<Vec<_>>(),
                );
                Lineage { count: None, ..l }
            }
        }
    }

    /// Every output column of a subquery mixed together, with the enclosing rows as outer scope.
    fn subquery(&mut self, plan: &LogicalPlan, schema: &DFSchema, input: &[Lineage]) -> Lineage {
        self.outer.push((schema.clone(), input.to_vec()));
        let (cols, _) = self.plan(plan);
        self.outer.pop();
        Lineage { count: None, ..Lineage::union(cols) }
    }

    fn aggregate_fn(
        &mut self,
        f: &AggregateFunction,
        schema: &DFSchema,
        input: &[Lineage],
        level: Level,
        node: usize,
    ) -> Lineage {
        let name = f.func.name().to_ascii_lowercase();
        let p = &f.params;
        let mut inner = Vec::new();
        for a in &p.args {
            inner.push(self.expr_in(a, schema, input, level, None));
        }
        let selector = SELECTORS.contains(&name.as_str());
        let mut by = Vec::new();
        if let Some(fe) = &p.filter {
            by.push(self.expr_in(fe, schema, input, level, None));
        }
        for s in &p.order_by {
            by.push(self.expr_in(&s.expr, schema, input, level, None));
        }
        let kind = match name.as_str() {
            "count" => AggKind::Count,
            "sum" => AggKind::Sum,
            _ => AggKind::Other,
        };
        let agg = Agg {
            node,
            filter: p
                .filter
                .as_deref()
                .map(|fe| split_conjunction(fe).iter().map(|c| c.to_string()).collect())
                .unwrap_or_default(),
            args: format!(
                "{}{}",
                if p.distinct { "DISTINCT " } else { "" },
                p.args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
            ),
            kind,
            entities: level >= Level::Entities,
            running: false,
        };
        let values = Lineage::union(inner);
        let values = if selector {
            values.map_via(|v| if v == Via::Row { Via::Picked } else { v })
        } else {
            values.map_via(|_| Via::Summarised)
        };
        let mut l = values;
        l.merge(Lineage::union(by).map_via(|_| Via::Summarised));
        l.aggs.insert(agg.clone());
        l.count = (kind == AggKind::Count && !p.distinct).then_some(agg);
        l
    }

    fn window_expr(&mut self, e: &Expr, schema: &DFSchema, input: &[Lineage], level: Level, node: usize) -> Lineage {
        let w: &WindowFunction = match e {
            Expr::WindowFunction(w) => w,
            Expr::Alias(a) => return self.window_expr(&a.expr, schema, input, level, node),
            other => return self.expr(other, schema, input, level),
        };
        let p = &w.params;
        let args = Lineage::union(p.args.iter().map(|a| self.expr(a, schema, input, level)).collect::<Vec<_>>());
        match &w.fun {
            WindowFunctionDefinition::AggregateUDF(f) => {
                let name = f.name().to_ascii_lowercase();
                let kind = match name.as_str() {
                    "count" => AggKind::Count,
                    "sum" => AggKind::Sum,
                    _ => AggKind::Other,
                };
                let mut l = if SELECTORS.contains(&name.as_str()) { args } else { args.map_via(|_| Via::Summarised) };
                l.aggs.insert(Agg {
                    node,
                    filter: BTreeSet::new(),
                    args: p.args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "),
                    kind,
                    entities: level >= Level::Entities,
                    running: !p.order_by.is_empty(),
                });
                Lineage { count: None, ..l }
            }
            // lag, lead, first_value, row_number, rank…: values pass through as they are.
            WindowFunctionDefinition::WindowUDF(_) => Lineage { count: None, ..args },
        }
    }
}
