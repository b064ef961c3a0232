//! pain.008 (SEPA direct-debit initiation): a streaming writer, the EPC checks it relies on,
//! and a streaming summary reader.
//!
//! Pure like the rest of the SEPA layer: bytes and values in, bytes and values out. Choosing
//! which collections go into which file, and where the file lands, is the collect job's.

pub mod checks;
pub mod inspect;
pub mod model;
pub mod writer;
mod xml;

pub use checks::{RawAddress, RawTransaction, Refused, TransactionProblem, check_transaction};
pub use inspect::{Cents, GroupSummary, InspectError, Pain008Summary, inspect};
pub use model::{
    AddressStyle, Amendment, Creditor, GroupHeader, LocalInstrument, OriginalDebtorAccount, Pain008Version,
    PaymentGroup, PostalAddress, Profile, SequenceType, ShortAddressText, TownName, Transaction,
};
pub use writer::{Pain008Error, Pain008Writer};
