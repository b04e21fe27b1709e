//! In-process C API tests of the HKDF, raw ECDSA, X25519/Ed25519 and
//! further mechanisms: known answers, the length-query convention, usage
//! flags and the CK_RVs of bad parameters and wrong keys.
#![allow(unsafe_code)]

mod common;

use std::ptr;

use common::*;
use cryptoki_sys::*;
use hsmtls_token::abi::*;

/// `CK_HKDF_PARAMS` with owned salt and info.
struct Hkdf {
    salt: Vec<u8>,
    info: Vec<u8>,
    p: CK_HKDF_PARAMS,
}

impl Hkdf {
    fn new(extract: bool, expand: bool, salt_type: CK_ULONG, salt: &[u8], info: &[u8]) -> Self {
        let mut s = Self {
            salt: salt.to_vec(),
            info: info.to_vec(),
            p: CK_HKDF_PARAMS {
                bExtract: u8::from(extract),
                bExpand: u8::from(expand),
                prfHashMechanism: CKM_SHA256,
                ulSaltType: salt_type,
                pSalt: ptr::null_mut(),
                ulSaltLen: 0,
                hSaltKey: 0,
                pInfo: ptr::null_mut(),
                ulInfoLen: 0,
            },
        };
        if !s.salt.is_empty() {
            s.p.pSalt = s.salt.as_mut_ptr();
            s.p.ulSaltLen = s.salt.len() as _;
        }
        if !s.info.is_empty() {
            s.p.pInfo = s.info.as_mut_ptr();
            s.p.ulInfoLen = s.info.len() as _;
        }
        s
    }
    fn salt_key(mut self, k: CK_OBJECT_HANDLE) -> Self {
        self.p.ulSaltType = CKF_HKDF_SALT_KEY;
        self.p.hSaltKey = k;
        self
    }
    fn derive(
        &mut self,
        h: CK_SESSION_HANDLE,
        m: CK_MECHANISM_TYPE,
        base: CK_OBJECT_HANDLE,
        mut t: Tpl,
    ) -> Result<CK_OBJECT_HANDLE, CK_RV> {
        let mut mech = mech_with(m, &mut self.p);
        let mut out = 0;
        match unsafe { C_DeriveKey(h, &mut mech, base, t.ptr(), t.len(), &mut out) } {
            CKR_OK => Ok(out),
            rv => Err(rv),
        }
    }
}

fn open_tpl(len: Option<CK_ULONG>) -> Tpl {
    let t = Tpl::new()
        .bool(CKA_SENSITIVE, false)
        .bool(CKA_EXTRACTABLE, true)
        .bool(CKA_DERIVE, true);
    match len {
        Some(n) => t.ulong(CKA_VALUE_LEN, n),
        None => t,
    }
}

/// RFC 8446 §7.1 `HkdfLabel`.
fn hkdf_label(len: u16, label: &[u8], context: &[u8]) -> Vec<u8> {
    let mut v = len.to_be_bytes().to_vec();
    v.push(6 + label.len() as u8);
    v.extend_from_slice(b"tls13 ");
    v.extend_from_slice(label);
    v.push(context.len() as u8);
    v.extend_from_slice(context);
    v
}

#[test]
fn hkdf_rfc5869_vectors() {
    let (slot, h) = fresh_token();
    // RFC 5869 A.1.
    let ikm = secret(h, CKK_GENERIC_SECRET, &[0x0b; 22], true);
    let salt = hex("000102030405060708090a0b0c");
    let info = hex("f0f1f2f3f4f5f6f7f8f9");
    let prk = hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
    let okm =
        hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    let mut both = Hkdf::new(true, true, CKF_HKDF_SALT_DATA, &salt, &info);
    let k = both
        .derive(h, CKM_HKDF_DERIVE, ikm, open_tpl(Some(42)))
        .unwrap();
    assert_eq!(attr(h, k, CKA_VALUE).unwrap(), okm);
    assert_eq!(
        attr(h, k, CKA_KEY_TYPE).unwrap(),
        CKK_GENERIC_SECRET.to_ne_bytes()
    );
    // Extract, then expand from the PRK key.
    let mut ex = Hkdf::new(true, false, CKF_HKDF_SALT_DATA, &salt, &[]);
    let p = ex.derive(h, CKM_HKDF_DERIVE, ikm, open_tpl(None)).unwrap();
    assert_eq!(attr(h, p, CKA_VALUE).unwrap(), prk);
    let mut exp = Hkdf::new(false, true, CKF_HKDF_SALT_NULL, &[], &info);
    let k = exp
        .derive(h, CKM_HKDF_DERIVE, p, open_tpl(Some(42)))
        .unwrap();
    assert_eq!(attr(h, k, CKA_VALUE).unwrap(), okm);
    // The salt as a key (an HKDF key, as PKCS#11 has it).
    let s = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_HKDF)
            .bytes(CKA_VALUE, &salt)
            .bool(CKA_SENSITIVE, false)
            .bool(CKA_EXTRACTABLE, true)
            .bool(CKA_DERIVE, true),
    )
    .unwrap();
    let mut by_key = Hkdf::new(true, true, CKF_HKDF_SALT_DATA, &[], &info).salt_key(s);
    let k = by_key
        .derive(h, CKM_HKDF_DERIVE, ikm, open_tpl(Some(42)))
        .unwrap();
    assert_eq!(attr(h, k, CKA_VALUE).unwrap(), okm);
    // The same as a data object.
    let d = both
        .derive(h, CKM_HKDF_DATA, ikm, Tpl::new().ulong(CKA_VALUE_LEN, 42))
        .unwrap();
    assert_eq!(attr(h, d, CKA_CLASS).unwrap(), CKO_DATA.to_ne_bytes());
    assert_eq!(attr(h, d, CKA_VALUE).unwrap(), okm);
    assert_eq!(attr(h, d, CKA_PRIVATE).unwrap(), [1]);
    // RFC 5869 A.3: no salt, no info.
    let mut none = Hkdf::new(true, true, CKF_HKDF_SALT_NULL, &[], &[]);
    let k = none
        .derive(h, CKM_HKDF_DERIVE, ikm, open_tpl(Some(42)))
        .unwrap();
    assert_eq!(
        attr(h, k, CKA_VALUE).unwrap(),
        hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
    );
    // An AES key from an expand.
    let t = Tpl::new()
        .ulong(CKA_KEY_TYPE, CKK_AES)
        .ulong(CKA_VALUE_LEN, 16)
        .bool(CKA_ENCRYPT, true)
        .bool(CKA_SENSITIVE, false)
        .bool(CKA_EXTRACTABLE, true);
    let k = both.derive(h, CKM_HKDF_DERIVE, ikm, t).unwrap();
    assert_eq!(attr(h, k, CKA_VALUE).unwrap(), okm[..16]);

    // Mechanism information.
    let mut mi: CK_MECHANISM_INFO = unsafe { std::mem::zeroed() };
    for m in [CKM_HKDF_DERIVE, CKM_HKDF_DATA] {
        assert_eq!(unsafe { C_GetMechanismInfo(slot, m, &mut mi) }, CKR_OK);
        assert_eq!(mi.flags, CKF_DERIVE);
    }
    assert_eq!(
        unsafe { C_GetMechanismInfo(slot, CKM_HKDF_KEY_GEN, &mut mi) },
        CKR_OK
    );
    assert_eq!(mi.flags, CKF_GENERATE);
}

