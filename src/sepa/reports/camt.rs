//! camt.052 / camt.053 / camt.054 account reports, statements and notifications, read as a
//! stream of entries and their transactions.
//!
//! One structure serves every version (.001.02 to .001.13): an `Ntry` is a booking on the
//! account; its `NtryDtls/TxDtls` are the payments inside it (one for a single booking, many
//! for a batch booking of a whole PmtInf). Records are handed out per transaction, so a batch
//! of a million collections never sits in memory, and each transaction carries its own
//! amount: a batch entry's amount is never copied onto its transactions.

use std::collections::VecDeque;
use std::io::BufRead;

use chrono::NaiveDate;
use serde::Serialize;

use super::detect::MessageType;
use super::error::Warning;
use super::value::{Amount, CreditDebit, Warnings, parse_bool, parse_count, parse_credit_debit, parse_iso_date};
use super::xml::{Step, XmlCursor};
use super::{ReportError, split_first};

/// Repeated texts kept per transaction (`Ustrd`, `RtrInf/AddtlInf`): the schema leaves them
/// unbounded and one record must stay small.
const MAX_REPEATS: usize = 16;
/// The longest `Ustrd` the schema allows; longer ones are kept, with a warning.
const MAX_USTRD_CHARS: usize = 140;

/// `GrpHdr` of the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupHeader {
    /// `MsgId` of the report.
    pub message_id: Option<String>,
    /// Day of `CreDtTm`.
    pub creation_date: Option<NaiveDate>,
    /// What could not be read in it.
    pub warnings: Vec<Warning>,
}

/// One `Stmt` / `Ntfctn` / `Rpt` block: which account the following entries are on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Account {
    /// `Id` of the statement or notification.
    pub report_id: Option<String>,
    /// `Acct/Id/IBAN`.
    pub iban: Option<String>,
    /// `Acct/Id/Othr/Id`, for accounts not identified by IBAN.
    pub other_id: Option<String>,
    /// `Acct/Ccy`.
    pub currency: Option<String>,
}

/// `BkTxCd`: the bank's classification of a booking, ISO (`Domn`) and proprietary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BankTransactionCode {
    /// `Domn/Cd`, e.g. `PMNT`.
    pub domain: Option<String>,
    /// `Domn/Fmly/Cd`, e.g. `IDDT` (issued direct debits).
    pub family: Option<String>,
    /// `Domn/Fmly/SubFmlyCd`, e.g. `ESDD`, `UPDD`.
    pub sub_family: Option<String>,
    /// `Prtry/Cd`.
    pub proprietary: Option<String>,
    /// `Prtry/Issr`.
    pub proprietary_issuer: Option<String>,
}

impl BankTransactionCode {
    /// Reads one leaf below `BkTxCd`; `rest` is relative to it.
    fn read(&mut self, rest: &[u8], text: &str, spare: &mut Spare) {
        let mut value = || Some(spare.string(text)).filter(|v| !v.is_empty());
        match rest {
            b"Domn/Cd" => self.domain = value(),
            b"Domn/Fmly/Cd" => self.family = value(),
            b"Domn/Fmly/SubFmlyCd" => self.sub_family = value(),
            b"Prtry/Cd" => self.proprietary = value(),
            b"Prtry/Issr" => self.proprietary_issuer = value(),
            _ => {}
        }
    }
}

/// `NtryDtls/Btch`: what the bank says about a batch booking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Batch {
    /// `MsgId`: our pain.008 MsgId.
    pub message_id: Option<String>,
    /// `PmtInfId`: our PmtInfId, the key of a batch settlement.
    pub payment_info_id: Option<String>,
    /// `NbOfTxs`.
    pub number_of_transactions: Option<u64>,
    /// `TtlAmt`.
    pub total: Option<Amount>,
    /// `CdtDbtInd`.
    pub credit_debit: Option<CreditDebit>,
}

