//! The test clock's start time: every fixture that needs "now" and every manual clock in the
//! tests (and the benchmarks, which include this file by `#[path]`) starts here. Any date
//! would do: the product takes its time from the runtime's clock, never the machine's.

use chrono::{DateTime, TimeZone, Utc};

/// 2026-11-23 12:00:00 UTC.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
        .single()
        .unwrap_or_default()
}
