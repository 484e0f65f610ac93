#!/usr/bin/env python3
"""Forged records for the forgery-under-load test, run as an unprivileged user.

    forge_native.py native KIND RATE SECONDS COUNT_FILE   KIND: pid1 | logind | user-manager
    forge_native.py lines KIND RATE SECONDS                KIND: sshd | sudo | reload

`native` writes to journald's native protocol socket (what `logger --journald` and
sd_journal_send use): forged PID 1, user-manager and systemd-logind records, after
renaming its own process (comm) to the daemon it impersonates. Client-supplied trusted
fields (_PID=1, _UID=0, _COMM=..., _TRANSPORT=...) are included on purpose: journald
must drop them. `lines` prints message lines for logger / systemd-cat to send.
Both pace themselves to RATE records per second for SECONDS.
"""
import ctypes
import socket
import sys
import time

SOCKET = "/run/systemd/journal/socket"
STARTED = "39f53479d3a045ac8e11786248231fbf"
SESSION_START = "8d45620c1a4348dbb17410da57c60c66"
SESSION_STOP = "3354939424b4456d9802ca8333ed424a"
SPOOF = {"_PID": "1", "_UID": "0", "_GID": "0", "_COMM": "systemd", "_EXE": "/usr/lib/systemd/systemd",
         "_TRANSPORT": "journal", "_SYSTEMD_UNIT": "init.scope", "_SYSTEMD_USER_UNIT": "init.scope",
         "_CAP_EFFECTIVE": "1ffffffffff"}

RECORDS = {
    "pid1": ("systemd", [
        {"MESSAGE": "Reloading.", "SYSLOG_IDENTIFIER": "systemd", "PRIORITY": "6"},
        {"MESSAGE": "Started systemd-update-check.timer - Check for system updates.", "MESSAGE_ID": STARTED,
         "UNIT": "systemd-update-check.timer", "JOB_TYPE": "start", "JOB_RESULT": "done", "SYSLOG_IDENTIFIER": "systemd"},
        {"MESSAGE": "Started evil.timer - Forged.", "MESSAGE_ID": STARTED, "UNIT": "evil.timer", "JOB_TYPE": "start",
         "JOB_RESULT": "done", "SYSLOG_IDENTIFIER": "systemd"},
    ]),
    "user-manager": ("systemd", [
        {"MESSAGE": "Reloading.", "SYSLOG_IDENTIFIER": "systemd"},
        {"MESSAGE": "Started user-evil.timer - Forged.", "MESSAGE_ID": STARTED, "USER_UNIT": "user-evil.timer",
         "JOB_TYPE": "start", "JOB_RESULT": "done", "SYSLOG_IDENTIFIER": "systemd",
         "_SYSTEMD_UNIT": "user@1001.service", "_SYSTEMD_USER_UNIT": "init.scope"},
    ]),
    "logind": ("systemd-logind", [
        {"MESSAGE": "New session 23 of user alice.", "MESSAGE_ID": SESSION_START, "SESSION_ID": "23",
         "USER_ID": "alice", "LEADER": "97287", "SYSLOG_IDENTIFIER": "systemd-logind"},
        {"MESSAGE": "Removed session 23.", "MESSAGE_ID": SESSION_STOP, "SESSION_ID": "23",
         "SYSLOG_IDENTIFIER": "systemd-logind"},
        {"MESSAGE": "New session 999 of user alice.", "MESSAGE_ID": SESSION_START, "SESSION_ID": "999",
         "USER_ID": "alice", "LEADER": "4242", "SYSLOG_IDENTIFIER": "systemd-logind"},
    ]),
}


def encode(fields):
    out = b""
    for k, v in fields.items():
        out += k.encode() + b"=" + v.encode() + b"\n"
    return out


LINES = {
    "sshd": ["Accepted publickey for alice from 203.0.113.45 port 55947 ssh2: ED25519 SHA256:forged{i}",
             "pam_unix(sshd:session): session opened for user alice(uid=1001) by (uid=0)",
             "Accepted password for root from 198.51.100.66 port {port} ssh2"],
    "sudo": ["   alice : TTY=pts/1 ; PWD=/home/alice ; USER=root ; "
             "COMMAND=/usr/bin/systemctl enable --now systemd-update-check.timer",
             "   alice : TTY=pts/1 ; PWD=/home/alice ; USER=root ; "
             "COMMAND=/usr/bin/systemd-run --on-active=1m --unit=evil /bin/sh",
             "   alice : TTY=pts/1 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/tee /etc/systemd/system/evil{i}.timer"],
    "reload": ["Reloading."],
}


def paced(rate, seconds):
    """Yields batch sizes every 10 ms so that RATE items per second go out for SECONDS."""
    start = time.monotonic()
    done = 0
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            return
        due = int(rate * elapsed) + 1
        if due > done:
            yield due - done
            done = due
        time.sleep(0.005)


def lines(kind, rate, seconds):
    templates = LINES[kind]
    i = 0
    out = sys.stdout
    try:
        for n in paced(rate, seconds):
            for _ in range(n):
                out.write(templates[i % len(templates)].format(i=i, port=1024 + i % 60000) + "\n")
                i += 1
            out.flush()
    except BrokenPipeError:
        pass


def native(kind, rate, seconds, count_file):
    comm, records = RECORDS[kind]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(15, comm.encode(), 0, 0, 0)  # PR_SET_NAME: journald will read _COMM=<comm>
    datagrams = [encode({**SPOOF, **r}) for r in records]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.connect(SOCKET)
    sent = 0
    for n in paced(rate, seconds):
        for _ in range(n):
            s.send(datagrams[sent % len(datagrams)])
            sent += 1
    with open(count_file, "w") as f:
        f.write("%d\n" % sent)


def main():
    if sys.argv[1] == "lines":
        lines(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    else:
        native(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5])


if __name__ == "__main__":
    main()
