"""``linkage spec show``: a preset, or a spec file, as a whole TOML spec to edit."""

from __future__ import annotations

import argparse
from pathlib import Path

from linkage import presets


def register(subparsers: argparse._SubParsersAction) -> None:
    spec = subparsers.add_parser(
        "spec",
        help="print a link spec as TOML to edit",
        description="Print link specs as TOML that `linkage link --spec FILE` reads.",
    )
    actions = spec.add_subparsers(dest="spec_command", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show",
        help="print a preset or a spec file as a whole, commented TOML spec",
        description="Print a preset (or a spec file, a preset by name with its column "
        "mapping included) as a whole, commented TOML spec: every field, blocking rule and "
        "comparison. Save it, edit it (your column names in left_source / right_source), "
        "and link with `linkage link --spec FILE`. It loads back to the same spec.",
    )
    which = show.add_mutually_exclusive_group(required=True)
    which.add_argument("--preset", choices=("enterprises", "establishments"), help="a preset")
    which.add_argument("--spec", type=Path, help="a TOML spec file")
    show.set_defaults(handler=_show)


def _show(args: argparse.Namespace) -> int:
    if args.preset:
        spec, title = presets.get(args.preset), f"The {args.preset} preset"
    else:
        spec, title = presets.load_spec(args.spec), f"The spec of {args.spec.name}"
    print(presets.spec_to_toml(spec, title=title), end="")
    return 0
