"""Where a feed run spends its time and memory: ``linkage exchange run`` in this
process, sampled.

Run::

    PYTHONPATH=src python benchmarks/feed_timeline.py CONFIG OUT [--every 0.25]

The run is the command's (its key from the configuration, as there). Every
``--every`` seconds a thread notes the cores the process kept busy since the last
sample, its RSS, Arrow's allocated bytes, the main thread's innermost frames of
``linkage`` and the other threads' names; OUT gets one line per sample under a
line of totals (wall, CPU, peak RSS), which is also printed. A stage's cores (1.0:
one thread at a time) and the memory of the stage at the peak are what the whole
process's figures (``exchange_whole_run.sh``) do not show.

The sampler holds the main thread's frames for a moment: pandas may then log a
spurious ``SettingWithCopyWarning`` (it sees a copy's parent alive).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def _rss_mib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return 0


def _stage(thread_id: int, depth: int = 4) -> str:
    """The innermost ``depth`` frames of ``linkage`` code in a thread, outer first."""
    frame = sys._current_frames().get(thread_id)
    names = []
    while frame is not None:
        if f"{os.sep}linkage{os.sep}" in frame.f_code.co_filename:
            names.append(frame.f_code.co_name)
        frame = frame.f_back
    del frame
    return ">".join(reversed(names[:depth]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--every", type=float, default=0.25, help="seconds between samples")
    args = parser.parse_args(argv)
    from linkage.cli import main as linkage

    samples: list[str] = []
    done = threading.Event()
    me = threading.main_thread().ident or 0

    def sample() -> None:
        start, last, cpu = time.perf_counter(), time.perf_counter(), _cpu()
        while not done.wait(args.every):
            now, used = time.perf_counter(), _cpu()
            others = sorted(
                {t.name.split("_")[0] for t in threading.enumerate()} - {"MainThread", "sampler"}
            )
            samples.append(
                f"{now - start:6.2f} {(used - cpu) / (now - last):4.2f} {_rss_mib():5d} "
                f"{pa.total_allocated_bytes() >> 20:5d} {_stage(me)} [{','.join(others)}]"
            )
            last, cpu = now, used

    sampler = threading.Thread(target=sample, name="sampler", daemon=True)
    started, cpu = time.perf_counter(), _cpu()
    sampler.start()
    try:
        code = linkage(["exchange", "run", "--config", str(args.config), "--json", "-q"])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    done.set()
    sampler.join()
    peak = max((int(s.split()[2]) for s in samples), default=_rss_mib())
    totals = (
        f"wall {time.perf_counter() - started:.1f} s, cpu {_cpu() - cpu:.1f} s, "
        f"peak RSS {peak} MiB (exit {code})"
    )
    header = "seconds cores rss_mib arrow_mib main_thread [other threads]"
    args.out.write_text("\n".join([totals, header, *samples]) + "\n")
    print(totals, file=sys.stderr)
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
