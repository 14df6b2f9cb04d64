//! Time windows: which window of the calendar a row's time falls in.
//!
//! Windows are aligned to the calendar in UTC: `15m` and `1h` windows start on the quarter and
//! the hour, `1d` at midnight, week windows (`7d`, `1w`, `2w`…) on Monday at midnight (ISO
//! weeks), month windows (`1mo`, `3mo`…) on the first of the month. Other lengths are counted from
//! the Unix epoch. A row's time comes from a timestamp column (any unit, any zone: the instant
//! is what counts), a date column, or an epoch number whose unit is read from its magnitude.

use std::str::FromStr;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date64Type, Float64Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray, UInt32Array};

use super::Segment;
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, Datelike, NaiveDate};

use crate::error::{Error, Result};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
/// 1970-01-05, the first Monday after the epoch: week windows start on Mondays.
const MONDAY: i64 = 4 * DAY;

/// A window length, aligned to the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// A fixed length in milliseconds, counted from `origin` (the epoch, or a Monday for weeks).
    Fixed {
        /// Length, milliseconds.
        ms: i64,
        /// A window boundary, milliseconds since the epoch.
        origin: i64,
    },
    /// Calendar months: `n` of them, starting in January, April… for `3mo`.
    Months(u32),
    /// `n` consecutive rows (in time order, or in the inputs' order without a time): a
    /// segment's key is then the window's index, not an instant.
    Rows(u64),
}

/// Calendar windows: a length, aligned to the calendar of a time zone (UTC unless told).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The length.
    pub length: Length,
    /// The zone whose calendar windows follow: a day starts at local midnight, and a day of a
    /// daylight-saving change lasts 23 or 25 hours.
    pub tz: chrono_tz::Tz,
}

impl FromStr for Window {
    type Err = Error;

    /// `15m`, `1h`, `1d`, `7d`, `1w`, `1mo`: a whole number and a unit (`m` minutes, `h` hours,
    /// `d` days, `w` weeks, `mo` months), in UTC.
    fn from_str(s: &str) -> Result<Window> {
        let bad = || {
            crate::error::invalid(
                crate::Opt::Window,
                format!("expected a length such as 15m, 1h, 1d, 7d or 1mo, got {s:?}"),
            )
        };
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (n, unit) = t.split_at(split);
        let n: i64 = n.parse().map_err(|_| bad())?;
        if n <= 0 {
            return Err(bad());
        }
        let fixed = |unit_ms: i64| {
            let ms = n.checked_mul(unit_ms).ok_or_else(bad)?;
            let origin = if ms % WEEK == 0 { MONDAY } else { 0 };
            Ok(Length::Fixed { ms, origin })
        };
        let length = match unit {
            "m" | "min" => fixed(MINUTE),
            "h" => fixed(HOUR),
            "d" => fixed(DAY),
            "w" => fixed(WEEK),
            "mo" => u32::try_from(n).ok().filter(|&m| m <= 1200).map(Length::Months).ok_or_else(bad),
            _ => Err(bad()),
        }?;
        Ok(Window { length, tz: chrono_tz::UTC })
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.length {
            Length::Fixed { ms, .. } if ms % DAY == 0 => write!(f, "{}d", ms / DAY),
            Length::Fixed { ms, .. } if ms % HOUR == 0 => write!(f, "{}h", ms / HOUR),
            Length::Fixed { ms, .. } if ms % MINUTE == 0 => write!(f, "{}m", ms / MINUTE),
            Length::Fixed { ms, .. } => write!(f, "{ms}ms"),
            Length::Months(n) => write!(f, "{n}mo"),
            Length::Rows(n) => write!(f, "{n} rows"),
        }?;
        if self.tz != chrono_tz::UTC {
            write!(f, " ({})", self.tz.name())?;
        }
        Ok(())
    }
}

impl Length {
    /// Start of the window holding `t`, both counted on one clock (milliseconds).
    fn start(&self, t: i64) -> i64 {
        match *self {
            Length::Rows(_) => t,
            Length::Fixed { ms, origin } => origin + (t - origin).div_euclid(ms) * ms,
            Length::Months(n) => {
                let Some(d) = DateTime::from_timestamp_millis(t) else { return t };
                let months = d.year() as i64 * 12 + d.month0() as i64;
                let first = months - months.rem_euclid(n as i64);
                month_start(first).unwrap_or(t)
            }
        }
    }

    /// End of the window that starts at `start`, on the same clock.
    fn end(&self, start: i64) -> i64 {
        match *self {
            Length::Rows(_) => start.saturating_add(1),
            Length::Fixed { ms, .. } => start.saturating_add(ms),
            Length::Months(n) => {
                let Some(d) = DateTime::from_timestamp_millis(start) else { return start };
                let months = d.year() as i64 * 12 + d.month0() as i64 + n as i64;
                month_start(months).unwrap_or(start)
            }
        }
    }
}

