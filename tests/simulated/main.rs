//! Simulated time: the shared runtime in tokio's paused time, against an in-memory double or the
//! in-process emulator on a manual clock (`support::sim`), with no terminal and no wall clock.
//! `cargo test --test simulated`.

#[path = "../support/mod.rs"]
mod support;

mod names_emulator;
mod poller_driver;
mod runtime_emulator;
mod runtime_faults;
