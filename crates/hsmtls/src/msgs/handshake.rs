//! Handshake messages (RFC 5246 §7.4, RFC 8422 §5, RFC 5077 §3.3; the
//! ServerHello / ClientHello shapes are shared with RFC 8446 §4.1).
//!
//! > ```text
//! > struct {
//! >     HandshakeType msg_type;    /* handshake type */
//! >     uint24 length;             /* bytes in message */
//! >     select (HandshakeType) { … } body;
//! > } Handshake;
//! > ```
//!
//! Each message body must be consumed entirely; anything left over is a
//! [`DecodeError::TrailingData`]. Bodies whose syntax depends on the
//! negotiated key exchange (ServerKeyExchange, ClientKeyExchange) are kept as
//! bytes and decoded by the engine with the right method
//! ([`ServerKeyExchangePayload::ecdhe`], [`ClientKeyExchangePayload::ecdhe_public`]).

use super::base::{Random, SessionId};
use super::codec::{
    encode_vec_u16, encode_vec_u8, put_opaque_u16, put_opaque_u24, put_opaque_u8,
    read_nonempty_opaque_u16, read_nonempty_opaque_u24, read_nonempty_opaque_u8,
    read_nonempty_vec_u16, read_nonempty_vec_u8, read_opaque_u16, Codec, Context, DecodeError,
    LengthPrefix, LengthPrefixed, Reader,
};
use super::enums::{
    CipherSuite, ClientCertificateType, CompressionMethod, ECCurveType, HandshakeType, NamedGroup,
    ProtocolVersion, SignatureScheme,
};
use super::ext::Extensions;

/// Length of the handshake message header: `msg_type` (1) and `length` (3).
pub const HANDSHAKE_HEADER_LEN: usize = 4;

/// The ServerHello `random` that marks a HelloRetryRequest (RFC 8446
/// §4.1.3): SHA-256 of "HelloRetryRequest".
pub const HELLO_RETRY_REQUEST_RANDOM: Random = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The last 8 bytes of a TLS 1.3-capable server's random when it negotiates
/// TLS 1.2 (RFC 8446 §4.1.3).
pub const DOWNGRADE_TLS12: [u8; 8] = [0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01];

/// The last 8 bytes of a TLS 1.3-capable server's random when it negotiates
/// TLS 1.1 or below (RFC 8446 §4.1.3).
pub const DOWNGRADE_TLS11: [u8; 8] = [0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00];

/// One handshake message: header and typed body.
///
/// ```
/// use hsmtls::msgs::codec::Codec;
/// use hsmtls::msgs::enums::HandshakeType;
/// use hsmtls::msgs::handshake::{HandshakeMessage, HandshakePayload};
/// let done = HandshakeMessage::new(HandshakePayload::ServerHelloDone);
/// assert_eq!(done.get_encoding(), [14, 0, 0, 0]);
/// let back = HandshakeMessage::read_bytes(&[14, 0, 0, 0]).unwrap();
/// assert_eq!(back.typ, HandshakeType::ServerHelloDone);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeMessage {
    /// `msg_type`.
    pub typ: HandshakeType,
    /// The decoded body.
    pub payload: HandshakePayload,
}

impl HandshakeMessage {
    /// A message whose `msg_type` follows from the payload. For
    /// [`HandshakePayload::Unknown`] build the struct directly: `new` gives it
    /// `HandshakeType::Unknown(255)`.
    pub fn new(payload: HandshakePayload) -> Self {
        let typ = payload
            .handshake_type()
            .unwrap_or(HandshakeType::Unknown(255));
        Self { typ, payload }
    }

    /// Decodes one message as TLS 1.2 defines the bodies (RFC 5246 §7.4);
    /// types without a TLS 1.2 body here become [`HandshakePayload::Unknown`].
    pub fn read_tls12(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let typ = HandshakeType::read(r).context("msg_type")?;
        let body = r.sub(LengthPrefix::U24).context("handshake body")?;
        let payload = HandshakePayload::read_tls12(typ, body)?;
        Ok(Self { typ, payload })
    }

