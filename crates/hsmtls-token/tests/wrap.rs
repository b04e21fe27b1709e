//! In-process C API tests of key wrapping (`CKM_AES_KEY_WRAP`,
//! `CKM_AES_KEY_WRAP_PAD`, `C_WrapKey`, `C_UnwrapKey`): RFC 3394 vectors,
//! the attribute rules of wrapping and unwrapping, and that a wrapping
//! key cannot decrypt.
#![allow(unsafe_code)]

mod common;

use std::ptr;

use common::*;
use cryptoki_sys::*;
use hsmtls_token::abi::*;

fn kek(h: CK_SESSION_HANDLE, value: &[u8]) -> CK_OBJECT_HANDLE {
    create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_AES)
            .bytes(CKA_VALUE, value)
            .bool(CKA_WRAP, true)
            .bool(CKA_UNWRAP, true),
    )
    .unwrap()
}

fn wrap(
    h: CK_SESSION_HANDLE,
    m: CK_MECHANISM_TYPE,
    wk: CK_OBJECT_HANDLE,
    key: CK_OBJECT_HANDLE,
) -> Result<Vec<u8>, CK_RV> {
    let mech = std::cell::RefCell::new(mech(m));
    two_call(|o, n| unsafe { C_WrapKey(h, &mut *mech.borrow_mut(), wk, key, o, n) })
}

fn unwrap(
    h: CK_SESSION_HANDLE,
    m: CK_MECHANISM_TYPE,
    uk: CK_OBJECT_HANDLE,
    wrapped: &[u8],
    mut t: Tpl,
) -> Result<CK_OBJECT_HANDLE, CK_RV> {
    let mut mech = mech(m);
    let mut out = 0;
    match unsafe {
        C_UnwrapKey(
            h,
            &mut mech,
            uk,
            wrapped.as_ptr() as *mut _,
            wrapped.len() as _,
            t.ptr(),
            t.len(),
            &mut out,
        )
    } {
        CKR_OK => Ok(out),
        rv => Err(rv),
    }
}

fn aes_tpl() -> Tpl {
    Tpl::new()
        .ulong(CKA_CLASS, CKO_SECRET_KEY)
        .ulong(CKA_KEY_TYPE, CKK_AES)
}

