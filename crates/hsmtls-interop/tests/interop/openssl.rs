//! hsmtls against OpenSSL 3.0 (`s_server`, `s_client`) on 127.0.0.1.
//!
//! One `s_server -www -trace` (or one `hsmtls server --http`) per test
//! serves all the connections of that test, one after the other, so the
//! n-th piece of server output belongs to the n-th client. What we check
//! on the OpenSSL side:
//!
//! * the `-www` page / `s_client` summary: "New|Reused, TLSv1.2, Cipher is
//!   …", "Extended master secret: yes", "Server Temp Key: …";
//! * encrypt-then-MAC, which OpenSSL 3.0 prints nowhere else: the
//!   `-trace` decode of the ServerHello (sent by s_server, received by
//!   s_client) lists `encrypt_then_mac(22)` exactly for CBC suites;
//! * the group: `named_curve: …` in the traced ServerKeyExchange.

use std::time::Duration;

use hsmtls_interop::{openssl_s_client, openssl_s_server, require_tools, Peer, RunOutput, TempDir};

use crate::common::{
    hsmtls_client, hsmtls_server, openssl_all_groups, output_since, p, suite, suites,
    trace_message, Auth, Group, Show, Show2, Suite, Summary, GET, GROUPS,
};

fn tools() -> bool {
    require_tools(&["openssl", "stdbuf", "timeout"])
}

/// `openssl s_server -www -trace -tls1_2` with `kind`'s chain and every
/// group named (brainpool needs it), plus `extra`.
fn s_server_www(kind: &str, extra: &[&str]) -> Peer {
    let groups = openssl_all_groups();
    let (cert, inter, key) = (
        p(kind, "server.pem"),
        p(kind, "inter.pem"),
        p(kind, "server.key"),
    );
    let mut args: Vec<&str> = vec![
        "-cert",
        &cert,
        "-cert_chain",
        &inter,
        "-key",
        &key,
        "-www",
        "-tls1_2",
        "-trace",
        "-groups",
        &groups,
    ];
    args.extend_from_slice(extra);
    openssl_s_server(&args)
}

fn addr(server: &Peer) -> String {
    format!("127.0.0.1:{}", server.port().expect("server port"))
}

/// What the OpenSSL trace of a ServerHello must say about `s`.
#[track_caller]
fn check_server_hello_trace(trace: &str, s: &Suite, ctx: &dyn std::fmt::Display) {
    let sh =
        trace_message(trace, "ServerHello").unwrap_or_else(|| panic!("no ServerHello traced{ctx}"));
    assert!(
        sh.contains(&format!("}} {}", s.iana)),
        "ServerHello suite{ctx}"
    );
    assert!(
        sh.contains("extended_master_secret(23)"),
        "ServerHello without EMS{ctx}"
    );
    assert_eq!(
        sh.contains("encrypt_then_mac(22)"),
        s.cbc,
        "ServerHello encrypt_then_mac should be there exactly for CBC{ctx}"
    );
}

/// One hsmtls client → `s_server -www -trace` connection with a full
/// handshake, checked on both sides. `group` is the expected ECDHE group.
#[track_caller]
fn client_full(www: &Www, s: &Suite, group: Option<&Group>, args: &[&str]) -> RunOutput {
    let server = &www.peer;
    let from = server.output().len();
    let ca = p(www.kind, "ca.pem");
    let mut a = vec!["--ca", &ca, "--ciphers", s.iana];
    a.extend_from_slice(args);
    let out = hsmtls_client(&addr(server), &a, GET);
    let srv = output_since(server, from, "ServerHelloDone");
    let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
    assert!(out.success(), "client failed{ctx}");
    let sum = Summary::parse(&out.stderr, "hsmtls: ").unwrap_or_else(|| panic!("no summary{ctx}"));
    sum.check(s, group.map(|g| g.iana), false, &ctx);
    // The page s_server wrote about this session.
    assert!(
        out.stdout
            .contains(&format!("New, TLSv1.2, Cipher is {}\n", s.openssl)),
        "{ctx}"
    );
    assert!(out.stdout.contains("Extended master secret: yes"), "{ctx}");
    // s_server's own trace of what it sent.
    check_server_hello_trace(&srv, s, &ctx);
    if let Some(g) = group {
        let ske = trace_message(&srv, "ServerKeyExchange").unwrap_or("");
        assert!(ske.contains(&format!("named_curve: {}", g.trace)), "{ctx}");
    }
    out
}

