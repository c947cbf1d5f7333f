//! Keeping a catalog in step with the locker: pushing its outbox (the device's changes, in the
//! order they were made, each applied once however often it is sent) and applying the change
//! feed from its cursor (every device's changes, this one's included).

use std::time::SystemTime;

use skylark_catalog::sync::{PendingOp, Stamp, SyncChange};
use skylark_catalog::{Catalog, FeedReport, RemoteOp};
use skylark_locker_api::ops::{FeedEntry, MAX_FEED_PAGE, Op};

use crate::client::{Client, MAX_OPS_PER_REQUEST};
use crate::error::{Error, Result};

/// What [`Client::push_outbox`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PushReport {
    /// Ops sent and taken by the locker (now gone from the outbox).
    pub pushed: u64,
    /// Of those, the ops the locker had not seen before (the rest were replays of a push whose
    /// answer was lost).
    pub applied: u64,
}

/// What [`Client::pull_feed`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PullReport {
    /// What applying the feed changed.
    #[serde(flatten)]
    pub applied: FeedReport,
    /// Ops of kinds this catalog keeps nothing of (a loved album or artist, set by a Subsonic
    /// app), passed over.
    pub skipped: u64,
    /// Requests made: 1 when nothing was new.
    pub requests: u64,
    /// The feed cursor after the pull.
    pub cursor: i64,
}

/// What [`Client::sync`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// The outbox push.
    pub pushed: PushReport,
    /// The feed pull after it.
    pub pulled: PullReport,
    /// Covers of locker tracks fetched.
    pub covers: u64,
}

impl Client {
    /// Brings `catalog` in step with the locker: pushes its outbox, then applies the change feed
    /// from its cursor. Each step is safe to repeat after a failure part-way.
    ///
    /// # Errors
    ///
    /// As [`Client::push_outbox`] and [`Client::pull_feed`].
    pub fn sync(&self, catalog: &mut Catalog) -> Result<SyncReport> {
        let pushed = self.push_outbox(catalog)?;
        let pulled = self.pull_feed(catalog)?;
        let covers = self.fetch_covers(catalog)?;
        Ok(SyncReport {
            pushed,
            pulled,
            covers,
        })
    }

    /// Fetches the covers that locker tracks name and the catalog lacks
    /// ([`Catalog::covers_wanted`]) and hands them to it. A cover the locker does not have (a
    /// folder image on the device that uploaded, which the locker never sees) or that is not an
    /// image is passed over. Returns how many were taken in.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when the locker cannot be reached, [`Error::Catalog`] from the catalog.
    pub fn fetch_covers(&self, catalog: &mut Catalog) -> Result<u64> {
        let mut fetched = 0;
        for hash in catalog.covers_wanted()? {
            let bytes = match self.get_bytes(&format!("/api/v1/covers/{hash}")) {
                Ok(bytes) => bytes,
                Err(e) if e.code().is_some() => {
                    tracing::debug!(cover = %hash, error = %e, "the locker has no such cover");
                    continue;
                }
                Err(e) => return Err(e),
            };
            match catalog.add_cover(&hash, bytes) {
                Ok(_) => fetched += 1,
                Err(skylark_catalog::Error::InvalidInput(message)) => {
                    tracing::warn!(cover = %hash, %message, "a cover from the locker was refused");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(fetched)
    }

    /// Applies the locker's change feed to `catalog` from its cursor to the end, a page at a
    /// time; each page is applied, and the cursor moved past it, in one transaction, so a pull
    /// cut off part-way goes on from the last whole page.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] or [`Error::Api`] from the locker, [`Error::Catalog`] from applying.
    pub fn pull_feed(&self, catalog: &mut Catalog) -> Result<PullReport> {
        let mut report = PullReport {
            cursor: catalog.feed_cursor()?,
            ..PullReport::default()
        };
        loop {
            let page = self.pull_changes(report.cursor, MAX_FEED_PAGE)?;
            report.requests += 1;
            let mut ops = Vec::with_capacity(page.changes.len());
            for entry in &page.changes {
                match remote_op(entry) {
                    Some(op) => ops.push(op),
                    None => report.skipped += 1,
                }
            }
            if page.next > report.cursor || !ops.is_empty() {
                report.applied += catalog.apply_feed(&ops, page.next, SystemTime::now())?;
                report.cursor = page.next;
            }
            if !page.more {
                return Ok(report);
            }
        }
    }

    /// Sends every op in `catalog`'s outbox, oldest first, in requests of at most
    /// [`MAX_OPS_PER_REQUEST`], and deletes each batch from the outbox once the locker has taken
    /// it. A failure leaves the unsent ops (and a batch whose answer was lost) in the outbox;
    /// pushing again sends them again, and the locker applies each op once.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] or [`Error::Api`] from the locker, [`Error::Catalog`] from the outbox,
    /// [`Error::Protocol`] for an op this locker's wire types cannot carry.
    pub fn push_outbox(&self, catalog: &mut Catalog) -> Result<PushReport> {
        let mut report = PushReport::default();
        let batch = u32::try_from(MAX_OPS_PER_REQUEST).unwrap_or(u32::MAX);
        loop {
            let pending = catalog.pending_ops(batch)?;
            let Some(last) = pending.last().map(|op| op.seq) else {
                return Ok(report);
            };
            let ops = pending.iter().map(wire_op).collect::<Result<Vec<_>>>()?;
            let results = self.push_ops(&ops)?;
            catalog.ops_pushed(last)?;
            report.pushed += results.len() as u64;
            report.applied += results.iter().filter(|r| r.applied).count() as u64;
        }
    }
}

/// The catalog's op for a feed entry, or `None` for a kind of change the catalog keeps nothing
/// of. Like [`wire_op`], a change of types: the catalog's changes have the wire's shape.
fn remote_op(entry: &FeedEntry) -> Option<RemoteOp> {
    let op = &entry.op;
    let change: SyncChange = serde_json::to_value(&op.change)
        .and_then(serde_json::from_value)
        .ok()?;
    Some(RemoteOp {
        id: op.id.clone(),
        hlc: Stamp {
            wall_ms: op.hlc.wall_ms,
            counter: op.hlc.counter,
            device: op.hlc.device.clone(),
        },
        change,
    })
}

/// The wire op for an outbox entry: the catalog writes its ops in the wire's shape, so this is a
/// change of types, checked.
fn wire_op(op: &PendingOp) -> Result<Op> {
    serde_json::to_value(op)
        .and_then(serde_json::from_value)
        .map_err(|e| Error::Protocol {
            request: "POST /api/v1/ops".to_owned(),
            message: format!("outbox op {} does not fit the wire format: {e}", op.id),
        })
}
