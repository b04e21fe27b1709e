//! Fast wiping of large secret buffers.
//!
//! [`zeroize`] writes one volatile byte at a time; that is right for keys
//! and small states, but for record-sized buffers (plaintext, unwrapped
//! keys, multi-part inputs) the wipe then costs more than the cipher. These
//! helpers clear memory at `memset` speed with a compiler barrier (AWS-LC's
//! `OPENSSL_cleanse`), so the zeros are still really written.

use zeroize::Zeroizing;

/// Overwrites `buf` with zeros.
pub fn wipe(buf: &mut [u8]) {
    crate::ffi::wipe::wipe(buf);
}

/// Overwrites the whole allocation of `v`, spare capacity included, with
/// zeros and leaves `v` empty (its allocation kept).
pub fn wipe_vec(v: &mut Vec<u8>) {
    crate::ffi::wipe::wipe_vec(v);
}

/// Drops a zeroizing buffer, wiping it fast: the contents are cleared at
/// memory speed and the allocation freed, so [`Zeroizing`]'s own byte-wise
/// pass has nothing left to do.
pub fn release(mut z: Zeroizing<Vec<u8>>) {
    let mut v = core::mem::take(&mut *z);
    wipe_vec(&mut v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_writes_zeros() {
        let mut probe = [0xffu8; 33];
        wipe(&mut probe[1..]);
        assert_eq!(probe[0], 0xff);
        assert!(probe[1..].iter().all(|&b| b == 0));
        wipe(&mut []);
    }

    #[test]
    fn wipe_vec_empties_and_keeps_the_allocation() {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(&[0xa5; 40]);
        let ptr = v.as_ptr();
        wipe_vec(&mut v);
        assert!(v.is_empty());
        assert_eq!((v.capacity(), v.as_ptr()), (64, ptr));
        let mut empty = Vec::new();
        wipe_vec(&mut empty);
    }

    #[test]
    fn release_leaves_nothing_for_zeroizing() {
        release(Zeroizing::new(vec![7u8; 100]));
        release(Zeroizing::new(Vec::new()));
    }
}
