//! TLS 1.2 record protection (RFC 5246 §6.2.3): the arithmetic on traffic
//! keys, shared by the software key store and the token.
//!
//! The caller owns sequence numbers and framing; these types own nonces,
//! MACs, padding and IVs. `seal` appends the protected fragment to `out`
//! (no other allocation); `open` works in place and returns the range of
//! the plaintext inside the fragment. Every failure of `open` is
//! [`CryptoError::BadRecordMac`], and no input can make them panic.

use core::ops::Range;

use zeroize::Zeroizing;

use crate::aead::{AeadAlg, AeadKey, NONCE_LEN, TAG_LEN};
use crate::cbc::{AesCbcKey, BLOCK_LEN};
use crate::ct;
use crate::error::CryptoError;
use crate::hash::{HashAlg, HmacKey};

/// The 13 bytes `seq_num || type || version || length` that TLS 1.2 puts
/// in front of MACs and AEAD additional data (RFC 5246 §6.2.3.1, §6.2.3.3).
fn pseudo_header(
    seq: u64,
    content_type: u8,
    version: u16,
    len: usize,
) -> Result<[u8; 13], CryptoError> {
    let len = u16::try_from(len).map_err(|_| CryptoError::InvalidParameter("record too long"))?;
    let mut h = [0u8; 13];
    h[..8].copy_from_slice(&seq.to_be_bytes());
    h[8] = content_type;
    h[9..11].copy_from_slice(&version.to_be_bytes());
    h[11..].copy_from_slice(&len.to_be_bytes());
    Ok(h)
}

/// Length of the explicit nonce of AES-GCM records (RFC 5288 §3).
const GCM_EXPLICIT_NONCE_LEN: usize = 8;

/// AEAD record protection: AES-GCM (RFC 5288) or ChaCha20-Poly1305
/// (RFC 7905).
pub struct Tls12Aead {
    key: AeadKey,
    /// GCM: the 4-byte implicit salt, then zeros; ChaCha: the 12-byte IV.
    iv: Zeroizing<[u8; NONCE_LEN]>,
}

impl core::fmt::Debug for Tls12Aead {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tls12Aead")
            .field("alg", &self.key.algorithm())
            .finish()
    }
}

impl Tls12Aead {
    /// AES-GCM with `key` (16 or 32 bytes) and the 4-byte `salt` (the
    /// `client/server_write_IV` of the key block, RFC 5288 §3).
    pub fn aes_gcm(key: &[u8], salt: &[u8]) -> Result<Self, CryptoError> {
        let alg = match key.len() {
            16 => AeadAlg::Aes128Gcm,
            32 => AeadAlg::Aes256Gcm,
            _ => return Err(CryptoError::InvalidKey("AES-GCM key length")),
        };
        if salt.len() != 4 {
            return Err(CryptoError::InvalidParameter("GCM salt must be 4 bytes"));
        }
        let mut iv = Zeroizing::new([0u8; NONCE_LEN]);
        iv[..4].copy_from_slice(salt);
        Ok(Self {
            key: AeadKey::new(alg, key)?,
            iv,
        })
    }

    /// ChaCha20-Poly1305 with a 32-byte `key` and 12-byte `iv` (RFC 7905 §2).
    pub fn chacha20_poly1305(key: &[u8], iv: &[u8]) -> Result<Self, CryptoError> {
        let iv: [u8; NONCE_LEN] = iv
            .try_into()
            .map_err(|_| CryptoError::InvalidParameter("ChaCha20 IV must be 12 bytes"))?;
        Ok(Self {
            key: AeadKey::new(AeadAlg::Chacha20Poly1305, key)?,
            iv: Zeroizing::new(iv),
        })
    }

    fn is_gcm(&self) -> bool {
        self.key.algorithm() != AeadAlg::Chacha20Poly1305
    }

    /// The nonce for `seq`: GCM uses `salt || explicit` where the explicit
    /// part is the sequence number (RFC 5288 §3 allows it, and it is
    /// unique per key); ChaCha XORs the padded sequence number into the IV
    /// (RFC 7905 §2).
    fn nonce(&self, seq: u64) -> [u8; NONCE_LEN] {
        let mut nonce = *self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        nonce
    }