/// An `s_server -www -trace` and the PKI kind it serves.
struct Www {
    peer: Peer,
    kind: &'static str,
}

fn www(kind: &'static str, extra: &[&str]) -> Www {
    Www {
        peer: s_server_www(kind, extra),
        kind,
    }
}

// ------------------------------------------------- hsmtls client → s_server

/// Every suite of one authentication against one `s_server -www`.
fn client_suites(auth: Auth) {
    if !tools() {
        return;
    }
    let w = www(auth.kind(), &[]);
    for s in suites(auth) {
        client_full(&w, s, None, &[]);
    }
}

#[test]
fn client_to_s_server_ecdsa_suites() {
    client_suites(Auth::Ecdsa);
}

#[test]
fn client_to_s_server_rsa_suites() {
    client_suites(Auth::Rsa);
}

/// Every group (brainpool named on the server), offered alone by our
/// client, with an RSA certificate so that no certificate curve limits
/// the choice.
#[test]
fn client_to_s_server_groups() {
    if !tools() {
        return;
    }
    let w = www("rsa2048", &[]);
    for g in GROUPS {
        for s in [
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        ] {
            client_full(&w, suite(s), Some(g), &["--groups", g.iana]);
        }
    }
}

/// Brainpool certificates (chain signed with brainpool) with the matching
/// brainpool group, GCM and CBC.
#[test]
fn client_to_s_server_brainpool_certs() {
    if !tools() {
        return;
    }
    for g in GROUPS.iter().filter(|g| g.brainpool) {
        let w = www(g.iana, &["-groups", g.openssl]);
        for s in [
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        ] {
            client_full(&w, suite(s), Some(g), &["--groups", g.iana]);
        }
    }
}

/// Client authentication to `s_server -Verify 1`: s_server names our
/// client certificate on its page.
#[test]
fn client_to_s_server_mutual_auth() {
    if !tools() {
        return;
    }
    let k = "ecdsa-p256";
    let ca = p(k, "ca.pem");
    let w = www(k, &["-Verify", "1", "-CAfile", &ca, "-verify_return_error"]);
    let server = &w.peer;
    let (cert, key) = (p(k, "client.chain.pem"), p(k, "client.key"));
    let s = suite("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256");
    let out = client_full(&w, s, None, &["--cert", &cert, "--key", &key]);
    let ctx = Show2("hsmtls client", &out.output, "s_server", &server.output());
    assert!(out.stdout.contains("Client certificate"), "{ctx}");
    assert!(
        out.stdout
            .contains("Subject: O=hsmtls test, CN=hsmtls test ecdsa-p256 client"),
        "{ctx}"
    );
    // And without a certificate, s_server refuses.
    let out = hsmtls_client(&addr(server), &["--ca", &ca], GET);
    let srv = output_since(server, 0, "peer did not return a certificate");
    let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
    assert!(!out.success(), "{ctx}");
    assert!(srv.contains("peer did not return a certificate"), "{ctx}");
}

/// `--reconnect` resumes: by ticket (s_server's default), and by session
/// ID when s_server issues no tickets.
#[test]
fn client_reconnect_to_s_server() {
    if !tools() {
        return;
    }
    for (extra, ticket) in [(&[][..], true), (&["-no_ticket"][..], false)] {
        let w = www("ecdsa-p256", extra);
        let server = &w.peer;
        let ca = p("ecdsa-p256", "ca.pem");
        for s in [
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        ] {
            let s = suite(s);
            let from = server.output().len();
            let out = hsmtls_client(
                &addr(server),
                &["--ca", &ca, "--ciphers", s.iana, "--reconnect"],
                GET,
            );
            let srv = output_since(server, from, "Finished");
            let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
            assert!(out.success(), "{ctx}");
            let first = Summary::parse(&out.stderr, "hsmtls: first: ").expect("first summary");
            first.check(s, None, false, &ctx);
            let again =
                Summary::parse(&out.stderr, "hsmtls: reconnect: ").expect("reconnect summary");
            again.check(s, None, true, &ctx);
            // s_server's page of the second connection.
            assert!(
                out.stdout
                    .contains(&format!("Reused, TLSv1.2, Cipher is {}\n", s.openssl)),
                "{ctx}"
            );
            assert!(out.stdout.contains("Extended master secret: yes"), "{ctx}");
            // The trace: first a NewSessionTicket or not, then an abbreviated
            // handshake (a second ServerHello, no second Certificate).
            assert_eq!(srv.contains("NewSessionTicket, Length="), ticket, "{ctx}");
            assert_eq!(srv.matches("    ServerHello, Length=").count(), 2, "{ctx}");
            assert_eq!(srv.matches("    Certificate, Length=").count(), 1, "{ctx}");
            let second = &srv[srv.rfind("    ServerHello, Length=").unwrap()..];
            check_server_hello_trace(second, s, &ctx);
            // What our client offered the second time: the ticket, or the
            // session ID s_server gave the first time (and echoes now).
            let hellos: Vec<&str> = srv
                .match_indices("    ClientHello, Length=")
                .map(|(i, _)| &srv[i..])
                .collect();
            let first_id = session_id(trace_message(&srv, "ServerHello").unwrap_or(""));
            let offered_id = session_id(trace_message(hellos[1], "ClientHello").unwrap_or(""));
            let ticket_len = ticket_ext_len(trace_message(hellos[1], "ClientHello").unwrap_or(""));
            if ticket {
                assert!(ticket_len.is_some_and(|n| n > 0), "no ticket offered{ctx}");
            } else {
                assert!(!first_id.is_empty(), "{ctx}");
                assert_eq!(offered_id, first_id, "{ctx}");
                assert_eq!(
                    session_id(trace_message(second, "ServerHello").unwrap_or("")),
                    first_id,
                    "{ctx}"
                );
                assert!(ticket_len.is_none_or(|n| n == 0), "{ctx}");
            }
        }
    }
}

