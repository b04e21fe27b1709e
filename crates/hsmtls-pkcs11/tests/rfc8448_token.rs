//! RFC 8448 §3 ("Simple 1-RTT Handshake"), §4 ("Resumed 0-RTT
//! Handshake") and §5 ("HelloRetryRequest") replayed on hsmtls-token in
//! strict mode: the same server replays as
//! `crates/hsmtls/tests/rfc8448.rs` on the software store (the vectors and
//! the replays are shared, see `crates/hsmtls/tests/shared/`), with the
//! trace's x25519 (§3) or P-256 (§5) private key imported into the token
//! as a sensitive,
//! non-extractable session object (`Pkcs11Store::import_key_share`,
//! known-answer tests only). The token runs the whole TLS 1.3 key
//! schedule (`CKM_HKDF_DERIVE`, `CKM_HKDF_DATA` for the IVs), the Finished
//! MACs (`C_Sign` HMAC) and the record protection (`C_Encrypt` /
//! `C_Decrypt` AES-GCM); the ServerHello, the protected
//! EncryptedExtensions..Finished record, the application data and
//! close_notify records it produces equal the trace's byte for byte, and
//! it accepts the trace's client Finished, application data and
//! close_notify. For §4 the trace's PSK is imported into the token too
//! (`Pkcs11Store::import_secret`, known-answer tests only): the binder,
//! the early traffic key that opens the trace's 0-RTT data and the rest of
//! the schedule are the token's. For §5 the retry transcript (message_hash
//! of the first ClientHello) runs through the token's digest and key
//! schedule.

mod common;
#[path = "../../hsmtls/tests/shared/rfc8448_resumed.rs"]
mod resumed;
#[path = "../../hsmtls/tests/shared/rfc8448_retry.rs"]
mod retry;
#[path = "../../hsmtls/tests/shared/rfc8448_simple.rs"]
mod simple;

use std::sync::Arc;

use hsmtls_keys::{KeyExchangeGroup, KeyShare, KeyStore, PrivateKey, SecretUsage};
use hsmtls_pkcs11::Pkcs11Store;
use simple::{replay_simple_1rtt_server, trace_server, unhex, Tickets, SERVER_X25519_PRIVATE};

/// The tests count the token's session objects, which every session of
/// this process sees: one test at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The test PKI's RSA-2048 server key in the token (paired with the
/// trace's certificate; never signs, see the shared replay).
fn rsa_key(store: &Pkcs11Store) -> PrivateKey {
    let rsa = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/pki/rsa2048/server.key"),
    )
    .expect("RSA key");
    store
        .import_private_key(&rsa, "rfc8448-server", b"\x84\x48")
        .expect("RSA key into the token")
}

/// Runs `replay` on a strictly opened hsmtls-token (one test at a time)
/// with the trace's server key share (`group`, `private`) and the RSA
/// key imported, and checks that it leaves no session object behind.
fn on_strict_token(
    group: KeyExchangeGroup,
    private: &str,
    replay: impl FnOnce(&Arc<Pkcs11Store>, (KeyShare, Vec<u8>), PrivateKey),
) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let store =
        Arc::new(Pkcs11Store::open(&common::hsmtls_token()).expect("open hsmtls-token strictly"));
    assert!(store.relaxations().is_empty(), "strict: nothing relaxed");
    let baseline = store.session_object_count().expect("object count");
    {
        let share = store
            .import_key_share(group, &unhex(private))
            .expect("the trace's key share into the token");
        let key = rsa_key(&store);
        replay(&store, share, key);
    }
    assert_eq!(
        store.session_object_count().expect("object count"),
        baseline,
        "session objects left behind in the token"
    );
}

#[test]
fn simple_1rtt_server_on_hsmtls_token() {
    on_strict_token(
        KeyExchangeGroup::X25519,
        SERVER_X25519_PRIVATE,
        |store, share, key| {
            let inner: Arc<dyn KeyStore> = store.clone();
            replay_simple_1rtt_server(trace_server(inner, share, key, Tickets::Placeholder));
        },
    );
}

#[test]
fn hello_retry_server_on_hsmtls_token() {
    on_strict_token(
        KeyExchangeGroup::Secp256r1,
        retry::SERVER_P256_PRIVATE,
        |store, share, key| {
            let inner: Arc<dyn KeyStore> = store.clone();
            retry::replay_hello_retry_server(retry::retry_trace_server(
                inner,
                share,
                key,
                Tickets::Placeholder,
            ));
        },
    );
}

#[test]
fn resumed_0rtt_server_on_hsmtls_token() {
    on_strict_token(
        KeyExchangeGroup::X25519,
        resumed::SERVER_X25519_PRIVATE,
        |store, share, key| {
            let psk = store
                .import_secret(SecretUsage::Tls13, &unhex(resumed::PSK))
                .expect("the trace's PSK into the token");
            let inner: Arc<dyn KeyStore> = store.clone();
            resumed::replay_resumed_0rtt_server(resumed::resumed_trace_server(
                inner,
                share,
                psk,
                key,
                Tickets::Placeholder,
            ));
        },
    );
}
