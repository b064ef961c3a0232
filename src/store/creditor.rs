//! The creditor row, kept in step with the configuration.

use chrono::Utc;

use super::{BeginWrite, Dialect, Doing, Store, StoreError, dispatch};
use crate::domain::records::PostalAddress;
use crate::sepa::{Bic, CreditorId, Iban};

/// Row id of a creditor: every customer, mandate and file belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditorKey(pub i64);

/// Six hex digits drawn at random when a ledger first records a creditor, written into every
/// MsgId and EndToEndId of its files. Row ids restart at 1 in a new database (a re-init, a
/// move to PostgreSQL); with the tag a new ledger's ids still differ from the old one's, so
/// the bank does not refuse its first file as a duplicate and a late return of an old
/// collection is not booked against a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTag(String);

impl LedgerTag {
    /// The tag if `s` is six upper-case hex digits.
    fn parse(s: &str) -> Option<Self> {
        (s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)))
            .then(|| LedgerTag(s.to_owned()))
    }
}

impl std::fmt::Display for LedgerTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// SQL drawing a new [`LedgerTag`] (the same expressions as migration 0007's backfill).
fn random_tag_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "upper(hex(randomblob(3)))",
        Dialect::Postgres => "upper(substr(replace(CAST(gen_random_uuid() AS TEXT), '-', ''), 1, 6))",
    }
}

/// The creditor as configured, to be recorded in the ledger.
#[derive(Debug, Clone)]
pub struct CreditorSnapshot {
    /// Stable key of the creditor within this ledger.
    pub code: String,
    /// Legal name.
    pub name: String,
    /// Account collections are credited to.
    pub iban: Iban,
    /// Bank of that account.
    pub bic: Option<Bic>,
    /// SEPA creditor identifier.
    pub scheme_id: CreditorId,
    /// Postal address.
    pub address: PostalAddress,
    /// The bank profile in force, as JSON, so the ledger says what files were written under.
    pub bank_profile: String,
}

impl Store {
    /// Records the configured creditor (insert or update) and returns its key.
    ///
    /// A changed creditor identifier is kept as a change row: the next collection of every
    /// mandate must announce it to the bank (`OrgnlCdtrSchmeId`).
    pub async fn sync_creditor(&self, c: &CreditorSnapshot) -> Result<CreditorKey, StoreError> {
        let now = Utc::now();
        let upsert = sqlx::AssertSqlSafe(format!(
            "INSERT INTO creditors (code, name, iban, bic, scheme_id, street, building, postcode, town, country, bank_profile, updated_at, ledger_tag)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, {})
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, iban = excluded.iban, bic = excluded.bic,
               scheme_id = excluded.scheme_id, street = excluded.street, building = excluded.building,
               postcode = excluded.postcode, town = excluded.town, country = excluded.country,
               bank_profile = excluded.bank_profile, updated_at = excluded.updated_at
             RETURNING id",
            random_tag_sql(self.dialect())
        ));
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await.doing("starting the creditor update")?;
            let existing: Option<(i64, String)> =
                sqlx::query_as("SELECT id, scheme_id FROM creditors WHERE code = $1")
                    .bind(&c.code)
                    .fetch_optional(&mut *tx)
                    .await
                    .doing("reading the creditor")?;
            let id: i64 = sqlx::query_scalar(upsert)
            .bind(&c.code)
            .bind(&c.name)
            .bind(c.iban.as_str())
            .bind(c.bic.as_ref().map(Bic::as_str))
            .bind(c.scheme_id.as_str())
            .bind(c.address.street.as_deref())
            .bind(c.address.building.as_deref())
            .bind(c.address.postcode.as_deref())
            .bind(&c.address.town)
            .bind(c.address.country.as_str())
            .bind(&c.bank_profile)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .doing("recording the creditor")?;
            if let Some((_, old)) = existing.filter(|(_, old)| old != c.scheme_id.as_str()) {
                sqlx::query(
                    "INSERT INTO creditor_scheme_id_changes (creditor_id, old_scheme_id, new_scheme_id, changed_at)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(&old)
                .bind(c.scheme_id.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .doing("recording the creditor identifier change")?;
                tracing::warn!(old = %old, new = %c.scheme_id, "creditor identifier changed; the next collection of each mandate will announce it");
            }
            tx.commit().await.doing("committing the creditor")?;
            Ok(CreditorKey(id))
        })
    }

    /// The creditor's [`LedgerTag`], for the ids of the files collect writes.
    pub async fn ledger_tag(&self, creditor: CreditorKey) -> Result<LedgerTag, StoreError> {
        let tag: Option<String> =
            dispatch!(self, pool => sqlx::query_scalar("SELECT ledger_tag FROM creditors WHERE id = $1")
            .bind(creditor.0)
            .fetch_optional(pool)
            .await
            .doing("reading the creditor's ledger tag")?)
            .flatten();
        tag.as_deref()
            .and_then(LedgerTag::parse)
            .ok_or_else(|| StoreError::Corrupt(format!("creditor {} has no valid ledger tag ({tag:?})", creditor.0)))
    }
}
