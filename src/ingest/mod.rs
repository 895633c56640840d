//! Ingest: stream a CAD export (CSV) through a profile into canonical call batches and Parquet.
//!
//! Pipeline: `csv` byte records → [`RowParser`] (fields, times, maps, crosswalk; no per-row
//! allocation) → [`CallBuffer`] (merges unit rows of one incident inside a bounded window) →
//! Arrow batches → a writer thread encoding Parquet into the warehouse's staging area →
//! commit. Memory is bounded by the window and batch size, never by file size.
//!
//! Every row is accounted for: `rows_read = calls_kept + rows_rejected + unit_rows_merged + non_calls_dropped`.
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant as WallClock;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, StringBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use sha2::{Digest, Sha256};

use crate::error::{Error, IoContext, Result};
use crate::source::classify::CategorySource;
use crate::source::crosswalk::normalize_key;
use crate::source::profile::{Encoding, InvalidTimes, Layout, MatchKind, Profile, SourceField};
use crate::source::timeparse::TimeParser;
use crate::source::typemap::TypeMap;
use crate::warehouse::schema::{self, Flag, FLAGS};
use crate::warehouse::{self, IngestRecord, UnmappedType, Warehouse};

#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Calls per Arrow batch (and the minimum merge window for unit rows).
    pub batch_size: usize,
    /// Draw a progress bar (only ever drawn when stderr is a terminal).
    pub progress: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions { batch_size: 65_536, progress: true }
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
        sha256: String,
        ingest_id: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Counts and hashes bytes as the CSV reader pulls them, so the file is read once.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn file_sha256(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).ctx(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).ctx(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(warehouse::hex(&h.finalize()))
}

fn decode_1252(bytes: &[u8], out: &mut String) {
    out.clear();
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
    out.push_str(&text);
}

/// Records tokenised (and the file hashed) on their own thread, handed over in reusable chunks so
/// CSV splitting overlaps field parsing; the last record is flagged when the file ends inside it.
enum ReadMsg {
    Chunk(Vec<csv::ByteRecord>, usize),
    End { truncated_last: bool, sha256: String },
    Failed(Error),
}

struct RecordSource {
    rx: std::sync::mpsc::Receiver<ReadMsg>,
    recycle: std::sync::mpsc::Sender<Vec<csv::ByteRecord>>,
    cur: Vec<csv::ByteRecord>,
    len: usize,
    i: usize,
    ahead: Option<ReadMsg>,
    sha256: Option<String>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const CHUNK: usize = 4096;

impl RecordSource {
    fn spawn<R: Read + Send + 'static>(mut csv: csv::Reader<HashingReader<R>>, path: PathBuf) -> Result<RecordSource> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<ReadMsg>(4);
        let (recycle, back) = std::sync::mpsc::channel::<Vec<csv::ByteRecord>>();
        let thread = std::thread::Builder::new()
            .name("callsift-reader".into())
            .spawn(move || {
                let mut last_pos = None;
                loop {
                    let mut v = back.try_recv().unwrap_or_else(|_| vec![csv::ByteRecord::new(); CHUNK]);
                    let mut n = 0;
                    let mut eof = false;
                    while n < v.len() {
                        match csv.read_byte_record(&mut v[n]) {
                            Ok(true) => {
                                last_pos = v[n].position().map(|p| p.byte());
                                n += 1;
                            }
                            Ok(false) => {
                                eof = true;
                                break;
                            }
                            Err(e) => {
                                // The csv crate only fails on I/O here (byte records skip UTF-8 checks).
                                let _ = tx.send(ReadMsg::Failed(Error::Input {
                                    file: path.clone(),
                                    message: format!("read failed near line {}: {e}", csv.position().line()),
                                }));
                                return;
                            }
                        }
                    }
                    if n > 0 && tx.send(ReadMsg::Chunk(v, n)).is_err() {
                        return;
                    }
                    if eof {
                        let truncated_last = last_pos.is_some_and(|p| truncated_tail(&path, p));
                        let sha256 = warehouse::hex(&csv.into_inner().hasher.finalize());
                        let _ = tx.send(ReadMsg::End { truncated_last, sha256 });
                        return;
                    }
                }
            })
            .ctx(|| "starting reader thread".into())?;
        Ok(RecordSource { rx, recycle, cur: Vec::new(), len: 0, i: 0, ahead: None, sha256: None, thread: Some(thread) })
    }

    fn recv(&mut self) -> ReadMsg {
        self.ahead.take().unwrap_or_else(|| {
            self.rx.recv().unwrap_or_else(|_| {
                ReadMsg::Failed(Error::Input { file: PathBuf::new(), message: "reader thread stopped".into() })
            })
        })
    }

    /// The next record, and whether it is the file's last record cut off inside a quoted field.
    fn next(&mut self) -> Result<Option<(&csv::ByteRecord, bool)>> {
        while self.i >= self.len {
            if self.sha256.is_some() {
                return Ok(None);
            }
            match self.recv() {
                ReadMsg::Chunk(v, n) => {
                    let old = std::mem::replace(&mut self.cur, v);
                    if !old.is_empty() {
                        let _ = self.recycle.send(old);
                    }
                    self.len = n;
                    self.i = 0;
                }
                ReadMsg::End { sha256, .. } => {
                    self.sha256 = Some(sha256);
                    return Ok(None);
                }
                ReadMsg::Failed(e) => return Err(e),
            }
        }
        let mut truncated = false;
        if self.i + 1 == self.len {
            // Last record of this chunk: look at what follows to know if it ends the file.
            if self.ahead.is_none() {
                let m = self.recv();
                self.ahead = Some(m);
            }
            if let Some(ReadMsg::End { truncated_last, .. }) = &self.ahead {
                truncated = *truncated_last;
            }
        }
        self.i += 1;
        Ok(Some((&self.cur[self.i - 1], truncated)))
    }

