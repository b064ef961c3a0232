//! Loading `collecte.toml`: the example, defaults, overrides, paths, and one exact line per
//! kind of bad value.

use super::*;

/// The smallest valid file: everything else has a default.
const MINIMAL: &str = r#"[creditor]
name = "Demo"
iban = "FR7630006000011234567890189"
bic = "AGRIFRPP"
creditor_id = "FR72ZZZ123456"

[creditor.address]
town = "Paris"
country = "FR"

[mail]
from = "collecte@example.com"
billing_contact = "billing@example.com"
"#;

const FILE: &str = "/srv/collecte/collecte.toml";

/// Checks `text` as if read from [`FILE`]; errors with the path shortened to `collecte.toml`.
fn check(text: &str, env: &EnvOverrides) -> Result<Config, String> {
    Config::from_toml(text, Path::new(FILE), env).map_err(|e| e.to_string().replace(FILE, "collecte.toml"))
}

fn ok(text: &str) -> Config {
    match check(text, &EnvOverrides::default()) {
        Ok(config) => config,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_example_loads_with_its_demo_creditor() {
    let config = ok(EXAMPLE_CONFIG);
    assert_eq!(config.path, Path::new(FILE));
    assert_eq!(config.creditor.name.as_str(), "Demo Abonnements SAS");
    assert_eq!(config.creditor.iban.as_str(), "FR7630006000011234567890189");
    assert_eq!(config.creditor.creditor_id.as_str(), "FR72ZZZ123456");
    assert_eq!(config.creditor.bic.as_ref().map(Bic::as_str), Some("AGRIFRPP"));
    assert_eq!(config.creditor.address.town.as_str(), "Paris");
    assert_eq!(
        config.creditor.address.street.as_ref().map(|s| s.as_str()),
        Some("Rue de la Paix")
    );
    assert_eq!(config.creditor.address.country.as_str(), "FR");
    assert_eq!(
        config
            .mail
            .digest_recipients()
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>(),
        ["billing@example.com", "admin@example.com"]
    );
    // The example spells out the defaults: it must agree with the minimal file.
    let minimal = ok(MINIMAL);
    assert_eq!(config.bank, minimal.bank);
    assert_eq!(config.folders, minimal.folders);
    assert_eq!(config.database, minimal.database);
    assert_eq!(config.schedule, minimal.schedule);
    assert_eq!(config.retry, minimal.retry);
    assert_eq!(config.redis_url, None);
    assert_eq!(config.mail.smtp_url, None);
}

#[test]
fn the_example_writes_every_key_once() {
    // Every key of the raw layer appears, set or commented out, so the example documents all.
    for key in [
        "name",
        "iban",
        "bic",
        "creditor_id",
        "street",
        "building",
        "postcode",
        "town",
        "country",
        "pain_version",
        "include_bic",
        "use_frst",
        "use_fnal",
        "batch_booking",
        "group_ctrl_sum",
        "address_style",
        "local_instrument",
        "lead_days",
        "catch_up_days",
        "max_transactions_per_file",
        "outbox",
        "inbox",
        "processed",
        "quarantine",
        "statements",
        "mail",
        "url",
        "redis_url",
        "from",
        "billing_contact",
        "admins",
        "smtp_url",
        "timezone",
        "cron",
        "enabled",
        "max_representations",
        "retryable_codes",
        "ms03_countries",
        "delay_business_days",
        "payday_align",
    ] {
        let written = EXAMPLE_CONFIG
            .lines()
            .any(|l| l.trim_start_matches("# ").starts_with(&format!("{key} = ")));
        assert!(written, "{key} is not in the example");
    }
}

#[test]
fn defaults_apply_when_sections_are_absent() {
    let config = ok(MINIMAL);
    let bank = &config.bank;
    assert_eq!(bank.pain_version, Pain008Version::V08);
    assert!(bank.include_bic && bank.use_frst && !bank.use_fnal);
    assert!(bank.batch_booking && bank.group_ctrl_sum);
    assert_eq!(bank.address_style, AddressStyle::Structured);
    assert_eq!(bank.local_instrument, LocalInstrument::Core);
    assert_eq!(
        (bank.lead_days, bank.catch_up_days, bank.max_transactions_per_file),
        (1, 30, 100_000)
    );
    assert_eq!(
        config.database,
        DatabaseUrl::Sqlite(PathBuf::from("/srv/collecte/collecte.db"))
    );
    let retry = &config.retry;
    assert_eq!(retry.max_representations, 2);
    assert_eq!(retry.retryable_codes, ["AM04", "MS03"]);
    assert_eq!(
        retry.ms03_countries.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        ["AT", "BE", "DE", "LU", "SK"]
    );
    assert_eq!(retry.delay_business_days, 5);
    assert_eq!(retry.payday_align, PaydayAlign::Off);
    assert!(config.mail.admins.is_empty());
    assert_eq!(config.schedule.timezone, chrono_tz::Europe::Paris);
}

#[test]
fn built_in_job_schedules() {
    let schedule = ok(MINIMAL).schedule;
    let expected = [
        (Job::Collect, "0 6 * * 1-5"),
        (Job::Ingest, "30 5 * * *"),
        (Job::Retry, "45 5 * * *"),
        (Job::CardExpiry, "0 7 * * *"),
        (Job::Reconcile, "15 7 * * *"),
        (Job::Digest, "0 8 * * *"),
        (Job::Statement, "30 6 1 * *"),
    ];
    assert_eq!(schedule.jobs().len(), Job::ALL.len());
    for (job, cron) in expected {
        let entry = schedule.job(job);
        assert_eq!(entry.job, job);
        assert_eq!(entry.cron.as_str(), cron, "{job}");
        assert_eq!(entry.timezone, chrono_tz::Europe::Paris, "{job}");
        assert!(entry.enabled, "{job}");
        assert!(!entry.description.is_empty(), "{job}");
    }
}

#[test]
fn schedule_overrides_apply_per_job() {
    let config = ok(&format!(
        r#"{MINIMAL}
[schedule]
timezone = "Europe/Berlin"

[schedule.jobs.collect]
cron = "30 4 * * mon-fri"

[schedule.jobs.digest]
enabled = false
timezone = "UTC"
"#
    ));
    let schedule = &config.schedule;
    assert_eq!(schedule.timezone, chrono_tz::Europe::Berlin);
    let collect = schedule.job(Job::Collect);
    assert_eq!(collect.cron.as_str(), "30 4 * * mon-fri");
    assert_eq!(collect.timezone, chrono_tz::Europe::Berlin);
    let digest = schedule.job(Job::Digest);
    assert!(!digest.enabled);
    assert_eq!(digest.timezone, chrono_tz::UTC);
    assert_eq!(digest.cron.as_str(), "0 8 * * *");
    assert_eq!(schedule.job(Job::Ingest).timezone, chrono_tz::Europe::Berlin);
}

#[test]
fn environment_overrides_win_over_the_file() {
    let text = format!(
        "{MINIMAL}smtp_url = \"smtp://file:25\"\n\n[database]\nurl = \"sqlite://file.db\"\n\n[queue]\nredis_url = \"redis://file:6379\"\n"
    );
    let from_file = ok(&text);
    assert_eq!(
        from_file.database,
        DatabaseUrl::Sqlite(PathBuf::from("/srv/collecte/file.db"))
    );
    assert_eq!(from_file.redis_url.as_deref(), Some("redis://file:6379"));
    assert_eq!(from_file.mail.smtp_url.as_deref(), Some("smtp://file:25"));

    let env = EnvOverrides {
        database_url: Some("postgres://collecte:secret@db:5432/collecte".to_owned()),
        redis_url: Some("redis://queue:6379".to_owned()),
        smtp_url: Some("smtps://mailer@smtp.example.com".to_owned()),
    };
    let config = check(&text, &env).unwrap();
    assert_eq!(
        config.database,
        DatabaseUrl::Postgres("postgres://collecte:secret@db:5432/collecte".to_owned())
    );
    assert_eq!(config.database.to_string(), "postgres://collecte:***@db:5432/collecte");
    assert_eq!(
        DatabaseUrl::Postgres("postgresql://ops@db/collecte".to_owned()).to_string(),
        "postgresql://ops@db/collecte"
    );
    assert_eq!(config.redis_url.as_deref(), Some("redis://queue:6379"));
    assert_eq!(config.mail.smtp_url.as_deref(), Some("smtps://mailer@smtp.example.com"));

    // Each override applies on its own.
    let only_db = EnvOverrides {
        database_url: Some("sqlite:///var/lib/collecte/ledger.db".to_owned()),
        ..EnvOverrides::default()
    };
    let config = check(&text, &only_db).unwrap();
    assert_eq!(
        config.database,
        DatabaseUrl::Sqlite(PathBuf::from("/var/lib/collecte/ledger.db"))
    );
    assert_eq!(config.redis_url.as_deref(), Some("redis://file:6379"));
    assert_eq!(config.mail.smtp_url.as_deref(), Some("smtp://file:25"));
}

#[test]
fn a_bad_environment_value_names_the_variable() {
    for (env, message) in [
        (
            EnvOverrides {
                database_url: Some("mysql://db/collecte".to_owned()),
                ..EnvOverrides::default()
            },
            r#"environment: DATABASE_URL = "mysql://db/collecte": expected a "sqlite://PATH" or "postgres://USER:PASSWORD@HOST/DB" URL"#,
        ),
        (
            EnvOverrides {
                redis_url: Some("http://queue".to_owned()),
                ..EnvOverrides::default()
            },
            r#"environment: REDIS_URL = "http://queue": expected a "redis://HOST:6379" or "rediss://HOST" URL"#,
        ),
        (
            EnvOverrides {
                smtp_url: Some("mail.example.com".to_owned()),
                ..EnvOverrides::default()
            },
            r#"environment: SMTP_URL = "mail.example.com": expected an "smtp://HOST:PORT" or "smtps://USER:PASSWORD@HOST" URL"#,
        ),
    ] {
        assert_eq!(check(MINIMAL, &env).unwrap_err(), message);
    }
}

#[test]
fn relative_folders_resolve_beside_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("collecte.toml");
    std::fs::write(
        &path,
        format!("{MINIMAL}\n[folders]\noutbox = \"./bank/out\"\ninbox = \"/data/bank/in\"\n"),
    )
    .unwrap();
    let config = Config::load(&path, &EnvOverrides::default()).unwrap();
    let base = dir.path();
    assert_eq!(config.path, path);
    let folders = &config.folders;
    assert_eq!(folders.outbox, base.join("bank/out"));
    assert_eq!(folders.inbox, Path::new("/data/bank/in"));
    assert_eq!(folders.processed, base.join("processed"));
    assert_eq!(folders.quarantine, base.join("quarantine"));
    assert_eq!(folders.statements, base.join("statements"));
    assert_eq!(folders.mail, base.join("mail"));
    assert_eq!(config.database, DatabaseUrl::Sqlite(base.join("collecte.db")));
}

#[test]
fn a_missing_file_suggests_init() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("collecte.toml");
    let message = Config::load(&path, &EnvOverrides::default()).unwrap_err().to_string();
    assert_eq!(
        message,
        format!(
            "{}: no such config file; run `collecte init` to write one, or name yours with --config or COLLECTE_CONFIG",
            path.display()
        )
    );
}

