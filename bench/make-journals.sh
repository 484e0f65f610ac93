#!/usr/bin/env bash
# Builds the benchmark journals, deterministically (fixed seed):
#   DIR/jgen.export    jgen bench output (Journal Export Format)
#   DIR/journal/       the same entries through systemd-journal-remote, as .journal
#                      files (journal-remote rotates its output every ~50 MB, so a
#                      300k-entry journal is four files: read as a directory)
#   DIR/bench.export   journalctl -D DIR/journal -o export
#   DIR/bench.json     journalctl -D DIR/journal -o json --all
# The export and JSON forms are made from the .journal files so that all three carry
# journal-remote's cursors, hence the same detection ids.
#   DIR/truth.json     jgen's ground truth (the attacks it planted)
#
# usage: bench/make-journals.sh [DIR] [ENTRIES] [HOSTS] [ATTACKS] [DECOYS] [SEED] [MIX]
# defaults: build/bench/300000 300000 50 12 30 7 issue (the issue's reference size is
# 1000000 50). MIX is jgen's background mix: "issue" (about 2.5% of the records are
# security-relevant, as the issue's reference journal) or "ssh-heavy" (about half sshd).
# An existing set built with the same parameters is kept (DIR/params records them).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dir=${1:-$root/build/bench/300000}
entries=${2:-300000}
hosts=${3:-50}
attacks=${4:-12}
decoys=${5:-30}
seed=${6:-7}
mix=${7:-issue}
remote=${JOURNAL_REMOTE:-/lib/systemd/systemd-journal-remote}

params="entries=$entries hosts=$hosts attacks=$attacks decoys=$decoys seed=$seed mix=$mix"
mkdir -p "$dir"
if [[ -f $dir/params && $(cat "$dir/params") == "$params" && -s $dir/bench.json ]]; then
  echo "make-journals: $dir already holds $params" >&2
  exit 0
fi
rm -rf "$dir"/journal
rm -f "$dir"/jgen.export "$dir"/bench.export "$dir"/bench.json "$dir"/truth.json "$dir"/params

echo "make-journals: generating $params" >&2
python3 "$root/tools/jgen/jgen.py" bench -o "$dir/jgen.export" --entries "$entries" --hosts "$hosts" \
  --attacks "$attacks" --decoys "$decoys" --seed "$seed" --mix "$mix" --truth "$dir/truth.json"

echo "make-journals: converting to .journal" >&2
# journal-remote insists on the .journal suffix and refuses to overwrite.
mkdir -p "$dir/journal"
"$remote" -o "$dir/journal/bench.journal" "$dir/jgen.export"

echo "make-journals: converting to export and JSON lines" >&2
journalctl -D "$dir/journal" -o export > "$dir/bench.export"
journalctl -D "$dir/journal" -o json --all > "$dir/bench.json"

echo "$params" > "$dir/params"
ls -l "$dir" >&2
