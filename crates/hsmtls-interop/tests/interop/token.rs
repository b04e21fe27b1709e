//! hsmtls in token mode against real peers: every handshake secret and
//! the long-term key inside hsmtls-token (`--module hsmtls-token`, policy
//! strict), the peer an ordinary OpenSSL or GnuTLS.
//!
//! Each test makes its own token in a temporary directory with `hsmtls
//! token init` (the PIN in a file) and stores the test PKI's key and
//! certificate there with `hsmtls token import`; hsmtls then names them by
//! PKCS#11 URI (`--key pkcs11:token=…;object=client;type=private`, the
//! certificate by URI plus `--chain`, or from a file). Every hsmtls process
//! must say on stderr that the secrets are in the token, strictly.
//!
//! One server per test serves all its connections, one after the other.

use std::process::Command;
use std::time::{Duration, Instant};

use hsmtls_interop::{
    default_timeout, hsmtls_bin, openssl_s_client, openssl_s_server, peer_command, require_netns,
    require_tools, run, spawn_server, timeout_scale, Netns, NetnsOutput, Peer, RunOutput, TempDir,
};

use crate::common::{
    hsmtls_client, hsmtls_client_argv, p, suite, trace_message, Show, Show2, Suite, Summary, GET,
};

/// The ECDSA suites every test here runs: AES-128-GCM and AES-128-CBC-SHA256
/// (encrypt-then-MAC).
const GCM: &str = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
const CBC: &str = "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256";

fn tools() -> bool {
    require_tools(&["openssl", "stdbuf", "timeout"])
}

/// A fresh hsmtls-token token in a temporary directory, holding the key
/// and certificate of some roles (`client`, `server`) of a test PKI kind.
struct Token {
    dir: TempDir,
    label: &'static str,
    kind: &'static str,
}

impl Token {
    /// `hsmtls token init` (PIN from a file), then `hsmtls token import` of
    /// `testdata/pki/<kind>/<role>.key` and `<role>.pem` as object `<role>`.
    fn new(kind: &'static str, label: &'static str, roles: &[&str]) -> Token {
        let dir = TempDir::new("token");
        std::fs::write(dir.join("user.pin"), "8642\n").expect("write user.pin");
        let t = Token { dir, label, kind };
        let mut init = Command::new(hsmtls_bin());
        init.args(["token", "init", "--token-dir"])
            .arg(t.token_dir())
            .args(["--token", label, "--pin-file"])
            .arg(t.pin_file());
        let out = run("hsmtls token init", init, b"", default_timeout());
        assert!(out.success(), "{}", Show("hsmtls token init", &out.output));
        assert!(
            out.stderr
                .contains(&format!("hsmtls: token \"{label}\" created")),
            "{}",
            Show("hsmtls token init", &out.output)
        );
        for role in roles {
            let mut import = Command::new(hsmtls_bin());
            import
                .args(["token", "import"])
                .args(t.store_args())
                .args(["--token", label, "--object", role, "--key"])
                .arg(p(kind, &format!("{role}.key")))
                .arg("--cert")
                .arg(p(kind, &format!("{role}.pem")));
            let out = run("hsmtls token import", import, b"", default_timeout());
            let ctx = Show("hsmtls token import", &out.output);
            assert!(out.success(), "{ctx}");
            assert!(
                out.stderr.contains(&format!(
                    "hsmtls: stored pkcs11:token={label};object={role}"
                )),
                "{ctx}"
            );
        }
        t
    }

    fn token_dir(&self) -> String {
        self.dir.join("token").display().to_string()
    }

    fn pin_file(&self) -> String {
        self.dir.join("user.pin").display().to_string()
    }

    /// `--module hsmtls-token --token-dir D --pin-file F --policy strict`.
    fn store_args(&self) -> Vec<String> {
        vec![
            "--module".into(),
            "hsmtls-token".into(),
            "--token-dir".into(),
            self.token_dir(),
            "--pin-file".into(),
            self.pin_file(),
            "--policy".into(),
            "strict".into(),
        ]
    }

