//! ssowatch: watch IAM Identity Center account-assignment and permission-set provisioning
//! requests live, on AWS and Huawei Cloud.
//!
//! The binary is thin; everything lives here so tests and benchmarks drive the same code.

pub mod app;
pub mod call_path;
pub mod cli;
pub mod config;
pub mod connect;
pub mod dashboard;
pub mod emulator;
pub mod estimate;
pub mod failures;
pub mod handoff;
pub mod headless;
pub mod hub;
pub mod metrics;
pub mod model;
pub mod output;
pub mod poller;
pub mod provider;
pub mod remote;
pub mod runtime;
pub mod sanitize;
pub mod serve;
pub mod ui;
pub mod wait;
pub mod wire;
