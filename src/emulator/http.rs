//! The emulator's HTTP glue, written once for both protocols: the one conversion from a
//! protocol's [`WireResponse`] to an HTTP answer, the router (AWS JSON 1.1 on `POST /`, Huawei
//! REST under `/v1/`), and the control endpoints `GET /_emulator/stats` and
//! `GET|POST /_emulator/faults`.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::serve::IncomingStream;
use chrono::Utc;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::aws_wire;
use super::faults::{self, Admission, Fault, Faults};
use super::huawei_verify::ReceivedRequest;
use super::huawei_wire::{HuaweiBackend, HuaweiProtocol};
use super::service::{EmulatorCore, Protocol};

/// One answer as a protocol builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How the answer leaves: whole, or broken on purpose by a fault.
    pub delivery: Delivery,
    /// Wait this long before answering (the `hang` fault).
    pub delay: Option<std::time::Duration>,
}

/// How an answer is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Whole,
    /// Only this many bytes of the body, then the connection closes (`truncated`);
    /// `Content-Length` still announces the whole body.
    CutAfter(usize),
    /// Nothing at all: the connection closes, with a TCP reset where the connection allows it
    /// (`reset`, see [`respond_on`]).
    Reset,
}

impl WireResponse {
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        WireResponse {
            status,
            headers: vec![("Content-Type".to_string(), content_type.to_string())],
            body,
            delivery: Delivery::Whole,
            delay: None,
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The real answer under a fault that alters it (see [`Fault::alters_answer`]): records
    /// edited, tokens already chosen by the protocol, the delivery broken or delayed. Other
    /// admissions leave it as it is. A protocol calls this on every answer it serves.
    pub fn under(mut self, admission: Admission) -> Self {
        let Admission::Inject(fault) = admission else {
            return self;
        };
        match fault {
            Fault::Truncated => self.delivery = Delivery::CutAfter(self.body.len() / 2),
            Fault::TruncatedJson => self.body.truncate(faults::mid_string_cut(&self.body)),
            Fault::Reset => self.delivery = Delivery::Reset,
            Fault::Hang => self.delay = Some(faults::HANG),
            Fault::Slow => self.delay = Some(faults::SLOW),
            _ if self.status == 200 && fault.edits_records() => {
                if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&self.body) {
                    faults::alter_json(fault, &mut value);
                    self.body = value.to_string().into_bytes();
                }
            }
            _ => {}
        }
        self
    }

    /// What a load balancer in front of a service answers while the service is down: a 503
    /// with an HTML page (the `unavailable` fault, on both protocols).
    pub fn unavailable() -> Self {
        WireResponse::new(
            503,
            "text/html",
            b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n\
<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n"
                .to_vec(),
        )
    }
}

impl WireResponse {
    /// What some web server that is not the API answers (the `not-the-api` fault, on both
    /// protocols): a 404 with an HTML page.
    pub fn not_the_api() -> Self {
        WireResponse::new(
            404,
            "text/html; charset=iso-8859-1",
            b"<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n\
</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n"
                .to_vec(),
        )
    }
}

/// The emulator's listener: every connection it accepts can be made to end with a TCP reset
/// (RST) instead of an orderly close, which is what the `reset` fault sends.
#[derive(Debug)]
pub struct ResettableListener(pub TcpListener);

/// One accepted connection; see [`ResettableListener`].
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

/// Who sent a request (the connect info of the emulator's router), and the switch that makes
/// its connection end with a reset once the answer is abandoned.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    reset: Arc<AtomicBool>,
}

impl axum::serve::Listener for ResettableListener {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Connection, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    let reset = Arc::new(AtomicBool::new(false));
                    return (Connection { stream, reset }, addr);
                }
                // Out of descriptors or a connection that died in the queue: try again soon.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl Connected<IncomingStream<'_, ResettableListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, ResettableListener>) -> Self {
        Peer {
            addr: *stream.remote_addr(),
            reset: stream.io().reset.clone(),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            // A zero linger makes the close below send RST and drop anything unsent; it
            // cannot block, since nothing is waited for.
            #[allow(deprecated)]
            let _ = self.stream.set_linger(Some(std::time::Duration::ZERO));
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Sends a [`WireResponse`] on the connection `extensions` name: a `reset` answer resets it
/// (when the request came through a [`ResettableListener`]; otherwise it just closes).
pub async fn respond_on(wire: WireResponse, extensions: &Extensions) -> Response {
    if wire.delivery == Delivery::Reset
        && let Some(ConnectInfo(peer)) = extensions.get::<ConnectInfo<Peer>>()
    {
        peer.reset.store(true, Ordering::SeqCst);
    }
    respond(wire).await
}

/// Sends a [`WireResponse`]: waits out its delay, then turns it into an axum response.
pub async fn respond(wire: WireResponse) -> Response {
    if let Some(delay) = wire.delay {
        tokio::time::sleep(delay).await;
    }
    let WireResponse {
        status,
        headers,
        body,
        delivery,
        delay: _,
    } = wire;
    let full_length = body.len();
    let mut out = match delivery {
        Delivery::Whole => Response::new(Body::from(body)),
        Delivery::CutAfter(cut) => {
            let head = Bytes::from(body).slice(..cut.min(full_length));
            let mut response = Response::new(broken_body(Some(head)));
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full_length));
            response
        }
        Delivery::Reset => Response::new(broken_body(None)),
    };
    *out.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            out.headers_mut().insert(n, v);
        }
    }
    out
}

