//! How a plan changes when its source (an import file) states it again.
//!
//! Amount, frequency and period changes apply to future installments only; a plan that has
//! not collected anything yet is simply redefined. Pausing skips installments (it does not
//! defer them); a cancelled plan stays cancelled.

use chrono::{Datelike, NaiveDate};

use super::installments::{Lifecycle, Terms, schedule};
use super::records::{PlanRecord, PlanState};
use super::schedule::Frequency;

/// A plan's lifecycle as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredState {
    /// Collecting.
    Active,
    /// Paused since the date.
    Paused(NaiveDate),
    /// All installments done.
    Completed,
    /// Stopped for good.
    Cancelled,
}

impl StoredState {
    /// Reads the stored `status` / `paused_on` pair.
    pub fn from_columns(status: &str, paused_on: Option<NaiveDate>) -> Option<Self> {
        match (status, paused_on) {
            ("active", _) => Some(Self::Active),
            ("paused", Some(since)) => Some(Self::Paused(since)),
            ("completed", _) => Some(Self::Completed),
            ("cancelled", _) => Some(Self::Cancelled),
            _ => None,
        }
    }

    /// The `status` column.
    pub fn status(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused(_) => "paused",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The `paused_on` column.
    pub fn paused_on(self) -> Option<NaiveDate> {
        match self {
            Self::Paused(since) => Some(since),
            _ => None,
        }
    }
}

/// What the ledger holds about a plan, as far as a change needs to know.
#[derive(Debug, Clone)]
pub struct StoredPlan {
    /// Number of installments.
    pub count: Option<u32>,
    /// Remittance text.
    pub description: Option<String>,
    /// Lifecycle.
    pub state: StoredState,
    /// Terms by effective date (never empty).
    pub terms: Vec<Terms>,
    /// Whether any installment already left the pending state or went into a file.
    pub started: bool,
    /// Whether the payment method (mandate or card) differs from the one stated now.
    pub method_changed: bool,
    /// The plan's own final collection (its OOFF, or its FNAL) went to the bank and ended the
    /// mandate it is stated with: that mandate takes no further installment.
    pub ended_its_mandate: bool,
}

/// How the plan's terms change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermsChange {
    /// Same terms.
    None,
    /// New terms from a future date on.
    Append(Terms),
    /// The last terms had not started yet: they are replaced.
    ReplaceLast(Terms),
    /// The plan has not started: all terms are replaced by these.
    ReplaceAll(Terms),
}

/// The decided update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanUpdate {
    /// Whether anything about the plan changed.
    pub changed: bool,
    /// Terms change.
    pub terms: TermsChange,
    /// Lifecycle after the change.
    pub state: StoredState,
    /// Lifecycle to materialise collections with.
    pub lifecycle: Lifecycle,
}

