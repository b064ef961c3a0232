//! CSV files from the CRM and the billing system, turned into typed records.
//!
//! Pure: bytes in, an [`ImportBatch`] or every problem found out. `,` or `;` separators, UTF-8
//! with or without BOM, `.` or `,` decimals, ISO (`2026-11-23`) or French (`23/11/2026`)
//! dates. Formats are documented in `docs/import.md`.

mod row;

use chrono::NaiveDate;

use crate::domain::email::EmailAddress;
use crate::domain::records::{
    CardRecord, Channel, CustomerRecord, InvoiceKind, InvoiceRecord, Last4, MandateRecord, MandateState,
    PaymentMethodRef, PaymentRecord, PlanRecord, PlanState, PostalAddress, Reference, RowProblem, parse_name,
};
use crate::domain::schedule::Frequency;
use crate::sepa::text::Remittance;
use crate::sepa::{Bic, Iban, MandateId, Money};
use crate::store::ImportBatch;
use row::{Row, parse_bool, parse_date};

/// How many row problems an error shows; the rest are counted.
pub const MAX_SHOWN_PROBLEMS: usize = 50;

/// The kinds of file `collecte import` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportKind {
    /// reference,name,email,street,building,postcode,town,country
    Customers,
    /// mandate_id,customer_reference,iban,bic,signed_on,channel[,previous_mandate_id][,status][,last_collected_on]
    Mandates,
    /// customer_reference,brand,last4,exp_month,exp_year,in_wallet
    Cards,
    /// plan_id,customer_reference,mandate_id,amount,frequency,start_date,count,day_of_month,description[,status]
    Plans,
    /// invoice_id,customer_reference,issued_on,amount,kind
    Invoices,
    /// payment_id,customer_reference,received_on,amount,method
    Payments,
}

impl ImportKind {
    /// Every kind, in dependency order (customers before what names them).
    pub const ALL: [Self; 6] = [
        Self::Customers,
        Self::Mandates,
        Self::Cards,
        Self::Plans,
        Self::Invoices,
        Self::Payments,
    ];

    /// Required columns, in documentation order.
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            Self::Customers => &[
                "reference",
                "name",
                "email",
                "street",
                "building",
                "postcode",
                "town",
                "country",
            ],
            Self::Mandates => &[
                "mandate_id",
                "customer_reference",
                "iban",
                "bic",
                "signed_on",
                "channel",
            ],
            Self::Cards => &[
                "customer_reference",
                "brand",
                "last4",
                "exp_month",
                "exp_year",
                "in_wallet",
            ],
            Self::Plans => &[
                "plan_id",
                "customer_reference",
                "mandate_id",
                "amount",
                "frequency",
                "start_date",
                "count",
                "day_of_month",
                "description",
            ],
            Self::Invoices => &["invoice_id", "customer_reference", "issued_on", "amount", "kind"],
            Self::Payments => &["payment_id", "customer_reference", "received_on", "amount", "method"],
        }
    }

    /// Columns a file may add.
    pub fn optional_columns(self) -> &'static [&'static str] {
        match self {
            Self::Mandates => &["previous_mandate_id", "status", "last_collected_on"],
            Self::Plans => &["status"],
            _ => &[],
        }
    }

    /// The name used in messages (`customers`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Customers => "customers",
            Self::Mandates => "mandates",
            Self::Cards => "cards",
            Self::Plans => "plans",
            Self::Invoices => "invoices",
            Self::Payments => "payments",
        }
    }
}

/// Why a file cannot be imported at all, or which rows are wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Nothing but (maybe) a header.
    #[error("the file has no data rows")]
    Empty,
    /// Not UTF-8.
    #[error("line {line}: the file is not UTF-8 text (save it as CSV UTF-8)")]
    Encoding {
        /// First line with a bad byte sequence.
        line: u64,
    },
    /// The header does not match the kind.
    #[error("header: {0}")]
    Header(String),
    /// Rows with problems; nothing is imported.
    #[error("{} problem(s) in {} row(s); nothing was imported", .problems.len(), .rows)]
    Rows {
        /// Every problem found.
        problems: Vec<RowProblem>,
        /// Number of distinct rows with problems.
        rows: usize,
    },
}

