//! The poll planner: decides which call to make next. Pure and clock-agnostic (`now` is a
//! duration since the poller started), so the benchmark can drive it in simulated time and
//! tests can drive it without a network.
//!
//! Strategy (see docs/polling.md):
//! - **Fast lane** (every refresh interval, per kind): list with `Filter.Status = IN_PROGRESS`.
//!   A handful of pages at most, even when the history holds 100,000 records. A request that
//!   was in progress and is missing from the new list has finished: describe it, once, which
//!   yields its final status and failure reason together.
//! - **Full lane** (at start, then rarely): list everything, to catch requests that started and
//!   finished between two fast polls, and to load the history.
//! - Describes of finished requests happen at most once per process (and, with the disk cache,
//!   at most once ever).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use crate::app::PollEvent;
use crate::model::{Described, OperationKind, Page, Status, StatusSummary};

/// Call priorities, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// The describe the operator just asked for.
    Interactive = 0,
    /// Requests in flight: the fast lane and describes of requests that just finished.
    Tracking = 1,
    /// Catching new and changed records: the first full load.
    Catching = 2,
    /// Full re-lists and enrichment.
    Background = 3,
}

const PRIORITIES: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    Fast,
    Full,
}

/// One provider call the planner wants made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    List {
        kind: OperationKind,
        lane: Lane,
        token: Option<String>,
    },
    Describe {
        kind: OperationKind,
        request_id: String,
        priority: Priority,
    },
    /// The friendly name of a permission set (DescribePermissionSet): a few dozen calls per
    /// instance at most, so names replace ARNs on screen.
    PermissionSetName { permission_set: String },
}

impl Call {
    /// The status filter a list call uses.
    pub fn status_filter(&self) -> Option<Status> {
        match self {
            Call::List {
                lane: Lane::Fast, ..
            } => Some(Status::InProgress),
            _ => None,
        }
    }
}

/// How to poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Fast lane + rare full lane + describe-once (the default).
    Budgeted,
    /// List every kind fully each interval: what a simple dashboard does. Kept for the
    /// benchmark's comparison.
    Naive,
}

#[derive(Debug, Clone, Copy)]
pub struct PlannerConfig {
    pub refresh: Duration,
    pub full_relist_every: Duration,
    pub strategy: Strategy,
}

impl PlannerConfig {
    pub fn new(refresh: Duration) -> PlannerConfig {
        PlannerConfig {
            refresh,
            full_relist_every: Duration::from_secs(30 * 60),
            strategy: Strategy::Budgeted,
        }
    }
}

#[derive(Debug, Default)]
struct LaneRun {
    started: Duration,
    seen: HashSet<Box<str>>,
    pages: u32,
    records: u64,
}

#[derive(Debug, Default)]
struct KindPlan {
    status: HashMap<Box<str>, Status>,
    /// Requests we believe in progress; they are tracked until a describe says they finished.
    in_progress: HashSet<Box<str>>,
    fast_due: Duration,
    fast_run: Option<LaneRun>,
    full_due: Duration,
    full_run: Option<LaneRun>,
    full_done_once: bool,
}

type DescribeKey = (OperationKind, Box<str>);

#[derive(Debug)]
pub struct Planner {
    config: PlannerConfig,
    kinds: [KindPlan; 3],
    queues: [VecDeque<Call>; PRIORITIES],
    /// Finished requests whose final answer we have: never described again.
    described_final: HashSet<DescribeKey>,
    /// Describes queued or in flight, with the priority they were queued at.
    describing: HashMap<DescribeKey, Priority>,
    /// Permission sets whose name was asked for (each once per process).
    names_requested: HashSet<String>,
}

impl Planner {
    pub fn new(config: PlannerConfig) -> Planner {
        Planner {
            config,
            kinds: Default::default(),
            queues: Default::default(),
            described_final: HashSet::new(),
            describing: HashMap::new(),
            names_requested: HashSet::new(),
        }
    }

    /// Records loaded from the disk cache: known, finished and described.
    pub fn seed_from_cache(&mut self, described: &[Described]) {
        for d in described {
            self.request_name(d.detail.permission_set.as_deref());
            let id: Box<str> = Box::from(d.summary.request_id.as_str());
            let plan = &mut self.kinds[d.summary.kind.index()];
            plan.status.insert(id.clone(), d.summary.status.clone());
            if d.summary.status.is_finished() {
                self.described_final.insert((d.summary.kind, id));
            }
        }
    }

    pub fn is_described(&self, kind: OperationKind, request_id: &str) -> bool {
        self.described_final
            .contains(&(kind, Box::from(request_id)))
    }

