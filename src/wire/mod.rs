//! Wire helpers shared by the clients in [`crate::provider`] and the servers in
//! [`crate::emulator`]: one percent-encoder and decoder, Huawei's request canonicalisation and
//! the Huawei per-kind names (paths, fields) and the operation names.
//!
//! Both sides use the very same functions on purpose: a client and a server that each had their
//! own copy of an encoding rule could drift apart and still pass their own tests. This module
//! depends on nothing above [`crate::model`] and [`crate::sanitize`].

pub mod huawei_api;
pub mod huawei_sign;
pub mod operations;
pub mod percent;
