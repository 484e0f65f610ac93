"""Checks that a file is well-formed Journal Export Format as journalctl 252 writes it."""

import re

from .export import ExportFormatError, parse_export

_CURSOR = re.compile(r"^s=([0-9a-f]{32});i=([0-9a-f]+);b=([0-9a-f]{32});m=([0-9a-f]+);"
                     r"t=([0-9a-f]+);x=([0-9a-f]+)$")


def validate_bytes(data):
    """Returns (entries, problems).  problems is a list of strings; empty means valid."""
    problems = []
    try:
        entries = parse_export(data)
    except ExportFormatError as e:
        return 0, [str(e)]
    last_seq = {}
    last_rt = {}
    for n, fields in enumerate(entries):
        names = [k for k, _ in fields]
        if names[:4] != ["__CURSOR", "__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "_BOOT_ID"]:
            problems.append("entry %d: header fields %r" % (n, names[:4]))
            continue
        d = {}
        for k, v in fields:
            d.setdefault(k, v)
        m = _CURSOR.match(d["__CURSOR"].decode())
        if not m:
            problems.append("entry %d: bad cursor %r" % (n, d["__CURSOR"]))
            continue
        sid, seq, boot, mono, rt, _ = m.groups()
        if int(rt, 16) != int(d["__REALTIME_TIMESTAMP"]) or \
                int(mono, 16) != int(d["__MONOTONIC_TIMESTAMP"]) or boot != d["_BOOT_ID"].decode():
            problems.append("entry %d: cursor disagrees with the timestamps/boot id" % n)
        seq = int(seq, 16)
        if sid in last_seq and seq <= last_seq[sid]:
            problems.append("entry %d: seqnum %x not increasing for %s" % (n, seq, sid))
        last_seq[sid] = seq
        rtv = int(d["__REALTIME_TIMESTAMP"])
        if sid in last_rt and rtv < last_rt[sid]:
            problems.append("entry %d: realtime goes backwards within %s" % (n, sid))
        last_rt[sid] = rtv
        for req in ("_MACHINE_ID", "_HOSTNAME", "_TRANSPORT", "MESSAGE"):
            if req not in d:
                problems.append("entry %d: missing %s" % (n, req))
        if names.count("_BOOT_ID") != 1:
            problems.append("entry %d: _BOOT_ID repeated" % n)
        if len(problems) > 50:
            problems.append("... stopping")
            break
    return len(entries), problems
