//! Shared helpers of the PKCS#11 store tests: opening NSS softoken and a
//! fresh SoftHSM2 token, skipping (or failing under CI) when a module is
//! not installed.
#![allow(dead_code)]

pub mod audit;
pub mod tls;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use hsmtls_pkcs11::{
    PinSource, Pkcs11Config, Pkcs11Store, Policy, Relaxation, TokenSelector, NSS_SOFTOKEN_PATH,
    SOFTHSM2_PATH,
};

/// Whether `module` is installed; under `CI=true` a missing module fails
/// the test, elsewhere the test is skipped with a message.
pub fn module_available(module: &str, what: &str) -> bool {
    if Path::new(module).exists() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} ({module}) is not installed; .ci/run installs it");
    }
    eprintln!("SKIP: {what} ({module}) is not installed");
    false
}

/// NSS softoken, strict policy.
pub fn nss() -> Option<Pkcs11Store> {
    if !module_available(NSS_SOFTOKEN_PATH, "NSS softoken (libnss3)") {
        return None;
    }
    Some(
        Pkcs11Store::open(&hsmtls_pkcs11::Pkcs11Config::nss_softoken()).expect("open NSS softoken"),
    )
}

/// A SoftHSM2 token labelled `t` with user PIN 1234, made once per test
/// binary in a temporary directory (`SOFTHSM2_CONF`).
pub fn softhsm_config(policy: Policy) -> Option<Pkcs11Config> {
    if !module_available(SOFTHSM2_PATH, "SoftHSM2 (softhsm2)") {
        return None;
    }
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("hsmtls-p11-softhsm-{}", std::process::id()));
        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens).expect("token directory");
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("softhsm2.conf");
        // Set once, before the module is loaded (SoftHSM2 reads it in
        // C_Initialize), by the first test to get here.
        std::env::set_var("SOFTHSM2_CONF", &conf);
        let out = Command::new("softhsm2-util")
            .args([
                "--init-token",
                "--free",
                "--label",
                "t",
                "--pin",
                "1234",
                "--so-pin",
                "0000",
            ])
            .output()
            .expect("softhsm2-util is installed with softhsm2");
        assert!(
            out.status.success(),
            "softhsm2-util --init-token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    Some(
        Pkcs11Config::new(SOFTHSM2_PATH)
            .token(TokenSelector::Label("t".into()))
            .pin(PinSource::Env("HSMTLS_TEST_PIN".into()))
            .policy(policy),
    )
}

/// SoftHSM2 with the declared PRF relaxation.
pub fn softhsm() -> Option<Pkcs11Store> {
    std::env::set_var("HSMTLS_TEST_PIN", "1234");
    let config = softhsm_config(Policy::Relaxed(vec![Relaxation::SoftwarePrf]))?;
    Some(Pkcs11Store::open(&config).expect("open SoftHSM2 with the PRF relaxation"))
}

/// `libhsmtls_token.so` of this tree, freshly built (see
/// `hsmtls_interop::hsmtls_token_module`).
pub fn token_module() -> std::path::PathBuf {
    hsmtls_interop::hsmtls_token_module()
}

/// The user PIN of the test tokens of hsmtls-token.
pub const TOKEN_PIN: &str = "gateway-pin-1";

/// The label of the test token of hsmtls-token.
pub const TOKEN_LABEL: &str = "gateway";

/// A fresh hsmtls-token token labelled [`TOKEN_LABEL`], user PIN
/// [`TOKEN_PIN`], in a temporary directory (`HSMTLS_TOKEN_CONF`, set
/// before the module is loaded), made once per test binary (the token's
/// slot list is fixed at `C_Initialize`: one free slot), and its
/// strict-policy config.
pub fn hsmtls_token() -> Pkcs11Config {
    static READY: OnceLock<()> = OnceLock::new();
    let module = token_module();
    READY.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("hsmtls-p11-token-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("token directory");
        let conf = dir.join("token.conf");
        std::fs::write(
            &conf,
            format!("new_tokens = {}\npin_iterations = 1000\n", dir.display()),
        )
        .expect("token.conf");
        std::env::set_var("HSMTLS_TOKEN_CONF", &conf);
        hsmtls_pkcs11::init_token(
            &Pkcs11Config::new(&module),
            TOKEN_LABEL,
            "so-pin-0",
            TOKEN_PIN,
        )
        .expect("C_InitToken, C_InitPIN");
    });
    Pkcs11Config::new(&module)
        .token(TokenSelector::Label(TOKEN_LABEL.into()))
        .pin(PinSource::Value(zeroize::Zeroizing::new(TOKEN_PIN.into())))
}
