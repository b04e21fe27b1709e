//! The `hsmtls` command as a user runs it: the demo, a server and a client
//! over 127.0.0.1, resumption with `--reconnect`, and one-line errors with
//! a non-zero exit for bad flags and files.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hsmtls"))
}

fn pki(kind: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/pki")
        .join(kind)
        .join(file)
}

/// Runs `hsmtls` with `args` and a deadline, feeding `stdin`.
fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hsmtls");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin)
        .expect("write stdin");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("hsmtls {args:?} did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// A server on 127.0.0.1 with an ephemeral port; killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(extra: &[&str]) -> Self {
        let chain = pki("ecdsa-p256", "server.chain.pem");
        let key = pki("ecdsa-p256", "server.key");
        let mut args = vec![
            "--cert".to_string(),
            chain.display().to_string(),
            "--key".to_string(),
            key.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::spawn(&args)
    }

    /// `hsmtls server --listen 127.0.0.1:0` with `args`.
    fn spawn(args: &[String]) -> Self {
        let mut child = bin()
            .args(["server", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn server");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("hsmtls: listening on ") {
                    let _ = tx.send(Ok(addr.to_owned()));
                } else {
                    let _ = tx.send(Err(line));
                }
            }
        });
        let mut lines = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(Ok(addr)) => return Self { child, addr },
                Ok(Err(line)) => lines.push(line),
                Err(_) => panic!("server did not report its address: {lines:?}"),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn check_demo_handshake(text: &str) {
    assert!(
        text.contains("suite=TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
        "{text}"
    );
    assert!(text.contains("group=brainpoolP256r1"), "{text}");
    assert!(text.contains("ems=yes etm=yes"), "{text}");
    assert!(text.contains("TR-03109 profile"), "{text}");
    assert!(
        text.contains("client certificate presented and verified: yes"),
        "{text}"
    );
    for op in [
        "StartKeyExchange",
        "CompleteKeyExchange",
        "Tls12MasterSecret",
        "Sign",
        "Verify",
    ] {
        assert!(
            text.matches(op).count() >= 2,
            "{op} missing on a side:\n{text}"
        );
    }
    assert!(text.contains("meter readings accepted"), "{text}");
}

#[test]
fn demo_runs_a_mutually_authenticated_brainpool_handshake_in_the_token() {
    let dir = std::env::temp_dir().join(format!("hsmtls-cli-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_s = dir.to_str().unwrap();
    for first in [true, false] {
        let out = run(&["demo", "--dir", dir_s], b"");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        check_demo_handshake(&text);
        assert_eq!(text.contains("created token"), first, "{text}");
        assert!(text.contains("every secret in the token"), "{text}");
        for call in [
            "PKCS#11: C_GenerateRandom",
            "PKCS#11: C_GenerateKeyPair CKM_EC_KEY_PAIR_GEN",
            "PKCS#11: C_DeriveKey CKM_ECDH1_DERIVE",
            "PKCS#11: C_DeriveKey CKM_TLS12_EXTENDED_MASTER_KEY_DERIVE_DH",
            "PKCS#11: C_DeriveKey CKM_TLS12_KEY_AND_MAC_DERIVE",
            "PKCS#11: C_Sign CKM_TLS12_MAC",
        ] {
            assert!(text.matches(call).count() >= 2, "{call}:\n{text}");
        }
        for kind in ["KeyShare", "PreMaster", "Master", "TrafficKey", "MacKey"] {
            assert!(
                text.contains(&format!(
                    "({kind}): CKO_{} CKA_TOKEN=false CKA_SENSITIVE=true CKA_EXTRACTABLE=false \
                     CKA_VALUE→CKR_ATTRIBUTE_SENSITIVE",
                    if kind == "KeyShare" {
                        "PRIVATE_KEY"
                    } else {
                        "SECRET_KEY"
                    }
                )),
                "{kind}:\n{text}"
            );
        }
        assert!(!text.contains("CKA_SENSITIVE=false"), "{text}");
        assert!(!text.contains("CKA_EXTRACTABLE=true"), "{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_in_software_mode() {
    let out = run(&["demo", "--soft"], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    check_demo_handshake(&text);
    assert!(text.contains("software store"), "{text}");
    assert!(!text.contains("PKCS#11"), "{text}");
}

#[test]
fn client_talks_to_the_http_server_and_resumes() {
    let server = Server::start(&["--http"]);
    let ca = pki("ecdsa-p256", "ca.pem");
    let out = run(
        &[
            "client",
            "--connect",
            &server.addr,
            "--sni",
            "localhost",
            "--ca",
            ca.to_str().expect("utf-8 path"),
            "--reconnect",
        ],
        b"GET / HTTP/1.0\r\n\r\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("first: version=TLSv1.3"), "{stderr}");
    assert!(
        stderr.contains("reconnect: ") && stderr.contains("resumed=yes"),
        "{stderr}"
    );
    assert!(stdout.starts_with("HTTP/1.0 200 OK"), "{stdout}");
    assert!(stdout.contains("Reused    : yes"), "{stdout}");
}

#[test]
fn client_and_echo_server_with_client_certificate_and_cbc() {
    let ca = pki("ecdsa-p256", "ca.pem");
    let server = Server::start(&[
        "--echo",
        "--require-client-cert",
        "--ca",
        ca.to_str().expect("utf-8 path"),
        "--ciphers",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        "--groups",
        "secp384r1",
    ]);
    let out = run(
        &[
            "client",
            "--connect",
            &server.addr,
            "--sni",
            "localhost",
            "--ca",
            ca.to_str().expect("utf-8 path"),
            "--cert",
            pki("ecdsa-p256", "client.chain.pem")
                .to_str()
                .expect("utf-8 path"),
            "--key",
            pki("ecdsa-p256", "client.key.der")
                .to_str()
                .expect("utf-8 path"),
            "--idle-timeout",
            "300",
        ],
        b"hello through hsmtls\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "suite=TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 group=secp384r1 ems=yes etm=yes"
        ),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello through hsmtls\n"
    );
}

#[test]
fn client_without_the_required_certificate_fails_cleanly() {
    let ca = pki("ecdsa-p256", "ca.pem");
    let server = Server::start(&[
        "--require-client-cert",
        "--ca",
        ca.to_str().expect("utf-8 path"),
    ]);
    let out = run(
        &[
            "client",
            "--connect",
            &server.addr,
            "--sni",
            "localhost",
            "--ca",
            ca.to_str().expect("utf-8 path"),
        ],
        b"",
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("certificate_required") || stderr.contains("handshake_failure"),
        "{stderr}"
    );
}

/// Each bad invocation fails with exit 1 and one `hsmtls: …` line (clap's
/// own usage errors exit 2 with its usage text).
#[test]
fn bad_flags_and_files_give_one_line_errors() {
    let ca = pki("ecdsa-p256", "ca.pem");
    let ca = ca.to_str().expect("utf-8 path");
    let key = pki("ecdsa-p256", "server.key");
    let key = key.to_str().expect("utf-8 path");
    let chain = pki("ecdsa-p256", "server.chain.pem");
    let chain = chain.to_str().expect("utf-8 path");
    let rsa_key = pki("rsa2048", "server.key");
    let rsa_key = rsa_key.to_str().expect("utf-8 path");
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "client",
                "--connect",
                "127.0.0.1:1",
                "--ca",
                "/nonexistent/ca.pem",
            ],
            "cannot read /nonexistent/ca.pem",
        ),
        (
            &["client", "--connect", "127.0.0.1:1", "--ca", key],
            "no CERTIFICATE",
        ),
        (
            &["client", "--connect", "127.0.0.1", "--ca", ca],
            "expected HOST:PORT",
        ),
        (
            &[
                "client",
                "--connect",
                "127.0.0.1:1",
                "--ca",
                ca,
                "--ciphers",
                "TLS_FOO",
            ],
            "unknown cipher suite \"TLS_FOO\"",
        ),
        (
            &[
                "client",
                "--connect",
                "127.0.0.1:1",
                "--ca",
                ca,
                "--groups",
                "secp256k1",
            ],
            "unknown group \"secp256k1\"",
        ),
        (&["client", "--connect", "127.0.0.1:1"], "needs --ca"),
        (
            &["client", "--connect", "127.0.0.1:1", "--ca", ca],
            "cannot connect",
        ),
        (
            &[
                "server",
                "--listen",
                "127.0.0.1:0",
                "--cert",
                chain,
                "--key",
                rsa_key,
            ],
            "certificate key is",
        ),
        (
            &[
                "server",
                "--listen",
                "127.0.0.1:0",
                "--cert",
                chain,
                "--key",
                ca,
            ],
            "invalid key",
        ),
        (
            &["server", "--listen", "127.0.0.1:0", "--cert", chain],
            "--cert and --key go together",
        ),
        (
            &[
                "server", "--listen", "nonsense", "--cert", chain, "--key", key,
            ],
            "cannot listen on nonsense",
        ),
        (&["bench", "handshake", "TLS_NOPE"], "unknown cipher suite"),
    ];
    for (args, expected) in cases {
        let out = run(args, b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("hsmtls: ") && stderr.contains(expected),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn bench_runs_every_mode() {
    for mode in ["handshake", "resume", "ticket"] {
        let out = run(
            &[
                "bench",
                mode,
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "--rounds",
                "3",
            ],
            b"",
        );
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("server") && text.contains("client") && text.contains("handshakes/s"),
            "{text}"
        );
    }
    // Both stores in one run: hsmtls-token linked in, with the ratios.
    for mode in ["handshake", "bulk"] {
        let out = run(
            &[
                "bench",
                mode,
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "--store",
                "both",
                "--rounds",
                "2",
            ],
            b"",
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("\tsoft\n")
                && text.contains("token linked:hsmtls-token\n")
                && text.contains("ratio\t"),
            "{text}"
        );
    }
    let out = run(
        &[
            "bench",
            "bulk",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
            "--key",
            "rsa2048",
            "--rounds",
            "1",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("send") && text.contains("recv") && text.contains("MB/s"),
        "{text}"
    );
}

/// A fresh hsmtls-token token labelled `gw` in a temporary directory,
/// made with `hsmtls token init` (PIN in a file), holding `kind`'s client
/// and server keys and certificates as token objects (`hsmtls token
/// import`). Returns the directory and the PIN file.
fn token_with_keys(kind: &str) -> (PathBuf, PathBuf) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "hsmtls-cli-token-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pin = dir.join("user.pin");
    std::fs::write(&pin, "2468\n").unwrap();
    let tok = dir.join("token");
    let (tok_s, pin_s) = (tok.display().to_string(), pin.display().to_string());
    let out = run(
        &[
            "token",
            "init",
            "--token-dir",
            &tok_s,
            "--token",
            "gw",
            "--pin-file",
            &pin_s,
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for role in ["client", "server"] {
        let key = pki(kind, &format!("{role}.key"));
        let cert = pki(kind, &format!("{role}.der"));
        let out = run(
            &[
                "token",
                "import",
                "--module",
                "hsmtls-token",
                "--token-dir",
                &tok_s,
                "--token",
                "gw",
                "--pin-file",
                &pin_s,
                "--object",
                role,
                "--key",
                key.to_str().unwrap(),
                "--cert",
                cert.to_str().unwrap(),
            ],
            b"",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (tok, pin)
}

/// Client and server each on its own hsmtls-token token (keys found by
/// PKCS#11 URI, PIN from a file and from the URI's pin-source), the
/// TR-03109 profile, brainpoolP256r1, over 127.0.0.1.
#[test]
fn token_mode_client_and_server_with_the_tr03109_profile() {
    let kind = "brainpoolP256r1";
    let (server_tok, server_pin) = token_with_keys(kind);
    let (client_tok, client_pin) = token_with_keys(kind);
    let ca = pki(kind, "ca.pem").display().to_string();
    let server = Server::spawn(&[
        "--module".into(),
        "hsmtls-token".into(),
        "--token-dir".into(),
        server_tok.display().to_string(),
        "--pin-file".into(),
        server_pin.display().to_string(),
        "--key".into(),
        "pkcs11:token=gw;object=server;type=private".into(),
        "--cert".into(),
        pki(kind, "server.chain.pem").display().to_string(),
        "--profile".into(),
        "tr03109".into(),
        "--ca".into(),
        ca.clone(),
        "--ciphers".into(),
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256".into(),
    ]);
    let key_uri = format!(
        "pkcs11:token=gw;object=client;type=private?pin-source={}",
        client_pin.display()
    );
    let out = run(
        &[
            "client",
            "--connect",
            &server.addr,
            "--sni",
            "localhost",
            "--module",
            "hsmtls-token",
            "--token-dir",
            &client_tok.display().to_string(),
            "--key",
            &key_uri,
            "--cert",
            "pkcs11:token=gw;object=client;type=cert",
            "--chain",
            &pki(kind, "inter.pem").display().to_string(),
            "--profile",
            "tr03109",
            "--groups",
            "brainpoolP256r1",
            "--ca",
            &ca,
            "--idle-timeout",
            "300",
        ],
        b"meter readings\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "key store: PKCS#11 token \"gw\" in hsmtls-token, policy strict (every secret in the token)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "version=TLSv1.2 suite=TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 group=brainpoolP256r1 \
             ems=yes etm=yes"
        ),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "meter readings\n");
    let _ = std::fs::remove_dir_all(server_tok.parent().unwrap());
    let _ = std::fs::remove_dir_all(client_tok.parent().unwrap());
}

/// Token-mode mistakes: one `hsmtls: …` line, exit 1.
#[test]
fn token_mode_errors_are_one_line() {
    let (tok, pin) = token_with_keys("ecdsa-p256");
    let tok = tok.display().to_string();
    let pin = pin.display().to_string();
    let ca = pki("ecdsa-p256", "ca.pem").display().to_string();
    let cert = pki("ecdsa-p256", "client.chain.pem").display().to_string();
    let client = |extra: &[&str]| {
        let mut args = vec!["client", "--connect", "127.0.0.1:1", "--ca", &ca];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let token = [
        "--module",
        "hsmtls-token",
        "--token-dir",
        &tok,
        "--pin-file",
        &pin,
    ];
    let mut cases: Vec<(Vec<String>, String)> = vec![
        (
            client(&["--key", "pkcs11:object=client", "--cert", &cert]),
            "a pkcs11: URI needs --module".into(),
        ),
        (client(&["--pin-file", &pin]), "need --module".into()),
        (
            client(&[&token[..], &["--policy", "lax"]].concat()),
            "--policy: unknown \"lax\"".into(),
        ),
        (
            client(&[&token[..], &["--token", "nope"]].concat()),
            "no such token".into(),
        ),
        (
            client(
                &[
                    &token[..],
                    &["--key", "pkcs11:object=nokey", "--cert", &cert],
                ]
                .concat(),
            ),
            "pkcs11:object=nokey: invalid key: no private key matches the URI".into(),
        ),
        (
            client(&[
                "--module",
                "hsmtls-token",
                "--token-dir",
                &tok,
                "--key",
                "pkcs11:object=client?pin-value=2468",
                "--cert",
                &cert,
            ]),
            "pin-value would put the PIN in the process list".into(),
        ),
        (
            client(&["--profile", "tr03109"]),
            "--profile tr03109 requires a client certificate".into(),
        ),
        (
            client(&["--profile", "tr03109", "--tls13"]),
            "drop --tls13".into(),
        ),
    ];
    if std::path::Path::new("/usr/lib/softhsm/libsofthsm2.so").exists()
        && std::process::Command::new("softhsm2-util")
            .arg("--version")
            .output()
            .is_ok()
    {
        // SoftHSM2 has no TLS mechanisms: strict mode names the one missing.
        let dir = std::path::PathBuf::from(&tok).with_file_name("softhsm");
        std::fs::create_dir_all(dir.join("tokens")).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!("directories.tokendir = {}\n", dir.join("tokens").display()),
        )
        .unwrap();
        let init = std::process::Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args([
                "--init-token",
                "--free",
                "--label",
                "sh",
                "--pin",
                "2468",
                "--so-pin",
                "0000",
            ])
            .output()
            .unwrap();
        assert!(
            init.status.success(),
            "{}",
            String::from_utf8_lossy(&init.stderr)
        );
        std::env::set_var("SOFTHSM2_CONF", &conf);
        cases.push((
            client(&[
                "--module",
                "/usr/lib/softhsm/libsofthsm2.so",
                "--token",
                "sh",
                "--pin-file",
                &pin,
            ]),
            "token \"sh\" has no CKM_".into(),
        ));
    } else {
        eprintln!("SKIP the strict-mode SoftHSM2 case: softhsm2 is not installed");
    }
    for (args, expected) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args, b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("hsmtls: ") && stderr.contains(expected.as_str()),
            "{args:?}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(std::path::PathBuf::from(&tok).parent().unwrap());
}
