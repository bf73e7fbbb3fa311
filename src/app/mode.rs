//! What the screen shows, as one value. Each view that takes the keys is a [`Mode`], with the
//! data only that view has (the failure groups, the pivot) inside its variant, so no flag can
//! say "help" while another says "groups" and leave the keys to whichever `if` comes first:
//! the mode picks the key table ([`KeySet`]), and the table drives dispatch, the help overlay
//! and the footer (`app::keymap`).

use super::keymap::KeySet;
use super::pivot::PivotView;
use super::state::GroupsView;

/// The view that is open, and so which keys apply.
#[derive(Debug, Clone, Default)]
pub enum Mode {
    /// The table of the active tab.
    #[default]
    Table,
    /// The table with the selected request's detail pane.
    Detail,
    /// Typing the `/` filter; `pane` is whether the detail pane stays open under the prompt.
    Filter { pane: bool },
    /// The column chooser (`c`) over the table; `pane` as for the filter.
    Columns { pane: bool },
    /// The failure groups (`F`) instead of the table.
    Groups(GroupsView),
    /// The offer to read every reason now (`R` in the groups), over the groups: until the
    /// operator picks a rate or declines, no other key acts.
    ReadAllOffer(GroupsView),
    /// The pivot (`p`) instead of the table.
    Pivot(PivotView),
    /// The help overlay over another mode: any key returns to it.
    Help(Box<Mode>),
}

impl Mode {
    /// The key table of this mode (the too-small screen is the state's to know:
    /// [`super::AppState::key_set`]).
    pub fn key_set(&self) -> KeySet {
        match self {
            Mode::Table | Mode::Detail => KeySet::Table,
            Mode::Filter { .. } => KeySet::Filter,
            Mode::Columns { .. } => KeySet::Columns,
            Mode::Groups(_) => KeySet::Groups,
            Mode::ReadAllOffer(_) => KeySet::ReadAllOffer,
            Mode::Pivot(_) => KeySet::Pivot,
            Mode::Help(_) => KeySet::Help,
        }
    }

    /// The mode under the help overlay, or this one.
    pub fn under_help(&self) -> &Mode {
        match self {
            Mode::Help(over) => over.under_help(),
            other => other,
        }
    }

    fn under_help_mut(&mut self) -> &mut Mode {
        match self {
            Mode::Help(over) => over.under_help_mut(),
            other => other,
        }
    }

    /// The failure groups, while they are shown (under the offer or the help too): the
    /// groups are rebuilt and their reasons read for as long as this is `Some`.
    pub fn groups(&self) -> Option<&GroupsView> {
        match self.under_help() {
            Mode::Groups(view) | Mode::ReadAllOffer(view) => Some(view),
            _ => None,
        }
    }

    pub(crate) fn groups_mut(&mut self) -> Option<&mut GroupsView> {
        match self.under_help_mut() {
            Mode::Groups(view) | Mode::ReadAllOffer(view) => Some(view),
            _ => None,
        }
    }

    /// The pivot, while it is shown (under the help too).
    pub fn pivot(&self) -> Option<&PivotView> {
        match self.under_help() {
            Mode::Pivot(view) => Some(view),
            _ => None,
        }
    }

    pub(crate) fn pivot_mut(&mut self) -> Option<&mut PivotView> {
        match self.under_help_mut() {
            Mode::Pivot(view) => Some(view),
            _ => None,
        }
    }

    /// Whether the table is what the body shows (and so what the mouse and the on-screen
    /// describes act on), not the groups or the pivot.
    pub fn shows_table(&self) -> bool {
        matches!(
            self.under_help(),
            Mode::Table | Mode::Detail | Mode::Filter { .. } | Mode::Columns { .. }
        )
    }

    /// Whether the detail pane is on screen, which the layout and the page size follow.
    pub fn pane_open(&self) -> bool {
        match self.under_help() {
            Mode::Detail => true,
            Mode::Filter { pane } | Mode::Columns { pane } => *pane,
            _ => false,
        }
    }

    pub fn help_open(&self) -> bool {
        matches!(self, Mode::Help(_))
    }

    pub fn typing_filter(&self) -> bool {
        matches!(self, Mode::Filter { .. })
    }

    pub fn choosing_columns(&self) -> bool {
        matches!(self, Mode::Columns { .. })
    }

    /// The table mode to return to from the filter prompt or the chooser.
    pub(crate) fn table(pane: bool) -> Mode {
        if pane { Mode::Detail } else { Mode::Table }
    }
}
