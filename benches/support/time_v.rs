//! Running a benchmarked process under `/usr/bin/time -v`: output, wall time, CPU time and
//! peak RSS (per process, which is why every side of a benchmark runs in its own). Shared by
//! the `bench_*` harnesses through `#[path]`.

use std::process::Command;
use std::time::{Duration, Instant};

/// What a measured process did and cost.
pub struct Measured {
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
    /// Wall time, start to exit.
    pub wall: Duration,
    /// Peak resident set, kB.
    pub rss_kb: u64,
    /// User + system CPU time: what the run itself cost, whatever else the machine does.
    pub cpu_secs: f64,
    /// Exit status 0.
    pub ok: bool,
}

/// Runs `cmd` under `/usr/bin/time -v`, returning its output, wall time and peak RSS. The
/// report goes to a temporary file (removed on return), never into the project.
pub fn measure(cmd: &mut Command) -> Measured {
    let report = tempfile::Builder::new()
        .prefix("collecte-bench-time-v-")
        .tempfile()
        .expect("a temporary file for /usr/bin/time -v");
    let report = report.path();
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(ToOwned::to_owned).collect();
    let mut timed = Command::new("/usr/bin/time");
    timed.arg("-v").arg("-o").arg(report).arg(&program).args(&args);
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let start = Instant::now();
    let out = timed
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program:?} under /usr/bin/time: {e}"));
    let wall = start.elapsed();
    let time_v = std::fs::read_to_string(report).unwrap_or_default();
    let field = |name: &str| {
        time_v
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let rss_kb = field("Maximum resident set size (kbytes):") as u64;
    let cpu_secs = field("User time (seconds):") + field("System time (seconds):");
    Measured {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        wall,
        rss_kb,
        cpu_secs,
        ok: out.status.success(),
    }
}
