//! Output formats for query results (table, CSV, Markdown, JSON) and the one thousands
//! formatter every printed count goes through.
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::error::{Error, Result};

/// `1234567` → `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Md,
    Json,
}

fn cell(f: &ArrayFormatter, row: usize) -> String {
    f.value(row).to_string()
}

fn columns(batches: &[RecordBatch]) -> Vec<String> {
    batches.first().map(|b| b.schema().fields().iter().map(|f| f.name().clone()).collect()).unwrap_or_default()
}

/// Every cell as display text, row-major (used by md/json/csv; the table format uses arrow's printer).
pub fn rows_as_text(batches: &[RecordBatch]) -> Result<Vec<Vec<Option<String>>>> {
    let opts = FormatOptions::default().with_null("");
    let mut rows = Vec::new();
    for b in batches {
        let fmts = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for r in 0..b.num_rows() {
            rows.push(
                b.columns()
                    .iter()
                    .zip(&fmts)
                    .map(|(c, f)| if c.is_null(r) { None } else { Some(cell(f, r)) })
                    .collect(),
            );
        }
    }
    Ok(rows)
}

pub fn format(batches: &[RecordBatch], fmt: Format) -> Result<String> {
    let cols = columns(batches);
    match fmt {
        Format::Table => {
            if batches.iter().all(|b| b.num_rows() == 0) {
                return Ok(format!("{}\n(0 rows)\n", cols.join(" | ")));
            }
            Ok(format!("{}\n", datafusion::arrow::util::pretty::pretty_format_batches(batches)?))
        }
        Format::Csv => {
            let rows: Vec<Vec<String>> = rows_as_text(batches)?
                .into_iter()
                .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
                .collect();
            csv_text(&cols, &rows)
        }
        Format::Md => {
            let rows: Vec<Vec<String>> = rows_as_text(batches)?
                .into_iter()
                .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
                .collect();
            Ok(markdown_table(&cols, &rows))
        }
        Format::Json => {
            let mut out = Vec::new();
            for b in batches {
                for r in 0..b.num_rows() {
                    let mut obj = serde_json::Map::new();
                    for (i, f) in b.schema().fields().iter().enumerate() {
                        obj.insert(f.name().clone(), json_value(b.column(i).as_ref(), r)?);
                    }
                    out.push(serde_json::Value::Object(obj));
                }
            }
            Ok(format!("{}\n", serde_json::to_string_pretty(&out).expect("json")))
        }
    }
}

/// A text table as CSV (header row first). The one CSV writer of every output.
pub fn csv_text(columns: &[String], rows: &[Vec<String>]) -> Result<String> {
    let fail = |e: &dyn std::fmt::Display| Error::Format(format!("CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(columns).map_err(|e| fail(&e))?;
    for r in rows {
        w.write_record(r).map_err(|e| fail(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| fail(&e))?;
    String::from_utf8(bytes).map_err(|e| fail(&e))
}

/// A text table as a Markdown (GFM) table; `|` in cells is escaped. The one Markdown table writer.
pub fn markdown_table(columns: &[String], rows: &[Vec<String>]) -> String {
    let esc = |c: &str| c.replace('|', "\\|");
    let mut s = format!(
        "| {} |\n|{}|\n",
        columns.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | "),
        columns.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    );
    for r in rows {
        s.push_str(&format!("| {} |\n", r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")));
    }
    s
}

fn json_value(a: &dyn datafusion::arrow::array::Array, r: usize) -> Result<serde_json::Value> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{DataType as D, Float64Type, Int32Type, Int64Type, UInt64Type};
    if a.is_null(r) {
        return Ok(serde_json::Value::Null);
    }
    Ok(match a.data_type() {
        D::Boolean => a.as_boolean().value(r).into(),
        D::Int32 => a.as_primitive::<Int32Type>().value(r).into(),
        D::Int64 => a.as_primitive::<Int64Type>().value(r).into(),
        D::UInt64 => a.as_primitive::<UInt64Type>().value(r).into(),
        D::Float64 => serde_json::Number::from_f64(a.as_primitive::<Float64Type>().value(r))
            .map(Into::into)
            .unwrap_or(serde_json::Value::Null),
        _ => {
            let f = ArrayFormatter::try_new(a, &FormatOptions::default())?;
            f.value(r).to_string().into()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(-1234567), "-1,234,567");
    }
}
