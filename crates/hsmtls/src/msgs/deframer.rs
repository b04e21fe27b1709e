//! Record framing: splitting the byte stream into records, joining
//! handshake fragments into messages, and writing records (RFC 5246 §6.2,
//! RFC 8446 §5.1).
//!
//! > ```text
//! > struct {
//! >     ContentType type;
//! >     ProtocolVersion version;
//! >     uint16 length;
//! >     opaque fragment[TLSPlaintext.length];
//! > } TLSPlaintext;
//! > ```
//!
//! > RFC 5246 §6.2.3: "The length (in bytes) of the following
//! > TLSCiphertext.fragment. The length MUST NOT exceed 2^14 + 2048."
//! > RFC 8446 §5.2: "The length MUST NOT exceed 2^14 + 256 bytes. An endpoint
//! > that receives a record that exceeds this length MUST terminate the
//! > connection with a "record_overflow" alert."
//!
//! > RFC 5246 §6.2.1: "multiple client messages of the same ContentType MAY
//! > be coalesced into a single TLSPlaintext record, or a single message MAY
//! > be fragmented across several records" — hence [`HandshakeJoiner`].
//!
//! The deframer does not know whether a record is protected; it checks the
//! outer header only (version major byte 3, length within the configured
//! maximum). Unknown content types are passed up: the engine decides
//! (RFC 5246 §6: "If a TLS implementation receives an unexpected record
//! type, it MUST send an unexpected_message alert.").

use std::fmt;
use std::io;

use super::codec::{put_u16, Codec, DecodeError, Reader};
use super::enums::{AlertDescription, ContentType, ProtocolVersion};
use super::handshake::HANDSHAKE_HEADER_LEN;

/// Length of a record header: type (1), version (2), length (2).
pub const HEADER_LEN: usize = 5;
/// Largest plaintext fragment: 2^14 (RFC 5246 §6.2.1, RFC 8446 §5.1).
pub const MAX_PLAINTEXT: usize = 16384;
/// Largest TLS 1.2 ciphertext fragment: 2^14 + 2048 (RFC 5246 §6.2.3).
pub const MAX_CIPHERTEXT_TLS12: usize = 16384 + 2048;
/// Largest TLS 1.3 ciphertext fragment: 2^14 + 256 (RFC 8446 §5.2).
pub const MAX_CIPHERTEXT_TLS13: usize = 16384 + 256;
/// Default limit for one handshake message body: 2^17 bytes, enough for
/// long certificate chains.
pub const DEFAULT_MAX_HANDSHAKE_MESSAGE: usize = 1 << 17;

/// The 5-byte header of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// `type`; unknown values are kept.
    pub content_type: ContentType,
    /// `version` (`legacy_record_version` in TLS 1.3).
    pub version: ProtocolVersion,
    /// `length` of the fragment.
    pub length: u16,
}

impl RecordHeader {
    /// The header bytes, e.g. as TLS 1.3 AEAD additional data (RFC 8446
    /// §5.2: "additional_data = TLSCiphertext.opaque_type ||
    /// TLSCiphertext.legacy_record_version || TLSCiphertext.length").
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let [v0, v1] = self.version.to_u16().to_be_bytes();
        let [l0, l1] = self.length.to_be_bytes();
        [self.content_type.to_u8(), v0, v1, l0, l1]
    }
}

impl Codec for RecordHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            content_type: ContentType::read(r)?,
            version: ProtocolVersion::read(r)?,
            length: r.u16()?,
        })
    }
}

/// A record that the deframer refuses.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeframerError {
    /// The header's length exceeds the configured maximum.
    RecordOverflow,
    /// The header's version does not have major version 3: not TLS.
    BadVersion,
}

impl DeframerError {
    /// The alert to send: `record_overflow` or `decode_error`.
    pub fn alert(&self) -> AlertDescription {
        match self {
            Self::RecordOverflow => AlertDescription::RecordOverflow,
            Self::BadVersion => AlertDescription::DecodeError,
        }
    }
}

impl fmt::Display for DeframerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RecordOverflow => f.write_str("record longer than allowed"),
            Self::BadVersion => f.write_str("record version is not 3.x: peer is not speaking TLS"),
        }
    }
}

impl std::error::Error for DeframerError {}

