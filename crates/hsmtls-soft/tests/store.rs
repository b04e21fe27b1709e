//! Behaviour of the software store beyond the shared suite: key import,
//! known answers for the TLS 1.2 derivations, store isolation.

mod common;

use common::{hex, read};
use hsmtls_crypto::aead::{AeadAlg, AeadKey};
use hsmtls_crypto::prf::tls12_prf;
use hsmtls_crypto::HashAlg;
use hsmtls_keys::{
    FinishedLabel, HashAlgorithm, KeyError, KeyExchangeGroup, KeyStore, MasterSecretSeed,
    PublicKeyAlgorithm, RecordCipher, SecretUsage,
};
use hsmtls_soft::SoftStore;

#[test]
fn import_detects_algorithm_and_curve() {
    use KeyExchangeGroup::*;
    let store = SoftStore::new();
    let cases = [
        ("p256.pkcs8.pem", PublicKeyAlgorithm::Ec(Secp256r1)),
        ("p384.sec1.pem", PublicKeyAlgorithm::Ec(Secp384r1)),
        ("p521.pkcs8.der", PublicKeyAlgorithm::Ec(Secp521r1)),
        ("bp256.sec1.pem", PublicKeyAlgorithm::Ec(BrainpoolP256r1)),
        ("bp256.sec1.der", PublicKeyAlgorithm::Ec(BrainpoolP256r1)),
        ("bp384.pkcs8.pem", PublicKeyAlgorithm::Ec(BrainpoolP384r1)),
        ("bp512.pkcs8.der", PublicKeyAlgorithm::Ec(BrainpoolP512r1)),
        ("rsa2048.pkcs8.pem", PublicKeyAlgorithm::Rsa),
        ("rsa2048.pkcs1.pem", PublicKeyAlgorithm::Rsa),
        ("rsa2048.pkcs1.der", PublicKeyAlgorithm::Rsa),
        ("ed25519.pkcs8.pem", PublicKeyAlgorithm::Ed25519),
    ];
    for (file, want) in cases {
        let key = store.import_private_key(&read(file)).unwrap();
        assert_eq!(key.algorithm(), want, "{file}");
        let public = store.public_key(&key).unwrap();
        if let PublicKeyAlgorithm::Ec(g) = want {
            assert_eq!(public.len(), g.share_len(), "{file}");
        }
    }
}

#[test]
fn import_rejects_garbage_without_panicking() {
    let store = SoftStore::new();
    let good = read("p256.pkcs8.pem");
    let der = read("p521.pkcs8.der");
    let mut inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"hello".to_vec(),
        b"-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n".to_vec(),
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
        good[..good.len() / 2].to_vec(),
    ];
    for cut in 0..der.len() {
        inputs.push(der[..cut].to_vec());
    }
    for i in 0..der.len() {
        let mut d = der.clone();
        d[i] ^= 0xff;
        inputs.push(d);
    }
    for input in inputs {
        let _ = store.import_private_key(&input);
    }
    assert!(store.import_private_key(b"").is_err());
}

/// The widely published TLS 1.2 PRF (P_SHA256) test vector, through the
/// store's exporter (`PRF(master, label, seed)`), cross-checked with
/// `openssl kdf ... TLS1-PRF`.
#[test]
fn prf_sha256_known_answer_through_the_store() {
    let store = SoftStore::new();
    let secret = store
        .import_secret(
            SecretUsage::Master,
            &hex("9bbe436ba940f017b17652849a71db35"),
        )
        .unwrap();
    let mut out = [0u8; 100];
    store
        .tls12_export(
            &secret,
            HashAlgorithm::Sha256,
            b"test label",
            &hex("a0ba9f936cda311827a6f796ffd5198c"),
            &mut out,
        )
        .unwrap();
    assert_eq!(
        out.to_vec(),
        hex(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a
             6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab
             4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701
             87347b66"
        )
    );
}

