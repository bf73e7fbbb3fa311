//! The client's side: `ssowatch --hub URL` and the headless commands' `--hub`. It reads the
//! hub's stream (a snapshot, then events), keeps reading across hub restarts (backoff with
//! jitter, the last data kept meanwhile), and posts what the operator asks for.

use std::time::Duration;

use anyhow::Context;
use rand::Rng;
use tokio::sync::mpsc;

use super::server::{KEEP_ALIVE, VERSION_HEADER};
use super::{Command, Snapshot, Token, VERSION};
use crate::poller::Event;

/// Without a word from the hub (an event, or its keep-alive) for this long, the connection
/// is taken for dead and opened again.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(KEEP_ALIVE.as_secs() * 3);

/// Reconnection delays: doubling from the first to the last, each with up to half of it
/// added or taken at random, so clients of a restarted hub do not all return at once.
pub const FIRST_RETRY: Duration = Duration::from_millis(500);
pub const LAST_RETRY: Duration = Duration::from_secs(30);

/// What the stream brings the host.
#[derive(Debug)]
pub enum Update {
    /// The hub's whole state (at the start, after a reconnection, or when this client fell
    /// behind).
    Snapshot(Box<Snapshot>),
    Event(Box<Event>),
    /// The hub is unreachable: the host keeps its data, marks it stale, and waits.
    Down {
        error: String,
        retry_in: Duration,
    },
    /// The hub refuses this client for good (another version, a wrong token): one line.
    Fatal(String),
    /// A note for the status line (the hub did not take a command).
    Note(String),
}

/// Where a hub is and how to prove who we are.
#[derive(Debug, Clone)]
pub struct HubTarget {
    /// The base URL, e.g. `http://127.0.0.1:9464`.
    pub url: String,
    pub token: Option<Token>,
}

#[derive(Clone)]
pub struct HubClient {
    target: HubTarget,
    http: reqwest::Client,
}

/// An error that retrying does not cure (versus the network's, which it may).
#[derive(Debug)]
enum OpenError {
    Fatal(String),
    Retry(String),
}

/// An open stream: the response and the bytes read but not parsed yet.
pub struct Stream {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl HubClient {
    pub fn new(mut target: HubTarget) -> anyhow::Result<HubClient> {
        while target.url.ends_with('/') {
            target.url.pop();
        }
        if !(target.url.starts_with("http://") || target.url.starts_with("https://")) {
            anyhow::bail!(
                "--hub takes the hub's URL, e.g. http://127.0.0.1:9464 (got {})",
                target.url
            );
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(HubClient { target, http })
    }

    pub fn url(&self) -> &str {
        &self.target.url
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.authorized(self.http.get(format!("{}{path}", self.target.url)))
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let request = request.header(VERSION_HEADER, VERSION.to_string());
        match &self.target.token {
            Some(token) => request.header(reqwest::header::AUTHORIZATION, token.header()),
            None => request,
        }
    }

    /// The hub's state now (`GET /v1/snapshot`), for the one-shot commands.
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let response = self.get("/v1/snapshot").timeout(Duration::from_secs(60));
        let response = self
            .checked(response.send().await)
            .await
            .map_err(one_line)?;
        let text = response
            .text()
            .await
            .map_err(|e| anyhow::anyhow!("the hub at {} stopped answering: {e}", self.url()))?;
        self.parse_snapshot(&text).map_err(one_line)
    }

    /// Opens the stream and reads its first snapshot.
    pub async fn open(&self) -> anyhow::Result<(Snapshot, Stream)> {
        self.open_stream().await.map_err(one_line)
    }

    async fn open_stream(&self) -> Result<(Snapshot, Stream), OpenError> {
        let response = self.checked(self.get("/v1/stream").send().await).await?;
        let mut stream = Stream {
            response,
            buffer: Vec::new(),
        };
        loop {
            let (kind, data) = stream
                .next_message(SILENCE_LIMIT)
                .await
                .map_err(OpenError::Retry)?;
            if kind == "snapshot" {
                return Ok((self.parse_snapshot(&data)?, stream));
            }
        }
    }

