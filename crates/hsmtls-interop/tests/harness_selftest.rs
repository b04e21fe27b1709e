//! Self-tests of the interop harness and the test PKI, with real peers on
//! both sides (no hsmtls code involved): if these fail, the harness, the
//! PKI or the installed peers are broken, not the library.

use std::time::{Duration, Instant};

use hsmtls_interop::{
    openssl_s_client, openssl_s_server, pki, pki_file, require_netns, require_tools, run,
    wait_listening, Netns, NssDb, Peer,
};

fn p(kind: &str, file: &str) -> String {
    pki_file(kind, file).display().to_string()
}

#[test]
fn pki_layout() {
    for kind in [
        "ecdsa-p256",
        "ecdsa-p384",
        "rsa2048",
        "brainpoolP256r1",
        "brainpoolP384r1",
        "brainpoolP512r1",
        "wrongca",
    ] {
        for f in [
            "ca.pem",
            "ca.der",
            "ca.key",
            "inter.pem",
            "server.pem",
            "server.chain.pem",
            "server.key",
            "server.key.der",
            "client.pem",
            "client.chain.pem",
            "client.key",
            "client.key.der",
        ] {
            assert!(pki(kind).join(f).is_file(), "{kind}/{f} missing");
        }
        let sec1 = pki(kind).join("server.sec1.pem");
        assert_eq!(sec1.is_file(), kind != "rsa2048", "{kind}/server.sec1.pem");
        let key = std::fs::read_to_string(pki(kind).join("server.key")).unwrap();
        assert!(
            key.starts_with("-----BEGIN PRIVATE KEY-----"),
            "{kind}: PKCS#8"
        );
    }
    assert!(pki("expired").join("server.pem").is_file());
}

#[test]
fn peer_output_and_timeouts() {
    // wait_for_output sees a line of a still-running process, and a needle
    // that never comes fails fast once the process closed its output.
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", "echo hello; read x; echo got $x; echo err >&2"]);
    let mut peer = Peer::spawn("sh", cmd).unwrap();
    assert!(peer.wait_for_output("hello", Duration::from_secs(5)));
    peer.write_stdin(b"line\n").unwrap();
    assert!(peer.wait_for_output("got line", Duration::from_secs(5)));
    assert_eq!(
        peer.wait_timeout(Duration::from_secs(5)).unwrap().code(),
        Some(0)
    );
    let t = Instant::now();
    assert!(!peer.wait_for_output("never", Duration::from_secs(10)));
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(peer.stderr().contains("err"));

    // run() kills a command at its timeout.
    let mut cmd = std::process::Command::new("sleep");
    cmd.arg("30");
    let t = Instant::now();
    let out = run("sleep", cmd, b"", Duration::from_millis(300));
    assert!(out.timed_out && !out.success());
    assert!(t.elapsed() < Duration::from_secs(5));
}

/// openssl s_server vs s_client, ecdsa-p256 chain, TLS 1.2 with client
/// authentication on both sides' verification.
#[test]
fn openssl_vs_openssl_ecdsa_p256_mutual() {
    if !require_tools(&["openssl", "stdbuf", "timeout"]) {
        return;
    }
    let k = "ecdsa-p256";
    let server = openssl_s_server(&[
        "-cert",
        &p(k, "server.pem"),
        "-cert_chain",
        &p(k, "inter.pem"),
        "-key",
        &p(k, "server.key"),
        "-Verify",
        "1",
        "-CAfile",
        &p(k, "ca.pem"),
        "-verify_return_error",
        "-naccept",
        "1",
    ]);
    let out = openssl_s_client(
        server.port().unwrap(),
        &[
            "-tls1_2",
            "-CAfile",
            &p(k, "ca.pem"),
            "-verify_return_error",
            "-servername",
            "localhost",
            "-verify_hostname",
            "localhost",
            "-cert",
            &p(k, "client.pem"),
            "-cert_chain",
            &p(k, "inter.pem"),
            "-key",
            &p(k, "client.key"),
        ],
        b"",
    );
    assert!(out.success(), "s_client: {}", out.output);
    assert!(
        out.stdout.contains("Verify return code: 0 (ok)"),
        "{}",
        out.output
    );
    assert!(
        out.stdout.contains("Extended master secret: yes"),
        "{}",
        out.output
    );
    assert!(out.stdout.contains("Protocol  : TLSv1.2"), "{}", out.output);
    assert!(
        server.wait_for_output("CN = hsmtls test ecdsa-p256 client", Duration::from_secs(5)),
        "s_server: {}",
        server.output()
    );
}

