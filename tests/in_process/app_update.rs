//! The update function, driven without a terminal: selection by id, stacking filters,
//! describe-once.

use crate::support::app as app_support;

use app_support::*;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ssowatch::app::{self, Effect, Mode, Msg, StatusFilter, Tab, keymap};
use ssowatch::model::{NameKind, OperationKind, Status};
use ssowatch::poller::{DescribeRequest, Event, Priority};

#[test]
fn newest_first_by_default() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 20);
    let ids = visible_ids(&state);
    assert_eq!(ids.len(), 20);
    // rid(0) is the newest (created closest to t0).
    assert_eq!(ids[0], rid(0));
    assert_eq!(ids[19], rid(19));
}

#[test]
fn selection_is_kept_by_request_id_across_refreshes() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 20);
    key(&mut state, KeyCode::Down);
    key(&mut state, KeyCode::Down);
    key(&mut state, KeyCode::Down);
    assert_eq!(state.active_table().selected_id(), Some(rid(3).as_str()));

    // Newer requests arrive at the top: positions shift, the selection must not.
    let newer: Vec<_> = (0..5)
        .map(|i| {
            let mut s = summary(CREATION, 1000 + i, Status::InProgress);
            s.created = t0() + chrono::Duration::seconds(10 + i as i64);
            s
        })
        .collect();
    send(
        &mut state,
        Event::Records {
            kind: CREATION,
            items: newer,
        },
    );
    assert_eq!(state.active_table().selected_id(), Some(rid(3).as_str()));
    assert_eq!(state.active_table().selected_pos(), Some(8));

    // A status change of the selected row keeps it selected too.
    send(
        &mut state,
        Event::Records {
            kind: CREATION,
            items: vec![summary(CREATION, 3, Status::Failed)],
        },
    );
    assert_eq!(state.active_table().selected_id(), Some(rid(3).as_str()));
}

#[test]
fn status_and_text_filters_stack() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 50);
    // Give two FAILED records a describable reason, and one SUCCEEDED the same account text.
    send(
        &mut state,
        Event::Described(Box::new(described(
            CREATION,
            0,
            Status::Failed,
            Some("Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/Foo"),
        ))),
    );
    send(
        &mut state,
        Event::Described(Box::new(described(
            CREATION,
            5,
            Status::Failed,
            Some("An unexpected internal service exception was encountered"),
        ))),
    );

    key(&mut state, KeyCode::Char('f'));
    assert_eq!(state.view.status_filter, StatusFilter::FailedOnly);
    let failed = visible_ids(&state);
    assert_eq!(failed.len(), 10);
    assert!(failed.iter().all(|id| {
        state
            .active_table()
            .row_by_id(id)
            .is_some_and(|r| r.status == Status::Failed)
    }));

    key(&mut state, KeyCode::Char('/'));
    chars(&mut state, "NOT SUPPORTED");
    key(&mut state, KeyCode::Enter);
    assert_eq!(visible_ids(&state), vec![rid(0)]);

    // Removing the status filter keeps the text filter.
    key(&mut state, KeyCode::Char('a'));
    assert_eq!(visible_ids(&state), vec![rid(0)]);

    // Esc clears the text filter; the status filter is independent.
    key(&mut state, KeyCode::Char('i'));
    assert!(visible_ids(&state).is_empty());
    key(&mut state, KeyCode::Esc);
    assert!(state.view.text_filter.is_empty());
    assert_eq!(visible_ids(&state).len(), 20);
    key(&mut state, KeyCode::Char('i'));
    assert_eq!(state.view.status_filter, StatusFilter::All);
    assert_eq!(visible_ids(&state).len(), 50);
}

#[test]
fn text_filter_matches_request_ids_case_insensitively() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 30);
    key(&mut state, KeyCode::Char('/'));
    let needle = rid(17)[24..].to_uppercase();
    chars(&mut state, &needle);
    assert_eq!(visible_ids(&state), vec![rid(17)]);
    // Backspace widens again while typing.
    for _ in 0..12 {
        key(&mut state, KeyCode::Backspace);
    }
    assert_eq!(visible_ids(&state).len(), 30);
}

#[test]
fn describe_is_requested_once_per_finished_record_however_often_selected() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 10);
    // rid(0) is FAILED. Open the detail pane on it.
    let effects = key(&mut state, KeyCode::Enter);
    let interactive: Vec<&Effect> = effects
        .iter()
        .filter(|e| matches!(e, Effect::Describe(r) if r.priority == Priority::Interactive))
        .collect();
    assert_eq!(
        interactive,
        vec![&Effect::Describe(DescribeRequest {
            kind: CREATION,
            request_id: rid(0),
            priority: Priority::Interactive
        })]
    );
    // Moving away and back before the answer asks for each selected row: whether one is
    // already on its way is the poller's to know (tests/runtime.rs counts the calls).
    let mut total = 0;
    total += describes(&key(&mut state, KeyCode::Down));
    total += describes(&key(&mut state, KeyCode::Up));
    assert_eq!(total, 2);

    send(
        &mut state,
        Event::Described(Box::new(described(
            CREATION,
            0,
            Status::Failed,
            Some("boom"),
        ))),
    );
    for _ in 0..5 {
        let mut effects = key(&mut state, KeyCode::Down);
        effects.extend(key(&mut state, KeyCode::Up));
        effects.extend(key(&mut state, KeyCode::Esc));
        effects.extend(key(&mut state, KeyCode::Enter));
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::Describe(r) if r.request_id == rid(0))),
            "finished and described: never again"
        );
    }
}

#[test]
fn in_progress_records_are_described_again_once_they_finish() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 10);
    key(&mut state, KeyCode::Down); // rid(1), IN_PROGRESS
    assert_eq!(describes(&key(&mut state, KeyCode::Enter)), 1);
    send(
        &mut state,
        Event::Described(Box::new(described(CREATION, 1, Status::InProgress, None))),
    );
    // rid(1)'s in-progress answer is fresh while its status has not moved; rid(2) is asked.
    assert_eq!(
        describes(&key(&mut state, KeyCode::Down)) + describes(&key(&mut state, KeyCode::Up)),
        1
    );
    send(
        &mut state,
        Event::Described(Box::new(described(CREATION, 2, Status::InProgress, None))),
    );
    // The poller reports it FAILED: the open detail pane asks for the final answer.
    let effects = send(
        &mut state,
        Event::Records {
            kind: CREATION,
            items: vec![summary(CREATION, 1, Status::Failed)],
        },
    );
    assert_eq!(describes(&effects), 1);
}

#[test]
fn errors_never_wipe_data_and_success_clears_the_error_line() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 10);
    let error = ssowatch::provider::ProviderError::new(
        ssowatch::provider::ErrorKind::Throttled,
        "Rate exceeded",
    );
    send(&mut state, Event::CallFailed { at: t0(), error });
    assert_eq!(state.active_table().len(), 10);
    assert!(state.data.last_error.is_some());
    assert!(state.recently_throttled());
    send(
        &mut state,
        Event::ListSucceeded {
            kind: CREATION,
            at: t0() + chrono::Duration::seconds(1),
        },
    );
    assert!(state.data.last_error.is_none());
}

#[test]
fn tabs_sort_and_navigation_keys() {
    let mut state = new_state(120, 30);
    load(&mut state, CREATION, 100);
    key(&mut state, KeyCode::Char('G'));
    assert_eq!(state.active_table().selected_id(), Some(rid(99).as_str()));
    key(&mut state, KeyCode::Char('g'));
    assert_eq!(state.active_table().selected_pos(), Some(0));
    key(&mut state, KeyCode::PageDown);
    let page = state.table_rows();
    assert_eq!(state.active_table().selected_pos(), Some(page));
    key(&mut state, KeyCode::Char('S'));
    // Oldest first now, selection kept by id.
    assert_eq!(visible_ids(&state)[0], rid(99));
    assert_eq!(state.active_table().selected_id(), Some(rid(page).as_str()));
    key(&mut state, KeyCode::Tab);
    assert_eq!(
        state.view.active,
        Tab::Kind(OperationKind::AssignmentDeletion)
    );
    key(&mut state, KeyCode::BackTab);
    key(&mut state, KeyCode::BackTab);
    // The all-kinds tab comes first; going back from it wraps to the last kind.
    assert_eq!(state.view.active, Tab::All);
    key(&mut state, KeyCode::BackTab);
    assert_eq!(
        state.view.active,
        Tab::Kind(OperationKind::PermissionSetProvisioning)
    );
    key(&mut state, KeyCode::Char('1'));
    assert_eq!(
        state.view.active,
        Tab::Kind(OperationKind::AssignmentCreation)
    );
    key(&mut state, KeyCode::Char('0'));
    assert_eq!(state.view.active, Tab::All);
    assert!(key(&mut state, KeyCode::Char('r')).contains(&Effect::RefreshNow));
    assert!(key(&mut state, KeyCode::Char('q')).contains(&Effect::Quit));
}

#[test]
fn copy_puts_the_selected_request_id_in_an_effect() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 3);
    key(&mut state, KeyCode::Down);
    assert_eq!(
        key(&mut state, KeyCode::Char('y')),
        vec![Effect::Copy(rid(1))]
    );
}

#[test]
fn until_the_operator_moves_the_selection_follows_the_newest_row() {
    let mut state = new_state(120, 40);
    // The first page holds the oldest records, later pages newer ones.
    let page = |range: std::ops::Range<usize>| Event::Records {
        kind: CREATION,
        items: range
            .map(|i| summary(CREATION, i, Status::Succeeded))
            .collect(),
    };
    send(&mut state, page(20..30));
    send(&mut state, page(0..20));
    assert_eq!(state.active_table().selected_id(), Some(rid(0).as_str()));
    assert_eq!(state.active_table().offset, 0);
    // Once moved, it is pinned to that request; `g` unpins it again.
    key(&mut state, KeyCode::Down);
    let newer = summary(CREATION, 500, Status::InProgress);
    let newer = ssowatch::model::StatusSummary {
        created: t0(),
        ..newer
    };
    send(
        &mut state,
        Event::Records {
            kind: CREATION,
            items: vec![newer.clone()],
        },
    );
    assert_eq!(state.active_table().selected_id(), Some(rid(1).as_str()));
    key(&mut state, KeyCode::Char('g'));
    assert_eq!(state.active_table().selected_id(), Some(rid(500).as_str()));
}

