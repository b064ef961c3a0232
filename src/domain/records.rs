//! The typed records collecte takes in (from CSV files today, from an API tomorrow).
//!
//! Every field already holds a valid value: a record that exists can be stored. Checks that
//! need the ledger (does this customer exist?) happen in the store, which reports them as
//! [`RowProblem`]s of the same shape as parse errors.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

use super::email::EmailAddress;
use super::schedule::Frequency;
use crate::sepa::{Bic, CountryCode, Iban, MandateId, Money, SepaText};

/// A problem with one field of one input row: what a person needs to fix the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    /// Column name as in the header.
    pub column: String,
    /// The value found.
    pub value: String,
    /// Why it was refused.
    pub reason: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}, value {:?}: {}",
            self.line, self.column, self.value, self.reason
        )
    }
}

/// A record and the line it came from, so that problems found later still point at the file.
#[derive(Debug, Clone)]
pub struct Numbered<T> {
    /// 1-based line in the source file.
    pub line: u64,
    /// The record.
    pub record: T,
}

/// A business key from the CRM or billing system (customer reference, plan id, invoice id).
///
/// 1–64 characters, trimmed, no control characters: these keys end up in CSV exports, emails
/// and log lines, where a stray newline would do damage.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Reference(String);

impl Reference {
    /// Parses a key, returning the reason when it is unusable.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("is empty".into());
        }
        if s.chars().count() > 64 {
            return Err("is longer than 64 characters".into());
        }
        if s.chars().any(char::is_control) {
            return Err("contains a control character".into());
        }
        Ok(Self(s.to_owned()))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A structured postal address as people typed it (original spelling kept for letters and
/// emails), guaranteed to fit the pain.008 address elements once transliterated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress {
    /// Street name (`StrtNm`, ≤ 70).
    pub street: Option<String>,
    /// Building number (`BldgNb`, ≤ 16).
    pub building: Option<String>,
    /// Post code (`PstCd`, ≤ 16).
    pub postcode: Option<String>,
    /// Town (`TwnNm`, ≤ 35): mandatory in structured and hybrid addresses since Nov 2026.
    pub town: String,
    /// Country (`Ctry`): mandatory as well.
    pub country: CountryCode,
}

impl PostalAddress {
    /// Builds an address from optional parts; `Ok(None)` when every part is empty.
    ///
    /// Errors name the part (`street`, `building`, `postcode`, `town`, `country`) and why.
    pub fn from_parts(
        street: Option<&str>,
        building: Option<&str>,
        postcode: Option<&str>,
        town: Option<&str>,
        country: Option<&str>,
    ) -> Result<Option<Self>, Vec<(&'static str, String, String)>> {
        let mut problems = Vec::new();
        let mut text = |name: &'static str, value: Option<&str>, check: fn(&str) -> Result<(), String>| {
            let value = value.map(str::trim).filter(|v| !v.is_empty())?;
            if let Err(reason) = check(value) {
                problems.push((name, value.to_owned(), reason));
            }
            Some(value.to_owned())
        };
        let street = text("street", street, fits::<70>);
        let building = text("building", building, fits::<16>);
        let postcode = text("postcode", postcode, fits::<16>);
        let town = text("town", town, fits::<35>);
        let country_raw = country.map(str::trim).filter(|v| !v.is_empty());
        let country = country_raw.and_then(|c| match CountryCode::parse(c) {
            Ok(code) => Some(code),
            Err(e) => {
                problems.push(("country", c.to_owned(), e.reason));
                None
            }
        });
        let any =
            street.is_some() || building.is_some() || postcode.is_some() || town.is_some() || country_raw.is_some();
        if !any {
            return Ok(None);
        }
        if town.is_none() {
            problems.push((
                "town",
                String::new(),
                "an address needs a town (SEPA structured address)".into(),
            ));
        }
        if country_raw.is_none() {
            problems.push((
                "country",
                String::new(),
                "an address needs a country (SEPA structured address)".into(),
            ));
        }
        match (town, country) {
            (Some(town), Some(country)) if problems.is_empty() => Ok(Some(Self {
                street,
                building,
                postcode,
                town,
                country,
            })),
            _ => Err(problems),
        }
    }
}

/// Checks that text transliterates to at most `MAX` SEPA characters.
fn fits<const MAX: usize>(value: &str) -> Result<(), String> {
    SepaText::<MAX>::parse(value).map(|_| ()).map_err(|e| e.reason)
}

