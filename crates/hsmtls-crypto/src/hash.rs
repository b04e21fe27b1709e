//! SHA-2 hashing (FIPS 180-4) and HMAC (RFC 2104) on aws-lc-rs; SHA-1
//! ([`LegacySha1`]) for interfaces that must still offer it.

use aws_lc_rs::{digest, hmac};
use zeroize::Zeroizing;

/// A SHA-2 hash function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// Digest length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Input block length of the compression function in bytes.
    pub const fn block_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha384 | Self::Sha512 => 128,
        }
    }

    /// Length of the message-length field appended by the padding.
    pub(crate) const fn length_field_len(self) -> usize {
        match self {
            Self::Sha256 => 8,
            Self::Sha384 | Self::Sha512 => 16,
        }
    }

    pub(crate) fn digest_alg(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        }
    }

    pub(crate) fn hmac_alg(self) -> hmac::Algorithm {
        match self {
            Self::Sha256 => hmac::HMAC_SHA256,
            Self::Sha384 => hmac::HMAC_SHA384,
            Self::Sha512 => hmac::HMAC_SHA512,
        }
    }
}

/// The digest of `data`.
pub fn digest(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    digest::digest(alg.digest_alg(), data).as_ref().to_vec()
}

/// A running hash (e.g. a handshake transcript). `Clone` forks the state.
#[derive(Clone)]
pub struct RunningHash {
    alg: HashAlg,
    ctx: digest::Context,
}

impl core::fmt::Debug for RunningHash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RunningHash")
            .field("alg", &self.alg)
            .finish()
    }
}

impl RunningHash {
    /// An empty hash.
    pub fn new(alg: HashAlg) -> Self {
        Self {
            alg,
            ctx: digest::Context::new(alg.digest_alg()),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> HashAlg {
        self.alg
    }

    /// Absorbs `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// The digest of everything absorbed so far; the hash goes on.
    pub fn current(&self) -> Vec<u8> {
        self.ctx.clone().finish().as_ref().to_vec()
    }

    /// Writes the current digest into `out` (which must be `output_len`
    /// bytes or longer) and returns its length; no allocation.
    pub fn current_into(&self, out: &mut [u8]) -> usize {
        let d = self.ctx.clone().finish();
        let n = d.as_ref().len().min(out.len());
        out[..n].copy_from_slice(&d.as_ref()[..n]);
        n
    }
}

/// SHA-1 (FIPS 180-4) for legacy interfaces only — e.g. a PKCS#11 token's
/// `CKM_SHA_1` digest. Not a [`HashAlg`]: nothing in TLS 1.2/1.3 as hsmtls
/// speaks it (PRF, signatures, transcripts) may use SHA-1. `Clone` forks
/// the state.
#[derive(Clone)]
pub struct LegacySha1 {
    ctx: digest::Context,
}

impl core::fmt::Debug for LegacySha1 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LegacySha1").finish()
    }
}

impl Default for LegacySha1 {
    fn default() -> Self {
        Self::new()
    }
}

impl LegacySha1 {
    /// Digest length in bytes.
    pub const OUTPUT_LEN: usize = 20;

    /// An empty hash.
    pub fn new() -> Self {
        Self {
            ctx: digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY),
        }
    }

    /// The SHA-1 digest of `data`.
    pub fn digest(data: &[u8]) -> [u8; 20] {
        let mut h = Self::new();
        h.update(data);
        h.current()
    }

    /// Absorbs `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// The digest of everything absorbed so far; the hash goes on.
    pub fn current(&self) -> [u8; 20] {
        let mut out = [0u8; 20];
        out.copy_from_slice(self.ctx.clone().finish().as_ref());
        out
    }
}

/// An HMAC key (RFC 2104), scheduled once.
#[derive(Clone)]
pub struct HmacKey {
    alg: HashAlg,
    key: hmac::Key,
}

impl core::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HmacKey").field("alg", &self.alg).finish()
    }
}

impl HmacKey {
    /// An HMAC key over `alg`.
    pub fn new(alg: HashAlg, key: &[u8]) -> Self {
        Self {
            alg,
            key: hmac::Key::new(alg.hmac_alg(), key),
        }
    }

    /// The hash algorithm.
    pub fn algorithm(&self) -> HashAlg {
        self.alg
    }

    /// HMAC over the concatenation of `parts`.
    pub fn sign(&self, parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
        let mut ctx = self.context();
        for p in parts {
            ctx.update(p);
        }
        Zeroizing::new(ctx.sign().as_ref().to_vec())
    }

    pub(crate) fn context(&self) -> hmac::Context {
        hmac::Context::with_key(&self.key)
    }
}

