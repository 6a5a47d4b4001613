#!/usr/bin/env python3
"""Reads a tabpipe tensor stream (docs/stream-format.md) into numpy arrays.
As a script: python3 read_stream.py [FILE]   (FILE absent or '-': standard input)"""
import json, struct, sys
import numpy as np
import zstandard

MAGIC = b"\x89TAB\r\n\x1a\n"  # followed by major u16 LE, minor u16 LE
MAJOR = 1  # highest major version understood; any minor version is accepted
MAX_RECORD = 1 << 30  # largest frame or decoded block a reader accepts

def _take(f, n):
    data = f.read(n)
    if len(data) != n:
        raise ValueError(f"truncated stream: input ended {n - len(data)} bytes early")
    return data

def _payload(f, length, size, what):  # one zstd frame; libzstd verifies its checksum
    if not 0 < length <= MAX_RECORD:
        raise ValueError(f"corrupt stream: {what}: implausible record length {length}")
    frame = _take(f, length)
    try:  # check the declared size before decompressing: a corrupt one could be huge
        declared = zstandard.frame_content_size(frame)
        if not 0 <= declared <= MAX_RECORD or size not in (None, declared):
            raise ValueError(f"corrupt stream: {what} declares {declared} bytes, expected {size}")
        return zstandard.ZstdDecompressor().decompress(frame, allow_extra_data=False)
    except zstandard.ZstdError as error:
        raise ValueError(f"corrupt stream: {what}: {error}") from None

def read_stream(f):
    """f: a path or binary file. Gives (header, floats: rows x F float32, ints: rows x I int32)."""
    if not hasattr(f, "read"):
        with open(f, "rb") as opened:
            return read_stream(opened)
    header, floats, ints = None, [], []
    while (magic := f.read(8)) or header is None:  # a segment: preamble HEAD (ROWS|optional)* ENDS
        if not MAGIC.startswith(magic) or not magic:  # a cut magic reads as truncated below
            raise ValueError("corrupt stream: unexpected bytes after an end record" if header
                             else "not a tabpipe stream" if magic else "empty input")
        major, minor = struct.unpack("<HH", _take(f, 12 - len(magic))[-4:])
        if major > MAJOR:
            raise ValueError(f"stream format {major}.{minor} is newer than this reader ({MAJOR}.x)")
        tag, _, length = struct.unpack("<4sII", _take(f, 12))
        if tag != b"HEAD":
            raise ValueError(f"unreadable stream header: first record is {tag!r}, not b'HEAD'")
        part = json.loads(_payload(f, length, None, "header"))
        header = header or part
        if {**part, "provenance": 0} != {**header, "provenance": 0}:  # shards of one job only
            raise ValueError("concatenated part has a different header from part 1")
        nf, ni = len(header["layout"]["floatFields"]), len(header["layout"]["intFields"])
        rows = blocks = 0  # an empty block first, so that a stream without rows keeps its widths
        floats, ints = floats + [np.empty((0, nf), "<f4")], ints + [np.empty((0, ni), "<i4")]
        while True:
            tag, count, length = struct.unpack("<4sII", _take(f, 12))
            if tag == b"ROWS":  # count rows: count x nf float32, then count x ni int32
                if count == 0 or count * 4 * (nf + ni) > MAX_RECORD:
                    raise ValueError(f"corrupt stream: implausible row count {count}")
                data = _payload(f, length, count * 4 * (nf + ni), f"block {blocks + 1}")
                floats.append(np.frombuffer(data, "<f4", count * nf).reshape(count, nf))
                ints.append(np.frombuffer(data, "<i4", offset=4 * count * nf).reshape(count, ni))
                rows, blocks = rows + count, blocks + 1
            elif tag == b"ENDS":  # u64 rows, u64 blocks of this segment
                end = struct.unpack("<QQ", _payload(f, length, 16, "end record"))
                if end != (rows, blocks):
                    raise ValueError(f"corrupt stream: end record says {end}, read {rows, blocks}")
                break
            elif b"a" <= tag[:1] <= b"z" and length <= MAX_RECORD:  # optional record: skip it
                _take(f, length)
            else:
                raise ValueError(f"corrupt stream: unknown record type {tag!r}")
    return header, np.concatenate(floats), np.concatenate(ints)

if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "-" else sys.stdin.buffer
    header, floats, ints = read_stream(path)
    fields = header["layout"]["floatFields"] + header["layout"]["intFields"]
    print(f"kind: {header['kind']}, {len(floats)} rows, floats {floats.shape}, ints {ints.shape}")
    print(" ".join(f"{d['name'][:11]:>11}" for d in fields))
    for r in range(min(5, len(floats))):
        print(" ".join([f"{x:11.4f}" for x in floats[r]] + [f"{k:11d}" for k in ints[r]]))