/// One `Ntry`: a booking on the account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// `NtryRef`.
    pub reference: Option<String>,
    /// `Amt`: the whole booking (the sum of a batch).
    pub amount: Option<Amount>,
    /// `CdtDbtInd`.
    pub credit_debit: Option<CreditDebit>,
    /// `RvslInd`: this booking reverses an earlier one.
    pub reversal: bool,
    /// `Sts` (or `Sts/Cd` from .08 on): BOOK, PDNG, INFO...
    pub status: Option<String>,
    /// Day of `BookgDt/Dt` or `BookgDt/DtTm`.
    pub booking_date: Option<NaiveDate>,
    /// Day of `ValDt/Dt` or `ValDt/DtTm`.
    pub value_date: Option<NaiveDate>,
    /// `AcctSvcrRef`: the bank's own reference, stable across statements.
    pub account_servicer_reference: Option<String>,
    /// `BkTxCd`.
    pub bank_transaction_code: BankTransactionCode,
    /// `NtryDtls/Btch` of the details block being read (the last one at the entry's end).
    pub batch: Option<Batch>,
    /// `AddtlNtryInf` (comes after the details: known only at the entry's end).
    pub additional_info: Option<String>,
    /// What could not be read in the entry's own fields (complete at the entry's end).
    pub warnings: Vec<Warning>,
}

/// `RtrInf`: why a payment came back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReturnInfo {
    /// `Rsn/Cd`: an ISO return reason code such as `AC04`, `MD06`.
    pub code: Option<String>,
    /// `Rsn/Prtry`: a bank-specific code.
    pub proprietary: Option<String>,
    /// `AddtlInf` lines.
    pub additional_info: Vec<String>,
    /// `OrgnlBkTxCd`: the bank transaction code of the payment that came back; its
    /// sub-family (ESDD / BBDD) tells a Core collection from a B2B one in every version.
    pub original_bank_transaction_code: Option<BankTransactionCode>,
}

impl ReturnInfo {
    /// The code to act on: the ISO code, else the proprietary one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref().or(self.proprietary.as_deref())
    }
}

/// One `TxDtls`: one payment inside an entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Transaction {
    /// `Refs/MsgId`.
    pub message_id: Option<String>,
    /// `Refs/AcctSvcrRef`.
    pub account_servicer_reference: Option<String>,
    /// `Refs/PmtInfId`.
    pub payment_info_id: Option<String>,
    /// `Refs/InstrId`.
    pub instruction_id: Option<String>,
    /// `Refs/EndToEndId`: the first key to our collection.
    pub end_to_end_id: Option<String>,
    /// `Refs/TxId`.
    pub transaction_id: Option<String>,
    /// `Refs/MndtId`.
    pub mandate_id: Option<String>,
    /// This payment's own amount: `AmtDtls/TxAmt/Amt`, else `Amt`, else
    /// `AmtDtls/InstdAmt/Amt`, else the entry's amount when the entry holds only this one.
    pub amount: Option<Amount>,
    /// Whether `amount` was taken from the entry (the bank gave none for the transaction).
    pub amount_from_entry: bool,
    /// `CdtDbtInd` of the transaction (from .04 on).
    pub credit_debit: Option<CreditDebit>,
    /// `BkTxCd` of the transaction (from .04 on), when given.
    pub bank_transaction_code: Option<BankTransactionCode>,
    /// `LclInstrm/Cd` (or `Prtry`), from .08 on: the scheme of the collection, `CORE` or
    /// `B2B`, which decides whether an MD01 is a refund or a return.
    pub local_instrument: Option<String>,
    /// `RltdPties/Dbtr/Nm` (or `Dbtr/Pty/Nm`).
    pub debtor_name: Option<String>,
    /// `RltdPties/DbtrAcct/Id/IBAN`.
    pub debtor_iban: Option<String>,
    /// `RmtInf/Ustrd` lines.
    pub remittance_information: Vec<String>,
    /// `RtrInf`, present when the payment came back.
    pub return_info: Option<ReturnInfo>,
    /// What could not be read in it.
    pub warnings: Vec<Warning>,
}

