"""Which function of a feed run runs when, in which thread, for how much CPU:
``linkage exchange run`` in this process, its stages wrapped.

Run::

    PYTHONPATH=src python benchmarks/feed_spans.py CONFIG [--also MODULE:NAME ...]

The run is the command's (its key from the environment, as there). Each function of
:data:`SPANS` (and each ``--also``; ``MODULE:Class.method`` for a method) is wrapped
where the run looks it up: every call gives a line of thread, name, start and end
(seconds since this script started) and the thread's CPU in between. Every 0.05 s a
thread notes the process's RSS, CPU, minor page faults and kernel time, printed per
0.5 s (the most RSS; busy cores, faults and kernel cores over it). Everything goes to
standard error, spans sorted by start. This is the "tl3" timeline of
``benchmarks/runs/exchange_485k_stop38.txt`` to ``stop43.txt``. A function the
code no longer has is named in a ``skip`` line and left out.

Wrapping costs a few microseconds a call; the checks are timed one by one through
``linkage.exchange._quality.call``.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import resource
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from feed_timeline import _rss_mib

STARTED = time.perf_counter()

_RUN = "linkage.exchange._run"
_LINKS = "linkage.exchange._links"
_DELIVERY = "linkage.exchange._delivery"
_QUALITY = "linkage.exchange._quality"
_DEFECTS = "linkage.exchange._defects"
_PIPELINE = "linkage.pipeline"

#: What is wrapped: (module, name, other modules that imported the name).
SPANS: list[tuple[str, str, tuple[str, ...]]] = [
    ("linkage.exchange._extract", "read_extracts", (_RUN,)),
    (_RUN, "_vdab", ()),
    (_RUN, "_defects_aside", ()),
    (_LINKS, "prepare_vdab_side", (_RUN,)),
    ("linkage.exchange._shape", "shaped", (_RUN,)),
    ("linkage.exchange._shape", "known_keys", (_RUN,)),
    (_RUN, "apply_kept", ()),
    (_RUN, "_as_linked", ()),
    (_RUN, "give_back", ()),
    (_RUN, "_write_each", ()),
    (_DELIVERY, "_write_table", ()),
    ("linkage.exchange._diff", "diff_table", (_DELIVERY,)),
    (_RUN, "_link", ()),
    (_LINKS, "link_to_vdab", ()),
    (_LINKS, "fingerprinted", ()),
    (_LINKS, "_read_earlier", ()),
    (_LINKS, "_deduplicated", ()),
    (_LINKS, "_subframe", ()),
    (_LINKS, "one_value", ()),
    (_LINKS, "_reasons", ()),
    (_LINKS, "_outer_merge", ()),
    (_LINKS, "_maybe_moved", ()),
    (_LINKS, "_delivered_links", ()),
    (_LINKS, "give_back", ()),
    (_LINKS, "write_state", ()),
    (_PIPELINE, "link", (_LINKS,)),
    (_PIPELINE, "prepare", ()),
    (_PIPELINE, "_ids", ()),
    (_PIPELINE, "_prepared", ()),
    (_PIPELINE, "_parent_codes", ()),
    (_PIPELINE, "_increment", ()),
    (_PIPELINE, "record_keys", ()),
    ("linkage.blocking", "candidate_pairs", (_PIPELINE,)),
    (_PIPELINE, "score_pairs", ()),
    (_RUN, "_write_links", ()),
    (_RUN, "_set_aside", ()),
    (_RUN, "_taken", ()),
    (_RUN, "_quality", ()),
    (_QUALITY, "quality_defects", (_RUN,)),
    (_QUALITY, "classified", (_RUN,)),
    (_DEFECTS, "earlier_defects", (_RUN,)),
    ("linkage.exchange._checks", "vdab_disagreements", (_RUN,)),
    (_DEFECTS, "with_status", (_RUN,)),
    (_QUALITY, "write_quality", (_RUN,)),
    (_DELIVERY, "describe_files", ()),
]

#: Blocking rules' pairs, each in its thread.
METHODS = [
    ("linkage.rules", "BlockOn.pairs"),
    ("linkage.rules", "SplitBlockOn.pairs"),
    ("linkage.rules", "SharedToken.pairs"),
    ("linkage.rules", "SortedNeighbourhood.pairs"),
]

Span = tuple[str, str, float, float, float]
#: A sample: seconds, RSS (MiB), CPU seconds, minor faults, kernel seconds.
Sample = tuple[float, int, float, int, float]


def _timed(fn: Callable[..., Any], label: str, spans: list[Span]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spans.append(
                (
                    threading.current_thread().name,
                    label,
                    start - STARTED,
                    time.perf_counter() - STARTED,
                    time.thread_time() - cpu,
                )
            )

    return timed


def wrap(spans: list[Span], module: str, name: str, also: tuple[str, ...] = ()) -> None:
    """Wrap ``module.name`` (a function, or ``Class.method``) where ``module`` and
    ``also`` hold it; a name the code no longer has is skipped, and said."""
    try:
        owner: Any = importlib.import_module(module)
        *classes, attr = name.split(".")
        for part in classes:
            owner = getattr(owner, part)
        fn = owner.__dict__[attr] if classes else getattr(owner, attr)
    except (AttributeError, KeyError, ImportError) as exc:
        print(f"skip {module}:{name} ({exc!r})", file=sys.stderr)
        return
    timed = _timed(fn, name, spans)
    setattr(owner, attr, timed)
    for other in also:
        setattr(importlib.import_module(other), attr, timed)


def _sample(samples: list[Sample], done: threading.Event) -> None:
    while not done.wait(0.05):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        samples.append(
            (
                time.perf_counter() - STARTED,
                _rss_mib(),
                usage.ru_utime + usage.ru_stime,
                usage.ru_minflt,
                usage.ru_stime,
            )
        )


def _per_half_second(samples: list[Sample]) -> dict[str, dict[int, float]]:
    """Per 0.5 s: the most RSS (MiB), busy cores, minor faults (thousands), kernel cores."""
    rows: dict[str, dict[int, float]] = {"rss": {}, "cores": {}, "faults": {}, "sys": {}}
    first: dict[int, tuple[float, int, float]] = {}
    for at, rss, cpu, faults, kernel in samples:
        slot = int(at * 2)
        rows["rss"][slot] = max(rows["rss"].get(slot, 0), rss)
        begun = first.setdefault(slot, (cpu, faults, kernel))
        rows["cores"][slot] = (cpu - begun[0]) * 2
        rows["faults"][slot] = (faults - begun[1]) // 1000
        rows["sys"][slot] = (kernel - begun[2]) * 2
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument(
        "--also", action="append", default=[], help="MODULE:NAME (or MODULE:Class.method)"
    )
    args = parser.parse_args(argv)
    spans: list[Span] = []
    for module, name, also in SPANS:
        wrap(spans, module, name, also)
    for module, name in METHODS:
        wrap(spans, module, name)
    for extra in args.also:
        module, _, name = extra.partition(":")
        wrap(spans, module, name)
    quality = importlib.import_module(_QUALITY)

    def call(check: Callable[[], Any]) -> Any:
        name = getattr(getattr(check, "func", check), "__name__", "?")
        return _timed(check, f"chk:{name}", spans)()

    setattr(quality, "call", call)  # noqa: B010 (a module attribute the checks are run by)
    samples: list[Sample] = []
    done = threading.Event()
    sampler = threading.Thread(target=_sample, args=(samples, done), name="sampler", daemon=True)
    sampler.start()
    from linkage.cli import main as linkage

    try:
        code = linkage(["exchange", "run", "--config", args.config, "--json"])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    done.set()
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out = sys.stderr
    print(
        f"end {time.perf_counter() - STARTED:.2f} s, CPU {usage.ru_utime + usage.ru_stime:.1f}, "
        f"peak {usage.ru_maxrss:,} KiB (exit {code})",
        file=out,
    )
    for thread, label, start, end, cpu in sorted(spans, key=lambda span: span[2]):
        print(
            f"{thread[:22]:<22} {label:<22} {start:6.2f} -> {end:6.2f}  "
            f"({end - start:5.2f} s, cpu {cpu:5.2f})",
            file=out,
        )
    titles = {
        "rss": ("RSS per 0.5 s (MiB max):", ".0f"),
        "cores": ("cores busy per 0.5 s:", ".1f"),
        "faults": ("minor faults (k) per 0.5 s:", ".0f"),
        "sys": ("sys cores per 0.5 s:", ".1f"),
    }
    for key, values in _per_half_second(samples).items():
        title, form = titles[key]
        print(title, file=out)
        line = " ".join(f"{slot / 2:.1f}:{value:{form}}" for slot, value in values.items())
        print(line, file=out)
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
