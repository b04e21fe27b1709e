//! In-process C API tests of the RSA mechanisms and the hsmtls vendor
//! mechanism `CKM_HSMTLS_RSA_PREMASTER_TO_MASTER`: key generation and
//! import, PKCS#1 v1.5 / PSS / OAEP against hsmtls-crypto, implicit
//! rejection, the length-query convention and the CK_RVs of bad input.
#![allow(unsafe_code)]

mod common;

use std::ptr;

use common::*;
use cryptoki_sys::*;
use hsmtls_crypto::hash::digest;
use hsmtls_crypto::rsa::{OaepParams, PssParams, RsaHash, RsaPrivateKey, RsaPublicKey};
use hsmtls_crypto::HashAlg;
use hsmtls_token::abi::rsa::{
    CKM_HSMTLS_RSA_PREMASTER_TO_MASTER, CK_HSMTLS_RSA_MASTER_DERIVE_PARAMS,
};
use hsmtls_token::abi::*;

/// A generated RSA pair of `bits`; the private key can derive.
fn generate(
    h: CK_SESSION_HANDLE,
    bits: CK_ULONG,
) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE), CK_RV> {
    generate_pair(
        h,
        CKM_RSA_PKCS_KEY_PAIR_GEN,
        Tpl::new()
            .ulong(CKA_MODULUS_BITS, bits)
            .bytes(CKA_PUBLIC_EXPONENT, &[1, 0, 1])
            .bool(CKA_VERIFY, true)
            .bool(CKA_ENCRYPT, true),
        Tpl::new()
            .bool(CKA_SIGN, true)
            .bool(CKA_DECRYPT, true)
            .bool(CKA_DERIVE, true),
    )
}

fn public_of(h: CK_SESSION_HANDLE, p: CK_OBJECT_HANDLE) -> RsaPublicKey {
    let n = attr(h, p, CKA_MODULUS).unwrap();
    let e = attr(h, p, CKA_PUBLIC_EXPONENT).unwrap();
    RsaPublicKey::new(&n, &e).unwrap()
}

/// Imports `key` with C_CreateObject (private) and its public half.
fn import(h: CK_SESSION_HANDLE, key: &RsaPrivateKey) -> (CK_OBJECT_HANDLE, CK_OBJECT_HANDLE) {
    import_with(h, key, false)
}

/// As [`import`], the private key not sensitive and extractable if `open`.
fn import_with(
    h: CK_SESSION_HANDLE,
    key: &RsaPrivateKey,
    open: bool,
) -> (CK_OBJECT_HANDLE, CK_OBJECT_HANDLE) {
    let c = key.components().unwrap();
    let s = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_PRIVATE_KEY)
            .ulong(CKA_KEY_TYPE, CKK_RSA)
            .bytes(CKA_MODULUS, &c.n)
            .bytes(CKA_PUBLIC_EXPONENT, &c.e)
            .bytes(CKA_PRIVATE_EXPONENT, &c.d)
            .bytes(CKA_PRIME_1, &c.p)
            .bytes(CKA_PRIME_2, &c.q)
            .bytes(CKA_EXPONENT_1, &c.dp)
            .bytes(CKA_EXPONENT_2, &c.dq)
            .bytes(CKA_COEFFICIENT, &c.qinv)
            .bool(CKA_SIGN, true)
            .bool(CKA_DECRYPT, true)
            .bool(CKA_DERIVE, true)
            .bool(CKA_SENSITIVE, !open)
            .bool(CKA_EXTRACTABLE, open),
    )
    .unwrap();
    let p = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_PUBLIC_KEY)
            .ulong(CKA_KEY_TYPE, CKK_RSA)
            .bytes(CKA_MODULUS, &c.n)
            .bytes(CKA_PUBLIC_EXPONENT, &c.e),
    )
    .unwrap();
    (p, s)
}

