//! Curve and key-kind identifiers.

use crate::der;
use crate::ffi::ec::RawCurve;

/// An elliptic curve for ECDH or ECDSA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    /// Curve25519 (RFC 7748), ECDH only.
    X25519,
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
    /// NIST P-521 (secp521r1).
    P521,
    /// brainpoolP256r1 (RFC 5639).
    BrainpoolP256r1,
    /// brainpoolP384r1 (RFC 5639).
    BrainpoolP384r1,
    /// brainpoolP512r1 (RFC 5639).
    BrainpoolP512r1,
}

impl Curve {
    /// Field element length in bytes (the ECDH shared secret length).
    pub const fn field_len(self) -> usize {
        match self {
            Self::X25519 | Self::P256 | Self::BrainpoolP256r1 => 32,
            Self::P384 | Self::BrainpoolP384r1 => 48,
            Self::P521 => 66,
            Self::BrainpoolP512r1 => 64,
        }
    }

    /// Length of a public key: 32 for X25519, an uncompressed point
    /// otherwise.
    pub const fn public_key_len(self) -> usize {
        match self {
            Self::X25519 => 32,
            other => 1 + 2 * other.field_len(),
        }
    }

    /// Whether this is one of the RFC 5639 curves (served by AWS-LC's C API).
    pub const fn is_brainpool(self) -> bool {
        matches!(
            self,
            Self::BrainpoolP256r1 | Self::BrainpoolP384r1 | Self::BrainpoolP512r1
        )
    }

    pub(crate) fn raw(self) -> Option<RawCurve> {
        Some(match self {
            Self::X25519 => return None,
            Self::P256 => RawCurve::P256,
            Self::P384 => RawCurve::P384,
            Self::P521 => RawCurve::P521,
            Self::BrainpoolP256r1 => RawCurve::BrainpoolP256r1,
            Self::BrainpoolP384r1 => RawCurve::BrainpoolP384r1,
            Self::BrainpoolP512r1 => RawCurve::BrainpoolP512r1,
        })
    }

    pub(crate) fn from_oid(oid: &[u8]) -> Option<Self> {
        Some(match oid {
            der::OID_P256 => Self::P256,
            der::OID_P384 => Self::P384,
            der::OID_P521 => Self::P521,
            der::OID_BP256 => Self::BrainpoolP256r1,
            der::OID_BP384 => Self::BrainpoolP384r1,
            der::OID_BP512 => Self::BrainpoolP512r1,
            _ => return None,
        })
    }

    pub(crate) fn oid(self) -> Option<&'static [u8]> {
        Some(match self {
            Self::X25519 => return None,
            Self::P256 => der::OID_P256,
            Self::P384 => der::OID_P384,
            Self::P521 => der::OID_P521,
            Self::BrainpoolP256r1 => der::OID_BP256,
            Self::BrainpoolP384r1 => der::OID_BP384,
            Self::BrainpoolP512r1 => der::OID_BP512,
        })
    }
}

/// What kind of key a private or public key is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// An EC key on a Weierstrass curve.
    Ec(Curve),
    /// An RSA key.
    Rsa,
    /// An Ed25519 key.
    Ed25519,
}

/// The DER SubjectPublicKeyInfo (RFC 5480 §2) of an uncompressed EC point,
/// e.g. to hand a public key to other tools.
pub fn ec_public_key_spki(curve: Curve, point: &[u8]) -> Option<Vec<u8>> {
    let oid = curve.oid()?;
    let mut alg = der::tlv(der::TAG_OID, der::OID_EC_PUBLIC_KEY);
    alg.extend_from_slice(&der::tlv(der::TAG_OID, oid));
    let mut bits = vec![0u8];
    bits.extend_from_slice(point);
    let mut body = der::tlv(der::TAG_SEQUENCE, &alg);
    body.extend_from_slice(&der::tlv(der::TAG_BIT_STRING, &bits));
    Some(der::tlv(der::TAG_SEQUENCE, &body))
}
