//! Turns [`Settings`](crate::config::Settings) into a live provider and a resolved instance.
//! (Contract stub written by the lead so the dashboard compiles; the CLI engineer owns this
//! file and replaces the body. Keep the names `Connection`, `connect`.)

use std::sync::Arc;

use crate::config::Settings;
use crate::model::Instance;
use crate::provider::{Provider, ProviderInfo};

pub struct Connection {
    pub provider: Arc<dyn Provider>,
    pub instance: Instance,
    pub info: ProviderInfo,
    /// Keeps the in-process demo emulator alive (replace with `Option<EmulatorHandle>`).
    pub emulator: Option<Box<dyn std::any::Any + Send>>,
}

pub async fn connect(_settings: &Settings) -> anyhow::Result<Connection> {
    anyhow::bail!("not implemented yet")
}
