//! The describe cache: finished requests never change, so their describe answers are kept on
//! disk and a restart costs no describes for them.
//!
//! One file per provider, endpoint and instance, in the platform cache dir. Writes go to a
//! temporary file that is synced and then renamed over the old one, so a crash mid-write leaves
//! the previous cache intact. The file is bounded: only the newest [`MAX_ENTRIES`] are kept.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{Described, OperationKind};

/// Upper bound on cached answers (a few hundred bytes each on disk).
pub const MAX_ENTRIES: usize = 200_000;
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    records: Vec<Described>,
}

pub struct DescribeCache {
    path: PathBuf,
    records: HashMap<(OperationKind, String), Described>,
    dirty: bool,
}

/// Where the cache for this provider/endpoint/instance lives.
pub fn default_path(provider: &str, endpoint: Option<&str>, instance: &str) -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "ssowatch")?;
    Some(
        dirs.cache_dir()
            .join(file_name(provider, endpoint, instance)),
    )
}

fn file_name(provider: &str, endpoint: Option<&str>, instance: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(provider.as_bytes());
    hasher.update([0]);
    hasher.update(endpoint.unwrap_or("").as_bytes());
    hasher.update([0]);
    hasher.update(instance.as_bytes());
    let digest = hex::encode(hasher.finalize());
    let provider: String = provider
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("describes-{provider}-{}.json", &digest[..16])
}

/// Removes the temporary files that a crashed (or killed) write left in the cache directory:
/// `describes-….json.tmp<pid>` and `names-….json.tmp<pid>` of a process that is gone, or whose
/// id now belongs to another program, never one that a running ssowatch is writing now. No
/// clock is read: a file's time and the process's clock need not agree (clock changes, network
/// file systems), and the writer's process says all there is to know. Returns how many it
/// removed.
/// Without this, every `kill -9` during a write leaves a full copy of the cache behind (20 kills
/// left 300 MB on main). Nothing here is fatal: the cache is a nicety.
pub fn remove_leftover_temp_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let own = std::process::id();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = leftover_pid(&name.to_string_lossy()) else {
            continue;
        };
        if pid == own {
            continue;
        }
        if ssowatch_running(pid) {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(error) => {
                tracing::warn!(%error, path = %entry.path().display(), "cannot remove a leftover cache file")
            }
        }
    }
    if removed > 0 {
        tracing::info!(removed, dir = %dir.display(), "removed temporary cache files left by a crash");
    }
    removed
}

