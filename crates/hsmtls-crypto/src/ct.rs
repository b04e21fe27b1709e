//! Constant-time helpers on `usize` masks (all ones = true, zero = false),
//! as in BoringSSL's `constant_time_*`. No branch or index depends on the
//! secret operands.

#[inline]
fn msb_to_mask(x: usize) -> usize {
    0usize.wrapping_sub(x >> (usize::BITS - 1))
}

/// `a < b`.
#[inline]
pub(crate) fn lt(a: usize, b: usize) -> usize {
    msb_to_mask(a ^ ((a ^ b) | (a.wrapping_sub(b) ^ b)))
}

/// `a >= b`.
#[inline]
pub(crate) fn ge(a: usize, b: usize) -> usize {
    !lt(a, b)
}

/// `x == 0`.
#[inline]
pub(crate) fn is_zero(x: usize) -> usize {
    msb_to_mask(!x & x.wrapping_sub(1))
}

/// `a == b`.
#[inline]
pub(crate) fn eq(a: usize, b: usize) -> usize {
    is_zero(a ^ b)
}

/// `mask ? a : b`.
#[inline]
pub(crate) fn select(mask: usize, a: usize, b: usize) -> usize {
    (mask & a) | (!mask & b)
}

/// Whether `a == b` (equal lengths assumed public), without early exit.
pub fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        for a in [0usize, 1, 2, 255, 256, usize::MAX - 1, usize::MAX] {
            for b in [0usize, 1, 2, 255, 256, usize::MAX - 1, usize::MAX] {
                assert_eq!(lt(a, b) == usize::MAX, a < b);
                assert_eq!(lt(a, b) == 0, a >= b);
                assert_eq!(ge(a, b) == usize::MAX, a >= b);
                assert_eq!(eq(a, b) == usize::MAX, a == b);
                assert_eq!(eq(a, b) == 0, a != b);
            }
        }
        assert_eq!(select(usize::MAX, 3, 4), 3);
        assert_eq!(select(0, 3, 4), 4);
        assert!(bytes_eq(b"ab", b"ab") && !bytes_eq(b"ab", b"ac") && !bytes_eq(b"a", b"ab"));
    }
}
