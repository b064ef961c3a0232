//! The benchmarks' command line (`cargo bench --bench NAME -- --flag value --switch`), parsed
//! once here so that every harness refuses a mistyped option and a missing value the same way
//! instead of silently benchmarking its defaults. Shared by the harnesses through `#[path]`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;

/// The options given after `--`; `--flag` takes a value, a switch does not.
pub struct BenchArgs {
    values: HashMap<&'static str, Option<String>>,
}

impl BenchArgs {
    /// The process's arguments, or `None` after printing `usage` when cargo runs the file as a
    /// test (`cargo test --benches` passes no `--bench`): a benchmark is never run by accident.
    /// Panics, naming the option, on one that is neither in `flags` nor in `switches`, or on a
    /// flag without its value.
    pub fn from_env(usage: &str, flags: &[&'static str], switches: &[&'static str]) -> Option<Self> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if !args.iter().any(|a| a == "--bench") {
            println!("run it with `{usage}` (see BENCHMARKS.md)");
            return None;
        }
        let mut values = HashMap::new();
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            if a == "--bench" {
                continue;
            }
            if let Some(&flag) = flags.iter().find(|f| **f == a) {
                let value = it.next().unwrap_or_else(|| panic!("{a} needs a value; usage: {usage}"));
                values.insert(flag, Some(value));
            } else if let Some(&switch) = switches.iter().find(|s| **s == a) {
                values.insert(switch, None);
            } else {
                panic!("unknown option {a}; usage: {usage}");
            }
        }
        Some(Self { values })
    }

    /// The value given to `flag`, if any.
    pub fn value(&self, flag: &str) -> Option<&str> {
        self.values.get(flag).and_then(Option::as_deref)
    }

    /// Whether `switch` was given.
    pub fn switch(&self, switch: &str) -> bool {
        self.values.contains_key(switch)
    }

    /// `flag`'s value parsed (numbers may be written `1_000_000`), or `default`.
    pub fn parsed<T: FromStr>(&self, flag: &str, default: T) -> T {
        self.value(flag).map_or(default, |v| parse_one(flag, v))
    }

    /// `flag`'s comma-separated values parsed, or `default`.
    pub fn list<T: FromStr>(&self, flag: &str, default: &str) -> Vec<T> {
        self.value(flag)
            .unwrap_or(default)
            .split(',')
            .map(|v| parse_one(flag, v))
            .collect()
    }

    /// `flag`'s value as a path, or `default`.
    pub fn path(&self, flag: &str, default: impl FnOnce() -> PathBuf) -> PathBuf {
        self.value(flag).map_or_else(default, PathBuf::from)
    }
}

fn parse_one<T: FromStr>(flag: &str, value: &str) -> T {
    value
        .parse()
        .or_else(|_| value.replace('_', "").parse())
        .unwrap_or_else(|_| panic!("{flag} does not take {value:?}"))
}
