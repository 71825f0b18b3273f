"""The key ring of an exchange: master secrets, derived domain keys, key files.

The only module that holds key material (with :mod:`linkage._keyfile`, which stores
it encrypted). Art. 3 of the protocol gives every entity "a unique key to link the
data"; those keys are pseudonyms (see :mod:`linkage.pseudonymise`) made with keys
derived here.

Keys
----
Each exchange (``vlaio-vdab-2025``) has a ring of *versions*; each version is a
32-byte random master secret. The key of one domain (``enterprise``, ``staff``, ...)
under one version is::

    HKDF-SHA256(ikm=master[version], salt=exchange id, info="linkage/v<version>/<domain>")

so another exchange id, another domain or another version gives an unrelated key.
:meth:`KeyRing.rotate` adds a version; :meth:`KeyRing.retire` drops an old one once
the receiver has re-keyed with a crosswalk.

Key files
---------
:meth:`KeyRing.save` writes the ring encrypted under a passphrase of at least
:data:`MIN_PASSPHRASE` characters (scrypt, then AES-256-GCM), atomically and with mode
0600; :meth:`KeyRing.load` reads it back. The
format, its encryption and its errors live in the private module
:mod:`linkage._keyfile`; the scrypt cost of new files is :data:`SCRYPT_N` here.

Environment variables
---------------------
``LINKAGE_KEY_PASSPHRASE``
    The passphrase of a key file, when none is given (and no prompt is possible);
    read by :mod:`linkage._keyfile`.
``LINKAGE_MASTER_KEY``
    Master secrets for :meth:`KeyRing.from_env`, for an ETL job behind a secrets
    manager: either one base64 secret (version 1, or the ``version`` argument), or
    ``v<N>:<base64>`` entries separated by commas. Make one with
    ``openssl rand -base64 32``.

No key byte ever reaches a repr, str, log line, error message or output file:
:class:`SecretKey` prints as ``SecretKey(<redacted>)`` and refuses to be pickled.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import logging
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from linkage._keyfile import FORMAT as FORMAT
from linkage._keyfile import FORMAT_VERSION as FORMAT_VERSION
from linkage._keyfile import MIN_PASSPHRASE, PASSPHRASE_ENV, read_keyfile, write_keyfile
from linkage._keyfile import SCRYPT_P as SCRYPT_P
from linkage._keyfile import SCRYPT_R as SCRYPT_R
from linkage.exceptions import KeyringError

__all__ = [
    "DOMAINS",
    "MASTER_KEY_ENV",
    "MIN_PASSPHRASE",
    "PASSPHRASE_ENV",
    "KeyRing",
    "SecretKey",
    "derive_key",
    "hkdf_sha256",
]

logger = logging.getLogger(__name__)

MASTER_KEY_ENV = "LINKAGE_MASTER_KEY"

#: The domains of art. 3; any other name matching ``[a-z][a-z0-9_-]*`` may be used too.
DOMAINS = ("enterprise", "establishment", "dossier", "contact", "staff", "service", "amount")
_DOMAIN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_EXCHANGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

MASTER_BYTES = 32
#: scrypt cost of new key files: 2**17 x 128 x r bytes = 128 MiB of memory, about 0.3 s
#: per load. Read by :meth:`KeyRing.save` at each call, so it can be patched here.
SCRYPT_N = 2**17


# ---------------------------------------------------------------------- primitives


@dataclass(frozen=True, eq=False, slots=True)
class SecretKey:
    """Key bytes that never print, compare in constant time and refuse to pickle.

    >>> SecretKey(bytes(32))
    SecretKey(<redacted>)
    """

    _material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self._material, bytes) or not self._material:
            raise KeyringError("a secret key must be non-empty bytes")

    def __repr__(self) -> str:
        return "SecretKey(<redacted>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __len__(self) -> int:
        return len(self._material)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretKey):
            return NotImplemented
        return hmac.compare_digest(self._material, other._material)

    __hash__ = None  # type: ignore[assignment]  # equal keys must not be dict keys by value

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("SecretKey cannot be pickled: key material stays in memory")

    def reveal(self) -> bytes:
        """The raw bytes, for a MAC or KDF call; never print, log or store them."""
        return self._material


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF with SHA-256 (RFC 5869), extract then expand.

    Parameters
    ----------
    ikm : bytes
        Input keying material.
    salt : bytes
        Extract salt; empty means a string of zeros, as in the RFC.
    info : bytes
        Context of the expand step.
    length : int
        Output length in bytes, at most 255 * 32.
    """
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt or None, info=info).derive(ikm)