impl Transaction {
    /// The return reason code, if the payment came back with one.
    pub fn reason_code(&self) -> Option<&str> {
        self.return_info.as_ref().and_then(ReturnInfo::code)
    }
}

/// One record of a camt report, in document order. Entry-level data is lent, not copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CamtItem<'a> {
    /// The group header, once, when it has been read.
    Header(&'a GroupHeader),
    /// A statement / notification block starts (given before its first entry).
    Account(&'a Account),
    /// One `TxDtls` of `entry` (whose fields before `NtryDtls` are complete).
    Transaction {
        /// The entry holding it.
        entry: &'a Entry,
        /// The transaction (boxed: it is large and handed over by value).
        transaction: Box<Transaction>,
    },
    /// An entry is complete; `transactions` is how many `Transaction` records it gave (zero
    /// when the bank sent no details: classify the entry itself then).
    EntryEnd {
        /// The complete entry.
        entry: &'a Entry,
        /// Number of `Transaction` records given for it.
        transactions: u64,
    },
}

/// Streams the records of one camt.052/053/054 with bounded memory.
pub struct CamtReader<R> {
    cursor: XmlCursor<R>,
    message: MessageType,
    state: State,
}

enum Produced {
    Header,
    Account,
    Transaction(Box<Transaction>),
    EntryEnd(u64),
}

/// A transaction being read, with its candidate amounts until it closes.
#[derive(Default)]
struct TxBuild {
    /// Boxed from the start, so the record is never moved by value.
    tx: Box<Transaction>,
    tx_amount: Option<Amount>,
    amount: Option<Amount>,
    instructed_amount: Option<Amount>,
}

#[derive(Default)]
struct State {
    header: GroupHeader,
    header_warnings: Warnings,
    account: Account,
    account_given: bool,
    entry: Entry,
    entry_warnings: Warnings,
    entry_transactions: u64,
    build: TxBuild,
    tx_warnings: Warnings,
    /// Length of the body path of the open `Ntry` / `TxDtls`, 0 when none is open.
    entry_mark: usize,
    tx_mark: usize,
    /// The first transaction of an entry when it has no amount of its own: held back until
    /// we know whether the entry holds only it (then the entry amount is its amount).
    pending: Option<Box<Transaction>>,
    queue: VecDeque<Produced>,
    /// Strings of the previous entry, reused for the next one's fields.
    spare: Spare,
}

/// Strings taken back from an entry once it is done, to hold the next entry's texts without
/// a new allocation each (the entry is lent to the caller, never handed over, so its strings
/// come back). Bounded in number and size.
#[derive(Default)]
struct Spare(Vec<String>);

impl Spare {
    const MAX_STRINGS: usize = 32;
    const MAX_CAPACITY: usize = 256;

    /// `text` in a reused string when there is one.
    fn string(&mut self, text: &str) -> String {
        match self.0.pop() {
            Some(mut s) => {
                s.clear();
                s.push_str(text);
                s
            }
            None => text.to_owned(),
        }
    }

    fn keep(&mut self, s: Option<String>) {
        if let Some(s) = s
            && self.0.len() < Self::MAX_STRINGS
            && s.capacity() <= Self::MAX_CAPACITY
        {
            self.0.push(s);
        }
    }

    /// Takes back the strings of a finished entry.
    fn recycle_entry(&mut self, entry: Entry) {
        let Entry {
            reference,
            status,
            account_servicer_reference,
            bank_transaction_code: code,
            batch,
            additional_info,
            ..
        } = entry;
        for s in [reference, status, account_servicer_reference, additional_info] {
            self.keep(s);
        }
        for s in [
            code.domain,
            code.family,
            code.sub_family,
            code.proprietary,
            code.proprietary_issuer,
        ] {
            self.keep(s);
        }
        if let Some(batch) = batch {
            self.keep(batch.message_id);
            self.keep(batch.payment_info_id);
        }
    }
}

impl<R: BufRead> CamtReader<R> {
    pub(crate) fn new(cursor: XmlCursor<R>, message: MessageType) -> Self {
        Self {
            cursor,
            message,
            state: State::default(),
        }
    }

    /// The message read, e.g. `camt.054.001.02`.
    pub fn message(&self) -> &MessageType {
        &self.message
    }

    /// The next record, or `None` at the end of the document.
    pub fn next_item(&mut self) -> Result<Option<CamtItem<'_>>, ReportError> {
        loop {
            if let Some(produced) = self.state.queue.pop_front() {
                return Ok(Some(self.state.item(produced)));
            }
            match self.cursor.next()? {
                Step::Open => self.state.open(self.cursor.body_path(), self.cursor.offset()),
                Step::Close => self.state.close(
                    self.cursor.body_path(),
                    self.cursor.text(),
                    self.cursor.attr(b"Ccy"),
                    self.cursor.offset(),
                ),
                Step::Eof => return Ok(None),
            }
        }
    }
}