impl ImportError {
    /// Wraps row problems (sorted by line).
    pub fn rows(mut problems: Vec<RowProblem>) -> Self {
        problems.sort_by_key(|p| p.line);
        let mut lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        lines.dedup();
        Self::Rows {
            problems,
            rows: lines.len(),
        }
    }
}

/// A parsed file: the rows that parsed, and the problems of those that did not.
///
/// Both are kept so that the ledger checks (unknown customer, foreign mandate...) can run on
/// the good rows too, and one refusal lists every bad row of the file.
#[derive(Debug)]
pub struct Parsed {
    /// Records of the rows without problems.
    pub batch: ImportBatch,
    /// Problems of the other rows (empty when the whole file parsed).
    pub problems: Vec<RowProblem>,
}

/// Parses one import file of the given kind; `today` refuses mandates signed in the future.
///
/// File-level problems (encoding, header, no rows) are errors; row problems are returned in
/// [`Parsed::problems`].
pub fn parse(kind: ImportKind, bytes: &[u8], today: NaiveDate) -> Result<Parsed, ImportError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        ImportError::Encoding { line }
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut table = row::Table::read(kind, text)?;
    let batch = match kind {
        ImportKind::Customers => ImportBatch::Customers(table.records(customer)),
        ImportKind::Mandates => ImportBatch::Mandates(table.records(|r| mandate(r, today))),
        ImportKind::Cards => ImportBatch::Cards(table.records(card)),
        ImportKind::Plans => ImportBatch::Plans(table.records(plan)),
        ImportKind::Invoices => ImportBatch::Invoices(table.records(invoice)),
        ImportKind::Payments => ImportBatch::Payments(table.records(payment)),
    };
    let problems = table.finish()?;
    Ok(Parsed { batch, problems })
}

fn reference(v: &str) -> Result<Reference, String> {
    Reference::parse(v)
}

fn money(v: &str) -> Result<Money, String> {
    Money::parse(v).map_err(|e| e.reason)
}

fn customer(r: &mut Row<'_>) -> Option<CustomerRecord> {
    let reference = r.required("reference", reference);
    let name = r.required("name", parse_name);
    let email = r.optional("email", |v| EmailAddress::parse(v).map_err(|e| e.reason));
    let address = PostalAddress::from_parts(
        r.value("street"),
        r.value("building"),
        r.value("postcode"),
        r.value("town"),
        r.value("country"),
    );
    let address = match address {
        Ok(a) => Some(a),
        Err(problems) => {
            for (column, value, reason) in problems {
                r.problem(column, &value, reason);
            }
            None
        }
    };
    Some(CustomerRecord {
        reference: reference?,
        name: name?,
        email: email?,
        address: address?,
    })
}

fn mandate(r: &mut Row<'_>, today: NaiveDate) -> Option<MandateRecord> {
    let mandate_id = r.required("mandate_id", |v| MandateId::parse(v).map_err(|e| e.reason));
    let customer = r.required("customer_reference", reference);
    let iban = r.required("iban", |v| {
        let iban = Iban::parse(v).map_err(|e| e.reason)?;
        if iban.is_sepa() {
            Ok(iban)
        } else {
            Err(format!(
                "{} is not a SEPA country: it cannot be debited by SEPA direct debit",
                iban.country()
            ))
        }
    });
    let bic = r.optional("bic", |v| Bic::parse(v).map_err(|e| e.reason));
    let signed_on = r.required(
        "signed_on",
        not_after(today, "a mandate cannot be signed in the future"),
    );
    let channel = r.required("channel", Channel::parse);
    let previous = r.optional("previous_mandate_id", |v| MandateId::parse(v).map_err(|e| e.reason));
    let state = r.optional("status", MandateState::parse);
    let last_collected_on = r.optional(
        "last_collected_on",
        not_after(today, "a collection cannot have been presented in the future"),
    );
    Some(MandateRecord {
        mandate_id: mandate_id?,
        customer: customer?,
        iban: iban?,
        bic: bic?,
        signed_on: signed_on?,
        channel: channel?,
        previous_mandate_id: previous?,
        state: state?,
        last_collected_on: match (last_collected_on?, signed_on) {
            (Some(on), Some(signed)) if on < signed => {
                r.problem(
                    "last_collected_on",
                    &on.to_string(),
                    format!("is before the mandate was signed ({signed})"),
                );
                return None;
            }
            (on, _) => on,
        },
    })
}

