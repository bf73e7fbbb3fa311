//! The table engine: the records of one kind, their sorted order, the filtered view and the
//! selection.
//!
//! Built to stay instant with 100,000 records: records live in a flat vector, the sorted order
//! is kept separately and only rebuilt when it can have changed, and the filtered view is one
//! linear pass over that order. Rendering then only touches the visible window.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset, Utc};

use super::filter::{FieldTexts, Filter, Values, Verdict};
use crate::model::{
    Described, NameKind, OperationKind, RequestDetail, Status, StatusSummary, short_permission_set,
};

/// Which statuses the table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    All,
    FailedOnly,
    InProgressOnly,
}

impl StatusFilter {
    pub fn admits(self, status: &Status) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::FailedOnly => *status == Status::Failed,
            StatusFilter::InProgressOnly => *status == Status::InProgress,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::FailedOnly => "FAILED",
            StatusFilter::InProgressOnly => "IN_PROGRESS",
        }
    }
}

/// Columns the table can be sorted by (`s` cycles through them in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortColumn {
    #[default]
    Created,
    Status,
    RequestId,
    Account,
    PermissionSet,
    Principal,
}

impl SortColumn {
    pub fn next(self) -> SortColumn {
        match self {
            SortColumn::Created => SortColumn::Status,
            SortColumn::Status => SortColumn::RequestId,
            SortColumn::RequestId => SortColumn::Account,
            SortColumn::Account => SortColumn::PermissionSet,
            SortColumn::PermissionSet => SortColumn::Principal,
            SortColumn::Principal => SortColumn::Created,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortColumn::Created => "created",
            SortColumn::Status => "status",
            SortColumn::RequestId => "request id",
            SortColumn::Account => "account",
            SortColumn::PermissionSet => "permission set",
            SortColumn::Principal => "principal",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortSpec {
    pub column: SortColumn,
    pub descending: bool,
}

impl Default for SortSpec {
    /// Newest first.
    fn default() -> Self {
        SortSpec {
            column: SortColumn::Created,
            descending: true,
        }
    }
}

/// One request as the table holds it. Compact on purpose: 100,000 of these must fit in a few
/// tens of megabytes.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub kind: OperationKind,
    pub request_id: Box<str>,
    pub status: Status,
    pub created: DateTime<Utc>,
    pub answer: Option<Box<DescribeAnswer>>,
    /// Lower-cased text of every field, for the `/` filter ([`super::filter`]).
    search_text: FieldTexts,
    /// The failure reason normalised ([`crate::failures::normalise`]), computed once when the
    /// reason arrives, so regrouping failures as data flows costs no regex work.
    reason_pattern: Option<Box<str>>,
}

/// The describe answer kept for a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeAnswer {
    pub detail: RequestDetail,
    /// The API operation that answered, shown so the operator knows where the data came from.
    pub source_call: String,
    pub described_at: DateTime<Utc>,
    /// The status the describe reported; a finished one never needs describing again.
    pub status: Status,
}

impl RequestRow {
    fn new(summary: StatusSummary, tz: FixedOffset) -> RequestRow {
        let mut row = RequestRow {
            kind: summary.kind,
            request_id: summary.request_id.into_boxed_str(),
            status: summary.status,
            created: summary.created,
            answer: None,
            search_text: FieldTexts::default(),
            reason_pattern: None,
        };
        row.refresh_search_text(tz);
        row
    }

    /// Whether a describe would tell something new: who and what (never asked yet), or the
    /// final answer of a finished request.
    pub fn needs_describe(&self) -> bool {
        match &self.answer {
            None => true,
            Some(answer) => self.status.is_finished() && !answer.status.is_finished(),
        }
    }

    /// Whether the detail we hold is final: finished requests never change.
    pub fn has_final_detail(&self) -> bool {
        self.answer.as_ref().is_some_and(|a| a.status.is_finished())
    }

    /// The account's name when known, else its id (the detail pane shows both).
    pub fn account(&self) -> Option<&str> {
        let d = &self.answer.as_ref()?.detail;
        d.account_name.as_deref().or(d.target_account.as_deref())
    }