fn crypt(
    h: CK_SESSION_HANDLE,
    encrypt: bool,
    m: &mut CK_MECHANISM,
    key: CK_OBJECT_HANDLE,
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

fn pss(
    hash: CK_MECHANISM_TYPE,
    mgf: CK_RSA_PKCS_MGF_TYPE,
    salt: CK_ULONG,
) -> CK_RSA_PKCS_PSS_PARAMS {
    CK_RSA_PKCS_PSS_PARAMS {
        hashAlg: hash,
        mgf,
        sLen: salt,
    }
}

#[test]
fn key_generation_attributes_and_mechanism_info() {
    let (slot, h) = fresh_token();
    let (p, s) = generate(h, 2048).unwrap();
    let n = attr(h, p, CKA_MODULUS).unwrap();
    assert_eq!(n.len(), 256);
    assert_eq!(attr(h, s, CKA_MODULUS).unwrap(), n);
    assert_eq!(attr(h, p, CKA_PUBLIC_EXPONENT).unwrap(), vec![1, 0, 1]);
    assert_eq!(attr(h, s, CKA_PUBLIC_EXPONENT).unwrap(), vec![1, 0, 1]);
    assert_eq!(attr(h, p, CKA_MODULUS_BITS).unwrap(), 2048u64.to_ne_bytes());
    for t in [
        CKA_PRIVATE_EXPONENT,
        CKA_PRIME_1,
        CKA_PRIME_2,
        CKA_EXPONENT_1,
        CKA_EXPONENT_2,
        CKA_COEFFICIENT,
    ] {
        assert_eq!(attr(h, s, t), Err(CKR_ATTRIBUTE_SENSITIVE));
    }
    assert_eq!(attr(h, s, CKA_LOCAL).unwrap(), vec![1]);
    assert_eq!(attr(h, s, CKA_KEY_TYPE).unwrap(), CKK_RSA.to_ne_bytes());
    // Sizes and exponents outside what is offered.
    assert_eq!(generate(h, 1024), Err(CKR_KEY_SIZE_RANGE));
    assert_eq!(generate(h, 8192), Err(CKR_KEY_SIZE_RANGE));
    assert_eq!(generate(h, 2049), Err(CKR_KEY_SIZE_RANGE));
    let mut m = mech(CKM_RSA_PKCS_KEY_PAIR_GEN);
    let mut pubt = Tpl::new()
        .ulong(CKA_MODULUS_BITS, 2048)
        .bytes(CKA_PUBLIC_EXPONENT, &[3]);
    let mut privt = Tpl::new();
    let (mut a, mut b) = (0, 0);
    assert_eq!(
        unsafe {
            C_GenerateKeyPair(
                h,
                &mut m,
                pubt.ptr(),
                pubt.len(),
                privt.ptr(),
                privt.len(),
                &mut a,
                &mut b,
            )
        },
        CKR_TEMPLATE_INCONSISTENT
    );
    let mut pubt = Tpl::new();
    assert_eq!(
        unsafe {
            C_GenerateKeyPair(
                h,
                &mut m,
                pubt.ptr(),
                pubt.len(),
                privt.ptr(),
                privt.len(),
                &mut a,
                &mut b,
            )
        },
        CKR_TEMPLATE_INCOMPLETE
    );
    for (mech, flags) in [
        (CKM_RSA_PKCS_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR),
        (
            CKM_RSA_PKCS,
            CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT | CKF_DECRYPT,
        ),
        (CKM_RSA_PKCS_PSS, CKF_SIGN | CKF_VERIFY),
        (CKM_SHA256_RSA_PKCS, CKF_SIGN | CKF_VERIFY),
        (CKM_SHA384_RSA_PKCS_PSS, CKF_SIGN | CKF_VERIFY),
        (CKM_RSA_PKCS_OAEP, CKF_ENCRYPT | CKF_DECRYPT),
        (CKM_HSMTLS_RSA_PREMASTER_TO_MASTER, CKF_DERIVE),
    ] {
        let mut mi: CK_MECHANISM_INFO = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { C_GetMechanismInfo(slot, mech, &mut mi) }, CKR_OK);
        assert_eq!(mi.flags, flags, "{mech:#x}");
        assert_eq!((mi.ulMinKeySize, mi.ulMaxKeySize), (2048, 4096));
    }
}

