//! The key-store API test suite. Every [`KeyStore`](crate::KeyStore)
//! implementation runs it from its own tests:
//!
//! ```ignore
//! let store = MyStore::new();
//! let keys = ConformanceKeys { keys: vec![/* imported private keys */] };
//! hsmtls_keys::conformance::run_all(&store, &keys);
//! ```
//!
//! Each function panics with a message naming the store, the check and the
//! algorithm on the first failure. The suite only uses the `KeyStore`
//! trait, so it holds for a software store and a PKCS#11 token alike; it
//! tests what the store's [`Capabilities`] claim.

use core::any::Any;
use core::fmt;

use crate::{
    Capabilities, FinishedLabel, HashAlgorithm, KeyError, KeyExchangeGroup, KeyObject, KeyShare,
    KeyStore, MasterSecretSeed, PrivateKey, PublicKey, RandomLevel, RecordCipher, Secret,
    SecretUsage, SignatureAlgorithm, TicketKey, Tls12TrafficKeys,
};

/// A long-term private key of the store under test, with its public key.
pub struct ConformanceKey {
    /// The private key, made by the store under test.
    pub private: PrivateKey,
    /// Its public key in the [`PublicKey`] form (uncompressed point, DER
    /// `RSAPublicKey`, raw Ed25519).
    pub public_key: Vec<u8>,
    /// The signature algorithms to exercise with it; empty means every
    /// algorithm in the store's `verify` capabilities that fits the key.
    pub algorithms: Vec<SignatureAlgorithm>,
}

/// The private keys the signature tests use.
#[derive(Default)]
pub struct ConformanceKeys {
    /// The keys.
    pub keys: Vec<ConformanceKey>,
}

/// Runs every test of the suite.
pub fn run_all(store: &dyn KeyStore, keys: &ConformanceKeys) {
    random(store);
    hashing(store);
    key_exchange(store);
    invalid_peer_shares(store);
    extended_master_secret(store);
    traffic_keys(store);
    exporter(store);
    signatures(store, keys);
    tickets(store);
    wrong_handles(store);
    debug_shows_no_secret(store, keys);
}

const CLIENT_RANDOM: [u8; 32] = [0x11; 32];
const SERVER_RANDOM: [u8; 32] = [0x22; 32];

fn caps(store: &dyn KeyStore) -> Capabilities {
    store.capabilities()
}

fn default_prf(store: &dyn KeyStore) -> HashAlgorithm {
    caps(store)
        .prf_hashes
        .first()
        .copied()
        .unwrap_or(HashAlgorithm::Sha256)
}

fn default_group(store: &dyn KeyStore) -> KeyExchangeGroup {
    let groups = caps(store).groups;
    assert!(
        !groups.is_empty(),
        "[{}] capabilities list no key-exchange group",
        store.name()
    );
    groups[0]
}

/// Two secrets with equal values, made by ECDH between two fresh shares.
fn shared_premasters(store: &dyn KeyStore, group: KeyExchangeGroup) -> (Secret, Secret) {
    let name = store.name();
    let (a, pub_a) = store
        .start_key_exchange(group)
        .unwrap_or_else(|e| panic!("[{name}] start_key_exchange({group:?}): {e}"));
    let (b, pub_b) = store
        .start_key_exchange(group)
        .unwrap_or_else(|e| panic!("[{name}] start_key_exchange({group:?}): {e}"));
    assert_eq!(
        pub_a.len(),
        group.share_len(),
        "[{name}] {group:?} public share length"
    );
    assert_eq!(a.group(), group, "[{name}] KeyShare::group");
    assert_ne!(pub_a, pub_b, "[{name}] {group:?}: two shares are equal");
    let za = store
        .complete_key_exchange(a, &pub_b)
        .unwrap_or_else(|e| panic!("[{name}] complete_key_exchange({group:?}): {e}"));
    let zb = store
        .complete_key_exchange(b, &pub_a)
        .unwrap_or_else(|e| panic!("[{name}] complete_key_exchange({group:?}): {e}"));
    assert_eq!(za.usage(), SecretUsage::PreMaster, "[{name}] ECDH usage");
    (za, zb)
}

/// Two master secrets with equal values.
fn shared_masters(
    store: &dyn KeyStore,
    group: KeyExchangeGroup,
    prf: HashAlgorithm,
    seed: MasterSecretSeed<'_>,
) -> (Secret, Secret) {
    let name = store.name();
    let (za, zb) = shared_premasters(store, group);
    let ma = store
        .tls12_master_secret(za, prf, seed)
        .unwrap_or_else(|e| panic!("[{name}] tls12_master_secret({prf:?}): {e}"));
    let mb = store
        .tls12_master_secret(zb, prf, seed)
        .unwrap_or_else(|e| panic!("[{name}] tls12_master_secret({prf:?}): {e}"));
    assert_eq!(ma.usage(), SecretUsage::Master, "[{name}] master usage");
    (ma, mb)
}

