//! Keys as data: one table of actions and the keys bound to them. Dispatch (`update`), the help
//! overlay, the footer and the README's key table are all built from [`BINDINGS`], so a key
//! cannot be added in one place and forgotten in another (gitui's key list and television's
//! keymap work the same way).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything the operator can ask for with a key in normal mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    NextKind,
    PreviousKind,
    AllKinds,
    KindCreation,
    KindDeletion,
    KindProvisioning,
    Down,
    Up,
    PageDown,
    PageUp,
    First,
    Last,
    ToggleFollow,
    FailedOnly,
    FailureGroups,
    Pivot,
    Columns,
    ReadAllReasons,
    InProgressOnly,
    AllStatuses,
    TextFilter,
    OpenDetail,
    Back,
    CycleSort,
    ReverseSort,
    Refresh,
    ResetProgress,
    CopyId,
    CopyReason,
    ExportCsv,
    ExportJson,
    Handoff,
    CopyRetry,
    WrapReason,
    DetailScrollDown,
    DetailScrollUp,
    Help,
    Quit,
}

/// One key: a code and the modifiers that must be held (Shift is folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

const fn plain(code: KeyCode) -> Key {
    Key {
        code,
        modifiers: KeyModifiers::NONE,
    }
}

const fn ch(c: char) -> Key {
    plain(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        modifiers: KeyModifiers::CONTROL,
    }
}

/// An action, its keys, what the help says about it and, if it earns a place there, its
/// short label in the footer.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub action: Action,
    pub keys: &'static [Key],
    pub help: &'static str,
    pub footer: Option<&'static str>,
}

const fn bind(
    action: Action,
    keys: &'static [Key],
    help: &'static str,
    footer: Option<&'static str>,
) -> Binding {
    Binding {
        action,
        keys,
        help,
        footer,
    }
}

