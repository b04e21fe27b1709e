//! The TLS 1.2 pseudorandom function (RFC 5246 §5).
//!
//! ```text
//! P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) +
//!                        HMAC_hash(secret, A(2) + seed) + ...
//! A(0) = seed, A(i) = HMAC_hash(secret, A(i-1))
//! PRF(secret, label, seed) = P_<hash>(secret, label + seed)
//! ```

use zeroize::Zeroizing;

use crate::ffi::sha::HmacPads;
use crate::hash::HashAlg;

/// `P_hash` keyed once with a secret, for several PRF outputs from the
/// same secret (e.g. the key block and both Finished messages from the
/// master secret).
pub struct Tls12Prf {
    mac: HmacPads,
}

impl core::fmt::Debug for Tls12Prf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Tls12Prf")
    }
}

impl Tls12Prf {
    /// The PRF over `alg` keyed with `secret`.
    pub fn new(alg: HashAlg, secret: &[u8]) -> Self {
        Self {
            mac: HmacPads::new(alg, secret),
        }
    }

    /// `PRF(secret, label, seed)` into `out` (RFC 5246 §5), with `seed`
    /// given as parts that are concatenated.
    pub fn expand(&self, label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
        const MAX_PARTS: usize = 7;
        if seed.len() >= MAX_PARTS {
            // Longer seed lists (never in TLS) are joined first.
            let mut joined = Zeroizing::new(label.to_vec());
            for s in seed {
                joined.extend_from_slice(s);
            }
            return self.expand(&[], &[&joined], out);
        }
        // `label + seed` as parts, with room for A(i) in front.
        let mut parts: [&[u8]; MAX_PARTS + 1] = [&[]; MAX_PARTS + 1];
        parts[1] = label;
        parts[2..2 + seed.len()].copy_from_slice(seed);
        let n = 2 + seed.len();
        // A(1) = HMAC(secret, label + seed)
        let mut a = Zeroizing::new([0u8; 64]);
        let mut block = Zeroizing::new([0u8; 64]);
        let hlen = self.mac.mac(&parts[1..n], &mut a);
        let blocks = out.len().div_ceil(hlen);
        for (i, chunk) in out.chunks_mut(hlen).enumerate() {
            // HMAC(secret, A(i) + label + seed)
            let mut with_a = parts;
            with_a[0] = &a[..hlen];
            self.mac.mac(&with_a[..n], &mut block);
            chunk.copy_from_slice(&block[..chunk.len()]);
            if i + 1 < blocks {
                // A(i+1) = HMAC(secret, A(i)); not needed after the last
                // block.
                let previous = Zeroizing::new(*a);
                self.mac.mac(&[&previous[..hlen]], &mut a);
            }
        }
    }
}

/// `PRF(secret, label, seed)` into `out` (RFC 5246 §5), with `seed` given
/// as parts that are concatenated (e.g. `server_random`, `client_random`).
pub fn tls12_prf(alg: HashAlg, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    Tls12Prf::new(alg, secret).expand(label, seed, out);
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

    /// The keyed PRF gives what the one-shot one gives, for every output
    /// length around block boundaries and for seeds in many parts.
    #[test]
    fn keyed_prf_matches_one_shot() {
        for alg in [HashAlg::Sha256, HashAlg::Sha384] {
            let secret = [0x42u8; 48];
            let prf = Tls12Prf::new(alg, &secret);
            let seed: Vec<u8> = (0..64u8).collect();
            for len in [1usize, 12, 31, 32, 33, 47, 48, 49, 64, 100, 200] {
                let mut keyed = vec![0u8; len];
                prf.expand(b"key expansion", &[&seed[..32], &seed[32..]], &mut keyed);
                let mut one_shot = vec![0u8; len];
                tls12_prf(alg, &secret, b"key expansion", &[&seed], &mut one_shot);
                assert_eq!(keyed, one_shot, "{alg:?} {len}");
                // A prefix of a longer output.
                let mut longer = vec![0u8; len + 50];
                tls12_prf(alg, &secret, b"key expansion", &[&seed], &mut longer);
                assert_eq!(&longer[..len], &keyed[..]);
            }
            let parts: Vec<&[u8]> = seed.chunks(4).collect();
            let mut many = [0u8; 40];
            prf.expand(b"label", &parts, &mut many);
            let mut one = [0u8; 40];
            prf.expand(b"label", &[&seed], &mut one);
            assert_eq!(many, one);
        }
    }
}
