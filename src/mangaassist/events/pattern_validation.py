"""Reading an EventBridge event pattern: validation, then normal form.

A pattern is checked the way AWS checks it (event-ruler's ``JsonRuleCompiler``) and rewritten
into *branches*: one flat ``{"dotted.field.path": FieldSpec}`` map per way of satisfying the
``$or`` choices. Nested objects and dotted keys give the same path (``{"a": {"b": [..]}}`` and
``{"a.b": [..]}`` are one field), and a path written twice keeps its last value, as AWS does.
``patterns.py`` turns the branches into a matcher; nothing here looks at an event.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final, Literal

from mangaassist.events.pattern_compile import (
    Wildcard,
    parse_ip,
    parse_wildcard,
    wildcard_complexity,
)

__all__ = [
    "MAX_BRANCHES",
    "NUMERIC_LIMIT",
    "WILDCARD_COMPLEXITY_LIMIT",
    "AnythingBut",
    "Branch",
    "Cidr",
    "FieldSpec",
    "InvalidEventPattern",
    "NumericRange",
    "parse_pattern",
]

#: AWS: numeric matching works on values from -5.0e9 to +5.0e9 inclusive, six decimals at most.
NUMERIC_LIMIT: Final = 5_000_000_000
NUMERIC_DECIMALS: Final = 6
#: event-ruler refuses a field whose wildcards keep more than this many match attempts alive.
WILDCARD_COMPLEXITY_LIMIT: Final = 10
#: ``$or`` multiplies out; past this many branches a pattern is refused as too complex.
MAX_BRANCHES: Final = 1024

#: Inside ``$or`` these names are operators, never fields (event-ruler's reserved list).
_RESERVED_IN_OR: Final = frozenset(
    {
        "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists",
        "wildcard", "numeric", "cidr", "html", "=", "<", "<=", ">", ">=", "regex",
        "not-wildcard", "not-equals-ignore-case", "date-after", "date-on-or-after",
        "date-before", "date-on-or-before", "in-date-range", "ip-address-in-range",
        "ip-address-not-in-range",
    }
)  # fmt: skip
_MASK: Final = re.compile(r"[+-]?[0-9]+")


class InvalidEventPattern(ValueError):  # noqa: N818 - named like AWS's exception
    """The pattern is not one EventBridge accepts (its ``InvalidEventPatternException``).

    ``reason`` says what is wrong and ``path`` where: the field path, ``$or[1]`` for the second
    ``$or`` alternative, empty for the pattern as a whole.
    """

    def __init__(self, reason: str, path: str = "") -> None:
        self.reason = reason
        self.path = path
        where = f" (at {path})" if path else ""
        super().__init__(f"Event pattern is not valid. Reason: {reason}{where}")


@dataclass(frozen=True, slots=True)
class Cidr:
    """An address range from ``{"cidr": ...}``: ``low`` is the address as written."""

    version: int
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class NumericRange:
    """One ``{"numeric": [...]}``; a missing bound is the ±5e9 limit, closed."""

    low: float
    low_open: bool
    high: float
    high_open: bool


AnythingButKind = Literal["strings", "numbers", "prefix", "suffix", "ignore-case", "wildcard"]


@dataclass(frozen=True, slots=True)
class AnythingBut:
    """One ``anything-but``: a leaf matches unless it is a string (number) hit by ``values``."""

    kind: AnythingButKind
    values: tuple[Any, ...]


@dataclass(slots=True)
class FieldSpec:
    """Everything one field's list accepts; a leaf matches when any of it does.

    Case-insensitive forms are stored lower-cased. ``absent`` is ``{"exists": false}``.
    """

    strings: set[str] = field(default_factory=set)
    ip_literals: set[tuple[int, int]] = field(default_factory=set)
    numbers: set[int | float] = field(default_factory=set)
    match_true: bool = False
    match_false: bool = False
    match_null: bool = False
    exists: bool = False
    absent: bool = False
    prefixes: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    equals_ic: set[str] = field(default_factory=set)
    prefixes_ic: list[str] = field(default_factory=list)
    suffixes_ic: list[str] = field(default_factory=list)
    wildcards: list[Wildcard] = field(default_factory=list)
    cidrs: list[Cidr] = field(default_factory=list)
    ranges: list[NumericRange] = field(default_factory=list)
    anything_but: list[AnythingBut] = field(default_factory=list)

    def has_values(self) -> bool:
        """Whether anything but ``{"exists": false}`` is asked for."""
        return self != FieldSpec(absent=self.absent)

    def values_only(self) -> FieldSpec:
        """This spec without its ``{"exists": false}``."""
        return replace(self, absent=False)


Branch = dict[str, FieldSpec]


def parse_pattern(pattern: object) -> list[Branch]:
    """Validate ``pattern`` and return its branches (the pattern matches if any branch does)."""
    if not isinstance(pattern, dict):
        raise InvalidEventPattern("Filter is not an object")
    return _walk(pattern, "", "", in_or=False, branches=[{}])


def _walk(
    obj: dict[Any, Any], prefix: str, where: str, *, in_or: bool, branches: list[Branch]
) -> list[Branch]:
    if not obj:
        raise InvalidEventPattern("Empty objects are not allowed", where)
    for key, value in obj.items():
        if not isinstance(key, str):
            raise InvalidEventPattern(f"Field names must be strings, not {key!r}", where)
        here = f"{where}.{key}" if where else key
        if key == "$or":
            branches = _walk_or(value, prefix, here, branches)
            continue
        if in_or and key in _RESERVED_IN_OR:
            raise InvalidEventPattern(
                f"{key} is a reserved name and cannot be a field in $or", here
            )
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            branches = _walk(value, path, here, in_or=in_or, branches=branches)
        elif isinstance(value, list):
            spec = _parse_field(value, here)
            for branch in branches:
                branch[path] = spec
        else:
            raise InvalidEventPattern(f'"{key}" must be an object or an array', here)
    return branches


def _walk_or(value: object, prefix: str, where: str, branches: list[Branch]) -> list[Branch]:
    if not isinstance(value, list):
        raise InvalidEventPattern("$or must be followed by an array", where)
    if len(value) < 2:
        raise InvalidEventPattern("$or needs at least 2 objects", where)
    result: list[Branch] = []
    for index, alternative in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(alternative, dict):
            raise InvalidEventPattern("Only JSON objects are allowed in a $or array", here)
        copies = [dict(branch) for branch in branches]
        result.extend(_walk(alternative, prefix, here, in_or=True, branches=copies))
        if len(result) > MAX_BRANCHES:
            raise InvalidEventPattern(
                f"Rule is too complex: more than {MAX_BRANCHES} $or branches", where
            )
    return result


def _parse_field(values: list[Any], where: str) -> FieldSpec:
    if not values:
        raise InvalidEventPattern("Empty arrays are not allowed", where)
    spec = FieldSpec()
    for item in values:
        if isinstance(item, dict):
            _parse_operator(item, spec, where)
        elif item is None:
            spec.match_null = True
        elif isinstance(item, bool):
            spec.match_true |= item
            spec.match_false |= not item
        elif isinstance(item, str):
            spec.strings.add(item)
            if (ip := parse_ip(item)) is not None:
                spec.ip_literals.add(ip)
        elif _is_number(item):
            spec.numbers.add(item)
        else:
            raise InvalidEventPattern(
                f"Match value must be String, number, true, false, or null, not {item!r}", where
            )
    wildcards = [*spec.wildcards]
    wildcards += [w for b in spec.anything_but if b.kind == "wildcard" for w in b.values]
    limit = WILDCARD_COMPLEXITY_LIMIT
    if wildcards and wildcard_complexity(wildcards, limit) > limit:
        raise InvalidEventPattern(
            "Rule is too complex - try using fewer wildcard characters or fewer repeating"
            " character sequences after a wildcard character",
            where,
        )
    return spec


def _parse_operator(expr: dict[Any, Any], spec: FieldSpec, where: str) -> None:
    op, arg = _single_key(expr, "Match expression name not found", where)
    if op in ("prefix", "suffix"):
        if isinstance(arg, dict):
            text = _ignore_case_argument(op, arg, where).lower()
            (spec.prefixes_ic if op == "prefix" else spec.suffixes_ic).append(text)
        elif isinstance(arg, str):
            (spec.prefixes if op == "prefix" else spec.suffixes).append(arg)
        else:
            raise InvalidEventPattern(f"{op} match pattern must be a string", where)
    elif op == "equals-ignore-case":
        if not isinstance(arg, str):
            raise InvalidEventPattern("equals-ignore-case match pattern must be a string", where)
        spec.equals_ic.add(arg.lower())
    elif op == "anything-but":
        spec.anything_but.append(_parse_anything_but(arg, where))
    elif op == "numeric":
        spec.ranges.append(_parse_numeric(arg, where))
    elif op == "exists":
        if not isinstance(arg, bool):
            raise InvalidEventPattern("exists match pattern must be either true or false", where)
        spec.exists |= arg
        spec.absent |= not arg
    elif op == "cidr":
        if not isinstance(arg, str):
            raise InvalidEventPattern("cidr match pattern must be a string", where)
        spec.cidrs.append(_parse_cidr(arg, where))
    elif op == "wildcard":
        if not isinstance(arg, str):
            raise InvalidEventPattern("wildcard match pattern must be a string", where)
        spec.wildcards.append(_wildcard(arg, where))
    else:
        raise InvalidEventPattern(f"Unrecognized match type {op}", where)


def _single_key(expr: dict[Any, Any], empty: str, where: str) -> tuple[Any, Any]:
    if not expr:
        raise InvalidEventPattern(empty, where)
    if len(expr) > 1:
        raise InvalidEventPattern("Only one key allowed in match expression", where)
    ((key, value),) = expr.items()
    return key, value


def _ignore_case_argument(op: str, arg: dict[Any, Any], where: str) -> str:
    key, value = _single_key(arg, f"{op} expression name not found", where)
    if key != "equals-ignore-case":
        raise InvalidEventPattern(f"Unsupported {op} pattern: {key}", where)
    if not isinstance(value, str):
        raise InvalidEventPattern("equals-ignore-case match pattern must be a string", where)
    return value


_BUT_KINDS: Final[dict[str, AnythingButKind]] = {
    "prefix": "prefix",
    "suffix": "suffix",
    "equals-ignore-case": "ignore-case",
    "wildcard": "wildcard",
}
_BUT_SINGLE: Final = "Value of anything-but must be an array or single string/number value"


def _parse_anything_but(arg: object, where: str) -> AnythingBut:
    if isinstance(arg, dict):
        op, inner = _single_key(arg, "Anything-But expression name not found", where)
        kind = _BUT_KINDS.get(op)
        if kind is None:
            raise InvalidEventPattern(f"Unsupported anything-but pattern: {op}", where)
        if not isinstance(inner, list | str) and not _is_number(inner):
            raise InvalidEventPattern(_BUT_SINGLE, where)
        items = inner if isinstance(inner, list) else [inner]
        for item in items:
            if not isinstance(item, str):
                raise InvalidEventPattern(f"anything-but/{op} values must be strings", where)
            if not item and kind in ("prefix", "suffix"):
                raise InvalidEventPattern("Null prefix/suffix not allowed", where)
        if kind == "ignore-case":
            return AnythingBut(kind, tuple(item.lower() for item in items))
        if kind == "wildcard":
            return AnythingBut(kind, tuple(_wildcard(item, where) for item in items))
        return AnythingBut(kind, tuple(items))
    items = arg if isinstance(arg, list) else [arg]
    if not isinstance(arg, list | str) and not _is_number(arg):
        raise InvalidEventPattern(_BUT_SINGLE, where)
    if any(not isinstance(item, str) and not _is_number(item) for item in items):
        raise InvalidEventPattern(
            "anything-but values must be strings or numbers, not null, booleans or containers",
            where,
        )
    if all(isinstance(item, str) for item in items) and items:
        return AnythingBut("strings", tuple(items))
    if all(_is_number(item) for item in items) and items:
        return AnythingBut("numbers", tuple(_comparable(item, where) for item in items))
    raise InvalidEventPattern(
        "Inside anything-but list, either all values are number or string, mixed type is not"
        " supported",
        where,
    )


_UPPER_BOUNDS: Final = ("<", "<=")


def _parse_numeric(arg: object, where: str) -> NumericRange:
    if not isinstance(arg, list):
        raise InvalidEventPattern("Value of numeric must be an array", where)
    if not arg or not isinstance(arg[0], str):
        found = repr(arg[0]) if arg else "]"
        raise InvalidEventPattern(f"Invalid member in numeric match: {found}", where)
    op = arg[0]
    if op not in ("=", "<", "<=", ">", ">="):
        raise InvalidEventPattern(f"Unrecognized numeric range operator: {op}", where)
    value = _numeric_operand(arg, 1, "equals" if op == "=" else op, where)
    if op == "=":
        bounds = (value, False, value, False)
    elif op in _UPPER_BOUNDS:
        bounds = (-NUMERIC_LIMIT, False, value, op == "<")
    elif len(arg) == 2:
        bounds = (value, op == ">", NUMERIC_LIMIT, False)
    else:
        top_op = arg[2]
        if not isinstance(top_op, str):
            raise InvalidEventPattern(f"Bad value in numeric range: {top_op!r}", where)
        if top_op not in _UPPER_BOUNDS:
            raise InvalidEventPattern(f"Bad numeric range operator: {top_op}", where)
        top = _numeric_operand(arg, 3, top_op, where)
        if len(arg) > 4:
            raise InvalidEventPattern("Too many terms in numeric range expression", where)
        if value >= top:
            raise InvalidEventPattern("Bottom must be less than top", where)
        return NumericRange(value, op == ">", top, top_op == "<")
    if len(arg) > 2:
        raise InvalidEventPattern("Too many elements in numeric expression", where)
    return NumericRange(*bounds)


def _numeric_operand(arg: list[Any], index: int, name: str, where: str) -> float:
    if len(arg) <= index or not _is_number(arg[index]):
        raise InvalidEventPattern(f"Value of {name} must be numeric", where)
    return float(_comparable(arg[index], where))


def _comparable(value: int | float, where: str) -> int | float:
    """A number numeric matching can compare: within ±5e9 and at most six decimals."""
    if not -NUMERIC_LIMIT <= value <= NUMERIC_LIMIT:
        raise InvalidEventPattern(
            f"Value must be between -5.0E9 and 5.0E9, inclusive: {value}", where
        )
    exponent = Decimal(repr(value)).normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -NUMERIC_DECIMALS:
        raise InvalidEventPattern(f"Only values up to 6 decimals are supported: {value}", where)
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _wildcard(text: str, where: str) -> Wildcard:
    try:
        return parse_wildcard(text)
    except ValueError as error:
        raise InvalidEventPattern(str(error), where) from None


def _parse_cidr(text: str, where: str) -> Cidr:
    address, slash, mask_text = text.partition("/")
    if not slash or "/" in mask_text:
        raise InvalidEventPattern("Malformed CIDR, one '/' required", where)
    if not _MASK.fullmatch(mask_text):
        raise InvalidEventPattern("Malformed CIDR, mask bits must be an integer", where)
    mask = int(mask_text)
    if mask < 0:
        raise InvalidEventPattern("Malformed CIDR, mask bits must not be negative", where)
    parsed = parse_ip(address)
    if parsed is None:
        raise InvalidEventPattern(f"Nonstandard IP address: {address}", where)
    version, low = parsed
    bits = 32 if version == 4 else 128
    # event-ruler refuses a full-length mask (/32, /128): write the address itself instead.
    if mask >= bits:
        raise InvalidEventPattern(f"IPv{version} mask bits must be < {bits}", where)
    return Cidr(version, low, low | ((1 << (bits - mask)) - 1))
