#!/usr/bin/env python3
"""Draws Skylark's app icon (a lark's wing over a dusk sky) as RGBA PNGs in icons/.

Pure Python so it runs anywhere; rerun it after changing the drawing.
"""
import math
import struct
import zlib
from pathlib import Path


def png(size: int) -> bytes:
    rows = []
    r_corner = size * 0.22
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            # Rounded square mask with 2x2 supersampling for soft edges.
            cover = 0.0
            for sy in (0.25, 0.75):
                for sx in (0.25, 0.75):
                    px, py = x + sx, y + sy
                    dx = max(r_corner - px, 0, px - (size - r_corner))
                    dy = max(r_corner - py, 0, py - (size - r_corner))
                    if dx * dx + dy * dy <= r_corner * r_corner:
                        cover += 0.25
            t = y / size
            # Dusk gradient: deep blue at the top to warm orange at the bottom.
            top, bottom = (38, 52, 120), (247, 146, 86)
            r, g, b = (int(top[i] + (bottom[i] - top[i]) * t ** 1.4) for i in range(3))
            # A wing: the area between two arcs.
            cx, cy = size * 0.5, size * 1.05
            d = math.hypot(x + 0.5 - cx, y + 0.5 - cy)
            d2 = math.hypot(x + 0.5 - cx - size * 0.12, y + 0.5 - cy + size * 0.05)
            if d < size * 0.78 and d2 > size * 0.74 and y < size * 0.78:
                r, g, b = 255, 250, 240
            # The sun.
            if math.hypot(x + 0.5 - size * 0.7, y + 0.5 - size * 0.3) < size * 0.09:
                r, g, b = 255, 214, 120
            row += bytes((r, g, b, int(255 * cover)))
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


out = Path(__file__).resolve().parent.parent / "icons"
out.mkdir(exist_ok=True)
for name, size in (("32x32.png", 32), ("128x128.png", 128), ("icon.png", 512)):
    (out / name).write_bytes(png(size))
