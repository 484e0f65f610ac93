"""Reads detection JSON lines on stdin and writes them canonically: sorted keys, one per line."""
import json
import sys

for line in sys.stdin:
    line = line.strip()
    if line:
        print(json.dumps(json.loads(line), sort_keys=True, ensure_ascii=False, separators=(",", ":")))
