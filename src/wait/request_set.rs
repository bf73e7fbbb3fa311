//! The request set `wait` is given: ids, the AWS CLI's JSON output, or `--since`.

use std::collections::HashSet;
use std::io::Read;

use chrono::{DateTime, Utc};

use super::WaitOptions;
use crate::model::OperationKind;
use crate::sanitize::clean_text;

/// One request named by the caller; the kind is known when the AWS CLI's JSON named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRef {
    pub kind: Option<OperationKind>,
    pub id: String,
}

/// Longest request id accepted (AWS ids are 36-character UUIDs; Huawei's are similar).
const MAX_ID_LEN: usize = 128;

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// The kind a key of the AWS CLI's (or Huawei's) JSON output names, e.g.
/// `AccountAssignmentCreationStatus` or `account_assignment_creation_status`.
fn kind_of_key(key: &str) -> Option<OperationKind> {
    let normal: String = key
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    match normal.as_str() {
        "accountassignmentcreationstatus" => Some(OperationKind::AssignmentCreation),
        "accountassignmentdeletionstatus" => Some(OperationKind::AssignmentDeletion),
        "permissionsetprovisioningstatus" => Some(OperationKind::PermissionSetProvisioning),
        _ => None,
    }
}

fn collect_ids(value: &serde_json::Value, kind: Option<OperationKind>, out: &mut Vec<RequestRef>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                let normal = key.replace('_', "").to_ascii_lowercase();
                if normal == "requestid"
                    && let Some(id) = v.as_str()
                {
                    out.push(RequestRef {
                        kind,
                        id: id.to_string(),
                    });
                } else {
                    collect_ids(v, kind_of_key(key).or(kind), out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_ids(v, kind, out)),
        _ => {}
    }
}

/// Parses a request-id file: the AWS CLI's JSON (one or more documents), or one id per line.
/// Duplicates are dropped, first occurrence kept.
pub fn parse_request_ids(text: &str) -> Result<Vec<RequestRef>, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let mut refs = Vec::new();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        for (n, value) in serde_json::Deserializer::from_str(trimmed)
            .into_iter::<serde_json::Value>()
            .enumerate()
        {
            let value =
                value.map_err(|e| format!("JSON document {} does not parse: {e}", n + 1))?;
            collect_ids(&value, None, &mut refs);
        }
        if refs.is_empty() {
            return Err("the JSON holds no RequestId".into());
        }
        if let Some(bad) = refs.iter().find(|r| !valid_id(&r.id)) {
            return Err(format!(
                "`{}` is not a request id",
                clean_text(&bad.id.chars().take(60).collect::<String>())
            ));
        }
    } else {
        for (n, line) in trimmed.lines().enumerate() {
            let id = line.split('#').next().unwrap_or("").trim();
            if id.is_empty() {
                continue;
            }
            if !valid_id(id) {
                return Err(format!(
                    "line {}: `{}` is not a request id (one id per line, or the AWS CLI's JSON)",
                    n + 1,
                    clean_text(&id.chars().take(60).collect::<String>())
                ));
            }
            refs.push(RequestRef {
                kind: None,
                id: id.to_string(),
            });
        }
    }
    let mut seen = HashSet::new();
    refs.retain(|r| seen.insert(r.id.clone()));
    Ok(refs)
}

/// `--since`: a duration back from `now`, or an RFC 3339 time.
pub fn parse_since(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = humantime::parse_duration(value.trim()).map_err(|_| {
        format!("--since `{}`: give a duration such as 15m or 2h, or an RFC 3339 time such as 2026-05-01T12:00:00Z", clean_text(value))
    })?;
    let d = crate::config::SINCE_RANGE
        .check(d)
        .map_err(|why| format!("--since `{}` {why}", clean_text(value)))?;
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(|| format!("--since `{}` is too far back", clean_text(value)))
}

/// What wait was asked to wait for.
pub(super) enum RequestSet {
    Ids(Vec<RequestRef>),
    Since(DateTime<Utc>),
}

pub(super) fn read_request_set(args: &WaitOptions) -> Result<RequestSet, String> {
    if let Some(since) = &args.since {
        return parse_since(since, Utc::now()).map(RequestSet::Since);
    }
    let mut refs = Vec::new();
    for id in &args.request_id {
        if !valid_id(id) {
            return Err(format!(
                "--request-id `{}` is not a request id",
                clean_text(&id.chars().take(60).collect::<String>())
            ));
        }
        refs.push(RequestRef {
            kind: None,
            id: id.clone(),
        });
    }
    if let Some(path) = &args.request_ids_from {
        let (text, name) = if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read request ids from stdin: {e}"))?;
            (text, "stdin".to_string())
        } else {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            (text, path.display().to_string())
        };
        let from_file = parse_request_ids(&text).map_err(|e| format!("{name}: {e}"))?;
        if from_file.is_empty() {
            return Err(format!("{name} holds no request id"));
        }
        refs.extend(from_file);
    }
    let mut seen = HashSet::new();
    refs.retain(|r| seen.insert(r.id.clone()));
    Ok(RequestSet::Ids(refs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1f2e3d4c-0000-4000-8000-000000000001";
    const B: &str = "1f2e3d4c-0000-4000-8000-000000000002";

    #[test]
    fn ids_one_per_line_with_comments_and_duplicates() {
        let refs = parse_request_ids(&format!("# rollout 42\n{A}\n\n  {B}  # second\n{A}\n"))
            .expect("parses");
        let ids: Vec<&str> = refs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, [A, B]);
        assert!(refs.iter().all(|r| r.kind.is_none()));
    }

    #[test]
    fn a_bad_line_names_its_number() {
        let err = parse_request_ids(&format!("{A}\nnot an id\n")).expect_err("refused");
        assert!(err.starts_with("line 2:"), "{err}");
    }

    #[test]
    fn the_aws_cli_json_gives_ids_and_kinds() {
        let text = format!(
            r#"{{
    "AccountAssignmentCreationStatus": {{
        "Status": "IN_PROGRESS",
        "RequestId": "{A}",
        "TargetId": "111122223333"
    }}
}}
{{"PermissionSetProvisioningStatus": {{"Status": "IN_PROGRESS", "RequestId": "{B}"}}}}
{{"account_assignment_deletion_status": {{"request_id": "c-3"}}}}"#
        );
        let refs = parse_request_ids(&text).expect("parses");
        assert_eq!(
            refs,
            vec![
                RequestRef {
                    kind: Some(OperationKind::AssignmentCreation),
                    id: A.into()
                },
                RequestRef {
                    kind: Some(OperationKind::PermissionSetProvisioning),
                    id: B.into()
                },
                RequestRef {
                    kind: Some(OperationKind::AssignmentDeletion),
                    id: "c-3".into()
                },
            ]
        );
    }

    #[test]
    fn json_without_an_id_or_broken_json_is_refused() {
        assert!(parse_request_ids(r#"{"Status": "IN_PROGRESS"}"#).is_err());
        assert!(parse_request_ids(r#"{"RequestId": "#).is_err());
    }

    #[test]
    fn since_takes_a_duration_or_a_time() {
        let now = DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("15m", now).expect("duration"),
            now - chrono::Duration::minutes(15)
        );
        assert_eq!(
            parse_since("2026-05-01T10:00:00+02:00", now).expect("time"),
            now - chrono::Duration::hours(4)
        );
        assert!(parse_since("yesterday", now).is_err());
    }
}
