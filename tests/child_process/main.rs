//! The built `ssowatch` binary as a child process (`support::headless`, `support::ops`): the
//! headless commands, `wait`, `serve` scraped by a real Prometheus, and the dashboard in a real
//! terminal (tmux). Prometheus and tmux follow `support::required_tool`.
//! `cargo test --test child_process`.

#[path = "../support/mod.rs"]
mod support;

mod cli_headless;
mod e2e_signals;
mod e2e_tmux;
mod faults_headless;
mod serve_prometheus;
mod wait_cli;
