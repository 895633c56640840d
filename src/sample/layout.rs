//! `callsift sample --profile NAME`: the generator's calls written in a profile's layout, the
//! inverse of the profile. Its column names make the header; times use its first format (split over
//! two columns where the profile joins a date and a time column); call types are drawn from its
//! crosswalk among the rows of the generated type's category and flags, so the category mix stays
//! realistic; codes are inverted from its value maps; unit rows are written only when it merges
//! them; the generator's malformed rows become bad rows of the layout (unparseable time, empty id,
//! ragged row).
//!
//! The generator's draws are untouched (the same calls as the plain export for a seed). The
//! layout's own choices come from an [`Rng`] seeded per call, so every unit row of a call agrees.
//! Wall-clock times are the generator's (US DST rules), written as the profile zone's local time.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;

use chrono::TimeZone;

use super::call_types::{self, Table, B, I, M, UNK, V, W};
use super::gen::{title_case, Malformed, UnitRow};
use super::time::fmt_time;
use super::{generate, SampleSpec, SampleStats, Sink};
use crate::rng::Rng;
use crate::source::crosswalk::normalize_key;
use crate::source::profile::{ColumnSpec, Profile, SourceField, ValueMap};
use crate::warehouse::schema::FLAGS;

/// The generator's own layout: its raw codes mean what this profile says.
const OWN_PROFILE: &str = "callsift_sample";
/// The format `time::fmt_time` writes (the fast path).
const OWN_TIME_FORMAT: &str = "%m/%d/%Y %I:%M:%S %p";

/// Write `spec.rows` data rows of generated calls in `profile`'s layout (header first).
pub fn write_profile_sample<W: io::Write>(spec: &SampleSpec, profile: &Profile, out: W) -> io::Result<SampleStats> {
    let own = Profile::load(OWN_PROFILE).map_err(io::Error::other)?;
    let table = call_types::table().map_err(io::Error::other)?;
    let layout = Layout::new(profile, &own, table);
    let mut o = ProfileOut::new(out, layout, spec)?;
    generate(spec, &mut o)?;
    o.wtr.flush()?;
    Ok(o.stats)
}

/// Where one canonical field goes in the output record.
struct Slot {
    field: SourceField,
    /// Output columns: one, or the parts of a `concat` (a date and a time column).
    cols: Vec<usize>,
}

/// Everything about the target layout, resolved once.
struct Layout {
    header: Vec<String>,
    slots: Vec<Slot>,
    delimiter: u8,
    merges: bool,
    time_format: String,
    tz: chrono_tz::Tz,
    /// Per generator call type (table order): the profile's raw types standing for it.
    types: Vec<Vec<String>>,
    /// Normalised generator type name → table index.
    type_index: HashMap<String, usize>,
    /// Generator code (call source, disposition) → the profile's code.
    codes: HashMap<&'static str, String>,
    /// Priority level → the profile's codes for it (empty: the generator's digit is written as is).
    priority: HashMap<i32, Vec<String>>,
    /// The profile's codes for self-initiated true / false.
    self_initiated: [String; 2],
    /// Canonical responder type → the profile's unit-type code.
    unit_types: HashMap<String, String>,
    own_responder: Option<ValueMap<String>>,
}

impl Layout {
    fn new(p: &Profile, own: &Profile, table: &Table) -> Layout {
        let mut header: Vec<String> = Vec::new();
        let mut slots = Vec::new();
        for (&field, spec) in &p.columns {
            let names: Vec<&String> = match spec {
                ColumnSpec::Concat(n) => n.iter().collect(),
                // A list is alternatives (first present wins): the first is the layout's own name.
                ColumnSpec::Names(n) | ColumnSpec::Extract(n, _) => n.iter().take(1).collect(),
                // Every coalesced column is in the header; the value goes to the first.
                ColumnSpec::Coalesce(n) => n.iter().collect(),
            };
            let mut cols = Vec::new();
            for n in names {
                let i = header.iter().position(|h| h == n).unwrap_or_else(|| {
                    header.push(n.clone());
                    header.len() - 1
                });
                cols.push(i);
            }
            if matches!(spec, ColumnSpec::Coalesce(_)) {
                cols.truncate(1);
            }
            slots.push(Slot { field, cols });
        }
        let mut type_index = HashMap::new();
        let mut key = String::new();
        for (i, t) in table.types.iter().enumerate() {
            normalize_key(&t.name, &mut key);
            type_index.insert(key.clone(), i);
        }
        Layout {
            header,
            slots,
            delimiter: p.delimiter,
            merges: p.merge_window.is_some(),
            time_format: p.time_formats.first().map(|f| f.source().to_string()).unwrap_or_default(),
            tz: p.tz,
            types: table.types.iter().map(|t| type_candidates(t, p)).collect(),
            type_index,
            codes: text_codes(own, p),
            priority: priority_codes(p.priority.as_ref()),
            self_initiated: [
                shortest_key(p.self_initiated.as_ref(), &true).unwrap_or_else(|| "Y".into()),
                shortest_key(p.self_initiated.as_ref(), &false).unwrap_or_else(|| "N".into()),
            ],
            unit_types: unit_type_codes(own, p),
            own_responder: own.responder_type.clone(),
        }
    }

