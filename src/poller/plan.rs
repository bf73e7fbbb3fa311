//! The poll planner: decides which call to make next. Pure and clock-agnostic (`now` is a
//! duration since the poller started), so the runtime drives it in real time and the benchmark
//! and tests in simulated time, through the same code.
//!
//! Strategy (see docs/polling.md):
//! - **Fast lane** (every refresh interval, per kind): list with `Filter.Status = IN_PROGRESS`.
//!   A request that was in progress and is missing from the new list has finished: describe it,
//!   once, which yields its final status and failure reason together.
//! - **Failed lane** (once, at start): list with `Filter.Status = FAILED`, so every FAILED record
//!   is on screen before the history loads, then describe the newest few so their reasons come
//!   early. The service promises no order, so "newest" is known only when the lane is complete.
//! - **Full lane** (at start after the two above, then rarely): list everything, to load the
//!   history and to catch requests that started and finished between two fast polls.
//! - Describes of finished requests happen at most once per process (and, with the disk cache,
//!   at most once ever). The planner is the one owner of "already asked".
//! - Nothing is retried forever: a call that keeps failing is given up after
//!   [`MAX_ATTEMPTS`], and its lane waits for its next turn.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::event::Event;
use crate::model::{Described, NameKind, OperationKind, Page, Status, StatusSummary};
use crate::provider::{ErrorKind, ListingGuard, ProviderError};

/// Call priorities, most urgent first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Priority {
    /// The describe the operator just asked for.
    Interactive = 0,
    /// Requests in flight: the fast lane, the FAILED listing at start, and describes of
    /// requests that just finished.
    Tracking = 1,
    /// What is failing: the reasons of the newest failures, and permission-set names.
    Failures = 2,
    /// What the operator is looking at: rows on screen. Shares the budget 1:1 with
    /// [`Priority::History`] while both have work, so neither starves the other: during a first
    /// load every page can bring new rows to the top of the screen.
    OnScreen = 3,
    /// The first load of the history.
    History = 4,
    /// Periodic full re-lists.
    Background = 5,
}

const PRIORITIES: usize = 6;

/// How often one call is tried before it is given up (and reported).
pub const MAX_ATTEMPTS: u32 = 4;
/// After access was denied, the lane waits this long before it asks again: retrying a denied
/// call at the refresh rate helps nobody.
const DENIED_RETRY: Duration = Duration::from_secs(300);
/// Failures calls in a row after which the rows on screen and the history get the next slot.
const STREAK: u32 = 3;
/// How long tracking may hold every slot while other work waits.
const AGING: Duration = Duration::from_secs(10);
/// Pages in a row without a new record after which the tab says the listing is not
/// progressing (it stops at [`crate::provider::STALLED_PAGES`]).
const STALLED_TOLD: u32 = 2;
/// How long a page of the history's first load may wait while other work takes every call.
/// At the default budget the history gets far more than this by its share; the bound matters
/// when throttling cuts the rate below what tracking a rollout needs.
const HISTORY_AGING: Duration = Duration::from_secs(30);
/// While the `F` view is open, reasons of its plan taken per page of the FAILED listing: at
/// the default 0.9 req/s the first minute then reads about 20 reasons, stratified over every
/// kind, next to a third of the listing, instead of 10 reasons next to half of it: the sample's
/// error, not the listing, is what keeps a cause's share from being on screen within a minute.
const REASONS_PER_PAGE: u32 = 2;

/// One describe, from the keypress (or the planner's own tracking) to the call. The one type for
/// "describe this request", whoever asks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct DescribeRequest {
    pub kind: OperationKind,
    pub request_id: String,
    pub priority: Priority,
}

/// The three list lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Lane {
    /// `Filter.Status = IN_PROGRESS`, every refresh interval.
    Fast,
    /// `Filter.Status = FAILED`, once at start.
    Failed,
    /// No filter: the history, at start and then rarely.
    Full,
}

impl Lane {
    const ALL: [Lane; 3] = [Lane::Fast, Lane::Failed, Lane::Full];

    fn index(self) -> usize {
        match self {
            Lane::Fast => 0,
            Lane::Failed => 1,
            Lane::Full => 2,
        }
    }

    /// The status filter a list call of this lane uses.
    pub fn status_filter(self) -> Option<Status> {
        match self {
            Lane::Fast => Some(Status::InProgress),
            Lane::Failed => Some(Status::Failed),
            Lane::Full => None,
        }
    }
}

/// One provider call the planner wants made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    List {
        kind: OperationKind,
        lane: Lane,
        token: Option<String>,
    },
    Describe(DescribeRequest),
    /// The friendly name of a permission set (DescribePermissionSet): a few dozen calls per
    /// instance at most, so names replace ARNs on screen.
    PermissionSetName {
        permission_set: String,
    },
    /// A user's or group's name (Identity Store DescribeUser/DescribeGroup), on the Identity
    /// Store's own limiter (see [`super::names`]).
    PrincipalName {
        kind: NameKind,
        identity_store: String,
        principal: String,
    },
    /// One page of the organization's accounts (Organizations ListAccounts).
    ListAccounts {
        token: Option<String>,
    },
    /// One account's name (Organizations DescribeAccount), where listing is not allowed.
    AccountName {
        account: String,
    },
    /// ListInstances, to learn the identity store of an instance given by id.
    FindIdentityStore,
}

impl Call {
    /// The API operation this call makes, named as the AWS API names it (Huawei's calls map one
    /// to one). Used for logs and metrics labels: a bounded set.
    pub fn operation(&self) -> &'static str {
        match self {
            Call::List { kind, .. } => kind.list_operation(),
            Call::Describe(request) => request.kind.describe_operation(),
            Call::PermissionSetName { .. } => "DescribePermissionSet",
            Call::PrincipalName { kind, .. } => kind.operation(),
            Call::ListAccounts { .. } => "ListAccounts",
            Call::AccountName { .. } => "DescribeAccount",
            Call::FindIdentityStore => "ListInstances",
        }
    }

    /// Whether this call fetches a name on a service of its own (not Identity Center).
    pub fn is_name_service_call(&self) -> bool {
        matches!(
            self,
            Call::PrincipalName { .. } | Call::ListAccounts { .. } | Call::AccountName { .. }
        )
    }
}

/// How to poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Fast lane + FAILED first + rare full lane + describe-once (the default).
    Budgeted,
    /// List every kind fully each interval: what a simple dashboard does. Kept as the
    /// benchmark's baseline.
    Naive,
}

#[derive(Debug, Clone, Copy)]
pub struct PlannerConfig {
    pub refresh: Duration,
    pub full_relist_every: Duration,
    pub strategy: Strategy,
    /// How many of the newest FAILED requests of each kind are described right after the
    /// FAILED listing, ahead of the history.
    pub describe_newest_failed: usize,
}

impl PlannerConfig {
    pub fn new(refresh: Duration) -> PlannerConfig {
        PlannerConfig {
            refresh,
            full_relist_every: Duration::from_secs(30 * 60),
            strategy: Strategy::Budgeted,
            describe_newest_failed: 10,
        }
    }
}

#[derive(Debug, Default)]
struct LaneRun {
    started: Duration,
    seen: HashSet<Box<str>>,
    /// Loops, pages without progress and the time limit (on the run's own clock).
    guard: ListingGuard,
    pages: u32,
    records: u64,
    /// Consecutive failures of the current page.
    failures: u32,
    /// A refresh was asked for after this run's first page went out: what it lists may be
    /// older than the ask, so the lane runs again as soon as this run ends.
    asked_again: bool,
}

#[derive(Debug)]
struct KindPlan {
    status: HashMap<Box<str>, Status>,
    /// Requests we believe in progress; they are tracked until a describe says they finished.
    in_progress: HashSet<Box<str>>,
    runs: [Option<LaneRun>; 3],
    due: [Duration; 3],
    /// Whether each lane has completed once (the first load of the FAILED list and history).
    done_once: [bool; 3],
    /// FAILED requests seen by the failed lane, to describe the newest first.
    failed_seen: Vec<(DateTime<Utc>, Box<str>)>,
}

impl Default for KindPlan {
    fn default() -> Self {
        KindPlan {
            status: HashMap::new(),
            in_progress: HashSet::new(),
            runs: [None, None, None],
            due: [Duration::ZERO; 3],
            done_once: [false; 3],
            failed_seen: Vec::new(),
        }
    }
}

type DescribeKey = (OperationKind, Box<str>);

fn key_of(kind: OperationKind, request_id: &str) -> DescribeKey {
    (kind, Box::from(request_id))
}

