//! The values a pain.008 message is made of, each valid by construction.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::sepa::text::{AddressText, Name, Remittance};
use crate::sepa::{
    Bic, CountryCode, CreditorId, EndToEndId, Iban, MandateId, MessageId, Money, ParseError, PaymentInfoId, SepaText,
};

/// The pain.008 message version a bank accepts.
///
/// `.08` (ISO 2019, EPC rulebooks since November 2023) is the default; `.02` stays available
/// because some banks still ask for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Pain008Version {
    /// `pain.008.001.02`: agent BICs are written in `BIC`.
    #[serde(rename = "pain.008.001.02")]
    V02,
    /// `pain.008.001.08`: agent BICs are written in `BICFI`.
    #[default]
    #[serde(rename = "pain.008.001.08")]
    V08,
}

impl Pain008Version {
    /// The XML namespace of the `Document` element, which is how banks tell versions apart.
    pub fn namespace(self) -> &'static str {
        match self {
            Self::V02 => "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02",
            Self::V08 => "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08",
        }
    }

    /// The message name (`pain.008.001.08`), as people and configuration files spell it.
    pub fn message_name(self) -> &'static str {
        match self {
            Self::V02 => "pain.008.001.02",
            Self::V08 => "pain.008.001.08",
        }
    }

    /// The version a message name ([`Pain008Version::message_name`]) stands for, as a
    /// ledger records it.
    pub fn from_message_name(name: &str) -> Option<Self> {
        [Self::V02, Self::V08].into_iter().find(|v| v.message_name() == name)
    }
}

/// Where a collection stands in the life of its mandate (`SeqTp`): debtor banks check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SequenceType {
    /// First collection of a recurrent mandate (optional since November 2016, per profile).
    Frst,
    /// A later collection of a recurrent mandate.
    Rcur,
    /// The one collection of a one-off mandate.
    Ooff,
    /// The last collection of a recurrent mandate; the mandate ends with it.
    Fnal,
}

impl SequenceType {
    /// Every sequence type.
    pub const ALL: [Self; 4] = [Self::Frst, Self::Rcur, Self::Ooff, Self::Fnal];

    /// Reads a stored `SeqTp` code back.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The ISO code written to `SeqTp`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Frst => "FRST",
            Self::Rcur => "RCUR",
            Self::Ooff => "OOFF",
            Self::Fnal => "FNAL",
        }
    }
}

/// The SEPA direct-debit scheme (`LclInstrm/Cd`): consumers are debited under CORE only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LocalInstrument {
    /// SDD Core, the consumer scheme.
    #[default]
    Core,
    /// SDD Business-to-Business, for business debtors who registered the mandate at their bank.
    B2b,
}

impl LocalInstrument {
    /// The code written to `LclInstrm/Cd`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Core => "CORE",
            Self::B2b => "B2B",
        }
    }
}

/// How postal addresses are written; unstructured-only addresses are not an option, since the
/// EPC refuses them from 15 November 2026.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressStyle {
    /// Structured elements only: address lines are not written (for banks that refuse them).
    #[default]
    Structured,
    /// Structured elements plus up to two `AdrLine` (town and country always structured).
    Hybrid,
}

/// What a given bank wants the pain.008 to look like: banks differ, the rules do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// The message version.
    pub version: Pain008Version,
    /// Write agent BICs when known; when `false`, `NOTPROVIDED` is written instead (IBAN-only),
    /// except for debtor banks outside the EEA, whose BIC the EPC rulebook requires.
    pub include_bic: bool,
    /// `BtchBookg`: one booking per payment group on the creditor's statement, or one per
    /// transaction.
    pub batch_booking: bool,
    /// Whether `GrpHdr/CtrlSum` is written (some banks refuse it); group control sums always are.
    pub group_ctrl_sum: bool,
    /// How postal addresses are written.
    pub address_style: AddressStyle,
    /// CORE or B2B.
    pub local_instrument: LocalInstrument,
}

impl Default for Profile {
    /// pain.008.001.08, CORE, BICs when known, batch booking, control sums, structured addresses.
    fn default() -> Self {
        Self {
            version: Pain008Version::V08,
            include_bic: true,
            batch_booking: true,
            group_ctrl_sum: true,
            address_style: AddressStyle::Structured,
            local_instrument: LocalInstrument::Core,
        }
    }
}

/// A town name (`TwnNm`, at most 35 characters).
pub type TownName = SepaText<35>;
/// A building number or post code (`BldgNb`, `PstCd`: at most 16 characters).
pub type ShortAddressText = SepaText<16>;