#[test]
fn hkdf_tls13_key_schedule_rfc8448() {
    let (_, h) = fresh_token();
    // RFC 8448 §3: early secret = HKDF-Extract(0, 0^32).
    let zeros = secret(h, CKK_GENERIC_SECRET, &[0; 32], true);
    let mut ex = Hkdf::new(true, false, CKF_HKDF_SALT_NULL, &[], &[]);
    let early = ex
        .derive(h, CKM_HKDF_DERIVE, zeros, open_tpl(None))
        .unwrap();
    assert_eq!(
        attr(h, early, CKA_VALUE).unwrap(),
        hex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
    );
    // Derive-Secret(early, "derived", "") = HKDF-Expand-Label with the
    // empty transcript's hash.
    let empty_hash = hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    let mut exp = Hkdf::new(
        false,
        true,
        CKF_HKDF_SALT_NULL,
        &[],
        &hkdf_label(32, b"derived", &empty_hash),
    );
    let derived = exp
        .derive(h, CKM_HKDF_DERIVE, early, open_tpl(Some(32)))
        .unwrap();
    assert_eq!(
        attr(h, derived, CKA_VALUE).unwrap(),
        hex("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba")
    );
    // handshake secret = HKDF-Extract(derived as a salt key, ECDHE).
    let ecdhe = secret(
        h,
        CKK_GENERIC_SECRET,
        &hex("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d"),
        true,
    );
    let mut hs = Hkdf::new(true, false, CKF_HKDF_SALT_NULL, &[], &[]).salt_key(derived);
    let hs_secret = hs
        .derive(h, CKM_HKDF_DERIVE, ecdhe, open_tpl(None))
        .unwrap();
    assert_eq!(
        attr(h, hs_secret, CKA_VALUE).unwrap(),
        hex("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac")
    );
}

#[test]
fn hkdf_policy_and_negative_cases() {
    let (_, h) = fresh_token();
    // A sensitive base: derived keys stay sensitive.
    let base = secret(h, CKK_GENERIC_SECRET, &[7; 32], false);
    let info = hkdf_label(16, b"key", b"");
    let mut exp = Hkdf::new(false, true, CKF_HKDF_SALT_NULL, &[], &info);
    assert_eq!(
        exp.derive(h, CKM_HKDF_DERIVE, base, open_tpl(Some(16))),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    let k = exp
        .derive(
            h,
            CKM_HKDF_DERIVE,
            base,
            Tpl::new().ulong(CKA_VALUE_LEN, 16),
        )
        .unwrap();
    assert_eq!(attr(h, k, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
    assert_eq!(attr(h, k, CKA_SENSITIVE).unwrap(), [1]);
    // ... and HKDF_DATA gives only public TLS 1.3 outputs from it.
    let data = |len| Tpl::new().ulong(CKA_VALUE_LEN, len);
    assert_eq!(
        exp.derive(h, CKM_HKDF_DATA, base, data(16)),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
    let mut iv = Hkdf::new(
        false,
        true,
        CKF_HKDF_SALT_NULL,
        &[],
        &hkdf_label(12, b"iv", b""),
    );
    let d = iv.derive(h, CKM_HKDF_DATA, base, data(12)).unwrap();
    assert_eq!(attr(h, d, CKA_VALUE).unwrap().len(), 12);
    assert_eq!(
        iv.derive(h, CKM_HKDF_DATA, base, data(16)),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
    let mut ex = Hkdf::new(true, false, CKF_HKDF_SALT_NULL, &[], &[]);
    assert_eq!(
        ex.derive(h, CKM_HKDF_DATA, base, data(32)),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
    // A sensitive salt key protects the output as much as a sensitive base.
    let open = secret(h, CKK_GENERIC_SECRET, &[8; 32], true);
    let mut salted = Hkdf::new(true, true, CKF_HKDF_SALT_NULL, &[], b"x").salt_key(base);
    assert_eq!(
        salted.derive(h, CKM_HKDF_DERIVE, open, open_tpl(Some(16))),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    assert_eq!(
        salted.derive(h, CKM_HKDF_DATA, open, data(16)),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );

    // Parameters.
    let tpl = || open_tpl(Some(16));
    let mut neither = Hkdf::new(false, false, CKF_HKDF_SALT_NULL, &[], &[]);
    assert_eq!(
        neither.derive(h, CKM_HKDF_DERIVE, open, tpl()),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    for st in [0, CKF_HKDF_SALT_NULL | CKF_HKDF_SALT_DATA, 8] {
        let mut bad = Hkdf::new(true, true, st, b"s", &[]);
        assert_eq!(
            bad.derive(h, CKM_HKDF_DERIVE, open, tpl()),
            Err(CKR_MECHANISM_PARAM_INVALID)
        );
    }
    let mut empty_salt = Hkdf::new(true, true, CKF_HKDF_SALT_DATA, &[], &[]);
    assert_eq!(
        empty_salt.derive(h, CKM_HKDF_DERIVE, open, tpl()),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    let mut md5 = Hkdf::new(true, true, CKF_HKDF_SALT_NULL, &[], &[]);
    md5.p.prfHashMechanism = CKM_MD5;
    assert_eq!(
        md5.derive(h, CKM_HKDF_DERIVE, open, tpl()),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    let mut short = mech(CKM_HKDF_DERIVE);
    let mut p = [0u8; 16];
    short.pParameter = p.as_mut_ptr() as *mut _;
    short.ulParameterLen = 16;
    let mut t = tpl();
    let mut out = 0;
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut short, open, t.ptr(), t.len(), &mut out) },
        CKR_MECHANISM_PARAM_INVALID
    );
    let mut nullp = mech(CKM_HKDF_DERIVE);
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut nullp, open, t.ptr(), t.len(), &mut out) },
        CKR_MECHANISM_PARAM_INVALID
    );
    // Lengths.
    let mut both = Hkdf::new(true, true, CKF_HKDF_SALT_NULL, &[], &[]);
    assert_eq!(
        both.derive(h, CKM_HKDF_DERIVE, open, open_tpl(None)),
        Err(CKR_TEMPLATE_INCOMPLETE)
    );
    assert_eq!(
        both.derive(h, CKM_HKDF_DERIVE, open, open_tpl(Some(255 * 32 + 1))),
        Err(CKR_KEY_SIZE_RANGE)
    );
    assert_eq!(
        ex.derive(h, CKM_HKDF_DERIVE, open, open_tpl(Some(16))),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    // Keys: wrong type, no CKA_DERIVE, bogus salt handle.
    let aes = secret(h, CKK_AES, &[1; 16], true);
    assert_eq!(
        both.derive(h, CKM_HKDF_DERIVE, aes, tpl()),
        Err(CKR_KEY_TYPE_INCONSISTENT)
    );
    let no_derive = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
            .bytes(CKA_VALUE, &[1; 32]),
    )
    .unwrap();
    assert_eq!(
        both.derive(h, CKM_HKDF_DERIVE, no_derive, tpl()),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
    let mut by_bad = Hkdf::new(true, true, CKF_HKDF_SALT_NULL, &[], &[]).salt_key(0xdead);
    assert_eq!(
        by_bad.derive(h, CKM_HKDF_DERIVE, open, tpl()),
        Err(CKR_KEY_HANDLE_INVALID)
    );
    let mut by_nd = Hkdf::new(true, true, CKF_HKDF_SALT_NULL, &[], &[]).salt_key(no_derive);
    assert_eq!(
        by_nd.derive(h, CKM_HKDF_DERIVE, open, tpl()),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
    let mut by_aes = Hkdf::new(true, true, CKF_HKDF_SALT_NULL, &[], &[]).salt_key(aes);
    assert_eq!(
        by_aes.derive(h, CKM_HKDF_DERIVE, open, tpl()),
        Err(CKR_KEY_TYPE_INCONSISTENT)
    );
    // HKDF_DATA wants a data template.
    assert_eq!(
        both.derive(
            h,
            CKM_HKDF_DATA,
            open,
            Tpl::new()
                .ulong(CKA_CLASS, CKO_SECRET_KEY)
                .ulong(CKA_VALUE_LEN, 16)
        ),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
}

#[test]
fn hkdf_key_gen() {
    let (_, h) = fresh_token();
    let mut gm = mech(CKM_HKDF_KEY_GEN);
    let mut t = Tpl::new().ulong(CKA_VALUE_LEN, 32).bool(CKA_DERIVE, true);
    let mut k = 0;
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut gm, t.ptr(), t.len(), &mut k) },
        CKR_OK
    );
    assert_eq!(attr(h, k, CKA_KEY_TYPE).unwrap(), CKK_HKDF.to_ne_bytes());
    assert_eq!(attr(h, k, CKA_LOCAL).unwrap(), [1]);
    assert_eq!(attr(h, k, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
    let mut both = Hkdf::new(true, true, CKF_HKDF_SALT_NULL, &[], b"info");
    let d = both
        .derive(h, CKM_HKDF_DERIVE, k, Tpl::new().ulong(CKA_VALUE_LEN, 20))
        .unwrap();
    assert_eq!(attr(h, d, CKA_VALUE_LEN).unwrap(), 20u64.to_ne_bytes());
    let mut t = Tpl::new();
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut gm, t.ptr(), t.len(), &mut k) },
        CKR_TEMPLATE_INCOMPLETE
    );
    let mut t = Tpl::new().ulong(CKA_VALUE_LEN, 0);
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut gm, t.ptr(), t.len(), &mut k) },
        CKR_ATTRIBUTE_VALUE_INVALID
    );
    let mut p = 0u64;
    let mut withp = mech_with(CKM_HKDF_KEY_GEN, &mut p);
    let mut t = Tpl::new().ulong(CKA_VALUE_LEN, 32);
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut withp, t.ptr(), t.len(), &mut k) },
        CKR_MECHANISM_PARAM_INVALID
    );
}

