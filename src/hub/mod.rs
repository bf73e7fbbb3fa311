//! The hub: `ssowatch serve` shares its one poller with any number of dashboards and scripts
//! (`ssowatch --hub URL`, `list --hub`, ...). The wire format is the poller's own
//! [`Event`]: a snapshot is the list of events that rebuilds the hub's state, then the stream
//! carries the events as they happen, so a client feeds both to its own `app::update` and
//! every view works as on a direct connection. See `docs/hub.md`.

pub mod client;
pub mod known;
pub mod provider;
pub mod server;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::app::Effect;
use crate::model::{Instance, OperationKind};
use crate::poller::{DescribeRequest, Event, SpendReport};
use crate::provider::ProviderInfo;

/// The version of the hub protocol: the paths (`/v1/...`) and the JSON of [`Snapshot`],
/// [`Event`] and [`Command`]. A client checks it before reading anything else.
pub const VERSION: u32 = 1;

/// The environment variable a client reads its token from (never a flag: flags show in `ps`).
pub const TOKEN_ENV: &str = "SSOWATCH_HUB_TOKEN";

/// Reads JSON into a type that holds events. An [`Event`] keeps operation names as
/// `&'static str`, so it deserializes from an owned JSON value, not from borrowed text.
pub fn decode<T: Deserialize<'static>>(text: &str) -> serde_json::Result<T> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    T::deserialize(value)
}

/// `GET /v1/snapshot`, and the first message (and every resync) of `GET /v1/stream`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(deserialize = "'de: 'static"))]
pub struct Snapshot {
    pub version: u32,
    /// The hub's ssowatch version, for the operator.
    pub ssowatch: String,
    pub provider: ProviderInfo,
    pub instance: Instance,
    pub demo: bool,
    pub refresh_seconds: f64,
    /// Per kind: how many requests the hub knows, by status.
    pub totals: Vec<KindTotals>,
    pub health: Health,
    pub spend: SpendReport,
    /// The events that rebuild the hub's state: every described request, every other
    /// request's summary, the names, the load progress, the last list success per kind, the
    /// last spend report.
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindTotals {
    pub kind: OperationKind,
    pub total: u64,
    pub in_progress: u64,
    pub failed: u64,
    pub succeeded: u64,
    /// FAILED requests whose reason the hub has read.
    pub failed_with_reason: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub last_success: Option<chrono::DateTime<chrono::Utc>>,
    pub poller_stopped: Option<String>,
    /// Whether the first FAILED listing and history load of every kind are done.
    pub loaded: bool,
}

/// `POST /v1/command`: what a client's operator asked the poller for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Command {
    Describe(DescribeRequest),
    DescribeOnScreen(Vec<DescribeRequest>),
    ReadReasons(Option<Vec<DescribeRequest>>),
    SetBudget(Option<f64>),
    RefreshNow,
}

impl Command {
    /// The command for an effect a client's update returned, if it is one for the poller.
    pub fn of(effect: Effect) -> Option<Command> {
        Some(match effect {
            Effect::Describe(r) => Command::Describe(r),
            Effect::DescribeOnScreen(r) => Command::DescribeOnScreen(r),
            Effect::ReadReasons(r) => Command::ReadReasons(r),
            Effect::SetBudget(b) => Command::SetBudget(b),
            Effect::RefreshNow => Command::RefreshNow,
            Effect::Copy(_) | Effect::Quit | Effect::SaveColumns(_) => return None,
        })
    }

    pub fn into_effect(self) -> Effect {
        match self {
            Command::Describe(r) => Effect::Describe(r),
            Command::DescribeOnScreen(r) => Effect::DescribeOnScreen(r),
            Command::ReadReasons(r) => Effect::ReadReasons(r),
            Command::SetBudget(b) => Effect::SetBudget(b),
            Command::RefreshNow => Effect::RefreshNow,
        }
    }
}

/// A bearer token, compared in constant time. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    /// The token in a file (its first line, trimmed). The error names the file, never the
    /// content.
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Token> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the token file {}: {e}", path.display()))?;
        Token::parse(&text).ok_or_else(|| {
            anyhow::anyhow!(
                "the token file {} is empty (put the token on its first line)",
                path.display()
            )
        })
    }

    /// A token from text: its first line, trimmed; `None` when that is empty.
    pub fn parse(text: &str) -> Option<Token> {
        let line = text.lines().next().unwrap_or("").trim();
        (!line.is_empty()).then(|| Token(line.to_string()))
    }

    /// The client's token: the file if given, else `SSOWATCH_HUB_TOKEN`, else none.
    pub fn for_client(file: Option<&std::path::Path>) -> anyhow::Result<Option<Token>> {
        match file {
            Some(path) => Token::from_file(path).map(Some),
            None => Ok(std::env::var(TOKEN_ENV).ok().and_then(|t| Token::parse(&t))),
        }
    }

    /// Whether an `Authorization` header value carries this token, in time independent of
    /// where they differ.
    pub fn accepts(&self, authorization: Option<&[u8]>) -> bool {
        let Some(given) = authorization.and_then(|v| v.strip_prefix(b"Bearer ")) else {
            return false;
        };
        bool::from(given.ct_eq(self.0.as_bytes()))
    }

    /// The `Authorization` header value.
    pub fn header(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_read_from_its_first_line_and_never_shown() {
        let token = Token::parse("  s3cret \nsecond line").expect("a token");
        assert!(token.accepts(Some(b"Bearer s3cret")));
        assert!(!token.accepts(Some(b"Bearer s3cre")));
        assert!(!token.accepts(Some(b"Bearer s3crett")));
        assert!(!token.accepts(Some(b"s3cret")));
        assert!(!token.accepts(None));
        assert!(!format!("{token:?}").contains("s3cret"));
        assert!(Token::parse(" \n").is_none());
    }

    #[test]
    fn events_and_commands_survive_the_wire() {
        let events = vec![
            Event::Cached(vec![]),
            Event::CallCompleted {
                operation: "ListAccountAssignmentCreationStatus",
                outcome: crate::poller::CallOutcome::Ok,
            },
            Event::CallCompleted {
                operation: "NotAnOperation",
                outcome: crate::poller::CallOutcome::Error,
            },
        ];
        let text = serde_json::to_string(&events).expect("serializes");
        let back: Vec<Event> = decode(&text).expect("parses");
        assert!(matches!(back[0], Event::Cached(ref v) if v.is_empty()));
        assert!(matches!(
            back[1],
            Event::CallCompleted {
                operation: "ListAccountAssignmentCreationStatus",
                ..
            }
        ));
        assert!(matches!(
            back[2],
            Event::CallCompleted {
                operation: "other",
                ..
            }
        ));
        let command = Command::SetBudget(Some(5.0));
        let text = serde_json::to_string(&command).expect("serializes");
        assert_eq!(serde_json::from_str::<Command>(&text).ok(), Some(command));
    }
}
