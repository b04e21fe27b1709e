//! In-process C API tests of NSS's vendor TLS mechanisms
//! (`CKM_NSS_TLS_MASTER_KEY_DERIVE(_DH)_SHA256`,
//! `CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256`, `CKM_NSS_TLS_PRF_GENERAL_SHA256`)
//! against the PKCS#11 TLS 1.2 mechanisms with the SHA-256 PRF, and of
//! `CKM_TLS_PRE_MASTER_KEY_GEN`.
#![allow(unsafe_code)]

mod common;

use std::ptr;

use common::*;
use cryptoki_sys::*;
use hsmtls_token::abi::consts::*;
use hsmtls_token::abi::*;

fn open() -> Tpl {
    Tpl::new()
        .bool(CKA_SENSITIVE, false)
        .bool(CKA_EXTRACTABLE, true)
        .bool(CKA_DERIVE, true)
        .bool(CKA_SIGN, true)
}

fn derive<T>(
    h: CK_SESSION_HANDLE,
    m: CK_MECHANISM_TYPE,
    p: &mut T,
    base: CK_OBJECT_HANDLE,
    mut t: Tpl,
) -> Result<CK_OBJECT_HANDLE, CK_RV> {
    let mut mech = mech_with(m, p);
    let mut out = 0;
    match unsafe { C_DeriveKey(h, &mut mech, base, t.ptr(), t.len(), &mut out) } {
        CKR_OK => Ok(out),
        rv => Err(rv),
    }
}

fn randoms(cr: &mut [u8; 32], sr: &mut [u8; 32]) -> CK_SSL3_RANDOM_DATA {
    CK_SSL3_RANDOM_DATA {
        pClientRandom: cr.as_mut_ptr(),
        ulClientRandomLen: 32,
        pServerRandom: sr.as_mut_ptr(),
        ulServerRandomLen: 32,
    }
}

#[test]
fn pre_master_and_master_secrets_match_tls12() {
    let (slot, h) = fresh_token();
    // Every mechanism is listed.
    let mut n: CK_ULONG = 0;
    unsafe {
        assert_eq!(C_GetMechanismList(slot, ptr::null_mut(), &mut n), CKR_OK);
        let mut list = vec![0; n as usize];
        assert_eq!(C_GetMechanismList(slot, list.as_mut_ptr(), &mut n), CKR_OK);
        for m in [
            CKM_NSS_TLS_MASTER_KEY_DERIVE_SHA256,
            CKM_NSS_TLS_MASTER_KEY_DERIVE_DH_SHA256,
            CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256,
            CKM_NSS_TLS_PRF_GENERAL_SHA256,
            CKM_TLS_PRE_MASTER_KEY_GEN,
        ] {
            assert!(list.contains(&m), "{m:#x}");
        }
    }
    // CKM_TLS_PRE_MASTER_KEY_GEN: 48 bytes, the version first.
    let mut v = CK_VERSION { major: 3, minor: 3 };
    let mut m = mech_with(CKM_TLS_PRE_MASTER_KEY_GEN, &mut v);
    let mut t = open();
    let mut pms = 0;
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut m, t.ptr(), t.len(), &mut pms) },
        CKR_OK
    );
    let value = attr(h, pms, CKA_VALUE).unwrap();
    assert_eq!(value.len(), 48);
    assert_eq!(value[..2], [3, 3]);
    assert_eq!(
        attr(h, pms, CKA_KEY_TYPE).unwrap(),
        CKK_GENERIC_SECRET.to_ne_bytes()
    );
    let mut nop = mech(CKM_TLS_PRE_MASTER_KEY_GEN);
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut nop, t.ptr(), t.len(), &mut pms) },
        CKR_MECHANISM_PARAM_INVALID
    );

    let (mut cr, mut sr) = ([1u8; 32], [2u8; 32]);
    let mut version = CK_VERSION { major: 0, minor: 0 };
    let mut nss = CK_SSL3_MASTER_KEY_DERIVE_PARAMS {
        RandomInfo: randoms(&mut cr, &mut sr),
        pVersion: &mut version,
    };
    let a = derive(
        h,
        CKM_NSS_TLS_MASTER_KEY_DERIVE_SHA256,
        &mut nss,
        pms,
        open(),
    )
    .unwrap();
    assert_eq!((version.major, version.minor), (3, 3));
    let (mut cr2, mut sr2) = ([1u8; 32], [2u8; 32]);
    let mut std_params = CK_TLS12_MASTER_KEY_DERIVE_PARAMS {
        RandomInfo: randoms(&mut cr2, &mut sr2),
        pVersion: ptr::null_mut(),
        prfHashMechanism: CKM_SHA256,
    };
    let b = derive(h, CKM_TLS12_MASTER_KEY_DERIVE, &mut std_params, pms, open()).unwrap();
    let ms = attr(h, a, CKA_VALUE).unwrap();
    assert_eq!(ms.len(), 48);
    assert_eq!(ms, attr(h, b, CKA_VALUE).unwrap());
    // The master secret is for TLS mechanisms only, NSS's included.
    let allowed = attr(h, a, CKA_ALLOWED_MECHANISMS).unwrap();
    assert!(allowed
        .chunks(8)
        .any(|c| c == CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256.to_ne_bytes()));

    // The DH variants: any length, pVersion ignored.
    let dh = secret(h, CKK_GENERIC_SECRET, &[0x77; 32], true);
    let a = derive(
        h,
        CKM_NSS_TLS_MASTER_KEY_DERIVE_DH_SHA256,
        &mut nss,
        dh,
        open(),
    )
    .unwrap();
    let b = derive(
        h,
        CKM_TLS12_MASTER_KEY_DERIVE_DH,
        &mut std_params,
        dh,
        open(),
    )
    .unwrap();
    assert_eq!(
        attr(h, a, CKA_VALUE).unwrap(),
        attr(h, b, CKA_VALUE).unwrap()
    );
    // Wrong parameter size.
    let mut short = [0u8; 8];
    assert_eq!(
        derive(
            h,
            CKM_NSS_TLS_MASTER_KEY_DERIVE_SHA256,
            &mut short,
            pms,
            open()
        ),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
}