const CURVES: [(&str, &str, usize); 6] = [
    ("secp256r1", "06082a8648ce3d030107", 32),
    ("secp384r1", "06052b81040022", 48),
    ("secp521r1", "06052b81040023", 66),
    ("brainpoolP256r1", "06092b2403030208010107", 32),
    ("brainpoolP384r1", "06092b240303020801010b", 48),
    ("brainpoolP512r1", "06092b240303020801010d", 64),
];

/// A key pair from `mechanism` with `params` in `CKA_EC_PARAMS`.
fn key_pair(
    h: CK_SESSION_HANDLE,
    mechanism: CK_MECHANISM_TYPE,
    params: &[u8],
) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE), CK_RV> {
    key_pair_with(h, mechanism, params, false)
}

/// As [`key_pair`], the private key extractable if `open`.
fn key_pair_with(
    h: CK_SESSION_HANDLE,
    mechanism: CK_MECHANISM_TYPE,
    params: &[u8],
    open: bool,
) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE), CK_RV> {
    generate_pair(
        h,
        mechanism,
        Tpl::new()
            .bytes(CKA_EC_PARAMS, params)
            .bool(CKA_VERIFY, true),
        Tpl::new()
            .bool(CKA_SIGN, true)
            .bool(CKA_DERIVE, true)
            .bool(CKA_SENSITIVE, !open)
            .bool(CKA_EXTRACTABLE, open),
    )
}

#[test]
fn raw_ecdsa_on_all_curves() {
    use hsmtls_crypto::{hash::digest, HashAlg};
    let (slot, h) = fresh_token();
    let message = b"raw ECDSA over a digest";
    for (name, params, n) in CURVES {
        let (p, s) = key_pair(h, CKM_EC_KEY_PAIR_GEN, &hex(params)).unwrap();
        for (hm, alg) in [
            (CKM_ECDSA_SHA256, HashAlg::Sha256),
            (CKM_ECDSA_SHA384, HashAlg::Sha384),
            (CKM_ECDSA_SHA512, HashAlg::Sha512),
        ] {
            let d = digest(alg, message);
            let mut raw = mech(CKM_ECDSA);
            let mut hashed = mech(hm);
            let sig = sign(h, &mut raw, s, &d).unwrap();
            assert_eq!(sig.len(), 2 * n, "{name}");
            assert_eq!(verify(h, &mut hashed, p, message, &sig), CKR_OK, "{name}");
            assert_eq!(verify(h, &mut raw, p, &d, &sig), CKR_OK, "{name}");
            let sig = sign(h, &mut hashed, s, message).unwrap();
            assert_eq!(verify(h, &mut raw, p, &d, &sig), CKR_OK, "{name}");
            let mut bad = d.clone();
            bad[3] ^= 0x10;
            assert_eq!(
                verify(h, &mut raw, p, &bad, &sig),
                CKR_SIGNATURE_INVALID,
                "{name}"
            );
            assert_eq!(
                verify(h, &mut raw, p, &d, &sig[1..]),
                CKR_SIGNATURE_LEN_RANGE,
                "{name}"
            );
        }
    }
    let (p, s) = key_pair(h, CKM_EC_KEY_PAIR_GEN, &hex(CURVES[0].1)).unwrap();
    let mut raw = mech(CKM_ECDSA);
    // Single-part only.
    unsafe {
        assert_eq!(C_SignInit(h, &mut raw, s), CKR_OK);
        let mut d = [1u8; 32];
        assert_eq!(
            C_SignUpdate(h, d.as_mut_ptr(), 32),
            CKR_FUNCTION_NOT_SUPPORTED
        );
        let mut n: CK_ULONG = 0;
        assert_eq!(
            C_Sign(h, d.as_mut_ptr(), 32, ptr::null_mut(), &mut n),
            CKR_OPERATION_NOT_INITIALIZED
        );
        assert_eq!(C_VerifyInit(h, &mut raw, p), CKR_OK);
        assert_eq!(
            C_VerifyUpdate(h, d.as_mut_ptr(), 32),
            CKR_FUNCTION_NOT_SUPPORTED
        );
    }
    // Input lengths, key types, parameters.
    assert_eq!(sign(h, &mut raw, s, &[]), Err(CKR_DATA_LEN_RANGE));
    assert_eq!(sign(h, &mut raw, s, &[1; 129]), Err(CKR_DATA_LEN_RANGE));
    assert_eq!(sign(h, &mut raw, s, &[1; 3]).unwrap().len(), 64);
    let k = secret(h, CKK_GENERIC_SECRET, &[1; 32], false);
    assert_eq!(
        sign(h, &mut raw, k, &[1; 32]),
        Err(CKR_KEY_TYPE_INCONSISTENT)
    );
    assert_eq!(
        verify(h, &mut raw, s, &[1; 32], &[0; 64]),
        CKR_KEY_FUNCTION_NOT_PERMITTED,
        "a private key has no CKA_VERIFY"
    );
    let mut x = 0u64;
    let mut with = mech_with(CKM_ECDSA, &mut x);
    assert_eq!(
        sign(h, &mut with, s, &[1; 32]),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    let mut mi: CK_MECHANISM_INFO = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { C_GetMechanismInfo(slot, CKM_ECDSA, &mut mi) },
        CKR_OK
    );
    assert_eq!(mi.flags & (CKF_SIGN | CKF_VERIFY), CKF_SIGN | CKF_VERIFY);
    assert_eq!((mi.ulMinKeySize, mi.ulMaxKeySize), (256, 521));
}

const X25519_OID: &str = "06032b656e";
const ED25519_OID: &str = "06032b6570";

