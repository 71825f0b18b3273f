"""Key ring: HKDF known answers, derivation, key files, rotation, no leak of key bytes."""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import stat
from pathlib import Path

import pytest

from linkage import _keyfile
from linkage.exceptions import KeyringError
from linkage.keys import (
    DOMAINS,
    SCRYPT_N,
    KeyRing,
    SecretKey,
    derive_key,
    hkdf_sha256,
)

FAST_N = 2**10  # scrypt cost for tests; the default is checked once below
PASS = "correct horse battery staple"


def _forms(raw: bytes) -> list[str]:
    """Ways key bytes could be written out."""
    return [
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        base64.b32encode(raw).decode().rstrip("=").lower(),
        repr(raw),
    ]


def _secrets_of(ring: KeyRing) -> list[bytes]:
    out = [ring._versions[v].master.reveal() for v in ring.versions]
    out += [ring.key(d, v).reveal() for d in DOMAINS for v in ring.versions]
    return out


def _assert_no_key_in(text: str, ring: KeyRing) -> None:
    for raw in _secrets_of(ring):
        for form in _forms(raw):
            assert form not in text


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


# ------------------------------------------------------------------- known answers


def test_hkdf_rfc5869_a1() -> None:
    okm = hkdf_sha256(
        bytes.fromhex("0b" * 22),
        salt=bytes.fromhex("000102030405060708090a0b0c"),
        info=bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
        length=42,
    )
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_hkdf_rfc5869_a3_empty_salt_and_info() -> None:
    okm = hkdf_sha256(bytes.fromhex("0b" * 22), salt=b"", info=b"", length=42)
    assert okm.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )


def test_derive_key_is_hkdf_with_exchange_salt_and_versioned_label(ring: KeyRing) -> None:
    master = ring._versions[1].master
    expected = hkdf_sha256(
        master.reveal(), salt=b"vlaio-vdab-2025", info=b"linkage/v1/staff", length=32
    )
    assert ring.key("staff").reveal() == expected
    assert derive_key(master, exchange="vlaio-vdab-2025", domain="staff", version=1) == ring.key(
        "staff"
    )


# ---------------------------------------------------------------------- derivation


def test_keys_differ_by_domain_exchange_and_version(ring: KeyRing) -> None:
    master = ring._versions[1].master
    keys = {
        derive_key(master, exchange=ex, domain=d, version=v).reveal()
        for ex in ("vlaio-vdab-2025", "vlaio-vdab-2026")
        for d in (*DOMAINS, "extra-domain")
        for v in (1, 2)
    }
    assert len(keys) == 2 * (len(DOMAINS) + 1) * 2


def test_same_master_same_keys() -> None:
    secret = base64.b64encode(os.urandom(32)).decode()
    env = {"LINKAGE_MASTER_KEY": secret}
    a = KeyRing.from_env(exchange="vlaio-vdab-2025", environ=env)
    b = KeyRing.from_env(exchange="vlaio-vdab-2025", environ=env)
    assert a.key("enterprise") == b.key("enterprise")


@pytest.mark.parametrize("domain", ["", "Staff", "staff/x", "1staff", None])
def test_bad_domain_is_refused(ring: KeyRing, domain: object) -> None:
    with pytest.raises(KeyringError, match="domain"):
        ring.key(domain)  # type: ignore[arg-type]


@pytest.mark.parametrize("exchange", ["", "has space", "x/y", "-start"])
def test_bad_exchange_is_refused(exchange: str) -> None:
    with pytest.raises(KeyringError, match="exchange id"):
        KeyRing.generate(exchange=exchange)


# ------------------------------------------------------------------------- secrets


def test_secret_key_never_prints(ring: KeyRing) -> None:
    key = ring.key("enterprise")
    for text in (repr(key), str(key), f"{key}", f"{key!r}", f"{key:>40}", repr(ring), str(ring)):
        _assert_no_key_in(text, ring)
    assert repr(key) == "SecretKey(<redacted>)"
    assert repr(ring) == "KeyRing(exchange='vlaio-vdab-2025', versions=(1,), current=1)"
    assert "master" not in repr(ring._versions[1]) or "<redacted>" in repr(ring._versions[1])
    _assert_no_key_in(repr(ring._versions[1]), ring)


def test_secrets_refuse_to_pickle(ring: KeyRing) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(ring.key("staff"))
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(ring)


def test_secret_key_compares_by_value_and_is_not_hashable() -> None:
    raw = os.urandom(32)
    assert SecretKey(raw) == SecretKey(bytes(raw))
    assert SecretKey(raw) != SecretKey(os.urandom(32))
    with pytest.raises(TypeError):
        hash(SecretKey(raw))


# --------------------------------------------------------------------------- files


def test_save_load_round_trip(ring: KeyRing, tmp_path) -> None:
    ring.rotate()
    path = ring.save(tmp_path / "exchange.key", passphrase=PASS, scrypt_n=FAST_N)
    back = KeyRing.load(path, passphrase=PASS)
    assert back.exchange == ring.exchange
    assert back.versions == (1, 2)
    for v in (1, 2):
        assert back.key("dossier", v) == ring.key("dossier", v)
        assert back.created(v) == ring.created(v)


