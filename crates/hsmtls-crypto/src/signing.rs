//! Long-term private keys: import (PKCS#8, SEC 1, PKCS#1; PEM or DER),
//! signing and verification.
//!
//! - ECDSA on P-256/P-384/P-521 signs through aws-lc-rs where it has a
//!   signing constant for the curve/hash pair (P-256+SHA-256,
//!   P-384+SHA-384, P-521+any); the other pairs (e.g. P-256+SHA-512) and all
//!   brainpool curves sign through AWS-LC's C API (`ffi::ec`), over a digest
//!   computed here. Verification of NIST curves uses aws-lc-rs (it has all
//!   nine pairs), brainpool uses the C API.
//! - Prehashed ECDSA ([`SigningKey::sign_prehashed`], [`verify_prehashed`])
//!   signs and checks a digest the caller computed, on every EC curve
//!   through the C API.
//! - RSA PKCS#1 v1.5 and PSS (salt length = hash length, RFC 8446 §4.2.3)
//!   and Ed25519 (RFC 8032) use aws-lc-rs.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use zeroize::Zeroizing;

use crate::curve::{Curve, KeyKind};
use crate::der::{self, Reader};
use crate::error::CryptoError;
use crate::ffi::ec::{self, EcKey};
use crate::hash::{digest, HashAlg};
use crate::pem;

/// A signature scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    /// ECDSA (DER `ECDSA-Sig-Value`) over the given hash.
    Ecdsa(HashAlg),
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2).
    RsaPkcs1(HashAlg),
    /// RSASSA-PSS with MGF1 of the same hash and salt length = hash length.
    RsaPss(HashAlg),
    /// Ed25519 (RFC 8032), pure.
    Ed25519,
}

impl SignatureScheme {
    /// Whether a key of `kind` can make or check this signature.
    pub fn fits(self, kind: KeyKind) -> bool {
        match self {
            Self::Ecdsa(_) => matches!(kind, KeyKind::Ec(c) if c != Curve::X25519),
            Self::RsaPkcs1(_) | Self::RsaPss(_) => kind == KeyKind::Rsa,
            Self::Ed25519 => kind == KeyKind::Ed25519,
        }
    }
}

enum Inner {
    Ec {
        curve: Curve,
        raw: EcKey,
        /// aws-lc-rs's key pair for the curve's native hash, if it has one.
        native: Option<(HashAlg, EcdsaKeyPair)>,
        public: Vec<u8>,
    },
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A long-term private key.
pub struct SigningKey {
    inner: Inner,
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kind", &self.kind())
            .finish()
    }
}

const KEY_LABELS: [&str; 4] = [
    "PRIVATE KEY",
    "EC PRIVATE KEY",
    "RSA PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
];

impl SigningKey {
    /// Imports a private key from PEM (`PRIVATE KEY`, `EC PRIVATE KEY`,
    /// `RSA PRIVATE KEY`) or DER (PKCS#8 v1/v2, SEC 1 `ECPrivateKey` with a
    /// named curve, PKCS#1 `RSAPrivateKey`), detecting the algorithm and
    /// curve.
    pub fn from_pem_or_der(input: &[u8]) -> Result<Self, CryptoError> {
        if input.starts_with(b"-----") || input.windows(11).any(|w| w == b"-----BEGIN ") {
            let (label, der) = pem::decode(input, &KEY_LABELS)
                .ok_or(CryptoError::InvalidKey("no private key PEM block"))?;
            return match label {
                "PRIVATE KEY" => Self::from_pkcs8(&der),
                "EC PRIVATE KEY" => Self::from_sec1(&der, None),
                "RSA PRIVATE KEY" => Self::from_pkcs1(&der),
                _ => Err(CryptoError::Unsupported("encrypted private keys")),
            };
        }
        Self::from_der(input)
    }