/// A structured or hybrid postal address: town and country always, at most two address lines.
///
/// An unstructured-only address (address lines without town and country) cannot be built, so
/// it can never be written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostalAddress {
    street: Option<AddressText>,
    building_number: Option<ShortAddressText>,
    postcode: Option<ShortAddressText>,
    town: TownName,
    country: CountryCode,
    lines: [Option<AddressText>; 2],
}

impl PostalAddress {
    /// The smallest address the EPC accepts: town and country.
    pub fn new(town: TownName, country: CountryCode) -> Self {
        Self {
            street: None,
            building_number: None,
            postcode: None,
            town,
            country,
            lines: [None, None],
        }
    }

    /// Adds the street name (`StrtNm`).
    pub fn with_street(mut self, street: AddressText) -> Self {
        self.street = Some(street);
        self
    }

    /// Adds the building number (`BldgNb`).
    pub fn with_building_number(mut self, number: ShortAddressText) -> Self {
        self.building_number = Some(number);
        self
    }

    /// Adds the post code (`PstCd`).
    pub fn with_postcode(mut self, postcode: ShortAddressText) -> Self {
        self.postcode = Some(postcode);
        self
    }

    /// Sets the free-text address lines of a hybrid address; refuses more than two.
    pub fn with_address_lines(mut self, lines: impl IntoIterator<Item = AddressText>) -> Result<Self, ParseError> {
        let lines: Vec<AddressText> = lines.into_iter().collect();
        if lines.len() > 2 {
            let shown = lines.iter().map(AddressText::as_str).collect::<Vec<_>>().join(" | ");
            return Err(ParseError::new(
                "postal address",
                &shown,
                format!("has {} address lines, a hybrid address allows at most 2", lines.len()),
            ));
        }
        let mut it = lines.into_iter();
        self.lines = [it.next(), it.next()];
        Ok(self)
    }

    /// The street name.
    pub fn street(&self) -> Option<&AddressText> {
        self.street.as_ref()
    }

    /// The building number.
    pub fn building_number(&self) -> Option<&ShortAddressText> {
        self.building_number.as_ref()
    }

    /// The post code.
    pub fn postcode(&self) -> Option<&ShortAddressText> {
        self.postcode.as_ref()
    }

    /// The town.
    pub fn town(&self) -> &TownName {
        &self.town
    }

    /// The country.
    pub fn country(&self) -> CountryCode {
        self.country
    }

    /// The address lines (zero, one or two).
    pub fn address_lines(&self) -> impl Iterator<Item = &AddressText> {
        self.lines.iter().flatten()
    }
}

/// The business that collects: the same in every payment group of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creditor {
    /// `Cdtr/Nm`, and the initiating party unless the header names another.
    pub name: Name,
    /// The account credited.
    pub iban: Iban,
    /// The creditor bank's BIC, when known.
    pub bic: Option<Bic>,
    /// The SEPA creditor identifier (`CdtrSchmeId`).
    pub id: CreditorId,
    /// The creditor's address (mandatory for creditors banking outside the EEA).
    pub address: Option<PostalAddress>,
}

/// The previous debtor account named in an amendment (`OrgnlDbtrAcct`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OriginalDebtorAccount {
    /// The previous IBAN, for an account change the creditor knows in detail.
    Iban(Iban),
    /// `SMNDA` ("same mandate, new debtor account", EPC since November 2016): the debtor now
    /// pays from another account, possibly at another bank, and the old IBAN is not repeated.
    Smnda,
}

/// What changed in a mandate since its last collection (`AmdmntInfDtls`); at least one item.
///
/// Built from one change and extended with others, so an empty amendment cannot exist.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Amendment {
    original_mandate_id: Option<MandateId>,
    original_creditor_id: Option<CreditorId>,
    original_debtor_account: Option<OriginalDebtorAccount>,
}

impl Amendment {
    const NONE: Self = Self {
        original_mandate_id: None,
        original_creditor_id: None,
        original_debtor_account: None,
    };

    /// The mandate was renumbered; `original` is its previous reference.
    pub fn mandate_id_changed(original: MandateId) -> Self {
        Self::NONE.and_mandate_id_changed(original)
    }

    /// The creditor identifier changed; `original` is the previous one.
    pub fn creditor_id_changed(original: CreditorId) -> Self {
        Self::NONE.and_creditor_id_changed(original)
    }

    /// The debtor account changed.
    pub fn debtor_account_changed(original: OriginalDebtorAccount) -> Self {
        Self::NONE.and_debtor_account_changed(original)
    }

