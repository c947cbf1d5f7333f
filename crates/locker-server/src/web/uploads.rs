//! Files uploaded from a browser join the library: the locker reads their tags (with
//! `skylark-tags`, the reader the desktop catalog uses) and publishes each as a track with the
//! same fields a desktop publishes, stamped by the `web` device, so the new track reaches every
//! device through the change feed.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, params};
use serde_json::Value;
use skylark_locker_api::ErrorCode;
use skylark_locker_api::ops::{Change, Op};
use skylark_tags::{Codec, FileInfo, ReadOptions};

use crate::UnixMillis;
use crate::accounts::UserId;
use crate::catalog::{self, random_id, stamp_after};
use crate::error::{DbContext, Error, Result};
use crate::web::commands::DEVICE;

/// What a browser's upload becomes in the library: the track's fields.
#[derive(Debug)]
pub struct UploadedTrack {
    fields: BTreeMap<String, Value>,
}

/// Reads the tags and audio id of the complete upload at `path`, named `filename` by the
/// browser. A file that is no audio Skylark reads is refused.
pub async fn read_track(path: &Path, filename: &str) -> Result<UploadedTrack> {
    let file = path.to_owned();
    let name = filename.to_owned();
    let read = tokio::task::spawn_blocking(move || {
        let info = skylark_tags::read_path(&file, ReadOptions { cover: false })?;
        // WavPack and Monkey's Audio cannot be demuxed for an audio id; they are matched by
        // their file hash alone, as on the desktop.
        let audio_id = skylark_tags::audio_id_path(&file).ok();
        Ok::<_, skylark_tags::Error>((info, audio_id))
    })
    .await
    .map_err(|e| Error::api(ErrorCode::Internal, format!("a worker failed: {e}")))?;
    let shown = if name.is_empty() { "the file" } else { &name };
    let (info, audio_id) = read.map_err(|e| {
        Error::api(
            ErrorCode::BadRequest,
            format!(
                "{shown} is not audio Skylark can play ({}); nothing was kept",
                e.reason()
            ),
        )
    })?;
    if info.properties.codec == Codec::Unknown {
        return Err(Error::api(
            ErrorCode::BadRequest,
            format!("{shown} holds audio in a format Skylark cannot play; nothing was kept"),
        ));
    }
    Ok(UploadedTrack {
        fields: fields(&info, audio_id.map(|id| id.to_hex()), filename),
    })
}

/// The title of a file without one: its name without the extension.
fn title_from_name(filename: &str) -> Option<String> {
    let stem = Path::new(filename).file_stem()?.to_str()?.trim();
    (!stem.is_empty()).then(|| stem.to_owned())
}

/// The fields a desktop publishes for a track (see `published_fields` in the desktop catalog's
/// `feed.rs`), from what the tags say.
fn fields(info: &FileInfo, audio_id: Option<String>, filename: &str) -> BTreeMap<String, Value> {
    let tags = &info.tags;
    let props = &info.properties;
    let mut f: BTreeMap<String, Value> = BTreeMap::new();
    let mut text = |name: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            f.insert(name.to_owned(), Value::from(v));
        }
    };
    text(
        "title",
        tags.title.clone().or_else(|| title_from_name(filename)),
    );
    text(
        "artist",
        (!tags.artists.is_empty()).then(|| tags.artists.join(", ")),
    );
    text("album", tags.album.clone());
    text("album_artist", tags.album_artist.clone());
    text("date", tags.date.clone());
    text(
        "genre",
        (!tags.genres.is_empty()).then(|| tags.genres.join(", ")),
    );
    text(
        "composer",
        (!tags.composers.is_empty()).then(|| tags.composers.join(", ")),
    );
    text("codec", Some(props.codec.as_str().to_owned()));
    text("audio_id", audio_id);
    let mb = &tags.musicbrainz;
    text("mb_recording_id", mb.recording_id.clone());
    text("mb_track_id", mb.track_id.clone());
    text("mb_release_id", mb.release_id.clone());
    text("mb_release_group_id", mb.release_group_id.clone());
    text("mb_artist_id", mb.artist_id.clone());
    text("mb_release_artist_id", mb.release_artist_id.clone());
    let duration_ms = i64::try_from(props.duration.as_millis()).unwrap_or(i64::MAX);
    let numbers = [
        ("track_no", tags.track_no.map(i64::from)),
        ("track_total", tags.track_total.map(i64::from)),
        ("disc_no", tags.disc_no.map(i64::from)),
        ("disc_total", tags.disc_total.map(i64::from)),
        ("year", tags.year.map(i64::from)),
        ("duration_ms", Some(duration_ms)),
        ("sample_rate", props.sample_rate.map(i64::from)),
        ("channels", props.channels.map(i64::from)),
        ("bit_depth", props.bit_depth.map(i64::from)),
        ("bitrate_kbps", props.bitrate_kbps.map(i64::from)),
    ];
    for (name, value) in numbers {
        if let Some(v) = value.filter(|&v| v != 0 || name == "duration_ms") {
            f.insert(name.to_owned(), Value::from(v));
        }
    }
    let rg = &tags.replay_gain;
    for (name, value) in [
        ("rg_track_gain", rg.track_gain_db),
        ("rg_track_peak", rg.track_peak),
        ("rg_album_gain", rg.album_gain_db),
        ("rg_album_peak", rg.album_peak),
    ] {
        if let Some(v) = value.filter(|v| v.is_finite()) {
            f.insert(name.to_owned(), Value::from(f64::from(v)));
        }
    }
    f.insert("artists".to_owned(), Value::from(tags.artists.clone()));
    f.insert("genres".to_owned(), Value::from(tags.genres.clone()));
    f.insert("compilation".to_owned(), Value::from(tags.compilation));
    f.insert("loved".to_owned(), Value::from(false));
    f
}

/// Adds the uploaded `blob` to `user`'s library as a new track, unless one of the account's
/// tracks already has that file (the same file uploaded twice is one track).
pub fn publish(
    conn: &Connection,
    user: UserId,
    blob: &str,
    mut track: UploadedTrack,
    cover: Option<&str>,
    now: UnixMillis,
) -> Result<()> {
    let exists: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM tracks WHERE user_id = ?1 AND blob = ?2
                 AND (deleted_hlc IS NULL OR deleted_hlc < blob_hlc))",
            params![user.0, blob],
            |r| r.get(0),
        )
        .ctx("looking for the uploaded file's track")?;
    if exists {
        return Ok(());
    }
    if let Some(cover) = cover {
        track
            .fields
            .insert("cover_hash".to_owned(), Value::from(cover));
    }
    let op = Op {
        id: random_id("web-")?,
        hlc: stamp_after(DEVICE, now, []),
        change: Change::TrackSet {
            track: random_id("t-")?,
            blob: Some(blob.to_owned()),
            fields: track.fields,
        },
    };
    catalog::apply(conn, user, &[op], now).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_fall_back_to_the_file_name() {
        assert_eq!(title_from_name("03 Song.flac").as_deref(), Some("03 Song"));
        assert_eq!(title_from_name("Noext").as_deref(), Some("Noext"));
        assert_eq!(title_from_name(""), None);
    }
}