    fn finish(mut self) -> Result<String> {
        while self.sha256.is_none() {
            match self.recv() {
                ReadMsg::End { sha256, .. } => self.sha256 = Some(sha256),
                ReadMsg::Failed(e) => return Err(e),
                ReadMsg::Chunk(..) => {}
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        Ok(self.sha256.take().unwrap_or_default())
    }
}

// ---------------------------------------------------------------------------------------------
// Parsed calls, held in a columnar-ish buffer until their unit rows have had a chance to arrive.

const NULL_SPAN: Span = Span { start: 0, len: u32::MAX };

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn is_null(self) -> bool {
        self.len == u32::MAX
    }
}

/// Small interned vocabularies (canonical values from the profile and crosswalk).
#[derive(Default)]
struct Interner {
    values: Vec<String>,
    index: HashMap<String, u32, foldhash::fast::RandomState>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
    fn get(&self, i: u32) -> &str {
        &self.values[i as usize]
    }
}

const NONE32: u32 = u32::MAX;

// The flag bitmask is a u16: a new flag past 16 must widen it (a u8 silently wrapped bit 8 onto bit 0).
const _: () = assert!(FLAGS.len() <= u16::BITS as usize);

/// What the call type says about a call (see `RowParser::call_type`).
struct TypeFacts {
    category: u32,
    flags: u16,
    third_party_p: Option<f64>,
    source: CategorySource,
    rule: u32,
    confidence: Option<f64>,
}

fn flag_bits(flags: &[bool; FLAGS.len()]) -> u16 {
    flags.iter().enumerate().filter(|(_, on)| **on).fold(0, |acc, (k, _)| acc | (1 << k))
}

#[derive(Debug, Clone)]
struct CallRow {
    call_id: Span,
    initial_type: Span,
    final_type: Span,
    /// Which type fed the category: 0 = initial, 1 = final.
    basis_final: bool,
    category: u32,
    type_mapped: bool,
    category_source: CategorySource,
    /// Interned classifier rule name, or NONE32.
    category_rule: u32,
    category_confidence: Option<f64>,
    priority_raw: Span,
    priority: Option<i32>,
    call_source: u32,
    self_initiated: bool,
    caller_party: u32,
    third_party_p: Option<f64>,
    disposition_raw: Span,
    disposition: u32,
    district: Span,
    beat: Span,
    address: Span,
    received_utc: i64,
    received_local: i64,
    dispatched: Option<i64>,
    arrived: Option<i64>,
    cleared: Option<i64>,
    units: i32,
    responder_type: u32,
    community_responder: bool,
    busy_minutes: Option<f64>,
    /// Bit k = `FLAGS[k]` (checked at compile time to fit).
    flags: u16,
    /// year * 12 + (month - 1), local time of receipt: the partition.
    ym: i32,
}

struct CallBuffer {
    rows: Vec<CallRow>,
    arena: Vec<u8>,
    /// Row index by call_id, for merging unit rows (only when the profile merges).
    table: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

impl CallBuffer {
    fn new() -> Self {
        CallBuffer {
            rows: Vec::new(),
            arena: Vec::new(),
            table: hashbrown::HashTable::new(),
            hasher: foldhash::fast::FixedState::with_seed(7),
        }
    }

    fn push_str(&mut self, s: Option<&str>) -> Span {
        match s {
            None => NULL_SPAN,
            Some(s) => {
                let start = self.arena.len() as u32;
                self.arena.extend_from_slice(s.as_bytes());
                Span { start, len: s.len() as u32 }
            }
        }
    }

    fn str(&self, sp: Span) -> Option<&str> {
        if sp.is_null() {
            None
        } else {
            // Spans are only ever made from &str.
            Some(unsafe { std::str::from_utf8_unchecked(&self.arena[sp.start as usize..(sp.start + sp.len) as usize]) })
        }
    }

    fn hash(&self, key: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(key)
    }

    #[cfg(test)]
    fn find(&self, key: &str) -> Option<usize> {
        self.find_hashed(self.hash(key), key)
    }

    /// `find` with the key's hash already computed (the hot path hashes each id once).
    fn find_hashed(&self, h: u64, key: &str) -> Option<usize> {
        self.table.find(h, |&i| self.str(self.rows[i as usize].call_id) == Some(key)).map(|&i| i as usize)
    }

    fn index_row(&mut self, i: usize) {
        let key = self.str(self.rows[i].call_id).unwrap_or("");
        let h = self.hash(key);
        self.index_row_hashed(i, h);
    }

    fn index_row_hashed(&mut self, i: usize, h: u64) {
        let (rows, arena, hasher) = (&self.rows, &self.arena, &self.hasher);
        self.table.insert_unique(h, i as u32, |&j| {
            use std::hash::BuildHasher;
            let sp = rows[j as usize].call_id;
            hasher.hash_one(unsafe {
                std::str::from_utf8_unchecked(&arena[sp.start as usize..(sp.start + sp.len) as usize])
            })
        });
    }

    /// Drop the first `n` rows (already emitted), compacting the arena and re-indexing.
    fn drain_front(&mut self, n: usize, indexed: bool) {
        let rest: Vec<CallRow> = self.rows.drain(n..).collect();
        let old_arena = std::mem::take(&mut self.arena);
        self.rows.clear();
        self.table.clear();
        for mut r in rest {
            for sp in [
                &mut r.call_id,
                &mut r.initial_type,
                &mut r.final_type,
                &mut r.priority_raw,
                &mut r.disposition_raw,
                &mut r.district,
                &mut r.beat,
                &mut r.address,
            ] {
                if !sp.is_null() {
                    let start = self.arena.len() as u32;
                    self.arena.extend_from_slice(&old_arena[sp.start as usize..(sp.start + sp.len) as usize]);
                    sp.start = start;
                }
            }
            self.rows.push(r);
            if indexed {
                self.index_row(self.rows.len() - 1);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rejects

struct Rejects {
    ingest_id: String,
    file: String,
    line: UInt64Builder,
    column: StringBuilder,
    reason: StringBuilder,
    record: StringBuilder,
    len: usize,
    by_reason: BTreeMap<String, u64>,
    total: u64,
}

impl Rejects {
    fn new(ingest_id: &str, file: &str) -> Self {
        Rejects {
            ingest_id: ingest_id.to_string(),
            file: file.to_string(),
            line: UInt64Builder::new(),
            column: StringBuilder::new(),
            reason: StringBuilder::new(),
            record: StringBuilder::new(),
            len: 0,
            by_reason: BTreeMap::new(),
            total: 0,
        }
    }

    fn push(&mut self, line: u64, code: &str, column: Option<&str>, reason: &str, record: &str) {
        self.line.append_value(line);
        self.column.append_option(column);
        self.reason.append_value(reason);
        self.record.append_value(record);
        self.len += 1;
        self.total += 1;
        if let Some(c) = self.by_reason.get_mut(code) {
            *c += 1;
        } else {
            self.by_reason.insert(code.to_string(), 1);
        }
    }

    fn finish_batch(&mut self) -> Result<RecordBatch> {
        let n = self.len;
        self.len = 0;
        let ids: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(vec![self.ingest_id.as_str(); n]));
        let files: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(vec![self.file.as_str(); n]));
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

// ---------------------------------------------------------------------------------------------
// Row parsing

/// Counters kept while parsing one file.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub rows_read: u64,
    pub calls_kept: u64,
    /// Calls kept by where their category came from, in `CategorySource::ALL` order.
    pub calls_by_source: [u64; 3],
    pub unit_rows_merged: u64,
    pub non_calls_dropped: u64,
}

enum Fields<'a> {
    /// Checked valid UTF-8 as a whole.
    Bytes(&'a csv::ByteRecord),
    Decoded(&'a [String]),
}

/// One input row: its fields plus any derived values (concatenated / extracted), by `SourceField`.
struct Row<'a> {
    fields: Fields<'a>,
    derived: &'a [Option<String>],
}

impl Row<'_> {
    fn raw(&self, i: usize) -> Option<&str> {
        match &self.fields {
            Fields::Bytes(r) => r.get(i).map(|b| unsafe { std::str::from_utf8_unchecked(b) }),
            Fields::Decoded(v) => v.get(i).map(String::as_str),
        }
    }
    fn len(&self) -> usize {
        match &self.fields {
            Fields::Bytes(r) => r.len(),
            Fields::Decoded(v) => v.len(),
        }
    }
    fn joined(&self, delim: u8) -> String {
        let d = (delim as char).to_string();
        (0..self.len()).map(|i| self.raw(i).unwrap_or("")).collect::<Vec<_>>().join(&d)
    }
}

/// A reason a row could not become a call.
struct RowReject {
    code: &'static str,
    column: Option<String>,
    reason: String,
}

struct RowParser<'p> {
    profile: &'p Profile,
    layout: Layout,
    header: Vec<String>,
    times: TimeParser,
    vocab: Interner,
    key: String,
    types: TypeMap<'p>,
    unmapped_types: HashMap<String, u64, foldhash::fast::RandomState>,
    unmapped_values: BTreeMap<&'static str, HashMap<String, u64>>,
    // Pre-interned canonical values.
    unknown: u32,
    officer_initiated: u32,
    other: u32,
    police: u32,
    cr: u32,
    /// Cache for month partition: (local day number, ym).
    day_cache: (i64, i32),
}

impl<'p> RowParser<'p> {
    fn new(profile: &'p Profile, layout: Layout, header: Vec<String>) -> Self {
        let mut vocab = Interner::default();
        let unknown = vocab.intern("unknown");
        let officer_initiated = vocab.intern("officer_initiated");
        let other = vocab.intern("other");
        let police = vocab.intern("police");
        let cr = vocab.intern("community_responder");
        RowParser {
            profile,
            layout,
            header,
            times: profile.time_parser(),
            vocab,
            key: String::new(),
            types: TypeMap::new(&profile.crosswalk, &profile.classifier),
            unmapped_types: HashMap::default(),
            unmapped_values: BTreeMap::new(),
            unknown,
            officer_initiated,
            other,
            police,
            cr,
            day_cache: (i64::MIN, 0),
        }
    }

