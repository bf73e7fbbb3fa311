//! Keys as data: one table per view ([`KeySet`], picked by the open [`super::mode::Mode`]) of
//! actions and the keys bound to them. Dispatch (`update`), the help overlay, the footer and the
//! README's key table are all built from these tables, so a key cannot be added in one place
//! and forgotten in another, nor act in a view whose table does not list it (gitui's key list
//! and k9s' per-view hints work the same way).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything the operator can ask for with a key, in any view.
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
    /// `1` to `4` in the column chooser and the offer to read every reason: the digit says which.
    Choose,
    /// Typing the filter: keep it (`Enter`), clear it (`Esc`), delete a character, clear the
    /// line, or type a character.
    KeepFilter,
    ClearFilter,
    DeleteChar,
    ClearLine,
    Type,
    /// Closes the view (help, chooser, offer) that any other key closes.
    Close,
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

/// The table view's keys (with or without the detail pane). Order is the order of the help
/// overlay and the README.
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

/// Keys shared by several tables, so a key means the same wherever it is bound.
const MOVE_DOWN: &[Key] = &[ch('j'), plain(KeyCode::Down)];
const MOVE_UP: &[Key] = &[ch('k'), plain(KeyCode::Up)];
const PAGE_DOWN: &[Key] = &[plain(KeyCode::PageDown)];
const PAGE_UP: &[Key] = &[plain(KeyCode::PageUp)];
const FIRST: &[Key] = &[ch('g'), plain(KeyCode::Home)];
const LAST: &[Key] = &[ch('G'), plain(KeyCode::End)];
const OPEN: &[Key] = &[plain(KeyCode::Enter), plain(KeyCode::Right), ch('l')];
const BACK: &[Key] = &[plain(KeyCode::Esc), plain(KeyCode::Left), ch('h')];
const HELP: &[Key] = &[ch('?')];
const QUIT: &[Key] = &[ch('q'), ctrl('c')];
const CTRL_C: &[Key] = &[ctrl('c')];
const DIGITS: &[Key] = &[ch('1'), ch('2'), ch('3'), ch('4')];

/// The keys of the `F` view, in help order: they act on the groups, never on the table
/// hidden behind them.
pub const GROUP_BINDINGS: &[Binding] = &[
    bind(Action::Down, MOVE_DOWN, "next group", Some("move")),
    bind(Action::Up, MOVE_UP, "previous group", None),
    bind(Action::PageDown, PAGE_DOWN, "five groups down", None),
    bind(Action::PageUp, PAGE_UP, "five groups up", None),
    bind(Action::First, FIRST, "first group", None),
    bind(Action::Last, LAST, "last group", None),
    bind(
        Action::OpenDetail,
        OPEN,
        "the group's requests in the table",
        Some("requests"),
    ),
    bind(
        Action::CopyId,
        &[ch('y')],
        "copy the group's request ids",
        Some("copy ids"),
    ),
    bind(
        Action::CopyReason,
        &[ch('Y')],
        "copy the group's full reason",
        None,
    ),
    bind(
        Action::Handoff,
        &[ch('x')],
        "write the group's retry script, ids, plan (export_dir)",
        Some("hand off"),
    ),
    bind(
        Action::CopyRetry,
        &[ch('X')],
        "copy the group's retry script",
        None,
    ),
    bind(
        Action::ExportCsv,
        &[ch('e')],
        "export the groups to CSV (in export_dir)",
        Some("export"),
    ),
    bind(
        Action::ExportJson,
        &[ch('E')],
        "export the groups to JSON",
        None,
    ),
    bind(
        Action::ReadAllReasons,
        &[ch('R')],
        "read every reason now, at a rate you pick (the cost is shown first)",
        Some("read all"),
    ),
    bind(Action::Refresh, &[ch('r')], "refresh now", None),
    bind(
        Action::Back,
        BACK,
        "close the groups (while reading all: back to the default budget)",
        Some("back"),
    ),
    bind(Action::FailureGroups, &[ch('F')], "close the groups", None),
    bind(Action::Help, HELP, "this help", Some("help")),
    bind(Action::Quit, QUIT, "quit", Some("quit")),
];