fn randoms() -> MasterSecretSeed<'static> {
    MasterSecretSeed::Randoms {
        client_random: &CLIENT_RANDOM,
        server_random: &SERVER_RANDOM,
    }
}

fn verify_data(
    store: &dyn KeyStore,
    master: &Secret,
    prf: HashAlgorithm,
    label: FinishedLabel,
) -> [u8; 12] {
    store
        .tls12_verify_data(master, prf, label, &[0x5a; 64][..prf.output_len()])
        .unwrap_or_else(|e| panic!("[{}] tls12_verify_data: {e}", store.name()))
}

/// `random`: every level fills the buffer, twice differently.
pub fn random(store: &dyn KeyStore) {
    let name = store.name();
    for level in [RandomLevel::Nonce, RandomLevel::Random, RandomLevel::Key] {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        store
            .random(level, &mut a)
            .unwrap_or_else(|e| panic!("[{name}] random({level:?}): {e}"));
        store
            .random(level, &mut b)
            .unwrap_or_else(|e| panic!("[{name}] random({level:?}): {e}"));
        assert_ne!(a, [0u8; 32], "[{name}] random({level:?}) left zeros");
        assert_ne!(a, b, "[{name}] random({level:?}) repeated itself");
    }
    let mut empty = [0u8; 0];
    store
        .random(RandomLevel::Nonce, &mut empty)
        .unwrap_or_else(|e| panic!("[{name}] random of 0 bytes: {e}"));
}

/// `hasher`: SHA-2 of "abc" (FIPS 180-4 examples), fed in pieces; `current`
/// does not end the hash; `fork` is independent.
pub fn hashing(store: &dyn KeyStore) {
    let name = store.name();
    let cases = [
        (
            HashAlgorithm::Sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            HashAlgorithm::Sha384,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
        ),
        (
            HashAlgorithm::Sha512,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
        ),
    ];
    for (alg, abc, empty) in cases {
        let mut h = store
            .hasher(alg)
            .unwrap_or_else(|e| panic!("[{name}] hasher({alg:?}): {e}"));
        assert_eq!(h.algorithm(), alg, "[{name}] Hasher::algorithm");
        assert_eq!(hex(h.current().as_ref()), empty, "[{name}] {alg:?} of \"\"");
        h.update(b"a");
        let fork = h.fork();
        h.update(b"b");
        h.update(b"");
        h.update(b"c");
        assert_eq!(
            hex(h.current().as_ref()),
            abc,
            "[{name}] {alg:?} of \"abc\""
        );
        assert_eq!(
            hex(h.current().as_ref()),
            abc,
            "[{name}] {alg:?}: current() changed the state"
        );
        let mut fork = fork;
        fork.update(b"bc");
        assert_eq!(hex(fork.current().as_ref()), abc, "[{name}] {alg:?} fork");
        h.update(b"d");
        assert_ne!(
            hex(h.current().as_ref()),
            abc,
            "[{name}] {alg:?} after more data"
        );
    }
}

/// Key exchange on every group of the capabilities: both sides agree, and
/// master secrets derived from both give equal Finished `verify_data`, for
/// every PRF hash.
pub fn key_exchange(store: &dyn KeyStore) {
    let name = store.name();
    let c = caps(store);
    for &group in &c.groups {
        for &prf in &c.prf_hashes {
            let (ma, mb) = shared_masters(store, group, prf, randoms());
            for label in [FinishedLabel::Client, FinishedLabel::Server] {
                assert_eq!(
                    verify_data(store, &ma, prf, label),
                    verify_data(store, &mb, prf, label),
                    "[{name}] {group:?}/{prf:?}: the two sides' verify_data differ"
                );
            }
            assert_ne!(
                verify_data(store, &ma, prf, FinishedLabel::Client),
                verify_data(store, &ma, prf, FinishedLabel::Server),
                "[{name}] client and server verify_data are equal"
            );
            // A different handshake hash gives different verify_data.
            let other = store
                .tls12_verify_data(
                    &ma,
                    prf,
                    FinishedLabel::Client,
                    &[0xa5; 64][..prf.output_len()],
                )
                .unwrap_or_else(|e| panic!("[{name}] tls12_verify_data: {e}"));
            assert_ne!(
                other,
                verify_data(store, &ma, prf, FinishedLabel::Client),
                "[{name}] verify_data ignores the handshake hash"
            );
        }
    }
}