/// A customer (abonné): the party that owns mandates, cards, plans and a ledger account.
#[derive(Debug, Clone)]
pub struct CustomerRecord {
    /// The CRM's id.
    pub reference: Reference,
    /// Name as the customer writes it (transliterated only when written to a bank file).
    pub name: String,
    /// Where card warnings and statements go.
    pub email: Option<EmailAddress>,
    /// Structured postal address, mandatory for debtors banking outside the EEA.
    pub address: Option<PostalAddress>,
}

/// Checks a customer name: it must survive transliteration into a 70-character SEPA name.
pub fn parse_name(value: &str) -> Result<String, String> {
    let name = value.trim();
    if name.chars().count() > 140 {
        return Err("is longer than 140 characters".into());
    }
    crate::sepa::text::Name::truncated(name).map_err(|e| e.reason)?;
    Ok(name.to_owned())
}

/// How a mandate was signed; the EPC rulebook requires the creditor to keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Signed on paper.
    Paper,
    /// E-mandate (electronic signature).
    Electronic,
    /// Phone with one-time password.
    Phone,
    /// Web form.
    Web,
}

impl Channel {
    /// Parses the CSV value (`paper`, `electronic`, `phone`/`otp`, `web`).
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "paper" => Ok(Self::Paper),
            "electronic" | "e-mandate" => Ok(Self::Electronic),
            "phone" | "otp" | "phone/otp" => Ok(Self::Phone),
            "web" => Ok(Self::Web),
            _ => Err("expected one of paper, electronic, phone, web".into()),
        }
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paper => "paper",
            Self::Electronic => "electronic",
            Self::Phone => "phone",
            Self::Web => "web",
        }
    }
}

/// A SEPA mandate as the CRM knows it.
#[derive(Debug, Clone)]
pub struct MandateRecord {
    /// The UMR.
    pub mandate_id: MandateId,
    /// Owner.
    pub customer: Reference,
    /// Debtor account; must be in a SEPA country.
    pub iban: Iban,
    /// Debtor bank, optional since 2016.
    pub bic: Option<Bic>,
    /// Date of signature (`DtOfSgntr`).
    pub signed_on: NaiveDate,
    /// How it was signed.
    pub channel: Channel,
    /// Set when the UMR itself changed: the mandate known under this id is renamed and the
    /// change is announced to the bank (`OrgnlMndtId`).
    pub previous_mandate_id: Option<MandateId>,
    /// A revocation, when the file has a `status` column (absent: the stored state stays).
    pub state: Option<MandateState>,
    /// The last collection presented under this mandate before collecte (by the system it
    /// replaces): the mandate's 36 months of validity count from it, and its first
    /// collection is done (RCUR follows).
    pub last_collected_on: Option<NaiveDate>,
}

/// Last four digits of a card number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Last4(String);

impl Last4 {
    /// Parses exactly four ASCII digits.
    pub fn parse(value: &str) -> Result<Self, String> {
        let v = value.trim();
        if v.len() == 4 && v.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(v.to_owned()))
        } else {
            Err("expected exactly 4 digits".into())
        }
    }

    /// The four digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A saved card (for expiry warnings and card plans; cards are never put into pain.008).
#[derive(Debug, Clone)]
pub struct CardRecord {
    /// Owner.
    pub customer: Reference,
    /// Visa, Mastercard, ...
    pub brand: String,
    /// Last four digits.
    pub last4: Last4,
    /// Expiry month 1–12.
    pub exp_month: u32,
    /// Expiry year (four digits).
    pub exp_year: i32,
    /// Stored in a wallet (Apple Pay, ...), which renews cards by itself.
    pub in_wallet: bool,
}

/// What a plan is paid with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentMethodRef {
    /// A SEPA mandate of the same customer.
    Mandate(MandateId),
    /// A saved card of the same customer (`card:LAST4`).
    Card(Last4),
}

/// A mandate's state as the creditor's CRM tells it (`status` column of a mandates file).
/// `expired` is not among them: collecte finds lapsed mandates itself (36 months without a
/// presented collection). A revoked mandate never becomes active again; an expired one only
/// when its row tells of a collection (`last_collected_on`) that keeps it in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MandateState {
    /// May be collected.
    Active,
    /// Withdrawn by the debtor (or cancelled by the creditor): never collected again.
    Revoked,
}

impl MandateState {
    /// Parses `active` or `revoked`.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(Self::Active),
            "revoked" => Ok(Self::Revoked),
            _ => Err("expected active or revoked".into()),
        }
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
        }
    }
}

