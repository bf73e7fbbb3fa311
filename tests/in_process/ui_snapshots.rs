//! Screens, rendered on ratatui's TestBackend and compared with reviewed snapshots. Messages are
//! fed through the real update function between snapshots.

use crate::support::app as app_support;

use app_support::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ssowatch::app::{self, AppState, Msg};
use ssowatch::model::{OperationKind, Status};
use ssowatch::poller::{Event, Lane, SpendReport};
use ssowatch::provider::{ErrorKind, ProviderError};
use ssowatch::ui::{self, Theme};

fn render(state: &AppState, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = match Terminal::new(TestBackend::new(width, height)) {
        Ok(t) => t,
        Err(e) => panic!("test backend: {e}"),
    };
    if let Err(e) = terminal.draw(|f| ui::draw(f, state, &Theme::default())) {
        panic!("draw: {e}");
    }
    terminal
}

const LONG_REASON: &str = "AWS SSO is unable to complete your request at this time. Obtaining permissions to manage your AWS account '908123456781' takes longer than usual. Please try again in a few minutes. If this problem continues, contact AWS Support.";

fn loaded(width: u16, height: u16) -> AppState {
    let mut state = new_state(width, height);
    load(&mut state, CREATION, 40);
    load(&mut state, OperationKind::AssignmentDeletion, 7);
    for i in [0usize, 5, 10] {
        send(
            &mut state,
            Event::Described(Box::new(described(
                CREATION,
                i,
                Status::Failed,
                Some(if i == 0 {
                    LONG_REASON
                } else {
                    "Received a 404 status error: the GROUP assignee 3f2a was not found in directory d-9067a1b2c3"
                }),
            ))),
        );
    }
    send(
        &mut state,
        Event::Spend(SpendReport {
            rps: 0.8,
            budget_rps: 2.0,
            effective_rps: 2.0,
            total_calls: 57,
            ..Default::default()
        }),
    );
    state
}

#[test]
fn first_load_in_progress() {
    let mut state = new_state(120, 16);
    send(
        &mut state,
        Event::LoadProgress {
            lane: Lane::Full,
            kind: CREATION,
            pages: 3,
            records: 300,
            done: false,
        },
    );
    app::update(&mut state, Msg::Tick(t0()));
    insta::assert_snapshot!(render(&state, 120, 16).backend());
}

#[test]
fn all_statuses() {
    let state = loaded(160, 20);
    insta::assert_snapshot!(render(&state, 160, 20).backend());
}

#[test]
fn failed_only() {
    let mut state = loaded(160, 20);
    key(&mut state, KeyCode::Char('f'));
    insta::assert_snapshot!(render(&state, 160, 20).backend());
}

#[test]
fn text_filter() {
    let mut state = loaded(160, 20);
    key(&mut state, KeyCode::Char('/'));
    chars(&mut state, "group assignee");
    insta::assert_snapshot!(render(&state, 160, 20).backend());
}

#[test]
fn detail_pane_with_long_failure_reason() {
    let mut state = loaded(160, 24);
    key(&mut state, KeyCode::Char('f'));
    key(&mut state, KeyCode::Enter);
    insta::assert_snapshot!(render(&state, 160, 24).backend());
}

#[test]
fn help_overlay() {
    let mut state = loaded(120, 30);
    key(&mut state, KeyCode::Char('?'));
    insta::assert_snapshot!(render(&state, 120, 30).backend());
}

#[test]
fn help_over_a_view_lists_that_views_keys_and_only_what_acts_there() {
    let text = |state: &AppState| {
        let terminal = render(state, 120, 30);
        let buffer = terminal.backend().buffer();
        buffer
            .content()
            .chunks(buffer.area.width as usize)
            .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    };
    // Over the table: the table's keys, the mouse's click and the filter's syntax.
    let mut state = loaded(120, 30);
    key(&mut state, KeyCode::Char('?'));
    let table = text(&state);
    assert!(table.contains("a click selects a row"), "{table}");
    assert!(table.contains("ps:x"), "{table}");
    // Over the failure groups: their keys, no filter syntax (`/` does nothing there) and no
    // click.
    let mut state = loaded(120, 30);
    key(&mut state, KeyCode::Char('F'));
    key(&mut state, KeyCode::Char('?'));
    let groups = text(&state);
    assert!(groups.contains("Keys of the failure groups"), "{groups}");
    assert!(groups.contains("next group"), "{groups}");
    assert!(!groups.contains("ps:x"), "{groups}");
    assert!(!groups.contains("a click selects a row"), "{groups}");
}

