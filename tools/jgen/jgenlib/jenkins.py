"""systemd's jenkins_hash64 (lookup3 hashlittle2 with zero seeds, as src/basic/hash-funcs and
journal-file.c use it): the hash whose XOR over an entry's "FIELD=value" data objects is the
cursor's x= part. journald computes x= with it even in keyed-hash files, so x= is the same in
every file that holds the entry (systemd-journal-remote's copy included)."""

M = 0xffffffff
def _rot(x, k): return ((x << k) | (x >> (32 - k))) & M
def hash64(data: bytes) -> int:
    n = len(data)
    a = b = c = (0xdeadbeef + n) & M
    i = 0
    while n > 12:
        a = (a + int.from_bytes(data[i:i+4], "little")) & M
        b = (b + int.from_bytes(data[i+4:i+8], "little")) & M
        c = (c + int.from_bytes(data[i+8:i+12], "little")) & M
        a = (a - c) & M; a ^= _rot(c, 4);  c = (c + b) & M
        b = (b - a) & M; b ^= _rot(a, 6);  a = (a + c) & M
        c = (c - b) & M; c ^= _rot(b, 8);  b = (b + a) & M
        a = (a - c) & M; a ^= _rot(c, 16); c = (c + b) & M
        b = (b - a) & M; b ^= _rot(a, 19); a = (a + c) & M
        c = (c - b) & M; c ^= _rot(b, 4);  b = (b + a) & M
        n -= 12; i += 12
    if n == 0:
        return (c << 32) | b
    tail = data[i:i+n] + b"\0" * (12 - n)
    a = (a + int.from_bytes(tail[0:4], "little")) & M
    b = (b + int.from_bytes(tail[4:8], "little")) & M
    c = (c + int.from_bytes(tail[8:12], "little")) & M
    c ^= b; c = (c - _rot(b, 14)) & M
    a ^= c; a = (a - _rot(c, 11)) & M
    b ^= a; b = (b - _rot(a, 25)) & M
    c ^= b; c = (c - _rot(b, 16)) & M
    a ^= c; a = (a - _rot(c, 4)) & M
    b ^= a; b = (b - _rot(a, 14)) & M
    c ^= b; c = (c - _rot(b, 24)) & M
    return (c << 32) | b