/// The one key table. Order is the order of the help overlay and the README.
pub const BINDINGS: &[Binding] = &[
    bind(
        Action::NextKind,
        &[plain(KeyCode::Tab)],
        "next tab",
        Some("kind"),
    ),
    bind(
        Action::PreviousKind,
        &[plain(KeyCode::BackTab)],
        "previous tab",
        None,
    ),
    bind(
        Action::AllKinds,
        &[ch('0')],
        "all kinds in one table",
        Some("all kinds"),
    ),
    bind(
        Action::KindCreation,
        &[ch('1')],
        "assignment creation",
        None,
    ),
    bind(
        Action::KindDeletion,
        &[ch('2')],
        "assignment deletion",
        None,
    ),
    bind(
        Action::KindProvisioning,
        &[ch('3')],
        "permission-set provisioning",
        None,
    ),
    bind(
        Action::Down,
        &[ch('j'), plain(KeyCode::Down)],
        "move down",
        Some("move"),
    ),
    bind(Action::Up, &[ch('k'), plain(KeyCode::Up)], "move up", None),
    bind(
        Action::PageDown,
        &[plain(KeyCode::PageDown)],
        "page down",
        None,
    ),
    bind(Action::PageUp, &[plain(KeyCode::PageUp)], "page up", None),
    bind(
        Action::First,
        &[ch('g'), plain(KeyCode::Home)],
        "first row",
        None,
    ),
    bind(
        Action::Last,
        &[ch('G'), plain(KeyCode::End)],
        "last row",
        None,
    ),
    bind(
        Action::ToggleFollow,
        &[ch('t')],
        "follow the newest request (toggle, ⇡ mark)",
        Some("follow"),
    ),
    bind(
        Action::FailedOnly,
        &[ch('f')],
        "FAILED only (toggle)",
        Some("failed"),
    ),
    bind(
        Action::FailureGroups,
        &[ch('F')],
        "failure groups by cause (Enter: its requests)",
        Some("groups"),
    ),
    bind(
        Action::Pivot,
        &[ch('p')],
        "pivot: counts by account (p: permission set, principal; Enter filters, Esc back)",
        Some("pivot"),
    ),
    bind(
        Action::Columns,
        &[ch('c')],
        "choose the columns (1-4 toggle; remembered in the config)",
        None,
    ),
    bind(
        Action::ReadAllReasons,
        &[ch('R')],
        "F view: read every reason now (cost first)",
        None,
    ),
    bind(
        Action::InProgressOnly,
        &[ch('i')],
        "IN_PROGRESS only (toggle)",
        Some("in progress"),
    ),
    bind(Action::AllStatuses, &[ch('a')], "all statuses", Some("all")),
    bind(
        Action::TextFilter,
        &[ch('/')],
        "text filter on every field (Enter keeps it)",
        Some("filter"),
    ),
    bind(
        Action::OpenDetail,
        &[plain(KeyCode::Enter), plain(KeyCode::Right), ch('l')],
        "open the detail pane",
        Some("detail"),
    ),
    bind(
        Action::Back,
        &[plain(KeyCode::Esc), plain(KeyCode::Left), ch('h')],
        "close pane/groups, then clear group, filter",
        None,
    ),
    bind(
        Action::CycleSort,
        &[ch('s')],
        "cycle the sort column",
        Some("sort"),
    ),
    bind(Action::ReverseSort, &[ch('S')], "reverse the sort", None),
    bind(Action::Refresh, &[ch('r')], "refresh now", Some("refresh")),
    bind(
        Action::ResetProgress,
        &[ch('z')],
        "progress counts from now (or --since)",
        None,
    ),
    bind(
        Action::CopyId,
        &[ch('y')],
        "copy the request id (OSC 52)",
        Some("copy id"),
    ),
    bind(
        Action::CopyReason,
        &[ch('Y')],
        "copy the full failure reason (OSC 52)",
        None,
    ),
    bind(
        Action::WrapReason,
        &[ch('w')],
        "wrap the selected row's full reason (toggle)",
        Some("wrap"),
    ),
    bind(
        Action::DetailScrollDown,
        &[ch('J')],
        "scroll the detail pane down",
        None,
    ),
    bind(
        Action::DetailScrollUp,
        &[ch('K')],
        "scroll the detail pane up",
        None,
    ),
    bind(
        Action::ExportCsv,
        &[ch('e')],
        "export the view to CSV (in export_dir)",
        Some("export"),
    ),
    bind(
        Action::ExportJson,
        &[ch('E')],
        "export the view to JSON",
        None,
    ),
    bind(
        Action::Handoff,
        &[ch('x')],
        "retry script, ids, plan of the FAILED shown",
        None,
    ),
    bind(
        Action::CopyRetry,
        &[ch('X')],
        "copy the retry script of the FAILED shown",
        None,
    ),
    bind(Action::Help, &[ch('?')], "this help", Some("help")),
    bind(Action::Quit, &[ch('q'), ctrl('c')], "quit", Some("quit")),
];

/// What a key does in the failure groups view (`F`), where it acts on the groups: the help
/// and the footer of that view are built from this table, and dispatch follows it
/// (`update::on_groups_action`). The keys are those of [`BINDINGS`].
#[derive(Debug, Clone, Copy)]
pub struct ViewBinding {
    pub action: Action,
    pub help: &'static str,
    pub footer: Option<&'static str>,
}

const fn in_view(action: Action, help: &'static str, footer: Option<&'static str>) -> ViewBinding {
    ViewBinding {
        action,
        help,
        footer,
    }
}

/// The keys of the `F` view, in help order.
pub const GROUP_BINDINGS: &[ViewBinding] = &[
    in_view(Action::Down, "next group", Some("move")),
    in_view(Action::Up, "previous group", None),
    in_view(Action::PageDown, "five groups down", None),
    in_view(Action::PageUp, "five groups up", None),
    in_view(Action::First, "first group", None),
    in_view(Action::Last, "last group", None),
    in_view(
        Action::OpenDetail,
        "the group's requests in the table",
        Some("requests"),
    ),
    in_view(
        Action::CopyId,
        "copy the group's request ids",
        Some("copy ids"),
    ),
    in_view(Action::CopyReason, "copy the group's full reason", None),
    in_view(
        Action::Handoff,
        "write the group's retry script, ids, plan (export_dir)",
        Some("hand off"),
    ),
    in_view(Action::CopyRetry, "copy the group's retry script", None),
    in_view(
        Action::ExportCsv,
        "export the groups to CSV (in export_dir)",
        Some("export"),
    ),
    in_view(Action::ExportJson, "export the groups to JSON", None),
    in_view(
        Action::ReadAllReasons,
        "read every reason now, at a rate you pick (the cost is shown first)",
        Some("read all"),
    ),
    in_view(
        Action::Back,
        "close the groups (while reading all: back to the default budget)",
        Some("back"),
    ),
    in_view(Action::FailureGroups, "close the groups", None),
    in_view(Action::Help, "this help", Some("help")),
    in_view(Action::Quit, "quit", Some("quit")),
];

