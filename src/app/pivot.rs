//! Pivots (`p`): the current tab's rows counted by account, permission set or principal, with
//! how many are in flight, succeeded and failed, and the newest. Pure: state and computation
//! here, drawing in `ui::pivot`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::table::RequestRow;
use crate::model::{Status, short_permission_set};

/// What the rows are counted by (`p` again cycles it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dimension {
    #[default]
    Account,
    PermissionSet,
    Principal,
}

impl Dimension {
    pub fn next(self) -> Dimension {
        match self {
            Dimension::Account => Dimension::PermissionSet,
            Dimension::PermissionSet => Dimension::Principal,
            Dimension::Principal => Dimension::Account,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Dimension::Account => "Account",
            Dimension::PermissionSet => "Permission set",
            Dimension::Principal => "Principal",
        }
    }

    /// The filter field a drill-down writes (`account:"payments-prod"`).
    pub fn field(self) -> &'static str {
        match self {
            Dimension::Account => "account",
            Dimension::PermissionSet => "ps",
            Dimension::Principal => "principal",
        }
    }

    /// A row's value for this dimension, as the table shows it; `None` until described.
    pub fn value(self, row: &RequestRow) -> Option<String> {
        match self {
            Dimension::Account => row.account().map(str::to_string),
            Dimension::PermissionSet => row
                .permission_set()
                .map(|p| short_permission_set(p).to_string()),
            Dimension::Principal => row.principal(),
        }
    }
}

/// The pivot's columns, each sortable (`s` cycles, `S` reverses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PivotSort {
    Key,
    #[default]
    Total,
    InFlight,
    Succeeded,
    Failed,
    FailedShare,
    Newest,
}

impl PivotSort {
    pub fn next(self) -> PivotSort {
        match self {
            PivotSort::Key => PivotSort::Total,
            PivotSort::Total => PivotSort::InFlight,
            PivotSort::InFlight => PivotSort::Succeeded,
            PivotSort::Succeeded => PivotSort::Failed,
            PivotSort::Failed => PivotSort::FailedShare,
            PivotSort::FailedShare => PivotSort::Newest,
            PivotSort::Newest => PivotSort::Key,
        }
    }
}

/// One value of the dimension and its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PivotRow {
    pub key: String,
    pub total: usize,
    pub in_flight: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub newest: DateTime<Utc>,
}

impl PivotRow {
    /// FAILED as a share of the finished and in-flight requests, 0 to 1.
    pub fn failed_share(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.failed as f64 / self.total as f64
        }
    }
}

/// The pivot view: open while shown instead of the table.
#[derive(Debug, Clone, Default)]
pub struct PivotView {
    pub dimension: Dimension,
    pub sort: PivotSort,
    pub descending: bool,
    pub rows: Vec<PivotRow>,
    pub selected: usize,
    /// Rows of the tab that are not described yet, so not counted under any value.
    pub not_described: usize,
    /// Rows counted (the tab's view: its status, group and `/` filters hold).
    pub counted: usize,
}

impl PivotView {
    pub fn new() -> PivotView {
        PivotView {
            descending: true,
            ..PivotView::default()
        }
    }

    pub fn selected_row(&self) -> Option<&PivotRow> {
        self.rows.get(self.selected)
    }

    /// Recounts from the rows, keeping the selection on its value.
    pub fn recompute<'a>(&mut self, rows: impl Iterator<Item = &'a RequestRow>) {
        let keep = self.selected_row().map(|r| r.key.clone());
        let (counted, not_described, mut out) = count(rows, self.dimension);
        sort_rows(&mut out, self.sort, self.descending);
        self.rows = out;
        self.counted = counted;
        self.not_described = not_described;
        self.selected = keep
            .and_then(|k| self.rows.iter().position(|r| r.key == k))
            .unwrap_or(self.selected)
            .min(self.rows.len().saturating_sub(1));
    }
}

/// Counts rows by a dimension: (rows counted, rows not described, one row per value).
pub fn count<'a>(
    rows: impl Iterator<Item = &'a RequestRow>,
    dimension: Dimension,
) -> (usize, usize, Vec<PivotRow>) {
    let mut by_key: HashMap<String, PivotRow> = HashMap::new();
    let (mut counted, mut not_described) = (0, 0);
    for row in rows {
        counted += 1;
        let Some(key) = dimension.value(row) else {
            not_described += 1;
            continue;
        };
        let entry = by_key.entry(key.clone()).or_insert_with(|| PivotRow {
            key,
            total: 0,
            in_flight: 0,
            succeeded: 0,
            failed: 0,
            newest: row.created,
        });
        entry.total += 1;
        match row.status {
            Status::InProgress => entry.in_flight += 1,
            Status::Succeeded => entry.succeeded += 1,
            Status::Failed => entry.failed += 1,
            Status::Unknown(_) => {}
        }
        entry.newest = entry.newest.max(row.created);
    }
    (counted, not_described, by_key.into_values().collect())
}

/// Sorts pivot rows by a column; ties by value, so the order is total.
pub fn sort_rows(rows: &mut [PivotRow], sort: PivotSort, descending: bool) {
    rows.sort_by(|a, b| {
        let ord = match sort {
            PivotSort::Key => a.key.cmp(&b.key),
            PivotSort::Total => a.total.cmp(&b.total),
            PivotSort::InFlight => a.in_flight.cmp(&b.in_flight),
            PivotSort::Succeeded => a.succeeded.cmp(&b.succeeded),
            PivotSort::Failed => a.failed.cmp(&b.failed),
            PivotSort::FailedShare => a.failed_share().total_cmp(&b.failed_share()),
            PivotSort::Newest => a.newest.cmp(&b.newest),
        };
        let ord = if descending { ord.reverse() } else { ord };
        ord.then_with(|| a.key.cmp(&b.key))
    });
}

/// The `/` term that shows one value's requests: exact, so `payments-prod` is not
/// `payments-prod-eu`.
pub fn drill_term(dimension: Dimension, key: &str) -> String {
    if key.contains('"') {
        // Cannot be quoted: a glob, anchored at both ends, is nearly as exact.
        format!("{}:{}", dimension.field(), key.replace(['"', ' '], "*"))
    } else {
        format!("{}:\"{}\"", dimension.field(), key)
    }
}
