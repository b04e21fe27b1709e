//! PKCS#8 `PrivateKeyInfo` (RFC 5208, RFC 5958) to and from the
//! components a PKCS#11 private-key object holds: what `C_WrapKey` wraps
//! and `C_UnwrapKey` unwraps for a private key (PKCS#11 3.0 §2.1: "private
//! keys are wrapped as a PrivateKeyInfo").
//!
//! EC keys on every curve hsmtls has (NIST and brainpool) as RFC 5915
//! `ECPrivateKey` with the named curve in the algorithm identifier and the
//! public point included; RSA as RFC 8017 `RSAPrivateKey`; Ed25519 and
//! X25519 as RFC 8410 `CurvePrivateKey`. Decoding checks what it can
//! cheaply check: lengths, the scalar's range, a stated public point
//! against the scalar, the RSA components against each other.

use zeroize::Zeroizing;

use crate::curve::Curve;
use crate::der::{self, Reader};
use crate::ecdh::EcdhPrivateKey;
use crate::error::CryptoError;
use crate::rsa::{RsaComponents, RsaPrivateKey};

/// id-X25519, 1.3.101.110 (RFC 8410).
const OID_X25519: &[u8] = &[0x2b, 0x65, 0x6e];

/// A private key as components.
pub enum PrivateKeyParts {
    /// An EC key on a named curve (not X25519): the big-endian scalar,
    /// `curve.field_len()` bytes.
    Ec {
        /// The curve.
        curve: Curve,
        /// The private scalar.
        scalar: Zeroizing<Vec<u8>>,
    },
    /// An RSA key.
    Rsa(RsaComponents),
    /// An Ed25519 key: the 32-byte seed (RFC 8032 §5.1.5).
    Ed25519(Zeroizing<Vec<u8>>),
    /// An X25519 key: the 32-byte private key (RFC 7748 §5).
    X25519(Zeroizing<Vec<u8>>),
}

impl core::fmt::Debug for PrivateKeyParts {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Ec { curve, .. } => write!(f, "PrivateKeyParts::Ec({curve:?})"),
            Self::Rsa(c) => write!(f, "PrivateKeyParts::Rsa({} bits)", c.n.len() * 8),
            Self::Ed25519(_) => f.write_str("PrivateKeyParts::Ed25519"),
            Self::X25519(_) => f.write_str("PrivateKeyParts::X25519"),
        }
    }
}

fn bad() -> CryptoError {
    CryptoError::InvalidKey("malformed PKCS#8")
}

/// `SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING private }`.
fn private_key_info(algorithm: &[u8], private: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(der::tlv(der::TAG_INTEGER, &[0]));
    body.extend_from_slice(&der::tlv(der::TAG_SEQUENCE, algorithm));
    body.extend_from_slice(&Zeroizing::new(der::tlv(der::TAG_OCTET_STRING, private)));
    Zeroizing::new(der::tlv(der::TAG_SEQUENCE, &body))
}

/// Encodes `parts` as DER PKCS#8.
pub fn encode(parts: &PrivateKeyParts) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    match parts {
        PrivateKeyParts::Ec { curve, scalar } => {
            let oid = curve
                .oid()
                .ok_or(CryptoError::Unsupported("PKCS#8 for this curve"))?;
            if scalar.len() != curve.field_len() {
                return Err(CryptoError::InvalidKey("EC scalar length"));
            }
            let public = EcdhPrivateKey::public_key_of_scalar(*curve, scalar)?;
            let mut algorithm = der::tlv(der::TAG_OID, der::OID_EC_PUBLIC_KEY);
            algorithm.extend_from_slice(&der::tlv(der::TAG_OID, oid));
            // RFC 5915: version 1, the scalar, the public key.
            let mut ec = Zeroizing::new(der::tlv(der::TAG_INTEGER, &[1]));
            ec.extend_from_slice(&Zeroizing::new(der::tlv(der::TAG_OCTET_STRING, scalar)));
            let mut bits = vec![0u8];
            bits.extend_from_slice(&public);
            ec.extend_from_slice(&der::tlv(
                der::TAG_CONTEXT_1,
                &der::tlv(der::TAG_BIT_STRING, &bits),
            ));
            let ec = Zeroizing::new(der::tlv(der::TAG_SEQUENCE, &ec));
            Ok(private_key_info(&algorithm, &ec))
        }
        PrivateKeyParts::Rsa(c) => RsaPrivateKey::from_components(c)?.to_pkcs8_der(),
        PrivateKeyParts::Ed25519(seed) | PrivateKeyParts::X25519(seed) => {
            if seed.len() != 32 {
                return Err(CryptoError::InvalidKey("curve25519 private key length"));
            }
            let oid = match parts {
                PrivateKeyParts::Ed25519(_) => der::OID_ED25519,
                _ => OID_X25519,
            };
            let algorithm = der::tlv(der::TAG_OID, oid);
            let inner = Zeroizing::new(der::tlv(der::TAG_OCTET_STRING, seed));
            Ok(private_key_info(&algorithm, &inner))
        }
    }
}

