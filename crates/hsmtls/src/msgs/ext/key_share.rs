//! `key_share` (RFC 8446 §4.2.8).
//!
//! > ```text
//! > struct {
//! >     NamedGroup group;
//! >     opaque key_exchange<1..2^16-1>;
//! > } KeyShareEntry;
//! >
//! > struct {
//! >     KeyShareEntry client_shares<0..2^16-1>;
//! > } KeyShareClientHello;
//! >
//! > struct {
//! >     NamedGroup selected_group;
//! > } KeyShareHelloRetryRequest;
//! >
//! > struct {
//! >     KeyShareEntry server_share;
//! > } KeyShareServerHello;
//! > ```
//!
//! > "Clients MUST NOT offer multiple KeyShareEntry values for the same
//! > group. … Servers MAY check for violations of these rules and abort the
//! > handshake with an "illegal_parameter" alert if one is violated." — we
//! > do check.

use crate::msgs::codec::{
    put_opaque_u16, read_nonempty_opaque_u16, Codec, Context, DecodeError, LengthPrefix,
    LengthPrefixed, Reader,
};
use crate::msgs::enums::NamedGroup;

/// `KeyShareEntry`: a group and the public key share in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyShareEntry {
    /// `group`.
    pub group: NamedGroup,
    /// `key_exchange<1..2^16-1>`: the public value (RFC 8446 §4.2.8.1/2).
    pub key_exchange: Vec<u8>,
}

impl Codec for KeyShareEntry {
    fn encode(&self, out: &mut Vec<u8>) {
        self.group.encode(out);
        put_opaque_u16(&self.key_exchange, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let group = NamedGroup::read(r).context("KeyShareEntry.group")?;
        let key_exchange = read_nonempty_opaque_u16(r, "key_exchange")?;
        Ok(Self {
            group,
            key_exchange,
        })
    }
}

/// `KeyShareClientHello`: possibly empty (the client then expects a
/// HelloRetryRequest), no group twice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientKeyShare(pub Vec<KeyShareEntry>);

impl ClientKeyShare {
    /// The share for `group`, if offered.
    pub fn find(&self, group: NamedGroup) -> Option<&KeyShareEntry> {
        self.0.iter().find(|e| e.group == group)
    }
}

impl Codec for ClientKeyShare {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut body = LengthPrefixed::new(out, LengthPrefix::U16);
        for entry in &self.0 {
            entry.encode(&mut body);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut list = r.sub(LengthPrefix::U16).context("client_shares")?;
        let mut entries = Vec::new();
        while list.any_left() {
            entries.push(KeyShareEntry::read(&mut list)?);
        }
        let mut groups: Vec<u16> = entries.iter().map(|e| e.group.to_u16()).collect();
        groups.sort_unstable();
        if groups.windows(2).any(|w| w[0] == w[1]) {
            return Err(DecodeError::IllegalValue(
                "client_shares: group offered twice",
            ));
        }
        Ok(Self(entries))
    }
}

/// `KeyShareServerHello`: the server's one share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyShare(pub KeyShareEntry);

impl Codec for ServerKeyShare {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        KeyShareEntry::read(r).map(Self)
    }
}

/// `KeyShareHelloRetryRequest`: the group the server wants a share for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelloRetryKeyShare(pub NamedGroup);

impl Codec for HelloRetryKeyShare {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        NamedGroup::read(r).context("selected_group").map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(group: NamedGroup, len: usize) -> KeyShareEntry {
        KeyShareEntry {
            group,
            key_exchange: vec![0x42; len],
        }
    }

    #[test]
    fn round_trip() {
        let client = ClientKeyShare(vec![
            entry(NamedGroup::x25519, 32),
            entry(NamedGroup::secp256r1, 65),
        ]);
        let enc = client.get_encoding();
        assert_eq!(enc.len(), 2 + 4 + 32 + 4 + 65);
        let back = ClientKeyShare::read_bytes(&enc).unwrap();
        assert_eq!(back, client);
        assert_eq!(
            back.find(NamedGroup::secp256r1)
                .map(|e| e.key_exchange.len()),
            Some(65)
        );
        assert_eq!(
            ClientKeyShare::read_bytes(&[0, 0]),
            Ok(ClientKeyShare::default())
        );

        let server = ServerKeyShare(entry(NamedGroup::x25519, 32));
        assert_eq!(
            ServerKeyShare::read_bytes(&server.get_encoding()),
            Ok(server)
        );
        let hrr = HelloRetryKeyShare(NamedGroup::secp384r1);
        assert_eq!(hrr.get_encoding(), [0, 0x18]);
        assert_eq!(HelloRetryKeyShare::read_bytes(&[0, 0x18]), Ok(hrr));
    }

    #[test]
    fn rejects() {
        let dup = ClientKeyShare(vec![
            entry(NamedGroup::x25519, 32),
            entry(NamedGroup::x25519, 32),
        ]);
        assert!(matches!(
            ClientKeyShare::read_bytes(&dup.get_encoding()),
            Err(DecodeError::IllegalValue(_))
        ));
        // Empty key_exchange.
        assert_eq!(
            ServerKeyShare::read_bytes(&[0, 0x1d, 0, 0]),
            Err(DecodeError::InvalidLength("key_exchange"))
        );
        assert!(HelloRetryKeyShare::read_bytes(&[0, 0x1d, 0]).is_err());
    }
}
