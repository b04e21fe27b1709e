//! The IANA registries TLS uses on the wire, each declared once with its
//! IANA names and values.
//!
//! Sources: the "Transport Layer Security (TLS) Parameters" and "TLS
//! ExtensionType Values" registries at IANA, RFC 5246 §6.2.1, §7.2, §7.4,
//! §A.5, RFC 8446 §4, §4.2, §4.2.3, §4.2.7, §6, §B.3, RFC 8422 §5.1 and §5.4,
//! RFC 7919, RFC 8734.
//!
//! RFC 8446 §4.2: "Implementations MUST ignore unrecognized extensions" and
//! §4.1.2 says the same of unknown cipher suites and groups. So every enum
//! keeps an `Unknown(value)` variant: decoding never fails on a value this
//! library does not know, and re-encoding writes it back unchanged.
//!
//! Build values from the wire with `From<u8>` / `From<u16>`, never by writing
//! `Unknown(v)` for a known `v`: `Unknown(0x17)` is not equal to
//! `NamedGroup::secp256r1`.

use std::fmt;

use super::codec::{Codec, DecodeError, Reader};

/// Declares a wire enum once: Rust variant, wire value, IANA name.
///
/// Generates the enum with an `Unknown(repr)` variant, `to_u8`/`to_u16`,
/// `From` both ways, [`Codec`], `as_str()` (the IANA name), `from_name()`
/// (inverse of `as_str`, case-sensitive), `ALL` (the known values in
/// declaration order), `Debug` (variant name or `Unknown(0x..)`) and
/// `Display` (IANA name or `unknown(0x..)`).
macro_rules! wire_enum {
    ($(#[$m:meta])* pub enum $name:ident(u8) { $($body:tt)* }) => {
        wire_enum!(@impl [$(#[$m])*] $name, u8, to_u8, "{:#04x}"; $($body)*);
    };
    ($(#[$m:meta])* pub enum $name:ident(u16) { $($body:tt)* }) => {
        wire_enum!(@impl [$(#[$m])*] $name, u16, to_u16, "{:#06x}"; $($body)*);
    };
    (@impl [$($m:tt)*] $name:ident, $repr:ident, $to:ident, $hex:literal;
        $( $variant:ident = $value:literal => $iana:literal ),+ $(,)?
    ) => {
        $($m)*
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $(
                #[doc = concat!("`", $iana, "` (", stringify!($value), ")")]
                $variant,
            )+
            /// A value without a name in this library, kept as received.
            Unknown($repr),
        }

        impl $name {
            /// Every value with a name, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire value.
            pub const fn $to(self) -> $repr {
                match self {
                    $($name::$variant => $value,)+
                    $name::Unknown(v) => v,
                }
            }

            /// The IANA name, or `"unknown"` for an [`Unknown`](Self::Unknown) value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $iana,)+
                    $name::Unknown(_) => "unknown",
                }
            }

            /// The value with IANA name `name` (case-sensitive).
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($iana => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Whether this is a value with a name (not `Unknown`).
            pub const fn is_known(self) -> bool {
                !matches!(self, $name::Unknown(_))
            }
        }

        impl From<$repr> for $name {
            fn from(v: $repr) -> Self {
                match v {
                    $($value => $name::$variant,)+
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> $repr {
                v.$to()
            }
        }

        impl Codec for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                self.$to().encode(out);
            }

            fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                $repr::read(r).map_err(|e| e.within(stringify!($name))).map(Self::from)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $($name::$variant => f.write_str(stringify!($variant)),)+
                    $name::Unknown(v) => write!(f, concat!("Unknown(", $hex, ")"), v),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $name::Unknown(v) => write!(f, concat!("unknown(", $hex, ")"), v),
                    known => f.write_str(known.as_str()),
                }
            }
        }
    };
}

wire_enum! {
    /// `ContentType` of a record (RFC 5246 §6.2.1, RFC 8446 §5.1, RFC 6520).
    pub enum ContentType(u8) {
        ChangeCipherSpec = 20 => "change_cipher_spec",
        Alert = 21 => "alert",
        Handshake = 22 => "handshake",
        ApplicationData = 23 => "application_data",
        Heartbeat = 24 => "heartbeat",
    }
}

wire_enum! {
    /// `ProtocolVersion` (RFC 5246 §6.2.1, RFC 8446 §4.1.2, §4.2.1).
    ///
    /// There is no IANA registry; the names are the customary ones. Values
    /// compare by wire value, so `TLSv1_3 > TLSv1_2`.
    pub enum ProtocolVersion(u16) {
        SSLv3 = 0x0300 => "SSLv3",
        TLSv1_0 = 0x0301 => "TLSv1.0",
        TLSv1_1 = 0x0302 => "TLSv1.1",
        TLSv1_2 = 0x0303 => "TLSv1.2",
        TLSv1_3 = 0x0304 => "TLSv1.3",
    }
}

impl PartialOrd for ProtocolVersion {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ProtocolVersion {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.to_u16().cmp(&other.to_u16())
    }
}

wire_enum! {
    /// `HandshakeType` (RFC 5246 §7.4, RFC 8446 §4, RFC 6066, RFC 4680,
    /// RFC 8879).
    pub enum HandshakeType(u8) {
        HelloRequest = 0 => "hello_request",
        ClientHello = 1 => "client_hello",
        ServerHello = 2 => "server_hello",
        HelloVerifyRequest = 3 => "hello_verify_request",
        NewSessionTicket = 4 => "new_session_ticket",
        EndOfEarlyData = 5 => "end_of_early_data",
        EncryptedExtensions = 8 => "encrypted_extensions",
        Certificate = 11 => "certificate",
        ServerKeyExchange = 12 => "server_key_exchange",
        CertificateRequest = 13 => "certificate_request",
        ServerHelloDone = 14 => "server_hello_done",
        CertificateVerify = 15 => "certificate_verify",
        ClientKeyExchange = 16 => "client_key_exchange",
        Finished = 20 => "finished",
        CertificateUrl = 21 => "certificate_url",
        CertificateStatus = 22 => "certificate_status",
        SupplementalData = 23 => "supplemental_data",
        KeyUpdate = 24 => "key_update",
        CompressedCertificate = 25 => "compressed_certificate",
        MessageHash = 254 => "message_hash",
    }
}

wire_enum! {
    /// `AlertLevel` (RFC 5246 §7.2).
    pub enum AlertLevel(u8) {
        Warning = 1 => "warning",
        Fatal = 2 => "fatal",
    }
}

wire_enum! {
    /// `AlertDescription` (RFC 5246 §7.2, RFC 8446 §6, RFC 7507, RFC 6066,
    /// RFC 7301).
    pub enum AlertDescription(u8) {
        CloseNotify = 0 => "close_notify",
        UnexpectedMessage = 10 => "unexpected_message",
        BadRecordMac = 20 => "bad_record_mac",
        DecryptionFailed = 21 => "decryption_failed",
        RecordOverflow = 22 => "record_overflow",
        DecompressionFailure = 30 => "decompression_failure",
        HandshakeFailure = 40 => "handshake_failure",
        NoCertificate = 41 => "no_certificate",
        BadCertificate = 42 => "bad_certificate",
        UnsupportedCertificate = 43 => "unsupported_certificate",
        CertificateRevoked = 44 => "certificate_revoked",
        CertificateExpired = 45 => "certificate_expired",
        CertificateUnknown = 46 => "certificate_unknown",
        IllegalParameter = 47 => "illegal_parameter",
        UnknownCa = 48 => "unknown_ca",
        AccessDenied = 49 => "access_denied",
        DecodeError = 50 => "decode_error",
        DecryptError = 51 => "decrypt_error",
        ExportRestriction = 60 => "export_restriction",
        ProtocolVersion = 70 => "protocol_version",
        InsufficientSecurity = 71 => "insufficient_security",
        InternalError = 80 => "internal_error",
        InappropriateFallback = 86 => "inappropriate_fallback",
        UserCanceled = 90 => "user_canceled",
        NoRenegotiation = 100 => "no_renegotiation",
        MissingExtension = 109 => "missing_extension",
        UnsupportedExtension = 110 => "unsupported_extension",
        CertificateUnobtainable = 111 => "certificate_unobtainable",
        UnrecognizedName = 112 => "unrecognized_name",
        BadCertificateStatusResponse = 113 => "bad_certificate_status_response",
        BadCertificateHashValue = 114 => "bad_certificate_hash_value",
        UnknownPskIdentity = 115 => "unknown_psk_identity",
        CertificateRequired = 116 => "certificate_required",
        NoApplicationProtocol = 120 => "no_application_protocol",
    }
}

wire_enum! {
    /// `CipherSuite` (RFC 5246 §A.5, RFC 8446 §B.4, RFC 5289, RFC 7905,
    /// RFC 5487, RFC 8442, RFC 7507, RFC 5746). Variants carry the IANA names.
    pub enum CipherSuite(u16) {
        TLS_NULL_WITH_NULL_NULL = 0x0000 => "TLS_NULL_WITH_NULL_NULL",
        TLS_RSA_WITH_AES_128_CBC_SHA = 0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        TLS_RSA_WITH_AES_256_CBC_SHA = 0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        TLS_RSA_WITH_AES_128_CBC_SHA256 = 0x003c => "TLS_RSA_WITH_AES_128_CBC_SHA256",
        TLS_RSA_WITH_AES_256_CBC_SHA256 = 0x003d => "TLS_RSA_WITH_AES_256_CBC_SHA256",
        TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        TLS_RSA_WITH_AES_256_GCM_SHA384 = 0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        TLS_PSK_WITH_AES_128_GCM_SHA256 = 0x00a8 => "TLS_PSK_WITH_AES_128_GCM_SHA256",
        TLS_PSK_WITH_AES_256_GCM_SHA384 = 0x00a9 => "TLS_PSK_WITH_AES_256_GCM_SHA384",
        TLS_PSK_WITH_AES_128_CBC_SHA256 = 0x00ae => "TLS_PSK_WITH_AES_128_CBC_SHA256",
        TLS_PSK_WITH_AES_256_CBC_SHA384 = 0x00af => "TLS_PSK_WITH_AES_256_CBC_SHA384",
        TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        TLS_AES_128_GCM_SHA256 = 0x1301 => "TLS_AES_128_GCM_SHA256",
        TLS_AES_256_GCM_SHA384 = 0x1302 => "TLS_AES_256_GCM_SHA384",
        TLS_CHACHA20_POLY1305_SHA256 = 0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        TLS_AES_128_CCM_SHA256 = 0x1304 => "TLS_AES_128_CCM_SHA256",
        TLS_AES_128_CCM_8_SHA256 = 0x1305 => "TLS_AES_128_CCM_8_SHA256",
        TLS_FALLBACK_SCSV = 0x5600 => "TLS_FALLBACK_SCSV",
        TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA = 0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA = 0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA = 0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA = 0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 = 0xc023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 = 0xc024 => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 = 0xc027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 = 0xc028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 = 0xc037 => "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
        TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384 = 0xc038 => "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384",
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xccab => "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
        TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xccac => "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
        TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256 = 0xd001 => "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256",
        TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384 = 0xd002 => "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384",
    }
}

wire_enum! {
    /// `NamedGroup` (RFC 8422 §5.1.1, RFC 8446 §4.2.7, RFC 7027, RFC 8734,
    /// RFC 7919). Variants carry the IANA names.
    pub enum NamedGroup(u16) {
        secp256r1 = 0x0017 => "secp256r1",
        secp384r1 = 0x0018 => "secp384r1",
        secp521r1 = 0x0019 => "secp521r1",
        brainpoolP256r1 = 0x001a => "brainpoolP256r1",
        brainpoolP384r1 = 0x001b => "brainpoolP384r1",
        brainpoolP512r1 = 0x001c => "brainpoolP512r1",
        x25519 = 0x001d => "x25519",
        x448 = 0x001e => "x448",
        brainpoolP256r1tls13 = 0x001f => "brainpoolP256r1tls13",
        brainpoolP384r1tls13 = 0x0020 => "brainpoolP384r1tls13",
        brainpoolP512r1tls13 = 0x0021 => "brainpoolP512r1tls13",
        ffdhe2048 = 0x0100 => "ffdhe2048",
        ffdhe3072 = 0x0101 => "ffdhe3072",
    }
}

wire_enum! {
    /// `SignatureScheme` (RFC 8446 §4.2.3, RFC 8734). In TLS 1.2 the same
    /// code points are the `SignatureAndHashAlgorithm` pairs of RFC 5246
    /// §7.4.1.4.1. Variants carry the IANA names.
    pub enum SignatureScheme(u16) {
        rsa_pkcs1_sha1 = 0x0201 => "rsa_pkcs1_sha1",
        ecdsa_sha1 = 0x0203 => "ecdsa_sha1",
        rsa_pkcs1_sha256 = 0x0401 => "rsa_pkcs1_sha256",
        ecdsa_secp256r1_sha256 = 0x0403 => "ecdsa_secp256r1_sha256",
        rsa_pkcs1_sha384 = 0x0501 => "rsa_pkcs1_sha384",
        ecdsa_secp384r1_sha384 = 0x0503 => "ecdsa_secp384r1_sha384",
        rsa_pkcs1_sha512 = 0x0601 => "rsa_pkcs1_sha512",
        ecdsa_secp521r1_sha512 = 0x0603 => "ecdsa_secp521r1_sha512",
        rsa_pss_rsae_sha256 = 0x0804 => "rsa_pss_rsae_sha256",
        rsa_pss_rsae_sha384 = 0x0805 => "rsa_pss_rsae_sha384",
        rsa_pss_rsae_sha512 = 0x0806 => "rsa_pss_rsae_sha512",
        ed25519 = 0x0807 => "ed25519",
        ed448 = 0x0808 => "ed448",
        rsa_pss_pss_sha256 = 0x0809 => "rsa_pss_pss_sha256",
        rsa_pss_pss_sha384 = 0x080a => "rsa_pss_pss_sha384",
        rsa_pss_pss_sha512 = 0x080b => "rsa_pss_pss_sha512",
        ecdsa_brainpoolP256r1tls13_sha256 = 0x081a => "ecdsa_brainpoolP256r1tls13_sha256",
        ecdsa_brainpoolP384r1tls13_sha384 = 0x081b => "ecdsa_brainpoolP384r1tls13_sha384",
        ecdsa_brainpoolP512r1tls13_sha512 = 0x081c => "ecdsa_brainpoolP512r1tls13_sha512",
    }
}

wire_enum! {
    /// `ExtensionType` (IANA "TLS ExtensionType Values"; RFC 8446 §4.2,
    /// RFC 6066, RFC 8422, RFC 7301, RFC 7627, RFC 7366, RFC 8449, RFC 5077,
    /// RFC 5746, RFC 4681, RFC 7250, RFC 8879).
    pub enum ExtensionType(u16) {
        ServerName = 0 => "server_name",
        MaxFragmentLength = 1 => "max_fragment_length",
        ClientCertificateUrl = 2 => "client_certificate_url",
        TrustedCaKeys = 3 => "trusted_ca_keys",
        TruncatedHmac = 4 => "truncated_hmac",
        StatusRequest = 5 => "status_request",
        UserMapping = 6 => "user_mapping",
        ClientAuthz = 7 => "client_authz",
        ServerAuthz = 8 => "server_authz",
        CertType = 9 => "cert_type",
        SupportedGroups = 10 => "supported_groups",
        EcPointFormats = 11 => "ec_point_formats",
        SignatureAlgorithms = 13 => "signature_algorithms",
        UseSrtp = 14 => "use_srtp",
        Heartbeat = 15 => "heartbeat",
        ApplicationLayerProtocolNegotiation = 16 => "application_layer_protocol_negotiation",
        StatusRequestV2 = 17 => "status_request_v2",
        SignedCertificateTimestamp = 18 => "signed_certificate_timestamp",
        ClientCertificateType = 19 => "client_certificate_type",
        ServerCertificateType = 20 => "server_certificate_type",
        Padding = 21 => "padding",
        EncryptThenMac = 22 => "encrypt_then_mac",
        ExtendedMasterSecret = 23 => "extended_master_secret",
        CompressCertificate = 27 => "compress_certificate",
        RecordSizeLimit = 28 => "record_size_limit",
        SessionTicket = 35 => "session_ticket",
        PreSharedKey = 41 => "pre_shared_key",
        EarlyData = 42 => "early_data",
        SupportedVersions = 43 => "supported_versions",
        Cookie = 44 => "cookie",
        PskKeyExchangeModes = 45 => "psk_key_exchange_modes",
        CertificateAuthorities = 47 => "certificate_authorities",
        OidFilters = 48 => "oid_filters",
        PostHandshakeAuth = 49 => "post_handshake_auth",
        SignatureAlgorithmsCert = 50 => "signature_algorithms_cert",
        KeyShare = 51 => "key_share",
        RenegotiationInfo = 0xff01 => "renegotiation_info",
    }
}

wire_enum! {
    /// `ECPointFormat` (RFC 8422 §5.1.2).
    pub enum ECPointFormat(u8) {
        Uncompressed = 0 => "uncompressed",
        AnsiX962CompressedPrime = 1 => "ansiX962_compressed_prime",
        AnsiX962CompressedChar2 = 2 => "ansiX962_compressed_char2",
    }
}

wire_enum! {
    /// `ECCurveType` (RFC 8422 §5.4). Only `named_curve` is allowed there:
    /// "explicit_prime … explicit_char2 … deprecated".
    pub enum ECCurveType(u8) {
        ExplicitPrime = 1 => "explicit_prime",
        ExplicitChar2 = 2 => "explicit_char2",
        NamedCurve = 3 => "named_curve",
    }
}

wire_enum! {
    /// `ClientCertificateType` (RFC 5246 §7.4.4, RFC 8422 §5.5).
    pub enum ClientCertificateType(u8) {
        RsaSign = 1 => "rsa_sign",
        EcdsaSign = 64 => "ecdsa_sign",
    }
}

wire_enum! {
    /// `CompressionMethod` (RFC 5246 §7.4.1.2). RFC 8446 §4.1.2 allows only
    /// `null`.
    pub enum CompressionMethod(u8) {
        Null = 0 => "null",
    }
}

wire_enum! {
    /// `PskKeyExchangeMode` (RFC 8446 §4.2.9).
    pub enum PskKeyExchangeMode(u8) {
        PskKe = 0 => "psk_ke",
        PskDheKe = 1 => "psk_dhe_ke",
    }
}

wire_enum! {
    /// `KeyUpdateRequest` (RFC 8446 §4.6.3).
    pub enum KeyUpdateRequest(u8) {
        UpdateNotRequested = 0 => "update_not_requested",
        UpdateRequested = 1 => "update_requested",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every known value round-trips through the wire and through its name,
    /// and names and values are unique; one unknown value survives.
    macro_rules! check_enum {
        ($name:ident, $repr:ident, $to:ident, $unknown:expr) => {{
            let mut seen_values = std::collections::HashSet::new();
            let mut seen_names = std::collections::HashSet::new();
            for &v in $name::ALL {
                assert!(v.is_known());
                assert!(seen_values.insert(v.$to()), "{v:?} value twice");
                assert!(seen_names.insert(v.as_str()), "{v:?} name twice");
                assert_eq!($name::from(v.$to()), v);
                assert_eq!($repr::from(v), v.$to());
                let enc = v.get_encoding();
                assert_eq!(enc, v.$to().to_be_bytes());
                assert_eq!($name::read_bytes(&enc), Ok(v));
                assert_eq!($name::from_name(v.as_str()), Some(v));
                assert_eq!(v.to_string(), v.as_str());
            }
            let unknown = $name::from($unknown);
            assert_eq!(unknown, $name::Unknown($unknown));
            assert!(!unknown.is_known());
            assert_eq!($name::read_bytes(&unknown.get_encoding()), Ok(unknown));
            assert_eq!(unknown.$to(), $unknown);
            assert_eq!(unknown.as_str(), "unknown");
            assert_eq!($name::from_name("unknown"), None);
            assert!($name::read_bytes(&[]).is_err());
        }};
    }

    #[test]
    fn all_enums_round_trip() {
        check_enum!(ContentType, u8, to_u8, 0xfe);
        check_enum!(ProtocolVersion, u16, to_u16, 0x7f1c);
        check_enum!(HandshakeType, u8, to_u8, 0x99);
        check_enum!(AlertLevel, u8, to_u8, 3);
        check_enum!(AlertDescription, u8, to_u8, 0xee);
        check_enum!(CipherSuite, u16, to_u16, 0x0a0a);
        check_enum!(NamedGroup, u16, to_u16, 0x11ec);
        check_enum!(SignatureScheme, u16, to_u16, 0x0904);
        check_enum!(ExtensionType, u16, to_u16, 0xfe0d);
        check_enum!(ECPointFormat, u8, to_u8, 0xff);
        check_enum!(ECCurveType, u8, to_u8, 0);
        check_enum!(ClientCertificateType, u8, to_u8, 2);
        check_enum!(CompressionMethod, u8, to_u8, 1);
        check_enum!(PskKeyExchangeMode, u8, to_u8, 2);
        check_enum!(KeyUpdateRequest, u8, to_u8, 2);
    }

    #[test]
    fn iana_names_and_values() {
        assert_eq!(
            CipherSuite::from_name("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
            Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
        );
        assert_eq!(
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256.to_u16(),
            0xc023
        );
        assert_eq!(NamedGroup::brainpoolP256r1.as_str(), "brainpoolP256r1");
        assert_eq!(NamedGroup::from(0x001a), NamedGroup::brainpoolP256r1);
        assert_eq!(NamedGroup::from_name("BRAINPOOLP256R1"), None);
        assert_eq!(
            SignatureScheme::from(0x0403).as_str(),
            "ecdsa_secp256r1_sha256"
        );
        assert_eq!(ExtensionType::RenegotiationInfo.to_u16(), 0xff01);
        assert_eq!(AlertDescription::NoApplicationProtocol.to_u8(), 120);
        assert_eq!(HandshakeType::MessageHash.to_u8(), 254);
        assert_eq!(ProtocolVersion::TLSv1_2.to_u16(), 0x0303);
    }

    #[test]
    fn formatting() {
        assert_eq!(format!("{:?}", NamedGroup::x25519), "x25519");
        assert_eq!(
            format!("{:?}", NamedGroup::Unknown(0x11ec)),
            "Unknown(0x11ec)"
        );
        assert_eq!(NamedGroup::Unknown(0x11ec).to_string(), "unknown(0x11ec)");
        assert_eq!(format!("{:?}", ContentType::Unknown(7)), "Unknown(0x07)");
        assert_eq!(HandshakeType::ClientHello.to_string(), "client_hello");
    }

    #[test]
    fn versions_order_by_value() {
        assert!(ProtocolVersion::TLSv1_3 > ProtocolVersion::TLSv1_2);
        assert!(ProtocolVersion::SSLv3 < ProtocolVersion::TLSv1_0);
        assert!(ProtocolVersion::Unknown(0x0305) > ProtocolVersion::TLSv1_3);
    }
}
