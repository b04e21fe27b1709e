//! TLS 1.3 handshake message bodies that differ from TLS 1.2 (RFC 8446
//! §4.3, §4.4, §4.5, §4.6).
//!
//! [`HandshakeMessage::read_tls12`](super::handshake::HandshakeMessage::read_tls12)
//! keeps the bodies of `encrypted_extensions`, `end_of_early_data` and
//! `key_update` as [`HandshakePayload::Unknown`](super::handshake::HandshakePayload::Unknown);
//! in a TLS 1.3 connection the engine decodes those, and the `certificate`,
//! `certificate_request` and `new_session_ticket` bodies, with the types
//! here (`T::read_bytes(body)`). `CertificateVerify` is
//! [`DigitallySigned`](super::handshake::DigitallySigned) and `Finished`
//! [`FinishedPayload`](super::handshake::FinishedPayload) in both versions.

use super::codec::{
    put_opaque_u16, put_opaque_u24, put_opaque_u8, read_nonempty_opaque_u16,
    read_nonempty_opaque_u24, read_opaque_u8, Codec, Context, DecodeError, LengthPrefix,
    LengthPrefixed, Reader,
};
use super::enums::{HandshakeType, KeyUpdateRequest};
use super::ext::Extensions;

/// `EncryptedExtensions` (RFC 8446 §4.3.1).
///
/// > ```text
/// > struct {
/// >     Extension extensions<0..2^16-1>;
/// > } EncryptedExtensions;
/// > ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncryptedExtensions {
    /// `extensions`.
    pub extensions: Extensions,
}

impl Codec for EncryptedExtensions {
    fn encode(&self, out: &mut Vec<u8>) {
        self.extensions.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Extensions::read(r).map(|extensions| Self { extensions })
    }
}

/// TLS 1.3 `CertificateRequest` (RFC 8446 §4.3.2).
///
/// > ```text
/// > struct {
/// >     opaque certificate_request_context<0..2^8-1>;
/// >     Extension extensions<2..2^16-1>;
/// > } CertificateRequest;
/// > ```
///
/// "The "signature_algorithms" extension MUST be specified" — the engine
/// checks that; here an empty extensions block is a decode error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest13 {
    /// `certificate_request_context` (empty during the handshake).
    pub context: Vec<u8>,
    /// `extensions`; never empty on the wire.
    pub extensions: Extensions,
}

impl Codec for CertificateRequest13 {
    fn encode(&self, out: &mut Vec<u8>) {
        put_opaque_u8(&self.context, out);
        self.extensions.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let context = read_opaque_u8(r).context("certificate_request_context")?;
        let extensions = Extensions::read(r)?;
        if extensions.is_empty() {
            return Err(DecodeError::EmptyList("CertificateRequest.extensions"));
        }
        Ok(Self {
            context,
            extensions,
        })
    }
}

/// `CertificateEntry` of an X.509 certificate (RFC 8446 §4.4.2).
///
/// > ```text
/// > struct {
/// >     select (certificate_type) {
/// >         case RawPublicKey:
/// >           /* From RFC 7250 ASN.1_subjectPublicKeyInfo */
/// >           opaque ASN1_subjectPublicKeyInfo<1..2^24-1>;
/// >
/// >         case X509:
/// >           opaque cert_data<1..2^24-1>;
/// >     };
/// >     Extension extensions<0..2^16-1>;
/// > } CertificateEntry;
/// > ```
///
/// Both cases have the same syntax, so `cert_data` holds either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateEntry {
    /// `cert_data`: one DER certificate (or SPKI for raw public keys).
    pub cert_data: Vec<u8>,
    /// Per-certificate `extensions` (e.g. `status_request`).
    pub extensions: Extensions,
}

