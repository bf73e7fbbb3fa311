//! Shared by the tests that run the real `ssowatch` binary (`ops` builds on it): a
//! child with its own HOME, XDG dirs and empty AWS config (nothing of the machine's configuration is read), bounded waits
//! (a hung child is killed and the test fails), and the check that an error is one clear line.

#![allow(dead_code)]

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_ssowatch");
pub const SECRET: &str = "SUPERSECRETVALUE123";
pub const UNKNOWN_ID: &str = "7d9c0a4e-5b1f-4c2a-9e3d-0123456789ab";
/// A child that runs longer than this is killed and the test fails. A headless command retries
/// throttled and transient failures (about 16 s of backoff against a dead endpoint) and a
/// `wait` may follow a rollout for a minute or two, so allow well beyond that.
pub const TIMEOUT: Duration = Duration::from_secs(180);

/// Kills and reaps a child when dropped, whatever happened to the test.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

pub fn command(args: &[&str], home: &Path) -> Command {
    let aws_config = home.join("aws-config");
    let aws_credentials = home.join("aws-credentials");
    std::fs::write(&aws_config, "").expect("write empty aws config");
    std::fs::write(&aws_credentials, "").expect("write empty aws credentials");
    let mut c = Command::new(BIN);
    c.args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env("XDG_CACHE_HOME", home.join("xdg-cache"))
        .env("XDG_STATE_HOME", home.join("xdg-state"))
        .env("XDG_DATA_HOME", home.join("xdg-data"))
        .env("AWS_CONFIG_FILE", &aws_config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &aws_credentials)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Runs to completion within [`TIMEOUT`], reading both pipes concurrently.
pub fn finish(c: Command) -> Run {
    finish_with_stdin(c, None)
}

/// Like [`finish`], writing `input` to the child's stdin first.
pub fn finish_with_stdin(mut c: Command, input: Option<&str>) -> Run {
    c.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = KillOnDrop(c.spawn().expect("spawn"));
    if let (Some(input), Some(mut stdin)) = (input, child.0.stdin.take()) {
        use std::io::Write;
        stdin.write_all(input.as_bytes()).expect("write stdin");
    }
    let mut out_pipe = child.0.stdout.take().expect("stdout");
    let mut err_pipe = child.0.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let status = wait_bounded(&mut child, &format!("{c:?}"));
    let stdout = out_reader.join().expect("stdout reader");
    let stderr = err_reader.join().expect("stderr reader");
    Run {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Waits for the child to end; fails the test if it takes longer than [`TIMEOUT`].
pub fn wait_bounded(child: &mut KillOnDrop, what: &str) -> ExitStatus {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.0.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not finish within {TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn run(args: &[&str], home: &Path) -> Run {
    finish(command(args, home))
}

/// Exactly one line on stderr starting `ssowatch: error:`, a non-zero exit, and nothing that
/// looks like a panic, a backtrace or a Debug dump.
pub fn assert_one_line_error(r: &Run, what: &str) {
    assert!(
        !r.status.success(),
        "{what}: must exit non-zero\nstdout:\n{}",
        r.stdout
    );
    assert!(r.status.code().is_some(), "{what}: killed by a signal");
    assert_eq!(
        r.stderr.lines().count(),
        1,
        "{what}: exactly one line on stderr, got:\n{}",
        r.stderr
    );
    assert!(
        r.stderr.ends_with('\n') && r.stderr.starts_with("ssowatch: error: "),
        "{what}: {:?}",
        r.stderr
    );
    for bad in [
        "panicked",
        "Backtrace",
        "RUST_BACKTRACE",
        "{",
        "Some(",
        "Error {",
    ] {
        assert!(
            !r.stderr.contains(bad),
            "{what}: debug output ({bad:?}) on stderr: {}",
            r.stderr
        );
    }
    assert!(
        !r.stderr.contains('\u{1b}'),
        "{what}: escape sequences: {:?}",
        r.stderr
    );
}

/// Every file under `dir`, with its contents.
pub fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

/// A child pointed at a test server on loopback, with static environment credentials (the
/// secret and session token are [`SECRET`]-marked so a test can look for them anywhere), a
/// fast retry schedule (see `RetryPolicy::from_env`) and the full budget, so that a run with a
/// few hundred calls ends in seconds.
pub fn aws_command(args: &[&str], home: &Path, url: &str) -> Command {
    let mut c = command(args, home);
    c.args(["--endpoint-url", url, "--region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", "AKIAFAULTTEST0000001")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
        .env("SSOWATCH_TEST_RETRY_BASE_MS", "5");
    c
}

/// The session token every [`aws_command`] child sends: it must never reach a log or output.
pub const SESSION_TOKEN: &str = "FQoGZXIvYXdzEXAMPLESESSIONTOKENx9z8y7";
