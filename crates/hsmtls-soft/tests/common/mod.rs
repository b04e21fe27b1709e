//! Shared helpers of the hsmtls-soft integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use hsmtls_keys::conformance::{ConformanceKey, ConformanceKeys};
use hsmtls_soft::SoftStore;

pub const KEY_FILES: [&str; 11] = [
    "p256.pkcs8.pem",
    "p384.sec1.pem",
    "p521.pkcs8.der",
    "bp256.sec1.pem",
    "bp256.sec1.der",
    "bp384.pkcs8.pem",
    "bp512.pkcs8.der",
    "rsa2048.pkcs8.pem",
    "rsa2048.pkcs1.pem",
    "rsa2048.pkcs1.der",
    "ed25519.pkcs8.pem",
];

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
}

/// Every test key, imported into `store`.
pub fn conformance_keys(store: &SoftStore) -> ConformanceKeys {
    let keys = KEY_FILES
        .iter()
        .map(|f| {
            let private = store
                .import_private_key(&read(f))
                .unwrap_or_else(|e| panic!("importing {f}: {e}"));
            let public_key = store.public_key(&private).unwrap();
            ConformanceKey {
                private,
                public_key,
                algorithms: Vec::new(),
            }
        })
        .collect();
    ConformanceKeys { keys }
}

pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