/// A complete record borrowed from the deframer's buffer, already consumed:
/// `fragment` can be decrypted in place and sliced freely, and the next
/// call that can move buffered bytes needs `&mut` on the deframer, so it
/// cannot run while `fragment` is alive.
#[derive(Debug)]
pub struct RecordMut<'a> {
    /// The record header.
    pub header: RecordHeader,
    /// The fragment, exactly `header.length` bytes.
    pub fragment: &'a mut [u8],
}

/// Buffers bytes from the network and cuts them into records.
///
/// The buffer holds at most one maximal record plus its header; it never
/// grows. Typical use:
///
/// ```
/// use hsmtls::msgs::deframer::{encode_record, MessageDeframer};
/// use hsmtls::msgs::enums::{ContentType, ProtocolVersion};
/// let mut wire = Vec::new();
/// encode_record(ContentType::Alert, ProtocolVersion::TLSv1_2, &[1, 0], &mut wire);
/// let mut d = MessageDeframer::new();
/// d.read(&mut &wire[..]).unwrap();
/// let rec = d.next_record_mut().unwrap().unwrap();
/// assert_eq!(rec.header.content_type, ContentType::Alert);
/// assert_eq!(rec.fragment, [1, 0]);
/// ```
pub struct MessageDeframer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    max_fragment_len: usize,
}

impl fmt::Debug for MessageDeframer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageDeframer")
            .field("buffered", &self.buffered())
            .field("max_fragment_len", &self.max_fragment_len)
            .finish()
    }
}

impl Default for MessageDeframer {
    fn default() -> Self {
        Self::new()
    }
}

/// The deframer's first buffer: one handshake flight of the usual size.
const INITIAL_BUFFER: usize = 4096;
/// The most it ever holds: one maximal TLS 1.2 record.
const MAX_BUFFER: usize = HEADER_LEN + MAX_CIPHERTEXT_TLS12;

impl MessageDeframer {
    /// An empty deframer accepting fragments up to [`MAX_CIPHERTEXT_TLS12`].
    /// The buffer starts small (a handshake flight fits) and grows to one
    /// maximal record only when a record needs it.
    pub fn new() -> Self {
        Self {
            buf: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
            max_fragment_len: MAX_CIPHERTEXT_TLS12,
        }
    }

    /// Sets the largest accepted fragment length, e.g.
    /// [`MAX_CIPHERTEXT_TLS13`] once TLS 1.3 is negotiated, or a limit from
    /// `record_size_limit` plus expansion. Values above
    /// [`MAX_CIPHERTEXT_TLS12`] are clamped to it. A record longer than the
    /// limit is [`DeframerError::RecordOverflow`].
    pub fn set_max_fragment_len(&mut self, max: usize) {
        self.max_fragment_len = max.min(MAX_CIPHERTEXT_TLS12);
    }

    /// The largest accepted fragment length.
    pub fn max_fragment_len(&self) -> usize {
        self.max_fragment_len
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// Reads once from `rd` into the free part of the buffer and returns the
    /// byte count (`Ok(0)` is end of stream, as from `rd`).
    ///
    /// Fails with an [`io::ErrorKind::Other`] error if the buffer is full,
    /// which only happens when complete records were not taken out with
    /// [`next_record`](Self::next_record) first (back-pressure: the caller
    /// must process before reading more).
    pub fn read(&mut self, rd: &mut dyn io::Read) -> io::Result<usize> {
        self.compact();
        if self.end == self.buf.len() && self.buf.len() < MAX_BUFFER {
            let grown = (self.buf.len() * 2).clamp(INITIAL_BUFFER, MAX_BUFFER);
            self.buf.resize(grown, 0);
        }
        if self.end == self.buf.len() {
            return Err(io::Error::other(
                "deframer buffer full: process the buffered records first",
            ));
        }
        let n = rd.read(&mut self.buf[self.end..])?;
        // A reader returning more than the slice length would be broken;
        // clamp rather than trust it.
        self.end = (self.end + n).min(self.buf.len());
        Ok(n)
    }

    /// Copies as much of `bytes` as fits into the buffer and returns how many
    /// were taken.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        self.compact();
        let wanted = (self.end + bytes.len()).min(MAX_BUFFER);
        if wanted > self.buf.len() {
            self.buf.resize(wanted, 0);
        }
        let n = bytes.len().min(self.buf.len() - self.end);
        self.buf[self.end..self.end + n].copy_from_slice(&bytes[..n]);
        self.end += n;
        n
    }