/// A chain from the wrong root is refused by s_client.
#[test]
fn openssl_rejects_wrong_ca() {
    if !require_tools(&["openssl", "stdbuf", "timeout"]) {
        return;
    }
    let server = openssl_s_server(&[
        "-cert",
        &p("wrongca", "server.chain.pem"),
        "-key",
        &p("wrongca", "server.key"),
        "-naccept",
        "1",
    ]);
    assert!(wait_listening(
        server.port().unwrap(),
        Duration::from_secs(5)
    ));
    let out = openssl_s_client(
        server.port().unwrap(),
        &[
            "-CAfile",
            &p("ecdsa-p256", "ca.pem"),
            "-verify_return_error",
        ],
        b"",
    );
    assert!(!out.success(), "{}", out.output);
    assert!(
        out.output
            .contains("unable to get local issuer certificate"),
        "{}",
        out.output
    );
}

/// brainpoolP256r1: certificate chain and ECDHE group, OpenSSL on both
/// sides, TLS 1.2 (OpenSSL has brainpool only there and only when named).
#[test]
fn openssl_vs_openssl_brainpool_p256_tls12() {
    if !require_tools(&["openssl", "stdbuf", "timeout"]) {
        return;
    }
    let k = "brainpoolP256r1";
    let server = openssl_s_server(&[
        "-cert",
        &p(k, "server.pem"),
        "-cert_chain",
        &p(k, "inter.pem"),
        "-key",
        &p(k, "server.key"),
        "-groups",
        "brainpoolP256r1",
        "-tls1_2",
        "-naccept",
        "1",
    ]);
    let out = openssl_s_client(
        server.port().unwrap(),
        &[
            "-tls1_2",
            "-groups",
            "brainpoolP256r1",
            "-CAfile",
            &p(k, "ca.pem"),
            "-verify_return_error",
        ],
        b"",
    );
    assert!(out.success(), "s_client: {}", out.output);
    assert!(
        out.stdout.contains("Verify return code: 0 (ok)"),
        "{}",
        out.output
    );
    assert!(
        out.stdout
            .contains("Server Temp Key: ECDH, brainpoolP256r1, 256 bits"),
        "{}",
        out.output
    );
    assert!(
        out.stdout.contains("Extended master secret: yes"),
        "{}",
        out.output
    );
}

/// gnutls-serv (listens on all addresses) vs gnutls-cli, both in a private
/// loopback namespace; TLS 1.2 with ECDHE-ECDSA-AES128-CBC-SHA256, the
/// smart-meter suite, which needs an explicit priority string.
#[test]
fn gnutls_vs_gnutls_in_netns() {
    if !require_netns(&["gnutls-serv", "gnutls-cli", "ss", "stdbuf"]) {
        return;
    }
    let k = "ecdsa-p256";
    let prio =
        "NONE:+VERS-TLS1.2:+ECDHE-ECDSA:+AES-128-CBC:+SHA256:+SIGN-ALL:+GROUP-ALL:+COMP-NULL";
    let out = Netns::new()
        .server([
            "gnutls-serv",
            "-p",
            "4433",
            "--x509certfile",
            &p(k, "server.chain.pem"),
            "--x509keyfile",
            &p(k, "server.key"),
            "--priority",
            prio,
        ])
        .wait_port(4433)
        .client([
            "gnutls-cli",
            "-p",
            "4433",
            "--x509cafile",
            &p(k, "ca.pem"),
            "--priority",
            prio,
            "localhost",
        ])
        .run();
    assert_eq!(out.client_status(), Some(0), "{out}");
    let c = out.client_output();
    assert!(c.contains("- Options: extended master secret"), "{out}");
    assert!(
        c.contains("(TLS1.2-X.509)-(ECDHE-SECP256R1)-(ECDSA-SHA256)-(AES-128-CBC)-(SHA256)"),
        "{out}"
    );
    assert!(c.contains("- Status: The certificate is trusted."), "{out}");
}

