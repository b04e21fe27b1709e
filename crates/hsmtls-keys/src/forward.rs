//! [`forward_key_store!`](crate::forward_key_store): `KeyStore` methods
//! that hand the call to an inner store, for stores that wrap another and
//! change only a few operations (auditing, known-answer tests, fault
//! injection). One definition of each forwarding body, so a wrapper names
//! what it forwards and writes only what it changes — and a method added
//! to the trait is forwarded by adding one arm here.

/// Implements the named [`KeyStore`](crate::KeyStore) methods of a wrapper
/// by calling the same method on `self.$inner` (anything that derefs to a
/// `KeyStore`). Use it inside the wrapper's `impl KeyStore` block; list
/// the TLS 1.3 methods too, or they keep the trait's `Unsupported`
/// defaults (and the composed ones, `tls13_next_secret` and
/// `tls13_traffic_secret`, their defaults made of the wrapper's own
/// methods, which is what a wrapper that changes those wants).
///
/// ```
/// use std::sync::Arc;
/// use hsmtls_keys::{forward_key_store, KeyError, KeyStore, RandomLevel};
///
/// /// A store whose randomness is all zeros (a fault-injection test).
/// #[derive(Debug)]
/// struct ZeroRandom(Arc<dyn KeyStore>);
///
/// impl KeyStore for ZeroRandom {
///     forward_key_store!(0 => name, capabilities, policy_relaxations, hasher,
///         start_key_exchange, complete_key_exchange, tls12_master_secret,
///         tls12_verify_data, tls12_traffic_keys, tls12_export, sign, verify,
///         new_ticket_key, ticket_seal, ticket_open, hkdf_extract,
///         hkdf_expand_label, hkdf_expand_label_data, tls13_verify_data,
///         tls13_record_protector, tls13_next_secret, tls13_traffic_secret);
///     fn random(&self, _: RandomLevel, out: &mut [u8]) -> Result<(), KeyError> {
///         out.fill(0);
///         Ok(())
///     }
/// }
/// ```
#[macro_export]
macro_rules! forward_key_store {
    ($inner:tt => $($method:ident),+ $(,)?) => {
        $( $crate::forward_key_store!(@one $inner $method); )+
    };
    (@one $inner:tt name) => {
        fn name(&self) -> &str {
            self.$inner.name()
        }
    };
    (@one $inner:tt capabilities) => {
        fn capabilities(&self) -> $crate::Capabilities {
            self.$inner.capabilities()
        }
    };
    (@one $inner:tt policy_relaxations) => {
        fn policy_relaxations(&self) -> ::std::vec::Vec<::std::string::String> {
            self.$inner.policy_relaxations()
        }
    };
    (@one $inner:tt random) => {
        fn random(
            &self,
            level: $crate::RandomLevel,
            out: &mut [u8],
        ) -> ::core::result::Result<(), $crate::KeyError> {
            self.$inner.random(level, out)
        }
    };
    (@one $inner:tt hasher) => {
        fn hasher(
            &self,
            algorithm: $crate::HashAlgorithm,
        ) -> ::core::result::Result<::std::boxed::Box<dyn $crate::Hasher>, $crate::KeyError> {
            self.$inner.hasher(algorithm)
        }
    };
    (@one $inner:tt start_key_exchange) => {
        fn start_key_exchange(
            &self,
            group: $crate::KeyExchangeGroup,
        ) -> ::core::result::Result<($crate::KeyShare, ::std::vec::Vec<u8>), $crate::KeyError> {
            self.$inner.start_key_exchange(group)
        }
    };
    (@one $inner:tt complete_key_exchange) => {
        fn complete_key_exchange(
            &self,
            share: $crate::KeyShare,
            peer_share: &[u8],
        ) -> ::core::result::Result<$crate::Secret, $crate::KeyError> {
            self.$inner.complete_key_exchange(share, peer_share)
        }
    };
    (@one $inner:tt tls12_master_secret) => {
        fn tls12_master_secret(
            &self,
            pre_master: $crate::Secret,
            prf: $crate::HashAlgorithm,
            seed: $crate::MasterSecretSeed<'_>,
        ) -> ::core::result::Result<$crate::Secret, $crate::KeyError> {
            self.$inner.tls12_master_secret(pre_master, prf, seed)
        }
    };
    (@one $inner:tt tls12_verify_data) => {
        fn tls12_verify_data(
            &self,
            master: &$crate::Secret,
            prf: $crate::HashAlgorithm,
            label: $crate::FinishedLabel,
            handshake_hash: &[u8],
        ) -> ::core::result::Result<[u8; 12], $crate::KeyError> {
            self.$inner.tls12_verify_data(master, prf, label, handshake_hash)
        }
    };
    (@one $inner:tt tls12_traffic_keys) => {
        fn tls12_traffic_keys(
            &self,
            master: &$crate::Secret,
            prf: $crate::HashAlgorithm,
            client_random: &[u8; 32],
            server_random: &[u8; 32],
            cipher: $crate::RecordCipher,
        ) -> ::core::result::Result<$crate::Tls12TrafficKeys, $crate::KeyError> {
            self.$inner
                .tls12_traffic_keys(master, prf, client_random, server_random, cipher)
        }
    };
    (@one $inner:tt tls12_export) => {
        fn tls12_export(
            &self,
            master: &$crate::Secret,
            prf: $crate::HashAlgorithm,
            label: &[u8],
            seed: &[u8],
            out: &mut [u8],
        ) -> ::core::result::Result<(), $crate::KeyError> {
            self.$inner.tls12_export(master, prf, label, seed, out)
        }
    };
    (@one $inner:tt sign) => {
        fn sign(
            &self,
            key: &$crate::PrivateKey,
            algorithm: $crate::SignatureAlgorithm,
            message: &[u8],
        ) -> ::core::result::Result<::std::vec::Vec<u8>, $crate::KeyError> {
            self.$inner.sign(key, algorithm, message)
        }
    };
    (@one $inner:tt verify) => {
        fn verify(
            &self,
            key: &$crate::PublicKey<'_>,
            algorithm: $crate::SignatureAlgorithm,
            message: &[u8],
            signature: &[u8],
        ) -> ::core::result::Result<(), $crate::KeyError> {
            self.$inner.verify(key, algorithm, message, signature)
        }
    };
    (@one $inner:tt new_ticket_key) => {
        fn new_ticket_key(&self) -> ::core::result::Result<$crate::TicketKey, $crate::KeyError> {
            self.$inner.new_ticket_key()
        }
    };
    (@one $inner:tt ticket_seal) => {
        fn ticket_seal(
            &self,
            key: &$crate::TicketKey,
            secret: &$crate::Secret,
            state: &[u8],
        ) -> ::core::result::Result<::std::vec::Vec<u8>, $crate::KeyError> {
            self.$inner.ticket_seal(key, secret, state)
        }
    };
    (@one $inner:tt ticket_open) => {
        fn ticket_open(
            &self,
            key: &$crate::TicketKey,
            ticket: &[u8],
        ) -> ::core::result::Result<($crate::Secret, ::std::vec::Vec<u8>), $crate::KeyError> {
            self.$inner.ticket_open(key, ticket)
        }
    };
    (@one $inner:tt hkdf_extract) => {
        fn hkdf_extract(
            &self,
            hash: $crate::HashAlgorithm,
            salt: ::core::option::Option<&$crate::Secret>,
            ikm: ::core::option::Option<&$crate::Secret>,
        ) -> ::core::result::Result<$crate::Secret, $crate::KeyError> {
            self.$inner.hkdf_extract(hash, salt, ikm)
        }
    };
    (@one $inner:tt hkdf_expand_label) => {
        fn hkdf_expand_label(
            &self,
            hash: $crate::HashAlgorithm,
            secret: &$crate::Secret,
            label: &[u8],
            context: &[u8],
            usage: $crate::SecretUsage,
        ) -> ::core::result::Result<$crate::Secret, $crate::KeyError> {
            self.$inner.hkdf_expand_label(hash, secret, label, context, usage)
        }
    };
    (@one $inner:tt hkdf_expand_label_data) => {
        fn hkdf_expand_label_data(
            &self,
            hash: $crate::HashAlgorithm,
            secret: &$crate::Secret,
            label: &[u8],
            context: &[u8],
            out: &mut [u8],
        ) -> ::core::result::Result<(), $crate::KeyError> {
            self.$inner.hkdf_expand_label_data(hash, secret, label, context, out)
        }
    };
    (@one $inner:tt tls13_verify_data) => {
        fn tls13_verify_data(
            &self,
            hash: $crate::HashAlgorithm,
            base_key: &$crate::Secret,
            transcript_hash: &[u8],
        ) -> ::core::result::Result<$crate::Digest, $crate::KeyError> {
            self.$inner.tls13_verify_data(hash, base_key, transcript_hash)
        }
    };
    (@one $inner:tt tls13_next_secret) => {
        fn tls13_next_secret(
            &self,
            hash: $crate::HashAlgorithm,
            secret: &$crate::Secret,
            ikm: ::core::option::Option<&$crate::Secret>,
        ) -> ::core::result::Result<$crate::Secret, $crate::KeyError> {
            self.$inner.tls13_next_secret(hash, secret, ikm)
        }
    };
    (@one $inner:tt tls13_traffic_secret) => {
        fn tls13_traffic_secret(
            &self,
            hash: $crate::HashAlgorithm,
            base: &$crate::Secret,
            label: &[u8],
            context: &[u8],
            aead: $crate::AeadAlgorithm,
        ) -> ::core::result::Result<
            ($crate::Secret, ::std::boxed::Box<dyn $crate::RecordProtector>),
            $crate::KeyError,
        > {
            self.$inner.tls13_traffic_secret(hash, base, label, context, aead)
        }
    };
    (@one $inner:tt tls13_record_protector) => {
        fn tls13_record_protector(
            &self,
            hash: $crate::HashAlgorithm,
            traffic_secret: &$crate::Secret,
            aead: $crate::AeadAlgorithm,
        ) -> ::core::result::Result<
            ::std::boxed::Box<dyn $crate::RecordProtector>,
            $crate::KeyError,
        > {
            self.$inner.tls13_record_protector(hash, traffic_secret, aead)
        }
    };
}
