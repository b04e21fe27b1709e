//! hsmtls: a sans-IO TLS 1.2 and 1.3 engine whose protocol code never
//! holds a secret.
//!
//! Every secret of a connection — the ephemeral ECDH key, the pre-master
//! and master secrets, every stage of the TLS 1.3 key schedule, the traffic
//! keys, the long-term private keys — is an opaque handle in a
//! [`KeyStore`](hsmtls_keys::KeyStore): in process (`hsmtls-soft`) or in a
//! PKCS#11 token. This crate depends on no cryptographic implementation;
//! transcript hashing and signature checks are reached through the store
//! too.
//!
//! TLS 1.3 0-RTT is off by default on both sides:
//! [`ServerConfigBuilder::max_early_data_size`] (with real anti-replay,
//! [`ServerConfigBuilder::early_data_anti_replay`]) and
//! [`ClientConfigBuilder::early_data`]; a server reads accepted early data
//! with [`Connection::take_early_data`], apart from the rest, because it can
//! be replayed.
//!
//! ```no_run
//! use std::sync::Arc;
//! # fn demo(store: Arc<dyn hsmtls_keys::KeyStore>, ca: Vec<u8>, sock: std::net::TcpStream) -> Result<(), Box<dyn std::error::Error>> {
//! let config = hsmtls::ClientConfig::builder(store)
//!     .root_certificates(vec![ca])
//!     .build()?;
//! let conn = hsmtls::Connection::client(Arc::new(config), "localhost")?;
//! let mut tls = hsmtls::Stream::new(conn, sock);
//! use std::io::Write;
//! tls.write_all(b"hello")?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod config;
mod conn;
mod early_data;
mod error;
pub mod extensions;
pub mod hooks;
pub mod msgs;
pub mod profiles;
mod record;
mod server;
mod session;
mod stream;
pub mod suites;
mod tls12;
mod tls13;
mod transcript;
mod verify;

pub use config::{
    CertifiedKey, ClientAuth, ClientConfig, ClientConfigBuilder, ServerConfig, ServerConfigBuilder,
};
pub use conn::{Connection, Negotiated, PlaintextReader, PlaintextWriter, Side};
pub use error::{Error, MessageKind};
pub use hsmtls_keys as keys;
pub use session::{ClientSessionCache, ServerSessionCache, TicketState};
pub use stream::Stream;
