//! The key-store API suite against NSS softoken in strict mode: every
//! secret in NSS's module.

mod common;

use hsmtls_keys::conformance::{self, ConformanceKey, ConformanceKeys};
use hsmtls_keys::{KeyExchangeGroup, KeyStore};

#[test]
fn nss_conformance_strict() {
    let Some(store) = common::nss() else { return };
    assert!(store.relaxations().is_empty(), "NSS runs strict");
    let caps = store.capabilities();
    eprintln!("NSS capabilities: {caps:?}");
    let key = store
        .generate_private_key(KeyExchangeGroup::Secp256r1, "conformance", b"\x01")
        .expect("generate a P-256 key in NSS");
    let imported = store
        .import_private_key(
            include_bytes!("../../../testdata/pki/ecdsa-p384/server.key"),
            "p384",
            b"\x02",
        )
        .expect("import a P-384 key into NSS");
    let keys = ConformanceKeys {
        keys: vec![
            ConformanceKey {
                public_key: store.public_key(&key).unwrap(),
                private: key,
                algorithms: vec![],
            },
            ConformanceKey {
                public_key: store.public_key(&imported).unwrap(),
                private: imported,
                algorithms: vec![],
            },
        ],
    };
    conformance::random(&store);
    conformance::hashing(&store);
    conformance::key_exchange(&store);
    conformance::invalid_peer_shares(&store);
    conformance::extended_master_secret(&store);
    conformance::traffic_keys(&store);
    conformance::exporter(&store);
    conformance::signatures(&store, &keys);
    eprintln!("SKIP tickets on NSS strict: a master secret in the token is not extractable, so it cannot be sealed into a ticket");
    conformance::wrong_handles(&store);
    conformance::debug_shows_no_secret(&store, &keys);
}