#[derive(Debug)]
pub struct Planner {
    config: PlannerConfig,
    kinds: [KindPlan; 3],
    queues: [VecDeque<Call>; PRIORITIES],
    /// Finished requests whose final answer we have: never described again.
    described_final: HashSet<DescribeKey>,
    /// Describes queued, with the priority of the entry that counts (a request asked again more
    /// urgently is queued again, and the older entry is skipped).
    queued: HashMap<DescribeKey, Priority>,
    /// Describes on the wire: asking again before they answer is pointless.
    on_the_wire: HashSet<DescribeKey>,
    /// Requests that left `IN_PROGRESS` and wait for their final describe: they go ahead of
    /// the tracking describes of requests still in flight.
    finishing: HashSet<DescribeKey>,
    /// Failed attempts per describe, so a describe that keeps failing is given up.
    describe_failures: HashMap<DescribeKey, u32>,
    names_requested: HashSet<String>,
    name_failures: HashMap<String, u32>,
    /// Whether the last call taken from the OnScreen/History pair was an OnScreen one.
    last_was_on_screen: bool,
    /// The priority of the last calls taken in a row while less urgent work waited, and how
    /// many (up to [`STREAK`]).
    streak: (usize, u32),
    /// The time of the last [`Planner::schedule`], and when work below tracking last got a
    /// call (or had none waiting).
    clock: Duration,
    last_below_tracking: Duration,
    /// When the first load of the history last got a call (or had none waiting).
    last_history: Duration,
    /// The failure reasons the `F` view wants read, in its order (see `crate::estimate`).
    reason_plan: HashSet<DescribeKey>,
    /// Whether the `F` view is open: reasons come before history paging, alternate with the
    /// pages of the FAILED listing instead of waiting for all of them, and the FAILED listing
    /// goes kind by kind in turn, so every kind's failures are in the sample early.
    reasons_first: bool,
    /// Reasons of the `F` view's plan taken since the last page of the FAILED listing.
    reasons_since_page: u32,
    /// Whether someone waits for a refresh they asked for (the `r` key, a hub client's
    /// arrival): until its fast lane and the describes of what it found finished are done, that
    /// work is paced as urgent whatever else waits (see [`Planner::pacing`]).
    refresh_asked: bool,
}

/// Where the tracking queue's in-flight describes start: the first describe of a request not
/// found finished (or the end). What goes ahead of those rows' names goes there.
fn past_finishing<'a>(
    mut tracking: impl ExactSizeIterator<Item = &'a Call>,
    finishing: &HashSet<DescribeKey>,
) -> usize {
    let len = tracking.len();
    tracking
        .position(|call| {
            matches!(call, Call::Describe(r) if !finishing.contains(&key_of(r.kind, &r.request_id)))
        })
        .unwrap_or(len)
}

impl Planner {
    pub fn new(config: PlannerConfig) -> Planner {
        let mut planner = Planner {
            config,
            kinds: Default::default(),
            queues: Default::default(),
            described_final: HashSet::new(),
            queued: HashMap::new(),
            on_the_wire: HashSet::new(),
            finishing: HashSet::new(),
            describe_failures: HashMap::new(),
            names_requested: HashSet::new(),
            name_failures: HashMap::new(),
            last_was_on_screen: false,
            streak: (0, 0),
            clock: Duration::ZERO,
            last_below_tracking: Duration::ZERO,
            last_history: Duration::ZERO,
            reason_plan: HashSet::new(),
            reasons_first: false,
            reasons_since_page: 0,
            refresh_asked: false,
        };
        if config.strategy == Strategy::Naive {
            // The naive dashboard has neither a fast nor a failed lane.
            for plan in &mut planner.kinds {
                plan.due[Lane::Fast.index()] = Duration::MAX;
                plan.due[Lane::Failed.index()] = Duration::MAX;
            }
        }
        planner
    }

    /// Records loaded from the disk cache: known, finished and described.
    pub fn seed_from_cache(&mut self, described: &[Described]) {
        for d in described {
            let id: Box<str> = Box::from(d.summary.request_id.as_str());
            let plan = &mut self.kinds[d.summary.kind.index()];
            plan.status.insert(id.clone(), d.summary.status.clone());
            if d.summary.status.is_finished() {
                self.described_final.insert((d.summary.kind, id));
            }
        }
    }

    pub fn is_described(&self, kind: OperationKind, request_id: &str) -> bool {
        self.described_final.contains(&key_of(kind, request_id))
    }

    fn lane_priority(&self, kind: OperationKind, lane: Lane) -> Priority {
        let plan = &self.kinds[kind.index()];
        match (self.config.strategy, lane) {
            (Strategy::Naive, _) => Priority::Tracking,
            (_, Lane::Fast) => Priority::Tracking,
            // Once, at start: ~30 pages for 10,000 records per kind. Running them with the
            // fast lane, pages back to back ahead of the describes of requests that finished
            // meanwhile, is what puts every FAILED on screen within 40 s at 0.9 req/s.
            (_, Lane::Failed) => Priority::Tracking,
            (_, Lane::Full) if plan.done_once[Lane::Full.index()] => Priority::Background,
            (_, Lane::Full) => Priority::History,
        }
    }

    /// Starts the lanes that are due.
    pub fn schedule(&mut self, now: Duration) {
        self.clock = self.clock.max(now);
        let mut asked_lane_started = false;
        // Lane by lane: every kind's in-progress list before any kind's FAILED list.
        for lane in Lane::ALL {
            for kind in OperationKind::ALL {
                let plan = &self.kinds[kind.index()];
                if plan.runs[lane.index()].is_some() || plan.due[lane.index()] > now {
                    continue;
                }
                let priority = self.lane_priority(kind, lane);
                self.kinds[kind.index()].runs[lane.index()] = Some(LaneRun {
                    started: now,
                    ..LaneRun::default()
                });
                self.queues[priority as usize].push_back(Call::List {
                    kind,
                    lane,
                    token: None,
                });
                asked_lane_started |= lane == Lane::Fast && self.refresh_asked;
            }
        }
        if asked_lane_started {
            self.asked_lists_first();
        }
    }

    /// Starts the fast lane of every kind now (the `r` key); the naive strategy re-lists.
    pub fn refresh_now(&mut self, now: Duration) {
        let lane = match self.config.strategy {
            Strategy::Budgeted => Lane::Fast,
            Strategy::Naive => Lane::Full,
        };
        for kind in OperationKind::ALL {
            // A run whose first page is still queued lists what is true when it goes out; one
            // already on the wire may answer with what was true before the ask.
            let first_page_queued = self.queues.iter().flatten().any(|call| {
                matches!(call, Call::List { kind: k, lane: l, token: None } if *k == kind && *l == lane)
            });
            let plan = &mut self.kinds[kind.index()];
            let due = &mut plan.due[lane.index()];
            *due = (*due).min(now);
            if let Some(run) = &mut plan.runs[lane.index()] {
                run.asked_again |= !first_page_queued;
            }
        }
        self.refresh_asked = lane == Lane::Fast;
        self.schedule(now);
        if self.refresh_asked {
            self.asked_lists_first();
        }
    }

    /// The asked-for fast lane's list calls move ahead of the describes of rows still in
    /// flight (who and what, for the rows on screen): the operator waits for the lane, not for
    /// names. Describes of requests already found finished stay first: they are the newest
    /// news.
    fn asked_lists_first(&mut self) {
        let finishing = &self.finishing;
        let tracking = &mut self.queues[Priority::Tracking as usize];
        let (lists, rest): (Vec<Call>, Vec<Call>) = tracking.drain(..).partition(|c| {
            matches!(
                c,
                Call::List {
                    lane: Lane::Fast,
                    ..
                }
            )
        });
        let at = past_finishing(rest.iter(), finishing);
        tracking.extend(rest);
        for (offset, call) in lists.into_iter().enumerate() {
            tracking.insert(at + offset, call);
        }
    }

    /// Whether an asked-for refresh is still under way: its fast lane runs, or a request it
    /// found finished waits for its describe. Ends the ask once neither holds.
    fn asked_refresh_runs(&mut self) -> bool {
        if self.refresh_asked {
            let fast = Lane::Fast.index();
            let clock = self.clock;
            // A describe that answered "still in progress" leaves its key in `finishing`
            // until the request vanishes again: only describes still waiting keep the ask.
            self.refresh_asked = self
                .kinds
                .iter()
                .any(|plan| plan.runs[fast].is_some() || plan.due[fast] <= clock)
                || self
                    .finishing
                    .iter()
                    .any(|key| self.queued.contains_key(key) || self.on_the_wire.contains(key));
        }
        self.refresh_asked
    }

    /// When the next lane becomes due, if none is running.
    pub fn next_due(&self) -> Option<Duration> {
        self.kinds
            .iter()
            .flat_map(|p| {
                Lane::ALL
                    .into_iter()
                    .filter(|l| p.runs[l.index()].is_none())
                    .map(|l| p.due[l.index()])
            })
            .filter(|&due| due != Duration::MAX)
            .min()
    }