#[test]
fn a_filter_that_hides_the_selection_goes_back_to_the_top() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 30);
    for _ in 0..3 {
        key(&mut state, KeyCode::Down);
    }
    assert_eq!(state.active_table().selected_id(), Some(rid(3).as_str()));
    key(&mut state, KeyCode::Char('f'));
    assert_eq!(state.active_table().selected_pos(), Some(0));
    assert_eq!(state.active_table().selected_id(), Some(rid(0).as_str()));
}

#[test]
fn permission_set_names_replace_arns_and_are_searchable() {
    let mut state = new_state(200, 40);
    load(&mut state, CREATION, 5);
    send(
        &mut state,
        Event::Described(Box::new(described(CREATION, 0, Status::Failed, Some("x")))),
    );
    let arn = "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-0123456789abcdef";
    assert_eq!(
        state
            .active_table()
            .row_by_id(&rid(0))
            .and_then(|r| r.permission_set()),
        Some(arn)
    );
    send(
        &mut state,
        Event::Name {
            kind: NameKind::PermissionSet,
            id: arn.into(),
            name: "BillingAdmin".into(),
        },
    );
    assert_eq!(
        state
            .active_table()
            .row_by_id(&rid(0))
            .and_then(|r| r.permission_set()),
        Some("BillingAdmin")
    );
    // Later answers for the same permission set get the name at once.
    send(
        &mut state,
        Event::Described(Box::new(described(CREATION, 3, Status::Succeeded, None))),
    );
    assert_eq!(
        state
            .active_table()
            .row_by_id(&rid(3))
            .and_then(|r| r.permission_set()),
        Some("BillingAdmin")
    );
    key(&mut state, KeyCode::Char('/'));
    chars(&mut state, "billingadmin");
    assert_eq!(visible_ids(&state), vec![rid(0), rid(3)]);
}

#[test]
fn principal_and_account_names_replace_ids_in_the_table_and_a_names_hint_shows_once() {
    let mut state = new_state(200, 40);
    load(&mut state, CREATION, 5);
    send(
        &mut state,
        Event::Described(Box::new(described(CREATION, 0, Status::Failed, Some("x")))),
    );
    let row = |state: &ssowatch::app::AppState| {
        let r = state.active_table().row_by_id(&rid(0)).cloned();
        r.map(|r| (r.principal(), r.account().map(str::to_string)))
    };
    assert_eq!(
        row(&state),
        Some((
            Some("GROUP f81d4fae-7dec-11d0-a765-00a0c91e6bf6".to_string()),
            Some("123456789012".to_string())
        ))
    );
    for (kind, id, name) in [
        (
            NameKind::Group,
            "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
            "platform-admins",
        ),
        (NameKind::Account, "123456789012", "payments-prod"),
    ] {
        send(
            &mut state,
            Event::Name {
                kind,
                id: id.into(),
                name: name.into(),
            },
        );
    }
    assert_eq!(
        row(&state),
        Some((
            Some("GROUP platform-admins".to_string()),
            Some("payments-prod".to_string())
        ))
    );
    send(
        &mut state,
        Event::NamesUnavailable {
            hint: "user and group names need identitystore:DescribeUser".into(),
        },
    );
    assert!(
        state
            .data
            .notice
            .as_ref()
            .is_some_and(|n| n.contains("identitystore:DescribeUser"))
    );
    // A list success (which clears errors) leaves the standing notice.
    send(
        &mut state,
        Event::ListSucceeded {
            kind: CREATION,
            at: t0() + chrono::Duration::seconds(5),
        },
    );
    assert!(state.data.notice.is_some());
}

/// A record newer than every loaded one (and than any with a smaller `i`): it sorts to the top.
fn newest_record(i: usize) -> Event {
    Event::Records {
        kind: CREATION,
        items: vec![ssowatch::model::StatusSummary {
            created: t0() + chrono::Duration::seconds(i as i64),
            ..summary(CREATION, i, Status::InProgress)
        }],
    }
}

#[test]
fn the_readme_key_table_is_the_key_table() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .unwrap_or_else(|e| panic!("README.md: {e}"));
    let expected = keymap::readme_table();
    let start = readme.find(keymap::README_START);
    let end = readme.find(keymap::README_END);
    let (Some(start), Some(end)) = (start, end) else {
        panic!("README.md has no key table markers; put this block in it:\n{expected}");
    };
    let actual = &readme[start..end + keymap::README_END.len()];
    assert_eq!(
        actual, expected,
        "README key table differs from src/app/keymap.rs; replace the block with:\n{expected}"
    );
}

#[test]
fn every_title_hint_names_keys_its_view_binds() {
    use ssowatch::app::keymap::{Action, KeySet};
    for (set, parts) in keymap::TITLE_HINTS {
        for (actions, words) in *parts {
            for action in *actions {
                assert!(
                    keymap::key_for(*set, *action).is_some(),
                    "the {set:?} hint says {words:?} with {action:?}, which that view does not bind"
                );
            }
        }
    }
    assert_eq!(
        keymap::hint(KeySet::Pivot, keymap::PIVOT_HINT),
        "p: next dimension · s/S: sort · Enter: its requests · Esc: back"
    );
    // A view that any other key closes names those keys, not a key it does not bind.
    assert_eq!(
        keymap::hint(KeySet::ReadAllOffer, keymap::OFFER_HINT),
        "1-4: pick a rate · other keys: no"
    );
    // A part the view does not bind is left out rather than naming a dead key.
    assert_eq!(
        keymap::hint(
            KeySet::Groups,
            &[(&[Action::Pivot], "pivot"), (&[Action::Back], "back")]
        ),
        "Esc: back"
    );
}

#[test]
fn every_bound_key_dispatches_to_its_own_action() {
    use ratatui::crossterm::event::{KeyEvent, KeyModifiers};
    use ssowatch::app::keymap::{Action, KeySet};
    for set in KeySet::ALL {
        for binding in keymap::table(set).bindings {
            for k in binding.keys {
                let event = KeyEvent::new(k.code, k.modifiers);
                assert_eq!(
                    keymap::action_for(set, event),
                    Some(binding.action),
                    "{set:?} {k:?}"
                );
            }
        }
    }
    // Terminals send upper-case letters with Shift held.
    let shifted = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
    assert_eq!(
        keymap::action_for(KeySet::Table, shifted),
        Some(Action::Last)
    );
    let z = KeyEvent::from(KeyCode::Char('Z'));
    assert_eq!(keymap::action_for(KeySet::Table, z), None);
    // A key no table of a view lists is nothing there, unless that view says what any other
    // key does: the filter types it, the help and the chooser close.
    assert_eq!(keymap::action_for(KeySet::Groups, z), None);
    assert_eq!(keymap::action_for(KeySet::Pivot, z), None);
    assert_eq!(keymap::action_for(KeySet::TooSmall, z), None);
    assert_eq!(keymap::action_for(KeySet::Filter, z), Some(Action::Type));
    assert_eq!(keymap::action_for(KeySet::Help, z), Some(Action::Close));
    assert_eq!(keymap::action_for(KeySet::Columns, z), Some(Action::Close));
    // Ctrl-C quits from every view.
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    for set in KeySet::ALL {
        assert_eq!(
            keymap::action_for(set, ctrl_c),
            Some(Action::Quit),
            "{set:?}"
        );
    }
}

#[test]
fn q_with_help_open_closes_the_help_and_does_not_quit() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 3);
    key(&mut state, KeyCode::Char('?'));
    assert!(state.view.mode.help_open());
    let effects = key(&mut state, KeyCode::Char('q'));
    assert!(!effects.contains(&Effect::Quit), "{effects:?}");
    assert!(!state.view.should_quit);
    assert!(!state.view.mode.help_open());
    // With help closed, q quits.
    assert!(key(&mut state, KeyCode::Char('q')).contains(&Effect::Quit));
}

#[test]
fn copy_with_no_row_shown_copies_nothing() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 5);
    key(&mut state, KeyCode::Down);
    key(&mut state, KeyCode::Char('/'));
    chars(&mut state, "no-such-request");
    key(&mut state, KeyCode::Enter);
    assert_eq!(state.active_table().view_len(), 0);
    let effects = key(&mut state, KeyCode::Char('y'));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Copy(_))),
        "copied a hidden request: {effects:?}"
    );
}

#[test]
fn an_open_detail_pane_never_moves_to_a_newer_request() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 20);
    assert!(state.active_table().following());
    // The top row, opened while following: the pane pins it.
    key(&mut state, KeyCode::Enter);
    assert!(!state.active_table().following());
    send(&mut state, newest_record(500));
    assert_eq!(state.active_table().selected_id(), Some(rid(0).as_str()));
    // `g` with the pane open goes to the top row but still does not follow.
    key(&mut state, KeyCode::Char('g'));
    send(&mut state, newest_record(501));
    assert_eq!(state.active_table().selected_id(), Some(rid(500).as_str()));
    // Closed, `t` follows the newest again, and says so.
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Char('t'));
    assert!(state.active_table().following());
    send(&mut state, newest_record(502));
    assert_eq!(state.active_table().selected_id(), Some(rid(502).as_str()));
    // `t` again pins the selection where it is.
    key(&mut state, KeyCode::Char('t'));
    send(&mut state, newest_record(503));
    assert_eq!(state.active_table().selected_id(), Some(rid(502).as_str()));
}

fn click_at(state: &mut ssowatch::app::AppState, column: u16, row: u16) -> Vec<Effect> {
    use ratatui::crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    ssowatch::app::update(
        state,
        ssowatch::app::Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }),
    )
}