    /// The store, `--key pkcs11:…` of `role`, and its certificate: by URI
    /// with `--chain inter.pem` (`cert_uri`), or `<role>.chain.pem`.
    fn role_args(&self, role: &str, cert_uri: bool) -> Vec<String> {
        let mut v = self.store_args();
        v.extend([
            "--key".into(),
            format!("pkcs11:token={};object={role};type=private", self.label),
            "--cert".into(),
        ]);
        if cert_uri {
            v.extend([
                format!("pkcs11:token={};object={role};type=cert", self.label),
                "--chain".into(),
                p(self.kind, "inter.pem"),
            ]);
        } else {
            v.push(p(self.kind, &format!("{role}.chain.pem")));
        }
        v
    }

    /// The line every hsmtls process on this token prints on stderr.
    fn strict_line(&self) -> String {
        format!(
            "hsmtls: key store: PKCS#11 token \"{}\" in hsmtls-token, policy strict \
             (every secret in the token)\n",
            self.label
        )
    }
}

/// `hsmtls server --listen 127.0.0.1:<free port> <args>` (no files added),
/// ready once it prints "listening on".
fn token_server(args: &[String]) -> Peer {
    let bin = hsmtls_bin().display().to_string();
    spawn_server(
        "hsmtls server (token)",
        |port| {
            let mut cmd = peer_command(&bin, ["server", "--listen", &format!("127.0.0.1:{port}")]);
            cmd.args(args);
            cmd
        },
        "hsmtls: listening on",
    )
}

