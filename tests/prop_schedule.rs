//! Property tests for the TARGET2 calendar and plan schedules.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use collecte::domain::collect::reachable_date;
use collecte::domain::schedule::{Frequency, Installment, Schedule, Segment};
use collecte::sepa::calendar::{add_business_days, easter_sunday, is_business_day, roll_forward, sub_business_days};
use proptest::prelude::*;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Gauss's Easter algorithm with Lichtenberg's corrections, independent of
/// the library's Meeus/Jones/Butcher computus.
fn gauss_easter(year: i32) -> NaiveDate {
    let k = year / 100;
    let m = 15 + (3 * k + 3) / 4 - (8 * k + 13) / 25;
    let s = 2 - (3 * k + 3) / 4;
    let a = year % 19;
    let d = (19 * a + m) % 30;
    let r = (d + a / 11) / 29;
    let og = 21 + d - r;
    let sz = 7 - (year + year / 4 + s) % 7;
    let oe = 7 - (og - sz) % 7;
    let os = og + oe; // day of March, possibly past 31
    let os = u32::try_from(os).unwrap();
    if os > 31 {
        ymd(year, 4, os - 31)
    } else {
        ymd(year, 3, os)
    }
}

/// Closing days by their plain definition, for cross-checking.
fn closed_by_definition(date: NaiveDate) -> bool {
    let easter = gauss_easter(date.year());
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
        || matches!((date.month(), date.day()), (1, 1) | (5, 1) | (12, 25) | (12, 26))
        || date == easter - Days::new(2)
        || date == easter + Days::new(1)
}

#[test]
fn easter_matches_gauss_1900_to_2199() {
    for year in 1900..=2199 {
        assert_eq!(easter_sunday(year), gauss_easter(year), "year {year}");
    }
}

#[test]
fn easter_spot_dates() {
    for (y, m, d) in [
        (2000, 4, 23),
        (2024, 3, 31),
        (2025, 4, 20),
        (2026, 4, 5),
        (2038, 4, 25),
        (2100, 3, 28),
        (2019, 4, 21),
        (2011, 4, 24),
    ] {
        assert_eq!(easter_sunday(y), ymd(y, m, d));
        assert_eq!(gauss_easter(y), ymd(y, m, d));
    }
}

#[test]
fn calendar_matches_definition_2000_to_2100() {
    for day in ymd(2000, 1, 1).iter_days().take_while(|d| d.year() <= 2100) {
        assert_eq!(is_business_day(day), !closed_by_definition(day), "{day}");
    }
}

fn date_in(from_year: i32, to_year: i32) -> impl Strategy<Value = NaiveDate> {
    let start = ymd(from_year, 1, 1);
    let days = (ymd(to_year, 1, 1) - start).num_days();
    (0..days).prop_map(move |offset| start + Days::new(offset as u64))
}

fn frequency() -> impl Strategy<Value = Frequency> {
    prop_oneof![
        Just(Frequency::Weekly),
        Just(Frequency::Monthly),
        Just(Frequency::Quarterly),
        Just(Frequency::Yearly),
        Just(Frequency::Once),
    ]
}

fn rule() -> impl Strategy<Value = (Frequency, Option<u8>)> {
    (frequency(), proptest::option::of(1u8..=31))
}

/// A plan: first segment, up to 3 changes (days after the previous start)
/// and a count.
fn plan() -> impl Strategy<Value = Schedule> {
    (
        date_in(2000, 2090),
        rule(),
        proptest::collection::vec((1u64..=1500, rule()), 0..=3),
        proptest::option::of(1u32..=200),
    )
        .prop_map(|(from, (frequency, day_of_month), changes, count)| {
            let mut schedule = Schedule::new(
                Segment {
                    from,
                    frequency,
                    day_of_month,
                },
                count,
            )
            .unwrap();
            let mut start = from;
            for (gap, (frequency, day_of_month)) in changes {
                start = start + Days::new(gap);
                schedule
                    .change(Segment {
                        from: start,
                        frequency,
                        day_of_month,
                    })
                    .unwrap();
            }
            schedule
        })
}