    /// Whether a call is waiting. Entries made stale while they waited (answered, or asked
    /// again more urgently) are dropped on the way, so a queue of stale entries is no work: the
    /// runtime must not wake for it.
    pub fn has_work(&mut self) -> bool {
        (0..PRIORITIES).any(|priority| self.has_work_at(priority))
    }

    /// How the next call should be paced. Urgent while tracking work or the operator's own
    /// describe waits and nothing else but background work: in steady state, where the
    /// background leaves room for it. While the failures, the rows on screen or the history
    /// load fill the budget, every call keeps the even spacing: a burst would only take slots
    /// the next fast lane needs (the rollout's worst FAILED delay grew by 2 s with bursts
    /// there). Background while only background work waits.
    ///
    /// A refresh someone asked for and waits on is urgent whatever else waits: an operator who
    /// pressed `r`, or opened a dashboard on a hub, expects what is true now, and its three
    /// list calls and the describes of what they found finished are a handful of calls, not a
    /// burst that fills the window.
    pub fn pacing(&mut self) -> super::budget::Pacing {
        use super::budget::Pacing;
        let urgent = self.has_work_at(Priority::Interactive as usize)
            || self.has_work_at(Priority::Tracking as usize);
        if urgent && self.asked_refresh_runs() {
            return Pacing::Urgent;
        }
        let even = (Priority::Failures as usize..Priority::Background as usize)
            .any(|p| self.has_work_at(p));
        match (urgent, even) {
            (true, false) => Pacing::Urgent,
            (false, false) => Pacing::Background,
            _ => Pacing::Even,
        }
    }

    fn has_work_at(&mut self, priority: usize) -> bool {
        while let Some(call) = self.queues[priority].front() {
            if self.is_stale(call) {
                self.queues[priority].pop_front();
            } else {
                return true;
            }
        }
        false
    }

    fn is_stale(&self, call: &Call) -> bool {
        match call {
            Call::Describe(request) => {
                let key = key_of(request.kind, &request.request_id);
                self.described_final.contains(&key)
                    || self.queued.get(&key) != Some(&request.priority)
            }
            _ => false,
        }
    }

    /// Whether a page of the FAILED listing is waiting: at start it goes before everything.
    fn failed_listing_waits(&self) -> bool {
        self.queues[Priority::Tracking as usize].iter().any(|c| {
            matches!(
                c,
                Call::List {
                    lane: Lane::Failed,
                    ..
                }
            )
        })
    }

    /// Whether the first FAILED listing and the first history load of every kind are done.
    pub fn first_load_done(&self) -> bool {
        self.kinds.iter().all(|p| {
            p.done_once[Lane::Full.index()]
                && (self.config.strategy == Strategy::Naive || p.done_once[Lane::Failed.index()])
        })
    }

    /// The most urgent call, if any. Priorities are strict but for two shares: the operator's
    /// own describes always go first, and less urgent work is never starved: after [`STREAK`]
    /// failures calls in a row the rows on screen and the history get the next slot (so names
    /// and details appear while the newest failures are described), and when tracking has
    /// held every slot for [`AGING`] while other work waited, that work gets one (so at a rate
    /// cut low by throttling the fast lane cannot starve the history forever, while in steady
    /// state tracking keeps its latency).
    pub fn next_call(&mut self) -> Option<Call> {
        let (on_screen, history) = (Priority::OnScreen as usize, Priority::History as usize);
        let (tracking, failures) = (Priority::Tracking as usize, Priority::Failures as usize);
        let mut order: [usize; PRIORITIES] = std::array::from_fn(|p| p);
        if self.last_was_on_screen && self.has_work_at(history) {
            order.swap(on_screen, history);
        }
        // The history's guaranteed share: against an account limit below the budget, tracking a
        // big rollout and the failures could take every call for good, and the history stayed
        // at "0 pages" (issue 21). A history page that waited [`HISTORY_AGING`] goes next, unless
        // the operator is reading failure reasons or asked for something.
        if !self.has_work_at(history) {
            self.last_history = self.clock;
        } else if !self.reasons_first
            && !self.failed_listing_waits()
            && self.clock.saturating_sub(self.last_history) >= HISTORY_AGING
            && !self.has_work_at(Priority::Interactive as usize)
            && let Some(at) = order.iter().position(|&p| p == history)
        {
            order[1..=at].rotate_right(1);
        }
        let top = (tracking..PRIORITIES).find(|&p| self.has_work_at(p));
        // The FAILED listing at start is not tracking work: it goes before everything else.
        let failed_listing_next = top == Some(tracking)
            && matches!(
                self.queues[tracking].front(),
                Some(Call::List {
                    lane: Lane::Failed,
                    ..
                })
            );
        let less_urgent_waits =
            |planner: &mut Planner, p: usize| (p + 1..PRIORITIES).any(|q| planner.has_work_at(q));
        let reasons_first = self.reasons_first;
        // While the operator reads failure reasons, the FAILED listing and the reasons take
        // turns, [`REASONS_PER_PAGE`] reasons to a page: the sample starts with the first page,
        // not after the thirtieth.
        if reasons_first
            && failed_listing_next
            && self.reasons_since_page < REASONS_PER_PAGE
            && !self.has_work_at(Priority::Interactive as usize)
            && self.has_work_at(failures)
        {
            order.swap(tracking, failures);
        }
        let starved = match top {
            // Reasons wanted on screen are not starved by rows nobody sees behind the view.
            Some(p) if p == failures => !reasons_first && self.streak == (failures, STREAK),
            Some(p) if p == tracking => {
                // While a refresh someone asked for runs, its work keeps every slot a while
                // longer: someone waits for it now (a dashboard just attached to a hub), and
                // the share comes when it is done, or at twice the wait at the latest, since
                // dashboards arriving one after another keep asking.
                let wait = if self.asked_refresh_runs() {
                    2 * AGING
                } else {
                    AGING
                };
                !failed_listing_next && self.clock.saturating_sub(self.last_below_tracking) >= wait
            }
            _ => false,
        };
        if let Some(top) = top
            && starved
            && !self.has_work_at(Priority::Interactive as usize)
            && less_urgent_waits(self, top)
            && let Some(at) = order.iter().position(|&p| p == top)
        {
            order[at..].rotate_left(1);
        }
        for priority in order {
            while let Some(call) = self.queues[priority].pop_front() {
                // Answered while it waited, or superseded by a more urgent entry.
                if self.is_stale(&call) {
                    continue;
                }
                if let Call::Describe(request) = &call {
                    let key = key_of(request.kind, &request.request_id);
                    self.queued.remove(&key);
                    self.on_the_wire.insert(key);
                }
                if priority == on_screen || priority == history {
                    self.last_was_on_screen = priority == on_screen;
                }
                if priority == history {
                    self.last_history = self.clock;
                }
                let failed_listing = matches!(
                    call,
                    Call::List {
                        lane: Lane::Failed,
                        ..
                    }
                );
                if failed_listing {
                    self.reasons_since_page = 0;
                } else if priority == failures && matches!(call, Call::Describe(_)) {
                    self.reasons_since_page += 1;
                }
                if priority == failures && less_urgent_waits(self, priority) {
                    let run = if self.streak.0 == priority {
                        self.streak.1
                    } else {
                        0
                    };
                    self.streak = (priority, (run + 1).min(STREAK));
                } else if !failed_listing {
                    self.streak = (priority, 0);
                }
                if priority > tracking || !less_urgent_waits(self, tracking) {
                    self.last_below_tracking = self.clock;
                }
                return Some(call);
            }
        }
        None
    }

    /// Asks for a describe. Returns false when it is not needed: the final answer is known,
    /// it is on the wire, or it is already queued at this priority or a more urgent one.
    pub fn request_describe(&mut self, request: DescribeRequest) -> bool {
        let key = key_of(request.kind, &request.request_id);
        if self.described_final.contains(&key) || self.on_the_wire.contains(&key) {
            return false;
        }
        if self
            .queued
            .get(&key)
            .is_some_and(|&queued| queued <= request.priority)
        {
            return false;
        }
        self.queued.insert(key, request.priority);
        self.queues[request.priority as usize].push_back(Call::Describe(request));
        true
    }

    /// The rows the screen shows now replace the ones it showed before: queued describes of
    /// rows no longer on screen are dropped (their entries go stale), and the new ones queued.
    /// Without this, describes asked for while a first load streamed rows past the screen
    /// outlived it, and spent the budget for minutes on rows nobody saw.
    pub fn replace_on_screen(&mut self, requests: Vec<DescribeRequest>) {
        let wanted: HashSet<DescribeKey> = requests
            .iter()
            .map(|r| key_of(r.kind, &r.request_id))
            .collect();
        self.queued
            .retain(|key, priority| *priority != Priority::OnScreen || wanted.contains(key));
        for request in requests {
            self.request_describe(request);
        }
    }

