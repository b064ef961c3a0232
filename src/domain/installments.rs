//! Which collections a plan should have: the plan's schedule set against what the ledger holds.
//!
//! Collections are materialised up to a horizon (open-ended plans have no last one). This
//! module decides, purely, what to insert, re-price, remove or cancel; the store applies it in
//! one transaction. Only pending collections not yet put in a file are ever touched: a
//! collection that reached the bank is history.

use chrono::NaiveDate;

use super::schedule::{Frequency, Schedule, ScheduleError, Segment};
use crate::sepa::Money;

/// How far ahead of the business date installments become collections: far enough for the
/// 14-day pre-notification and any bank lead time.
pub const HORIZON_DAYS: i64 = 60;

/// One row of the plan's terms: from `effective_from` on, installments follow these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// First day these terms apply (the plan's start date for the first terms).
    pub effective_from: NaiveDate,
    /// Installment amount.
    pub amount: Money,
    /// Cadence.
    pub frequency: Frequency,
    /// Day of month, for monthly, quarterly and yearly cadences.
    pub day_of_month: Option<u8>,
}

/// Where the plan stands in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// Collecting. `skipped` is the last pause `[paused_on, resumed_on)`, if any: installments
    /// due in it are skipped (pause skips, it does not defer).
    Active {
        /// The last pause interval.
        skipped: Option<(NaiveDate, NaiveDate)>,
    },
    /// Not collecting since the date; nothing new is created.
    Paused,
    /// Stopped for good: pending installments are cancelled.
    Cancelled,
}

/// A first-attempt collection the ledger already holds for the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// Row id.
    pub id: i64,
    /// Installment number.
    pub installment: u32,
    /// Due date.
    pub due_date: NaiveDate,
    /// Amount.
    pub amount: Money,
    /// Pending and in no file yet: the only state that may still change.
    pub open: bool,
}

/// What to do to the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A new pending collection.
    Insert {
        /// Installment number.
        installment: u32,
        /// Due date (a TARGET2 business day).
        due_date: NaiveDate,
        /// Amount.
        amount: Money,
    },
    /// An installment that exists only to record that it was skipped.
    InsertSkipped {
        /// Installment number.
        installment: u32,
        /// Due date.
        due_date: NaiveDate,
        /// Amount it would have had.
        amount: Money,
    },
    /// New terms for a future open collection.
    Update {
        /// Row id.
        id: i64,
        /// New due date.
        due_date: NaiveDate,
        /// New amount.
        amount: Money,
    },
    /// A future open collection the schedule no longer has (count lowered, cadence changed).
    Remove {
        /// Row id.
        id: i64,
    },
    /// An open collection that will not be collected.
    Cancel {
        /// Row id.
        id: i64,
        /// Why, for the timeline.
        reason: &'static str,
    },
}

/// Builds the schedule described by a plan's first terms and its later changes (by date).
pub fn schedule(first: &Terms, changes: &[Terms], count: Option<u32>) -> Result<Schedule, ScheduleError> {
    let segment = |t: &Terms| Segment {
        from: t.effective_from,
        frequency: t.frequency,
        day_of_month: t.day_of_month,
    };
    let mut schedule = Schedule::new(segment(first), count)?;
    for t in changes {
        schedule.change(segment(t))?;
    }
    Ok(schedule)
}

/// Due date of the first installment beyond the horizon of `today`: until that date comes
/// within the horizon, the plan has nothing new to materialise. `None` when the schedule ends
/// before (a finished plan never needs a refresh again).
pub fn next_beyond_horizon(terms: &[Terms], count: Option<u32>, today: NaiveDate) -> Option<NaiveDate> {
    let (first, changes) = terms.split_first()?;
    let horizon = today + chrono::Duration::days(HORIZON_DAYS);
    schedule(first, changes, count)
        .ok()?
        .next_after(horizon)
        .map(|i| i.due_date)
}

