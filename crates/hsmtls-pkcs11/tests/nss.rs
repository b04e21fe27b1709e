//! The key-store API suite against NSS softoken in strict mode: every
//! secret in NSS's module.

mod common;

use hsmtls_keys::conformance::{self, ConformanceKey, ConformanceKeys};
use hsmtls_keys::{KeyExchangeGroup, KeyStore};

#[test]
fn nss_conformance_strict() {
    let Some(store) = common::nss() else { return };
    assert!(store.relaxations().is_empty(), "NSS runs strict");
    // MAC-then-encrypt records are opened with NSS's constant-time HMAC.
    assert!(
        store.uses_constant_time_hmac(),
        "CKM_NSS_HMAC_CONSTANT_TIME works on NSS softoken"
    );
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
    let rsa = store
        .import_private_key(
            include_bytes!("../../../testdata/pki/rsa2048/server.key"),
            "rsa",
            b"\x03",
        )
        .expect("import an RSA key into NSS");
    let keys = ConformanceKeys {
        keys: vec![
            ConformanceKey {
                public_key: store.public_key(&rsa).unwrap(),
                private: rsa,
                algorithms: vec![],
            },
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

/// The record-layer relaxation is declared, and where NSS will not derive
/// extractable traffic keys from its non-extractable master secret the
/// store says so instead of moving anything.
#[test]
fn nss_software_record_layer_is_declared_and_refused_clearly() {
    use hsmtls_keys::{MasterSecretSeed, RecordCipher};
    if common::nss().is_none() {
        return;
    }
    let config =
        hsmtls_pkcs11::Pkcs11Config::nss_softoken().policy(hsmtls_pkcs11::Policy::Relaxed(vec![
            hsmtls_pkcs11::Relaxation::SoftwareRecordLayer,
        ]));
    let store = hsmtls_pkcs11::Pkcs11Store::open(&config).unwrap();
    assert_eq!(
        store.relaxations(),
        &[hsmtls_pkcs11::Relaxation::SoftwareRecordLayer]
    );
    let (a, _) = store
        .start_key_exchange(KeyExchangeGroup::Secp256r1)
        .unwrap();
    let (_, peer) = store
        .start_key_exchange(KeyExchangeGroup::Secp256r1)
        .unwrap();
    let pms = store.complete_key_exchange(a, &peer).unwrap();
    let randoms = MasterSecretSeed::Randoms {
        client_random: &[1; 32],
        server_random: &[2; 32],
    };
    let master = store
        .tls12_master_secret(pms, hsmtls_keys::HashAlgorithm::Sha256, randoms)
        .unwrap();
    match store.tls12_traffic_keys(
        &master,
        hsmtls_keys::HashAlgorithm::Sha256,
        &[1; 32],
        &[2; 32],
        RecordCipher::Aes128Gcm,
    ) {
        Err(hsmtls_keys::KeyError::Unsupported(why)) => {
            assert!(why.contains("software record layer"), "{why}")
        }
        other => panic!("want Unsupported, got {:?}", other.map(|_| "keys")),
    }
}

/// Allowing the PRF relaxation on a token that has the TLS mechanisms
/// changes nothing: a relaxation is used only where it is needed.
#[test]
fn nss_unneeded_prf_relaxation_is_not_used() {
    if common::nss().is_none() {
        return;
    }
    let config =
        hsmtls_pkcs11::Pkcs11Config::nss_softoken().policy(hsmtls_pkcs11::Policy::Relaxed(vec![
            hsmtls_pkcs11::Relaxation::SoftwarePrf,
        ]));
    let store = hsmtls_pkcs11::Pkcs11Store::open(&config).unwrap();
    assert!(store.relaxations().is_empty());
}
