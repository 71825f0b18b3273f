"""``linkage exchange ...``: the protocol's ETL job and its other articles.

* ``run --config F`` — read, validate, minimise, pseudonymise, link and deliver;
* ``purge --config F (--party P | --all)`` — withdrawal or end (art. 3);
* ``subject find|erase|rectify --config F (--email E | --first-name A --last-name B |
  --key K | --enterprise-number N) [--person ID] [--apply --reference R]`` — data-subject
  rights (art. 11): erase and rectify are dry runs until ``--person ID --apply``;
* ``correct --config F --party P FILE`` — a sender's corrections (art. 8): delete,
  complete or adjust records by the sender's own ids, as a new delivery; exit 3 and
  nothing written for a bad file;
* ``employer-view --config F --employer-id W --out DIR [--reference R] [--role R]`` —
  one employer's own data (art. 4), as an employer role sees it, audited;
* ``show --config F`` — the delivery in force and the validity window (audited as a
  read; refused after the protocol's end, which asks for ``purge --all``);
* ``verify --config F [--repair]`` — check the store against its manifests; repair it;
* ``demo [--enterprises N] [--out DIR]`` — the whole job on synthetic data.

Subject requests take the person's e-mail or name as arguments; they reach the
process and the shell history, never the audit log or any output file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, type=Path, help="the exchange's TOML file")


def _person_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--email", help="the person's e-mail address")
    parser.add_argument("--first-name", help="the person's first name (with --last-name)")
    parser.add_argument("--last-name", help="the person's last name (with --first-name)")
    parser.add_argument(
        "--key", help="a key of one of their records (enterprise, contact or staff key)"
    )
    parser.add_argument("--enterprise-number", help="the number of an enterprise of theirs")
    parser.add_argument("--person", help="the id of one person a search listed (p-...)")
    parser.add_argument("--reference", default="", help="the request's reference, for the audit")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``exchange`` group."""
    exchange = subparsers.add_parser(
        "exchange",
        help="run the VLAIO/TBT -> VDAB exchange and its purges and subject requests",
        description="The protocol's ETL job: read each sending party's extracts, keep what "
        "art. 3 allows, pseudonymise every key, link to VDAB's employers and deliver "
        "Parquet tables atomically; purge a party's data; answer data-subject requests.",
    )
    actions = exchange.add_subparsers(dest="exchange_command", metavar="ACTION", required=True)

    run = actions.add_parser(
        "run",
        help="run the exchange once and deliver",
        description="Run the exchange once; refused outside the "
        "protocol's validity window. Prints what changed since the "
        "last delivery.",
    )
    _config_option(run)
    run.add_argument(
        "--withhold-invalid",
        action="store_true",
        help="withhold records with an invalid enterprise or establishment "
        "number and report them, instead of refusing the run",
    )
    run.add_argument("--json", action="store_true", help="print the manifest as JSON")
    run.set_defaults(handler=_run)

    refit = actions.add_parser(
        "refit",
        help="fit new link models: show what they would change, then --apply",
        description="The first delivery freezes the link models and later runs re-link "
        "only what changed. Refit fits new ones on today's extracts and shows how many "
        "links they would change (nothing is delivered); --apply delivers them.",
    )
    _config_option(refit)
    refit.add_argument("--apply", action="store_true", help="deliver the refitted links")
    refit.add_argument(
        "--out",
        help="write the links the refit would change (.csv or .parquet): link, record, "
        "employer or site before and after, reason",
    )
    refit.set_defaults(handler=_refit)

    purge = actions.add_parser(
        "purge",
        help="remove a party's data, or everything (art. 3)",
        description="Remove everything received from one party (withdrawal) or from all "
        "(end of the protocol): its records in the delivery, its extract files (its rows "
        "of a mixed file), its subject requests' data and the outputs they wrote; then "
        "prove it by reading every file of the store, the extract paths and the outputs. "
        "Exit 1 if it cannot prove it.",
    )
    _config_option(purge)
    which = purge.add_mutually_exclusive_group(required=True)
    which.add_argument("--party", help="the withdrawing party, e.g. TBT")
    which.add_argument("--all", action="store_true", help="everything (end of the protocol)")
    purge.set_defaults(handler=_purge)

    subject = actions.add_parser(
        "subject",
        help="find, erase or rectify a person (art. 11)",
        description="Find, erase or rectify every delivered record about one person, found "
        "by e-mail, by first and last name, by a key or by an enterprise number. Erase and "
        "rectify are dry runs that show who matches and what would change; --person ID "
        "--apply --reference R acts on the one person chosen.",
    )
    requests = subject.add_subparsers(dest="subject_command", metavar="REQUEST", required=True)
    find = requests.add_parser("find", help="list the person's records (access)")
    _config_option(find)
    _person_options(find)
    find.add_argument(
        "--out",
        type=Path,
        help="write one person's records to this folder (a CSV per party and table; "
        "a purge or an erasure removes it)",
    )
    find.set_defaults(handler=_find)
    erase = requests.add_parser("erase", help="erase the person's records (dry run first)")
    _config_option(erase)
    _person_options(erase)
    erase.add_argument("--apply", action="store_true", help="erase (needs --person, --reference)")
    erase.set_defaults(handler=_erase)
    rectify = requests.add_parser("rectify", help="correct the person's records (dry run first)")
    _config_option(rectify)
    _person_options(rectify)
    rectify.add_argument(
        "--set",
        action="append",
        required=True,
        metavar="FIELD=VALUE",
        help="a person field to set (first_name, last_name, function, "
        "service, department, email, phone); repeatable",
    )
    rectify.add_argument(
        "--apply", action="store_true", help="rectify (needs --person, --reference)"
    )
    rectify.set_defaults(handler=_rectify)

    correct = actions.add_parser(
        "correct",
        help="apply a sending party's corrections file (art. 8)",
        description="Apply a sender's answer to the quality report: one row per correction "
        "(record_id, table, action: delete / complete / adjust, field, value), checked whole "
        "against the protocol and the delivery in force, then delivered atomically as a new "
        "delivery and kept as rules until the sender's extract carries them. The defects it "
        "answers are fixed in the report. A bad file is one line naming its row and column "
        "(exit 3), and nothing is written.",
    )
    _config_option(correct)
    correct.add_argument("--party", required=True, help="the sending party, e.g. VLAIO")
    correct.add_argument("--reference", default="", help="the sender's reference, for the audit")
    correct.add_argument("file", type=Path, help="the corrections file (.csv or .parquet)")
    correct.set_defaults(handler=_correct)

    employer = actions.add_parser(
        "employer-view",
        help="write one employer's own data (art. 4)",
        description="Write exactly one VDAB employer's own data from the delivery in force: "
        "its links, the enterprises and establishments they reach, their dossiers, contacts, "
        "amounts and services (a CSV per party and table, 0600, to a new or empty folder; "
        "a purge removes it). Audited with the reference and counts, never the employer id. "
        "Refused after the protocol's end.",
    )
    _config_option(employer)
    employer.add_argument("--employer-id", required=True, help="VDAB's employer id")
    employer.add_argument("--out", required=True, type=Path, help="a new or empty folder")
    employer.add_argument("--reference", default="", help="the request's reference, for the audit")
    employer.add_argument(
        "--role",
        help="an employer role of [output] roles: only the tables and columns it sees",
    )
    employer.set_defaults(handler=_employer_view)

    show = actions.add_parser(
        "show",
        help="show the delivery in force",
        description="Show the delivery in force (tables and rows per party) and the "
        "protocol's validity window with its renewals. Logged in the audit log as a read. "
        "Refused after the protocol's end: then purge --all.",
    )
    _config_option(show)
    show.set_defaults(handler=_show)

    verify = actions.add_parser(
        "verify",
        help="check the store against its manifests; --repair what can be",
        description="Check every file of the delivery in force and of the fallback against "
        "its manifest (size and sha256), the withdrawals and the audit log. --repair sets a "
        "damaged delivery aside and puts the last good one in force, and finishes an "
        "interrupted purge. Exit 1 if anything is left to do.",
    )
    _config_option(verify)
    verify.add_argument("--repair", action="store_true", help="repair what can be")
    verify.set_defaults(handler=_verify)

    demo = actions.add_parser(
        "demo",
        help="the whole exchange on synthetic data",
        description="Generate a synthetic exchange, write per-party "
        "extracts, make a key on the spot, run the exchange, and score "
        "the links against the synthetic truth.",
    )
    demo.add_argument(
        "--enterprises", type=int, default=20_000, metavar="N", help="enterprises (default: 20000)"
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("exchange-demo"),
        help="output directory (default: ./exchange-demo)",
    )
    demo.set_defaults(handler=_demo)


