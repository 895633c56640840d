//! Deterministic synthetic CAD "calls for service" export (one row per responding unit).
//!
//! The output imitates a mid-size US city's public CAD extract (America/Denver wall time,
//! `MM/DD/YYYY hh:mm:ss AM` stamps, initial + final call type, unit-grain rows, a community
//! responder program launching part way through the period, and a sprinkling of malformed rows).
//! Only std, chrono and csv are used; the PRNG is an in-module xoshiro256** seeded through
//! splitmix64, so a given `SampleSpec` produces byte-identical output on every machine.
//!
//! Stats invariant: `rows == incidents + unit_rows + malformed`. Malformed rows are always the
//! single row of an incident that had exactly one row; such incidents are counted only in
//! `malformed` (not in `incidents`, `officer_initiated` or `community_responder_incidents`).
//! If the row budget cuts off an incident's later unit rows, only the written rows are counted.

use chrono::{Datelike, Months, NaiveDate};
use std::io;
use std::rc::Rc;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSpec {
    /// Exact number of data rows written (header excluded).
    pub rows: usize,
    pub seed: u64,
    /// First day of the period.
    pub start: NaiveDate,
    /// Calendar months covered from `start` (0 is treated as 1).
    pub months: u32,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec {
            rows: 50_000,
            seed: 42,
            start: NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date"),
            months: 15,
        }
    }
}

/// Ground truth about what was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleStats {
    pub rows: usize,
    pub incidents: usize,
    /// Rows beyond the first for an incident.
    pub unit_rows: usize,
    pub malformed: usize,
    pub officer_initiated: usize,
    pub community_responder_incidents: usize,
}

pub const HEADER: [&str; 15] = [
    "incident_number",
    "unit_id",
    "call_received",
    "dispatched",
    "on_scene",
    "cleared",
    "call_source",
    "initial_type",
    "final_type",
    "priority",
    "disposition",
    "district",
    "beat",
    "block_address",
    "narrative",
];

// ---------------------------------------------------------------------------------------------
// PRNG: xoshiro256** seeded with splitmix64.

struct Rng {
    s: [u64; 4],
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut x = seed;
        Rng { s: [splitmix64(&mut x), splitmix64(&mut x), splitmix64(&mut x), splitmix64(&mut x)] }
    }
    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }
    /// Uniform in [0, 1).
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    /// Uniform in [0, n).
    fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
    fn range(&mut self, lo: i64, hi_incl: i64) -> i64 {
        lo + self.below((hi_incl - lo + 1) as usize) as i64
    }
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64(); // (0, 1]
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    /// Log-normal with the given median, clamped.
    fn lognormal(&mut self, median: f64, sigma: f64, lo: f64, hi: f64) -> i64 {
        (median * (sigma * self.normal()).exp()).clamp(lo, hi) as i64
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn weighted(&mut self, w: &[u32]) -> usize {
        let total: u32 = w.iter().sum();
        let mut x = (self.next_u64() % total as u64) as u32;
        for (i, &wi) in w.iter().enumerate() {
            if x < wi {
                return i;
            }
            x -= wi;
        }
        w.len() - 1
    }
}

/// Precomputed cumulative table for a fixed weighted choice.
struct Cdf(Vec<f64>);

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
    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.f64();
        self.0.partition_point(|&c| c <= u).min(self.0.len() - 1)
    }
}

// ---------------------------------------------------------------------------------------------
// Call-type table. Flags: weapon, violence, medical, in progress, BH nexus, conflict, police type
// a community responder could take.

const W: u8 = 1;
const V: u8 = 2;
const M: u8 = 4;
const I: u8 = 8;
const B: u8 = 16;
const C: u8 = 32;
const P: u8 = 64;
/// Deliberately absent from the crosswalk.
const UNK: u8 = 128;