/// Master secret (RFC 5246 §8.1 and RFC 7627 §4) and verify_data against
/// the PRF computed by hand.
#[test]
fn master_secret_and_verify_data_known_answers() {
    let store = SoftStore::new();
    let pms_bytes = [0x42u8; 32];
    let cr = [1u8; 32];
    let sr = [2u8; 32];
    let hash = [9u8; 48];
    for (prf, alg) in [
        (HashAlgorithm::Sha256, HashAlg::Sha256),
        (HashAlgorithm::Sha384, HashAlg::Sha384),
    ] {
        for ems in [false, true] {
            let pms = store
                .import_secret(SecretUsage::PreMaster, &pms_bytes)
                .unwrap();
            let seed = if ems {
                MasterSecretSeed::SessionHash(&hash)
            } else {
                MasterSecretSeed::Randoms {
                    client_random: &cr,
                    server_random: &sr,
                }
            };
            let master = store.tls12_master_secret(pms, prf, seed).unwrap();
            let mut ms = [0u8; 48];
            if ems {
                tls12_prf(
                    alg,
                    &pms_bytes,
                    b"extended master secret",
                    &[&hash],
                    &mut ms,
                );
            } else {
                tls12_prf(alg, &pms_bytes, b"master secret", &[&cr, &sr], &mut ms);
            }
            let mut vd = [0u8; 12];
            tls12_prf(
                alg,
                &ms,
                b"server finished",
                &[&hash[..alg.output_len()]],
                &mut vd,
            );
            let got = store
                .tls12_verify_data(
                    &master,
                    prf,
                    FinishedLabel::Server,
                    &hash[..alg.output_len()],
                )
                .unwrap();
            assert_eq!(got, vd, "{prf:?} ems={ems}");
        }
    }
}

/// The key block is split as RFC 5246 §6.3 says: a GCM record sealed by
/// the store equals one sealed with keys taken from the PRF by hand.
#[test]
fn key_block_layout_gcm_and_chacha() {
    let store = SoftStore::new();
    let ms = [0x33u8; 48];
    let cr = [1u8; 32];
    let sr = [2u8; 32];
    let master = store.import_secret(SecretUsage::Master, &ms).unwrap();
    for (cipher, alg, key_len, iv_len) in [
        (RecordCipher::Aes128Gcm, AeadAlg::Aes128Gcm, 16, 4),
        (RecordCipher::Aes256Gcm, AeadAlg::Aes256Gcm, 32, 4),
        (
            RecordCipher::Chacha20Poly1305,
            AeadAlg::Chacha20Poly1305,
            32,
            12,
        ),
    ] {
        let mut block = vec![0u8; 2 * (key_len + iv_len)];
        tls12_prf(
            HashAlg::Sha256,
            &ms,
            b"key expansion",
            &[&sr, &cr],
            &mut block,
        );
        let server_key = &block[key_len..2 * key_len];
        let server_iv = &block[2 * key_len + iv_len..];
        let mut keys = store
            .tls12_traffic_keys(&master, HashAlgorithm::Sha256, &cr, &sr, cipher)
            .unwrap();
        let seq = 5u64;
        let mut out = Vec::new();
        keys.server_write
            .seal(seq, 23, 0x0303, b"known answer", &mut out)
            .unwrap();

        let mut nonce = [0u8; 12];
        nonce[..iv_len].copy_from_slice(server_iv);
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        let mut aad = seq.to_be_bytes().to_vec();
        aad.extend_from_slice(&[23, 3, 3, 0, 12]);
        let mut body = b"known answer".to_vec();
        let tag = AeadKey::new(alg, server_key)
            .unwrap()
            .seal_in_place_separate_tag(nonce, &aad, &mut body)
            .unwrap();
        let mut expected = Vec::new();
        if iv_len == 4 {
            expected.extend_from_slice(&seq.to_be_bytes());
        }
        expected.extend_from_slice(&body);
        expected.extend_from_slice(&tag);
        assert_eq!(out, expected, "{cipher:?}");
    }
}

/// A CBC (MAC-then-encrypt) record built by hand from the key block opens
/// in the store.
#[test]
fn key_block_layout_cbc() {
    use hsmtls_crypto::cbc::AesCbcKey;
    use hsmtls_crypto::hash::HmacKey;
    let store = SoftStore::new();
    let ms = [0x44u8; 48];
    let cr = [3u8; 32];
    let sr = [4u8; 32];
    let master = store.import_secret(SecretUsage::Master, &ms).unwrap();
    let mut block = vec![0u8; 2 * (32 + 16)];
    tls12_prf(
        HashAlg::Sha256,
        &ms,
        b"key expansion",
        &[&sr, &cr],
        &mut block,
    );
    let client_mac = &block[..32];
    let client_key = &block[64..80];
    let mut keys = store
        .tls12_traffic_keys(
            &master,
            HashAlgorithm::Sha256,
            &cr,
            &sr,
            RecordCipher::Aes128CbcSha256 {
                encrypt_then_mac: false,
            },
        )
        .unwrap();
    let plaintext = b"cbc known answer";
    let mut header = 7u64.to_be_bytes().to_vec();
    header.extend_from_slice(&[22, 3, 3, 0, plaintext.len() as u8]);
    let mac = HmacKey::new(HashAlg::Sha256, client_mac).sign(&[&header, plaintext]);
    let mut body = plaintext.to_vec();
    body.extend_from_slice(&mac);
    let pad = 15 - (body.len() % 16);
    body.extend(std::iter::repeat_n(pad as u8, pad + 1));
    let iv = [0x77u8; 16];
    AesCbcKey::new(client_key)
        .unwrap()
        .encrypt_in_place(&iv, &mut body)
        .unwrap();
    let mut fragment = iv.to_vec();
    fragment.extend_from_slice(&body);
    let range = keys
        .client_write
        .open(7, 22, 0x0303, &mut fragment)
        .unwrap();
    assert_eq!(&fragment[range], plaintext);
}