impl Window {
    /// Windows of `n` consecutive rows.
    pub fn rows(n: u64) -> Window {
        Window { length: Length::Rows(n.max(1)), tz: chrono_tz::UTC }
    }

    /// The rows per window, for row windows.
    pub fn rows_per_window(&self) -> Option<u64> {
        match self.length {
            Length::Rows(n) => Some(n),
            _ => None,
        }
    }

    /// The same windows on the calendar of `tz`.
    pub fn in_tz(self, tz: chrono_tz::Tz) -> Window {
        Window { tz, ..self }
    }

    /// True for windows shorter than an hour.
    pub fn is_sub_hour(&self) -> bool {
        matches!(self.length, Length::Fixed { ms, .. } if ms < HOUR)
    }

    /// The local wall-clock time of instant `t`, as milliseconds of a UTC clock.
    fn local(&self, t: i64) -> i64 {
        match DateTime::from_timestamp_millis(t) {
            Some(d) => d.with_timezone(&self.tz).naive_local().and_utc().timestamp_millis(),
            None => t,
        }
    }

    /// The instants whose local wall-clock time is `wall` (as [`Window::local`] gives): one,
    /// two on a repeated hour, none in a skipped hour.
    fn instants(&self, wall: i64) -> Vec<i64> {
        use chrono::offset::LocalResult;
        use chrono::TimeZone;
        let Some(naive) = DateTime::from_timestamp_millis(wall).map(|d| d.naive_utc()) else { return vec![wall] };
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(d) => vec![d.timestamp_millis()],
            LocalResult::Ambiguous(a, b) => vec![a.timestamp_millis(), b.timestamp_millis()],
            LocalResult::None => Vec::new(),
        }
    }

    /// The first instant at or after local wall-clock time `wall` (past a skipped hour).
    fn first_after(&self, wall: i64) -> i64 {
        (0..=16).find_map(|i| self.instants(wall + i * 15 * MINUTE).first().copied()).unwrap_or(wall)
    }

    /// Start of the window holding instant `t` (milliseconds since the epoch): the last instant
    /// at or before `t` whose local time is a window boundary.
    pub fn start(&self, t: i64) -> i64 {
        if self.tz == chrono_tz::UTC || self.rows_per_window().is_some() {
            return self.length.start(t);
        }
        let b = self.length.start(self.local(t));
        let at = self.instants(b);
        match at.iter().copied().filter(|&s| s <= t).max() {
            Some(s) => s,
            None if at.is_empty() => self.first_after(b).min(t),
            None => at[0].min(t),
        }
    }

    /// End of the window that starts at `start`: the next instant whose local time is a window
    /// boundary (on a repeated hour, the same boundary's second occurrence).
    pub fn end(&self, start: i64) -> i64 {
        if self.tz == chrono_tz::UTC || self.rows_per_window().is_some() {
            return self.length.end(start);
        }
        let b = self.length.start(self.local(start));
        if let Some(again) = self.instants(b).into_iter().filter(|&s| s > start).min() {
            return again;
        }
        let mut next = self.length.end(b);
        for _ in 0..8 {
            let at = self.instants(next);
            let end =
                if at.is_empty() { Some(self.first_after(next)) } else { at.into_iter().filter(|&e| e > start).min() };
            if let Some(e) = end.filter(|&e| e > start) {
                return e;
            }
            next = self.length.end(next);
        }
        start + 1
    }
}

/// Midnight UTC on the first day of month `months` (counted as `year * 12 + month0`).
fn month_start(months: i64) -> Option<i64> {
    let (y, m) = (months.div_euclid(12), months.rem_euclid(12) as u32 + 1);
    let d = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, 1)?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// An instant as an ISO 8601 UTC timestamp (`2026-11-28T14:00:00Z`).
