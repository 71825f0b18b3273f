"""The exchange configuration: a frozen dataclass loaded from TOML.

::

    exchange = "vlaio-vdab-2025"                 # key-ring exchange id
    protocol = "Protocol VLAIO/TBT - VDAB 2025"  # reference written in every manifest
    parties = ["VLAIO", "TBT"]                   # the sending parties

    [validity]                                   # art. 14
    start = 2025-11-15
    end = 2026-05-15
    renewals = [{ end = 2026-11-15, reference = "addendum 1, signed 2026-05-02" }]

    [keys]                                       # one of:
    file = "exchange.key"                        #   encrypted key file; passphrase in
    passphrase_env = "LINKAGE_KEY_PASSPHRASE"    #   this environment variable
    # env = "LINKAGE_MASTER_KEY"                 #   or master secrets in the environment

    [extracts.VLAIO]                             # one file per table from one party
    enterprises = "vlaio/enterprises.csv"        # (establishments, dossiers, contacts, staff)
    [extracts.VLAIO.columns.enterprises]         # optional: the party's own headers,
    enterprise_number = "ondernemingsnummer"     #   schema column = "header in the file"
    name = "naam"
    [extracts.mixed]                             # or files with a `party` column
    enterprises = "all/enterprises.parquet"

    [vdab]
    employers = "vdab/employers.parquet"
    sites = "vdab/sites.parquet"
    # or, where the clear files must not meet (linkage on encodings, docs/encodings.md),
    # the link tables a linkage party returned, in place of employers and sites:
    # links_enterprises = "linked/enterprises.csv"
    # links_establishments = "linked/establishments.csv"

    [output]
    store = "delivery"                           # the delivery store
    audit_log = "audit.jsonl"
    # group = "bi-readers"                       # optional: who may read the store
    # roles = "roles.toml"                       # optional: who sees which tables and
                                                 #   columns (art. 4, exchange/_roles.py)

    [checks]                                     # optional
    national_numbers = "withhold"                # or "refuse" (see below)

    [link.enterprises]                           # optional, per link (enterprises,
    preset = "enterprises"                       #   establishments): a preset, or
    # spec = "my-spec.toml"                      #   a spec file (linkage.load_spec)
    threshold = 0.6                              # the link cut-off
    # model = "model.json"                       # freeze this saved model instead of
                                                 #   fitting one on the first delivery
    # overrides = "overrides.csv"                # must-link / cannot-link decisions
                                                 #   (linkage.overrides) every run applies

    [purposes]                                   # optional (art. 12)
    use = ["protocol"]                           # what the delivery is used for: the
                                                 #   protocol's own purpose, "ai",
                                                 #   "direct_marketing"
    [purposes.approvals.VLAIO]                   # a sending party's answers, for "ai"
    ai = { approved = true, reference = "VLAIO letter 2026/014", date = 2026-01-10 }
    direct_marketing = { approved = false }      #   and "direct_marketing"

National register numbers (art. 3): every value of every column of every extract
is searched (``linkage.national``: any dtype, any written form, inside free text; a
mobile written as ``+32 4..`` or in a phone column is a phone). ``[checks]
national_numbers`` says what a hit does: ``"withhold"`` (the default) withholds the
record, which is neither delivered nor pseudonymised nor linked, and reports it to
its sender in the data-quality report (defect ``national register number``, by
file, row and column as the sender wrote it, never the value); ``"refuse"`` refuses
the run at the first hit (a ``SchemaError`` naming file, column and row). A column
whose header names a national register number is refused either way.

Validity (art. 14): a run is refused outside the window; after its end (the last
renewal's), ``exchange show`` and the subject requests are refused too
(:meth:`ExchangeConfig.refuse_expired`), and every message names what the protocol
asks then, ``linkage exchange purge --config <file> --all``. Each renewal names the
reference of its signed addendum: a renewal without one is refused when loading.

Access to the store: every file the exchange writes in the store is ``0600`` and
every folder ``0700``, whatever the umask; with ``[output] group``, ``0640`` and
``0750``, owned by that group (the BI readers). A group that does not exist, or
that the user running the exchange is not in (so cannot give files to), is refused
when loading.

Purposes (art. 12, :mod:`._purposes`): use in an AI system or in direct marketing
needs the prior approval of the party that sent the data. A run whose ``use``
names ``"ai"`` or ``"direct_marketing"`` is refused before any work (and audited)
unless every sending party approved it (``approved = true``, with the reference of
its decision and its date, on or before the day of the run); the message names
the party and the purpose. The manifest records ``purposes`` (use and every
approval), and every delivered table carries the same in its Parquet schema
metadata (``linkage.purposes``, JSON). Refused when loading: an unknown purpose or
key, a party that is not one of ``parties``, an approval of the protocol's own
purpose, ``approved`` that is not true or false, and an approval without its
reference or date. The linkage model is itself a statistical model fitted on these
data (the first delivery, each refit): whether that is an AI system under art. 12
is for the parties to decide, and an approval of ``"ai"`` can record it.

Relative paths are read from the directory of the TOML file. Each table comes from
exactly one place per party: a party's own file, or the rows of a ``mixed`` file
whose ``party`` column names it.

Column mappings: ``[extracts.<party>.columns.<table>]`` maps a column of the protocol
(the names in ``exchange/_schema.py``; ``party`` too) to the header the party's file
carries, for that party's file of that table (``[extracts.mixed.columns.<table>]``
for a mixed file). Headers match exactly (case and spaces count). A column not mapped
is read under its own name; a header neither mapped nor in the protocol is dropped
and reported, as without a mapping. The file's columns are renamed as it is read
(after the national-number scan of every column as sent, before every other check),
but every error and every row of the data-quality report names the column as the
sender wrote it, so that they can find it in their file. The manifest records each
file's mapping (``inputs[].mapped_columns``: column to header), never a value.
Refused when the configuration is loaded: a table or column the protocol does not
have, a table the party sends no file of, two columns mapped from one header, a
header that names a national register number, and a header that is the name of
another column of the table which is not itself mapped (``enterprise_number =
"name"`` without a mapping for ``name``; a swap of two names is fine). Refused when
the file is read: a mapped header missing from the file, and a file that carries
both a mapped header and a column under the name it maps to. VDAB's files
(``[vdab]``) are not mapped here: the link spec names the columns it reads from
them (``[right_columns]`` in a spec file).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import grp
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from linkage.config import LinkSpec
from linkage.exceptions import ConfigError
from linkage.exchange._purposes import Approval, Purposes
from linkage.exchange._schema import EXTRACTS, NATIONAL_NUMBER_NAMES
from linkage.presets import get as preset
from linkage.presets import load_spec

__all__ = ["MIXED", "Checks", "ExchangeConfig", "Renewal", "Validity", "load_config"]

MIXED = "mixed"
#: The sub-table of ``[extracts.<party>]`` that holds its column mappings.
COLUMNS = "columns"
_PARTY = re.compile(r"^[A-Z][A-Z0-9_-]{0,31}$")
RENEWAL_REFERENCE = "a renewal needs the reference of its signed addendum"


def purge_all_command(config_file: str | os.PathLike[str] | None) -> str:
    """The command the end of the protocol asks for, for messages."""
    return f"linkage exchange purge --config {config_file or 'EXCHANGE.toml'} --all"


@dataclass(frozen=True, kw_only=True)
class Renewal:
    """An extension of the protocol to a new end date (art. 14: renewable), and the
    reference of the signed addendum that renews it."""

    end: dt.date
    reference: str

    def __post_init__(self) -> None:
        if not isinstance(self.reference, str) or not self.reference.strip():
            raise ConfigError(f"[validity] renewals: {RENEWAL_REFERENCE}")


@dataclass(frozen=True, kw_only=True)
class Validity:
    """The protocol's validity window and its renewals.

    ``source``: the exchange's TOML file, which the messages name in the command
    they give (set by :class:`ExchangeConfig`).
    """

    start: dt.date
    end: dt.date
    renewals: tuple[Renewal, ...] = ()
    source: Path | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ConfigError(f"[validity]: end {self.end} is before start {self.start}")
        previous = self.end
        for renewal in self.renewals:
            if renewal.end <= previous:
                raise ConfigError(
                    f"[validity] renewals: end {renewal.end} does not extend {previous}"
                )
            previous = renewal.end

    @property
    def effective_end(self) -> dt.date:
        """The end date after every renewal."""
        return self.renewals[-1].end if self.renewals else self.end

    def describe(self) -> str:
        """The window in words, with each renewal and its reference."""
        text = f"{self.start} to {self.end}"
        for renewal in self.renewals:
            text += f", renewed to {renewal.end} ({renewal.reference})"
        return text

    def _window(self) -> str:
        window = f"{self.start} to {self.end}"
        if self.renewals:
            window += f", renewed to {self.effective_end}"
        return window

    def _ended(self) -> str:
        return (
            "record its renewal in [validity] if it was renewed; if not, everything "
            f"received must be deleted: {purge_all_command(self.source)}"
        )

    def check(self, today: dt.date) -> None:
        """Refuse a run outside the window, naming the dates; after its end, naming
        the purge the end of the protocol asks for (art. 3).

        Raises
        ------
        ConfigError
        """
        if self.start <= today <= self.effective_end:
            return
        window = f"the protocol's validity window is {self._window()}; today is {today}"
        if today < self.start:
            raise ConfigError(f"{window}: the protocol is not in force yet")
        raise ConfigError(f"{window}: the protocol has ended; {self._ended()}")

    def refuse_expired(self, today: dt.date | None = None) -> None:
        """Refuse any use of what was received once the protocol has ended (after
        :attr:`effective_end`); before its start nothing was received, so nothing
        is refused.

        Raises
        ------
        ConfigError
            One line naming the end and ``linkage exchange purge --config F --all``.
        """
        today = today or dt.date.today()
        if today <= self.effective_end:
            return
        raise ConfigError(
            f"the protocol ended on {self.effective_end} (validity window {self._window()}); "
            f"today is {today}: what was received may no longer be used; {self._ended()}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "renewals": [
                {"end": r.end.isoformat(), "reference": r.reference} for r in self.renewals
            ],
            "effective_end": self.effective_end.isoformat(),
        }


NationalNumbers = Literal["withhold", "refuse"]


@dataclass(frozen=True, kw_only=True)
class Checks:
    """``[checks]``: what a run does with what the checks of the extracts find.

    Attributes
    ----------
    national_numbers : {"withhold", "refuse"}
        A record holding a national register or BIS number is withheld and
        reported to its sender (``withhold``), or the run is refused (``refuse``).
    """

    national_numbers: NationalNumbers = "withhold"

    def __post_init__(self) -> None:
        if self.national_numbers not in get_args(NationalNumbers):
            choices = " or ".join(repr(c) for c in get_args(NationalNumbers))
            raise ConfigError(
                f"[checks] national_numbers: expected {choices}, got {self.national_numbers!r}"
            )


def _checks(doc: dict[str, Any]) -> Checks:
    table = _as(doc.get("checks", {}), dict, "[checks]")
    unknown = sorted(set(table) - {f.name for f in dataclasses.fields(Checks)})
    if unknown:
        raise ConfigError(f"[checks]: unknown key(s) {unknown}; expected national_numbers")
    return Checks(**table)


# The two links of the feed: the ids their specs must read.
LINKS = {
    "enterprises": ("enterprise_number", "employer_id"),
    "establishments": ("establishment_number", "site_id"),
}


@dataclass(frozen=True, kw_only=True)
class LinkSettings:
    """How one of the feed's links runs: its spec, and a saved model to freeze."""

    spec: LinkSpec
    model: Path | None = None
    overrides: Path | None = None


