//! What the hand-off keys (`x` writes, `X` copies) act on: the selected failure group in the
//! `F` view, the FAILED rows of the filtered view otherwise. The formats are
//! [`crate::handoff`]'s; the host writes the files ([`crate::output::export_handoff`]).

use crate::failures::Cause;
use crate::handoff::{Cloud, FailedDetail};
use crate::model::Status;

use super::state::AppState;
use super::table::RequestRow;

/// The requests a hand-off covers, and where they live.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Names the files: the group's cause label, or `view`.
    pub label: String,
    pub cloud: Cloud,
    pub instance: String,
    pub requests: Vec<FailedDetail>,
}

fn failed_detail(row: &RequestRow) -> Option<FailedDetail> {
    let reason = row.failure_reason()?;
    let detail = row.answer.as_ref()?.detail.clone();
    Some(FailedDetail {
        kind: row.kind,
        request_id: row.request_id.to_string(),
        cause: Cause::of(reason),
        detail,
    })
}

/// What the hand-off keys act on now, or why there is nothing to hand off.
pub fn selection(state: &AppState) -> Result<Selection, String> {
    let instance = state
        .data
        .connection
        .instance
        .as_ref()
        .map(|i| i.id.clone())
        .ok_or("no instance yet: nothing to hand off")?;
    let cloud = if state.data.connection.provider.name == "huawei" {
        Cloud::Huawei
    } else {
        Cloud::Aws
    };
    let (label, requests) = match state.view.mode.groups() {
        Some(view) => {
            let group = view
                .groups
                .get(view.selected)
                .ok_or("no failure group to hand off")?;
            if group.is_pending() {
                return Err(
                    "these reasons are not read yet: hand off a group of a known cause".into(),
                );
            }
            let requests = group
                .requests
                .iter()
                .filter_map(|(kind, id)| state.table(*kind).row_by_id(id))
                .filter_map(failed_detail)
                .collect();
            (group.cause.label().to_string(), requests)
        }
        None => {
            let table = state.active_table();
            let requests: Vec<FailedDetail> = (0..table.view_len())
                .filter_map(|p| table.view_row(p))
                .filter(|r| r.status == Status::Failed)
                .filter_map(failed_detail)
                .collect();
            ("view".to_string(), requests)
        }
    };
    if requests.is_empty() {
        return Err("no FAILED request with a reason read here: nothing to hand off".into());
    }
    Ok(Selection {
        label,
        cloud,
        instance,
        requests,
    })
}