#[test]
fn a_click_selects_the_row_under_the_pointer() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 80);
    // Header (4 rows), tabs (1), the table's top border and column header: data starts at 7.
    click_at(&mut state, 30, 7 + 4);
    assert_eq!(state.active_table().selected_id(), Some(rid(4).as_str()));
    // After scrolling, a click maps through the offset.
    key(&mut state, KeyCode::Char('G'));
    let offset = state.active_table().offset;
    assert!(offset > 0);
    click_at(&mut state, 30, 7);
    assert_eq!(
        state.active_table().selected_id(),
        Some(rid(offset).as_str())
    );
    // Borders, the header and the footer select nothing.
    click_at(&mut state, 30, 6);
    click_at(&mut state, 0, 9);
    click_at(&mut state, 30, 39);
    assert_eq!(
        state.active_table().selected_id(),
        Some(rid(offset).as_str())
    );
}

#[test]
fn the_all_kinds_tab_holds_every_kind_and_f_there_shows_every_failed() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 10);
    load(&mut state, OperationKind::AssignmentDeletion, 5);
    load(&mut state, OperationKind::PermissionSetProvisioning, 5);
    key(&mut state, KeyCode::Char('0'));
    assert_eq!(state.view.active, Tab::All);
    assert_eq!(state.active_table().len(), 20);
    key(&mut state, KeyCode::Char('f'));
    // status_for: every fifth is FAILED: 2 + 1 + 1.
    assert_eq!(state.active_table().view_len(), 4);
    let kinds: std::collections::BTreeSet<OperationKind> = (0..4)
        .filter_map(|p| state.active_table().view_row(p))
        .map(|r| r.kind)
        .collect();
    assert_eq!(kinds.len(), 3);
    // Opening a row describes it as its own kind.
    key(&mut state, KeyCode::Char('G'));
    let row_kind = state.active_table().selected().map(|r| r.kind);
    let effects = key(&mut state, KeyCode::Enter);
    let asked: Vec<OperationKind> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Describe(r) if r.priority == Priority::Interactive => Some(r.kind),
            _ => None,
        })
        .collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(Some(asked[0]), row_kind);
}

/// Marks the FAILED requests `ids` of `kind` as described with `reason`.
fn fail_with(
    state: &mut ssowatch::app::AppState,
    kind: OperationKind,
    ids: &[usize],
    reason: &str,
) {
    for &i in ids {
        let mut d = described(
            kind,
            i,
            Status::Failed,
            Some(&reason.replace("{i}", &format!("{:012}", 100_000_000_000u64 + i as u64))),
        );
        d.detail.target_account = Some(format!("{:012}", 200_000_000_000u64 + i as u64));
        send(state, Event::Described(Box::new(d)));
    }
}

#[test]
fn failure_groups_group_by_cause_and_enter_shows_only_that_groups_requests() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 30);
    load(&mut state, OperationKind::PermissionSetProvisioning, 20);
    // FAILED (status_for): creation 0 5 10 15 20 25, provisioning 0 5 10 15.
    let policy = "Received a 404 status error: Not supported policy arn:aws:iam::{i}:policy/Deploy";
    fail_with(&mut state, CREATION, &[0, 10, 20], policy);
    fail_with(
        &mut state,
        OperationKind::PermissionSetProvisioning,
        &[5, 15],
        policy,
    );
    fail_with(
        &mut state,
        CREATION,
        &[5, 15],
        "AWS SSO is unable to complete your request at this time. Obtaining permissions to manage your AWS account '{i}' takes longer than usual.",
    );
    let effects = key(&mut state, KeyCode::Char('F'));
    // The FAILED rows not described yet are handed to the poller as the view's reading plan,
    // at the failures priority.
    let asked: Vec<String> = reasons_planned(&effects)
        .expect("F plans the reasons to read")
        .iter()
        .map(|r| {
            assert_eq!(r.priority, Priority::Failures);
            r.request_id.clone()
        })
        .collect();
    assert_eq!(asked.len(), 3, "{asked:?}");
    let Some(view) = state.view.mode.groups() else {
        panic!("F opens the groups");
    };
    let counts: Vec<usize> = view.groups.iter().map(|g| g.count).collect();
    assert_eq!(counts, vec![5, 2, 3], "{:#?}", view.groups);
    assert_eq!(
        view.groups[0].cause,
        ssowatch::failures::Cause::PolicyMissing
    );
    assert_eq!(view.groups[0].kinds.len(), 2);
    assert_eq!(view.groups[0].accounts.len(), 5);
    assert_eq!(
        view.groups[1].cause,
        ssowatch::failures::Cause::AccountUnreachable
    );
    // Enter on the first group: the all-kinds table with exactly its five requests.
    key(&mut state, KeyCode::Enter);
    assert!(state.view.mode.groups().is_none());
    assert_eq!(state.view.active, Tab::All);
    let mut shown = visible_ids(&state);
    shown.sort();
    let mut expected: Vec<String> = [0, 10, 20]
        .iter()
        .map(|&i| rid(i))
        .chain(
            [5, 15]
                .iter()
                .map(|&i| rid_of(OperationKind::PermissionSetProvisioning, i)),
        )
        .collect();
    expected.sort();
    assert_eq!(shown, expected);
    // Esc clears the group and returns to the groups (issue 19): everything again behind them.
    key(&mut state, KeyCode::Esc);
    assert!(state.view.mode.groups().is_some());
    assert_eq!(state.active_table().view_len(), 50);
    // j in the groups moves the selection; Esc closes them.
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(state.view.mode.groups().map(|g| g.selected), Some(1));
    key(&mut state, KeyCode::Esc);
    assert!(state.view.mode.groups().is_none());
}

/// The reading plan an update handed the poller, if any.
fn reasons_planned(effects: &[Effect]) -> Option<Vec<ssowatch::poller::DescribeRequest>> {
    effects.iter().find_map(|e| match e {
        Effect::ReadReasons(Some(plan)) => Some(plan.clone()),
        _ => None,
    })
}

#[test]
fn failures_that_arrive_while_the_groups_are_open_join_the_reading_plan_and_esc_ends_it() {
    let mut state = new_state(120, 40);
    // F pressed before anything is listed: an empty plan, but the view reads reasons.
    let effects = key(&mut state, KeyCode::Char('F'));
    assert_eq!(reasons_planned(&effects), Some(Vec::new()));
    // The FAILED listing arrives while the view is open: every FAILED is in the new plan.
    let effects = send(
        &mut state,
        records(CREATION, &[(1, Status::Failed), (2, Status::Failed)]),
    );
    let plan = reasons_planned(&effects).expect("a new FAILED makes a new plan");
    let mut ids: Vec<String> = plan.iter().map(|r| r.request_id.clone()).collect();
    ids.sort();
    assert_eq!(ids, vec![rid(1), rid(2)]);
    // Ticks change nothing: no new plan.
    let effects = ssowatch::app::update(&mut state, ssowatch::app::Msg::Tick(t0()));
    assert_eq!(reasons_planned(&effects), None);
    // Closing the view ends the reading: the poller hears `None`.
    let effects = key(&mut state, KeyCode::Esc);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::ReadReasons(None))),
        "{effects:?}"
    );
    // With the view closed, new FAILED plan nothing.
    let effects = send(&mut state, records(CREATION, &[(3, Status::Failed)]));
    assert!(!effects.iter().any(|e| matches!(e, Effect::ReadReasons(_))));
}

fn configure(state: &mut ssowatch::app::AppState, since_minutes: Option<i64>) {
    ssowatch::app::update(
        state,
        ssowatch::app::Msg::Configure(ssowatch::app::progress::ViewConfig {
            stuck_after: std::time::Duration::from_secs(15 * 60),
            since: since_minutes.map(|m| t0() - chrono::Duration::minutes(m)),
            columns: None,
        }),
    );
}

fn records(kind: OperationKind, items: &[(usize, Status)]) -> Event {
    Event::Records {
        kind,
        items: items
            .iter()
            .map(|(i, status)| summary(kind, *i, status.clone()))
            .collect(),
    }
}

#[test]
fn progress_counts_since_a_moment_and_marks_stuck_requests() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 30);
    configure(&mut state, Some(10));
    // Created 30 s + i minutes before t0: i = 0..=9 are within the last 10 minutes.
    let c = &state.data.progress.counts;
    assert_eq!(c.started, 10);
    assert_eq!((c.succeeded, c.failed), (4, 2));
    // In flight is what is IN_PROGRESS now (i % 5 in 1, 2), whenever it started.
    assert_eq!(c.in_flight, 12);
    // In flight for more than 15 minutes: i = 16, 17, 21, 22, 26, 27.
    assert_eq!(c.stuck, 6);
    // `z` counts from now: nothing started since.
    key(&mut state, KeyCode::Char('z'));
    assert_eq!(state.data.progress.counts.started, 0);
    assert!(!state.data.progress.since_start);
}

#[test]
fn a_new_failure_is_counted_once_and_cleared_when_the_operator_looks() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 30);
    // Loaded history is not news.
    assert_eq!(state.data.progress.new_failed_total, 0);
    // An in-flight request fails, another finishes.
    send(
        &mut state,
        records(CREATION, &[(1, Status::Failed), (2, Status::Succeeded)]),
    );
    assert_eq!(state.data.progress.new_failed_total, 1);
    assert_eq!(state.data.progress.unseen_failed, 1);
    assert_eq!(state.data.progress.completions.len(), 2);
    // The same answer again is nothing new.
    send(&mut state, records(CREATION, &[(1, Status::Failed)]));
    assert_eq!(state.data.progress.new_failed_total, 1);
    // An old FAILED request read late (created before the progress moment) is not news.
    send(&mut state, records(CREATION, &[(900, Status::Failed)]));
    assert_eq!(state.data.progress.new_failed_total, 1);
    key(&mut state, KeyCode::Char('f'));
    assert_eq!(state.data.progress.unseen_failed, 0);
    assert_eq!(state.data.progress.new_failed_total, 1);
}

