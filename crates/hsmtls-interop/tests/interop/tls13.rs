//! TLS 1.3 (RFC 8446) interop: hsmtls against OpenSSL 3.0, tlslite-ng
//! (RFC 8734 brainpool), GnuTLS 3.7 and NSS 3.87, in both roles.
//!
//! Peers are left at their defaults (TLS 1.2 and 1.3 offered) unless a
//! test says otherwise, and so is hsmtls, except where `--tls13` pins it:
//! every test checks that TLS 1.3 is what was negotiated, on both sides.
//! What the peers tell us about TLS 1.3:
//!
//! * OpenSSL: "New|Reused, TLSv1.3, Cipher is …" (s_client, `-www`
//!   page), "Server Temp Key", and `-trace`: the HelloRetryRequest (a
//!   ServerHello with the RFC 8446 §4.1.3 random), key_share groups,
//!   CertificateVerify schemes, pre_shared_key, KeyUpdate;
//! * tlslite-ng `tls.py`: "Version: TLS 1.3", "Ciphersuite", "Group used
//!   for key exchange", "Key exchange signature", "Session Resumed";
//! * GnuTLS: "- Description: (TLS1.3-X.509)-(ECDHE-<group>)-(<sig>)-…",
//!   "*** This is a resumed session";
//! * NSS: "SSL version 3.4 using …".

use std::time::Duration;

use hsmtls_interop::{
    default_timeout, hsmtls_bin, openssl_s_client, openssl_s_server, peer_command, require_tools,
    Peer, RunOutput, TempDir,
};

use crate::common::{
    hsmtls_client, hsmtls_client_idle, hsmtls_server, output_since, p, trace_message, Show, Show2,
    Suite13, Summary, CERTS13, GET, GROUPS13, HRR_TRACE, SUITES13,
};

fn openssl_tools() -> bool {
    require_tools(&["openssl", "stdbuf", "timeout"])
}

fn addr(server: &Peer) -> String {
    format!("127.0.0.1:{}", server.port().expect("server port"))
}

/// `openssl s_server -www -trace` with `kind`'s chain (both versions on,
/// OpenSSL's default groups) plus `extra`.
fn s_server13(kind: &str, extra: &[&str]) -> Peer {
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
        "-trace",
    ];
    args.extend_from_slice(extra);
    openssl_s_server(&args)
}

/// The traced handshake messages named `msg` (e.g. "ServerHello"), each
/// up to the next record.
fn traced<'a>(trace: &'a str, msg: &str) -> Vec<&'a str> {
    trace
        .match_indices(&format!("    {msg}, Length="))
        .filter_map(|(i, _)| trace_message(&trace[i..], msg))
        .collect()
}

/// True if a traced ServerHello is a HelloRetryRequest.
fn is_hrr(server_hello: &str) -> bool {
    server_hello.contains(HRR_TRACE.0) && server_hello.contains(HRR_TRACE.1)
}

/// The traced ServerHello that is not a HelloRetryRequest (the last one).
fn real_server_hello(trace: &str) -> &str {
    traced(trace, "ServerHello")
        .into_iter()
        .rfind(|m| !is_hrr(m))
        .unwrap_or("")
}

/// One hsmtls client → `s_server -www -trace` connection expected to be
/// a full TLS 1.3 handshake with `suite` (and `group`, if given),
/// checked on both sides; returns our client's output and the trace.
#[track_caller]
fn client_full13(
    server: &Peer,
    kind: &str,
    suite: &str,
    group: Option<&str>,
    args: &[&str],
) -> (RunOutput, String) {
    let from = server.output().len();
    let ca = p(kind, "ca.pem");
    let mut a = vec!["--ca", &ca];
    a.extend_from_slice(args);
    let out = hsmtls_client(&addr(server), &a, GET);
    let srv = output_since(server, from, "NewSessionTicket");
    let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
    assert!(out.success(), "client failed{ctx}");
    let sum = Summary::parse(&out.stderr, "hsmtls: ").unwrap_or_else(|| panic!("no summary{ctx}"));
    sum.check13(suite, group, false, &ctx);
    // s_server's page and trace.
    assert!(
        out.stdout
            .contains(&format!("New, TLSv1.3, Cipher is {suite}\n")),
        "{ctx}"
    );
    let sh = real_server_hello(&srv);
    assert!(sh.contains(&format!("}} {suite}")), "{ctx}");
    assert!(sh.contains("TLS 1.3 (772)"), "{ctx}");
    (out, srv)
}

// ------------------------------------------------- hsmtls client → s_server

/// Every suite with every certificate kind (ECDSA P-256/P-384, RSA-PSS):
/// s_server's trace shows the suite and the CertificateVerify scheme.
#[test]
fn tls13_client_to_s_server_suites_and_certs() {
    if !openssl_tools() {
        return;
    }
    for c in CERTS13 {
        let server = s_server13(c.kind, &["-www"]);
        for s in SUITES13 {
            let (_, srv) = client_full13(
                &server,
                c.kind,
                s.iana,
                None,
                &["--tls13", "--ciphers", s.iana],
            );
            let cv = traced(&srv, "CertificateVerify");
            assert!(
                cv.first()
                    .is_some_and(|m| m.contains(&format!("Signature Algorithm: {} (", c.scheme))),
                "{}",
                Show("s_server", &srv)
            );
        }
    }
}

/// Every group offered alone by our (default, 1.2 + 1.3) client; the
/// ServerHello's key_share names it.
#[test]
fn tls13_client_to_s_server_groups() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = s_server13(k, &["-www"]);
    for g in GROUPS13 {
        let (_, srv) = client_full13(
            &server,
            k,
            "TLS_AES_256_GCM_SHA384",
            Some(g.iana),
            &["--groups", g.iana, "--ciphers", "TLS_AES_256_GCM_SHA384"],
        );
        let sh = real_server_hello(&srv);
        assert!(
            sh.contains(&format!("NamedGroup: {}", g.trace)),
            "{}",
            Show("s_server", &srv)
        );
        assert!(traced(&srv, "ServerHello").iter().all(|m| !is_hrr(m)));
    }
}

/// `s_server -groups P-384` and our client's key share for x25519 (its
/// first group): s_server sends a HelloRetryRequest for secp384r1, we
/// answer with a second ClientHello and finish on secp384r1.
#[test]
fn tls13_client_hello_retry_from_s_server() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = s_server13(k, &["-www", "-groups", "P-384"]);
    let (_, srv) = client_full13(&server, k, "TLS_AES_128_GCM_SHA256", Some("secp384r1"), &[]);
    let ctx = Show("s_server", &srv);
    let hellos = traced(&srv, "ServerHello");
    assert_eq!(hellos.len(), 2, "{ctx}");
    assert!(is_hrr(hellos[0]), "first ServerHello is no HRR{ctx}");
    assert!(
        hellos[0].contains("NamedGroup: secp384r1 (P-384) (24)"),
        "{ctx}"
    );
    assert!(!is_hrr(hellos[1]), "{ctx}");
    let ch = traced(&srv, "ClientHello");
    assert_eq!(ch.len(), 2, "{ctx}");
    assert!(ch[0].contains("NamedGroup: ecdh_x25519 (29)"), "{ctx}");
    assert!(
        ch[1].contains("NamedGroup: secp384r1 (P-384) (24)"),
        "{ctx}"
    );
}