    async fn checked(
        &self,
        sent: reqwest::Result<reqwest::Response>,
    ) -> Result<reqwest::Response, OpenError> {
        let url = self.url();
        let response = sent.map_err(|e| {
            OpenError::Retry(format!(
                "cannot reach the hub at {url}: {}",
                plain_error(&e)
            ))
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        let said = crate::sanitize::clean_text(body.lines().next().unwrap_or("").trim());
        Err(match status.as_u16() {
            401 | 403 => OpenError::Fatal(format!(
                "the hub at {url} refused the token: set {} or --hub-token-file to the content of the hub's --token-file",
                super::TOKEN_ENV
            )),
            404 => OpenError::Fatal(format!(
                "{url} has no hub protocol v{VERSION} (404): is it an `ssowatch serve` of the same version as this ssowatch ({})?",
                env!("CARGO_PKG_VERSION")
            )),
            409 => OpenError::Fatal(format!("the hub at {url} says: {said}")),
            _ => OpenError::Retry(format!("the hub at {url} answered {status}: {said}")),
        })
    }

    fn parse_snapshot(&self, text: &str) -> Result<Snapshot, OpenError> {
        let url = self.url();
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            OpenError::Retry(format!("the hub at {url} sent a broken snapshot: {e}"))
        })?;
        let version = value.get("version").and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(VERSION)) {
            let theirs = value
                .get("ssowatch")
                .and_then(serde_json::Value::as_str)
                .map(crate::sanitize::clean_text)
                .unwrap_or_else(|| "?".into());
            return Err(OpenError::Fatal(format!(
                "the hub at {url} speaks hub protocol v{} (ssowatch {theirs}), this ssowatch ({}) v{VERSION}: run the same version on both sides",
                version.map_or("?".to_string(), |v| v.to_string()),
                env!("CARGO_PKG_VERSION")
            )));
        }
        use serde::Deserialize;
        Snapshot::deserialize(value)
            .map_err(|e| OpenError::Retry(format!("the hub at {url} sent a broken snapshot: {e}")))
    }

    /// Posts a command; the error is one line for the status bar.
    pub async fn send(&self, command: &Command) -> Result<(), String> {
        let request = self
            .authorized(self.http.post(format!("{}/v1/command", self.target.url)))
            .timeout(Duration::from_secs(10))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_string(command).unwrap_or_default());
        match self.checked(request.send().await).await {
            Ok(_) => Ok(()),
            Err(OpenError::Fatal(e) | OpenError::Retry(e)) => Err(e),
        }
    }

    /// Keeps following the hub from an open stream, forever: events as they come, and on
    /// a broken connection `Down`, a wait with backoff and jitter, and a fresh snapshot.
    /// Ends when the host drops its receiver, or after a `Fatal`.
    pub fn follow(
        self,
        stream: Stream,
        updates: mpsc::Sender<Update>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut stream = Some(stream);
            let mut delay = FIRST_RETRY;
            loop {
                let error = match stream.take() {
                    Some(mut open) => {
                        delay = FIRST_RETRY;
                        match forward(&mut open, &updates).await {
                            Some(error) => error,
                            None => return,
                        }
                    }
                    None => match self.open_stream().await {
                        Ok((snapshot, open)) => {
                            if updates
                                .send(Update::Snapshot(Box::new(snapshot)))
                                .await
                                .is_err()
                            {
                                return;
                            }
                            stream = Some(open);
                            continue;
                        }
                        Err(OpenError::Fatal(line)) => {
                            let _ = updates.send(Update::Fatal(line)).await;
                            return;
                        }
                        Err(OpenError::Retry(error)) => error,
                    },
                };
                let wait = jittered(delay);
                tracing::info!(%error, ?wait, "hub connection lost; reconnecting");
                let down = Update::Down {
                    error,
                    retry_in: wait,
                };
                if updates.send(down).await.is_err() {
                    return;
                }
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(LAST_RETRY);
            }
        })
    }
}

/// Forwards a stream's messages until it breaks (the error) or the host is gone (`None`).
async fn forward(stream: &mut Stream, updates: &mpsc::Sender<Update>) -> Option<String> {
    loop {
        let (kind, data) = match stream.next_message(SILENCE_LIMIT).await {
            Ok(message) => message,
            Err(error) => return Some(error),
        };
        let update = match kind.as_str() {
            "event" => match super::decode::<Event>(&data) {
                Ok(event) => Update::Event(Box::new(event)),
                Err(error) => {
                    tracing::warn!(%error, "an event from the hub did not parse; skipped");
                    continue;
                }
            },
            "snapshot" => match super::decode::<Snapshot>(&data) {
                Ok(snapshot) => Update::Snapshot(Box::new(snapshot)),
                Err(error) => return Some(format!("the hub sent a broken snapshot: {error}")),
            },
            _ => continue,
        };
        if updates.send(update).await.is_err() {
            return None;
        }
    }
}