/// A body that fails, so hyper closes the connection. With a `head`, that head is sent first
/// and flushed (the pause lets hyper write it) before the failure: the client sees the answer
/// start and the connection drop mid-body. Without one, the failure comes before anything is
/// written and the client gets no answer at all.
fn broken_body(head: Option<Bytes>) -> Body {
    let failure = || std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "injected fault");
    let chunks = futures_util::stream::unfold(Some(head), move |state| async move {
        match state {
            Some(Some(head)) => Some((Ok(head), None)),
            Some(None) => Some((Err(failure()), None)),
            None => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Some((Err::<Bytes, _>(failure()), None))
            }
        }
    });
    Body::from_stream(chunks)
}

/// Decides, for one routed and authenticated Huawei request, whether to serve it or inject a
/// fault; also where requests are counted. Called with the operation name and, for a
/// describe, the request id.
pub type AdmitFn = dyn Fn(&str, Option<&str>) -> Admission + Send + Sync;

/// The Huawei REST routes over any backend, ready to be merged into a router of any state:
/// everything under `/v1/`, any method, so that unknown paths and methods get the gateway's
/// own 404 rather than the AWS side's. Collects the raw method, path, query and headers (the
/// signature covers them as sent, so nothing may be normalized first).
pub fn huawei_routes<S>(
    protocol: Arc<HuaweiProtocol>,
    backend: Arc<dyn HuaweiBackend + Send + Sync>,
    admit: Arc<AdmitFn>,
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(
        "/v1/{*rest}",
        any(
            move |method: Method,
                  uri: Uri,
                  headers: HeaderMap,
                  extensions: Extensions,
                  body: Bytes| {
                let (protocol, backend, admit) = (protocol.clone(), backend.clone(), admit.clone());
                async move {
                    let pairs: Vec<(&str, &str)> = headers
                        .iter()
                        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
                        .collect();
                    let req = ReceivedRequest {
                        method: method.as_str(),
                        raw_path: uri.path(),
                        raw_query: uri.query(),
                        headers: &pairs,
                        body: &body,
                    };
                    let answer =
                        protocol.handle(&*backend, &req, Utc::now(), |op, id| admit(op, id));
                    respond_on(answer, &extensions).await
                }
            },
        ),
    )
}

/// The whole emulator: both protocols and the control endpoints over `core`.
pub fn router(core: Arc<EmulatorCore>) -> Router {
    let backend: Arc<dyn HuaweiBackend + Send + Sync> = core.clone();
    let admit_core = core.clone();
    let admit: Arc<AdmitFn> = Arc::new(move |op: &str, describe_id: Option<&str>| {
        admit_core.admit(Protocol::Huawei, op, describe_id)
    });
    let huawei = huawei_routes(Arc::new(core.huawei.clone()), backend, admit);
    Router::new()
        .route("/", post(aws_handler))
        .route("/_emulator/stats", get(stats_handler))
        .route(
            "/_emulator/faults",
            get(get_faults_handler).post(set_faults_handler),
        )
        .with_state(core)
        .merge(huawei)
}

async fn aws_handler(
    State(core): State<Arc<EmulatorCore>>,
    headers: HeaderMap,
    extensions: Extensions,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(authorization) = header("authorization") {
        core.record_signature(authorization);
    }
    let answer = aws_wire::handle(
        &core,
        header("x-amz-target"),
        header("authorization"),
        &body,
    );
    respond_on(answer, &extensions).await
}

async fn stats_handler(State(core): State<Arc<EmulatorCore>>) -> Response {
    axum::Json(core.stats()).into_response()
}

async fn get_faults_handler(State(core): State<Arc<EmulatorCore>>) -> Response {
    axum::Json(core.faults()).into_response()
}

/// `POST /_emulator/faults`: replaces the whole fault set with the JSON body (`{}` clears it)
/// and answers the new set. Only from loopback: the server binds to loopback anyway, and this
/// keeps it so should that ever change.
async fn set_faults_handler(
    State(core): State<Arc<EmulatorCore>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    body: Bytes,
) -> Response {
    if !peer.addr.ip().is_loopback() {
        return control_error(
            StatusCode::FORBIDDEN,
            "faults can only be set from loopback",
        );
    }
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return control_error(StatusCode::BAD_REQUEST, &format!("bad faults JSON: {e}")),
    };
    if let Err(e) = faults.validate() {
        return control_error(StatusCode::BAD_REQUEST, &e);
    }
    core.set_faults(|current| *current = faults);
    axum::Json(core.faults()).into_response()
}

fn control_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}
