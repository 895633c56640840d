//! Ingest: stream a CAD export (CSV) through a profile into canonical call batches and Parquet.
//!
//! Pipeline: bounded CSV records ([`records`], on a reader thread with the file hash: [`reader`]) →
//! [`parser::RowParser`] (fields, times, maps, crosswalk; no per-row allocation) →
//! [`merge::CallBuffer`] (merges unit rows of one incident inside a bounded window) → Arrow batches
//! ([`batch`]) → a writer thread encoding Parquet files ([`writer`]) → the Delta commits
//! (`warehouse::commit`). Memory is bounded by the window, batch size and record cap, never by file size.
//!
//! Every row is accounted for: `rows_read = calls_kept + rows_rejected + unit_rows_merged +
//! non_calls_dropped`, checked at run time against the rows actually written ([`reconcile`]).
mod batch;
mod merge;
mod parser;
mod pipeline;
mod reader;
pub mod records;
mod rejects;
mod row;
pub(crate) mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant as WallClock;

use datafusion::arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::source::classify::CategorySource;
use crate::source::profile::Profile;
use crate::warehouse::commit::{IngestCommit, StagedFile};
use crate::warehouse::{IngestRecord, UnmappedType, Warehouse};
use pipeline::{Pipeline, Sink};
use reader::{HashingReader, RecordSource};
use records::{Record, RecordReader};
use writer::{WriteMsg, WriterThread};

pub use records::{DEFAULT_MAX_RECORD_BYTES, MAX_MAX_RECORD_BYTES, MIN_MAX_RECORD_BYTES};
pub use writer::writer_properties;

/// Upper bound for `--batch-size` and a profile's `[merge] window` (calls held in memory).
pub const MAX_BATCH_SIZE: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Calls per Arrow batch (and the minimum merge window for unit rows), 1..=[`MAX_BATCH_SIZE`].
    pub batch_size: usize,
    /// Draw a progress bar (only ever drawn when stderr is a terminal).
    pub progress: bool,
    /// A longer record is rejected (`record_too_long`), never held in memory.
    pub max_record_bytes: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions { batch_size: 65_536, progress: true, max_record_bytes: DEFAULT_MAX_RECORD_BYTES }
    }
}

impl IngestOptions {
    /// Numeric options within their bounds (the CLI checks them too; this guards library callers).
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_BATCH_SIZE).contains(&self.batch_size) {
            return Err(Error::Usage(format!("--batch-size {}: expected 1..={MAX_BATCH_SIZE}", self.batch_size)));
        }
        if !(MIN_MAX_RECORD_BYTES..=MAX_MAX_RECORD_BYTES).contains(&self.max_record_bytes) {
            return Err(Error::Usage(format!(
                "--max-record-bytes {}: expected {MIN_MAX_RECORD_BYTES}..={MAX_MAX_RECORD_BYTES}",
                self.max_record_bytes
            )));
        }
        Ok(())
    }
}

/// A profile's `[merge] window` within bounds (`profile.rs` only checks that it is a number).
pub fn check_profile(profile: &Profile) -> Result<()> {
    match profile.merge_window {
        Some(w) if w > MAX_BATCH_SIZE => Err(Error::config(
            &profile.origin,
            "merge.window",
            format!("{w}: expected 1..={MAX_BATCH_SIZE} incidents held open for merging"),
        )),
        _ => Ok(()),
    }
}

#[derive(Debug, Clone)]
pub enum IngestOutcome {
    Ingested {
        record: Box<IngestRecord>,
        seconds: f64,
    },
    /// The same bytes were ingested before: nothing changed.
    AlreadyIngested {
        file: String,
        blake3: String,
        ingest_id: String,
    },
}

/// Counters kept while parsing one file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub rows_read: u64,
    pub calls_kept: u64,
    /// Calls kept by where their category came from, in `CategorySource::ALL` order.
    pub calls_by_source: [u64; 3],
    pub rows_rejected: u64,
    pub unit_rows_merged: u64,
    pub non_calls_dropped: u64,
}