impl State {
    fn item(&mut self, produced: Produced) -> CamtItem<'_> {
        match produced {
            Produced::Header => CamtItem::Header(&self.header),
            Produced::Account => CamtItem::Account(&self.account),
            Produced::Transaction(transaction) => CamtItem::Transaction {
                entry: &self.entry,
                transaction,
            },
            Produced::EntryEnd(transactions) => CamtItem::EntryEnd {
                entry: &self.entry,
                transactions,
            },
        }
    }

    #[inline]
    fn open(&mut self, path: &[u8], offset: u64) {
        // Inside a record, only the length of the path is compared: no scanning.
        if self.tx_mark != 0 {
            if path.len() == self.tx_mark + "/RtrInf".len() && path.ends_with(b"/RtrInf") {
                self.build.tx.return_info.get_or_insert_with(ReturnInfo::default);
            }
            return;
        }
        if self.entry_mark != 0 {
            let details = "/NtryDtls/TxDtls".len();
            if path.len() == self.entry_mark + details && path.ends_with(b"/NtryDtls/TxDtls") {
                self.tx_mark = path.len();
                self.open_transaction(offset);
            }
            return;
        }
        let (block, rest) = split_first(path);
        if !matches!(block, b"Stmt" | b"Ntfctn" | b"Rpt") {
            return;
        }
        match rest {
            b"" => {
                self.account = Account::default();
                self.account_given = false;
            }
            b"Ntry" => {
                self.give_account();
                self.spare.recycle_entry(std::mem::take(&mut self.entry));
                self.entry_transactions = 0;
                self.entry_mark = path.len();
            }
            _ => {}
        }
    }

    fn open_transaction(&mut self, offset: u64) {
        if let Some(mut held) = self.pending.take() {
            held.warnings.push(Warning {
                offset,
                path: "Ntry/NtryDtls/TxDtls".into(),
                message: "no amount for this transaction and the entry holds several".into(),
            });
            self.queue.push_back(Produced::Transaction(held));
        }
        self.build.tx_amount = None;
        self.build.amount = None;
        self.build.instructed_amount = None;
    }

    fn give_account(&mut self) {
        if !self.account_given {
            self.account_given = true;
            self.queue.push_back(Produced::Account);
        }
    }

    fn close(&mut self, path: &[u8], text: &str, currency: Option<&str>, offset: u64) {
        if self.tx_mark != 0 {
            if path.len() == self.tx_mark {
                self.tx_mark = 0;
                self.end_transaction(offset);
            } else if let Some(field) = path.get(self.tx_mark + 1..).filter(|_| !text.is_empty()) {
                self.close_in_transaction(field, path, text, currency, offset);
            }
            return;
        }
        if self.entry_mark != 0 {
            if path.len() == self.entry_mark {
                self.entry_mark = 0;
                self.end_entry(offset);
            } else if let Some(field) = path.get(self.entry_mark + 1..).filter(|_| !text.is_empty()) {
                self.close_in_entry(field, path, text, currency, offset);
            }
            return;
        }
        let value = || Some(text.to_owned()).filter(|v| !v.is_empty());
        let (block, rest) = split_first(path);
        match block {
            b"GrpHdr" => match rest {
                b"" => {
                    self.header.warnings = self.header_warnings.take();
                    self.queue.push_back(Produced::Header);
                }
                b"MsgId" => self.header.message_id = value(),
                b"CreDtTm" => {
                    self.header.creation_date = self.header_warnings.parse(offset, path, text, parse_iso_date);
                }
                _ => {}
            },
            b"Stmt" | b"Ntfctn" | b"Rpt" => match rest {
                b"" => self.give_account(),
                b"Id" => self.account.report_id = value(),
                b"Acct/Id/IBAN" => self.account.iban = value(),
                b"Acct/Id/Othr/Id" => self.account.other_id = value(),
                b"Acct/Ccy" => self.account.currency = value(),
                _ => {}
            },
            _ => {}
        }
    }

    fn close_in_entry(&mut self, rest: &[u8], path: &[u8], text: &str, currency: Option<&str>, offset: u64) {
        let spare = &mut self.spare;
        let mut value = || Some(spare.string(text));
        if let Some(batch) = rest.strip_prefix(b"NtryDtls/Btch/") {
            return self.close_in_batch(batch, path, text, currency, offset);
        }
        let e = &mut self.entry;
        let w = &mut self.entry_warnings;
        match rest {
            b"NtryRef" => e.reference = value(),
            b"Amt" => e.amount = w.amount(offset, path, text, currency),
            b"CdtDbtInd" => e.credit_debit = w.parse(offset, path, text, parse_credit_debit),
            b"RvslInd" => e.reversal = w.parse(offset, path, text, parse_bool).unwrap_or(false),
            // .02/.04 write the status as text, .08 as `Sts/Cd` (the container is then empty).
            b"Sts" | b"Sts/Cd" | b"Sts/Prtry" => e.status = value(),
            b"BookgDt/Dt" | b"BookgDt/DtTm" => {
                e.booking_date = w.parse(offset, path, text, parse_iso_date);
            }
            b"ValDt/Dt" | b"ValDt/DtTm" => e.value_date = w.parse(offset, path, text, parse_iso_date),
            b"AcctSvcrRef" => e.account_servicer_reference = value(),
            b"AddtlNtryInf" => e.additional_info = value(),
            _ => {
                if let Some(code) = rest.strip_prefix(b"BkTxCd/") {
                    e.bank_transaction_code.read(code, text, &mut self.spare);
                }
            }
        }
    }

    fn close_in_batch(&mut self, field: &[u8], path: &[u8], text: &str, currency: Option<&str>, offset: u64) {
        let spare = &mut self.spare;
        let mut value = || Some(spare.string(text));
        let b = self.entry.batch.get_or_insert_with(Batch::default);
        let w = &mut self.entry_warnings;
        match field {
            b"MsgId" => b.message_id = value(),
            b"PmtInfId" => b.payment_info_id = value(),
            b"NbOfTxs" => b.number_of_transactions = w.parse(offset, path, text, parse_count),
            b"TtlAmt" => b.total = w.amount(offset, path, text, currency),
            b"CdtDbtInd" => b.credit_debit = w.parse(offset, path, text, parse_credit_debit),
            _ => {}
        }
    }

    fn close_in_transaction(&mut self, rest: &[u8], path: &[u8], text: &str, currency: Option<&str>, offset: u64) {
        let value = || Some(text.to_owned());
        let build = &mut self.build;
        let t = &mut build.tx;
        let w = &mut self.tx_warnings;
        match rest {
            b"Refs/MsgId" => t.message_id = value(),
            b"Refs/AcctSvcrRef" => t.account_servicer_reference = value(),
            b"Refs/PmtInfId" => t.payment_info_id = value(),
            b"Refs/InstrId" => t.instruction_id = value(),
            b"Refs/EndToEndId" => t.end_to_end_id = value(),
            b"Refs/TxId" => t.transaction_id = value(),
            b"Refs/MndtId" => t.mandate_id = value(),
            b"AmtDtls/TxAmt/Amt" => build.tx_amount = w.amount(offset, path, text, currency),
            b"Amt" => build.amount = w.amount(offset, path, text, currency),
            b"AmtDtls/InstdAmt/Amt" => {
                build.instructed_amount = w.amount(offset, path, text, currency);
            }
            b"CdtDbtInd" => t.credit_debit = w.parse(offset, path, text, parse_credit_debit),
            b"RltdPties/Dbtr/Nm" | b"RltdPties/Dbtr/Pty/Nm" => t.debtor_name = value(),
            b"RltdPties/DbtrAcct/Id/IBAN" => t.debtor_iban = value(),
            b"LclInstrm/Cd" | b"LclInstrm/Prtry" => t.local_instrument = value(),
            b"RmtInf/Ustrd" => {
                let chars = text.chars().count();
                if chars > MAX_USTRD_CHARS {
                    w.push(
                        offset,
                        path,
                        format!(
                            "Ustrd of {chars} characters, over the {MAX_USTRD_CHARS} the schema allows (kept whole)"
                        ),
                    );
                }
                if t.remittance_information.len() < MAX_REPEATS {
                    t.remittance_information.push(text.to_owned());
                } else {
                    w.push(offset, path, "too many Ustrd lines, the rest is ignored");
                }
            }
            b"RtrInf/Rsn/Cd" => t.return_info.get_or_insert_with(ReturnInfo::default).code = value(),
            b"RtrInf/Rsn/Prtry" => {
                t.return_info.get_or_insert_with(ReturnInfo::default).proprietary = value();
            }
            b"RtrInf/AddtlInf" => {
                let info = t.return_info.get_or_insert_with(ReturnInfo::default);
                if info.additional_info.len() < MAX_REPEATS {
                    info.additional_info.push(text.to_owned());
                }
            }
            _ => {
                if let Some(code) = rest.strip_prefix(b"BkTxCd/") {
                    t.bank_transaction_code
                        .get_or_insert_with(BankTransactionCode::default)
                        .read(code, text, &mut Spare::default());
                } else if let Some(code) = rest.strip_prefix(b"RtrInf/OrgnlBkTxCd/") {
                    t.return_info
                        .get_or_insert_with(ReturnInfo::default)
                        .original_bank_transaction_code
                        .get_or_insert_with(BankTransactionCode::default)
                        .read(code, text, &mut Spare::default());
                }
            }
        }
    }

    fn end_transaction(&mut self, offset: u64) {
        let build = &mut self.build;
        let mut tx = std::mem::take(&mut build.tx);
        tx.amount = build
            .tx_amount
            .take()
            .or(build.amount.take())
            .or(build.instructed_amount.take());
        tx.warnings = self.tx_warnings.take();
        self.entry_transactions += 1;
        if tx.amount.is_none() && self.entry_transactions == 1 {
            self.pending = Some(tx);
        } else {
            if tx.amount.is_none() {
                tx.warnings.push(Warning {
                    offset,
                    path: "Ntry/NtryDtls/TxDtls".into(),
                    message: "no amount for this transaction and the entry holds several".into(),
                });
            }
            self.queue.push_back(Produced::Transaction(tx));
        }
    }

    fn end_entry(&mut self, offset: u64) {
        if let Some(mut held) = self.pending.take() {
            let batch_count = self.entry.batch.as_ref().and_then(|b| b.number_of_transactions);
            if batch_count.is_none_or(|n| n <= 1) {
                held.amount = self.entry.amount.clone();
                held.amount_from_entry = held.amount.is_some();
            } else {
                held.warnings.push(Warning {
                    offset,
                    path: "Ntry/NtryDtls/TxDtls".into(),
                    message: "no amount for this transaction and the batch holds several".into(),
                });
            }
            self.queue.push_back(Produced::Transaction(held));
        }
        self.entry.warnings = self.entry_warnings.take();
        self.queue.push_back(Produced::EntryEnd(self.entry_transactions));
    }
}