#[test]
fn config_path_prefers_the_flag_then_the_environment() {
    let flag = Path::new("/etc/collecte/a.toml");
    assert_eq!(choose_config_path(Some(flag), Some("/env.toml".into())), flag);
    assert_eq!(
        choose_config_path(None, Some("/env.toml".into())),
        Path::new("/env.toml")
    );
    assert_eq!(choose_config_path(None, Some("".into())), Path::new("collecte.toml"));
    assert_eq!(choose_config_path(None, None), Path::new("collecte.toml"));
}

#[test]
fn retry_policy_reads_codes_countries_and_payday() {
    let config = ok(&format!(
        "{MINIMAL}\n[retry]\nmax_representations = 3\nretryable_codes = [\"AM04\"]\nms03_countries = [\"de\"]\ndelay_business_days = 2\npayday_align = 31\n"
    ));
    let retry = &config.retry;
    assert_eq!(retry.max_representations, 3);
    assert_eq!(retry.delay_business_days, 2);
    assert_eq!(retry.payday_align, PaydayAlign::DayOfMonth(31));
    assert!(retry.is_retryable("AM04", "FR"));
    assert!(!retry.is_retryable("MS03", "DE"), "MS03 is not listed");
    assert!(!retry.is_retryable("AC04", "FR"));

    let defaults = ok(MINIMAL).retry;
    assert!(defaults.is_retryable("MS03", "DE"));
    assert!(!defaults.is_retryable("MS03", "FR"));
    assert!(defaults.is_retryable("AM04", "FR"));
}

