//! The TLS wire format: every byte that crosses the network is encoded and
//! decoded here, and nowhere else.
//!
//! Implements the presentation language of RFC 5246 §4 / RFC 8446 §3
//! ([`codec`]), the IANA registries used by TLS ([`enums`]), the record layer
//! framing of RFC 5246 §6.2 and RFC 8446 §5.1 ([`deframer`]), the handshake
//! messages of RFC 5246 §7.4 ([`handshake`]) and the TLS 1.3 bodies of
//! RFC 8446 §4 that differ from them ([`tls13`]), the hello extensions
//! ([`ext`], one file per extension) and the alert protocol of RFC 5246 §7.2
//! / RFC 8446 §6 ([`alert`]).
//!
//! Decoding follows "parse, don't validate": a decoder consumes exactly the
//! bytes it is given, checks every length and `<floor..ceiling>` bound the
//! RFC states, and returns a typed value or a [`codec::DecodeError`] that
//! names the alert to send ([`codec::DecodeError::alert`]). No input can make
//! a decoder panic.
//!
//! # Naming of wire enum variants
//!
//! The algorithm registries — [`enums::CipherSuite`], [`enums::NamedGroup`]
//! and [`enums::SignatureScheme`] — use the IANA names verbatim as variant
//! names (`CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`,
//! `NamedGroup::brainpoolP256r1`, `SignatureScheme::ecdsa_secp256r1_sha256`),
//! so the variant, `as_str()` and `from_name()` all agree. The protocol
//! structure registries use CamelCase (`HandshakeType::ClientHello`,
//! `AlertDescription::DecodeError`, `ExtensionType::SupportedGroups`,
//! `ContentType::ApplicationData`, `ProtocolVersion::TLSv1_2`).
#![warn(missing_docs)]

pub mod alert;
pub mod base;
pub mod codec;
pub mod deframer;
pub mod enums;
pub mod ext;
pub mod handshake;
pub mod tls13;
