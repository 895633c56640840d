//! The per-file state between records and batches: every record becomes a call, a merged unit
//! row, a dropped non-call or a reject, and buffered calls leave as Arrow batches through a
//! [`Sink`]. Shared by the warehouse ingest and [`super::parse_bytes`] (the fuzzers' entry point).
use std::path::Path;

use datafusion::arrow::record_batch::RecordBatch;

use super::batch::{build_batches, BatchContext};
use super::merge::{merge_unit, CallBuffer};
use super::parser::{RowParser, RowReject};
use super::records::{Damage, Record};
use super::rejects::Rejects;
use super::row::{decode_fields, fill_derived, Row};
use super::{Counts, IngestOptions};
use crate::error::{Error, Result};
use crate::source::detect::decode_header;
use crate::source::profile::{Profile, SourceField};

/// Default [`Pipeline::arena_budget`].
const ARENA_BUDGET: usize = 256 << 20;

/// Where batches go: the writer thread, or memory.
pub(crate) trait Sink {
    fn calls(&mut self, ym: i32, batch: RecordBatch) -> Result<()>;
    fn rejects(&mut self, batch: RecordBatch) -> Result<()>;
}

/// Hashes of every call id kept so far, to prove cheaply that no id repeats (the common case).
/// A repeat or a 64-bit hash collision only flags the file for the exact check; past `CAP` ids the
/// set stops growing (memory stays bounded) and the exact check runs instead.
#[derive(Default)]
pub(crate) struct SeenIds {
    set: hashbrown::HashSet<u64, foldhash::fast::FixedState>,
    possible_duplicate: bool,
    overflow: bool,
}

impl SeenIds {
    const CAP: usize = 4_000_000;

    fn with_capacity(n: usize) -> Self {
        SeenIds {
            set: hashbrown::HashSet::with_capacity_and_hasher(n.min(Self::CAP), Default::default()),
            ..Default::default()
        }
    }

    fn note(&mut self, h: u64) {
        if self.overflow {
            return;
        }
        if !self.set.insert(h) {
            self.possible_duplicate = true;
        }
        if self.set.len() >= Self::CAP {
            self.overflow = true;
            self.set = Default::default();
        }
    }

    /// The in-memory check could not rule out repeated call ids: run the exact one.
    pub fn maybe_duplicates(&self) -> bool {
        self.possible_duplicate || self.overflow
    }
}

pub(crate) struct Pipeline<'p> {
    profile: &'p Profile,
    ingest_id: String,
    pub parser: RowParser<'p>,
    pub rejects: Rejects,
    pub counts: Counts,
    pub seen: SeenIds,
    buf: CallBuffer,
    merge: bool,
    batch_size: usize,
    max_record_bytes: usize,
    /// Buffered call text that triggers an early emit: bounds memory and keeps every Arrow string
    /// column of a batch far below its 2 GiB offset limit.
    pub arena_budget: usize,
    has_derived: bool,
    decoded: Vec<String>,
    derived: Vec<Option<String>>,
}

/// A record the tokenizer had to cut or skip, as a reject: (code, reason).
fn damage_reject(rec: &Record, cap: usize) -> Option<(&'static str, String)> {
    let line = rec.line();
    Some(match rec.damage {
        Damage::None => return None,
        Damage::TooLong { last_line, bytes } => (
            "record_too_long",
            format!(
                "record of {bytes} bytes (lines {line}–{last_line}) is over the {cap}-byte limit \
                 (--max-record-bytes); skipped, reading resumed after it"
            ),
        ),
        Damage::UnclosedQuote { quote_line, gave_up_line, resume_line, at_eof } => (
            "unclosed_quote",
            format!(
                "the quoted field opened on line {quote_line} never closes (read to {} at line {gave_up_line}): it \
                 would have swallowed lines {}–{gave_up_line} ({} lines); record cut at the end of line \
                 {quote_line}, reading resumed at line {resume_line}",
                if at_eof { "the end of the file" } else { "the record-size limit" },
                quote_line + 1,
                gave_up_line.saturating_sub(quote_line),
            ),
        ),
        Damage::Truncated => {
            ("truncated_record", "file ends inside a quoted field: the last record is cut off".to_string())
        }
    })
}