    /// Starts the lanes that are due.
    pub fn schedule(&mut self, now: Duration) {
        for kind in OperationKind::ALL {
            let naive = self.config.strategy == Strategy::Naive;
            let plan = &mut self.kinds[kind.index()];
            if !naive && plan.fast_run.is_none() && plan.fast_due <= now {
                plan.fast_run = Some(LaneRun {
                    started: now,
                    ..LaneRun::default()
                });
                self.queues[Priority::Tracking as usize].push_back(Call::List {
                    kind,
                    lane: Lane::Fast,
                    token: None,
                });
            }
            if plan.full_run.is_none() && plan.full_due <= now {
                plan.full_run = Some(LaneRun {
                    started: now,
                    ..LaneRun::default()
                });
                let priority = if plan.full_done_once && !naive {
                    Priority::Background
                } else {
                    Priority::Catching
                };
                self.queues[priority as usize].push_back(Call::List {
                    kind,
                    lane: Lane::Full,
                    token: None,
                });
            }
        }
    }

    /// Starts every lane now (the `r` key).
    pub fn refresh_now(&mut self, now: Duration) {
        for plan in &mut self.kinds {
            plan.fast_due = plan.fast_due.min(now);
            if self.config.strategy == Strategy::Naive {
                plan.full_due = plan.full_due.min(now);
            }
        }
        self.schedule(now);
    }

    /// When the next lane becomes due, if none is running.
    pub fn next_due(&self) -> Option<Duration> {
        let naive = self.config.strategy == Strategy::Naive;
        self.kinds
            .iter()
            .flat_map(|p| {
                let fast = (!naive && p.fast_run.is_none()).then_some(p.fast_due);
                let full = p.full_run.is_none().then_some(p.full_due);
                [fast, full]
            })
            .flatten()
            .min()
    }

    pub fn has_work(&self) -> bool {
        self.queues.iter().any(|q| !q.is_empty())
    }

    /// The most urgent call, if any.
    pub fn next_call(&mut self) -> Option<Call> {
        for queue in &mut self.queues {
            while let Some(call) = queue.pop_front() {
                if let Call::Describe {
                    kind, request_id, ..
                } = &call
                {
                    // Already answered while it waited.
                    if self
                        .described_final
                        .contains(&(*kind, Box::from(request_id.as_str())))
                    {
                        self.describing
                            .remove(&(*kind, Box::from(request_id.as_str())));
                        continue;
                    }
                }
                return Some(call);
            }
        }
        None
    }

    /// Asks for a describe. Returns false when it is not needed (final answer known) or
    /// already queued at this priority or a more urgent one.
    pub fn request_describe(
        &mut self,
        kind: OperationKind,
        request_id: &str,
        priority: Priority,
    ) -> bool {
        let key: DescribeKey = (kind, Box::from(request_id));
        if self.described_final.contains(&key) {
            return false;
        }
        if let Some(&queued) = self.describing.get(&key)
            && queued <= priority
        {
            return false;
        }
        self.describing.insert(key, priority);
        self.queues[priority as usize].push_back(Call::Describe {
            kind,
            request_id: request_id.to_string(),
            priority,
        });
        true
    }

    /// A list page arrived. Returns what the app should learn from it.
    pub fn on_list_page(
        &mut self,
        kind: OperationKind,
        lane: Lane,
        page: Page,
        now: Duration,
    ) -> Vec<PollEvent> {
        let mut events = Vec::new();
        let mut changed: Vec<StatusSummary> = Vec::new();
        let mut finished_while_tracked: Vec<Box<str>> = Vec::new();
        let plan = &mut self.kinds[kind.index()];
        let first_load = lane == Lane::Full && !plan.full_done_once;
        let Some(run) = (match lane {
            Lane::Fast => plan.fast_run.as_mut(),
            Lane::Full => plan.full_run.as_mut(),
        }) else {
            return events;
        };
        run.pages += 1;
        run.records += page.items.len() as u64;
        for item in page.items {
            let id: Box<str> = Box::from(item.request_id.as_str());
            run.seen.insert(id.clone());
            let previous = plan.status.get(&id);
            if previous == Some(&item.status) {
                continue;
            }
            if item.status == Status::InProgress || matches!(item.status, Status::Unknown(_)) {
                plan.in_progress.insert(id.clone());
            } else if plan.in_progress.remove(&id) {
                finished_while_tracked.push(id.clone());
            }
            plan.status.insert(id, item.status.clone());
            changed.push(item);
        }
        let (pages, records) = (run.pages, run.records);
        if !changed.is_empty() {
            events.push(PollEvent::Records {
                kind,
                items: changed,
            });
        }
        let complete = page.next_token.as_deref().is_none_or(str::is_empty);
        if first_load {
            events.push(PollEvent::LoadProgress {
                kind,
                pages,
                records,
                done: complete,
            });
        }
        if complete {
            self.finish_lane(kind, lane, now);
        } else {
            let priority = self.lane_priority(kind, lane);
            self.queues[priority as usize].push_front(Call::List {
                kind,
                lane,
                token: page.next_token,
            });
        }
        for id in finished_while_tracked {
            self.request_describe(kind, &id, Priority::Tracking);
        }
        events
    }

