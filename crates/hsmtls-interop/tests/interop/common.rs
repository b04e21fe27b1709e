//! The table-driven layer of the interop tests: the suites and groups with
//! their names in each peer, the `hsmtls` client and server as processes,
//! and parsers of what the peers print.

use std::process::Command;
use std::time::Duration;

use hsmtls_interop::{
    default_timeout, hsmtls_bin, peer_command, pki_file, run, spawn_server, Peer, RunOutput,
};

/// The HTTP request every client sends.
pub const GET: &[u8] = b"GET / HTTP/1.0\r\n\r\n";

/// How the server authenticates: picks the certificate kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Ecdsa,
    Rsa,
}

impl Auth {
    /// The test PKI kind with a certificate for this authentication.
    pub fn kind(self) -> &'static str {
        match self {
            Auth::Ecdsa => "ecdsa-p256",
            Auth::Rsa => "rsa2048",
        }
    }
}

/// One of hsmtls's ten TLS 1.2 suites, with its names in each peer.
#[derive(Debug, Clone, Copy)]
pub struct Suite {
    /// IANA name (what hsmtls prints and takes).
    pub iana: &'static str,
    /// OpenSSL name (`-cipher`, "Cipher is …").
    pub openssl: &'static str,
    /// GnuTLS priority items for the bulk cipher and MAC
    /// (`+AES-128-CBC:+SHA256`).
    pub gnutls: &'static str,
    /// GnuTLS's "- Description:" tail, e.g. `(AES-128-CBC)-(SHA256)`.
    pub gnutls_desc: &'static str,
    /// The code point as NSS `-c :XXXX` takes it.
    pub nss: &'static str,
    pub auth: Auth,
    /// CBC with HMAC: encrypt-then-MAC applies.
    pub cbc: bool,
}

impl Suite {
    /// The GnuTLS key-exchange priority item.
    pub fn gnutls_kx(&self) -> &'static str {
        match self.auth {
            Auth::Ecdsa => "+ECDHE-ECDSA",
            Auth::Rsa => "+ECDHE-RSA",
        }
    }

    /// A GnuTLS priority string that allows exactly this suite in TLS 1.2
    /// (NORMAL omits CBC-SHA256/384, so every suite is named).
    pub fn gnutls_priority(&self) -> String {
        format!(
            "NONE:+VERS-TLS1.2:{}:{}:+SIGN-ALL:+GROUP-ALL:+COMP-NULL",
            self.gnutls_kx(),
            self.gnutls
        )
    }
}

macro_rules! suite {
    ($iana:literal, $ossl:literal, $gt:literal, $gd:literal, $nss:literal, $auth:ident, $cbc:literal) => {
        Suite {
            iana: $iana,
            openssl: $ossl,
            gnutls: $gt,
            gnutls_desc: $gd,
            nss: $nss,
            auth: Auth::$auth,
            cbc: $cbc,
        }
    };
}

/// All ten suites of hsmtls.
pub const SUITES: &[Suite] = &[
    suite!(
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "+AES-128-GCM:+AEAD",
        "(AES-128-GCM)",
        "C02B",
        Ecdsa,
        false
    ),
    suite!(
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "+AES-256-GCM:+AEAD",
        "(AES-256-GCM)",
        "C02C",
        Ecdsa,
        false
    ),
    suite!(
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-ECDSA-AES128-SHA256",
        "+AES-128-CBC:+SHA256",
        "(AES-128-CBC)-(SHA256)",
        "C023",
        Ecdsa,
        true
    ),
    suite!(
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        "ECDHE-ECDSA-AES256-SHA384",
        "+AES-256-CBC:+SHA384",
        "(AES-256-CBC)-(SHA384)",
        "C024",
        Ecdsa,
        true
    ),
    suite!(
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "+CHACHA20-POLY1305:+AEAD",
        "(CHACHA20-POLY1305)",
        "CCA9",
        Ecdsa,
        false
    ),
    suite!(
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "+AES-128-GCM:+AEAD",
        "(AES-128-GCM)",
        "C02F",
        Rsa,
        false
    ),
    suite!(
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "+AES-256-GCM:+AEAD",
        "(AES-256-GCM)",
        "C030",
        Rsa,
        false
    ),
    suite!(
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-RSA-AES128-SHA256",
        "+AES-128-CBC:+SHA256",
        "(AES-128-CBC)-(SHA256)",
        "C027",
        Rsa,
        true
    ),
    suite!(
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        "ECDHE-RSA-AES256-SHA384",
        "+AES-256-CBC:+SHA384",
        "(AES-256-CBC)-(SHA384)",
        "C028",
        Rsa,
        true
    ),
    suite!(
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "+CHACHA20-POLY1305:+AEAD",
        "(CHACHA20-POLY1305)",
        "CCA8",
        Rsa,
        false
    ),
];

