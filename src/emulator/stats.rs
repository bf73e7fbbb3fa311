//! What the emulator has been asked, for tests and benchmarks that measure a client's frugality
//! on the real product: `GET /_emulator/stats` and [`super::EmulatorHandle::stats`].

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::Utc;
use serde::Serialize;

use super::lock;
use crate::wire::operations;

/// How many request times [`Stats::recent`] keeps.
pub const RECENT_LIMIT: usize = 10_000;

/// Longest request id counted in [`Stats::describes_by_request`]. Real ids are 32 to 36
/// characters; a client sending megabytes of "id" must not grow the stats without bound.
pub const MAX_COUNTED_ID_LEN: usize = 128;

/// What `GET /_emulator/stats` answers.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Requests that were routed and authenticated, faulted or not.
    pub total: u64,
    /// The same per operation; the Huawei side's names carry a `huawei:` prefix.
    pub by_operation: HashMap<String, u64>,
    /// Requests to the Identity Center API itself (SSO Admin, and Huawei's equivalents): what
    /// the account's shared limit of 20 per second counts. The Identity Store and Organizations
    /// calls that resolve names have limits of their own and are not in it.
    pub identity_center_total: u64,
    /// Requests answered with a throttling error (injected or by the rate limit).
    pub throttled: u64,
    /// Real-time epoch milliseconds of the last Identity Center requests (at most
    /// [`RECENT_LIMIT`]).
    pub recent: VecDeque<i64>,
    /// Describe requests per request id, on both protocols, so a test can check that a client
    /// describes a finished request at most once. Name describes (DescribeUser, DescribeGroup,
    /// DescribeAccount) count under the user, group or account id.
    pub describes_by_request: HashMap<String, u64>,
    /// The SigV4 signatures of the last AWS requests (at most [`SIGNATURES_LIMIT`]), so a
    /// test can check that no output or log of a client holds one.
    pub signatures: VecDeque<String>,
}

/// How many signatures [`Stats::signatures`] keeps.
pub const SIGNATURES_LIMIT: usize = 1_000;

/// The counters behind [`Stats`], shared by both protocols.
#[derive(Debug, Default)]
pub struct StatsRecorder {
    stats: Mutex<Stats>,
}

impl StatsRecorder {
    /// Counts one request of `operation` (a describe of `describe_id`, if any).
    pub fn record(&self, operation: &str, describe_id: Option<&str>) {
        let mut stats = lock(&self.stats);
        stats.total += 1;
        *stats.by_operation.entry(operation.to_string()).or_default() += 1;
        if let Some(id) = describe_id.filter(|id| id.len() <= MAX_COUNTED_ID_LEN) {
            *stats
                .describes_by_request
                .entry(id.to_string())
                .or_default() += 1;
        }
        let plain = operation.trim_start_matches("huawei:");
        if !operations::NAME_OPERATIONS.contains(&plain) {
            stats.identity_center_total += 1;
            stats.recent.push_back(Utc::now().timestamp_millis());
            while stats.recent.len() > RECENT_LIMIT {
                stats.recent.pop_front();
            }
        }
    }

    /// Keeps the signature of an `Authorization` header (`...Signature=<hex>`), if it has one.
    pub fn record_signature(&self, authorization: &str) {
        let Some(signature) = authorization
            .rsplit_once("Signature=")
            .map(|(_, s)| s.trim())
            .filter(|s| !s.is_empty() && s.len() <= MAX_COUNTED_ID_LEN)
        else {
            return;
        };
        let mut stats = lock(&self.stats);
        stats.signatures.push_back(signature.to_string());
        while stats.signatures.len() > SIGNATURES_LIMIT {
            stats.signatures.pop_front();
        }
    }

    pub fn record_throttled(&self) {
        lock(&self.stats).throttled += 1;
    }

    pub fn snapshot(&self) -> Stats {
        lock(&self.stats).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_operation_and_per_described_request() {
        let r = StatsRecorder::default();
        r.record("ListInstances", None);
        r.record("DescribeAccountAssignmentCreationStatus", Some("r1"));
        r.record("huawei:DescribeAccountAssignmentCreationStatus", Some("r1"));
        r.record("DescribeAccountAssignmentCreationStatus", Some("r2"));
        r.record(
            "DescribeAccountAssignmentCreationStatus",
            Some(&"x".repeat(10_000)),
        );
        r.record_throttled();
        let s = r.snapshot();
        assert_eq!(s.total, 5);
        assert_eq!(s.throttled, 1);
        assert_eq!(s.by_operation["DescribeAccountAssignmentCreationStatus"], 3);
        assert_eq!(s.describes_by_request.len(), 2, "an absurd id is not kept");
        assert_eq!(s.describes_by_request["r1"], 2);
        assert_eq!(s.describes_by_request["r2"], 1);
        assert_eq!(s.recent.len(), 5);
    }
}