    /// Trimmed value of a mapped field; `None` when unmapped, empty or a null sentinel.
    fn field<'r>(&self, row: &'r Row, f: SourceField) -> Option<&'r str> {
        let v = match self.layout.source(f)? {
            crate::source::profile::Source::Col(i) => row.raw(*i)?,
            _ => row.derived.get(f.index())?.as_deref()?,
        }
        .trim();
        if v.is_empty() || self.profile.null_values.iter().any(|n| n.eq_ignore_ascii_case(v)) {
            return None;
        }
        Some(v)
    }

    fn col_name(&self, f: SourceField) -> String {
        self.layout.get(f).and_then(|i| self.header.get(i).cloned()).unwrap_or_else(|| f.name().to_string())
    }

    fn note_unmapped(&mut self, what: &'static str, value: &str) {
        let m = self.unmapped_values.entry(what).or_default();
        if let Some(c) = m.get_mut(value) {
            *c += 1;
        } else if m.len() < 1000 {
            m.insert(value.to_string(), 1);
        }
    }

    fn time(
        &self,
        row: &Row,
        f: SourceField,
    ) -> std::result::Result<Option<crate::source::timeparse::Instant>, RowReject> {
        let Some(v) = self.field(row, f) else { return Ok(None) };
        match self.times.parse(v) {
            Ok(t) => Ok(t),
            Err(crate::source::timeparse::NoFormatMatched) => {
                if f != SourceField::ReceivedAt && self.profile.invalid_times == InvalidTimes::Null {
                    return Ok(None);
                }
                Err(RowReject {
                    code: match f {
                        SourceField::ReceivedAt => "invalid_time:received_at",
                        SourceField::DispatchedAt => "invalid_time:dispatched_at",
                        SourceField::ArrivedAt => "invalid_time:arrived_at",
                        _ => "invalid_time:cleared_at",
                    },
                    column: Some(self.col_name(f)),
                    reason: format!(
                        "{}: expected a timestamp like `{}`, found `{}`",
                        f.name(),
                        self.times.formats().collect::<Vec<_>>().join("` or `"),
                        v
                    ),
                })
            }
        }
    }

    /// Unmapped types are counted per call: a unit row merged into its incident is taken back out.
    fn unmerge_unmapped(&mut self, buf: &CallBuffer, call: &CallRow) {
        let t = buf.str(if call.basis_final { call.final_type } else { call.initial_type });
        if let Some(t) = t {
            normalize_key(t, &mut self.key);
            if let Some(c) = self.unmapped_types.get_mut(self.key.as_str()) {
                *c -= 1;
                if *c == 0 {
                    self.unmapped_types.remove(self.key.as_str());
                }
            }
        }
    }

    fn ym(&mut self, local_us: i64) -> i32 {
        let day = local_us.div_euclid(86_400_000_000);
        if day != self.day_cache.0 {
            use chrono::Datelike;
            let d = chrono::DateTime::from_timestamp_micros(local_us).map(|d| d.naive_utc().date()).unwrap_or_default();
            self.day_cache = (day, d.year() * 12 + d.month0() as i32);
        }
        self.day_cache.1
    }

    fn responder_type(&mut self, row: &Row) -> Option<u32> {
        let v = self.field(row, SourceField::UnitType).or_else(|| self.field(row, SourceField::UnitId))?;
        let Some(map) = &self.profile.responder_type else { return Some(self.police) };
        normalize_key(v, &mut self.key);
        match map.lookup(&self.key).or(map.default.as_ref()) {
            Some(t) => {
                let t = t.clone();
                Some(self.vocab.intern(&t))
            }
            None => Some(self.other),
        }
    }

    /// Category, flags and third-party likelihood of the call's type (crosswalk, then classifier);
    /// the other type (final when sizing on the initial one) adds a behavioral-health nexus it records.
    fn call_type(&mut self, basis: Option<&str>, other: Option<&str>) -> TypeFacts {
        let mut facts = TypeFacts {
            category: NONE32,
            flags: 0,
            third_party_p: None,
            source: CategorySource::Unmapped,
            rule: NONE32,
            confidence: None,
        };
        if let Some(t) = basis {
            let m = self.types.map(t);
            facts.source = m.source;
            facts.third_party_p = m.third_party_p;
            facts.confidence = m.confidence;
            facts.flags = flag_bits(&m.flags);
            let (category, rule, key) = (m.category, m.rule.clone(), m.key.clone());
            if let Some(c) = category {
                facts.category = self.vocab.intern(c);
            } else {
                *self.unmapped_types.entry(key.to_string()).or_default() += 1;
            }
            if let Some(r) = rule {
                facts.rule = self.vocab.intern(&r);
            }
        }
        if let Some(o) = other.filter(|o| Some(*o) != basis) {
            if self.types.map(o).flags[Flag::BhNexus as usize] {
                facts.flags |= 1 << Flag::BhNexus as usize;
            }
        }
        facts
    }

