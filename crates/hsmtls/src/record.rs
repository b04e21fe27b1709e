//! The record layer (RFC 5246 §6.2): fragmentation, sequence numbers and
//! the current protection of each direction. Protection itself happens in
//! the key store's [`RecordProtector`]s.

use core::ops::Range;

use hsmtls_keys::RecordProtector;

use crate::error::Error;
use crate::msgs::deframer::{HEADER_LEN, MAX_PLAINTEXT};
use crate::msgs::enums::{ContentType, ProtocolVersion};

/// Sequence numbers this close to wrapping end the connection
/// (RFC 5246 §6.1: "Sequence numbers ... MUST NOT wrap").
const SEQ_SOFT_LIMIT: u64 = u64::MAX - 1;

#[derive(Debug)]
pub(crate) struct RecordLayer {
    encrypter: Option<Box<dyn RecordProtector>>,
    write_seq: u64,
    decrypter: Option<Box<dyn RecordProtector>>,
    read_seq: u64,
    /// How many times the read protection changed.
    read_epoch: u64,
    /// The version in headers of records we write.
    pub write_version: ProtocolVersion,
    pub max_fragment: usize,
    /// TLS 1.3 record protection (RFC 8446 §5.2): protected records carry
    /// `TLSInnerPlaintext` under the outer type application_data.
    pub tls13: bool,
    /// Reused buffer for `TLSInnerPlaintext`.
    inner: Vec<u8>,
}

impl RecordLayer {
    pub(crate) fn new(max_fragment: usize) -> Self {
        Self {
            encrypter: None,
            write_seq: 0,
            decrypter: None,
            read_seq: 0,
            read_epoch: 0,
            // RFC 5246 Appendix E.1: an initial ClientHello may use
            // {03,01} for the record version; servers accept any {03,xx}.
            write_version: ProtocolVersion::TLSv1_2,
            max_fragment,
            tls13: false,
            inner: Vec::new(),
        }
    }

    /// Switches the write side to `protector` (after sending
    /// ChangeCipherSpec, RFC 5246 §7.1).
    pub(crate) fn set_encrypter(&mut self, protector: Box<dyn RecordProtector>) {
        self.encrypter = Some(protector);
        self.write_seq = 0;
    }

    /// Exchanges the write protection and its sequence number with
    /// `other`: a TLS 1.3 client's 0-RTT records (and its EndOfEarlyData)
    /// go out under the early traffic key while the handshake key is the
    /// connection's.
    pub(crate) fn swap_encrypter(&mut self, other: &mut (Option<Box<dyn RecordProtector>>, u64)) {
        core::mem::swap(&mut self.encrypter, &mut other.0);
        core::mem::swap(&mut self.write_seq, &mut other.1);
    }

    /// Switches the read side (after receiving ChangeCipherSpec).
    pub(crate) fn set_decrypter(&mut self, protector: Box<dyn RecordProtector>) {
        self.decrypter = Some(protector);
        self.read_seq = 0;
        self.read_epoch += 1;
    }

    /// Changes with every new read protection.
    pub(crate) fn read_epoch(&self) -> u64 {
        self.read_epoch
    }

    /// Fragments `payload` into records of `content_type` and appends them
    /// to `out`.
    pub(crate) fn write(
        &mut self,
        content_type: ContentType,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if payload.is_empty() {
            return self.write_fragment(content_type, payload, out);
        }
        for chunk in payload.chunks(self.max_fragment) {
            self.write_fragment(content_type, chunk, out)?;
        }
        Ok(())
    }

