//! What a collect run takes: which pending collections are due for the run date, with which
//! requested collection date and sequence type, and which need a person instead.

use std::collections::HashSet;

use chrono::{Duration, Months, NaiveDate};

use crate::sepa::calendar;
use crate::sepa::pain008::SequenceType;

/// The bank-profile settings selection depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// TARGET2 business days between submission and the collection date (1 = D-1).
    pub lead_days: u32,
    /// Missed installments up to this many days late are still collected.
    pub catch_up_days: u32,
    /// Whether a mandate's first collection is sent as FRST (else RCUR).
    pub use_frst: bool,
    /// Whether a plan's last installment is sent as FNAL.
    pub use_fnal: bool,
}

/// A pending collection, as far as selection needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Collection id.
    pub id: i64,
    /// Due date.
    pub due_date: NaiveDate,
    /// The plan is active (not paused, cancelled or completed).
    pub plan_active: bool,
    /// The plan is a one-off.
    pub one_off: bool,
    /// This is the plan's last installment.
    pub last_installment: bool,
    /// The mandate serves another plan too. The sequence type belongs to the mandate, not
    /// the plan: such a mandate is recurrent, so its one-off plan's collection goes FRST or
    /// RCUR (an OOFF would end the mandate, or a second one reuse a one-off mandate), and a
    /// plan's last installment RCUR (an FNAL would end the other plans' mandate).
    pub mandate_shared: bool,
    /// Mandate row id.
    pub mandate: i64,
    /// The mandate is active (not revoked or expired).
    pub mandate_active: bool,
    /// A first collection of the mandate was presented and not undone.
    pub first_presented: bool,
    /// The mandate's signature date, or the collection date of its last presented
    /// collection if later: the day its 36 months of validity count from.
    pub mandate_in_use_since: NaiveDate,
}

/// A mandate with no collection presented for this long lapses (SEPA Core rulebook): the
/// creditor needs a new one.
const MANDATE_LAPSES_AFTER: Months = Months::new(36);

/// Whether a mandate in use since `in_use_since` (signed, or last presented) may still be
/// collected on `date`: the one statement of the 36-month lapse, for collect and imports.
pub fn mandate_in_force(in_use_since: NaiveDate, date: NaiveDate) -> bool {
    in_use_since
        .checked_add_months(MANDATE_LAPSES_AFTER)
        .is_some_and(|lapses_on| date <= lapses_on)
}

/// What happens to a candidate in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Into a file, to be collected on `requested_date`.
    Collect {
        /// `ReqdColltnDt`.
        requested_date: NaiveDate,
        /// `SeqTp`.
        sequence: SequenceType,
    },
    /// Not collected; a person must look at it (shown as failed with the reason).
    Review(String),
    /// Not collected because its mandate lapsed (no collection presented for 36 months):
    /// the mandate becomes `expired`, and the collection fails with the reason.
    Lapsed(String),
    /// Left pending (its plan is paused: the resume decides).
    Hold,
}

/// The earliest collection date a file submitted on `run_date` can ask for.
///
/// A file sent on a closing day (a weekend, 25 December) reaches the bank on the next TARGET2
/// business day, so the lead time counts from there: sent on Saturday, with D-1, it can ask for
/// Tuesday, not Monday (Monday's collections had to be in by Friday).
pub fn reachable_date(run_date: NaiveDate, lead_days: u32) -> NaiveDate {
    calendar::add_business_days(calendar::roll_forward(run_date), lead_days.max(1))
}

/// Why the files of a run for `run_date`, made on `today`, may come too late for the bank: the
/// collection date they ask for could only be reached by a file sent earlier. `None` when the
/// run is in time (a run for a past weekend day asks for what today's run would).
pub fn late_run(run_date: NaiveDate, today: NaiveDate, lead_days: u32) -> Option<String> {
    let asks_for = reachable_date(run_date, lead_days);
    let earliest = reachable_date(today, lead_days);
    (asks_for < earliest).then(|| {
        format!(
            "collect for {run_date} runs on {today}: its files ask for collection on {asks_for}, \
             which a file sent today can no longer reach (the earliest is {earliest}); the bank \
             may refuse them as late. A run for {today} would ask for {earliest}"
        )
    })
}

