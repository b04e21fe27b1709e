//! The TLS presentation language: integers, length-prefixed vectors and the
//! [`Codec`] trait every wire type implements.
//!
//! Implements RFC 5246 §4 (RFC 8446 §3 is the same language):
//!
//! > §4.4 "Numbers: … All values, here and elsewhere in the specification,
//! > are stored in network byte order (big-endian); the uint32 represented by
//! > the hex bytes 01 02 03 04 is equivalent to the decimal value 16909060."
//!
//! > §4.3 "Variable-length vectors are defined by specifying a subrange of
//! > legal lengths, inclusively, using the notation <floor..ceiling>. When
//! > these are encoded, the actual length precedes the vector's contents in
//! > the byte stream. The length will be in the form of a number consuming as
//! > many bytes as required to hold the vector's specified maximum
//! > (ceiling) length."
//!
//! Decoding reads from a [`Reader`] over a borrowed slice; it never panics and
//! never reads past the slice. Every error is a [`DecodeError`] that knows the
//! alert it maps to ([`DecodeError::alert`]).

use std::fmt;

use super::enums::AlertDescription;

/// Why bytes from the peer could not be decoded.
///
/// The `&'static str` names the field or structure being decoded; it is for
/// diagnostics only.
///
/// ```
/// use hsmtls::msgs::codec::{Codec, DecodeError};
/// use hsmtls::msgs::enums::AlertDescription;
/// let err = u16::read_bytes(&[1]).unwrap_err();
/// assert!(matches!(err, DecodeError::Truncated(_)));
/// assert_eq!(err.alert(), AlertDescription::DecodeError);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended in the middle of the named field.
    Truncated(&'static str),
    /// Bytes were left over after the named structure was complete.
    TrailingData(&'static str),
    /// A length is outside the `<floor..ceiling>` range the RFC allows, or is
    /// not a multiple of the element size.
    InvalidLength(&'static str),
    /// A vector the RFC declares `<1..>` (or `<2..>` for two-byte elements)
    /// is empty.
    EmptyList(&'static str),
    /// The same extension type appears twice in one extensions block
    /// (RFC 8446 §4.2: "There MUST NOT be more than one extension of the same
    /// type in a given extension block.").
    DuplicateExtension(u16),
    /// The syntax is right but a value is not allowed here.
    IllegalValue(&'static str),
    /// A message is longer than this implementation accepts.
    Oversized(&'static str),
}

impl DecodeError {
    /// The alert to send for this error.
    ///
    /// RFC 8446 §6.2: "decode_error: A message could not be decoded because
    /// some field was out of the specified range or the length of the message
    /// was incorrect." and "illegal_parameter: A field in the handshake was
    /// incorrect or inconsistent with other fields."
    pub fn alert(&self) -> AlertDescription {
        match self {
            Self::Truncated(_)
            | Self::TrailingData(_)
            | Self::InvalidLength(_)
            | Self::EmptyList(_)
            | Self::Oversized(_) => AlertDescription::DecodeError,
            Self::DuplicateExtension(_) | Self::IllegalValue(_) => {
                AlertDescription::IllegalParameter
            }
        }
    }

    /// Replaces the field name of a syntax error with `what`.
    ///
    /// Used right at the read of a named field, so the error says
    /// `Truncated("cipher_suites")` rather than `Truncated("u16")`.
    /// `DuplicateExtension` and `IllegalValue` keep their detail.
    pub fn within(self, what: &'static str) -> Self {
        match self {
            Self::Truncated(_) => Self::Truncated(what),
            Self::TrailingData(_) => Self::TrailingData(what),
            Self::InvalidLength(_) => Self::InvalidLength(what),
            Self::EmptyList(_) => Self::EmptyList(what),
            Self::Oversized(_) => Self::Oversized(what),
            other => other,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated(what) => write!(f, "truncated {what}"),
            Self::TrailingData(what) => write!(f, "trailing data after {what}"),
            Self::InvalidLength(what) => write!(f, "invalid length of {what}"),
            Self::EmptyList(what) => write!(f, "empty {what}"),
            Self::DuplicateExtension(typ) => write!(f, "duplicate extension type {typ:#06x}"),
            Self::IllegalValue(what) => write!(f, "illegal value of {what}"),
            Self::Oversized(what) => write!(f, "oversized {what}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Attaches a field name to the syntax errors of a read: see
/// [`DecodeError::within`].
pub trait Context<T> {
    /// Names the field being read.
    fn context(self, what: &'static str) -> Result<T, DecodeError>;
}

impl<T> Context<T> for Result<T, DecodeError> {
    fn context(self, what: &'static str) -> Result<T, DecodeError> {
        self.map_err(|e| e.within(what))
    }
}

/// A cursor over bytes received from the peer.
///
/// Every read checks the remaining length first; a short input is a
/// [`DecodeError::Truncated`], never a panic.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { buf: bytes, pos: 0 }
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.left() < n {
            return Err(DecodeError::Truncated("data"));
        }
        let start = self.pos;
        self.pos += n;
        // `start + n <= buf.len()` by the check above.
        Ok(&self.buf[start..self.pos])
    }

    /// Takes all remaining bytes (possibly none).
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos..];
        self.pos = self.buf.len();
        rest
    }

    /// Whether any bytes are left.
    pub fn any_left(&self) -> bool {
        self.pos < self.buf.len()
    }

    /// How many bytes are left.
    pub fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// How many bytes have been read so far.
    pub fn used(&self) -> usize {
        self.pos
    }

    /// Fails with [`DecodeError::TrailingData`]`(what)` if bytes are left.
    pub fn expect_empty(&self, what: &'static str) -> Result<(), DecodeError> {
        match self.any_left() {
            true => Err(DecodeError::TrailingData(what)),
            false => Ok(()),
        }
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N).context(what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Reads a `uint8`.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let [b] = self.array::<1>("u8")?;
        Ok(b)
    }

    /// Reads a big-endian `uint16`.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array("u16")?))
    }

    /// Reads a big-endian `uint24`.
    pub fn u24(&mut self) -> Result<u32, DecodeError> {
        let [a, b, c] = self.array("u24")?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// Reads a big-endian `uint32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array("u32")?))
    }

    /// Reads a length of the given width, then returns a reader over exactly
    /// that many following bytes (the body of a `<..>` vector).
    pub fn sub(&mut self, len_bytes: LengthPrefix) -> Result<Reader<'a>, DecodeError> {
        let len = match len_bytes {
            LengthPrefix::U8 => usize::from(self.u8()?),
            LengthPrefix::U16 => usize::from(self.u16()?),
            LengthPrefix::U24 => self.u24()? as usize,
        };
        self.take(len).context("vector body").map(Reader::new)
    }
}

/// The width of a vector's length prefix (RFC 5246 §4.3: "as many bytes as
/// required to hold the vector's specified maximum").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthPrefix {
    /// One byte: ceiling ≤ 2^8-1.
    U8,
    /// Two bytes: ceiling ≤ 2^16-1.
    U16,
    /// Three bytes: ceiling ≤ 2^24-1.
    U24,
}

impl LengthPrefix {
    /// Number of bytes the prefix occupies.
    pub const fn width(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::U16 => 2,
            Self::U24 => 3,
        }
    }

    /// The largest body length the prefix can express.
    pub const fn max(self) -> usize {
        match self {
            Self::U8 => 0xff,
            Self::U16 => 0xffff,
            Self::U24 => 0xff_ffff,
        }
    }
}

/// A type with a TLS wire encoding.
pub trait Codec: Sized {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Decodes one value from the front of `r`, leaving the rest.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Decodes one value from `bytes`, which it must consume entirely.
    fn read_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let value = Self::read(&mut r)?;
        r.expect_empty(std::any::type_name::<Self>())?;
        Ok(value)
    }

    /// The encoding of `self` as a new vector.
    fn get_encoding(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

impl Codec for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u8()
    }
}

impl Codec for u16 {
    fn encode(&self, out: &mut Vec<u8>) {
        put_u16(*self, out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u16()
    }
}

impl Codec for u32 {
    fn encode(&self, out: &mut Vec<u8>) {
        put_u32(*self, out);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32()
    }
}

/// Appends a `uint8`.
pub fn put_u8(v: u8, out: &mut Vec<u8>) {
    out.push(v);
}

/// Appends a big-endian `uint16`.
pub fn put_u16(v: u16, out: &mut Vec<u8>) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends the low 24 bits of `v` as a big-endian `uint24`.
pub fn put_u24(v: u32, out: &mut Vec<u8>) {
    debug_assert!(v <= 0xff_ffff, "u24 overflow");
    let [_, a, b, c] = v.to_be_bytes();
    out.extend_from_slice(&[a, b, c]);
}

/// Appends a big-endian `uint32`.
pub fn put_u32(v: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// A length prefix written as a placeholder and patched when the body is
/// complete, so encoders write straight into the output buffer.
///
/// The body is written through the `Deref<Target = Vec<u8>>` impl. The
/// prefix is patched by [`LengthPrefixed::finish`] or on drop.
///
/// ```
/// use hsmtls::msgs::codec::{LengthPrefix, LengthPrefixed};
/// let mut out = vec![0xaa];
/// let mut body = LengthPrefixed::new(&mut out, LengthPrefix::U16);
/// body.extend_from_slice(b"abc");
/// body.finish();
/// assert_eq!(out, [0xaa, 0, 3, b'a', b'b', b'c']);
/// ```
///
/// Encoding a body longer than the prefix can express is a bug in the
/// caller (configuration must bound what it lets an application send): it
/// fails a `debug_assert!` and in release builds writes the length modulo
/// the prefix width.
pub struct LengthPrefixed<'a> {
    out: &'a mut Vec<u8>,
    prefix: LengthPrefix,
    len_at: usize,
}

impl<'a> LengthPrefixed<'a> {
    /// Writes a zero placeholder prefix to `out`.
    pub fn new(out: &'a mut Vec<u8>, prefix: LengthPrefix) -> Self {
        let len_at = out.len();
        out.resize(len_at + prefix.width(), 0);
        Self {
            out,
            prefix,
            len_at,
        }
    }

    /// Patches the prefix with the body length written so far.
    pub fn finish(self) {
        // The work happens in `Drop`.
    }
}

impl std::ops::Deref for LengthPrefixed<'_> {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        self.out
    }
}

