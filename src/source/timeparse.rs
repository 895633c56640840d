//! Timestamp parsing for CAD exports: strftime-style formats compiled once, then matched
//! byte by byte with no allocation, and local wall time converted to UTC in the profile's zone.
//!
//! Why not `chrono::NaiveDateTime::parse_from_str`: it costs ~10x more per value and ingest parses
//! four timestamps per row. Why lenient digits: exports mix `3/7/2024 9:05` and `03/07/2024 09:05`.
use chrono::{LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Year4,
    Year2,
    Month,
    MonthName,
    Day,
    Hour24,
    Hour12,
    Minute,
    Second,
    Fraction,
    AmPm,
    Epoch,
    /// `%z`: `Z`, `+HH`, `+HHMM` or `+HH:MM` — the value is an instant, not local time.
    Offset,
    Lit(u8),
    Space,
}

/// One compiled format, e.g. `%m/%d/%Y %I:%M:%S %p`.
#[derive(Debug, Clone)]
pub struct TimeFormat {
    source: String,
    toks: Vec<Tok>,
}

impl TimeFormat {
    /// Supported: %Y %y %m %b %d %H %I %M %S %f (fraction, optional) %p %s (epoch seconds) %T %D,
    /// literals, and a space that matches one or more spaces (or a `T`).
    pub fn compile(fmt: &str) -> Result<Self, String> {
        let mut toks = Vec::new();
        let b = fmt.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                let c = *b.get(i + 1).ok_or_else(|| format!("format `{fmt}` ends with a lone %"))?;
                match c {
                    b'Y' => toks.push(Tok::Year4),
                    b'y' => toks.push(Tok::Year2),
                    b'm' => toks.push(Tok::Month),
                    b'b' | b'h' => toks.push(Tok::MonthName),
                    b'd' | b'e' => toks.push(Tok::Day),
                    b'H' => toks.push(Tok::Hour24),
                    b'I' => toks.push(Tok::Hour12),
                    b'M' => toks.push(Tok::Minute),
                    b'S' => toks.push(Tok::Second),
                    b'f' => {
                        // `.%f`: the fraction brings its own separator and may be absent entirely.
                        if toks.last() == Some(&Tok::Lit(b'.')) {
                            toks.pop();
                        }
                        toks.push(Tok::Fraction)
                    }
                    b'p' => toks.push(Tok::AmPm),
                    b's' => toks.push(Tok::Epoch),
                    b'z' => toks.push(Tok::Offset),
                    b'T' => toks.extend([Tok::Hour24, Tok::Lit(b':'), Tok::Minute, Tok::Lit(b':'), Tok::Second]),
                    b'D' => toks.extend([Tok::Month, Tok::Lit(b'/'), Tok::Day, Tok::Lit(b'/'), Tok::Year2]),
                    b'%' => toks.push(Tok::Lit(b'%')),
                    other => return Err(format!("format `{fmt}`: unsupported directive %{}", other as char)),
                }
                i += 2;
            } else if b[i] == b' ' {
                toks.push(Tok::Space);
                i += 1;
            } else {
                toks.push(Tok::Lit(b[i]));
                i += 1;
            }
        }
        Ok(TimeFormat { source: fmt.to_string(), toks })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Parse a local wall time (`None` offset), or an instant: the wall time at a UTC offset in
    /// seconds (`%z`; epoch seconds `%s` come back as UTC, offset 0).
    fn parse(&self, s: &[u8]) -> Option<(NaiveDateTime, Option<i32>)> {
        let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut nanos) = (1970i32, 1u32, 1u32, 0u32, 0u32, 0u32, 0u32);
        let mut pm: Option<bool> = None;
        let mut h12 = false;
        let mut i = 0usize;
        let mut epoch = None;
        let mut offset: Option<i32> = None;
        let mut t = 0;
        while t < self.toks.len() {
            let tok = &self.toks[t];
            match tok {
                Tok::Year4 => y = digits(s, &mut i, 4, 4)? as i32,
                Tok::Year2 => {
                    let v = digits(s, &mut i, 2, 2)? as i32;
                    // Two-digit years: 69–99 → 19xx, otherwise 20xx (POSIX convention).
                    y = if v >= 69 { 1900 + v } else { 2000 + v };
                }
                Tok::Month => mo = digits(s, &mut i, 1, 2)?,
                Tok::MonthName => mo = month_name(s, &mut i)?,
                Tok::Day => d = digits(s, &mut i, 1, 2)?,
                Tok::Hour24 => h = digits(s, &mut i, 1, 2)?,
                Tok::Hour12 => {
                    h = digits(s, &mut i, 1, 2)?;
                    h12 = true;
                }
                Tok::Minute => mi = digits(s, &mut i, 1, 2)?,
                Tok::Second => sec = digits(s, &mut i, 1, 2)?,
                Tok::Fraction => nanos = fraction(s, &mut i),
                Tok::AmPm => {
                    let a = s.get(i..i + 2)?;
                    pm = match [a[0].to_ascii_uppercase(), a[1].to_ascii_uppercase()] {
                        [b'A', b'M'] => Some(false),
                        [b'P', b'M'] => Some(true),
                        _ => return None,
                    };
                    i += 2;
                }
                Tok::Epoch => {
                    let neg = s.get(i) == Some(&b'-');
                    if neg {
                        i += 1;
                    }
                    let v = digits(s, &mut i, 1, 12)? as i64;
                    epoch = Some(if neg { -v } else { v });
                }
                Tok::Offset => offset = Some(utc_offset(s, &mut i)?),
                Tok::Lit(c) => {
                    if s.get(i) != Some(c) {
                        return None;
                    }
                    i += 1;
                }
                Tok::Space => {
                    if i < s.len() && (s[i] == b' ' || s[i] == b'T') {
                        i += 1;
                        while i < s.len() && s[i] == b' ' {
                            i += 1;
                        }
                    } else {
                        return None;
                    }
                }
            }
            t += 1;
        }
        if i != s.len() {
            return None;
        }
        if let Some(e) = epoch {
            return chrono::DateTime::from_timestamp(e, 0).map(|dt| (dt.naive_utc(), Some(0)));
        }
        if h12 {
            h = hour_from_12(h, pm)?;
        }
        let date = NaiveDate::from_ymd_opt(y, mo, d)?;
        let time = NaiveTime::from_hms_nano_opt(h, mi, sec, nanos)?;
        Some((date.and_time(time), offset))
    }
}

