//! hsmtls against GnuTLS 3.7 (`gnutls-serv`, `gnutls-cli`).
//!
//! `gnutls-serv` listens on all addresses, so each scenario runs inside a
//! private network namespace ([`Netns`]) with its clients; our server runs
//! there too (on 127.0.0.1) when gnutls-cli is the client. Every suite is
//! named in an explicit priority string: `NORMAL` omits CBC-SHA256/384.
//!
//! GnuTLS prints per session "- Description: (TLS1.2-X.509)-(ECDHE-…)-…",
//! "- Options: extended master secret, safe renegotiation, EtM," and
//! "*** This is a resumed session"; gnutls-serv prints one block per
//! connection, starting with "* Accepted connection".

use hsmtls_interop::{require_netns, ClientOutput, Netns, NetnsOutput};

use crate::common::{
    hsmtls_client_argv, hsmtls_server_argv, p, suite, suites, Auth, Show, Suite, Summary, GET,
    SUITES,
};

const PORT: u16 = 4433;

/// A group's name in hsmtls and in GnuTLS's output.
type GroupNames = (&'static str, &'static str);
const ADDR: &str = "127.0.0.1:4433";

/// Every suite of ours, for gnutls-serv.
fn all_suites_priority() -> String {
    "NONE:+VERS-TLS1.2:+ECDHE-ECDSA:+ECDHE-RSA:+AES-128-GCM:+AES-256-GCM:+AES-128-CBC:\
     +AES-256-CBC:+CHACHA20-POLY1305:+AEAD:+SHA256:+SHA384:+SIGN-ALL:+GROUP-ALL:+COMP-NULL"
        .to_string()
}

fn tools(extra: &[&str]) -> bool {
    let mut t = vec!["gnutls-serv", "gnutls-cli", "ss", "stdbuf"];
    t.extend_from_slice(extra);
    require_netns(&t)
}

/// The "- Options:" line GnuTLS prints for a session of `s` with EMS.
fn options_line(s: &Suite) -> &'static str {
    if s.cbc {
        "- Options: extended master secret, safe renegotiation, EtM,\n"
    } else {
        "- Options: extended master secret, safe renegotiation,\n"
    }
}

/// gnutls-serv's per-connection blocks.
fn serv_blocks(out: &NetnsOutput) -> Vec<&str> {
    out.server_output
        .split("* Accepted connection")
        .skip(1)
        .collect()
}

/// `gnutls-serv --http` on 4433 with the ECDSA and the RSA chain.
fn gnutls_serv(priority: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "gnutls-serv".into(),
        "--http".into(),
        "-p".into(),
        PORT.to_string(),
    ];
    for k in ["ecdsa-p256", "rsa2048"] {
        v.extend([
            "--x509certfile".into(),
            p(k, "server.chain.pem"),
            "--x509keyfile".into(),
            p(k, "server.key"),
        ]);
    }
    v.extend(["--priority".into(), priority.into()]);
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// Checks one successful hsmtls client run and the gnutls-serv block(s)
/// of its connection(s).
#[track_caller]
fn check_client(
    c: &ClientOutput,
    blocks: &[&str],
    s: &Suite,
    group: Option<GroupNames>,
    reconnect: bool,
    all: &NetnsOutput,
) {
    assert_eq!(c.status, Some(0), "{all}");
    if reconnect {
        let first = Summary::parse(&c.output, "hsmtls: first: ").expect("first summary");
        first.check(s, group.map(|g| g.0), false, all);
        let again = Summary::parse(&c.output, "hsmtls: reconnect: ").expect("reconnect summary");
        again.check(s, None, true, all);
    } else {
        let sum = Summary::parse(&c.output, "hsmtls: ").expect("summary");
        sum.check(s, group.map(|g| g.0), false, all);
    }
    // gnutls-serv's page and log.
    assert!(
        c.output
            .contains("<TD>Protocol version:</TD><TD>TLS1.2</TD>"),
        "{all}"
    );
    let kx = if s.auth == Auth::Ecdsa {
        "ECDHE-ECDSA"
    } else {
        "ECDHE-RSA"
    };
    for (i, b) in blocks.iter().enumerate() {
        assert!(b.contains(&format!("- Key Exchange: {kx}\n")), "{all}");
        assert!(
            b.contains(&format!("-{}\n", s.gnutls_desc)),
            "block {i}: {b}\n{all}"
        );
        assert!(b.contains(options_line(s)), "block {i}: {b}\n{all}");
        let resumed = b.contains("*** This is a resumed session");
        assert_eq!(resumed, reconnect && i == 1, "block {i}: {b}\n{all}");
        if let (Some((_, curve)), false) = (group, resumed) {
            assert!(
                b.contains(&format!(" - Using curve: {curve}\n")),
                "block {i}: {b}\n{all}"
            );
        }
    }
}

