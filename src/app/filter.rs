//! The `/` filter language, shared by the dashboard and `ssowatch list --filter`: pure, no
//! I/O.
//!
//! A filter is terms separated by spaces, all of which must hold (AND):
//!
//! - a plain word matches any field (`payments`), as the filter always did;
//! - `field:value` matches one field: `account:`, `ps:`, `principal:`, `status:`, `kind:`,
//!   `reason:`, `id:` (names and ids both match: `account:payments` and `account:1234` alike);
//! - a value matches as a substring, case-insensitive; with a `*` it is a glob over one whole
//!   value (`account:payments-*`); in double quotes it must equal one whole value
//!   (`principal:"USER jane"`, what a pivot's `Enter` writes);
//! - a leading `-` negates a term (`-status:succeeded`, `-sandbox`).
//!
//! The list calls give only id, status, kind and time; account, permission set, principal and
//! reason come from a describe. A term on those fields cannot be checked on a request not yet
//! described: such a request is [`Verdict::Unknown`], neither shown nor hidden for good, and
//! the dashboard counts them (`32 match · 1,180 not described yet`).

use std::fmt;

/// A field a term can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Id,
    Status,
    Created,
    Kind,
    Account,
    PermissionSet,
    Principal,
    Reason,
}

impl Field {
    /// Every field, in the order a row's text keeps them.
    pub const ALL: [Field; 8] = [
        Field::Id,
        Field::Status,
        Field::Created,
        Field::Kind,
        Field::Account,
        Field::PermissionSet,
        Field::Principal,
        Field::Reason,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether only a describe tells this field.
    pub fn needs_describe(self) -> bool {
        matches!(
            self,
            Field::Account | Field::PermissionSet | Field::Principal | Field::Reason
        )
    }

    fn from_name(name: &str) -> Option<Field> {
        Some(match name {
            "id" | "request" => Field::Id,
            "status" | "st" => Field::Status,
            "created" => Field::Created,
            "kind" => Field::Kind,
            "account" | "acct" | "target" => Field::Account,
            "ps" | "permissionset" | "permission-set" | "permission_set" => Field::PermissionSet,
            "principal" | "who" | "user" | "group" => Field::Principal,
            "reason" | "why" => Field::Reason,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Status => "status",
            Field::Created => "created",
            Field::Kind => "kind",
            Field::Account => "account",
            Field::PermissionSet => "ps",
            Field::Principal => "principal",
            Field::Reason => "reason",
        }
    }
}

/// The syntax, for the help overlay: (example, what it does).
pub const SYNTAX_HELP: &[(&str, &str)] = &[
    ("/ word", "filter: a word matches any field"),
    ("/ ps:x", "one field: account ps principal status"),
    ("", "kind reason id; names and ids both match"),
    ("/ x*  \"x\"", "glob over a whole value; exactly one value"),
    ("/ -x  a b", "-x negates a term; terms are ANDed"),
];

/// How a value is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Substring(String),
    /// `*`-separated parts of a glob over one whole value.
    Glob(Vec<String>),
    Exact(String),
}

/// One term of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// `None`: any field.
    pub field: Option<Field>,
    pub negated: bool,
    pattern: Pattern,
}

/// A parsed filter: every term must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub terms: Vec<Term>,
}

/// Why a filter could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a request passes a filter: yes, no, or cannot tell before it is described.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Match,
    NoMatch,
    Unknown,
}

/// What a filter reads of a request: each field's values, lower-cased, separated by `\n`
/// (`123456789012\npayments-prod`); `None` for a field only a describe tells, on a request
/// not described yet.
pub trait Subject {
    fn field(&self, field: Field) -> Option<&str>;
}

/// Splits the text into tokens: spaces separate, double quotes keep spaces inside a value.
fn tokens(text: &str) -> Result<Vec<(String, bool)>, FilterError> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut in_quotes = false;
    let mut any = false;
    for c in text.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                quoted = true;
                any = true;
            }
            c if c.is_whitespace() && !in_quotes => {
                if any {
                    out.push((std::mem::take(&mut current), quoted));
                }
                quoted = false;
                any = false;
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if in_quotes {
        return Err(FilterError("a quote is not closed".into()));
    }
    if any {
        out.push((current, quoted));
    }
    Ok(out)
}

