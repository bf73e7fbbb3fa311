//! Reading failure reasons while the `F` view is open: which FAILED requests to describe, in
//! which order, so that every major cause is on screen within a minute (estimated first, exact
//! later) instead of after an hour of describes. The order is [`crate::estimate::read_order`];
//! this module keeps the sample's bookkeeping and decides when the plan is handed to the
//! poller again.

use crate::estimate::{self, Candidate, SampleSet, Stage};
use crate::model::{OperationKind, Status};
use crate::poller::{DescribeRequest, Priority};

use super::state::AppState;

/// How many describes one plan hands the poller: enough for minutes at any budget, small
/// enough that a new plan costs nothing.
const PLAN_LEN: usize = 300;
/// A plan is made anew when this many of its describes have been answered: the sample's
/// picks come [`estimate::SAMPLE_BATCH`] at a time.
const REPLAN_AFTER: usize = estimate::SAMPLE_BATCH / 2;

/// The `F` view's reading of reasons.
#[derive(Debug, Clone, Default)]
pub struct ReasonReading {
    /// Requests picked for the random sample (read or not yet).
    pub sample: SampleSet,
    /// FAILED requests and unread ones when the plan was last made: a new FAILED, or enough
    /// answers, makes a new plan.
    planned_at: Option<(usize, usize)>,
    /// Whether the view was reading every reason at a chosen rate after the last update: if
    /// the view has closed since, the budget goes back to the configured one.
    pub(crate) reading_all: bool,
}

impl ReasonReading {
    /// Whether a request was picked for the random sample.
    pub fn in_sample(&self, kind: OperationKind, request_id: &str) -> bool {
        self.sample.contains(kind, request_id)
    }
}

/// Every FAILED request known, with whether its reason is still to be read (a describe that
/// was given up counts as read for the plan: Enter on its row asks again) and whether the
/// sample picked it.
fn candidates(state: &AppState) -> Vec<Candidate<'_>> {
    OperationKind::ALL
        .iter()
        .flat_map(|&k| state.table(k).rows())
        .filter(|r| r.status == Status::Failed)
        .map(|r| Candidate {
            kind: r.kind,
            request_id: &r.request_id,
            created: r.created,
            picked: state.data.reasons.sample.contains(r.kind, &r.request_id),
            unread: !r.has_final_detail()
                && !state
                    .data
                    .describe_errors
                    .contains_key(&(r.kind, r.request_id.clone())),
        })
        .collect()
}

/// The plan to hand the poller now, if a new one is due: the sample's picks still unread
/// first, then a few new picks (up to [`estimate::SAMPLE_SIZE`] in all), then one per burst
/// and the rest, newest first. `force` makes one whatever changed (the view just opened). A
/// new plan is made when a FAILED request appears or a few answers have come, so the sample
/// follows the FAILED listing as it grows.
pub fn plan(state: &mut AppState, force: bool) -> Option<Vec<DescribeRequest>> {
    let all = candidates(state);
    let failed = all.len();
    let unread = all.iter().filter(|c| c.unread).count();
    if !force
        && state
            .data
            .reasons
            .planned_at
            .is_some_and(|(was_failed, was_unread)| {
                was_failed == failed && was_unread.saturating_sub(unread) < REPLAN_AFTER
            })
    {
        return None;
    }
    let new_picks = estimate::SAMPLE_BATCH
        .min(estimate::SAMPLE_SIZE.saturating_sub(state.data.reasons.sample.len()));
    let mut plan = Vec::with_capacity(PLAN_LEN.min(unread));
    let mut newly_picked = Vec::new();
    for (i, stage) in estimate::read_order(&all, new_picks)
        .into_iter()
        .take(PLAN_LEN)
    {
        let c = all[i];
        if stage == Stage::Sample && !c.picked {
            newly_picked.push((c.kind, c.request_id.to_string()));
        }
        plan.push(DescribeRequest {
            kind: c.kind,
            request_id: c.request_id.to_string(),
            priority: Priority::Failures,
        });
    }
    for (kind, id) in &newly_picked {
        state.data.reasons.sample.insert(*kind, id);
    }
    state.data.reasons.planned_at = Some((failed, unread));
    Some(plan)
}

/// The view closed: reasons go back to their usual priority. The sample stays, so a view
/// opened again goes on where it stopped.
pub fn stop(state: &mut AppState) {
    state.data.reasons.planned_at = None;
}
