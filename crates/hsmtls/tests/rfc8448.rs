//! RFC 8448 ("Example Handshake Traces for TLS 1.3") §3, "Simple 1-RTT
//! Handshake", reproduced against hsmtls.
//!
//! `simple_1rtt_key_schedule`: the §3 key schedule through the key-store
//! operations the engine calls (`hkdf_extract`, `hkdf_expand_label`,
//! `hkdf_expand_label_data`) in the order `crates/hsmtls/src/tls13.rs`
//! calls them. Compared byte for byte: the traffic keys and IVs of the
//! handshake and application traffic secrets; each intermediate secret is
//! compared through an expansion under a label of ours (the store never
//! reveals a secret; the trace's value is imported, test-only). Inputs: the
//! x25519 shared secret and the transcript hashes the trace prints.
//!
//! `simple_1rtt_server`: an hsmtls server on the software store, given the
//! trace's inputs — its x25519 private key (`SoftStore::import_key_share`,
//! test-only), its ServerHello.random (`HandshakeHook::hello_random`), the
//! trace's certificate, and the two extensions the trace's server puts in
//! EncryptedExtensions that hsmtls does not send by itself
//! (`supported_groups`, `record_size_limit`, through
//! `HandshakeHook::encrypted_extensions`) — is fed the trace's ClientHello
//! record. Compared byte for byte with the trace:
//! - the ServerHello record (random, echoed empty session ID, suite,
//!   key_share with the trace's public key, supported_versions);
//! - the one protected record carrying EncryptedExtensions, Certificate,
//!   CertificateVerify and Finished (674 octets) — so every plaintext
//!   message, the server handshake traffic key and IV, and the server
//!   Finished over the trace's transcript;
//! - after the trace's client Finished record is accepted (client
//!   handshake key and the client Finished check): the server's
//!   application_data record (seq 1) echoing the trace's 50 bytes, and its
//!   close_notify record (seq 2), both under the server application key.
//!
//! Not reproduced, and why:
//! - The CertificateVerify signature is RSASSA-PSS, randomized (a fresh
//!   salt), so no implementation can recompute it: the store returns the
//!   trace's signature — after checking that the engine asked it to sign
//!   exactly the trace's CertificateVerify input (64 spaces, the context
//!   string, and the transcript hash through the trace's Certificate). The
//!   trace's RSA key is 1024 bits, below the 2048-bit floor of
//!   hsmtls-crypto's RSA, so the certificate is paired with a 2048-bit key
//!   handle of the test PKI that is never used to sign.
//! - The NewSessionTicket record (seq 0 under the server application key):
//!   its nonce, ticket_age_add and sealed ticket come from the store's
//!   randomness and ticket key, and hsmtls sends no early_data extension;
//!   only its position (it takes seq 0, so the later records line up) and
//!   the trace's record layout (type 23, legacy version 0x0303) hold.
//! - The client side: an hsmtls ClientHello cannot be the trace's — hsmtls
//!   always sends a 32-byte legacy_session_id with TLS 1.3 (middlebox
//!   compatibility, RFC 8446 §D.4) where the trace's is empty, sends
//!   ec_point_formats, and offers only groups and schemes it implements
//!   (the trace offers ffdhe2048..8192, rsa_pkcs1_sha1, ecdsa_sha1,
//!   DSA…) — and the transcript starts with the ClientHello, so its Finished
//!   and everything after it would differ. The client's handshake and
//!   application traffic keys are the ones `simple_1rtt_key_schedule`
//!   checks; the trace's client records are checked here as inputs the
//!   hsmtls server accepts (client Finished, application data, close_notify).
//!   Nor could a client accept the trace's certificate: it expired on
//!   2026-07-30, has a 1024-bit RSA key and no subjectAltName.
//! - §4's client side, for §3's reasons.
//!
//! `resumed_0rtt_server`: §4 ("Resumed 0-RTT Handshake") as a server
//! replay — the trace's ticket opened by the trace store (its PSK imported,
//! test-only), the binder checked, the early data accepted; the
//! ServerHello, the protected EncryptedExtensions and Finished, the
//! application data and close_notify records byte for byte (see
//! `shared/rfc8448_resumed.rs`). `resumption_binder_key_schedule` checks
//! §4's key schedule up to the binder stage by stage.
//!
//! `hello_retry_server`: §5 ("HelloRetryRequest") as a server replay — the
//! HelloRetryRequest (with the trace's cookie, given through
//! `HandshakeHook::hello_retry_cookie`), the ServerHello and the protected
//! EncryptedExtensions..Finished record over the retry transcript, byte for
//! byte; the trace's client Finished accepted (see
//! `shared/rfc8448_retry.rs`). `hello_retry_cookie_must_be_echoed`: the
//! second ClientHello with one cookie octet changed, or without the cookie,
//! is refused. The client side of §5 is not reproduced, for §3's reasons.
//!
//! The §3 and §5 server replays also run on hsmtls-token in strict mode
//! (`crates/hsmtls-pkcs11/tests/rfc8448_token.rs`): the token derives the
//! whole key schedule and seals the records, which match the trace byte
//! for byte.

