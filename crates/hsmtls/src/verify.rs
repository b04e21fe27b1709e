//! Certificate path validation (RFC 5280 through rustls-webpki) with every
//! signature checked by the key store, so that chains on curves the
//! validator itself does not know (brainpool, RFC 5639) verify too.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hsmtls_keys::{KeyExchangeGroup, KeyStore, PublicKey, PublicKeyAlgorithm, SignatureAlgorithm};
use pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, InvalidSignature, ServerName,
    SignatureVerificationAlgorithm, UnixTime,
};

use crate::error::Error;
use crate::msgs::enums::AlertDescription;

// AlgorithmIdentifier contents (RFC 5480 §2.1.1, RFC 5639 §4.1): the
// id-ecPublicKey OID followed by the named-curve OID, without the outer
// SEQUENCE, as rustls-pki-types spells the NIST ones.
const EC_BRAINPOOL_P256R1: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, // id-ecPublicKey
    0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07, // brainpoolP256r1
]);
const EC_BRAINPOOL_P384R1: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, // id-ecPublicKey
    0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b, // brainpoolP384r1
]);
const EC_BRAINPOOL_P512R1: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, // id-ecPublicKey
    0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d, // brainpoolP512r1
]);

/// One (public key kind, signature algorithm) pair that webpki may use,
/// carried out by the key store.
#[derive(Debug)]
pub(crate) struct StoreAlgorithm {
    store: Arc<dyn KeyStore>,
    key: PublicKeyAlgorithm,
    signature: SignatureAlgorithm,
    key_id: AlgorithmIdentifier,
    signature_id: AlgorithmIdentifier,
}

impl SignatureVerificationAlgorithm for StoreAlgorithm {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key = PublicKey {
            algorithm: self.key,
            key: public_key,
        };
        self.store
            .verify(&key, self.signature, message, signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.key_id
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature_id
    }
}

fn ec_key_id(group: KeyExchangeGroup) -> Option<AlgorithmIdentifier> {
    Some(match group {
        KeyExchangeGroup::Secp256r1 => alg_id::ECDSA_P256,
        KeyExchangeGroup::Secp384r1 => alg_id::ECDSA_P384,
        KeyExchangeGroup::Secp521r1 => alg_id::ECDSA_P521,
        KeyExchangeGroup::BrainpoolP256r1 => EC_BRAINPOOL_P256R1,
        KeyExchangeGroup::BrainpoolP384r1 => EC_BRAINPOOL_P384R1,
        KeyExchangeGroup::BrainpoolP512r1 => EC_BRAINPOOL_P512R1,
        KeyExchangeGroup::X25519 => return None,
    })
}

fn signature_id(signature: SignatureAlgorithm) -> AlgorithmIdentifier {
    match signature {
        SignatureAlgorithm::EcdsaSha256 => alg_id::ECDSA_SHA256,
        SignatureAlgorithm::EcdsaSha384 => alg_id::ECDSA_SHA384,
        SignatureAlgorithm::EcdsaSha512 => alg_id::ECDSA_SHA512,
        SignatureAlgorithm::RsaPkcs1Sha256 => alg_id::RSA_PKCS1_SHA256,
        SignatureAlgorithm::RsaPkcs1Sha384 => alg_id::RSA_PKCS1_SHA384,
        SignatureAlgorithm::RsaPkcs1Sha512 => alg_id::RSA_PKCS1_SHA512,
        SignatureAlgorithm::RsaPssSha256 => alg_id::RSA_PSS_SHA256,
        SignatureAlgorithm::RsaPssSha384 => alg_id::RSA_PSS_SHA384,
        SignatureAlgorithm::RsaPssSha512 => alg_id::RSA_PSS_SHA512,
        SignatureAlgorithm::Ed25519 => alg_id::ED25519,
    }
}