#[test]
fn new_failed_and_the_failed_count_since_the_moment_agree() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 30);
    assert_eq!(state.data.progress.counts.failed, 0);
    // Two requests that started before ssowatch did fail while it watches: both are new, and
    // both count as failed since the start.
    send(
        &mut state,
        records(CREATION, &[(1, Status::Failed), (2, Status::Failed)]),
    );
    assert_eq!(state.data.progress.unseen_failed, 2);
    assert_eq!(state.data.progress.counts.failed, 2);
    // `z` counts from now: neither is new nor failed since then.
    key(&mut state, KeyCode::Char('z'));
    assert_eq!(state.data.progress.unseen_failed, 0);
    assert_eq!(state.data.progress.counts.failed, 0);
    assert_eq!(state.data.progress.counts.in_flight, 10);
}

#[test]
fn the_eta_follows_the_recent_completion_rate() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 30);
    // 12 in flight (i % 5 in 1, 2); 5 finish now: 1/min over the 5-minute window.
    send(
        &mut state,
        records(
            CREATION,
            &[
                (1, Status::Succeeded),
                (2, Status::Succeeded),
                (6, Status::Succeeded),
                (7, Status::Succeeded),
                (11, Status::Succeeded),
            ],
        ),
    );
    let p = &state.data.progress;
    assert_eq!(p.recent_rate(t0()), Some(1.0));
    assert_eq!(p.counts.in_flight, 7, "what runs now, whenever it started");
    assert_eq!(p.eta(t0()), Some(std::time::Duration::from_secs(7 * 60)));
    configure(&mut state, Some(60));
    let p = &state.data.progress;
    assert_eq!(p.counts.in_flight, 7);
    assert_eq!(
        p.per_minute(t0())[ssowatch::app::progress::SPARK_MINUTES - 1],
        5
    );
}

#[test]
fn export_writes_the_filtered_view_with_full_reasons_spreadsheet_safe() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 20);
    let long = format!("=HYPERLINK(\"x\") {}", "very long reason ".repeat(20));
    fail_with(&mut state, CREATION, &[0], &long);
    key(&mut state, KeyCode::Char('f'));
    key(&mut state, KeyCode::Char('e'));
    let Some(request) = state.view.export else {
        panic!("e asks the host for an export");
    };
    assert_eq!(request.format, ssowatch::app::ExportFormat::Csv);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let path = ssowatch::output::export_view(&state, dir.path(), request.format)
        .unwrap_or_else(|e| panic!("export: {e}"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read: {e}"));
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("kind,request_id,status,created,account"))
    );
    // Only the FAILED view: 4 of 20.
    assert_eq!(lines.clone().count(), 4, "{text}");
    assert!(text.contains("'=HYPERLINK"), "not spreadsheet-safe: {text}");
    assert!(
        text.contains(&"very long reason ".repeat(20)),
        "reason cut: {text}"
    );
    // The host's answer shows the path; a second export is a new file.
    ssowatch::app::update(
        &mut state,
        ssowatch::app::Msg::Exported(Ok(path.display().to_string())),
    );
    assert!(
        state
            .view
            .flash
            .as_ref()
            .is_some_and(|(_, m)| m.contains("exported to"))
    );
    key(&mut state, KeyCode::Char('E'));
    assert_eq!(state.view.export.map(|e| e.seq), Some(request.seq + 1));
}

#[test]
fn y_upper_copies_the_full_failure_reason() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 5);
    let reason = "Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/{i}";
    fail_with(&mut state, CREATION, &[0], reason);
    let effects = key(&mut state, KeyCode::Char('Y'));
    let copied: Vec<&String> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Copy(text) => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(copied.len(), 1);
    assert!(copied[0].starts_with(
        "Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/1000"
    ));
    // A row without a reason copies nothing.
    key(&mut state, KeyCode::Down);
    assert!(
        !key(&mut state, KeyCode::Char('Y'))
            .iter()
            .any(|e| matches!(e, Effect::Copy(_)))
    );
}

#[test]
fn the_screen_groups_as_the_failures_command_does() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 30);
    fail_with(
        &mut state,
        CREATION,
        &[0, 10, 20],
        "Received a 404 status error: Not supported policy arn:aws:iam::{i}:policy/Deploy",
    );
    fail_with(
        &mut state,
        CREATION,
        &[5],
        "An unexpected internal service exception was encountered",
    );
    key(&mut state, KeyCode::Char('F'));
    let screen = state
        .view
        .mode
        .groups()
        .map(|g| g.groups.clone())
        .unwrap_or_default();
    // `ssowatch failures` groups the same requests without the rows' cached patterns.
    let headless = ssowatch::failures::group(
        state
            .failed_requests()
            .into_iter()
            .map(|f| ssowatch::failures::FailedRequest { pattern: None, ..f }),
    );
    assert_eq!(screen, headless);
    assert_eq!(screen.len(), 3);
}

#[test]
fn the_all_kinds_table_is_filled_when_first_shown_and_kept_in_step_after() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 10);
    key(&mut state, KeyCode::Char('0'));
    assert_eq!(state.active_table().len(), 10);
    send(
        &mut state,
        records(
            OperationKind::AssignmentDeletion,
            &[(3, Status::InProgress)],
        ),
    );
    assert_eq!(state.active_table().len(), 11);
    assert!(visible_ids(&state).contains(&rid_of(OperationKind::AssignmentDeletion, 3)));
    // A describe answer reaches the all-kinds row too.
    fail_with(
        &mut state,
        CREATION,
        &[5],
        "An unexpected internal service exception was encountered",
    );
    let row = state
        .active_table()
        .row_by_id(&rid(5))
        .map(|r| r.failure_reason().is_some());
    assert_eq!(row, Some(true));
}

/// Issue 13 #8: the header counts the pause down on its own clock, from the time the poller
/// said the pause ends, instead of showing a number frozen when the poller last reported.
#[test]
fn the_backoff_in_the_header_counts_down_and_ends() {
    let mut state = new_state(160, 30);
    load(&mut state, CREATION, 5);
    ssowatch::app::update(&mut state, Msg::Tick(t0()));
    send(
        &mut state,
        Event::Spend(ssowatch::poller::SpendReport {
            budget_rps: 0.9,
            effective_rps: 0.45,
            backoff_until: Some(t0() + chrono::Duration::seconds(8)),
            ..Default::default()
        }),
    );
    let header = |state: &ssowatch::app::AppState| {
        let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 30))
            .expect("test backend");
        let theme = ssowatch::ui::Theme::default();
        terminal
            .draw(|frame| ssowatch::ui::draw(frame, state, &theme))
            .expect("draw");
        let buffer = terminal.backend().buffer().clone();
        (0..4)
            .map(|y| {
                (0..160)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        header(&state).contains("backing off 8s"),
        "{}",
        header(&state)
    );
    ssowatch::app::update(&mut state, Msg::Tick(t0() + chrono::Duration::seconds(5)));
    assert!(
        header(&state).contains("backing off 3s"),
        "{}",
        header(&state)
    );
    ssowatch::app::update(&mut state, Msg::Tick(t0() + chrono::Duration::seconds(9)));
    assert!(
        !header(&state).contains("backing off"),
        "{}",
        header(&state)
    );
    // The rate the adaptive limiter allows now is shown next to the budget.
    assert!(header(&state).contains("(now 0.45)"), "{}", header(&state));
}

/// Issue 13 #11: at 160 columns a long credentials error still shows what to do: the hint
/// comes first on the status line, the detail after it.
#[test]
fn the_credentials_hint_survives_a_narrow_status_line() {
    let mut state = new_state(160, 30);
    load(&mut state, CREATION, 5);
    let error = ssowatch::provider::ProviderError::new(
        ssowatch::provider::ErrorKind::Auth,
        "ExpiredTokenException: The security token included in the request is expired; the SSO session of the profile ended and its cached credentials can no longer sign requests",
    )
    .with_hint("run: aws sso login --profile prod-admin");
    send(
        &mut state,
        Event::ListFailed {
            kind: CREATION,
            error,
            gave_up: true,
        },
    );
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 30)).expect("test backend");
    let theme = ssowatch::ui::Theme::default();
    terminal
        .draw(|frame| ssowatch::ui::draw(frame, &state, &theme))
        .expect("draw");
    let buffer = terminal.backend().buffer().clone();
    let screen: String = (0..30)
        .map(|y| {
            (0..160)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
                + "\n"
        })
        .collect();
    assert!(
        screen.contains("run: aws sso login --profile prod-admin"),
        "{screen}"
    );
}

/// Issue 9: names are cut by display width with an ellipsis, never silently, and get more room
/// on a wide terminal.
#[test]
fn long_names_are_cut_with_an_ellipsis_and_widen_with_the_terminal() {
    let render = |width: u16| {
        let mut state = new_state(width, 30);
        load(&mut state, CREATION, 3);
        send(
            &mut state,
            Event::Described(Box::new(described(CREATION, 0, Status::Failed, Some("x")))),
        );
        send(
            &mut state,
            Event::Name {
                kind: NameKind::Account,
                id: "123456789012".into(),
                name: "payments-production-eu-west".into(),
            },
        );
        let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, 30))
            .expect("test backend");
        let theme = ssowatch::ui::Theme::default();
        terminal
            .draw(|frame| ssowatch::ui::draw(frame, &state, &theme))
            .expect("draw");
        let buffer = terminal.backend().buffer().clone();
        (0..30)
            .map(|y| {
                (0..width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
                    + "\n"
            })
            .collect::<String>()
    };
    let narrow = render(150);
    assert!(narrow.contains("payments-pr…"), "{narrow}");
    assert!(!narrow.contains("payments-pro"), "{narrow}");
    let wide = render(200);
    assert!(wide.contains("payments-production-e…"), "{wide}");
}

