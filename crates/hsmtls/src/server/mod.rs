//! The server side of the handshake.

pub(crate) mod tls12;
pub(crate) mod tls13;
