"""Turning one field's validated conditions into a fast predicate over a JSON leaf.

Every predicate here is built once per compiled pattern and then called per event, so the work
is done up front: plain values go into sets, prefixes and suffixes into tuples for
``str.startswith``, case-insensitive forms are lower-cased, wildcards are split at their stars,
CIDR blocks become integer ranges. Types never mix: a string pattern never matches a number,
``true`` never matches ``1``, and numbers compare by value (``5 == 5.0``).

The grammar of the two value languages that patterns and events share lives here too: IP
literals (``parse_ip``) and wildcards (``parse_wildcard``, ``wildcard_complexity``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address, IPv6Address
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from mangaassist.events.pattern_validation import AnythingBut, FieldSpec, NumericRange

__all__ = [
    "MISSING",
    "Predicate",
    "Wildcard",
    "leaf_predicate",
    "parse_ip",
    "parse_wildcard",
    "string_tests",
    "wildcard_complexity",
    "wildcard_predicate",
]

Predicate = Callable[[Any], bool]
StringTest = Callable[[str], bool]

#: The value of a field the event does not have.
MISSING: Final = object()
_IPV4: Final = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6: Final = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")


@dataclass(frozen=True, slots=True)
class Wildcard:
    """A ``wildcard`` value: the literal pieces around its unescaped ``*`` (one piece: no star)."""

    text: str
    parts: tuple[str, ...]


def leaf_predicate(spec: FieldSpec) -> Predicate:
    """``f(value)``: does this leaf (str, number, bool, None) satisfy any of ``spec``?

    Objects and ``MISSING`` are not leaves and never match; lists are the caller's business.
    """
    if spec.exists:
        return lambda value: type(value) is not dict and value is not MISSING
    on_string = string_tests(spec)
    on_number = _number_tests(spec)
    on_any = [_anything_but_test(but) for but in spec.anything_but]
    true, false, null = spec.match_true, spec.match_false, spec.match_null
    if not (on_number or on_any or true or false or null):
        return _strings_only(on_string, spec)

    def match(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            if any(test(value) for test in on_string):
                return True
        elif kind is int or kind is float:
            if any(test(value) for test in on_number):
                return True
        elif kind is bool:
            if true if value else false:
                return True
        elif value is None:
            if null:
                return True
        elif kind is dict or value is MISSING:
            return False
        return any(test(value) for test in on_any)

    return match


def _strings_only(tests: list[StringTest], spec: FieldSpec) -> Predicate:
    if len(tests) == 1 and spec.strings and not spec.ip_literals:
        exact = frozenset(spec.strings)
        return lambda value: type(value) is str and value in exact
    if len(tests) == 1:
        (test,) = tests
        return lambda value: type(value) is str and test(value)
    return lambda value: type(value) is str and any(test(value) for test in tests)


def string_tests(spec: FieldSpec) -> list[StringTest]:
    """One test per kind of string condition in ``spec``, cheapest first."""
    tests: list[StringTest] = []
    if spec.strings:
        tests.append(frozenset(spec.strings).__contains__)
    if spec.prefixes:
        prefixes = tuple(spec.prefixes)
        tests.append(lambda text: text.startswith(prefixes))
    if spec.suffixes:
        suffixes = tuple(spec.suffixes)
        tests.append(lambda text: text.endswith(suffixes))
    if spec.equals_ic:
        lowered = frozenset(spec.equals_ic)
        tests.append(lambda text: text.lower() in lowered)
    if spec.prefixes_ic:
        prefixes_ic = tuple(spec.prefixes_ic)
        tests.append(lambda text: text.lower().startswith(prefixes_ic))
    if spec.suffixes_ic:
        suffixes_ic = tuple(spec.suffixes_ic)
        tests.append(lambda text: text.lower().endswith(suffixes_ic))
    tests += [wildcard_predicate(wildcard) for wildcard in spec.wildcards]
    if spec.cidrs or spec.ip_literals:
        tests.append(_address_test(spec))
    return tests


def _address_test(spec: FieldSpec) -> StringTest:
    """CIDR blocks, and plain values that are IP literals (``"2001:db8::1"`` is any spelling)."""
    exact = frozenset(spec.ip_literals)
    blocks = tuple((block.version, block.low, block.high) for block in spec.cidrs)

    def test(text: str) -> bool:
        address = parse_ip(text)
        if address is None:
            return False
        if address in exact:
            return True
        version, number = address
        return any(v == version and low <= number <= high for v, low, high in blocks)

    return test


def _number_tests(spec: FieldSpec) -> list[Predicate]:
    tests: list[Predicate] = []
    if spec.numbers:
        tests.append(frozenset(spec.numbers).__contains__)
    tests += [_range_test(numeric) for numeric in spec.ranges]
    return tests


def _range_test(numeric: NumericRange) -> Predicate:
    """Bounds were checked to lie within ±5e9; event numbers outside it never compare."""
    low, high = numeric.low, numeric.high
    if numeric.low_open and numeric.high_open:
        return lambda number: low < number < high
    if numeric.low_open:
        return lambda number: low < number <= high
    if numeric.high_open:
        return lambda number: low <= number < high
    return lambda number: low <= number <= high


def _anything_but_test(but: AnythingBut) -> Predicate:
    """True for a leaf that the excluded values do not hit (null, booleans and other types pass)."""
    values = but.values
    if but.kind == "numbers":
        numbers = frozenset(values)
        return lambda value: not (type(value) in (int, float) and value in numbers)
    hit: StringTest
    if but.kind == "strings":
        hit = frozenset(values).__contains__
    elif but.kind == "prefix":
        prefixes = tuple(values)
        hit = lambda text: text.startswith(prefixes)  # noqa: E731 - a one-line choice of test
    elif but.kind == "suffix":
        suffixes = tuple(values)
        hit = lambda text: text.endswith(suffixes)  # noqa: E731
    elif but.kind == "ignore-case":
        lowered = frozenset(values)
        hit = lambda text: text.lower() in lowered  # noqa: E731
    else:
        wildcards = [wildcard_predicate(wildcard) for wildcard in values]
        hit = lambda text: any(test(text) for test in wildcards)  # noqa: E731
    return lambda value: not (type(value) is str and hit(value))


def wildcard_predicate(wildcard: Wildcard) -> StringTest:
    """Match a whole string against a wildcard; ``*`` is any run of characters, even empty.

    The literal pieces are found left to right (first anchored at the start, last at the end),
    which is exact for ``*``-only globs and linear, unlike a backtracking regex.
    """
    parts = wildcard.parts
    if len(parts) == 1:
        literal = parts[0]
        return lambda text: text == literal
    head, *middle, tail = parts
    fixed = len(head) + len(tail)

    def test(text: str) -> bool:
        if len(text) < fixed or not text.startswith(head) or not text.endswith(tail):
            return False
        position, end = len(head), len(text) - len(tail)
        for piece in middle:
            found = text.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True

    return test


def parse_ip(text: str) -> tuple[int, int] | None:
    """``(version, address)`` for an IPv4 or IPv6 literal as event-ruler reads one, else None.

    IPv4-mapped IPv6 addresses count as IPv4, as Java's ``InetAddress`` returns them.
    """
    try:
        if _IPV4.fullmatch(text):
            return 4, int(IPv4Address(text))
        if _IPV6.fullmatch(text):
            address = IPv6Address(text)
            mapped = address.ipv4_mapped
            return (4, int(mapped)) if mapped is not None else (6, int(address))
    except AddressValueError:
        return None
    return None


def parse_wildcard(text: str) -> Wildcard:
    """Split a wildcard at its ``*``; ``\\*`` and ``\\\\`` are a literal star and backslash.

    Raises ValueError for ``**`` and for a backslash before anything else, as AWS does.
    """
    parts: list[str] = []
    piece: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "*":
            if text.startswith("**", index):
                raise ValueError(f"Consecutive wildcard characters at pos {index}")
            parts.append("".join(piece))
            piece = []
        elif char == "\\":
            if index + 1 == len(text) or text[index + 1] not in "*\\":
                raise ValueError(f"Invalid escape character at pos {index}")
            piece.append(text[index + 1])
            index += 1
        else:
            piece.append(char)
        index += 1
    parts.append("".join(piece))
    return Wildcard(text, tuple(parts))


_STAR: Final = -1
_QUOTE: Final = ord('"')
_OTHER_BYTE: Final = 256  # stands for every byte no pattern names
_MAX_STATE_SETS: Final = 10_000


def wildcard_complexity(wildcards: list[Wildcard], limit: int) -> int:
    """How many match attempts the wildcards of one field can keep alive at once (capped).

    This follows event-ruler's ``MachineComplexityEvaluator``: run the wildcards as one
    nondeterministic byte machine over the quoted UTF-8 value, and for every reachable set of
    states count the states plus the star loops they lead into. Past ``limit`` it stops early.
    """
    machines: list[list[int]] = []
    for wildcard in wildcards:
        tokens = [_QUOTE]
        for index, part in enumerate(wildcard.parts):
            tokens += [_STAR] if index else []
            tokens += part.encode()
        machines.append([*tokens, _QUOTE])
    alphabet = [*sorted({t for tokens in machines for t in tokens if t != _STAR}), _OTHER_BYTE]
    # A state is (machine, index of the last token consumed, inside that token's star loop).
    start = frozenset((k, -1, False) for k in range(len(machines)))
    seen = {start}
    pending = [start]
    worst = 0
    while pending:
        active = pending.pop()
        for byte in alphabet:
            reached = frozenset(
                state
                for k, last, star in active
                for state in _step(machines[k], k, last, star, byte)
            )
            if not reached:
                continue
            loops = {
                (k, last + 1)
                for k, last, star in reached
                if not star
                and last + 1 < len(machines[k])
                and machines[k][last + 1] == _STAR
                and (k, last + 1, True) not in reached
            }
            worst = max(worst, len(reached) + len(loops))
            if worst > limit or len(seen) > _MAX_STATE_SETS:
                return max(worst, limit + 1)
            if reached not in seen:
                seen.add(reached)
                pending.append(reached)
    return worst


def _step(
    tokens: list[int], k: int, last: int, star: bool, byte: int
) -> list[tuple[int, int, bool]]:
    if star:
        follow = tokens[last + 1]
        return [(k, last, True), *([(k, last + 1, False)] if follow == byte else [])]
    following = last + 1
    if following == len(tokens):
        return []
    if tokens[following] == _STAR:
        after = tokens[following + 1]
        return [(k, following, True), *([(k, following + 1, False)] if after == byte else [])]
    return [(k, following, False)] if tokens[following] == byte else []
