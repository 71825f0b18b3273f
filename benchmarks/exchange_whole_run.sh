#!/usr/bin/env bash
# The nightly feed as a user runs it, whole process: `linkage exchange run` on a
# synthetic exchange (first delivery), then again after ~1% of every extract was
# edited, added or removed (benchmarks/bench_exchange.py `perturb`), each under
# /usr/bin/time -v. Prints wall, peak RSS, user+sys CPU seconds and the run's stage
# timings.
#
#   benchmarks/exchange_whole_run.sh [ENTERPRISES] [FOLDER]
#
# The key is made for this run (random, in the environment only).
#
# By default a run is one process. With LINKAGE_FORK=1 it puts work on the second
# core in forked children (exchange/_aside.py): the peak RSS of /usr/bin/time is then
# that of its largest process; "tree peak PSS" is the memory of the whole process
# tree at its peak (shared pages counted once), sampled every 0.1 s.
#
# Run it on the source tree beside it: PYTHONPATH=src PATH=.venv/bin:$PATH.
set -euo pipefail
n=${1:-20000}
dir=${2:-$(mktemp -d)/exchange}
here=$(cd "$(dirname "$0")" && pwd)
linkage exchange demo --enterprises "$n" --out "$dir" -q > /dev/null
rm -rf "$dir/delivery" "$dir/audit.jsonl"
LINKAGE_MASTER_KEY=$(python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())")
export LINKAGE_MASTER_KEY
echo "commit $(git -C "$here" rev-parse --short HEAD), $n enterprises, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in first rerun; do
    if [ "$round" = rerun ]; then
        python -c "import sys; sys.path.insert(0, '$here'); from pathlib import Path; \
from bench_exchange import perturb; print('records touched:', perturb(Path('$dir/exchange.toml')))"
    fi
    /usr/bin/time -v linkage exchange run --config "$dir/exchange.toml" --json \
        > "$dir/$round.json" 2> "$dir/$round.time" &
    timed=$!
    python - "$timed" > "$dir/$round.tree" <<'SAMPLE' &
import os, sys, time
root, peak = int(sys.argv[1]), 0
while os.path.exists(f"/proc/{root}"):
    parents = {}
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            parents[int(d)] = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            pass
    tree, grew = {root}, True
    while grew:
        more = {p for p, q in parents.items() if q in tree} - tree
        tree, grew = tree | more, bool(more)
    pss = 0
    for p in tree:
        try:
            pss += sum(int(l.split()[1]) for l in open(f"/proc/{p}/smaps_rollup") if l.startswith("Pss:"))
        except OSError:
            pass
    peak = max(peak, pss)
    time.sleep(0.1)
print(peak)
SAMPLE
    wait "$timed"
    wait
    echo "$round: $(grep -E 'Elapsed' "$dir/$round.time" | sed 's/.*: //') wall," \
        "$(grep -E 'Maximum resident' "$dir/$round.time" | sed 's/.*: //') KiB peak RSS," \
        "$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$dir/$round.time") s user+sys," \
        "tree peak PSS $(cat "$dir/$round.tree") KiB"
    python -c "import json; t = json.load(open('$dir/$round.json'))['timings']; \
print('  stages (s):', ', '.join(f'{k} {v:.1f}' for k, v in t.items()))"
done
