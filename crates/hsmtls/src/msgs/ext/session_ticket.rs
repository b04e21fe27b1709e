//! `session_ticket` (RFC 5077 §3.2).
//!
//! > "If the client possesses a ticket that it wants to use to resume a
//! > session, then it includes the ticket in the SessionTicket extension in
//! > the ClientHello. If the client does not have a ticket and is prepared
//! > to receive one in the NewSessionTicket handshake message, then it MUST
//! > include a zero-length ticket in the SessionTicket extension."
//!
//! > "The server uses a zero-length SessionTicket extension to indicate to
//! > the client that it will send a new session ticket".
//!
//! The body is the ticket itself, the whole `extension_data`, no length.

use crate::msgs::codec::{Codec, DecodeError, Reader};

/// The `session_ticket` body: the opaque ticket (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionTicket(pub Vec<u8>);

impl Codec for SessionTicket {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.rest().to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for ticket in [vec![], vec![1, 2, 3]] {
            let body = SessionTicket(ticket.clone());
            assert_eq!(body.get_encoding(), ticket);
            assert_eq!(SessionTicket::read_bytes(&ticket), Ok(body));
        }
    }
}
