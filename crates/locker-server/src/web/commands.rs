//! The web player's commands: `POST /api/v1/ui/{command}` with the command's arguments as a JSON
//! object, answering what the desktop app's command of the same name answers (the UI's
//! `ui/src/lib/types.ts`), so one UI runs on both. Only the library's commands live here: the
//! browser plays, queues and keeps its settings itself (`ui/src/lib/backend/player.ts`).
//!
//! The UI names things by number ([`crate::library::number_of`]); every number is looked up in
//! the signed-in account's own library and playlists, so another account's numbers are simply
//! not found. Edits (playlists, ratings, plays, taking songs out of the locker) are ops stamped
//! by the `web` device and applied through [`crate::catalog::apply`], so they reach every device
//! through the change feed.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use skylark_locker_api::ErrorCode;
use skylark_locker_api::ops::{Change, Op};
use skylark_locker_api::order_key;

use crate::catalog::{self, random_id, stamp_after};
use crate::error::{DbContext, Error, Result};
use crate::http::AppState;
use crate::library::{self, Album, Artist, Library, Song, fold, number_of, query_terms};
use crate::now_millis;
use crate::playlists::{self, Stored};
use crate::sessions::Authenticated;
use crate::web::not_found;

/// The device the web player's edits are stamped with.
pub const DEVICE: &str = "web";
/// The most tracks one command names or answers.
const MAX_IDS: usize = 10_000;
/// The longest playlist name.
const MAX_NAME: usize = 200;

/// A track as the UI shows it (`Track` in `ui/src/lib/types.ts`).
#[derive(Debug, Serialize)]
pub struct TrackView {
    id: i64,
    uid: String,
    path: Option<String>,
    title: String,
    artist: String,
    artists: Vec<String>,
    album: String,
    album_id: i64,
    album_artist: String,
    track_no: Option<i64>,
    track_total: Option<i64>,
    disc_no: Option<i64>,
    disc_total: Option<i64>,
    year: Option<i64>,
    date: Option<String>,
    genre: String,
    composer: Option<String>,
    duration_ms: i64,
    sample_rate: Option<i64>,
    channels: Option<i64>,
    bit_depth: Option<i64>,
    bitrate_kbps: Option<i64>,
    codec: String,
    has_cover: bool,
    cover_hash: Option<String>,
    play_count: u64,
    last_played: Option<i64>,
    rating: Option<u8>,
    added: i64,
    availability: &'static str,
}

/// An album as the UI shows it.
#[derive(Debug, Serialize)]
pub struct AlbumView {
    id: i64,
    title: String,
    album_artist: String,
    album_artist_id: i64,
    year: Option<i64>,
    track_count: usize,
    duration_ms: i64,
    cover_hash: Option<String>,
    compilation: bool,
}

/// An album artist as the UI shows it.
#[derive(Debug, Serialize)]
pub struct ArtistView {
    id: i64,
    name: String,
    album_count: usize,
    track_count: usize,
}

/// A genre as the UI shows it.
#[derive(Debug, Serialize)]
pub struct GenreView {
    id: i64,
    name: String,
    track_count: usize,
}

/// A playlist as the UI lists it.
#[derive(Debug, Serialize)]
pub struct PlaylistView {
    id: i64,
    uid: String,
    name: String,
    item_count: usize,
    duration_ms: i64,
}

/// One entry of a playlist as the UI shows it.
#[derive(Debug, Serialize)]
pub struct PlaylistItemView {
    id: i64,
    track: TrackView,
}

