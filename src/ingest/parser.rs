//! Row parsing: one row's fields → a [`CallRow`] (times, value maps, crosswalk), or a reason it is
//! not a call. No per-row allocation once the caches are warm.
use std::collections::{BTreeMap, HashMap};

use super::merge::{unit_busy, CallBuffer, CallRow, Interner, NONE32};
use super::row::Row;
use crate::source::classify::CategorySource;
use crate::source::crosswalk::normalize_key;
use crate::source::profile::{InvalidTimes, Layout, MatchKind, Profile, Source, SourceField, TypeBasis, ValueMap};
use crate::source::timeparse::{Instant, NoFormatMatched, TimeParser};
use crate::source::typemap::TypeMap;
use crate::warehouse::schema::{Flag, FLAGS};

/// Distinct raw values remembered per cache; past this, values are normalised every time.
const CACHE_CAP: usize = 16_384;
/// Longer raw values are never cached (a hostile file of huge distinct values must not fill memory).
const CACHE_KEY_BYTES: usize = 256;
/// Distinct unmapped values remembered per field for the manifest.
const UNMAPPED_CAP: usize = 1000;

type FastMap<K, V> = hashbrown::HashMap<K, V, foldhash::fast::FixedState>;

/// Raw value → its normalised key (`normalize_key`), computed once per distinct raw value.
#[derive(Default)]
struct KeyCache {
    map: FastMap<Box<str>, Box<str>>,
    scratch: String,
}

impl KeyCache {
    fn get(&mut self, raw: &str) -> &str {
        if raw.len() > CACHE_KEY_BYTES || (self.map.len() >= CACHE_CAP && !self.map.contains_key(raw)) {
            normalize_key(raw, &mut self.scratch);
            return &self.scratch;
        }
        let scratch = &mut self.scratch;
        self.map.entry_ref(raw).or_insert_with(|| {
            normalize_key(raw, scratch);
            scratch.as_str().into()
        })
    }
}

/// A reason a row could not become a call.
#[derive(Debug)]
pub(crate) struct RowReject {
    pub code: &'static str,
    pub column: Option<String>,
    pub reason: String,
}

/// When a raw value missing from a value map is counted in the manifest.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Note {
    Never,
    /// Neither a listed value nor a default applied.
    Unmapped,
    /// No listed value matched (even if the default applied).
    NotListed,
}

/// What the call type says about a call (crosswalk, else classifier; see `RowParser::call_type`).
struct TypeInfo {
    category: u32,
    flags: u16,
    third_party_p: Option<f64>,
    source: CategorySource,
    /// Interned classifier rule name, or NONE32.
    rule: u32,
    confidence: Option<f64>,
}

impl TypeInfo {
    fn unmapped() -> Self {
        TypeInfo {
            category: NONE32,
            flags: 0,
            third_party_p: None,
            source: CategorySource::Unmapped,
            rule: NONE32,
            confidence: None,
        }
    }
}

fn flag_bits(flags: &[bool; FLAGS.len()]) -> u16 {
    flags.iter().enumerate().filter(|(_, on)| **on).fold(0, |acc, (k, _)| acc | (1 << k))
}

