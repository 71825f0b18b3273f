"""The encrypted key file of a key ring (format 1): envelope, encryption, atomic write.

Private to :mod:`linkage.keys`, which turns what is read here into a
:class:`~linkage.keys.KeyRing` (and back); nothing here knows about rings, domains or
derivation, and this module imports nothing from :mod:`linkage.keys`.

Key file (format 1)
-------------------
A UTF-8 JSON object, written atomically with mode 0600::

    {"format": "linkage-keyring", "format_version": 1, "exchange": "vlaio-vdab-2025",
     "kdf": {"name": "scrypt", "n": 131072, "r": 8, "p": 1, "salt": "<b64, 16 bytes>"},
     "cipher": "AES-256-GCM", "nonce": "<b64, 12 bytes>", "ciphertext": "<b64>"}

The AES key is ``scrypt(passphrase, salt, n, r, p)``; the associated data is the
canonical JSON (sorted keys, no spaces) of every field but ``ciphertext``, so a change
to the exchange id or KDF parameters is detected. The plaintext is JSON with the
versions (number, creation time, secret) and the numbers of retired versions.

The scrypt cost ``n`` is chosen by the caller (:data:`linkage.keys.SCRYPT_N` by
default); ``r`` and ``p`` are fixed here. A file is refused unread if its parameters
would make scrypt take more than 2 GiB of memory.

Errors, all :class:`~linkage.exceptions.KeyringError` with the file as ``source``:
``no such key file``; ``not a linkage key file (truncated or corrupt)``; ``cannot
decrypt: wrong passphrase or the file was altered``; and, without a source, ``no
passphrase: set the environment variable LINKAGE_KEY_PASSPHRASE or give one``. None
carries a byte of the file or of the passphrase.

A file is written only under a passphrase of at least :data:`MIN_PASSPHRASE`
characters, wherever it comes from (an argument, the environment, a prompt); a file
written before under a shorter one can still be read. A passphrase is its UTF-8
bytes; one from the environment that is not UTF-8 (decoded by Python with
``surrogateescape``) is its original bytes.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from linkage.exceptions import KeyringError, LinkageError
from linkage.io import atomic_path

# Log under the public module's name, as before the key file had a module of its own.
logger = logging.getLogger("linkage.keys")

#: The passphrase of a key file, when none is given.
PASSPHRASE_ENV = "LINKAGE_KEY_PASSPHRASE"
#: The fewest characters of a passphrase a key file is written under.
MIN_PASSPHRASE = 12

FORMAT = "linkage-keyring"
FORMAT_VERSION = 1
SCRYPT_R = 8
SCRYPT_P = 1
_SCRYPT_MAX_MEMORY = 2**31  # refuse files that would make scrypt take more than 2 GiB

V = TypeVar("V")


def write_keyfile(
    path: Path,
    *,
    exchange: str,
    versions: Iterable[tuple[int, dt.datetime, bytes]],
    retired: Iterable[int],
    passphrase: str | bytes | None,
    scrypt_n: object,
) -> None:
    """Encrypt versions ``(number, created, secret)`` and write them to ``path``.

    ``passphrase`` defaults to the environment variable ``LINKAGE_KEY_PASSPHRASE``;
    ``scrypt_n`` is the scrypt cost, a power of two. The file is replaced atomically
    and has mode 0600.
    """
    secret = _passphrase(passphrase, writing=True)
    n = int(scrypt_n)  # type: ignore[call-overload]
    try:
        _check_scrypt(n, SCRYPT_R, SCRYPT_P)
    except ValueError as exc:
        raise KeyringError(f"scrypt_n: {exc}") from None
    kdf: dict[str, object] = {
        "name": "scrypt",
        "n": n,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": _b64(secrets.token_bytes(16)),
    }
    header: dict[str, object] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exchange": exchange,
        "kdf": kdf,
        "cipher": "AES-256-GCM",
        "nonce": _b64(secrets.token_bytes(12)),
    }
    plaintext = json.dumps(
        {
            "versions": [
                {"version": number, "created": created.isoformat(), "secret": _b64(raw)}
                for number, created, raw in versions
            ],
            "retired": list(retired),
        },
        sort_keys=True,
    ).encode("utf-8")
    aes = AESGCM(_kdf(secret, kdf))
    ciphertext = aes.encrypt(_b64d(header["nonce"]), plaintext, _aad(header))
    document = {**header, "ciphertext": _b64(ciphertext)}
    # Created 0600 before a byte is written: never a moment in which others may read it.
    with atomic_path(path, mode=0o600) as tmp, open(tmp, "wb") as handle:
        handle.write((json.dumps(document, indent=2) + "\n").encode("utf-8"))


def read_keyfile(
    path: Path,
    *,
    passphrase: str | bytes | None,
    check_exchange: Callable[[str], str],
    make_version: Callable[[int, dt.datetime, bytes], V],
) -> tuple[str, list[V], list[int]]:
    """Read and decrypt a key file: its exchange id, versions and retired numbers.

    ``check_exchange`` validates the exchange id of the header (a
    :class:`~linkage.exceptions.LinkageError` marks the file corrupt);
    ``make_version(number, created, secret)`` builds each version as it is read.

    Raises
    ------
    KeyringError
        With ``source`` the file: ``no such key file``; ``not a linkage key file
        (truncated or corrupt)``; ``cannot decrypt: wrong passphrase or the file was
        altered``.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyringError("no such key file", source=str(path)) from None
    except IsADirectoryError:
        raise KeyringError("a folder, not a key file", source=str(path)) from None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:  # pragma: no cover - raced with a delete
        mode = 0
    if mode & 0o077:
        logger.warning("key file %s can be read by others (mode %o); chmod 600 it", path, mode)
    corrupt = KeyringError("not a linkage key file (truncated or corrupt)", source=str(path))
    try:
        document = json.loads(data.decode("utf-8"))
    except ValueError:
        raise corrupt from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise corrupt
    if document.get("format_version") != FORMAT_VERSION:
        raise KeyringError(
            f"a linkage key file of format {document.get('format_version')!r}; "
            f"this version of linkage reads format {FORMAT_VERSION}",
            source=str(path),
        )
    try:
        header = {k: v for k, v in document.items() if k != "ciphertext"}
        kdf = header["kdf"]
        if header["cipher"] != "AES-256-GCM" or kdf["name"] != "scrypt":
            raise ValueError("unknown algorithm")
        _check_scrypt(int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        nonce, ciphertext = _b64d(header["nonce"]), _b64d(document["ciphertext"])
        if len(nonce) != 12 or len(ciphertext) < 16:
            raise ValueError("too short")
        exchange = check_exchange(header["exchange"])
    except (LinkageError, ValueError, KeyError, TypeError, AttributeError):
        raise corrupt from None
    secret = _passphrase(passphrase)
    try:
        plaintext = AESGCM(_kdf(secret, kdf)).decrypt(nonce, ciphertext, _aad(header))
    except InvalidTag:
        raise KeyringError(
            "cannot decrypt: wrong passphrase or the file was altered "
            "(AES-GCM cannot tell these apart)",
            source=str(path),
        ) from None
    try:
        inner = json.loads(plaintext)
        versions = [
            make_version(
                int(item["version"]),
                dt.datetime.fromisoformat(item["created"]),
                _b64d(item["secret"]),
            )
            for item in inner["versions"]
        ]
        retired = [int(v) for v in inner.get("retired", ())]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise corrupt from None
    finally:
        del plaintext
    return exchange, versions, retired


# ------------------------------------------------------------------------- helpers


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64d(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _aad(header: Mapping[str, object]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _check_scrypt(n: int, r: int, p: int) -> None:
    if n < 2 or n & (n - 1):
        raise ValueError(f"scrypt n must be a power of two, got {n}")
    if not (1 <= r <= 64 and 1 <= p <= 16) or 128 * n * r > _SCRYPT_MAX_MEMORY:
        raise ValueError(f"scrypt parameters out of range (n={n}, r={r}, p={p})")


def _kdf(passphrase: bytes, params: Mapping[str, object]) -> bytes:
    scrypt = Scrypt(
        salt=_b64d(params["salt"]),
        length=32,
        n=int(params["n"]),  # type: ignore[call-overload]
        r=int(params["r"]),  # type: ignore[call-overload]
        p=int(params["p"]),  # type: ignore[call-overload]
    )
    return scrypt.derive(passphrase)


def _passphrase(passphrase: str | bytes | None, *, writing: bool = False) -> bytes:
    """The passphrase's bytes; for ``writing``, one of at least MIN_PASSPHRASE characters."""
    if passphrase is None:
        passphrase = os.environ.get(PASSPHRASE_ENV)
        if not passphrase:
            raise KeyringError(
                f"no passphrase: set the environment variable {PASSPHRASE_ENV} or give one"
            )
    if isinstance(passphrase, str):
        # surrogateescape: the bytes of an environment variable that is not UTF-8.
        raw = passphrase.encode("utf-8", "surrogateescape")
    else:
        raw = bytes(passphrase)
    if not raw:
        raise KeyringError("the passphrase is empty")
    if writing and len(raw.decode("utf-8", "replace")) < MIN_PASSPHRASE:
        raise KeyringError(f"a key file's passphrase needs at least {MIN_PASSPHRASE} characters")
    return raw
