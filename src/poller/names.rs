//! Names for the ids the status APIs speak in: users and groups (Identity Store), accounts
//! (Organizations) and permission sets (Identity Center's own DescribePermissionSet).
//!
//! Names are background work: each id is asked once, and what is learnt (misses too) is kept on
//! disk for [`NAME_TTL`], so a restart asks nothing it already knows. Identity Store and
//! Organizations have rate limits of their own, separate from Identity Center's 20 requests per
//! second, so each gets its own small limiter ([`IDENTITY_STORE_RPS`], [`ORGANIZATIONS_RPS`])
//! and never spends the status budget.
//! Permission-set names are Identity Center calls: the planner queues them on its budget, and
//! this module only decides whether they are needed.
//!
//! A denied call is never repeated: the service's names are switched off for the process, the
//! ids stay on screen, and the operator is told once which permission would add them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::budget::RateLimiter;
use super::event::Event;
use super::plan::{Call, MAX_ATTEMPTS};
use crate::model::NameKind;
use crate::provider::{AccountPage, ErrorKind, MAX_ACCOUNT_PAGES, ProviderError};

/// Requests per second for Identity Store: one DescribeUser/DescribeGroup per principal on
/// screen, so a first screen of a few dozen principals is named within about 15 s. Small next
/// to the service's own quota, which it does not share with Identity Center's 20 req/s.
pub const IDENTITY_STORE_RPS: f64 = 3.0;
/// Requests per second for Organizations: one ListAccounts page names 20 accounts, so this is
/// rarely the bottleneck, and Organizations' quotas are low and account-wide.
pub const ORGANIZATIONS_RPS: f64 = 1.0;
/// How long a name (or the knowledge that an id has none) is trusted: names change rarely.
pub const NAME_TTL: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// Upper bound on cached names.
const MAX_NAMES: usize = 200_000;
const FORMAT_VERSION: u32 = 1;

/// The services that hold names, each with its own limiter and its own permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameService {
    IdentityStore,
    Organizations,
    /// DescribePermissionSet, on the Identity Center budget.
    IdentityCenter,
}

impl NameService {
    pub fn of(kind: NameKind) -> NameService {
        match kind {
            NameKind::User | NameKind::Group => NameService::IdentityStore,
            NameKind::Account => NameService::Organizations,
            NameKind::PermissionSet => NameService::IdentityCenter,
        }
    }

    /// What the operator reads once when this service refuses: which permission adds names.
    pub fn denied_hint(self, provider: &str) -> String {
        let permissions = match (provider, self) {
            // Huawei's identity-store and Organizations action names vary by policy edition:
            // name the API, which the operator can look up in their console.
            ("huawei", NameService::IdentityStore) => {
                "read access to the IAM Identity Center identity store (describe user, describe group)"
            }
            ("huawei", NameService::Organizations) => {
                "Organizations read access (list accounts, or show account)"
            }
            ("huawei", NameService::IdentityCenter) => {
                "IAM Identity Center read access to permission sets"
            }
            (_, NameService::IdentityStore) => {
                "identitystore:DescribeUser and identitystore:DescribeGroup"
            }
            (_, NameService::Organizations) => {
                "organizations:ListAccounts (or organizations:DescribeAccount)"
            }
            (_, NameService::IdentityCenter) => "sso:DescribePermissionSet",
        };
        let what = match self {
            NameService::IdentityStore => "user and group names",
            NameService::Organizations => "account names",
            NameService::IdentityCenter => "permission-set names",
        };
        format!("{what} are not allowed, ids shown instead; {what} need {permissions}")
    }
}

/// One name as kept on disk: `name: None` remembers that the id has none (or is gone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CachedName {
    kind: NameKind,
    id: String,
    name: Option<String>,
    fetched: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct NameFile {
    version: u32,
    names: Vec<CachedName>,
}

/// The names known, on disk next to the describe cache.
pub struct NameCache {
    path: Option<PathBuf>,
    entries: HashMap<(NameKind, String), CachedName>,
    dirty: bool,
}

