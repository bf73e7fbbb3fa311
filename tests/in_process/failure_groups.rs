//! The one failure classifier and grouping: real reasons (tests/data/failure_reasons.txt) fall
//! into their known cause, and many failures with varying ids read as few groups.

use chrono::{DateTime, TimeZone, Utc};
use ssowatch::failures::{self, Cause, FailedRequest};
use ssowatch::model::OperationKind;

fn reasons() -> Vec<(String, String)> {
    include_str!("../data/failure_reasons.txt")
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

/// One cause is one group on both clouds: the principal's type, the policy's name, the account
/// and the entitlement key do not split it.
#[test]
fn one_cause_is_one_group_whatever_the_ids_types_and_names_in_its_text() {
    let reasons = [
        "Received a 404 status error: the GROUP assignee 8f3a-11 was not found in directory d-1234567890",
        "Received a 404 status error: the USER assignee 77aa-42 was not found in directory d-1234567890",
        // Huawei's wording of a missing policy, five policy names.
        "Received a 404 status error: Not supported policy system policy ReadOnlyAccess",
        "Received a 404 status error: Not supported policy system policy PowerUserAccess",
        "Received a 404 status error: Not supported policy system policy AdministratorAccess",
        "Received a 404 status error: Not supported policy system policy BillingReadOnly",
        "Received a 404 status error: Not supported policy system policy SecurityAudit",
    ];
    let ids: Vec<String> = (0..reasons.len()).map(|i| format!("r{i}")).collect();
    let groups = failures::group(reasons.iter().zip(&ids).map(|(reason, id)| FailedRequest {
        kind: OperationKind::AssignmentCreation,
        request_id: id,
        created: at(1),
        reason: Some(reason),
        pattern: None,
        account: None,
        permission_set: None,
    }));
    let keys: Vec<(&str, usize)> = groups.iter().map(|g| (g.key.as_str(), g.count)).collect();
    assert_eq!(
        keys,
        vec![("policy_missing", 5), ("principal_missing", 2)],
        "{groups:#?}"
    );
}

/// Hints speak the cloud's own words: on Huawei Cloud no AWS-only name appears.
#[test]
fn huawei_hints_name_nothing_that_only_aws_has() {
    for cause in Cause::ALL {
        let hint = cause.hint_for("huawei");
        for aws_only in ["AWS", "AWSReservedSSO", "SCP", "iam:", "reprovision"] {
            assert!(!hint.contains(aws_only), "{cause:?}: {hint}");
        }
        assert_eq!(cause.hint_for("aws"), cause.hint());
    }
    assert!(Cause::RoleQuota.hint_for("huawei").contains("agencies"));
}

use crate::support::ops as ops_support;

/// `ssowatch failures` samples by default and says so; `--exact` reads every reason, and the
/// exact counts lie in the sample's intervals (a fixed organization and a fixed sample, so the
/// run is the same every time).
#[test]
fn failures_estimates_from_a_sample_by_default_and_reads_every_reason_with_exact() {
    let home = tempfile::tempdir().expect("temp dir");
    let emulator = ops_support::emulator_with(
        &[
            ("--seed", "3"),
            ("--history", "1500"),
            ("--rate", "0"),
            ("--failure-ratio", "0.1"),
        ],
        home.path(),
    );
    let run = |extra: &[&str]| -> Vec<serde_json::Value> {
        let mut args = vec![
            "--endpoint-url",
            emulator.url.as_str(),
            "--api-budget",
            "20",
            "failures",
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        let r = ops_support::run(&args, home.path());
        ops_support::assert_exit(&r, 0);
        serde_json::from_str(&r.stdout).expect("failures prints a JSON array")
    };
    let stats = |url: &str| ops_support::emulator_stats(url)["by_operation"].clone();
    let described = |s: &serde_json::Value| -> u64 {
        s.as_object()
            .map(|o| {
                o.iter()
                    .filter(|(op, _)| op.starts_with("Describe") && op.ends_with("Status"))
                    .map(|(_, n)| n.as_u64().unwrap_or(0))
                    .sum()
            })
            .unwrap_or(0)
    };
    let sampled = run(&[]);
    let after_sample = described(&stats(&emulator.url));
    let of = sampled[0]["of"].as_u64().unwrap_or(0);
    assert!(of > 300, "too few FAILED to sample: {of}");
    // 200 describes, not one per FAILED.
    assert_eq!(after_sample, 200);
    let read: u64 = sampled
        .iter()
        .map(|g| g["read"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(read, 200);
    assert!(
        sampled.iter().all(|g| g["estimated"] == true),
        "{sampled:#?}"
    );
    let exact = run(&["--exact"]);
    assert_eq!(described(&stats(&emulator.url)) - after_sample, of);
    assert!(exact.iter().all(|g| g["estimated"] == false), "{exact:#?}");
    let total: u64 = exact.iter().map(|g| g["count"].as_u64().unwrap_or(0)).sum();
    assert_eq!(total, of);
    for g in &exact {
        let key = &g["key"];
        let count = g["count"].as_u64().unwrap_or(0);
        let estimate = sampled
            .iter()
            .find(|s| &s["key"] == key)
            .unwrap_or_else(|| panic!("{key} missing from the sample's groups"));
        let (low, high) = (
            estimate["low"].as_u64().unwrap_or(0),
            estimate["high"].as_u64().unwrap_or(0),
        );
        assert!(
            (low..=high).contains(&count),
            "{key}: exact {count} outside the estimate's {low}..{high}"
        );
        // Request ids of what was read, accounts with ids, permission sets with ARNs.
        assert_eq!(
            g["request_ids"].as_array().map(Vec::len),
            Some(count as usize)
        );
        assert!(g["accounts"][0]["id"].is_string(), "{g}");
        assert!(g["permission_sets"][0]["arn"].is_string(), "{g}");
    }
}
