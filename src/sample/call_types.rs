//! The call-type table: `call_types.csv`, built into the binary and parsed once.
//!
//! A parse failure is a broken build, not a user error: it is reported as [`Error::Asset`] naming
//! the line and column, never a panic. The table's row order is part of the generator's output.

use std::sync::OnceLock;

use crate::error::{Error, Result};

const FILE: &str = "src/sample/call_types.csv";
static CSV: &str = include_str!("call_types.csv");

// Flags: weapon, violence, medical, in progress, BH nexus, conflict, police type a community
// responder could take; UNK = deliberately absent from the crosswalk.
pub(super) const W: u8 = 1;
pub(super) const V: u8 = 2;
pub(super) const M: u8 = 4;
pub(super) const I: u8 = 8;
pub(super) const B: u8 = 16;
pub(super) const C: u8 = 32;
pub(super) const P: u8 = 64;
pub(super) const UNK: u8 = 128;

/// The CSV's columns, in order. The flag columns carry the crosswalk's names.
const COLUMNS: [&str; 21] = [
    "name",
    "category",
    "weapon",
    "violence",
    "medical",
    "in_progress",
    "bh_nexus",
    "conflict",
    "police_type",
    "unmapped",
    "third_party_likelihood",
    "pri1",
    "pri2",
    "pri3",
    "pri4",
    "w_public",
    "w_onview",
    "disposition",
    "multi_pct",
    "phone_pct",
    "narratives",
];
/// (column, bit) of the flag columns.
const FLAG_COLUMNS: [(usize, u8); 8] = [(2, W), (3, V), (4, M), (5, I), (6, B), (7, C), (8, P), (9, UNK)];

/// Disposition mix of a call type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Disp {
    Crime,
    Violent,
    Weapon,
    Disorder,
    Service,
    Alarm,
    Hangup,
    Dv,
    Stop,
    Onview,
    Drugs,
    Parking,
    Medical,
    Accident,
}

impl Disp {
    const ALL: [(&'static str, Disp); 14] = [
        ("crime", Disp::Crime),
        ("violent", Disp::Violent),
        ("weapon", Disp::Weapon),
        ("disorder", Disp::Disorder),
        ("service", Disp::Service),
        ("alarm", Disp::Alarm),
        ("hangup", Disp::Hangup),
        ("dv", Disp::Dv),
        ("stop", Disp::Stop),
        ("onview", Disp::Onview),
        ("drugs", Disp::Drugs),
        ("parking", Disp::Parking),
        ("medical", Disp::Medical),
        ("accident", Disp::Accident),
    ];

    /// Weights of [`DISPOSITIONS`].
    pub(super) fn weights(self) -> [u32; 7] {
        match self {
            Disp::Crime => [60, 5, 1, 6, 10, 10, 8],
            Disp::Violent => [40, 22, 2, 4, 8, 14, 10],
            Disp::Weapon => [35, 18, 1, 2, 6, 20, 18],
            Disp::Disorder => [6, 4, 6, 12, 40, 22, 10],
            Disp::Service => [12, 1, 1, 50, 25, 6, 5],
            Disp::Alarm => [4, 1, 0, 5, 15, 10, 65],
            Disp::Hangup => [2, 0, 0, 15, 40, 8, 35],
            Disp::Dv => [50, 28, 1, 5, 12, 4, 0],
            Disp::Stop => [8, 4, 48, 2, 38, 0, 0],
            Disp::Onview => [18, 14, 8, 20, 38, 1, 1],
            Disp::Drugs => [30, 35, 10, 0, 20, 5, 0],
            Disp::Parking => [2, 0, 55, 3, 20, 20, 0],
            Disp::Medical => [15, 0, 0, 75, 5, 3, 2],
            Disp::Accident => [60, 2, 15, 15, 8, 0, 0],
        }
    }
}

pub(super) const DISPOSITIONS: [&str; 7] =
    ["REPORT WRITTEN", "ARREST", "CITATION", "ASSISTANCE RENDERED", "ADVISED", "GONE ON ARRIVAL", "UNFOUNDED"];

/// One row of `call_types.csv`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CallType {
    pub name: String,
    /// Crosswalk category (tests write the crosswalk file from this table).
    #[cfg_attr(not(test), allow(dead_code))]
    pub category: String,
    pub flags: u8,
    /// Third-party caller likelihood as written to the crosswalk ("" = irrelevant).
    #[cfg_attr(not(test), allow(dead_code))]
    pub third: String,
    /// Weights of priority 1..4.
    pub pri: [u32; 4],
    /// Relative share of public (non-ONVIEW) incidents, per mille-ish.
    pub w_public: f64,
    /// Relative share of ONVIEW incidents.
    pub w_onview: f64,
    pub disp: Disp,
    /// Chance (percent) that a dispatched incident gets 2-3 units.
    pub multi: u8,
    /// Chance (percent) that a public call came on the non-emergency line.
    pub phone: u8,
    /// Narrative templates ({S} subject, {V} vehicle, {D} direction).
    pub narr: Vec<String>,
}

