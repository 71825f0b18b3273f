"""What a spec's fields become when encoded, and how the encodings are blocked.

* a field compared by similarity (name, address) -> a Bloom filter (``bloom:<field>``);
* a field compared exactly or by edit distance (numbers, postcode, phone, e-mail,
  web host) -> a keyed token (``token:<field>``); by edit distance, also keyed tokens
  of the value and of each string one character shorter (``near:<field>``), which
  two values within one edit share;
* a blocking rule on equal values over several fields (postcode and address) -> one
  token of the joined values (``block:<rule>``), on one token field -> that token;
  an oversized block is split by the token fields among the rule's ``split_by``;
* any other rule (equal names, a sorted neighbourhood) needs a clear value: it is
  replaced by LSH bands of the Bloom filters of the fields it reads, or, where it
  reads none, of the first similarity comparison's field.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkage.comparisons import Distance, ExactMatch, Similarity
from linkage.config import LinkSpec
from linkage.exceptions import ConfigError
from linkage.rules import BlockOn

__all__ = ["Plan", "plan"]


@dataclass(frozen=True)
class Plan:
    """The encoded columns of a spec."""

    bloom: tuple[str, ...]
    token: tuple[str, ...]
    #: rule name -> (the fields it joins, its max block size, token fields to split by)
    block: tuple[tuple[str, tuple[str, ...], int | None, tuple[str, ...]], ...]
    #: token fields blocked on alone: (field, max block size, token fields to split by)
    token_rules: tuple[tuple[str, int | None, tuple[str, ...]], ...]
    lsh: tuple[str, ...]
    #: fields compared by edit distance (``near:<field>``)
    near: tuple[str, ...] = ()


def plan(spec: LinkSpec) -> Plan:
    """The columns ``spec``'s fields and rules become (see the module docstring).

    A comparison of another kind (``shared``: lists of values with one in common) is
    refused: a token of the whole list would say only whether two lists are equal.
    """
    for c in spec.comparisons:
        if not isinstance(c, Similarity | Distance | ExactMatch):
            raise ConfigError(
                f"comparison {c.name!r} of kind {c.kind!r} cannot be made on encodings yet "
                "(exact, distance and similarity comparisons can); leave it out of the spec"
            )
    bloom = tuple(dict.fromkeys(c.column for c in spec.comparisons if isinstance(c, Similarity)))
    token = tuple(
        dict.fromkeys(c.column for c in spec.comparisons if not isinstance(c, Similarity))
    )
    block: list[tuple[str, tuple[str, ...], int | None, tuple[str, ...]]] = []
    token_rules: list[tuple[str, int | None, tuple[str, ...]]] = []
    lsh: list[str] = []
    for rule in spec.blocking:
        columns = tuple(rule.columns)
        # An oversized block is split by the token fields among the rule's split_by.
        split = tuple(c for c in getattr(rule, "split_by", ()) if c in token)
        if isinstance(rule, BlockOn) and len(columns) == 1 and columns[0] in token:
            token_rules.append((columns[0], rule.max_block_size, split))
        elif isinstance(rule, BlockOn) and len(columns) > 1:
            block.append((rule.name, columns, rule.max_block_size, split))
        else:
            fuzzy = [c for c in columns if c in bloom] or list(bloom[:1])
            lsh += fuzzy
    return Plan(
        bloom=bloom,
        token=token,
        block=tuple(block),
        token_rules=tuple(token_rules),
        lsh=tuple(dict.fromkeys(lsh)),
        near=tuple(dict.fromkeys(c.column for c in spec.comparisons if isinstance(c, Distance))),
    )
