#!/usr/bin/env bash
# Replay benchmark: builds (or reuses) the benchmark journals and measures, in one run on
# the same files, jcorr replay of the .journal, export and JSON forms with the full rule
# pack against journalctl --file … -o export (the baseline) and -o json, and a bare
# mmap-and-split of the export (bench/split-export.cpp, built here). Prints a
# markdown table (medians of RUNS runs) and checks the detections against each other and
# the ground truth; exits 1 when they disagree.
#
# usage: bench/run.sh [ENTRIES] [RUNS] [-- EXTRA...]
#   ENTRIES  journal size (default 300000; the issue's reference is 1000000)
#   RUNS     runs per case (default 5)
#   EXTRA    further cases on the .journal, NAME=ARGS, e.g.
#            "no pushdown=--no-pushdown" "pack without extra=--rules rules/t1053.006-systemd-timers.json"
# environment: JCORR (default build/perf/jcorr), BENCH_DIR (default build/bench/ENTRIES),
#              HOSTS (50), ATTACKS (12), DECOYS (30), SEED (7), MIX (issue), RULES (rules),
#              VARIANTS (1: also --no-pushdown and the pack without its full-scan rule)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
entries=${1:-300000}
runs=${2:-5}
shift $(( $# > 2 ? 2 : $# ))
[[ ${1:-} == -- ]] && shift
dir=${BENCH_DIR:-$root/build/bench/$entries}
jcorr=${JCORR:-$root/build/perf/jcorr}

"$here/make-journals.sh" "$dir" "$entries" "${HOSTS:-50}" "${ATTACKS:-12}" "${DECOYS:-30}" "${SEED:-7}" "${MIX:-issue}"
split=$root/build/split-export
if [[ ! -x $split || $here/split-export.cpp -nt $split ]]; then
  mkdir -p "$root/build"
  g++ -O2 -std=c++20 -o "$split" "$here/split-export.cpp"
fi
extra=()
for e in "$@"; do extra+=(--extra "$e"); done
cd "$root"
variants=()
[[ ${VARIANTS:-1} == 1 ]] && variants=(--variants)
exec python3 "$here/run.py" --dir "$dir" --jcorr "$jcorr" --rules "${RULES:-rules}" --runs "$runs" --split "$split" \
  "${variants[@]}" "${extra[@]}"