/// The reconciliation identity, checked against the rows actually written: an error (nothing is
/// committed), never a panic.
pub fn reconcile(file: &Path, counts: &Counts, calls_written: u64, rejects_written: u64) -> Result<()> {
    let c = counts;
    let accounted = c.calls_kept + c.rows_rejected + c.unit_rows_merged + c.non_calls_dropped;
    if c.rows_read == accounted && calls_written == c.calls_kept && rejects_written == c.rows_rejected {
        return Ok(());
    }
    Err(Error::Input {
        file: file.to_path_buf(),
        message: format!(
            "internal error, nothing committed: rows do not reconcile (rows read {} vs calls kept {} + rejected {} + \
             unit rows merged {} + non-calls dropped {}; calls written {calls_written}, rejects written \
             {rejects_written}); please report this",
            c.rows_read, c.calls_kept, c.rows_rejected, c.unit_rows_merged, c.non_calls_dropped
        ),
    })
}

/// The result of [`parse_bytes`]: batches as they would be written, the counts, and what the
/// manifest would list as unmapped (types sorted by rows, then name).
#[derive(Debug)]
pub struct Parsed {
    pub calls: Vec<RecordBatch>,
    pub rejects: Vec<RecordBatch>,
    pub counts: Counts,
    pub unmapped_types: Vec<(String, u64)>,
    pub unmapped_values: UnmappedValues,
}

/// Batches kept in memory (for [`parse_bytes`]), with the rows they hold.
#[derive(Default)]
struct VecSink {
    calls: Vec<RecordBatch>,
    rejects: Vec<RecordBatch>,
    call_rows: u64,
    reject_rows: u64,
}

impl Sink for VecSink {
    fn calls(&mut self, _ym: i32, batch: RecordBatch) -> Result<()> {
        self.call_rows += batch.num_rows() as u64;
        self.calls.push(batch);
        Ok(())
    }
    fn rejects(&mut self, batch: RecordBatch) -> Result<()> {
        self.reject_rows += batch.num_rows() as u64;
        self.rejects.push(batch);
        Ok(())
    }
}

/// Parse a whole CSV export held in memory into call and reject batches, without a warehouse:
/// the same tokenizer, row parser, merge buffer and batch builder as [`ingest_file`], on one
/// thread. For tests, fuzzing and embedding. The reconciliation is checked like a real ingest.
pub fn parse_bytes(profile: &Profile, bytes: &[u8], opts: &IngestOptions) -> Result<Parsed> {
    parse_bytes_with(profile, bytes, opts, |_| {})
}

/// [`parse_bytes`] with a hook to adjust the pipeline (tests shrink its memory budgets).
fn parse_bytes_with(
    profile: &Profile,
    bytes: &[u8],
    opts: &IngestOptions,
    tune: impl FnOnce(&mut Pipeline),
) -> Result<Parsed> {
    opts.validate()?;
    check_profile(profile)?;
    let path = Path::new("<bytes>");
    let mut rdr = RecordReader::new(bytes, profile.delimiter, opts.max_record_bytes);
    let header = read_header(&mut rdr, path)?;
    let mut p = Pipeline::new(profile, &header, path, "parse-bytes", opts, bytes.len() as u64)?;
    tune(&mut p);
    let mut sink = VecSink::default();
    let mut rec = Record::default();
    while rdr.read(&mut rec).map_err(|e| read_error(path, &e))? {
        p.record(&rec, &mut sink)?;
    }
    p.finish(&mut sink)?;
    p.counts.rows_rejected = p.rejects.total;
    reconcile(path, &p.counts, sink.call_rows, sink.reject_rows)?;
    let (types, values) = unmapped(p.parser);
    Ok(Parsed {
        calls: sink.calls,
        rejects: sink.rejects,
        counts: p.counts,
        unmapped_types: types.into_iter().map(|t| (t.raw_type, t.rows)).collect(),
        unmapped_values: values,
    })
}

