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
