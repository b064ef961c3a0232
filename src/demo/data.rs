//! The demo book: customers, mandates, cards, plans, invoices and payments, generated from a
//! seed as the six CSV files `collecte import all` reads (docs/import.md), so that the demo
//! loads them through the very path a user's files take, and the user can open them.
//!
//! Dates are relative to the business date: a third of the plans have their first installment
//! on the first collection date the day's file can ask for, the others start within the next
//! weeks, so the demo day has something to collect and `collections --status pending` shows
//! what comes next. Customer `i` depends only on the seed and `i`, so a bigger book starts
//! with the same customers as a smaller one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use super::DemoError;
use super::countries::{COUNTRIES, Country};
use super::iban::iban;
use super::rng::Rng;
use crate::domain::schedule::Frequency;
use crate::import::ImportKind;
use crate::sepa::text::Name;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Number of customers.
    pub customers: u32,
    /// Chooses the data set: the same seed gives the same files.
    pub seed: u64,
    /// The demo's business date: mandates are signed before it, invoices issued before it.
    pub business_date: NaiveDate,
    /// The first collection date a file sent on the business date can ask for: the plans
    /// "due today" have their first installment on it.
    pub collection_date: NaiveDate,
}

/// What the book holds, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Customers.
    pub customers: u64,
    /// Of which banking outside the EEA (CH, GB), all with a postal address.
    pub outside_eea: u64,
    /// Of which with a name in Greek or Cyrillic letters (transliterated in bank files).
    pub non_latin_names: u64,
    /// Of which without a postal address.
    pub without_address: u64,
    /// SEPA mandates.
    pub mandates: u64,
    /// Saved cards.
    pub cards: u64,
    /// Of which expiring by the end of next month.
    pub cards_expiring_soon: u64,
    /// Plans per frequency (`weekly`, `monthly`, `quarterly`, `yearly`, `once`).
    pub plans: BTreeMap<&'static str, u64>,
    /// Plans paid by card (never in a pain.008 file).
    pub card_plans: u64,
    /// Plans imported paused.
    pub paused_plans: u64,
    /// Plans imported cancelled.
    pub cancelled_plans: u64,
    /// Active mandate plans whose first installment falls on the collection date.
    pub due_on_collection_date: u64,
    /// Invoices (debits).
    pub invoices: u64,
    /// Credit notes (credits).
    pub credit_notes: u64,
    /// Refunds issued by the billing system (debits).
    pub refunds: u64,
    /// Payments received outside direct debit.
    pub payments: u64,
}

/// The generated book: one CSV file per import kind, in import order.
#[derive(Debug, Clone)]
pub struct DemoData {
    /// `(kind, CSV bytes)` for customers, mandates, cards, plans, invoices, payments, in that
    /// order; a kind without rows has no file.
    pub files: Vec<(ImportKind, Vec<u8>)>,
    /// What they hold.
    pub stats: Stats,
}

impl DemoData {
    /// Writes `DIR/<kind>.csv` for every kind; returns the files in import order.
    pub fn write(&self, dir: &Path) -> Result<Vec<(ImportKind, PathBuf)>, DemoError> {
        std::fs::create_dir_all(dir).map_err(|e| DemoError::io("create the folder", dir, e))?;
        self.files
            .iter()
            .map(|(kind, bytes)| {
                let path = dir.join(format!("{}.csv", kind.name()));
                std::fs::write(&path, bytes).map_err(|e| DemoError::io("write", &path, e))?;
                Ok((*kind, path))
            })
            .collect()
    }
}

/// One CSV file being written.
struct Table {
    kind: ImportKind,
    writer: csv::Writer<Vec<u8>>,
    rows: u64,
}

impl Table {
    fn new(kind: ImportKind) -> Result<Self, DemoError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<&str> = kind.required_columns().to_vec();
        header.extend(kind.optional_columns());
        writer.write_record(&header).map_err(|e| DemoError::csv(kind, e))?;
        Ok(Self { kind, writer, rows: 0 })
    }

    fn row<const N: usize>(&mut self, cells: [&str; N]) -> Result<(), DemoError> {
        self.rows += 1;
        self.writer
            .write_record(cells)
            .map_err(|e| DemoError::csv(self.kind, e))
    }

    /// The file, or `None` when it has no rows (an import file must have some; `import all`
    /// skips a missing one).
    fn finish(self) -> Result<Option<(ImportKind, Vec<u8>)>, DemoError> {
        if self.rows == 0 {
            return Ok(None);
        }
        let kind = self.kind;
        let bytes = self
            .writer
            .into_inner()
            .map_err(|e| DemoError::csv(kind, e.into_error().into()))?;
        Ok(Some((kind, bytes)))
    }
}