/// Decodes DER PKCS#8 (v1, or v2 with the optional fields ignored).
pub fn decode(input: &[u8]) -> Result<PrivateKeyParts, CryptoError> {
    let mut outer = Reader::new(input);
    let mut seq = Reader::new(outer.read(der::TAG_SEQUENCE).ok_or_else(bad)?);
    if outer.peek_tag().is_some() {
        return Err(bad());
    }
    match seq.read(der::TAG_INTEGER).ok_or_else(bad)? {
        [0] | [1] => {}
        _ => return Err(bad()),
    }
    let mut alg = Reader::new(seq.read(der::TAG_SEQUENCE).ok_or_else(bad)?);
    let oid = alg.read(der::TAG_OID).ok_or_else(bad)?;
    let private = seq.read(der::TAG_OCTET_STRING).ok_or_else(bad)?;
    match oid {
        der::OID_EC_PUBLIC_KEY => {
            let curve_oid = alg
                .read(der::TAG_OID)
                .ok_or(CryptoError::Unsupported("EC key without a named curve"))?;
            let curve = Curve::from_oid(curve_oid)
                .ok_or(CryptoError::Unsupported("EC curve of this key"))?;
            decode_ec(curve, private)
        }
        der::OID_RSA => {
            let key = RsaPrivateKey::from_pkcs1_der(private)?;
            Ok(PrivateKeyParts::Rsa(key.components()?))
        }
        der::OID_ED25519 | OID_X25519 => {
            let seed = Reader::new(private)
                .read(der::TAG_OCTET_STRING)
                .filter(|s| s.len() == 32)
                .ok_or_else(bad)?;
            let seed = Zeroizing::new(seed.to_vec());
            Ok(if oid == der::OID_ED25519 {
                PrivateKeyParts::Ed25519(seed)
            } else {
                PrivateKeyParts::X25519(seed)
            })
        }
        _ => Err(CryptoError::Unsupported("private key algorithm")),
    }
}

