"""A mutagen-based library scanner, for comparison with `skylark scan`. Usage: scan_mutagen.py DIR DB"""

import sys

import mutagen

import scan_common


def first(tags, *keys):
    if not tags:
        return None
    for key in keys:
        try:
            value = tags[key]
        except (KeyError, ValueError):
            continue
        if isinstance(value, list):
            value = value[0] if value else None
        return str(value) if value is not None else None
    return None


def read(path):
    f = mutagen.File(path, easy=True)
    if f is None:
        raise ValueError("not audio")
    info = f.info
    tags = f.tags
    return {"title": first(tags, "title"), "artist": first(tags, "artist"),
            "album": first(tags, "album"), "albumartist": first(tags, "albumartist"),
            "track": first(tags, "tracknumber"), "disc": first(tags, "discnumber"),
            "year": first(tags, "date"), "genre": first(tags, "genre"),
            "duration": getattr(info, "length", None), "samplerate": getattr(info, "sample_rate", None),
            "channels": getattr(info, "channels", None), "bitrate": getattr(info, "bitrate", None)}


if __name__ == "__main__":
    scan_common.run(sys.argv[1], sys.argv[2], read)