#[derive(Clone, Copy, PartialEq)]
enum Disp {
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

const DISPOSITIONS: [&str; 7] =
    ["REPORT WRITTEN", "ARREST", "CITATION", "ASSISTANCE RENDERED", "ADVISED", "GONE ON ARRIVAL", "UNFOUNDED"];

fn disp_weights(d: Disp) -> [u32; 7] {
    match d {
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

struct CallType {
    name: &'static str,
    /// Crosswalk category (tests write the crosswalk file from this table).
    #[cfg_attr(not(test), allow(dead_code))]
    category: &'static str,
    flags: u8,
    /// Third-party caller likelihood as written to the crosswalk ("" = irrelevant).
    #[cfg_attr(not(test), allow(dead_code))]
    third: &'static str,
    /// Weights of priority 1..4.
    pri: [u32; 4],
    /// Relative share of public (non-ONVIEW) incidents, per mille-ish.
    w_public: f64,
    /// Relative share of ONVIEW incidents.
    w_onview: f64,
    disp: Disp,
    /// Chance (percent) that a dispatched incident gets 2-3 units.
    multi: u8,
    /// Chance (percent) that a public call came on the non-emergency line.
    phone: u8,
    narr: &'static [&'static str],
}

#[allow(clippy::too_many_arguments)]
const fn t(
    name: &'static str,
    category: &'static str,
    flags: u8,
    third: &'static str,
    pri: [u32; 4],
    w_public: f64,
    w_onview: f64,
    disp: Disp,
    multi: u8,
    phone: u8,
    narr: &'static [&'static str],
) -> CallType {
    CallType { name, category, flags, third, pri, w_public, w_onview, disp, multi, phone, narr }
}

const CAT_ALARM: &str = "Alarms";
const CAT_PROP: &str = "Property Crime";
const CAT_VIOL: &str = "Violent Crime";
const CAT_DV: &str = "Domestic Violence";
const CAT_SEX: &str = "Sex Offenses";
const CAT_DRUG: &str = "Drugs";
const CAT_OTHC: &str = "Other Crimes";
const CAT_WARR: &str = "Warrants";
const CAT_SUSP: &str = "Suspicion";
const CAT_COMPL: &str = "Complaints/Environmental Conditions";
const CAT_BH: &str = "Behavioral Health";
const CAT_MED: &str = "Medical Emergencies";
const CAT_MISS: &str = "Missing Persons";
const CAT_ACC: &str = "Accidents/Traffic Safety";
const CAT_TRAF: &str = "Traffic";
const CAT_ASSIST: &str = "Assisting the Public";
const CAT_ONH: &str = "Officer Needs Help";
const CAT_STAT: &str = "Statuses";
const CAT_CALLREL: &str = "Call Related Issues";
const CAT_OTHER: &str = "Other (Not Crime)";

static TYPES: &[CallType] = &[
    // --- behavioral health
    t(
        "WELFARE CHECK",
        CAT_ASSIST,
        P,
        "0.9",
        [0, 12, 70, 18],
        80.0,
        0.0,
        Disp::Service,
        22,
        45,
        &[
            "RP REQ CHECK ON {S}, LAYING ON SIDEWALK, UNK IF BREATHING",
            "FAMILY REQ WELFARE CHECK, HAS NOT HEARD FROM PARTY IN 3 DAYS",
            "{S} SITTING IN BUS SHELTER FOR HOURS, NOT DRESSED FOR WEATHER",
            "RP CONCERNED ABOUT ELDERLY NEIGHBOR, MAIL PILING UP",
        ],
    ),
    t(
        "PERSON IN CRISIS",
        CAT_BH,
        B,
        "0.5",
        [2, 38, 55, 5],
        35.0,
        0.0,
        Disp::Service,
        30,
        20,
        &[
            "RP STATES {S} YELLING AT PASSERSBY, NO WEAPONS SEEN",
            "{S} TALKING TO SELF, BANGING ON WINDOWS, RP CONCERNED",
            "PARTY STATES HEARING VOICES, REQ SOMEONE TO TALK TO",
            "{S} UNDRESSING IN STREET, CONFUSED, NO WEAPONS",
        ],
    ),
    t(
        "SUICIDAL PERSON",
        CAT_BH,
        B,
        "0.4",
        [10, 60, 30, 0],
        15.0,
        0.0,
        Disp::Service,
        40,
        15,
        &[
            "RP STATES FRIEND TEXTED \"I WANT TO DIE\", NO WEAPONS KNOWN",
            "{S} STANDING ON OVERPASS RAILING, NO WEAPONS SEEN",
            "CALLER STATES SHE IS SUICIDAL, NO PLAN, ALONE AT HOME",
        ],
    ),
    t(
        "SUICIDE THREAT - WEAPON",
        CAT_BH,
        B | W,
        "0.4",
        [85, 15, 0, 0],
        3.0,
        0.0,
        Disp::Weapon,
        90,
        5,
        &[
            "RP STATES HUSBAND HAS A HANDGUN, THREATENING TO KILL HIMSELF",
            "{S} HOLDING KNIFE TO OWN WRIST, RP IN NEXT ROOM",
        ],
    ),
    t(
        "MENTAL HEALTH - VIOLENT",
        CAT_BH,
        B | V,
        "0.6",
        [45, 55, 0, 0],
        5.0,
        0.0,
        Disp::Violent,
        85,
        5,
        &[
            "{S} PUNCHING CARS, THREATENING RP, HX OF MENTAL ILLNESS",
            "SON OFF MEDS, THROWING FURNITURE, RP LOCKED IN BEDROOM",
        ],
    ),
    // --- quality of life / police types a responder could take
    t(
        "TRESPASS",
        CAT_OTHC,
        P,
        "0.85",
        [0, 15, 65, 20],
        35.0,
        3.0,
        Disp::Disorder,
        20,
        50,
        &[
            "{S} REFUSING TO LEAVE LOBBY, MGMT WANTS PARTY TRESPASSED",
            "{S} SLEEPING IN STAIRWELL, RP WANTS THEM REMOVED",
            "2 PARTIES IN VACANT BUILDING, RP IS PROPERTY MGR",
        ],
    ),
    t(
        "UNWANTED PERSON",
        CAT_OTHC,
        P,
        "0.85",
        [0, 20, 65, 15],
        20.0,
        0.0,
        Disp::Disorder,
        20,
        40,
        &[
            "EX-ROOMMATE REFUSING TO LEAVE, NO WEAPONS, VERBAL ONLY",
            "{S} IN STORE, PREVIOUSLY TRESPASSED, RP WANTS REMOVED",
        ],
    ),
    t(
        "SUSPICIOUS PERSON",
        CAT_SUSP,
        P,
        "0.95",
        [0, 25, 60, 15],
        60.0,
        6.0,
        Disp::Disorder,
        25,
        40,
        &[
            "{S} LOOKING INTO CAR WINDOWS, LS {D}",
            "{S} WALKING BETWEEN HOUSES WITH FLASHLIGHT",
            "{S} PACING OUTSIDE SCHOOL, MUMBLING, NO WEAPONS SEEN",
        ],
    ),
    t(
        "SUSPICIOUS VEHICLE",
        CAT_SUSP,
        0,
        "",
        [0, 10, 60, 30],
        30.0,
        5.0,
        Disp::Disorder,
        15,
        50,
        &["{V} PARKED W/ ENGINE RUNNING FOR 2 HRS, 2 OCCUPANTS", "{V} CIRCLING BLOCK, NO PLATE"],
    ),
    t(
        "NOISE COMPLAINT",
        CAT_COMPL,
        P | C,
        "0.95",
        [0, 0, 25, 75],
        40.0,
        0.0,
        Disp::Disorder,
        8,
        75,
        &[
            "LOUD MUSIC FROM APT, ONGOING FOR 3 HRS, RP DOES NOT WANT CONTACT",
            "PARTY IN BACKYARD, \"VERY LOUD\", APPROX 30 PEOPLE",
            "DOG BARKING, CONSTRUCTION NOISE, RP ADVISED OF ORDINANCE",
        ],
    ),
    t(
        "DISTURBANCE",
        CAT_COMPL,
        P | C,
        "0.8",
        [3, 45, 45, 7],
        70.0,
        4.0,
        Disp::Disorder,
        35,
        25,
        &[
            "{S} YELLING AND SCREAMING IN PARKING LOT, NO WEAPONS SEEN",
            "VERBAL ARGUMENT BETWEEN 2 PARTIES, NOTHING PHYSICAL",
            "{S} KICKING TRASH CANS, CURSING AT CUSTOMERS",
        ],
    ),
    t(
        "DISTURBANCE - PHYSICAL",
        CAT_VIOL,
        V | C | I,
        "",
        [40, 60, 0, 0],
        15.0,
        0.0,
        Disp::Violent,
        85,
        5,
        &["2 PARTIES PUSHING EACH OTHER, ONE BLEEDING FROM NOSE", "{S} HITTING ANOTHER PARTY, RP ACROSS STREET"],
    ),
    t(
        "NEIGHBOR DISPUTE",
        CAT_COMPL,
        P | C,
        "0.5",
        [0, 10, 70, 20],
        15.0,
        0.0,
        Disp::Disorder,
        20,
        70,
        &[
            "ONGOING DISPUTE W/ NEIGHBOR OVER PARKING, VERBAL ONLY",
            "NEIGHBOR THROWING TRASH INTO RP YARD, WANTS DOCUMENTED",
        ],
    ),
    t(
        "INTOXICATED PERSON",
        CAT_OTHER,
        P,
        "0.85",
        [2, 30, 60, 8],
        15.0,
        3.0,
        Disp::Service,
        25,
        30,
        &["{S} STUMBLING IN ROADWAY, APPEARS INTOX", "{S} PASSED OUT ON BENCH, BREATHING, SMELLS OF ALCOHOL"],
    ),
    t(
        "HOMELESS PERSON",
        CAT_ASSIST,
        P,
        "0.9",
        [0, 5, 55, 40],
        12.0,
        0.0,
        Disp::Service,
        10,
        70,
        &["{S} CAMPING IN DOORWAY, BELONGINGS BLOCKING SIDEWALK", "UNSHELTERED PARTY REQ BLANKETS AND SHELTER INFO"],
    ),
    t(
        "INDECENT EXPOSURE",
        CAT_SEX,
        P,
        "0.9",
        [0, 40, 55, 5],
        4.0,
        0.0,
        Disp::Disorder,
        25,
        30,
        &["{S} EXPOSING SELF TO PASSERSBY, LS {D}"],
    ),
    t(
        "PANHANDLING",
        CAT_COMPL,
        P,
        "0.95",
        [0, 0, 40, 60],
        6.0,
        0.0,
        Disp::Disorder,
        5,
        70,
        &["{S} APPROACHING CARS AT INTERSECTION ASKING FOR MONEY"],
    ),
    t(
        "NEEDLE PICKUP",
        CAT_COMPL,
        P,
        "0.95",
        [0, 0, 20, 80],
        3.0,
        0.0,
        Disp::Service,
        0,
        90,
        &["USED NEEDLES IN PLAYGROUND, APPROX 5", "SYRINGE ON SIDEWALK NEAR BUS STOP"],
    ),
    t(
        "ASSIST CITIZEN",
        CAT_ASSIST,
        P,
        "0.2",
        [0, 10, 60, 30],
        30.0,
        8.0,
        Disp::Service,
        10,
        70,
        &[
            "RP LOCKED OUT, REQ ASSISTANCE",
            "RP REQ CIVIL STANDBY TO RETRIEVE BELONGINGS",
            "ELDERLY PARTY FELL, NOT INJURED, NEEDS HELP UP",
        ],
    ),
    // --- crime
    t(
        "BURGLARY - RESIDENTIAL",
        CAT_PROP,
        0,
        "",
        [0, 20, 70, 10],
        20.0,
        0.0,
        Disp::Crime,
        15,
        60,
        &["RP RETURNED HOME, BACK DOOR PRIED, TV AND LAPTOP MISSING", "GARAGE BROKEN INTO OVERNIGHT, TOOLS TAKEN"],
    ),
    t(
        "BURGLARY IN PROGRESS",
        CAT_PROP,
        I,
        "",
        [75, 25, 0, 0],
        5.0,
        0.0,
        Disp::Crime,
        80,
        5,
        &["RP HEARS GLASS BREAKING, {S} INSIDE NEIGHBOR HOUSE"],
    ),
    t(
        "THEFT",
        CAT_PROP,
        0,
        "",
        [0, 10, 60, 30],
        50.0,
        0.0,
        Disp::Crime,
        8,
        65,
        &[
            "BIKE STOLEN FROM RACK, LOCK CUT, OCCURRED OVERNIGHT",
            "SHOPLIFTER, {S}, LEFT {D} WITH UNK AMOUNT OF MERCH",
            "PACKAGE TAKEN FROM PORCH, RP HAS DOORBELL VIDEO",
        ],
    ),
    t(
        "AUTO THEFT",
        CAT_PROP,
        0,
        "",
        [0, 25, 65, 10],
        20.0,
        0.0,
        Disp::Crime,
        10,
        55,
        &["{V} STOLEN FROM DRIVEWAY, KEYS NOT IN VEH", "{V} TAKEN FROM WORK LOT, RP HAS BOTH KEYS"],
    ),
    t(
        "ROBBERY - ARMED",
        CAT_VIOL,
        W | V | I,
        "",
        [90, 10, 0, 0],
        4.0,
        0.0,
        Disp::Weapon,
        92,
        2,
        &["{S} DISPLAYED HANDGUN, TOOK CASH FROM REGISTER, LS {D}"],
    ),
    t(
        "ASSAULT",
        CAT_VIOL,
        V,
        "",
        [20, 60, 20, 0],
        20.0,
        0.0,
        Disp::Violent,
        55,
        15,
        &["RP STATES {S} PUNCHED HIM, SUSP LEFT {D}", "VICTIM AT HOSPITAL, ASSAULTED EARLIER, REQ REPORT"],
    ),
    t(
        "ASSAULT WITH WEAPON",
        CAT_VIOL,
        W | V,
        "",
        [85, 15, 0, 0],
        8.0,
        0.0,
        Disp::Weapon,
        92,
        3,
        &["VICTIM STABBED IN ARM, SUSP {S}, LS {D}", "{S} HIT RP WITH BASEBALL BAT"],
    ),
    t(
        "SHOTS FIRED",
        CAT_VIOL,
        W | V | I,
        "",
        [100, 0, 0, 0],
        14.0,
        0.0,
        Disp::Weapon,
        85,
        3,
        &["RP HEARD 4-5 SHOTS, UNK DIRECTION", "MULTIPLE CALLERS, SHOTS IN AREA, {V} LEFT {D}"],
    ),
    t(
        "MAN WITH A GUN",
        CAT_VIOL,
        W | I,
        "",
        [95, 5, 0, 0],
        8.0,
        0.0,
        Disp::Weapon,
        95,
        3,
        &["{S} WAVING HANDGUN IN PARKING LOT", "RP STATES {S} HAS GUN IN WAISTBAND, ARGUING W/ CLERK"],
    ),
    t(
        "FIGHT IN PROGRESS",
        CAT_VIOL,
        V | I | C,
        "",
        [60, 40, 0, 0],
        8.0,
        1.0,
        Disp::Violent,
        90,
        3,
        &["GROUP OF 6-8 FIGHTING OUTSIDE BAR, UNK WEAPONS"],
    ),
    t(
        "DOMESTIC VIOLENCE",
        CAT_DV,
        V | C,
        "",
        [55, 45, 0, 0],
        15.0,
        0.0,
        Disp::Dv,
        88,
        5,
        &["RP STATES BOYFRIEND HIT HER, SUSP STILL ON SCENE", "FEMALE SCREAMING \"STOP HITTING ME\", NEIGHBOR CALLING"],
    ),
    t(
        "DOMESTIC DISTURBANCE",
        CAT_DV,
        C,
        "",
        [15, 80, 5, 0],
        20.0,
        0.0,
        Disp::Dv,
        80,
        10,
        &[
            "NEIGHBOR HEARS MALE AND FEMALE YELLING, THINGS BREAKING",
            "RP ARGUING W/ HUSBAND, WANTS HIM TO LEAVE, NOTHING PHYSICAL",
        ],
    ),
    // --- traffic, alarms, medical, misc
    t(
        "TRAFFIC ACCIDENT - INJURY",
        CAT_ACC,
        M | I,
        "",
        [60, 40, 0, 0],
        12.0,
        1.0,
        Disp::Accident,
        80,
        5,
        &[
            "2 VEH ACCIDENT, ONE PARTY C/O NECK PAIN, AIRBAGS DEPLOYED",
            "PEDESTRIAN STRUCK, CONSCIOUS, BLEEDING FROM HEAD",
        ],
    ),
    t(
        "TRAFFIC ACCIDENT - NO INJURY",
        CAT_ACC,
        0,
        "",
        [0, 30, 55, 15],
        30.0,
        4.0,
        Disp::Accident,
        20,
        20,
        &["MINOR 2 VEH ACCIDENT, NO INJ, BLOCKING LANE", "{V} HIT PARKED CAR, DRIVER LEFT NOTE"],
    ),
    t(
        "ALARM - BURGLAR",
        CAT_ALARM,
        0,
        "",
        [0, 40, 50, 10],
        65.0,
        0.0,
        Disp::Alarm,
        35,
        0,
        &["AUDIBLE ALARM, FRONT DOOR ZONE, NO KEYHOLDER RESPONDING", "ALARM CO REPORTS MOTION ZONE 3, NO KEYHOLDER"],
    ),
    t(
        "MEDICAL EMERGENCY",
        CAT_MED,
        M,
        "",
        [55, 40, 5, 0],
        20.0,
        0.0,
        Disp::Medical,
        75,
        5,
        &["FEMALE UNCONSCIOUS, BREATHING, EMS ENROUTE", "MALE C/O CHEST PAIN, DIFFICULTY BREATHING"],
    ),
    t(
        "OVERDOSE",
        CAT_MED,
        M,
        "",
        [70, 30, 0, 0],
        6.0,
        0.0,
        Disp::Medical,
        80,
        3,
        &["{S} UNRESPONSIVE, POSS OD, NARCAN GIVEN BY RP"],
    ),
    t(
        "MISSING PERSON",
        CAT_MISS,
        0,
        "",
        [5, 35, 55, 5],
        10.0,
        0.0,
        Disp::Service,
        20,
        70,
        &[
            "RP STATES 15 YO DAUGHTER DID NOT RETURN FROM SCHOOL",
            "ELDERLY MALE W/ DEMENTIA WALKED AWAY FROM CARE FACILITY",
        ],
    ),
    t(
        "PARKING COMPLAINT",
        CAT_TRAF,
        0,
        "",
        [0, 0, 20, 80],
        30.0,
        2.0,
        Disp::Parking,
        2,
        85,
        &["{V} BLOCKING DRIVEWAY, RP CANNOT LEAVE", "{V} PARKED IN FIRE LANE FOR 2 DAYS"],
    ),
    t(
        "VANDALISM",
        CAT_PROP,
        0,
        "",
        [0, 10, 60, 30],
        20.0,
        0.0,
        Disp::Crime,
        8,
        70,
        &["GRAFFITI ON FENCE, OCCURRED OVERNIGHT", "CAR WINDOWS SMASHED, 3 VEH, NOTHING TAKEN"],
    ),
    t(
        "FRAUD",
        CAT_PROP,
        0,
        "",
        [0, 0, 60, 40],
        15.0,
        0.0,
        Disp::Crime,
        2,
        85,
        &["RP SCAMMED BY PHONE, PAID $800 IN GIFT CARDS", "UNAUTHORIZED CHARGES ON DEBIT CARD, RP HAS CARD"],
    ),
    t(
        "ANIMAL COMPLAINT",
        CAT_COMPL,
        0,
        "",
        [0, 5, 55, 40],
        15.0,
        0.0,
        Disp::Service,
        5,
        80,
        &["LOOSE DOG IN ROADWAY, \"FRIENDLY\", NO COLLAR", "DOG LEFT IN HOT CAR, WINDOWS UP"],
    ),
    t(
        "911 HANG UP",
        CAT_CALLREL,
        0,
        "",
        [0, 55, 45, 0],
        55.0,
        0.0,
        Disp::Hangup,
        15,
        0,
        &["OPEN LINE, BACKGROUND NOISE, NO ANSWER ON CALLBACK", "HANG UP, CALLBACK WENT TO VOICEMAIL", ""],
    ),
    t(
        "OFFICER NEEDS HELP",
        CAT_ONH,
        I,
        "",
        [100, 0, 0, 0],
        0.5,
        1.5,
        Disp::Onview,
        100,
        0,
        &["OFFICER REQ COVER, FOOT PURSUIT {D}"],
    ),
    // --- officer-initiated activity
    t(
        "TRAFFIC STOP",
        CAT_TRAF,
        0,
        "",
        [0, 0, 60, 40],
        0.0,
        380.0,
        Disp::Stop,
        12,
        0,
        &["{V} SPEEDING, STOPPED {D}", "{V} NO FRONT PLATE", ""],
    ),
    t(
        "SUBJECT STOP",
        CAT_SUSP,
        0,
        "",
        [0, 20, 70, 10],
        0.0,
        110.0,
        Disp::Onview,
        30,
        0,
        &["{S} MATCHING DESC FROM EARLIER CALL", ""],
    ),
    t("PREMISE CHECK", CAT_STAT, 0, "", [0, 0, 30, 70], 0.0, 160.0, Disp::Onview, 5, 0, &["BUSINESS CHECK", ""]),
    t(
        "FOLLOW UP",
        CAT_STAT,
        0,
        "",
        [0, 0, 40, 60],
        0.0,
        110.0,
        Disp::Onview,
        8,
        0,
        &["FOLLOW UP ON EARLIER CASE, CONTACT VICTIM", ""],
    ),
    t(
        "EXTRA PATROL",
        CAT_STAT,
        0,
        "",
        [0, 0, 20, 80],
        0.0,
        70.0,
        Disp::Onview,
        3,
        0,
        &["EXTRA PATROL PER COMMUNITY REQUEST", ""],
    ),
    t(
        "WARRANT SERVICE",
        CAT_WARR,
        0,
        "",
        [0, 60, 40, 0],
        0.0,
        40.0,
        Disp::Drugs,
        60,
        0,
        &["ATTEMPT TO SERVE FELONY WARRANT"],
    ),
    t(
        "NARCOTICS INVESTIGATION",
        CAT_DRUG,
        0,
        "",
        [0, 40, 60, 0],
        0.0,
        30.0,
        Disp::Drugs,
        45,
        0,
        &["HAND TO HAND OBSERVED, {S}"],
    ),
    // --- deliberately unknown to the crosswalk
    t("SPECIAL DETAIL", "", UNK, "", [0, 0, 50, 50], 0.0, 1.0, Disp::Onview, 10, 0, &["SPECIAL EVENT DETAIL"]),
    t("CODE 7 ASSIST", "", UNK, "", [0, 0, 50, 50], 0.0, 1.0, Disp::Onview, 10, 0, &[""]),
    t(
        "ATL BROADCAST",
        "",
        UNK,
        "",
        [0, 50, 50, 0],
        1.0,
        0.0,
        Disp::Onview,
        0,
        0,
        &["ATL {V}, LAST SEEN {D}, INVOLVED IN EARLIER INCIDENT"],
    ),
];

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

static STREETS: [&str; 60] = [
    "E COLFAX AVE",
    "W COLFAX AVE",
    "N BROADWAY",
    "S BROADWAY",
    "LARIMER ST",
    "LAWRENCE ST",
    "ARAPAHOE ST",
    "CURTIS ST",
    "CHAMPA ST",
    "STOUT ST",
    "CALIFORNIA ST",
    "WELTON ST",
    "E 16TH AVE",
    "E 17TH AVE",
    "E 18TH AVE",
    "N FEDERAL BLVD",
    "S FEDERAL BLVD",
    "W ALAMEDA AVE",
    "E ALAMEDA AVE",
    "S COLORADO BLVD",
    "N COLORADO BLVD",
    "E EVANS AVE",
    "W EVANS AVE",
    "S UNIVERSITY BLVD",
    "N SPEER BLVD",
    "S SANTA FE DR",
    "W 38TH AVE",
    "E 40TH AVE",
    "N YORK ST",
    "N JOSEPHINE ST",
    "N DOWNING ST",
    "N LINCOLN ST",
    "N GRANT ST",
    "N LOGAN ST",
    "N PENNSYLVANIA ST",
    "N OGDEN ST",
    "E MONTVIEW BLVD",
    "N QUEBEC ST",
    "S HAVANA ST",
    "E MISSISSIPPI AVE",
    "W MISSISSIPPI AVE",
    "S PEORIA ST",
    "E HAMPDEN AVE",
    "W HAMPDEN AVE",
    "S SHERIDAN BLVD",
    "N SHERIDAN BLVD",
    "W 44TH AVE",
    "N TENNYSON ST",
    "N ZUNI ST",
    "N PECOS ST",
    "W 32ND AVE",
    "E 23RD AVE",
    "N HOLLY ST",
    "E 6TH AVE",
    "W 6TH AVE",
    "N CHAMBERS RD",
    "E MLK JR BLVD",
    "N WASHINGTON ST",
    "S PLATTE RIVER DR",
    "E ILIFF AVE",
];

static SUBJECTS: [&str; 14] = [
    "WM 30S",
    "BM 20S",
    "HM 40S",
    "WF 50S",
    "UNK MALE",
    "FEMALE",
    "MALE IN BLK HOODIE",
    "MALE WEARING \"BRONCOS\" JERSEY",
    "OLDER FEMALE",
    "JUV MALE",
    "2 MALES",
    "MALE AND FEMALE",
    "HF 30S, RED JACKET",
    "WM 60S, GRY BEARD",
];
static VEHICLES: [&str; 7] =
    ["SILVER SEDAN", "WHT PICKUP", "BLK SUV", "RED HONDA CIVIC", "GRY MINIVAN", "UNK VEH", "BLU TOYOTA, TEMP TAG"];
static DIRECTIONS: [&str; 4] = ["NB", "SB", "EB", "WB"];
static NEWLINE_TAILS: [&str; 3] =
    ["\nUPDATE: RP CALLED BACK, PARTY LEFT {D}", "\nRP CALLBACK: SUBJ NOW INSIDE BUSINESS", "\n** PREMISE HISTORY **"];

/// Hour-of-day weights (local): low 4-6 am, peak 3-7 pm.
const HOUR_W: [f64; 24] = [
    3.6, 3.0, 2.6, 2.0, 1.5, 1.4, 1.8, 2.6, 3.6, 4.2, 4.5, 4.7, 4.9, 5.0, 5.2, 5.6, 5.8, 5.9, 5.8, 5.5, 5.0, 4.6, 4.3,
    4.0,
];
/// Day-of-week weights, Monday first.
const DOW_W: [f64; 7] = [1.0, 0.98, 0.99, 1.0, 1.08, 1.06, 0.92];
const DISTRICT_W: [f64; 6] = [22.0, 16.0, 18.0, 15.0, 15.0, 14.0];

const CR_DISTRICTS: [u8; 2] = [1, 3];
const CR_OUTCOMES: [&str; 4] = ["RESOURCES PROVIDED", "TRANSPORTED TO SERVICES", "NO PERSON FOUND", "REFERRED"];
const CR_OUTCOME_W: [u32; 4] = [40, 15, 20, 25];

// ---------------------------------------------------------------------------------------------
// Time: i64 seconds; "wall" = naive local America/Denver wall clock, "abs" = UTC.

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

fn days_from_epoch(d: NaiveDate) -> i64 {
    d.num_days_from_ce() as i64 - 719_163
}

/// (year, month, day) from days since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// US DST rules (2007+) for America/Denver: MST = UTC-7, MDT = UTC-6.
struct Dst {
    /// (spring 02:00 wall, fall 02:00 wall (MDT reading)) per year.
    years: Vec<(i64, i64)>,
}

impl Dst {
    fn new(first_year: i32, last_year: i32) -> Dst {
        let nth_sunday = |y: i32, m: u32, n: u32| -> i64 {
            let first = NaiveDate::from_ymd_opt(y, m, 1).expect("valid date");
            let wd = first.weekday().num_days_from_sunday();
            let day = 1 + (7 - wd) % 7 + 7 * (n - 1);
            days_from_epoch(NaiveDate::from_ymd_opt(y, m, day).expect("valid date"))
        };
        let years = (first_year..=last_year)
            .map(|y| (nth_sunday(y, 3, 2) * DAY + 2 * HOUR, nth_sunday(y, 11, 1) * DAY + 2 * HOUR))
            .collect();
        Dst { years }
    }
    /// Wall -> UTC. Gap times (02:xx on the spring day) are read as MST; repeated times
    /// (01:xx on the fall day) as their first (MDT) occurrence.
    fn to_abs(&self, wall: i64) -> i64 {
        for &(spring, fall) in &self.years {
            if wall >= spring + HOUR && wall < fall {
                return wall + 6 * HOUR;
            }
        }
        wall + 7 * HOUR
    }
    fn to_wall(&self, abs: i64) -> i64 {
        for &(spring, fall) in &self.years {
            if abs >= spring + 7 * HOUR && abs < fall + 6 * HOUR {
                return abs - 6 * HOUR;
            }
        }
        abs - 7 * HOUR
    }
}

fn push2(s: &mut String, v: u32) {
    s.push((b'0' + (v / 10 % 10) as u8) as char);
    s.push((b'0' + (v % 10) as u8) as char);
}

/// `MM/DD/YYYY hh:mm:ss AM`
fn fmt_time(s: &mut String, wall: i64) {
    let days = wall.div_euclid(DAY);
    let secs = wall.rem_euclid(DAY) as u32;
    let (y, m, d) = civil_from_days(days);
    push2(s, m);
    s.push('/');
    push2(s, d);
    s.push('/');
    push2(s, (y / 100) as u32);
    push2(s, (y % 100) as u32);
    s.push(' ');
    let h24 = secs / 3600;
    let h12 = match h24 % 12 {
        0 => 12,
        h => h,
    };
    push2(s, h12);
    s.push(':');
    push2(s, secs / 60 % 60);
    s.push(':');
    push2(s, secs % 60);
    s.push_str(if h24 < 12 { " AM" } else { " PM" });
}

// ---------------------------------------------------------------------------------------------
// Generation.

#[derive(Clone, Copy)]
enum Malformed {
    BadDate,
    NotADate,
    MissingField,
    ExtraField,
    EmptyIncident,
    BadPriority,
}

struct Call {
    incident: String,
    received: i64,
    source: &'static str,
    initial: String,
    final_: String,
    priority: String,
    disposition: &'static str,
    district: u8,
    beat: String,
    address: String,
    narrative: String,
    malformed: Option<Malformed>,
}

struct UnitRow {
    call: Rc<Call>,
    unit: String,
    dispatched: Option<i64>,
    on_scene: Option<i64>,
    cleared: i64,
    cr: bool,
    onview: bool,
    first: bool,
}

struct HotSpot {
    district: u8,
    beat: String,
    address: String,
}

struct Gen {
    rng: Rng,
    dst: Dst,
    public_cdf: Cdf,
    onview_cdf: Cdf,
    hour_cdf: Cdf,
    district_cdf: Cdf,
    unknown: Vec<usize>,
    /// Per type: list of (target type, cumulative probability).
    reclass: Vec<Vec<(usize, f64)>>,
    hot: Vec<HotSpot>,
    /// Wall second at which the CR program starts (launch day 09:00).
    cr_launch: i64,
    year: i64,
    seq: u32,
}

fn type_index(name: &str) -> usize {
    TYPES.iter().position(|t| t.name == name).unwrap_or_else(|| panic!("unknown type {name}"))
}

fn title_case(s: &str) -> String {
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
    fn new(spec: &SampleSpec, end_year: i32) -> Gen {
        let mut rng = Rng::new(spec.seed);
        let public_cdf = Cdf::new(TYPES.iter().map(|t| if t.flags & UNK != 0 { 0.0 } else { t.w_public }));
        let onview_cdf = Cdf::new(TYPES.iter().map(|t| if t.flags & UNK != 0 { 0.0 } else { t.w_onview }));
        let unknown = (0..TYPES.len()).filter(|&i| TYPES[i].flags & UNK != 0).collect();
        let mut reclass = vec![Vec::new(); TYPES.len()];
        for &(from, to, p) in RECLASS {
            let v: &mut Vec<(usize, f64)> = &mut reclass[type_index(from)];
            let acc = v.last().map_or(0.0, |x| x.1) + p * 1.5;
            v.push((type_index(to), acc));
        }
        let district_cdf = Cdf::new(DISTRICT_W);
        // Repeat locations (shelters, transit stations, supportive housing...).
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
            dst: Dst::new(spec.start.year() - 1, end_year + 2),
            public_cdf,
            onview_cdf,
            hour_cdf: Cdf::new(HOUR_W),
            district_cdf,
            unknown,
            reclass,
            hot,
            cr_launch,
            year: i64::MIN,
            seq: 0,
        }
    }

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
    fn incident(&mut self, received: i64, p_malformed: f64) -> Vec<UnitRow> {
        let rng_hour = (received.rem_euclid(DAY) / HOUR) as u32;
        let onview = self.rng.chance(0.40);
        let mut ti = if onview { self.onview_cdf.sample(&mut self.rng) } else { self.public_cdf.sample(&mut self.rng) };
        if self.rng.chance(0.007) {
            ti = self.unknown[self.rng.below(self.unknown.len())];
        }
        let ty = &TYPES[ti];

        // Location.
        let hot_p = if ty.flags & (B | P) != 0 && ty.name != "ASSIST CITIZEN" { 0.30 } else { 0.03 };
        let (district, beat, address) = if self.rng.chance(hot_p) {
            let i = (self.rng.f64().powf(1.5) * self.hot.len() as f64) as usize;
            let h = &self.hot[i];
            (h.district, h.beat.clone(), h.address.clone())
        } else {
            let district = self.district_cdf.sample(&mut self.rng) as u8 + 1;
            let beat = beat_string(district, self.rng.below(4) as u8);
            let street = STREETS[(district as usize - 1) * 10 + self.rng.below(10)];
            (district, beat, format!("{}XX BLOCK OF {}", self.rng.range(1, 99), street))
        };

        // Priority and source.
        let pri = self.rng.weighted(&ty.pri) as u32 + 1;
        let source = if onview {
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
        };

        // Final type.
        let mut fi = ti;
        if !onview {
            let u = self.rng.f64();
            if let Some(&(to, _)) = self.reclass[ti].iter().find(|&&(_, acc)| u < acc) {
                fi = to;
            }
        }

        let mut narrative = {
            let template = *self.rng.pick(ty.narr);
            self.fill(template)
        };
        if self.rng.chance(0.003) {
            let tail = *self.rng.pick(&NEWLINE_TAILS);
            let tail = self.fill(tail);
            narrative.push_str(&tail);
        }

        // Units.
        let cancelled = !onview && self.rng.chance(0.08);
        let cr_eligible = !onview
            && !cancelled
            && ty.flags & (B | P) != 0
            && ty.flags & (W | V | M | I | UNK) == 0
            && pri > 1
            && self.in_cr_service(district, received);
        let cr = cr_eligible && self.rng.chance(0.45);
        let cr_backup = cr && self.rng.chance(0.05);
        let n_units = if cancelled {
            0
        } else if cr {
            1 + cr_backup as usize
        } else if self.rng.chance((ty.multi as f64 / 100.0 * 1.25).min(1.0)) {
            if self.rng.chance(if ty.flags & W != 0 { 0.6 } else { 0.3 }) {
                3
            } else {
                2
            }
        } else {
            1
        };

        let disposition = if cancelled {
            if self.rng.chance(0.3) {
                "DUPLICATE"
            } else {
                "CANCELLED"
            }
        } else if cr_backup {
            "POLICE ASSIST REQUESTED"
        } else if cr {
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
            DISPOSITIONS[self.rng.weighted(&disp_weights(ty.disp))]
        };
        let long_scene = matches!(disposition, "ARREST" | "REPORT WRITTEN" | "TRANSPORTED TO SERVICES");

        let malformed = if n_units <= 1 && self.rng.chance(p_malformed) {
            Some(match self.rng.weighted(&[20, 15, 20, 15, 15, 15]) {
                0 => Malformed::BadDate,
                1 => Malformed::NotADate,
                2 => Malformed::MissingField,
                3 => Malformed::ExtraField,
                4 => Malformed::EmptyIncident,
                _ => Malformed::BadPriority,
            })
        } else {
            None
        };

        let mut priority = pri.to_string();
        if self.rng.chance(0.03) {
            priority.insert(0, ' ');
        }
        let initial = self.variant(ty.name);
        let final_ = self.variant(TYPES[fi].name);
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

        let abs0 = self.dst.to_abs(received);
        let mut rows = Vec::with_capacity(n_units.max(1));
        if n_units == 0 {
            let cleared = abs0 + self.rng.lognormal(600.0, 0.8, 30.0, 4.0 * 3600.0);
            rows.push(UnitRow {
                call,
                unit: String::new(),
                dispatched: None,
                on_scene: None,
                cleared: self.dst.to_wall(cleared),
                cr: false,
                onview,
                first: true,
            });
            return rows;
        }
        let median_delay = [60.0, 300.0, 900.0, 1800.0][pri as usize - 1];
        let medical = ty.flags & M != 0 || TYPES[fi].flags & M != 0;
        let mut first_dispatch = abs0;
        for k in 0..n_units {
            let unit = if cr && k == 0 {
                format!("CR{}", self.rng.range(1, 4))
            } else if medical && k > 0 {
                if k == 1 || self.rng.chance(0.5) {
                    format!("M{}", self.rng.range(1, 30))
                } else {
                    format!("E{}", self.rng.range(1, 30))
                }
            } else if k == 2 && ty.disp == Disp::Accident && self.rng.chance(0.3) {
                format!("E{}", self.rng.range(1, 30))
            } else {
                self.police_unit(district, rng_hour)
            };
            let (dispatched, on_scene) = if onview {
                if k == 0 {
                    (abs0, Some(abs0 + self.rng.range(0, 30)))
                } else {
                    let d = abs0 + self.rng.lognormal(120.0, 0.8, 10.0, 3600.0);
                    (d, Some(d + self.rng.lognormal(300.0, 0.5, 60.0, 1800.0)))
                }
            } else {
                let d = if k == 0 {
                    abs0 + self.rng.lognormal(median_delay, if pri == 1 { 0.8 } else { 1.0 }, 5.0, 12.0 * 3600.0)
                } else if cr_backup {
                    first_dispatch + self.rng.lognormal(1200.0, 0.6, 120.0, 3.0 * 3600.0)
                } else {
                    first_dispatch + self.rng.lognormal(120.0, 0.8, 5.0, 3600.0)
                };
                let travel_median = if cr && k == 0 { 600.0 } else { 420.0 };
                let arrive = if self.rng.chance(0.12) {
                    None
                } else {
                    Some(d + self.rng.lognormal(travel_median, 0.35, 150.0, 1800.0))
                };
                (d, arrive)
            };
            if k == 0 {
                first_dispatch = dispatched;
            }
            let scene_median = if cr && k == 0 {
                2400.0
            } else if ty.disp == Disp::Stop {
                900.0
            } else {
                1500.0
            } * if long_scene && k == 0 { 1.8 } else { 1.0 };
            let cleared = match on_scene {
                Some(a) => a + self.rng.lognormal(scene_median, 0.5, 120.0, 8.0 * 3600.0),
                None => dispatched + self.rng.lognormal(400.0, 0.6, 60.0, 3600.0),
            };
            rows.push(UnitRow {
                call: call.clone(),
                unit,
                dispatched: Some(self.dst.to_wall(dispatched)),
                on_scene: on_scene.map(|a| self.dst.to_wall(a)),
                cleared: self.dst.to_wall(cleared),
                cr: cr && k == 0,
                onview,
                first: k == 0,
            });
        }
        rows
    }
}