/// An optional fraction of a second (`.123`, `,123456`, or nothing) as nanoseconds.
fn fraction(s: &[u8], i: &mut usize) -> u32 {
    if !(*i < s.len() && (s[*i] == b'.' || s[*i] == b',') && s.get(*i + 1).is_some_and(u8::is_ascii_digit)) {
        return 0;
    }
    *i += 1;
    let start = *i;
    let mut v: u64 = 0;
    while *i < s.len() && s[*i].is_ascii_digit() {
        if *i - start < 9 {
            v = v * 10 + (s[*i] - b'0') as u64;
        }
        *i += 1;
    }
    let n = (*i - start).min(9) as u32;
    (v * 10u64.pow(9 - n)) as u32
}

/// `%z`: `Z`, `+HH`, `+HHMM` or `+HH:MM` (after optional spaces) as seconds east of UTC.
fn utc_offset(s: &[u8], i: &mut usize) -> Option<i32> {
    while *i < s.len() && s[*i] == b' ' {
        *i += 1;
    }
    match s.get(*i) {
        Some(b'Z') | Some(b'z') => {
            *i += 1;
            Some(0)
        }
        Some(&sign @ (b'+' | b'-')) => {
            *i += 1;
            let hh = digits(s, i, 2, 2)? as i32;
            if s.get(*i) == Some(&b':') {
                *i += 1;
            }
            let mm = if s.get(*i).is_some_and(u8::is_ascii_digit) { digits(s, i, 2, 2)? as i32 } else { 0 };
            let secs = hh * 3600 + mm * 60;
            Some(if sign == b'-' { -secs } else { secs })
        }
        _ => None,
    }
}

