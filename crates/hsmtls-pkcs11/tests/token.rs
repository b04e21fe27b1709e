//! hsmtls-token (`libhsmtls_token.so`, loaded through its C ABI) under the
//! strict policy: the key-store API suite, and full TLS 1.2 handshakes
//! with mutual authentication where BOTH peers run on the token — every
//! ECDHE-ECDSA suite the token carries (GCM, CBC with and without
//! encrypt-then-MAC, ChaCha20-Poly1305 if present), brainpoolP256r1/384r1/
//! 512r1 and secp256r1/384r1 — with key isolation audited while the
//! secrets are alive and no session object left behind afterwards.
//! The long-term keys are persistent token objects found by PKCS#11 URI.

mod common;

use std::sync::{Arc, Mutex};

use common::audit::{check_isolation, Auditing};
use common::tls::{handshake, pem_certs};
use hsmtls::msgs::enums::{CipherSuite, NamedGroup};
use hsmtls::{CertifiedKey, ClientAuth, ClientConfig, ServerConfig};
use hsmtls_keys::conformance::{self, ConformanceKey, ConformanceKeys};
use hsmtls_keys::{KeyExchangeGroup, KeyStore, RecordCipher};
use hsmtls_pkcs11::Pkcs11Store;

/// One test at a time: the session-object count is per application.
static TOKEN: Mutex<()> = Mutex::new(());

fn open() -> Pkcs11Store {
    let store = Pkcs11Store::open(&common::hsmtls_token()).expect("open hsmtls-token strictly");
    assert!(store.relaxations().is_empty(), "hsmtls-token runs strict");
    store
}

fn pki_dir(kind: &str) -> std::path::PathBuf {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/pki")).join(kind)
}

fn read(kind: &str, file: &str) -> Vec<u8> {
    std::fs::read(pki_dir(kind).join(file)).unwrap()
}

#[test]
fn token_conformance_strict() {
    let _guard = TOKEN.lock().unwrap_or_else(|e| e.into_inner());
    let store = open();
    let caps = store.capabilities();
    eprintln!("hsmtls-token capabilities: {caps:?}");
    for g in [
        KeyExchangeGroup::Secp256r1,
        KeyExchangeGroup::Secp384r1,
        KeyExchangeGroup::BrainpoolP256r1,
        KeyExchangeGroup::BrainpoolP384r1,
        KeyExchangeGroup::BrainpoolP512r1,
    ] {
        assert!(caps.groups.contains(&g), "{g:?} in the token");
    }
    assert!(caps.extended_master_secret);
    let mut keys = ConformanceKeys::default();
    for (group, id) in [
        (KeyExchangeGroup::Secp256r1, 1u8),
        (KeyExchangeGroup::BrainpoolP256r1, 2),
        (KeyExchangeGroup::BrainpoolP512r1, 3),
    ] {
        let key = store
            .generate_private_key(group, "conformance", &[id])
            .expect("generate a signing key in hsmtls-token");
        keys.keys.push(ConformanceKey {
            public_key: store.public_key(&key).unwrap(),
            private: key,
            algorithms: vec![],
        });
    }
    let imported = store
        .import_private_key(&read("ecdsa-p384", "server.key"), "p384", b"\x04")
        .expect("import a P-384 key");
    keys.keys.push(ConformanceKey {
        public_key: store.public_key(&imported).unwrap(),
        private: imported,
        algorithms: vec![],
    });
    conformance::random(&store);
    conformance::hashing(&store);
    conformance::key_exchange(&store);
    conformance::invalid_peer_shares(&store);
    conformance::extended_master_secret(&store);
    conformance::traffic_keys(&store);
    // Exporters: CKM_TLS12_KDF takes the seed as client_random ||
    // server_random [|| length || context] (RFC 5705 §4), which is what
    // the engine passes (the suite's free-form seed does not fit); the
    // token derives the output readable from the sensitive master secret
    // (exporter output is public).
    exporter_in_the_token(&store);
    conformance::signatures(&store, &keys);
    eprintln!("SKIP tickets in strict mode: a master secret in the token is not extractable");
    conformance::wrong_handles(&store);
    conformance::debug_shows_no_secret(&store, &keys);
}

