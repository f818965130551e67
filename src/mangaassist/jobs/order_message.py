"""The order confirmation text: a payment's items read liberally, amounts as a shop writes them.

Pure functions of their inputs (STYLE.md): ``parse_items`` accepts what payment providers send
(Stripe metadata is a string, so a list of items often arrives as JSON text), ``format_amount``
writes yen without decimals (JPY is a zero-decimal currency: ``¥1,500``), and
``render_confirmation`` writes the customer's message in polite Japanese (keigo) or English,
naming every product it knows and listing honestly the ids it could not find.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

import regex

__all__ = [
    "MAX_LISTED_ITEMS",
    "ZERO_DECIMAL_CURRENCIES",
    "Language",
    "OrderLine",
    "format_amount",
    "parse_amount",
    "parse_items",
    "render_confirmation",
]

#: The languages a confirmation is written in.
Language = Literal["ja", "en"]

#: Currencies without minor units (Stripe's list, the ones a Japanese shop may meet).
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "PYG", "UGX", "XAF", "XOF"})
_SYMBOLS = {"JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "KRW": "₩"}
#: Lines a message lists by name; the rest are counted ("ほか3点"), keeping the event small.
MAX_LISTED_ITEMS = 20
#: Items read from one payment at most (a sane order; the event must stay under 256 KB).
_MAX_ITEMS = 200
_MAX_QUANTITY = 9999
#: Amounts at or above this are not a shop's (and would overflow the decimal context).
_MAX_AMOUNT = Decimal(10) ** 15
_ID_KEYS = ("productId", "product_id", "id", "sku", "seriesId")
_QUANTITY_KEYS = ("quantity", "qty", "count")
_PRODUCT_ID = regex.compile(r"(?i)mng-[a-z2-7]{8}")
_LIST_SEPARATORS = regex.compile(r"[,;\s、，]+")


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One product of an order and how many."""

    product_id: str
    quantity: int


def _product_id(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    # Catalog ids are upper case; a lower-cased one from a form is the same product.
    return text.upper() if _PRODUCT_ID.fullmatch(text) else (text or None)


def _quantity(value: object) -> int:
    if isinstance(value, bool):
        return 1
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return min(value, _MAX_QUANTITY) if isinstance(value, int) and value >= 1 else 1


def parse_items(raw: object) -> list[OrderLine]:
    """The order lines of a payment's ``items``: a list of ``{"productId"|"id", "quantity"}``
    objects or of product ids, or JSON text of either, or ids separated by commas. Repeated ids
    add up; entries naming no product are skipped."""
    for _ in range(2):  # JSON text, at most doubly encoded
        if not isinstance(raw, str):
            break
        text = raw.strip()
        try:
            raw = json.loads(text) if text else []
        except ValueError:
            raw = [part for part in _LIST_SEPARATORS.split(text) if part]
    if isinstance(raw, Mapping | str | int):
        raw = [raw]
    if not isinstance(raw, list):
        return []
    lines: dict[str, int] = {}
    for item in raw[:_MAX_ITEMS]:
        if isinstance(item, Mapping):
            key = next((k for k in _ID_KEYS if item.get(k) not in (None, "")), None)
            product_id = _product_id(item.get(key)) if key else None
            quantity = _quantity(next((item[k] for k in _QUANTITY_KEYS if k in item), 1))
        else:
            product_id, quantity = _product_id(item), 1
        if product_id is not None:
            lines[product_id] = min(lines.get(product_id, 0) + quantity, _MAX_QUANTITY)
    return [OrderLine(product_id, quantity) for product_id, quantity in lines.items()]


def parse_amount(raw: object) -> Decimal | None:
    """A payment amount in the currency's main unit (a number or numeric text), or None."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        amount = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and 0 <= amount < _MAX_AMOUNT else None


def format_amount(amount: Decimal, currency: str) -> str:
    """``¥1,500`` (zero-decimal currencies rounded to whole units), ``$12.50``, ``12.50 CHF``."""
    code = currency.upper()
    places = Decimal(1) if code in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    value = amount.quantize(places, rounding=ROUND_HALF_UP)
    number = f"{value:,}"
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{number}" if symbol else f"{number} {code}"


def _item_lines(
    lines: Sequence[OrderLine], titles: Mapping[str, str], language: Language
) -> list[str]:
    known = [line for line in lines if line.product_id in titles]
    listed = known[:MAX_LISTED_ITEMS]
    if language == "ja":
        rows = [f"・『{titles[line.product_id]}』 × {line.quantity}" for line in listed]
        more = len(known) - len(listed)
        return [*rows, f"・ほか{more}点"] if more else rows
    rows = [f"- {titles[line.product_id]} × {line.quantity}" for line in listed]
    more = len(known) - len(listed)
    return [*rows, f"- and {more} more"] if more else rows


def render_confirmation(
    order_id: str,
    amount_text: str | None,
    lines: Sequence[OrderLine],
    titles: Mapping[str, str],
    language: Language,
) -> str:
    """The confirmation a customer reads. ``titles`` maps the ids the catalog knows to the title
    in ``language``; the other ids are listed as not found, never guessed."""
    unknown = [line.product_id for line in lines if line.product_id not in titles]
    items = _item_lines(lines, titles, language)
    if language == "ja":
        text = ["ご注文ありがとうございます。", f"ご注文番号：{order_id}"]
        if amount_text is not None:
            text.append(f"お支払い金額：{amount_text}")
        if items:
            text += ["ご注文の商品：", *items]
        if unknown:
            text.append(
                "恐れ入りますが、次の商品番号の商品名を確認できませんでした："
                f"{'、'.join(unknown)}。ご不明な点がございましたら、お問い合わせください。"
            )
        text.append("またのご利用を心よりお待ちしております。")
        return "\n".join(text)
    text = ["Thank you for your order.", f"Order number: {order_id}"]
    if amount_text is not None:
        text.append(f"Amount paid: {amount_text}")
    if items:
        text += ["Items:", *items]
    if unknown:
        text.append(
            "We could not find the following product IDs in our catalog, so their titles are "
            f"not shown: {', '.join(unknown)}. If anything looks wrong, please contact us."
        )
    text.append("We look forward to serving you again.")
    return "\n".join(text)
