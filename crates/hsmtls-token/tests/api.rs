//! In-process tests of the C API: every test gets a token in a slot of its
//! own (see `common`), so they run in parallel in one initialised library.
#![allow(unsafe_code)]

mod common;

use std::ptr;

use common::*;
use cryptoki_sys::*;
use hsmtls_token::abi::consts::*;
use hsmtls_token::abi::*;

#[test]
fn general_functions_and_interfaces() {
    library();
    unsafe {
        let mut info: CK_INFO = std::mem::zeroed();
        assert_eq!(C_GetInfo(&mut info), CKR_OK);
        assert_eq!(
            (info.cryptokiVersion.major, info.cryptokiVersion.minor),
            (3, 0)
        );
        assert_eq!(C_GetInfo(ptr::null_mut()), CKR_ARGUMENTS_BAD);
        assert_eq!(
            C_Initialize(ptr::null_mut()),
            CKR_CRYPTOKI_ALREADY_INITIALIZED
        );
        let mut args: CK_C_INITIALIZE_ARGS = std::mem::zeroed();
        args.pReserved = ptr::dangling_mut();
        assert_eq!(
            C_Initialize(&mut args as *mut _ as *mut _),
            CKR_ARGUMENTS_BAD
        );
        unsafe extern "C" fn create(_: *mut *mut core::ffi::c_void) -> CK_RV {
            CKR_OK
        }
        unsafe extern "C" fn other(_: *mut core::ffi::c_void) -> CK_RV {
            CKR_OK
        }
        let mut args: CK_C_INITIALIZE_ARGS = std::mem::zeroed();
        args.CreateMutex = Some(create);
        args.DestroyMutex = Some(other);
        args.LockMutex = Some(other);
        args.UnlockMutex = Some(other);
        assert_eq!(C_Initialize(&mut args as *mut _ as *mut _), CKR_CANT_LOCK);
        args.LockMutex = None;
        assert_eq!(
            C_Initialize(&mut args as *mut _ as *mut _),
            CKR_ARGUMENTS_BAD
        );
        args.LockMutex = Some(other);
        args.flags = CKF_OS_LOCKING_OK;
        assert_eq!(
            C_Initialize(&mut args as *mut _ as *mut _),
            CKR_CRYPTOKI_ALREADY_INITIALIZED
        );
        assert_eq!(C_Finalize(ptr::dangling_mut()), CKR_ARGUMENTS_BAD);

        let mut fl: *mut CK_FUNCTION_LIST = ptr::null_mut();
        assert_eq!(C_GetFunctionList(&mut fl), CKR_OK);
        assert_eq!((*fl).version.major, 2);
        assert!((*fl).C_Sign.is_some());
        assert_eq!(C_GetFunctionList(ptr::null_mut()), CKR_ARGUMENTS_BAD);

        let mut n: CK_ULONG = 0;
        assert_eq!(C_GetInterfaceList(ptr::null_mut(), &mut n), CKR_OK);
        assert_eq!(n, 2);
        let mut list: [CK_INTERFACE; 2] = std::mem::zeroed();
        n = 1;
        assert_eq!(
            C_GetInterfaceList(list.as_mut_ptr(), &mut n),
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(C_GetInterfaceList(list.as_mut_ptr(), &mut n), CKR_OK);
        let name = std::ffi::CStr::from_ptr(list[0].pInterfaceName as *const _);
        assert_eq!(name.to_bytes(), b"PKCS 11");
        let f3 = &*(list[0].pFunctionList as *const CK_FUNCTION_LIST_3_0);
        assert_eq!((f3.version.major, f3.version.minor), (3, 0));
        assert!(f3.C_GetInterface.is_some() && f3.C_MessageSignInit.is_some());
        let mut iface: *mut CK_INTERFACE = ptr::null_mut();
        let mut name = *b"PKCS 11\0";
        let mut v2 = CK_VERSION {
            major: 2,
            minor: 40,
        };
        assert_eq!(
            C_GetInterface(name.as_mut_ptr(), &mut v2, &mut iface, 0),
            CKR_OK
        );
        assert_eq!(
            (*((*iface).pFunctionList as *const CK_FUNCTION_LIST))
                .version
                .minor,
            40
        );
        assert_eq!(
            C_GetInterface(ptr::null_mut(), ptr::null_mut(), &mut iface, 0),
            CKR_OK
        );
        let mut bad = *b"PKCS 12\0";
        assert_eq!(
            C_GetInterface(bad.as_mut_ptr(), ptr::null_mut(), &mut iface, 0),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(C_GetFunctionStatus(0), CKR_FUNCTION_NOT_PARALLEL);
        assert_eq!(C_DigestKey(0, 0), CKR_FUNCTION_NOT_SUPPORTED);
    }
}

#[test]
fn slots_tokens_mechanisms() {
    let (slot, h) = fresh_token();
    unsafe {
        let mut n: CK_ULONG = 0;
        assert_eq!(C_GetSlotList(CK_TRUE, ptr::null_mut(), &mut n), CKR_OK);
        assert_eq!(n, SLOTS + 1, "configured slots plus the free slot");
        let mut ids = vec![0; n as usize];
        let mut small: CK_ULONG = 1;
        assert_eq!(
            C_GetSlotList(CK_TRUE, ids.as_mut_ptr(), &mut small),
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(C_GetSlotList(CK_TRUE, ids.as_mut_ptr(), &mut n), CKR_OK);
        assert_eq!(
            C_GetSlotList(CK_TRUE, ptr::null_mut(), ptr::null_mut()),
            CKR_ARGUMENTS_BAD
        );
        let mut si: CK_SLOT_INFO = std::mem::zeroed();
        assert_eq!(C_GetSlotInfo(slot, &mut si), CKR_OK);
        assert_eq!(si.flags & CKF_TOKEN_PRESENT, CKF_TOKEN_PRESENT);
        assert_eq!(C_GetSlotInfo(9999, &mut si), CKR_SLOT_ID_INVALID);
        let mut ti: CK_TOKEN_INFO = std::mem::zeroed();
        assert_eq!(C_GetTokenInfo(slot, &mut ti), CKR_OK);
        let want = CKF_RNG | CKF_LOGIN_REQUIRED | CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED;
        assert_eq!(ti.flags, want);
        assert_eq!(&ti.label[..4], b"test");
        assert_eq!((ti.ulSessionCount, ti.ulRwSessionCount), (1, 1));
        // The free slot: an uninitialised token.
        assert_eq!(C_GetTokenInfo(SLOTS, &mut ti), CKR_OK);
        assert_eq!(ti.flags & CKF_TOKEN_INITIALIZED, 0);
        let mut s = 0;
        assert_eq!(
            C_OpenSession(SLOTS, CKF_SERIAL_SESSION, ptr::null_mut(), None, &mut s),
            CKR_TOKEN_NOT_RECOGNIZED
        );
        assert_eq!(
            C_OpenSession(slot, 0, ptr::null_mut(), None, &mut s),
            CKR_SESSION_PARALLEL_NOT_SUPPORTED
        );

        let mut n: CK_ULONG = 0;
        assert_eq!(C_GetMechanismList(slot, ptr::null_mut(), &mut n), CKR_OK);
        let mut ms = vec![0; n as usize];
        assert_eq!(C_GetMechanismList(slot, ms.as_mut_ptr(), &mut n), CKR_OK);
        for m in [
            CKM_ECDSA_SHA256,
            CKM_TLS12_KEY_SAFE_DERIVE,
            CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH,
        ] {
            assert!(ms.contains(&m));
        }
        let mut mi: CK_MECHANISM_INFO = std::mem::zeroed();
        assert_eq!(
            C_GetMechanismInfo(slot, CKM_EC_KEY_PAIR_GEN, &mut mi),
            CKR_OK
        );
        assert_eq!((mi.ulMinKeySize, mi.ulMaxKeySize), (256, 521));
        assert_ne!(mi.flags & CKF_GENERATE_KEY_PAIR, 0);
        assert_eq!(
            C_GetMechanismInfo(slot, CKM_MD5, &mut mi),
            CKR_MECHANISM_INVALID
        );
        // Re-initialising needs no open session and the right SO PIN.
        let mut l = label("again");
        assert_eq!(
            C_InitToken(
                slot,
                SO_PIN.as_ptr() as *mut _,
                SO_PIN.len() as _,
                l.as_mut_ptr()
            ),
            CKR_SESSION_EXISTS
        );
        assert_eq!(C_CloseSession(h), CKR_OK);
        assert_eq!(
            C_InitToken(slot, b"wrong-pin".as_ptr() as *mut _, 9, l.as_mut_ptr()),
            CKR_PIN_INCORRECT
        );
        assert_eq!(
            C_InitToken(
                slot,
                SO_PIN.as_ptr() as *mut _,
                SO_PIN.len() as _,
                l.as_mut_ptr()
            ),
            CKR_OK
        );
        assert_eq!(C_GetTokenInfo(slot, &mut ti), CKR_OK);
        assert_eq!(ti.flags & CKF_USER_PIN_INITIALIZED, 0);
        assert_eq!(&ti.label[..5], b"again");
    }
}

#[test]
fn login_rules_and_pin_counters() {
    let (slot, h) = fresh_token();
    unsafe {
        assert_eq!(login(h, CKU_USER, USER_PIN), CKR_USER_ALREADY_LOGGED_IN);
        assert_eq!(login(h, CKU_SO, SO_PIN), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
        assert_eq!(login(h, 7, USER_PIN), CKR_USER_TYPE_INVALID);
        let mut si: CK_SESSION_INFO = std::mem::zeroed();
        assert_eq!(C_GetSessionInfo(h, &mut si), CKR_OK);
        assert_eq!(si.state, CKS_RW_USER_FUNCTIONS);
        assert_eq!(C_Logout(h), CKR_OK);
        assert_eq!(C_Logout(h), CKR_USER_NOT_LOGGED_IN);
        assert_eq!(C_GetSessionInfo(h, &mut si), CKR_OK);
        assert_eq!(si.state, CKS_RW_PUBLIC_SESSION);
        assert_eq!(login(h, 7, USER_PIN), CKR_USER_TYPE_INVALID);
        assert_eq!(login(h, CKU_USER, b"abc"), CKR_PIN_INCORRECT);
        let mut ti: CK_TOKEN_INFO = std::mem::zeroed();
        assert_eq!(C_GetTokenInfo(slot, &mut ti), CKR_OK);
        assert_eq!(ti.flags & CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_COUNT_LOW);
        for _ in 0..8 {
            assert_eq!(login(h, CKU_USER, b"wrong"), CKR_PIN_INCORRECT);
        }
        assert_eq!(C_GetTokenInfo(slot, &mut ti), CKR_OK);
        assert_eq!(ti.flags & CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_FINAL_TRY);
        assert_eq!(login(h, CKU_USER, b"wrong"), CKR_PIN_LOCKED);
        assert_eq!(login(h, CKU_USER, USER_PIN), CKR_PIN_LOCKED);
        assert_eq!(C_GetTokenInfo(slot, &mut ti), CKR_OK);
        assert_eq!(ti.flags & CKF_USER_PIN_LOCKED, CKF_USER_PIN_LOCKED);
        // A read-only session blocks the SO; the SO resets the user PIN.
        let ro = open(slot, false);
        assert_eq!(login(h, CKU_SO, SO_PIN), CKR_SESSION_READ_ONLY_EXISTS);
        assert_eq!(C_CloseSession(ro), CKR_OK);
        assert_eq!(login(h, CKU_SO, SO_PIN), CKR_OK);
        let mut s = 0;
        assert_eq!(
            C_OpenSession(slot, CKF_SERIAL_SESSION, ptr::null_mut(), None, &mut s),
            CKR_SESSION_READ_WRITE_SO_EXISTS
        );
        let new_pin = b"new-user-pin";
        assert_eq!(
            C_InitPIN(h, new_pin.as_ptr() as *mut _, 3),
            CKR_PIN_LEN_RANGE
        );
        assert_eq!(
            C_InitPIN(h, new_pin.as_ptr() as *mut _, new_pin.len() as _),
            CKR_OK
        );
        assert_eq!(C_Logout(h), CKR_OK);
        assert_eq!(login(h, CKU_USER, new_pin), CKR_OK);
        assert_eq!(C_GetTokenInfo(slot, &mut ti), CKR_OK);
        assert_eq!(ti.flags & (CKF_USER_PIN_LOCKED | CKF_USER_PIN_COUNT_LOW), 0);
        // C_SetPIN as user.
        let newer = b"newer-pin";
        assert_eq!(
            C_SetPIN(
                h,
                b"bad-old".as_ptr() as *mut _,
                7,
                newer.as_ptr() as *mut _,
                9
            ),
            CKR_PIN_INCORRECT
        );
        assert_eq!(
            C_SetPIN(
                h,
                new_pin.as_ptr() as *mut _,
                new_pin.len() as _,
                newer.as_ptr() as *mut _,
                9
            ),
            CKR_OK
        );
        // Closing the last session logs out.
        assert_eq!(C_CloseAllSessions(slot), CKR_OK);
        assert_eq!(C_GetSessionInfo(h, &mut si), CKR_SESSION_HANDLE_INVALID);
        let h = open(slot, true);
        assert_eq!(C_GetSessionInfo(h, &mut si), CKR_OK);
        assert_eq!(si.state, CKS_RW_PUBLIC_SESSION);
        assert_eq!(login(h, CKU_USER, newer), CKR_OK);
    }
}

#[test]
fn objects_and_attribute_rules() {
    let (slot, h) = fresh_token();
    // A sensitive AES key: the value never leaves.
    let k = secret(h, CKK_AES, &[7; 16], false);
    assert_eq!(attr(h, k, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
    assert_eq!(attr(h, k, CKA_VALUE_LEN).unwrap(), 16u64.to_ne_bytes());
    assert_eq!(attr(h, k, CKA_EC_POINT), Err(CKR_ATTRIBUTE_TYPE_INVALID));
    assert_eq!(attr(h, k, CKA_LOCAL).unwrap(), [0]);
    assert_eq!(attr(h, k, CKA_ALWAYS_SENSITIVE).unwrap(), [0]);
    unsafe {
        // Buffer too small: -1 length and CKR_BUFFER_TOO_SMALL.
        let mut buf = [0u8; 1];
        let mut a = CK_ATTRIBUTE {
            type_: CKA_VALUE_LEN,
            pValue: buf.as_mut_ptr() as *mut _,
            ulValueLen: 1,
        };
        assert_eq!(C_GetAttributeValue(h, k, &mut a, 1), CKR_BUFFER_TOO_SMALL);
        assert_eq!(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
        assert_eq!(
            C_GetAttributeValue(h, 424242, &mut a, 1),
            CKR_OBJECT_HANDLE_INVALID
        );
        assert_eq!(
            C_GetAttributeValue(h, k, ptr::null_mut(), 1),
            CKR_ARGUMENTS_BAD
        );
        // One-way flags.
        let mut t = Tpl::new().bool(CKA_SENSITIVE, false);
        assert_eq!(
            C_SetAttributeValue(h, k, t.ptr(), t.len()),
            CKR_ATTRIBUTE_READ_ONLY
        );
        let mut t = Tpl::new().bool(CKA_EXTRACTABLE, true);
        assert_eq!(
            C_SetAttributeValue(h, k, t.ptr(), t.len()),
            CKR_ATTRIBUTE_READ_ONLY
        );
        let mut t = Tpl::new().bytes(CKA_VALUE, &[0; 16]);
        assert_eq!(
            C_SetAttributeValue(h, k, t.ptr(), t.len()),
            CKR_ATTRIBUTE_READ_ONLY
        );
        let mut t = Tpl::new().bytes(CKA_LABEL, b"renamed");
        assert_eq!(C_SetAttributeValue(h, k, t.ptr(), t.len()), CKR_OK);
        assert_eq!(attr(h, k, CKA_LABEL).unwrap(), b"renamed");
    }
    // An extractable key can become sensitive, not back.
    let e = secret(h, CKK_GENERIC_SECRET, b"0123456789", true);
    assert_eq!(attr(h, e, CKA_VALUE).unwrap(), b"0123456789");
    unsafe {
        let mut t = Tpl::new().bool(CKA_SENSITIVE, true);
        assert_eq!(C_SetAttributeValue(h, e, t.ptr(), t.len()), CKR_OK);
    }
    assert_eq!(attr(h, e, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
    // Template rules.
    assert_eq!(
        create(h, Tpl::new().ulong(CKA_KEY_TYPE, CKK_AES)),
        Err(CKR_TEMPLATE_INCOMPLETE)
    );
    assert_eq!(
        create(
            h,
            Tpl::new()
                .ulong(CKA_CLASS, CKO_SECRET_KEY)
                .ulong(CKA_KEY_TYPE, CKK_AES)
                .bytes(CKA_VALUE, &[1; 16])
                .bool(CKA_LOCAL, true)
        ),
        Err(CKR_ATTRIBUTE_READ_ONLY)
    );
    assert_eq!(
        create(
            h,
            Tpl::new()
                .ulong(CKA_CLASS, CKO_DATA)
                .bool(CKA_TOKEN, true)
                .bool(CKA_TOKEN, false)
        ),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    assert_eq!(
        create(
            h,
            Tpl::new()
                .ulong(CKA_CLASS, CKO_DATA)
                .bytes(0x7fff_0000, b"")
        ),
        Err(CKR_ATTRIBUTE_TYPE_INVALID)
    );
    assert_eq!(
        create(
            h,
            Tpl::new()
                .ulong(CKA_CLASS, CKO_DATA)
                .bytes(CKA_TOKEN, b"xx")
        ),
        Err(CKR_ATTRIBUTE_VALUE_INVALID)
    );
    unsafe {
        let mut o = 0;
        assert_eq!(
            C_CreateObject(h, ptr::null_mut(), 2, &mut o),
            CKR_ARGUMENTS_BAD
        );
    }
    // Copy, find, destroy; private objects hidden after logout.
    let d = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_DATA)
            .bytes(CKA_LABEL, b"pub")
            .bytes(CKA_VALUE, b"hello"),
    )
    .unwrap();
    let p = create(
        h,
        Tpl::new()
            .ulong(CKA_CLASS, CKO_DATA)
            .bool(CKA_PRIVATE, true)
            .bytes(CKA_LABEL, b"priv"),
    )
    .unwrap();
    unsafe {
        let mut c = 0;
        let mut t = Tpl::new()
            .bytes(CKA_LABEL, b"copy")
            .bool(CKA_COPYABLE, false);
        assert_eq!(C_CopyObject(h, d, t.ptr(), t.len(), &mut c), CKR_OK);
        assert_eq!(attr(h, c, CKA_VALUE).unwrap(), b"hello");
        assert_eq!(
            C_CopyObject(h, c, ptr::null_mut(), 0, &mut c),
            CKR_ACTION_PROHIBITED
        );
        let mut t = Tpl::new().ulong(CKA_CLASS, CKO_DATA);
        assert_eq!(C_FindObjectsInit(h, t.ptr(), t.len()), CKR_OK);
        assert_eq!(C_FindObjectsInit(h, t.ptr(), t.len()), CKR_OPERATION_ACTIVE);
        let mut found = [0; 10];
        let mut n = 0;
        assert_eq!(C_FindObjects(h, found.as_mut_ptr(), 10, &mut n), CKR_OK);
        assert_eq!(n, 3);
        assert_eq!(C_FindObjectsFinal(h), CKR_OK);
        assert_eq!(C_FindObjectsFinal(h), CKR_OPERATION_NOT_INITIALIZED);
        assert_eq!(C_DestroyObject(h, c), CKR_OK);
        assert_eq!(C_DestroyObject(h, c), CKR_OBJECT_HANDLE_INVALID);
        assert_eq!(C_Logout(h), CKR_OK);
        assert_eq!(attr(h, p, CKA_LABEL), Err(CKR_OBJECT_HANDLE_INVALID));
        assert_eq!(attr(h, d, CKA_LABEL).unwrap(), b"pub");
        assert_eq!(
            create(
                h,
                Tpl::new()
                    .ulong(CKA_CLASS, CKO_DATA)
                    .bool(CKA_PRIVATE, true)
            ),
            Err(CKR_USER_NOT_LOGGED_IN)
        );
        // Read-only sessions cannot create token objects.
        let ro = open(slot, false);
        assert_eq!(
            create(
                ro,
                Tpl::new().ulong(CKA_CLASS, CKO_DATA).bool(CKA_TOKEN, true)
            ),
            Err(CKR_SESSION_READ_ONLY)
        );
        assert_eq!(C_CloseSession(ro), CKR_OK);
    }
}

#[test]
fn digests_and_random() {
    let (_, h) = fresh_token();
    unsafe {
        let mut m = mech(CKM_SHA256);
        assert_eq!(C_DigestInit(h, &mut m), CKR_OK);
        assert_eq!(C_DigestInit(h, &mut m), CKR_OPERATION_ACTIVE);
        let mut small = [0u8; 8];
        let mut n: CK_ULONG = 8;
        assert_eq!(
            C_Digest(h, b"abc".as_ptr() as *mut _, 3, small.as_mut_ptr(), &mut n),
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(n, 32);
        let d = two_call(|o, n| C_Digest(h, b"abc".as_ptr() as *mut _, 3, o, n)).unwrap();
        assert_eq!(
            d,
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        let mut m = mech(CKM_SHA512);
        assert_eq!(C_DigestInit(h, &mut m), CKR_OK);
        assert_eq!(C_DigestUpdate(h, b"a".as_ptr() as *mut _, 1), CKR_OK);
        assert_eq!(C_DigestUpdate(h, b"bc".as_ptr() as *mut _, 2), CKR_OK);
        let d = two_call(|o, n| C_DigestFinal(h, o, n)).unwrap();
        assert_eq!(&d[..8], &hex("ddaf35a193617aba")[..]);
        assert_eq!(
            C_DigestUpdate(h, b"a".as_ptr() as *mut _, 1),
            CKR_OPERATION_NOT_INITIALIZED
        );
        let mut m = mech(CKM_MD5);
        assert_eq!(C_DigestInit(h, &mut m), CKR_MECHANISM_INVALID);
        assert_eq!(C_DigestInit(h, ptr::null_mut()), CKR_ARGUMENTS_BAD);
        let mut r = [0u8; 64];
        assert_eq!(C_GenerateRandom(h, r.as_mut_ptr(), 64), CKR_OK);
        assert_ne!(r, [0u8; 64]);
        assert_eq!(C_GenerateRandom(h, ptr::null_mut(), 4), CKR_ARGUMENTS_BAD);
        assert_eq!(
            C_GenerateRandom(777_777, r.as_mut_ptr(), 4),
            CKR_SESSION_HANDLE_INVALID
        );
        // Seed material is mixed in; the generator keeps producing fresh
        // output.
        let before = r;
        assert_eq!(C_SeedRandom(h, r.as_mut_ptr(), 4), CKR_OK);
        assert_eq!(C_SeedRandom(h, ptr::null_mut(), 0), CKR_OK);
        assert_eq!(C_SeedRandom(h, ptr::null_mut(), 4), CKR_ARGUMENTS_BAD);
        assert_eq!(
            C_SeedRandom(777_777, r.as_mut_ptr(), 4),
            CKR_SESSION_HANDLE_INVALID
        );
        assert_eq!(C_GenerateRandom(h, r.as_mut_ptr(), 64), CKR_OK);
        assert_ne!(r, before);
        // Requests longer than one keystream piece.
        let mut big = vec![0u8; (1 << 20) + 33];
        assert_eq!(
            C_GenerateRandom(h, big.as_mut_ptr(), big.len() as CK_ULONG),
            CKR_OK
        );
        assert!(big[big.len() - 32..].iter().any(|&b| b != 0));
    }
}

const CURVES: [(&str, &str); 6] = [
    ("secp256r1", "06082a8648ce3d030107"),
    ("secp384r1", "06052b81040022"),
    ("secp521r1", "06052b81040023"),
    ("brainpoolP256r1", "06092b2403030208010107"),
    ("brainpoolP384r1", "06092b240303020801010b"),
    ("brainpoolP512r1", "06092b240303020801010d"),
];

fn ec_pair(
    h: CK_SESSION_HANDLE,
    params: &[u8],
    extractable: bool,
) -> (CK_OBJECT_HANDLE, CK_OBJECT_HANDLE) {
    generate_pair(
        h,
        CKM_EC_KEY_PAIR_GEN,
        Tpl::new()
            .bytes(CKA_EC_PARAMS, params)
            .bool(CKA_VERIFY, true),
        Tpl::new()
            .bool(CKA_SIGN, true)
            .bool(CKA_DERIVE, true)
            .bool(CKA_SENSITIVE, !extractable)
            .bool(CKA_EXTRACTABLE, extractable),
    )
    .expect("C_GenerateKeyPair")
}

#[test]
fn ec_keygen_sign_verify_derive_on_all_curves() {
    let (_, h) = fresh_token();
    for (name, params) in CURVES {
        let params = hex(params);
        let (p, s) = ec_pair(h, &params, false);
        assert_eq!(
            attr(h, s, CKA_VALUE),
            Err(CKR_ATTRIBUTE_SENSITIVE),
            "{name}"
        );
        assert_eq!(attr(h, s, CKA_LOCAL).unwrap(), [1]);
        assert_eq!(attr(h, s, CKA_ALWAYS_SENSITIVE).unwrap(), [1]);
        let point = attr(h, p, CKA_EC_POINT).unwrap();
        assert_eq!(point[0], 0x04, "{name}: DER OCTET STRING");
        for m in [CKM_ECDSA_SHA256, CKM_ECDSA_SHA384, CKM_ECDSA_SHA512] {
            let mut mm = mech(m);
            let sig = sign(h, &mut mm, s, b"message").unwrap();
            let n = match name {
                "secp521r1" => 132,
                "secp384r1" | "brainpoolP384r1" => 96,
                "brainpoolP512r1" => 128,
                _ => 64,
            };
            assert_eq!(sig.len(), n, "{name}");
            assert_eq!(verify(h, &mut mm, p, b"message", &sig), CKR_OK, "{name}");
            assert_eq!(
                verify(h, &mut mm, p, b"messagf", &sig),
                CKR_SIGNATURE_INVALID,
                "{name}"
            );
            assert_eq!(
                verify(h, &mut mm, p, b"message", &sig[1..]),
                CKR_SIGNATURE_LEN_RANGE,
                "{name}"
            );
        }
        // ECDH both ways, with extractable keys to compare the secrets.
        let (pa, sa) = ec_pair(h, &params, true);
        let (pb, sb) = ec_pair(h, &params, true);
        let derive = |s: CK_OBJECT_HANDLE, peer: CK_OBJECT_HANDLE| {
            let mut point = attr(h, peer, CKA_EC_POINT).unwrap();
            let mut prm = CK_ECDH1_DERIVE_PARAMS {
                kdf: CKD_NULL,
                ulSharedDataLen: 0,
                pSharedData: ptr::null_mut(),
                ulPublicDataLen: point.len() as _,
                pPublicData: point.as_mut_ptr(),
            };
            let mut m = mech_with(CKM_ECDH1_DERIVE, &mut prm);
            let mut t = Tpl::new()
                .ulong(CKA_CLASS, CKO_SECRET_KEY)
                .ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
                .bool(CKA_SENSITIVE, false)
                .bool(CKA_EXTRACTABLE, true);
            let mut k = 0;
            assert_eq!(
                unsafe { C_DeriveKey(h, &mut m, s, t.ptr(), t.len(), &mut k) },
                CKR_OK,
                "{name}"
            );
            attr(h, k, CKA_VALUE).unwrap()
        };
        let za = derive(sa, pb);
        assert_eq!(za, derive(sb, pa), "{name}");
        assert!(za.len() >= 32);
    }
}

#[test]
fn ec_negative_cases() {
    let (_, h) = fresh_token();
    unsafe {
        let mut m = mech(CKM_EC_KEY_PAIR_GEN);
        let mut pubt = Tpl::new().bytes(CKA_EC_PARAMS, &hex("06082a8648ce3d030101"));
        let mut privt = Tpl::new();
        let (mut p, mut s) = (0, 0);
        assert_eq!(
            C_GenerateKeyPair(
                h,
                &mut m,
                pubt.ptr(),
                pubt.len(),
                privt.ptr(),
                privt.len(),
                &mut p,
                &mut s
            ),
            CKR_CURVE_NOT_SUPPORTED
        );
        let mut pubt = Tpl::new();
        assert_eq!(
            C_GenerateKeyPair(
                h,
                &mut m,
                pubt.ptr(),
                pubt.len(),
                privt.ptr(),
                privt.len(),
                &mut p,
                &mut s
            ),
            CKR_TEMPLATE_INCOMPLETE
        );
    }
    let (p, s) = ec_pair(h, &hex(CURVES[0].1), false);
    let mut mm = mech(CKM_ECDSA_SHA256);
    // Wrong key for the operation; usage flag missing.
    assert_eq!(
        unsafe { C_SignInit(h, &mut mm, p) },
        CKR_KEY_FUNCTION_NOT_PERMITTED
    );
    assert_eq!(
        unsafe { C_SignInit(h, &mut mm, 31337) },
        CKR_KEY_HANDLE_INVALID
    );
    assert_eq!(unsafe { C_SignInit(h, &mut mm, s) }, CKR_OK);
    assert_eq!(unsafe { C_SignInit(h, &mut mm, s) }, CKR_OPERATION_ACTIVE);
    assert_eq!(
        unsafe { C_SignUpdate(h, b"a".as_ptr() as *mut _, 1) },
        CKR_OK
    );
    let sig = two_call(|o, n| unsafe { C_SignFinal(h, o, n) }).unwrap();
    assert_eq!(verify(h, &mut mm, p, b"a", &sig), CKR_OK);
    // Bad ECDH peer point.
    let mut bad = vec![4u8; 65];
    let mut prm = CK_ECDH1_DERIVE_PARAMS {
        kdf: CKD_NULL,
        ulSharedDataLen: 0,
        pSharedData: ptr::null_mut(),
        ulPublicDataLen: 65,
        pPublicData: bad.as_mut_ptr(),
    };
    let mut m = mech_with(CKM_ECDH1_DERIVE, &mut prm);
    let mut t = Tpl::new().ulong(CKA_CLASS, CKO_SECRET_KEY);
    let mut k = 0;
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, s, t.ptr(), t.len(), &mut k) },
        CKR_MECHANISM_PARAM_INVALID
    );
    prm.kdf = CKD_SHA256_KDF;
    let mut m = mech_with(CKM_ECDH1_DERIVE, &mut prm);
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, s, t.ptr(), t.len(), &mut k) },
        CKR_MECHANISM_PARAM_INVALID
    );
    m.ulParameterLen = 3;
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, s, t.ptr(), t.len(), &mut k) },
        CKR_MECHANISM_PARAM_INVALID
    );
}

#[test]
fn hmac_and_generic_secrets() {
    let (_, h) = fresh_token();
    // RFC 4231 test case 2.
    let k = secret(h, CKK_GENERIC_SECRET, b"Jefe", false);
    let data = b"what do ya want for nothing?";
    let mut m = mech(CKM_SHA256_HMAC);
    let mac = sign(h, &mut m, k, data).unwrap();
    assert_eq!(
        mac,
        hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
    assert_eq!(verify(h, &mut m, k, data, &mac), CKR_OK);
    let mut bad = mac.clone();
    bad[0] ^= 1;
    assert_eq!(verify(h, &mut m, k, data, &bad), CKR_SIGNATURE_INVALID);
    let mut m384 = mech(CKM_SHA384_HMAC);
    assert_eq!(sign(h, &mut m384, k, data).unwrap().len(), 48);
    // Key generation.
    let mut gm = mech(CKM_GENERIC_SECRET_KEY_GEN);
    let mut t = Tpl::new().ulong(CKA_VALUE_LEN, 32).bool(CKA_SIGN, true);
    let mut g = 0;
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut gm, t.ptr(), t.len(), &mut g) },
        CKR_OK
    );
    assert_eq!(
        attr(h, g, CKA_KEY_GEN_MECHANISM).unwrap(),
        CKM_GENERIC_SECRET_KEY_GEN.to_ne_bytes()
    );
    assert_eq!(attr(h, g, CKA_NEVER_EXTRACTABLE).unwrap(), [1]);
    let mut t = Tpl::new();
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut gm, t.ptr(), t.len(), &mut g) },
        CKR_TEMPLATE_INCOMPLETE
    );
    // An AES key is the wrong type for HMAC.
    let a = secret(h, CKK_AES, &[1; 16], false);
    assert_eq!(sign(h, &mut m, a, data), Err(CKR_KEY_TYPE_INCONSISTENT));
}