    /// Parse one row into a call (not yet merged or buffered).
    fn parse(&mut self, row: &Row, buf: &mut CallBuffer) -> std::result::Result<Option<CallRow>, RowReject> {
        if row.len() != self.layout.width {
            return Err(RowReject {
                code: "ragged_row",
                column: None,
                reason: format!("expected {} fields, found {}", self.layout.width, row.len()),
            });
        }
        let Some(call_id) = self.field(row, SourceField::CallId) else {
            return Err(RowReject {
                code: "missing:call_id",
                column: Some(self.col_name(SourceField::CallId)),
                reason: "call_id is empty".into(),
            });
        };
        let received = self.time(row, SourceField::ReceivedAt)?.ok_or_else(|| RowReject {
            code: "missing:received_at",
            column: Some(self.col_name(SourceField::ReceivedAt)),
            reason: "received_at is empty".into(),
        })?;
        let dispatched = self.time(row, SourceField::DispatchedAt)?;
        let arrived = self.time(row, SourceField::ArrivedAt)?;
        let cleared = self.time(row, SourceField::ClearedAt)?;

        // Disposition first: non-call rows (test, void) are dropped before anything is stored.
        let disposition_raw = self.field(row, SourceField::Disposition);
        let mut disposition = NONE32;
        if let Some(d) = disposition_raw {
            if let Some(map) = &self.profile.disposition {
                normalize_key(d, &mut self.key);
                match map.lookup(&self.key).or(map.default.as_ref()) {
                    Some(v) => {
                        if self.profile.drop_dispositions.iter().any(|x| x == v) {
                            return Ok(None);
                        }
                        let v = v.clone();
                        disposition = self.vocab.intern(&v);
                    }
                    None => self.note_unmapped("disposition", d),
                }
            }
        }

        let initial = self.field(row, SourceField::InitialType);
        let fin = self.field(row, SourceField::FinalType);
        let (basis, basis_final) = match self.profile.type_basis {
            crate::source::profile::TypeBasis::Initial => initial.map(|t| (Some(t), false)).unwrap_or((fin, true)),
            crate::source::profile::TypeBasis::Final => fin.map(|t| (Some(t), true)).unwrap_or((initial, false)),
        };
        let t = self.call_type(basis, if basis_final { initial } else { fin });
        let priority_raw = self.field(row, SourceField::Priority);
        let mut priority = None;
        if let Some(p) = priority_raw {
            let map = self.profile.priority.as_ref();
            normalize_key(p, &mut self.key);
            priority = map.and_then(|m| m.lookup(&self.key).copied());
            let digits = map.is_none_or(|m| m.match_kind == MatchKind::LeadingDigits);
            if priority.is_none() && digits {
                let d: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
                priority = d.parse::<i32>().ok().filter(|v| *v >= 1);
            }
            // A `[priority]` table with no values and no leading_digits means "keep the raw value only".
            let keep_raw = map.is_some_and(|m| m.is_empty() && m.match_kind == MatchKind::Exact && m.default.is_none());
            if priority.is_none() && !keep_raw {
                priority = map.and_then(|m| m.default);
                self.note_unmapped("priority", p);
            }
        }

        let mut call_source = self.unknown;
        if let Some(s) = self.field(row, SourceField::CallSource) {
            call_source = self.other;
            if let Some(map) = &self.profile.call_source {
                normalize_key(s, &mut self.key);
                match map.lookup(&self.key) {
                    Some(v) => {
                        let v = v.clone();
                        call_source = self.vocab.intern(&v);
                    }
                    None => {
                        if let Some(d) = map.default.clone() {
                            call_source = self.vocab.intern(&d);
                        }
                        self.note_unmapped("call_source", s);
                    }
                }
            }
        }
        let self_initiated = match (self.field(row, SourceField::SelfInitiated), &self.profile.self_initiated) {
            (Some(v), Some(map)) => {
                normalize_key(v, &mut self.key);
                match map.lookup(&self.key) {
                    Some(b) => *b,
                    None => {
                        self.note_unmapped("self_initiated", v);
                        map.default.unwrap_or(false)
                    }
                }
            }
            _ => call_source == self.officer_initiated,
        };
        if self_initiated && (call_source == self.unknown || call_source == self.other) {
            call_source = self.officer_initiated;
        }
        let mut caller_party = self.unknown;
        if let (Some(v), Some(map)) = (self.field(row, SourceField::CallerParty), &self.profile.caller_party) {
            normalize_key(v, &mut self.key);
            match map.lookup(&self.key).or(map.default.as_ref()) {
                Some(p) => {
                    let p = p.clone();
                    caller_party = self.vocab.intern(&p);
                }
                None => self.note_unmapped("caller_party", v),
            }
        }

        let responder = self.responder_type(row);
        let has_unit = responder.is_some() || self.layout.get(SourceField::UnitId).is_none();
        let busy = unit_busy(dispatched.map(|t| t.utc_us), cleared.map(|t| t.utc_us));
        let ym = self.ym(received.local_us);

        let (district, beat, address) = (
            self.field(row, SourceField::District),
            self.field(row, SourceField::Beat),
            self.field(row, SourceField::Address),
        );
        Ok(Some(CallRow {
            call_id: buf.push_str(Some(call_id)),
            initial_type: buf.push_str(initial),
            final_type: buf.push_str(fin),
            basis_final,
            category: t.category,
            type_mapped: t.source != CategorySource::Unmapped,
            category_source: t.source,
            category_rule: t.rule,
            category_confidence: t.confidence,
            priority_raw: buf.push_str(priority_raw),
            priority,
            call_source,
            self_initiated,
            caller_party,
            third_party_p: t.third_party_p,
            disposition_raw: buf.push_str(disposition_raw),
            disposition,
            district: buf.push_str(district),
            beat: buf.push_str(beat),
            address: buf.push_str(address),
            received_utc: received.utc_us,
            received_local: received.local_us,
            dispatched: dispatched.map(|t| t.utc_us),
            arrived: arrived.map(|t| t.utc_us),
            cleared: cleared.map(|t| t.utc_us),
            units: has_unit as i32,
            responder_type: responder.unwrap_or(NONE32),
            community_responder: responder == Some(self.cr),
            busy_minutes: busy,
            flags: t.flags,
            ym,
        }))
    }
}

/// Compute concatenated / extracted fields for a row (only for profiles that use them).
fn fill_derived(layout: &Layout, row: &Row, out: &mut [Option<String>]) {
    use crate::source::profile::Source;
    for (f, src) in layout.derived() {
        let slot = &mut out[f.index()];
        let buf = slot.get_or_insert_with(String::new);
        buf.clear();
        let ok = match src {
            Source::Concat(cols) => {
                for (k, &i) in cols.iter().enumerate() {
                    if k > 0 {
                        buf.push(' ');
                    }
                    buf.push_str(row.raw(i).unwrap_or("").trim());
                }
                !buf.trim().is_empty()
            }
            Source::Extract(i, rx) => match row.raw(*i).and_then(|v| rx.captures(v)).and_then(|c| c.get(1)) {
                Some(m) => {
                    buf.push_str(m.as_str());
                    true
                }
                None => false,
            },
            Source::Coalesce(cols) => {
                match cols.iter().filter_map(|&i| row.raw(i)).map(str::trim).find(|v| !v.is_empty()) {
                    Some(v) => {
                        buf.push_str(v);
                        true
                    }
                    None => false,
                }
            }
            Source::Col(_) => false,
        };
        if !ok {
            *slot = None;
        }
    }
}

/// A file cut off mid-record (no final newline, an odd number of quotes in the last record) ends
/// inside a quoted field; the csv reader would silently close the field. Checked once per file.
fn truncated_tail(path: &Path, last_record_byte: u64) -> bool {
    use std::io::{Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    let Ok(len) = f.metadata().map(|m| m.len()) else { return false };
    if len.saturating_sub(last_record_byte) > (16 << 20) || f.seek(SeekFrom::Start(last_record_byte)).is_err() {
        return false;
    }
    let mut tail = Vec::new();
    if f.read_to_end(&mut tail).is_err() || tail.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        return false;
    }
    tail.iter().filter(|b| **b == b'"').count() % 2 == 1
}

/// One unit's busy time, dispatch → clear, in minutes; implausible spans (negative, > 24 h) are dropped.
fn unit_busy(dispatched: Option<i64>, cleared: Option<i64>) -> Option<f64> {
    let (d, c) = (dispatched?, cleared?);
    let m = (c - d) as f64 / 60_000_000.0;
    (0.0..=1440.0).contains(&m).then_some(m)
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Fold a later unit row into its incident: first dispatch, first arrival, last clear, units, busy time.
fn merge_unit(into: &mut CallRow, unit: &CallRow) {
    into.dispatched = min_opt(into.dispatched, unit.dispatched);
    into.arrived = min_opt(into.arrived, unit.arrived);
    into.cleared = match (into.cleared, unit.cleared) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    };
    into.units += unit.units;
    into.community_responder |= unit.community_responder;
    if into.responder_type == NONE32 {
        into.responder_type = unit.responder_type;
    }
    into.busy_minutes = match (into.busy_minutes, unit.busy_minutes) {
        (Some(a), Some(b)) => Some(a + b),
        (a, None) => a,
        (None, b) => b,
    };
}

// ---------------------------------------------------------------------------------------------
// Arrow batches

fn build_batches(
    buf: &CallBuffer,
    rows: &[CallRow],
    vocab: &Interner,
    source: &str,
    ingest_id: &str,
) -> Result<Vec<(i32, RecordBatch)>> {
    // Rows are roughly time-ordered: group indices by partition month.
    let mut parts: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        parts.entry(r.ym).or_default().push(i);
    }
    let mut out = Vec::with_capacity(parts.len());
    for (ym, idx) in parts {
        out.push((ym, build_batch(buf, rows, &idx, vocab, source, ingest_id)?));
    }
    Ok(out)
}

