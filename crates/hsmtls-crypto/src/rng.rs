//! The library's random generator: ChaCha20 with fast key erasure, one
//! instance per level, as GnuTLS's `rnd` has (`GNUTLS_RND_NONCE`,
//! `_RANDOM`, `_KEY`).
//!
//! Each level is a 256-bit ChaCha20 key. A request draws one keystream
//! block per 64 output bytes and first replaces the key with fresh
//! keystream ("fast key erasure"), so the state after a call says nothing
//! about what the call returned. A level reseeds from the operating
//! system (`getrandom`) when it has produced its byte budget, when its
//! age is over, and in a forked child (the process id changed), so two
//! processes never share a stream. Levels differ only in how often they
//! reseed: values that must stay secret longer reseed sooner.
//!
//! | level    | for                                    | reseed after      |
//! |----------|----------------------------------------|-------------------|
//! | `Nonce`  | public, unpredictable values (IVs, ids) | 16 MiB or 1 hour  |
//! | `Random` | hello randoms, PKCS#11 `C_GenerateRandom` | 1 MiB or 10 min |
//! | `Key`    | key material                           | 64 KiB or 1 min   |
//!
//! [`seed`] mixes caller data into every level (PKCS#11 `C_SeedRandom`):
//! the new key is SHA-256 over the old key and the data, so extra seed
//! material can only add entropy, never replace it.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use zeroize::{Zeroize, Zeroizing};

use crate::error::CryptoError;
use crate::ffi::chacha::xor_keystream;

/// How secret the requested bytes are; decides the reseeding schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// Public but unpredictable values: nonces, explicit IVs, session ids.
    Nonce,
    /// Values that must not be guessed: hello randoms, padding, PKCS#11
    /// `C_GenerateRandom`.
    Random,
    /// Key material.
    Key,
}

impl Level {
    const ALL: [Level; 3] = [Level::Nonce, Level::Random, Level::Key];

    fn index(self) -> usize {
        self as usize
    }

    /// (bytes, age) after which this level reseeds.
    fn budget(self) -> (u64, Duration) {
        match self {
            Self::Nonce => (16 << 20, Duration::from_secs(3600)),
            Self::Random => (1 << 20, Duration::from_secs(600)),
            Self::Key => (64 << 10, Duration::from_secs(60)),
        }
    }
}

/// The largest piece one key draws before it is replaced (fewer than 2^32
/// blocks, the ChaCha20 block counter).
const PIECE: usize = 1 << 20;

/// One level's generator.
struct Drbg {
    key: Zeroizing<[u8; 32]>,
    /// Bytes produced since the last reseed.
    produced: u64,
    seeded_at: Instant,
    pid: u32,
    budget: (u64, Duration),
    /// Reseeds so far (for tests and diagnostics).
    reseeds: u64,
}

impl Drbg {
    fn new(level: Level) -> Result<Self, CryptoError> {
        let mut d = Self {
            key: Zeroizing::new([0u8; 32]),
            produced: 0,
            seeded_at: Instant::now(),
            pid: std::process::id(),
            budget: level.budget(),
            reseeds: 0,
        };
        d.reseed()?;
        Ok(d)
    }

    /// A generator that never reseeds from the system, for known-answer
    /// tests of the construction.
    #[cfg(test)]
    fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            key: Zeroizing::new(seed),
            produced: 0,
            seeded_at: Instant::now(),
            pid: std::process::id(),
            budget: (u64::MAX, Duration::MAX),
            reseeds: 0,
        }
    }

    /// Mixes 32 fresh bytes from the operating system into the key.
    fn reseed(&mut self) -> Result<(), CryptoError> {
        let mut fresh = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(&mut fresh[..])
            .map_err(|_| CryptoError::Internal("operating system random source"))?;
        self.mix(b"hsmtls rng reseed", &fresh[..]);
        self.produced = 0;
        self.seeded_at = Instant::now();
        self.pid = std::process::id();
        self.reseeds += 1;
        Ok(())
    }

    /// `key = SHA-256(label || key || data)`.
    fn mix(&mut self, label: &[u8], data: &[u8]) {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(label);
        ctx.update(&self.key[..]);
        ctx.update(data);
        self.key.copy_from_slice(ctx.finish().as_ref());
    }

    fn due(&self, more: usize) -> bool {
        self.pid != std::process::id()
            || self.produced.saturating_add(more as u64) > self.budget.0
            || self.seeded_at.elapsed() > self.budget.1
    }

    /// Fills `out`: for each piece, block 0 of the keystream becomes the
    /// next key and blocks 1.. are the output.
    fn fill(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
        if self.due(out.len()) {
            self.reseed()?;
        }
        const NONCE: [u8; 12] = [0u8; 12];
        for piece in out.chunks_mut(PIECE) {
            let mut next = Zeroizing::new([0u8; 64]);
            xor_keystream(&self.key, &NONCE, 0, &mut next[..]);
            piece.fill(0);
            xor_keystream(&self.key, &NONCE, 1, piece);
            // The key that made this piece is gone before it is returned.
            self.key.copy_from_slice(&next[..32]);
            self.produced = self.produced.saturating_add(piece.len() as u64);
        }
        Ok(())
    }
}

