//! Certificate path validation (RFC 5280 through rustls-webpki) with every
//! signature checked by the key store, so that chains on curves the
//! validator itself does not know (brainpool, RFC 5639) verify too.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use hsmtls_keys::{KeyExchangeGroup, KeyStore, PublicKey, PublicKeyAlgorithm, SignatureAlgorithm};
use pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, Der, InvalidSignature, ServerName,
    SignatureVerificationAlgorithm, TrustAnchor, UnixTime,
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

/// How many validated chains a [`Verifier`] remembers by default.
pub(crate) const DEFAULT_VERIFIED_CHAIN_CACHE: usize = 32;

/// A chain that passed path validation, remembered with the time window
/// in which every one of its certificates is valid.
#[derive(Debug)]
struct VerifiedChain {
    /// The DER certificates exactly as the peer sent them, leaf first.
    chain: Vec<Vec<u8>>,
    client_auth: bool,
    /// Latest notBefore and earliest notAfter of the chain, in seconds
    /// since the Unix epoch.
    not_before: u64,
    not_after: u64,
}

/// Chains that validated against this verifier's trust anchors, so that a
/// peer seen again costs no signature checks of its chain.
///
/// Path validation (webpki, no revocation checking) is a pure function of
/// the presented certificates, the trust anchors, the usage and the time,
/// and the time enters only through the validity periods of the
/// certificates on the path. A chain whose bytes, usage and anchors are
/// the same therefore validates again as long as the time lies in the
/// intersection of the validity periods of all presented certificates:
/// that is what is remembered. The host name is still checked on every
/// handshake, and so is the handshake signature.
#[derive(Debug)]
struct VerifiedChainCache {
    capacity: usize,
    entries: Mutex<VecDeque<VerifiedChain>>,
}

impl VerifiedChainCache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(VecDeque::new()),
        }
    }

    fn contains(&self, chain: &[Vec<u8>], client_auth: bool, now: u64) -> bool {
        if self.capacity == 0 {
            return false;
        }
        let Ok(entries) = self.entries.lock() else {
            return false;
        };
        entries.iter().any(|e| {
            e.client_auth == client_auth
                && e.not_before <= now
                && now <= e.not_after
                && e.chain == chain
        })
    }

    fn insert(&self, chain: &[Vec<u8>], client_auth: bool) {
        if self.capacity == 0 {
            return;
        }
        let mut window = (0u64, u64::MAX);
        for cert in chain {
            // A certificate whose validity we cannot read is not cached.
            let Some((not_before, not_after)) = validity(cert) else {
                return;
            };
            window = (window.0.max(not_before), window.1.min(not_after));
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries
            .iter()
            .any(|e| e.client_auth == client_auth && e.chain == chain)
        {
            return;
        }
        if entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back(VerifiedChain {
            chain: chain.to_vec(),
            client_auth,
            not_before: window.0,
            not_after: window.1,
        });
    }
}

/// A trust anchor's parts, owned.
#[derive(Debug)]
struct OwnedAnchor {
    subject: Vec<u8>,
    spki: Vec<u8>,
    name_constraints: Option<Vec<u8>>,
}

