//! One request at a time per upload: a PATCH, HEAD or DELETE of a tus upload first takes the
//! upload's turn ([`UploadTurns::take`]), so a new PATCH never appends beside an older one that is
//! still reading a body, and the offset a HEAD reports is not moving under it.
//!
//! An older request may hold the turn for a long time: a client that gave up on a stalled
//! connection and resumes on a new one leaves the old request waiting for bytes that may never
//! come. So a request that wants the turn asks the holder to hand it over ([`UploadTurn::wanted`]
//! resolves in the holder), and the holder stops reading its body, records what it has, and
//! returns: the newest request for an upload wins, as a resuming client needs.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, OwnedMutexGuard};

/// The turns of the uploads that have a request in progress.
#[derive(Debug, Default)]
pub struct UploadTurns {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

#[derive(Debug, Default)]
struct Slot {
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Requests waiting for the turn.
    waiting: AtomicUsize,
    /// Signalled when a request starts waiting.
    wanted: Notify,
}

/// The right to read and write one upload, until dropped.
#[derive(Debug)]
pub struct UploadTurn {
    turns: Arc<UploadTurns>,
    id: String,
    slot: Arc<Slot>,
    _turn: OwnedMutexGuard<()>,
}

/// Counts a request as waiting while it exists, so a cancelled wait stops counting.
struct Waiting(Arc<Slot>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

impl UploadTurns {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for upload `id`'s turn, asking the request that holds it to hand it over.
    pub async fn take(self: &Arc<Self>, id: &str) -> UploadTurn {
        let slot = Arc::clone(self.slots().entry(id.to_owned()).or_default());
        slot.waiting.fetch_add(1, Ordering::SeqCst);
        let waiting = Waiting(Arc::clone(&slot));
        slot.wanted.notify_waiters();
        let guard = Arc::clone(&slot.turn).lock_owned().await;
        drop(waiting);
        UploadTurn {
            turns: Arc::clone(self),
            id: id.to_owned(),
            slot,
            _turn: guard,
        }
    }

    /// The uploads a request is working on now (the expiry sweep leaves them alone).
    pub fn busy(&self) -> HashSet<String> {
        self.slots().keys().cloned().collect()
    }
}

impl UploadTurn {
    /// Resolves once another request for the same upload is waiting for the turn.
    pub async fn wanted(&self) {
        loop {
            let notified = self.slot.wanted.notified();
            tokio::pin!(notified);
            // Registered before the check, so a request that starts waiting between the check
            // and the await still wakes this one.
            notified.as_mut().enable();
            if self.slot.waiting.load(Ordering::SeqCst) > 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for UploadTurn {
    fn drop(&mut self) {
        let mut slots = self.turns.slots();
        // Every waiter holds a reference taken under this lock: two (the map's and this turn's)
        // means nobody else wants this upload, and its slot can go.
        if Arc::strong_count(&self.slot) == 2 {
            slots.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_new_request_asks_the_holder_to_hand_over() {
        let turns = Arc::new(UploadTurns::default());
        let first = turns.take("u").await;
        assert!(
            tokio::time::timeout(Duration::from_millis(50), first.wanted())
                .await
                .is_err(),
            "nobody else wants it yet"
        );
        let waiter = {
            let turns = Arc::clone(&turns);
            tokio::spawn(async move { turns.take("u").await })
        };
        tokio::time::timeout(Duration::from_secs(5), first.wanted())
            .await
            .unwrap();
        assert!(!waiter.is_finished(), "the turn is still held");
        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(turns.busy(), HashSet::from(["u".to_owned()]));
        // Another upload is independent.
        let other = tokio::time::timeout(Duration::from_secs(5), turns.take("v"))
            .await
            .unwrap();
        drop((second, other));
        assert!(turns.busy().is_empty(), "slots are freed");
    }

    #[tokio::test]
    async fn a_cancelled_wait_stops_asking() {
        let turns = Arc::new(UploadTurns::default());
        let first = turns.take("u").await;
        let _ = tokio::time::timeout(Duration::from_millis(20), turns.take("u")).await;
        assert!(
            tokio::time::timeout(Duration::from_millis(50), first.wanted())
                .await
                .is_err(),
            "the waiter gave up"
        );
    }
}