fn str_col<'b>(rows: &[CallRow], idx: &[usize], f: impl Fn(&CallRow) -> Option<&'b str>) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(idx.len(), idx.len() * 8);
    for &i in idx {
        b.append_option(f(&rows[i]));
    }
    Arc::new(b.finish())
}

fn build_batch(
    buf: &CallBuffer,
    rows: &[CallRow],
    idx: &[usize],
    vocab: &Interner,
    source: &str,
    ingest_id: &str,
) -> Result<RecordBatch> {
    let n = idx.len();
    let sp = |f: fn(&CallRow) -> Span| str_col(rows, idx, |r| buf.str(f(r)));
    let voc = |f: fn(&CallRow) -> u32| {
        str_col(rows, idx, |r| {
            let v = f(r);
            (v != NONE32).then(|| vocab.get(v))
        })
    };
    let ts = |f: &dyn Fn(&CallRow) -> Option<i64>, utc: bool| -> ArrayRef {
        let mut b = TimestampMicrosecondBuilder::with_capacity(n);
        for &i in idx {
            b.append_option(f(&rows[i]));
        }
        let a = b.finish();
        Arc::new(if utc { a.with_timezone("UTC") } else { a })
    };
    let boolean = |f: &dyn Fn(&CallRow) -> bool| -> ArrayRef {
        let mut b = BooleanBuilder::with_capacity(n);
        for &i in idx {
            b.append_value(f(&rows[i]));
        }
        Arc::new(b.finish())
    };
    let i32s = |f: &dyn Fn(&CallRow) -> Option<i32>| -> ArrayRef {
        let mut b = Int32Builder::with_capacity(n);
        for &i in idx {
            b.append_option(f(&rows[i]));
        }
        Arc::new(b.finish())
    };
    let f64s = |f: &dyn Fn(&CallRow) -> Option<f64>| -> ArrayRef {
        let mut b = Float64Builder::with_capacity(n);
        for &i in idx {
            b.append_option(f(&rows[i]));
        }
        Arc::new(b.finish())
    };
    let constant = |v: &str| -> ArrayRef { Arc::new(datafusion::arrow::array::StringArray::from(vec![v; n])) };
    let mut cols: Vec<ArrayRef> = vec![
        sp(|r| r.call_id),
        constant(source),
        constant(ingest_id),
        ts(&|r| Some(r.received_utc), true),
        ts(&|r| Some(r.received_local), false),
        ts(&|r| r.dispatched, true),
        ts(&|r| r.arrived, true),
        ts(&|r| r.cleared, true),
        sp(|r| r.initial_type),
        sp(|r| r.final_type),
        sp(|r| if r.basis_final { r.final_type } else { r.initial_type }),
        voc(|r| r.category),
        boolean(&|r| r.type_mapped),
        str_col(rows, idx, |r| Some(r.category_source.as_str())),
        voc(|r| r.category_rule),
        f64s(&|r| r.category_confidence),
        sp(|r| r.priority_raw),
        i32s(&|r| r.priority),
        voc(|r| r.call_source),
        boolean(&|r| r.self_initiated),
        voc(|r| r.caller_party),
        f64s(&|r| r.third_party_p),
        sp(|r| r.disposition_raw),
        voc(|r| r.disposition),
        sp(|r| r.district),
        sp(|r| r.beat),
        sp(|r| r.address),
        i32s(&|r| Some(r.units)),
        voc(|r| r.responder_type),
        boolean(&|r| r.community_responder),
        f64s(&|r| r.busy_minutes),
    ];
    for k in 0..FLAGS.len() {
        cols.push(boolean(&|r| r.flags & (1 << k) != 0));
    }
    Ok(RecordBatch::try_new(schema::call_file_schema(), cols)?)
}

// ---------------------------------------------------------------------------------------------
// Writing (on its own thread: Parquet encoding overlaps parsing)

enum WriteMsg {
    Calls(i32, RecordBatch),
    Rejects(RecordBatch),
}