/// A problem with the stated plan: column, value, reason.
pub type PlanProblem = (&'static str, String, String);

/// The terms a record states from a given date on.
fn stated_terms(record: &PlanRecord, from: NaiveDate, day_of_month: Option<u8>) -> Terms {
    Terms {
        effective_from: from,
        amount: record.amount,
        frequency: record.frequency,
        day_of_month,
    }
}

/// The first terms of a new plan.
pub fn initial_terms(record: &PlanRecord) -> Terms {
    stated_terms(record, record.start_date, record.day_of_month)
}

/// The initial lifecycle of a new plan.
pub fn initial_state(record: &PlanRecord, today: NaiveDate) -> StoredState {
    match record.state {
        Some(PlanState::Paused) => StoredState::Paused(today),
        Some(PlanState::Cancelled) => StoredState::Cancelled,
        Some(PlanState::Active) | None => StoredState::Active,
    }
}

/// Lifecycle to materialise collections with, for a state that did not just change.
pub fn lifecycle_of(state: StoredState) -> Lifecycle {
    match state {
        StoredState::Active | StoredState::Completed => Lifecycle::Active { skipped: None },
        StoredState::Paused(_) => Lifecycle::Paused,
        StoredState::Cancelled => Lifecycle::Cancelled,
    }
}

/// Decides how a stored plan changes to match `record`, as of `today`.
pub fn plan_update(stored: &StoredPlan, record: &PlanRecord, today: NaiveDate) -> Result<PlanUpdate, Vec<PlanProblem>> {
    let mut problems = Vec::new();
    let (state, lifecycle) = match (stored.state, record.state) {
        (current, None) => (current, lifecycle_of(current)),
        (StoredState::Cancelled, Some(PlanState::Active | PlanState::Paused)) => {
            problems.push((
                "status",
                record.state.map_or("", |s| s.as_str()).to_owned(),
                "the plan is cancelled and cannot be reactivated; create a new plan".to_owned(),
            ));
            (StoredState::Cancelled, Lifecycle::Cancelled)
        }
        (StoredState::Paused(since), Some(PlanState::Active)) => (
            StoredState::Active,
            Lifecycle::Active {
                skipped: Some((since, today)),
            },
        ),
        (StoredState::Active | StoredState::Completed, Some(PlanState::Paused)) => {
            (StoredState::Paused(today), Lifecycle::Paused)
        }
        (_, Some(PlanState::Cancelled)) => (StoredState::Cancelled, Lifecycle::Cancelled),
        (current, Some(_)) => (current, lifecycle_of(current)),
    };
    if stored.ended_its_mandate && record.count != stored.count {
        problems.push((
            "count",
            record.count.map_or_else(String::new, |c| c.to_string()),
            format!(
                "the plan's last installment ({}) went to the bank as its final collection (OOFF or FNAL), \
                 which ended its mandate: it can have no other installment on it; state the plan with a \
                 new mandate, or make a new plan",
                stored
                    .count
                    .map_or_else(|| "open-ended".to_owned(), |c| format!("number {c}"))
            ),
        ));
    }
    let terms = terms_change(stored, record, today).unwrap_or_else(|p| {
        problems.push(p);
        TermsChange::None
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    let changed = terms != TermsChange::None
        || state != stored.state
        || record.count != stored.count
        || record.description != stored.description
        || stored.method_changed;
    Ok(PlanUpdate {
        changed,
        terms,
        state,
        lifecycle,
    })
}

fn terms_change(stored: &StoredPlan, record: &PlanRecord, today: NaiveDate) -> Result<TermsChange, PlanProblem> {
    let (Some(first), Some(latest)) = (stored.terms.first(), stored.terms.last()) else {
        return Ok(TermsChange::ReplaceAll(initial_terms(record)));
    };
    if record.start_date != first.effective_from {
        if stored.started {
            return Err((
                "start_date",
                record.start_date.to_string(),
                format!(
                    "the plan started on {} and has collected; its start date can no longer change",
                    first.effective_from
                ),
            ));
        }
        return Ok(TermsChange::ReplaceAll(initial_terms(record)));
    }
    let same_cadence = record.frequency == latest.frequency && record.day_of_month == latest.day_of_month;
    let unchanged = same_cadence && record.amount == latest.amount;
    // A plan stated with its original day of month keeps it even when later terms pinned it.
    let pinned_same = record.frequency == latest.frequency
        && record.amount == latest.amount
        && record.day_of_month.is_none()
        && latest.day_of_month == Some(pinned_day(first));
    if unchanged || pinned_same {
        return Ok(TermsChange::None);
    }
    if !stored.started {
        return Ok(TermsChange::ReplaceAll(initial_terms(record)));
    }
    // An amount-only change keeps the cadence: it starts at the next nominal installment date.
    let from = if same_cadence || (record.frequency == latest.frequency && record.day_of_month.is_none()) {
        let next = schedule(first, &stored.terms[1..], None)
            .ok()
            .and_then(|s| s.next_after(today.pred_opt().unwrap_or(today)));
        next.map_or(today, |i| i.nominal_date.max(today))
    } else {
        today
    };
    let day_of_month = match record.frequency {
        Frequency::Monthly | Frequency::Quarterly | Frequency::Yearly => {
            Some(record.day_of_month.unwrap_or_else(|| pinned_day(first)))
        }
        Frequency::Weekly | Frequency::Once => None,
    };
    if from <= latest.effective_from {
        Ok(TermsChange::ReplaceLast(stated_terms(
            record,
            latest.effective_from,
            day_of_month,
        )))
    } else {
        Ok(TermsChange::Append(stated_terms(record, from, day_of_month)))
    }
}

/// The day of month a plan's first terms collect on.
fn pinned_day(first: &Terms) -> u8 {
    first
        .day_of_month
        .unwrap_or_else(|| u8::try_from(first.effective_from.day()).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::{PaymentMethodRef, Reference};
    use crate::sepa::{MandateId, Money};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn record(cents: i64, frequency: Frequency, state: Option<PlanState>) -> PlanRecord {
        PlanRecord {
            plan_id: Reference::parse("P1").unwrap(),
            customer: Reference::parse("C1").unwrap(),
            method: PaymentMethodRef::Mandate(MandateId::parse("M1").unwrap()),
            amount: Money::from_cents(cents).unwrap(),
            frequency,
            start_date: d("2026-01-31"),
            count: None,
            day_of_month: None,
            description: None,
            state,
        }
    }

    fn stored(started: bool, state: StoredState) -> StoredPlan {
        StoredPlan {
            count: None,
            description: None,
            state,
            terms: vec![initial_terms(&record(1000, Frequency::Monthly, None))],
            started,
            method_changed: false,
            ended_its_mandate: false,
        }
    }

    #[test]
    fn a_plan_whose_final_collection_ended_its_mandate_takes_no_more_installments() {
        let ended = StoredPlan {
            count: Some(3),
            ended_its_mandate: true,
            ..stored(true, StoredState::Active)
        };
        let stated = |count| PlanRecord {
            count,
            ..record(1000, Frequency::Monthly, None)
        };
        assert!(
            plan_update(&ended, &stated(Some(3)), d("2026-11-22")).is_ok(),
            "the same plan again"
        );
        for more in [Some(4), None] {
            let refused = plan_update(&ended, &stated(more), d("2026-11-22")).unwrap_err();
            assert_eq!(refused[0].0, "count");
            assert!(refused[0].2.contains("ended its mandate"), "{refused:?}");
        }
    }

    #[test]
    fn same_record_changes_nothing() {
        let u = plan_update(
            &stored(true, StoredState::Active),
            &record(1000, Frequency::Monthly, None),
            d("2026-11-22"),
        )
        .unwrap();
        assert!(!u.changed);
        assert_eq!(u.terms, TermsChange::None);
    }

    #[test]
    fn amount_change_keeps_the_cadence_and_the_pinned_day() {
        let u = plan_update(
            &stored(true, StoredState::Active),
            &record(1500, Frequency::Monthly, None),
            d("2026-11-22"),
        )
        .unwrap();
        // Next nominal date on or after 22 Nov of a plan on the 31st: 30 Nov.
        assert_eq!(
            u.terms,
            TermsChange::Append(Terms {
                effective_from: d("2026-11-30"),
                amount: Money::from_cents(1500).unwrap(),
                frequency: Frequency::Monthly,
                day_of_month: Some(31)
            })
        );
    }

    #[test]
    fn unstarted_plans_are_redefined_and_started_ones_keep_their_start() {
        let u = plan_update(
            &stored(false, StoredState::Active),
            &record(1500, Frequency::Weekly, None),
            d("2026-11-22"),
        )
        .unwrap();
        assert!(matches!(u.terms, TermsChange::ReplaceAll(_)));
        let mut r = record(1000, Frequency::Monthly, None);
        r.start_date = d("2026-02-01");
        let e = plan_update(&stored(true, StoredState::Active), &r, d("2026-11-22")).unwrap_err();
        assert_eq!(e[0].0, "start_date");
    }

    #[test]
    fn pause_resume_and_cancel() {
        let today = d("2026-11-22");
        let u = plan_update(
            &stored(true, StoredState::Active),
            &record(1000, Frequency::Monthly, Some(PlanState::Paused)),
            today,
        )
        .unwrap();
        assert_eq!(u.state, StoredState::Paused(today));
        let u = plan_update(
            &stored(true, StoredState::Paused(d("2026-10-01"))),
            &record(1000, Frequency::Monthly, Some(PlanState::Active)),
            today,
        )
        .unwrap();
        assert_eq!(
            u.lifecycle,
            Lifecycle::Active {
                skipped: Some((d("2026-10-01"), today))
            }
        );
        let e = plan_update(
            &stored(true, StoredState::Cancelled),
            &record(1000, Frequency::Monthly, Some(PlanState::Active)),
            today,
        )
        .unwrap_err();
        assert_eq!(e[0].0, "status");
    }
}
