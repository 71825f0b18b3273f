"""The art. 8 checks that read more than one field: code lists, dates, places, reach.

Each check is a function of the extract frames (all parties together, see
:class:`._extract.Extracts`) that returns frames of defects, one row per record and
field, made by :func:`found`. What a rule means (its art. 8 kind and severity) is the
catalogue in :mod:`._quality`; these functions only find. Every check is a whole-column
operation: masks, joins and Arrow kernels, no Python code per record.

The rules hold on any data, not on thresholds fitted to one extract:

* **code lists** — the values KBO and the senders' CRM use (module constants below),
  compared folded (case, dots, spaces and hyphens ignored): ``N.V.`` is ``NV``;
* **dates** — a date after the day of the run; a dossier decided before its first
  contact (the earlier of its start and contact dates);
* **places** — a postcode that is not a Belgian one (four digits, 1000-9999); a
  postcode and municipality that no other record of the exchange (any party's
  enterprises and establishment units, VDAB's employers and sites) carries together,
  while each is carried with another one elsewhere: the data are their own
  reference, so a municipality seen once is never reported;
* **reach** — a contact person with neither e-mail address nor phone number;
* **staff** — a staff member's e-mail at a public mail provider, where art. 3 asks
  for a professional address;
* **entity** — a natural person with a legal form (a sole proprietorship has none),
  a legal person without one;
* **parties** — the same enterprise sent by both parties with different values of
  a field both filled in (compared folded).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from linkage.exchange._extract import FILE, ROW
from linkage.exchange._fingerprints import codes as joint_codes
from linkage.exchange._fingerprints import text
from linkage.exchange._schema import EXTRACTS
from linkage.normalise import normalise_emails, normalise_postcodes

__all__ = [
    "CODE_LISTS",
    "PUBLIC_MAIL",
    "cross_party",
    "dates",
    "entity",
    "fold",
    "found",
    "isin",
    "places",
    "reach",
    "staff_mail",
    "vdab_disagreements",
]

#: The columns of a defect as the checks make them (the report adds the rest).
FOUND = ("party", "table", "record_id", "column", "defect", "detail", "file", "row")

NATURAL = ("natural_person", "natuurlijk persoon", "natuurlijkpersoon", "personne physique")
LEGAL = ("legal_person", "rechtspersoon", "personne morale")

#: Code lists, folded (see :func:`fold`): the values KBO and the senders use, Dutch,
#: French and the legacy forms still in KBO (BVBA, CVBA, ...).
CODE_LISTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("enterprises", "entity_type"): NATURAL + LEGAL,
    ("enterprises", "legal_form"): (
        "bv", "bvba", "nv", "vzw", "ivzw", "cv", "cvba", "cvoa", "commv", "commva", "vof",
        "maatschap", "stichting", "privatestichting", "lv", "landbouwvennootschap", "eesv",
        "esv", "se", "sce", "ev", "vme", "besloten vennootschap", "naamloze vennootschap",
        "vereniging zonder winstoogmerk", "cooperatieve vennootschap",
        "coöperatieve vennootschap", "commanditaire vennootschap",
        "vennootschap onder firma", "mts", "stg", "srl", "sprl", "sa", "asbl", "aisbl",
        "sc", "scrl", "scomm", "scs", "snc", "sociétésimple", "fondation", "gie", "geie",
        "publiekrechtelijke rechtspersoon", "ov", "vvzrl",
    ),
    ("enterprises", "legal_situation"): (
        "normale toestand", "gerechtelijke reorganisatie", "faillissement", "vereffening",
        "stopzetting", "ontbinding", "gerechtelijk akkoord", "sluiting van vereffening",
        "sluiting van faillissement", "fusie", "splitsing", "opslorping",
        "gerechtelijke ontbinding", "situation normale", "faillite", "liquidation",
    ),
    ("enterprises", "status"): ("actief", "stopgezet", "active", "stopped", "actif", "arrêté"),
    ("enterprises", "size_class"): (
        "micro", "small", "medium", "large", "klein", "middelgroot", "groot", "kmo",
        "grote onderneming", "kleine onderneming", "middelgrote onderneming",
        "micro-onderneming",
    ),
    ("dossiers", "status"): (
        "ingediend", "in behandeling", "goedgekeurd", "afgewezen", "afgesloten",
        "geannuleerd", "stopgezet", "lopend", "onvolledig",
    ),
}  # fmt: skip

#: Public mail providers: an address there is a person's own, not a professional one.
PUBLIC_MAIL = (
    "gmail.com", "googlemail.com", "hotmail.com", "hotmail.be", "outlook.com", "outlook.be",
    "live.com", "live.be", "msn.com", "yahoo.com", "yahoo.fr", "yahoo.be", "icloud.com",
    "me.com", "telenet.be", "skynet.be", "proximus.be", "scarlet.be", "pandora.be",
    "gmx.com", "gmx.net", "protonmail.com", "proton.me", "aol.com", "orange.be", "mail.com",
)  # fmt: skip

#: The fields of an enterprise compared between the two parties' records of it.
COMPARED = (
    "name",
    "entity_type",
    "legal_form",
    "status",
    "start_date",
    "street",
    "house_number",
    "postcode",
    "municipality",
)


def found(
    frame: pd.DataFrame,
    mask: pd.Series | np.ndarray,
    *,
    table: str,
    column: str,
    defect: str,
    detail: str | pd.Series | np.ndarray,
) -> pd.DataFrame:
    """The defects of the rows of ``frame`` where ``mask`` holds: who sent the record,
    its id, where it came from (file, 1-based row), never a value. The party and id
    stay as the frame holds them (Arrow text: no Python string per defect)."""
    mask = np.asarray(mask, dtype=bool)
    rows = frame.loc[mask, ["party", EXTRACTS[table].id, FILE, ROW]]
    if isinstance(detail, pd.Series):
        detail = detail[mask].to_numpy()
    elif isinstance(detail, np.ndarray):
        detail = detail[mask]
    return pd.DataFrame(
        {
            "party": rows["party"].array,
            "table": table,
            "record_id": rows[EXTRACTS[table].id].array,
            "column": column,
            "defect": defect,
            "detail": detail,
            "file": rows[FILE].to_numpy(),
            "row": rows[ROW].to_numpy() + 1,
        }
    )


def isin(values: pd.Series, other: pd.Series | tuple[str, ...]) -> pd.Series:
    """``values.isin(other)`` (missing is in ``other`` if ``other`` holds one), by Arrow:
    pandas asks each Arrow string for a Python object first."""
    if not isinstance(values.dtype, pd.StringDtype):
        return values.isin(list(other))
    array = pa.array(values.array)
    if isinstance(other, pd.Series) and isinstance(other.dtype, pd.StringDtype):
        wanted = pa.array(other.array).cast(array.type)
    else:
        wanted = pa.array(pd.Series(list(other), dtype=object), type=array.type, from_pandas=True)
    hit = pc.is_in(array, value_set=wanted, skip_nulls=False)  # repeats are no harm
    return pd.Series(
        pc.fill_null(hit, False).to_numpy(zero_copy_only=False), index=values.index, dtype=bool
    )


def fold(values: pd.Series) -> pd.Series:
    """Text compared as people read it: lower case, without dots, hyphens and runs of
    white space (``"N.V."`` and ``"nv"``, ``"In  behandeling"`` and ``"in behandeling"``).
    Returns ``string[pyarrow]``; missing stays missing. Each distinct value is
    folded once (a column of codes or place names holds few)."""
    text = pa.array(values.astype("string[pyarrow]").array)
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    encoded = pc.dictionary_encode(text)
    distinct = pc.utf8_lower(encoded.dictionary)
    distinct = pc.replace_substring_regex(distinct, r"[.\-]+", "")
    distinct = pc.utf8_trim_whitespace(pc.replace_substring_regex(distinct, r"\s+", " "))
    folded = distinct.take(encoded.indices)
    return pd.Series(pd.arrays.ArrowStringArray(folded), index=values.index, name=values.name)


def casefolded(values: pd.Series) -> pd.Series:
    """``values.str.casefold()``, each distinct value folded once. ``string[pyarrow]``."""
    text = pa.array(values.astype("string[pyarrow]").array)
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    encoded = pc.dictionary_encode(text)
    distinct = pd.Series(pd.arrays.ArrowStringArray(encoded.dictionary)).str.casefold()
    folded = pa.array(distinct.astype("string[pyarrow]").array).take(encoded.indices)
    return pd.Series(pd.arrays.ArrowStringArray(folded), index=values.index, name=values.name)


def folded_codes(values: pd.Series, *, strip: bool = False) -> np.ndarray:
    """An integer per value, equal where the values are after ``str.casefold`` (and
    ``str.strip``), -1 where missing: each distinct value folded once, and no
    folded text made per value."""
    text = pa.array(values.astype("string[pyarrow]").array)
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    encoded = pc.dictionary_encode(text)
    distinct = pd.Series(pd.arrays.ArrowStringArray(encoded.dictionary)).str.casefold()
    codes, _ = pd.factorize(distinct.str.strip() if strip else distinct)
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return np.where(indices >= 0, codes[np.maximum(indices, 0)], -1)


def codes(values: pd.Series) -> np.ndarray:
    """An integer per value, equal where the values are, -1 where missing."""
    found, _ = pd.factorize(values)
    return found


def duplicated(*columns: np.ndarray) -> np.ndarray:
    """``DataFrame.duplicated(keep=False)`` of rows of integer codes (:func:`codes`)."""
    key, size = np.zeros(len(columns[0]), dtype=np.int64), 1
    for column in columns:
        width = int(column.max(initial=0)) + 2
        if size * width >= 2**62:  # renumbered from 0 before it could overflow
            key, uniques = pd.factorize(key)
            size = len(uniques)
        key, size = key * width + column + 1, size * width
    return pd.Series(key).duplicated(keep=False).to_numpy()


def _folded_list(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(fold(pd.Series(list(words), dtype="string[pyarrow]")).dropna().unique())


def code_lists(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """A value outside its code list (:data:`CODE_LISTS`)."""
    out = []
    for (table, column), allowed in CODE_LISTS.items():
        frame = tables[table]
        # Each distinct value looked up once.
        text = pa.array(frame[column].astype("string[pyarrow]").array)
        encoded = pc.dictionary_encode(
            text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
        )
        values = fold(pd.Series(pd.arrays.ArrowStringArray(encoded.dictionary)))
        # Compared without the spaces too: "In behandeling" and "Inbehandeling".
        tight = values.str.replace(" ", "", regex=False)
        words = _folded_list(allowed)
        known = isin(values, words) | isin(tight, tuple(w.replace(" ", "") for w in words))
        unknown = np.append(~known.to_numpy(dtype=bool), False)  # the last: missing
        bad = unknown[pc.fill_null(encoded.indices, len(known)).to_numpy(zero_copy_only=False)]
        out.append(
            found(
                frame,
                bad,
                table=table,
                column=column,
                defect="not in code list",
                detail=f"not a value of the {column.replace('_', ' ')} code list",
            )
        )
    return out


def dates(tables: dict[str, pd.DataFrame], today: dt.date) -> list[pd.DataFrame]:
    """A date after the run's day; a decision before the dossier's first contact."""
    out = []
    now = np.datetime64(today, "ns")
    for table, extract in EXTRACTS.items():
        frame = tables[table]
        for column, spec in extract.columns.items():
            if spec.kind == "date":
                out.append(
                    found(
                        frame,
                        frame[column].to_numpy(dtype="datetime64[ns]") > now,  # NaT: False
                        table=table,
                        column=column,
                        defect="date in the future",
                        detail="after the day of this report",
                    )
                )
    dos = tables["dossiers"]
    first = dos[["start_date", "contact_date"]].min(axis=1)
    early = (dos["decision_date"] < first).fillna(False).to_numpy(dtype=bool)
    # Written only where the dates are out of order.
    days = (first[early] - dos["decision_date"][early]).dt.days.to_numpy(dtype=np.int64)
    words = pc.binary_join_element_wise(
        "decided ", pc.cast(pa.array(days), pa.string()), " days before the first contact", ""
    )
    detail = np.full(len(dos), None, dtype=object)
    detail[early] = words.to_numpy(zero_copy_only=False)
    out.append(
        found(
            dos,
            early,
            table="dossiers",
            column="decision_date",
            defect="dates out of order",
            detail=detail,
        )
    )
    return out


def _places(frame: pd.DataFrame) -> dict[str, pa.Array]:
    """Normalised postcode (``p``), why it is not one (``reason``) and folded
    municipality (``m``) of a frame (when it has both), as Arrow text."""
    if "postcode" not in frame.columns or "municipality" not in frame.columns:
        empty = pa.array([], pa.large_string())
        return {"p": empty, "reason": empty, "m": empty}
    postcodes = normalise_postcodes(frame["postcode"].reset_index(drop=True), return_reasons=True)
    return {
        "p": _arrow(postcodes["postcode"]),
        "reason": _arrow(postcodes["reason"]),
        "m": _arrow(fold(frame["municipality"].reset_index(drop=True))),
    }


def _arrow(values: pd.Series) -> pa.Array:
    """A text column as one Arrow array of ``large_string``."""
    text = pa.array(values.astype("string[pyarrow]").array)
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    return text.cast(pa.large_string())


def _codes(text: list[pa.Array]) -> tuple[np.ndarray, int]:
    """An integer per value of the arrays one after the other, equal where the
    values are (-1: missing), and how many distinct values there are."""
    encoded = pc.dictionary_encode(pa.concat_arrays(text))
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, len(encoded.dictionary)


def places(
    tables: dict[str, pd.DataFrame], vdab: tuple[pd.DataFrame, ...] = ()
) -> list[pd.DataFrame]:
    """A postcode that is not Belgian; a postcode and municipality not seen together
    in any other record while each is seen with another (see the module docstring)."""
    own = {t: _places(tables[t]) for t in ("enterprises", "establishments")}
    every = [*own.values(), *(_places(f) for f in vdab)]
    # Integer codes: a postcode, a name, a pair of both (-1: missing).
    p, postcodes = _codes([e["p"] for e in every])
    m, names = _codes([e["m"] for e in every])
    both = (p >= 0) & (m >= 0)
    width = max(names, 1)
    pair_code, pairs = pd.factorize(np.where(both, p * width + m, -1))
    seen = np.bincount(pair_code[both], minlength=len(pairs))  # records per pair
    distinct = pairs[pairs >= 0]
    names_per_postcode = np.bincount(distinct // width, minlength=postcodes)
    postcodes_per_name = np.bincount(distinct % width, minlength=names)
    starts = np.cumsum([0, *(len(f["p"]) for f in own.values())])
    out = []
    for i, (table, place) in enumerate(own.items()):
        frame = tables[table]
        reasons = place["reason"]
        bad = reasons.is_valid().to_numpy(zero_copy_only=False)
        bad &= frame["postcode"].notna().to_numpy(dtype=bool)
        detail = np.full(len(frame), None, dtype=object)
        detail[bad] = reasons.filter(pa.array(bad)).to_numpy(zero_copy_only=False)
        out.append(
            found(
                frame,
                bad,
                table=table,
                column="postcode",
                defect="invalid postcode",
                detail=detail,
            )
        )
        at = slice(starts[i], starts[i + 1])
        mine = both[at]
        lonely = np.zeros(len(frame), dtype=bool)
        lonely[mine] = (
            (seen[pair_code[at][mine]] <= 1)
            & (names_per_postcode[p[at][mine]] >= 2)
            & (postcodes_per_name[m[at][mine]] >= 2)
        )
        out.append(
            found(
                frame,
                lonely,
                table=table,
                column="postcode",
                defect="postcode not of the municipality",
                detail="no other record carries this postcode with this municipality; "
                "both are carried with others",
            )
        )
    return out


def reach(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """A contact person with no e-mail address and no phone number."""
    con = tables["contacts"]
    return [
        found(
            con,
            con["email"].isna() & con["phone"].isna(),
            table="contacts",
            column="email",
            defect="contact cannot be reached",
            detail="neither an e-mail address nor a phone number",
        )
    ]


def staff_mail(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """A staff member's e-mail address at a public mail provider."""
    staff = tables["staff"]
    domain = normalise_emails(staff["email"].reset_index(drop=True))["domain"]
    personal = isin(domain.astype("string[pyarrow]"), PUBLIC_MAIL).to_numpy(dtype=bool)
    return [
        found(
            staff,
            personal,
            table="staff",
            column="email",
            defect="personal e-mail address",
            detail="a public mail provider: art. 3 asks for the professional address",
        )
    ]