def _link_settings(doc: dict[str, Any], base: Path) -> dict[str, LinkSettings]:
    links = _get(doc, "link", dict, "") if "link" in doc else {}
    unknown = sorted(set(links) - set(LINKS))
    if unknown:
        raise ConfigError(f"[link]: unknown link(s) {unknown}; the feed has {', '.join(LINKS)}")
    out = {}
    for name, ids in LINKS.items():
        where = f"[link.{name}]"
        table = _as(links.get(name, {}), dict, where)
        extra = sorted(set(table) - {"preset", "spec", "threshold", "model", "overrides"})
        if extra:
            raise ConfigError(f"{where}: unknown key(s) {extra}")
        if "preset" in table and "spec" in table:
            raise ConfigError(f"{where}: give a preset or a spec, not both")
        if "spec" in table:
            spec = load_spec(_path(base, table["spec"], f"{where} spec"))
        else:
            spec = preset(_as(table.get("preset", name), str, f"{where} preset"))
        if "threshold" in table:
            spec = dataclasses.replace(spec, threshold=_as(table["threshold"], float, where))
        if (spec.left_id, spec.right_id) != ids:
            raise ConfigError(
                f"{where}: the spec links {spec.left_id} to {spec.right_id}; this link "
                f"needs {ids[0]} to {ids[1]}"
            )
        model = _path(base, table["model"], f"{where} model") if "model" in table else None
        overrides = (
            _path(base, table["overrides"], f"{where} overrides") if "overrides" in table else None
        )
        out[name] = LinkSettings(spec=spec, model=model, overrides=overrides)
    return out


