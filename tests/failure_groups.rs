//! The one failure classifier and grouping: real reasons (tests/data/failure_reasons.txt) fall
//! into their known cause, and many failures with varying ids read as few groups.

use chrono::{DateTime, TimeZone, Utc};
use ssowatch::failures::{self, Cause, FailedRequest};
use ssowatch::model::OperationKind;

fn reasons() -> Vec<(String, String)> {
    include_str!("data/failure_reasons.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| match l.split_once('\t') {
            Some((cause, reason)) => (cause.to_string(), reason.to_string()),
            None => panic!("bad test data line: {l}"),
        })
        .collect()
}

fn at(minute: u32) -> DateTime<Utc> {
    match Utc.with_ymd_and_hms(2026, 11, 23, 10, minute, 0).single() {
        Some(t) => t,
        None => panic!("time"),
    }
}

#[test]
fn real_reasons_fall_into_their_cause_and_every_cause_has_a_hint() {
    let data = reasons();
    assert!(data.len() >= 12);
    for (cause, reason) in &data {
        assert_eq!(Cause::of(reason).label(), cause, "{reason}");
    }
    for cause in Cause::ALL {
        assert!(!cause.hint().is_empty());
        assert!(ssowatch::failures::CAUSE_LABELS.contains(&cause.label()));
    }
}

#[test]
fn normalising_takes_out_ids_accounts_arns_and_names() {
    let a = failures::normalise(
        "Received a 404 status error: the GROUP assignee 3f2a9c10-1111-2222-3333-444455556666 was not found in directory d-9067a1b2c3",
    );
    let b = failures::normalise(
        "Received a 404 status error: the GROUP assignee 0badf00d-aaaa-bbbb-cccc-ddddeeeeffff was not found in directory d-1111111111",
    );
    assert_eq!(a, b);
    assert!(a.contains("404") && a.contains("GROUP assignee"), "{a}");
    assert!(!a.contains("d-9067"), "{a}");
    let account = failures::normalise(
        "Obtaining permissions to manage your AWS account '908123456781' takes longer",
    );
    assert!(!account.contains("908123456781"), "{account}");
    let arn = failures::normalise("Not supported policy arn:aws:iam::aws:policy/ReadOnlyAccess");
    assert_eq!(arn, "Not supported policy <arn>");
}

#[test]
fn three_hundred_failures_read_as_four_causes() {
    let templates = [
        "Received a 404 status error: Not supported policy arn:aws:iam::{acct}:policy/p{n}",
        "AWS SSO is unable to complete your request at this time. Obtaining permissions to manage your AWS account '{acct}' takes longer than usual.",
        "Received a 404 status error: the USER assignee {uuid} was not found in directory d-{dir}",
        "An unexpected internal service exception was encountered",
    ];
    let kinds = OperationKind::ALL;
    let owned: Vec<(OperationKind, String, String, String, u32)> = (0..300u32)
        .map(|i| {
            let reason = templates[(i % 4) as usize]
                .replace("{acct}", &format!("{:012}", 100_000_000_000u64 + i as u64))
                .replace("{n}", &i.to_string())
                .replace("{uuid}", &format!("{i:08x}-1111-4222-8333-{i:012x}"))
                .replace("{dir}", &format!("{:010x}", 0x9067_0000u64 + i as u64));
            let account = format!("{:012}", 100_000_000_000u64 + (i % 7) as u64);
            (
                kinds[(i % 3) as usize],
                format!("req-{i}"),
                reason,
                account,
                i % 60,
            )
        })
        .collect();
    let groups =
        failures::group(
            owned
                .iter()
                .map(|(kind, id, reason, account, minute)| FailedRequest {
                    kind: *kind,
                    request_id: id,
                    created: at(*minute),
                    reason: Some(reason),
                    pattern: None,
                    account: Some(account),
                    permission_set: None,
                }),
        );
    assert_eq!(
        groups.len(),
        4,
        "{:#?}",
        groups.iter().map(|g| &g.pattern).collect::<Vec<_>>()
    );
    assert_eq!(groups.iter().map(|g| g.count).sum::<usize>(), 300);
    let causes: Vec<Cause> = groups.iter().map(|g| g.cause).collect();
    for cause in [
        Cause::PolicyMissing,
        Cause::AccountUnreachable,
        Cause::PrincipalMissing,
        Cause::InternalError,
    ] {
        assert!(causes.contains(&cause), "{causes:?}");
    }
    let first = &groups[0];
    assert_eq!(first.count, 75);
    assert_eq!(first.kinds.len(), 3);
    assert_eq!(first.accounts.len(), 7);
    assert!(first.first_seen < first.last_seen);
    assert_eq!(first.requests.len(), 75);
}

#[test]
fn requests_without_a_reason_yet_are_a_group_of_their_own_listed_last() {
    let groups = failures::group([
        FailedRequest {
            kind: OperationKind::AssignmentCreation,
            request_id: "a",
            created: at(1),
            reason: None,
            pattern: None,
            account: None,
            permission_set: None,
        },
        FailedRequest {
            kind: OperationKind::AssignmentCreation,
            request_id: "b",
            created: at(2),
            reason: Some("An unexpected internal service exception was encountered"),
            pattern: None,
            account: None,
            permission_set: None,
        },
    ]);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[1].pattern, failures::NOT_DESCRIBED);
    assert_eq!(groups[0].cause, Cause::InternalError);
}

/// `ssowatch failures --demo --output json`: the command lists groups with counts, causes
/// and hints, with ids and account numbers normalised out of the reason.
#[test]
fn the_failures_command_groups_the_demo_s_failures() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ssowatch"))
        .args([
            "--demo",
            "--api-budget",
            "20",
            "failures",
            "--output",
            "json",
        ])
        .env("XDG_CACHE_HOME", std::env::temp_dir())
        .output()
        .unwrap_or_else(|e| panic!("run ssowatch: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let groups: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("json: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert!(groups.len() >= 4, "{groups:#?}");
    let uuid = regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-").unwrap_or_else(|e| panic!("{e}"));
    let account = regex::Regex::new(r"\b\d{12}\b").unwrap_or_else(|e| panic!("{e}"));
    let mut total = 0;
    for g in &groups {
        let count = g["count"].as_u64().unwrap_or(0);
        assert!(count > 0, "{g}");
        total += count;
        let reason = g["reason"].as_str().unwrap_or_default();
        assert!(
            !uuid.is_match(reason) && !account.is_match(reason),
            "{reason}"
        );
        assert!(!g["hint"].as_str().unwrap_or_default().is_empty(), "{g}");
        assert!(
            g["cause"]
                .as_str()
                .is_some_and(|c| Cause::ALL.iter().any(|k| k.label() == c))
        );
        // The example keeps the real reason, which normalises to the group's.
        let example = g["example"].as_str().unwrap_or_default();
        assert_eq!(failures::normalise(example), reason);
    }
    // Every FAILED request is in exactly one group: the counts add up to far more groups.
    assert!(
        total as usize > groups.len() * 5,
        "{total} failures in {} groups",
        groups.len()
    );
}
