//! TLS 1.2 record protection with the traffic keys inside the token
//! (RFC 5246 §6.2.3): every record is one `C_Encrypt` / `C_Decrypt`, plus
//! `C_Sign` / `C_Verify` of the HMAC for CBC suites.
//!
//! # MAC-then-encrypt and Lucky Thirteen
//!
//! Opening a MAC-then-encrypt CBC record in constant time needs a MAC whose
//! running time does not depend on the (secret) padding length. Software
//! can count SHA-2 compression calls (hsmtls-crypto does, the s2n-tls
//! way); through PKCS#11 we only see whole `C_Sign` calls. What this
//! module does:
//!
//! 1. the padding is checked in software in constant time over the last
//!    256 bytes, and a bad padding is treated as empty (RFC 5246
//!    §6.2.3.2), so processing goes on to the MAC either way;
//! 2. the MAC is computed with `C_Sign` over the data, then a second
//!    `C_Sign` over zero bytes tops the hashed length up to that of the
//!    longest plaintext the record could hold: two calls of equal total
//!    length for every padding, the received MAC is extracted and compared
//!    in constant time, and only then is the error reported.
//!
//! Where the token has NSS's `CKM_NSS_HMAC_CONSTANT_TIME` (NSS softoken
//! does), step 2 is instead that mechanism: NSS computes the HMAC over the
//! content in time that depends only on the whole record's length — the
//! countermeasure NSS's own TLS stack uses.
//!
//! Otherwise the residue is what the token itself does with lengths (a HMAC over
//! `n` bytes costs `⌈(n + 9) / 64⌉` compressions, so the split between the
//! two calls can move the count by one): smaller than the PKCS#11 call
//! overhead's jitter, but not zero. Encrypt-then-MAC (RFC 7366) has no
//! such issue — the MAC over public ciphertext is verified first — and is
//! what the TR-03109 profile requires.

use core::fmt;
use core::ops::Range;
use std::sync::Arc;

use cryptoki_sys as sys;
use hsmtls_keys::{HashAlgorithm, KeyError, RecordProtector};

use crate::ffi::{Ck, Mech, CK_OBJECT_HANDLE};
use crate::objects::TokenObject;
use crate::Token;

const TAG_LEN: usize = 16;
const GCM_EXPLICIT_LEN: usize = 8;
const BLOCK: usize = 16;

/// `seq_num + type + version + length` (RFC 5246 §6.2.3.1, §6.2.3.3).
fn pseudo_header(seq: u64, content_type: u8, version: u16, len: usize) -> [u8; 13] {
    let mut h = [0u8; 13];
    h[..8].copy_from_slice(&seq.to_be_bytes());
    h[8] = content_type;
    h[9..11].copy_from_slice(&version.to_be_bytes());
    h[11..].copy_from_slice(&(len as u16).to_be_bytes());
    h
}

fn store_err(e: Ck) -> KeyError {
    KeyError::Store(e.to_string())
}

/// A failed `C_Decrypt` of a record: the peer's doing unless the token
/// or the session is broken. Tokens disagree on the code for a bad tag
/// (NSS: `CKR_ENCRYPTED_DATA_INVALID`, SoftHSM2: `CKR_GENERAL_ERROR`).
fn open_error(e: Ck) -> KeyError {
    match e.rv {
        sys::CKR_HOST_MEMORY
        | sys::CKR_DEVICE_ERROR
        | sys::CKR_DEVICE_MEMORY
        | sys::CKR_DEVICE_REMOVED
        | sys::CKR_SESSION_HANDLE_INVALID
        | sys::CKR_SESSION_CLOSED
        | sys::CKR_KEY_HANDLE_INVALID
        | sys::CKR_OPERATION_ACTIVE
        | sys::CKR_CRYPTOKI_NOT_INITIALIZED => store_err(e),
        _ => KeyError::BadRecordMac,
    }
}

