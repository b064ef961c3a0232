//! Runs `ingest` when a bank file lands in the inbox: file-system notifications for speed, a
//! periodic scan as the backstop (network folders send no notifications, and a notification
//! can be lost while the watcher restarts).

use std::path::Path;
use std::time::{Duration, SystemTime};

use notify::{RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use super::enqueue::{EnqueueOutcome, enqueue};
use super::queue::Queue;
use crate::config::{Config, Job};
use crate::store::{RequestOrigin, Store};

/// A file is taken once it has not changed for this long: banks' transfer tools write in
/// place, and a half-written file would be quarantined as unreadable.
const SETTLE: Duration = Duration::from_secs(2);

/// Watches the inbox until `stop` turns true.
pub(super) async fn watch_inbox(config: Config, store: Store, mut queue: Queue, mut stop: watch::Receiver<bool>) {
    let inbox = config.folders.inbox.clone();
    let (tx, mut events) = mpsc::channel::<()>(16);
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            let _ = tx.try_send(());
        }
    })
    .and_then(|mut w| w.watch(&inbox, RecursiveMode::NonRecursive).map(|()| w));
    let _watcher = match watcher {
        Ok(w) => Some(w),
        Err(e) => {
            warn!(
                "no file-system notifications for {}: {e}; scanning only",
                inbox.display()
            );
            None
        }
    };
    let scan_every = Duration::from_secs(u64::from(config.queue.inbox_scan_seconds));
    let mut next_scan = tokio::time::Instant::now();
    loop {
        let wait = tokio::select! {
            _ = stop.changed() => return,
            _ = events.recv() => SETTLE,
            () = tokio::time::sleep_until(next_scan) => Duration::ZERO,
        };
        // Let a burst of events (one file arriving in chunks, a zip of many) settle.
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(wait) => {}
        }
        while events.try_recv().is_ok() {}
        next_scan = tokio::time::Instant::now() + scan_every;
        match waiting_files(&inbox) {
            Ok(Waiting {
                settled: 0,
                unsettled: 0,
            }) => {}
            Ok(Waiting { settled: 0, .. }) => next_scan = tokio::time::Instant::now() + SETTLE,
            Ok(Waiting { settled, .. }) => {
                let today = chrono::Utc::now().with_timezone(&config.schedule.timezone).date_naive();
                match enqueue(
                    &store,
                    Ok(&mut queue),
                    &config.queue,
                    Job::Ingest,
                    today,
                    RequestOrigin::Inbox,
                    None,
                )
                .await
                {
                    Ok(EnqueueOutcome::Queued(id) | EnqueueOutcome::Recorded(id, _)) => {
                        info!(request = id, "{settled} file(s) in the inbox: ingest requested");
                    }
                    Ok(EnqueueOutcome::AlreadyRequested(row)) => {
                        debug!(
                            request = row.id,
                            "{settled} file(s) in the inbox: an ingest is already waiting"
                        );
                    }
                    Err(e) => warn!("cannot queue ingest for the inbox: {e}"),
                }
            }
            Err(e) => warn!("cannot list the inbox {}: {e}", inbox.display()),
        }
    }
}

/// Files waiting in the inbox: those unchanged for [`SETTLE`], and those still moving.
#[derive(Debug, PartialEq, Eq)]
struct Waiting {
    settled: usize,
    unsettled: usize,
}

fn waiting_files(inbox: &Path) -> std::io::Result<Waiting> {
    let mut waiting = Waiting {
        settled: 0,
        unsettled: 0,
    };
    let now = SystemTime::now();
    for entry in std::fs::read_dir(inbox)? {
        let entry = entry?;
        // `.ingesting/` and temp files of transfer tools start with a dot.
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let meta = entry.metadata()?;
        if !meta.is_file() {
            continue;
        }
        let age = meta.modified().ok().and_then(|m| now.duration_since(m).ok());
        if age.is_some_and(|a| a >= SETTLE) {
            waiting.settled += 1;
        } else {
            waiting.unsettled += 1;
        }
    }
    Ok(waiting)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_settled_visible_files_count() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".ingesting")).unwrap();
        std::fs::write(dir.path().join(".partial.xml"), "x").unwrap();
        std::fs::write(dir.path().join("fresh.xml"), "x").unwrap();
        assert_eq!(
            waiting_files(dir.path()).unwrap(),
            Waiting {
                settled: 0,
                unsettled: 1
            }
        );
        let old = std::fs::File::options()
            .write(true)
            .open(dir.path().join("fresh.xml"))
            .unwrap();
        old.set_modified(SystemTime::now() - Duration::from_secs(10)).unwrap();
        assert_eq!(
            waiting_files(dir.path()).unwrap(),
            Waiting {
                settled: 1,
                unsettled: 0
            }
        );
    }
}
