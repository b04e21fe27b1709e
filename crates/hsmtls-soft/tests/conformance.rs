//! The key-store API suite of hsmtls-keys, run on the software store.

mod common;

use hsmtls_keys::conformance;
use hsmtls_soft::SoftStore;

#[test]
fn soft_store_passes_the_conformance_suite() {
    let store = SoftStore::new();
    let keys = common::conformance_keys(&store);
    conformance::run_all(&store, &keys);
}