/// The name file that goes with a describe cache file: `describes-…json` -> `names-…json`.
pub fn path_beside(describe_cache: &Path) -> PathBuf {
    let file = describe_cache
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match file.strip_prefix("describes-") {
        Some(rest) => format!("names-{rest}"),
        None => format!("names-{file}"),
    };
    describe_cache.with_file_name(name)
}

impl NameCache {
    /// Opens the cache at `path` (none: in memory only). Expired, unreadable or corrupt
    /// entries are dropped, never an error: names are a nicety.
    pub fn open(path: Option<PathBuf>, now: DateTime<Utc>) -> NameCache {
        let mut entries = HashMap::new();
        if let Some(path) = &path {
            if let Some(dir) = path.parent() {
                super::cache::remove_leftover_temp_files(dir);
            }
            match std::fs::read(path) {
                Ok(bytes) => match serde_json::from_slice::<NameFile>(&bytes) {
                    Ok(file) if file.version == FORMAT_VERSION => {
                        for entry in file.names {
                            if now.signed_duration_since(entry.fetched) < NAME_TTL
                                && entry.fetched <= now + NAME_TTL
                            {
                                let name = entry.name.as_deref().map(crate::sanitize::clean_text);
                                entries.insert(
                                    (entry.kind, entry.id.clone()),
                                    CachedName { name, ..entry },
                                );
                            }
                        }
                    }
                    Ok(_) => {
                        tracing::warn!(path = %path.display(), "ignoring name cache of another version")
                    }
                    Err(error) => {
                        tracing::warn!(%error, path = %path.display(), "ignoring corrupt name cache")
                    }
                },
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::warn!(%error, path = %path.display(), "cannot read name cache")
                }
            }
        }
        NameCache {
            path,
            entries,
            dirty: false,
        }
    }

    /// `Some(name)` when known: `Some(None)` for a remembered miss.
    pub fn get(&self, kind: NameKind, id: &str) -> Option<Option<&str>> {
        self.entries
            .get(&(kind, id.to_string()))
            .map(|e| e.name.as_deref())
    }

    pub fn insert(&mut self, kind: NameKind, id: &str, name: Option<String>, now: DateTime<Utc>) {
        self.entries.insert(
            (kind, id.to_string()),
            CachedName {
                kind,
                id: id.to_string(),
                name,
                fetched: now,
            },
        );
        self.dirty = true;
    }

    /// Every name known (misses left out).
    pub fn names(&self) -> Vec<(NameKind, String, String)> {
        self.entries
            .values()
            .filter_map(|e| Some((e.kind, e.id.clone(), e.name.clone()?)))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the file if anything changed (atomically, readable by the owner only).
    pub fn flush(&mut self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if !self.dirty {
            return Ok(());
        }
        let mut names: Vec<CachedName> = self.entries.values().cloned().collect();
        if names.len() > MAX_NAMES {
            names.sort_by_key(|e| std::cmp::Reverse(e.fetched));
            names.truncate(MAX_NAMES);
        }
        let body = serde_json::to_vec(&NameFile {
            version: FORMAT_VERSION,
            names,
        })
        .map_err(std::io::Error::other)?;
        super::cache::write_private_atomic(path, &body)?;
        self.dirty = false;
        Ok(())
    }

    pub fn flush_logged(&mut self) {
        if let Err(error) = self.flush() {
            let path = self.path.as_deref().unwrap_or(Path::new("")).display();
            tracing::warn!(%error, %path, "cannot write name cache");
        }
    }
}

/// Where account names come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AccountSource {
    /// One paged ListAccounts names every account; `token` is the next page's.
    Listing { token: Option<String>, pages: usize },
    /// The listing is complete, or was denied: DescribeAccount, one per account.
    Describing,
    /// Neither works: ids stay.
    Off,
}

/// One name service's pacing and state.
struct Lane {
    limiter: RateLimiter,
    in_flight: bool,
    /// Refused for good (denied, or not offered): never asked again this process.
    off: bool,
}

impl Lane {
    fn new(rate: f64, seed: u64) -> Lane {
        Lane {
            limiter: RateLimiter::new(rate, seed),
            in_flight: false,
            off: false,
        }
    }

