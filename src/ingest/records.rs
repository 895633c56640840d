//! A bounded CSV tokenizer: splits bytes into records with the `csv` crate's rules (RFC 4180 plus
//! csv-core's leniencies: blank lines skipped, `\r`, `\n` or `\r\n` end a record, a quote is only
//! special at the start of a field, `"a"b` reads as `ab`, a leading UTF-8 BOM is dropped), but with
//! two guards the `csv` crate cannot give:
//!
//! * **a record-size cap**: a record longer than `max_record_bytes` is never held in memory; its
//!   first bytes are kept for the reject and the rest is skipped up to the record's end
//!   ([`Damage::TooLong`]). `/dev/zero` or a 3 GB field costs a bounded buffer, not an abort.
//! * **quote resynchronisation**: a quote that never closes would otherwise swallow every later line
//!   into one field. When a quoted field that has crossed a line break reaches the end of the file
//!   or the cap, the record is cut at the end of the line where the quote opened and reading
//!   resumes at the first later line that parses as a whole record of the header's width
//!   ([`Damage::UnclosedQuote`]). The swallowed bytes are still in the buffer (at most the cap), so
//!   this works on pipes too. A file that simply ends inside its last quoted field (a cut-off
//!   export, nothing to resynchronise on) keeps the old outcome: [`Damage::Truncated`].
//!
//! Line numbers are the physical line where a record starts (1-based, blank lines skipped).
use std::io::Read;

/// Default cap on one record's size in bytes (`--max-record-bytes`).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1 << 20;
/// Bounds accepted for the cap (a real CAD record is well under 64 KiB).
pub const MIN_MAX_RECORD_BYTES: usize = 1 << 10;
pub const MAX_MAX_RECORD_BYTES: usize = 256 << 20;
/// Bytes of an over-long record kept for the reject.
const PREFIX_BYTES: usize = 1024;
const READ_CHUNK: usize = 1 << 20;
const QUOTE: u8 = b'"';

/// What went wrong with a record's framing (the fields of a damaged record are only for the reject).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    None,
    /// Longer than the cap: the fields hold the first bytes only.
    TooLong {
        last_line: u64,
        bytes: u64,
    },
    /// A quoted field opened on `quote_line` never closed before `gave_up_line` (end of file, or the
    /// cap); the record was cut at the end of `quote_line` and reading resumed on `resume_line`.
    UnclosedQuote {
        quote_line: u64,
        gave_up_line: u64,
        resume_line: u64,
        at_eof: bool,
    },
    /// The file ends inside the quoted field of its last record.
    Truncated,
}

/// One record: fields as byte ranges of one buffer (like `csv::ByteRecord`), its line, its damage.
#[derive(Debug, Clone)]
pub struct Record {
    data: Vec<u8>,
    /// `data` once checked to be UTF-8 with every field on a character boundary ([`Record::seal_text`],
    /// on the reader thread): fields are then `&str` slices without a second check on the parse thread.
    text: Option<String>,
    ends: Vec<usize>,
    line: u64,
    pub damage: Damage,
}

impl Default for Record {
    fn default() -> Self {
        Record { data: Vec::new(), text: None, ends: Vec::new(), line: 0, damage: Damage::None }
    }
}