fn track_view(lib: &Library, song: &Song) -> TrackView {
    let album = &lib.albums[song.album];
    let artist = song
        .artist
        .clone()
        .or_else(|| song.album_artist.clone())
        .unwrap_or_else(|| library::UNKNOWN_ARTIST.to_owned());
    TrackView {
        id: number_of("track", &song.id),
        uid: song.id.clone(),
        path: None,
        title: song.title().to_owned(),
        artists: vec![artist.clone()],
        artist,
        album: album.name.clone(),
        album_id: number_of("album", &album.id),
        album_artist: lib.artists[album.artist].name.clone(),
        track_no: song.track_no,
        track_total: None,
        disc_no: song.disc_no,
        disc_total: None,
        year: song.year,
        date: None,
        genre: song.genre().unwrap_or_default(),
        composer: None,
        duration_ms: song.duration_ms.unwrap_or(0),
        sample_rate: song.sample_rate,
        channels: song.channels,
        bit_depth: song.bit_depth,
        bitrate_kbps: song.bitrate_kbps,
        codec: song.codec.clone().unwrap_or_default(),
        has_cover: song.cover.is_some(),
        cover_hash: song.cover.clone(),
        play_count: song.plays,
        last_played: song.last_played,
        rating: (song.rating > 0).then_some(song.rating),
        added: song.added_at,
        availability: "locker",
    }
}

fn album_view(lib: &Library, album: &Album) -> AlbumView {
    let artist = &lib.artists[album.artist];
    AlbumView {
        id: number_of("album", &album.id),
        title: album.name.clone(),
        album_artist: artist.name.clone(),
        album_artist_id: number_of("artist", &artist.id),
        year: album.year,
        track_count: album.songs.len(),
        duration_ms: album
            .songs
            .iter()
            .map(|&i| lib.songs[i].duration_ms.unwrap_or(0))
            .sum(),
        cover_hash: album.cover.clone(),
        compilation: false,
    }
}

fn artist_view(lib: &Library, artist: &Artist) -> ArtistView {
    ArtistView {
        id: number_of("artist", &artist.id),
        name: artist.name.clone(),
        album_count: artist.albums.len(),
        track_count: artist
            .albums
            .iter()
            .map(|&a| lib.albums[a].songs.len())
            .sum(),
    }
}

/// The entries of a playlist the web player shows: those whose track has a file.
fn shown<'a>(
    lib: &'a Library,
    stored: &'a Stored,
) -> impl Iterator<Item = (&'a playlists::Entry, &'a Song)> + 'a {
    stored
        .entries
        .iter()
        .filter_map(|e| lib.song(&e.track).map(|s| (e, s)))
}

fn playlist_view(lib: &Library, stored: &Stored) -> PlaylistView {
    let (count, duration) = shown(lib, stored).fold((0, 0), |(n, ms), (_, s)| {
        (n + 1, ms + s.duration_ms.unwrap_or(0))
    });
    PlaylistView {
        id: number_of("playlist", &stored.id),
        uid: stored.id.clone(),
        name: stored.name.clone(),
        item_count: count,
        duration_ms: duration,
    }
}

/// What a command works with: the account, its library, and the state to reach the database.
struct Ctx {
    state: AppState,
    who: Authenticated,
    lib: Arc<Library>,
}

impl Ctx {
    fn song(&self, n: i64) -> Result<&Song> {
        self.lib
            .song_numbered(n)
            .map(|(_, s)| s)
            .ok_or_else(|| not_found("track"))
    }

    fn songs(&self, ids: &[i64]) -> Result<Vec<&Song>> {
        if ids.len() > MAX_IDS {
            return Err(Error::api(
                ErrorCode::BadRequest,
                format!("at most {MAX_IDS} tracks at once"),
            ));
        }
        ids.iter().map(|&n| self.song(n)).collect()
    }

