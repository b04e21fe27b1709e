//! Configuration presets.
//!
//! # TR-03109 (smart-meter gateway)
//!
//! BSI TR-03109-1 with the TLS rules of BSI TR-03116-3 (the usual reading
//! for gateway connections): TLS 1.2 only; ECDHE-ECDSA with AES-128/256 in
//! CBC (SHA-256/384) or GCM; brainpoolP256r1/384r1/512r1 and
//! secp256r1/384r1; ECDSA signatures with SHA-256/384/512; the extended
//! master secret (RFC 7627) and encrypt-then-MAC (RFC 7366) required;
//! mutual authentication required.
//!
//! [`tr03109_client`] and [`tr03109_server`] return builders with all of
//! that set, so the application adds only what is its own (session
//! caches, hooks, ALPN) and calls `build()`:
//!
//! ```ignore
//! let config = hsmtls::profiles::tr03109_client(store, vec![ca_der], gateway_key)?
//!     .build()?;
//! ```

use hsmtls_keys::KeyStore;
use std::sync::Arc;

use crate::config::{
    CertifiedKey, ClientAuth, ClientConfig, ClientConfigBuilder, ServerConfig, ServerConfigBuilder,
};
use crate::error::Error;
use crate::msgs::enums::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};

/// TR-03109's cipher suites, in order of preference.
pub const TR03109_SUITES: [CipherSuite; 4] = [
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
];

/// TR-03109's key-exchange groups, in order of preference.
pub const TR03109_GROUPS: [NamedGroup; 5] = [
    NamedGroup::brainpoolP256r1,
    NamedGroup::brainpoolP384r1,
    NamedGroup::brainpoolP512r1,
    NamedGroup::secp256r1,
    NamedGroup::secp384r1,
];

/// TR-03109's signature schemes: in TLS 1.2 these code points mean ECDSA
/// with SHA-256/384/512 on any curve (RFC 8422 §5.1.3), brainpool included.
pub const TR03109_SIGNATURE_SCHEMES: [SignatureScheme; 3] = [
    SignatureScheme::ecdsa_secp256r1_sha256,
    SignatureScheme::ecdsa_secp384r1_sha384,
    SignatureScheme::ecdsa_secp521r1_sha512,
];

/// A TR-03109 client: trusts `roots`, authenticates with `certificate`
/// (the gateway's key and chain).
pub fn tr03109_client(
    store: Arc<dyn KeyStore>,
    roots: Vec<Vec<u8>>,
    certificate: CertifiedKey,
) -> Result<ClientConfigBuilder, Error> {
    Ok(ClientConfig::builder(store)
        .versions(&[ProtocolVersion::TLSv1_2])?
        .cipher_suites(&TR03109_SUITES)?
        .groups(&TR03109_GROUPS)?
        .signature_schemes(&TR03109_SIGNATURE_SCHEMES)
        .require_extended_master_secret(true)
        .require_encrypt_then_mac(true)
        .root_certificates(roots)
        .client_certificate(certificate))
}

/// A TR-03109 server: authenticates with `certificate` and requires a
/// client certificate that chains to `client_roots`.
pub fn tr03109_server(
    store: Arc<dyn KeyStore>,
    certificate: CertifiedKey,
    client_roots: Vec<Vec<u8>>,
) -> Result<ServerConfigBuilder, Error> {
    Ok(ServerConfig::builder(store)
        .versions(&[ProtocolVersion::TLSv1_2])?
        .cipher_suites(&TR03109_SUITES)?
        .groups(&TR03109_GROUPS)?
        .signature_schemes(&TR03109_SIGNATURE_SCHEMES)
        .require_extended_master_secret(true)
        .require_encrypt_then_mac(true)
        .certificate(certificate)
        .client_auth(ClientAuth::Require, client_roots))
}
