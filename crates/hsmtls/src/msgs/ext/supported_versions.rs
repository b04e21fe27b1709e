//! `supported_versions` (RFC 8446 §4.2.1).
//!
//! > ```text
//! > struct {
//! >     select (Handshake.msg_type) {
//! >         case client_hello:
//! >              ProtocolVersion versions<2..254>;
//! >
//! >         case server_hello: /* and HelloRetryRequest */
//! >              ProtocolVersion selected_version;
//! >     };
//! > } SupportedVersions;
//! > ```

use crate::msgs::codec::{
    encode_vec_u8, read_nonempty_vec_u8, Codec, Context, DecodeError, Reader,
};
use crate::msgs::enums::ProtocolVersion;

/// The client's `versions<2..254>`, most preferred first. Unknown versions
/// (e.g. GREASE) are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSupportedVersions(pub Vec<ProtocolVersion>);

impl Codec for ClientSupportedVersions {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_vec_u8(&self.0, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_nonempty_vec_u8(r, "versions").map(Self)
    }
}

/// The server's `selected_version` (ServerHello and HelloRetryRequest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSupportedVersion(pub ProtocolVersion);

impl Codec for ServerSupportedVersion {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        ProtocolVersion::read(r)
            .context("selected_version")
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let client = ClientSupportedVersions(vec![
            ProtocolVersion::Unknown(0x7a7a),
            ProtocolVersion::TLSv1_3,
            ProtocolVersion::TLSv1_2,
        ]);
        let enc = client.get_encoding();
        assert_eq!(enc, [6, 0x7a, 0x7a, 3, 4, 3, 3]);
        assert_eq!(ClientSupportedVersions::read_bytes(&enc), Ok(client));
        let server = ServerSupportedVersion(ProtocolVersion::TLSv1_3);
        assert_eq!(server.get_encoding(), [3, 4]);
        assert_eq!(ServerSupportedVersion::read_bytes(&[3, 4]), Ok(server));
    }

    #[test]
    fn rejects() {
        assert_eq!(
            ClientSupportedVersions::read_bytes(&[0]),
            Err(DecodeError::EmptyList("versions"))
        );
        assert!(ClientSupportedVersions::read_bytes(&[3, 3, 4, 3]).is_err());
        assert!(ServerSupportedVersion::read_bytes(&[3]).is_err());
        assert!(ServerSupportedVersion::read_bytes(&[3, 4, 0]).is_err());
    }
}
