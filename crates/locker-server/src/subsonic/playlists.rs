//! Playlists ("Playlists" in the API reference): the account's playlists, read from the catalog
//! and edited with the same ops the desktop sends (`playlist_set`, `playlist_item_set`,
//! `playlist_item_remove`, `playlist_delete`), so every edit reaches the change feed.
//!
//! Subsonic names a playlist's songs by position; the catalog names entries by id and orders them
//! by fractional order keys. New entries are appended after the last key with the desktop's key
//! scheme ([`order_key`]), and removals name the entries at the positions the app was shown.
//! Entries whose track has no file in the locker are not shown (an app could not play them) and
//! positions count only the shown ones.

use skylark_locker_api::ops::{Change, Op};
use skylark_locker_api::order_key;

use crate::library::{Library, stamp_wall};
use crate::now_millis;
use crate::playlists::{Entry, Stored, load, load_all};
use crate::subsonic::browse::{body, child, cover_id, find_song};
use crate::subsonic::envelope::{Code, Failure, Reply};
use crate::subsonic::responses::{Playlist, PlaylistWithSongs, Playlists, iso8601};
use crate::subsonic::{Call, random_id, stamp_after};

/// The entries an app is shown: those whose track has a file.
fn shown<'a>(lib: &'a Library, stored: &'a Stored) -> impl Iterator<Item = &'a Entry> + 'a {
    stored
        .entries
        .iter()
        .filter(|e| lib.song(&e.track).is_some())
}

fn describe(lib: &Library, stored: &Stored, owner: &str) -> Playlist {
    let songs: Vec<_> = shown(lib, stored)
        .filter_map(|e| lib.song(&e.track))
        .collect();
    let changed = stamp_wall(&stored.changed).unwrap_or(0);
    Playlist {
        id: stored.id.clone(),
        name: stored.name.clone(),
        owner: owner.to_owned(),
        public: false,
        song_count: songs.len(),
        duration: songs
            .iter()
            .map(|s| (s.duration_ms.unwrap_or(0) + 500) / 1000)
            .sum(),
        created: iso8601(
            stored
                .created_at
                .or_else(|| stamp_wall(&stored.name_hlc))
                .unwrap_or(changed),
        ),
        changed: iso8601(changed),
        cover_art: songs.iter().find_map(|s| s.cover.as_deref().map(cover_id)),
    }
}

fn with_songs(lib: &Library, stored: &Stored, owner: &str) -> PlaylistWithSongs {
    PlaylistWithSongs {
        playlist: describe(lib, stored, owner),
        entry: shown(lib, stored)
            .filter_map(|e| lib.song(&e.track))
            .map(|s| child(lib, s))
            .collect(),
    }
}

fn op(id: String, hlc: &skylark_locker_api::ops::Hlc, change: Change) -> Op {
    Op {
        id,
        hlc: hlc.clone(),
        change,
    }
}

/// Ops that append `tracks` to `playlist`, after the entry with order key `last`.
fn append_ops(
    playlist: &str,
    tracks: &[String],
    mut last: Option<String>,
    hlc: &skylark_locker_api::ops::Hlc,
) -> Result<Vec<Op>, Failure> {
    let mut ops = Vec::with_capacity(tracks.len());
    for track in tracks {
        let key = order_key::between(last.as_deref(), None);
        ops.push(op(
            random_id("subsonic-")?,
            hlc,
            Change::PlaylistItemSet {
                playlist: playlist.to_owned(),
                item: random_id("e-")?,
                track: track.clone(),
                order_key: key.clone(),
            },
        ));
        last = Some(key);
    }
    Ok(ops)
}

/// The song ids in `name` parameters, each checked to be the account's.
fn songs_named(call: &Call<'_>, lib: &Library, name: &str) -> Result<Vec<String>, Failure> {
    call.params
        .all(name)
        .map(|id| find_song(lib, id).map(|s| s.id.clone()))
        .collect()
}

async fn stored(call: &Call<'_>, id: &str) -> Result<Stored, Failure> {
    let user = call.user();
    let id = id.to_owned();
    call.state
        .db(move |conn| load(conn, user, &id))
        .await?
        .ok_or_else(|| Failure::not_found("playlist"))
}

/// `getPlaylists`: the account's playlists (another account's, by `username`, are not visible).
pub(super) async fn list(call: &Call<'_>) -> Result<Reply, Failure> {
    if let Some(other) = call.params.get("username")
        && !other.eq_ignore_ascii_case(&call.account.name)
    {
        return Err(Failure::new(
            Code::NotAuthorized,
            "playlists of other accounts are private",
        ));
    }
    let lib = call.library().await?;
    let user = call.user();
    let all = call.state.db(move |conn| load_all(conn, user)).await?;
    body(
        "playlists",
        Playlists {
            playlist: all
                .iter()
                .map(|p| describe(&lib, p, &call.account.name))
                .collect(),
        },
    )
}

