#!/usr/bin/env bash
# Builds jcorr and runs the whole test suite: the CI build (warnings are errors) with
# every ctest label, then the AddressSanitizer/UndefinedBehaviorSanitizer build of the
# unit, golden and diagnostics tests.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
start=$(date +%s)
# The e2e label boots a Debian 12 tree (tests/e2e/build-tree.sh): build it, when it is
# not cached yet, while the compiler runs. A failure here is not fatal: the e2e test
# builds it again and fails with the reason.
tree_log=$(mktemp)
tests/e2e/build-tree.sh >"$tree_log" 2>&1 &
tree_pid=$!
cmake --preset ci
cmake --build --preset ci -j"$jobs"
wait "$tree_pid" || { echo "building the e2e tree failed (the e2e test retries):"; tail -n 20 "$tree_log"; }
echo "e2e tree ready after $(( $(date +%s) - start ))s"
rm -f "$tree_log"
ctest --preset ci -j"$jobs"
cmake --preset asan
cmake --build --preset asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -j"$jobs" -LE 'e2e|bench'
echo "test suite finished in $(( $(date +%s) - start ))s"
