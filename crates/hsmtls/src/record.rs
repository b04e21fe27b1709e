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
    /// The version in headers of records we write.
    pub write_version: ProtocolVersion,
    pub max_fragment: usize,
}

impl RecordLayer {
    pub(crate) fn new(max_fragment: usize) -> Self {
        Self {
            encrypter: None,
            write_seq: 0,
            decrypter: None,
            read_seq: 0,
            // RFC 5246 Appendix E.1: an initial ClientHello may use
            // {03,01} for the record version; servers accept any {03,xx}.
            write_version: ProtocolVersion::TLSv1_2,
            max_fragment,
        }
    }

    /// Switches the write side to `protector` (after sending
    /// ChangeCipherSpec, RFC 5246 §7.1).
    pub(crate) fn set_encrypter(&mut self, protector: Box<dyn RecordProtector>) {
        self.encrypter = Some(protector);
        self.write_seq = 0;
    }

    /// Switches the read side (after receiving ChangeCipherSpec).
    pub(crate) fn set_decrypter(&mut self, protector: Box<dyn RecordProtector>) {
        self.decrypter = Some(protector);
        self.read_seq = 0;
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
        out.push(content_type.to_u8());
        out.extend_from_slice(&self.write_version.to_u16().to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        match &mut self.encrypter {
            None => out.extend_from_slice(fragment),
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
    /// returns the plaintext's range.
    pub(crate) fn read(
        &mut self,
        content_type: ContentType,
        version: ProtocolVersion,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, Error> {
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
        Ok(range)
    }
}