fn read_error(path: &Path, e: &std::io::Error) -> Error {
    Error::Input { file: path.to_path_buf(), message: format!("read failed: {e}") }
}

/// The first record, or a clear error for an empty file.
fn read_header<R: std::io::Read>(rdr: &mut RecordReader<R>, path: &Path) -> Result<Record> {
    let mut header = Record::default();
    if !rdr.read(&mut header).map_err(|e| read_error(path, &e))? {
        return Err(Error::Input { file: path.to_path_buf(), message: "empty file: no header row".into() });
    }
    Ok(header)
}

/// Ingest one file into the warehouse. A bad row is rejected, never fatal; a file that cannot be
/// read at all (missing, wrong profile) is an error and leaves the warehouse untouched.
pub async fn ingest_file(
    wh: &Warehouse,
    profile: &Profile,
    path: &Path,
    opts: &IngestOptions,
) -> Result<IngestOutcome> {
    let started = WallClock::now();
    let Staged { mut record, written, maybe_duplicates, scratch } = match stage_file(wh, profile, path, opts).await? {
        Ok(staged) => staged,
        Err(done) => return Ok(done),
    };
    if maybe_duplicates {
        record.duplicate_call_ids = count_duplicate_ids(&written.calls).await?;
    }
    trace_memory("staged");
    let committed = wh.commit_ingest(&record, &written.calls, &written.rejects).await;
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    match committed? {
        IngestCommit::Committed { calls_version } => {
            record.calls_version = Some(calls_version);
            record.files = written.calls.iter().map(|f| f.rel.clone()).collect();
            Ok(IngestOutcome::Ingested { record: Box::new(record), seconds: started.elapsed().as_secs_f64() })
        }
        IngestCommit::AlreadyIngested { ingest_id } => {
            Ok(IngestOutcome::AlreadyIngested { file: path.display().to_string(), blake3: record.blake3, ingest_id })
        }
    }
}

/// `CALLSIFT_TRACE=1`: print resident and peak memory at pipeline phases (for benchmarking).
pub fn trace_memory(phase: &str) {
    if std::env::var_os("CALLSIFT_TRACE").is_none() {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get =
        |k: &str| status.lines().find_map(|l| l.strip_prefix(k)).map(|v| v.trim().to_string()).unwrap_or_default();
    eprintln!("[trace] {phase}: rss {} peak {}", get("VmRSS:"), get("VmHWM:"));
}

/// A parsed file whose data files are written but not committed.
struct Staged {
    record: IngestRecord,
    written: writer::Written,
    /// The in-memory id check could not rule out repeated call ids, so the exact (spilling)
    /// DataFusion check runs on the written files.
    maybe_duplicates: bool,
    /// A local folder to remove after the commit (remote warehouses upload from it).
    scratch: Option<PathBuf>,
}

/// Call ids that occur more than once in the written files (exact, by DataFusion, spilling if large).
async fn count_duplicate_ids(files: &[StagedFile]) -> Result<u64> {
    if files.is_empty() {
        return Ok(0);
    }
    // A small pool: the aggregation spills rather than holding every id of a huge file in memory.
    let ctx = crate::warehouse::engine::context_with_memory(64 << 20);
    let paths: Vec<String> = files.iter().map(|f| f.local.display().to_string()).collect();
    let df = ctx.read_parquet(paths, datafusion::prelude::ParquetReadOptions::default()).await?;
    ctx.register_table("staged", df.into_view())?;
    let n = crate::warehouse::query::one_row_u64(
        &ctx,
        "SELECT count(*) AS n FROM (SELECT call_id FROM staged GROUP BY call_id HAVING count(*) > 1)",
    )
    .await?;
    Ok(n.first().copied().unwrap_or(0))
}

/// Idempotence: the same bytes twice change nothing. A regular file as long as a committed one is
/// hashed up front (BLAKE3 runs at several GB/s), so a repeat is skipped before parsing; any other
/// input is hashed while it is parsed.
/// The digest, or the outcome when these bytes are already committed.
async fn already_ingested(wh: &Warehouse, path: &Path) -> Result<std::result::Result<String, IngestOutcome>> {
    let digest = reader::file_blake3(path)?;
    Ok(match wh.find_ingest(&digest).await? {
        Some(ingest_id) => {
            Err(IngestOutcome::AlreadyIngested { file: path.display().to_string(), blake3: digest, ingest_id })
        }
        None => Ok(digest),
    })
}

/// Batches handed to the writer thread.
struct WriterSink<'a> {
    tx: &'a std::sync::mpsc::SyncSender<WriteMsg>,
    warehouse: &'a str,
}