def _check_mapping(party: str, table: str, mapping: dict[str, str]) -> None:
    """Refuse a mapping that cannot be right whatever the file holds (see the
    module docstring); every message names the party, the table and the column."""
    where = f"[extracts.{party}.{COLUMNS}.{table}]"
    if table not in EXTRACTS:
        raise ConfigError(f"{where}: unknown table {table!r}; expected {', '.join(EXTRACTS)}")
    allowed = [*EXTRACTS[table].columns, "party"]
    seen: dict[str, str] = {}
    for column, header in mapping.items():
        if column not in allowed:
            close = difflib.get_close_matches(column, allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"expected {', '.join(allowed)}"
            raise ConfigError(f"{where} {column}: not a column of the {table} extract; {hint}")
        if not isinstance(header, str) or not header:
            raise ConfigError(f"{where} {column}: expected the header in the file, got {header!r}")
        if re.search(NATIONAL_NUMBER_NAMES, header):
            raise ConfigError(
                f"{where} {column}: header {header!r} names a national register number, "
                "which the protocol (art. 3) does not allow"
            )
        if header in seen:
            raise ConfigError(
                f"{where} {column}: header {header!r} is mapped to {seen[header]} too; "
                "one header gives one column"
            )
        seen[header] = column
        if header != column and header in allowed and header not in mapping:
            raise ConfigError(
                f"{where} {column}: header {header!r} would give both {column} and {header} "
                f"(the column of that name); map {header} from another header"
            )


@dataclass(frozen=True, kw_only=True)
class ExchangeConfig:
    """Everything a run, purge or subject request needs to know (no secrets).

    Attributes
    ----------
    extracts : dict of party to dict of table to Path
        Party ``mixed`` holds files with a ``party`` column.
    columns : dict of party to dict of table to dict of str to str
        The column mappings: for a party's file of a table, each column of the
        protocol to the header the file carries it under (module docstring).
    checks : Checks
        ``[checks]``: what a national register number in an extract does.
    group : str or None
        ``[output] group``: the group that may read the store (files 0640, folders
        0750); None: the user running the exchange alone (0600, 0700).
    roles : Path or None
        ``[output] roles``: the roles file (art. 4, :mod:`._roles`); a run writes its
        security definitions into ``access/`` and the manifest's ``roles``.
    purposes : Purposes
        ``[purposes]``: what the delivery is used for, and the parties' approvals
        (art. 12); a run checks them (``purposes.check``).
    given : dict of str to Path
        ``[vdab] links_enterprises`` / ``links_establishments``: link tables a linkage
        party made on encodings (:mod:`._given`), delivered in place of a link made
        here; ``employers`` and ``sites`` are then None.
    """

    exchange: str
    protocol: str
    parties: tuple[str, ...]
    validity: Validity
    extracts: dict[str, dict[str, Path]] = field(repr=False)
    employers: Path | None
    sites: Path | None
    store: Path
    audit_log: Path
    key_file: Path | None = None
    passphrase_env: str = "LINKAGE_KEY_PASSPHRASE"
    key_env: str | None = None
    links: dict[str, LinkSettings] = field(
        default_factory=lambda: {name: LinkSettings(spec=preset(name)) for name in LINKS},
        repr=False,
    )
    columns: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict, repr=False)
    checks: Checks = field(default_factory=Checks)
    group: str | None = None
    roles: Path | None = None
    purposes: Purposes = field(default_factory=Purposes)
    given: dict[str, Path] = field(default_factory=dict)
    source: Path | None = None

    def __post_init__(self) -> None:
        clear = self.employers is not None and self.sites is not None
        if clear == bool(self.given) or (self.given and set(self.given) != set(LINKS)):
            raise ConfigError(
                "[vdab]: either employers and sites (VDAB's files, linked here) or "
                "links_enterprises and links_establishments (link tables a linkage party "
                "returned), not both and not a part of either",
                source=str(self.source) if self.source else None,
            )
        if self.validity.source != self.source:  # so that its messages name this file
            object.__setattr__(
                self, "validity", dataclasses.replace(self.validity, source=self.source)
            )
        if self.group is not None:
            _check_group(self.group)
        if not self.parties:
            raise ConfigError("parties: name at least one sending party")
        for party in self.parties:
            if not _PARTY.match(party):
                raise ConfigError(
                    f"parties: {party!r} is not a party name (upper-case letters, digits, - _)"
                )
        for party, tables in self.extracts.items():
            if party != MIXED and party not in self.parties:
                raise ConfigError(
                    f"[extracts.{party}]: not one of the parties {', '.join(self.parties)}"
                )
            for table in tables:
                if table not in EXTRACTS:
                    raise ConfigError(
                        f"[extracts.{party}]: unknown table {table!r}; "
                        f"expected {', '.join(EXTRACTS)}"
                    )
        for table in EXTRACTS:
            own = [p for p in self.parties if table in self.extracts.get(p, {})]
            if not own and table not in self.extracts.get(MIXED, {}):
                raise ConfigError(f"[extracts]: no file for table {table!r}")
        if (self.key_file is None) == (self.key_env is None):
            raise ConfigError("[keys]: give exactly one of 'file' and 'env'")
        # Whether the party sends that table is checked on loading: a copy of the
        # config with fewer parties or files keeps the mappings it no longer reads.
        for party, mappings in self.columns.items():
            for table, mapping in mappings.items():
                _check_mapping(party, table, mapping)

    def refuse_expired(self, today: dt.date | None = None) -> None:
        """Refuse the use of what was received after the protocol's end (every
        renewal's): for ``exchange show`` and the subject requests. A run is
        refused outside the whole window by ``validity.check``.

        Raises
        ------
        ConfigError
            One line naming the end and the purge it asks for,
            ``linkage exchange purge --config <this file> --all``.
        """
        self.validity.refuse_expired(today)

    def mapping(self, party: str, table: str) -> dict[str, str]:
        """The column mapping of ``party``'s file of ``table``: column to header
        (empty: every column under its own name)."""
        return self.columns.get(party, {}).get(table, {})


