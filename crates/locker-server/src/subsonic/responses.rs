//! The shapes of Subsonic responses, named and typed as the OpenSubsonic documentation names them
//! ("Responses": `Child`, `AlbumID3`, `ArtistID3`, `playlist`, ...). Fields the spec marks as
//! required are plain; optional ones are skipped when unknown. [`super::envelope`] writes them
//! as JSON or XML.

use serde::Serialize;

/// `Child`: a song.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Child {
    /// The song id.
    pub id: String,
    /// The album id (the song's parent when browsing by tags).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Always false: songs only.
    pub is_dir: bool,
    /// The title.
    pub title: String,
    /// The album.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album: Option<String>,
    /// The track artist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artist: Option<String>,
    /// The track number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track: Option<i64>,
    /// The year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i64>,
    /// The genre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    /// The cover art id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover_art: Option<String>,
    /// The file's size in bytes.
    pub size: u64,
    /// The file's MIME type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The file's usual extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// Length in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    /// Bitrate in kbit/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_rate: Option<i64>,
    /// Bits per sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_depth: Option<i64>,
    /// Sample rate in Hz.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling_rate: Option<i64>,
    /// Channels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_count: Option<i64>,
    /// Always false.
    pub is_video: bool,
    /// The rating, 1 to 5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_rating: Option<u8>,
    /// Plays.
    pub play_count: u64,
    /// The disc number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disc_number: Option<i64>,
    /// When the file came to the locker (ISO 8601).
    pub created: String,
    /// When it was starred (loved), if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starred: Option<String>,
    /// The album id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album_id: Option<String>,
    /// The artist id, when the track artist is also an album artist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artist_id: Option<String>,
    /// Always `music`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Always `song` (OpenSubsonic).
    pub media_type: &'static str,
    /// When it was last played (OpenSubsonic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub played: Option<String>,
    /// The MusicBrainz recording id (OpenSubsonic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub music_brainz_id: Option<String>,
    /// The genres (OpenSubsonic).
    pub genres: Vec<ItemGenre>,
    /// The track artist, when it is also an album artist (only those have ids; OpenSubsonic).
    pub artists: Vec<ArtistRef>,
    /// The track artist as one string (OpenSubsonic).
    pub display_artist: String,
    /// The album artist (OpenSubsonic).
    pub album_artists: Vec<ArtistRef>,
    /// The album artist as one string (OpenSubsonic).
    pub display_album_artist: String,
    /// ReplayGain (OpenSubsonic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_gain: Option<ReplayGain>,
}

/// `ItemGenre`.
#[derive(Debug, Clone, Serialize)]
pub struct ItemGenre {
    /// The genre.
    pub name: String,
}

/// A short `ArtistID3`: id and name.
#[derive(Debug, Clone, Serialize)]
pub struct ArtistRef {
    /// The artist id.
    pub id: String,
    /// The name.
    pub name: String,
}

/// `ReplayGain`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayGain {
    /// Track gain in dB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_gain: Option<f64>,
    /// Album gain in dB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album_gain: Option<f64>,
    /// Track peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_peak: Option<f64>,
    /// Album peak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album_peak: Option<f64>,
}

/// `AlbumID3`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlbumId3 {
    /// The album id.
    pub id: String,
    /// The title.
    pub name: String,
    /// The album artist.
    pub artist: String,
    /// The album artist's id.
    pub artist_id: String,
    /// The cover art id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover_art: Option<String>,
    /// Songs.
    pub song_count: usize,
    /// Length in seconds.
    pub duration: i64,
    /// Plays of its songs.
    pub play_count: u64,
    /// When its first file came to the locker.
    pub created: String,
    /// When it was starred, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starred: Option<String>,
    /// The year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i64>,
    /// The genre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    /// When a song of it was last played (OpenSubsonic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub played: Option<String>,
    /// The genres (OpenSubsonic).
    pub genres: Vec<ItemGenre>,
    /// The album artist (OpenSubsonic).
    pub artists: Vec<ArtistRef>,
    /// The album artist as one string (OpenSubsonic).
    pub display_artist: String,
    /// The sort name (OpenSubsonic).
    pub sort_name: String,
}

