"""What the two Python comparison scanners share: the walk and the SQLite writes.

A scanner here does what a music-library scanner in Python does: walk the folders (skipping hidden
entries), read each audio file's tags, and store one row per file in SQLite in one transaction.
Only the tag reader differs between scan_tinytag.py and scan_mutagen.py.

Two modes:
- default ("tags only"): a plain table of tags, nothing else;
- `--full` ("the same job as skylark scan"): also reads the embedded cover, stores each distinct
  cover once under its hash, and keeps the catalog the way Skylark does, with sort-order indexes
  and an FTS5 index (diacritics removed, prefix indexes) over title, artist, album, album artist
  and genre.
"""

import hashlib
import json
import os
import sqlite3
import sys
import time

EXTENSIONS = {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".m4b", ".mp4", ".wav",
              ".aiff", ".aif", ".wv", ".ape"}

FULL_SCHEMA = """
CREATE TABLE IF NOT EXISTS covers (hash TEXT PRIMARY KEY, bytes INTEGER);
CREATE INDEX IF NOT EXISTS tracks_title ON tracks(lower(title));
CREATE INDEX IF NOT EXISTS tracks_artist ON tracks(lower(artist), lower(album), disc, track);
CREATE INDEX IF NOT EXISTS tracks_album ON tracks(lower(album), disc, track);
CREATE INDEX IF NOT EXISTS tracks_albumartist ON tracks(lower(albumartist), lower(album), disc, track);
CREATE VIRTUAL TABLE IF NOT EXISTS tracks_fts USING fts5(title, artist, album, albumartist, genre,
    content='', tokenize='unicode61 remove_diacritics 2', prefix='1 2 3');
"""


def walk(root):
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            if os.path.splitext(name)[1].lower() in EXTENSIONS:
                yield os.path.join(dirpath, name)


def store_cover(db, cover_dir, data, known):
    digest = hashlib.blake2b(data, digest_size=32).hexdigest()
    if digest not in known:
        known.add(digest)
        path = os.path.join(cover_dir, digest[:2], digest)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
        db.execute("INSERT OR IGNORE INTO covers VALUES (?, ?)", (digest, len(data)))
    return digest


def run(read):
    """Scans argv[1] into the database argv[2] with `read(path, full) -> dict`; prints a summary."""
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    full = "--full" in sys.argv
    root, db_path = args[0], args[1]
    start = time.perf_counter()
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("""CREATE TABLE IF NOT EXISTS tracks (path TEXT PRIMARY KEY, title TEXT, artist TEXT,
                  album TEXT, albumartist TEXT, track INTEGER, disc INTEGER, year TEXT, genre TEXT,
                  duration REAL, samplerate INTEGER, channels INTEGER, bitrate REAL, cover TEXT)""")
    cover_dir = db_path + ".covers"
    known = set()
    if full:
        db.executescript(FULL_SCHEMA)
    files = failed = 0
    with db:
        for path in walk(root):
            files += 1
            try:
                t = read(path, full)
            except Exception:  # a scanner must survive every broken file
                failed += 1
                continue
            cover = store_cover(db, cover_dir, t["cover"], known) if full and t.get("cover") else None
            cur = db.execute("INSERT OR REPLACE INTO tracks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             (path, t.get("title"), t.get("artist"), t.get("album"), t.get("albumartist"),
                              t.get("track"), t.get("disc"), t.get("year"), t.get("genre"),
                              t.get("duration"), t.get("samplerate"), t.get("channels"), t.get("bitrate"),
                              cover))
            if full:
                db.execute("INSERT INTO tracks_fts(rowid, title, artist, album, albumartist, genre) "
                           "VALUES (?,?,?,?,?,?)",
                           (cur.lastrowid, t.get("title"), t.get("artist"), t.get("album"),
                            t.get("albumartist"), t.get("genre")))
    elapsed = time.perf_counter() - start
    json.dump({"files": files, "failed": failed, "seconds": elapsed, "full": full}, sys.stdout)
    print()