    fn ready(&self, now: Duration) -> bool {
        !self.off && !self.in_flight && self.limiter.ready_at(now) <= now
    }
}

/// Finding the identity store of an instance given by id (`--instance-arn`), which skips the
/// ListInstances that would have told it: one ListInstances, once a principal needs a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreLookup {
    NotNeeded,
    Wanted { failures: u32 },
    InFlight { failures: u32 },
    Done,
}

/// Decides which names to fetch, paces them, and remembers them.
pub struct NameResolver {
    cache: NameCache,
    provider: String,
    instance: String,
    identity_store: Option<String>,
    store_lookup: StoreLookup,
    /// Ids asked for this process (whatever came of it): each is asked once.
    asked: HashSet<(NameKind, String)>,
    principals: VecDeque<(NameKind, String)>,
    accounts: VecDeque<String>,
    account_source: AccountSource,
    identity_store_lane: Lane,
    organizations_lane: Lane,
    /// Failed attempts of one name (or of the account listing, keyed by the empty id).
    failures: HashMap<(NameKind, String), u32>,
    /// Services whose refusal the operator was told about.
    hinted: HashSet<NameService>,
    permission_sets_off: bool,
}

impl NameResolver {
    pub fn new(cache: NameCache, seed: u64) -> NameResolver {
        NameResolver {
            cache,
            provider: String::new(),
            instance: String::new(),
            identity_store: None,
            store_lookup: StoreLookup::Done,
            asked: HashSet::new(),
            principals: VecDeque::new(),
            accounts: VecDeque::new(),
            account_source: AccountSource::Listing {
                token: None,
                pages: 0,
            },
            identity_store_lane: Lane::new(IDENTITY_STORE_RPS, seed ^ 0x1d),
            organizations_lane: Lane::new(ORGANIZATIONS_RPS, seed ^ 0x0e),
            failures: HashMap::new(),
            hinted: HashSet::new(),
            permission_sets_off: false,
        }
    }

    /// Which cloud (for the permission names in hints), the instance, and the identity store
    /// that holds its users and groups (`None`: looked up with one ListInstances when a
    /// principal first needs a name).
    pub fn set_target(&mut self, provider: &str, instance: &str, identity_store: Option<String>) {
        self.provider = provider.to_string();
        self.instance = instance.to_string();
        self.identity_store = identity_store.filter(|s| !s.is_empty());
        self.store_lookup = if self.identity_store.is_some() || instance.is_empty() {
            StoreLookup::NotNeeded
        } else {
            StoreLookup::Wanted { failures: 0 }
        };
    }

    /// Whether the identity store must be looked up before principals can be named.
    pub fn wants_store_lookup(&self) -> bool {
        matches!(self.store_lookup, StoreLookup::Wanted { .. }) && !self.principals.is_empty()
    }

    /// The ListInstances that finds the identity store (an Identity Center call: the caller
    /// spends the status budget on it).
    pub fn take_store_lookup(&mut self) -> Option<Call> {
        let StoreLookup::Wanted { failures } = self.store_lookup else {
            return None;
        };
        self.store_lookup = StoreLookup::InFlight { failures };
        Some(Call::FindIdentityStore)
    }

    /// The lookup's answer: the instance's identity store, or (not found, or failing for good)
    /// ids for users and groups.
    pub fn on_instances(&mut self, result: Result<&[crate::model::Instance], &ProviderError>) {
        let failures = match self.store_lookup {
            StoreLookup::InFlight { failures } => failures,
            _ => 0,
        };
        match result {
            Ok(instances) => {
                self.identity_store = instances
                    .iter()
                    .find(|i| i.id == self.instance)
                    .and_then(|i| i.identity_store_id.clone())
                    .filter(|s| !s.is_empty());
                self.store_lookup = StoreLookup::Done;
            }
            Err(error) if error.kind.is_retryable() && failures + 1 < MAX_ATTEMPTS => {
                self.store_lookup = StoreLookup::Wanted {
                    failures: failures + 1,
                };
            }
            Err(error) => {
                tracing::warn!(%error, "cannot find the identity store: user and group ids stay");
                self.store_lookup = StoreLookup::Done;
            }
        }
        if self.identity_store.is_none() && self.store_lookup == StoreLookup::Done {
            self.principals.clear();
        }
    }

