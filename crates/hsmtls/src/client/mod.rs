//! The client side of the handshake.

pub(crate) mod tls12;