/// `--reconnect` resumes with the ticket s_server sent (psk_dhe_ke):
/// "Reused, TLSv1.3" on s_server's page, pre_shared_key in both hellos,
/// no second Certificate.
#[test]
fn tls13_client_reconnect_to_s_server() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = s_server13(k, &["-www"]);
    for s in SUITES13 {
        let from = server.output().len();
        let ca = p(k, "ca.pem");
        let out = hsmtls_client(
            &addr(&server),
            &["--ca", &ca, "--ciphers", s.iana, "--reconnect"],
            GET,
        );
        // The second handshake's trace ends with its tickets.
        let _ = output_since(&server, from, "    Certificate, Length=");
        std::thread::sleep(Duration::from_millis(100));
        let srv = server.output()[from..].to_string();
        let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
        assert!(out.success(), "{ctx}");
        let first = Summary::parse(&out.stderr, "hsmtls: first: ").expect("first summary");
        first.check13(s.iana, None, false, &ctx);
        let again = Summary::parse(&out.stderr, "hsmtls: reconnect: ").expect("reconnect summary");
        again.check13(s.iana, None, true, &ctx);
        assert!(
            out.stdout
                .contains(&format!("Reused, TLSv1.3, Cipher is {}\n", s.iana)),
            "{ctx}"
        );
        let ch = traced(&srv, "ClientHello");
        assert_eq!(ch.len(), 2, "{ctx}");
        assert!(!ch[0].contains("psk(41)"), "{ctx}");
        assert!(ch[1].contains("psk(41)"), "{ctx}");
        assert!(ch[1].contains("psk_key_exchange_modes(45)"), "{ctx}");
        let sh = traced(&srv, "ServerHello");
        assert!(sh.last().is_some_and(|m| m.contains("psk(41)")), "{ctx}");
        assert_eq!(srv.matches("    Certificate, Length=").count(), 1, "{ctx}");
    }
}

/// Client certificates to `s_server -Verify 1`: ECDSA and RSA-PSS
/// (s_server names our certificate), and without one s_server refuses.
#[test]
fn tls13_client_mutual_auth_to_s_server() {
    if !openssl_tools() {
        return;
    }
    for k in ["ecdsa-p256", "rsa2048"] {
        let ca = p(k, "ca.pem");
        let server = s_server13(
            k,
            &[
                "-www",
                "-Verify",
                "1",
                "-CAfile",
                &ca,
                "-verify_return_error",
            ],
        );
        let (cert, key) = (p(k, "client.chain.pem"), p(k, "client.key"));
        let (out, srv) = client_full13(
            &server,
            k,
            "TLS_AES_128_GCM_SHA256",
            None,
            &["--cert", &cert, "--key", &key],
        );
        let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
        assert!(
            out.stdout.contains(&format!(
                "Subject: O=hsmtls test, CN=hsmtls test {k} client"
            )),
            "{ctx}"
        );
        // s_server received our Certificate and CertificateVerify.
        assert_eq!(traced(&srv, "CertificateVerify").len(), 2, "{ctx}");
        assert!(traced(&srv, "CertificateRequest").len() == 1, "{ctx}");

        let from = server.output().len();
        let out = hsmtls_client(&addr(&server), &["--ca", &ca], GET);
        let srv = output_since(&server, from, "peer did not return a certificate");
        let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
        assert!(!out.success(), "{ctx}");
        assert!(srv.contains("peer did not return a certificate"), "{ctx}");
        // s_server's alert, as our client reports it.
        assert!(out.stderr.contains("certificate"), "{ctx}");
    }
}

/// `--key-update`: s_server receives our KeyUpdate (update_requested),
/// answers with its own, and the request sent under our new keys is
/// answered under its new keys.
#[test]
fn tls13_client_key_update_to_s_server() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = s_server13(k, &["-www"]);
    let ca = p(k, "ca.pem");
    let from = server.output().len();
    // s_server -www sleeps a second after a record without data.
    let out = hsmtls_client_idle(
        &addr(&server),
        3000,
        &["--ca", &ca, "--tls13", "--key-update"],
        GET,
    );
    let srv = output_since(&server, from, "update_not_requested");
    let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
    assert!(out.success(), "{ctx}");
    assert!(out.stderr.contains("hsmtls: key update sent"), "{ctx}");
    assert!(
        out.stdout
            .contains("New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256"),
        "{ctx}"
    );
    let ku = traced(&srv, "KeyUpdate");
    assert_eq!(ku.len(), 2, "{ctx}");
    assert!(ku[0].contains("update_requested (1)"), "{ctx}");
    assert!(ku[1].contains("update_not_requested (0)"), "{ctx}");
    // Ours was received, then s_server sent its own.
    let recv = srv.find("update_requested (1)").unwrap();
    let sent = srv.find("update_not_requested (0)").unwrap();
    assert!(
        srv[..recv].rfind("Received Record") > srv[..recv].rfind("Sent Record"),
        "{ctx}"
    );
    assert!(
        srv[..sent].rfind("Sent Record") > srv[..sent].rfind("Received Record"),
        "{ctx}"
    );
}

/// s_server's interactive `K` (KeyUpdate, update_requested) to our
/// client: we answer with our own KeyUpdate, and data still flows both
/// ways under the new keys.
#[test]
fn tls13_s_server_key_update_to_client() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let mut server = s_server13(k, &[]);
    let ca = p(k, "ca.pem");
    let mut cmd = peer_command(
        &hsmtls_bin().display().to_string(),
        [
            "client",
            "--connect",
            &addr(&server),
            "--sni",
            "localhost",
            "--ca",
            &ca,
            "--idle-timeout",
            "60000",
        ],
    );
    cmd.env("RUST_BACKTRACE", "0");
    let mut client = Peer::spawn("hsmtls client", cmd).expect("spawn hsmtls client");
    let t = default_timeout();

    assert!(
        server.wait_for_output("CIPHER is TLS_AES_", t),
        "{}",
        both(&client, &server)
    );
    server.write_stdin(b"K\n").expect("s_server stdin");
    assert!(
        server.wait_for_output("update_not_requested (0)", t),
        "{}",
        both(&client, &server)
    );
    server
        .write_stdin(b"from-s_server-after-keyupdate\n")
        .expect("s_server stdin");
    assert!(
        client.wait_for_output("from-s_server-after-keyupdate", t),
        "{}",
        both(&client, &server)
    );
    client
        .write_stdin(b"from-hsmtls-after-keyupdate\n")
        .expect("client stdin");
    assert!(
        server.wait_for_output("from-hsmtls-after-keyupdate", t),
        "{}",
        both(&client, &server)
    );
    let srv = server.output();
    let ku = traced(&srv, "KeyUpdate");
    assert_eq!(ku.len(), 2, "{}", both(&client, &server));
    assert!(
        ku[0].contains("update_requested (1)"),
        "{}",
        both(&client, &server)
    );
    assert!(
        ku[1].contains("update_not_requested (0)"),
        "{}",
        both(&client, &server)
    );
    client.close_stdin();
    client.kill();
}

/// Both sides' output, for assertion messages.
fn both(client: &Peer, server: &Peer) -> String {
    Show2(
        "hsmtls client",
        &client.output(),
        "s_server",
        &server.output(),
    )
    .to_string()
}

