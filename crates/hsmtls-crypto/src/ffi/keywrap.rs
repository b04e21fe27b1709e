//! AES key wrap (RFC 3394) and key wrap with padding (RFC 5649) on
//! AWS-LC's `AES_wrap_key` family, for every AES key size (aws-lc-rs's
//! `key_wrap` has AES-128 and AES-256 only).
//!
//! # Safety
//!
//! The `AES_KEY` schedules are plain C structs owned by Rust values and
//! initialised by `AES_set_encrypt_key` / `AES_set_decrypt_key` before any
//! use; every call passes live slices with their true lengths and an
//! output buffer at least as long as AWS-LC writes (checked before each
//! call), and AWS-LC keeps no pointer.
#![allow(unsafe_code)]

use aws_lc_sys as sys;

use crate::error::CryptoError;

/// An AES key-encryption key (128, 192 or 256 bits).
pub(crate) struct Kek {
    enc: sys::AES_KEY,
    dec: sys::AES_KEY,
}

impl Drop for Kek {
    fn drop(&mut self) {
        for k in [&mut self.enc, &mut self.dec] {
            // SAFETY: `k` is an exclusively borrowed AES_KEY of its size;
            // zeros are a valid value of the plain C struct.
            unsafe {
                sys::OPENSSL_cleanse(
                    core::ptr::from_mut(k).cast(),
                    core::mem::size_of::<sys::AES_KEY>(),
                )
            };
        }
    }
}

impl Kek {
    pub(crate) fn new(key: &[u8]) -> Result<Self, CryptoError> {
        if !matches!(key.len(), 16 | 24 | 32) {
            return Err(CryptoError::InvalidKey("AES key length"));
        }
        let bits = (key.len() * 8) as core::ffi::c_uint;
        // SAFETY: all-zero AES_KEYs are valid values of the plain C struct,
        // initialised right below.
        let mut kek: Self = unsafe { core::mem::zeroed() };
        // SAFETY: `key` is live for `bits / 8` bytes; the schedules are
        // exclusively borrowed.
        let (a, b) = unsafe {
            (
                sys::AES_set_encrypt_key(key.as_ptr(), bits, &mut kek.enc),
                sys::AES_set_decrypt_key(key.as_ptr(), bits, &mut kek.dec),
            )
        };
        if a != 0 || b != 0 {
            return Err(CryptoError::InvalidKey("AES key"));
        }
        Ok(kek)
    }

    /// RFC 3394 with the default IV: `input` whole 64-bit blocks, at least
    /// two; the output is 8 bytes longer.
    pub(crate) fn wrap(&self, input: &[u8], out: &mut Vec<u8>) -> Result<(), CryptoError> {
        if input.len() % 8 != 0 || input.len() < 16 {
            return Err(CryptoError::InvalidParameter("key wrap input length"));
        }
        out.resize(input.len() + 8, 0);
        // SAFETY: module doc; `out` holds `input.len() + 8` bytes, what
        // AES_wrap_key writes; a NULL IV selects the default.
        let n = unsafe {
            sys::AES_wrap_key(
                &self.enc,
                core::ptr::null(),
                out.as_mut_ptr(),
                input.as_ptr(),
                input.len(),
            )
        };
        if n != (input.len() + 8) as core::ffi::c_int {
            out.clear();
            return Err(CryptoError::Internal("AES_wrap_key"));
        }
        Ok(())
    }

    /// The inverse of [`Kek::wrap`]; an integrity failure is
    /// [`CryptoError::BadRecordMac`].
    pub(crate) fn unwrap(&self, input: &[u8], out: &mut Vec<u8>) -> Result<(), CryptoError> {
        if input.len() % 8 != 0 || input.len() < 24 {
            return Err(CryptoError::InvalidParameter("key unwrap input length"));
        }
        out.resize(input.len() - 8, 0);
        // SAFETY: module doc; `out` holds `input.len() - 8` bytes.
        let n = unsafe {
            sys::AES_unwrap_key(
                &self.dec,
                core::ptr::null(),
                out.as_mut_ptr(),
                input.as_ptr(),
                input.len(),
            )
        };
        if n != (input.len() - 8) as core::ffi::c_int {
            crate::wipe::wipe_vec(out);
            return Err(CryptoError::BadRecordMac);
        }
        Ok(())
    }

    /// RFC 5649: any non-empty input; the output is the input padded to
    /// 64-bit blocks plus 8 bytes.
    pub(crate) fn wrap_padded(&self, input: &[u8], out: &mut Vec<u8>) -> Result<(), CryptoError> {
        if input.is_empty() {
            return Err(CryptoError::InvalidParameter("key wrap input length"));
        }
        let max = input.len().div_ceil(8) * 8 + 8;
        out.resize(max, 0);
        let mut n = 0usize;
        // SAFETY: module doc; `out` holds `max` bytes and AWS-LC writes at
        // most `max_out`.
        let ok = unsafe {
            sys::AES_wrap_key_padded(
                &self.enc,
                out.as_mut_ptr(),
                &mut n,
                max,
                input.as_ptr(),
                input.len(),
            )
        };
        if ok != 1 || n > max {
            out.clear();
            return Err(CryptoError::Internal("AES_wrap_key_padded"));
        }
        out.truncate(n);
        Ok(())
    }

    /// The inverse of [`Kek::wrap_padded`]; an integrity or padding
    /// failure is [`CryptoError::BadRecordMac`].
    pub(crate) fn unwrap_padded(&self, input: &[u8], out: &mut Vec<u8>) -> Result<(), CryptoError> {
        if input.len() % 8 != 0 || input.len() < 16 {
            return Err(CryptoError::InvalidParameter("key unwrap input length"));
        }
        let max = input.len() - 8;
        out.resize(max, 0);
        let mut n = 0usize;
        // SAFETY: module doc; `out` holds `max` bytes and AWS-LC writes at
        // most `max_out`.
        let ok = unsafe {
            sys::AES_unwrap_key_padded(
                &self.dec,
                out.as_mut_ptr(),
                &mut n,
                max,
                input.as_ptr(),
                input.len(),
            )
        };
        if ok != 1 || n > max {
            crate::wipe::wipe_vec(out);
            return Err(CryptoError::BadRecordMac);
        }
        out.truncate(n);
        Ok(())
    }
}
