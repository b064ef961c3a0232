//! Logging: human-readable lines by default, JSON lines on request, always on stderr so that
//! stdout stays clean for tables, CSV and JSON output. Progress bars ([`Progress`]) are drawn
//! on stderr too, only for human logs on a terminal: a pipe, a log file, JSON logs or the
//! worker's service log get none, and the bars' calls cost nothing there.

use std::io::IsTerminal;

use tracing::Span;
use tracing_indicatif::IndicatifLayer;
use tracing_indicatif::filter::{IndicatifFilter, hide_indicatif_span_fields};
use tracing_indicatif::span_ext::IndicatifSpanExt;
use tracing_indicatif::style::ProgressStyle;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::format::DefaultFields;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// For people at a terminal.
    Human,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Installs the global subscriber. `RUST_LOG` wins over `verbose` (0 warn, 1 info, 2+ debug).
pub fn init(format: LogFormat, verbose: u8) {
    // sqlx reports every statement over 1 s as a warning: noise for a batch job that reads
    // 100k rows on purpose, so it speaks only from -vv on.
    let default = match verbose {
        0 => "warn,sqlx=error",
        1 => "info,sqlx=error",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    if format == LogFormat::Human && std::io::stderr().is_terminal() {
        // Log lines go through the bars' writer, which lifts the bars out of their way.
        let bars = IndicatifLayer::new().with_span_field_formatter(hide_indicatif_span_fields(DefaultFields::new()));
        let lines = tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_writer(bars.get_stderr_writer())
            .with_filter(filter);
        tracing_subscriber::registry()
            .with(lines)
            .with(bars.with_filter(IndicatifFilter::new(false)))
            .init();
        return;
    }
    // Not a terminal (a pipe, a log file, a service manager): no colour escape codes.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.with_target(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// A progress bar for one long piece of work (a collect run, an import, an ingest), drawn
/// while it lives when [`init`] installed the bars; otherwise inert.
#[derive(Debug, Clone)]
pub struct Progress(Span);

impl Progress {
    /// A bar counting `unit`s done, without a known total: `what` names the work.
    pub fn counting(what: &str, unit: &str) -> Self {
        Self::styled(
            &format!("{{spinner}} {what}: {{pos}} {unit} [{{elapsed}}] {{msg}}"),
            None,
        )
    }

    /// A bar of `total` `unit`s: `what` names the work.
    pub fn of(total: u64, what: &str, unit: &str) -> Self {
        Self::styled(
            &format!("{{spinner}} {what}: [{{bar:30}}] {{pos}}/{{len}} {unit} [{{elapsed}}] {{msg}}"),
            Some(total),
        )
    }

    fn styled(template: &str, total: Option<u64>) -> Self {
        let span = tracing::info_span!("progress", indicatif.pb_show = tracing::field::Empty);
        if let Ok(style) = ProgressStyle::with_template(template) {
            span.pb_set_style(&style);
        }
        if let Some(total) = total {
            span.pb_set_length(total);
        }
        span.pb_start();
        Self(span)
    }

    /// What is being done right now (a file name, a phase).
    pub fn say(&self, message: &str) {
        self.0.pb_set_message(message);
    }

    /// `n` more units done.
    pub fn add(&self, n: u64) {
        self.0.pb_inc(n);
    }

    /// Runs `print` with the bars lifted, so that what it writes to the terminal is not drawn
    /// over.
    pub fn aside<R>(&self, print: impl FnOnce() -> R) -> R {
        tracing_indicatif::suspend_tracing_indicatif(print)
    }
}
