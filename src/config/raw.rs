//! The raw serde layer: `collecte.toml` exactly as written, before any value is checked.
//!
//! Every field is `Option` (or has an empty default) so that defaults live in one place, the
//! validating layer in `mod.rs`, next to the checks and the error messages. Unknown keys are
//! refused here, so a typo never silently falls back to a default.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{AddressStyle, LocalInstrument, Pain008Version};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub creditor: RawCreditor,
    #[serde(default)]
    pub bank: RawBank,
    #[serde(default)]
    pub folders: RawFolders,
    #[serde(default)]
    pub database: RawDatabase,
    #[serde(default)]
    pub queue: RawQueue,
    pub mail: RawMail,
    #[serde(default)]
    pub schedule: RawSchedule,
    #[serde(default)]
    pub retry: RawRetry,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCreditor {
    pub name: String,
    pub iban: String,
    pub bic: Option<String>,
    pub creditor_id: String,
    pub address: RawAddress,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAddress {
    pub street: Option<String>,
    pub building: Option<String>,
    pub postcode: Option<String>,
    pub town: String,
    pub country: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBank {
    pub pain_version: Option<Pain008Version>,
    pub include_bic: Option<bool>,
    pub use_frst: Option<bool>,
    pub use_fnal: Option<bool>,
    pub batch_booking: Option<bool>,
    pub group_ctrl_sum: Option<bool>,
    pub address_style: Option<AddressStyle>,
    pub local_instrument: Option<LocalInstrument>,
    pub lead_days: Option<i64>,
    pub catch_up_days: Option<i64>,
    pub max_transactions_per_file: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFolders {
    pub outbox: Option<String>,
    pub inbox: Option<String>,
    pub processed: Option<String>,
    pub quarantine: Option<String>,
    pub statements: Option<String>,
    pub mail: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQueue {
    pub redis_url: Option<String>,
    pub name: Option<String>,
    pub max_attempts: Option<i64>,
    pub retry_backoff_seconds: Option<i64>,
    pub lease_seconds: Option<i64>,
    pub shutdown_timeout_seconds: Option<i64>,
    pub inbox_scan_seconds: Option<i64>,
    pub wait_for_other_run_seconds: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMail {
    pub from: String,
    pub billing_contact: String,
    #[serde(default)]
    pub admins: Vec<RawAdmin>,
    pub smtp_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdmin {
    pub email: String,
    pub digest: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    pub timezone: Option<String>,
    /// Keyed by job name as written; names are checked by the validating layer so that an
    /// unknown one gets the list of known jobs.
    #[serde(default)]
    pub jobs: BTreeMap<String, RawJobOverride>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJobOverride {
    pub cron: Option<String>,
    pub timezone: Option<String>,
    pub enabled: Option<bool>,
}

/// One built-in `jobs/<job>.toml` definition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJobFile {
    pub description: String,
    pub cron: String,
    pub timezone: Option<String>,
    pub enabled: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    pub max_representations: Option<i64>,
    pub retryable_codes: Option<Vec<String>>,
    pub ms03_countries: Option<Vec<String>>,
    pub delay_business_days: Option<i64>,
    pub payday_align: Option<RawPayday>,
}

/// `payday_align = false` or `payday_align = 25`: TOML has no union type, so both shapes are
/// accepted here and the validating layer decides what they mean.
#[derive(Debug, Clone, Copy)]
pub(super) enum RawPayday {
    Flag(bool),
    Day(i64),
}

impl<'de> Deserialize<'de> for RawPayday {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RawPayday;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("false or a day of the month from 1 to 31")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<RawPayday, E> {
                Ok(RawPayday::Flag(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawPayday, E> {
                Ok(RawPayday::Day(v))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
