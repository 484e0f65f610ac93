#!/bin/sh
# Rebuilds every sample journal (journal.export, expect.json, README.md) and the index
# deterministically from tools/jgen, then validates them.  Usage: sample-journals/regenerate.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/../tools/jgen/jgen.py" cases --out "$here"
python3 "$here/../tools/jgen/jgen.py" validate "$here"/*/journal.export