/// AES-GCM (RFC 5288) or ChaCha20-Poly1305 (RFC 7905) in the token.
pub(crate) struct TokenAead {
    pub(crate) token: Arc<Token>,
    pub(crate) key: TokenObject,
    /// The write IV from the key block: a 4-byte GCM salt or a 12-byte
    /// ChaCha IV. Public by RFC 5288 §3 / RFC 7905 §2 (it is sent as part
    /// of every nonce's derivation, not a key).
    pub(crate) iv: Vec<u8>,
    pub(crate) chacha: bool,
    /// Decrypted records land here before they replace the ciphertext.
    pub(crate) scratch: Scratch,
}

impl fmt::Debug for TokenAead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pkcs11:{}-record(key #{})",
            if self.chacha { "chacha" } else { "gcm" },
            self.key.handle
        )
    }
}

impl TokenAead {
    fn nonce(&self, seq: u64, explicit: Option<&[u8]>) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        if self.chacha {
            // RFC 7905 §2: the IV XORed with the padded sequence number.
            nonce.copy_from_slice(&self.iv);
            for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
                *n ^= s;
            }
        } else {
            // RFC 5288 §3: salt(4) || nonce_explicit(8); we send the
            // sequence number as the explicit part, which never repeats
            // under one key.
            nonce[..4].copy_from_slice(&self.iv);
            match explicit {
                Some(e) => nonce[4..].copy_from_slice(e),
                None => nonce[4..].copy_from_slice(&seq.to_be_bytes()),
            }
        }
        nonce
    }

    fn mech<'a>(&self, nonce: &'a [u8], aad: &'a [u8]) -> Mech<'a> {
        if self.chacha {
            Mech::ChaCha20Poly1305 { nonce, aad }
        } else {
            Mech::Gcm { iv: nonce, aad }
        }
    }
}

impl RecordProtector for TokenAead {
    fn seal(
        &mut self,
        seq: u64,
        content_type: u8,
        version: u16,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), KeyError> {
        if plaintext.len() > u16::MAX as usize {
            return Err(KeyError::InvalidParameter("record too long"));
        }
        let aad = pseudo_header(seq, content_type, version, plaintext.len());
        let nonce = self.nonce(seq, None);
        let start = out.len();
        if !self.chacha {
            out.extend_from_slice(&nonce[4..]);
        }
        let sealed = seal_aead_into(
            &self.token,
            &self.mech(&nonce, &aad),
            self.key.handle,
            plaintext,
            out,
        );
        if sealed.is_err() {
            out.truncate(start);
        }
        sealed
    }

