"""Linkage on encodings (linkage.encoding): known answers, properties, a whole link,
another exchange's key, determinism, and that nothing clear leaves a party."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.encoding import EncodingParams, encode, link_encoded, read_encoded
from linkage.encoding._bloom import (
    Words,
    bloom_filters,
    decode_gram,
    dice_reference,
    expand,
    flip_bits,
    qgrams,
)
from linkage.encoding._dice import dice, popcount
from linkage.encoding._params import METADATA_KEY
from linkage.encoding._tokens import aes_cmac_many, near_tokens, tokens
from linkage.evaluate import link_quality
from linkage.exceptions import ConfigError
from linkage.keys import KeyRing, SecretKey
from linkage.prepare import prepare
from linkage.presets import enterprises
from linkage.synthetic import load_sample

ON = ("enterprise_number", "employer_id")
KEY = SecretKey(bytes(range(32)))


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(exchange="vlaio-vdab-2025")


@pytest.fixture(scope="module")
def encoded(sample, ring):
    spec = enterprises()
    return encode(sample.enterprises, spec, ring), encode(sample.employers, spec, ring)


def _bits(words: np.ndarray) -> set[int]:
    """Set bit positions of one packed filter."""
    flat = np.unpackbits(words.view(np.uint8), bitorder="little")
    return set(np.flatnonzero(flat).tolist())


def _reference_filter(value: str, key: bytes, *, q: int, hashes: int, bits: int) -> set[int]:
    """A Bloom filter in plain Python: stdlib HMAC per q-gram, double hashing."""
    padded = f" {value} "
    out = set()
    for gram in {padded[i : i + q] for i in range(len(padded) - q + 1)}:
        digest = hmac.new(key, gram.encode("utf-8"), hashlib.sha256).digest()
        h1 = int.from_bytes(digest[:8], "little")
        h2 = int.from_bytes(digest[8:16], "little") | 1
        out |= {(h1 + i * h2) % 2**64 % bits for i in range(hashes)}
    return out


# ----------------------------------------------------------------- known answers


def test_qgrams_of_a_value() -> None:
    grams, rows = qgrams(np.array(["abc", "é"], dtype=object), q=2)
    assert [decode_gram(g, 2) for g in grams] == [" a", "ab", "bc", "c ", " é", "é "]
    assert rows.tolist() == [0, 0, 0, 0, 1, 1]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("ab 19&-\x7fé"), max_size=12)
        | st.just("x" * 300),  # cut at 256 characters
        max_size=8,
    ),
    st.integers(1, 3),
    st.booleans(),
)
def test_grams_number_the_qgrams_of_every_value(values: list[str], q: int, ascii_: bool) -> None:
    """The numbered q-grams (the shorter way for ASCII text) are those of qgrams."""
    from linkage.encoding._bloom import Grams

    if ascii_:
        values = [v.replace("é", "e") for v in values]
    array = np.array(values, dtype=object)
    grams = Grams.of(array, q)
    want, rows = qgrams(array, q=q)
    assert grams.distinct[grams.codes].tolist() == want.tolist()
    assert grams.rows.tolist() == rows.tolist()
    assert grams.counts.tolist() == np.bincount(rows, minlength=len(values)).tolist()
    assert len(set(grams.distinct.tolist())) == len(grams.distinct)


def test_a_hand_worked_bloom_filter() -> None:
    key = b"k" * 32
    # " a", "ab", "b ": three q-grams, two positions each, in 64 bits.
    words = bloom_filters(np.array(["ab"], dtype=object), key, q=2, hashes=2, bits=64)
    assert _bits(words[0]) == _reference_filter("ab", key, q=2, hashes=2, bits=64)
    assert 1 <= len(_bits(words[0])) <= 6


# RFC 4493 section 4 (AES-128) and NIST SP 800-38B appendix D.3 (AES-256): the
# empty message, 16, 40 and 64 bytes of the same text.
_CMAC_TEXT = bytes.fromhex(
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
)
_CMAC_VECTORS = {
    "2b7e151628aed2a6abf7158809cf4f3c": [
        "bb1d6929e95937287fa37d129b756746",
        "070a16b46b4d4144f79bdd9dd04a287c",
        "dfa66747de9ae63030ca32611497c827",
        "51f0bebf7e3b9d92fc49741779363cfe",
    ],
    "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4": [
        "028962f61b7bf89efc6b551f4667d983",
        "28a7023f452e8f82bd4bf28d8c37c35c",
        "aaf3d8f1de5640c232f5b169b9c911e6",
        "e1992190549f6ed5696a2c056c315410",
    ],
}


@pytest.mark.parametrize("key", list(_CMAC_VECTORS))
def test_aes_cmac_known_answers(key: str) -> None:
    messages = pa.array([_CMAC_TEXT[:n] for n in (0, 16, 40, 64)], pa.binary())
    got = aes_cmac_many(bytes.fromhex(key), messages)
    assert [row.tobytes().hex() for row in got] == _CMAC_VECTORS[key]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=70), min_size=1, max_size=40), st.sampled_from([16, 32]))
def test_aes_cmac_equals_a_one_message_cmac(messages: list[bytes], key_bytes: int) -> None:
    from cryptography.hazmat.primitives.ciphers import algorithms
    from cryptography.hazmat.primitives.cmac import CMAC

    key = bytes(range(key_bytes))
    got = aes_cmac_many(key, pa.array(messages, pa.binary()))
    for message, row in zip(messages, got, strict=True):
        one = CMAC(algorithms.AES(key))
        one.update(message)
        assert row.tobytes() == one.finalize()


@pytest.mark.parametrize("prf", ["aes-cmac", "hmac-sha256"])
def test_tokens_are_keyed_per_value(prf: str) -> None:
    values = pd.Series(["3000", None, "9000", "3000", "é"], dtype="string[pyarrow]")
    got, present = tokens(values, b"t" * 32, prf=prf)
    assert present.tolist() == [True, False, True, True, True]
    assert not got[1].any() and (got[0] == got[3]).all() and (got[0] != got[2]).any()
    if prf == "hmac-sha256":
        want = hmac.new(b"t" * 32, "é".encode(), hashlib.sha256).digest()[:16]
    else:
        want = aes_cmac_many(b"t" * 32, pa.array(["é"])).tobytes()
    assert got[4].tobytes() == want
    assert (tokens(values, b"u" * 32, prf=prf)[0][0] != got[0]).any()  # another key


def test_aes_cmac_of_a_slice_with_missing_messages() -> None:
    """An Arrow slice (its offsets start past 0) with nulls: each message read at its
    own offset, a missing one all zeros; every length of a last block (0..16 bytes)."""
    from cryptography.hazmat.primitives.ciphers import algorithms
    from cryptography.hazmat.primitives.cmac import CMAC

    messages = [None if n % 7 == 3 else bytes(range(n)) for n in range(40)]
    array = pa.array([b"before", *messages], pa.binary()).slice(1)
    got = aes_cmac_many(b"s" * 32, array)
    for message, row in zip(messages, got, strict=True):
        if message is None:
            assert not row.any()
            continue
        one = CMAC(algorithms.AES(b"s" * 32))
        one.update(message)
        assert row.tobytes() == one.finalize()


def test_many_messages_take_the_same_cmac_as_one() -> None:
    """Messages of one length are taken in passes of many: rows at the seams of the
    passes get the CMAC of the one-message implementation."""
    from cryptography.hazmat.primitives.ciphers import algorithms
    from cryptography.hazmat.primitives.cmac import CMAC

    rng = np.random.default_rng(5)
    for length in (10, 40):
        messages = [rng.bytes(length) for _ in range(70_000)]
        got = aes_cmac_many(b"m" * 32, pa.array(messages, pa.binary()))
        for row in (0, 32_767, 32_768, 65_536, 69_999):
            one = CMAC(algorithms.AES(b"m" * 32))
            one.update(messages[row])
            assert got[row].tobytes() == one.finalize()


def test_aes_in_place_equals_aes() -> None:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from linkage.encoding._aes import ecb, ecb_in_place

    for size in (16, 48, (1 << 21) + 48):  # one block, a few, and past two passes
        data = np.frombuffer(np.random.default_rng(size).bytes(size), np.uint8).copy()
        want = Cipher(algorithms.AES(b"e" * 32), modes.ECB()).encryptor().update(data.tobytes())
        ecb_in_place(ecb(b"e" * 32), data)
        assert data.tobytes() == want
    with pytest.raises(ValueError, match="whole blocks"):
        ecb_in_place(ecb(b"e" * 32), np.zeros((4, 8), np.uint8)[:, :4])


def test_near_tokens_of_many_and_of_long_values() -> None:
    """Each near token is the CMAC's first word of the value or of the value less one
    character: across the passes of many numbers, and for values over one block."""
    rng = np.random.default_rng(3)
    values = [str(v) for v in rng.integers(10**9, 10**10, 5_000)] + ["a" * 15 + "bcdef"]
    near = near_tokens(pd.Series(values, dtype="string[pyarrow]"), b"n" * 32)
    for row in (0, 2_977, 2_978, 4_999, 5_000):
        value = values[row]
        strings = [value] + [value[:i] + value[i + 1 :] for i in range(len(value))]
        want = aes_cmac_many(b"n" * 32, pa.array(strings)).view("<u8")[:, 0]
        assert near[row, : len(strings)].tolist() == want.tolist()
        assert not near[row, len(strings) :].any()


def test_near_tokens_of_every_length_in_a_slice() -> None:
    """Values of 0 to 33 characters (one block, exactly 16 bytes, more), non-ASCII
    and missing ones, read from an Arrow slice: each near token as its reference."""
    values = ["0123456789abcdefghijklmnopqrstuvwxyz"[:n] for n in range(34)]
    values += ["é1234", None, "x"]
    array = pa.array(["before", *values], pa.large_string()).slice(1)
    near = near_tokens(array, b"v" * 32)
    for row, value in enumerate(values):
        if value is None or not 1 <= len(value) <= 32:
            assert not near[row].any()
            continue
        strings = [value] + [value[:i] + value[i + 1 :] for i in range(len(value))]
        want = aes_cmac_many(b"v" * 32, pa.array(strings)).view("<u8")[:, 0]
        assert near[row, : len(strings)].tolist() == want.tolist()
        assert not near[row, len(strings) :].any()


def test_a_list_mark_is_found_in_any_slice_of_cells() -> None:
    from linkage.encoding._encode import _marked

    cells = pa.array(["x", None, "a;b", "c|d", "e"], pa.large_string())
    assert _marked(cells) and _marked(cells.slice(2, 1)) and _marked(cells.slice(3, 1))
    assert not _marked(cells.slice(0, 2)) and not _marked(cells.slice(4))
    assert not _marked(pa.array([None, None], pa.large_string()))


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet="0123456789é", min_size=1, max_size=12), st.data())
def test_near_tokens_meet_within_one_edit(value: str, data) -> None:
    from rapidfuzz.distance import DamerauLevenshtein

    other = data.draw(st.text(alphabet="0123456789é", min_size=1, max_size=12))
    near = near_tokens(pd.Series([value, other], dtype="string[pyarrow]"), b"n" * 32)
    met = bool(set(near[0][near[0] != 0]) & set(near[1][near[1] != 0]))
    edits = DamerauLevenshtein.distance(value, other)
    if edits <= 1:
        assert met
    if edits >= 3:
        assert not met


def test_a_hand_worked_dice() -> None:
    a = np.array([[0b1011, 0]], dtype=np.uint64)  # bits 0, 1, 3
    b = np.array([[0b0110, 1 << 63]], dtype=np.uint64)  # bits 1, 2, 127
    # 2 * |{1}| / (3 + 3)
    assert dice(a, b, np.array([0]), np.array([0]))[0] == pytest.approx(1 / 3)
    assert popcount(a).tolist() == [3]


# ------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=8))
def test_bloom_filters_equal_their_reference(values: list[str]) -> None:
    key = b"\x01" * 32
    # Lone surrogates are not text a table holds.
    values = [v.encode("utf-8", "replace").decode("utf-8") for v in values]
    words = bloom_filters(np.array(values, dtype=object), key, q=2, hashes=5, bits=256)
    for value, row in zip(values, words, strict=True):
        assert _bits(row) == _reference_filter(value, key, q=2, hashes=5, bits=256)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sets(st.integers(0, 127), max_size=60), min_size=2, max_size=2),
)
def test_dice_equals_its_reference(sets: list[set[int]]) -> None:
    packed = []
    for bits in sets:
        flat = np.zeros(128, np.uint8)
        flat[list(bits)] = 1
        packed.append(np.packbits(flat, bitorder="little").view("<u8"))
    got = dice(packed[0][None, :], packed[1][None, :], np.array([0]), np.array([0]))[0]
    assert got == pytest.approx(dice_reference(*sets), abs=1e-6)


def test_denoised_dice_is_unbiased() -> None:
    rng = np.random.default_rng(0)
    n, words, p = 4000, 16, 4 / 64
    a = np.zeros((n, words * 64), bool)
    a[:, :200] = True  # 200 set bits
    b = a.copy()
    b[:, 150:200] = False  # 150 shared: true Dice 300 / 350
    pa_, pb = (np.packbits(x, axis=1, bitorder="little").view("<u8") for x in (a, b))
    seeds = rng.integers(0, 2**63, (2, n)).astype(np.uint64)
    flip_bits(pa_, seeds[0], p, b"f" * 32)
    flip_bits(pb, seeds[1], p, b"f" * 32)
    idx = np.arange(n)
    assert dice(pa_, pb, idx, idx).mean() < 0.75  # the noise drags the raw Dice down
    assert dice(pa_, pb, idx, idx, flip=p).mean() == pytest.approx(300 / 350, abs=0.01)


def test_flips_follow_the_record_and_the_rate() -> None:
    zeros = np.zeros((20_000, 16), np.uint64)
    seeds = np.arange(20_000, dtype=np.uint64)
    once = flip_bits(zeros.copy(), seeds, 5 / 64, b"f" * 32)
    assert np.array_equal(once, flip_bits(zeros.copy(), seeds, 5 / 64, b"f" * 32))
    assert popcount(once).mean() / 1024 == pytest.approx(5 / 64, rel=0.01)
    assert not np.array_equal(once[0], once[1])  # two records, two streams
    other_key = flip_bits(zeros.copy(), seeds, 5 / 64, b"g" * 32)
    assert (once == other_key).all(axis=1).mean() < 0.001  # another key, other flips


# ------------------------------------------------------------------ whole links


def test_encoded_link_is_close_to_the_clear_one(sample, encoded) -> None:
    import linkage

    left, right = encoded
    result = link_encoded(left, right)
    clear = linkage.link(sample.enterprises, sample.employers, enterprises())
    got = link_quality(result.links, sample.truth_enterprises, on=ON)
    want = link_quality(clear.links, sample.truth_enterprises, on=ON)
    assert got.f1 >= want.f1 - 0.006, (got, want)
    assert list(result.links.columns) == [*ON, "match_weight", "match_probability"]
    # either order of the files
    again = link_encoded(right, left)
    pd.testing.assert_frame_equal(again.links, result.links)


def test_the_same_input_and_key_give_the_same_bytes(sample, ring, tmp_path: Path) -> None:
    spec = enterprises()
    paths = []
    for k in range(2):
        paths.append(encode(sample.employers, spec, ring).write(tmp_path / f"e{k}.parquet"))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert read_encoded(paths[0]).description["side"] == "right"


def test_another_exchanges_key_gives_unlinkable_encodings(sample, encoded) -> None:
    left, right = encoded
    other = encode(sample.employers, enterprises(), KeyRing.generate(exchange="another-one"))
    with pytest.raises(ConfigError, match="different keys"):
        link_encoded(left, other)
    # And had the check been lifted: no token shared, true pairs' filters unrelated.
    truth = sample.truth_enterprises
    lpos = pd.Index(left.table["enterprise_number"].to_pylist()).get_indexer(truth[ON[0]])
    rpos = pd.Index(other.table["employer_id"].to_pylist()).get_indexer(truth[ON[1]])
    for column in ("token:phone", "token:postcode", "lsh:name_sorted:0"):
        mine = set(left.table[column].drop_null().to_pylist())
        assert mine.isdisjoint(other.table[column].drop_null().to_pylist())
    from linkage.encoding._read import as_words

    lw, _ = as_words(left.table["bloom:name_sorted"])
    same, _ = as_words(right.table["bloom:name_sorted"])
    rw, _ = as_words(other.table["bloom:name_sorted"])
    flip = EncodingParams().flip
    assert dice(lw, same, lpos, rpos, flip=flip).mean() > 0.8  # same key: alike
    assert dice(lw, rw, lpos, rpos, flip=flip).mean() < 0.3  # another key: chance


def test_refusals_are_one_line(sample, ring, encoded) -> None:
    left, _ = encoded
    with pytest.raises(ConfigError, match="one left and one right"):
        link_encoded(left, left)
    with pytest.raises(ConfigError, match="which side"):
        encode(sample.employers.drop(columns=list(ON)), enterprises(), ring)
    with pytest.raises(ConfigError, match="bits"):
        EncodingParams(bits=100)
    with pytest.raises(ConfigError, match="'unit_numbers' of kind 'shared'") as refused:
        encode(sample.enterprises.assign(unit_numbers=None), enterprises(unit_numbers=True), ring)
    assert "\n" not in str(refused.value)
    assert "SecretKey(<redacted>)" in repr(KEY)


def test_no_key_byte_in_a_file_or_a_log(sample, ring, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="linkage")
    path = encode(sample.employers, enterprises(), ring).write(tmp_path / "e.parquet")
    data = path.read_bytes()
    from linkage.encoding._keys import EncodingKeys

    keys = EncodingKeys(ring)
    secrets = [ring.key("pprl").reveal()] + [
        keys.derive(f"{use}/{f}") for use in ("token", "bloom", "lsh") for f in ("name_sorted",)
    ]
    for secret in secrets:
        assert secret not in data and secret.hex() not in caplog.text
    assert "<redacted>" not in repr(keys) and "pprl" not in repr(keys)


# ------------------------------------------------- nothing clear leaves a party


def _forms(value: str) -> set[str]:
    return {value, value.lower(), value.upper(), value.strip()}


def test_nothing_clear_leaves_a_party(sample, ring, tmp_path: Path) -> None:
    spec = enterprises()
    table = sample.employers
    path = encode(table, spec, ring).write(tmp_path / "employers.enc.parquet")
    data = path.read_bytes()
    prepared = prepare(table, spec.fields, side="right")
    values: set[str] = set()
    for column in table.columns.drop("employer_id"):  # the id passes through
        values |= {f for v in table[column].dropna().astype(str) for f in _forms(v)}
    for column in prepared.columns:
        values |= {f for v in prepared[column].dropna().astype(str) for f in _forms(v)}
    # Short values (a house number, a 4-digit postcode) turn up in random bytes by
    # chance; five characters and more do not (2**-40 a place).
    searched = [v for v in values if len(v.encode("utf-8")) >= 5]
    assert len(searched) > 5_000
    found = [v for v in searched if v.encode("utf-8") in data or v.encode("utf-16-le") in data]
    assert found == []
    # The only text is the ids and the description; no value, normalised value or
    # q-gram is a string of the description.
    parquet = pq.read_table(path)
    strings = [f.name for f in parquet.schema if str(f.type) == "string"]
    assert strings == ["employer_id"]
    description = json.loads(parquet.schema.metadata[METADATA_KEY])
    texts: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, str):
            texts.add(node)
        elif isinstance(node, dict):
            texts.update(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(description)
    grams = set()
    for column in ("name_sorted", "address"):
        for v in prepared[column].dropna():
            padded = f" {v} "
            grams |= {padded[i : i + 2] for i in range(len(padded) - 1)}
    assert texts & (values | grams) == set()


def test_units_link_within_their_linked_enterprises(sample, ring, encoded) -> None:
    import linkage
    from linkage.pipeline import ParentLinks
    from linkage.presets import establishments

    enterprise_links = link_encoded(*encoded).links
    spec = establishments()
    left = encode(sample.establishments, spec, ring, keep=("enterprise_number",))
    right = encode(sample.sites, spec, ring, keep=("employer_id",))
    result = link_encoded(left, right, parents=(enterprise_links, *ON))
    on = ("establishment_number", "site_id")
    got = link_quality(result.links, sample.truth_establishments, on=on)
    clear = linkage.link(
        sample.establishments,
        sample.sites,
        spec,
        parents=ParentLinks.of(linkage.link(sample.enterprises, sample.employers, enterprises())),
    )
    want = link_quality(clear.links, sample.truth_establishments, on=on)
    assert got.f1 >= want.f1 - 0.01, (got, want)
    with pytest.raises(ConfigError, match="keep"):
        link_encoded(
            encode(sample.establishments, spec, ring), right, parents=(enterprise_links, *ON)
        )


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(alphabet="abcdef ", min_size=0, max_size=12), min_size=1, max_size=6))
def test_minhash_bands_equal_their_reference(values: list[str]) -> None:
    from linkage.encoding._bloom import mix64
    from linkage.encoding._lsh import minhash_bands

    key, bands, rows = b"\x02" * 32, 3, 6
    got = minhash_bands(np.array(values, dtype=object), key, q=2, bands=bands, rows=rows)
    golden = np.uint64(0x9E3779B97F4A7C15)
    for value, row in zip(values, got, strict=True):
        padded = f" {value} "
        grams = {padded[i : i + 2] for i in range(len(padded) - 1)}
        seeds = [
            np.frombuffer(hmac.new(key, g.encode(), hashlib.sha256).digest()[:8], "<u8")[0]
            for g in grams
        ]
        with np.errstate(over="ignore"):
            slots = [
                min(int(mix64(np.array([s + np.uint64(j) * golden]))[0] >> 48) for s in seeds)
                for j in range(bands * rows)
            ]
            want = []
            for band in range(bands):
                key_of = np.zeros(1, np.uint64)
                mins = slots[band * rows : (band + 1) * rows]
                for w in range(0, rows, 4):  # four 16-bit MinHashes a word, little-endian
                    word = sum(m << (16 * k) for k, m in enumerate(mins[w : w + 4]))
                    key_of = mix64(key_of * golden + np.uint64(word) + np.uint64(1))
                want.append(int(key_of[0]) or 1)
        assert row.tolist() == want


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.text(alphabet="ab é", min_size=0, max_size=12), min_size=1, max_size=8),
    st.sampled_from([1, 2]),
)
def test_a_value_encodes_as_the_union_of_its_words(values: list[str], q: int) -> None:
    """Words, empty ones (two spaces) and non-ASCII included: the same filters and
    bands as from the values' own q-grams."""
    from linkage.encoding._lsh import minhash_bands

    array = np.array(values, dtype=object)
    words = Words.of(array, q)
    assert words.counts.tolist() == [v.count(" ") + 1 for v in values]
    key = b"\x03" * 32
    for target in (0, 60):
        want = bloom_filters(array, key, q=q, hashes=5, bits=256, target=target)
        got = bloom_filters(words, key, q=q, hashes=5, bits=256, target=target)
        assert (got == want).all()
    want = minhash_bands(array, key, q=q, bands=4, rows=3)
    assert (minhash_bands(words, key, q=q, bands=4, rows=3) == want).all()
    # The rows of some values, in any order and repeated, as their own rows.
    of = np.arange(len(values))[::-1].repeat(2)
    assert (minhash_bands(words, key, q=q, bands=4, rows=3, of=of) == want[of]).all()
    full = bloom_filters(words, key, q=q, hashes=5, bits=256, target=60)
    assert (bloom_filters(words, key, q=q, hashes=5, bits=256, target=60, of=of) == full[of]).all()