struct Out<W: io::Write> {
    wtr: csv::Writer<W>,
    bufs: [String; 4],
    stats: SampleStats,
    target: usize,
}

impl<W: io::Write> Out<W> {
    fn done(&self) -> bool {
        self.stats.rows >= self.target
    }

    fn write(&mut self, row: &UnitRow) -> io::Result<()> {
        if self.done() {
            return Ok(());
        }
        let c = &*row.call;
        for b in self.bufs.iter_mut() {
            b.clear();
        }
        let [recv, disp, scene, clr] = &mut self.bufs;
        fmt_time(recv, c.received);
        if let Some(t) = row.dispatched {
            fmt_time(disp, t);
        }
        if let Some(t) = row.on_scene {
            fmt_time(scene, t);
        }
        fmt_time(clr, row.cleared);
        let district = ["D1", "D2", "D3", "D4", "D5", "D6"][c.district as usize - 1];
        let mut rec: [&str; 15] = [
            &c.incident,
            &row.unit,
            recv,
            disp,
            scene,
            clr,
            c.source,
            &c.initial,
            &c.final_,
            &c.priority,
            c.disposition,
            district,
            &c.beat,
            &c.address,
            &c.narrative,
        ];
        self.stats.rows += 1;
        match c.malformed {
            None => {
                if row.first {
                    self.stats.incidents += 1;
                    self.stats.officer_initiated += row.onview as usize;
                    self.stats.community_responder_incidents += row.cr as usize;
                } else {
                    self.stats.unit_rows += 1;
                }
                self.wtr.write_record(rec)?;
            }
            Some(m) => {
                self.stats.malformed += 1;
                match m {
                    Malformed::BadDate => rec[2] = "13/45/2024 27:61:00 PM",
                    Malformed::NotADate => rec[2] = "NOT A DATE",
                    Malformed::EmptyIncident => rec[0] = "",
                    Malformed::BadPriority => rec[9] = "P9",
                    Malformed::MissingField => {
                        // A field dropped mid-row (everything after it shifts left).
                        let mut short: Vec<&str> = rec.to_vec();
                        short.remove(10);
                        self.wtr.write_record(&short)?;
                        return Ok(());
                    }
                    Malformed::ExtraField => {
                        let mut long: Vec<&str> = rec.to_vec();
                        long.insert(14, "");
                        self.wtr.write_record(&long)?;
                        return Ok(());
                    }
                }
                self.wtr.write_record(rec)?;
            }
        }
        Ok(())
    }
}

