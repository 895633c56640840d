//! A panel's query result as display cells (HTML table) and chart rows (Vega-Lite data), with the
//! cells `privacy` hides shown as the suppression marker and left out of charts.
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::output::privacy::{self, Hide};

/// One table cell as shown in the HTML table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cell {
    pub text: String,
    pub num: bool,
}

/// A panel's result, ready to render: display rows (suppressed) and chart rows (suppressed → null).
#[derive(Debug, Clone, Default)]
pub struct PanelData {
    pub columns: Vec<String>,
    /// Vega-Lite type inferred from each column's Arrow type.
    pub types: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    pub values: Vec<Map<String, Value>>,
    pub suppressed_cells: usize,
}

pub(super) fn format_float(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return crate::output::format::thousands(v as i64);
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let int: i64 = int.parse().unwrap_or(0);
    let sign = if v < 0.0 && int == 0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{}", crate::output::format::thousands(int))
    } else {
        format!("{sign}{}.{frac}", crate::output::format::thousands(int))
    }
}

fn vl_type(dt: &DataType) -> &'static str {
    match dt {
        d if d.is_numeric() => "quantitative",
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _) => "temporal",
        _ => "nominal",
    }
}

/// One column's cells: display text and chart value, row by row.
fn column_cells(col: &dyn Array, dt: &DataType) -> Result<Vec<(Cell, Value)>> {
    let n = col.len();
    let num = |text: String, v: Value| (Cell { text, num: true }, v);
    let mut out = Vec::with_capacity(n);
    if dt.is_integer() {
        let a = cast(&datafusion::arrow::array::make_array(col.to_data()), &DataType::Int64)?;
        let a = a.as_primitive::<Int64Type>();
        for r in 0..n {
            out.push(if a.is_null(r) {
                num(String::new(), Value::Null)
            } else {
                num(crate::output::format::thousands(a.value(r)), a.value(r).into())
            });
        }
    } else if dt.is_numeric() {
        let a = cast(&datafusion::arrow::array::make_array(col.to_data()), &DataType::Float64)?;
        let a = a.as_primitive::<Float64Type>();
        for r in 0..n {
            let v = a.value(r);
            out.push(if a.is_null(r) {
                num(String::new(), Value::Null)
            } else if !v.is_finite() {
                num(v.to_string(), Value::Null)
            } else {
                num(format_float(v), serde_json::Number::from_f64(v).map(Value::Number).unwrap_or(Value::Null))
            });
        }
    } else if *dt == DataType::Boolean {
        let a = col.as_boolean();
        for r in 0..n {
            let text = if a.is_null(r) { String::new() } else { a.value(r).to_string() };
            let v = if a.is_null(r) { Value::Null } else { a.value(r).into() };
            out.push((Cell { text, num: false }, v));
        }
    } else {
        let opts = FormatOptions::default().with_null("");
        let fmt = ArrayFormatter::try_new(col, &opts)?;
        let date = matches!(dt, DataType::Date32 | DataType::Date64);
        for r in 0..n {
            out.push(if col.is_null(r) {
                (Cell { text: String::new(), num: false }, Value::Null)
            } else {
                let text = fmt.value(r).to_string();
                // A bare ISO date is read by browsers as UTC midnight; local midnight keeps the day.
                let v = if date { format!("{text}T00:00:00") } else { text.clone() };
                (Cell { text, num: false }, Value::String(v))
            });
        }
    }
    Ok(out)
}

/// Turn a panel's batches into display and chart rows (nothing hidden yet: see [`hide_cells`]).
pub fn panel_data(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<PanelData> {
    let fields = schema.fields();
    let mut d = PanelData {
        columns: fields.iter().map(|f| f.name().clone()).collect(),
        types: fields.iter().map(|f| vl_type(f.data_type())).collect(),
        ..Default::default()
    };
    for b in batches {
        let mut rows: Vec<Vec<Cell>> = vec![Vec::with_capacity(fields.len()); b.num_rows()];
        let mut values: Vec<Map<String, Value>> = vec![Map::new(); b.num_rows()];
        for (ci, f) in fields.iter().enumerate() {
            for (r, (cell, v)) in column_cells(b.column(ci).as_ref(), f.data_type())?.into_iter().enumerate() {
                rows[r].push(cell);
                values[r].insert(f.name().clone(), v);
            }
        }
        d.rows.extend(rows);
        d.values.extend(values);
    }
    Ok(d)
}

/// Show the cells `hide` marks as the privacy marker (`<11`, or `(suppressed)` for complementary
/// suppression) and leave them out of charts (null).
pub fn hide_cells(d: &mut PanelData, hide: &[Vec<Hide>], threshold: i64) {
    let small = privacy::small_label(threshold);
    for (r, row) in hide.iter().enumerate() {
        for (c, h) in row.iter().enumerate() {
            if *h == Hide::No {
                continue;
            }
            d.suppressed_cells += 1;
            d.rows[r][c].text = if *h == Hide::Small { small.clone() } else { privacy::COMPLEMENT.to_string() };
            d.values[r].insert(d.columns[c].clone(), Value::Null);
        }
    }
}

/// Keep rows whose `column` displays as `value` (all pairs must match).
/// Returns which of the original rows were kept.
pub(super) fn apply_filter(d: &mut PanelData, filter: &[(String, String)]) -> Vec<bool> {
    if filter.is_empty() {
        return vec![true; d.rows.len()];
    }
    let idx: Vec<(usize, &str)> =
        filter.iter().filter_map(|(c, v)| d.columns.iter().position(|n| n == c).map(|i| (i, v.as_str()))).collect();
    let keep: Vec<bool> = d.rows.iter().map(|row| idx.iter().all(|(i, v)| row[*i].text == *v)).collect();
    let mut k = keep.iter();
    d.rows.retain(|_| *k.next().unwrap());
    let mut k = keep.iter();
    d.values.retain(|_| *k.next().unwrap());
    keep
}