def test_words_number_each_distinct_word_once() -> None:
    words = Words.of(np.array(["de smet bv", "bv de smet", "smet"], dtype=object), 2)
    assert words.counts.tolist() == [3, 3, 1]
    assert words.codes.tolist() == [0, 1, 2, 2, 0, 1, 1]
    assert words.grams.counts.tolist() == [3, 5, 3]  # " de ", " smet ", " bv "
    assert words.sizes.tolist() == [11, 11, 5]
    with pytest.raises(ValueError, match="q <= 2"):
        Words.of(np.array(["a"], dtype=object), 3)


def test_expand_takes_each_items_codes_in_turn() -> None:
    codes = np.array([10, 11, 20, 30, 31, 32])
    got = expand(codes, np.array([2, 1, 3]), np.array([2, 0, 2]))
    assert got.tolist() == [30, 31, 32, 10, 11, 30, 31, 32]


def test_a_fuzzy_field_without_any_value_encodes_as_missing(sample, ring) -> None:
    table = sample.enterprises.head(50).assign(name=None)
    encoded = encode(table, enterprises(), ring).table
    assert encoded["bloom:name_sorted"].null_count == 50
    assert encoded["lsh:name_sorted:0"].null_count == 50
    assert encoded["lsh_unique:name_sorted:0"].null_count == 50