/// The suite with this IANA name.
pub fn suite(iana: &str) -> &'static Suite {
    SUITES
        .iter()
        .find(|s| s.iana == iana)
        .unwrap_or_else(|| panic!("no suite {iana}"))
}

/// The suites of one authentication.
pub fn suites(auth: Auth) -> impl Iterator<Item = &'static Suite> {
    SUITES.iter().filter(move |s| s.auth == auth)
}

/// An ECDHE group, with its names in OpenSSL.
#[derive(Debug, Clone, Copy)]
pub struct Group {
    /// IANA name (hsmtls).
    pub iana: &'static str,
    /// OpenSSL `-groups` name.
    pub openssl: &'static str,
    /// What `s_client` prints after "Server Temp Key: ".
    pub openssl_temp_key: &'static str,
    /// What `-trace` prints after "named_curve: " (IANA name and code).
    pub trace: &'static str,
    /// In the test PKI as a certificate kind too.
    pub brainpool: bool,
}

/// All groups of hsmtls.
pub const GROUPS: &[Group] = &[
    Group {
        iana: "x25519",
        openssl: "X25519",
        openssl_temp_key: "X25519, 253 bits",
        trace: "ecdh_x25519 (29)",
        brainpool: false,
    },
    Group {
        iana: "secp256r1",
        openssl: "P-256",
        openssl_temp_key: "ECDH, prime256v1, 256 bits",
        trace: "secp256r1 (P-256) (23)",
        brainpool: false,
    },
    Group {
        iana: "secp384r1",
        openssl: "P-384",
        openssl_temp_key: "ECDH, secp384r1, 384 bits",
        trace: "secp384r1 (P-384) (24)",
        brainpool: false,
    },
    Group {
        iana: "brainpoolP256r1",
        openssl: "brainpoolP256r1",
        openssl_temp_key: "ECDH, brainpoolP256r1, 256 bits",
        trace: "brainpoolP256r1 (26)",
        brainpool: true,
    },
    Group {
        iana: "brainpoolP384r1",
        openssl: "brainpoolP384r1",
        openssl_temp_key: "ECDH, brainpoolP384r1, 384 bits",
        trace: "brainpoolP384r1 (27)",
        brainpool: true,
    },
    Group {
        iana: "brainpoolP512r1",
        openssl: "brainpoolP512r1",
        openssl_temp_key: "ECDH, brainpoolP512r1, 512 bits",
        trace: "brainpoolP512r1 (28)",
        brainpool: true,
    },
];

/// Every group for OpenSSL's `-groups` (brainpool must be named).
pub fn openssl_all_groups() -> String {
    GROUPS
        .iter()
        .map(|g| g.openssl)
        .collect::<Vec<_>>()
        .join(":")
}

/// A test PKI file as a string argument.
pub fn p(kind: &str, file: &str) -> String {
    pki_file(kind, file).display().to_string()
}

/// The one-line summary hsmtls prints (`version=… suite=… …`), as
/// key/value pairs.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pairs: Vec<(String, String)>,
}

