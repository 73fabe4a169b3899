#!/usr/bin/env python3
"""Colour statistics of a PNG screenshot, in pure Python (stdlib only: no PIL here).

Decodes 8-bit, non-interlaced greyscale/RGB/RGBA PNGs (what Chromium writes), undoing all five
row filters, then counts colours. A screenshot is "blank" when almost every pixel has the most
common colour: fewer than `threshold` (default 1%) of pixels differ from it.

    python3 pngstats.py shot.png [--threshold 0.01]   ->  one JSON object on stdout
    python3 pngstats.py --self-test                   ->  checks the decoder, prints "ok"

Importable too: `stats(path)` returns the same dictionary.
"""
import json
import struct
import sys
import zlib
from collections import Counter

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Bytes per pixel for the 8-bit colour types we accept: greyscale, RGB, grey+alpha, RGBA.
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


class PNGError(Exception):
    pass


def _swar_masks(n):
    """Masks for adding n bytes packed in one big integer, byte-wise modulo 256 (no carries)."""
    return int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")


def _add_bytes(x, y, low, high):
    # Add the low 7 bits of every byte (cannot carry into the next byte), then fix the top bit.
    return ((x & low) + (y & low)) ^ ((x ^ y) & high)


def _unfilter_sub(row, bpp, masks):
    # Prefix sum of bytes at a stride of `bpp`, done with log2(width) whole-row additions rather than
    # a per-byte Python loop: Sub and Up rows are the common case and this keeps a decode fast.
    n = len(row)
    low, high = masks
    value = int.from_bytes(row, "big")
    full = (1 << (8 * n)) - 1
    shift = bpp
    while shift < n:
        value = _add_bytes(value, (value >> (8 * shift)) & full, low, high)
        shift *= 2
    return bytearray(value.to_bytes(n, "big"))


def _unfilter_up(row, prior, masks):
    low, high = masks
    value = _add_bytes(int.from_bytes(row, "big"), int.from_bytes(prior, "big"), low, high)
    return bytearray(value.to_bytes(len(row), "big"))


def _unfilter_average(row, prior, bpp):
    out = bytearray(row)
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        out[i] = (out[i] + ((left + prior[i]) >> 1)) & 0xFF
    return out


def _unfilter_paeth(row, prior, bpp):
    out = bytearray(row)
    for i in range(bpp):  # no left or upper-left neighbour: the predictor is the byte above
        out[i] = (out[i] + prior[i]) & 0xFF
    for i in range(bpp, len(out)):
        a, b, c = out[i - bpp], prior[i], prior[i - bpp]
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        if pa <= pb and pa <= pc:
            pred = a
        elif pb <= pc:
            pred = b
        else:
            pred = c
        out[i] = (out[i] + pred) & 0xFF
    return out


def decode(data):
    """(width, height, channels, pixel bytes row after row) of PNG `data`."""
    if data[:8] != SIGNATURE:
        raise PNGError("not a PNG file")
    pos, header, idat = 8, None, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise PNGError("no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in CHANNELS:
        raise PNGError(f"unsupported PNG: bit depth {depth}, colour type {colour} (want 8-bit grey/RGB/RGBA)")
    if interlace:
        raise PNGError("interlaced PNGs are not supported")
    bpp = CHANNELS[colour]
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    if len(raw) < height * (stride + 1):
        raise PNGError("truncated image data")
    masks = _swar_masks(stride)
    prior = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], raw[start + 1:start + 1 + stride]
        if kind == 0:
            out = bytearray(row)
        elif kind == 1:
            out = _unfilter_sub(row, bpp, masks)
        elif kind == 2:
            out = _unfilter_up(row, prior, masks)
        elif kind == 3:
            out = _unfilter_average(row, prior, bpp)
        elif kind == 4:
            out = _unfilter_paeth(row, prior, bpp)
        else:
            raise PNGError(f"bad filter type {kind} on row {y}")
        rows.append(out)
        prior = out
    return width, height, bpp, b"".join(rows)


def stats(path, threshold=0.01):
    with open(path, "rb") as f:
        width, height, bpp, pixels = decode(f.read())
    # One key per pixel: its bytes (alpha included, so a transparent pixel is its own colour).
    counts = Counter(pixels[i:i + bpp] for i in range(0, len(pixels), bpp))
    total = width * height
    dominant, dominant_count = counts.most_common(1)[0] if total else (b"", 0)
    other = (total - dominant_count) / total if total else 0.0
    return {
        "width": width,
        "height": height,
        "distinctColours": len(counts),
        "dominantColour": "#" + dominant.hex(),
        "otherFraction": other,
        "blank": other < threshold,
    }


def _encode(width, height, bpp, pixels, filters):
    """A PNG of `pixels` whose rows use `filters` in turn, written straight from the spec's formulas."""
    stride, out, prior = width * bpp, bytearray(), bytes(width * bpp)
    for y in range(height):
        row, kind = pixels[y * stride:(y + 1) * stride], filters[y % len(filters)]
        out.append(kind)
        for i in range(stride):
            a, b = (row[i - bpp] if i >= bpp else 0), prior[i]
            c = prior[i - bpp] if i >= bpp else 0
            p = a + b - c
            paeth = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else (b if abs(p - b) <= abs(p - c) else c)
            out.append((row[i] - (0, a, b, (a + b) // 2, paeth)[kind]) & 0xFF)
        prior = row

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    colour = {bpp: ct for ct, bpp in CHANNELS.items()}[bpp]
    return (SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(out))) + chunk(b"IEND", b""))


def self_test():
    """Round-trips pseudo-random images through every filter type, alone and mixed, for every colour type."""
    import random
    rng = random.Random(1)
    for bpp in sorted(CHANNELS.values()):
        for width, height in ((1, 1), (7, 5), (33, 9)):
            pixels = bytes(rng.randrange(256) for _ in range(width * height * bpp))
            for filters in ([0], [1], [2], [3], [4], [0, 1, 2, 3, 4], [4, 3, 2, 1, 0]):
                decoded = decode(_encode(width, height, bpp, pixels, filters))
                assert decoded == (width, height, bpp, pixels), f"bpp {bpp}, {width}x{height}, filters {filters}"


def main(argv):
    args = argv[1:]
    if args == ["--self-test"]:
        self_test()
        print("ok")
        return 0
    threshold = 0.01
    if "--threshold" in args:
        i = args.index("--threshold")
        threshold = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 1:
        print("usage: pngstats.py FILE.png [--threshold FRACTION]", file=sys.stderr)
        return 2
    try:
        print(json.dumps(stats(args[0], threshold)))
    except (OSError, PNGError, zlib.error) as error:
        print(f"pngstats: {args[0]}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