/// Checks certificate chains and handshake signatures against trust anchors.
#[derive(Debug)]
pub(crate) struct Verifier {
    algorithms: Vec<StoreAlgorithm>,
    /// The trust anchors, extracted once from the root certificates and
    /// kept as owned bytes (rustls-pki-types' owned anchors need its
    /// `alloc` feature, which pulls zeroize into this crypto-free crate).
    anchors: Vec<OwnedAnchor>,
    cache: VerifiedChainCache,
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
    /// The anchors as webpki takes them, borrowing the owned parts.
    fn trust_anchors(&self) -> Vec<TrustAnchor<'_>> {
        self.anchors
            .iter()
            .map(|a| TrustAnchor {
                subject: Der::from_slice(&a.subject),
                subject_public_key_info: Der::from_slice(&a.spki),
                name_constraints: a.name_constraints.as_deref().map(Der::from_slice),
            })
            .collect()
    }

    /// A verifier for chains ending at one of `roots`, remembering up to
    /// `cache_capacity` validated chains (0: none).
    pub(crate) fn new(
        store: &Arc<dyn KeyStore>,
        roots: Arc<Vec<Vec<u8>>>,
        cache_capacity: usize,
    ) -> Self {
        // A root that is not a certificate webpki can read is skipped, as
        // it was when anchors were extracted per handshake.
        let anchors = roots
            .iter()
            .filter_map(|r| {
                webpki::anchor_from_trusted_cert(&CertificateDer::from(r.as_slice()))
                    .ok()
                    .map(|a| OwnedAnchor {
                        subject: a.subject.as_ref().to_vec(),
                        spki: a.subject_public_key_info.as_ref().to_vec(),
                        name_constraints: a.name_constraints.map(|n| n.as_ref().to_vec()),
                    })
            })
            .collect();
        Self {
            algorithms: store_algorithms(store),
            anchors,
            cache: VerifiedChainCache::new(cache_capacity),
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
        let now = now();
        if !self.cache.contains(chain, client_auth, now.as_secs()) {
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
                &self.trust_anchors(),
                &intermediates,
                now,
                usage,
                None,
                None,
            )
            .map_err(certificate_error)?;
            self.cache.insert(chain, client_auth);
        }
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

/// The validity period of a certificate (RFC 5280 §4.1.2.5) as seconds
/// since the Unix epoch: (notBefore, notAfter). `None` if it cannot be
/// read.
fn validity(cert: &[u8]) -> Option<(u64, u64)> {
    let (_, certificate, _) = der_tlv(cert)?;
    let (_, tbs, _) = der_tlv(certificate)?;
    let mut rest = tbs;
    let (tag, _, after) = der_tlv(rest)?;
    if tag == 0xa0 {
        rest = after; // [0] EXPLICIT version
    }
    // serialNumber, signature, issuer
    for _ in 0..3 {
        rest = der_tlv(rest)?.2;
    }
    let (tag, validity, _) = der_tlv(rest)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, not_before, rest) = der_tlv(validity)?;
    let not_before = der_time(tag, not_before)?;
    let (tag, not_after, rest) = der_tlv(rest)?;
    let not_after = der_time(tag, not_after)?;
    rest.is_empty().then_some((not_before, not_after))
}