    fn open(
        &mut self,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, KeyError> {
        let start = if self.chacha { 0 } else { GCM_EXPLICIT_LEN };
        if fragment.len() < start + TAG_LEN {
            return Err(KeyError::BadRecordMac);
        }
        let nonce = self.nonce(seq, Some(&fragment[..start]));
        let plain_len = fragment.len() - start - TAG_LEN;
        let aad = pseudo_header(seq, content_type, version, plain_len);
        let n = open_aead_in_place(
            &self.token,
            &self.mech(&nonce, &aad),
            self.key.handle,
            &mut fragment[start..],
            &mut self.scratch,
        )?;
        Ok(start..start + n)
    }

    fn max_overhead(&self) -> usize {
        if self.chacha {
            TAG_LEN
        } else {
            GCM_EXPLICIT_LEN + TAG_LEN
        }
    }
}

/// A reused buffer for decrypted records, wiped after each use and when
/// dropped (at memset speed).
#[derive(Default)]
pub(crate) struct Scratch(Vec<u8>);

impl Drop for Scratch {
    fn drop(&mut self) {
        hsmtls_crypto::wipe::wipe_vec(&mut self.0);
    }
}

/// `C_Decrypt` of an AEAD record (`body` = ciphertext and tag) into
/// `scratch`, then copied over the start of `body`: the plaintext's
/// length. A wrong length or a failed tag is `BadRecordMac`. Shared by
/// TLS 1.2 and TLS 1.3.
pub(crate) fn open_aead_in_place(
    token: &Token,
    mech: &Mech<'_>,
    key: CK_OBJECT_HANDLE,
    body: &mut [u8],
    scratch: &mut Scratch,
) -> Result<usize, KeyError> {
    let plain_len = body
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(KeyError::BadRecordMac)?;
    let session = token.session().map_err(store_err)?;
    // Room for the whole body: some tokens write it before the tag check.
    if scratch.0.len() < body.len() {
        scratch.0.resize(body.len(), 0);
    }
    let opened = token.module.decrypt_into(
        session.handle,
        mech,
        key,
        body,
        &mut scratch.0[..body.len()],
    );
    let result = match opened {
        Ok(n) if n == plain_len => {
            body[..n].copy_from_slice(&scratch.0[..n]);
            Ok(n)
        }
        Ok(_) => Err(KeyError::BadRecordMac),
        Err(e) => Err(open_error(e)),
    };
    hsmtls_crypto::wipe::wipe(&mut scratch.0[..body.len()]);
    result
}

/// `C_Encrypt` of an AEAD record straight into the end of `out` (no
/// copy): ciphertext and tag, exactly `plaintext.len() + TAG_LEN` bytes.
/// On error `out` is as it was. Shared by TLS 1.2 and TLS 1.3.
pub(crate) fn seal_aead_into(
    token: &Token,
    mech: &Mech<'_>,
    key: CK_OBJECT_HANDLE,
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), KeyError> {
    let session = token.session().map_err(store_err)?;
    let start = out.len();
    let want = plaintext.len() + TAG_LEN;
    out.resize(start + want, 0);
    let sealed = token
        .module
        .encrypt_into(session.handle, mech, key, plaintext, &mut out[start..]);
    match sealed {
        Ok(n) if n == want => Ok(()),
        Ok(_) => {
            out.truncate(start);
            Err(KeyError::Store(
                "token returned a record of a wrong length".into(),
            ))
        }
        Err(e) => {
            out.truncate(start);
            Err(store_err(e))
        }
    }
}

/// AES-CBC + HMAC in the token: MAC-then-encrypt (RFC 5246 §6.2.3.2) or
/// encrypt-then-MAC (RFC 7366).
pub(crate) struct TokenCbc {
    pub(crate) token: Arc<Token>,
    pub(crate) enc: TokenObject,
    pub(crate) mac: TokenObject,
    pub(crate) hash: HashAlgorithm,
    pub(crate) encrypt_then_mac: bool,
    /// NSS's `CKM_NSS_HMAC_CONSTANT_TIME`, when the token has it.
    pub(crate) constant_time_mac: Option<sys::CK_MECHANISM_TYPE>,
}

impl fmt::Debug for TokenCbc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pkcs11:cbc-record(key #{}, mac #{}, etm {})",
            self.enc.handle, self.mac.handle, self.encrypt_then_mac
        )
    }
}

/// 0xff if `a == b`, else 0, without branches on the values.
fn ct_eq_mask(a: usize, b: usize) -> u8 {
    let x = (a ^ b) as u64;
    // (x | -x) has its top bit set iff x != 0.
    let nonzero = ((x | x.wrapping_neg()) >> 63) as u8;
    nonzero.wrapping_sub(1)
}

/// 0xff if `a <= b`, else 0 (both below 2^63).
fn ct_le_mask(a: usize, b: usize) -> u8 {
    let d = (b as u64).wrapping_sub(a as u64);
    ((d >> 63) as u8 ^ 1).wrapping_neg()
}

impl TokenCbc {
    fn mac_len(&self) -> usize {
        self.hash.output_len()
    }

