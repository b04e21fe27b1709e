//! TLS 1.3 (RFC 8446) with the key schedule in the token, strict policy:
//! the TLS 1.3 key-store checks against the software store (one (EC)DHE
//! exchange across the two stores, the schedule in each, public outputs
//! compared), and full TLS 1.3 handshakes in memory — hsmtls-token (and
//! NSS softoken) in either role against the software store and against
//! itself, every TLS 1.3 suite the token carries, secp256r1, secp384r1,
//! brainpoolP256r1tls13 (and x25519 where the token has it), client
//! certificates, KeyUpdate both ways, exporters, PSK resumption where the
//! client is on the token — with the key-isolation audit extended to the
//! TLS 1.3 secrets.
//!
//! A server on a token in strict mode issues no tickets: a PSK in the
//! token is not extractable, so `ticket_seal` cannot seal it (and
//! `new_ticket_key` refuses), and the TLS 1.3 server keeps no stateful
//! session cache. Resumption is tested with the client on the token.

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use common::audit::{check_isolation13, Auditing};
use common::tls::pem_certs;
use hsmtls::msgs::enums::{CipherSuite, NamedGroup, ProtocolVersion};
use hsmtls::{CertifiedKey, ClientAuth, ClientConfig, Connection, ServerConfig};
use hsmtls_keys::conformance;
use hsmtls_keys::{AeadAlgorithm, KeyExchangeGroup, KeyStore};
use hsmtls_pkcs11::Pkcs11Store;
use hsmtls_soft::SoftStore;

/// One test at a time: the session-object count is per application.
static TOKEN: Mutex<()> = Mutex::new(());

const ONLY13: &[ProtocolVersion] = &[ProtocolVersion::TLSv1_3];

fn open_token() -> Arc<Pkcs11Store> {
    let store = Pkcs11Store::open(&common::hsmtls_token()).expect("open hsmtls-token strictly");
    assert!(store.relaxations().is_empty(), "hsmtls-token runs strict");
    Arc::new(store)
}

fn read(kind: &str, file: &str) -> Vec<u8> {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/pki"));
    std::fs::read(dir.join(kind).join(file)).unwrap()
}

fn chain(kind: &str, role: &str) -> Vec<Vec<u8>> {
    pem_certs(&String::from_utf8(read(kind, &format!("{role}.chain.pem"))).unwrap())
}

/// `role`'s certified key of `kind` in `store` (a token or the software
/// store).
enum Keys<'a> {
    Token(&'a Pkcs11Store),
    Soft(&'a SoftStore),
}

fn certified(keys: &Keys<'_>, kind: &str, role: &str) -> CertifiedKey {
    let pem = read(kind, &format!("{role}.key"));
    let key = match keys {
        Keys::Token(t) => t.import_private_key(&pem, role, b"\x13").unwrap(),
        Keys::Soft(s) => s.import_private_key(&pem).unwrap(),
    };
    CertifiedKey::new(chain(kind, role), Arc::new(key)).unwrap()
}

fn suites13(store: &Pkcs11Store) -> Vec<CipherSuite> {
    let aeads = store.capabilities().tls13_aeads;
    let mut v = Vec::new();
    for (aead, suite) in [
        (
            AeadAlgorithm::Aes128Gcm,
            CipherSuite::TLS_AES_128_GCM_SHA256,
        ),
        (
            AeadAlgorithm::Aes256Gcm,
            CipherSuite::TLS_AES_256_GCM_SHA384,
        ),
        (
            AeadAlgorithm::Chacha20Poly1305,
            CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
        ),
    ] {
        if aeads.contains(&aead) {
            v.push(suite);
        } else {
            eprintln!("SKIP {suite:?}: not in the token");
        }
    }
    v
}

fn groups13(store: &Pkcs11Store) -> Vec<NamedGroup> {
    let groups = store.capabilities().groups;
    let mut v = vec![
        NamedGroup::secp256r1,
        NamedGroup::secp384r1,
        NamedGroup::brainpoolP256r1tls13,
    ];
    if groups.contains(&KeyExchangeGroup::X25519) {
        v.push(NamedGroup::x25519);
    } else {
        eprintln!("SKIP x25519: no CKM_EC_MONTGOMERY_KEY_PAIR_GEN in the token");
    }
    v
}

fn pump(from: &mut Connection, to: &mut Connection) {
    let mut buf = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut buf).unwrap();
    }
    let mut rd = &buf[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd).unwrap();
        to.process_new_packets().unwrap();
    }
}