/// The keys of the pivot (`p`): they act on the pivot; the tab keys choose what it counts.
pub const PIVOT_BINDINGS: &[Binding] = &[
    bind(Action::Down, MOVE_DOWN, "next row", Some("move")),
    bind(Action::Up, MOVE_UP, "previous row", None),
    bind(Action::PageDown, PAGE_DOWN, "page down", None),
    bind(Action::PageUp, PAGE_UP, "page up", None),
    bind(Action::First, FIRST, "first row", None),
    bind(Action::Last, LAST, "last row", None),
    bind(
        Action::Pivot,
        &[ch('p')],
        "count by the next field: account, permission set, principal",
        Some("by"),
    ),
    bind(
        Action::CycleSort,
        &[ch('s')],
        "cycle the sort column",
        Some("sort"),
    ),
    bind(Action::ReverseSort, &[ch('S')], "reverse the sort", None),
    bind(
        Action::OpenDetail,
        OPEN,
        "the table filtered to the row's value (Esc comes back)",
        Some("filter"),
    ),
    bind(
        Action::NextKind,
        &[plain(KeyCode::Tab)],
        "count the next tab",
        Some("kind"),
    ),
    bind(
        Action::PreviousKind,
        &[plain(KeyCode::BackTab)],
        "count the previous tab",
        None,
    ),
    bind(Action::AllKinds, &[ch('0')], "count all kinds", None),
    bind(
        Action::KindCreation,
        &[ch('1')],
        "count assignment creation",
        None,
    ),
    bind(
        Action::KindDeletion,
        &[ch('2')],
        "count assignment deletion",
        None,
    ),
    bind(
        Action::KindProvisioning,
        &[ch('3')],
        "count permission-set provisioning",
        None,
    ),
    bind(Action::Refresh, &[ch('r')], "refresh now", None),
    bind(Action::Back, BACK, "close the pivot", Some("back")),
    bind(Action::Help, HELP, "this help", Some("help")),
    bind(Action::Quit, QUIT, "quit", Some("quit")),
];

/// The keys while typing the `/` filter: every other character is typed.
pub const FILTER_BINDINGS: &[Binding] = &[
    bind(
        Action::KeepFilter,
        &[plain(KeyCode::Enter)],
        "keep the filter",
        Some("keep"),
    ),
    bind(
        Action::DeleteChar,
        &[plain(KeyCode::Backspace)],
        "delete the last character",
        None,
    ),
    bind(Action::ClearLine, &[ctrl('u')], "clear the line", None),
    bind(
        Action::ClearFilter,
        &[plain(KeyCode::Esc)],
        "clear the filter",
        Some("clear"),
    ),
    bind(Action::Quit, CTRL_C, "quit", Some("quit")),
];

/// The keys of the column chooser (`c`): any other key closes it.
pub const COLUMN_BINDINGS: &[Binding] = &[
    bind(
        Action::Choose,
        DIGITS,
        "show or hide the column (remembered in the config)",
        Some("toggle"),
    ),
    bind(Action::Quit, CTRL_C, "quit", Some("quit")),
];

/// The keys of the offer to read every reason (`R` in the groups): any other key declines.
pub const OFFER_BINDINGS: &[Binding] = &[
    bind(
        Action::Choose,
        DIGITS,
        "read every reason at that rate",
        Some("rate"),
    ),
    bind(Action::Quit, CTRL_C, "quit", Some("quit")),
];

/// The keys while the help is shown: any other key closes it, `q` too, so reading the help
/// never quits by surprise.
pub const HELP_BINDINGS: &[Binding] = &[bind(Action::Quit, CTRL_C, "quit", Some("quit"))];