struct PartitionWriter {
    staging: PathBuf,
    ingest_id: String,
    props: WriterProperties,
    /// Open files by partition, with the message count when each last received rows.
    open: BTreeMap<i32, (u64, ArrowWriter<std::fs::File>)>,
    msgs: u64,
    rejects: Option<(PathBuf, ArrowWriter<std::fs::File>)>,
    staged: Vec<PathBuf>,
    seq: usize,
    /// Encoded-but-unflushed bytes allowed across open writers before the largest is flushed.
    budget: usize,
}

impl PartitionWriter {
    fn rel_path(&mut self, ym: i32) -> PathBuf {
        self.seq += 1;
        let (y, m) = (ym.div_euclid(12), ym.rem_euclid(12) + 1);
        // Unpadded `month=3`: DataFusion prunes `year = … AND month = …` by building this path.
        PathBuf::from(format!("calls/year={y}/month={m}/part-{}-{:04}.parquet", self.ingest_id, self.seq))
    }

    fn write(&mut self, msg: WriteMsg) -> Result<()> {
        match msg {
            WriteMsg::Calls(ym, batch) => {
                if !self.open.contains_key(&ym) {
                    let rel = self.rel_path(ym);
                    let abs = self.staging.join(&rel);
                    std::fs::create_dir_all(abs.parent().unwrap()).ctx(|| format!("creating {}", abs.display()))?;
                    let f = std::fs::File::create(&abs).ctx(|| format!("creating {}", abs.display()))?;
                    let w = ArrowWriter::try_new(f, schema::call_file_schema(), Some(self.props.clone()))?;
                    self.staged.push(rel);
                    self.open.insert(ym, (0, w));
                }
                self.msgs += 1;
                let entry = self.open.get_mut(&ym).unwrap();
                entry.0 = self.msgs;
                entry.1.write(&batch)?;
                // Exports are time-ordered: a month that has had no rows for a while is done. Closing it
                // bounds the buffered row groups to the few months in flight (a late row opens a new file).
                let idle: Vec<i32> =
                    self.open.iter().filter(|(_, (last, _))| self.msgs - last > 8).map(|(k, _)| *k).collect();
                for k in idle {
                    if let Some((_, w)) = self.open.remove(&k) {
                        w.close()?;
                    }
                }
                let total: usize = self.open.values().map(|(_, w)| w.in_progress_size()).sum();
                if total > self.budget {
                    if let Some((_, w)) = self.open.values_mut().max_by_key(|(_, w)| w.in_progress_size()) {
                        w.flush()?;
                    }
                }
            }
            WriteMsg::Rejects(batch) => {
                if self.rejects.is_none() {
                    let rel = PathBuf::from(format!("rejects/part-{}.parquet", self.ingest_id));
                    let abs = self.staging.join(&rel);
                    std::fs::create_dir_all(abs.parent().unwrap()).ctx(|| format!("creating {}", abs.display()))?;
                    let f = std::fs::File::create(&abs).ctx(|| format!("creating {}", abs.display()))?;
                    self.rejects = Some((
                        rel.clone(),
                        ArrowWriter::try_new(f, schema::reject_schema(), Some(self.props.clone()))?,
                    ));
                    self.staged.push(rel);
                }
                self.rejects.as_mut().unwrap().1.write(&batch)?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<PathBuf>> {
        for (_, (_, w)) in std::mem::take(&mut self.open) {
            w.close()?;
        }
        if let Some((_, w)) = self.rejects.take() {
            w.close()?;
        }
        Ok(self.staged)
    }
}

pub fn writer_properties() -> WriterProperties {
    use datafusion::parquet::schema::types::ColumnPath;
    WriterProperties::builder()
        // Unique per row: a dictionary only costs time and is abandoned anyway.
        .set_column_dictionary_enabled(ColumnPath::from("call_id"), false)
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("valid level")))
        .set_max_row_group_row_count(Some(65_536))
        .set_created_by(format!("callsift {}", env!("CARGO_PKG_VERSION")))
        .build()
}

fn new_ingest_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mix = (nanos as u64) ^ ((std::process::id() as u64) << 40);
    format!("{:012x}", mix & 0xffff_ffff_ffff)
}

// ---------------------------------------------------------------------------------------------
// The driver

/// Ingest one file into the warehouse. A bad row is rejected, never fatal; a file that cannot be
/// read at all (missing, wrong profile) is an error and leaves the warehouse untouched.
pub async fn ingest_file(
    wh: &Warehouse,
    profile: &Profile,
    path: &Path,
    opts: &IngestOptions,
) -> Result<IngestOutcome> {
    let started = WallClock::now();
    let (staging, record, staged) = match stage_file(wh, profile, path, opts)? {
        Staged::Done(outcome) => return Ok(outcome),
        Staged::Ready { staging, record, staged, maybe_duplicates } => {
            let mut record = record;
            if maybe_duplicates {
                record.duplicate_call_ids = count_duplicate_ids(&staging.join("calls")).await?;
            }
            (staging, record, staged)
        }
    };
    trace_memory("staged");
    trace_memory("duplicate check");
    wh.commit_ingest(&staging, record.clone(), &staged)?;
    Ok(IngestOutcome::Ingested { record: Box::new(record), seconds: started.elapsed().as_secs_f64() })
}