impl Record {
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    fn bytes(&self) -> &[u8] {
        self.text.as_ref().map_or(&self.data[..], String::as_bytes)
    }
    fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        let end = *self.ends.get(i)?;
        Some(if i == 0 { 0 } else { self.ends[i - 1] }..end)
    }
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.bytes().get(self.range(i)?)
    }
    /// Field `i` as text: without a check when the record was sealed as text, else if it is UTF-8.
    pub fn get_str(&self, i: usize) -> Option<&str> {
        match &self.text {
            Some(t) => t.get(self.range(i)?),
            None => std::str::from_utf8(self.get(i)?).ok(),
        }
    }
    /// Whether [`Record::seal_text`] found every field to be UTF-8.
    pub fn is_text(&self) -> bool {
        self.text.is_some()
    }
    /// Check the record's bytes once (whole record, then that each field ends on a character
    /// boundary: a sequence split by a delimiter is valid as a whole but not per field) and keep
    /// them as a `String` when they pass. Run on the reader thread.
    pub fn seal_text(&mut self) {
        if self.text.is_some() || self.damage != Damage::None {
            return;
        }
        match String::from_utf8(std::mem::take(&mut self.data)) {
            Ok(t) if self.ends.iter().all(|&e| t.is_char_boundary(e)) => self.text = Some(t),
            Ok(t) => self.data = t.into_bytes(),
            Err(e) => self.data = e.into_bytes(),
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
    /// All fields' bytes, concatenated (no delimiters).
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes()[..self.ends.last().copied().unwrap_or(0)]
    }
    /// Physical line (1-based) where the record starts.
    pub fn line(&self) -> u64 {
        self.line
    }
    /// Bytes held (data and field ends), to size read-ahead chunks.
    pub fn footprint(&self) -> usize {
        self.bytes().len() + 8 * self.ends.len()
    }
    /// Drop oversized buffers before reuse so one huge record does not pin memory.
    pub fn shrink(&mut self) {
        self.unseal();
        if self.data.capacity() > 256 << 10 {
            self.data = Vec::new();
        }
        if self.ends.capacity() > 32 << 10 {
            self.ends = Vec::new();
        }
    }
    /// Take the buffer back from a sealed record (no allocation) so the tokenizer can reuse it.
    fn unseal(&mut self) {
        if let Some(t) = self.text.take() {
            self.data = t.into_bytes();
        }
    }
    fn clear(&mut self) {
        self.unseal();
        self.data.clear();
        self.ends.clear();
        self.damage = Damage::None;
    }
    #[cfg(test)]
    pub fn fields(&self) -> Vec<Vec<u8>> {
        self.iter().map(<[u8]>::to_vec).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StartField,
    InField,
    InQuoted,
    /// A quote inside a quoted field: `""` (escaped), or the closing quote.
    QuoteInQuoted,
}

/// Scan state of the record being read.
#[derive(Debug, Clone, Copy)]
struct Scan {
    state: State,
    /// Absolute offset where the record starts.
    start: u64,
    quote_line: u64,
    /// Buffer offset just after the first line break inside the current quoted field: where reading
    /// resumes if the quote never closes. Bytes from here on stay buffered.
    anchor: Option<usize>,
    /// `data.len()` at that line break (the reject keeps the record up to the end of the quote's line).
    out_at_anchor: usize,
    /// Over the cap: fields are no longer stored.
    skipping: bool,
}

pub struct RecordReader<R> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Absolute offset of `buf[0]`.
    base: u64,
    eof: bool,
    last_byte: Option<u8>,
    line: u64,
    delim: u8,
    cap: usize,
    /// Fields of the first record (the header): a resynchronisation point must parse to this width.
    width: Option<usize>,
    started: bool,
}

impl<R: Read> RecordReader<R> {
    pub fn new(src: R, delim: u8, max_record_bytes: usize) -> Self {
        RecordReader {
            src,
            buf: vec![0; READ_CHUNK],
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
            last_byte: None,
            line: 1,
            delim,
            cap: max_record_bytes.max(1),
            width: None,
            started: false,
        }
    }

