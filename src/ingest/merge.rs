//! Parsed calls held in a columnar-ish buffer until their unit rows have had a chance to arrive,
//! and the unit-row merge itself.
use crate::source::classify::CategorySource;
use std::collections::HashMap;

pub(crate) const NULL_SPAN: Span = Span { start: 0, len: u32::MAX };
/// "No value" for an interned vocabulary index.
pub(crate) const NONE32: u32 = u32::MAX;

// The flag bitmask is a u16: a new flag past 16 must widen it (a u8 silently wrapped bit 8 onto bit 0).
const _: () = assert!(crate::warehouse::schema::FLAGS.len() <= u16::BITS as usize);

/// A string in the buffer's arena (`len == u32::MAX`: null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    pub fn is_null(self) -> bool {
        self.len == u32::MAX
    }
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start as usize + self.len as usize)
    }
}

/// Small interned vocabularies (canonical values from the profile and crosswalk).
#[derive(Default)]
pub(crate) struct Interner {
    values: Vec<String>,
    index: HashMap<String, u32, foldhash::fast::RandomState>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
    pub fn get(&self, i: u32) -> Option<&str> {
        self.values.get(i as usize).map(String::as_str)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CallRow {
    pub call_id: Span,
    pub initial_type: Span,
    pub final_type: Span,
    /// Which type fed the category: false = initial, true = final.
    pub basis_final: bool,
    pub category: u32,
    pub type_mapped: bool,
    pub category_source: CategorySource,
    /// Interned classifier rule name, or NONE32.
    pub category_rule: u32,
    pub category_confidence: Option<f64>,
    pub priority_raw: Span,
    pub priority: Option<i32>,
    pub call_source: u32,
    pub self_initiated: bool,
    pub caller_party: u32,
    pub third_party_p: Option<f64>,
    pub disposition_raw: Span,
    pub disposition: u32,
    pub district: Span,
    pub beat: Span,
    pub address: Span,
    pub received_utc: i64,
    pub received_local: i64,
    pub dispatched: Option<i64>,
    pub arrived: Option<i64>,
    pub cleared: Option<i64>,
    pub units: i32,
    pub responder_type: u32,
    pub community_responder: bool,
    pub busy_minutes: Option<f64>,
    /// Bit k = `FLAGS[k]` (checked at compile time to fit).
    pub flags: u16,
    /// year * 12 + (month - 1), local time of receipt: the partition.
    pub ym: i32,
}

impl CallRow {
    fn spans_mut(&mut self) -> [&mut Span; 8] {
        [
            &mut self.call_id,
            &mut self.initial_type,
            &mut self.final_type,
            &mut self.priority_raw,
            &mut self.disposition_raw,
            &mut self.district,
            &mut self.beat,
            &mut self.address,
        ]
    }
}

pub(crate) struct CallBuffer {
    pub rows: Vec<CallRow>,
    /// Every string of the buffered rows; spans are made from whole `&str`s, so they always fall on
    /// character boundaries (checked slicing, no `unsafe`).
    arena: String,
    /// Row index by call_id, for merging unit rows (only when the profile merges).
    table: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

impl CallBuffer {
    pub fn new() -> Self {
        CallBuffer {
            rows: Vec::new(),
            arena: String::new(),
            table: hashbrown::HashTable::new(),
            hasher: foldhash::fast::FixedState::with_seed(7),
        }
    }

    pub fn push_str(&mut self, s: Option<&str>) -> Span {
        match s {
            None => NULL_SPAN,
            Some(s) => {
                let start = self.arena.len() as u32;
                self.arena.push_str(s);
                Span { start, len: s.len() as u32 }
            }
        }
    }

    /// Bytes of text held for the buffered rows.
    pub fn arena_bytes(&self) -> usize {
        self.arena.len()
    }

    pub fn str(&self, sp: Span) -> Option<&str> {
        if sp.is_null() {
            None
        } else {
            self.arena.get(sp.range())
        }
    }

    /// Forget the strings of the last row pushed (a unit row merged into its incident).
    pub fn truncate_arena(&mut self, sp: Span) {
        if !sp.is_null() && self.arena.is_char_boundary(sp.start as usize) {
            self.arena.truncate(sp.start as usize);
        }
    }

    pub fn hash(&self, key: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(key)
    }

    #[cfg(test)]
    pub fn find(&self, key: &str) -> Option<usize> {
        self.find_hashed(self.hash(key), key)
    }

    /// `find` with the key's hash already computed (the hot path hashes each id once).
    pub fn find_hashed(&self, h: u64, key: &str) -> Option<usize> {
        self.table.find(h, |&i| self.str(self.rows[i as usize].call_id) == Some(key)).map(|&i| i as usize)
    }

    fn index_row(&mut self, i: usize) {
        let key = self.str(self.rows[i].call_id).unwrap_or("");
        let h = self.hash(key);
        self.index_row_hashed(i, h);
    }

    pub fn index_row_hashed(&mut self, i: usize, h: u64) {
        let (rows, arena, hasher) = (&self.rows, &self.arena, &self.hasher);
        self.table.insert_unique(h, i as u32, |&j| {
            use std::hash::BuildHasher;
            hasher.hash_one(arena.get(rows[j as usize].call_id.range()).unwrap_or(""))
        });
    }

    /// Drop the first `n` rows (already emitted), compacting the arena and re-indexing.
    pub fn drain_front(&mut self, n: usize, indexed: bool) {
        let rest: Vec<CallRow> = self.rows.drain(n..).collect();
        let old_arena = std::mem::take(&mut self.arena);
        self.rows.clear();
        self.table.clear();
        for mut r in rest {
            for sp in r.spans_mut() {
                if !sp.is_null() {
                    let start = self.arena.len() as u32;
                    self.arena.push_str(old_arena.get(sp.range()).unwrap_or(""));
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

/// One unit's busy time, dispatch → clear, in minutes; implausible spans (negative, > 24 h) are dropped.
pub(crate) fn unit_busy(dispatched: Option<i64>, cleared: Option<i64>) -> Option<f64> {
    let (d, c) = (dispatched?, cleared?);
    let m = c.checked_sub(d)? as f64 / 60_000_000.0;
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
pub(crate) fn merge_unit(into: &mut CallRow, unit: &CallRow) {
    into.dispatched = min_opt(into.dispatched, unit.dispatched);
    into.arrived = min_opt(into.arrived, unit.arrived);
    into.cleared = match (into.cleared, unit.cleared) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    };
    into.units = into.units.saturating_add(unit.units);
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

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn call(id_span: Span) -> CallRow {
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
        for id in ["A", "B", "Ç", "D"] {
            let sp = buf.push_str(Some(id));
            buf.rows.push(call(sp));
            buf.index_row(buf.rows.len() - 1);
        }
        assert_eq!(buf.find("Ç"), Some(2));
        buf.drain_front(2, true);
        assert_eq!(buf.find("A"), None);
        assert_eq!(buf.find("Ç"), Some(0));
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
        assert_eq!(unit_busy(Some(i64::MIN), Some(i64::MAX)), None);
    }
}