    /// The failure reasons to read, in order (most informative first), replacing the previous
    /// plan: queued reasons of the old plan that the new one leaves out are dropped, and the
    /// plan's order is kept. `None`: the view closed, "reasons first" ends.
    pub fn replace_reasons(&mut self, requests: Option<Vec<DescribeRequest>>) {
        self.reasons_first = requests.is_some();
        let requests = requests.unwrap_or_default();
        let failures = Priority::Failures as usize;
        for key in std::mem::take(&mut self.reason_plan) {
            if self.queued.get(&key) == Some(&Priority::Failures) {
                self.queued.remove(&key);
            }
        }
        // Entries of the old plan are stale now (not queued); drop them so the new order holds.
        let queued = &self.queued;
        self.queues[failures].retain(|call| match call {
            Call::Describe(r) => queued.get(&key_of(r.kind, &r.request_id)) == Some(&r.priority),
            _ => true,
        });
        for request in requests {
            let key = key_of(request.kind, &request.request_id);
            if self.request_describe(request) || self.queued.contains_key(&key) {
                self.reason_plan.insert(key);
            }
        }
    }

    /// A request that left `IN_PROGRESS`: described for its final status and reason, ahead of
    /// the describes of requests still in flight (the rows on screen asked for who and what):
    /// a new FAILED waits for no name.
    fn track_finished(&mut self, kind: OperationKind, id: &str) {
        self.request_describe(DescribeRequest {
            kind,
            request_id: id.to_string(),
            priority: Priority::Tracking,
        });
        let key = key_of(kind, id);
        if self.queued.get(&key) != Some(&Priority::Tracking) {
            return;
        }
        self.finishing.insert(key);
        // Its entry (new, or asked earlier for the row on screen) moves ahead of the in-flight
        // rows' describes and of the lists still queued.
        let tracking = &mut self.queues[Priority::Tracking as usize];
        let Some(from) = tracking
            .iter()
            .rposition(|c| matches!(c, Call::Describe(r) if r.kind == kind && r.request_id == id))
        else {
            return;
        };
        let Some(call) = tracking.remove(from) else {
            return;
        };
        let at = self.after_finishing();
        self.queues[Priority::Tracking as usize].insert(at, call);
    }

    /// Where a request just found finished joins the tracking queue: behind the others found
    /// finished before it, ahead of the rows' names, and ahead of the fast lane's lists still
    /// queued while they are young. One describe tells whether it failed; a list needs a
    /// describe after it to tell that of anything, so the shorter work goes first (a hub
    /// refresh's creation list found a request failed, and its describe waited 2 s behind the
    /// deletion and provisioning lists). A list whose run started a refresh interval ago keeps
    /// its place, or a stream of finished requests under throttling would starve the kinds'
    /// lists (seen: a kind not listed for 30 s at half the calls throttled).
    fn after_finishing(&self) -> usize {
        let tracking = &self.queues[Priority::Tracking as usize];
        let keeps_place = |kind: OperationKind, lane: Lane| {
            self.kinds[kind.index()].runs[lane.index()]
                .as_ref()
                .is_some_and(|run| self.clock.saturating_sub(run.started) >= self.config.refresh)
        };
        tracking
            .iter()
            .position(|call| match call {
                Call::Describe(r) => !self.finishing.contains(&key_of(r.kind, &r.request_id)),
                // The FAILED listing at start and the history keep their place, as before.
                Call::List { kind, lane, .. } => *lane == Lane::Fast && !keeps_place(*kind, *lane),
                _ => false,
            })
            .unwrap_or(tracking.len())
    }

    /// A list page arrived. Returns what the app should learn from it.
    pub fn on_list_page(
        &mut self,
        kind: OperationKind,
        lane: Lane,
        page: Page,
        now: Duration,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        let mut changed: Vec<StatusSummary> = Vec::new();
        let mut finished_while_tracked: Vec<Box<str>> = Vec::new();
        let plan = &mut self.kinds[kind.index()];
        let first_load = lane != Lane::Fast && !plan.done_once[lane.index()];
        let Some(run) = plan.runs[lane.index()].as_mut() else {
            return events;
        };
        run.pages += 1;
        run.failures = 0;
        run.records += page.items.len() as u64;
        let items = page.items.len();
        let mut new = 0;
        for item in page.items {
            let id: Box<str> = Box::from(item.request_id.as_str());
            new += usize::from(run.seen.insert(id.clone()));
            if lane == Lane::Failed && item.status == Status::Failed {
                plan.failed_seen.push((item.created, id.clone()));
            }
            if plan.status.get(&id) == Some(&item.status) {
                continue;
            }
            if item.status == Status::InProgress {
                plan.in_progress.insert(id.clone());
            } else if plan.in_progress.remove(&id) {
                // Finished (or a status we do not know, which is final for polling).
                finished_while_tracked.push(id.clone());
            }
            plan.status.insert(id, item.status.clone());
            changed.push(item);
        }
        let (pages, records) = (run.pages, run.records);
        if !changed.is_empty() {
            events.push(Event::Records {
                kind,
                items: changed,
            });
        }
        let next = page.next_token.filter(|t| !t.is_empty());
        let stuck = run.guard.on_page(
            kind,
            items,
            new,
            run.seen.len(),
            next.as_deref(),
            now.saturating_sub(run.started),
        );
        let stalled_pages = run.guard.stalled();
        let stalled = stalled_pages > 0;
        if first_load {
            events.push(Event::LoadProgress {
                kind,
                lane,
                pages,
                records,
                done: next.is_none() || stuck.is_some(),
            });
        }
        for id in finished_while_tracked {
            self.track_finished(kind, &id);
        }
        if let Some(message) = stuck {
            tracing::warn!("{message}");
            self.abandon(kind, lane, now, ErrorKind::Malformed);
            events.push(Event::ListFailed {
                kind,
                error: ProviderError::new(ErrorKind::Malformed, message),
                gave_up: true,
            });
            return events;
        }
        if stalled_pages >= STALLED_TOLD && next.is_some() {
            // Said on the tab while it goes on, not only when it stops: a listing whose pages
            // bring nothing new waits at history priority, and its stop can be minutes away.
            events.push(Event::ListFailed {
                kind,
                error: ProviderError::new(
                    ErrorKind::Malformed,
                    format!(
                        "the {} listing is not progressing: its last {stalled_pages} pages brought no new record; it stops after {}",
                        kind.short(),
                        crate::provider::STALLED_PAGES
                    ),
                ),
                gave_up: false,
            });
        }
        match next {
            None => self.finish_lane(kind, lane, now),
            Some(token) => {
                // Ahead of the other work of its priority (a listing is read to its end
                // before the describes it leads to), but behind the other kinds' pages of the
                // same lane: the kinds' listings take turns, so one kind's long (or endless)
                // listing takes its share of the budget and no more (it took every call for
                // minutes, issue 21). A listing whose last page brought nothing new goes on no
                // more urgently than the history, at the back of its queue, so that it neither
                // holds the tracking slots nor waits unseen until everything else is done.
                let call = Call::List {
                    kind,
                    lane,
                    token: Some(token),
                };
                if stalled {
                    let priority = self.lane_priority(kind, lane).max(Priority::History);
                    self.queues[priority as usize].push_back(call);
                } else {
                    let queue = &mut self.queues[self.lane_priority(kind, lane) as usize];
                    let at = queue
                        .iter()
                        .position(|c| !matches!(c, Call::List { lane: l, .. } if *l == lane))
                        .unwrap_or(queue.len());
                    queue.insert(at, call);
                }
            }
        }
        events
    }

    fn finish_lane(&mut self, kind: OperationKind, lane: Lane, now: Duration) {
        let config = self.config;
        let plan = &mut self.kinds[kind.index()];
        let Some(run) = plan.runs[lane.index()].take() else {
            return;
        };
        plan.done_once[lane.index()] = true;
        match lane {
            Lane::Fast => {
                plan.due[lane.index()] = if run.asked_again {
                    now
                } else {
                    (run.started + config.refresh).max(now)
                };
                // In progress before, absent from the in-progress list now: finished.
                let mut vanished: Vec<Box<str>> = plan
                    .in_progress
                    .iter()
                    .filter(|id| !run.seen.contains(*id))
                    .cloned()
                    .collect();
                // A set's order changes from run to run; the calls' order must not.
                vanished.sort_unstable();
                for id in vanished {
                    self.track_finished(kind, &id);
                }
            }
            Lane::Failed => {
                plan.due[lane.index()] = Duration::MAX;
                let mut newest = std::mem::take(&mut plan.failed_seen);
                newest.sort_unstable_by_key(|(created, _)| std::cmp::Reverse(*created));
                for (_, id) in newest.into_iter().take(config.describe_newest_failed) {
                    self.request_describe(DescribeRequest {
                        kind,
                        request_id: id.to_string(),
                        priority: Priority::Failures,
                    });
                }
            }
            Lane::Full => {
                let every = match config.strategy {
                    Strategy::Naive => config.refresh,
                    Strategy::Budgeted => config.full_relist_every,
                };
                plan.due[lane.index()] = (run.started + every).max(now);
            }
        }
    }

