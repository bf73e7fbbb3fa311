//! The simulated organization behind both wire protocols: accounts, permission sets, users and
//! groups, a history of finished requests, and a live rollout whose requests appear
//! IN_PROGRESS and finish after realistic durations.
//!
//! Everything is derived from a seed, and live requests are generated lazily as the clock
//! advances, so the same seed and the same clock readings always give the same answers —
//! which is what makes the emulator usable for deterministic benchmarks.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::{OperationKind, RequestDetail, Status, StatusSummary};

/// Shortest request duration. Real assignments take seconds to minutes; keeping at least 12 s
/// means a dashboard polling every 10 s (ssowatch's default) sees every request in flight at
/// least once, which is what its fast lane relies on (see docs/polling.md).
pub const MIN_DURATION_SECS: i64 = 12;

const PERMISSION_SET_NAMES: &[&str] = &[
    "AdministratorAccess",
    "ReadOnlyAccess",
    "PowerUserAccess",
    "BillingAdmin",
    "SecurityAudit",
    "NetworkAdministrator",
    "DatabaseAdministrator",
    "DataScientist",
    "SupportUser",
    "ViewOnlyAccess",
    "DeveloperAccess",
    "IncidentResponder",
];

/// Names for the simulated people, groups and accounts: realistic, so the demo shows what an
/// operator would see, and derived from the seed without touching the generator's random
/// stream, so every id and request stays what it was before names existed.
const FIRST_NAMES: &[&str] = &[
    "jane", "john", "maria", "wei", "aisha", "lucas", "sofia", "omar", "yuki", "liam", "emma",
    "raj", "chloe", "mateo", "nina", "ivan", "zara", "kenji", "olga", "samir",
];
const LAST_NAMES: &[&str] = &[
    "doe", "smith", "garcia", "chen", "khan", "silva", "rossi", "haddad", "tanaka", "murphy",
    "novak", "patel", "martin", "lopez", "berg", "petrov", "ali", "sato", "ivanova", "lee",
];
const GROUP_NAMES: &[&str] = &[
    "platform-admins",
    "security-auditors",
    "payments-engineers",
    "data-science",
    "sre-oncall",
    "finance-readonly",
    "network-ops",
    "ml-platform",
    "support-tier2",
    "dba-team",
    "frontend-devs",
    "incident-response",
];
const ACCOUNT_TEAMS: &[&str] = &[
    "payments",
    "ledger",
    "identity",
    "search",
    "checkout",
    "analytics",
    "logistics",
    "billing",
    "catalog",
    "messaging",
    "security",
    "shared-services",
    "data-lake",
    "mobile-api",
];
const ACCOUNT_STAGES: &[&str] = &["prod", "staging", "dev", "sandbox"];

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

const POLICY_NAMES: &[&str] = &[
    "AmazonEC2FullAccess",
    "AWSLambda_FullAccess",
    "AmazonS3ReadOnlyAccess",
    "AWSSupportAccess",
    "CloudWatchLogsFullAccess",
];

/// The causes the emulator can fail new requests with (`fail_requests` of
/// `POST /_emulator/faults`): the labels of ssowatch's failure causes, each with a reason text
/// its classifier sorts into that cause.
pub const FAILURE_CAUSES: [&str; 10] = [
    "policy_missing",
    "management_account",
    "account_unreachable",
    "role_quota",
    "access_denied",
    "conflicting_operation",
    "principal_missing",
    "assignment_missing",
    "internal_error",
    "other",
];

/// How long a request started by a write operation takes: the shortest duration, so a retry
/// is done soon while a client polling every 10 s still sees it in flight.
pub const WRITE_DURATION_SECS: i64 = MIN_DURATION_SECS;

/// A permission set, with both clouds' identifiers.
#[derive(Debug, Clone)]
pub struct PermissionSet {
    pub aws_arn: String,
    pub huawei_id: String,
    pub name: String,
    pub description: String,
    pub created: DateTime<Utc>,
}

/// An Identity Center instance, with both clouds' identifiers.
#[derive(Debug, Clone)]
pub struct InstanceInfo {
    pub aws_arn: String,
    pub huawei_id: String,
    pub identity_store_id: String,
    pub name: String,
    pub created: DateTime<Utc>,
}