/// The writer's process id when `name` is one of our temporary cache files.
fn leftover_pid(name: &str) -> Option<u32> {
    if !(name.starts_with("describes-") || name.starts_with("names-")) {
        return None;
    }
    let (_, pid) = name.rsplit_once(".json.tmp")?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether an ssowatch process with this id is running (and so may be writing its file). Where
/// `/proc` cannot tell, it is assumed to be, and its file is kept.
fn ssowatch_running(pid: u32) -> bool {
    let proc_dir = Path::new("/proc");
    if !proc_dir.join("self").exists() {
        return true;
    }
    std::fs::read_to_string(proc_dir.join(pid.to_string()).join("comm"))
        .is_ok_and(|comm| comm.trim_end().starts_with("ssowatch"))
}

/// Writes `body` to `path` so that a crash mid-write leaves the previous file intact: a
/// temporary file beside it, synced, then renamed over it. The file is readable by its owner
/// only: it names the organization's requests, accounts and people.
pub fn write_private_atomic(path: &Path, body: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
    {
        let mut file = create_private(&tmp)?;
        file.write_all(body)?;
        file.sync_all()?;
    }
    // The rename keeps the temporary file's mode, so the file ends up 0600 too, even when an
    // older, wider one was there.
    std::fs::rename(&tmp, path)
}

impl DescribeCache {
    /// Opens the cache; a missing file is an empty cache, and an unreadable or corrupt one is
    /// logged and replaced on the next flush rather than stopping the dashboard.
    pub fn open(path: PathBuf) -> DescribeCache {
        if let Some(dir) = path.parent() {
            remove_leftover_temp_files(dir);
        }
        let records = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<CacheFile>(&bytes) {
                Ok(file) if file.version == FORMAT_VERSION => file
                    .records
                    .into_iter()
                    .filter(|d| d.summary.status.is_finished())
                    .map(|d| ((d.summary.kind, d.summary.request_id.clone()), d))
                    .collect(),
                Ok(file) => {
                    tracing::warn!(version = file.version, path = %path.display(), "ignoring cache of another version");
                    HashMap::new()
                }
                Err(error) => {
                    tracing::warn!(%error, path = %path.display(), "ignoring corrupt describe cache");
                    HashMap::new()
                }
            },
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "cannot read describe cache");
                HashMap::new()
            }
        };
        DescribeCache {
            path,
            records,
            dirty: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn records(&self) -> Vec<Described> {
        self.records.values().cloned().collect()
    }

    /// Keeps a finished request's answer; unfinished ones can still change and are ignored.
    pub fn insert(&mut self, described: Described) {
        if !described.summary.status.is_finished() {
            return;
        }
        let key = (described.summary.kind, described.summary.request_id.clone());
        self.records.insert(key, described);
        self.dirty = true;
    }

    /// Writes the cache if it changed.
    pub fn flush(&mut self) -> std::io::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let mut records: Vec<Described> = self.records.values().cloned().collect();
        if records.len() > MAX_ENTRIES {
            records.sort_by_key(|d| std::cmp::Reverse(d.summary.created));
            records.truncate(MAX_ENTRIES);
            self.records = records
                .iter()
                .map(|d| ((d.summary.kind, d.summary.request_id.clone()), d.clone()))
                .collect();
        }
        let body = serde_json::to_vec(&CacheFile {
            version: FORMAT_VERSION,
            records,
        })
        .map_err(std::io::Error::other)?;
        write_private_atomic(&self.path, &body)?;
        self.dirty = false;
        Ok(())
    }

    pub fn flush_logged(&mut self) {
        if let Err(error) = self.flush() {
            tracing::warn!(%error, path = %self.path.display(), "cannot write describe cache");
        }
    }
}

