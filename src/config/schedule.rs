//! When each job runs: the built-in `jobs/<job>.toml` definitions, overridden by
//! `[schedule]` in `collecte.toml`.
//!
//! Cron expressions are written in the standard 5-field form every operator knows
//! (`minute hour day-of-month month day-of-week`, Sunday = 0 or 7) and translated to the
//! `cron` crate's form, which adds a seconds field and numbers the days of the week from
//! Sunday = 1: without the translation `1-5` would silently mean Sunday to Thursday.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::error::{ConfigError, Source};
use super::raw::{RawJobFile, RawSchedule};

/// The jobs of a collecte day, in the product's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Job {
    /// Installments due → pain.008 files in the outbox.
    Collect,
    /// Bank files in the inbox → R-transactions and settlements.
    Ingest,
    /// Failed collections worth it → re-presentations.
    Retry,
    /// Cards expiring before a payment → warning emails.
    CardExpiry,
    /// Open debits and credits → reconciliation allocations.
    Reconcile,
    /// Failures of the last 24 hours → the daily digest email.
    Digest,
    /// Account statements for a period → CSV files and emails.
    Statement,
}

impl Job {
    /// Every job, so that schedules and CLIs can list them without repeating the names.
    pub const ALL: [Job; 7] = [
        Job::Collect,
        Job::Ingest,
        Job::Retry,
        Job::CardExpiry,
        Job::Reconcile,
        Job::Digest,
        Job::Statement,
    ];

    /// The name used on the command line, in `jobs/<name>.toml` and in `[schedule.jobs.<name>]`.
    pub fn as_str(self) -> &'static str {
        match self {
            Job::Collect => "collect",
            Job::Ingest => "ingest",
            Job::Retry => "retry",
            Job::CardExpiry => "card-expiry",
            Job::Reconcile => "reconcile",
            Job::Digest => "digest",
            Job::Statement => "statement",
        }
    }

    /// The built-in schedule definition, compiled in so that a bare binary has one.
    fn definition(self) -> &'static str {
        match self {
            Job::Collect => include_str!("../../jobs/collect.toml"),
            Job::Ingest => include_str!("../../jobs/ingest.toml"),
            Job::Retry => include_str!("../../jobs/retry.toml"),
            Job::CardExpiry => include_str!("../../jobs/card-expiry.toml"),
            Job::Reconcile => include_str!("../../jobs/reconcile.toml"),
            Job::Digest => include_str!("../../jobs/digest.toml"),
            Job::Statement => include_str!("../../jobs/statement.toml"),
        }
    }

    fn known_names() -> String {
        Job::ALL.map(Job::as_str).join(", ")
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job name that is not one of [`Job::ALL`]; the message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown job {name:?}, expected one of: {known}", known = Job::known_names())]
pub struct UnknownJob {
    /// The name as given.
    pub name: String,
}

impl FromStr for Job {
    type Err = UnknownJob;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Job::ALL
            .into_iter()
            .find(|job| job.as_str() == s)
            .ok_or_else(|| UnknownJob { name: s.to_owned() })
    }
}

/// A standard 5-field cron expression, kept as written (for people) and compiled (for the
/// worker's trigger).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronExpr {
    expression: String,
    schedule: cron::Schedule,
}

impl CronExpr {
    /// Parses `minute hour day-of-month month day-of-week`; restricting both day fields is
    /// refused because cron implementations disagree on whether that means "and" or "or".
    pub fn parse(input: &str) -> Result<Self, String> {
        let fields: Vec<&str> = input.split_whitespace().collect();
        let [minute, hour, day_of_month, month, day_of_week] = fields[..] else {
            return Err(format!(
                "5 fields \"minute hour day-of-month month day-of-week\", found {}",
                fields.len()
            ));
        };
        let day_of_week = translate_day_of_week(day_of_week)?;
        if day_of_month != "*" && day_of_week != "*" {
            return Err("day-of-month or day-of-week restricted, not both (use * for one of them)".to_owned());
        }
        let six = format!("0 {minute} {hour} {day_of_month} {month} {day_of_week}");
        let schedule = cron::Schedule::from_str(&six).map_err(|e| {
            // The crate draws a caret under the field; its last line is the reason.
            let message = e.to_string();
            let reason = message.lines().rev().find(|l| !l.trim().is_empty());
            format!("a valid cron expression ({})", reason.unwrap_or("").trim())
        })?;
        Ok(Self {
            expression: fields.join(" "),
            schedule,
        })
    }

