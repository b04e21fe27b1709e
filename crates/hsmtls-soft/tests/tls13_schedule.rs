//! The TLS 1.3 key schedule in the software store, byte for byte against
//! RFC 8448 §3 ("Simple 1-RTT Handshake").

use hsmtls_keys::{AeadAlgorithm, HashAlgorithm, KeyStore, SecretUsage};
use hsmtls_soft::SoftStore;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}

/// `HKDF-Expand-Label(secret, "key", "", 16)` as public bytes: RFC 8448
/// lists these write keys, so a secret that stays in the store can still
/// be checked against the trace.
fn key_of(store: &SoftStore, secret: &hsmtls_keys::Secret) -> Vec<u8> {
    let mut out = [0u8; 16];
    store
        .hkdf_expand_label_data(HashAlgorithm::Sha256, secret, b"key", b"", &mut out)
        .expect("expand");
    out.to_vec()
}

#[test]
fn rfc8448_simple_1rtt_schedule() {
    let store = SoftStore::new();
    let h = HashAlgorithm::Sha256;
    let empty_hash = hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // (EC)DHE shared secret from the trace.
    let ecdhe = store
        .import_secret(
            SecretUsage::PreMaster,
            &hex("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d"),
        )
        .expect("import");
    let early = store.hkdf_extract(h, None, None).expect("early secret");
    let derived = store
        .hkdf_expand_label(h, &early, b"derived", &empty_hash, SecretUsage::Tls13)
        .expect("derived");
    let handshake = store
        .hkdf_extract(h, Some(&derived), Some(&ecdhe))
        .expect("handshake secret");
    // Transcript-Hash(ClientHello, ServerHello) from the trace.
    let hello_hash = hex("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
    let server_hs = store
        .hkdf_expand_label(
            h,
            &handshake,
            b"s hs traffic",
            &hello_hash,
            SecretUsage::Tls13,
        )
        .expect("s hs traffic");
    let client_hs = store
        .hkdf_expand_label(
            h,
            &handshake,
            b"c hs traffic",
            &hello_hash,
            SecretUsage::Tls13,
        )
        .expect("c hs traffic");
    // RFC 8448 §3: server handshake write key / client handshake write key.
    assert_eq!(
        key_of(&store, &server_hs),
        hex("3fce516009c21727d0f2e4e86ee403bc")
    );
    assert_eq!(
        key_of(&store, &client_hs),
        hex("dbfaa693d1762c5b666af5d950258d01")
    );

    // The record protector built from the server's secret opens what a
    // protector built from the same secret seals.
    let mut sealer = store
        .tls13_record_protector(h, &server_hs, AeadAlgorithm::Aes128Gcm)
        .expect("protector");
    let mut opener = store
        .tls13_record_protector(h, &server_hs, AeadAlgorithm::Aes128Gcm)
        .expect("protector");
    let mut out = Vec::new();
    sealer
        .seal(0, 23, 0x0303, b"inner\x16", &mut out)
        .expect("seal");
    let range = opener.open(0, 23, 0x0303, &mut out).expect("open");
    assert_eq!(&out[range], b"inner\x16");

    // Finished: different hashes give different MACs; equal inputs agree.
    let a = store
        .tls13_verify_data(h, &server_hs, &hello_hash)
        .expect("mac");
    let b = store
        .tls13_verify_data(h, &server_hs, &hello_hash)
        .expect("mac");
    let c = store
        .tls13_verify_data(h, &server_hs, &empty_hash)
        .expect("mac");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.as_ref().len(), 32);

    // A TLS 1.2 master secret is refused in the TLS 1.3 schedule.
    let master = store
        .import_secret(SecretUsage::Master, &[1u8; 48])
        .expect("import");
    assert!(store.hkdf_extract(h, Some(&master), None).is_err());
}