pub fn iso(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(|| ms.to_string(), |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// True for the types a time column may have: timestamps, dates, epoch numbers, and text
/// holding ISO 8601 timestamps.
pub fn is_time_type(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64)
        || t.is_integer()
        || t.is_floating()
        || crate::backend::fold::is_text_type(t)
}

/// The rows of a batch grouped by the segment their time gives (`times` from [`times_ms`]):
/// [`Segment::Window`] by window start, [`Segment::Untimed`] for rows without an instant.
#[derive(Debug)]
pub struct Groups {
    /// Each segment, in key order, with its rows' range in `order`.
    pub segments: Vec<(Segment, std::ops::Range<usize>)>,
    /// The batch's row indices, grouped by segment (rows of a segment in batch order); `None`
    /// when the rows are grouped already (one segment, or rows sorted by time).
    pub order: Option<UInt32Array>,
}

/// Groups the rows of a batch by segment.
pub fn group(times: &[Option<i64>], window: &Window) -> Groups {
    group_keys(window_keys(times, window))
}

/// [`group`] of [`times_ms`] of a time column, in one pass over its values when the column is
/// a timestamp (or a 64-bit date): rows in time order with any nulls last, as a time-ordered
/// file's come, are grouped without a time or a key per row; other types go the general way.
///
/// # Errors
/// As [`times_ms`].
pub fn group_column(column: &str, array: &ArrayRef, window: &Window) -> Result<Groups> {
    Ok(match array.data_type() {
        DataType::Timestamp(u @ TimeUnit::Second, _) => {
            column_groups(array.as_primitive::<TimestampSecondType>(), unit_ms(*u), window)
        }
        DataType::Timestamp(u @ TimeUnit::Millisecond, _) => {
            column_groups(array.as_primitive::<TimestampMillisecondType>(), unit_ms(*u), window)
        }
        DataType::Timestamp(u @ TimeUnit::Microsecond, _) => {
            column_groups(array.as_primitive::<TimestampMicrosecondType>(), unit_ms(*u), window)
        }
        DataType::Timestamp(u @ TimeUnit::Nanosecond, _) => {
            column_groups(array.as_primitive::<TimestampNanosecondType>(), unit_ms(*u), window)
        }
        DataType::Date64 => column_groups(array.as_primitive::<Date64Type>(), Some, window),
        _ => group(&times_ms(column, array)?, window),
    })
}

/// The rows of `times` grouped by window (`ms`: a value's instant, as [`times_ms`] reads it):
/// runs of rows as they come while each run's key sorts after the last; from the first row out
/// of order on, a key per row, grouped by [`group_keys`].
fn column_groups<T>(times: &PrimitiveArray<T>, ms: impl Fn(i64) -> Option<i64>, window: &Window) -> Groups
where
    T: ArrowPrimitiveType<Native = i64>,
{
    let nulls = times.nulls().filter(|n| n.null_count() > 0);
    // The runs so far: each one's key (`None`: untimed) and end; the windows' starts; the key
    // of every row, once one came out of order.
    let mut runs: Vec<(Option<i64>, usize)> = Vec::new();
    let mut starts = Starts { window, bounds: None };
    let mut keys: Option<Vec<Option<i64>>> = None;
    for (i, &v) in times.values().iter().enumerate() {
        let t = if nulls.is_some_and(|n| n.is_null(i)) { None } else { ms(v) };
        let key = t.map(|t| starts.of(t));
        if let Some(keys) = &mut keys {
            keys.push(key);
            continue;
        }
        match runs.last_mut() {
            Some((k, end)) if *k == key => *end = i + 1,
            Some((k, _)) if rank(key) < rank(*k) => {
                let mut all = Vec::with_capacity(times.len());
                let mut from = 0;
                for &(k, end) in &runs {
                    all.extend(std::iter::repeat_n(k, end - from));
                    from = end;
                }
                all.push(key);
                keys = Some(all);
            }
            _ => runs.push((key, i + 1)),
        }
    }
    if let Some(keys) = keys {
        return group_keys(keys);
    }
    let mut from = 0;
    let segments = runs
        .into_iter()
        .map(|(k, end)| {
            let rows = from..end;
            from = end;
            (segment(k), rows)
        })
        .collect();
    Groups { segments, order: None }
}

/// The segment of a window key (`None`: untimed).
fn segment(key: Option<i64>) -> Segment {
    key.map_or(Segment::Untimed, Segment::Window)
}

/// The order of window keys: by start, untimed (`None`) last, like the segments.
fn rank(key: Option<i64>) -> (u8, i64) {
    key.map_or((1, 0), |s| (0, s))
}

/// The window start of each time.
fn window_keys(times: &[Option<i64>], window: &Window) -> Vec<Option<i64>> {
    let mut starts = Starts { window, bounds: None };
    times.iter().map(|t| t.map(|t| starts.of(t))).collect()
}

/// The start of each time's window, the last window's bounds kept: rows of one window usually
/// come together, so its bounds are computed once per run.
struct Starts<'w> {
    window: &'w Window,
    bounds: Option<(i64, i64)>,
}

impl Starts<'_> {
    fn of(&mut self, t: i64) -> i64 {
        match self.bounds {
            Some((start, end)) if start <= t && t < end => start,
            _ => {
                let start = self.window.start(t);
                self.bounds = Some((start, self.window.end(start)));
                start
            }
        }
    }
}

/// Milliseconds of a timestamp of `unit` (rounded down; `None` past what an i64 holds).
fn unit_ms(unit: TimeUnit) -> fn(i64) -> Option<i64> {
    match unit {
        TimeUnit::Second => |v| v.checked_mul(1000),
        TimeUnit::Millisecond => Some,
        TimeUnit::Microsecond => |v| Some(v.div_euclid(1000)),
        TimeUnit::Nanosecond => |v| Some(v.div_euclid(1_000_000)),
    }
}