/// Every algorithm the store can verify, as webpki algorithm objects.
pub(crate) fn store_algorithms(store: &Arc<dyn KeyStore>) -> Vec<StoreAlgorithm> {
    let verifiable = store.capabilities().verify;
    let mut out = Vec::new();
    let mut keys: Vec<PublicKeyAlgorithm> = KeyExchangeGroup::ALL
        .iter()
        .filter(|g| **g != KeyExchangeGroup::X25519)
        .map(|g| PublicKeyAlgorithm::Ec(*g))
        .collect();
    keys.push(PublicKeyAlgorithm::Rsa);
    keys.push(PublicKeyAlgorithm::Ed25519);
    for key in keys {
        for signature in verifiable.iter().copied().filter(|s| s.fits_key(key)) {
            let key_id = match key {
                PublicKeyAlgorithm::Ec(group) => match ec_key_id(group) {
                    Some(id) => id,
                    None => continue,
                },
                PublicKeyAlgorithm::Rsa => alg_id::RSA_ENCRYPTION,
                PublicKeyAlgorithm::Ed25519 => alg_id::ED25519,
            };
            out.push(StoreAlgorithm {
                store: store.clone(),
                key,
                signature,
                key_id,
                signature_id: signature_id(signature),
            });
        }
    }
    out
}

/// Checks certificate chains and handshake signatures against trust anchors.
#[derive(Debug)]
pub(crate) struct Verifier {
    algorithms: Vec<StoreAlgorithm>,
    roots: Arc<Vec<Vec<u8>>>,
}

/// Proof that a peer's certificate chain was validated.
#[derive(Debug)]
pub(crate) struct CertificateVerified(());

/// Proof that a handshake signature was checked.
#[derive(Debug)]
pub(crate) struct SignatureVerified(());

fn now() -> UnixTime {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    UnixTime::since_unix_epoch(since)
}

fn certificate_error(e: webpki::Error) -> Error {
    use webpki::Error as E;
    let alert = match e {
        E::CertExpired { .. } | E::CertNotValidYet { .. } => AlertDescription::CertificateExpired,
        E::UnknownIssuer => AlertDescription::UnknownCa,
        E::CertNotValidForName(_) => AlertDescription::BadCertificate,
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
        | E::UnsupportedCertVersion => AlertDescription::UnsupportedCertificate,
        _ => AlertDescription::BadCertificate,
    };
    Error::BadCertificate {
        alert,
        why: format!("{e:?}"),
    }
}

impl Verifier {
    pub(crate) fn new(store: &Arc<dyn KeyStore>, roots: Arc<Vec<Vec<u8>>>) -> Self {
        Self {
            algorithms: store_algorithms(store),
            roots,
        }
    }

    /// Validates `chain` (leaf first) for `usage`, and the leaf for
    /// `server_name` when given (RFC 6125 through webpki).
    pub(crate) fn verify_chain(
        &self,
        chain: &[Vec<u8>],
        server_name: Option<&str>,
        client_auth: bool,
    ) -> Result<CertificateVerified, Error> {
        let (leaf, intermediates) = chain.split_first().ok_or(Error::BadCertificate {
            alert: AlertDescription::DecodeError,
            why: "empty certificate chain".into(),
        })?;
        let leaf_der = CertificateDer::from(leaf.as_slice());
        let cert = webpki::EndEntityCert::try_from(&leaf_der).map_err(certificate_error)?;
        let root_ders: Vec<CertificateDer<'_>> = self
            .roots
            .iter()
            .map(|r| CertificateDer::from(r.as_slice()))
            .collect();
        let anchors = root_ders
            .iter()
            .filter_map(|r| webpki::anchor_from_trusted_cert(r).ok())
            .collect::<Vec<_>>();
        let intermediates: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|c| CertificateDer::from(c.as_slice()))
            .collect();
        let algorithms: Vec<&dyn SignatureVerificationAlgorithm> = self
            .algorithms
            .iter()
            .map(|a| a as &dyn SignatureVerificationAlgorithm)
            .collect();
        let usage = if client_auth {
            webpki::KeyUsage::client_auth()
        } else {
            webpki::KeyUsage::server_auth()
        };
        cert.verify_for_usage(
            &algorithms,
            &anchors,
            &intermediates,
            now(),
            usage,
            None,
            None,
        )
        .map_err(certificate_error)?;
        if let Some(name) = server_name {
            let name = ServerName::try_from(name).map_err(|_| Error::BadCertificate {
                alert: AlertDescription::BadCertificate,
                why: format!("server name {name:?} is neither a DNS name nor an IP address"),
            })?;
            cert.verify_is_valid_for_subject_name(&name)
                .map_err(certificate_error)?;
        }
        Ok(CertificateVerified(()))
    }

    /// Checks a handshake signature made with the leaf's key
    /// (RFC 5246 §7.4.3, §7.4.8).
    pub(crate) fn verify_signature(
        &self,
        _chain_verified: &CertificateVerified,
        leaf: &[u8],
        signature: SignatureAlgorithm,
        message: &[u8],
        sig: &[u8],
    ) -> Result<SignatureVerified, Error> {
        let leaf_der = CertificateDer::from(leaf);
        let cert = webpki::EndEntityCert::try_from(&leaf_der).map_err(certificate_error)?;
        for algorithm in self.algorithms.iter().filter(|a| a.signature == signature) {
            match cert.verify_signature(algorithm, message, sig) {
                Ok(()) => return Ok(SignatureVerified(())),
                Err(webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_)) => continue,
                Err(_) => return Err(Error::DecryptError("handshake signature")),
            }
        }
        Err(Error::illegal(
            "signature scheme does not fit the certificate's key",
        ))
    }
}