#[test]
fn header_when_stale() {
    let mut state = loaded(120, 14);
    app::update(&mut state, Msg::Tick(t0() + chrono::Duration::seconds(95)));
    let error =
        ProviderError::new(ErrorKind::Transient, "connection refused").with_request_id(None);
    send(
        &mut state,
        Event::CallFailed {
            at: t0() + chrono::Duration::seconds(90),
            error,
        },
    );
    insta::assert_snapshot!(render(&state, 120, 14).backend());
}

#[test]
fn header_when_throttled() {
    let mut state = loaded(120, 14);
    let error = ProviderError::new(ErrorKind::Throttled, "Rate exceeded")
        .with_request_id(Some("5f0e3c1a-aaaa-bbbb-cccc-0123456789ab".into()));
    send(&mut state, Event::CallFailed { at: t0(), error });
    send(
        &mut state,
        Event::Spend(SpendReport {
            rps: 1.9,
            budget_rps: 2.0,
            total_calls: 120,
            throttled_calls: 4,
            failed_calls: 4,
            backoff_until: Some(t0() + chrono::Duration::seconds(8)),
            effective_rps: 1.0,
        }),
    );
    insta::assert_snapshot!(render(&state, 120, 14).backend());
}

#[test]
fn tiny_terminal_asks_for_more_room() {
    let mut state = loaded(30, 8);
    app::update(
        &mut state,
        Msg::Resize {
            width: 30,
            height: 8,
        },
    );
    insta::assert_snapshot!(render(&state, 30, 8).backend());
}

fn render_with(state: &AppState, width: u16, height: u16, theme: Theme) -> Terminal<TestBackend> {
    let mut terminal = match Terminal::new(TestBackend::new(width, height)) {
        Ok(t) => t,
        Err(e) => panic!("test backend: {e}"),
    };
    if let Err(e) = terminal.draw(|f| ui::draw(f, state, &theme)) {
        panic!("draw: {e}");
    }
    terminal
}