/// Decides the changes that bring a plan's collections in line with its terms, as of `today`.
pub fn plan_actions(
    terms: &[Terms],
    count: Option<u32>,
    lifecycle: Lifecycle,
    existing: &[Existing],
    today: NaiveDate,
) -> Result<Vec<Action>, ScheduleError> {
    let mut actions = Vec::new();
    let skipped = match lifecycle {
        Lifecycle::Cancelled => {
            actions.extend(existing.iter().filter(|e| e.open).map(|e| Action::Cancel {
                id: e.id,
                reason: "plan cancelled",
            }));
            return Ok(actions);
        }
        Lifecycle::Paused => return Ok(actions),
        Lifecycle::Active { skipped } => skipped,
    };
    let Some((first, changes)) = terms.split_first() else {
        return Ok(actions);
    };
    let in_pause = |d: NaiveDate| skipped.is_some_and(|(from, to)| from <= d && d < to);
    let horizon = today + chrono::Duration::days(HORIZON_DAYS);
    let schedule = schedule(first, changes, count)?;
    let mut wanted = std::collections::HashSet::new();
    for inst in schedule.installments_until(horizon) {
        wanted.insert(inst.number);
        let amount = terms.get(inst.segment).map_or(terms[0].amount, |t| t.amount);
        match existing.iter().find(|e| e.installment == inst.number) {
            None if in_pause(inst.due_date) => actions.push(Action::InsertSkipped {
                installment: inst.number,
                due_date: inst.due_date,
                amount,
            }),
            None => actions.push(Action::Insert {
                installment: inst.number,
                due_date: inst.due_date,
                amount,
            }),
            Some(e) if e.open && in_pause(e.due_date) => actions.push(Action::Cancel {
                id: e.id,
                reason: "skipped: plan paused",
            }),
            Some(e) if e.open && e.due_date >= today && (e.due_date != inst.due_date || e.amount != amount) => actions
                .push(Action::Update {
                    id: e.id,
                    due_date: inst.due_date,
                    amount,
                }),
            Some(_) => {}
        }
    }
    actions.extend(
        existing
            .iter()
            .filter(|e| e.open && e.due_date >= today && !wanted.contains(&e.installment))
            .map(|e| Action::Remove { id: e.id }),
    );
    Ok(actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn monthly(from: &str, cents: i64) -> Terms {
        Terms {
            effective_from: d(from),
            amount: Money::from_cents(cents).unwrap(),
            frequency: Frequency::Monthly,
            day_of_month: Some(5),
        }
    }

    #[test]
    fn new_plan_gets_installments_up_to_the_horizon() {
        let actions = plan_actions(
            &[monthly("2026-11-01", 1000)],
            None,
            Lifecycle::Active { skipped: None },
            &[],
            d("2026-11-22"),
        )
        .unwrap();
        let dates: Vec<_> = actions
            .iter()
            .map(|a| match a {
                Action::Insert { due_date, .. } => *due_date,
                other => panic!("{other:?}"),
            })
            .collect();
        // 5 Nov, 7 Dec (5 Dec 2026 is a Saturday), 5 Jan 2027; 5 Feb is beyond 60 days.
        assert_eq!(dates, vec![d("2026-11-05"), d("2026-12-07"), d("2027-01-05")]);
    }

    #[test]
    fn a_price_change_reprices_only_future_open_collections() {
        let existing = vec![
            Existing {
                id: 1,
                installment: 1,
                due_date: d("2026-11-05"),
                amount: Money::from_cents(1000).unwrap(),
                open: false,
            },
            Existing {
                id: 2,
                installment: 2,
                due_date: d("2026-12-07"),
                amount: Money::from_cents(1000).unwrap(),
                open: true,
            },
        ];
        let terms = [monthly("2026-11-01", 1000), monthly("2026-12-05", 1500)];
        let actions = plan_actions(
            &terms,
            Some(3),
            Lifecycle::Active { skipped: None },
            &existing,
            d("2026-11-22"),
        )
        .unwrap();
        assert_eq!(
            actions,
            vec![
                Action::Update {
                    id: 2,
                    due_date: d("2026-12-07"),
                    amount: Money::from_cents(1500).unwrap()
                },
                Action::Insert {
                    installment: 3,
                    due_date: d("2027-01-05"),
                    amount: Money::from_cents(1500).unwrap()
                },
            ]
        );
    }

    #[test]
    fn the_watermark_is_the_first_installment_beyond_the_horizon() {
        let terms = [monthly("2026-11-01", 1000)];
        assert_eq!(
            next_beyond_horizon(&terms, None, d("2026-11-22")),
            Some(d("2027-02-05"))
        );
        assert_eq!(next_beyond_horizon(&terms, Some(3), d("2026-11-22")), None);
    }

    #[test]
    fn lowering_the_count_removes_future_open_collections() {
        let existing = vec![
            Existing {
                id: 1,
                installment: 1,
                due_date: d("2026-11-05"),
                amount: Money::from_cents(1000).unwrap(),
                open: true,
            },
            Existing {
                id: 2,
                installment: 2,
                due_date: d("2026-12-07"),
                amount: Money::from_cents(1000).unwrap(),
                open: true,
            },
        ];
        let actions = plan_actions(
            &[monthly("2026-11-01", 1000)],
            Some(1),
            Lifecycle::Active { skipped: None },
            &existing,
            d("2026-11-22"),
        )
        .unwrap();
        assert_eq!(actions, vec![Action::Remove { id: 2 }]);
    }

    #[test]
    fn pause_skips_and_cancel_cancels() {
        let existing = vec![Existing {
            id: 7,
            installment: 2,
            due_date: d("2026-12-07"),
            amount: Money::from_cents(1000).unwrap(),
            open: true,
        }];
        let terms = [monthly("2026-11-01", 1000)];
        assert!(
            plan_actions(&terms, None, Lifecycle::Paused, &existing, d("2026-11-22"))
                .unwrap()
                .is_empty()
        );
        let resumed = Lifecycle::Active {
            skipped: Some((d("2026-10-20"), d("2027-01-01"))),
        };
        let actions = plan_actions(&terms, None, resumed, &existing, d("2027-01-01")).unwrap();
        assert!(actions.contains(&Action::InsertSkipped {
            installment: 1,
            due_date: d("2026-11-05"),
            amount: Money::from_cents(1000).unwrap()
        }));
        assert!(actions.contains(&Action::Cancel {
            id: 7,
            reason: "skipped: plan paused"
        }));
        assert!(actions.contains(&Action::Insert {
            installment: 3,
            due_date: d("2027-01-05"),
            amount: Money::from_cents(1000).unwrap()
        }));
        let actions = plan_actions(&terms, None, Lifecycle::Cancelled, &existing, d("2026-11-22")).unwrap();
        assert_eq!(
            actions,
            vec![Action::Cancel {
                id: 7,
                reason: "plan cancelled"
            }]
        );
    }
}