/// The `session_id` of a traced hello ("" if empty or absent).
fn session_id(hello: &str) -> &str {
    hello
        .lines()
        .find_map(|l| l.trim().strip_prefix("session_id (len="))
        .and_then(|rest| rest.split_once(": "))
        .map_or("", |(_, id)| id.trim())
}

/// The length of the session_ticket extension of a traced hello.
fn ticket_ext_len(hello: &str) -> Option<usize> {
    hello
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("extension_type=session_ticket(35), length=")
        })
        .and_then(|n| n.trim().parse().ok())
}

/// A server chain from an unknown root: one line, non-zero exit; s_server
/// receives unknown_ca.
#[test]
fn client_rejects_wrong_ca() {
    if !tools() {
        return;
    }
    let w = www("wrongca", &[]);
    let server = &w.peer;
    let ca = p("ecdsa-p256", "ca.pem");
    let out = hsmtls_client(&addr(server), &["--ca", &ca], GET);
    let srv = output_since(server, 0, "SSL alert number");
    let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
    assert!(!out.success() && out.status.is_some(), "{ctx}");
    assert!(out.stdout.is_empty(), "{ctx}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr{ctx}");
    assert!(
        lines[0].starts_with("hsmtls: ") && lines[0].contains("certificate"),
        "{ctx}"
    );
    assert!(srv.contains("alert unknown ca"), "{ctx}");
}

/// An OpenSSL config file that turns the extended master secret off
/// (OpenSSL 3.0 has no command-line switch for it).
fn no_ems_conf(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.join("no-ems.cnf");
    std::fs::write(
        &path,
        "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n[ssl_sect]\n\
         system_default = system_default_sect\n[system_default_sect]\n\
         Options = -ExtendedMasterSecret\n",
    )
    .expect("write no-ems.cnf");
    path
}

/// `--require-ems` against an s_server without EMS: handshake_failure,
/// seen by s_server; without `--require-ems` the same server works and
/// both sides say EMS is off.
#[test]
fn client_require_ems_vs_s_server_without_ems() {
    if !tools() {
        return;
    }
    let dir = TempDir::new("noems");
    let conf = no_ems_conf(&dir);
    let k = "ecdsa-p256";
    let server = {
        let (cert, inter, key) = (p(k, "server.pem"), p(k, "inter.pem"), p(k, "server.key"));
        let conf = conf.clone();
        hsmtls_interop::spawn_server(
            "openssl s_server (no EMS)",
            move |port| {
                let mut cmd = hsmtls_interop::peer_command(
                    "openssl",
                    ["s_server", "-accept", &format!("127.0.0.1:{port}")],
                );
                cmd.env("OPENSSL_CONF", &conf).args([
                    "-cert",
                    &cert,
                    "-cert_chain",
                    &inter,
                    "-key",
                    &key,
                    "-www",
                    "-tls1_2",
                ]);
                cmd
            },
            "ACCEPT",
        )
    };
    let ca = p(k, "ca.pem");
    let out = hsmtls_client(&addr(&server), &["--ca", &ca, "--require-ems"], GET);
    let srv = output_since(&server, 0, "SSL alert number");
    let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
    assert!(!out.success() && out.status.is_some(), "{ctx}");
    assert_eq!(out.stderr.lines().count(), 1, "{ctx}");
    assert!(out.stderr.contains("extended master secret"), "{ctx}");
    assert!(srv.contains("alert handshake failure"), "{ctx}");

    let out = hsmtls_client(&addr(&server), &["--ca", &ca], GET);
    let ctx = Show("hsmtls client", &out.output);
    assert!(out.success(), "{ctx}");
    assert!(out.stdout.contains("Extended master secret: no"), "{ctx}");
    let sum = Summary::parse(&out.stderr, "hsmtls: ").expect("summary");
    assert_eq!(sum.get("ems"), "no", "{ctx}");
}

