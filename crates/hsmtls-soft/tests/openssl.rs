//! Cross-checks against the `openssl` command-line tool (OpenSSL 3): ECDSA
//! signatures made here verify there and the reverse, and ECDH agrees
//! with `openssl pkeyutl -derive`, on the brainpool curves (our AWS-LC C
//! API code) and the NIST curves. Skipped, with a note, without `openssl`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{data, read};
use hsmtls_crypto::ecdh::EcdhPrivateKey;
use hsmtls_crypto::prf::tls12_prf;
use hsmtls_crypto::{ec_public_key_spki, Curve, HashAlg};
use hsmtls_keys::{
    FinishedLabel, HashAlgorithm, KeyExchangeGroup, KeyStore, MasterSecretSeed, PublicKey,
    SignatureAlgorithm,
};
use hsmtls_soft::SoftStore;

fn openssl_available() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("NOTE: openssl not found; skipping the OpenSSL cross-checks");
    }
    ok
}

fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hsmtls-soft-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn digest_flag(alg: SignatureAlgorithm) -> &'static str {
    match alg {
        SignatureAlgorithm::EcdsaSha256 => "-sha256",
        SignatureAlgorithm::EcdsaSha384 => "-sha384",
        _ => "-sha512",
    }
}

const SIGNING_CASES: [(&str, &str, SignatureAlgorithm); 8] = [
    ("bp256.sec1.pem", "PEM", SignatureAlgorithm::EcdsaSha256),
    ("bp256.sec1.der", "DER", SignatureAlgorithm::EcdsaSha512),
    ("bp384.pkcs8.pem", "PEM", SignatureAlgorithm::EcdsaSha384),
    ("bp512.pkcs8.der", "DER", SignatureAlgorithm::EcdsaSha512),
    ("bp512.pkcs8.der", "DER", SignatureAlgorithm::EcdsaSha256),
    // Pairs aws-lc-rs cannot sign: the AWS-LC C API fallback.
    ("p256.pkcs8.pem", "PEM", SignatureAlgorithm::EcdsaSha512),
    ("p384.sec1.pem", "PEM", SignatureAlgorithm::EcdsaSha256),
    // aws-lc-rs's own path.
    ("p256.pkcs8.pem", "PEM", SignatureAlgorithm::EcdsaSha256),
];

