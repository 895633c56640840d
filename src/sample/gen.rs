//! The generator: one incident at a time, as its unit rows.
//!
//! Every draw comes from one [`Rng`] in a fixed order; reordering any two draws changes the output.

use std::rc::Rc;

use chrono::{Datelike, Months};

use super::call_types::{CallType, Disp, Table, B, DISPOSITIONS, I, M, P, UNK, V, W};
use super::time::{civil_from_days, days_from_epoch, Dst, DAY, HOUR};
use super::vocab::*;
use super::SampleSpec;
use crate::rng::Rng;

/// A deliberately broken row (always the single row of its incident).
#[derive(Clone, Copy)]
pub(super) enum Malformed {
    BadDate,
    NotADate,
    MissingField,
    ExtraField,
    EmptyIncident,
    BadPriority,
}

/// What every unit row of an incident shares.
pub(super) struct Call {
    pub incident: String,
    pub received: i64,
    pub source: &'static str,
    pub initial: String,
    pub final_: String,
    pub priority: String,
    pub disposition: &'static str,
    pub district: u8,
    pub beat: String,
    pub address: String,
    pub narrative: String,
    pub malformed: Option<Malformed>,
}

/// One output row: a unit's times on a call (wall clock seconds).
pub(super) struct UnitRow {
    pub call: Rc<Call>,
    pub unit: String,
    pub dispatched: Option<i64>,
    pub on_scene: Option<i64>,
    pub cleared: i64,
    pub cr: bool,
    pub onview: bool,
    pub first: bool,
}

/// A repeat location (shelter, transit station, supportive housing...).
struct HotSpot {
    district: u8,
    beat: String,
    address: String,
}

/// Precomputed cumulative table for a fixed weighted choice.
pub(super) struct Cdf(Vec<f64>);

impl Cdf {
    fn new(w: impl IntoIterator<Item = f64>) -> Cdf {
        let mut acc = 0.0;
        let mut v: Vec<f64> = w
            .into_iter()
            .map(|x| {
                acc += x;
                acc
            })
            .collect();
        for x in v.iter_mut() {
            *x /= acc;
        }
        Cdf(v)
    }
    pub fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.f64();
        self.0.partition_point(|&c| c <= u).min(self.0.len() - 1)
    }
}

/// How an incident is staffed, decided before its units are drawn.
struct Staffing {
    /// Cancelled before dispatch: one row without a unit.
    cancelled: bool,
    /// A community responder takes it (first unit).
    cr: bool,
    /// The responder asked for police backup (second unit).
    cr_backup: bool,
    n_units: usize,
}

/// What the unit rows of an incident depend on.
struct Dispatch<'t> {
    ty: &'t CallType,
    /// Initial or final type is medical: later units are ambulances/engines.
    medical: bool,
    onview: bool,
    pri: u32,
    staff: Staffing,
    /// Disposition that keeps the first unit on scene longer.
    long_scene: bool,
}

pub(super) struct Gen {
    pub rng: Rng,
    table: &'static Table,
    dst: Dst,
    public_cdf: Cdf,
    onview_cdf: Cdf,
    pub hour_cdf: Cdf,
    district_cdf: Cdf,
    hot: Vec<HotSpot>,
    /// Wall second at which the CR program starts (launch day 09:00).
    cr_launch: i64,
    year: i64,
    seq: u32,
}

pub(super) fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for ch in s.chars() {
        if ch.is_ascii_alphabetic() {
            out.push(if start { ch } else { ch.to_ascii_lowercase() });
            start = false;
        } else {
            out.push(ch);
            start = ch == ' ' || ch == '-' || ch == '/';
        }
    }
    out
}

fn beat_string(district: u8, letter: u8) -> String {
    let mut s = String::with_capacity(2);
    s.push((b'0' + district) as char);
    s.push((b'A' + letter) as char);
    s
}

impl Gen {
    pub fn new(spec: &SampleSpec, end_year: i32, table: &'static Table) -> Gen {
        let mut rng = Rng::new(spec.seed);
        let types = &table.types;
        let public_cdf = Cdf::new(types.iter().map(|t| if t.unmapped() { 0.0 } else { t.w_public }));
        let onview_cdf = Cdf::new(types.iter().map(|t| if t.unmapped() { 0.0 } else { t.w_onview }));
        let district_cdf = Cdf::new(DISTRICT_W);
        let hot = (0..28)
            .map(|_| {
                let district = district_cdf.sample(&mut rng) as u8 + 1;
                let beat = beat_string(district, rng.below(4) as u8);
                let street = STREETS[(district as usize - 1) * 10 + rng.below(10)];
                let address = format!("{}XX BLOCK OF {}", rng.range(1, 60), street);
                HotSpot { district, beat, address }
            })
            .collect();
        let launch_month = spec.start.with_day(1).expect("day 1") + Months::new(5);
        let cr_launch = days_from_epoch(launch_month) * DAY + 9 * HOUR;
        Gen {
            rng,
            table,
            dst: Dst::new(spec.start.year() - 1, end_year + 2),
            public_cdf,
            onview_cdf,
            hour_cdf: Cdf::new(HOUR_W),
            district_cdf,
            hot,
            cr_launch,
            year: i64::MIN,
            seq: 0,
        }
    }