/// The keys of the "terminal too small" screen: nothing of the hidden views can act, since
/// the operator cannot see what a key would do; quitting still works.
pub const TOO_SMALL_BINDINGS: &[Binding] = &[bind(Action::Quit, QUIT, "quit", Some("quit"))];

/// Which key table applies: one per [`super::mode::Mode`], and one for the too-small screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySet {
    Table,
    Filter,
    Columns,
    Groups,
    ReadAllOffer,
    Pivot,
    Help,
    TooSmall,
}

impl KeySet {
    pub const ALL: [KeySet; 8] = [
        KeySet::Table,
        KeySet::Filter,
        KeySet::Columns,
        KeySet::Groups,
        KeySet::ReadAllOffer,
        KeySet::Pivot,
        KeySet::Help,
        KeySet::TooSmall,
    ];
}

/// What a key that no binding lists does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Other {
    Nothing,
    /// A printable character, without Ctrl, is this action (typing); other keys do nothing.
    Typed(Action),
    /// Any key is this action (closing a view that says "any key closes").
    Any(Action),
}

/// One view's keys: its bindings, what any other key does, and how the help and the footer
/// say so.
#[derive(Debug, Clone, Copy)]
pub struct KeyTable {
    /// The help overlay's title while this view is under it.
    pub title: &'static str,
    pub bindings: &'static [Binding],
    pub other: Other,
    /// The help's and the footer's words for the other keys: `(keys, help, footer)`.
    pub other_help: Option<(&'static str, &'static str, Option<&'static str>)>,
}

/// The key table of a view.
pub fn table(set: KeySet) -> &'static KeyTable {
    const TABLE: KeyTable = KeyTable {
        title: " Keys ",
        bindings: BINDINGS,
        other: Other::Nothing,
        other_help: None,
    };
    const FILTER: KeyTable = KeyTable {
        title: " Keys of the filter ",
        bindings: FILTER_BINDINGS,
        other: Other::Typed(Action::Type),
        other_help: Some(("other keys", "typed into the filter", None)),
    };
    const COLUMNS: KeyTable = KeyTable {
        title: " Keys of the column chooser ",
        bindings: COLUMN_BINDINGS,
        other: Other::Any(Action::Close),
        other_help: Some(("other keys", "close the chooser", Some("close"))),
    };
    const GROUPS: KeyTable = KeyTable {
        title: " Keys of the failure groups ",
        bindings: GROUP_BINDINGS,
        other: Other::Nothing,
        other_help: None,
    };
    const OFFER: KeyTable = KeyTable {
        title: " Keys of the offer ",
        bindings: OFFER_BINDINGS,
        other: Other::Any(Action::Close),
        other_help: Some(("other keys", "keep the default budget", Some("decline"))),
    };
    const PIVOT: KeyTable = KeyTable {
        title: " Keys of the pivot ",
        bindings: PIVOT_BINDINGS,
        other: Other::Nothing,
        other_help: None,
    };
    const HELP_TABLE: KeyTable = KeyTable {
        title: " Keys of the help ",
        bindings: HELP_BINDINGS,
        other: Other::Any(Action::Close),
        other_help: Some(("any key", "close this help", Some("close"))),
    };
    const TOO_SMALL: KeyTable = KeyTable {
        title: " Keys ",
        bindings: TOO_SMALL_BINDINGS,
        other: Other::Nothing,
        other_help: None,
    };
    match set {
        KeySet::Table => &TABLE,
        KeySet::Filter => &FILTER,
        KeySet::Columns => &COLUMNS,
        KeySet::Groups => &GROUPS,
        KeySet::ReadAllOffer => &OFFER,
        KeySet::Pivot => &PIVOT,
        KeySet::Help => &HELP_TABLE,
        KeySet::TooSmall => &TOO_SMALL,
    }
}

