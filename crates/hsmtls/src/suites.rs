//! The algorithms hsmtls negotiates: cipher suites (RFC 5289, RFC 7905),
//! named groups (RFC 8422, RFC 7027) and signature schemes (RFC 8446
//! §4.2.3), each mapped onto what the key store performs.

use hsmtls_keys::{
    AeadAlgorithm, HashAlgorithm, KeyExchangeGroup, PublicKeyAlgorithm, RecordCipher,
    SignatureAlgorithm,
};

use crate::msgs::enums::{CipherSuite, NamedGroup, SignatureScheme};

/// How a TLS 1.2 suite authenticates the server's key exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// ECDHE signed with an ECDSA certificate key.
    EcdheEcdsa,
    /// ECDHE signed with an RSA certificate key.
    EcdheRsa,
}

impl AuthMethod {
    /// Whether a certificate key of kind `key` can serve this method.
    pub fn fits_key(self, key: PublicKeyAlgorithm) -> bool {
        match self {
            Self::EcdheEcdsa => matches!(key, PublicKeyAlgorithm::Ec(_)),
            Self::EcdheRsa => key == PublicKeyAlgorithm::Rsa,
        }
    }
}

/// The bulk cipher of a suite, before encrypt-then-MAC is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkCipher {
    /// AES-128-GCM.
    Aes128Gcm,
    /// AES-256-GCM.
    Aes256Gcm,
    /// ChaCha20-Poly1305.
    Chacha20Poly1305,
    /// AES-128-CBC with HMAC-SHA256.
    Aes128CbcSha256,
    /// AES-256-CBC with HMAC-SHA384.
    Aes256CbcSha384,
}

impl BulkCipher {
    /// Whether encrypt-then-MAC (RFC 7366) applies.
    pub fn is_cbc(self) -> bool {
        matches!(self, Self::Aes128CbcSha256 | Self::Aes256CbcSha384)
    }

    /// The record cipher for the key store.
    pub fn record_cipher(self, encrypt_then_mac: bool) -> RecordCipher {
        match self {
            Self::Aes128Gcm => RecordCipher::Aes128Gcm,
            Self::Aes256Gcm => RecordCipher::Aes256Gcm,
            Self::Chacha20Poly1305 => RecordCipher::Chacha20Poly1305,
            Self::Aes128CbcSha256 => RecordCipher::Aes128CbcSha256 { encrypt_then_mac },
            Self::Aes256CbcSha384 => RecordCipher::Aes256CbcSha384 { encrypt_then_mac },
        }
    }
}

/// A TLS 1.2 cipher suite hsmtls implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tls12Suite {
    /// The wire value.
    pub suite: CipherSuite,
    /// Key exchange and authentication.
    pub auth: AuthMethod,
    /// Bulk encryption.
    pub bulk: BulkCipher,
    /// The PRF hash (RFC 5246 §5; RFC 5289 for SHA-384 suites).
    pub prf: HashAlgorithm,
}

macro_rules! suite {
    ($name:ident, $auth:ident, $bulk:ident, $prf:ident) => {
        Tls12Suite {
            suite: CipherSuite::$name,
            auth: AuthMethod::$auth,
            bulk: BulkCipher::$bulk,
            prf: HashAlgorithm::$prf,
        }
    };
}

/// Every TLS 1.2 suite, in the default order of preference: AEADs first,
/// ECDSA before RSA.
pub static TLS12_SUITES: &[Tls12Suite] = &[
    suite!(
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        EcdheEcdsa,
        Aes128Gcm,
        Sha256
    ),
    suite!(
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        EcdheEcdsa,
        Aes256Gcm,
        Sha384
    ),
    suite!(
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        EcdheEcdsa,
        Chacha20Poly1305,
        Sha256
    ),
    suite!(
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        EcdheRsa,
        Aes128Gcm,
        Sha256
    ),
    suite!(
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        EcdheRsa,
        Aes256Gcm,
        Sha384
    ),
    suite!(
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        EcdheRsa,
        Chacha20Poly1305,
        Sha256
    ),
    suite!(
        TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
        EcdheEcdsa,
        Aes128CbcSha256,
        Sha256
    ),
    suite!(
        TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
        EcdheEcdsa,
        Aes256CbcSha384,
        Sha384
    ),
    suite!(
        TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
        EcdheRsa,
        Aes128CbcSha256,
        Sha256
    ),
    suite!(
        TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
        EcdheRsa,
        Aes256CbcSha384,
        Sha384
    ),
];

/// Looks a suite up by wire value.
pub fn tls12_suite(suite: CipherSuite) -> Option<&'static Tls12Suite> {
    TLS12_SUITES.iter().find(|s| s.suite == suite)
}