/// The `F` view's entry for an action, if it does something there.
pub fn group_binding(action: Action) -> Option<&'static ViewBinding> {
    GROUP_BINDINGS.iter().find(|b| b.action == action)
}

/// The help overlay's `(keys, what)` lines of the view that is open.
pub fn help_entries(groups_open: bool) -> Vec<(String, &'static str)> {
    if groups_open {
        GROUP_BINDINGS
            .iter()
            .map(|b| (keys_label(binding(b.action)), b.help))
            .collect()
    } else {
        BINDINGS.iter().map(|b| (keys_label(b), b.help)).collect()
    }
}

/// The footer's `(key, label)` pairs of the view that is open, in table order.
pub fn footer_entries_for(groups_open: bool) -> Vec<(String, &'static str)> {
    if groups_open {
        GROUP_BINDINGS
            .iter()
            .filter_map(|b| Some((key_name(binding(b.action).keys[0]), b.footer?)))
            .collect()
    } else {
        footer_entries().collect()
    }
}

/// What the mouse does; listed with the keys.
pub const MOUSE_HELP: (&str, &str) = ("mouse", "wheel scrolls, a click selects a row");

/// The action bound to a key event, if any.
pub fn action_for(event: KeyEvent) -> Option<Action> {
    // Terminals report Shift with upper-case letters and Shift-Tab; the character says it all.
    let modifiers = match event.code {
        KeyCode::Char(_) | KeyCode::BackTab => event.modifiers - KeyModifiers::SHIFT,
        _ => event.modifiers,
    };
    BINDINGS
        .iter()
        .find(|b| {
            b.keys
                .iter()
                .any(|k| k.code == event.code && k.modifiers == modifiers)
        })
        .map(|b| b.action)
}

/// The binding of an action (every action has one).
pub fn binding(action: Action) -> &'static Binding {
    BINDINGS
        .iter()
        .find(|b| b.action == action)
        .expect("every action is in BINDINGS")
}

/// How a key is written in the help, the footer and the README.
pub fn key_name(key: Key) -> String {
    let base = match key.code {
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "Shift-Tab".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        other => format!("{other:?}"),
    };
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        format!("Ctrl-{}", base.to_uppercase())
    } else {
        base
    }
}

/// The keys of a binding as the help overlay shows them: `j ↓`.
pub fn keys_label(binding: &Binding) -> String {
    binding
        .keys
        .iter()
        .map(|k| key_name(*k))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `(key, label)` pairs of the footer, in table order.
pub fn footer_entries() -> impl Iterator<Item = (String, &'static str)> {
    BINDINGS
        .iter()
        .filter_map(|b| Some((key_name(b.keys[0]), b.footer?)))
}

pub const README_START: &str = "<!-- keys:start (generated from src/app/keymap.rs) -->";
pub const README_END: &str = "<!-- keys:end -->";

/// The README's key table, markers included.
pub fn readme_table() -> String {
    let mut out = format!("{README_START}\n| key | action |\n| --- | --- |\n");
    let code = |k: Key| format!("`{}`", key_name(k).replace('|', "\\|"));
    for b in BINDINGS {
        let keys: Vec<String> = b.keys.iter().map(|k| code(*k)).collect();
        out.push_str(&format!("| {} | {} |\n", keys.join(", "), b.help));
    }
    out.push_str(&format!("| {} | {} |\n", MOUSE_HELP.0, MOUSE_HELP.1));
    out.push_str(README_END);
    out
}
