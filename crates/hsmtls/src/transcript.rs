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

    /// RFC 8446 §4.4.1: after a HelloRetryRequest the first ClientHello is
    /// replaced by `message_hash(Hash(ClientHello1))`. Call with only
    /// ClientHello1 added.
    pub(crate) fn restart_for_hello_retry(
        &mut self,
        store: &Arc<dyn KeyStore>,
        algorithm: HashAlgorithm,
    ) -> Result<(), Error> {
        let mut h = store.hasher(algorithm)?;
        h.update(&self.buffer);
        let client_hello1 = h.current();
        let mut message = Vec::with_capacity(4 + client_hello1.as_ref().len());
        crate::msgs::tls13::encode_message_hash(client_hello1.as_ref(), &mut message);
        let mut h = store.hasher(algorithm)?;
        h.update(&message);
        self.hasher = Some(h);
        self.keep_buffer = true;
        self.buffer = message;
        Ok(())
    }

    /// The hash of the messages so far followed by `extra` (a truncated
    /// ClientHello for PSK binders, RFC 8446 §4.2.11.2), without adding it.
    pub(crate) fn hash_with(&self, extra: &[u8]) -> Result<Digest, Error> {
        let h = self
            .hasher
            .as_ref()
            .ok_or(Error::InvalidState("transcript hash not started"))?;
        let mut fork = h.fork();
        fork.update(extra);
        Ok(fork.current())
    }

    /// The hash algorithm, once started.
    pub(crate) fn algorithm(&self) -> Option<HashAlgorithm> {
        self.hasher.as_ref().map(|h| h.algorithm())
    }

    /// Stops buffering once no CertificateVerify can follow.
    pub(crate) fn drop_buffer(&mut self) {
        self.keep_buffer = false;
        self.buffer = Vec::new();
    }
}