/// ECDH1_DERIVE (CKD_NULL) of `private` with `peer`, extractable output.
fn ecdh(h: CK_SESSION_HANDLE, private: CK_OBJECT_HANDLE, peer: &[u8]) -> Result<Vec<u8>, CK_RV> {
    let mut peer = peer.to_vec();
    let mut p = CK_ECDH1_DERIVE_PARAMS {
        kdf: CKD_NULL,
        ulSharedDataLen: 0,
        pSharedData: ptr::null_mut(),
        ulPublicDataLen: peer.len() as _,
        pPublicData: peer.as_mut_ptr(),
    };
    let mut m = mech_with(CKM_ECDH1_DERIVE, &mut p);
    let mut t = open_tpl(None);
    let mut k = 0;
    match unsafe { C_DeriveKey(h, &mut m, private, t.ptr(), t.len(), &mut k) } {
        CKR_OK => Ok(attr(h, k, CKA_VALUE).unwrap()),
        rv => Err(rv),
    }
}

#[test]
fn x25519_key_pairs_and_ecdh() {
    let (slot, h) = fresh_token();
    // Both spellings of the curve.
    let (pa, sa) =
        key_pair_with(h, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, &hex(X25519_OID), true).unwrap();
    let name = b"\x13\x0acurve25519";
    let (pb, sb) = key_pair_with(h, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, name, true).unwrap();
    assert_eq!(attr(h, pb, CKA_EC_PARAMS).unwrap(), name);
    assert_eq!(
        attr(h, sa, CKA_KEY_TYPE).unwrap(),
        CKK_EC_MONTGOMERY.to_ne_bytes()
    );
    let (_, sealed) = key_pair(h, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, name).unwrap();
    assert_eq!(attr(h, sealed, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
    let qa = attr(h, pa, CKA_EC_POINT).unwrap();
    let qb = attr(h, pb, CKA_EC_POINT).unwrap();
    assert_eq!((qa.len(), &qa[..2]), (34, &[0x04, 0x20][..]));
    // ECDH both ways, with DER and raw peer keys.
    let z1 = ecdh(h, sa, &qb).unwrap();
    let z2 = ecdh(h, sb, &qa[2..]).unwrap();
    assert_eq!(z1, z2);
    assert_eq!(z1.len(), 32);
    // RFC 7748 §6.1 through imported keys.
    let alice = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_PRIVATE_KEY)
            .ulong(CKA_KEY_TYPE, CKK_EC_MONTGOMERY)
            .bytes(CKA_EC_PARAMS, &hex(X25519_OID))
            .bytes(
                CKA_VALUE,
                &hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
            )
            .bool(CKA_DERIVE, true)
            .bool(CKA_SENSITIVE, false)
            .bool(CKA_EXTRACTABLE, true),
    )
    .unwrap();
    let bob_public = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    assert_eq!(
        ecdh(h, alice, &bob_public).unwrap(),
        hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
    );
    let bob = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_PUBLIC_KEY)
            .ulong(CKA_KEY_TYPE, CKK_EC_MONTGOMERY)
            .bytes(CKA_EC_PARAMS, name)
            .bytes(CKA_EC_POINT, &bob_public),
    )
    .unwrap();
    assert_eq!(attr(h, bob, CKA_EC_POINT).unwrap()[2..], bob_public);
    // Negative: low-order peer (all-zero output), wrong lengths, an
    // Edwards key, an EC curve under the Montgomery mechanism.
    assert_eq!(ecdh(h, sa, &[0; 32]), Err(CKR_MECHANISM_PARAM_INVALID));
    assert_eq!(ecdh(h, sa, &[9; 31]), Err(CKR_MECHANISM_PARAM_INVALID));
    let (_, se) = key_pair(h, CKM_EC_EDWARDS_KEY_PAIR_GEN, &hex(ED25519_OID)).unwrap();
    assert_eq!(ecdh(h, se, &qb), Err(CKR_KEY_TYPE_INCONSISTENT));
    assert_eq!(
        key_pair(h, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, &hex(ED25519_OID)),
        Err(CKR_CURVE_NOT_SUPPORTED)
    );
    assert_eq!(
        key_pair(h, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, &hex(CURVES[0].1)),
        Err(CKR_CURVE_NOT_SUPPORTED)
    );
    assert_eq!(
        create(
            h,
            Tpl::new()
                .ulong(CKA_CLASS, CKO_PRIVATE_KEY)
                .ulong(CKA_KEY_TYPE, CKK_EC_MONTGOMERY)
                .bytes(CKA_EC_PARAMS, &hex(X25519_OID))
                .bytes(CKA_VALUE, &[1; 31]),
        ),
        Err(CKR_ATTRIBUTE_VALUE_INVALID)
    );
    assert_eq!(
        create(
            h,
            Tpl::new()
                .ulong(CKA_CLASS, CKO_PUBLIC_KEY)
                .ulong(CKA_KEY_TYPE, CKK_EC_MONTGOMERY)
                .bytes(CKA_EC_PARAMS, &hex(ED25519_OID))
                .bytes(CKA_EC_POINT, &bob_public),
        ),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    let mut mi: CK_MECHANISM_INFO = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { C_GetMechanismInfo(slot, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, &mut mi) },
        CKR_OK
    );
    assert_eq!(mi.flags & CKF_GENERATE_KEY_PAIR, CKF_GENERATE_KEY_PAIR);
    assert_eq!((mi.ulMinKeySize, mi.ulMaxKeySize), (255, 255));
}