/// RFC 5705 exporter through `CKM_TLS12_KDF` on master secrets in the
/// token (sensitive, not extractable): both sides get the same output, the
/// context and the length count, and the master secrets stay unreadable.
fn exporter_in_the_token(store: &Pkcs11Store) {
    use hsmtls_keys::{HashAlgorithm, MasterSecretSeed};
    let (a, pa) = store
        .start_key_exchange(KeyExchangeGroup::BrainpoolP256r1)
        .unwrap();
    let (b, pb) = store
        .start_key_exchange(KeyExchangeGroup::BrainpoolP256r1)
        .unwrap();
    let seed = MasterSecretSeed::SessionHash(&[7; 32]);
    let master = |share, peer: &[u8]| {
        let pms = store.complete_key_exchange(share, peer).unwrap();
        store
            .tls12_master_secret(pms, HashAlgorithm::Sha256, seed)
            .unwrap()
    };
    let (ma, mb) = (master(a, &pb), master(b, &pa));
    let seed_with = |ctx: &[u8]| {
        let mut s = vec![1u8; 64];
        s.extend_from_slice(&(ctx.len() as u16).to_be_bytes());
        s.extend_from_slice(ctx);
        s
    };
    let export = |m, seed: &[u8], len| {
        let mut out = vec![0u8; len];
        store
            .tls12_export(m, HashAlgorithm::Sha256, b"EXPORTER-test", seed, &mut out)
            .expect("exporter through CKM_TLS12_KDF in hsmtls-token");
        out
    };
    let out = export(&ma, &seed_with(b"ctx"), 40);
    assert_ne!(out, vec![0u8; 40]);
    assert_eq!(out, export(&mb, &seed_with(b"ctx"), 40), "both sides agree");
    assert_eq!(&out[..20], &export(&ma, &seed_with(b"ctx"), 20)[..]);
    assert_ne!(
        out,
        export(&ma, &seed_with(b"other"), 40),
        "the context counts"
    );
    assert_ne!(out, export(&ma, &[1u8; 64], 40), "no context differs");
    let audits = store.audit_live_objects().unwrap();
    assert!(
        audits
            .iter()
            .filter(|o| matches!(o.kind, hsmtls_pkcs11::ObjectKind::Master))
            .all(|o| o.sensitive == Some(true) && o.extractable == Some(false)),
        "master secrets stay sensitive: {audits:?}"
    );
}

/// The ECDHE-ECDSA TLS 1.2 suites the token can carry.
fn suites(store: &Pkcs11Store) -> Vec<&'static str> {
    let mut v = vec![
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    ];
    if store
        .capabilities()
        .record_ciphers
        .contains(&RecordCipher::Chacha20Poly1305)
    {
        v.push("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    } else {
        eprintln!("SKIP ChaCha20-Poly1305: not in the token");
    }
    v
}

/// Stores `kind`'s server and client keys (persistent, sensitive, not
/// extractable) and certificates in the token, once.
fn provision(store: &Pkcs11Store, kind: &str) {
    for role in ["server", "client"] {
        let label = format!("{kind}-{role}");
        if store
            .has_object(&format!("pkcs11:object={label};type=private"))
            .unwrap()
        {
            continue;
        }
        store
            .store_private_key(&read(kind, &format!("{role}.key")), &label, b"\x01")
            .unwrap();
        store
            .store_certificate(&read(kind, &format!("{role}.der")), &label, b"\x01")
            .unwrap();
    }
}

fn certified(store: &Pkcs11Store, kind: &str, role: &str) -> CertifiedKey {
    let label = format!("{kind}-{role}");
    let key = store
        .private_key(&format!("pkcs11:token=gateway;object={label};type=private"))
        .expect("the long-term key by URI");
    let cert = store
        .certificate(&format!("pkcs11:object={label};type=cert"))
        .expect("the certificate by URI");
    let mut chain =
        pem_certs(&String::from_utf8(read(kind, &format!("{role}.chain.pem"))).unwrap());
    assert_eq!(
        chain[0], cert,
        "the token's certificate is the chain's leaf"
    );
    chain[0] = cert;
    CertifiedKey::new(chain, Arc::new(key)).unwrap()
}

fn mutual_configs(
    client_store: Arc<dyn KeyStore>,
    server_store: Arc<dyn KeyStore>,
    token: &Pkcs11Store,
    kind: &str,
    suite: CipherSuite,
    group: NamedGroup,
    etm: bool,
) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
    let ca = read(kind, "ca.der");
    let server = ServerConfig::builder(server_store)
        .certificate(certified(token, kind, "server"))
        .client_auth(ClientAuth::Require, vec![ca.clone()])
        .cipher_suites(&[suite])
        .unwrap()
        .groups(&[group])
        .unwrap()
        .encrypt_then_mac(etm)
        .require_extended_master_secret(true)
        .session_tickets(false)
        .session_cache_size(0)
        .build()
        .unwrap();
    let client = ClientConfig::builder(client_store)
        .root_certificates(vec![ca])
        .client_certificate(certified(token, kind, "client"))
        .cipher_suites(&[suite])
        .unwrap()
        .groups(&[group])
        .unwrap()
        .encrypt_then_mac(etm)
        .require_extended_master_secret(true)
        .session_tickets(false)
        .session_cache_size(0)
        .build()
        .unwrap();
    (Arc::new(client), Arc::new(server))
}