mod common;
#[path = "shared/rfc8448_resumed.rs"]
mod resumed;
#[path = "shared/rfc8448_retry.rs"]
mod retry;
#[path = "shared/rfc8448_simple.rs"]
mod simple;

use std::sync::Arc;

use hsmtls::keys::{KeyExchangeGroup, KeyStore, Secret, SecretUsage};
use hsmtls_soft::SoftStore;
use simple::*;

fn expand(store: &SoftStore, secret: &Secret, label: &[u8], context: &[u8]) -> Secret {
    store
        .hkdf_expand_label(SHA256, secret, label, context, SecretUsage::Tls13)
        .expect("expand")
}

fn data(store: &SoftStore, secret: &Secret, label: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    store
        .hkdf_expand_label_data(SHA256, secret, label, b"", &mut out)
        .expect("expand data");
    out
}

/// The handle holds the trace's value `expected`.
fn assert_secret(store: &SoftStore, secret: &Secret, expected: &str, what: &str) {
    let known = store
        .import_secret(SecretUsage::Tls13, &unhex(expected))
        .expect("import");
    assert_eq!(
        data(store, secret, b"hsmtls compare", 32),
        data(store, &known, b"hsmtls compare", 32),
        "{what} differs from RFC 8448"
    );
}

fn assert_key_iv(store: &SoftStore, secret: &Secret, key: &str, iv: &str, what: &str) {
    assert_eq!(data(store, secret, b"key", 16), unhex(key), "{what} key");
    assert_eq!(data(store, secret, b"iv", 12), unhex(iv), "{what} iv");
}