#[test]
fn ed25519_key_pairs_and_eddsa() {
    let (_, h) = fresh_token();
    let (p, s) = key_pair(h, CKM_EC_EDWARDS_KEY_PAIR_GEN, b"\x13\x0cedwards25519").unwrap();
    let mut m = mech(CKM_EDDSA);
    let sig = sign(h, &mut m, s, b"message").unwrap();
    assert_eq!(sig.len(), 64);
    assert_eq!(verify(h, &mut m, p, b"message", &sig), CKR_OK);
    assert_eq!(
        verify(h, &mut m, p, b"massage", &sig),
        CKR_SIGNATURE_INVALID
    );
    assert_eq!(
        verify(h, &mut m, p, b"message", &sig[..63]),
        CKR_SIGNATURE_LEN_RANGE
    );
    // RFC 8032 §7.1 TEST 2 through imported keys.
    let priv_key = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_PRIVATE_KEY)
            .ulong(CKA_KEY_TYPE, CKK_EC_EDWARDS)
            .bytes(CKA_EC_PARAMS, &hex(ED25519_OID))
            .bytes(
                CKA_VALUE,
                &hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"),
            )
            .bool(CKA_SIGN, true),
    )
    .unwrap();
    let expected = hex(
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
         085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    );
    assert_eq!(sign(h, &mut m, priv_key, &[0x72]).unwrap(), expected);
    let pub_key = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_PUBLIC_KEY)
            .ulong(CKA_KEY_TYPE, CKK_EC_EDWARDS)
            .bytes(CKA_EC_PARAMS, &hex(ED25519_OID))
            .bytes(
                CKA_EC_POINT,
                &hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"),
            ),
    )
    .unwrap();
    assert_eq!(verify(h, &mut m, pub_key, &[0x72], &expected), CKR_OK);
    // Pure Ed25519 through CK_EDDSA_PARAMS too; ph / context refused.
    let mut ep = CK_EDDSA_PARAMS {
        phFlag: 0,
        ulContextDataLen: 0,
        pContextData: ptr::null_mut(),
    };
    let mut mp = mech_with(CKM_EDDSA, &mut ep);
    assert_eq!(sign(h, &mut mp, priv_key, &[0x72]).unwrap(), expected);
    ep.phFlag = 1;
    let mut mp = mech_with(CKM_EDDSA, &mut ep);
    assert_eq!(
        sign(h, &mut mp, priv_key, &[0x72]),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    let mut ctx = *b"ctx";
    ep.phFlag = 0;
    ep.pContextData = ctx.as_mut_ptr();
    ep.ulContextDataLen = 3;
    let mut mp = mech_with(CKM_EDDSA, &mut ep);
    assert_eq!(
        sign(h, &mut mp, priv_key, &[0x72]),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    // Single-part; wrong key types.
    unsafe {
        assert_eq!(C_SignInit(h, &mut m, s), CKR_OK);
        let mut d = [1u8; 4];
        assert_eq!(
            C_SignUpdate(h, d.as_mut_ptr(), 4),
            CKR_FUNCTION_NOT_SUPPORTED
        );
    }
    let (_, sx) = key_pair(h, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, &hex(X25519_OID)).unwrap();
    assert_eq!(sign(h, &mut m, sx, b"m"), Err(CKR_KEY_TYPE_INCONSISTENT));
    let (_, sec) = key_pair(h, CKM_EC_KEY_PAIR_GEN, &hex(CURVES[0].1)).unwrap();
    assert_eq!(sign(h, &mut m, sec, b"m"), Err(CKR_KEY_TYPE_INCONSISTENT));
    let mut ecdsa = mech(CKM_ECDSA_SHA256);
    assert_eq!(sign(h, &mut ecdsa, s, b"m"), Err(CKR_KEY_TYPE_INCONSISTENT));
}

/// Single-part encryption or decryption with the length query.
fn crypt(
    h: CK_SESSION_HANDLE,
    m: &mut CK_MECHANISM,
    key: CK_OBJECT_HANDLE,
    encrypt: bool,
    data: &[u8],
) -> Result<Vec<u8>, CK_RV> {
    let rv = unsafe {
        if encrypt {
            C_EncryptInit(h, m, key)
        } else {
            C_DecryptInit(h, m, key)
        }
    };
    if rv != CKR_OK {
        return Err(rv);
    }
    two_call(|o, n| unsafe {
        if encrypt {
            C_Encrypt(h, data.as_ptr() as *mut _, data.len() as _, o, n)
        } else {
            C_Decrypt(h, data.as_ptr() as *mut _, data.len() as _, o, n)
        }
    })
}

#[test]
fn aes_ecb_and_ctr() {
    let (_, h) = fresh_token();
    // NIST SP 800-38A F.1.1 / F.1.2 and F.5.1 / F.5.2 (AES-128).
    let key = secret(h, CKK_AES, &hex("2b7e151628aed2a6abf7158809cf4f3c"), false);
    let pt = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
    let mut ecb = mech(CKM_AES_ECB);
    let ct = crypt(h, &mut ecb, key, true, &pt).unwrap();
    assert_eq!(
        ct,
        hex("3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf")
    );
    assert_eq!(crypt(h, &mut ecb, key, false, &ct).unwrap(), pt);
    assert_eq!(
        crypt(h, &mut ecb, key, true, &pt[..17]),
        Err(CKR_DATA_LEN_RANGE)
    );
    assert_eq!(
        crypt(h, &mut ecb, key, false, &ct[..15]),
        Err(CKR_ENCRYPTED_DATA_LEN_RANGE)
    );
    // Multi-part ECB over uneven pieces.
    unsafe {
        assert_eq!(C_EncryptInit(h, &mut ecb, key), CKR_OK);
        let mut out = vec![0u8; 64];
        let mut n: CK_ULONG = 64;
        assert_eq!(
            C_EncryptUpdate(h, pt.as_ptr() as *mut _, 7, out.as_mut_ptr(), &mut n),
            CKR_OK
        );
        assert_eq!(n, 0);
        let mut m: CK_ULONG = 64;
        assert_eq!(
            C_EncryptUpdate(h, pt[7..].as_ptr() as *mut _, 25, out.as_mut_ptr(), &mut m),
            CKR_OK
        );
        assert_eq!(&out[..m as usize], &ct[..]);
        let mut f: CK_ULONG = 64;
        assert_eq!(C_EncryptFinal(h, out.as_mut_ptr(), &mut f), CKR_OK);
        assert_eq!(f, 0);
    }
    let mut ctr_params = CK_AES_CTR_PARAMS {
        ulCounterBits: 128,
        cb: hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff").try_into().unwrap(),
    };
    let mut ctr = mech_with(CKM_AES_CTR, &mut ctr_params);
    let ct = crypt(h, &mut ctr, key, true, &pt).unwrap();
    assert_eq!(
        ct,
        hex("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff")
    );
    assert_eq!(crypt(h, &mut ctr, key, false, &ct).unwrap(), pt);
    assert_eq!(crypt(h, &mut ctr, key, true, &pt[..5]).unwrap(), ct[..5]);
    // An 8-bit counter wraps inside its bits: block 2 of cb = ..ff uses ..00.
    ctr_params.ulCounterBits = 8;
    let mut ctr8 = mech_with(CKM_AES_CTR, &mut ctr_params);
    let wrapped = crypt(h, &mut ctr8, key, true, &[0; 32]).unwrap();
    let mut second = ctr_params.cb;
    second[15] = 0;
    let mut ecb_block = crypt(h, &mut ecb, key, true, &second).unwrap();
    assert_eq!(wrapped[16..], ecb_block[..]);
    ecb_block.clear();
    // Two blocks of a 1-bit counter, not three.
    ctr_params.ulCounterBits = 1;
    let mut ctr1 = mech_with(CKM_AES_CTR, &mut ctr_params);
    assert_eq!(crypt(h, &mut ctr1, key, true, &[0; 32]).unwrap().len(), 32);
    assert_eq!(
        crypt(h, &mut ctr1, key, true, &[0; 33]),
        Err(CKR_DATA_LEN_RANGE)
    );
    for bits in [0, 129] {
        ctr_params.ulCounterBits = bits;
        let mut bad = mech_with(CKM_AES_CTR, &mut ctr_params);
        assert_eq!(
            crypt(h, &mut bad, key, true, &pt),
            Err(CKR_MECHANISM_PARAM_INVALID)
        );
    }
    let mut nop = mech(CKM_AES_CTR);
    assert_eq!(
        crypt(h, &mut nop, key, true, &pt),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    let g = secret(h, CKK_GENERIC_SECRET, &[1; 16], false);
    assert_eq!(
        crypt(h, &mut ecb, g, true, &pt),
        Err(CKR_KEY_TYPE_INCONSISTENT)
    );
}

/// AES-192, as CK_MECHANISM_INFO's 16..32-byte range promises: ECB
/// (FIPS-197 C.2), key generation, GCM and CBC round trips, and an
/// AES-192 key-encryption key (RFC 3394 §4.3).
#[test]
fn aes_192() {
    let (_, h) = fresh_token();
    let key = secret(
        h,
        CKK_AES,
        &hex("000102030405060708090a0b0c0d0e0f1011121314151617"),
        false,
    );
    let mut ecb = mech(CKM_AES_ECB);
    let pt = hex("00112233445566778899aabbccddeeff");
    let ct = crypt(h, &mut ecb, key, true, &pt).unwrap();
    assert_eq!(ct, hex("dda97ca4864cdfe06eaf70a0ec0d7191"));
    assert_eq!(crypt(h, &mut ecb, key, false, &ct).unwrap(), pt);

    let mut gm = mech(CKM_AES_KEY_GEN);
    let mut t = Tpl::new()
        .ulong(CKA_VALUE_LEN, 24)
        .bool(CKA_ENCRYPT, true)
        .bool(CKA_DECRYPT, true);
    let mut k = 0;
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut gm, t.ptr(), t.len(), &mut k) },
        CKR_OK
    );
    assert_eq!(
        attr(h, k, CKA_VALUE_LEN).unwrap(),
        (24 as CK_ULONG).to_ne_bytes()
    );
    let mut iv = [3u8; 12];
    let mut gp = CK_GCM_PARAMS {
        pIv: iv.as_mut_ptr(),
        ulIvLen: 12,
        ulIvBits: 96,
        pAAD: ptr::null_mut(),
        ulAADLen: 0,
        ulTagBits: 128,
    };
    let mut gcm = mech_with(CKM_AES_GCM, &mut gp);
    let msg = b"one hundred and ninety-two bits";
    let sealed = crypt(h, &mut gcm, k, true, msg).unwrap();
    assert_eq!(sealed.len(), msg.len() + 16);
    assert_eq!(crypt(h, &mut gcm, k, false, &sealed).unwrap(), msg);
    let mut cbc_iv = [5u8; 16];
    let mut cbc = mech_with(CKM_AES_CBC_PAD, &mut cbc_iv);
    let sealed = crypt(h, &mut cbc, k, true, msg).unwrap();
    assert_eq!(crypt(h, &mut cbc, k, false, &sealed).unwrap(), msg);

    let kek = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_AES)
            .bytes(
                CKA_VALUE,
                &hex("000102030405060708090a0b0c0d0e0f1011121314151617"),
            )
            .bool(CKA_WRAP, true),
    )
    .unwrap();
    let data = secret(h, CKK_AES, &hex("00112233445566778899aabbccddeeff"), true);
    let kw = std::cell::RefCell::new(mech(CKM_AES_KEY_WRAP));
    let wrapped =
        two_call(|o, n| unsafe { C_WrapKey(h, &mut *kw.borrow_mut(), kek, data, o, n) }).unwrap();
    assert_eq!(
        wrapped,
        hex("96778b25ae6ca435f92b5b97c050aed2468ab8a17ad84e5d")
    );
}

