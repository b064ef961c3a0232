//! `collecte.toml`: who collects, what the bank expects, where files go, when jobs run.
//!
//! Two layers. `raw` is the file as written (serde, unknown keys refused); [`Config`] holds
//! only checked values — SEPA newtypes, time zones, compiled cron expressions, absolute paths —
//! so a job never meets a bad IBAN at 06:00: a bad value stops `collecte` at start with one
//! line naming the key, the value and what is expected ([`ConfigError`]).
//!
//! The process environment is read only by [`EnvOverrides::from_env`] and [`config_path`];
//! [`Config::load`] takes the overrides as a value, so tests never touch the environment.

mod error;
mod raw;
mod schedule;
#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::ops::RangeInclusive;
use std::path::{Component, Path, PathBuf};

use crate::sepa::text::{AddressText, Name, SepaText};
use crate::sepa::{Bic, CountryCode, CreditorId, Iban, ParseError};

pub use crate::domain::email::EmailAddress;
pub use crate::sepa::pain008::{AddressStyle, LocalInstrument, Pain008Version};
pub use crate::store::DatabaseUrl;
pub use error::ConfigError;
pub use schedule::{CronExpr, Job, JobSchedule, Schedule, UnknownJob};

use error::Source;
use raw::{RawConfig, RawPayday};

/// The commented example `collecte init` writes: every key, its default and what it is for.
/// Its demo creditor is valid, so a fresh `init` can run every job.
pub const EXAMPLE_CONFIG: &str = include_str!("collecte.example.toml");

/// The file looked for when neither `--config` nor `COLLECTE_CONFIG` names one.
pub const DEFAULT_CONFIG_FILE: &str = "collecte.toml";

const DEFAULT_DATABASE_URL: &str = "sqlite://collecte.db";
const DEFAULT_TIMEZONE: &str = "Europe/Paris";

/// Which config file to read: the `--config` flag, else `COLLECTE_CONFIG`, else
/// `./collecte.toml` — so one machine can run several creditors from several files.
pub fn config_path(explicit: Option<&Path>) -> PathBuf {
    choose_config_path(explicit, std::env::var_os("COLLECTE_CONFIG"))
}

fn choose_config_path(explicit: Option<&Path>, from_env: Option<OsString>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| from_env.filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE))
}

/// Environment variables that win over the file, so that deployments can point the same
/// `collecte.toml` at their own database, queue and mail server (and keep secrets out of it).
///
/// Passed to [`Config::load`] explicitly rather than read inside it, so that loading is a pure
/// function of its inputs. An empty variable counts as unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvOverrides {
    /// `DATABASE_URL`, over `database.url`.
    pub database_url: Option<String>,
    /// `REDIS_URL`, over `queue.redis_url`.
    pub redis_url: Option<String>,
    /// `SMTP_URL`, over `mail.smtp_url`.
    pub smtp_url: Option<String>,
}

impl EnvOverrides {
    /// Reads `DATABASE_URL`, `REDIS_URL` and `SMTP_URL` from the process environment.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            database_url: var("DATABASE_URL"),
            redis_url: var("REDIS_URL"),
            smtp_url: var("SMTP_URL"),
        }
    }
}

/// The whole checked configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The file it was read from, absolute; relative paths inside were resolved against its
    /// folder.
    pub path: PathBuf,
    /// `[creditor]`: the party every collection is for.
    pub creditor: Creditor,
    /// `[bank]`: how the bank wants its pain.008 files.
    pub bank: BankProfile,
    /// `[folders]`: where files are exchanged with the bank and written for people.
    pub folders: Folders,
    /// `database.url` or `DATABASE_URL`: where the ledger lives.
    pub database: DatabaseUrl,
    /// `queue.redis_url` or `REDIS_URL`: when set, the worker queues jobs on Redis.
    pub redis_url: Option<String>,
    /// `[queue]`: how hard the worker tries and how long it waits.
    pub queue: QueueSettings,
    /// `[mail]`: who gets emails and through which server.
    pub mail: Mail,
    /// `[schedule]` over the built-in `jobs/*.toml`: when each job runs.
    pub schedule: Schedule,
    /// `[retry]`: which failures are re-presented, how often and when.
    pub retry: RetryPolicy,
}

