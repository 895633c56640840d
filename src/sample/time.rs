//! Time for the generator: i64 seconds; "wall" = naive local America/Denver wall clock, "abs" = UTC.
//! Civil-date arithmetic, US DST rules and the export's `MM/DD/YYYY hh:mm:ss AM` format.

use chrono::{Datelike, NaiveDate};

pub(super) const DAY: i64 = 86_400;
pub(super) const HOUR: i64 = 3_600;

pub(super) fn days_from_epoch(d: NaiveDate) -> i64 {
    d.num_days_from_ce() as i64 - 719_163
}

/// (year, month, day) from days since 1970-01-01 (H. Hinnant's algorithm).
pub(super) fn civil_from_days(z: i64) -> (i64, u32, u32) {
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
pub(super) struct Dst {
    /// (spring 02:00 wall, fall 02:00 wall (MDT reading)) per year.
    years: Vec<(i64, i64)>,
}

impl Dst {
    pub(super) fn new(first_year: i32, last_year: i32) -> Dst {
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
    pub(super) fn to_abs(&self, wall: i64) -> i64 {
        for &(spring, fall) in &self.years {
            if wall >= spring + HOUR && wall < fall {
                return wall + 6 * HOUR;
            }
        }
        wall + 7 * HOUR
    }
    pub(super) fn to_wall(&self, abs: i64) -> i64 {
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
pub(super) fn fmt_time(s: &mut String, wall: i64) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn civil_dates_round_trip() {
        for d in [(1970, 1, 1), (2000, 2, 29), (2024, 12, 31), (1969, 12, 31)] {
            let days = days_from_epoch(NaiveDate::from_ymd_opt(d.0, d.1, d.2).unwrap());
            assert_eq!(civil_from_days(days), (d.0 as i64, d.1, d.2));
        }
    }
}