    /// Decodes one message of a TLS 1.3 handshake: ClientHello,
    /// ServerHello, CertificateVerify and Finished have the same bodies as
    /// in TLS 1.2 and are decoded; every other body stays
    /// [`HandshakePayload::Unknown`] for the engine to decode with the
    /// types of [`super::tls13`].
    pub fn read_tls13(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let typ = HandshakeType::read(r).context("msg_type")?;
        let body = r.sub(LengthPrefix::U24).context("handshake body")?;
        let payload = match typ {
            HandshakeType::ClientHello
            | HandshakeType::ServerHello
            | HandshakeType::CertificateVerify
            | HandshakeType::Finished => HandshakePayload::read_tls12(typ, body)?,
            _ => {
                let mut body = body;
                HandshakePayload::Unknown(body.rest().to_vec())
            }
        };
        Ok(Self { typ, payload })
    }

    /// Appends the header and body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.typ.encode(out);
        let mut body = LengthPrefixed::new(out, LengthPrefix::U24);
        self.payload.encode(&mut body);
    }
}

impl Codec for HandshakeMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        HandshakeMessage::encode(self, out);
    }

    /// Same as [`HandshakeMessage::read_tls12`].
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::read_tls12(r)
    }
}

/// The body of a handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakePayload {
    /// `hello_request` (RFC 5246 §7.4.1.1): empty body.
    HelloRequest,
    /// `client_hello`.
    ClientHello(ClientHello),
    /// `server_hello` (also a TLS 1.3 HelloRetryRequest).
    ServerHello(ServerHello),
    /// `certificate`, TLS 1.2 form.
    Certificate(CertificatePayload),
    /// `server_key_exchange`, undecoded until the key exchange is known.
    ServerKeyExchange(ServerKeyExchangePayload),
    /// `certificate_request`, TLS 1.2 form.
    CertificateRequest(CertificateRequestPayload),
    /// `server_hello_done` (RFC 5246 §7.4.5): empty body.
    ServerHelloDone,
    /// `client_key_exchange`, undecoded until the key exchange is known.
    ClientKeyExchange(ClientKeyExchangePayload),
    /// `certificate_verify`.
    CertificateVerify(DigitallySigned),
    /// `finished`.
    Finished(FinishedPayload),
    /// `new_session_ticket`, RFC 5077 form.
    NewSessionTicket(NewSessionTicketPayload),
    /// Any other type: the raw body (the type is in [`HandshakeMessage::typ`]).
    Unknown(Vec<u8>),
}

impl HandshakePayload {
    /// The `msg_type` of this payload; `None` for [`HandshakePayload::Unknown`].
    pub fn handshake_type(&self) -> Option<HandshakeType> {
        Some(match self {
            Self::HelloRequest => HandshakeType::HelloRequest,
            Self::ClientHello(_) => HandshakeType::ClientHello,
            Self::ServerHello(_) => HandshakeType::ServerHello,
            Self::Certificate(_) => HandshakeType::Certificate,
            Self::ServerKeyExchange(_) => HandshakeType::ServerKeyExchange,
            Self::CertificateRequest(_) => HandshakeType::CertificateRequest,
            Self::ServerHelloDone => HandshakeType::ServerHelloDone,
            Self::ClientKeyExchange(_) => HandshakeType::ClientKeyExchange,
            Self::CertificateVerify(_) => HandshakeType::CertificateVerify,
            Self::Finished(_) => HandshakeType::Finished,
            Self::NewSessionTicket(_) => HandshakeType::NewSessionTicket,
            Self::Unknown(_) => return None,
        })
    }

    /// Decodes the body of a message of type `typ` (TLS 1.2 shapes). The
    /// body must be consumed entirely.
    pub fn read_tls12(typ: HandshakeType, mut body: Reader<'_>) -> Result<Self, DecodeError> {
        let r = &mut body;
        let (payload, what) = match typ {
            HandshakeType::HelloRequest => (Self::HelloRequest, "HelloRequest"),
            HandshakeType::ClientHello => (Self::ClientHello(ClientHello::read(r)?), "ClientHello"),
            HandshakeType::ServerHello => (Self::ServerHello(ServerHello::read(r)?), "ServerHello"),
            HandshakeType::Certificate => (
                Self::Certificate(CertificatePayload::read(r)?),
                "Certificate",
            ),
            HandshakeType::ServerKeyExchange => (
                Self::ServerKeyExchange(ServerKeyExchangePayload(r.rest().to_vec())),
                "ServerKeyExchange",
            ),
            HandshakeType::CertificateRequest => (
                Self::CertificateRequest(CertificateRequestPayload::read(r)?),
                "CertificateRequest",
            ),
            HandshakeType::ServerHelloDone => (Self::ServerHelloDone, "ServerHelloDone"),
            HandshakeType::ClientKeyExchange => (
                Self::ClientKeyExchange(ClientKeyExchangePayload(r.rest().to_vec())),
                "ClientKeyExchange",
            ),
            HandshakeType::CertificateVerify => (
                Self::CertificateVerify(DigitallySigned::read(r)?),
                "CertificateVerify",
            ),
            HandshakeType::Finished => (
                Self::Finished(FinishedPayload {
                    verify_data: r.rest().to_vec(),
                }),
                "Finished",
            ),
            HandshakeType::NewSessionTicket => (
                Self::NewSessionTicket(NewSessionTicketPayload::read(r)?),
                "NewSessionTicket",
            ),
            _ => (Self::Unknown(r.rest().to_vec()), "handshake message"),
        };
        body.expect_empty(what)?;
        Ok(payload)
    }

