//! The one support module of the test binaries (`in_process`, `simulated`, `child_process`,
//! `interop`), each of which includes it once (`#[path = "../support/mod.rs"] mod support;`)
//! and uses its own part of it.
//!
//! - `clock`: the test clock's start time, the one instant fixtures and manual clocks start at.
//! - `app`: the app state driven without a terminal or network.
//! - `sim`: the in-process emulator on a manual clock and a simulated runtime.
//! - `headless`: the real `ssowatch` binary as a child in a clean environment, bounded waits.
//! - `ops`: `ssowatch emulate` children and the `wait`/`serve` helpers, on top of `headless`.
//! - `huawei`: a small fixed organization behind the emulator's Huawei protocol.
//! - `required_tool`: the one rule for outside tools (skip locally, fail in CI).

#![allow(dead_code)]

pub mod app;
pub mod clock;
pub mod headless;
pub mod huawei;
pub mod ops;
pub mod required_tool;
pub mod sim;

pub use clock::start_time;