/// ALPN: our client offers h2 and http/1.1, `s_server -alpn http/1.1`
/// picks http/1.1 (in EncryptedExtensions).
#[test]
fn tls13_client_alpn_to_s_server() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = s_server13(k, &["-www", "-alpn", "http/1.1"]);
    let (out, srv) = client_full13(
        &server,
        k,
        "TLS_AES_128_GCM_SHA256",
        None,
        &["--alpn", "h2,http/1.1"],
    );
    let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
    let sum = Summary::parse(&out.stderr, "hsmtls: ").expect("summary");
    assert_eq!(sum.get("alpn"), "http/1.1", "{ctx}");
    let ee = traced(&srv, "EncryptedExtensions");
    assert!(
        ee.first()
            .is_some_and(|m| m.contains("application_layer_protocol_negotiation(16)")),
        "{ctx}"
    );
}

/// Our `--tls13` client against `s_server -tls1_2`: we refuse with
/// protocol_version (RFC 8446 §4.2.1), s_server reports the alert; and
/// our default client gets TLS 1.2 there.
#[test]
fn tls13_client_vs_tls12_s_server() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = s_server13(k, &["-www", "-tls1_2"]);
    let ca = p(k, "ca.pem");
    let out = hsmtls_client(&addr(&server), &["--ca", &ca, "--tls13"], GET);
    let srv = output_since(&server, 0, "SSL alert number");
    let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
    assert!(!out.success() && out.status.is_some(), "{ctx}");
    assert_eq!(out.stderr.lines().count(), 1, "{ctx}");
    assert!(out.stderr.contains("version"), "{ctx}");
    // s_server (TLS 1.2 only) sees no version of ours it speaks.
    assert!(srv.contains("unsupported protocol"), "{ctx}");
    assert!(srv.contains("description=protocol version(70)"), "{ctx}");

    let out = hsmtls_client(&addr(&server), &["--ca", &ca], GET);
    let ctx = Show("hsmtls client", &out.output);
    assert!(out.success(), "{ctx}");
    let sum = Summary::parse(&out.stderr, "hsmtls: ").expect("summary");
    assert_eq!(sum.get("version"), "TLSv1.2", "{ctx}");
    assert!(out.stdout.contains("New, TLSv1.2, Cipher is "), "{ctx}");
}

// ------------------------------------------------- s_client → hsmtls server

/// `openssl s_client -trace -ign_eof` (default versions) with a GET.
fn s_client13(server: &Peer, kind: &str, args: &[&str]) -> RunOutput {
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

/// One s_client → our `--http` server connection, TLS 1.3 with `suite`,
/// checked on both sides: s_client's summary and trace, our page and our
/// log line.
#[track_caller]
fn s_client_checked13(
    server: &Peer,
    kind: &str,
    suite: &str,
    group: Option<&str>,
    resumed: bool,
    args: &[&str],
) -> RunOutput {
    let from = server.output().len();
    let out = s_client13(server, kind, args);
    let srv = output_since(server, from, "version=");
    let ctx = Show2("s_client", &out.output, "hsmtls server", &srv);
    assert!(out.success(), "s_client failed{ctx}");
    let how = if resumed { "Reused" } else { "New" };
    assert!(
        out.stdout
            .contains(&format!("{how}, TLSv1.3, Cipher is {suite}\n")),
        "{ctx}"
    );
    assert!(out.stdout.contains("Verify return code: 0 (ok)"), "{ctx}");
    let page = &out.stdout;
    assert!(page.contains("Protocol  : TLSv1.3\n"), "{ctx}");
    assert!(page.contains(&format!("Cipher    : {suite}\n")), "{ctx}");
    let reused = if resumed { "yes" } else { "no" };
    assert!(page.contains(&format!("Reused    : {reused}\n")), "{ctx}");
    if let Some(g) = group {
        assert!(page.contains(&format!("Group     : {g}\n")), "{ctx}");
    }
    let line = srv
        .lines()
        .find(|l| l.contains(" version="))
        .unwrap_or_else(|| panic!("no server summary{ctx}"));
    let prefix = &line[..line.find(" version=").unwrap() + 1];
    let sum = Summary::parse(line, prefix).expect("server summary");
    sum.check13(suite, group, resumed, &ctx);
    out
}

/// Every suite (`-ciphersuites`) with every certificate kind; s_client
/// traces the CertificateVerify scheme it checked.
#[test]
fn tls13_s_client_to_server_suites_and_certs() {
    if !openssl_tools() {
        return;
    }
    for c in CERTS13 {
        let server = hsmtls_server(c.kind, &["--http"]);
        for s in SUITES13 {
            let out = s_client_checked13(
                &server,
                c.kind,
                s.iana,
                None,
                false,
                &["-ciphersuites", s.iana],
            );
            let cv = traced(&out.stdout, "CertificateVerify");
            assert!(
                cv.first()
                    .is_some_and(|m| m.contains(&format!("Signature Algorithm: {} (", c.scheme))),
                "{}",
                Show("s_client", &out.output)
            );
        }
    }
}

/// Every group offered alone by s_client: "Server Temp Key" and our page.
#[test]
fn tls13_s_client_to_server_groups() {
    if !openssl_tools() {
        return;
    }
    let k = "rsa2048";
    let server = hsmtls_server(k, &["--http"]);
    for g in GROUPS13 {
        let out = s_client_checked13(
            &server,
            k,
            "TLS_AES_256_GCM_SHA384",
            Some(g.iana),
            false,
            &[
                "-groups",
                g.openssl,
                "-ciphersuites",
                "TLS_AES_256_GCM_SHA384",
            ],
        );
        let ctx = Show("s_client", &out.output);
        assert!(
            out.stdout
                .contains(&format!("Server Temp Key: {}\n", g.openssl_temp_key)),
            "{ctx}"
        );
        assert!(
            traced(&out.stdout, "ServerHello")
                .iter()
                .all(|m| !is_hrr(m)),
            "{ctx}"
        );
    }
}

/// Our server `--groups secp384r1` and s_client's default key share
/// (x25519): we send a HelloRetryRequest, s_client traces it and retries
/// with secp384r1.
#[test]
fn tls13_server_hello_retry_to_s_client() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = hsmtls_server(k, &["--http", "--groups", "secp384r1"]);
    let out = s_client_checked13(
        &server,
        k,
        "TLS_AES_256_GCM_SHA384",
        Some("secp384r1"),
        false,
        &["-ciphersuites", "TLS_AES_256_GCM_SHA384"],
    );
    let ctx = Show("s_client", &out.output);
    let hellos = traced(&out.stdout, "ServerHello");
    assert_eq!(hellos.len(), 2, "{ctx}");
    assert!(is_hrr(hellos[0]), "{ctx}");
    assert!(
        hellos[0].contains("NamedGroup: secp384r1 (P-384) (24)"),
        "{ctx}"
    );
    let ch = traced(&out.stdout, "ClientHello");
    assert_eq!(ch.len(), 2, "{ctx}");
    assert!(
        ch[1].contains("NamedGroup: secp384r1 (P-384) (24)"),
        "{ctx}"
    );
    assert!(
        out.stdout
            .contains("Server Temp Key: ECDH, secp384r1, 384 bits\n"),
        "{ctx}"
    );
}

