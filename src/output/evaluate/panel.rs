//! The district × week panel read from `evaluation_weekly`, and the `start` parameter.
use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};

use super::{Measure, MEASURES, WEEKLY_REPORT};
use crate::error::{Error, Result};

/// One row per district × week with the measures' columns.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    /// Sorted district names.
    pub districts: Vec<String>,
    /// Sorted week starts (ISO dates).
    pub weeks: Vec<String>,
    /// Per district: the program's start date (ISO), `None` for comparison districts.
    pub starts: Vec<Option<String>>,
    /// Per row: (district index, week index).
    cells: Vec<(usize, usize)>,
    cols: BTreeMap<String, Vec<Option<f64>>>,
}

/// One measure's observed cells: (district, week), value, and the calls behind the value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub cells: Vec<(usize, usize)>,
    pub y: Vec<f64>,
    pub calls: Vec<f64>,
}

fn column<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a dyn Array> {
    b.column_by_name(name)
        .map(|a| a.as_ref())
        .ok_or_else(|| Error::Refused(format!("report `{WEEKLY_REPORT}` has no column `{name}`")))
}

fn text_column(b: &RecordBatch, name: &str) -> Result<Vec<Option<String>>> {
    let s = cast(column(b, name)?, &DataType::Utf8)?;
    let s = s.as_string::<i32>();
    Ok((0..s.len()).map(|i| (!s.is_null(i)).then(|| s.value(i).to_string())).collect())
}

fn float_column(b: &RecordBatch, name: &str) -> Result<Vec<Option<f64>>> {
    let f = cast(column(b, name)?, &DataType::Float64)?;
    let f = f.as_primitive::<Float64Type>();
    Ok((0..f.len()).map(|i| (!f.is_null(i)).then(|| f.value(i))).collect())
}

/// The measures' value and calls columns, deduplicated.
fn measure_columns() -> Vec<&'static str> {
    let mut names: Vec<&str> = MEASURES.iter().flat_map(|m| [m.name, m.calls_column]).collect();
    names.sort();
    names.dedup();
    names
}

impl Panel {
    /// Read the report's batches (columns `week`, `district`, `start_date` and the measures').
    pub fn from_batches(batches: &[RecordBatch]) -> Result<Panel> {
        let (mut week, mut district, mut start) = (Vec::new(), Vec::new(), Vec::new());
        let mut cols: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
        for b in batches {
            week.extend(text_column(b, "week")?.into_iter().map(Option::unwrap_or_default));
            district.extend(text_column(b, "district")?.into_iter().map(Option::unwrap_or_default));
            start.extend(text_column(b, "start_date")?);
            for name in measure_columns() {
                cols.entry(name.to_string()).or_default().extend(float_column(b, name)?);
            }
        }
        Ok(Panel::from_rows(&week, &district, &start, cols))
    }

    /// Build from row-wise week, district and start date (the start repeated on every row of a district).
    pub fn from_rows(
        week: &[String],
        district: &[String],
        start: &[Option<String>],
        cols: BTreeMap<String, Vec<Option<f64>>>,
    ) -> Panel {
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v.dedup();
            v
        };
        let (districts, weeks) = (sorted(district), sorted(week));
        let mut starts = vec![None; districts.len()];
        let cells = week
            .iter()
            .zip(district)
            .zip(start)
            .map(|((w, d), s)| {
                let g = districts.binary_search(d).expect("present");
                if s.is_some() {
                    starts[g] = s.clone();
                }
                (g, weeks.binary_search(w).expect("present"))
            })
            .collect();
        Panel { districts, weeks, starts, cells, cols }
    }

    /// Per district, the index of its first week on or after its start (`weeks.len()` when the
    /// start is after the last week); `None` for comparison districts.
    pub fn start_weeks(&self) -> Vec<Option<usize>> {
        self.starts
            .iter()
            .map(|s| s.as_ref().map(|s| self.weeks.partition_point(|w| w.as_str() < s.as_str())))
            .collect()
    }

    /// The cells where the measure has a finite value.
    pub fn series(&self, m: &Measure) -> Series {
        let (vals, calls) = (&self.cols[m.name], &self.cols[m.calls_column]);
        let mut s = Series::default();
        for (i, &cell) in self.cells.iter().enumerate() {
            if let Some(v) = vals[i].filter(|v| v.is_finite()) {
                s.cells.push(cell);
                s.y.push(v);
                s.calls.push(calls[i].unwrap_or(0.0));
            }
        }
        s
    }

    /// `D1:2024-06-01,D3:2024-06-01` — the treated districts and their starts, as the report saw them.
    pub fn starts_label(&self) -> String {
        self.districts
            .iter()
            .zip(&self.starts)
            .filter_map(|(d, s)| s.as_ref().map(|s| format!("{d}:{s}")))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Parse `start=D1:2024-06-01,D3:2024-08-01` into (district, date) pairs.
pub fn parse_starts(s: &str) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || Error::Usage(format!("parameter `start`: `{part}` is not DISTRICT:YYYY-MM-DD"));
        let (d, date) = part.split_once(':').ok_or_else(bad)?;
        let (d, date) = (d.trim(), date.trim());
        if d.is_empty() || chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() {
            return Err(bad());
        }
        if out.iter().any(|(o, _)| o == d) {
            return Err(Error::Usage(format!("parameter `start`: district `{d}` is given twice")));
        }
        out.push((d.to_string(), date.to_string()));
    }
    Ok(out)
}