    /// Whether any bytes are buffered (a partial record at end of stream
    /// means the peer truncated the connection).
    pub fn has_pending(&self) -> bool {
        self.start < self.end
    }

    /// Number of buffered bytes.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Checks the header at the front of the buffer; returns it and the
    /// fragment's end offset if the whole record is buffered.
    fn complete_record(&self) -> Result<Option<(RecordHeader, usize)>, DeframerError> {
        let avail = &self.buf[self.start..self.end];
        let Some(header_bytes) = avail.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let Ok(header) = RecordHeader::read_bytes(header_bytes) else {
            // Unreachable: five bytes always decode as a header.
            return Ok(None);
        };
        if header.version.to_u16() >> 8 != 3 {
            return Err(DeframerError::BadVersion);
        }
        let len = usize::from(header.length);
        if len > self.max_fragment_len {
            return Err(DeframerError::RecordOverflow);
        }
        match avail.len() >= HEADER_LEN + len {
            true => Ok(Some((header, self.start + HEADER_LEN + len))),
            false => Ok(None),
        }
    }

    /// Takes the next complete record, fragment copied out. `Ok(None)` if
    /// more bytes are needed.
    pub fn next_record(&mut self) -> Result<Option<(RecordHeader, Vec<u8>)>, DeframerError> {
        Ok(self
            .next_record_mut()?
            .map(|rec| (rec.header, rec.fragment.to_vec())))
    }

    /// Takes the next complete record, fragment borrowed mutably for
    /// in-place decryption. The record is consumed when this returns.
    /// `Ok(None)` if more bytes are needed.
    pub fn next_record_mut(&mut self) -> Result<Option<RecordMut<'_>>, DeframerError> {
        let Some((header, end)) = self.complete_record()? else {
            return Ok(None);
        };
        let fragment_start = self.start + HEADER_LEN;
        self.start = end;
        if self.start == self.end {
            // Reset now so the next read needs no compaction. The fragment
            // bytes stay where they are until the buffer is written again.
            self.start = 0;
            self.end = 0;
        }
        Ok(Some(RecordMut {
            header,
            fragment: &mut self.buf[fragment_start..end],
        }))
    }
}

/// Joins handshake-record plaintext into complete handshake messages.
///
/// Yields each message as its raw encoding (4-byte header included), which
/// is what the transcript hash takes; decoding is left to the caller.
///
/// ```
/// use hsmtls::msgs::deframer::HandshakeJoiner;
/// let mut j = HandshakeJoiner::new();
/// j.push(&[14, 0, 0]);
/// assert_eq!(j.next_message(), Ok(None));
/// j.push(&[0, 14, 0]);
/// assert_eq!(j.next_message(), Ok(Some(vec![14, 0, 0, 0])));
/// assert!(!j.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct HandshakeJoiner {
    buf: Vec<u8>,
    max_message_len: usize,
}

impl Default for HandshakeJoiner {
    fn default() -> Self {
        Self::new()
    }
}

impl HandshakeJoiner {
    /// An empty joiner with the [`DEFAULT_MAX_HANDSHAKE_MESSAGE`] limit.
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            max_message_len: DEFAULT_MAX_HANDSHAKE_MESSAGE,
        }
    }

    /// Sets the largest accepted message body length (header excluded).
    pub fn set_max_message_len(&mut self, max: usize) {
        self.max_message_len = max;
    }

    /// The largest accepted message body length.
    pub fn max_message_len(&self) -> usize {
        self.max_message_len
    }

    /// Appends the plaintext fragment of one handshake record.
    pub fn push(&mut self, fragment: &[u8]) {
        self.buf.extend_from_slice(fragment);
    }

    /// Takes the next complete message, raw. `Ok(None)` if more data is
    /// needed; [`DecodeError::Oversized`] as soon as a header announces a
    /// body longer than the limit.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        let Some(&[_, a, b, c]) = self.buf.get(..HANDSHAKE_HEADER_LEN) else {
            return Ok(None);
        };
        let body_len = u32::from_be_bytes([0, a, b, c]) as usize;
        if body_len > self.max_message_len {
            return Err(DecodeError::Oversized("handshake message"));
        }
        let total = HANDSHAKE_HEADER_LEN + body_len;
        if self.buf.len() < total {
            return Ok(None);
        }
        let rest = self.buf.split_off(total);
        Ok(Some(std::mem::replace(&mut self.buf, rest)))
    }

    /// Whether no handshake bytes are pending. The engine checks this where
    /// a message must not span a boundary: at ChangeCipherSpec and at key
    /// changes (RFC 8446 §5.1: "Handshake messages MUST NOT span key
    /// changes.").
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Number of pending bytes.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Appends one record: header and `fragment`.
///
/// The caller keeps `fragment` within the record limits (see [`fragment`]);
/// a fragment longer than 2^16-1 bytes fails a `debug_assert!`.
pub fn encode_record(
    content_type: ContentType,
    version: ProtocolVersion,
    fragment: &[u8],
    out: &mut Vec<u8>,
) {
    debug_assert!(fragment.len() <= usize::from(u16::MAX));
    out.reserve(HEADER_LEN + fragment.len());
    content_type.encode(out);
    version.encode(out);
    put_u16(fragment.len() as u16, out);
    out.extend_from_slice(fragment);
}

