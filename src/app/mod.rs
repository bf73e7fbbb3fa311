//! The app: state, the messages that change it, and the pure update function. It knows the
//! poller's events and the model, never the terminal or the network.

pub mod columns;
pub mod filter;
pub mod handoff;
pub mod keymap;
pub mod layout;
pub mod mode;
pub mod msg;
pub mod pivot;
pub mod progress;
pub mod reasons;
pub mod state;
pub mod table;
pub mod update;

pub use mode::Mode;
pub use msg::{Effect, ExportFormat, ExportRequest, Msg};
pub use state::{
    AppState, ConnectionInfo, DataState, ErrorLine, GroupFilter, GroupsView, Tab, ViewState,
};
pub use table::{KindTable, RequestRow, SortColumn, StatusFilter};
pub use update::update;