/// `--hrr-cookie`: our HelloRetryRequest carries a cookie (RFC 8446
/// §4.2.2), s_client echoes it in its second ClientHello, and we accept
/// the echo.
#[test]
fn tls13_server_hello_retry_cookie_to_s_client() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = hsmtls_server(k, &["--http", "--groups", "secp384r1", "--hrr-cookie"]);
    let out = s_client_checked13(
        &server,
        k,
        "TLS_AES_128_GCM_SHA256",
        Some("secp384r1"),
        false,
        &["-ciphersuites", "TLS_AES_128_GCM_SHA256"],
    );
    let ctx = Show("s_client", &out.output);
    let hellos = traced(&out.stdout, "ServerHello");
    assert_eq!(hellos.len(), 2, "{ctx}");
    assert!(is_hrr(hellos[0]), "{ctx}");
    assert!(
        hellos[0].contains("extension_type=cookie_ext(44), length=34"),
        "{ctx}"
    );
    let ch = traced(&out.stdout, "ClientHello");
    assert_eq!(ch.len(), 2, "{ctx}");
    assert!(
        ch[1].contains("extension_type=cookie_ext(44), length=34"),
        "{ctx}"
    );
}

/// `-sess_out` / `-sess_in`: s_client resumes with our ticket, "Reused,
/// TLSv1.3", and our page says so.
#[test]
fn tls13_s_client_resumes_with_server() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = hsmtls_server(k, &["--http"]);
    let dir = TempDir::new("sess13");
    for s in SUITES13 {
        let sess = dir.join(format!("{}.pem", s.iana)).display().to_string();
        let first = s_client_checked13(
            &server,
            k,
            s.iana,
            None,
            false,
            &["-ciphersuites", s.iana, "-sess_out", &sess],
        );
        let ctx = Show("s_client (first)", &first.output);
        assert!(first.stdout.contains("NewSessionTicket, Length="), "{ctx}");
        let again = s_client_checked13(
            &server,
            k,
            s.iana,
            None,
            true,
            &["-ciphersuites", s.iana, "-sess_in", &sess],
        );
        let ctx = Show("s_client (again)", &again.output);
        let sh = real_server_hello(&again.stdout);
        assert!(sh.contains("psk(41)"), "{ctx}");
        assert_eq!(traced(&again.stdout, "Certificate").len(), 0, "{ctx}");
    }
}

/// 0-RTT from `openssl s_client -early_data` to our server
/// (`--max-early-data`, `--http`): the early data is accepted (s_client
/// says so) and logged, and the request that follows the handshake is
/// answered. (A replayed ClientHello's early data is refused:
/// tests/tls13_early_data.rs.)
#[test]
fn tls13_s_client_early_data_to_server() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = hsmtls_server(k, &["--max-early-data", "4096", "--http"]);
    let dir = TempDir::new("early13");
    let sess = dir.join("sess.pem").display().to_string();
    let early = dir.join("early.txt");
    std::fs::write(&early, b"EARLY-0RTT-REQUEST").unwrap();
    let early = early.display().to_string();
    let first = s_client13(&server, k, &["-sess_out", &sess]);
    let ctx = Show("s_client (first)", &first.output);
    assert!(first.success(), "{ctx}");
    let from = server.output().len();
    let again = s_client13(&server, k, &["-sess_in", &sess, "-early_data", &early]);
    let srv = output_since(&server, from, "early data: ");
    let ctx = Show2("s_client (0-RTT)", &again.output, "hsmtls server", &srv);
    assert!(again.success(), "{ctx}");
    assert!(again.stdout.contains("Early data was accepted"), "{ctx}");
    assert!(again.stdout.contains("Reused    : yes\n"), "{ctx}");
    let sum = Summary::parse(&srv, "hsmtls: ").expect("server summary");
    assert_eq!(sum.get("resumed"), "yes", "{ctx}");
    assert_eq!(sum.get("early_data"), "accepted", "{ctx}");
    assert!(srv.contains("early data: 18 bytes"), "{ctx}");
}

/// 0-RTT from our client (`--reconnect --early-data`) to `openssl
/// s_server -early_data`, which prints what it received early.
#[test]
fn tls13_client_early_data_to_s_server() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = s_server13(k, &["-early_data"]);
    let dir = TempDir::new("early13c");
    let early = dir.join("early.txt");
    std::fs::write(&early, b"EARLY-FROM-HSMTLS").unwrap();
    let early = early.display().to_string();
    let ca = p(k, "ca.pem");
    let out = hsmtls_client(
        &addr(&server),
        &["--ca", &ca, "--reconnect", "--early-data", &early],
        b"after the handshake\n",
    );
    let srv = output_since(&server, 0, "End of early data");
    let ctx = Show2("hsmtls client", &out.output, "s_server", &srv);
    assert!(out.success(), "{ctx}");
    let again = Summary::parse(&out.stderr, "hsmtls: reconnect: ").expect("reconnect summary");
    assert_eq!(again.get("resumed"), "yes", "{ctx}");
    assert_eq!(again.get("early_data"), "accepted", "{ctx}");
    assert!(
        srv.contains("Early data received:\nEARLY-FROM-HSMTLS"),
        "{ctx}"
    );
    // The ClientHello carried early_data and the ServerHello's
    // EncryptedExtensions accepted it.
    let ch = traced(&srv, "ClientHello");
    assert!(
        ch.last().is_some_and(|m| m.contains("early_data(42)")),
        "{ctx}"
    );
}

/// Client certificates required by our server: s_client with ECDSA and
/// RSA certificates gets in; without one it receives certificate_required
/// (alert 116, RFC 8446 §4.4.2.4).
#[test]
fn tls13_s_client_mutual_auth_with_server() {
    if !openssl_tools() {
        return;
    }
    for k in ["ecdsa-p256", "rsa2048"] {
        let ca = p(k, "ca.pem");
        let server = hsmtls_server(k, &["--http", "--require-client-cert", "--ca", &ca]);
        let (cert, inter, key) = (p(k, "client.pem"), p(k, "inter.pem"), p(k, "client.key"));
        let out = s_client_checked13(
            &server,
            k,
            "TLS_AES_128_GCM_SHA256",
            None,
            false,
            &["-cert", &cert, "-cert_chain", &inter, "-key", &key],
        );
        let ctx = Show("s_client", &out.output);
        assert!(out.stdout.contains("Client certificate: yes\n"), "{ctx}");
        assert_eq!(traced(&out.stdout, "CertificateRequest").len(), 1, "{ctx}");
        assert_eq!(traced(&out.stdout, "CertificateVerify").len(), 2, "{ctx}");

        let from = server.output().len();
        let out = s_client13(&server, k, &[]);
        let srv = output_since(&server, from, "connection failed");
        let ctx = Show2("s_client", &out.output, "hsmtls server", &srv);
        assert!(
            out.output.contains("SSL alert number 116")
                || out.output.contains("certificate required"),
            "{ctx}"
        );
        assert!(!out.stdout.contains("Protocol  : TLSv1.3"), "{ctx}");
        assert!(
            srv.contains("hsmtls: connection failed: ") && srv.contains("certificate"),
            "{ctx}"
        );
    }
}