    /// The 5-field expression, whitespace normalised.
    pub fn as_str(&self) -> &str {
        &self.expression
    }

    /// The compiled schedule; evaluate it in the job's [`JobSchedule::timezone`].
    pub fn schedule(&self) -> &cron::Schedule {
        &self.schedule
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression)
    }
}

const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Standard day-of-week field (0–7, Sunday = 0 or 7, names, ranges, lists, steps) → the
/// `cron` crate's, written with names so that no numbering can be misread.
fn translate_day_of_week(field: &str) -> Result<String, String> {
    if field == "*" || field == "?" {
        return Ok("*".to_owned());
    }
    let mut days = [false; 7];
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => match step.parse::<usize>() {
                Ok(step @ 1..=7) => (range, Some(step)),
                _ => return Err(format!("a day-of-week step from 1 to 7, not {step:?}")),
            },
            None => (item, None),
        };
        let (first, last) = match range.split_once('-') {
            _ if range == "*" => (0, 7),
            Some((first, last)) => (day_number(first, false)?, day_number(last, true)?),
            None => {
                let day = day_number(range, false)?;
                (day, if step.is_some() { 7 } else { day })
            }
        };
        if first > last {
            return Err(format!("a day-of-week range in order, not {range:?}"));
        }
        for day in (first..=last).step_by(step.unwrap_or(1)) {
            days[day % 7] = true;
        }
    }
    if days.iter().all(|d| *d) {
        return Ok("*".to_owned());
    }
    let names: Vec<&str> = DAY_NAMES
        .iter()
        .zip(days)
        .filter_map(|(name, on)| on.then_some(*name))
        .collect();
    Ok(names.join(","))
}

/// 0–7 or a three-letter name; Sunday closing a range counts as 7 so `FRI-SUN` works.
fn day_number(text: &str, closes_range: bool) -> Result<usize, String> {
    if let Ok(n @ 0..=7) = text.parse::<usize>() {
        return Ok(n);
    }
    let upper = text.to_ascii_uppercase();
    match DAY_NAMES.iter().position(|name| *name == upper) {
        Some(0) if closes_range => Ok(7),
        Some(n) => Ok(n),
        None => Err(format!(
            "a day of week 0-7 or SUN..SAT, not {text:?} (Sunday is 0 or 7)"
        )),
    }
}

/// One job's trigger: what it is for, when, in which time zone, and whether it runs at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSchedule {
    /// Which job.
    pub job: Job,
    /// One line for `collecte worker` logs and `--help`, from `jobs/<job>.toml`.
    pub description: String,
    /// When it fires.
    pub cron: CronExpr,
    /// The zone the cron fields are read in (06:00 means 06:00 in Paris, summer and winter).
    pub timezone: Tz,
    /// A disabled job is never triggered by the worker; it can still be run by hand.
    pub enabled: bool,
}

/// Every job's trigger, built-in defaults overridden by `[schedule]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The default zone of every job (`schedule.timezone`, "Europe/Paris" by default).
    pub timezone: Tz,
    /// One entry per job, in [`Job::ALL`] order.
    jobs: Vec<JobSchedule>,
}

impl Schedule {
    /// Every job's trigger, in [`Job::ALL`] order.
    pub fn jobs(&self) -> &[JobSchedule] {
        &self.jobs
    }

    /// The business date now in the default zone: what a run without `--date` runs for.
    pub fn today(&self) -> NaiveDate {
        chrono::Utc::now().with_timezone(&self.timezone).date_naive()
    }

    /// One job's trigger; there always is one.
    pub fn job(&self, job: Job) -> &JobSchedule {
        // `jobs` is built by mapping over `Job::ALL`, so the index is always in range.
        &self.jobs[job as usize]
    }
}

/// The zone names chrono-tz knows (the IANA database).
pub(super) fn parse_timezone(src: &Source<'_>, key: &str, name: &str) -> Result<Tz, ConfigError> {
    name.parse::<Tz>().map_err(|_| {
        src.invalid(
            key,
            format!("{name:?}"),
            "an IANA time zone name such as \"Europe/Paris\"",
        )
    })
}

