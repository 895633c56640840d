//! Fixed word lists and weights of the generator: streets (ten per district), narrative fillers,
//! hour/day/district weights and the community-responder program's districts and outcomes.

pub(super) static STREETS: [&str; 60] = [
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

pub(super) static SUBJECTS: [&str; 14] = [
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
pub(super) static VEHICLES: [&str; 7] =
    ["SILVER SEDAN", "WHT PICKUP", "BLK SUV", "RED HONDA CIVIC", "GRY MINIVAN", "UNK VEH", "BLU TOYOTA, TEMP TAG"];
pub(super) static DIRECTIONS: [&str; 4] = ["NB", "SB", "EB", "WB"];
pub(super) static NEWLINE_TAILS: [&str; 3] =
    ["\nUPDATE: RP CALLED BACK, PARTY LEFT {D}", "\nRP CALLBACK: SUBJ NOW INSIDE BUSINESS", "\n** PREMISE HISTORY **"];

/// Hour-of-day weights (local): low 4-6 am, peak 3-7 pm.
pub(super) const HOUR_W: [f64; 24] = [
    3.6, 3.0, 2.6, 2.0, 1.5, 1.4, 1.8, 2.6, 3.6, 4.2, 4.5, 4.7, 4.9, 5.0, 5.2, 5.6, 5.8, 5.9, 5.8, 5.5, 5.0, 4.6, 4.3,
    4.0,
];
/// Day-of-week weights, Monday first.
pub(super) const DOW_W: [f64; 7] = [1.0, 0.98, 0.99, 1.0, 1.08, 1.06, 0.92];
pub(super) const DISTRICT_W: [f64; 6] = [22.0, 16.0, 18.0, 15.0, 15.0, 14.0];

pub(super) const CR_DISTRICTS: [u8; 2] = [1, 3];
pub(super) const CR_OUTCOMES: [&str; 4] =
    ["RESOURCES PROVIDED", "TRANSPORTED TO SERVICES", "NO PERSON FOUND", "REFERRED"];
pub(super) const CR_OUTCOME_W: [u32; 4] = [40, 15, 20, 25];
