//! Links the cdylib with `-z nodelete`: AWS-LC and the Rust runtime
//! register per-thread destructors that live in this library, so it must
//! stay mapped after `dlclose` (threads may exit later and run them).

fn main() {
    let target = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