    /// Appends the body (without the handshake header).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::HelloRequest | Self::ServerHelloDone => {}
            Self::ClientHello(m) => m.encode(out),
            Self::ServerHello(m) => m.encode(out),
            Self::Certificate(m) => m.encode(out),
            Self::ServerKeyExchange(m) => out.extend_from_slice(&m.0),
            Self::CertificateRequest(m) => m.encode(out),
            Self::ClientKeyExchange(m) => out.extend_from_slice(&m.0),
            Self::CertificateVerify(m) => m.encode(out),
            Self::Finished(m) => out.extend_from_slice(&m.verify_data),
            Self::NewSessionTicket(m) => m.encode(out),
            Self::Unknown(body) => out.extend_from_slice(body),
        }
    }
}

fn read_random(r: &mut Reader<'_>) -> Result<Random, DecodeError> {
    let bytes = r.take(32).context("random")?;
    let mut random = [0u8; 32];
    random.copy_from_slice(bytes);
    Ok(random)
}

/// `ClientHello` (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2).
///
/// > ```text
/// > struct {
/// >     ProtocolVersion client_version;
/// >     Random random;
/// >     SessionID session_id;
/// >     CipherSuite cipher_suites<2..2^16-2>;
/// >     CompressionMethod compression_methods<1..2^8-1>;
/// >     select (extensions_present) {
/// >         case false:
/// >             struct {};
/// >         case true:
/// >             Extension extensions<0..2^16-1>;
/// >     };
/// > } ClientHello;
/// > ```
///
/// An absent extensions block decodes to an empty [`Extensions`]; an empty
/// [`Extensions`] encodes as no block at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// `client_version` (`legacy_version` in TLS 1.3: always TLS 1.2 there).
    pub legacy_version: ProtocolVersion,
    /// `random`, from the key store.
    pub random: Random,
    /// `session_id` (`legacy_session_id`).
    pub session_id: SessionId,
    /// `cipher_suites`, most preferred first; never empty on the wire.
    pub cipher_suites: Vec<CipherSuite>,
    /// `compression_methods`; never empty on the wire.
    pub compression_methods: Vec<CompressionMethod>,
    /// `extensions`, in wire order.
    pub extensions: Extensions,
}

impl Codec for ClientHello {
    fn encode(&self, out: &mut Vec<u8>) {
        self.legacy_version.encode(out);
        out.extend_from_slice(&self.random);
        self.session_id.encode(out);
        encode_vec_u16(&self.cipher_suites, out);
        encode_vec_u8(&self.compression_methods, out);
        self.extensions.encode_optional(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            legacy_version: ProtocolVersion::read(r).context("client_version")?,
            random: read_random(r)?,
            session_id: SessionId::read(r)?,
            cipher_suites: read_nonempty_vec_u16(r, "cipher_suites")?,
            compression_methods: read_nonempty_vec_u8(r, "compression_methods")?,
            extensions: Extensions::read_optional(r)?,
        })
    }
}

/// `ServerHello` (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3), also the shape of a
/// HelloRetryRequest.
///
/// > ```text
/// > struct {
/// >     ProtocolVersion server_version;
/// >     Random random;
/// >     SessionID session_id;
/// >     CipherSuite cipher_suite;
/// >     CompressionMethod compression_method;
/// >     select (extensions_present) {
/// >         case false:
/// >             struct {};
/// >         case true:
/// >             Extension extensions<0..2^16-1>;
/// >     };
/// > } ServerHello;
/// > ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// `server_version` (`legacy_version` in TLS 1.3).
    pub legacy_version: ProtocolVersion,
    /// `random`.
    pub random: Random,
    /// `session_id` (`legacy_session_id_echo`).
    pub session_id: SessionId,
    /// `cipher_suite`.
    pub cipher_suite: CipherSuite,
    /// `compression_method` (`legacy_compression_method`).
    pub compression_method: CompressionMethod,
    /// `extensions`, in wire order.
    pub extensions: Extensions,
}

