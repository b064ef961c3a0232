//! The SEPA format layer: pure values and codecs, no database, no async, no paths, no clock.
//!
//! Everything here takes values or bytes in and gives values or bytes out, so the rules of the
//! scheme can be tested (and fuzzed) without any of the machinery around them.

pub mod bic;
pub mod calendar;
pub mod country;
pub mod creditor_id;
pub mod error;
pub mod iban;
pub mod id;
pub mod money;
pub mod pain008;
pub mod text;

pub use bic::Bic;
pub use country::CountryCode;
pub use creditor_id::CreditorId;
pub use error::ParseError;
pub use iban::Iban;
pub use id::{EndToEndId, MandateId, MessageId, PaymentInfoId};
pub use money::Money;
pub use text::{SepaText, is_sepa_char};
