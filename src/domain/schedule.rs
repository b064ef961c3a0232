//! Payment plan schedules.
//!
//! A plan is expanded into numbered installments so that collections can be
//! prepared ahead and every debit traced back to the rule that produced it.
//! Changes to a plan only affect future installments, so a schedule is a list
//! of [`Segment`]s, each taking over from the previous one at its `from` date.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::sepa::calendar;

/// How often a plan collects; persisted and typed by users as its lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// Every 7 days from the start date.
    Weekly,
    /// Every month on the plan's day of month.
    Monthly,
    /// Every 3 months on the plan's day of month.
    Quarterly,
    /// Every 12 months on the plan's day of month.
    Yearly,
    /// A single collection on the start date.
    Once,
}

impl Frequency {
    const ALL: [Frequency; 5] = [
        Frequency::Weekly,
        Frequency::Monthly,
        Frequency::Quarterly,
        Frequency::Yearly,
        Frequency::Once,
    ];

    /// The stable name used in storage, files and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Yearly => "yearly",
            Frequency::Once => "once",
        }
    }

    /// Months between installments, for the calendar-month rules.
    fn months(self) -> Option<i64> {
        match self {
            Frequency::Monthly => Some(1),
            Frequency::Quarterly => Some(3),
            Frequency::Yearly => Some(12),
            Frequency::Weekly | Frequency::Once => None,
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rejects a frequency name read from a user or a file, keeping the bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown frequency {value:?}: expected one of weekly, monthly, quarterly, yearly, once")]
pub struct ParseFrequencyError {
    /// The text that was rejected, as given.
    pub value: String,
}

impl FromStr for Frequency {
    type Err = ParseFrequencyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Frequency::ALL
            .into_iter()
            .find(|frequency| frequency.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| ParseFrequencyError { value: s.to_owned() })
    }
}

/// Why a schedule or a change to it was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The day of month cannot be in any month.
    #[error("day_of_month must be between 1 and 31, got {0}")]
    DayOfMonth(u8),
    /// A plan with no installment is not a plan.
    #[error("count must be at least 1 (or absent for an open-ended plan), got 0")]
    ZeroCount,
    /// Changes only ever apply after the current rule took effect.
    #[error("a change must start strictly after {previous} (the current rule's start), got {from}")]
    ChangeNotAfter {
        /// Start of the segment being replaced.
        previous: NaiveDate,
        /// Start of the refused change.
        from: NaiveDate,
    },
}

/// One rule of a plan, in force from `from` until the next segment's `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Segment {
    /// First day the rule applies; also its start date for generating dates.
    pub from: NaiveDate,
    /// How often this rule collects.
    pub frequency: Frequency,
    /// Day of month for monthly, quarterly and yearly rules (`from`'s day
    /// when absent; 29–31 are clamped to short months). Weekly and once rules
    /// ignore it.
    pub day_of_month: Option<u8>,
}

/// An installment as due, with the segment whose amount applies to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Installment {
    /// Position in the plan, from 1, counted across segments.
    pub number: u32,
    /// The date the rule gives, before TARGET2 adjustment.
    pub nominal_date: NaiveDate,
    /// The nominal date rolled forward to a TARGET2 business day.
    pub due_date: NaiveDate,
    /// Index of the segment that produced it in [`Schedule::segments`].
    pub segment: usize,
}

/// A plan's rules over time plus its global installment count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    segments: Vec<Segment>,
    count: Option<u32>,
}

impl Schedule {
    /// Builds a validated schedule; `count` of `None` means open-ended.
    ///
    /// # Errors
    /// [`ScheduleError::DayOfMonth`] or [`ScheduleError::ZeroCount`].
    pub fn new(first: Segment, count: Option<u32>) -> Result<Self, ScheduleError> {
        first.validate()?;
        if count == Some(0) {
            return Err(ScheduleError::ZeroCount);
        }
        Ok(Schedule {
            segments: vec![first],
            count,
        })
    }