/// The creditor (the business collecting), as written into every pain.008 file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Creditor {
    /// `Cdtr/Nm`.
    pub name: Name,
    /// The account credited, `CdtrAcct`.
    pub iban: Iban,
    /// `CdtrAgt`; required when [`BankProfile::include_bic`] is set.
    pub bic: Option<Bic>,
    /// The SEPA creditor identifier (ICS), `CdtrSchmeId`.
    pub creditor_id: CreditorId,
    /// `Cdtr/PstlAdr`, structured.
    pub address: PostalAddress,
}

/// A structured postal address, each part bounded by its pain.008 element's length so the
/// file writer can never produce an invalid one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostalAddress {
    /// `StrtNm` (70).
    pub street: Option<AddressText>,
    /// `BldgNb` (16).
    pub building: Option<SepaText<16>>,
    /// `PstCd` (16).
    pub postcode: Option<SepaText<16>>,
    /// `TwnNm` (35), mandatory from November 2026.
    pub town: SepaText<35>,
    /// `Ctry`, mandatory from November 2026.
    pub country: CountryCode,
}

/// What the creditor's bank expects in a pain.008 file; banks differ, so this is data.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BankProfile {
    /// Message version (default pain.008.001.08).
    pub pain_version: Pain008Version,
    /// Write creditor and debtor BICs (default true); false for IBAN-only banks.
    pub include_bic: bool,
    /// Send a mandate's first collection as FRST (default true) or everything as RCUR.
    pub use_frst: bool,
    /// Send a plan's last collection as FNAL (default false) when no other plan uses its mandate:
    /// FNAL ends the mandate.
    pub use_fnal: bool,
    /// `BtchBookg` (default true).
    pub batch_booking: bool,
    /// Write `CtrlSum` in the group header (default true).
    pub group_ctrl_sum: bool,
    /// Structured (default) or hybrid postal addresses.
    pub address_style: AddressStyle,
    /// CORE (default) or B2B.
    pub local_instrument: LocalInstrument,
    /// TARGET2 business days between submission and due date (1..=15, default 1: D-1).
    pub lead_days: u32,
    /// How many days late a missed installment is still collected automatically (0..=365,
    /// default 30).
    pub catch_up_days: u32,
    /// At most this many transactions per file (≥ 1, default 100000).
    pub max_transactions_per_file: u32,
}

/// The folders collecte exchanges files through, absolute (serialised for summaries that tell
/// people where things are, e.g. `collecte demo --format json`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Folders {
    /// pain.008 files for the bank.
    pub outbox: PathBuf,
    /// Files dropped by the bank.
    pub inbox: PathBuf,
    /// Bank files once ingested.
    pub processed: PathBuf,
    /// Bank files that could not be ingested.
    pub quarantine: PathBuf,
    /// CSV account statements.
    pub statements: PathBuf,
    /// `.eml` files, when no SMTP server is configured.
    pub mail: PathBuf,
}

/// Who gets emails and how they are sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// Sender of every email.
    pub from: EmailAddress,
    /// Always gets the daily digest.
    pub billing_contact: EmailAddress,
    /// Admins; those with `digest` get the daily digest too.
    pub admins: Vec<Admin>,
    /// `smtp://` or `smtps://` server; `None` writes `.eml` files into [`Folders::mail`].
    pub smtp_url: Option<String>,
}

impl Mail {
    /// Who the daily digest goes to: the billing contact, then every opted-in admin, each
    /// address once.
    pub fn digest_recipients(&self) -> Vec<&EmailAddress> {
        let mut recipients = vec![&self.billing_contact];
        for admin in self.admins.iter().filter(|a| a.digest) {
            if !recipients.contains(&&admin.email) {
                recipients.push(&admin.email);
            }
        }
        recipients
    }
}

/// An administrator of collecte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin {
    /// Where their mail goes.
    pub email: EmailAddress,
    /// Opted in to the daily digest (default false).
    pub digest: bool,
}

