//! Algorithm identifiers shared by the protocol engine and the key stores.
//!
//! These are the store's vocabulary, not wire values: the protocol engine
//! maps IANA code points (RFC 8446 §4.2.3, §4.2.7; RFC 5246 §7.4.1.4.1) onto
//! them, so a store never parses TLS.

/// A hash function, as used by the TLS PRF, HMAC, HKDF and signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256 (FIPS 180-4).
    Sha256,
    /// SHA-384 (FIPS 180-4).
    Sha384,
    /// SHA-512 (FIPS 180-4).
    Sha512,
}

impl HashAlgorithm {
    /// The length of the digest in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// An (EC)DHE group: the curve a key share lives on.
///
/// RFC 8734's TLS 1.3 brainpool code points name the same curves as the
/// TLS 1.2 ones (RFC 7027), so both map onto one variant here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyExchangeGroup {
    /// Curve25519 for ECDH (RFC 7748).
    X25519,
    /// NIST P-256 (SEC 2 secp256r1).
    Secp256r1,
    /// NIST P-384 (SEC 2 secp384r1).
    Secp384r1,
    /// NIST P-521 (SEC 2 secp521r1).
    Secp521r1,
    /// brainpoolP256r1 (RFC 5639).
    BrainpoolP256r1,
    /// brainpoolP384r1 (RFC 5639).
    BrainpoolP384r1,
    /// brainpoolP512r1 (RFC 5639).
    BrainpoolP512r1,
}

impl KeyExchangeGroup {
    /// Every group, in the default order of preference.
    pub const ALL: [Self; 7] = [
        Self::X25519,
        Self::Secp256r1,
        Self::Secp384r1,
        Self::Secp521r1,
        Self::BrainpoolP256r1,
        Self::BrainpoolP384r1,
        Self::BrainpoolP512r1,
    ];

    /// Length of the field element in bytes; a share is `1 + 2 * len` for
    /// Weierstrass curves (uncompressed point, SEC 1 §2.3.3) and `len` for
    /// X25519.
    pub const fn field_len(self) -> usize {
        match self {
            Self::X25519 | Self::Secp256r1 | Self::BrainpoolP256r1 => 32,
            Self::Secp384r1 | Self::BrainpoolP384r1 => 48,
            Self::Secp521r1 => 66,
            Self::BrainpoolP512r1 => 64,
        }
    }

    /// Length of the public key share on the wire.
    pub const fn share_len(self) -> usize {
        match self {
            Self::X25519 => 32,
            other => 1 + 2 * other.field_len(),
        }
    }
}

/// The kind of a public (or private) key: what a certificate's
/// SubjectPublicKeyInfo holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PublicKeyAlgorithm {
    /// An EC key on the given curve (id-ecPublicKey, RFC 5480).
    Ec(KeyExchangeGroup),
    /// An RSA key (rsaEncryption, RFC 8017).
    Rsa,
    /// An Ed25519 key (RFC 8410).
    Ed25519,
}

/// A signature algorithm as the key store performs it.
///
/// In TLS 1.2 `ecdsa_secp256r1_sha256` means "ECDSA with SHA-256" on the
/// certificate's curve (RFC 8446 §4.2.3 restricts the curve only for 1.3),
/// so the curve comes from the key, not from this value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// ECDSA with SHA-256, DER-encoded `ECDSA-Sig-Value`.
    EcdsaSha256,
    /// ECDSA with SHA-384.
    EcdsaSha384,
    /// ECDSA with SHA-512.
    EcdsaSha512,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2).
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, salt length 32 (RFC 8446 §4.2.3).
    RsaPssSha256,
    /// RSASSA-PSS with SHA-384, salt length 48.
    RsaPssSha384,
    /// RSASSA-PSS with SHA-512, salt length 64.
    RsaPssSha512,
    /// Ed25519 (RFC 8032), the message signed as is.
    Ed25519,
}