/// Write a synthetic CAD export (header + exactly `spec.rows` data rows) to `out`.
pub fn write_sample<W: io::Write>(spec: &SampleSpec, out: W) -> io::Result<SampleStats> {
    let months = spec.months.max(1);
    let end = spec.start + Months::new(months);
    let day0 = days_from_epoch(spec.start);
    let n_days = (days_from_epoch(end) - day0).max(1) as usize;
    let mut gen = Gen::new(spec, end.year());

    // Day weights: day of week x mild seasonality (summer high).
    let day_w: Vec<f64> = (0..n_days)
        .map(|i| {
            let d = spec.start + chrono::Days::new(i as u64);
            let season = 1.0 + 0.08 * ((d.ordinal() as f64 - 105.0) / 365.0 * std::f64::consts::TAU).sin();
            DOW_W[d.weekday().num_days_from_monday() as usize] * season
        })
        .collect();
    let mut suffix = vec![0.0; n_days + 1];
    for i in (0..n_days).rev() {
        suffix[i] = suffix[i + 1] + day_w[i];
    }

    let mut wtr = csv::WriterBuilder::new().flexible(true).from_writer(out);
    wtr.write_record(HEADER)?;
    let mut o = Out { wtr, bufs: Default::default(), stats: SampleStats::default(), target: spec.rows };

    // Unit rows wait for 0-5 further incidents before being written (interleaving).
    let mut pending: Vec<(usize, UnitRow)> = Vec::new();
    let mut planned_rows = 0usize; // rows generated so far (written + pending)
    let mut generated = 0usize; // incidents generated so far
    let p_malformed = 0.0093;
    let mut times: Vec<u32> = Vec::new();
    let mut day = 0usize;
    while !o.done() {
        // Self-correcting plan: incidents still needed / weight of the remaining days.
        let mean = (planned_rows as f64 + 1.36 * 500.0) / (generated as f64 + 500.0);
        let remaining_rows = spec.rows.saturating_sub(planned_rows) as f64;
        let remaining_incidents = remaining_rows / mean;
        let count = if day + 1 >= n_days {
            (remaining_incidents * 1.05).ceil() as usize + 3
        } else {
            let x = remaining_incidents * day_w[day] / suffix[day];
            x.floor() as usize + gen.rng.chance(x.fract()) as usize
        };
        times.clear();
        for _ in 0..count {
            let h = gen.hour_cdf.sample(&mut gen.rng) as u32;
            times.push(h * 3600 + gen.rng.below(3600) as u32);
        }
        times.sort_unstable();
        let day_start = (day0 + day as i64) * DAY;
        for &s in &times {
            if o.done() {
                break;
            }
            let rows = gen.incident(day_start + s as i64, p_malformed);
            generated += 1;
            planned_rows += rows.len();
            let mut delay = 0;
            for (k, r) in rows.into_iter().enumerate() {
                if k == 0 {
                    o.write(&r)?;
                } else {
                    delay = (delay + gen.rng.below(4)).min(5);
                    pending.push((generated + delay, r));
                }
            }
            let mut i = 0;
            while i < pending.len() {
                if pending[i].0 <= generated {
                    let (_, r) = pending.remove(i);
                    o.write(&r)?;
                } else {
                    i += 1;
                }
            }
        }
        day += 1;
        if day >= n_days {
            for (_, r) in pending.drain(..) {
                o.write(&r)?;
            }
        }
    }
    o.wtr.flush()?;
    Ok(o.stats)
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDateTime, Timelike};
    use std::collections::{HashMap, HashSet};

    const FMT: &str = "%m/%d/%Y %I:%M:%S %p";

    fn gen(rows: usize, seed: u64) -> (Vec<u8>, SampleStats) {
        let spec = SampleSpec { rows, seed, ..SampleSpec::default() };
        let mut buf = Vec::new();
        let stats = write_sample(&spec, &mut buf).unwrap();
        (buf, stats)
    }

    fn records(buf: &[u8]) -> Vec<csv::StringRecord> {
        csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(buf)
            .records()
            .collect::<Result<_, _>>()
            .expect("output parses as CSV")
    }

    fn is_malformed(r: &csv::StringRecord) -> bool {
        r.len() != 15
            || r[0].is_empty()
            || !matches!(r[9].trim(), "1" | "2" | "3" | "4")
            || NaiveDateTime::parse_from_str(&r[2], FMT).is_err()
    }

    #[test]
    fn deterministic_and_seed_sensitive() {
        let (a, sa) = gen(5_000, 7);
        let (b, sb) = gen(5_000, 7);
        let (c, _) = gen(5_000, 8);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        assert_ne!(a, c);
    }

    #[test]
    fn exact_row_count_and_header() {
        for rows in [0, 1, 2, 17, 999, 12_345] {
            let (buf, stats) = gen(rows, 3);
            let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(&buf[..]);
            assert_eq!(rdr.headers().unwrap().iter().collect::<Vec<_>>(), HEADER.to_vec());
            assert_eq!(rdr.records().count(), rows, "rows={rows}");
            assert_eq!(stats.rows, rows);
            assert_eq!(stats.rows, stats.incidents + stats.unit_rows + stats.malformed);
        }
        let (buf, _) = gen(10, 1);
        assert!(buf.starts_with(b"incident_number,unit_id,call_received,dispatched,on_scene,cleared,call_source,initial_type,final_type,priority,disposition,district,beat,block_address,narrative\n"));
    }

    #[test]
    fn default_spec_shape() {
        let spec = SampleSpec::default();
        let mut buf = Vec::new();
        let stats = write_sample(&spec, &mut buf).unwrap();
        let recs = records(&buf);
        assert_eq!(recs.len(), 50_000);
        assert_eq!(stats.rows, 50_000);

        // Malformed rows: detected == reported, 0.3-0.8 %.
        let detected = recs.iter().filter(|r| is_malformed(r)).count();
        assert_eq!(detected, stats.malformed);
        let share = stats.malformed as f64 / stats.rows as f64;
        assert!((0.003..=0.008).contains(&share), "malformed share {share}");

        // Every well-formed row's timestamps parse.
        let good: Vec<&csv::StringRecord> = recs.iter().filter(|r| !is_malformed(r)).collect();
        for r in &good {
            for f in 2..6 {
                if !r[f].is_empty() {
                    NaiveDateTime::parse_from_str(&r[f], FMT).unwrap_or_else(|e| panic!("{:?} field {f}: {e}", &r[f]));
                }
            }
        }

        // Incidents, unit rows, ONVIEW share.
        let mut first_pos: HashMap<&str, usize> = HashMap::new();
        let mut onview = 0;
        let mut non_adjacent_repeat = false;
        for (i, r) in good.iter().enumerate() {
            match first_pos.get(&r[0]) {
                None => {
                    first_pos.insert(&r[0], i);
                    onview += (&r[6] == "ONVIEW") as usize;
                }
                Some(&p) => non_adjacent_repeat |= i > p + 1,
            }
        }
        assert_eq!(first_pos.len(), stats.incidents);
        assert_eq!(good.len() - first_pos.len(), stats.unit_rows);
        assert!(stats.unit_rows > 0 && non_adjacent_repeat);
        assert_eq!(onview, stats.officer_initiated);
        let on_share = onview as f64 / stats.incidents as f64;
        assert!((0.35..=0.45).contains(&on_share), "onview share {on_share}");

        // Leading-zero incident numbers.
        assert!(good.iter().any(|r| r[0].starts_with("24-000")));

        // Community responder units: only D1/D3, after launch (2024-06-01 09:00), 09:00-01:00.
        let launch = NaiveDate::from_ymd_opt(2024, 6, 1).unwrap().and_hms_opt(9, 0, 0).unwrap();
        let mut cr_incidents = HashSet::new();
        for r in &good {
            if r[1].starts_with("CR") {
                assert!(&r[11] == "D1" || &r[11] == "D3", "CR in {}", &r[11]);
                let t = NaiveDateTime::parse_from_str(&r[2], FMT).unwrap();
                assert!(t >= launch, "CR before launch: {t}");
                assert!(t.hour() >= 9 || t.hour() < 1, "CR out of hours: {t}");
                cr_incidents.insert(r[0].to_string());
            }
        }
        assert_eq!(cr_incidents.len(), stats.community_responder_incidents);
        assert!(stats.community_responder_incidents > 100);

        // Quoted newlines and commas survive.
        assert!(good.iter().any(|r| r[14].contains('\n')));
        assert!(good.iter().any(|r| r[14].contains('"')));
        // Some unknown and variant type texts.
        assert!(good.iter().any(|r| &r[7] == "SPECIAL DETAIL" || &r[7] == "ATL BROADCAST"));
        assert!(good
            .iter()
            .any(|r| r[7].ends_with(' ') || r[7].contains("  ") || r[7].chars().any(|c| c.is_ascii_lowercase())));
        // final != initial on a share of public incidents.
        let public: Vec<_> = good.iter().filter(|r| &r[6] != "ONVIEW").collect();
        let changed = public.iter().filter(|r| norm(&r[7]) != norm(&r[8])).count() as f64 / public.len() as f64;
        assert!((0.10..=0.20).contains(&changed), "reclassified share {changed}");
    }

    fn norm(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase()
    }

    #[test]
    fn rows_sorted_by_received() {
        let (buf, _) = gen(20_000, 11);
        let recs = records(&buf);
        let mut seen = HashSet::new();
        let mut last = None;
        for r in recs.iter().filter(|r| !is_malformed(r)) {
            let t = NaiveDateTime::parse_from_str(&r[2], FMT).unwrap();
            if seen.insert(r[0].to_string()) {
                // First rows of incidents are in call_received order.
                assert!(last.is_none_or(|l| l <= t), "{:?} after {:?}", t, last);
                last = Some(t);
            } else {
                // Later unit rows come after their incident's first row.
                assert!(last.is_some_and(|l| t <= l));
            }
        }
    }

    #[test]
    fn dst_conversion() {
        let dst = Dst::new(2023, 2026);
        // 2024-03-10 01:59:59 MST -> +1 s = 03:00:00 MDT.
        let w = days_from_epoch(NaiveDate::from_ymd_opt(2024, 3, 10).unwrap()) * DAY + HOUR + 3599;
        assert_eq!(dst.to_wall(dst.to_abs(w) + 1), w + 1 + HOUR);
        // 2024-11-03 01:30 MDT + 1 h = 01:30 MST.
        let w = days_from_epoch(NaiveDate::from_ymd_opt(2024, 11, 3).unwrap()) * DAY + HOUR + 1800;
        assert_eq!(dst.to_wall(dst.to_abs(w) + HOUR), w);
        let mut s = String::new();
        fmt_time(&mut s, days_from_epoch(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()) * DAY + 12 * HOUR + 5);
        assert_eq!(s, "02/29/2024 12:00:05 PM");
        s.clear();
        fmt_time(&mut s, days_from_epoch(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()) * DAY + 61);
        assert_eq!(s, "01/01/2025 12:01:01 AM");
    }

    #[test]
    fn crosswalk_covers_emitted_types() {
        let (buf, _) = gen(50_000, 5);
        let known: HashSet<String> =
            crosswalk_csv().lines().skip(1).map(|l| l.split(',').next().unwrap().to_string()).collect();
        let unknown: HashSet<&str> = TYPES.iter().filter(|t| t.flags & UNK != 0).map(|t| t.name).collect();
        let mut unmapped = 0;
        let recs = records(&buf);
        for r in recs.iter().filter(|r| !is_malformed(r)) {
            for f in [7, 8] {
                let n = norm(&r[f]);
                if !known.contains(&n) {
                    assert!(unknown.contains(n.as_str()), "unexpected type {n}");
                    if f == 7 {
                        unmapped += 1;
                    }
                }
            }
        }
        let share = unmapped as f64 / recs.len() as f64;
        assert!((0.003..=0.012).contains(&share), "unmapped share {share}");
    }

    /// The crosswalk shipped at profiles/callsift_sample.crosswalk.csv.
    fn crosswalk_csv() -> String {
        let mut s = String::from(
            "raw_type,category,weapon,violence,medical,in_progress,bh_nexus,conflict,police_type,third_party_likelihood\n",
        );
        let flag = |t: &CallType, f: u8| if t.flags & f != 0 { "1" } else { "" };
        for t in TYPES.iter().filter(|t| t.flags & UNK == 0) {
            let cat = if t.category.contains(',') { format!("\"{}\"", t.category) } else { t.category.to_string() };
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

    /// `CALLSIFT_CROSSWALK_OUT=path cargo test -- --ignored write_crosswalk`
    #[test]
    #[ignore]
    fn write_crosswalk() {
        let path = std::env::var("CALLSIFT_CROSSWALK_OUT").expect("set CALLSIFT_CROSSWALK_OUT");
        std::fs::write(path, crosswalk_csv()).unwrap();
    }
}