    /// The type text as a dispatcher might have typed it (3 %: case or spacing variants).
    fn variant(&mut self, name: &str) -> String {
        if !self.rng.chance(0.03) {
            return name.to_string();
        }
        match self.rng.below(4) {
            0 => title_case(name),
            1 => name.replacen(' ', "  ", 1),
            2 => format!("{name} "),
            _ => title_case(name).replacen(' ', "  ", 1),
        }
    }

    /// Fill a narrative template's {S}, {V} and {D} placeholders.
    fn fill(&mut self, template: &str) -> String {
        if !template.contains('{') {
            return template.to_string();
        }
        let mut out = String::with_capacity(template.len() + 24);
        let mut rest = template;
        while let Some(pos) = rest.find('{') {
            out.push_str(&rest[..pos]);
            let key = rest.as_bytes().get(pos + 1).copied().unwrap_or(b'?');
            let value = match key {
                b'S' => *self.rng.pick(&SUBJECTS),
                b'V' => *self.rng.pick(&VEHICLES),
                _ => *self.rng.pick(&DIRECTIONS),
            };
            out.push_str(value);
            rest = &rest[(pos + 3).min(rest.len())..];
        }
        out.push_str(rest);
        out
    }

    fn police_unit(&mut self, district: u8, hour: u32) -> String {
        let shift = match hour {
            7..=14 => 1,
            15..=22 => 2,
            _ => 3,
        };
        let d = if self.rng.chance(0.15) { self.district_cdf.sample(&mut self.rng) as u8 + 1 } else { district };
        format!("{}{}{}{}", d, (b'A' + self.rng.below(4) as u8) as char, shift, self.rng.range(1, 9))
    }

    fn next_incident_number(&mut self, wall: i64) -> String {
        let (y, _, _) = civil_from_days(wall.div_euclid(DAY));
        if y != self.year {
            self.year = y;
            self.seq = 0;
        }
        self.seq += 1;
        format!("{:02}-{:07}", y.rem_euclid(100), self.seq)
    }

    fn in_cr_service(&self, district: u8, wall: i64) -> bool {
        let hour = wall.rem_euclid(DAY) / HOUR;
        CR_DISTRICTS.contains(&district) && wall >= self.cr_launch && !(1..9).contains(&hour)
    }

    /// Build one incident and its unit rows (first row first, later units in dispatch order).
    pub fn incident(&mut self, received: i64, p_malformed: f64) -> Vec<UnitRow> {
        let table = self.table;
        let onview = self.rng.chance(0.40);
        let ti = self.draw_type(onview);
        let ty = &table.types[ti];
        let (district, beat, address) = self.location(ty);
        let pri = self.rng.weighted(&ty.pri) as u32 + 1;
        let source = self.call_source(ty, onview);
        let fi = if onview { ti } else { self.reclassify(ti) };
        let narrative = self.narrative(ty);
        let staff = self.staffing(ty, onview, pri, district, received);
        let disposition = self.disposition(ty, onview, &staff);
        let malformed = self.malformed(staff.n_units, p_malformed);
        let mut priority = pri.to_string();
        if self.rng.chance(0.03) {
            priority.insert(0, ' ');
        }
        let initial = self.variant(&ty.name);
        let final_ = self.variant(&table.types[fi].name);
        let call = Rc::new(Call {
            incident: self.next_incident_number(received),
            received,
            source,
            initial,
            final_,
            priority,
            disposition,
            district,
            beat,
            address,
            narrative,
            malformed,
        });
        let d = Dispatch {
            ty,
            medical: ty.has(M) || table.types[fi].has(M),
            onview,
            pri,
            staff,
            long_scene: matches!(disposition, "ARREST" | "REPORT WRITTEN" | "TRANSPORTED TO SERVICES"),
        };
        self.unit_rows(call, &d)
    }