/// Rows grouped by their window key (`None`: untimed), in key order.
pub fn group_keys(keys: Vec<Option<i64>>) -> Groups {
    if keys.windows(2).all(|w| rank(w[0]) <= rank(w[1])) {
        let mut segments: Vec<(Segment, std::ops::Range<usize>)> = Vec::new();
        let mut from = 0;
        for i in 1..=keys.len() {
            if i == keys.len() || keys[i] != keys[from] {
                segments.push((segment(keys[from]), from..i));
                from = i;
            }
        }
        return Groups { segments, order: None };
    }
    // Rows sorted by (key, row): a segment's rows together, in batch order. One sort of the
    // batch instead of a map entry and a list per window (a shuffled row group touches a
    // thousand windows); of single integers where the keys allow.
    if let Some(rows) = packed_rows(&keys) {
        let mut segments = Vec::new();
        let mut from = 0;
        for i in 1..=rows.len() {
            if i == rows.len() || rows[i] >> 32 != rows[from] >> 32 {
                segments.push((segment(keys[rows[from] as u32 as usize]), from..i));
                from = i;
            }
        }
        return Groups { segments, order: Some(UInt32Array::from_iter_values(rows.into_iter().map(|r| r as u32))) };
    }
    let mut rows: Vec<((u8, i64), u32)> = keys.iter().enumerate().map(|(i, &k)| (rank(k), i as u32)).collect();
    rows.sort_unstable();
    let mut segments = Vec::new();
    let mut from = 0;
    for i in 1..=rows.len() {
        if i == rows.len() || rows[i].0 != rows[from].0 {
            let (untimed, start) = rows[from].0;
            segments.push((segment((untimed == 0).then_some(start)), from..i));
            from = i;
        }
    }
    Groups { segments, order: Some(UInt32Array::from(rows.into_iter().map(|(_, i)| i).collect::<Vec<u32>>())) }
}

/// The rows of `keys` sorted by (key, row), untimed last, each as one integer: the key's offset
/// from the least key (in units of the offsets' common power of two; untimed: `u32::MAX`) in
/// the high half, the row in the low half. `None` when an offset does not fit below `u32::MAX`.
fn packed_rows(keys: &[Option<i64>]) -> Option<Vec<u64>> {
    if keys.len() > u32::MAX as usize {
        return None;
    }
    let least = keys.iter().flatten().copied().min().unwrap_or(0);
    let offset = |k: i64| (i128::from(k) - i128::from(least)) as u128;
    let zeros = keys.iter().flatten().fold(0u128, |all, &k| all | offset(k)).trailing_zeros().min(127);
    let untimed = u128::from(u32::MAX);
    let mut rows = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let high = k.map_or(untimed, |k| offset(k) >> zeros);
        if k.is_some() && high >= untimed {
            return None;
        }
        rows.push(((high as u64) << 32) | i as u64);
    }
    rows.sort_unstable();
    Some(rows)
}

/// Milliseconds since the epoch of each row of a time column; `None` for a null, or a number
/// that is not an instant (NaN, ±∞, out of range). Epoch numbers are read as seconds below
/// 10^11, milliseconds below 10^14, microseconds below 10^17 and nanoseconds above (10^11 s,
/// 10^14 ms and 10^17 µs are all in the year 5138, so no real capture is ambiguous).
///
/// # Errors
/// [`Error::Invalid`] when the column is not a timestamp, a date or a number.
pub fn times_ms(column: &str, array: &ArrayRef) -> Result<Vec<Option<i64>>> {
    let ints = |a: &ArrayRef| -> Result<arrow_array::Int64Array> {
        arrow_cast::cast(a, &DataType::Int64).map(|a| a.as_primitive::<Int64Type>().clone()).map_err(|e| {
            crate::error::invalid(crate::Opt::TimeColumn, format!("'{column}': {}", crate::error::one_line(e)))
        })
    };
    match array.data_type() {
        DataType::Timestamp(unit, _) => {
            let ms = unit_ms(*unit);
            Ok(ints(array)?.iter().map(|v| v.and_then(ms)).collect())
        }
        DataType::Date32 => Ok(ints(array)?.iter().map(|v| v.and_then(|d| d.checked_mul(DAY))).collect()),
        DataType::Date64 => Ok(ints(array)?.iter().collect()),
        t if crate::backend::fold::is_text_type(t) => {
            // ISO 8601 / RFC 3339 text; without an offset it is read as UTC. Text that is not
            // a timestamp is a null here: counted as untimed, never guessed.
            let utc = DataType::Timestamp(TimeUnit::Millisecond, Some("+00:00".into()));
            let opts = arrow_cast::CastOptions { safe: true, ..Default::default() };
            let t = arrow_cast::cast::cast_with_options(array, &utc, &opts).map_err(|e| {
                crate::error::invalid(crate::Opt::TimeColumn, format!("'{column}': {}", crate::error::one_line(e)))
            })?;
            Ok(ints(&t)?.iter().collect())
        }
        t if t.is_integer() || t.is_floating() => {
            let f = arrow_cast::cast(array, &DataType::Float64).map_err(|e| {
                crate::error::invalid(crate::Opt::TimeColumn, format!("'{column}': {}", crate::error::one_line(e)))
            })?;
            Ok(f.as_primitive::<Float64Type>().iter().map(|v| v.and_then(epoch_ms)).collect())
        }
        t => Err(crate::error::invalid(
            crate::Opt::TimeColumn,
            format!("'{column}' is {t}: expected a timestamp, a date, an epoch number or ISO 8601 text"),
        )),
    }
}