    /// The permission set's name when known, else its ARN or id.
    pub fn permission_set(&self) -> Option<&str> {
        let d = &self.answer.as_ref()?.detail;
        d.permission_set_name
            .as_deref()
            .or(d.permission_set.as_deref())
    }

    /// `USER jane.doe` / `GROUP platform-admins` once the name is known, else the id.
    pub fn principal(&self) -> Option<String> {
        let d = &self.answer.as_ref()?.detail;
        let who = d.principal_name.as_ref().or(d.principal_id.as_ref())?;
        Some(match &d.principal_type {
            Some(t) => format!("{t} {who}"),
            None => who.clone(),
        })
    }

    /// The principal's name when known, else its id (without its type).
    pub fn principal_name(&self) -> Option<&str> {
        let d = &self.answer.as_ref()?.detail;
        d.principal_name.as_deref().or(d.principal_id.as_deref())
    }

    pub fn failure_reason(&self) -> Option<&str> {
        self.answer.as_ref()?.detail.failure_reason.as_deref()
    }

    /// Whether the row passes a `/` filter (see [`super::filter`]).
    pub fn verdict(&self, filter: &Filter) -> Verdict {
        if filter.is_empty() {
            return Verdict::Match;
        }
        filter.verdict(&self.search_text)
    }

    /// The field texts the filter reads.
    pub fn field_texts(&self) -> &FieldTexts {
        &self.search_text
    }

    /// The normalised failure reason, if the row has a reason.
    pub fn reason_pattern(&self) -> Option<&str> {
        self.reason_pattern.as_deref()
    }

    fn refresh_search_text(&mut self, tz: FixedOffset) {
        self.reason_pattern = self
            .failure_reason()
            .map(|r| crate::failures::normalise(r).into_boxed_str());
        self.search_text = FieldTexts::new(Values {
            id: &self.request_id,
            status: self.status.as_wire(),
            created: &format_local(self.created, tz),
            kind: self.kind.short(),
            detail: self.answer.as_ref().map(|a| &a.detail),
        });
    }
}

/// Local wall-clock time as the table shows it.
pub fn format_local(t: DateTime<Utc>, tz: FixedOffset) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The zone the screen's times are in: `UTC`, or an offset like `+01:00`.
pub fn zone_label(tz: FixedOffset) -> String {
    if tz.local_minus_utc() == 0 {
        "UTC".into()
    } else {
        tz.to_string()
    }
}

/// Counts per status, for the header and the tabs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub in_progress: usize,
    pub failed: usize,
    pub succeeded: usize,
    pub other: usize,
}

impl StatusCounts {
    fn add(&mut self, status: &Status, delta: isize) {
        let slot = match status {
            Status::InProgress => &mut self.in_progress,
            Status::Failed => &mut self.failed,
            Status::Succeeded => &mut self.succeeded,
            Status::Unknown(_) => &mut self.other,
        };
        *slot = slot.saturating_add_signed(delta);
    }

    pub fn total(&self) -> usize {
        self.in_progress + self.failed + self.succeeded + self.other
    }
}

/// Progress of one first load of one kind: its FAILED listing, or its history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadProgress {
    pub pages: u32,
    pub records: u64,
    pub done: bool,
}

/// Why a kind's list calls are failing, shown on its tab until one succeeds again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListTrouble {
    pub at: DateTime<Utc>,
    pub message: String,
    /// Access was denied: nothing will change until the operator fixes permissions.
    pub denied: bool,
    /// What the operator can do about it, shown whole on the tab.
    pub hint: Option<String>,
    /// The listing was given up until its next turn (not a retry in progress).
    pub gave_up: bool,
}