/// The six tables, in import order.
struct Book {
    customers: Table,
    mandates: Table,
    cards: Table,
    plans: Table,
    invoices: Table,
    payments: Table,
    stats: Stats,
}

/// Generates the demo book for `spec`.
pub fn generate(spec: &Spec) -> Result<DemoData, DemoError> {
    let mut book = Book {
        customers: Table::new(ImportKind::Customers)?,
        mandates: Table::new(ImportKind::Mandates)?,
        cards: Table::new(ImportKind::Cards)?,
        plans: Table::new(ImportKind::Plans)?,
        invoices: Table::new(ImportKind::Invoices)?,
        payments: Table::new(ImportKind::Payments)?,
        stats: Stats::default(),
    };
    let weights: Vec<u64> = COUNTRIES.iter().map(|c| c.weight).collect();
    for i in 1..=u64::from(spec.customers) {
        let mut rng = Rng::new(spec.seed, i);
        let country = &COUNTRIES[rng.weighted(&weights)];
        book.customer(spec, i, country, &mut rng)?;
    }
    let files = [
        book.customers.finish()?,
        book.mandates.finish()?,
        book.cards.finish()?,
        book.plans.finish()?,
        book.invoices.finish()?,
        book.payments.finish()?,
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(DemoData {
        files,
        stats: book.stats,
    })
}

/// A plan's frequency and the weight of each (monthly subscriptions dominate).
const FREQUENCIES: [(Frequency, u64); 5] = [
    (Frequency::Monthly, 55),
    (Frequency::Quarterly, 12),
    (Frequency::Yearly, 10),
    (Frequency::Weekly, 8),
    (Frequency::Once, 15),
];

/// What distinguishes one of a customer's plans.
#[derive(Debug, Clone, Copy)]
struct PlanLine<'a> {
    /// 1 for the main plan, 2 for an extra one-off.
    n: u32,
    /// `MDT-...` or `card:LAST4`.
    method: &'a str,
    frequency: Frequency,
    /// First installment on the collection date.
    due_now: bool,
    /// `active`, `paused` or `cancelled`.
    state: &'static str,
}

impl Book {
    fn customer(&mut self, spec: &Spec, i: u64, country: &Country, rng: &mut Rng) -> Result<(), DemoError> {
        let date = spec.business_date;
        let reference = format!("C{i:06}");
        let (first, last) = (rng.pick(country.first), rng.pick(country.last));
        let name = format!("{first} {last}");
        let email = if rng.percent(92) {
            format!("{}.{}{i}@{}", mail_part(first), mail_part(last), country.mail_domain)
        } else {
            String::new()
        };
        let has_address = country.outside_eea || rng.percent(85);
        let (street, building, postcode, town) = if has_address {
            let (postcode, town) = *rng.pick(country.towns);
            let building = match rng.below(10) {
                0 => format!("{} bis", rng.between(1, 60)),
                1 => format!("{}a", rng.between(1, 60)),
                _ => rng.between(1, 220).to_string(),
            };
            (*rng.pick(country.streets), building, postcode, town)
        } else {
            ("", String::new(), "", "")
        };
        let country_cell = if has_address { country.code } else { "" };
        self.customers.row([
            &reference,
            &name,
            &email,
            street,
            &building,
            postcode,
            town,
            country_cell,
        ])?;
        self.stats.customers += 1;
        self.stats.outside_eea += u64::from(country.outside_eea);
        self.stats.without_address += u64::from(!has_address);
        self.stats.non_latin_names += u64::from(is_non_latin(&name));

        // 8% pay by card only; the others signed a SEPA mandate.
        let card_only = rng.percent(8);
        let card = if card_only || rng.percent(12) {
            Some(self.card(date, &reference, rng)?)
        } else {
            None
        };
        let method = match (&card, card_only) {
            (Some(last4), true) => format!("card:{last4}"),
            _ => {
                let mandate_id = format!("MDT-{reference}");
                let (bank_code, bic) = *rng.pick(country.banks);
                let account = iban(country.code, country.bban, bank_code, rng);
                let signed_on = date - Duration::days(rng.between(3, 900));
                let channel = ["electronic", "web", "paper", "phone"][rng.weighted(&[45, 30, 15, 10])];
                // The BIC is optional inside the EEA since 2016, mandatory outside it.
                let bic = if country.outside_eea || rng.percent(55) {
                    bic
                } else {
                    ""
                };
                self.mandates.row([
                    &mandate_id,
                    &reference,
                    &account,
                    bic,
                    &signed_on.to_string(),
                    channel,
                    "",
                    "",
                    "",
                ])?;
                self.stats.mandates += 1;
                mandate_id
            }
        };

        let frequency = FREQUENCIES[rng.weighted(&FREQUENCIES.map(|(_, w)| w))].0;
        let due_now = rng.percent(35);
        let state = match rng.below(100) {
            0..=2 => "paused",
            3..=4 => "cancelled",
            _ => "active",
        };
        let main = PlanLine {
            n: 1,
            method: &method,
            frequency,
            due_now,
            state,
        };
        let amount = self.plan(spec, &reference, &main, rng)?;
        if !card_only && rng.percent(12) {
            let extra = PlanLine {
                n: 2,
                frequency: Frequency::Once,
                due_now: false,
                state: "active",
                ..main
            };
            self.plan(spec, &reference, &extra, rng)?;
        }
        if card_only {
            self.stats.card_plans += 1;
        }
        if due_now && state == "active" && !card_only {
            self.stats.due_on_collection_date += 1;
            // The invoice the collection pays, issued with the pre-notification.
            let issued = date - Duration::days(rng.between(5, 14));
            self.invoice(&format!("INV-{reference}-1"), &reference, issued, amount, "invoice")?;
        }
        self.ledger(date, &reference, card_only, rng)
    }