impl WriterSink<'_> {
    fn send(&self, msg: WriteMsg) -> Result<()> {
        self.tx
            .send(msg)
            .map_err(|_| Error::Warehouse { dir: self.warehouse.into(), message: "writer thread stopped".into() })
    }
}

impl Sink for WriterSink<'_> {
    fn calls(&mut self, ym: i32, batch: RecordBatch) -> Result<()> {
        self.send(WriteMsg::Calls(ym, batch))
    }
    fn rejects(&mut self, batch: RecordBatch) -> Result<()> {
        self.send(WriteMsg::Rejects(batch))
    }
}

/// Feed every record of `source` through the pipeline.
fn pump(
    source: &mut RecordSource,
    p: &mut Pipeline,
    sink: &mut dyn Sink,
    progress: Option<&indicatif::ProgressBar>,
    bytes_read: &AtomicU64,
) -> Result<()> {
    let started = WallClock::now();
    while let Some(rec) = source.next()? {
        p.record(rec, sink)?;
        if p.counts.rows_read.is_multiple_of(16_384) {
            if let Some(pb) = progress {
                pb.set_position(bytes_read.load(Ordering::Relaxed));
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                let rows = p.counts.rows_read;
                pb.set_message(format!("{rows} rows, {:.0} rows/s", rows as f64 / secs));
            }
        }
    }
    p.finish(sink)
}

/// Where this ingest's files are written: the table folders of a local warehouse, else a scratch
/// folder they are uploaded from.
fn roots(wh: &Warehouse, ingest_id: &str) -> Result<(writer::Roots, Option<PathBuf>)> {
    if let Some(dir) = &wh.location.local {
        return Ok((writer::Roots { calls: dir.join("calls"), rejects: dir.join("rejects") }, None));
    }
    let scratch = std::env::temp_dir().join(format!("callsift-ingest-{ingest_id}"));
    std::fs::create_dir_all(&scratch).map_err(|e| Error::io(format!("creating {}", scratch.display()), e))?;
    Ok((writer::Roots { calls: scratch.join("calls"), rejects: scratch.join("rejects") }, Some(scratch)))
}

