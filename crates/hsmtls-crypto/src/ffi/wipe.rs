//! Wiping large secret buffers at memory speed.
//!
//! `zeroize` clears a slice with one volatile store per byte, so the
//! compiler cannot drop the stores; for a 16 KiB record that costs more
//! than encrypting it with AES-GCM. AWS-LC's `OPENSSL_cleanse` is a plain
//! `memset` followed by a compiler barrier over the same pointer, which
//! keeps the stores just as surely and runs at memset speed.
//!
//! # Safety
//!
//! Every call passes a pointer and length of memory the caller owns
//! exclusively for the duration of the call; AWS-LC only writes zeros to
//! it and keeps no reference.
#![allow(unsafe_code)]

use aws_lc_sys as sys;

/// Overwrites `buf` with zeros; the stores are not optimised away.
pub(crate) fn wipe(buf: &mut [u8]) {
    if buf.is_empty() {
        return;
    }
    // SAFETY: `buf` is an exclusively borrowed, live slice of `buf.len()`
    // bytes (module doc).
    unsafe { sys::OPENSSL_cleanse(buf.as_mut_ptr().cast(), buf.len()) };
}

/// Overwrites the whole allocation of `v` (spare capacity included) with
/// zeros and empties it.
pub(crate) fn wipe_vec(v: &mut Vec<u8>) {
    let cap = v.capacity();
    if cap == 0 {
        return;
    }
    // SAFETY: the allocation of `v` is `cap` bytes, owned by `v` and
    // exclusively borrowed here; writing zeros to spare capacity is
    // allowed (it is uninitialised memory we own), and `v` is emptied
    // right after so no element is observed through the old length.
    unsafe { sys::OPENSSL_cleanse(v.as_mut_ptr().cast(), cap) };
    v.clear();
}