/// s_client's interactive `K` (update_requested) and `k` to our echo
/// server: we answer the first with our own KeyUpdate, and echo data
/// sent after each.
#[test]
fn tls13_s_client_key_update_with_server() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = hsmtls_server(k, &["--echo"]);
    let ca = p(k, "ca.pem");
    let mut cmd = peer_command(
        "openssl",
        [
            "s_client",
            "-connect",
            &addr(&server),
            "-CAfile",
            &ca,
            "-verify_return_error",
            "-servername",
            "localhost",
            "-trace",
        ],
    );
    cmd.env("RUST_BACKTRACE", "0");
    let mut client = Peer::spawn("openssl s_client", cmd).expect("spawn s_client");
    let t = default_timeout();
    let ctx =
        |c: &Peer| Show2("s_client", &c.output(), "hsmtls server", &server.output()).to_string();
    assert!(
        client.wait_for_output("Verify return code: 0 (ok)", t),
        "{}",
        ctx(&client)
    );
    for (cmd, data) in [(&b"K\n"[..], "echo-after-K"), (&b"k\n"[..], "echo-after-k")] {
        let from = client.output().len();
        client.write_stdin(cmd).expect("s_client stdin");
        assert!(
            output_since(&client, from, "KEYUPDATE").contains("KEYUPDATE"),
            "{}",
            ctx(&client)
        );
        client
            .write_stdin(format!("{data}\n").as_bytes())
            .expect("s_client stdin");
        // Our echo, as s_client prints it (it does not echo stdin).
        assert!(client.wait_for_output(data, t), "{}", ctx(&client));
    }
    client.close_stdin();
    let _ = client.wait_timeout(Duration::from_secs(5));
    let out = client.output();
    let ku = traced(&out, "KeyUpdate");
    // Sent K (requested), received ours (not requested), sent k.
    assert_eq!(ku.len(), 3, "{}", ctx(&client));
    assert!(ku[0].contains("update_requested (1)"), "{}", ctx(&client));
    assert!(
        ku[1].contains("update_not_requested (0)"),
        "{}",
        ctx(&client)
    );
    assert!(
        ku[2].contains("update_not_requested (0)"),
        "{}",
        ctx(&client)
    );
    let sum = Summary::all_server(&server.output());
    assert_eq!(sum.len(), 1, "{}", ctx(&client));
    assert_eq!(sum[0].get("version"), "TLSv1.3");
}

/// ALPN: s_client offers h2, our server `--alpn h2,http/1.1` picks it.
#[test]
fn tls13_s_client_alpn_with_server() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = hsmtls_server(k, &["--http", "--alpn", "h2,http/1.1"]);
    let out = s_client_checked13(
        &server,
        k,
        "TLS_AES_128_GCM_SHA256",
        None,
        false,
        &["-alpn", "http/1.1,h2"],
    );
    let ctx = Show("s_client", &out.output);
    assert!(out.stdout.contains("ALPN protocol: h2\n"), "{ctx}");
    let srv = server.output();
    let sum = Summary::all_server(&srv);
    assert_eq!(sum[0].get("alpn"), "h2", "{}", Show("hsmtls server", &srv));
}

/// `s_client -tls1_2` against our default server: TLS 1.2 (both sides
/// say so); `-tls1_3` against `--tls12`: refused with protocol_version.
#[test]
fn tls13_version_negotiation_with_s_client() {
    if !openssl_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let server = hsmtls_server(k, &["--http"]);
    let out = s_client13(&server, k, &["-tls1_2"]);
    let ctx = Show2("s_client", &out.output, "hsmtls server", &server.output());
    assert!(out.success(), "{ctx}");
    assert!(out.stdout.contains("New, TLSv1.2, Cipher is "), "{ctx}");
    assert!(out.stdout.contains("Protocol  : TLSv1.2\n"), "{ctx}");

    let server = hsmtls_server(k, &["--http", "--tls12"]);
    let out = s_client13(&server, k, &["-tls1_3"]);
    let srv = output_since(&server, 0, "connection failed");
    let ctx = Show2("s_client", &out.output, "hsmtls server", &srv);
    assert!(!out.success(), "{ctx}");
    assert!(out.output.contains("SSL alert number 70"), "{ctx}");
    assert!(
        out.stdout
            .contains("Level=fatal(2), description=protocol version(70)"),
        "{ctx}"
    );
    assert!(
        srv.contains("hsmtls: connection failed: ") && srv.contains("TLS 1.2"),
        "{ctx}"
    );
}

// --------------------------------------- tlslite-ng: brainpool (RFC 8734)

/// The RFC 8734 groups with their certificate kind and the signature
/// scheme of that kind's CertificateVerify.
const BRAINPOOL13: &[(&str, &str, &str)] = &[
    (
        "brainpoolP256r1tls13",
        "brainpoolP256r1",
        "ecdsa_brainpoolP256r1tls13_sha256",
    ),
    (
        "brainpoolP384r1tls13",
        "brainpoolP384r1",
        "ecdsa_brainpoolP384r1tls13_sha384",
    ),
    (
        "brainpoolP512r1tls13",
        "brainpoolP512r1",
        "ecdsa_brainpoolP512r1tls13_sha512",
    ),
];

fn tlslite_tools() -> bool {
    require_tools(&["tls.py", "stdbuf", "timeout", "ss"])
}

/// hsmtls client (`--tls13 --groups <brainpool>`) → `tls.py server`
/// offering only that group, with the brainpool PKI (SEC1 key): both
/// sides name the group and the RFC 8734 signature scheme.
#[test]
fn tls13_client_to_tlslite_brainpool() {
    if !tlslite_tools() {
        return;
    }
    for &(group, kind, scheme) in BRAINPOOL13 {
        // tls.py serves files from its working directory.
        let dir = TempDir::new("tlslite");
        std::fs::write(dir.join("index.html"), "hsmtls brainpool\n").expect("index.html");
        let (key, chain) = (p(kind, "server.sec1.pem"), p(kind, "server.chain.pem"));
        let server = hsmtls_interop::spawn_server(
            "tls.py server",
            |port| {
                let mut cmd = peer_command(
                    "tls.py",
                    [
                        "server",
                        "-k",
                        &key,
                        "-c",
                        &chain,
                        "--groups",
                        group,
                        &format!("127.0.0.1:{port}"),
                    ],
                );
                cmd.current_dir(dir.path());
                cmd
            },
            "I am an HTTP test server",
        );
        let port = server.port().expect("port");
        assert!(
            hsmtls_interop::wait_listening(port, default_timeout()),
            "{}",
            Show("tls.py server", &server.output())
        );
        let ca = p(kind, "ca.pem");
        let out = hsmtls_client_idle(
            &format!("127.0.0.1:{port}"),
            1000,
            &["--ca", &ca, "--tls13", "--groups", group],
            b"GET /index.html HTTP/1.0\r\n\r\n",
        );
        let srv = output_since(&server, 0, "Session Resumed:");
        let ctx = Show2("hsmtls client", &out.output, "tls.py server", &srv);
        assert!(out.success(), "{ctx}");
        let sum = Summary::parse(&out.stderr, "hsmtls: ").expect("summary");
        assert_eq!(sum.get("version"), "TLSv1.3", "{ctx}");
        assert_eq!(sum.get("group"), group, "{ctx}");
        assert!(out.stdout.contains("hsmtls brainpool"), "{ctx}");
        assert!(srv.contains("  Version: TLS 1.3\n"), "{ctx}");
        assert!(
            srv.contains(&format!("  Group used for key exchange: {group}\n")),
            "{ctx}"
        );
        assert!(
            srv.contains(&format!("  Key exchange signature: {scheme}\n")),
            "{ctx}"
        );
        assert!(
            srv.contains(&format!("  Ciphersuite: {}\n", sum.get("suite"))),
            "{ctx}"
        );
    }
}