#[test]
fn import_and_signatures() {
    let (_, h) = fresh_token();
    let key = RsaPrivateKey::generate(2048).unwrap();
    let public = key.public_key().unwrap();
    let (p, s) = import(h, &key);
    assert_eq!(attr(h, p, CKA_MODULUS_BITS).unwrap(), 2048u64.to_ne_bytes());
    let message = b"an RSA signed message";
    for (hm, pm, alg, g) in [
        (
            CKM_SHA256_RSA_PKCS,
            CKM_SHA256_RSA_PKCS_PSS,
            HashAlg::Sha256,
            CKG_MGF1_SHA256,
        ),
        (
            CKM_SHA384_RSA_PKCS,
            CKM_SHA384_RSA_PKCS_PSS,
            HashAlg::Sha384,
            CKG_MGF1_SHA384,
        ),
        (
            CKM_SHA512_RSA_PKCS,
            CKM_SHA512_RSA_PKCS_PSS,
            HashAlg::Sha512,
            CKG_MGF1_SHA512,
        ),
    ] {
        let hash_ck = match alg {
            HashAlg::Sha256 => CKM_SHA256,
            HashAlg::Sha384 => CKM_SHA384,
            HashAlg::Sha512 => CKM_SHA512,
        };
        // PKCS#1 v1.5: deterministic, equal to hsmtls-crypto's, raw or hashed.
        let mut hashed = mech(hm);
        let sig = sign(h, &mut hashed, s, message).unwrap();
        assert_eq!(sig, key.sign_pkcs1(alg, message).unwrap());
        public.verify_pkcs1(alg, message, &sig).unwrap();
        let mut raw = mech(CKM_RSA_PKCS);
        let di = hsmtls_crypto::rsa::digest_info(alg, message);
        assert_eq!(sign(h, &mut raw, s, &di).unwrap(), sig);
        assert_eq!(verify(h, &mut raw, p, &di, &sig), CKR_OK);
        assert_eq!(verify(h, &mut hashed, p, message, &sig), CKR_OK);
        assert_eq!(
            verify(h, &mut hashed, p, b"other", &sig),
            CKR_SIGNATURE_INVALID
        );
        // Multi-part.
        unsafe {
            assert_eq!(C_SignInit(h, &mut hashed, s), CKR_OK);
            assert_eq!(C_SignUpdate(h, message.as_ptr() as *mut _, 5), CKR_OK);
            assert_eq!(
                C_SignUpdate(h, message[5..].as_ptr() as *mut _, (message.len() - 5) as _),
                CKR_OK
            );
            let out = two_call(|o, n| C_SignFinal(h, o, n)).unwrap();
            assert_eq!(out, sig);
        }
        // PSS: salt = hash length, hashed and raw, checked by hsmtls-crypto.
        let mut prm = pss(hash_ck, g, alg.output_len() as _);
        let mut hm_pss = mech_with(pm, &mut prm);
        let sig = sign(h, &mut hm_pss, s, message).unwrap();
        let params = PssParams {
            hash: alg.into(),
            mgf1: alg.into(),
            salt_len: alg.output_len(),
        };
        public.verify_pss(alg, &params, message, &sig).unwrap();
        assert_eq!(verify(h, &mut hm_pss, p, message, &sig), CKR_OK);
        let mut prm2 = prm;
        let mut raw_pss = mech_with(CKM_RSA_PKCS_PSS, &mut prm2);
        let d = digest(alg, message);
        assert_eq!(verify(h, &mut raw_pss, p, &d, &sig), CKR_OK);
        let sig2 = sign(h, &mut raw_pss, s, &d).unwrap();
        public.verify_pss_digest(&params, &d, &sig2).unwrap();
        assert_eq!(sign(h, &mut raw_pss, s, &d[1..]), Err(CKR_DATA_LEN_RANGE));
    }
    // Zero salt and SHA-1 for raw PSS.
    let mut prm = pss(CKM_SHA_1, CKG_MGF1_SHA1, 0);
    let mut m = mech_with(CKM_RSA_PKCS_PSS, &mut prm);
    let d = [7u8; 20];
    let sig = sign(h, &mut m, s, &d).unwrap();
    assert_eq!(verify(h, &mut m, p, &d, &sig), CKR_OK);
    let params = PssParams {
        hash: RsaHash::Sha1,
        mgf1: RsaHash::Sha1,
        salt_len: 0,
    };
    public.verify_pss_digest(&params, &d, &sig).unwrap();
}