/// `[queue]`: retries, leases and shutdown of `collecte worker`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSettings {
    /// The queue's name in the backend (default "collecte"): installations sharing one Redis
    /// (production and staging, say) must use different names, or their workers would take
    /// each other's jobs.
    pub name: String,
    /// Runs of one job request before it is parked as dead (1..=25, default 5).
    pub max_attempts: u32,
    /// Wait before the first retry, doubled for each further one, at most one hour
    /// (1..=3600, default 60).
    pub retry_backoff_seconds: u32,
    /// A job whose worker stopped sending heartbeats for this long is handed to another
    /// worker (5..=3600, default 60). Shorter recovers faster from a killed worker; it must
    /// stay well above a busy worker's heartbeat delay.
    pub lease_seconds: u32,
    /// On SIGTERM/SIGINT the running job gets this long to finish (1..=86400, default 600).
    pub shutdown_timeout_seconds: u32,
    /// The inbox is scanned this often besides file-system notifications (5..=3600,
    /// default 60), for network folders that send none.
    pub inbox_scan_seconds: u32,
    /// A run of a job (by hand or by a worker) waits this long for another run of the same
    /// job for the same creditor to end, then gives up having done nothing (0..=86400,
    /// default 600; 0 gives up at once).
    pub wait_for_other_run_seconds: u32,
}

/// Which failed collections are re-presented, how many times and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Re-presentations after the first presentation (0..=5, default 2; 0 never retries).
    pub max_representations: u32,
    /// ISO reason codes worth re-presenting (default AM04, MS03); four upper-case letters or
    /// digits each.
    pub retryable_codes: Vec<String>,
    /// MS03 is re-presented only for debtor accounts in these countries (default AT, BE, DE,
    /// LU, SK), where banks use it to hide insufficient funds.
    pub ms03_countries: Vec<CountryCode>,
    /// TARGET2 business days from a failure to its re-presentation (1..=30, default 5).
    pub delay_business_days: u32,
    /// Whether re-presentations wait for a payday.
    pub payday_align: PaydayAlign,
}

impl RetryPolicy {
    /// Whether a failure with `code` on a debtor account of `debtor_country` (the IBAN's
    /// country) is worth re-presenting at all; the attempt count is the caller's.
    pub fn is_retryable(&self, code: &str, debtor_country: &str) -> bool {
        self.retryable_codes.iter().any(|c| c == code)
            && (code != "MS03" || self.ms03_countries.iter().any(|c| c.as_str() == debtor_country))
    }
}

/// `retry.payday_align`: re-present on the earliest date allowed by the delay (`false`, the
/// default), or push that date to the next given day of a month, so the debit comes just
/// after salaries are paid and is more likely to succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaydayAlign {
    /// Failure date + `delay_business_days`.
    Off,
    /// The next such day of a month (1..=31; past a month's end means its last day) on or
    /// after failure + `delay_business_days`, then the next TARGET2 business day.
    DayOfMonth(u32),
}

impl Config {
    /// The creditor as the ledger records it (one creditor per configuration: code `default`).
    pub fn creditor_snapshot(&self) -> crate::store::CreditorSnapshot {
        let c = &self.creditor;
        let a = &c.address;
        crate::store::CreditorSnapshot {
            code: "default".to_owned(),
            name: c.name.as_str().to_owned(),
            iban: c.iban.clone(),
            bic: c.bic.clone(),
            scheme_id: c.creditor_id.clone(),
            address: crate::domain::records::PostalAddress {
                street: a.street.as_ref().map(|s| s.as_str().to_owned()),
                building: a.building.as_ref().map(|s| s.as_str().to_owned()),
                postcode: a.postcode.as_ref().map(|s| s.as_str().to_owned()),
                town: a.town.as_str().to_owned(),
                country: a.country,
            },
            bank_profile: serde_json::to_string(&self.bank).unwrap_or_default(),
        }
    }