    /// Also records a mandate renumbering.
    pub fn and_mandate_id_changed(mut self, original: MandateId) -> Self {
        self.original_mandate_id = Some(original);
        self
    }

    /// Also records a creditor identifier change.
    pub fn and_creditor_id_changed(mut self, original: CreditorId) -> Self {
        self.original_creditor_id = Some(original);
        self
    }

    /// Also records a debtor account change.
    pub fn and_debtor_account_changed(mut self, original: OriginalDebtorAccount) -> Self {
        self.original_debtor_account = Some(original);
        self
    }

    /// The previous mandate reference (`OrgnlMndtId`).
    pub fn original_mandate_id(&self) -> Option<&MandateId> {
        self.original_mandate_id.as_ref()
    }

    /// The previous creditor identifier (`OrgnlCdtrSchmeId`).
    pub fn original_creditor_id(&self) -> Option<&CreditorId> {
        self.original_creditor_id.as_ref()
    }

    /// The previous debtor account (`OrgnlDbtrAcct`).
    pub fn original_debtor_account(&self) -> Option<&OriginalDebtorAccount> {
        self.original_debtor_account.as_ref()
    }
}

/// One collection from one debtor (`DrctDbtTxInf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Unique per collection attempt, so returns find their way back.
    pub end_to_end_id: EndToEndId,
    /// The amount collected, in euros.
    pub amount: Money,
    /// The mandate reference (UMR).
    pub mandate_id: MandateId,
    /// The day the debtor signed the mandate (`DtOfSgntr`).
    pub mandate_signed_on: NaiveDate,
    /// What changed in the mandate since its last collection, if anything.
    pub amendment: Option<Amendment>,
    /// The debtor's name.
    pub debtor_name: Name,
    /// The account debited.
    pub debtor_iban: Iban,
    /// The debtor bank's BIC, when known (required for banks outside the EEA).
    pub debtor_bic: Option<Bic>,
    /// The debtor's address (required for banks outside the EEA).
    pub debtor_address: Option<PostalAddress>,
    /// What the debtor reads on their statement (`RmtInf/Ustrd`).
    pub remittance: Option<Remittance>,
}

/// What the group header declares; the caller counts and sums first, which is what lets the
/// document stream (the writer verifies the declaration at the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupHeader {
    /// The message id, unique per creditor forever (banks refuse duplicates).
    pub message_id: MessageId,
    /// `CreDtTm`, with the explicit offset it is written with.
    pub created_at: DateTime<FixedOffset>,
    /// `InitgPty/Nm` when it is not the creditor's name.
    pub initiating_party: Option<Name>,
    /// Transactions in the whole message.
    pub nb_of_txs: u64,
    /// Their total, in cents.
    pub ctrl_sum_cents: i64,
}

/// What one payment group (`PmtInf`) declares: one sequence type and one collection date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentGroup {
    /// `PmtInfId`, unique within the message.
    pub payment_info_id: PaymentInfoId,
    /// The sequence type of every transaction in the group.
    pub sequence_type: SequenceType,
    /// `ReqdColltnDt`, the due date (a TARGET2 business day: the caller's calendar decides).
    pub collection_date: NaiveDate,
    /// Transactions in the group.
    pub nb_of_txs: u64,
    /// Their total, in cents.
    pub ctrl_sum_cents: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> AddressText {
        AddressText::parse(s).unwrap()
    }

    #[test]
    fn hybrid_address_takes_two_lines_at_most() {
        let base = PostalAddress::new(TownName::parse("Paris").unwrap(), CountryCode::parse("FR").unwrap());
        let two = base.clone().with_address_lines([line("Bat B"), line("Esc 3")]).unwrap();
        assert_eq!(two.address_lines().count(), 2);
        let e = base.with_address_lines([line("a"), line("b"), line("c")]).unwrap_err();
        assert!(e.reason.contains("3 address lines"), "{e}");
    }

    #[test]
    fn profile_reads_from_configuration_with_defaults() {
        let p: Profile = serde_json::from_str(r#"{"version":"pain.008.001.02","include_bic":false}"#).unwrap();
        assert_eq!(p.version, Pain008Version::V02);
        assert!(!p.include_bic);
        assert_eq!(p.local_instrument, LocalInstrument::Core);
        let p: Profile = serde_json::from_str(r#"{"address_style":"hybrid","local_instrument":"B2B"}"#).unwrap();
        assert_eq!(p.address_style, AddressStyle::Hybrid);
        assert_eq!(p.local_instrument, LocalInstrument::B2b);
        assert!(serde_json::from_str::<Profile>(r#"{"bic":true}"#).is_err());
    }
}