#[test]
fn handles_of_another_soft_store_are_refused() {
    let a = SoftStore::new();
    let b = SoftStore::new();
    let (share, public) = a.start_key_exchange(KeyExchangeGroup::Secp256r1).unwrap();
    assert!(matches!(
        b.complete_key_exchange(share, &public),
        Err(KeyError::WrongHandle(_))
    ));
    let secret = a.import_secret(SecretUsage::Master, &[1; 48]).unwrap();
    assert!(matches!(
        b.tls12_verify_data(
            &secret,
            HashAlgorithm::Sha256,
            FinishedLabel::Client,
            &[0; 32]
        ),
        Err(KeyError::WrongHandle(_))
    ));
    let key = a.import_private_key(&read("ed25519.pkcs8.pem")).unwrap();
    assert!(matches!(
        b.sign(&key, hsmtls_keys::SignatureAlgorithm::Ed25519, b"m"),
        Err(KeyError::WrongHandle(_))
    ));
    let tk = a.new_ticket_key().unwrap();
    assert!(matches!(
        b.ticket_seal(&tk, &secret, b""),
        Err(KeyError::WrongHandle(_))
    ));
}

#[test]
fn debug_of_a_known_secret_does_not_show_it() {
    let store = SoftStore::new();
    let secret = store
        .import_secret(SecretUsage::Master, &[0xab; 48])
        .unwrap();
    let s = format!("{secret:?} {secret:#?}");
    assert!(!s.contains("ab") && !s.contains("171"), "{s}");
}

#[test]
fn usable_as_arc_dyn_key_store() {
    let store: std::sync::Arc<dyn KeyStore> = std::sync::Arc::new(SoftStore::new());
    let s2 = store.clone();
    std::thread::spawn(move || {
        let (share, _) = s2
            .start_key_exchange(KeyExchangeGroup::BrainpoolP256r1)
            .unwrap();
        drop(share);
    })
    .join()
    .unwrap();
    assert_eq!(store.name(), "soft");
}

#[test]
fn import_key_share_known_answers() {
    let store = SoftStore::new();
    // RFC 7748 §6.1: Alice's and Bob's X25519 keys and their shared secret.
    let (alice, alice_public) = store
        .import_key_share(
            KeyExchangeGroup::X25519,
            &hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
        )
        .unwrap();
    assert_eq!(alice.group(), KeyExchangeGroup::X25519);
    assert_eq!(
        alice_public,
        hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    );
    let bob_public = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    let shared = store.complete_key_exchange(alice, &bob_public).unwrap();
    let expected = store
        .import_secret(
            SecretUsage::PreMaster,
            &hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"),
        )
        .unwrap();
    // The store never reveals a secret: compare one derivation from each.
    let derive = |s: hsmtls_keys::Secret| {
        let prk = store
            .hkdf_extract(HashAlgorithm::Sha256, None, Some(&s))
            .unwrap();
        let mut out = [0u8; 32];
        store
            .hkdf_expand_label_data(HashAlgorithm::Sha256, &prk, b"compare", b"", &mut out)
            .unwrap();
        out
    };
    assert_eq!(derive(shared), derive(expected), "X25519 shared secret");

    // RFC 5903 §8.1: P-256 (big-endian scalar, uncompressed point).
    let (i, gi) = store
        .import_key_share(
            KeyExchangeGroup::Secp256r1,
            &hex("c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433"),
        )
        .unwrap();
    assert_eq!(
        gi,
        hex(concat!(
            "04dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180",
            "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3"
        ))
    );
    let gr = hex(concat!(
        "04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63",
        "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab"
    ));
    let shared = store.complete_key_exchange(i, &gr).unwrap();
    let expected = store
        .import_secret(
            SecretUsage::PreMaster,
            &hex("d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"),
        )
        .unwrap();
    assert_eq!(derive(shared), derive(expected), "P-256 shared secret");

    // Wrong lengths and out-of-range scalars are refused, not panicked on.
    assert!(store
        .import_key_share(KeyExchangeGroup::X25519, &[7; 31])
        .is_err());
    assert!(store
        .import_key_share(KeyExchangeGroup::Secp256r1, &[0; 32])
        .is_err());
    assert!(store
        .import_key_share(KeyExchangeGroup::Secp256r1, &[0xff; 32])
        .is_err());
}
