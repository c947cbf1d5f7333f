"""A tinytag-based library scanner, for comparison with `skylark scan`. Usage: scan_tinytag.py DIR DB"""

import sys

from tinytag import TinyTag

import scan_common


def read(path):
    t = TinyTag.get(path)
    return {"title": t.title, "artist": t.artist, "album": t.album, "albumartist": t.albumartist,
            "track": t.track, "disc": t.disc, "year": t.year, "genre": t.genre,
            "duration": t.duration, "samplerate": t.samplerate, "channels": t.channels,
            "bitrate": t.bitrate}


if __name__ == "__main__":
    scan_common.run(sys.argv[1], sys.argv[2], read)