def test_arrow_text_in_several_chunks_encodes_as_python_text(sample, ring) -> None:
    """A table read by Arrow (a Parquet file's row groups, a CSV's blocks) holds its
    text in several chunks: the same encodings as from Python strings."""
    plain = sample.employers.head(400).reset_index(drop=True)
    plain.loc[3, "email"] = "a@example.org; b@example.org"

    def chunked(column: pd.Series) -> pd.Series:
        if column.dtype != object:
            return column
        whole = pa.array(column, type=pa.large_string(), from_pandas=True)
        parts = pa.chunked_array([whole.slice(0, 150), whole.slice(150)])
        return pd.Series(pd.arrays.ArrowStringArray(parts), index=column.index)

    arrow = plain.apply(chunked)
    assert isinstance(arrow["email"].array, pd.arrays.ArrowStringArray)
    want = encode(plain, enterprises(), ring).table
    assert encode(arrow, enterprises(), ring).table.equals(want)


def test_a_target_of_bits_hides_the_length() -> None:
    values = np.array(["ab", "a much longer company name bv"], dtype=object)
    plain = popcount(bloom_filters(values, b"k" * 32, q=2, hashes=10, bits=1024))
    even = popcount(bloom_filters(values, b"k" * 32, q=2, hashes=10, bits=1024, target=300))
    assert plain[0] < 40 < 200 < plain[1]
    # 3 q-grams x 64 positions (the most) against 30 x 10: the gap mostly closed.
    assert even[0] > 4 * plain[0]
    assert abs(int(even[0]) - int(even[1])) < abs(int(plain[0]) - int(plain[1])) / 2