/// `CALLSIFT_TRACE=1`: print resident and peak memory at pipeline phases (for benchmarking).
pub fn trace_memory(phase: &str) {
    if std::env::var_os("CALLSIFT_TRACE").is_none() {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |k: &str| {
        status.lines().find(|l| l.starts_with(k)).map(|l| l[k.len()..].trim().to_string()).unwrap_or_default()
    };
    eprintln!("[trace] {phase}: rss {} peak {}", get("VmRSS:"), get("VmHWM:"));
}

#[allow(clippy::large_enum_variant)] // one value per file: boxing buys nothing
enum Staged {
    Done(IngestOutcome),
    /// `maybe_duplicates`: the in-memory id check could not rule out repeated call ids, so the
    /// exact (spilling) DataFusion check runs on the staged files.
    Ready {
        staging: PathBuf,
        record: IngestRecord,
        staged: Vec<PathBuf>,
        maybe_duplicates: bool,
    },
}

/// Hashes of every call id kept so far, to prove cheaply that no id repeats (the common case).
/// A repeat or a 64-bit hash collision only flags the file for the exact check; past `CAP` ids the
/// set stops growing (memory stays bounded) and the exact check runs instead.
#[derive(Default)]
struct SeenIds {
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
}

/// Call ids that occur more than once in the staged files (exact, by DataFusion, spilling if large).
async fn count_duplicate_ids(dir: &Path) -> Result<u64> {
    if warehouse::parquet_files(dir).is_empty() {
        return Ok(0);
    }
    // A small pool: the aggregation spills rather than holding every id of a huge file in memory.
    let ctx = crate::warehouse::engine::context_with_memory(64 << 20);
    ctx.register_parquet("staged", &format!("{}/", dir.display()), datafusion::prelude::ParquetReadOptions::default())
        .await?;
    let batches = ctx
        .sql("SELECT count(*) AS n FROM (SELECT call_id FROM staged GROUP BY call_id HAVING count(*) > 1)")
        .await?
        .collect()
        .await?;
    let n = batches
        .first()
        .and_then(|b| b.column(0).as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().map(|a| a.value(0)))
        .unwrap_or(0);
    Ok(n as u64)
}

/// Parse and write one file into a staging directory (nothing visible in the warehouse yet).
fn stage_file(wh: &Warehouse, profile: &Profile, path: &Path, opts: &IngestOptions) -> Result<Staged> {
    let started = WallClock::now();
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::Input { file: path.to_path_buf(), message: format!("cannot read: {e}") })?;
    let display = path.display().to_string();

    // Idempotence: the same bytes twice change nothing. Hash up front only when a same-sized file is
    // already in the manifest (cheap), otherwise hash while parsing.
    let manifest = wh.manifest()?;
    if manifest.ingests.iter().any(|r| r.bytes == meta.len()) {
        let sha = file_sha256(path)?;
        if let Some(r) = manifest.ingests.iter().find(|r| r.sha256 == sha) {
            return Ok(Staged::Done(IngestOutcome::AlreadyIngested {
                file: display,
                sha256: sha,
                ingest_id: r.ingest_id.clone(),
            }));
        }
    }

    let ingest_id = new_ingest_id();
    let staging = wh.staging(&format!("ingest-{ingest_id}"))?;
    let bytes_read = Arc::new(AtomicU64::new(0));
    let file = std::fs::File::open(path)
        .map_err(|e| Error::Input { file: path.to_path_buf(), message: format!("cannot open: {e}") })?;
    let reader = HashingReader {
        inner: std::io::BufReader::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        bytes: bytes_read.clone(),
    };
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .delimiter(profile.delimiter)
        .buffer_capacity(1 << 20)
        .from_reader(reader);

    let header_rec = csv
        .byte_headers()
        .map_err(|e| Error::Input { file: path.to_path_buf(), message: format!("cannot read the header: {e}") })?
        .clone();
    let mut scratch = String::new();
    let header: Vec<String> = header_rec
        .iter()
        .map(|b| match std::str::from_utf8(b) {
            Ok(s) if profile.encoding == Encoding::Utf8 || b.is_ascii() => {
                s.trim_start_matches('\u{feff}').trim().to_string()
            }
            _ => {
                decode_1252(b, &mut scratch);
                scratch.trim().to_string()
            }
        })
        .collect();
    let layout = profile.resolve(&header);
    layout.check_required(path)?;

    // One batch in flight: parsing and encoding overlap without queuing batches in memory.
    let (tx, rx) = std::sync::mpsc::sync_channel::<WriteMsg>(1);
    let mut pw = PartitionWriter {
        staging: staging.clone(),
        ingest_id: ingest_id.clone(),
        props: writer_properties(),
        open: BTreeMap::new(),
        msgs: 0,
        rejects: None,
        staged: Vec::new(),
        seq: 0,
        budget: 32 << 20,
    };
    let writer = std::thread::Builder::new()
        .name("callsift-writer".into())
        .spawn(move || -> Result<Vec<PathBuf>> {
            for msg in rx {
                pw.write(msg)?;
            }
            pw.finish()
        })
        .ctx(|| "starting writer thread".into())?;

    let progress = progress_bar(opts.progress, meta.len());
    let mut parser = RowParser::new(profile, layout, header);
    let mut rejects = Rejects::new(&ingest_id, &display);
    let mut counts = Counts::default();
    let mut buf = CallBuffer::new();
    let merge = profile.merge_window.map(|w| w.max(opts.batch_size));
    let batch_size = merge.unwrap_or(opts.batch_size);
    buf.rows.reserve_exact(2 * batch_size + 1);
    // Sized from the file (≈ 250 bytes a row) so the id set rarely rehashes.
    let mut seen = SeenIds::with_capacity((meta.len() / 250) as usize);
    let mut decoded: Vec<String> = Vec::new();
    let has_derived = parser.layout.derived().next().is_some();
    let mut derived: Vec<Option<String>> = vec![None; SourceField::ALL.len()];
    let mut send_err: Option<Error> = None;

    let emit = |buf: &mut CallBuffer, n: usize, parser: &RowParser, last: bool| -> Result<()> {
        let n = n.min(buf.rows.len());
        if n == 0 {
            return Ok(());
        }
        for (ym, b) in build_batches(buf, &buf.rows[..n], &parser.vocab, &profile.name, &ingest_id)? {
            if tx.send(WriteMsg::Calls(ym, b)).is_err() {
                return Err(Error::Warehouse { dir: wh.dir.clone(), message: "writer thread stopped".into() });
            }
        }
        if !last {
            buf.drain_front(n, merge.is_some());
        }
        Ok(())
    };

    let mut source = RecordSource::spawn(csv, path.to_path_buf())?;
    loop {
        let (rec, truncated) = match source.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                send_err = Some(e);
                break;
            }
        };
        if truncated {
            counts.rows_read += 1;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let raw = String::from_utf8_lossy(rec.as_slice()).into_owned();
            rejects.push(
                line,
                "truncated_record",
                None,
                "file ends inside a quoted field: the last record is cut off",
                &raw,
            );
            continue;
        }
        counts.rows_read += 1;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let utf8 = match profile.encoding {
            Encoding::Utf8 => std::str::from_utf8(rec.as_slice()).is_ok(),
            Encoding::Windows1252 => rec.as_slice().is_ascii(),
        };
        let mut fields = if utf8 {
            Fields::Bytes(rec)
        } else {
            decoded.resize(rec.len(), String::new());
            for (i, f) in rec.iter().enumerate() {
                match (profile.encoding, std::str::from_utf8(f)) {
                    (Encoding::Utf8, Ok(s)) => {
                        decoded[i].clear();
                        decoded[i].push_str(s);
                    }
                    _ => decode_1252(f, &mut decoded[i]),
                }
            }
            Fields::Decoded(&decoded[..rec.len()])
        };
        if has_derived {
            let tmp = Row { fields, derived: &[] };
            fill_derived(&parser.layout, &tmp, &mut derived);
            fields = tmp.fields;
        }
        let row = Row { fields, derived: &derived };
        match parser.parse(&row, &mut buf) {
            Ok(Some(call)) => {
                let h = buf.hash(buf.str(call.call_id).unwrap_or(""));
                let existing =
                    if merge.is_some() { buf.find_hashed(h, buf.str(call.call_id).unwrap_or("")) } else { None };
                match existing {
                    Some(i) => {
                        if !call.type_mapped {
                            parser.unmerge_unmapped(&buf, &call);
                        }
                        merge_unit(&mut buf.rows[i], &call);
                        // The unit row's strings are no longer needed.
                        buf.arena.truncate(call.call_id.start as usize);
                        counts.unit_rows_merged += 1;
                    }
                    None => {
                        seen.note(h);
                        counts.calls_by_source[call.category_source as usize] += 1;
                        buf.rows.push(call);
                        if merge.is_some() {
                            buf.index_row_hashed(buf.rows.len() - 1, h);
                        }
                        counts.calls_kept += 1;
                    }
                }
            }
            Ok(None) => {
                counts.non_calls_dropped += 1;
            }
            Err(r) => {
                let record = row.joined(profile.delimiter);
                rejects.push(line, r.code, r.column.as_deref(), &r.reason, &record);
                if rejects.len >= 8192 {
                    let b = rejects.finish_batch()?;
                    if tx.send(WriteMsg::Rejects(b)).is_err() {
                        break;
                    }
                }
            }
        }
        // Merge window: keep the newest `batch_size` incidents open, emit older ones.
        let high = if merge.is_some() { 2 * batch_size } else { batch_size };
        if buf.rows.len() >= high {
            let n = buf.rows.len() - if merge.is_some() { batch_size } else { 0 };
            if let Err(e) = emit(&mut buf, n, &parser, false) {
                send_err = Some(e);
                break;
            }
        }
        if counts.rows_read % 16_384 == 0 {
            if let Some(pb) = &progress {
                pb.set_position(bytes_read.load(Ordering::Relaxed));
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                pb.set_message(format!("{} rows, {:.0} rows/s", counts.rows_read, counts.rows_read as f64 / secs));
            }
        }
    }
    let sha = if send_err.is_none() { source.finish() } else { Ok(String::new()) };
    if send_err.is_none() {
        let n = buf.rows.len();
        if let Err(e) = emit(&mut buf, n, &parser, true) {
            send_err = Some(e);
        }
    }
    if send_err.is_none() && rejects.len > 0 {
        let b = rejects.finish_batch()?;
        let _ = tx.send(WriteMsg::Rejects(b));
    }
    drop(tx);
    let staged = writer
        .join()
        .map_err(|_| Error::Warehouse { dir: wh.dir.clone(), message: "writer thread panicked".into() })??;
    if let Some(e) = send_err {
        return Err(e);
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }

    let sha256 = sha?;
    let manifest = wh.manifest()?;
    if let Some(r) = manifest.ingests.iter().find(|r| r.sha256 == sha256) {
        let _ = std::fs::remove_dir_all(&staging);
        return Ok(Staged::Done(IngestOutcome::AlreadyIngested {
            file: display,
            sha256,
            ingest_id: r.ingest_id.clone(),
        }));
    }

    let mut unmapped_types: Vec<UnmappedType> =
        parser.unmapped_types.into_iter().map(|(raw_type, rows)| UnmappedType { raw_type, rows }).collect();
    unmapped_types.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.raw_type.cmp(&b.raw_type)));
    let unmapped_values = parser
        .unmapped_values
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().collect::<BTreeMap<_, _>>()))
        .collect();
    let record = IngestRecord {
        ingest_id,
        file: display,
        sha256,
        bytes: meta.len(),
        profile: profile.name.clone(),
        profile_sha256: profile.sha256.clone(),
        ingested_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        rows_read: counts.rows_read,
        calls_kept: counts.calls_kept,
        rows_rejected: rejects.total,
        unit_rows_merged: counts.unit_rows_merged,
        non_calls_dropped: counts.non_calls_dropped,
        rejects_by_reason: rejects.by_reason,
        calls_by_category_source: CategorySource::ALL
            .iter()
            .zip(counts.calls_by_source)
            .map(|(s, n)| (s.as_str().to_string(), n))
            .collect(),
        unmapped_types,
        unmapped_values,
        duplicate_call_ids: 0,
        files: Vec::new(),
    };
    debug_assert_eq!(
        record.rows_read,
        record.calls_kept + record.rows_rejected + record.unit_rows_merged + record.non_calls_dropped
    );
    Ok(Staged::Ready { staging, record, staged, maybe_duplicates: seen.possible_duplicate || seen.overflow })
}