/// One request of the simulation.
#[derive(Debug, Clone)]
pub struct SimRequest {
    pub request_id: String,
    pub created: DateTime<Utc>,
    pub finishes: DateTime<Utc>,
    pub failure_reason: Option<String>,
    pub account: u32,
    pub permission_set: u32,
    /// Index into users (false) or groups (true).
    pub principal: (bool, u32),
}

impl SimRequest {
    pub fn status_at(&self, now: DateTime<Utc>) -> Status {
        if now < self.finishes {
            Status::InProgress
        } else if self.failure_reason.is_some() {
            Status::Failed
        } else {
            Status::Succeeded
        }
    }
}

/// How the organization is generated.
#[derive(Debug, Clone)]
pub struct OrgSpec {
    pub seed: u64,
    pub instances: usize,
    pub accounts: usize,
    pub history: usize,
    pub rate: f64,
    pub failure_ratio: f64,
    /// Make some failure reasons carry escape sequences and control characters, to test that
    /// clients sanitize what they show.
    pub hostile_text: bool,
}

#[derive(Debug)]
pub struct Org {
    spec: OrgSpec,
    pub instances: Vec<InstanceInfo>,
    pub accounts: Vec<String>,
    pub permission_sets: Vec<PermissionSet>,
    pub users: Vec<String>,
    pub groups: Vec<String>,
    /// `user_names[i]` is the user name of `users[i]` (jane.doe); likewise for groups and
    /// accounts.
    pub user_names: Vec<String>,
    pub group_names: Vec<String>,
    pub account_names: Vec<String>,
    /// Requests per kind, oldest first; new ones are appended, so positions are stable.
    requests: [Vec<SimRequest>; 3],
    by_id: HashMap<String, (OperationKind, u32)>,
    rng: ChaCha8Rng,
    /// Draws for requests started by write operations, apart from `rng` so that they leave the
    /// seeded rollout as it is.
    write_rng: ChaCha8Rng,
    next_arrival: Option<DateTime<Utc>>,
}

fn hex(rng: &mut ChaCha8Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(rng.random_range(0..16u32), 16).unwrap_or('0'))
        .collect()
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    let b: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(b)
        .into_uuid()
        .hyphenated()
        .to_string()
}

