//! python-pkcs11 (PyPI, installed by `.ci/run`) driving the built
//! `libhsmtls_token.so`: `tests/python_pkcs11.py` opens a session, logs in
//! (a wrong PIN first), generates a P-256 key pair and signs/verifies with
//! ECDSA-SHA256, generates an AES-256 key and encrypts/decrypts with GCM
//! (python-pkcs11's default AES template, WRAP with DECRYPT, is refused by
//! the token's usage policy; the script checks that and asks for
//! ENCRYPT|DECRYPT), and digests with SHA-256 and SHA-1.
//! The token and user PIN are initialised here first through `cryptoki`
//! (python-pkcs11 has no `C_InitToken`). Skipped with a message when
//! `python3 -c 'import pkcs11'` fails, except under `CI=true`.

use std::path::Path;
use std::process::Command;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

const SO_PIN: &str = "so-pin-python";
const USER_PIN: &str = "user-pin-python";
const LABEL: &str = "python-pkcs11";

fn have_python_pkcs11() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pkcs11, pkcs11.util.ec"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("python-pkcs11 missing under CI (.ci/run pip-installs it)");
        }
        eprintln!("SKIP: python3 with python-pkcs11 not available (pip install python-pkcs11)");
    }
    ok
}

#[test]
fn python_pkcs11_drives_the_token() {
    if !have_python_pkcs11() {
        return;
    }
    let module = hsmtls_interop::hsmtls_token_module();
    let dir = std::env::temp_dir().join(format!("hsmtls-token-python-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("token.conf");
    std::fs::write(
        &conf,
        format!("new_tokens = {}\npin_iterations = 1000\n", dir.display()),
    )
    .unwrap();

    // Initialise a token and its user PIN, then let go of the module.
    std::env::set_var("HSMTLS_TOKEN_CONF", &conf);
    let p11 = Pkcs11::new(&module).unwrap();
    p11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = p11.get_slots_with_token().unwrap()[0];
    let so = AuthPin::new(SO_PIN.into());
    p11.init_token(slot, &so, LABEL).unwrap();
    {
        let s = p11.open_rw_session(slot).unwrap();
        s.login(UserType::So, Some(&so)).unwrap();
        s.init_pin(&AuthPin::new(USER_PIN.into())).unwrap();
    }
    p11.finalize().unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python_pkcs11.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&module)
        .args([LABEL, USER_PIN])
        .env("HSMTLS_TOKEN_CONF", &conf)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "python_pkcs11.py failed:\n{text}");
    for step in [
        "wrong PIN: PinIncorrect",
        "EC P-256: generate, ECDSA-SHA256 sign/verify: ok",
        "AES with WRAP|DECRYPT: TemplateInconsistent (policy)",
        "AES-256-GCM: generate, encrypt/decrypt, tamper refused: ok",
        "SHA-256, SHA-1 digests: ok",
        "python-pkcs11: ok",
    ] {
        assert!(text.contains(step), "missing {step:?} in:\n{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