/// Far enough for 200 yearly installments after the last change.
fn horizon(schedule: &Schedule) -> NaiveDate {
    let last = schedule.segments().last().unwrap().from;
    ymd(last.year() + 205, 1, 1)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn schedules_are_well_formed(schedule in plan()) {
        let until = horizon(&schedule);
        let all: Vec<Installment> = schedule.installments_until(until).collect();
        let segments = schedule.segments();
        for (position, installment) in all.iter().enumerate() {
            prop_assert_eq!(installment.number as usize, position + 1);
            prop_assert!(is_business_day(installment.due_date));
            prop_assert!(!closed_by_definition(installment.due_date));
            prop_assert!(installment.due_date <= until);
            prop_assert!(installment.nominal_date <= installment.due_date);
            prop_assert!((installment.due_date - installment.nominal_date).num_days() <= 4);
            let segment = &segments[installment.segment];
            prop_assert!(installment.nominal_date >= segment.from);
            if let Some(next) = segments.get(installment.segment + 1) {
                prop_assert!(installment.due_date < next.from);
            }
        }
        for pair in all.windows(2) {
            prop_assert!(pair[0].due_date < pair[1].due_date);
            prop_assert!(pair[0].segment <= pair[1].segment);
        }
        match schedule.count() {
            Some(count) if segments.last().unwrap().frequency != Frequency::Once => {
                prop_assert_eq!(all.len(), count as usize);
            }
            Some(count) => prop_assert!(all.len() <= count as usize),
            None => {}
        }
    }

    #[test]
    fn next_after_agrees_with_listing(schedule in plan(), date in date_in(1999, 2300)) {
        let expected = schedule
            .installments_until(ymd(2320, 1, 1))
            .find(|installment| installment.due_date > date);
        prop_assert_eq!(schedule.next_after(date), expected);
    }

    #[test]
    fn next_after_finds_each_installment(schedule in plan()) {
        for installment in schedule.installments_until(horizon(&schedule)).take(60) {
            let day_before = installment.due_date.pred_opt().unwrap();
            prop_assert_eq!(schedule.next_after(day_before), Some(installment));
        }
    }

    #[test]
    fn listing_is_a_prefix_of_the_horizon(schedule in plan(), until in date_in(1999, 2200)) {
        let short: Vec<Installment> = schedule.installments_until(until).collect();
        let long: Vec<Installment> = schedule
            .installments_until(horizon(&schedule))
            .take_while(|installment| installment.due_date <= until)
            .collect();
        prop_assert_eq!(short, long);
    }

    #[test]
    fn roll_forward_is_the_next_open_day(date in date_in(1900, 2200)) {
        let rolled = roll_forward(date);
        prop_assert!(is_business_day(rolled));
        prop_assert!(date.iter_days().take_while(|&d| d < rolled).all(|d| !is_business_day(d)));
    }

    #[test]
    fn business_day_shifts_match_stepping(date in date_in(1900, 2200), n in 0u32..3000) {
        let (forward, backward) = if n == 0 {
            let mut backward = date;
            while !is_business_day(backward) {
                backward = backward.pred_opt().unwrap();
            }
            (roll_forward(date), backward)
        } else {
            (step_business_days(date, n, 1), step_business_days(date, n, -1))
        };
        prop_assert_eq!(add_business_days(date, n), forward);
        prop_assert_eq!(sub_business_days(date, n), backward);
        if is_business_day(date) {
            prop_assert_eq!(sub_business_days(add_business_days(date, n), n), date);
        }
    }

    /// The collection date a run asks for is the earliest business day whose deadline (its
    /// lead time in business days before it) is not before the run, weekends and holidays
    /// included: a file sent on Saturday is too late for Monday.
    #[test]
    fn reachable_date_is_the_earliest_date_whose_deadline_the_run_meets(
        run in date_in(1999, 2200),
        lead in 1u32..16,
    ) {
        let reachable = reachable_date(run, lead);
        prop_assert!(is_business_day(reachable));
        prop_assert!(sub_business_days(reachable, lead) >= run, "{run} misses {reachable}'s deadline");
        let earlier = sub_business_days(reachable, 1);
        prop_assert!(sub_business_days(earlier, lead) < run, "{run} could still reach {earlier}");
    }
}

/// The `n`-th business day strictly after (`sign` 1) or before (`sign` -1)
/// `date`, one day at a time.
fn step_business_days(date: NaiveDate, n: u32, sign: i64) -> NaiveDate {
    let mut current = date;
    let mut left = n;
    while left > 0 {
        current += chrono::TimeDelta::days(sign);
        if is_business_day(current) {
            left -= 1;
        }
    }
    current
}