    /// Reads and checks the config file at `path`, applying `env` on top.
    ///
    /// A missing file, a TOML error, an unknown key or a bad value is one [`ConfigError`]
    /// naming the place, the key and the value.
    pub fn load(path: &Path, env: &EnvOverrides) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ConfigError::NotFound {
                path: path.to_path_buf(),
            },
            _ => ConfigError::Read {
                path: path.to_path_buf(),
                reason: e.to_string(),
            },
        })?;
        Self::from_toml(&text, path, env)
    }

    /// Checks `text` as if it had been read from `path` (which names it in errors and
    /// anchors its relative paths); `collecte init` uses it to check what it writes.
    pub fn from_toml(text: &str, path: &Path, env: &EnvOverrides) -> Result<Config, ConfigError> {
        let absolute = std::path::absolute(path).map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let base = absolute.parent().unwrap_or(Path::new("/")).to_path_buf();
        let src = Source::parse(path.display().to_string(), text)?;
        let raw: RawConfig = src.deserialize()?;

        let bank = bank_profile(&src, raw.bank)?;
        let creditor = creditor(&src, raw.creditor, &bank)?;
        let folders = folders(&src, raw.folders, &base)?;
        let database = {
            let setting = Setting::pick(
                &src,
                "database.url",
                raw.database.url,
                "DATABASE_URL",
                &env.database_url,
            )
            .unwrap_or_else(|| Setting::fallback(&src, "database.url", DEFAULT_DATABASE_URL));
            parse_database_url(&setting.value, &base).map_err(|why| setting.invalid(&why))?
        };
        let queue = queue_settings(&src, &raw.queue)?;
        let redis_url = Setting::pick(
            &src,
            "queue.redis_url",
            raw.queue.redis_url,
            "REDIS_URL",
            &env.redis_url,
        )
        .map(|s| {
            s.url(
                &["redis://", "rediss://", "redis+unix://", "unix://"],
                "a \"redis://HOST:6379\" or \"rediss://HOST\" URL",
            )
        })
        .transpose()?;
        let mail = mail(&src, raw.mail, env)?;
        let schedule = schedule::build(raw.schedule, &src, DEFAULT_TIMEZONE)?;
        let retry = retry_policy(&src, raw.retry)?;
        Ok(Config {
            path: absolute,
            creditor,
            bank,
            folders,
            database,
            redis_url,
            queue,
            mail,
            schedule,
            retry,
        })
    }
}

/// A value that may come from the file, the environment or a default, with where it came
/// from so that an error names the right place.
struct Setting {
    at: String,
    key: String,
    value: String,
}

impl Setting {
    /// The environment variable when set, else the file's key when written.
    fn pick(
        src: &Source<'_>,
        key: &str,
        from_file: Option<String>,
        env_name: &str,
        from_env: &Option<String>,
    ) -> Option<Self> {
        match (from_env, from_file) {
            (Some(value), _) => Some(Self {
                at: "environment".to_owned(),
                key: env_name.to_owned(),
                value: value.clone(),
            }),
            (None, Some(value)) => Some(Self {
                at: src.at(key),
                key: key.to_owned(),
                value,
            }),
            (None, None) => None,
        }
    }

    /// The built-in default, for a key neither the file nor the environment sets.
    fn fallback(src: &Source<'_>, key: &str, value: &str) -> Self {
        Self {
            at: src.at(key),
            key: key.to_owned(),
            value: value.to_owned(),
        }
    }

    fn invalid(&self, expected: &str) -> ConfigError {
        error::invalid(self.at.clone(), &self.key, &format!("{:?}", self.value), expected)
    }

    /// Keeps a URL whose scheme is one of `schemes` and that names something after it.
    fn url(self, schemes: &[&str], expected: &str) -> Result<String, ConfigError> {
        let ok = schemes
            .iter()
            .any(|s| self.value.strip_prefix(s).is_some_and(|rest| !rest.is_empty()));
        if ok {
            Ok(self.value)
        } else {
            Err(self.invalid(expected))
        }
    }
}

/// Parses a SEPA value, turning its [`ParseError`] into "`key` = value: expected `what` (why)".
fn sepa<T>(
    src: &Source<'_>,
    key: &str,
    input: &str,
    what: &str,
    parse: fn(&str) -> Result<T, ParseError>,
) -> Result<T, ConfigError> {
    parse(input).map_err(|e| src.invalid(key, format!("{input:?}"), format!("{what} ({})", e.reason)))
}

/// Like [`sepa`] for optional values; an empty string counts as unset.
fn optional_sepa<T>(
    src: &Source<'_>,
    key: &str,
    input: Option<String>,
    what: &str,
    parse: fn(&str) -> Result<T, ParseError>,
) -> Result<Option<T>, ConfigError> {
    match input {
        Some(text) if !text.trim().is_empty() => sepa(src, key, &text, what, parse).map(Some),
        _ => Ok(None),
    }
}