impl CallType {
    pub fn has(&self, flags: u8) -> bool {
        self.flags & flags != 0
    }
    pub fn unmapped(&self) -> bool {
        self.has(UNK)
    }
}

/// (from, to, probability) initial -> final reclassification of public calls.
static RECLASS: &[(&str, &str, f64)] = &[
    ("DISTURBANCE", "DISTURBANCE - PHYSICAL", 0.10),
    ("DISTURBANCE", "NEIGHBOR DISPUTE", 0.06),
    ("DISTURBANCE", "NOISE COMPLAINT", 0.04),
    ("DISTURBANCE", "PERSON IN CRISIS", 0.05),
    ("DISTURBANCE", "DOMESTIC DISTURBANCE", 0.03),
    ("WELFARE CHECK", "PERSON IN CRISIS", 0.10),
    ("WELFARE CHECK", "MEDICAL EMERGENCY", 0.04),
    ("WELFARE CHECK", "ASSIST CITIZEN", 0.06),
    ("WELFARE CHECK", "INTOXICATED PERSON", 0.03),
    ("SUSPICIOUS PERSON", "TRESPASS", 0.10),
    ("SUSPICIOUS PERSON", "HOMELESS PERSON", 0.05),
    ("SUSPICIOUS PERSON", "PERSON IN CRISIS", 0.03),
    ("SUSPICIOUS VEHICLE", "AUTO THEFT", 0.04),
    ("911 HANG UP", "WELFARE CHECK", 0.08),
    ("911 HANG UP", "DOMESTIC DISTURBANCE", 0.04),
    ("911 HANG UP", "ASSIST CITIZEN", 0.05),
    ("PERSON IN CRISIS", "SUICIDAL PERSON", 0.10),
    ("PERSON IN CRISIS", "MENTAL HEALTH - VIOLENT", 0.04),
    ("PERSON IN CRISIS", "WELFARE CHECK", 0.04),
    ("SUICIDAL PERSON", "SUICIDE THREAT - WEAPON", 0.06),
    ("TRESPASS", "UNWANTED PERSON", 0.08),
    ("UNWANTED PERSON", "TRESPASS", 0.10),
    ("NOISE COMPLAINT", "DISTURBANCE", 0.06),
    ("NEIGHBOR DISPUTE", "DISTURBANCE", 0.08),
    ("INTOXICATED PERSON", "MEDICAL EMERGENCY", 0.06),
    ("INTOXICATED PERSON", "OVERDOSE", 0.04),
    ("ALARM - BURGLAR", "BURGLARY - RESIDENTIAL", 0.03),
    ("ASSAULT", "DOMESTIC VIOLENCE", 0.08),
    ("ASSAULT", "ASSAULT WITH WEAPON", 0.06),
    ("THEFT", "FRAUD", 0.05),
    ("THEFT", "BURGLARY - RESIDENTIAL", 0.05),
    ("DOMESTIC DISTURBANCE", "DOMESTIC VIOLENCE", 0.20),
    ("FIGHT IN PROGRESS", "ASSAULT", 0.20),
    ("MAN WITH A GUN", "DISTURBANCE", 0.15),
    ("SHOTS FIRED", "ASSAULT WITH WEAPON", 0.08),
    ("MEDICAL EMERGENCY", "OVERDOSE", 0.05),
    ("BURGLARY IN PROGRESS", "BURGLARY - RESIDENTIAL", 0.20),
    ("MISSING PERSON", "WELFARE CHECK", 0.08),
    ("TRAFFIC ACCIDENT - NO INJURY", "TRAFFIC ACCIDENT - INJURY", 0.06),
    ("HOMELESS PERSON", "PERSON IN CRISIS", 0.06),
];

/// The parsed table with everything the generator derives from it.
#[derive(Debug)]
pub(super) struct Table {
    pub types: Vec<CallType>,
    /// Indices of the unmapped types.
    pub unknown: Vec<usize>,
    /// Per type: list of (target type, cumulative probability) for reclassification.
    pub reclass: Vec<Vec<(usize, f64)>>,
}

/// The built-in table, parsed on first use.
pub(super) fn table() -> Result<&'static Table> {
    static TABLE: OnceLock<Result<Table, String>> = OnceLock::new();
    TABLE.get_or_init(|| Table::parse(CSV)).as_ref().map_err(|e| Error::Asset(e.clone()))
}