/// A 12-hour clock hour with its AM/PM as a 24-hour hour. `00:29:23 AM` appears in real exports
/// (SF): hour 0 reads as 12 AM.
fn hour_from_12(h: u32, pm: Option<bool>) -> Option<u32> {
    if h > 12 {
        return None;
    }
    Some(match (pm, h) {
        (Some(true), 12) => 12,
        (Some(true), h) => h + 12,
        (_, 12) => 0,
        (_, h) => h,
    })
}

fn digits(s: &[u8], i: &mut usize, min: usize, max: usize) -> Option<u32> {
    let start = *i;
    let mut v: u32 = 0;
    while *i < s.len() && *i - start < max && s[*i].is_ascii_digit() {
        v = v.wrapping_mul(10).wrapping_add((s[*i] - b'0') as u32);
        *i += 1;
    }
    if *i - start < min {
        return None;
    }
    Some(v)
}

fn month_name(s: &[u8], i: &mut usize) -> Option<u32> {
    const NAMES: [&[u8; 3]; 12] =
        [b"JAN", b"FEB", b"MAR", b"APR", b"MAY", b"JUN", b"JUL", b"AUG", b"SEP", b"OCT", b"NOV", b"DEC"];
    let a = s.get(*i..*i + 3)?;
    let up = [a[0].to_ascii_uppercase(), a[1].to_ascii_uppercase(), a[2].to_ascii_uppercase()];
    let m = NAMES.iter().position(|n| **n == up)? as u32 + 1;
    *i += 3;
    // Accept full names (`March`) too.
    while *i < s.len() && s[*i].is_ascii_alphabetic() {
        *i += 1;
    }
    Some(m)
}

/// No configured format matched a timestamp (the caller knows the column and the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFormatMatched;

/// A parsed instant: UTC and local wall-clock microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant {
    pub utc_us: i64,
    pub local_us: i64,
}

/// Parses one profile's timestamps and places them in its time zone.
#[derive(Debug, Clone)]
pub struct TimeParser {
    formats: Vec<TimeFormat>,
    tz: Tz,
    sentinels: Vec<String>,
    /// Index of the format that matched last: exports use one format, so try it first.
    last: std::cell::Cell<usize>,
    /// Direct-mapped cache of UTC offsets for unambiguous local hours: a row's four timestamps
    /// fall in a few nearby hours, and exports are roughly time-ordered.
    cache: std::cell::RefCell<[(i64, i64); 64]>,
}

