"""Journal Export Format: field encoding, cursors, the per-host journal writer and a strict parser.

Format (systemd docs/JOURNAL_EXPORT_FORMATS.md, journalctl 252 output_export()):
  __CURSOR, __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP, _BOOT_ID first, then every data field
  except _BOOT_ID; a field that is valid UTF-8 without control characters (TAB allowed, newline
  not) is written NAME=value\\n, anything else NAME\\n + 64-bit little-endian length + bytes + \\n.
  Entries end with an empty line.
"""

import re
import struct
import zlib

from . import jenkins

# unichar_is_control() of systemd: C0 except TAB and LF, DEL, C1.  LF forces the binary form too.
_NEEDS_BINARY = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_FIELD_NAME = re.compile(rb"^_{0,2}[A-Z0-9_]{1,64}$")


_CACHE = {}
_CACHE_MAX = 200_000


def encode_cached(name, value):
    """encode_field() memoised for repeating (name, value) pairs (most fields repeat)."""
    key = (name, value)
    r = _CACHE.get(key)
    if r is None:
        r = encode_field(name, value)
        if len(_CACHE) < _CACHE_MAX:
            _CACHE[key] = r
    return r


def encode_field(name, value):
    """Returns (data, rendered): data is b"NAME=value" as journald stores it (hashed, deduplicated),
    rendered is the export form including the trailing newline."""
    if isinstance(value, bytes):
        raw = value
        try:
            text = raw.decode("utf-8")
            binary = _NEEDS_BINARY.search(text) is not None
        except UnicodeDecodeError:
            binary = True
    else:
        text = value if isinstance(value, str) else str(value)
        raw = text.encode("utf-8", "surrogateescape")
        binary = _NEEDS_BINARY.search(text) is not None
    nb = name.encode("ascii")
    data = nb + b"=" + raw
    if binary:
        return data, nb + b"\n" + struct.pack("<Q", len(raw)) + raw + b"\n"
    return data, data + b"\n"


def field_hash(data):
    """The 64-bit hash of one data object that journald XORs into the cursor's x= part
    (jenkins_hash64), so the cursor survives conversion with systemd-journal-remote."""
    return jenkins.hash64(data)


class JournalFile:
    """Per-host journal state: seqnum id and counter, and the data-object table that decides the
    order of fields inside an entry.

    journald appends each new data object ("NAME=value") to the file and sorts an entry's items by
    object offset (journal-file.c: typesafe_qsort(items, n, entry_item_cmp)), so values seen
    before come first and new ones keep the order the writer sent them in.  order="journal"
    emulates that; order="fast" writes client fields, trusted fields, then host fields, which is
    what a freshly rotated file shows and is cheaper."""

    ROTATE_OBJECTS = 400_000  # forget the table (like a rotated file) past this many objects

    def __init__(self, seqnum_id, first_seqnum, order="journal"):
        self.seqnum_id = seqnum_id
        self.seqnum = first_seqnum - 1
        self.order = order
        self.objects = {}
        self.last_realtime = 0

    def render(self, realtime, monotonic, boot_id, items):
        """items: list of (data, rendered) in the order journald received them (client fields,
        then trusted fields, then _SOURCE_REALTIME_TIMESTAMP, _BOOT_ID, _MACHINE_ID, _HOSTNAME,
        _RUNTIME_SCOPE).  Returns (export bytes, cursor, realtime)."""
        self.seqnum += 1
        if realtime <= self.last_realtime:
            monotonic += self.last_realtime + 1 - realtime
            realtime = self.last_realtime + 1
        self.last_realtime = realtime
        xor = 0
        if self.order == "journal":
            objs = self.objects
            if len(objs) > self.ROTATE_OBJECTS:
                objs.clear()
            keyed = []
            for data, rendered in items:
                o = objs.get(data)
                if o is None:
                    o = (len(objs), field_hash(data))
                    objs[data] = o
                keyed.append((o[0], o[1], data, rendered))
            keyed.sort()
            body = []
            last = -1
            for off, h, data, rendered in keyed:
                if off == last:  # remove_duplicate_entry_items()
                    continue
                last = off
                xor ^= h
                if not data.startswith(b"_BOOT_ID="):
                    body.append(rendered)
        else:
            # fast: arrival order; x= is a hash of the rendered body (still deterministic)
            body = [rendered for data, rendered in items if data[:9] != b"_BOOT_ID="]
            blob = b"".join(body)
            xor = (zlib.crc32(blob) << 32) | zlib.adler32(blob)
            body = [blob]
        cursor = "s=%s;i=%x;b=%s;m=%x;t=%x;x=%x" % (
            self.seqnum_id, self.seqnum, boot_id, monotonic, realtime, xor)
        head = ("__CURSOR=%s\n__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n"
                % (cursor, realtime, monotonic, boot_id)).encode("ascii")
        return head + b"".join(body) + b"\n", cursor, realtime


# ----------------------------------------------------------------------------------------------
# Parsing (used by the validator and the tests)

class ExportFormatError(ValueError):
    pass


def parse_export(data):
    """Parses Journal Export Format bytes into a list of entries; each entry is a list of
    (name, value_bytes) in file order.  Raises ExportFormatError with the byte offset on any
    deviation from the format."""
    entries = []
    fields = []
    pos = 0
    n = len(data)
    while pos < n:
        nl = data.find(b"\n", pos)
        if nl < 0:
            raise ExportFormatError("offset %d: line without newline" % pos)
        line = data[pos:nl]
        if not line:
            if not fields:
                raise ExportFormatError("offset %d: empty entry" % pos)
            entries.append(fields)
            fields = []
            pos = nl + 1
            continue
        eq = line.find(b"=")
        if eq >= 0:
            name, value = line[:eq], line[eq + 1:]
            pos = nl + 1
        else:
            name = line
            if nl + 9 > n:
                raise ExportFormatError("offset %d: truncated binary field %r" % (pos, name))
            (length,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            start = nl + 9
            end = start + length
            if end + 1 > n or data[end:end + 1] != b"\n":
                raise ExportFormatError("offset %d: bad binary field %r" % (pos, name))
            value = data[start:end]
            pos = end + 1
        if not _FIELD_NAME.match(name):
            raise ExportFormatError("offset %d: invalid field name %r" % (pos, name))
        fields.append((name.decode("ascii"), value))
    if fields:
        raise ExportFormatError("missing empty line after the last entry")
    return entries