/// `AlbumID3WithSongs`.
#[derive(Debug, Clone, Serialize)]
pub struct AlbumWithSongs {
    /// The album.
    #[serde(flatten)]
    pub album: AlbumId3,
    /// Its songs in order.
    pub song: Vec<Child>,
}

/// `ArtistID3`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtistId3 {
    /// The artist id.
    pub id: String,
    /// The name.
    pub name: String,
    /// The cover art id (an album's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover_art: Option<String>,
    /// Albums.
    pub album_count: usize,
    /// When it was starred, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starred: Option<String>,
    /// The sort name (OpenSubsonic).
    pub sort_name: String,
}

/// `ArtistWithAlbumsID3`.
#[derive(Debug, Clone, Serialize)]
pub struct ArtistWithAlbums {
    /// The artist.
    #[serde(flatten)]
    pub artist: ArtistId3,
    /// Its albums.
    pub album: Vec<AlbumId3>,
}

/// `IndexID3`: the artists under one letter.
#[derive(Debug, Clone, Serialize)]
pub struct IndexId3 {
    /// The letter (`#` for names that start with anything else).
    pub name: String,
    /// The artists.
    pub artist: Vec<ArtistId3>,
}

/// `ArtistsID3`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtistsId3 {
    /// Articles ignored when sorting, separated by spaces.
    pub ignored_articles: String,
    /// The artists by letter.
    pub index: Vec<IndexId3>,
}

/// `artist` in `getIndexes`.
#[derive(Debug, Clone, Serialize)]
pub struct IndexArtist {
    /// The artist id.
    pub id: String,
    /// The name.
    pub name: String,
    /// When it was starred, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starred: Option<String>,
}

/// `index` in `getIndexes`.
#[derive(Debug, Clone, Serialize)]
pub struct Index {
    /// The letter.
    pub name: String,
    /// The artists.
    pub artist: Vec<IndexArtist>,
}

/// `indexes`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Indexes {
    /// Articles ignored when sorting.
    pub ignored_articles: String,
    /// When the library last changed, in milliseconds since the Unix epoch.
    pub last_modified: i64,
    /// The artists by letter.
    pub index: Vec<Index>,
}

/// `musicFolder`.
#[derive(Debug, Clone, Serialize)]
pub struct MusicFolder {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
}

/// `musicFolders`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MusicFolders {
    /// The folders.
    pub music_folder: Vec<MusicFolder>,
}

/// `albumList2`.
#[derive(Debug, Clone, Serialize)]
pub struct AlbumList2 {
    /// The albums.
    pub album: Vec<AlbumId3>,
}

/// `randomSongs`.
#[derive(Debug, Clone, Serialize)]
pub struct Songs {
    /// The songs.
    pub song: Vec<Child>,
}

/// Artists, albums and songs: `searchResult3` and `starred2` ([`SearchResult3`]), and
/// `searchResult2` and `starred` ([`SearchResult2`]).
#[derive(Debug, Clone, Serialize)]
pub struct SearchResult<Ar, Al> {
    /// Artists.
    pub artist: Vec<Ar>,
    /// Albums.
    pub album: Vec<Al>,
    /// Songs.
    pub song: Vec<Child>,
}

/// `searchResult3` and `starred2`.
pub type SearchResult3 = SearchResult<ArtistId3, AlbumId3>;

/// `searchResult2` and `starred`: artists as `getIndexes` lists them, albums as directories.
pub type SearchResult2 = SearchResult<IndexArtist, AlbumDir>;

/// `playlist`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Playlist {
    /// The playlist id.
    pub id: String,
    /// The name.
    pub name: String,
    /// The owner: the account.
    pub owner: String,
    /// Always false: a locker's playlists are its account's.
    pub public: bool,
    /// Songs.
    pub song_count: usize,
    /// Length in seconds.
    pub duration: i64,
    /// When the locker first heard of it.
    pub created: String,
    /// When it last changed.
    pub changed: String,
    /// The cover art id (its first song's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover_art: Option<String>,
}