/// Groups offered by default, in order of preference.
pub static DEFAULT_GROUPS: &[NamedGroup] = &[
    NamedGroup::x25519,
    NamedGroup::secp256r1,
    NamedGroup::secp384r1,
    NamedGroup::secp521r1,
    NamedGroup::brainpoolP256r1,
    NamedGroup::brainpoolP384r1,
    NamedGroup::brainpoolP512r1,
];

/// The key store's group for a TLS 1.2 named group (RFC 8422 §5.1.1,
/// RFC 7027 §2).
pub fn key_exchange_group(group: NamedGroup) -> Option<KeyExchangeGroup> {
    Some(match group {
        NamedGroup::x25519 => KeyExchangeGroup::X25519,
        NamedGroup::secp256r1 => KeyExchangeGroup::Secp256r1,
        NamedGroup::secp384r1 => KeyExchangeGroup::Secp384r1,
        NamedGroup::secp521r1 => KeyExchangeGroup::Secp521r1,
        NamedGroup::brainpoolP256r1 => KeyExchangeGroup::BrainpoolP256r1,
        NamedGroup::brainpoolP384r1 => KeyExchangeGroup::BrainpoolP384r1,
        NamedGroup::brainpoolP512r1 => KeyExchangeGroup::BrainpoolP512r1,
        _ => return None,
    })
}

/// Signature schemes offered by default, in order of preference.
pub static DEFAULT_SIGNATURE_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ecdsa_secp256r1_sha256,
    SignatureScheme::ecdsa_secp384r1_sha384,
    SignatureScheme::ecdsa_secp521r1_sha512,
    SignatureScheme::rsa_pss_rsae_sha256,
    SignatureScheme::rsa_pss_rsae_sha384,
    SignatureScheme::rsa_pss_rsae_sha512,
    SignatureScheme::rsa_pkcs1_sha256,
    SignatureScheme::rsa_pkcs1_sha384,
    SignatureScheme::rsa_pkcs1_sha512,
];

/// What the key store does for a TLS 1.2 signature scheme. In TLS 1.2 the
/// ECDSA schemes name only the hash (RFC 8446 §4.2.3 note on 1.2).
pub fn tls12_signature_algorithm(scheme: SignatureScheme) -> Option<SignatureAlgorithm> {
    Some(match scheme {
        SignatureScheme::ecdsa_secp256r1_sha256 => SignatureAlgorithm::EcdsaSha256,
        SignatureScheme::ecdsa_secp384r1_sha384 => SignatureAlgorithm::EcdsaSha384,
        SignatureScheme::ecdsa_secp521r1_sha512 => SignatureAlgorithm::EcdsaSha512,
        SignatureScheme::rsa_pkcs1_sha256 => SignatureAlgorithm::RsaPkcs1Sha256,
        SignatureScheme::rsa_pkcs1_sha384 => SignatureAlgorithm::RsaPkcs1Sha384,
        SignatureScheme::rsa_pkcs1_sha512 => SignatureAlgorithm::RsaPkcs1Sha512,
        SignatureScheme::rsa_pss_rsae_sha256 => SignatureAlgorithm::RsaPssSha256,
        SignatureScheme::rsa_pss_rsae_sha384 => SignatureAlgorithm::RsaPssSha384,
        SignatureScheme::rsa_pss_rsae_sha512 => SignatureAlgorithm::RsaPssSha512,
        SignatureScheme::ed25519 => SignatureAlgorithm::Ed25519,
        _ => return None,
    })
}

/// A TLS 1.3 cipher suite (RFC 8446 §B.4): an AEAD and the key schedule's
/// hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tls13Suite {
    /// The wire value.
    pub suite: CipherSuite,
    /// The record AEAD.
    pub aead: AeadAlgorithm,
    /// The HKDF and transcript hash.
    pub hash: HashAlgorithm,
}

/// Every TLS 1.3 suite, in the default order of preference.
pub static TLS13_SUITES: &[Tls13Suite] = &[
    Tls13Suite {
        suite: CipherSuite::TLS_AES_128_GCM_SHA256,
        aead: AeadAlgorithm::Aes128Gcm,
        hash: HashAlgorithm::Sha256,
    },
    Tls13Suite {
        suite: CipherSuite::TLS_AES_256_GCM_SHA384,
        aead: AeadAlgorithm::Aes256Gcm,
        hash: HashAlgorithm::Sha384,
    },
    Tls13Suite {
        suite: CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
        aead: AeadAlgorithm::Chacha20Poly1305,
        hash: HashAlgorithm::Sha256,
    },
];

/// Looks a TLS 1.3 suite up by wire value.
pub fn tls13_suite(suite: CipherSuite) -> Option<&'static Tls13Suite> {
    TLS13_SUITES.iter().find(|s| s.suite == suite)
}

