#!/usr/bin/env bash
# Builds jcorr and runs the whole test suite: the CI build (warnings are errors) with
# every ctest label, the AddressSanitizer/UndefinedBehaviorSanitizer build of the unit,
# integration, golden, diagnostics and rules tests, then the libFuzzer harnesses (clang 16,
# the same sanitizers): each replays its regression inputs and fuzzes for a short budget
# (JCORR_FUZZ_SECONDS in the fuzz preset; tools/fuzz-long.sh for long runs).
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
phase_start=$start
phase() {
  local now
  now=$(date +%s)
  echo "run-tests: $1 took $((now - phase_start))s"
  phase_start=$now
}
cmake --preset ci
cmake --build --preset ci -j"$jobs"
wait "$tree_pid" || { echo "building the e2e tree failed (the e2e test retries):"; tail -n 20 "$tree_log"; }
echo "e2e tree ready after $(( $(date +%s) - start ))s"
rm -f "$tree_log"
ctest --preset ci -j"$jobs"
phase "ci build and tests"
cmake --preset asan
cmake --build --preset asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -j"$jobs" -LE 'e2e|bench'
phase "asan build and tests"
cmake --preset fuzz
cmake --build --preset fuzz -j"$jobs"
ctest --preset fuzz -j"$jobs"
phase "fuzz build and harnesses"
echo "test suite finished in $(( $(date +%s) - start ))s"