/// `tls.py client --resumption` → our server `--tls13 --groups
/// <brainpool>`: tls.py offers the RFC 8734 groups but sends key shares
/// for secp256r1 and x25519 only, so we ask for the brainpool share with
/// a HelloRetryRequest; then tls.py resumes with our ticket.
#[test]
fn tls13_tlslite_client_to_server_brainpool() {
    if !tlslite_tools() {
        return;
    }
    for &(group, kind, scheme) in BRAINPOOL13 {
        let server = hsmtls_server(kind, &["--http", "--tls13", "--groups", group]);
        let port = server.port().expect("port");
        let mut cmd = peer_command(
            "tls.py",
            ["client", "--resumption", &format!("localhost:{port}")],
        );
        cmd.env("RUST_BACKTRACE", "0");
        let out = hsmtls_interop::run("tls.py client", cmd, b"", default_timeout());
        let srv = output_since(&server, 0, "resumed=yes");
        let ctx = Show2("tls.py client", &out.output, "hsmtls server", &srv);
        assert!(out.success(), "{ctx}");
        assert_eq!(out.stdout.matches("Handshake success").count(), 2, "{ctx}");
        assert_eq!(
            out.stdout.matches("  Version: TLS 1.3\n").count(),
            2,
            "{ctx}"
        );
        assert_eq!(
            out.stdout
                .matches(&format!("  Group used for key exchange: {group}\n"))
                .count(),
            2,
            "{ctx}"
        );
        assert!(
            out.stdout
                .contains(&format!("  Key exchange signature: {scheme}\n")),
            "{ctx}"
        );
        assert!(out.stdout.contains("  Session Resumed: False\n"), "{ctx}");
        assert!(out.stdout.contains("  Session Resumed: True\n"), "{ctx}");
        let lines = Summary::all_server(&srv);
        assert_eq!(lines.len(), 2, "{ctx}");
        for (sum, resumed) in lines.iter().zip(["no", "yes"]) {
            assert_eq!(sum.get("version"), "TLSv1.3", "{ctx}");
            assert_eq!(sum.get("group"), group, "{ctx}");
            assert_eq!(sum.get("resumed"), resumed, "{ctx}");
        }
    }
}

// ------------------------------------------------------------ GnuTLS 3.7

const NS_PORT: u16 = 4433;
const NS_ADDR: &str = "127.0.0.1:4433";
const GNUTLS13: &str = "NORMAL:-VERS-ALL:+VERS-TLS1.3";

fn gnutls_tools() -> bool {
    hsmtls_interop::require_netns(&["gnutls-serv", "gnutls-cli", "ss", "stdbuf"])
}

