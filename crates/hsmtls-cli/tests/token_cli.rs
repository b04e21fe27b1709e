//! `hsmtls token` administration against the linked hsmtls-token in a
//! temporary `--token-dir`: init → keygen → list (attributes, never
//! values) → mechanisms → change-pin (old PIN refused, new one works) →
//! delete; import of PEM keys and certificates; one-line errors for an
//! unknown curve, a wrong or locked PIN, a missing token and an
//! ambiguous delete; the SO resetting a locked user PIN.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hsmtls-token-cli-{name}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn hsmtls(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hsmtls"))
        .args(args)
        .output()
        .expect("run hsmtls")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Succeeds or panics with the output; returns stdout.
fn ok(args: &[&str]) -> String {
    let o = hsmtls(args);
    assert!(o.status.success(), "hsmtls {args:?}:\n{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Fails with one `hsmtls: …` line on stderr containing `want`.
fn fails(args: &[&str], want: &str) -> String {
    let o = hsmtls(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        !o.status.success(),
        "hsmtls {args:?} succeeded:\n{}",
        text(&o)
    );
    assert!(
        err.starts_with("hsmtls: ") && err.trim_end().lines().count() == 1,
        "not one line: {err}"
    );
    assert!(err.contains(want), "{want:?} not in {err}");
    err
}

struct Token {
    dir: PathBuf,
    tok: String,
    pin: PathBuf,
    so: PathBuf,
}

impl Token {
    fn new(name: &str) -> Self {
        let dir = temp_dir(name);
        let pin = dir.join("pin");
        let so = dir.join("so-pin");
        std::fs::write(&pin, "1234\n").unwrap();
        std::fs::write(&so, "87654321\n").unwrap();
        let tok = dir.join("token");
        ok(&[
            "token",
            "init",
            "--token-dir",
            s(&tok),
            "--token",
            "gw",
            "--pin-file",
            s(&pin),
            "--so-pin-file",
            s(&so),
        ]);
        let tok = tok.display().to_string();
        Self { dir, tok, pin, so }
    }

    /// `hsmtls token CMD --module hsmtls-token --token-dir … --token gw`
    /// then `extra`.
    fn args<'a>(&'a self, cmd: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec![
            "token",
            cmd,
            "--module",
            "hsmtls-token",
            "--token-dir",
            &self.tok,
            "--token",
            "gw",
        ];
        v.extend_from_slice(extra);
        v
    }

    fn pin_file(&self, name: &str, pin: &str) -> &'static str {
        let path = self.dir.join(name);
        std::fs::write(&path, format!("{pin}\n")).unwrap();
        Box::leak(path.display().to_string().into_boxed_str())
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

impl Drop for Token {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn init_keygen_list_mechanisms_change_pin_delete() {
    let t = Token::new("life");
    let pin = s(&t.pin);

    let slots = ok(&t.args("slots", &[]));
    assert!(
        slots.contains("token \"gw\": hsmtls hsmtls-token"),
        "{slots}"
    );
    assert!(
        slots.contains("flags: initialized, login required, user PIN initialized"),
        "{slots}"
    );
    assert!(slots.contains("token (not initialized)"), "{slots}");

    let made = ok(&t.args(
        "keygen",
        &[
            "--pin-file",
            pin,
            "--object",
            "k1",
            "--type",
            "ec",
            "--curve",
            "brainpoolP256r1",
        ],
    ));
    assert!(
        made.contains("CKO_PRIVATE_KEY  CKK_EC  brainpoolP256r1"),
        "{made}"
    );
    ok(&t.args(
        "keygen",
        &[
            "--pin-file",
            pin,
            "--object",
            "a1",
            "--type",
            "aes",
            "--bits",
            "256",
            "--id",
            "a1a1",
        ],
    ));

    let list = ok(&t.args("list", &["--pin-file", pin]));
    let private = list
        .lines()
        .find(|l| l.starts_with("CKO_PRIVATE_KEY") && l.contains("label=\"k1\""))
        .unwrap_or_else(|| panic!("{list}"));
    for want in [
        "CKK_EC",
        "brainpoolP256r1",
        "256 bits",
        "id=6b31",
        "  token  ",
        "  sensitive  ",
        "non-extractable",
        "pkcs11:token=gw;object=k1;type=private;id=%6b%31",
    ] {
        assert!(private.contains(want), "{want:?} not in {private}");
    }
    assert!(
        list.contains("CKO_PUBLIC_KEY  CKK_EC  brainpoolP256r1"),
        "{list}"
    );
    let aes = list
        .lines()
        .find(|l| l.contains("label=\"a1\""))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        aes.starts_with("CKO_SECRET_KEY  CKK_AES  256 bits"),
        "{aes}"
    );
    assert!(
        aes.contains("id=a1a1") && aes.contains("non-extractable"),
        "{aes}"
    );
    assert!(!list.contains("VALUE"), "{list}");

    let mechs = ok(&t.args("mechanisms", &[]));
    let ecdsa = mechs
        .lines()
        .find(|l| l.starts_with("CKM_ECDSA_SHA256 "))
        .unwrap_or_else(|| panic!("{mechs}"));
    assert!(ecdsa.contains("0x00001044"), "{ecdsa}");
    assert!(ecdsa.contains("sign verify"), "{ecdsa}");
    assert!(ecdsa.contains("key size 256..521"), "{ecdsa}");
    assert!(mechs.contains("CKM_TLS12_MASTER_KEY_DERIVE_DH "), "{mechs}");
    assert!(mechs.contains("CKM_AES_KEY_GEN "), "{mechs}");

    // change-pin: the old PIN no longer works, the new one does.
    let new = t.pin_file("new-pin", "24680");
    ok(&t.args("change-pin", &["--pin-file", pin, "--new-pin-file", new]));
    fails(
        &t.args("list", &["--pin-file", pin]),
        "C_Login: CKR_PIN_INCORRECT (0xa0): wrong PIN",
    );
    assert!(ok(&t.args("list", &["--pin-file", new])).contains("label=\"k1\""));
    // A wrong old PIN for change-pin is named too.
    fails(
        &t.args("change-pin", &["--pin-file", pin, "--new-pin-file", new]),
        "CKR_PIN_INCORRECT",
    );

    // delete: by label alone the key pair is ambiguous; by URI it is one.
    fails(
        &t.args("delete", &["--pin-file", new, "pkcs11:object=k1"]),
        "ambiguous: 2 objects match",
    );
    let gone = ok(&t.args(
        "delete",
        &["--pin-file", new, "pkcs11:token=gw;object=k1;type=private"],
    ));
    assert!(gone.starts_with("deleted CKO_PRIVATE_KEY"), "{gone}");
    ok(&t.args(
        "delete",
        &["--pin-file", new, "--object", "k1", "--type", "public"],
    ));
    let list = ok(&t.args("list", &["--pin-file", new]));
    assert!(!list.contains("label=\"k1\""), "{list}");
    assert!(list.contains("label=\"a1\""), "{list}");
    fails(
        &t.args(
            "delete",
            &["--pin-file", new, "--object", "k1", "--type", "private"],
        ),
        "no object matches",
    );
}

#[test]
fn import_pem_key_and_certificate_then_list() {
    let t = Token::new("import");
    let pki = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/pki");
    let key = pki.join("brainpoolP256r1/server.sec1.pem");
    let cert = pki.join("brainpoolP256r1/server.pem");
    let pin = s(&t.pin);
    ok(&t.args(
        "import",
        &[
            "--pin-file",
            pin,
            "--object",
            "srv",
            "--key",
            s(&key),
            "--cert",
            s(&cert),
        ],
    ));
    let list = ok(&t.args("list", &["--pin-file", pin, "--object", "srv"]));
    assert!(list.contains("CKO_CERTIFICATE  label=\"srv\""), "{list}");
    let private = list
        .lines()
        .find(|l| l.starts_with("CKO_PRIVATE_KEY  CKK_EC  brainpoolP256r1"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(private.contains("sensitive  non-extractable"), "{private}");
    let only_certs = ok(&t.args("list", &["--pin-file", pin, "--type", "cert"]));
    assert_eq!(only_certs.lines().count(), 1, "{only_certs}");
    // Not a key: one line naming the file.
    fails(
        &t.args(
            "import",
            &["--pin-file", pin, "--object", "bad", "--key", s(&cert)],
        ),
        "server.pem",
    );
}

#[test]
fn errors_are_one_line() {
    let t = Token::new("errors");
    let pin = s(&t.pin);
    fails(
        &t.args(
            "keygen",
            &[
                "--pin-file",
                pin,
                "--object",
                "x",
                "--type",
                "ec",
                "--curve",
                "secp999r1",
            ],
        ),
        "--curve: unknown curve \"secp999r1\"",
    );
    fails(
        &t.args(
            "keygen",
            &[
                "--pin-file",
                pin,
                "--object",
                "x",
                "--type",
                "rsa",
                "--bits",
                "1024",
            ],
        ),
        "2048 to 4096",
    );
    fails(
        &t.args(
            "keygen",
            &[
                "--pin-file",
                pin,
                "--object",
                "x",
                "--type",
                "aes",
                "--bits",
                "100",
            ],
        ),
        "128, 192 or 256",
    );
    fails(&t.args("list", &[]), "--pin-file");
    fails(
        &[
            "token",
            "list",
            "--module",
            "hsmtls-token",
            "--token-dir",
            &t.tok,
            "--token",
            "nope",
            "--pin-file",
            pin,
        ],
        "no token labelled \"nope\"",
    );
    fails(&["token", "mechanisms"], "needs --module");
    fails(
        &t.args("delete", &["--pin-file", pin, "--object", "x"]),
        "--object LABEL and --type CLASS",
    );
    fails(
        &t.args("list", &["--pin-file", pin, "--type", "key"]),
        "unknown class \"key\"",
    );
    ok(&t.args(
        "keygen",
        &["--pin-file", pin, "--object", "dup", "--type", "aes"],
    ));
    fails(
        &t.args(
            "keygen",
            &["--pin-file", pin, "--object", "dup", "--type", "aes"],
        ),
        "already holds 1 object(s) labelled \"dup\"",
    );

    // Ten wrong PINs lock the user PIN; then even the right one is
    // refused, until the security officer sets a new one.
    let wrong = t.pin_file("wrong", "0000");
    for _ in 0..9 {
        fails(&t.args("list", &["--pin-file", wrong]), "CKR_PIN_INCORRECT");
    }
    let slots = ok(&t.args("slots", &[]));
    assert!(slots.contains("user PIN final try"), "{slots}");
    fails(&t.args("list", &["--pin-file", wrong]), "CKR_PIN_LOCKED");
    assert!(ok(&t.args("slots", &[])).contains("user PIN locked"));
    fails(
        &t.args("list", &["--pin-file", pin]),
        "CKR_PIN_LOCKED (0xa4): the PIN is locked",
    );
    let new = t.pin_file("reset", "13579");
    fails(
        &t.args("change-pin", &["--so-pin-file", pin, "--new-pin-file", new]),
        "(SO PIN): C_Login: CKR_PIN_INCORRECT",
    );
    ok(&t.args(
        "change-pin",
        &["--so-pin-file", s(&t.so), "--new-pin-file", new],
    ));
    assert!(ok(&t.args("list", &["--pin-file", new])).contains("label=\"dup\""));
    assert!(!ok(&t.args("slots", &[])).contains("locked"));
}
