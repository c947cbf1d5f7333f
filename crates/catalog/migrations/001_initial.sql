-- Catalog schema, version 1. See DESIGN.md "Catalog model".
-- Full-text tables: contentless (the catalog writes their rows itself), diacritics removed so
-- "bjork" finds "Björk", and prefix indexes for the first letters people type.

CREATE TABLE roots (
    id INTEGER PRIMARY KEY,
    path BLOB NOT NULL UNIQUE,
    added_at INTEGER NOT NULL,
    last_scan_at INTEGER,
    reachable INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE artists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    sort_name TEXT NOT NULL,
    match_key TEXT NOT NULL UNIQUE
) STRICT;
CREATE INDEX artists_by_sort ON artists(sort_name, id);

CREATE TABLE albums (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    sort_title TEXT NOT NULL,
    artist_id INTEGER NOT NULL REFERENCES artists(id),
    match_key TEXT NOT NULL UNIQUE,
    compilation INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX albums_by_sort ON albums(sort_title, id);
CREATE INDEX albums_by_artist ON albums(artist_id);

CREATE TABLE genres (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    match_key TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE covers (
    hash TEXT PRIMARY KEY,
    mime TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL
) STRICT;

CREATE TABLE tracks (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    audio_id TEXT,
    title TEXT NOT NULL,
    sort_title TEXT NOT NULL,
    artist TEXT NOT NULL,
    sort_artist TEXT NOT NULL,
    album_id INTEGER NOT NULL REFERENCES albums(id),
    sort_album TEXT NOT NULL,
    sort_album_artist TEXT NOT NULL,
    track_no INTEGER NOT NULL DEFAULT 0,
    track_total INTEGER NOT NULL DEFAULT 0,
    disc_no INTEGER NOT NULL DEFAULT 0,
    disc_total INTEGER NOT NULL DEFAULT 0,
    date TEXT,
    year INTEGER NOT NULL DEFAULT 0,
    genre TEXT NOT NULL DEFAULT '',
    sort_genre TEXT NOT NULL DEFAULT '',
    composer TEXT,
    duration_ms INTEGER NOT NULL,
    sample_rate INTEGER,
    channels INTEGER,
    bit_depth INTEGER,
    bitrate_kbps INTEGER,
    codec TEXT NOT NULL,
    rg_track_gain REAL,
    rg_track_peak REAL,
    rg_album_gain REAL,
    rg_album_peak REAL,
    mb_recording_id TEXT,
    mb_track_id TEXT,
    mb_release_id TEXT,
    mb_release_group_id TEXT,
    mb_artist_id TEXT,
    mb_release_artist_id TEXT,
    cover_hash TEXT REFERENCES covers(hash),
    play_count INTEGER NOT NULL DEFAULT 0,
    last_played_at INTEGER NOT NULL DEFAULT 0,
    rating INTEGER NOT NULL DEFAULT 0,
    added_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
-- Indexes for the sorts people use most; the others (year, genre, duration, plays, rating) sort
-- with a top-N pass, which keeps a scan's inserts cheaper.
CREATE INDEX tracks_by_title ON tracks(sort_title, id);
CREATE INDEX tracks_by_artist ON tracks(sort_artist, sort_album, album_id, disc_no, track_no, id);
CREATE INDEX tracks_by_album ON tracks(sort_album, album_id, disc_no, track_no, id);
CREATE INDEX tracks_by_album_artist ON tracks(sort_album_artist, sort_album, album_id, disc_no, track_no, id);
CREATE INDEX tracks_by_album_id ON tracks(album_id, disc_no, track_no);
CREATE INDEX tracks_by_added ON tracks(added_at, id);

CREATE TABLE track_artists (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    artist_id INTEGER NOT NULL REFERENCES artists(id),
    PRIMARY KEY (track_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX track_artists_by_artist ON track_artists(artist_id);

CREATE TABLE track_genres (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    genre_id INTEGER NOT NULL REFERENCES genres(id),
    PRIMARY KEY (track_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX track_genres_by_genre ON track_genres(genre_id);

CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
    path BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    file_hash TEXT
) STRICT;
CREATE INDEX files_by_track ON files(track_id);
CREATE INDEX files_by_root ON files(root_id);

CREATE TABLE scan_failures (
    path BLOB PRIMARY KEY,
    root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    reason TEXT NOT NULL
) STRICT;

CREATE TABLE playlists (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE playlist_items (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    playlist_id INTEGER NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    order_key TEXT NOT NULL,
    added_at INTEGER NOT NULL
) STRICT;
CREATE INDEX playlist_items_in_order ON playlist_items(playlist_id, order_key, id);
CREATE INDEX playlist_items_by_track ON playlist_items(track_id);

CREATE TABLE plays (
    id INTEGER PRIMARY KEY,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    played_at INTEGER NOT NULL
) STRICT;
CREATE INDEX plays_by_track ON plays(track_id);

CREATE VIRTUAL TABLE tracks_fts USING fts5(title, artist, album, album_artist, genre, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='1 2 3');
CREATE VIRTUAL TABLE albums_fts USING fts5(title, artist, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='1 2 3');
CREATE VIRTUAL TABLE artists_fts USING fts5(name, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='1 2 3');