#[test]
fn key_and_mac_and_prf_general_match_tls12() {
    let (_, h) = fresh_token();
    let ms_value = [0x3cu8; 48];
    let ms = secret(h, CKK_GENERIC_SECRET, &ms_value, true);
    let (mut cr, mut sr) = ([5u8; 32], [6u8; 32]);
    let (mut civ, mut siv) = ([0u8; 16], [0u8; 16]);
    let mut out = CK_SSL3_KEY_MAT_OUT {
        hClientMacSecret: 0,
        hServerMacSecret: 0,
        hClientKey: 0,
        hServerKey: 0,
        pIVClient: civ.as_mut_ptr(),
        pIVServer: siv.as_mut_ptr(),
    };
    let mut nss = CK_SSL3_KEY_MAT_PARAMS {
        ulMacSizeInBits: 256,
        ulKeySizeInBits: 128,
        ulIVSizeInBits: 128,
        bIsExport: 0,
        RandomInfo: randoms(&mut cr, &mut sr),
        pReturnedKeyMaterial: &mut out,
    };
    let key_tpl = || {
        open()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_AES)
    };
    let mut m = mech_with(CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256, &mut nss);
    let mut t = key_tpl();
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, ms, t.ptr(), t.len(), ptr::null_mut()) },
        CKR_OK
    );
    let (mut cr2, mut sr2) = ([5u8; 32], [6u8; 32]);
    let (mut civ2, mut siv2) = ([0u8; 16], [0u8; 16]);
    let mut out2 = CK_SSL3_KEY_MAT_OUT {
        hClientMacSecret: 0,
        hServerMacSecret: 0,
        hClientKey: 0,
        hServerKey: 0,
        pIVClient: civ2.as_mut_ptr(),
        pIVServer: siv2.as_mut_ptr(),
    };
    let mut std_params = CK_TLS12_KEY_MAT_PARAMS {
        ulMacSizeInBits: 256,
        ulKeySizeInBits: 128,
        ulIVSizeInBits: 128,
        bIsExport: 0,
        RandomInfo: randoms(&mut cr2, &mut sr2),
        pReturnedKeyMaterial: &mut out2,
        prfHashMechanism: CKM_SHA256,
    };
    let mut m = mech_with(CKM_TLS12_KEY_AND_MAC_DERIVE, &mut std_params);
    let mut t = key_tpl();
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, ms, t.ptr(), t.len(), ptr::null_mut()) },
        CKR_OK
    );
    assert_eq!((civ, siv), (civ2, siv2));
    assert_ne!(civ, [0; 16]);
    for (x, y) in [
        (out.hClientMacSecret, out2.hClientMacSecret),
        (out.hServerMacSecret, out2.hServerMacSecret),
        (out.hClientKey, out2.hClientKey),
        (out.hServerKey, out2.hServerKey),
    ] {
        assert_ne!(x, 0);
        assert_eq!(
            attr(h, x, CKA_VALUE).unwrap(),
            attr(h, y, CKA_VALUE).unwrap()
        );
    }
    // The same cipher-suite-shape policy: no zero-length keys with IVs,
    // no export.
    for (mac, key, iv, export) in [(0, 0, 128, 0), (0, 8, 256, 0), (160, 128, 128, 1)] {
        nss.ulMacSizeInBits = mac;
        nss.ulKeySizeInBits = key;
        nss.ulIVSizeInBits = iv;
        nss.bIsExport = export;
        let mut m = mech_with(CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256, &mut nss);
        let mut t = key_tpl();
        assert_eq!(
            unsafe { C_DeriveKey(h, &mut m, ms, t.ptr(), t.len(), ptr::null_mut()) },
            CKR_MECHANISM_PARAM_INVALID,
            "{mac}/{key}/{iv}"
        );
    }
    nss.pReturnedKeyMaterial = ptr::null_mut();
    nss.bIsExport = 0;
    let mut m = mech_with(CKM_NSS_TLS_KEY_AND_MAC_DERIVE_SHA256, &mut nss);
    let mut t = key_tpl();
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, ms, t.ptr(), t.len(), ptr::null_mut()) },
        CKR_MECHANISM_PARAM_INVALID
    );

    // CKM_NSS_TLS_PRF_GENERAL_SHA256: the RFC 5246 SHA-256 PRF test vector
    // (label || seed fed as data; output as long as the buffer).
    let key = secret(
        h,
        CKK_GENERIC_SECRET,
        &hex("9bbe436ba940f017b17652849a71db35"),
        true,
    );
    let mut data = b"test label".to_vec();
    data.extend(hex("a0ba9f936cda311827a6f796ffd5198c"));
    let expect = hex(
        "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a\
         6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab\
         4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701\
         87347b66",
    );
    let mut m = mech(CKM_NSS_TLS_PRF_GENERAL_SHA256);
    unsafe {
        assert_eq!(C_SignInit(h, &mut m, key), CKR_OK);
        assert_eq!(C_SignUpdate(h, data.as_mut_ptr(), 10), CKR_OK);
        assert_eq!(C_SignUpdate(h, data[10..].as_mut_ptr(), 16), CKR_OK);
        let mut out = vec![0u8; 100];
        let mut n: CK_ULONG = 100;
        assert_eq!(C_SignFinal(h, out.as_mut_ptr(), &mut n), CKR_OK);
        assert_eq!(n, 100);
        assert_eq!(out, expect);
    }
    // Single-part with the default (Finished) length, and verification.
    let sig = sign(h, &mut m, key, &data).unwrap();
    assert_eq!(sig, expect[..12]);
    assert_eq!(verify(h, &mut m, key, &data, &expect[..40]), CKR_OK);
    assert_eq!(
        verify(
            h,
            &mut m,
            key,
            &data,
            &sig[..11].iter().chain(&[0]).copied().collect::<Vec<_>>()
        ),
        CKR_SIGNATURE_INVALID
    );
    // The labels of the master secret and the key block are refused: no
    // key stream bytes in the clear.
    let mut ke = b"key expansion".to_vec();
    ke.extend([6u8; 32]);
    ke.extend([5u8; 32]);
    assert_eq!(sign(h, &mut m, ms, &ke), Err(CKR_DATA_INVALID));
    assert_eq!(
        sign(h, &mut m, ms, b"master secret0123"),
        Err(CKR_DATA_INVALID)
    );
    // Nor through CKM_TLS12_KDF, whose output is readable: "key expansion"
    // with the randoms swapped would be the key block.
    let (mut r1, mut r2) = ([6u8; 32], [5u8; 32]);
    let mut label = *b"key expansion";
    let mut kp = CK_TLS_KDF_PARAMS {
        prfMechanism: CKM_SHA256,
        pLabel: label.as_mut_ptr(),
        ulLabelLength: label.len() as _,
        RandomInfo: randoms(&mut r1, &mut r2),
        pContextData: ptr::null_mut(),
        ulContextDataLength: 0,
    };
    assert_eq!(
        derive(
            h,
            CKM_TLS12_KDF,
            &mut kp,
            ms,
            open().ulong(CKA_VALUE_LEN, 64)
        ),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );
    let mut bad = mech(CKM_NSS_TLS_PRF_GENERAL_SHA256);
    let mut p = [0u8; 4];
    bad.pParameter = p.as_mut_ptr() as *mut _;
    bad.ulParameterLen = 4;
    assert_eq!(
        unsafe { C_SignInit(h, &mut bad, key) },
        CKR_MECHANISM_PARAM_INVALID
    );
}
