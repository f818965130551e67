"""EventBridge event patterns: does this event match this rule? Pure functions, no I/O.

The semantics are Amazon EventBridge's (its open-source engine is aws/event-ruler). A pattern has
the shape of the events it selects: every field it names must match (AND), and each field's list
is a choice (OR) of exact values and operators (``prefix``, ``suffix``, ``equals-ignore-case``,
``wildcard``, ``anything-but``, ``numeric``, ``cidr``, ``exists``); ``$or`` offers alternative
sets of fields. Paths join with dots, so ``{"a": {"b": ...}}``, ``{"a.b": ...}`` and an event key
``"a.b"`` name one field. Where the event has an array, a field matches if any element does, and
fields read through the same array must come from the same element (AWS's array consistency).
Strings, numbers, booleans and null never match each other; numbers compare by value.

``compile_pattern`` validates once and returns a ``CompiledPattern`` whose ``matches`` is the fast
path (a tree of closures); ``matches()`` validates and compiles on every call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import methodcaller
from typing import Any

from mangaassist.events.pattern_compile import MISSING, Predicate, leaf_predicate
from mangaassist.events.pattern_validation import (
    MAX_BRANCHES,
    Branch,
    FieldSpec,
    InvalidEventPattern,
    parse_pattern,
)

__all__ = [
    "CompiledPattern",
    "InvalidEventPattern",
    "compile_pattern",
    "matches",
    "merge_duplicate_keys",
    "validate_pattern",
]

EventMatcher = Callable[[dict[str, Any]], bool]


class CompiledPattern:
    """A validated pattern, ready to test many events.

    ``matches(event)`` returns whether the JSON-decoded ``event`` (dicts, lists, str, int,
    float, bool, None) matches; it never re-validates, and anything but a dict matches
    nothing. It is a plain attribute holding the compiled closure, which saves a method call
    on the hot path.
    """

    __slots__ = ("matches", "pattern")
    matches: EventMatcher
    pattern: dict[str, Any]

    def __init__(self, pattern: dict[str, Any], matcher: EventMatcher) -> None:
        self.pattern = pattern
        self.matches = matcher

    def __repr__(self) -> str:
        return f"CompiledPattern({self.pattern!r})"


def compile_pattern(pattern: dict[str, Any]) -> CompiledPattern:
    """Validate ``pattern`` and build its matcher; raises InvalidEventPattern."""
    branch_matchers = [
        _branch_matcher(pure) for branch in parse_pattern(pattern) for pure in _pure(branch)
    ]
    if len(branch_matchers) > MAX_BRANCHES:
        raise InvalidEventPattern(f"Rule is too complex: more than {MAX_BRANCHES} branches")
    if len(branch_matchers) == 1:
        return CompiledPattern(pattern, branch_matchers[0])

    def match_any(event: dict[str, Any]) -> bool:
        return any(branch(event) for branch in branch_matchers)

    return CompiledPattern(pattern, match_any)


def validate_pattern(pattern: dict[str, Any]) -> None:
    """Raise InvalidEventPattern, saying what and where, unless AWS would accept ``pattern``."""
    compile_pattern(pattern)


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether ``event`` matches ``pattern`` (validated first; compile once for many events)."""
    return compile_pattern(pattern).matches(event)


