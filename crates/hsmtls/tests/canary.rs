//! The canary key store (DESIGN.md, "Tests"): a store whose pre-master
//! secret is a known marker, so the test can compute every secret the
//! handshake derives from it — master secret, MAC keys, encryption keys —
//! and check that none of them ever appears on the wire or in any `Debug`
//! output of the engine's values.

use std::sync::Arc;

use hsmtls::keys::{KeyError, KeyShare, KeyStore, Secret, SecretUsage};
use hsmtls::msgs::enums::CipherSuite;
use hsmtls::{CertifiedKey, ClientConfig, Connection, ServerConfig};
use hsmtls_crypto::hash::HashAlg;
use hsmtls_crypto::prf::tls12_prf;
use hsmtls_soft::SoftStore;

/// 48 bytes that cannot occur by chance.
const MARKER: [u8; 48] = *b"CANARY-PREMASTER-0123456789abcdef-hsmtls-canary!";

/// Forwards to a software store, except that every key exchange yields
/// the marker as the pre-master secret (on both sides, so they agree).
#[derive(Debug)]
struct CanaryStore {
    soft: Arc<SoftStore>,
}

impl KeyStore for CanaryStore {
    hsmtls::keys::forward_key_store!(soft => capabilities, policy_relaxations, random, hasher, start_key_exchange, tls12_master_secret, tls12_verify_data, tls12_traffic_keys, tls12_export, sign, verify, new_ticket_key, ticket_seal, ticket_open, hkdf_extract, hkdf_expand_label, hkdf_expand_label_data, tls13_verify_data, tls13_record_protector);
    fn name(&self) -> &str {
        "canary"
    }
    fn complete_key_exchange(&self, share: KeyShare, peer: &[u8]) -> Result<Secret, KeyError> {
        // Run the real exchange (so bad shares still fail), then swap in
        // the marker.
        let _real = self.soft.complete_key_exchange(share, peer)?;
        self.soft.import_secret(SecretUsage::PreMaster, &MARKER)
    }
}

fn pki(file: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../testdata/pki/ecdsa-p256/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn chain() -> Vec<Vec<u8>> {
    vec![pki("server.der"), pki("inter.der")]
}

/// Every encoding of `secret` a careless `Debug` or log could produce.
fn encodings(secret: &[u8]) -> Vec<String> {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let upper = hex.to_uppercase();
    let list = format!("{:?}", &secret[..8])
        .trim_end_matches(']')
        .to_owned();
    vec![hex[..16].to_owned(), upper[..16].to_owned(), list]
}

fn assert_absent(haystack: &[u8], secret: &[u8], what: &str) {
    assert!(
        !haystack
            .windows(8)
            .any(|w| secret.windows(8).any(|s| s == w)),
        "{what} leaked into the wire bytes"
    );
}

fn assert_absent_text(text: &str, secret: &[u8], what: &str) {
    for enc in encodings(secret) {
        assert!(
            !text.contains(&enc),
            "{what} leaked into Debug output: {enc}"
        );
    }
}

fn run(suite: CipherSuite) {
    let soft = Arc::new(SoftStore::new());
    let key = soft
        .import_private_key(&pki("server.key"))
        .expect("test key imports");
    let store: Arc<dyn KeyStore> = Arc::new(CanaryStore { soft: soft.clone() });
    let server_config = Arc::new(
        ServerConfig::builder(store.clone())
            .certificate(CertifiedKey::new(chain(), Arc::new(key)).expect("chain fits key"))
            .cipher_suites(&[suite])
            .expect("suite")
            // The classic master secret depends only on the marker and the
            // randoms on the wire, so the test can recompute it.
            .extended_master_secret(false)
            .build()
            .expect("server config"),
    );
    let client_config = Arc::new(
        ClientConfig::builder(store)
            .root_certificates(vec![pki("ca.der")])
            .cipher_suites(&[suite])
            .expect("suite")
            .extended_master_secret(false)
            .build()
            .expect("client config"),
    );
    let mut client = Connection::client(client_config.clone(), "localhost").expect("client");
    let mut server = Connection::server(server_config.clone()).expect("server");
    let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
    let mut debug = String::new();
    for _ in 0..10 {
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).expect("client write");
        }
        to_server.extend_from_slice(&buf);
        server.read_tls(&mut &buf[..]).expect("server read");
        server.process_new_packets().expect("server process");
        let mut buf = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut buf).expect("server write");
        }
        to_client.extend_from_slice(&buf);
        client.read_tls(&mut &buf[..]).expect("client read");
        client.process_new_packets().expect("client process");
        debug.push_str(&format!("{client:?}{server:?}"));
        if !client.is_handshaking() && !server.is_handshaking() {
            break;
        }
    }
    assert!(!client.is_handshaking() && !server.is_handshaking());
    use std::io::Write;
    client.writer().write_all(b"ping").expect("write");
    let mut buf = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut buf).expect("client write");
    }
    to_server.extend_from_slice(&buf);
    debug.push_str(&format!(
        "{client:?}{server:?}{client_config:?}{server_config:?}"
    ));

    // Recompute what the store derived (RFC 5246 §8.1, §6.3).
    let client_random = &to_server[11..43];
    let server_random = &to_client[11..43];
    let prf = if suite == CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
        HashAlg::Sha384
    } else {
        HashAlg::Sha256
    };
    let mut master = [0u8; 48];
    tls12_prf(
        prf,
        &MARKER,
        b"master secret",
        &[client_random, server_random],
        &mut master,
    );
    // The recomputation is right: the exporter (RFC 5705) agrees with it.
    let mut exported = [0u8; 32];
    client
        .export_keying_material(&mut exported, b"EXPORTER-canary", None)
        .expect("export");
    let mut expected = [0u8; 32];
    tls12_prf(
        prf,
        &master,
        b"EXPORTER-canary",
        &[client_random, server_random],
        &mut expected,
    );
    assert_eq!(exported, expected, "recomputed master secret is wrong");
    let mut key_block = [0u8; 128];
    tls12_prf(
        prf,
        &master,
        b"key expansion",
        &[server_random, client_random],
        &mut key_block,
    );

    for (secret, what) in [
        (&MARKER[..], "pre-master secret"),
        (&master[..], "master secret"),
        (&key_block[..], "key block"),
    ] {
        assert_absent(&to_server, secret, what);
        assert_absent(&to_client, secret, what);
        assert_absent_text(&debug, secret, what);
    }
    // The check has teeth: the marker is found where it is planted.
    let mut planted = to_server.clone();
    planted.extend_from_slice(&MARKER);
    assert!(std::panic::catch_unwind(|| assert_absent(&planted, &MARKER, "x")).is_err());
}

#[test]
fn no_secret_on_the_wire_or_in_debug_aes_gcm() {
    run(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
}

#[test]
fn no_secret_on_the_wire_or_in_debug_aes_256_gcm() {
    run(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
}

#[test]
fn no_secret_on_the_wire_or_in_debug_cbc() {
    run(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256);
}