/// Issue 13 #11: a kind whose list is denied keeps its error line and its denied state while
/// another kind succeeds; only its own success clears them.
#[test]
fn one_kinds_error_survives_another_kinds_success() {
    let mut state = new_state(160, 30);
    load(&mut state, CREATION, 5);
    let denied = ssowatch::provider::ProviderError::new(
        ssowatch::provider::ErrorKind::Auth,
        "AccessDeniedException: not authorized to perform sso:ListAccountAssignmentDeletionStatus",
    );
    let deletion = OperationKind::AssignmentDeletion;
    send(
        &mut state,
        Event::ListFailed {
            kind: deletion,
            error: denied,
            gave_up: true,
        },
    );
    send(
        &mut state,
        Event::ListSucceeded {
            kind: CREATION,
            at: t0() + chrono::Duration::seconds(1),
        },
    );
    assert!(
        state.data.last_error.is_some(),
        "another kind's success cleared it"
    );
    assert!(
        state
            .table(deletion)
            .trouble
            .as_ref()
            .is_some_and(|t| t.denied)
    );
    send(
        &mut state,
        Event::ListSucceeded {
            kind: deletion,
            at: t0() + chrono::Duration::seconds(2),
        },
    );
    assert!(state.data.last_error.is_none());
    assert!(state.table(deletion).trouble.is_none());
}

/// The README is a newcomer's page (issue 22): what ssowatch is, how to run it, the keys, the
/// set-up, the commands and the configuration. The rest lives in `docs/`.
const README_MAX_LINES: usize = 300;

#[test]
fn the_readme_is_short_and_every_relative_link_in_the_docs_resolves() {
    // GitHub's anchors, as the fragments below are checked against them.
    assert_eq!(
        heading_slugs(
            "# Try it\n## `list` and `describe`\n```sh\n# not a heading\n```\n\
             ### One poller: `ssowatch serve` ##\n## Try it\n## Try it\n# C#\n## snake_case \u{e9}t\u{e9}"
        ),
        [
            "try-it",
            "list-and-describe",
            "one-poller-ssowatch-serve",
            "try-it-1",
            "try-it-2",
            "c",
            "snake_case-\u{e9}t\u{e9}"
        ]
    );

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md"))
        .unwrap_or_else(|e| panic!("README.md: {e}"));
    let lines = readme.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, at most {README_MAX_LINES}: move the detail into docs/ and link it"
    );

    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|entry| entry.expect("docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    files.extend(docs);

    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let shown = file
            .strip_prefix(root)
            .unwrap_or(file)
            .display()
            .to_string();
        for (line, target) in markdown_link_targets(&text) {
            if let Some(problem) = broken_link(root, file, &target) {
                broken.push(format!("{shown}:{line}: ({target}) {problem}"));
            }
            checked += 1;
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: is the link scanner broken?"
    );
    assert!(
        broken.is_empty(),
        "broken relative links:\n{}",
        broken.join("\n")
    );
}

/// Every inline link and image target (`[text](target)`, `![alt](target)`) and reference
/// definition (`[id]: target`) outside fenced code blocks and code spans, with its line number.
fn markdown_link_targets(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let line = without_code_spans(line);
        if let Some(rest) = line.trim_start().strip_prefix('[')
            && let Some((_, def)) = rest.split_once("]:")
            && let Some(target) = def.split_whitespace().next()
        {
            out.push((i + 1, target.trim_matches(['<', '>']).to_string()));
            continue;
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            // The target ends at the `)` that closes the link (targets may hold balanced parens).
            let mut depth = 0usize;
            let end = after
                .char_indices()
                .find(|&(_, c)| match c {
                    '(' => {
                        depth += 1;
                        false
                    }
                    ')' if depth == 0 => true,
                    ')' => {
                        depth -= 1;
                        false
                    }
                    _ => false,
                })
                .map_or(after.len(), |(j, _)| j);
            let inside = after[..end].trim();
            // `(target "title")`, `(<target>)`
            let target = inside.split_whitespace().next().unwrap_or("");
            out.push((i + 1, target.trim_matches(['<', '>']).to_string()));
            rest = &after[end..];
        }
    }
    out
}

/// The line with every code span (`` `...` ``, any number of backticks) taken out.
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let fence = "`".repeat(ticks);
        let after = &rest[start + ticks..];
        match after.find(&fence) {
            Some(close) => rest = &after[close + ticks..],
            None => {
                // An unclosed run is literal text.
                out.push_str(&rest[start..start + ticks]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Why a link target from `file` does not resolve, or `None` when it does (or is absolute).
fn broken_link(root: &std::path::Path, file: &std::path::Path, target: &str) -> Option<String> {
    if target.is_empty() {
        return Some("empty link target".into());
    }
    if target.contains("://") || target.starts_with("mailto:") {
        return None; // absolute links are not checked
    }
    let (path, fragment) = match target.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (target, None),
    };
    let path = path.split('?').next().unwrap_or(path).replace("%20", " ");
    let resolved = if path.is_empty() {
        file.to_path_buf()
    } else if let Some(from_root) = path.strip_prefix('/') {
        root.join(from_root)
    } else {
        file.parent().expect("a file has a folder").join(&path)
    };
    if !resolved.exists() {
        return Some(format!("no such file: {}", resolved.display()));
    }
    let fragment = fragment?;
    if resolved.extension().is_none_or(|ext| ext != "md") {
        return None; // line anchors into code are GitHub's business
    }
    let text = std::fs::read_to_string(&resolved).ok()?;
    let slugs = heading_slugs(&text);
    if slugs.iter().any(|slug| slug == fragment) {
        None
    } else {
        Some(format!(
            "no heading #{fragment} in {}; its headings: {}",
            resolved.display(),
            slugs.join(", ")
        ))
    }
}

/// The anchors GitHub gives a Markdown file's ATX headings: the heading's text (link targets
/// and code marks dropped), lowercased, every character other than a letter, digit, space,
/// `-` or `_` dropped, spaces turned into `-`; a repeated slug gets `-1`, `-2`, ...
fn heading_slugs(text: &str) -> Vec<String> {
    let mut slugs: Vec<String> = Vec::new();
    let mut seen: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut fenced = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced || line.starts_with("    ") {
            continue;
        }
        let hashes = trimmed.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) {
            continue;
        }
        let rest = &trimmed[hashes..];
        if !(rest.is_empty() || rest.starts_with(' ')) {
            continue;
        }
        let mut title = rest.trim();
        // A closing run of `#` counts only after a space (`# C#` keeps its `#`).
        let unclosed = title.trim_end_matches('#');
        if unclosed.is_empty() || unclosed.ends_with(' ') {
            title = unclosed.trim_end();
        }
        // `[text](target)` reads as `text`.
        let mut shown = String::new();
        let mut rest = title;
        while let Some(at) = rest.find("](") {
            shown.push_str(&rest[..at]);
            rest = &rest[at + 2..];
            rest = rest.find(')').map_or("", |close| &rest[close + 1..]);
        }
        shown.push_str(rest);
        let base: String = shown
            .to_lowercase()
            .chars()
            .filter(|&c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        // github-slugger: the first `x` stays `x`, the next ones become `x-1`, `x-2`, ...
        let mut slug = base.clone();
        if seen.contains_key(&slug) {
            loop {
                let n = seen.entry(base.clone()).or_insert(0);
                *n += 1;
                slug = format!("{base}-{n}");
                if !seen.contains_key(&slug) {
                    break;
                }
            }
        }
        seen.insert(slug.clone(), 0);
        slugs.push(slug);
    }
    slugs
}

#[test]
fn r_in_the_groups_states_the_cost_then_reads_every_reason_at_the_rate_picked() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 30);
    key(&mut state, KeyCode::Char('F'));
    // R offers; nothing is spent until a rate is picked.
    let effects = key(&mut state, KeyCode::Char('R'));
    assert!(!effects.iter().any(|e| matches!(e, Effect::SetBudget(_))));
    assert!(matches!(state.view.mode, Mode::ReadAllOffer(_)));
    // While the offer is shown, other keys act on nothing behind it: `j` declines.
    key(&mut state, KeyCode::Char('j'));
    let Mode::Groups(view) = state.view.mode.clone() else {
        panic!("back in the groups: {:?}", state.view.mode.key_set());
    };
    assert!(view.selected == 0 && view.reading_all.is_none());
    // `2`: 5 req/s.
    key(&mut state, KeyCode::Char('R'));
    let effects = key(&mut state, KeyCode::Char('2'));
    assert!(
        effects.contains(&Effect::SetBudget(Some(5.0))),
        "{effects:?}"
    );
    assert_eq!(
        state.view.mode.groups().and_then(|g| g.reading_all),
        Some(5.0)
    );
    // Esc: back to the default budget, the view stays open.
    let effects = key(&mut state, KeyCode::Esc);
    assert!(effects.contains(&Effect::SetBudget(None)), "{effects:?}");
    assert!(state.view.mode.groups().is_some());
    // Reading all again, then closing the view: the default budget again too.
    key(&mut state, KeyCode::Char('R'));
    key(&mut state, KeyCode::Char('4'));
    let effects = key(&mut state, KeyCode::Esc);
    assert!(effects.contains(&Effect::SetBudget(None)), "{effects:?}");
    let effects = key(&mut state, KeyCode::Char('R'));
    assert!(!effects.iter().any(|e| matches!(e, Effect::SetBudget(_))));
}

#[test]
fn reading_every_reason_ends_by_itself_when_the_last_is_read() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 10);
    key(&mut state, KeyCode::Char('F'));
    key(&mut state, KeyCode::Char('R'));
    key(&mut state, KeyCode::Char('3'));
    assert_eq!(
        state.view.mode.groups().and_then(|g| g.reading_all),
        Some(10.0)
    );
    // FAILED (status_for): 0 and 5. Their reasons arrive.
    let mut last = Vec::new();
    for i in [0, 5] {
        let d = described(
            CREATION,
            i,
            Status::Failed,
            Some("An unexpected internal service exception was encountered"),
        );
        last = send(&mut state, Event::Described(Box::new(d)));
    }
    assert!(last.contains(&Effect::SetBudget(None)), "{last:?}");
    let view = state.view.mode.groups().cloned().expect("open");
    assert_eq!((view.unread, view.reading_all), (0, None));
}

