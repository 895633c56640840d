//! Parquet writing on its own thread (encoding overlaps parsing): hive partitions of `calls`, one
//! `rejects` file, all in the ingest's staging directory.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use crate::error::{Error, IoContext, Result};
use crate::warehouse::schema;

pub(crate) enum WriteMsg {
    Calls(i32, RecordBatch),
    Rejects(RecordBatch),
}

/// What the writer thread wrote: the staged files and the rows it actually put in them.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub staged: Vec<PathBuf>,
    pub call_rows: u64,
    pub reject_rows: u64,
}

struct PartitionWriter {
    staging: PathBuf,
    ingest_id: String,
    props: WriterProperties,
    /// Open files by partition, with the message count when each last received rows.
    open: BTreeMap<i32, (u64, ArrowWriter<std::fs::File>)>,
    msgs: u64,
    rejects: Option<ArrowWriter<std::fs::File>>,
    written: Written,
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

    fn create(
        &mut self,
        rel: PathBuf,
        schema: datafusion::arrow::datatypes::SchemaRef,
    ) -> Result<ArrowWriter<std::fs::File>> {
        let abs = self.staging.join(&rel);
        if let Some(dir) = abs.parent() {
            std::fs::create_dir_all(dir).ctx(|| format!("creating {}", abs.display()))?;
        }
        let f = std::fs::File::create(&abs).ctx(|| format!("creating {}", abs.display()))?;
        let w = ArrowWriter::try_new(f, schema, Some(self.props.clone()))?;
        self.written.staged.push(rel);
        Ok(w)
    }

    fn write(&mut self, msg: WriteMsg) -> Result<()> {
        match msg {
            WriteMsg::Calls(ym, batch) => self.write_calls(ym, &batch),
            WriteMsg::Rejects(batch) => {
                if self.rejects.is_none() {
                    let rel = PathBuf::from(format!("rejects/part-{}.parquet", self.ingest_id));
                    self.rejects = Some(self.create(rel, schema::reject_schema())?);
                }
                if let Some(w) = &mut self.rejects {
                    w.write(&batch)?;
                    self.written.reject_rows += batch.num_rows() as u64;
                }
                Ok(())
            }
        }
    }

    fn write_calls(&mut self, ym: i32, batch: &RecordBatch) -> Result<()> {
        if !self.open.contains_key(&ym) {
            let rel = self.rel_path(ym);
            let w = self.create(rel, schema::call_file_schema())?;
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
                w.close()?;
            }
        }
        let total: usize = self.open.values().map(|(_, w)| w.in_progress_size()).sum();
        if total > self.budget {
            if let Some((_, w)) = self.open.values_mut().max_by_key(|(_, w)| w.in_progress_size()) {
                w.flush()?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Written> {
        for (_, (_, w)) in std::mem::take(&mut self.open) {
            w.close()?;
        }
        if let Some(w) = self.rejects.take() {
            w.close()?;
        }
        Ok(self.written)
    }
}

pub fn writer_properties() -> WriterProperties {
    use datafusion::parquet::schema::types::ColumnPath;
    WriterProperties::builder()
        // Unique per row: a dictionary only costs time and is abandoned anyway.
        .set_column_dictionary_enabled(ColumnPath::from("call_id"), false)
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
    pub fn spawn(staging: &Path, ingest_id: &str) -> Result<WriterThread> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<WriteMsg>(1);
        let mut pw = PartitionWriter {
            staging: staging.to_path_buf(),
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
    pub fn finish(self, warehouse: &Path) -> Result<Written> {
        drop(self.tx);
        self.handle
            .join()
            .map_err(|_| Error::Warehouse { dir: warehouse.to_path_buf(), message: "writer thread panicked".into() })?
    }
}