/// `getPlaylist`.
pub(super) async fn get(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let lib = call.library().await?;
    let stored = stored(call, id).await?;
    body("playlist", with_songs(&lib, &stored, &call.account.name))
}

/// `createPlaylist`: a new playlist named `name`, or, with `playlistId`, that playlist's songs
/// replaced; answers the playlist (since API 1.14.0).
pub(super) async fn create(call: &Call<'_>) -> Result<Reply, Failure> {
    let lib = call.library().await?;
    let songs = songs_named(call, &lib, "songId")?;
    let now = now_millis();
    let (id, ops) = match call.params.get("playlistId") {
        Some(id) => {
            let old = stored(call, id).await?;
            let seen = std::iter::once(old.name_hlc.as_str())
                .chain(old.entries.iter().map(|e| e.hlc.as_str()));
            let hlc = stamp_after(now, seen);
            let mut ops = Vec::new();
            if let Some(name) = call.params.get("name").filter(|n| !n.trim().is_empty()) {
                ops.push(op(
                    random_id("subsonic-")?,
                    &hlc,
                    Change::PlaylistSet {
                        playlist: old.id.clone(),
                        name: name.to_owned(),
                    },
                ));
            }
            for entry in &old.entries {
                ops.push(op(
                    random_id("subsonic-")?,
                    &hlc,
                    Change::PlaylistItemRemove {
                        playlist: old.id.clone(),
                        item: entry.item.clone(),
                    },
                ));
            }
            let last = old.entries.last().map(|e| e.order_key.clone());
            ops.extend(append_ops(&old.id, &songs, last, &hlc)?);
            (old.id, ops)
        }
        None => {
            let name = call.params.required("name")?;
            if name.trim().is_empty() {
                return Err(Failure::new(Code::Generic, "a playlist needs a name"));
            }
            let id = random_id("")?;
            let hlc = stamp_after(now, []);
            let mut ops = vec![op(
                random_id("subsonic-")?,
                &hlc,
                Change::PlaylistSet {
                    playlist: id.clone(),
                    name: name.to_owned(),
                },
            )];
            ops.extend(append_ops(&id, &songs, None, &hlc)?);
            (id, ops)
        }
    };
    call.apply(ops).await?;
    let stored = stored(call, &id).await?;
    body("playlist", with_songs(&lib, &stored, &call.account.name))
}

/// `updatePlaylist`: renames, removes the songs at `songIndexToRemove` (positions before this
/// edit) and appends `songIdToAdd`. `comment` and `public` have no place in a locker's
/// playlists and are ignored.
pub(super) async fn update(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("playlistId")?;
    let lib = call.library().await?;
    let old = stored(call, id).await?;
    let add = songs_named(call, &lib, "songIdToAdd")?;
    let visible: Vec<&Entry> = shown(&lib, &old).collect();
    let mut remove: Vec<usize> = call
        .params
        .all("songIndexToRemove")
        .map(|i| {
            i.trim()
                .parse::<usize>()
                .ok()
                .filter(|&i| i < visible.len())
                .ok_or_else(|| {
                    Failure::new(
                        Code::Generic,
                        format!(
                            "songIndexToRemove {i} is not a position in this playlist of {} songs",
                            visible.len()
                        ),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    remove.sort_unstable();
    remove.dedup();
    let seen =
        std::iter::once(old.name_hlc.as_str()).chain(old.entries.iter().map(|e| e.hlc.as_str()));
    let hlc = stamp_after(now_millis(), seen);
    let mut ops = Vec::new();
    if let Some(name) = call.params.get("name").filter(|n| !n.trim().is_empty()) {
        ops.push(op(
            random_id("subsonic-")?,
            &hlc,
            Change::PlaylistSet {
                playlist: old.id.clone(),
                name: name.to_owned(),
            },
        ));
    }
    for i in remove {
        ops.push(op(
            random_id("subsonic-")?,
            &hlc,
            Change::PlaylistItemRemove {
                playlist: old.id.clone(),
                item: visible[i].item.clone(),
            },
        ));
    }
    let last = old.entries.last().map(|e| e.order_key.clone());
    ops.extend(append_ops(&old.id, &add, last, &hlc)?);
    call.apply(ops).await?;
    Ok(Reply::Empty)
}

/// `deletePlaylist`.
pub(super) async fn delete(call: &Call<'_>) -> Result<Reply, Failure> {
    let id = call.params.required("id")?;
    let old = stored(call, id).await?;
    let hlc = stamp_after(now_millis(), [old.name_hlc.as_str()]);
    call.apply(vec![op(
        random_id("subsonic-")?,
        &hlc,
        Change::PlaylistDelete { playlist: old.id },
    )])
    .await?;
    Ok(Reply::Empty)
}
