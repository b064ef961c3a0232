//! A person's decisions on a collection the ledger gave up on (`collecte retry`, `collecte
//! ignore`): which ones may be presented again or set aside, and when a new attempt falls due.
//! Collect's refusals end with "present it again or set it aside"; these are the two answers.

use chrono::NaiveDate;

use super::collect::reachable_date;
use crate::sepa::calendar;

/// What the ledger knows of a collection a person wants presented again.
#[derive(Debug, Clone, Copy)]
pub struct RetryFacts<'a> {
    /// The collection's status.
    pub status: &'a str,
    /// Paid by card: not collecte's to present by direct debit.
    pub by_card: bool,
    /// The plan's status.
    pub plan_status: &'a str,
    /// The mandate's status (`None` for a card collection).
    pub mandate_status: Option<&'a str>,
    /// The collection that already presents this one again, if any.
    pub retried_as: Option<i64>,
    /// A final collection (OOFF or FNAL) of its mandate went to the bank and was not
    /// rejected: the mandate is ended, and the debtor bank refuses what comes after.
    pub mandate_ended: bool,
}

/// Why the collection cannot be presented again, if it cannot: only a failed direct-debit
/// collection, presented again once, of a plan still running and under a mandate in force.
pub fn retry_refusal(f: &RetryFacts<'_>) -> Option<String> {
    if let Some(next) = f.retried_as {
        return Some(format!(
            "it is already presented again as collection {next} (retry that one if it failed too)"
        ));
    }
    if f.status != "failed" {
        return Some(format!(
            "it is {}, not failed: only a failed collection is presented again",
            f.status
        ));
    }
    if f.by_card {
        return Some("it is paid by card, not by SEPA direct debit".to_owned());
    }
    if f.plan_status == "cancelled" {
        return Some("its plan is cancelled".to_owned());
    }
    match f.mandate_status {
        Some("active") | None if f.mandate_ended => Some(
            "its mandate's final collection (OOFF or FNAL) went to the bank, which ended the mandate: \
             a collection after it would be refused; the customer must sign a new mandate"
                .to_owned(),
        ),
        Some("active") | None => None,
        Some(status) => Some(format!("its mandate is {status}: the customer must sign a new mandate")),
    }
}

/// Why the collection cannot be set aside, if it cannot: only a failed one is (a pending one
/// goes with its plan: pause or cancel the plan).
pub fn ignore_refusal(status: &str) -> Option<String> {
    (status != "failed").then(|| {
        format!("it is {status}, not failed: only a failed collection is set aside (a pending one goes with its plan)")
    })
}

/// When a new attempt falls due: the first collection date a run on `run_date` can reach,
/// or the next business day after it that the plan has no collection of this attempt on
/// (the ledger holds one collection per plan, date and attempt, and two installments of one
/// plan may be presented again on the same day).
pub fn retry_due_date(run_date: NaiveDate, lead_days: u32, taken: &[NaiveDate]) -> NaiveDate {
    let mut date = reachable_date(run_date, lead_days);
    while taken.contains(&date) {
        date = calendar::add_business_days(date, 1);
    }
    date
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> RetryFacts<'static> {
        RetryFacts {
            status: "failed",
            by_card: false,
            plan_status: "active",
            mandate_status: Some("active"),
            retried_as: None,
            mandate_ended: false,
        }
    }

    #[test]
    fn only_a_failed_direct_debit_under_a_mandate_in_force_is_presented_again() {
        assert_eq!(retry_refusal(&facts()), None);
        assert_eq!(
            retry_refusal(&RetryFacts {
                plan_status: "paused",
                ..facts()
            }),
            None
        );
        let refused = |f: RetryFacts<'_>| retry_refusal(&f).unwrap_or_default();
        assert!(
            refused(RetryFacts {
                status: "settled",
                ..facts()
            })
            .contains("settled, not failed")
        );
        assert!(
            refused(RetryFacts {
                status: "pending",
                ..facts()
            })
            .contains("pending, not failed")
        );
        assert!(
            refused(RetryFacts {
                retried_as: Some(7),
                ..facts()
            })
            .contains("collection 7")
        );
        assert!(
            refused(RetryFacts {
                by_card: true,
                mandate_status: None,
                ..facts()
            })
            .contains("card")
        );
        assert!(
            refused(RetryFacts {
                plan_status: "cancelled",
                ..facts()
            })
            .contains("cancelled")
        );
        assert!(
            refused(RetryFacts {
                mandate_status: Some("revoked"),
                ..facts()
            })
            .contains("mandate is revoked")
        );
        assert!(
            refused(RetryFacts {
                mandate_ended: true,
                ..facts()
            })
            .contains("final collection (OOFF or FNAL) went to the bank")
        );
    }

    #[test]
    fn only_a_failed_collection_is_set_aside() {
        assert_eq!(ignore_refusal("failed"), None);
        for status in ["pending", "submitted", "settled", "ignored", "cancelled"] {
            assert!(ignore_refusal(status).unwrap_or_default().contains(status));
        }
    }

    #[test]
    fn a_retry_falls_due_on_the_first_reachable_date_the_plan_leaves_free() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap_or_default();
        // Friday 4 Dec 2026 with D-1: Monday 7th is the first reachable date.
        assert_eq!(retry_due_date(d(12, 4), 1, &[]), d(12, 7));
        // Taken on Monday and Tuesday: Wednesday.
        assert_eq!(retry_due_date(d(12, 4), 1, &[d(12, 7), d(12, 8)]), d(12, 9));
        // Thursday 24 Dec: 25 and 26 are TARGET2 holidays, the 28th is reachable from the
        // 24th, the 29th when the 28th is taken.
        assert_eq!(retry_due_date(d(12, 24), 1, &[]), d(12, 28));
        assert_eq!(retry_due_date(d(12, 24), 1, &[d(12, 28)]), d(12, 29));
    }
}
