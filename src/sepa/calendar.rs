//! The TARGET2 calendar.
//!
//! SEPA direct debits settle only on TARGET2 business days, so every due date
//! and every submission deadline has to be computed against this calendar
//! rather than the civil one. TARGET2 is closed on Saturdays, Sundays,
//! 1 January, Good Friday, Easter Monday, 1 May, 25 December and 26 December.
//!
//! Every function is total over chrono's date range: near `NaiveDate::MIN`
//! and `NaiveDate::MAX` results saturate to that bound (see each function)
//! instead of panicking.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The longest run of consecutive closing days (Good Friday to Easter Monday,
/// or a weekend followed by 25–26 December), so a rolled date is never more
/// than this many days after the nominal one.
pub const MAX_CLOSED_RUN_DAYS: u64 = 4;

/// Returns Easter Sunday of `year` in the Gregorian calendar, because Good
/// Friday and Easter Monday are TARGET2 closing days.
///
/// Uses the anonymous Gregorian (Meeus/Jones/Butcher) computus, exact for any
/// proleptic Gregorian year. Years outside chrono's range are clamped to the
/// nearest representable year.
pub fn easter_sunday(year: i32) -> NaiveDate {
    let year = year.clamp(NaiveDate::MIN.year(), NaiveDate::MAX.year());
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    // `n / 31` is 3 or 4 and `n % 31 + 1` is 1..=31, so the casts are lossless.
    let (month, day) = ((n / 31) as u32, (n % 31 + 1) as u32);
    // Always valid: 22 March..=25 April of a year inside chrono's range.
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// Tells whether TARGET2 settles on `date`, which decides whether a
/// collection can be due that day.
pub fn is_business_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !is_holiday(date)
}

/// Returns `date` if it is a business day, else the next business day: a
/// due date falling on a closing day is collected on the next open day.
///
/// Saturates: if no business day follows `date` within chrono's range,
/// returns `NaiveDate::MAX` (which may itself be a closing day).
pub fn roll_forward(date: NaiveDate) -> NaiveDate {
    let mut current = date;
    while !is_business_day(current) {
        match current.succ_opt() {
            Some(next) => current = next,
            None => return current,
        }
    }
    current
}

/// Returns the `n`-th business day strictly after `date`, or
/// `roll_forward(date)` when `n` is 0, for deadlines counted in TARGET2 days.
///
/// Runs in time proportional to the number of years crossed, not days.
/// Saturates at `NaiveDate::MAX` when the result is out of chrono's range.
pub fn add_business_days(date: NaiveDate, n: u32) -> NaiveDate {
    if n == 0 {
        roll_forward(date)
    } else {
        shift_business_days(date, n, Direction::Forward)
    }
}

/// Returns the `n`-th business day strictly before `date` (SEPA D-1: the
/// file must reach the bank one TARGET2 business day before the due date).
///
/// With `n` = 0 it returns the latest business day on or before `date`, so
/// that `sub_business_days(d, n)` is strictly decreasing in `n`.
/// Saturates at `NaiveDate::MIN` when the result is out of chrono's range.
pub fn sub_business_days(date: NaiveDate, n: u32) -> NaiveDate {
    if n == 0 {
        roll_backward(date)
    } else {
        shift_business_days(date, n, Direction::Backward)
    }
}

/// Whether `date` is one of the six dated closing days (weekday or not).
fn is_holiday(date: NaiveDate) -> bool {
    match (date.month(), date.day()) {
        (1, 1) | (5, 1) | (12, 25) | (12, 26) => true,
        // Good Friday is 20 March..=23 April, Easter Monday 23 March..=26 April.
        (3 | 4, _) => {
            let easter = easter_sunday(date.year()).ordinal();
            let day = date.ordinal();
            day + 2 == easter || day == easter + 1
        }
        _ => false,
    }
}

fn roll_backward(date: NaiveDate) -> NaiveDate {
    let mut current = date;
    while !is_business_day(current) {
        match current.pred_opt() {
            Some(previous) => current = previous,
            None => return current,
        }
    }
    current
}

#[derive(Clone, Copy)]
enum Direction {
    Forward,
    Backward,
}

impl Direction {
    fn step(self, date: NaiveDate, days: u64) -> Option<NaiveDate> {
        match self {
            Direction::Forward => date.checked_add_days(Days::new(days)),
            Direction::Backward => date.checked_sub_days(Days::new(days)),
        }
    }

    fn bound(self) -> NaiveDate {
        match self {
            Direction::Forward => NaiveDate::MAX,
            Direction::Backward => NaiveDate::MIN,
        }
    }
}

/// Moves `n` >= 1 business days away from `date`. Long distances jump whole
/// weeks (5 weekdays each, minus the holidays falling on weekdays in between)
/// before finishing day by day.
fn shift_business_days(date: NaiveDate, n: u32, direction: Direction) -> NaiveDate {
    let mut current = date;
    let mut left = u64::from(n);
    while left > 0 {
        if left > 10 {
            // Leaves at least 5 business days for the day-by-day finish.
            let weeks = (left - 5) / 5;
            let Some(jumped) = direction.step(current, weeks * 7) else {
                return direction.bound();
            };
            let (low, high) = match direction {
                Direction::Forward => (current, jumped),
                Direction::Backward => (jumped, current),
            };
            // The window excludes `current` itself.
            let closed = weekday_holidays_between(low, high) - u64::from(is_weekday_holiday(current));
            left -= weeks * 5 - closed;
            current = jumped;
        } else {
            let Some(next) = direction.step(current, 1) else {
                return direction.bound();
            };
            current = next;
            if is_business_day(current) {
                left -= 1;
            }
        }
    }
    current
}

