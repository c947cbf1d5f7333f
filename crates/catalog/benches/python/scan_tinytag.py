"""A tinytag-based library scanner, for comparison with `skylark scan`.

Usage: scan_tinytag.py DIR DB [--full]   (see scan_common.py for what --full adds)
"""

from tinytag import TinyTag

import scan_common


def read(path, full):
    t = TinyTag.get(path, image=full)
    cover = None
    if full:
        image = t.images.front_cover or t.images.any
        cover = image.data if image else None
    return {"title": t.title, "artist": t.artist, "album": t.album, "albumartist": t.albumartist,
            "track": t.track, "disc": t.disc, "year": t.year, "genre": t.genre,
            "duration": t.duration, "samplerate": t.samplerate, "channels": t.channels,
            "bitrate": t.bitrate, "cover": cover}


if __name__ == "__main__":
    scan_common.run(read)