impl Org {
    /// Builds the organization as it is at `start`: history spread over the 30 days before.
    pub fn new(spec: OrgSpec, start: DateTime<Utc>) -> Org {
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let instances = (0..spec.instances.max(1))
            .map(|i| {
                let id = hex(&mut rng, 16);
                InstanceInfo {
                    aws_arn: format!("arn:aws:sso:::instance/ssoins-{id}"),
                    huawei_id: format!("ins-{id}"),
                    identity_store_id: format!("d-{}", hex(&mut rng, 10)),
                    name: if i == 0 {
                        "Corp".to_string()
                    } else {
                        format!("Corp-{i}")
                    },
                    created: start - Duration::days(400),
                }
            })
            .collect::<Vec<_>>();
        let first = instances[0]
            .aws_arn
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string();
        let accounts: Vec<String> = (0..spec.accounts.max(1))
            .map(|_| {
                format!(
                    "{:012}",
                    rng.random_range(100_000_000_000u64..999_999_999_999)
                )
            })
            .collect();
        let permission_sets = PERMISSION_SET_NAMES
            .iter()
            .map(|name| {
                let id = hex(&mut rng, 16);
                PermissionSet {
                    aws_arn: format!("arn:aws:sso:::permissionSet/{first}/ps-{id}"),
                    huawei_id: format!("ps-{id}"),
                    name: (*name).to_string(),
                    description: format!("{name} for the Corp landing zone"),
                    created: start - Duration::days(300),
                }
            })
            .collect();
        let users: Vec<String> = (0..40).map(|_| uuid(&mut rng)).collect();
        let groups: Vec<String> = (0..12).map(|_| uuid(&mut rng)).collect();
        let shift = spec.seed as usize;
        let user_names = (0..users.len())
            .map(|i| {
                // Distinct for every i below 400: the first name walks the list, and each lap
                // shifts the last name by 7.
                let first = FIRST_NAMES[(i + shift) % FIRST_NAMES.len()];
                let lap = i / FIRST_NAMES.len();
                let last = LAST_NAMES[(i + lap * 7 + shift / 3) % LAST_NAMES.len()];
                format!("{first}.{last}")
            })
            .collect();
        let group_names = (0..groups.len())
            .map(|i| match i / GROUP_NAMES.len() {
                0 => GROUP_NAMES[(i + shift) % GROUP_NAMES.len()].to_string(),
                lap => format!("{}-{lap}", GROUP_NAMES[(i + shift) % GROUP_NAMES.len()]),
            })
            .collect();
        let account_names = (0..accounts.len())
            .map(|i| {
                let team = ACCOUNT_TEAMS[(i + shift) % ACCOUNT_TEAMS.len()];
                let stage_lap = i / ACCOUNT_TEAMS.len();
                match ACCOUNT_STAGES.get(stage_lap) {
                    Some(stage) => format!("{team}-{stage}"),
                    None => format!("{team}-{stage_lap}"),
                }
            })
            .collect();
        let write_rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x5752_4954_4553);
        let mut org = Org {
            spec,
            instances,
            accounts,
            permission_sets,
            users,
            groups,
            user_names,
            group_names,
            account_names,
            requests: Default::default(),
            by_id: HashMap::new(),
            rng,
            write_rng,
            next_arrival: None,
        };
        org.generate_history(start);
        if org.spec.rate > 0.0 {
            let gap = org.arrival_gap();
            org.next_arrival = Some(start + gap);
        }
        org
    }

    fn generate_history(&mut self, start: DateTime<Utc>) {
        let span_ms = Duration::days(30).num_milliseconds();
        for kind in OperationKind::ALL {
            let mut batch: Vec<SimRequest> = (0..self.spec.history)
                .map(|_| {
                    let back = self.rng.random_range(3_600_000..span_ms);
                    let created = start - Duration::milliseconds(back);
                    self.new_request(kind, created)
                })
                .collect();
            batch.sort_by(|a, b| {
                a.created
                    .cmp(&b.created)
                    .then(a.request_id.cmp(&b.request_id))
            });
            for request in batch {
                self.push(kind, request);
            }
        }
    }

    fn push(&mut self, kind: OperationKind, request: SimRequest) {
        let list = &mut self.requests[kind.index()];
        self.by_id
            .insert(request.request_id.clone(), (kind, list.len() as u32));
        list.push(request);
    }

    fn arrival_gap(&mut self) -> Duration {
        // Exponential inter-arrival times: a Poisson stream of requests.
        let u: f64 = self.rng.random_range(f64::EPSILON..1.0);
        let secs = -u.ln() / self.spec.rate;
        Duration::milliseconds((secs * 1000.0).clamp(1.0, 3.6e9) as i64)
    }

    fn new_request(&mut self, kind: OperationKind, created: DateTime<Utc>) -> SimRequest {
        let secs = match kind {
            // Provisioning to many accounts takes minutes (one public report: 1200 operations
            // in 61 minutes).
            OperationKind::PermissionSetProvisioning => self.rng.random_range(60..900),
            _ => {
                // Most assignments finish within a minute; some take a few.
                if self.rng.random_bool(0.7) {
                    self.rng.random_range(MIN_DURATION_SECS..60)
                } else {
                    self.rng.random_range(60..300)
                }
            }
        };
        let account = self.rng.random_range(0..self.accounts.len() as u32);
        let permission_set = self.rng.random_range(0..self.permission_sets.len() as u32);
        let principal = if self.rng.random_bool(0.6) {
            (true, self.rng.random_range(0..self.groups.len() as u32))
        } else {
            (false, self.rng.random_range(0..self.users.len() as u32))
        };
        let failed = self
            .rng
            .random_bool(self.spec.failure_ratio.clamp(0.0, 1.0));
        let failure_reason = failed.then(|| self.failure_reason(kind, account, principal));
        SimRequest {
            request_id: uuid(&mut self.rng),
            created,
            finishes: created + Duration::seconds(secs),
            failure_reason,
            account,
            permission_set,
            principal,
        }
    }

    /// Failure reasons as seen in public issue threads, filled with this organization's ids.
    fn failure_reason(
        &mut self,
        kind: OperationKind,
        account: u32,
        principal: (bool, u32),
    ) -> String {
        let account = &self.accounts[account as usize];
        let directory = &self.instances[0].identity_store_id;
        let reason = match (kind, self.rng.random_range(0..5u8)) {
            (_, 0) => "An unexpected internal service exception was encountered".to_string(),
            (_, 1) => format!(
                "AWS SSO is unable to complete your request at this time. Obtaining permissions to manage your AWS account '{account}' takes longer than usual. Please try again in a few minutes. If this problem continues, contact AWS Support."
            ),
            (OperationKind::AssignmentDeletion, _) => {
                let accessor = uuid(&mut self.rng);
                format!(
                    "Received a 404 status error: EntitlementItem doesn't exist with the given entitlement key EntitlementKey{{accessorId=AccessorId{{value={accessor}}}, resourceId=ResourceId{{value={account}}}}}"
                )
            }
            (_, 2) | (OperationKind::PermissionSetProvisioning, _) => {
                let policy = POLICY_NAMES[self.rng.random_range(0..POLICY_NAMES.len())];
                format!(
                    "Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/{policy}"
                )
            }
            _ => {
                let (is_group, idx) = principal;
                let (label, id) = if is_group {
                    ("GROUP", &self.groups[idx as usize])
                } else {
                    ("USER", &self.users[idx as usize])
                };
                format!(
                    "Received a 404 status error: the {label} assignee {id} was not found in directory {directory}"
                )
            }
        };
        if self.spec.hostile_text && self.rng.random_bool(0.5) {
            format!("\u{1b}[2J\u{1b}]0;pwned\u{7}{reason}\u{1b}[31m\r\n\u{9b}1m")
        } else {
            reason
        }
    }

    /// Generates the live rollout's requests that arrived up to `now`.
    pub fn advance_to(&mut self, now: DateTime<Utc>) {
        while let Some(at) = self.next_arrival {
            if at > now {
                break;
            }
            // Creation is the bulk of a rollout; provisioning follows permission-set changes.
            let kind = match self.rng.random_range(0..10u8) {
                0..=4 => OperationKind::AssignmentCreation,
                5..=6 => OperationKind::AssignmentDeletion,
                _ => OperationKind::PermissionSetProvisioning,
            };
            let request = self.new_request(kind, at);
            self.push(kind, request);
            let gap = self.arrival_gap();
            self.next_arrival = Some(at + gap);
        }
    }

    /// A reason of `cause` (one of [`FAILURE_CAUSES`]) for a request of `kind`, filled with
    /// this organization's ids; `None` for a cause it does not know.
    pub fn reason_of_cause(
        &mut self,
        cause: &str,
        kind: OperationKind,
        account: u32,
        principal: (bool, u32),
    ) -> Option<String> {
        let account_id = self.accounts.get(account as usize)?.clone();
        let directory = &self.instances[0].identity_store_id;
        Some(match cause {
            "policy_missing" => {
                let policy = POLICY_NAMES[self.write_rng.random_range(0..POLICY_NAMES.len())];
                format!(
                    "Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/{policy}"
                )
            }
            "management_account" => format!(
                "Unable to manage account {account_id}: a delegated administrator cannot manage the management account"
            ),
            "account_unreachable" => format!(
                "AWS SSO is unable to complete your request at this time. Obtaining permissions to manage your AWS account '{account_id}' takes longer than usual. Please try again in a few minutes. If this problem continues, contact AWS Support."
            ),
            "role_quota" => "Cannot exceed quota for RolesPerAccount: 1000".to_string(),
            "access_denied" => format!(
                "Access denied: an SCP in account {account_id} denies iam:UpdateSAMLProvider"
            ),
            "conflicting_operation" => {
                "ConflictException: There is a conflicting operation in process.".to_string()
            }
            "principal_missing" => {
                let (is_group, idx) = principal;
                let (label, id) = if is_group {
                    ("GROUP", self.groups.get(idx as usize)?)
                } else {
                    ("USER", self.users.get(idx as usize)?)
                };
                format!(
                    "Received a 404 status error: the {label} assignee {id} was not found in directory {directory}"
                )
            }
            "assignment_missing" => {
                let accessor = uuid(&mut self.write_rng);
                format!(
                    "Received a 404 status error: EntitlementItem doesn't exist with the given entitlement key EntitlementKey{{accessorId=AccessorId{{value={accessor}}}, resourceId=ResourceId{{value={account_id}}}}}"
                )
            }
            "internal_error" => {
                "An unexpected internal service exception was encountered".to_string()
            }
            "other" => format!(
                "The {} request met something nobody has seen before",
                kind.short()
            ),
            _ => return None,
        })
    }

    pub fn account_index(&self, id: &str) -> Option<u32> {
        self.accounts.iter().position(|a| a == id).map(|i| i as u32)
    }

    /// The principal of `principal_type` (`USER` or `GROUP`) with `id`.
    pub fn principal_index(&self, principal_type: &str, id: &str) -> Option<(bool, u32)> {
        let (is_group, list) = match principal_type {
            "USER" => (false, &self.users),
            "GROUP" => (true, &self.groups),
            _ => return None,
        };
        let i = list.iter().position(|p| p == id)?;
        Some((is_group, i as u32))
    }

    /// Starts a request of `kind` at `now`, as a write operation does: IN_PROGRESS for
    /// [`WRITE_DURATION_SECS`], then FAILED with a reason of `fail_cause` if one is given (see
    /// [`FAILURE_CAUSES`]), SUCCEEDED otherwise. It is listed and described like any other.
    pub fn submit(
        &mut self,
        kind: OperationKind,
        now: DateTime<Utc>,
        account: u32,
        permission_set: u32,
        principal: (bool, u32),
        fail_cause: Option<&str>,
    ) -> SimRequest {
        self.advance_to(now);
        // Requests stay in creation order: a write never lands before the last one listed.
        let created = self.requests[kind.index()]
            .last()
            .map_or(now, |last| last.created.max(now));
        let failure_reason =
            fail_cause.and_then(|c| self.reason_of_cause(c, kind, account, principal));
        let request = SimRequest {
            request_id: uuid(&mut self.write_rng),
            created,
            finishes: created + Duration::seconds(WRITE_DURATION_SECS),
            failure_reason,
            account,
            permission_set,
            principal,
        };
        self.push(kind, request.clone());
        request
    }

    /// A user's display name (Jane Doe), from its user name.
    pub fn user_display_name(&self, index: usize) -> Option<String> {
        let user_name = self.user_names.get(index)?;
        Some(
            user_name
                .split('.')
                .map(capitalized)
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    pub fn requests(&self, kind: OperationKind) -> &[SimRequest] {
        &self.requests[kind.index()]
    }

    pub fn find(&self, kind: OperationKind, request_id: &str) -> Option<&SimRequest> {
        match self.by_id.get(request_id) {
            Some(&(k, i)) if k == kind => self.requests[k.index()].get(i as usize),
            _ => None,
        }
    }

    pub fn instance_by_aws_arn(&self, arn: &str) -> Option<usize> {
        self.instances.iter().position(|i| i.aws_arn == arn)
    }

    pub fn instance_by_huawei_id(&self, id: &str) -> Option<usize> {
        self.instances.iter().position(|i| i.huawei_id == id)
    }

    pub fn permission_set_by_aws_arn(&self, arn: &str) -> Option<&PermissionSet> {
        self.permission_sets.iter().find(|p| p.aws_arn == arn)
    }

    pub fn permission_set_by_huawei_id(&self, id: &str) -> Option<&PermissionSet> {
        self.permission_sets.iter().find(|p| p.huawei_id == id)
    }

    pub fn summary(
        &self,
        kind: OperationKind,
        r: &SimRequest,
        now: DateTime<Utc>,
    ) -> StatusSummary {
        StatusSummary {
            kind,
            request_id: r.request_id.clone(),
            status: r.status_at(now),
            created: r.created,
        }
    }

    /// The describe answer; `huawei` picks the permission set's Huawei id over its AWS ARN.
    pub fn detail(
        &self,
        kind: OperationKind,
        r: &SimRequest,
        now: DateTime<Utc>,
        huawei: bool,
    ) -> RequestDetail {
        let ps = &self.permission_sets[r.permission_set as usize];
        let assignment = kind != OperationKind::PermissionSetProvisioning;
        let (is_group, idx) = r.principal;
        RequestDetail {
            failure_reason: match r.status_at(now) {
                Status::Failed => r.failure_reason.clone(),
                _ => None,
            },
            target_account: Some(self.accounts[r.account as usize].clone()),
            target_type: assignment
                .then(|| if huawei { "ACCOUNT" } else { "AWS_ACCOUNT" }.to_string()),
            permission_set: Some(if huawei {
                ps.huawei_id.clone()
            } else {
                ps.aws_arn.clone()
            }),
            permission_set_name: None,
            principal_name: None,
            account_name: None,
            principal_type: assignment.then(|| if is_group { "GROUP" } else { "USER" }.to_string()),
            principal_id: assignment.then(|| {
                if is_group {
                    self.groups[idx as usize].clone()
                } else {
                    self.users[idx as usize].clone()
                }
            }),
        }
    }

    /// Requests of `kind` visible at `now` (created by then) from raw position `from`, that
    /// match `filter`, at most `limit`. Returns them and the raw position to continue from,
    /// if any matching request may remain. The visible end is a binary search (requests are
    /// in creation order), the rest costs the page: never the whole history.
    pub fn page(
        &self,
        kind: OperationKind,
        filter: Option<&Status>,
        from: usize,
        limit: usize,
        now: DateTime<Utc>,
    ) -> (Vec<&SimRequest>, Option<usize>) {
        let list = &self.requests[kind.index()];
        let visible = list.partition_point(|r| r.created <= now);
        super::paging::page(&list[..visible], from, limit, |r| {
            filter.is_none_or(|f| r.status_at(now) == *f)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn spec() -> OrgSpec {
        OrgSpec {
            seed: 42,
            instances: 2,
            accounts: 20,
            history: 50,
            rate: 1.0,
            failure_ratio: 0.2,
            hostile_text: false,
        }
    }

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn same_seed_same_organization() {
        let mut a = Org::new(spec(), start());
        let mut b = Org::new(spec(), start());
        a.advance_to(start() + Duration::minutes(10));
        b.advance_to(start() + Duration::minutes(10));
        for kind in OperationKind::ALL {
            let ids = |o: &Org| {
                o.requests(kind)
                    .iter()
                    .map(|r| r.request_id.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(&a), ids(&b));
        }
        let other = Org::new(OrgSpec { seed: 43, ..spec() }, start());
        assert_ne!(a.instances[0].aws_arn, other.instances[0].aws_arn);
    }

    #[test]
    fn names_are_realistic_distinct_and_seeded() {
        let big = Org::new(
            OrgSpec {
                accounts: 300,
                ..spec()
            },
            start(),
        );
        for names in [&big.user_names, &big.group_names, &big.account_names] {
            let distinct: std::collections::HashSet<&String> = names.iter().collect();
            assert_eq!(distinct.len(), names.len(), "{names:?}");
        }
        assert_eq!(big.account_names.len(), 300);
        assert!(big.user_names.iter().all(|n| n.contains('.')));
        assert!(big.account_names.iter().any(|n| n.ends_with("-prod")));
        assert_eq!(
            big.user_display_name(0).map(|d| d.contains(' ')),
            Some(true)
        );
        let other = Org::new(OrgSpec { seed: 43, ..spec() }, start());
        let same = Org::new(spec(), start());
        assert_eq!(same.user_names, Org::new(spec(), start()).user_names);
        assert_ne!(same.user_names, other.user_names);
    }

    #[test]
    fn history_is_finished_and_live_requests_move_through_their_lifecycle() {
        let mut org = Org::new(spec(), start());
        for kind in OperationKind::ALL {
            assert_eq!(org.requests(kind).len(), 50);
            assert!(
                org.requests(kind)
                    .iter()
                    .all(|r| r.status_at(start()).is_finished())
            );
        }
        let now = start() + Duration::minutes(5);
        org.advance_to(now);
        let live: Vec<&SimRequest> = OperationKind::ALL
            .iter()
            .flat_map(|&k| org.requests(k).iter().filter(|r| r.created > start()))
            .collect();
        assert!(live.len() > 200, "rate 1/s for 5 min: {}", live.len());
        for r in &live {
            assert_eq!(r.status_at(r.created), Status::InProgress);
            assert!(r.finishes - r.created >= Duration::seconds(MIN_DURATION_SECS));
            assert!(r.status_at(r.finishes).is_finished());
        }
        assert!(live.iter().any(|r| r.status_at(now) == Status::InProgress));
        assert!(live.iter().any(|r| r.failure_reason.is_some()));
    }

    #[test]
    fn paging_visits_every_visible_request_once() {
        let mut org = Org::new(spec(), start());
        let now = start() + Duration::minutes(3);
        org.advance_to(now);
        let kind = OperationKind::AssignmentCreation;
        let mut seen = Vec::new();
        let mut from = Some(0);
        while let Some(pos) = from {
            let (items, next) = org.page(kind, None, pos, 7, now);
            seen.extend(items.iter().map(|r| r.request_id.clone()));
            from = next;
        }
        let expected: Vec<String> = org
            .requests(kind)
            .iter()
            .filter(|r| r.created <= now)
            .map(|r| r.request_id.clone())
            .collect();
        assert_eq!(seen, expected);
    }
}