/// Output of `peer` from byte `from` on, once `done` holds for it (waits up
/// to 5 s; returns what there is either way).
fn tail_when(peer: &Peer, from: usize, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(5) * timeout_scale();
    loop {
        let tail = peer.output().get(from..).unwrap_or("").to_string();
        if done(&tail) || Instant::now() >= deadline {
            return tail;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What an OpenSSL `-trace` of a TLS 1.2 ServerHello must say about `s`:
/// the suite, EMS, and encrypt-then-MAC exactly for CBC.
#[track_caller]
fn check_server_hello(trace: &str, s: &Suite, ctx: &dyn std::fmt::Display) {
    let sh =
        trace_message(trace, "ServerHello").unwrap_or_else(|| panic!("no ServerHello traced{ctx}"));
    assert!(
        sh.contains(&format!("}} {}", s.iana)),
        "ServerHello suite{ctx}"
    );
    assert!(sh.contains("extended_master_secret(23)"), "no EMS{ctx}");
    assert_eq!(
        sh.contains("encrypt_then_mac(22)"),
        s.cbc,
        "encrypt_then_mac exactly for CBC{ctx}"
    );
}

/// `openssl s_server -www -trace -Verify 1` (client certificate required
/// and verified) with `kind`'s chain, plus `extra`.
fn s_server_mutual(kind: &str, extra: &[&str]) -> Peer {
    let (cert, inter, key, ca) = (
        p(kind, "server.pem"),
        p(kind, "inter.pem"),
        p(kind, "server.key"),
        p(kind, "ca.pem"),
    );
    let mut args = vec![
        "-cert",
        &cert,
        "-cert_chain",
        &inter,
        "-key",
        &key,
        "-www",
        "-trace",
        "-Verify",
        "1",
        "-CAfile",
        &ca,
        "-verify_return_error",
    ];
    args.extend_from_slice(extra);
    openssl_s_server(&args)
}

/// One TLS 1.2 connection of the token client (`args` after `--ca`) to an
/// `s_server_mutual`, checked on both sides: our summary and strict line;
/// s_server's page (cipher, EMS, our certificate's subject), its verify
/// callback (the subject again), its trace (ServerHello, the group, our
/// CertificateVerify).
#[track_caller]
fn token_client_tls12(
    server: &Peer,
    tok: &Token,
    s: &Suite,
    group: (&str, &str),
    args: &[String],
) -> RunOutput {
    let kind = tok.kind;
    let from = server.output().len();
    let mut a = vec!["--ca".to_string(), p(kind, "ca.pem")];
    a.extend(args.iter().cloned());
    let addr = format!("127.0.0.1:{}", server.port().expect("port"));
    let out = hsmtls_client(&addr, &a, GET);
    let srv = tail_when(server, from, |t| {
        t.matches("    Finished, Length=").count() >= 2
    });
    let ctx = Show2("hsmtls client (token)", &out.output, "s_server", &srv);
    assert!(out.success(), "client failed{ctx}");
    assert!(out.stderr.contains(&tok.strict_line()), "{ctx}");
    let sum = Summary::parse(&out.stderr, "hsmtls: ").unwrap_or_else(|| panic!("no summary{ctx}"));
    sum.check(s, Some(group.0), false, &ctx);
    // s_server's page.
    assert!(
        out.stdout
            .contains(&format!("New, TLSv1.2, Cipher is {}\n", s.openssl)),
        "{ctx}"
    );
    assert!(
        out.stdout.contains("Extended master secret: yes\n"),
        "{ctx}"
    );
    let subject = format!("O=hsmtls test, CN=hsmtls test {kind} client");
    assert!(out.stdout.contains("Client certificate\n"), "{ctx}");
    assert!(
        out.stdout.contains(&format!("Subject: {subject}\n")),
        "{ctx}"
    );
    // s_server's verify callback and trace.
    assert!(
        srv.contains(&format!("depth=0 {}\n", subject.replace('=', " = "))),
        "{ctx}"
    );
    check_server_hello(&srv, s, &ctx);
    let ske = trace_message(&srv, "ServerKeyExchange").unwrap_or("");
    assert!(ske.contains(&format!("named_curve: {}", group.1)), "{ctx}");
    assert!(
        trace_message(&srv, "CertificateVerify").is_some_and(|cv| cv.contains("ecdsa_")),
        "our CertificateVerify{ctx}"
    );
    out
}

// ------------------------------------------ token client → openssl s_server

/// Token client with its P-256 key and certificate in the token, mutual
/// authentication to `s_server -Verify 1`, secp256r1: AES-128-GCM and
/// AES-128-CBC-SHA256 (ETM); the CBC session resumed by `--reconnect`
/// (s_server's ticket, the master secret still a token object); the key
/// from a file (a session object in the token); TLS 1.3 with the client
/// certificate too.
#[test]
fn token_client_to_s_server_p256_mutual_auth() {
    if !tools() {
        return;
    }
    let k = "ecdsa-p256";
    let tok = Token::new(k, "gw", &["client"]);
    let server = s_server_mutual(k, &["-groups", "P-256:X25519"]);
    let secp = ("secp256r1", "secp256r1 (P-256) (23)");
    for (s, cert_uri) in [(GCM, true), (CBC, false)] {
        let s = suite(s);
        let mut a = tok.role_args("client", cert_uri);
        a.extend(["--tls12", "--groups", "secp256r1", "--ciphers", s.iana].map(String::from));
        token_client_tls12(&server, &tok, s, secp, &a);
    }
    // The key from a file, imported into the token as a session object:
    // still every secret in the token.
    let s = suite(GCM);
    let mut a = tok.store_args();
    a.extend(
        [
            "--key",
            &p(k, "client.key"),
            "--cert",
            &p(k, "client.chain.pem"),
        ]
        .map(String::from),
    );
    a.extend(["--tls12", "--groups", "secp256r1", "--ciphers", s.iana].map(String::from));
    token_client_tls12(&server, &tok, s, secp, &a);

    // --reconnect: the second connection resumes (abbreviated handshake).
    let s = suite(CBC);
    let from = server.output().len();
    let mut a = vec!["--ca".to_string(), p(k, "ca.pem")];
    a.extend(tok.role_args("client", true));
    a.extend(["--tls12", "--ciphers", s.iana, "--reconnect"].map(String::from));
    let addr = format!("127.0.0.1:{}", server.port().unwrap());
    let out = hsmtls_client(&addr, &a, GET);
    let srv = tail_when(&server, from, |t| {
        t.matches("    Finished, Length=").count() >= 4
    });
    let ctx = Show2(
        "hsmtls client (token, reconnect)",
        &out.output,
        "s_server",
        &srv,
    );
    assert!(out.success(), "{ctx}");
    assert!(out.stderr.contains(&tok.strict_line()), "{ctx}");
    Summary::parse(&out.stderr, "hsmtls: first: ")
        .expect("first summary")
        .check(s, None, false, &ctx);
    Summary::parse(&out.stderr, "hsmtls: reconnect: ")
        .expect("reconnect summary")
        .check(s, None, true, &ctx);
    assert!(
        out.stdout
            .contains(&format!("Reused, TLSv1.2, Cipher is {}\n", s.openssl)),
        "{ctx}"
    );
    assert_eq!(srv.matches("    ServerHello, Length=").count(), 2, "{ctx}");
    assert_eq!(
        srv.matches("    CertificateVerify, Length=").count(),
        1,
        "{ctx}"
    );

    // TLS 1.3, client certificate signed in the token.
    let from = server.output().len();
    let mut a = vec!["--ca".to_string(), p(k, "ca.pem")];
    a.extend(tok.role_args("client", true));
    a.extend(["--tls13", "--groups", "secp256r1"].map(String::from));
    let out = hsmtls_client(&addr, &a, GET);
    let srv = tail_when(&server, from, |t| {
        t.matches("    Finished, Length=").count() >= 2
    });
    let ctx = Show2(
        "hsmtls client (token, TLS 1.3)",
        &out.output,
        "s_server",
        &srv,
    );
    assert!(out.success(), "{ctx}");
    assert!(out.stderr.contains(&tok.strict_line()), "{ctx}");
    let sum = Summary::parse(&out.stderr, "hsmtls: ").expect("summary");
    assert_eq!(sum.get("version"), "TLSv1.3", "{ctx}");
    assert_eq!(sum.get("group"), "secp256r1", "{ctx}");
    assert!(out.stdout.contains("New, TLSv1.3, Cipher is TLS_"), "{ctx}");
    assert!(
        out.stdout
            .contains("Subject: O=hsmtls test, CN=hsmtls test ecdsa-p256 client\n"),
        "{ctx}"
    );
    assert!(
        trace_message(&srv, "CertificateVerify")
            .is_some_and(|cv| cv.contains("ecdsa_secp256r1_sha256")),
        "{ctx}"
    );
}

/// Token client, brainpoolP256r1 PKI, `--profile tr03109` (mutual
/// authentication, EMS and ETM required) against `s_server -groups
/// brainpoolP256r1 -tls1_2` with the brainpool server certificate.
#[test]
fn token_client_to_s_server_brainpool_tr03109() {
    if !tools() {
        return;
    }
    let k = "brainpoolP256r1";
    let tok = Token::new(k, "gateway", &["client"]);
    let server = s_server_mutual(k, &["-tls1_2", "-groups", "brainpoolP256r1"]);
    let bp = ("brainpoolP256r1", "brainpoolP256r1 (26)");
    for (s, cert_uri) in [(GCM, true), (CBC, true)] {
        let s = suite(s);
        let mut a = tok.role_args("client", cert_uri);
        a.extend(["--profile", "tr03109", "--ciphers", s.iana].map(String::from));
        token_client_tls12(&server, &tok, s, bp, &a);
    }
}

// ---------------------------------------- openssl s_client → token server

/// `openssl s_client -trace -ign_eof` (`kind`'s CA, SNI localhost, verify
/// errors fatal) with a GET, against `server`.
fn s_client(server: &Peer, kind: &str, args: &[&str]) -> RunOutput {
    let ca = p(kind, "ca.pem");
    let mut a = vec![
        "-CAfile",
        &ca,
        "-verify_return_error",
        "-servername",
        "localhost",
        "-trace",
        "-ign_eof",
    ];
    a.extend_from_slice(args);
    openssl_s_client(server.port().expect("port"), &a, GET)
}

/// The server summary lines after byte `from`, once there are `n`.
fn server_lines(server: &Peer, from: usize, n: usize) -> (String, Vec<Summary>) {
    let tail = tail_when(server, from, |t| Summary::all_server(t).len() >= n);
    let lines = Summary::all_server(&tail);
    (tail, lines)
}

/// One TLS 1.2 s_client connection to a token server, checked on both
/// sides: s_client's summary, its trace of our ServerHello, our page, our
/// summary line. `temp_key` is what s_client says after "Server Temp Key: ".
#[track_caller]
fn s_client_tls12(
    server: &Peer,
    kind: &str,
    s: &Suite,
    temp_key: &str,
    resumed: bool,
    args: &[&str],
) -> RunOutput {
    let from = server.output().len();
    let mut a = vec!["-tls1_2", "-cipher", s.openssl];
    a.extend_from_slice(args);
    let out = s_client(server, kind, &a);
    let (srv, lines) = server_lines(server, from, 1);
    let ctx = Show2("s_client", &out.output, "hsmtls server (token)", &srv);
    assert!(out.success(), "s_client failed{ctx}");
    let how = if resumed { "Reused" } else { "New" };
    assert!(
        out.stdout
            .contains(&format!("{how}, TLSv1.2, Cipher is {}\n", s.openssl)),
        "{ctx}"
    );
    assert!(out.stdout.contains("Extended master secret: yes"), "{ctx}");
    assert!(out.stdout.contains("Verify return code: 0 (ok)"), "{ctx}");
    check_server_hello(&out.stdout, s, &ctx);
    if !resumed {
        assert!(
            out.stdout
                .contains(&format!("Server Temp Key: {temp_key}\n")),
            "{ctx}"
        );
    }
    // A token server seals no tickets.
    assert!(!out.stdout.contains("NewSessionTicket, Length="), "{ctx}");
    // Our page and log line.
    assert!(
        out.stdout.contains(&format!("Cipher    : {}\n", s.iana)),
        "{ctx}"
    );
    assert!(
        out.stdout.contains("Extended master secret: yes\n"),
        "{ctx}"
    );
    let etm = if s.cbc { "yes" } else { "no" };
    assert!(
        out.stdout.contains(&format!("Encrypt-then-MAC: {etm}\n")),
        "{ctx}"
    );
    assert_eq!(lines.len(), 1, "{ctx}");
    lines[0].check(s, None, resumed, &ctx);
    out
}

/// s_client → hsmtls server with its P-256 key (and certificate, by URI)
/// in the token: AES-128-GCM and AES-128-CBC-SHA256 (ETM) with EMS,
/// resumption by session ID (`-sess_out`/`-sess_in`: no ticket),
/// TLS 1.3 (no ticket either), and six connections at once.
#[test]
fn s_client_to_token_server_p256() {
    if !tools() {
        return;
    }
    let k = "ecdsa-p256";
    let tok = Token::new(k, "admin", &["server"]);
    let mut args = tok.role_args("server", true);
    args.push("--http".into());
    let server = token_server(&args);
    let ctx = Show("hsmtls server (token)", &server.output());
    assert!(server.output().contains(&tok.strict_line()), "{ctx}");
    let temp = "ECDH, prime256v1, 256 bits";
    s_client_tls12(&server, k, suite(GCM), temp, false, &["-groups", "P-256"]);

    let dir = TempDir::new("token-sess");
    let sess = dir.join("cbc.pem").display().to_string();
    let s = suite(CBC);
    let first = s_client_tls12(
        &server,
        k,
        s,
        temp,
        false,
        &["-groups", "P-256", "-sess_out", &sess],
    );
    assert!(
        !first.stdout.contains("TLS session ticket:"),
        "{}",
        Show("s_client", &first.output)
    );
    s_client_tls12(&server, k, s, temp, true, &["-sess_in", &sess]);

    // TLS 1.3: every secret still in the token.
    let from = server.output().len();
    let out = s_client(&server, k, &["-tls1_3", "-groups", "P-256"]);
    let (srv, lines) = server_lines(&server, from, 1);
    let ctx = Show2(
        "s_client (TLS 1.3)",
        &out.output,
        "hsmtls server (token)",
        &srv,
    );
    assert!(out.success(), "{ctx}");
    assert!(out.stdout.contains("New, TLSv1.3, Cipher is TLS_"), "{ctx}");
    assert!(out.stdout.contains("Verify return code: 0 (ok)"), "{ctx}");
    assert!(
        out.stdout.contains(&format!("Server Temp Key: {temp}\n")),
        "{ctx}"
    );
    assert!(!out.stdout.contains("NewSessionTicket"), "{ctx}");
    assert!(out.stdout.contains("Protocol  : TLSv1.3\n"), "{ctx}");
    assert_eq!(lines.len(), 1, "{ctx}");
    assert_eq!(lines[0].get("version"), "TLSv1.3", "{ctx}");
    assert_eq!(lines[0].get("group"), "secp256r1", "{ctx}");

    // Connections in parallel (the store's session pool): TLS 1.2 GCM and
    // CBC, TLS 1.3.
    let from = server.output().len();
    let variants: [&[&str]; 3] = [
        &["-tls1_2", "-cipher", suite(GCM).openssl],
        &["-tls1_2", "-cipher", suite(CBC).openssl],
        &["-tls1_3"],
    ];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let server = &server;
                scope.spawn(move || (i, s_client(server, k, variants[i % 3])))
            })
            .collect();
        for h in handles {
            let (i, out) = h.join().expect("s_client thread");
            let ctx = Show("s_client (parallel)", &out.output);
            assert!(out.success(), "{ctx}");
            let want = match i % 3 {
                0 => suite(GCM).iana,
                1 => suite(CBC).iana,
                _ => "TLS_AES_",
            };
            assert!(out.stdout.contains(&format!("Cipher    : {want}")), "{ctx}");
            assert!(out.stdout.contains("Verify return code: 0 (ok)"), "{ctx}");
        }
    });
    let (srv, lines) = server_lines(&server, from, 6);
    assert_eq!(lines.len(), 6, "{}", Show("hsmtls server (token)", &srv));
    assert!(
        !srv.contains("connection failed"),
        "{}",
        Show("hsmtls server", &srv)
    );
}