impl TimeParser {
    pub fn new(formats: Vec<TimeFormat>, tz: Tz, sentinels: Vec<String>) -> Self {
        TimeParser {
            formats,
            tz,
            sentinels: sentinels.into_iter().map(|s| s.trim().to_ascii_uppercase()).collect(),
            last: std::cell::Cell::new(0),
            cache: std::cell::RefCell::new([(i64::MIN, 0); 64]),
        }
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    pub fn formats(&self) -> impl Iterator<Item = &str> {
        self.formats.iter().map(|f| f.source())
    }

    /// `Ok(None)` for a sentinel ("no time"), `Err(NoFormatMatched)` when no format matches.
    pub fn parse(&self, s: &str) -> Result<Option<Instant>, NoFormatMatched> {
        let b = s.as_bytes();
        if !self.sentinels.is_empty() && self.sentinels.iter().any(|x| x.eq_ignore_ascii_case(s)) {
            return Ok(None);
        }
        let n = self.formats.len();
        let first = self.last.get();
        for k in 0..n {
            let idx = (first + k) % n;
            if let Some((ndt, offset)) = self.formats[idx].parse(b) {
                self.last.set(idx);
                return Ok(Some(match offset {
                    Some(off) => self.utc_instant(ndt - chrono::Duration::seconds(off as i64)),
                    None => self.local_instant(ndt),
                }));
            }
        }
        Err(NoFormatMatched)
    }

    fn utc_instant(&self, utc: NaiveDateTime) -> Instant {
        let utc_us = utc.and_utc().timestamp_micros();
        let off = self.tz.offset_from_utc_datetime(&utc).fix().local_minus_utc() as i64;
        Instant { utc_us, local_us: utc_us + off * 1_000_000 }
    }

    /// Local wall time → instant. In the repeated hour of a fall-back day the earlier instant is
    /// taken (exports cannot tell them apart); a wall time inside the spring-forward gap is read
    /// with the offset in force just before the gap (02:30 → 03:30 daylight time).
    pub fn local_instant(&self, local: NaiveDateTime) -> Instant {
        let local_us = local.and_utc().timestamp_micros();
        let hour = local_us.div_euclid(3_600_000_000);
        let slot = hour.rem_euclid(64) as usize;
        let (cached_hour, cached_off) = self.cache.borrow()[slot];
        if cached_hour == hour {
            return Instant { utc_us: local_us - cached_off, local_us };
        }
        let off_us = match self.tz.from_local_datetime(&local) {
            LocalResult::Single(dt) => {
                let off = dt.offset().fix().local_minus_utc() as i64 * 1_000_000;
                // Cache only hours that are unambiguous at both ends.
                let start = chrono::DateTime::from_timestamp_micros(hour * 3_600_000_000).map(|d| d.naive_utc());
                let end = chrono::DateTime::from_timestamp_micros(hour * 3_600_000_000 + 3_599_999_999)
                    .map(|d| d.naive_utc());
                if let (Some(s), Some(e)) = (start, end) {
                    if matches!(self.tz.from_local_datetime(&s), LocalResult::Single(_))
                        && matches!(self.tz.from_local_datetime(&e), LocalResult::Single(_))
                    {
                        self.cache.borrow_mut()[slot] = (hour, off);
                    }
                }
                off
            }
            LocalResult::Ambiguous(early, _late) => early.offset().fix().local_minus_utc() as i64 * 1_000_000,
            LocalResult::None => {
                let before = local - chrono::Duration::hours(3);
                match self.tz.from_local_datetime(&before) {
                    LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) => {
                        dt.offset().fix().local_minus_utc() as i64 * 1_000_000
                    }
                    LocalResult::None => 0,
                }
            }
        };
        Instant { utc_us: local_us - off_us, local_us }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser(fmts: &[&str]) -> TimeParser {
        TimeParser::new(
            fmts.iter().map(|f| TimeFormat::compile(f).unwrap()).collect(),
            "America/Denver".parse().unwrap(),
            vec!["01/01/1900 12:00:00 AM".into()],
        )
    }

    fn utc(p: &TimeParser, s: &str) -> String {
        let i = p.parse(s).unwrap().unwrap();
        chrono::DateTime::from_timestamp_micros(i.utc_us).unwrap().format("%Y-%m-%dT%H:%M:%S%.fZ").to_string()
    }

    #[test]
    fn twelve_hour_format_with_and_without_padding() {
        let p = parser(&["%m/%d/%Y %I:%M:%S %p"]);
        assert_eq!(utc(&p, "01/15/2024 01:05:09 PM"), "2024-01-15T20:05:09Z"); // MST = UTC-7
        assert_eq!(utc(&p, "1/5/2024 1:05:09 pm"), "2024-01-05T20:05:09Z");
        assert_eq!(utc(&p, "07/04/2024 12:00:00 AM"), "2024-07-04T06:00:00Z"); // MDT = UTC-6, midnight
        assert_eq!(utc(&p, "07/04/2024 12:30:00 PM"), "2024-07-04T18:30:00Z");
        // Real SF quirk: hour 00 with AM.
        assert_eq!(utc(&p, "07/04/2024 00:29:23 AM"), "2024-07-04T06:29:23Z");
        assert!(p.parse("13/45/2024 27:61:00 PM").is_err());
        assert!(p.parse("NOT A DATE").is_err());
        assert!(p.parse("01/15/2024 01:05:09 PM extra").is_err());
    }

    #[test]
    fn sentinel_is_null() {
        let p = parser(&["%m/%d/%Y %I:%M:%S %p"]);
        assert_eq!(p.parse("01/01/1900 12:00:00 AM"), Ok(None));
    }

    #[test]
    fn iso_with_optional_fraction_and_t() {
        let p = parser(&["%Y-%m-%d %H:%M:%S.%f"]);
        assert_eq!(utc(&p, "2024-03-01T08:00:00.250"), "2024-03-01T15:00:00.250Z");
        assert_eq!(utc(&p, "2024-03-01 08:00:00"), "2024-03-01T15:00:00Z");
    }

    #[test]
    fn spring_forward_gap_and_fall_back_repeat() {
        // Denver 2024: DST starts Sun 10 March 02:00 → 03:00; ends Sun 3 Nov 02:00 → 01:00.
        let p = parser(&["%Y-%m-%d %H:%M:%S"]);
        assert_eq!(utc(&p, "2024-03-10 01:59:00"), "2024-03-10T08:59:00Z"); // MST
        assert_eq!(utc(&p, "2024-03-10 02:30:00"), "2024-03-10T09:30:00Z"); // gap: read as MST
        assert_eq!(utc(&p, "2024-03-10 03:00:00"), "2024-03-10T09:00:00Z"); // MDT
        assert_eq!(utc(&p, "2024-11-03 00:59:00"), "2024-11-03T06:59:00Z"); // MDT
        assert_eq!(utc(&p, "2024-11-03 01:30:00"), "2024-11-03T07:30:00Z"); // repeated hour: earlier (MDT)
        assert_eq!(utc(&p, "2024-11-03 02:00:00"), "2024-11-03T09:00:00Z"); // MST
                                                                            // The local wall clock is kept as written.
        let i = p.parse("2024-03-10 02:30:00").unwrap().unwrap();
        assert_eq!(
            i.local_us,
            NaiveDate::from_ymd_opt(2024, 3, 10).unwrap().and_hms_opt(2, 30, 0).unwrap().and_utc().timestamp_micros()
        );
    }

    #[test]
    fn cache_does_not_leak_across_dst_change() {
        let p = parser(&["%Y-%m-%d %H:%M:%S"]);
        // Same wall-clock hour-of-day on both sides of the change.
        assert_eq!(utc(&p, "2024-03-09 12:00:00"), "2024-03-09T19:00:00Z");
        assert_eq!(utc(&p, "2024-03-09 12:10:00"), "2024-03-09T19:10:00Z");
        assert_eq!(utc(&p, "2024-03-10 12:00:00"), "2024-03-10T18:00:00Z");
    }

    #[test]
    fn epoch_month_names_and_two_digit_years() {
        let p = parser(&["%s", "%b %d %Y %I:%M:%S%p", "%m/%d/%y %H:%M"]);
        assert_eq!(utc(&p, "1700000000"), "2023-11-14T22:13:20Z");
        assert_eq!(utc(&p, "Mar 05 2024 01:02:03PM"), "2024-03-05T20:02:03Z");
        assert_eq!(utc(&p, "3/5/24 13:02"), "2024-03-05T20:02:00Z");
    }

    #[test]
    fn utc_offsets_are_instants_shown_in_local_time() {
        let p = parser(&["%Y/%m/%d %H:%M:%S%z"]);
        assert_eq!(utc(&p, "2024/07/04 18:30:00+00"), "2024-07-04T18:30:00Z");
        assert_eq!(utc(&p, "2024/07/04 12:30:00-06:00"), "2024-07-04T18:30:00Z");
        assert_eq!(utc(&p, "2024/07/04 18:30:00Z"), "2024-07-04T18:30:00Z");
        // Local wall time in the profile's zone (Denver, MDT = UTC-6).
        let i = p.parse("2024/07/04 18:30:00+00").unwrap().unwrap();
        assert_eq!(i.local_us - i.utc_us, -6 * 3_600_000_000);
    }

    #[test]
    fn bad_format_directive_is_an_error() {
        assert!(TimeFormat::compile("%Q").unwrap_err().contains("%Q"));
    }
}