/// Whether the text before a `:` is meant as a field name: letters, `-` or `_`, and not `arn`.
fn looks_like_field(name: &str) -> bool {
    !name.is_empty()
        && !name.eq_ignore_ascii_case("arn")
        && name
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '-' || c == '_')
}

/// Parses a filter. An empty text is the filter that admits everything.
pub fn parse(text: &str) -> Result<Filter, FilterError> {
    let mut terms = Vec::new();
    for (token, quoted) in tokens(text)? {
        let (negated, rest) = match token.strip_prefix('-') {
            Some(rest) if !rest.is_empty() => (true, rest),
            _ => (false, token.as_str()),
        };
        let (field, value) = match rest.split_once(':') {
            // A time (`12:05`) or an ARN (`arn:aws:sso:::…`) is a plain word, as it always was.
            Some((name, _)) if !looks_like_field(name) => (None, rest),
            Some((name, value)) => match Field::from_name(&name.to_lowercase()) {
                Some(field) => (Some(field), value),
                None => {
                    return Err(FilterError(format!(
                        "unknown field {name:?}: use account, ps, principal, status, kind, reason or id"
                    )));
                }
            },
            _ => (None, rest),
        };
        let mut value = value.to_lowercase();
        if field == Some(Field::Status) {
            value = value.replace('-', "_");
        }
        if value.is_empty() && !quoted {
            // `account:` while typing: no constraint yet.
            continue;
        }
        let pattern = if quoted {
            Pattern::Exact(value)
        } else if value.contains('*') {
            Pattern::Glob(value.split('*').map(str::to_string).collect())
        } else {
            Pattern::Substring(value)
        };
        terms.push(Term {
            field,
            negated,
            pattern,
        });
    }
    Ok(Filter { terms })
}

/// An anchored glob: `parts` joined by `*` must cover the whole value.
fn glob(parts: &[String], value: &str) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return true;
    };
    let Some(mut remaining) = value.strip_prefix(first.as_str()) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part.as_str()) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last.as_str())
}

impl Pattern {
    /// Whether the pattern matches a field's text (values separated by `\n`). A permission
    /// set also matches by the `ps-…` tail of its ARN, and a principal as `USER jane.doe` (its
    /// type and a name or id), without keeping those twice in every row.
    fn matches_in(&self, field: Option<Field>, text: &str) -> bool {
        if let Pattern::Substring(needle) = self {
            return text.contains(needle.as_str());
        }
        let one = |v: &str| match self {
            Pattern::Glob(parts) => glob(parts, v),
            Pattern::Exact(value) => v == value,
            Pattern::Substring(_) => false,
        };
        if text.split('\n').any(one) {
            return true;
        }
        match field {
            Some(Field::PermissionSet) => text
                .split('\n')
                .any(|v| v.rsplit_once('/').is_some_and(|(_, tail)| one(tail))),
            Some(Field::Principal) => {
                let mut values = text.split('\n');
                let Some(kind) = values.next() else {
                    return false;
                };
                values.any(|v| one(&format!("{kind} {v}")))
            }
            _ => false,
        }
    }
}