/// Decides candidates one by one, in due-date order, remembering which mandates were presented
/// in this run (a run may see a mandate's installments across several pages): after its FRST
/// the next is RCUR. Only a presentation the caller confirms counts ([`Selector::presented`]):
/// a FRST refused by the checks leaves the mandate's next collection FRST.
#[derive(Debug, Clone)]
pub struct Selector {
    rules: Rules,
    reachable: NaiveDate,
    oldest_caught_up: NaiveDate,
    presented_in_run: HashSet<i64>,
}

impl Selector {
    /// A selector for a run on `run_date`.
    pub fn new(run_date: NaiveDate, rules: Rules) -> Self {
        Self {
            rules,
            reachable: reachable_date(run_date, rules.lead_days),
            oldest_caught_up: run_date - Duration::days(i64::from(rules.catch_up_days)),
            presented_in_run: HashSet::new(),
        }
    }

    /// The latest due date this run takes.
    pub fn reachable(&self) -> NaiveDate {
        self.reachable
    }

    /// Decides one candidate; `None` when it is not due yet. Candidates must come sorted by
    /// due date then id, so that a mandate's earliest installment is the one sent as FRST.
    pub fn decide(&self, c: &Candidate) -> Option<Decision> {
        if c.due_date > self.reachable {
            return None;
        }
        let rules = self.rules;
        let requested_date = c.due_date.max(self.reachable);
        Some(if !c.plan_active {
            Decision::Hold
        } else if !c.mandate_active {
            Decision::Review("the mandate is revoked or expired: not presented".to_owned())
        } else if c.due_date < self.oldest_caught_up {
            Decision::Review(format!(
                "missed its due date {} by more than the {}-day catch-up window: present it again (`collecte retry ID`) or set it aside (`collecte ignore ID`)",
                c.due_date, rules.catch_up_days
            ))
        } else if !mandate_in_force(c.mandate_in_use_since, requested_date) {
            Decision::Lapsed(format!(
                "the mandate lapsed: no collection presented in the 36 months since {}, so it cannot be \
                 collected on {requested_date}; the customer must sign a new mandate",
                c.mandate_in_use_since
            ))
        } else {
            // A mandate already in a recurrent series (another plan's FRST, or history the
            // mandates import brought) is not one-off either.
            let sequence = if c.one_off && !c.mandate_shared && !c.first_presented {
                SequenceType::Ooff
            } else if rules.use_frst && !c.first_presented && !self.was_presented(c.mandate) {
                SequenceType::Frst
            } else if rules.use_fnal && c.last_installment && !c.mandate_shared {
                SequenceType::Fnal
            } else {
                SequenceType::Rcur
            };
            Decision::Collect {
                requested_date,
                sequence,
            }
        })
    }

    /// Records that a collection of `mandate` went into a file in this run: its later
    /// collections are no longer its first, and announce no amendment.
    pub fn presented(&mut self, mandate: i64) {
        self.presented_in_run.insert(mandate);
    }

    /// Whether a collection of `mandate` already went into a file in this run.
    pub fn was_presented(&self, mandate: i64) -> bool {
        self.presented_in_run.contains(&mandate)
    }
}

/// The amendment a collection must announce (`AmdmntInfDtls`), as stored strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AmendmentFields {
    /// Previous UMR.
    pub original_mandate_id: Option<String>,
    /// Previous creditor identifier.
    pub original_scheme_id: Option<String>,
    /// Previous IBAN, or `SMNDA` when the debtor moved to another bank.
    pub original_debtor_account: Option<String>,
}

impl AmendmentFields {
    /// Whether there is anything to announce.
    pub fn is_empty(&self) -> bool {
        self.original_mandate_id.is_none()
            && self.original_scheme_id.is_none()
            && self.original_debtor_account.is_none()
    }
}

/// What a mandate and its creditor are now, to compare the unannounced changes with.
#[derive(Debug, Clone, Copy)]
pub struct CurrentMandate<'a> {
    /// The debtor's IBAN.
    pub iban: &'a crate::sepa::Iban,
    /// The UMR.
    pub mandate_id: &'a str,
    /// The creditor identifier.
    pub scheme_id: &'a str,
}

