//! When a cron schedule fires, in wall-clock time of a time zone, and which business date each
//! firing is for.
//!
//! The `cron` crate walks instants of one `TimeZone`; evaluated in a zone with daylight
//! saving it can skip a firing that falls in the spring-forward gap or repeat one in the
//! autumn overlap (the bug tokio-cron-scheduler still has). Here the schedule is walked in
//! *wall-clock* time (a naive local date-time carried as if it were UTC) and each wall-clock
//! firing is then placed on the time line: an ambiguous time takes its first occurrence, a
//! time that does not exist moves forward past the gap. Every local day therefore fires
//! exactly as often as its cron line says, whatever the clocks do; and the store's unique
//! `(job, business date)` request turns "as often" into "once".

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// One firing of a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Firing {
    /// The local date it fired on: the business date the job runs for.
    pub business_date: NaiveDate,
    /// The instant it fires.
    pub at: DateTime<Utc>,
}

/// How far before `after` the wall-clock walk starts, so that a firing moved forward out of a
/// gap (at most a few hours in any zone) is not missed.
const GAP_SLACK_HOURS: i64 = 6;

/// Every firing of `schedule` read in `zone` with `after < at <= until`, in order.
pub fn firings(schedule: &cron::Schedule, zone: Tz, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Firing> {
    let mut out = Vec::new();
    if until <= after {
        return out;
    }
    let start = after.with_timezone(&zone).naive_local() - Duration::hours(GAP_SLACK_HOURS);
    let end = until.with_timezone(&zone).naive_local() + Duration::hours(GAP_SLACK_HOURS);
    for wall in schedule.after(&start.and_utc()) {
        let wall = wall.naive_utc();
        if wall > end {
            break;
        }
        let Some(at) = place(zone, wall) else { continue };
        if at > after && at <= until && out.last().is_none_or(|last: &Firing| last.at < at) {
            out.push(Firing {
                business_date: wall.date(),
                at,
            });
        }
    }
    out
}

/// The first firing strictly after `after` (for the trigger loop's sleep); `None` when the
/// schedule never fires again.
pub fn next_firing(schedule: &cron::Schedule, zone: Tz, after: DateTime<Utc>) -> Option<Firing> {
    // A cron line fires at least once a year unless it names a date that never comes
    // (30 February); two years bounds the search.
    let horizon = after + Duration::days(2 * 366);
    let start = after.with_timezone(&zone).naive_local() - Duration::hours(GAP_SLACK_HOURS);
    schedule
        .after(&start.and_utc())
        .map(|wall| wall.naive_utc())
        .take_while(|wall| wall.and_utc() <= horizon)
        .filter_map(|wall| {
            place(zone, wall).map(|at| Firing {
                business_date: wall.date(),
                at,
            })
        })
        .find(|f| f.at > after)
}

/// A wall-clock time in `zone` as an instant: the first of two in an overlap, the first
/// instant after the gap for a time the clocks skip.
fn place(zone: Tz, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => (1..=GAP_SLACK_HOURS * 4)
            .map(|quarters| wall + Duration::minutes(15 * quarters))
            .find_map(|later| zone.from_local_datetime(&later).earliest())
            .map(|t| t.with_timezone(&Utc)),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn cron(six: &str) -> cron::Schedule {
        cron::Schedule::from_str(six).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn paris() -> Tz {
        "Europe/Paris".parse().unwrap()
    }

    #[test]
    fn a_daily_job_fires_once_per_local_day_across_both_dst_changes() {
        // 02:30 does not exist on 29 March 2026 in Paris and happens twice on 25 October.
        let daily = cron("0 30 2 * * *");
        let all = firings(
            &daily,
            paris(),
            utc("2026-03-27T00:00:00Z"),
            utc("2026-03-31T00:00:00Z"),
        );
        let dates: Vec<_> = all.iter().map(|f| f.business_date.to_string()).collect();
        assert_eq!(dates, ["2026-03-27", "2026-03-28", "2026-03-29", "2026-03-30"]);
        // In the gap: moved to 03:00 CEST = 01:00 UTC.
        assert_eq!(all[2].at, utc("2026-03-29T01:00:00Z"));

        let autumn = firings(
            &daily,
            paris(),
            utc("2026-10-24T00:00:00Z"),
            utc("2026-10-27T00:00:00Z"),
        );
        let dates: Vec<_> = autumn.iter().map(|f| f.business_date.to_string()).collect();
        assert_eq!(dates, ["2026-10-24", "2026-10-25", "2026-10-26"]);
        // The first 02:30 (CEST, UTC+2), not the second.
        assert_eq!(autumn[1].at, utc("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn six_oclock_in_paris_is_five_utc_in_winter_and_four_in_summer() {
        let six = cron("0 0 6 * * *");
        let winter = firings(&six, paris(), utc("2026-01-10T00:00:00Z"), utc("2026-01-11T00:00:00Z"));
        assert_eq!(winter[0].at, utc("2026-01-10T05:00:00Z"));
        let summer = firings(&six, paris(), utc("2026-07-10T00:00:00Z"), utc("2026-07-11T00:00:00Z"));
        assert_eq!(summer[0].at, utc("2026-07-10T04:00:00Z"));
    }

    #[test]
    fn the_window_is_open_at_the_start_and_closed_at_the_end() {
        let six = cron("0 0 6 * * *");
        let at = utc("2026-01-10T05:00:00Z");
        assert!(firings(&six, paris(), at, at + Duration::hours(1)).is_empty());
        assert_eq!(firings(&six, paris(), at - Duration::seconds(1), at).len(), 1);
        assert!(firings(&six, paris(), at, at).is_empty());
    }

    #[test]
    fn the_business_date_is_the_local_date_not_the_utc_one() {
        // 00:30 in Paris on 10 January is still 9 January in UTC.
        let late = cron("0 30 0 * * *");
        let f = firings(&late, paris(), utc("2026-01-09T20:00:00Z"), utc("2026-01-10T20:00:00Z"));
        assert_eq!(f[0].business_date.to_string(), "2026-01-10");
        assert_eq!(f[0].at, utc("2026-01-09T23:30:00Z"));
    }

    #[test]
    fn next_firing_skips_to_the_next_matching_day() {
        let weekdays = cron("0 0 6 * * MON-FRI");
        // Saturday 10 January 2026 → Monday 12 January.
        let next = next_firing(&weekdays, paris(), utc("2026-01-10T12:00:00Z")).unwrap();
        assert_eq!(next.business_date.to_string(), "2026-01-12");
        assert!(next_firing(&cron("0 0 6 30 2 *"), paris(), utc("2026-01-10T12:00:00Z")).is_none());
    }

    #[test]
    fn an_hourly_job_in_the_autumn_overlap_fires_each_wall_clock_hour_once() {
        let hourly = cron("0 0 * * * *");
        let f = firings(
            &hourly,
            paris(),
            utc("2026-10-24T22:30:00Z"),
            utc("2026-10-25T03:30:00Z"),
        );
        // Local 01:00 (CEST), 02:00 (CEST, the first of two), 03:00 and 04:00 (CET).
        let hours: Vec<_> = f.iter().map(|x| x.at.to_rfc3339()).collect();
        assert_eq!(
            hours,
            [
                "2026-10-24T23:00:00+00:00",
                "2026-10-25T00:00:00+00:00",
                "2026-10-25T02:00:00+00:00",
                "2026-10-25T03:00:00+00:00"
            ]
        );
    }
}
