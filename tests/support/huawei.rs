//! Shared by the Huawei protocol tests: a small fixed organization behind the emulator's
//! Huawei protocol, served on an ephemeral loopback port.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use ssowatch::emulator::faults::{Admission, Fault};
use ssowatch::emulator::http::huawei_routes;
use ssowatch::emulator::huawei_wire::{
    HuaweiBackend, HuaweiProtocol, RecordPage, WireInstance, WirePermissionSet,
};
use ssowatch::emulator::paging;
use ssowatch::model::{OperationKind, RequestDetail, Status, StatusSummary};
use ssowatch::provider::huawei::HuaweiProvider;
use ssowatch::provider::huawei_credentials::HuaweiCredentials;

pub const AK: &str = "HPUATESTAK0000000001";
pub const SK: &str = "test-secret-key-for-the-protocol-tests0";
pub const INSTANCE: &str = "ins-0123456789abcdef";
pub const PER_KIND: u32 = 350;

pub struct Fixed {
    pub records: Vec<StatusSummary>,
}

pub fn status_of(i: u32) -> Status {
    match i % 3 {
        0 => Status::Succeeded,
        1 => Status::Failed,
        _ => Status::InProgress,
    }
}

pub fn created_of(i: u32) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_700_000_000_000 + i64::from(i) * 1_001)
        .single()
        .unwrap_or_default()
}

impl HuaweiBackend for Fixed {
    fn instances(&self) -> Vec<WireInstance> {
        vec![WireInstance {
            instance_id: INSTANCE.into(),
            identity_store_id: "d-0123456789".into(),
            alias: Some("demo".into()),
            instance_urn: format!("IdentityCenter::0:instance:{INSTANCE}"),
        }]
    }

    fn list(
        &self,
        instance: &str,
        kind: OperationKind,
        filter: Option<&Status>,
        from: usize,
        limit: usize,
    ) -> Option<RecordPage> {
        (instance == INSTANCE).then(|| {
            let of_kind = &self.records[kind.index() * PER_KIND as usize..][..PER_KIND as usize];
            let (items, next) = paging::page(of_kind, from, limit, |r| {
                filter.is_none_or(|f| &r.status == f)
            });
            RecordPage {
                items: items.into_iter().cloned().collect(),
                next,
            }
        })
    }

    fn describe(
        &self,
        instance: &str,
        kind: OperationKind,
        request_id: &str,
    ) -> Option<Option<(StatusSummary, RequestDetail)>> {
        (instance == INSTANCE).then(|| {
            self.records
                .iter()
                .find(|r| r.kind == kind && r.request_id == request_id)
                .map(|r| {
                    let detail = RequestDetail {
                        failure_reason: (r.status == Status::Failed)
                            .then(|| "Received a 404 status error: \u{1b}[31mno such group".into()),
                        target_account: Some("0a1b2c3d4e5f".into()),
                        target_type: Some("ACCOUNT".into()),
                        permission_set: Some("ps-1".into()),
                        permission_set_name: None,
                        principal_name: None,
                        account_name: None,
                        principal_type: Some("GROUP".into()),
                        principal_id: Some("g-1".into()),
                    };
                    (r.clone(), detail)
                })
        })
    }

    fn permission_set(
        &self,
        instance: &str,
        permission_set: &str,
    ) -> Option<Option<WirePermissionSet>> {
        (instance == INSTANCE).then(|| {
            (permission_set == "ps-1").then(|| WirePermissionSet {
                permission_set_id: "ps-1".into(),
                name: "AdministratorAccess".into(),
                description: None,
                created: created_of(0),
                session_duration: "PT8H".into(),
            })
        })
    }
}

pub struct Server {
    pub url: String,
    /// Requests still to be answered with a throttling error.
    pub throttle_next: Arc<Mutex<u32>>,
    /// Operation names seen by the fault/stats hook.
    pub seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve() -> Server {
    let mut records = Vec::new();
    for kind in OperationKind::ALL {
        for i in 0..PER_KIND {
            records.push(StatusSummary {
                kind,
                request_id: format!("{}-{i:04}", kind.short()),
                status: status_of(i),
                created: created_of(i),
            });
        }
    }
    let backend = Arc::new(Fixed { records });
    let protocol = Arc::new(HuaweiProtocol::new(AK, SK, 42));
    let throttle_next = Arc::new(Mutex::new(0u32));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (t, s) = (throttle_next.clone(), seen.clone());
    let app: axum::Router = huawei_routes(
        protocol,
        backend,
        Arc::new(move |op: &str, _describe_id: Option<&str>| {
            s.lock().map(|mut v| v.push(op.to_string())).ok();
            let mut n = t.lock().unwrap_or_else(|p| p.into_inner());
            if *n > 0 {
                *n -= 1;
                Admission::Inject(Fault::Throttle)
            } else {
                Admission::Serve
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        url: format!("http://{addr}"),
        throttle_next,
        seen,
        task,
    }
}

pub fn provider(url: &str, sk: &str) -> HuaweiProvider {
    HuaweiProvider::new(
        url,
        HuaweiCredentials::new(AK, sk).with_domain_id(Some("0123456789abcdef".into())),
    )
    .expect("provider")
}

/// Sends one GET signed like the provider signs it (`sign_get`), returning the raw answer so a
/// test sees exactly what the wire carried.
pub async fn signed_get(
    base_url: &str,
    credentials: &HuaweiCredentials,
    segments: &[&str],
    query: &[(&str, String)],
) -> reqwest::Response {
    let endpoint = reqwest::Url::parse(base_url).expect("base URL");
    let get = ssowatch::provider::huawei_sign::sign_get(
        &endpoint,
        segments,
        query,
        credentials,
        Utc::now(),
    );
    let mut request = reqwest::Client::new().get(&get.url);
    for (name, value) in &get.headers {
        request = request.header(*name, value);
    }
    request.send().await.expect("loopback request")
}
