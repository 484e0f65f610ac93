#!/usr/bin/env python3
"""Runs the replay benchmark (see docs/performance.md); bench/run.sh is the entry point.

Every case runs RUNS times, interleaved (run 1 of every case, then run 2, ...), so that
the load of this shared machine spreads over all cases alike. For each run it records:

- wall time (monotonic clock around fork/exec to wait),
- CPU time, user + system, of the process and its children (os.wait4's rusage),
- peak anonymous memory: RssAnon from /proc/PID/status, sampled every 5 ms; the
  largest sample is kept. File-backed pages (the mmapped input, the journal files) are
  not counted: they are page cache that the kernel can drop, and counting them would
  make the figure grow with the input size for every reader that maps its input.

Reported are medians over the runs, entries/s (entries of the journal / median wall),
and the ratio of each case's entries/s to the baseline `journalctl -o export` measured
in the same run on the same file.
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time


def measure(cmd, stdout_path):
    with open(stdout_path, "wb") as out, open(stdout_path + ".err", "wb") as err:
        start = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err)
        peak = 0
        status = f"/proc/{p.pid}/status"
        while True:
            try:
                pid, rc, ru = os.wait4(p.pid, os.WNOHANG)
            except ChildProcessError:
                raise
            if pid != 0:
                break
            try:
                with open(status) as f:
                    for line in f:
                        if line.startswith("RssAnon:"):
                            peak = max(peak, int(line.split()[1]))
                            break
            except OSError:
                pass
            time.sleep(0.005)
        wall = time.monotonic() - start
    p.returncode = os.waitstatus_to_exitcode(rc)
    return {
        "wall": wall,
        "cpu": ru.ru_utime + ru.ru_stime,
        "anon_kib": peak,
        "rc": p.returncode,
    }


def detections(path):
    ids = []
    with open(path) as f:
        for line in f:
            if line.strip():
                ids.append(json.loads(line)["id"])
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--jcorr", required=True)
    ap.add_argument("--rules", default="rules")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--extra", action="append", default=[],
                    help="NAME=ARGS: an extra jcorr replay case on the .journal (ARGS split on spaces)")
    ap.add_argument("--work", default=None)
    ap.add_argument("--split", default=None,
                    help="the bench/split-export.cpp binary: adds the bare mmap-and-split of the export as a case")
    ap.add_argument("--variants", action="store_true",
                    help="also: --no-pushdown, and the pack without the full-scan rule (with and without pushdown)")
    a = ap.parse_args()

    d = a.dir
    work = a.work or os.path.join(d, "runs")
    os.makedirs(work, exist_ok=True)
    journal, export, jsonl = (os.path.join(d, n) for n in ("journal", "bench.export", "bench.json"))
    with open(jsonl, "rb") as f:
        entries = sum(1 for _ in f)

    replay = [a.jcorr, "replay", "--rules", a.rules, "--no-progress", "-q", "-o", "json"]
    cases = [
        ("journalctl -o export (baseline)", ["journalctl", "-D", journal, "-o", "export"], None),
        ("journalctl -o json", ["journalctl", "-D", journal, "-o", "json"], None),
        ("jcorr replay .journal", replay + [journal], "journal"),
        ("jcorr replay export", replay + [export], "export"),
        ("jcorr replay export, --threads 1", replay + ["--threads", "1", export], "export-1"),
        ("jcorr replay JSON", replay + [jsonl], "json"),
        ("jcorr replay JSON, --threads 1", replay + ["--threads", "1", jsonl], "json-1"),
    ]
    if a.split:
        # The floor for reading export text here, one thread: the 2M/s target is
        # 62.5% of its 3.2M/s reference for this.
        cases.append(("bare mmap-and-split of the export (1 thread)", [a.split, export], None))
    if a.variants:
        # The pack without the one rule whose event has no exact anchor (service_exec of
        # t1053.006-timer-service-exec-suspicious), which forces a full scan of .journal
        # inputs: what pushdown gains when every definition is anchored.
        lean = os.path.join(work, "pack-without-service-exec.json")
        pack = json.load(open(os.path.join(a.rules, "t1053.006-systemd-timers.json")))
        pack["rules"] = [r for r in pack["rules"] if r["id"] != "t1053.006-timer-service-exec-suspicious"]
        json.dump(pack, open(lean, "w"))
        lean_replay = [a.jcorr, "replay", "--rules", lean, "--no-progress", "-q", "-o", "json"]
        cases.append(("jcorr replay .journal, --no-pushdown", replay + ["--no-pushdown", journal], "journal-no-pushdown"))
        cases.append(("jcorr replay .journal, pack w/o service_exec", lean_replay + [journal], "lean"))
        cases.append(("jcorr replay .journal, pack w/o service_exec, --no-pushdown",
                      lean_replay + ["--no-pushdown", journal], "lean-no-pushdown"))
    for e in a.extra:
        name, _, args = e.partition("=")
        cases.append((name, replay + args.split() + [journal], name))

    results = {name: [] for name, _, _ in cases}
    outputs = {}
    for r in range(a.runs):
        for i, (name, cmd, tag) in enumerate(cases):
            # Only replays keep their output (to check it); the journalctl runs write to
            # /dev/null like the baseline.
            path = os.path.join(work, f"case{i}.out") if tag else "/dev/null"
            m = measure(cmd, path)
            if m["rc"] != 0:
                sys.exit(f"{name}: exit code {m['rc']}: {' '.join(cmd)}")
            results[name].append(m)
            if tag and r == 0:
                outputs[tag] = path

    def med(name, key):
        return statistics.median(x[key] for x in results[name])

    base = cases[0][0]
    base_rate = entries / med(base, "wall")
    load = open("/proc/loadavg").read().split()[0]
    print(f"entries: {entries}, runs: {a.runs} (medians), input: {d}, {os.cpu_count()} CPUs, load {load}\n")
    # Two rates: per wall second (what a user waits) and per CPU second (user+sys; far
    # less sensitive to the other load of a shared machine). Ratios are rate / rate.
    print("| case | wall s | CPU s | entries/s (wall) | entries/s (CPU) | vs -o export (wall / CPU) "
          "| vs -o json (wall / CPU) | peak RssAnon MiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    base_cpu = entries / med(base, "cpu")
    json_rate = entries / med("journalctl -o json", "wall")
    json_cpu = entries / med("journalctl -o json", "cpu")
    for name, _, _ in cases:
        w = med(name, "wall")
        c = med(name, "cpu")
        rate, crate = entries / w, entries / c
        print(f"| {name} | {w:.2f} | {c:.2f} | {rate:,.0f} | {crate:,.0f} | {rate / base_rate:.2f}x / {crate / base_cpu:.2f}x | "
              f"{rate / json_rate:.2f}x / {crate / json_cpu:.2f}x | {med(name, 'anon_kib') / 1024:.1f} |")

    # Detections: the same ids (and count) from every input, and the ground truth.
    print()
    ref = None
    ok = True
    lean_ref = None
    for tag, path in outputs.items():
        ids = detections(path)
        digest = hashlib.md5(open(path, "rb").read()).hexdigest()
        print(f"- {tag}: {len(ids)} detections, output md5 {digest}")
        if tag.startswith("lean"):
            # A smaller pack: compared with itself (pushdown must not change its output).
            if lean_ref is None:
                lean_ref = (tag, digest)
            elif digest != lean_ref[1]:
                print(f"  MISMATCH: output differs from {lean_ref[0]}")
                ok = False
            continue
        if ref is None:
            ref = (tag, sorted(ids), digest)
        elif sorted(ids) != ref[1]:
            print(f"  MISMATCH: ids differ from {ref[0]}")
            ok = False
    truth = os.path.join(d, "truth.json")
    checker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden", "check_truth.py")
    if os.path.exists(truth) and "journal" in outputs:
        r = subprocess.run([sys.executable, checker, truth, outputs["journal"]], capture_output=True, text=True)
        if r.returncode == 0:
            print("- ground truth: every planted attack detected, no unexpected detection")
        else:
            ok = False
            print("- ground truth: MISMATCH")
            for line in r.stderr.splitlines()[:20]:
                print(f"  {line}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