impl Term {
    fn verdict(&self, subject: &impl Subject) -> Verdict {
        let found = match self.field {
            Some(field) => match subject.field(field) {
                Some(text) => self.pattern.matches_in(Some(field), text),
                None => return Verdict::Unknown,
            },
            None => {
                let mut unknown = false;
                let mut found = false;
                for field in Field::ALL {
                    match subject.field(field) {
                        Some(text) if self.pattern.matches_in(Some(field), text) => {
                            found = true;
                            break;
                        }
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                if !found && unknown {
                    return Verdict::Unknown;
                }
                found
            }
        };
        if found != self.negated {
            Verdict::Match
        } else {
            Verdict::NoMatch
        }
    }
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether any term needs what only a describe tells.
    pub fn needs_describe(&self) -> bool {
        self.terms
            .iter()
            .any(|t| t.field.is_none_or(Field::needs_describe))
    }

    /// Every term must hold: one that fails decides, else one that cannot be told yet.
    pub fn verdict(&self, subject: &impl Subject) -> Verdict {
        let mut verdict = Verdict::Match;
        for term in &self.terms {
            match term.verdict(subject) {
                Verdict::NoMatch => return Verdict::NoMatch,
                Verdict::Unknown => verdict = Verdict::Unknown,
                Verdict::Match => {}
            }
        }
        verdict
    }

    /// The verdict without the terms that need a describe: what a listing alone can decide.
    pub fn verdict_listed(&self, subject: &impl Subject) -> Verdict {
        for term in &self.terms {
            if term.field.is_some_and(|f| !f.needs_describe())
                && term.verdict(subject) == Verdict::NoMatch
            {
                return Verdict::NoMatch;
            }
        }
        Verdict::Unknown
    }
}

/// A request's field texts, built once: the table keeps one per row, `list --filter` one per
/// record.
#[derive(Debug, Clone, Default)]
pub struct FieldTexts {
    text: Box<str>,
    /// End of each field in `text` (fields are back to back; a reason is cut to keep the
    /// whole under 64 KiB).
    /// The last field (the reason) ends where the text does, so only seven are kept: with
    /// the flag below the whole fits 32 bytes, a row of 100,000.
    ends: [u16; 7],
    described: bool,
}

/// The values of a request, as a filter reads them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Values<'a> {
    pub id: &'a str,
    pub status: &'a str,
    pub created: &'a str,
    pub kind: &'a str,
    /// `None` until the request is described.
    pub detail: Option<&'a crate::model::RequestDetail>,
}

impl FieldTexts {
    pub fn new(values: Values<'_>) -> FieldTexts {
        // Exactly the room the fields take: a row of 100,000 keeps this allocation for its
        // life, and one sized for the longest row and shrunk after leaves the allocator with
        // holes it cannot reuse (7 MB of them at 100,000 rows).
        let d = values.detail;
        let detail_len = d.map_or(0, |d| {
            [
                &d.target_account,
                &d.account_name,
                &d.permission_set,
                &d.permission_set_name,
                &d.principal_type,
                &d.principal_id,
                &d.principal_name,
                &d.failure_reason,
            ]
            .iter()
            .map(|f| f.as_deref().map_or(0, |t| t.len() + 1))
            .sum::<usize>()
        });
        let room = values.id.len()
            + values.status.len()
            + values.created.len()
            + values.kind.len()
            + detail_len;
        let mut text = String::with_capacity(room);
        let mut ends = [0u16; 7];
        let mut push = |field: Field, parts: &[Option<&str>], text: &mut String| {
            let mut first = true;
            for part in parts.iter().flatten() {
                if !first {
                    text.push('\n');
                }
                first = false;
                let room = (u16::MAX as usize).saturating_sub(text.len() + 4 * part.len());
                let part = if room == 0 {
                    let mut end = (u16::MAX as usize).saturating_sub(text.len()) / 4;
                    while !part.is_char_boundary(end) {
                        end -= 1;
                    }
                    &part[..end]
                } else {
                    part
                };
                if part
                    .bytes()
                    .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
                {
                    text.push_str(&part.to_lowercase());
                } else {
                    text.push_str(part);
                }
            }
            if let Some(end) = ends.get_mut(field.index()) {
                *end = text.len().min(u16::MAX as usize) as u16;
            }
        };
        push(Field::Id, &[Some(values.id)], &mut text);
        push(Field::Status, &[Some(values.status)], &mut text);
        push(Field::Created, &[Some(values.created)], &mut text);
        push(Field::Kind, &[Some(values.kind)], &mut text);
        let get = |f: fn(&crate::model::RequestDetail) -> &Option<String>| {
            d.and_then(|d| f(d).as_deref())
        };
        push(
            Field::Account,
            &[get(|d| &d.target_account), get(|d| &d.account_name)],
            &mut text,
        );
        push(
            Field::PermissionSet,
            &[get(|d| &d.permission_set), get(|d| &d.permission_set_name)],
            &mut text,
        );
        push(
            Field::Principal,
            &[
                get(|d| &d.principal_type),
                get(|d| &d.principal_id),
                get(|d| &d.principal_name),
            ],
            &mut text,
        );
        push(Field::Reason, &[get(|d| &d.failure_reason)], &mut text);
        FieldTexts {
            text: text.into_boxed_str(),
            ends,
            described: d.is_some(),
        }
    }
}

impl Subject for FieldTexts {
    fn field(&self, field: Field) -> Option<&str> {
        if field.needs_describe() && !self.described {
            return None;
        }
        let i = field.index();
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends.get(i).map_or(self.text.len(), |&e| e as usize);
        self.text.get(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RequestDetail;

    #[test]
    fn a_rows_field_texts_stay_small() {
        assert!(std::mem::size_of::<FieldTexts>() <= 32);
    }

    fn detail() -> RequestDetail {
        RequestDetail {
            failure_reason: Some("Quota exceeded for IAM roles".into()),
            target_account: Some("123456789012".into()),
            target_type: Some("AWS_ACCOUNT".into()),
            permission_set: Some("arn:aws:sso:::permissionSet/ssoins-1/ps-0123".into()),
            permission_set_name: Some("PowerUserAccess".into()),
            principal_type: Some("GROUP".into()),
            principal_id: Some("g-42".into()),
            principal_name: Some("payments-engineers".into()),
            account_name: Some("catalog-sandbox".into()),
        }
    }

    fn texts(detail: Option<&RequestDetail>) -> FieldTexts {
        FieldTexts::new(Values {
            id: "1f2e3d4c-aaaa",
            status: "FAILED",
            created: "2026-11-23 12:00:00",
            kind: "deletion",
            detail,
        })
    }

    fn verdict(filter: &str, detail: Option<&RequestDetail>) -> Verdict {
        match parse(filter) {
            Ok(f) => f.verdict(&texts(detail)),
            Err(e) => panic!("{filter}: {e}"),
        }
    }

    #[test]
    fn fields_match_names_and_ids() {
        let d = detail();
        for filter in [
            "account:catalog",
            "account:1234",
            "account:catalog-*",
            "account:\"catalog-sandbox\"",
            "ps:poweruser",
            "ps:ps-0123",
            "principal:payments",
            "principal:\"group payments-engineers\"",
            "principal:g-42",
            "status:failed",
            "kind:deletion",
            "reason:quota",
            "id:1f2e",
            "-status:succeeded",
            "-account:payments-*",
            "payments",
            "quota 1f2e kind:del",
        ] {
            assert_eq!(verdict(filter, Some(&d)), Verdict::Match, "{filter}");
        }
        for filter in [
            "account:payments",
            "account:payments-*",
            "account:\"catalog\"",
            "account:*prod",
            "ps:admin",
            "status:in_progress",
            "status:in-progress",
            "kind:creation",
            "-reason:quota",
            "id:ffff",
            "payments kind:creation",
            "zzz",
        ] {
            assert_eq!(verdict(filter, Some(&d)), Verdict::NoMatch, "{filter}");
        }
    }

    #[test]
    fn undescribed_requests_are_unknown_for_describe_fields_only() {
        assert_eq!(verdict("account:payments", None), Verdict::Unknown);
        assert_eq!(verdict("-account:payments", None), Verdict::Unknown);
        assert_eq!(verdict("payments", None), Verdict::Unknown);
        assert_eq!(verdict("1f2e", None), Verdict::Match);
        assert_eq!(verdict("status:failed", None), Verdict::Match);
        // A listed field that fails decides even when others cannot be told.
        assert_eq!(
            verdict("account:x status:succeeded", None),
            Verdict::NoMatch
        );
        assert_eq!(verdict("account:x status:failed", None), Verdict::Unknown);
    }

    #[test]
    fn parse_errors_and_edges() {
        assert!(parse("colour:red").is_err());
        // Times and ARNs are plain words.
        assert_eq!(verdict("12:00", Some(&detail())), Verdict::Match);
        assert_eq!(
            verdict("arn:aws:sso:::permissionSet/ssoins-1", Some(&detail())),
            Verdict::Match
        );
        assert!(parse("account:\"open").is_err());
        assert_eq!(parse("").map(|f| f.is_empty()), Ok(true));
        assert_eq!(parse("account: ").map(|f| f.is_empty()), Ok(true));
        // A lone `-` is a plain word.
        assert_eq!(verdict("-", Some(&detail())), Verdict::Match);
        assert!(parse("ps:PowerUser").is_ok_and(|f| f.needs_describe()));
        assert!(parse("status:failed id:1").is_ok_and(|f| !f.needs_describe()));
    }

    #[test]
    fn globs_are_anchored() {
        let g = |p: &str, v: &str| glob(&p.split('*').map(str::to_string).collect::<Vec<_>>(), v);
        assert!(g("payments-*", "payments-prod"));
        assert!(g("*-prod", "payments-prod"));
        assert!(g("p*s*d", "payments-prod"));
        assert!(g("*", "x"));
        assert!(!g("payments-*", "old-payments-prod"));
        assert!(!g("a*a", "a"));
    }
}