/// Builds the schedule from the built-in job files and the `[schedule]` table of `src`.
pub(super) fn build(raw: RawSchedule, src: &Source<'_>, default_timezone: &str) -> Result<Schedule, ConfigError> {
    let timezone = match &raw.timezone {
        Some(name) => parse_timezone(src, "schedule.timezone", name)?,
        None => parse_timezone(src, "schedule.timezone", default_timezone)?,
    };
    let mut overrides = raw.jobs;
    if let Some(unknown) = overrides.keys().find(|name| name.parse::<Job>().is_err()) {
        let key = format!("schedule.jobs.{unknown}");
        return Err(ConfigError::UnknownKey {
            at: src.at(&key),
            key,
            expected: format!("one of {}", Job::known_names()),
        });
    }
    let mut jobs = Vec::with_capacity(Job::ALL.len());
    for job in Job::ALL {
        let name = format!("jobs/{job}.toml (built in)");
        let text = job.definition();
        let file_src = Source::parse(name, text)?;
        let file: RawJobFile = file_src.deserialize()?;
        let mut schedule = JobSchedule {
            job,
            description: file.description,
            cron: parse_cron(&file_src, "cron", &file.cron)?,
            timezone: match &file.timezone {
                Some(name) => parse_timezone(&file_src, "timezone", name)?,
                None => timezone,
            },
            enabled: file.enabled,
        };
        if let Some(over) = overrides.remove(job.as_str()) {
            let key = format!("schedule.jobs.{job}");
            if let Some(cron) = &over.cron {
                schedule.cron = parse_cron(src, &format!("{key}.cron"), cron)?;
            }
            if let Some(name) = &over.timezone {
                schedule.timezone = parse_timezone(src, &format!("{key}.timezone"), name)?;
            }
            if let Some(enabled) = over.enabled {
                schedule.enabled = enabled;
            }
        }
        jobs.push(schedule);
    }
    Ok(Schedule { timezone, jobs })
}

fn parse_cron(src: &Source<'_>, key: &str, text: &str) -> Result<CronExpr, ConfigError> {
    CronExpr::parse(text).map_err(|why| src.invalid(key, format!("{text:?}"), why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Timelike};

    #[test]
    fn job_names_round_trip() {
        for job in Job::ALL {
            assert_eq!(job.as_str().parse::<Job>(), Ok(job));
        }
        assert_eq!(
            "colect".parse::<Job>().unwrap_err().to_string(),
            "unknown job \"colect\", expected one of: collect, ingest, retry, card-expiry, reconcile, digest, statement"
        );
    }

    #[test]
    fn day_of_week_uses_the_standard_numbering() {
        for (standard, translated) in [
            ("*", "*"),
            ("1-5", "MON,TUE,WED,THU,FRI"),
            ("mon-fri", "MON,TUE,WED,THU,FRI"),
            ("0", "SUN"),
            ("7", "SUN"),
            ("5-7", "SUN,FRI,SAT"),
            ("FRI-SUN", "SUN,FRI,SAT"),
            ("*/2", "SUN,TUE,THU,SAT"),
            ("1,3", "MON,WED"),
            ("0-7", "*"),
        ] {
            assert_eq!(translate_day_of_week(standard).unwrap(), translated, "{standard}");
        }
        for bad in ["8", "x", "5-1", "1/0", ""] {
            assert!(translate_day_of_week(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weekdays_at_six_skip_the_weekend_in_paris() {
        let cron = CronExpr::parse("0 6 * * 1-5").unwrap();
        // Saturday 2026-11-21 noon, Paris.
        let saturday = chrono_tz::Europe::Paris
            .from_local_datetime(
                &NaiveDate::from_ymd_opt(2026, 11, 21)
                    .unwrap()
                    .and_hms_opt(12, 0, 0)
                    .unwrap(),
            )
            .unwrap();
        let next = cron.schedule().after(&saturday).next().unwrap();
        assert_eq!(next.date_naive(), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!((next.hour(), next.minute()), (6, 0));
    }

    #[test]
    fn cron_shape_errors_say_what_is_expected() {
        assert_eq!(
            CronExpr::parse("0 0 6 * * 1").unwrap_err(),
            "5 fields \"minute hour day-of-month month day-of-week\", found 6"
        );
        assert!(CronExpr::parse("0 6 1 * 1").unwrap_err().contains("not both"));
        assert!(CronExpr::parse("61 6 * * *").is_err());
        assert_eq!(CronExpr::parse(" 30  6 1 * * ").unwrap().as_str(), "30 6 1 * *");
    }
}