// ------------------------------------------------- s_client → hsmtls server

/// `openssl s_client -tls1_2 -trace … -ign_eof` with a GET: waits for our
/// page and our close.
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

/// One s_client → hsmtls server connection (full handshake unless
/// `resumed`), checked on both sides.
#[track_caller]
fn s_client_checked(
    server: &Peer,
    kind: &str,
    s: &Suite,
    group: Option<&Group>,
    resumed: bool,
    args: &[&str],
) -> RunOutput {
    let from = server.output().len();
    let mut a = vec!["-cipher", s.openssl];
    a.extend_from_slice(args);
    let out = s_client(server, kind, &a);
    let srv = output_since(server, from, "version=");
    let ctx = Show2("s_client", &out.output, "hsmtls server", &srv);
    assert!(out.success(), "s_client failed{ctx}");
    // s_client's own view.
    let how = if resumed { "Reused" } else { "New" };
    assert!(
        out.stdout
            .contains(&format!("{how}, TLSv1.2, Cipher is {}\n", s.openssl)),
        "{ctx}"
    );
    assert!(out.stdout.contains("Extended master secret: yes"), "{ctx}");
    assert!(out.stdout.contains("Verify return code: 0 (ok)"), "{ctx}");
    check_server_hello_trace(&out.stdout, s, &ctx);
    if let Some(g) = group {
        assert!(
            out.stdout
                .contains(&format!("Server Temp Key: {}", g.openssl_temp_key)),
            "{ctx}"
        );
    }
    // Our page and our log line.
    let page = &out.stdout;
    assert!(page.contains(&format!("Cipher    : {}\n", s.iana)), "{ctx}");
    assert!(page.contains("Extended master secret: yes\n"), "{ctx}");
    let etm = if s.cbc { "yes" } else { "no" };
    assert!(
        page.contains(&format!("Encrypt-then-MAC: {etm}\n")),
        "{ctx}"
    );
    let reused = if resumed { "yes" } else { "no" };
    assert!(page.contains(&format!("Reused    : {reused}\n")), "{ctx}");
    let line = srv
        .lines()
        .find(|l| l.contains(" version="))
        .unwrap_or_else(|| panic!("no server summary{ctx}"));
    let peer_prefix = &line[..line.find(" version=").unwrap() + 1];
    let sum = Summary::parse(line, peer_prefix).expect("server summary");
    sum.check(
        s,
        if resumed { None } else { group.map(|g| g.iana) },
        resumed,
        &ctx,
    );
    out
}

/// Every suite of one authentication from s_client to one hsmtls server.
fn s_client_suites(auth: Auth) {
    if !tools() {
        return;
    }
    let server = hsmtls_server(auth.kind(), &["--http"]);
    for s in suites(auth) {
        s_client_checked(&server, auth.kind(), s, None, false, &["-tls1_2"]);
    }
}

#[test]
fn s_client_to_server_ecdsa_suites() {
    s_client_suites(Auth::Ecdsa);
}

#[test]
fn s_client_to_server_rsa_suites() {
    s_client_suites(Auth::Rsa);
}

/// Every group offered alone by s_client (brainpool named), RSA server.
#[test]
fn s_client_to_server_groups() {
    if !tools() {
        return;
    }
    let k = "rsa2048";
    let server = hsmtls_server(k, &["--http"]);
    let s = suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256");
    for g in GROUPS {
        s_client_checked(
            &server,
            k,
            s,
            Some(g),
            false,
            &["-tls1_2", "-groups", g.openssl],
        );
    }
}