    /// One saved card; returns its last four digits.
    fn card(&mut self, date: NaiveDate, reference: &str, rng: &mut Rng) -> Result<String, DemoError> {
        let last4 = rng.digits(4);
        let brand = ["Visa", "Mastercard", "CB", "American Express"][rng.weighted(&[45, 35, 15, 5])];
        // A third expire by the end of next month: what card-expiry warns about.
        let months_ahead = if rng.percent(33) {
            rng.below(2)
        } else {
            rng.below(46) + 2
        };
        let month0 = date.year() * 12 + date.month0() as i32 + months_ahead as i32;
        let (exp_year, exp_month) = (month0 / 12, month0 % 12 + 1);
        let in_wallet = if rng.percent(20) { "true" } else { "false" };
        self.cards.row([
            reference,
            brand,
            &last4,
            &exp_month.to_string(),
            &exp_year.to_string(),
            in_wallet,
        ])?;
        self.stats.cards += 1;
        self.stats.cards_expiring_soon += u64::from(months_ahead < 2);
        Ok(last4)
    }

    /// One plan; returns its installment amount in cents.
    fn plan(&mut self, spec: &Spec, reference: &str, line: &PlanLine<'_>, rng: &mut Rng) -> Result<i64, DemoError> {
        let PlanLine {
            n,
            method,
            frequency,
            due_now,
            state,
        } = *line;
        let first = spec.collection_date;
        let (amount, description, count) = match frequency {
            Frequency::Weekly => (
                *rng.pick(&[450, 690, 990, 1250, 1590]),
                "Panier hebdomadaire – légumes de saison".to_owned(),
                if rng.percent(50) {
                    rng.pick(&["10", "26", "52"]).to_string()
                } else {
                    String::new()
                },
            ),
            Frequency::Monthly => (
                *rng.pick(&[999, 1490, 1999, 2490, 2990, 3990, 4900, 7900, 12900]),
                format!(
                    "Abonnement mensuel {}",
                    rng.pick(&["Essentiel", "Premium", "Famille", "Pro", "Étudiant"])
                ),
                if rng.percent(30) {
                    rng.pick(&["12", "24"]).to_string()
                } else {
                    String::new()
                },
            ),
            Frequency::Quarterly => (
                *rng.pick(&[4500, 8970, 12000, 19900, 29900]),
                "Cotisation trimestrielle – adhésion".to_owned(),
                if rng.percent(30) {
                    rng.pick(&["4", "8"]).to_string()
                } else {
                    String::new()
                },
            ),
            Frequency::Yearly => (
                *rng.pick(&[9900, 14900, 29900, 48000, 119900]),
                format!("Licence annuelle {}", first.year()),
                String::new(),
            ),
            Frequency::Once => (
                rng.between(1500, 250_000),
                format!("Frais d'installation – commande n° {}", rng.between(10_000, 99_999)),
                "1".to_owned(),
            ),
        };
        let (start, day_of_month) = if due_now {
            let day = if rng.percent(50) {
                first.day().to_string()
            } else {
                String::new()
            };
            (first, day)
        } else {
            match frequency {
                Frequency::Weekly | Frequency::Once => (first + Duration::days(rng.between(1, 45)), String::new()),
                _ => (first + Duration::days(1), rng.between(1, 31).to_string()),
            }
        };
        self.plans.row([
            &format!("P-{reference}-{n}"),
            reference,
            method,
            &crate::sepa::money::format_cents(amount),
            frequency.as_str(),
            &start.to_string(),
            &count,
            &day_of_month,
            &description,
            state,
        ])?;
        *self.stats.plans.entry(frequency.as_str()).or_default() += 1;
        self.stats.paused_plans += u64::from(state == "paused");
        self.stats.cancelled_plans += u64::from(state == "cancelled");
        Ok(amount)
    }

