"""Who a data subject is in a delivery: the records that are a person's, grouped per person.

A person (art. 11) appears in the delivered tables in one or more **roles**:

================== ============== ==================================================
role               table          the person's own fields
================== ============== ==================================================
sole proprietor    enterprises    the whole enterprise of entity type
                                  ``natural_person``, whatever its trade name: the
                                  person is its managing person (``manager_*``), and
                                  its e-mail and phone are theirs
managing person    enterprises    ``manager_first_name``, ``manager_last_name``,
                                  ``manager_function`` of a legal person
enterprise e-mail  enterprises    an address of a legal person's ``email`` list
                                  (art. 3: e-mail addresses, several to a cell),
                                  where it is the address asked for
contact person     contacts       the contact record
staff member       staff          the staff record
================== ============== ==================================================

A request names the person by e-mail, by first and last name together, by a key
(``enterprise_key``, ``contact_key``, ``staff_key``) or by an enterprise number. Every
record that matches is an **occurrence**; occurrences are grouped into candidate
people when they are the same record (an enterprise sent by both parties), carry the
same name at the same enterprise, or share an e-mail address; but never two sole
proprietorships, since a natural person has one enterprise number. Two people
named alike, with nothing else in common, are two candidates: the request must then
choose one (by its id, a key or a number). A person's id (``p-`` and 8 hex digits) is
made from the keys of their records, so it names the same person until their records
change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linkage.exceptions import ConfigError
from linkage.exchange._extract import list_items
from linkage.identifiers import parse_enterprise_numbers
from linkage.normalise import collapse_whitespace

__all__ = ["KEY_OF", "ROLES", "Person", "Query", "search"]

#: The tables that hold a person's own record, and the key of that record.
KEY_OF = {"enterprises": "enterprise_key", "contacts": "contact_key", "staff": "staff_key"}

SOLE, MANAGER, ENTERPRISE_EMAIL = "sole proprietor", "managing person", "enterprise e-mail"
CONTACT, STAFF = "contact person", "staff member"
ROLES = (SOLE, MANAGER, ENTERPRISE_EMAIL, CONTACT, STAFF)

_OCCURRENCE = ["table", "role", "row", "key", "party", "enterprise_key", "first", "last", "email"]


def fold(values: pd.Series) -> pd.Series:
    """Names and addresses as compared: trimmed, inner spaces collapsed, case folded."""
    return collapse_whitespace(values.astype("string")).str.casefold()


def folded_in(values: pd.Series, wanted: list[str]) -> pd.Series:
    """Whether each value, folded, is one of ``wanted`` (folded already). Only the rows
    that hold the longest word of the first wanted value (Arrow's case-blind substring
    search) are folded: a few of a million names."""
    token = max(wanted[0].split(), key=len)
    if token.lower() != token or "ss" in token:  # case folding that lower() does not do
        return fold(values).isin(wanted).fillna(False)
    text = pa.array(values.array, type=pa.string(), from_pandas=True)
    near = pc.fill_null(pc.match_substring(text, token, ignore_case=True), False)
    rows = np.flatnonzero(near.to_numpy(zero_copy_only=False))
    out = np.zeros(len(values), dtype=bool)
    out[rows] = fold(values.iloc[rows]).isin(wanted).fillna(False).to_numpy(dtype=bool)
    return pd.Series(out, index=values.index)


def items_in(values: pd.Series, wanted: str) -> pd.Series:
    """Whether any value of each list cell (``"a; b"``), folded, is ``wanted`` (folded
    already). Only the cells that hold it, case-blind, are split and folded."""
    text = pa.array(values.array, type=pa.string(), from_pandas=True)
    near = pc.fill_null(pc.match_substring(text, wanted, ignore_case=True), False)
    rows = np.flatnonzero(near.to_numpy(zero_copy_only=False))
    items = list_items(values.iloc[rows].reset_index(drop=True))
    hit = items.index[fold(items).isin([wanted]).fillna(False).to_numpy(dtype=bool)]
    out = np.zeros(len(values), dtype=bool)
    out[rows[np.unique(hit)]] = True
    return pd.Series(out, index=values.index)


def one_item(values: pd.Series, wanted: str | None) -> pd.Series:
    """Of each list cell, folded: ``wanted`` where the cell holds it, else its first value."""
    items = fold(list_items(values))
    first = items[~items.index.duplicated()]
    if wanted is not None:
        hit = items[items == wanted]
        first = pd.concat([hit[~hit.index.duplicated()], first])
        first = first[~first.index.duplicated()]
    return first.reindex(values.index)


def _fold_one(value: str | None) -> str | None:
    if value is None:
        return None
    folded = fold(pd.Series([value])).iloc[0]
    return None if pd.isna(folded) or not folded else str(folded)


@dataclass(frozen=True, kw_only=True)
class Query:
    """What a request names the person by; at least one way, first and last name together.

    ``email`` and the name find candidates; a ``key`` or ``enterprise_number`` then
    chooses among them (or, alone, finds the person whose record it is); ``person``
    chooses a candidate by its id.
    """

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    key: str | None = None
    enterprise_number: str | None = None
    person: str | None = None

    def __post_init__(self) -> None:
        if (self.first_name is None) != (self.last_name is None):
            raise ConfigError("a subject is found by first and last name together, not one")
        if not any((self.email, self.first_name, self.key, self.enterprise_number)):
            raise ConfigError(
                "a subject is found by e-mail, by first and last name together, by a key "
                "or by an enterprise number"
            )

    @property
    def number(self) -> str | None:
        """The enterprise number as delivered (10 digits), or None."""
        if self.enterprise_number is None:
            return None
        parsed = parse_enterprise_numbers(pd.Series([self.enterprise_number]), errors="coerce")
        if pd.isna(parsed.iloc[0]):
            raise ConfigError("--enterprise-number: not a valid enterprise number")
        return str(parsed.iloc[0])

    def describe(self) -> dict[str, bool]:
        """Which ways were given (for the audit: never the values)."""
        return {
            "email": self.email is not None,
            "name": self.first_name is not None,
            "key": self.key is not None,
            "enterprise_number": self.enterprise_number is not None,
            "person": self.person is not None,
        }


@dataclass(frozen=True)
class Person:
    """One candidate: their occurrences (one row each: table, role, row, key, party,
    enterprise_key, what matched) in the tables searched."""

    id: str
    occurrences: pd.DataFrame

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(r for r in ROLES if r in set(self.occurrences["role"]))

    @property
    def evidence(self) -> tuple[str, ...]:
        found = set(self.occurrences["evidence"].str.split(", ").explode())  # "" for joined
        return tuple(e for e in ("e-mail", "name", "key", "enterprise number") if e in found)

    def keys(self, table: str) -> set[str]:
        """The keys of this person's own records in one table."""
        occ = self.occurrences
        return set(occ.loc[occ["table"] == table, "key"].dropna())

    def touches(self, key: str) -> bool:
        """Whether a record of theirs has this key, or hangs from an enterprise with it."""
        occ = self.occurrences
        return bool((occ["key"] == key).any() or (occ["enterprise_key"] == key).any())

    def describe(self, tables: dict[str, pd.DataFrame]) -> str:
        """One line: id, roles with party and enterprise number, what matched."""
        parts = []
        ent = tables["enterprises"].set_index("enterprise_key")["enterprise_number"]
        for role in self.roles:
            occ = self.occurrences[self.occurrences["role"] == role]
            parties = "/".join(sorted(set(occ["party"])))
            if role in (CONTACT, STAFF):
                parts.append(f"{role} ({parties}) x{len(occ)}")
            else:
                numbers = sorted({str(ent.get(k, "?")) for k in occ["key"]})
                what = {SOLE: "sole proprietor of", MANAGER: "managing person of"}.get(
                    role, "e-mail address of"
                )
                parts.append(f"{what} {', '.join(numbers)} ({parties})")
        return f"{self.id}: {'; '.join(parts)}; matched by {', '.join(self.evidence)}"