    /// The most bytes `seal` adds.
    pub fn max_overhead(&self) -> usize {
        if self.is_gcm() {
            GCM_EXPLICIT_NONCE_LEN + TAG_LEN
        } else {
            TAG_LEN
        }
    }

    /// Appends the protected fragment of `plaintext` to `out`: GCM
    /// `explicit_nonce(8) || ciphertext || tag`, ChaCha `ciphertext || tag`.
    pub fn seal(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let aad = pseudo_header(seq, content_type, version, plaintext.len())?;
        let nonce = self.nonce(seq);
        let rollback = out.len();
        out.reserve(plaintext.len() + self.max_overhead());
        if self.is_gcm() {
            out.extend_from_slice(&nonce[4..]);
        }
        let start = out.len();
        out.extend_from_slice(plaintext);
        match self
            .key
            .seal_in_place_separate_tag(nonce, &aad, &mut out[start..])
        {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                Ok(())
            }
            Err(e) => {
                out.truncate(rollback);
                Err(e)
            }
        }
    }

    /// Opens a fragment in place; returns the plaintext range within it.
    pub fn open(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, CryptoError> {
        let (nonce, start) = if self.is_gcm() {
            if fragment.len() < GCM_EXPLICIT_NONCE_LEN + TAG_LEN {
                return Err(CryptoError::BadRecordMac);
            }
            let mut nonce = *self.iv;
            nonce[4..].copy_from_slice(&fragment[..GCM_EXPLICIT_NONCE_LEN]);
            (nonce, GCM_EXPLICIT_NONCE_LEN)
        } else {
            if fragment.len() < TAG_LEN {
                return Err(CryptoError::BadRecordMac);
            }
            (self.nonce(seq), 0)
        };
        let plain_len = fragment.len() - start - TAG_LEN;
        let aad = pseudo_header(seq, content_type, version, plain_len)
            .map_err(|_| CryptoError::BadRecordMac)?;
        let n = self
            .key
            .open_in_place(nonce, &aad, &mut fragment[start..])?;
        Ok(start..start + n)
    }
}

/// Zero bytes fed to the throwaway hash that equalises MAC timing.
static ZEROS: [u8; 1024] = [0u8; 1024];

/// AES-CBC + HMAC record protection: MAC-then-encrypt (RFC 5246
/// §6.2.3.2) or encrypt-then-MAC (RFC 7366).
pub struct Tls12Cbc {
    cipher: AesCbcKey,
    mac: HmacKey,
    encrypt_then_mac: bool,
}

impl core::fmt::Debug for Tls12Cbc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tls12Cbc")
            .field("mac", &self.mac.algorithm())
            .field("encrypt_then_mac", &self.encrypt_then_mac)
            .finish()
    }
}

impl Tls12Cbc {
    /// A CBC protector with HMAC over `mac_hash` (SHA-256 or SHA-384).
    pub fn new(
        mac_hash: HashAlg,
        mac_key: &[u8],
        enc_key: &[u8],
        encrypt_then_mac: bool,
    ) -> Result<Self, CryptoError> {
        Ok(Self {
            cipher: AesCbcKey::new(enc_key)?,
            mac: HmacKey::new(mac_hash, mac_key),
            encrypt_then_mac,
        })
    }

    fn mac_len(&self) -> usize {
        self.mac.algorithm().output_len()
    }

    /// The most bytes `seal` adds: IV, MAC and up to a block of padding.
    pub fn max_overhead(&self) -> usize {
        BLOCK_LEN + self.mac_len() + BLOCK_LEN
    }