impl ServerHello {
    /// Whether this ServerHello is a TLS 1.3 HelloRetryRequest (RFC 8446
    /// §4.1.3: its random is [`HELLO_RETRY_REQUEST_RANDOM`]).
    pub fn is_hello_retry_request(&self) -> bool {
        self.random == HELLO_RETRY_REQUEST_RANDOM
    }

    /// The downgrade sentinel in the last 8 bytes of the random, if any
    /// (RFC 8446 §4.1.3): [`DOWNGRADE_TLS12`] or [`DOWNGRADE_TLS11`].
    pub fn downgrade_sentinel(&self) -> Option<[u8; 8]> {
        let mut tail = [0u8; 8];
        tail.copy_from_slice(&self.random[24..]);
        (tail == DOWNGRADE_TLS12 || tail == DOWNGRADE_TLS11).then_some(tail)
    }
}

impl Codec for ServerHello {
    fn encode(&self, out: &mut Vec<u8>) {
        self.legacy_version.encode(out);
        out.extend_from_slice(&self.random);
        self.session_id.encode(out);
        self.cipher_suite.encode(out);
        self.compression_method.encode(out);
        self.extensions.encode_optional(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            legacy_version: ProtocolVersion::read(r).context("server_version")?,
            random: read_random(r)?,
            session_id: SessionId::read(r)?,
            cipher_suite: CipherSuite::read(r).context("cipher_suite")?,
            compression_method: CompressionMethod::read(r).context("compression_method")?,
            extensions: Extensions::read_optional(r)?,
        })
    }
}

/// TLS 1.2 `Certificate` (RFC 5246 §7.4.2).
///
/// > ```text
/// > opaque ASN.1Cert<1..2^24-1>;
/// >
/// > struct {
/// >     ASN.1Cert certificate_list<0..2^24-1>;
/// > } Certificate;
/// > ```
///
/// "The sender's certificate MUST come first in the list." An empty list is
/// legal here (a client without a suitable certificate, RFC 5246 §7.4.6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertificatePayload {
    /// DER certificates, end entity first.
    pub certificates: Vec<Vec<u8>>,
}

impl Codec for CertificatePayload {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut list = LengthPrefixed::new(out, LengthPrefix::U24);
        for cert in &self.certificates {
            put_opaque_u24(cert, &mut list);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut list = r.sub(LengthPrefix::U24).context("certificate_list")?;
        let mut certificates = Vec::new();
        while list.any_left() {
            certificates.push(read_nonempty_opaque_u24(&mut list, "ASN.1Cert")?);
        }
        Ok(Self { certificates })
    }
}

/// `ServerKeyExchange` body (RFC 5246 §7.4.3), kept undecoded because its
/// syntax depends on the negotiated key exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchangePayload(pub Vec<u8>);

impl ServerKeyExchangePayload {
    /// Decodes the body as an ECDHE key exchange with a signature (RFC 8422
    /// §5.4, signature per RFC 5246 §7.4.3):
    ///
    /// > ```text
    /// > struct {
    /// >     ServerECDHParams params;
    /// >     digitally-signed struct { … } signed_params;
    /// > } ServerKeyExchange;   /* ec_diffie_hellman */
    /// > ```
    ///
    /// The signature covers `client_random + server_random + params`; the
    /// engine rebuilds that from [`EcdheServerParams::get_encoding`].
    pub fn ecdhe(&self) -> Result<(EcdheServerParams, DigitallySigned), DecodeError> {
        let mut r = Reader::new(&self.0);
        let params = EcdheServerParams::read(&mut r)?;
        let signed = DigitallySigned::read(&mut r)?;
        r.expect_empty("ServerKeyExchange")?;
        Ok((params, signed))
    }

    /// Builds the ECDHE form from its parts.
    pub fn from_ecdhe(params: &EcdheServerParams, signed: &DigitallySigned) -> Self {
        let mut body = params.get_encoding();
        signed.encode(&mut body);
        Self(body)
    }
}