/// A lifecycle change asked for by the import file (`status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanState {
    /// Collecting.
    Active,
    /// Not collecting; installments falling in the pause are skipped, not deferred.
    Paused,
    /// Stopped for good; pending installments are cancelled.
    Cancelled,
}

impl PlanState {
    /// Parses `active`, `paused` or `cancelled`.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(Self::Active),
            "paused" => Ok(Self::Paused),
            "cancelled" | "canceled" => Ok(Self::Cancelled),
            _ => Err("expected one of active, paused, cancelled".into()),
        }
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A payment plan (échéancier).
#[derive(Debug, Clone)]
pub struct PlanRecord {
    /// The plan's business key.
    pub plan_id: Reference,
    /// Owner.
    pub customer: Reference,
    /// Mandate or card.
    pub method: PaymentMethodRef,
    /// Amount of each installment.
    pub amount: Money,
    /// How often.
    pub frequency: Frequency,
    /// First possible date.
    pub start_date: NaiveDate,
    /// Number of installments; `None` = open-ended.
    pub count: Option<u32>,
    /// Day of month for monthly, quarterly and yearly plans.
    pub day_of_month: Option<u8>,
    /// Remittance text shown on the debtor's statement.
    pub description: Option<String>,
    /// Lifecycle change, when the file has a `status` column.
    pub state: Option<PlanState>,
}

/// Kinds of documents in the invoices file: debits (invoice, refund) and credits (credit note).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceKind {
    /// Money the customer owes.
    Invoice,
    /// Money given back that the customer owes again (a debit on the account).
    Refund,
    /// Money the customer is owed.
    CreditNote,
}

impl InvoiceKind {
    /// Parses `invoice`, `credit_note` or `refund`.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "invoice" => Ok(Self::Invoice),
            "refund" => Ok(Self::Refund),
            "credit_note" | "creditnote" => Ok(Self::CreditNote),
            _ => Err("expected one of invoice, credit_note, refund".into()),
        }
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::Refund => "refund",
            Self::CreditNote => "credit_note",
        }
    }
}

/// An invoice, refund or credit note from the billing system.
#[derive(Debug, Clone)]
pub struct InvoiceRecord {
    /// Its id in the billing system.
    pub invoice_id: Reference,
    /// Whose account.
    pub customer: Reference,
    /// Issue date.
    pub issued_on: NaiveDate,
    /// Amount (always positive; the kind says which side).
    pub amount: Money,
    /// Which side of the account.
    pub kind: InvoiceKind,
}

/// A payment received outside SEPA direct debit (transfer, card, cheque...).
#[derive(Debug, Clone)]
pub struct PaymentRecord {
    /// Its id in the payment system.
    pub payment_id: Reference,
    /// Whose account.
    pub customer: Reference,
    /// Date received.
    pub received_on: NaiveDate,
    /// Amount.
    pub amount: Money,
    /// Free text: transfer, card, cheque...
    pub method: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_needs_town_and_country() {
        assert_eq!(PostalAddress::from_parts(None, Some(" "), None, None, None), Ok(None));
        let a = PostalAddress::from_parts(
            Some("Rue de la Paix"),
            Some("12"),
            Some("75002"),
            Some("Paris"),
            Some("fr"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(a.country.as_str(), "FR");
        let e = PostalAddress::from_parts(Some("Rue"), None, None, None, Some("FR")).unwrap_err();
        assert_eq!(e[0].0, "town");
        let e = PostalAddress::from_parts(None, None, None, Some("Paris"), Some("XX")).unwrap_err();
        assert_eq!(e[0].0, "country");
        let e = PostalAddress::from_parts(None, None, None, Some(&"x".repeat(36)), Some("FR")).unwrap_err();
        assert!(e[0].2.contains("35"), "{e:?}");
    }

    #[test]
    fn references_and_enums() {
        assert!(Reference::parse(" C-1 ").is_ok());
        assert!(Reference::parse("").is_err());
        assert!(Reference::parse("a\nb").is_err());
        assert_eq!(Channel::parse("OTP").unwrap(), Channel::Phone);
        assert!(Channel::parse("fax").is_err());
        assert_eq!(InvoiceKind::parse("credit-note").unwrap(), InvoiceKind::CreditNote);
        assert!(Last4::parse("12a4").is_err());
        assert_eq!(PlanState::parse("Canceled").unwrap(), PlanState::Cancelled);
    }
}