fn is_weekday_holiday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && is_holiday(date)
}

/// Counts the holidays on weekdays within `low..=high`.
fn weekday_holidays_between(low: NaiveDate, high: NaiveDate) -> u64 {
    let mut count = 0;
    for year in low.year()..=high.year() {
        let easter = easter_sunday(year);
        let fixed = [(1, 1), (5, 1), (12, 25), (12, 26)]
            .into_iter()
            .map(|(month, day)| NaiveDate::from_ymd_opt(year, month, day));
        let moving = [
            easter.checked_sub_days(Days::new(2)),
            easter.checked_add_days(Days::new(1)),
        ];
        count += fixed
            .chain(moving)
            .flatten()
            .filter(|&day| low <= day && day <= high && is_weekday_holiday(day))
            .count() as u64;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn easter_spot_checks() {
        for (y, m, d) in [
            (2000, 4, 23),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2038, 4, 25),
            (2100, 3, 28),
            (2019, 4, 21),
            (2011, 4, 24),
            (1900, 4, 15),
            (2199, 4, 14),
            (1818, 3, 22),
        ] {
            assert_eq!(easter_sunday(y), ymd(y, m, d), "year {y}");
        }
    }

    #[test]
    fn easter_clamps_out_of_range_years() {
        assert_eq!(easter_sunday(i32::MAX).year(), NaiveDate::MAX.year());
        assert_eq!(easter_sunday(i32::MIN).year(), NaiveDate::MIN.year());
    }

    #[test]
    fn closing_days_2026() {
        let closed: Vec<NaiveDate> = ymd(2026, 1, 1)
            .iter_days()
            .take_while(|d| d.year() == 2026)
            .filter(|&d| !is_business_day(d) && d.weekday().number_from_monday() <= 5)
            .collect();
        assert_eq!(
            closed,
            [
                ymd(2026, 1, 1),
                ymd(2026, 4, 3),
                ymd(2026, 4, 6),
                ymd(2026, 5, 1),
                ymd(2026, 12, 25),
            ]
        );
        // 26 December 2026 is a Saturday: closed either way.
        assert!(!is_business_day(ymd(2026, 12, 26)));
        assert!(is_business_day(ymd(2026, 4, 2)));
        assert!(is_business_day(ymd(2026, 4, 7)));
        assert!(!is_business_day(ymd(2026, 1, 3)));
        assert!(!is_business_day(ymd(2026, 1, 4)));
    }

    #[test]
    fn roll_forward_over_easter() {
        assert_eq!(roll_forward(ymd(2026, 4, 3)), ymd(2026, 4, 7));
        assert_eq!(roll_forward(ymd(2026, 4, 7)), ymd(2026, 4, 7));
        assert_eq!(roll_forward(ymd(2026, 12, 25)), ymd(2026, 12, 28));
    }

    #[test]
    fn add_business_days_examples() {
        assert_eq!(add_business_days(ymd(2026, 4, 2), 1), ymd(2026, 4, 7));
        assert_eq!(add_business_days(ymd(2026, 4, 4), 0), ymd(2026, 4, 7));
        assert_eq!(add_business_days(ymd(2026, 1, 2), 2), ymd(2026, 1, 6));
        // 2026 has 256 business days: 261 weekdays, 5 of them holidays.
        assert_eq!(add_business_days(ymd(2025, 12, 31), 256), ymd(2026, 12, 31));
    }

    #[test]
    fn sub_business_days_examples() {
        assert_eq!(sub_business_days(ymd(2026, 3, 9), 1), ymd(2026, 3, 6));
        assert_eq!(sub_business_days(ymd(2026, 4, 7), 1), ymd(2026, 4, 2));
        assert_eq!(sub_business_days(ymd(2026, 1, 2), 1), ymd(2025, 12, 31));
        assert_eq!(sub_business_days(ymd(2026, 4, 6), 0), ymd(2026, 4, 2));
        assert_eq!(sub_business_days(ymd(2026, 12, 31), 256), ymd(2025, 12, 31));
    }

    #[test]
    fn saturates_at_chrono_bounds() {
        let start = ymd(2026, 1, 1);
        assert_eq!(add_business_days(start, u32::MAX), NaiveDate::MAX);
        assert_eq!(sub_business_days(start, u32::MAX), NaiveDate::MIN);
        assert_eq!(add_business_days(NaiveDate::MAX, 3), NaiveDate::MAX);
        assert_eq!(sub_business_days(NaiveDate::MIN, 3), NaiveDate::MIN);
        assert!(roll_forward(NaiveDate::MAX) <= NaiveDate::MAX);
        assert!(sub_business_days(NaiveDate::MIN, 0) >= NaiveDate::MIN);
    }

    #[test]
    fn closed_runs_never_exceed_bound() {
        let mut run = 0;
        for day in ymd(1900, 1, 1).iter_days().take_while(|d| d.year() < 2200) {
            run = if is_business_day(day) { 0 } else { run + 1 };
            assert!(run <= MAX_CLOSED_RUN_DAYS, "{day}");
        }
    }
}
