//! The TR-03109 split, proven by counting: a smart-meter gateway client
//! whose ONLY key store is hsmtls-token (a `TracingStore` over the
//! strict `Pkcs11Store`, nothing relaxed) runs a TR-03109 handshake
//! (TLS 1.2, brainpoolP256r1, ECDHE-ECDSA AES-128-CBC-SHA256, EMS,
//! encrypt-then-MAC, mutual authentication) against a software server.
//! The trace shows that the five operations TR-03109 puts in the security
//! module — the ClientHello random, the ephemeral ECDH key pair, the
//! pre-master secret, the client's CertificateVerify signature and the
//! check of the server's signature — were performed by the token, and the
//! stronger goal too (master secret, Finished, traffic keys), with no
//! failed operation and no session object left behind.

mod common;

use std::sync::Arc;

use common::tls::{handshake, pem_certs};
use hsmtls::profiles::{tr03109_client, tr03109_server};
use hsmtls::CertifiedKey;
use hsmtls_keys::trace::TracingStore;
use hsmtls_keys::{KeyStore, OperationKind as K};
use hsmtls_pkcs11::{Pkcs11Store, Policy};

fn read(file: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/pki/brainpoolP256r1"
        ))
        .join(file),
    )
    .unwrap()
}

#[test]
fn tr03109_gateway_client_runs_the_five_steps_in_the_token() {
    let config = common::hsmtls_token();
    assert_eq!(config.policy, Policy::Strict);
    let token = Arc::new(Pkcs11Store::open(&config).expect("open hsmtls-token strictly"));
    assert!(token.relaxations().is_empty(), "nothing relaxed");
    let baseline = token.session_object_count().unwrap();

    // The gateway: its key in the token, the token its only store.
    let gateway_key = token
        .import_private_key(&read("client.key"), "gateway", b"gw")
        .expect("the gateway key into the token");
    let gateway = Arc::new(TracingStore::new(token.clone(), "gateway"));
    let client = tr03109_client(
        gateway.clone() as Arc<dyn KeyStore>,
        vec![read("ca.der")],
        CertifiedKey::new(
            pem_certs(&String::from_utf8(read("client.chain.pem")).unwrap()),
            Arc::new(gateway_key),
        )
        .unwrap(),
    )
    .unwrap()
    .cipher_suites(&[hsmtls::msgs::enums::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256])
    .unwrap()
    .groups(&[hsmtls::msgs::enums::NamedGroup::brainpoolP256r1])
    .unwrap()
    .session_tickets(false)
    .build()
    .unwrap();

    // The administrator server, in software.
    let soft = Arc::new(hsmtls_soft::SoftStore::new());
    let server = tr03109_server(
        soft.clone(),
        CertifiedKey::new(
            pem_certs(&String::from_utf8(read("server.chain.pem")).unwrap()),
            Arc::new(soft.import_private_key(&read("server.key")).unwrap()),
        )
        .unwrap(),
        vec![read("ca.der")],
    )
    .unwrap()
    .session_tickets(false)
    .build()
    .unwrap();

    gateway.take_events();
    handshake(&Arc::new(client), &Arc::new(server), true);

    let events = gateway.take_events();
    for e in &events {
        assert!(e.ok, "failed in the token: {e:?}");
    }
    let count = |k: K| events.iter().filter(|e| e.kind == k).count();
    for (kind, what) in [
        (K::Random, "the ClientHello random"),
        (K::StartKeyExchange, "the ephemeral ECDH key pair"),
        (K::CompleteKeyExchange, "the pre-master secret"),
        (K::Sign, "the CertificateVerify signature"),
        (K::Tls12MasterSecret, "the master secret"),
        (K::Tls12TrafficKeys, "the traffic keys"),
        (K::Tls12VerifyData, "Finished"),
    ] {
        assert!(
            count(kind) >= 1,
            "{what} ({kind:?}) not in the token: {events:?}"
        );
    }
    assert_eq!(count(K::StartKeyExchange), 1);
    assert_eq!(count(K::CompleteKeyExchange), 1);
    assert_eq!(count(K::Sign), 1, "one CertificateVerify");
    // The ServerKeyExchange signature and the server's chain (leaf by the
    // intermediate, intermediate by the root): at least three checks.
    assert!(
        count(K::Verify) >= 3,
        "the server's signature and chain checked in the token: {events:?}"
    );
    // Every operation of the gateway ran on the token: it has no other store.
    assert!(events.iter().all(|e| !matches!(
        e.kind,
        K::NewTicketKey | K::TicketSeal | K::TicketOpen | K::Tls12Export
    )));
    eprintln!("gateway operations, all in hsmtls-token:");
    for e in &events {
        eprintln!("  {:?} {}", e.kind, e.detail);
    }
    assert_eq!(
        token.session_object_count().unwrap(),
        baseline,
        "session objects left behind (the imported gateway key went with its config)"
    );
}