fn data(from: &mut Connection, to: &mut Connection, msg: &[u8]) {
    from.writer().write_all(msg).unwrap();
    pump(from, to);
    let mut got = vec![0u8; msg.len() + 64];
    let mut n = 0;
    while n < msg.len() {
        let k = to.reader().read(&mut got[n..]).unwrap();
        assert!(k > 0, "no data");
        n += k;
    }
    assert_eq!(&got[..n], msg);
}

/// A TLS 1.3 handshake, data both ways (one record over 16 KiB), an
/// exporter compared, and KeyUpdate both directions.
fn session(client: &Arc<ClientConfig>, server: &Arc<ServerConfig>, suite: CipherSuite) -> bool {
    let mut c = Connection::client(client.clone(), "localhost").unwrap();
    let mut s = Connection::server(server.clone()).unwrap();
    for _ in 0..10 {
        if !c.is_handshaking() && !s.is_handshaking() {
            break;
        }
        pump(&mut c, &mut s);
        pump(&mut s, &mut c);
    }
    assert!(!c.is_handshaking() && !s.is_handshaking(), "handshake");
    for conn in [&c, &s] {
        assert_eq!(conn.negotiated().version, Some(ProtocolVersion::TLSv1_3));
        assert_eq!(conn.negotiated().cipher_suite, Some(suite));
    }
    data(&mut c, &mut s, b"ping from the client");
    data(&mut s, &mut c, &vec![0x5a; 20_000]);
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    c.export_keying_material(&mut a, b"EXPORTER-hsmtls", Some(b"ctx"))
        .unwrap();
    s.export_keying_material(&mut b, b"EXPORTER-hsmtls", Some(b"ctx"))
        .unwrap();
    assert_eq!(a, b, "exporters agree");
    c.refresh_traffic_keys().unwrap();
    data(&mut c, &mut s, b"after the client's KeyUpdate");
    data(&mut s, &mut c, b"after the server's answering KeyUpdate");
    s.refresh_traffic_keys().unwrap();
    data(&mut s, &mut c, b"after the server's KeyUpdate");
    data(&mut c, &mut s, b"and back");
    c.negotiated().resumed
}

#[allow(clippy::too_many_arguments)]
fn configs(
    client_store: Arc<dyn KeyStore>,
    server_store: Arc<dyn KeyStore>,
    client_keys: &Keys<'_>,
    server_keys: &Keys<'_>,
    kind: &str,
    suite: CipherSuite,
    group: NamedGroup,
    tickets: bool,
) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let ca = read(kind, "ca.der");
    let server = ServerConfig::builder(server_store)
        .versions(ONLY13)
        .unwrap()
        .certificate(certified(server_keys, kind, "server"))
        .client_auth(ClientAuth::Require, vec![ca.clone()])
        .cipher_suites(&[suite])
        .unwrap()
        .groups(&[group])
        .unwrap()
        .session_tickets(tickets)
        .build()
        .unwrap();
    let client = ClientConfig::builder(client_store)
        .versions(ONLY13)
        .unwrap()
        .root_certificates(vec![ca])
        .client_certificate(certified(client_keys, kind, "client"))
        .cipher_suites(&[suite])
        .unwrap()
        .groups(&[group])
        .unwrap()
        .session_tickets(tickets)
        .build()
        .unwrap();
    (Arc::new(client), Arc::new(server))
}