#[test]
fn signature_negative_cases() {
    let (_, h) = fresh_token();
    let (p, s) = generate(h, 2048).unwrap();
    let mut raw = mech(CKM_RSA_PKCS);
    // Raw PKCS#1: at most k − 11 bytes, single-part only.
    assert_eq!(sign(h, &mut raw, s, &[1; 246]), Err(CKR_DATA_LEN_RANGE));
    assert_eq!(sign(h, &mut raw, s, &[1; 245]).unwrap().len(), 256);
    unsafe {
        assert_eq!(C_SignInit(h, &mut raw, s), CKR_OK);
        let mut d = [1u8; 8];
        assert_eq!(
            C_SignUpdate(h, d.as_mut_ptr(), 8),
            CKR_FUNCTION_NOT_SUPPORTED
        );
        // Short buffer, then the length query and the real call.
        assert_eq!(C_SignInit(h, &mut raw, s), CKR_OK);
        let mut n: CK_ULONG = 10;
        let mut small = [0u8; 10];
        assert_eq!(
            C_Sign(h, d.as_mut_ptr(), 8, small.as_mut_ptr(), &mut n),
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(n, 256);
        let mut out = vec![0u8; 256];
        assert_eq!(
            C_Sign(h, d.as_mut_ptr(), 8, out.as_mut_ptr(), &mut n),
            CKR_OK
        );
        assert_eq!(n, 256);
        assert_eq!(
            C_Sign(h, d.as_mut_ptr(), 8, ptr::null_mut(), &mut n),
            CKR_OPERATION_NOT_INITIALIZED
        );
    }
    let sig = sign(h, &mut raw, s, b"x").unwrap();
    assert_eq!(
        verify(h, &mut raw, p, b"x", &sig[1..]),
        CKR_SIGNATURE_LEN_RANGE
    );
    assert_eq!(verify(h, &mut raw, p, b"y", &sig), CKR_SIGNATURE_INVALID);
    // Wrong key types: an EC key, a secret, the wrong half.
    let k = secret(h, CKK_GENERIC_SECRET, &[1; 32], false);
    let mut sk = mech(CKM_SHA256_RSA_PKCS);
    assert_eq!(sign(h, &mut sk, k, b"x"), Err(CKR_KEY_TYPE_INCONSISTENT));
    assert_eq!(
        verify(h, &mut sk, s, b"x", &sig),
        CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    // Parameters: none allowed for PKCS#1, required and checked for PSS.
    let mut x = 0u64;
    let mut with = mech_with(CKM_SHA256_RSA_PKCS, &mut x);
    assert_eq!(
        sign(h, &mut with, s, b"x"),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    let mut none = mech(CKM_SHA256_RSA_PKCS_PSS);
    assert_eq!(
        sign(h, &mut none, s, b"x"),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    for bad in [
        pss(CKM_SHA256, CKG_MGF1_SHA384, 32),  // MGF mismatch
        pss(CKM_SHA384, CKG_MGF1_SHA384, 48),  // hash ≠ mechanism's
        pss(CKM_SHA256, CKG_MGF1_SHA256, 223), // salt too long for 2048 bits
        pss(CKM_MD5, CKG_MGF1_SHA256, 32),
        pss(CKM_SHA256, 0x77, 32),
    ] {
        let mut b = bad;
        let mut m = mech_with(CKM_SHA256_RSA_PKCS_PSS, &mut b);
        assert_eq!(
            sign(h, &mut m, s, b"x"),
            Err(CKR_MECHANISM_PARAM_INVALID),
            "{bad:?}"
        );
        assert_eq!(
            verify(h, &mut m, p, b"x", &sig),
            CKR_MECHANISM_PARAM_INVALID
        );
    }
    let mut ok = pss(CKM_SHA256, CKG_MGF1_SHA256, 222);
    let mut m = mech_with(CKM_SHA256_RSA_PKCS_PSS, &mut ok);
    let big_salt = sign(h, &mut m, s, b"x").unwrap();
    assert_eq!(verify(h, &mut m, p, b"x", &big_salt), CKR_OK);
    // A truncated parameter structure.
    let mut short = [0u8; 8];
    let mut m = CK_MECHANISM {
        mechanism: CKM_RSA_PKCS_PSS,
        pParameter: short.as_mut_ptr() as *mut _,
        ulParameterLen: 8,
    };
    assert_eq!(
        sign(h, &mut m, s, &[0; 32]),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
}

#[test]
fn encryption_and_implicit_rejection() {
    let (_, h) = fresh_token();
    let key = RsaPrivateKey::generate(2048).unwrap();
    let public = key.public_key().unwrap();
    let (p, s) = import(h, &key);
    let mut m = mech(CKM_RSA_PKCS);
    // Round trips both ways.
    let ct = crypt(h, true, &mut m, p, b"secret").unwrap();
    assert_eq!(ct.len(), 256);
    assert_eq!(crypt(h, false, &mut m, s, &ct).unwrap(), b"secret");
    let ct = public.encrypt_pkcs1(&[9; 245]).unwrap();
    assert_eq!(crypt(h, false, &mut m, s, &ct).unwrap(), vec![9; 245]);
    assert_eq!(
        crypt(h, true, &mut m, p, &[1; 246]),
        Err(CKR_DATA_LEN_RANGE)
    );
    // Bad padding: CKR_OK and the synthetic message hsmtls-crypto computes.
    let mut bad = vec![0u8; 256];
    bad[255] = 5;
    bad[7] = 0x44;
    let synthetic = crypt(h, false, &mut m, s, &bad).unwrap();
    assert_eq!(
        synthetic,
        key.decrypt_pkcs1_implicit(&bad).unwrap().to_vec()
    );
    assert_eq!(crypt(h, false, &mut m, s, &bad).unwrap(), synthetic);
    bad[200] ^= 1;
    assert_ne!(crypt(h, false, &mut m, s, &bad).unwrap(), synthetic);
    // Publicly invalid ciphertexts.
    assert_eq!(
        crypt(h, false, &mut m, s, &ct[1..]),
        Err(CKR_ENCRYPTED_DATA_LEN_RANGE)
    );
    assert_eq!(
        crypt(h, false, &mut m, s, &[0xff; 256]),
        Err(CKR_ENCRYPTED_DATA_INVALID)
    );
    // Short output buffer keeps the result for the repeated call.
    unsafe {
        assert_eq!(C_DecryptInit(h, &mut m, s), CKR_OK);
        let mut n: CK_ULONG = 2;
        let mut small = [0u8; 2];
        assert_eq!(
            C_Decrypt(h, ct.as_ptr() as *mut _, 256, small.as_mut_ptr(), &mut n),
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(n, 245);
        let mut out = vec![0u8; 245];
        assert_eq!(
            C_Decrypt(h, ct.as_ptr() as *mut _, 256, out.as_mut_ptr(), &mut n),
            CKR_OK
        );
        assert_eq!(out, vec![9; 245]);
    }
    // OAEP with labels and MGF1 hashes, both ways.
    let label = b"oaep label".to_vec();
    for (hash, hck, mgf) in [
        (RsaHash::Sha1, CKM_SHA_1, CKG_MGF1_SHA1),
        (RsaHash::Sha256, CKM_SHA256, CKG_MGF1_SHA256),
        (RsaHash::Sha512, CKM_SHA512, CKG_MGF1_SHA512),
    ] {
        let mut prm = CK_RSA_PKCS_OAEP_PARAMS {
            hashAlg: hck,
            mgf,
            source: CKZ_DATA_SPECIFIED,
            pSourceData: label.as_ptr() as *mut _,
            ulSourceDataLen: label.len() as _,
        };
        let mut om = mech_with(CKM_RSA_PKCS_OAEP, &mut prm);
        let ct = crypt(h, true, &mut om, p, b"oaep message").unwrap();
        let params = OaepParams {
            hash,
            mgf1: hash,
            label: label.clone(),
        };
        assert_eq!(
            &key.decrypt_oaep(&params, &ct).unwrap()[..],
            b"oaep message"
        );
        let ct = public.encrypt_oaep(&params, b"from software").unwrap();
        assert_eq!(crypt(h, false, &mut om, s, &ct).unwrap(), b"from software");
        let max = 256 - 2 * hash.output_len() - 2;
        assert_eq!(
            crypt(h, true, &mut om, p, &vec![1; max + 1]),
            Err(CKR_DATA_LEN_RANGE)
        );
        let mut garbage = ct.clone();
        garbage[10] ^= 1;
        assert_eq!(
            crypt(h, false, &mut om, s, &garbage),
            Err(CKR_ENCRYPTED_DATA_INVALID)
        );
    }
    let mut prm = CK_RSA_PKCS_OAEP_PARAMS {
        hashAlg: CKM_MD5,
        mgf: CKG_MGF1_SHA1,
        source: CKZ_DATA_SPECIFIED,
        pSourceData: ptr::null_mut(),
        ulSourceDataLen: 0,
    };
    let mut om = mech_with(CKM_RSA_PKCS_OAEP, &mut prm);
    assert_eq!(
        crypt(h, true, &mut om, p, b"x"),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    // Wrong key type and wrong half.
    let k = secret(h, CKK_AES, &[1; 16], false);
    assert_eq!(
        crypt(h, true, &mut m, k, b"x"),
        Err(CKR_KEY_TYPE_INCONSISTENT)
    );
    assert_eq!(
        crypt(h, true, &mut m, s, b"x"),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
}

#[test]
fn import_rejects_bad_keys() {
    let (_, h) = fresh_token();
    let key = RsaPrivateKey::generate(2048).unwrap();
    let c = key.components().unwrap();
    let base = || {
        Tpl::new()
            .ulong(CKA_CLASS, CKO_PRIVATE_KEY)
            .ulong(CKA_KEY_TYPE, CKK_RSA)
            .bytes(CKA_MODULUS, &c.n)
            .bytes(CKA_PUBLIC_EXPONENT, &c.e)
            .bytes(CKA_PRIVATE_EXPONENT, &c.d)
            .bytes(CKA_PRIME_1, &c.p)
            .bytes(CKA_PRIME_2, &c.q)
            .bytes(CKA_EXPONENT_1, &c.dp)
            .bytes(CKA_EXPONENT_2, &c.dq)
    };
    assert_eq!(create(h, base()), Err(CKR_TEMPLATE_INCOMPLETE));
    let mut wrong = c.qinv.to_vec();
    wrong[0] ^= 1;
    assert_eq!(
        create(h, base().bytes(CKA_COEFFICIENT, &wrong)),
        Err(CKR_ATTRIBUTE_VALUE_INVALID)
    );
    let o = create(h, base().bytes(CKA_COEFFICIENT, &c.qinv)).unwrap();
    assert_eq!(
        attr(h, o, CKA_PRIVATE_EXPONENT),
        Err(CKR_ATTRIBUTE_SENSITIVE)
    );
    assert_eq!(attr(h, o, CKA_MODULUS).unwrap(), c.n);
    // A public key with CKA_MODULUS_BITS given, or a small modulus.
    let pubt = || {
        Tpl::new()
            .ulong(CKA_CLASS, CKO_PUBLIC_KEY)
            .ulong(CKA_KEY_TYPE, CKK_RSA)
    };
    assert_eq!(
        create(
            h,
            pubt()
                .bytes(CKA_MODULUS, &c.n)
                .bytes(CKA_PUBLIC_EXPONENT, &c.e)
                .ulong(CKA_MODULUS_BITS, 2048)
        ),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    assert_eq!(
        create(
            h,
            pubt()
                .bytes(CKA_MODULUS, &c.n[..128])
                .bytes(CKA_PUBLIC_EXPONENT, &c.e)
        ),
        Err(CKR_ATTRIBUTE_VALUE_INVALID)
    );
    assert_eq!(
        create(h, pubt().bytes(CKA_MODULUS, &c.n)),
        Err(CKR_TEMPLATE_INCOMPLETE)
    );
}

/// `CK_HSMTLS_RSA_MASTER_DERIVE_PARAMS` with owned buffers.
struct Premaster {
    ct: Vec<u8>,
    client: Vec<u8>,
    server: Vec<u8>,
    session_hash: Vec<u8>,
    p: CK_HSMTLS_RSA_MASTER_DERIVE_PARAMS,
}

impl Premaster {
    fn new(ct: &[u8], version: (u8, u8), ems: bool) -> Box<Self> {
        let mut b = Box::new(Self {
            ct: ct.to_vec(),
            client: vec![0x11; 32],
            server: vec![0x22; 32],
            session_hash: vec![0x33; 32],
            p: unsafe { std::mem::zeroed() },
        });
        b.p = CK_HSMTLS_RSA_MASTER_DERIVE_PARAMS {
            pEncryptedPreMaster: b.ct.as_mut_ptr(),
            ulEncryptedPreMasterLen: b.ct.len() as _,
            clientVersion: CK_VERSION {
                major: version.0,
                minor: version.1,
            },
            prfHashMechanism: CKM_SHA256,
            bExtendedMasterSecret: u8::from(ems),
            RandomInfo: CK_SSL3_RANDOM_DATA {
                pClientRandom: b.client.as_mut_ptr(),
                ulClientRandomLen: 32,
                pServerRandom: b.server.as_mut_ptr(),
                ulServerRandomLen: 32,
            },
            pSessionHash: b.session_hash.as_mut_ptr(),
            ulSessionHashLen: 32,
        };
        b
    }

    /// Derives an extractable master secret and returns its value.
    fn derive(&mut self, h: CK_SESSION_HANDLE, key: CK_OBJECT_HANDLE) -> Result<Vec<u8>, CK_RV> {
        let mut m = mech_with(CKM_HSMTLS_RSA_PREMASTER_TO_MASTER, &mut self.p);
        let mut t = Tpl::new()
            .bool(CKA_SENSITIVE, false)
            .bool(CKA_EXTRACTABLE, true);
        let mut o = 0;
        match unsafe { C_DeriveKey(h, &mut m, key, t.ptr(), t.len(), &mut o) } {
            CKR_OK => {}
            rv => return Err(rv),
        }
        assert_eq!(
            attr(h, o, CKA_KEY_TYPE).unwrap(),
            CKK_GENERIC_SECRET.to_ne_bytes()
        );
        assert!(!attr(h, o, CKA_ALLOWED_MECHANISMS).unwrap().is_empty());
        attr(h, o, CKA_VALUE)
    }
}

fn software_master(pms: &[u8], ems: bool) -> Vec<u8> {
    let mut out = vec![0u8; 48];
    if ems {
        hsmtls_crypto::prf::tls12_prf(
            HashAlg::Sha256,
            pms,
            b"extended master secret",
            &[&[0x33; 32]],
            &mut out,
        );
    } else {
        hsmtls_crypto::prf::tls12_prf(
            HashAlg::Sha256,
            pms,
            b"master secret",
            &[&[0x11; 32], &[0x22; 32]],
            &mut out,
        );
    }
    out
}

#[test]
fn vendor_premaster_to_master() {
    let (_, h) = fresh_token();
    // An open key, so that the masters can be read back and compared.
    let soft = RsaPrivateKey::generate(2048).unwrap();
    let (_, s) = import_with(h, &soft, true);
    let public = soft.public_key().unwrap();
    let (gp, sensitive) = generate(h, 2048).unwrap();
    let mut pms = [0u8; 48];
    hsmtls_crypto::fill_random(&mut pms).unwrap();
    pms[0] = 3;
    pms[1] = 3;
    let ct = public.encrypt_pkcs1(&pms).unwrap();
    for ems in [false, true] {
        // The real thing: the master the PRF computes in software.
        let ms = Premaster::new(&ct, (3, 3), ems).derive(h, s).unwrap();
        assert_eq!(ms, software_master(&pms, ems));
        // A wrong version: no error, a different (random) master each time.
        let a = Premaster::new(&ct, (3, 2), ems).derive(h, s).unwrap();
        let b = Premaster::new(&ct, (3, 2), ems).derive(h, s).unwrap();
        assert_eq!(a.len(), 48);
        assert_ne!(a, ms);
        assert_ne!(a, b);
        // Bad padding (garbage ciphertext) and a 47-byte pre-master: the
        // same, no error.
        let mut garbage = ct.clone();
        garbage[100] ^= 0x80;
        let g = Premaster::new(&garbage, (3, 3), ems).derive(h, s).unwrap();
        assert_ne!(g, ms);
        let short = public.encrypt_pkcs1(&pms[..47]).unwrap();
        assert_ne!(
            Premaster::new(&short, (3, 3), ems).derive(h, s).unwrap(),
            ms
        );
    }
    // Public errors: ciphertext length, PRF, randoms, key.
    assert_eq!(
        Premaster::new(&ct[1..], (3, 3), false).derive(h, s),
        Err(CKR_ENCRYPTED_DATA_LEN_RANGE)
    );
    let mut bad = Premaster::new(&ct, (3, 3), false);
    bad.p.prfHashMechanism = CKM_MD5;
    assert_eq!(bad.derive(h, s), Err(CKR_MECHANISM_PARAM_INVALID));
    let mut bad = Premaster::new(&ct, (3, 3), false);
    bad.p.RandomInfo.ulClientRandomLen = 31;
    assert_eq!(bad.derive(h, s), Err(CKR_MECHANISM_PARAM_INVALID));
    let k = secret(h, CKK_GENERIC_SECRET, &[1; 48], false);
    assert_eq!(
        Premaster::new(&ct, (3, 3), false).derive(h, k),
        Err(CKR_KEY_TYPE_INCONSISTENT)
    );
    // A private key without CKA_DERIVE may not.
    let key = RsaPrivateKey::generate(2048).unwrap();
    let c = key.components().unwrap();
    let nd = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_PRIVATE_KEY)
            .ulong(CKA_KEY_TYPE, CKK_RSA)
            .bytes(CKA_MODULUS, &c.n)
            .bytes(CKA_PUBLIC_EXPONENT, &c.e)
            .bytes(CKA_PRIVATE_EXPONENT, &c.d)
            .bytes(CKA_PRIME_1, &c.p)
            .bytes(CKA_PRIME_2, &c.q)
            .bytes(CKA_EXPONENT_1, &c.dp)
            .bytes(CKA_EXPONENT_2, &c.dq)
            .bytes(CKA_COEFFICIENT, &c.qinv),
    )
    .unwrap();
    assert_eq!(
        Premaster::new(&ct, (3, 3), false).derive(h, nd),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
    // The master from a sensitive key is sensitive, and cannot be made
    // otherwise.
    let ct = public_of(h, gp).encrypt_pkcs1(&pms).unwrap();
    assert_eq!(
        Premaster::new(&ct, (3, 3), false).derive(h, sensitive),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    let mut pm = Premaster::new(&ct, (3, 3), false);
    let mut m = mech_with(CKM_HSMTLS_RSA_PREMASTER_TO_MASTER, &mut pm.p);
    let mut t = Tpl::new();
    let mut o = 0;
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, sensitive, t.ptr(), t.len(), &mut o) },
        CKR_OK
    );
    assert_eq!(attr(h, o, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
}
