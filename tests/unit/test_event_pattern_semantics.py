"""EventBridge pattern semantics the AWS-verified data does not reach.

Japanese text and emoji, wildcards, IPv6, numeric edges, ``exists`` inside arrays, nested
``$or``, what counts as a leaf, and properties that must hold for any string.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mangaassist.events import patterns
from mangaassist.events.pattern_compile import parse_ip
from mangaassist.events.patterns import (
    InvalidEventPattern,
    compile_pattern,
    matches,
    merge_duplicate_keys,
    validate_pattern,
)

Pattern = dict[str, Any]
Event = dict[str, Any]


def check(pattern: Pattern, event: Event) -> bool:
    """``matches`` and the compiled fast path must agree; return their answer."""
    slow = matches(pattern, event)
    assert compile_pattern(pattern).matches(event) is slow
    return slow


def title(value: Any) -> Event:
    return {"source": "mangaassist.catalog", "detail": {"title": value}}


# --- Japanese text and emoji --------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ({"prefix": "進撃の"}, "進撃の巨人 34巻", True),
        ({"prefix": "進撃の"}, "「進撃の巨人」", False),
        ({"suffix": "巻"}, "進撃の巨人 34巻", True),
        ({"suffix": "巻"}, "進撃の巨人 34巻 ", False),
        ({"prefix": "🚀"}, "🚀 新刊", True),
        ({"suffix": "📚"}, "まとめ買い📚", True),
        (
            {"equals-ignore-case": "ＯＮＥ ＰＩＥＣＥ"},
            "ｏｎｅ ｐｉｅｃｅ",
            True,
        ),  # full width folds
        ({"equals-ignore-case": "ONE PIECE"}, "ｏｎｅ ｐｉｅｃｅ", False),  # width does not
        ({"equals-ignore-case": "Manga 📚 ストア"}, "MANGA 📚 ストア", True),
        ({"equals-ignore-case": "ストア"}, "すとあ", False),  # katakana is not hiragana
        ({"prefix": {"equals-ignore-case": "spy×"}}, "SPY×FAMILY 13", True),
        ({"suffix": {"equals-ignore-case": "ＦＡＭＩＬＹ"}}, "SPY×ｆａｍｉｌｙ", True),
        ({"anything-but": {"prefix": "鬼滅"}}, "鬼滅の刃", False),
        ({"anything-but": {"prefix": "鬼滅"}}, "呪術廻戦", True),
        ({"anything-but": {"equals-ignore-case": ["ａｂｃ", "テスト"]}}, "ＡＢＣ", False),
    ],
)
def test_japanese_and_emoji_strings(condition: Pattern, value: str, expected: bool) -> None:
    assert check({"detail": {"title": [condition]}}, title(value)) is expected


@pytest.mark.parametrize(
    ("wildcard", "value", "expected"),
    [
        ("*の巨人*", "進撃の巨人 第34巻", True),
        ("*の巨人*", "進撃の小人", False),
        ("鬼滅の*", "鬼滅の刃", True),
        ("鬼滅の*", "鬼滅の", True),  # a star also matches nothing
        ("*巻", "ワンピース 107巻", True),
        ("*🚀*", "発売🚀予定", True),
        ("ワン*ピー*ス", "ワンピース", True),
        ("ワン*ピー*ス", "ワンピーノ", False),
        (r"\*限定\*", "*限定*", True),  # escaped stars are literal
        (r"\*限定\*", "初回限定版", False),
        (r"C:\\漫画\\*", "C:\\漫画\\一巻", True),  # an escaped backslash is one backslash
        ("", "", True),
        ("", "漫画", False),
    ],
)
def test_wildcards(wildcard: str, value: str, expected: bool) -> None:
    assert check({"detail": {"title": [{"wildcard": wildcard}]}}, title(value)) is expected


@pytest.mark.parametrize("wildcard", ["漫画**", r"漫画\n", "漫画\\"])
def test_wildcard_syntax_errors_are_refused(wildcard: str) -> None:
    with pytest.raises(InvalidEventPattern) as refused:
        validate_pattern({"detail": {"title": [{"wildcard": wildcard}]}})
    assert refused.value.path == "detail.title"


# --- IP addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "address", "expected"),
    [
        ("2001:db8::/32", "2001:db8:abcd::1", True),
        ("2001:db8::/32", "2001:0DB8:0000:0000:0000:0000:0000:0001", True),
        ("2001:db8::/32", "2001:db9::1", False),
        ("2001:db8::/32", "10.0.0.1", False),  # another family never matches
        ("fe80::/10", "febf:ffff::1", True),
        ("fe80::/10", "fec0::1", False),
        ("10.0.0.0/8", "::ffff:10.1.2.3", False),  # not an address by event-ruler's grammar
        ("10.0.0.0/8", "::ffff:a01:203", True),  # IPv4-mapped, read as 10.1.2.3
        ("10.0.0.0/8", "10.1.2.3 ", False),
        ("0.0.0.0/0", "255.255.255.255", True),
        # event-ruler's range starts at the address as written, not the network address
        ("192.168.1.5/24", "192.168.1.200", True),
        ("192.168.1.5/24", "192.168.1.1", False),
    ],
)
def test_cidr(cidr: str, address: str, expected: bool) -> None:
    pattern = {"detail": {"ip": [{"cidr": cidr}]}}
    assert check(pattern, {"detail": {"ip": address}}) is expected


def test_a_plain_ip_value_matches_any_spelling_of_that_address() -> None:
    pattern = {"detail": {"ip": ["2001:db8::1"]}}
    assert check(pattern, {"detail": {"ip": "2001:0db8:0:0:0:0:0:1"}})
    assert not check(pattern, {"detail": {"ip": "2001:db8::2"}})


@pytest.mark.parametrize("cidr", ["10.0.0.1/32", "2001:db8::1/128", "10.0.0.0/-1", "10.0.0/8"])
def test_cidr_values_aws_refuses(cidr: str) -> None:
    with pytest.raises(InvalidEventPattern):
        validate_pattern({"detail": {"ip": [{"cidr": cidr}]}})


# --- numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ({"numeric": [">", -10, "<=", -5]}, -5, True),
        ({"numeric": [">", -10, "<=", -5]}, -10, False),
        ({"numeric": [">", -10, "<=", -5]}, -7.5, True),
        ({"numeric": ["<=", 5e9]}, 5_000_000_000, True),
        ({"numeric": [">=", -5e9]}, -5e9, True),
        ({"numeric": [">", 0]}, 6e9, False),  # beyond ±5e9 numbers do not compare
        ({"numeric": ["<", 0]}, -6e9, False),
        ({"numeric": ["=", 5]}, 5.0, True),
        ({"numeric": ["=", 0.000001]}, 0.000001, True),
        ({"numeric": [">=", 0]}, 0, True),
        ({"numeric": [">", 0]}, True, False),  # booleans are not numbers
        ({"numeric": [">", 0]}, "1", False),
        (5, 5.0, True),
        (5, "5", False),
        (1, True, False),
        (True, 1, False),
        (123456789012, 123456789012, True),  # plain values are not limited to ±5e9
        ({"anything-but": [0, 1.5]}, 1.50, False),
        ({"anything-but": [0, 1.5]}, False, True),
        ({"anything-but": [0, 1.5]}, "0", True),
    ],
)
def test_numbers(condition: Any, value: Any, expected: bool) -> None:
    assert check({"detail": {"n": [condition]}}, {"detail": {"n": value}}) is expected


@pytest.mark.parametrize(
    "numeric",
    [
        [">", 5_000_000_001],
        ["<", -5.1e9],
        ["=", 0.0000001],  # more than six decimals
        [">", 5, "<", 5],  # bottom must be below top
        ["=", 1, "<", 2],
        ["<", 1, ">", 0],  # the lower bound comes first
        [">", True],
        [">", "1"],
        [],
    ],
)
def test_numeric_expressions_aws_refuses(numeric: list[Any]) -> None:
    with pytest.raises(InvalidEventPattern) as refused:
        validate_pattern({"detail": {"n": [{"numeric": numeric}]}})
    assert refused.value.path == "detail.n"


# --- exists, objects and arrays -----------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([{"sku": "A"}, {"sku": "B"}], True),
        ([{"sku": "A"}, {"sku": "B", "gift": True}], False),  # absence must hold everywhere
        ([], True),
        ([{"gift": {"wrapping": "red"}}], True),  # an object is not a leaf
        ([{"gift": None}], False),  # null is a value
    ],
)
def test_exists_false_alone_inside_an_array(items: list[Event], expected: bool) -> None:
    pattern = {"detail": {"items": {"gift": [{"exists": False}]}}}
    assert check(pattern, {"detail": {"items": items}}) is expected


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([{"sku": "A"}, {"sku": "B", "gift": True}], True),  # the sku-A element has no gift
        ([{"sku": "A", "gift": True}, {"sku": "B"}], False),
    ],
)
def test_exists_false_follows_the_element_its_sibling_picked(
    items: list[Event], expected: bool
) -> None:
    pattern = {"detail": {"items": {"sku": ["A"], "gift": [{"exists": False}]}}}
    assert check(pattern, {"detail": {"items": items}}) is expected


def test_fields_under_one_array_must_come_from_the_same_element() -> None:
    pattern = {"detail": {"items": {"sku": ["A"], "qty": [2]}}}
    assert not check(
        pattern, {"detail": {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}}
    )
    assert check(pattern, {"detail": {"items": [{"sku": "B", "qty": 1}, {"sku": "A", "qty": 2}]}})


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ({"exists": True}, {"nested": 1}, False),  # exists looks at leaves only
        ({"exists": False}, {"nested": 1}, True),
        ({"exists": True}, None, True),
        ({"exists": True}, [], False),
        ({"exists": True}, [[], ["x"]], True),  # nested arrays flatten
        ({"anything-but": "x"}, {"nested": 1}, False),
        ({"anything-but": "x"}, None, True),
        ({"anything-but": "x"}, ["x", "y"], True),  # any element may satisfy it
        ({"anything-but": "x"}, ["x"], False),
        ({"prefix": ""}, "", True),
        ({"prefix": ""}, 0, False),
        (None, None, True),
        (None, "null", False),
        ("", "", True),
        ("x", {"x": "x"}, False),
    ],
)
def test_objects_versus_leaves(condition: Any, value: Any, expected: bool) -> None:
    assert check({"detail": {"v": [condition]}}, {"detail": {"v": value}}) is expected


def test_missing_fields() -> None:
    event = {"detail": {"other": 1}}
    assert not check({"detail": {"v": [{"anything-but": "x"}]}}, event)
    assert check({"detail": {"v": [{"exists": False}]}}, event)
    assert check({"nowhere": {"deeper": [{"exists": False}]}}, event)
    assert not check({"detail": {"v": {"deeper": ["x"]}}}, {"detail": {"v": "x"}})


def test_dotted_event_keys_and_pattern_keys_name_the_same_field() -> None:
    pattern = {"detail": {"order.status": ["paid"], "order": {"id": ["o-1"]}}}
    assert check(pattern, {"detail": {"order": {"status": "paid", "id": "o-1"}}})
    assert check(pattern, {"detail": {"order.status": "paid", "order.id": "o-1"}})
    assert check(pattern, {"detail.order.status": "paid", "detail.order.id": "o-1"})
    assert not check(pattern, {"detail": {"order.status": "paid"}})


def test_events_that_are_not_objects_match_nothing() -> None:
    compiled = compile_pattern({"v": [{"exists": False}]})
    assert compiled.matches({})
    not_objects: list[Any] = [[], "event", None, 1]
    for event in not_objects:
        assert not compiled.matches(event)


# --- $or ----------------------------------------------------------------------------------


NESTED_OR: Pattern = {
    "source": ["mangaassist.orders"],
    "$or": [
        {"detail": {"$or": [{"total": [{"numeric": [">=", 10000]}]}, {"vip": [True]}]}},
        {"detail-type": ["OrderFlagged"]},
    ],
}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"source": "mangaassist.orders", "detail": {"total": 12000}}, True),
        ({"source": "mangaassist.orders", "detail": {"total": 500, "vip": True}}, True),
        ({"source": "mangaassist.orders", "detail-type": "OrderFlagged", "detail": {}}, True),
        ({"source": "mangaassist.orders", "detail": {"total": 500, "vip": False}}, False),
        ({"source": "mangaassist.chat", "detail": {"total": 12000}}, False),
    ],
)
def test_nested_or(event: Event, expected: bool) -> None:
    assert check(NESTED_OR, event) is expected


def test_or_alternatives_can_share_a_field_with_different_values() -> None:
    pattern = {"detail": {"$or": [{"a": ["1"], "b": ["2"]}, {"a": ["3"]}]}}
    assert check(pattern, {"detail": {"a": "3"}})
    assert not check(pattern, {"detail": {"a": "1"}})
    assert check(pattern, {"detail": {"a": "1", "b": "2"}})


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ({"$or": [{"a": ["1"]}]}, "$or"),
        ({"$or": {"a": ["1"]}}, "$or"),
        ({"detail": {"$or": [{"a": ["1"]}, "b"]}}, "detail.$or[1]"),
        ({"$or": [{"a": ["1"]}, {"prefix": ["x"]}]}, "$or[1].prefix"),
        ({"$or": [{"a": ["1"]}, {"b": {"numeric": [1]}}]}, "$or[1].b.numeric"),
        ({"$or": [{"a": ["1"]}, {}]}, "$or[1]"),
    ],
)
def test_or_structures_aws_refuses(pattern: Pattern, path: str) -> None:
    with pytest.raises(InvalidEventPattern) as refused:
        validate_pattern(pattern)
    assert refused.value.path == path
    assert path in str(refused.value)


def test_operator_names_are_ordinary_fields_outside_or() -> None:
    assert check({"prefix": ["x"]}, {"prefix": "x"})


# --- pattern shape ------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [[], "source", None, 1, {}, {"detail": {}}, {"a": [[1]]}])
def test_patterns_that_are_not_objects_of_lists_are_refused(pattern: Any) -> None:
    with pytest.raises(InvalidEventPattern):
        validate_pattern(pattern)
    with pytest.raises(InvalidEventPattern):
        matches(pattern, {})


def test_the_error_names_the_field() -> None:
    with pytest.raises(InvalidEventPattern) as refused:
        validate_pattern({"detail": {"state": [{"prefix": 5}]}})
    assert refused.value.path == "detail.state"
    assert refused.value.reason == "prefix match pattern must be a string"
    assert str(refused.value).endswith("(at detail.state)")


def test_repeated_keys_merge_objects_and_keep_the_last_leaf() -> None:
    text = """{
        "detail": {"a": ["1"]}, "detail": {"b": ["2"]}, "source": ["x"], "source": ["y"],
        "$or": [{"c": ["3"]}, {"d": ["4"]}], "$or": [{"e": ["5"]}, {"f": ["6"]}]
    }"""
    pattern = json.loads(text, object_pairs_hook=merge_duplicate_keys)
    assert pattern["detail"] == {"a": ["1"], "b": ["2"]}
    assert pattern["source"] == ["y"]
    # Both $or apply: one alternative of each must hold.
    assert len(pattern["$or"]) == 4
    base = {"source": "y", "detail": {"a": "1", "b": "2"}}
    assert check(pattern, {**base, "c": "3", "f": "6"})
    assert not check(pattern, {**base, "c": "3", "d": "4"})


def test_the_public_names_are_exported() -> None:
    assert sorted(patterns.__all__) == [
        "CompiledPattern",
        "InvalidEventPattern",
        "compile_pattern",
        "matches",
        "merge_duplicate_keys",
        "validate_pattern",
    ]
    assert all(hasattr(patterns, name) for name in patterns.__all__)


# --- properties ---------------------------------------------------------------------------


@given(st.text())
def test_any_string_matches_itself(value: str) -> None:
    assert check({"k": [value]}, {"k": value})
    assert check({"k": [{"equals-ignore-case": value}]}, {"k": value})
    assert check({"k": [{"wildcard": _escape(value)}]}, {"k": value})


@given(st.text(), st.text(), st.booleans())
def test_anything_but_is_the_negation_of_an_exact_value(
    excluded: str, other: str, same: bool
) -> None:
    # Plain values that are IP literals match every spelling of the address; anything-but
    # compares text, so those are the one documented exception.
    assume(parse_ip(excluded) is None)
    event = {"k": excluded if same else other}
    assert check({"k": [{"anything-but": [excluded]}]}, event) is not check(
        {"k": [excluded]}, event
    )


@given(st.text(), st.text())
def test_prefixes_and_suffixes_are_literal(head: str, tail: str) -> None:
    event = {"k": head + tail}
    assert check({"k": [{"prefix": head}]}, event)
    assert check({"k": [{"suffix": tail}]}, event)
    assert check({"k": [{"wildcard": _escape(head) + "*"}]}, event)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*")