/// One DER TLV: returns (tag, contents, rest).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The SubjectPublicKeyInfo's AlgorithmIdentifier contents of a
/// certificate (RFC 5280 §4.1: Certificate → tbsCertificate → the seventh
/// field when `version` is present).
fn spki_algorithm_id(cert: &[u8]) -> Option<&[u8]> {
    let (_, certificate, _) = der_tlv(cert)?;
    let (_, tbs, _) = der_tlv(certificate)?;
    let mut rest = tbs;
    let (tag, _, after) = der_tlv(rest)?;
    if tag == 0xa0 {
        rest = after; // [0] EXPLICIT version
    }
    // serialNumber, signature, issuer, validity, subject
    for _ in 0..5 {
        rest = der_tlv(rest)?.2;
    }
    let (_, spki, _) = der_tlv(rest)?;
    let (_, algorithm, _) = der_tlv(spki)?;
    Some(algorithm)
}

/// The public-key algorithm of a certificate, from its
/// SubjectPublicKeyInfo (RFC 5480 §2.1.1, RFC 5639 §4.1, RFC 8410 §3).
pub(crate) fn spki_algorithm(cert: &[u8]) -> Option<PublicKeyAlgorithm> {
    let id = spki_algorithm_id(cert)?;
    let known: [(AlgorithmIdentifier, PublicKeyAlgorithm); 8] = [
        (
            alg_id::ECDSA_P256,
            PublicKeyAlgorithm::Ec(KeyExchangeGroup::Secp256r1),
        ),
        (
            alg_id::ECDSA_P384,
            PublicKeyAlgorithm::Ec(KeyExchangeGroup::Secp384r1),
        ),
        (
            alg_id::ECDSA_P521,
            PublicKeyAlgorithm::Ec(KeyExchangeGroup::Secp521r1),
        ),
        (
            EC_BRAINPOOL_P256R1,
            PublicKeyAlgorithm::Ec(KeyExchangeGroup::BrainpoolP256r1),
        ),
        (
            EC_BRAINPOOL_P384R1,
            PublicKeyAlgorithm::Ec(KeyExchangeGroup::BrainpoolP384r1),
        ),
        (
            EC_BRAINPOOL_P512R1,
            PublicKeyAlgorithm::Ec(KeyExchangeGroup::BrainpoolP512r1),
        ),
        (alg_id::RSA_ENCRYPTION, PublicKeyAlgorithm::Rsa),
        (alg_id::ED25519, PublicKeyAlgorithm::Ed25519),
    ];
    known
        .into_iter()
        .find(|(known_id, _)| known_id.as_ref() == id)
        .map(|(_, kind)| kind)
}