#[test]
fn simple_1rtt_key_schedule() {
    let store = SoftStore::new();
    let empty = store.hasher(SHA256).expect("hasher").current();
    // {server} extract secret "early" (no PSK).
    let early = store.hkdf_extract(SHA256, None, None).expect("early");
    assert_secret(
        &store,
        &early,
        "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
        "early secret",
    );
    let derived = expand(&store, &early, b"derived", empty.as_ref());
    assert_secret(
        &store,
        &derived,
        "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba",
        "derived (early)",
    );
    // {server} extract secret "handshake" with the x25519 shared secret.
    let shared = store
        .import_secret(
            SecretUsage::Generic,
            &unhex("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d"),
        )
        .expect("import shared secret");
    let handshake = store
        .hkdf_extract(SHA256, Some(&derived), Some(&shared))
        .expect("handshake");
    assert_secret(
        &store,
        &handshake,
        "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac",
        "handshake secret",
    );
    let hello_hash = unhex("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
    let c_hs = expand(&store, &handshake, b"c hs traffic", &hello_hash);
    let s_hs = expand(&store, &handshake, b"s hs traffic", &hello_hash);
    assert_secret(
        &store,
        &c_hs,
        "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
        "client handshake traffic secret",
    );
    assert_secret(
        &store,
        &s_hs,
        "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
        "server handshake traffic secret",
    );
    assert_key_iv(
        &store,
        &s_hs,
        "3fce516009c21727d0f2e4e86ee403bc",
        "5d313eb2671276ee13000b30",
        "server handshake",
    );
    assert_key_iv(
        &store,
        &c_hs,
        "dbfaa693d1762c5b666af5d950258d01",
        "5bd3c71b836e0b76bb73265f",
        "client handshake",
    );
    // {server} derive secret for master.
    let derived = expand(&store, &handshake, b"derived", empty.as_ref());
    assert_secret(
        &store,
        &derived,
        "43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4",
        "derived (handshake)",
    );
    let master = store
        .hkdf_extract(SHA256, Some(&derived), None)
        .expect("master");
    assert_secret(
        &store,
        &master,
        "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919",
        "master secret",
    );
    let finished_hash = unhex("9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13");
    let c_ap = expand(&store, &master, b"c ap traffic", &finished_hash);
    let s_ap = expand(&store, &master, b"s ap traffic", &finished_hash);
    assert_secret(
        &store,
        &c_ap,
        "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
        "client application traffic secret",
    );
    assert_key_iv(
        &store,
        &c_ap,
        "17422dda596ed5d9acd890e3c63f5051",
        "5b78923dee08579033e523d9",
        "client application",
    );
    assert_key_iv(
        &store,
        &s_ap,
        "9f02283b6c9c07efc26bb9f2ac92e356",
        "cf782b88dd83549aadf1e984",
        "server application",
    );
}

// ---------------------------------------------------------------- §3 trace
//
// The vectors, the trace-playing store wrapper and the server replay are
// in `shared/rfc8448_simple.rs` (hsmtls-pkcs11 replays the same on
// hsmtls-token).

#[test]
fn simple_1rtt_trace_is_consistent() {
    // The copied vectors hang together: the hello hash printed by the
    // trace (and used by `simple_1rtt_key_schedule`) is that of the
    // copied ClientHello and ServerHello, the server's public key is that
    // of its private key, and the CertificateVerify / Finished messages
    // are inside the protected flight's length.
    let store = SoftStore::new();
    let mut hasher = store.hasher(SHA256).expect("hasher");
    hasher.update(&unhex(CLIENT_HELLO_RECORD)[5..]);
    hasher.update(&unhex(SERVER_HELLO_RECORD)[5..]);
    assert_eq!(
        hasher.current().as_ref(),
        &unhex("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8")[..]
    );
    hasher.update(&unhex(ENCRYPTED_EXTENSIONS));
    hasher.update(&unhex(CERTIFICATE));
    hasher.update(&unhex(CERTIFICATE_VERIFY));
    hasher.update(&unhex(SERVER_FINISHED));
    assert_eq!(
        hasher.current().as_ref(),
        &unhex("9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13")[..]
    );
    let (_, public) = store
        .import_key_share(KeyExchangeGroup::X25519, &unhex(SERVER_X25519_PRIVATE))
        .expect("import");
    assert_bytes(
        &public,
        &unhex(SERVER_X25519_PUBLIC),
        "server x25519 public key",
    );
    let plaintext = unhex(ENCRYPTED_EXTENSIONS).len()
        + unhex(CERTIFICATE).len()
        + unhex(CERTIFICATE_VERIFY).len()
        + unhex(SERVER_FINISHED).len();
    assert_eq!(unhex(SERVER_FLIGHT_RECORD).len(), 5 + plaintext + 1 + 16);
    assert!(unhex(CLIENT_HELLO_RECORD)
        .windows(32)
        .any(|w| w == unhex(CLIENT_X25519_PUBLIC)));
}

#[test]
fn simple_1rtt_server() {
    let soft = Arc::new(SoftStore::new());
    let share = soft
        .import_key_share(KeyExchangeGroup::X25519, &unhex(SERVER_X25519_PRIVATE))
        .expect("the trace's x25519 key");
    let key = soft
        .import_private_key(&common::pki("rsa2048", "server.key"))
        .expect("RSA key");
    replay_simple_1rtt_server(trace_server(soft, share, key, Tickets::Store));
}

// ---------------------------------------------------------------- §4 replay

#[test]
fn resumed_0rtt_server() {
    let soft = Arc::new(SoftStore::new());
    let share = soft
        .import_key_share(
            KeyExchangeGroup::X25519,
            &unhex(resumed::SERVER_X25519_PRIVATE),
        )
        .expect("the trace's x25519 key");
    let psk = soft
        .import_secret(SecretUsage::Tls13, &unhex(resumed::PSK))
        .expect("the trace's PSK");
    let key = soft
        .import_private_key(&common::pki("rsa2048", "server.key"))
        .expect("RSA key");
    resumed::replay_resumed_0rtt_server(resumed::resumed_trace_server(
        soft,
        share,
        psk,
        key,
        Tickets::Store,
    ));
}

// ---------------------------------------------------------------- §5

/// The trace's §5 server on the software store.
fn soft_retry_server() -> hsmtls::Connection {
    let soft = Arc::new(SoftStore::new());
    let share = soft
        .import_key_share(
            KeyExchangeGroup::Secp256r1,
            &unhex(retry::SERVER_P256_PRIVATE),
        )
        .expect("the trace's P-256 key");
    let key = soft
        .import_private_key(&common::pki("rsa2048", "server.key"))
        .expect("RSA key");
    retry::retry_trace_server(soft, share, key, Tickets::Store)
}

#[test]
fn hello_retry_server() {
    retry::replay_hello_retry_server(soft_retry_server());
}

#[test]
fn hello_retry_cookie_must_be_echoed() {
    use hsmtls::msgs::enums::AlertDescription;
    let second = unhex(retry::CLIENT_HELLO_2_RECORD);
    let cookie = retry::retry_cookie();
    let at = second
        .windows(cookie.len())
        .position(|w| w == cookie)
        .expect("the second ClientHello echoes the cookie");

    // One octet of the echo changed: illegal_parameter.
    let mut changed = second.clone();
    changed[at + 50] ^= 0x01;
    let mut server = soft_retry_server();
    deliver(&mut server, &unhex(retry::CLIENT_HELLO_1_RECORD)).expect("first ClientHello");
    take_output(&mut server);
    let err = deliver(&mut server, &changed).expect_err("a changed cookie was accepted");
    assert_eq!(
        err.alert(),
        Some(AlertDescription::IllegalParameter),
        "{err}"
    );

    // The cookie extension renamed to an unknown type (same length, so the
    // message stays well-formed): missing_extension.
    let mut dropped = second;
    assert_eq!(
        &dropped[at - 6..at - 4],
        &[0x00, 0x2c],
        "cookie extension type"
    );
    dropped[at - 6..at - 4].copy_from_slice(&[0xfa, 0xfa]);
    let mut server = soft_retry_server();
    deliver(&mut server, &unhex(retry::CLIENT_HELLO_1_RECORD)).expect("first ClientHello");
    take_output(&mut server);
    let err = deliver(&mut server, &dropped).expect_err("a missing cookie was accepted");
    assert_eq!(
        err.alert(),
        Some(AlertDescription::MissingExtension),
        "{err}"
    );
}

// ---------------------------------------------------------------- §4

/// RFC 8448 §3, {client} construct a Finished handshake message (36
/// octets): closes the transcript the resumption master secret is over.
const CLIENT_FINISHED: &str = "14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a
    c1 fc eb e1 1a 03 9e c1 76 94 fa c6 e9 85 27 b6 42 f2 ed d5 ce
    61";

/// §3's resumption master secret, §4's PSK (ticket nonce 00 00), early
/// secret, binder key and the PSK binder over the §4 ClientHello truncated
/// before its binders (RFC 8446 §4.2.11.2), through the store operations
/// `crates/hsmtls/src/tls13.rs` calls (`resumption_master`, `ticket_psk`,
/// `early`, `binder_key`, `verify_data`). The binder is compared byte for
/// byte, with the trace's and with the one inside its ClientHello. The §4
/// handshake itself is `resumed_0rtt_server`.
#[test]
fn resumption_binder_key_schedule() {
    let store = SoftStore::new();
    let empty = store.hasher(SHA256).expect("hasher").current();
    // §3: the master secret (compared in `simple_1rtt_key_schedule`).
    let master = store
        .import_secret(
            SecretUsage::Tls13,
            &unhex("18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919"),
        )
        .expect("import master");
    // §3 {client} derive secret "tls13 res master": hash over
    // ClientHello..client Finished, from the copied messages.
    let mut hasher = store.hasher(SHA256).expect("hasher");
    for m in [
        &unhex(CLIENT_HELLO_RECORD)[5..],
        &unhex(SERVER_HELLO_RECORD)[5..],
        &unhex(ENCRYPTED_EXTENSIONS),
        &unhex(CERTIFICATE),
        &unhex(CERTIFICATE_VERIFY),
        &unhex(SERVER_FINISHED),
        &unhex(CLIENT_FINISHED),
    ] {
        hasher.update(m);
    }
    let client_finished_hash = hasher.current();
    assert_bytes(
        client_finished_hash.as_ref(),
        &unhex("209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d"),
        "ClientHello..client Finished hash",
    );
    let resumption_master = expand(
        &store,
        &master,
        b"res master",
        client_finished_hash.as_ref(),
    );
    assert_secret(
        &store,
        &resumption_master,
        "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c",
        "resumption master secret",
    );
    // §3 {server} generate resumption secret "tls13 resumption" (nonce 00 00).
    let psk = expand(&store, &resumption_master, b"resumption", &[0, 0]);
    assert_secret(
        &store,
        &psk,
        "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3",
        "ticket PSK",
    );
    // §4 {client} extract secret "early".
    let early = store.hkdf_extract(SHA256, None, Some(&psk)).expect("early");
    assert_secret(
        &store,
        &early,
        "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c",
        "early secret (PSK)",
    );
    // §4 {client} calculate PSK binder.
    let binder_key = expand(&store, &early, b"res binder", empty.as_ref());
    assert_secret(
        &store,
        &binder_key,
        "69fe131a3bbad5d63c64eebcc30e395b9d8107726a13d074e389dbc8a4e47256",
        "binder key",
    );
    let hello = unhex(resumed::CLIENT_HELLO_RECORD)[5..].to_vec();
    assert_eq!(hello.len(), 512);
    // The binders list: 2-octet length 0x0021, 1-octet length 0x20, 32 octets.
    let (truncated, binders) = hello.split_at(hello.len() - 2 - 1 - 32);
    assert_eq!(&binders[..3], &[0x00, 0x21, 0x20]);
    let mut hasher = store.hasher(SHA256).expect("hasher");
    hasher.update(truncated);
    let binder_hash = hasher.current();
    assert_bytes(
        binder_hash.as_ref(),
        &unhex("63224b2e4573f2d3454ca84b9d009a04f6be9e05711a8396473aefa01e924a14"),
        "binder hash",
    );
    let binder = store
        .tls13_verify_data(SHA256, &binder_key, binder_hash.as_ref())
        .expect("binder");
    let want = unhex("3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d");
    assert_bytes(binder.as_ref(), &want, "PSK binder");
    assert_bytes(&binders[3..], &want, "binder in the ClientHello");
}
