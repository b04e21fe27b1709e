//! In-process C API tests of `CKM_CHACHA20_KEY_GEN` and
//! `CKM_CHACHA20_POLY1305` (PKCS#11 3.0 §2.28–§2.29): the RFC 8439 §2.8.2
//! vector, tampering, parameters and key types.
#![allow(unsafe_code)]

mod common;

use std::ptr;

use common::*;
use cryptoki_sys::*;
use hsmtls_token::abi::*;

struct Params {
    nonce: Vec<u8>,
    aad: Vec<u8>,
    p: CK_SALSA20_CHACHA20_POLY1305_PARAMS,
}

impl Params {
    fn new(nonce: &[u8], aad: &[u8]) -> Box<Self> {
        let mut s = Box::new(Self {
            nonce: nonce.to_vec(),
            aad: aad.to_vec(),
            p: CK_SALSA20_CHACHA20_POLY1305_PARAMS {
                pNonce: ptr::null_mut(),
                ulNonceLen: nonce.len() as _,
                pAAD: ptr::null_mut(),
                ulAADLen: aad.len() as _,
            },
        });
        s.p.pNonce = s.nonce.as_mut_ptr();
        if !s.aad.is_empty() {
            s.p.pAAD = s.aad.as_mut_ptr();
        }
        s
    }
}

fn crypt(
    h: CK_SESSION_HANDLE,
    p: &mut Params,
    key: CK_OBJECT_HANDLE,
    encrypt: bool,
    data: &[u8],
) -> Result<Vec<u8>, CK_RV> {
    let mut m = mech_with(CKM_CHACHA20_POLY1305, &mut p.p);
    let rv = unsafe {
        if encrypt {
            C_EncryptInit(h, &mut m, key)
        } else {
            C_DecryptInit(h, &mut m, key)
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
fn chacha20_poly1305_rfc8439() {
    let (slot, h) = fresh_token();
    let mut info: CK_MECHANISM_INFO = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { C_GetMechanismInfo(slot, CKM_CHACHA20_POLY1305, &mut info) },
        CKR_OK
    );
    assert_eq!(info.ulMinKeySize, 32);
    assert_ne!(info.flags & CKF_ENCRYPT, 0);
    // RFC 8439 §2.8.2.
    let key = secret(
        h,
        CKK_CHACHA20,
        &hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"),
        false,
    );
    let pt = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let mut p = Params::new(
        &hex("070000004041424344454647"),
        &hex("50515253c0c1c2c3c4c5c6c7"),
    );
    let ct = crypt(h, &mut p, key, true, pt).unwrap();
    let mut expect = hex(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6\
         3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36\
         92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc\
         3ff4def08e4b7a9de576d26586cec64b6116",
    );
    expect.extend(hex("1ae10b594f09e26a7e902ecbd0600691"));
    assert_eq!(ct, expect);
    assert_eq!(crypt(h, &mut p, key, false, &ct).unwrap(), pt);
    // Tampered tag, tampered AAD.
    let mut bad = ct.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(
        crypt(h, &mut p, key, false, &bad),
        Err(CKR_AEAD_DECRYPT_FAILED)
    );
    let mut other = Params::new(&hex("070000004041424344454647"), b"other");
    assert_eq!(
        crypt(h, &mut other, key, false, &ct),
        Err(CKR_AEAD_DECRYPT_FAILED)
    );
    // 64-bit nonces are not offered; an AES key is the wrong type.
    let mut short = Params::new(&[0; 8], b"");
    assert_eq!(
        crypt(h, &mut short, key, true, pt),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    let aes = secret(h, CKK_AES, &[1; 32], false);
    assert_eq!(
        crypt(h, &mut p, aes, true, pt),
        Err(CKR_KEY_TYPE_INCONSISTENT)
    );
    let mut nop = mech(CKM_CHACHA20_POLY1305);
    assert_eq!(
        unsafe { C_EncryptInit(h, &mut nop, key) },
        CKR_MECHANISM_PARAM_INVALID
    );
    // A ChaCha20 key has 32 bytes.
    assert_eq!(
        create(
            h,
            Tpl::new()
                .ulong(CKA_CLASS, CKO_SECRET_KEY)
                .ulong(CKA_KEY_TYPE, CKK_CHACHA20)
                .bytes(CKA_VALUE, &[0; 16])
        ),
        Err(CKR_ATTRIBUTE_VALUE_INVALID)
    );
}

#[test]
fn chacha20_key_gen() {
    let (_, h) = fresh_token();
    let mut m = mech(CKM_CHACHA20_KEY_GEN);
    let mut t = Tpl::new().bool(CKA_EXTRACTABLE, false);
    let mut k = 0;
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut m, t.ptr(), t.len(), &mut k) },
        CKR_OK
    );
    assert_eq!(
        attr(h, k, CKA_KEY_TYPE).unwrap(),
        CKK_CHACHA20.to_ne_bytes()
    );
    assert_eq!(attr(h, k, CKA_VALUE_LEN).unwrap(), 32u64.to_ne_bytes());
    assert_eq!(attr(h, k, CKA_LOCAL).unwrap(), [1]);
    let mut p = Params::new(&[9; 12], b"aad");
    let ct = crypt(h, &mut p, k, true, b"hello").unwrap();
    assert_eq!(ct.len(), 5 + 16);
    assert_eq!(crypt(h, &mut p, k, false, &ct).unwrap(), b"hello");
    let mut t = Tpl::new().ulong(CKA_VALUE_LEN, 16);
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut m, t.ptr(), t.len(), &mut k) },
        CKR_ATTRIBUTE_VALUE_INVALID
    );
}
