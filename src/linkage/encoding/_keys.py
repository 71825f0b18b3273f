"""The keys of an encoding, derived from the exchange's key ring.

One domain key (``pprl``, :meth:`linkage.keys.KeyRing.key`) per key version; from it,
by HKDF-SHA256 with a label, a key per field and use (``token/<field>``,
``bloom/<field>``, ``flip/<field>``) and a public check value (``key-id``) that lets
the linking party see that two files were made under one key without learning it.
"""

from __future__ import annotations

from linkage.keys import KeyRing, SecretKey, hkdf_sha256

__all__ = ["DOMAIN", "EncodingKeys"]

#: The key-ring domain of encodings.
DOMAIN = "pprl"


class EncodingKeys:
    """The derived keys of one party's encoding; prints no key byte.

    Parameters
    ----------
    key : KeyRing or SecretKey
        The exchange's ring (its current version, or ``version``), or the domain key
        itself.
    version : int, optional
    """

    __slots__ = ("_base", "exchange", "version")

    def __init__(self, key: KeyRing | SecretKey, *, version: int | None = None) -> None:
        if isinstance(key, KeyRing):
            self.version = version or key.current
            self.exchange = key.exchange
            self._base = key.key(DOMAIN, self.version)
        else:
            self.version = version or 0
            self.exchange = ""
            self._base = key

    def __repr__(self) -> str:
        return f"EncodingKeys(exchange={self.exchange!r}, version={self.version})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("EncodingKeys cannot be pickled: key material stays in memory")

    def derive(self, label: str) -> bytes:
        """The 32-byte key of ``label`` (e.g. ``bloom/name``); never print or store it."""
        return hkdf_sha256(self._base.reveal(), salt=b"", info=f"linkage/pprl/{label}".encode())

    @property
    def key_id(self) -> str:
        """A public check value of the key: equal for equal keys, else unrelated."""
        return self.derive("key-id")[:8].hex()