    /// Drops a lane's run; it starts again when next due.
    fn abandon(&mut self, kind: OperationKind, lane: Lane, now: Duration, error: ErrorKind) {
        let refresh = self.config.refresh;
        let plan = &mut self.kinds[kind.index()];
        plan.runs[lane.index()] = None;
        plan.failed_seen.clear();
        // Denied or not implemented: nothing changes until the operator acts.
        let wait = if matches!(error, ErrorKind::Auth | ErrorKind::Unsupported) {
            DENIED_RETRY
        } else {
            refresh
        };
        plan.due[lane.index()] = now + wait;
    }

    /// A list call failed. A retryable failure queues the same page again behind the other
    /// work of its priority, so one kind's failing call never starves the others; after
    /// [`MAX_ATTEMPTS`], or at once for errors that retrying cannot fix, the run is abandoned
    /// until the lane is next due.
    pub fn on_list_error(
        &mut self,
        kind: OperationKind,
        lane: Lane,
        token: Option<String>,
        error: ProviderError,
        now: Duration,
    ) -> Event {
        let priority = self.lane_priority(kind, lane);
        let failures = match self.kinds[kind.index()].runs[lane.index()].as_mut() {
            Some(run) => {
                run.failures += 1;
                run.failures
            }
            None => MAX_ATTEMPTS,
        };
        let gave_up = !error.kind.is_retryable() || failures >= MAX_ATTEMPTS;
        if gave_up {
            self.abandon(kind, lane, now, error.kind);
        } else {
            self.queues[priority as usize].push_back(Call::List { kind, lane, token });
        }
        Event::ListFailed {
            kind,
            error,
            gave_up,
        }
    }

    /// Asks for a permission set's name once (the name resolver decides which are needed).
    pub fn request_name(&mut self, permission_set: Option<&str>) {
        if let Some(ps) = permission_set
            && self.names_requested.insert(ps.to_string())
        {
            // A few dozen per instance, each once: cheap, and they make every row readable,
            // so they go ahead of the failures' describes; but while the operator reads the
            // causes of the failures, the reasons come first and the names after.
            let call = Call::PermissionSetName {
                permission_set: ps.to_string(),
            };
            if !self.reasons_first {
                self.queues[Priority::Failures as usize].push_front(call);
            } else {
                self.queues[Priority::OnScreen as usize].push_back(call);
            }
        }
    }

    /// A permission-set name call failed: retried a bounded number of times, then the ARN stays.
    pub fn on_name_error(&mut self, permission_set: String, retryable: bool) {
        let failures = self
            .name_failures
            .entry(permission_set.clone())
            .or_default();
        *failures += 1;
        if retryable && *failures < MAX_ATTEMPTS {
            self.queues[Priority::Failures as usize]
                .push_back(Call::PermissionSetName { permission_set });
        }
    }

    /// A describe answered.
    pub fn on_described(&mut self, described: Described) -> Event {
        let kind = described.summary.kind;
        let key = key_of(kind, &described.summary.request_id);
        self.on_the_wire.remove(&key);
        self.describe_failures.remove(&key);
        self.reason_plan.remove(&key);
        if described.summary.status.is_finished() {
            self.finishing.remove(&key);
        }
        let plan = &mut self.kinds[kind.index()];
        if described.summary.status.is_finished() {
            plan.in_progress.remove(&key.1);
            self.described_final.insert(key.clone());
        } else {
            plan.in_progress.insert(key.1.clone());
        }
        plan.status.insert(key.1, described.summary.status.clone());
        Event::Described(Box::new(described))
    }

    /// A describe failed. A retryable failure is queued again at its priority, up to
    /// [`MAX_ATTEMPTS`]; then, or at once for other errors, it is given up and the app is told,
    /// so no row waits for an answer that will not come.
    pub fn on_describe_error(
        &mut self,
        request: DescribeRequest,
        error: ProviderError,
    ) -> Option<Event> {
        let key = key_of(request.kind, &request.request_id);
        self.on_the_wire.remove(&key);
        let failures = self.describe_failures.entry(key.clone()).or_default();
        *failures += 1;
        if error.kind.is_retryable() && *failures < MAX_ATTEMPTS {
            self.request_describe(request);
            return None;
        }
        self.describe_failures.remove(&key);
        self.reason_plan.remove(&key);
        self.finishing.remove(&key);
        // A request that cannot be described (gone, or not ours) is not tracked further.
        self.kinds[request.kind.index()].in_progress.remove(&key.1);
        Some(Event::DescribeFailed {
            kind: request.kind,
            request_id: request.request_id,
            error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn summary(kind: OperationKind, id: &str, status: Status) -> StatusSummary {
        summary_at(kind, id, status, 0)
    }

    fn summary_at(kind: OperationKind, id: &str, status: Status, secs: i64) -> StatusSummary {
        StatusSummary {
            kind,
            request_id: id.to_string(),
            status,
            created: Utc
                .timestamp_opt(1_700_000_000 + secs, 0)
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

    fn described(kind: OperationKind, id: &str, status: Status) -> Described {
        Described {
            summary: summary(kind, id, status),
            detail: Default::default(),
            source_call: "DescribeAccountAssignmentCreationStatus".into(),
            described_at: Utc::now(),
        }
    }

    fn drain(planner: &mut Planner) -> Vec<Call> {
        std::iter::from_fn(|| planner.next_call()).collect()
    }

    fn lanes_of(calls: &[Call]) -> Vec<Lane> {
        calls
            .iter()
            .filter_map(|c| match c {
                Call::List { lane, .. } => Some(*lane),
                _ => None,
            })
            .collect()
    }

    fn describe(kind: OperationKind, id: &str, priority: Priority) -> Call {
        Call::Describe(DescribeRequest {
            kind,
            request_id: id.to_string(),
            priority,
        })
    }

    const K: OperationKind = OperationKind::AssignmentCreation;

    #[test]
    fn first_round_lists_in_progress_then_failed_then_history() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        let lanes = lanes_of(&drain(&mut p));
        assert_eq!(
            lanes,
            [[Lane::Fast; 3], [Lane::Failed; 3], [Lane::Full; 3]].concat()
        );
    }

    #[test]
    fn failed_pages_continue_before_any_history_page() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        // Take the fast lanes and the first FAILED page of the first kind.
        for _ in 0..4 {
            p.next_call();
        }
        p.on_list_page(
            K,
            Lane::Failed,
            page(vec![summary(K, "f1", Status::Failed)], Some("t1")),
            Duration::ZERO,
        );
        // The kinds take turns: the other two kinds' first FAILED pages, then this one's
        // second, and no history page before them.
        let next: Vec<Call> = (0..3).filter_map(|_| p.next_call()).collect();
        assert_eq!(lanes_of(&next), [Lane::Failed; 3]);
        assert_eq!(
            next.last(),
            Some(&Call::List {
                kind: K,
                lane: Lane::Failed,
                token: Some("t1".into())
            })
        );
    }

    #[test]
    fn the_newest_failed_are_described_first_once_the_failed_list_is_complete() {
        let mut config = PlannerConfig::new(Duration::from_secs(10));
        config.describe_newest_failed = 2;
        let mut p = Planner::new(config);
        p.schedule(Duration::ZERO);
        drain(&mut p);
        // Page order is not creation order.
        p.on_list_page(
            K,
            Lane::Failed,
            page(
                vec![
                    summary_at(K, "old", Status::Failed, 10),
                    summary_at(K, "newest", Status::Failed, 30),
                ],
                Some("t1"),
            ),
            Duration::ZERO,
        );
        assert!(!drain(&mut p).iter().any(|c| matches!(c, Call::Describe(_))));
        p.on_list_page(
            K,
            Lane::Failed,
            page(vec![summary_at(K, "newer", Status::Failed, 20)], None),
            Duration::ZERO,
        );
        assert_eq!(
            drain(&mut p),
            vec![
                describe(K, "newest", Priority::Failures),
                describe(K, "newer", Priority::Failures)
            ]
        );
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
        drain(&mut p);
        p.on_list_page(K, Lane::Fast, page(vec![], None), Duration::from_secs(10));
        assert_eq!(drain(&mut p), vec![describe(K, a, Priority::Tracking)]);
        // Before the answer, another round, a full listing and the operator must not ask again.
        p.schedule(Duration::from_secs(20));
        drain(&mut p);
        p.on_list_page(K, Lane::Fast, page(vec![], None), Duration::from_secs(20));
        assert!(!p.request_describe(DescribeRequest {
            kind: K,
            request_id: a.into(),
            priority: Priority::Interactive
        }));
        assert!(drain(&mut p).is_empty());
        // Once described as finished, never again, whoever asks.
        p.on_described(described(K, a, Status::Failed));
        assert!(!p.request_describe(DescribeRequest {
            kind: K,
            request_id: a.into(),
            priority: Priority::Interactive
        }));
        assert!(p.is_described(K, a));
    }

    #[test]
    fn an_unknown_status_is_final_for_polling() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        drain(&mut p);
        let a = "cancelled-1";
        p.on_list_page(
            K,
            Lane::Fast,
            page(vec![summary(K, a, Status::InProgress)], None),
            Duration::ZERO,
        );
        p.on_described(described(K, a, Status::Unknown("CANCELLED".into())));
        for round in 1..5u64 {
            p.schedule(Duration::from_secs(10 * round));
            drain(&mut p);
            p.on_list_page(
                K,
                Lane::Fast,
                page(vec![], None),
                Duration::from_secs(10 * round),
            );
            assert!(drain(&mut p).is_empty(), "described again in round {round}");
        }
    }

    #[test]
    fn a_more_urgent_ask_supersedes_the_queued_one_without_a_second_call() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        let ask = |priority| DescribeRequest {
            kind: K,
            request_id: "x".into(),
            priority,
        };
        assert!(p.request_describe(ask(Priority::OnScreen)));
        assert!(!p.request_describe(ask(Priority::OnScreen)));
        assert!(p.request_describe(ask(Priority::Interactive)));
        assert_eq!(drain(&mut p), vec![describe(K, "x", Priority::Interactive)]);
    }

    #[test]
    fn a_failing_page_goes_behind_other_kinds_and_is_given_up_after_max_attempts() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        let first = p.next_call();
        assert!(matches!(
            first,
            Some(Call::List {
                kind: K,
                lane: Lane::Fast,
                ..
            })
        ));
        let error = ProviderError::new(ErrorKind::Transient, "HTTP 500");
        let event = p.on_list_error(K, Lane::Fast, None, error.clone(), Duration::ZERO);
        assert!(matches!(event, Event::ListFailed { gave_up: false, .. }));
        // The other kinds' fast lanes go first.
        let next: Vec<OperationKind> = (0..2)
            .filter_map(|_| match p.next_call() {
                Some(Call::List { kind, .. }) => Some(kind),
                _ => None,
            })
            .collect();
        assert!(!next.contains(&K), "{next:?}");
        for attempt in 2..=MAX_ATTEMPTS {
            // (Less urgent work may take a slot in between: it has its share.)
            let retried = std::iter::from_fn(|| p.next_call()).find(|c| {
                matches!(
                    c,
                    Call::List {
                        kind: K,
                        lane: Lane::Fast,
                        ..
                    }
                )
            });
            assert_eq!(
                retried,
                Some(Call::List {
                    kind: K,
                    lane: Lane::Fast,
                    token: None
                })
            );
            let event = p.on_list_error(K, Lane::Fast, None, error.clone(), Duration::ZERO);
            let gave_up = matches!(event, Event::ListFailed { gave_up: true, .. });
            assert_eq!(gave_up, attempt == MAX_ATTEMPTS);
        }
        assert!(!drain(&mut p).iter().any(|c| matches!(
            c,
            Call::List {
                kind: K,
                lane: Lane::Fast,
                ..
            }
        )));
        assert_eq!(p.kinds[K.index()].due[0], Duration::from_secs(10));
    }