    fn lane_priority(&self, kind: OperationKind, lane: Lane) -> Priority {
        match lane {
            Lane::Fast => Priority::Tracking,
            Lane::Full
                if self.kinds[kind.index()].full_done_once
                    && self.config.strategy == Strategy::Budgeted =>
            {
                Priority::Background
            }
            Lane::Full => Priority::Catching,
        }
    }

    fn finish_lane(&mut self, kind: OperationKind, lane: Lane, now: Duration) {
        let refresh = self.config.refresh;
        let naive = self.config.strategy == Strategy::Naive;
        let full_every = self.config.full_relist_every;
        let plan = &mut self.kinds[kind.index()];
        match lane {
            Lane::Fast => {
                let Some(run) = plan.fast_run.take() else {
                    return;
                };
                plan.fast_due = (run.started + refresh).max(now);
                // In progress before, absent from the in-progress list now: finished.
                let vanished: Vec<Box<str>> = plan
                    .in_progress
                    .iter()
                    .filter(|id| !run.seen.contains(*id))
                    .cloned()
                    .collect();
                for id in vanished {
                    self.request_describe(kind, &id, Priority::Tracking);
                }
            }
            Lane::Full => {
                let Some(run) = plan.full_run.take() else {
                    return;
                };
                plan.full_done_once = true;
                let every = if naive { refresh } else { full_every };
                plan.full_due = (run.started + every).max(now);
            }
        }
    }

    /// A list call failed. Retryable failures repeat the same page (the limiter's backoff
    /// spaces the retry); others abandon the run until the lane is next due.
    pub fn on_list_error(
        &mut self,
        kind: OperationKind,
        lane: Lane,
        token: Option<String>,
        retryable: bool,
        now: Duration,
    ) {
        if retryable {
            let priority = self.lane_priority(kind, lane);
            self.queues[priority as usize].push_front(Call::List { kind, lane, token });
            return;
        }
        let refresh = self.config.refresh;
        let plan = &mut self.kinds[kind.index()];
        match lane {
            Lane::Fast => {
                plan.fast_run = None;
                plan.fast_due = now + refresh;
            }
            Lane::Full => {
                plan.full_run = None;
                plan.full_due = now + refresh;
            }
        }
    }

    /// Asks for a permission set's name once, as background work.
    fn request_name(&mut self, permission_set: Option<&str>) {
        if let Some(ps) = permission_set
            && self.names_requested.insert(ps.to_string())
        {
            self.queues[Priority::Background as usize].push_back(Call::PermissionSetName {
                permission_set: ps.to_string(),
            });
        }
    }

    /// A describe answered.
    pub fn on_described(&mut self, described: Described) -> Vec<PollEvent> {
        self.request_name(described.detail.permission_set.as_deref());
        let kind = described.summary.kind;
        let id: Box<str> = Box::from(described.summary.request_id.as_str());
        let plan = &mut self.kinds[kind.index()];
        self.describing.remove(&(kind, id.clone()));
        if described.summary.status.is_finished() {
            plan.in_progress.remove(&id);
            self.described_final.insert((kind, id.clone()));
        } else {
            plan.in_progress.insert(id.clone());
        }
        plan.status.insert(id, described.summary.status.clone());
        vec![PollEvent::Described(Box::new(described))]
    }