    /// The initial type: by public or officer-initiated weight, or (0.7 %) one the crosswalk lacks.
    fn draw_type(&mut self, onview: bool) -> usize {
        let ti = if onview { self.onview_cdf.sample(&mut self.rng) } else { self.public_cdf.sample(&mut self.rng) };
        if self.rng.chance(0.007) {
            let unknown = &self.table.unknown;
            return unknown[self.rng.below(unknown.len())];
        }
        ti
    }

    /// District, beat and block address: behavioral-health and police types favour repeat locations.
    fn location(&mut self, ty: &CallType) -> (u8, String, String) {
        let hot_p = if ty.has(B | P) && ty.name != "ASSIST CITIZEN" { 0.30 } else { 0.03 };
        if self.rng.chance(hot_p) {
            let i = (self.rng.f64().powf(1.5) * self.hot.len() as f64) as usize;
            let h = &self.hot[i];
            (h.district, h.beat.clone(), h.address.clone())
        } else {
            let district = self.district_cdf.sample(&mut self.rng) as u8 + 1;
            let beat = beat_string(district, self.rng.below(4) as u8);
            let street = STREETS[(district as usize - 1) * 10 + self.rng.below(10)];
            (district, beat, format!("{}XX BLOCK OF {}", self.rng.range(1, 99), street))
        }
    }