#[test]
fn aes_gcm_and_cbc() {
    let (_, h) = fresh_token();
    let mut gm = mech(CKM_AES_KEY_GEN);
    let mut t = Tpl::new().ulong(CKA_VALUE_LEN, 32);
    let mut k = 0;
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut gm, t.ptr(), t.len(), &mut k) },
        CKR_OK
    );
    // AES keys are 16, 24 or 32 bytes.
    let mut t = Tpl::new().ulong(CKA_VALUE_LEN, 20);
    let mut k2 = 0;
    assert_eq!(
        unsafe { C_GenerateKey(h, &mut gm, t.ptr(), t.len(), &mut k2) },
        CKR_ATTRIBUTE_VALUE_INVALID
    );
    let mut iv = [9u8; 12];
    let mut aad = *b"header";
    let mut gp = CK_GCM_PARAMS {
        pIv: iv.as_mut_ptr(),
        ulIvLen: 12,
        ulIvBits: 96,
        pAAD: aad.as_mut_ptr(),
        ulAADLen: 6,
        ulTagBits: 128,
    };
    let mut m = mech_with(CKM_AES_GCM, &mut gp);
    let msg = b"attack at dawn, bring snacks";
    unsafe {
        assert_eq!(C_EncryptInit(h, &mut m, k), CKR_OK);
        let ct =
            two_call(|o, n| C_Encrypt(h, msg.as_ptr() as *mut _, msg.len() as _, o, n)).unwrap();
        assert_eq!(ct.len(), msg.len() + 16);
        assert_eq!(C_DecryptInit(h, &mut m, k), CKR_OK);
        let pt = two_call(|o, n| C_Decrypt(h, ct.as_ptr() as *mut _, ct.len() as _, o, n)).unwrap();
        assert_eq!(pt, msg);
        let mut bad = ct.clone();
        bad[3] ^= 1;
        assert_eq!(C_DecryptInit(h, &mut m, k), CKR_OK);
        assert_eq!(
            two_call(|o, n| C_Decrypt(h, bad.as_ptr() as *mut _, bad.len() as _, o, n)),
            Err(CKR_AEAD_DECRYPT_FAILED)
        );
        gp.ulTagBits = 96;
        let mut m = mech_with(CKM_AES_GCM, &mut gp);
        assert_eq!(C_EncryptInit(h, &mut m, k), CKR_MECHANISM_PARAM_INVALID);
    }
    // NIST SP 800-38A F.2.1.
    let key = secret(h, CKK_AES, &hex("2b7e151628aed2a6abf7158809cf4f3c"), false);
    let mut iv = hex("000102030405060708090a0b0c0d0e0f");
    let mut cm = CK_MECHANISM {
        mechanism: CKM_AES_CBC,
        pParameter: iv.as_mut_ptr() as *mut _,
        ulParameterLen: 16,
    };
    let plain = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
    unsafe {
        assert_eq!(C_EncryptInit(h, &mut cm, key), CKR_OK);
        let ct = two_call(|o, n| C_Encrypt(h, plain.as_ptr() as *mut _, 32, o, n)).unwrap();
        assert_eq!(
            ct,
            hex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2")
        );
        assert_eq!(C_EncryptInit(h, &mut cm, key), CKR_OK);
        assert_eq!(
            two_call(|o, n| C_Encrypt(h, plain.as_ptr() as *mut _, 5, o, n)),
            Err(CKR_DATA_LEN_RANGE)
        );
        // CBC_PAD, multi-part, odd sizes.
        cm.mechanism = CKM_AES_CBC_PAD;
        let data: Vec<u8> = (0..45u8).collect();
        assert_eq!(C_EncryptInit(h, &mut cm, key), CKR_OK);
        let mut ct = Vec::new();
        for chunk in data.chunks(7) {
            ct.extend(
                two_call(|o, n| {
                    C_EncryptUpdate(h, chunk.as_ptr() as *mut _, chunk.len() as _, o, n)
                })
                .unwrap(),
            );
        }
        ct.extend(two_call(|o, n| C_EncryptFinal(h, o, n)).unwrap());
        assert_eq!(ct.len(), 48);
        assert_eq!(C_DecryptInit(h, &mut cm, key), CKR_OK);
        let mut pt = Vec::new();
        for chunk in ct.chunks(16) {
            pt.extend(
                two_call(|o, n| {
                    C_DecryptUpdate(h, chunk.as_ptr() as *mut _, chunk.len() as _, o, n)
                })
                .unwrap(),
            );
        }
        pt.extend(two_call(|o, n| C_DecryptFinal(h, o, n)).unwrap());
        assert_eq!(pt, data);
        cm.ulParameterLen = 8;
        assert_eq!(C_EncryptInit(h, &mut cm, key), CKR_MECHANISM_PARAM_INVALID);
    }
}

