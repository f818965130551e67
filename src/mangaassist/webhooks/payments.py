"""Stripe events -> ``mangaassist.payments`` events on the bus.

``checkout.session.completed`` becomes ``PaymentCompleted`` (the AI order confirmation follows
from it) and ``charge.refunded`` becomes ``RefundProcessed``; every other Stripe event type is
acknowledged and ignored, so Stripe stops retrying it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mangaassist.events.envelope import Event
from mangaassist.events.publisher import EventPublisher
from mangaassist.webhooks.handlers import (
    Delivery,
    HandlerResult,
    UnusablePayloadError,
    event_id,
    optional_str,
    required_str,
)

__all__ = ["PAYMENTS_SOURCE", "ZERO_DECIMAL_CURRENCIES", "StripeHandler", "to_major_units"]

PAYMENTS_SOURCE = "mangaassist.payments"

#: Currencies whose Stripe amounts are already whole units (Stripe's list): ¥1500 is 1500.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA"}
    | {"PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
#: Currencies whose Stripe amounts are thousandths.
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def to_major_units(amount_minor: int, currency: str) -> int | float:
    """A Stripe amount (the currency's smallest unit) in the currency's own units.

    Stripe sends JPY, a zero-decimal currency, as whole yen: ``amount_total`` 1500 is ¥1500 and
    must not become 15.00 (the design documents' ``/ 100`` is right for USD cents only). Decimal
    arithmetic keeps 1999 USD cents exactly 19.99.
    """
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        return amount_minor
    exponent = 3 if code in THREE_DECIMAL_CURRENCIES else 2
    major = Decimal(amount_minor).scaleb(-exponent)
    return int(major) if major == major.to_integral_value() else float(major)


def _amount(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UnusablePayloadError(
            f"`data.object.{name}` must be a whole number of the currency's smallest unit",
            details=[{"field": f"data.object.{name}", "message": "a non-negative integer"}],
        )
    return value


def _currency(data: Mapping[str, Any]) -> str:
    currency = required_str(data, "currency", where="data.object").upper()
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise UnusablePayloadError(
            "`data.object.currency` must be a three-letter ISO 4217 code",
            details=[{"field": "data.object.currency", "message": "a three-letter code"}],
        )
    return currency


def _object_id(value: Any) -> str | None:
    """An id field that Stripe sends as a string, or as the object when it was expanded."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _items(metadata: Mapping[str, Any]) -> list[Any]:
    # Checkout metadata values are strings: the items travel as a JSON-encoded list.
    items = metadata.get("items")
    if isinstance(items, str):
        try:
            items = json.loads(items)
        except ValueError:
            return []
    return items if isinstance(items, list) else []


class StripeHandler:
    """Publishes payment events for the Stripe event types the shop acts on."""

    def __init__(self, events: EventPublisher) -> None:
        self._events = events

    async def handle(self, payload: Mapping[str, Any], delivery: Delivery) -> HandlerResult:
        event_type = required_str(payload, "type")
        data = payload.get("data")
        obj = data.get("object") if isinstance(data, Mapping) else None
        if event_type not in ("checkout.session.completed", "charge.refunded"):
            return HandlerResult("ignored", {"eventType": event_type})
        if not isinstance(obj, Mapping):
            raise UnusablePayloadError(
                "`data.object` is required (an object)",
                details=[{"field": "data.object", "message": "required: an object"}],
            )
        if event_type == "checkout.session.completed":
            event = self._payment_completed(obj, delivery)
        else:
            event = self._refund_processed(obj, delivery)
        await self._events.publish(event)
        return HandlerResult(
            "processed",
            {"eventType": event_type, "published": [event.detail_type], "eventIds": [event.id]},
        )

    def _payment_completed(self, session: Mapping[str, Any], delivery: Delivery) -> Event:
        metadata = session.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        order_id = optional_str(metadata, "order_id") or optional_str(
            session, "client_reference_id"
        )
        if order_id is None:
            raise UnusablePayloadError(
                "the checkout session names no order (`metadata.order_id` or "
                "`client_reference_id`)",
                details=[{"field": "data.object.metadata.order_id", "message": "required"}],
            )
        currency = _currency(session)
        amount = _amount(session, "amount_total")
        details = session.get("customer_details")
        email = optional_str(session, "customer_email") or (
            optional_str(details, "email") if isinstance(details, Mapping) else None
        )
        detail = {
            "orderId": order_id,
            "paymentId": _object_id(session.get("payment_intent"))
            or required_str(session, "id", where="data.object"),
            "customerEmail": email or "",
            "amount": to_major_units(amount, currency),
            "amountMinor": amount,
            "currency": currency,
            "items": _items(metadata),
            "action": "generate_confirmation",
            "stripeEventId": delivery.key,
        }
        return Event("PaymentCompleted", detail, source=PAYMENTS_SOURCE, id=event_id(delivery))

    def _refund_processed(self, charge: Mapping[str, Any], delivery: Delivery) -> Event:
        currency = _currency(charge)
        amount = _amount(charge, "amount_refunded")
        metadata = charge.get("metadata")
        detail: dict[str, Any] = {
            "chargeId": required_str(charge, "id", where="data.object"),
            "amount": to_major_units(amount, currency),
            "amountMinor": amount,
            "currency": currency,
            "stripeEventId": delivery.key,
        }
        order_id = optional_str(metadata, "order_id") if isinstance(metadata, Mapping) else None
        if order_id is not None:
            detail["orderId"] = order_id
        payment_id = _object_id(charge.get("payment_intent"))
        if payment_id is not None:
            detail["paymentId"] = payment_id
        return Event("RefundProcessed", detail, source=PAYMENTS_SOURCE, id=event_id(delivery))
