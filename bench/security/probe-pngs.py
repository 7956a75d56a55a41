#!/usr/bin/env python3
"""Writes the PNGs the decoder's peak-memory figures use (docs/security.md): a 16 x 16 baseline, a PNG declaring
65,535 x 65,535 pixels (1 MiB of scanline zeros behind it), and the largest accepted size, 16,384 x 16,384, with all its
scanlines present (805 MB once inflated, under 1 MB compressed). Usage: probe-pngs.py FOLDER"""
import os, struct, sys, zlib

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

def png(path, width, height, raw_bytes):
    z = zlib.compressobj(9)
    row = bytes(1 << 20)
    parts, left = [], raw_bytes
    while left > 0:
        n = min(left, len(row))
        parts.append(z.compress(row[:n]))
        left -= n
    parts.append(z.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))

folder = sys.argv[1]
os.makedirs(folder, exist_ok=True)
png(os.path.join(folder, "small-16x16.png"), 16, 16, 16 * (16 * 3 + 1))
png(os.path.join(folder, "declares-65535x65535.png"), 65535, 65535, 1 << 20)
png(os.path.join(folder, "largest-16384x16384.png"), 16384, 16384, 16384 * (16384 * 3 + 1))