    /// A raw call type of the profile for the generator's type text (unknown texts stay as they are).
    fn pick_type(&self, generated: &str, rng: &mut Rng) -> String {
        let mut key = String::new();
        normalize_key(generated, &mut key);
        let Some(&i) = self.type_index.get(&key) else { return generated.to_string() };
        let raw = rng.pick(&self.types[i]).clone();
        // Dispatchers' spelling drift, as in the plain export (3 %).
        if !rng.chance(0.03) {
            return raw;
        }
        match rng.below(3) {
            0 => title_case(&raw),
            1 => raw.replacen(' ', "  ", 1),
            _ => format!("{raw} "),
        }
    }

    /// The profile's priority code for the generator's priority text (`"2"`, `" 3"`, `"P9"`).
    fn priority_code(&self, raw: &str, rng: &mut Rng) -> String {
        let level = raw.trim().parse::<i32>().ok();
        match level.and_then(|l| self.priority.get(&l)) {
            Some(codes) => rng.pick(codes).clone(),
            None => raw.to_string(),
        }
    }

    fn unit_type(&self, unit: &str) -> String {
        if unit.is_empty() {
            return String::new();
        }
        let mut key = String::new();
        normalize_key(unit, &mut key);
        let canonical = self.own_responder.as_ref().and_then(|m| m.lookup(&key).or(m.default.as_ref()));
        canonical.map(|c| self.unit_types.get(c).cloned().unwrap_or_else(|| c.clone())).unwrap_or_default()
    }

    /// A local wall-clock second in the profile's first time format.
    fn fmt_wall(&self, s: &mut String, wall: i64) {
        if self.time_format == OWN_TIME_FORMAT {
            return fmt_time(s, wall);
        }
        let Some(naive) = chrono::DateTime::from_timestamp(wall, 0).map(|d| d.naive_utc()) else { return };
        // Through the zone, so formats with an offset (%z) or epoch seconds (%s) come out right;
        // a time in the spring-forward gap is read an hour later, as a clock would show it.
        let local = self
            .tz
            .from_local_datetime(&naive)
            .earliest()
            .or_else(|| self.tz.from_local_datetime(&(naive + chrono::Duration::hours(1))).earliest());
        if let Some(t) = local {
            let _ = write!(s, "{}", t.format(&self.time_format));
        }
    }
}

/// The profile's raw types for one generator type: the same text when the profile's crosswalk has
/// it (or when the generator means it to be unmapped), else the crosswalk rows of its category
/// with the same flags, loosening the match until some rows qualify.
fn type_candidates(t: &call_types::CallType, p: &Profile) -> Vec<String> {
    if t.has(UNK) || p.crosswalk.get(&t.name).is_some() {
        return vec![t.name.clone()];
    }
    let flag = |name: &str| FLAGS.iter().position(|f| *f == name);
    let bits: Vec<(u8, Option<usize>)> =
        [(W, "weapon"), (V, "violence"), (M, "medical"), (I, "in_progress"), (B, "bh_nexus")]
            .iter()
            .map(|&(b, n)| (b, flag(n)))
            .collect();
    let agree = |e: &crate::source::crosswalk::CrosswalkEntry, k: usize| {
        bits[..k].iter().all(|&(b, i)| i.is_none_or(|i| e.flags[i] == t.has(b)))
    };
    let entries = p.crosswalk.entries();
    let tiers: [&dyn Fn(&crate::source::crosswalk::CrosswalkEntry) -> bool; 4] = [
        &|e| e.category == t.category && agree(e, 5),
        &|e| e.category == t.category && agree(e, 3),
        &|e| e.category == t.category,
        &|e| agree(e, 3),
    ];
    for tier in tiers {
        let c: Vec<String> = entries.iter().filter(|e| tier(e)).map(|e| e.raw_type.clone()).collect();
        if !c.is_empty() {
            return c;
        }
    }
    vec![t.name.clone()]
}