    /// Imports a DER private key of any supported container.
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        let mut outer = Reader::new(der);
        let mut seq = Reader::new(
            outer
                .read(der::TAG_SEQUENCE)
                .ok_or(CryptoError::InvalidKey("not a DER SEQUENCE"))?,
        );
        let _version = seq
            .read(der::TAG_INTEGER)
            .ok_or(CryptoError::InvalidKey("no version"))?;
        match seq.peek_tag() {
            Some(der::TAG_SEQUENCE) => Self::from_pkcs8(der),
            Some(der::TAG_OCTET_STRING) => Self::from_sec1(der, None),
            Some(der::TAG_INTEGER) => Self::from_pkcs1(der),
            _ => Err(CryptoError::InvalidKey("unknown private key container")),
        }
    }

    /// PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey` (RFC 5958).
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, CryptoError> {
        let bad = CryptoError::InvalidKey("malformed PKCS#8");
        let mut outer = Reader::new(der);
        let mut seq = Reader::new(outer.read(der::TAG_SEQUENCE).ok_or(bad.clone())?);
        seq.read(der::TAG_INTEGER).ok_or(bad.clone())?;
        let mut alg = Reader::new(seq.read(der::TAG_SEQUENCE).ok_or(bad.clone())?);
        let oid = alg.read(der::TAG_OID).ok_or(bad.clone())?;
        let private = seq.read(der::TAG_OCTET_STRING).ok_or(bad.clone())?;
        match oid {
            der::OID_RSA => RsaKeyPair::from_pkcs8(der)
                .map(|k| Self {
                    inner: Inner::Rsa(k),
                })
                .map_err(|_| CryptoError::InvalidKey("RSA PKCS#8 rejected")),
            der::OID_ED25519 => Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                .map(|k| Self {
                    inner: Inner::Ed25519(k),
                })
                .map_err(|_| CryptoError::InvalidKey("Ed25519 PKCS#8 rejected")),
            der::OID_EC_PUBLIC_KEY => {
                let curve_oid = alg
                    .read(der::TAG_OID)
                    .ok_or(CryptoError::InvalidKey("EC key without named curve"))?;
                let curve = Curve::from_oid(curve_oid)
                    .ok_or(CryptoError::Unsupported("EC curve of this key"))?;
                Self::from_sec1(private, Some(curve))
            }
            _ => Err(CryptoError::Unsupported("private key algorithm")),
        }
    }

    /// SEC 1 `ECPrivateKey` (RFC 5915); `curve` from the PKCS#8 wrapper, or
    /// `None` to take it from the `parameters` field.
    pub fn from_sec1(der: &[u8], curve: Option<Curve>) -> Result<Self, CryptoError> {
        let bad = CryptoError::InvalidKey("malformed ECPrivateKey");
        let mut outer = Reader::new(der);
        let mut seq = Reader::new(outer.read(der::TAG_SEQUENCE).ok_or(bad.clone())?);
        if seq.read(der::TAG_INTEGER) != Some(&[1]) {
            return Err(bad);
        }
        let scalar = seq.read(der::TAG_OCTET_STRING).ok_or(bad.clone())?;
        let params = seq.read_optional(der::TAG_CONTEXT_0).ok_or(bad.clone())?;
        let embedded = match params {
            Some(p) => {
                let oid = Reader::new(p)
                    .read(der::TAG_OID)
                    .ok_or(CryptoError::Unsupported("explicit EC parameters"))?;
                Some(Curve::from_oid(oid).ok_or(CryptoError::Unsupported("EC curve of this key"))?)
            }
            None => None,
        };
        let curve = match (curve, embedded) {
            (Some(a), Some(b)) if a != b => {
                return Err(CryptoError::InvalidKey("conflicting EC parameters"))
            }
            (Some(c), _) | (None, Some(c)) => c,
            (None, None) => return Err(CryptoError::InvalidKey("EC key without curve")),
        };
        let claimed_public = match seq.read_optional(der::TAG_CONTEXT_1).ok_or(bad.clone())? {
            Some(p) => {
                let bits = Reader::new(p)
                    .read(der::TAG_BIT_STRING)
                    .ok_or(bad.clone())?;
                match bits.split_first() {
                    Some((0, point)) => Some(point),
                    _ => return Err(bad),
                }
            }
            None => None,
        };
        Self::from_ec_scalar(curve, scalar, claimed_public)
    }

    /// An EC key from its private scalar (big-endian). If `claimed_public`
    /// is given it must match `scalar·G`.
    pub fn from_ec_scalar(
        curve: Curve,
        scalar: &[u8],
        claimed_public: Option<&[u8]>,
    ) -> Result<Self, CryptoError> {
        let raw_curve = curve
            .raw()
            .ok_or(CryptoError::Unsupported("X25519 is not a signing curve"))?;
        // Left-pad to the field length: aws-lc-rs wants exactly that.
        let n = curve.field_len();
        if scalar.len() > n {
            return Err(CryptoError::InvalidKey("EC private scalar too long"));
        }
        let mut padded = Zeroizing::new(vec![0u8; n]);
        padded[n - scalar.len()..].copy_from_slice(scalar);
        let raw = EcKey::from_scalar(raw_curve, &padded)?;
        let public = raw.public_key()?;
        if claimed_public.is_some_and(|p| p != public.as_slice()) {
            return Err(CryptoError::InvalidKey("EC public key does not match"));
        }
        let native = match curve {
            Curve::P256 => Some((HashAlg::Sha256, &signature::ECDSA_P256_SHA256_ASN1_SIGNING)),
            Curve::P384 => Some((HashAlg::Sha384, &signature::ECDSA_P384_SHA384_ASN1_SIGNING)),
            Curve::P521 => Some((HashAlg::Sha512, &signature::ECDSA_P521_SHA512_ASN1_SIGNING)),
            _ => None,
        };
        let native = match native {
            Some((hash, alg)) => Some((
                hash,
                EcdsaKeyPair::from_private_key_and_public_key(alg, &padded, &public)
                    .map_err(|_| CryptoError::InvalidKey("EC key rejected by aws-lc-rs"))?,
            )),
            None => None,
        };
        Ok(Self {
            inner: Inner::Ec {
                curve,
                raw,
                native,
                public,
            },
        })
    }

    /// An Ed25519 key from its 32-byte seed (RFC 8032 §5.1.5, the private
    /// key as a PKCS#11 token stores it in `CKA_VALUE`).
    pub fn from_ed25519_seed(seed: &[u8]) -> Result<Self, CryptoError> {
        if seed.len() != 32 {
            return Err(CryptoError::InvalidKey("Ed25519 seed length"));
        }
        Ed25519KeyPair::from_seed_unchecked(seed)
            .map(|k| Self {
                inner: Inner::Ed25519(k),
            })
            .map_err(|_| CryptoError::InvalidKey("Ed25519 seed rejected"))
    }

    /// PKCS#1 `RSAPrivateKey` (RFC 8017 §A.1.2).
    pub fn from_pkcs1(der: &[u8]) -> Result<Self, CryptoError> {
        RsaKeyPair::from_der(der)
            .map(|k| Self {
                inner: Inner::Rsa(k),
            })
            .map_err(|_| CryptoError::InvalidKey("RSA PKCS#1 rejected"))
    }

    /// What kind of key this is.
    pub fn kind(&self) -> KeyKind {
        match &self.inner {
            Inner::Ec { curve, .. } => KeyKind::Ec(*curve),
            Inner::Rsa(_) => KeyKind::Rsa,
            Inner::Ed25519(_) => KeyKind::Ed25519,
        }
    }

    /// The public key as a certificate carries it: an uncompressed point,
    /// a DER `RSAPublicKey`, or 32 bytes for Ed25519.
    pub fn public_key(&self) -> Vec<u8> {
        match &self.inner {
            Inner::Ec { public, .. } => public.clone(),
            Inner::Rsa(k) => k.public_key().as_ref().to_vec(),
            Inner::Ed25519(k) => k.public_key().as_ref().to_vec(),
        }
    }

    /// Signs `message` with `scheme`.
    pub fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mismatch = CryptoError::InvalidParameter("signature scheme does not fit the key");
        let rng = SystemRandom::new();
        match (&self.inner, scheme) {
            (Inner::Ec { raw, native, .. }, SignatureScheme::Ecdsa(hash)) => match native {
                Some((native_hash, pair)) if *native_hash == hash => pair
                    .sign(&rng, message)
                    .map(|s| s.as_ref().to_vec())
                    .map_err(|_| CryptoError::Internal("ECDSA signing")),
                _ => raw.sign_digest(&digest(hash, message)),
            },
            (Inner::Rsa(k), SignatureScheme::RsaPkcs1(_) | SignatureScheme::RsaPss(_)) => {
                let encoding: &'static dyn signature::RsaEncoding = match scheme {
                    SignatureScheme::RsaPkcs1(HashAlg::Sha256) => &signature::RSA_PKCS1_SHA256,
                    SignatureScheme::RsaPkcs1(HashAlg::Sha384) => &signature::RSA_PKCS1_SHA384,
                    SignatureScheme::RsaPkcs1(HashAlg::Sha512) => &signature::RSA_PKCS1_SHA512,
                    SignatureScheme::RsaPss(HashAlg::Sha256) => &signature::RSA_PSS_SHA256,
                    SignatureScheme::RsaPss(HashAlg::Sha384) => &signature::RSA_PSS_SHA384,
                    SignatureScheme::RsaPss(HashAlg::Sha512) => &signature::RSA_PSS_SHA512,
                    _ => return Err(mismatch),
                };
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(encoding, &rng, message, &mut sig)
                    .map_err(|_| CryptoError::Internal("RSA signing"))?;
                Ok(sig)
            }
            (Inner::Ed25519(k), SignatureScheme::Ed25519) => Ok(k.sign(message).as_ref().to_vec()),
            _ => Err(mismatch),
        }
    }
}

