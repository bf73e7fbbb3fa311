//! The progress of this rollout: what started since a moment (ssowatch's start, `--since`, or
//! `z`), what is in flight, what finished; completions per minute; an ETA; stuck requests;
//! and the failures that are new since the operator last looked.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::Status;

/// Minutes of completions kept for the sparkline and the rate.
pub const SPARK_MINUTES: usize = 10;
/// The recent window the ETA's rate is measured over.
const RATE_MINUTES: i64 = 5;

/// What the view is told once by its host: settings that come from the config and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewConfig {
    pub stuck_after: Duration,
    /// Count from this moment (`--since`); `None` keeps ssowatch's start.
    pub since: Option<DateTime<Utc>>,
    /// The optional columns shown (config `columns`); `None` shows them all.
    pub columns: Option<super::columns::ColumnChoice>,
}

/// Counts since [`Progress::since`], recomputed from the rows as data arrives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub started: usize,
    pub in_flight: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// In flight for longer than `stuck_after` (of every age, not only since).
    pub stuck: usize,
}

#[derive(Debug, Clone)]
pub struct Progress {
    pub since: DateTime<Utc>,
    /// Whether `since` is ssowatch's start (the header says "since start").
    pub since_start: bool,
    pub stuck_after: Duration,
    pub counts: Counts,
    /// When requests were seen finishing (IN_PROGRESS before, finished now), newest last.
    pub completions: VecDeque<DateTime<Utc>>,
    /// Requests seen failing while ssowatch watched, ever: the host rings the bell when this
    /// grows.
    pub new_failed_total: u64,
    /// Requests seen turning FAILED since the moment, whenever they were created: they count
    /// as failed since the moment, so "N new FAILED" is never more than the failed count.
    pub failed_since: std::collections::HashSet<(crate::model::OperationKind, Box<str>)>,
    /// New failures the operator has not looked at yet (cleared by `f`, `F`).
    pub unseen_failed: usize,
}

/// A request in flight longer than this is marked stuck, unless configured otherwise:
/// Identity Center requests usually finish within minutes.
pub const DEFAULT_STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(15 * 60);

impl Progress {
    pub fn new(started: DateTime<Utc>) -> Progress {
        Progress {
            since: started,
            since_start: true,
            stuck_after: DEFAULT_STUCK_AFTER,
            counts: Counts::default(),
            completions: VecDeque::new(),
            new_failed_total: 0,
            failed_since: std::collections::HashSet::new(),
            unseen_failed: 0,
        }
    }

    /// Whether an in-flight request has been running for longer than `stuck_after`.
    pub fn is_stuck(&self, status: &Status, created: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        *status == Status::InProgress
            && (now - created)
                .to_std()
                .is_ok_and(|age| age > self.stuck_after)
    }

    pub(crate) fn record_completion(&mut self, at: DateTime<Utc>) {
        self.completions.push_back(at);
        self.prune(at);
    }

    /// Drops completions older than the sparkline's window.
    pub(crate) fn prune(&mut self, now: DateTime<Utc>) {
        let horizon = now - chrono::Duration::minutes(SPARK_MINUTES as i64);
        while self.completions.front().is_some_and(|&t| t < horizon) {
            self.completions.pop_front();
        }
    }

    /// Completions per minute over the last [`SPARK_MINUTES`] minutes, oldest first.
    pub fn per_minute(&self, now: DateTime<Utc>) -> [u32; SPARK_MINUTES] {
        let mut buckets = [0u32; SPARK_MINUTES];
        for &t in &self.completions {
            let minutes_ago = (now - t).num_minutes();
            if (0..SPARK_MINUTES as i64).contains(&minutes_ago) {
                buckets[SPARK_MINUTES - 1 - minutes_ago as usize] += 1;
            }
        }
        buckets
    }

    /// Completions per minute over the last few minutes; `None` before any was seen.
    pub fn recent_rate(&self, now: DateTime<Utc>) -> Option<f64> {
        let horizon = now - chrono::Duration::minutes(RATE_MINUTES);
        let recent = self.completions.iter().filter(|&&t| t >= horizon).count();
        (recent > 0).then(|| recent as f64 / RATE_MINUTES as f64)
    }

    /// Time until the requests in flight finish at the recent completion rate.
    pub fn eta(&self, now: DateTime<Utc>) -> Option<Duration> {
        let rate = self.recent_rate(now)?;
        if self.counts.in_flight == 0 {
            return None;
        }
        Some(Duration::from_secs_f64(
            self.counts.in_flight as f64 / rate * 60.0,
        ))
    }
}

/// A sparkline of counts, one block character per value, scaled to the largest.
pub fn sparkline(values: &[u32]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            if v == 0 || max == 0 {
                ' '
            } else {
                BARS[((v as usize * BARS.len()).div_ceil(max as usize)).clamp(1, BARS.len()) - 1]
            }
        })
        .collect()
}