impl Stream {
    /// The next server-sent event (its `event` and `data`), or why there is none: the
    /// connection closed, broke, or stayed silent for `silence`.
    async fn next_message(&mut self, silence: Duration) -> Result<(String, String), String> {
        loop {
            if let Some(end) = find_blank_line(&self.buffer) {
                let block: Vec<u8> = self.buffer.drain(..end.1).collect();
                let text = String::from_utf8_lossy(&block[..end.0]);
                if let Some(message) = parse_block(&text) {
                    return Ok(message);
                }
                continue;
            }
            match tokio::time::timeout(silence, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.extend_from_slice(&bytes),
                Ok(Ok(None)) => return Err("the hub closed the connection".into()),
                Ok(Err(e)) => return Err(format!("the hub connection broke: {}", plain_error(&e))),
                Err(_) => {
                    return Err(format!("no word from the hub for {} s", silence.as_secs()));
                }
            }
        }
    }
}

/// Where the first blank line is: (end of the block, end of the separator).
fn find_blank_line(buffer: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i + 1 < buffer.len() {
        if buffer[i] == b'\n' && buffer[i + 1] == b'\n' {
            return Some((i, i + 2));
        }
        if i + 3 < buffer.len() && &buffer[i..i + 4] == b"\r\n\r\n" {
            return Some((i, i + 4));
        }
        i += 1;
    }
    None
}

/// An SSE block's event name and data; `None` for a comment (a keep-alive).
fn parse_block(block: &str) -> Option<(String, String)> {
    let mut kind = String::from("message");
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if let Some(value) = line.strip_prefix("event:") {
            kind = value.trim_start().to_string();
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    (!data.is_empty()).then(|| (kind, data.join("\n")))
}

fn jittered(delay: Duration) -> Duration {
    let factor = rand::rng().random_range(0.5..1.5);
    delay.mul_f64(factor)
}

/// reqwest's error with its causes, on one line.
fn plain_error(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    crate::sanitize::clean_text(&text)
}

fn one_line(error: OpenError) -> anyhow::Error {
    match error {
        OpenError::Fatal(line) | OpenError::Retry(line) => anyhow::anyhow!(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_blocks_parse_and_keep_alives_are_skipped() {
        assert_eq!(parse_block(":"), None);
        assert_eq!(
            parse_block("event: snapshot\ndata: {\"a\":1}"),
            Some(("snapshot".into(), "{\"a\":1}".into()))
        );
        assert_eq!(find_blank_line(b"data: x\n\nrest"), Some((7, 9)));
        assert_eq!(find_blank_line(b"data: x\n"), None);
    }

    #[test]
    fn a_hub_of_another_version_is_one_clear_line() {
        let client = HubClient::new(HubTarget {
            url: "http://127.0.0.1:9464/".into(),
            token: None,
        })
        .expect("client");
        assert_eq!(client.url(), "http://127.0.0.1:9464");
        let newer = r#"{"version": 2, "ssowatch": "0.2.0", "whatever": "changed"}"#;
        match client.parse_snapshot(newer) {
            Err(OpenError::Fatal(line)) => {
                assert!(!line.contains('\n'), "{line}");
                assert!(line.contains("v2 (ssowatch 0.2.0)"), "{line}");
                assert!(
                    line.contains("run the same version on both sides"),
                    "{line}"
                );
            }
            other => panic!("not fatal: {other:?}"),
        }
        assert!(matches!(
            client.parse_snapshot("{}"),
            Err(OpenError::Fatal(_))
        ));
        assert!(
            HubClient::new(HubTarget {
                url: "127.0.0.1:9464".into(),
                token: None
            })
            .is_err()
        );
    }

    #[test]
    fn backoff_jitter_stays_within_half_either_way() {
        for _ in 0..100 {
            let d = jittered(Duration::from_secs(2));
            assert!(
                d >= Duration::from_secs(1) && d <= Duration::from_secs(3),
                "{d:?}"
            );
        }
    }
}
