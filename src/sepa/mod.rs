//! The SEPA format layer: pure values and codecs, no database, no async, no paths, no clock.
//!
//! Everything here takes values or bytes in and gives values or bytes out, so the rules of the
//! scheme can be tested (and fuzzed) without any of the machinery around them.

/// Implements `Debug` (`Type(value)`), `FromStr` (through `parse`) and, unless the type prints
/// itself differently, `Display` (`as_str`) for a string newtype of this layer.
macro_rules! text_newtype_traits {
    ($name:ident) => {
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        text_newtype_traits!($name, without Display);
    };
    ($name:ident, without Display) => {
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::sepa::ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}
use text_newtype_traits;

pub mod bank;
pub mod bic;
pub mod calendar;
pub mod country;
pub mod creditor_id;
pub mod error;
pub mod iban;
pub mod id;
pub mod money;
pub mod pain008;
pub mod reports;
pub mod text;

pub use bic::Bic;
pub use country::CountryCode;
pub use creditor_id::CreditorId;
pub use error::ParseError;
pub use iban::Iban;
pub use id::{EndToEndId, MandateId, MessageId, PaymentInfoId};
pub use money::Money;
pub use text::{SepaText, is_sepa_char};
