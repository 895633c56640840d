//! Arrow batches in the call schema (`warehouse/schema.rs`), one per partition month.
use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, StringArray, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::record_batch::RecordBatch;

use super::merge::{CallBuffer, CallRow, Interner, Span, NONE32};
use crate::error::Result;
use crate::warehouse::schema::{self, FLAGS};

/// What every row of a batch shares.
pub(crate) struct BatchContext<'a> {
    pub vocab: &'a Interner,
    pub source: &'a str,
    pub ingest_id: &'a str,
}

/// `rows` grouped by partition month (`year * 12 + month - 1`), one batch each.
pub(crate) fn build_batches(buf: &CallBuffer, rows: &[CallRow], cx: &BatchContext) -> Result<Vec<(i32, RecordBatch)>> {
    // Rows are roughly time-ordered: group indices by partition month.
    let mut parts: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        parts.entry(r.ym).or_default().push(i);
    }
    let mut out = Vec::with_capacity(parts.len());
    for (ym, idx) in parts {
        out.push((ym, build_batch(buf, rows, &idx, cx)?));
    }
    Ok(out)
}

/// Column builders over the selected rows.
struct Cols<'a> {
    rows: &'a [CallRow],
    idx: &'a [usize],
}

impl<'a> Cols<'a> {
    fn selected(&self) -> impl Iterator<Item = &'a CallRow> + '_ {
        self.idx.iter().map(|&i| &self.rows[i])
    }
    fn text<'s>(&self, f: impl Fn(&CallRow) -> Option<&'s str>) -> ArrayRef {
        let mut b = StringBuilder::with_capacity(self.idx.len(), self.idx.len() * 8);
        for r in self.selected() {
            b.append_option(f(r));
        }
        Arc::new(b.finish())
    }
    fn ts(&self, f: impl Fn(&CallRow) -> Option<i64>, utc: bool) -> ArrayRef {
        let mut b = TimestampMicrosecondBuilder::with_capacity(self.idx.len());
        for r in self.selected() {
            b.append_option(f(r));
        }
        let a = b.finish();
        Arc::new(if utc { a.with_timezone("UTC") } else { a })
    }
    fn boolean(&self, f: impl Fn(&CallRow) -> bool) -> ArrayRef {
        let mut b = BooleanBuilder::with_capacity(self.idx.len());
        for r in self.selected() {
            b.append_value(f(r));
        }
        Arc::new(b.finish())
    }
    fn i32s(&self, f: impl Fn(&CallRow) -> Option<i32>) -> ArrayRef {
        let mut b = Int32Builder::with_capacity(self.idx.len());
        for r in self.selected() {
            b.append_option(f(r));
        }
        Arc::new(b.finish())
    }
    fn f64s(&self, f: impl Fn(&CallRow) -> Option<f64>) -> ArrayRef {
        let mut b = Float64Builder::with_capacity(self.idx.len());
        for r in self.selected() {
            b.append_option(f(r));
        }
        Arc::new(b.finish())
    }
    fn constant(&self, v: &str) -> ArrayRef {
        Arc::new(StringArray::from(vec![v; self.idx.len()]))
    }
}

fn build_batch(buf: &CallBuffer, rows: &[CallRow], idx: &[usize], cx: &BatchContext) -> Result<RecordBatch> {
    let c = Cols { rows, idx };
    let sp = |f: fn(&CallRow) -> Span| c.text(|r| buf.str(f(r)));
    let voc = |f: fn(&CallRow) -> u32| {
        c.text(|r| {
            let v = f(r);
            if v == NONE32 {
                None
            } else {
                cx.vocab.get(v)
            }
        })
    };
    let mut cols: Vec<ArrayRef> = vec![
        sp(|r| r.call_id),
        c.constant(cx.source),
        c.constant(cx.ingest_id),
        c.ts(|r| Some(r.received_utc), true),
        c.ts(|r| Some(r.received_local), false),
        c.ts(|r| r.dispatched, true),
        c.ts(|r| r.arrived, true),
        c.ts(|r| r.cleared, true),
        sp(|r| r.initial_type),
        sp(|r| r.final_type),
        sp(|r| if r.basis_final { r.final_type } else { r.initial_type }),
        voc(|r| r.category),
        c.boolean(|r| r.type_mapped),
        c.text(|r| Some(r.category_source.as_str())),
        voc(|r| r.category_rule),
        c.f64s(|r| r.category_confidence),
        sp(|r| r.priority_raw),
        c.i32s(|r| r.priority),
        voc(|r| r.call_source),
        c.boolean(|r| r.self_initiated),
        voc(|r| r.caller_party),
        c.f64s(|r| r.third_party_p),
        sp(|r| r.disposition_raw),
        voc(|r| r.disposition),
        sp(|r| r.district),
        sp(|r| r.beat),
        sp(|r| r.address),
        c.i32s(|r| Some(r.units)),
        voc(|r| r.responder_type),
        c.boolean(|r| r.community_responder),
        c.f64s(|r| r.busy_minutes),
    ];
    for k in 0..FLAGS.len() {
        cols.push(c.boolean(|r| r.flags & (1 << k) != 0));
    }
    Ok(RecordBatch::try_new(schema::call_file_schema(), cols)?)
}