impl SigningKey {
    /// ECDSA over a digest the caller computed (PKCS#11's raw `CKM_ECDSA`,
    /// SEC 1 §4.1.3): DER `ECDSA-Sig-Value` output. `digest` may have any
    /// length from 1 to 128 bytes; as SEC 1 says, only its leftmost
    /// `log2(n)` bits are used. Every EC curve (NIST and brainpool) signs
    /// through AWS-LC's C API, since aws-lc-rs signs only over digests it
    /// computed itself. Not for RSA or Ed25519 keys.
    pub fn sign_prehashed(&self, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
        check_prehash(digest)?;
        match &self.inner {
            Inner::Ec { raw, .. } => raw.sign_digest(digest),
            _ => Err(CryptoError::InvalidParameter(
                "prehashed signing is ECDSA only",
            )),
        }
    }
}

fn check_prehash(digest: &[u8]) -> Result<(), CryptoError> {
    if digest.is_empty() || digest.len() > 128 {
        return Err(CryptoError::InvalidParameter(
            "prehashed ECDSA input length",
        ));
    }
    Ok(())
}

/// Verifies a DER ECDSA signature `sig` over a precomputed `digest` (the
/// counterpart of [`SigningKey::sign_prehashed`]) with the uncompressed
/// point `public_key` on `curve`. Any failure is
/// [`CryptoError::BadSignature`], except X25519 or a digest length outside
/// 1..=128 ([`CryptoError::InvalidParameter`]).
pub fn verify_prehashed(
    curve: Curve,
    public_key: &[u8],
    digest: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    check_prehash(digest)?;
    let raw = curve.raw().ok_or(CryptoError::InvalidParameter(
        "X25519 is not a signing curve",
    ))?;
    ec::verify_digest(raw, public_key, digest, sig).map_err(|e| match e {
        CryptoError::Internal(_) => e,
        _ => CryptoError::BadSignature,
    })
}