impl Codec for CertificateEntry {
    fn encode(&self, out: &mut Vec<u8>) {
        put_opaque_u24(&self.cert_data, out);
        self.extensions.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let cert_data = read_nonempty_opaque_u24(r, "cert_data")?;
        let extensions = Extensions::read(r)?;
        Ok(Self {
            cert_data,
            extensions,
        })
    }
}

/// TLS 1.3 `Certificate` (RFC 8446 §4.4.2).
///
/// > ```text
/// > struct {
/// >     opaque certificate_request_context<0..2^8-1>;
/// >     CertificateEntry certificate_list<0..2^24-1>;
/// > } Certificate;
/// > ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Certificate13 {
    /// `certificate_request_context`.
    pub context: Vec<u8>,
    /// `certificate_list`, end entity first.
    pub entries: Vec<CertificateEntry>,
}

impl Certificate13 {
    /// The DER certificates, end entity first.
    pub fn certificates(&self) -> impl Iterator<Item = &[u8]> {
        self.entries.iter().map(|e| e.cert_data.as_slice())
    }
}

impl Codec for Certificate13 {
    fn encode(&self, out: &mut Vec<u8>) {
        put_opaque_u8(&self.context, out);
        let mut list = LengthPrefixed::new(out, LengthPrefix::U24);
        for entry in &self.entries {
            entry.encode(&mut list);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let context = read_opaque_u8(r).context("certificate_request_context")?;
        let mut list = r.sub(LengthPrefix::U24).context("certificate_list")?;
        let mut entries = Vec::new();
        while list.any_left() {
            entries.push(CertificateEntry::read(&mut list)?);
        }
        Ok(Self { context, entries })
    }
}

/// TLS 1.3 `NewSessionTicket` (RFC 8446 §4.6.1).
///
/// > ```text
/// > struct {
/// >     uint32 ticket_lifetime;
/// >     uint32 ticket_age_add;
/// >     opaque ticket_nonce<0..255>;
/// >     opaque ticket<1..2^16-1>;
/// >     Extension extensions<0..2^16-2>;
/// > } NewSessionTicket;
/// > ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSessionTicket13 {
    /// `ticket_lifetime`, seconds (at most 604800, checked by the engine).
    pub lifetime: u32,
    /// `ticket_age_add`.
    pub age_add: u32,
    /// `ticket_nonce`.
    pub nonce: Vec<u8>,
    /// `ticket`, non-empty.
    pub ticket: Vec<u8>,
    /// `extensions` (e.g. `early_data`).
    pub extensions: Extensions,
}

impl Codec for NewSessionTicket13 {
    fn encode(&self, out: &mut Vec<u8>) {
        self.lifetime.encode(out);
        self.age_add.encode(out);
        put_opaque_u8(&self.nonce, out);
        put_opaque_u16(&self.ticket, out);
        self.extensions.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            lifetime: r.u32().context("ticket_lifetime")?,
            age_add: r.u32().context("ticket_age_add")?,
            nonce: read_opaque_u8(r).context("ticket_nonce")?,
            ticket: read_nonempty_opaque_u16(r, "ticket")?,
            extensions: Extensions::read(r)?,
        })
    }
}

/// `KeyUpdate` (RFC 8446 §4.6.3).
///
/// > ```text
/// > struct {
/// >     KeyUpdateRequest request_update;
/// > } KeyUpdate;
/// > ```
///
/// > "If an implementation receives any other value [than 0 or 1], it MUST
/// > terminate the connection with an "illegal_parameter" alert."
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUpdate(pub KeyUpdateRequest);

impl Codec for KeyUpdate {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match KeyUpdateRequest::read(r).context("request_update")? {
            KeyUpdateRequest::Unknown(_) => Err(DecodeError::IllegalValue("request_update")),
            known => Ok(Self(known)),
        }
    }
}

/// `EndOfEarlyData` (RFC 8446 §4.5): `struct {} EndOfEarlyData;`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EndOfEarlyData;

impl Codec for EndOfEarlyData {
    fn encode(&self, _out: &mut Vec<u8>) {}