    fn call_source(&mut self, ty: &CallType, onview: bool) -> &'static str {
        if onview {
            "ONVIEW"
        } else if ty.disp == Disp::Alarm {
            if self.rng.chance(0.88) {
                "ALARM"
            } else {
                "PHONE"
            }
        } else if self.rng.chance(0.01) {
            "TEXT"
        } else if self.rng.chance(ty.phone as f64 / 100.0) {
            "PHONE"
        } else {
            "911"
        }
    }

    /// The final type of a public call: the initial one, or a reclassification.
    fn reclassify(&mut self, ti: usize) -> usize {
        let u = self.rng.f64();
        match self.table.reclass[ti].iter().find(|&&(_, acc)| u < acc) {
            Some(&(to, _)) => to,
            None => ti,
        }
    }

    fn narrative(&mut self, ty: &CallType) -> String {
        let template = self.rng.pick(&ty.narr).as_str();
        let mut narrative = self.fill(template);
        if self.rng.chance(0.003) {
            let tail = *self.rng.pick(&NEWLINE_TAILS);
            let tail = self.fill(tail);
            narrative.push_str(&tail);
        }
        narrative
    }

    /// Cancelled, taken by a community responder (in its districts and hours, for eligible types),
    /// or sent 1-3 police/medical units.
    fn staffing(&mut self, ty: &CallType, onview: bool, pri: u32, district: u8, received: i64) -> Staffing {
        let cancelled = !onview && self.rng.chance(0.08);
        let cr_eligible = !onview
            && !cancelled
            && ty.has(B | P)
            && !ty.has(W | V | M | I | UNK)
            && pri > 1
            && self.in_cr_service(district, received);
        let cr = cr_eligible && self.rng.chance(0.45);
        let cr_backup = cr && self.rng.chance(0.05);
        let n_units = if cancelled {
            0
        } else if cr {
            1 + cr_backup as usize
        } else if self.rng.chance((ty.multi as f64 / 100.0 * 1.25).min(1.0)) {
            if self.rng.chance(if ty.has(W) { 0.6 } else { 0.3 }) {
                3
            } else {
                2
            }
        } else {
            1
        };
        Staffing { cancelled, cr, cr_backup, n_units }
    }

    fn disposition(&mut self, ty: &CallType, onview: bool, staff: &Staffing) -> &'static str {
        if staff.cancelled {
            if self.rng.chance(0.3) {
                "DUPLICATE"
            } else {
                "CANCELLED"
            }
        } else if staff.cr_backup {
            "POLICE ASSIST REQUESTED"
        } else if staff.cr {
            CR_OUTCOMES[self.rng.weighted(&CR_OUTCOME_W)]
        } else if !onview && self.rng.chance(0.012) {
            "DUPLICATE"
        } else if self.rng.chance(0.002) {
            if self.rng.chance(0.5) {
                "TEST"
            } else {
                "VOID"
            }
        } else {
            DISPOSITIONS[self.rng.weighted(&ty.disp.weights())]
        }
    }

    /// Only single-row incidents are broken, so a broken row never orphans other rows.
    fn malformed(&mut self, n_units: usize, p_malformed: f64) -> Option<Malformed> {
        if n_units > 1 || !self.rng.chance(p_malformed) {
            return None;
        }
        Some(match self.rng.weighted(&[20, 15, 20, 15, 15, 15]) {
            0 => Malformed::BadDate,
            1 => Malformed::NotADate,
            2 => Malformed::MissingField,
            3 => Malformed::ExtraField,
            4 => Malformed::EmptyIncident,
            _ => Malformed::BadPriority,
        })
    }

    /// The incident's rows: one per unit, or a single unit-less row if it was cancelled.
    fn unit_rows(&mut self, call: Rc<Call>, d: &Dispatch) -> Vec<UnitRow> {
        let abs0 = self.dst.to_abs(call.received);
        let n_units = d.staff.n_units;
        let mut rows = Vec::with_capacity(n_units.max(1));
        if n_units == 0 {
            let cleared = abs0 + self.rng.lognormal(600.0, 0.8, 30.0, 4.0 * 3600.0);
            let cleared = self.dst.to_wall(cleared);
            let onview = d.onview;
            rows.push(UnitRow {
                call,
                unit: String::new(),
                dispatched: None,
                on_scene: None,
                cleared,
                cr: false,
                onview,
                first: true,
            });
            return rows;
        }
        let hour = (call.received.rem_euclid(DAY) / HOUR) as u32;
        let mut first_dispatch = abs0;
        for k in 0..n_units {
            let unit = self.unit_id(k, d, call.district, hour);
            let (dispatched, on_scene) = self.unit_times(k, d, abs0, first_dispatch);
            if k == 0 {
                first_dispatch = dispatched;
            }
            let cleared = self.unit_cleared(k, d, dispatched, on_scene);
            rows.push(UnitRow {
                call: call.clone(),
                unit,
                dispatched: Some(self.dst.to_wall(dispatched)),
                on_scene: on_scene.map(|a| self.dst.to_wall(a)),
                cleared: self.dst.to_wall(cleared),
                cr: d.staff.cr && k == 0,
                onview: d.onview,
                first: k == 0,
            });
        }
        rows
    }

    /// The k-th unit's id: responder, ambulance/engine, or a police unit of (usually) the district.
    fn unit_id(&mut self, k: usize, d: &Dispatch, district: u8, hour: u32) -> String {
        if d.staff.cr && k == 0 {
            format!("CR{}", self.rng.range(1, 4))
        } else if d.medical && k > 0 {
            if k == 1 || self.rng.chance(0.5) {
                format!("M{}", self.rng.range(1, 30))
            } else {
                format!("E{}", self.rng.range(1, 30))
            }
        } else if k == 2 && d.ty.disp == Disp::Accident && self.rng.chance(0.3) {
            format!("E{}", self.rng.range(1, 30))
        } else {
            self.police_unit(district, hour)
        }
    }

    /// The k-th unit's dispatch and arrival (UTC); 12 % of dispatched public-call units never log arrival.
    fn unit_times(&mut self, k: usize, d: &Dispatch, abs0: i64, first_dispatch: i64) -> (i64, Option<i64>) {
        if d.onview {
            return if k == 0 {
                (abs0, Some(abs0 + self.rng.range(0, 30)))
            } else {
                let t = abs0 + self.rng.lognormal(120.0, 0.8, 10.0, 3600.0);
                (t, Some(t + self.rng.lognormal(300.0, 0.5, 60.0, 1800.0)))
            };
        }
        let median_delay = [60.0, 300.0, 900.0, 1800.0][d.pri as usize - 1];
        let t = if k == 0 {
            abs0 + self.rng.lognormal(median_delay, if d.pri == 1 { 0.8 } else { 1.0 }, 5.0, 12.0 * 3600.0)
        } else if d.staff.cr_backup {
            first_dispatch + self.rng.lognormal(1200.0, 0.6, 120.0, 3.0 * 3600.0)
        } else {
            first_dispatch + self.rng.lognormal(120.0, 0.8, 5.0, 3600.0)
        };
        let travel_median = if d.staff.cr && k == 0 { 600.0 } else { 420.0 };
        let arrive =
            if self.rng.chance(0.12) { None } else { Some(t + self.rng.lognormal(travel_median, 0.35, 150.0, 1800.0)) };
        (t, arrive)
    }

    /// When the k-th unit clears (UTC): after its time on scene, or soon after dispatch if it never arrived.
    fn unit_cleared(&mut self, k: usize, d: &Dispatch, dispatched: i64, on_scene: Option<i64>) -> i64 {
        let scene_median = if d.staff.cr && k == 0 {
            2400.0
        } else if d.ty.disp == Disp::Stop {
            900.0
        } else {
            1500.0
        } * if d.long_scene && k == 0 { 1.8 } else { 1.0 };
        match on_scene {
            Some(a) => a + self.rng.lognormal(scene_median, 0.5, 120.0, 8.0 * 3600.0),
            None => dispatched + self.rng.lognormal(400.0, 0.6, 60.0, 3600.0),
        }
    }
}
