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
        > "$dir/$round.json" 2> "$dir/$round.time"
    echo "$round: $(grep -E 'Elapsed' "$dir/$round.time" | sed 's/.*: //') wall," \
        "$(grep -E 'Maximum resident' "$dir/$round.time" | sed 's/.*: //') KiB peak RSS," \
        "$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$dir/$round.time") s user+sys"
    python -c "import json; t = json.load(open('$dir/$round.json'))['timings']; \
print('  stages (s):', ', '.join(f'{k} {v:.1f}' for k, v in t.items()))"
done
