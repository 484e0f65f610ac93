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
phase_start=$start
phase() {
  local now
  now=$(date +%s)
  echo "run-tests: $1 took $((now - phase_start))s"
  phase_start=$now
}
cmake --preset ci
cmake --build --preset ci -j"$jobs"
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