fn progress_bar(enabled: bool, len: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}")
            .expect("valid template"),
    );
    Some(pb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id_span: Span) -> CallRow {
        CallRow {
            call_id: id_span,
            initial_type: NULL_SPAN,
            final_type: NULL_SPAN,
            basis_final: false,
            category: NONE32,
            type_mapped: false,
            category_source: CategorySource::Unmapped,
            category_rule: NONE32,
            category_confidence: None,
            priority_raw: NULL_SPAN,
            priority: None,
            call_source: 0,
            self_initiated: false,
            caller_party: 0,
            third_party_p: None,
            disposition_raw: NULL_SPAN,
            disposition: NONE32,
            district: NULL_SPAN,
            beat: NULL_SPAN,
            address: NULL_SPAN,
            received_utc: 0,
            received_local: 0,
            dispatched: None,
            arrived: None,
            cleared: None,
            units: 1,
            responder_type: 1,
            community_responder: false,
            busy_minutes: None,
            flags: 0,
            ym: 0,
        }
    }

    #[test]
    fn merge_keeps_first_dispatch_first_arrival_last_clear() {
        let m = 60_000_000;
        let mut a = call(NULL_SPAN);
        a.dispatched = Some(10 * m);
        a.arrived = None;
        a.cleared = Some(40 * m);
        a.busy_minutes = Some(30.0);
        let mut b = call(NULL_SPAN);
        b.dispatched = Some(5 * m);
        b.arrived = Some(12 * m);
        b.cleared = Some(50 * m);
        b.busy_minutes = Some(45.0);
        b.community_responder = true;
        merge_unit(&mut a, &b);
        assert_eq!(a.dispatched, Some(5 * m));
        assert_eq!(a.arrived, Some(12 * m));
        assert_eq!(a.cleared, Some(50 * m));
        assert_eq!(a.units, 2);
        assert_eq!(a.busy_minutes, Some(75.0));
        assert!(a.community_responder);
    }

    #[test]
    fn buffer_finds_and_reindexes_after_drain() {
        let mut buf = CallBuffer::new();
        for id in ["A", "B", "C", "D"] {
            let sp = buf.push_str(Some(id));
            buf.rows.push(call(sp));
            buf.index_row(buf.rows.len() - 1);
        }
        assert_eq!(buf.find("C"), Some(2));
        buf.drain_front(2, true);
        assert_eq!(buf.find("A"), None);
        assert_eq!(buf.find("C"), Some(0));
        assert_eq!(buf.find("D"), Some(1));
        assert_eq!(buf.str(buf.rows[1].call_id), Some("D"));
    }

    #[test]
    fn unit_busy_rejects_implausible_spans() {
        let m = 60_000_000;
        assert_eq!(unit_busy(Some(0), Some(30 * m)), Some(30.0));
        assert_eq!(unit_busy(Some(30 * m), Some(0)), None);
        assert_eq!(unit_busy(Some(0), Some(2000 * m)), None);
        assert_eq!(unit_busy(None, Some(0)), None);
    }
}
