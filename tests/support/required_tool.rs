//! One rule for the outside tools some tests drive (tmux, the AWS CLI, Huawei's Python SDK,
//! Prometheus): on a developer's machine a missing tool skips the test with a notice that says
//! how to install it; in CI (`CI` set, as `.ci/run` runs and installs them) it is a failure, so
//! a green CI never hides a test that did not run.

/// Call when `what` is not there. Returns (so the caller skips) locally; panics in CI.
pub fn missing(what: &str, install: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} is required in CI and is missing: {install}"
    );
    eprintln!("SKIPPED: {what} is not installed; {install} to run this test");
}
