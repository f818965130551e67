"""The ``order_confirmation`` job: a paid order's confirmation message, published as an event.

The design documents' rule sends every ``PaymentCompleted`` (``mangaassist.payments``) to the
``manga-fm-normal`` queue as this job. It reads the order's items liberally
(``order_message.parse_items``), looks their titles up in the catalog, writes the message in the
customer's language (detail ``language``; Japanese by default, as the shop's customers mostly
are) and publishes ``OrderConfirmationGenerated`` from ``mangaassist.ai`` for whoever delivers
it (mail, push, the chat). A catalog outage or a bus outage retries the job; a payload that is
not a payment fails it at once. A retried job republishes the same event id (``event_payload``).
"""

from __future__ import annotations

from typing import Any

import structlog

from mangaassist.catalog.service import CatalogService
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.events.publisher import EventPublisher
from mangaassist.jobs.event_payload import event_of, publish_answer, required_text
from mangaassist.jobs.order_message import (
    Language,
    format_amount,
    parse_amount,
    parse_items,
    render_confirmation,
)
from mangaassist.queues.worker import Job, PermanentError, TransientError

__all__ = [
    "CONFIRMATION_EVENT",
    "ORDER_CONFIRMATION_JOB",
    "ORDER_CONFIRMATION_TIMEOUT_S",
    "OrderConfirmationJob",
    "confirmation_language",
]

log = structlog.get_logger("mangaassist.jobs")

#: Job kind of the PaymentCompleted rule's queue target.
ORDER_CONFIRMATION_JOB = "order_confirmation"
#: A catalog read and a publish; well inside the 120 s visibility of ``manga-fm-normal``.
ORDER_CONFIRMATION_TIMEOUT_S = 30.0
#: Detail-type of the event the job publishes.
CONFIRMATION_EVENT = "OrderConfirmationGenerated"
PAYMENTS_SOURCE = "mangaassist.payments"
PAYMENT_EVENT = "PaymentCompleted"


def confirmation_language(value: object) -> Language:
    """``en`` for any English tag (``en``, ``en-US``), else ``ja``, the shop's language."""
    if isinstance(value, str) and value.strip().lower().replace("_", "-").split("-")[0] == "en":
        return "en"
    return "ja"


def _title(record: SeriesRecord, language: Language) -> str:
    return record.title_ja if language == "ja" else record.title


class OrderConfirmationJob:
    """Runs ``order_confirmation`` jobs: payment in, ``OrderConfirmationGenerated`` out."""

    def __init__(self, catalog: CatalogService, bus: EventPublisher) -> None:
        self._catalog = catalog
        self._bus = bus

    async def __call__(self, job: Job) -> None:
        payment = event_of(job, PAYMENTS_SOURCE, PAYMENT_EVENT)
        detail = payment.detail
        order_id = required_text(payment, "orderId")
        currency = detail.get("currency", "JPY")
        if not isinstance(currency, str) or not currency.strip():
            raise PermanentError(f"{PAYMENT_EVENT} {payment.id}: detail.currency is not a code")
        raw_amount = detail.get("amount")
        amount = parse_amount(raw_amount)
        if raw_amount is not None and amount is None:
            raise PermanentError(f"{PAYMENT_EVENT} {payment.id}: detail.amount is not an amount")
        language = confirmation_language(detail.get("language"))
        lines = parse_items(detail.get("items"))
        try:
            records = await self._catalog.get_many([line.product_id for line in lines])
        except Exception as exc:  # the store is down or locked: the catalog comes back
            raise TransientError(f"{ORDER_CONFIRMATION_JOB}: catalog lookup failed: {exc}") from exc
        titles = {pid: _title(record, language) for pid, record in records.items()}
        amount_text = format_amount(amount, currency.strip()) if amount is not None else None
        message = render_confirmation(order_id, amount_text, lines, titles, language)
        unknown = [line.product_id for line in lines if line.product_id not in titles]
        answer: dict[str, Any] = {
            "orderId": order_id,
            "language": language,
            "message": message,
            "currency": currency.strip().upper(),
            "items": [
                {"productId": line.product_id, "title": titles.get(line.product_id),
                 "quantity": line.quantity}
                for line in lines
            ],
            "unknownProductIds": unknown,
            "paymentEventId": payment.id,
        }  # fmt: skip
        if amount is not None:
            answer["amount"] = (
                int(amount) if amount == amount.to_integral_value() else float(amount)
            )
        published = await publish_answer(
            self._bus, ORDER_CONFIRMATION_JOB, payment, CONFIRMATION_EVENT, answer
        )
        log.info(
            "order_confirmation_published", order_id=order_id, event_id=published.id,
            payment_event_id=payment.id, language=language, items=len(lines),
            unknown=len(unknown),
        )  # fmt: skip