/// The shortest (then first in order) key of `m` that maps to `v`: the plainest code for a value.
fn shortest_key<T: PartialEq + Clone>(m: Option<&ValueMap<T>>, v: &T) -> Option<String> {
    m?.entries().filter(|(_, x)| x == &v).map(|(k, _)| k).min_by_key(|k| (k.len(), *k)).map(str::to_string)
}

/// Generator call-source and disposition codes → the profile's: the same code when the profile
/// reads it the same way, else the profile's code for the same canonical value, else unchanged (an
/// unmapped value, as real exports have).
fn text_codes(own: &Profile, p: &Profile) -> HashMap<&'static str, String> {
    let sources = ["911", "TEXT", "PHONE", "ALARM", "ONVIEW"];
    let dispositions = call_types::DISPOSITIONS
        .iter()
        .chain(super::vocab::CR_OUTCOMES.iter())
        .chain(["CANCELLED", "DUPLICATE", "TEST", "VOID", "POLICE ASSIST REQUESTED"].iter());
    let mut out = HashMap::new();
    let pairs = sources
        .iter()
        .map(|s| (*s, &own.call_source, &p.call_source))
        .chain(dispositions.map(|d| (*d, &own.disposition, &p.disposition)));
    let mut key = String::new();
    for (raw, mine, theirs) in pairs {
        normalize_key(raw, &mut key);
        let canonical = mine.as_ref().and_then(|m| m.lookup(&key).or(m.default.as_ref()));
        let code = match (theirs, canonical) {
            (Some(t), Some(c)) if t.lookup(&key) != Some(c) => shortest_key(Some(t), c).unwrap_or_else(|| raw.into()),
            _ => raw.to_string(),
        };
        out.insert(raw, code);
    }
    out
}

/// Priority level → every code of the profile for it (none listed: the digit is the code).
fn priority_codes(m: Option<&ValueMap<i32>>) -> HashMap<i32, Vec<String>> {
    let mut out: HashMap<i32, Vec<String>> = HashMap::new();
    for (k, v) in m.into_iter().flat_map(|m| m.entries()) {
        out.entry(*v).or_default().push(k.to_string());
    }
    // Sorted: the map iterates in hash order, and the output must not depend on it.
    out.values_mut().for_each(|v| v.sort());
    out
}

fn unit_type_codes(own: &Profile, p: &Profile) -> HashMap<String, String> {
    let values = own.responder_type.iter().flat_map(|m| m.values().chain(m.default.as_ref()));
    values.filter_map(|v| Some((v.clone(), shortest_key(p.responder_type.as_ref(), v)?))).collect()
}

