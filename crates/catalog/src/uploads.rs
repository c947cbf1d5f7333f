//! The upload queue of scan and match: the files the locker asked for, each with the state that
//! resumes its upload, kept in the catalog so that a queue survives a dropped connection, a
//! paused session or a restart of the app, and no acknowledged byte is sent twice.
//!
//! The state is the locker client's to read and write (this crate speaks no network protocol):
//! it is kept as the text it hands over. When an upload is done, [`Catalog::finish_upload`]
//! takes it off the queue and publishes the track's locker copy in one transaction.

use std::time::SystemTime;

use rusqlite::params;
use serde::Serialize;

use crate::Catalog;
use crate::error::{DbContext, Error, Result};
use crate::feed;
use crate::model::{TrackId, to_millis};

/// One queued upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedUpload {
    /// The track whose file it sends.
    pub track: TrackId,
    /// The uploader's resumable state, as it last handed it over.
    #[serde(skip)]
    pub state: String,
    /// The file's size in bytes.
    pub size: u64,
    /// Bytes the locker has acknowledged.
    pub sent: u64,
    /// Why the last attempt failed, if it did.
    pub error: Option<String>,
}

impl Catalog {
    /// Puts `track` on the upload queue with the uploader's initial `state`, unless it is
    /// queued already (then its state, and what it has sent, stand).
    pub fn queue_upload(
        &mut self,
        track: TrackId,
        state: &str,
        size: u64,
        now: SystemTime,
    ) -> Result<()> {
        self.conn()
            .execute(
                "INSERT OR IGNORE INTO uploads(track_id, state, size, queued_at) VALUES (?1, ?2, ?3, ?4)",
                params![track, state, size, to_millis(now)],
            )
            .ctx("queueing an upload")?;
        Ok(())
    }

    /// The queue, oldest first.
    pub fn upload_queue(&self) -> Result<Vec<QueuedUpload>> {
        let context = "reading the upload queue";
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT track_id, state, size, sent, error FROM uploads ORDER BY queued_at, track_id",
            )
            .ctx(context)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(QueuedUpload {
                    track: TrackId(r.get(0)?),
                    state: r.get(1)?,
                    size: r.get(2)?,
                    sent: r.get(3)?,
                    error: r.get(4)?,
                })
            })
            .ctx(context)?;
        rows.collect::<rusqlite::Result<_>>().ctx(context)
    }

    /// Keeps the uploader's `state` for `track`, with the bytes the locker has acknowledged.
    pub fn save_upload(&mut self, track: TrackId, state: &str, sent: u64) -> Result<()> {
        let changed = self
            .conn()
            .execute(
                "UPDATE uploads SET state = ?2, sent = ?3, error = NULL WHERE track_id = ?1",
                params![track, state, sent],
            )
            .ctx("saving an upload")?;
        if changed == 0 {
            return Err(Error::NotFound {
                kind: "queued upload",
                id: track.to_string(),
            });
        }
        Ok(())
    }

    /// Notes why `track`'s upload failed; it stays queued, to try again.
    pub fn fail_upload(&mut self, track: TrackId, error: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE uploads SET error = ?2 WHERE track_id = ?1",
                params![track, error],
            )
            .ctx("noting a failed upload")?;
        Ok(())
    }

    /// Takes `track` off the queue: its file is in the locker as `blob`. Records the locker copy
    /// and publishes the track to other devices (as [`Catalog::set_in_locker`]), in the same
    /// transaction.
    pub fn finish_upload(&mut self, track: TrackId, blob: &str, now: SystemTime) -> Result<()> {
        let tx = self.conn_mut().transaction().ctx("finishing an upload")?;
        tx.execute("DELETE FROM uploads WHERE track_id = ?1", [track])
            .ctx("finishing an upload")?;
        feed::publish(&tx, track, blob, now)?;
        tx.commit().ctx("finishing an upload")
    }

    /// Takes `track` off the queue without recording anything (the user chose not to upload
    /// it). True if it was queued.
    pub fn cancel_upload(&mut self, track: TrackId) -> Result<bool> {
        let removed = self
            .conn()
            .execute("DELETE FROM uploads WHERE track_id = ?1", [track])
            .ctx("cancelling an upload")?;
        Ok(removed > 0)
    }
}
