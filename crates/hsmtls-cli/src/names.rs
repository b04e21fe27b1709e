//! Comma-separated lists of IANA names for the command line.

use hsmtls::msgs::enums::{CipherSuite, NamedGroup, SignatureScheme};

fn list<T>(what: &str, s: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    let items: Vec<T> = s
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| parse(n).ok_or_else(|| format!("unknown {what} {n:?}")))
        .collect::<Result<_, _>>()?;
    if items.is_empty() {
        return Err(format!("empty {what} list"));
    }
    Ok(items)
}

/// Cipher suites by IANA name, e.g. `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`.
pub fn cipher_suites(s: &str) -> Result<Vec<CipherSuite>, String> {
    list("cipher suite", s, CipherSuite::from_name)
}

/// Groups by IANA name, e.g. `secp256r1,brainpoolP256r1`.
pub fn groups(s: &str) -> Result<Vec<NamedGroup>, String> {
    list("group", s, NamedGroup::from_name)
}

/// Signature schemes by IANA name, e.g. `ecdsa_secp256r1_sha256`.
pub fn signature_schemes(s: &str) -> Result<Vec<SignatureScheme>, String> {
    list("signature scheme", s, SignatureScheme::from_name)
}

/// ALPN protocol names, e.g. `h2,http/1.1`.
pub fn alpn(s: &str) -> Result<Vec<Vec<u8>>, String> {
    list("ALPN protocol", s, |n| Some(n.as_bytes().to_vec()))
}

/// Yes or no, for the one-line summary.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The one-line summary of a connection, as the client prints on stderr
/// and the server's `--http` page shows.
pub fn summary(n: &hsmtls::Negotiated) -> String {
    format!(
        "version={} suite={} group={} ems={} etm={} alpn={} resumed={} early_data={} relaxations={}",
        n.version.map(|v| v.as_str()).unwrap_or("-"),
        n.cipher_suite.map(|s| s.as_str()).unwrap_or("-"),
        n.group.map(|g| g.as_str()).unwrap_or("-"),
        yes_no(n.extended_master_secret),
        yes_no(n.encrypt_then_mac),
        n.alpn_protocol
            .as_deref()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_else(|| "-".into()),
        yes_no(n.resumed),
        if n.early_data_accepted {
            "accepted"
        } else {
            "-"
        },
        relaxations(n),
    )
}

/// The key store's relaxations in effect: `none`, or the list quoted.
pub fn relaxations(n: &hsmtls::Negotiated) -> String {
    if n.relaxations.is_empty() {
        "none".into()
    } else {
        format!("\"{}\"", n.relaxations.join("; "))
    }
}
