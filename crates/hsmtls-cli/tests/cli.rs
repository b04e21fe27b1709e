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
        let mut child = bin()
            .args(["server", "--listen", "127.0.0.1:0", "--cert"])
            .arg(&chain)
            .arg("--key")
            .arg(&key)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn server");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("hsmtls: listening on ") {
                    let _ = tx.send(addr.to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("server did not report its address");
        Self { child, addr }
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
