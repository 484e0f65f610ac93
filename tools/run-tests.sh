#!/usr/bin/env bash
# Builds jcorr and runs the whole test suite: the CI build (warnings are errors) with
# every ctest label, then the AddressSanitizer/UndefinedBehaviorSanitizer build of the
# unit, golden and diagnostics tests.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
start=$(date +%s)
cmake --preset ci
cmake --build --preset ci -j"$jobs"
ctest --preset ci -j"$jobs"
cmake --preset asan
cmake --build --preset asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -j"$jobs" -LE 'e2e|bench'
echo "test suite finished in $(( $(date +%s) - start ))s"