/// The screen as plain text, one line per row, for assertions that say what must be seen.
fn screen(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn failed_at_80x24_shows_the_reason_and_every_kind_count() {
    let mut state = loaded(80, 24);
    key(&mut state, KeyCode::Char('f'));
    let terminal = render(&state, 80, 24);
    let text = screen(&terminal);
    assert!(text.contains("Received a 404 status"), "{text}");
    // Cut by width with an ellipsis, never silently.
    assert!(
        text.contains("AWS SSO is unable to complete your"),
        "{text}"
    );
    assert!(text.contains('…'), "{text}");
    // The header keeps all three kinds, provisioning included.
    assert!(text.contains("provisioning 0▶ 0✗ 0✓"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn sixty_by_fifteen() {
    let mut state = loaded(60, 15);
    key(&mut state, KeyCode::Char('f'));
    insta::assert_snapshot!(render(&state, 60, 15).backend());
}

#[test]
fn stacked_detail_pane() {
    let mut state = loaded(100, 30);
    key(&mut state, KeyCode::Char('f'));
    key(&mut state, KeyCode::Enter);
    insta::assert_snapshot!(render(&state, 100, 30).backend());
}

#[test]
fn position_is_shown_after_toggling_filters() {
    let mut state = loaded(120, 14);
    key(&mut state, KeyCode::Char('f'));
    key(&mut state, KeyCode::Char('a'));
    key(&mut state, KeyCode::Char('G'));
    let terminal = render(&state, 120, 14);
    let text = screen(&terminal);
    // Rows above the window are announced by the position and the scrollbar.
    assert!(text.contains("row 40/40"), "{text}");
    assert!(text.contains('█'), "no scrollbar thumb:\n{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn times_carry_their_zone() {
    let mut state = loaded(120, 14);
    state.data.tz = match chrono::FixedOffset::east_opt(3600) {
        Some(tz) => tz,
        None => panic!("offset"),
    };
    let text = screen(&render(&state, 120, 14));
    assert!(text.contains("Created +01:00"), "{text}");
    assert!(text.contains("last poll 13:00:00 +01:00"), "{text}");
}

#[test]
fn no_color() {
    let mut state = loaded(120, 14);
    key(&mut state, KeyCode::Char('f'));
    let terminal = render_with(&state, 120, 14, Theme { color: false });
    let buffer = terminal.backend().buffer();
    let coloured = buffer
        .content()
        .iter()
        .filter(|c| c.fg != ratatui::style::Color::Reset || c.bg != ratatui::style::Color::Reset)
        .count();
    assert_eq!(coloured, 0, "NO_COLOR must not colour a single cell");
    insta::assert_snapshot!(terminal.backend());
}

/// Styles as well as symbols: FAILED stands out and the selection is marked, in colour and
/// under NO_COLOR.
#[test]
fn failed_emphasis_and_selection_styles() {
    let mut state = loaded(100, 12);
    key(&mut state, KeyCode::Char('f'));
    key(&mut state, KeyCode::Down);
    insta::assert_debug_snapshot!(
        "failed_emphasis_colour",
        render_with(&state, 100, 12, Theme::default())
            .backend()
            .buffer()
    );
    insta::assert_debug_snapshot!(
        "failed_emphasis_no_color",
        render_with(&state, 100, 12, Theme { color: false })
            .backend()
            .buffer()
    );
}

#[test]
fn all_kinds_tab() {
    let mut state = loaded(160, 20);
    key(&mut state, KeyCode::Char('0'));
    key(&mut state, KeyCode::Char('f'));
    let terminal = render(&state, 160, 20);
    let text = screen(&terminal);
    assert!(text.contains("All kinds 10 of 47"), "{text}");
    assert!(text.contains("deletion"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn failure_groups_offer_to_read_every_reason_at_80x24() {
    let mut state = loaded(80, 24);
    key(&mut state, KeyCode::Char('F'));
    key(&mut state, KeyCode::Char('R'));
    let terminal = render(&state, 80, 24);
    let text = screen(&terminal);
    assert!(text.contains("Read every reason now?"), "{text}");
    assert!(text.contains("7 describes"), "{text}");
    assert!(text.contains("4  at 20 req/s"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn failure_groups() {
    let mut state = loaded(120, 24);
    key(&mut state, KeyCode::Char('F'));
    let terminal = render(&state, 120, 24);
    let text = screen(&terminal);
    assert!(
        text.contains("Failure groups 10 FAILED · 3 of 10 read"),
        "{text}"
    );
    // No sample read yet: what was read is a floor, not an estimate; each row starts with its
    // count, then the cause key.
    assert!(text.contains("≥ 2 principal_missing"), "{text}");
    assert!(text.contains("7 reason_pending (70%)"), "{text}");
    assert!(text.contains("hint:"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn progress_header_with_sparkline_and_new_failure_marker() {
    let mut state = loaded(120, 16);
    app::update(
        &mut state,
        Msg::Configure(app::progress::ViewConfig {
            stuck_after: std::time::Duration::from_secs(15 * 60),
            since: Some(t0() - chrono::Duration::minutes(60)),
            columns: None,
        }),
    );
    // Completions over three minutes, then one request fails.
    for (minute, ids) in [(2i64, vec![1usize, 2]), (1, vec![6, 7, 11]), (0, vec![12])] {
        app::update(
            &mut state,
            Msg::Tick(t0() - chrono::Duration::minutes(minute)),
        );
        let items = ids
            .iter()
            .map(|&i| summary(CREATION, i, Status::Succeeded))
            .collect();
        send(
            &mut state,
            Event::Records {
                kind: CREATION,
                items,
            },
        );
    }
    send(
        &mut state,
        Event::Records {
            kind: CREATION,
            items: vec![summary(CREATION, 16, Status::Failed)],
        },
    );
    let terminal = render(&state, 120, 16);
    let text = screen(&terminal);
    assert!(text.contains("1 new FAILED"), "{text}");
    assert!(text.contains("done/min"), "{text}");
    assert!(text.contains("ETA"), "{text}");
    assert!(text.contains('⚠'), "no stuck mark:\n{text}");
    insta::assert_snapshot!(terminal.backend());
    // Looking at the failures clears the marker.
    key(&mut state, KeyCode::Char('f'));
    assert!(!screen(&render(&state, 120, 16)).contains("new FAILED"));
}

#[test]
fn the_selected_row_wraps_its_full_reason() {
    let mut state = loaded(100, 20);
    key(&mut state, KeyCode::Char('f'));
    key(&mut state, KeyCode::Char('w'));
    let text = screen(&render(&state, 100, 20));
    // The end of the long reason, cut without `w`, is on screen.
    assert!(text.contains("problem continues"), "{text}");
    key(&mut state, KeyCode::Char('w'));
    assert!(!screen(&render(&state, 100, 20)).contains("problem continues"));
}

#[test]
fn describing_and_error_states_in_the_detail_pane() {
    let mut state = loaded(100, 30);
    // Row 1 is in progress and not described: the pane says it is describing.
    key(&mut state, KeyCode::Down);
    key(&mut state, KeyCode::Enter);
    let describing = render(&state, 100, 30);
    assert!(screen(&describing).contains("Describing…"));
    insta::assert_snapshot!("detail_describing", describing.backend());
    let error = ProviderError::new(ErrorKind::Auth, "AccessDeniedException: not authorized")
        .with_request_id(None);
    send(
        &mut state,
        Event::DescribeFailed {
            kind: CREATION,
            request_id: rid(1),
            error,
        },
    );
    let failed = render(&state, 100, 30);
    assert!(screen(&failed).contains("Describe failed"));
    insta::assert_snapshot!("detail_describe_error", failed.backend());
}

#[test]
fn a_provider_without_region_shows_its_endpoint() {
    let mut state = loaded(120, 14);
    state.data.connection.provider = ssowatch::provider::ProviderInfo {
        name: "huawei".into(),
        profile: None,
        region: None,
        endpoint: Some("https://identitycenter.myhuaweicloud.com".into()),
    };
    let text = screen(&render(&state, 120, 14));
    assert!(
        text.contains("provider huawei  endpoint https://identitycenter.myhuaweicloud.com"),
        "{text}"
    );
}

/// Every visible character is drawn in a colour other than its background, on every screen
/// whose rows can be selected: the selection's background is the dim grey that secondary
/// text (a group's hint, a table's "-") is written in, and such text vanished under it.
#[test]
fn no_text_in_its_own_background_colour() {
    let screens: [(&str, &[KeyCode]); 4] = [
        ("table", &[]),
        (
            "table, selection on a row with empty cells",
            &[KeyCode::Down],
        ),
        ("detail pane", &[KeyCode::Enter]),
        (
            "failure groups, second selected",
            &[KeyCode::Char('F'), KeyCode::Down],
        ),
    ];
    for (name, keys) in screens {
        let mut state = loaded(120, 24);
        for k in keys {
            key(&mut state, *k);
        }
        let terminal = render(&state, 120, 24);
        let buffer = terminal.backend().buffer();
        let area = buffer.area;
        let mut invisible = Vec::new();
        for y in area.top()..area.bottom() {
            for x in area.left()..area.right() {
                let cell = &buffer[(x, y)];
                let visible = !cell.symbol().trim().is_empty();
                if visible && cell.fg == cell.bg && cell.bg != ratatui::style::Color::Reset {
                    invisible.push(format!("({x},{y}) {:?}", cell.symbol()));
                }
            }
        }
        assert!(
            invisible.is_empty(),
            "{name}: text in its own background colour at {invisible:?}\n{}",
            screen(&terminal)
        );
    }
}

/// A tab whose listing is denied says so on the tab, with what to do, whole (never "Loading…
/// 0 pages"), and the status line wraps the hint rather than cutting it, at 80 and 160 columns.
#[test]
fn a_denied_tab_says_so_with_its_whole_hint_at_80_and_160_columns() {
    let hint = "attach the policy in the README (sso:ListAccountAssignmentCreationStatus on the instance) to the credentials in use, then wait up to 5 minutes";
    for (width, height) in [(80, 24), (160, 40)] {
        let mut state = new_state(width, height);
        send(
            &mut state,
            Event::ListFailed {
                kind: OperationKind::AssignmentCreation,
                error: ProviderError::new(
                    ErrorKind::Auth,
                    "AccessDeniedException: User is not authorized to perform sso:ListAccountAssignmentCreationStatus",
                )
                .with_hint(hint),
                gave_up: true,
            },
        );
        let terminal = render(&state, width, height);
        let text = screen(&terminal);
        assert!(!text.contains("Loading creation"), "{text}");
        let flat = text
            .replace(['│', '┐', '┌', '└', '┘', '─'], " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            flat.contains("Cannot list creation requests: access was denied."),
            "{text}"
        );
        // The hint, whole, in the tab and in the status line: twice.
        assert_eq!(flat.matches(hint).count(), 2, "{width}x{height}:\n{text}");
        if width == 80 {
            insta::assert_snapshot!(terminal.backend());
        }
    }
}

/// Issue 19: who and what on every row, in-flight ones included; Principal at 200 columns.
#[test]
fn rollout_table_at_80x24_and_200x50() {
    for (w, h) in [(80u16, 24u16), (200, 50)] {
        let state = rollout(w, h, 60, 60);
        insta::assert_snapshot!(
            format!("rollout_table_{w}x{h}"),
            render(&state, w, h).backend()
        );
    }
}

/// Issue 19: the filter prompt says how many rows match and how many could not be checked.
#[test]
fn field_filter_prompt_at_80x24_and_200x50() {
    for (w, h) in [(80u16, 24u16), (200, 50)] {
        let mut state = rollout(w, h, 60, 30);
        key(&mut state, KeyCode::Char('/'));
        chars(&mut state, "account:payments-* -status:succeeded");
        insta::assert_snapshot!(
            format!("filter_prompt_{w}x{h}"),
            render(&state, w, h).backend()
        );
    }
}

/// Issue 19: the pivot by account, and by principal sorted by the failed share.
#[test]
fn pivot_at_80x24_and_200x50() {
    for (w, h) in [(80u16, 24u16), (200, 50)] {
        let mut state = rollout(w, h, 60, 50);
        key(&mut state, KeyCode::Char('p'));
        insta::assert_snapshot!(format!("pivot_{w}x{h}"), render(&state, w, h).backend());
    }
    let mut state = rollout(80, 24, 60, 60);
    key(&mut state, KeyCode::Char('p'));
    key(&mut state, KeyCode::Char('p'));
    key(&mut state, KeyCode::Char('p'));
    for _ in 0..4 {
        key(&mut state, KeyCode::Char('s'));
    }
    insta::assert_snapshot!(
        "pivot_by_principal_failed_share_80x24",
        render(&state, 80, 24).backend()
    );
}

/// Issue 19, point 4: sorting by a column the width leaves out shows that column, marked.
#[test]
fn sorting_by_a_hidden_column_shows_it_at_80_columns() {
    let mut state = rollout(80, 24, 30, 30);
    let header = |state: &AppState| screen(&render(state, 80, 24));
    assert!(!header(&state).contains("Account"));
    for (presses, name) in [
        (3, "Account ▼"),
        (1, "Permission set ▼"),
        (1, "Principal ▼"),
    ] {
        for _ in 0..presses {
            key(&mut state, KeyCode::Char('s'));
        }
        let shown = header(&state);
        assert!(shown.contains(name), "{name}: {shown}");
    }
}
