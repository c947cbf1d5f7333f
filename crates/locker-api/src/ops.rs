//! Ops: the changes devices make to an account's catalog, and the change feed they pull.
//!
//! Every change is an op with an id the client chooses (a replay of the same id is a no-op) and a
//! hybrid logical clock stamp ([`Hlc`]). The server applies each op once, gives it the next
//! sequence number of the account's change feed, and keeps, for every field, the value with the
//! greatest stamp (last writer wins per field). Playlist entries have their own ids and order keys
//! (fractional indexing), so concurrent inserts and moves merge without losing an entry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Ops per `POST /api/v1/ops`, at most; a longer batch is refused with `bad_request`.
pub const MAX_OPS_PER_REQUEST: usize = 1000;
/// Bytes of one `POST /api/v1/ops` body, at most; a larger body is refused with
/// `payload_too_large`. Clients split a push by size as well as by count: a thousand ops of a
/// library with long titles can be more.
pub const MAX_OPS_REQUEST_BYTES: usize = 2 * 1024 * 1024;
/// Bytes of a track's `lyrics` field (the text of an LRC file, as JSON), at most; every other
/// field is at most 4 KiB.
pub const MAX_LYRICS_FIELD_BYTES: usize = 64 * 1024;
/// Feed entries one `GET /api/v1/changes` returns, at most; a larger `limit` is lowered to it.
pub const MAX_FEED_PAGE: u32 = 5000;

/// A hybrid logical clock stamp: wall-clock milliseconds, a counter for events in the same
/// millisecond, and the id of the device that made it. Stamps order totally (wall, counter,
/// device), so every device resolves concurrent writes the same way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch.
    pub wall_ms: i64,
    /// Orders events within one millisecond.
    pub counter: u32,
    /// The device that made the stamp.
    pub device: String,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    /// Chosen by the client, unique per account; replaying an op with the same id does nothing.
    pub id: String,
    /// When the change was made.
    pub hlc: Hlc,
    /// What changed.
    #[serde(flatten)]
    pub change: Change,
}

/// What an op changes. Tracks, playlists and playlist entries are named by ids the clients make
/// (and share across devices); they are scoped to the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// Creates a track or updates some of its fields (title, artist, album, ...). `blob`, when
    /// given, is the BLAKE3 hash of the account's file holding its audio.
    TrackSet {
        /// Track id.
        track: String,
        /// The blob with the track's file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        blob: Option<String>,
        /// Field values; each field is its own last-writer-wins register.
        fields: BTreeMap<String, serde_json::Value>,
    },
    /// Deletes a track.
    TrackDelete {
        /// Track id.
        track: String,
    },
    /// Sets a track's rating, 0 to 100 (0 clears it).
    Rating {
        /// Track id.
        track: String,
        /// The rating.
        rating: u8,
    },
    /// Records a play. Plays are a set: every play counts once, however the ops interleave.
    Play {
        /// Track id.
        track: String,
        /// When it was played, in milliseconds since the Unix epoch.
        at: i64,
    },
    /// Creates a playlist or renames it.
    PlaylistSet {
        /// Playlist id.
        playlist: String,
        /// Its name.
        name: String,
    },
    /// Deletes a playlist.
    PlaylistDelete {
        /// Playlist id.
        playlist: String,
    },
    /// Puts an entry in a playlist at an order key, or moves it there.
    PlaylistItemSet {
        /// Playlist id.
        playlist: String,
        /// Entry id (a track may appear several times, each entry with its own id).
        item: String,
        /// The entry's track.
        track: String,
        /// Where the entry sorts.
        order_key: String,
    },
    /// Removes an entry from a playlist.
    PlaylistItemRemove {
        /// Playlist id.
        playlist: String,
        /// Entry id.
        item: String,
    },
    /// Marks an album or an artist as loved, or no longer loved. (A track's love is its
    /// `loved` field, set with [`Change::TrackSet`].) Each target is its own last-writer-wins
    /// register.
    Love {
        /// What is loved.
        target: LoveTarget,
        /// Whether it is.
        loved: bool,
    },
}

/// An album or an artist, named the way every device can name it: by its tags. Names compare
/// without regard to case, so "Sigur Rós" and "sigur rós" are one artist.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LoveTarget {
    /// An album: its album artist (the artist when the tracks have none) and its title, each
    /// empty when the tracks have none.
    Album {
        /// The album artist.
        album_artist: String,
        /// The album title.
        album: String,
    },
    /// An album artist.
    Artist {
        /// The name.
        artist: String,
    },
}

/// `POST /api/v1/ops`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpsRequest {
    /// Ops in the order they were made.
    pub ops: Vec<Op>,
}

/// How the server took one op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    /// The op's id.
    pub id: String,
    /// Its place in the change feed.
    pub seq: i64,
    /// False when the op had been received before (nothing was applied again).
    pub applied: bool,
}

/// The answer to `POST /api/v1/ops`, one result per op, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpsResponse {
    /// Results.
    pub results: Vec<OpResult>,
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedEntry {
    /// Its sequence number; pull again with `since` set to the last one seen.
    pub seq: i64,
    /// The op.
    pub op: Op,
}

/// `GET /api/v1/changes?since=SEQ&limit=N`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesResponse {
    /// Ops after `since`, in order.
    pub changes: Vec<FeedEntry>,
    /// The `since` for the next pull.
    pub next: i64,
    /// Whether more changes are waiting.
    pub more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_order_by_wall_counter_device() {
        let s = |w, c, d: &str| Hlc {
            wall_ms: w,
            counter: c,
            device: d.to_owned(),
        };
        assert!(s(1, 9, "z") < s(2, 0, "a"));
        assert!(s(2, 0, "z") < s(2, 1, "a"));
        assert!(s(2, 1, "a") < s(2, 1, "b"));
    }

    #[test]
    fn ops_have_a_flat_json_shape() {
        let op: Op = serde_json::from_str(
            r#"{"id":"o1","hlc":{"wall_ms":5,"counter":0,"device":"d"},"type":"playlist_set","playlist":"p1","name":"Road trip"}"#,
        )
        .unwrap();
        assert_eq!(
            op.change,
            Change::PlaylistSet {
                playlist: "p1".to_owned(),
                name: "Road trip".to_owned()
            }
        );
        let back = serde_json::to_value(&op).unwrap();
        assert_eq!(back["type"], "playlist_set");
    }

    #[test]
    fn love_names_its_target_by_kind() {
        let op: Op = serde_json::from_str(
            r#"{"id":"o2","hlc":{"wall_ms":5,"counter":0,"device":"d"},"type":"love","target":{"kind":"album","album_artist":"Sigur Rós","album":"Takk..."},"loved":true}"#,
        )
        .unwrap();
        assert_eq!(
            op.change,
            Change::Love {
                target: LoveTarget::Album {
                    album_artist: "Sigur Rós".to_owned(),
                    album: "Takk...".to_owned()
                },
                loved: true
            }
        );
        let back = serde_json::to_value(&op).unwrap();
        assert_eq!(back["target"]["kind"], "album");
    }
}