/// Creates (or truncates) a file readable by its owner only. The cache holds principal ids,
/// account ids and failure reasons: nothing another local user should read. A leftover file
/// from a crashed run keeps its old mode on open, so the mode is set again explicitly.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    let file = {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let file = options.mode(0o600).open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file
    };
    #[cfg(not(unix))]
    let file = options.open(path)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RequestDetail, Status, StatusSummary};
    use chrono::{TimeZone, Utc};

    fn described(id: &str, status: Status) -> Described {
        Described {
            summary: StatusSummary {
                kind: OperationKind::AssignmentDeletion,
                request_id: id.to_string(),
                status,
                created: Utc
                    .timestamp_opt(1_700_000_000, 0)
                    .single()
                    .unwrap_or_default(),
            },
            detail: RequestDetail {
                failure_reason: Some("Received a 404 status error".into()),
                ..Default::default()
            },
            source_call: "DescribeAccountAssignmentDeletionStatus".into(),
            described_at: Utc
                .timestamp_opt(1_700_000_100, 0)
                .single()
                .unwrap_or_default(),
        }
    }

    #[test]
    fn finished_answers_survive_a_reopen() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.json");
        let mut cache = DescribeCache::open(path.clone());
        cache.insert(described("a", Status::Failed));
        cache.insert(described("b", Status::InProgress));
        cache.flush()?;
        let reopened = DescribeCache::open(path);
        assert_eq!(reopened.records(), vec![described("a", Status::Failed)]);
        Ok(())
    }

    #[test]
    fn a_corrupt_file_is_an_empty_cache_not_an_error() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.json");
        std::fs::write(&path, b"{\"version\":1,\"records\":[{\"trunc")?;
        let mut cache = DescribeCache::open(path.clone());
        assert!(cache.is_empty());
        cache.insert(described("a", Status::Succeeded));
        cache.flush()?;
        assert_eq!(DescribeCache::open(path).len(), 1);
        Ok(())
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> std::io::Result<u32> {
        use std::os::unix::fs::PermissionsExt;
        Ok(std::fs::metadata(path)?.permissions().mode() & 0o777)
    }

    #[cfg(unix)]
    #[test]
    fn the_cache_and_its_temporary_file_are_private() -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.json");
        // An older cache and a leftover temporary file, both world-readable.
        std::fs::write(&path, b"{}")?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        let tmp = dir.path().join("leftover.json.tmp");
        std::fs::write(&tmp, b"old")?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))?;

        let fresh = dir.path().join("fresh.json.tmp");
        drop(create_private(&fresh)?);
        assert_eq!(mode(&fresh)?, 0o600, "a new temporary file");
        drop(create_private(&tmp)?);
        assert_eq!(mode(&tmp)?, 0o600, "a leftover temporary file");
        assert_eq!(std::fs::read(&tmp)?, b"", "a leftover is truncated");

        let mut cache = DescribeCache::open(path.clone());
        cache.insert(described("a", Status::Failed));
        cache.flush()?;
        assert_eq!(mode(&path)?, 0o600, "the cache file after a write");
        Ok(())
    }

    /// The process id of a child that has exited: no process has it now.
    fn dead_pid() -> std::io::Result<u32> {
        let mut child = std::process::Command::new("true").spawn()?;
        let pid = child.id();
        child.wait()?;
        Ok(pid)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_start_removes_what_a_killed_write_left_and_loads_the_good_cache() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(file_name("aws", None, "arn:1"));
        let mut cache = DescribeCache::open(path.clone());
        cache.insert(described("a", Status::Failed));
        cache.flush()?;
        // What `kill -9` during a write leaves: a half-written copy per killed process, for the
        // describe cache and the name cache, of this instance and of another.
        let dead = dead_pid()?;
        let names = super::super::names::path_beside(&path);
        let leftovers = [
            path.with_extension(format!("json.tmp{dead}")),
            names.with_extension(format!("json.tmp{dead}")),
            dir.path()
                .join(file_name("huawei", None, "x"))
                .with_extension(format!("json.tmp{dead}")),
        ];
        for leftover in &leftovers {
            std::fs::write(leftover, b"{\"version\":1,\"records\":[{\"trunc")?;
        }
        // A write in progress in a running ssowatch (this test runs in a binary named
        // `ssowatch-…`), and files that are not ours.
        let live = dir
            .path()
            .join(format!("describes-aws-0.json.tmp{}", std::process::id()));
        assert!(ssowatch_running(std::process::id()));
        // The id of a killed writer that another program (this test's parent) now holds.
        let parent = std::os::unix::process::parent_id();
        assert!(!ssowatch_running(parent));
        let reused = dir.path().join(format!("names-aws-0.json.tmp{parent}"));
        std::fs::write(&reused, b"{\"trunc")?;
        let others = [
            dir.path().join("notes.json.tmp1"),
            dir.path().join("describes-x.json"),
        ];
        for file in others.iter().chain([&live]) {
            std::fs::write(file, b"keep")?;
        }

        let reopened = DescribeCache::open(path.clone());
        assert_eq!(reopened.records(), vec![described("a", Status::Failed)]);
        for leftover in &leftovers {
            assert!(!leftover.exists(), "{} is left", leftover.display());
        }
        for kept in others.iter().chain([&live]) {
            assert!(kept.exists(), "{} was removed", kept.display());
        }
        assert!(
            !reused.exists(),
            "a reused process id kept {}",
            reused.display()
        );
        // The name cache's open sweeps too (it may be opened alone).
        let again = names.with_extension(format!("json.tmp{dead}"));
        std::fs::write(&again, b"x")?;
        drop(super::super::names::NameCache::open(
            Some(names),
            chrono::Utc::now(),
        ));
        assert!(!again.exists());
        Ok(())
    }

    #[test]
    fn only_our_temporary_names_carry_a_pid() {
        assert_eq!(leftover_pid("describes-aws-0123.json.tmp42"), Some(42));
        assert_eq!(leftover_pid("names-aws-0123.json.tmp7"), Some(7));
        assert_eq!(leftover_pid("describes-aws-0123.json"), None);
        assert_eq!(leftover_pid("describes-aws-0123.json.tmp"), None);
        assert_eq!(leftover_pid("describes-aws.json.tmp1x"), None);
        assert_eq!(leftover_pid("other.json.tmp1"), None);
    }

    #[test]
    fn file_names_differ_per_instance_and_endpoint() {
        let a = file_name("aws", None, "arn:1");
        assert_ne!(a, file_name("aws", None, "arn:2"));
        assert_ne!(a, file_name("aws", Some("http://127.0.0.1:1"), "arn:1"));
        assert!(a.starts_with("describes-aws-"));
    }
}
