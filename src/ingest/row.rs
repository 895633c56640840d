//! One input row as text: fields decoded per field (UTF-8, else Windows-1252), plus derived values.
use super::records::Record;
use crate::source::profile::{Encoding, Layout, Source};

pub(crate) enum Fields<'a> {
    /// Every field is valid UTF-8 on its own (and, for a Windows-1252 profile, ASCII).
    Text(&'a Record),
    /// At least one field needed decoding: all fields, decoded one by one.
    Decoded(&'a [String]),
}

/// One input row: its fields plus any derived values (concatenated / extracted), by `SourceField`.
pub(crate) struct Row<'a> {
    pub fields: Fields<'a>,
    pub derived: &'a [Option<String>],
}

impl Row<'_> {
    pub fn raw(&self, i: usize) -> Option<&str> {
        match &self.fields {
            // Validated in `decode_fields` (or sealed as text by the reader); a failure reads as missing.
            Fields::Text(r) => r.get_str(i),
            Fields::Decoded(v) => v.get(i).map(String::as_str),
        }
    }
    pub fn len(&self) -> usize {
        match &self.fields {
            Fields::Text(r) => r.len(),
            Fields::Decoded(v) => v.len(),
        }
    }
    /// The fields joined with the delimiter (the `record` column of a reject).
    pub fn joined(&self, delim: u8) -> String {
        let d = (delim as char).to_string();
        (0..self.len()).map(|i| self.raw(i).unwrap_or("")).collect::<Vec<_>>().join(&d)
    }
}

pub(crate) fn decode_1252(bytes: &[u8], out: &mut String) {
    out.clear();
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
    out.push_str(&text);
}

/// Whether every field of `rec` can be read as text as is. Each field is checked on its own: a
/// UTF-8 sequence split by a delimiter (`911\xC3,\xA9…`) is valid as a whole record but not per field.
fn fields_are_text(rec: &Record, encoding: Encoding) -> bool {
    match encoding {
        Encoding::Utf8 => rec.is_text() || rec.iter().all(|f| std::str::from_utf8(f).is_ok()),
        Encoding::Windows1252 => rec.as_slice().is_ascii(),
    }
}

/// The record's fields as text: UTF-8 where valid, Windows-1252 per field otherwise (`decoded` is a
/// reusable buffer: no per-row allocation once warm).
pub(crate) fn decode_fields<'a>(rec: &'a Record, encoding: Encoding, decoded: &'a mut Vec<String>) -> Fields<'a> {
    if fields_are_text(rec, encoding) {
        return Fields::Text(rec);
    }
    decoded.resize(rec.len(), String::new());
    for (out, f) in decoded.iter_mut().zip(rec.iter()) {
        match (encoding, std::str::from_utf8(f)) {
            (Encoding::Utf8, Ok(s)) => {
                out.clear();
                out.push_str(s);
            }
            _ => decode_1252(f, out),
        }
    }
    Fields::Decoded(&decoded[..rec.len()])
}

/// Compute concatenated / extracted fields for a row (only for profiles that use them).
pub(crate) fn fill_derived(layout: &Layout, row: &Row, out: &mut [Option<String>]) {
    for (f, src) in layout.derived() {
        let Some(slot) = out.get_mut(f.index()) else { continue };
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