    /// Appends `IV || CBC(...)` (and the MAC for encrypt-then-MAC) to
    /// `out`. `iv` must be fresh and unpredictable (RFC 5246 §6.2.3.2).
    #[allow(clippy::too_many_arguments)]
    pub fn seal(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        iv: &[u8; BLOCK_LEN],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let mac_len = self.mac_len();
        let rollback = out.len();
        out.reserve(plaintext.len() + self.max_overhead());
        let iv_start = out.len();
        out.extend_from_slice(iv);
        let start = out.len();
        out.extend_from_slice(plaintext);
        let content_len = if self.encrypt_then_mac {
            plaintext.len()
        } else {
            // MAC(MAC_write_key, seq_num + type + version + length + content)
            let header = match pseudo_header(seq, content_type, version, plaintext.len()) {
                Ok(h) => h,
                Err(e) => {
                    out.truncate(rollback);
                    return Err(e);
                }
            };
            let mac = self.mac.sign(&[&header, plaintext]);
            out.extend_from_slice(&mac);
            plaintext.len() + mac_len
        };
        // Minimal padding: padding_length + 1 bytes, each = padding_length.
        let pad = (BLOCK_LEN - (content_len + 1) % BLOCK_LEN) % BLOCK_LEN;
        out.extend(core::iter::repeat_n(pad as u8, pad + 1));
        if let Err(e) = self.cipher.encrypt_in_place(iv, &mut out[start..]) {
            out.truncate(rollback);
            return Err(e);
        }
        if self.encrypt_then_mac {
            // RFC 7366 §3: MAC(MAC_write_key, seq_num + type + version +
            // length + IV + ENC(content + padding + padding_length)).
            let header = match pseudo_header(seq, content_type, version, out.len() - iv_start) {
                Ok(h) => h,
                Err(e) => {
                    out.truncate(rollback);
                    return Err(e);
                }
            };
            let mac = self.mac.sign(&[&header, &out[iv_start..]]);
            out.extend_from_slice(&mac);
        }
        Ok(())
    }