/// The help overlay's `(keys, what)` lines of a view.
pub fn help_entries(set: KeySet) -> Vec<(String, &'static str)> {
    let table = table(set);
    table
        .bindings
        .iter()
        .map(|b| (keys_label(b), b.help))
        .chain(
            table
                .other_help
                .map(|(keys, help, _)| (keys.to_string(), help)),
        )
        .collect()
}

/// The footer's `(key, label)` pairs of a view, in table order; the draw keeps the last two
/// (help and quit, where the view has them) whatever the width.
pub fn footer_entries(set: KeySet) -> Vec<(String, &'static str)> {
    let table = table(set);
    let other = table
        .other_help
        .and_then(|(keys, _, footer)| Some((keys.to_string(), footer?)));
    let bound = table
        .bindings
        .iter()
        .filter_map(|b| Some((footer_key(b), b.footer?)));
    // What any other key does reads best before "quit", which stays last.
    let mut entries: Vec<(String, &'static str)> = bound.collect();
    if let Some(other) = other {
        let at = entries.len().saturating_sub(1);
        entries.insert(at, other);
    }
    entries
}

/// What the mouse does; listed with the keys.
pub const MOUSE_HELP: (&str, &str) = ("mouse", "wheel scrolls, a click selects a row");

/// The action a key event asks for in a view, if any.
pub fn action_for(set: KeySet, event: KeyEvent) -> Option<Action> {
    // Terminals report Shift with upper-case letters and Shift-Tab; the character says it all.
    let modifiers = match event.code {
        KeyCode::Char(_) | KeyCode::BackTab => event.modifiers - KeyModifiers::SHIFT,
        _ => event.modifiers,
    };
    let table = table(set);
    let bound = table
        .bindings
        .iter()
        .find(|b| {
            b.keys
                .iter()
                .any(|k| k.code == event.code && k.modifiers == modifiers)
        })
        .map(|b| b.action);
    bound.or(match table.other {
        Other::Nothing => None,
        Other::Typed(action) => match event.code {
            KeyCode::Char(c) if !c.is_control() && !modifiers.contains(KeyModifiers::CONTROL) => {
                Some(action)
            }
            _ => None,
        },
        Other::Any(action) => Some(action),
    })
}

/// The table view's binding of an action, if it has one there.
pub fn binding(action: Action) -> Option<&'static Binding> {
    BINDINGS.iter().find(|b| b.action == action)
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
        KeyCode::Backspace => "Backspace".into(),
        other => format!("{other:?}"),
    };
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        format!("Ctrl-{}", base.to_uppercase())
    } else {
        base
    }
}