def entity(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """A natural person with a legal form; a legal person without one."""
    ent = tables["enterprises"]
    kind = fold(ent["entity_type"])
    natural = isin(kind, _folded_list(NATURAL))
    legal = isin(kind, _folded_list(LEGAL))
    form = ent["legal_form"].notna()
    return [
        found(
            ent,
            natural & form,
            table="enterprises",
            column="legal_form",
            defect="legal form of a natural person",
            detail="a natural person (sole proprietorship) has no legal form",
        ),
        found(
            ent,
            legal & ~form,
            table="enterprises",
            column="legal_form",
            defect="legal person without legal form",
            detail="a legal person has a legal form",
        ),
    ]


def cross_party(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """The same enterprise sent by both parties with different values: each party's
    record is reported, naming the field (never either value)."""
    ent = tables["enterprises"]
    number = ent["enterprise_number"]
    twice = (number.notna() & number.duplicated(keep=False)).to_numpy(dtype=bool)
    if not twice.any():
        return []
    both = ent[twice]
    out = []
    for column in COMPARED:
        value = both[column]
        text = value.dt.strftime("%Y-%m-%d") if value.dtype.kind == "M" else fold(value)
        per = pd.DataFrame({"n": both["enterprise_number"], "v": text.astype("string")}).dropna()
        distinct = per.drop_duplicates().groupby("n")["v"].size()
        differ = distinct[distinct > 1].index
        mask = isin(both["enterprise_number"], pd.Series(differ, dtype="string[pyarrow]"))
        mask &= text.notna()
        other = ", ".join(sorted(set(both["party"].dropna())))
        out.append(
            found(
                both,
                mask,
                table="enterprises",
                column=column,
                defect="differs between parties",
                detail=f"the parties ({other}) send this enterprise with different values",
            )
        )
    return out


def _differ(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Where both are filled in and differ as text (by Arrow for Arrow text)."""
    arrow = pd.StringDtype("pyarrow")
    if a.dtype == arrow and b.dtype == arrow:
        differ = pc.fill_null(pc.not_equal(pa.array(a.array), pa.array(b.array)), False)
        return differ.to_numpy(zero_copy_only=False)
    filled = a.notna() & b.notna()
    return (filled & (a.astype("string") != b.astype("string"))).fillna(False).to_numpy(bool)


def _first_of(ids: pd.Series, wanted: pd.Series) -> np.ndarray | None:
    """The position of the first of ``ids`` that is each of ``wanted`` (-1: none),
    by Arrow, where both are text; None where either is not."""
    kinds = [pd.api.types.infer_dtype(v, skipna=True) for v in (ids, wanted)]
    if not all(k in ("string", "empty") for k in kinds):
        return None
    value_set, values = (pa.array(v.astype("string[pyarrow]").array) for v in (ids, wanted))
    found = pc.index_in(values, value_set=value_set, skip_nulls=False)
    positions: np.ndarray = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
    return positions


def _linked_rows(
    enterprises: pd.DataFrame, delivered: pd.DataFrame, links: pd.DataFrame
) -> tuple[NDArray[np.int64], pd.Series]:
    """The position in ``enterprises`` of each row of a linked enterprise, and the id
    of the employer its party's link names: the links merged with the delivered
    numbers on key and party, then with the sent rows on number and party. Merged on
    the text's joint codes (:func:`._fingerprints.codes`), not on the text itself:
    a merge hashes its keys' text anew, and they are hundreds of thousands."""
    key = joint_codes(text(links["enterprise_key"]), text(delivered["enterprise_key"])).codes
    party = joint_codes(*(text(frame["party"]) for frame in (links, delivered, enterprises))).codes
    number = joint_codes(
        text(delivered["enterprise_number"]), text(enterprises["enterprise_number"])
    ).codes
    numbers = pd.DataFrame({"key": key[1], "party": party[1], "number": number[0]})
    keyed = pd.DataFrame({"key": key[0], "party": party[0], "link": np.arange(len(links))})
    keyed = keyed.merge(numbers.drop_duplicates(["key", "party"]), on=["key", "party"])
    sent = pd.DataFrame({"number": number[1], "party": party[2], "at": np.arange(len(enterprises))})
    pairs = keyed.merge(sent, on=["number", "party"])
    employer_ids = links["employer_id"].iloc[pairs["link"].to_numpy()].reset_index(drop=True)
    return pairs["at"].to_numpy(), employer_ids


def vdab_disagreements(
    enterprises: pd.DataFrame,
    delivered: pd.DataFrame,
    links: pd.DataFrame,
    employers: pd.DataFrame,
    *,
    columns: tuple[str, ...] = ("postcode",),
    rows: tuple[NDArray[np.intp], NDArray[np.intp]] | None = None,
) -> list[pd.DataFrame]:
    """Where VDAB's linked employer record disagrees with the sender on a field
    (``inaccurate``, found through the linkage): both filled in, different once
    normalised. A field VDAB's file does not have is not compared.

    Parameters
    ----------
    enterprises : DataFrame
        The clear extract as linked (``enterprise_number``, ``party``, ``_file``,
        ``_row`` and the compared columns).
    delivered : DataFrame
        The delivered enterprises (``enterprise_key``, ``enterprise_number``, ``party``).
    links : DataFrame
        ``links_enterprises``: ``enterprise_key``, ``party``, ``employer_id``.
    employers : DataFrame
        VDAB's employers (``employer_id`` and the compared columns).
    rows : pair of ndarray, optional
        Per link, its row in ``enterprises`` and in ``employers``, where the linking
        knows them (``FeedLinks.rows``); else they are found by merges on the keys,
        parties and numbers, and an employer id's first record.
    """
    columns = tuple(c for c in columns if c in employers.columns)
    if not columns or not len(links):
        return []
    linked: NDArray[np.intp] | None
    if rows is not None:
        at, linked = rows
    else:
        at, employer_ids = _linked_rows(enterprises, delivered, links)
        linked = _first_of(employers["employer_id"], employer_ids)
    out = []
    for column in columns:
        ours = enterprises[column].iloc[at].reset_index(drop=True)
        if linked is None:
            right = employers.drop_duplicates("employer_id").set_index("employer_id")
            theirs = right[column].reindex(employer_ids.to_numpy()).reset_index(drop=True)
        else:
            theirs = employers[column].take(linked).reset_index(drop=True)
            theirs[linked < 0] = None
        if column == "postcode":
            a, b = normalise_postcodes(ours), normalise_postcodes(theirs)
        else:
            a, b = fold(ours), fold(theirs)
        differ = np.zeros(len(enterprises), dtype=bool)
        differ[at[_differ(a, b)]] = True
        out.append(
            found(
                enterprises,
                differ,
                table="enterprises",
                column=column,
                defect="differs from VDAB's employer",
                detail="VDAB's employer record linked to this enterprise has another value",
            )
        )
    return out