/// RFC 5915 `ECPrivateKey` on `curve`.
fn decode_ec(curve: Curve, der_key: &[u8]) -> Result<PrivateKeyParts, CryptoError> {
    let mut outer = Reader::new(der_key);
    let mut seq = Reader::new(outer.read(der::TAG_SEQUENCE).ok_or_else(bad)?);
    if seq.read(der::TAG_INTEGER) != Some(&[1]) {
        return Err(bad());
    }
    let raw = seq.read(der::TAG_OCTET_STRING).ok_or_else(bad)?;
    if let Some(params) = seq.read_optional(der::TAG_CONTEXT_0).ok_or_else(bad)? {
        let named = Reader::new(params).read(der::TAG_OID).ok_or_else(bad)?;
        if Curve::from_oid(named) != Some(curve) {
            return Err(CryptoError::InvalidKey("conflicting EC parameters"));
        }
    }
    let stated_public = match seq.read_optional(der::TAG_CONTEXT_1).ok_or_else(bad)? {
        Some(p) => match Reader::new(p).read(der::TAG_BIT_STRING).ok_or_else(bad)? {
            [0, point @ ..] => Some(point),
            _ => return Err(bad()),
        },
        None => None,
    };
    let n = curve.field_len();
    if raw.is_empty() || raw.len() > n {
        return Err(CryptoError::InvalidKey("EC scalar length"));
    }
    let mut scalar = Zeroizing::new(vec![0u8; n]);
    scalar[n - raw.len()..].copy_from_slice(raw);
    // In [1, n-1] (else no public point), and matching a stated point.
    let public = EcdhPrivateKey::public_key_of_scalar(curve, &scalar)?;
    if stated_public.is_some_and(|p| p != public.as_slice()) {
        return Err(CryptoError::InvalidKey("EC public key does not match"));
    }
    Ok(PrivateKeyParts::Ec { curve, scalar })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::SigningKey;

    fn scalar(curve: Curve, fill: u8) -> Zeroizing<Vec<u8>> {
        let mut s = vec![fill; curve.field_len()];
        s[0] = 0x01; // below every order
        Zeroizing::new(s)
    }

    #[test]
    fn ec_round_trips_on_every_curve_and_loads_elsewhere() {
        for curve in [
            Curve::P256,
            Curve::P384,
            Curve::P521,
            Curve::BrainpoolP256r1,
            Curve::BrainpoolP384r1,
            Curve::BrainpoolP512r1,
        ] {
            let parts = PrivateKeyParts::Ec {
                curve,
                scalar: scalar(curve, 0x5a),
            };
            let der = encode(&parts).unwrap();
            // The rest of the crate (and so OpenSSL-style parsers) reads it.
            SigningKey::from_pkcs8(&der).unwrap();
            match decode(&der).unwrap() {
                PrivateKeyParts::Ec {
                    curve: c,
                    scalar: s,
                } => {
                    assert_eq!(c, curve);
                    assert_eq!(s, scalar(curve, 0x5a));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn rsa_and_curve25519_round_trip() {
        let key = RsaPrivateKey::generate(2048).unwrap();
        let c = key.components().unwrap();
        let der = encode(&PrivateKeyParts::Rsa(c)).unwrap();
        match decode(&der).unwrap() {
            PrivateKeyParts::Rsa(back) => assert_eq!(back.n, key.components().unwrap().n),
            other => panic!("{other:?}"),
        }
        let seed = Zeroizing::new(vec![9u8; 32]);
        let der = encode(&PrivateKeyParts::Ed25519(seed.clone())).unwrap();
        SigningKey::from_pkcs8(&der).unwrap();
        assert!(matches!(decode(&der).unwrap(), PrivateKeyParts::Ed25519(s) if s == seed));
        let der = encode(&PrivateKeyParts::X25519(seed.clone())).unwrap();
        assert!(matches!(decode(&der).unwrap(), PrivateKeyParts::X25519(s) if s == seed));
    }

    #[test]
    fn bad_input_is_an_error_never_a_panic() {
        let good = encode(&PrivateKeyParts::Ec {
            curve: Curve::P256,
            scalar: scalar(Curve::P256, 3),
        })
        .unwrap();
        for n in 0..good.len() {
            assert!(decode(&good[..n]).is_err(), "truncated at {n}");
        }
        let mut trailing = good.to_vec();
        trailing.push(0);
        assert!(decode(&trailing).is_err());
        for i in 0..good.len() {
            let mut m = good.to_vec();
            m[i] ^= 0x41;
            let _ = decode(&m);
        }
        // A zero scalar, and one that does not match its public key.
        let zero = PrivateKeyParts::Ec {
            curve: Curve::P256,
            scalar: Zeroizing::new(vec![0; 32]),
        };
        assert!(encode(&zero).is_err());
        let mut wrong = good.to_vec();
        let last = wrong.len() - 1;
        wrong[last] ^= 1;
        assert!(decode(&wrong).is_err());
        assert!(encode(&PrivateKeyParts::Ed25519(Zeroizing::new(vec![1; 31]))).is_err());
    }
}