impl Summary {
    /// The summary after `prefix` ("hsmtls: ", "hsmtls: reconnect: ", or a
    /// server's "hsmtls: PEER ") on the last line that has one.
    pub fn parse(text: &str, prefix: &str) -> Option<Summary> {
        let line = text
            .lines()
            .rfind(|l| l.starts_with(prefix) && l.contains("version="))?;
        let pairs = line[prefix.len()..]
            .split_whitespace()
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Some(Summary { pairs })
    }

    /// Every summary line of a server's output, in order.
    pub fn all_server(text: &str) -> Vec<Summary> {
        text.lines()
            .filter(|l| l.starts_with("hsmtls: ") && l.contains(" version="))
            .filter_map(|l| Summary::parse(l, "hsmtls: "))
            .collect()
    }

    /// The value of `key` ("" if absent).
    pub fn get(&self, key: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Asserts the suite, EMS, ETM (yes exactly for CBC) and, if given,
    /// the group and resumption.
    #[track_caller]
    pub fn check(
        &self,
        s: &Suite,
        group: Option<&str>,
        resumed: bool,
        ctx: &dyn std::fmt::Display,
    ) {
        assert_eq!(self.get("version"), "TLSv1.2", "{ctx}");
        assert_eq!(self.get("suite"), s.iana, "{ctx}");
        assert_eq!(self.get("ems"), "yes", "{ctx}");
        assert_eq!(self.get("etm"), if s.cbc { "yes" } else { "no" }, "{ctx}");
        assert_eq!(
            self.get("resumed"),
            if resumed { "yes" } else { "no" },
            "{ctx}"
        );
        if let Some(g) = group {
            assert_eq!(self.get("group"), g, "{ctx}");
        }
    }
}

/// `hsmtls client --connect ADDR --sni localhost <args>`, `stdin` then EOF,
/// bounded by the default timeout.
pub fn hsmtls_client<S: AsRef<str>>(addr: &str, args: &[S], stdin: &[u8]) -> RunOutput {
    let bin = hsmtls_bin();
    let mut cmd = Command::new(bin);
    cmd.args([
        "client",
        "--connect",
        addr,
        "--sni",
        "localhost",
        "--idle-timeout",
        "300",
    ]);
    cmd.args(args.iter().map(AsRef::as_ref));
    run("hsmtls client", cmd, stdin, default_timeout())
}

/// The hsmtls client command line (for a [`hsmtls_interop::Netns`]).
pub fn hsmtls_client_argv<S: AsRef<str>>(addr: &str, args: &[S]) -> Vec<String> {
    let mut v: Vec<String> = [
        hsmtls_bin().display().to_string(),
        "client".into(),
        "--connect".into(),
        addr.into(),
        "--sni".into(),
        "localhost".into(),
        "--idle-timeout".into(),
        "300".into(),
    ]
    .into();
    v.extend(args.iter().map(|a| a.as_ref().to_string()));
    v
}

/// The hsmtls server command line listening on `addr`, with the
/// certificate chain and key of `kind`.
pub fn hsmtls_server_argv<S: AsRef<str>>(addr: &str, kind: &str, args: &[S]) -> Vec<String> {
    let mut v: Vec<String> = [
        hsmtls_bin().display().to_string(),
        "server".into(),
        "--listen".into(),
        addr.into(),
        "--cert".into(),
        p(kind, "server.chain.pem"),
        "--key".into(),
        p(kind, "server.key"),
    ]
    .into();
    v.extend(args.iter().map(|a| a.as_ref().to_string()));
    v
}

/// `hsmtls server` on a free 127.0.0.1 port with `kind`'s chain and key,
/// ready once it prints "listening on".
pub fn hsmtls_server<S: AsRef<str>>(kind: &str, args: &[S]) -> Peer {
    let bin = hsmtls_bin().display().to_string();
    spawn_server(
        "hsmtls server",
        |port| {
            let argv = hsmtls_server_argv(&format!("127.0.0.1:{port}"), kind, args);
            peer_command(&bin, &argv[1..])
        },
        "hsmtls: listening on",
    )
}

/// The part of OpenSSL `-trace` output that shows the handshake message
/// `msg` (e.g. "ServerHello"): from its header to the next record.
pub fn trace_message<'a>(trace: &'a str, msg: &str) -> Option<&'a str> {
    let start = trace.find(&format!("    {msg}, Length="))?;
    let rest = &trace[start..];
    let end = ["Sent Record", "Received Record"]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Output of `peer` from byte `from` on, once it contains `needle` (waits
/// up to 5 s for it; returns what there is either way).
pub fn output_since(peer: &Peer, from: usize, needle: &str) -> String {
    let deadline =
        std::time::Instant::now() + Duration::from_secs(5) * hsmtls_interop::timeout_scale();
    loop {
        let out = peer.output();
        let tail = out.get(from..).unwrap_or("").to_string();
        if tail.contains(needle) || std::time::Instant::now() >= deadline {
            return tail;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// For assertion messages: a command's output.
pub struct Show<'a>(pub &'a str, pub &'a str);

impl std::fmt::Display for Show<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\n--- {} ---\n{}", self.0, self.1)
    }
}

/// Two outputs for assertion messages.
pub struct Show2<'a>(pub &'a str, pub &'a str, pub &'a str, pub &'a str);

impl std::fmt::Display for Show2<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "\n--- {} ---\n{}\n--- {} ---\n{}",
            self.0, self.1, self.2, self.3
        )
    }
}