/// An integer within `range`, or "`key` = value: expected `what` from lo to hi".
fn integer(
    src: &Source<'_>,
    key: &str,
    value: Option<i64>,
    default: u32,
    range: RangeInclusive<u32>,
    what: &str,
) -> Result<u32, ConfigError> {
    let Some(value) = value else {
        return Ok(default);
    };
    match u32::try_from(value) {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(src.invalid(
            key,
            value.to_string(),
            format!("{what} from {} to {}", range.start(), range.end()),
        )),
    }
}

fn email(src: &Source<'_>, key: &str, input: &str) -> Result<EmailAddress, ConfigError> {
    EmailAddress::parse(input)
        .map_err(|why| src.invalid(key, format!("{input:?}"), format!("an email address ({})", why.reason)))
}

fn bank_profile(src: &Source<'_>, raw: raw::RawBank) -> Result<BankProfile, ConfigError> {
    Ok(BankProfile {
        pain_version: raw.pain_version.unwrap_or(Pain008Version::V08),
        include_bic: raw.include_bic.unwrap_or(true),
        use_frst: raw.use_frst.unwrap_or(true),
        use_fnal: raw.use_fnal.unwrap_or(false),
        batch_booking: raw.batch_booking.unwrap_or(true),
        group_ctrl_sum: raw.group_ctrl_sum.unwrap_or(true),
        address_style: raw.address_style.unwrap_or(AddressStyle::Structured),
        local_instrument: raw.local_instrument.unwrap_or(LocalInstrument::Core),
        lead_days: integer(
            src,
            "bank.lead_days",
            raw.lead_days,
            1,
            1..=15,
            "a number of TARGET2 business days",
        )?,
        catch_up_days: integer(
            src,
            "bank.catch_up_days",
            raw.catch_up_days,
            30,
            0..=365,
            "a number of days",
        )?,
        max_transactions_per_file: integer(
            src,
            "bank.max_transactions_per_file",
            raw.max_transactions_per_file,
            MAX_TRANSACTIONS_PER_FILE,
            1..=MAX_TRANSACTIONS_PER_FILE,
            "a number of transactions (collecte holds a file in memory while it writes it)",
        )?,
    })
}

/// The most transactions collecte puts in one file, and the default. Collect checks and holds
/// a file's transactions in memory until the file is assigned and written: 100,000 keep a
/// million-collection run at about 250 MB; 250,000 took it to 418 MB and one 1,000,000-file
/// to 1.3 GB (BENCHMARKS.md).
pub const MAX_TRANSACTIONS_PER_FILE: u32 = 100_000;

fn creditor(src: &Source<'_>, raw: raw::RawCreditor, bank: &BankProfile) -> Result<Creditor, ConfigError> {
    let bic = optional_sepa(src, "creditor.bic", raw.bic, "a BIC", Bic::parse)?;
    if bank.include_bic && bic.is_none() {
        return Err(ConfigError::Invalid {
            at: src.at("creditor"),
            key: "creditor.bic".to_owned(),
            value: "(not set)".to_owned(),
            expected: "a BIC, since bank.include_bic = true (set it to false if your bank takes IBAN-only files)"
                .to_owned(),
        });
    }
    let iban = sepa(src, "creditor.iban", &raw.iban, "an IBAN", Iban::parse)?;
    if !iban.is_sepa() {
        return Err(src.invalid(
            "creditor.iban",
            format!("{:?}", raw.iban),
            format!(
                "an IBAN of a SEPA country ({} is not in the SEPA schemes)",
                iban.country()
            ),
        ));
    }
    let a = raw.address;
    Ok(Creditor {
        name: sepa(
            src,
            "creditor.name",
            &raw.name,
            "a name of at most 70 SEPA characters",
            Name::parse,
        )?,
        iban,
        bic,
        creditor_id: sepa(
            src,
            "creditor.creditor_id",
            &raw.creditor_id,
            "a SEPA creditor identifier",
            CreditorId::parse,
        )?,
        address: PostalAddress {
            street: optional_sepa(
                src,
                "creditor.address.street",
                a.street,
                "a street name of at most 70 characters",
                AddressText::parse,
            )?,
            building: optional_sepa(
                src,
                "creditor.address.building",
                a.building,
                "a building number of at most 16 characters",
                SepaText::<16>::parse,
            )?,
            postcode: optional_sepa(
                src,
                "creditor.address.postcode",
                a.postcode,
                "a postcode of at most 16 characters",
                SepaText::<16>::parse,
            )?,
            town: sepa(
                src,
                "creditor.address.town",
                &a.town,
                "a town name of at most 35 characters",
                SepaText::<35>::parse,
            )?,
            country: sepa(
                src,
                "creditor.address.country",
                &a.country,
                "a two-letter ISO country code",
                CountryCode::parse,
            )?,
        },
    })
}