/// An HMAC key kept as its two keyed hash states (RFC 2104: `K ^ ipad`
/// and `K ^ opad` already absorbed), for keys that make many MACs (a
/// PKCS#11 key object): starting a MAC copies two small states — no
/// allocation, no key processing. The states are wiped when dropped.
pub struct KeyedHmac {
    alg: HashAlg,
    pads: crate::ffi::sha::HmacPads,
}

impl core::fmt::Debug for KeyedHmac {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyedHmac").field("alg", &self.alg).finish()
    }
}

impl KeyedHmac {
    /// Keys HMAC over `alg` with `key` (any length; RFC 2104 §2).
    pub fn new(alg: HashAlg, key: &[u8]) -> Self {
        Self {
            alg,
            pads: crate::ffi::sha::HmacPads::new(alg, key),
        }
    }

    /// The hash algorithm.
    pub fn algorithm(&self) -> HashAlg {
        self.alg
    }

    /// The MAC of the concatenated `parts` into `out`; returns its
    /// length (the hash's output length).
    pub fn mac_into(&self, parts: &[&[u8]], out: &mut [u8; 64]) -> usize {
        self.pads.mac(parts, out)
    }

    /// A MAC in progress.
    pub fn start(&self) -> HmacContext {
        HmacContext {
            alg: self.alg,
            stream: self.pads.start(),
        }
    }
}

/// A streaming HMAC started by [`KeyedHmac::start`].
pub struct HmacContext {
    alg: HashAlg,
    stream: crate::ffi::sha::HmacStream,
}

impl core::fmt::Debug for HmacContext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HmacContext")
            .field("alg", &self.alg)
            .finish()
    }
}

impl HmacContext {
    /// Absorbs `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.stream.update(data);
    }

    /// The tag into `out`; returns its length (the hash's output length).
    pub fn finish_into(mut self, out: &mut [u8; 64]) -> usize {
        self.stream.finish(out)
    }

    /// The tag (the hash's output length), wiped when dropped.
    pub fn finish(mut self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new([0u8; 64]);
        let n = self.stream.finish(&mut out);
        Zeroizing::new(out[..n].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex_decode;

    #[test]
    fn sha2_abc() {
        assert_eq!(
            digest(HashAlg::Sha256, b"abc"),
            hex_decode("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad").unwrap()
        );
        let mut h = RunningHash::new(HashAlg::Sha384);
        h.update(b"a");
        let fork = h.clone();
        h.update(b"bc");
        assert_eq!(
            h.current(),
            hex_decode("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7").unwrap()
        );
        assert_eq!(fork.current(), digest(HashAlg::Sha384, b"a"));
    }

    #[test]
    fn sha1_fips180_abc() {
        // FIPS 180-4 example "abc" and the two-block example.
        assert_eq!(
            LegacySha1::digest(b"abc").to_vec(),
            hex_decode("a9993e364706816aba3e25717850c26c9cd0d89d").unwrap()
        );
        let mut h = LegacySha1::new();
        h.update(b"abcdbcdecdefdefgefghfghighij");
        let fork = h.clone();
        h.update(b"hijkijkljklmklmnlmnomnopnopq");
        assert_eq!(
            h.current().to_vec(),
            hex_decode("84983e441c3bd26ebaae4aa1f95129e5e54670f1").unwrap()
        );
        assert_eq!(
            fork.current(),
            LegacySha1::digest(b"abcdbcdecdefdefgefghfghighij")
        );
    }

    #[test]
    fn hmac_rfc4231_case2() {
        let key = HmacKey::new(HashAlg::Sha256, b"Jefe");
        let tag = key.sign(&[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            &tag[..],
            &hex_decode("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
                .unwrap()[..]
        );
    }

    #[test]
    fn keyed_hmac_streams_like_hmac_key() {
        for alg in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            for key_len in [0usize, 32, 129, 200] {
                let key = vec![0x0bu8; key_len];
                let keyed = KeyedHmac::new(alg, &key);
                assert_eq!(keyed.algorithm(), alg);
                let msg: Vec<u8> = (0..1000u32).map(|i| (i * 13) as u8).collect();
                let mut ctx = keyed.start();
                for chunk in msg.chunks(77) {
                    ctx.update(chunk);
                }
                let tag = ctx.finish();
                assert_eq!(tag.len(), alg.output_len());
                assert_eq!(&tag[..], &HmacKey::new(alg, &key).sign(&[&msg])[..]);
            }
        }
    }

    #[test]
    fn keyed_hmac_rfc4231_case_2() {
        let keyed = KeyedHmac::new(HashAlg::Sha512, b"Jefe");
        let mut ctx = keyed.start();
        ctx.update(b"what do ya want ");
        ctx.update(b"for nothing?");
        assert_eq!(
            &ctx.finish()[..],
            &hex_decode(
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
            )
            .unwrap()[..]
        );
    }
}