/// Parse and write one file's data files (nothing visible in the warehouse until the commit);
/// `Err(outcome)` when there is nothing to commit.
async fn stage_file(
    wh: &Warehouse,
    profile: &Profile,
    path: &Path,
    opts: &IngestOptions,
) -> Result<std::result::Result<Staged, IngestOutcome>> {
    opts.validate()?;
    check_profile(profile)?;
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::Input { file: path.to_path_buf(), message: format!("cannot read: {e}") })?;
    if meta.is_dir() {
        return Err(Error::Input { file: path.to_path_buf(), message: "is a directory, not a CSV file".into() });
    }
    // A repeat is skipped before parsing, but only a committed file of the same size can be one: any
    // other file is hashed on the reader thread while it is parsed (a separate pass was ~7 % of
    // ingest time). A pipe or `/dev/zero` is always read once. The commit re-checks either way.
    let same_size = wh.manifest()?.ingests.iter().any(|i| i.bytes == meta.len());
    let known_digest = if meta.is_file() && same_size {
        match already_ingested(wh, path).await? {
            Ok(digest) => Some(digest),
            Err(done) => return Ok(Err(done)),
        }
    } else {
        None
    };
    let file = std::fs::File::open(path)
        .map_err(|e| Error::Input { file: path.to_path_buf(), message: format!("cannot open: {e}") })?;
    let bytes_read = Arc::new(AtomicU64::new(0));
    let hashing = HashingReader::new(file, bytes_read.clone(), known_digest.is_none());
    let mut rdr = RecordReader::new(hashing, profile.delimiter, opts.max_record_bytes);
    let header = read_header(&mut rdr, path)?;
    let ingest_id = new_ingest_id();
    let mut p = Pipeline::new(profile, &header, path, &ingest_id, opts, meta.len())?;

    let (roots, scratch) = roots(wh, &ingest_id)?;
    let writer = WriterThread::spawn(roots, &ingest_id)?;
    let progress = progress_bar(opts.progress, meta.len());
    let mut source = RecordSource::spawn(rdr, path.to_path_buf())?;
    let mut sink = WriterSink { tx: &writer.tx, warehouse: wh.display() };
    let pumped = pump(&mut source, &mut p, &mut sink, progress.as_ref(), &bytes_read);
    let digest = if pumped.is_ok() {
        source.finish()
    } else {
        drop(source); // stops the reader thread
        Ok(String::new())
    };
    // The writer's own error (a full disk…) explains a failed send better than "writer stopped".
    let written = writer.finish(wh.display())?;
    pumped?;
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    let digest = known_digest.map_or(digest, Ok)?;
    p.counts.rows_rejected = p.rejects.total;
    reconcile(path, &p.counts, written.call_rows, written.reject_rows)?;
    let maybe_duplicates = p.seen.maybe_duplicates();
    let record = ingest_record(p, path, ingest_id, digest, meta.len(), profile);
    Ok(Ok(Staged { record, written, maybe_duplicates, scratch }))
}

type UnmappedValues = BTreeMap<String, BTreeMap<String, u64>>;

/// Unmapped call types (most rows first) and unmapped values of mapped fields.
fn unmapped(parser: parser::RowParser) -> (Vec<UnmappedType>, UnmappedValues) {
    let mut types: Vec<UnmappedType> =
        parser.unmapped_types.into_iter().map(|(raw_type, rows)| UnmappedType { raw_type, rows }).collect();
    types.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.raw_type.cmp(&b.raw_type)));
    let values = parser
        .unmapped_values
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().collect::<BTreeMap<_, _>>()))
        .collect();
    (types, values)
}

/// The commit record of a parsed file.
fn ingest_record(
    p: Pipeline,
    path: &Path,
    ingest_id: String,
    blake3: String,
    bytes: u64,
    profile: &Profile,
) -> IngestRecord {
    let (unmapped_types, unmapped_values) = unmapped(p.parser);
    IngestRecord {
        ingest_id,
        file: path.display().to_string(),
        blake3,
        bytes,
        profile: profile.name.clone(),
        profile_sha256: profile.sha256.clone(),
        ingested_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        rows_read: p.counts.rows_read,
        calls_kept: p.counts.calls_kept,
        rows_rejected: p.counts.rows_rejected,
        unit_rows_merged: p.counts.unit_rows_merged,
        non_calls_dropped: p.counts.non_calls_dropped,
        rejects_by_reason: p.rejects.by_reason,
        calls_by_category_source: CategorySource::ALL
            .iter()
            .zip(p.counts.calls_by_source)
            .map(|(s, n)| (s.as_str().to_string(), n))
            .collect(),
        unmapped_types,
        unmapped_values,
        duplicate_call_ids: 0,
        files: Vec::new(),
        calls_version: None,
    }
}

fn new_ingest_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mix = (nanos as u64) ^ ((std::process::id() as u64) << 40);
    format!("{:012x}", mix & 0xffff_ffff_ffff)
}

fn progress_bar(enabled: bool, len: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(len);
    let style =
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    pb.set_style(style);
    Some(pb)
}

#[cfg(test)]
mod tests;