impl SignatureAlgorithm {
    /// Whether a key of kind `key` can make or check this signature.
    pub fn fits_key(self, key: PublicKeyAlgorithm) -> bool {
        match self {
            Self::EcdsaSha256 | Self::EcdsaSha384 | Self::EcdsaSha512 => {
                matches!(key, PublicKeyAlgorithm::Ec(g) if g != KeyExchangeGroup::X25519)
            }
            Self::RsaPkcs1Sha256
            | Self::RsaPkcs1Sha384
            | Self::RsaPkcs1Sha512
            | Self::RsaPssSha256
            | Self::RsaPssSha384
            | Self::RsaPssSha512 => key == PublicKeyAlgorithm::Rsa,
            Self::Ed25519 => key == PublicKeyAlgorithm::Ed25519,
        }
    }
}

/// The record protection a TLS 1.2 cipher suite calls for (RFC 5246 §6.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordCipher {
    /// AES-128-GCM, 4-byte implicit salt + 8-byte explicit nonce (RFC 5288).
    Aes128Gcm,
    /// AES-256-GCM (RFC 5288).
    Aes256Gcm,
    /// ChaCha20-Poly1305 with a 12-byte IV XORed with the sequence number (RFC 7905).
    Chacha20Poly1305,
    /// AES-128-CBC with HMAC-SHA256 (RFC 5246 §6.2.3.2); `encrypt_then_mac`
    /// selects RFC 7366 instead of MAC-then-encrypt.
    Aes128CbcSha256 {
        /// Encrypt-then-MAC (RFC 7366) negotiated.
        encrypt_then_mac: bool,
    },
    /// AES-256-CBC with HMAC-SHA384 (RFC 5289).
    Aes256CbcSha384 {
        /// Encrypt-then-MAC (RFC 7366) negotiated.
        encrypt_then_mac: bool,
    },
}

impl RecordCipher {
    /// `(mac_key_length, enc_key_length, fixed_iv_length)` of the TLS 1.2
    /// key block (RFC 5246 §6.3, RFC 5288 §3, RFC 7905 §2).
    ///
    /// CBC has no fixed IV in TLS 1.2: every record carries an explicit IV
    /// (RFC 5246 §6.2.3.2), and "the client_write_IV and server_write_IV
    /// are only generated for implicit nonce techniques" (§6.3). IVs sit at
    /// the end of the key block, so this changes no key.
    pub const fn key_block_shape(self) -> (usize, usize, usize) {
        match self {
            Self::Aes128Gcm => (0, 16, 4),
            Self::Aes256Gcm => (0, 32, 4),
            Self::Chacha20Poly1305 => (0, 32, 12),
            Self::Aes128CbcSha256 { .. } => (32, 16, 0),
            Self::Aes256CbcSha384 { .. } => (48, 32, 0),
        }
    }

    /// Whether this is a CBC + HMAC construction.
    pub const fn is_cbc(self) -> bool {
        matches!(
            self,
            Self::Aes128CbcSha256 { .. } | Self::Aes256CbcSha384 { .. }
        )
    }
}

/// How much a random value is worth protecting, as GnuTLS's
/// `GNUTLS_RND_NONCE` / `_RANDOM` / `_KEY` levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RandomLevel {
    /// Public, unpredictable values: nonces, explicit IVs, session ids.
    Nonce,
    /// Values that must not be guessed: hello randoms, padding.
    Random,
    /// Key material.
    Key,
}

/// The AEAD of a TLS 1.3 cipher suite (RFC 8446 §B.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AeadAlgorithm {
    /// AES-128-GCM (TLS_AES_128_GCM_SHA256).
    Aes128Gcm,
    /// AES-256-GCM (TLS_AES_256_GCM_SHA384).
    Aes256Gcm,
    /// ChaCha20-Poly1305 (TLS_CHACHA20_POLY1305_SHA256).
    Chacha20Poly1305,
}