/// C_DeriveKey with `mechanism` and its parameter structure.
fn derive_with<P>(
    h: CK_SESSION_HANDLE,
    mechanism: CK_MECHANISM_TYPE,
    params: &mut P,
    base: CK_OBJECT_HANDLE,
    mut t: Tpl,
) -> Result<CK_OBJECT_HANDLE, CK_RV> {
    let mut m = mech_with(mechanism, params);
    let mut out = 0;
    match unsafe { C_DeriveKey(h, &mut m, base, t.ptr(), t.len(), &mut out) } {
        CKR_OK => Ok(out),
        rv => Err(rv),
    }
}

/// `CK_HSMTLS_TLS13_KEY_IV_PARAMS` (docs/token-vendor-mechanisms.md).
#[repr(C)]
struct KeyIvParams {
    prf: CK_MECHANISM_TYPE,
    iv: *mut u8,
    iv_len: CK_ULONG,
}

fn key_and_iv(
    h: CK_SESSION_HANDLE,
    base: CK_OBJECT_HANDLE,
    iv: &mut [u8],
    t: Tpl,
) -> Result<CK_OBJECT_HANDLE, CK_RV> {
    let mut p = KeyIvParams {
        prf: CKM_SHA256,
        iv: if iv.is_empty() {
            ptr::null_mut()
        } else {
            iv.as_mut_ptr()
        },
        iv_len: iv.len() as CK_ULONG,
    };
    derive_with(
        h,
        hsmtls_token::abi::tls13::CKM_HSMTLS_TLS13_KEY_AND_IV,
        &mut p,
        base,
        t,
    )
}