    pub fn max_record_bytes(&self) -> usize {
        self.cap
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub fn into_inner(self) -> R {
        self.src
    }

    /// Read more input, keeping `buf[keep..]`. `false` at end of input.
    fn fill(&mut self, keep: usize, scan: &mut Scan) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if keep > 0 {
            self.buf.copy_within(keep..self.end, 0);
            self.base += keep as u64;
            self.pos -= keep;
            self.end -= keep;
            if let Some(a) = &mut scan.anchor {
                *a -= keep;
            }
        }
        if self.buf.len() - self.end < READ_CHUNK / 4 {
            // Bounded: callers keep at most the cap plus one chunk.
            self.buf.resize(self.buf.len() + READ_CHUNK, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.last_byte = Some(self.buf[self.end + n - 1]);
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn keep_from(&self, scan: &Scan) -> usize {
        scan.anchor.unwrap_or(self.pos).min(self.pos)
    }

    /// Skip blank lines and a leading BOM; `false` at end of input.
    fn start_record(&mut self, scan: &mut Scan) -> std::io::Result<bool> {
        if !self.started {
            while self.end < 3 && self.fill(0, scan)? {}
            if self.buf[..self.end].starts_with(b"\xEF\xBB\xBF") {
                self.pos = 3;
            }
            self.started = true;
        }
        loop {
            if self.pos == self.end && !self.fill(self.pos, scan)? {
                return Ok(false);
            }
            match self.buf[self.pos] {
                b'\n' => self.line += 1,
                b'\r' => {}
                _ => return Ok(true),
            }
            self.pos += 1;
        }
    }

    /// Read the next record into `rec`; `false` at end of input. Never fails on content, only on I/O.
    pub fn read(&mut self, rec: &mut Record) -> std::io::Result<bool> {
        rec.clear();
        let mut scan =
            Scan { state: State::StartField, start: 0, quote_line: 0, anchor: None, out_at_anchor: 0, skipping: false };
        if !self.start_record(&mut scan)? {
            return Ok(false);
        }
        rec.line = self.line;
        scan.start = self.position();
        loop {
            if self.pos == self.end && !self.fill(self.keep_from(&scan), &mut scan)? {
                self.finish_at_eof(rec, &mut scan);
                break;
            }
            if self.step(rec, &mut scan) {
                if !scan.skipping && self.position() - scan.start > self.cap as u64 {
                    self.too_long(rec, &mut scan);
                }
                if scan.skipping {
                    rec.damage = Damage::TooLong { last_line: self.last_line(), bytes: self.position() - scan.start };
                }
                break;
            }
            if self.position() - scan.start > self.cap as u64 {
                if self.width.is_none() {
                    // The header: fail now rather than skip through it (the input may be endless).
                    self.too_long(rec, &mut scan);
                    rec.damage = Damage::TooLong { last_line: self.line, bytes: self.position() - scan.start };
                    break;
                }
                if self.over_cap(rec, &mut scan) {
                    break;
                }
            }
        }
        if self.width.is_none() {
            self.width = Some(rec.len());
        }
        Ok(true)
    }

    /// The line of the last byte consumed (the record's terminator has moved `line` past it).
    fn last_line(&self) -> u64 {
        if self.pos > 0 && self.buf[self.pos - 1] == b'\n' {
            self.line - 1
        } else {
            self.line
        }
    }

    /// Consume bytes of the current record up to the buffer's end; `true` when the record ended.
    fn step(&mut self, rec: &mut Record, scan: &mut Scan) -> bool {
        let delim = self.delim;
        // Scan at most up to the cap (plus the byte that crosses it) before checking it again.
        let room = (self.cap as u64 + 1).saturating_sub(self.position() - scan.start);
        let stop = if scan.skipping { self.end } else { self.end.min(self.pos + room.max(1) as usize) };
        while self.pos < stop {
            let b = self.buf[self.pos];
            match scan.state {
                State::InField | State::InQuoted => {
                    // Fast path: copy a run of ordinary bytes.
                    let quoted = scan.state == State::InQuoted;
                    let run = self.buf[self.pos..stop]
                        .iter()
                        .position(|&c| {
                            if quoted {
                                c == QUOTE || c == b'\n'
                            } else {
                                c == delim || c == b'\n' || c == b'\r'
                            }
                        })
                        .unwrap_or(stop - self.pos);
                    if !scan.skipping {
                        rec.data.extend_from_slice(&self.buf[self.pos..self.pos + run]);
                    }
                    self.pos += run;
                    if self.pos == stop {
                        return false;
                    }
                    let b = self.buf[self.pos];
                    self.pos += 1;
                    if quoted {
                        if b == QUOTE {
                            scan.state = State::QuoteInQuoted;
                        } else {
                            // A line break inside quotes: remember where the next line starts.
                            self.line += 1;
                            if scan.anchor.is_none() {
                                scan.anchor = Some(self.pos);
                                scan.out_at_anchor = rec.data.len();
                            }
                            self.push(rec, scan, b);
                        }
                    } else if b == delim {
                        end_field(rec, scan);
                        scan.state = State::StartField;
                    } else {
                        return self.end_record(rec, scan, b);
                    }
                }
                State::StartField => {
                    self.pos += 1;
                    if b == QUOTE {
                        scan.state = State::InQuoted;
                        scan.quote_line = self.line;
                        scan.anchor = None;
                    } else if b == delim {
                        end_field(rec, scan);
                    } else if b == b'\n' || b == b'\r' {
                        return self.end_record(rec, scan, b);
                    } else {
                        self.push(rec, scan, b);
                        scan.state = State::InField;
                    }
                }
                State::QuoteInQuoted => {
                    self.pos += 1;
                    if b == QUOTE {
                        self.push(rec, scan, QUOTE);
                        scan.state = State::InQuoted;
                        continue;
                    }
                    scan.anchor = None;
                    if b == delim {
                        end_field(rec, scan);
                        scan.state = State::StartField;
                    } else if b == b'\n' || b == b'\r' {
                        return self.end_record(rec, scan, b);
                    } else {
                        self.push(rec, scan, b);
                        scan.state = State::InField;
                    }
                }
            }
        }
        false
    }

    fn push(&self, rec: &mut Record, scan: &Scan, b: u8) {
        if !scan.skipping {
            rec.data.push(b);
        }
    }

    fn end_record(&mut self, rec: &mut Record, scan: &Scan, terminator: u8) -> bool {
        if terminator == b'\n' {
            self.line += 1;
        }
        end_field(rec, scan);
        true
    }

    /// The record passed the cap. Returns `true` when the record is finished (resynchronised).
    fn over_cap(&mut self, rec: &mut Record, scan: &mut Scan) -> bool {
        let in_quote = matches!(scan.state, State::InQuoted | State::QuoteInQuoted);
        if in_quote && scan.anchor.is_some() {
            // Inside a quote that crossed a line break: most likely a quote that never closes.
            let anchor = scan.anchor.unwrap_or(self.pos);
            if !scan.skipping || self.pos - anchor > self.cap {
                let at = self.find_resync(anchor, self.pos, false).unwrap_or(anchor);
                self.resync(rec, scan, at, false);
                return true;
            }
        }
        if !scan.skipping {
            self.too_long(rec, scan);
        }
        false
    }

    /// Stop storing the record: keep a prefix for the reject and skip to its end.
    fn too_long(&mut self, rec: &mut Record, scan: &mut Scan) {
        scan.skipping = true;
        let mut keep = PREFIX_BYTES.min(rec.data.len());
        // Do not cut a UTF-8 sequence (continuation bytes are 0b10xx_xxxx).
        while keep > 0 && keep < rec.data.len() && rec.data[keep] & 0xC0 == 0x80 {
            keep -= 1;
        }
        rec.data.truncate(keep);
        rec.data.extend_from_slice("…".as_bytes());
        rec.ends.clear();
        rec.ends.push(rec.data.len());
    }

    fn finish_at_eof(&mut self, rec: &mut Record, scan: &mut Scan) {
        let in_quote = scan.state == State::InQuoted;
        if in_quote {
            if let Some(anchor) = scan.anchor {
                if let Some(at) = self.find_resync(anchor, self.end, true) {
                    self.resync(rec, scan, at, true);
                    return;
                }
            }
        }
        end_field(rec, scan);
        if scan.skipping || self.position() - scan.start > self.cap as u64 {
            if !scan.skipping {
                self.too_long(rec, scan);
            }
            rec.damage = Damage::TooLong { last_line: self.line, bytes: self.position() - scan.start };
        } else if in_quote && !matches!(self.last_byte, Some(b'\n' | b'\r')) {
            // The csv crate would close the field silently and keep a corrupted last call.
            rec.damage = Damage::Truncated;
        }
    }

    /// Cut the record at the end of the line where its unclosed quote opened; continue at `at`.
    fn resync(&mut self, rec: &mut Record, scan: &mut Scan, at: usize, at_eof: bool) {
        let anchor = scan.anchor.unwrap_or(at);
        let gave_up_line = self.last_line();
        let resume_line = scan.quote_line + 1 + self.buf[anchor..at].iter().filter(|&&b| b == b'\n').count() as u64;
        if scan.skipping {
            rec.damage = Damage::TooLong { last_line: resume_line - 1, bytes: self.base + at as u64 - scan.start };
        } else {
            let mut cut = scan.out_at_anchor;
            if cut > 0 && rec.data[cut - 1] == b'\r' {
                cut -= 1;
            }
            rec.data.truncate(cut);
            rec.ends.push(rec.data.len());
            rec.damage = Damage::UnclosedQuote { quote_line: scan.quote_line, gave_up_line, resume_line, at_eof };
        }
        self.pos = at;
        self.line = resume_line;
        scan.anchor = None;
    }

    /// The first line start in `buf[from..to]` whose line parses on its own as a record of the
    /// header's width (quotes closed within the line).
    fn find_resync(&self, from: usize, to: usize, at_eof: bool) -> Option<usize> {
        let mut s = from;
        while s < to {
            let e = match self.buf[s..to].iter().position(|&b| b == b'\n') {
                Some(k) => s + k,
                None if at_eof => to,
                None => return None,
            };
            let line = &self.buf[s..e];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.is_empty()
                && line_width(line, self.delim).is_some_and(|w| Some(w) == self.width || self.width.is_none())
            {
                return Some(s);
            }
            s = e + 1;
        }
        None
    }
}

/// Fields in one line read on its own, or `None` when a quote opened in it does not close in it
/// (or a `\r` ends it early).
fn line_width(line: &[u8], delim: u8) -> Option<usize> {
    let mut state = State::StartField;
    let mut fields = 1;
    for &b in line {
        state = match state {
            State::StartField if b == QUOTE => State::InQuoted,
            State::StartField | State::InField if b == delim => {
                fields += 1;
                State::StartField
            }
            State::InQuoted if b == QUOTE => State::QuoteInQuoted,
            State::InQuoted => State::InQuoted,
            State::QuoteInQuoted if b == QUOTE => State::InQuoted,
            State::QuoteInQuoted if b == delim => {
                fields += 1;
                State::StartField
            }
            _ if b == b'\r' => return None,
            _ => State::InField,
        };
    }
    (state != State::InQuoted).then_some(fields)
}

/// Close a field (not while skipping an over-long record: its field count must not grow either).
fn end_field(rec: &mut Record, scan: &Scan) {
    if !scan.skipping {
        rec.ends.push(rec.data.len());
    }
}
