//! Ephemeral (EC)DH (RFC 7748, SEC 1 §3.3.1, RFC 8422 §5.10): X25519 and
//! the NIST curves on aws-lc-rs, the brainpool curves on AWS-LC's C API.

use aws_lc_rs::agreement;
use zeroize::Zeroizing;

use crate::curve::Curve;
use crate::error::CryptoError;
use crate::ffi::ec::EcKey;

enum Inner {
    AwsLc(agreement::PrivateKey),
    Raw(EcKey),
}

/// The private half of an ephemeral key share.
pub struct EcdhPrivateKey {
    curve: Curve,
    inner: Inner,
}

impl core::fmt::Debug for EcdhPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EcdhPrivateKey")
            .field("curve", &self.curve)
            .finish()
    }
}

impl EcdhPrivateKey {
    /// A fresh key pair on `curve`.
    pub fn generate(curve: Curve) -> Result<Self, CryptoError> {
        let alg = match curve {
            Curve::X25519 => &agreement::X25519,
            Curve::P256 => &agreement::ECDH_P256,
            Curve::P384 => &agreement::ECDH_P384,
            Curve::P521 => &agreement::ECDH_P521,
            other => {
                let raw = other.raw().ok_or(CryptoError::Unsupported("ECDH curve"))?;
                return Ok(Self {
                    curve,
                    inner: Inner::Raw(EcKey::generate(raw)?),
                });
            }
        };
        let key = agreement::PrivateKey::generate(alg)
            .map_err(|_| CryptoError::Internal("ECDH key generation"))?;
        Ok(Self {
            curve,
            inner: Inner::AwsLc(key),
        })
    }

    /// An ECDH key from a private scalar (Weierstrass curves, big-endian);
    /// for tests against other implementations.
    pub fn from_scalar(curve: Curve, scalar: &[u8]) -> Result<Self, CryptoError> {
        let raw = curve
            .raw()
            .ok_or(CryptoError::Unsupported("X25519 from scalar"))?;
        Ok(Self {
            curve,
            inner: Inner::Raw(EcKey::from_scalar(raw, scalar)?),
        })
    }

    /// A key for agreement only, from its big-endian scalar (no public
    /// point is computed, so [`EcdhPrivateKey::public_key`] fails on it):
    /// what a token needs to run `CKM_ECDH1_DERIVE` on a stored key.
    pub fn from_scalar_for_agreement(curve: Curve, scalar: &[u8]) -> Result<Self, CryptoError> {
        let raw = curve
            .raw()
            .ok_or(CryptoError::Unsupported("X25519 from scalar"))?;
        Ok(Self {
            curve,
            inner: Inner::Raw(EcKey::from_scalar_private_only(raw, scalar)?),
        })
    }

    /// The uncompressed public point of the big-endian private `scalar`
    /// (one scalar multiplication; the scalar must be in `[1, n-1]`).
    pub fn public_key_of_scalar(curve: Curve, scalar: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let raw = curve
            .raw()
            .ok_or(CryptoError::Unsupported("X25519 from scalar"))?;
        EcKey::from_scalar(raw, scalar)?.public_key()
    }

    /// An X25519 key from its 32-byte private key (RFC 7748 §5, the
    /// little-endian scalar before clamping), as a PKCS#11 token stores
    /// it in `CKA_VALUE`.
    pub fn from_x25519_private(private: &[u8]) -> Result<Self, CryptoError> {
        if private.len() != 32 {
            return Err(CryptoError::InvalidKey("X25519 private key length"));
        }
        let key = agreement::PrivateKey::from_private_key(&agreement::X25519, private)
            .map_err(|_| CryptoError::InvalidKey("X25519 private key rejected"))?;
        Ok(Self {
            curve: Curve::X25519,
            inner: Inner::AwsLc(key),
        })
    }

    /// X25519 of a stored 32-byte private key (RFC 7748 §5, before
    /// clamping) with a 32-byte peer key, without computing the private
    /// key's public half as [`EcdhPrivateKey::from_x25519_private`] does:
    /// what a token needs to run `CKM_ECDH1_DERIVE` on a stored key. A
    /// wrong length or an all-zero result is [`CryptoError::InvalidPeerKey`]
    /// (the private key's length is [`CryptoError::InvalidKey`]).
    pub fn x25519_agree(private: &[u8], peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let private: &[u8; 32] = private
            .try_into()
            .map_err(|_| CryptoError::InvalidKey("X25519 private key length"))?;
        let peer: &[u8; 32] = peer.try_into().map_err(|_| CryptoError::InvalidPeerKey)?;
        let z = crate::ffi::ec::x25519(private, peer)?;
        Ok(Zeroizing::new(z.to_vec()))
    }

