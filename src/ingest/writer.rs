//! Parquet writing on its own thread (encoding overlaps parsing): `year=/month=` partition files of
//! `calls` and one `rejects` file. For a local warehouse they are written straight into the table
//! folders (invisible until the Delta commit adds them; `vacuum` removes those of a killed run); for
//! a remote one into a local folder they are uploaded from.
use std::collections::BTreeMap;
use std::path::PathBuf;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use crate::error::{Error, IoContext, Result};
use crate::warehouse::commit::StagedFile;
use crate::warehouse::schema;

pub(crate) enum WriteMsg {
    Calls(i32, RecordBatch),
    Rejects(RecordBatch),
}

/// What the writer thread wrote: the files and the rows it actually put in them.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub calls: Vec<StagedFile>,
    pub rejects: Vec<StagedFile>,
    pub call_rows: u64,
    pub reject_rows: u64,
}

/// Where the two tables' files go.
#[derive(Debug, Clone)]
pub(crate) struct Roots {
    pub calls: PathBuf,
    pub rejects: PathBuf,
}

/// One open file and the rows written to it so far.
struct OpenFile {
    file: StagedFile,
    writer: ArrowWriter<std::fs::File>,
}

impl OpenFile {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer.write(batch)?;
        self.file.rows += batch.num_rows() as u64;
        Ok(())
    }
    fn close(self) -> Result<StagedFile> {
        self.writer.close()?;
        Ok(self.file)
    }
}

struct PartitionWriter {
    roots: Roots,
    ingest_id: String,
    props: WriterProperties,
    /// Open files by partition, with the message count when each last received rows.
    open: BTreeMap<i32, (u64, OpenFile)>,
    msgs: u64,
    rejects: Option<OpenFile>,
    written: Written,
    seq: usize,
    /// Encoded-but-unflushed bytes allowed across open writers before the largest is flushed.
    budget: usize,
}

impl PartitionWriter {
    fn create(
        &mut self,
        root: PathBuf,
        rel: String,
        partition: Option<(i32, u32)>,
        schema: datafusion::arrow::datatypes::SchemaRef,
    ) -> Result<OpenFile> {
        let abs = root.join(&rel);
        if let Some(dir) = abs.parent() {
            std::fs::create_dir_all(dir).ctx(|| format!("creating {}", abs.display()))?;
        }
        let f = std::fs::File::create(&abs).ctx(|| format!("creating {}", abs.display()))?;
        let writer = ArrowWriter::try_new(f, schema, Some(self.props.clone()))?;
        Ok(OpenFile { file: StagedFile { rel, local: abs, rows: 0, partition }, writer })
    }

    fn write(&mut self, msg: WriteMsg) -> Result<()> {
        match msg {
            WriteMsg::Calls(ym, batch) => self.write_calls(ym, &batch),
            WriteMsg::Rejects(batch) => {
                if self.rejects.is_none() {
                    let rel = format!("part-{}.parquet", self.ingest_id);
                    let root = self.roots.rejects.clone();
                    self.rejects = Some(self.create(root, rel, None, schema::reject_schema())?);
                }
                if let Some(w) = &mut self.rejects {
                    w.write(&batch)?;
                    self.written.reject_rows += batch.num_rows() as u64;
                }
                Ok(())
            }
        }
    }

    fn open_month(&mut self, ym: i32) -> Result<OpenFile> {
        self.seq += 1;
        let (y, m) = (ym.div_euclid(12), (ym.rem_euclid(12) + 1) as u32);
        // Unpadded `month=3`, as Delta writers name partition folders.
        let rel = format!("year={y}/month={m}/part-{}-{:04}.parquet", self.ingest_id, self.seq);
        let root = self.roots.calls.clone();
        self.create(root, rel, Some((y, m)), schema::call_file_schema())
    }

    fn write_calls(&mut self, ym: i32, batch: &RecordBatch) -> Result<()> {
        if !self.open.contains_key(&ym) {
            let w = self.open_month(ym)?;
            self.open.insert(ym, (0, w));
        }
        self.msgs += 1;
        if let Some(entry) = self.open.get_mut(&ym) {
            entry.0 = self.msgs;
            entry.1.write(batch)?;
            self.written.call_rows += batch.num_rows() as u64;
        }
        // Exports are time-ordered: a month that has had no rows for a while is done. Closing it
        // bounds the buffered row groups to the few months in flight (a late row opens a new file).
        let idle: Vec<i32> = self.open.iter().filter(|(_, (last, _))| self.msgs - last > 8).map(|(k, _)| *k).collect();
        for k in idle {
            if let Some((_, w)) = self.open.remove(&k) {
                self.written.calls.push(w.close()?);
            }
        }
        let total: usize = self.open.values().map(|(_, w)| w.writer.in_progress_size()).sum();
        if total > self.budget {
            if let Some((_, w)) = self.open.values_mut().max_by_key(|(_, w)| w.writer.in_progress_size()) {
                w.writer.flush()?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Written> {
        for (_, (_, w)) in std::mem::take(&mut self.open) {
            self.written.calls.push(w.close()?);
        }
        if let Some(w) = self.rejects.take() {
            self.written.rejects.push(w.close()?);
        }
        Ok(self.written)
    }
}

pub fn writer_properties() -> WriterProperties {
    use datafusion::parquet::schema::types::ColumnPath;
    // (Nearly) unique per row: a dictionary only costs time (every value hashed and compared) and
    // is abandoned anyway once it outgrows its page.
    let unique = ["call_id", "received_at", "received_local", "dispatched_at", "arrived_at", "cleared_at", "address"];
    unique
        .iter()
        .fold(WriterProperties::builder(), |b, c| b.set_column_dictionary_enabled(ColumnPath::from(*c), false))
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_max_row_group_row_count(Some(65_536))
        .set_created_by(format!("callsift {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The writer thread: one batch in flight, so parsing and encoding overlap without queuing
/// batches in memory.
pub(crate) struct WriterThread {
    pub tx: std::sync::mpsc::SyncSender<WriteMsg>,
    handle: std::thread::JoinHandle<Result<Written>>,
}

impl WriterThread {
    pub fn spawn(roots: Roots, ingest_id: &str) -> Result<WriterThread> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<WriteMsg>(1);
        let mut pw = PartitionWriter {
            roots,
            ingest_id: ingest_id.to_string(),
            props: writer_properties(),
            open: BTreeMap::new(),
            msgs: 0,
            rejects: None,
            written: Written::default(),
            seq: 0,
            budget: 32 << 20,
        };
        let handle = std::thread::Builder::new()
            .name("callsift-writer".into())
            .spawn(move || -> Result<Written> {
                for msg in rx {
                    pw.write(msg)?;
                }
                pw.finish()
            })
            .ctx(|| "starting writer thread".into())?;
        Ok(WriterThread { tx, handle })
    }

    /// Close the channel and wait for every file to be closed.
    pub fn finish(self, warehouse: &str) -> Result<Written> {
        drop(self.tx);
        self.handle
            .join()
            .map_err(|_| Error::Warehouse { dir: warehouse.into(), message: "writer thread panicked".into() })?
    }
}
