//! The server side of the handshake.

pub(crate) mod tls12;