// ------------------------------------------------------------------ TLS 1.3

/// One of the three TLS 1.3 suites (RFC 8446 §B.4), with its names in
/// each peer.
#[derive(Debug, Clone, Copy)]
pub struct Suite13 {
    /// IANA name: hsmtls's and OpenSSL's (`-ciphersuites`) name.
    pub iana: &'static str,
    /// GnuTLS priority item of the bulk cipher, e.g. `+AES-128-GCM`.
    pub gnutls: &'static str,
    /// GnuTLS's "- Description:" tail, e.g. `(AES-128-GCM)`.
    pub gnutls_desc: &'static str,
    /// The code point as NSS `-c :XXXX` takes it.
    pub nss: &'static str,
    /// What NSS prints after "SSL version 3.4 using ".
    pub nss_cipher: &'static str,
}

/// The three TLS 1.3 suites of hsmtls.
pub const SUITES13: &[Suite13] = &[
    Suite13 {
        iana: "TLS_AES_128_GCM_SHA256",
        gnutls: "+AES-128-GCM",
        gnutls_desc: "(AES-128-GCM)",
        nss: "1301",
        nss_cipher: "128-bit AES-GCM with 128-bit AEAD MAC",
    },
    Suite13 {
        iana: "TLS_AES_256_GCM_SHA384",
        gnutls: "+AES-256-GCM",
        gnutls_desc: "(AES-256-GCM)",
        nss: "1302",
        nss_cipher: "256-bit AES-GCM with 128-bit AEAD MAC",
    },
    Suite13 {
        iana: "TLS_CHACHA20_POLY1305_SHA256",
        gnutls: "+CHACHA20-POLY1305",
        gnutls_desc: "(CHACHA20-POLY1305)",
        nss: "1303",
        nss_cipher: "256-bit CHACHA20POLY1305 with 128-bit AEAD MAC",
    },
];

/// A TLS 1.3 (EC)DHE group shared with OpenSSL, GnuTLS and NSS.
#[derive(Debug, Clone, Copy)]
pub struct Group13 {
    /// IANA name (hsmtls).
    pub iana: &'static str,
    /// OpenSSL `-groups` name.
    pub openssl: &'static str,
    /// What `s_client` prints after "Server Temp Key: ".
    pub openssl_temp_key: &'static str,
    /// What `-trace` prints after "NamedGroup: ".
    pub trace: &'static str,
    /// GnuTLS's name (priority item `+GROUP-<name>`, "ECDHE-<name>" in
    /// its description).
    pub gnutls: &'static str,
    /// NSS's name (`-I`).
    pub nss: &'static str,
}

