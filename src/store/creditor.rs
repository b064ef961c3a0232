//! The creditor row, kept in step with the configuration.

use chrono::Utc;

use super::{BeginWrite, Doing, Store, StoreError, dispatch};
use crate::domain::records::PostalAddress;
use crate::sepa::{Bic, CreditorId, Iban};

/// Row id of a creditor: every customer, mandate and file belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditorKey(pub i64);

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
        dispatch!(self, pool => {
            let mut tx = pool.begin_write().await.doing("starting the creditor update")?;
            let existing: Option<(i64, String)> =
                sqlx::query_as("SELECT id, scheme_id FROM creditors WHERE code = $1")
                    .bind(&c.code)
                    .fetch_optional(&mut *tx)
                    .await
                    .doing("reading the creditor")?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO creditors (code, name, iban, bic, scheme_id, street, building, postcode, town, country, bank_profile, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, iban = excluded.iban, bic = excluded.bic,
                   scheme_id = excluded.scheme_id, street = excluded.street, building = excluded.building,
                   postcode = excluded.postcode, town = excluded.town, country = excluded.country,
                   bank_profile = excluded.bank_profile, updated_at = excluded.updated_at
                 RETURNING id",
            )
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
}