/// The vendor mechanism CKM_HSMTLS_TLS13_KEY_AND_IV on RFC 8448 §3's
/// server handshake traffic secret: the trace's write key and IV in one
/// C_DeriveKey; the key locked like its base.
#[test]
fn tls13_key_and_iv_vendor_mechanism() {
    let (slot, h) = fresh_token();
    let mut info: CK_MECHANISM_INFO = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe {
            C_GetMechanismInfo(
                slot,
                hsmtls_token::abi::tls13::CKM_HSMTLS_TLS13_KEY_AND_IV,
                &mut info,
            )
        },
        CKR_OK
    );
    assert_eq!(info.flags & CKF_DERIVE, CKF_DERIVE);
    let secret = secret(
        h,
        CKK_GENERIC_SECRET,
        &hex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"),
        false,
    );
    let aes = || {
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_AES)
            .ulong(CKA_VALUE_LEN, 16)
            .bool(CKA_ENCRYPT, true)
    };
    let mut iv = [0u8; 12];
    let key = key_and_iv(h, secret, &mut iv, aes()).unwrap();
    assert_eq!(iv.to_vec(), hex("5d313eb2671276ee13000b30"));
    // The key: RFC 8448's server handshake key, checked through ECB of a
    // zero block against the same key imported in the clear.
    let known = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_AES)
            .bytes(CKA_VALUE, &hex("3fce516009c21727d0f2e4e86ee403bc"))
            .bool(CKA_ENCRYPT, true),
    )
    .unwrap();
    let mut ecb = mech(CKM_AES_ECB);
    assert_eq!(
        crypt(h, &mut ecb, key, true, &[0; 16]).unwrap(),
        crypt(h, &mut ecb, known, true, &[0; 16]).unwrap()
    );
    assert_eq!(attr(h, key, CKA_SENSITIVE).unwrap(), [1]);
    assert_eq!(attr(h, key, CKA_EXTRACTABLE).unwrap(), [0]);
    assert_eq!(attr(h, key, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
    // Bad parameters and templates.
    assert_eq!(
        key_and_iv(h, secret, &mut [], aes()),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    assert_eq!(
        key_and_iv(h, secret, &mut iv, Tpl::new().ulong(CKA_KEY_TYPE, CKK_AES)),
        Err(CKR_TEMPLATE_INCOMPLETE)
    );
    assert_eq!(
        key_and_iv(h, secret, &mut iv, aes().bool(CKA_EXTRACTABLE, true)),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
}

/// The vendor mechanism CKM_HSMTLS_TLS13_FINISHED on RFC 8448 §3: the
/// server handshake traffic secret as the key, the transcript hash through
/// CertificateVerify as the data, the trace's server Finished verify_data
/// as the signature. The secret needs CKA_DERIVE, not CKA_SIGN; a plain
/// HMAC with a derive-only secret stays refused.
#[test]
fn tls13_finished_vendor_mechanism() {
    let (slot, h) = fresh_token();
    let finished = hsmtls_token::abi::tls13::CKM_HSMTLS_TLS13_FINISHED;
    let mut info: CK_MECHANISM_INFO = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { C_GetMechanismInfo(slot, finished, &mut info) },
        CKR_OK
    );
    assert_eq!(info.flags & CKF_SIGN, CKF_SIGN);
    // A derive-only secret, as hsmtls-pkcs11 makes every TLS 1.3 secret.
    let secret = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
            .bytes(
                CKA_VALUE,
                &hex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"),
            )
            .bool(CKA_SENSITIVE, true)
            .bool(CKA_DERIVE, true)
            .bool(CKA_SIGN, false),
    )
    .unwrap();
    let hash = hex("edb7725fa7a3473b031ec8ef65a2485493900138a2b91291407d7951a06110ed");
    let mut prf: CK_MECHANISM_TYPE = CKM_SHA256;
    let mut m = mech_with(finished, &mut prf);
    assert_eq!(
        sign(h, &mut m, secret, &hash).unwrap(),
        hex("9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718")
    );
    // It is no HMAC key (CKA_SIGN false).
    assert_eq!(
        sign(h, &mut mech(CKM_SHA256_HMAC), secret, &hash),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
    // A hash the mechanism does not know.
    let mut md5: CK_MECHANISM_TYPE = CKM_MD5;
    let mut m = mech_with(finished, &mut md5);
    assert_eq!(
        sign(h, &mut m, secret, &hash),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    // A key without CKA_DERIVE.
    let no_derive = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
            .bytes(CKA_VALUE, &[7; 32])
            .bool(CKA_SIGN, true),
    )
    .unwrap();
    let mut m = mech_with(finished, &mut prf);
    assert_eq!(
        sign(h, &mut m, no_derive, &hash),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
}

/// `CK_HSMTLS_TLS13_NEXT_SECRET_PARAMS` (docs/token-vendor-mechanisms.md).
#[repr(C)]
struct NextSecretParams {
    prf: CK_MECHANISM_TYPE,
    ikm: CK_OBJECT_HANDLE,
}

fn next_secret(
    h: CK_SESSION_HANDLE,
    prf: CK_MECHANISM_TYPE,
    base: CK_OBJECT_HANDLE,
    ikm: CK_OBJECT_HANDLE,
    t: Tpl,
) -> Result<CK_OBJECT_HANDLE, CK_RV> {
    let mut p = NextSecretParams { prf, ikm };
    derive_with(
        h,
        hsmtls_token::abi::tls13::CKM_HSMTLS_TLS13_NEXT_SECRET,
        &mut p,
        base,
        t,
    )
}

/// The vendor mechanism CKM_HSMTLS_TLS13_NEXT_SECRET on RFC 8448 §3: the
/// handshake secret from the early secret and the ECDHE secret, the
/// master secret from the handshake secret and zeros, each in one
/// C_DeriveKey; the result protected like both inputs.
#[test]
fn tls13_next_secret_vendor_mechanism() {
    let (slot, h) = fresh_token();
    let next = hsmtls_token::abi::tls13::CKM_HSMTLS_TLS13_NEXT_SECRET;
    let mut info: CK_MECHANISM_INFO = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { C_GetMechanismInfo(slot, next, &mut info) }, CKR_OK);
    assert_eq!(info.flags, CKF_DERIVE);
    let early = secret(
        h,
        CKK_GENERIC_SECRET,
        &hex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"),
        true,
    );
    let ecdhe = secret(
        h,
        CKK_GENERIC_SECRET,
        &hex("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d"),
        true,
    );
    let hs = next_secret(h, CKM_SHA256, early, ecdhe, open_tpl(Some(32))).unwrap();
    assert_eq!(
        attr(h, hs, CKA_VALUE).unwrap(),
        hex("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac")
    );
    let master = next_secret(h, CKM_SHA256, hs, CK_INVALID_HANDLE, open_tpl(None)).unwrap();
    assert_eq!(
        attr(h, master, CKA_VALUE).unwrap(),
        hex("18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919")
    );
    // A sensitive IKM key makes the result sensitive, and a template
    // asking otherwise is refused.
    let locked_ecdhe = secret(h, CKK_GENERIC_SECRET, &[7; 32], false);
    assert_eq!(
        next_secret(h, CKM_SHA256, early, locked_ecdhe, open_tpl(None)),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    let locked = next_secret(h, CKM_SHA256, early, locked_ecdhe, Tpl::new()).unwrap();
    assert_eq!(attr(h, locked, CKA_SENSITIVE).unwrap(), [1]);
    assert_eq!(attr(h, locked, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
    // SHA-384: a 48-byte secret.
    let s384 = next_secret(h, CKM_SHA384, early, CK_INVALID_HANDLE, open_tpl(None)).unwrap();
    assert_eq!(attr(h, s384, CKA_VALUE).unwrap().len(), 48);
    // Bad parameters, lengths and keys.
    assert_eq!(
        next_secret(h, CKM_MD5, early, ecdhe, open_tpl(None)),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    assert_eq!(
        next_secret(h, CKM_SHA256, early, ecdhe, open_tpl(Some(16))),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    assert_eq!(
        next_secret(h, CKM_SHA256, early, 0xdead_beef, open_tpl(None)),
        Err(CKR_KEY_HANDLE_INVALID)
    );
    let aes = secret(h, CKK_AES, &[1; 16], true);
    assert_eq!(
        next_secret(h, CKM_SHA256, early, aes, open_tpl(None)),
        Err(CKR_KEY_TYPE_INCONSISTENT)
    );
    let mut short: CK_MECHANISM_TYPE = CKM_SHA256;
    let mut m = mech_with(next, &mut short);
    let mut t = open_tpl(None);
    let mut out = 0;
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, early, t.ptr(), t.len(), &mut out) },
        CKR_MECHANISM_PARAM_INVALID
    );
}

/// `CK_HSMTLS_TLS13_TRAFFIC_PARAMS` (docs/token-vendor-mechanisms.md).
#[repr(C)]
struct TrafficParams {
    prf: CK_MECHANISM_TYPE,
    info: *mut u8,
    info_len: CK_ULONG,
    key_template: *mut CK_ATTRIBUTE,
    key_count: CK_ULONG,
    iv: *mut u8,
    iv_len: CK_ULONG,
    key_out: *mut CK_OBJECT_HANDLE,
}

/// C_DeriveKey with CKM_HSMTLS_TLS13_TRAFFIC_SECRET: (secret, key).
fn traffic_secret(
    h: CK_SESSION_HANDLE,
    base: CK_OBJECT_HANDLE,
    info: &[u8],
    key_tpl: &mut Tpl,
    iv: &mut [u8],
    t: Tpl,
) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE), CK_RV> {
    let mut info = info.to_vec();
    let mut key = 0;
    let mut p = TrafficParams {
        prf: CKM_SHA256,
        info: info.as_mut_ptr(),
        info_len: info.len() as CK_ULONG,
        key_template: key_tpl.ptr(),
        key_count: key_tpl.len(),
        iv: if iv.is_empty() {
            ptr::null_mut()
        } else {
            iv.as_mut_ptr()
        },
        iv_len: iv.len() as CK_ULONG,
        key_out: &mut key,
    };
    let secret = derive_with(
        h,
        hsmtls_token::abi::tls13::CKM_HSMTLS_TLS13_TRAFFIC_SECRET,
        &mut p,
        base,
        t,
    )?;
    Ok((secret, key))
}

/// The vendor mechanism CKM_HSMTLS_TLS13_TRAFFIC_SECRET on RFC 8448 §3:
/// from the handshake secret and the ClientHello..ServerHello hash, the
/// server handshake traffic secret, its write key and its IV in one
/// C_DeriveKey; both objects protected like the base.
#[test]
fn tls13_traffic_secret_vendor_mechanism() {
    let (slot, h) = fresh_token();
    let mech = hsmtls_token::abi::tls13::CKM_HSMTLS_TLS13_TRAFFIC_SECRET;
    let mut info: CK_MECHANISM_INFO = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { C_GetMechanismInfo(slot, mech, &mut info) }, CKR_OK);
    assert_eq!(info.flags, CKF_DERIVE);
    let hs = secret(
        h,
        CKK_GENERIC_SECRET,
        &hex("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac"),
        true,
    );
    let hello_hash = hex("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
    let label = hkdf_label(32, b"s hs traffic", &hello_hash);
    let aes = || {
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_AES)
            .ulong(CKA_VALUE_LEN, 16)
            .bool(CKA_ENCRYPT, true)
            .bool(CKA_SENSITIVE, false)
            .bool(CKA_EXTRACTABLE, true)
    };
    let mut iv = [0u8; 12];
    let (traffic, key) =
        traffic_secret(h, hs, &label, &mut aes(), &mut iv, open_tpl(Some(32))).unwrap();
    assert_eq!(
        attr(h, traffic, CKA_VALUE).unwrap(),
        hex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
    );
    assert_eq!(
        attr(h, key, CKA_VALUE).unwrap(),
        hex("3fce516009c21727d0f2e4e86ee403bc")
    );
    assert_eq!(attr(h, key, CKA_KEY_TYPE).unwrap(), CKK_AES.to_ne_bytes());
    assert_eq!(iv.to_vec(), hex("5d313eb2671276ee13000b30"));
    // From a locked base both come out locked, and asking otherwise is
    // refused.
    let locked = secret(h, CKK_GENERIC_SECRET, &[9; 32], false);
    assert_eq!(
        traffic_secret(h, locked, &label, &mut aes(), &mut iv, open_tpl(None)),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    let locked_aes = || {
        Tpl::new()
            .ulong(CKA_KEY_TYPE, CKK_AES)
            .ulong(CKA_VALUE_LEN, 16)
            .bool(CKA_ENCRYPT, true)
    };
    let (s, k) = traffic_secret(h, locked, &label, &mut locked_aes(), &mut iv, Tpl::new()).unwrap();
    for o in [s, k] {
        assert_eq!(attr(h, o, CKA_SENSITIVE).unwrap(), [1]);
        assert_eq!(attr(h, o, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
    }
    // Bad parameters and templates.
    assert_eq!(
        traffic_secret(h, hs, &label, &mut aes(), &mut [], open_tpl(None)),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    assert_eq!(
        traffic_secret(h, hs, &[], &mut aes(), &mut iv, open_tpl(None)),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    assert_eq!(
        traffic_secret(
            h,
            hs,
            &label,
            &mut Tpl::new().ulong(CKA_KEY_TYPE, CKK_AES),
            &mut iv,
            open_tpl(None)
        ),
        Err(CKR_TEMPLATE_INCOMPLETE)
    );
    assert_eq!(
        traffic_secret(h, hs, &label, &mut aes(), &mut iv, open_tpl(Some(16))),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
}

/// `CK_HSMTLS_KEY_SHARE_PARAMS` (docs/token-vendor-mechanisms.md).
#[repr(C)]
struct KeyShareParams {
    public: *mut u8,
    public_len: CK_ULONG,
}

/// C_GenerateKey with CKM_HSMTLS_KEY_SHARE_GEN: (private key, public key).
fn key_share(
    h: CK_SESSION_HANDLE,
    room: usize,
    mut t: Tpl,
) -> Result<(CK_OBJECT_HANDLE, Vec<u8>), CK_RV> {
    let mut public = vec![0u8; room];
    let mut p = KeyShareParams {
        public: public.as_mut_ptr(),
        public_len: room as CK_ULONG,
    };
    let mut m = mech_with(
        hsmtls_token::abi::keyshare::CKM_HSMTLS_KEY_SHARE_GEN,
        &mut p,
    );
    let mut k = 0;
    match unsafe { C_GenerateKey(h, &mut m, t.ptr(), t.len(), &mut k) } {
        CKR_OK => {
            public.truncate(p.public_len as usize);
            Ok((k, public))
        }
        rv => Err(rv),
    }
}

/// The vendor mechanism CKM_HSMTLS_KEY_SHARE_GEN: on every curve and on
/// X25519 a private key object and the public key as TLS sends it, which
/// agrees (ECDH both ways) with a key pair made by C_GenerateKeyPair;
/// nothing is made when the caller's room is short.
#[test]
fn key_share_vendor_mechanism() {
    let (slot, h) = fresh_token();
    let share = hsmtls_token::abi::keyshare::CKM_HSMTLS_KEY_SHARE_GEN;
    let mut info: CK_MECHANISM_INFO = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { C_GetMechanismInfo(slot, share, &mut info) },
        CKR_OK
    );
    assert_eq!(info.flags & CKF_GENERATE, CKF_GENERATE);
    let tpl = |params: &[u8]| {
        Tpl::new()
            .bytes(CKA_EC_PARAMS, params)
            .bool(CKA_DERIVE, true)
            .bool(CKA_SENSITIVE, true)
    };
    // Readable, for comparing ECDH results.
    let open = |params: &[u8]| {
        Tpl::new()
            .bytes(CKA_EC_PARAMS, params)
            .bool(CKA_DERIVE, true)
            .bool(CKA_SENSITIVE, false)
            .bool(CKA_EXTRACTABLE, true)
    };
    let mut cases: Vec<(Vec<u8>, usize, CK_MECHANISM_TYPE)> = CURVES
        .iter()
        .map(|(_, params, n)| (hex(params), 1 + 2 * n, CKM_EC_KEY_PAIR_GEN))
        .collect();
    cases.push((hex(X25519_OID), 32, CKM_EC_MONTGOMERY_KEY_PAIR_GEN));
    for (params, len, pair_mech) in cases {
        let (private, public) = key_share(h, 200, tpl(&params)).unwrap();
        assert_eq!(public.len(), len);
        assert_eq!(
            attr(h, private, CKA_CLASS).unwrap(),
            CKO_PRIVATE_KEY.to_ne_bytes()
        );
        assert_eq!(attr(h, private, CKA_LOCAL).unwrap(), [1]);
        assert_eq!(
            attr(h, private, CKA_KEY_GEN_MECHANISM).unwrap(),
            share.to_ne_bytes()
        );
        assert_eq!(attr(h, private, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
        let (readable, public) = key_share(h, 200, open(&params)).unwrap();
        let (peer_public, peer_private) = key_pair_with(h, pair_mech, &params, true).unwrap();
        let peer_point = attr(h, peer_public, CKA_EC_POINT).unwrap();
        assert_eq!(
            ecdh(h, readable, &peer_point).unwrap(),
            ecdh(h, peer_private, &public).unwrap()
        );
        // Short room: refused, and no key made.
        let before = object_count(h);
        assert_eq!(
            key_share(h, len - 1, tpl(&params)),
            Err(CKR_BUFFER_TOO_SMALL)
        );
        assert_eq!(object_count(h), before);
    }
    // No curve, a signature curve, no room at all.
    assert_eq!(
        key_share(h, 200, Tpl::new().bool(CKA_DERIVE, true)),
        Err(CKR_TEMPLATE_INCOMPLETE)
    );
    assert_eq!(
        key_share(h, 200, tpl(&hex(ED25519_OID))),
        Err(CKR_CURVE_NOT_SUPPORTED)
    );
    let mut p = KeyShareParams {
        public: ptr::null_mut(),
        public_len: 65,
    };
    let mut m = mech_with(share, &mut p);
    let mut t = tpl(&hex(CURVES[0].1));
    let mut k = 0;
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut m, t.ptr(), t.len(), &mut k) },
        CKR_MECHANISM_PARAM_INVALID
    );
}

/// How many objects the session sees.
fn object_count(h: CK_SESSION_HANDLE) -> usize {
    let mut t = Tpl::new();
    assert_eq!(unsafe { C_FindObjectsInit(h, t.ptr(), t.len()) }, CKR_OK);
    let mut found = vec![0; 4096];
    let mut n = 0;
    assert_eq!(
        unsafe { C_FindObjects(h, found.as_mut_ptr(), found.len() as CK_ULONG, &mut n) },
        CKR_OK
    );
    assert_eq!(unsafe { C_FindObjectsFinal(h) }, CKR_OK);
    n as usize
}
