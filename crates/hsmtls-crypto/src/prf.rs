//! The TLS 1.2 pseudorandom function (RFC 5246 §5).
//!
//! ```text
//! P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) +
//!                        HMAC_hash(secret, A(2) + seed) + ...
//! A(0) = seed, A(i) = HMAC_hash(secret, A(i-1))
//! PRF(secret, label, seed) = P_<hash>(secret, label + seed)
//! ```

use zeroize::Zeroizing;

use crate::hash::{HashAlg, HmacKey};

/// `PRF(secret, label, seed)` into `out` (RFC 5246 §5), with `seed` given
/// as parts that are concatenated (e.g. `server_random`, `client_random`).
pub fn tls12_prf(alg: HashAlg, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let key = HmacKey::new(alg, secret);
    let hlen = alg.output_len();
    // A(1) = HMAC(secret, label + seed)
    let mut ctx = key.context();
    ctx.update(label);
    for s in seed {
        ctx.update(s);
    }
    let mut a = Zeroizing::new([0u8; 64]);
    a[..hlen].copy_from_slice(ctx.sign().as_ref());
    for chunk in out.chunks_mut(hlen) {
        let mut ctx = key.context();
        ctx.update(&a[..hlen]);
        ctx.update(label);
        for s in seed {
            ctx.update(s);
        }
        let block = ctx.sign();
        chunk.copy_from_slice(&block.as_ref()[..chunk.len()]);
        let next = key.sign(&[&a[..hlen]]);
        a[..hlen].copy_from_slice(&next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex_decode;

    /// The widely published P_SHA256 vector (from the IETF TLS list),
    /// cross-checked with `openssl kdf -keylen 100 -kdfopt digest:SHA256
    /// ... TLS1-PRF`.
    #[test]
    fn prf_sha256_known_answer() {
        let secret = hex_decode("9bbe436ba940f017b17652849a71db35").unwrap();
        let seed = hex_decode("a0ba9f936cda311827a6f796ffd5198c").unwrap();
        let mut out = [0u8; 100];
        tls12_prf(HashAlg::Sha256, &secret, b"test label", &[&seed], &mut out);
        let expected = hex_decode(concat!(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a",
            "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab",
            "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701",
            "87347b66"
        ))
        .unwrap();
        assert_eq!(&out[..], &expected[..]);
    }

    /// P_SHA384 vector, computed with `openssl kdf -keylen 148 -kdfopt
    /// digest:SHA384 ... TLS1-PRF` (OpenSSL 3.0).
    #[test]
    fn prf_sha384_known_answer() {
        let secret = hex_decode("b80b733d6ceefcdc71566ea48e5567df").unwrap();
        let seed = hex_decode("cd665cf6a8447dd6ff8b27555edb7465").unwrap();
        let mut out = [0u8; 148];
        tls12_prf(HashAlg::Sha384, &secret, b"test label", &[&seed], &mut out);
        let expected = hex_decode(concat!(
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd",
            "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd",
            "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425",
            "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6",
            "91c8f3a26854308d5eaa3be85e0990703d73e56f"
        ))
        .unwrap();
        assert_eq!(&out[..], &expected[..]);
    }
}
