"""A mutagen-based library scanner, for comparison with `skylark scan`.

Usage: scan_mutagen.py DIR DB [--full]   (see scan_common.py for what --full adds)
"""

import base64

import mutagen
from mutagen.flac import Picture

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


def cover_of(path):
    """The first embedded picture, found the way each format stores it."""
    f = mutagen.File(path)
    if f is None:
        return None
    if getattr(f, "pictures", None):  # FLAC
        return f.pictures[0].data
    tags = f.tags
    if tags is None:
        return None
    if hasattr(tags, "getall"):  # ID3
        pics = tags.getall("APIC")
        return pics[0].data if pics else None
    if "covr" in tags:  # MP4
        return bytes(tags["covr"][0])
    blocks = tags.get("metadata_block_picture") if hasattr(tags, "get") else None
    if blocks:  # Vorbis comments (Ogg Vorbis, Opus)
        return Picture(base64.b64decode(blocks[0])).data
    return None


def read(path, full):
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
            "channels": getattr(info, "channels", None), "bitrate": getattr(info, "bitrate", None),
            "cover": cover_of(path) if full else None}


if __name__ == "__main__":
    scan_common.run(read)