    #[test]
    fn a_denied_list_waits_long_before_it_asks_again() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        p.next_call();
        let denied = ProviderError::new(ErrorKind::Auth, "AccessDeniedException");
        let event = p.on_list_error(K, Lane::Fast, None, denied, Duration::ZERO);
        assert!(matches!(event, Event::ListFailed { gave_up: true, .. }));
        assert_eq!(p.kinds[K.index()].due[0], DENIED_RETRY);
    }

    #[test]
    fn a_looping_page_token_stops_the_listing() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        drain(&mut p);
        let s = |id| summary(K, id, Status::Succeeded);
        p.on_list_page(K, Lane::Full, page(vec![s("a")], Some("A")), Duration::ZERO);
        drain(&mut p);
        p.on_list_page(K, Lane::Full, page(vec![s("b")], Some("B")), Duration::ZERO);
        drain(&mut p);
        let events = p.on_list_page(K, Lane::Full, page(vec![s("a")], Some("A")), Duration::ZERO);
        assert!(events.iter().any(
            |e| matches!(e, Event::ListFailed { gave_up: true, error, .. } if error.message.contains("already used"))
        ));
        assert!(!drain(&mut p).iter().any(|c| matches!(
            c,
            Call::List {
                lane: Lane::Full,
                kind: K,
                ..
            }
        )));
    }

    #[test]
    fn an_endless_page_token_stops_when_pages_bring_nothing_new() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        drain(&mut p);
        let mut stopped_at = None;
        let mut told_at = None;
        for n in 0..1000u32 {
            let events = p.on_list_page(
                K,
                Lane::Full,
                page(
                    vec![summary(K, "same", Status::Succeeded)],
                    Some(&format!("token-{n}")),
                ),
                Duration::ZERO,
            );
            let told = events.iter().any(|e| {
                matches!(e, Event::ListFailed { gave_up: false, error, .. }
                    if error.message.contains("not progressing"))
            });
            if told && told_at.is_none() {
                told_at = Some(n + 1);
            }
            if events
                .iter()
                .any(|e| matches!(e, Event::ListFailed { gave_up: true, .. }))
            {
                stopped_at = Some(n + 1);
                break;
            }
        }
        // The first page brings its record; the next ten bring nothing new.
        assert_eq!(stopped_at, Some(1 + crate::provider::STALLED_PAGES));
        // The tab is told long before: from the second page without anything new.
        assert_eq!(told_at, Some(1 + STALLED_TOLD));
    }

    #[test]
    fn a_describe_that_keeps_failing_is_given_up_and_reported() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        let request = DescribeRequest {
            kind: K,
            request_id: "x".into(),
            priority: Priority::OnScreen,
        };
        p.request_describe(request.clone());
        let malformed = ProviderError::new(ErrorKind::Malformed, "bad JSON");
        for attempt in 1..=MAX_ATTEMPTS {
            assert_eq!(p.next_call(), Some(Call::Describe(request.clone())));
            let event = p.on_describe_error(request.clone(), malformed.clone());
            assert_eq!(
                event.is_some(),
                attempt == MAX_ATTEMPTS,
                "attempt {attempt}"
            );
        }
        assert!(drain(&mut p).is_empty());
    }

    #[test]
    fn a_request_that_finished_is_described_before_in_flight_rows_named_on_screen() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        let tracking = |id: &str| DescribeRequest {
            kind: K,
            request_id: id.into(),
            priority: Priority::Tracking,
        };
        // The screen asked for who and what of three requests in flight.
        for id in ["x", "y", "z"] {
            p.request_describe(tracking(id));
        }
        // "f" and then "y" leave IN_PROGRESS: both go ahead of "x" and "z", in that order.
        p.track_finished(K, "f");
        p.track_finished(K, "y");
        assert_eq!(
            drain(&mut p),
            vec![
                describe(K, "f", Priority::Tracking),
                describe(K, "y", Priority::Tracking),
                describe(K, "x", Priority::Tracking),
                describe(K, "z", Priority::Tracking),
            ]
        );
    }

    #[test]
    fn tracking_goes_at_once_only_when_nothing_but_background_waits_beside_it() {
        use crate::poller::budget::Pacing;
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        assert_eq!(p.pacing(), Pacing::Background);
        p.request_describe(ask("finished", Priority::Tracking));
        assert_eq!(p.pacing(), Pacing::Urgent);
        // Rows on screen wait too: every call keeps the even spacing.
        p.replace_on_screen(vec![ask("on-screen", Priority::OnScreen)]);
        assert_eq!(p.pacing(), Pacing::Even);
        assert_eq!(
            drain(&mut p),
            vec![
                describe(K, "finished", Priority::Tracking),
                describe(K, "on-screen", Priority::OnScreen),
            ]
        );
        assert_eq!(p.pacing(), Pacing::Background);
    }

    /// A describe of `id` (of kind `K`) asked at this priority.
    fn ask(id: &str, priority: Priority) -> DescribeRequest {
        DescribeRequest {
            kind: K,
            request_id: id.into(),
            priority,
        }
    }

    /// A planner (refresh 10 s) after its first load at time zero, every lane of every kind
    /// answered: `id` (of kind `K`) is the one request in flight.
    fn loaded_with_in_flight(id: &str) -> Planner {
        loaded_with_all_in_flight(&[id])
    }

    /// As [`loaded_with_in_flight`], with these requests (of kind `K`) in flight.
    fn loaded_with_all_in_flight(ids: &[&str]) -> Planner {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        for call in drain(&mut p) {
            if let Call::List { kind, lane, .. } = call {
                let items = if kind == K && lane == Lane::Fast {
                    ids.iter()
                        .map(|id| summary(K, id, Status::InProgress))
                        .collect()
                } else {
                    Vec::new()
                };
                p.on_list_page(kind, lane, page(items, None), Duration::ZERO);
            }
        }
        p
    }

    #[test]
    fn tracking_shares_a_slot_after_holding_them_all_for_a_while_an_asked_refresh_twice_as_long() {
        let ids: Vec<String> = (0..40).map(|i| format!("gone-{i:02}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        // Each of the forty requests in flight finishes: forty describes of tracking work,
        // one call a second, while a row on screen waits for its detail.
        let run = |asked: bool| -> Duration {
            let mut p = loaded_with_all_in_flight(&ids);
            let start = Duration::from_secs(5);
            p.schedule(start);
            if asked {
                p.refresh_now(start);
            } else {
                // The fast lane's turn comes by itself (it is due every 10 s).
                p.schedule(Duration::from_secs(20));
            }
            let from = p.clock;
            let mut now = from;
            let mut lists = 0;
            loop {
                match p.next_call() {
                    Some(Call::List { kind, lane, .. }) => {
                        p.on_list_page(kind, lane, page(Vec::new(), None), now);
                        lists += 1;
                        if lists == 1 {
                            // The row on screen waits from the moment tracking starts.
                            p.replace_on_screen(vec![ask("on-screen", Priority::OnScreen)]);
                        }
                    }
                    Some(Call::Describe(request)) if request.priority == Priority::Tracking => {
                        p.on_described(described(K, &request.request_id, Status::Succeeded));
                    }
                    Some(Call::Describe(request)) => {
                        assert_eq!(request.request_id, "on-screen");
                        return now - from;
                    }
                    other => panic!("only the lists and describes wait: {other:?}"),
                }
                now += Duration::from_secs(1);
                p.schedule(now);
            }
        };
        let (steady, asked) = (run(false), run(true));
        // In steady state, the row on screen waits about AGING; behind an asked refresh,
        // twice that, and not for good (forty describes would take 40 s).
        let about =
            |held: Duration, wait: Duration| held >= wait && held <= wait + Duration::from_secs(2);
        assert!(about(steady, AGING), "{steady:?}");
        assert!(about(asked, 2 * AGING), "{asked:?}");
    }

    #[test]
    fn a_refresh_asked_while_the_fast_lane_is_on_the_wire_lists_again_once_it_answers() {
        use crate::poller::budget::Pacing;
        let mut p = loaded_with_in_flight("flying");
        // The next fast lane goes out at 10 s...
        let sent = Duration::from_secs(10);
        p.schedule(sent);
        let mut on_the_wire = Vec::new();
        while let Some(call) = p.next_call() {
            on_the_wire.push(call);
        }
        assert_eq!(on_the_wire.len(), OperationKind::ALL.len());
        // ...and while its pages are on the wire, "flying" fails and someone asks for a
        // refresh: the answers on the wire may predate the failure.
        let asked = sent + Duration::from_millis(300);
        p.refresh_now(asked);
        assert_eq!(p.next_call(), None, "a lane runs once at a time");
        for call in on_the_wire {
            let Call::List { kind, lane, .. } = call else {
                panic!("only the fast lane was due: {call:?}");
            };
            let items = if kind == K {
                vec![summary(K, "flying", Status::InProgress)]
            } else {
                Vec::new()
            };
            p.on_list_page(kind, lane, page(items, None), asked);
        }
        // So the lane goes again at once, not one refresh interval later.
        let answered = asked + Duration::from_millis(100);
        p.schedule(answered);
        assert_eq!(p.pacing(), Pacing::Urgent);
        let again: Vec<Call> = std::iter::from_fn(|| p.next_call()).collect();
        assert_eq!(again.len(), OperationKind::ALL.len(), "{again:?}");
        for call in again {
            let Call::List { kind, lane, .. } = call else {
                panic!("the asked lane lists again: {call:?}");
            };
            assert_eq!(lane, Lane::Fast);
            p.on_list_page(kind, lane, page(Vec::new(), None), answered);
        }
        // It found "flying" finished; after its describe the lane keeps its interval.
        assert_eq!(
            p.next_call(),
            Some(describe(K, "flying", Priority::Tracking))
        );
        p.on_described(described(K, "flying", Status::Failed));
        p.schedule(answered + Duration::from_secs(1));
        assert_eq!(p.next_call(), None);
    }

    #[test]
    fn an_asked_refresh_goes_at_once_until_its_lane_and_what_it_found_finished_are_done() {
        use crate::poller::budget::Pacing;
        let mut p = loaded_with_in_flight("gone");
        let now = Duration::from_secs(5);
        p.schedule(now);
        // A row in flight waits for its name, and rows on screen for their detail: every call
        // keeps the even spacing.
        p.request_describe(ask("flying", Priority::Tracking));
        p.replace_on_screen(vec![ask("on-screen", Priority::OnScreen)]);
        assert_eq!(p.pacing(), Pacing::Even);
        // The operator asks for a refresh: its lane goes first, and at once.
        p.refresh_now(now);
        assert_eq!(p.pacing(), Pacing::Urgent);
        let mut lists = Vec::new();
        for _ in OperationKind::ALL {
            let call = p.next_call();
            let Some(Call::List { kind, lane, .. }) = call else {
                panic!("the asked lane's lists go before the in-flight row's name: {call:?}");
            };
            assert_eq!(lane, Lane::Fast);
            lists.push(kind);
            assert_eq!(p.pacing(), Pacing::Urgent);
        }
        // "gone" left IN_PROGRESS: its describe is still the asked refresh's work.
        for kind in lists {
            p.on_list_page(kind, Lane::Fast, page(Vec::new(), None), now);
        }
        assert_eq!(p.pacing(), Pacing::Urgent);
        assert_eq!(p.next_call(), Some(describe(K, "gone", Priority::Tracking)));
        p.on_described(described(K, "gone", Status::Failed));
        // Done: the name and the rows on screen keep the even spacing again.
        assert_eq!(p.pacing(), Pacing::Even);
        assert_eq!(
            p.next_call(),
            Some(describe(K, "flying", Priority::Tracking))
        );
    }

    #[test]
    fn a_request_found_finished_is_described_before_the_lists_still_queued() {
        let mut p = loaded_with_in_flight("gone");
        // The fast lane of every kind is due: three lists queued together.
        p.schedule(Duration::from_secs(10));
        let Some(Call::List { kind, lane, .. }) = p.next_call() else {
            panic!("the fast lane lists");
        };
        assert_eq!(kind, K);
        p.on_list_page(kind, lane, page(Vec::new(), None), Duration::from_secs(10));
        // "gone" left IN_PROGRESS: one call tells whether it failed, while the other kinds'
        // lists need a describe after them to tell that of anything.
        assert_eq!(p.next_call(), Some(describe(K, "gone", Priority::Tracking)));
        let rest: Vec<Call> = std::iter::from_fn(|| p.next_call()).collect();
        assert_eq!(rest.len(), OperationKind::ALL.len() - 1, "{rest:?}");
        assert!(rest.iter().all(|c| matches!(
            c,
            Call::List {
                lane: Lane::Fast,
                ..
            }
        )));

        // Lists that have waited a refresh interval (a rate cut low by throttling) keep their
        // place: a stream of finished requests must not starve the other kinds.
        let mut p = loaded_with_in_flight("gone");
        p.schedule(Duration::from_secs(10));
        let Some(Call::List { kind, lane, .. }) = p.next_call() else {
            panic!("the fast lane lists");
        };
        let late = Duration::from_secs(20);
        p.schedule(late);
        p.on_list_page(kind, lane, page(Vec::new(), None), late);
        let order: Vec<Call> = std::iter::from_fn(|| p.next_call()).collect();
        assert_eq!(
            order.last(),
            Some(&describe(K, "gone", Priority::Tracking)),
            "{order:?}"
        );
        assert_eq!(order.len(), OperationKind::ALL.len());
    }

    #[test]
    fn an_asked_refresh_ends_when_what_it_found_answers_still_in_progress() {
        use crate::poller::budget::Pacing;
        let mut p = loaded_with_in_flight("lagging");
        let now = Duration::from_secs(5);
        p.schedule(now);
        p.replace_on_screen(vec![ask("on-screen", Priority::OnScreen)]);
        p.refresh_now(now);
        let Some(Call::List { kind, lane, .. }) = p.next_call() else {
            panic!("the asked lane lists first");
        };
        assert_eq!(kind, K);
        p.on_list_page(kind, lane, page(Vec::new(), None), now);
        // "lagging" left the in-progress list: its describe goes before the other kinds'
        // lists (one call tells whether it failed), but its describe still says IN_PROGRESS
        // (the list and the describe need not agree at once).
        assert_eq!(
            p.next_call(),
            Some(describe(K, "lagging", Priority::Tracking))
        );
        p.on_described(described(K, "lagging", Status::InProgress));
        for _ in 1..OperationKind::ALL.len() {
            let Some(Call::List { kind, lane, .. }) = p.next_call() else {
                panic!("the other kinds' lists");
            };
            p.on_list_page(kind, lane, page(Vec::new(), None), now);
        }
        // Nothing of the refresh waits any more.
        p.request_describe(ask("flying", Priority::Tracking));
        assert_eq!(p.pacing(), Pacing::Even);
    }

    #[test]
    fn each_permission_set_name_is_asked_once() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        let ps = "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-0123456789abcdef";
        for id in ["a", "b"] {
            let mut d = described(K, id, Status::Succeeded);
            d.detail.permission_set = Some(ps.to_string());
            p.request_name(d.detail.permission_set.as_deref());
            p.on_described(d);
        }
        assert_eq!(
            drain(&mut p),
            vec![Call::PermissionSetName {
                permission_set: ps.to_string()
            }]
        );
    }

    #[test]
    fn a_new_screen_drops_the_describes_of_the_old_one() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        let screen = |ids: &[&str]| {
            ids.iter()
                .map(|id| DescribeRequest {
                    kind: K,
                    request_id: id.to_string(),
                    priority: Priority::OnScreen,
                })
                .collect::<Vec<_>>()
        };
        p.replace_on_screen(screen(&["a", "b", "c"]));
        assert_eq!(p.next_call(), Some(describe(K, "a", Priority::OnScreen)));
        p.replace_on_screen(screen(&["c", "d"]));
        // "a" is on the wire and stays; "b" scrolled away before it started.
        assert_eq!(
            drain(&mut p),
            vec![
                describe(K, "c", Priority::OnScreen),
                describe(K, "d", Priority::OnScreen)
            ]
        );
    }

    #[test]
    fn rows_on_screen_and_the_history_share_the_budget() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        // Past the fast and failed lanes.
        for _ in 0..6 {
            p.next_call();
        }
        for i in 0..3 {
            p.request_describe(DescribeRequest {
                kind: K,
                request_id: format!("r{i}"),
                priority: Priority::OnScreen,
            });
        }
        let kinds: Vec<&str> = (0..4)
            .filter_map(|_| p.next_call())
            .map(|c| match c {
                Call::Describe(_) => "describe",
                _ => "history",
            })
            .collect();
        assert_eq!(kinds, ["describe", "history", "describe", "history"]);
    }

    #[test]
    fn tracking_lets_waiting_work_through_when_it_held_every_slot_for_a_while() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        // The first round: in-progress and FAILED lists, which go first whatever waits.
        let first_round = lanes_of(&(0..6).filter_map(|_| p.next_call()).collect::<Vec<_>>());
        assert_eq!(first_round, [[Lane::Fast; 3], [Lane::Failed; 3]].concat());
        let tracking_only = |p: &mut Planner, from: u32| {
            for i in from..from + 5 {
                p.request_describe(DescribeRequest {
                    kind: K,
                    request_id: format!("finished-{i}"),
                    priority: Priority::Tracking,
                });
            }
            (0..5)
                .filter_map(|_| p.next_call())
                .all(|c| matches!(c, Call::Describe(r) if r.priority == Priority::Tracking))
        };
        // Within the aging time tracking keeps every slot, though the history waits.
        p.schedule(Duration::from_secs(9));
        assert!(tracking_only(&mut p, 0));
        // Past it, the history gets one.
        p.schedule(Duration::from_secs(11));
        p.request_describe(DescribeRequest {
            kind: K,
            request_id: "finished-x".into(),
            priority: Priority::Tracking,
        });
        assert!(matches!(
            p.next_call(),
            Some(Call::List {
                lane: Lane::Full,
                ..
            })
        ));
        assert!(matches!(p.next_call(), Some(Call::Describe(_))));
    }

    #[test]
    fn failures_let_the_screen_through_every_fourth_call() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        for _ in 0..6 {
            p.next_call();
        }
        for i in 0..8 {
            p.request_describe(DescribeRequest {
                kind: K,
                request_id: format!("newest-failed-{i}"),
                priority: Priority::Failures,
            });
        }
        let failures: Vec<bool> = (0..8)
            .filter_map(|_| p.next_call())
            .map(|c| matches!(c, Call::Describe(r) if r.priority == Priority::Failures))
            .collect();
        assert_eq!(failures, [true, true, true, false, true, true, true, false]);
    }

    #[test]
    fn while_the_groups_are_open_reasons_come_before_history_and_take_turns_with_failed_pages() {
        let reasons = |n: usize| -> Vec<DescribeRequest> {
            (0..n)
                .map(|i| DescribeRequest {
                    kind: K,
                    request_id: format!("failed-{i}"),
                    priority: Priority::Failures,
                })
                .collect()
        };
        // Fast and FAILED lists of the three kinds, then history pages wait.
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        for _ in 0..6 {
            p.next_call();
        }
        p.replace_reasons(Some(reasons(8)));
        let calls: Vec<bool> = (0..8)
            .filter_map(|_| p.next_call())
            .map(|c| matches!(c, Call::Describe(r) if r.priority == Priority::Failures))
            .collect();
        // No share for the history while reasons are wanted: eight reasons in a row.
        assert_eq!(calls, [true; 8]);

        // A FAILED listing still running: two reasons to a page.
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        for _ in 0..3 {
            p.next_call();
        }
        p.replace_reasons(Some(reasons(8)));
        let kinds: Vec<char> = (0..6)
            .filter_map(|_| p.next_call())
            .map(|c| match c {
                Call::List {
                    lane: Lane::Failed, ..
                } => 'P',
                Call::Describe(_) => 'R',
                _ => '?',
            })
            .collect();
        assert_eq!(kinds, ['R', 'R', 'P', 'R', 'R', 'P']);

        // The view closed: the reasons' plan is dropped, history goes on.
        p.replace_reasons(None);
        assert!(
            drain(&mut p)
                .iter()
                .all(|c| !matches!(c, Call::Describe(r) if r.request_id.starts_with("failed-")))
        );
    }

    #[test]
    fn the_history_gets_a_page_every_thirty_seconds_however_busy_the_rest() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        // The fast and FAILED lists of the three kinds; history pages wait behind.
        for _ in 0..6 {
            p.next_call();
        }
        let mut history_at = Vec::new();
        for second in 0..=95u64 {
            let now = Duration::from_secs(second);
            p.schedule(now);
            // A rollout keeps tracking and failures busy: more than one call's worth a second.
            for i in 0..2 {
                p.request_describe(DescribeRequest {
                    kind: K,
                    request_id: format!("finished-{second}-{i}"),
                    priority: Priority::Tracking,
                });
                p.request_describe(DescribeRequest {
                    kind: K,
                    request_id: format!("failed-{second}-{i}"),
                    priority: Priority::Failures,
                });
            }
            if let Some(Call::List {
                lane: Lane::Full, ..
            }) = p.next_call()
            {
                history_at.push(second);
            }
        }
        assert!(history_at.len() >= 3, "history pages at {history_at:?}");
        assert!(
            history_at.windows(2).all(|w| w[1] - w[0] <= 31),
            "history pages at {history_at:?}"
        );
    }

    #[test]
    fn interactive_describes_jump_the_queue() {
        let mut p = Planner::new(PlannerConfig::new(Duration::from_secs(10)));
        p.schedule(Duration::ZERO);
        assert!(p.request_describe(DescribeRequest {
            kind: K,
            request_id: "id-1".into(),
            priority: Priority::Interactive
        }));
        assert!(matches!(
            p.next_call(),
            Some(Call::Describe(DescribeRequest {
                priority: Priority::Interactive,
                ..
            }))
        ));
    }

    #[test]
    fn naive_strategy_relists_everything_every_interval() {
        let mut config = PlannerConfig::new(Duration::from_secs(10));
        config.strategy = Strategy::Naive;
        let mut p = Planner::new(config);
        p.schedule(Duration::ZERO);
        assert_eq!(lanes_of(&drain(&mut p)), vec![Lane::Full; 3]);
        for kind in OperationKind::ALL {
            p.on_list_page(kind, Lane::Full, page(vec![], None), Duration::from_secs(1));
        }
        assert_eq!(p.next_due(), Some(Duration::from_secs(10)));
    }
}