impl std::ops::DerefMut for LengthPrefixed<'_> {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        self.out
    }
}

impl Drop for LengthPrefixed<'_> {
    fn drop(&mut self) {
        let width = self.prefix.width();
        debug_assert!(
            self.out.len() >= self.len_at + width,
            "buffer truncated under a LengthPrefixed"
        );
        let Some(body_len) = self.out.len().checked_sub(self.len_at + width) else {
            // The caller truncated the buffer below the prefix: nothing to
            // patch.
            return;
        };
        debug_assert!(
            body_len <= self.prefix.max(),
            "encoded vector of {body_len} bytes exceeds its {width}-byte length prefix"
        );
        let be = (body_len as u32).to_be_bytes();
        // `len_at + width <= out.len()` by the check above.
        self.out[self.len_at..self.len_at + width].copy_from_slice(&be[4 - width..]);
    }
}

fn encode_vec<T: Codec>(items: &[T], prefix: LengthPrefix, out: &mut Vec<u8>) {
    let mut body = LengthPrefixed::new(out, prefix);
    for item in items {
        item.encode(&mut body);
    }
}

/// Encodes `items` as a vector with a one-byte length.
pub fn encode_vec_u8<T: Codec>(items: &[T], out: &mut Vec<u8>) {
    encode_vec(items, LengthPrefix::U8, out);
}

