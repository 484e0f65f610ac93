#!/usr/bin/env bash
# Runs one libFuzzer harness for the ctest `fuzz` label:
#   run_fuzzer.sh HARNESS SEED_CORPUS REGRESSIONS_DIR DICT SECONDS WORK_DIR
# 1. every file in REGRESSIONS_DIR (inputs that once crashed) must run clean;
# 2. then it fuzzes for SECONDS, starting from SEED_CORPUS, writing new inputs and any
#    crash artifact under WORK_DIR (the seed corpus in the repository is only read).
# Fails when a regression input or a fuzzed input crashes, leaks, times out or runs
# out of memory.
set -euo pipefail
harness=$1 corpus=$2 regressions=$3 dict=$4 seconds=$5 work=$6
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
common=(-rss_limit_mb=2048 -timeout=25 -artifact_prefix="$work/artifacts/")
if [[ -d $regressions ]]; then
  shopt -s nullglob
  inputs=("$regressions"/*)
  shopt -u nullglob
  if ((${#inputs[@]})); then
    echo "replaying ${#inputs[@]} regression input(s) from $regressions"
    "$harness" "${common[@]}" "${inputs[@]}"
  fi
fi
dict_opt=()
[[ -f $dict ]] && dict_opt=(-dict="$dict")
"$harness" "${common[@]}" "${dict_opt[@]}" -max_total_time="$seconds" -print_final_stats=1 \
  "$work/corpus" "$corpus"
