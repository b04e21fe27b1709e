//! Bad input at the C ABI (issue 3): 10,000 deterministic pseudo-random
//! malformed calls through the exported C functions (see `abi_driver`),
//! each answered without a crash and with a CK_RV the specification
//! allows for the function. The libFuzzer target under `fuzz/` runs the
//! same driver on fuzzer input.
#![allow(unsafe_code)]

mod abi_driver;
mod common;

use abi_driver::{Driver, XorShift};
use common::*;
use cryptoki_sys::*;

#[test]
fn ten_thousand_malformed_calls() {
    let (slot, h) = fresh_token();
    let mut objects = vec![
        secret(h, CKK_AES, &[1; 16], true),
        secret(h, CKK_AES, &[2; 32], false),
        secret(h, CKK_GENERIC_SECRET, &[3; 48], true),
        secret(h, CKK_CHACHA20, &[4; 32], false),
    ];
    objects.push(
        create(
            h,
            Tpl::new()
                .ulong(CKA_CLASS, CKO_SECRET_KEY)
                .ulong(CKA_KEY_TYPE, CKK_AES)
                .bytes(CKA_VALUE, &[5; 16])
                .bool(CKA_WRAP, true)
                .bool(CKA_UNWRAP, true),
        )
        .unwrap(),
    );
    let mut d = Driver {
        slot,
        session: h,
        objects,
    };
    let mut s = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..10_000 {
        d.step(&mut s);
    }
    // Enough calls got through the checks to reach the mechanisms, and
    // the session still works.
    let ok = abi_driver::OK_CALLS.with(|c| c.get());
    println!("{ok} of the checked calls returned CKR_OK");
    assert!(ok > 200, "only {ok} calls succeeded");
    let mut info: CK_SESSION_INFO = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { hsmtls_token::abi::C_GetSessionInfo(h, &mut info) },
        CKR_OK
    );
}
