//! Fuzzer input as a sequence of malformed C API calls (the driver of
//! `tests/bad_input.rs`): no crash, and every CK_RV one the specification
//! allows for its function. One token, initialised on the first input in a
//! temporary directory; objects created by earlier inputs stay (more
//! state to reach).
#![no_main]
#![allow(unsafe_code)]

#[path = "../../tests/abi_driver/mod.rs"]
mod abi_driver;

use std::ptr;
use std::sync::{Mutex, OnceLock};

use abi_driver::{Bytes, Driver};
use cryptoki_sys::*;
use hsmtls_token::abi::*;

fn setup() -> Driver {
    let dir = std::env::temp_dir().join(format!("hsmtls-token-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("token.conf");
    std::fs::write(
        &conf,
        format!("pin_iterations = 1000\ntoken = {}\n", dir.join("t0").display()),
    )
    .unwrap();
    std::env::set_var("HSMTLS_TOKEN_CONF", &conf);
    let (so, user) = (b"fuzz-so-pin", b"fuzz-user-pin");
    let mut label = [b' '; 32];
    let mut h = 0;
    // SAFETY: valid pointers and lengths throughout.
    unsafe {
        assert_eq!(C_Initialize(ptr::null_mut()), CKR_OK);
        assert_eq!(
            C_InitToken(0, so.as_ptr() as *mut _, so.len() as _, label.as_mut_ptr()),
            CKR_OK
        );
        let flags = CKF_SERIAL_SESSION | CKF_RW_SESSION;
        assert_eq!(C_OpenSession(0, flags, ptr::null_mut(), None, &mut h), CKR_OK);
        assert_eq!(
            C_Login(h, CKU_SO, so.as_ptr() as *mut _, so.len() as _),
            CKR_OK
        );
        assert_eq!(
            C_InitPIN(h, user.as_ptr() as *mut _, user.len() as _),
            CKR_OK
        );
        assert_eq!(C_Logout(h), CKR_OK);
        assert_eq!(
            C_Login(h, CKU_USER, user.as_ptr() as *mut _, user.len() as _),
            CKR_OK
        );
    }
    Driver {
        slot: 0,
        session: h,
        objects: Vec::new(),
    }
}

static DRIVER: OnceLock<Mutex<Driver>> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut d = DRIVER
        .get_or_init(|| Mutex::new(setup()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut s = Bytes(data);
    while !s.0.is_empty() {
        d.step(&mut s);
    }
});
