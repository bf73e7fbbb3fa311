//! In process, on the machine's own time: the app's update function and screens driven without
//! a terminal or network (snapshots in `snapshots/`), the failure classifier, and the layering
//! of `src` checked on the source. `cargo test --test in_process`.

#[path = "../support/mod.rs"]
mod support;

mod app_enrichment;
mod app_update;
mod failure_groups;
mod layering;
mod ui_snapshots;