/// Malformed, wrong-length and off-curve peer shares are
/// [`KeyError::InvalidPeerKey`], for every group.
pub fn invalid_peer_shares(store: &dyn KeyStore) {
    let name = store.name();
    for group in caps(store).groups {
        let (_, good) = store
            .start_key_exchange(group)
            .unwrap_or_else(|e| panic!("[{name}] start_key_exchange({group:?}): {e}"));
        let mut bad: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("one byte short", good[..good.len() - 1].to_vec()),
            ("one byte long", [good.as_slice(), &[0]].concat()),
        ];
        if group == KeyExchangeGroup::X25519 {
            // RFC 7748 §6.1: an all-zero output must be rejected; the zero
            // point gives it.
            bad.push(("zero point", vec![0u8; 32]));
        } else {
            let mut off = good.clone();
            let last = off.len() - 1;
            off[last] ^= 0x01;
            bad.push(("off-curve (y changed)", off));
            let mut compressed = good.clone();
            compressed[0] = 0x02;
            bad.push(("not uncompressed", compressed));
            bad.push(("all zero", vec![0u8; good.len()]));
            let mut infinity = vec![0u8; good.len()];
            infinity[0] = 0x04;
            bad.push(("(0, 0)", infinity));
        }
        for (what, share) in bad {
            let (mine, _) = store
                .start_key_exchange(group)
                .unwrap_or_else(|e| panic!("[{name}] start_key_exchange({group:?}): {e}"));
            match store.complete_key_exchange(mine, &share) {
                Err(KeyError::InvalidPeerKey) => {}
                other => panic!(
                    "[{name}] {group:?}: {what} peer share gave {:?}, want InvalidPeerKey",
                    other.map(|_| "a secret")
                ),
            }
        }
    }
}

/// RFC 7627: a master secret from the session hash differs from one from
/// the randoms; two from the same session hash are equal.
pub fn extended_master_secret(store: &dyn KeyStore) {
    let name = store.name();
    let c = caps(store);
    if !c.extended_master_secret {
        return;
    }
    let group = default_group(store);
    for &prf in &c.prf_hashes {
        let session_hash = vec![0x3c; prf.output_len()];
        let (za, zb) = shared_premasters(store, group);
        let classic = store
            .tls12_master_secret(za, prf, randoms())
            .unwrap_or_else(|e| panic!("[{name}] tls12_master_secret: {e}"));
        let ems = store
            .tls12_master_secret(zb, prf, MasterSecretSeed::SessionHash(&session_hash))
            .unwrap_or_else(|e| panic!("[{name}] tls12_master_secret (EMS): {e}"));
        assert_ne!(
            verify_data(store, &classic, prf, FinishedLabel::Client),
            verify_data(store, &ems, prf, FinishedLabel::Client),
            "[{name}] {prf:?}: EMS and non-EMS masters are equal"
        );
        let (ea, eb) = shared_masters(
            store,
            group,
            prf,
            MasterSecretSeed::SessionHash(&session_hash),
        );
        assert_eq!(
            verify_data(store, &ea, prf, FinishedLabel::Server),
            verify_data(store, &eb, prf, FinishedLabel::Server),
            "[{name}] {prf:?}: EMS masters of both sides differ"
        );
    }
}