/// The non-brainpool TLS 1.3 groups of hsmtls.
pub const GROUPS13: &[Group13] = &[
    Group13 {
        iana: "x25519",
        openssl: "X25519",
        openssl_temp_key: "X25519, 253 bits",
        trace: "ecdh_x25519 (29)",
        gnutls: "X25519",
        nss: "x25519",
    },
    Group13 {
        iana: "secp256r1",
        openssl: "P-256",
        openssl_temp_key: "ECDH, prime256v1, 256 bits",
        trace: "secp256r1 (P-256) (23)",
        gnutls: "SECP256R1",
        nss: "P256",
    },
    Group13 {
        iana: "secp384r1",
        openssl: "P-384",
        openssl_temp_key: "ECDH, secp384r1, 384 bits",
        trace: "secp384r1 (P-384) (24)",
        gnutls: "SECP384R1",
        nss: "P384",
    },
    Group13 {
        iana: "secp521r1",
        openssl: "P-521",
        openssl_temp_key: "ECDH, secp521r1, 521 bits",
        trace: "secp521r1 (P-521) (25)",
        gnutls: "SECP521R1",
        nss: "P521",
    },
];

/// A certificate kind usable in TLS 1.3 with the signature scheme its
/// CertificateVerify uses (RSA: PSS, RFC 8446 §4.2.3).
#[derive(Debug, Clone, Copy)]
pub struct Cert13 {
    pub kind: &'static str,
    /// IANA name of the CertificateVerify scheme.
    pub scheme: &'static str,
    /// GnuTLS's name of that scheme.
    pub gnutls: &'static str,
}

/// The TLS 1.3 certificate kinds tested against every peer.
pub const CERTS13: &[Cert13] = &[
    Cert13 {
        kind: "ecdsa-p256",
        scheme: "ecdsa_secp256r1_sha256",
        gnutls: "ECDSA-SECP256R1-SHA256",
    },
    Cert13 {
        kind: "ecdsa-p384",
        scheme: "ecdsa_secp384r1_sha384",
        gnutls: "ECDSA-SECP384R1-SHA384",
    },
    Cert13 {
        kind: "rsa2048",
        scheme: "rsa_pss_rsae_sha256",
        gnutls: "RSA-PSS-RSAE-SHA256",
    },
];

/// The HelloRetryRequest "random" (RFC 8446 §4.1.3) as OpenSSL's
/// `-trace` prints it: its first four bytes as gmt_unix_time, the rest
/// as random_bytes.
pub const HRR_TRACE: (&str, &str) = (
    "gmt_unix_time=0xCF21AD74",
    "random_bytes (len=28): E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C",
);

impl Summary {
    /// Asserts a TLS 1.3 session: version, suite, the TLS 1.2-only
    /// extensions off, resumption and, if given, the group.
    #[track_caller]
    pub fn check13(
        &self,
        suite: &str,
        group: Option<&str>,
        resumed: bool,
        ctx: &dyn std::fmt::Display,
    ) {
        assert_eq!(self.get("version"), "TLSv1.3", "{ctx}");
        assert_eq!(self.get("suite"), suite, "{ctx}");
        assert_eq!(self.get("etm"), "no", "{ctx}");
        assert_eq!(
            self.get("resumed"),
            if resumed { "yes" } else { "no" },
            "{ctx}"
        );
        if let Some(g) = group {
            assert_eq!(self.get("group"), g, "{ctx}");
        }
    }
}

/// Like [`hsmtls_client`] with the idle wait after stdin's EOF set to
/// `idle_ms` (for servers that answer slowly, e.g. `s_server -www`
/// sleeps a second after a record without data, such as a KeyUpdate).
pub fn hsmtls_client_idle<S: AsRef<str>>(
    addr: &str,
    idle_ms: u32,
    args: &[S],
    stdin: &[u8],
) -> RunOutput {
    let mut cmd = Command::new(hsmtls_bin());
    cmd.args(["client", "--connect", addr, "--sni", "localhost"])
        .args(["--idle-timeout", &idle_ms.to_string()]);
    cmd.args(args.iter().map(AsRef::as_ref));
    run("hsmtls client", cmd, stdin, default_timeout())
}