    fn tracks<'a>(&self, songs: impl IntoIterator<Item = &'a Song>) -> Vec<TrackView> {
        songs
            .into_iter()
            .map(|s| track_view(&self.lib, s))
            .collect()
    }

    async fn playlists(&self) -> Result<Vec<Stored>> {
        let user = self.who.user;
        self.state
            .db(move |conn| playlists::load_all(conn, user))
            .await
    }

    /// The playlist numbered `n`: its id found among the account's playlists' ids, then only it
    /// read with its entries.
    async fn playlist(&self, n: i64) -> Result<Stored> {
        let user = self.who.user;
        self.state
            .db(move |conn| {
                let ids = playlists::live_ids(conn, user)?;
                match ids.iter().find(|id| number_of("playlist", id) == n) {
                    Some(id) => playlists::load(conn, user, id),
                    None => Ok(None),
                }
            })
            .await?
            .ok_or_else(|| not_found("playlist"))
    }

    /// Applies `changes` as one request's edits, stamped after every stamp in `seen`.
    async fn apply<'a>(
        &self,
        seen: impl IntoIterator<Item = &'a str>,
        changes: Vec<Change>,
    ) -> Result<()> {
        let now = now_millis();
        let hlc = stamp_after(DEVICE, now, seen);
        let ops = changes
            .into_iter()
            .map(|change| {
                Ok(Op {
                    id: random_id("web-")?,
                    hlc: hlc.clone(),
                    change,
                })
            })
            .collect::<Result<Vec<Op>>>()?;
        let user = self.who.user;
        for chunk in ops.chunks(catalog::MAX_OPS_PER_REQUEST) {
            let chunk = chunk.to_vec();
            self.state
                .db(move |conn| catalog::apply(conn, user, &chunk, now))
                .await?;
        }
        Ok(())
    }
}

/// The stamps a playlist's edit must come after.
fn stamps(stored: &Stored) -> impl Iterator<Item = &str> {
    std::iter::once(stored.changed.as_str())
}

fn args<T: DeserializeOwned>(body: &Bytes) -> Result<T> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(body)
        .map_err(|e| Error::api(ErrorCode::BadRequest, format!("bad arguments: {e}")))
}

fn answer(value: impl Serialize) -> Result<Json<Value>> {
    serde_json::to_value(value)
        .map(Json)
        .map_err(|e| Error::api(ErrorCode::Internal, format!("cannot write the answer: {e}")))
}

