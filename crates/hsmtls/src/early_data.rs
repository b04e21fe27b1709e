//! 0-RTT anti-replay for a TLS 1.3 server (RFC 8446 §8): early data is
//! accepted at most once per ClientHello, by recording each accepted
//! ClientHello's PSK binder for a window (§8.2) and refusing a ClientHello
//! whose ticket age disagrees with the server's view by half that window
//! or more (the freshness check, §8.3) — a ClientHello older than the
//! window cannot pass that check, so the record only needs to span it.
//!
//! The record is one per [`ServerConfig`](crate::ServerConfig): servers
//! that share a ticket key across processes or machines accept the same
//! ClientHello once each (§8: they need a shared record, or 0-RTT off on
//! all but one). A full record refuses 0-RTT (never accepts unchecked);
//! the handshake itself goes on without it either way.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// The default freshness window (§8.3 suggests one of the order of 10
/// seconds, allowing for clock and network delays).
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(10);

/// The default number of ClientHellos the record holds.
pub const DEFAULT_CAPACITY: usize = 65_536;

/// The ClientHellos whose early data was accepted within the window.
#[derive(Debug)]
pub(crate) struct AntiReplay {
    window_ms: u64,
    capacity: usize,
    inner: Mutex<Record>,
}

#[derive(Debug, Default)]
struct Record {
    seen: HashSet<Vec<u8>>,
    /// (when accepted, binder), oldest first.
    order: VecDeque<(u64, Vec<u8>)>,
}

/// Why early data was refused (for the connection's record of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The ticket ages disagree by more than half the window.
    Stale,
    /// This ClientHello's early data was accepted before.
    Replayed,
    /// The record is full.
    Full,
}

impl AntiReplay {
    pub(crate) fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
            capacity: capacity.max(1),
            inner: Mutex::new(Record::default()),
        }
    }

    /// Admits the early data of a ClientHello whose PSK binder is
    /// `binder`: the client reports the ticket `client_age_ms` old, the
    /// ticket was issued at `created_ms`, it is `now_ms` (milliseconds
    /// since the Unix epoch). Records the binder when admitted.
    pub(crate) fn admit(
        &self,
        binder: &[u8],
        client_age_ms: u32,
        created_ms: u64,
        now_ms: u64,
    ) -> Result<(), Refusal> {
        // Fresh when the two ages are less than half the window apart (a
        // zero window refuses every ClientHello).
        let server_age = now_ms.saturating_sub(created_ms);
        let apart = server_age.abs_diff(u64::from(client_age_ms));
        if apart.saturating_mul(2) >= self.window_ms {
            return Err(Refusal::Stale);
        }
        let mut record = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some((at, _)) = record.order.front() {
            if at.saturating_add(self.window_ms) > now_ms {
                break;
            }
            if let Some((_, old)) = record.order.pop_front() {
                record.seen.remove(&old);
            }
        }
        if record.seen.contains(binder) {
            return Err(Refusal::Replayed);
        }
        if record.seen.len() >= self.capacity {
            return Err(Refusal::Full);
        }
        record.seen.insert(binder.to_vec());
        record.order.push_back((now_ms, binder.to_vec()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_hello_is_admitted_once_within_the_window() {
        let r = AntiReplay::new(Duration::from_secs(10), 16);
        let t0 = 1_000_000;
        assert_eq!(r.admit(b"binder-1", 100, t0 - 100, t0), Ok(()));
        assert_eq!(
            r.admit(b"binder-1", 100, t0 - 100, t0 + 1),
            Err(Refusal::Replayed)
        );
        assert_eq!(r.admit(b"binder-2", 100, t0 - 100, t0 + 1), Ok(()));
        // After the window the record forgets it, but then it is stale.
        assert_eq!(
            r.admit(b"binder-1", 100, t0 - 100, t0 + 10_001),
            Err(Refusal::Stale)
        );
    }

    #[test]
    fn ages_that_disagree_are_stale() {
        let r = AntiReplay::new(Duration::from_secs(10), 16);
        let now = 5_000_000;
        // The client says 1 s, the server knows 7 s: more than 5 s apart.
        assert_eq!(r.admit(b"b", 1_000, now - 7_000, now), Err(Refusal::Stale));
        // 4 s apart: fresh.
        assert_eq!(r.admit(b"b", 3_000, now - 7_000, now), Ok(()));
        // A ticket from the future (clock step) is age 0 to the server.
        assert_eq!(r.admit(b"c", 0, now + 60_000, now), Ok(()));
    }

    #[test]
    fn a_full_record_refuses() {
        let r = AntiReplay::new(Duration::from_secs(10), 2);
        let now = 9_000_000;
        assert!(r.admit(b"1", 0, now, now).is_ok());
        assert!(r.admit(b"2", 0, now, now).is_ok());
        assert_eq!(r.admit(b"3", 0, now, now), Err(Refusal::Full));
        // Room again once the first ones leave the window.
        assert!(r.admit(b"3", 0, now + 10_000, now + 10_000).is_ok());
    }
}
