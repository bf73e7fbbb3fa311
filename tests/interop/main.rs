//! Interop: the wire protocols as others speak them. The official AWS SDK (`aws_provider`) and
//! AWS CLI, Huawei's Python SDK and ssowatch's Huawei provider, and raw HTTP, all against the
//! emulator on loopback. The AWS CLI and Huawei's SDK (installed by `.ci/run` from
//! `requirements.txt` and `huawei-requirements.txt` here) follow `support::required_tool`.
//! `cargo test --test interop`.

#[path = "../support/mod.rs"]
mod support;

mod aws_cli_interop;
mod aws_provider;
mod emulator_wire;
mod huawei_provider;
mod huawei_sdk_interop;
mod huawei_wire_protocol;