/// `ServerECDHParams` (RFC 8422 §5.4) with a named curve.
///
/// > ```text
/// > struct {
/// >     ECCurveType    curve_type;
/// >     select (curve_type) {
/// >         case named_curve:
/// >             NamedCurve namedcurve;
/// >     };
/// > } ECParameters;
/// >
/// > struct {
/// >     opaque point <1..2^8-1>;
/// > } ECPoint;
/// >
/// > struct {
/// >     ECParameters    curve_params;
/// >     ECPoint         public;
/// > } ServerECDHParams;
/// > ```
///
/// RFC 8422 §5.4 deprecates the explicit curve types; anything but
/// `named_curve` is [`DecodeError::IllegalValue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcdheServerParams {
    /// `curve_type`: always `named_curve` after decoding.
    pub curve_type: ECCurveType,
    /// `namedcurve`.
    pub named_group: NamedGroup,
    /// `public`: the server's ephemeral public point, `<1..2^8-1>`.
    pub public: Vec<u8>,
}

impl EcdheServerParams {
    /// Params for `named_group` with public point `public`.
    pub fn new(named_group: NamedGroup, public: Vec<u8>) -> Self {
        Self {
            curve_type: ECCurveType::NamedCurve,
            named_group,
            public,
        }
    }
}

impl Codec for EcdheServerParams {
    fn encode(&self, out: &mut Vec<u8>) {
        self.curve_type.encode(out);
        self.named_group.encode(out);
        put_opaque_u8(&self.public, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let curve_type = ECCurveType::read(r).context("curve_type")?;
        if curve_type != ECCurveType::NamedCurve {
            return Err(DecodeError::IllegalValue("curve_type"));
        }
        let named_group = NamedGroup::read(r).context("namedcurve")?;
        let public = read_nonempty_opaque_u8(r, "ECPoint")?;
        Ok(Self {
            curve_type,
            named_group,
            public,
        })
    }
}

/// A TLS 1.2 `digitally-signed` element (RFC 5246 §4.7, §7.4.1.4.1), also
/// the TLS 1.3 `CertificateVerify` body (RFC 8446 §4.4.3).
///
/// > ```text
/// > struct {
/// >     SignatureAndHashAlgorithm algorithm;
/// >     opaque signature<0..2^16-1>;
/// > } DigitallySigned;
/// > ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitallySigned {
    /// `algorithm`.
    pub scheme: SignatureScheme,
    /// `signature`.
    pub signature: Vec<u8>,
}

impl Codec for DigitallySigned {
    fn encode(&self, out: &mut Vec<u8>) {
        self.scheme.encode(out);
        put_opaque_u16(&self.signature, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let scheme = SignatureScheme::read(r).context("algorithm")?;
        let signature = read_opaque_u16(r).context("signature")?;
        Ok(Self { scheme, signature })
    }
}

/// TLS 1.2 `CertificateRequest` (RFC 5246 §7.4.4, RFC 8422 §5.5).
///
/// > ```text
/// > struct {
/// >     ClientCertificateType certificate_types<1..2^8-1>;
/// >     SignatureAndHashAlgorithm
/// >       supported_signature_algorithms<2^16-1>;
/// >     DistinguishedName certificate_authorities<0..2^16-1>;
/// > } CertificateRequest;
/// >
/// > opaque DistinguishedName<1..2^16-1>;
/// > ```
///
/// (RFC 5246 writes the signature list bound as `<2^16-1>`; its erratum and
/// §7.4.1.4.1 give `<2..2^16-2>`, which is what is checked.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequestPayload {
    /// `certificate_types`; never empty on the wire.
    pub certificate_types: Vec<ClientCertificateType>,
    /// `supported_signature_algorithms`; never empty on the wire.
    pub signature_schemes: Vec<SignatureScheme>,
    /// `certificate_authorities`: DER `DistinguishedName`s, each non-empty.
    pub certificate_authorities: Vec<Vec<u8>>,
}

impl Codec for CertificateRequestPayload {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_vec_u8(&self.certificate_types, out);
        encode_vec_u16(&self.signature_schemes, out);
        let mut cas = LengthPrefixed::new(out, LengthPrefix::U16);
        for dn in &self.certificate_authorities {
            put_opaque_u16(dn, &mut cas);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let certificate_types = read_nonempty_vec_u8(r, "certificate_types")?;
        let signature_schemes = read_nonempty_vec_u16(r, "supported_signature_algorithms")?;
        let mut cas = r
            .sub(LengthPrefix::U16)
            .context("certificate_authorities")?;
        let mut certificate_authorities = Vec::new();
        while cas.any_left() {
            certificate_authorities.push(read_nonempty_opaque_u16(&mut cas, "DistinguishedName")?);
        }
        Ok(Self {
            certificate_types,
            signature_schemes,
            certificate_authorities,
        })
    }
}