/// Client and server both on the token, mutual authentication: every
/// suite × every group, brainpoolP256r1 certificates.
#[test]
fn token_handshakes_both_roles_every_suite_and_group() {
    let _guard = TOKEN.lock().unwrap_or_else(|e| e.into_inner());
    let store = Arc::new(open());
    provision(&store, "brainpoolP256r1");
    let baseline = store.session_object_count().unwrap();
    for suite_name in suites(&store) {
        let suite = CipherSuite::from_name(suite_name).unwrap();
        for group in [
            NamedGroup::brainpoolP256r1,
            NamedGroup::brainpoolP384r1,
            NamedGroup::brainpoolP512r1,
            NamedGroup::secp256r1,
            NamedGroup::secp384r1,
        ] {
            let etms: &[bool] = if suite_name.contains("CBC") {
                &[true, false]
            } else {
                &[true]
            };
            for &etm in etms {
                let what = format!("token both roles {suite_name} {group:?} etm={etm}");
                let client_side = Arc::new(Auditing::new(store.clone()));
                let server_side = Arc::new(Auditing::new(store.clone()));
                let (client, server) = mutual_configs(
                    client_side.clone(),
                    server_side.clone(),
                    &store,
                    "brainpoolP256r1",
                    suite,
                    group,
                    etm,
                );
                handshake(&client, &server, etm);
                drop((client, server));
                check_isolation(&client_side.audits(), &format!("{what} (client)"));
                check_isolation(&server_side.audits(), &format!("{what} (server)"));
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

/// Every certificate curve (the long-term keys' ECDSA in the token), the
/// token on one side and the software store on the other, both ways.
#[test]
fn token_against_soft_every_certificate_curve() {
    let _guard = TOKEN.lock().unwrap_or_else(|e| e.into_inner());
    let store = Arc::new(open());
    let soft = Arc::new(hsmtls_soft::SoftStore::new());
    let suite = CipherSuite::from_name("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256").unwrap();
    for kind in [
        "ecdsa-p256",
        "ecdsa-p384",
        "brainpoolP256r1",
        "brainpoolP384r1",
        "brainpoolP512r1",
    ] {
        provision(&store, kind);
        let baseline = store.session_object_count().unwrap();
        for token_is_client in [true, false] {
            let what = format!("{kind} certificates, token client: {token_is_client}");
            let side = Arc::new(Auditing::new(store.clone()));
            let (c, s): (Arc<dyn KeyStore>, Arc<dyn KeyStore>) = if token_is_client {
                (side.clone(), soft.clone())
            } else {
                (soft.clone(), side.clone())
            };
            // The software peer's key must be its own: re-import it there.
            let (client, server) = if token_is_client {
                let ca = read(kind, "ca.der");
                let server = ServerConfig::builder(s)
                    .certificate(
                        CertifiedKey::new(
                            pem_certs(&String::from_utf8(read(kind, "server.chain.pem")).unwrap()),
                            Arc::new(soft.import_private_key(&read(kind, "server.key")).unwrap()),
                        )
                        .unwrap(),
                    )
                    .client_auth(ClientAuth::Require, vec![ca.clone()])
                    .cipher_suites(&[suite])
                    .unwrap()
                    .groups(&[NamedGroup::brainpoolP256r1])
                    .unwrap()
                    .session_tickets(false)
                    .build()
                    .unwrap();
                let client = ClientConfig::builder(c)
                    .root_certificates(vec![ca])
                    .client_certificate(certified(&store, kind, "client"))
                    .cipher_suites(&[suite])
                    .unwrap()
                    .groups(&[NamedGroup::brainpoolP256r1])
                    .unwrap()
                    .require_extended_master_secret(true)
                    .session_tickets(false)
                    .build()
                    .unwrap();
                (Arc::new(client), Arc::new(server))
            } else {
                let ca = read(kind, "ca.der");
                let server = ServerConfig::builder(s)
                    .certificate(certified(&store, kind, "server"))
                    .client_auth(ClientAuth::Require, vec![ca.clone()])
                    .cipher_suites(&[suite])
                    .unwrap()
                    .groups(&[NamedGroup::secp256r1])
                    .unwrap()
                    .session_tickets(false)
                    .build()
                    .unwrap();
                let client = ClientConfig::builder(c)
                    .root_certificates(vec![ca])
                    .client_certificate(
                        CertifiedKey::new(
                            pem_certs(&String::from_utf8(read(kind, "client.chain.pem")).unwrap()),
                            Arc::new(soft.import_private_key(&read(kind, "client.key")).unwrap()),
                        )
                        .unwrap(),
                    )
                    .cipher_suites(&[suite])
                    .unwrap()
                    .groups(&[NamedGroup::secp256r1])
                    .unwrap()
                    .require_extended_master_secret(true)
                    .session_tickets(false)
                    .build()
                    .unwrap();
                (Arc::new(client), Arc::new(server))
            };
            handshake(&client, &server, true);
            drop((client, server));
            check_isolation(&side.audits(), &format!("{what} CBC"));
            assert_eq!(store.session_object_count().unwrap(), baseline, "{what}");
            eprintln!("ok: {what}");
        }
    }
}