    /// A describe failed. Retryable ones are queued again at their priority.
    pub fn on_describe_error(
        &mut self,
        kind: OperationKind,
        request_id: &str,
        priority: Priority,
        retryable: bool,
    ) {
        let key: DescribeKey = (kind, Box::from(request_id));
        if retryable {
            self.queues[priority as usize].push_back(Call::Describe {
                kind,
                request_id: request_id.to_string(),
                priority,
            });
        } else {
            self.describing.remove(&key);
            // A request that cannot be described (gone, or not ours) is not tracked further.
            self.kinds[kind.index()].in_progress.remove(request_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn summary(kind: OperationKind, id: &str, status: Status) -> StatusSummary {
        StatusSummary {
            kind,
            request_id: id.to_string(),
            status,
            created: Utc
                .timestamp_opt(1_700_000_000, 0)
                .single()
                .unwrap_or_default(),
        }
    }

    fn page(items: Vec<StatusSummary>, next: Option<&str>) -> Page {
        Page {
            items,
            next_token: next.map(str::to_string),
        }
    }

    fn drain(planner: &mut Planner) -> Vec<Call> {
        std::iter::from_fn(|| planner.next_call()).collect()
    }

    const K: OperationKind = OperationKind::AssignmentCreation;

    #[test]
    fn first_round_starts_fast_lanes_before_the_full_load() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        let calls = drain(&mut p);
        assert_eq!(calls.len(), 6);
        assert!(calls[..3].iter().all(|c| matches!(
            c,
            Call::List {
                lane: Lane::Fast,
                ..
            }
        )));
        assert!(calls[3..].iter().all(|c| matches!(
            c,
            Call::List {
                lane: Lane::Full,
                ..
            }
        )));
    }

    #[test]
    fn a_request_leaving_in_progress_is_described_once() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        drain(&mut p);
        let a = "aaaaaaaa-0000-0000-0000-000000000001";
        p.on_list_page(
            K,
            Lane::Fast,
            page(vec![summary(K, a, Status::InProgress)], None),
            Duration::ZERO,
        );
        // Next fast round: it is gone from the in-progress list.
        p.schedule(Duration::from_secs(10));
        let calls = drain(&mut p);
        assert!(calls.iter().any(|c| matches!(
            c,
            Call::List {
                kind: K,
                lane: Lane::Fast,
                ..
            }
        )));
        p.on_list_page(K, Lane::Fast, page(vec![], None), Duration::from_secs(10));
        let calls = drain(&mut p);
        assert_eq!(
            calls,
            vec![Call::Describe {
                kind: K,
                request_id: a.to_string(),
                priority: Priority::Tracking
            }]
        );
        // Before the answer, another round must not ask again.
        p.schedule(Duration::from_secs(20));
        drain(&mut p);
        p.on_list_page(K, Lane::Fast, page(vec![], None), Duration::from_secs(20));
        assert!(drain(&mut p).is_empty());
        // Once described as finished, never again, whoever asks.
        p.on_described(Described {
            summary: summary(K, a, Status::Failed),
            detail: Default::default(),
            source_call: "DescribeAccountAssignmentCreationStatus".into(),
            described_at: Utc::now(),
        });
        assert!(!p.request_describe(K, a, Priority::Interactive));
        assert!(p.is_described(K, a));
    }

    #[test]
    fn pages_continue_at_the_front_of_their_priority() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        let _fast = drain(&mut p);
        let events = p.on_list_page(
            K,
            Lane::Full,
            page(vec![summary(K, "x", Status::Succeeded)], Some("t1")),
            Duration::ZERO,
        );
        assert!(events.iter().any(|e| matches!(
            e,
            PollEvent::LoadProgress {
                pages: 1,
                done: false,
                ..
            }
        )));
        assert_eq!(
            p.next_call(),
            Some(Call::List {
                kind: K,
                lane: Lane::Full,
                token: Some("t1".into())
            })
        );
    }

    #[test]
    fn each_permission_set_name_is_asked_once_in_the_background() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        let ps = "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-0123456789abcdef";
        for id in ["a", "b"] {
            let detail = crate::model::RequestDetail {
                permission_set: Some(ps.to_string()),
                ..Default::default()
            };
            p.on_described(Described {
                summary: summary(K, id, Status::Succeeded),
                detail,
                source_call: "x".into(),
                described_at: Utc::now(),
            });
        }
        assert_eq!(
            drain(&mut p),
            vec![Call::PermissionSetName {
                permission_set: ps.to_string()
            }]
        );
    }

    #[test]
    fn interactive_describes_jump_the_queue() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        assert!(p.request_describe(K, "id-1", Priority::Interactive));
        assert!(matches!(
            p.next_call(),
            Some(Call::Describe {
                priority: Priority::Interactive,
                ..
            })
        ));
    }

    #[test]
    fn naive_strategy_relists_everything_every_interval() {
        let mut config = PlannerConfig::new(Duration::from_secs(10));
        config.strategy = Strategy::Naive;
        let mut p = Planner::new(config);
        p.schedule(Duration::ZERO);
        let calls = drain(&mut p);
        assert_eq!(calls.len(), 3);
        for kind in OperationKind::ALL {
            p.on_list_page(kind, Lane::Full, page(vec![], None), Duration::from_secs(1));
        }
        assert_eq!(p.next_due(), Some(Duration::from_secs(10)));
    }
}
