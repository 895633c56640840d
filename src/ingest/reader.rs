//! Reading: records are tokenised (and the file hashed) on their own thread and handed over in
//! reusable chunks, so CSV splitting overlaps field parsing.
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;

use super::records::{Record, RecordReader};
use crate::error::{Error, IoContext, Result};

/// Counts bytes as the CSV reader pulls them and, for input that cannot be hashed up front (a
/// pipe), hashes them too, so such input is read once.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Option<blake3::Hasher>,
    bytes: Arc<AtomicU64>,
}

impl<R> HashingReader<R> {
    /// `hash`: false when the digest is already known (a regular file, hashed before parsing).
    pub fn new(inner: R, bytes: Arc<AtomicU64>, hash: bool) -> Self {
        HashingReader { inner, hasher: hash.then(blake3::Hasher::new), bytes }
    }
    /// The digest of what was read (empty when not hashing).
    pub fn digest(self) -> String {
        self.hasher.map(|h| h.finalize().to_hex().to_string()).unwrap_or_default()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// BLAKE3 of a whole file (the ingest identity): SHA-256 in software was a quarter of ingest CPU.
pub(crate) fn file_blake3(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).ctx(|| format!("opening {}", path.display()))?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).ctx(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().to_hex().to_string())
}

enum ReadMsg {
    Chunk(Vec<Record>, usize),
    End { digest: String },
    Failed(Error),
}

/// Records per chunk, and the bytes after which a chunk is sent early (big records).
const CHUNK: usize = 4096;
const CHUNK_BYTES: usize = 8 << 20;

/// The reader thread's end of the pipe: records in file order.
pub(crate) struct RecordSource {
    rx: Receiver<ReadMsg>,
    recycle: Sender<Vec<Record>>,
    cur: Vec<Record>,
    len: usize,
    i: usize,
    digest: Option<String>,
    thread: Option<std::thread::JoinHandle<()>>,
    path: PathBuf,
}

/// Fill `v` with up to `CHUNK` records (fewer once they hold `CHUNK_BYTES`); the count and whether
/// the input ended.
fn read_chunk<R: Read>(rdr: &mut RecordReader<R>, v: &mut [Record]) -> std::io::Result<(usize, bool)> {
    let (mut n, mut bytes) = (0, 0);
    while n < v.len() && bytes < CHUNK_BYTES {
        v[n].shrink();
        if !rdr.read(&mut v[n])? {
            return Ok((n, true));
        }
        v[n].seal_text();
        bytes += v[n].footprint();
        n += 1;
    }
    Ok((n, false))
}

impl RecordSource {
    /// Read the rest of `rdr` (the header already taken) on a thread.
    pub fn spawn<R: Read + Send + 'static>(mut rdr: RecordReader<HashingReader<R>>, path: PathBuf) -> Result<Self> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<ReadMsg>(4);
        let (recycle, back) = std::sync::mpsc::channel::<Vec<Record>>();
        let thread_path = path.clone();
        let thread = std::thread::Builder::new()
            .name("callsift-reader".into())
            .spawn(move || loop {
                let mut v = back.try_recv().unwrap_or_else(|_| vec![Record::default(); CHUNK]);
                match read_chunk(&mut rdr, &mut v) {
                    Ok((n, eof)) => {
                        if n > 0 && tx.send(ReadMsg::Chunk(v, n)).is_err() {
                            return;
                        }
                        if eof {
                            let _ = tx.send(ReadMsg::End { digest: rdr.into_inner().digest() });
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(ReadMsg::Failed(Error::Input {
                            file: thread_path.clone(),
                            message: format!("read failed near byte {}: {e}", rdr.position()),
                        }));
                        return;
                    }
                }
            })
            .ctx(|| "starting reader thread".into())?;
        Ok(RecordSource { rx, recycle, cur: Vec::new(), len: 0, i: 0, digest: None, thread: Some(thread), path })
    }

    fn recv(&mut self) -> ReadMsg {
        self.rx.recv().unwrap_or_else(|_| {
            ReadMsg::Failed(Error::Input { file: self.path.clone(), message: "reader thread stopped".into() })
        })
    }

    /// The next record, or `None` at the end of the file.
    pub fn next(&mut self) -> Result<Option<&Record>> {
        while self.i >= self.len {
            if self.digest.is_some() {
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
                ReadMsg::End { digest } => {
                    self.digest = Some(digest);
                    return Ok(None);
                }
                ReadMsg::Failed(e) => return Err(e),
            }
        }
        self.i += 1;
        Ok(self.cur.get(self.i - 1))
    }

    /// Drain to the end and return the file's BLAKE3.
    pub fn finish(mut self) -> Result<String> {
        while self.digest.is_none() {
            match self.recv() {
                ReadMsg::End { digest } => self.digest = Some(digest),
                ReadMsg::Failed(e) => return Err(e),
                ReadMsg::Chunk(..) => {}
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        Ok(self.digest.take().unwrap_or_default())
    }
}