    /// Opens a fragment in place; returns the plaintext range within it.
    pub fn open(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, CryptoError> {
        if self.encrypt_then_mac {
            self.open_encrypt_then_mac(seq, content_type, version, fragment)
        } else {
            self.open_mac_then_encrypt(seq, content_type, version, fragment)
        }
    }

    fn open_encrypt_then_mac(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, CryptoError> {
        let mac_len = self.mac_len();
        let n = fragment.len();
        // Public checks: at least IV, one block and a MAC, block aligned.
        if n < BLOCK_LEN + BLOCK_LEN + mac_len || (n - mac_len) % BLOCK_LEN != 0 {
            return Err(CryptoError::BadRecordMac);
        }
        let body_len = n - mac_len;
        let header = pseudo_header(seq, content_type, version, body_len)
            .map_err(|_| CryptoError::BadRecordMac)?;
        let (body, received) = fragment.split_at_mut(body_len);
        let expected = self.mac.sign(&[&header, body]);
        // The MAC covers only public ciphertext, so verifying it first (in
        // constant time) leaves no padding oracle.
        if !ct::bytes_eq(&expected, received) {
            return Err(CryptoError::BadRecordMac);
        }
        let (iv, ciphertext) = body.split_at_mut(BLOCK_LEN);
        let iv: [u8; BLOCK_LEN] = (&*iv).try_into().map_err(|_| CryptoError::BadRecordMac)?;
        self.cipher
            .decrypt_in_place(&iv, ciphertext)
            .map_err(|_| CryptoError::BadRecordMac)?;
        let (good, pad_total) = check_padding(ciphertext, 0);
        if good == 0 {
            return Err(CryptoError::BadRecordMac);
        }
        Ok(BLOCK_LEN..BLOCK_LEN + ciphertext.len() - pad_total)
    }

    /// MAC-then-encrypt, in time independent of the padding (Lucky
    /// Thirteen, AlFardan & Paterson 2013):
    ///
    /// 1. Public checks only on the length (IV + at least `mac_len + 1`
    ///    bytes, block aligned).
    /// 2. The padding is checked in constant time over the last 256 bytes
    ///    (or the whole record if shorter); on failure it is treated as
    ///    empty and processing goes on, so the error surfaces only at the
    ///    end (RFC 5246 §6.2.3.2's advice).
    /// 3. The MAC is computed over the real data, then — the s2n-tls
    ///    approach — a clone of the HMAC state after the data absorbs
    ///    enough zero blocks that the number of SHA-2 compression-function
    ///    calls equals that of the longest plausible plaintext; the clone
    ///    is thrown away.
    /// 4. The received MAC is copied out of its secret-dependent position
    ///    by scanning every possible position and rotating in constant
    ///    time (OpenSSL's `ssl3_cbc_copy_mac`), and compared in constant
    ///    time.
    fn open_mac_then_encrypt(
        &self,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, CryptoError> {
        let mac_len = self.mac_len();
        let n = fragment.len();
        let min_body = (mac_len + 1).div_ceil(BLOCK_LEN) * BLOCK_LEN;
        if n < BLOCK_LEN + min_body || n % BLOCK_LEN != 0 || n - BLOCK_LEN > 0xffff {
            return Err(CryptoError::BadRecordMac);
        }
        let (iv, data) = fragment.split_at_mut(BLOCK_LEN);
        let iv: [u8; BLOCK_LEN] = (&*iv).try_into().map_err(|_| CryptoError::BadRecordMac)?;
        self.cipher
            .decrypt_in_place(&iv, data)
            .map_err(|_| CryptoError::BadRecordMac)?;
        let len = data.len();

        // 2. Padding. `good` is all ones iff the padding is well formed and
        // leaves room for the MAC.
        let (good, pad_total) = check_padding(data, mac_len);
        // `len >= mac_len + 1` (min_body) and `pad_total <= len - mac_len`.
        let plain_len = len - mac_len - pad_total;

        // 3. The MAC over the real plaintext, plus dummy compressions.
        let header = pseudo_header(seq, content_type, version, plain_len)
            .map_err(|_| CryptoError::BadRecordMac)?;
        let hash = self.mac.algorithm();
        let mut ctx = self.mac.context();
        ctx.update(&header);
        ctx.update(&data[..plain_len]);
        let mut throwaway = ctx.clone();
        let expected = ctx.sign();
        let max_plain_len = len - mac_len;
        let extra_blocks =
            inner_hash_blocks(hash, max_plain_len) - inner_hash_blocks(hash, plain_len);
        // Feeding k whole blocks into a state costs exactly k compressions
        // whatever the state's buffered bytes. extra_blocks <= 6 (plain_len
        // varies by at most 256 bytes), so ZEROS always suffices.
        let dummy = (extra_blocks * hash.block_len()).min(ZEROS.len());
        throwaway.update(&ZEROS[..dummy]);
        drop(core::hint::black_box(throwaway));

        // 4. Copy the received MAC out of data[plain_len..plain_len+mac_len].
        let mut received = Zeroizing::new([0u8; 64]);
        copy_mac_constant_time(data, plain_len, mac_len, &mut received[..mac_len]);

        let mut diff = 0u8;
        for (a, b) in expected.as_ref().iter().zip(&received[..mac_len]) {
            diff |= a ^ b;
        }
        let good = good & ct::is_zero(usize::from(diff));
        if core::hint::black_box(good) == 0 {
            return Err(CryptoError::BadRecordMac);
        }
        Ok(BLOCK_LEN..BLOCK_LEN + plain_len)
    }
}

/// Number of compression-function calls of the inner hash of HMAC over
/// `13 + data_len` bytes, after the key block (a constant we leave out).
fn inner_hash_blocks(hash: HashAlg, data_len: usize) -> usize {
    let b = hash.block_len();
    (13 + data_len + 1 + hash.length_field_len()).div_ceil(b)
}

/// Checks TLS CBC padding at the end of `data` in constant time with
/// respect to the padding length (all of the last min(256, len) bytes are
/// read). Returns `(good_mask, bytes_to_remove)`; when the padding is bad
/// (or leaves fewer than `mac_len` bytes) `bytes_to_remove` is 0.
fn check_padding(data: &[u8], mac_len: usize) -> (usize, usize) {
    let len = data.len();
    let Some(&last) = data.last() else {
        return (0, 0);
    };
    let pad = usize::from(last);
    // padding_length + 1 + mac_len <= len
    let mut good = ct::ge(len, pad + 1 + mac_len);
    let to_check = len.min(256);
    let mut diff = 0usize;
    for i in 0..to_check {
        let b = usize::from(data[len - 1 - i]);
        // i <= pad: byte i from the end is padding (or the length byte).
        let in_pad = !ct::lt(pad, i);
        diff |= in_pad & (b ^ pad);
    }
    good &= ct::is_zero(diff);
    (good, ct::select(good, pad + 1, 0))
}

/// Copies `data[mac_start..mac_start + mac_len]` into `out` with memory
/// accesses independent of the secret `mac_start`, which lies within the
/// last `mac_len + 256` bytes of `data`.
fn copy_mac_constant_time(data: &[u8], mac_start: usize, mac_len: usize, out: &mut [u8]) {
    let len = data.len();
    let scan_start = len.saturating_sub(mac_len + 256);
    let mac_end = mac_start + mac_len;
    let mut rotated = [0u8; 64];
    let mut j = 0usize;
    for (i, &byte) in data.iter().enumerate().skip(scan_start) {
        let in_mac = ct::ge(i, mac_start) & ct::lt(i, mac_end);
        rotated[j] |= byte & (in_mac as u8);
        j += 1;
        if j == mac_len {
            j = 0;
        }
    }
    // rotated[(k + r) % mac_len] = mac[k] with r = (mac_start - scan_start)
    // % mac_len, reduced by conditional subtraction (mac_start - scan_start
    // <= 256 + mac_len, so 256 / mac_len + 2 rounds suffice).
    let mut r = mac_start - scan_start;
    for _ in 0..(256 / mac_len + 2) {
        r = ct::select(ct::ge(r, mac_len), r.wrapping_sub(mac_len), r);
    }
    for (k, o) in out.iter_mut().enumerate() {
        let mut idx = r + k;
        idx = ct::select(ct::ge(idx, mac_len), idx.wrapping_sub(mac_len), idx);
        let mut acc = 0u8;
        for (jj, &v) in rotated[..mac_len].iter().enumerate() {
            acc |= v & (ct::eq(jj, idx) as u8);
        }
        *o = acc;
    }
    zeroize::Zeroize::zeroize(&mut rotated);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gcm128() -> Proto {
        Proto::Aead(Tls12Aead::aes_gcm(&[1; 16], &[2; 4]).unwrap())
    }
    fn gcm256() -> Proto {
        Proto::Aead(Tls12Aead::aes_gcm(&[1; 32], &[2; 4]).unwrap())
    }
    fn chacha() -> Proto {
        Proto::Aead(Tls12Aead::chacha20_poly1305(&[1; 32], &[2; 12]).unwrap())
    }
    fn cbc(hash: HashAlg, key_len: usize, etm: bool) -> Proto {
        let mac_key = vec![3u8; hash.output_len()];
        let key = vec![1u8; key_len];
        Proto::Cbc(Box::new(Tls12Cbc::new(hash, &mac_key, &key, etm).unwrap()))
    }

    type Maker = fn() -> Proto;

    fn all() -> Vec<(&'static str, Maker)> {
        vec![
            ("gcm128", gcm128),
            ("gcm256", gcm256),
            ("chacha", chacha),
            ("cbc256-mte", || cbc(HashAlg::Sha256, 16, false)),
            ("cbc384-mte", || cbc(HashAlg::Sha384, 32, false)),
            ("cbc256-etm", || cbc(HashAlg::Sha256, 16, true)),
            ("cbc384-etm", || cbc(HashAlg::Sha384, 32, true)),
        ]
    }

    enum Proto {
        Aead(Tls12Aead),
        Cbc(Box<Tls12Cbc>),
    }

    impl Proto {
        fn seal(&self, seq: u64, p: &[u8], out: &mut Vec<u8>) {
            match self {
                Self::Aead(a) => a.seal(seq, 23, 0x0303, p, out).unwrap(),
                Self::Cbc(c) => c.seal(seq, 23, 0x0303, &[9; 16], p, out).unwrap(),
            }
        }
        fn open(&self, seq: u64, ty: u8, f: &mut [u8]) -> Result<Range<usize>, CryptoError> {
            match self {
                Self::Aead(a) => a.open(seq, ty, 0x0303, f),
                Self::Cbc(c) => c.open(seq, ty, 0x0303, f),
            }
        }
        fn overhead(&self) -> usize {
            match self {
                Self::Aead(a) => a.max_overhead(),
                Self::Cbc(c) => c.max_overhead(),
            }
        }
    }

    #[test]
    fn round_trip_and_tamper() {
        for (name, make) in all() {
            let (w, r) = (make(), make());
            for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 100, 1000] {
                let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut out = vec![0xee; 3];
                w.seal(7, &plain, &mut out);
                assert!(out.len() - 3 <= len + w.overhead(), "{name} overhead");
                let mut frag = out[3..].to_vec();
                let range = r.open(7, 23, &mut frag).unwrap();
                assert_eq!(&frag[range], &plain[..], "{name} len {len}");
                // Wrong seq / type.
                let mut frag = out[3..].to_vec();
                assert_eq!(
                    r.open(8, 23, &mut frag),
                    Err(CryptoError::BadRecordMac),
                    "{name}"
                );
                let mut frag = out[3..].to_vec();
                assert_eq!(
                    r.open(7, 22, &mut frag),
                    Err(CryptoError::BadRecordMac),
                    "{name}"
                );
                // Every flipped byte fails.
                for i in 0..out.len() - 3 {
                    let mut frag = out[3..].to_vec();
                    frag[i] ^= 0x80;
                    assert_eq!(
                        r.open(7, 23, &mut frag),
                        Err(CryptoError::BadRecordMac),
                        "{name} byte {i}"
                    );
                }
                // Every truncation fails without panicking.
                for cut in 0..out.len() - 3 {
                    let mut frag = out[3..3 + cut].to_vec();
                    assert_eq!(
                        r.open(7, 23, &mut frag),
                        Err(CryptoError::BadRecordMac),
                        "{name} cut {cut}"
                    );
                }
            }
            // Garbage of every length never panics.
            for l in 0..200 {
                let mut junk = vec![0xa5u8; l];
                assert_eq!(r.open(1, 23, &mut junk), Err(CryptoError::BadRecordMac));
            }
        }
    }

    /// MAC-then-encrypt records with non-minimal but valid padding open;
    /// inconsistent padding bytes fail.
    #[test]
    fn cbc_mte_long_padding() {
        for hash in [HashAlg::Sha256, HashAlg::Sha384] {
            let mac_key = vec![4u8; hash.output_len()];
            let c = Tls12Cbc::new(hash, &mac_key, &[5; 16], false).unwrap();
            let plain = b"hello padding";
            for pad in [0usize, 15, 16 * 5 + 2, 255] {
                let header = pseudo_header(3, 23, 0x0303, plain.len()).unwrap();
                let mac = c.mac.sign(&[&header, plain]);
                let mut body = plain.to_vec();
                body.extend_from_slice(&mac);
                body.extend(core::iter::repeat_n(pad as u8, pad + 1));
                if body.len() % 16 != 0 {
                    continue;
                }
                for bad in [false, true] {
                    let mut b = body.clone();
                    if bad && pad > 0 {
                        let l = b.len();
                        b[l - 2] ^= 1;
                    }
                    let iv = [7u8; 16];
                    c.cipher.encrypt_in_place(&iv, &mut b).unwrap();
                    let mut frag = iv.to_vec();
                    frag.extend_from_slice(&b);
                    let res = c.open(3, 23, 0x0303, &mut frag);
                    if bad && pad > 0 {
                        assert_eq!(res, Err(CryptoError::BadRecordMac), "pad {pad}");
                    } else {
                        let r = res.unwrap();
                        assert_eq!(&frag[r], plain, "pad {pad}");
                    }
                }
            }
        }
    }

    #[test]
    fn constant_time_mac_copy_matches_slice() {
        let data: Vec<u8> = (0..400u32).map(|i| (i * 7) as u8).collect();
        for mac_len in [32usize, 48] {
            for start in (data.len() - mac_len - 256)..=(data.len() - mac_len) {
                let mut out = [0u8; 64];
                copy_mac_constant_time(&data, start, mac_len, &mut out[..mac_len]);
                assert_eq!(&out[..mac_len], &data[start..start + mac_len]);
            }
        }
    }
}
