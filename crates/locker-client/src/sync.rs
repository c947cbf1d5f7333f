//! Pushing the catalog's outbox to the locker: the device's changes, in the order they were
//! made, each applied once however often it is sent.

use skylark_catalog::Catalog;
use skylark_catalog::sync::PendingOp;
use skylark_locker_api::ops::Op;

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

impl Client {
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