/// `ClientKeyExchange` body (RFC 5246 §7.4.7), kept undecoded because its
/// syntax depends on the negotiated key exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKeyExchangePayload(pub Vec<u8>);

impl ClientKeyExchangePayload {
    /// Decodes the ECDHE form (RFC 8422 §5.7): the client's ephemeral public
    /// point, `opaque point <1..2^8-1>`, and nothing after it.
    ///
    /// > ```text
    /// > struct {
    /// >     select (PublicValueEncoding) {
    /// >         case implicit: struct { };
    /// >         case explicit: ECPoint ecdh_Yc;
    /// >     } ecdh_public;
    /// > } ClientECDiffieHellmanPublic;
    /// > ```
    ///
    /// (`implicit` is for fixed-ECDH client certificates, which hsmtls does
    /// not support.)
    pub fn ecdhe_public(&self) -> Result<Vec<u8>, DecodeError> {
        let mut r = Reader::new(&self.0);
        let point = read_nonempty_opaque_u8(&mut r, "ecdh_Yc")?;
        r.expect_empty("ClientKeyExchange")?;
        Ok(point)
    }

    /// The ECDHE form holding `public`.
    pub fn from_ecdhe_public(public: &[u8]) -> Self {
        let mut body = Vec::with_capacity(1 + public.len());
        put_opaque_u8(public, &mut body);
        Self(body)
    }
}

/// `Finished` body (RFC 5246 §7.4.9): `opaque verify_data[verify_data_length]`.
///
/// The whole body is taken; the engine checks the length (12 for every
/// TLS 1.2 suite here, the hash length in TLS 1.3) as part of verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedPayload {
    /// `verify_data`.
    pub verify_data: Vec<u8>,
}

/// TLS 1.2 `NewSessionTicket` (RFC 5077 §3.3).
///
/// > ```text
/// > struct {
/// >     uint32 ticket_lifetime_hint;
/// >     opaque ticket<0..2^16-1>;
/// > } NewSessionTicket;
/// > ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSessionTicketPayload {
    /// `ticket_lifetime_hint`, seconds; 0 means unspecified.
    pub lifetime_hint: u32,
    /// `ticket` (empty: the server will not issue one after all, §3.3).
    pub ticket: Vec<u8>,
}