fn record_ciphers(c: &Capabilities) -> Vec<RecordCipher> {
    let mut out = Vec::new();
    for &rc in &c.record_ciphers {
        match rc {
            RecordCipher::Aes128CbcSha256 { .. } => {
                for etm in [false, true] {
                    out.push(RecordCipher::Aes128CbcSha256 {
                        encrypt_then_mac: etm,
                    });
                }
            }
            RecordCipher::Aes256CbcSha384 { .. } => {
                for etm in [false, true] {
                    out.push(RecordCipher::Aes256CbcSha384 {
                        encrypt_then_mac: etm,
                    });
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn prf_for(cipher: RecordCipher) -> HashAlgorithm {
    match cipher {
        RecordCipher::Aes256Gcm | RecordCipher::Aes256CbcSha384 { .. } => HashAlgorithm::Sha384,
        _ => HashAlgorithm::Sha256,
    }
}

fn traffic(store: &dyn KeyStore, master: &Secret, cipher: RecordCipher) -> Tls12TrafficKeys {
    store
        .tls12_traffic_keys(
            master,
            prf_for(cipher),
            &CLIENT_RANDOM,
            &SERVER_RANDOM,
            cipher,
        )
        .unwrap_or_else(|e| panic!("[{}] tls12_traffic_keys({cipher:?}): {e}", store.name()))
}

fn expect_bad_mac(
    name: &str,
    cipher: RecordCipher,
    what: &str,
    result: Result<core::ops::Range<usize>, KeyError>,
) {
    match result {
        Err(KeyError::BadRecordMac) => {}
        other => panic!("[{name}] {cipher:?}: {what} gave {other:?}, want BadRecordMac"),
    }
}

/// Record protection for every record cipher in the capabilities (CBC both
/// MAC-then-encrypt and encrypt-then-MAC): what one side's key block seals
/// the other side's opens; tampering, a wrong sequence number, content
/// type or version, the other direction's key, and truncation all give
/// [`KeyError::BadRecordMac`].
pub fn traffic_keys(store: &dyn KeyStore) {
    let name = store.name();
    let c = caps(store);
    let group = default_group(store);
    for cipher in record_ciphers(&c) {
        let prf = prf_for(cipher);
        if !c.prf_hashes.contains(&prf) {
            continue;
        }
        let (ma, mb) = shared_masters(store, group, prf, randoms());
        let mut client = traffic(store, &ma, cipher);
        let mut server = traffic(store, &mb, cipher);
        for (dir, writer, reader) in [
            (
                "client_write",
                &mut client.client_write,
                &mut server.client_write,
            ),
            (
                "server_write",
                &mut server.server_write,
                &mut client.server_write,
            ),
        ] {
            for (seq, len) in [
                (0u64, 0usize),
                (1, 1),
                (2, 15),
                (3, 16),
                (4, 100),
                (5, 16384),
            ] {
                let plaintext: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
                let mut out = b"prefix".to_vec();
                writer
                    .seal(seq, 23, 0x0303, &plaintext, &mut out)
                    .unwrap_or_else(|e| panic!("[{name}] {cipher:?} {dir} seal: {e}"));
                assert_eq!(
                    &out[..6],
                    b"prefix",
                    "[{name}] {cipher:?}: seal overwrote `out`"
                );
                let fragment = out[6..].to_vec();
                assert!(
                    fragment.len() <= len + writer.max_overhead(),
                    "[{name}] {cipher:?}: {} bytes of overhead, max_overhead says {}",
                    fragment.len() - len,
                    writer.max_overhead()
                );
                if len >= 16 {
                    assert!(
                        !fragment.windows(16).any(|w| w == &plaintext[..16]),
                        "[{name}] {cipher:?}: plaintext visible in the record"
                    );
                }
                let mut f = fragment.clone();
                let range = reader.open(seq, 23, 0x0303, &mut f).unwrap_or_else(|e| {
                    panic!("[{name}] {cipher:?} {dir} open (seq {seq}, len {len}): {e}")
                });
                assert_eq!(
                    &f[range],
                    &plaintext[..],
                    "[{name}] {cipher:?} {dir}: wrong plaintext"
                );

                if len > 100 {
                    continue; // the tamper tests below run on the short records
                }
                expect_bad_mac(
                    name,
                    cipher,
                    "wrong seq",
                    reader.open(seq + 1, 23, 0x0303, &mut fragment.clone()),
                );
                expect_bad_mac(
                    name,
                    cipher,
                    "wrong type",
                    reader.open(seq, 22, 0x0303, &mut fragment.clone()),
                );
                expect_bad_mac(
                    name,
                    cipher,
                    "wrong version",
                    reader.open(seq, 23, 0x0302, &mut fragment.clone()),
                );
                for i in 0..fragment.len() {
                    let mut f = fragment.clone();
                    f[i] ^= 0x01;
                    expect_bad_mac(
                        name,
                        cipher,
                        &format!("flipped byte {i}"),
                        reader.open(seq, 23, 0x0303, &mut f),
                    );
                }
                for cut in 0..fragment.len() {
                    let mut f = fragment[..cut].to_vec();
                    expect_bad_mac(
                        name,
                        cipher,
                        &format!("truncated to {cut}"),
                        reader.open(seq, 23, 0x0303, &mut f),
                    );
                }
            }
            // Garbage of every small length.
            for l in 0..120 {
                let mut junk = vec![0x5au8; l];
                expect_bad_mac(
                    name,
                    cipher,
                    &format!("{l} bytes of garbage"),
                    reader.open(9, 23, 0x0303, &mut junk),
                );
            }
        }
        // The other direction's key does not open a record.
        let mut out = Vec::new();
        client
            .client_write
            .seal(0, 23, 0x0303, b"direction", &mut out)
            .unwrap_or_else(|e| panic!("[{name}] {cipher:?} seal: {e}"));
        expect_bad_mac(
            name,
            cipher,
            "opening with the other direction's key",
            server.server_write.open(0, 23, 0x0303, &mut out),
        );
    }
}

/// RFC 5705 exporter: deterministic, and sensitive to label, context and
/// master secret.
pub fn exporter(store: &dyn KeyStore) {
    let name = store.name();
    let group = default_group(store);
    let prf = default_prf(store);
    let (ma, mb) = shared_masters(store, group, prf, randoms());
    let export = |m: &Secret, label: &[u8], seed: &[u8], len: usize| {
        let mut out = vec![0u8; len];
        store
            .tls12_export(m, prf, label, seed, &mut out)
            .unwrap_or_else(|e| panic!("[{name}] tls12_export: {e}"));
        out
    };
    let base = export(&ma, b"EXPORTER-test", b"context", 100);
    assert_eq!(
        base,
        export(&mb, b"EXPORTER-test", b"context", 100),
        "[{name}] exporter not deterministic"
    );
    assert_eq!(
        &base[..20],
        &export(&ma, b"EXPORTER-test", b"context", 20)[..],
        "[{name}] exporter prefix"
    );
    assert_ne!(
        base,
        export(&ma, b"EXPORTER-other", b"context", 100),
        "[{name}] exporter ignores the label"
    );
    assert_ne!(
        base,
        export(&ma, b"EXPORTER-test", b"context2", 100),
        "[{name}] exporter ignores the context"
    );
    let (mc, _) = shared_masters(store, group, prf, randoms());
    assert_ne!(
        base,
        export(&mc, b"EXPORTER-test", b"context", 100),
        "[{name}] exporter ignores the master secret"
    );
}

fn algorithms_for(store: &dyn KeyStore, key: &ConformanceKey) -> Vec<SignatureAlgorithm> {
    if !key.algorithms.is_empty() {
        return key.algorithms.clone();
    }
    caps(store)
        .verify
        .into_iter()
        .filter(|a| a.fits_key(key.private.algorithm()))
        .collect()
}

/// Sign with every provided key and algorithm, verify; a changed message,
/// a changed signature and another algorithm give
/// [`KeyError::BadSignature`].
pub fn signatures(store: &dyn KeyStore, keys: &ConformanceKeys) {
    let name = store.name();
    let message = b"TLS 1.2 CertificateVerify transcript, more or less";
    for key in &keys.keys {
        let kind = key.private.algorithm();
        let public = PublicKey {
            algorithm: kind,
            key: &key.public_key,
        };
        let algorithms = algorithms_for(store, key);
        assert!(
            !algorithms.is_empty(),
            "[{name}] no signature algorithm for {kind:?}"
        );
        for &alg in &algorithms {
            let sig = store
                .sign(&key.private, alg, message)
                .unwrap_or_else(|e| panic!("[{name}] sign({kind:?}, {alg:?}): {e}"));
            store
                .verify(&public, alg, message, &sig)
                .unwrap_or_else(|e| {
                    panic!("[{name}] verify({kind:?}, {alg:?}) of own signature: {e}")
                });
            let bad = |what: &str, r: Result<(), KeyError>| match r {
                Err(KeyError::BadSignature) => {}
                other => {
                    panic!("[{name}] {kind:?} {alg:?}: {what} gave {other:?}, want BadSignature")
                }
            };
            bad(
                "wrong message",
                store.verify(&public, alg, b"another message", &sig),
            );
            let mut tampered = sig.clone();
            let mid = tampered.len() / 2;
            tampered[mid] ^= 0x10;
            bad(
                "tampered signature",
                store.verify(&public, alg, message, &tampered),
            );
            bad(
                "truncated signature",
                store.verify(&public, alg, message, &sig[..sig.len() - 1]),
            );
            bad("empty signature", store.verify(&public, alg, message, &[]));
            for &other in &algorithms {
                if other != alg && other != SignatureAlgorithm::Ed25519 {
                    bad(
                        &format!("verified as {other:?}"),
                        store.verify(&public, other, message, &sig),
                    );
                }
            }
        }
        // An algorithm that does not fit the key is refused, not a panic.
        let misfit = if kind == crate::PublicKeyAlgorithm::Ed25519 {
            SignatureAlgorithm::EcdsaSha256
        } else {
            SignatureAlgorithm::Ed25519
        };
        assert!(
            store.sign(&key.private, misfit, message).is_err(),
            "[{name}] signed {kind:?} with {misfit:?}"
        );
    }
}

/// Tickets: seal and open round trip (the recovered secret works like the
/// original), tampering, truncation and another key give
/// [`KeyError::BadTicket`].
pub fn tickets(store: &dyn KeyStore) {
    let name = store.name();
    let prf = default_prf(store);
    let (master, _) = shared_masters(store, default_group(store), prf, randoms());
    let key = store
        .new_ticket_key()
        .unwrap_or_else(|e| panic!("[{name}] new_ticket_key: {e}"));
    let other_key = store
        .new_ticket_key()
        .unwrap_or_else(|e| panic!("[{name}] new_ticket_key: {e}"));
    let state = b"cipher suite, client identity, timestamps";
    let ticket = store
        .ticket_seal(&key, &master, state)
        .unwrap_or_else(|e| panic!("[{name}] ticket_seal: {e}"));
    let again = store
        .ticket_seal(&key, &master, state)
        .unwrap_or_else(|e| panic!("[{name}] ticket_seal: {e}"));
    assert_ne!(
        ticket, again,
        "[{name}] two tickets of the same state are equal"
    );
    assert!(
        !ticket.windows(state.len()).any(|w| w == state),
        "[{name}] ticket state in the clear"
    );
    let (secret, opened_state) = store
        .ticket_open(&key, &ticket)
        .unwrap_or_else(|e| panic!("[{name}] ticket_open: {e}"));
    assert_eq!(&opened_state[..], &state[..], "[{name}] ticket state");
    assert_eq!(
        secret.usage(),
        master.usage(),
        "[{name}] ticket secret usage"
    );
    assert_eq!(
        verify_data(store, &secret, prf, FinishedLabel::Client),
        verify_data(store, &master, prf, FinishedLabel::Client),
        "[{name}] the secret from the ticket differs from the sealed one"
    );
    let (_, empty_state) = store
        .ticket_open(
            &key,
            &store
                .ticket_seal(&key, &master, b"")
                .unwrap_or_else(|e| panic!("[{name}] ticket_seal: {e}")),
        )
        .unwrap_or_else(|e| panic!("[{name}] ticket_open of empty state: {e}"));
    assert!(empty_state.is_empty(), "[{name}] empty ticket state");

    let bad = |what: &str, r: Result<(Secret, Vec<u8>), KeyError>| match r {
        Err(KeyError::BadTicket) => {}
        other => panic!(
            "[{name}] ticket {what} gave {:?}, want BadTicket",
            other.map(|(s, _)| s)
        ),
    };
    bad(
        "opened with another key",
        store.ticket_open(&other_key, &ticket),
    );
    for i in 0..ticket.len() {
        let mut t = ticket.clone();
        t[i] ^= 0x01;
        bad(
            &format!("with byte {i} flipped"),
            store.ticket_open(&key, &t),
        );
    }
    for cut in 0..ticket.len() {
        bad(
            &format!("truncated to {cut}"),
            store.ticket_open(&key, &ticket[..cut]),
        );
    }
    let mut longer = ticket.clone();
    longer.push(0);
    bad("with a byte appended", store.ticket_open(&key, &longer));
}

/// An object of no real store, to hand out as a foreign handle.
struct Foreign;

impl fmt::Debug for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("foreign")
    }
}

impl KeyObject for Foreign {
    fn id(&self) -> u64 {
        0
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

fn expect_wrong_handle<T>(name: &str, what: &str, r: Result<T, KeyError>) {
    match r {
        Err(KeyError::WrongHandle(_)) => {}
        Err(other) => panic!("[{name}] {what} gave {other:?}, want WrongHandle"),
        Ok(_) => panic!("[{name}] {what} succeeded, want WrongHandle"),
    }
}

/// Handles of other stores and secrets of the wrong usage are
/// [`KeyError::WrongHandle`], never a panic.
pub fn wrong_handles(store: &dyn KeyStore) {
    let name = store.name();
    let prf = default_prf(store);
    let group = default_group(store);
    let foreign_secret = || Secret::new(Box::new(Foreign), SecretUsage::Master);
    let foreign_pms = Secret::new(Box::new(Foreign), SecretUsage::PreMaster);

    expect_wrong_handle(
        name,
        "foreign pre-master",
        store.tls12_master_secret(foreign_pms, prf, randoms()),
    );
    expect_wrong_handle(
        name,
        "foreign master (verify_data)",
        store.tls12_verify_data(&foreign_secret(), prf, FinishedLabel::Client, &[0; 32]),
    );
    expect_wrong_handle(
        name,
        "foreign master (traffic keys)",
        store.tls12_traffic_keys(
            &foreign_secret(),
            prf,
            &CLIENT_RANDOM,
            &SERVER_RANDOM,
            RecordCipher::Aes128Gcm,
        ),
    );
    expect_wrong_handle(
        name,
        "foreign master (export)",
        store.tls12_export(&foreign_secret(), prf, b"l", b"s", &mut [0; 8]),
    );
    let (_, public) = store
        .start_key_exchange(group)
        .unwrap_or_else(|e| panic!("[{name}] start_key_exchange: {e}"));
    expect_wrong_handle(
        name,
        "foreign key share",
        store.complete_key_exchange(KeyShare::new(Box::new(Foreign), group), &public),
    );
    expect_wrong_handle(
        name,
        "foreign private key",
        store.sign(
            &PrivateKey::new(Box::new(Foreign), crate::PublicKeyAlgorithm::Ed25519),
            SignatureAlgorithm::Ed25519,
            b"m",
        ),
    );
    let foreign_ticket_key = TicketKey::new(Box::new(Foreign), 0);
    let (master, _) = shared_masters(store, group, prf, randoms());
    expect_wrong_handle(
        name,
        "foreign ticket key (seal)",
        store.ticket_seal(&foreign_ticket_key, &master, b"s"),
    );
    expect_wrong_handle(
        name,
        "foreign ticket key (open)",
        store.ticket_open(&foreign_ticket_key, &[0; 64]),
    );
    match store.new_ticket_key() {
        Ok(real_ticket_key) => expect_wrong_handle(
            name,
            "foreign secret in a ticket",
            store.ticket_seal(&real_ticket_key, &foreign_secret(), b"s"),
        ),
        // A store without tickets (a strict PKCS#11 token) says so.
        Err(KeyError::Unsupported(why)) => {
            eprintln!("[{name}] SKIP foreign secret in a ticket: {why}")
        }
        Err(e) => panic!("[{name}] new_ticket_key: {e}"),
    }

    // Usage: a master secret is no pre-master, a pre-master no master.
    expect_wrong_handle(
        name,
        "master secret as pre-master",
        store.tls12_master_secret(master, prf, randoms()),
    );
    let (pms, _) = shared_premasters(store, group);
    expect_wrong_handle(
        name,
        "pre-master as master (verify_data)",
        store.tls12_verify_data(&pms, prf, FinishedLabel::Client, &[0; 32]),
    );
    expect_wrong_handle(
        name,
        "pre-master as master (export)",
        store.tls12_export(&pms, prf, b"l", b"s", &mut [0; 8]),
    );
}

/// Whether `s` looks like it could hold key material: a run of 16 or more
/// hex digits, or a list of more than 8 numbers (a `[u8]` Debug).
fn looks_secret(s: &str) -> bool {
    let mut run = 0;
    for c in s.chars() {
        if c.is_ascii_hexdigit() {
            run += 1;
            if run >= 16 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    s.contains('[') && s.matches(", ").count() > 8
}

fn check_debug(name: &str, what: &str, debug: String) {
    assert!(
        debug.len() <= 160,
        "[{name}] Debug of {what} is {} chars long: {debug}",
        debug.len()
    );
    assert!(
        !looks_secret(&debug),
        "[{name}] Debug of {what} may show key material: {debug}"
    );
}

/// The `Debug` of every handle and protector is short and shows nothing
/// that could be key material.
pub fn debug_shows_no_secret(store: &dyn KeyStore, keys: &ConformanceKeys) {
    let name = store.name();
    let prf = default_prf(store);
    for group in caps(store).groups {
        let (share, _) = store
            .start_key_exchange(group)
            .unwrap_or_else(|e| panic!("[{name}] start_key_exchange: {e}"));
        check_debug(name, "a KeyShare", format!("{share:?}"));
        check_debug(name, "a KeyShare (alternate)", format!("{share:#?}"));
    }
    let group = default_group(store);
    let (pms, _) = shared_premasters(store, group);
    check_debug(name, "a pre-master Secret", format!("{pms:?}"));
    let (master, _) = shared_masters(store, group, prf, randoms());
    check_debug(name, "a master Secret", format!("{master:?}"));
    for cipher in record_ciphers(&caps(store)) {
        let keys = traffic(store, &master, cipher);
        check_debug(
            name,
            &format!("{cipher:?} client_write"),
            format!("{:?}", keys.client_write),
        );
        check_debug(
            name,
            &format!("{cipher:?} server_write"),
            format!("{:?}", keys.server_write),
        );
    }
    match store.new_ticket_key() {
        Ok(tk) => check_debug(name, "a TicketKey", format!("{tk:?}")),
        Err(KeyError::Unsupported(why)) => eprintln!("[{name}] SKIP Debug of a TicketKey: {why}"),
        Err(e) => panic!("[{name}] new_ticket_key: {e}"),
    }
    for key in &keys.keys {
        check_debug(name, "a PrivateKey", format!("{:?}", key.private));
    }
    check_debug(name, "the store", format!("{store:?}"));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The TLS 1.3 key schedule (RFC 8446 §7.1), Finished (§4.4.4),
/// exporters (§7.5) and record protection (§5.2) of `store`, checked
/// against `reference`, another store (the software store, whose HKDF
/// carries the RFC 8448 known answers): one (EC)DHE exchange across the
/// two stores gives both the same shared secret; each runs the schedule
/// from it; Finished values and exporter outputs must agree, records
/// sealed by one must open in the other, and a flipped bit must not.
///
/// Uses only the trait, so a token's secrets never leave it: what is
/// compared is public (verify_data, exporter output, ciphertext).
pub fn tls13_against(store: &dyn KeyStore, reference: &dyn KeyStore) {
    let name = store.name();
    let caps = store.capabilities();
    let rcaps = reference.capabilities();
    if caps.tls13_aeads.is_empty() {
        eprintln!("{name}: SKIP TLS 1.3: no TLS 1.3 AEAD in the capabilities");
        return;
    }
    let group = [
        KeyExchangeGroup::Secp256r1,
        KeyExchangeGroup::X25519,
        KeyExchangeGroup::Secp384r1,
    ]
    .into_iter()
    .find(|g| caps.groups.contains(g) && rcaps.groups.contains(g))
    .unwrap_or_else(|| panic!("{name}: no key-exchange group shared with the reference"));
    for &aead in &caps.tls13_aeads {
        if !rcaps.tls13_aeads.contains(&aead) {
            continue;
        }
        let hash = if aead == crate::AeadAlgorithm::Aes256Gcm {
            HashAlgorithm::Sha384
        } else {
            HashAlgorithm::Sha256
        };
        // The store by the schedule's single steps, then by its composed
        // operations (`tls13_next_secret`, `tls13_traffic_secret`, which a
        // store may do in one operation each): both must agree with the
        // reference's single steps.
        for composed in [false, true] {
            let what = format!("{name}: TLS 1.3 {aead:?} on {group:?}, composed {composed}");
            let (a, pa) = store.start_key_exchange(group).expect(&what);
            let (b, pb) = reference.start_key_exchange(group).expect(&what);
            let za = store.complete_key_exchange(a, &pb).expect(&what);
            let zb = reference.complete_key_exchange(b, &pa).expect(&what);
            let run = |s: &dyn KeyStore, z: &Secret, composed: bool| {
                let empty = s.hasher(hash).expect("hasher").current();
                let th1 = vec![0x11u8; hash.output_len()];
                let th2 = vec![0x22u8; hash.output_len()];
                let t = SecretUsage::Tls13;
                let early = s.hkdf_extract(hash, None, None).expect("early secret");
                let next = |base: &Secret, ikm: Option<&Secret>| {
                    if composed {
                        return s.tls13_next_secret(hash, base, ikm).expect("next secret");
                    }
                    let derived = s
                        .hkdf_expand_label(hash, base, b"derived", empty.as_ref(), t)
                        .expect("derived");
                    s.hkdf_extract(hash, Some(&derived), ikm).expect("extract")
                };
                let traffic = |base: &Secret, label: &[u8], context: &[u8]| {
                    if composed {
                        return s
                            .tls13_traffic_secret(hash, base, label, context, aead)
                            .expect("traffic secret");
                    }
                    let secret = s
                        .hkdf_expand_label(hash, base, label, context, t)
                        .expect("traffic secret");
                    let protector = s
                        .tls13_record_protector(hash, &secret, aead)
                        .expect("record protector");
                    (secret, protector)
                };
                let hs = next(&early, Some(z));
                let (chts, _) = traffic(&hs, b"c hs traffic", &th1);
                let master = next(&hs, None);
                let (_cats, protector) = traffic(&master, b"c ap traffic", &th2);
                let exp = s
                    .hkdf_expand_label(hash, &master, b"exp master", &th2, SecretUsage::Generic)
                    .expect("exp master");
                let finished = s.tls13_verify_data(hash, &chts, &th1).expect("Finished");
                let ctx = s.hasher(hash).expect("hasher").current();
                let exp_label = s
                    .hkdf_expand_label(
                        hash,
                        &exp,
                        b"EXPORTER-test",
                        empty.as_ref(),
                        SecretUsage::Generic,
                    )
                    .expect("exporter secret");
                let mut exported = [0u8; 40];
                s.hkdf_expand_label_data(
                    hash,
                    &exp_label,
                    b"exporter",
                    ctx.as_ref(),
                    &mut exported,
                )
                .expect("exporter");
                (finished, exported, protector)
            };
            let (fa, ea, mut pa) = run(store, &za, composed);
            let (fb, eb, mut pb) = run(reference, &zb, false);
            assert_eq!(fa.as_ref(), fb.as_ref(), "{what}: Finished differs");
            assert_eq!(fa.as_ref().len(), hash.output_len(), "{what}");
            assert_eq!(ea, eb, "{what}: exporter output differs");
            for (seq, len) in [
                (0u64, 0usize),
                (1, 1),
                (2, 1000),
                (u64::from(u32::MAX) + 7, 16384),
            ] {
                let inner: Vec<u8> = (0..len).map(|i| i as u8).chain([23u8]).collect();
                for forward in [true, false] {
                    let (seal, open) = if forward {
                        (&mut pa, &mut pb)
                    } else {
                        (&mut pb, &mut pa)
                    };
                    let mut out = Vec::new();
                    seal.seal(seq, 23, 0x0303, &inner, &mut out)
                        .unwrap_or_else(|e| panic!("{what}: seal: {e:?}"));
                    assert!(out.len() <= inner.len() + seal.max_overhead(), "{what}");
                    let mut frag = out.clone();
                    let r = open
                        .open(seq, 23, 0x0303, &mut frag)
                        .unwrap_or_else(|e| panic!("{what}: open seq {seq}: {e:?}"));
                    assert_eq!(&frag[r], &inner[..], "{what}: record round trip");
                    let mut bad = out.clone();
                    bad[0] ^= 1;
                    assert_eq!(
                        open.open(seq, 23, 0x0303, &mut bad).unwrap_err(),
                        KeyError::BadRecordMac,
                        "{what}: tampered record"
                    );
                    let mut wrong_seq = out.clone();
                    assert!(open.open(seq + 1, 23, 0x0303, &mut wrong_seq).is_err());
                }
            }
            eprintln!("ok: {what}");
        }
    }
}