/// `playlistWithSongs`.
#[derive(Debug, Clone, Serialize)]
pub struct PlaylistWithSongs {
    /// The playlist.
    #[serde(flatten)]
    pub playlist: Playlist,
    /// Its songs in order.
    pub entry: Vec<Child>,
}

/// `playlists`.
#[derive(Debug, Clone, Serialize)]
pub struct Playlists {
    /// The playlists.
    pub playlist: Vec<Playlist>,
}

/// `Child` for a directory: an album, as apps that browse by folders see it (`getMusicDirectory`,
/// `getAlbumList`, `search2`, `getStarred`), under its album artist. It also carries what the
/// `Album` shape requires (`name`, `songCount`), which some apps read `getAlbumList` as.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlbumDir {
    /// The album id (the same as in the ID3 views).
    pub id: String,
    /// The album artist's id.
    pub parent: String,
    /// Always true.
    pub is_dir: bool,
    /// The album's title.
    pub title: String,
    /// The album's title.
    pub name: String,
    /// The album's title.
    pub album: String,
    /// The album artist.
    pub artist: String,
    /// The year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i64>,
    /// The genre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    /// The cover art id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover_art: Option<String>,
    /// Songs.
    pub song_count: usize,
    /// Length in seconds.
    pub duration: i64,
    /// Plays of its songs.
    pub play_count: u64,
    /// When its first file came to the locker.
    pub created: String,
    /// When it was starred, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starred: Option<String>,
    /// The album artist's id.
    pub artist_id: String,
    /// Always `album` (OpenSubsonic).
    pub media_type: &'static str,
    /// When a song of it was last played (OpenSubsonic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub played: Option<String>,
}

/// `directory`: an artist's albums or an album's songs (`getMusicDirectory`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory<T> {
    /// The artist's or album's id.
    pub id: String,
    /// An album's artist id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The artist's name or the album's title.
    pub name: String,
    /// When it was starred, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starred: Option<String>,
    /// An album's plays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub play_count: Option<u64>,
    /// What it holds.
    pub child: Vec<T>,
}

/// `albumList`.
#[derive(Debug, Clone, Serialize)]
pub struct AlbumList {
    /// The albums.
    pub album: Vec<AlbumDir>,
}

/// `genre`: its name is the element's text in XML, `value` in JSON.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Genre {
    /// The genre's name.
    pub value: String,
    /// Songs of that genre.
    pub song_count: usize,
    /// Albums with a song of that genre.
    pub album_count: usize,
}

/// `genres`.
#[derive(Debug, Clone, Serialize)]
pub struct Genres {
    /// The genres, by name.
    pub genre: Vec<Genre>,
}

/// `user`: what the signed-in account may do. Every account has the same rights over its own
/// music; none administers the locker through Subsonic.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The account name.
    pub username: String,
    /// Plays are recorded.
    pub scrobbling_enabled: bool,
    /// Administers users: no.
    pub admin_role: bool,
    /// Changes its own settings through Subsonic: no.
    pub settings_role: bool,
    /// Downloads files.
    pub download_role: bool,
    /// Uploads files (through Skylark's apps, not Subsonic's).
    pub upload_role: bool,
    /// Makes playlists.
    pub playlist_role: bool,
    /// Reads cover art.
    pub cover_art_role: bool,
    /// Comments: no.
    pub comment_role: bool,
    /// Podcasts: no.
    pub podcast_role: bool,
    /// Streams.
    pub stream_role: bool,
    /// Jukebox: no.
    pub jukebox_role: bool,
    /// Shares: no.
    pub share_role: bool,
    /// Video conversion: no.
    pub video_conversion_role: bool,
    /// The music folders it sees.
    pub folder: Vec<i64>,
}

/// `scanStatus`.
#[derive(Debug, Clone, Serialize)]
pub struct ScanStatus {
    /// Whether a scan runs: never, the locker indexes each upload as it arrives.
    pub scanning: bool,
    /// The songs in the library.
    pub count: usize,
}

/// What `playQueue` and `playQueueByIndex` share: a saved play queue but for the song playing.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedQueue {
    /// How far into the song playing, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// The account.
    pub username: String,
    /// When it was saved.
    pub changed: String,
    /// The app that saved it.
    pub changed_by: String,
    /// The songs, in order.
    pub entry: Vec<Child>,
}