/// Encodes `items` as a vector with a two-byte length.
pub fn encode_vec_u16<T: Codec>(items: &[T], out: &mut Vec<u8>) {
    encode_vec(items, LengthPrefix::U16, out);
}

/// Encodes `items` as a vector with a three-byte length.
pub fn encode_vec_u24<T: Codec>(items: &[T], out: &mut Vec<u8>) {
    encode_vec(items, LengthPrefix::U24, out);
}

fn read_vec<T: Codec>(r: &mut Reader<'_>, prefix: LengthPrefix) -> Result<Vec<T>, DecodeError> {
    read_vec_named(r, prefix, "vector")
}

/// Reads a vector; `what` names the vector in length errors only, so the
/// errors of its elements keep their own names.
fn read_vec_named<T: Codec>(
    r: &mut Reader<'_>,
    prefix: LengthPrefix,
    what: &'static str,
) -> Result<Vec<T>, DecodeError> {
    let mut sub = r.sub(prefix).context(what)?;
    let mut items = Vec::new();
    while sub.any_left() {
        items.push(T::read(&mut sub)?);
    }
    Ok(items)
}

/// Reads a vector with a one-byte length, `<0..2^8-1>`.
pub fn read_vec_u8<T: Codec>(r: &mut Reader<'_>) -> Result<Vec<T>, DecodeError> {
    read_vec(r, LengthPrefix::U8)
}

