#!/usr/bin/env python3
"""Checks the sample journals (tools/jgen) against records the real programs wrote.

    compare_samples.py REAL.export SAMPLE_DIR

REAL.export is `journalctl -o export` of the e2e container (Debian 12, systemd 252 as
PID 1, real sshd, sudo, logind, user managers). For each kind of record the rules read
(sshd's Accepted and session opened, the sshd child's Disconnected, logind's New and
Removed session, sudo's COMMAND lines, PID 1's and a user manager's Reloading. and
Started x.timer / x.service), it compares the genuine records of that kind in
REAL.export with those of the Debian 12 hosts in SAMPLE_DIR/*/journal.export:

  - the field names must be the same, except those whose presence depends on timing and
    is documented in tools/jgen/README.md (kRacy);
  - every value the real records have for a format field (kValueFields: transport,
    facility, priority, identifiers, CODE_*, MESSAGE_ID, JOB_*) must occur in the samples.

Prints every difference and exits 1 when there is one; exits 0 and prints a summary
otherwise.
"""
import glob
import os
import re
import struct
import sys

kUnitStarted = "39f53479d3a045ac8e11786248231fbf"

# Field presence that depends on timing, not on the format (tools/jgen/README.md):
# journald reads /proc when it processes a datagram, so the sshd monitor's first records
# may or may not carry the audit session pam_loginuid set a few ms after they were sent;
# a user manager's records of its first second carry user@UID.service's invocation id.
# _EXE/_CMDLINE are missing when the sender has exited (short-lived processes).
kRacy = {"_AUDIT_SESSION", "_AUDIT_LOGINUID", "_SYSTEMD_INVOCATION_ID", "_EXE", "_CMDLINE"}
kAddressing = {"__CURSOR", "__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "__SEQNUM", "__SEQNUM_ID"}
kValueFields = ["_TRANSPORT", "SYSLOG_FACILITY", "PRIORITY", "SYSLOG_IDENTIFIER", "_COMM", "_EXE", "_UID",
                "CODE_FILE", "CODE_LINE", "CODE_FUNC", "MESSAGE_ID", "JOB_TYPE", "JOB_RESULT",
                "_SYSTEMD_USER_UNIT", "_SYSTEMD_SLICE"]


def user_mgr(e):
    """A genuine user manager's record (a user's own process can log from init.scope under
    the name systemd, but not with the manager's _EXE)."""
    return (e.get("_COMM") == "systemd" and e.get("_SYSTEMD_USER_UNIT") == "init.scope"
            and e.get("_EXE") in ("/usr/lib/systemd/systemd", "/lib/systemd/systemd"))


def started(e):
    """A start job's done message. "X was skipped because of an unmet condition check" has
    the same MESSAGE_ID and JOB_RESULT=done but another CODE_LINE (job.c:750); in the
    container units conditioned on real hardware or !container log it at boot, which the
    samples (hosts on hardware or VMs) do not."""
    return e.get("MESSAGE_ID") == kUnitStarted and "was skipped because" not in e.get("MESSAGE", "")


kKinds = [
    ("sshd Accepted", lambda e: e.get("_COMM") == "sshd" and e.get("_UID") == "0"
     and e.get("MESSAGE", "").startswith("Accepted ")),
    ("sshd session opened", lambda e: e.get("_COMM") == "sshd" and e.get("_UID") == "0"
     and e.get("MESSAGE", "").startswith("pam_unix(sshd:session): session opened")),
    ("sshd child Disconnected", lambda e: e.get("_COMM") == "sshd" and e.get("_UID") != "0"
     and e.get("MESSAGE", "").startswith("Disconnected from user ")),
    ("logind New session", lambda e: e.get("_COMM") == "systemd-logind"
     and e.get("MESSAGE_ID") == "8d45620c1a4348dbb17410da57c60c66"),
    ("logind Removed session", lambda e: e.get("_COMM") == "systemd-logind"
     and e.get("MESSAGE_ID") == "3354939424b4456d9802ca8333ed424a"),
    ("sudo COMMAND", lambda e: e.get("_COMM") == "sudo" and " COMMAND=" in e.get("MESSAGE", "")),
    ("PID 1 Reloading.", lambda e: e.get("_PID") == "1" and e.get("MESSAGE") == "Reloading."),
    ("PID 1 timer started", lambda e: e.get("_PID") == "1" and started(e)
     and e.get("UNIT", "").endswith(".timer")),
    ("PID 1 service started", lambda e: e.get("_PID") == "1" and started(e)
     and e.get("UNIT", "").endswith(".service")),
    ("user manager Reloading.", lambda e: user_mgr(e) and e.get("MESSAGE") == "Reloading."),
    ("user manager timer started", lambda e: user_mgr(e) and started(e)
     and e.get("USER_UNIT", "").endswith(".timer")),
    ("user manager service started", lambda e: user_mgr(e) and started(e)
     and e.get("USER_UNIT", "").endswith(".service")),
]


def read_export(path):
    """Journal Export Format: NAME=value lines, binary fields as NAME\\n le64 length bytes."""
    data = open(path, "rb").read()
    i, entry, out = 0, {}, []
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            break
        line = data[i:nl]
        if not line:
            if entry:
                out.append(entry)
            entry = {}
            i = nl + 1
        elif b"=" in line:
            k, v = line.split(b"=", 1)
            entry[k.decode()] = v.decode("utf-8", "replace")
            i = nl + 1
        else:
            n = struct.unpack("<Q", data[nl + 1:nl + 9])[0]
            entry[line.decode()] = data[nl + 9:nl + 9 + n].decode("utf-8", "replace")
            i = nl + 9 + n + 1
    if entry:
        out.append(entry)
    return out


def debian12_samples(sample_dir):
    """The sample records of Debian 12 hosts (hosts with sshd-session or systemd >= 254
    records are the newer profile)."""
    out = []
    for path in sorted(glob.glob(os.path.join(sample_dir, "*", "journal.export"))):
        entries = read_export(path)
        newer = {e.get("_HOSTNAME") for e in entries
                 if e.get("_COMM") == "sshd-session" or e.get("MESSAGE") == "Reloading..."}
        out += [e for e in entries if e.get("_HOSTNAME") not in newer]
    return out


def main():
    real = read_export(sys.argv[1])
    samples = debian12_samples(sys.argv[2])
    problems, summary = [], []
    for name, pred in kKinds:
        r = [e for e in real if pred(e)]
        s = [e for e in samples if pred(e)]
        if not r:
            problems.append(f"{name}: the real journal has no such record (the scenes should make one)")
            continue
        if not s:
            problems.append(f"{name}: no sample journal has such a record")
            continue
        rn = set().union(*map(set, r)) - kAddressing - kRacy
        sn = set().union(*map(set, s)) - kAddressing - kRacy
        if rn - sn:
            problems.append(f"{name}: fields only the real records have: {sorted(rn - sn)}")
        if sn - rn:
            problems.append(f"{name}: fields only the sample journals have: {sorted(sn - rn)}")
        for f in kValueFields:
            rv = {e[f] for e in r if f in e}
            sv = {e[f] for e in s if f in e}
            if f in ("_UID", "_SYSTEMD_SLICE"):  # the user's uid varies: compare the shape
                rv = {re.sub(r"\d{4,}", "N", v) for v in rv}
                sv = {re.sub(r"\d{4,}", "N", v) for v in sv}
            if rv - sv:
                problems.append(f"{name}: {f} has {sorted(rv - sv)} in the real records, "
                                f"the samples only {sorted(sv)[:6]}")
        summary.append(f"{name}: {len(r)} real, {len(s)} sample records")
    for p in problems:
        print("differs: " + p)
    if problems:
        return 1
    print("the sample journals agree with the real records:\n  " + "\n  ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
