#!/usr/bin/env bash
# Replays one sample journal with the shipped rules and compares the detections with
# the case's expected.jsonl exactly (canonical JSON lines). With JCORR_UPDATE_GOLDEN=1
# it rewrites expected.jsonl instead, for review as a diff. It also checks the case's
# ground truth (expect.json) independently of the golden file.
set -euo pipefail
jcorr=$1 case_dir=$2 rules=$3
here=$(cd "$(dirname "$0")" && pwd)
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
"$jcorr" replay --strict --output json --rules "$rules" "$case_dir/journal.export" \
  | python3 "$here/canonical.py" > "$actual"
if [[ "${JCORR_UPDATE_GOLDEN:-}" == 1 ]]; then
  cp "$actual" "$case_dir/expected.jsonl"
  echo "updated $case_dir/expected.jsonl"
fi
python3 "$here/check_truth.py" "$case_dir/expect.json" "$actual"
if ! diff -u "$case_dir/expected.jsonl" "$actual"; then
  echo "golden mismatch for $case_dir (JCORR_UPDATE_GOLDEN=1 regenerates it)" >&2
  exit 1
fi

# The same case as a .journal file (systemd-journal-remote), replayed with the rules'
# anchors pushed down into sd-journal (the default: the pack's full-scan event is
# deferred to the units detections name) and reading every entry (--no-pushdown): both
# give the same detections.
remote=/lib/systemd/systemd-journal-remote
[[ -x $remote ]] || remote=/usr/lib/systemd/systemd-journal-remote
work=$(mktemp -d)
trap 'rm -f "$actual"; rm -rf "$work"' EXIT
"$remote" -o "$work/case.journal" - < "$case_dir/journal.export" 2> "$work/remote.err" \
  || { cat "$work/remote.err" >&2; echo "systemd-journal-remote could not convert $case_dir" >&2; exit 1; }
"$jcorr" replay --strict --output json --rules "$rules" "$work/case.journal" \
  | python3 "$here/canonical.py" > "$work/pushed.jsonl"
"$jcorr" replay --strict --output json --no-pushdown --rules "$rules" "$work/case.journal" \
  | python3 "$here/canonical.py" > "$work/full.jsonl"
if ! diff -u "$work/full.jsonl" "$work/pushed.jsonl"; then
  echo "push-down changed the detections of $case_dir's .journal" >&2
  exit 1
fi
# journald's cursor x= part (the XOR of the jenkins hash of every data object) is kept
# by the conversion, so the .journal's detections carry the export's ids.
ids() { python3 -c 'import json,sys; print("\n".join(json.loads(l)["id"] for l in sys.stdin if l.strip()))' < "$1"; }
if ! diff -u <(ids "$actual") <(ids "$work/pushed.jsonl"); then
  echo "the .journal of $case_dir gives other detection ids than its export" >&2
  exit 1
fi