/// Verifies `sig` over `message` under `public_key` (in the form of
/// [`SigningKey::public_key`]) of kind `kind`. Any failure, including a
/// malformed key, is [`CryptoError::BadSignature`] except a scheme that
/// does not fit the key ([`CryptoError::InvalidParameter`]).
pub fn verify(
    kind: KeyKind,
    public_key: &[u8],
    scheme: SignatureScheme,
    message: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    use signature::VerificationAlgorithm;
    if !scheme.fits(kind) {
        return Err(CryptoError::InvalidParameter(
            "signature scheme does not fit the key",
        ));
    }
    let alg: &'static dyn VerificationAlgorithm = match (kind, scheme) {
        (KeyKind::Ec(curve), SignatureScheme::Ecdsa(hash)) if curve.is_brainpool() => {
            let raw = curve.raw().ok_or(CryptoError::BadSignature)?;
            return ec::verify_digest(raw, public_key, &digest(hash, message), sig).map_err(|e| {
                match e {
                    CryptoError::Internal(_) => e,
                    _ => CryptoError::BadSignature,
                }
            });
        }
        (KeyKind::Ec(curve), SignatureScheme::Ecdsa(hash)) => match (curve, hash) {
            (Curve::P256, HashAlg::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
            (Curve::P256, HashAlg::Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
            (Curve::P256, HashAlg::Sha512) => &signature::ECDSA_P256_SHA512_ASN1,
            (Curve::P384, HashAlg::Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
            (Curve::P384, HashAlg::Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
            (Curve::P384, HashAlg::Sha512) => &signature::ECDSA_P384_SHA512_ASN1,
            (Curve::P521, HashAlg::Sha256) => &signature::ECDSA_P521_SHA256_ASN1,
            (Curve::P521, HashAlg::Sha384) => &signature::ECDSA_P521_SHA384_ASN1,
            (Curve::P521, HashAlg::Sha512) => &signature::ECDSA_P521_SHA512_ASN1,
            _ => return Err(CryptoError::Unsupported("ECDSA curve")),
        },
        (_, SignatureScheme::RsaPkcs1(HashAlg::Sha256)) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (_, SignatureScheme::RsaPkcs1(HashAlg::Sha384)) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (_, SignatureScheme::RsaPkcs1(HashAlg::Sha512)) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (_, SignatureScheme::RsaPss(HashAlg::Sha256)) => &signature::RSA_PSS_2048_8192_SHA256,
        (_, SignatureScheme::RsaPss(HashAlg::Sha384)) => &signature::RSA_PSS_2048_8192_SHA384,
        (_, SignatureScheme::RsaPss(HashAlg::Sha512)) => &signature::RSA_PSS_2048_8192_SHA512,
        (_, SignatureScheme::Ed25519) => &signature::ED25519,
        _ => return Err(CryptoError::BadSignature),
    };
    signature::UnparsedPublicKey::new(alg, public_key)
        .verify(message, sig)
        .map_err(|_| CryptoError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURVES: [Curve; 6] = [
        Curve::P256,
        Curve::P384,
        Curve::P521,
        Curve::BrainpoolP256r1,
        Curve::BrainpoolP384r1,
        Curve::BrainpoolP512r1,
    ];

    #[test]
    fn ed25519_from_seed_rfc8032() {
        // RFC 8032 §7.1, TEST 2.
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let key = SigningKey::from_ed25519_seed(&hex(
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        ))
        .unwrap();
        let public = hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
        assert_eq!(key.public_key(), public);
        let sig = key.sign(SignatureScheme::Ed25519, &[0x72]).unwrap();
        assert_eq!(
            sig,
            hex(
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
                 085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
            )
        );
        verify(
            KeyKind::Ed25519,
            &public,
            SignatureScheme::Ed25519,
            &[0x72],
            &sig,
        )
        .unwrap();
        assert!(SigningKey::from_ed25519_seed(&[0; 31]).is_err());
    }

    #[test]
    fn prehashed_ecdsa_matches_hashed_ecdsa() {
        for curve in CURVES {
            let mut d = vec![0u8; curve.field_len()];
            d[curve.field_len() - 1] = 7;
            d[1] = 0x42;
            let key = SigningKey::from_ec_scalar(curve, &d, None).unwrap();
            let public = key.public_key();
            for hash in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
                let message = b"prehashed";
                let h = digest(hash, message);
                // Prehashed signatures verify as ordinary ones and back.
                let sig = key.sign_prehashed(&h).unwrap();
                verify(
                    KeyKind::Ec(curve),
                    &public,
                    SignatureScheme::Ecdsa(hash),
                    message,
                    &sig,
                )
                .unwrap();
                let sig = key.sign(SignatureScheme::Ecdsa(hash), message).unwrap();
                verify_prehashed(curve, &public, &h, &sig).unwrap();
                let mut other = h.clone();
                other[0] ^= 1;
                assert!(matches!(
                    verify_prehashed(curve, &public, &other, &sig),
                    Err(CryptoError::BadSignature)
                ));
                assert!(matches!(
                    verify_prehashed(curve, &public[1..], &h, &sig),
                    Err(CryptoError::BadSignature)
                ));
            }
            // Short and odd-length inputs sign too (SEC 1 truncation).
            let sig = key.sign_prehashed(&[1, 2, 3]).unwrap();
            verify_prehashed(curve, &public, &[1, 2, 3], &sig).unwrap();
            assert!(key.sign_prehashed(&[]).is_err());
            assert!(key.sign_prehashed(&[0; 129]).is_err());
        }
        assert!(matches!(
            verify_prehashed(Curve::X25519, &[9; 32], &[1; 32], &[0; 64]),
            Err(CryptoError::InvalidParameter(_))
        ));
    }
}