/// A UTCTime (tag 0x17, `YYMMDDHHMMSSZ`) or GeneralizedTime (tag 0x18,
/// `YYYYMMDDHHMMSSZ`) as seconds since the Unix epoch, in the forms RFC
/// 5280 §4.1.2.5 allows; `None` for anything else.
fn der_time(tag: u8, value: &[u8]) -> Option<u64> {
    fn number(digits: &[u8]) -> Option<u64> {
        digits.iter().try_fold(0u64, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u64::from(d - b'0'))
        })
    }
    let (year, rest) = match tag {
        0x17 if value.len() == 13 => {
            let yy = number(&value[..2])?;
            // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, else 20YY.
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &value[2..])
        }
        0x18 if value.len() == 15 => (number(&value[..4])?, &value[4..]),
        _ => return None,
    };
    if rest[10] != b'Z' {
        return None;
    }
    let month = number(&rest[0..2])?;
    let day = number(&rest[2..4])?;
    let hour = number(&rest[4..6])?;
    let minute = number(&rest[6..8])?;
    let second = number(&rest[8..10])?;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year < 1970 || day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from 1970-01-01 to the first of `year`, then of `month`.
    let days_to_year = (1970..year)
        .map(|y| {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                366
            } else {
                365
            }
        })
        .sum::<u64>();
    const CUMULATIVE: [u64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let month_index = usize::try_from(month - 1).ok()?;
    let days = days_to_year + CUMULATIVE[month_index] + u64::from(leap && month > 2) + day - 1;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
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

#[cfg(test)]
mod tests {
    use super::*;
    use hsmtls_keys::trace::TracingStore;
    use hsmtls_keys::OperationKind;

    fn p256_chain() -> Vec<Vec<u8>> {
        vec![
            include_bytes!("../../../testdata/pki/ecdsa-p256/server.der").to_vec(),
            include_bytes!("../../../testdata/pki/ecdsa-p256/inter.der").to_vec(),
        ]
    }

    fn p256_root() -> Vec<u8> {
        include_bytes!("../../../testdata/pki/ecdsa-p256/ca.der").to_vec()
    }

    #[test]
    fn der_times() {
        // Checked with `date -u -d ... +%s`.
        assert_eq!(der_time(0x17, b"250101000000Z"), Some(1_735_689_600));
        assert_eq!(der_time(0x18, b"21241231235959Z"), Some(4_891_363_199));
        assert_eq!(der_time(0x18, b"20000229123456Z"), Some(951_827_696));
        assert_eq!(der_time(0x17, b"991231235959Z"), Some(946_684_799));
        assert_eq!(der_time(0x17, b"700101000000Z"), Some(0));
        for bad in [
            &b"250230000000Z"[..], // 30 February
            b"250101000000",       // no Z
            b"2501010000000Z",     // wrong length
            b"250101240000Z",      // hour 24
            b"25010100000aZ",      // not a digit
        ] {
            assert_eq!(der_time(0x17, bad), None, "{bad:?}");
        }
        assert_eq!(der_time(0x17, b"490101000000Z"), Some(2_493_072_000)); // 2049
        assert_eq!(der_time(0x17, b"690101000000Z"), None); // 1969
        assert_eq!(der_time(0x18, b"19000229000000Z"), None); // not a leap year
        assert_eq!(der_time(0x04, b"250101000000Z"), None);
    }

    #[test]
    fn certificate_validity() {
        // openssl x509 -dates: Jan 1 00:00:00 2025 GMT, Dec 31 23:59:59 2124 GMT.
        for cert in p256_chain() {
            assert_eq!(validity(&cert), Some((1_735_689_600, 4_891_363_199)));
        }
        assert_eq!(validity(b"\x30\x03\x02\x01\x00"), None);
    }

    #[test]
    fn cache_skips_chain_signatures_but_not_the_name() {
        let traced = Arc::new(TracingStore::new(
            Arc::new(hsmtls_soft::SoftStore::new()),
            "test",
        ));
        let store: Arc<dyn KeyStore> = traced.clone();
        let verifier = Verifier::new(&store, Arc::new(vec![p256_root()]), 4);
        let chain = p256_chain();
        verifier
            .verify_chain(&chain, Some("localhost"), false)
            .unwrap();
        assert_eq!(traced.count(OperationKind::Verify), 2);
        verifier
            .verify_chain(&chain, Some("localhost"), false)
            .unwrap();
        assert_eq!(traced.count(OperationKind::Verify), 2, "cached");
        assert!(verifier
            .verify_chain(&chain, Some("example.com"), false)
            .is_err());
        // Another usage is validated afresh (and the server chain is not
        // valid for client authentication).
        assert!(verifier.verify_chain(&chain, None, true).is_err());
        // A changed byte is a different chain.
        let mut tampered = chain.clone();
        let last = tampered[1].len() - 1;
        tampered[1][last] ^= 1;
        assert!(verifier
            .verify_chain(&tampered, Some("localhost"), false)
            .is_err());
        // Outside the validity window the entry does not apply.
        assert!(verifier.cache.contains(&chain, false, 1_735_689_600));
        assert!(!verifier.cache.contains(&chain, false, 1_735_689_599));
        assert!(!verifier.cache.contains(&chain, false, 4_891_363_200));
    }

    #[test]
    fn cache_disabled_and_bounded() {
        let traced = Arc::new(TracingStore::new(
            Arc::new(hsmtls_soft::SoftStore::new()),
            "test",
        ));
        let store: Arc<dyn KeyStore> = traced.clone();
        let verifier = Verifier::new(&store, Arc::new(vec![p256_root()]), 0);
        let chain = p256_chain();
        for _ in 0..2 {
            verifier
                .verify_chain(&chain, Some("localhost"), false)
                .unwrap();
        }
        assert_eq!(traced.count(OperationKind::Verify), 4);

        let cache = VerifiedChainCache::new(2);
        for i in 0..3u8 {
            let mut c = chain.clone();
            c.push(vec![i]);
            // Unreadable validity: not cached.
            cache.insert(&c, false);
        }
        assert!(cache.entries.lock().unwrap().is_empty());
        let variants: Vec<Vec<Vec<u8>>> = (0..3)
            .map(|i| {
                let mut c = chain.clone();
                if i > 0 {
                    c.push(chain[1].clone());
                }
                if i > 1 {
                    c.push(chain[1].clone());
                }
                c
            })
            .collect();
        for c in &variants {
            cache.insert(c, false);
        }
        let now = 2_000_000_000;
        assert!(!cache.contains(&variants[0], false, now), "evicted");
        assert!(cache.contains(&variants[1], false, now));
        assert!(cache.contains(&variants[2], false, now));
    }
}
