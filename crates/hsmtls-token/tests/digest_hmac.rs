//! `CKM_SHA_1` (FIPS 180-4 known answers) and the truncating HMAC
//! mechanisms `CKM_SHA256_HMAC_GENERAL` / `_384` / `_512` with
//! `CK_MAC_GENERAL_PARAMS` (RFC 4231 test cases 2 and 5), in process.
#![allow(unsafe_code)]

mod common;

use std::ptr;

use common::*;
use cryptoki_sys::*;
use hsmtls_token::abi::*;

fn listed(slot: CK_SLOT_ID, m: CK_MECHANISM_TYPE) -> CK_MECHANISM_INFO {
    let mut n: CK_ULONG = 0;
    unsafe {
        assert_eq!(C_GetMechanismList(slot, ptr::null_mut(), &mut n), CKR_OK);
        let mut list = vec![0; n as usize];
        assert_eq!(C_GetMechanismList(slot, list.as_mut_ptr(), &mut n), CKR_OK);
        assert!(list.contains(&m), "{m:#x} not listed");
        let mut mi: CK_MECHANISM_INFO = std::mem::zeroed();
        assert_eq!(C_GetMechanismInfo(slot, m, &mut mi), CKR_OK);
        mi
    }
}

#[test]
fn sha1_known_answers() {
    let (slot, h) = fresh_token();
    let mi = listed(slot, CKM_SHA_1);
    assert_eq!(mi.flags, CKF_DIGEST);
    unsafe {
        // FIPS 180-4 example "abc", single-part with the length query.
        let mut m = mech(CKM_SHA_1);
        assert_eq!(C_DigestInit(h, &mut m), CKR_OK);
        let mut n: CK_ULONG = 0;
        assert_eq!(
            C_Digest(h, b"abc".as_ptr() as *mut _, 3, ptr::null_mut(), &mut n),
            CKR_OK
        );
        assert_eq!(n, 20);
        let mut small = [0u8; 19];
        let mut n: CK_ULONG = 19;
        assert_eq!(
            C_Digest(h, b"abc".as_ptr() as *mut _, 3, small.as_mut_ptr(), &mut n),
            CKR_BUFFER_TOO_SMALL
        );
        let d = two_call(|o, n| C_Digest(h, b"abc".as_ptr() as *mut _, 3, o, n)).unwrap();
        assert_eq!(d, hex("a9993e364706816aba3e25717850c26c9cd0d89d"));

        // The two-block example, multi-part.
        assert_eq!(C_DigestInit(h, &mut m), CKR_OK);
        for part in [
            &b"abcdbcdecdefdefgefghfghighij"[..],
            &b"hijkijkljklmklmnlmnomnopnopq"[..],
        ] {
            assert_eq!(
                C_DigestUpdate(h, part.as_ptr() as *mut _, part.len() as _),
                CKR_OK
            );
        }
        let d = two_call(|o, n| C_DigestFinal(h, o, n)).unwrap();
        assert_eq!(d, hex("84983e441c3bd26ebaae4aa1f95129e5e54670f1"));

        // Empty input.
        assert_eq!(C_DigestInit(h, &mut m), CKR_OK);
        let d = two_call(|o, n| C_Digest(h, b"".as_ptr() as *mut _, 0, o, n)).unwrap();
        assert_eq!(d, hex("da39a3ee5e6b4b0d3255bfef95601890afd80709"));

        // No parameter is accepted.
        let mut p: CK_ULONG = 20;
        let mut bad = mech_with(CKM_SHA_1, &mut p);
        assert_eq!(C_DigestInit(h, &mut bad), CKR_MECHANISM_PARAM_INVALID);
    }
}

fn hmac_key(h: CK_SESSION_HANDLE, value: &[u8]) -> CK_OBJECT_HANDLE {
    create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
            .bytes(CKA_VALUE, value)
            .bool(CKA_SIGN, true)
            .bool(CKA_VERIFY, true),
    )
    .unwrap()
}

/// RFC 4231 §4.6 (test case 5): truncation to 128 bits.
const CASE5: [(CK_MECHANISM_TYPE, &str); 3] = [
    (CKM_SHA256_HMAC_GENERAL, "a3b6167473100ee06e0c796c2955552b"),
    (CKM_SHA384_HMAC_GENERAL, "3abf34c3503b2a23a46efc619baef897"),
    (CKM_SHA512_HMAC_GENERAL, "415fad6271580a531d4179bc891d87a6"),
];