/// `base` joined with `path` unless it is absolute, `.` components dropped.
fn resolve(base: &Path, path: &str) -> PathBuf {
    base.join(path)
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect()
}

/// The `[folders]` keys, which are also their default relative paths, in field order.
const FOLDERS: [&str; 6] = ["outbox", "inbox", "processed", "quarantine", "statements", "mail"];

fn folders(src: &Source<'_>, raw: raw::RawFolders, base: &Path) -> Result<Folders, ConfigError> {
    let values = [
        raw.outbox,
        raw.inbox,
        raw.processed,
        raw.quarantine,
        raw.statements,
        raw.mail,
    ];
    let entries = FOLDERS.into_iter().zip(values);
    let mut paths: [PathBuf; 6] = Default::default();
    for (i, (name, value)) in entries.into_iter().enumerate() {
        let key = format!("folders.{name}");
        let text = value.unwrap_or_else(|| name.to_owned());
        if text.trim().is_empty() {
            return Err(src.invalid(&key, format!("{text:?}"), "a folder path"));
        }
        let path = resolve(base, &text);
        if let Some(j) = paths[..i].iter().position(|p| *p == path) {
            return Err(src.invalid(
                &key,
                format!("{text:?}"),
                format!("a folder of its own, not the same as folders.{}", FOLDERS[j]),
            ));
        }
        paths[i] = path;
    }
    let [outbox, inbox, processed, quarantine, statements, mail] = paths;
    Ok(Folders {
        outbox,
        inbox,
        processed,
        quarantine,
        statements,
        mail,
    })
}

fn mail(src: &Source<'_>, raw: raw::RawMail, env: &EnvOverrides) -> Result<Mail, ConfigError> {
    let admins = raw
        .admins
        .iter()
        .enumerate()
        .map(|(i, admin)| {
            Ok(Admin {
                email: email(src, &format!("mail.admins[{i}].email"), &admin.email)?,
                digest: admin.digest.unwrap_or(false),
            })
        })
        .collect::<Result<Vec<_>, ConfigError>>()?;
    let smtp_url = Setting::pick(src, "mail.smtp_url", raw.smtp_url, "SMTP_URL", &env.smtp_url)
        .map(|s| {
            s.url(
                &["smtp://", "smtps://"],
                "an \"smtp://HOST:PORT\" or \"smtps://USER:PASSWORD@HOST\" URL",
            )
        })
        .transpose()?;
    Ok(Mail {
        from: email(src, "mail.from", &raw.from)?,
        billing_contact: email(src, "mail.billing_contact", &raw.billing_contact)?,
        admins,
        smtp_url,
    })
}

