//! Test-only harness for running hsmtls against real TLS peers.
//!
//! Interop tests live in `crates/hsmtls-interop/tests/*.rs`. They start
//! the `hsmtls` binary ([`hsmtls_bin`]) and real peers (OpenSSL, GnuTLS,
//! NSS, tlslite-ng) as child processes, feed them the test PKI under
//! `testdata/pki` ([`pki`]), and assert on what both sides print.
//!
//! Rules this crate enforces so that the suite can never hang or leak:
//!
//! * every wait has a timeout ([`default_timeout`], 20 s, scaled by the
//!   environment variable `HSMTLS_TIMEOUT_SCALE`);
//! * every child runs in its own process group, which is killed when its
//!   [`Peer`] is dropped; processes made by [`peer_command`] also carry a
//!   hard lifetime cap (`timeout(1)`), so even a test process killed with
//!   SIGKILL leaves nothing running for long;
//! * peers that can only listen on all addresses (`gnutls-serv`, NSS
//!   `selfserv`) run only in a private network namespace with nothing but
//!   loopback, together with their client: see [`Netns`]. Everything else
//!   listens on `127.0.0.1` only.
//!
//! Tests that need a tool call [`require_tools`] first: outside CI a
//! missing tool skips the test with a message, under CI (`CI` set) it fails.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod netns;
mod nss;
mod paths;
mod process;
mod tools;

pub use netns::{ClientOutput, Netns, NetnsOutput};
pub use nss::NssDb;
pub use paths::{hsmtls_bin, hsmtls_token_module, pki, pki_file, repo_root, TempDir, PKI_KINDS};
pub use process::{
    free_port, openssl_s_client, openssl_s_server, peer_command, run, spawn_server, wait_listening,
    Peer, RunOutput,
};
pub use tools::{has_netns, has_tool, require_netns, require_tools, sh_join, sh_quote};

use std::time::Duration;

/// The default bound of every wait in this crate: 20 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// [`DEFAULT_TIMEOUT`] multiplied by `HSMTLS_TIMEOUT_SCALE` (an integer
/// 1..=20, default 1), for slow machines.
pub fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT * timeout_scale()
}

/// The factor from `HSMTLS_TIMEOUT_SCALE` (1..=20, default 1).
pub fn timeout_scale() -> u32 {
    std::env::var("HSMTLS_TIMEOUT_SCALE")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .map(|n| n.clamp(1, 20))
        .unwrap_or(1)
}