#[test]
fn the_offer_states_the_cost_at_the_budget_and_at_each_rate() {
    let lines = ssowatch::ui::groups::offer_lines(2_969, 0.9);
    let text = lines.join("\n");
    assert!(text.starts_with("2,969 describes"), "{text}");
    assert!(
        text.contains("at the budget now, 0.9 req/s: 55 min"),
        "{text}"
    );
    assert!(text.contains("1  at 2 req/s: 25 min"), "{text}");
    assert!(
        text.contains(
            "4  at 20 req/s: 2 min 28 s (the account's whole limit, shared with the pipelines)"
        ),
        "{text}"
    );
}

/// The `F` view over two groups: policy_missing (creations 0, 10, 20 and provisionings 5,
/// 15) first, then account_unreachable (creations 5, 15).
fn groups_view() -> ssowatch::app::AppState {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 30);
    load(&mut state, OperationKind::PermissionSetProvisioning, 20);
    let policy = "Received a 404 status error: Not supported policy arn:aws:iam::{i}:policy/Deploy";
    fail_with(&mut state, CREATION, &[0, 10, 20], policy);
    fail_with(
        &mut state,
        OperationKind::PermissionSetProvisioning,
        &[5, 15],
        policy,
    );
    fail_with(
        &mut state,
        CREATION,
        &[5, 15, 25],
        "AWS SSO is unable to complete your request at this time. Obtaining permissions to manage your AWS account '{i}' takes longer than usual.",
    );
    fail_with(
        &mut state,
        OperationKind::PermissionSetProvisioning,
        &[0, 10],
        "Received a 404 status error: the USER assignee {i} was not found in directory d-1",
    );
    key(&mut state, KeyCode::Char('F'));
    let keys: Vec<String> = state
        .view
        .mode
        .groups()
        .map(|v| v.groups.iter().map(|g| g.key.clone()).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["policy_missing", "account_unreachable", "principal_missing"]
    );
    state
}

fn copied(effects: &[Effect]) -> Option<String> {
    effects.iter().find_map(|e| match e {
        Effect::Copy(text) => Some(text.clone()),
        _ => None,
    })
}

fn flash(state: &ssowatch::app::AppState) -> String {
    state
        .view
        .flash
        .as_ref()
        .map(|(_, m)| m.clone())
        .unwrap_or_default()
}

fn selected_group(state: &ssowatch::app::AppState) -> Option<usize> {
    state.view.mode.groups().map(|v| v.selected)
}

#[test]
fn f_view_move_keys_move_between_groups() {
    let mut state = groups_view();
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(selected_group(&state), Some(1));
    key(&mut state, KeyCode::Down);
    assert_eq!(selected_group(&state), Some(2));
    key(&mut state, KeyCode::Char('k'));
    key(&mut state, KeyCode::Up);
    assert_eq!(selected_group(&state), Some(0));
    key(&mut state, KeyCode::PageDown);
    assert_eq!(
        selected_group(&state),
        Some(2),
        "five down, at most the last"
    );
    key(&mut state, KeyCode::PageUp);
    assert_eq!(selected_group(&state), Some(0));
    key(&mut state, KeyCode::Char('G'));
    assert_eq!(selected_group(&state), Some(2));
    key(&mut state, KeyCode::Char('g'));
    assert_eq!(selected_group(&state), Some(0));
    key(&mut state, KeyCode::End);
    key(&mut state, KeyCode::Home);
    assert_eq!(selected_group(&state), Some(0));
}

#[test]
fn f_view_y_copies_the_selected_groups_request_ids() {
    let mut state = groups_view();
    key(&mut state, KeyCode::Char('j'));
    let effects = key(&mut state, KeyCode::Char('y'));
    let text = copied(&effects).expect("y copies");
    let mut ids: Vec<&str> = text.lines().collect();
    ids.sort();
    let mut expected: Vec<String> = [5, 15, 25].iter().map(|&i| rid(i)).collect();
    expected.sort();
    assert_eq!(ids, expected);
    assert!(state.view.mode.groups().is_some(), "the view stays open");
    assert!(flash(&state).contains("copied 3 request ids of account_unreachable"));
}

#[test]
fn f_view_shift_y_copies_the_groups_full_reason() {
    let mut state = groups_view();
    let effects = key(&mut state, KeyCode::Char('Y'));
    let text = copied(&effects).expect("Y copies");
    assert!(
        text.starts_with("Received a 404 status error: Not supported policy arn:aws:iam::"),
        "{text}"
    );
    assert!(state.view.mode.groups().is_some());
}

#[test]
fn f_view_e_and_shift_e_export_the_groups() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    for (code, format) in [
        ('e', ssowatch::app::ExportFormat::Csv),
        ('E', ssowatch::app::ExportFormat::Json),
    ] {
        let mut state = groups_view();
        key(&mut state, KeyCode::Char(code));
        assert!(
            state.view.mode.groups().is_some(),
            "{code}: the view stays open"
        );
        let request = state.view.export.expect("an export is asked for");
        assert_eq!(request.format, format);
        let path = ssowatch::output::export_view(&state, dir.path(), request.format)
            .unwrap_or_else(|e| panic!("export: {e}"));
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        assert!(
            name.as_deref()
                .is_some_and(|n| n.starts_with("ssowatch-failure-groups-")),
            "{name:?}"
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read: {e}"));
        for group in ["policy_missing", "account_unreachable", "principal_missing"] {
            assert!(text.contains(group), "{code}: {group} in {text}");
        }
        if code == 'E' {
            let v: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON: {e}"));
            assert_eq!(v.as_array().map(Vec::len), Some(3));
        }
    }
}

#[test]
fn f_view_x_writes_the_groups_retry_script_ids_and_plan() {
    let mut state = groups_view();
    key(&mut state, KeyCode::Char('x'));
    assert!(state.view.mode.groups().is_some());
    let request = state
        .view
        .export
        .expect("x asks the host to write the hand-off");
    assert_eq!(request.format, ssowatch::app::ExportFormat::Handoff);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let script_path = ssowatch::output::export_view(&state, dir.path(), request.format)
        .unwrap_or_else(|e| panic!("hand-off: {e}"));
    let script = std::fs::read_to_string(&script_path).unwrap_or_else(|e| panic!("read: {e}"));
    let commands: Vec<&str> = script.lines().filter(|l| l.starts_with("aws ")).collect();
    assert_eq!(commands.len(), 5, "{script}");
    assert_eq!(
        commands
            .iter()
            .filter(|c| c.starts_with("aws sso-admin create-account-assignment "))
            .count(),
        3
    );
    assert!(
        commands
            .iter()
            .all(|c| c.contains("--instance-arn arn:aws:sso:::instance/ssoins-1234567890abcdef"))
    );
    assert!(script.contains("# policy_missing: 5 request(s)"));
    let stem = script_path.with_extension("");
    let ids =
        std::fs::read_to_string(stem.with_extension("ids")).unwrap_or_else(|e| panic!("ids: {e}"));
    assert_eq!(ids.lines().filter(|l| !l.starts_with('#')).count(), 5);
    let plan = std::fs::read_to_string(format!("{}.plan.json", stem.display()))
        .unwrap_or_else(|e| panic!("plan: {e}"));
    let plan: serde_json::Value =
        serde_json::from_str(&plan).unwrap_or_else(|e| panic!("plan JSON: {e}"));
    assert_eq!(plan["retry"].as_array().map(Vec::len), Some(5));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&script_path)
            .map(|m| m.permissions().mode())
            .ok();
        assert_eq!(
            mode.map(|m| m & 0o111),
            Some(0o111),
            "the script is executable"
        );
    }
    // A group a retry cannot fix: the script says so and runs nothing.
    key(&mut state, KeyCode::Char('G'));
    let effects = key(&mut state, KeyCode::Char('X'));
    let script = copied(&effects).expect("X copies the script");
    assert!(!script.lines().any(|l| l.starts_with("aws ")), "{script}");
    assert!(script.contains("# left out, a retry cannot fix them"));
}

#[test]
fn f_view_shift_x_copies_the_groups_retry_script() {
    let mut state = groups_view();
    key(&mut state, KeyCode::Char('j'));
    let effects = key(&mut state, KeyCode::Char('X'));
    let script = copied(&effects).expect("X copies");
    assert!(script.starts_with("#!/bin/sh\n"));
    assert_eq!(
        script
            .lines()
            .filter(|l| l.starts_with("aws sso-admin create-account-assignment "))
            .count(),
        3,
        "{script}"
    );
    assert!(script.contains("# account_unreachable: 3 request(s)"));
    assert!(flash(&state).contains("copied the retry script of 3 request(s)"));
    assert!(state.view.mode.groups().is_some());
}

#[test]
fn f_view_enter_esc_f_help_and_quit() {
    let mut state = groups_view();
    key(&mut state, KeyCode::Enter);
    assert!(state.view.mode.groups().is_none() && state.view.group_filter.is_some());
    let mut state = groups_view();
    key(&mut state, KeyCode::Esc);
    assert!(state.view.mode.groups().is_none());
    let mut state = groups_view();
    key(&mut state, KeyCode::Char('F'));
    assert!(state.view.mode.groups().is_none());
    let mut state = groups_view();
    key(&mut state, KeyCode::Char('?'));
    assert!(state.view.mode.help_open() && state.view.mode.groups().is_some());
    let mut state = groups_view();
    let effects = key(&mut state, KeyCode::Char('q'));
    assert!(effects.contains(&Effect::Quit));
}