/// The key store's group for a TLS 1.3 named group: the NIST curves and
/// X25519 as in TLS 1.2, brainpool only under the RFC 8734 code points.
pub fn tls13_key_exchange_group(group: NamedGroup) -> Option<KeyExchangeGroup> {
    Some(match group {
        NamedGroup::x25519 => KeyExchangeGroup::X25519,
        NamedGroup::secp256r1 => KeyExchangeGroup::Secp256r1,
        NamedGroup::secp384r1 => KeyExchangeGroup::Secp384r1,
        NamedGroup::secp521r1 => KeyExchangeGroup::Secp521r1,
        NamedGroup::brainpoolP256r1tls13 => KeyExchangeGroup::BrainpoolP256r1,
        NamedGroup::brainpoolP384r1tls13 => KeyExchangeGroup::BrainpoolP384r1,
        NamedGroup::brainpoolP512r1tls13 => KeyExchangeGroup::BrainpoolP512r1,
        _ => return None,
    })
}

/// The TLS 1.3 code point of a TLS 1.2 group (RFC 8734 §2 gives brainpool
/// new ones); other groups keep theirs.
pub fn tls13_group_for(group: NamedGroup) -> NamedGroup {
    match group {
        NamedGroup::brainpoolP256r1 => NamedGroup::brainpoolP256r1tls13,
        NamedGroup::brainpoolP384r1 => NamedGroup::brainpoolP384r1tls13,
        NamedGroup::brainpoolP512r1 => NamedGroup::brainpoolP512r1tls13,
        other => other,
    }
}

/// What the key store does for a TLS 1.3 signature scheme with a key of
/// kind `key`: RFC 8446 §4.2.3 ties each ECDSA scheme to one curve, allows
/// no PKCS#1 v1.5 in handshake signatures, and RFC 8734 adds brainpool.
pub fn tls13_signature_algorithm(
    scheme: SignatureScheme,
    key: PublicKeyAlgorithm,
) -> Option<SignatureAlgorithm> {
    use KeyExchangeGroup as G;
    use PublicKeyAlgorithm as K;
    let (algorithm, fits) = match scheme {
        SignatureScheme::ecdsa_secp256r1_sha256 => {
            (SignatureAlgorithm::EcdsaSha256, key == K::Ec(G::Secp256r1))
        }
        SignatureScheme::ecdsa_secp384r1_sha384 => {
            (SignatureAlgorithm::EcdsaSha384, key == K::Ec(G::Secp384r1))
        }
        SignatureScheme::ecdsa_secp521r1_sha512 => {
            (SignatureAlgorithm::EcdsaSha512, key == K::Ec(G::Secp521r1))
        }
        SignatureScheme::ecdsa_brainpoolP256r1tls13_sha256 => (
            SignatureAlgorithm::EcdsaSha256,
            key == K::Ec(G::BrainpoolP256r1),
        ),
        SignatureScheme::ecdsa_brainpoolP384r1tls13_sha384 => (
            SignatureAlgorithm::EcdsaSha384,
            key == K::Ec(G::BrainpoolP384r1),
        ),
        SignatureScheme::ecdsa_brainpoolP512r1tls13_sha512 => (
            SignatureAlgorithm::EcdsaSha512,
            key == K::Ec(G::BrainpoolP512r1),
        ),
        SignatureScheme::rsa_pss_rsae_sha256 => (SignatureAlgorithm::RsaPssSha256, key == K::Rsa),
        SignatureScheme::rsa_pss_rsae_sha384 => (SignatureAlgorithm::RsaPssSha384, key == K::Rsa),
        SignatureScheme::rsa_pss_rsae_sha512 => (SignatureAlgorithm::RsaPssSha512, key == K::Rsa),
        SignatureScheme::ed25519 => (SignatureAlgorithm::Ed25519, key == K::Ed25519),
        _ => return None,
    };
    fits.then_some(algorithm)
}

/// TLS 1.3 signature schemes offered by default, in order of preference.
pub static DEFAULT_TLS13_SIGNATURE_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ecdsa_secp256r1_sha256,
    SignatureScheme::ecdsa_secp384r1_sha384,
    SignatureScheme::ecdsa_secp521r1_sha512,
    SignatureScheme::ecdsa_brainpoolP256r1tls13_sha256,
    SignatureScheme::ecdsa_brainpoolP384r1tls13_sha384,
    SignatureScheme::ecdsa_brainpoolP512r1tls13_sha512,
    SignatureScheme::rsa_pss_rsae_sha256,
    SignatureScheme::rsa_pss_rsae_sha384,
    SignatureScheme::rsa_pss_rsae_sha512,
    SignatureScheme::ed25519,
];