/// A date column that cannot lie after `today`, saying `why` when it does.
fn not_after(today: NaiveDate, why: &'static str) -> impl FnOnce(&str) -> Result<NaiveDate, String> {
    move |v| {
        let d = parse_date(v)?;
        if d > today {
            Err(format!("is after today ({today}): {why}"))
        } else {
            Ok(d)
        }
    }
}

fn card(r: &mut Row<'_>) -> Option<CardRecord> {
    let customer = r.required("customer_reference", reference);
    let brand = r.required("brand", |v| {
        if v.chars().count() > 32 {
            Err("is longer than 32 characters".to_owned())
        } else {
            Ok(v.to_owned())
        }
    });
    let last4 = r.required("last4", Last4::parse);
    let exp_month = r.required("exp_month", |v| match v.parse::<u32>() {
        Ok(m @ 1..=12) => Ok(m),
        _ => Err("expected a month number 1 to 12".to_owned()),
    });
    let exp_year = r.required("exp_year", |v| match (v.len(), v.parse::<i32>()) {
        (2, Ok(y)) => Ok(2000 + y),
        (4, Ok(y @ 2000..=2199)) => Ok(y),
        _ => Err("expected a year such as 2027 (or 27)".to_owned()),
    });
    let in_wallet = r.required("in_wallet", parse_bool);
    Some(CardRecord {
        customer: customer?,
        brand: brand?,
        last4: last4?,
        exp_month: exp_month?,
        exp_year: exp_year?,
        in_wallet: in_wallet?,
    })
}

fn plan(r: &mut Row<'_>) -> Option<PlanRecord> {
    let plan_id = r.required("plan_id", reference);
    let customer = r.required("customer_reference", reference);
    let method = r.required("mandate_id", |v| match v.strip_prefix("card:") {
        Some(last4) => Last4::parse(last4).map(PaymentMethodRef::Card),
        None => MandateId::parse(v).map(PaymentMethodRef::Mandate).map_err(|e| e.reason),
    });
    let amount = r.required("amount", money);
    let frequency = r.required("frequency", |v| v.parse::<Frequency>().map_err(|e| e.to_string()));
    let start_date = r.required("start_date", parse_date);
    let count = r.optional("count", |v| match v.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a whole number of installments, at least 1 (empty = open-ended)".to_owned()),
    });
    let day_of_month = r.optional("day_of_month", |v| match v.parse::<u8>() {
        Ok(d @ 1..=31) => Ok(d),
        _ => Err("expected a day of month 1 to 31 (empty = the start date's day)".to_owned()),
    });
    let description = r.optional("description", |v| {
        Remittance::parse(v)
            .map(|_| v.to_owned())
            .map_err(|e| format!("remittance text {}", e.reason))
    });
    let state = r.optional("status", PlanState::parse);
    Some(PlanRecord {
        plan_id: plan_id?,
        customer: customer?,
        method: method?,
        amount: amount?,
        frequency: frequency?,
        start_date: start_date?,
        count: count?,
        day_of_month: day_of_month?,
        description: description?,
        state: state?,
    })
}