/// A run of digit keys (`1` to `4`) as one range, the way the operator reads it.
fn digit_range(keys: &[Key]) -> Option<String> {
    let digits: Vec<u32> = keys
        .iter()
        .map(|k| match k.code {
            KeyCode::Char(c) if k.modifiers.is_empty() => c.to_digit(10),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let (first, last) = (*digits.first()?, *digits.last()?);
    let run = digits.len() > 2 && digits.windows(2).all(|w| w[1] == w[0] + 1);
    run.then(|| format!("{first}-{last}"))
}

/// The key the footer names for a binding: its first, or its range of digits.
fn footer_key(binding: &Binding) -> String {
    digit_range(binding.keys)
        .or_else(|| binding.keys.first().map(|k| key_name(*k)))
        .unwrap_or_default()
}

/// The keys of a binding as the help overlay shows them: `j ↓`.
pub fn keys_label(binding: &Binding) -> String {
    if let Some(range) = digit_range(binding.keys) {
        return range;
    }
    binding
        .keys
        .iter()
        .map(|k| key_name(*k))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The key that does `action` in a view, named as the footer names it (`Esc`, `1-4`), or
/// the view's words for its other keys when only they do it ([`Action::Close`] in a view any
/// key closes). Titles and messages that name a key take it from here, so a key rebound in
/// its table is rebound in every sentence that mentions it.
pub fn key_for(set: KeySet, action: Action) -> Option<String> {
    let table = table(set);
    if let Some(binding) = table.bindings.iter().find(|b| b.action == action) {
        return Some(footer_key(binding));
    }
    match (table.other, table.other_help) {
        (Other::Any(any), Some((keys, _, _))) if any == action => Some(keys.to_string()),
        _ => None,
    }
}

/// One part of a view's title hint: the actions that share its words (`s/S: sort`).
pub type HintPart = (&'static [Action], &'static str);

/// The failure groups' title: what Enter and Esc do there.
pub const GROUPS_HINT: &[HintPart] = &[
    (&[Action::OpenDetail], "its requests"),
    (&[Action::Back], "back"),
];
/// The pivot's title.
pub const PIVOT_HINT: &[HintPart] = &[
    (&[Action::Pivot], "next dimension"),
    (&[Action::CycleSort, Action::ReverseSort], "sort"),
    (&[Action::OpenDetail], "its requests"),
    (&[Action::Back], "back"),
];
/// The detail pane's title (the table's keys: the pane has none of its own).
pub const DETAIL_HINT: &[HintPart] = &[
    (&[Action::Back], "close"),
    (
        &[Action::DetailScrollDown, Action::DetailScrollUp],
        "scroll",
    ),
];
/// The offer to read every reason.
pub const OFFER_HINT: &[HintPart] = &[(&[Action::Choose], "pick a rate"), (&[Action::Close], "no")];

/// Every title hint with the view whose keys it names, for the test that none names a key
/// its view does not have.
pub const TITLE_HINTS: &[(KeySet, &[HintPart])] = &[
    (KeySet::Groups, GROUPS_HINT),
    (KeySet::Pivot, PIVOT_HINT),
    (KeySet::Table, DETAIL_HINT),
    (KeySet::ReadAllOffer, OFFER_HINT),
];

/// A view's title hint from its key table: `p: next dimension · s/S: sort · Esc: back`. A
/// part whose actions the view does not bind is left out rather than naming a dead key.
pub fn hint(set: KeySet, parts: &[HintPart]) -> String {
    parts
        .iter()
        .filter_map(|(actions, words)| {
            let keys: Option<Vec<String>> = actions.iter().map(|a| key_for(set, *a)).collect();
            Some(format!("{}: {words}", keys?.join("/")))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

pub const README_START: &str = "<!-- keys:start (generated from src/app/keymap.rs) -->";
pub const README_END: &str = "<!-- keys:end -->";

/// The README's key table (the table view's keys, which every other view's build on),
/// markers included.
pub fn readme_table() -> String {
    let mut out = format!("{README_START}\n| key | action |\n| --- | --- |\n");
    let code = |k: Key| format!("`{}`", key_name(k).replace('|', "\\|"));
    for b in BINDINGS {
        let keys: Vec<String> = b.keys.iter().map(|k| code(*k)).collect();
        out.push_str(&format!("| {} | {} |\n", keys.join(", "), b.help));
    }
    out.push_str(&format!("| {} | {} |\n", MOUSE_HELP.0, MOUSE_HELP.1));
    // The other views' keys, one paragraph each: the same tables as their help and footer.
    for set in [
        KeySet::Groups,
        KeySet::ReadAllOffer,
        KeySet::Pivot,
        KeySet::Filter,
        KeySet::Columns,
    ] {
        let view = table(set);
        let mut items: Vec<String> = view
            .bindings
            .iter()
            .map(|b| {
                let keys: Vec<String> = b.keys.iter().map(|k| code(*k)).collect();
                format!("{} {}", keys.join("/"), b.help)
            })
            .collect();
        if let Some((keys, help, _)) = view.other_help {
            items.push(format!("{keys}: {help}"));
        }
        out.push_str(&format!(
            "\n**{}**: {}.\n",
            view.title.trim(),
            items.join("; ")
        ));
    }
    out.push_str(README_END);
    out
}