    fn read(_r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self)
    }
}

/// Appends the synthetic `message_hash` message that replaces ClientHello1
/// in the transcript after a HelloRetryRequest (RFC 8446 §4.4.1):
///
/// > "Transcript-Hash(ClientHello1, HelloRetryRequest, ... Mn) =
/// >     Hash(message_hash ||        /* Handshake type */
/// >          00 00 Hash.length  ||  /* Handshake message length (bytes) */
/// >          Hash(ClientHello1) ||  /* Hash of ClientHello1 */
/// >          HelloRetryRequest  || ... || Mn)"
pub fn encode_message_hash(client_hello1_hash: &[u8], out: &mut Vec<u8>) {
    HandshakeType::MessageHash.encode(out);
    put_opaque_u24(client_hello1_hash, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::enums::ExtensionType;

    fn some_extensions() -> Extensions {
        let mut exts = Extensions::new();
        exts.push(ExtensionType::SignatureAlgorithms, vec![0, 2, 4, 3]);
        exts
    }

    fn check_round_trip_and_prefixes<T: Codec + PartialEq + std::fmt::Debug>(value: &T) {
        let enc = value.get_encoding();
        assert_eq!(T::read_bytes(&enc).as_ref(), Ok(value));
        for cut in 0..enc.len() {
            assert!(
                T::read_bytes(&enc[..cut]).is_err(),
                "{value:?} cut at {cut}"
            );
        }
        let mut longer = enc;
        longer.push(0);
        assert!(T::read_bytes(&longer).is_err());
    }

    #[test]
    fn round_trips() {
        check_round_trip_and_prefixes(&EncryptedExtensions {
            extensions: some_extensions(),
        });
        check_round_trip_and_prefixes(&EncryptedExtensions::default());
        check_round_trip_and_prefixes(&CertificateRequest13 {
            context: vec![],
            extensions: some_extensions(),
        });
        check_round_trip_and_prefixes(&Certificate13 {
            context: vec![1, 2],
            entries: vec![
                CertificateEntry {
                    cert_data: vec![0x30; 200],
                    extensions: Extensions::new(),
                },
                CertificateEntry {
                    cert_data: vec![0x30; 3],
                    extensions: some_extensions(),
                },
            ],
        });
        check_round_trip_and_prefixes(&Certificate13::default());
        check_round_trip_and_prefixes(&NewSessionTicket13 {
            lifetime: 7200,
            age_add: 0xdead_beef,
            nonce: vec![0],
            ticket: vec![5; 90],
            extensions: Extensions::new(),
        });
        check_round_trip_and_prefixes(&KeyUpdate(KeyUpdateRequest::UpdateRequested));
        assert_eq!(EndOfEarlyData::read_bytes(&[]), Ok(EndOfEarlyData));
        assert!(EndOfEarlyData::read_bytes(&[0]).is_err());
    }

    #[test]
    fn rejects() {
        assert_eq!(
            CertificateRequest13::read_bytes(&[0, 0, 0]),
            Err(DecodeError::EmptyList("CertificateRequest.extensions"))
        );
        assert_eq!(
            KeyUpdate::read_bytes(&[2]),
            Err(DecodeError::IllegalValue("request_update"))
        );
        // Empty cert_data.
        assert_eq!(
            Certificate13::read_bytes(&[0, 0, 0, 5, 0, 0, 0, 0, 0]),
            Err(DecodeError::InvalidLength("cert_data"))
        );
        // Empty ticket.
        assert_eq!(
            NewSessionTicket13::read_bytes(&[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]),
            Err(DecodeError::InvalidLength("ticket"))
        );
    }

    #[test]
    fn message_hash() {
        let mut out = Vec::new();
        encode_message_hash(&[0xab; 32], &mut out);
        assert_eq!(out[..4], [254, 0, 0, 32]);
        assert_eq!(out.len(), 36);
    }
}