def _check_group(group: str) -> None:
    """Refuse a group the store's files cannot be given to: none of that name, or
    one the user running the exchange is not in (only its members may chown to it)."""
    if not isinstance(group, str) or not group:
        raise ConfigError(f"[output] group: expected a group name, got {group!r}")
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        raise ConfigError(f"[output] group: no group {group!r} on this system") from None
    if os.geteuid() != 0 and gid != os.getegid() and gid not in os.getgroups():
        raise ConfigError(
            f"[output] group: the user running the exchange is not in group {group!r}, "
            "so cannot give the store's files to it"
        )


def _date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{where}: expected a date (YYYY-MM-DD), got {value!r}")


_KINDS: dict[type, str] = {dict: "a table", list: "a list", str: "text"}


def _get(doc: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in doc:
        raise ConfigError(f"{where}missing {key!r}")
    return _as(doc[key], kind, f"{where}{key}")


def _as(value: object, kind: type, where: str) -> Any:
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: expected {_KINDS.get(kind, kind.__name__)}, got {value!r}")
    return value


def _path(base: Path, value: object, where: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a path, got {value!r}")
    path = Path(os.path.expandvars(os.path.expanduser(value)))
    return (path if path.is_absolute() else base / path).resolve()


def load_config(path: str | os.PathLike[str]) -> ExchangeConfig:
    """Read an exchange configuration from TOML.

    Raises
    ------
    FileNotFoundError
        No such file.
    ConfigError
        The file is not UTF-8 TOML, or a setting is missing or wrong; ``source`` is
        the file and the message names the setting (``[validity] end: ...``).
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text, so not a TOML file", source=path.name) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=path.name) from None
    try:
        return _config(doc, path)
    except ConfigError as exc:
        if exc.source is not None:
            raise
        raise ConfigError(exc.detail, source=path.name) from None


def _config(doc: dict[str, Any], path: Path) -> ExchangeConfig:
    base = path.parent.resolve()
    validity_doc = _get(doc, "validity", dict, "")
    renewals = []
    for i, item in enumerate(_as(validity_doc.get("renewals", []), list, "[validity] renewals")):
        renewal = _as(item, dict, f"[validity] renewals[{i}]")
        end = _date(renewal.get("end"), f"[validity] renewals[{i}] end")
        reference = renewal.get("reference")
        if not isinstance(reference, str) or not reference.strip():
            raise ConfigError(f"[validity] renewals[{i}] reference: {RENEWAL_REFERENCE}")
        renewals.append(Renewal(end=end, reference=reference.strip()))
    validity = Validity(
        start=_date(validity_doc.get("start"), "[validity] start"),
        end=_date(validity_doc.get("end"), "[validity] end"),
        renewals=tuple(renewals),
    )
    keys = _get(doc, "keys", dict, "")
    extracts, columns = {}, {}
    for party, tables in _get(doc, "extracts", dict, "").items():
        files = dict(_as(tables, dict, f"[extracts] {party}"))
        if COLUMNS in files:
            columns[party] = _mappings(files.pop(COLUMNS), party, files)
        extracts[party] = {
            table: _path(base, p, f"[extracts.{party}] {table}") for table, p in files.items()
        }
    vdab = _get(doc, "vdab", dict, "")
    output = _get(doc, "output", dict, "")
    parties = _get(doc, "parties", list, "")
    for i, party in enumerate(parties):
        _as(party, str, f"parties[{i}]")
    return ExchangeConfig(
        exchange=_get(doc, "exchange", str, ""),
        protocol=str(doc.get("protocol", "")),
        parties=tuple(parties),
        validity=validity,
        extracts=extracts,
        employers=_path(base, vdab["employers"], "[vdab] employers")
        if "employers" in vdab
        else None,
        sites=_path(base, vdab["sites"], "[vdab] sites") if "sites" in vdab else None,
        given={
            name: _path(base, vdab[f"links_{name}"], f"[vdab] links_{name}")
            for name in LINKS
            if f"links_{name}" in vdab
        },
        store=_path(base, output.get("store"), "[output] store"),
        audit_log=_path(base, output.get("audit_log", "audit.jsonl"), "[output] audit_log"),
        key_file=_path(base, keys["file"], "[keys] file") if "file" in keys else None,
        passphrase_env=_as(
            keys.get("passphrase_env", "LINKAGE_KEY_PASSPHRASE"), str, "[keys] passphrase_env"
        ),
        key_env=_get(keys, "env", str, "[keys] ") if "env" in keys else None,
        links=_link_settings(doc, base),
        columns=columns,
        checks=_checks(doc),
        group=_as(output["group"], str, "[output] group") if "group" in output else None,
        roles=_path(base, output["roles"], "[output] roles") if "roles" in output else None,
        purposes=_purposes(doc, parties),
        source=path.resolve(),
    )


_APPROVAL_KEYS = ("approved", "reference", "date")


def _purposes(doc: dict[str, Any], parties: list[str]) -> Purposes:
    """``[purposes]``: its TOML shape; the values are checked by :class:`Purposes`."""
    table = _as(doc.get("purposes", {}), dict, "[purposes]")
    unknown = sorted(set(table) - {"use", "approvals"})
    if unknown:
        raise ConfigError(f"[purposes]: unknown key(s) {unknown}; expected use, approvals")
    use = _as(table.get("use", ["protocol"]), list, "[purposes] use")
    for i, purpose in enumerate(use):
        _as(purpose, str, f"[purposes] use[{i}]")
    approvals: dict[str, dict[str, Approval]] = {}
    for party, answers in _as(table.get("approvals", {}), dict, "[purposes.approvals]").items():
        where = f"[purposes.approvals.{party}]"
        if party not in parties:
            raise ConfigError(f"{where}: not one of the parties {', '.join(parties)}")
        approvals[party] = {}
        for purpose, answer in _as(answers, dict, where).items():
            at = f"{where} {purpose}"
            _as(answer, dict, at)
            extra = sorted(set(answer) - set(_APPROVAL_KEYS))
            if extra:
                raise ConfigError(
                    f"{at}: unknown key(s) {extra}; expected approved, reference, date"
                )
            if "approved" not in answer:
                raise ConfigError(f"{at}: missing 'approved' (true or false)")
            reference = answer.get("reference")
            approvals[party][purpose] = Approval(
                approved=answer["approved"],
                reference=reference.strip() if isinstance(reference, str) else reference,
                date=_date(answer["date"], f"{at} date") if "date" in answer else None,
            )
    return Purposes(use=tuple(use), approvals=approvals)


def _mappings(doc: object, party: str, files: dict[str, Any]) -> dict[str, dict[str, str]]:
    """``[extracts.<party>.columns]``: one table of column = header per table the
    party sends a file of (the columns themselves are checked by the config)."""
    where = f"[extracts.{party}.{COLUMNS}]"
    out = {}
    for table, mapping in _as(doc, dict, where).items():
        _as(mapping, dict, f"{where} {table}")
        if table in EXTRACTS and table not in files:
            raise ConfigError(
                f"[extracts.{party}.{COLUMNS}.{table}]: [extracts.{party}] names no "
                f"{table} file to map"
            )
        out[table] = dict(mapping)
    return out
