//! RFC 8448 §3 ("Simple 1-RTT Handshake") key schedule, reproduced through
//! the key-store operations the engine calls (`hkdf_extract`,
//! `hkdf_expand_label`, `hkdf_expand_label_data`) in the order
//! `crates/hsmtls/src/tls13.rs` calls them.
//!
//! What is compared, byte for byte against the trace:
//! - the traffic keys and IVs (`HKDF-Expand-Label(secret, "key"/"iv", "",
//!   len)`) of the client and server handshake and application traffic
//!   secrets — these depend on every stage above them (early secret with no
//!   PSK, the x25519 shared secret, handshake secret, master secret, and
//!   the trace's transcript hashes);
//! - each intermediate secret (early, handshake, the four traffic secrets,
//!   master): the store never reveals a secret, so the trace's value is
//!   imported (`SoftStore::import_secret`, test-only) and both handles are
//!   compared through an expansion under a label of ours.
//!
//! Inputs from the trace: the ECDHE shared secret and the transcript
//! hashes it prints (ClientHello..ServerHello, ClientHello..server
//! Finished). Not yet reproduced: the handshake run by an hsmtls client
//! and server with the trace's x25519 private keys and randoms (the soft
//! store cannot import an x25519 scalar yet: `EcdhPrivateKey::from_scalar`
//! refuses X25519), so the messages, the Finished values and the
//! encrypted records of §3, the resumption of §4 (binder) and the
//! HelloRetryRequest of §5 are not compared here.

use hsmtls::keys::{HashAlgorithm, KeyStore, Secret, SecretUsage};
use hsmtls_soft::SoftStore;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

const SHA256: HashAlgorithm = HashAlgorithm::Sha256;

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