def _hits(frame: pd.DataFrame, checks: dict[str, pd.Series]) -> pd.Series:
    """Per row, the names of the checks it passes, joined (empty: no hit)."""
    out = pd.Series("", index=frame.index, dtype=object)
    for name, mask in checks.items():
        hit = mask.fillna(False).to_numpy(dtype=bool)
        out[hit] = np.where(out[hit] == "", name, out[hit] + ", " + name)
    return out


def _occurrences(tables: dict[str, pd.DataFrame], q: Query, primary: bool) -> pd.DataFrame:
    """Every record that matches: by e-mail and name (``primary``), else by key and number."""
    email = _fold_one(q.email)
    first, last = _fold_one(q.first_name), _fold_one(q.last_name)
    number = q.number

    def checks(
        frame: pd.DataFrame, fc: str, lc: str, key: str, *, plural: bool = False
    ) -> dict[str, pd.Series]:
        none = pd.Series(False, index=frame.index)
        if primary:
            by_name = none
            if first is not None and last is not None:
                by_name = folded_in(frame[lc], [last]) & folded_in(frame[fc], [first])
            by_email = none
            if email:
                by_email = (
                    items_in(frame["email"], email)
                    if plural
                    else folded_in(frame["email"], [email])
                )
            return {
                "e-mail": by_email,
                "name": by_name,
            }
        return {"key": (frame[key] == q.key) if q.key else none}

    parts = []
    ent = tables["enterprises"]
    natural = (ent["entity_type"] == "natural_person").fillna(False)
    found = checks(ent, "manager_first_name", "manager_last_name", "enterprise_key", plural=True)
    if primary and first is not None and last is not None:
        own = folded_in(ent["name"], [f"{first} {last}", f"{last} {first}"]) & natural
        found["name"] = found["name"].fillna(False) | own.fillna(False)
    if not primary and number is not None:
        found["enterprise number"] = ent["enterprise_number"] == number
    managed = ent["manager_first_name"].notna() | ent["manager_last_name"].notna()
    roles = {
        SOLE: (_hits(ent, found), natural),
        MANAGER: (
            _hits(ent, {k: v for k, v in found.items() if k != "e-mail"}),
            ~natural & managed,
        ),
    }
    if "e-mail" in found:
        roles[ENTERPRISE_EMAIL] = (_hits(ent, {"e-mail": found["e-mail"]}), ~natural)
    for role, (evidence, within) in roles.items():
        take = ((evidence != "") & within).to_numpy(dtype=bool)
        sub = ent[take]
        none = np.full(len(sub), None, dtype=object)
        parts.append(
            pd.DataFrame(
                {
                    "table": "enterprises",
                    "role": role,
                    "row": np.flatnonzero(take),
                    "key": sub["enterprise_key"].to_numpy(object),
                    "party": sub["party"].to_numpy(object),
                    "enterprise_key": sub["enterprise_key"].to_numpy(object),
                    # an enterprise's address is not its manager's name
                    "first": fold(sub["manager_first_name"]).to_numpy(object)
                    if role != ENTERPRISE_EMAIL
                    else none,
                    "last": fold(sub["manager_last_name"]).to_numpy(object)
                    if role != ENTERPRISE_EMAIL
                    else none,
                    "email": one_item(sub["email"], email).to_numpy(object)
                    if role != MANAGER
                    else none,
                    "evidence": evidence[take].to_numpy(object),
                }
            )
        )
    for table, role in (("contacts", CONTACT), ("staff", STAFF)):
        frame = tables[table]
        evidence = _hits(frame, checks(frame, "first_name", "last_name", KEY_OF[table]))
        take = (evidence != "").to_numpy(dtype=bool)
        sub = frame[take]
        parts.append(
            pd.DataFrame(
                {
                    "table": table,
                    "role": role,
                    "row": np.flatnonzero(take),
                    "key": sub[KEY_OF[table]].to_numpy(object),
                    "party": sub["party"].to_numpy(object),
                    "enterprise_key": sub["enterprise_key"].to_numpy(object)
                    if "enterprise_key" in sub
                    else np.full(len(sub), None, dtype=object),
                    "first": fold(sub["first_name"]).to_numpy(object),
                    "last": fold(sub["last_name"]).to_numpy(object),
                    "email": fold(sub["email"]).to_numpy(object),
                    "evidence": evidence[take].to_numpy(object),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    return out.replace({pd.NA: None})


def _groups(occ: pd.DataFrame) -> np.ndarray:
    """A group number per occurrence: joined by being the same record, by the same name
    at the same enterprise, then by a shared e-mail address; never two sole
    proprietorships (a natural person has one enterprise number: two are two people,
    whatever else they share)."""
    n = len(occ)
    parent = np.arange(n)
    # per root, the sole proprietorship its group holds (None: none)
    sole_of: list[object] = [
        k if r == SOLE else None for r, k in zip(occ["role"], occ["key"], strict=True)
    ]

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    def join(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a == b or (
            sole_of[a] is not None and sole_of[b] is not None and sole_of[a] != sole_of[b]
        ):
            return
        parent[b] = a
        sole_of[a] = sole_of[a] if sole_of[a] is not None else sole_of[b]

    named = np.flatnonzero((occ["first"].notna() & occ["last"].notna()).to_numpy())
    mailed = np.flatnonzero(occ["email"].notna().to_numpy())
    links = [
        (np.arange(n), occ.groupby(["table", "key"]).indices),
        (named, occ.iloc[named].groupby(["first", "last", "enterprise_key"]).indices),
        (mailed, occ.iloc[mailed].groupby("email").indices),
    ]
    for rows, groups in links:  # strongest evidence first
        for members in groups.values():
            for other in rows[members[1:]]:
                join(int(rows[members[0]]), int(other))
    return np.array([root(i) for i in range(n)])


def _person_id(occ: pd.DataFrame) -> str:
    text = "\n".join(sorted(occ["table"] + ":" + occ["key"].astype(str) + ":" + occ["party"]))
    return "p-" + hashlib.sha256(text.encode()).hexdigest()[:8]


def _expanded(tables: dict[str, pd.DataFrame], q: Query, primary: bool) -> pd.DataFrame:
    """The occurrences the request matches (``seed``), with every record under the same
    names, so that a person's other records can join them (a sole proprietor found by
    number, and their contact record at their own enterprise)."""
    seeds = _occurrences(tables, q, primary).assign(seed=True)
    names = seeds[["first", "last"]].dropna().drop_duplicates()
    more = [
        _occurrences(tables, Query(first_name=f, last_name=n), True).assign(seed=False, evidence="")
        for f, n in names.itertuples(index=False)
    ]
    occ = pd.concat([seeds, *more], ignore_index=True)
    return occ.drop_duplicates(["table", "role", "row"], keep="first").reset_index(drop=True)


def search(tables: dict[str, pd.DataFrame], q: Query) -> list[Person]:
    """The candidate people a request names, each with their occurrences.

    By e-mail or name when given (a key, an enterprise number or a person id then
    chooses among the candidates); else by the key or the enterprise number.
    """
    primary = q.email is not None or q.first_name is not None
    occ = _expanded(tables, q, primary)
    if not len(occ):
        return []
    group = _groups(occ)
    people = [
        Person(id=_person_id(members), occurrences=members.reset_index(drop=True))
        for _, members in occ.groupby(group, sort=False)
        if members["seed"].any()
    ]
    if primary and q.key is not None:
        people = [p for p in people if p.touches(q.key)]
    if primary and q.enterprise_number is not None:
        ent = tables["enterprises"]
        keys = set(ent.loc[ent["enterprise_number"] == q.number, "enterprise_key"])
        people = [p for p in people if any(p.touches(k) for k in keys)]
    if q.person is not None:
        people = [p for p in people if p.id == q.person]
    return sorted(people, key=lambda p: p.id)
