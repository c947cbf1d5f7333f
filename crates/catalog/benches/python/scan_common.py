"""What the two Python comparison scanners share: the walk and the SQLite writes.

A scanner here does what a small music-library scanner in Python does: walk the folders (skipping
hidden entries), read each audio file's tags, and store one row per file in SQLite in a single
transaction. Only the tag reader differs between scan_tinytag.py and scan_mutagen.py.
"""

import json
import os
import sqlite3
import sys
import time

EXTENSIONS = {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".m4b", ".mp4", ".wav",
              ".aiff", ".aif", ".wv", ".ape"}


def walk(root):
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            if os.path.splitext(name)[1].lower() in EXTENSIONS:
                yield os.path.join(dirpath, name)


def run(root, db_path, read):
    """Scans `root` with `read(path) -> dict` and prints a JSON summary."""
    start = time.perf_counter()
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("""CREATE TABLE IF NOT EXISTS tracks (path TEXT PRIMARY KEY, title TEXT, artist TEXT,
                  album TEXT, albumartist TEXT, track INTEGER, disc INTEGER, year TEXT, genre TEXT,
                  duration REAL, samplerate INTEGER, channels INTEGER, bitrate REAL)""")
    files = failed = 0
    with db:
        for path in walk(root):
            files += 1
            try:
                t = read(path)
            except Exception:  # a scanner must survive every broken file
                failed += 1
                continue
            db.execute("INSERT OR REPLACE INTO tracks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (path, t.get("title"), t.get("artist"), t.get("album"), t.get("albumartist"),
                        t.get("track"), t.get("disc"), t.get("year"), t.get("genre"),
                        t.get("duration"), t.get("samplerate"), t.get("channels"), t.get("bitrate")))
    elapsed = time.perf_counter() - start
    json.dump({"files": files, "failed": failed, "seconds": elapsed}, sys.stdout)
    print()