def test_a_cell_listing_several_values_meets_on_any_of_them(sample, ring) -> None:
    spec = enterprises()
    right = sample.employers
    pick = sample.truth_enterprises.merge(
        right[["employer_id", "email"]].dropna(), on="employer_id"
    ).head(30)
    left = sample.enterprises.copy()
    at = left["enterprise_number"].isin(pick["enterprise_number"])
    listed = ("nobody@elsewhere.example; " + pick["email"]).set_axis(pick["enterprise_number"])
    left.loc[at, "email"] = left.loc[at, "enterprise_number"].map(listed)
    left.loc[left.index[0], "email"] = "not an address | Info@Example.org"
    left.loc[left.index[1], "email"] = "info@example.org"
    encoded_left = encode(left, spec, ring)
    assert "any:email" in encoded_left.table.column_names
    first = encoded_left.table["token:email"].to_pylist()
    assert first[0] == first[1]  # the first value that is an address
    result = link_encoded(encoded_left, encode(right, spec, ring))
    k = [c.name for c in result.spec.comparisons].index("email")
    top = result.spec.comparisons[k].n_levels - 1
    lpos = pd.Index(result.left_ids).get_indexer(pick["enterprise_number"])
    rpos = pd.Index(result.right_ids).get_indexer(pick["employer_id"])
    pairs = pd.DataFrame({"l": result.pairs.left, "r": result.pairs.right, "g": result.gamma[:, k]})
    found = pairs.merge(pd.DataFrame({"l": lpos, "r": rpos}), on=["l", "r"])
    assert len(found) >= 25
    assert (found["g"] == top).all()  # met on the second value of the list
