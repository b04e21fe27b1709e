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

/// NSS will not derive readable traffic keys from its non-extractable
/// master secret, so the record-layer relaxation cannot work there: the
/// store says so when it is opened, instead of moving anything.
#[test]
fn nss_software_record_layer_is_declared_and_refused_clearly() {
    if common::nss().is_none() {
        return;
    }
    let config =
        hsmtls_pkcs11::Pkcs11Config::nss_softoken().policy(hsmtls_pkcs11::Policy::Relaxed(vec![
            hsmtls_pkcs11::Relaxation::SoftwareRecordLayer,
        ]));
    // Refused at open, by a trial key block, before any handshake: nothing
    // is moved, and the error names the relaxation and the token.
    match hsmtls_pkcs11::Pkcs11Store::open(&config) {
        Err(e @ hsmtls_pkcs11::OpenError::Unhonourable { .. }) => {
            let text = e.to_string();
            assert!(text.contains("software record layer"), "{text}");
            assert!(text.contains("cannot honour"), "{text}");
        }
        Ok(_) => panic!("NSS softoken accepted the software record layer"),
        Err(e) => panic!("want Unhonourable, got {e}"),
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