fn invoice(r: &mut Row<'_>) -> Option<InvoiceRecord> {
    let invoice_id = r.required("invoice_id", reference);
    let customer = r.required("customer_reference", reference);
    let issued_on = r.required("issued_on", parse_date);
    let amount = r.required("amount", money);
    let kind = r.required("kind", InvoiceKind::parse);
    Some(InvoiceRecord {
        invoice_id: invoice_id?,
        customer: customer?,
        issued_on: issued_on?,
        amount: amount?,
        kind: kind?,
    })
}

fn payment(r: &mut Row<'_>) -> Option<PaymentRecord> {
    let payment_id = r.required("payment_id", reference);
    let customer = r.required("customer_reference", reference);
    let received_on = r.required("received_on", parse_date);
    let amount = r.required("amount", money);
    let method = r.required("method", |v| {
        if v.chars().count() > 32 {
            Err("is longer than 32 characters".to_owned())
        } else {
            Ok(v.to_owned())
        }
    });
    Some(PaymentRecord {
        payment_id: payment_id?,
        customer: customer?,
        received_on: received_on?,
        amount: amount?,
        method: method?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        "2026-11-22".parse().unwrap()
    }

    #[test]
    fn reads_excel_french_csv_with_bom_and_semicolons() {
        let csv = "\u{feff}plan_id;customer_reference;mandate_id;amount;frequency;start_date;count;day_of_month;description\n\
                   P1;C1;M1;1 234,56;Monthly;01/12/2026;;31;Abonnement été\n\
                   P2;C1;card:4242;9.99;once;2026-12-10;1;;\n";
        let parsed = parse(ImportKind::Plans, csv.as_bytes(), today()).unwrap();
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let ImportBatch::Plans(rows) = parsed.batch else {
            panic!()
        };
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].record.amount.cents(), 123_456);
        assert_eq!(rows[0].record.day_of_month, Some(31));
        assert_eq!(rows[0].record.start_date, "2026-12-01".parse::<NaiveDate>().unwrap());
        assert_eq!(
            rows[1].record.method,
            PaymentMethodRef::Card(Last4::parse("4242").unwrap())
        );
        assert_eq!(rows[1].record.description, None);
    }

    #[test]
    fn collects_every_problem_with_line_and_column() {
        let csv = "mandate_id,customer_reference,iban,bic,signed_on,channel\n\
                   M1,C1,US12 3456,,2026-01-01,paper\n\
                   M2,C1,DE89370400440532013000,,2026-01-01,paper\n\
                   M3,C1,GB29NWBK60161331926819,NOTABIC,2027-01-01,fax\n";
        let parsed = parse(ImportKind::Mandates, csv.as_bytes(), today()).unwrap();
        let where_: Vec<(u64, &str)> = parsed.problems.iter().map(|p| (p.line, p.column.as_str())).collect();
        assert_eq!(where_, vec![(2, "iban"), (4, "bic"), (4, "signed_on"), (4, "channel")]);
        let ImportBatch::Mandates(rows) = parsed.batch else {
            panic!()
        };
        assert_eq!(rows.len(), 1, "the good row is kept for the ledger checks");
    }

    #[test]
    fn refuses_unusable_files_whole() {
        assert_eq!(parse(ImportKind::Cards, b"", today()).unwrap_err(), ImportError::Empty);
        let e = parse(ImportKind::Cards, b"customer_reference,brand\nC1,Visa\n", today()).unwrap_err();
        assert!(
            e.to_string()
                .contains("missing column(s) last4, exp_month, exp_year, in_wallet"),
            "{e}"
        );
        let e = parse(ImportKind::Payments, b"payment_id,payment_id\n", today()).unwrap_err();
        assert!(
            e.to_string().contains("appears twice") || e.to_string().contains("unknown"),
            "{e}"
        );
        let e = parse(ImportKind::Customers, b"reference,name\n\"C1,Ann\n", today());
        assert!(e.is_err() || e.is_ok_and(|p| !p.problems.is_empty()));
    }
}
