#!/usr/bin/env python3
"""Live latency benchmark of `jcorr run`: from the append of an entry to its detection.

A long-running systemd-journal-remote writes a journal file from its standard input (the
writer); `jcorr run` follows the directory with the daemon tests' marker rules
(tests/integration/daemon/marker-rules.json: "jcorr-test A" then "jcorr-test B" with the
same KEY is a detection, emitted as soon as B is read). For each of PAIRS keys the writer
sends A, then B, and notes the monotonic time just before B goes into journal-remote's
pipe; the detection's time is when its line arrives on jcorr's standard output (a pipe
read by this script) and when its POST arrives at a webhook receiver on 127.0.0.1 (this
script, answering 200 on a keep-alive connection). The time therefore covers
journal-remote parsing and appending the entry, the inotify wake-up, sd-journal, matching,
correlation and the output (for the webhook: the fsync'ed spool and the HTTP request).

Then jcorr is left idle for IDLE seconds and the CPU time it uses over them is measured
(utime + stime from /proc/PID/stat; the daemon should sleep in poll/epoll, and the
wall-clock watermark ticks once a second).

Under load: --burn N runs N busy loops at nice 0 while the pairs are sent; --nice K
sets jcorr's nice value (the packaged unit's Nice=) and --harness-nice K that of this
script and journal-remote, which stand for journald here and are not under test.

usage: bench/live.py [--jcorr build/ci/jcorr] [--pairs 2000] [--rate 40] [--idle 30]
                     [--config '{"checkpoint_interval": "10s"}']
                     [--burn 4] [--nice -5] [--harness-nice -10]
Prints a markdown table; exits 1 when a detection is missing or duplicated.
"""