fn tls_prf(secret: &[u8], label: &[u8], seed: &[&[u8]], n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    hsmtls_crypto::prf::tls12_prf(
        hsmtls_crypto::HashAlg::Sha256,
        secret,
        label,
        seed,
        &mut out,
    );
    out
}

#[test]
fn tls12_master_key_mac_kdf_and_policy() {
    let (_, h) = fresh_token();
    let mut pms = vec![3u8, 3];
    pms.extend((0..46).map(|i| i as u8));
    let pm = secret(h, CKK_GENERIC_SECRET, &pms, true);
    let mut cr = [1u8; 32];
    let mut sr = [2u8; 32];
    let mut version = CK_VERSION { major: 0, minor: 0 };
    let mut p = CK_TLS12_MASTER_KEY_DERIVE_PARAMS {
        RandomInfo: CK_SSL3_RANDOM_DATA {
            pClientRandom: cr.as_mut_ptr(),
            ulClientRandomLen: 32,
            pServerRandom: sr.as_mut_ptr(),
            ulServerRandomLen: 32,
        },
        pVersion: &mut version,
        prfHashMechanism: CKM_SHA256,
    };
    let mut m = mech_with(CKM_TLS12_MASTER_KEY_DERIVE, &mut p);
    let mut t = Tpl::new()
        .bool(CKA_SENSITIVE, false)
        .bool(CKA_EXTRACTABLE, true)
        .bool(CKA_DERIVE, true);
    let mut ms = 0;
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, pm, t.ptr(), t.len(), &mut ms) },
        CKR_OK
    );
    assert_eq!((version.major, version.minor), (3, 3));
    let ms_value = attr(h, ms, CKA_VALUE).unwrap();
    assert_eq!(ms_value, tls_prf(&pms, b"master secret", &[&cr, &sr], 48));
    // The master secret is for TLS mechanisms only.
    let mut hm = mech(CKM_SHA256_HMAC);
    assert_eq!(sign(h, &mut hm, ms, b"x"), Err(CKR_MECHANISM_INVALID));
    // DH variant: no version.
    let mut m = mech_with(CKM_TLS12_MASTER_KEY_DERIVE_DH, &mut p);
    let mut k = 0;
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, pm, t.ptr(), t.len(), &mut k) },
        CKR_MECHANISM_PARAM_INVALID
    );
    p.pVersion = ptr::null_mut();
    let mut m = mech_with(CKM_TLS12_MASTER_KEY_DERIVE_DH, &mut p);
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, pm, t.ptr(), t.len(), &mut k) },
        CKR_OK
    );
    // Extended master secret, 3.2 and NSS numbers.
    let mut hash = [5u8; 32];
    let mut e = CK_TLS12_EXTENDED_MASTER_KEY_DERIVE_PARAMS {
        prfHashMechanism: CKM_SHA256,
        pSessionHash: hash.as_mut_ptr(),
        ulSessionHashLen: 32,
        pVersion: ptr::null_mut(),
    };
    for mm in [
        CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH,
        CKM_NSS_TLS_EXTENDED_MASTER_KEY_DERIVE_DH,
        CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE,
    ] {
        let mut m = mech_with(mm, &mut e);
        assert_eq!(
            unsafe { C_DeriveKey(h, &mut m, pm, t.ptr(), t.len(), &mut k) },
            CKR_OK
        );
        assert_eq!(
            attr(h, k, CKA_VALUE).unwrap(),
            tls_prf(&pms, b"extended master secret", &[&hash], 48)
        );
    }
    // A sensitive base cannot give an extractable key.
    let sens = secret(h, CKK_GENERIC_SECRET, &pms, false);
    let mut m = mech_with(CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH, &mut e);
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, sens, t.ptr(), t.len(), &mut k) },
        CKR_TEMPLATE_INCONSISTENT
    );

    // Key block: AES-128-CBC-SHA256 shape.
    let mut civ = [0u8; 16];
    let mut siv = [0u8; 16];
    let mut out = CK_SSL3_KEY_MAT_OUT {
        hClientMacSecret: 0,
        hServerMacSecret: 0,
        hClientKey: 0,
        hServerKey: 0,
        pIVClient: civ.as_mut_ptr(),
        pIVServer: siv.as_mut_ptr(),
    };
    let mut kp = CK_TLS12_KEY_MAT_PARAMS {
        ulMacSizeInBits: 256,
        ulKeySizeInBits: 128,
        ulIVSizeInBits: 128,
        bIsExport: 0,
        RandomInfo: CK_SSL3_RANDOM_DATA {
            pClientRandom: cr.as_mut_ptr(),
            ulClientRandomLen: 32,
            pServerRandom: sr.as_mut_ptr(),
            ulServerRandomLen: 32,
        },
        pReturnedKeyMaterial: &mut out,
        prfHashMechanism: CKM_SHA256,
    };
    let mut kt = Tpl::new()
        .ulong(CKA_CLASS, CKO_SECRET_KEY)
        .ulong(CKA_KEY_TYPE, CKK_AES)
        .bool(CKA_ENCRYPT, true)
        .bool(CKA_SENSITIVE, false)
        .bool(CKA_EXTRACTABLE, true);
    let mut m = mech_with(CKM_TLS12_KEY_AND_MAC_DERIVE, &mut kp);
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, ms, kt.ptr(), kt.len(), ptr::null_mut()) },
        CKR_OK
    );
    let block = tls_prf(&ms_value, b"key expansion", &[&sr, &cr], 2 * (32 + 16 + 16));
    assert_eq!(
        attr(h, out.hClientMacSecret, CKA_VALUE).unwrap(),
        &block[..32]
    );
    assert_eq!(attr(h, out.hServerKey, CKA_VALUE).unwrap(), &block[80..96]);
    assert_eq!(civ, block[96..112]);
    assert_eq!(siv, block[112..128]);
    // The key-stream-as-IV attack: zero/short keys are refused.
    for (mac, key, iv) in [(0, 0, 256), (0, 8, 1024), (256, 0, 128), (0, 128, 1024)] {
        kp.ulMacSizeInBits = mac;
        kp.ulKeySizeInBits = key;
        kp.ulIVSizeInBits = iv;
        let mut m = mech_with(CKM_TLS12_KEY_AND_MAC_DERIVE, &mut kp);
        assert_eq!(
            unsafe { C_DeriveKey(h, &mut m, ms, kt.ptr(), kt.len(), ptr::null_mut()) },
            CKR_MECHANISM_PARAM_INVALID,
            "{mac}/{key}/{iv}"
        );
    }
    // KEY_SAFE never returns IVs (GCM shape).
    kp.ulMacSizeInBits = 0;
    kp.ulKeySizeInBits = 128;
    kp.ulIVSizeInBits = 32;
    civ = [0xee; 16];
    out.pIVClient = civ.as_mut_ptr();
    let mut m = mech_with(CKM_TLS12_KEY_SAFE_DERIVE, &mut kp);
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, ms, kt.ptr(), kt.len(), ptr::null_mut()) },
        CKR_OK
    );
    assert_eq!(civ, [0xee; 16]);
    assert_eq!(out.hClientMacSecret, 0);
    assert_ne!(out.hClientKey, 0);

    // Finished MAC (client) and its check.
    let transcript_hash = [7u8; 32];
    let mut mp = CK_TLS_MAC_PARAMS {
        prfHashMechanism: CKM_SHA256,
        ulMacLength: 12,
        ulServerOrClient: 2,
    };
    let mut m = mech_with(CKM_TLS12_MAC, &mut mp);
    let vd = sign(h, &mut m, ms, &transcript_hash).unwrap();
    assert_eq!(
        vd,
        tls_prf(&ms_value, b"client finished", &[&transcript_hash], 12)
    );
    assert_eq!(verify(h, &mut m, ms, &transcript_hash, &vd), CKR_OK);
    let mut m = mech_with(CKM_TLS_MAC, &mut mp);
    assert_eq!(sign(h, &mut m, ms, &transcript_hash).unwrap(), vd);
    mp.ulServerOrClient = 3;
    let mut m = mech_with(CKM_TLS12_MAC, &mut mp);
    assert_eq!(
        sign(h, &mut m, ms, &transcript_hash),
        Err(CKR_MECHANISM_PARAM_INVALID)
    );

    // Exporter KDF with a context.
    let mut label = *b"EXPORTER-test";
    let mut ctx = *b"ctx";
    let mut kp = CK_TLS_KDF_PARAMS {
        prfMechanism: CKM_SHA256,
        pLabel: label.as_mut_ptr(),
        ulLabelLength: label.len() as _,
        RandomInfo: CK_SSL3_RANDOM_DATA {
            pClientRandom: cr.as_mut_ptr(),
            ulClientRandomLen: 32,
            pServerRandom: sr.as_mut_ptr(),
            ulServerRandomLen: 32,
        },
        pContextData: ctx.as_mut_ptr(),
        ulContextDataLength: 3,
    };
    let mut m = mech_with(CKM_TLS12_KDF, &mut kp);
    let mut t = Tpl::new()
        .ulong(CKA_VALUE_LEN, 20)
        .bool(CKA_SENSITIVE, false)
        .bool(CKA_EXTRACTABLE, true);
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, ms, t.ptr(), t.len(), &mut k) },
        CKR_OK
    );
    assert_eq!(
        attr(h, k, CKA_VALUE).unwrap(),
        tls_prf(&ms_value, &label, &[&cr, &sr, &[0, 3], &ctx], 20)
    );

    // Exporter output is public (RFC 5705): CKM_TLS12_KDF derives it
    // readable even from a sensitive, non-extractable master secret, while
    // nothing else derived from that master secret may be extractable.
    let mut t = Tpl::new()
        .bool(CKA_SENSITIVE, true)
        .bool(CKA_EXTRACTABLE, false);
    assert_eq!(
        unsafe { C_SetAttributeValue(h, ms, t.ptr(), t.len()) },
        CKR_OK
    );
    let mut m = mech_with(CKM_TLS12_KDF, &mut kp);
    let mut t = Tpl::new()
        .ulong(CKA_VALUE_LEN, 20)
        .bool(CKA_SENSITIVE, false)
        .bool(CKA_EXTRACTABLE, true);
    assert_eq!(
        unsafe { C_DeriveKey(h, &mut m, ms, t.ptr(), t.len(), &mut k) },
        CKR_OK
    );
    assert_eq!(
        attr(h, k, CKA_VALUE).unwrap(),
        tls_prf(&ms_value, &label, &[&cr, &sr, &[0, 3], &ctx], 20)
    );
    let mut mp = CK_TLS_MAC_PARAMS {
        prfHashMechanism: CKM_SHA256,
        ulMacLength: 12,
        ulServerOrClient: 1,
    };
    let mut m = mech_with(CKM_TLS12_MAC, &mut mp);
    assert_eq!(sign(h, &mut m, ms, &transcript_hash).unwrap().len(), 12);
    assert_eq!(attr(h, ms, CKA_VALUE), Err(CKR_ATTRIBUTE_SENSITIVE));
}