/// The start of each row's window of `batch` (by its column `window.0`), for the work fed by a
/// pass that keys its own counts by calendar window; `None` when the batch lacks the column.
///
/// # Errors
/// As [`times_ms`].
pub fn row_starts(batch: &arrow_array::RecordBatch, window: &(String, Window)) -> Result<Option<Vec<Option<i64>>>> {
    let Ok(i) = batch.schema().index_of(&window.0) else { return Ok(None) };
    let times = times_ms(&window.0, batch.column(i))?;
    Ok(Some(times.into_iter().map(|t| t.map(|t| window.1.start(t))).collect()))
}

/// An epoch number in milliseconds, its unit read from its magnitude.
fn epoch_ms(v: f64) -> Option<i64> {
    if !v.is_finite() {
        return None;
    }
    let a = v.abs();
    let ms = if a >= 1e17 {
        v / 1e6
    } else if a >= 1e14 {
        v / 1e3
    } else if a >= 1e11 {
        v
    } else {
        v * 1e3
    };
    (ms.abs() < 8.64e15).then(|| ms.floor() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Date32Array, Float64Array, Int64Array, TimestampMicrosecondArray, TimestampSecondArray};
    use std::sync::Arc;

    fn at(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn windows_align_to_the_calendar() {
        let w = |s: &str| s.parse::<Window>().unwrap();
        let t = at("2026-11-28T14:37:12.5Z");
        assert_eq!(iso(w("15m").start(t)), "2026-11-28T14:30:00Z");
        assert_eq!(iso(w("1h").start(t)), "2026-11-28T14:00:00Z");
        assert_eq!(iso(w("1d").start(t)), "2026-11-28T00:00:00Z");
        // 2026-11-28 is a Saturday: its ISO week began on Monday the 23rd.
        assert_eq!(iso(w("7d").start(t)), "2026-11-23T00:00:00Z");
        assert_eq!(w("7d"), w("1w"));
        assert_eq!(iso(w("1mo").start(t)), "2026-11-01T00:00:00Z");
        assert_eq!(iso(w("1mo").end(w("1mo").start(t))), "2026-12-01T00:00:00Z");
        assert_eq!(iso(w("3mo").start(t)), "2026-10-01T00:00:00Z");
        // A leap February, the turn of a year, and instants before the epoch.
        let feb = w("1mo").start(at("2028-02-29T23:59:59Z"));
        assert_eq!((iso(feb), iso(w("1mo").end(feb))), ("2028-02-01T00:00:00Z".into(), "2028-03-01T00:00:00Z".into()));
        assert_eq!(iso(w("1mo").end(w("1mo").start(at("2026-12-31T23:00:00Z")))), "2027-01-01T00:00:00Z");
        assert_eq!(iso(w("1h").start(at("1969-12-31T23:59:59Z"))), "1969-12-31T23:00:00Z");
        assert_eq!(iso(w("7d").start(at("1970-01-01T00:00:00Z"))), "1969-12-29T00:00:00Z");
        for bad in ["", "h", "0h", "-1h", "1y", "1.5h", "99999999999999999h"] {
            assert!(bad.parse::<Window>().is_err(), "{bad}");
        }
    }

    /// Rows out of order come grouped as a plain sort by (untimed last, key, row) gives them,
    /// whether their keys pack into integers (hour starts, a key at the bounds' edge) or not
    /// (offsets past 32 bits, the extremes of i64).
    #[test]
    fn shuffled_keys_group_as_a_sort_gives() {
        let reference = |keys: &[Option<i64>]| {
            let mut rows: Vec<usize> = (0..keys.len()).collect();
            rows.sort_by_key(|&i| (rank(keys[i]), i));
            let mut segments = Vec::new();
            let mut from = 0;
            for i in 1..=rows.len() {
                if i == rows.len() || keys[rows[i]] != keys[rows[from]] {
                    segments.push((segment(keys[rows[from]]), from..i));
                    from = i;
                }
            }
            (segments, rows.into_iter().map(|i| i as u32).collect::<Vec<u32>>())
        };
        let t = at("2026-11-28T14:00:00Z");
        let mut state = 11u64;
        let mut draw = |n: usize, f: &dyn Fn(u64) -> Option<i64>| -> Vec<Option<i64>> {
            (0..n).map(|_| f(crate::codec::splitmix64(&mut state))).collect()
        };
        let cases = vec![
            draw(4096, &|r| (!r.is_multiple_of(40)).then_some(t + (r % 1080) as i64 * HOUR)),
            draw(300, &|r| Some(t - (r % 7) as i64 * DAY)),
            draw(300, &|r| (!r.is_multiple_of(3)).then_some(t + (r % 5) as i64 * (u32::MAX as i64 - 2) / 4)),
            draw(300, &|r| Some(t + (r % 3) as i64 * (1 << 40) + 1)),
            draw(300, &|r| [Some(i64::MIN), Some(i64::MAX), None, Some(0)][(r % 4) as usize]),
            draw(50, &|_| None),
            vec![Some(t), Some(t - 1), Some(t)],
        ];
        for keys in cases {
            let (segments, order) = reference(&keys);
            let g = group_keys(keys.clone());
            assert_eq!(g.segments, segments, "{keys:?}");
            // No order: the rows were grouped already.
            let got = g.order.map_or_else(|| (0..keys.len() as u32).collect(), |o| o.values().to_vec());
            assert_eq!(got, order, "{keys:?}");
        }
        // Which pack: offsets in units of their common power of two, below u32::MAX.
        assert!(packed_rows(&[Some(t), Some(t + 1), Some(t + u32::MAX as i64 - 1), None]).is_some());
        assert!(packed_rows(&[Some(t), Some(t + u32::MAX as i64)]).is_none());
        assert!(packed_rows(&[Some(t), Some(t + (1 << 40))]).is_some());
        assert!(packed_rows(&[Some(i64::MIN), Some(i64::MAX)]).is_none());
    }

    #[test]
    fn time_ordered_columns_group_in_one_pass() {
        use arrow_array::{Date64Array, TimestampMillisecondArray, TimestampNanosecondArray};
        // `in_order`: the rows come grouped already (no order to take).
        let same = |a: ArrayRef, w: &Window, in_order: bool| {
            let want = group(&times_ms("t", &a).unwrap(), w);
            let got = group_column("t", &a, w).unwrap();
            assert_eq!(got.segments, want.segments, "{a:?} by {w:?}");
            assert_eq!(got.order, want.order, "{a:?} by {w:?}");
            assert_eq!(got.order.is_none(), in_order, "{a:?} by {w:?}");
        };
        let h: Window = "1h".parse().unwrap();
        let t = at("2026-11-28T14:00:00Z");
        // In time order, nulls last: runs of the array as it is.
        let ms = [Some(t - 1), Some(t), Some(t), Some(t + HOUR - 1), Some(t + HOUR), None, None];
        same(Arc::new(TimestampMillisecondArray::from(ms.to_vec())), &h, true);
        same(Arc::new(Date64Array::from(ms.to_vec())), &h, true);
        same(Arc::new(TimestampMillisecondArray::from(ms.to_vec()).with_timezone("+05:30")), &h, true);
        // Before the epoch, every unit: a microsecond or nanosecond before a window's start is
        // in the window before (rounded down, as `times_ms` reads it).
        let e = at("1969-12-31T23:00:00Z");
        let micros = vec![Some(e * 1000 - 1), Some(e * 1000), Some(e * 1000 + 1)];
        same(Arc::new(TimestampMicrosecondArray::from(micros)), &h, true);
        let nanos = vec![Some(e * 1_000_000 - 1), Some(e * 1_000_000), None];
        same(Arc::new(TimestampNanosecondArray::from(nanos)), &h, true);
        // Seconds past what milliseconds hold are untimed, after the timed rows.
        same(Arc::new(TimestampSecondArray::from(vec![Some(t / 1000), Some(i64::MAX / 100)])), &h, true);
        // Out of order (a null among times, a time going back, untimed first): the general way.
        same(Arc::new(TimestampMillisecondArray::from(vec![Some(t), None, Some(t + 1)])), &h, false);
        same(Arc::new(TimestampMillisecondArray::from(vec![Some(t + HOUR), Some(t)])), &h, false);
        same(Arc::new(TimestampMillisecondArray::from(vec![None, Some(t)])), &h, false);
        // Shuffled after a sorted start, with nulls and times past what milliseconds hold: keys
        // per row from the first row out of order on.
        let mut state = 3u64;
        let mut shuffled: Vec<Option<i64>> = (0..40).map(|i| Some(t + i * MINUTE)).collect();
        shuffled.extend((0..3000).map(|_| {
            let r = crate::codec::splitmix64(&mut state);
            (!r.is_multiple_of(20)).then_some(t + (r % 500) as i64 * 13 * MINUTE)
        }));
        same(Arc::new(TimestampMillisecondArray::from(shuffled.clone())), &h, false);
        let micros: Vec<Option<i64>> = shuffled.iter().map(|t| t.map(|t| t * 1000 + 999)).collect();
        same(Arc::new(TimestampMicrosecondArray::from(micros)), &h, false);
        let mut secs: Vec<Option<i64>> = shuffled.iter().map(|t| t.map(|t| t / 1000)).collect();
        secs[2000] = Some(i64::MAX / 10);
        same(Arc::new(TimestampSecondArray::from(secs)), &h, false);
        // One window, and none.
        same(Arc::new(TimestampMillisecondArray::from(vec![Some(t); 3])), &h, true);
        same(Arc::new(TimestampMillisecondArray::from(Vec::<i64>::new())), &h, true);
        // A time zone's calendar, across the fall-back night's repeated hour and a day's end.
        let paris: Window = "1h".parse::<Window>().unwrap().in_tz(chrono_tz::Europe::Paris);
        let night: Vec<i64> = (0..48).map(|i| at("2026-10-24T20:00:00Z") + i * 7 * MINUTE).collect();
        same(Arc::new(TimestampMillisecondArray::from(night.clone())), &paris, true);
        let month: Window = "1mo".parse::<Window>().unwrap().in_tz(chrono_tz::Europe::Paris);
        same(Arc::new(TimestampMillisecondArray::from(night)), &month, true);
        // Other types go the general way, with its errors.
        same(Arc::new(Int64Array::from(vec![t + HOUR, t])), &h, false);
        same(Arc::new(Int64Array::from(vec![t, t + 1])), &h, true);
        let text: ArrayRef = Arc::new(arrow_array::BinaryArray::from(vec![b"x".as_ref()]));
        assert!(group_column("when", &text, &h).unwrap_err().to_string().contains("'when'"));
    }

    #[test]
    fn windows_follow_a_time_zone_calendar() {
        let paris = |s: &str| s.parse::<Window>().unwrap().in_tz(chrono_tz::Europe::Paris);
        // The spring-forward day lasts 23 hours, from local midnight (UTC+1) to local midnight
        // (UTC+2).
        let d = paris("1d");
        let s = d.start(at("2026-03-29T12:00:00Z"));
        assert_eq!((iso(s), iso(d.end(s))), ("2026-03-28T23:00:00Z".into(), "2026-03-29T22:00:00Z".into()));
        // The repeated hour of the fall-back night is two windows of an hour, one per offset.
        let h = paris("1h");
        let (first, second) = (at("2026-10-25T00:30:00Z"), at("2026-10-25T01:30:00Z"));
        assert_eq!(
            (iso(h.start(first)), iso(h.end(h.start(first)))),
            ("2026-10-25T00:00:00Z".into(), "2026-10-25T01:00:00Z".into())
        );
        assert_eq!(
            (iso(h.start(second)), iso(h.end(h.start(second)))),
            ("2026-10-25T01:00:00Z".into(), "2026-10-25T02:00:00Z".into())
        );
        // The fall-back day lasts 25 hours.
        let s = d.start(at("2026-10-25T12:00:00Z"));
        assert_eq!(d.end(s) - s, 25 * HOUR);
        // Half-hour zones: hours start on the local hour.
        let k = "1h".parse::<Window>().unwrap().in_tz(chrono_tz::Asia::Kolkata);
        assert_eq!(iso(k.start(at("2026-11-28T14:37:00Z"))), "2026-11-28T14:30:00Z");
        // Months and weeks start at local midnight.
        assert_eq!(iso(paris("1mo").start(at("2026-11-28T14:00:00Z"))), "2026-10-31T23:00:00Z");
        assert_eq!(iso(paris("1w").start(at("2026-11-28T14:00:00Z"))), "2026-11-22T23:00:00Z");
        assert_eq!(paris("1d").to_string(), "1d (Europe/Paris)");
        // Every instant of a year lies in the window it is given, and windows tile the time.
        // Santiago moves its clocks at midnight: some days start at 01:00 local.
        let santiago = "1d".parse::<Window>().unwrap().in_tz(chrono_tz::America::Santiago);
        for w in [paris("1h"), paris("1d"), paris("15m"), k, santiago] {
            let mut t = at("2026-01-01T00:00:00Z");
            while t < at("2027-01-01T00:00:00Z") {
                let s = w.start(t);
                assert!(s <= t && t < w.end(s), "{w}: {} in [{}, {})", iso(t), iso(s), iso(w.end(s)));
                assert_eq!(w.start(w.end(s)), w.end(s), "{w}: the next window starts where this one ends");
                t += 7 * MINUTE + 13_000;
            }
        }
    }

    #[test]
    fn rows_group_by_window_in_key_order() {
        let h: Window = "1h".parse().unwrap();
        let t = at("2026-11-28T14:00:00Z");
        let times = [Some(t + 5), Some(t - 1), None, Some(t + HOUR - 1), Some(t - HOUR)];
        let g = group(&times, &h);
        let keys: Vec<Segment> = g.segments.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, vec![Segment::Window(t - HOUR), Segment::Window(t), Segment::Untimed]);
        assert_eq!(g.order.unwrap().values().to_vec(), vec![1, 4, 0, 3, 2]);
        assert_eq!(g.segments.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(), vec![0..2, 2..4, 4..5]);
        // Rows in time order: ranges of the batch as it is.
        let g = group(&[Some(t - 1), Some(t), Some(t + 1), None], &h);
        assert!(g.order.is_none());
        assert_eq!(
            g.segments,
            vec![(Segment::Window(t - HOUR), 0..1), (Segment::Window(t), 1..3), (Segment::Untimed, 3..4)]
        );
        assert!(group(&[], &h).segments.is_empty());
        // Shuffled rows over many windows, some untimed: every row once, each window's rows in
        // batch order, windows in key order, untimed last.
        let mut state = 7u64;
        let times: Vec<Option<i64>> = (0..5000)
            .map(|_| {
                let r = crate::codec::splitmix64(&mut state);
                (!r.is_multiple_of(50)).then_some(t + (r % 1000) as i64 * 7 * MINUTE)
            })
            .collect();
        let g = group(&times, &h);
        let order = g.order.expect("shuffled rows are reordered").values().to_vec();
        let mut seen = order.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..5000).collect::<Vec<u32>>());
        let mut last: Option<&Segment> = None;
        for (k, rows) in &g.segments {
            assert!(last.is_none_or(|l| l < k), "{k:?} after {last:?}");
            last = Some(k);
            let idx = &order[rows.clone()];
            assert!(idx.windows(2).all(|w| w[0] < w[1]), "{k:?}: rows in batch order");
            for &i in idx {
                let want = times[i as usize].map_or(Segment::Untimed, |x| Segment::Window(h.start(x)));
                assert_eq!(&want, k);
            }
        }
        // Month windows: bounds found once per run of rows, right across a month's end.
        let m: Window = "1mo".parse().unwrap();
        let g = group(&[Some(at("2026-11-30T23:59:59Z")), Some(at("2026-12-01T00:00:00Z"))], &m);
        assert_eq!(g.segments[1].0, Segment::Window(at("2026-12-01T00:00:00Z")));
    }

    #[test]
    fn times_from_timestamps_dates_and_epoch_numbers() {
        let t = at("2026-11-28T14:37:12Z");
        let secs: ArrayRef = Arc::new(TimestampSecondArray::from(vec![Some(t / 1000), None]).with_timezone("+05:00"));
        assert_eq!(times_ms("t", &secs).unwrap(), vec![Some(t), None]);
        let micros: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![t * 1000 + 999]));
        assert_eq!(times_ms("t", &micros).unwrap(), vec![Some(t)]);
        let days: ArrayRef = Arc::new(Date32Array::from(vec![20_420]));
        assert_eq!(times_ms("t", &days).unwrap(), vec![Some(20_420 * DAY)]);
        // Epoch numbers in seconds, milliseconds, microseconds, nanoseconds.
        let n: ArrayRef = Arc::new(Int64Array::from(vec![t / 1000, t, t * 1000, t * 1_000_000]));
        assert_eq!(times_ms("t", &n).unwrap(), vec![Some(t); 4]);
        let f: ArrayRef = Arc::new(Float64Array::from(vec![Some(f64::NAN), Some(1.78e9), None]));
        assert_eq!(times_ms("t", &f).unwrap(), vec![None, Some(1_780_000_000_000), None]);
        let text: ArrayRef = Arc::new(arrow_array::StringArray::from(vec![
            Some("2026-11-28T14:37:12Z"),
            Some("2026-11-28T19:37:12+05:00"),
            Some("2026-11-28 14:37:12"),
            Some("yesterday"),
            None,
        ]));
        assert_eq!(times_ms("t", &text).unwrap(), vec![Some(t), Some(t), Some(t), None, None]);
        let dict: ArrayRef = Arc::new(
            vec![Some("2026-11-28T14:37:12Z"), None]
                .into_iter()
                .collect::<arrow_array::DictionaryArray<arrow_array::types::Int32Type>>(),
        );
        assert_eq!(times_ms("t", &dict).unwrap(), vec![Some(t), None]);
        let binary: ArrayRef = Arc::new(arrow_array::BinaryArray::from(vec![&b"x"[..]]));
        assert!(times_ms("when", &binary).unwrap_err().to_string().contains("'when'"));
    }
}