/// Splits `payload` into pieces of at most `max` bytes (at least 1), for
/// records of at most [`MAX_PLAINTEXT`] or a negotiated smaller limit. An
/// empty payload yields no piece.
pub fn fragment(payload: &[u8], max: usize) -> impl Iterator<Item = &[u8]> {
    payload.chunks(max.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(typ: ContentType, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record(typ, ProtocolVersion::TLSv1_2, body, &mut out);
        out
    }

    #[test]
    fn header_bytes() {
        let h = RecordHeader {
            content_type: ContentType::Handshake,
            version: ProtocolVersion::TLSv1_0,
            length: 0x1234,
        };
        assert_eq!(h.to_bytes(), [22, 3, 1, 0x12, 0x34]);
        assert_eq!(RecordHeader::read_bytes(&h.to_bytes()), Ok(h));
    }

    #[test]
    fn split_at_every_boundary() {
        let mut wire = record(ContentType::Handshake, &[1, 2, 3]);
        wire.extend(record(ContentType::ApplicationData, &[]));
        wire.extend(record(ContentType::Unknown(99), &[9; 300]));
        for cut in 0..=wire.len() {
            let mut d = MessageDeframer::new();
            let mut got = Vec::new();
            for part in [&wire[..cut], &wire[cut..]] {
                assert_eq!(d.push(part), part.len());
                while let Some(rec) = d.next_record().unwrap() {
                    got.push(rec);
                }
            }
            assert!(!d.has_pending());
            assert_eq!(got.len(), 3, "cut {cut}");
            assert_eq!(got[0].1, [1, 2, 3]);
            assert_eq!(got[1].0.content_type, ContentType::ApplicationData);
            assert!(got[1].1.is_empty());
            assert_eq!(got[2].0.content_type, ContentType::Unknown(99));
            assert_eq!(got[2].1, [9; 300]);
        }
    }

    #[test]
    fn byte_by_byte_reads() {
        let mut wire = Vec::new();
        for i in 0..5u8 {
            wire.extend(record(ContentType::Handshake, &vec![i; usize::from(i) * 7]));
        }
        let mut d = MessageDeframer::new();
        let mut got = Vec::new();
        for b in &wire {
            assert_eq!(d.read(&mut &[*b][..]).unwrap(), 1);
            if let Some(rec) = d.next_record_mut().unwrap() {
                got.push(rec.fragment.to_vec());
            }
        }
        assert_eq!(got.len(), 5);
        assert_eq!(got[3], vec![3; 21]);
        assert_eq!(d.read(&mut &[][..]).unwrap(), 0);
    }

    #[test]
    fn in_place_decryption() {
        let mut d = MessageDeframer::new();
        d.push(&record(ContentType::ApplicationData, b"abcd"));
        d.push(&record(ContentType::ApplicationData, b"efgh"));
        let rec = d.next_record_mut().unwrap().unwrap();
        rec.fragment
            .iter_mut()
            .for_each(|b| *b = b.to_ascii_uppercase());
        let plain: &mut [u8] = rec.fragment;
        assert_eq!(plain, b"ABCD");
        let (_, second) = d.next_record().unwrap().unwrap();
        assert_eq!(second, b"efgh");
        assert_eq!(d.next_record(), Ok(None));
    }

    #[test]
    fn record_overflow() {
        let mut d = MessageDeframer::new();
        let len = (MAX_CIPHERTEXT_TLS12 + 1) as u16;
        d.push(&[23, 3, 3, (len >> 8) as u8, len as u8]);
        assert_eq!(d.next_record().unwrap_err(), DeframerError::RecordOverflow);
        assert_eq!(
            DeframerError::RecordOverflow.alert(),
            AlertDescription::RecordOverflow
        );

        // The largest legal record fits the buffer exactly.
        let mut d = MessageDeframer::new();
        let big = record(ContentType::ApplicationData, &vec![0; MAX_CIPHERTEXT_TLS12]);
        assert_eq!(d.push(&big), big.len());
        assert_eq!(d.push(&[23]), 0);
        assert!(d.read(&mut &[23u8][..]).is_err());
        assert_eq!(
            d.next_record().unwrap().map(|r| r.1.len()),
            Some(MAX_CIPHERTEXT_TLS12)
        );

        // TLS 1.3 limit.
        let mut d = MessageDeframer::new();
        d.set_max_fragment_len(MAX_CIPHERTEXT_TLS13);
        d.push(
            &record(
                ContentType::ApplicationData,
                &vec![0; MAX_CIPHERTEXT_TLS13 + 1],
            )[..5],
        );
        assert_eq!(d.next_record().unwrap_err(), DeframerError::RecordOverflow);
    }

    #[test]
    fn bad_version() {
        let mut d = MessageDeframer::new();
        d.push(b"GET / HTTP/1.1\r\n");
        assert_eq!(d.next_record().unwrap_err(), DeframerError::BadVersion);
        let mut d = MessageDeframer::new();
        d.push(&[22, 2, 0, 0, 0]);
        assert_eq!(d.next_record().unwrap_err(), DeframerError::BadVersion);
    }

    #[test]
    fn joiner_several_messages_per_record() {
        let mut j = HandshakeJoiner::new();
        j.push(&[20, 0, 0, 2, 0xaa, 0xbb, 14, 0, 0, 0, 1]);
        assert_eq!(j.next_message(), Ok(Some(vec![20, 0, 0, 2, 0xaa, 0xbb])));
        assert_eq!(j.next_message(), Ok(Some(vec![14, 0, 0, 0])));
        assert_eq!(j.next_message(), Ok(None));
        assert!(!j.is_empty());
        j.push(&[0, 0]);
        assert_eq!(j.next_message(), Ok(None));
        j.push(&[0]);
        assert_eq!(j.next_message(), Ok(Some(vec![1, 0, 0, 0])));
        assert!(j.is_empty());
    }

    #[test]
    fn joiner_message_over_many_records() {
        let mut msg = vec![11, 0, 0x9c, 0x40];
        msg.extend((0..40_000u32).map(|i| i as u8));
        let mut j = HandshakeJoiner::new();
        let pieces: Vec<&[u8]> = fragment(&msg, MAX_PLAINTEXT).collect();
        assert_eq!(pieces.len(), 3);
        for (i, piece) in pieces.iter().enumerate() {
            j.push(piece);
            let got = j.next_message().unwrap();
            assert_eq!(got.is_some(), i == 2);
            if let Some(got) = got {
                assert_eq!(got, msg);
            }
        }
        assert!(j.is_empty());
    }

    #[test]
    fn joiner_oversized() {
        let mut j = HandshakeJoiner::new();
        j.set_max_message_len(1000);
        j.push(&[11, 0, 3, 0xe8]);
        assert_eq!(j.next_message(), Ok(None));
        let mut j = HandshakeJoiner::new();
        j.set_max_message_len(1000);
        j.push(&[11, 0, 3, 0xe9]);
        assert_eq!(
            j.next_message(),
            Err(DecodeError::Oversized("handshake message"))
        );
        let mut j = HandshakeJoiner::new();
        j.push(&[11, 0xff, 0xff, 0xff]);
        assert!(j.next_message().is_err());
    }

    #[test]
    fn fragmenter() {
        assert_eq!(fragment(&[], 10).count(), 0);
        assert_eq!(fragment(&[1, 2, 3], 0).count(), 3);
        let parts: Vec<&[u8]> = fragment(&[1, 2, 3, 4, 5], 2).collect();
        assert_eq!(parts, [&[1, 2][..], &[3, 4], &[5]]);
    }
}
