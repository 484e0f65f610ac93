#!/usr/bin/env bash
# Long local fuzzing runs of the libFuzzer harnesses (the ctest `fuzz` label runs each
# for 15 seconds only). See docs/hostile-input.md.
#
#   tools/fuzz-long.sh [-t SECONDS] [-w WORKERS] [-b BUILD_DIR] [HARNESS...]
#
#   -t SECONDS   budget per harness (default 3600)
#   -w WORKERS   parallel fuzzing processes per harness (default 1)
#   -b DIR       fuzz build directory (default build/fuzz, the fuzz preset's; configured like
#                that preset when absent)
#   HARNESS      export_reader json_reader rule_loader rule_mutator detection_render correlate
#                unit_file webhook_template (default: all)
#
# Each harness keeps a growing corpus in DIR/long/<harness>/corpus (seeded from
# tests/fuzz/corpus/<harness>; the repository's seeds are only read) and writes crash,
# leak, timeout and out-of-memory inputs to DIR/long/<harness>/artifacts/. To keep a
# crash as a regression test, fix it, then copy the input into
# tests/fuzz/regressions/<harness>/ (the ctest run replays every file there).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=3600 workers=1 build=build/fuzz
while getopts "t:w:b:h" opt; do
  case $opt in
    t) seconds=$OPTARG ;;
    w) workers=$OPTARG ;;
    b) build=$OPTARG ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

all=(export_reader json_reader rule_loader rule_mutator detection_render correlate unit_file webhook_template)
harnesses=("$@")
((${#harnesses[@]})) || harnesses=("${all[@]}")

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER="${CXX:-clang++-16}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DJCORR_WERROR=ON -DJCORR_SANITIZE=ON -DJCORR_FUZZ=ON
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

declare -A corpus_of=([rule_mutator]=rule_loader)
declare -A dict_of=([export_reader]=journal [json_reader]=json [rule_loader]=rules [rule_mutator]=rules
                    [detection_render]=journal [correlate]=journal [unit_file]=unit_file
                    [webhook_template]=webhook_template)
status=0
summary=()
for h in "${harnesses[@]}"; do
  bin=$PWD/$build/tests/fuzz/fuzz_$h
  [[ -x $bin ]] || { echo "fuzz-long: $bin is not built (skipped)" >&2; continue; }
  dir=$PWD/$build/long/$h
  mkdir -p "$dir/corpus" "$dir/artifacts"
  seeds=$PWD/tests/fuzz/corpus/${corpus_of[$h]:-$h}
  dict=$PWD/tests/fuzz/dict/${dict_of[$h]}.dict
  echo "== $h: ${seconds}s, $workers worker(s), corpus $dir/corpus"
  opts=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1
        -artifact_prefix="$dir/artifacts/" -dict="$dict")
  if ((workers > 1)); then opts+=(-jobs="$workers" -workers="$workers"); fi
  # With several workers libFuzzer writes fuzz-N.log into the current directory.
  if ! (cd "$dir" && "$bin" "${opts[@]}" "$dir/corpus" "$seeds" 2>"$dir/log"); then
    status=1
    echo "fuzz-long: $h found a problem; see $dir/log and $dir/artifacts/" >&2
  fi
  shopt -s nullglob
  logs=("$dir"/log "$dir"/fuzz-*.log)
  shopt -u nullglob
  execs=$(cat "${logs[@]}" | { grep -o 'stat::number_of_executed_units: *[0-9]*' || true; } | awk '{s+=$2} END{print s+0}')
  summary+=("$h: $execs executions ($((execs / seconds))/s), $(find "$dir/corpus" -type f | wc -l) corpus files\
 ($(du -sk --apparent-size "$dir/corpus" | cut -f1) KiB), $(find "$dir/artifacts" -type f | wc -l) artifacts")
done
printf '%s\n' "${summary[@]}"
exit $status
