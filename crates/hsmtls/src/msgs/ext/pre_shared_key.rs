//! `pre_shared_key` (RFC 8446 §4.2.11).
//!
//! > ```text
//! > struct {
//! >     opaque identity<1..2^16-1>;
//! >     uint32 obfuscated_ticket_age;
//! > } PskIdentity;
//! >
//! > opaque PskBinderEntry<32..255>;
//! >
//! > struct {
//! >     PskIdentity identities<7..2^16-1>;
//! >     PskBinderEntry binders<33..2^16-1>;
//! > } OfferedPsks;
//! >
//! > struct {
//! >     select (Handshake.msg_type) {
//! >         case client_hello: OfferedPsks;
//! >         case server_hello: uint16 selected_identity;
//! >     };
//! > } PreSharedKeyExtension;
//! > ```
//!
//! The binders are computed over the ClientHello up to but excluding the
//! `binders` vector (§4.2.11.2); [`OfferedPsks::binders_len`] says how many
//! bytes to cut from the end of the encoded ClientHello.

use crate::msgs::codec::{
    put_opaque_u16, put_opaque_u8, read_nonempty_opaque_u16, read_opaque_u8, Codec, Context,
    DecodeError, LengthPrefix, LengthPrefixed, Reader,
};

/// `PskIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PskIdentity {
    /// `identity<1..2^16-1>`: a ticket or an external PSK identity.
    pub identity: Vec<u8>,
    /// `obfuscated_ticket_age` (0 for external PSKs).
    pub obfuscated_ticket_age: u32,
}

impl Codec for PskIdentity {
    fn encode(&self, out: &mut Vec<u8>) {
        put_opaque_u16(&self.identity, out);
        self.obfuscated_ticket_age.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let identity = read_nonempty_opaque_u16(r, "identity")?;
        let obfuscated_ticket_age = r.u32().context("obfuscated_ticket_age")?;
        Ok(Self {
            identity,
            obfuscated_ticket_age,
        })
    }
}

/// `OfferedPsks`: the client's `pre_shared_key` body. Identities and
/// binders are non-empty and equal in number; each binder is 32 to 255
/// bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedPsks {
    /// `identities`.
    pub identities: Vec<PskIdentity>,
    /// `binders`, one per identity, in the same order.
    pub binders: Vec<Vec<u8>>,
}

impl OfferedPsks {
    /// The shortest binder: `PskBinderEntry<32..255>`.
    pub const MIN_BINDER_LEN: usize = 32;

    /// Length of the encoded `binders` vector, prefix included: the bytes at
    /// the end of the ClientHello that the binder hash leaves out.
    pub fn binders_len(&self) -> usize {
        2 + self.binders.iter().map(|b| 1 + b.len()).sum::<usize>()
    }

    /// Encodes only the `binders` vector (to patch real binders in place of
    /// placeholders once the hash over the rest is known).
    pub fn encode_binders(&self, out: &mut Vec<u8>) {
        let mut body = LengthPrefixed::new(out, LengthPrefix::U16);
        for binder in &self.binders {
            put_opaque_u8(binder, &mut body);
        }
    }
}

impl Codec for OfferedPsks {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut ids = LengthPrefixed::new(out, LengthPrefix::U16);
        for id in &self.identities {
            id.encode(&mut ids);
        }
        ids.finish();
        self.encode_binders(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let identities: Vec<PskIdentity> =
            crate::msgs::codec::read_nonempty_vec_u16(r, "identities")?;
        let mut sub = r.sub(LengthPrefix::U16).context("binders")?;
        let mut binders = Vec::new();
        while sub.any_left() {
            let binder = read_opaque_u8(&mut sub).context("PskBinderEntry")?;
            if binder.len() < Self::MIN_BINDER_LEN {
                return Err(DecodeError::InvalidLength("PskBinderEntry"));
            }
            binders.push(binder);
        }
        if binders.is_empty() {
            return Err(DecodeError::EmptyList("binders"));
        }
        if binders.len() != identities.len() {
            return Err(DecodeError::IllegalValue(
                "binders: count differs from identities",
            ));
        }
        Ok(Self {
            identities,
            binders,
        })
    }
}

/// The server's `pre_shared_key` body: `selected_identity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectedPsk(pub u16);

impl Codec for SelectedPsk {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u16().context("selected_identity").map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offered() -> OfferedPsks {
        OfferedPsks {
            identities: vec![
                PskIdentity {
                    identity: vec![1; 40],
                    obfuscated_ticket_age: 0x01020304,
                },
                PskIdentity {
                    identity: b"ext".to_vec(),
                    obfuscated_ticket_age: 0,
                },
            ],
            binders: vec![vec![7; 32], vec![8; 48]],
        }
    }

    #[test]
    fn round_trip() {
        let psks = offered();
        let enc = psks.get_encoding();
        assert_eq!(OfferedPsks::read_bytes(&enc), Ok(psks.clone()));
        let mut binders = Vec::new();
        psks.encode_binders(&mut binders);
        assert_eq!(binders.len(), psks.binders_len());
        assert!(enc.ends_with(&binders));
        assert_eq!(SelectedPsk::read_bytes(&[0, 1]), Ok(SelectedPsk(1)));
    }

    #[test]
    fn rejects() {
        let mut short = offered();
        short.binders[1] = vec![0; 31];
        assert_eq!(
            OfferedPsks::read_bytes(&short.get_encoding()),
            Err(DecodeError::InvalidLength("PskBinderEntry"))
        );
        let mut fewer = offered();
        fewer.binders.pop();
        assert!(matches!(
            OfferedPsks::read_bytes(&fewer.get_encoding()),
            Err(DecodeError::IllegalValue(_))
        ));
        let mut none = offered();
        none.binders.clear();
        assert_eq!(
            OfferedPsks::read_bytes(&none.get_encoding()),
            Err(DecodeError::EmptyList("binders"))
        );
        let mut no_ids = offered();
        no_ids.identities.clear();
        assert_eq!(
            OfferedPsks::read_bytes(&no_ids.get_encoding()),
            Err(DecodeError::EmptyList("identities"))
        );
    }
}