def _run(args: argparse.Namespace) -> int:
    from linkage.exchange import load_config, run

    result = run(
        load_config(args.config), invalid_numbers="withhold" if args.withhold_invalid else "refuse"
    )
    print(json.dumps(result.manifest, indent=2) if args.json else result.summary())
    return 0


def _refit(args: argparse.Namespace) -> int:
    from linkage.exchange import load_config, preview_refit, run
    from linkage.io import check_output, write_table

    config = load_config(args.config)
    if args.apply:
        print(run(config, refit=True).summary())
        return 0
    out = check_output(args.out) if args.out else None
    feed = preview_refit(config)
    for name, reasons in feed.summary()["changed"].items():
        print(f"{name}: {sum(reasons.values()):,} links would change")
    if out is not None:
        write_table(feed.changed_links(), out)
        print(f"the links that would change: {out}")
    print("nothing delivered; run again with --apply to deliver the refitted links")
    return 0


def _purge(args: argparse.Namespace) -> int:
    from linkage.exchange import load_config, purge

    report = purge(load_config(args.config), party=args.party, everything=args.all)
    print(report.summary())
    return 0 if report.complete else 1


def _person(args: argparse.Namespace) -> dict[str, Any]:
    return {
        name: getattr(args, name)
        for name in ("email", "first_name", "last_name", "key", "enterprise_number", "person")
    }


