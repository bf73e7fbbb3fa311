//! The app: state, the messages that change it, and the update function.

pub mod msg;
pub mod state;
pub mod update;

pub use msg::{DescribeUrgency, Effect, Msg, PollEvent, SpendReport};
pub use state::{AppState, ConnectionInfo, StatusFilter};
pub use update::update;