/// s_client `-groups brainpoolP256r1 -tls1_2` with its client certificate
/// → hsmtls server, `--profile tr03109`, brainpool server key in the token
/// (certificate chain from a file): GCM and CBC; without a client
/// certificate it is refused (the profile requires one).
#[test]
fn s_client_to_token_server_brainpool_tr03109() {
    if !tools() {
        return;
    }
    let k = "brainpoolP256r1";
    let tok = Token::new(k, "admin", &["server"]);
    let mut args = tok.role_args("server", false);
    args.extend([
        "--profile".into(),
        "tr03109".into(),
        "--ca".into(),
        p(k, "ca.pem"),
    ]);
    args.push("--http".into());
    let server = token_server(&args);
    assert!(
        server.output().contains(&tok.strict_line()),
        "{}",
        Show("hsmtls server (token)", &server.output())
    );
    let (cert, inter, key) = (p(k, "client.pem"), p(k, "inter.pem"), p(k, "client.key"));
    let temp = "ECDH, brainpoolP256r1, 256 bits";
    for s in [GCM, CBC] {
        let out = s_client_tls12(
            &server,
            k,
            suite(s),
            temp,
            false,
            &[
                "-groups",
                "brainpoolP256r1",
                "-cert",
                &cert,
                "-cert_chain",
                &inter,
                "-key",
                &key,
            ],
        );
        let ctx = Show("s_client", &out.output);
        assert!(out.stdout.contains("Client certificate: yes\n"), "{ctx}");
        let summary = Summary::all_server(&server.output());
        assert_eq!(
            summary.last().map(|l| l.get("group")),
            Some("brainpoolP256r1"),
            "{}",
            Show("hsmtls server (token)", &server.output())
        );
    }
    let from = server.output().len();
    let out = s_client(&server, k, &["-tls1_2", "-groups", "brainpoolP256r1"]);
    let srv = tail_when(&server, from, |t| t.contains("connection failed"));
    let ctx = Show2(
        "s_client (no certificate)",
        &out.output,
        "hsmtls server",
        &srv,
    );
    assert!(!out.success(), "{ctx}");
    assert!(out.output.contains("alert handshake failure"), "{ctx}");
    assert!(srv.contains("client certificate required"), "{ctx}");
}

