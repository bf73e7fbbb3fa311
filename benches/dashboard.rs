//! Dashboard speed with 100,000 records: one full frame, a re-filter and re-sort after a
//! keystroke, and applying a poll result. Targets (docs/performance.md): 2 ms, 10 ms and 5 ms
//! median.

#[path = "support/mod.rs"]
mod support;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ssowatch::app::{self, Msg};
use ssowatch::model::Status;
use ssowatch::poller::Event;
use ssowatch::ui::{self, Theme};
use support::*;

const RECORDS: usize = 100_000;

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn render_frame(c: &mut Criterion) {
    let mut state = loaded_state(RECORDS, 200, 50);
    // Detail pane open on a FAILED row.
    app::update(&mut state, key(KeyCode::Char('G')));
    app::update(&mut state, key(KeyCode::Enter));
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    let theme = Theme::default();
    c.bench_function("render_frame_100k_200x50", |b| {
        b.iter(|| {
            terminal
                .draw(|f| ui::draw(f, &state, &theme))
                .expect("draw");
        })
    });
}

fn refilter_and_resort(c: &mut Criterion) {
    let base = loaded_state(RECORDS, 200, 50);
    let mut group = c.benchmark_group("keystroke_100k");
    // Typing one more character of a text filter re-filters every record.
    group.bench_function("text_filter_keystroke", |b| {
        b.iter_batched_ref(
            || {
                let mut s = base.clone();
                app::update(&mut s, key(KeyCode::Char('/')));
                app::update(&mut s, key(KeyCode::Char('d')));
                s
            },
            |s| app::update(s, key(KeyCode::Char('-'))),
            BatchSize::LargeInput,
        )
    });
    // A field filter with a glob, a negation and a word (issue 19): one more character.
    group.bench_function("field_filter_keystroke", |b| {
        b.iter_batched_ref(
            || {
                let mut s = base.clone();
                app::update(&mut s, key(KeyCode::Char('/')));
                for c in "account:1234* -status:succeeded ps:ps-".chars() {
                    app::update(&mut s, key(KeyCode::Char(c)));
                }
                s
            },
            |s| app::update(s, key(KeyCode::Char('0'))),
            BatchSize::LargeInput,
        )
    });
    // `s` re-sorts every record by the next column, then re-filters.
    group.bench_function("sort_keystroke", |b| {
        b.iter_batched_ref(
            || base.clone(),
            |s| app::update(s, key(KeyCode::Char('s'))),
            BatchSize::LargeInput,
        )
    });
    // `f` re-filters by status.
    group.bench_function("failed_only_keystroke", |b| {
        b.iter_batched_ref(
            || base.clone(),
            |s| app::update(s, key(KeyCode::Char('f'))),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn apply_poll_result(c: &mut Criterion) {
    let base = loaded_state(RECORDS, 200, 50);
    // 1,000 records change status (in progress -> failed/succeeded and some new ones).
    let changes: Vec<_> = (0..1_000)
        .map(|j| {
            let i = j * 97 % RECORDS;
            let status = if j % 3 == 0 {
                Status::Failed
            } else {
                Status::Succeeded
            };
            summary(i, status)
        })
        .collect();
    c.bench_function("apply_poll_1000_of_100k", |b| {
        b.iter_batched_ref(
            || (base.clone(), changes.clone()),
            |(s, items)| {
                app::update(
                    s,
                    Msg::Poll(Event::Records {
                        kind: KIND,
                        items: std::mem::take(items),
                    }),
                )
            },
            BatchSize::LargeInput,
        )
    });
}

/// `F` with 10,000 FAILED requests of 40 reasons (ids, accounts and ARNs varying): grouping
/// runs on every poll while the view is open. Target: 5 ms median.
fn group_failures(c: &mut Criterion) {
    let reasons: Vec<String> = (0..10_000)
        .map(|i| match i % 4 {
            0 => format!("Received a 404 status error: Not supported policy arn:aws:iam::{:012}:policy/p{}", 100_000_000_000u64 + i as u64, i % 10),
            1 => format!("AWS SSO is unable to complete your request at this time. Obtaining permissions to manage your AWS account '{:012}' takes longer than usual.", 100_000_000_000u64 + i as u64),
            2 => format!("Received a 404 status error: the USER assignee {i:08x}-1111-4222-8333-{i:012x} was not found in directory d-{:010x}", i % 10),
            _ => "An unexpected internal service exception was encountered".to_string(),
        })
        .collect();
    let patterns: Vec<String> = reasons
        .iter()
        .map(|r| ssowatch::failures::normalise(r))
        .collect();
    let ids: Vec<String> = (0..10_000).map(request_id).collect();
    c.bench_function("group_failures_10k_cached_patterns", |b| {
        b.iter(|| {
            ssowatch::failures::group((0..10_000).map(|i| ssowatch::failures::FailedRequest {
                kind: ssowatch::model::OperationKind::AssignmentCreation,
                request_id: &ids[i],
                created: t0(),
                reason: Some(&reasons[i]),
                pattern: Some(&patterns[i]),
                account: None,
                permission_set: None,
            }))
        })
    });
}

criterion_group!(
    benches,
    render_frame,
    group_failures,
    refilter_and_resort,
    apply_poll_result
);
criterion_main!(benches);
