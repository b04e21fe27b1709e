//! The built `libhsmtls_token.so` driven by real PKCS#11 clients, as
//! installed by `.ci/run`: OpenSC's `pkcs11-tool` (token and PIN
//! initialisation, mechanism list, EC P-256 key-pair generation, signing,
//! `--test`) and GnuTLS's `p11tool` (token and mechanism lists, ECDSA key
//! generation, `--test-sign`). A missing tool is reported and skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

const SO_PIN: &str = "so-pin-1234";
const PIN: &str = "user-pin-1234";

fn module() -> PathBuf {
    // The cdylib, freshly built (`cargo test` alone does not leave it
    // where a program can load it).
    hsmtls_interop::hsmtls_token_module()
}

fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if !found {
        eprintln!("{tool} not installed: skipped");
    }
    found
}

fn temp_conf(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hsmtls-token-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("token.conf");
    std::fs::write(
        &conf,
        format!("new_tokens = {}\npin_iterations = 1000\n", dir.display()),
    )
    .unwrap();
    conf
}

/// Runs `tool args`, asserts success, returns stdout + stderr.
fn run(conf: &Path, tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .env("HSMTLS_TOKEN_CONF", conf)
        .env("GNUTLS_PIN", PIN)
        .env("GNUTLS_SO_PIN", SO_PIN)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{tool} {args:?} failed:\n{text}");
    text
}

fn init_token(conf: &Path, m: &str, label: &str) {
    let out = run(
        conf,
        "pkcs11-tool",
        &[
            "--module",
            m,
            "--slot-index",
            "0",
            "--init-token",
            "--label",
            label,
            "--so-pin",
            SO_PIN,
        ],
    );
    assert!(out.contains("Token successfully initialized"), "{out}");
    let out = run(
        conf,
        "pkcs11-tool",
        &[
            "--module",
            m,
            "--token-label",
            label,
            "--login",
            "--login-type",
            "so",
            "--so-pin",
            SO_PIN,
            "--init-pin",
            "--new-pin",
            PIN,
        ],
    );
    assert!(out.contains("User PIN successfully initialized"), "{out}");
}

#[test]
fn pkcs11_tool() {
    if !have("pkcs11-tool") {
        return;
    }
    let so = module();
    let m = so.to_str().unwrap();
    let conf = temp_conf("pkcs11-tool");
    init_token(&conf, m, "p11t");
    let p = |args: &[&str]| {
        let mut all = vec!["--module", m, "--token-label", "p11t"];
        all.extend_from_slice(args);
        run(&conf, "pkcs11-tool", &all)
    };
    let mechs = p(&["--list-mechanisms"]);
    for name in [
        "ECDSA-KEY-PAIR-GEN",
        "ECDSA-SHA256",
        "AES-GCM",
        "AES-KEY-WRAP",
    ] {
        assert!(mechs.contains(name), "{name} missing:\n{mechs}");
    }
    let out = p(&[
        "--login",
        "--pin",
        PIN,
        "--keypairgen",
        "--key-type",
        "EC:prime256v1",
        "--label",
        "k1",
        "--id",
        "01",
    ]);
    assert!(out.contains("Private Key Object; EC"), "{out}");
    let dir = conf.parent().unwrap();
    let (msg, sig) = (dir.join("msg"), dir.join("sig"));
    std::fs::write(&msg, b"signed by pkcs11-tool").unwrap();
    p(&[
        "--login",
        "--pin",
        PIN,
        "--sign",
        "--mechanism",
        "ECDSA-SHA256",
        "--id",
        "01",
        "--input-file",
        msg.to_str().unwrap(),
        "--output-file",
        sig.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&sig).unwrap().len(), 64);
    let out = p(&["--login", "--pin", PIN, "--test"]);
    assert!(out.contains("No errors"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn p11tool() {
    if !have("p11tool") || !have("pkcs11-tool") {
        return;
    }
    let so = module();
    let m = so.to_str().unwrap();
    let conf = temp_conf("p11tool");
    init_token(&conf, m, "gnutls");
    let url = "pkcs11:token=gnutls";
    let t = |args: &[&str]| {
        let mut all = vec!["--provider", m];
        all.extend_from_slice(args);
        run(&conf, "p11tool", &all)
    };
    let tokens = t(&["--list-tokens"]);
    assert!(tokens.contains("token=gnutls"), "{tokens}");
    let mechs = t(&["--list-mechanisms", url]);
    assert!(mechs.contains("CKM_ECDSA"), "{mechs}");
    let out = t(&[
        "--login",
        "--generate-privkey",
        "ecdsa",
        "--curve",
        "secp256r1",
        "--label",
        "k2",
        url,
    ]);
    assert!(out.contains("BEGIN PUBLIC KEY"), "{out}");
    let out = t(&["--login", "--test-sign", "pkcs11:token=gnutls;object=k2"]);
    assert!(
        out.contains("Verifying against public key in the token... ok"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(conf.parent().unwrap());
}
