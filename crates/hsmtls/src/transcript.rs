//! The handshake transcript: every handshake message passes through
//! [`Transcript::add`], the one chokepoint, so no state can forget it.
//!
//! Until the suite (and so the PRF hash) is known the messages are only
//! buffered. The buffer is kept while a TLS 1.2 CertificateVerify may still
//! need to sign or check "all handshake messages" (RFC 5246 §7.4.8).

use std::sync::Arc;

use hsmtls_keys::{Digest, HashAlgorithm, Hasher, KeyStore};

use crate::error::Error;

pub(crate) struct Transcript {
    hasher: Option<Box<dyn Hasher>>,
    buffer: Vec<u8>,
    keep_buffer: bool,
}

impl core::fmt::Debug for Transcript {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Transcript")
            .field("hash", &self.hasher.as_ref().map(|h| h.algorithm()))
            .field("buffered", &self.buffer.len())
            .finish()
    }
}

impl Transcript {
    pub(crate) fn new() -> Self {
        Self {
            hasher: None,
            buffer: Vec::with_capacity(2048),
            keep_buffer: true,
        }
    }

    /// Adds one whole handshake message (header included).
    pub(crate) fn add(&mut self, message: &[u8]) {
        if let Some(h) = &mut self.hasher {
            h.update(message);
        }
        if self.keep_buffer {
            self.buffer.extend_from_slice(message);
        }
    }

    /// Starts hashing with the suite's hash over what was buffered.
    pub(crate) fn start_hash(
        &mut self,
        store: &Arc<dyn KeyStore>,
        algorithm: HashAlgorithm,
    ) -> Result<(), Error> {
        let mut h = store.hasher(algorithm)?;
        h.update(&self.buffer);
        self.hasher = Some(h);
        Ok(())
    }

    /// The hash of the messages so far.
    pub(crate) fn current_hash(&self) -> Result<Digest, Error> {
        self.hasher
            .as_ref()
            .map(|h| h.current())
            .ok_or(Error::InvalidState("transcript hash not started"))
    }

    /// All messages so far, for a TLS 1.2 CertificateVerify.
    pub(crate) fn messages(&self) -> &[u8] {
        &self.buffer
    }

    /// Stops buffering once no CertificateVerify can follow.
    pub(crate) fn drop_buffer(&mut self) {
        self.keep_buffer = false;
        self.buffer = Vec::new();
    }
}