#[test]
fn the_f_views_footer_and_help_are_its_own_keys_and_each_is_handled_there() {
    use ssowatch::app::keymap::KeySet;
    let footer: Vec<&str> = keymap::footer_entries(KeySet::Groups)
        .iter()
        .map(|(_, label)| *label)
        .collect();
    assert!(footer.contains(&"hand off") && footer.contains(&"copy ids"));
    assert!(!footer.contains(&"filter"), "{footer:?}");
    let table_footer: Vec<&str> = keymap::footer_entries(KeySet::Table)
        .iter()
        .map(|(_, label)| *label)
        .collect();
    assert!(table_footer.contains(&"filter") && !table_footer.contains(&"hand off"));
    let help = keymap::help_entries(KeySet::Groups);
    assert_eq!(help.len(), keymap::GROUP_BINDINGS.len());
    assert!(
        help.iter()
            .any(|(keys, what)| keys == "y" && what.contains("request ids"))
    );
    // Every key of the view either keeps the view open or is one that leaves it.
    let leaves = [
        keymap::Action::OpenDetail,
        keymap::Action::Back,
        keymap::Action::FailureGroups,
    ];
    for b in keymap::GROUP_BINDINGS {
        let mut state = groups_view();
        let k = b.keys[0];
        ssowatch::app::update(
            &mut state,
            Msg::Key(ratatui::crossterm::event::KeyEvent::new(
                k.code,
                k.modifiers,
            )),
        );
        assert_eq!(
            state.view.mode.groups().is_none(),
            leaves.contains(&b.action),
            "{:?} ({})",
            b.action,
            b.help
        );
    }
}

#[test]
fn x_outside_the_groups_hands_off_the_views_failed_rows() {
    let mut state = groups_view();
    key(&mut state, KeyCode::Esc);
    key(&mut state, KeyCode::Char('f'));
    let effects = key(&mut state, KeyCode::Char('X'));
    let script = copied(&effects).expect("X copies");
    // The creation tab's FAILED: 3 policy_missing + 3 account_unreachable.
    assert_eq!(
        script.lines().filter(|l| l.starts_with("aws ")).count(),
        6,
        "{script}"
    );
    key(&mut state, KeyCode::Char('x'));
    assert_eq!(
        state.view.export.map(|e| e.format),
        Some(ssowatch::app::ExportFormat::Handoff)
    );
}

#[test]
fn the_groups_selection_stays_on_the_biggest_cause_until_the_operator_moves_it() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 60);
    let policy = "Received a 404 status error: Not supported policy arn:aws:iam::{i}:policy/Deploy";
    let unreachable = "AWS SSO is unable to complete your request at this time. Obtaining permissions to manage your AWS account '{i}' takes longer than usual.";
    // FAILED (status_for): every fifth creation.
    fail_with(&mut state, CREATION, &[0, 5, 10], policy);
    fail_with(&mut state, CREATION, &[15, 20], unreachable);
    key(&mut state, KeyCode::Char('F'));
    let key_of = |state: &ssowatch::app::AppState| {
        let view = state.view.mode.groups().expect("open");
        view.groups[view.selected].key.clone()
    };
    assert_eq!(key_of(&state), "policy_missing");
    // The estimates reorder the groups: untouched, the selection stays on the biggest.
    fail_with(&mut state, CREATION, &[25, 30, 35, 40], unreachable);
    assert_eq!(key_of(&state), "account_unreachable");
    // Once the operator picks a group, the selection follows it wherever it moves.
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(key_of(&state), "policy_missing");
    fail_with(&mut state, CREATION, &[45, 50, 55], policy);
    assert_eq!(key_of(&state), "policy_missing");
    assert_eq!(state.view.mode.groups().map(|g| g.selected), Some(0));
}

/// Issue 19: field filters, their negation and AND, names and ids alike, and the count of
/// rows that could not be checked because they are not described yet.
#[test]
fn field_filters_match_names_and_ids_and_count_what_is_not_described() {
    let mut state = rollout(160, 40, 40, 20);
    let filter = |state: &mut ssowatch::app::AppState, text: &str| {
        key(state, KeyCode::Char('/'));
        app::update(
            state,
            Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
        );
        chars(state, text);
        key(state, KeyCode::Enter);
        let mut ids = visible_ids(state);
        ids.sort();
        ids
    };
    let expect = |pred: &dyn Fn(usize) -> bool| {
        let mut ids: Vec<String> = (0..20).filter(|&i| pred(i)).map(rid).collect();
        ids.sort();
        ids
    };
    let account = |i: usize| rollout_names(i).0;
    assert_eq!(
        filter(&mut state, "account:payments-*"),
        expect(&|i| account(i).starts_with("payments-"))
    );
    assert_eq!(state.active_table().not_described, 20);
    assert_eq!(
        filter(&mut state, "account:\"payments-prod\""),
        expect(&|i| account(i) == "payments-prod")
    );
    // The account id matches as its name does.
    assert_eq!(
        filter(&mut state, "account:123456789001"),
        expect(&|i| i % 4 == 1)
    );
    assert_eq!(
        filter(&mut state, "ps:poweruser -status:in_progress"),
        expect(&|i| i % 3 == 0 && status_for(i) != Status::InProgress)
    );
    assert_eq!(
        filter(&mut state, "principal:jane reason:quota"),
        expect(&|i| rollout_names(i).2 == "jane.doe" && status_for(i) == Status::Failed)
    );
    // Listed fields decide on every row, described or not.
    let failed: Vec<String> = {
        let mut v: Vec<String> = (0..40)
            .filter(|&i| status_for(i) == Status::Failed)
            .map(rid)
            .collect();
        v.sort();
        v
    };
    assert_eq!(filter(&mut state, "status:failed kind:creation"), failed);
    assert_eq!(state.active_table().not_described, 0);
    assert_eq!(
        filter(&mut state, &format!("id:{}", rid(3).to_uppercase())),
        vec![rid(3)]
    );
    // A field the language does not know says so and keeps the last good filter.
    filter(&mut state, "colour:red");
    assert!(
        state
            .view
            .filter_error
            .as_deref()
            .is_some_and(|e| e.contains("colour"))
    );
}

/// Issue 19: the pivot counts the tab's rows by account, permission set and principal; Enter
/// filters the table to one value and Esc goes back to the pivot as it was.
#[test]
fn pivot_counts_drills_down_and_esc_returns_to_it() {
    let mut state = rollout(160, 40, 40, 40);
    key(&mut state, KeyCode::Char('p'));
    let view = state.view.mode.pivot().cloned().expect("pivot open");
    assert_eq!(view.counted, 40);
    assert_eq!(view.not_described, 0);
    let prod = view
        .rows
        .iter()
        .find(|r| r.key == "payments-prod")
        .expect("payments-prod counted");
    let of = |pred: &dyn Fn(usize) -> bool| (0..40).filter(|&i| pred(i)).count();
    let is_prod = |i: usize| rollout_names(i).0 == "payments-prod";
    assert_eq!(prod.total, of(&is_prod));
    assert_eq!(
        prod.failed,
        of(&|i| is_prod(i) && status_for(i) == Status::Failed)
    );
    assert_eq!(
        prod.in_flight,
        of(&|i| is_prod(i) && status_for(i) == Status::InProgress)
    );
    assert_eq!(view.rows.iter().map(|r| r.total).sum::<usize>(), 40);
    // `p` cycles the dimension.
    key(&mut state, KeyCode::Char('p'));
    let sets = state.view.mode.pivot().cloned().expect("pivot open");
    assert_eq!(
        sets.dimension,
        ssowatch::app::pivot::Dimension::PermissionSet
    );
    assert_eq!(sets.rows.len(), 3);
    key(&mut state, KeyCode::Char('p'));
    key(&mut state, KeyCode::Char('p'));
    // `s` cycles the pivot's sort column, through all seven back to the total.
    key(&mut state, KeyCode::Char('s'));
    key(&mut state, KeyCode::Char('s'));
    key(&mut state, KeyCode::Char('s'));
    key(&mut state, KeyCode::Char('s'));
    key(&mut state, KeyCode::Char('s'));
    key(&mut state, KeyCode::Char('s'));
    key(&mut state, KeyCode::Char('s'));
    assert_eq!(
        state.view.mode.pivot().map(|p| p.sort),
        Some(ssowatch::app::pivot::PivotSort::Total)
    );
    key(&mut state, KeyCode::Char('j'));
    let chosen = state
        .view
        .mode
        .pivot()
        .and_then(|p| p.selected_row())
        .map(|r| r.key.clone())
        .expect("a row");
    key(&mut state, KeyCode::Enter);
    assert!(state.view.mode.pivot().is_none());
    let mut shown = visible_ids(&state);
    shown.sort();
    let mut want: Vec<String> = (0..40)
        .filter(|&i| rollout_names(i).0 == chosen)
        .map(rid)
        .collect();
    want.sort();
    assert_eq!(shown, want, "drilled into {chosen}");
    // Esc: back to the pivot on the same row, the table unfiltered behind it.
    key(&mut state, KeyCode::Esc);
    let back = state.view.mode.pivot().cloned().expect("back in the pivot");
    assert_eq!(back.selected_row().map(|r| r.key.clone()), Some(chosen));
    assert!(state.view.text_filter.is_empty());
    key(&mut state, KeyCode::Esc);
    assert!(state.view.mode.pivot().is_none());
    assert_eq!(state.active_table().view_len(), 40);
}

/// Issue 19, point 5: Esc from a failure group's requests returns to the groups.
#[test]
fn esc_from_a_groups_requests_returns_to_the_groups() {
    let mut state = rollout(160, 40, 40, 40);
    key(&mut state, KeyCode::Char('F'));
    key(&mut state, KeyCode::Enter);
    assert!(state.view.mode.groups().is_none() && state.view.group_filter.is_some());
    key(&mut state, KeyCode::Esc);
    assert!(state.view.mode.groups().is_some());
    assert!(state.view.group_filter.is_none());
}