    fn write_fragment(
        &mut self,
        content_type: ContentType,
        fragment: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let start = out.len();
        let protected13 = self.tls13 && self.encrypter.is_some();
        // RFC 8446 §5.2: the outer type of a protected record is
        // application_data and its version {3,3}.
        let outer_type = if protected13 {
            ContentType::ApplicationData
        } else {
            content_type
        };
        out.push(outer_type.to_u8());
        out.extend_from_slice(&self.write_version.to_u16().to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        match &mut self.encrypter {
            None => out.extend_from_slice(fragment),
            Some(protector) if protected13 => {
                if self.write_seq >= SEQ_SOFT_LIMIT {
                    return Err(Error::InvalidState("record sequence number exhausted"));
                }
                // TLSInnerPlaintext: content || ContentType (no padding).
                self.inner.clear();
                self.inner.extend_from_slice(fragment);
                self.inner.push(content_type.to_u8());
                out.reserve(self.inner.len() + protector.max_overhead());
                protector.seal(
                    self.write_seq,
                    outer_type.to_u8(),
                    self.write_version.to_u16(),
                    &self.inner,
                    out,
                )?;
                self.write_seq += 1;
            }
            Some(protector) => {
                if self.write_seq >= SEQ_SOFT_LIMIT {
                    return Err(Error::InvalidState("record sequence number exhausted"));
                }
                out.reserve(fragment.len() + protector.max_overhead());
                protector.seal(
                    self.write_seq,
                    content_type.to_u8(),
                    self.write_version.to_u16(),
                    fragment,
                    out,
                )?;
                self.write_seq += 1;
            }
        }
        let len = out.len() - start - HEADER_LEN;
        // A sealed fragment is at most MAX_PLAINTEXT + 2048 (RFC 5246 §6.2.3).
        let len = u16::try_from(len).map_err(|_| Error::InvalidState("record too long"))?;
        out[start + 3..start + 5].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }

    /// Removes the protection of a received record's fragment in place and
    /// returns the content type and the plaintext's range (for TLS 1.3 the
    /// inner type, padding removed).
    pub(crate) fn read(
        &mut self,
        content_type: ContentType,
        version: ProtocolVersion,
        fragment: &mut [u8],
    ) -> Result<(ContentType, Range<usize>), Error> {
        if self.tls13 && self.decrypter.is_some() {
            return self.read13(content_type, version, fragment);
        }
        let range = match &mut self.decrypter {
            None => 0..fragment.len(),
            Some(protector) => {
                if self.read_seq >= SEQ_SOFT_LIMIT {
                    return Err(Error::InvalidState("record sequence number exhausted"));
                }
                let range = protector.open(
                    self.read_seq,
                    content_type.to_u8(),
                    version.to_u16(),
                    fragment,
                )?;
                self.read_seq += 1;
                range
            }
        };
        // RFC 5246 §6.2.1: TLSPlaintext.length MUST NOT exceed 2^14.
        if range.len() > MAX_PLAINTEXT {
            return Err(Error::RecordOverflow);
        }
        Ok((content_type, range))
    }

    /// RFC 8446 §5.2: a protected record must say application_data
    /// outside (a plaintext change_cipher_spec passes unprotected, §5);
    /// inside, the last non-zero byte is the real type.
    fn read13(
        &mut self,
        content_type: ContentType,
        version: ProtocolVersion,
        fragment: &mut [u8],
    ) -> Result<(ContentType, Range<usize>), Error> {
        match content_type {
            ContentType::ApplicationData => {}
            ContentType::ChangeCipherSpec => return Ok((content_type, 0..fragment.len())),
            _ => {
                return Err(Error::peer(
                    crate::msgs::enums::AlertDescription::UnexpectedMessage,
                    "unprotected record after keys were set",
                ))
            }
        }
        // §5.2: the ciphertext may not exceed 2^14 + 256.
        if fragment.len() > MAX_PLAINTEXT + 256 {
            return Err(Error::RecordOverflow);
        }
        let Some(protector) = &mut self.decrypter else {
            return Err(Error::InvalidState("no read keys"));
        };
        if self.read_seq >= SEQ_SOFT_LIMIT {
            return Err(Error::InvalidState("record sequence number exhausted"));
        }
        let range = protector.open(
            self.read_seq,
            content_type.to_u8(),
            version.to_u16(),
            fragment,
        )?;
        self.read_seq += 1;
        // §5.4: "The length (in bytes) of TLSInnerPlaintext MUST NOT
        // exceed 2^14 + 1" — content, type and padding together.
        if range.len() > MAX_PLAINTEXT + 1 {
            return Err(Error::RecordOverflow);
        }
        let inner = &fragment[range.clone()];
        let Some(type_at) = inner.iter().rposition(|b| *b != 0) else {
            // §5.4: all-zero plaintext has no type.
            return Err(Error::peer(
                crate::msgs::enums::AlertDescription::UnexpectedMessage,
                "protected record without a content type",
            ));
        };
        let inner_type = ContentType::from(inner[type_at]);
        // §5: "An implementation which receives ... a protected
        // change_cipher_spec record MUST abort the handshake with an
        // unexpected_message alert."
        if inner_type == ContentType::ChangeCipherSpec {
            return Err(Error::peer(
                crate::msgs::enums::AlertDescription::UnexpectedMessage,
                "protected change_cipher_spec",
            ));
        }
        Ok((inner_type, range.start..range.start + type_at))
    }
}
