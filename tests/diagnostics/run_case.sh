#!/usr/bin/env bash
# One diagnostics case: runs `jcorr rules check` on a bad rule file and compares its
# whole output with <case>.expected, exactly.
#
#   run_case.sh JCORR_BINARY CASE.json
#
# The check runs in the case's directory on the file's basename, so the file names in
# the output (and in messages) are basenames whatever the checkout path. A case that
# needs a second rule file (say, a list defined twice across files) keeps it beside
# itself as <case>.extra; it is checked together with the case, after it.
#
# The exit code must be 3 when the expected output holds an error, 0 when it holds
# only warnings. JCORR_UPDATE_GOLDEN=1 rewrites <case>.expected from the actual output
# instead of comparing (review the diff before committing it).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 JCORR_BINARY CASE.json" >&2
  exit 2
fi

bin=$(realpath -- "$1")
case_file=$(realpath -- "$2")
dir=$(dirname -- "$case_file")
name=$(basename -- "$case_file")
stem=${name%.json}
expected="$dir/$stem.expected"

[[ -x $bin ]] || { echo "$0: $1 is not an executable" >&2; exit 2; }
[[ -f $case_file ]] || { echo "$0: no such case: $2" >&2; exit 2; }

args=("$name")
[[ -f "$dir/$stem.extra" ]] && args+=("$stem.extra")

actual=$(mktemp)
trap 'rm -f -- "$actual"' EXIT

status=0
(cd -- "$dir" && "$bin" rules check "${args[@]}") >"$actual" 2>&1 || status=$?

if [[ ${JCORR_UPDATE_GOLDEN:-} == 1 ]]; then
  cp -- "$actual" "$expected"
  echo "updated $expected (exit code $status)"
  exit 0
fi

[[ -f $expected ]] || { echo "$0: missing $expected" >&2; exit 1; }

# An error line reads "file:line:col:/pointer [rule] error code: message".
if grep -Eq ' error [a-z]+\.[a-z_.]+: ' -- "$expected"; then
  want_status=3
else
  want_status=0
fi

failed=0
if ! diff -u --label "$stem.expected" --label "jcorr rules check $name" -- "$expected" "$actual"; then
  echo "FAIL: the output differs from $stem.expected" >&2
  failed=1
fi
if [[ $status -ne $want_status ]]; then
  echo "FAIL: exit code $status, expected $want_status" >&2
  failed=1
fi
exit "$failed"