/// Brainpool certificates and groups, s_client → hsmtls server.
#[test]
fn s_client_to_server_brainpool_certs() {
    if !tools() {
        return;
    }
    for g in GROUPS.iter().filter(|g| g.brainpool) {
        let server = hsmtls_server(g.iana, &["--http"]);
        for s in [
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        ] {
            s_client_checked(
                &server,
                g.iana,
                suite(s),
                Some(g),
                false,
                &["-tls1_2", "-groups", g.openssl],
            );
        }
    }
}

/// Resumption by session ID (`-no_ticket`) and by ticket, with
/// `-sess_out` / `-sess_in`.
#[test]
fn s_client_resumes_with_server() {
    if !tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = hsmtls_server(k, &["--http"]);
    let dir = TempDir::new("sess");
    for (i, ticket) in [false, true].into_iter().enumerate() {
        for s in [
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        ] {
            let s = suite(s);
            let sess = dir
                .join(format!("{i}-{}.pem", s.iana))
                .display()
                .to_string();
            let mut a = vec!["-tls1_2", "-sess_out", &sess];
            if !ticket {
                a.push("-no_ticket");
            }
            let first = s_client_checked(&server, k, s, None, false, &a);
            let ctx = Show("s_client (first)", &first.output);
            // A ticket was issued exactly when asked for (s_client prints
            // it, and traces our NewSessionTicket).
            assert_eq!(
                first.stdout.contains("TLS session ticket:"),
                ticket,
                "{ctx}"
            );
            assert_eq!(
                first.stdout.contains("NewSessionTicket, Length="),
                ticket,
                "{ctx}"
            );
            let mut a = vec!["-tls1_2", "-sess_in", &sess];
            if !ticket {
                a.push("-no_ticket");
            }
            s_client_checked(&server, k, s, None, true, &a);
        }
    }
}

/// Client authentication required by our server: s_client with its
/// certificate gets in (our page says so); without one it is refused with
/// handshake_failure, which s_client reports.
#[test]
fn s_client_mutual_auth_with_server() {
    if !tools() {
        return;
    }
    for k in ["ecdsa-p256", "rsa2048"] {
        let ca = p(k, "ca.pem");
        let server = hsmtls_server(k, &["--http", "--require-client-cert", "--ca", &ca]);
        let (cert, inter, key) = (p(k, "client.pem"), p(k, "inter.pem"), p(k, "client.key"));
        let s = suites(if k == "rsa2048" {
            Auth::Rsa
        } else {
            Auth::Ecdsa
        })
        .next()
        .unwrap();
        let out = s_client_checked(
            &server,
            k,
            s,
            None,
            false,
            &[
                "-tls1_2",
                "-cert",
                &cert,
                "-cert_chain",
                &inter,
                "-key",
                &key,
            ],
        );
        let ctx = Show("s_client", &out.output);
        assert!(
            out.stdout
                .contains("Client Certificate Types: ECDSA sign, RSA sign"),
            "{ctx}"
        );
        assert!(out.stdout.contains("Client certificate: yes\n"), "{ctx}");

        let from = server.output().len();
        let out = s_client(&server, k, &["-tls1_2"]);
        let srv = output_since(&server, from, "connection failed");
        let ctx = Show2("s_client", &out.output, "hsmtls server", &srv);
        assert!(!out.success(), "{ctx}");
        assert!(out.output.contains("alert handshake failure"), "{ctx}");
        assert!(
            srv.contains("hsmtls: connection failed: ")
                && srv.contains("client certificate required"),
            "{ctx}"
        );
    }
}

/// The server keeps serving while connections come in parallel (many
/// s_clients at once against one hsmtls server).
#[test]
fn s_client_parallel_connections() {
    if !tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = hsmtls_server(k, &["--http"]);
    let s = suite("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| s_client(&server, k, &["-tls1_2", "-cipher", s.openssl])))
            .collect();
        for h in handles {
            let out = h.join().expect("s_client thread");
            let ctx = Show("s_client", &out.output);
            assert!(out.success(), "{ctx}");
            let own = format!("New, TLSv1.2, Cipher is {}\n", s.openssl);
            assert!(out.stdout.contains(&own), "{ctx}");
            assert!(out.stdout.contains("Extended master secret: yes"), "{ctx}");
            assert!(
                out.stdout.contains(&format!("Cipher    : {}\n", s.iana)),
                "{ctx}"
            );
        }
    });
    let done = || Summary::all_server(&server.output()).len() >= 6;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !done() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(done(), "{}", Show("hsmtls server", &server.output()));
}