    /// Applies a new rule from `next.from` on, leaving earlier installments
    /// (those due before `next.from`) untouched and the count global.
    ///
    /// # Errors
    /// [`ScheduleError::DayOfMonth`] or [`ScheduleError::ChangeNotAfter`];
    /// the schedule is then unchanged.
    pub fn change(&mut self, next: Segment) -> Result<(), ScheduleError> {
        next.validate()?;
        if let Some(last) = self.segments.last()
            && next.from <= last.from
        {
            return Err(ScheduleError::ChangeNotAfter {
                previous: last.from,
                from: next.from,
            });
        }
        self.segments.push(next);
        Ok(())
    }

    /// The rules in force, oldest first, so callers can persist them and
    /// look up the amount of [`Installment::segment`].
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The total number of installments, `None` for an open-ended plan.
    pub fn count(&self) -> Option<u32> {
        self.count
    }

    /// Lists every installment due on or before `until`, in order, to prepare
    /// collections up to a horizon. Work is proportional to the output.
    pub fn installments_until(&self, until: NaiveDate) -> impl Iterator<Item = Installment> + '_ {
        Installments {
            schedule: self,
            segment: 0,
            index: 0,
            number: 1,
            until,
        }
    }

    /// Finds the first installment due strictly after `date` (e.g. the next
    /// collection after the business date) without walking the earlier ones.
    pub fn next_after(&self, date: NaiveDate) -> Option<Installment> {
        let after = date.succ_opt()?;
        let mut number: u64 = 1;
        for (position, segment) in self.segments.iter().enumerate() {
            let start = segment.first_index_due_on_or_after(after);
            let kept = self
                .segments
                .get(position + 1)
                .map(|next| segment.first_index_due_on_or_after(next.from));
            match kept {
                Some(kept) if start >= kept => number = number.checked_add(kept)?,
                _ => {
                    return Installments {
                        schedule: self,
                        segment: position,
                        index: start,
                        number: number.checked_add(start)?,
                        until: NaiveDate::MAX,
                    }
                    .next();
                }
            }
        }
        None
    }
}

/// The cursor over a schedule: `index` is the position within the current
/// segment's own rule, `number` the plan-wide number it would get.
struct Installments<'a> {
    schedule: &'a Schedule,
    segment: usize,
    index: u64,
    number: u64,
    until: NaiveDate,
}

impl Iterator for Installments<'_> {
    type Item = Installment;

    fn next(&mut self) -> Option<Installment> {
        let number = u32::try_from(self.number).ok()?;
        if self.schedule.count.is_some_and(|count| number > count) {
            return None;
        }
        loop {
            let segment = self.schedule.segments.get(self.segment)?;
            let next_from = self.schedule.segments.get(self.segment + 1).map(|next| next.from);
            let dates = segment.nominal(self.index).map(|nominal| {
                let due = calendar::roll_forward(nominal);
                (nominal, due)
            });
            match dates {
                Some((nominal_date, due_date)) if next_from.is_none_or(|from| due_date < from) => {
                    if due_date > self.until {
                        return None;
                    }
                    self.index += 1;
                    self.number += 1;
                    return Some(Installment {
                        number,
                        nominal_date,
                        due_date,
                        segment: self.segment,
                    });
                }
                // This segment is exhausted or superseded: hand over.
                _ => {
                    // The last segment never hands over.
                    next_from?;
                    self.segment += 1;
                    self.index = 0;
                }
            }
        }
    }
}

impl Segment {
    fn validate(&self) -> Result<(), ScheduleError> {
        match self.day_of_month {
            Some(day) if !(1..=31).contains(&day) => Err(ScheduleError::DayOfMonth(day)),
            _ => Ok(()),
        }
    }

    /// The day of month monthly-type rules aim for.
    fn anchor_day(&self) -> u32 {
        self.day_of_month.map_or_else(|| self.from.day(), u32::from)
    }

    /// Month number (year * 12 + month0) of this rule's first installment.
    fn first_month(&self) -> i64 {
        let month = month_number(self.from);
        let in_start_month = clamped_date(month, self.anchor_day());
        if in_start_month.is_some_and(|date| date >= self.from) {
            month
        } else {
            month + 1
        }
    }

    /// The nominal date of installment `index` (from 0) of this segment's own
    /// rule; `None` past a once rule or beyond chrono's range.
    fn nominal(&self, index: u64) -> Option<NaiveDate> {
        match self.frequency.months() {
            Some(step) => {
                let offset = i64::try_from(index).ok()?.checked_mul(step)?;
                clamped_date(self.first_month().checked_add(offset)?, self.anchor_day())
            }
            None if self.frequency == Frequency::Weekly => self.from.checked_add_days(Days::new(index.checked_mul(7)?)),
            None => (index == 0).then_some(self.from),
        }
    }

