//! Interop tests of hsmtls against real TLS peers: OpenSSL, GnuTLS and NSS.
//!
//! One test binary, so that all tests share the test threads (each test
//! owns its servers; peers that listen on all addresses run in a private
//! network namespace, see [`hsmtls_interop::Netns`]).

mod common;
mod gnutls;
mod nss;
mod openssl;
mod tls13;
mod token;