// --------------------------------------------- token client → gnutls-serv

const NS_PORT: u16 = 4433;
const NS_ADDR: &str = "127.0.0.1:4433";

/// The gnutls-serv blocks of each connection.
fn serv_blocks(out: &NetnsOutput) -> Vec<&str> {
    out.server_output
        .split("* Accepted connection")
        .skip(1)
        .collect()
}

/// Token client (P-256 key in the token) → gnutls-serv requiring and
/// verifying a client certificate, TLS 1.2, GCM and CBC-SHA256 allowed by
/// an explicit priority (NORMAL omits CBC-SHA256); the CBC session also
/// with `--reconnect` (gnutls-serv's ticket). Inside a private network
/// namespace: gnutls-serv listens on all addresses.
#[test]
fn token_client_to_gnutls_serv() {
    if !require_netns(&["gnutls-serv", "ss", "stdbuf"]) {
        return;
    }
    let k = "ecdsa-p256";
    let tok = Token::new(k, "gw", &["client"]);
    let (gcm, cbc) = (suite(GCM), suite(CBC));
    let priority = format!(
        "NONE:+VERS-TLS1.2:+ECDHE-ECDSA:{}:{}:+SIGN-ALL:+GROUP-ALL:+COMP-NULL",
        gcm.gnutls, cbc.gnutls
    );
    let ca = p(k, "ca.pem");
    // (suite, --reconnect)
    let cases = [(gcm, false), (cbc, false), (cbc, true)];
    let mut ns = Netns::new()
        .server([
            "gnutls-serv",
            "--http",
            "-p",
            &NS_PORT.to_string(),
            "--x509certfile",
            &p(k, "server.chain.pem"),
            "--x509keyfile",
            &p(k, "server.key"),
            "--priority",
            &priority,
            "--require-client-cert",
            "--verify-client-cert",
            "--x509cafile",
            &ca,
        ])
        .wait_port(NS_PORT)
        .stdin(GET);
    for (s, reconnect) in cases {
        let mut a = vec!["--ca".to_string(), ca.clone()];
        a.extend(tok.role_args("client", true));
        a.extend(["--ciphers", s.iana, "--groups", "secp256r1"].map(String::from));
        if reconnect {
            a.push("--reconnect".into());
        }
        ns = ns.client(hsmtls_client_argv(NS_ADDR, &a));
    }
    let out = ns.run();
    assert!(out.all_clients_ok(), "{out}");
    let blocks = serv_blocks(&out);
    let mut next = 0;
    for ((s, reconnect), c) in cases.iter().zip(&out.clients) {
        assert!(c.output.contains(&tok.strict_line()), "{out}");
        if *reconnect {
            Summary::parse(&c.output, "hsmtls: first: ")
                .expect("first summary")
                .check(s, Some("secp256r1"), false, &out);
            Summary::parse(&c.output, "hsmtls: reconnect: ")
                .expect("reconnect summary")
                .check(s, None, true, &out);
        } else {
            Summary::parse(&c.output, "hsmtls: ")
                .expect("summary")
                .check(s, Some("secp256r1"), false, &out);
        }
        // gnutls-serv's page.
        assert!(
            c.output
                .contains("<TD>Protocol version:</TD><TD>TLS1.2</TD>"),
            "{out}"
        );
        // gnutls-serv's log of each connection.
        let n = if *reconnect { 2 } else { 1 };
        let mine = blocks
            .get(next..next + n)
            .unwrap_or_else(|| panic!("too few gnutls-serv blocks\n{out}"));
        next += n;
        let options = if s.cbc {
            "- Options: extended master secret, safe renegotiation, EtM,\n"
        } else {
            "- Options: extended master secret, safe renegotiation,\n"
        };
        for (i, b) in mine.iter().enumerate() {
            let resumed = i == 1;
            let ctx = format!("block {i}: {b}\n{out}");
            assert!(b.contains("- Key Exchange: ECDHE-ECDSA\n"), "{ctx}");
            assert!(b.contains(&format!("-{}\n", s.gnutls_desc)), "{ctx}");
            assert!(b.contains(options), "{ctx}");
            assert_eq!(
                b.contains("*** This is a resumed session"),
                resumed,
                "{ctx}"
            );
            if !resumed {
                assert!(b.contains(" - Using curve: SECP256R1\n"), "{ctx}");
                // Our certificate, verified; our signature made in the token.
                assert!(b.contains("- Status: The certificate is trusted."), "{ctx}");
                assert!(
                    b.contains("Subject: CN=hsmtls test ecdsa-p256 client,O=hsmtls test"),
                    "{ctx}"
                );
                assert!(b.contains("- Client Signature: ECDSA-SHA256"), "{ctx}");
            }
        }
    }
    assert_eq!(next, blocks.len(), "{out}");
}
