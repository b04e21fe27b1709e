//! C_Initialize / C_Finalize and persistence: one serial test in its own
//! process (the library is process-global).
#![allow(unsafe_code)]

mod common;

use std::ptr;

use common::*;
use cryptoki_sys::*;
use hsmtls_token::abi::*;

#[test]
fn initialize_finalize_and_persistence() {
    unsafe {
        let mut info: CK_INFO = std::mem::zeroed();
        assert_eq!(C_GetInfo(&mut info), CKR_CRYPTOKI_NOT_INITIALIZED);
        assert_eq!(C_Finalize(ptr::null_mut()), CKR_CRYPTOKI_NOT_INITIALIZED);
        let mut n = 0;
        assert_eq!(
            C_GetSlotList(0, ptr::null_mut(), &mut n),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );
        assert_eq!(C_CloseSession(1), CKR_CRYPTOKI_NOT_INITIALIZED);
        assert_eq!(
            C_WrapKey(0, ptr::null_mut(), 0, 0, ptr::null_mut(), ptr::null_mut()),
            CKR_CRYPTOKI_NOT_INITIALIZED
        );

        let dir = temp_dir("life");
        configure(&dir);
        let mut args: CK_C_INITIALIZE_ARGS = std::mem::zeroed();
        args.flags = CKF_OS_LOCKING_OK;
        assert_eq!(C_Initialize(&mut args as *mut _ as *mut _), CKR_OK);
        // The free slot creates a new token directory.
        let free = SLOTS;
        let mut l = label("persist");
        assert_eq!(
            C_InitToken(
                free,
                SO_PIN.as_ptr() as *mut _,
                SO_PIN.len() as _,
                l.as_mut_ptr()
            ),
            CKR_OK
        );
        let h = open(free, true);
        assert_eq!(login(h, CKU_SO, SO_PIN), CKR_OK);
        assert_eq!(
            C_InitPIN(h, USER_PIN.as_ptr() as *mut _, USER_PIN.len() as _),
            CKR_OK
        );
        assert_eq!(C_Logout(h), CKR_OK);
        assert_eq!(login(h, CKU_USER, USER_PIN), CKR_OK);
        let value = [0x5au8; 32];
        let key = create(
            h,
            Tpl::new()
                .ulong(CKA_CLASS, CKO_SECRET_KEY)
                .ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
                .bytes(CKA_VALUE, &value)
                .bytes(CKA_LABEL, b"kept")
                .bool(CKA_TOKEN, true)
                .bool(CKA_SENSITIVE, false)
                .bool(CKA_EXTRACTABLE, true),
        )
        .unwrap();
        let gone = create(
            h,
            Tpl::new()
                .ulong(CKA_CLASS, CKO_DATA)
                .bool(CKA_TOKEN, true)
                .bytes(CKA_LABEL, b"gone"),
        )
        .unwrap();
        let mut t = Tpl::new().bytes(CKA_LABEL, b"kept2");
        assert_eq!(C_SetAttributeValue(h, key, t.ptr(), t.len()), CKR_OK);
        assert_eq!(C_DestroyObject(h, gone), CKR_OK);
        assert_eq!(C_Finalize(ptr::null_mut()), CKR_OK);
        assert_eq!(C_Finalize(ptr::null_mut()), CKR_CRYPTOKI_NOT_INITIALIZED);

        // Encrypted at rest: the value is nowhere in the token directory.
        let new_root = dir.join("new");
        let token_dir = std::fs::read_dir(&new_root)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        for f in std::fs::read_dir(&token_dir).unwrap() {
            let bytes = std::fs::read(f.unwrap().path()).unwrap();
            assert!(!bytes.windows(32).any(|w| w == value));
        }

        assert_eq!(C_Initialize(ptr::null_mut()), CKR_OK);
        let mut n = 0;
        assert_eq!(C_GetSlotList(0, ptr::null_mut(), &mut n), CKR_OK);
        assert_eq!(n, SLOTS + 2, "the new token plus a new free slot");
        let h = open(SLOTS, true);
        let mut find = Tpl::new().bytes(CKA_LABEL, b"kept2");
        let mut found = [0; 4];
        let mut count = 0;
        assert_eq!(C_FindObjectsInit(h, find.ptr(), find.len()), CKR_OK);
        assert_eq!(C_FindObjects(h, found.as_mut_ptr(), 4, &mut count), CKR_OK);
        assert_eq!(count, 0, "private until login");
        assert_eq!(C_FindObjectsFinal(h), CKR_OK);
        assert_eq!(login(h, CKU_USER, USER_PIN), CKR_OK);
        assert_eq!(C_FindObjectsInit(h, find.ptr(), find.len()), CKR_OK);
        assert_eq!(C_FindObjects(h, found.as_mut_ptr(), 4, &mut count), CKR_OK);
        assert_eq!(count, 1);
        assert_eq!(attr(h, found[0], CKA_VALUE).unwrap(), value);
        let mut gone = Tpl::new().bytes(CKA_LABEL, b"gone");
        assert_eq!(C_FindObjectsFinal(h), CKR_OK);
        assert_eq!(C_FindObjectsInit(h, gone.ptr(), gone.len()), CKR_OK);
        assert_eq!(C_FindObjects(h, found.as_mut_ptr(), 4, &mut count), CKR_OK);
        assert_eq!(count, 0);
        assert_eq!(C_Finalize(ptr::null_mut()), CKR_OK);
    }
}
