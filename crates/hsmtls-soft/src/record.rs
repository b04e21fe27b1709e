//! [`RecordProtector`]s over hsmtls-crypto's TLS 1.2 record code. Keys are
//! scheduled once when the protector is built; `seal` appends to `out`
//! without other allocation.

use core::fmt;
use core::ops::Range;

use hsmtls_crypto::record::{Tls12Aead, Tls12Cbc};
use hsmtls_crypto::record13::Tls13Aead;
use hsmtls_keys::{KeyError, RecordProtector};

use crate::map_err;

/// A protector whose sealing needs nothing but the record: the AEAD
/// constructions of TLS 1.2 (RFC 5288, RFC 7905) and TLS 1.3 (RFC 8446
/// §5.2) share one implementation.
macro_rules! aead_protector {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $debug:literal) => {
        $(#[$doc])*
        pub(crate) struct $name {
            pub(crate) id: u64,
            pub(crate) inner: $inner,
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($debug, "#{}"), self.id)
            }
        }

        impl RecordProtector for $name {
            fn seal(
                &mut self,
                seq: u64,
                content_type: u8,
                version: u16,
                plaintext: &[u8],
                out: &mut Vec<u8>,
            ) -> Result<(), KeyError> {
                self.inner
                    .seal(seq, content_type, version, plaintext, out)
                    .map_err(map_err)
            }

            fn open(
                &mut self,
                seq: u64,
                content_type: u8,
                version: u16,
                fragment: &mut [u8],
            ) -> Result<Range<usize>, KeyError> {
                self.inner
                    .open(seq, content_type, version, fragment)
                    .map_err(|_| KeyError::BadRecordMac)
            }

            fn max_overhead(&self) -> usize {
                self.inner.max_overhead()
            }
        }
    };
}

aead_protector!(
    /// AES-GCM (RFC 5288) or ChaCha20-Poly1305 (RFC 7905).
    AeadProtector,
    Tls12Aead,
    "soft:aead-record"
);

aead_protector!(
    /// TLS 1.3 AEAD record protection (RFC 8446 §5.2).
    Tls13Protector,
    Tls13Aead,
    "soft:tls13-record"
);

/// AES-CBC + HMAC, MAC-then-encrypt or encrypt-then-MAC (RFC 7366).
pub(crate) struct CbcProtector {
    pub(crate) id: u64,
    pub(crate) inner: Tls12Cbc,
}

impl fmt::Debug for CbcProtector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "soft:cbc-record#{}", self.id)
    }
}

impl RecordProtector for CbcProtector {
    fn seal(
        &mut self,
        seq: u64,
        content_type: u8,
        version: u16,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), KeyError> {
        // RFC 5246 §6.2.3.2: "The IV SHOULD be chosen at random, and MUST
        // be unpredictable."
        let mut iv = [0u8; 16];
        hsmtls_crypto::fill_nonce(&mut iv).map_err(map_err)?;
        self.inner
            .seal(seq, content_type, version, &iv, plaintext, out)
            .map_err(map_err)
    }

    fn open(
        &mut self,
        seq: u64,
        content_type: u8,
        version: u16,
        fragment: &mut [u8],
    ) -> Result<Range<usize>, KeyError> {
        self.inner
            .open(seq, content_type, version, fragment)
            .map_err(|_| KeyError::BadRecordMac)
    }

    fn max_overhead(&self) -> usize {
        self.inner.max_overhead()
    }
}
