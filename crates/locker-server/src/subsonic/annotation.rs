//! Plays and stars ("Media annotation" in the API reference), recorded as the ops every device
//! sends: a scrobble is a `play`, a starred song is its `loved` field set with `track_set`, and a
//! starred album or artist is a `love` op.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use skylark_locker_api::ops::{Change, LoveTarget, Op};

use crate::catalog::love_key;
use crate::error::DbContext;
use crate::now_millis;
use crate::subsonic::browse;
use crate::subsonic::envelope::{Code, Failure, Reply};
use crate::subsonic::{Call, random_id, stamp_after};

/// `scrobble`: each `id` played at the matching `time` (milliseconds, default now). A "now
/// playing" notice (`submission=false`) records no play: it puts the song on the app's line of
/// `getNowPlaying` instead.
pub(super) async fn scrobble(call: &Call<'_>) -> Result<Reply, Failure> {
    let ids: Vec<&str> = call.params.all("id").collect();
    if ids.is_empty() {
        return Err(Failure::missing("id"));
    }
    let times: Vec<Option<i64>> = call
        .params
        .all("time")
        .map(|t| t.trim().parse().ok())
        .collect();
    let submission = call.params.flag("submission")?.unwrap_or(true);
    let lib = call.library().await?;
    let now = now_millis();
    let hlc = stamp_after(now, []);
    let mut ops = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let song = browse::find_song(&lib, id)?;
        let at = times.get(i).copied().flatten();
        if !submission {
            let client = call.params.get("c").unwrap_or_default();
            call.state.subsonic().now_playing().start(
                call.user(),
                client,
                call.peer,
                song,
                // A clock ahead of the locker's does not keep a song on the board for longer.
                at.unwrap_or(now).min(now),
            );
            continue;
        }
        // A play with a time is named by it, so an app that retries a scrobble it sent already
        // counts it once.
        let op_id = match at {
            Some(at) => format!(
                "subsonic-play-{}",
                &blake3::hash(format!("{}\n{at}", song.id).as_bytes()).to_hex()[..32]
            ),
            None => random_id("subsonic-play-")?,
        };
        ops.push(Op {
            id: op_id,
            hlc: hlc.clone(),
            change: Change::Play {
                track: song.id.clone(),
                at: at.unwrap_or(now),
            },
        });
    }
    call.apply(ops).await?;
    Ok(Reply::Empty)
}

/// What a star names.
enum Starred {
    Song(String),
    Other(LoveTarget),
}

/// `star` and `unstar`: songs by `id`, albums by `albumId`, artists by `artistId` (an album or
/// artist id given as `id`, as older apps send, is taken too).
pub(super) async fn star(call: &Call<'_>, loved: bool) -> Result<Reply, Failure> {
    let lib = call.library().await?;
    let mut targets = Vec::new();
    for id in call.params.all("id") {
        targets.push(if let Some(song) = lib.song(id) {
            Starred::Song(song.id.clone())
        } else if let Some(album) = lib.album(id) {
            Starred::Other(album.target.clone())
        } else if let Some(artist) = lib.artist(id) {
            Starred::Other(artist.target.clone())
        } else {
            return Err(Failure::not_found(&format!("song {id}")));
        });
    }
    for id in call.params.all("albumId") {
        let album = lib
            .album(id)
            .ok_or_else(|| Failure::not_found(&format!("album {id}")))?;
        targets.push(Starred::Other(album.target.clone()));
    }
    for id in call.params.all("artistId") {
        let artist = lib
            .artist(id)
            .ok_or_else(|| Failure::not_found(&format!("artist {id}")))?;
        targets.push(Starred::Other(artist.target.clone()));
    }
    if targets.is_empty() {
        return Err(Failure::missing("id"));
    }
    // Each register's current stamp, so the new one comes after it.
    let user = call.user();
    let registers: Vec<(bool, String, String)> = targets
        .iter()
        .filter_map(|t| match t {
            Starred::Song(id) => Some((true, String::new(), id.clone())),
            Starred::Other(target) => {
                love_key(target).map(|(kind, key)| (false, kind.to_owned(), key))
            }
        })
        .collect();
    let seen: Vec<String> = call
        .state
        .db(move |conn| {
            let mut out = Vec::new();
            for (song, kind, key) in &registers {
                let stamp: Option<String> = if *song {
                    conn.query_row(
                        "SELECT hlc FROM track_fields WHERE user_id = ?1 AND uid = ?2 AND field = 'loved'",
                        params![user.0, key],
                        |r| r.get(0),
                    )
                } else {
                    conn.query_row(
                        "SELECT hlc FROM loves WHERE user_id = ?1 AND kind = ?2 AND key = ?3",
                        params![user.0, kind, key],
                        |r| r.get(0),
                    )
                }
                .optional()
                .ctx("reading a star")?;
                out.extend(stamp);
            }
            Ok(out)
        })
        .await?;
    let hlc = stamp_after(now_millis(), seen.iter().map(String::as_str));
    let mut ops = Vec::with_capacity(targets.len());
    for target in targets {
        let change = match target {
            Starred::Song(track) => Change::TrackSet {
                track,
                blob: None,
                fields: BTreeMap::from([("loved".to_owned(), serde_json::Value::Bool(loved))]),
            },
            Starred::Other(target) => Change::Love { target, loved },
        };
        ops.push(Op {
            id: random_id("subsonic-")?,
            hlc: hlc.clone(),
            change,
        });
    }
    call.apply(ops).await?;
    Ok(Reply::Empty)
}

/// `setRating`: a song's rating, 1 to 5 stars (0 clears it), kept as the 0 to 100 every device
/// rates with. Albums and artists take no rating of their own here: theirs follows their songs'.
pub(super) async fn set_rating(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let stars: u8 = call
        .params
        .number("rating")?
        .ok_or_else(|| Failure::missing("rating"))?;
    if stars > 5 {
        return Err(Failure::new(Code::Generic, "a rating is 0 to 5 stars"));
    }
    let lib = call.library().await?;
    let Some(song) = lib.song(id) else {
        return Err(if lib.album(id).is_some() || lib.artist(id).is_some() {
            Failure::new(Code::Generic, "only songs are rated")
        } else {
            Failure::not_found(&format!("song {id}"))
        });
    };
    let (user, track) = (call.user(), song.id.clone());
    let uid = track.clone();
    let seen = call
        .state
        .db(move |conn| crate::catalog::rating_stamp(conn, user, &uid))
        .await?;
    call.apply(vec![Op {
        id: random_id("subsonic-")?,
        hlc: stamp_after(now_millis(), seen.as_deref()),
        change: Change::Rating {
            track,
            rating: stars * 20,
        },
    }])
    .await?;
    Ok(Reply::Empty)
}