/// One data row being read, for error messages that name line and column.
struct Row<'a> {
    rec: &'a csv::StringRecord,
    line: u64,
}

impl Row<'_> {
    fn err(&self, col: usize, message: impl std::fmt::Display) -> String {
        format!("{FILE} is malformed: line {}, column {} ({}): {message}", self.line, col + 1, COLUMNS[col])
    }
    fn get(&self, col: usize) -> &str {
        self.rec.get(col).unwrap_or("")
    }
    fn num<T: std::str::FromStr>(&self, col: usize) -> Result<T, String> {
        let v = self.get(col);
        v.parse().map_err(|_| self.err(col, format!("expected a number, found `{v}`")))
    }
    fn weight(&self, col: usize) -> Result<f64, String> {
        let w: f64 = self.num(col)?;
        if w.is_finite() && w >= 0.0 {
            Ok(w)
        } else {
            Err(self.err(col, format!("expected a weight >= 0, found `{w}`")))
        }
    }
    fn percent(&self, col: usize) -> Result<u8, String> {
        let p: u8 = self.num(col)?;
        if p <= 100 {
            Ok(p)
        } else {
            Err(self.err(col, format!("expected a percentage 0..100, found `{p}`")))
        }
    }
    fn flags(&self) -> Result<u8, String> {
        let mut flags = 0;
        for (col, bit) in FLAG_COLUMNS {
            match self.get(col) {
                "" => {}
                "1" => flags |= bit,
                v => return Err(self.err(col, format!("expected 1 or empty, found `{v}`"))),
            }
        }
        Ok(flags)
    }

    fn call_type(&self) -> Result<CallType, String> {
        if self.rec.len() != COLUMNS.len() {
            return Err(format!(
                "{FILE} is malformed: line {}: {} fields, expected {}",
                self.line,
                self.rec.len(),
                COLUMNS.len()
            ));
        }
        let name = self.get(0);
        if name.is_empty() || name != name.trim() {
            return Err(self.err(0, format!("empty or padded name `{name}`")));
        }
        let pri = [self.num(11)?, self.num(12)?, self.num(13)?, self.num(14)?];
        if pri.iter().sum::<u32>() == 0 {
            return Err(self.err(11, "priority weights are all zero"));
        }
        let disp = self.get(17);
        let disp = Disp::ALL.iter().find(|(n, _)| *n == disp).map(|&(_, d)| d).ok_or_else(|| {
            let known: Vec<&str> = Disp::ALL.iter().map(|(n, _)| *n).collect();
            self.err(17, format!("unknown disposition mix `{disp}`; expected one of {}", known.join(", ")))
        })?;
        Ok(CallType {
            name: name.to_string(),
            category: self.get(1).to_string(),
            flags: self.flags()?,
            third: self.get(10).to_string(),
            pri,
            w_public: self.weight(15)?,
            w_onview: self.weight(16)?,
            disp,
            multi: self.percent(18)?,
            phone: self.percent(19)?,
            narr: self.get(20).split('|').map(str::to_string).collect(),
        })
    }
}

impl Table {
    /// Parse the table and resolve what the generator derives from it.
    fn parse(text: &str) -> Result<Table, String> {
        let types = parse_types(text)?;
        let unknown: Vec<usize> = (0..types.len()).filter(|&i| types[i].unmapped()).collect();
        let drawn = |w: fn(&CallType) -> f64| types.iter().filter(|t| !t.unmapped()).map(w).sum::<f64>() > 0.0;
        if unknown.is_empty() || !drawn(|t| t.w_public) || !drawn(|t| t.w_onview) {
            return Err(format!(
                "{FILE} is malformed: needs an unmapped type and positive public and onview weights among the others"
            ));
        }
        let reclass = reclass(&types)?;
        Ok(Table { types, unknown, reclass })
    }

    /// The crosswalk shipped at profiles/callsift_sample.crosswalk.csv: every mapped type.
    #[cfg(test)]
    pub fn crosswalk_csv(&self) -> String {
        let mut s = String::from(
            "raw_type,category,weapon,violence,medical,in_progress,bh_nexus,conflict,police_type,third_party_likelihood\n",
        );
        let flag = |t: &CallType, f: u8| if t.has(f) { "1" } else { "" };
        for t in self.types.iter().filter(|t| !t.unmapped()) {
            let cat = if t.category.contains(',') { format!("\"{}\"", t.category) } else { t.category.clone() };
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                t.name,
                cat,
                flag(t, W),
                flag(t, V),
                flag(t, M),
                flag(t, I),
                flag(t, B),
                flag(t, C),
                flag(t, P),
                t.third
            ));
        }
        s
    }
}

