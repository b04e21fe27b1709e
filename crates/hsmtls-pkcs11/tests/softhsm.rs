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