/// Reads a vector with a two-byte length, `<0..2^16-1>`.
pub fn read_vec_u16<T: Codec>(r: &mut Reader<'_>) -> Result<Vec<T>, DecodeError> {
    read_vec(r, LengthPrefix::U16)
}

/// Reads a vector with a three-byte length, `<0..2^24-1>`.
pub fn read_vec_u24<T: Codec>(r: &mut Reader<'_>) -> Result<Vec<T>, DecodeError> {
    read_vec(r, LengthPrefix::U24)
}

fn nonempty<T>(items: Vec<T>, what: &'static str) -> Result<Vec<T>, DecodeError> {
    match items.is_empty() {
        true => Err(DecodeError::EmptyList(what)),
        false => Ok(items),
    }
}

/// Reads a vector with a one-byte length that the RFC declares `<1..>`;
/// an empty one is [`DecodeError::EmptyList`]`(what)`.
pub fn read_nonempty_vec_u8<T: Codec>(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Vec<T>, DecodeError> {
    nonempty(read_vec_named(r, LengthPrefix::U8, what)?, what)
}

/// Reads a vector with a two-byte length that the RFC declares `<1..>` or
/// `<2..>`; an empty one is [`DecodeError::EmptyList`]`(what)`.
pub fn read_nonempty_vec_u16<T: Codec>(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Vec<T>, DecodeError> {
    nonempty(read_vec_named(r, LengthPrefix::U16, what)?, what)
}

/// Reads a vector with a three-byte length that the RFC declares `<1..>`;
/// an empty one is [`DecodeError::EmptyList`]`(what)`.
pub fn read_nonempty_vec_u24<T: Codec>(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Vec<T>, DecodeError> {
    nonempty(read_vec_named(r, LengthPrefix::U24, what)?, what)
}

fn put_opaque(bytes: &[u8], prefix: LengthPrefix, out: &mut Vec<u8>) {
    LengthPrefixed::new(out, prefix).extend_from_slice(bytes);
}

/// Appends `opaque x<0..2^8-1>`.
pub fn put_opaque_u8(bytes: &[u8], out: &mut Vec<u8>) {
    put_opaque(bytes, LengthPrefix::U8, out);
}

/// Appends `opaque x<0..2^16-1>`.
pub fn put_opaque_u16(bytes: &[u8], out: &mut Vec<u8>) {
    put_opaque(bytes, LengthPrefix::U16, out);
}

/// Appends `opaque x<0..2^24-1>`.
pub fn put_opaque_u24(bytes: &[u8], out: &mut Vec<u8>) {
    put_opaque(bytes, LengthPrefix::U24, out);
}

/// Reads `opaque x<0..2^8-1>`.
pub fn read_opaque_u8(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    Ok(r.sub(LengthPrefix::U8)?.rest().to_vec())
}

/// Reads `opaque x<0..2^16-1>`.
pub fn read_opaque_u16(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    Ok(r.sub(LengthPrefix::U16)?.rest().to_vec())
}

/// Reads `opaque x<0..2^24-1>`.
pub fn read_opaque_u24(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    Ok(r.sub(LengthPrefix::U24)?.rest().to_vec())
}

/// Reads `opaque x<1..2^8-1>`: empty is [`DecodeError::InvalidLength`]`(what)`.
pub fn read_nonempty_opaque_u8(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Vec<u8>, DecodeError> {
    nonempty_opaque(read_opaque_u8(r).context(what)?, what)
}

/// Reads `opaque x<1..2^16-1>`: empty is [`DecodeError::InvalidLength`]`(what)`.
pub fn read_nonempty_opaque_u16(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Vec<u8>, DecodeError> {
    nonempty_opaque(read_opaque_u16(r).context(what)?, what)
}

/// Reads `opaque x<1..2^24-1>`: empty is [`DecodeError::InvalidLength`]`(what)`.
pub fn read_nonempty_opaque_u24(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Vec<u8>, DecodeError> {
    nonempty_opaque(read_opaque_u24(r).context(what)?, what)
}

fn nonempty_opaque(bytes: Vec<u8>, what: &'static str) -> Result<Vec<u8>, DecodeError> {
    match bytes.is_empty() {
        true => Err(DecodeError::InvalidLength(what)),
        false => Ok(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip() {
        let mut out = Vec::new();
        put_u8(0x01, &mut out);
        put_u16(0x0203, &mut out);
        put_u24(0x040506, &mut out);
        put_u32(0x0708090a, &mut out);
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        let mut r = Reader::new(&out);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16(), Ok(0x0203));
        assert_eq!(r.u24(), Ok(0x040506));
        assert_eq!(r.u32(), Ok(0x0708090a));
        assert!(!r.any_left());
        assert_eq!(r.u8(), Err(DecodeError::Truncated("u8")));
    }

    #[test]
    fn truncated_integers() {
        assert!(Reader::new(&[1]).u16().is_err());
        assert!(Reader::new(&[1, 2]).u24().is_err());
        assert!(Reader::new(&[1, 2, 3]).u32().is_err());
        assert!(Reader::new(&[1, 2]).take(3).is_err());
    }

    #[test]
    fn sub_and_rest() {
        let mut r = Reader::new(&[0, 2, 9, 8, 7]);
        let mut sub = r.sub(LengthPrefix::U16).unwrap();
        assert_eq!(sub.rest(), [9, 8]);
        assert!(!sub.any_left());
        assert_eq!(r.left(), 1);
        assert_eq!(r.expect_empty("x"), Err(DecodeError::TrailingData("x")));
        assert!(Reader::new(&[0, 3, 1, 2]).sub(LengthPrefix::U16).is_err());
    }

    #[test]
    fn vectors_round_trip() {
        for prefix in [LengthPrefix::U8, LengthPrefix::U16, LengthPrefix::U24] {
            let items: Vec<u16> = vec![1, 0xffff, 3];
            let mut out = Vec::new();
            encode_vec(&items, prefix, &mut out);
            assert_eq!(out.len(), prefix.width() + 6);
            let mut r = Reader::new(&out);
            assert_eq!(read_vec::<u16>(&mut r, prefix).unwrap(), items);
            assert!(!r.any_left());
        }
        let mut out = Vec::new();
        encode_vec_u16::<u16>(&[], &mut out);
        assert_eq!(
            read_nonempty_vec_u16::<u16>(&mut Reader::new(&out), "list"),
            Err(DecodeError::EmptyList("list"))
        );
        // A vector whose length is not a multiple of the element size.
        assert!(read_vec_u16::<u16>(&mut Reader::new(&[0, 3, 0, 1, 2])).is_err());
    }

    #[test]
    fn opaque_round_trip() {
        let mut out = Vec::new();
        put_opaque_u8(b"ab", &mut out);
        put_opaque_u16(b"", &mut out);
        put_opaque_u24(b"xyz", &mut out);
        assert_eq!(out, [2, b'a', b'b', 0, 0, 0, 0, 3, b'x', b'y', b'z']);
        let mut r = Reader::new(&out);
        assert_eq!(read_opaque_u8(&mut r).unwrap(), b"ab");
        assert_eq!(
            read_nonempty_opaque_u16(&mut r, "thing"),
            Err(DecodeError::InvalidLength("thing"))
        );
        assert_eq!(read_opaque_u24(&mut r).unwrap(), b"xyz");
    }

    #[test]
    fn nested_length_prefixes() {
        let mut out = Vec::new();
        {
            let mut outer = LengthPrefixed::new(&mut out, LengthPrefix::U24);
            outer.push(7);
            let mut inner = LengthPrefixed::new(&mut outer, LengthPrefix::U8);
            inner.extend_from_slice(&[1, 2, 3]);
            inner.finish();
            outer.push(8);
        }
        assert_eq!(out, [0, 0, 6, 7, 3, 1, 2, 3, 8]);
    }

    #[test]
    fn alerts() {
        assert_eq!(
            DecodeError::EmptyList("x").alert(),
            AlertDescription::DecodeError
        );
        assert_eq!(
            DecodeError::DuplicateExtension(0).alert(),
            AlertDescription::IllegalParameter
        );
        assert_eq!(
            DecodeError::IllegalValue("x").alert(),
            AlertDescription::IllegalParameter
        );
        assert_eq!(
            DecodeError::Truncated("u8").within("field"),
            DecodeError::Truncated("field")
        );
        assert_eq!(
            DecodeError::DuplicateExtension(5).to_string(),
            "duplicate extension type 0x0005"
        );
    }
}