fn playlist_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::api(
            ErrorCode::BadRequest,
            format!("a playlist name is 1 to {MAX_NAME} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// `POST /api/v1/ui/{command}`.
pub async fn call(
    State(state): State<AppState>,
    who: Authenticated,
    Path(command): Path<String>,
    body: Bytes,
) -> Result<Json<Value>> {
    let lib = state.library(who.user).await?;
    let ctx = Ctx { state, who, lib };
    run(&ctx, &command, &body).await
}

#[derive(serde::Deserialize)]
struct Id {
    id: i64,
}

#[derive(serde::Deserialize)]
struct Ids {
    ids: Vec<i64>,
}

#[derive(serde::Deserialize)]
struct TracksArg {
    tracks: Vec<i64>,
}

#[derive(serde::Deserialize)]
struct Limit {
    limit: usize,
}

#[derive(serde::Deserialize)]
struct SortArgs {
    sort: String,
    descending: bool,
}

#[derive(serde::Deserialize)]
struct SearchArgs {
    text: String,
    limit: usize,
}

#[derive(serde::Deserialize)]
struct RatingArgs {
    id: i64,
    rating: Option<u8>,
}

#[derive(serde::Deserialize)]
struct PlayArgs {
    id: i64,
    at: i64,
}

#[derive(serde::Deserialize)]
struct CreateArgs {
    name: String,
    #[serde(default)]
    tracks: Vec<i64>,
}

#[derive(serde::Deserialize)]
struct RenameArgs {
    id: i64,
    name: String,
}

#[derive(serde::Deserialize)]
struct AddArgs {
    id: i64,
    tracks: Vec<i64>,
    index: Option<usize>,
}

#[derive(serde::Deserialize)]
struct RemoveArgs {
    id: i64,
    items: Vec<i64>,
}

#[derive(serde::Deserialize)]
struct MoveArgs {
    id: i64,
    item: i64,
    index: usize,
}

async fn run(ctx: &Ctx, command: &str, body: &Bytes) -> Result<Json<Value>> {
    let lib = &ctx.lib;
    match command {
        "app_info" => {
            let user = ctx.who.user;
            let name = ctx
                .state
                .db(move |conn| crate::accounts::user(conn, user))
                .await?
                .name;
            answer(serde_json::json!({
                "version": env!("CARGO_PKG_VERSION"),
                "data_dir": "",
                "cover_dir": "",
                "roots": [],
                "track_count": lib.songs.len(),
                "wizard_done": true,
                "scanning": false,
                "user": name,
            }))
        }
        "track_ids" => {
            let a: SortArgs = args(body)?;
            answer(sorted_ids(lib, &a.sort, a.descending)?)
        }
        "tracks" => {
            let a: Ids = args(body)?;
            if a.ids.len() > MAX_IDS {
                return Err(Error::api(
                    ErrorCode::BadRequest,
                    format!("at most {MAX_IDS} tracks at once"),
                ));
            }
            // Like the desktop, tracks that no longer exist are left out, not an error: a list
            // may name a track another device just deleted.
            let songs = a
                .ids
                .iter()
                .filter_map(|&n| lib.song_numbered(n).map(|(_, s)| s));
            answer(ctx.tracks(songs))
        }
        "track_lyrics" => {
            let a: Id = args(body)?;
            let (_, song) = lib.song_numbered(a.id).ok_or_else(|| not_found("track"))?;
            answer(crate::lyrics::read(&ctx.state, ctx.who.user, song).await?)
        }
        "albums" => answer(
            lib.albums
                .iter()
                .map(|a| album_view(lib, a))
                .collect::<Vec<_>>(),
        ),
        "album" => {
            let a: Id = args(body)?;
            let album = lib.album_numbered(a.id).ok_or_else(|| not_found("album"))?;
            answer(serde_json::json!({
                "album": album_view(lib, album),
                "tracks": ctx.tracks(album.songs.iter().map(|&i| &lib.songs[i])),
            }))
        }
        "artists" => answer(
            lib.artists
                .iter()
                .map(|a| artist_view(lib, a))
                .collect::<Vec<_>>(),
        ),
        "artist" => {
            let a: Id = args(body)?;
            let artist = lib
                .artist_numbered(a.id)
                .ok_or_else(|| not_found("artist"))?;
            let albums: Vec<&Album> = artist.albums.iter().map(|&i| &lib.albums[i]).collect();
            answer(serde_json::json!({
                "artist": artist_view(lib, artist),
                "albums": albums.iter().map(|a| album_view(lib, a)).collect::<Vec<_>>(),
                "tracks": ctx.tracks(albums.iter().flat_map(|a| a.songs.iter().map(|&i| &lib.songs[i]))),
            }))
        }
        "genres" => answer(
            lib.numbers()
                .genres
                .iter()
                .map(|g| GenreView {
                    id: g.number,
                    name: g.name.clone(),
                    track_count: g.songs.len(),
                })
                .collect::<Vec<_>>(),
        ),
        "genre_tracks" => {
            let a: Id = args(body)?;
            let genre = lib.genre_numbered(a.id).ok_or_else(|| not_found("genre"))?;
            answer(ctx.tracks(genre.songs.iter().map(|&i| &lib.songs[i])))
        }
        "recently_added" => {
            let a: Limit = args(body)?;
            let mut songs: Vec<&Song> = lib.songs.iter().collect();
            songs.sort_by_key(|s| std::cmp::Reverse(s.added_at));
            songs.truncate(a.limit.min(MAX_IDS));
            answer(ctx.tracks(songs))
        }
        "search" => {
            let a: SearchArgs = args(body)?;
            let terms = query_terms(&a.text);
            let limit = a.limit.clamp(1, 1000);
            if terms.is_empty() {
                return answer(serde_json::json!({ "artists": [], "albums": [], "tracks": [] }));
            }
            answer(serde_json::json!({
                "artists": lib.search_artists(&terms).take(limit).map(|a| artist_view(lib, a)).collect::<Vec<_>>(),
                "albums": lib.search_albums(&terms).take(limit).map(|a| album_view(lib, a)).collect::<Vec<_>>(),
                "tracks": ctx.tracks(lib.search_songs(&terms).take(limit)),
            }))
        }
        "library_stats" => {
            let user = ctx.who.user;
            let playlists = ctx
                .state
                .db(move |conn| playlists::live_ids(conn, user))
                .await?
                .len();
            let mut track_artists: std::collections::HashSet<String> =
                std::collections::HashSet::new();
            for s in &lib.songs {
                if let Some(a) = &s.artist {
                    track_artists.insert(fold(a));
                }
            }
            answer(serde_json::json!({
                "tracks": lib.songs.len(),
                "albums": lib.albums.len(),
                "album_artists": lib.artists.len(),
                "artists": track_artists.len(),
                "genres": lib.numbers().genres.len(),
                "playlists": playlists,
                "duration_ms": lib.songs.iter().map(|s| s.duration_ms.unwrap_or(0)).sum::<i64>(),
                "bytes": lib.songs.iter().map(|s| s.size).sum::<u64>(),
                "missing": 0,
            }))
        }
        "set_rating" => {
            let a: RatingArgs = args(body)?;
            let rating = a.rating.unwrap_or(0);
            if rating > 100 {
                return Err(Error::api(ErrorCode::BadRequest, "a rating is 0 to 100"));
            }
            let track = ctx.song(a.id)?.id.clone();
            let (user, uid) = (ctx.who.user, track.clone());
            let seen = ctx
                .state
                .db(move |conn| crate::catalog::rating_stamp(conn, user, &uid))
                .await?;
            ctx.apply(seen.as_deref(), vec![Change::Rating { track, rating }])
                .await?;
            answer(())
        }
        "cloud_remove" => {
            let a: TracksArg = args(body)?;
            let uids: Vec<String> = ctx.songs(&a.tracks)?.iter().map(|s| s.id.clone()).collect();
            // After the stamp of each file's publication, so the removal wins even over a
            // device whose clock runs ahead.
            let (user, wanted) = (ctx.who.user, uids.clone());
            let seen: Vec<String> = ctx
                .state
                .db(move |conn| {
                    let mut stmt = conn
                        .prepare_cached(
                            "SELECT blob_hlc FROM tracks WHERE user_id = ?1 AND uid = ?2",
                        )
                        .ctx("reading tracks")?;
                    let mut out = Vec::new();
                    for uid in &wanted {
                        let stamp: Option<Option<String>> = stmt
                            .query_row(params![user.0, uid], |r| r.get(0))
                            .optional()
                            .ctx("reading tracks")?;
                        out.extend(stamp.flatten());
                    }
                    Ok(out)
                })
                .await?;
            let removed = uids.len();
            ctx.apply(
                seen.iter().map(String::as_str),
                uids.into_iter()
                    .map(|track| Change::TrackDelete { track })
                    .collect(),
            )
            .await?;
            answer(removed)
        }
        "record_play" => {
            let a: PlayArgs = args(body)?;
            let track = ctx.song(a.id)?.id.clone();
            let now = now_millis();
            // A play cannot be in the future; a clock a little ahead is brought back to now.
            let at = a.at.clamp(0, now);
            ctx.apply([], vec![Change::Play { track, at }]).await?;
            answer(())
        }
        "playlists" => {
            let all = ctx.playlists().await?;
            answer(
                all.iter()
                    .map(|p| playlist_view(lib, p))
                    .collect::<Vec<_>>(),
            )
        }
        "playlist" => {
            let a: Id = args(body)?;
            let stored = ctx.playlist(a.id).await?;
            answer(serde_json::json!({
                "playlist": playlist_view(lib, &stored),
                "items": shown(lib, &stored).map(|(e, s)| PlaylistItemView {
                    id: number_of("item", &e.item),
                    track: track_view(lib, s),
                }).collect::<Vec<_>>(),
            }))
        }
        "create_playlist" => {
            let a: CreateArgs = args(body)?;
            let name = playlist_name(&a.name)?;
            let songs = ctx.songs(&a.tracks)?;
            let playlist = random_id("p-")?;
            let keys = order_key::n_between(None, None, songs.len());
            let mut changes = vec![Change::PlaylistSet {
                playlist: playlist.clone(),
                name,
            }];
            for (song, key) in songs.iter().zip(keys) {
                changes.push(Change::PlaylistItemSet {
                    playlist: playlist.clone(),
                    item: random_id("e-")?,
                    track: song.id.clone(),
                    order_key: key,
                });
            }
            ctx.apply([], changes).await?;
            answer(number_of("playlist", &playlist))
        }
        "rename_playlist" => {
            let a: RenameArgs = args(body)?;
            let name = playlist_name(&a.name)?;
            let stored = ctx.playlist(a.id).await?;
            ctx.apply(
                stamps(&stored),
                vec![Change::PlaylistSet {
                    playlist: stored.id.clone(),
                    name,
                }],
            )
            .await?;
            answer(())
        }
        "delete_playlist" => {
            let a: Id = args(body)?;
            let stored = ctx.playlist(a.id).await?;
            ctx.apply(
                stamps(&stored),
                vec![Change::PlaylistDelete {
                    playlist: stored.id.clone(),
                }],
            )
            .await?;
            answer(())
        }
        "add_to_playlist" => {
            let a: AddArgs = args(body)?;
            let songs = ctx.songs(&a.tracks)?;
            let stored = ctx.playlist(a.id).await?;
            let visible: Vec<&playlists::Entry> = shown(lib, &stored).map(|(e, _)| e).collect();
            let at = a.index.unwrap_or(visible.len()).min(visible.len());
            let (before, after) = neighbours(&stored, &visible, at, None);
            let keys = order_key::n_between(before.as_deref(), after.as_deref(), songs.len());
            let mut changes = Vec::with_capacity(songs.len());
            for (song, key) in songs.iter().zip(keys) {
                changes.push(Change::PlaylistItemSet {
                    playlist: stored.id.clone(),
                    item: random_id("e-")?,
                    track: song.id.clone(),
                    order_key: key,
                });
            }
            ctx.apply(stamps(&stored), changes).await?;
            answer(())
        }
        "remove_from_playlist" => {
            let a: RemoveArgs = args(body)?;
            let stored = ctx.playlist(a.id).await?;
            let mut changes = Vec::with_capacity(a.items.len());
            for n in &a.items {
                let entry = stored
                    .entries
                    .iter()
                    .find(|e| number_of("item", &e.item) == *n)
                    .ok_or_else(|| not_found("playlist entry"))?;
                changes.push(Change::PlaylistItemRemove {
                    playlist: stored.id.clone(),
                    item: entry.item.clone(),
                });
            }
            ctx.apply(stamps(&stored), changes).await?;
            answer(())
        }
        "move_playlist_item" => {
            let a: MoveArgs = args(body)?;
            let stored = ctx.playlist(a.id).await?;
            let entry = stored
                .entries
                .iter()
                .find(|e| number_of("item", &e.item) == a.item)
                .ok_or_else(|| not_found("playlist entry"))?;
            let visible: Vec<&playlists::Entry> = shown(lib, &stored)
                .map(|(e, _)| e)
                .filter(|e| e.item != entry.item)
                .collect();
            let at = a.index.min(visible.len());
            let (before, after) = neighbours(&stored, &visible, at, Some(&entry.item));
            let key = order_key::between(before.as_deref(), after.as_deref());
            ctx.apply(
                stamps(&stored),
                vec![Change::PlaylistItemSet {
                    playlist: stored.id.clone(),
                    item: entry.item.clone(),
                    track: entry.track.clone(),
                    order_key: key,
                }],
            )
            .await?;
            answer(())
        }
        _ => Err(Error::api(
            ErrorCode::NotFound,
            format!("no such command: {command}"),
        )),
    }
}

/// The order keys a new entry at position `at` of the `visible` entries goes between. The key
/// after is the first entry of the whole playlist (hidden ones included, `moving` excepted) that
/// sorts after the one before, so that entries sharing a key (two devices inserted at once)
/// still leave room between them.
fn neighbours(
    stored: &Stored,
    visible: &[&playlists::Entry],
    at: usize,
    moving: Option<&str>,
) -> (Option<String>, Option<String>) {
    let before = at
        .checked_sub(1)
        .and_then(|i| visible.get(i))
        .map(|e| e.order_key.clone());
    let after = match visible.get(at) {
        Some(next) => stored
            .entries
            .iter()
            .filter(|e| Some(e.item.as_str()) != moving)
            .map(|e| &e.order_key)
            .find(|k| before.as_ref().is_none_or(|b| *k > b) && *k <= &next.order_key)
            .cloned(),
        None => None,
    };
    (before, after)
}

/// The track numbers of the library in the order the UI asked for: by one column, ties kept in
/// album order.
fn sorted_ids(lib: &Library, sort: &str, descending: bool) -> Result<Vec<i64>> {
    let mut order: Vec<usize> = (0..lib.songs.len()).collect();
    let text = |f: &dyn Fn(&Song) -> Option<String>| -> Vec<String> {
        lib.songs
            .iter()
            .map(|s| f(s).map(|t| fold(&t)).unwrap_or_default())
            .collect()
    };
    let by_text = |keys: Vec<String>, order: &mut Vec<usize>| {
        order.sort_by(|&a, &b| {
            // Empty values go last whichever way the column sorts, as on the desktop.
            match (keys[a].is_empty(), keys[b].is_empty()) {
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ if descending => keys[b].cmp(&keys[a]),
                _ => keys[a].cmp(&keys[b]),
            }
        });
    };
    let by_number = |keys: Vec<i64>, order: &mut Vec<usize>| {
        order.sort_by(|&a, &b| {
            if descending {
                keys[b].cmp(&keys[a])
            } else {
                keys[a].cmp(&keys[b])
            }
        });
    };
    match sort {
        "title" => by_text(text(&|s| Some(s.title().to_owned())), &mut order),
        "artist" => by_text(text(&|s| s.artist.clone()), &mut order),
        "album" => by_text(
            text(&|s| Some(lib.albums[s.album].name.clone())),
            &mut order,
        ),
        "album_artist" => by_text(
            lib.songs
                .iter()
                .map(|s| lib.artists[lib.albums[s.album].artist].sort.clone())
                .collect(),
            &mut order,
        ),
        "genre" => by_text(text(&Song::genre), &mut order),
        "year" => by_number(
            lib.songs
                .iter()
                .map(|s| s.year.unwrap_or(i64::MIN))
                .collect(),
            &mut order,
        ),
        "duration" => by_number(
            lib.songs
                .iter()
                .map(|s| s.duration_ms.unwrap_or(0))
                .collect(),
            &mut order,
        ),
        "date_added" => by_number(lib.songs.iter().map(|s| s.added_at).collect(), &mut order),
        "play_count" => by_number(
            lib.songs
                .iter()
                .map(|s| i64::try_from(s.plays).unwrap_or(i64::MAX))
                .collect(),
            &mut order,
        ),
        "last_played" => by_number(
            lib.songs
                .iter()
                .map(|s| s.last_played.unwrap_or(i64::MIN))
                .collect(),
            &mut order,
        ),
        "rating" => by_number(
            lib.songs.iter().map(|s| i64::from(s.rating)).collect(),
            &mut order,
        ),
        other => {
            return Err(Error::api(
                ErrorCode::BadRequest,
                format!("cannot sort by {other:?}"),
            ));
        }
    }
    Ok(order
        .into_iter()
        .map(|i| number_of("track", &lib.songs[i].id))
        .collect())
}

/// `GET /api/v1/tracks/{id}/download`: a track's file as a download named after its title.
pub async fn download(
    State(state): State<AppState>,
    who: Authenticated,
    Path(track): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response> {
    let lib = state.library(who.user).await?;
    let song = lib.song(&track).ok_or_else(|| not_found("track"))?;
    let mut response =
        crate::stream::send_blob(&state, &song.blob, song.size, &method, &headers).await?;
    crate::stream::attach(&mut response, &song.file_name());
    Ok(response)
}