/// Per-call seed: FNV-1a of the incident number, mixed with the receipt time.
fn call_seed(seed: u64, incident: &str, received: i64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in incident.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (received as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed.rotate_left(17)
}

struct ProfileOut<W: io::Write> {
    wtr: csv::Writer<W>,
    lay: Layout,
    rec: Vec<String>,
    stats: SampleStats,
    target: usize,
    seed: u64,
}

impl<W: io::Write> ProfileOut<W> {
    fn new(out: W, lay: Layout, spec: &SampleSpec) -> io::Result<Self> {
        let mut wtr = csv::WriterBuilder::new().flexible(true).delimiter(lay.delimiter).from_writer(out);
        wtr.write_record(&lay.header)?;
        let rec = vec![String::new(); lay.header.len()];
        Ok(ProfileOut { wtr, lay, rec, stats: SampleStats::default(), target: spec.rows, seed: spec.seed })
    }

    /// Fill `self.rec` with one unit row in the layout.
    fn fill(&mut self, row: &UnitRow) {
        let c = &*row.call;
        let lay = &self.lay;
        let mut rng = Rng::new(call_seed(self.seed, &c.incident, c.received));
        // Drawn in a fixed order, before any field, so every unit row of the call agrees.
        let initial = lay.pick_type(&c.initial, &mut rng);
        let final_ = if c.final_ == c.initial { initial.clone() } else { lay.pick_type(&c.final_, &mut rng) };
        let priority = lay.priority_code(&c.priority, &mut rng);
        for s in self.rec.iter_mut() {
            s.clear();
        }
        let mut v = String::new();
        for slot in &lay.slots {
            v.clear();
            let time = match slot.field {
                SourceField::ReceivedAt => Some(c.received),
                SourceField::DispatchedAt => row.dispatched,
                SourceField::ArrivedAt => row.on_scene,
                SourceField::ClearedAt => Some(row.cleared),
                _ => None,
            };
            match slot.field {
                SourceField::ReceivedAt if matches!(c.malformed, Some(Malformed::BadDate)) => {
                    v.push_str("13/45/2024 27:61:00 PM")
                }
                SourceField::ReceivedAt if matches!(c.malformed, Some(Malformed::NotADate)) => v.push_str("NOT A DATE"),
                _ if time.is_some() => lay.fmt_wall(&mut v, time.unwrap_or_default()),
                SourceField::CallId if matches!(c.malformed, Some(Malformed::EmptyIncident)) => {}
                SourceField::CallId => v.push_str(&c.incident),
                SourceField::InitialType => v.push_str(&initial),
                SourceField::FinalType => v.push_str(&final_),
                SourceField::Priority => v.push_str(&priority),
                SourceField::CallSource => v.push_str(lay.codes.get(c.source).map_or(c.source, |s| s.as_str())),
                SourceField::Disposition => {
                    v.push_str(lay.codes.get(c.disposition).map_or(c.disposition, |s| s.as_str()))
                }
                SourceField::SelfInitiated => v.push_str(&lay.self_initiated[usize::from(!row.onview)]),
                SourceField::District => {
                    let _ = write!(v, "D{}", c.district);
                }
                SourceField::Beat => v.push_str(&c.beat),
                SourceField::Address => v.push_str(&c.address),
                SourceField::UnitId => v.push_str(&row.unit),
                SourceField::UnitType => v.push_str(&lay.unit_type(&row.unit)),
                // Nothing generated: most exports do not record the caller.
                _ => {}
            }
            // A concat's parts: `MM/DD/YYYY` + `hh:mm:ss AM` (the last part takes the rest).
            let mut parts = v.splitn(slot.cols.len(), ' ');
            for &i in &slot.cols {
                self.rec[i].push_str(parts.next().unwrap_or(""));
            }
        }
    }
}

impl<W: io::Write> Sink for ProfileOut<W> {
    fn write(&mut self, row: &UnitRow) -> io::Result<()> {
        if self.done() || (!row.first && !self.lay.merges) {
            return Ok(());
        }
        self.fill(row);
        self.stats.rows += 1;
        let bad = !matches!(row.call.malformed, None | Some(Malformed::BadPriority));
        if bad {
            self.stats.malformed += 1;
        } else if row.first {
            self.stats.incidents += 1;
            self.stats.officer_initiated += row.onview as usize;
            self.stats.community_responder_incidents += row.cr as usize;
        } else {
            self.stats.unit_rows += 1;
        }
        // Ragged rows: a field dropped mid-row, or one too many.
        let mid = self.rec.len() / 2;
        match row.call.malformed {
            Some(Malformed::MissingField) if self.rec.len() > 1 => {
                let short: Vec<&String> =
                    self.rec.iter().enumerate().filter(|(i, _)| *i != mid).map(|(_, s)| s).collect();
                self.wtr.write_record(short)
            }
            Some(Malformed::ExtraField) => {
                let extra = String::new();
                let long = self.rec.iter().take(mid).chain([&extra]).chain(self.rec.iter().skip(mid));
                self.wtr.write_record(long)
            }
            _ => self.wtr.write_record(&self.rec),
        }
        .map_err(io::Error::other)
    }

    fn done(&self) -> bool {
        self.stats.rows >= self.target
    }

    fn rows_of(&self, unit_rows: usize) -> usize {
        if self.lay.merges {
            unit_rows
        } else {
            unit_rows.min(1)
        }
    }

    fn prior_rows_per_incident(&self) -> f64 {
        if self.lay.merges {
            1.36
        } else {
            1.0
        }
    }
}