/// NSS selfserv (listens on all addresses) vs tstclnt in a private loopback
/// namespace, with NSS databases made by [`NssDb`] from the test PKI.
#[test]
fn nss_vs_nss_in_netns() {
    if !require_netns(&[
        "selfserv", "tstclnt", "certutil", "pk12util", "openssl", "ss",
    ]) {
        return;
    }
    let k = "ecdsa-p256";
    let sdb = NssDb::with_pki_server(k);
    let cdb = NssDb::new();
    cdb.trust_ca("ca", &pki_file(k, "ca.pem"));
    let out = Netns::new()
        .server([
            "selfserv",
            "-d",
            &sdb.spec(),
            "-p",
            "4433",
            "-e",
            "server",
            "-V",
            "tls1.2:tls1.3",
        ])
        .wait_port(4433)
        .stdin(b"GET / HTTP/1.0\r\n\r\n")
        .client([
            "tstclnt",
            "-d",
            &cdb.spec(),
            "-h",
            "localhost",
            "-p",
            "4433",
            "-V",
            "tls1.2:tls1.2",
            "-c",
            ":C02B",
            "-v",
        ])
        .run();
    // selfserv answers the GET and closes; then tstclnt exits 0. (tstclnt
    // -Q, exit after handshake, hangs now and then.)
    assert_eq!(out.client_status(), Some(0), "{out}");
    let c = out.client_output();
    assert!(c.contains("SSL version 3.3 using 128-bit AES-GCM"), "{out}");
    assert!(c.contains("Extended Master Secret: Yes"), "{out}");
    assert!(c.contains("Server Auth: 256-bit ECDSA"), "{out}");
}

/// The netns run reports a server that never listens, within its timeout.
#[test]
fn netns_server_not_ready_is_bounded() {
    if !require_netns(&["ss"]) {
        return;
    }
    let t = Instant::now();
    let out = Netns::new()
        .server(["sleep", "30"])
        .wait_port(4433)
        .client(["true"])
        .timeout(Duration::from_secs(1))
        .run();
    assert!(t.elapsed() < Duration::from_secs(8), "{out}");
    assert_eq!(out.script_status, Some(98), "{out}");
    assert_eq!(out.client_status(), None, "{out}");
}

/// tlslite-ng's tls.py server with a brainpoolP256r1 chain and its SEC1 key
/// vs openssl s_client, TLS 1.2 (tls.py needs the TLS 1.2 group name
/// `brainpoolP256r1` as well as `brainpoolP256r1tls13` for TLS 1.3).
#[test]
fn tlslite_server_brainpool_tls12_in_netns() {
    if !require_netns(&["tls.py", "openssl", "ss"]) {
        return;
    }
    let k = "brainpoolP256r1";
    let out = Netns::new()
        .server([
            "tls.py",
            "server",
            "-k",
            &p(k, "server.sec1.pem"),
            "-c",
            &p(k, "server.chain.pem"),
            "--groups",
            "brainpoolP256r1,brainpoolP256r1tls13",
            "127.0.0.1:4433",
        ])
        .wait_port(4433)
        .client([
            "openssl",
            "s_client",
            "-connect",
            "127.0.0.1:4433",
            "-tls1_2",
            "-groups",
            "brainpoolP256r1",
            "-CAfile",
            &p(k, "ca.pem"),
            "-verify_return_error",
        ])
        .run();
    assert_eq!(out.client_status(), Some(0), "{out}");
    let c = out.client_output();
    assert!(
        c.contains("Server Temp Key: ECDH, brainpoolP256r1, 256 bits"),
        "{out}"
    );
    assert!(c.contains("Verify return code: 0 (ok)"), "{out}");
    assert!(
        out.server_output.contains("Extended Master Secret: True"),
        "{out}"
    );
}
