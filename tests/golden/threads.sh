#!/bin/sh
# jcorr replay reads one large export or JSON-lines file on several threads; the output
# must be byte for byte what one thread gives. The input is every sample journal one
# after another, twice (15 MB: several 4 MiB pieces), in both formats.
# usage: threads.sh JCORR REPO
set -eu
jcorr=$1
repo=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for round in 1 2; do
  for f in "$repo"/sample-journals/*/journal.export; do
    cat "$f"
    printf '\n'
  done
done >"$tmp/all.export"
"$jcorr" replay --dump "$tmp/all.export" >"$tmp/all.json"

for input in all.export all.json; do
  "$jcorr" replay -q --rules "$repo/rules" --threads 1 -o json "$tmp/$input" >"$tmp/one.jsonl" 2>"$tmp/one.err"
  n=$(wc -l <"$tmp/one.jsonl")
  if [ "$n" -lt 10 ]; then
    echo "threads: $input: only $n detections on one thread" >&2
    exit 1
  fi
  for threads in 2 3; do
    "$jcorr" replay -q --rules "$repo/rules" --threads "$threads" -o json "$tmp/$input" >"$tmp/many.jsonl" 2>"$tmp/many.err"
    if ! cmp -s "$tmp/one.jsonl" "$tmp/many.jsonl"; then
      echo "threads: $input: --threads $threads differs from --threads 1:" >&2
      diff "$tmp/one.jsonl" "$tmp/many.jsonl" | head -20 >&2
      exit 1
    fi
    if ! cmp -s "$tmp/one.err" "$tmp/many.err"; then
      echo "threads: $input: --threads $threads reports differ:" >&2
      diff "$tmp/one.err" "$tmp/many.err" | head -20 >&2
      exit 1
    fi
  done
  echo "threads: $input: $n detections, the same on 1, 2 and 3 threads"
done
