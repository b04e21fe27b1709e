//! hsmtls against NSS 3.87 (`tstclnt`, `selfserv`).
//!
//! `selfserv` listens on all addresses: both directions run in a private
//! network namespace ([`Netns`]), our server on 127.0.0.1 there. NSS has no
//! encrypt-then-MAC, so CBC suites run MAC-then-encrypt here (the only
//! peer that exercises that path of ours). Both NSS tools print per
//! session "SSL version 3.3 using <cipher> with <mac>" and "Extended
//! Master Secret: Yes" (`-v`); client stdin is a file in the namespace, so
//! tstclnt sees EOF and exits once we close.

use hsmtls_interop::{pki_file, require_netns, Netns, NetnsOutput, NssDb};

use crate::common::{hsmtls_client_argv, hsmtls_server_argv, p, suites, Auth, Suite, Summary, GET};

const PORT: u16 = 4433;
const ADDR: &str = "127.0.0.1:4433";

fn tools() -> bool {
    require_netns(&[
        "selfserv", "tstclnt", "certutil", "pk12util", "openssl", "ss", "stdbuf",
    ])
}

/// What NSS prints after "SSL version 3.3 using " for `s`.
fn nss_cipher(s: &Suite) -> &'static str {
    let name = s.iana;
    if name.contains("AES_128_GCM") {
        "128-bit AES-GCM with 128-bit AEAD MAC"
    } else if name.contains("AES_256_GCM") {
        "256-bit AES-GCM with 128-bit AEAD MAC"
    } else if name.contains("AES_128_CBC") {
        "128-bit AES with 256-bit SHA256 MAC"
    } else if name.contains("AES_256_CBC") {
        "256-bit AES with 384-bit SHA384 MAC"
    } else {
        "256-bit CHACHA20POLY1305 with 128-bit AEAD MAC"
    }
}

fn nss_auth(s: &Suite) -> &'static str {
    match s.auth {
        Auth::Ecdsa => "Server Auth: 256-bit ECDSA, Key Exchange: 255-bit ECDHE",
        Auth::Rsa => "Server Auth: 2048-bit RSA, Key Exchange: 255-bit ECDHE",
    }
}

/// A client database trusting both test roots.
fn client_db() -> NssDb {
    let db = NssDb::new();
    db.trust_ca("ca", &pki_file("ecdsa-p256", "ca.pem"));
    db.trust_ca("rsaca", &pki_file("rsa2048", "ca.pem"));
    db
}

/// tstclnt → hsmtls server: every suite of one authentication (NSS's
/// default list lacks CBC-SHA384; `-c` enables what it names).
fn tstclnt_to_server(auth: Auth) {
    if !tools() {
        return;
    }
    let db = client_db();
    let mut ns = Netns::new()
        .server(hsmtls_server_argv(ADDR, auth.kind(), &["--http"]))
        .wait_port(PORT)
        .stdin(GET);
    let cases: Vec<&Suite> = suites(auth).collect();
    for s in &cases {
        ns = ns.client([
            "tstclnt",
            "-d",
            &db.spec(),
            "-4",
            "-h",
            "localhost",
            "-p",
            &PORT.to_string(),
            "-V",
            "tls1.2:tls1.2",
            "-c",
            &format!(":{}", s.nss),
            "-v",
        ]);
    }
    let out = ns.run();
    for (s, c) in cases.iter().zip(&out.clients) {
        assert_eq!(c.status, Some(0), "{}: {out}", s.iana);
        let o = &c.output;
        // tstclnt's own view.
        assert!(
            o.contains(&format!(
                "tstclnt: SSL version 3.3 using {}\n",
                nss_cipher(s)
            )),
            "{}: {out}",
            s.iana
        );
        assert!(o.contains(nss_auth(s)), "{}: {out}", s.iana);
        assert!(
            o.contains("Extended Master Secret: Yes"),
            "{}: {out}",
            s.iana
        );
        // Our page: no ETM with NSS, so CBC is MAC-then-encrypt.
        assert!(o.contains(&format!("Cipher    : {}\n", s.iana)), "{out}");
        assert!(o.contains("Extended master secret: yes\n"), "{out}");
        assert!(o.contains("Encrypt-then-MAC: no\n"), "{out}");
    }
    let lines = Summary::all_server(&out.server_output);
    assert_eq!(lines.len(), cases.len(), "{out}");
    for (sum, s) in lines.iter().zip(&cases) {
        assert_eq!(sum.get("suite"), s.iana, "{out}");
        assert_eq!((sum.get("ems"), sum.get("etm")), ("yes", "no"), "{out}");
    }
}

#[test]
fn tstclnt_to_server_ecdsa() {
    tstclnt_to_server(Auth::Ecdsa);
}

#[test]
fn tstclnt_to_server_rsa() {
    tstclnt_to_server(Auth::Rsa);
}

/// selfserv's per-connection blocks (`-v`).
fn selfserv_blocks(out: &NetnsOutput) -> Vec<&str> {
    out.server_output
        .split("selfserv: SSL version 3.3 using ")
        .skip(1)
        .collect()
}

/// hsmtls client → selfserv (`-G` for EMS): every suite of one
/// authentication, MAC-then-encrypt for CBC. (One selfserv per key: the
/// ECDSA and RSA leaves share a subject, so NSS gives them one nickname.)
fn client_to_selfserv(auth: Auth) {
    if !tools() {
        return;
    }
    let k = auth.kind();
    let db = NssDb::with_pki_server(k);
    let cases: Vec<&Suite> = suites(auth).collect();
    let ciphers: String = cases.iter().map(|s| format!(":{}", s.nss)).collect();
    let key_opt = if auth == Auth::Ecdsa { "-e" } else { "-n" };
    let mut ns = Netns::new()
        .server([
            "selfserv",
            "-d",
            &db.spec(),
            "-p",
            &PORT.to_string(),
            key_opt,
            "server",
            "-V",
            "tls1.2:tls1.2",
            "-G",
            "-v",
            "-c",
            &ciphers,
        ])
        .wait_port(PORT)
        .stdin(GET);
    let ca = p(k, "ca.pem");
    for s in &cases {
        ns = ns.client(hsmtls_client_argv(
            ADDR,
            &["--ca", &ca, "--ciphers", s.iana],
        ));
    }
    let out = ns.run();
    let blocks = selfserv_blocks(&out);
    assert_eq!(blocks.len(), cases.len(), "{out}");
    for ((s, c), b) in cases.iter().zip(&out.clients).zip(&blocks) {
        assert_eq!(c.status, Some(0), "{}: {out}", s.iana);
        let sum = Summary::parse(&c.output, "hsmtls: ").expect("summary");
        assert_eq!(sum.get("suite"), s.iana, "{out}");
        assert_eq!((sum.get("ems"), sum.get("etm")), ("yes", "no"), "{out}");
        // selfserv's answer echoes our request.
        assert!(c.output.contains("Server: Generic Web Server"), "{out}");
        assert!(c.output.contains("GET / HTTP/1.0"), "{out}");
        // selfserv's log of this session.
        assert!(
            b.starts_with(&format!("{}\n", nss_cipher(s))),
            "{}: {b}\n{out}",
            s.iana
        );
        assert!(b.contains(nss_auth(s)), "{}: {b}\n{out}", s.iana);
        assert!(
            b.contains("Extended Master Secret: Yes"),
            "{}: {b}\n{out}",
            s.iana
        );
    }
}

#[test]
fn client_to_selfserv_ecdsa() {
    client_to_selfserv(Auth::Ecdsa);
}

#[test]
fn client_to_selfserv_rsa() {
    client_to_selfserv(Auth::Rsa);
}