#[test]
fn bogus_handles_and_null_pointers() {
    let (slot, h) = fresh_token();
    unsafe {
        let mut m = mech(CKM_SHA256);
        assert_eq!(C_DigestInit(0xdead, &mut m), CKR_SESSION_HANDLE_INVALID);
        assert_eq!(C_CloseSession(0xdead), CKR_SESSION_HANDLE_INVALID);
        assert_eq!(C_DestroyObject(h, 0xdead), CKR_OBJECT_HANDLE_INVALID);
        let mut n: CK_ULONG = 0;
        assert_eq!(
            C_Sign(h, ptr::null_mut(), 0, ptr::null_mut(), &mut n),
            CKR_OPERATION_NOT_INITIALIZED
        );
        assert_eq!(
            C_Encrypt(h, ptr::null_mut(), 0, ptr::null_mut(), ptr::null_mut()),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(
            C_OpenSession(
                slot,
                CKF_SERIAL_SESSION,
                ptr::null_mut(),
                None,
                ptr::null_mut()
            ),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(C_GetTokenInfo(slot, ptr::null_mut()), CKR_ARGUMENTS_BAD);
        assert_eq!(C_GetSessionInfo(h, ptr::null_mut()), CKR_ARGUMENTS_BAD);
        assert_eq!(C_Login(h, CKU_USER, ptr::null_mut(), 4), CKR_ARGUMENTS_BAD);
        assert_eq!(
            C_FindObjects(h, ptr::null_mut(), 1, ptr::null_mut()),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(
            C_InitToken(
                slot,
                SO_PIN.as_ptr() as *mut _,
                SO_PIN.len() as _,
                ptr::null_mut()
            ),
            CKR_ARGUMENTS_BAD
        );
        let mut g = CK_MECHANISM {
            mechanism: CKM_AES_GCM,
            pParameter: ptr::null_mut(),
            ulParameterLen: 48,
        };
        let k = secret(h, CKK_AES, &[1; 16], false);
        assert_eq!(C_EncryptInit(h, &mut g, k), CKR_MECHANISM_PARAM_INVALID);
        let mut s = mech(CKM_SHA256);
        s.ulParameterLen = 4;
        assert_eq!(C_DigestInit(h, &mut s), CKR_MECHANISM_PARAM_INVALID);
    }
}