#[test]
fn bank_profile_values_are_read() {
    let config = ok(&format!(
        r#"{MINIMAL}
[bank]
pain_version = "pain.008.001.02"
include_bic = false
use_frst = false
use_fnal = true
batch_booking = false
group_ctrl_sum = false
address_style = "hybrid"
local_instrument = "B2B"
lead_days = 2
catch_up_days = 0
max_transactions_per_file = 500
"#
    ));
    let expected = BankProfile {
        pain_version: Pain008Version::V02,
        include_bic: false,
        use_frst: false,
        use_fnal: true,
        batch_booking: false,
        group_ctrl_sum: false,
        address_style: AddressStyle::Hybrid,
        local_instrument: LocalInstrument::B2b,
        lead_days: 2,
        catch_up_days: 0,
        max_transactions_per_file: 500,
    };
    assert_eq!(config.bank, expected);
    // Without a BIC requirement, the creditor may have none.
    let iban_only = ok(&config_without_bic());
    assert_eq!(iban_only.creditor.bic, None);
}

fn config_without_bic() -> String {
    format!(
        "{}\n[bank]\ninclude_bic = false\n",
        MINIMAL.replace("bic = \"AGRIFRPP\"\n", "")
    )
}

/// Each bad value gives exactly this one line: place, key, value, what is expected.
#[test]
fn bad_values_give_one_line_naming_key_and_value() {
    let replace = |from: &str, to: &str| {
        assert!(MINIMAL.contains(from), "{from}");
        MINIMAL.replace(from, to)
    };
    let append = |extra: &str| format!("{MINIMAL}{extra}");
    let cases: Vec<(String, &str)> = vec![
        (
            replace("FR7630006000011234567890189", "FR76 3000 6000 0112 3456 7890 188"),
            r#"collecte.toml:3:8: creditor.iban = "FR76 3000 6000 0112 3456 7890 188": expected an IBAN (check digits do not match (mod-97))"#,
        ),
        (
            replace("FR7630006000011234567890189", "BR1800360305000010009795493C1"),
            r#"collecte.toml:3:8: creditor.iban = "BR1800360305000010009795493C1": expected an IBAN of a SEPA country (BR is not in the SEPA schemes)"#,
        ),
        (
            format!("retry = []\n{MINIMAL}"),
            "collecte.toml:1:9: retry = []: expected a table",
        ),
        (
            append("\n[bank]\npain_version = 8\n"),
            "collecte.toml:16:16: bank.pain_version = 8: expected a string in quotes",
        ),
        (
            append("\n[schedule]\njobs = 3\n"),
            "collecte.toml:16:8: schedule.jobs = 3: expected a table",
        ),
        (
            replace("AGRIFRPP", "AGRIFRP"),
            r#"collecte.toml:4:7: creditor.bic = "AGRIFRP": expected a BIC (BIC length 7 is invalid — must be 8 or 11 characters)"#,
        ),
        (
            replace("FR72ZZZ123456", "FR72ZZZ123457"),
            r#"collecte.toml:5:15: creditor.creditor_id = "FR72ZZZ123457": expected a SEPA creditor identifier (Creditor Identifier check digits are 72, expected 45)"#,
        ),
        (
            replace("country = \"FR\"", "country = \"France\""),
            r#"collecte.toml:9:11: creditor.address.country = "France": expected a two-letter ISO country code (is not an ISO 3166-1 alpha-2 country)"#,
        ),
        (
            replace(
                "town = \"Paris\"",
                "town = \"Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson\"",
            ),
            r#"collecte.toml:8:8: creditor.address.town = "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson": expected a town name of at most 35 characters (is 45 characters long, at most 35 are allowed)"#,
        ),
        (
            replace("billing@example.com", "billing@example"),
            r#"collecte.toml:13:19: mail.billing_contact = "billing@example": expected an email address (domain "example" has no dot)"#,
        ),
        (
            append("admins = [{ email = \"a@example.com\", digest = true }, { email = \"ops example.com\" }]\n"),
            r#"collecte.toml:14:65: mail.admins[1].email = "ops example.com": expected an email address (contains a space or a control character)"#,
        ),
        (
            append("\n[schedule]\ntimezone = \"Europe/Pariss\"\n"),
            r#"collecte.toml:16:12: schedule.timezone = "Europe/Pariss": expected an IANA time zone name such as "Europe/Paris""#,
        ),
        (
            append("\n[schedule.jobs.collect]\ncron = \"0 0 6 * * 1-5\"\n"),
            r#"collecte.toml:16:8: schedule.jobs.collect.cron = "0 0 6 * * 1-5": expected 5 fields "minute hour day-of-month month day-of-week", found 6"#,
        ),
        (
            append("\n[schedule.jobs.statement]\ncron = \"30 6 1 * 1\"\n"),
            r#"collecte.toml:16:8: schedule.jobs.statement.cron = "30 6 1 * 1": expected day-of-month or day-of-week restricted, not both (use * for one of them)"#,
        ),
        (
            append("\n[schedule.jobs.digest]\ncron = \"0 24 * * *\"\n"),
            r#"collecte.toml:16:8: schedule.jobs.digest.cron = "0 24 * * *": expected a valid cron expression (Hours must be less than 23. ('24' specified.))"#,
        ),
        (
            append("\n[schedule.jobs.colect]\nenabled = false\n"),
            "collecte.toml:15:1: unknown key schedule.jobs.colect, expected one of collect, ingest, retry, card-expiry, reconcile, digest, statement",
        ),
        (
            replace("bic = ", "bicc = "),
            "collecte.toml:4:1: unknown key creditor.bicc, expected one of name, iban, bic, creditor_id, address",
        ),
        (
            append("\n[bank]\nlead_day = 2\n"),
            "collecte.toml:16:1: unknown key bank.lead_day, expected one of pain_version, include_bic, use_frst, use_fnal, batch_booking, group_ctrl_sum, address_style, local_instrument, lead_days, catch_up_days, max_transactions_per_file",
        ),
        (
            append("\n[bank]\npain_version = \"pain.008.001.09\"\n"),
            r#"collecte.toml:16:16: bank.pain_version = "pain.008.001.09": expected "pain.008.001.02" or "pain.008.001.08""#,
        ),
        (
            append("\n[bank]\naddress_style = \"unstructured\"\n"),
            r#"collecte.toml:16:17: bank.address_style = "unstructured": expected "structured" or "hybrid""#,
        ),
        (
            append("\n[bank]\nlead_days = 20\n"),
            "collecte.toml:16:13: bank.lead_days = 20: expected a number of TARGET2 business days from 1 to 15",
        ),
        (
            append("\n[bank]\nlead_days = \"2\"\n"),
            r#"collecte.toml:16:13: bank.lead_days = "2": expected an integer"#,
        ),
        (
            append("\n[bank]\nuse_frst = \"yes\"\n"),
            r#"collecte.toml:16:12: bank.use_frst = "yes": expected true or false"#,
        ),
        (
            append("\n[bank]\nmax_transactions_per_file = 0\n"),
            "collecte.toml:16:29: bank.max_transactions_per_file = 0: expected a number of transactions (collecte holds a file in memory while it writes it) from 1 to 100000",
        ),
        (
            append("\n[bank]\nmax_transactions_per_file = 1000000\n"),
            "collecte.toml:16:29: bank.max_transactions_per_file = 1000000: expected a number of transactions (collecte holds a file in memory while it writes it) from 1 to 100000",
        ),
        (
            replace("bic = \"AGRIFRPP\"\n", ""),
            "collecte.toml:1:1: creditor.bic = (not set): expected a BIC, since bank.include_bic = true (set it to false if your bank takes IBAN-only files)",
        ),
        (
            append("\n[database]\nurl = \"mysql://db/collecte\"\n"),
            r#"collecte.toml:16:7: database.url = "mysql://db/collecte": expected a "sqlite://PATH" or "postgres://USER:PASSWORD@HOST/DB" URL"#,
        ),
        (
            append("\n[database]\nurl = \"sqlite::memory:\"\n"),
            r#"collecte.toml:16:7: database.url = "sqlite::memory:": expected sqlite://PATH to a database file, without parameters (e.g. "sqlite://collecte.db")"#,
        ),
        (
            append("\n[folders]\nprocessed = \"./inbox\"\n"),
            r#"collecte.toml:16:13: folders.processed = "./inbox": expected a folder of its own, not the same as folders.inbox"#,
        ),
        (
            append("\n[retry]\nretryable_codes = [\"AM04\", \"am05\"]\n"),
            r#"collecte.toml:16:28: retry.retryable_codes[1] = "am05": expected an ISO reason code of 4 upper-case letters or digits, such as "AM04""#,
        ),
        (
            append("\n[retry]\nms03_countries = [\"DE\", \"XX\"]\n"),
            r#"collecte.toml:16:25: retry.ms03_countries[1] = "XX": expected a two-letter ISO country code (is not an ISO 3166-1 alpha-2 country)"#,
        ),
        (
            append("\n[retry]\nmax_representations = 9\n"),
            "collecte.toml:16:23: retry.max_representations = 9: expected a number of re-presentations from 0 to 5",
        ),
        (
            append("\n[retry]\npayday_align = true\n"),
            "collecte.toml:16:16: retry.payday_align = true: expected false or a day of the month from 1 to 31",
        ),
        (
            append("\n[retry]\npayday_align = \"25\"\n"),
            r#"collecte.toml:16:16: retry.payday_align = "25": expected false or a day of the month from 1 to 31"#,
        ),
        (
            replace("town = \"Paris\"\n", ""),
            "collecte.toml:7:1: creditor.address.town is missing, and it has no default",
        ),
        (
            replace(
                "[mail]\nfrom = \"collecte@example.com\"\nbilling_contact = \"billing@example.com\"\n",
                "",
            ),
            "collecte.toml: mail is missing, and it has no default",
        ),
        (
            append("\n[bank\nlead_days = 2\n"),
            "collecte.toml:15:6: TOML syntax error: unclosed table, expected `]`",
        ),
        (
            append("from = \"again@example.com\"\n"),
            "collecte.toml:14:1: TOML syntax error: duplicate key",
        ),
    ];
    assert!(cases.len() >= 15);
    let mut wrong = Vec::new();
    for (text, expected) in cases {
        let message = check(&text, &EnvOverrides::default()).unwrap_err();
        assert!(!message.contains('\n'), "{message}");
        if message != expected {
            wrong.push(format!("expected {expected}\n   found {message}"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