#[test]
fn aes_key_wrap_rfc3394_and_round_trips() {
    let (slot, h) = fresh_token();
    let mut info: CK_MECHANISM_INFO = unsafe { std::mem::zeroed() };
    for m in [CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD] {
        assert_eq!(unsafe { C_GetMechanismInfo(slot, m, &mut info) }, CKR_OK);
        assert_eq!(info.flags & (CKF_WRAP | CKF_UNWRAP), CKF_WRAP | CKF_UNWRAP);
        assert_eq!(info.flags & (CKF_ENCRYPT | CKF_DECRYPT), 0);
    }
    // RFC 3394 §4.1: 128-bit KEK, 128-bit key data.
    let wk = kek(h, &hex("000102030405060708090A0B0C0D0E0F"));
    let data = hex("00112233445566778899AABBCCDDEEFF");
    let key = secret(h, CKK_AES, &data, true);
    let wrapped = wrap(h, CKM_AES_KEY_WRAP, wk, key).unwrap();
    assert_eq!(
        wrapped,
        hex("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")
    );
    // Short buffer: CKR_BUFFER_TOO_SMALL with the needed length.
    let mut m = mech(CKM_AES_KEY_WRAP);
    let mut buf = [0u8; 8];
    let mut n: CK_ULONG = 8;
    assert_eq!(
        unsafe { C_WrapKey(h, &mut m, wk, key, buf.as_mut_ptr(), &mut n) },
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(n, 24);
    // RFC 3394 §4.3 and §4.6: 256-bit KEK, 128- and 256-bit key data.
    let wk256 = kek(
        h,
        &hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"),
    );
    assert_eq!(
        wrap(h, CKM_AES_KEY_WRAP, wk256, key).unwrap(),
        hex("64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7")
    );
    let data256 = hex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
    let key256 = secret(h, CKK_AES, &data256, true);
    assert_eq!(
        wrap(h, CKM_AES_KEY_WRAP, wk256, key256).unwrap(),
        hex("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21")
    );

    // Unwrap: the template's attributes, CKA_LOCAL / ALWAYS_SENSITIVE /
    // NEVER_EXTRACTABLE false, the value back.
    let back = unwrap(
        h,
        CKM_AES_KEY_WRAP,
        wk,
        &wrapped,
        aes_tpl()
            .bool(CKA_SENSITIVE, false)
            .bool(CKA_EXTRACTABLE, true)
            .bytes(CKA_LABEL, b"unwrapped")
            .ulong(CKA_VALUE_LEN, 16),
    )
    .unwrap();
    assert_eq!(attr(h, back, CKA_VALUE).unwrap(), data);
    assert_eq!(attr(h, back, CKA_LABEL).unwrap(), b"unwrapped");
    for a in [CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE] {
        assert_eq!(attr(h, back, a).unwrap(), [0], "{a:#x}");
    }
    // A sensitive unwrapped key stays hidden; still not "always sensitive".
    let hidden = unwrap(h, CKM_AES_KEY_WRAP, wk, &wrapped, aes_tpl()).unwrap();
    assert_eq!(attr(h, hidden, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
    assert_eq!(attr(h, hidden, CKA_ALWAYS_SENSITIVE).unwrap(), [0]);

    // KWP (RFC 5649) with a length that is not a multiple of 8.
    let odd = secret(h, CKK_GENERIC_SECRET, &[0x42; 20], true);
    let w = wrap(h, CKM_AES_KEY_WRAP_PAD, wk256, odd).unwrap();
    assert_eq!(w.len(), 32);
    let o = unwrap(
        h,
        CKM_AES_KEY_WRAP_PAD,
        wk256,
        &w,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
            .bool(CKA_SENSITIVE, false)
            .bool(CKA_EXTRACTABLE, true),
    )
    .unwrap();
    assert_eq!(attr(h, o, CKA_VALUE).unwrap(), [0x42; 20]);
    // KW refuses a key that is not whole 64-bit blocks.
    assert_eq!(wrap(h, CKM_AES_KEY_WRAP, wk, odd), Err(CKR_KEY_SIZE_RANGE));
}

#[test]
fn wrap_and_unwrap_rules() {
    let (_, h) = fresh_token();
    let wk = kek(h, &[7; 16]);
    let key = secret(h, CKK_AES, &[9; 32], true);
    // A key made for wrapping does not decrypt (nor encrypt) by default,
    // and cannot be made to.
    assert_eq!(attr(h, wk, CKA_DECRYPT).unwrap(), [0]);
    assert_eq!(attr(h, wk, CKA_ENCRYPT).unwrap(), [0]);
    let mut iv = [0u8; 16];
    for mut m in [
        mech(CKM_AES_ECB),
        mech_with(CKM_AES_CBC, &mut iv),
        mech(CKM_AES_KEY_WRAP),
    ] {
        if m.mechanism == CKM_AES_CBC {
            m.ulParameterLen = 16;
        }
        let rv = unsafe { C_DecryptInit(h, &mut m, wk) };
        assert!(
            matches!(rv, CKR_KEY_FUNCTION_NOT_PERMITTED | CKR_MECHANISM_INVALID),
            "{rv:#x}"
        );
    }
    let mut ecb = mech(CKM_AES_ECB);
    assert_eq!(
        unsafe { C_DecryptInit(h, &mut ecb, wk) },
        CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    let mut t = Tpl::new().bool(CKA_DECRYPT, true);
    assert_eq!(
        unsafe { C_SetAttributeValue(h, wk, t.ptr(), t.len()) },
        CKR_TEMPLATE_INCONSISTENT
    );
    assert_eq!(
        create(
            h,
            aes_tpl()
                .bytes(CKA_VALUE, &[1; 16])
                .bool(CKA_UNWRAP, true)
                .bool(CKA_DECRYPT, true)
        ),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    // A decryption key cannot be turned into a wrapping key.
    let dk = secret(h, CKK_AES, &[3; 16], false);
    let mut t = Tpl::new().bool(CKA_WRAP, true);
    assert_eq!(
        unsafe { C_SetAttributeValue(h, dk, t.ptr(), t.len()) },
        CKR_TEMPLATE_INCONSISTENT
    );
    // Usage flags, handles, extractability, CKA_WRAP_WITH_TRUSTED.
    assert_eq!(
        wrap(h, CKM_AES_KEY_WRAP, dk, key),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
    assert_eq!(
        wrap(h, CKM_AES_KEY_WRAP, 0xdead, key),
        Err(CKR_WRAPPING_KEY_HANDLE_INVALID)
    );
    assert_eq!(
        wrap(h, CKM_AES_KEY_WRAP, wk, 0xdead),
        Err(CKR_KEY_HANDLE_INVALID)
    );
    let locked = secret(h, CKK_AES, &[4; 16], false);
    assert_eq!(
        wrap(h, CKM_AES_KEY_WRAP, wk, locked),
        Err(CKR_KEY_UNEXTRACTABLE)
    );
    let trusted_only = create(
        h,
        aes_tpl()
            .bytes(CKA_VALUE, &[5; 16])
            .bool(CKA_SENSITIVE, true)
            .bool(CKA_EXTRACTABLE, true)
            .bool(CKA_WRAP_WITH_TRUSTED, true),
    )
    .unwrap();
    assert_eq!(
        wrap(h, CKM_AES_KEY_WRAP, wk, trusted_only),
        Err(CKR_KEY_NOT_WRAPPABLE)
    );
    let generic_kek = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
            .bytes(CKA_VALUE, &[1; 16])
            .bool(CKA_WRAP, true),
    )
    .unwrap();
    assert_eq!(
        wrap(h, CKM_AES_KEY_WRAP, generic_kek, key),
        Err(CKR_WRAPPING_KEY_TYPE_INCONSISTENT)
    );
    // A wrong IV parameter.
    let mut bad_iv = [0u8; 8];
    let mut m = mech_with(CKM_AES_KEY_WRAP, &mut bad_iv);
    let mut n: CK_ULONG = 0;
    assert_eq!(
        unsafe { C_WrapKey(h, &mut m, wk, key, ptr::null_mut(), &mut n) },
        CKR_MECHANISM_PARAM_INVALID
    );
    let mut good_iv = [0xa6u8; 8];
    let mut m = mech_with(CKM_AES_KEY_WRAP, &mut good_iv);
    assert_eq!(
        unsafe { C_WrapKey(h, &mut m, wk, key, ptr::null_mut(), &mut n) },
        CKR_OK
    );
    assert_eq!(n, 40);

    let wrapped = wrap(h, CKM_AES_KEY_WRAP, wk, key).unwrap();
    // Unwrap errors: tampering, lengths, template, unwrapping key.
    let mut bad = wrapped.clone();
    bad[3] ^= 1;
    assert_eq!(
        unwrap(h, CKM_AES_KEY_WRAP, wk, &bad, aes_tpl()),
        Err(CKR_WRAPPED_KEY_INVALID)
    );
    assert_eq!(
        unwrap(h, CKM_AES_KEY_WRAP, wk, &wrapped[..20], aes_tpl()),
        Err(CKR_WRAPPED_KEY_LEN_RANGE)
    );
    assert_eq!(
        unwrap(
            h,
            CKM_AES_KEY_WRAP,
            wk,
            &wrapped,
            aes_tpl().ulong(CKA_VALUE_LEN, 16)
        ),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    assert_eq!(
        unwrap(
            h,
            CKM_AES_KEY_WRAP,
            wk,
            &wrapped,
            aes_tpl().bytes(CKA_VALUE, &[0; 32])
        ),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    assert_eq!(
        unwrap(
            h,
            CKM_AES_KEY_WRAP,
            wk,
            &wrapped,
            Tpl::new().ulong(CKA_CLASS, CKO_SECRET_KEY)
        ),
        Err(CKR_TEMPLATE_INCOMPLETE)
    );
    assert_eq!(
        unwrap(h, CKM_AES_KEY_WRAP, 0xdead, &wrapped, aes_tpl()),
        Err(CKR_UNWRAPPING_KEY_HANDLE_INVALID)
    );
    let wrap_only = create(h, aes_tpl().bytes(CKA_VALUE, &[7; 16]).bool(CKA_WRAP, true)).unwrap();
    assert_eq!(
        unwrap(h, CKM_AES_KEY_WRAP, wrap_only, &wrapped, aes_tpl()),
        Err(CKR_KEY_FUNCTION_NOT_PERMITTED)
    );
    // Not a wrapping mechanism.
    assert_eq!(wrap(h, CKM_AES_ECB, wk, key), Err(CKR_MECHANISM_INVALID));
    let k = unwrap(h, CKM_AES_KEY_WRAP, wk, &wrapped, aes_tpl()).unwrap();
    assert_eq!(attr(h, k, CKA_VALUE_LEN).unwrap(), 32u64.to_ne_bytes());
    // NULL output handle.
    let mut m = mech(CKM_AES_KEY_WRAP);
    let mut t = aes_tpl();
    assert_eq!(
        unsafe {
            C_UnwrapKey(
                h,
                &mut m,
                wk,
                wrapped.as_ptr() as *mut _,
                wrapped.len() as _,
                t.ptr(),
                t.len(),
                ptr::null_mut(),
            )
        },
        CKR_ARGUMENTS_BAD
    );
}

fn key_pair(
    h: CK_SESSION_HANDLE,
    gen: CK_MECHANISM_TYPE,
    public: Tpl,
    extractable: bool,
) -> (CK_OBJECT_HANDLE, CK_OBJECT_HANDLE) {
    generate_pair(
        h,
        gen,
        public.bool(CKA_VERIFY, true),
        Tpl::new()
            .bool(CKA_SIGN, true)
            .bool(CKA_SENSITIVE, true)
            .bool(CKA_EXTRACTABLE, extractable),
    )
    .unwrap_or_else(|rv| panic!("{gen:#x}: {rv:#x}"))
}

/// Private keys leave the token only wrapped, as PKCS#8, and come back as
/// working keys: EC on NIST and brainpool curves, Ed25519, RSA.
#[test]
fn private_keys_wrap_as_pkcs8_and_unwrap_into_working_keys() {
    let (_, h) = fresh_token();
    let wk = kek(h, &[0x42; 32]);
    let cases: [(CK_MECHANISM_TYPE, Tpl, CK_KEY_TYPE, CK_MECHANISM_TYPE); 4] = [
        (
            CKM_EC_KEY_PAIR_GEN,
            Tpl::new().bytes(CKA_EC_PARAMS, &hex("06082a8648ce3d030107")),
            CKK_EC,
            CKM_ECDSA_SHA256,
        ),
        (
            CKM_EC_KEY_PAIR_GEN,
            Tpl::new().bytes(CKA_EC_PARAMS, &hex("06092b240303020801010b")),
            CKK_EC,
            CKM_ECDSA_SHA384,
        ),
        (
            CKM_EC_EDWARDS_KEY_PAIR_GEN,
            Tpl::new().bytes(CKA_EC_PARAMS, &hex("06032b6570")),
            CKK_EC_EDWARDS,
            CKM_EDDSA,
        ),
        (
            CKM_RSA_PKCS_KEY_PAIR_GEN,
            Tpl::new()
                .ulong(CKA_MODULUS_BITS, 2048)
                .bytes(CKA_PUBLIC_EXPONENT, &[1, 0, 1]),
            CKK_RSA,
            CKM_SHA256_RSA_PKCS,
        ),
    ];
    for (gen, public, kt, sig) in cases {
        let (pubk, privk) = key_pair(h, gen, public, true);
        let wrapped = wrap(h, CKM_AES_KEY_WRAP_PAD, wk, privk).unwrap();
        // RFC 5649 output: a multiple of 8, longer than the key.
        assert_eq!(wrapped.len() % 8, 0);
        let back = unwrap(
            h,
            CKM_AES_KEY_WRAP_PAD,
            wk,
            &wrapped,
            Tpl::new()
                .ulong(CKA_CLASS, CKO_PRIVATE_KEY)
                .ulong(CKA_KEY_TYPE, kt)
                .bool(CKA_SIGN, true),
        )
        .unwrap();
        // Unwrapped keys are not "local" and were not always sensitive.
        assert_eq!(attr(h, back, CKA_LOCAL).unwrap(), [0]);
        assert_eq!(attr(h, back, CKA_ALWAYS_SENSITIVE).unwrap(), [0]);
        assert_eq!(attr(h, back, CKA_SENSITIVE).unwrap(), [1]);
        assert_eq!(
            attr(h, back, CKA_VALUE).err(),
            if kt == CKK_RSA {
                Some(CKR_ATTRIBUTE_TYPE_INVALID)
            } else {
                Some(CKR_ATTRIBUTE_SENSITIVE)
            }
        );
        // The unwrapped key signs for the original public key.
        let msg = b"wrapped and back";
        let s = sign(h, &mut mech(sig), back, msg).unwrap();
        assert_eq!(verify(h, &mut mech(sig), pubk, msg, &s), CKR_OK, "{kt:#x}");
        // The key type in the template must match the wrapped key.
        let other = if kt == CKK_RSA { CKK_EC } else { CKK_RSA };
        assert_eq!(
            unwrap(
                h,
                CKM_AES_KEY_WRAP_PAD,
                wk,
                &wrapped,
                Tpl::new()
                    .ulong(CKA_CLASS, CKO_PRIVATE_KEY)
                    .ulong(CKA_KEY_TYPE, other)
            ),
            Err(CKR_TEMPLATE_INCONSISTENT)
        );
    }
    // A private key made unextractable stays in.
    let (_, locked) = key_pair(
        h,
        CKM_EC_KEY_PAIR_GEN,
        Tpl::new().bytes(CKA_EC_PARAMS, &hex("06082a8648ce3d030107")),
        false,
    );
    assert_eq!(
        wrap(h, CKM_AES_KEY_WRAP_PAD, wk, locked),
        Err(CKR_KEY_UNEXTRACTABLE)
    );
    // Wrapped bytes that are no PKCS#8 private key.
    let junk = secret(h, CKK_GENERIC_SECRET, &[0x30; 40], true);
    let wrapped = wrap(h, CKM_AES_KEY_WRAP_PAD, wk, junk).unwrap();
    assert_eq!(
        unwrap(
            h,
            CKM_AES_KEY_WRAP_PAD,
            wk,
            &wrapped,
            Tpl::new().ulong(CKA_CLASS, CKO_PRIVATE_KEY)
        ),
        Err(CKR_WRAPPED_KEY_INVALID)
    );
}

/// The PKCS#8 the token wraps is the standard one: unwrapped as a readable
/// secret, OpenSSL parses it as the same EC key.
#[test]
fn wrapped_pkcs8_is_read_by_openssl() {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no openssl");
        return;
    }
    let (_, h) = fresh_token();
    let wk = kek(h, &[0x17; 16]);
    let (pubk, privk) = key_pair(
        h,
        CKM_EC_KEY_PAIR_GEN,
        Tpl::new().bytes(CKA_EC_PARAMS, &hex("06092b2403030208010107")),
        true,
    );
    let wrapped = wrap(h, CKM_AES_KEY_WRAP_PAD, wk, privk).unwrap();
    let readable = unwrap(
        h,
        CKM_AES_KEY_WRAP_PAD,
        wk,
        &wrapped,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_SECRET_KEY)
            .ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
            .bool(CKA_SENSITIVE, false)
            .bool(CKA_EXTRACTABLE, true),
    )
    .unwrap();
    let der = attr(h, readable, CKA_VALUE).unwrap();
    let dir = temp_dir("pkcs8");
    let path = dir.join("key.der");
    std::fs::write(&path, &der).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["pkey", "-inform", "DER", "-in"])
        .arg(&path)
        .args(["-pubout", "-outform", "DER"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The SubjectPublicKeyInfo ends with the uncompressed point, which is
    // the public key object's CKA_EC_POINT (a DER OCTET STRING of it).
    let point = attr(h, pubk, CKA_EC_POINT).unwrap();
    assert!(out.stdout.ends_with(&point[point.len() - 65..]));
}

/// An attribute whose value is the inner template `inner` (an array
/// attribute); `inner` must outlive its use.
fn array_attr(t: CK_ATTRIBUTE_TYPE, inner: &mut Tpl) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE {
        type_: t,
        pValue: inner.ptr() as *mut _,
        ulValueLen: (inner.attrs.len() * std::mem::size_of::<CK_ATTRIBUTE>()) as _,
    }
}

fn create_with(
    h: CK_SESSION_HANDLE,
    mut t: Tpl,
    extra: CK_ATTRIBUTE,
) -> Result<CK_OBJECT_HANDLE, CK_RV> {
    t.attrs.push(extra);
    create(h, t)
}

/// CKA_WRAP_TEMPLATE and CKA_UNWRAP_TEMPLATE (PKCS#11 3.0 §4.9): a
/// wrapping key wraps only keys matching its template, an unwrapping key
/// imposes its template on what it unwraps, and the arrays read back
/// element by element with the length-query convention.
#[test]
fn wrap_and_unwrap_templates() {
    let (_, h) = fresh_token();
    // Wraps only AES keys that are extractable; unwraps only into
    // sensitive, non-extractable keys.
    let mut wrap_only = Tpl::new()
        .ulong(CKA_KEY_TYPE, CKK_AES)
        .bool(CKA_EXTRACTABLE, true);
    let mut unwrap_as = Tpl::new()
        .bool(CKA_SENSITIVE, true)
        .bool(CKA_EXTRACTABLE, false);
    let mut t = Tpl::new()
        .ulong(CKA_CLASS, CKO_SECRET_KEY)
        .ulong(CKA_KEY_TYPE, CKK_AES)
        .bytes(CKA_VALUE, &[0x33; 16])
        .bool(CKA_WRAP, true)
        .bool(CKA_UNWRAP, true);
    t.attrs.push(array_attr(CKA_WRAP_TEMPLATE, &mut wrap_only));
    t.attrs
        .push(array_attr(CKA_UNWRAP_TEMPLATE, &mut unwrap_as));
    let wk = create(h, t).unwrap();

    // Read back: the array's length, then each element's length, then
    // the values.
    let mut a = CK_ATTRIBUTE {
        type_: CKA_WRAP_TEMPLATE,
        pValue: ptr::null_mut(),
        ulValueLen: 0,
    };
    assert_eq!(unsafe { C_GetAttributeValue(h, wk, &mut a, 1) }, CKR_OK);
    assert_eq!(
        a.ulValueLen as usize,
        2 * std::mem::size_of::<CK_ATTRIBUTE>()
    );
    let mut elems = [CK_ATTRIBUTE {
        type_: 0,
        pValue: ptr::null_mut(),
        ulValueLen: 0,
    }; 2];
    a.pValue = elems.as_mut_ptr() as *mut _;
    assert_eq!(unsafe { C_GetAttributeValue(h, wk, &mut a, 1) }, CKR_OK);
    let mut got: Vec<(CK_ATTRIBUTE_TYPE, CK_ULONG)> =
        elems.iter().map(|e| (e.type_, e.ulValueLen)).collect();
    got.sort();
    assert_eq!(got, vec![(CKA_KEY_TYPE, 8), (CKA_EXTRACTABLE, 1)]);
    let mut bufs = [[0u8; 8]; 2];
    for (e, b) in elems.iter_mut().zip(bufs.iter_mut()) {
        e.pValue = b.as_mut_ptr() as *mut _;
    }
    assert_eq!(unsafe { C_GetAttributeValue(h, wk, &mut a, 1) }, CKR_OK);
    for e in &elems {
        let v = unsafe { std::slice::from_raw_parts(e.pValue as *const u8, e.ulValueLen as usize) };
        match e.type_ {
            CKA_KEY_TYPE => assert_eq!(v, &CKK_AES.to_ne_bytes()[..]),
            CKA_EXTRACTABLE => assert_eq!(v, &[1]),
            other => panic!("{other:#x}"),
        }
    }
    // A short outer buffer.
    a.ulValueLen = std::mem::size_of::<CK_ATTRIBUTE>() as _;
    assert_eq!(
        unsafe { C_GetAttributeValue(h, wk, &mut a, 1) },
        CKR_BUFFER_TOO_SMALL
    );
    // Other keys carry empty arrays; the arrays are fixed at creation.
    let plain = kek(h, &[0x44; 16]);
    assert_eq!(attr(h, plain, CKA_WRAP_TEMPLATE).unwrap(), Vec::<u8>::new());
    let mut set = Tpl::new();
    let mut inner = Tpl::new().bool(CKA_SENSITIVE, true);
    set.attrs.push(array_attr(CKA_UNWRAP_TEMPLATE, &mut inner));
    assert_eq!(
        unsafe { C_SetAttributeValue(h, plain, set.ptr(), set.len()) },
        CKR_ATTRIBUTE_READ_ONLY
    );

    // The wrap template decides what may be wrapped.
    let aes = secret(h, CKK_AES, &[5; 16], true);
    let generic = secret(h, CKK_GENERIC_SECRET, &[6; 32], true);
    let wrapped = wrap(h, CKM_AES_KEY_WRAP, wk, aes).unwrap();
    assert_eq!(
        wrap(h, CKM_AES_KEY_WRAP, wk, generic),
        Err(CKR_KEY_NOT_WRAPPABLE)
    );
    // The unwrap template is imposed, and may not be contradicted.
    let back = unwrap(
        h,
        CKM_AES_KEY_WRAP,
        wk,
        &wrapped,
        aes_tpl().bool(CKA_ENCRYPT, true),
    )
    .unwrap();
    assert_eq!(attr(h, back, CKA_SENSITIVE).unwrap(), [1]);
    assert_eq!(attr(h, back, CKA_EXTRACTABLE).unwrap(), [0]);
    assert_eq!(
        unwrap(
            h,
            CKM_AES_KEY_WRAP,
            wk,
            &wrapped,
            aes_tpl().bool(CKA_EXTRACTABLE, true)
        ),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );

    // Malformed arrays: a length that is no whole number of attributes,
    // and an array inside an array.
    let mut one = Tpl::new().bool(CKA_TOKEN, false);
    let mut bad = array_attr(CKA_WRAP_TEMPLATE, &mut one);
    bad.ulValueLen -= 1;
    assert_eq!(
        create_with(h, aes_tpl().bytes(CKA_VALUE, &[1; 16]), bad),
        Err(CKR_ATTRIBUTE_VALUE_INVALID)
    );
    let mut innermost = Tpl::new().bool(CKA_SENSITIVE, true);
    let mut nested = Tpl::new();
    nested
        .attrs
        .push(array_attr(CKA_UNWRAP_TEMPLATE, &mut innermost));
    let outer = array_attr(CKA_WRAP_TEMPLATE, &mut nested);
    assert_eq!(
        create_with(h, aes_tpl().bytes(CKA_VALUE, &[1; 16]), outer),
        Err(CKR_ATTRIBUTE_VALUE_INVALID)
    );
}