/// hsmtls client → gnutls-serv: every suite (ECDSA and RSA certificates in
/// one server), the non-brainpool groups, and `--reconnect` (ticket).
#[test]
fn client_to_gnutls_serv() {
    if !tools(&[]) {
        return;
    }
    // (suite, group (ours, GnuTLS's), --reconnect)
    let mut cases: Vec<(&Suite, Option<GroupNames>, bool)> =
        SUITES.iter().map(|s| (s, None, false)).collect();
    for g in [
        ("x25519", "X25519"),
        ("secp256r1", "SECP256R1"),
        ("secp384r1", "SECP384R1"),
    ] {
        cases.push((
            suite("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
            Some(g),
            false,
        ));
    }
    cases.push((suite("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"), None, true));
    cases.push((suite("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"), None, true));

    let mut ns = Netns::new()
        .server(gnutls_serv(&all_suites_priority(), &[]))
        .wait_port(PORT)
        .stdin(GET);
    for (s, g, reconnect) in &cases {
        let ca = p(s.auth.kind(), "ca.pem");
        let mut a = vec!["--ca", &ca, "--ciphers", s.iana];
        if let Some((ours, _)) = g {
            a.extend(["--groups", ours]);
        }
        if *reconnect {
            a.push("--reconnect");
        }
        ns = ns.client(hsmtls_client_argv(ADDR, &a));
    }
    let out = ns.run();
    assert!(out.all_clients_ok(), "{out}");
    let blocks = serv_blocks(&out);
    let mut next = 0;
    for ((s, g, reconnect), c) in cases.iter().zip(&out.clients) {
        let n = if *reconnect { 2 } else { 1 };
        let mine = blocks
            .get(next..next + n)
            .unwrap_or_else(|| panic!("too few gnutls-serv blocks\n{out}"));
        check_client(c, mine, s, *g, *reconnect, &out);
        next += n;
    }
}

/// `--reconnect` against gnutls-serv `--noticket`: resumption by session
/// ID; and client authentication (`--require-client-cert`): gnutls-serv
/// shows our client certificate, and refuses a client without one.
#[test]
fn client_to_gnutls_serv_session_id_and_mutual_auth() {
    if !tools(&[]) {
        return;
    }
    let k = "ecdsa-p256";
    let ca = p(k, "ca.pem");
    let (cert, key) = (p(k, "client.chain.pem"), p(k, "client.key"));
    let s = suite("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384");
    let out = Netns::new()
        .server(gnutls_serv(
            &all_suites_priority(),
            &[
                "--noticket",
                "--require-client-cert",
                "--verify-client-cert",
                "--x509cafile",
                &ca,
            ],
        ))
        .wait_port(PORT)
        .stdin(GET)
        .client(hsmtls_client_argv(
            ADDR,
            &[
                "--ca",
                &ca,
                "--ciphers",
                s.iana,
                "--cert",
                &cert,
                "--key",
                &key,
                "--reconnect",
            ],
        ))
        .client(hsmtls_client_argv(
            ADDR,
            &["--ca", &ca, "--ciphers", s.iana],
        ))
        .run();
    let blocks = serv_blocks(&out);
    assert!(blocks.len() >= 2, "{out}");
    check_client(&out.clients[0], &blocks[..2], s, None, true, &out);
    // No ticket: the resumed session has the first one's session ID.
    let id = |b: &str| {
        b.lines()
            .find(|l| l.starts_with("- Session ID: "))
            .unwrap_or("")
            .to_string()
    };
    assert!(
        !id(blocks[0]).is_empty() && id(blocks[0]) == id(blocks[1]),
        "{out}"
    );
    // The client certificate, verified by gnutls-serv.
    assert!(
        blocks[0].contains("- Status: The certificate is trusted."),
        "{out}"
    );
    assert!(
        blocks[0].contains("Subject: CN=hsmtls test ecdsa-p256 client,O=hsmtls test"),
        "{out}"
    );
    assert!(
        blocks[0].contains("- Client Signature: ECDSA-SHA256"),
        "{out}"
    );
    // Without a certificate: refused, one line, non-zero.
    let c = &out.clients[1];
    assert!(c.status.is_some_and(|s| s != 0), "{out}");
    assert_eq!(c.output.lines().count(), 1, "{out}");
    assert!(c.output.starts_with("hsmtls: handshake with"), "{out}");
    assert!(
        out.server_output
            .contains("Error in handshake: No certificate was found."),
        "{out}"
    );
}

/// `--require-ems` against gnutls-serv with `%NO_SESSION_HASH`: we send
/// handshake_failure, gnutls-serv receives alert 40; without
/// `--require-ems` both sides agree on a session without EMS.
#[test]
fn client_require_ems_vs_gnutls_serv_without_ems() {
    if !tools(&[]) {
        return;
    }
    let s = suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256");
    let ca = p("rsa2048", "ca.pem");
    let prio = format!("{}:%NO_SESSION_HASH", s.gnutls_priority());
    let out = Netns::new()
        .server(gnutls_serv(&prio, &[]))
        .wait_port(PORT)
        .stdin(GET)
        .client(hsmtls_client_argv(ADDR, &["--ca", &ca, "--require-ems"]))
        .client(hsmtls_client_argv(ADDR, &["--ca", &ca]))
        .run();
    let c = &out.clients[0];
    assert!(c.status.is_some_and(|s| s != 0), "{out}");
    assert_eq!(c.output.lines().count(), 1, "{out}");
    assert!(c.output.contains("extended master secret"), "{out}");
    let blocks = serv_blocks(&out);
    assert!(
        blocks
            .first()
            .is_some_and(|b| b.contains("* Received alert '40': Handshake failed.")),
        "{out}"
    );
    let c = &out.clients[1];
    assert_eq!(c.status, Some(0), "{out}");
    let sum = Summary::parse(&c.output, "hsmtls: ").expect("summary");
    assert_eq!((sum.get("ems"), sum.get("etm")), ("no", "yes"), "{out}");
    assert!(
        blocks
            .get(1)
            .is_some_and(|b| b.contains("- Options: safe renegotiation, EtM,\n")),
        "{out}"
    );
}

// ------------------------------------------------ gnutls-cli → hsmtls server

/// gnutls-cli (`localhost`, port 4433) with `priority` and `extra`.
fn gnutls_cli(kind: &str, priority: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "gnutls-cli".into(),
        "-p".into(),
        PORT.to_string(),
        "--x509cafile".into(),
        p(kind, "ca.pem"),
        "--priority".into(),
        priority.into(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v.push("localhost".into());
    v
}

/// One gnutls-cli run against our `--http` server: gnutls-cli's own
/// summary and our page (which gnutls-cli printed).
#[track_caller]
fn check_cli(c: &ClientOutput, s: &Suite, curve: &str, resumed: bool, all: &NetnsOutput) {
    assert_eq!(c.status, Some(0), "{all}");
    let o = &c.output;
    let sig = match s.auth {
        Auth::Ecdsa => "ECDSA-SHA256",
        Auth::Rsa => "RSA-PSS-RSAE-SHA256",
    };
    let desc = format!(
        "- Description: (TLS1.2-X.509)-(ECDHE-{curve})-({sig})-{}\n",
        s.gnutls_desc
    );
    assert!(o.contains(&desc), "want {desc:?}\n{all}");
    assert!(o.contains("- Status: The certificate is trusted."), "{all}");
    assert_eq!(
        o.matches(options_line(s)).count(),
        if resumed { 2 } else { 1 },
        "{all}"
    );
    assert_eq!(
        o.contains("*** This is a resumed session"),
        resumed,
        "{all}"
    );
    // Our page (of the last connection).
    assert!(o.contains(&format!("Cipher    : {}\n", s.iana)), "{all}");
    assert!(o.contains("Extended master secret: yes\n"), "{all}");
    let etm = if s.cbc { "yes" } else { "no" };
    assert!(o.contains(&format!("Encrypt-then-MAC: {etm}\n")), "{all}");
    let reused = if resumed { "yes" } else { "no" };
    assert!(o.contains(&format!("Reused    : {reused}\n")), "{all}");
}

/// Our server's summary lines, checked in order against `expect`
/// (suite, resumed).
#[track_caller]
fn check_server_lines(out: &NetnsOutput, expect: &[(&Suite, bool)]) {
    let lines = Summary::all_server(&out.server_output);
    assert_eq!(lines.len(), expect.len(), "{out}");
    for (sum, (s, resumed)) in lines.iter().zip(expect) {
        // The server's line has "PEER" first: parse() kept it out.
        sum.check(s, None, *resumed, out);
    }
}

/// gnutls-cli → hsmtls server: every suite of one authentication, groups
/// (RSA), and `--resume` with a ticket and with a session ID
/// (`--noticket`).
fn cli_to_server(auth: Auth) {
    if !tools(&[]) {
        return;
    }
    let k = auth.kind();
    let mut ns = Netns::new()
        .server(hsmtls_server_argv(ADDR, k, &["--http"]))
        .wait_port(PORT)
        .stdin(GET);
    // (suite, curve, gnutls-cli args, resumed)
    let mut cases: Vec<(&Suite, &str, Vec<&str>, bool)> = Vec::new();
    for s in suites(auth) {
        cases.push((s, "X25519", vec![], false));
    }
    let cbc = suites(auth).find(|s| s.cbc).unwrap();
    cases.push((cbc, "X25519", vec!["--resume"], true));
    cases.push((cbc, "X25519", vec!["--resume", "--noticket"], true));
    let gcm = suites(auth).next().unwrap();
    let mut group_prios = Vec::new();
    if auth == Auth::Rsa {
        for (item, curve) in [
            ("GROUP-SECP256R1", "SECP256R1"),
            ("GROUP-SECP384R1", "SECP384R1"),
        ] {
            group_prios.push((
                gcm.gnutls_priority()
                    .replace("+GROUP-ALL", &format!("+{item}")),
                curve,
            ));
        }
    }
    for (s, _, args, _) in &cases {
        ns = ns.client(gnutls_cli(k, &s.gnutls_priority(), args));
    }
    for (prio, _) in &group_prios {
        ns = ns.client(gnutls_cli(k, prio, &[]));
    }
    let out = ns.run();
    let mut expect = Vec::new();
    for ((s, curve, _, resumed), c) in cases.iter().zip(&out.clients) {
        check_cli(c, s, curve, *resumed, &out);
        expect.push((*s, false));
        if *resumed {
            expect.push((*s, true));
        }
    }
    for ((_, curve), c) in group_prios.iter().zip(&out.clients[cases.len()..]) {
        check_cli(c, gcm, curve, false, &out);
        expect.push((gcm, false));
    }
    check_server_lines(&out, &expect);
}

#[test]
fn gnutls_cli_to_server_ecdsa() {
    cli_to_server(Auth::Ecdsa);
}

#[test]
fn gnutls_cli_to_server_rsa() {
    cli_to_server(Auth::Rsa);
}

/// gnutls-cli with a client certificate → our server requiring one; and
/// without one: refused.
#[test]
fn gnutls_cli_mutual_auth_with_server() {
    if !tools(&[]) {
        return;
    }
    let k = "ecdsa-p256";
    let ca = p(k, "ca.pem");
    let (cert, key) = (p(k, "client.chain.pem"), p(k, "client.key"));
    let s = suite("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    let prio = s.gnutls_priority();
    let out = Netns::new()
        .server(hsmtls_server_argv(
            ADDR,
            k,
            &["--http", "--require-client-cert", "--ca", &ca],
        ))
        .wait_port(PORT)
        .stdin(GET)
        .client(gnutls_cli(
            k,
            &prio,
            &["--x509certfile", &cert, "--x509keyfile", &key],
        ))
        .client(gnutls_cli(k, &prio, &[]))
        .run();
    let c = &out.clients[0];
    check_cli(c, s, "X25519", false, &out);
    assert!(
        c.output
            .contains("- Successfully sent 2 certificate(s) to server."),
        "{out}"
    );
    assert!(c.output.contains("Client certificate: yes\n"), "{out}");
    let c = &out.clients[1];
    assert!(c.status.is_some_and(|s| s != 0), "{out}");
    assert!(
        c.output
            .contains("- Successfully sent 0 certificate(s) to server."),
        "{out}"
    );
    assert!(
        c.output.contains("Handshake failed"),
        "{}",
        Show("gnutls-cli", &c.output)
    );
    assert!(
        out.server_output.contains(
            "hsmtls: connection failed: no common parameters: client certificate required"
        ),
        "{out}"
    );
}