/// gnutls-cli to port 4433 (`localhost`) with `priority` and `extra`.
fn gnutls_cli13(kind: &str, priority: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "gnutls-cli".into(),
        "-p".into(),
        NS_PORT.to_string(),
        "--x509cafile".into(),
        p(kind, "ca.pem"),
        "--priority".into(),
        priority.into(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v.push("localhost".into());
    v
}

/// gnutls-cli → our server, one namespace per certificate kind: every
/// suite; with the ECDSA P-256 server also every group, `--resume` and
/// the inline `^rekey^` (KeyUpdate with update_requested).
#[test]
fn tls13_gnutls_cli_to_server() {
    if !gnutls_tools() {
        return;
    }
    for c in CERTS13 {
        let mut ns = hsmtls_interop::Netns::new()
            .server(crate::common::hsmtls_server_argv(
                NS_ADDR,
                c.kind,
                &["--http"],
            ))
            .wait_port(NS_PORT)
            .stdin(GET);
        // (gnutls-cli, expected suite desc, group, resumed)
        let mut cases: Vec<(Vec<String>, &str, &str, bool)> = Vec::new();
        for s in SUITES13 {
            let prio = format!("{GNUTLS13}:-CIPHER-ALL:{}", s.gnutls);
            cases.push((
                gnutls_cli13(c.kind, &prio, &[]),
                s.gnutls_desc,
                "X25519",
                false,
            ));
        }
        if c.kind == "ecdsa-p256" {
            for g in GROUPS13 {
                let prio = format!("{GNUTLS13}:-GROUP-ALL:+GROUP-{}", g.gnutls);
                cases.push((
                    gnutls_cli13(c.kind, &prio, &[]),
                    "(AES-128-GCM)",
                    g.gnutls,
                    false,
                ));
            }
            cases.push((
                gnutls_cli13(c.kind, GNUTLS13, &["--resume"]),
                "(AES-128-GCM)",
                "X25519",
                true,
            ));
        }
        for (argv, ..) in &cases {
            ns = ns.client(argv);
        }
        let rekey = c.kind == "ecdsa-p256";
        if rekey {
            // The rekey line first, then the request under the new keys.
            let argv = gnutls_cli13(c.kind, GNUTLS13, &["--inline-commands"]);
            let line = hsmtls_interop::sh_join(&argv);
            ns = ns.client_sh(&format!(
                "printf '^rekey^\\nGET / HTTP/1.0\\r\\n\\r\\n' | {line}"
            ));
        }
        let out = ns.run();
        let mut expect: Vec<(&str, bool)> = Vec::new();
        for ((_, desc, group, resumed), cl) in cases.iter().zip(&out.clients) {
            assert_eq!(cl.status, Some(0), "{out}");
            let o = &cl.output;
            let want = format!(
                "- Description: (TLS1.3-X.509)-(ECDHE-{group})-({})-{desc}\n",
                c.gnutls
            );
            assert!(o.contains(&want), "want {want:?}\n{out}");
            assert!(o.contains("- Status: The certificate is trusted."), "{out}");
            assert_eq!(
                o.contains("*** This is a resumed session"),
                *resumed,
                "{out}"
            );
            assert!(o.contains("Protocol  : TLSv1.3\n"), "{out}");
            let reused = if *resumed { "yes" } else { "no" };
            assert!(o.contains(&format!("Reused    : {reused}\n")), "{out}");
            expect.push(("no", false));
            if *resumed {
                expect.push(("yes", true));
            }
        }
        if rekey {
            let cl = out.clients.last().unwrap();
            assert_eq!(cl.status, Some(0), "{out}");
            assert!(cl.output.contains("- Rekey was completed"), "{out}");
            assert!(cl.output.contains("Protocol  : TLSv1.3\n"), "{out}");
            expect.push(("no", false));
        }
        let lines = Summary::all_server(&out.server_output);
        assert_eq!(lines.len(), expect.len(), "{out}");
        for (sum, (resumed, _)) in lines.iter().zip(&expect) {
            assert_eq!(sum.get("version"), "TLSv1.3", "{out}");
            assert_eq!(sum.get("resumed"), *resumed, "{out}");
        }
    }
}

/// gnutls-cli with a client certificate → our server requiring one; and
/// without one: refused (certificate_required).
#[test]
fn tls13_gnutls_cli_mutual_auth_with_server() {
    if !gnutls_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let ca = p(k, "ca.pem");
    let (cert, key) = (p(k, "client.chain.pem"), p(k, "client.key"));
    let out = hsmtls_interop::Netns::new()
        .server(crate::common::hsmtls_server_argv(
            NS_ADDR,
            k,
            &["--http", "--require-client-cert", "--ca", &ca],
        ))
        .wait_port(NS_PORT)
        .stdin(GET)
        .client(gnutls_cli13(
            k,
            GNUTLS13,
            &["--x509certfile", &cert, "--x509keyfile", &key],
        ))
        .client(gnutls_cli13(k, GNUTLS13, &[]))
        .run();
    let c = &out.clients[0];
    assert_eq!(c.status, Some(0), "{out}");
    assert!(c.output.contains("(TLS1.3-X.509)"), "{out}");
    assert!(c.output.contains("Client certificate: yes\n"), "{out}");
    let c = &out.clients[1];
    assert!(!c.output.contains("Protocol  : TLSv1.3"), "{out}");
    assert!(
        out.server_output.contains("hsmtls: connection failed: ")
            && out.server_output.contains("certificate"),
        "{out}"
    );
}

/// gnutls-serv's per-connection blocks.
fn serv_blocks13(out: &hsmtls_interop::NetnsOutput) -> Vec<&str> {
    out.server_output
        .split("* Accepted connection")
        .skip(1)
        .collect()
}

/// gnutls-serv `--http` (TLS 1.3 only) with the ECDSA P-256 and RSA
/// chains, plus `extra`.
fn gnutls_serv13(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "gnutls-serv".into(),
        "--http".into(),
        "-p".into(),
        NS_PORT.to_string(),
    ];
    for k in ["ecdsa-p256", "rsa2048"] {
        v.extend([
            "--x509certfile".into(),
            p(k, "server.chain.pem"),
            "--x509keyfile".into(),
            p(k, "server.key"),
        ]);
    }
    v.extend(["--priority".into(), GNUTLS13.into()]);
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// hsmtls client → gnutls-serv: every suite, every group, `--reconnect`
/// (ticket), `--key-update`; gnutls-serv's page says TLS1.3 each time.
#[test]
fn tls13_client_to_gnutls_serv() {
    if !gnutls_tools() {
        return;
    }
    let ca = p("ecdsa-p256", "ca.pem");
    // (args, suite, group, reconnect)
    let mut cases: Vec<(Vec<&str>, &str, Option<&str>, bool)> = Vec::new();
    for s in SUITES13 {
        cases.push((vec!["--tls13", "--ciphers", s.iana], s.iana, None, false));
    }
    for g in GROUPS13 {
        cases.push((
            vec!["--groups", g.iana, "--ciphers", "TLS_AES_256_GCM_SHA384"],
            "TLS_AES_256_GCM_SHA384",
            Some(g.iana),
            false,
        ));
    }
    cases.push((
        vec!["--reconnect", "--ciphers", "TLS_CHACHA20_POLY1305_SHA256"],
        "TLS_CHACHA20_POLY1305_SHA256",
        None,
        true,
    ));
    cases.push((
        vec!["--key-update", "--ciphers", "TLS_AES_128_GCM_SHA256"],
        "TLS_AES_128_GCM_SHA256",
        None,
        false,
    ));
    let mut ns = hsmtls_interop::Netns::new()
        .server(gnutls_serv13(&[]))
        .wait_port(NS_PORT)
        .stdin(GET);
    for (a, ..) in &cases {
        let mut args = vec!["--ca", &ca];
        args.extend(a.iter().copied());
        ns = ns.client(crate::common::hsmtls_client_argv(NS_ADDR, &args));
    }
    let out = ns.run();
    let blocks = serv_blocks13(&out);
    for ((_, suite, group, reconnect), c) in cases.iter().zip(&out.clients) {
        assert_eq!(c.status, Some(0), "{out}");
        if *reconnect {
            let first = Summary::parse(&c.output, "hsmtls: first: ").expect("first");
            first.check13(suite, *group, false, &out);
            let again = Summary::parse(&c.output, "hsmtls: reconnect: ").expect("again");
            again.check13(suite, None, true, &out);
        } else {
            let sum = Summary::parse(&c.output, "hsmtls: ").expect("summary");
            sum.check13(suite, *group, false, &out);
        }
        assert!(
            c.output
                .contains("<TD>Protocol version:</TD><TD>TLS1.3</TD>"),
            "{out}"
        );
    }
    assert!(
        blocks
            .iter()
            .any(|b| b.contains("*** This is a resumed session")),
        "{out}"
    );
}

/// 0-RTT with GnuTLS both ways: `gnutls-cli --resume --earlydata` to our
/// server (`--max-early-data`), which accepts and logs it; our client
/// (`--reconnect --early-data`) to `gnutls-serv --earlydata`, which
/// accepts it (our client reports `early_data=accepted` only when the
/// server's EncryptedExtensions say so).
#[test]
fn tls13_early_data_with_gnutls() {
    if !gnutls_tools() {
        return;
    }
    let dir = TempDir::new("early13g");
    let early = dir.join("early.txt");
    std::fs::write(&early, b"EARLY-GNUTLS").unwrap();
    let early = early.display().to_string();
    let k = "ecdsa-p256";

    let out = hsmtls_interop::Netns::new()
        .server(crate::common::hsmtls_server_argv(
            NS_ADDR,
            k,
            &["--http", "--max-early-data", "4096"],
        ))
        .wait_port(NS_PORT)
        .stdin(GET)
        .client(gnutls_cli13(
            k,
            GNUTLS13,
            &["--resume", &format!("--earlydata={early}")],
        ))
        .run();
    let cl = &out.clients[0];
    assert_eq!(cl.status, Some(0), "{out}");
    assert!(cl.output.contains("*** This is a resumed session"), "{out}");
    let sums = Summary::all_server(&out.server_output);
    assert_eq!(sums.len(), 2, "{out}");
    assert_eq!(sums[1].get("resumed"), "yes", "{out}");
    assert_eq!(sums[1].get("early_data"), "accepted", "{out}");
    assert!(out.server_output.contains("early data: 12 bytes"), "{out}");

    let ca = p(k, "ca.pem");
    let out = hsmtls_interop::Netns::new()
        .server(gnutls_serv13(&["--earlydata"]))
        .wait_port(NS_PORT)
        .stdin(GET)
        .client(crate::common::hsmtls_client_argv(
            NS_ADDR,
            &["--ca", &ca, "--reconnect", "--early-data", &early],
        ))
        .run();
    let cl = &out.clients[0];
    assert_eq!(cl.status, Some(0), "{out}");
    let again = Summary::parse(&cl.output, "hsmtls: reconnect: ").expect("reconnect summary");
    assert_eq!(again.get("resumed"), "yes", "{out}");
    assert_eq!(again.get("early_data"), "accepted", "{out}");
    assert!(
        cl.output
            .contains("<TD>Protocol version:</TD><TD>TLS1.3</TD>"),
        "{out}"
    );
}

/// hsmtls client with its certificate → gnutls-serv requiring one: the
/// certificate is verified there; without one we are refused.
#[test]
fn tls13_client_mutual_auth_to_gnutls_serv() {
    if !gnutls_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let ca = p(k, "ca.pem");
    let (cert, key) = (p(k, "client.chain.pem"), p(k, "client.key"));
    let out = hsmtls_interop::Netns::new()
        .server(gnutls_serv13(&[
            "--require-client-cert",
            "--verify-client-cert",
            "--x509cafile",
            &ca,
        ]))
        .wait_port(NS_PORT)
        .stdin(GET)
        .client(crate::common::hsmtls_client_argv(
            NS_ADDR,
            &["--ca", &ca, "--cert", &cert, "--key", &key],
        ))
        .client(crate::common::hsmtls_client_argv(NS_ADDR, &["--ca", &ca]))
        .run();
    let c = &out.clients[0];
    assert_eq!(c.status, Some(0), "{out}");
    let sum = Summary::parse(&c.output, "hsmtls: ").expect("summary");
    assert_eq!(sum.get("version"), "TLSv1.3", "{out}");
    let blocks = serv_blocks13(&out);
    assert!(
        blocks
            .first()
            .is_some_and(|b| b.contains("- Status: The certificate is trusted.")
                && b.contains("Subject: CN=hsmtls test ecdsa-p256 client,O=hsmtls test")),
        "{out}"
    );
    let c = &out.clients[1];
    assert!(!c.output.contains("<TD>TLS1.3</TD>"), "{out}");
    assert!(
        out.server_output.contains("No certificate was found")
            || out.server_output.contains("Error in handshake"),
        "{out}"
    );
}

// -------------------------------------------------------------- NSS 3.87

fn nss_tools() -> bool {
    hsmtls_interop::require_netns(&[
        "selfserv", "tstclnt", "certutil", "pk12util", "openssl", "ss", "stdbuf",
    ])
}

/// tstclnt (`-V tls1.3:tls1.3`) → our server: every suite (`-c`), every
/// group (`-I`), and a ticket resumption (`-L 2 -u`).
#[test]
fn tls13_tstclnt_to_server() {
    if !nss_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let db = hsmtls_interop::NssDb::new();
    db.trust_ca("ca", &hsmtls_interop::pki_file(k, "ca.pem"));
    let spec = db.spec();
    let port = NS_PORT.to_string();
    let base = [
        "tstclnt",
        "-d",
        &spec,
        "-4",
        "-h",
        "localhost",
        "-p",
        &port,
        "-V",
        "tls1.3:tls1.3",
        "-v",
    ];
    // (extra args, suite, group)
    let mut cases: Vec<(Vec<String>, &Suite13, Option<&str>)> = Vec::new();
    for s in SUITES13 {
        cases.push((vec!["-c".into(), format!(":{}", s.nss)], s, None));
    }
    for g in GROUPS13 {
        cases.push((vec!["-I".into(), g.nss.into()], &SUITES13[0], Some(g.iana)));
    }
    let mut ns = hsmtls_interop::Netns::new()
        .server(crate::common::hsmtls_server_argv(NS_ADDR, k, &["--http"]))
        .wait_port(NS_PORT)
        .stdin(GET);
    for (extra, ..) in &cases {
        let mut argv: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        argv.extend(extra.iter().cloned());
        ns = ns.client(argv);
    }
    // tstclnt -L keeps polling the closed second connection instead of
    // exiting: bounded here, and judged by its "1 stateless resumes" and
    // our log (its stdin went to the first connection: no second page).
    let mut argv: Vec<String> = ["timeout", "4"].map(String::from).to_vec();
    argv.extend(base.iter().map(|s| s.to_string()));
    argv.extend(["-L", "2", "-u"].map(String::from));
    ns = ns.client(argv);
    let out = ns.run();
    for ((_, s, g), c) in cases.iter().zip(&out.clients) {
        assert_eq!(c.status, Some(0), "{}: {out}", s.iana);
        let o = &c.output;
        assert!(
            o.contains(&format!(
                "tstclnt: SSL version 3.4 using {}\n",
                s.nss_cipher
            )),
            "{}: {out}",
            s.iana
        );
        assert!(o.contains("Server Auth: 256-bit TLS 1.3"), "{out}");
        assert!(o.contains("Protocol  : TLSv1.3\n"), "{out}");
        assert!(o.contains(&format!("Cipher    : {}\n", s.iana)), "{out}");
        if let Some(g) = g {
            assert!(o.contains(&format!("Group     : {g}\n")), "{out}");
        }
    }
    let resumed = out.clients.last().unwrap();
    assert!(resumed.output.contains("1 stateless resumes"), "{out}");
    let lines = Summary::all_server(&out.server_output);
    assert_eq!(lines.len(), cases.len() + 2, "{out}");
    for (sum, (_, s, g)) in lines.iter().zip(&cases) {
        sum.check13(s.iana, *g, false, &out);
    }
    assert_eq!(lines[cases.len()].get("resumed"), "no", "{out}");
    assert_eq!(lines[cases.len() + 1].get("resumed"), "yes", "{out}");
}

/// hsmtls client → selfserv (`-V tls1.3:tls1.3 -u`): every suite, and
/// `--reconnect` resuming with selfserv's ticket.
#[test]
fn tls13_client_to_selfserv() {
    if !nss_tools() {
        return;
    }
    let k = "ecdsa-p256";
    let db = hsmtls_interop::NssDb::with_pki_server(k);
    let ca = p(k, "ca.pem");
    let mut ns = hsmtls_interop::Netns::new()
        .server([
            "selfserv",
            "-d",
            &db.spec(),
            "-p",
            &NS_PORT.to_string(),
            "-e",
            "server",
            "-V",
            "tls1.3:tls1.3",
            "-u",
            "-v",
        ])
        .wait_port(NS_PORT)
        .stdin(GET);
    for s in SUITES13 {
        ns = ns.client(crate::common::hsmtls_client_argv(
            NS_ADDR,
            &["--ca", &ca, "--ciphers", s.iana],
        ));
    }
    ns = ns.client(crate::common::hsmtls_client_argv(
        NS_ADDR,
        &["--ca", &ca, "--reconnect"],
    ));
    let out = ns.run();
    for (s, c) in SUITES13.iter().zip(&out.clients) {
        assert_eq!(c.status, Some(0), "{}: {out}", s.iana);
        let sum = Summary::parse(&c.output, "hsmtls: ").expect("summary");
        sum.check13(s.iana, None, false, &out);
        assert!(c.output.contains("GET / HTTP/1.0"), "{out}");
    }
    assert!(
        SUITES13.iter().all(|s| out.server_output.contains(&format!(
            "selfserv: SSL version 3.4 using {}\n",
            s.nss_cipher
        ))),
        "{out}"
    );
    let c = out.clients.last().unwrap();
    assert_eq!(c.status, Some(0), "{out}");
    let again = Summary::parse(&c.output, "hsmtls: reconnect: ").expect("reconnect");
    assert_eq!(again.get("version"), "TLSv1.3", "{out}");
    assert_eq!(again.get("resumed"), "yes", "{out}");
}