/// The records of one kind, their sorted order, the filtered view and the selection.
#[derive(Debug, Clone, Default)]
pub struct KindTable {
    rows: Vec<RequestRow>,
    index_by_id: HashMap<Box<str>, u32>,
    /// All row indices in sort order; rebuilt only when the order can have changed.
    sorted: Vec<u32>,
    sorted_valid: bool,
    /// Row indices that pass the filters, in sort order.
    view: Vec<u32>,
    /// The selected request, by id: row positions shift as data arrives, ids do not.
    selected_id: Option<Box<str>>,
    /// Position of the selection in `view`, derived from `selected_id`.
    selected_pos: usize,
    /// Whether the operator chose the selection. Until they do (and again after `g`), the
    /// selection follows the top row, so a loading table shows its newest rows.
    pinned: bool,
    /// First visible position in `view`.
    pub offset: usize,
    pub counts: StatusCounts,
    /// Rows the `/` filter could not check because they are not described yet (they pass
    /// every other filter).
    pub not_described: usize,
    /// The FAILED listing at start: until it is done, the FAILED count is not known.
    pub failed_load: LoadProgress,
    /// The first load of the history.
    pub history_load: LoadProgress,
    /// When a list call of this kind last succeeded.
    pub last_listed: Option<DateTime<Utc>>,
    pub trouble: Option<ListTrouble>,
}