    /// Older invoices, credit notes, refunds and payments received outside direct debit:
    /// what reconcile and the statements have to work with.
    fn ledger(&mut self, date: NaiveDate, reference: &str, card_only: bool, rng: &mut Rng) -> Result<(), DemoError> {
        if rng.percent(15) {
            let amount = rng.between(1500, 60_000);
            let issued = date - Duration::days(rng.between(20, 60));
            self.invoice(&format!("INV-{reference}-0"), reference, issued, amount, "invoice")?;
            if rng.percent(40) {
                let method = if card_only {
                    "card"
                } else {
                    *rng.pick(&["transfer", "cheque"])
                };
                let received = issued + Duration::days(rng.between(1, 15));
                self.payment(&format!("PAY-{reference}-1"), reference, received, amount, method)?;
            }
        }
        if rng.percent(5) {
            let issued = date - Duration::days(rng.between(1, 30));
            self.invoice(
                &format!("CN-{reference}-1"),
                reference,
                issued,
                rng.between(500, 3000),
                "credit_note",
            )?;
        }
        if rng.percent(1) {
            let issued = date - Duration::days(rng.between(1, 30));
            self.invoice(
                &format!("RF-{reference}-1"),
                reference,
                issued,
                rng.between(500, 3000),
                "refund",
            )?;
        }
        Ok(())
    }

    fn invoice(
        &mut self,
        id: &str,
        customer: &str,
        issued: NaiveDate,
        cents: i64,
        kind: &str,
    ) -> Result<(), DemoError> {
        let amount = crate::sepa::money::format_cents(cents);
        self.invoices.row([id, customer, &issued.to_string(), &amount, kind])?;
        match kind {
            "credit_note" => self.stats.credit_notes += 1,
            "refund" => self.stats.refunds += 1,
            _ => self.stats.invoices += 1,
        }
        Ok(())
    }

    fn payment(
        &mut self,
        id: &str,
        customer: &str,
        received: NaiveDate,
        cents: i64,
        method: &str,
    ) -> Result<(), DemoError> {
        let amount = crate::sepa::money::format_cents(cents);
        self.payments
            .row([id, customer, &received.to_string(), &amount, method])?;
        self.stats.payments += 1;
        Ok(())
    }
}

/// A name part as it can appear in an email address: transliterated, lower case, letters only.
fn mail_part(text: &str) -> String {
    let ascii = Name::parse(text).map(|n| n.as_str().to_owned()).unwrap_or_default();
    let part: String = ascii
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if part.is_empty() { "client".to_owned() } else { part }
}

/// Whether a name is written in Greek or Cyrillic letters.
fn is_non_latin(name: &str) -> bool {
    name.chars()
        .any(|c| ('\u{0370}'..='\u{03FF}').contains(&c) || ('\u{0400}'..='\u{04FF}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse;

    fn spec(customers: u32, seed: u64) -> Spec {
        Spec {
            customers,
            seed,
            business_date: "2026-12-08".parse().unwrap(),
            collection_date: "2026-12-09".parse().unwrap(),
        }
    }

    #[test]
    fn same_seed_same_files_and_a_prefix_for_fewer_customers() {
        let a = generate(&spec(200, 7)).unwrap();
        let b = generate(&spec(200, 7)).unwrap();
        assert_eq!(a.files, b.files);
        assert_ne!(a.files, generate(&spec(200, 8)).unwrap().files);
        let small = generate(&spec(50, 7)).unwrap();
        let customers = |d: &DemoData| String::from_utf8(d.files[0].1.clone()).unwrap();
        assert!(customers(&a).starts_with(&customers(&small)));
    }

    #[test]
    fn every_file_parses_and_the_book_covers_the_product() {
        let s = spec(600, 1);
        let data = generate(&s).unwrap();
        for (kind, bytes) in &data.files {
            let parsed = parse(*kind, bytes, s.business_date).unwrap();
            assert!(
                parsed.problems.is_empty(),
                "{kind:?}: {:?}",
                &parsed.problems[..3.min(parsed.problems.len())]
            );
        }
        let st = &data.stats;
        assert_eq!(st.customers, 600);
        for f in ["weekly", "monthly", "quarterly", "yearly", "once"] {
            assert!(st.plans.get(f).copied().unwrap_or(0) > 0, "{f}: {st:?}");
        }
        assert!(
            st.outside_eea > 0 && st.non_latin_names > 0 && st.without_address > 0,
            "{st:?}"
        );
        assert!(st.cards_expiring_soon > 0 && st.card_plans > 0, "{st:?}");
        assert!(st.paused_plans > 0 && st.cancelled_plans > 0, "{st:?}");
        assert!(
            st.credit_notes > 0 && st.payments > 0 && st.due_on_collection_date > 100,
            "{st:?}"
        );
    }
}