pub(crate) struct RowParser<'p> {
    profile: &'p Profile,
    pub layout: Layout,
    header: Vec<String>,
    times: TimeParser,
    pub vocab: Interner,
    keys: KeyCache,
    /// Raw call type → category and flags (crosswalk, then classifier), cached per distinct value.
    types: TypeMap<'p>,
    pub unmapped_types: HashMap<String, u64, foldhash::fast::RandomState>,
    pub unmapped_values: BTreeMap<&'static str, HashMap<String, u64>>,
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
    pub fn new(profile: &'p Profile, layout: Layout, header: Vec<String>) -> Self {
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
            keys: KeyCache::default(),
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
            Source::Col(i) => row.raw(*i)?,
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
        } else if m.len() < UNMAPPED_CAP {
            m.insert(value.to_string(), 1);
        }
    }

    /// Look `raw` up in a profile value map: the listed value, else the map's default; counts the
    /// raw value as unmapped per `note`.
    fn map_value<T: Clone>(
        &mut self,
        map: &'p ValueMap<T>,
        raw: &str,
        what: &'static str,
        note: Note,
    ) -> Option<&'p T> {
        let listed = map.lookup(self.keys.get(raw));
        let value = listed.or(map.default.as_ref());
        let counted = match note {
            Note::Never => false,
            Note::Unmapped => value.is_none(),
            Note::NotListed => listed.is_none(),
        };
        if counted {
            self.note_unmapped(what, raw);
        }
        value
    }

    /// `map_value` for text maps, interned; `None` when nothing applied.
    fn map_text(&mut self, map: &'p ValueMap<String>, raw: &str, what: &'static str, note: Note) -> Option<u32> {
        self.map_value(map, raw, what, note).map(|v| self.vocab.intern(v))
    }

    fn time(&self, row: &Row, f: SourceField) -> Result<Option<Instant>, RowReject> {
        let Some(v) = self.field(row, f) else { return Ok(None) };
        match self.times.parse(v) {
            Ok(t) => Ok(t),
            Err(NoFormatMatched) => {
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

    /// Category, flags and third-party likelihood of the call's type (crosswalk, then classifier);
    /// the other type (final when sizing on the initial one) adds a behavioral-health nexus it records.
    fn call_type(&mut self, basis: Option<&str>, other: Option<&str>) -> TypeInfo {
        let Some(t) = basis else { return TypeInfo::unmapped() };
        let m = self.types.map(t);
        let (category, rule, key) = (m.category, m.rule.clone(), m.key.clone());
        let mut info = TypeInfo {
            flags: flag_bits(&m.flags),
            third_party_p: m.third_party_p,
            source: m.source,
            confidence: m.confidence,
            ..TypeInfo::unmapped()
        };
        match category {
            Some(c) => info.category = self.vocab.intern(c),
            None => *self.unmapped_types.entry(key.to_string()).or_default() += 1,
        }
        if let Some(r) = rule {
            info.rule = self.vocab.intern(&r);
        }
        if let Some(o) = other.filter(|o| Some(*o) != basis) {
            if self.types.map(o).flags[Flag::BhNexus as usize] {
                info.flags |= 1 << Flag::BhNexus as usize;
            }
        }
        info
    }

    /// Unmapped types are counted per call: a unit row merged into its incident is taken back out.
    pub fn unmerge_unmapped(&mut self, buf: &CallBuffer, call: &CallRow) {
        let t = buf.str(if call.basis_final { call.final_type } else { call.initial_type });
        if let Some(t) = t {
            let m = self.types.map(t);
            if m.source == CategorySource::Unmapped {
                let key = m.key.clone();
                if let Some(c) = self.unmapped_types.get_mut(&*key) {
                    *c -= 1;
                    if *c == 0 {
                        self.unmapped_types.remove(&*key);
                    }
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
        let profile = self.profile;
        let v = self.field(row, SourceField::UnitType).or_else(|| self.field(row, SourceField::UnitId))?;
        let Some(map) = &profile.responder_type else { return Some(self.police) };
        Some(self.map_text(map, v, "responder_type", Note::Never).unwrap_or(self.other))
    }

    /// The mapped disposition (`NONE32` when unmapped); `None` for a non-call disposition (test,
    /// void): the row is dropped, not rejected.
    fn disposition(&mut self, raw: Option<&str>) -> Option<u32> {
        let profile = self.profile;
        let (Some(d), Some(map)) = (raw, &profile.disposition) else { return Some(NONE32) };
        match self.map_value(map, d, "disposition", Note::Unmapped) {
            Some(v) if profile.drop_dispositions.iter().any(|x| x == v) => None,
            Some(v) => Some(self.vocab.intern(v)),
            None => Some(NONE32),
        }
    }

    fn priority(&mut self, raw: &str) -> Option<i32> {
        let profile = self.profile;
        let map = profile.priority.as_ref();
        let mut priority = map.and_then(|m| m.lookup(self.keys.get(raw)).copied());
        let digits = map.is_none_or(|m| m.match_kind == MatchKind::LeadingDigits);
        if priority.is_none() && digits {
            let end = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
            priority = raw[..end].parse::<i32>().ok().filter(|v| *v >= 1);
        }
        // A `[priority]` table with no values and no leading_digits means "keep the raw value only".
        let keep_raw = map.is_some_and(|m| m.is_empty() && m.match_kind == MatchKind::Exact && m.default.is_none());
        if priority.is_none() && !keep_raw {
            priority = map.and_then(|m| m.default);
            self.note_unmapped("priority", raw);
        }
        priority
    }

    /// (call_source, self_initiated).
    fn source_and_self_initiated(&mut self, row: &Row) -> (u32, bool) {
        let profile = self.profile;
        let mut call_source = self.unknown;
        if let Some(s) = self.field(row, SourceField::CallSource) {
            call_source = self.other;
            if let Some(map) = &profile.call_source {
                if let Some(v) = self.map_text(map, s, "call_source", Note::NotListed) {
                    call_source = v;
                }
            }
        }
        let self_initiated = match (self.field(row, SourceField::SelfInitiated), &profile.self_initiated) {
            (Some(v), Some(map)) => self.map_value(map, v, "self_initiated", Note::NotListed).copied().unwrap_or(false),
            _ => call_source == self.officer_initiated,
        };
        if self_initiated && (call_source == self.unknown || call_source == self.other) {
            call_source = self.officer_initiated;
        }
        (call_source, self_initiated)
    }

    fn caller_party(&mut self, row: &Row) -> u32 {
        let profile = self.profile;
        match (self.field(row, SourceField::CallerParty), &profile.caller_party) {
            (Some(v), Some(map)) => self.map_text(map, v, "caller_party", Note::Unmapped).unwrap_or(self.unknown),
            _ => self.unknown,
        }
    }

    /// The row's call id and time of receipt, both required.
    fn required<'r>(&self, row: &'r Row) -> Result<(&'r str, Instant), RowReject> {
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
        Ok((call_id, received))
    }

    /// Parse one row into a call (not yet merged or buffered); `Ok(None)` for a non-call row.
    pub fn parse(&mut self, row: &Row, buf: &mut CallBuffer) -> Result<Option<CallRow>, RowReject> {
        let (call_id, received) = self.required(row)?;
        let dispatched = self.time(row, SourceField::DispatchedAt)?.map(|t| t.utc_us);
        let arrived = self.time(row, SourceField::ArrivedAt)?.map(|t| t.utc_us);
        let cleared = self.time(row, SourceField::ClearedAt)?.map(|t| t.utc_us);

        // Disposition first: non-call rows (test, void) are dropped before anything is stored.
        let disposition_raw = self.field(row, SourceField::Disposition);
        let Some(disposition) = self.disposition(disposition_raw) else { return Ok(None) };

        let initial = self.field(row, SourceField::InitialType);
        let fin = self.field(row, SourceField::FinalType);
        let (basis, basis_final) = match self.profile.type_basis {
            TypeBasis::Initial => initial.map(|t| (Some(t), false)).unwrap_or((fin, true)),
            TypeBasis::Final => fin.map(|t| (Some(t), true)).unwrap_or((initial, false)),
        };
        let ty = self.call_type(basis, if basis_final { initial } else { fin });
        let priority_raw = self.field(row, SourceField::Priority);
        let priority = priority_raw.and_then(|p| self.priority(p));
        let (call_source, self_initiated) = self.source_and_self_initiated(row);
        let caller_party = self.caller_party(row);
        let responder = self.responder_type(row);
        let has_unit = responder.is_some() || self.layout.get(SourceField::UnitId).is_none();

        Ok(Some(CallRow {
            call_id: buf.push_str(Some(call_id)),
            initial_type: buf.push_str(initial),
            final_type: buf.push_str(fin),
            basis_final,
            category: ty.category,
            type_mapped: ty.source != CategorySource::Unmapped,
            category_source: ty.source,
            category_rule: ty.rule,
            category_confidence: ty.confidence,
            priority_raw: buf.push_str(priority_raw),
            priority,
            call_source,
            self_initiated,
            caller_party,
            third_party_p: ty.third_party_p,
            disposition_raw: buf.push_str(disposition_raw),
            disposition,
            district: buf.push_str(self.field(row, SourceField::District)),
            beat: buf.push_str(self.field(row, SourceField::Beat)),
            address: buf.push_str(self.field(row, SourceField::Address)),
            received_utc: received.utc_us,
            received_local: received.local_us,
            dispatched,
            arrived,
            cleared,
            units: has_unit as i32,
            responder_type: responder.unwrap_or(NONE32),
            community_responder: responder == Some(self.cr),
            busy_minutes: unit_busy(dispatched, cleared),
            flags: ty.flags,
            ym: self.ym(received.local_us),
        }))
    }
}