def test_key_file_is_0600_before_a_byte_is_written(
    ring: KeyRing, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []

    def spy(file, *args, **kwargs):
        seen.append((Path(file).parent, stat.S_IMODE(os.stat(file).st_mode)))
        return open(file, *args, **kwargs)

    monkeypatch.setattr(_keyfile, "open", spy, raising=False)
    old = tmp_path / "exchange.key"
    old.write_text("old")
    old.chmod(0o644)
    ring.save(old, passphrase=PASS, scrypt_n=FAST_N)
    assert seen == [(tmp_path, 0o600)]
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_file_is_0600_atomic_and_holds_no_key_bytes(ring: KeyRing, tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "exchange.key"
    ring.save(path, passphrase=PASS, scrypt_n=FAST_N)
    ring.save(path, passphrase=PASS, scrypt_n=FAST_N)  # replaces
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["exchange.key"]
    text = path.read_text()
    _assert_no_key_in(text, ring)
    _assert_no_key_in(caplog.text, ring)
    document = json.loads(text)
    assert document["format"] == "linkage-keyring"
    assert document["exchange"] == "vlaio-vdab-2025"
    assert document["kdf"]["name"] == "scrypt"
    assert document["cipher"] == "AES-256-GCM"


def test_default_scrypt_cost(ring: KeyRing, tmp_path) -> None:
    path = ring.save(tmp_path / "k.key", passphrase=PASS)
    kdf = json.loads(path.read_text())["kdf"]
    assert (kdf["n"], kdf["r"], kdf["p"]) == (SCRYPT_N, 8, 1)
    assert SCRYPT_N >= 2**17
    assert KeyRing.load(path, passphrase=PASS).key("staff") == ring.key("staff")


def test_passphrase_from_environment(ring: KeyRing, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LINKAGE_KEY_PASSPHRASE", PASS)
    path = ring.save(tmp_path / "k.key", scrypt_n=FAST_N)
    assert KeyRing.load(path).key("staff") == ring.key("staff")
    monkeypatch.delenv("LINKAGE_KEY_PASSPHRASE")
    with pytest.raises(KeyringError, match=r"no passphrase.*LINKAGE_KEY_PASSPHRASE"):
        KeyRing.load(path)


@pytest.mark.parametrize("passphrase", ["x", "eleven char", "ë" * 11])
def test_a_key_file_is_written_only_under_a_long_passphrase(
    ring: KeyRing, tmp_path, monkeypatch, passphrase: str
) -> None:
    path = tmp_path / "k.key"
    with pytest.raises(KeyringError, match="needs at least 12 characters") as caught:
        ring.save(path, passphrase=passphrase, scrypt_n=FAST_N)
    assert passphrase not in str(caught.value)
    monkeypatch.setenv("LINKAGE_KEY_PASSPHRASE", passphrase)
    with pytest.raises(KeyringError, match="needs at least 12 characters"):
        ring.save(path, scrypt_n=FAST_N)  # from the environment: the same rule
    assert not path.exists()


def test_a_file_under_a_short_passphrase_still_reads(ring: KeyRing, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(_keyfile, "MIN_PASSPHRASE", 1)  # as before the rule
    path = ring.save(tmp_path / "old.key", passphrase="x", scrypt_n=FAST_N)
    monkeypatch.undo()
    assert KeyRing.load(path, passphrase="x").key("staff") == ring.key("staff")


def test_a_passphrase_that_is_not_utf8_is_its_bytes(ring: KeyRing, tmp_path, monkeypatch) -> None:
    # Python decodes an environment variable that is not UTF-8 with surrogateescape.
    latin = "wachtwoord van Lëuven".encode("latin-1").decode("utf-8", "surrogateescape")
    monkeypatch.setenv("LINKAGE_KEY_PASSPHRASE", latin)
    path = ring.save(tmp_path / "k.key", scrypt_n=FAST_N)
    assert KeyRing.load(path).key("staff") == ring.key("staff")
    back = KeyRing.load(path, passphrase="wachtwoord van Lëuven".encode("latin-1"))  # type: ignore[arg-type]
    assert back.key("staff") == ring.key("staff")


def test_missing_file(tmp_path) -> None:
    with pytest.raises(KeyringError, match=r"^/.*nope\.key: no such key file$"):
        KeyRing.load(tmp_path / "nope.key", passphrase=PASS)


@pytest.mark.parametrize("cut", [0, 1, 50, 200, -40, -3])
def test_truncated_file(ring: KeyRing, tmp_path, cut: int) -> None:
    path = ring.save(tmp_path / "k.key", passphrase=PASS, scrypt_n=FAST_N)
    data = path.read_bytes()
    path.write_bytes(data[:cut])
    with pytest.raises(KeyringError, match=r"k\.key: not a linkage key file \(truncated"):
        KeyRing.load(path, passphrase=PASS)


def test_not_a_key_file(tmp_path) -> None:
    path = tmp_path / "data.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(KeyringError, match="not a linkage key file"):
        KeyRing.load(path, passphrase=PASS)


def test_wrong_passphrase(ring: KeyRing, tmp_path) -> None:
    path = ring.save(tmp_path / "k.key", passphrase=PASS, scrypt_n=FAST_N)
    with pytest.raises(KeyringError, match="wrong passphrase or the file was altered") as err:
        KeyRing.load(path, passphrase="not it")
    assert "\n" not in str(err.value)
    _assert_no_key_in(str(err.value), ring)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.update(exchange="vlaio-vdab-2026"),
        lambda d: d["kdf"].update(n=2**11),
        lambda d: d["kdf"].update(salt=base64.b64encode(b"x" * 16).decode()),
        lambda d: d.update(nonce=base64.b64encode(b"n" * 12).decode()),
        lambda d: d.update(
            ciphertext=base64.b64encode(
                bytes([base64.b64decode(d["ciphertext"])[0] ^ 1])
                + base64.b64decode(d["ciphertext"])[1:]
            ).decode()
        ),
        lambda d: d.update(extra="field"),
    ],
)
def test_tampered_file(ring: KeyRing, tmp_path, tamper) -> None:
    path = ring.save(tmp_path / "k.key", passphrase=PASS, scrypt_n=FAST_N)
    document = json.loads(path.read_text())
    tamper(document)
    path.write_text(json.dumps(document))
    with pytest.raises(KeyringError, match=r"k\.key: cannot decrypt: wrong passphrase or the"):
        KeyRing.load(path, passphrase=PASS)


def test_unknown_format_version(ring: KeyRing, tmp_path) -> None:
    path = ring.save(tmp_path / "k.key", passphrase=PASS, scrypt_n=FAST_N)
    document = json.loads(path.read_text())
    document["format_version"] = 99
    path.write_text(json.dumps(document))
    with pytest.raises(KeyringError, match="format 99"):
        KeyRing.load(path, passphrase=PASS)


def test_absurd_scrypt_cost_is_refused(ring: KeyRing, tmp_path) -> None:
    path = ring.save(tmp_path / "k.key", passphrase=PASS, scrypt_n=FAST_N)
    document = json.loads(path.read_text())
    document["kdf"]["n"] = 2**40
    path.write_text(json.dumps(document))
    with pytest.raises(KeyringError, match="not a linkage key file"):
        KeyRing.load(path, passphrase=PASS)


def test_loose_permissions_warn(ring: KeyRing, tmp_path, caplog) -> None:
    path = ring.save(tmp_path / "k.key", passphrase=PASS, scrypt_n=FAST_N)
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        KeyRing.load(path, passphrase=PASS)
    assert "chmod 600" in caplog.text


# ------------------------------------------------------------------------ rotation


def test_rotate_and_retire(ring: KeyRing, tmp_path) -> None:
    first = ring.key("enterprise", 1)
    assert ring.rotate() == 2
    assert ring.current == 2
    assert ring.key("enterprise") != first
    assert ring.key("enterprise", 1) == first  # old version unchanged
    with pytest.raises(KeyringError, match="current version"):
        ring.retire(2)
    ring.retire(1)
    assert ring.versions == (2,)
    assert ring.retired == (1,)
    with pytest.raises(KeyringError, match="retired"):
        ring.key("enterprise", 1)
    assert ring.rotate() == 3  # a retired number is never reused
    path = ring.save(tmp_path / "k.key", passphrase=PASS, scrypt_n=FAST_N)
    back = KeyRing.load(path, passphrase=PASS)
    assert (back.versions, back.retired) == ((2, 3), (1,))
    with pytest.raises(KeyringError, match="no key version 7"):
        back.key("staff", 7)


# -------------------------------------------------------------------- environment


def test_from_env_single_and_versioned() -> None:
    a, b = os.urandom(32), os.urandom(32)
    one = KeyRing.from_env(
        exchange="vlaio-vdab-2025", environ={"LINKAGE_MASTER_KEY": base64.b64encode(a).decode()}
    )
    assert one.versions == (1,)
    assert one._versions[1].master.reveal() == a
    spec = f"v1:{base64.b64encode(a).decode()}, v2:{base64.b64encode(b).decode()}"
    two = KeyRing.from_env(exchange="vlaio-vdab-2025", environ={"LINKAGE_MASTER_KEY": spec})
    assert two.versions == (1, 2)
    assert two.key("staff", 1) == one.key("staff", 1)
    other = KeyRing.from_env(
        exchange="x", var="MY_KEY", version=4, environ={"MY_KEY": base64.b64encode(b).decode()}
    )
    assert other.versions == (4,)


def test_from_env_reads_os_environ(monkeypatch) -> None:
    monkeypatch.setenv("LINKAGE_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    assert KeyRing.from_env(exchange="vlaio-vdab-2025").versions == (1,)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "not set"),
        ("!!!notbase64", "not valid base64"),
        (base64.b64encode(b"short").decode(), "must decode to 32 bytes, got 5"),
        ("a,b", "v1:<base64>"),
    ],
)
def test_from_env_errors(value: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message) as err:
        KeyRing.from_env(exchange="vlaio-vdab-2025", environ={"LINKAGE_MASTER_KEY": value})
    if value:
        assert value not in str(err.value)
