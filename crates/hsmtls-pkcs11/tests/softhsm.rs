//! SoftHSM2: no TLS mechanisms, so strict mode is refused with the missing
//! mechanism named, and the key-store API suite runs with the declared
//! [`Relaxation::SoftwarePrf`] (ECDH key pairs, the pre-master derivation,
//! signatures, record keys and ticket keys stay in the token).

mod common;

use hsmtls_keys::conformance::{self, ConformanceKey, ConformanceKeys};
use hsmtls_keys::{KeyExchangeGroup, KeyStore, RecordCipher};
use hsmtls_pkcs11::{OpenError, Pkcs11Store, Policy, Relaxation};

#[test]
fn softhsm_strict_is_refused_with_the_missing_mechanism() {
    std::env::set_var("HSMTLS_TEST_PIN", "1234");
    let Some(config) = common::softhsm_config(Policy::Strict) else {
        return;
    };
    match Pkcs11Store::open(&config) {
        Err(e @ OpenError::MissingMechanism { .. }) => {
            let message = e.to_string();
            assert!(
                message.contains("CKM_TLS12_MASTER_KEY_DERIVE_DH"),
                "{message}"
            );
            assert!(message.contains("\"t\""), "names the token: {message}");
        }
        other => panic!(
            "strict SoftHSM2 opened: {:?}",
            other.map(|s| s.relaxations().to_vec())
        ),
    }
}

#[test]
fn softhsm_conformance_with_software_prf() {
    let Some(store) = common::softhsm() else {
        return;
    };
    assert_eq!(store.relaxations(), &[Relaxation::SoftwarePrf]);
    let caps = store.capabilities();
    eprintln!("SoftHSM2 capabilities: {caps:?}");
    assert!(caps.groups.contains(&KeyExchangeGroup::BrainpoolP256r1));
    assert!(caps.record_ciphers.contains(&RecordCipher::Aes128Gcm));
    let mut keys = ConformanceKeys::default();
    for (group, id) in [
        (KeyExchangeGroup::Secp256r1, 1u8),
        (KeyExchangeGroup::BrainpoolP256r1, 2),
    ] {
        let key = store
            .generate_private_key(group, "conformance", &[id])
            .expect("generate a signing key in SoftHSM2");
        keys.keys.push(ConformanceKey {
            public_key: store.public_key(&key).unwrap(),
            private: key,
            algorithms: vec![],
        });
    }
    conformance::run_all(&store, &keys);
}

/// Handshakes with SoftHSM2 under the PRF relaxation: the server's key and
/// the ECDH key pair in the token, record keys back in the token.
#[test]
fn softhsm_handshakes_with_software_prf() {
    use std::sync::Arc;

    use common::tls::{configs, handshake, pki, SUITES};
    use hsmtls::msgs::enums::{CipherSuite, NamedGroup};
    use hsmtls_soft::SoftStore;

    let Some(store) = common::softhsm() else {
        return;
    };
    let store = Arc::new(store);
    let soft = Arc::new(SoftStore::new());
    let pki = pki(false);
    // Owns the session object; the URI lookups below borrow it.
    let _owner = store
        .import_private_key(pki.key, "server", b"\x05")
        .unwrap();
    for suite_name in SUITES {
        let suite = CipherSuite::from_name(suite_name).unwrap();
        for etm in [true, false] {
            // Server on SoftHSM2, its key found by URI.
            let key = store
                .private_key("pkcs11:token=t;object=server;type=private")
                .unwrap();
            let (client, server) = configs(
                soft.clone(),
                store.clone(),
                key,
                &pki,
                suite,
                NamedGroup::secp256r1,
                etm,
            );
            let (c, s) = handshake(&client, &server, etm);
            // The relaxation is visible in the connection's information.
            assert_eq!(
                s.negotiated().relaxations,
                vec![Relaxation::SoftwarePrf.to_string()]
            );
            assert!(s.negotiated().key_store.starts_with("pkcs11:"));
            assert!(c.negotiated().relaxations.is_empty());
            // Client on SoftHSM2.
            let key = soft.import_private_key(pki.key).unwrap();
            let (client, server) = configs(
                store.clone(),
                soft.clone(),
                key,
                &pki,
                suite,
                NamedGroup::secp384r1,
                etm,
            );
            handshake(&client, &server, etm);
        }
    }
}

/// Both relaxations on SoftHSM2: PRF and record protection in software,
/// declared; the suite's record tests pass on the software record layer.
#[test]
fn softhsm_software_record_layer() {
    std::env::set_var("HSMTLS_TEST_PIN", "1234");
    let Some(config) = common::softhsm_config(Policy::Relaxed(vec![
        Relaxation::SoftwareRecordLayer,
        Relaxation::SoftwarePrf,
    ])) else {
        return;
    };
    let store = Pkcs11Store::open(&config).unwrap();
    assert_eq!(
        store.relaxations(),
        &[Relaxation::SoftwarePrf, Relaxation::SoftwareRecordLayer]
    );
    conformance::traffic_keys(&store);
}