#[test]
fn token_tls13_against_soft_store() {
    let _guard = TOKEN.lock().unwrap_or_else(|e| e.into_inner());
    let store = open_token();
    let caps = store.capabilities();
    eprintln!("hsmtls-token TLS 1.3 AEADs: {:?}", caps.tls13_aeads);
    assert!(caps.tls13_aeads.contains(&AeadAlgorithm::Aes128Gcm));
    assert!(caps.tls13_aeads.contains(&AeadAlgorithm::Aes256Gcm));
    conformance::tls13_against(&*store, &SoftStore::new());
}

#[test]
fn nss_tls13_against_soft_store() {
    let Some(store) = common::nss() else { return };
    eprintln!("NSS TLS 1.3 AEADs: {:?}", store.capabilities().tls13_aeads);
    assert!(!store.capabilities().tls13_aeads.is_empty());
    conformance::tls13_against(&store, &SoftStore::new());
}

/// The token as client and as server against the software store, and
/// on both sides, every TLS 1.3 suite × group, mutual authentication.
#[test]
fn token_tls13_handshakes_every_suite_and_group() {
    let _guard = TOKEN.lock().unwrap_or_else(|e| e.into_inner());
    let store = open_token();
    let soft = Arc::new(SoftStore::new());
    let baseline = store.session_object_count().unwrap();
    let kind = "ecdsa-p256";
    for suite in suites13(&store) {
        for group in groups13(&store) {
            for (token_client, token_server) in [(true, false), (false, true), (true, true)] {
                let what = format!(
                    "TLS 1.3 {suite:?} {group:?} token client {token_client} server {token_server}"
                );
                let client_side = Arc::new(Auditing::new(store.clone()));
                let server_side = Arc::new(Auditing::new(store.clone()));
                let (cs, ck): (Arc<dyn KeyStore>, _) = if token_client {
                    (client_side.clone(), Keys::Token(&store))
                } else {
                    (soft.clone(), Keys::Soft(&soft))
                };
                let (ss, sk): (Arc<dyn KeyStore>, _) = if token_server {
                    (server_side.clone(), Keys::Token(&store))
                } else {
                    (soft.clone(), Keys::Soft(&soft))
                };
                let (c, s) = configs(cs, ss, &ck, &sk, kind, suite, group, false);
                session(&c, &s, suite);
                drop((c, s));
                if token_client {
                    check_isolation13(&client_side.audits(), &format!("{what} (client)"));
                }
                if token_server {
                    check_isolation13(&server_side.audits(), &format!("{what} (server)"));
                }
                assert_eq!(
                    store.session_object_count().unwrap(),
                    baseline,
                    "{what}: session objects left behind in the token"
                );
                eprintln!("ok: {what}");
            }
        }
    }
}

/// brainpoolP256r1 certificates (ecdsa_brainpoolP256r1tls13_sha256,
/// RFC 8734) on brainpoolP256r1tls13, the token on both sides.
#[test]
fn token_tls13_brainpool_certificates() {
    let _guard = TOKEN.lock().unwrap_or_else(|e| e.into_inner());
    let store = open_token();
    let suite = CipherSuite::TLS_AES_128_GCM_SHA256;
    let side = Arc::new(Auditing::new(store.clone()));
    let (c, s) = configs(
        side.clone(),
        side.clone(),
        &Keys::Token(&store),
        &Keys::Token(&store),
        "brainpoolP256r1",
        suite,
        NamedGroup::brainpoolP256r1tls13,
        false,
    );
    session(&c, &s, suite);
    check_isolation13(&side.audits(), "TLS 1.3 brainpool certificates");
}

/// PSK resumption (psk_dhe_ke) with the client on the token: the
/// resumption PSK and the binder key stay in the token. The server is the
/// software store (a strict token server issues no tickets).
#[test]
fn token_client_tls13_resumption() {
    let _guard = TOKEN.lock().unwrap_or_else(|e| e.into_inner());
    let store = open_token();
    let soft = Arc::new(SoftStore::new());
    let suite = CipherSuite::TLS_AES_128_GCM_SHA256;
    let side = Arc::new(Auditing::new(store.clone()));
    let (c, s) = configs(
        side.clone(),
        soft.clone(),
        &Keys::Token(&store),
        &Keys::Soft(&soft),
        "ecdsa-p256",
        suite,
        NamedGroup::secp256r1,
        true,
    );
    assert!(!session(&c, &s, suite), "first handshake is full");
    assert!(session(&c, &s, suite), "second handshake resumes");
    check_isolation13(&side.audits(), "TLS 1.3 resumption, token client");
    // Strict token server: no ticket key can be made.
    assert!(ServerConfig::builder(store.clone())
        .versions(ONLY13)
        .unwrap()
        .certificate(certified(&Keys::Token(&store), "ecdsa-p256", "server"))
        .session_tickets(true)
        .build()
        .is_err());
}