#[test]
fn our_ecdsa_signatures_verify_in_openssl() {
    if !openssl_available() {
        return;
    }
    let dir = temp_dir("sign");
    let store = SoftStore::new();
    let message = b"CertificateVerify for a smart-meter gateway";
    std::fs::write(dir.join("msg.bin"), message).unwrap();
    for (file, form, alg) in SIGNING_CASES {
        let key = store.import_private_key(&read(file)).unwrap();
        let sig = store.sign(&key, alg, message).unwrap();
        std::fs::write(dir.join("sig.bin"), &sig).unwrap();
        let key_path = data(file);
        let key_path = key_path.to_str().unwrap();
        openssl(
            &dir,
            &[
                "pkey", "-inform", form, "-in", key_path, "-pubout", "-out", "pub.pem",
            ],
        );
        let out = openssl(
            &dir,
            &[
                "dgst",
                digest_flag(alg),
                "-verify",
                "pub.pem",
                "-signature",
                "sig.bin",
                "msg.bin",
            ],
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Verified OK"),
            "{file} {alg:?}: openssl did not verify our signature"
        );
        // And a signature over another message does not verify there.
        let other = store.sign(&key, alg, b"another message").unwrap();
        std::fs::write(dir.join("sig.bin"), &other).unwrap();
        let status = Command::new("openssl")
            .args([
                "dgst",
                digest_flag(alg),
                "-verify",
                "pub.pem",
                "-signature",
                "sig.bin",
                "msg.bin",
            ])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            !status.status.success(),
            "{file}: openssl verified a wrong signature"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn openssl_ecdsa_signatures_verify_here() {
    if !openssl_available() {
        return;
    }
    let dir = temp_dir("verify");
    let store = SoftStore::new();
    let message = b"ServerKeyExchange params signed by OpenSSL";
    std::fs::write(dir.join("msg.bin"), message).unwrap();
    for (file, form, alg) in SIGNING_CASES {
        let key = store.import_private_key(&read(file)).unwrap();
        let public = store.public_key(&key).unwrap();
        let key_path = data(file);
        let key_path = key_path.to_str().unwrap();
        openssl(
            &dir,
            &[
                "dgst",
                digest_flag(alg),
                "-keyform",
                form,
                "-sign",
                key_path,
                "-out",
                "sig.bin",
                "msg.bin",
            ],
        );
        let sig = std::fs::read(dir.join("sig.bin")).unwrap();
        let pk = PublicKey {
            algorithm: key.algorithm(),
            key: &public,
        };
        store
            .verify(&pk, alg, message, &sig)
            .unwrap_or_else(|e| panic!("{file} {alg:?}: OpenSSL's signature rejected: {e}"));
        assert!(store.verify(&pk, alg, b"other", &sig).is_err());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ecdh_agrees_with_openssl_pkeyutl_derive() {
    if !openssl_available() {
        return;
    }
    let dir = temp_dir("ecdh");
    let store = SoftStore::new();
    let cases = [
        (
            Curve::BrainpoolP256r1,
            KeyExchangeGroup::BrainpoolP256r1,
            "brainpoolP256r1",
        ),
        (
            Curve::BrainpoolP384r1,
            KeyExchangeGroup::BrainpoolP384r1,
            "brainpoolP384r1",
        ),
        (
            Curve::BrainpoolP512r1,
            KeyExchangeGroup::BrainpoolP512r1,
            "brainpoolP512r1",
        ),
        (Curve::P256, KeyExchangeGroup::Secp256r1, "P-256"),
        (Curve::P384, KeyExchangeGroup::Secp384r1, "P-384"),
        (Curve::P521, KeyExchangeGroup::Secp521r1, "P-521"),
    ];
    for (curve, group, name) in cases {
        let param = format!("ec_paramgen_curve:{name}");
        openssl(
            &dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                &param,
                "-out",
                "peer.pem",
            ],
        );
        openssl(
            &dir,
            &[
                "pkey", "-in", "peer.pem", "-pubout", "-outform", "DER", "-out", "peer.der",
            ],
        );
        let spki = std::fs::read(dir.join("peer.der")).unwrap();
        let peer_point = &spki[spki.len() - curve.public_key_len()..];

        // hsmtls-crypto directly: the raw shared secret.
        let ours = EcdhPrivateKey::generate(curve).unwrap();
        let our_spki = ec_public_key_spki(curve, &ours.public_key().unwrap()).unwrap();
        std::fs::write(dir.join("ours.der"), &our_spki).unwrap();
        openssl(
            &dir,
            &[
                "pkeyutl",
                "-derive",
                "-inkey",
                "peer.pem",
                "-peerkey",
                "ours.der",
                "-peerform",
                "DER",
                "-out",
                "z.bin",
            ],
        );
        let z_openssl = std::fs::read(dir.join("z.bin")).unwrap();
        let z = ours.agree(peer_point).unwrap();
        assert_eq!(&z[..], &z_openssl[..], "{name}: ECDH differs from OpenSSL");

        // Through the store: the pre-master secret equals OpenSSL's Z, seen
        // through the master secret and verify_data it produces.
        let (share, public) = store.start_key_exchange(group).unwrap();
        let our_spki = ec_public_key_spki(curve, &public).unwrap();
        std::fs::write(dir.join("ours.der"), &our_spki).unwrap();
        openssl(
            &dir,
            &[
                "pkeyutl",
                "-derive",
                "-inkey",
                "peer.pem",
                "-peerkey",
                "ours.der",
                "-peerform",
                "DER",
                "-out",
                "z.bin",
            ],
        );
        let z_openssl = std::fs::read(dir.join("z.bin")).unwrap();
        let pms = store.complete_key_exchange(share, peer_point).unwrap();
        let session_hash = [7u8; 32];
        let master = store
            .tls12_master_secret(
                pms,
                HashAlgorithm::Sha256,
                MasterSecretSeed::SessionHash(&session_hash),
            )
            .unwrap();
        let got = store
            .tls12_verify_data(
                &master,
                HashAlgorithm::Sha256,
                FinishedLabel::Client,
                &session_hash,
            )
            .unwrap();
        let mut ms = [0u8; 48];
        tls12_prf(
            HashAlg::Sha256,
            &z_openssl,
            b"extended master secret",
            &[&session_hash],
            &mut ms,
        );
        let mut want = [0u8; 12];
        tls12_prf(
            HashAlg::Sha256,
            &ms,
            b"client finished",
            &[&session_hash],
            &mut want,
        );
        assert_eq!(got, want, "{name}: store ECDH differs from OpenSSL");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
