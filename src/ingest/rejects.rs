//! Rows that could not become calls: line, column, reason and the raw record, batched for the
//! `rejects` table, with counts by reason for the manifest.
use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray, StringBuilder, UInt64Builder};
use datafusion::arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::warehouse::schema;

/// Rejects buffered before a batch is handed to the writer...
pub(crate) const REJECT_BATCH: usize = 8192;
/// ...or text bytes (records can be up to the record cap each; an Arrow string column holds < 2 GiB).
pub(crate) const REJECT_BATCH_BYTES: usize = 32 << 20;

pub(crate) struct Rejects {
    ingest_id: String,
    file: String,
    line: UInt64Builder,
    column: StringBuilder,
    reason: StringBuilder,
    record: StringBuilder,
    pub len: usize,
    /// Text bytes buffered.
    pub bytes: usize,
    pub by_reason: BTreeMap<String, u64>,
    pub total: u64,
}

impl Rejects {
    pub fn new(ingest_id: &str, file: &str) -> Self {
        Rejects {
            ingest_id: ingest_id.to_string(),
            file: file.to_string(),
            line: UInt64Builder::new(),
            column: StringBuilder::new(),
            reason: StringBuilder::new(),
            record: StringBuilder::new(),
            len: 0,
            bytes: 0,
            by_reason: BTreeMap::new(),
            total: 0,
        }
    }

    pub fn push(&mut self, line: u64, code: &str, column: Option<&str>, reason: &str, record: &str) {
        self.line.append_value(line);
        self.column.append_option(column);
        self.reason.append_value(reason);
        self.record.append_value(record);
        self.len += 1;
        self.bytes += record.len() + reason.len();
        self.total += 1;
        if let Some(c) = self.by_reason.get_mut(code) {
            *c += 1;
        } else {
            self.by_reason.insert(code.to_string(), 1);
        }
    }

    /// Time to hand the buffered rejects over.
    pub fn full(&self) -> bool {
        self.len >= REJECT_BATCH || self.bytes >= REJECT_BATCH_BYTES
    }

    /// The buffered rejects as one batch (empty the buffer).
    pub fn finish_batch(&mut self) -> Result<RecordBatch> {
        let n = self.len;
        self.len = 0;
        self.bytes = 0;
        let ids: ArrayRef = Arc::new(StringArray::from(vec![self.ingest_id.as_str(); n]));
        let files: ArrayRef = Arc::new(StringArray::from(vec![self.file.as_str(); n]));
        Ok(RecordBatch::try_new(
            schema::reject_schema(),
            vec![
                ids,
                files,
                Arc::new(self.line.finish()),
                Arc::new(self.column.finish()),
                Arc::new(self.reason.finish()),
                Arc::new(self.record.finish()),
            ],
        )?)
    }
}