    /// The names already known, for the app at start.
    pub fn cached_events(&self) -> Vec<Event> {
        self.cache
            .names()
            .into_iter()
            .map(|(kind, id, name)| Event::Name { kind, id, name })
            .collect()
    }

    /// Ids seen on a row. Returns the permission sets whose names the planner should ask for
    /// (on the Identity Center budget); the others are queued here.
    pub fn want<'a>(&mut self, ids: impl IntoIterator<Item = (NameKind, &'a str)>) -> Vec<String> {
        let mut permission_sets = Vec::new();
        for (kind, id) in ids {
            if id.is_empty() || self.cache.get(kind, id).is_some() {
                continue;
            }
            if !self.asked.insert((kind, id.to_string())) {
                continue;
            }
            match kind {
                NameKind::PermissionSet if !self.permission_sets_off => {
                    permission_sets.push(id.to_string())
                }
                NameKind::PermissionSet => {}
                NameKind::User | NameKind::Group => {
                    self.principals.push_back((kind, id.to_string()))
                }
                NameKind::Account => self.accounts.push_back(id.to_string()),
            }
        }
        permission_sets
    }

    /// Name calls currently on the wire (they do not count against the status budget).
    pub fn in_flight(&self) -> usize {
        usize::from(self.identity_store_lane.in_flight)
            + usize::from(self.organizations_lane.in_flight)
    }

    /// The name calls that may start at `now`: at most one per service at a time, each on its
    /// own limiter.
    pub fn due_calls(&mut self, now: Duration) -> Vec<Call> {
        let mut calls = Vec::new();
        if self.identity_store.is_none() && self.store_lookup == StoreLookup::Done {
            self.principals.clear();
        }
        if self.identity_store_lane.ready(now)
            && let Some(identity_store) = self.identity_store.clone()
            && let Some((kind, principal)) = self.principals.pop_front()
            && self.identity_store_lane.limiter.try_acquire(now)
        {
            self.identity_store_lane.in_flight = true;
            calls.push(Call::PrincipalName {
                kind,
                identity_store,
                principal,
            });
        }
        if self.organizations_lane.ready(now)
            && let Some(call) = self.next_account_call()
            && self.organizations_lane.limiter.try_acquire(now)
        {
            self.organizations_lane.in_flight = true;
            calls.push(call);
        }
        calls
    }

    fn next_account_call(&mut self) -> Option<Call> {
        match &self.account_source {
            // The listing runs only when some row needs an account name.
            AccountSource::Listing { token, .. } if !self.accounts.is_empty() => {
                Some(Call::ListAccounts {
                    token: token.clone(),
                })
            }
            AccountSource::Describing => self
                .accounts
                .pop_front()
                .map(|account| Call::AccountName { account }),
            _ => None,
        }
    }

    /// When a name call may next start, if one is waiting.
    pub fn next_wake(&self, now: Duration) -> Option<Duration> {
        let lane_wake = |lane: &Lane, waiting: bool| {
            (waiting && !lane.off && !lane.in_flight).then(|| lane.limiter.ready_at(now))
        };
        let principals = lane_wake(
            &self.identity_store_lane,
            self.identity_store.is_some() && !self.principals.is_empty(),
        );
        let accounts = lane_wake(
            &self.organizations_lane,
            !self.accounts.is_empty()
                && matches!(
                    self.account_source,
                    AccountSource::Listing { .. } | AccountSource::Describing
                ),
        );
        match (principals, accounts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A name arrived (or the id has none: `None`).
    pub fn on_name(
        &mut self,
        kind: NameKind,
        id: String,
        name: Option<String>,
        wall: DateTime<Utc>,
    ) -> Vec<Event> {
        self.finish_call(kind, true);
        self.remember(kind, id, name, wall)
    }

    fn remember(
        &mut self,
        kind: NameKind,
        id: String,
        name: Option<String>,
        wall: DateTime<Utc>,
    ) -> Vec<Event> {
        self.failures.remove(&(kind, id.clone()));
        self.cache.insert(kind, &id, name.clone(), wall);
        name.map(|name| Event::Name { kind, id, name })
            .into_iter()
            .collect()
    }

    fn finish_call(&mut self, kind: NameKind, ok: bool) {
        let lane = match NameService::of(kind) {
            NameService::IdentityStore => &mut self.identity_store_lane,
            NameService::Organizations => &mut self.organizations_lane,
            NameService::IdentityCenter => return,
        };
        lane.in_flight = false;
        if ok {
            lane.limiter.on_success();
        }
    }

    /// A page of the account listing arrived: every account on it is named at once.
    pub fn on_accounts(&mut self, page: AccountPage, wall: DateTime<Utc>) -> Vec<Event> {
        self.finish_call(NameKind::Account, true);
        self.failures.remove(&(NameKind::Account, String::new()));
        let mut events = Vec::new();
        for (id, name) in page.accounts {
            self.accounts.retain(|a| *a != id);
            self.asked.insert((NameKind::Account, id.clone()));
            events.extend(self.remember(NameKind::Account, id, Some(name), wall));
        }
        let pages = match &self.account_source {
            AccountSource::Listing { pages, .. } => pages + 1,
            _ => 1,
        };
        match page.next_token {
            Some(token) if pages < MAX_ACCOUNT_PAGES => {
                self.account_source = AccountSource::Listing {
                    token: Some(token),
                    pages,
                };
            }
            _ => {
                // The listing is complete: an account it did not name has no name we may read
                // (a closed or foreign account). Later ones are described one by one.
                for id in std::mem::take(&mut self.accounts) {
                    self.cache.insert(NameKind::Account, &id, None, wall);
                }
                self.account_source = AccountSource::Describing;
            }
        }
        events
    }

    /// A name call failed. Denied and unsupported calls switch their service off (with one
    /// hint for the denied); a retryable failure is asked again a bounded number of times;
    /// an id the service does not know is remembered as a miss.
    pub fn on_error(
        &mut self,
        call: &Call,
        error: &ProviderError,
        now: Duration,
        wall: DateTime<Utc>,
    ) -> Vec<Event> {
        let (kind, id) = match call {
            Call::PrincipalName {
                kind, principal, ..
            } => (*kind, principal.clone()),
            Call::AccountName { account } => (NameKind::Account, account.clone()),
            Call::ListAccounts { .. } => (NameKind::Account, String::new()),
            Call::PermissionSetName { permission_set } => {
                (NameKind::PermissionSet, permission_set.clone())
            }
            Call::List { .. } | Call::Describe(_) | Call::FindIdentityStore => return Vec::new(),
        };
        self.finish_call(kind, false);
        let service = NameService::of(kind);
        let lane = match service {
            NameService::IdentityStore => Some(&mut self.identity_store_lane),
            NameService::Organizations => Some(&mut self.organizations_lane),
            NameService::IdentityCenter => None,
        };
        if let Some(lane) = lane {
            match error.kind {
                ErrorKind::Throttled => {
                    lane.limiter.on_throttled(now);
                }
                ErrorKind::Transient | ErrorKind::Malformed | ErrorKind::Conflict => {
                    lane.limiter.on_pushback(now);
                }
                _ => {}
            }
        }
        tracing::warn!(kind = ?kind, %id, %error, "no name");
        let listing = matches!(call, Call::ListAccounts { .. });
        match error.kind {
            ErrorKind::NotFound | ErrorKind::Validation if !listing => {
                self.remember(kind, id, None, wall)
            }
            // A delegated administrator may describe accounts without listing them.
            ErrorKind::Auth | ErrorKind::Config | ErrorKind::NotFound | ErrorKind::Validation
                if listing =>
            {
                self.account_source = AccountSource::Describing;
                Vec::new()
            }
            ErrorKind::Auth => self.switch_off(service, true),
            ErrorKind::Config | ErrorKind::Unsupported => self.switch_off(service, false),
            _ => {
                let failures = self.failures.entry((kind, id.clone())).or_default();
                *failures += 1;
                if *failures >= MAX_ATTEMPTS {
                    // Given up for this process; the id stays, and the next start tries again.
                    if listing {
                        self.account_source = AccountSource::Describing;
                    }
                    return Vec::new();
                }
                match call {
                    Call::PrincipalName { .. } => self.principals.push_back((kind, id)),
                    Call::AccountName { .. } => self.accounts.push_back(id),
                    // The listing resumes from the same token; the planner retries
                    // permission sets itself.
                    _ => {}
                }
                Vec::new()
            }
        }
    }

    fn switch_off(&mut self, service: NameService, denied: bool) -> Vec<Event> {
        match service {
            NameService::IdentityStore => {
                self.identity_store_lane.off = true;
                self.principals.clear();
            }
            NameService::Organizations => {
                self.organizations_lane.off = true;
                self.account_source = AccountSource::Off;
                self.accounts.clear();
            }
            NameService::IdentityCenter => self.permission_sets_off = true,
        }
        if !denied || !self.hinted.insert(service) {
            return Vec::new();
        }
        let hint = service.denied_hint(&self.provider);
        tracing::warn!("{hint}");
        vec![Event::NamesUnavailable { hint }]
    }

    pub fn flush(&mut self) {
        self.cache.flush_logged();
    }

    pub fn cache(&self) -> &NameCache {
        &self.cache
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn wall() -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000, 0)
            .single()
            .unwrap_or_default()
    }

    fn resolver() -> NameResolver {
        let mut r = NameResolver::new(NameCache::open(None, wall()), 1);
        r.set_target("aws", "ins", Some("d-1234567890".into()));
        r
    }

    fn denied() -> ProviderError {
        ProviderError::new(ErrorKind::Auth, "AccessDeniedException: not authorized")
    }

    #[test]
    fn each_id_is_asked_once_and_paced_by_its_own_limiter() {
        let mut r = resolver();
        let ps = r.want([
            (NameKind::User, "u1"),
            (NameKind::User, "u1"),
            (NameKind::Group, "g1"),
            (NameKind::PermissionSet, "ps-1"),
        ]);
        assert_eq!(ps, vec!["ps-1".to_string()]);
        assert!(r.want([(NameKind::PermissionSet, "ps-1")]).is_empty());
        let first = r.due_calls(Duration::ZERO);
        assert_eq!(
            first,
            vec![Call::PrincipalName {
                kind: NameKind::User,
                identity_store: "d-1234567890".into(),
                principal: "u1".into()
            }]
        );
        // One call per service at a time, and the limiter spaces them.
        assert!(r.due_calls(Duration::from_millis(10)).is_empty());
        let events = r.on_name(NameKind::User, "u1".into(), Some("jane.doe".into()), wall());
        assert_eq!(events.len(), 1);
        assert!(r.due_calls(Duration::from_millis(30)).is_empty());
        let spacing = Duration::from_secs_f64(1.0 / IDENTITY_STORE_RPS);
        assert_eq!(r.next_wake(Duration::from_millis(30)), Some(spacing));
        assert_eq!(r.due_calls(spacing).len(), 1);
    }

    #[test]
    fn an_explicit_instance_finds_its_identity_store_once_a_principal_needs_it() {
        let mut r = NameResolver::new(NameCache::open(None, wall()), 1);
        r.set_target("aws", "arn:ins-2", None);
        assert!(!r.wants_store_lookup(), "nothing to name yet");
        r.want([(NameKind::User, "u1")]);
        assert!(r.due_calls(Duration::ZERO).is_empty());
        assert!(r.wants_store_lookup());
        assert_eq!(r.take_store_lookup(), Some(Call::FindIdentityStore));
        assert_eq!(r.take_store_lookup(), None, "one lookup at a time");
        let instance = |id: &str, store: &str| crate::model::Instance {
            id: id.into(),
            identity_store_id: Some(store.into()),
            name: None,
        };
        r.on_instances(Ok(&[
            instance("arn:ins-1", "d-1"),
            instance("arn:ins-2", "d-2"),
        ]));
        assert_eq!(
            r.due_calls(Duration::ZERO),
            vec![Call::PrincipalName {
                kind: NameKind::User,
                identity_store: "d-2".into(),
                principal: "u1".into()
            }]
        );
        assert!(!r.wants_store_lookup());
    }

    #[test]
    fn one_listing_names_every_account_and_unlisted_ones_are_misses() {
        let mut r = resolver();
        r.want([(NameKind::Account, "111"), (NameKind::Account, "999")]);
        let calls = r.due_calls(Duration::ZERO);
        assert_eq!(calls, vec![Call::ListAccounts { token: None }]);
        let events = r.on_accounts(
            AccountPage {
                accounts: vec![
                    ("111".into(), "payments-prod".into()),
                    ("222".into(), "ledger-dev".into()),
                ],
                next_token: None,
            },
            wall(),
        );
        assert_eq!(events.len(), 2);
        assert_eq!(r.cache().get(NameKind::Account, "999"), Some(None));
        assert_eq!(
            r.cache().get(NameKind::Account, "222"),
            Some(Some("ledger-dev"))
        );
        // An account seen later is described on its own.
        r.want([(NameKind::Account, "333")]);
        assert_eq!(
            r.due_calls(Duration::from_secs(2)),
            vec![Call::AccountName {
                account: "333".into()
            }]
        );
    }

    #[test]
    fn a_denied_service_is_asked_once_and_hinted_once() {
        let mut r = resolver();
        r.want([(NameKind::User, "u1"), (NameKind::User, "u2")]);
        let call = r.due_calls(Duration::ZERO).remove(0);
        let events = r.on_error(&call, &denied(), Duration::ZERO, wall());
        assert!(matches!(
            events.as_slice(),
            [Event::NamesUnavailable { hint }] if hint.contains("identitystore:DescribeUser")
        ));
        r.want([(NameKind::Group, "g1")]);
        for s in 1..100 {
            assert!(r.due_calls(Duration::from_secs(s)).is_empty());
        }
        assert_eq!(r.next_wake(Duration::from_secs(100)), None);
    }

    #[test]
    fn denied_listing_falls_back_to_describe_account() {
        let mut r = resolver();
        r.want([(NameKind::Account, "111")]);
        let list = r.due_calls(Duration::ZERO).remove(0);
        assert!(
            r.on_error(&list, &denied(), Duration::ZERO, wall())
                .is_empty()
        );
        let describe = r.due_calls(Duration::from_secs(1)).remove(0);
        assert_eq!(
            describe,
            Call::AccountName {
                account: "111".into()
            }
        );
        let events = r.on_error(&describe, &denied(), Duration::from_secs(1), wall());
        assert_eq!(events.len(), 1);
        r.want([(NameKind::Account, "222")]);
        assert!(r.due_calls(Duration::from_secs(5)).is_empty());
    }

    #[test]
    fn names_and_misses_survive_a_restart_until_they_expire() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = path_beside(&dir.path().join("describes-aws-1.json"));
        assert!(path.ends_with("names-aws-1.json"));
        let mut cache = NameCache::open(Some(path.clone()), wall());
        cache.insert(NameKind::User, "u1", Some("jane.doe".into()), wall());
        cache.insert(NameKind::Group, "g1", None, wall());
        cache.flush()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path)?.permissions().mode() & 0o777,
                0o600
            );
        }
        let reopened = NameCache::open(Some(path.clone()), wall() + chrono::TimeDelta::hours(1));
        assert_eq!(reopened.get(NameKind::User, "u1"), Some(Some("jane.doe")));
        assert_eq!(reopened.get(NameKind::Group, "g1"), Some(None));
        let mut r = NameResolver::new(reopened, 0);
        r.set_target("aws", "ins", Some("d-1".into()));
        assert!(
            r.want([(NameKind::User, "u1"), (NameKind::Group, "g1")])
                .is_empty()
        );
        assert!(r.due_calls(Duration::ZERO).is_empty());
        let expired = NameCache::open(Some(path), wall() + NAME_TTL);
        assert!(expired.is_empty());
        Ok(())
    }
}