    /// The X25519 public key of a stored 32-byte private key (RFC 7748
    /// §6.1), without building a key object: what a token needs to make a
    /// key pair. A wrong length is [`CryptoError::InvalidKey`].
    pub fn x25519_public_of(private: &[u8]) -> Result<[u8; 32], CryptoError> {
        let private: &[u8; 32] = private
            .try_into()
            .map_err(|_| CryptoError::InvalidKey("X25519 private key length"))?;
        Ok(crate::ffi::ec::x25519_public(private))
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The public share as sent in TLS: 32 bytes for X25519, an
    /// uncompressed point otherwise.
    pub fn public_key(&self) -> Result<Vec<u8>, CryptoError> {
        match &self.inner {
            Inner::AwsLc(k) => k
                .compute_public_key()
                .map(|p| p.as_ref().to_vec())
                .map_err(|_| CryptoError::Internal("ECDH public key")),
            Inner::Raw(k) => k.public_key(),
        }
    }

    /// The raw shared secret with `peer` (the x-coordinate for Weierstrass
    /// curves, RFC 8422 §5.10; X25519's output, RFC 7748 §6.1). A malformed,
    /// off-curve or wrong-length share, or an all-zero X25519 result, is
    /// [`CryptoError::InvalidPeerKey`].
    pub fn agree(&self, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if peer.len() != self.curve.public_key_len() {
            return Err(CryptoError::InvalidPeerKey);
        }
        match &self.inner {
            Inner::AwsLc(k) => {
                let alg = k.algorithm();
                agreement::agree(
                    k,
                    agreement::UnparsedPublicKey::new(alg, peer),
                    CryptoError::InvalidPeerKey,
                    |z| Ok(Zeroizing::new(z.to_vec())),
                )
            }
            Inner::Raw(k) => k.agree(peer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x25519_from_private_rfc7748() {
        // RFC 7748 §6.1.
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let alice = EcdhPrivateKey::from_x25519_private(&hex(
            "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        ))
        .unwrap();
        assert_eq!(
            alice.public_key().unwrap(),
            hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        );
        let bob_public = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        assert_eq!(
            alice.agree(&bob_public).unwrap().to_vec(),
            hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
        );
        assert!(EcdhPrivateKey::from_x25519_private(&[1; 31]).is_err());
    }

    #[test]
    fn x25519_agree_matches_the_key_object_and_refuses_small_order() {
        let a = EcdhPrivateKey::generate(Curve::X25519).unwrap();
        let mut private = [0u8; 32];
        crate::fill_key(&mut private).unwrap();
        let b = EcdhPrivateKey::from_x25519_private(&private).unwrap();
        let pa = a.public_key().unwrap();
        let z = EcdhPrivateKey::x25519_agree(&private, &pa).unwrap();
        assert_eq!(*z, *a.agree(&b.public_key().unwrap()).unwrap());
        assert_eq!(*z, *b.agree(&pa).unwrap());
        // The all-zero point has order 1 (RFC 7748 §6.1's check).
        assert!(matches!(
            EcdhPrivateKey::x25519_agree(&private, &[0; 32]),
            Err(CryptoError::InvalidPeerKey)
        ));
        assert!(EcdhPrivateKey::x25519_agree(&private, &pa[..31]).is_err());
        assert!(EcdhPrivateKey::x25519_agree(&private[..31], &pa).is_err());
        assert_eq!(
            EcdhPrivateKey::x25519_public_of(&private).unwrap().to_vec(),
            b.public_key().unwrap()
        );
        assert!(EcdhPrivateKey::x25519_public_of(&private[..31]).is_err());
    }

    const ALL: [Curve; 7] = [
        Curve::X25519,
        Curve::P256,
        Curve::P384,
        Curve::P521,
        Curve::BrainpoolP256r1,
        Curve::BrainpoolP384r1,
        Curve::BrainpoolP512r1,
    ];

    #[test]
    fn both_sides_agree_on_every_curve() {
        for curve in ALL {
            let a = EcdhPrivateKey::generate(curve).unwrap();
            let b = EcdhPrivateKey::generate(curve).unwrap();
            let (pa, pb) = (a.public_key().unwrap(), b.public_key().unwrap());
            assert_eq!(pa.len(), curve.public_key_len(), "{curve:?}");
            let za = a.agree(&pb).unwrap();
            let zb = b.agree(&pa).unwrap();
            assert_eq!(za.len(), curve.field_len(), "{curve:?}");
            assert_eq!(*za, *zb, "{curve:?}");
        }
    }

    #[test]
    fn rejects_bad_peer_shares() {
        for curve in ALL {
            let a = EcdhPrivateKey::generate(curve).unwrap();
            let mut good = EcdhPrivateKey::generate(curve)
                .unwrap()
                .public_key()
                .unwrap();
            assert_eq!(a.agree(&good[1..]), Err(CryptoError::InvalidPeerKey));
            if curve != Curve::X25519 {
                // Off the curve: change y.
                let last = good.len() - 1;
                good[last] ^= 1;
                assert_eq!(
                    a.agree(&good),
                    Err(CryptoError::InvalidPeerKey),
                    "{curve:?}"
                );
                // Compressed-form prefix, wrong prefix, all zeros.
                good[last] ^= 1;
                good[0] = 0x02;
                assert_eq!(
                    a.agree(&good),
                    Err(CryptoError::InvalidPeerKey),
                    "{curve:?}"
                );
                let zeros = vec![0u8; good.len()];
                assert_eq!(
                    a.agree(&zeros),
                    Err(CryptoError::InvalidPeerKey),
                    "{curve:?}"
                );
            } else {
                // A small-order point gives an all-zero secret: rejected.
                let zeros = [0u8; 32];
                assert_eq!(a.agree(&zeros), Err(CryptoError::InvalidPeerKey));
            }
        }
    }

    #[test]
    fn brainpool_groups_round_trip() {
        use crate::ffi::ec::{group_point_roundtrip, RawCurve};
        for c in [
            RawCurve::BrainpoolP256r1,
            RawCurve::BrainpoolP384r1,
            RawCurve::BrainpoolP512r1,
        ] {
            group_point_roundtrip(c).unwrap();
        }
    }
}