/// Parse `call_types.csv` text (comment lines start with `#`).
fn parse_types(text: &str) -> Result<Vec<CallType>, String> {
    let mut rdr = csv::ReaderBuilder::new().comment(Some(b'#')).flexible(true).from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| format!("{FILE} is malformed: header: {e}"))?;
    if headers.iter().ne(COLUMNS) {
        return Err(format!("{FILE} is malformed: header must be {}", COLUMNS.join(",")));
    }
    let mut types: Vec<CallType> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| format!("{FILE} is malformed: {e}"))?;
        let row = Row { line: rec.position().map_or(0, |p| p.line()), rec: &rec };
        let ty = row.call_type()?;
        if types.iter().any(|t| t.name == ty.name) {
            return Err(row.err(0, format!("`{}` appears twice", ty.name)));
        }
        types.push(ty);
    }
    Ok(types)
}

/// Resolve [`RECLASS`] against the table: per type, (target, cumulative probability).
fn reclass(types: &[CallType]) -> Result<Vec<Vec<(usize, f64)>>, String> {
    let index = |name: &str| {
        types.iter().position(|t| t.name == name).ok_or_else(|| {
            format!("{FILE}: reclassification names `{name}`, which is not in the table (src/sample/call_types.rs)")
        })
    };
    let mut reclass = vec![Vec::new(); types.len()];
    for &(from, to, p) in RECLASS {
        let v: &mut Vec<(usize, f64)> = &mut reclass[index(from)?];
        let acc = v.last().map_or(0.0, |x| x.1) + p * 1.5;
        v.push((index(to)?, acc));
    }
    Ok(reclass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> String {
        COLUMNS.join(",")
    }

    const GOOD: &str = "X,Other Crimes,,,,,,,1,,0.5,0,1,1,0,2.5,1,service,10,20,A|B {S}|";
    const UNMAPPED: &str = "Y,,,,,,,,,1,,0,0,1,1,0,1,onview,10,0,";

    #[test]
    fn builtin_table_parses() {
        let t = table().expect("call_types.csv parses");
        assert_eq!(t.types.len(), 53);
        assert_eq!(t.types[0].name, "WELFARE CHECK");
        let unknown: Vec<&str> = t.unknown.iter().map(|&i| t.types[i].name.as_str()).collect();
        assert!(unknown.contains(&"SPECIAL DETAIL") && unknown.contains(&"CODE 7 ASSIST"), "{unknown:?}");
    }

    #[test]
    fn values_are_read_exactly() {
        let t = parse_types(&format!("# comment\n{}\n{GOOD}\n# another\n{UNMAPPED}\n", header())).unwrap();
        let x = &t[0];
        assert_eq!((x.flags, x.pri, x.w_public, x.w_onview, x.disp), (P, [0, 1, 1, 0], 2.5, 1.0, Disp::Service));
        assert_eq!((x.category.as_str(), x.third.as_str(), x.multi, x.phone), ("Other Crimes", "0.5", 10, 20));
        assert_eq!(x.narr, ["A", "B {S}", ""]);
        assert_eq!((t[1].narr.as_slice(), t[1].flags), ([String::new()].as_slice(), UNK));
    }

    #[test]
    fn errors_name_line_and_column() {
        let bad = |row: &str| parse_types(&format!("# c\n{}\n{UNMAPPED}\n{row}\n", header())).unwrap_err();
        let e = bad(&GOOD.replace("2.5", "2,5"));
        assert!(e.contains("line 4: 22 fields, expected 21"), "{e}");
        let e = bad(&GOOD.replace("2.5", "x"));
        assert!(e.contains("line 4, column 16 (w_public): expected a number, found `x`"), "{e}");
        let e = bad(&GOOD.replace("service", "serv"));
        assert!(e.contains("line 4, column 18 (disposition): unknown disposition mix `serv`"), "{e}");
        let e = bad(&GOOD.replace(",1,,0.5", ",yes,,0.5"));
        assert!(e.contains("line 4, column 9 (police_type): expected 1 or empty"), "{e}");
        let e = bad(&GOOD.replace(",10,20,", ",10,200,"));
        assert!(e.contains("line 4, column 20 (phone_pct)"), "{e}");
        let e = bad(UNMAPPED);
        assert!(e.contains("line 4, column 1 (name): `Y` appears twice"), "{e}");
        let e = parse_types("name,category\nX,Y\n").unwrap_err();
        assert!(e.contains("header must be name,category,weapon"), "{e}");
        let e = Table::parse(&format!("{}\n{GOOD}\n", header())).unwrap_err();
        assert!(e.contains("needs an unmapped type"), "{e}");
    }
}