def merge_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads`` hook that reads a repeated key as EventBridge does.

    A repeated leaf field keeps its last value (AWS: "the last reference will be the one used");
    repeated objects merge field by field; a second ``$or`` combines with the first (both apply).
    A key repeated inside one match expression (``{"prefix": "a", "prefix": "b"}``), which AWS
    refuses, also keeps its last value here.
    """
    result: dict[str, Any] = {}
    for key, value in pairs:
        earlier = result.pop(key, MISSING)
        if isinstance(earlier, dict) and isinstance(value, dict):
            value = merge_duplicate_keys([*earlier.items(), *value.items()])
        elif key == "$or" and _objects(earlier) and _objects(value):
            value = [merge_duplicate_keys([*a.items(), *b.items()]) for a in earlier for b in value]
        result[key] = value
    return result


def _objects(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _pure(branch: Branch) -> list[Branch]:
    """Split fields that allow values *or* absence into one branch per alternative."""
    result = [branch]
    for path, spec in branch.items():
        if spec.absent and spec.has_values():
            parts = (spec.values_only(), FieldSpec(absent=True))
            result = [{**each, path: part} for each in result for part in parts]
    return result


@dataclass(slots=True)
class _Trie:
    spec: FieldSpec | None = None
    children: dict[str, _Trie] = field(default_factory=dict)


def _branch_matcher(branch: Branch) -> EventMatcher:
    root = _Trie()
    for path, spec in branch.items():
        node = root
        for segment in path.split("."):
            node = node.children.setdefault(segment, _Trie())
        node.spec = spec
    checks, _ = _object_checks(root)
    return _all_of(checks, event=True)


ObjectMatcher = Callable[[dict[str, Any]], bool]


def _node_matcher(node: _Trie) -> tuple[Predicate, ObjectMatcher | None, bool]:
    """Predicates for the value at this node's path: any value, an object (None: a leaf-only
    node, which no object satisfies), and whether the node needs a value there at all."""
    spec = node.spec
    if not node.children:
        assert spec is not None  # every trie leaf was written by a field
        return (
            (_absence_matcher(), None, False) if spec.absent else (_leaf_matcher(spec), None, True)
        )
    checks, kids_need_value = _object_checks(node)
    needs_leaf = spec is not None and not spec.absent
    refuses_leaf = spec is not None and spec.absent
    leaf_test = leaf_predicate(spec) if spec is not None and needs_leaf else None
    needs_value = needs_leaf or kids_need_value
    match_object = _never if needs_leaf else _all_of(checks)

    def match(value: Any) -> bool:
        kind = type(value)
        if kind is dict:
            return match_object(value)
        if kind is list:
            # A value needed here must come from one element; absence must hold in all of them.
            if needs_value:
                return any(match(item) for item in value)
            return all(match(item) for item in value)
        if value is MISSING:
            return not needs_value
        if refuses_leaf or (leaf_test is not None and not leaf_test(value)):
            return False
        return not kids_need_value

    return match, match_object, needs_value


def _object_checks(node: _Trie) -> tuple[list[ObjectMatcher], bool]:
    """One check per field under ``node``, and whether any of them needs a value."""
    checks: list[ObjectMatcher] = []
    need_value = False
    # Leaves first: a cheap test that fails saves descending into objects.
    for segment, child in sorted(node.children.items(), key=lambda kid: bool(kid[1].children)):
        match_child, match_child_object, child_needs_value = _node_matcher(child)
        checks.append(_field_check(segment, child, match_child, match_child_object))
        need_value |= child_needs_value
    return checks, need_value


def _never(obj: dict[str, Any]) -> bool:
    return False


def _all_of(checks: list[ObjectMatcher], *, event: bool = False) -> ObjectMatcher:
    """``checks`` joined with ``and``, unrolled for the usual one to three fields.

    With ``event``, anything but an object (which no EventBridge event is) matches nothing.
    """
    if len(checks) == 1:
        (only,) = checks
        return (lambda obj: type(obj) is dict and only(obj)) if event else only
    if len(checks) == 2:
        first, second = checks
        if event:
            return lambda obj: type(obj) is dict and first(obj) and second(obj)
        return lambda obj: first(obj) and second(obj)
    if len(checks) == 3:
        first, second, third = checks
        if event:
            return lambda obj: type(obj) is dict and first(obj) and second(obj) and third(obj)
        return lambda obj: first(obj) and second(obj) and third(obj)

    def all_checks(obj: dict[str, Any]) -> bool:
        if event and type(obj) is not dict:
            return False
        for check in checks:  # noqa: SIM110 - a plain loop beats all() on the hot path
            if not check(obj):
                return False
        return True

    return all_checks


def _field_check(
    segment: str, child: _Trie, match: Predicate, match_object: ObjectMatcher | None
) -> ObjectMatcher:
    """Test one field of an object: look it up once and take the cheapest route to an answer."""
    missing = MISSING
    if match_object is not None:

        def check_nested(obj: dict[str, Any]) -> bool:
            value = obj.get(segment, missing)
            if type(value) is dict:
                return match_object(value)
            if value is missing:
                value = _dotted_view(obj, segment)
            return match(value)

        return check_nested
    spec = child.spec
    if spec is not None and spec.strings and FieldSpec(strings=spec.strings) == spec:
        exact = frozenset(spec.strings)

        def check_exact(obj: dict[str, Any]) -> bool:
            value = obj.get(segment, missing)
            if type(value) is str:
                return value in exact
            return match(value)

        return check_exact
    string_test = _string_test(spec) if spec is not None else None
    if string_test is None:
        return lambda obj: match(obj.get(segment, missing))

    def check_leaf(obj: dict[str, Any]) -> bool:
        value = obj.get(segment, missing)
        if type(value) is str:
            return string_test(value)
        return match(value)

    return check_leaf


def _string_test(spec: FieldSpec) -> Callable[[str], bool] | None:
    """A C-level test for a string value when the field asks only for prefixes or suffixes."""
    if spec.prefixes and FieldSpec(prefixes=spec.prefixes) == spec:
        return methodcaller("startswith", tuple(spec.prefixes))
    if spec.suffixes and FieldSpec(suffixes=spec.suffixes) == spec:
        return methodcaller("endswith", tuple(spec.suffixes))
    return None


def _leaf_matcher(spec: FieldSpec) -> Predicate:
    test = leaf_predicate(spec)

    def match(value: Any) -> bool:
        if type(value) is list:
            return any(match(item) for item in value)
        return test(value)

    return match


def _absence_matcher() -> Predicate:
    def match(value: Any) -> bool:
        if type(value) is list:
            return all(match(item) for item in value)
        return type(value) is dict or value is MISSING

    return match


def _dotted_view(obj: dict[str, Any], segment: str) -> Any:
    """The fields of ``obj`` spelled with a dot (``"state.status"``) under ``segment``.

    Only consulted when ``obj`` has no ``segment`` key: an event spelling one path both ways
    (``{"a": {"b": 1}, "a.b": 2}``) is read through its nested spelling.
    """
    start = segment + "."
    view = {
        key[len(start) :]: value
        for key, value in obj.items()
        if type(key) is str and key.startswith(start)
    }
    return view or MISSING