impl<'p> Pipeline<'p> {
    /// Resolve the profile against the header record (an error when required columns are missing).
    pub fn new(
        profile: &'p Profile,
        header: &Record,
        path: &Path,
        ingest_id: &str,
        opts: &IngestOptions,
        size_hint: u64,
    ) -> Result<Self> {
        let problem = match header.damage {
            Damage::None => None,
            Damage::TooLong { .. } => {
                Some(format!("the header row is longer than {} bytes (--max-record-bytes)", opts.max_record_bytes))
            }
            Damage::UnclosedQuote { quote_line, .. } => {
                Some(format!("the header row has a quote opened on line {quote_line} that never closes"))
            }
            Damage::Truncated => Some("the file ends inside the header row".to_string()),
        };
        if let Some(problem) = problem {
            return Err(Error::Input {
                file: path.to_path_buf(),
                message: format!("{problem}: is this a CSV export?"),
            });
        }
        let header = decode_header(header.iter(), profile.encoding);
        let layout = profile.resolve(&header);
        layout.check_required(path)?;
        let merge = profile.merge_window.map(|w| w.max(opts.batch_size));
        let batch_size = merge.unwrap_or(opts.batch_size);
        let mut buf = CallBuffer::new();
        buf.rows.reserve_exact(2 * batch_size + 1);
        let has_derived = layout.derived().next().is_some();
        Ok(Pipeline {
            profile,
            ingest_id: ingest_id.to_string(),
            parser: RowParser::new(profile, layout, header),
            rejects: Rejects::new(ingest_id, &path.display().to_string()),
            counts: Counts::default(),
            // Sized from the file (≈ 250 bytes a row) so the id set rarely rehashes.
            seen: SeenIds::with_capacity((size_hint / 250) as usize),
            buf,
            merge: merge.is_some(),
            batch_size,
            max_record_bytes: opts.max_record_bytes,
            arena_budget: ARENA_BUDGET,
            has_derived,
            decoded: Vec::new(),
            derived: vec![None; SourceField::ALL.len()],
        })
    }

    fn reject(&mut self, line: u64, r: RowReject, record: &str, sink: &mut dyn Sink) -> Result<()> {
        self.rejects.push(line, r.code, r.column.as_deref(), &r.reason, record);
        if self.rejects.full() {
            sink.rejects(self.rejects.finish_batch()?)?;
        }
        Ok(())
    }

    /// One record from the file.
    pub fn record(&mut self, rec: &Record, sink: &mut dyn Sink) -> Result<()> {
        self.counts.rows_read += 1;
        if let Some((code, reason)) = damage_reject(rec, self.max_record_bytes) {
            let text = if rec.damage == Damage::Truncated {
                String::from_utf8_lossy(rec.as_slice()).into_owned()
            } else {
                let d = (self.profile.delimiter as char).to_string();
                rec.iter().map(String::from_utf8_lossy).collect::<Vec<_>>().join(&d)
            };
            return self.reject(rec.line(), RowReject { code, column: None, reason }, &text, sink);
        }
        let mut fields = decode_fields(rec, self.profile.encoding, &mut self.decoded);
        if self.has_derived {
            let tmp = Row { fields, derived: &[] };
            fill_derived(&self.parser.layout, &tmp, &mut self.derived);
            fields = tmp.fields;
        }
        let row = Row { fields, derived: &self.derived };
        match self.parser.parse(&row, &mut self.buf) {
            Ok(Some(call)) => {
                let id = self.buf.str(call.call_id).unwrap_or("");
                let h = self.buf.hash(id);
                let existing = if self.merge { self.buf.find_hashed(h, id) } else { None };
                match existing {
                    Some(i) => {
                        if !call.type_mapped {
                            self.parser.unmerge_unmapped(&self.buf, &call);
                        }
                        merge_unit(&mut self.buf.rows[i], &call);
                        // The unit row's strings are no longer needed.
                        self.buf.truncate_arena(call.call_id);
                        self.counts.unit_rows_merged += 1;
                    }
                    None => {
                        self.seen.note(h);
                        self.counts.calls_by_source[call.category_source as usize] += 1;
                        self.buf.rows.push(call);
                        if self.merge {
                            self.buf.index_row_hashed(self.buf.rows.len() - 1, h);
                        }
                        self.counts.calls_kept += 1;
                    }
                }
            }
            Ok(None) => self.counts.non_calls_dropped += 1,
            Err(r) => {
                let record = row.joined(self.profile.delimiter);
                self.reject(rec.line(), r, &record, sink)?;
            }
        }
        // Merge window: keep the newest `batch_size` incidents open, emit older ones. Also when the
        // buffered text passes its budget (huge rows): then the older half goes.
        let len = self.buf.rows.len();
        let full = len >= if self.merge { 2 * self.batch_size } else { self.batch_size };
        if full || self.buf.arena_bytes() >= self.arena_budget {
            let keep = match (self.merge, full) {
                (false, _) => 0,
                (true, true) => self.batch_size,
                (true, false) => len / 2,
            };
            self.emit(len - keep, sink, false)?;
        }
        Ok(())
    }

    /// Send the oldest `n` buffered calls as batches.
    fn emit(&mut self, n: usize, sink: &mut dyn Sink, last: bool) -> Result<()> {
        let n = n.min(self.buf.rows.len());
        if n == 0 {
            return Ok(());
        }
        let cx = BatchContext { vocab: &self.parser.vocab, source: &self.profile.name, ingest_id: &self.ingest_id };
        for (ym, b) in build_batches(&self.buf, &self.buf.rows[..n], &cx)? {
            sink.calls(ym, b)?;
        }
        if !last {
            self.buf.drain_front(n, self.merge);
        }
        Ok(())
    }

    /// Flush every buffered call and reject.
    pub fn finish(&mut self, sink: &mut dyn Sink) -> Result<()> {
        self.emit(self.buf.rows.len(), sink, true)?;
        self.buf.rows.clear();
        if self.rejects.len > 0 {
            sink.rejects(self.rejects.finish_batch()?)?;
        }
        Ok(())
    }
}
