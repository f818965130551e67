"""The order confirmation text: items read liberally, yen without decimals, keigo or English, and
unknown product ids listed, never guessed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from mangaassist.jobs.order_message import (
    MAX_LISTED_ITEMS,
    OrderLine,
    format_amount,
    parse_amount,
    parse_items,
    render_confirmation,
)
from mangaassist.jobs.orders import confirmation_language

JJK = "MNG-I63T7JQY"
ONE_PIECE = "MNG-6OHZJBVT"
UNKNOWN = "MNG-ZZZZZZZZ"


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (Decimal(1500), "JPY", "¥1,500"),
        (Decimal("1234567"), "jpy", "¥1,234,567"),
        (Decimal("1500.4"), "JPY", "¥1,500"),  # JPY has no minor unit
        (Decimal("1500.5"), "JPY", "¥1,501"),
        (Decimal(0), "JPY", "¥0"),
        (Decimal("12.5"), "USD", "$12.50"),
        (Decimal("1999.99"), "EUR", "€1,999.99"),
        (Decimal("12.5"), "CHF", "12.50 CHF"),
        (Decimal(50000), "KRW", "₩50,000"),
    ],
)
def test_amounts_are_written_as_a_shop_writes_them(
    amount: Decimal, currency: str, text: str
) -> None:
    assert format_amount(amount, currency) == text


@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        (1500, Decimal(1500)),
        ("1500", Decimal(1500)),
        ("1,500", Decimal(1500)),
        (12.5, Decimal("12.5")),
    ],
)
def test_amounts_are_read_from_numbers_and_text(raw: object, amount: Decimal) -> None:
    assert parse_amount(raw) == amount


@pytest.mark.parametrize("raw", ["abc", -1, True, None, "NaN", "Infinity", [1500], 10**20])
def test_what_is_no_amount_is_none(raw: object) -> None:
    assert parse_amount(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        [{"productId": JJK, "quantity": 2}, {"id": ONE_PIECE}],
        [{"product_id": JJK, "qty": "2"}, {"sku": ONE_PIECE, "quantity": 1}],
        [JJK, JJK, ONE_PIECE],  # repeats add up
        json.dumps([{"productId": JJK, "quantity": 2}, {"productId": ONE_PIECE}]),
        json.dumps(json.dumps([JJK, JJK, ONE_PIECE])),  # Stripe metadata, encoded twice
        f"{JJK.lower()}, {JJK}、{ONE_PIECE}",  # ids separated by commas, any case
    ],
)
def test_items_are_read_liberally(raw: object) -> None:
    assert parse_items(raw) == [OrderLine(JJK, 2), OrderLine(ONE_PIECE, 1)]


@pytest.mark.parametrize("raw", [None, "", "[]", [], 42.5, {"unexpected": True}, [None, {}]])
def test_no_items_or_unreadable_items_give_no_lines(raw: object) -> None:
    assert parse_items(raw) == []


@pytest.mark.parametrize("quantity", [0, -2, "two", 1.5, True, None])
def test_a_quantity_that_is_not_a_count_counts_one(quantity: object) -> None:
    assert parse_items([{"productId": JJK, "quantity": quantity}]) == [OrderLine(JJK, 1)]


def test_the_japanese_message_is_polite_names_the_titles_and_lists_unknown_ids() -> None:
    lines = [OrderLine(JJK, 2), OrderLine(UNKNOWN, 1)]
    message = render_confirmation("A-1001", "¥1,144", lines, {JJK: "呪術廻戦"}, "ja")
    assert message.startswith("ご注文ありがとうございます。")
    assert "ご注文番号：A-1001" in message
    assert "お支払い金額：¥1,144" in message
    assert "・『呪術廻戦』 × 2" in message
    assert f"商品名を確認できませんでした：{UNKNOWN}。" in message
    assert message.endswith("またのご利用を心よりお待ちしております。")


def test_the_english_message_names_the_titles_and_lists_unknown_ids() -> None:
    lines = [OrderLine(JJK, 2), OrderLine(UNKNOWN, 1)]
    message = render_confirmation("A-1001", "¥1,144", lines, {JJK: "Jujutsu Kaisen"}, "en")
    assert message.startswith("Thank you for your order.")
    assert "Amount paid: ¥1,144" in message
    assert "- Jujutsu Kaisen × 2" in message
    assert f"so their titles are not shown: {UNKNOWN}. If anything looks wrong" in message


def test_a_message_without_unknown_ids_or_amount_says_nothing_of_them() -> None:
    message = render_confirmation("A-1", None, [OrderLine(JJK, 1)], {JJK: "呪術廻戦"}, "ja")
    assert "確認できませんでした" not in message
    assert "お支払い金額" not in message


def test_a_long_order_lists_the_first_items_and_counts_the_rest() -> None:
    lines = [OrderLine(f"MNG-{i:08d}", 1) for i in range(MAX_LISTED_ITEMS + 5)]
    titles = {line.product_id: f"作品{i}" for i, line in enumerate(lines)}
    message = render_confirmation("A-2", "¥99,000", lines, titles, "ja")
    assert message.count("・『") == MAX_LISTED_ITEMS
    assert "・ほか5点" in message


@pytest.mark.parametrize(
    ("value", "language"),
    [("en", "en"), ("en-US", "en"), ("EN_gb", "en"), ("ja", "ja"), ("ja-JP", "ja"),
     (None, "ja"), ("fr", "ja"), (3, "ja")],
)  # fmt: skip
def test_the_language_is_english_only_when_asked_for(value: object, language: str) -> None:
    assert confirmation_language(value) == language
