"""Checks replayed detections against a case's ground truth (expect.json).

Each expected detection must be matched by at least one detection, and every detection
must match some expected one (no false positives). A detection matches an expectation
when every expected attribute that the detection also carries agrees (user, src_ip,
src_port, session, timer, service, host) and at least the timer or the user is among them.
"""
import json
import sys

KEYS = ("user", "src_ip", "src_port", "session", "timer", "service")


def values_of(det, key):
    if key == "host":
        return {det["host"]["hostname"]}
    v = det.get("values", {}).get(key)
    if v is None:
        return None
    if isinstance(v, list):
        return {str(x) for x in v}
    return {str(v)}


def matches(exp, det):
    anchored = False
    for key in KEYS + ("host",):
        want = exp.get(key)
        if want in (None, ""):
            continue
        got = values_of(det, key)
        if got is None:
            continue
        if str(want) not in got:
            return False
        if key in ("timer", "user"):
            anchored = True
    return anchored


def main():
    truth = json.load(open(sys.argv[1]))
    expected = truth if isinstance(truth, list) else truth.get("detections", truth.get("expected", []))
    dets = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
    problems = []
    for exp in expected:
        if not any(matches(exp, d) for d in dets):
            problems.append("missed: %s" % json.dumps(exp, sort_keys=True))
    for d in dets:
        if not any(matches(exp, d) for exp in expected):
            problems.append("unexpected detection %s (%s): %s" % (d["rule"], d["id"], d["summary"]))
    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