/// Decides what a mandate's next collection announces: the oldest unannounced IBAN and UMR
/// changes, and the creditor identifier in force when the mandate was last presented if it has
/// changed since. A new IBAN at another bank is `SMNDA` (same mandate, new debtor agent); at the
/// same bank the old IBAN itself. A value changed and changed back before the bank heard of
/// it (the oldest unannounced one is the current one) is no change: nothing is announced.
pub fn amendment_for(
    mandate_changes: &[(&str, &str)],
    current: CurrentMandate<'_>,
    scheme_changes_since_last_presented: &[&str],
) -> AmendmentFields {
    let first = |kind: &str, now: &str| {
        mandate_changes
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, old)| (*old).to_owned())
            .filter(|old| old != now)
    };
    let current_iban = current.iban;
    let original_debtor_account =
        first("iban", current_iban.as_str()).map(|old| match crate::sepa::Iban::parse(&old) {
            // Same bank only when both IBANs say which bank: a country whose IBAN format has
            // no bank identifier (Poland's, in `iban_validate`) cannot show it, so a move
            // there is announced as a change of bank, which the rulebook accepts either way.
            Ok(old)
                if old.country() == current_iban.country()
                    && old.bank_identifier().is_some()
                    && old.bank_identifier() == current_iban.bank_identifier() =>
            {
                old.as_str().to_owned()
            }
            _ => "SMNDA".to_owned(),
        });
    AmendmentFields {
        original_mandate_id: first("mandate_id", current.mandate_id),
        original_scheme_id: scheme_changes_since_last_presented
            .first()
            .filter(|old| **old != current.scheme_id)
            .map(|s| (*s).to_owned()),
        original_debtor_account,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn cand(id: i64, due: &str, mandate: i64) -> Candidate {
        Candidate {
            id,
            due_date: d(due),
            plan_active: true,
            one_off: false,
            last_installment: false,
            mandate_shared: false,
            mandate,
            mandate_active: true,
            first_presented: false,
            mandate_in_use_since: d("2026-01-01"),
        }
    }

    const RULES: Rules = Rules {
        lead_days: 1,
        catch_up_days: 30,
        use_frst: true,
        use_fnal: false,
    };

    /// Decides every candidate; each one collected is presented.
    fn decide(cands: &[Candidate], run_date: NaiveDate, rules: Rules) -> Vec<(i64, Decision)> {
        let mut selector = Selector::new(run_date, rules);
        cands
            .iter()
            .filter_map(|c| {
                let decision = selector.decide(c)?;
                if matches!(decision, Decision::Collect { .. }) {
                    selector.presented(c.mandate);
                }
                Some((c.id, decision))
            })
            .collect()
    }

    /// The sequence type of each candidate, on Friday 20 Nov 2026; each one must be collected.
    fn sequences(cands: &[Candidate], rules: Rules) -> Vec<SequenceType> {
        decide(cands, d("2026-11-20"), rules)
            .into_iter()
            .map(|(_, d)| match d {
                Decision::Collect { sequence, .. } => sequence,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn d_minus_one_in_target2_business_days() {
        // Friday 2026-11-20 reaches Monday 23rd; Thursday 24 Dec 2026 reaches Monday 28th.
        assert_eq!(reachable_date(d("2026-11-20"), 1), d("2026-11-23"));
        assert_eq!(reachable_date(d("2026-12-24"), 1), d("2026-12-28"));
        assert_eq!(reachable_date(d("2026-11-23"), 2), d("2026-11-25"));
    }

    #[test]
    fn a_run_for_a_past_date_is_late_only_if_it_asks_for_an_unreachable_date() {
        // Friday's run made on Monday asks for Monday: late (Tuesday is the earliest).
        let late = late_run(d("2026-11-20"), d("2026-11-23"), 1).unwrap();
        assert!(late.contains("ask for collection on 2026-11-23"), "{late}");
        assert!(late.contains("the earliest is 2026-11-24"), "{late}");
        // Sunday's run made on Monday asks for Tuesday, as Monday's would; today's is in time.
        assert_eq!(late_run(d("2026-11-22"), d("2026-11-23"), 1), None);
        assert_eq!(late_run(d("2026-11-23"), d("2026-11-23"), 1), None);
        assert_eq!(late_run(d("2026-11-24"), d("2026-11-23"), 1), None);
    }

    #[test]
    fn a_file_sent_on_a_closing_day_counts_from_the_next_business_day() {
        // Saturday 28 Nov 2026 reaches the bank on Monday 30th: Tuesday 1 Dec at the earliest.
        assert_eq!(reachable_date(d("2026-11-28"), 1), d("2026-12-01"));
        assert_eq!(reachable_date(d("2026-11-29"), 1), d("2026-12-01"));
        // Christmas Day 2026 (a Friday) and the weekend after: Monday 28th, then Tuesday 29th.
        assert_eq!(reachable_date(d("2026-12-25"), 1), d("2026-12-29"));
        // Good Friday 2027 (26 March) to Easter Monday: Tuesday 30th, then Wednesday 31st.
        assert_eq!(reachable_date(d("2027-03-26"), 1), d("2027-03-31"));
        assert_eq!(reachable_date(d("2027-03-29"), 2), d("2027-04-01"));
    }

    #[test]
    fn selects_due_and_caught_up_collections_only() {
        let cands = vec![
            cand(1, "2026-10-01", 10),
            cand(2, "2026-11-10", 11),
            cand(3, "2026-11-23", 12),
            cand(4, "2026-11-24", 13),
        ];
        let out = decide(&cands, d("2026-11-20"), RULES);
        assert_eq!(out.len(), 3, "the 24th is not reachable yet");
        assert!(matches!(&out[0].1, Decision::Review(r) if r.contains("catch-up")));
        assert_eq!(
            out[1].1,
            Decision::Collect {
                requested_date: d("2026-11-23"),
                sequence: SequenceType::Frst
            }
        );
        assert_eq!(
            out[2].1,
            Decision::Collect {
                requested_date: d("2026-11-23"),
                sequence: SequenceType::Frst
            }
        );
    }

    #[test]
    fn sequence_types_follow_the_profile() {
        let mut a = cand(1, "2026-11-20", 10);
        let b = cand(2, "2026-11-23", 10);
        let mut once = cand(3, "2026-11-23", 11);
        once.one_off = true;
        let mut last = cand(4, "2026-11-23", 12);
        last.first_presented = true;
        last.last_installment = true;
        let seqs = sequences(&[a.clone(), b.clone(), once, last.clone()], RULES);
        assert_eq!(
            seqs,
            vec![
                SequenceType::Frst,
                SequenceType::Rcur,
                SequenceType::Ooff,
                SequenceType::Rcur
            ]
        );
        let fnal = Rules {
            use_fnal: true,
            use_frst: false,
            ..RULES
        };
        a.first_presented = false;
        let seqs = sequences(&[a, b, last], fnal);
        assert_eq!(seqs, vec![SequenceType::Rcur, SequenceType::Rcur, SequenceType::Fnal]);
    }

    #[test]
    fn a_mandate_serving_several_plans_is_recurrent() {
        // Mandate 10 serves a monthly plan and a one-off plan: the one-off's collection is
        // the mandate's FRST (it comes first), the monthly one then RCUR.
        let mut once = cand(1, "2026-11-20", 10);
        once.one_off = true;
        once.mandate_shared = true;
        let monthly = cand(2, "2026-11-23", 10);
        // Mandate 11 serves two plans; one of them ends: RCUR, not FNAL.
        let mut last = cand(3, "2026-11-23", 11);
        last.first_presented = true;
        last.last_installment = true;
        last.mandate_shared = true;
        // Mandate 12 serves only a one-off plan but was collected before (imported history).
        let mut used = cand(4, "2026-11-23", 12);
        used.one_off = true;
        used.first_presented = true;
        let fnal = Rules {
            use_fnal: true,
            ..RULES
        };
        let seqs = sequences(&[once, monthly, last, used], fnal);
        assert_eq!(
            seqs,
            vec![
                SequenceType::Frst,
                SequenceType::Rcur,
                SequenceType::Rcur,
                SequenceType::Rcur
            ]
        );
    }

    /// A mandate now at `iban` under `umr`, of creditor DE98ZZZ09999999999.
    fn now<'a>(iban: &'a crate::sepa::Iban, umr: &'a str) -> CurrentMandate<'a> {
        CurrentMandate {
            iban,
            mandate_id: umr,
            scheme_id: "DE98ZZZ09999999999",
        }
    }

    #[test]
    fn amendments_announce_the_oldest_change() {
        let new = crate::sepa::Iban::parse("DE89370400440532013000").unwrap();
        let now = now(&new, "UMR-NOW");
        let a = amendment_for(&[("iban", "FR1420041010050500013M02606")], now, &[]);
        assert_eq!(a.original_debtor_account.as_deref(), Some("SMNDA"));
        let same_bank = "DE62370400440532013001"; // same BLZ 37040044
        let a = amendment_for(&[("iban", same_bank)], now, &[]);
        assert_eq!(a.original_debtor_account.as_deref(), Some(same_bank));
        // Polish IBANs name no bank identifier: two banks' accounts are not "the same bank".
        let polish = crate::sepa::Iban::parse("PL61109010140000071219812874").unwrap();
        assert_eq!(polish.bank_identifier(), None, "if this changes, test another country");
        let a = amendment_for(
            &[("iban", "PL27114020040000300201355387")],
            self::now(&polish, "UMR-NOW"),
            &[],
        );
        assert_eq!(a.original_debtor_account.as_deref(), Some("SMNDA"));
        let a = amendment_for(
            &[("mandate_id", "OLD-1"), ("mandate_id", "OLD-2")],
            now,
            &["FR72ZZZ123456"],
        );
        assert_eq!(a.original_mandate_id.as_deref(), Some("OLD-1"));
        assert_eq!(a.original_scheme_id.as_deref(), Some("FR72ZZZ123456"));
        assert!(amendment_for(&[], now, &[]).is_empty());
    }

    #[test]
    fn a_change_undone_before_the_bank_heard_of_it_is_not_announced() {
        let iban = crate::sepa::Iban::parse("DE89370400440532013000").unwrap();
        let now = now(&iban, "UMR-1");
        // IBAN A → B → A, UMR 1 → 2 → 1, creditor id X → Y → X: the bank still has A, 1, X.
        let a = amendment_for(
            &[
                ("iban", "DE89370400440532013000"),
                ("mandate_id", "UMR-1"),
                ("iban", "FR1420041010050500013M02606"),
                ("mandate_id", "UMR-2"),
            ],
            now,
            &["DE98ZZZ09999999999", "FR72ZZZ123456"],
        );
        assert!(a.is_empty(), "{a:?}");
    }

    #[test]
    fn a_mandate_lapses_36_months_after_its_last_presentation() {
        let mut old = cand(1, "2026-11-23", 10);
        old.mandate_in_use_since = d("2023-11-22");
        let mut just = cand(2, "2026-11-23", 11);
        just.mandate_in_use_since = d("2023-11-23");
        let out = decide(&[old, just], d("2026-11-20"), RULES);
        assert!(
            matches!(&out[0].1, Decision::Lapsed(r) if r.contains("since 2023-11-22") && r.contains("new mandate")),
            "{out:?}"
        );
        assert!(matches!(out[1].1, Decision::Collect { .. }), "{out:?}");
        // Counted to the requested date, not the due date: a late catch-up can cross it.
        let mut late = cand(3, "2026-11-10", 12);
        late.mandate_in_use_since = d("2023-11-15");
        let out = decide(&[late], d("2026-11-20"), RULES);
        assert!(matches!(out[0].1, Decision::Lapsed(_)), "{out:?}");
    }

    #[test]
    fn a_frst_not_presented_leaves_the_next_one_frst() {
        let mut selector = Selector::new(d("2026-11-20"), RULES);
        let (a, b) = (cand(1, "2026-11-20", 10), cand(2, "2026-11-23", 10));
        let frst = Decision::Collect {
            requested_date: d("2026-11-23"),
            sequence: SequenceType::Frst,
        };
        assert_eq!(selector.decide(&a), Some(frst.clone()));
        // `a` was refused by the checks: not presented.
        assert_eq!(selector.decide(&b), Some(frst));
        selector.presented(b.mandate);
        assert!(matches!(
            selector.decide(&cand(3, "2026-11-23", 10)),
            Some(Decision::Collect {
                sequence: SequenceType::Rcur,
                ..
            })
        ));
    }

    #[test]
    fn paused_plans_wait_and_revoked_mandates_need_review() {
        let mut paused = cand(1, "2026-11-23", 10);
        paused.plan_active = false;
        let mut revoked = cand(2, "2026-11-23", 11);
        revoked.mandate_active = false;
        let out = decide(&[paused, revoked], d("2026-11-20"), RULES);
        assert_eq!(out[0].1, Decision::Hold);
        assert!(matches!(&out[1].1, Decision::Review(r) if r.contains("revoked")));
    }
}
