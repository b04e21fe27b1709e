//! The built `libhsmtls_token.so` loaded through the `cryptoki` crate, as
//! any PKCS#11 application would: token initialisation, login, EC key
//! generation on P-256 and brainpoolP256r1, ECDSA, ECDH both ways, and an
//! extended master secret through NSS's vendor mechanism (cryptoki cannot
//! name the standard CKM_TLS12_* mechanisms; those are tested in process),
//! and ECDH derivations from four threads at once on one shared key.

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
use cryptoki::mechanism::vendor_defined::VendorDefinedMechanism;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

fn module() -> std::path::PathBuf {
    // The cdylib, freshly built (`cargo test` alone does not leave it
    // where a program can load it).
    hsmtls_interop::hsmtls_token_module()
}

#[test]
fn token_through_cryptoki() {
    let dir = std::env::temp_dir().join(format!("hsmtls-token-cryptoki-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("token.conf");
    std::fs::write(
        &conf,
        format!("new_tokens = {}\npin_iterations = 1000\n", dir.display()),
    )
    .unwrap();
    std::env::set_var("HSMTLS_TOKEN_CONF", &conf);

    let p11 = Pkcs11::new(module()).unwrap();
    p11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let info = p11.get_library_info().unwrap();
    assert_eq!(info.cryptoki_version().major(), 3);
    let slot = p11.get_slots_with_token().unwrap()[0];
    let so = AuthPin::new("so-secret-1".into());
    let user = AuthPin::new("user-secret-1".into());
    p11.init_token(slot, &so, "cryptoki").unwrap();
    {
        let s = p11.open_rw_session(slot).unwrap();
        s.login(UserType::So, Some(&so)).unwrap();
        s.init_pin(&user).unwrap();
    }
    let s = p11.open_rw_session(slot).unwrap();
    s.login(UserType::User, Some(&user)).unwrap();
    assert!(s
        .login(UserType::User, Some(&AuthPin::new("bad".into())))
        .is_err());

    let curves: [&[u8]; 2] = [
        &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
        &[
            0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07,
        ],
    ];
    for params in curves {
        let pubt = [
            Attribute::EcParams(params.to_vec()),
            Attribute::Verify(true),
            Attribute::Token(true),
        ];
        let privt = [
            Attribute::Sign(true),
            Attribute::Derive(true),
            Attribute::Token(true),
            Attribute::Label(b"ec".to_vec()),
        ];
        let (p, k) = s
            .generate_key_pair(&Mechanism::EccKeyPairGen, &pubt, &privt)
            .unwrap();
        let sig = s.sign(&Mechanism::EcdsaSha256, k, b"hello").unwrap();
        assert_eq!(sig.len(), 64);
        s.verify(&Mechanism::EcdsaSha256, p, b"hello", &sig)
            .unwrap();
        assert!(s
            .verify(&Mechanism::EcdsaSha256, p, b"hellO", &sig)
            .is_err());

        // ECDH both ways: equal pre-master secrets, checked through HMAC.
        let (p2, k2) = s
            .generate_key_pair(&Mechanism::EccKeyPairGen, &pubt, &privt)
            .unwrap();
        let point = |h| match s
            .get_attributes(h, &[AttributeType::EcPoint])
            .unwrap()
            .remove(0)
        {
            Attribute::EcPoint(v) => v,
            _ => unreachable!(),
        };
        let (pt1, pt2) = (point(p), point(p2));
        let tpl = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::Sign(true),
            Attribute::Derive(true),
        ];
        let z1 = s
            .derive_key(
                &Mechanism::Ecdh1Derive(Ecdh1DeriveParams::new(EcKdf::null(), &pt2)),
                k,
                &tpl,
            )
            .unwrap();
        let z2 = s
            .derive_key(
                &Mechanism::Ecdh1Derive(Ecdh1DeriveParams::new(EcKdf::null(), &pt1)),
                k2,
                &tpl,
            )
            .unwrap();
        let m1 = s.sign(&Mechanism::Sha256Hmac, z1, b"x").unwrap();
        assert_eq!(m1, s.sign(&Mechanism::Sha256Hmac, z2, b"x").unwrap());

        // TLS 1.2 extended master secret from the ECDH pre-master secret.
        #[repr(C)]
        struct Ems {
            prf: cryptoki_sys::CK_MECHANISM_TYPE,
            hash: *mut u8,
            hash_len: cryptoki_sys::CK_ULONG,
            version: *mut cryptoki_sys::CK_VERSION,
        }
        let mut session_hash = [9u8; 32];
        let params = Ems {
            prf: cryptoki_sys::CKM_SHA256,
            hash: session_hash.as_mut_ptr(),
            hash_len: 32,
            version: std::ptr::null_mut(),
        };
        // CKM_NSS + 26 (NSS pkcs11n.h); not taken from the rlib, so this
        // process holds only the copy of the token inside the .so.
        let nss_ems_dh = cryptoki_sys::CKM_VENDOR_DEFINED + 0x4E53_4350 + 26;
        let mech = Mechanism::VendorDefined(VendorDefinedMechanism::new(
            MechanismType::new_vendor_defined(nss_ems_dh).unwrap(),
            Some(&params),
        ));
        let ms = s.derive_key(&mech, z1, &tpl[..2]).unwrap();
        match s
            .get_attributes(ms, &[AttributeType::ValueLen])
            .unwrap()
            .remove(0)
        {
            Attribute::ValueLen(n) => assert_eq!(u64::from(n), 48),
            _ => unreachable!(),
        }
        // The master secret is restricted to the TLS mechanisms.
        assert!(s.sign(&Mechanism::Sha256Hmac, ms, b"x").is_err());
    }
    drop(s);
    concurrent_derives(&p11, slot, &user);
    p11.finalize().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Four threads, each with its own session, derive ECDH secrets from one
/// shared P-256 key (the token resolves keys under a read lock and runs
/// the mechanism unlocked) and from keys of their own, and check each
/// pair agrees.
fn concurrent_derives(p11: &Pkcs11, slot: cryptoki::slot::Slot, user: &AuthPin) {
    let p256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let pubt = [Attribute::EcParams(p256.to_vec()), Attribute::Verify(true)];
    let privt = [Attribute::Derive(true), Attribute::Sign(true)];
    let secret = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::GENERIC_SECRET),
        Attribute::Sign(true),
    ];
    let point = |s: &cryptoki::session::Session, h| match s
        .get_attributes(h, &[AttributeType::EcPoint])
        .unwrap()
        .remove(0)
    {
        Attribute::EcPoint(v) => v,
        _ => unreachable!(),
    };
    let s = p11.open_rw_session(slot).unwrap();
    // Logged in already (the login is the token's, for every session).
    let _ = s.login(UserType::User, Some(user));
    let (shared_pub, shared) = s
        .generate_key_pair(&Mechanism::EccKeyPairGen, &pubt, &privt)
        .unwrap();
    let shared_point = point(&s, shared_pub);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let t = p11.open_rw_session(slot).unwrap();
                for _ in 0..25 {
                    let (own_pub, own) = t
                        .generate_key_pair(&Mechanism::EccKeyPairGen, &pubt, &privt)
                        .unwrap();
                    let own_point = point(&t, own_pub);
                    let derive = |key, peer: &[u8]| {
                        t.derive_key(
                            &Mechanism::Ecdh1Derive(Ecdh1DeriveParams::new(EcKdf::null(), peer)),
                            key,
                            &secret,
                        )
                        .unwrap()
                    };
                    let a = derive(own, &shared_point);
                    let b = derive(shared, &own_point);
                    assert_eq!(
                        t.sign(&Mechanism::Sha256Hmac, a, b"x").unwrap(),
                        t.sign(&Mechanism::Sha256Hmac, b, b"x").unwrap(),
                        "the two sides of one ECDH disagree"
                    );
                    for h in [a, b, own, own_pub] {
                        t.destroy_object(h).unwrap();
                    }
                }
            });
        }
    });
}