/// `playQueue`.
#[derive(Debug, Clone, Serialize)]
pub struct PlayQueue {
    /// The song playing, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// The rest.
    #[serde(flatten)]
    pub queue: SavedQueue,
}

/// `playQueueByIndex` (the `indexBasedQueue` extension).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayQueueByIndex {
    /// The place of the song playing, from 0, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_index: Option<usize>,
    /// The rest.
    #[serde(flatten)]
    pub queue: SavedQueue,
}

/// `lyricsList` (the `songLyrics` extension).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LyricsList {
    /// The song's lyrics, one entry per language (the locker knows one at most).
    pub structured_lyrics: Vec<StructuredLyrics>,
}

/// `structuredLyrics`: a song's lyrics, as lines.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StructuredLyrics {
    /// The artist to show with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_artist: Option<String>,
    /// The title to show with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_title: Option<String>,
    /// Their language (ISO 639), `xxx` when not known.
    pub lang: &'static str,
    /// Milliseconds to shift the lines' times by.
    pub offset: i64,
    /// Whether every line has its time.
    pub synced: bool,
    /// The lines.
    pub line: Vec<LyricsLine>,
}

/// `line`: one line of lyrics.
#[derive(Debug, Clone, Serialize)]
pub struct LyricsLine {
    /// When it is sung, in milliseconds, for synced lyrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    /// The words.
    pub value: String,
}

/// `lyrics` (`getLyrics`): a song's lyrics as one text, or nothing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OldLyrics {
    /// The song's artist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artist: Option<String>,
    /// The song's title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The lyrics; empty when there are none (typed clients expect the field).
    pub value: String,
}

/// `bookmarks`.
#[derive(Debug, Clone, Serialize)]
pub struct Bookmarks {
    /// The bookmarks.
    pub bookmark: Vec<Bookmark>,
}

/// `Bookmark`: a place in a song to come back to.
#[derive(Debug, Clone, Serialize)]
pub struct Bookmark {
    /// How far into the song, in milliseconds.
    pub position: i64,
    /// The account.
    pub username: String,
    /// The listener's note, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When it was made.
    pub created: String,
    /// When it last changed.
    pub changed: String,
    /// The song.
    pub entry: Child,
}

/// `NowPlayingEntry`: a song one of the account's players is playing.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NowPlayingEntry {
    /// The song.
    #[serde(flatten)]
    pub song: Child,
    /// The account.
    pub username: String,
    /// Minutes since the player started it.
    pub minutes_ago: i64,
    /// The player.
    pub player_id: u32,
    /// The app's name, if it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub player_name: Option<String>,
}

/// `nowPlaying`.
#[derive(Debug, Clone, Serialize)]
pub struct NowPlaying {
    /// The players' songs.
    pub entry: Vec<NowPlayingEntry>,
}

/// `ArtistInfo` (with `Artist` entries) and `ArtistInfo2` (with `ArtistID3` ones): only the
/// similar artists, since the locker has no biographies or pictures of its own.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtistInfo<A> {
    /// Similar artists in the account's library.
    pub similar_artist: Vec<A>,
}

/// `AlbumInfo`: nothing the locker knows beyond the tags (no notes, no pictures).
#[derive(Debug, Clone, Serialize)]
pub struct AlbumInfo {}

/// `license`.
#[derive(Debug, Clone, Serialize)]
pub struct License {
    /// Always true.
    pub valid: bool,
}

/// `OpenSubsonicExtension`.
#[derive(Debug, Clone, Serialize)]
pub struct Extension {
    /// The extension's name.
    pub name: &'static str,
    /// The versions supported.
    pub versions: Vec<u32>,
}

/// `tokenInfo` (the `apiKeyAuthentication` extension).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    /// The account the key belongs to.
    pub username: String,
}

/// Formats milliseconds since the Unix epoch as ISO 8601 in UTC (`2024-03-10T02:19:35.784Z`).
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm, proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_710_037_175_784), "2024-03-10T02:19:35.784Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999Z");
    }
}
