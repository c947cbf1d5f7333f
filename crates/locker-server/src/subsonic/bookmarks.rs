//! Bookmarks (`createBookmark`, `getBookmarks`, `deleteBookmark`): a place in a song to come back
//! to, with an optional note, one per song and account. Apps use them for audiobooks, long mixes
//! and lectures; the play queue (`queue.rs`) is the other half of the API reference's
//! "Bookmarks" section.

use rusqlite::params;

use crate::error::DbContext;
use crate::now_millis;
use crate::subsonic::Call;
use crate::subsonic::browse::{body, child, find_song};
use crate::subsonic::envelope::{Code, Failure, Reply};
use crate::subsonic::responses::{Bookmark, Bookmarks, iso8601};

/// The most bookmarks an account keeps.
const MAX_BOOKMARKS: usize = 10_000;
/// The longest note kept with a bookmark, in characters.
const MAX_COMMENT: usize = 1_000;

/// `createBookmark`: the song `id`, how far into it (`position`, in milliseconds) and an optional
/// `comment`. A song's bookmark is replaced by a new one.
pub(super) async fn create(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let position: i64 = call
        .params
        .number("position")?
        .ok_or_else(|| Failure::missing("position"))?;
    if position < 0 {
        return Err(Failure::new(Code::Generic, "position must not be negative"));
    }
    let comment = call
        .params
        .get("comment")
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT) {
        return Err(Failure::new(
            Code::Generic,
            format!("a bookmark's comment holds at most {MAX_COMMENT} characters"),
        ));
    }
    let comment = comment.map(str::to_owned);
    let lib = call.library().await?;
    let track = find_song(&lib, id)?.id.clone();
    let user = call.user();
    let now = now_millis();
    let stored = call
        .state
        .db(move |conn| {
            let tx = conn
                .unchecked_transaction()
                .ctx("starting to save a bookmark")?;
            // Bookmarks of songs deleted since go first: the limit does not count them.
            let tracks: Vec<String> = tx
                .prepare("SELECT track FROM bookmarks WHERE user_id = ?1")
                .and_then(|mut stmt| {
                    stmt.query_map([user.0], |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()
                })
                .ctx("reading the bookmarks")?;
            for gone in tracks.iter().filter(|t| lib.song(t).is_none()) {
                tx.execute(
                    "DELETE FROM bookmarks WHERE user_id = ?1 AND track = ?2",
                    params![user.0, gone],
                )
                .ctx("forgetting a deleted song's bookmark")?;
            }
            let others = tracks
                .iter()
                .filter(|t| **t != track && lib.song(t).is_some())
                .count();
            if others >= MAX_BOOKMARKS {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO bookmarks(user_id, track, position_ms, comment, created_at, changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT(user_id, track) DO UPDATE SET position_ms = ?3, comment = ?4,
                     changed_at = ?5",
                params![user.0, track, position, comment, now],
            )
            .ctx("saving a bookmark")?;
            tx.commit().ctx("saving a bookmark")?;
            Ok(true)
        })
        .await?;
    if !stored {
        return Err(Failure::new(
            Code::Generic,
            format!("an account keeps at most {MAX_BOOKMARKS} bookmarks"),
        ));
    }
    Ok(Reply::Empty)
}

/// `getBookmarks`: the account's bookmarks, most recently changed first, without those of songs
/// deleted since.
pub(super) async fn list(call: &Call<'_>) -> Result<Reply, Failure> {
    let user = call.user();
    let rows: Vec<(String, i64, Option<String>, i64, i64)> = call
        .state
        .db(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT track, position_ms, comment, created_at, changed_at FROM bookmarks
                     WHERE user_id = ?1 ORDER BY changed_at DESC, track",
                )
                .ctx("reading the bookmarks")?;
            let rows = stmt
                .query_map([user.0], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .and_then(Iterator::collect)
                .ctx("reading the bookmarks")?;
            Ok(rows)
        })
        .await?;
    let lib = call.library().await?;
    let bookmark = rows
        .into_iter()
        .filter_map(|(track, position, comment, created, changed)| {
            let song = lib.song(&track)?;
            Some(Bookmark {
                position,
                username: call.account.name.clone(),
                comment,
                created: iso8601(created),
                changed: iso8601(changed),
                entry: child(&lib, song),
            })
        })
        .collect();
    body("bookmarks", Bookmarks { bookmark })
}

/// `deleteBookmark`: forgets the bookmark of the song `id`, if it has one.
pub(super) async fn delete(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let lib = call.library().await?;
    let track = find_song(&lib, id)?.id.clone();
    let user = call.user();
    call.state
        .db(move |conn| {
            conn.execute(
                "DELETE FROM bookmarks WHERE user_id = ?1 AND track = ?2",
                params![user.0, track],
            )
            .ctx("deleting a bookmark")?;
            Ok(())
        })
        .await?;
    Ok(Reply::Empty)
}