import argparse
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REMOTE = os.environ.get("JOURNAL_REMOTE", "/lib/systemd/systemd-journal-remote")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    fields = stat[stat.rfind(")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14, stime 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True


def make_handler(arrivals, lock):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            now = time.monotonic()
            try:
                summary = json.loads(body).get("summary", "")
            except ValueError:
                summary = ""
            with lock:
                arrivals.append((summary, now))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


def entry(key, marker):
    t = time.time_ns() // 1000
    return ("__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n"
            "_BOOT_ID=0f0e0d0c0b0a09080706050403020100\n"
            "_MACHINE_ID=a1b2c3d4e5f60718293a4b5c6d7e8f90\n_HOSTNAME=benchhost\n"
            "_TRANSPORT=journal\nMESSAGE=jcorr-test %s\nKEY=%s\n\n" % (t, t % 10**12, marker, key)).encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jcorr", default=os.path.join(ROOT, "build/ci/jcorr"))
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=40.0, help="pairs per second")
    ap.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measurement")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--config", default="{}", help="more daemon configuration keys, as a JSON object")
    ap.add_argument("--burn", type=int, default=0, help="busy loops (nice 0) running while the pairs are sent")
    ap.add_argument("--nice", type=int, default=None, help="jcorr's nice value (default: inherited)")
    ap.add_argument("--harness-nice", type=int, default=None,
                    help="nice value of this script and journal-remote (default: inherited)")
    args = ap.parse_args()
    args.jcorr = os.path.abspath(args.jcorr)  # the daemon runs in the scratch directory
    if args.harness_nice is not None:
        os.setpriority(os.PRIO_PROCESS, 0, args.harness_nice)

    work = tempfile.mkdtemp(prefix="jcorr-live-")
    os.makedirs(os.path.join(work, "journal"))
    os.makedirs(os.path.join(work, "rules"))
    shutil.copy(os.path.join(ROOT, "tests/integration/daemon/marker-rules.json"), os.path.join(work, "rules"))

    hooks, lock = [], threading.Lock()
    server = Receiver(("127.0.0.1", 0), make_handler(hooks, lock))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(os.path.join(work, "webhooks.json"), "w") as f:
        json.dump({"webhooks": [{"name": "bench", "url": "http://127.0.0.1:%d/hook" % server.server_port,
                                 "spool_dir": "spool", "timeout": "5s"}]}, f)
    config = {"rules": "rules", "follow": {"directory": "journal"}, "state_directory": "state",
              "start_at": "head", "outputs": {"stdout": True, "webhooks": "webhooks.json"},
              "watermark": {"wall_clock": True, "wall_clock_delay": "1s"}, "log_level": "info"}
    config.update(json.loads(args.config))
    with open(os.path.join(work, "jcorr.json"), "w") as f:
        json.dump(config, f)

    journal = os.path.join(work, "journal", "live.journal")
    writer = subprocess.Popen([REMOTE, "-o", journal, "-"], stdin=subprocess.PIPE,
                              stderr=open(os.path.join(work, "remote.log"), "w"))
    writer.stdin.write(entry("hello", "hello"))
    writer.stdin.flush()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until the entry can be read back
        if os.path.exists(journal) and "hello" in subprocess.run(
                ["journalctl", "--file", journal, "-o", "cat"], capture_output=True, text=True).stdout:
            break
        time.sleep(0.05)

    log_path = os.path.join(work, "daemon.log")
    daemon = subprocess.Popen([args.jcorr, "run", "--config", os.path.join(work, "jcorr.json")], cwd=work,
                              stdout=subprocess.PIPE, stderr=open(log_path, "w"))
    if args.nice is not None:
        os.setpriority(os.PRIO_PROCESS, daemon.pid, args.nice)
    lines = []

    def read_stdout():
        for line in daemon.stdout:
            now = time.monotonic()
            try:
                summary = json.loads(line).get("summary", "")
            except ValueError:
                summary = ""
            with lock:
                lines.append((summary, now))

    threading.Thread(target=read_stdout, daemon=True).start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open(log_path) as f:
            if "caught up; following" in f.read():
                break
        time.sleep(0.05)
    else:
        sys.exit("live: the daemon did not catch up; log in %s" % log_path)

    # A first pair, not measured: the daemon has seen the machine and set up its outputs.
    writer.stdin.write(entry("warm", "A") + entry("warm", "B"))
    writer.stdin.flush()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with lock:
            if any(s == "pair warm" for s, _ in lines) and any(s == "pair warm" for s, _ in hooks):
                break
        time.sleep(0.02)
    else:
        sys.exit("live: the first detection did not arrive; log in %s" % log_path)

    burners = []
    for _ in range(args.burn):
        burners.append(subprocess.Popen(["sh", "-c", "while :; do :; done"]))
        os.setpriority(os.PRIO_PROCESS, burners[-1].pid, 0)
    sent = {}
    gap = 1.0 / args.rate
    t_next = time.monotonic()
    for i in range(args.pairs):
        key = "k%d" % i
        writer.stdin.write(entry(key, "A"))
        writer.stdin.flush()
        b = entry(key, "B")
        sent["pair " + key] = time.monotonic()
        writer.stdin.write(b)
        writer.stdin.flush()
        t_next += gap
        time.sleep(max(0.0, t_next - time.monotonic()))

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with lock:
            if len(lines) >= args.pairs and len(hooks) >= args.pairs:
                break
        time.sleep(0.1)

    load = open("/proc/loadavg").read().split()[0]
    for b in burners:
        b.kill()
        b.wait()

    # Idle: nothing is appended; the daemon must sleep.
    time.sleep(2)
    cpu0, wall0 = cpu_seconds(daemon.pid), time.monotonic()
    time.sleep(args.idle)
    idle_cpu, idle_wall = cpu_seconds(daemon.pid) - cpu0, time.monotonic() - wall0

    daemon.terminate()
    daemon.wait(timeout=20)
    writer.stdin.close()
    writer.wait(timeout=20)
    server.shutdown()

    ok = True
    result = {}
    for name, got in (("stdout", lines), ("webhook", hooks)):
        seen = {}
        for summary, t in got:
            if summary in sent:
                seen.setdefault(summary, []).append(t)
        missing = len(sent) - len(seen)
        dups = sum(len(v) - 1 for v in seen.values())
        lat = [(min(v) - sent[s]) * 1000.0 for s, v in seen.items()]
        result[name] = (lat, missing, dups)
        if missing:
            ok = False
        if name == "stdout" and dups:
            ok = False  # stdout must not repeat; a webhook may (at least once)

    print("pairs: %d at %.0f/s, %d CPUs, load %s at the end of the pairs, %d busy loops, jcorr nice %d, idle %.0f s\n"
          % (args.pairs, args.rate, os.cpu_count(), load, args.burn,
             args.nice if args.nice is not None else os.getpriority(os.PRIO_PROCESS, 0), idle_wall))
    print("| output | detections | missing | repeats | p50 ms | p90 ms | p99 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (lat, missing, dups) in result.items():
        print("| %s | %d | %d | %d | %.1f | %.1f | %.1f | %.1f |" % (
            name, len(lat), missing, dups, percentile(lat, 50), percentile(lat, 90), percentile(lat, 99),
            max(lat) if lat else float("nan")))
    print("\nidle: %.3f CPU s over %.1f s (%.2f%% of a core)" % (idle_cpu, idle_wall, 100.0 * idle_cpu / idle_wall))
    if args.keep:
        print("scratch: %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