fn retry_policy(src: &Source<'_>, raw: raw::RawRetry) -> Result<RetryPolicy, ConfigError> {
    let retryable_codes = match raw.retryable_codes {
        None => vec!["AM04".to_owned(), "MS03".to_owned()],
        Some(codes) => {
            for (i, code) in codes.iter().enumerate() {
                let ok = code.len() == 4 && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
                if !ok {
                    return Err(src.invalid(
                        &format!("retry.retryable_codes[{i}]"),
                        format!("{code:?}"),
                        "an ISO reason code of 4 upper-case letters or digits, such as \"AM04\"",
                    ));
                }
            }
            codes
        }
    };
    let ms03_countries = match raw.ms03_countries {
        None => ["AT", "BE", "DE", "LU", "SK"]
            .iter()
            .map(|c| sepa(src, "retry.ms03_countries", c, "a country", CountryCode::parse))
            .collect::<Result<Vec<_>, _>>()?,
        Some(countries) => countries
            .iter()
            .enumerate()
            .map(|(i, c)| {
                sepa(
                    src,
                    &format!("retry.ms03_countries[{i}]"),
                    c,
                    "a two-letter ISO country code",
                    CountryCode::parse,
                )
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let payday_align = match raw.payday_align {
        None | Some(RawPayday::Flag(false)) => PaydayAlign::Off,
        Some(other) => {
            let (value, day) = match other {
                RawPayday::Flag(flag) => (flag.to_string(), None),
                RawPayday::Day(day) => (day.to_string(), u32::try_from(day).ok()),
            };
            match day {
                Some(day @ 1..=31) => PaydayAlign::DayOfMonth(day),
                _ => {
                    return Err(src.invalid("retry.payday_align", value, "false or a day of the month from 1 to 31"));
                }
            }
        }
    };
    Ok(RetryPolicy {
        max_representations: integer(
            src,
            "retry.max_representations",
            raw.max_representations,
            2,
            0..=5,
            "a number of re-presentations",
        )?,
        retryable_codes,
        ms03_countries,
        delay_business_days: integer(
            src,
            "retry.delay_business_days",
            raw.delay_business_days,
            5,
            1..=30,
            "a number of TARGET2 business days",
        )?,
        payday_align,
    })
}

fn queue_settings(src: &Source<'_>, raw: &raw::RawQueue) -> Result<QueueSettings, ConfigError> {
    let name = match &raw.name {
        None => "collecte".to_owned(),
        Some(name)
            if !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) =>
        {
            name.clone()
        }
        Some(other) => {
            return Err(src.invalid(
                "queue.name",
                format!("{other:?}"),
                "1 to 64 letters, digits, '-', '_' or '.'",
            ));
        }
    };
    Ok(QueueSettings {
        name,
        max_attempts: integer(
            src,
            "queue.max_attempts",
            raw.max_attempts,
            5,
            1..=25,
            "a number of runs",
        )?,
        retry_backoff_seconds: integer(
            src,
            "queue.retry_backoff_seconds",
            raw.retry_backoff_seconds,
            60,
            1..=3600,
            "a number of seconds",
        )?,
        lease_seconds: integer(
            src,
            "queue.lease_seconds",
            raw.lease_seconds,
            60,
            5..=3600,
            "a number of seconds",
        )?,
        shutdown_timeout_seconds: integer(
            src,
            "queue.shutdown_timeout_seconds",
            raw.shutdown_timeout_seconds,
            600,
            1..=86_400,
            "a number of seconds",
        )?,
        inbox_scan_seconds: integer(
            src,
            "queue.inbox_scan_seconds",
            raw.inbox_scan_seconds,
            60,
            5..=3600,
            "a number of seconds",
        )?,
        wait_for_other_run_seconds: integer(
            src,
            "queue.wait_for_other_run_seconds",
            raw.wait_for_other_run_seconds,
            600,
            0..=86_400,
            "a number of seconds",
        )?,
    })
}

/// Parses `sqlite://PATH` (relative paths against `base`) or `postgres[ql]://...`; the
/// error says what is expected.
fn parse_database_url(text: &str, base: &Path) -> Result<DatabaseUrl, String> {
    if let Some(rest) = text.strip_prefix("sqlite:") {
        let file = rest.strip_prefix("//").unwrap_or(rest);
        if file.is_empty() || file.contains('?') || file.starts_with(':') {
            return Err(
                "sqlite://PATH to a database file, without parameters (e.g. \"sqlite://collecte.db\")".to_owned(),
            );
        }
        return Ok(DatabaseUrl::Sqlite(resolve(base, file)));
    }
    let server = ["postgres://", "postgresql://"]
        .iter()
        .find_map(|scheme| text.strip_prefix(scheme));
    match server {
        Some(rest) if !rest.is_empty() => Ok(DatabaseUrl::Postgres(text.to_owned())),
        _ => Err("a \"sqlite://PATH\" or \"postgres://USER:PASSWORD@HOST/DB\" URL".to_owned()),
    }
}
