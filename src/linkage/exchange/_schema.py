"""What article 3 of the protocol allows: the fields of Gegeven 1-3, as input columns.

Each sending party extracts five tables. Every column an extract may carry is listed
here with its kind, whether it is required, and the item of art. 3 that allows it;
any other column is dropped (and reported) before anything else happens. These names
are the protocol's: a party whose files carry other headers maps them in the exchange
config (``[extracts.<party>.columns.<table>]``, see ``exchange/_config.py``).

=============== ============ =================================================
extract         art. 3       one row per
=============== ============ =================================================
enterprises     Gegeven 2    enterprise (KBO number) the party has a dossier for
establishments  Gegeven 2    establishment unit of such an enterprise
dossiers        Gegeven 1    service (support measure) of a dossier, with its amounts: a
                             dossier with three services is three rows, which repeat
                             the dossier's own fields (:attr:`Extract.repeats`)
contacts        Gegeven 1    contact person of the enterprise for one dossier
staff           Gegeven 3    VLAIO/TBT staff member
=============== ============ =================================================

Plurals (art. 3 lists web addresses, e-mail addresses and phone numbers of an
enterprise, and themes of a dossier): a :attr:`Column.plural` cell holds a list, its
values separated by ``;``, ``,``, ``|`` or a line break; it is read as its values in
the order sent, without repeats, joined by ``"; "`` (:data:`LIST_SEPARATOR`), checked
value by value, and linked on any of its values. A dossier's services and amounts are
rows of the dossiers extract, delivered as the ``dossier_services`` bridge and the
``amounts`` table (each amount with its service).

Keys: every entity gets an exchange key (a pseudonym, one key domain per entity)
made from its own id. Ids of dossiers, contacts, staff and services are exchange-wide
(VLAIO and TBT share one CRM: a TBT dossier may name a VLAIO adviser), so their keys
do not depend on the party; an enterprise may be sent by both parties, so it is
unique per party, and its key is the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["EXTRACTS", "LIST_SEPARATOR", "OUTPUTS", "Column", "Extract", "Output"]

#: How a plural cell's values are joined once read (see the module docstring).
LIST_SEPARATOR = "; "
#: What separates the values of a plural cell as sent.
LIST_SPLIT = r"\s*[;,|\n]\s*"

Kind = Literal["text", "date", "amount", "flag", "enterprise", "establishment"]


@dataclass(frozen=True, kw_only=True)
class Column:
    """One allowed column of an extract."""

    kind: Kind = "text"
    required: bool = False
    item: str = ""
    #: a list of values in one cell (art. 3's plurals)
    plural: bool = False


@dataclass(frozen=True, kw_only=True)
class Extract:
    """One input table: its allowed columns, id, and whether ids repeat across parties."""

    name: str
    gegeven: int
    id: str
    columns: dict[str, Column]
    #: ids unique across all parties (True) or only within one party's extract (False)
    exchange_wide: bool = True
    #: the columns of a one-to-many part: a record is then one row per part (its
    #: id repeated, every other column the same); none: one row per record
    repeats: tuple[str, ...] = ()
    #: of those, the ones that tell a record's parts apart (each once per record)
    part: tuple[str, ...] = ()


def _c(item: str, kind: Kind = "text", *, required: bool = False, plural: bool = False) -> Column:
    return Column(kind=kind, required=required, item=item, plural=plural)


_ADDRESS = "adressen van de maatschappelijke zetel en de vestigingseenheden"

EXTRACTS: dict[str, Extract] = {
    "enterprises": Extract(
        name="enterprises",
        gegeven=2,
        id="enterprise_number",
        exchange_wide=False,
        columns={
            "enterprise_number": _c("ondernemingsnummer", "enterprise", required=True),
            "name": _c("naam", required=True),
            "entity_type": _c("type entiteit"),
            "legal_form": _c("rechtsvorm"),
            "legal_situation": _c("rechtstoestand"),
            "status": _c("status", required=True),
            "start_date": _c("begin- of oprichtingsdatum", "date"),
            "manager_first_name": _c("voornaam van de bedrijfsleider"),
            "manager_last_name": _c("naam van de bedrijfsleider"),
            "manager_function": _c("functie van de bedrijfsleider"),
            "website": _c("webadressen", plural=True),
            "email": _c("e-mailadressen", plural=True),
            "phone": _c("telefoonnummers", plural=True),
            "street": _c(_ADDRESS),
            "house_number": _c(_ADDRESS),
            "box": _c(_ADDRESS),
            "postcode": _c(_ADDRESS),
            "municipality": _c(_ADDRESS),
            "nace_code": _c("beschrijvingen van de activiteiten"),
            "activity": _c("beschrijvingen van de activiteiten"),
            "size_class": _c("groottebepaling, zoals ingeschat door VLAIO of TBT"),
            "size_class_date": _c("datum waarop de grootte bepaald werd", "date"),
            "in_difficulty": _c("onderneming in moeilijkheden, zoals ingeschat", "flag"),
            "in_difficulty_date": _c("datum van die beoordeling", "date"),
        },
    ),
    "establishments": Extract(
        name="establishments",
        gegeven=2,
        id="establishment_number",
        exchange_wide=False,
        columns={
            "establishment_number": _c(
                "nummers van de vestigingseenheden", "establishment", required=True
            ),
            "enterprise_number": _c("ondernemingsnummer", "enterprise", required=True),
            "name": _c("naam"),
            "street": _c(_ADDRESS),
            "house_number": _c(_ADDRESS),
            "box": _c(_ADDRESS),
            "postcode": _c(_ADDRESS),
            "municipality": _c(_ADDRESS),
        },
    ),
    "dossiers": Extract(
        name="dossiers",
        gegeven=1,
        id="dossier_id",
        repeats=(
            "service_id",
            "service_name",
            "service_description",
            "amount_id",
            "granted_amount",
            "paid_amount",
            "staff_ids",
        ),
        part=("service_id", "amount_id"),
        columns={
            "dossier_id": _c("identificatienummer", required=True),
            "enterprise_number": _c("de onderneming van het dossier", "enterprise", required=True),
            "title": _c("titel", required=True),
            "status": _c("status", required=True),
            "themes": _c("thema's of domeinen", plural=True),
            "service_id": _c("sleutel van de dienstverlening of steunmaatregel"),
            "service_name": _c("naam van de dienstverlening of steunmaatregel"),
            "service_description": _c("generieke beschrijving van de dienstverlening"),
            "staff_ids": _c("verwijzing naar de medewerker(s), gegeven 3"),
            "amount_id": _c("sleutel van de steunbedragen"),
            "granted_amount": _c("toegekend steunbedrag", "amount"),
            "paid_amount": _c("uitbetaald steunbedrag", "amount"),
            "start_date": _c("contactdatum", "date"),
            "contact_date": _c("contactdatum", "date"),
            "decision_date": _c("beslissingsdatum", "date"),
            "crm_reference": _c("verwijzing naar het CRM-systeem"),
        },
    ),
    "contacts": Extract(
        name="contacts",
        gegeven=1,
        id="contact_id",
        columns={
            "contact_id": _c("sleutel van de contactpersoon", required=True),
            "dossier_id": _c("het dossier", required=True),
            "enterprise_number": _c("de onderneming", "enterprise"),
            "first_name": _c("voornaam"),
            "last_name": _c("naam", required=True),
            "function": _c("functie"),
            "service": _c("dienst"),
            "department": _c("afdeling"),
            "email": _c("e-mailadres"),
            "phone": _c("telefoonnummer"),
        },
    ),
    "staff": Extract(
        name="staff",
        gegeven=3,
        id="staff_id",
        columns={
            "staff_id": _c("sleutel per medewerker, niet het rijksregisternummer", required=True),
            "first_name": _c("voornaam"),
            "last_name": _c("naam", required=True),
            "function": _c("functie"),
            "service": _c("dienst"),
            "department": _c("afdeling"),
            "email": _c("professioneel e-mailadres"),
            "phone": _c("professioneel telefoonnummer"),
        },
    ),
}

#: Input id column -> key domain (see :data:`linkage.keys.DOMAINS`).
DOMAINS = {
    "enterprise_number": "enterprise",
    "establishment_number": "establishment",
    "dossier_id": "dossier",
    "contact_id": "contact",
    "staff_id": "staff",
    "service_id": "service",
    "amount_id": "amount",
}

#: Column names that announce a national register number: refused even when empty.
NATIONAL_NUMBER_NAMES = r"(?i)(rijksregister|national_?(register|number)|insz|niss|\brrn\b|^rrn)"


@dataclass(frozen=True, kw_only=True)
class Output:
    """One delivered table: its primary key (always with ``party``) and person columns."""

    name: str
    key: tuple[str, ...]


OUTPUTS: dict[str, Output] = {
    o.name: o
    for o in (
        Output(name="enterprises", key=("enterprise_key", "party")),
        Output(name="establishments", key=("establishment_key", "party")),
        Output(name="dossiers", key=("dossier_key", "party")),
        Output(name="dossier_staff", key=("dossier_key", "staff_key", "party")),
        Output(name="dossier_services", key=("dossier_key", "service_key", "party")),
        Output(name="contacts", key=("contact_key", "party")),
        Output(name="services", key=("service_key", "party")),
        Output(name="amounts", key=("amount_key", "party")),
        Output(name="staff", key=("staff_key", "party")),
        Output(name="links_enterprises", key=("enterprise_key", "party", "employer_id")),
        Output(name="links_establishments", key=("establishment_key", "party", "site_id")),
    )
}