def _find(args: argparse.Namespace) -> int:
    from linkage.exchange import find_subject, load_config

    config = load_config(args.config)
    report = find_subject(config, reference=args.reference, out=args.out, **_person(args))
    print(report.summary())
    return 0


def _erase(args: argparse.Namespace) -> int:
    from linkage.exchange import erase_subject, load_config

    config = load_config(args.config)
    report = erase_subject(config, reference=args.reference, apply=args.apply, **_person(args))
    print(report.summary())
    return 1 if report.proof is not None and report.proof.left else 0


def _rectify(args: argparse.Namespace) -> int:
    from linkage.exceptions import ConfigError
    from linkage.exchange import load_config, rectify_subject

    changes = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set: expected FIELD=VALUE, got a value without '=' for {name!r}")
        changes[name.strip()] = value
    config = load_config(args.config)
    report = rectify_subject(
        config, changes, reference=args.reference, apply=args.apply, **_person(args)
    )
    print(report.summary())
    return 0


def _correct(args: argparse.Namespace) -> int:
    from linkage.exchange import correct, load_config

    report = correct(load_config(args.config), args.party, args.file, reference=args.reference)
    print(report.summary())
    return 0


def _employer_view(args: argparse.Namespace) -> int:
    from linkage.exchange import employer_view, load_config

    view = employer_view(
        load_config(args.config),
        args.employer_id,
        out=args.out,
        reference=args.reference,
        role=args.role,
    )
    print(view.summary())
    return 0


def _show(args: argparse.Namespace) -> int:
    from linkage.exceptions import LinkageError, SchemaError
    from linkage.exchange import load_config, read_delivery
    from linkage.exchange._audit import append_event, reason, record_read

    config = load_config(args.config)
    try:
        config.refuse_expired()  # after the end, nothing received may be read
        current = read_delivery(config.store, config_file=args.config)
    except LinkageError as exc:
        try:
            append_event(config.audit_log, "read", outcome="refused", reason=reason(exc))
        except OSError as audit_error:
            exc.add_note(f"and the audit log could not record it: {audit_error}")
        raise
    window = f"protocol valid {config.validity.describe()}"
    if current is None:
        record_read(config.audit_log, run_id=None, tables={})
        print(f"{config.store}: no delivery in force; {window}")
        return 0
    m = current.manifest
    try:
        lines = [
            f"run {current.run_id} ({m['created']}), key version {m['key']['version']}; {window}"
        ]
        tables = {}
        for name, entry in m["outputs"].items():
            parties = ", ".join(f"{p} {n:,}" for p, n in entry["rows_by_party"].items())
            lines.append(f"  {name}: {entry['rows']:,} rows ({parties})")
            tables[name] = int(entry["rows"])
    except (KeyError, TypeError, AttributeError, ValueError):
        # JSON, but not what a run writes: edited by hand, or by another program.
        raise SchemaError(
            "not a delivery manifest (a field is missing or of the wrong kind)",
            source=str(current.path / "manifest.json"),
        ) from None
    record_read(config.audit_log, run_id=current.run_id, tables=tables)  # before it is shown
    print("\n".join(lines))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from linkage.exceptions import ConfigError, LinkageError, SchemaError
    from linkage.exchange import demo

    if args.enterprises < 1:
        raise ConfigError(f"--enterprises: expected a positive number, got {args.enterprises}")
    if args.seed < 0:
        raise ConfigError(f"--seed: expected a non-negative number, got {args.seed}")
    # The demo replaces an earlier demo in --out, and refuses any other content.
    ours = not args.out.exists() or not any(args.out.iterdir()) or _is_demo(args.out)
    started = time.perf_counter()
    try:
        result = demo(args.out, n_enterprises=args.enterprises, seed=args.seed)
    except LinkageError as exc:
        if ours and _is_demo(args.out):
            shutil.rmtree(args.out, ignore_errors=True)  # no half-made demo left behind
        if isinstance(exc, SchemaError) and exc.detail == "no rows":
            # So few enterprises that a party sends an empty extract.
            raise SchemaError(
                f"no rows: {args.enterprises:,} enterprises leave this extract empty; "
                "the demo needs more (e.g. --enterprises 100)",
                source=exc.source,
            ) from None
        raise
    print(result.summary())
    print(f"demo finished in {time.perf_counter() - started:.1f} s")
    return 0


def _is_demo(out: Path) -> bool:
    """Whether ``out`` holds what the demo writes (as its own check reads it)."""
    return (out / "exchange.toml").exists() and (out / "extracts").exists()


def _verify(args: argparse.Namespace) -> int:
    from linkage.exchange import load_config, verify_store

    check = verify_store(load_config(args.config), repair=args.repair)
    print(check.summary())
    return 0 if check.ok else 1