/// 0-RTT with the client on the token: the resumption PSK, the binder
/// key and the client early traffic secret stay in the token (the
/// key-isolation check covers them); the early data is accepted once.
#[test]
fn token_client_tls13_early_data() {
    let _guard = TOKEN.lock().unwrap_or_else(|e| e.into_inner());
    let store = open_token();
    let soft = Arc::new(SoftStore::new());
    let side = Arc::new(Auditing::new(store.clone()));
    let kind = "ecdsa-p256";
    let ca = read(kind, "ca.der");
    let server = Arc::new(
        ServerConfig::builder(soft.clone())
            .versions(ONLY13)
            .unwrap()
            .certificate(certified(&Keys::Soft(&soft), kind, "server"))
            .max_early_data_size(4096)
            .build()
            .unwrap(),
    );
    let client = Arc::new(
        ClientConfig::builder(side.clone())
            .versions(ONLY13)
            .unwrap()
            .root_certificates(vec![ca])
            .early_data(true)
            .build()
            .unwrap(),
    );
    let run = |early: &[u8]| {
        let mut c = Connection::client(client.clone(), "localhost").unwrap();
        let mut s = Connection::server(server.clone()).unwrap();
        c.writer().write_all(early).unwrap();
        for _ in 0..10 {
            pump(&mut c, &mut s);
            pump(&mut s, &mut c);
        }
        assert!(!c.is_handshaking() && !s.is_handshaking(), "handshake");
        data(&mut s, &mut c, b"a ticket rides along");
        (c, s)
    };
    // Full handshake: the early write waits and goes as 1-RTT data.
    let (c, mut s) = run(b"first");
    assert!(!c.negotiated().resumed && !c.negotiated().early_data_accepted);
    let mut got = [0u8; 5];
    s.reader().read_exact(&mut got).unwrap();
    assert_eq!(&got, b"first");
    // Resumption: 0-RTT under the token's early traffic key.
    let (c, mut s) = run(b"GET /meter/reading");
    assert!(c.negotiated().resumed && c.negotiated().early_data_accepted);
    assert_eq!(s.take_early_data(), b"GET /meter/reading");
    check_isolation13(&side.audits(), "TLS 1.3 0-RTT, token client");
}

/// NSS softoken in strict mode, both roles against the software store.
#[test]
fn nss_tls13_handshakes() {
    let Some(nss) = common::nss() else { return };
    let nss = Arc::new(nss);
    let soft = Arc::new(SoftStore::new());
    let suites = suites13(&nss);
    for suite in suites {
        for group in [NamedGroup::secp256r1, NamedGroup::secp384r1] {
            for nss_client in [true, false] {
                let what = format!("NSS TLS 1.3 {suite:?} {group:?} nss client {nss_client}");
                let side = Arc::new(Auditing::new(nss.clone()));
                let (c, s) = if nss_client {
                    configs(
                        side.clone(),
                        soft.clone(),
                        &Keys::Token(&nss),
                        &Keys::Soft(&soft),
                        "ecdsa-p256",
                        suite,
                        group,
                        false,
                    )
                } else {
                    configs(
                        soft.clone(),
                        side.clone(),
                        &Keys::Soft(&soft),
                        &Keys::Token(&nss),
                        "ecdsa-p256",
                        suite,
                        group,
                        false,
                    )
                };
                session(&c, &s, suite);
                check_isolation13(&side.audits(), &what);
                eprintln!("ok: {what}");
            }
        }
    }
}
