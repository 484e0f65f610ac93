#!/usr/bin/env python3
"""Makes a larger export input from a benchmark one: COPIES copies of the input one after
the other, copy k with __REALTIME_TIMESTAMP and __MONOTONIC_TIMESTAMP moved k spans later
(span = last realtime - first realtime + 1 s) and without __CURSOR, so jcorr synthesises a
distinct cursor for every entry. Used for the memory run at 5M entries: generating 5M
entries with jgen takes tens of minutes, copying 1M five times takes seconds.

usage: bench/replicate-export.py IN OUT COPIES
"""

import sys


def timestamps(path):
    first = last = None
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b"__REALTIME_TIMESTAMP="):
                t = int(line[21:])
                first = t if first is None else first
                last = t
    return first, last


def main():
    src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
    first, last = timestamps(src)
    span = last - first + 1_000_000
    with open(dst, "wb", buffering=1 << 20) as out:
        for k in range(copies):
            shift = k * span
            with open(src, "rb", buffering=1 << 20) as f:
                while True:
                    line = f.readline()
                    if not line:
                        break
                    if line.startswith(b"__CURSOR="):
                        continue
                    if line.startswith(b"__REALTIME_TIMESTAMP="):
                        line = b"__REALTIME_TIMESTAMP=%d\n" % (int(line[21:]) + shift)
                    elif line.startswith(b"__MONOTONIC_TIMESTAMP="):
                        line = b"__MONOTONIC_TIMESTAMP=%d\n" % (int(line[22:]) + shift)
                    elif line != b"\n" and b"=" not in line:
                        # A binary field: the name line, then a 64-bit length and the value.
                        out.write(line)
                        size = f.read(8)
                        out.write(size)
                        out.write(f.read(int.from_bytes(size, "little") + 1))
                        continue
                    out.write(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
