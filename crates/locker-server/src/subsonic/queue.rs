//! The play queue (`savePlayQueue` and `getPlayQueue`, "Bookmarks" in the API reference, and the
//! `indexBasedQueue` extension's `savePlayQueueByIndex` and `getPlayQueueByIndex`, which name the
//! song playing by its place, since a song may be queued twice): one per account, saved by one
//! app and restored by another, so that listening moves from the phone to the car to the desk
//! where it stopped.

use rusqlite::{OptionalExtension, params};

use crate::error::DbContext;
use crate::now_millis;
use crate::subsonic::Call;
use crate::subsonic::browse::{body, child, find_song};
use crate::subsonic::envelope::{Code, Failure, Reply};
use crate::subsonic::responses::{PlayQueue, PlayQueueByIndex, SavedQueue, iso8601};

/// The most songs a saved queue holds.
const MAX_QUEUE: usize = 5_000;
/// The longest app name kept as the queue's `changedBy`.
const MAX_APP_NAME: usize = 100;

/// `savePlayQueue` (`by_index` false) and `savePlayQueueByIndex`: the songs `id` in order, the
/// one playing (`current`, one of them, or `currentIndex`, its place from 0) and how far into it
/// (`position`, in milliseconds). No `id` clears the queue.
pub(super) async fn save(call: &Call<'_>, by_index: bool) -> Result<Reply, Failure> {
    let ids: Vec<&str> = call.params.all("id").collect();
    if ids.len() > MAX_QUEUE {
        return Err(Failure::new(
            Code::Generic,
            format!("a play queue holds at most {MAX_QUEUE} songs"),
        ));
    }
    let position: i64 = call.params.number("position")?.unwrap_or(0);
    if position < 0 {
        return Err(Failure::new(Code::Generic, "position must not be negative"));
    }
    let lib = call.library().await?;
    let mut tracks = Vec::with_capacity(ids.len());
    for id in ids {
        tracks.push(find_song(&lib, id)?.id.clone());
    }
    let current: Option<usize> = if by_index {
        match call.params.number::<usize>("currentIndex")? {
            Some(i) if i < tracks.len() => Some(i),
            Some(i) => {
                return Err(Failure::new(
                    Code::Generic,
                    format!("currentIndex {i} is not a place in the queue"),
                ));
            }
            None if tracks.is_empty() => None,
            None => return Err(Failure::missing("currentIndex")),
        }
    } else {
        match call.params.get("current").filter(|c| !c.is_empty()) {
            Some(id) => Some(tracks.iter().position(|t| t == id).ok_or_else(|| {
                Failure::new(
                    Code::Generic,
                    format!("current song {id} is not in the queue"),
                )
            })?),
            None => None,
        }
    };
    let current = current.and_then(|i| i64::try_from(i).ok());
    let app: String = call
        .params
        .get("c")
        .filter(|c| !c.trim().is_empty())
        .unwrap_or("an unnamed app")
        .chars()
        .take(MAX_APP_NAME)
        .collect();
    let user = call.user();
    let now = now_millis();
    call.state
        .db(move |conn| {
            if tracks.is_empty() {
                conn.execute("DELETE FROM play_queues WHERE user_id = ?1", [user.0])
                    .ctx("clearing the play queue")?;
                return Ok(());
            }
            let tracks = serde_json::to_string(&tracks).unwrap_or_else(|_| "[]".to_owned());
            conn.execute(
                "INSERT INTO play_queues(user_id, tracks, current_index, position_ms, changed_at,
                     changed_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(user_id) DO UPDATE SET tracks = ?2, current_index = ?3,
                     position_ms = ?4, changed_at = ?5, changed_by = ?6",
                params![user.0, tracks, current, position, now, app],
            )
            .ctx("saving the play queue")?;
            Ok(())
        })
        .await?;
    Ok(Reply::Empty)
}

/// `getPlayQueue` (`by_index` false) and `getPlayQueueByIndex`: the queue last saved, without
/// the songs deleted since (and without its place when the song playing was one); nothing when
/// none is saved.
pub(super) async fn get(call: &Call<'_>, by_index: bool) -> Result<Reply, Failure> {
    let user = call.user();
    let saved: Option<(String, Option<i64>, i64, i64, String)> = call
        .state
        .db(move |conn| {
            conn.query_row(
                "SELECT tracks, current_index, position_ms, changed_at, changed_by
                 FROM play_queues WHERE user_id = ?1",
                [user.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .ctx("reading the play queue")
        })
        .await?;
    let Some((tracks, current, position, changed, changed_by)) = saved else {
        return Ok(Reply::Empty);
    };
    let tracks: Vec<String> = serde_json::from_str(&tracks).map_err(|e| {
        Failure::new(
            Code::Generic,
            format!("the saved play queue cannot be read: {e}"),
        )
    })?;
    let lib = call.library().await?;
    let current = current.and_then(|i| usize::try_from(i).ok());
    let mut entry = Vec::with_capacity(tracks.len());
    // The song playing, as its id and its place among the songs still there.
    let mut playing: Option<(String, usize)> = None;
    for (i, id) in tracks.iter().enumerate() {
        let Some(song) = lib.song(id) else { continue };
        if current == Some(i) {
            playing = Some((song.id.clone(), entry.len()));
        }
        entry.push(child(&lib, song));
    }
    let queue = SavedQueue {
        position: playing.as_ref().map(|_| position),
        username: call.account.name.clone(),
        changed: iso8601(changed),
        changed_by,
        entry,
    };
    if by_index {
        body(
            "playQueueByIndex",
            PlayQueueByIndex {
                current_index: playing.map(|(_, at)| at),
                queue,
            },
        )
    } else {
        body(
            "playQueue",
            PlayQueue {
                current: playing.map(|(id, _)| id),
                queue,
            },
        )
    }
}
