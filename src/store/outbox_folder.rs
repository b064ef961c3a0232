//! The outbox folder a creditor's files go to, known by its marker: what lets a run tell the
//! folder its files reach the bank from apart from an empty mount point at the same path.

use chrono::Utc;

use super::{CreditorKey, Doing, Store, StoreError, dispatch};

/// An outbox folder: where a file's temporary was reserved, or where a creditor's files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxFolder {
    /// Canonical path, for people.
    pub path: String,
    /// The id its marker file holds, which tells it from another folder at the same path.
    pub id: String,
}

impl Store {
    /// The outbox folder the creditor's files go to, if one was ever recorded.
    pub async fn creditor_outbox(&self, creditor: CreditorKey) -> Result<Option<OutboxFolder>, StoreError> {
        let row: Option<(String, String)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT path, marker_id FROM creditor_outboxes WHERE creditor_id = $1",
        )
        .bind(creditor.0)
        .fetch_optional(pool)
        .await
        .doing("reading the creditor's outbox folder"))?;
        Ok(row.map(|(path, id)| OutboxFolder { path, id }))
    }

    /// Records `folder` as the one the creditor's files go to from now on.
    pub async fn set_creditor_outbox(&self, creditor: CreditorKey, folder: &OutboxFolder) -> Result<(), StoreError> {
        dispatch!(self, pool => sqlx::query(
            "INSERT INTO creditor_outboxes (creditor_id, path, marker_id, recorded_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (creditor_id) DO UPDATE SET path = excluded.path, marker_id = excluded.marker_id,
               recorded_at = excluded.recorded_at",
        )
        .bind(creditor.0)
        .bind(&folder.path)
        .bind(&folder.id)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|_| ())
        .doing("recording the creditor's outbox folder"))
    }
}