    fn hmac_mech(&self) -> Mech<'static> {
        Mech::Plain(match self.hash {
            HashAlgorithm::Sha256 => sys::CKM_SHA256_HMAC,
            HashAlgorithm::Sha384 => sys::CKM_SHA384_HMAC,
            HashAlgorithm::Sha512 => sys::CKM_SHA512_HMAC,
        })
    }

    fn hmac(&self, session: sys::CK_SESSION_HANDLE, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.token
            .module
            .sign(
                session,
                &self.hmac_mech(),
                self.mac.handle,
                data,
                self.mac_len(),
            )
            .map_err(store_err)
    }

    fn open_etm(
        &self,
        session: sys::CK_SESSION_HANDLE,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, KeyError> {
        let mac_len = self.mac_len();
        let n = fragment.len();
        if n < 2 * BLOCK + mac_len || (n - mac_len) % BLOCK != 0 {
            return Err(KeyError::BadRecordMac);
        }
        let body_len = n - mac_len;
        // RFC 7366 §3: MAC(MAC_write_key, seq_num + type + version +
        // length + IV + ENC(content + padding + padding_length)).
        let mut input = pseudo_header(seq, content_type, version, body_len).to_vec();
        input.extend_from_slice(&fragment[..body_len]);
        // C_Sign, not C_Verify: NSS answers a wrong HMAC in C_Verify with
        // CKR_ARGUMENTS_BAD, indistinguishable from a real fault. The MAC
        // covers public ciphertext only, so comparing it here (in constant
        // time) shows nothing secret.
        let expected = self.hmac(session, &input)?;
        let received = &fragment[body_len..];
        let mut diff = (expected.len() != received.len()) as u8;
        for (a, b) in expected.iter().zip(received) {
            diff |= a ^ b;
        }
        if diff != 0 {
            return Err(KeyError::BadRecordMac);
        }
        let iv: [u8; BLOCK] = fragment[..BLOCK]
            .try_into()
            .map_err(|_| KeyError::BadRecordMac)?;
        let plain = self
            .token
            .module
            .decrypt(
                session,
                &Mech::AesCbc { iv: &iv },
                self.enc.handle,
                &fragment[BLOCK..body_len],
                body_len - BLOCK,
            )
            .map_err(|_| KeyError::BadRecordMac)?;
        // The MAC was good, so the padding is the peer's own: no oracle.
        let pad = usize::from(*plain.last().ok_or(KeyError::BadRecordMac)?);
        if pad + 1 > plain.len()
            || plain[plain.len() - 1 - pad..]
                .iter()
                .any(|&b| usize::from(b) != pad)
        {
            return Err(KeyError::BadRecordMac);
        }
        let len = plain.len() - pad - 1;
        fragment[BLOCK..BLOCK + len].copy_from_slice(&plain[..len]);
        Ok(BLOCK..BLOCK + len)
    }

    fn open_mte(
        &self,
        session: sys::CK_SESSION_HANDLE,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, KeyError> {
        let mac_len = self.mac_len();
        let n = fragment.len();
        // Public checks: IV plus at least MAC + 1 padding byte, aligned.
        if n < BLOCK + mac_len + 1 || (n - BLOCK) % BLOCK != 0 || n - BLOCK < BLOCK {
            return Err(KeyError::BadRecordMac);
        }
        let iv: [u8; BLOCK] = fragment[..BLOCK]
            .try_into()
            .map_err(|_| KeyError::BadRecordMac)?;
        let plain = self
            .token
            .module
            .decrypt(
                session,
                &Mech::AesCbc { iv: &iv },
                self.enc.handle,
                &fragment[BLOCK..],
                n - BLOCK,
            )
            .map_err(|_| KeyError::BadRecordMac)?;
        let len = plain.len();
        if len != n - BLOCK {
            return Err(KeyError::BadRecordMac);
        }
        // 1. Padding, in constant time over the last 256 bytes.
        let pad = usize::from(plain[len - 1]);
        // good = 0xff iff pad + 1 + mac_len <= len
        let mut good = ct_le_mask(pad + 1 + mac_len, len);
        let check = len.min(256);
        for i in 1..=check {
            let b = plain[len - i];
            // Byte i from the end is padding iff i <= pad + 1.
            let in_pad = ct_le_mask(i, pad + 1);
            good &= !(in_pad & (ct_eq_mask(usize::from(b), pad) ^ 0xff));
        }
        // A bad padding counts as none (RFC 5246 §6.2.3.2).
        let pad_total = usize::from(good & 1) * (pad + 1);
        let content_len = len - mac_len - pad_total;
        // 2. The MAC over the content, topped up to the longest content
        //    length this record could carry.
        let max_content = len - mac_len - 1;
        let header = pseudo_header(seq, content_type, version, content_len);
        let expected = match self.constant_time_mac {
            // NSS computes it in constant time itself.
            Some(mechanism) => self
                .token
                .module
                .nss_constant_time_hmac(
                    session,
                    mechanism,
                    self.hmac_mech().mechanism_type(),
                    self.mac.handle,
                    &header,
                    &plain,
                    // NSS's own TLS stack passes content and MAC here.
                    content_len + mac_len,
                    mac_len,
                )
                .map_err(store_err)?,
            None => {
                let mut input = header.to_vec();
                input.extend_from_slice(&plain[..content_len]);
                let expected = self.hmac(session, &input)?;
                let filler = vec![0u8; max_content + 1 - content_len];
                let _ = self.hmac(session, &filler)?;
                expected
            }
        };
        // 3. The received MAC sits at `content_len`: gather it from every
        //    position it could start at.
        let mut received = vec![0u8; mac_len];
        let lowest = len.saturating_sub(256 + mac_len);
        for start in lowest..=len - mac_len {
            let m = ct_eq_mask(start, content_len);
            for (r, &b) in received.iter_mut().zip(&plain[start..start + mac_len]) {
                *r |= b & m;
            }
        }
        let mut diff = 0u8;
        for (a, b) in expected.iter().zip(&received) {
            diff |= a ^ b;
        }
        if (good & 1) == 0 || diff != 0 || expected.len() != mac_len {
            return Err(KeyError::BadRecordMac);
        }
        fragment[BLOCK..BLOCK + content_len].copy_from_slice(&plain[..content_len]);
        Ok(BLOCK..BLOCK + content_len)
    }
}

impl RecordProtector for TokenCbc {
    fn seal(
        &mut self,
        seq: u64,
        content_type: u8,
        version: u16,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), KeyError> {
        if plaintext.len() > u16::MAX as usize - 2 * BLOCK - self.mac_len() {
            return Err(KeyError::InvalidParameter("record too long"));
        }
        let session = self.token.session().map_err(store_err)?;
        // RFC 5246 §6.2.3.2: "The IV SHOULD be chosen at random, and MUST
        // be unpredictable."
        let mut iv = [0u8; BLOCK];
        self.token
            .module
            .generate_random(session.handle, &mut iv)
            .map_err(store_err)?;
        let mut body = Vec::with_capacity(plaintext.len() + self.mac_len() + BLOCK);
        body.extend_from_slice(plaintext);
        if !self.encrypt_then_mac {
            let mut input = pseudo_header(seq, content_type, version, plaintext.len()).to_vec();
            input.extend_from_slice(plaintext);
            body.extend_from_slice(&self.hmac(session.handle, &input)?);
        }
        let pad = (BLOCK - (body.len() + 1) % BLOCK) % BLOCK;
        body.extend(core::iter::repeat_n(pad as u8, pad + 1));
        let ct = self
            .token
            .module
            .encrypt(
                session.handle,
                &Mech::AesCbc { iv: &iv },
                self.enc.handle,
                &body,
                body.len(),
            )
            .map_err(store_err)?;
        let start = out.len();
        out.extend_from_slice(&iv);
        out.extend_from_slice(&ct);
        if self.encrypt_then_mac {
            let mut input = pseudo_header(seq, content_type, version, out.len() - start).to_vec();
            input.extend_from_slice(&out[start..]);
            match self.hmac(session.handle, &input) {
                Ok(mac) => out.extend_from_slice(&mac),
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    fn open(
        &mut self,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, KeyError> {
        let session = self.token.session().map_err(store_err)?;
        if self.encrypt_then_mac {
            self.open_etm(session.handle, seq, content_type, version, fragment)
        } else {
            self.open_mte(session.handle, seq, content_type, version, fragment)
        }
    }

    fn max_overhead(&self) -> usize {
        BLOCK + self.mac_len() + BLOCK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(ct_eq_mask(3, 3), 0xff);
        assert_eq!(ct_eq_mask(3, 4), 0);
        assert_eq!(ct_le_mask(3, 4), 0xff);
        assert_eq!(ct_le_mask(4, 4), 0xff);
        assert_eq!(ct_le_mask(5, 4), 0);
        assert_eq!(ct_le_mask(0, 0), 0xff);
    }
}