#[test]
fn hmac_general_rfc4231_truncated() {
    let (slot, h) = fresh_token();
    let key = hmac_key(h, &[0x0c; 20]);
    let data = b"Test With Truncation";
    for (m, want) in CASE5 {
        let mi = listed(slot, m);
        assert_eq!(mi.flags, CKF_SIGN | CKF_VERIFY, "{m:#x}");
        assert_eq!(mi.ulMinKeySize, 1);

        let mut len: CK_MAC_GENERAL_PARAMS = 16;
        let mut mm = mech_with(m, &mut len);
        let tag = sign(h, &mut mm, key, data).unwrap();
        assert_eq!(tag, hex(want), "{m:#x}");
        assert_eq!(verify(h, &mut mm, key, data, &tag), CKR_OK);
        let mut flipped = tag.clone();
        flipped[15] ^= 1;
        assert_eq!(
            verify(h, &mut mm, key, data, &flipped),
            CKR_SIGNATURE_INVALID
        );
        assert_eq!(
            verify(h, &mut mm, key, data, &tag[..15]),
            CKR_SIGNATURE_LEN_RANGE
        );

        // Multi-part, and a one-byte MAC (the smallest length allowed).
        unsafe {
            assert_eq!(C_SignInit(h, &mut mm, key), CKR_OK);
            assert_eq!(C_SignUpdate(h, data.as_ptr() as *mut _, 4), CKR_OK);
            assert_eq!(
                C_SignUpdate(h, data[4..].as_ptr() as *mut _, (data.len() - 4) as _),
                CKR_OK
            );
            let t = two_call(|o, n| C_SignFinal(h, o, n)).unwrap();
            assert_eq!(t, tag);
        }
        let mut one: CK_MAC_GENERAL_PARAMS = 1;
        let mut m1 = mech_with(m, &mut one);
        assert_eq!(sign(h, &mut m1, key, data).unwrap(), tag[..1]);

        // Lengths outside 1..=hash length and a missing parameter.
        let full = match m {
            CKM_SHA256_HMAC_GENERAL => 32,
            CKM_SHA384_HMAC_GENERAL => 48,
            _ => 64,
        };
        for bad in [0, full + 1, CK_ULONG::MAX] {
            let mut l: CK_MAC_GENERAL_PARAMS = bad;
            let mut mb = mech_with(m, &mut l);
            assert_eq!(
                unsafe { C_SignInit(h, &mut mb, key) },
                CKR_MECHANISM_PARAM_INVALID,
                "{m:#x} length {bad}"
            );
            assert_eq!(
                unsafe { C_VerifyInit(h, &mut mb, key) },
                CKR_MECHANISM_PARAM_INVALID
            );
        }
        let mut none = mech(m);
        assert_eq!(
            unsafe { C_SignInit(h, &mut none, key) },
            CKR_MECHANISM_PARAM_INVALID
        );
        let mut full_len: CK_MAC_GENERAL_PARAMS = full;
        let mut mf = mech_with(m, &mut full_len);
        assert_eq!(sign(h, &mut mf, key, data).unwrap().len(), full as usize);
    }
}

#[test]
fn hmac_general_full_length_matches_hmac() {
    // RFC 4231 §4.3 (test case 2): the full-length _GENERAL MAC is the HMAC.
    let (_, h) = fresh_token();
    let key = hmac_key(h, b"Jefe");
    let data = b"what do ya want for nothing?";
    let mut len: CK_MAC_GENERAL_PARAMS = 32;
    let mut g = mech_with(CKM_SHA256_HMAC_GENERAL, &mut len);
    let tag = sign(h, &mut g, key, data).unwrap();
    assert_eq!(
        tag,
        hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
    let mut plain = mech(CKM_SHA256_HMAC);
    assert_eq!(sign(h, &mut plain, key, data).unwrap(), tag);
    // The plain HMAC mechanisms still take no parameter.
    let mut bad = mech_with(CKM_SHA256_HMAC, &mut len);
    assert_eq!(
        unsafe { C_SignInit(h, &mut bad, key) },
        CKR_MECHANISM_PARAM_INVALID
    );
    // A MAC key that may only sign cannot verify.
    let sign_only = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
            .bytes(CKA_VALUE, b"Jefe")
            .bool(CKA_SIGN, true)
            .bool(CKA_VERIFY, false),
    )
    .unwrap();
    assert_eq!(
        unsafe { C_VerifyInit(h, &mut g, sign_only) },
        CKR_KEY_FUNCTION_NOT_PERMITTED
    );
}