    /// A lower bound on the first index whose nominal date is on or after
    /// `date`: every earlier index is nominally before `date`.
    fn index_lower_bound(&self, date: NaiveDate) -> u64 {
        let elapsed = match self.frequency.months() {
            Some(step) => (month_number(date) - self.first_month()).div_euclid(step),
            None if self.frequency == Frequency::Weekly => (date - self.from).num_days().div_euclid(7),
            None => 0,
        };
        u64::try_from(elapsed).unwrap_or(0)
    }

    /// The first index whose due date is on or after `date`, or the index
    /// where this rule runs out.
    fn first_index_due_on_or_after(&self, date: NaiveDate) -> u64 {
        // A due date is at most MAX_CLOSED_RUN_DAYS after its nominal date.
        let early = date
            .checked_sub_days(Days::new(calendar::MAX_CLOSED_RUN_DAYS))
            .unwrap_or(NaiveDate::MIN);
        let mut index = self.index_lower_bound(early);
        while self
            .nominal(index)
            .is_some_and(|nominal| calendar::roll_forward(nominal) < date)
        {
            index += 1;
        }
        index
    }
}

fn month_number(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// The date on `day` of month number `month`, clamped to the month's end.
fn clamped_date(month: i64, day: u32) -> Option<NaiveDate> {
    let year = i32::try_from(month.div_euclid(12)).ok()?;
    // rem_euclid(12) is 0..=11.
    let month = u32::try_from(month.rem_euclid(12)).ok()? + 1;
    let last = match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    NaiveDate::from_ymd_opt(year, month, day.min(last))
}

fn is_leap_year(year: i32) -> bool {
    year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn segment(from: NaiveDate, frequency: Frequency, day_of_month: Option<u8>) -> Segment {
        Segment {
            from,
            frequency,
            day_of_month,
        }
    }

    fn dates(schedule: &Schedule, until: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
        schedule
            .installments_until(until)
            .map(|i| (i.nominal_date, i.due_date))
            .collect()
    }

    fn nominals(schedule: &Schedule, until: NaiveDate) -> Vec<NaiveDate> {
        schedule.installments_until(until).map(|i| i.nominal_date).collect()
    }

    #[test]
    fn frequency_names_round_trip() {
        for frequency in Frequency::ALL {
            assert_eq!(frequency.as_str().parse::<Frequency>(), Ok(frequency));
            assert_eq!(frequency.to_string(), frequency.as_str());
        }
        assert_eq!(" Monthly\n".parse::<Frequency>(), Ok(Frequency::Monthly));
        assert_eq!("ONCE".parse::<Frequency>(), Ok(Frequency::Once));
        let err = "fortnightly".parse::<Frequency>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown frequency \"fortnightly\": expected one of weekly, monthly, quarterly, yearly, once"
        );
    }

    #[test]
    fn serde_uses_lowercase_names() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        let de: StrDeserializer<'_, Error> = "quarterly".into_deserializer();
        assert_eq!(Frequency::deserialize(de), Ok(Frequency::Quarterly));
        let de: StrDeserializer<'_, Error> = "Quarterly".into_deserializer();
        assert!(Frequency::deserialize(de).is_err());
    }

    #[test]
    fn monthly_on_the_31st_clamps_without_drift() {
        let schedule = Schedule::new(segment(ymd(2026, 1, 31), Frequency::Monthly, None), None).unwrap();
        let expected: Vec<NaiveDate> = [
            (1, 31),
            (2, 28),
            (3, 31),
            (4, 30),
            (5, 31),
            (6, 30),
            (7, 31),
            (8, 31),
            (9, 30),
            (10, 31),
            (11, 30),
            (12, 31),
        ]
        .into_iter()
        .map(|(m, d)| ymd(2026, m, d))
        .collect();
        assert_eq!(nominals(&schedule, ymd(2026, 12, 31)), expected);
        let due: Vec<NaiveDate> = schedule
            .installments_until(ymd(2026, 12, 31))
            .map(|i| i.due_date)
            .collect();
        // Saturday 31 Jan -> Monday 2 Feb; Saturday 28 Feb -> Monday 2 Mar; ...
        assert_eq!(due[0], ymd(2026, 2, 2));
        assert_eq!(due[1], ymd(2026, 3, 2));
        assert_eq!(due[2], ymd(2026, 3, 31));
        assert_eq!(due[4], ymd(2026, 6, 1));
    }

    #[test]
    fn quarterly_on_a_day_of_month() {
        let schedule = Schedule::new(segment(ymd(2026, 1, 20), Frequency::Quarterly, Some(15)), Some(4)).unwrap();
        assert_eq!(
            dates(&schedule, ymd(2030, 1, 1)),
            [
                (ymd(2026, 2, 15), ymd(2026, 2, 16)),
                (ymd(2026, 5, 15), ymd(2026, 5, 15)),
                (ymd(2026, 8, 15), ymd(2026, 8, 17)),
                (ymd(2026, 11, 15), ymd(2026, 11, 16)),
            ]
        );
    }

    #[test]
    fn yearly_from_29_february() {
        let schedule = Schedule::new(segment(ymd(2024, 2, 29), Frequency::Yearly, None), None).unwrap();
        assert_eq!(
            nominals(&schedule, ymd(2029, 1, 1)),
            [
                ymd(2024, 2, 29),
                ymd(2025, 2, 28),
                ymd(2026, 2, 28),
                ymd(2027, 2, 28),
                ymd(2028, 2, 29),
            ]
        );
    }

    #[test]
    fn weekly_across_easter() {
        let schedule = Schedule::new(segment(ymd(2026, 3, 27), Frequency::Weekly, Some(31)), None).unwrap();
        assert_eq!(
            dates(&schedule, ymd(2026, 4, 17)),
            [
                (ymd(2026, 3, 27), ymd(2026, 3, 27)),
                // Good Friday, then the weekend and Easter Monday.
                (ymd(2026, 4, 3), ymd(2026, 4, 7)),
                (ymd(2026, 4, 10), ymd(2026, 4, 10)),
                (ymd(2026, 4, 17), ymd(2026, 4, 17)),
            ]
        );
    }

    #[test]
    fn once_is_a_single_installment() {
        let schedule = Schedule::new(segment(ymd(2026, 12, 25), Frequency::Once, None), Some(3)).unwrap();
        let all: Vec<Installment> = schedule.installments_until(NaiveDate::MAX).collect();
        assert_eq!(
            all,
            [Installment {
                number: 1,
                nominal_date: ymd(2026, 12, 25),
                due_date: ymd(2026, 12, 28),
                segment: 0,
            }]
        );
        assert_eq!(schedule.installments_until(ymd(2026, 12, 27)).count(), 0);
    }

    #[test]
    fn count_limits_installments() {
        let schedule = Schedule::new(segment(ymd(2026, 1, 5), Frequency::Monthly, None), Some(3)).unwrap();
        let numbers: Vec<u32> = schedule.installments_until(ymd(2100, 1, 1)).map(|i| i.number).collect();
        assert_eq!(numbers, [1, 2, 3]);
        assert_eq!(schedule.next_after(ymd(2026, 3, 5)), None);
        assert_eq!(schedule.next_after(ymd(2026, 2, 4)).map(|i| i.number), Some(2));
    }

    #[test]
    fn day_of_month_later_in_start_month() {
        let schedule = Schedule::new(segment(ymd(2026, 3, 10), Frequency::Monthly, Some(20)), Some(2)).unwrap();
        assert_eq!(
            nominals(&schedule, ymd(2027, 1, 1)),
            [ymd(2026, 3, 20), ymd(2026, 4, 20)]
        );
    }

    #[test]
    fn day_of_month_earlier_goes_to_next_month() {
        let schedule = Schedule::new(segment(ymd(2026, 3, 10), Frequency::Monthly, Some(5)), Some(2)).unwrap();
        assert_eq!(nominals(&schedule, ymd(2027, 1, 1)), [ymd(2026, 4, 5), ymd(2026, 5, 5)]);
    }

    #[test]
    fn change_of_frequency_carries_the_count() {
        let mut schedule = Schedule::new(segment(ymd(2026, 1, 15), Frequency::Monthly, None), Some(5)).unwrap();
        schedule
            .change(segment(ymd(2026, 3, 16), Frequency::Weekly, None))
            .unwrap();
        let all: Vec<(u32, NaiveDate, usize)> = schedule
            .installments_until(ymd(2027, 1, 1))
            .map(|i| (i.number, i.due_date, i.segment))
            .collect();
        assert_eq!(
            all,
            [
                (1, ymd(2026, 1, 15), 0),
                (2, ymd(2026, 2, 16), 0),
                // 15 March is a Sunday, due 16 March: not before the change.
                (3, ymd(2026, 3, 16), 1),
                (4, ymd(2026, 3, 23), 1),
                (5, ymd(2026, 3, 30), 1),
            ]
        );
    }

    #[test]
    fn change_of_day_mid_plan() {
        let mut schedule = Schedule::new(segment(ymd(2026, 1, 5), Frequency::Monthly, None), Some(6)).unwrap();
        schedule
            .change(segment(ymd(2026, 3, 10), Frequency::Monthly, Some(25)))
            .unwrap();
        let all: Vec<(u32, NaiveDate, usize)> = schedule
            .installments_until(ymd(2030, 1, 1))
            .map(|i| (i.number, i.nominal_date, i.segment))
            .collect();
        assert_eq!(
            all,
            [
                (1, ymd(2026, 1, 5), 0),
                (2, ymd(2026, 2, 5), 0),
                (3, ymd(2026, 3, 5), 0),
                (4, ymd(2026, 3, 25), 1),
                (5, ymd(2026, 4, 25), 1),
                (6, ymd(2026, 5, 25), 1),
            ]
        );
        assert_eq!(schedule.next_after(ymd(2026, 3, 6)).map(|i| i.number), Some(4));
    }

    #[test]
    fn next_after_sees_installments_rolled_into_the_next_month() {
        let schedule = Schedule::new(segment(ymd(2026, 1, 31), Frequency::Monthly, None), None).unwrap();
        // 31 January 2026 is a Saturday: due Monday 2 February.
        let first = schedule.next_after(ymd(2026, 2, 1)).unwrap();
        assert_eq!((first.number, first.due_date), (1, ymd(2026, 2, 2)));
        let second = schedule.next_after(ymd(2026, 2, 2)).unwrap();
        assert_eq!((second.number, second.due_date), (2, ymd(2026, 3, 2)));
    }

    #[test]
    fn rejects_bad_input() {
        let start = ymd(2026, 1, 1);
        assert_eq!(
            Schedule::new(segment(start, Frequency::Monthly, Some(32)), None),
            Err(ScheduleError::DayOfMonth(32))
        );
        assert_eq!(
            Schedule::new(segment(start, Frequency::Monthly, Some(0)), None)
                .unwrap_err()
                .to_string(),
            "day_of_month must be between 1 and 31, got 0"
        );
        assert_eq!(
            Schedule::new(segment(start, Frequency::Weekly, None), Some(0)),
            Err(ScheduleError::ZeroCount)
        );
        let mut schedule = Schedule::new(segment(start, Frequency::Weekly, None), None).unwrap();
        let err = schedule.change(segment(start, Frequency::Monthly, None)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a change must start strictly after 2026-01-01 (the current rule's start), got 2026-01-01"
        );
        assert_eq!(schedule.segments().len(), 1);
    }

    #[test]
    fn long_open_ended_horizons_are_cheap() {
        let schedule = Schedule::new(segment(ymd(2026, 1, 2), Frequency::Weekly, None), None).unwrap();
        assert_eq!(schedule.installments_until(ymd(2125, 12, 31)).count(), 5218);
        let far = schedule.next_after(ymd(200_000, 6, 1)).unwrap();
        assert!(far.due_date > ymd(200_000, 6, 1));
        assert!(far.due_date <= ymd(200_000, 6, 12));
        // Near the end of chrono's range the plan just stops.
        assert!(schedule.next_after(NaiveDate::MAX).is_none());
        assert!(
            schedule
                .next_after(ymd(262_142, 12, 20))
                .is_none_or(|i| i.due_date > ymd(262_142, 12, 20))
        );
    }
}