def _check_domain(domain: str) -> str:
    if not isinstance(domain, str) or not _DOMAIN.match(domain):
        raise KeyringError(
            f"domain must be a lower-case name such as {', '.join(DOMAINS)}; got {domain!r}"
        )
    return domain


def _check_exchange(exchange: str) -> str:
    if not isinstance(exchange, str) or not _EXCHANGE.match(exchange):
        raise KeyringError(
            "exchange id must be letters, digits, '.', '_' or '-' (e.g. 'vlaio-vdab-2025'); "
            f"got {exchange!r}"
        )
    return exchange


def derive_key(master: SecretKey, *, exchange: str, domain: str, version: int) -> SecretKey:
    """The 32-byte key of one exchange, domain and version.

    ``HKDF-SHA256(master, salt=exchange, info="linkage/v<version>/<domain>")``.
    """
    info = f"linkage/v{int(version)}/{_check_domain(domain)}".encode("ascii")
    salt = _check_exchange(exchange).encode("ascii")
    return SecretKey(hkdf_sha256(master.reveal(), salt=salt, info=info, length=32))


# ------------------------------------------------------------------------ key ring


@dataclass(frozen=True, slots=True)
class KeyVersion:
    """One version of the ring: its number, creation time and master secret."""

    number: int
    created: dt.datetime
    master: SecretKey = field(repr=False)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class KeyRing:
    """The master secrets of one exchange, by version.

    Build one with :meth:`generate`, :meth:`load` or :meth:`from_env`. The repr shows
    the exchange id and the version numbers, never key bytes.

    >>> ring = KeyRing.generate(exchange="vlaio-vdab-2025")
    >>> ring
    KeyRing(exchange='vlaio-vdab-2025', versions=(1,), current=1)
    >>> ring.rotate()
    2
    """

    __slots__ = ("_cache", "_retired", "_versions", "exchange")

    def __init__(
        self,
        *,
        exchange: str,
        versions: Iterable[KeyVersion],
        retired: Iterable[int] = (),
    ) -> None:
        self.exchange = _check_exchange(exchange)
        self._versions: dict[int, KeyVersion] = {}
        for item in versions:
            if not isinstance(item.number, int) or item.number < 1:
                raise KeyringError(f"key versions are whole numbers from 1; got {item.number!r}")
            if item.number in self._versions:
                raise KeyringError(f"key version {item.number} appears twice")
            if len(item.master) != MASTER_BYTES:
                raise KeyringError(
                    f"master secret of version {item.number} must be {MASTER_BYTES} bytes, "
                    f"got {len(item.master)}"
                )
            self._versions[item.number] = item
        self._retired = frozenset(int(v) for v in retired)
        if self._retired & self._versions.keys():
            raise KeyringError("a version cannot be both in the ring and retired")
        if not self._versions:
            raise KeyringError(f"key ring of {exchange!r} holds no key version")
        self._cache: dict[tuple[str, int], SecretKey] = {}

    # -- construction

    @classmethod
    def generate(cls, *, exchange: str) -> KeyRing:
        """A new ring with version 1: a fresh 32-byte secret from the OS (``secrets``)."""
        first = KeyVersion(1, _now(), SecretKey(secrets.token_bytes(MASTER_BYTES)))
        return cls(exchange=exchange, versions=[first])

    @classmethod
    def from_env(
        cls,
        *,
        exchange: str,
        var: str = MASTER_KEY_ENV,
        version: int = 1,
        environ: Mapping[str, str] | None = None,
    ) -> KeyRing:
        """A ring from master secrets in an environment variable (base64).

        Parameters
        ----------
        exchange : str
            The exchange id; it is not in the variable.
        var : str
            Name of the variable, ``LINKAGE_MASTER_KEY`` by default.
        version : int
            Version number of a single secret given without a ``v<N>:`` prefix.
        environ : mapping, optional
            Where to look instead of ``os.environ``.
        """
        env = os.environ if environ is None else environ
        text = env.get(var, "").strip()
        if not text:
            raise KeyringError(f"no master key: environment variable {var} is not set")
        entries: list[tuple[int, str]] = []
        for part in text.split(","):
            part = part.strip()
            found = re.match(r"^v(\d+):(.*)$", part)
            if found:
                entries.append((int(found.group(1)), found.group(2).strip()))
            elif len(text.split(",")) == 1:
                entries.append((int(version), part))
            else:
                raise KeyringError(
                    f"environment variable {var}: give several secrets as 'v1:<base64>,v2:<base64>'"
                )
        versions = []
        for number, encoded in entries:
            try:
                raw = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise KeyringError(
                    f"environment variable {var}: version {number} is not valid base64"
                ) from None
            if len(raw) != MASTER_BYTES:
                raise KeyringError(
                    f"environment variable {var}: version {number} must decode to "
                    f"{MASTER_BYTES} bytes, got {len(raw)}"
                )
            versions.append(KeyVersion(number, _now(), SecretKey(raw)))
        return cls(exchange=exchange, versions=versions)

    # -- inspection

    @property
    def versions(self) -> tuple[int, ...]:
        """Version numbers held, oldest first."""
        return tuple(sorted(self._versions))

    @property
    def retired(self) -> tuple[int, ...]:
        """Version numbers retired from this ring; they are never reused."""
        return tuple(sorted(self._retired))

    @property
    def current(self) -> int:
        """The newest version: the one new pseudonyms are made with."""
        return max(self._versions)

    def created(self, version: int) -> dt.datetime:
        """When a version was made (UTC)."""
        return self._get(version).created

    def __repr__(self) -> str:
        return (
            f"KeyRing(exchange={self.exchange!r}, versions={self.versions}, current={self.current})"
        )

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("KeyRing cannot be pickled: key material stays in memory")

    def _get(self, version: int) -> KeyVersion:
        try:
            return self._versions[int(version)]
        except (KeyError, TypeError, ValueError):
            if version in self._retired:
                raise KeyringError(
                    f"key version {version} of {self.exchange!r} was retired"
                ) from None
            raise KeyringError(
                f"no key version {version!r} in the ring of {self.exchange!r} "
                f"(it holds {', '.join(map(str, self.versions))})"
            ) from None

    # -- use

    def key(self, domain: str, version: int | None = None) -> SecretKey:
        """The key of ``domain`` under ``version`` (the current one by default)."""
        number = self.current if version is None else int(version)
        cached = self._cache.get((domain, number))
        if cached is None:
            cached = derive_key(
                self._get(number).master, exchange=self.exchange, domain=domain, version=number
            )
            self._cache[(domain, number)] = cached
        return cached

    # -- change

    def rotate(self) -> int:
        """Add a new version with a fresh secret; return its number.

        The number is one more than any version ever held, retired ones included.
        """
        number = max(self._versions.keys() | self._retired) + 1
        self._versions[number] = KeyVersion(
            number, _now(), SecretKey(secrets.token_bytes(MASTER_BYTES))
        )
        logger.debug("exchange %s: added key version %d", self.exchange, number)
        return number

    def retire(self, version: int) -> None:
        """Drop an old version once its pseudonyms have been re-keyed.

        The current (newest) version cannot be retired.
        """
        number = int(version)
        self._get(number)
        if number == self.current:
            raise KeyringError(
                f"key version {number} is the current version of {self.exchange!r}; "
                "rotate first, then retire the old one"
            )
        del self._versions[number]
        self._retired = self._retired | {number}
        self._cache = {k: v for k, v in self._cache.items() if k[1] != number}
        logger.debug("exchange %s: retired key version %d", self.exchange, number)

    # -- files

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        passphrase: str | None = None,
        scrypt_n: int | None = None,
    ) -> Path:
        """Write the ring encrypted under ``passphrase``, atomically, mode 0600.

        Parameters
        ----------
        path : path-like
            The key file; replaced if it exists.
        passphrase : str, optional
            Defaults to the environment variable ``LINKAGE_KEY_PASSPHRASE``.
        scrypt_n : int, optional
            scrypt cost (a power of two); :data:`SCRYPT_N` by default.
        """
        path = Path(path)
        write_keyfile(
            path,
            exchange=self.exchange,
            versions=[
                (v.number, v.created, v.master.reveal())
                for v in (self._versions[n] for n in self.versions)
            ],
            retired=self.retired,
            passphrase=passphrase,
            scrypt_n=SCRYPT_N if scrypt_n is None else scrypt_n,
        )
        logger.debug("wrote key ring of %s to %s", self.exchange, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, passphrase: str | None = None) -> KeyRing:
        """Read and decrypt a key file written by :meth:`save`.

        Raises
        ------
        KeyringError
            With the file as ``source``: ``no such key file``; ``not a linkage key
            file (truncated or corrupt)``; ``cannot decrypt: wrong passphrase or the
            file was altered``.
        """
        exchange, versions, retired = read_keyfile(
            Path(path),
            passphrase=passphrase,
            check_exchange=_check_exchange,
            make_version=lambda number, created, raw: KeyVersion(number, created, SecretKey(raw)),
        )
        return cls(exchange=exchange, versions=versions, retired=retired)