impl Drop for Drbg {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// The process-wide generators, one per level.
struct Levels([Mutex<Drbg>; 3]);

fn levels() -> Result<&'static Levels, CryptoError> {
    static LEVELS: OnceLock<Levels> = OnceLock::new();
    if let Some(l) = LEVELS.get() {
        return Ok(l);
    }
    let [a, b, c] = Level::ALL;
    let made = Levels([
        Mutex::new(Drbg::new(a)?),
        Mutex::new(Drbg::new(b)?),
        Mutex::new(Drbg::new(c)?),
    ]);
    Ok(LEVELS.get_or_init(|| made))
}

fn lock(m: &Mutex<Drbg>) -> std::sync::MutexGuard<'_, Drbg> {
    // A panic while holding the lock cannot leave a half-updated key that
    // repeats output: the key is replaced before output is returned, and
    // the next call uses whatever key is there.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Fills `out` with random bytes of `level`.
pub fn fill(level: Level, out: &mut [u8]) -> Result<(), CryptoError> {
    lock(&levels()?.0[level.index()]).fill(out)
}

/// Mixes `data` into every level (PKCS#11 `C_SeedRandom`). The generators
/// stay seeded from the operating system; this only adds to their state.
pub fn seed(data: &[u8]) -> Result<(), CryptoError> {
    for m in &levels()?.0 {
        lock(m).mix(b"hsmtls rng seed", data);
    }
    Ok(())
}

/// How often `level` has reseeded from the operating system in this
/// process (diagnostics).
pub fn reseeds(level: Level) -> Result<u64, CryptoError> {
    Ok(lock(&levels()?.0[level.index()]).reseeds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex_decode;

    #[test]
    fn chacha20_block_rfc8439_2_3_2() {
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let nonce = [0, 0, 0, 9, 0, 0, 0, 0x4a, 0, 0, 0, 0];
        let mut block = [0u8; 64];
        xor_keystream(&key, &nonce, 1, &mut block);
        let want = hex_decode(concat!(
            "10f1e7e4d13b5915500fdd1fa32071c4",
            "c7d1f4c733c068030422aa9ac3d46c4e",
            "d2826446079faa0914c2d705d98b02a2",
        ))
        .unwrap();
        assert_eq!(&block[..48], &want[..]);
    }

    #[test]
    fn output_is_keystream_after_the_rekey_block() {
        let seed = [7u8; 32];
        let mut d = Drbg::from_seed(seed);
        let mut out = [0u8; 100];
        d.fill(&mut out).unwrap();
        // Blocks 1.. of the seed key's stream ...
        let mut want = [0u8; 164];
        xor_keystream(&seed, &[0; 12], 0, &mut want);
        assert_eq!(&out[..], &want[64..]);
        // ... and block 0 is the next key: the old one is gone.
        assert_eq!(&d.key[..], &want[..32]);
        let mut again = [0u8; 100];
        d.fill(&mut again).unwrap();
        assert_ne!(out, again);
    }

    #[test]
    fn mixing_changes_the_stream_and_is_deterministic() {
        let (mut a, mut b) = (Drbg::from_seed([1; 32]), Drbg::from_seed([1; 32]));
        a.mix(b"hsmtls rng seed", b"extra");
        b.mix(b"hsmtls rng seed", b"extra");
        let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
        a.fill(&mut x).unwrap();
        b.fill(&mut y).unwrap();
        assert_eq!(x, y);
        let mut plain = Drbg::from_seed([1; 32]);
        let mut z = [0u8; 32];
        plain.fill(&mut z).unwrap();
        assert_ne!(x, z);
    }

    #[test]
    fn budgets_fork_and_age_trigger_reseeds() {
        let mut d = Drbg::new(Level::Key).unwrap();
        assert_eq!(d.reseeds, 1);
        let mut big = vec![0u8; 40 << 10];
        d.fill(&mut big).unwrap();
        assert_eq!(d.reseeds, 1);
        // Over the 64 KiB budget: reseeds before drawing.
        d.fill(&mut big).unwrap();
        assert_eq!(d.reseeds, 2);
        // A different process id (as in a forked child) reseeds.
        d.pid = d.pid.wrapping_add(1);
        d.fill(&mut [0u8; 16]).unwrap();
        assert_eq!(d.reseeds, 3);
        // So does age.
        d.seeded_at = Instant::now() - Duration::from_secs(61);
        d.fill(&mut [0u8; 16]).unwrap();
        assert_eq!(d.reseeds, 4);
    }

    #[test]
    fn large_requests_span_pieces() {
        let mut d = Drbg::from_seed([3; 32]);
        let mut out = vec![0u8; PIECE + 100];
        d.fill(&mut out).unwrap();
        // The second piece comes from a new key: not a continuation of
        // the first key's stream.
        let mut first = vec![0u8; PIECE + 164];
        xor_keystream(&[3; 32], &[0; 12], 0, &mut first);
        assert_eq!(&out[..PIECE], &first[64..PIECE + 64]);
        assert_ne!(&out[PIECE..], &first[PIECE + 64..]);
        assert!(out[PIECE..].iter().any(|&b| b != 0));
    }

    #[test]
    fn process_wide_levels() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        fill(Level::Random, &mut a).unwrap();
        fill(Level::Random, &mut b).unwrap();
        assert_ne!(a, b);
        seed(b"caller entropy").unwrap();
        for level in Level::ALL {
            fill(level, &mut a).unwrap();
            assert!(reseeds(level).unwrap() >= 1);
        }
        fill(Level::Key, &mut []).unwrap();
    }
}