impl Codec for NewSessionTicketPayload {
    fn encode(&self, out: &mut Vec<u8>) {
        self.lifetime_hint.encode(out);
        put_opaque_u16(&self.ticket, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let lifetime_hint = r.u32().context("ticket_lifetime_hint")?;
        let ticket = read_opaque_u16(r).context("ticket")?;
        Ok(Self {
            lifetime_hint,
            ticket,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgs::enums::ExtensionType;

    fn hello_extensions() -> Extensions {
        let mut exts = Extensions::new();
        exts.push(ExtensionType::ExtendedMasterSecret, vec![]);
        exts.push(ExtensionType::RenegotiationInfo, vec![0]);
        exts
    }

    pub(crate) fn sample_messages() -> Vec<HandshakeMessage> {
        let ch = ClientHello {
            legacy_version: ProtocolVersion::TLSv1_2,
            random: [1; 32],
            session_id: SessionId::new(&[2; 32]).unwrap_or_default(),
            cipher_suites: vec![
                CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
                CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
                CipherSuite::Unknown(0x0a0a),
            ],
            compression_methods: vec![CompressionMethod::Null],
            extensions: hello_extensions(),
        };
        let sh = ServerHello {
            legacy_version: ProtocolVersion::TLSv1_2,
            random: [3; 32],
            session_id: SessionId::empty(),
            cipher_suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            compression_method: CompressionMethod::Null,
            extensions: hello_extensions(),
        };
        let params = EcdheServerParams::new(NamedGroup::brainpoolP256r1, vec![4; 65]);
        let signed = DigitallySigned {
            scheme: SignatureScheme::ecdsa_secp256r1_sha256,
            signature: vec![5; 71],
        };
        [
            HandshakePayload::HelloRequest,
            HandshakePayload::ClientHello(ch.clone()),
            HandshakePayload::ClientHello(ClientHello {
                extensions: Extensions::new(),
                ..ch
            }),
            HandshakePayload::ServerHello(sh.clone()),
            HandshakePayload::ServerHello(ServerHello {
                extensions: Extensions::new(),
                ..sh
            }),
            HandshakePayload::Certificate(CertificatePayload {
                certificates: vec![vec![0x30; 300], vec![0x30; 5]],
            }),
            HandshakePayload::Certificate(CertificatePayload::default()),
            HandshakePayload::ServerKeyExchange(ServerKeyExchangePayload::from_ecdhe(
                &params, &signed,
            )),
            HandshakePayload::CertificateRequest(CertificateRequestPayload {
                certificate_types: vec![ClientCertificateType::EcdsaSign],
                signature_schemes: vec![
                    SignatureScheme::ecdsa_secp256r1_sha256,
                    SignatureScheme::ecdsa_secp384r1_sha384,
                ],
                certificate_authorities: vec![vec![0x30, 0], vec![0x30; 20]],
            }),
            HandshakePayload::ServerHelloDone,
            HandshakePayload::ClientKeyExchange(ClientKeyExchangePayload::from_ecdhe_public(
                &[4; 65],
            )),
            HandshakePayload::CertificateVerify(signed),
            HandshakePayload::Finished(FinishedPayload {
                verify_data: vec![6; 12],
            }),
            HandshakePayload::NewSessionTicket(NewSessionTicketPayload {
                lifetime_hint: 7200,
                ticket: vec![7; 100],
            }),
        ]
        .into_iter()
        .map(HandshakeMessage::new)
        .chain([HandshakeMessage {
            typ: HandshakeType::EncryptedExtensions,
            payload: HandshakePayload::Unknown(vec![0, 0]),
        }])
        .collect()
    }

    #[test]
    fn every_message_round_trips() {
        for msg in sample_messages() {
            let enc = msg.get_encoding();
            let body_len = enc.len() - HANDSHAKE_HEADER_LEN;
            assert_eq!(enc[0], msg.typ.to_u8());
            assert_eq!(
                enc[1..4],
                (body_len as u32).to_be_bytes()[1..],
                "{:?}",
                msg.typ
            );
            assert_eq!(HandshakeMessage::read_bytes(&enc), Ok(msg));
        }
    }

    #[test]
    fn every_message_truncated_fails() {
        for msg in sample_messages() {
            let enc = msg.get_encoding();
            for cut in 0..enc.len() {
                assert!(
                    HandshakeMessage::read_bytes(&enc[..cut]).is_err(),
                    "{:?} cut at {cut}",
                    msg.typ
                );
            }
        }
    }

    #[test]
    fn body_trailing_byte_fails() {
        for msg in sample_messages() {
            let mut body = Vec::new();
            msg.payload.encode(&mut body);
            body.push(0);
            let mut enc = vec![msg.typ.to_u8()];
            crate::msgs::codec::put_opaque_u24(&body, &mut enc);
            let result = HandshakeMessage::read_bytes(&enc);
            match &msg.payload {
                // These keep the body as bytes, so a trailing byte is data.
                HandshakePayload::ServerKeyExchange(_)
                | HandshakePayload::ClientKeyExchange(_)
                | HandshakePayload::Finished(_)
                | HandshakePayload::Unknown(_) => assert!(result.is_ok()),
                // A trailing byte after a hello is a truncated extensions block.
                HandshakePayload::ClientHello(_) | HandshakePayload::ServerHello(_) => {
                    assert!(result.is_err(), "{:?}", msg.typ)
                }
                _ => assert!(
                    matches!(result, Err(DecodeError::TrailingData(_))),
                    "{:?}: {result:?}",
                    msg.typ
                ),
            }
        }
    }

    #[test]
    fn ecdhe_key_exchange_bodies() {
        let params = EcdheServerParams::new(NamedGroup::secp256r1, vec![4; 65]);
        let signed = DigitallySigned {
            scheme: SignatureScheme::ecdsa_secp256r1_sha256,
            signature: vec![9; 70],
        };
        let ske = ServerKeyExchangePayload::from_ecdhe(&params, &signed);
        assert_eq!(&ske.0[..4], [3, 0, 0x17, 65]);
        assert_eq!(ske.ecdhe(), Ok((params.clone(), signed.clone())));

        let mut trailing = ske.clone();
        trailing.0.push(0);
        assert_eq!(
            trailing.ecdhe(),
            Err(DecodeError::TrailingData("ServerKeyExchange"))
        );
        let mut explicit = ske.clone();
        explicit.0[0] = 1;
        assert_eq!(
            explicit.ecdhe(),
            Err(DecodeError::IllegalValue("curve_type"))
        );
        let mut empty_point = params.get_encoding();
        empty_point.truncate(3);
        empty_point.push(0);
        signed.encode(&mut empty_point);
        assert_eq!(
            ServerKeyExchangePayload(empty_point).ecdhe(),
            Err(DecodeError::InvalidLength("ECPoint"))
        );
        for cut in 0..ske.0.len() {
            assert!(ServerKeyExchangePayload(ske.0[..cut].to_vec())
                .ecdhe()
                .is_err());
        }

        let cke = ClientKeyExchangePayload::from_ecdhe_public(&[4; 65]);
        assert_eq!(cke.0.len(), 66);
        assert_eq!(cke.ecdhe_public(), Ok(vec![4; 65]));
        assert!(ClientKeyExchangePayload(vec![0]).ecdhe_public().is_err());
        assert!(ClientKeyExchangePayload(vec![1, 4, 0])
            .ecdhe_public()
            .is_err());
        assert!(ClientKeyExchangePayload(vec![2, 4]).ecdhe_public().is_err());
    }

    #[test]
    fn hello_rules() {
        let Some(HandshakePayload::ClientHello(ch)) =
            sample_messages().into_iter().nth(1).map(|m| m.payload)
        else {
            panic!("sample 1 is a ClientHello");
        };
        let enc = ch.get_encoding();
        // Session ID length 33.
        let mut bad = enc.clone();
        bad[34] = 33;
        assert!(ClientHello::read_bytes(&bad).is_err());
        // Empty cipher suite list: rebuild with none.
        let none = ClientHello {
            cipher_suites: vec![],
            ..ch.clone()
        };
        assert_eq!(
            ClientHello::read_bytes(&none.get_encoding()),
            Err(DecodeError::EmptyList("cipher_suites"))
        );
        let no_comp = ClientHello {
            compression_methods: vec![],
            ..ch.clone()
        };
        assert_eq!(
            ClientHello::read_bytes(&no_comp.get_encoding()),
            Err(DecodeError::EmptyList("compression_methods"))
        );
        // A duplicate extension.
        let mut dup = ch.clone();
        dup.extensions.0.push(dup.extensions.0[0].clone());
        assert_eq!(
            ClientHello::read_bytes(&dup.get_encoding()),
            Err(DecodeError::DuplicateExtension(23))
        );
    }

    #[test]
    fn server_hello_markers() {
        let mut sh = ServerHello {
            legacy_version: ProtocolVersion::TLSv1_2,
            random: HELLO_RETRY_REQUEST_RANDOM,
            session_id: SessionId::empty(),
            cipher_suite: CipherSuite::TLS_AES_128_GCM_SHA256,
            compression_method: CompressionMethod::Null,
            extensions: Extensions::new(),
        };
        assert!(sh.is_hello_retry_request());
        assert_eq!(sh.downgrade_sentinel(), None);
        sh.random[24..].copy_from_slice(&DOWNGRADE_TLS12);
        assert!(!sh.is_hello_retry_request());
        assert_eq!(sh.downgrade_sentinel(), Some(DOWNGRADE_TLS12));
    }

    #[test]
    fn certificate_rules() {
        // Empty ASN.1Cert.
        assert_eq!(
            CertificatePayload::read_bytes(&[0, 0, 3, 0, 0, 0]),
            Err(DecodeError::InvalidLength("ASN.1Cert"))
        );
        // Certificate longer than the list.
        assert!(CertificatePayload::read_bytes(&[0, 0, 4, 0, 0, 2, 1]).is_err());
        // Empty DistinguishedName.
        let req = CertificateRequestPayload {
            certificate_types: vec![ClientCertificateType::RsaSign],
            signature_schemes: vec![SignatureScheme::rsa_pkcs1_sha256],
            certificate_authorities: vec![vec![]],
        };
        assert_eq!(
            CertificateRequestPayload::read_bytes(&req.get_encoding()),
            Err(DecodeError::InvalidLength("DistinguishedName"))
        );
        let no_types = CertificateRequestPayload {
            certificate_types: vec![],
            certificate_authorities: vec![],
            ..req.clone()
        };
        assert_eq!(
            CertificateRequestPayload::read_bytes(&no_types.get_encoding()),
            Err(DecodeError::EmptyList("certificate_types"))
        );
        let no_schemes = CertificateRequestPayload {
            signature_schemes: vec![],
            certificate_authorities: vec![],
            ..req
        };
        assert_eq!(
            CertificateRequestPayload::read_bytes(&no_schemes.get_encoding()),
            Err(DecodeError::EmptyList("supported_signature_algorithms"))
        );
    }
}