impl KindTable {
    /// Whether the FAILED count is complete: the FAILED listing (or, failing that, the whole
    /// history) has been read. Until then a count of 0 means "not known yet".
    pub fn failed_known(&self) -> bool {
        self.failed_load.done || self.history_load.done
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every row, in no particular order.
    pub fn rows(&self) -> impl Iterator<Item = &RequestRow> {
        self.rows.iter()
    }

    pub fn view_len(&self) -> usize {
        self.view.len()
    }

    /// The row at a position of the filtered view.
    pub fn view_row(&self, pos: usize) -> Option<&RequestRow> {
        self.view.get(pos).map(|&i| &self.rows[i as usize])
    }

    pub fn row_by_id(&self, id: &str) -> Option<&RequestRow> {
        self.index_by_id.get(id).map(|&i| &self.rows[i as usize])
    }

    pub fn selected_pos(&self) -> Option<usize> {
        (!self.view.is_empty()).then_some(self.selected_pos)
    }

    pub fn selected(&self) -> Option<&RequestRow> {
        self.selected_pos().and_then(|p| self.view_row(p))
    }

    pub fn selected_id(&self) -> Option<&str> {
        self.selected_id.as_deref()
    }

    /// Adds or updates records. Returns whether anything changed, and whether the change can
    /// have moved rows in the sort order.
    pub(crate) fn upsert(
        &mut self,
        items: impl IntoIterator<Item = StatusSummary>,
        tz: FixedOffset,
        sort: SortSpec,
    ) -> bool {
        let mut changed = false;
        for summary in items {
            match self.index_by_id.get(summary.request_id.as_str()) {
                Some(&i) => {
                    let row = &mut self.rows[i as usize];
                    if row.status != summary.status {
                        self.counts.add(&row.status, -1);
                        self.counts.add(&summary.status, 1);
                        row.status = summary.status;
                        row.refresh_search_text(tz);
                        if sort.column == SortColumn::Status {
                            self.sorted_valid = false;
                        }
                        changed = true;
                    }
                }
                None => {
                    let idx = self.rows.len() as u32;
                    self.counts.add(&summary.status, 1);
                    let row = RequestRow::new(summary, tz);
                    self.index_by_id.insert(row.request_id.clone(), idx);
                    self.rows.push(row);
                    self.sorted_valid = false;
                    changed = true;
                }
            }
        }
        changed
    }

    /// Adds copies of another table's rows that this one does not hold yet (the all-kinds
    /// table starts from the kind tables when it is first shown).
    pub(crate) fn extend_from(&mut self, other: &KindTable) {
        for row in &other.rows {
            if self.index_by_id.contains_key(&row.request_id) {
                continue;
            }
            let idx = self.rows.len() as u32;
            self.counts.add(&row.status, 1);
            self.index_by_id.insert(row.request_id.clone(), idx);
            self.rows.push(row.clone());
        }
        self.sorted_valid = false;
    }

    /// Stores a describe answer. Returns whether anything changed.
    pub(crate) fn apply_described(
        &mut self,
        described: Described,
        tz: FixedOffset,
        sort: SortSpec,
    ) -> bool {
        let summary = described.summary;
        let answer = DescribeAnswer {
            detail: described.detail,
            source_call: described.source_call,
            described_at: described.described_at,
            status: summary.status.clone(),
        };
        let idx = match self.index_by_id.get(summary.request_id.as_str()) {
            Some(&i) => i,
            None => {
                self.upsert([summary.clone()], tz, sort);
                match self.index_by_id.get(summary.request_id.as_str()) {
                    Some(&i) => i,
                    None => return false,
                }
            }
        };
        let row = &mut self.rows[idx as usize];
        if row.status != summary.status {
            self.counts.add(&row.status, -1);
            self.counts.add(&summary.status, 1);
            row.status = summary.status;
            if sort.column == SortColumn::Status {
                self.sorted_valid = false;
            }
        }
        if matches!(
            sort.column,
            SortColumn::Account | SortColumn::PermissionSet | SortColumn::Principal
        ) {
            self.sorted_valid = false;
        }
        row.answer = Some(Box::new(answer));
        row.refresh_search_text(tz);
        true
    }

    /// Fills in the name of an id on every row that refers to it. Returns whether any row
    /// changed. Names arrive once per id, so a scan is fine.
    pub(crate) fn apply_name(
        &mut self,
        kind: NameKind,
        id: &str,
        name: &str,
        tz: FixedOffset,
        sort: SortSpec,
    ) -> bool {
        let mut changed = false;
        for row in &mut self.rows {
            if let Some(answer) = &mut row.answer
                && answer.detail.set_name(kind, id, name)
            {
                row.refresh_search_text(tz);
                changed = true;
            }
        }
        if changed
            && matches!(
                sort.column,
                SortColumn::PermissionSet | SortColumn::Account | SortColumn::Principal
            )
        {
            self.sorted_valid = false;
        }
        changed
    }

    /// Re-sorts (if needed) and re-filters, then finds the selection again by id.
    /// `only`, when given, keeps just those request ids (a failure group's requests).
    pub(crate) fn rebuild_view(
        &mut self,
        sort: SortSpec,
        status: StatusFilter,
        filter: &Filter,
        only: Option<&HashSet<Box<str>>>,
    ) {
        if !self.sorted_valid || self.sorted.len() != self.rows.len() {
            self.sort(sort);
        }
        let rows = &self.rows;
        let mut unknown = 0;
        self.view.clear();
        self.view.extend(self.sorted.iter().copied().filter(|&i| {
            let row = &rows[i as usize];
            if !status.admits(&row.status) || !only.is_none_or(|ids| ids.contains(&row.request_id))
            {
                return false;
            }
            match row.verdict(filter) {
                Verdict::Match => true,
                Verdict::NoMatch => false,
                Verdict::Unknown => {
                    unknown += 1;
                    false
                }
            }
        }));
        self.not_described = unknown;
        self.reselect();
    }

    pub(crate) fn invalidate_sort(&mut self) {
        self.sorted_valid = false;
    }

    /// Sorts all rows. Each row gets a compact key (a 16-byte prefix of the sort column, the
    /// creation time) so the sort compares integers in a contiguous vector; rows themselves are
    /// only touched to break a tie of the prefix. That keeps a re-sort of 100,000 rows within a
    /// few milliseconds.
    fn sort(&mut self, sort: SortSpec) {
        let rows = &self.rows;
        let mut keyed: Vec<(u128, i64, u32)> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let primary = match sort.column {
                    SortColumn::Created => row.created.timestamp_micros() as u128,
                    SortColumn::Status => status_rank(&row.status) as u128,
                    column => text_prefix(sort_text(row, column)),
                };
                let primary = if sort.descending {
                    u128::MAX - primary
                } else {
                    primary
                };
                // Ties fall back to newest first, then request id, so the order is total and
                // rows never jitter between rebuilds.
                (primary, -row.created.timestamp_micros(), i as u32)
            })
            .collect();
        let text_column = !matches!(sort.column, SortColumn::Created | SortColumn::Status);
        keyed.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| {
                    if text_column {
                        let (ra, rb) = (&rows[a.2 as usize], &rows[b.2 as usize]);
                        let ord = sort_text(ra, sort.column).cmp(sort_text(rb, sort.column));
                        if sort.descending { ord.reverse() } else { ord }
                    } else {
                        std::cmp::Ordering::Equal
                    }
                })
                .then(a.1.cmp(&b.1))
                .then_with(|| {
                    rows[a.2 as usize]
                        .request_id
                        .cmp(&rows[b.2 as usize].request_id)
                })
        });
        self.sorted.clear();
        self.sorted.extend(keyed.into_iter().map(|(_, _, i)| i));
        self.sorted_valid = true;
    }

    /// Finds the selected id in the new view; if it was filtered out, keep the same position.
    fn reselect(&mut self) {
        if self.view.is_empty() {
            self.selected_pos = 0;
            return;
        }
        let found = self
            .pinned
            .then_some(self.selected_id.as_deref())
            .flatten()
            .and_then(|id| self.index_by_id.get(id))
            .and_then(|&idx| self.view.iter().position(|&v| v == idx));
        match found {
            Some(pos) => self.selected_pos = pos,
            None => {
                // Not chosen yet, or filtered out: back to the top, like a fresh list.
                self.pinned = false;
                self.selected_pos = 0;
                self.offset = 0;
                self.sync_selected_id();
            }
        }
    }

    fn sync_selected_id(&mut self) {
        self.selected_id = self
            .view
            .get(self.selected_pos)
            .map(|&i| self.rows[i as usize].request_id.clone());
    }

    /// Whether the selection follows the newest (top) row as data arrives.
    pub fn following(&self) -> bool {
        !self.pinned
    }

    /// Follow the top row (the selection jumps there) or pin the selection where it is.
    pub(crate) fn set_following(&mut self, follow: bool) {
        if follow {
            self.select_pos(0);
            self.pinned = false;
        } else {
            self.pinned = !self.view.is_empty();
        }
    }

    /// Moves the selection to a view position (clamped). The top row unpins the selection so
    /// it follows new rows again; any other row pins it to that request.
    pub(crate) fn select_pos(&mut self, pos: usize) {
        if self.view.is_empty() {
            self.selected_pos = 0;
            self.selected_id = None;
            return;
        }
        self.selected_pos = pos.min(self.view.len() - 1);
        self.pinned = self.selected_pos != 0;
        self.sync_selected_id();
    }

    /// Keeps the selection inside the visible window of `visible_rows` rows.
    pub(crate) fn scroll_into_view(&mut self, visible_rows: usize) {
        let visible_rows = visible_rows.max(1);
        let max_offset = self.view.len().saturating_sub(visible_rows);
        if self.selected_pos < self.offset {
            self.offset = self.selected_pos;
        } else if self.selected_pos >= self.offset + visible_rows {
            self.offset = self.selected_pos + 1 - visible_rows;
        }
        self.offset = self.offset.min(max_offset);
    }

    /// Ids of rows in the window that still lack what a describe tells, for background
    /// enrichment: in-flight rows never described (their target, permission set and principal
    /// never change, so one answer names them for good; the planner describes them once more
    /// when they finish, for the final status and a FAILED one's reason), and finished rows
    /// without their final answer.
    pub fn undescribed_in_window(&self, visible_rows: usize) -> Vec<(OperationKind, String)> {
        (self.offset..(self.offset + visible_rows).min(self.view.len()))
            .filter_map(|p| self.view_row(p))
            .filter(|r| r.needs_describe())
            .map(|r| (r.kind, r.request_id.to_string()))
            .collect()
    }
}

/// The text a text column sorts by (what the table shows).
fn sort_text(row: &RequestRow, column: SortColumn) -> &str {
    match column {
        SortColumn::RequestId => &row.request_id,
        SortColumn::Account => row.account().unwrap_or(""),
        SortColumn::PermissionSet => row.permission_set().map_or("", short_permission_set),
        SortColumn::Principal => row.principal_name().unwrap_or(""),
        SortColumn::Created | SortColumn::Status => "",
    }
}

/// The first 16 bytes of `text` as a big-endian integer: orders like the text itself, except
/// that texts sharing those 16 bytes tie (and are then compared in full).
fn text_prefix(text: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let n = text.len().min(16);
    bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

fn status_rank(status: &Status) -> u8 {
    match status {
        Status::Failed => 0,
        Status::InProgress => 1,
        Status::Unknown(_) => 2,
        Status::Succeeded => 3,
    }
}