/// Issue 19: `c` chooses the columns; each toggle asks the host to remember it in the config,
/// the table drops the column, and the sorted column stays whatever is chosen.
#[test]
fn c_chooses_columns_and_the_config_remembers_them() {
    use ssowatch::app::columns::OptionalColumn;
    let mut state = rollout(200, 50, 20, 20);
    let header = |state: &ssowatch::app::AppState| {
        let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(200, 50))
            .expect("test backend");
        let theme = ssowatch::ui::Theme::default();
        terminal
            .draw(|frame| ssowatch::ui::draw(frame, state, &theme))
            .expect("draw");
        let buffer = terminal.backend().buffer().clone();
        (0..200)
            .map(|x| buffer[(x, 6)].symbol())
            .collect::<String>()
    };
    assert!(header(&state).contains("Principal"));
    key(&mut state, KeyCode::Char('c'));
    assert!(state.view.mode.choosing_columns());
    let effects = key(&mut state, KeyCode::Char('3'));
    assert!(!state.view.columns.shows(OptionalColumn::Principal));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::SaveColumns(c) if c.names() == ["account", "permission_set", "reason"])),
        "{effects:?}"
    );
    assert!(!header(&state).contains("Principal"));
    // Any other key closes the chooser and does nothing else.
    key(&mut state, KeyCode::Char('q'));
    assert!(!state.view.mode.choosing_columns() && !state.view.should_quit);
    // Sorting by the hidden column shows it anyway.
    for _ in 0..5 {
        key(&mut state, KeyCode::Char('s'));
    }
    assert!(header(&state).contains("Principal ▼"), "{}", header(&state));
    // The host says where it remembered them.
    app::update(
        &mut state,
        Msg::Saved(Ok("/home/me/.config/ssowatch/config.toml".into())),
    );
    assert!(
        state
            .view
            .flash
            .as_ref()
            .is_some_and(|(_, m)| m.contains("columns remembered"))
    );
}

/// What the table behind a view shows: its tab, status filter, text filter, sort, selection.
fn table_behind(state: &ssowatch::app::AppState) -> String {
    format!(
        "{:?} {:?} {:?} {:?} {:?} {:?}",
        state.view.active,
        state.view.status_filter,
        state.view.text_filter,
        state.view.sort,
        state.active_table().selected_pos(),
        state.view.mode.pane_open(),
    )
}

/// Issue 22: keys in the `F` view act on the groups, never on the table hidden behind them;
/// a key the view's table does not list does nothing at all.
#[test]
fn keys_in_the_f_view_never_act_on_the_hidden_table() {
    let mut state = groups_view();
    let behind = table_behind(&state);
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(
        selected_group(&state),
        Some(1),
        "j moves the group selection"
    );
    assert_eq!(table_behind(&state), behind, "and not the table's");
    for code in [
        KeyCode::Char('f'),
        KeyCode::Char('i'),
        KeyCode::Char('a'),
        KeyCode::Char('s'),
        KeyCode::Char('/'),
        KeyCode::Char('t'),
        KeyCode::Char('w'),
        KeyCode::Char('p'),
        KeyCode::Char('c'),
        KeyCode::Char('0'),
        KeyCode::Tab,
    ] {
        let effects = key(&mut state, code);
        assert!(effects.is_empty(), "{code:?}: {effects:?}");
        assert!(
            matches!(state.view.mode, Mode::Groups(_)),
            "{code:?} leaves the groups open"
        );
        assert_eq!(table_behind(&state), behind, "{code:?} reached the table");
    }
    assert_eq!(selected_group(&state), Some(1));
    // The wheel moves the groups too.
    app::update(
        &mut state,
        Msg::Mouse(ratatui::crossterm::event::MouseEvent {
            kind: ratatui::crossterm::event::MouseEventKind::ScrollDown,
            column: 10,
            row: 10,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert_eq!(selected_group(&state), Some(2));
    assert_eq!(table_behind(&state), behind);
}

/// Issue 22: the pivot's keys act on the pivot; the tab keys change what it counts; nothing
/// else reaches the table behind it.
#[test]
fn keys_in_the_pivot_act_on_the_pivot_only() {
    let mut state = rollout(160, 40, 40, 40);
    load(&mut state, OperationKind::AssignmentDeletion, 10);
    key(&mut state, KeyCode::Char('p'));
    let behind = table_behind(&state);
    for code in [
        KeyCode::Char('f'),
        KeyCode::Char('/'),
        KeyCode::Char('c'),
        KeyCode::Char('F'),
        KeyCode::Char('w'),
    ] {
        key(&mut state, code);
        assert!(
            state.view.mode.pivot().is_some(),
            "{code:?} closed the pivot"
        );
        assert_eq!(table_behind(&state), behind, "{code:?} reached the table");
    }
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(state.view.mode.pivot().map(|p| p.selected), Some(1));
    assert_eq!(table_behind(&state), behind, "j moved the table");
    // `2`: the pivot counts the deletion tab.
    key(&mut state, KeyCode::Char('2'));
    assert_eq!(
        state.view.active,
        Tab::Kind(OperationKind::AssignmentDeletion)
    );
    assert_eq!(state.view.mode.pivot().map(|p| p.counted), Some(10));
    // Its help is its own keys.
    key(&mut state, KeyCode::Char('?'));
    assert!(state.view.mode.help_open() && state.view.mode.pivot().is_some());
    let help = keymap::help_entries(state.view.mode.under_help().key_set());
    assert!(
        help.iter()
            .any(|(_, what)| what.contains("count by the next field"))
    );
    key(&mut state, KeyCode::Char('q'));
    assert!(state.view.mode.pivot().is_some() && !state.view.should_quit);
}

/// Issue 22: on the "terminal too small" screen the operator sees none of the views, so no
/// key acts on them; `q` and Ctrl-C still quit (as k9s and gitui do).
#[test]
fn keys_on_the_too_small_screen_only_quit() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 20);
    app::update(
        &mut state,
        Msg::Resize {
            width: 40,
            height: 10,
        },
    );
    assert_eq!(state.key_set(), keymap::KeySet::TooSmall);
    let behind = table_behind(&state);
    for code in [
        KeyCode::Char('j'),
        KeyCode::Char('f'),
        KeyCode::Char('F'),
        KeyCode::Char('p'),
        KeyCode::Char('/'),
        KeyCode::Char('?'),
        KeyCode::Char('c'),
        KeyCode::Enter,
        KeyCode::Tab,
        KeyCode::Char('r'),
        KeyCode::Char('y'),
    ] {
        let effects = key(&mut state, code);
        assert!(effects.is_empty(), "{code:?}: {effects:?}");
        assert!(matches!(state.view.mode, Mode::Table), "{code:?}");
        assert_eq!(table_behind(&state), behind, "{code:?}");
    }
    assert!(key(&mut state, KeyCode::Char('q')).contains(&Effect::Quit));
    let mut state = new_state(120, 40);
    app::update(
        &mut state,
        Msg::Resize {
            width: 40,
            height: 10,
        },
    );
    let effects = app::update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(effects.contains(&Effect::Quit));
}

/// Issue 22: typing the filter goes through the filter's key table: characters are typed
/// (`q` too), Enter keeps, Esc clears, Ctrl-C quits; the footer shows those keys.
#[test]
fn the_filter_prompt_has_its_own_keys() {
    let mut state = new_state(120, 40);
    load(&mut state, CREATION, 20);
    key(&mut state, KeyCode::Char('/'));
    assert!(state.view.mode.typing_filter());
    chars(&mut state, "q?j");
    assert_eq!(state.view.text_filter, "q?j");
    assert!(!state.view.should_quit);
    key(&mut state, KeyCode::Backspace);
    assert_eq!(state.view.text_filter, "q?");
    let footer: Vec<&str> = keymap::footer_entries(state.key_set())
        .iter()
        .map(|(_, label)| *label)
        .collect();
    assert_eq!(footer, ["keep", "clear", "quit"]);
    key(&mut state, KeyCode::Enter);
    assert!(matches!(state.view.mode, Mode::Table));
    assert_eq!(state.view.text_filter, "q?");
    key(&mut state, KeyCode::Char('/'));
    key(&mut state, KeyCode::Esc);
    assert!(matches!(state.view.mode, Mode::Table));
    assert!(state.view.text_filter.is_empty());
    // Opened over the detail pane, the pane stays under the prompt and after it.
    key(&mut state, KeyCode::Enter);
    key(&mut state, KeyCode::Char('/'));
    assert!(state.view.mode.pane_open());
    key(&mut state, KeyCode::Enter);
    assert!(matches!(state.view.mode, Mode::Detail));
    let effects = app::update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(effects.contains(&Effect::Quit));
}

#[test]
fn the_pivot_describes_its_tabs_undescribed_rows_and_hands_the_budget_back_when_closed() {
    use ssowatch::app::update::PIVOT_DESCRIBE_BATCH;
    // 300 rows of which the first 40 are described: the pivot counts 40 and would stay at 40
    // if it asked for nothing (the screen shows about 30 rows).
    let mut state = rollout(160, 40, 300, 40);
    let asked = enrichment(&key(&mut state, KeyCode::Char('p')));
    let undescribed: Vec<String> = {
        let table = state.active_table();
        (0..table.view_len())
            .filter_map(|p| table.view_row(p))
            .filter(|r| r.needs_describe())
            .map(|r| r.request_id.to_string())
            .collect()
    };
    assert_eq!(undescribed.len(), 260);
    // The first batch, in the table's order, far beyond the rows a screen holds.
    assert_eq!(asked, undescribed[..PIVOT_DESCRIBE_BATCH].to_vec());
    // A key that changes nothing asks nothing again.
    assert!(enrichment(&key(&mut state, KeyCode::Char('j'))).is_empty());
    // As answers arrive the pivot counts them and the next ones are asked for.
    let not_described = state.view.mode.pivot().map(|p| p.not_described);
    assert_eq!(not_described, Some(260));
    let first = undescribed[0].clone();
    let i: usize = state
        .active_table()
        .rows()
        .position(|r| *r.request_id == *first)
        .expect("the row is in the table");
    let effects = send(
        &mut state,
        Event::Described(Box::new(rollout_described(CREATION, i, status_for(i)))),
    );
    assert_eq!(state.view.mode.pivot().map(|p| p.not_described), Some(259));
    let again = enrichment(&effects);
    assert_eq!(again.len(), PIVOT_DESCRIBE_BATCH);
    assert!(!again.contains(&first));
    // Closing the pivot takes its describes back (an empty on-screen list).
    let effects = key(&mut state, KeyCode::Esc);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::DescribeOnScreen(r) if r.is_empty())),
        "{effects:?}"
    );
}
